//! Settings and the environment: help, unreachable AWS, missing region or credentials, endpoint
//! overrides and report paths. Bad input files and flags are the corpus of `hostile.rs`.

use clap::CommandFactory;
use test_support::endpoints::closed_endpoint;
use test_support::{moto, Cli};

use crate::{Staging, Workspace, BIN, REGION};

#[test]
fn help_documents_the_flags_env_vars_and_exit_codes() {
    let ws = Workspace::new("help");
    let out = Cli::new(BIN, &ws.path, moto()).args(["--help"]).run();
    out.code(0);
    for name in [
        "SAGEMAKER_PROJECT_NAME",
        "SAGEMAKER_PROJECT_ID",
        "BUILD_CONFIG",
        "EXPORT_TEST_RESULTS",
        "SAGEMAKER_EXECUTION_ROLE_NAME",
        "ORGANIZATIONAL_UNIT_ID",
        "AWS_REGION",
        "AWS_PROFILE",
        "LOG_FORMAT",
    ] {
        out.stdout_contains(&format!("[env: {name}"));
    }
    for flag in [
        "--account-id",
        "--regions",
        "--payloads",
        "--junit-report",
        "--wait-timeout",
        "--invocations",
        "--concurrency",
        "--output",
        "--profile",
    ] {
        out.stdout_contains(flag);
    }
    out.stdout_contains("[default: test/payloads]")
        .stdout_contains("[default: 30m]")
        .stdout_contains("Exit codes:")
        .stdout_contains("1  a target failed its tests")
        .stdout_contains("3  AWS or network error");
}

#[test]
fn an_unreachable_aws_is_exit_3_naming_the_call() {
    let ws = Workspace::new("unreachable");
    ws.test_step()
        .env("AWS_ENDPOINT_URL", closed_endpoint())
        .env("ORGANIZATIONAL_UNIT_ID", "ou-abcd-12345678")
        .run()
        .code(3)
        .stderr_contains("AWS call organizations:ListAccountsForParent could not complete");
    let reports = ws.reports();
    assert_eq!(reports.json["exit_code"], 3);
    assert_eq!(reports.junit_setup().0, "setup");
}

#[test]
fn a_missing_region_is_bad_input() {
    let ws = Workspace::new("noregion");
    ws.test_step()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .args(["--account-id", "111111111111"])
        .run()
        .code(2)
        .stderr_contains("no AWS region is configured");
    ws.reports();
}

/// The clients built from assumed-role credentials keep the per-service endpoint variables
/// (a client built by hand from credentials would fall back to real AWS).
#[tokio::test]
async fn per_service_endpoint_variables_reach_the_assumed_role_clients() {
    let staging = Staging::create("endpoint-vars").await;
    let ws = Workspace::new("endpointvars");
    ws.deploy(&staging.active[0], REGION, &ws.package).await;
    let endpoint = moto().endpoint.as_str();
    ws.test_step()
        .env("AWS_ENDPOINT_URL", closed_endpoint())
        .envs([
            ("AWS_ENDPOINT_URL_STS", endpoint),
            ("AWS_ENDPOINT_URL_ORGANIZATIONS", endpoint),
            ("AWS_ENDPOINT_URL_SAGEMAKER", endpoint),
            ("AWS_ENDPOINT_URL_SAGEMAKER_RUNTIME", endpoint),
        ])
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .args(["--account-id", &staging.active[0]])
        .run()
        .code(0);
    ws.reports();
}

#[tokio::test]
async fn json_output_is_the_report_and_reports_go_where_asked() {
    let staging = Staging::create("json-out").await;
    let ws = Workspace::new("jsonout");
    ws.deploy(&staging.active[0], REGION, &ws.package).await;
    std::fs::create_dir(ws.file("reports")).unwrap();
    let out = ws
        .test_step()
        .env("EXPORT_TEST_RESULTS", "reports/results.json")
        .env("LOG_FORMAT", "json")
        .args([
            "--account-id",
            &staging.active[0],
            "--junit-report",
            "reports/junit.xml",
            "--output",
            "json",
        ])
        .run();
    out.code(0);
    let printed: serde_json::Value =
        serde_json::from_str(&out.stdout).expect("stdout is the JSON report");
    let reports = ws.reports_at("reports/results.json", "reports/junit.xml");
    assert_eq!(printed, reports.json);
    for line in out.stderr.lines() {
        serde_json::from_str::<serde_json::Value>(line)
            .unwrap_or_else(|_| panic!("log line is not JSON: {line}"));
    }
    let files = test_support::cli::file_names(&ws.file("reports"));
    assert_eq!(
        files,
        ["junit.xml", "results.json"],
        "no temp files left behind"
    );
}

#[test]
fn missing_credentials_are_bad_input_not_a_network_error() {
    let ws = Workspace::new("nocredentials");
    ws.test_step()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("ORGANIZATIONAL_UNIT_ID", "ou-abcd-12345678")
        .run()
        .code(2)
        .stderr_contains("no usable AWS credentials for organizations:ListAccountsForParent");
    let reports = ws.reports();
    assert_eq!(reports.json["exit_code"], 2);
}

/// Every flag and env var with empty, zero, negative, past-u64, huge and non-UTF-8 values: each
/// run ends with a documented exit code, never a panic.
#[test]
fn extreme_values_in_every_input_end_cleanly() {
    let ws = Workspace::new("extremes");
    let unreachable = closed_endpoint();
    test_support::cli::assert_extremes_end_cleanly(&test_step::Args::command(), |extreme| {
        ws.test_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("ORGANIZATIONAL_UNIT_ID", "ou-abcd-12345678")
            .env("DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS", "1")
            .extreme(extreme)
            .run()
    });
}
