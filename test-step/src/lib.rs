//! `test-step`: the Test stage of the multi-account SageMaker deployment pipeline. Its verdict
//! gates the manual approval for production, so it must be right, fast and impossible to misread.
//!
//! Everything local is checked first (`config`: settings, the build config, the payload manifest
//! and its bodies), so bad input fails in a second. Then it finds the targets (`targets`: the
//! staging OU's ACTIVE accounts, or an explicit list, times each region) and tests them
//! concurrently with a bound (`tester`): assume the role (`session`), wait for the endpoint
//! (`wait`), check it serves the exported model package (`model_check`), invoke it with every
//! payload (`invoke`). The JSON and JUnit reports (`deploy_core::report`) are written atomically in
//! every case, failed targets and stopped runs included, before the exit code says what happened.
//!
//! What passes, and every status, count, exit code and message that follows from it, is
//! `deploy_core::verdict`'s: the stages end a target short of passing with its typed cause, and
//! `tester` only orchestrates.
//!
//! Modules, leaves first: `clock` and `outcome` (what every stage shares), `session`, `wait`,
//! `model_check`, `invoke`, `slots`, `stop`, `tester`; `cli`, `error`, `targets` and `config` for
//! the inputs. Only what the binary and the integration tests use is public: [`Args`], [`run`],
//! [`Finished`] and [`TestError`] (with the [`StopReason`] it may hold).

mod cli;
mod clock;
mod config;
mod error;
mod invoke;
mod model_check;
mod outcome;
mod session;
mod slots;
mod stop;
mod targets;
mod tester;
mod wait;

#[cfg(test)]
mod test_kit;

use std::sync::Arc;
use std::time::{Instant, SystemTime};

use deploy_core::report::junit::MAX_CASES_PER_REPORT;
use deploy_core::report::{seconds, Report};
use deploy_core::targets::cross;
use deploy_core::verdict::stands_without_reports;
use deploy_core::{ExitStatus, Format};
use deploy_shell::aws::{explain_failure, load_sdk_config};
use deploy_shell::finish::{Failure, Summary};
use deploy_shell::AwsCallError;

pub use cli::Args;
use config::{initial_setup, ReportFiles, TestConfig};
use deploy_core::files::WriteError;
pub use error::TestError;
use session::{ClientFactory, FromSdkConfig, RoleToAssume};
use slots::Slots;
use stop::Stop;
pub use stop::StopReason;
use tester::{test_all, Tester};

/// A run that got as far as testing, with the report on disk.
pub struct Finished {
    report: Report,
    files: ReportFiles,
}

impl Summary for Finished {
    fn print(&self, format: Format, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        self.report.print(format, out)
    }

    fn exit_status(&self) -> ExitStatus {
        self.report.exit_status()
    }

    /// The one-paragraph message for stderr when targets did not all pass.
    fn failure(&self) -> Option<String> {
        self.report
            .failure_paragraph(&self.files.json, &self.files.junit)
    }
}

/// Runs the whole test step. `Ok` carries the report (whose exit status may still be 1 or 3: a
/// target failed, or could not be tested); `Err` is a run that stopped before it could test. The
/// reports are on disk in both cases (unless their paths are what is wrong, or writing them
/// failed).
pub async fn run(args: &Args) -> Result<Finished, TestError> {
    let files = ReportFiles::check(args)?;
    let stop = Stop::watch(args.deadline).map_err(TestError::Signals)?;
    let started = Instant::now();
    let started_at = aws_smithy_types::DateTime::from(SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok();
    let mut report = Report::started(
        concat!("test-step ", env!("CARGO_PKG_VERSION")).to_owned(),
        started_at,
        initial_setup(args),
    );
    let outcome = load_and_test(args, &stop, &mut report).await;
    report.duration_seconds = seconds(started.elapsed());
    match outcome {
        Ok(()) => {
            report.conclude();
            keep_verdict(&report, files.write(&report))?;
            Ok(Finished { report, files })
        }
        Err(err) => {
            report.stopped(err.to_string(), err.exit_status());
            if let Err(write_err) = files.write(&report) {
                tracing::error!("{}", TestError::from(write_err));
            }
            Err(err)
        }
    }
}

/// What a failed report write does to a finished run: a pass without its reports is not a pass
/// (exit 2), but a verdict of failed or untested targets stands (logged, the code kept); the rule
/// is `deploy_core::verdict::stands_without_reports`.
fn keep_verdict(report: &Report, written: Result<(), WriteError>) -> Result<(), TestError> {
    match written {
        Err(err) if !stands_without_reports(report.exit_status()) => Err(err.into()),
        Err(err) => {
            tracing::error!(
                "{}; the exit code still says what the tests found",
                TestError::from(err)
            );
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

async fn load_and_test(args: &Args, stop: &Stop, report: &mut Report) -> Result<(), TestError> {
    let config = TestConfig::load(args, &mut report.setup)?;
    test(&config, stop, report).await
}

/// The AWS part of the run: find the targets and test them, into `report.targets`, until done or
/// stopped.
async fn test(config: &TestConfig, stop: &Stop, report: &mut Report) -> Result<(), TestError> {
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
    report.setup.regions.clone_from(&regions);
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
    let cases = targets.len() * config.manifest.cases.len();
    if cases > MAX_CASES_PER_REPORT {
        tracing::warn!(
            "{cases} test cases (targets x payloads): CodeBuild keeps at most {MAX_CASES_PER_REPORT} per report"
        );
    }
    let deployment = &config.deployment;
    tracing::info!(
        "testing endpoint {} in {} target(s) (accounts {} x regions {}), model package {}",
        deployment.endpoint_name,
        targets.len(),
        accounts.iter().cloned().collect::<Vec<_>>().join(", "),
        regions.join(", "),
        deployment.model_package_name
    );
    let tester = Tester {
        role: RoleToAssume {
            sts,
            partition,
            role_name: config.role_name.clone(),
            session_name: config.session_name.clone(),
            endpoint_name: deployment.endpoint_name.clone(),
        },
        factory: Arc::new(FromSdkConfig {
            config: sdk_config,
            invoke_timeouts: config.aws.retry.invoke_timeout_config(),
        }) as Arc<dyn ClientFactory>,
        clock: Arc::new(clock::SystemClock),
        progress: Arc::new(|line: String| tracing::info!("{line}")),
        wait: config.wait,
        endpoint_name: deployment.endpoint_name.clone(),
        model_package_name: deployment.model_package_name.clone(),
        manifest: config.manifest.clone(),
        invocations: config.invocations,
    };
    let finished = test_all(
        Arc::new(tester),
        &targets,
        &Slots::new(config.concurrency),
        stop,
    )
    .await;
    report.targets = finished.reports;
    report.interrupted = finished.stopped.map(|reason| reason.to_string());
    Ok(())
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

#[cfg(test)]
mod tests {
    use deploy_core::report::{Setup, TargetReport, TargetStatus};
    use deploy_core::targets::Target;

    use super::*;

    fn concluded(status: TargetStatus) -> Report {
        let mut report = Report::started("test-step".into(), None, Setup::default());
        let target = Target {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
        };
        report.targets = vec![TargetReport::new(&target, "e", "r".into(), status)];
        report.conclude();
        report
    }

    fn write_failed() -> Result<(), WriteError> {
        Err(WriteError {
            path: "test-results.json".into(),
            source: std::io::Error::other("disk full"),
        })
    }

    #[test]
    fn a_report_that_cannot_be_written_keeps_the_verdict_unless_it_was_a_pass() {
        assert!(keep_verdict(&concluded(TargetStatus::Failed), write_failed()).is_ok());
        assert!(keep_verdict(&concluded(TargetStatus::Error), write_failed()).is_ok());
        let pass = keep_verdict(&concluded(TargetStatus::Passed), write_failed()).unwrap_err();
        assert_eq!(pass.exit_status(), ExitStatus::BadInput);
        assert!(keep_verdict(&concluded(TargetStatus::Passed), Ok(())).is_ok());
    }
}
