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
//!   and for a bucket or repository of another account its policy, read with the pipeline's
//!   role, by `deploy_core::grants`;
//! - `capacity`: the quota minus what the account's endpoints use covers the stage
//!   (`deploy_core::capacity`);
//! - `endpoint-name`: `<project>-<stage>` is free, or is this project's stack's.
//!
//! The buckets' and repositories' policies are read once per run with the pipeline's role
//! ([`ModelSources`]); every call in a target is a read its session policy allows, and nothing
//! is written or invoked.

use std::sync::Arc;

use deploy_core::capacity::Demand;
use deploy_core::fleet::{Check, CheckOutcome, FleetTarget};
use deploy_core::targets::Target;
use deploy_core::verdict::{AwsErrorKind, Cause};
use deploy_shell::AwsCallError;

use crate::cli::Args;
use crate::clock::Clock;
use crate::config::RunConfig;
use crate::session::{ClientFactory, RoleToAssume, Session};

mod access;
mod capacity;
mod endpoint_name;
mod roles;
mod sources;

pub(crate) use sources::ModelSources;

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
}
