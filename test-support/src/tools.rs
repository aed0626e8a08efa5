//! The pinned tools the tests run (`cfn-lint`, `moto_server`, the IAM reference data), taken from
//! the project-local environment `scripts/ensure-tools.sh` installs (`.tools/python`), never from
//! `PATH`: another version on the machine must not decide a result. A missing tool fails the test
//! loudly, with the command that installs it.

use std::path::{Path, PathBuf};

/// The repository's root directory.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support sits one level below the repository root")
        .to_path_buf()
}

/// The project-local Python environment holding the pinned Python tools.
pub fn python_env() -> PathBuf {
    repo_root().join(".tools/python")
}

/// A program of the pinned Python environment (`cfn-lint`, `moto_server`, `python`), which must
/// be installed.
#[track_caller]
pub fn python_tool(name: &str) -> PathBuf {
    let path = python_env().join("bin").join(name);
    assert!(
        path.is_file(),
        "{} is missing: the pinned tools are not installed; run `bash scripts/ensure-tools.sh` \
         (the README's two commands run it first)",
        path.display()
    );
    path
}
