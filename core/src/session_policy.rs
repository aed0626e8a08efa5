//! The session policy test-step passes with every AssumeRole: the assumed role may already do
//! no more than describe and invoke its project's endpoints, and each session may do only what
//! test-step calls, on the one endpoint it tests, in the one Region. A session's permissions are
//! the intersection of the role's policies and the session policy
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies.html#policies_session>), so a
//! flaw in a target account's role does not widen what a test run can do there.

use serde_json::json;

/// What AWS takes for a session policy, packed: 2,048 characters
/// (<https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html#API_AssumeRole_RequestParameters>).
pub const MAX_SESSION_POLICY_CHARS: usize = 2048;

/// The session policy for testing `endpoint_name` in `account_id` and `region`. SageMaker writes
/// names in ARNs in lower case; the endpoint's config and models have names CloudFormation
/// generates, so those are named by account and Region.
pub fn for_endpoint(
    partition: &str,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
) -> String {
    let arn =
        |resource: &str| format!("arn:{partition}:sagemaker:{region}:{account_id}:{resource}");
    json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "TheEndpoint",
                "Effect": "Allow",
                "Action": ["sagemaker:DescribeEndpoint", "sagemaker:InvokeEndpoint"],
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_policy_names_the_endpoint_in_lower_case_and_fits() {
        let longest_name = format!("{}-{}", "P".repeat(32), "s".repeat(30));
        let policy = for_endpoint("aws-us-gov", "111111111111", "us-gov-west-1", &longest_name);
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
    }
}
