//! Cross-account access to the model package group. Staging and prod accounts create their
//! models from packages in this account, which needs the group's resource policy to let them
//! describe the group and describe/list/create models from its packages (the seed granted only
//! CreateModel, B9). The project's statements are identified by `Sid` and merged into the existing
//! policy: statements somebody else wrote are never dropped.

use std::collections::BTreeSet;

use aws_sdk_sagemaker::Client;
use deploy_common::AwsCallError;
use serde_json::{json, Value};

use crate::error::BuildError;

pub const GROUP_STATEMENT_SID: &str = "SageMakerDeployStepsDescribeGroup";
pub const PACKAGE_STATEMENT_SID: &str = "SageMakerDeployStepsUsePackages";

/// The project's two statements for `accounts` on the group `group_arn`.
pub fn project_statements(
    group_arn: &str,
    accounts: &BTreeSet<String>,
) -> Result<Vec<Value>, BuildError> {
    let (partition, packages_arn) = arn_parts(group_arn).ok_or_else(|| {
        BuildError::Access(format!(
            "the group ARN \"{group_arn}\" is not a model-package-group ARN"
        ))
    })?;
    let principals: Vec<String> = accounts
        .iter()
        .map(|a| format!("arn:{partition}:iam::{a}:root"))
        .collect();
    Ok(vec![
        json!({
            "Sid": GROUP_STATEMENT_SID,
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["sagemaker:DescribeModelPackageGroup"],
            "Resource": group_arn,
        }),
        json!({
            "Sid": PACKAGE_STATEMENT_SID,
            "Effect": "Allow",
            "Principal": {"AWS": principals},
            "Action": ["sagemaker:DescribeModelPackage", "sagemaker:ListModelPackages", "sagemaker:CreateModel"],
            "Resource": packages_arn,
        }),
    ])
}

/// `arn:P:sagemaker:R:A:model-package-group/G` -> (`P`, `arn:P:sagemaker:R:A:model-package/G/*`).
fn arn_parts(group_arn: &str) -> Option<(&str, String)> {
    let partition = group_arn.strip_prefix("arn:")?.split(':').next()?;
    let (prefix, group) = group_arn.split_once(":model-package-group/")?;
    Some((partition, format!("{prefix}:model-package/{group}/*")))
}

/// Merges `ours` into `existing` (a policy document or nothing): statements with our Sids are
/// replaced, every other statement is kept in place.
pub fn merge_policy(existing: Option<&str>, ours: Vec<Value>) -> Result<Value, BuildError> {
    let mut policy = match existing.filter(|text| !text.trim().is_empty()) {
        None => json!({"Version": "2012-10-17", "Statement": []}),
        Some(text) => serde_json::from_str::<Value>(text).map_err(|e| {
            BuildError::Access(format!("the group's existing resource policy is not valid JSON ({e}); fix or delete it, then run again"))
        })?,
    };
    let Some(document) = policy.as_object_mut() else {
        return Err(BuildError::Access(
            "the group's existing resource policy is not a JSON object; fix or delete it".into(),
        ));
    };
    let statements = match document.remove("Statement") {
        Some(Value::Array(list)) => list,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let our_sids: Vec<&Value> = ours.iter().map(|s| &s["Sid"]).collect();
    let mut merged: Vec<Value> = statements
        .into_iter()
        .filter(|s| !our_sids.contains(&&s["Sid"]))
        .collect();
    merged.extend(ours);
    document.insert("Statement".into(), Value::Array(merged));
    document
        .entry("Version")
        .or_insert_with(|| json!("2012-10-17"));
    Ok(policy)
}

/// The group's current resource policy, if it has one.
pub async fn current_policy(client: &Client, group: &str) -> Result<Option<String>, BuildError> {
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

pub async fn put_policy(client: &Client, group: &str, policy: &Value) -> Result<(), BuildError> {
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

    const GROUP_ARN: &str =
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:model-package-group/churn";

    fn accounts() -> BTreeSet<String> {
        ["111111111111".to_owned(), "222222222222".to_owned()].into()
    }

    #[test]
    fn statements_use_the_group_partition_and_every_account() {
        let statements = project_statements(GROUP_ARN, &accounts()).unwrap();
        assert_eq!(
            statements[0]["Principal"]["AWS"][1],
            "arn:aws-cn:iam::222222222222:root"
        );
        assert_eq!(
            statements[1]["Resource"],
            "arn:aws-cn:sagemaker:cn-north-1:123456789012:model-package/churn/*"
        );
        assert_eq!(
            statements[1]["Action"].as_array().unwrap().len(),
            3,
            "B9: more than CreateModel"
        );
    }

    #[test]
    fn merging_keeps_foreign_statements_and_replaces_ours() {
        let existing = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "SomebodyElse", "Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "sagemaker:DescribeModelPackage", "Resource": "*"},
            {"Sid": GROUP_STATEMENT_SID, "Effect": "Allow", "Principal": {"AWS": "stale"}, "Action": "x", "Resource": "*"}
        ]})
        .to_string();
        let merged = merge_policy(
            Some(&existing),
            project_statements(GROUP_ARN, &accounts()).unwrap(),
        )
        .unwrap();
        let sids: Vec<&str> = merged["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect();
        assert_eq!(
            sids,
            ["SomebodyElse", GROUP_STATEMENT_SID, PACKAGE_STATEMENT_SID]
        );
        assert!(!merged.to_string().contains("stale"));
        assert!(merge_policy(Some("{not json"), vec![]).is_err());
    }

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
            project_statements(GROUP_ARN, &accounts()).unwrap(),
        )
        .unwrap();
        put_policy(&client, "churn", &merged).await.unwrap();
        assert_eq!(put.num_calls(), 1);
    }
}
