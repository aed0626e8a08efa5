//! One way to reach AWS for both binaries: the same `--region`/`--profile` flags, one `SdkConfig`
//! loader with a single TLS stack (rustls on ring, to keep the static binaries small), deliberate
//! retries and timeouts, and one error type that names the failed call. Every client, including
//! those built from assumed-role credentials, comes from this config, so `AWS_ENDPOINT_URL*` always
//! applies.

use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_http_client::tls;
use aws_smithy_runtime_api::client::http::SharedHttpClient;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use clap::Args;
use thiserror::Error;

use crate::env_vars;

/// Attempts per call, the first included. Standard (not adaptive) retry: these tools make a
/// handful of calls, so client-side rate limiting has nothing to learn from.
pub const MAX_ATTEMPTS: u32 = 3;
/// A TCP/TLS connection that takes longer than this is treated as a transient failure.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for one HTTP response. InvokeEndpoint may legitimately take up to 60 s.
pub const READ_TIMEOUT: Duration = Duration::from_secs(65);

/// The AWS flags both binaries accept.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS region [default: the profile's or the environment's region]
    #[arg(long, env = env_vars::AWS_REGION, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (SSO profiles work)
    #[arg(long, env = env_vars::AWS_PROFILE, value_name = "NAME")]
    pub profile: Option<String>,
}

/// Loads the shared SDK config: default credential chain (env, profile/SSO, CodeBuild's container
/// credentials), the region from the flags or environment, and this project's retry/timeout policy.
pub async fn load_sdk_config(args: &AwsArgs) -> Result<SdkConfig, MissingRegion> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(https_client())
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(CONNECT_TIMEOUT)
                .read_timeout(READ_TIMEOUT)
                .build(),
        );
    if let Some(profile) = args.profile.as_deref().filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = args.region.as_deref().filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(MissingRegion);
    }
    Ok(config)
}

/// The one HTTP client stack: hyper with rustls on ring (no aws-lc, no second TLS stack).
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

#[derive(Debug, Error)]
#[error(
    "no AWS region is configured: pass --region (for example --region us-east-1), set {}, or use a profile that sets one",
    env_vars::AWS_REGION
)]
pub struct MissingRegion;

/// An AWS call that failed after the SDK's retries, described for a human: which call, what AWS
/// said, and what to do about it.
#[derive(Debug, Error)]
#[error("{}", self.describe())]
pub struct AwsCallError {
    /// The IAM action of the call, e.g. `sagemaker:ListModelPackages`.
    pub action: &'static str,
    /// The AWS error code, when the service answered with one.
    pub code: Option<String>,
    /// AWS's message, or the transport error's chain.
    pub detail: String,
    /// Who made the call, when it was denied and STS could tell (see [`explain_failure`]).
    pub principal: Option<String>,
    kind: FailureKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum FailureKind {
    AccessDenied,
    Service,
    Network,
    /// No usable credentials: a setup problem (bad input), not an AWS failure.
    Credentials,
}

impl AwsCallError {
    /// Classifies an SDK error by its error code (never by its message text).
    pub fn new<E, R>(action: &'static str, err: SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        match &err {
            SdkError::ServiceError(service) => {
                let inner = service.err();
                let code = inner.code().map(str::to_owned);
                let kind = match code.as_deref() {
                    Some(c) if is_access_denied(c) => FailureKind::AccessDenied,
                    _ => FailureKind::Service,
                };
                let detail = inner
                    .message()
                    .map(str::to_owned)
                    .unwrap_or_else(|| DisplayErrorContext(&err).to_string());
                Self {
                    action,
                    code,
                    detail,
                    principal: None,
                    kind,
                }
            }
            _ => Self {
                action,
                code: None,
                detail: DisplayErrorContext(&err).to_string(),
                principal: None,
                kind: FailureKind::Network,
            },
        }
    }

    /// The AWS error code, if the service answered with one.
    pub fn code(&self) -> Option<&str> {
        self.code.as_deref()
    }

    pub fn is_access_denied(&self) -> bool {
        self.kind == FailureKind::AccessDenied
    }

    /// True when the call failed for want of usable credentials (see [`explain_failure`]).
    pub fn is_missing_credentials(&self) -> bool {
        self.kind == FailureKind::Credentials
    }

    fn describe(&self) -> String {
        let action = self.action;
        match self.kind {
            FailureKind::AccessDenied => format!(
                "AWS denied {action} to {}: {}. Grant {} the permission {action} (in the pipeline that is the CodeBuild project's service role, on a laptop your profile's role), then run again.",
                self.principal.as_deref().unwrap_or("the caller"),
                self.detail,
                self.principal.as_deref().unwrap_or("the principal running this tool"),
            ),
            FailureKind::Service => format!(
                "AWS call {action} failed with {}: {}",
                self.code.as_deref().unwrap_or("an error"),
                self.detail
            ),
            FailureKind::Credentials => format!(
                "no usable AWS credentials for {action}: {}. Pass --profile NAME (or set AWS_PROFILE) or put credentials in the environment; an IAM Identity Center (SSO) profile must be used through a credential_process profile (see the README).",
                self.detail
            ),
            FailureKind::Network => format!(
                "AWS call {action} could not complete after {MAX_ATTEMPTS} attempts: {}. Check the network, the region and any AWS_ENDPOINT_URL setting, then run again.",
                self.detail
            ),
        }
    }
}

/// Makes a failed call's error say what to fix, at no cost on the happy path: an AccessDenied
/// error gains the caller's identity (STS GetCallerIdentity), and a call that failed before AWS
/// answered is checked against the credential chain, so "no credentials" (a setup problem) is not
/// reported as a network error. Anything else, or a failing probe, leaves the error unchanged.
pub async fn explain_failure(config: &SdkConfig, err: AwsCallError) -> AwsCallError {
    match err.kind {
        FailureKind::AccessDenied => name_principal(&aws_sdk_sts::Client::new(config), err).await,
        FailureKind::Network => match config.credentials_provider() {
            Some(provider) => {
                check_credentials(provider.provide_credentials().await.map(|_| ()), err)
            }
            None => check_credentials(Err("no credentials provider is configured".to_owned()), err),
        },
        FailureKind::Service | FailureKind::Credentials => err,
    }
}

fn check_credentials<E: std::fmt::Display>(
    probe: Result<(), E>,
    mut err: AwsCallError,
) -> AwsCallError {
    if let Err(why) = probe {
        err.kind = FailureKind::Credentials;
        err.detail = why.to_string();
    }
    err
}

async fn name_principal(sts: &aws_sdk_sts::Client, mut err: AwsCallError) -> AwsCallError {
    if err.principal.is_none() {
        if let Ok(identity) = sts.get_caller_identity().send().await {
            err.principal = identity.arn().map(str::to_owned);
        }
    }
    err
}

fn is_access_denied(code: &str) -> bool {
    matches!(
        code,
        "AccessDenied"
            | "AccessDeniedException"
            | "UnauthorizedOperation"
            | "AuthorizationError"
            | "ExpiredToken"
            | "ExpiredTokenException"
            | "InvalidClientTokenId"
            | "UnrecognizedClientException"
            | "SignatureDoesNotMatch"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_organizations::operation::list_roots::ListRootsError;
    use aws_sdk_sts::operation::get_caller_identity::GetCallerIdentityOutput;
    use aws_smithy_mocks::{mock, mock_client};
    use aws_smithy_types::error::ErrorMetadata;

    /// An AccessDenied answer to a real (mocked) SDK call, classified by its error code.
    async fn denied() -> AwsCallError {
        let rule = mock!(aws_sdk_organizations::Client::list_roots).then_error(|| {
            ListRootsError::generic(
                ErrorMetadata::builder()
                    .code("AccessDeniedException")
                    .message("not authorized")
                    .build(),
            )
        });
        let client = mock_client!(aws_sdk_organizations, [&rule]);
        let err = client.list_roots().send().await.unwrap_err();
        AwsCallError::new("organizations:ListRoots", err)
    }

    #[tokio::test]
    async fn access_denied_names_the_permission_and_the_fix() {
        let err = denied().await;
        assert!(err.is_access_denied());
        let message = err.to_string();
        assert!(
            message
                .starts_with("AWS denied organizations:ListRoots to the caller: not authorized."),
            "{message}"
        );
        assert!(
            message.contains("the permission organizations:ListRoots"),
            "{message}"
        );
    }

    #[tokio::test]
    async fn access_denied_names_the_principal_from_sts() {
        let identity = mock!(aws_sdk_sts::Client::get_caller_identity).then_output(|| {
            GetCallerIdentityOutput::builder()
                .arn("arn:aws:sts::111122223333:assumed-role/ci/build")
                .build()
        });
        let sts = mock_client!(aws_sdk_sts, [&identity]);
        let err = name_principal(&sts, denied().await).await;
        assert!(
            err.to_string()
                .contains("to arn:aws:sts::111122223333:assumed-role/ci/build:"),
            "{err}"
        );
    }
}
