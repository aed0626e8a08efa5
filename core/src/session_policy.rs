//! The session policy test-step passes with every AssumeRole: the assumed role may already do
//! no more than describe and invoke its project's endpoints (and make preflight's reads), and
//! each session may do only what its command calls, in the one Region: the test describes and
//! invokes the one endpoint, `status` only describes it, `preflight` only reads. A session's permissions are
//! the intersection of the role's policies and the session policy
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>), so a
//! flaw in a target account's role does not widen what a test run can do there.

use serde_json::json;

/// What AWS takes for a session policy, packed: 2,048 characters
/// (<https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters>).
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;

/// The session policy for testing `endpoint_name` in `account_id` and `region` (describing it
/// only, without `invoke`). SageMaker writes names in ARNs in lower case; the endpoint's config
/// and models have names CloudFormation generates, so those are named by account and Region.
pub fn for_endpoint(
    partition: &str,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
    invoke: bool,
) -> String {
    let arn =
        |resource: &str| format!("arn:{partition}:sagemaker:{region}:{account_id}:{resource}");
    let endpoint_actions: &[&str] = if invoke {
        &["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"]
    } else {
        &["sagemaker:DescribeEndpoint"]
    };
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheEndpoint",
                "Effect": "Allow",
                "Action": endpoint_actions,
                "Resource": arn(&format!("endpoint/{}", endpoint_name.to_ascii_lowercase())),
            },
            {
                "Sid": "ItsConfigAndModels",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeEndpointConfig", "sagemaker:DescribeModel"],
                "Resource": [arn("endpoint-config/*"), arn("model/*")],
            }
        ]
    })
    .to_string()
}

/// The session policy of a preflight in `account_id` and `region`: every endpoint and config of
/// the account described (what they use counts against the quota), the endpoint name's tags,
/// the quotas listed, the roles `roles` read and the simulator run on `simulated` alone. Nothing
/// is written and nothing invoked.
pub fn for_preflight(
    partition: &str,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
    roles: &[&str],
    simulated: Option<&str>,
) -> String {
    let sagemaker =
        |resource: &str| format!("arn:{partition}:sagemaker:{region}:{account_id}:{resource}");
    let role = |name: &str| format!("arn:{partition}:iam::{account_id}:role/{name}");
    let mut statements = vec![
        json!({
            "Sid": "ListWithoutResources",
            "Effect": "Allow",
            "Action": ["sagemaker:ListEndpoints", "servicequotas:ListServiceQuotas"],
            "Resource": "*",
        }),
        json!({
            "Sid": "CapacityInUse",
            "Effect": "Allow",
            "Action": ["sagemaker:DescribeEndpoint", "sagemaker:DescribeEndpointConfig"],
            "Resource": [sagemaker("endpoint/*"), sagemaker("endpoint-config/*")],
        }),
        json!({
            "Sid": "WhoOwnsTheName",
            "Effect": "Allow",
            "Action": "sagemaker:ListTags",
            "Resource": sagemaker(&format!("endpoint/{}", endpoint_name.to_ascii_lowercase())),
        }),
    ];
    if !roles.is_empty() {
        statements.push(json!({
            "Sid": "TheStacksRoles",
            "Effect": "Allow",
            "Action": "iam:GetRole",
            "Resource": roles.iter().map(|name| role(name)).collect::<Vec<_>>(),
        }));
    }
    if let Some(simulated) = simulated {
        statements.push(json!({
            "Sid": "WhatTheModelMayRead",
            "Effect": "Allow",
            "Action": "iam:SimulatePrincipalPolicy",
            "Resource": role(simulated),
        }));
    }
    json!({"Version": "2012-10-17", "Statement": statements}).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_endpoint_in_lower_case_and_fits() {
        let longest_name = format!("{}-{}", "P".repeat(32), "s".repeat(30));
        let policy = for_endpoint(
            "aws-us-gov",
            "111111111111",
            "us-gov-west-1",
            &longest_name,
            true,
        );
        assert!(policy.len() < MAX_SESSION_POLICY_CHARS, "{}", policy.len());
        let value: serde_json::Value = serde_json::from_str(&policy).unwrap();
        assert_eq!(
            value["Statement"][0]["Resource"],
            format!(
                "arn:aws-us-gov:sagemaker:us-gov-west-1:111111111111:endpoint/{}",
                longest_name.to_ascii_lowercase()
            )
        );
        assert_eq!(
            value["Statement"][1]["Action"][1],
            "sagemaker:DescribeModel"
        );
        let status = for_endpoint("aws", "111111111111", "us-east-1", "e", false);
        assert!(!status.contains("InvokeEndpoint"), "{status}");
    }

    #[test]
    fn the_preflight_policy_reads_only_and_fits() {
        let longest_name = format!("{}-{}", "P".repeat(32), "s".repeat(30));
        let role = format!("sagemaker-{}-staging-deploy", "i".repeat(16));
        let policy = for_preflight(
            "aws-us-gov",
            "111111111111",
            "us-gov-west-1",
            &longest_name,
            &[&role, &role],
            Some(&role),
        );
        assert!(policy.len() < MAX_SESSION_POLICY_CHARS, "{}", policy.len());
        for write in ["Create", "Update", "Delete", "Put", "Invoke", "Attach"] {
            assert!(!policy.contains(write), "{write} in {policy}");
        }
        let bare = for_preflight("aws", "1", "r", "e", &[], None);
        assert!(!bare.contains("iam:"), "{bare}");
    }
}
