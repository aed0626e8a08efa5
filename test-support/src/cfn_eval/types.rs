//! The resource types with built-in rules: for each, the property that names a resource and the
//! others its rules read (`TYPES`), and what `Ref` and `Fn::GetAtt` give, as CloudFormation
//! documents it (`builtin`): names, ARNs, ids and hosts, built from the resource's name, given or
//! generated.

use std::collections::BTreeMap;

use super::ids::{token, uuid, HEX, UPPER_ALNUM};
use super::inputs::StackInputs;
use super::REF;

/// The types with built-in rules: the property naming a resource ("" where CloudFormation always
/// generates the name), the other properties the rules read, and the return values they follow.
pub(super) const TYPES: [(&str, &str, &[&str]); 15] = [
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html#aws-resource-iam-role-return-values
    ("AWS::IAM::Role", "RoleName", &["Path"]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html#aws-resource-iam-managedpolicy-return-values
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName", &["Path"]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html#aws-resource-iam-policy-return-values
    ("AWS::IAM::Policy", "", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html#aws-resource-s3-bucket-return-values
    ("AWS::S3::Bucket", "BucketName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codecommit-repository.html#aws-resource-codecommit-repository-return-values
    ("AWS::CodeCommit::Repository", "RepositoryName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codebuild-project.html#aws-resource-codebuild-project-return-values
    ("AWS::CodeBuild::Project", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-pipeline.html#aws-resource-codepipeline-pipeline-return-values
    ("AWS::CodePipeline::Pipeline", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-rule.html#aws-resource-events-rule-return-values
    ("AWS::Events::Rule", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html#aws-resource-sns-topic-return-values
    ("AWS::SNS::Topic", "TopicName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codestarnotifications-notificationrule.html#aws-resource-codestarnotifications-notificationrule-return-values
    ("AWS::CodeStarNotifications::NotificationRule", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-model.html#aws-resource-sagemaker-model-return-values
    ("AWS::SageMaker::Model", "ModelName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpointconfig.html#aws-resource-sagemaker-endpointconfig-return-values
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpoint.html#aws-resource-sagemaker-endpoint-return-values
    ("AWS::SageMaker::Endpoint", "EndpointName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html#aws-resource-cloudwatch-alarm-return-values
    ("AWS::CloudWatch::Alarm", "AlarmName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-applicationautoscaling-scalabletarget.html#aws-resource-applicationautoscaling-scalabletarget-return-values
    (
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "",
        &["ResourceId", "ScalableDimension", "ServiceNamespace"],
    ),
];

/// The built-in value of `attribute` ([`REF`] for `Ref`) of a resource of `resource_type`.
pub(super) fn builtin(resource_type: &str, attribute: &str, r: &Identity<'_>) -> Option<String> {
    let name = &r.name;
    Some(match (resource_type, attribute) {
        // Names. An inline policy's Ref and Id are the id CloudFormation generates, not its
        // PolicyName; a new pipeline's Version is 1.
        (
            "AWS::IAM::Role"
            | "AWS::S3::Bucket"
            | "AWS::CodeBuild::Project"
            | "AWS::CodePipeline::Pipeline"
            | "AWS::Events::Rule"
            | "AWS::CloudWatch::Alarm",
            REF,
        )
        | ("AWS::IAM::Policy", REF | "Id")
        | ("AWS::CodeCommit::Repository", "Name")
        | ("AWS::SNS::Topic", "TopicName")
        | ("AWS::SageMaker::Model", "ModelName")
        | ("AWS::SageMaker::EndpointConfig", "EndpointConfigName")
        | ("AWS::SageMaker::Endpoint", "EndpointName") => name.clone(),
        ("AWS::CodePipeline::Pipeline", "Version") => "1".to_owned(),
        // ARNs and ids.
        ("AWS::IAM::Role", "Arn") => r.iam_arn("role"),
        ("AWS::IAM::Role", "RoleId") => r.derived_id("AROA"),
        ("AWS::IAM::ManagedPolicy", REF | "PolicyArn") => r.iam_arn("policy"),
        ("AWS::IAM::ManagedPolicy", "PolicyId") => r.derived_id("ANPA"),
        ("AWS::S3::Bucket", "Arn") => format!("arn:{}:s3:::{name}", r.inputs.partition()),
        ("AWS::CodeCommit::Repository", REF) => uuid(&[r.inputs.stack_name.as_str(), r.logical_id]),
        ("AWS::CodeCommit::Repository", "Arn") => r.arn("codecommit", name),
        ("AWS::CodeBuild::Project", "Arn") => r.arn("codebuild", &format!("project/{name}")),
        ("AWS::Events::Rule", "Arn") => r.arn("events", &format!("rule/{name}")),
        ("AWS::SNS::Topic", REF | "TopicArn") => r.arn("sns", name),
        ("AWS::CodeStarNotifications::NotificationRule", REF | "Arn") => {
            let id = token(&[r.inputs.stack_name.as_str(), r.logical_id], HEX, 40);
            r.arn("codestar-notifications", &format!("notificationrule/{id}"))
        }
        // SageMaker writes names in ARNs in lower case.
        ("AWS::SageMaker::Model", REF) => {
            r.arn("sagemaker", &format!("model/{}", name.to_lowercase()))
        }
        ("AWS::SageMaker::EndpointConfig", REF) => r.arn(
            "sagemaker",
            &format!("endpoint-config/{}", name.to_lowercase()),
        ),
        ("AWS::SageMaker::Endpoint", REF) => {
            r.arn("sagemaker", &format!("endpoint/{}", name.to_lowercase()))
        }
        ("AWS::CloudWatch::Alarm", "Arn") => r.arn("cloudwatch", &format!("alarm:{name}")),
        ("AWS::ApplicationAutoScaling::ScalableTarget", REF | "Id") => {
            let part = |property: &str| r.properties.get(property).map(String::as_str);
            let parts = [
                part("ResourceId")?,
                part("ScalableDimension")?,
                part("ServiceNamespace")?,
            ];
            parts.join("|")
        }
        // Hosts.
        ("AWS::S3::Bucket", "DomainName") => format!("{name}.s3.{}", r.inputs.url_suffix()),
        ("AWS::S3::Bucket", "RegionalDomainName") => format!("{name}.{}", r.host("s3")),
        ("AWS::S3::Bucket", "DualStackDomainName") => format!("{name}.{}", r.host("s3.dualstack")),
        ("AWS::S3::Bucket", "WebsiteURL") => format!("http://{name}.{}", r.host("s3-website")),
        ("AWS::CodeCommit::Repository", "CloneUrlHttp") => {
            format!("https://{}/v1/repos/{name}", r.host("git-codecommit"))
        }
        ("AWS::CodeCommit::Repository", "CloneUrlSsh") => {
            format!("ssh://{}/v1/repos/{name}", r.host("git-codecommit"))
        }
        _ => return None,
    })
}

/// What the built-in rules know of one resource: its name (given or generated) and the other
/// properties its type's rules read.
pub(super) struct Identity<'a> {
    pub(super) inputs: &'a StackInputs,
    pub(super) logical_id: &'a str,
    pub(super) name: String,
    pub(super) properties: BTreeMap<&'a str, String>,
}

impl Identity<'_> {
    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    fn arn(&self, service: &str, resource: &str) -> String {
        let (partition, region, account) = (
            self.inputs.partition(),
            &self.inputs.region,
            &self.inputs.account_id,
        );
        format!("arn:{partition}:{service}:{region}:{account}:{resource}")
    }

    /// An IAM ARN: no Region, and the resource's `Path` (`/` by default) before its name.
    fn iam_arn(&self, kind: &str) -> String {
        let path = self.properties.get("Path").map_or("/", String::as_str);
        let (partition, account) = (self.inputs.partition(), &self.inputs.account_id);
        format!("arn:{partition}:iam::{account}:{kind}{path}{}", self.name)
    }

    /// An id AWS assigns: `prefix` and 17 characters derived from the stack and logical id.
    fn derived_id(&self, prefix: &str) -> String {
        let characters = token(
            &[self.inputs.stack_name.as_str(), self.logical_id, prefix],
            UPPER_ALNUM,
            17,
        );
        format!("{prefix}{characters}")
    }

    /// `<service>.<region>.<url suffix>`.
    fn host(&self, service: &str) -> String {
        format!(
            "{service}.{}.{}",
            self.inputs.region,
            self.inputs.url_suffix()
        )
    }
}

/// `<StackName>-<LogicalId>-<12 characters>`, the characters derived from both names.
pub(super) fn generated_name(inputs: &StackInputs, logical_id: &str) -> String {
    let suffix = token(&[inputs.stack_name.as_str(), logical_id], UPPER_ALNUM, 12);
    format!("{}-{logical_id}-{suffix}", inputs.stack_name)
}
