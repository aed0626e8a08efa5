//! Getting into each target account: AssumeRole with a session name that traces back to the build,
//! then SageMaker and SageMaker Runtime clients built from the shared `SdkConfig` with those
//! credentials and the target's region, so `AWS_ENDPOINT_URL*`, retries and timeouts apply to them
//! exactly as to the pipeline's own calls. Credentials are renewed before they expire, so a long
//! wait for an endpoint cannot end in ExpiredToken. Credentials never reach a log line or a report.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::timeout::TimeoutConfig;
use aws_config::{Region, SdkConfig};
use aws_sdk_sagemaker::config::{Credentials, SharedCredentialsProvider};
use deploy_core::session_policy;
use deploy_core::targets::Target;
use deploy_core::verdict::{AwsErrorKind, Cause};
use deploy_shell::AwsCallError;

use crate::clock::Clock;
use crate::outcome::aws_error;

/// Credentials are renewed when they have less than this left.
pub(crate) const RENEW_BEFORE_EXPIRY: Duration = Duration::from_mins(5);

/// Builds the per-target clients from assumed credentials.
pub(crate) trait ClientFactory: Send + Sync {
    fn sagemaker(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemaker::Client;
    fn runtime(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemakerruntime::Client;
    /// The config any other client of the target (preflight's IAM and Service Quotas) is built
    /// from.
    fn config(&self, credentials: &Credentials, region: &str) -> SdkConfig;
}

/// The binary's factory: the loaded `SdkConfig` with the target's credentials and region, and for
/// the runtime client the longer InvokeEndpoint timeouts.
pub(crate) struct FromSdkConfig {
    pub(crate) config: SdkConfig,
    pub(crate) invoke_timeouts: TimeoutConfig,
}

impl ClientFactory for FromSdkConfig {
    fn config(&self, credentials: &Credentials, region: &str) -> SdkConfig {
        self.config
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .region(Region::new(region.to_owned()))
            .build()
    }

    fn sagemaker(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.config(credentials, region))
    }

    fn runtime(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemakerruntime::Client {
        let config =
            aws_sdk_sagemakerruntime::config::Builder::from(&self.config(credentials, region))
                .timeout_config(self.invoke_timeouts.clone())
                .build();
        aws_sdk_sagemakerruntime::Client::from_conf(config)
    }
}

/// Who to become in each account.
#[derive(Clone)]
pub(crate) struct RoleToAssume {
    pub(crate) sts: aws_sdk_sts::Client,
    pub(crate) partition: String,
    pub(crate) role_name: String,
    pub(crate) session_name: String,
    /// The endpoint every session tests: its session policy allows calls on it alone.
    pub(crate) endpoint_name: String,
    /// What the sessions are for, which decides their session policy.
    pub(crate) purpose: Purpose,
}

/// What a run's sessions do, and so what their session policy allows
/// (`deploy_core::session_policy`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Describe and invoke the endpoint.
    Test,
    /// Describe the endpoint, its config and models; invoke nothing.
    Status,
    /// The preflight's reads: the endpoints and their tags, the quotas, the named roles and the
    /// simulator on the execution role.
    Preflight { roles: PreflightRoles },
}

/// The roles of the target account a preflight reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PreflightRoles {
    /// The model's execution role (the build config's RoleName).
    pub(crate) execution: Option<String>,
    /// The StackSet execution role (`--deploy-role-name`).
    pub(crate) deploy: Option<String>,
}

impl Purpose {
    fn session_policy(&self, partition: &str, target: &Target, endpoint_name: &str) -> String {
        let (account, region) = (target.account_id.as_str(), target.region.as_str());
        match self {
            Purpose::Test => {
                session_policy::for_endpoint(partition, account, region, endpoint_name, true)
            }
            Purpose::Status => {
                session_policy::for_endpoint(partition, account, region, endpoint_name, false)
            }
            Purpose::Preflight { roles } => session_policy::for_preflight(
                partition,
                account,
                region,
                endpoint_name,
                &[roles.execution.as_deref(), roles.deploy.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>(),
                roles.execution.as_deref(),
            ),
        }
    }
}

impl RoleToAssume {
    pub(crate) fn role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.role_name
        )
    }

    /// AssumeRole into the target's account, with the session policy for its endpoint and Region;
    /// the credentials and how long they last.
    async fn assume(
        &self,
        target: &Target,
        now: SystemTime,
    ) -> Result<(Credentials, Option<Duration>), Cause> {
        let account_id = target.account_id.as_str();
        let role_arn = self.role_arn(account_id);
        tracing::info!(role = %role_arn, session = %self.session_name, "assuming the target's role");
        let out = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(&self.session_name)
            .policy(
                self.purpose
                    .session_policy(&self.partition, target, &self.endpoint_name),
            )
            .send()
            .await
            .map_err(|e| {
                let err = AwsCallError::new("sts:AssumeRole", e);
                let message = format!(
                    "cannot assume {role_arn} (session {}): {err} Check that the role exists in account {account_id} and that its trust policy lets this build's role assume it.",
                    self.session_name
                );
                aws_error(&err, message)
            })?;
        let Some(c) = out.credentials() else {
            return Err(Cause::Aws {
                kind: AwsErrorKind::Service,
                message: format!("sts:AssumeRole for {role_arn} returned no credentials"),
            });
        };
        let expiry = SystemTime::try_from(*c.expiration()).ok();
        let credentials = Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            expiry,
            "test-step-assume-role",
        );
        tracing::info!("assumed {role_arn} as session {}", self.session_name);
        let lifetime = expiry.map(|e| e.duration_since(now).unwrap_or_default());
        Ok((credentials, lifetime))
    }
}

/// One target's clients, renewed before their credentials expire.
pub(crate) struct Session {
    role: RoleToAssume,
    factory: Arc<dyn ClientFactory>,
    clock: Arc<dyn Clock>,
    target: Target,
    renew_at: Option<Instant>,
    sagemaker: aws_sdk_sagemaker::Client,
    runtime: aws_sdk_sagemakerruntime::Client,
    credentials: Credentials,
}

impl Session {
    pub(crate) async fn open(
        role: RoleToAssume,
        factory: Arc<dyn ClientFactory>,
        clock: Arc<dyn Clock>,
        target: Target,
    ) -> Result<Self, Cause> {
        let (credentials, lifetime) = role.assume(&target, SystemTime::now()).await?;
        let renew_at = renew_at(clock.now(), lifetime);
        Ok(Self {
            sagemaker: factory.sagemaker(&credentials, &target.region),
            runtime: factory.runtime(&credentials, &target.region),
            credentials,
            role,
            factory,
            clock,
            target,
            renew_at,
        })
    }

    pub(crate) async fn sagemaker(&mut self) -> Result<aws_sdk_sagemaker::Client, Cause> {
        self.renew_if_due().await?;
        Ok(self.sagemaker.clone())
    }

    /// The message for a failed call made with this session's credentials. AccessDenied names the
    /// assumed role: it is that role's policy in the target account that lacks the permission.
    pub(crate) fn explain(&self, err: &AwsCallError) -> String {
        if !err.is_access_denied() {
            return err.to_string();
        }
        let role = self.role.role_arn(&self.target.account_id);
        format!(
            "AWS denied {action} to the assumed role {role}: {}. Allow {action} in that role's policy in account {}, then run again.",
            err.detail,
            self.target.account_id,
            action = err.action,
        )
    }

    /// What a failed Describe call made with this session means: SageMaker answers one for a
    /// resource that does not exist with a ValidationException, so the target fails with
    /// `missing(detail)`; any other error means the target could not be tested.
    pub(crate) fn describe_failure(
        &self,
        err: &AwsCallError,
        missing: impl FnOnce(&str) -> Cause,
    ) -> Cause {
        if err.code() == Some("ValidationException") {
            missing(&err.detail)
        } else {
            aws_error(err, self.explain(err))
        }
    }

    /// The config for any other client of the target, with this session's credentials.
    pub(crate) async fn config(&mut self) -> Result<SdkConfig, Cause> {
        self.renew_if_due().await?;
        Ok(self.factory.config(&self.credentials, &self.target.region))
    }

    /// The role this session assumed.
    pub(crate) fn role_arn(&self) -> String {
        self.role.role_arn(&self.target.account_id)
    }

    pub(crate) async fn runtime(&mut self) -> Result<aws_sdk_sagemakerruntime::Client, Cause> {
        self.renew_if_due().await?;
        Ok(self.runtime.clone())
    }

    async fn renew_if_due(&mut self) -> Result<(), Cause> {
        if self.renew_at.is_none_or(|at| self.clock.now() < at) {
            return Ok(());
        }
        tracing::debug!(account = %self.target.account_id, "renewing the assumed-role credentials");
        let (credentials, lifetime) = self.role.assume(&self.target, SystemTime::now()).await?;
        self.renew_at = renew_at(self.clock.now(), lifetime);
        self.sagemaker = self.factory.sagemaker(&credentials, &self.target.region);
        self.runtime = self.factory.runtime(&credentials, &self.target.region);
        self.credentials = credentials;
        Ok(())
    }
}

fn renew_at(now: Instant, lifetime: Option<Duration>) -> Option<Instant> {
    lifetime.map(|l| now + l.saturating_sub(RENEW_BEFORE_EXPIRY))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FakeClock;
    use crate::test_kit::{assume_role, role, target, Factory};

    /// InvokeEndpoint waits for a model's 60 s; every other call gives up much sooner.
    #[test]
    fn the_runtime_client_gets_the_invoke_timeouts_and_the_others_the_control_plane_ones() {
        let policy = deploy_shell::aws::RetryPolicy::default();
        let config = SdkConfig::builder()
            .behavior_version(aws_config::BehaviorVersion::latest())
            .timeout_config(
                TimeoutConfig::builder()
                    .read_timeout(policy.read_timeout)
                    .build(),
            )
            .build();
        let factory = FromSdkConfig {
            config,
            invoke_timeouts: policy.invoke_timeout_config(),
        };
        let credentials = Credentials::new("AKIDEXAMPLE", "secret", None, None, "test");
        let read_timeout =
            |timeouts: Option<&TimeoutConfig>| timeouts.and_then(TimeoutConfig::read_timeout);
        let runtime = factory.runtime(&credentials, "eu-west-1");
        assert_eq!(
            read_timeout(runtime.config().timeout_config()),
            Some(policy.invoke_read_timeout)
        );
        let sagemaker = factory.sagemaker(&credentials, "eu-west-1");
        assert_eq!(
            read_timeout(sagemaker.config().timeout_config()),
            Some(policy.read_timeout)
        );
    }

    #[tokio::test]
    async fn credentials_are_renewed_when_five_minutes_are_left() {
        let sts = assume_role(Duration::from_mins(10));
        let clock = Arc::new(FakeClock::default());
        let mut session = Session::open(
            role(&[&sts]),
            Factory::new(&[], &[]),
            clock.clone(),
            target(),
        )
        .await
        .unwrap();
        assert_eq!(sts.num_calls(), 1, "the session starts with one AssumeRole");
        // The credentials last 10 minutes and a moment (the mock stamps their expiry after the
        // session noted the time), so renewal is due a moment after 5 minutes.
        let almost = Duration::from_secs(5 * 60 - 1);
        let second = Duration::from_secs(2);
        clock.advance(almost);
        session.sagemaker().await.unwrap();
        assert_eq!(
            sts.num_calls(),
            1,
            "not renewed with more than 5 minutes left"
        );
        clock.advance(second);
        session.runtime().await.unwrap();
        assert_eq!(sts.num_calls(), 2, "renewed for either client");
        clock.advance(almost);
        session.sagemaker().await.unwrap();
        assert_eq!(
            sts.num_calls(),
            2,
            "the renewed credentials count from their renewal"
        );
        clock.advance(second);
        session.sagemaker().await.unwrap();
        assert_eq!(sts.num_calls(), 3);
    }

    #[test]
    fn credentials_are_renewed_five_minutes_before_expiry() {
        let now = Instant::now();
        assert_eq!(
            renew_at(now, Some(Duration::from_hours(1))),
            Some(now + Duration::from_mins(55))
        );
        assert_eq!(renew_at(now, Some(Duration::from_mins(1))), Some(now));
        assert_eq!(renew_at(now, None), None);
    }
}
