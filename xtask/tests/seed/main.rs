//! The seed zip as the platform team publishes it: its layout and reproducibility, the static
//! binaries inside it, and the whole pipeline run from the unzipped seed by a local CodeBuild.
//!
//! The zip comes from `SEED_ZIP` (the test command builds it once with `cargo xtask seed-zip`)
//! or, when unset, from running that command here; either way these tests use the real release
//! binaries that ship.

mod layout;
mod pipeline;
mod publish;
mod static_binaries;
mod upgrade;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The seed zip under test, built on first use when `SEED_ZIP` is not set.
pub fn seed_zip() -> &'static Path {
    static ZIP: OnceLock<PathBuf> = OnceLock::new();
    ZIP.get_or_init(|| {
        if let Some(path) = std::env::var_os("SEED_ZIP").filter(|p| !p.is_empty()) {
            return PathBuf::from(path);
        }
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let output = Command::new(cargo)
            .current_dir(xtask::repo_root())
            .args([
                "run",
                "--locked",
                "--quiet",
                "--package",
                "xtask",
                "--",
                "seed-zip",
            ])
            .output()
            .expect("cargo runs");
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "cargo xtask seed-zip failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        PathBuf::from(
            stdout
                .lines()
                .last()
                .expect("the zip path is the last line"),
        )
    })
}

/// Unzips the seed into `dir` the way CodeCommit's first commit and a checkout would, keeping
/// the recorded permissions.
pub fn unzip_seed(dir: &Path) {
    let file = std::fs::File::open(seed_zip()).expect("seed zip exists");
    zip::ZipArchive::new(file)
        .expect("seed zip is a zip")
        .extract(dir)
        .expect("seed zip extracts");
}
