//! The README's demo: a local emulator seeded like a real organization, `build-step` run the way
//! CodeBuild runs it, the staging endpoint deployed into each staging account as the staging
//! parameters build-step wrote ask (serverless; what the StackSet does), and `test-step` run
//! against them the way the test CodeBuild project runs it. Usage:
//! `demo <dir with the release binaries> <output dir>` (see scripts/demo.sh, which builds the
//! binaries first).

use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_sagemaker::types::ModelApprovalStatus::{Approved, PendingManualApproval, Rejected};
use deploy_core::stack_params::ParameterList;
use test_support::endpoints::{
    deploy_stage_endpoint, queue_json_answers, Hosting, GOOD_ANSWERS, STAGING_ROLE,
};
use test_support::seed::{GroupSeed, Organization, REGION};
use test_support::{moto, Moto};

const GROUP: &str = "demo-churn";
const PROJECT: &str = "demo-churn";
/// The demo's staging stage: serverless, 2 GB, at most 5 concurrent invocations.
const SERVERLESS_STAGING: &str = r#"[
  {"ParameterKey": "StageName", "ParameterValue": "staging"},
  {"ParameterKey": "ServerlessMemorySizeInMB", "ParameterValue": "2048"},
  {"ParameterKey": "ServerlessMaxConcurrency", "ParameterValue": "5"}
]
"#;

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
    let closed_account = org.create_account(&staging_ou, "staging-closed").await;
    org.close_account(&closed_account).await;
    let prod_account = org.create_account(&prod_ou, "production").await;
    println!(
        "staging OU {staging_ou}: accounts {} (and {closed_account}, closed: SUSPENDED)",
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

    // Production keeps the seed's config (instances, data capture); staging runs serverless,
    // which costs nothing while idle between releases.
    std::fs::copy(
        "seed-repo/prod-config.json",
        out_dir.join("prod-config.json"),
    )
    .expect("copy the seed's prod config");
    std::fs::write(out_dir.join("staging-config.json"), SERVERLESS_STAGING)
        .expect("write the serverless staging config");
    section("staging-config.json (serverless) and prod-config.json (the seed's, on instances)");
    print!("{SERVERLESS_STAGING}");
    print!(
        "{}",
        std::fs::read_to_string(out_dir.join("prod-config.json")).expect("read the prod config")
    );
    let codebuild_env = [
        ("SOURCE_MODEL_PACKAGE_GROUP_NAME", GROUP),
        ("SAGEMAKER_PROJECT_NAME", PROJECT),
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
        ("EXPORT_TEMPLATE_PROD_NAME", "prod-template-export.yml"),
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

    let staging = deploy_stage(moto, &out_dir, "staging", &staging_accounts).await;
    let payloads = std::env::current_dir()
        .expect("the current directory")
        .join("test/payloads");
    let tests = TestStep {
        moto,
        binary: bin_dir.join("test-step"),
        out_dir: &out_dir,
        payloads: &payloads,
    };
    section("test-step, as the test CodeBuild project runs it");
    if !tests.run(&staging, STAGING_ROLE, &staging_ou, "test-results") {
        return std::process::ExitCode::FAILURE;
    }

    section("(the approver reads the summary and approves)");
    let prod = deploy_stage(moto, &out_dir, "prod", std::slice::from_ref(&prod_account)).await;
    section("test-step against prod, as the verify CodeBuild project runs it");
    if !tests.run(&prod, "sagemaker-role-prod", &prod_ou, "prod-test-results") {
        return std::process::ExitCode::FAILURE;
    }
    section("Done; the emulator stops with this process");
    std::process::ExitCode::SUCCESS
}

/// What the StackSet deploys for a stage, done in the emulator: the endpoint, hosted as the
/// parameters build-step exported for the stage ask, in each of its accounts. Returns the
/// parameter file's name.
async fn deploy_stage(moto: &Moto, out_dir: &Path, stage: &str, accounts: &[String]) -> String {
    let export = format!("{stage}-config-export.json");
    let params = ParameterList::read(&out_dir.join(&export), deploy_core::inputs::BUILD_CONFIG)
        .expect("read the parameters build-step wrote");
    let package = params
        .get("ModelPackageName")
        .expect("ModelPackageName in the parameters")
        .to_owned();
    let endpoint = format!("{PROJECT}-{}", params.get("StageName").expect("StageName"));
    let hosting = Hosting::of_stage(&params);
    let bucket = params.get("ArtifactBucket").unwrap_or("demo-artifacts");
    section(&format!(
        "Deploying {endpoint} into each {stage} account (the StackSet's job; moto's CloudFormation ignores EndpointName)"
    ));
    for account in accounts {
        deploy_stage_endpoint(moto, account, REGION, &endpoint, &params, bucket).await;
        queue_json_answers(moto, account, REGION, &GOOD_ANSWERS);
        println!("{account} {REGION}: {endpoint} InService ({hosting}), model from {package}");
    }
    export
}

/// test-step as the test and verify CodeBuild projects run it.
struct TestStep<'a> {
    moto: &'a Moto,
    binary: PathBuf,
    out_dir: &'a Path,
    payloads: &'a Path,
}

impl TestStep<'_> {
    /// Tests the stage whose parameters are `build_config` in the accounts under `ou`, as
    /// `role`, writes `<reports>.json` and `<reports>.xml`, shows both, and says whether it passed.
    fn run(&self, build_config: &str, role: &str, ou: &str, reports: &str) -> bool {
        let json_report = format!("{reports}.json");
        let started = std::time::Instant::now();
        let status = Command::new(&self.binary)
            .current_dir(self.out_dir)
            .envs(self.moto.env())
            .envs([
                ("SAGEMAKER_PROJECT_NAME", PROJECT),
                ("SAGEMAKER_PROJECT_ID", "p-demo0001"),
                ("BUILD_CONFIG", build_config),
                ("EXPORT_TEST_RESULTS", json_report.as_str()),
                ("SAGEMAKER_EXECUTION_ROLE_NAME", role),
                ("ORGANIZATIONAL_UNIT_ID", ou),
                (
                    "CODEBUILD_BUILD_ID",
                    "demo-churn-test:6d0c5bd2-3f4e-4a61-9b1c-0e2f3a4b5c6d",
                ),
            ])
            .arg("--payloads")
            .arg(self.payloads)
            .arg("--junit-report")
            .arg(format!("{reports}.xml"))
            .status()
            .expect("run test-step");
        println!(
            "(exit {}, {} ms)",
            status.code().unwrap_or(-1),
            started.elapsed().as_millis()
        );
        for file in [json_report, format!("{reports}.xml")] {
            section(&format!("{} ({})", file, self.out_dir.display()));
            print!(
                "{}",
                std::fs::read_to_string(self.out_dir.join(&file)).expect("read a test report")
            );
        }
        status.success()
    }
}
