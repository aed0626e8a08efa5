//! test-step at scale: over 1, 50 and 200 staging accounts, with a network's latency on every round
//! trip and InvokeEndpoint answered by a stand-in endpoint, so that neither the network nor the
//! emulator's one-call-at-a-time CPU on the invocations is what scales. 50 targets may take at
//! most [`MAX_RATIO_50_TO_1`] times as long as 1, and 200 at most [`MAX_RSS_200_KIB`] of memory.

use std::path::Path;
use std::time::Duration;

use test_support::endpoints::STAND_IN_ANSWER;
use test_support::fault_proxy::FaultProxy;
use test_support::Moto;

use crate::figures::{accounts, median, mib, secs};
use crate::measure::{measure, Implementation, Measured};
use crate::test_step::{check_report, test_step_env, Staging};
use crate::{Mode, ROUND_TRIP};

/// test-step over 50 targets may take at most this many times as long as over 1.
const MAX_RATIO_50_TO_1: f64 = 1.7;
/// Peak memory test-step may use over 200 targets (the sample payloads).
const MAX_RSS_200_KIB: i64 = 64 * 1024;

/// One latency-injected test-step case: its median wall time with the delay and without (the
/// emulator's floor), and its peak memory.
pub(crate) struct ScaleRow {
    targets: usize,
    wall: Duration,
    floor: Duration,
    max_rss_kib: i64,
}

/// A case over an OU of each of the mode's sizes.
pub(crate) async fn cases(
    moto: &Moto,
    mode: &Mode,
    test_step: &Path,
    out_dir: &Path,
    staging: &Staging,
) -> Result<Vec<ScaleRow>, String> {
    let mut rows = Vec::new();
    for &targets in mode.scale_targets {
        let ou = staging.seed(moto, targets).await;
        let seeded = (targets, ou.as_str());
        rows.push(case(moto, test_step, out_dir, staging, seeded, mode.runs)?);
    }
    Ok(rows)
}

/// test-step over `targets` staging accounts through a fault proxy that holds every answer for
/// `ROUND_TRIP` (or, for the floor, not at all) and answers InvokeEndpoint itself.
fn case(
    moto: &Moto,
    test_step: &Path,
    out_dir: &Path,
    staging: &Staging,
    seeded: (usize, &str),
    runs: usize,
) -> Result<ScaleRow, String> {
    let (targets, ou) = seeded;
    let dir = out_dir.join(format!("scale-{targets}"));
    let timed = |delay: Duration, label: &str| -> Result<Vec<Measured>, String> {
        let proxy = FaultProxy::start(moto);
        proxy.delay_every_round_trip(delay);
        proxy.stand_in_for_endpoints(STAND_IN_ANSWER);
        let mut env = proxy.env();
        env.extend(test_step_env(ou));
        let mut measured = Vec::new();
        for run in 1..=runs {
            let log = out_dir.join(format!("scale-{targets}-{label}-{run}.log"));
            let implementation = Implementation::rust(test_step, staging.args());
            let run = measure(&implementation, &dir, &staging.inputs, &env, &log);
            run.passed(&dir, &check_report(targets)).map_err(|why| {
                format!(
                    "test-step, {} at {label}: {why}; its output is in {}",
                    accounts(targets),
                    log.display()
                )
            })?;
            measured.push(run);
        }
        Ok(measured)
    };
    let delayed = timed(ROUND_TRIP, &format!("{} ms", ROUND_TRIP.as_millis()))?;
    let floor = timed(Duration::ZERO, "no delay")?;
    Ok(ScaleRow {
        targets,
        wall: median(delayed.iter().map(|m| m.wall).collect()),
        floor: median(floor.iter().map(|m| m.wall).collect()),
        max_rss_kib: median(delayed.iter().map(|m| m.max_rss_kib).collect()),
    })
}

/// Prints the scale table and its ratios; the problems found (50:1 over its bound, 200 targets
/// over the memory budget).
pub(crate) fn print(rows: &[ScaleRow]) -> Vec<String> {
    println!(
        "\ntest-step at scale: {} ms added to every round trip, InvokeEndpoint answered by a stand-in endpoint (default flags)",
        ROUND_TRIP.as_millis()
    );
    println!(
        "{:<28} {:>12} {:>16} {:>12}",
        "case", "wall", "floor (no delay)", "peak RSS"
    );
    for row in rows {
        println!(
            "{:<28} {:>12} {:>16} {:>12}",
            format!("test-step, {}", accounts(row.targets)),
            secs(row.wall),
            secs(row.floor),
            mib(row.max_rss_kib)
        );
    }
    let mut problems = Vec::new();
    let Some(base) = rows.first() else {
        return problems;
    };
    for row in &rows[1..] {
        let ratio = row.wall.as_secs_f64() / base.wall.as_secs_f64();
        let floor = row.floor.as_secs_f64() / base.floor.as_secs_f64();
        println!(
            "  {}:{} wall x{ratio:.2} (the emulator's floor x{floor:.2})",
            row.targets, base.targets
        );
        if row.targets == 50 && ratio > MAX_RATIO_50_TO_1 {
            problems.push(format!("test-step over 50 targets took x{ratio:.2} the time of 1, over x{MAX_RATIO_50_TO_1}"));
        }
        if row.targets == 200 && row.max_rss_kib > MAX_RSS_200_KIB {
            problems.push(format!(
                "test-step over 200 targets peaked at {}, over {}",
                mib(row.max_rss_kib),
                mib(MAX_RSS_200_KIB)
            ));
        }
    }
    problems
}
