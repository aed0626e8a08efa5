//! `cargo xtask <task>`: see the library for the tasks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use xtask::seed_zip;

#[derive(Parser)]
#[command(about = "Project tasks for sagemaker-deploy-steps")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Build both binaries (release, x86_64-unknown-linux-musl) and the reproducible seed zip.
    /// Prints each size, then the zip's path as the last line.
    SeedZip {
        /// Where to write the zip [default: <target dir>/seed/sagemaker-deploy-seed-<version>.zip]
        #[arg(long)]
        out: Option<PathBuf>,
        /// Package the binaries already built instead of running `cargo build` first.
        #[arg(long)]
        no_build: bool,
    },
}

fn main() -> ExitCode {
    let Task::SeedZip { out, no_build } = Cli::parse().task;
    let root = xtask::repo_root();
    let binaries = if no_build {
        Ok(xtask::target_dir(&root)
            .join(seed_zip::TARGET)
            .join("release"))
    } else {
        xtask::build_release_binaries(&root)
    };
    let out = out.unwrap_or_else(|| {
        xtask::target_dir(&root).join("seed").join(format!(
            "sagemaker-deploy-seed-{}.zip",
            env!("CARGO_PKG_VERSION")
        ))
    });
    match binaries.and_then(|dir| seed_zip::build(&root, &dir, &out)) {
        Ok(zip) => {
            for (name, bytes) in &zip.binaries {
                println!("bin/{name}: {bytes} bytes (budget {MAX_BINARY_BYTES})");
            }
            println!(
                "seed zip: {} bytes (budget {MAX_SEED_ZIP_BYTES}), sha256 {}",
                zip.bytes, zip.sha256
            );
            println!("{}", zip.path.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("xtask seed-zip: error: {err}");
            ExitCode::FAILURE
        }
    }
}
