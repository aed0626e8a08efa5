//! Waiting for an endpoint to be InService. The StackSet action returns when the stacks are
//! created, but an endpoint update (a new model, a blue/green shift) can still be running, and the
//! seed failed at once on anything but InService (B5). Creating, Updating and SystemUpdating are
//! waited out with exponential backoff up to `--wait-timeout`, with a progress line at least every
//! 30 s (CodeBuild shows no spinner, and a silent build looks hung); every other state, and a
//! missing endpoint, fails the target with the endpoint's FailureReason.

use std::time::Duration;

use aws_sdk_sagemaker::types::EndpointStatus;
use deploy_common::AwsCallError;

use crate::clock::Clock;
use crate::session::Session;
use crate::target::{Target, TargetError};

/// How to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WaitPolicy {
    pub timeout: Duration,
    pub first_delay: Duration,
    pub max_delay: Duration,
    pub progress_every: Duration,
}

impl WaitPolicy {
    pub fn with_timeout(timeout: Duration) -> Self {
        Self {
            timeout,
            first_delay: Duration::from_secs(5),
            max_delay: Duration::from_secs(30),
            progress_every: Duration::from_secs(30),
        }
    }
}

/// What the wait saw, kept for the report whatever the outcome.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WaitRecord {
    pub polls: u32,
    pub waited: Duration,
    pub last_status: Option<String>,
}

/// An InService endpoint, as the model check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InService {
    pub endpoint_config_name: String,
}

pub struct Waiter<'a> {
    pub clock: &'a dyn Clock,
    pub policy: WaitPolicy,
    pub progress: &'a (dyn Fn(String) + Send + Sync),
}

impl Waiter<'_> {
    /// Polls DescribeEndpoint until `endpoint` is InService, fails, or the timeout passes.
    pub async fn until_in_service(
        &self,
        session: &mut Session,
        target: &Target,
        endpoint: &str,
        record: &mut WaitRecord,
    ) -> Result<InService, TargetError> {
        let start = self.clock.now();
        let deadline = start + self.policy.timeout;
        let mut delay = self.policy.first_delay;
        let mut last_progress = None;
        let place = format!(
            "endpoint {endpoint} in account {} region {}",
            target.account_id, target.region
        );
        loop {
            let sagemaker = session.sagemaker().await?;
            let described = sagemaker
                .describe_endpoint()
                .endpoint_name(endpoint)
                .send()
                .await;
            record.polls += 1;
            record.waited = self.clock.now().saturating_duration_since(start);
            let out = match described {
                Ok(out) => out,
                Err(err) => {
                    let err = AwsCallError::new("sagemaker:DescribeEndpoint", err);
                    // SageMaker answers a missing endpoint with a ValidationException.
                    if err.code() == Some("ValidationException") {
                        record.last_status = None;
                        return Err(TargetError::Failed(format!(
                            "{place} does not exist ({}); check the StackSet's stack instance for this account and region",
                            err.detail
                        )));
                    }
                    return Err(TargetError::Error(session.explain(err)));
                }
            };
            let status = out.endpoint_status().cloned();
            let status_name = status
                .as_ref()
                .map(|s| s.as_str().to_owned())
                .unwrap_or_else(|| "(no status)".into());
            record.last_status = Some(status_name.clone());
            let reason = out
                .failure_reason()
                .filter(|r| !r.is_empty())
                .map(str::to_owned);
            match status {
                Some(EndpointStatus::InService) => {
                    if let Some(reason) = &reason {
                        tracing::warn!(
                            "{place} is InService but reports a FailureReason ({reason}); an update may have rolled back, the model check decides"
                        );
                    }
                    let Some(config) = out.endpoint_config_name().filter(|c| !c.is_empty()) else {
                        return Err(TargetError::Failed(format!(
                            "{place} is InService but DescribeEndpoint names no endpoint config"
                        )));
                    };
                    return Ok(InService {
                        endpoint_config_name: config.to_owned(),
                    });
                }
                Some(
                    EndpointStatus::Creating
                    | EndpointStatus::Updating
                    | EndpointStatus::SystemUpdating,
                ) => {
                    let now = self.clock.now();
                    let waited = now.saturating_duration_since(start);
                    if now >= deadline {
                        return Err(TargetError::Failed(format!(
                            "{place} is still {status_name} after {}, the --wait-timeout; check its progress in the SageMaker console or raise --wait-timeout",
                            human(waited)
                        )));
                    }
                    match last_progress {
                        None => (self.progress)(format!(
                            "{place} is {status_name}; waiting up to {}",
                            human(self.policy.timeout)
                        )),
                        Some(at)
                            if now.saturating_duration_since(at) >= self.policy.progress_every =>
                        {
                            (self.progress)(format!(
                                "{place} is still {status_name} after {}",
                                human(waited)
                            ))
                        }
                        Some(_) => {}
                    }
                    if last_progress.is_none_or(|at| {
                        now.saturating_duration_since(at) >= self.policy.progress_every
                    }) {
                        last_progress = Some(now);
                    }
                    let sleep = delay.min(deadline.saturating_duration_since(now));
                    self.clock.sleep(sleep).await;
                    delay = (delay * 2).min(self.policy.max_delay);
                }
                _ => {
                    return Err(TargetError::Failed(format!(
                        "{place} is {status_name}: {}",
                        reason.unwrap_or_else(|| "SageMaker gives no FailureReason".into())
                    )));
                }
            }
        }
    }
}

/// `45s`, `2m30s`, `1h5m0s`.
pub fn human(d: Duration) -> String {
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(150)), "2m30s");
        assert_eq!(human(Duration::from_secs(3900)), "1h5m0s");
    }
}
