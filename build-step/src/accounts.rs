//! The accounts files, AWS side: each stage's ACTIVE accounts, from the OU walk both steps share
//! (child OUs included, suspended accounts left out, sorted, without duplicates) or from the ids
//! listed instead. The file's format is `deploy_core::accounts_file`; it is written with the other
//! outputs, as one set.

use std::collections::BTreeSet;

use deploy_shell::organizations::active_accounts_under;

use crate::config::{AccountsExport, StageAccounts};
use crate::error::BuildError;

/// The accounts of `export`'s stage. An OU that does not exist, or holds no ACTIVE account, is
/// bad input naming the OU.
pub async fn resolve(
    organizations: &aws_sdk_organizations::Client,
    export: &AccountsExport,
) -> Result<BTreeSet<String>, BuildError> {
    let (ou, input) = match &export.source {
        StageAccounts::Listed { accounts, .. } => return Ok(accounts.clone()),
        StageAccounts::UnderOu { ou, input } => (ou, *input),
    };
    let listed = export.listed_input;
    let accounts = match active_accounts_under(organizations, ou).await {
        Ok(accounts) => accounts,
        Err(err)
            if matches!(
                err.code(),
                Some("ParentNotFoundException" | "InvalidInputException")
            ) =>
        {
            return Err(BuildError::BadSetting {
                input,
                message: format!(
                    "the organizational unit \"{ou}\" cannot be listed ({}: {}); check the OU id (it looks like ou-ab12-cdefgh34), or list the accounts with {listed}",
                    err.code().unwrap_or_default(),
                    err.detail
                ),
            })
        }
        Err(err) => return Err(err.into()),
    };
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
