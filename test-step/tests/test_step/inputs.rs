//! Settings and input files: bad input is exit 2 with a message that names the input and the fix,
//! found before any AWS call; the reports are still written, and say why nothing was tested.

use test_support::{moto, Cli};

use crate::{Staging, Workspace, BIN, REGION};

/// An endpoint nothing listens on: a run that reaches AWS with it exits 3, not 2.
fn closed_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    format!("http://127.0.0.1:{port}")
}

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

struct Case {
    name: &'static str,
    files: &'static [(&'static str, &'static str)],
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    message: &'static str,
}

const BAD_INPUTS: &[Case] = &[
    Case {
        name: "build config missing",
        files: &[],
        env: &[("BUILD_CONFIG", "nope.json")],
        args: &[],
        message: "BUILD_CONFIG (--build-config) nope.json: file not found; create it or point the setting at the right path. In CodeBuild the file build-step wrote is $CODEBUILD_SRC_DIR_BuildArtifact/staging-config-export.json",
    },
    Case {
        name: "build config is not JSON",
        files: &[("broken.json", "[{")],
        env: &[("BUILD_CONFIG", "broken.json")],
        args: &[],
        message: "BUILD_CONFIG (--build-config) broken.json: is not valid JSON",
    },
    Case {
        name: "the stage config instead of the exported one",
        files: &[(
            "staging-config.json",
            r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}]"#,
        )],
        env: &[("BUILD_CONFIG", "staging-config.json")],
        args: &[],
        message: "BUILD_CONFIG (--build-config) staging-config.json: has no ModelPackageName; point it at the staging parameter file build-step wrote",
    },
    Case {
        name: "another project's build config",
        files: &[],
        env: &[("SAGEMAKER_PROJECT_NAME", "otherproject")],
        args: &[],
        message: "has SageMakerProjectName \"badinputs\" but SAGEMAKER_PROJECT_NAME (--sagemaker-project-name) is \"otherproject\"",
    },
    Case {
        name: "another project's id",
        files: &[],
        env: &[("SAGEMAKER_PROJECT_ID", "p-other")],
        args: &[],
        message: "has SageMakerProjectId \"p-test0001\" but SAGEMAKER_PROJECT_ID (--sagemaker-project-id) is \"p-other\"",
    },
    Case {
        name: "no OU and no accounts",
        files: &[],
        env: &[("ORGANIZATIONAL_UNIT_ID", "")],
        args: &[],
        message: "missing the accounts to test: pass --organizational-unit-id (or list accounts with --account-id) or set ORGANIZATIONAL_UNIT_ID",
    },
    Case {
        name: "an account id that is not one",
        files: &[],
        env: &[],
        args: &["--account-id", "12345"],
        message: "--account-id: \"12345\" is not an AWS account id (12 digits",
    },
    Case {
        name: "a region that is not one",
        files: &[],
        env: &[],
        args: &["--account-id", "111111111111", "--regions", "us-east-1,Europe"],
        message: "--regions: \"Europe\" is not a region name",
    },
    Case {
        name: "manifest missing",
        files: &[],
        env: &[],
        args: &["--account-id", "111111111111", "--payloads", "nowhere"],
        message: "payload manifest nowhere/manifest.json: file not found; point --payloads at the directory that holds manifest.json",
    },
    Case {
        name: "manifest with a typo",
        files: &[
            ("p/manifest.json", r#"{"cases": [{"name": "a", "body": "a.csv", "expcet": {}}]}"#),
            ("p/a.csv", "1,2"),
        ],
        env: &[],
        args: &["--account-id", "111111111111", "--payloads", "p"],
        message: "payload manifest p/manifest.json: is not a valid manifest (unknown field `expcet`",
    },
    Case {
        name: "manifest naming a missing body",
        files: &[("p/manifest.json", r#"{"cases": [{"name": "a", "body": "gone.csv"}]}"#)],
        env: &[],
        args: &["--account-id", "111111111111", "--payloads", "p"],
        message: "payload manifest p/manifest.json: case \"a\": body file p/gone.csv not found",
    },
    Case {
        name: "manifest with a bad regex",
        files: &[
            ("p/manifest.json", r#"{"cases": [{"name": "a", "body": "a.csv", "expect": {"body_regex": "(unclosed"}}]}"#),
            ("p/a.csv", "1,2"),
        ],
        env: &[],
        args: &["--account-id", "111111111111", "--payloads", "p"],
        message: "case \"a\": expect.body_regex is not a valid regular expression",
    },
    Case {
        name: "manifest with a JSON pointer missing its slash",
        files: &[
            ("p/manifest.json", r#"{"cases": [{"name": "a", "body": "a.csv", "expect": {"json": {"predictions/0": 1}}}]}"#),
            ("p/a.csv", "1,2"),
        ],
        env: &[],
        args: &["--account-id", "111111111111", "--payloads", "p"],
        message: "expect.json key \"predictions/0\" is not a JSON pointer",
    },
    Case {
        name: "report directory missing",
        files: &[],
        env: &[("EXPORT_TEST_RESULTS", "missing-dir/test-results.json")],
        args: &["--account-id", "111111111111"],
        message: "EXPORT_TEST_RESULTS (--export-test-results): cannot write the report to \"missing-dir/test-results.json\"",
    },
    Case {
        name: "unknown flag",
        files: &[],
        env: &[],
        args: &["--acount-id", "111111111111"],
        message: "unexpected argument '--acount-id'",
    },
    Case {
        name: "invocations out of range",
        files: &[],
        env: &[],
        args: &["--invocations", "0"],
        message: "invalid value '0' for '--invocations <N>'",
    },
    Case {
        name: "wait timeout that is not a duration",
        files: &[],
        env: &[],
        args: &["--wait-timeout", "soon"],
        message: "\"soon\" is not a duration; write it like 30m, 90s, 1h or 1h30m",
    },
];

/// Every case runs with AWS unreachable: a bad input found after an AWS call would exit 3.
#[test]
fn every_bad_input_exits_2_before_any_aws_call_and_names_the_fix() {
    let unreachable = closed_endpoint();
    let mut failures = Vec::new();
    for case in BAD_INPUTS {
        let ws = Workspace::new("badinputs");
        for (name, contents) in case.files {
            ws.write(name, contents);
        }
        let out = ws
            .test_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("ORGANIZATIONAL_UNIT_ID", "ou-abcd-12345678")
            .envs(case.env.iter().copied())
            .args(case.args.iter().copied())
            .run();
        if out.code != Some(2) || !out.stderr.contains(case.message) {
            failures.push(format!(
                "{}: exit {:?}, expected 2 and {:?} in:\n{}",
                case.name, out.code, case.message, out.stderr
            ));
            continue;
        }
        let clap_error = case.message.contains("argument")
            || case.message.contains("invalid value")
            || case.message.contains("duration");
        let unwritable = case.name == "report directory missing";
        if clap_error || unwritable {
            // Nothing was parsed (or nowhere to write): no report.
            if ws.file("test-results.json").exists() {
                failures.push(format!("{}: wrote a report", case.name));
            }
            continue;
        }
        let reports = ws.reports();
        if reports.json["exit_code"] != 2
            || !reports.json["error"]
                .as_str()
                .unwrap_or_default()
                .contains(case.message)
        {
            failures.push(format!(
                "{}: the report does not carry the error: {}",
                case.name, reports.json
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn a_payload_over_6_mb_is_rejected_before_any_call() {
    let ws = Workspace::new("oversize");
    ws.write(
        "p/manifest.json",
        r#"{"cases": [{"name": "small", "body": "small.csv"}, {"name": "huge", "body": "huge.csv"}]}"#,
    );
    ws.write("p/small.csv", "1,2,3\n");
    ws.write("p/huge.csv", vec![b'7'; 6 * 1024 * 1024 + 1]);
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", closed_endpoint())
        .args(["--account-id", "111111111111", "--payloads", "p"])
        .run();
    out.code(2).stderr_contains(
        "case \"huge\": body file p/huge.csv is 6291457 bytes, over InvokeEndpoint's 6 MB (6291456-byte) limit for real-time endpoints",
    );
    let reports = ws.reports();
    assert!(reports.json["error"]
        .as_str()
        .unwrap()
        .contains("huge.csv is 6291457 bytes"));
    assert_eq!(
        reports.json["stage"], "staging",
        "the report keeps what was read before the error"
    );
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
