//! Project tasks that need more than a shell one-liner, as a dev-only crate run through the
//! `cargo xtask` alias (`.cargo/config.toml`): nothing to install, and nothing of it ships.
//! Today: `seed-zip`, the reproducible zip the platform team publishes, and `publish`, which
//! uploads it with the product template and registers it with Studio or Service Catalog.
//!
//! `publish` (its checked options and the byte-for-byte uploads inside it) runs the steps of
//! `studio` and `catalog`; all three stop with a `publish_error`, which names the exit code. None
//! of those uses `publish`, so the modules form no circle.

#![forbid(unsafe_code)]

mod catalog;
mod elf;
mod product_template;
pub mod publish;
pub mod publish_error;
pub mod seed_zip;
mod studio;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The target the shipped binaries are built for: static, so they run on any CodeBuild image.
pub const TARGET: &str = "x86_64-unknown-linux-musl";
/// The shipped binaries, as `bin/<name>` in the zip.
pub const BINARIES: [&str; 2] = ["build-step", "test-step"];

/// Why a task failed; each message names the file or command and what to do.
#[derive(Debug, thiserror::Error)]
pub enum TaskError {
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`{command}` failed ({status}); fix the build error above and run `cargo xtask seed-zip` again")]
    Build { command: String, status: String },
    #[error("{} is not fully static: {reason}; build it with the workspace's .cargo/config.toml for {}", path.display(), TARGET)]
    NotStatic { path: PathBuf, reason: String },
    #[error("{what} is {bytes} bytes, over its budget of {limit} bytes; make it smaller before publishing the seed")]
    OverBudget {
        what: String,
        bytes: u64,
        limit: u64,
    },
    #[error("two files would land at {0} in the seed zip; rename one")]
    DuplicateEntry(String),
    #[error("cannot run git in {}: {source}; the seed zip packs the files git tracks, so install git and run this in a git checkout of the repository", path.display())]
    GitNotRunnable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`git ls-files` in {} failed: {detail}; the seed zip packs the files git tracks, so run this in a git checkout of the repository (git clone it)", path.display())]
    Git { path: PathBuf, detail: String },
    #[error("{} is not tracked by git, and the seed zip packs only what git tracks; `git add` it and run again", path.display())]
    NotTracked { path: PathBuf },
    #[error("{} is tracked by git but missing from the work tree; restore it (`git checkout -- <path>`) or remove it from git (`git rm <path>`) and run again", path.display())]
    MissingFromWorkTree { path: PathBuf },
    #[error("{} is {what}; the seed zip holds regular files only and follows no link, so put the file itself at that path (for a link: remove it, copy what it points to in its place, `git add` it) and run again", path.display())]
    NotRegularFile { path: PathBuf, what: &'static str },
    #[error("{} has an unresolved merge conflict; resolve it, `git add` it and run again", path.display())]
    Conflicted { path: PathBuf },
    #[error("the name of {} is not UTF-8, which a zip entry needs; rename it and run again", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("cannot write the zip: {0}")]
    Zip(#[from] std::io::Error),
    #[error(transparent)]
    Write(#[from] deploy_core::files::WriteError),
    #[error("cannot write the zip: {0}")]
    Archive(#[from] zip::result::ZipError),
}

/// The workspace root (this crate's parent directory).
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives inside the workspace")
        .to_owned()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (the scripts share one), else `target/`.
pub fn target_dir(repo_root: &Path) -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .filter(|dir| !dir.is_empty())
        .map(PathBuf::from)
        .map_or_else(|| repo_root.join("target"), |dir| repo_root.join(dir))
}

/// Builds the shipped binaries in release for the musl target and returns where they are.
pub fn build_release_binaries(repo_root: &Path) -> Result<PathBuf, TaskError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(repo_root)
        .args(["build", "--release", "--locked", "--target", TARGET]);
    for binary in BINARIES {
        command.args(["--package", binary]);
    }
    let status = command.status().map_err(|source| TaskError::Io {
        path: PathBuf::from("cargo"),
        source,
    })?;
    if !status.success() {
        return Err(TaskError::Build {
            command: format!("{command:?}"),
            status: status.to_string(),
        });
    }
    Ok(target_dir(repo_root).join(TARGET).join("release"))
}
