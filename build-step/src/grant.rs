//! The cross-account grant, AWS side: the OU walk for the accounts, then the group's resource
//! policy read, merged and written back. The statements and the merge are pure rules
//! (`deploy_core::access_policy`).

use std::collections::BTreeSet;

use aws_sdk_sagemaker::Client;
use deploy_core::access_policy::{self, AccessError};
use deploy_core::build_summary::AccessSummary;
use deploy_core::inputs;
use deploy_shell::organizations::active_accounts_under;
use deploy_shell::AwsCallError;
use serde_json::Value;

use crate::config::GrantOus;
use crate::error::BuildError;
use crate::registry;

/// Lets every ACTIVE account of the OUs use the group's packages. With `dry_run` only the project's
/// statements are computed and shown; nothing is read from or written to the policy.
pub async fn grant_access(
    sagemaker: &Client,
    organizations: &aws_sdk_organizations::Client,
    group: &str,
    ous: &GrantOus,
    dry_run: bool,
) -> Result<AccessSummary, BuildError> {
    let mut accounts = BTreeSet::new();
    for ou in [&ous.staging, &ous.prod] {
        accounts.extend(active_accounts_under(organizations, ou).await?);
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
    let group_arn = registry::group_arn(sagemaker, group).await?;
    let statements = access_policy::project_statements(&group_arn, &accounts)?;
    let existing = if dry_run {
        None
    } else {
        current_policy(sagemaker, group).await?
    };
    let policy = access_policy::merge_policy(existing.as_deref(), statements)?;
    if !dry_run {
        put_policy(sagemaker, group, &policy).await?;
    }
    Ok(AccessSummary {
        accounts: accounts.into_iter().collect(),
        policy,
        applied: !dry_run,
    })
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
    use super::*;
    use aws_sdk_sagemaker::operation::get_model_package_group_policy::{
        GetModelPackageGroupPolicyError, GetModelPackageGroupPolicyOutput,
    };
    use aws_sdk_sagemaker::operation::put_model_package_group_policy::PutModelPackageGroupPolicyOutput;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use deploy_core::access_policy::{merge_policy, project_statements, PACKAGE_STATEMENT_SID};

    /// The emulator answers the policy calls with HTTP 500, so the AWS side is covered here.
    #[tokio::test]
    async fn reads_no_policy_as_empty_and_puts_the_merged_one() {
        let missing = mock!(Client::get_model_package_group_policy).then_error(|| {
            GetModelPackageGroupPolicyError::generic(
                aws_smithy_types::error::ErrorMetadata::builder()
                    .code("ValidationException")
                    .message("no policy")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_sagemaker, [&missing]);
        assert_eq!(current_policy(&client, "churn").await.unwrap(), None);

        let existing = mock!(Client::get_model_package_group_policy).then_output(|| {
            GetModelPackageGroupPolicyOutput::builder()
                .resource_policy("{\"Statement\": []}")
                .build()
        });
        let put = mock!(Client::put_model_package_group_policy)
            .match_requests(|r| {
                r.resource_policy()
                    .is_some_and(|p| p.contains(PACKAGE_STATEMENT_SID))
            })
            .then_output(|| PutModelPackageGroupPolicyOutput::builder().build());
        let client = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, [&existing, &put]);
        let current = current_policy(&client, "churn").await.unwrap();
        let merged = merge_policy(
            current.as_deref(),
            project_statements(
                "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
                &["111111111111".to_owned()].into(),
            )
            .unwrap(),
        )
        .unwrap();
        put_policy(&client, "churn", &merged).await.unwrap();
        assert_eq!(put.num_calls(), 1);
    }
}
