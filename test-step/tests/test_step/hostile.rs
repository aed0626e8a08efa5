//! Hostile and broken input, data-driven from `tests/corpus/`: every bad input of `cases.json`
//! gets its exact exit code and the start of its message before any AWS call, with reports (the
//! test's, or those of `preflight` and `status` for their cases) that carry the error, in the
//! JSON and in the JUnit `setup` case, and no other file; hostile values (test_support's list) in project names, model
//! package names and case names are rejected with a one-line message, or reach both reports
//! verbatim (as far as XML 1.0 can carry them) without changing their structure.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Deserialize;
use test_support::corpus::{self, assert_cases, hostile_values, Extra};
use test_support::endpoints::{closed_endpoint, deploy_endpoint, queue_json_answers};
use test_support::moto;

use crate::{build_config, package_arn, Staging, Workspace, REGION};

/// What test-step's cases add: whether the reports are written, and what they must hold.
#[derive(Deserialize)]
struct ReportExpectation {
    #[serde(default = "yes")]
    report: bool,
    /// Fields the JSON report must hold (what was read before the error).
    #[serde(default)]
    report_has: BTreeMap<String, serde_json::Value>,
}

impl Extra for ReportExpectation {
    const FIELDS: &'static [&'static str] = &["report", "report_has"];
}

fn yes() -> bool {
    true
}

/// Every file under `dir`, relative, sorted.
fn tree(dir: &Path) -> Vec<String> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(next) = pending.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap();
                files.push(relative.display().to_string());
            }
        }
    }
    files.sort();
    files
}

/// The error message as the product prints it, without the tool prefix.
fn message_of(stderr: &str) -> Option<&str> {
    stderr.lines().last()?.strip_prefix("test-step: error: ")
}

/// The commands whose reports are the fleet's (`<command>-results.json`, `.xml`).
const FLEET_COMMANDS: [&str; 2] = ["preflight", "status"];

/// Every run points AWS at a closed port: a bad input found after an AWS call would exit 3.
#[test]
fn every_corpus_case_gets_its_exit_code_and_message_before_any_aws_call() {
    let unreachable = closed_endpoint();
    let dir = corpus::dir(env!("CARGO_MANIFEST_DIR"));
    assert_cases(&corpus::cases::<ReportExpectation>(&dir), |case| {
        let ws = Workspace::new("badinputs");
        case.prepare(&dir, &ws.path);
        let before = tree(&ws.path);
        let out = ws
            .test_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("ORGANIZATIONAL_UNIT_ID", "ou-abcd-12345678")
            .envs(case.env())
            .args(case.args())
            .run();
        if let Some(problem) = case.check("test-step", &out) {
            return vec![problem];
        }
        // `preflight` and `status` (the first argument) write their own reports.
        let command = case
            .args
            .first()
            .map(String::as_str)
            .filter(|first| FLEET_COMMANDS.contains(first));
        let report_name = command.unwrap_or("test");
        let mut expected_files = before;
        if case.extra.report {
            expected_files.extend([
                format!("{report_name}-results.json"),
                format!("{report_name}-results.xml"),
            ]);
            expected_files.sort();
        }
        if tree(&ws.path) != expected_files {
            return vec![format!(
                "files {:?}, expected {expected_files:?}",
                tree(&ws.path)
            )];
        }
        let mut problems = Vec::new();
        if case.extra.report {
            // The reports (checked for completeness) and the JUnit `setup` case of the stop.
            let (json, (setup, setup_error)) = match command {
                None => {
                    let reports = ws.reports();
                    let setup = reports.junit_setup();
                    (reports.json, setup)
                }
                Some(command) => {
                    let reports = ws.fleet_reports(command);
                    let setup = reports.junit_setup(command);
                    (reports.json, setup)
                }
            };
            if json["exit_code"] != case.exit || json["error"].as_str() != message_of(&out.stderr) {
                problems.push(format!("the report does not carry the error: {json}"));
            }
            if setup != "setup" || json["error"].as_str() != Some(setup_error.as_str()) {
                problems.push(format!(
                    "the JUnit case {setup:?} does not carry the error: {setup_error:?}"
                ));
            }
            for (field, value) in &case.extra.report_has {
                if json[field] != *value {
                    problems.push(format!(
                        "the report's {field} is {}, expected {value}",
                        json[field]
                    ));
                }
            }
        }
        problems
    });
}

/// What the JUnit report can carry of `text`: XML 1.0 has no way to write most control
/// characters or U+FFFE/U+FFFF, so the report shows U+FFFD in their place.
fn as_xml_can_carry(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

/// Hostile project names and ids are rejected with a one-line message that quotes them; the
/// reports carry that message verbatim, the JUnit report as an attribute and as text.
#[test]
fn hostile_project_names_and_ids_are_rejected_with_one_line_messages() {
    let unreachable = closed_endpoint();
    let mut failures = Vec::new();
    for (name, hostile) in hostile_values() {
        let ws = Workspace::new("hostile");
        ws.write(
            "staging-config-export.json",
            build_config(&hostile, &ws.package),
        );
        let in_file = ws
            .test_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("SAGEMAKER_PROJECT_NAME", "")
            .args(["--account-id", "111111111111"])
            .run();
        let ws_id = Workspace::new("hostile");
        let in_env = ws_id
            .test_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("SAGEMAKER_PROJECT_ID", &hostile)
            .args(["--account-id", "111111111111"])
            .run();
        for (ws, out, start, quoted) in [
            (
                &ws,
                in_file,
                "test-step: error: BUILD_CONFIG (--build-config) staging-config-export.json: the endpoint name ",
                format!("{}-staging", hostile.trim()),
            ),
            (
                &ws_id,
                in_env,
                "test-step: error: BUILD_CONFIG (--build-config) staging-config-export.json: has SageMakerProjectId \"p-test0001\" but SAGEMAKER_PROJECT_ID (--sagemaker-project-id) is \"",
                format!("\"{}\"", hostile.trim()),
            ),
        ] {
            if out.code != Some(2)
                || !out.stderr.starts_with(start)
                || out.stderr.lines().count() != 1
            {
                failures.push(format!(
                    "{name}: exit {:?}, expected 2 and one line starting {start:?}:\n{}",
                    out.code, out.stderr
                ));
                continue;
            }
            let reports = ws.reports();
            let error = reports.json["error"].as_str().unwrap_or_default();
            if !error.contains(&quoted) {
                failures.push(format!(
                    "{name}: the JSON report's error does not quote {quoted:?}: {error:?}"
                ));
            }
            let (setup, junit_error) = reports.junit_setup();
            let xml_error = &reports.junit.children[0].children[0].children[0].text;
            if setup != "setup"
                || junit_error != as_xml_can_carry(error)
                || *xml_error != as_xml_can_carry(error)
            {
                failures.push(format!(
                    "{name}: the JUnit error is not the JSON report's: {junit_error:?}"
                ));
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A manifest whose case names are the hostile values, against an endpoint serving a model
/// package whose name holds them all: the run passes and both reports name every case and the
/// package verbatim; then a build config naming another hostile package fails the model check,
/// and the failure quotes both names in both reports.
#[tokio::test]
async fn hostile_case_and_package_names_reach_both_reports_verbatim() {
    let staging = Staging::create("hostile-names").await;
    let account = &staging.active[0];
    let values = hostile_values();
    let hostile_package = format!(
        "{}/{}",
        package_arn("hostilenames", 1),
        values.iter().map(|(_, v)| v.as_str()).collect::<String>()
    );
    let ws = Workspace::new("hostilenames");
    deploy_endpoint(moto(), account, REGION, &ws.endpoint(), &hostile_package).await;
    queue_json_answers(moto(), account, REGION, &[r#"{"predictions": [0.5]}"#]);
    let cases: Vec<serde_json::Value> = values
        .iter()
        .map(|(_, name)| serde_json::json!({"name": name, "body": "one-row.csv"}))
        .collect();
    ws.write(
        "test/payloads/manifest.json",
        serde_json::json!({ "cases": cases }).to_string(),
    );
    let names: Vec<String> = values.iter().map(|(_, v)| v.trim().to_owned()).collect();

    ws.write(
        "staging-config-export.json",
        build_config("hostilenames", &hostile_package),
    );
    let out = ws
        .test_step()
        .args(["--account-id", account, "--invocations", "1"])
        .run();
    out.code(0);
    let reports = ws.reports();
    assert_eq!(reports.json["model_package_name"], hostile_package.as_str());
    let target = reports.target(account, REGION);
    assert_eq!(
        target["model_check"]["variants"][0]["model_package_names"][0],
        hostile_package.as_str()
    );
    let reported: Vec<String> = reports
        .cases(account, REGION)
        .into_iter()
        .map(|(name, status)| {
            assert_eq!(status, "passed", "{name:?}");
            name
        })
        .collect();
    assert_eq!(reported, names);
    let junit: Vec<String> = reports
        .junit_cases(account, REGION)
        .into_iter()
        .map(|(name, problem)| {
            assert_eq!(problem, None, "{name:?}");
            name
        })
        .collect();
    let carried: Vec<String> = names.iter().map(|n| as_xml_can_carry(n)).collect();
    assert_eq!(junit, carried);

    let other = format!("{hostile_package}-other");
    ws.write(
        "staging-config-export.json",
        build_config("hostilenames", &other),
    );
    let out = ws
        .test_step()
        .args(["--account-id", account, "--invocations", "1"])
        .run();
    out.code(1);
    let reports = ws.reports();
    let target = reports.target(account, REGION);
    let error = target["error"].as_str().unwrap();
    let expected_error = format!(
        "endpoint {} does not serve the exported ModelPackageName {other}: variant AllTraffic serves {hostile_package} (model ",
        ws.endpoint()
    );
    assert!(error.contains(&expected_error), "{error:?}");
    for (name, problem) in reports.junit_cases(account, REGION) {
        let problem = problem.unwrap_or_default();
        assert!(
            problem.contains(&as_xml_can_carry(&expected_error)),
            "{name:?}: {problem:?}"
        );
    }
}
