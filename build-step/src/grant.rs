//! The cross-account grant, AWS side: the OUs' Organizations paths (or, with `--grant-principals
//! accounts`, the OU walk for their accounts), then the group's resource policy read, merged,
//! checked against the size SageMaker takes, and written back. The statements and the merge are pure rules
//! (`deploy_core::access_policy`). SageMaker has no conditional write for the policy, so a
//! statement another writer adds between our read and our write would be lost: after writing,
//! the policy is read back, and if it differs, ours are merged into what is there and written
//! again. Two writers that both do this converge with both their statements.

use std::collections::BTreeSet;

use aws_sdk_sagemaker::Client;
use deploy_core::access_policy::{self, AccessError, Grantees};
use deploy_core::arn::group_name;
use deploy_core::build_summary::AccessSummary;
use deploy_core::inputs;
use deploy_shell::organizations::{active_accounts_under, organization_id, ou_path, unknown_ou};
use deploy_shell::AwsCallError;
use serde_json::Value;

use crate::cli::GrantPrincipals;
use crate::config::GrantOus;
use crate::error::BuildError;
use crate::registry;

/// Lets every ACTIVE account of the OUs use the group's packages. With `dry_run` only the project's
/// statements are computed and shown; nothing is read from or written to the policy.
pub(crate) async fn grant_access(
    sagemaker: &Client,
    organizations: &aws_sdk_organizations::Client,
    group: &str,
    project: &str,
    ous: &GrantOus,
    dry_run: bool,
) -> Result<AccessSummary, BuildError> {
    let grantees = grantees(organizations, ous).await?;
    // The policy calls take a group's name only, in this account: a group given by ARN must be
    // this account's (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_PutModelPackageGroupPolicy.html).
    let name = group_name(group);
    let owned = registry::group_arn(sagemaker, name).await;
    let group_arn = match owned {
        Ok(arn) if name == group || arn.eq_ignore_ascii_case(group) => arn,
        Ok(_) | Err(BuildError::GroupMissing { .. }) if name != group => {
            return Err(AccessError(format!(
                "the group {group} is not in this account and region, so only its owner can grant access to it; unset {} here",
                inputs::GRANT_CROSS_ACCOUNT_ACCESS
            ))
            .into())
        }
        other => other?,
    };
    let statements = access_policy::project_statements(&group_arn, project, &grantees)?;
    let (policy, policy_chars) = if dry_run {
        let policy = access_policy::merge_policy(None, statements)?;
        let chars = fits(&policy, &grantees)?;
        (policy, chars)
    } else {
        write_until_settled(sagemaker, name, &statements, &grantees).await?
    };
    let (accounts, org_paths) = match grantees {
        Grantees::Accounts(accounts) => (accounts.into_iter().collect(), Vec::new()),
        Grantees::OrgPaths(paths) => (Vec::new(), paths),
    };
    Ok(AccessSummary {
        accounts,
        org_paths,
        policy,
        policy_chars,
        applied: !dry_run,
    })
}

/// Whom the grant names: the two OUs' paths, or every ACTIVE account under them.
async fn grantees(
    organizations: &aws_sdk_organizations::Client,
    ous: &GrantOus,
) -> Result<Grantees, BuildError> {
    let stages = [
        (&ous.staging, inputs::STAGING_OU),
        (&ous.prod, inputs::PROD_OU),
    ];
    // An OU Organizations does not know is the setting's fault, not AWS's.
    let named = |ou: String, input| {
        move |err: AwsCallError| match unknown_ou(&err, &ou) {
            Some(reason) => BuildError::BadSetting {
                input,
                message: reason,
            },
            None => err.into(),
        }
    };
    if ous.principals == GrantPrincipals::OrgPaths {
        let org_id = organization_id(organizations).await?;
        let mut paths = Vec::with_capacity(stages.len());
        for (ou, input) in stages {
            paths.push(
                ou_path(organizations, &org_id, ou)
                    .await
                    .map_err(named(ou.clone(), input))?,
            );
        }
        return Ok(Grantees::OrgPaths(paths));
    }
    let mut accounts = BTreeSet::new();
    for (ou, input) in stages {
        accounts.extend(
            active_accounts_under(organizations, ou)
                .await
                .map_err(named(ou.clone(), input))?,
        );
    }
    if accounts.is_empty() {
        return Err(AccessError(format!(
            "no ACTIVE accounts under the OUs {} and {}; check {} and {}",
            ous.staging,
            ous.prod,
            inputs::STAGING_OU,
            inputs::PROD_OU
        ))
        .into());
    }
    Ok(Grantees::Accounts(accounts))
}

/// The policy's size, or the error that stops it before PutModelPackageGroupPolicy would.
fn fits(policy: &Value, grantees: &Grantees) -> Result<usize, AccessError> {
    access_policy::check_fits(policy, grantees, &inputs::GRANT_PRINCIPALS.to_string())
}

/// Rounds of write and read back before giving up on a policy that keeps changing.
const WRITE_ROUNDS: usize = 3;

/// Merges `statements` into the group's policy until reading it back shows them: see the module
/// doc. A policy that already holds them is not written at all, and one too big to take is not
/// sent. Returns the policy and its size in characters.
async fn write_until_settled(
    client: &Client,
    group: &str,
    statements: &[Value],
    grantees: &Grantees,
) -> Result<(Value, usize), BuildError> {
    let mut current = current_policy(client, group).await?;
    for _ in 0..WRITE_ROUNDS {
        let merged = access_policy::merge_policy(current.as_deref(), statements.to_vec())?;
        let chars = fits(&merged, grantees)?;
        if parsed(current.as_deref()).as_ref() == Some(&merged) {
            return Ok((merged, chars));
        }
        put_policy(client, group, &merged).await?;
        current = current_policy(client, group).await?;
        if parsed(current.as_deref()).as_ref() == Some(&merged) {
            return Ok((merged, chars));
        }
        tracing::warn!(
            "the resource policy of group {group} changed while build-step wrote it; merging again"
        );
    }
    Err(BuildError::PolicyKeptChanging {
        group: group.to_owned(),
        rounds: WRITE_ROUNDS,
    })
}

fn parsed(policy: Option<&str>) -> Option<Value> {
    serde_json::from_str(policy?).ok()
}

/// The group's current resource policy, if it has one.
async fn current_policy(client: &Client, group: &str) -> Result<Option<String>, BuildError> {
    match client
        .get_model_package_group_policy()
        .model_package_group_name(group)
        .send()
        .await
    {
        Ok(out) => Ok(out.resource_policy().map(str::to_owned)),
        Err(err) => {
            let err = AwsCallError::new("sagemaker:GetModelPackageGroupPolicy", err);
            // A group without a policy answers with a validation error; the group's existence was
            // checked before this call.
            if matches!(err.code(), Some("ValidationException" | "ResourceNotFound")) {
                Ok(None)
            } else {
                Err(err.into())
            }
        }
    }
}

async fn put_policy(client: &Client, group: &str, policy: &Value) -> Result<(), BuildError> {
    client
        .put_model_package_group_policy()
        .model_package_group_name(group)
        .resource_policy(policy.to_string())
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:PutModelPackageGroupPolicy", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_sagemaker::operation::get_model_package_group_policy::{
        GetModelPackageGroupPolicyError, GetModelPackageGroupPolicyOutput,
    };
    use aws_sdk_sagemaker::operation::put_model_package_group_policy::PutModelPackageGroupPolicyOutput;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use deploy_core::access_policy::{merge_policy, project_sids, project_statements};
    use serde_json::json;

    use super::*;

    /// The emulator answers the policy calls with HTTP 500, so these are SDK-level fakes of
    /// SageMaker's documented behaviour
    /// (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_PutModelPackageGroupPolicy.html,
    /// https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_GetModelPackageGroupPolicy.html):
    /// Put replaces the whole policy, Get returns the last one put, and a group without a policy
    /// answers Get with a ValidationException.
    struct PolicyStore {
        policy: Arc<Mutex<Option<String>>>,
        get: Rule,
        put: Rule,
    }

    /// A store whose policy `meddle` may change after each of our writes (another writer).
    fn store(initial: Option<Value>, meddle: fn(usize, &mut Option<String>)) -> PolicyStore {
        let policy = Arc::new(Mutex::new(initial.map(|p| p.to_string())));
        let (read, write) = (policy.clone(), policy.clone());
        let writes = Arc::new(Mutex::new(0));
        let get =
            mock!(Client::get_model_package_group_policy).then_compute_response(
                move |_| match read.lock().unwrap().clone() {
                    Some(text) => aws_smithy_mocks::MockResponse::Output(
                        GetModelPackageGroupPolicyOutput::builder()
                            .resource_policy(text)
                            .build(),
                    ),
                    None => aws_smithy_mocks::MockResponse::Error(
                        GetModelPackageGroupPolicyError::generic(
                            aws_smithy_types::error::ErrorMetadata::builder()
                                .code("ValidationException")
                                .message("no policy")
                                .build(),
                        ),
                    ),
                },
            );
        let put =
            mock!(Client::put_model_package_group_policy).then_compute_output(move |request| {
                let mut stored = write.lock().unwrap();
                *stored = request.resource_policy().map(str::to_owned);
                let mut count = writes.lock().unwrap();
                *count += 1;
                meddle(*count, &mut stored);
                PutModelPackageGroupPolicyOutput::builder().build()
            });
        PolicyStore { policy, get, put }
    }

    fn client(store: &PolicyStore) -> Client {
        mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&store.get, &store.put]
        )
    }

    fn grantees() -> Grantees {
        Grantees::Accounts(["111111111111".to_owned()].into())
    }

    fn ours(project: &str) -> Vec<Value> {
        project_statements(
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
            project,
            &grantees(),
        )
        .unwrap()
    }

    fn stored_sids(store: &PolicyStore) -> Vec<String> {
        let text = store.policy.lock().unwrap().clone().unwrap();
        let policy: Value = serde_json::from_str(&text).unwrap();
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap().to_owned())
            .collect()
    }

    fn no_meddling(_: usize, _: &mut Option<String>) {}

    #[tokio::test]
    async fn a_group_without_a_policy_gets_ours_written_once() {
        let store = store(None, no_meddling);
        let written = write_until_settled(&client(&store), "churn", &ours("churn"), &grantees())
            .await
            .unwrap();
        assert_eq!(store.put.num_calls(), 1);
        assert_eq!(store.get.num_calls(), 2, "read, then read back");
        assert_eq!(stored_sids(&store), project_sids("churn"));
        assert_eq!(written.0, merge_policy(None, ours("churn")).unwrap());
    }

    #[tokio::test]
    async fn a_policy_that_already_holds_our_statements_is_not_written() {
        let settled = merge_policy(None, ours("churn")).unwrap();
        let store = store(Some(settled), no_meddling);
        write_until_settled(&client(&store), "churn", &ours("churn"), &grantees())
            .await
            .unwrap();
        assert_eq!(store.put.num_calls(), 0);
    }

    /// Another project writes its statement right after our first write, from a policy it read
    /// before: ours are gone on read back, so they are merged into its policy and written again.
    #[tokio::test]
    async fn a_statement_written_between_our_read_and_write_is_not_lost() {
        fn other_project_writes_after_ours(write: usize, stored: &mut Option<String>) {
            if write == 1 {
                *stored = Some(merge_policy(None, ours("fraud")).unwrap().to_string());
            }
        }
        let store = store(None, other_project_writes_after_ours);
        write_until_settled(&client(&store), "churn", &ours("churn"), &grantees())
            .await
            .unwrap();
        assert_eq!(store.put.num_calls(), 2);
        let sids = stored_sids(&store);
        for sid in project_sids("fraud").iter().chain(&project_sids("churn")) {
            assert!(sids.contains(sid), "{sid} lost: {sids:?}");
        }
    }

    /// Statements somebody else wrote fill the policy: ours would push it past what SageMaker
    /// takes, so nothing is sent and the message names the limit.
    #[tokio::test]
    async fn a_policy_that_would_not_fit_is_not_sent() {
        let crowded = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "SomebodyElse", "Effect": "Allow", "Principal": {"AWS": "*"},
             "Action": "sagemaker:DescribeModelPackage", "Resource": "x".repeat(20_400)}
        ]});
        let store = store(Some(crowded), no_meddling);
        let err = write_until_settled(&client(&store), "churn", &ours("churn"), &grantees())
            .await
            .unwrap_err();
        assert_eq!(store.put.num_calls(), 0);
        assert_eq!(
            deploy_shell::finish::Failure::exit_status(&err),
            deploy_core::ExitStatus::BadInput
        );
        assert!(
            err.to_string().contains(
                "over the 20480 that PutModelPackageGroupPolicy takes, so nothing was written"
            ),
            "{err}"
        );
    }

    #[tokio::test]
    async fn a_policy_that_never_settles_is_an_aws_error_after_three_rounds() {
        fn always_overwritten(_: usize, stored: &mut Option<String>) {
            *stored = Some(json!({"Version": "2012-10-17", "Statement": []}).to_string());
        }
        let store = store(None, always_overwritten);
        let err = write_until_settled(&client(&store), "churn", &ours("churn"), &grantees())
            .await
            .unwrap_err();
        assert_eq!(store.put.num_calls(), 3);
        assert_eq!(
            deploy_shell::finish::Failure::exit_status(&err),
            deploy_core::ExitStatus::AwsError
        );
        assert!(
            err.to_string()
                .contains("changed every time build-step wrote it"),
            "{err}"
        );
    }

    /// A group given by ARN that is another account's: its policy is its owner's to write.
    #[tokio::test]
    async fn a_group_of_another_account_is_not_granted_from_here() {
        use aws_sdk_organizations::operation::list_accounts_for_parent::ListAccountsForParentOutput;
        use aws_sdk_organizations::operation::list_organizational_units_for_parent::ListOrganizationalUnitsForParentOutput;
        use aws_sdk_organizations::types::{Account, AccountStatus};
        use aws_sdk_sagemaker::operation::describe_model_package_group::DescribeModelPackageGroupOutput;

        let accounts =
            mock!(aws_sdk_organizations::Client::list_accounts_for_parent).then_output(|| {
                ListAccountsForParentOutput::builder()
                    .accounts(
                        Account::builder()
                            .id("111111111111")
                            .status(AccountStatus::Active)
                            .build(),
                    )
                    .build()
            });
        let children = mock!(aws_sdk_organizations::Client::list_organizational_units_for_parent)
            .then_output(|| ListOrganizationalUnitsForParentOutput::builder().build());
        let organizations = mock_client!(
            aws_sdk_organizations,
            RuleMode::MatchAny,
            [&accounts, &children]
        );
        let own_group = mock!(Client::describe_model_package_group).then_output(|| {
            DescribeModelPackageGroupOutput::builder()
                .model_package_group_arn(
                    "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
                )
                .build()
        });
        let store = store(None, no_meddling);
        let sagemaker = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&own_group, &store.get, &store.put]
        );
        let ous = GrantOus {
            staging: "ou-a".into(),
            prod: "ou-b".into(),
            principals: GrantPrincipals::Accounts,
        };
        let shared = "arn:aws:sagemaker:us-east-1:999999999999:model-package-group/churn";

        let err = grant_access(&sagemaker, &organizations, shared, "churn", &ous, false)
            .await
            .unwrap_err();

        assert!(
            err.to_string()
                .contains("is not in this account and region"),
            "{err}"
        );
        assert_eq!(
            store.put.num_calls() + store.get.num_calls(),
            0,
            "no policy call"
        );
        let own = grant_access(
            &sagemaker,
            &organizations,
            "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
            "churn",
            &ous,
            false,
        )
        .await;
        assert!(own.is_ok(), "{own:?}");
        assert_eq!(
            store.put.num_calls(),
            1,
            "this account's group, given by ARN, is granted"
        );
    }
}
