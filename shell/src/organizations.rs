//! The OU walk both steps need: every ACTIVE account under an organizational unit, all pages,
//! child OUs included. The seed's scripts read only the first page and included suspended
//! accounts (defect B3); one implementation here fixes both binaries.

use std::collections::{BTreeSet, HashSet};
use std::future::Future;

use aws_sdk_organizations::types::AccountStatus;
use aws_sdk_organizations::Client;

use crate::AwsCallError;

/// The most both listing calls return per page (their `MaxResults` allows 1 to 20), so a walk
/// makes as few calls as the API allows.
pub const PAGE_SIZE: i32 = 20;

/// The ids of the ACTIVE accounts under `ou_id` and all its descendant OUs, sorted.
pub async fn active_accounts_under(
    client: &Client,
    ou_id: &str,
) -> Result<BTreeSet<String>, AwsCallError> {
    let mut accounts = BTreeSet::new();
    let mut pending = vec![ou_id.to_owned()];
    while let Some(parent) = pending.pop() {
        let found = all_pages("organizations:ListAccountsForParent", |token| {
            let request = client
                .list_accounts_for_parent()
                .parent_id(&parent)
                .max_results(PAGE_SIZE)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("organizations:ListAccountsForParent", e))?;
                let active = page
                    .accounts()
                    .iter()
                    .filter(|a| a.status() == Some(&AccountStatus::Active))
                    .filter_map(|a| a.id().map(str::to_owned))
                    .collect();
                Ok((active, page.next_token().map(str::to_owned)))
            }
        })
        .await?;
        accounts.extend(found);
        let children = all_pages("organizations:ListOrganizationalUnitsForParent", |token| {
            let request = client
                .list_organizational_units_for_parent()
                .parent_id(&parent)
                .max_results(PAGE_SIZE)
                .set_next_token(token);
            async move {
                let page = request.send().await.map_err(|e| {
                    AwsCallError::new("organizations:ListOrganizationalUnitsForParent", e)
                })?;
                let ids = page
                    .organizational_units()
                    .iter()
                    .filter_map(|ou| ou.id().map(str::to_owned))
                    .collect();
                Ok((ids, page.next_token().map(str::to_owned)))
            }
        })
        .await?;
        pending.extend(children);
    }
    Ok(accounts)
}

/// Every item of every page `fetch` returns for a token (none for the first page), until a page
/// has no token; a token that comes back is an error, not an endless loop.
async fn all_pages<T, F, Fut>(action: &'static str, mut fetch: F) -> Result<Vec<T>, AwsCallError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: Future<Output = Result<(Vec<T>, Option<String>), AwsCallError>>,
{
    let mut items = Vec::new();
    let mut seen = HashSet::new();
    let mut token = None;
    loop {
        let (page, next) = fetch(token).await?;
        items.extend(page);
        match next.filter(|t| !t.is_empty()) {
            Some(next) if !seen.insert(next.clone()) => {
                return Err(AwsCallError::repeated_token(action))
            }
            Some(next) => token = Some(next),
            None => return Ok(items),
        }
    }
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

    #[tokio::test]
    async fn every_page_is_asked_at_the_largest_size_and_a_repeated_token_stops_the_walk() {
        let looping = mock!(Client::list_accounts_for_parent)
            .match_requests(|r| r.max_results() == Some(PAGE_SIZE))
            .then_output(|| {
                ListAccountsForParentOutput::builder()
                    .accounts(account("111111111111", AccountStatus::Active))
                    .next_token("same")
                    .build()
            });
        let client = mock_client!(aws_sdk_organizations, RuleMode::MatchAny, [&looping]);

        let err = active_accounts_under(&client, "ou-root").await.unwrap_err();

        assert_eq!(err.code(), Some("RepeatedNextToken"));
        assert!(
            err.to_string().starts_with(
                "AWS call organizations:ListAccountsForParent failed with RepeatedNextToken"
            ),
            "{err}"
        );
        assert_eq!(
            looping.num_calls(),
            2,
            "the first page, then the token again"
        );
    }
}
