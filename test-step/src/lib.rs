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
//! Two more commands reach the same targets the same way and only read: `preflight` (is every
//! target ready for the stage's deploy) and `status` (what every target serves), whose report is
//! `deploy_core::fleet`'s. With `--update-model-lifecycle` the test records its verdict in the
//! registry (`lifecycle`).
//!
//! Modules, leaves first: `clock` and `outcome` (what every stage shares), `session`, `wait`,
//! `model_check`, `invoke`, `slots`, `stop`, `each_target` (one task per target, bounded and
//! stoppable), `reach` (the targets and the role to assume in each), `tester`, `preflight`,
//! `status`, `fleet` (the two read-only runs), `lifecycle`, `reports` (what every run does with
//! its reports, and the [`Finished`] run that holds them); `cli`, `error`, `targets` and `config`
//! for the inputs. This file only declares the modules and runs the command they make up; no
//! module imports from it. Only what the binary and the integration tests use is public:
//! [`Args`], [`run`], [`Finished`] and [`TestError`] (with the [`StopReason`] it may hold).

#![forbid(unsafe_code)]

mod cli;
mod clock;
mod config;
mod each_target;
mod error;
mod fleet;
mod invoke;
mod lifecycle;
mod model_check;
mod outcome;
mod preflight;
mod reach;
mod reports;
mod session;
mod slots;
mod status;
mod stop;
mod targets;
mod tester;
mod wait;

#[cfg(test)]
mod test_kit;

use std::sync::Arc;
use std::time::Instant;

use deploy_core::report::junit::MAX_CASES_PER_REPORT;
use deploy_core::report::{seconds, Report};
use deploy_shell::finish::Failure;

pub use cli::Args;
use cli::Command;
use config::{initial_setup, Deployment, ReportFiles, TestConfig};
pub use error::TestError;
use reach::Reach;
pub use reports::Finished;
use reports::{keep_verdict, started_at, write_stopped};
use session::Purpose;
use slots::Slots;
use stop::Stop;
pub use stop::StopReason;
use tester::{test_all, Tester};

/// Runs the command. `Ok` carries the report (whose exit status may still be 1 or 3: a target
/// failed, or could not be reached); `Err` is a run that stopped before it could reach its
/// targets. The reports are on disk in both cases (unless their paths are what is wrong, or
/// writing them failed).
pub async fn run(args: &Args) -> Result<Finished, TestError> {
    match args.command {
        Command::Test => run_test(args).await,
        Command::Preflight | Command::Status => fleet::run(args).await,
    }
}

async fn run_test(args: &Args) -> Result<Finished, TestError> {
    let files = ReportFiles::check(args)?;
    let stop = Stop::watch(args.deadline).map_err(TestError::Signals)?;
    let started = Instant::now();
    let mut report = Report::started(
        concat!("test-step ", env!("CARGO_PKG_VERSION")).to_owned(),
        started_at(),
        initial_setup(args),
    );
    let outcome = load_and_test(args, &stop, &mut report).await;
    report.duration_seconds = seconds(started.elapsed());
    match outcome {
        Ok(tested) => {
            report.conclude();
            if args.update_model_lifecycle {
                let run_url = deploy_shell::cli::non_empty(&args.build_url);
                let deployment = &tested.deployment;
                lifecycle::record(
                    &tested.sdk_config,
                    &deployment.model_package_name,
                    &deployment.stage,
                    &report,
                    run_url,
                )
                .await;
            }
            keep_verdict(report.exit_status(), files.write(&report))?;
            Ok(Finished::test(report, files))
        }
        Err(err) => {
            report.stopped(err.to_string(), err.exit_status());
            write_stopped(&files, &report);
            Err(err)
        }
    }
}

/// What a test run that reached its targets hands back: what it tested, and the pipeline's own
/// config (for the registry's record).
struct Tested {
    deployment: Deployment,
    sdk_config: aws_config::SdkConfig,
}

async fn load_and_test(args: &Args, stop: &Stop, report: &mut Report) -> Result<Tested, TestError> {
    let config = TestConfig::load(args, &mut report.setup)?;
    let sdk_config = test(&config, stop, report).await?;
    Ok(Tested {
        deployment: config.run.deployment,
        sdk_config,
    })
}

/// The AWS part of the run: find the targets and test them, into `report.targets`, until done or
/// stopped; the pipeline's own config.
async fn test(
    config: &TestConfig,
    stop: &Stop,
    report: &mut Report,
) -> Result<aws_config::SdkConfig, TestError> {
    let reach = Reach::discover(&config.run, Purpose::Test, stop).await?;
    report.setup.run.regions.clone_from(&reach.regions);
    let cases = reach.targets.len() * config.manifest.cases.len();
    if cases > MAX_CASES_PER_REPORT {
        tracing::warn!(
            "{cases} test cases (targets x payloads): CodeBuild keeps at most {MAX_CASES_PER_REPORT} per report"
        );
    }
    let deployment = &config.run.deployment;
    tracing::info!(
        "testing endpoint {} in {} target(s) (accounts {} x regions {}), model package {}",
        deployment.endpoint_name,
        reach.targets.len(),
        reach.accounts.join(", "),
        reach.regions.join(", "),
        deployment.model_package_name
    );
    let tester = Tester {
        role: reach.role.clone(),
        factory: reach.factory.clone(),
        clock: Arc::new(clock::SystemClock),
        progress: Arc::new(|line: String| tracing::info!("{line}")),
        wait: config.wait,
        endpoint_name: deployment.endpoint_name.clone(),
        model_package_name: deployment.model_package_name.clone(),
        settings: deployment.settings.clone(),
        manifest: config.manifest.clone(),
        invocations: config.invocations,
    };
    let finished = test_all(
        Arc::new(tester),
        &reach.targets,
        &Slots::new(config.run.concurrency),
        stop,
    )
    .await;
    report.targets = finished.reports;
    report.interrupted = finished.stopped.map(|reason| reason.to_string());
    Ok(reach.sdk_config)
}
