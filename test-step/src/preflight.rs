//! `test-step preflight` for one target: before a stage's StackSet deploys, the checks that the
//! account is ready for it, each `passed`, `failed` or `skipped` (the role may not run it) with
//! one line naming the account, Region, role or resource and the fix:
//!
//! - `assume-role`: test-step's role in the account can be assumed;
//! - `execution-role`: the model's execution role (the build config's RoleName) exists and
//!   trusts SageMaker; `deploy-role`: the StackSet execution role (`--deploy-role-name`) exists
//!   and trusts the administration role (`--deploy-admin-role-arn`), judged by
//!   `deploy_core::trust`;
//! - `model-artifacts` and `model-image`: the execution role may read the package's artifacts
//!   (S3, and the bucket's KMS key) and its image (ECR): the role's own policies judged by IAM's
//!   policy simulator
//!   (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>),
//!   and for a bucket of another account its policy, read with the pipeline's role, by
//!   `deploy_core::grants`;
//! - `capacity`: the quota minus what the account's endpoints use covers the stage
//!   (`deploy_core::capacity`);
//! - `endpoint-name`: `<project>-<stage>` is free, or is this project's stack's.
//!
//! The buckets' policies live in the pipeline's account and are read once per run
//! ([`ModelSources`]); every call in a target is a read its session policy allows, and nothing
//! is written or invoked.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_config::SdkConfig;
use deploy_core::capacity::Demand;
use deploy_core::fleet::{Check, CheckOutcome, FleetTarget};
use deploy_core::grants::{allows, trusts, Trustee};
use deploy_core::model_source::{Artifact, Image};
use deploy_core::targets::Target;
use deploy_core::verdict::{AwsErrorKind, Cause};
use deploy_shell::pages::{all_pages, first_item};
use deploy_shell::AwsCallError;

use crate::cli::Args;
use crate::clock::Clock;
use crate::config::RunConfig;
use crate::session::{ClientFactory, RoleToAssume, Session};

const ASSUME_ROLE: &str = "assume-role";
const EXECUTION_ROLE: &str = "execution-role";
const DEPLOY_ROLE: &str = "deploy-role";
const ARTIFACTS: &str = "model-artifacts";
const IMAGE: &str = "model-image";
const CAPACITY: &str = "capacity";
const ENDPOINT_NAME: &str = "endpoint-name";

/// The checks after `assume-role`, in report order.
const AFTER_ASSUME: [&str; 6] = [
    EXECUTION_ROLE,
    DEPLOY_ROLE,
    ARTIFACTS,
    IMAGE,
    CAPACITY,
    ENDPOINT_NAME,
];

/// The service principal the model's execution role must trust.
const SAGEMAKER: &str = "sagemaker.amazonaws.com";

/// A resource policy as the pipeline's role could read it.
#[derive(Debug, Clone)]
enum PolicyRead {
    Found(String),
    /// The resource has no policy of its own.
    None,
    /// Why it could not be read (denied, or the call failed).
    Unreadable(String),
}

impl PolicyRead {
    fn of<T>(
        read: Result<T, AwsCallError>,
        absent_code: &str,
        policy: impl FnOnce(T) -> Option<String>,
    ) -> Self {
        match read {
            Ok(out) => policy(out).map_or(PolicyRead::None, PolicyRead::Found),
            Err(err) if err.code() == Some(absent_code) => PolicyRead::None,
            Err(err) => PolicyRead::Unreadable(err.to_string()),
        }
    }
}

/// A resource the execution role must reach, and what it takes.
#[derive(Debug, Clone)]
struct Resource {
    /// What people call it (`s3://bucket/key`, the image URI, the key ARN).
    label: String,
    arn: String,
    actions: Vec<&'static str>,
    policy: PolicyRead,
    /// The owning account's id, when known.
    owner: Option<String>,
    /// Where a grant is missing, what to change.
    fix: &'static str,
}

/// What the exported package's model reads, with the resources' policies, read once per run
/// with the pipeline's own credentials.
pub(crate) struct ModelSources {
    /// Why the package could not be described; the artifact and image checks are skipped.
    unreadable: Option<String>,
    artifacts: Vec<Resource>,
    images: Vec<Resource>,
    /// Images that are not in ECR (nothing of the account's IAM decides access to them).
    other_images: Vec<String>,
}

impl ModelSources {
    /// DescribeModelPackage, then each artifact bucket's policy and default encryption key. A
    /// read that fails leaves that policy unknown (the check of a resource of another account is
    /// then skipped with the reason), never the run. Key policies and repository policies are not
    /// read: their SDKs would take test-step over its size budget, so a key or a repository of
    /// another account is skipped, saying which grant to check.
    pub(crate) async fn read(sdk_config: &SdkConfig, partition: &str, package: &str) -> Self {
        let sagemaker = aws_sdk_sagemaker::Client::new(sdk_config);
        let described = sagemaker
            .describe_model_package()
            .model_package_name(package)
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:DescribeModelPackage", e));
        let described = match described {
            Ok(out) => out,
            Err(err) => {
                tracing::warn!("preflight cannot read the model package: {err}");
                return Self {
                    unreadable: Some(format!(
                        "the model package {package} could not be described with the pipeline's role ({err})"
                    )),
                    artifacts: Vec::new(),
                    images: Vec::new(),
                    other_images: Vec::new(),
                };
            }
        };
        let package_account = package.split(':').nth(4).unwrap_or_default();
        let containers = described
            .inference_specification()
            .map(aws_sdk_sagemaker::types::InferenceSpecification::containers)
            .unwrap_or_default();
        // Emulators and other S3-compatible endpoints given by URL take path-style requests.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk_config)
                .force_path_style(sdk_config.endpoint_url().is_some())
                .build(),
        );
        let mut artifacts = Vec::new();
        let mut buckets: BTreeMap<String, (PolicyRead, Option<String>)> = BTreeMap::new();
        let urls = containers.iter().filter_map(|c| {
            c.model_data_url().or_else(|| {
                c.model_data_source()
                    .and_then(|s| s.s3_data_source())
                    .and_then(|s| s.s3_uri())
            })
        });
        for url in urls {
            let Some(artifact) = Artifact::parse(url) else {
                continue;
            };
            if !buckets.contains_key(&artifact.bucket) {
                let policy = PolicyRead::of(
                    s3.get_bucket_policy()
                        .bucket(&artifact.bucket)
                        .send()
                        .await
                        .map_err(|e| AwsCallError::new("s3:GetBucketPolicy", e)),
                    "NoSuchBucketPolicy",
                    |out| out.policy().map(str::to_owned),
                );
                let key = bucket_key(&s3, &artifact.bucket, partition, package).await;
                buckets.insert(artifact.bucket.clone(), (policy, key));
            }
            let (policy, key) = buckets[&artifact.bucket].clone();
            // A bucket whose policy the pipeline's role read is taken to be its account's.
            let owner =
                (!matches!(policy, PolicyRead::Unreadable(_))).then(|| package_account.to_owned());
            artifacts.push(Resource {
                label: url.to_owned(),
                arn: artifact.object_arn(partition),
                actions: vec!["s3:GetObject"],
                policy,
                owner,
                fix: "allow it in the execution role's policy (the role template's ModelArtifactBucketArn and ModelArtifactKeyPrefix) and, for a bucket of another account, in the bucket policy for this account",
            });
            if let Some(key) = key {
                let owner = key.split(':').nth(4).map(str::to_owned);
                artifacts.push(Resource {
                    label: key.clone(),
                    policy: PolicyRead::Unreadable(format!(
                        "test-step reads no KMS key policy; check that the policy of key {key} grants this account kms:Decrypt"
                    )),
                    arn: key,
                    actions: vec!["kms:Decrypt"],
                    owner,
                    fix: "allow kms:Decrypt in the execution role's policy (the role template's ModelArtifactKmsKeyArn) and in the key policy for this account",
                });
            }
        }
        let mut images = Vec::new();
        let mut other_images = Vec::new();
        for uri in containers.iter().filter_map(|c| c.image()) {
            let Some(image) = Image::parse(uri) else {
                other_images.push(uri.to_owned());
                continue;
            };
            let policy = PolicyRead::Unreadable(format!(
                "test-step reads no ECR repository policy; check that the policy of repository {} grants this account ecr:BatchGetImage and ecr:GetDownloadUrlForLayer",
                image.repository
            ));
            images.push(Resource {
                label: uri.to_owned(),
                arn: image.repository_arn(partition),
                actions: vec!["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                policy,
                owner: Some(image.account_id.clone()),
                fix: "allow it in the execution role's policy (the role template's ModelImageRepositoryArns) and, for a repository of another account, in the repository policy for this account",
            });
        }
        Self {
            unreadable: None,
            artifacts,
            images,
            other_images,
        }
    }
}

/// The KMS key a bucket encrypts new objects with by default, as an ARN; `None` when it uses
/// S3's own keys or its encryption could not be read (logged).
async fn bucket_key(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    partition: &str,
    package: &str,
) -> Option<String> {
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| AwsCallError::new("s3:GetEncryptionConfiguration", e));
    let out = match encryption {
        Ok(out) => out,
        Err(err) => {
            if err.code() != Some("ServerSideEncryptionConfigurationNotFoundError") {
                tracing::warn!(
                    "preflight cannot read the default encryption of bucket {bucket}: {err}"
                );
            }
            return None;
        }
    };
    let key = out
        .server_side_encryption_configuration()?
        .rules()
        .iter()
        .filter_map(|rule| rule.apply_server_side_encryption_by_default())
        .find(|default| default.sse_algorithm().as_str().starts_with("aws:kms"))?
        .kms_master_key_id()?
        .to_owned();
    if key.starts_with("arn:") {
        return Some(key);
    }
    // A key id alone is a key of the bucket's account and Region: the package's.
    let mut parts = package.split(':');
    let (region, account) = (parts.nth(3)?, parts.next()?);
    Some(format!("arn:{partition}:kms:{region}:{account}:key/{key}"))
}

/// How the role's own policies decided one simulated action: the decision itself, or for a
/// resource of another account (where the simulator asks the resource's policy too, and none was
/// given) the identity side of `EvalDecisionDetails`
/// (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html>); `None`
/// when the answer does not say.
fn identity_decision(result: &aws_sdk_iam::types::EvaluationResult) -> Option<&str> {
    let decision = result.eval_decision().as_str();
    if decision != "implicitDeny" {
        return Some(decision);
    }
    match result.eval_decision_details() {
        Some(details) if !details.is_empty() => details
            .iter()
            .find(|(side, _)| side.to_ascii_lowercase().contains("iam"))
            .map(|(_, decision)| decision.as_str()),
        _ => Some(decision),
    }
}

/// Everything every target's preflight shares.
pub(crate) struct Preflight {
    role: RoleToAssume,
    factory: Arc<dyn ClientFactory>,
    clock: Arc<dyn Clock>,
    endpoint_name: String,
    project_id: Option<String>,
    execution_role: Option<String>,
    deploy_role: Option<String>,
    admin_role: Option<String>,
    demand: Result<Demand, String>,
    sources: ModelSources,
}

impl Preflight {
    pub(crate) fn new(
        config: &RunConfig,
        args: &Args,
        role: RoleToAssume,
        factory: Arc<dyn ClientFactory>,
        clock: Arc<dyn Clock>,
        sources: ModelSources,
    ) -> Self {
        let deployment = &config.deployment;
        let settings = &deployment.settings;
        let demand = match (
            settings.serverless_memory_mb,
            &settings.instance_type,
            deployment.serverless_max_concurrency,
        ) {
            (Some(_), _, Some(max)) => Ok(Demand::Serverless {
                max_concurrency: i64::from(max),
            }),
            (Some(_), _, None) => Err("the build config sets no ServerlessMaxConcurrency; set it in the stage config to have the serverless concurrency checked".to_owned()),
            (None, Some(instance_type), _) => Ok(Demand::Instances {
                instance_type: instance_type.clone(),
                count: i64::from(settings.instance_count.unwrap_or(1)),
            }),
            (None, None, _) => Err("the build config sets no EndpointInstanceType (the template's default applies); set it in the stage config to have its quota checked".to_owned()),
        };
        let given = |value: &Option<String>| deploy_shell::cli::non_empty(value).map(str::to_owned);
        Self {
            role,
            factory,
            clock,
            endpoint_name: deployment.endpoint_name.clone(),
            project_id: deployment.project_id.clone(),
            execution_role: deployment.role_name.clone(),
            deploy_role: given(&args.deploy_role_name),
            admin_role: given(&args.deploy_admin_role_arn),
            demand,
            sources,
        }
    }

    /// The preflight of one target, holding `slot` while it makes calls; never fails.
    pub(crate) async fn check(&self, target: &Target, report: &mut FleetTarget) {
        let place = format!("account {} region {}", target.account_id, target.region);
        match Session::open(
            self.role.clone(),
            self.factory.clone(),
            self.clock.clone(),
            target.clone(),
        )
        .await
        {
            Ok(mut session) => {
                report.checks.push(Check::passed(
                    ASSUME_ROLE,
                    format!("assumed {} in {place}", session.role_arn()),
                ));
                let mut run = TargetRun {
                    preflight: self,
                    session: &mut session,
                    target,
                    place: &place,
                };
                report.checks.extend(run.checks().await);
            }
            Err(cause) => {
                let denied = matches!(
                    cause,
                    Cause::Aws {
                        kind: AwsErrorKind::AccessDenied,
                        ..
                    }
                );
                report.checks.push(Check::new(
                    ASSUME_ROLE,
                    if denied {
                        CheckOutcome::Failed
                    } else {
                        CheckOutcome::Error
                    },
                    cause.to_string(),
                ));
                for name in AFTER_ASSUME {
                    report.checks.push(Check::skipped(
                        name,
                        "not run: the role could not be assumed",
                    ));
                }
            }
        }
    }
}

/// A role as GetRole found it.
enum RoleRead {
    /// Its trust policy.
    Trust(String),
    /// It does not exist: the check says so.
    Missing(Check),
    /// It could not be read: the check says why.
    Unread(Check),
}

/// One target's checks after the role was assumed.
struct TargetRun<'a> {
    preflight: &'a Preflight,
    session: &'a mut Session,
    target: &'a Target,
    place: &'a str,
}

impl TargetRun<'_> {
    async fn checks(&mut self) -> Vec<Check> {
        let (execution, execution_missing) = self.execution_role().await;
        let deploy = self.deploy_role().await;
        let (artifacts, image) = if execution_missing {
            let why = "not run: the execution role does not exist (see execution-role)";
            (Check::skipped(ARTIFACTS, why), Check::skipped(IMAGE, why))
        } else {
            let sources = &self.preflight.sources;
            (
                self.may_read(ARTIFACTS, &sources.artifacts, "artifacts")
                    .await,
                self.image().await,
            )
        };
        let capacity = self.capacity().await;
        let name = self.endpoint_name().await;
        vec![execution, deploy, artifacts, image, capacity, name]
    }

    /// A check that a call failed: skipped when the role may not make it (it is the role's
    /// policy that lacks it, named), an error otherwise.
    fn not_run(&self, name: &str, err: &AwsCallError) -> Check {
        if err.is_access_denied() {
            Check::skipped(
                name,
                format!("not run in {}: {}", self.place, self.session.explain(err)),
            )
        } else {
            Check::error(name, format!("{} in {}", err, self.place))
        }
    }

    async fn iam(&mut self) -> Result<aws_sdk_iam::Client, Check> {
        match self.session.config().await {
            Ok(config) => Ok(aws_sdk_iam::Client::new(&config)),
            Err(cause) => Err(Check::error(EXECUTION_ROLE, cause.to_string())),
        }
    }

    /// GetRole `name`: its trust policy, or the check that says why there is none.
    async fn trust_policy(&mut self, check: &str, name: &str) -> RoleRead {
        let iam = match self.iam().await {
            Ok(iam) => iam,
            Err(c) => {
                return RoleRead::Unread(Check {
                    name: check.into(),
                    ..c
                })
            }
        };
        let got = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| AwsCallError::new("iam:GetRole", e));
        match got {
            Ok(out) => RoleRead::Trust(
                out.role()
                    .and_then(|r| r.assume_role_policy_document())
                    .unwrap_or_default()
                    .to_owned(),
            ),
            Err(err) if err.code() == Some("NoSuchEntity") => RoleRead::Missing(Check::failed(
                check,
                format!(
                    "role {name} does not exist in account {}: deploy templates/target-account-role.yml there for this project and stage",
                    self.target.account_id
                ),
            )),
            Err(err) => RoleRead::Unread(self.not_run(check, &err)),
        }
    }

    fn judge_trust(
        check: &str,
        role: &str,
        policy: &str,
        trustee: Trustee<'_>,
        whom: &str,
    ) -> Check {
        match trusts(policy, trustee) {
            Ok(true) => Check::passed(check, format!("role {role} exists and trusts {whom}")),
            Ok(false) => Check::failed(
                check,
                format!("role {role} does not trust {whom}: its trust policy must let {whom} assume it (redeploy templates/target-account-role.yml)"),
            ),
            Err(why) => Check::failed(check, format!("role {role}: {why}")),
        }
    }

    /// The execution role's check, and whether the role is known not to exist (then nothing
    /// can be simulated for it).
    async fn execution_role(&mut self) -> (Check, bool) {
        let Some(role) = self.preflight.execution_role.clone() else {
            let check = Check::skipped(
                EXECUTION_ROLE,
                "the build config names no RoleName: build-step writes it",
            );
            return (check, false);
        };
        match self.trust_policy(EXECUTION_ROLE, &role).await {
            RoleRead::Trust(policy) => {
                let trustee = Trustee::Service(SAGEMAKER);
                let check = Self::judge_trust(EXECUTION_ROLE, &role, &policy, trustee, SAGEMAKER);
                (check, false)
            }
            RoleRead::Missing(check) => (check, true),
            RoleRead::Unread(check) => (check, false),
        }
    }

    async fn deploy_role(&mut self) -> Check {
        let Some(role) = self.preflight.deploy_role.clone() else {
            return Check::skipped(
                DEPLOY_ROLE,
                "no --deploy-role-name (STACKSET_EXECUTION_ROLE_NAME): a SERVICE_MANAGED StackSet's execution role is CloudFormation's own",
            );
        };
        let policy = match self.trust_policy(DEPLOY_ROLE, &role).await {
            RoleRead::Trust(policy) => policy,
            RoleRead::Missing(check) | RoleRead::Unread(check) => return check,
        };
        match &self.preflight.admin_role {
            Some(admin) => {
                Self::judge_trust(DEPLOY_ROLE, &role, &policy, Trustee::Role(admin), admin)
            }
            None => Check::passed(
                DEPLOY_ROLE,
                format!(
                    "role {role} exists (no --deploy-admin-role-arn to judge its trust policy by)"
                ),
            ),
        }
    }

    async fn image(&mut self) -> Check {
        let sources = &self.preflight.sources;
        if sources.images.is_empty() && !sources.other_images.is_empty() {
            return Check::skipped(
                IMAGE,
                format!(
                    "the image {} is not in ECR: no IAM policy of this account decides who pulls it",
                    sources.other_images.join(", ")
                ),
            );
        }
        self.may_read(IMAGE, &sources.images, "image").await
    }

    /// Whether the execution role may make `resource.actions` on each resource: its own
    /// policies by IAM's simulator, and for a resource of another account the resource's policy
    /// by `deploy_core::grants` (the simulator takes a resource policy only for an IAM user
    /// caller; see that module).
    async fn may_read(&mut self, check: &str, resources: &[Resource], what: &str) -> Check {
        if let Some(why) = &self.preflight.sources.unreadable {
            return Check::skipped(check, why.clone());
        }
        if resources.is_empty() {
            return Check::skipped(check, format!("the model package names no {what} to check"));
        }
        let Some(role_name) = self.preflight.execution_role.clone() else {
            return Check::skipped(check, "the build config names no RoleName");
        };
        let account = self.target.account_id.clone();
        let role = format!(
            "arn:{}:iam::{account}:role/{role_name}",
            self.preflight.role.partition
        );
        let iam = match self.iam().await {
            Ok(iam) => iam,
            Err(c) => {
                return Check {
                    name: check.into(),
                    ..c
                }
            }
        };
        let mut allowed = Vec::new();
        let mut unsure = Vec::new();
        for resource in resources {
            let simulated = iam
                .simulate_principal_policy()
                .policy_source_arn(&role)
                .set_action_names(Some(
                    resource.actions.iter().map(|a| (*a).to_owned()).collect(),
                ))
                .resource_arns(&resource.arn)
                .send()
                .await
                .map_err(|e| AwsCallError::new("iam:SimulatePrincipalPolicy", e));
            let out = match simulated {
                Ok(out) => out,
                Err(err) => return self.not_run(check, &err),
            };
            let results = out.evaluation_results();
            let mut unknown = false;
            let denied: Vec<String> = results
                .iter()
                .filter_map(|r| match identity_decision(r) {
                    Some("allowed") => None,
                    Some(decision) => Some(format!("{} ({decision})", r.eval_action_name())),
                    None => {
                        unknown = true;
                        None
                    }
                })
                .collect();
            if unknown && denied.is_empty() {
                unsure.push(format!(
                    "IAM's policy simulator judged {} across accounts without saying how the execution role's own policy decided",
                    resource.label
                ));
                continue;
            }
            if results.is_empty() || !denied.is_empty() {
                let denied = if results.is_empty() {
                    "no decision".into()
                } else {
                    denied.join(", ")
                };
                return Check::failed(
                    check,
                    format!(
                        "the execution role {role} may not read {}: its own policy does not allow {denied}, by IAM's policy simulator, in {}; {}",
                        resource.label, self.place, resource.fix
                    ),
                );
            }
            if resource.owner.as_deref() == Some(account.as_str()) {
                allowed.push(resource.label.clone());
                continue;
            }
            let policy = match &resource.policy {
                PolicyRead::Found(policy) => policy.as_str(),
                PolicyRead::None => "{\"Statement\":[]}",
                PolicyRead::Unreadable(why) => {
                    unsure.push(format!(
                        "the execution role's own policy allows {}, but its resource policy could not be read with the pipeline's role ({why})",
                        resource.label
                    ));
                    continue;
                }
            };
            let refused: Vec<&str> = resource
                .actions
                .iter()
                .copied()
                .filter(|action| {
                    !allows(policy, Trustee::Role(&role), action, Some(&resource.arn))
                        .unwrap_or(false)
                })
                .collect();
            if !refused.is_empty() {
                return Check::failed(
                    check,
                    format!(
                        "the execution role {role} may not read {}: the resource policy of account {} grants account {account} no {}; {}",
                        resource.label,
                        resource.owner.as_deref().unwrap_or("(unknown)"),
                        refused.join(", "),
                        resource.fix
                    ),
                );
            }
            allowed.push(resource.label.clone());
        }
        if unsure.is_empty() {
            Check::passed(
                check,
                format!("the execution role {role} may read {}", allowed.join(", ")),
            )
        } else {
            Check::skipped(check, unsure.join("; "))
        }
    }

    async fn capacity(&mut self) -> Check {
        let demand = match &self.preflight.demand {
            Ok(demand) => demand.clone(),
            Err(why) => return Check::skipped(CAPACITY, why.clone()),
        };
        let config = match self.session.config().await {
            Ok(config) => config,
            Err(cause) => return Check::error(CAPACITY, cause.to_string()),
        };
        let quotas = aws_sdk_servicequotas::Client::new(&config);
        let found = first_item("servicequotas:ListServiceQuotas", |token| {
            let request = quotas
                .list_service_quotas()
                .service_code("sagemaker")
                .max_results(100)
                .set_next_token(token);
            let demand = &demand;
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("servicequotas:ListServiceQuotas", e))?;
                let matching = page
                    .quotas()
                    .iter()
                    .filter(|q| q.quota_name().is_some_and(|n| demand.quota_matches(n)))
                    .filter_map(aws_sdk_servicequotas::types::ServiceQuota::value)
                    .collect();
                Ok((matching, page.next_token().map(str::to_owned)))
            }
        })
        .await;
        let quota = match found {
            Ok(Some(quota)) => quota,
            Ok(None) => {
                return Check::skipped(
                    CAPACITY,
                    format!(
                        "Service Quotas lists no quota {} for service sagemaker in {}",
                        demand.quota_label(),
                        self.place
                    ),
                )
            }
            Err(err) => return self.not_run(CAPACITY, &err),
        };
        match self.in_use(&demand).await {
            Ok(in_use) => match demand.judge(quota, in_use, self.place) {
                Ok(figures) => Check::passed(CAPACITY, figures),
                Err(gap) => Check::failed(CAPACITY, gap),
            },
            Err(err) => self.not_run(CAPACITY, &err),
        }
    }

    /// What the account's endpoints in the Region use of the demand's quota now: instances of
    /// its type, or serverless concurrency.
    async fn in_use(&mut self, demand: &Demand) -> Result<i64, AwsCallError> {
        let sagemaker = match self.session.sagemaker().await {
            Ok(client) => client,
            Err(cause) => {
                return Err(AwsCallError::incomplete(
                    "sts:AssumeRole",
                    &cause.to_string(),
                ))
            }
        };
        let names = all_pages("sagemaker:ListEndpoints", |token| {
            let request = sagemaker
                .list_endpoints()
                .max_results(100)
                .set_next_token(token);
            async move {
                let page = request
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("sagemaker:ListEndpoints", e))?;
                let names = page
                    .endpoints()
                    .iter()
                    .filter_map(|e| e.endpoint_name().map(str::to_owned))
                    .collect();
                Ok((names, page.next_token().map(str::to_owned)))
            }
        })
        .await?;
        let mut in_use = 0i64;
        for name in names {
            let endpoint = sagemaker
                .describe_endpoint()
                .endpoint_name(&name)
                .send()
                .await
                .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpoint", e))?;
            match demand {
                Demand::Serverless { .. } => {
                    in_use += endpoint
                        .production_variants()
                        .iter()
                        .filter_map(|v| v.current_serverless_config()?.max_concurrency())
                        .map(i64::from)
                        .sum::<i64>();
                }
                Demand::Instances { instance_type, .. } => {
                    let Some(config) = endpoint.endpoint_config_name() else {
                        continue;
                    };
                    let described = sagemaker
                        .describe_endpoint_config()
                        .endpoint_config_name(config)
                        .send()
                        .await
                        .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpointConfig", e))?;
                    for variant in described.production_variants() {
                        if variant
                            .instance_type()
                            .map(aws_sdk_sagemaker::types::ProductionVariantInstanceType::as_str)
                            != Some(instance_type.as_str())
                        {
                            continue;
                        }
                        let current = endpoint
                            .production_variants()
                            .iter()
                            .find(|v| v.variant_name() == variant.variant_name())
                            .and_then(aws_sdk_sagemaker::types::ProductionVariantSummary::current_instance_count);
                        in_use +=
                            i64::from(current.or(variant.initial_instance_count()).unwrap_or(0));
                    }
                }
            }
        }
        Ok(in_use)
    }

    async fn endpoint_name(&mut self) -> Check {
        let name = self.preflight.endpoint_name.clone();
        let sagemaker = match self.session.sagemaker().await {
            Ok(client) => client,
            Err(cause) => return Check::error(ENDPOINT_NAME, cause.to_string()),
        };
        let described = sagemaker
            .describe_endpoint()
            .endpoint_name(&name)
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpoint", e));
        let endpoint = match described {
            Ok(endpoint) => endpoint,
            // SageMaker answers a name that does not exist with a ValidationException.
            Err(err) if err.code() == Some("ValidationException") => {
                return Check::passed(ENDPOINT_NAME, format!("{name} is free in {}", self.place))
            }
            Err(err) => return self.not_run(ENDPOINT_NAME, &err),
        };
        let tags = sagemaker
            .list_tags()
            .set_resource_arn(endpoint.endpoint_arn().map(str::to_owned))
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:ListTags", e));
        let tags: BTreeMap<String, String> = match tags {
            Ok(out) => out
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
            Err(err) => return self.not_run(ENDPOINT_NAME, &err),
        };
        let project = tags.get("sagemaker:project-id");
        let stack = tags.get("aws:cloudformation:stack-name");
        match (project, stack, &self.preflight.project_id) {
            (Some(found), Some(stack), Some(ours)) if found == ours => Check::passed(
                ENDPOINT_NAME,
                format!("{name} in {} belongs to this project's stack {stack}", self.place),
            ),
            _ => Check::failed(
                ENDPOINT_NAME,
                format!(
                    "endpoint {name} already exists in {} and is not this project's stack's (sagemaker:project-id {}, stack {}): it was made by hand or by another stack, and CloudFormation cannot create it; delete or rename it before the deploy",
                    self.place,
                    project.map_or("none", String::as_str),
                    stack.map_or("none", String::as_str)
                ),
            ),
        }
    }
}
