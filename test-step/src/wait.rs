//! Waiting for an endpoint to be InService. The StackSet action returns when the stacks are
//! created, but an endpoint update (a new model, a blue/green shift) can still be running, and the
//! seed failed at once on anything but InService (B5). Creating, Updating and SystemUpdating are
//! waited out with exponential backoff up to `--wait-timeout`, with a progress line at least every
//! 30 s (CodeBuild shows no spinner, and a silent build looks hung); every other state, and a
//! missing endpoint, fails the target with the endpoint's FailureReason.

use std::time::Duration;

use aws_sdk_sagemaker::types::EndpointStatus;
use deploy_core::duration::human;
use deploy_core::inputs;
use deploy_core::remote_text::{contained, MAX_MESSAGE_CHARS};
use deploy_core::targets::Target;
use deploy_core::verdict::Cause;
use deploy_shell::AwsCallError;

use crate::clock::Clock;
use crate::session::Session;
use crate::slots::Slot;

/// How to wait.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct WaitPolicy {
    pub(crate) timeout: Duration,
    pub(crate) first_delay: Duration,
    pub(crate) max_delay: Duration,
    pub(crate) progress_every: Duration,
}

impl WaitPolicy {
    pub(crate) fn with_timeout(timeout: Duration) -> Self {
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
pub(crate) struct WaitRecord {
    pub(crate) polls: u32,
    pub(crate) waited: Duration,
    pub(crate) last_status: Option<String>,
}

/// An InService endpoint, as the model check needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InService {
    pub(crate) endpoint_config_name: String,
}

pub(crate) struct Waiter<'a> {
    pub(crate) clock: &'a dyn Clock,
    pub(crate) policy: WaitPolicy,
    pub(crate) progress: &'a (dyn Fn(String) + Send + Sync),
}

impl Waiter<'_> {
    /// Polls DescribeEndpoint until `endpoint` is InService, fails, or the timeout passes,
    /// giving `slot` back while it sleeps between polls.
    pub(crate) async fn until_in_service(
        &self,
        session: &mut Session,
        slot: &mut Slot,
        target: &Target,
        endpoint: &str,
        record: &mut WaitRecord,
    ) -> Result<InService, Cause> {
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
                    let failure = session.describe_failure(&err, |detail| {
                        Cause::NotInService(format!("{place} does not exist ({detail}); check the StackSet's stack instance for this account and region"))
                    });
                    if matches!(failure, Cause::NotInService(_)) {
                        record.last_status = None;
                    }
                    return Err(failure);
                }
            };
            let status = out.endpoint_status().cloned();
            let status_name = status
                .as_ref()
                .map_or_else(|| "(no status)".into(), |s| s.as_str().to_owned());
            record.last_status = Some(status_name.clone());
            let reason = out
                .failure_reason()
                .filter(|r| !r.is_empty())
                .map(|r| contained(r, MAX_MESSAGE_CHARS));
            match status {
                Some(EndpointStatus::InService) => {
                    if let Some(reason) = &reason {
                        tracing::warn!(
                            "{place} is InService but reports a FailureReason ({reason}); an update may have rolled back, the model check decides"
                        );
                    }
                    let Some(config) = out.endpoint_config_name().filter(|c| !c.is_empty()) else {
                        return Err(Cause::NotInService(format!(
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
                        return Err(Cause::NotInService(format!(
                            "{place} is still {status_name} after {}, the {}; check its progress in the SageMaker console or raise {}",
                            human(waited),
                            inputs::WAIT_TIMEOUT,
                            inputs::WAIT_TIMEOUT
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
                            ));
                        }
                        Some(_) => {}
                    }
                    if last_progress.is_none_or(|at| {
                        now.saturating_duration_since(at) >= self.policy.progress_every
                    }) {
                        last_progress = Some(now);
                    }
                    let sleep = delay.min(deadline.saturating_duration_since(now));
                    slot.release();
                    self.clock.sleep(sleep).await;
                    slot.hold().await;
                    delay = (delay * 2).min(self.policy.max_delay);
                }
                _ => {
                    return Err(Cause::NotInService(format!(
                        "{place} is {status_name}: {}",
                        reason.unwrap_or_else(|| "SageMaker gives no FailureReason".into())
                    )));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use aws_sdk_sagemaker::operation::describe_endpoint::{
        DescribeEndpointError, DescribeEndpointOutput,
    };
    use aws_smithy_mocks::{mock, Rule};

    use super::*;
    use crate::clock::FakeClock;
    use crate::slots::Slots;
    use crate::test_kit::{
        assume_role, endpoint, error, in_service_after, role, target, Factory, ENDPOINT,
    };

    /// What one wait did: its result, its record, every sleep and every progress line.
    struct Waited {
        result: Result<InService, Cause>,
        record: WaitRecord,
        sleeps: Vec<u64>,
        elapsed: Duration,
        progress: Vec<String>,
    }

    async fn wait(describe: &Rule, timeout: Duration) -> Waited {
        let clock = Arc::new(FakeClock::default());
        let sts = assume_role(Duration::from_hours(1));
        let mut session = Session::open(
            role(&[&sts]),
            Factory::new(&[describe], &[]),
            clock.clone(),
            target(),
        )
        .await
        .unwrap();
        let progress = Mutex::new(Vec::new());
        let report_progress = |line: String| progress.lock().unwrap().push(line);
        let waiter = Waiter {
            clock: clock.as_ref(),
            policy: WaitPolicy::with_timeout(timeout),
            progress: &report_progress,
        };
        let mut record = WaitRecord::default();
        let mut slot = Slots::new(1).claim();
        let result = waiter
            .until_in_service(&mut session, &mut slot, &target(), ENDPOINT, &mut record)
            .await;
        Waited {
            result,
            record,
            sleeps: clock.sleeps().iter().map(Duration::as_secs).collect(),
            elapsed: clock.elapsed(),
            progress: progress.into_inner().unwrap(),
        }
    }

    const HALF_AN_HOUR: Duration = Duration::from_mins(30);

    /// Pins B5: an endpoint that is still updating is waited out, not failed at once.
    #[tokio::test]
    async fn b5_in_service_after_waits_with_backoff_and_a_progress_line_every_30s() {
        let describe = in_service_after(EndpointStatus::Updating, 6);

        let waited = wait(&describe, HALF_AN_HOUR).await;

        assert_eq!(
            waited.result,
            Ok(InService {
                endpoint_config_name: "churn-staging-config".into()
            })
        );
        assert_eq!(waited.sleeps, [5, 10, 20, 30, 30, 30]);
        assert_eq!(
            waited.record,
            WaitRecord {
                polls: 7,
                waited: Duration::from_secs(125),
                last_status: Some("InService".into()),
            }
        );
        assert_eq!(
            waited.progress,
            [
                "endpoint churn-staging in account 222222222222 region eu-west-1 is Updating; waiting up to 30m0s",
                "endpoint churn-staging in account 222222222222 region eu-west-1 is still Updating after 35s",
                "endpoint churn-staging in account 222222222222 region eu-west-1 is still Updating after 1m5s",
                "endpoint churn-staging in account 222222222222 region eu-west-1 is still Updating after 1m35s",
            ]
        );
    }

    #[tokio::test]
    async fn a_failed_endpoint_fails_at_once_with_its_failure_reason() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_output(|| {
            DescribeEndpointOutput::builder()
                .endpoint_name(ENDPOINT)
                .endpoint_status(EndpointStatus::Failed)
                .failure_reason("Image 1.dkr.ecr/x:latest does not exist")
                .build()
        });

        let waited = wait(&describe, HALF_AN_HOUR).await;

        assert_eq!(
            waited.result,
            Err(Cause::NotInService("endpoint churn-staging in account 222222222222 region eu-west-1 is Failed: Image 1.dkr.ecr/x:latest does not exist".into()))
        );
        assert!(
            waited.sleeps.is_empty(),
            "a failed endpoint is not waited for"
        );
        assert_eq!(waited.record.last_status.as_deref(), Some("Failed"));
    }

    #[tokio::test]
    async fn rolling_back_and_out_of_service_fail_without_waiting() {
        for status in [EndpointStatus::RollingBack, EndpointStatus::OutOfService] {
            let shown = status.as_str().to_owned();
            let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
                .then_output(move || endpoint(status.clone()));
            let waited = wait(&describe, HALF_AN_HOUR).await;
            let Err(Cause::NotInService(error)) = waited.result else {
                panic!("{shown}: {:?}", waited.result);
            };
            assert!(
                error.contains(&format!("is {shown}: SageMaker gives no FailureReason")),
                "{error}"
            );
            assert!(waited.sleeps.is_empty(), "{shown}");
        }
    }

    #[tokio::test]
    async fn the_wait_gives_up_at_the_timeout() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
            .then_output(|| endpoint(EndpointStatus::Creating));

        let waited = wait(&describe, Duration::from_mins(1)).await;

        let Err(Cause::NotInService(error)) = waited.result else {
            panic!("{:?}", waited.result);
        };
        assert!(
            error.contains("is still Creating after 1m0s, the --wait-timeout"),
            "{error}"
        );
        assert_eq!(
            waited.sleeps,
            [5, 10, 20, 25],
            "the last sleep stops at the deadline"
        );
        assert_eq!(waited.elapsed, Duration::from_mins(1));
    }

    /// SageMaker answers DescribeEndpoint for a missing endpoint with a ValidationException.
    #[tokio::test]
    async fn a_missing_endpoint_fails_pointing_at_the_stack_instance() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_error(|| {
            DescribeEndpointError::generic(error(
                "ValidationException",
                "Could not find endpoint \"churn-staging\".",
            ))
        });

        let waited = wait(&describe, HALF_AN_HOUR).await;

        assert_eq!(
            waited.result,
            Err(Cause::NotInService("endpoint churn-staging in account 222222222222 region eu-west-1 does not exist (Could not find endpoint \"churn-staging\".); check the StackSet's stack instance for this account and region".into()))
        );
        assert_eq!(waited.record.last_status, None);
        assert_eq!(waited.record.polls, 1);
    }
}
