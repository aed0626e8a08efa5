//! The hostile-input corpora both binaries' tests run: `tests/corpus/cases.json` of each binary
//! (bad inputs with their exact exit code and the start of their message) and the hostile values
//! both try in every input slot (`test-support/corpus/hostile-values.json`). The runner here reads
//! a corpus, sets up each case's files and checks the outcome every case shares; what a binary
//! must leave on disk is its own test's business.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::de::DeserializeOwned;
use serde::Deserialize;

use crate::cli::place;
use crate::CliOutput;

/// Fields every case of every corpus has.
const COMMON_FIELDS: [&str; 8] = [
    "name", "files", "generate", "special", "env", "args", "exit", "stderr",
];

/// A corpus file: a description for the reader and the cases.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CorpusFile {
    #[serde(rename = "about")]
    _about: String,
    cases: Vec<serde_json::Value>,
}

/// The fields a binary's cases add to the common ones ([`NoExtra`] for none).
pub trait Extra: DeserializeOwned {
    const FIELDS: &'static [&'static str];
}

/// A corpus whose cases have only the common fields.
#[derive(Debug, Deserialize)]
pub struct NoExtra {}

impl Extra for NoExtra {
    const FIELDS: &'static [&'static str] = &[];
}

/// One bad input and what the binary must answer.
#[derive(Debug)]
pub struct Case<X> {
    pub name: String,
    /// Workspace path -> corpus path (a file or a directory), or null to delete it.
    pub files: BTreeMap<String, Option<String>>,
    /// Workspace path -> size of a file to write (too big to commit).
    pub generate: BTreeMap<String, usize>,
    /// Workspace path -> what git cannot hold: `fifo` (a named pipe nobody writes to) or a
    /// device path such as `/dev/zero` (a symlink to it).
    pub special: BTreeMap<String, String>,
    pub env: BTreeMap<String, String>,
    pub args: Vec<String>,
    pub exit: i32,
    pub stderr: String,
    pub extra: X,
}

#[derive(Deserialize)]
struct CommonFields {
    name: String,
    #[serde(default)]
    files: BTreeMap<String, Option<String>>,
    #[serde(default)]
    generate: BTreeMap<String, usize>,
    #[serde(default)]
    special: BTreeMap<String, String>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    args: Vec<String>,
    exit: i32,
    stderr: String,
}

/// A binary's corpus directory: `tests/corpus/` of the crate whose manifest dir is given.
pub fn dir(manifest_dir: &str) -> PathBuf {
    Path::new(manifest_dir).join("tests/corpus")
}

/// Every case of `dir/cases.json`; an unknown field fails the test (a typo would silently drop a
/// check).
pub fn cases<X: Extra>(dir: &Path) -> Vec<Case<X>> {
    let path = dir.join("cases.json");
    let text = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file: CorpusFile =
        serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    file.cases
        .into_iter()
        .map(|value| {
            let object = value.as_object().expect("every case is an object");
            for key in object.keys() {
                assert!(
                    COMMON_FIELDS.contains(&key.as_str()) || X::FIELDS.contains(&key.as_str()),
                    "{}: unknown case field {key}",
                    path.display()
                );
            }
            let common: CommonFields = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{}: {e} in {value}", path.display()));
            let extra: X = serde_json::from_value(value.clone())
                .unwrap_or_else(|e| panic!("{}: {e} in {value}", path.display()));
            Case {
                name: common.name,
                files: common.files,
                generate: common.generate,
                special: common.special,
                env: common.env,
                args: common.args,
                exit: common.exit,
                stderr: common.stderr,
                extra,
            }
        })
        .collect()
}

impl<X> Case<X> {
    /// Copies the case's files from the corpus into `workspace` and writes its generated ones.
    pub fn prepare(&self, corpus: &Path, workspace: &Path) {
        for (name, source) in &self.files {
            let source = source.as_ref().map(|source| corpus.join(source));
            place(source.as_deref(), &workspace.join(name));
        }
        for (name, size) in &self.generate {
            let path = workspace.join(name);
            if let Some(parent) = path.parent() {
                std::fs::create_dir_all(parent).unwrap();
            }
            std::fs::write(path, vec![b'7'; *size]).unwrap();
        }
        for (name, kind) in &self.special {
            let path = workspace.join(name);
            place(None, &path);
            if kind == "fifo" {
                let c_path = std::ffi::CString::new(path.to_str().expect("a UTF-8 path")).unwrap();
                // SAFETY: mkfifo(3) reads a NUL-terminated path.
                assert_eq!(
                    unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) },
                    0,
                    "mkfifo {name}"
                );
            } else {
                assert!(
                    kind.starts_with("/dev/"),
                    "{name}: special is fifo or a /dev path"
                );
                std::os::unix::fs::symlink(kind, &path).unwrap();
            }
        }
    }

    pub fn env(&self) -> impl Iterator<Item = (&str, &str)> {
        self.env.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    pub fn args(&self) -> impl Iterator<Item = &str> {
        self.args.iter().map(String::as_str)
    }

    /// Where the run broke the case's contract, if it did (see [`check_outcome`]).
    pub fn check(&self, tool: &str, out: &CliOutput) -> Option<String> {
        check_outcome(tool, out, self.exit, &self.stderr)
    }
}

/// Where a finished run broke its contract, if it did: the exit code, the start of stderr and,
/// for an error of the tool's own, a single line.
pub fn check_outcome(tool: &str, out: &CliOutput, exit: i32, stderr_start: &str) -> Option<String> {
    if out.code != Some(exit) || !out.stderr.starts_with(stderr_start) {
        return Some(format!(
            "exit {:?}, expected {exit} and stderr starting {stderr_start:?}, got:\n{}",
            out.code, out.stderr
        ));
    }
    if out.stderr.starts_with(&format!("{tool}: error: ")) && out.stderr.lines().count() != 1 {
        return Some(format!("the error is not one line:\n{}", out.stderr));
    }
    None
}

/// Runs `check` on every case and fails the test with every problem found, each under its case's
/// name, after all cases ran.
#[track_caller]
pub fn assert_cases<X>(cases: &[Case<X>], mut check: impl FnMut(&Case<X>) -> Vec<String>) {
    let failures: Vec<String> = cases
        .iter()
        .flat_map(|case| {
            check(case)
                .into_iter()
                .map(move |problem| format!("{}: {problem}", case.name))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The hostile values both binaries' tests try in every input slot, by name: strings built to
/// break out of YAML, JSON, XML or a template.
pub fn hostile_values() -> Vec<(String, String)> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus/hostile-values.json");
    let text = std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    file["values"]
        .as_object()
        .expect("a \"values\" object")
        .iter()
        .map(|(name, value)| (name.clone(), value.as_str().expect("a string").to_owned()))
        .collect()
}
