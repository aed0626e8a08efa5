//! The command line as people and scripts see it: help, dry runs, JSON output, endpoint
//! overrides and the cross-account grant plan.

use test_support::seed::{create_stack_set, Organization};
use test_support::{moto, Cli};

use crate::{group_with_one_approved, Workspace, BIN, INPUTS};

#[test]
fn help_documents_env_vars_and_exit_codes() {
    let ws = Workspace::new("cli-help");
    let out = Cli::new(BIN, &ws.path, moto()).args(["--help"]).run();
    out.code(0);
    for name in [
        "SOURCE_MODEL_PACKAGE_GROUP_NAME",
        "EXPORT_TEMPLATE_PROD_CONFIG",
        "MODEL_PACKAGE_ARN",
        "AWS_PROFILE",
    ] {
        out.stdout_contains(&format!("[env: {name}"));
    }
    out.stdout_contains("Exit codes:")
        .stdout_contains("1  nothing to deploy")
        .stdout_contains("3  AWS or network error");
}

#[tokio::test]
async fn dry_run_validates_and_prints_the_plan_without_writing() {
    let (group, arn) = group_with_one_approved("cli-dry-run").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .args(["--dry-run"])
        .run()
        .code(0)
        .stdout_contains("Dry run")
        .stdout_contains(&arn)
        .stdout_contains("Would write template-export.yml")
        .stderr_contains(&format!("chose model package arn={arn} version=1"));
    assert_eq!(ws.files(), INPUTS);
}

#[tokio::test]
async fn json_output_reports_package_files_and_stages() {
    let (group, arn) = group_with_one_approved("cli-json").await;
    let ws = Workspace::new(&group.name);
    let out = ws
        .build_step()
        .args(["--output", "json", "--log-format", "json"])
        .run();
    out.code(0);
    let summary: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("stdout is one JSON document");
    assert_eq!(summary["model_package"]["arn"], arn.as_str());
    assert_eq!(summary["model_package"]["version"], 1);
    assert_eq!(summary["stages"][1]["endpoint_name"], "churn-prod");
    let template_bytes = ws.read("template-export.yml").len();
    assert_eq!(summary["files"][0]["bytes"], template_bytes);
    for line in out.stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("log line is not JSON: {line}"));
    }
}

/// The emulator is reached only through the standard endpoint variables, so a per-service
/// override must win over a broken global one.
#[tokio::test]
async fn the_per_service_endpoint_variable_is_honoured() {
    let (group, _) = group_with_one_approved("cli-endpoint-override").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .env("AWS_ENDPOINT_URL_SAGEMAKER", &moto().endpoint)
        .run()
        .code(0);
}

#[tokio::test]
async fn warns_when_the_instance_type_is_not_supported_by_the_package() {
    let (group, _) = group_with_one_approved("cli-instance-warning").await;
    let ws = Workspace::new(&group.name);
    ws.write(
        "prod-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "prod"}, {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.c5.large"}]"#,
    );
    ws.build_step().run().code(0).stdout_contains(
        "prod: EndpointInstanceType ml.c5.large is not among the package's supported",
    );
}

/// The update SageMaker refuses (a new instance type for a variant registered for autoscaling) is
/// caught from what the stage's StackSet last deployed, with the two releases that work; a stage
/// whose StackSet does not exist yet is a first release, and step one of the fix is quiet.
#[tokio::test]
async fn warns_before_an_instance_type_change_that_autoscaling_would_make_fail() {
    let (group, _) = group_with_one_approved("cli-autoscaled-type").await;
    create_stack_set(
        moto(),
        "sagemaker-churn-p-trap0001-deploy-prod",
        &[
            ("StageName", "prod"),
            ("EndpointInstanceType", "ml.m5.large"),
            ("AutoScalingMaxCapacity", "4"),
        ],
        &[],
    )
    .await;
    let ws = Workspace::new(&group.name);
    let prod = |pairs: &str| {
        format!(r#"[{{"ParameterKey": "StageName", "ParameterValue": "prod"}}, {pairs}]"#)
    };
    // The summary's warnings and the log of a build of this prod config.
    let build = |pairs: &str| {
        ws.write("prod-config.json", prod(pairs));
        let out = ws
            .build_step()
            .env("SAGEMAKER_PROJECT_ID", "p-trap0001")
            .args(["--output", "json"])
            .run();
        out.code(0);
        let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
        (summary["warnings"].clone(), out)
    };
    let (warnings, out) = build(
        r#"{"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.m5.xlarge"}, {"ParameterKey": "AutoScalingMaxCapacity", "ParameterValue": "4"}"#,
    );
    assert_eq!(
        warnings,
        serde_json::json!(["prod: the deployed endpoint runs on EndpointInstanceType ml.m5.large with autoscaling on (AutoScalingMaxCapacity 4), and this release changes it to EndpointInstanceType ml.m5.xlarge: SageMaker refuses to change the instance type of a variant registered for autoscaling, so the StackSet update would fail and roll back. Release it in two steps: first with AutoScalingMaxCapacity 0 and EndpointInstanceType ml.m5.large (which deregisters the variant), then with EndpointInstanceType ml.m5.xlarge and the autoscaling settings you want"])
    );
    out.stderr_contains("WARN")
        .stderr_contains("prod: the deployed endpoint runs on");

    let (warnings, _) =
        build(r#"{"ParameterKey": "AutoScalingMaxCapacity", "ParameterValue": "0"}"#);
    assert_eq!(
        warnings,
        serde_json::json!([]),
        "step one of the fix is quiet"
    );
}

/// A type the StackSet left to its template's default is that template's default, not the new
/// one's: a seed that changes the default is caught too.
#[tokio::test]
async fn the_deployed_templates_default_is_the_deployed_type() {
    let (group, _) = group_with_one_approved("cli-autoscaled-default").await;
    create_stack_set(
        moto(),
        "sagemaker-churn-p-trap0002-deploy-staging",
        &[("StageName", "staging"), ("AutoScalingMaxCapacity", "2")],
        &[("EndpointInstanceType", "ml.c5.large")],
    )
    .await;
    let ws = Workspace::new(&group.name);
    ws.write(
        "staging-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "AutoScalingMaxCapacity", "ParameterValue": "2"}]"#,
    );
    let out = ws
        .build_step()
        .env("SAGEMAKER_PROJECT_ID", "p-trap0002")
        .args(["--output", "json"])
        .run();
    out.code(0);
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let warning = summary["warnings"][0].as_str().unwrap_or_default();
    assert!(
        warning.starts_with("staging: the deployed endpoint runs on EndpointInstanceType ml.c5.large with autoscaling on (AutoScalingMaxCapacity 2), and this release changes it to EndpointInstanceType ml.m5.large:"),
        "{summary}"
    );
}

/// Pins B3 and B9 through the binary: naming accounts one by one, the plan covers ACTIVE accounts
/// of both OUs and a child OU, not the suspended one, and grants more than CreateModel.
#[tokio::test]
async fn grant_dry_run_lists_active_accounts_of_both_ous_and_child_ous() {
    let (group, _) = group_with_one_approved("cli-grant").await;
    let org = Organization::get(moto()).await;
    let staging_ou = org.create_ou(&org.root_id, "grant-staging").await;
    let child_ou = org.create_ou(&staging_ou, "grant-staging-child").await;
    let prod_ou = org.create_ou(&org.root_id, "grant-prod").await;
    let staging = org.create_account(&staging_ou, "grant-staging-a").await;
    let nested = org.create_account(&child_ou, "grant-staging-nested").await;
    let suspended = org
        .create_account(&staging_ou, "grant-staging-closed")
        .await;
    org.close_account(&suspended).await;
    let prod = org.create_account(&prod_ou, "grant-prod-a").await;

    let ws = Workspace::new(&group.name);
    let out = ws
        .build_step()
        .env("GRANT_CROSS_ACCOUNT_ACCESS", "true")
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", &staging_ou)
        .env("ORGANIZATIONAL_UNIT_PROD_ID", &prod_ou)
        .env("GRANT_PRINCIPALS", "accounts")
        .args(["--dry-run", "--output", "json"])
        .run();
    out.code(0);
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let access = &summary["cross_account_access"];
    let mut expected = vec![staging, nested, prod];
    expected.sort();
    assert_eq!(access["accounts"], serde_json::json!(expected));
    assert_eq!(access["applied"], false);
    let actions = access["policy"]["Statement"][1]["Action"].to_string();
    assert!(
        actions.contains("sagemaker:CreateModel")
            && actions.contains("sagemaker:DescribeModelPackage"),
        "{actions}"
    );
    assert_eq!(ws.files(), INPUTS);
}
