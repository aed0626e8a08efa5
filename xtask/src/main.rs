//! `cargo xtask <task>`: see the library for the tasks.

#![forbid(unsafe_code)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use deploy_core::ExitStatus;
use deploy_shell::finish::Failure;
use xtask::publish::{self, PublishArgs, PublishOptions};
use xtask::publish_error::PublishError;
use xtask::seed_zip;

#[derive(Parser)]
#[command(about = "Project tasks for sagemaker-deploy-steps")]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

// Parsed once per process: the size of the larger variant costs nothing.
#[allow(clippy::large_enum_variant)]
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
    /// Publish the seed zip and the product template to S3 under <prefix>/<version>/, the
    /// template's SeedBucket/SeedKey defaults pointing at the zip; with --s3-template, make it a
    /// SageMaker project template Studio reads from S3.
    ///
    /// Exit codes: 0 published (or, with --dry-run, planned); 3 an AWS call failed (the message
    /// names the call and the permission); 2 bad input, a template cfn-lint rejects, a missing
    /// tool, or something already published under the version that differs from this run's
    /// (other bytes under its keys, an artifact with another template URL, a launch constraint
    /// with another role); nothing is uploaded before every check has passed.
    Publish(PublishArgs),
}

fn main() -> ExitCode {
    match Cli::parse().task {
        Task::SeedZip { out, no_build } => seed_zip_task(out, no_build),
        Task::Publish(args) => match PublishOptions::load(&args) {
            Ok(options) => publish_task(&options),
            Err(err) => fail(&err),
        },
    }
}

fn seed_zip_task(out: Option<PathBuf>, no_build: bool) -> ExitCode {
    match build_seed_zip(out, no_build) {
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

fn build_seed_zip(
    out: Option<PathBuf>,
    no_build: bool,
) -> Result<seed_zip::SeedZip, xtask::TaskError> {
    let root = xtask::repo_root();
    let binaries = if no_build {
        xtask::target_dir(&root).join(xtask::TARGET).join("release")
    } else {
        xtask::build_release_binaries(&root)?
    };
    let out = out.unwrap_or_else(|| {
        xtask::target_dir(&root).join("seed").join(format!(
            "sagemaker-deploy-seed-{}.zip",
            env!("CARGO_PKG_VERSION")
        ))
    });
    seed_zip::build(&root, &binaries, &out)
}

fn publish_task(options: &PublishOptions) -> ExitCode {
    let zip = match &options.zip {
        Some(zip) => zip.clone(),
        None => match build_seed_zip(None, false) {
            Ok(built) => built.path,
            Err(err) => {
                eprintln!("xtask publish: error: {err}");
                return ExitStatus::BadInput.into();
            }
        },
    };
    let work = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("xtask publish: error: cannot create a temporary directory: {err}");
            return ExitStatus::BadInput.into();
        }
    };
    let template = xtask::repo_root().join("templates/sagemaker-project.yml");
    let plan = match publish::plan(options, &zip, &template, work.path()) {
        Ok(plan) => plan,
        Err(err) => return fail(&err),
    };
    if options.dry_run {
        println!(
            "Dry run: publish would make these calls on s3://{}:",
            plan.bucket
        );
        for step in &plan.steps {
            println!("  {step}");
        }
        return ExitStatus::Success.into();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a current-thread runtime");
    match runtime.block_on(publish::execute(&plan, &options.aws)) {
        Ok(done) => {
            for line in done {
                println!("{line}");
            }
            println!("SeedBucket={} SeedKey={}", plan.bucket, plan.seed_key);
            println!("product template: {}", plan.template_url);
            if let Some(domain) = &options.studio_domain {
                println!(
                    "Studio users of domain {domain} see the project template sagemaker-project.yml (version {}) under Projects > Create project > Organization templates",
                    options.version
                );
            }
            ExitStatus::Success.into()
        }
        Err(err) => fail(&err),
    }
}

/// The error on stderr, and the exit code its kind ends the run with (2 or 3).
fn fail(err: &PublishError) -> ExitCode {
    eprintln!("xtask publish: error: {err}");
    err.exit_status().into()
}
