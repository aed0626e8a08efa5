//! The IAM request behind each call the fault proxy recorded, so a test can evaluate every call a
//! binary made against the role it runs as in production (the emulator enforces no IAM). Each
//! call becomes the action, resource ARN and condition keys the Service Authorization Reference
//! lists for it (<https://docs.aws.amazon.com/service-authorization/latest/reference/reference_policies_actions-resources-contextkeys.html>,
//! the pages for SageMaker, Organizations, CodePipeline, CloudFormation and STS); a call this
//! module does not know is an error naming it, so a new call cannot go unchecked.
//!
//! The caller is the role the binary runs as, or, for a call made with keys from an AssumeRole
//! that went through the proxy, that role's session with the session policy it was given. The
//! tags a resource carries (`aws:ResourceTag/...`) come from the caller: the endpoint stack tags
//! every resource it creates with the project id, which the emulator's stand-in endpoints lack.

use serde_json::Value as Json;

use crate::cfn_eval::ResolvedResource;
use crate::fault_proxy::{AssumedSession, RecordedCall};
use crate::policy_eval::ResourcePolicyKind;
use crate::policy_eval::{evaluate, Decision, Policies, Policy, Principal, Request};
use crate::tools::repo_root;

/// A role's policies as IAM holds them.
#[derive(Debug, Clone)]
pub struct RolePolicies {
    pub arn: String,
    pub identity: Vec<Policy>,
    pub boundary: Option<Policy>,
    pub trust: Policy,
}

impl RolePolicies {
    /// The policies of an `AWS::IAM::Role` of a resolved template: its inline policies, its
    /// trust policy and, when it names one, the project's permissions boundary
    /// (`templates/iam/permissions-boundary-policy.json`). A managed policy is an error: this
    /// module would not evaluate it.
    pub fn of_role(role: &ResolvedResource) -> Result<Self, String> {
        let label = &role.logical_id;
        let properties = &role.properties;
        if properties.get("ManagedPolicyArns").is_some() {
            return Err(format!(
                "{label} has managed policies, which are not evaluated"
            ));
        }
        let inline = properties["Policies"].as_array().into_iter().flatten();
        let identity = inline
            .map(|p| {
                let name = format!("{label} {}", p["PolicyName"].as_str().unwrap_or_default());
                Policy::parse(&name, &p["PolicyDocument"])
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| e.to_string())?;
        let boundary = match properties["PermissionsBoundary"].as_str() {
            Some(arn) if !arn.is_empty() => Some(permissions_boundary()?),
            _ => None,
        };
        let trust = Policy::parse(
            &format!("{label} trust"),
            &properties["AssumeRolePolicyDocument"],
        )
        .map_err(|e| e.to_string())?;
        let arn = role
            .arn
            .clone()
            .ok_or_else(|| format!("{label} has no ARN"))?;
        Ok(Self {
            arn,
            identity,
            boundary,
            trust,
        })
    }
}

/// The permissions boundary the platform team creates from `templates/iam/`.
pub fn permissions_boundary() -> Result<Policy, String> {
    let path = repo_root().join("templates/iam/permissions-boundary-policy.json");
    let text = std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let document: Json = serde_json::from_slice(&text).map_err(|e| e.to_string())?;
    Policy::parse("the permissions boundary", &document).map_err(|e| e.to_string())
}

/// What the checker needs to know beyond the calls.
pub trait Roles {
    /// The role with this ARN, in whichever account.
    fn role(&self, arn: &str) -> Option<&RolePolicies>;
    /// The tags a resource of `account` carries, as `(key, value)`.
    fn resource_tags(&self, account: &str, resource_arn: &str) -> Vec<(String, String)>;
}

/// Evaluates every call in `calls`, made by `runner` (the CodeBuild project's role) or by sessions
/// `session_of` knows; returns one line per call that is not allowed (empty: all allowed).
pub fn denied_calls(
    calls: &[RecordedCall],
    runner: &RolePolicies,
    session_of: &dyn Fn(&str) -> Option<AssumedSession>,
    roles: &dyn Roles,
) -> Vec<String> {
    calls
        .iter()
        .filter_map(|call| {
            let outcome = check(call, runner, session_of, roles);
            match outcome {
                Ok(Decision::Allow(_)) => None,
                Ok(decision) => Some(format!(
                    "{}:{} in {} is not allowed: {}",
                    call.signing_service,
                    call.operation,
                    call.account,
                    decision.reason()
                )),
                Err(problem) => Some(problem),
            }
        })
        .collect()
}

fn check(
    call: &RecordedCall,
    runner: &RolePolicies,
    session_of: &dyn Fn(&str) -> Option<AssumedSession>,
    roles: &dyn Roles,
) -> Result<Decision, String> {
    let session = session_of(&call.access_key);
    let (caller, session_policy) = match &session {
        Some(session) => {
            let role = roles
                .role(&session.role_arn)
                .ok_or_else(|| format!("no policies known for {}", session.role_arn))?;
            let policy = session.policy.as_deref().map(|text| {
                let document: Json = serde_json::from_str(text).unwrap_or_default();
                Policy::parse("the session policy", &document)
            });
            (role, policy.transpose().map_err(|e| e.to_string())?)
        }
        None => (runner, None),
    };
    let principal = Principal::role_session(&caller.arn, "session").map_err(|e| e.to_string())?;
    let (action, resource) = iam_request(call)?;
    let resource_account = resource.split(':').nth(4).unwrap_or_default();
    let resource_account = if resource_account.is_empty() {
        call.account.as_str()
    } else {
        resource_account
    };
    let mut request = Request::new(principal, &action, &resource);
    // UpdateModelPackage's lifecycle condition keys carry what the call sets
    // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
    let lifecycle = &call.params["ModelLifeCycle"];
    for key in ["Stage", "StageStatus"] {
        if let Some(value) = lifecycle[key].as_str() {
            request = request.with(&format!("sagemaker:ModelLifeCycle:{key}"), value);
        }
    }
    for (key, value) in roles.resource_tags(resource_account, &resource) {
        request = request.with(&format!("aws:ResourceTag/{key}"), &value);
    }
    let caller_account = caller.arn.split(':').nth(4).unwrap_or_default();
    let mut policies = Policies {
        identity: caller.identity.clone(),
        boundary: caller.boundary.clone(),
        session: session_policy.into_iter().collect(),
        cross_account: resource_account != caller_account && resource != "*",
        ..Policies::default()
    };
    if action == "sts:AssumeRole" {
        let target = roles
            .role(&resource)
            .ok_or_else(|| format!("AssumeRole of {resource}, whose policies are not known"))?;
        policies.resource = Some(target.trust.clone());
        policies.resource_kind = ResourcePolicyKind::Trust;
    }
    Ok(evaluate(&request, &policies))
}

/// A recorded call as IAM authorizes it. The proxy records an S3 bucket read it cannot name as
/// `GET /<bucket>`, and the only ones the binaries make are preflight's GetBucketPolicy and
/// GetBucketEncryption, so such a call stands for both and must be allowed as either.
pub fn named_bucket_reads(call: &RecordedCall) -> Vec<RecordedCall> {
    let bucket = (call.signing_service == "s3")
        .then(|| call.operation.strip_prefix("GET /"))
        .flatten()
        .map(|path| path.trim_end_matches('/'))
        .filter(|bucket| !bucket.is_empty() && !bucket.contains('/'));
    let Some(bucket) = bucket else {
        return vec![call.clone()];
    };
    ["GetBucketPolicy", "GetBucketEncryption"]
        .into_iter()
        .map(|operation| RecordedCall {
            operation: operation.to_owned(),
            params: serde_json::json!({ "Bucket": bucket }),
            ..call.clone()
        })
        .collect()
}

/// The IAM action and resource ARN of a recorded call.
pub fn iam_request(call: &RecordedCall) -> Result<(String, String), String> {
    let (region, account) = (&call.region, &call.account);
    let param = |name: &str| call.params[name].as_str().unwrap_or_default().to_owned();
    let sagemaker = |kind: &str, name: &str| {
        let name = param(name);
        if name.starts_with("arn:") {
            name
        } else {
            // SageMaker writes names in ARNs in lower case.
            format!(
                "arn:aws:sagemaker:{region}:{account}:{kind}/{}",
                name.to_lowercase()
            )
        }
    };
    let service = match call.signing_service.as_str() {
        "sagemaker" | "runtime.sagemaker" => "sagemaker",
        other => other,
    };
    let action = format!("{service}:{}", call.operation);
    // An operation whose IAM action has another name: S3 authorizes GetBucketEncryption as
    // s3:GetEncryptionConfiguration (the Service Authorization Reference's S3 page).
    let action = match action.as_str() {
        "s3:GetBucketEncryption" => "s3:GetEncryptionConfiguration".to_owned(),
        _ => action,
    };
    let resource = match action.as_str() {
        // Calls without resource-level permissions; test-step preflight's listings in a target
        // account among them.
        "sagemaker:ListModelPackages"
        | "sts:GetCallerIdentity"
        | "organizations:DescribeOrganization"
        | "sagemaker:ListEndpoints"
        | "servicequotas:ListServiceQuotas" => "*".to_owned(),
        "sagemaker:DescribeModelPackage" => sagemaker("model-package", "ModelPackageName"),
        "sagemaker:UpdateModelPackage" => sagemaker("model-package", "ModelPackageArn"),
        "sagemaker:DescribeModelPackageGroup"
        | "sagemaker:GetModelPackageGroupPolicy"
        | "sagemaker:PutModelPackageGroupPolicy" => {
            sagemaker("model-package-group", "ModelPackageGroupName")
        }
        "sagemaker:DescribeEndpoint" | "sagemaker:InvokeEndpoint" => {
            sagemaker("endpoint", "EndpointName")
        }
        "sagemaker:DescribeEndpointConfig" => sagemaker("endpoint-config", "EndpointConfigName"),
        "sagemaker:DescribeModel" => sagemaker("model", "ModelName"),
        "sagemaker:ListTags" => param("ResourceArn"),
        // test-step preflight's other reads in a target account: the stack's roles (which have no
        // path) and the simulator on the execution role.
        "iam:GetRole" => format!("arn:aws:iam::{account}:role/{}", param("RoleName")),
        "iam:SimulatePrincipalPolicy" => param("PolicySourceArn"),
        // In the pipeline's account: the policy and default encryption of the bucket the model
        // reads. S3's bucket reads reach the proxy as `GET /<bucket>`; a caller that tells them
        // apart names them GetBucketPolicy and GetBucketEncryption, with the `Bucket` parameter.
        "s3:GetBucketPolicy" | "s3:GetEncryptionConfiguration" => {
            format!("arn:aws:s3:::{}", param("Bucket"))
        }
        // And the policy of the repository the model's image comes from, in its registry.
        "ecr:GetRepositoryPolicy" => {
            let registry = param("registryId");
            let registry = if registry.is_empty() {
                account.clone()
            } else {
                registry
            };
            format!(
                "arn:aws:ecr:{region}:{registry}:repository/{}",
                param("repositoryName")
            )
        }
        // Organizations' ARNs name the organization, which the roles do not scope (they read
        // the tree on "*"); the parent's id is kept.
        "organizations:ListAccountsForParent"
        | "organizations:ListOrganizationalUnitsForParent"
        | "organizations:ListChildren" => {
            let parent = param("ParentId");
            let kind = if parent.starts_with("r-") {
                "root"
            } else {
                "ou"
            };
            format!("arn:aws:organizations::{account}:{kind}/o-unknown/{parent}")
        }
        "organizations:ListParents" => {
            format!(
                "arn:aws:organizations::{account}:account/o-unknown/{}",
                param("ChildId")
            )
        }
        "codepipeline:GetPipelineExecution" => format!(
            "arn:aws:codepipeline:{region}:{account}:{}",
            param("pipelineName")
        ),
        // The three StackSet reads take the stackset resource type.
        "cloudformation:DescribeStackSet"
        | "cloudformation:ListStackInstances"
        | "cloudformation:ListStackSetOperations" => format!(
            "arn:aws:cloudformation:{region}:{account}:stackset/{}:0a1b2c3d",
            param("StackSetName")
        ),
        "sts:AssumeRole" => param("RoleArn"),
        _ => {
            return Err(format!(
                "{action} (in {account}) has no IAM mapping: add its resource to \
                 test_support::iam_calls so the call is evaluated"
            ))
        }
    };
    Ok((action, resource))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn call(service: &str, operation: &str, params: Json) -> RecordedCall {
        RecordedCall {
            signing_service: service.into(),
            region: "eu-west-1".into(),
            operation: operation.into(),
            account: "111111111111".into(),
            access_key: "AKIDRUNNER".into(),
            params,
            status: 200,
        }
    }

    fn role(arn: &str, statements: &Json) -> RolePolicies {
        let document = json!({"Version": "2012-10-17", "Statement": statements.clone()});
        let trust = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "sts:AssumeRole", "Principal": {"AWS": "arn:aws:iam::111111111111:root"}}]});
        RolePolicies {
            arn: arn.into(),
            identity: vec![Policy::parse("inline", &document).unwrap()],
            boundary: None,
            trust: Policy::parse("trust", &trust).unwrap(),
        }
    }

    struct NoTags(Vec<RolePolicies>);

    impl Roles for NoTags {
        fn role(&self, arn: &str) -> Option<&RolePolicies> {
            self.0.iter().find(|r| r.arn == arn)
        }

        fn resource_tags(&self, _: &str, _: &str) -> Vec<(String, String)> {
            Vec::new()
        }
    }

    #[test]
    fn a_call_outside_the_roles_grant_is_named_and_an_unknown_call_is_refused() {
        let runner = role(
            "arn:aws:iam::111111111111:role/runner",
            &json!([{"Effect": "Allow", "Action": "sagemaker:DescribeModelPackageGroup",
                "Resource": "arn:aws:sagemaker:eu-west-1:111111111111:model-package-group/churn"}]),
        );
        let calls = [
            call(
                "sagemaker",
                "DescribeModelPackageGroup",
                json!({"ModelPackageGroupName": "Churn"}),
            ),
            call(
                "sagemaker",
                "DescribeModelPackageGroup",
                json!({"ModelPackageGroupName": "fraud"}),
            ),
            call(
                "sagemaker",
                "DeleteModelPackageGroup",
                json!({"ModelPackageGroupName": "churn"}),
            ),
        ];
        let denied = denied_calls(&calls, &runner, &|_| None, &NoTags(Vec::new()));
        assert_eq!(denied.len(), 2, "{denied:#?}");
        assert!(denied[0]
            .starts_with("sagemaker:DescribeModelPackageGroup in 111111111111 is not allowed"));
        assert!(denied[1]
            .contains("sagemaker:DeleteModelPackageGroup (in 111111111111) has no IAM mapping"));
    }

    #[test]
    fn a_session_is_held_to_its_role_and_its_session_policy() {
        let target = role(
            "arn:aws:iam::222222222222:role/tester",
            &json!([{"Effect": "Allow", "Action": "sagemaker:DescribeEndpoint", "Resource": "*"}]),
        );
        let runner = role("arn:aws:iam::111111111111:role/runner", &json!([]));
        let narrow = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Action": "sagemaker:DescribeEndpoint",
            "Resource": "arn:aws:sagemaker:eu-west-1:222222222222:endpoint/churn-staging"}]});
        let session = AssumedSession {
            role_arn: target.arn.clone(),
            session_name: "test-step".into(),
            policy: Some(narrow.to_string()),
            account: "222222222222".into(),
        };
        let in_target = |endpoint: &str| {
            let mut c = call(
                "sagemaker",
                "DescribeEndpoint",
                json!({"EndpointName": endpoint}),
            );
            c.account = "222222222222".into();
            c.access_key = "AKIDSESSION".into();
            c
        };
        let calls = [in_target("Churn-Staging"), in_target("other-endpoint")];
        let session_of = |key: &str| (key == "AKIDSESSION").then(|| session.clone());
        let denied = denied_calls(&calls, &runner, &session_of, &NoTags(vec![target]));
        assert_eq!(denied.len(), 1, "{denied:#?}");
        assert!(
            denied[0].contains("in 222222222222 is not allowed"),
            "{denied:#?}"
        );
    }
}
