//! The benchmark (`bash bench/run.sh [--quick]`, see bench/README.md): the release binaries
//! against the equivalent Python/boto3 scripts in bench/python, one process at a time on one
//! emulator. Each case runs once through the fault proxy to count the calls each implementation
//! makes (and check its outputs), then several times straight at the emulator; the table shows
//! the median whole-process wall time and peak memory (the child's own, through `peak-rss`).
//! Usage: `bench <dir with the release binaries> <output dir> [--quick]`.
//!
//! It fails (exit 1) when an implementation fails a run or writes the wrong result, when
//! build-step makes more than one ListModelPackages call, or when a binary is over the size budget
//! or not stripped.
//!
//! One measurement per module: `sizes` (the binaries' sizes), `build_step` and `test_step` (each
//! step against its Python script, through `compare`), `grant` (build-step's cross-account grant
//! over 1,000 accounts), `scale` (test-step over many targets with a network's latency) and
//! `fleet` (`test-step status` and `preflight` over 1 and 20 targets, with the same latency);
//! `measure` runs and times one process and `figures` prints what was measured. This file picks
//! the mode and runs them in order.

use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use test_support::moto;

mod build_step;
mod compare;
mod figures;
mod fleet;
mod grant;
mod measure;
mod scale;
mod sizes;
mod test_step;

use figures::secs;

/// The SageMaker project every case deploys for.
const PROJECT: &str = "bench";

struct Mode {
    group_sizes: [usize; 2],
    account_counts: [usize; 3],
    /// Targets of the latency-injected test-step cases; the first is the baseline of the ratios.
    scale_targets: &'static [usize],
    runs: usize,
    /// Runs of each build-step case: a run is about 10 ms, so one run is mostly noise.
    build_runs: usize,
}

const FULL: Mode = Mode {
    group_sizes: [10, 10_000],
    account_counts: [1, 10, 50],
    scale_targets: &[1, 50, 200],
    runs: 3,
    build_runs: 9,
};
/// For CI: the call-count, size and 50:1 checks, and the figures' order of magnitude.
const QUICK: Mode = Mode {
    group_sizes: [10, 1_000],
    account_counts: [1, 5, 10],
    scale_targets: &[1, 50, 200],
    runs: 1,
    build_runs: 5,
};

/// What every round trip costs in the scale cases: reaching AWS from CodeBuild, roughly.
const ROUND_TRIP: Duration = Duration::from_millis(100);

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let quick = args.iter().any(|a| a == "--quick");
    let paths: Vec<&String> = args.iter().filter(|a| !a.starts_with("--")).collect();
    let [bin_dir, out_dir] = paths[..] else {
        eprintln!("usage: bench <binary dir> <output dir> [--quick]");
        return ExitCode::from(2);
    };
    let absolute = |path: &str| std::path::absolute(path).expect("an absolute path");
    match run(&absolute(bin_dir), &absolute(out_dir), quick).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(why) => {
            eprintln!("bench: FAILED: {why}");
            ExitCode::FAILURE
        }
    }
}

async fn run(bin_dir: &Path, out_dir: &Path, quick: bool) -> Result<(), String> {
    let started = Instant::now();
    let mode = if quick { QUICK } else { FULL };
    let repo = std::env::current_dir().expect("the current directory");
    let _ = std::fs::remove_dir_all(out_dir);
    std::fs::create_dir_all(out_dir).expect("create the output dir");

    let size_problems = sizes::check(bin_dir);

    let moto = moto();
    let python = measure::python();
    let implementations = compare::Implementations {
        bin_dir,
        python: &python,
        repo: &repo,
    };
    let mut rows = Vec::new();

    let stage_configs: Vec<(&str, String)> = ["staging-config.json", "prod-config.json"]
        .into_iter()
        .map(|name| {
            let text = std::fs::read_to_string(repo.join("seed-repo").join(name))
                .expect("the seed's stage configs (run from the repository root)");
            (name, text)
        })
        .collect();
    let build_config = build_step::compare(
        moto,
        &mode,
        &implementations,
        out_dir,
        &stage_configs,
        &mut rows,
    )
    .await?;

    grant::cases(
        moto,
        &bin_dir.join("build-step"),
        out_dir,
        &stage_configs,
        &format!("bench-{}", mode.group_sizes[0]),
    )
    .await?;

    let staging = test_step::Staging::of(&build_config, &repo);
    let walls =
        test_step::compare(moto, &mode, &implementations, out_dir, &staging, &mut rows).await?;

    let scale_rows =
        scale::cases(moto, &mode, &bin_dir.join("test-step"), out_dir, &staging).await?;

    let fleet_rows =
        fleet::cases(moto, &mode, &bin_dir.join("test-step"), out_dir, &staging).await?;

    compare::print_table(&rows, &mode);
    test_step::print_growth(&walls, &mode);
    let mut problems = size_problems;
    problems.extend(scale::print(&scale_rows));
    problems.extend(fleet::print(&fleet_rows));
    println!(
        "\nbench{} finished in {} (outputs and run logs in {})",
        if quick { " --quick" } else { "" },
        secs(started.elapsed()),
        out_dir.display()
    );
    if !problems.is_empty() {
        return Err(problems.join("; "));
    }
    Ok(())
}
