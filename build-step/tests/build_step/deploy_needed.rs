//! Whether each stage needs a deploy, through the binary against StackSets the emulator holds,
//! made from the build's own outputs as the pipeline's StackSet actions make them (SELF_MANAGED:
//! the template file, the parameter file, an instance in each account of the accounts file in the
//! pipeline's Region). A StackSet running exactly the build needs no deploy; a config change, a
//! new account, another Region, a stopped last operation, a new package or a denied read each
//! need one, named. A FAILED last operation, which the emulator cannot make, is an SDK-level test
//! beside the reads (`build-step/src/deployed.rs`).

use std::time::{Duration, Instant};

use aws_sdk_cloudformation::types::Parameter;
use aws_sdk_cloudformation::Client;
use serde_json::{json, Value};
use test_support::fault_proxy::FaultKind::AccessDenied;
use test_support::fault_proxy::{Fault, FaultProxy};
use test_support::moto;
use test_support::seed::{sdk_config, REGION};

use crate::{group_with_one_approved, Workspace, INPUTS};

const STAGING_ACCOUNTS: &str = "111111111111,222222222222";
const PROD_ACCOUNTS: &str = "333333333333";
const DECISION: &str = "deploy-decision.env";
/// The reason a stage that needs no deploy gives (`deploy_core::deploy_decision::UP_TO_DATE`).
const UP_TO_DATE: &str = "the StackSet already runs this template with these parameters in every target account and Region, its last operation SUCCEEDED and every stack instance is CURRENT";

/// A build of project `id` as the pipeline runs it: both accounts files from listed ids, the
/// decision env file, the JSON summary.
fn build(ws: &Workspace, id: &str) -> test_support::cli::Cli {
    ws.build_step()
        .env("SAGEMAKER_PROJECT_ID", id)
        .env("EXPORT_STAGING_ACCOUNTS", "staging-accounts.json")
        .env("EXPORT_PROD_ACCOUNTS", "prod-accounts.json")
        .env("STAGING_ACCOUNT_IDS", STAGING_ACCOUNTS)
        .env("PROD_ACCOUNT_IDS", PROD_ACCOUNTS)
        .args(["--decision-env", DECISION])
}

/// The summary of a successful JSON run.
fn summary(cli: test_support::cli::Cli) -> Value {
    let out = cli.args(["--output", "json"]).run();
    out.code(0);
    serde_json::from_str(&out.stdout).unwrap()
}

/// `(staging, prod)` decisions and reasons of a summary.
fn decisions(summary: &Value) -> ((bool, bool), (String, String)) {
    let needed = &summary["deploy_needed"];
    let reasons = &summary["deploy_needed_reasons"];
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    (
        (
            needed["staging"].as_bool().unwrap(),
            needed["prod"].as_bool().unwrap(),
        ),
        (text(&reasons["staging"]), text(&reasons["prod"])),
    )
}

async fn cloudformation() -> Client {
    Client::new(&sdk_config(moto(), REGION).await)
}

fn stack_set(id: &str, stage: &str) -> String {
    format!("sagemaker-churn-{id}-deploy-{stage}")
}

/// The stage's StackSet of project `id`, created from the build's outputs in `ws` with an
/// instance in each account of the stage's accounts file and each of `regions`, as the
/// pipeline's StackSet action leaves it.
async fn deploy(ws: &Workspace, id: &str, stage: &str, regions: &[&str]) {
    let template = match stage {
        "staging" => ws.read("template-export.yml"),
        _ => ws.read("prod-template-export.yml"),
    };
    let file: Vec<Value> = serde_json::from_str(&ws.read(&format!("{stage}-config-export.json")))
        .expect("the parameter file is JSON");
    let parameters = file
        .iter()
        .map(|p| {
            Parameter::builder()
                .parameter_key(p["ParameterKey"].as_str().unwrap())
                .parameter_value(p["ParameterValue"].as_str().unwrap())
                .build()
        })
        .collect();
    let accounts: Vec<String> =
        serde_json::from_str(&ws.read(&format!("{stage}-accounts.json"))).unwrap();
    let cfn = cloudformation().await;
    let name = stack_set(id, stage);
    cfn.create_stack_set()
        .stack_set_name(&name)
        .template_body(template)
        .set_parameters(Some(parameters))
        .send()
        .await
        .expect("CreateStackSet");
    cfn.create_stack_instances()
        .stack_set_name(&name)
        .set_accounts(Some(accounts))
        .set_regions(Some(regions.iter().map(|r| (*r).to_owned()).collect()))
        .send()
        .await
        .expect("CreateStackInstances");
}

/// The first build of a project deploys both stages; once both StackSets run exactly its
/// outputs, the next build (a re-fired event) deploys neither, says so in the JSON and text
/// summaries and in the decision env file, and a dry run decides the same and writes nothing.
#[tokio::test]
async fn a_stack_set_running_exactly_the_builds_outputs_needs_no_deploy() {
    let (group, _) = group_with_one_approved("deploy-needed-same").await;
    let id = "p-same0001";
    let ws = Workspace::new(&group.name);

    let first = summary(build(&ws, id));
    assert_eq!(
        decisions(&first),
        (
            (true, true),
            ("no StackSet yet".into(), "no StackSet yet".into())
        )
    );
    assert_eq!(ws.read(DECISION), "DEPLOY_STAGING=true\nDEPLOY_PROD=true\n");
    let written: Vec<&str> = first["files"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["path"].as_str())
        .collect();
    assert!(written.contains(&DECISION), "{written:?}");

    deploy(&ws, id, "staging", &[REGION]).await;
    deploy(&ws, id, "prod", &[REGION]).await;
    let again = summary(build(&ws, id));
    assert_eq!(
        decisions(&again),
        ((false, false), (UP_TO_DATE.into(), UP_TO_DATE.into()))
    );
    assert_eq!(
        again["deploy_needed"],
        json!({"staging": false, "prod": false})
    );
    assert_eq!(again["warnings"], json!([]));
    assert_eq!(
        ws.read(DECISION),
        "DEPLOY_STAGING=false\nDEPLOY_PROD=false\n"
    );

    let out = build(&ws, id).run();
    out.code(0)
        .stdout_contains(&format!("Deploy staging: not needed ({UP_TO_DATE})"))
        .stdout_contains("Deploy prod: not needed (")
        .stdout_contains(&format!("Wrote {DECISION} ("));

    std::fs::remove_file(ws.file(DECISION)).unwrap();
    let dry = summary(build(&ws, id).args(["--dry-run"]));
    assert_eq!(
        dry["deploy_needed"],
        json!({"staging": false, "prod": false})
    );
    assert!(!ws.file(DECISION).exists(), "a dry run writes nothing");
}

/// Each change that makes the running StackSet differ from the build is named: a parameter of
/// the stage config, an account added to the stage, a new Approved package (both stages).
#[tokio::test]
async fn a_config_change_a_new_account_or_a_new_package_needs_a_deploy() {
    let (group, old_package) = group_with_one_approved("deploy-needed-changes").await;
    let id = "p-change001";
    let ws = Workspace::new(&group.name);
    build(&ws, id).run().code(0);
    deploy(&ws, id, "staging", &[REGION]).await;
    deploy(&ws, id, "prod", &[REGION]).await;

    let seed_staging = ws.read("staging-config.json");
    ws.write(
        "staging-config.json",
        seed_staging.replace(
            r#""EndpointInstanceCount", "ParameterValue": "1""#,
            r#""EndpointInstanceCount", "ParameterValue": "2""#,
        ),
    );
    let changed = summary(build(&ws, id));
    assert_eq!(
        decisions(&changed),
        (
            (true, false),
            (
                "parameter EndpointInstanceCount: deployed 1, now 2".into(),
                UP_TO_DATE.into()
            )
        )
    );
    assert_eq!(
        ws.read(DECISION),
        "DEPLOY_STAGING=true\nDEPLOY_PROD=false\n"
    );
    ws.write("staging-config.json", &seed_staging);

    let more = summary(build(&ws, id).env(
        "STAGING_ACCOUNT_IDS",
        format!("{STAGING_ACCOUNTS},444444444444"),
    ));
    assert_eq!(
        decisions(&more).1 .0,
        format!("account 444444444444 has no stack instance in {REGION}")
    );
    assert_eq!(
        more["deploy_needed"],
        json!({"staging": true, "prod": false})
    );

    let new_package = group
        .add_package(Some(
            aws_sdk_sagemaker::types::ModelApprovalStatus::Approved,
        ))
        .await;
    let newer = summary(build(&ws, id));
    let expected = format!("parameter ModelPackageName: deployed {old_package}, now {new_package}");
    assert_eq!(
        decisions(&newer),
        ((true, true), (expected.clone(), expected))
    );
}

/// A StackSet whose instances run in another Region than the pipeline's, and one whose last
/// operation was stopped, need a deploy.
#[tokio::test]
async fn another_region_or_a_stopped_last_operation_needs_a_deploy() {
    let (group, _) = group_with_one_approved("deploy-needed-region").await;
    let id = "p-region01";
    let ws = Workspace::new(&group.name);
    build(&ws, id).run().code(0);
    deploy(&ws, id, "staging", &["us-west-2"]).await;
    deploy(&ws, id, "prod", &[REGION]).await;
    let cfn = cloudformation().await;
    let operations = cfn
        .list_stack_set_operations()
        .stack_set_name(stack_set(id, "prod"))
        .send()
        .await
        .expect("ListStackSetOperations");
    let last = operations
        .summaries()
        .last()
        .and_then(|op| op.operation_id())
        .expect("the instances' operation");
    cfn.stop_stack_set_operation()
        .stack_set_name(stack_set(id, "prod"))
        .operation_id(last)
        .send()
        .await
        .expect("StopStackSetOperation");

    let stale = summary(build(&ws, id));
    assert_eq!(
        decisions(&stale),
        (
            (true, true),
            (
                format!("Region {REGION} has no stack instance"),
                "the last operation (CREATE) STOPPED".into()
            )
        )
    );
}

/// A read that is denied never blocks a deploy: the stage is deployed, the summary says why and
/// a warning names the permission; the build succeeds with every output.
#[tokio::test]
async fn a_denied_read_means_a_deploy_with_a_warning() {
    let (group, _) = group_with_one_approved("deploy-needed-denied").await;
    let id = "p-denied01";
    let ws = Workspace::new(&group.name);
    build(&ws, id).run().code(0);
    deploy(&ws, id, "staging", &[REGION]).await;
    deploy(&ws, id, "prod", &[REGION]).await;
    for (call, action) in [
        ("ListStackInstances", "cloudformation:ListStackInstances"),
        (
            "ListStackSetOperations",
            "cloudformation:ListStackSetOperations",
        ),
    ] {
        let proxy = FaultProxy::start(moto());
        proxy.inject(Fault::new(call, AccessDenied, 2));
        let denied = summary(build(&ws, id).env("AWS_ENDPOINT_URL", proxy.url()));
        let ((staging, prod), (reason, _)) = decisions(&denied);
        assert!(staging && prod, "{denied}");
        assert!(
            reason.starts_with(&format!(
                "could not check: {action} failed with AccessDenied"
            )),
            "{reason}"
        );
        let warnings = denied["warnings"].as_array().unwrap();
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        let warning = warnings[0].as_str().unwrap();
        assert!(
            warning.starts_with(&format!(
                "staging: could not read the {} of the StackSet {}, so the stage is deployed anyway: AWS denied {action} to the caller",
                if call == "ListStackInstances" { "stack instances" } else { "operations" },
                stack_set(id, "staging")
            )),
            "{warning}"
        );
        assert_eq!(ws.read(DECISION), "DEPLOY_STAGING=true\nDEPLOY_PROD=true\n");
    }
    let mut files: Vec<String> = INPUTS.iter().map(|s| (*s).to_owned()).collect();
    files.extend(
        [
            DECISION,
            "prod-accounts.json",
            "prod-config-export.json",
            "prod-template-export.yml",
            "staging-accounts.json",
            "staging-config-export.json",
            "template-export.yml",
        ]
        .map(str::to_owned),
    );
    files.sort();
    assert_eq!(ws.files(), files);
}

/// The six StackSet reads run while the package is looked up: at 1 s a round trip the build
/// takes the package lookup's two round trips (ListModelPackages, then DescribeModelPackage),
/// not a third (reading a StackSet's three answers one after the other would take three), and
/// makes one call of each read per stage, however big the group.
#[tokio::test]
async fn the_stack_set_reads_cost_no_round_trip_of_their_own() {
    const ROUND_TRIP: Duration = Duration::from_secs(1);
    let (group, _) = group_with_one_approved("deploy-needed-round-trips").await;
    let id = "p-rtt00001";
    let ws = Workspace::new(&group.name);
    build(&ws, id).run().code(0);
    deploy(&ws, id, "staging", &[REGION]).await;
    deploy(&ws, id, "prod", &[REGION]).await;
    let proxy = FaultProxy::start(moto());
    proxy.delay_every_round_trip(ROUND_TRIP);
    let started = Instant::now();
    let out = build(&ws, id).env("AWS_ENDPOINT_URL", proxy.url()).run();
    let took = started.elapsed();
    out.code(0);
    assert_eq!(
        ws.read(DECISION),
        "DEPLOY_STAGING=false\nDEPLOY_PROD=false\n"
    );
    for call in [
        "DescribeStackSet",
        "ListStackInstances",
        "ListStackSetOperations",
    ] {
        assert_eq!(proxy.count(call), 2, "{call}");
    }
    assert_eq!(
        (
            proxy.count("ListModelPackages"),
            proxy.count("DescribeModelPackage")
        ),
        (1, 1)
    );
    assert!(
        took < ROUND_TRIP * 27 / 10,
        "{took:?}: more than two round trips of {ROUND_TRIP:?}"
    );
}
