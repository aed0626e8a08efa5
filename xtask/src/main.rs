//! `cargo xtask <task>`: see the library for the tasks.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use deploy_shell::aws::AwsArgs;
use xtask::publish::{self, CatalogOptions, PublishOptions};
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
    Publish {
        /// Bucket to upload to (the launch role must be able to read it)
        #[arg(long)]
        bucket: String,
        /// Key prefix; the files land under <prefix>/<version>/
        #[arg(long, default_value = "sagemaker-deploy-steps")]
        prefix: String,
        /// Tag the template for Studio, set the bucket's CORS rule for Studio and tag the domain
        /// with the templates' location (needs --domain-id)
        #[arg(long, requires = "domain_id")]
        s3_template: bool,
        /// The Studio domain whose users get the template (d-...)
        #[arg(long, requires = "s3_template")]
        domain_id: Option<String>,
        /// Put the product into a Service Catalog portfolio (found or created by name), with this
        /// version's provisioning artifact, the Studio tag, the launch constraint and the
        /// principals; a second run with the same version changes nothing
        #[arg(long, requires_all = ["launch_role_arn", "principal_arn"])]
        service_catalog: bool,
        /// Portfolio display name (--service-catalog)
        #[arg(long, default_value = "SageMaker multi-account deployment")]
        portfolio: String,
        /// Product name (--service-catalog)
        #[arg(long, default_value = "multi-account-model-deploy")]
        product: String,
        /// Portfolio provider and product owner (--service-catalog)
        #[arg(long, default_value = "ML platform")]
        provider: String,
        /// Launch constraint role (--service-catalog), such as
        /// arn:aws:iam::<account>:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole
        #[arg(long, value_name = "ARN")]
        launch_role_arn: Option<String>,
        /// Principal given access to the portfolio (--service-catalog; repeat for several), such
        /// as the Studio domain's execution role
        #[arg(long, value_name = "ARN")]
        principal_arn: Vec<String>,
        /// Print every call the run would make, and make none
        #[arg(long)]
        dry_run: bool,
        /// Publish this seed zip instead of building one
        #[arg(long, value_name = "FILE")]
        zip: Option<PathBuf>,
        #[command(flatten)]
        aws: AwsArgs,
    },
}

fn main() -> ExitCode {
    match Cli::parse().task {
        Task::SeedZip { out, no_build } => seed_zip_task(out, no_build),
        Task::Publish {
            bucket,
            prefix,
            s3_template,
            domain_id,
            service_catalog,
            portfolio,
            product,
            provider,
            launch_role_arn,
            principal_arn,
            dry_run,
            zip,
            aws,
        } => {
            let domain = domain_id.filter(|_| s3_template);
            let catalog = service_catalog.then(|| CatalogOptions {
                portfolio,
                provider,
                product,
                launch_role_arn: launch_role_arn.unwrap_or_default(),
                principals: principal_arn,
            });
            match PublishOptions::new(
                &bucket,
                &prefix,
                env!("CARGO_PKG_VERSION"),
                domain,
                catalog,
                dry_run,
                aws,
            ) {
                Ok(options) => publish_task(&options, zip),
                Err(err) => fail(&err, 2),
            }
        }
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
        xtask::target_dir(&root)
            .join(seed_zip::TARGET)
            .join("release")
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

fn publish_task(options: &PublishOptions, zip: Option<PathBuf>) -> ExitCode {
    let zip = match zip {
        Some(zip) => zip,
        None => match build_seed_zip(None, false) {
            Ok(built) => built.path,
            Err(err) => {
                eprintln!("xtask publish: error: {err}");
                return ExitCode::from(2);
            }
        },
    };
    let work = match tempfile::tempdir() {
        Ok(dir) => dir,
        Err(err) => {
            eprintln!("xtask publish: error: cannot create a temporary directory: {err}");
            return ExitCode::from(2);
        }
    };
    let template = xtask::repo_root().join("templates/sagemaker-project.yml");
    let plan = match publish::plan(options, &zip, &template, work.path()) {
        Ok(plan) => plan,
        Err(err) => return fail(&err, 2),
    };
    if options.dry_run {
        println!(
            "Dry run: publish would make these calls on s3://{}:",
            plan.bucket
        );
        for step in &plan.steps {
            println!("  {step}");
        }
        return ExitCode::SUCCESS;
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
            ExitCode::SUCCESS
        }
        Err(err) if err.is_refusal() => fail(&err, 2),
        Err(err) => fail(&err, 3),
    }
}

fn fail(err: &publish::PublishError, code: u8) -> ExitCode {
    eprintln!("xtask publish: error: {err}");
    ExitCode::from(code)
}
