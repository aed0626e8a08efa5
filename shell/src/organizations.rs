//! What both steps ask Organizations: every ACTIVE account under an organizational unit, all
//! pages, child OUs included (the seed's scripts read only the first page and included suspended
//! accounts, defect B3; one implementation here fixes both binaries), and an OU's path for the
//! constant-size grant.

use std::collections::BTreeSet;

use aws_sdk_organizations::types::{AccountStatus, ParentType};
use aws_sdk_organizations::Client;

use crate::pages::all_pages;
use crate::AwsCallError;

/// The most both listing calls return per page (their `MaxResults` allows 1 to 20,
/// <https://docs.aws.amazon.com/organizations/latest/APIReference/API_ListAccountsForParent.html>),
/// so a walk makes as few calls as the API allows: per OU, one call per 20 accounts and one per 20
/// child OUs, at least one of each.
pub const PAGE_SIZE: i32 = 20;

/// OUs listed at once. Organizations throttles its API per account with a low request rate and
/// answers TooManyRequestsException above it
/// (<https://docs.aws.amazon.com/organizations/latest/userguide/orgs_reference_limits.html#throttling-limits>),
/// which the SDK retries with backoff; four OUs at once (each making its two listings one after
/// the other) keeps a walk to a few calls in flight while a tree three levels deep costs about
/// three round trips per level instead of two per OU.
pub const CONCURRENT_OUS: usize = 4;

/// The deepest OU nesting Organizations allows is five levels under the root; a parent chain
/// longer than this is an answer to refuse, not to follow.
const MAX_OU_DEPTH: usize = 8;

/// When a walk of `ou` failed because Organizations says the OU does not exist or its id is
/// malformed, the start of the message that says so: that is bad input, not an AWS failure.
/// Callers end it with what else their user may do.
pub fn unknown_ou(err: &AwsCallError, ou: &str) -> Option<String> {
    let code = err.code()?;
    matches!(
        code,
        "ParentNotFoundException"
            | "ChildNotFoundException"
            | "OrganizationalUnitNotFoundException"
            | "InvalidInputException"
    )
    .then(|| {
        format!(
            "the organizational unit \"{ou}\" cannot be listed ({code}: {}); check the OU id (it looks like ou-ab12-cdefgh34)",
            err.detail
        )
    })
}

/// What one OU holds directly.
struct OuContents {
    active_accounts: Vec<String>,
    child_ous: Vec<String>,
}

/// The ids of the ACTIVE accounts under `ou_id` and all its descendant OUs, sorted. Child OUs are
/// listed concurrently, at most [`CONCURRENT_OUS`] at once.
pub async fn active_accounts_under(
    client: &Client,
    ou_id: &str,
) -> Result<BTreeSet<String>, AwsCallError> {
    let mut accounts = BTreeSet::new();
    let mut pending = vec![ou_id.to_owned()];
    let mut listing = tokio::task::JoinSet::new();
    loop {
        while listing.len() < CONCURRENT_OUS {
            let Some(parent) = pending.pop() else { break };
            let client = client.clone();
            listing.spawn(async move { ou_contents(&client, &parent).await });
        }
        let Some(listed) = listing.join_next().await else {
            return Ok(accounts);
        };
        // A listing task only panics if the SDK does; pass that on rather than hide it.
        let contents = listed.unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))?;
        accounts.extend(contents.active_accounts);
        pending.extend(contents.child_ous);
    }
}

/// The ACTIVE accounts and the child OUs directly under `parent`, every page of each.
async fn ou_contents(client: &Client, parent: &str) -> Result<OuContents, AwsCallError> {
    let active_accounts = all_pages("organizations:ListAccountsForParent", |token| {
        let request = client
            .list_accounts_for_parent()
            .parent_id(parent)
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
    let child_ous = all_pages("organizations:ListOrganizationalUnitsForParent", |token| {
        let request = client
            .list_organizational_units_for_parent()
            .parent_id(parent)
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
    Ok(OuContents {
        active_accounts,
        child_ous,
    })
}

/// The organization's id (`o-…`), which starts every OU's path: one DescribeOrganization.
pub async fn organization_id(client: &Client) -> Result<String, AwsCallError> {
    let organization = client
        .describe_organization()
        .send()
        .await
        .map_err(|e| AwsCallError::new("organizations:DescribeOrganization", e))?;
    let org_id = organization
        .organization()
        .and_then(|o| o.id())
        .ok_or_else(|| {
            AwsCallError::incomplete("organizations:DescribeOrganization", "the organization id")
        })?;
    Ok(org_id.to_owned())
}

/// The Organizations path of `ou_id` as `aws:PrincipalOrgPaths` spells it,
/// `o-ORG/r-ROOT/ou-A/…/OU/`: one ListParents per level, however many accounts the OU holds.
pub async fn ou_path(client: &Client, org_id: &str, ou_id: &str) -> Result<String, AwsCallError> {
    let mut path = vec![ou_id.to_owned()];
    for _ in 0..MAX_OU_DEPTH {
        let child = path.last().cloned().unwrap_or_default();
        let parents = client
            .list_parents()
            .child_id(&child)
            .send()
            .await
            .map_err(|e| AwsCallError::new("organizations:ListParents", e))?;
        let parent = parents
            .parents()
            .first()
            .and_then(|p| Some((p.id()?, p.r#type()?)))
            .ok_or_else(|| AwsCallError::incomplete("organizations:ListParents", "a parent"))?;
        path.push(parent.0.to_owned());
        if *parent.1 == ParentType::Root {
            path.push(org_id.to_owned());
            path.reverse();
            return Ok(format!("{}/", path.join("/")));
        }
    }
    Err(AwsCallError::incomplete(
        "organizations:ListParents",
        "a root within eight levels",
    ))
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

    #[tokio::test]
    async fn an_ou_path_runs_from_the_organization_to_the_ou_and_a_rootless_chain_stops() {
        use aws_sdk_organizations::operation::describe_organization::DescribeOrganizationOutput;
        use aws_sdk_organizations::operation::list_parents::ListParentsOutput;
        use aws_sdk_organizations::types::{Organization, Parent};

        let organization = mock!(Client::describe_organization).then_output(|| {
            DescribeOrganizationOutput::builder()
                .organization(Organization::builder().id("o-abc").build())
                .build()
        });
        let parent = |id: &str, kind: ParentType| {
            ListParentsOutput::builder()
                .parents(Parent::builder().id(id).r#type(kind).build())
                .build()
        };
        let child_to_ou = mock!(Client::list_parents)
            .match_requests(|r| r.child_id() == Some("ou-child"))
            .then_output(move || parent("ou-top", ParentType::OrganizationalUnit));
        let ou_to_root = mock!(Client::list_parents)
            .match_requests(|r| r.child_id() == Some("ou-top"))
            .then_output(move || parent("r-root", ParentType::Root));
        let looping = mock!(Client::list_parents)
            .match_requests(|r| r.child_id() == Some("ou-loop"))
            .then_output(move || parent("ou-loop", ParentType::OrganizationalUnit));
        let client = mock_client!(
            aws_sdk_organizations,
            RuleMode::MatchAny,
            [&organization, &child_to_ou, &ou_to_root, &looping]
        );

        let org = organization_id(&client).await.unwrap();
        let mut paths = Vec::new();
        for ou in ["ou-child", "ou-top"] {
            paths.push(ou_path(&client, &org, ou).await.unwrap());
        }
        assert_eq!(
            paths,
            ["o-abc/r-root/ou-top/ou-child/", "o-abc/r-root/ou-top/"]
        );
        assert_eq!(organization.num_calls(), 1);

        let err = ou_path(&client, &org, "ou-loop").await.unwrap_err();
        assert_eq!(err.code(), Some("IncompleteAnswer"));
        assert_eq!(looping.num_calls(), MAX_OU_DEPTH);
    }
}
