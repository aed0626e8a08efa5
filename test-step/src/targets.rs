//! What to test: every ACTIVE account under the staging OU (all pages, child OUs included, through
//! the walk `build-step` uses too, so both steps agree on the OU's accounts, B3) or an explicit
//! account list, times each region. Zero targets is an error, never a pass: an empty or mistyped
//! OU must not wave a model through to production.

use std::collections::BTreeSet;

use deploy_common::env_vars as env;
use deploy_common::organizations::active_accounts_under;

use crate::error::TestError;
use crate::target::Target;

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accounts {
    UnderOu(String),
    Listed(Vec<String>),
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

/// The accounts to test, sorted and without duplicates.
pub async fn resolve(
    accounts: &Accounts,
    organizations: impl FnOnce() -> aws_sdk_organizations::Client,
) -> Result<BTreeSet<String>, TestError> {
    match accounts {
        Accounts::Listed(ids) => Ok(ids.iter().cloned().collect()),
        Accounts::UnderOu(ou) => {
            let found = match active_accounts_under(&organizations(), ou).await {
                Ok(found) => found,
                Err(err) if matches!(err.code(), Some("ParentNotFoundException" | "InvalidInputException")) => {
                    return Err(TestError::BadSetting {
                        input: format!("{} (--organizational-unit-id)", env::ORGANIZATIONAL_UNIT_ID),
                        message: format!(
                            "the organizational unit \"{ou}\" cannot be listed ({}: {}); check the OU id (it looks like ou-ab12-cdefgh34) in the Organizations console",
                            err.code().unwrap_or_default(),
                            err.detail
                        ),
                    })
                }
                Err(err) => return Err(err.into()),
            };
            if found.is_empty() {
                return Err(TestError::NoTargets(format!(
                    "no targets: the organizational unit {ou} ({} / --organizational-unit-id) has no ACTIVE accounts, child OUs included; zero targets is not a pass. Check the OU id, or name the accounts with --account-id",
                    env::ORGANIZATIONAL_UNIT_ID
                )));
            }
            Ok(found)
        }
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
