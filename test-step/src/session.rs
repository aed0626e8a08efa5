//! Getting into each target account: AssumeRole with a session name that traces back to the build,
//! then SageMaker and SageMaker Runtime clients built from the shared `SdkConfig` with those
//! credentials and the target's region, so `AWS_ENDPOINT_URL*`, retries and timeouts apply to them
//! exactly as to the pipeline's own calls. Credentials are renewed before they expire, so a long
//! wait for an endpoint cannot end in ExpiredToken. Credentials never reach a log line or a report.

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use aws_config::{Region, SdkConfig};
use aws_sdk_sagemaker::config::{Credentials, SharedCredentialsProvider};
use deploy_common::AwsCallError;

use crate::clock::Clock;
use crate::target::{Target, TargetError};

/// STS's limit on a role session name.
pub const MAX_SESSION_NAME_LEN: usize = 64;
/// Credentials are renewed when they have less than this left.
pub const RENEW_BEFORE_EXPIRY: Duration = Duration::from_secs(5 * 60);

/// The role session name: the CodeBuild build id when there is one (so CloudTrail in each target
/// account points at the build), else `user@host`. Characters STS refuses become `-`; a name over
/// 64 characters keeps its start and its end (a build id ends with the build's UUID).
pub fn session_name(build_id: Option<&str>, user: Option<&str>, host: Option<&str>) -> String {
    let present = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let raw = match present(build_id) {
        Some(id) => id,
        None => format!(
            "{}@{}",
            present(user).unwrap_or_else(|| "unknown".into()),
            present(host).unwrap_or_else(|| "localhost".into())
        ),
    };
    let clean: Vec<char> = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    const TAIL: usize = 36;
    if clean.len() <= MAX_SESSION_NAME_LEN {
        return clean.into_iter().collect();
    }
    let head = MAX_SESSION_NAME_LEN - TAIL - 1;
    let mut name: String = clean[..head].iter().collect();
    name.push('-');
    name.extend(&clean[clean.len() - TAIL..]);
    name
}

/// The user and host of this process, for the session name outside CodeBuild.
pub fn local_user_and_host() -> (Option<String>, Option<String>) {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .or_else(|| std::env::var("HOSTNAME").ok());
    (user, host)
}

/// Builds the per-target clients from assumed credentials.
pub trait ClientFactory: Send + Sync {
    fn sagemaker(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemaker::Client;
    fn runtime(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemakerruntime::Client;
}

/// The binary's factory: the loaded `SdkConfig` with the target's credentials and region.
pub struct FromSdkConfig(pub SdkConfig);

impl FromSdkConfig {
    fn config(&self, credentials: &Credentials, region: &str) -> SdkConfig {
        self.0
            .to_builder()
            .credentials_provider(SharedCredentialsProvider::new(credentials.clone()))
            .region(Region::new(region.to_owned()))
            .build()
    }
}

impl ClientFactory for FromSdkConfig {
    fn sagemaker(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemaker::Client {
        aws_sdk_sagemaker::Client::new(&self.config(credentials, region))
    }

    fn runtime(&self, credentials: &Credentials, region: &str) -> aws_sdk_sagemakerruntime::Client {
        aws_sdk_sagemakerruntime::Client::new(&self.config(credentials, region))
    }
}

/// Who to become in each account.
#[derive(Clone)]
pub struct RoleToAssume {
    pub sts: aws_sdk_sts::Client,
    pub partition: String,
    pub role_name: String,
    pub session_name: String,
}

impl RoleToAssume {
    pub fn role_arn(&self, account_id: &str) -> String {
        format!(
            "arn:{}:iam::{account_id}:role/{}",
            self.partition, self.role_name
        )
    }

    /// AssumeRole into `account_id`; the credentials and how long they last.
    async fn assume(
        &self,
        account_id: &str,
        now: SystemTime,
    ) -> Result<(Credentials, Option<Duration>), TargetError> {
        let role_arn = self.role_arn(account_id);
        tracing::info!(role = %role_arn, session = %self.session_name, "assuming the staging role");
        let out = self
            .sts
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name(&self.session_name)
            .send()
            .await
            .map_err(|e| {
                let err = AwsCallError::new("sts:AssumeRole", e);
                TargetError::Error(format!(
                    "cannot assume {role_arn} (session {}): {err} Check that the role exists in account {account_id} and that its trust policy lets this build's role assume it.",
                    self.session_name
                ))
            })?;
        let Some(c) = out.credentials() else {
            return Err(TargetError::Error(format!(
                "sts:AssumeRole for {role_arn} returned no credentials"
            )));
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
pub struct Session {
    role: RoleToAssume,
    factory: Arc<dyn ClientFactory>,
    clock: Arc<dyn Clock>,
    target: Target,
    renew_at: Option<Instant>,
    sagemaker: aws_sdk_sagemaker::Client,
    runtime: aws_sdk_sagemakerruntime::Client,
}

impl Session {
    pub async fn open(
        role: RoleToAssume,
        factory: Arc<dyn ClientFactory>,
        clock: Arc<dyn Clock>,
        target: Target,
    ) -> Result<Self, TargetError> {
        let (credentials, lifetime) = role.assume(&target.account_id, SystemTime::now()).await?;
        let renew_at = renew_at(clock.now(), lifetime);
        Ok(Self {
            sagemaker: factory.sagemaker(&credentials, &target.region),
            runtime: factory.runtime(&credentials, &target.region),
            role,
            factory,
            clock,
            target,
            renew_at,
        })
    }

    pub async fn sagemaker(&mut self) -> Result<aws_sdk_sagemaker::Client, TargetError> {
        self.renew_if_due().await?;
        Ok(self.sagemaker.clone())
    }

    /// The message for a failed call made with this session's credentials. AccessDenied names the
    /// assumed role: it is that role's policy in the target account that lacks the permission.
    pub fn explain(&self, err: AwsCallError) -> String {
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

    pub async fn runtime(&mut self) -> Result<aws_sdk_sagemakerruntime::Client, TargetError> {
        self.renew_if_due().await?;
        Ok(self.runtime.clone())
    }

    async fn renew_if_due(&mut self) -> Result<(), TargetError> {
        if self.renew_at.is_none_or(|at| self.clock.now() < at) {
            return Ok(());
        }
        tracing::debug!(account = %self.target.account_id, "renewing the assumed-role credentials");
        let (credentials, lifetime) = self
            .role
            .assume(&self.target.account_id, SystemTime::now())
            .await?;
        self.renew_at = renew_at(self.clock.now(), lifetime);
        self.sagemaker = self.factory.sagemaker(&credentials, &self.target.region);
        self.runtime = self.factory.runtime(&credentials, &self.target.region);
        Ok(())
    }
}

fn renew_at(now: Instant, lifetime: Option<Duration>) -> Option<Instant> {
    lifetime.map(|l| now + l.saturating_sub(RENEW_BEFORE_EXPIRY))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codebuild_build_id_names_the_session_in_sts_characters() {
        assert_eq!(
            session_name(
                Some("churn-test:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
                Some("root"),
                Some("box")
            ),
            "churn-test-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        );
    }

    #[test]
    fn a_long_build_id_keeps_its_start_and_its_uuid_within_64_characters() {
        let project = "sagemaker-churn-prediction-modeldeploy-test-project-with-a-long-name";
        let uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let name = session_name(Some(&format!("{project}:{uuid}")), None, None);
        assert_eq!(name.len(), MAX_SESSION_NAME_LEN);
        assert!(name.starts_with("sagemaker-churn-prediction"), "{name}");
        assert!(name.ends_with(uuid), "{name}");
    }

    #[test]
    fn outside_codebuild_the_session_is_user_at_host() {
        assert_eq!(
            session_name(None, Some("alice"), Some("laptop.local")),
            "alice@laptop.local"
        );
        assert_eq!(session_name(Some(" "), Some("a b"), None), "a-b@localhost");
        assert_eq!(session_name(None, None, None), "unknown@localhost");
        let name = session_name(None, Some("ünï"), Some("h/st"));
        assert!(
            name.chars()
                .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)),
            "{name}"
        );
    }

    #[test]
    fn credentials_are_renewed_five_minutes_before_expiry() {
        let now = Instant::now();
        assert_eq!(
            renew_at(now, Some(Duration::from_secs(3600))),
            Some(now + Duration::from_secs(3300))
        );
        assert_eq!(renew_at(now, Some(Duration::from_secs(60))), Some(now));
        assert_eq!(renew_at(now, None), None);
    }
}
