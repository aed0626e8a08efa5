//! Reaching the targets, shared by every command: the SDK config (its Region the default one),
//! the accounts (the OU's ACTIVE ones, a file or a list) times the Regions, the caller's
//! partition, and the role to assume in each with the session policy of the command's purpose.

use std::sync::Arc;

use aws_config::SdkConfig;
use deploy_core::targets::{cross, Target};
use deploy_shell::aws::{explain_failure, load_sdk_config};
use deploy_shell::AwsCallError;

use crate::config::RunConfig;
use crate::error::TestError;
use crate::session::{ClientFactory, FromSdkConfig, Purpose, RoleToAssume};
use crate::stop::Stop;

/// The targets of a run and what it takes to reach them.
pub(crate) struct Reach {
    /// The pipeline's own credentials and Region.
    pub(crate) sdk_config: SdkConfig,
    pub(crate) role: RoleToAssume,
    pub(crate) factory: Arc<dyn ClientFactory>,
    pub(crate) targets: Vec<Target>,
    /// The accounts, sorted, for the log line.
    pub(crate) accounts: Vec<String>,
    pub(crate) regions: Vec<String>,
}

impl Reach {
    /// Finds the targets of `config` and prepares the role to assume in each for `purpose`,
    /// until done or `stop`.
    pub(crate) async fn discover(
        config: &RunConfig,
        purpose: Purpose,
        stop: &Stop,
    ) -> Result<Self, TestError> {
        let sdk_config = tokio::select! {
            loaded = load_sdk_config(&config.aws) => loaded?,
            reason = stop.reason() => return Err(TestError::Interrupted(reason)),
        };
        let regions = if config.regions.is_empty() {
            // load_sdk_config guarantees a region.
            sdk_config
                .region()
                .map(|r| vec![r.as_ref().to_owned()])
                .unwrap_or_default()
        } else {
            config.regions.clone()
        };
        let sts = aws_sdk_sts::Client::new(&sdk_config);
        let discovered = tokio::select! {
            discovered = async {
                let accounts = config
                    .accounts
                    .resolve(|| aws_sdk_organizations::Client::new(&sdk_config))
                    .await?;
                Ok::<_, TestError>((accounts, partition(&sts).await?))
            } => discovered,
            reason = stop.reason() => return Err(TestError::Interrupted(reason)),
        };
        let (accounts, partition) = match discovered {
            // Name the principal of an AccessDenied, tell missing credentials from a network error.
            Err(TestError::Aws(err)) => {
                return Err(TestError::Aws(explain_failure(&sdk_config, err).await))
            }
            other => other?,
        };
        let targets = cross(&accounts, &regions);
        let role = RoleToAssume {
            sts,
            partition,
            role_name: config.role_name.clone(),
            session_name: config.session_name.clone(),
            endpoint_name: config.deployment.endpoint_name.clone(),
            purpose,
        };
        let factory = Arc::new(FromSdkConfig {
            config: sdk_config.clone(),
            invoke_timeouts: config.aws.retry.invoke_timeout_config(),
        }) as Arc<dyn ClientFactory>;
        Ok(Self {
            sdk_config,
            role,
            factory,
            targets,
            accounts: accounts.into_iter().collect(),
            regions,
        })
    }
}

/// The caller's partition (aws, aws-cn, aws-us-gov, ...), from its own ARN: roles are assumed in
/// the same partition (B7).
async fn partition(sts: &aws_sdk_sts::Client) -> Result<String, TestError> {
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsCallError::new("sts:GetCallerIdentity", e))?;
    Ok(
        deploy_core::arn::partition(identity.arn().unwrap_or_default())
            .unwrap_or("aws")
            .to_owned(),
    )
}
