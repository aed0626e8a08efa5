//! Which requests each create handler permission becomes for one resource of a resolved stack:
//! on which ARN, with which condition keys, or why the handler does not make that call here.
//!
//! A schema lists every call a handler may make, for every property. For one resource:
//! - the create call itself is made on the resource, with its tags as request tags;
//! - a call the create list shares with the read list is made on every create: the create
//!   handler ends by reading the resource back;
//! - a tag call is made when the resource has tags, its own or the stack's (CloudFormation
//!   propagates stack tags to every taggable resource);
//! - a call that configures a property is made when the property is set;
//! - iam:PassRole, kms and s3 calls on other resources are made on the ARN the properties name.
//!
//! Every other permission of a handler is classified below as not called, with the reason; a
//! permission no arm classifies fails the test, so a new one in a newer schema is looked at.

use serde_json::Value as Json;
use test_support::cfn_eval::{ResolvedResource, ResolvedTemplate};

/// One request: the resource ARN (`*` where none exists before the call) and the condition keys
/// the request carries besides the principal's (the caller keeps only those the service
/// authorization reference lists for the action).
#[derive(Debug, Clone)]
pub(crate) struct Call {
    pub(crate) resource: String,
    pub(crate) keys: Vec<(String, Vec<String>)>,
}

/// The requests a permission becomes, or why the handler does not make it for this resource.
pub(crate) type Classified = Result<Vec<Call>, String>;

/// A stack as one account sees it: its resolved template, where, and the stack's tags.
pub(crate) struct Stack<'a> {
    pub(crate) resolved: &'a ResolvedTemplate,
    pub(crate) partition: &'a str,
    pub(crate) region: &'a str,
    pub(crate) account: &'a str,
    pub(crate) propagated_tags: &'a [(String, String)],
}

impl Stack<'_> {
    /// The keys a request on the role `arn` of this stack carries: its boundary.
    fn role_keys(&self, arn: &str) -> Vec<(String, Vec<String>)> {
        let mut roles = self.resolved.of_type("AWS::IAM::Role");
        let role = roles.find(|r| r.arn.as_deref() == Some(arn));
        role.map(boundary_key).unwrap_or_default()
    }
}

fn boundary_key(role: &ResolvedResource) -> Vec<(String, Vec<String>)> {
    let boundary = role.properties["PermissionsBoundary"].as_str();
    let boundary = boundary.map(|b| ("iam:PermissionsBoundary".to_owned(), vec![b.to_owned()]));
    boundary.into_iter().collect()
}

/// One resource of a stack, with what its requests share.
pub(crate) struct Cx<'a> {
    pub(crate) stack: &'a Stack<'a>,
    pub(crate) resource: &'a ResolvedResource,
    /// The resource's own ARN (`*` when it is not known before it exists).
    pub(crate) arn: String,
    /// Its tags: the `Tags` property and, for a taggable type, the stack's.
    pub(crate) tags: Vec<(String, String)>,
    /// The read handler's permissions.
    read: Vec<String>,
    /// Keys every request on the resource carries (a role's boundary, a scalable target's
    /// namespace and dimension).
    own_keys: Vec<(String, Vec<String>)>,
}

impl<'a> Cx<'a> {
    pub(crate) fn new(
        stack: &'a Stack<'a>,
        resource: &'a ResolvedResource,
        taggable: bool,
        read: Vec<String>,
    ) -> Self {
        let mut tags: Vec<(String, String)> = resource.properties["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| {
                Some((
                    t["Key"].as_str()?.to_owned(),
                    t["Value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        if taggable {
            tags.extend(stack.propagated_tags.iter().cloned());
        }
        let arn = own_arn(stack, resource);
        let own_keys = own_keys(resource);
        Cx {
            stack,
            resource,
            arn,
            tags,
            read,
            own_keys,
        }
    }

    fn props(&self) -> &Json {
        &self.resource.properties
    }

    /// The values at `path`, a JSON pointer whose `*` segments stand for every list item.
    fn at(&self, path: &str) -> Vec<&'a Json> {
        let mut found = vec![&self.resource.properties];
        for segment in path.split('/').skip(1) {
            found = found
                .into_iter()
                .flat_map(|value| match (segment, value) {
                    ("*", Json::Array(items)) => items.iter().collect(),
                    (key, Json::Object(map)) => map.get(key).into_iter().collect(),
                    _ => Vec::new(),
                })
                .collect();
        }
        found
    }

    fn texts(&self, path: &str) -> Vec<String> {
        let found = self.at(path).into_iter();
        found.filter_map(Json::as_str).map(str::to_owned).collect()
    }

    fn request_tags(&self) -> Vec<(String, Vec<String>)> {
        let mut keys: Vec<(String, Vec<String>)> = (self.tags.iter())
            .map(|(k, v)| (format!("aws:RequestTag/{k}"), vec![v.clone()]))
            .collect();
        if !self.tags.is_empty() {
            let names = self.tags.iter().map(|(k, _)| k.clone()).collect();
            keys.push(("aws:TagKeys".to_owned(), names));
        }
        keys
    }

    /// A call on the resource once it exists: it carries its tags.
    pub(crate) fn itself(&self) -> Call {
        let mut keys = self.own_keys.clone();
        keys.extend(
            (self.tags.iter()).map(|(k, v)| (format!("aws:ResourceTag/{k}"), vec![v.clone()])),
        );
        Call {
            resource: self.arn.clone(),
            keys,
        }
    }

    /// The call that creates the resource (or tags it): its tags are the request's.
    pub(crate) fn creating(&self) -> Call {
        let mut keys = self.own_keys.clone();
        keys.extend(self.request_tags());
        Call {
            resource: self.arn.clone(),
            keys,
        }
    }

    fn tagging(&self) -> Classified {
        if self.tags.is_empty() {
            return Err("the resource has no tags, and its stack none".to_owned());
        }
        Ok(vec![self.creating()])
    }

    /// A call on the resource that configures one of `paths`, made when one is set.
    fn when(&self, paths: &[&str]) -> Classified {
        if paths.iter().any(|p| !self.at(p).is_empty()) {
            Ok(vec![self.itself()])
        } else {
            Err(format!(
                "configures {}, which the resource does not set",
                paths.join(", ")
            ))
        }
    }

    /// iam:PassRole of every role the properties at `paths` name, to `service`.
    fn pass_role(&self, paths: &[&str], service: &str) -> Classified {
        let roles: Vec<String> = paths.iter().flat_map(|p| self.texts(p)).collect();
        if roles.is_empty() {
            return Err(format!(
                "passes the role of {}, which the resource does not set",
                paths.join(", ")
            ));
        }
        let passed = ("iam:PassedToService".to_owned(), vec![service.to_owned()]);
        Ok(roles
            .into_iter()
            .map(|role| {
                let mut keys = self.stack.role_keys(&role);
                keys.push(passed.clone());
                Call {
                    resource: role,
                    keys,
                }
            })
            .collect())
    }

    /// A call on each role the properties at `path` name (iam:GetRole of a service role).
    fn on_roles(&self, path: &str) -> Classified {
        let roles = self.texts(path);
        if roles.is_empty() {
            return Err(format!(
                "reads the role of {path}, which the resource does not set"
            ));
        }
        let call = |role: String| Call {
            keys: self.stack.role_keys(&role),
            resource: role,
        };
        Ok(roles.into_iter().map(call).collect())
    }

    fn kms_key(&self, id: &str) -> String {
        let Stack {
            partition,
            region,
            account,
            ..
        } = self.stack;
        if id.starts_with("arn:") {
            id.to_owned()
        } else if id.starts_with("alias/") {
            format!("arn:{partition}:kms:{region}:{account}:{id}")
        } else {
            format!("arn:{partition}:kms:{region}:{account}:key/{id}")
        }
    }

    fn in_read(&self, action: &str) -> bool {
        self.read.iter().any(|r| r == action)
    }
}

/// The resource's ARN: cfn_eval's, or built where it gives none.
fn own_arn(stack: &Stack<'_>, resource: &ResolvedResource) -> String {
    let Stack {
        partition,
        region,
        account,
        ..
    } = stack;
    let name = resource.physical_id.as_ref().and_then(Json::as_str);
    match resource.resource_type.as_str() {
        // https://docs.aws.amazon.com/service-authorization/latest/reference/list_awscodepipeline.html#awscodepipeline-resources-for-iam-policies
        "AWS::CodePipeline::Pipeline" => {
            let name = name.expect("a pipeline's Ref is its name");
            format!("arn:{partition}:codepipeline:{region}:{account}:{name}")
        }
        // A bucket policy is the bucket's.
        "AWS::S3::BucketPolicy" => {
            let bucket = resource.properties["Bucket"].as_str().expect("a Bucket");
            format!("arn:{partition}:s3:::{bucket}")
        }
        // Application Auto Scaling gives a scalable target its ARN (with a generated id) when
        // it registers it: only a statement on "*" grants the calls around it.
        "AWS::ApplicationAutoScaling::ScalableTarget"
        | "AWS::ApplicationAutoScaling::ScalingPolicy" => "*".to_owned(),
        other => resource.arn.clone().unwrap_or_else(|| {
            panic!(
                "{}: cfn_eval gives no ARN of a {other}",
                resource.logical_id
            )
        }),
    }
}

fn own_keys(resource: &ResolvedResource) -> Vec<(String, Vec<String>)> {
    let p = &resource.properties;
    let key =
        |name: &str, value: Option<&str>| value.map(|v| (name.to_owned(), vec![v.to_owned()]));
    match resource.resource_type.as_str() {
        // IAM sets iam:PermissionsBoundary from the boundary a role has, or is given.
        "AWS::IAM::Role" => boundary_key(resource),
        "AWS::ApplicationAutoScaling::ScalableTarget" => [
            key(
                "application-autoscaling:service-namespace",
                p["ServiceNamespace"].as_str(),
            ),
            key(
                "application-autoscaling:scalable-dimension",
                p["ScalableDimension"].as_str(),
            ),
        ]
        .into_iter()
        .flatten()
        .collect(),
        // ScalingTargetId is the target's Ref: resource id|dimension|namespace.
        "AWS::ApplicationAutoScaling::ScalingPolicy" => {
            let target = p["ScalingTargetId"].as_str().unwrap_or_default();
            let parts: Vec<&str> = target.split('|').collect();
            let (dimension, namespace) = match parts.as_slice() {
                [_, dimension, namespace] => (Some(*dimension), Some(*namespace)),
                _ => (
                    p["ScalableDimension"].as_str(),
                    p["ServiceNamespace"].as_str(),
                ),
            };
            [
                key("application-autoscaling:service-namespace", namespace),
                key("application-autoscaling:scalable-dimension", dimension),
            ]
            .into_iter()
            .flatten()
            .collect()
        }
        _ => Vec::new(),
    }
}

/// What the handler's permission `action` becomes for the resource of `cx`. Panics on a
/// permission no arm classifies.
// One arm per permission (grouped by type, so arms repeat) keeps each reason next to its call.
#[allow(clippy::too_many_lines, clippy::match_same_arms)]
pub(crate) fn classify(cx: &Cx<'_>, action: &str) -> Classified {
    let not = |reason: &str| Err(reason.to_owned());
    match (cx.resource.resource_type.as_str(), action) {
        // ---- AWS::S3::Bucket ---------------------------------------------------------------
        ("AWS::S3::Bucket", "s3:CreateBucket") => Ok(vec![cx.creating()]),
        // s3:TagResource: a bucket created with tags
        // (https://docs.aws.amazon.com/AmazonS3/latest/API/API_CreateBucketConfiguration.html).
        ("AWS::S3::Bucket", "s3:PutBucketTagging" | "s3:TagResource") => cx.tagging(),
        ("AWS::S3::Bucket", "s3:PutBucketAbac") => cx.when(&["/AbacStatus"]),
        ("AWS::S3::Bucket", "s3:PutAnalyticsConfiguration") => {
            cx.when(&["/AnalyticsConfigurations"])
        }
        ("AWS::S3::Bucket", "s3:PutEncryptionConfiguration") => cx.when(&["/BucketEncryption"]),
        ("AWS::S3::Bucket", "s3:PutBucketCORS") => cx.when(&["/CorsConfiguration"]),
        ("AWS::S3::Bucket", "s3:PutInventoryConfiguration") => {
            cx.when(&["/InventoryConfigurations"])
        }
        ("AWS::S3::Bucket", "s3:PutLifecycleConfiguration") => {
            cx.when(&["/LifecycleConfiguration"])
        }
        ("AWS::S3::Bucket", "s3:PutMetricsConfiguration") => cx.when(&["/MetricsConfigurations"]),
        ("AWS::S3::Bucket", "s3:PutBucketNotification") => cx.when(&["/NotificationConfiguration"]),
        ("AWS::S3::Bucket", "s3:PutBucketReplication" | "s3:PutReplicationConfiguration") => {
            cx.when(&["/ReplicationConfiguration"])
        }
        ("AWS::S3::Bucket", "s3:PutBucketWebsite") => cx.when(&["/WebsiteConfiguration"]),
        ("AWS::S3::Bucket", "s3:PutAccelerateConfiguration") => {
            cx.when(&["/AccelerateConfiguration"])
        }
        ("AWS::S3::Bucket", "s3:PutBucketPublicAccessBlock") => {
            cx.when(&["/PublicAccessBlockConfiguration"])
        }
        (
            "AWS::S3::Bucket",
            "s3:PutBucketObjectLockConfiguration" | "s3:PutObjectLockConfiguration",
        ) => cx.when(&["/ObjectLockConfiguration", "/ObjectLockEnabled"]),
        ("AWS::S3::Bucket", "s3:PutBucketLogging") => cx.when(&["/LoggingConfiguration"]),
        ("AWS::S3::Bucket", "s3:PutBucketVersioning") => cx.when(&["/VersioningConfiguration"]),
        ("AWS::S3::Bucket", "s3:PutBucketOwnershipControls") => cx.when(&["/OwnershipControls"]),
        ("AWS::S3::Bucket", "s3:PutIntelligentTieringConfiguration") => {
            cx.when(&["/IntelligentTieringConfigurations"])
        }
        // S3 Metadata writes its journal and inventory into S3 tables.
        ("AWS::S3::Bucket", a)
            if a.starts_with("s3tables:") || a == "s3:CreateBucketMetadataTableConfiguration" =>
        {
            cx.when(&["/MetadataConfiguration", "/MetadataTableConfiguration"])
        }
        ("AWS::S3::Bucket", "iam:PassRole") => {
            cx.pass_role(&["/ReplicationConfiguration/Role"], "s3.amazonaws.com")
        }
        // Deliberately not needed: ACL and object writes. A new bucket holds no object, and with
        // S3's default ObjectOwnership (BucketOwnerEnforced) ACLs are off; they serve
        // AccessControl and log delivery, which the bucket does not set. AWS's managed launch
        // policy, written for SageMaker's own project templates that create such a bucket,
        // grants none of them on any bucket.
        ("AWS::S3::Bucket", "s3:GetBucketAcl" | "s3:PutObjectAcl" | "s3:DeleteObject") => {
            match cx.when(&["/AccessControl", "/LoggingConfiguration"]) {
                Ok(calls) => Ok(calls),
                Err(_) => not("ACLs and object writes of AccessControl and log delivery; a new bucket holds no object"),
            }
        }

        // ---- AWS::S3::BucketPolicy ---------------------------------------------------------
        ("AWS::S3::BucketPolicy", "s3:PutBucketPolicy") => Ok(vec![cx.creating()]),

        // ---- AWS::IAM::Role ----------------------------------------------------------------
        ("AWS::IAM::Role", "iam:CreateRole") => Ok(vec![cx.creating()]),
        ("AWS::IAM::Role", "iam:PutRolePolicy") => cx.when(&["/Policies"]),
        ("AWS::IAM::Role", "iam:AttachRolePolicy") => {
            let policies = cx.texts("/ManagedPolicyArns/*");
            if policies.is_empty() {
                return not("attaches ManagedPolicyArns, which the role does not set");
            }
            let call = |policy: String| {
                let mut call = cx.itself();
                call.keys.push(("iam:PolicyARN".to_owned(), vec![policy]));
                call
            };
            Ok(policies.into_iter().map(call).collect())
        }
        ("AWS::IAM::Role", "iam:TagRole" | "iam:UntagRole") => cx.tagging(),

        // ---- AWS::CodeBuild::Project (no handlers; see pinned::WITHOUT_HANDLERS) -----------
        ("AWS::CodeBuild::Project", "codebuild:CreateProject") => Ok(vec![cx.creating()]),
        ("AWS::CodeBuild::Project", "iam:PassRole") => {
            cx.pass_role(&["/ServiceRole"], "codebuild.amazonaws.com")
        }

        // ---- AWS::CodePipeline::Pipeline ---------------------------------------------------
        ("AWS::CodePipeline::Pipeline", "codepipeline:CreatePipeline") => Ok(vec![cx.creating()]),
        ("AWS::CodePipeline::Pipeline", "codepipeline:TagResource") => cx.tagging(),
        ("AWS::CodePipeline::Pipeline", "codepipeline:DisableStageTransition") => {
            cx.when(&["/DisableInboundStageTransitions"])
        }
        ("AWS::CodePipeline::Pipeline", "iam:GetRole") => cx.on_roles("/RoleArn"),
        ("AWS::CodePipeline::Pipeline", "iam:PassRole") => cx.pass_role(
            &["/RoleArn", "/Stages/*/Actions/*/RoleArn"],
            "codepipeline.amazonaws.com",
        ),
        ("AWS::CodePipeline::Pipeline", "codestar-connections:PassConnection") => {
            let connections = cx.texts("/Stages/*/Actions/*/Configuration/ConnectionArn");
            if connections.is_empty() {
                return not("passes a source action's ConnectionArn; no action names one");
            }
            let passed = "codestar-connections:PassedToService".to_owned();
            let call = |connection: String| Call {
                resource: connection,
                keys: vec![(
                    passed.clone(),
                    vec!["codepipeline.amazonaws.com".to_owned()],
                )],
            };
            Ok(connections.into_iter().map(call).collect())
        }

        // ---- AWS::Events::Rule -------------------------------------------------------------
        ("AWS::Events::Rule", "events:PutRule") => Ok(vec![cx.creating()]),
        ("AWS::Events::Rule", "events:PutTargets") => cx.when(&["/Targets"]),
        ("AWS::Events::Rule", "events:TagResource") => cx.tagging(),
        ("AWS::Events::Rule", "iam:PassRole") => {
            cx.pass_role(&["/RoleArn", "/Targets/*/RoleArn"], "events.amazonaws.com")
        }

        // ---- AWS::CodeCommit::Repository ---------------------------------------------------
        ("AWS::CodeCommit::Repository", "codecommit:CreateRepository") => Ok(vec![cx.creating()]),
        ("AWS::CodeCommit::Repository", "codecommit:PutRepositoryTriggers") => {
            cx.when(&["/Triggers"])
        }
        ("AWS::CodeCommit::Repository", "codecommit:CreateCommit") => cx.when(&["/Code"]),
        ("AWS::CodeCommit::Repository", "codecommit:TagResource") => cx.tagging(),
        // CodeCommit reads Code.S3 with the caller's credentials.
        ("AWS::CodeCommit::Repository", "s3:GetObject" | "s3:GetObjectVersion") => {
            let (bucket, key) = (cx.texts("/Code/S3/Bucket"), cx.texts("/Code/S3/Key"));
            let ([bucket], [key]) = (bucket.as_slice(), key.as_slice()) else {
                return not("reads Code.S3, which the repository does not set");
            };
            if action == "s3:GetObjectVersion" && cx.at("/Code/S3/ObjectVersion").is_empty() {
                return not("reads a given Code.S3.ObjectVersion; the repository names none");
            }
            let partition = cx.stack.partition;
            Ok(vec![Call {
                resource: format!("arn:{partition}:s3:::{bucket}/{key}"),
                keys: Vec::new(),
            }])
        }

        // ---- AWS::SageMaker::Model, EndpointConfig, Endpoint -------------------------------
        ("AWS::SageMaker::Model", "sagemaker:CreateModel")
        | ("AWS::SageMaker::EndpointConfig", "sagemaker:CreateEndpointConfig") => {
            Ok(vec![cx.creating()])
        }
        (
            "AWS::SageMaker::Model" | "AWS::SageMaker::EndpointConfig" | "AWS::SageMaker::Endpoint",
            "sagemaker:AddTags",
        ) => cx.tagging(),
        ("AWS::SageMaker::Model" | "AWS::SageMaker::EndpointConfig", "iam:PassRole") => {
            cx.pass_role(&["/ExecutionRoleArn"], "sagemaker.amazonaws.com")
        }
        // The volume key (KmsKeyId). DataCaptureConfig.KmsKeyId is used by the model's execution
        // role when SageMaker writes captured data, not by whoever creates the configuration
        // (https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DataCaptureConfig.html).
        ("AWS::SageMaker::EndpointConfig", "kms:DescribeKey") => {
            let keys = cx.texts("/KmsKeyId");
            if keys.is_empty() {
                return not(
                    "describes the volume key KmsKeyId, which the configuration does not set",
                );
            }
            Ok(keys
                .iter()
                .map(|k| Call {
                    resource: cx.kms_key(k),
                    keys: Vec::new(),
                })
                .collect())
        }
        // CreateEndpoint authorizes on the endpoint and on the configuration it names
        // (https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonsagemaker.html).
        ("AWS::SageMaker::Endpoint", "sagemaker:CreateEndpoint") => {
            let name = cx.props()["EndpointConfigName"]
                .as_str()
                .unwrap_or_default();
            let mut configs = cx.stack.resolved.of_type("AWS::SageMaker::EndpointConfig");
            let config =
                configs.find(|c| c.physical_id.as_ref().and_then(Json::as_str) == Some(name));
            let config = config.and_then(|c| c.arn.clone()).unwrap_or_else(|| {
                let Stack {
                    partition,
                    region,
                    account,
                    ..
                } = cx.stack;
                let name = name.to_lowercase();
                format!("arn:{partition}:sagemaker:{region}:{account}:endpoint-config/{name}")
            });
            let endpoint = cx.creating();
            let on_config = Call {
                resource: config,
                keys: endpoint.keys.clone(),
            };
            Ok(vec![endpoint, on_config])
        }

        // ---- AWS::CloudWatch::Alarm --------------------------------------------------------
        ("AWS::CloudWatch::Alarm", "cloudwatch:PutMetricAlarm") => Ok(vec![cx.creating()]),
        ("AWS::CloudWatch::Alarm", "cloudwatch:TagResource") => cx.tagging(),

        // ---- AWS::ApplicationAutoScaling::ScalableTarget -----------------------------------
        (
            "AWS::ApplicationAutoScaling::ScalableTarget",
            "application-autoscaling:RegisterScalableTarget",
        ) => Ok(vec![cx.creating()]),
        (
            "AWS::ApplicationAutoScaling::ScalableTarget",
            "application-autoscaling:PutScheduledAction",
        ) => cx.when(&["/ScheduledActions"]),
        ("AWS::ApplicationAutoScaling::ScalableTarget", "application-autoscaling:TagResource") => {
            cx.tagging()
        }
        ("AWS::ApplicationAutoScaling::ScalableTarget", "iam:PassRole") => {
            cx.pass_role(&["/RoleARN"], "application-autoscaling.amazonaws.com")
        }
        // Without a RoleARN the target uses the namespace's service-linked role, which
        // Application Auto Scaling creates on first use
        // (https://docs.aws.amazon.com/autoscaling/application/userguide/application-auto-scaling-service-linked-roles.html).
        ("AWS::ApplicationAutoScaling::ScalableTarget", "iam:CreateServiceLinkedRole") => {
            if !cx.at("/RoleARN").is_empty() {
                return not("the target names its own RoleARN");
            }
            let namespace = cx.props()["ServiceNamespace"].as_str().unwrap_or_default();
            let (service, role) = match namespace {
                "sagemaker" => (
                    "sagemaker.application-autoscaling.amazonaws.com",
                    "AWSServiceRoleForApplicationAutoScaling_SageMakerEndpoint",
                ),
                other => panic!("name the service-linked role of namespace {other} here"),
            };
            let Stack {
                partition, account, ..
            } = cx.stack;
            Ok(vec![Call {
                resource: format!(
                    "arn:{partition}:iam::{account}:role/aws-service-role/{service}/{role}"
                ),
                keys: vec![("iam:AWSServiceName".to_owned(), vec![service.to_owned()])],
            }])
        }
        // Deliberately not needed: a target-tracking policy's alarms are created and deleted by
        // Application Auto Scaling's service-linked role, not by the caller; a scalable target
        // alone has none.
        ("AWS::ApplicationAutoScaling::ScalableTarget", a) if a.starts_with("cloudwatch:") => {
            not("alarms of Application Auto Scaling, made by its service-linked role")
        }
        ("AWS::ApplicationAutoScaling::ScalableTarget", a) if a.starts_with("lambda:") => {
            if cx.props()["ServiceNamespace"].as_str() == Some("lambda") {
                Ok(vec![cx.itself()])
            } else {
                not("provisioned concurrency of the lambda namespace")
            }
        }

        // ---- AWS::ApplicationAutoScaling::ScalingPolicy ------------------------------------
        (
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            "application-autoscaling:PutScalingPolicy",
        ) => Ok(vec![cx.creating()]),
        // Predictive scaling forecasts from the metric's history.
        ("AWS::ApplicationAutoScaling::ScalingPolicy", "cloudwatch:GetMetricData") => {
            cx.when(&["/PredictiveScalingPolicyConfiguration"])
        }

        // ---- Every type: the read-back --------------------------------------------------------
        (_, a) if cx.in_read(a) => Ok(vec![cx.itself()]),
        (resource_type, a) => panic!(
            "{resource_type}'s create handler lists {a}, which tests/iam_launch/handlers.rs does \
             not classify: say when CloudFormation calls it, or why it does not"
        ),
    }
}
