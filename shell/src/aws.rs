//! One way to reach AWS for both binaries: the same `--region`/`--profile` flags, one `SdkConfig`
//! loader with the one HTTP client (`http`), deliberate retries and timeouts, and one error type
//! that names the failed call. Every client, including
//! those built from assumed-role credentials, comes from this config, so `AWS_ENDPOINT_URL*` always
//! applies.

use std::fmt::Display;
use std::ops::RangeInclusive;
use std::str::FromStr;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::client::result::SdkError;
use aws_smithy_types::error::display::DisplayErrorContext;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use clap::Args;
use thiserror::Error;

use deploy_core::inputs;
use deploy_core::remote_text::{contained, MAX_MESSAGE_CHARS};
use deploy_core::ExitStatus;

/// Attempts per call, the first included (`AWS_MAX_ATTEMPTS` overrides it). Standard (not
/// adaptive) retry: these tools make a handful of calls, so client-side rate limiting has nothing
/// to learn from.
pub const MAX_ATTEMPTS: u32 = 3;
/// A TCP/TLS connection that takes longer than this is treated as a transient failure.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// Longest wait for one response to a control-plane call (the registry, Organizations, STS, the
/// Describe calls), which AWS answers in well under a second: with every attempt, a hung call
/// gives up within [`CONTROL_PLANE_GIVES_UP_WITHIN`] (`DEPLOY_STEPS_READ_TIMEOUT_SECONDS`
/// overrides it).
pub const READ_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest wait for one InvokeEndpoint response: SageMaker lets a model take up to 60 s
/// (`DEPLOY_STEPS_READ_TIMEOUT_SECONDS` overrides it too).
pub const INVOKE_READ_TIMEOUT: Duration = Duration::from_secs(65);
/// The promise the control-plane timeouts keep at the defaults.
pub const CONTROL_PLANE_GIVES_UP_WITHIN: Duration = Duration::from_secs(90);
/// The SDK caps each retry's backoff at this.
const MAX_BACKOFF: Duration = Duration::from_secs(20);
/// The SDK's standard backoff: retry n waits a random time up to this times 2^(n-1), at most 20 s
/// (`DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS` overrides it).
pub const INITIAL_BACKOFF: Duration = Duration::from_secs(1);

/// The code of [`AwsCallError::repeated_token`].
const REPEATED_TOKEN: &str = "RepeatedNextToken";
/// The code of [`AwsCallError::incomplete`].
const INCOMPLETE_ANSWER: &str = "IncompleteAnswer";

/// The attempts the loaded config makes, for messages about calls that ran out of them.
static CONFIGURED_ATTEMPTS: AtomicU32 = AtomicU32::new(MAX_ATTEMPTS);

/// The AWS flags both binaries accept.
#[derive(Debug, Clone, Default, Args)]
pub struct AwsArgs {
    /// AWS region [default: the profile's or the environment's region]
    #[arg(long = inputs::REGION.flag, env = inputs::REGION.env, value_name = "REGION")]
    pub region: Option<String>,
    /// Named profile from ~/.aws/config (SSO profiles work)
    #[arg(long = inputs::PROFILE.flag, env = inputs::PROFILE.env, value_name = "NAME")]
    pub profile: Option<String>,
}

/// How hard each call is tried: the constants above unless the environment overrides them. The
/// overrides are environment-only (no flags): they exist so a test can make a timeout cost seconds
/// instead of a minute, and so an operator can give a slow link more patience, not for daily use.
/// The SDK would read `AWS_MAX_ATTEMPTS` itself, but an explicit retry config replaces everything
/// it reads (and it panics on 0), so the variable is read and checked here instead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    pub max_attempts: u32,
    /// For control-plane calls.
    pub read_timeout: Duration,
    /// For InvokeEndpoint.
    pub invoke_read_timeout: Duration,
    pub initial_backoff: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            max_attempts: MAX_ATTEMPTS,
            read_timeout: READ_TIMEOUT,
            invoke_read_timeout: INVOKE_READ_TIMEOUT,
            initial_backoff: INITIAL_BACKOFF,
        }
    }
}

impl RetryPolicy {
    /// The policy with the overrides `var` finds (a lookup such as `std::env::var(..).ok()`); an
    /// empty variable counts as unset (B10). A value that is not a whole number in range is bad
    /// input, never silently replaced by the default.
    pub fn from_env(var: impl Fn(&str) -> Option<String>) -> Result<Self, AwsSetupError> {
        let defaults = Self::default();
        // One override for both read timeouts: a test shortens every wait, an operator on a slow
        // link lengthens every wait.
        let read_timeout = setting(
            &var,
            inputs::READ_TIMEOUT.var(),
            1..=900,
            &format!(
                "the defaults ({} for control-plane calls, {} for InvokeEndpoint)",
                defaults.read_timeout.as_secs(),
                defaults.invoke_read_timeout.as_secs()
            ),
        )?;
        let overridden = |default| read_timeout.map_or(default, Duration::from_secs);
        Ok(Self {
            max_attempts: setting(
                &var,
                inputs::MAX_ATTEMPTS.var(),
                1..=10,
                &format!("the default {}", defaults.max_attempts),
            )?
            .unwrap_or(defaults.max_attempts),
            read_timeout: overridden(defaults.read_timeout),
            invoke_read_timeout: overridden(defaults.invoke_read_timeout),
            initial_backoff: setting(
                &var,
                inputs::RETRY_INITIAL_BACKOFF.var(),
                1..=20_000,
                &format!("the default {}", defaults.initial_backoff.as_millis()),
            )?
            .map_or(defaults.initial_backoff, Duration::from_millis),
        })
    }

    fn retry_config(&self) -> RetryConfig {
        RetryConfig::standard()
            .with_max_attempts(self.max_attempts)
            .with_initial_backoff(self.initial_backoff)
    }

    fn timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(self.read_timeout)
            .build()
    }

    /// The timeouts of the SageMaker Runtime client (InvokeEndpoint).
    pub fn invoke_timeout_config(&self) -> TimeoutConfig {
        TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .read_timeout(self.invoke_read_timeout)
            .build()
    }

    /// The longest a call that never answers can hold a run with `read_timeout` per attempt:
    /// every attempt's connect and read, and the longest backoff before each retry.
    pub fn gives_up_within(&self, read_timeout: Duration) -> Duration {
        let attempts = (CONNECT_TIMEOUT + read_timeout) * self.max_attempts;
        let backoffs: Duration = (1..self.max_attempts)
            .map(|retry| (self.initial_backoff * 2_u32.pow(retry - 1)).min(MAX_BACKOFF))
            .sum();
        attempts + backoffs
    }
}

/// The variable's value, checked against `range`; `None` when it is unset or empty. `default`
/// says in a message what unset means.
fn setting<T>(
    var: impl Fn(&str) -> Option<String>,
    name: &'static str,
    range: RangeInclusive<T>,
    default: &str,
) -> Result<Option<T>, AwsSetupError>
where
    T: FromStr + PartialOrd + Display,
{
    let Some(text) = var(name).filter(|v| !v.trim().is_empty()) else {
        return Ok(None);
    };
    match text.trim().parse::<T>() {
        Ok(value) if range.contains(&value) => Ok(Some(value)),
        _ => Err(AwsSetupError::BadSetting {
            name,
            value: text,
            expected: format!(
                "a whole number from {} to {}, or unset for {default}",
                range.start(),
                range.end()
            ),
        }),
    }
}

/// A run's AWS settings, checked with its other inputs before any call: the flags, and the retry
/// policy the environment asks for.
#[derive(Debug, Clone)]
pub struct AwsSettings {
    pub args: AwsArgs,
    pub retry: RetryPolicy,
}

impl AwsSettings {
    /// `args` with the retry policy of this process's environment.
    pub fn from_env(args: &AwsArgs) -> Result<Self, AwsSetupError> {
        Ok(Self {
            args: args.clone(),
            retry: RetryPolicy::from_env(|name| std::env::var(name).ok())?,
        })
    }
}

/// Loads the shared SDK config: default credential chain (env, profile/SSO, CodeBuild's container
/// credentials), the region from the flags or environment, and this project's retry/timeout policy.
pub async fn load_sdk_config(settings: &AwsSettings) -> Result<SdkConfig, AwsSetupError> {
    let (args, policy) = (&settings.args, settings.retry);
    CONFIGURED_ATTEMPTS.store(policy.max_attempts, Ordering::Relaxed);
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(crate::http::http_client())
        .retry_config(policy.retry_config())
        .timeout_config(policy.timeout_config());
    if let Some(profile) = args.profile.as_deref().filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = args.region.as_deref().filter(|r| !r.is_empty()) {
        loader = loader.region(Region::new(region.to_owned()));
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(AwsSetupError::MissingRegion);
    }
    Ok(config)
}

/// The AWS setup is unusable before any call is made: bad input (exit 2).
#[derive(Debug, Error)]
pub enum AwsSetupError {
    #[error(
        "no AWS region is configured: {} (for example us-east-1), or use a profile that sets one",
        inputs::REGION.how_to_set()
    )]
    MissingRegion,
    #[error("{name} is \"{value}\": write {expected}")]
    BadSetting {
        name: &'static str,
        value: String,
        expected: String,
    },
}

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
    /// Classifies an SDK error by its error code (never by its message text). It takes the error
    /// by value, as `map_err(|e| AwsCallError::new(action, e))` hands it over.
    #[allow(clippy::needless_pass_by_value)]
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
                // AWS's own words, which may quote input or a model's output: bounded, one line.
                let detail = contained(
                    &inner
                        .message()
                        .map_or_else(|| DisplayErrorContext(&err).to_string(), str::to_owned),
                    MAX_MESSAGE_CHARS,
                );
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
                detail: contained(&DisplayErrorContext(&err).to_string(), MAX_MESSAGE_CHARS),
                principal: None,
                kind: FailureKind::Network,
            },
        }
    }

    /// A paginated call that answered with a NextToken it had answered with before: its pages
    /// would never end, so the walk stops (exit 3) instead of looping.
    pub fn repeated_token(action: &'static str) -> Self {
        Self {
            action,
            code: Some(REPEATED_TOKEN.to_owned()),
            detail: "it returned a NextToken it had returned before, so its pages would never end; run again, and if it repeats, report it to AWS Support".to_owned(),
            principal: None,
            kind: FailureKind::Service,
        }
    }

    /// A call that answered without something it always returns: nothing to retry here.
    pub fn incomplete(action: &'static str, missing: &str) -> Self {
        Self {
            action,
            code: Some(INCOMPLETE_ANSWER.to_owned()),
            detail: format!("its answer lacked {missing}; run again, and if it repeats, report it to AWS Support"),
            principal: None,
            kind: FailureKind::Service,
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

    /// How a run this error stopped ends: bad input (2) when the call failed for want of usable
    /// credentials, a setup problem the user fixes; an AWS or network failure (3) otherwise.
    pub fn exit_status(&self) -> ExitStatus {
        if self.is_missing_credentials() {
            ExitStatus::BadInput
        } else {
            ExitStatus::AwsError
        }
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
                "no usable AWS credentials for {action}: {}. Name a profile ({}) or put credentials in the environment; an IAM Identity Center (SSO) profile must be used through a credential_process profile (see the README).",
                self.detail,
                inputs::PROFILE.how_to_set()
            ),
            FailureKind::Network => format!(
                "AWS call {action} could not complete after {} attempts: {}. Check the network, the region and any AWS_ENDPOINT_URL setting, then run again.",
                CONFIGURED_ATTEMPTS.load(Ordering::Relaxed),
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

fn check_credentials<E: Display>(probe: Result<(), E>, mut err: AwsCallError) -> AwsCallError {
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

    fn policy(vars: &[(&str, &str)]) -> Result<RetryPolicy, AwsSetupError> {
        RetryPolicy::from_env(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn the_retry_policy_defaults_to_3_attempts_20s_or_65s_and_1s_backoff() {
        let defaults = RetryPolicy {
            max_attempts: 3,
            read_timeout: Duration::from_secs(20),
            invoke_read_timeout: Duration::from_secs(65),
            initial_backoff: Duration::from_secs(1),
        };
        assert_eq!(policy(&[]).unwrap(), defaults);
        // Empty means unset (B10).
        assert_eq!(
            policy(&[
                ("AWS_MAX_ATTEMPTS", ""),
                ("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", " ")
            ])
            .unwrap(),
            defaults
        );
        let config = policy(&[]).unwrap();
        assert_eq!(
            config.retry_config().mode(),
            aws_config::retry::RetryMode::Standard
        );
        assert_eq!(
            config.timeout_config().connect_timeout(),
            Some(CONNECT_TIMEOUT)
        );
    }

    #[test]
    fn the_environment_overrides_attempts_read_timeout_and_backoff() {
        let tuned = policy(&[
            ("AWS_MAX_ATTEMPTS", "5"),
            ("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", " 2 "),
            ("DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS", "10"),
        ])
        .unwrap();
        assert_eq!(
            tuned,
            RetryPolicy {
                max_attempts: 5,
                read_timeout: Duration::from_secs(2),
                invoke_read_timeout: Duration::from_secs(2),
                initial_backoff: Duration::from_millis(10),
            }
        );
        assert_eq!(tuned.retry_config().max_attempts(), 5);
        assert_eq!(
            tuned.retry_config().initial_backoff(),
            Duration::from_millis(10)
        );
        assert_eq!(
            tuned.timeout_config().read_timeout(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            tuned.invoke_timeout_config().read_timeout(),
            Some(Duration::from_secs(2))
        );
    }

    /// A control-plane call that never answers gives up within 90 s at the defaults (every
    /// attempt's connect and read timeouts and the longest backoffs), while InvokeEndpoint keeps
    /// room for a model that takes the 60 s SageMaker allows.
    #[test]
    fn a_hung_control_plane_call_gives_up_within_90_s_at_the_defaults() {
        let defaults = RetryPolicy::default();
        let control_plane = defaults.gives_up_within(defaults.read_timeout);
        assert_eq!(control_plane, Duration::from_secs(3 * (5 + 20) + 1 + 2));
        assert!(control_plane <= CONTROL_PLANE_GIVES_UP_WITHIN);
        assert!(defaults.invoke_read_timeout > Duration::from_secs(60));
        assert_eq!(
            defaults.invoke_timeout_config().read_timeout(),
            Some(INVOKE_READ_TIMEOUT)
        );
    }

    #[test]
    fn a_bad_override_is_named_with_its_range_and_default() {
        for (name, value, expected) in [
            ("AWS_MAX_ATTEMPTS", "0", "AWS_MAX_ATTEMPTS is \"0\": write a whole number from 1 to 10, or unset for the default 3"),
            ("AWS_MAX_ATTEMPTS", "three", "AWS_MAX_ATTEMPTS is \"three\": write a whole number from 1 to 10"),
            ("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "1.5", "DEPLOY_STEPS_READ_TIMEOUT_SECONDS is \"1.5\": write a whole number from 1 to 900, or unset for the defaults (20 for control-plane calls, 65 for InvokeEndpoint)"),
            ("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "-1", "DEPLOY_STEPS_READ_TIMEOUT_SECONDS is \"-1\": write a whole number from 1 to 900"),
            ("DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS", "20001", "DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS is \"20001\": write a whole number from 1 to 20000, or unset for the default 1000"),
        ] {
            let message = policy(&[(name, value)]).unwrap_err().to_string();
            assert!(message.starts_with(expected), "{name}={value}: {message}");
        }
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
    async fn missing_credentials_end_a_run_as_bad_input_and_other_failures_as_aws_errors() {
        let denied = denied().await;
        assert_eq!(denied.exit_status(), ExitStatus::AwsError);
        assert_eq!(
            AwsCallError::repeated_token("sts:GetCallerIdentity").exit_status(),
            ExitStatus::AwsError
        );
        let unusable = check_credentials(Err("no profile named ci"), denied);
        assert!(unusable.is_missing_credentials());
        assert_eq!(unusable.exit_status(), ExitStatus::BadInput);
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
