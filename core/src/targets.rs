//! What test-step tests, from given accounts and regions: every account times every region, in
//! account then region order, with account ids and region names checked before any AWS call.
//! Where the accounts come from (an OU walk or a list) is test-step's business; this is the rule
//! once they are known.

use std::collections::BTreeSet;

/// An account and a region to test.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Target {
    pub account_id: String,
    pub region: String,
}

/// A 12-digit AWS account id.
pub fn check_account_id(id: &str) -> Result<(), String> {
    if id.len() == 12 && id.bytes().all(|b| b.is_ascii_digit()) {
        Ok(())
    } else {
        Err(format!(
            "\"{id}\" is not an AWS account id (12 digits, for example 123456789012)"
        ))
    }
}

/// An organizational unit id (`ou-` and two groups of lowercase letters and digits, as
/// Organizations' API defines `OrganizationalUnitId`:
/// <https://docs.aws.amazon.com/organizations/latest/APIReference/API_OrganizationalUnit.html>).
/// A root id or an account id in an OU setting would widen a grant to the whole organization or
/// give one that matches nobody, so each gets its own explanation.
pub fn check_ou_id(id: &str) -> Result<(), String> {
    let group = |part: &str, min: usize| {
        (min..=32).contains(&part.len())
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    };
    let parts: Vec<&str> = id.split('-').collect();
    if let ["ou", root, ou] = parts.as_slice() {
        if group(root, 4) && group(ou, 8) {
            return Ok(());
        }
    }
    let what = if id.starts_with("r-") {
        "is the organization's root, not an OU: granting or deploying to it would reach every account of the organization"
    } else if check_account_id(id).is_ok() {
        "is an account id, not an OU: a grant to it as an OU matches nobody"
    } else {
        "is not an organizational unit id"
    };
    Err(format!(
        "\"{id}\" {what}; give the OU's id (ou- followed by two groups of letters and digits, for example ou-ab12-cdefgh34)"
    ))
}

/// A region name such as `us-east-1` or `cn-north-1`.
pub fn check_region(region: &str) -> Result<(), String> {
    let shaped = region.split('-').all(|part| {
        !part.is_empty()
            && part
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
    }) && region.contains('-')
        && region.starts_with(|c: char| c.is_ascii_lowercase())
        && region.ends_with(|c: char| c.is_ascii_digit());
    if shaped {
        Ok(())
    } else {
        Err(format!(
            "\"{region}\" is not a region name (for example us-east-1 or eu-west-1)"
        ))
    }
}

/// Every account times every region, in account then region order.
pub fn cross(accounts: &BTreeSet<String>, regions: &[String]) -> Vec<Target> {
    accounts
        .iter()
        .flat_map(|account| {
            regions.iter().map(move |region| Target {
                account_id: account.clone(),
                region: region.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn account_ids_are_twelve_digits() {
        assert!(check_account_id("012345678901").is_ok());
        for bad in ["12345678901", "1234567890123", "12345678901a", ""] {
            assert!(check_account_id(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn ou_ids_are_ou_ids_and_roots_and_accounts_are_named() {
        assert!(check_ou_id("ou-ab12-cdefgh34").is_ok());
        assert!(check_ou_id("ou-abcd1234567890123456789012345678-a1b2c3d4e5").is_ok());
        let root = check_ou_id("r-ab12").unwrap_err();
        assert!(root.contains("root"), "{root}");
        let account = check_ou_id("123456789012").unwrap_err();
        assert!(account.contains("account id"), "{account}");
        for bad in [
            "ou-AB12-cdefgh34",
            "ou-ab1-cdefgh34",
            "ou-ab12-cdefg",
            "ou-ab12",
            "",
            "o-ab12cd34ef",
        ] {
            assert!(check_ou_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_are_shaped_like_regions() {
        for good in [
            "us-east-1",
            "eu-central-2",
            "us-gov-west-1",
            "cn-north-1",
            "eu-isoe-west-1",
        ] {
            assert!(check_region(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "us-east",
            "US-EAST-1",
            "us east 1",
            "useast1",
            "-us-east-1",
            "us--east-1",
        ] {
            assert!(check_region(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn targets_are_every_account_in_every_region() {
        let accounts: BTreeSet<String> = ["2".to_owned(), "1".to_owned()].into();
        let regions = ["us-east-1".to_owned(), "eu-west-1".to_owned()];
        let targets: Vec<(String, String)> = cross(&accounts, &regions)
            .into_iter()
            .map(|t| (t.account_id, t.region))
            .collect();
        assert_eq!(
            targets,
            [
                ("1".into(), "us-east-1".into()),
                ("1".into(), "eu-west-1".into()),
                ("2".into(), "us-east-1".into()),
                ("2".into(), "eu-west-1".into()),
            ]
        );
    }
}
