//! Choosing what to test, in one place: the accounts (every ACTIVE account under the staging OU,
//! through the walk `build-step` uses too, so both steps agree on the OU's accounts, B3; or an
//! explicit `--account-id` list, which wins) times the regions (`--regions`, or the current
//! one). Zero targets is an error, never a pass: an empty or mistyped OU must not wave a model
//! through to production. The rule for crossing accounts and regions is `deploy_core::targets`.

use std::collections::BTreeSet;

use deploy_core::inputs;
use deploy_core::targets::{check_account_id, check_region};
use deploy_shell::cli::non_empty;
use deploy_shell::organizations::active_accounts_under;

use crate::error::TestError;

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountSource {
    UnderOu(String),
    Listed(BTreeSet<String>),
}

impl AccountSource {
    /// The `--account-id` list when one is given (checked), else the OU.
    pub fn from_args(account_ids: &[String], ou: &Option<String>) -> Result<Self, TestError> {
        let listed: Vec<&str> = account_ids
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        if !listed.is_empty() {
            for id in &listed {
                check_account_id(id).map_err(|message| TestError::BadSetting {
                    input: inputs::ACCOUNT_IDS,
                    message,
                })?;
            }
            if non_empty(ou).is_some() {
                tracing::info!(
                    "{} given: testing the listed accounts, not the OU's",
                    inputs::ACCOUNT_IDS
                );
            }
            return Ok(Self::Listed(
                listed.into_iter().map(str::to_owned).collect(),
            ));
        }
        match non_empty(ou) {
            Some(ou) => Ok(Self::UnderOu(ou.to_owned())),
            None => Err(TestError::NoAccounts),
        }
    }

    /// The OU, when the accounts come from one (the report names it).
    pub fn organizational_unit(&self) -> Option<&str> {
        match self {
            Self::UnderOu(ou) => Some(ou),
            Self::Listed(_) => None,
        }
    }

    /// The accounts to test, sorted and without duplicates; walks the OU when that is the source.
    pub async fn resolve(
        &self,
        organizations: impl FnOnce() -> aws_sdk_organizations::Client,
    ) -> Result<BTreeSet<String>, TestError> {
        let ou = match self {
            Self::Listed(ids) => return Ok(ids.clone()),
            Self::UnderOu(ou) => ou,
        };
        let found = match active_accounts_under(&organizations(), ou).await {
            Ok(found) => found,
            Err(err)
                if matches!(
                    err.code(),
                    Some("ParentNotFoundException" | "InvalidInputException")
                ) =>
            {
                return Err(TestError::BadSetting {
                    input: inputs::OU,
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
                "no targets: the organizational unit {ou}, from {}, has no ACTIVE accounts, child OUs included; zero targets is not a pass. Check the OU id, or name the accounts with {}",
                inputs::OU,
                inputs::ACCOUNT_IDS
            )));
        }
        Ok(found)
    }
}

/// The `--regions` asked for, checked and without repeats, in the order given; empty means the
/// current region.
pub fn regions_from_args(regions: &[String]) -> Result<Vec<String>, TestError> {
    let mut checked: Vec<String> = Vec::new();
    for region in regions.iter().map(|r| r.trim()).filter(|r| !r.is_empty()) {
        check_region(region).map_err(|message| TestError::BadSetting {
            input: inputs::REGIONS,
            message,
        })?;
        if !checked.iter().any(|r| r == region) {
            checked.push(region.to_owned());
        }
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_listed_account_wins_over_the_ou_and_is_checked() {
        let listed = AccountSource::from_args(
            &[
                " 222222222222".into(),
                "111111111111".into(),
                "222222222222".into(),
            ],
            &Some("ou-abcd-12345678".into()),
        );
        assert_eq!(
            listed.unwrap(),
            AccountSource::Listed(["111111111111".to_owned(), "222222222222".to_owned()].into())
        );
        let bad = AccountSource::from_args(&["12345".into()], &None).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("--account-id: \"12345\" is not an AWS account id"),
            "{bad}"
        );
        assert_eq!(
            AccountSource::from_args(&[], &Some(" ou-abcd-12345678 ".into())).unwrap(),
            AccountSource::UnderOu("ou-abcd-12345678".into())
        );
        assert!(matches!(
            AccountSource::from_args(&[" ".into()], &Some(String::new())),
            Err(TestError::NoAccounts)
        ));
    }

    #[test]
    fn regions_keep_their_order_without_repeats() {
        let regions =
            regions_from_args(&["eu-west-1".into(), " us-east-1".into(), "eu-west-1".into()]);
        assert_eq!(regions.unwrap(), ["eu-west-1", "us-east-1"]);
        let bad = regions_from_args(&["US-EAST-1".into()]).unwrap_err();
        assert!(
            bad.to_string().starts_with("--regions: \"US-EAST-1\""),
            "{bad}"
        );
    }
}
