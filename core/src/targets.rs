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
