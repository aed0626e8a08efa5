//! Running a real binary the way CodeBuild does: a clean environment (only what the test sets,
//! plus PATH), a working directory of the test's own, and assertions that read like a spec.

use std::path::Path;
use std::process::Command;

use crate::Moto;

/// The longest a run of a binary may take in a test: far beyond any test's own waits.
pub const RUN_LIMIT: std::time::Duration = std::time::Duration::from_secs(300);

/// A binary invocation being built.
pub struct Cli {
    command: Command,
    description: String,
}

/// What a finished run printed and returned.
#[derive(Debug)]
pub struct CliOutput {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    description: String,
}

impl Cli {
    /// `binary` in `dir`, pointed at `moto` and nothing else.
    pub fn new(binary: impl AsRef<Path>, dir: &Path, moto: &Moto) -> Self {
        let mut command = Command::new(binary.as_ref());
        command.env_clear().current_dir(dir);
        if let Some(path) = std::env::var_os("PATH") {
            command.env("PATH", path);
        }
        command.envs(moto.env());
        Self {
            command,
            description: binary.as_ref().display().to_string(),
        }
    }

    #[must_use]
    pub fn env(mut self, key: &str, value: impl AsRef<std::ffi::OsStr>) -> Self {
        self.command.env(key, value);
        self
    }

    #[must_use]
    pub fn env_remove(mut self, key: &str) -> Self {
        self.command.env_remove(key);
        self
    }

    #[must_use]
    pub fn envs<'a>(mut self, vars: impl IntoIterator<Item = (&'a str, &'a str)>) -> Self {
        for (k, v) in vars {
            self.command.env(k, v);
        }
        self
    }

    #[must_use]
    pub fn args<'a>(mut self, args: impl IntoIterator<Item = &'a str>) -> Self {
        for arg in args {
            self.description.push(' ');
            self.description.push_str(arg);
            self.command.arg(arg);
        }
        self
    }

    /// Starts the run without waiting for it, its output captured.
    pub fn spawn(mut self) -> Running {
        let child = self
            .command
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e}", self.description));
        Running {
            child,
            description: self.description,
        }
    }

    /// Runs to the end (killed after [`RUN_LIMIT`], so a run that hangs fails its test instead of
    /// holding the test binary forever).
    pub fn run(self) -> CliOutput {
        self.spawn().wait()
    }
}

/// A run started with [`Cli::spawn`].
pub struct Running {
    child: std::process::Child,
    description: String,
}

impl Running {
    /// Sends the process `signal` (`TERM`, `INT`).
    pub fn signal(&self, signal: &str) {
        let status = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.child.id().to_string())
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -{signal} failed");
    }

    /// Waits for the end and returns what it printed; a run still going after [`RUN_LIMIT`] is
    /// killed (and its test then fails on the missing exit code).
    pub fn wait(self) -> CliOutput {
        let pid = self.child.id();
        let (done, finished) = std::sync::mpsc::channel::<()>();
        let watchdog = std::thread::spawn(move || {
            if finished.recv_timeout(RUN_LIMIT).is_err() {
                // SAFETY: a plain syscall on the pid of a child not yet reaped (wait_with_output
                // below has not returned, or `done` would have been sent).
                unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            }
        });
        let output = self
            .child
            .wait_with_output()
            .unwrap_or_else(|e| panic!("cannot wait for {}: {e}", self.description));
        let _ = done.send(());
        let _ = watchdog.join();
        CliOutput {
            code: output.status.code(),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
            description: self.description,
        }
    }
}

impl CliOutput {
    /// Asserts the exit code, showing both streams when it differs.
    #[track_caller]
    pub fn code(&self, expected: i32) -> &Self {
        assert_eq!(
            self.code,
            Some(expected),
            "`{}` exited {:?}, expected {expected}\n--- stdout\n{}\n--- stderr\n{}",
            self.description,
            self.code,
            self.stdout,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stderr_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stderr.contains(needle),
            "stderr of `{}` lacks {needle:?}:\n{}",
            self.description,
            self.stderr
        );
        self
    }

    #[track_caller]
    pub fn stdout_contains(&self, needle: &str) -> &Self {
        assert!(
            self.stdout.contains(needle),
            "stdout of `{}` lacks {needle:?}:\n{}",
            self.description,
            self.stdout
        );
        self
    }
}

/// Replaces whatever is at `to` (a file or a directory) with a copy of `from` (a file or a
/// directory tree), or just removes it when `from` is None: how a test corpus case sets up its
/// input files.
pub fn place(from: Option<&Path>, to: &Path) {
    if to.is_dir() {
        std::fs::remove_dir_all(to).unwrap();
    } else if to.exists() {
        std::fs::remove_file(to).unwrap();
    }
    let Some(from) = from else { return };
    if from.is_dir() {
        std::fs::create_dir_all(to).unwrap();
        for entry in std::fs::read_dir(from).unwrap() {
            let entry = entry.unwrap();
            place(Some(&entry.path()), &to.join(entry.file_name()));
        }
    } else {
        std::fs::copy(from, to).unwrap_or_else(|e| panic!("{}: {e}", from.display()));
    }
}

/// Files in `dir` (names only, sorted), for "no partial output" checks.
pub fn file_names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Runs `cfn-lint` on a template (optionally with StackSet parameter files) and fails the test
/// with its findings: the pinned cfn-lint (`crate::tools`), whose absence fails loudly.
#[track_caller]
pub fn assert_cfn_lint_passes(template: &Path, parameter_files: &[&Path]) {
    let mut command = Command::new(crate::tools::python_tool("cfn-lint"));
    if !parameter_files.is_empty() {
        command.arg("--parameter-files").args(parameter_files);
    }
    command.arg("--").arg(template);
    let output = command.output().unwrap_or_else(|e| {
        panic!("cannot run cfn-lint ({e}); run `bash scripts/ensure-tools.sh`")
    });
    assert!(
        output.status.success(),
        "cfn-lint rejected {} with {parameter_files:?}:\n{}{}",
        template.display(),
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Fails unless every flag and env fallback of `command` is an input of the registry
/// (`deploy_core::inputs::ALL`), so no message can name an input differently from `--help`.
#[track_caller]
pub fn assert_names_from_registry(command: &clap::Command) {
    use deploy_core::inputs::ALL;
    let mut strays = Vec::new();
    for arg in command.get_arguments() {
        let Some(flag) = arg.get_long() else { continue };
        if ["help", "version"].contains(&flag) {
            continue;
        }
        let env = arg.get_env().and_then(|e| e.to_str());
        let known = ALL
            .iter()
            .any(|input| input.flag == Some(flag) && input.env == env);
        if !known {
            strays.push(format!("--{flag} (env {env:?})"));
        }
    }
    assert!(
        strays.is_empty(),
        "not in deploy_core::inputs: {}",
        strays.join(", ")
    );
}

/// Values that break naive parsing, by name: empty, zero, negative, `u64::MAX` and past it, huge,
/// and not UTF-8.
pub fn extreme_values() -> Vec<(&'static str, std::ffi::OsString)> {
    use std::os::unix::ffi::OsStringExt;
    vec![
        ("empty", "".into()),
        ("zero", "0".into()),
        ("negative", "-1".into()),
        ("u64::MAX", "18446744073709551615".into()),
        ("past u64", "18446744073709551616".into()),
        ("4096 digits", "9".repeat(4096).into()),
        (
            "not UTF-8",
            std::ffi::OsString::from_vec(b"\xff\xfex".to_vec()),
        ),
    ]
}

/// Runs `run` with every extreme value in every flag and env var of `command` (flags as
/// `--flag=VALUE`), four runs at a time, and fails with every run that did not end cleanly: an
/// exit code outside the documented 0 to 4, a signal, or a panic message.
#[track_caller]
pub fn assert_extremes_end_cleanly(
    command: &clap::Command,
    run: impl Fn(Extreme<'_>) -> CliOutput + Sync,
) {
    let mut trials = Vec::new();
    for arg in command.get_arguments() {
        let Some(flag) = arg.get_long() else { continue };
        if ["help", "version"].contains(&flag) {
            continue;
        }
        for (name, value) in extreme_values() {
            let mut flag_value = std::ffi::OsString::from(format!("--{flag}="));
            flag_value.push(&value);
            trials.push((format!("--{flag}=<{name}>"), TrialInput::Flag(flag_value)));
            if let Some(env) = arg.get_env().and_then(|e| e.to_str()) {
                trials.push((
                    format!("{env}=<{name}>"),
                    TrialInput::Env(env.to_owned(), value),
                ));
            }
        }
    }
    let next = std::sync::atomic::AtomicUsize::new(0);
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..4 {
            scope.spawn(|| {
                while let Some((label, input)) =
                    trials.get(next.fetch_add(1, std::sync::atomic::Ordering::SeqCst))
                {
                    let extreme = match input {
                        TrialInput::Flag(arg) => Extreme::Arg(arg),
                        TrialInput::Env(name, value) => Extreme::Env(name, value),
                    };
                    let out = run(extreme);
                    let clean = matches!(out.code, Some(0..=4)) && !out.stderr.contains("panicked");
                    if !clean {
                        failures
                            .lock()
                            .unwrap()
                            .push(format!("{label}: exit {:?}\n{}", out.code, out.stderr));
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        !trials.is_empty() && failures.is_empty(),
        "{} of {} runs did not end cleanly:\n{}",
        failures.len(),
        trials.len(),
        failures.join("\n")
    );
}

enum TrialInput {
    Flag(std::ffi::OsString),
    Env(String, std::ffi::OsString),
}

/// One extreme input: an argument, or an environment variable and its value.
#[derive(Clone, Copy)]
pub enum Extreme<'a> {
    Arg(&'a std::ffi::OsStr),
    Env(&'a str, &'a std::ffi::OsStr),
}

impl Cli {
    /// This run with `extreme` added.
    #[must_use]
    pub fn extreme(mut self, extreme: Extreme<'_>) -> Self {
        match extreme {
            Extreme::Arg(arg) => {
                self.description.push_str(&format!(" {}", arg.display()));
                self.command.arg(arg);
            }
            Extreme::Env(name, value) => {
                self.command.env(name, value);
            }
        }
        self
    }
}
