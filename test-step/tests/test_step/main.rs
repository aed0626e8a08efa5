//! `test-step` as CodeBuild runs it: the real binary, env vars named as the seed's test CodeBuild
//! project sets them, against a real moto_server holding an organization, staging accounts and
//! endpoints created through assumed roles. One test binary for the crate. Every test reads both
//! reports back and checks them for completeness, whatever the exit code.

mod contracts;
mod discovery;
mod faults;
mod fleet;
mod hostile;
mod inputs;
mod junit;
mod scale;
mod secrets;
mod stop;
mod verdicts;

use std::path::{Path, PathBuf};

use deploy_core::stack_params::ParameterList;
use serde_json::Value;
use test_support::endpoints::{deploy_endpoint, queue_json_answers, GOOD_ANSWERS, STAGING_ROLE};
use test_support::seed::Organization;
use test_support::{moto, Cli};

pub const BIN: &str = env!("CARGO_BIN_EXE_test-step");
pub const REGION: &str = "us-east-1";
pub const OTHER_REGION: &str = "eu-west-1";
/// What CodeBuild sets, and the session name STS must see for it.
pub const BUILD_ID: &str = "churn-test:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
pub const SESSION: &str = "churn-test-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
pub const SHIPPED_CASES: [&str; 2] = ["one-row", "five-rows"];

pub fn shipped_payloads() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../test/payloads")
}

/// A staging OU: two ACTIVE accounts, one closed (SUSPENDED) account, and a child OU with one
/// more ACTIVE account.
pub struct Staging {
    pub ou: String,
    /// The ACTIVE accounts, child OU included, sorted (the order the report uses).
    pub active: Vec<String>,
    pub nested: String,
    pub suspended: String,
}

impl Staging {
    pub async fn create(name: &str) -> Self {
        let org = Organization::get(moto()).await;
        let ou = org.create_ou(&org.root_id, name).await;
        let child = org.create_ou(&ou, &format!("{name}-child")).await;
        let a = org.create_account(&ou, &format!("{name}-a")).await;
        let b = org.create_account(&ou, &format!("{name}-b")).await;
        let suspended = org.create_account(&ou, &format!("{name}-closed")).await;
        org.close_account(&suspended).await;
        let nested = org.create_account(&child, &format!("{name}-nested")).await;
        let mut active = vec![a, b, nested.clone()];
        active.sort();
        Self {
            ou,
            active,
            nested,
            suspended,
        }
    }
}

/// The test project's checkout: the build config build-step wrote, and room for the reports; the
/// shared [`test_support::workspace::Workspace`] (write, read, file, files) with the project.
pub struct Workspace {
    dir: test_support::workspace::Workspace,
    pub project: String,
    pub package: String,
}

impl std::ops::Deref for Workspace {
    type Target = test_support::workspace::Workspace;

    fn deref(&self) -> &Self::Target {
        &self.dir
    }
}

impl Workspace {
    pub fn new(project: &str) -> Self {
        let ws = Self {
            dir: test_support::workspace::Workspace::new(),
            project: project.to_owned(),
            package: package_arn(project, 3),
        };
        ws.write(
            "staging-config-export.json",
            build_config(project, &ws.package),
        );
        // The checkout holds the payloads where the default --payloads looks for them.
        for entry in std::fs::read_dir(shipped_payloads()).unwrap() {
            let entry = entry.unwrap();
            let name = format!("test/payloads/{}", entry.file_name().to_string_lossy());
            ws.write(&name, std::fs::read(entry.path()).unwrap());
        }
        ws
    }

    pub fn endpoint(&self) -> String {
        format!("{}-staging", self.project)
    }

    /// `test-step` with the test CodeBuild project's environment.
    pub fn test_step(&self) -> Cli {
        Cli::new(BIN, &self.path, moto()).envs([
            ("SAGEMAKER_PROJECT_NAME", self.project.as_str()),
            ("SAGEMAKER_PROJECT_ID", "p-test0001"),
            ("BUILD_CONFIG", "staging-config-export.json"),
            ("EXPORT_TEST_RESULTS", "test-results.json"),
            ("SAGEMAKER_EXECUTION_ROLE_NAME", STAGING_ROLE),
            ("CODEBUILD_BUILD_ID", BUILD_ID),
        ])
    }

    /// Deploys this project's staging endpoint into `account` and `region` from `package` and
    /// queues answers that meet the shipped manifest.
    pub async fn deploy(&self, account: &str, region: &str, package: &str) {
        deploy_endpoint(moto(), account, region, &self.endpoint(), package).await;
        queue_json_answers(moto(), account, region, &GOOD_ANSWERS);
    }

    /// Both reports, parsed and checked for completeness.
    pub fn reports(&self) -> Reports {
        self.reports_at("test-results.json", "test-results.xml")
    }

    pub fn reports_at(&self, json: &str, xml: &str) -> Reports {
        let json_text = std::fs::read_to_string(self.file(json))
            .unwrap_or_else(|e| panic!("the JSON report {json} was not written: {e}"));
        let xml_text = std::fs::read_to_string(self.file(xml))
            .unwrap_or_else(|e| panic!("the JUnit report {xml} was not written: {e}"));
        Reports::check(&json_text, &xml_text)
    }

    /// Both reports of a `preflight` or `status` run at their default names
    /// (`<command>-results.json`, `.xml`), parsed and checked for completeness.
    pub fn fleet_reports(&self, command: &str) -> FleetReports {
        let json = format!("{command}-results.json");
        let xml = format!("{command}-results.xml");
        let json_text = std::fs::read_to_string(self.file(&json))
            .unwrap_or_else(|e| panic!("the JSON report {json} was not written: {e}"));
        let xml_text = std::fs::read_to_string(self.file(&xml))
            .unwrap_or_else(|e| panic!("the JUnit report {xml} was not written: {e}"));
        FleetReports::check(command, &json_text, &xml_text)
    }
}

pub fn package_arn(project: &str, version: u32) -> String {
    format!("arn:aws:sagemaker:us-east-1:123456789012:model-package/{project}/{version}")
}

/// The staging parameter file in the format build-step writes.
pub fn build_config(project: &str, package: &str) -> String {
    let mut params = ParameterList::default();
    for (key, value) in [
        ("StageName", "staging"),
        ("EndpointInstanceType", "ml.m5.large"),
        ("EndpointInstanceCount", "1"),
        ("SageMakerProjectName", project),
        ("SageMakerProjectId", "p-test0001"),
        ("ModelPackageName", package),
        ("RoleName", STAGING_ROLE),
    ] {
        params.push(key, value).unwrap();
    }
    params.to_json()
}

/// `account`'s target in `region` of a report (`json`).
fn report_target<'a>(json: &'a Value, account: &str, region: &str) -> &'a Value {
    json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account_id"] == account && t["region"] == region)
        .unwrap_or_else(|| panic!("no target {account} {region} in {json}"))
}

/// (account, region, status) of every target of a report, in report order.
fn report_targets(json: &Value) -> Vec<(String, String, String)> {
    json["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| {
            (
                t["account_id"].as_str().unwrap().to_owned(),
                t["region"].as_str().unwrap().to_owned(),
                t["status"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// (name, status, message) of a fleet report target's checks.
pub fn target_checks(target: &Value) -> Vec<(String, String, String)> {
    target["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["name"].as_str().unwrap().to_owned(),
                c["status"].as_str().unwrap().to_owned(),
                c["message"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The fields every report (a test's, a preflight's, a status's) has at its top level.
const RUN_FIELDS: [&str; 20] = [
    "schema_version",
    "tool",
    "status",
    "exit_code",
    "started_at",
    "duration_seconds",
    "build_config",
    "stage",
    "project_name",
    "endpoint_name",
    "model_package_name",
    "role_name",
    "session_name",
    "organizational_unit_id",
    "targets_from",
    "accounts_file",
    "regions",
    "summary",
    "targets",
    "error",
];

/// Both reports of a run, parsed: the JSON document and the JUnit XML.
fn parse_reports(json_text: &str, xml_text: &str) -> (Value, junit::Element) {
    let json: Value = serde_json::from_str(json_text)
        .unwrap_or_else(|e| panic!("the JSON report is not one JSON document ({e}):\n{json_text}"));
    let junit = junit::parse(xml_text)
        .unwrap_or_else(|e| panic!("the JUnit report is not well-formed XML ({e}):\n{xml_text}"));
    (json, junit)
}

/// The schema version, and a status that agrees with the exit code.
fn assert_run_status(json: &Value) {
    assert_eq!(json["schema_version"], 1);
    let status = json["status"].as_str().unwrap();
    let exit_code = json["exit_code"].as_u64().unwrap();
    assert_eq!(
        status == "passed",
        exit_code == 0,
        "status {status} with exit code {exit_code}"
    );
}

/// Counts `target` as passed, failed or error in `counts`, checks that only a target short of
/// passing has an error, and returns its status.
fn tally_target<'a>(target: &'a Value, counts: &mut (u64, u64, u64)) -> &'a str {
    let target_status = target["status"].as_str().unwrap();
    match target_status {
        "passed" => counts.0 += 1,
        "failed" => counts.1 += 1,
        "error" => counts.2 += 1,
        other => panic!("unknown target status {other}"),
    }
    assert_eq!(
        target["error"].is_null(),
        target_status == "passed",
        "{target}"
    );
    target_status
}

/// The summary counts what the targets say.
fn assert_summary(json: &Value, targets: usize, counts: (u64, u64, u64)) {
    let summary = &json["summary"];
    assert_eq!(
        (
            summary["targets"].as_u64().unwrap() as usize,
            summary["passed"].as_u64().unwrap(),
            summary["failed"].as_u64().unwrap(),
            summary["errors"].as_u64().unwrap()
        ),
        (targets, counts.0, counts.1, counts.2)
    );
}

/// The two reports of one run, parsed, with their completeness already checked.
pub struct Reports {
    pub json: Value,
    pub junit: junit::Element,
}

impl Reports {
    /// Parses both reports and checks them against each other and the documented schema: every
    /// field present, counts that add up, one JUnit test case per target x case (or one `setup`
    /// case for a run that stopped), failures and errors where the JSON says so.
    pub fn check(json_text: &str, xml_text: &str) -> Self {
        let (json, junit) = parse_reports(json_text, xml_text);
        let own = ["payloads", "invocations_per_case"];
        for key in RUN_FIELDS.iter().chain(&own) {
            assert!(
                json.get(key).is_some(),
                "the JSON report lacks {key}:\n{json_text}"
            );
        }
        assert_run_status(&json);
        let targets = json["targets"].as_array().unwrap();
        let mut counts = (0, 0, 0);
        let mut expected_failures = 0;
        let mut expected_errors = 0;
        let mut cases_total = 0;
        for target in targets {
            for key in [
                "account_id",
                "region",
                "endpoint_name",
                "status",
                "role_arn",
                "duration_seconds",
                "endpoint_status",
                "wait_seconds",
                "polls",
                "model_check",
                "first_call",
                "cases",
                "error",
            ] {
                assert!(target.get(key).is_some(), "a target lacks {key}: {target}");
            }
            let target_status = tally_target(target, &mut counts);
            let cases = target["cases"].as_array().unwrap();
            assert!(!cases.is_empty(), "a target without cases: {target}");
            cases_total += cases.len();
            for case in cases {
                for key in [
                    "name",
                    "body_file",
                    "status",
                    "invocations",
                    "succeeded",
                    "duration_seconds",
                    "latency_ms",
                    "response_content_type",
                    "response_bytes",
                    "failures",
                ] {
                    assert!(case.get(key).is_some(), "a case lacks {key}: {case}");
                }
                match case["status"].as_str().unwrap() {
                    "passed" => {}
                    "not_run" if target_status == "error" => expected_errors += 1,
                    "failed" | "not_run" => expected_failures += 1,
                    other => panic!("unknown case status {other}"),
                }
                if case["status"] == "passed" {
                    let latency = &case["latency_ms"];
                    for key in ["count", "p50", "p90", "p99", "max"] {
                        assert!(latency[key].is_number(), "latency lacks {key}: {case}");
                    }
                    assert!(case["failures"].as_array().unwrap().is_empty());
                }
            }
        }
        assert_summary(&json, targets.len(), counts);
        if !json["error"].is_null() {
            cases_total += 1;
            expected_errors += 1;
        }
        assert_eq!(junit.name, "testsuites");
        let mut testcases = Vec::new();
        junit.descendants("testcase", &mut testcases);
        assert_eq!(
            testcases.len(),
            cases_total,
            "one JUnit test case per target x case"
        );
        assert_eq!(junit.attr("tests"), cases_total.to_string());
        assert_eq!(junit.attr("failures"), expected_failures.to_string());
        assert_eq!(junit.attr("errors"), expected_errors.to_string());
        let mut failures = Vec::new();
        junit.descendants("failure", &mut failures);
        let mut errors = Vec::new();
        junit.descendants("error", &mut errors);
        assert_eq!(
            (failures.len(), errors.len()),
            (expected_failures, expected_errors)
        );
        for suite in junit.children_named("testsuite") {
            assert_eq!(suite.attr("tests"), suite.count("testcase").to_string());
        }
        Self { json, junit }
    }

    /// The target for `account` in `region`.
    pub fn target(&self, account: &str, region: &str) -> &Value {
        report_target(&self.json, account, region)
    }

    /// (account, region, status) of every target, in report order.
    pub fn targets(&self) -> Vec<(String, String, String)> {
        report_targets(&self.json)
    }

    /// Names of a target's cases and their statuses.
    pub fn cases(&self, account: &str, region: &str) -> Vec<(String, String)> {
        self.target(account, region)["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["name"].as_str().unwrap().to_owned(),
                    c["status"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    }

    /// The `setup` test case of a run that stopped before testing: its name and error message.
    pub fn junit_setup(&self) -> (String, String) {
        let suite = self
            .junit
            .children_named("testsuite")
            .find(|s| s.attr("name") == "test-step")
            .expect("a test-step suite for a stopped run");
        let case = &suite.children[0];
        (
            case.attr("name").to_owned(),
            case.children[0].attr("message").to_owned(),
        )
    }

    /// The JUnit test cases of a target, by case name, with their failure or error message.
    pub fn junit_cases(&self, account: &str, region: &str) -> Vec<(String, Option<String>)> {
        let suite = self
            .junit
            .children_named("testsuite")
            .find(|s| s.attr("name").contains(account) && s.attr("name").ends_with(region))
            .unwrap_or_else(|| panic!("no JUnit suite for {account} {region}"));
        suite
            .children_named("testcase")
            .map(|case| {
                let problem = case
                    .children
                    .first()
                    .map(|p| format!("{}: {}", p.name, p.attr("message")));
                (case.attr("name").to_owned(), problem)
            })
            .collect()
    }
}

/// The two reports of one `preflight` or `status` run, parsed, with their completeness checked
/// against the fleet report's schema (docs/reports.md) as [`Reports`] checks the test's.
pub struct FleetReports {
    pub json: Value,
    pub junit: junit::Element,
}

impl FleetReports {
    /// Parses both reports and checks them against each other: every documented field present,
    /// the command's, counts that add up, one JUnit test case per check (one `checks` case for a
    /// target without any, one `setup` case for a run that stopped before checking), and
    /// failures, errors and skips where the JSON has them.
    pub fn check(command: &str, json_text: &str, xml_text: &str) -> Self {
        let (json, junit) = parse_reports(json_text, xml_text);
        let own = ["command", "strict", "interrupted"];
        for key in RUN_FIELDS.iter().chain(&own) {
            assert!(
                json.get(key).is_some(),
                "the JSON report lacks {key}:\n{json_text}"
            );
        }
        assert_run_status(&json);
        assert_eq!(json["command"], command);
        let strict = json["strict"].as_bool().unwrap();
        let targets = json["targets"].as_array().unwrap();
        let mut counts = (0, 0, 0);
        let (mut cases, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
        for target in targets {
            for key in [
                "account_id",
                "region",
                "endpoint_name",
                "role_arn",
                "status",
                "duration_seconds",
                "checks",
                "endpoint",
                "error",
            ] {
                assert!(target.get(key).is_some(), "a target lacks {key}: {target}");
            }
            tally_target(target, &mut counts);
            let checks = target["checks"].as_array().unwrap();
            if checks.is_empty() {
                cases += 1;
                errors += 1;
            }
            for check in checks {
                for key in ["name", "status", "message"] {
                    assert!(check.get(key).is_some(), "a check lacks {key}: {check}");
                }
                cases += 1;
                match check["status"].as_str().unwrap() {
                    "passed" => {}
                    "failed" => failures += 1,
                    "skipped" if strict => failures += 1,
                    "skipped" => skipped += 1,
                    "error" => errors += 1,
                    other => panic!("unknown check status {other}"),
                }
            }
        }
        assert_summary(&json, targets.len(), counts);
        if !json["error"].is_null() {
            cases += 1;
            errors += 1;
        }
        assert_eq!(junit.name, "testsuites");
        assert_eq!(junit.attr("name"), format!("test-step {command}"));
        let mut found = Vec::new();
        junit.descendants("testcase", &mut found);
        assert_eq!(found.len(), cases, "one JUnit test case per check");
        for (attr, element, expected) in [
            ("tests", "testcase", cases),
            ("failures", "failure", failures),
            ("errors", "error", errors),
            ("skipped", "skipped", skipped),
        ] {
            let mut found = Vec::new();
            junit.descendants(element, &mut found);
            assert_eq!(
                (junit.attr(attr), found.len()),
                (expected.to_string().as_str(), expected),
                "JUnit {attr} of {xml_text}"
            );
        }
        for suite in junit.children_named("testsuite") {
            assert_eq!(suite.attr("tests"), suite.count("testcase").to_string());
        }
        Self { json, junit }
    }

    /// The `setup` test case of a run that stopped before checking: its name and error message.
    pub fn junit_setup(&self, command: &str) -> (String, String) {
        let suite = self
            .junit
            .children_named("testsuite")
            .find(|s| s.attr("name") == command)
            .expect("a suite named after the command for a stopped run");
        let case = &suite.children[0];
        (
            case.attr("name").to_owned(),
            case.children[0].attr("message").to_owned(),
        )
    }

    /// (account, region, status) of every target, in report order.
    pub fn targets(&self) -> Vec<(String, String, String)> {
        report_targets(&self.json)
    }

    /// (name, status, message) of the checks of `account`'s target in `region`.
    pub fn checks(&self, account: &str, region: &str) -> Vec<(String, String, String)> {
        target_checks(report_target(&self.json, account, region))
    }
}
