//! One process run, measured: an implementation (a release binary or a Python script) started in
//! a fresh directory with only the environment it is given, timed, its peak memory taken by the
//! `peak-rss` launcher. Every measurement of the benchmark runs its processes through here.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// One way to run a step: the release binary or its Python script.
pub(crate) struct Implementation {
    pub(crate) name: &'static str,
    pub(crate) program: PathBuf,
    pub(crate) args: Vec<OsString>,
}

impl Implementation {
    /// The release binary at `program`, with `args`.
    pub(crate) fn rust(program: &Path, args: Vec<OsString>) -> Self {
        Implementation {
            name: "rust",
            program: program.to_owned(),
            args,
        }
    }

    /// The run of this implementation in `dir` with only `env` (and PATH), through `peak-rss`,
    /// which writes the run's peak memory to `report`.
    fn command(&self, dir: &Path, env: &[(String, String)], report: &Path) -> Command {
        let mut command = Command::new(peak_rss());
        command
            .arg(report)
            .arg(&self.program)
            .args(&self.args)
            .current_dir(dir)
            .env_clear();
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(env.iter().map(|(k, v)| (k, v)));
        command
    }
}

/// The `peak-rss` launcher built beside this driver (see its docs for why runs go through it).
fn peak_rss() -> PathBuf {
    let me = std::env::current_exe().expect("the driver's own path");
    me.with_file_name("peak-rss")
}

/// One process run: its exit code, wall time and peak resident memory.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Measured {
    pub(crate) code: i32,
    pub(crate) wall: Duration,
    pub(crate) max_rss_kib: i64,
}

impl Measured {
    /// `Ok` when the run exited 0 and `check` passes on what it left in `dir`.
    pub(crate) fn passed(
        &self,
        dir: &Path,
        check: &dyn Fn(&Path) -> Result<(), String>,
    ) -> Result<(), String> {
        match self.code {
            0 => check(dir),
            code => Err(format!("exit {code}")),
        }
    }
}

/// Runs `implementation` to the end in `dir`, emptied and given only `inputs` first so the run
/// (and its check) sees no earlier run's outputs, with its output in `log`, timing it; its peak
/// memory comes from `peak-rss`.
pub(crate) fn measure(
    implementation: &Implementation,
    dir: &Path,
    inputs: &[(&str, String)],
    env: &[(String, String)],
    log: &Path,
) -> Measured {
    fresh_run_dir(dir, inputs);
    let report = log.with_extension("rss");
    let mut command = implementation.command(dir, env, &report);
    let file = std::fs::File::create(log).expect("create the run log");
    command
        .stdout(file.try_clone().expect("log handle"))
        .stderr(file);
    let started = Instant::now();
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run {command:?}: {e}"));
    let wall = started.elapsed();
    let max_rss_kib = std::fs::read_to_string(&report)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or_else(|| panic!("peak-rss wrote no figure to {}", report.display()));
    Measured {
        code: status.code().unwrap_or(-1),
        wall,
        max_rss_kib,
    }
}

/// Empties `dir` and writes `inputs` into it.
fn fresh_run_dir(dir: &Path, inputs: &[(&str, String)]) {
    let _ = std::fs::remove_dir_all(dir);
    std::fs::create_dir_all(dir).expect("create the run dir");
    for (name, contents) in inputs {
        std::fs::write(dir.join(name), contents).expect("write a case input");
    }
}

/// The pinned environment's interpreter itself, not a version manager's shim in front of it (which
/// would add its own start-up time to every Python run).
pub(crate) fn python() -> PathBuf {
    let out = Command::new(test_support::tools::python_tool("python"))
        .args([
            "-c",
            "import sys, boto3, jinja2, yaml; print(sys.executable)",
        ])
        .output()
        .expect("the pinned Python runs (bench/run.sh installs it)");
    assert!(
        out.status.success(),
        "the pinned Python lacks boto3, jinja2 or yaml: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim())
}
