//! Choosing what to test, in one place: the accounts (every ACTIVE account under the staging OU,
//! through the walk `build-step` uses too, so both steps agree on the OU's accounts, B3; or the
//! accounts file `build-step` wrote, `--accounts-file`, so the accounts tested are exactly those
//! deployed to; or an explicit `--account-id` list) times the regions (`--regions`, or the
//! current one). A list or a file wins over the OU (the test CodeBuild project always sets the
//! OU); a list and a file together are two answers to one question, so that is bad input. Zero targets is an error, never a pass: an empty or mistyped OU must not wave a model
//! through to production. The rule for crossing accounts and regions is `deploy_core::targets`.

use std::collections::BTreeSet;
use std::path::PathBuf;

use deploy_core::targets::{check_account_id, check_ou_id, check_region};
use deploy_core::{accounts_file, inputs};
use deploy_shell::cli::non_empty;
use deploy_shell::organizations::{active_accounts_under, unknown_ou};

use crate::error::TestError;

/// Where the accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum AccountSource {
    UnderOu(String),
    Listed(BTreeSet<String>),
    FromFile {
        path: PathBuf,
        accounts: BTreeSet<String>,
    },
}

impl AccountSource {
    /// The `--account-id` list or the accounts file when one is given (checked, and not both),
    /// else the OU.
    pub(crate) fn from_args(
        account_ids: &[String],
        ou: &Option<String>,
        accounts_file: &Option<String>,
    ) -> Result<Self, TestError> {
        let listed: Vec<&str> = account_ids
            .iter()
            .map(|a| a.trim())
            .filter(|a| !a.is_empty())
            .collect();
        if let Some(file) = non_empty(accounts_file) {
            if !listed.is_empty() {
                return Err(TestError::BadSetting {
                    input: inputs::ACCOUNTS_FILE,
                    message: format!(
                        "{file} and {} both say which accounts to test; give one of them",
                        inputs::ACCOUNT_IDS
                    ),
                });
            }
            let path = PathBuf::from(file);
            let accounts = accounts_file::read(&path, inputs::ACCOUNTS_FILE)?;
            if non_empty(ou).is_some() {
                tracing::info!(
                    "{} given: testing the accounts in {file}, not the OU's",
                    inputs::ACCOUNTS_FILE
                );
            }
            return Ok(Self::FromFile { path, accounts });
        }
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
            Some(ou) => {
                check_ou_id(ou).map_err(|message| TestError::BadSetting {
                    input: inputs::OU,
                    message,
                })?;
                Ok(Self::UnderOu(ou.to_owned()))
            }
            None => Err(TestError::NoAccounts),
        }
    }

    /// The OU, when the accounts come from one (the report names it).
    pub(crate) fn organizational_unit(&self) -> Option<&str> {
        match self {
            Self::UnderOu(ou) => Some(ou),
            Self::Listed(_) | Self::FromFile { .. } => None,
        }
    }

    /// Where the accounts come from, as the report's `targets_from` says it.
    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Self::UnderOu(_) => "organizational_unit",
            Self::Listed(_) => "account_ids",
            Self::FromFile { .. } => "accounts_file",
        }
    }

    /// The accounts file, when the accounts come from one.
    pub(crate) fn file(&self) -> Option<&std::path::Path> {
        match self {
            Self::FromFile { path, .. } => Some(path),
            _ => None,
        }
    }

    /// The accounts to test, sorted and without duplicates; walks the OU when that is the source.
    pub(crate) async fn resolve(
        &self,
        organizations: impl FnOnce() -> aws_sdk_organizations::Client,
    ) -> Result<BTreeSet<String>, TestError> {
        let ou = match self {
            Self::Listed(ids) | Self::FromFile { accounts: ids, .. } => return Ok(ids.clone()),
            Self::UnderOu(ou) => ou,
        };
        let found = active_accounts_under(&organizations(), ou)
            .await
            .map_err(|err| match unknown_ou(&err, ou) {
                Some(reason) => TestError::BadSetting {
                    input: inputs::OU,
                    message: format!("{reason} in the Organizations console"),
                },
                None => err.into(),
            })?;
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
pub(crate) fn regions_from_args(regions: &[String]) -> Result<Vec<String>, TestError> {
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
            &None,
        );
        assert_eq!(
            listed.unwrap(),
            AccountSource::Listed(["111111111111".to_owned(), "222222222222".to_owned()].into())
        );
        let bad = AccountSource::from_args(&["12345".into()], &None, &None).unwrap_err();
        assert!(
            bad.to_string()
                .starts_with("--account-id: \"12345\" is not an AWS account id"),
            "{bad}"
        );
        assert_eq!(
            AccountSource::from_args(&[], &Some(" ou-abcd-12345678 ".into()), &None).unwrap(),
            AccountSource::UnderOu("ou-abcd-12345678".into())
        );
        assert!(matches!(
            AccountSource::from_args(&[" ".into()], &Some(String::new()), &Some(String::new())),
            Err(TestError::NoAccounts)
        ));
    }

    #[test]
    fn an_accounts_file_wins_over_the_ou_but_not_alongside_a_list() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("staging-accounts.json");
        std::fs::write(&file, r#"["222222222222", "111111111111"]"#).unwrap();
        let name = Some(file.display().to_string());

        let source =
            AccountSource::from_args(&[], &Some("ou-abcd-12345678".into()), &name).unwrap();
        assert_eq!(source.kind(), "accounts_file");
        assert_eq!(source.organizational_unit(), None);
        assert_eq!(source.file(), Some(file.as_path()));

        let both = AccountSource::from_args(&["111111111111".into()], &None, &name).unwrap_err();
        assert!(
            both.to_string()
                .ends_with("both say which accounts to test; give one of them"),
            "{both}"
        );
        std::fs::write(&file, "[]").unwrap();
        let empty = AccountSource::from_args(&[], &None, &name).unwrap_err();
        assert!(empty.to_string().contains("lists no account"), "{empty}");
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
