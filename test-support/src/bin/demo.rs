//! The README's demo: a local emulator seeded like a real organization, and `build-step` run the
//! way CodeBuild runs it. Usage: `demo <dir with the release binaries> <output dir>` (see
//! scripts/demo.sh, which builds the binaries first).

use std::path::PathBuf;
use std::process::Command;

use aws_sdk_sagemaker::types::ModelApprovalStatus::{Approved, PendingManualApproval, Rejected};
use test_support::moto;
use test_support::seed::{GroupSeed, Organization};

const GROUP: &str = "demo-churn";

fn section(title: &str) {
    println!("\n=== {title}");
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> std::process::ExitCode {
    let mut args = std::env::args().skip(1);
    let (Some(bin_dir), Some(out_dir)) = (
        args.next().map(PathBuf::from),
        args.next().map(PathBuf::from),
    ) else {
        eprintln!("usage: demo <binary dir> <output dir>");
        return std::process::ExitCode::from(2);
    };
    let _ = std::fs::remove_dir_all(&out_dir);
    std::fs::create_dir_all(&out_dir).expect("create the output dir");

    section("Starting the AWS emulator (moto_server on 127.0.0.1)");
    let moto = moto();
    println!("moto_server at {}", moto.endpoint);

    section("Seeding an organization and the model package group");
    let org = Organization::get(moto).await;
    let staging_ou = org.create_ou(&org.root_id, "staging").await;
    let prod_ou = org.create_ou(&org.root_id, "production").await;
    let staging_accounts = [
        org.create_account(&staging_ou, "staging-a").await,
        org.create_account(&staging_ou, "staging-b").await,
    ];
    let prod_account = org.create_account(&prod_ou, "production").await;
    println!(
        "staging OU {staging_ou}: accounts {}",
        staging_accounts.join(", ")
    );
    println!("prod OU    {prod_ou}: account {prod_account}");
    let group = GroupSeed::create(moto, GROUP).await;
    for (version, status) in [
        (1, Approved),
        (2, Rejected),
        (3, Approved),
        (4, PendingManualApproval),
    ] {
        let arn = group.add_package(Some(status.clone())).await;
        println!("version {version}: {:<22} {arn}", status.as_str());
    }
    println!("(build-step must pick version 3: the newest Approved one)");

    for config in ["staging-config.json", "prod-config.json"] {
        std::fs::copy(format!("seed-repo/{config}"), out_dir.join(config))
            .expect("copy the seed's stage configs");
    }
    let codebuild_env = [
        ("SOURCE_MODEL_PACKAGE_GROUP_NAME", GROUP),
        ("SAGEMAKER_PROJECT_NAME", "demo-churn"),
        ("SAGEMAKER_PROJECT_ID", "p-demo0001"),
        ("ARTIFACT_BUCKET", "sagemaker-project-p-demo0001"),
        (
            "SAGEMAKER_EXECUTION_ROLE_STAGING_NAME",
            "sagemaker-role-staging",
        ),
        ("SAGEMAKER_EXECUTION_ROLE_PROD_NAME", "sagemaker-role-prod"),
        ("ORGANIZATIONAL_UNIT_STAGING_ID", staging_ou.as_str()),
        ("ORGANIZATIONAL_UNIT_PROD_ID", prod_ou.as_str()),
        ("EXPORT_TEMPLATE_NAME", "template-export.yml"),
        (
            "EXPORT_TEMPLATE_STAGING_CONFIG",
            "staging-config-export.json",
        ),
        ("EXPORT_TEMPLATE_PROD_CONFIG", "prod-config-export.json"),
    ];
    let build_step = bin_dir.join("build-step");
    let run = |extra: &[&str]| {
        let started = std::time::Instant::now();
        let status = Command::new(&build_step)
            .current_dir(&out_dir)
            .envs(moto.env())
            .envs(codebuild_env)
            .args(extra)
            .status()
            .expect("run build-step");
        println!(
            "(exit {}, {} ms)",
            status.code().unwrap_or(-1),
            started.elapsed().as_millis()
        );
        status.success()
    };

    section("build-step, as the CodeBuild project runs it");
    if !run(&[]) {
        return std::process::ExitCode::FAILURE;
    }
    for file in [
        "template-export.yml",
        "staging-config-export.json",
        "prod-config-export.json",
    ] {
        section(&format!("{} ({})", file, out_dir.display()));
        print!(
            "{}",
            std::fs::read_to_string(out_dir.join(file)).expect("read output")
        );
    }

    section(
        "build-step --grant-cross-account-access --dry-run (the resource policy it would merge in)",
    );
    if !run(&["--grant-cross-account-access", "--dry-run"]) {
        return std::process::ExitCode::FAILURE;
    }
    section("Done; the emulator stops with this process");
    std::process::ExitCode::SUCCESS
}
