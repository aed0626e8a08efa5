//! Testing targets (an account and a region each), as orchestration: assume the role, wait for
//! the endpoint, check that it serves the exported model package, invoke it with every case of
//! the manifest. Whatever happens, a target ends as a [`TargetReport`] settled by
//! `deploy_core::verdict` from how its test ended: a failure or an AWS error in one account
//! never stops the others, and the report always has every case of every target. Targets run
//! concurrently, at most `--concurrency` making calls at once (`slots`), and their reports come
//! back in target order; a stop (`stop`) ends the run with the targets not yet finished as errors
//! that say what stopped them.

use std::sync::Arc;

use deploy_core::drift::ExpectedSettings;
use deploy_core::manifest::Manifest;
use deploy_core::report::{seconds, CheckStatus, TargetReport, TargetStatus};
use deploy_core::targets::Target;
use deploy_core::verdict::Cause;

use crate::clock::Clock;
use crate::each_target::each_target;
use crate::invoke::Invoker;
use crate::model_check::{check_model, Expected};
use crate::session::{ClientFactory, RoleToAssume, Session};
use crate::slots::{Slot, Slots};
use crate::stop::{Stop, StopReason};
use crate::wait::{WaitPolicy, WaitRecord, Waiter};

/// Everything every target's test shares.
pub(crate) struct Tester {
    pub(crate) role: RoleToAssume,
    pub(crate) factory: Arc<dyn ClientFactory>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) progress: Arc<dyn Fn(String) + Send + Sync>,
    pub(crate) wait: WaitPolicy,
    pub(crate) endpoint_name: String,
    pub(crate) model_package_name: String,
    pub(crate) settings: ExpectedSettings,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) invocations: u32,
}

impl Tester {
    /// The report of a target whose test did not finish, for `cause`: every case not run.
    fn unfinished(&self, target: &Target, cause: Cause) -> TargetReport {
        let mut report = self.blank_report(target);
        report.settle(Err(cause), &self.manifest.cases, self.invocations);
        report
    }

    /// A report for `target` with nothing measured yet, an error until it is settled.
    fn blank_report(&self, target: &Target) -> TargetReport {
        TargetReport::new(
            target,
            &self.endpoint_name,
            self.role.role_arn(&target.account_id),
            TargetStatus::Error,
        )
    }

    /// Tests one target, holding `slot` while it makes calls; never fails: the outcome is in
    /// the report.
    pub(crate) async fn test(&self, target: &Target, slot: &mut Slot) -> TargetReport {
        slot.hold().await;
        let started = self.clock.now();
        let mut report = self.blank_report(target);
        let mut record = WaitRecord::default();
        let ended = self.run(target, slot, &mut report, &mut record).await;
        report.endpoint_status = record.last_status;
        report.wait_seconds = seconds(record.waited);
        report.polls = record.polls;
        let outcome = report.settle(ended, &self.manifest.cases, self.invocations);
        report.duration_seconds = seconds(self.clock.now().saturating_duration_since(started));
        let label = format!("account {} region {}", target.account_id, target.region);
        match outcome.cause() {
            None => tracing::info!("{label}: passed"),
            Some(cause) if cause.status() == TargetStatus::Error => {
                tracing::warn!("{label}: could not be tested: {cause}");
            }
            Some(cause) => tracing::warn!("{label}: failed: {cause}"),
        }
        report
    }

    async fn run(
        &self,
        target: &Target,
        slot: &mut Slot,
        report: &mut TargetReport,
        record: &mut WaitRecord,
    ) -> Result<(), Cause> {
        let mut session = Session::open(
            self.role.clone(),
            self.factory.clone(),
            self.clock.clone(),
            target.clone(),
        )
        .await?;
        let waiter = Waiter {
            clock: self.clock.as_ref(),
            policy: self.wait,
            progress: self.progress.as_ref(),
        };
        let endpoint = waiter
            .until_in_service(&mut session, slot, target, &self.endpoint_name, record)
            .await?;
        let check = check_model(
            &mut session,
            &self.endpoint_name,
            &endpoint.endpoint_config_name,
            &Expected {
                package: &self.model_package_name,
                settings: &self.settings,
            },
        )
        .await?;
        let serverless = check.may_cold_start();
        let wrong = match check.status {
            CheckStatus::Passed => None,
            _ if check.serves_package() => {
                Some(Cause::Drifted(check.drift_message(&self.endpoint_name)))
            }
            CheckStatus::Failed => Some(Cause::ServesAnotherPackage(
                check.stale_message(&self.endpoint_name),
            )),
        };
        report.model_check = Some(check);
        if let Some(cause) = wrong {
            return Err(cause);
        }
        let mut invoker = Invoker::new(
            self.clock.as_ref(),
            &self.endpoint_name,
            self.invocations,
            serverless,
        );
        for case in &self.manifest.cases {
            let case_report = invoker.case(&mut session, case).await;
            report.first_call.clone_from(&invoker.first_call);
            report.cases.push(case_report?);
        }
        Ok(())
    }
}

/// Every target's report, in target order, and what stopped the run if something did.
#[derive(Debug)]
pub(crate) struct Tested {
    pub(crate) reports: Vec<TargetReport>,
    pub(crate) stopped: Option<StopReason>,
}

/// Tests every target, at most as many making calls at once as `slots` allows, until all are done
/// or `stop` comes.
pub(crate) async fn test_all(
    tester: Arc<Tester>,
    targets: &[Target],
    slots: &Slots,
    stop: &Stop,
) -> Tested {
    let finished = each_target(targets, slots, stop, |target, mut slot| {
        let tester = tester.clone();
        async move { tester.test(&target, &mut slot).await }
    })
    .await;
    // A target that did not finish is settled like any other, from why it did not.
    let cause = match &finished.stopped {
        Some(reason) => Cause::Stopped {
            by: reason.to_string(),
        },
        None => Cause::Aborted,
    };
    let reports = finished
        .results
        .into_iter()
        .zip(targets)
        .map(|(report, target)| report.unwrap_or_else(|| tester.unfinished(target, cause.clone())))
        .collect();
    Tested {
        reports,
        stopped: finished.stopped,
    }
}

/// What the emulator cannot do (endpoints that are Updating, Failed with a reason, throttling,
/// model errors, expiring credentials) is covered here with the mocks of `test_kit` and a fake
/// clock; the waiting and the renewal themselves are tested in `wait` and `session`.
#[cfg(test)]
mod tests {
    use std::sync::Mutex;
    use std::time::Duration;

    use aws_sdk_sagemaker::config::Credentials;
    use aws_sdk_sagemaker::operation::describe_endpoint::{
        DescribeEndpointError, DescribeEndpointOutput,
    };
    use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
    use aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput;
    use aws_sdk_sagemaker::types::{ContainerDefinition, EndpointStatus, ProductionVariant};
    use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput;
    use aws_sdk_sagemakerruntime::types::error::ModelError;
    use aws_sdk_sts::operation::assume_role::AssumeRoleError;
    use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
    use aws_smithy_types::Blob;
    use deploy_core::manifest::{Case, Expect};
    use deploy_core::report::CaseStatus;

    use super::*;
    use crate::clock::FakeClock;
    use crate::test_kit::{
        answers, assume_role, endpoint, error, fast_retries, in_service_after, role, serving,
        serving_serverless, target, Factory, PACKAGE,
    };

    struct Kit {
        clock: Arc<FakeClock>,
        /// The AssumeRole answers, counting the calls.
        sts: Rule,
        tester: Tester,
    }

    /// A tester of two cases whose clients answer with the mocks: `sts` for AssumeRole, then
    /// `sagemaker` and `runtime`.
    fn kit_with_sts(sts: Rule, sagemaker: &[&Rule], runtime: &[&Rule], invocations: u32) -> Kit {
        let clock = Arc::new(FakeClock::default());
        let manifest = Manifest {
            path: "manifest.json".into(),
            cases: ["first", "second"]
                .into_iter()
                .map(|name| Case {
                    name: name.into(),
                    body_file: format!("{name}.csv"),
                    body: b"1,2,3".to_vec().into(),
                    content_type: Some("text/csv".into()),
                    accept: None,
                    expect: Expect {
                        body_regex: Some(deploy_core::body_regex::BodyRegex::new("^\\{").unwrap()),
                        ..Expect::default()
                    },
                })
                .collect(),
        };
        let tester = Tester {
            role: role(&[&sts]),
            factory: Factory::new(sagemaker, runtime),
            clock: clock.clone(),
            progress: Arc::new(|_| {}),
            wait: WaitPolicy::with_timeout(Duration::from_mins(30)),
            endpoint_name: "churn-staging".into(),
            model_package_name: PACKAGE.into(),
            settings: ExpectedSettings::default(),
            manifest: Arc::new(manifest),
            invocations,
        };
        Kit { clock, sts, tester }
    }

    /// [`kit_with_sts`] with credentials that last an hour.
    fn kit(sagemaker: &[&Rule], runtime: &[&Rule], invocations: u32) -> Kit {
        kit_with_sts(
            assume_role(Duration::from_hours(1)),
            sagemaker,
            runtime,
            invocations,
        )
    }

    /// DescribeEndpoint answering InService.
    fn in_service() -> Rule {
        mock!(aws_sdk_sagemaker::Client::describe_endpoint)
            .then_output(|| endpoint(EndpointStatus::InService))
    }

    /// The common case: an InService endpoint whose model check answers with `model` (from
    /// `serving`), invoked through `invoke`.
    fn in_service_kit(model: &[Rule], invoke: &Rule, invocations: u32) -> Kit {
        let describe = in_service();
        let mut sagemaker = vec![&describe];
        sagemaker.extend(model);
        kit(&sagemaker, &[invoke], invocations)
    }

    impl Kit {
        /// The kit's target, tested with a slot of its own.
        async fn test(&self) -> TargetReport {
            self.tester
                .test(&target(), &mut Slots::new(1).claim())
                .await
        }
    }

    /// The wait's schedule and progress lines are `wait`'s tests; here, what the report keeps.
    #[tokio::test]
    async fn b5_an_updating_endpoint_is_waited_for_then_tested_and_the_wait_reported() {
        let describe = in_service_after(EndpointStatus::Updating, 6);
        let model = serving(PACKAGE);
        let invoke = answers("{\"predictions\": [0.2]}");
        let kit = kit(&[&describe, &model[0], &model[1]], &[&invoke], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Passed, "{:?}", report.error);
        assert_eq!((report.polls, report.wait_seconds), (7, 125.0));
        assert_eq!(report.endpoint_status.as_deref(), Some("InService"));
        assert_eq!(report.cases.len(), 2);
        assert!(report.cases.iter().all(|c| c.status == CaseStatus::Passed));
        assert_eq!(invoke.num_calls(), 2);
    }

    #[tokio::test]
    async fn a_failed_endpoint_fails_the_target_with_its_failure_reason_and_no_case_run() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_output(|| {
            DescribeEndpointOutput::builder()
                .endpoint_name("churn-staging")
                .endpoint_status(EndpointStatus::Failed)
                .failure_reason("Image 1.dkr.ecr/x:latest does not exist")
                .build()
        });
        let kit = kit(&[&describe], &[], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Failed);
        assert_eq!(
            report.error.as_deref(),
            Some("endpoint churn-staging in account 222222222222 region eu-west-1 is Failed: Image 1.dkr.ecr/x:latest does not exist")
        );
        assert_eq!(report.endpoint_status.as_deref(), Some("Failed"));
        assert!(report.cases.iter().all(|c| c.status == CaseStatus::NotRun));
        assert_eq!(report.cases.len(), 2);
    }

    #[tokio::test]
    async fn throttling_after_the_sdk_retries_is_an_error_not_a_failure() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_error(|| {
            DescribeEndpointError::generic(error("ThrottlingException", "Rate exceeded"))
        });
        let kit = kit(&[&describe], &[], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Error);
        assert_eq!(
            report.error.as_deref(),
            Some("AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: Rate exceeded")
        );
        assert!(report.cases.iter().all(|c| c.status == CaseStatus::NotRun));
        assert_eq!(
            describe.num_calls(),
            deploy_shell::aws::MAX_ATTEMPTS as usize,
            "retried first"
        );
    }

    #[tokio::test]
    async fn an_invocation_throttled_after_retries_stops_the_target_as_an_error() {
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(|| {
            aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError::generic(
                error("ThrottlingException", "Rate exceeded"),
            )
        });
        let kit = in_service_kit(&serving(PACKAGE), &invoke, 3);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Error);
        assert!(report.error.unwrap().starts_with(
            "case \"first\": AWS call sagemaker:InvokeEndpoint failed with ThrottlingException"
        ));
        // One invocation (of 3 asked for), attempted MAX_ATTEMPTS times by the SDK.
        assert_eq!(invoke.num_calls(), deploy_shell::aws::MAX_ATTEMPTS as usize);
        assert_eq!(report.model_check.unwrap().status, CheckStatus::Passed);
    }

    #[tokio::test]
    async fn a_denied_assume_role_names_the_role_and_the_trust_policy() {
        let sts = mock!(aws_sdk_sts::Client::assume_role).then_error(|| {
            AssumeRoleError::generic(error(
                "AccessDenied",
                "not authorized to perform sts:AssumeRole",
            ))
        });
        let kit = kit_with_sts(sts, &[], &[], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Error);
        let error = report.error.unwrap();
        assert!(error.starts_with("cannot assume arn:aws:iam::222222222222:role/sagemaker-role-staging (session build-1): AWS denied sts:AssumeRole"), "{error}");
        assert!(error.contains("trust policy"), "{error}");
        assert!(!error.contains("mock-secret"));
    }

    #[tokio::test]
    async fn a_denied_call_names_the_assumed_role_whose_policy_lacks_it() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint).then_error(|| {
            DescribeEndpointError::generic(error("AccessDeniedException", "not authorized"))
        });
        let kit = kit(&[&describe], &[], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Error);
        assert_eq!(
            report.error.as_deref(),
            Some("AWS denied sagemaker:DescribeEndpoint to the assumed role arn:aws:iam::222222222222:role/sagemaker-role-staging: not authorized. Allow sagemaker:DescribeEndpoint in that role's policy in account 222222222222, then run again.")
        );
    }

    #[tokio::test]
    async fn credentials_are_renewed_during_a_long_wait() {
        let describe = in_service_after(EndpointStatus::Creating, 43);
        let model = serving(PACKAGE);
        let invoke = answers("{}");
        let kit = kit_with_sts(
            assume_role(Duration::from_mins(10)),
            &[&describe, &model[0], &model[1]],
            &[&invoke],
            1,
        );

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Passed, "{:?}", report.error);
        assert!(kit.clock.elapsed() >= Duration::from_mins(20));
        // First at 0, then about every 5 minutes (10-minute credentials renewed 5 minutes early).
        assert!(
            (4..=6).contains(&kit.sts.num_calls()),
            "{} AssumeRole calls",
            kit.sts.num_calls()
        );
    }

    #[tokio::test]
    async fn every_variant_must_serve_the_exported_package() {
        let describe = in_service();
        let config = mock!(aws_sdk_sagemaker::Client::describe_endpoint_config).then_output(|| {
            DescribeEndpointConfigOutput::builder()
                .production_variants(
                    ProductionVariant::builder()
                        .variant_name("Blue")
                        .model_name("new")
                        .build(),
                )
                .production_variants(
                    ProductionVariant::builder()
                        .variant_name("Green")
                        .model_name("old")
                        .build(),
                )
                .build()
        });
        let new_model = mock!(aws_sdk_sagemaker::Client::describe_model)
            .match_requests(|r| r.model_name() == Some("new"))
            .then_output(|| {
                // A pipeline model: the package is in a later container, its ARN lowercased.
                DescribeModelOutput::builder()
                    .containers(ContainerDefinition::builder().image("preprocess").build())
                    .containers(
                        ContainerDefinition::builder()
                            .model_package_name(
                                PACKAGE
                                    .to_uppercase()
                                    .replace("ARN:AWS:SAGEMAKER", "arn:aws:sagemaker"),
                            )
                            .build(),
                    )
                    .build()
            });
        let old_model = mock!(aws_sdk_sagemaker::Client::describe_model)
            .match_requests(|r| r.model_name() == Some("old"))
            .then_output(|| {
                DescribeModelOutput::builder()
                    .primary_container(
                        ContainerDefinition::builder()
                            .model_package_name(
                                "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/2",
                            )
                            .build(),
                    )
                    .build()
            });
        let kit = kit(&[&describe, &config, &new_model, &old_model], &[], 1);

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Failed);
        let error = report.error.unwrap();
        assert!(
            error.contains("does not serve the exported ModelPackageName"),
            "{error}"
        );
        assert!(error.contains("variant Green serves arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/2 (model old)"), "{error}");
        let check = report.model_check.unwrap();
        assert_eq!(check.status, CheckStatus::Failed);
        assert_eq!(check.variants.len(), 2);
        assert_eq!(check.variants[0].model_package_names.len(), 1);
    }

    #[tokio::test]
    async fn a_model_error_fails_the_case_and_points_at_the_model_log() {
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint)
            .sequence()
            .output(|| {
                InvokeEndpointOutput::builder()
                    .body(Blob::new("{}"))
                    .content_type("application/json")
                    .build()
            })
            .error(|| {
                aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError::ModelError(
                    ModelError::builder()
                        .message("Received server error (500) from primary")
                        .log_stream_arn("arn:aws:logs:eu-west-1:222222222222:log-group:/aws/sagemaker/Endpoints/churn-staging")
                        .meta(error("ModelError", "Received server error (500) from primary"))
                        .build(),
                )
            })
            .repeatedly()
            .build();
        let kit = in_service_kit(&serving(PACKAGE), &invoke, 3);

        let report = kit.test().await;

        assert_eq!(
            report.status,
            TargetStatus::Failed,
            "a model error is a failed test, not an AWS error"
        );
        let first = &report.cases[0];
        assert_eq!((first.status, first.succeeded), (CaseStatus::Failed, 1));
        assert_eq!(first.failures.len(), 1);
        assert!(
            first.failures[0].starts_with(
                "invocation 2 of 3: AWS call sagemaker:InvokeEndpoint failed with ModelError"
            ),
            "{:?}",
            first.failures
        );
        assert!(
            first.failures[0].contains("(model log stream: arn:aws:logs:"),
            "{:?}",
            first.failures
        );
        assert_eq!(
            report.cases[1].status,
            CaseStatus::Failed,
            "later cases still run"
        );
        assert_eq!(report.error.as_deref(), Some("2 of 2 payload cases failed"));
    }

    /// A model's error message is the model's text: it reaches the report cut to 500 characters,
    /// on one line, whatever it holds.
    #[tokio::test]
    async fn a_model_error_message_is_contained_in_the_report() {
        let flood = format!("Traceback\nforged: line\r\n{}", "x".repeat(10_000));
        let message = flood.clone();
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_error(move || {
            aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError::ModelError(
                ModelError::builder()
                    .message(message.clone())
                    .meta(error("ModelError", &message))
                    .build(),
            )
        });
        let kit = in_service_kit(&serving(PACKAGE), &invoke, 1);

        let report = kit.test().await;

        let failure = &report.cases[0].failures[0];
        assert!(failure.starts_with("AWS call sagemaker:InvokeEndpoint failed with ModelError: Traceback\\nforged: line\\r\\n"), "{failure}");
        assert!(failure.contains("... (9524 more characters)"), "{failure}");
        assert!(!failure.contains('\n') && !failure.contains('\r'));
        assert!(failure.len() < 700, "{} characters", failure.len());
    }

    #[tokio::test]
    async fn latency_percentiles_come_from_timing_each_invocation() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(Mutex::new(0u64));
        let (call_clock, call_count) = (clock.clone(), calls.clone());
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_compute_output(
            move |_| {
                let mut n = call_count.lock().unwrap();
                *n += 1;
                // Call k of each case takes k milliseconds.
                call_clock.advance(Duration::from_millis((*n - 1) % 10 + 1));
                InvokeEndpointOutput::builder()
                    .body(Blob::new("{}"))
                    .build()
            },
        );
        let mut kit = in_service_kit(&serving(PACKAGE), &invoke, 10);
        kit.tester.clock = clock;

        let report = kit.test().await;

        assert_eq!(report.status, TargetStatus::Passed, "{:?}", report.error);
        let latency = report.cases[1].latency_ms.unwrap();
        assert_eq!(
            (
                latency.count,
                latency.p50,
                latency.p90,
                latency.p99,
                latency.max
            ),
            (10, 5.0, 9.0, 10.0, 10.0)
        );
        // The report rounds to whole milliseconds, and the fake clock's sum is 55 ms.
        let duration = report.cases[1].duration_seconds;
        assert!((duration - 0.055).abs() < 1e-9, "{duration}");
        assert_eq!(invoke.num_calls(), 20);
    }

    #[tokio::test]
    async fn a_serverless_endpoints_first_call_is_a_cold_start_kept_out_of_the_latency() {
        let clock = Arc::new(FakeClock::default());
        let calls = Arc::new(Mutex::new(0u64));
        let (call_clock, call_count) = (clock.clone(), calls.clone());
        // The first call waits 900 ms for the compute to start; the rest take 2 ms.
        let invoke = mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_compute_output(
            move |_| {
                let mut n = call_count.lock().unwrap();
                *n += 1;
                call_clock.advance(Duration::from_millis(if *n == 1 { 900 } else { 2 }));
                InvokeEndpointOutput::builder()
                    .body(Blob::new("{}"))
                    .build()
            },
        );
        for (serverless, first_case_count, first_case_max) in [(true, 2, 2.0), (false, 3, 900.0)] {
            *calls.lock().unwrap() = 0;
            let model = if serverless {
                serving_serverless(PACKAGE, 2048)
            } else {
                serving(PACKAGE)
            };
            let mut kit = in_service_kit(&model, &invoke, 3);
            kit.tester.clock = clock.clone();

            let report = kit.test().await;

            assert_eq!(report.status, TargetStatus::Passed, "{:?}", report.error);
            let first = report.first_call.expect("the first call is reported");
            assert_eq!(
                (first.case.as_str(), first.latency_ms, first.cold_start),
                ("first", 900.0, serverless)
            );
            let latency = report.cases[0].latency_ms.unwrap();
            assert_eq!(
                (latency.count, latency.max),
                (first_case_count, first_case_max)
            );
            assert_eq!(
                report.cases[1].latency_ms.unwrap().count,
                3,
                "only the target's first call"
            );
            let variant = &report.model_check.unwrap().variants[0];
            assert_eq!(variant.serverless_memory_mb, serverless.then_some(2048));
        }
    }

    /// A clock whose sleeps yield to the runtime, counting how many targets sleep at once and,
    /// each time a target reads the time (it does while it holds its slot), the slots in use.
    struct CountingClock {
        inner: FakeClock,
        slots: Slots,
        concurrency: usize,
        sleeping: Mutex<(usize, usize)>,
        most_slots_in_use: Mutex<usize>,
        /// A sleep lasts until this many targets sleep at once (or two seconds pass).
        rendezvous: usize,
    }

    impl CountingClock {
        fn new(slots: &Slots, concurrency: usize, rendezvous: usize) -> Self {
            Self {
                inner: FakeClock::default(),
                slots: slots.clone(),
                concurrency,
                sleeping: Mutex::default(),
                most_slots_in_use: Mutex::default(),
                rendezvous,
            }
        }
    }

    impl Clock for CountingClock {
        fn now(&self) -> std::time::Instant {
            let in_use = self.slots.in_use(self.concurrency);
            let mut most = self.most_slots_in_use.lock().unwrap();
            *most = (*most).max(in_use);
            self.inner.now()
        }
        fn sleep(
            &self,
            duration: Duration,
        ) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send + '_>> {
            Box::pin(async move {
                {
                    let mut s = self.sleeping.lock().unwrap();
                    s.0 += 1;
                    s.1 = s.1.max(s.0);
                }
                let give_up = std::time::Instant::now() + Duration::from_secs(2);
                while self.sleeping.lock().unwrap().0 < self.rendezvous
                    && std::time::Instant::now() < give_up
                {
                    tokio::task::yield_now().await;
                }
                tokio::task::yield_now().await;
                self.inner.advance(duration);
                self.sleeping.lock().unwrap().0 -= 1;
            })
        }
    }

    /// Hands every target fresh clients whose endpoint is Creating once, then InService. The
    /// first DescribeEndpoint is throttled: the SDK's retry backoff (a real 1 ms sleep) is a wait
    /// during which the target still holds its slot, so targets overlap there as real calls do.
    struct FreshClients;

    impl ClientFactory for FreshClients {
        fn sagemaker(&self, _: &Credentials, _: &str) -> aws_sdk_sagemaker::Client {
            let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
                .sequence()
                .error(|| DescribeEndpointError::generic(error("ThrottlingException", "slow down")))
                .output(|| endpoint(EndpointStatus::Creating))
                .output(|| endpoint(EndpointStatus::InService))
                .build();
            let model = serving(PACKAGE);
            mock_client!(
                aws_sdk_sagemaker,
                RuleMode::MatchAny,
                [&describe, &model[0], &model[1]],
                |c| c.retry_config(fast_retries())
            )
        }
        fn config(&self, credentials: &Credentials, region: &str) -> aws_config::SdkConfig {
            crate::test_kit::unmocked_config(credentials, region)
        }
        fn runtime(&self, _: &Credentials, _: &str) -> aws_sdk_sagemakerruntime::Client {
            mock_client!(
                aws_sdk_sagemakerruntime,
                RuleMode::MatchAny,
                [&answers("{}")]
            )
        }
    }

    /// Five targets whose endpoints are Creating once, tested with `concurrency` slots.
    async fn five_waiting_targets(
        concurrency: usize,
        rendezvous: usize,
    ) -> (Tested, Arc<CountingClock>, usize) {
        let mut kit = kit(&[], &[], 1);
        let slots = Slots::new(concurrency);
        let clock = Arc::new(CountingClock::new(&slots, concurrency, rendezvous));
        kit.tester.clock = clock.clone();
        kit.tester.factory = Arc::new(FreshClients);
        let targets: Vec<Target> = (1..=5)
            .map(|i| Target {
                account_id: format!("{i:012}"),
                region: "us-east-1".into(),
            })
            .collect();
        let sts = kit.sts.clone();
        let tested = test_all(Arc::new(kit.tester), &targets, &slots, &Stop::never()).await;
        (tested, clock, sts.num_calls())
    }

    #[tokio::test]
    async fn at_most_concurrency_targets_make_calls_at_once_and_reports_keep_target_order() {
        let (tested, clock, assumed) = five_waiting_targets(2, 1).await;

        let accounts: Vec<&str> = tested
            .reports
            .iter()
            .map(|r| r.account_id.as_str())
            .collect();
        assert_eq!(
            accounts,
            [
                "000000000001",
                "000000000002",
                "000000000003",
                "000000000004",
                "000000000005"
            ]
        );
        assert!(tested
            .reports
            .iter()
            .all(|r| r.status == TargetStatus::Passed && r.polls == 2));
        assert_eq!(tested.stopped, None);
        assert_eq!(
            *clock.most_slots_in_use.lock().unwrap(),
            2,
            "the slots bound the targets making calls"
        );
        assert_eq!(assumed, 5);
    }

    /// A target that waits for its endpoint gives its slot back: with one slot, all five targets
    /// get to their wait at once (each sleep lasts until all five sleep), instead of each waiting
    /// for the one before to finish.
    #[tokio::test]
    async fn a_waiting_target_does_not_keep_the_others_from_starting() {
        let (tested, clock, _) = five_waiting_targets(1, 5).await;

        assert!(tested
            .reports
            .iter()
            .all(|r| r.status == TargetStatus::Passed));
        assert_eq!(*clock.most_slots_in_use.lock().unwrap(), 1);
        assert_eq!(
            clock.sleeping.lock().unwrap().1,
            5,
            "all five waited at once"
        );
    }

    /// A stop ends the run at once: targets still waiting are errors that say what stopped them,
    /// with every case not run.
    #[tokio::test]
    async fn a_stop_reports_every_unfinished_target_as_interrupted() {
        let describe = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
            .then_output(|| endpoint(EndpointStatus::Creating));
        let kit = kit(&[&describe], &[], 1);
        let (sender, receiver) = tokio::sync::watch::channel(None);
        let stop = Stop::from_receiver(receiver);
        let (targets, slots) = ([target()], Slots::new(4));
        let tested = async {
            tokio::join!(
                test_all(Arc::new(kit.tester), &targets, &slots, &stop),
                async {
                    tokio::task::yield_now().await;
                    sender.send(Some(StopReason::Terminated)).unwrap();
                }
            )
            .0
        };
        let tested = tested.await;

        assert_eq!(tested.stopped, Some(StopReason::Terminated));
        let report = &tested.reports[0];
        assert_eq!(report.status, TargetStatus::Error);
        assert_eq!(
            report.error.as_deref(),
            Some("interrupted by SIGTERM (CodeBuild stops a build this way, its timeout included) before this target finished")
        );
        assert_eq!(report.cases.len(), 2);
        assert!(report.cases.iter().all(|c| c.status == CaseStatus::NotRun));
    }
}
