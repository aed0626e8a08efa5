//! The accounts files, AWS side: each stage's ACTIVE accounts, from the OU walk both steps share
//! (child OUs included, suspended accounts left out, sorted, without duplicates) or from the ids
//! listed instead. The file's format is `deploy_core::accounts_file`; it is written with the other
//! outputs, as one set.

use std::collections::BTreeSet;

use deploy_shell::organizations::{active_accounts_under, unknown_ou};

use crate::config::{AccountsExport, StageAccounts};
use crate::error::BuildError;

/// The accounts of `export`'s stage. An OU that does not exist, or holds no ACTIVE account, is
/// bad input naming the OU.
pub(crate) async fn resolve(
    organizations: &aws_sdk_organizations::Client,
    export: &AccountsExport,
) -> Result<BTreeSet<String>, BuildError> {
    let (ou, input) = match &export.source {
        StageAccounts::Listed { accounts, .. } => return Ok(accounts.clone()),
        StageAccounts::UnderOu { ou, input } => (ou, *input),
    };
    let listed = export.listed_input;
    let accounts =
        active_accounts_under(organizations, ou)
            .await
            .map_err(|err| match unknown_ou(&err, ou) {
                Some(reason) => BuildError::BadSetting {
                    input,
                    message: format!("{reason}, or list the accounts with {listed}"),
                },
                None => err.into(),
            })?;
    if accounts.is_empty() {
        return Err(BuildError::EmptyOu {
            export: export.input,
            ou: ou.clone(),
            input,
            listed,
        });
    }
    Ok(accounts)
}
