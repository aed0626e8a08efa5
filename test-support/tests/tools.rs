//! The tools that decide results are exactly the pinned ones (`scripts/pins/`): the Python closure
//! of `.tools/python`, cfn-lint and moto among it, the fuzz nightly and cargo-fuzz. A pin changed
//! without reinstalling, or a tool upgraded by hand, fails here; `bash scripts/ensure-tools.sh`
//! puts things right. And every cargo command of the scripts runs `--locked`.

use std::collections::BTreeSet;
use std::path::Path;
use std::process::Command;

use test_support::tools::{python_tool, repo_root};

/// `name==version` pins, names normalised as pip compares them (PEP 503).
fn normalised(pin: &str) -> String {
    let (name, version) = pin.split_once("==").expect("a name==version pin");
    let name = name.to_ascii_lowercase().replace(['_', '.'], "-");
    format!("{name}=={version}")
}

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The pins of `scripts/pins/python-tools.txt`: every line that starts a requirement.
fn python_pins() -> BTreeSet<String> {
    read("scripts/pins/python-tools.txt")
        .lines()
        .filter(|line| line.contains("==") && !line.starts_with([' ', '#']))
        .map(|line| normalised(line.split_whitespace().next().unwrap_or_default()))
        .collect()
}

/// A `KEY=value` (or `KEY="value"`) line of `scripts/pins/tools.env`.
fn tool_pin(key: &str) -> String {
    read("scripts/pins/tools.env")
        .lines()
        .find_map(|line| line.strip_prefix(&format!("{key}=")))
        .unwrap_or_else(|| panic!("scripts/pins/tools.env has no {key}"))
        .trim_matches('"')
        .to_owned()
}

fn stdout_of(program: &Path, args: &[&str]) -> String {
    let output = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", program.display()));
    assert!(
        output.status.success(),
        "{} {args:?} failed: {}",
        program.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

#[test]
fn the_python_environment_holds_exactly_the_pinned_closure() {
    let installed: BTreeSet<String> = stdout_of(
        &python_tool("python"),
        &[
            "-m",
            "pip",
            "freeze",
            "--all",
            "--exclude",
            "pip",
            "--exclude",
            "setuptools",
            "--exclude",
            "wheel",
        ],
    )
    .lines()
    .map(normalised)
    .collect();
    let pinned = python_pins();
    assert!(
        pinned.len() > 10,
        "python-tools.txt lists the whole closure"
    );
    let missing: Vec<_> = pinned.difference(&installed).collect();
    let extra: Vec<_> = installed.difference(&pinned).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        ".tools/python differs from scripts/pins/python-tools.txt: pinned but not installed {missing:?}, \
         installed but not pinned {extra:?}; run `bash scripts/ensure-tools.sh`"
    );
}

#[test]
fn cfn_lint_moto_and_the_iam_reference_report_their_pins() {
    let pins = python_pins();
    let pinned_version = |name: &str| {
        pins.iter()
            .find_map(|pin| pin.strip_prefix(&format!("{name}==")))
            .unwrap_or_else(|| panic!("python-tools.txt pins no {name}"))
            .to_owned()
    };
    assert_eq!(
        stdout_of(&python_tool("cfn-lint"), &["--version"]),
        format!("cfn-lint {}", pinned_version("cfn-lint"))
    );
    let python = python_tool("python");
    assert_eq!(
        stdout_of(&python, &["-c", "import moto; print(moto.__version__)"]),
        pinned_version("moto")
    );
    assert_eq!(
        stdout_of(
            &python,
            &[
                "-c",
                "from importlib.metadata import version; print(version('policy_sentry'))"
            ]
        ),
        pinned_version("policy-sentry")
    );
    // The top-level pins of python-tools.in are the versions of the lock.
    for line in read("scripts/pins/python-tools.in").lines() {
        let Some((name, version)) = line.split_once("==") else {
            continue;
        };
        let name = name.split('[').next().unwrap_or(name);
        assert_eq!(
            pinned_version(&normalised(&format!("{name}==x")).replace("==x", "")),
            version,
            "python-tools.in and python-tools.txt disagree on {name}: run scripts/pins/lock-python-tools.py"
        );
    }
}

#[test]
fn the_fuzz_nightly_and_cargo_fuzz_are_the_pinned_ones() {
    let cargo_fuzz = repo_root().join(".tools/cargo/bin/cargo-fuzz");
    assert!(
        cargo_fuzz.is_file(),
        "{} is missing; run `bash scripts/ensure-tools.sh`",
        cargo_fuzz.display()
    );
    assert_eq!(
        stdout_of(&cargo_fuzz, &["--version"]),
        format!("cargo-fuzz {}", tool_pin("CARGO_FUZZ_VERSION"))
    );
    // scripts/ensure-tools.sh uses the dated nightly, or an undated one reporting the same rustc.
    let wanted = tool_pin("FUZZ_NIGHTLY_RUSTC");
    let reported: Vec<String> = [tool_pin("FUZZ_NIGHTLY"), "nightly".to_owned()]
        .iter()
        .filter_map(|toolchain| {
            let output = Command::new("rustup")
                .args(["run", toolchain, "rustc", "--version"])
                .output()
                .ok()?;
            output
                .status
                .success()
                .then(|| String::from_utf8_lossy(&output.stdout).trim().to_owned())
        })
        .collect();
    assert!(
        reported.contains(&wanted),
        "no installed nightly reports {wanted} (found {reported:?}); run `bash scripts/ensure-tools.sh`"
    );
}

/// The cargo commands a line of shell names: `cargo` followed by a subcommand or a `+toolchain`,
/// up to the end of the line.
fn cargo_commands(code: &str) -> Vec<&str> {
    const SUBCOMMANDS: &[&str] = &[
        "build", "run", "test", "clippy", "doc", "install", "metadata", "fuzz", "xtask", "fmt",
        "check", "bench", "\"+", "+",
    ];
    code.match_indices("cargo ")
        .map(|(at, _)| &code[at..])
        .filter(|command| {
            let rest = &command["cargo ".len()..];
            SUBCOMMANDS.iter().any(|sub| rest.starts_with(sub))
        })
        .collect()
}

#[test]
fn every_cargo_command_of_the_scripts_runs_locked() {
    let mut unlocked = Vec::new();
    // Every shell script of the repository and what CI runs, so a new script cannot slip by.
    let mut scripts: Vec<String> = ["scripts", "bench"]
        .iter()
        .flat_map(|dir| std::fs::read_dir(repo_root().join(dir)).expect("a script dir"))
        .map(|entry| entry.expect("a directory entry").path())
        .filter(|path| path.extension().is_some_and(|e| e == "sh"))
        .map(|path| {
            let relative = path.strip_prefix(repo_root()).expect("in the repository");
            relative.to_string_lossy().into_owned()
        })
        .chain([".ci/run".to_owned()])
        .collect();
    scripts.sort();
    for expected in [
        "scripts/test.sh",
        "scripts/fuzz.sh",
        "bench/run.sh",
        ".ci/run",
    ] {
        assert!(
            scripts.iter().any(|s| s == expected),
            "{expected} in {scripts:?}"
        );
    }
    for script in &scripts {
        for line in read(script).lines() {
            let code = line.split('#').next().unwrap_or_default();
            // What the scripts print about a step is not a command.
            if ["step ", "say "]
                .iter()
                .any(|log| code.trim_start().starts_with(log))
            {
                continue;
            }
            for command in cargo_commands(code) {
                // fmt resolves nothing; the xtask alias carries --locked itself (checked below);
                // cargo-fuzz takes no --locked, so fuzz.sh checks the lock with
                // `metadata --locked` before it builds.
                let exempt = [
                    "cargo fmt",
                    "cargo xtask",
                    "cargo fuzz",
                    "cargo \"+$FUZZ_TOOLCHAIN\" fuzz",
                ]
                .iter()
                .any(|prefix| command.starts_with(prefix))
                    && !command.contains(" metadata");
                if !exempt && !command.contains("--locked") {
                    unlocked.push(format!("{script}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        unlocked.is_empty(),
        "cargo commands without --locked:\n{}",
        unlocked.join("\n")
    );
    assert!(
        read(".cargo/config.toml").contains(r#"xtask = "run --locked "#),
        "the xtask alias runs --locked"
    );
    assert!(
        read("scripts/fuzz.sh").contains("metadata --locked"),
        "fuzz.sh checks fuzz/Cargo.lock before cargo fuzz builds"
    );
}
