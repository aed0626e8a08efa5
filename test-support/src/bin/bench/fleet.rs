//! `test-step status` and `test-step preflight` at scale: over 1 and 20 staging accounts with a
//! network's latency on every round trip, through the fault proxy that also stands in for the
//! APIs the emulator lacks (IAM's policy simulator, Service Quotas). 20 targets may take at most
//! [`MAX_RATIO_20_TO_1`] times as long as 1: the targets run concurrently, so the time is a
//! target's chain of round trips, not their sum. Status runs over accounts serving the endpoint;
//! preflight over accounts before their first deploy, each with the model's execution role.

use std::path::Path;
use std::time::Duration;

use test_support::endpoints::create_execution_role;
use test_support::fault_proxy::FaultProxy;
use test_support::seed::{Organization, ACCOUNT_ID, REGION};
use test_support::Moto;

use crate::figures::{accounts, median, mib, secs};
use crate::measure::{measure, Implementation};
use crate::test_step::{test_step_env, Staging};
use crate::{Mode, ROUND_TRIP};

/// Either subcommand over 20 targets may take at most this many times as long as over 1.
const MAX_RATIO_20_TO_1: f64 = 2.0;
/// The targets of each case; the first is the baseline of the ratio.
const TARGETS: [usize; 2] = [1, 20];

/// One case: a subcommand over a number of targets, its median wall time and peak memory.
pub(crate) struct FleetRow {
    command: &'static str,
    targets: usize,
    wall: Duration,
    max_rss_kib: i64,
}

/// Status and preflight over OUs of each of [`TARGETS`]' sizes.
pub(crate) async fn cases(
    moto: &Moto,
    mode: &Mode,
    test_step: &Path,
    out_dir: &Path,
    staging: &Staging,
) -> Result<Vec<FleetRow>, String> {
    let mut rows = Vec::new();
    for targets in TARGETS {
        let serving = staging.seed(moto, targets).await;
        rows.push(case(
            moto,
            "status",
            test_step,
            out_dir,
            staging,
            (targets, &serving),
            mode.runs,
        )?);
        let fresh = seed_undeployed(moto, targets).await;
        rows.push(case(
            moto,
            "preflight",
            test_step,
            out_dir,
            staging,
            (targets, &fresh),
            mode.runs,
        )?);
    }
    Ok(rows)
}

/// An OU of `count` accounts where nothing is deployed yet, each with the execution role, which
/// may read the bench package's artifacts and image (the seed's `GroupSeed` package).
async fn seed_undeployed(moto: &Moto, count: usize) -> String {
    let org = Organization::get(moto).await;
    let ou = org
        .create_ou(&org.root_id, &format!("bench-preflight-{count}"))
        .await;
    let repository = format!("arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/demo-model");
    for n in 0..count {
        let account = org
            .create_account(&ou, &format!("bench-preflight-{count}-{n}"))
            .await;
        create_execution_role(moto, &account, "demo-artifacts", &repository).await;
    }
    ou
}

fn case(
    moto: &Moto,
    command: &'static str,
    test_step: &Path,
    out_dir: &Path,
    staging: &Staging,
    seeded: (usize, &str),
    runs: usize,
) -> Result<FleetRow, String> {
    let (targets, ou) = seeded;
    let dir = out_dir.join(format!("{command}-{targets}"));
    let proxy = FaultProxy::start(moto);
    proxy.delay_every_round_trip(ROUND_TRIP);
    proxy.stand_in_for_policy_simulator();
    proxy.stand_in_for_service_quotas();
    let mut env = proxy.env();
    env.extend(test_step_env(ou));
    let mut measured = Vec::new();
    for run in 1..=runs {
        let log = out_dir.join(format!("{command}-{targets}-{run}.log"));
        let implementation = Implementation::rust(test_step, vec![command.into()]);
        let run = measure(&implementation, &dir, &staging.inputs, &env, &log);
        run.passed(&dir, &check_report(command, targets))
            .map_err(|why| {
                format!(
                    "test-step {command}, {}: {why}; its output is in {}",
                    accounts(targets),
                    log.display()
                )
            })?;
        measured.push(run);
    }
    Ok(FleetRow {
        command,
        targets,
        wall: median(measured.iter().map(|m| m.wall).collect()),
        max_rss_kib: median(measured.iter().map(|m| m.max_rss_kib).collect()),
    })
}

/// A run's check: a passed report of `command` over `targets` targets, and its JUnit file.
fn check_report(command: &'static str, targets: usize) -> impl Fn(&Path) -> Result<(), String> {
    move |dir| {
        let name = format!("{command}-results.json");
        let text = std::fs::read_to_string(dir.join(&name)).map_err(|e| format!("{name}: {e}"))?;
        let report: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("{name}: {e}"))?;
        let summary = &report["summary"];
        if report["status"] != "passed" || summary["passed"] != targets {
            return Err(format!("expected {targets} passed targets: {summary}"));
        }
        let junit = format!("{command}-results.xml");
        std::fs::metadata(dir.join(&junit))
            .map(|_| ())
            .map_err(|e| format!("{junit}: {e}"))
    }
}

/// Prints the table and the 20:1 ratios; the problems found (a ratio over its bound).
pub(crate) fn print(rows: &[FleetRow]) -> Vec<String> {
    println!(
        "\ntest-step status and preflight: {} ms added to every round trip (default flags)",
        ROUND_TRIP.as_millis()
    );
    println!("{:<36} {:>12} {:>12}", "case", "wall", "peak RSS");
    for row in rows {
        println!(
            "{:<36} {:>12} {:>12}",
            format!("test-step {}, {}", row.command, accounts(row.targets)),
            secs(row.wall),
            mib(row.max_rss_kib)
        );
    }
    let mut problems = Vec::new();
    for command in ["status", "preflight"] {
        let wall = |targets| {
            rows.iter()
                .find(|r| r.command == command && r.targets == targets)
                .map(|r| r.wall.as_secs_f64())
        };
        let (Some(one), Some(many)) = (wall(TARGETS[0]), wall(TARGETS[1])) else {
            continue;
        };
        let ratio = many / one;
        println!("  {command} {}:{} wall x{ratio:.2}", TARGETS[1], TARGETS[0]);
        if ratio > MAX_RATIO_20_TO_1 {
            problems.push(format!(
                "test-step {command} over {} targets took x{ratio:.2} the time of {}, over x{MAX_RATIO_20_TO_1}",
                TARGETS[1], TARGETS[0]
            ));
        }
    }
    problems
}
