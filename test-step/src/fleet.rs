//! The `preflight` and `status` runs: the test's inputs, targets, sessions, concurrency, stop
//! and report files, with a per-target check (`preflight`, `status`) in place of the test. The
//! report is `deploy_core::fleet`'s, written in every case like the test's.

use std::sync::Arc;
use std::time::Instant;

use deploy_core::fleet::{self, Check, FleetReport, FleetSetup, FleetTarget};
use deploy_core::report::{seconds, RunSetup};
use deploy_core::targets::Target;
use deploy_shell::finish::Failure;

use crate::cli::{Args, Command};
use crate::clock::{self, Clock};
use crate::config::{initial_setup, ReportFiles, RunConfig};
use crate::each_target::each_target;
use crate::error::TestError;
use crate::preflight::{ModelSources, Preflight};
use crate::reach::Reach;
use crate::reports::{keep_verdict, started_at, write_stopped, Finished};
use crate::session::{PreflightRoles, Purpose, RoleToAssume};
use crate::slots::{Slot, Slots};
use crate::status::StatusCheck;
use crate::stop::Stop;

/// One target's check, for either command, and what both share.
struct Checker {
    kind: Kind,
    clock: Arc<dyn Clock>,
    role: RoleToAssume,
    endpoint_name: String,
}

enum Kind {
    Preflight(Preflight),
    Status(StatusCheck),
}

impl Checker {
    /// The report of one target, holding `slot` while it makes calls; never fails.
    async fn check(&self, target: &Target, slot: &mut Slot) -> FleetTarget {
        slot.hold().await;
        let started = self.clock.now();
        let role_arn = self.role.role_arn(&target.account_id);
        let mut report = FleetTarget::new(target, &self.endpoint_name, role_arn);
        match &self.kind {
            Kind::Preflight(preflight) => preflight.check(target, &mut report).await,
            Kind::Status(status) => status.check(target, &mut report).await,
        }
        report.duration_seconds = seconds(self.clock.now().saturating_duration_since(started));
        report
    }
}

pub(crate) async fn run(args: &Args) -> Result<Finished, TestError> {
    let files = ReportFiles::check(args)?;
    let stop = Stop::watch(args.deadline).map_err(TestError::Signals)?;
    let started = Instant::now();
    let command = match args.command {
        Command::Preflight => fleet::Command::Preflight,
        _ => fleet::Command::Status,
    };
    let mut setup = initial_setup(args).run;
    let mut report = FleetReport::started(
        concat!("test-step ", env!("CARGO_PKG_VERSION")).to_owned(),
        command,
        started_at(),
        FleetSetup::default(),
    );
    let outcome = load_and_check(args, &stop, &mut setup, &mut report).await;
    report.setup = FleetSetup::of(setup, args.strict);
    report.duration_seconds = seconds(started.elapsed());
    match outcome {
        Ok(()) => {
            report.conclude();
            keep_verdict(report.exit_status(), files.write(&report))?;
            Ok(Finished::fleet(report, files))
        }
        Err(err) => {
            report.stopped(err.to_string(), err.exit_status());
            write_stopped(&files, &report);
            Err(err)
        }
    }
}

async fn load_and_check(
    args: &Args,
    stop: &Stop,
    setup: &mut RunSetup,
    report: &mut FleetReport,
) -> Result<(), TestError> {
    let config = RunConfig::load(args, setup)?;
    let deployment = &config.deployment;
    let purpose = match args.command {
        Command::Preflight => Purpose::Preflight {
            roles: PreflightRoles {
                execution: deployment.role_name.clone(),
                deploy: deploy_shell::cli::non_empty(&args.deploy_role_name).map(str::to_owned),
            },
        },
        _ => Purpose::Status,
    };
    let reach = Reach::discover(&config, purpose, stop).await?;
    setup.regions.clone_from(&reach.regions);
    tracing::info!(
        "{} of endpoint {} in {} target(s) (accounts {} x regions {}), model package {}",
        report.command.name(),
        deployment.endpoint_name,
        reach.targets.len(),
        reach.accounts.join(", "),
        reach.regions.join(", "),
        deployment.model_package_name
    );
    let clock: Arc<dyn Clock> = Arc::new(clock::SystemClock);
    let kind = match args.command {
        Command::Preflight => {
            let sources = tokio::select! {
                sources = ModelSources::read(&reach.sdk_config, &reach.role.partition, &deployment.model_package_name) => sources,
                reason = stop.reason() => return Err(TestError::Interrupted(reason)),
            };
            Kind::Preflight(Preflight::new(
                &config,
                args,
                reach.role.clone(),
                reach.factory.clone(),
                clock.clone(),
                sources,
            ))
        }
        _ => Kind::Status(StatusCheck {
            role: reach.role.clone(),
            factory: reach.factory.clone(),
            clock: clock.clone(),
            endpoint_name: deployment.endpoint_name.clone(),
            model_package_name: deployment.model_package_name.clone(),
            settings: deployment.settings.clone(),
        }),
    };
    let checker = Checker {
        kind,
        clock,
        role: reach.role.clone(),
        endpoint_name: deployment.endpoint_name.clone(),
    };
    let checker = Arc::new(checker);
    let finished = each_target(
        &reach.targets,
        &Slots::new(config.concurrency),
        stop,
        |target, mut slot| {
            let checker = checker.clone();
            async move { checker.check(&target, &mut slot).await }
        },
    )
    .await;
    let why = match &finished.stopped {
        Some(reason) => format!("not finished: stopped by {reason}"),
        None => "the target's checks ended unexpectedly (the log says how)".to_owned(),
    };
    report.targets = finished
        .results
        .into_iter()
        .zip(&reach.targets)
        .map(|(result, target)| {
            result.unwrap_or_else(|| {
                let mut unfinished = FleetTarget::new(
                    target,
                    &deployment.endpoint_name,
                    reach.role.role_arn(&target.account_id),
                );
                unfinished
                    .checks
                    .push(Check::error("finished", why.clone()));
                unfinished
            })
        })
        .collect();
    report.interrupted = finished.stopped.map(|reason| reason.to_string());
    Ok(())
}
