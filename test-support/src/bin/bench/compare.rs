//! A step against its Python script: each case run once through a fresh fault proxy to count the
//! calls it makes, then several times straight at the emulator, every run checked; the medians go
//! into one table of both implementations, with the ratios between them.

use std::path::{Path, PathBuf};
use std::time::Duration;

use test_support::fault_proxy::FaultProxy;
use test_support::Moto;

use crate::figures::{median, mib, secs};
use crate::measure::{measure, Implementation, Measured};
use crate::Mode;

/// build-step should take at most this fraction's inverse of the Python script's wall time; it is
/// printed, not enforced: a 10 ms run on a shared 2-core machine is too noisy to fail CI on.
const BUILD_STEP_TARGET: f64 = 25.0;

/// Where the two implementations of a step are.
pub(crate) struct Implementations<'a> {
    /// The release binaries.
    pub(crate) bin_dir: &'a Path,
    /// The pinned Python interpreter.
    pub(crate) python: &'a Path,
    /// The repository, with the scripts in bench/python.
    pub(crate) repo: &'a Path,
}

impl Implementations<'_> {
    /// The release binary of `step`, then its Python script.
    pub(crate) fn of(&self, step: &str) -> [Implementation; 2] {
        let script = format!("bench/python/{}.py", step.replace('-', "_"));
        [
            Implementation::rust(&self.bin_dir.join(step), Vec::new()),
            Implementation {
                name: "python",
                program: self.python.to_owned(),
                args: vec![self.repo.join(script).into()],
            },
        ]
    }
}

/// Medians of several runs of one implementation on one case, and its call count.
pub(crate) struct Row {
    pub(crate) case: String,
    pub(crate) implementation: &'static str,
    pub(crate) wall: Duration,
    pub(crate) max_rss_kib: i64,
    /// The counted operation and how many requests the counted run made for it.
    pub(crate) calls: (&'static str, usize),
}

/// A case: where it runs, what it needs, how to check a run's result.
pub(crate) struct Case<'a> {
    pub(crate) name: String,
    pub(crate) dir: PathBuf,
    pub(crate) env: Vec<(String, String)>,
    pub(crate) inputs: &'a [(&'a str, String)],
    pub(crate) counted: &'static str,
    pub(crate) check: &'a dyn Fn(&Path) -> Result<(), String>,
}

/// Runs `case` for `implementation`: once through a fresh fault proxy (counting `case.counted`),
/// then `runs` times straight at the emulator. Every run must exit 0 and pass `case.check`.
pub(crate) fn run_case(
    moto: &Moto,
    case: &Case<'_>,
    implementation: &Implementation,
    runs: usize,
) -> Result<Row, String> {
    let dir = case.dir.join(implementation.name);
    // Each run starts from the inputs alone, so a check never sees an earlier run's outputs.
    let one_run = |label: String, env: Vec<(String, String)>| -> Result<Measured, String> {
        let log = case
            .dir
            .join(format!("{}-{label}.log", implementation.name));
        let measured = measure(implementation, &dir, case.inputs, &env, &log);
        measured.passed(&dir, case.check).map_err(|why| {
            format!(
                "{} {} ({label}): {why}; its output is in {}",
                case.name,
                implementation.name,
                log.display()
            )
        })?;
        Ok(measured)
    };

    let proxy = FaultProxy::start(moto);
    let mut env = proxy.env();
    env.extend(case.env.iter().cloned());
    one_run("counted".into(), env)?;
    let calls = proxy.count(case.counted);
    drop(proxy);

    let mut env = moto.env();
    env.extend(case.env.iter().cloned());
    let mut measured = Vec::new();
    for run in 1..=runs {
        measured.push(one_run(format!("run-{run}"), env.clone())?);
    }
    Ok(Row {
        case: case.name.clone(),
        implementation: implementation.name,
        wall: median(measured.iter().map(|m| m.wall).collect()),
        max_rss_kib: median(measured.iter().map(|m| m.max_rss_kib).collect()),
        calls: (case.counted, calls),
    })
}

/// Prints the rows, each pair of Rust and Python rows followed by their ratios.
pub(crate) fn print_table(rows: &[Row], mode: &Mode) {
    println!(
        "\nmedians of {} run(s) of each build-step case and {} of each test-step case, after one run through the fault proxy that counts the calls",
        mode.build_runs, mode.runs
    );
    println!(
        "{:<28} {:<7} {:>12} {:>12}  calls",
        "case", "impl", "wall", "peak RSS"
    );
    for row in rows {
        let (operation, calls) = row.calls;
        println!(
            "{:<28} {:<7} {:>12} {:>12}  {calls} {operation}",
            row.case,
            row.implementation,
            secs(row.wall),
            mib(row.max_rss_kib)
        );
    }
    println!("\nratios, Python / Rust (higher: Rust is better)");
    for pair in rows.chunks(2) {
        let [rust, python] = pair else { continue };
        let wall = python.wall.as_secs_f64() / rust.wall.as_secs_f64();
        let target = if rust.case.starts_with("build-step") {
            let verdict = if wall >= BUILD_STEP_TARGET {
                "met"
            } else {
                "NOT met"
            };
            format!("  (target x{BUILD_STEP_TARGET}: {verdict})")
        } else {
            String::new()
        };
        println!(
            "{:<28} wall x{wall:<6.1} peak memory x{:.1}{target}",
            rust.case,
            python.max_rss_kib as f64 / rust.max_rss_kib as f64
        );
    }
}
