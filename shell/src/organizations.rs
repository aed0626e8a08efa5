//! The OU walk both steps need: every ACTIVE account under an organizational unit, all pages,
//! child OUs included. The seed's scripts read only the first page and included suspended
//! accounts (defect B3); one implementation here fixes both binaries.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::AccountStatus;
use aws_sdk_organizations::Client;

use crate::AwsCallError;

/// The ids of the ACTIVE accounts under `ou_id` and all its descendant OUs, sorted.
pub async fn active_accounts_under(
    client: &Client,
    ou_id: &str,
) -> Result<BTreeSet<String>, AwsCallError> {
    let mut accounts = BTreeSet::new();
    let mut pending = vec![ou_id.to_owned()];
    while let Some(parent) = pending.pop() {
        let mut pages = client
            .list_accounts_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| AwsCallError::new("organizations:ListAccountsForParent", e))?;
            accounts.extend(
                page.accounts()
                    .iter()
                    .filter(|a| a.status() == Some(&AccountStatus::Active))
                    .filter_map(|a| a.id().map(str::to_owned)),
            );
        }
        let mut pages = client
            .list_organizational_units_for_parent()
            .parent_id(&parent)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| {
                AwsCallError::new("organizations:ListOrganizationalUnitsForParent", e)
            })?;
            pending.extend(
                page.organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_owned)),
            );
        }
    }
    Ok(accounts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
    use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
    use aws_sdk_organizations::types::{Account, OrganizationalUnit};
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    fn account(id: &str, status: AccountStatus) -> Account {
        Account::builder().id(id).status(status).build()
    }

    /// Pins B3: a second page and a child OU are followed, suspended accounts are dropped.
    #[tokio::test]
    async fn b3_follows_every_page_and_child_ou_and_drops_suspended_accounts() {
        let root_page_1 = mock!(Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root") && r.next_token().is_none())
            .then_output(|| {
                ListAccountsForParentOutput::builder()
                    .accounts(account("111111111111", AccountStatus::Active))
                    .accounts(account("222222222222", AccountStatus::Suspended))
                    .next_token("page-2")
                    .build()
            });
        let root_page_2 = mock!(Client::list_accounts_for_parent)
            .match_requests(|r| {
                r.parent_id() == Some("ou-root") && r.next_token() == Some("page-2")
            })
            .then_output(|| {
                ListAccountsForParentOutput::builder()
                    .accounts(account("333333333333", AccountStatus::Active))
                    .build()
            });
        let child_accounts = mock!(Client::list_accounts_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-child"))
            .then_output(|| {
                ListAccountsForParentOutput::builder()
                    .accounts(account("444444444444", AccountStatus::Active))
                    .build()
            });
        let root_children = mock!(Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-root"))
            .then_output(|| {
                ListOrganizationalUnitsForParentOutput::builder()
                    .organizational_units(OrganizationalUnit::builder().id("ou-child").build())
                    .build()
            });
        let leaf_children = mock!(Client::list_organizational_units_for_parent)
            .match_requests(|r| r.parent_id() == Some("ou-child"))
            .then_output(|| ListOrganizationalUnitsForParentOutput::builder().build());
        let client = mock_client!(
            aws_sdk_organizations,
            RuleMode::MatchAny,
            [
                &root_page_1,
                &root_page_2,
                &child_accounts,
                &root_children,
                &leaf_children
            ]
        );

        let accounts = active_accounts_under(&client, "ou-root").await.unwrap();
        assert_eq!(
            accounts.into_iter().collect::<Vec<_>>(),
            ["111111111111", "333333333333", "444444444444"]
        );
        assert_eq!(root_page_2.num_calls(), 1);
    }
}
