//! The report contracts, byte for byte: the JSON report, the JUnit XML report (a passed, a
//! failed, an interrupted and a stopped run), the text summary, and the lines the verdict gives
//! the approval (TEST_SUMMARY) and stderr, as insta snapshots (set up as build-step's). The runs
//! are built from report values and settled by `deploy_core::verdict` exactly as test-step settles
//! its targets, so these need no emulator and take milliseconds; a change to any rendering or to
//! what passes fails them. The start time and the tool's version are redacted, so the snapshots
//! hold only what the model decides. The emulator tests check that a real run fills the model.
//! The preflight and status reports (JSON, JUnit, text and summary line) are pinned the same way.

use std::path::Path;
use std::time::Duration;

use deploy_core::fleet::junit::fleet_junit_reports;
use deploy_core::fleet::{
    Check, Command as FleetCommand, EndpointState, FleetReport, FleetSetup, FleetTarget,
};
use deploy_core::manifest::{Case, Expect};
use deploy_core::report::junit::junit_xml;
use deploy_core::report::{
    CaseReport, CaseStatus, CheckStatus, FirstCall, Latency, ModelCheck, Report, RunSetup, Setup,
    TargetReport, TargetStatus, VariantModel,
};
use deploy_core::targets::Target;
use deploy_core::verdict::{AwsErrorKind, Cause};
use deploy_core::{Bytes, ExitStatus, Format};

use crate::{junit, SESSION};

/// What a run of the binary writes as `tool`; redacted to `test-step [version]`.
const TOOL: &str = concat!("test-step ", env!("CARGO_PKG_VERSION"));
/// A start time in the format the binary writes; redacted to `[started_at]`.
const STARTED_AT: &str = "2026-05-20T09:41:07Z";
const PROJECT: &str = "churn";
const ENDPOINT: &str = "churn-staging";
const PACKAGE: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3";
const INVOCATIONS: u32 = 3;

/// The shipped manifest's two cases.
fn manifest() -> Vec<Case> {
    ["one-row", "five-rows"]
        .into_iter()
        .map(|name| Case {
            name: name.into(),
            body_file: format!("{name}.csv"),
            body: Bytes::from_static(b"1,2,3\n"),
            content_type: Some("text/csv".into()),
            accept: Some("application/json".into()),
            expect: Expect::default(),
        })
        .collect()
}

fn started() -> Report {
    let mut report = Report::started(
        TOOL.into(),
        Some(STARTED_AT.into()),
        Setup {
            run: RunSetup {
                build_config: "staging-config-export.json".into(),
                stage: Some("staging".into()),
                project_name: Some(PROJECT.into()),
                endpoint_name: Some(ENDPOINT.into()),
                model_package_name: Some(PACKAGE.into()),
                role_name: Some("sagemaker-role-staging".into()),
                session_name: Some(SESSION.into()),
                organizational_unit_id: Some("ou-ab12-cd34ef56".into()),
                targets_from: Some("organizational_unit".into()),
                accounts_file: None,
                regions: vec!["us-east-1".into()],
            },
            payloads: "test/payloads".into(),
            invocations_per_case: INVOCATIONS,
        },
    );
    report.duration_seconds = 12.345;
    report
}

/// How far one target's test got before it ended.
struct Test {
    account: &'static str,
    /// The endpoint status last seen, the seconds waited and the DescribeEndpoint calls made.
    waited: (Option<&'static str>, f64, u32),
    check: Option<ModelCheck>,
    first_call: Option<FirstCall>,
    cases: Vec<CaseReport>,
}

impl Test {
    fn new(account: &'static str) -> Self {
        Self {
            account,
            waited: (Some("InService"), 0.0, 1),
            check: None,
            first_call: None,
            cases: Vec::new(),
        }
    }

    fn serving(mut self, package: &str, serverless_memory_mb: Option<i32>) -> Self {
        let variant = VariantModel {
            variant_name: "AllTraffic".into(),
            model_name: format!("{PROJECT}-model-{}", &package[package.len() - 1..]),
            model_package_names: vec![package.into()],
            serverless_memory_mb,
            serverless_provisioned_concurrency: None,
            instance_type: serverless_memory_mb
                .is_none()
                .then(|| "ml.m5.large".to_owned()),
            initial_instance_count: serverless_memory_mb.is_none().then_some(1),
        };
        self.check = Some(ModelCheck::of(
            PACKAGE,
            "churn-staging-config",
            vec![variant],
        ));
        self
    }

    /// Every case answered in `millis` per call, failing with `failures` where given.
    fn invoked(mut self, runs: &[(&[u64], &[&str])]) -> Self {
        for (case, (millis, failures)) in manifest().iter().zip(runs) {
            let mut report = CaseReport::not_run(case, INVOCATIONS);
            let samples: Vec<Duration> = millis.iter().map(|m| Duration::from_millis(*m)).collect();
            report.status = if failures.is_empty() {
                CaseStatus::Passed
            } else {
                CaseStatus::Failed
            };
            report.succeeded = millis.len() as u32;
            report.duration_seconds = millis.iter().sum::<u64>() as f64 / 1000.0;
            report.latency_ms = Latency::of(&samples);
            report.response_content_type = Some("application/json".into());
            report.response_bytes = Some(27);
            report.failures = failures.iter().map(|f| (*f).to_owned()).collect();
            self.cases.push(report);
        }
        self
    }

    /// The target's report, settled as the tester settles it.
    fn ended(self, ended: Result<(), Cause>) -> TargetReport {
        let target = Target {
            account_id: self.account.into(),
            region: "us-east-1".into(),
        };
        let role = format!("arn:aws:iam::{}:role/sagemaker-role-staging", self.account);
        let mut report = TargetReport::new(&target, ENDPOINT, role, TargetStatus::Error);
        let (status, wait_seconds, polls) = self.waited;
        report.endpoint_status = status.map(str::to_owned);
        report.wait_seconds = wait_seconds;
        report.polls = polls;
        report.model_check = self.check;
        report.first_call = self.first_call;
        report.cases = self.cases;
        report.duration_seconds = 0.25;
        report.settle(ended, &manifest(), INVOCATIONS);
        report
    }
}

fn passed_target(account: &'static str) -> TargetReport {
    Test::new(account)
        .serving(PACKAGE, None)
        .invoked(&[(&[4, 5, 6], &[]), (&[7, 8, 12], &[])])
        .ended(Ok(()))
}

/// Two targets that pass: one serverless whose first call was a cold start, one on instances
/// that was Updating for two minutes.
fn passed_run() -> Report {
    let mut report = started();
    let mut serverless = Test::new("111111111111").serving(PACKAGE, Some(2048));
    serverless.first_call = Some(FirstCall::new(
        "one-row",
        Duration::from_micros(812_500),
        true,
    ));
    let serverless = serverless
        .invoked(&[(&[5, 6], &[]), (&[9, 10, 11], &[])])
        .ended(Ok(()));
    let mut waited = Test::new("222222222222").serving(PACKAGE, None);
    waited.waited = (Some("InService"), 125.0, 7);
    waited.first_call = Some(FirstCall::new("one-row", Duration::from_millis(4), false));
    let waited = waited
        .invoked(&[(&[4, 5, 6], &[]), (&[7, 8, 12], &[])])
        .ended(Ok(()));
    report.targets = vec![serverless, waited];
    report.conclude();
    report
}

/// Every way a target can end: passed, a case failed, serving another package, an endpoint
/// that is Failed, and an AWS error.
fn failed_run() -> Report {
    let mut report = started();
    let cases_failed = Test::new("222222222222")
        .serving(PACKAGE, None)
        .invoked(&[
            (&[4, 5, 6], &[]),
            (
                &[7, 8],
                &["invocation 2 of 3: /predictions/4 is 1.7, expected at most 1 (\"<&>\")"],
            ),
        ])
        .ended(Ok(()));
    let stale = Test::new("333333333333").serving(
        "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/2",
        None,
    );
    let message = stale.check.as_ref().unwrap().stale_message(ENDPOINT);
    assert_eq!(stale.check.as_ref().unwrap().status, CheckStatus::Failed);
    let stale = stale.ended(Err(Cause::ServesAnotherPackage(message)));
    let mut failed = Test::new("444444444444");
    failed.waited = (Some("Failed"), 0.0, 1);
    let failed = failed.ended(Err(Cause::NotInService(
        "endpoint churn-staging in account 444444444444 region us-east-1 is Failed: Image 1.dkr.ecr/x:latest does not exist".into(),
    )));
    let mut denied = Test::new("555555555555");
    denied.waited = (None, 0.0, 1);
    let denied = denied.ended(Err(Cause::Aws {
        kind: AwsErrorKind::AccessDenied,
        message: "AWS denied sagemaker:DescribeEndpoint to the assumed role arn:aws:iam::555555555555:role/sagemaker-role-staging: not authorized. Allow sagemaker:DescribeEndpoint in that role's policy in account 555555555555, then run again.".into(),
    }));
    report.targets = vec![
        passed_target("111111111111"),
        cases_failed,
        stale,
        failed,
        denied,
    ];
    report.conclude();
    report
}

/// SIGTERM while the second target was still waiting for its endpoint.
fn interrupted_run() -> Report {
    let mut report = started();
    let mut waiting = Test::new("222222222222");
    waiting.waited = (Some("Updating"), 30.0, 3);
    let by = "SIGTERM (CodeBuild stops a build this way, its timeout included)";
    let waiting = waiting.ended(Err(Cause::Stopped { by: by.into() }));
    report.targets = vec![passed_target("111111111111"), waiting];
    report.interrupted = Some(by.into());
    report.conclude();
    report
}

/// Stopped by bad input before any target was tested.
fn stopped_run() -> Report {
    let mut report = started();
    report.stopped(
        "payload manifest test/payloads/manifest.json: case \"one-row\": body one-row.csv does not exist".into(),
        ExitStatus::BadInput,
    );
    report
}

/// `text` with what differs between runs and releases replaced.
fn redacted(text: &str) -> String {
    text.replace(TOOL, "test-step [version]")
        .replace(STARTED_AT, "[started_at]")
}

fn text_summary(report: &Report) -> String {
    let mut out = Vec::new();
    report.print(Format::Text, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

/// The JUnit report, checked to be well-formed XML before it is compared.
fn junit(report: &Report) -> String {
    let xml = junit_xml(report);
    let root = junit::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    assert_eq!(root.name, "testsuites");
    // insta ignores leading and trailing blank lines; pin the document's edges here.
    assert!(xml.ends_with("</testsuites>\n"), "{xml}");
    redacted(&xml)
}

fn json(report: &Report) -> String {
    let text = report.to_json();
    assert!(text.starts_with("{\n  \"schema_version\": 1,\n") && text.ends_with("\n}\n"));
    let parsed: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(parsed["started_at"], STARTED_AT);
    redacted(&text)
}

#[test]
fn the_json_report_matches_its_snapshot() {
    let report = failed_run();
    insta::assert_snapshot!("failed-run.json", json(&report));
    insta::assert_snapshot!("stopped-run.json", json(&stopped_run()));
}

#[test]
fn the_junit_report_matches_its_snapshots() {
    insta::assert_snapshot!("passed-run.xml", junit(&passed_run()));
    insta::assert_snapshot!("failed-run.xml", junit(&failed_run()));
    insta::assert_snapshot!("interrupted-run.xml", junit(&interrupted_run()));
    insta::assert_snapshot!("stopped-run.xml", junit(&stopped_run()));
}

#[test]
fn the_text_summary_matches_its_snapshots() {
    for report in [passed_run(), failed_run(), interrupted_run()] {
        assert!(text_summary(&report).ends_with(")\n"));
    }
    insta::assert_snapshot!("passed-run.txt", text_summary(&passed_run()));
    insta::assert_snapshot!("failed-run.txt", text_summary(&failed_run()));
    insta::assert_snapshot!("interrupted-run.txt", text_summary(&interrupted_run()));
}

/// For each run: its exit code, the approval's summary line (TEST_SUMMARY) and the paragraph on
/// stderr.
#[test]
fn the_verdicts_lines_match_their_snapshot() {
    let (json, xml) = (
        Path::new("test-results.json"),
        Path::new("test-results.xml"),
    );
    let mut lines = String::new();
    for (name, report) in [
        ("passed", passed_run()),
        ("failed", failed_run()),
        ("interrupted", interrupted_run()),
        ("stopped", stopped_run()),
    ] {
        // A run stopped before testing ends with its error as the paragraph.
        let paragraph = if report.error.is_some() {
            report.error.clone()
        } else {
            report.failure_paragraph(json, xml)
        };
        lines.push_str(&format!(
            "{name}: exit {}\n  TEST_SUMMARY: {}\n  stderr: {}\n",
            report.exit_code,
            report.summary_line(),
            paragraph.as_deref().unwrap_or("(nothing)")
        ));
    }
    insta::assert_snapshot!("verdicts.txt", lines);
}

/// A preflight of two prod accounts, one ready and one short of capacity with a skipped check,
/// settled as test-step settles it.
fn preflight_run() -> FleetReport {
    let checks = |capacity: Check| {
        vec![
            Check::passed("assume-role", "assumed arn:aws:iam::111111111111:role/r in account 111111111111 region us-east-1"),
            Check::passed("execution-role", "role sagemaker-p-1-prod-model exists and trusts sagemaker.amazonaws.com"),
            Check::skipped("deploy-role", "no --deploy-role-name (STACKSET_EXECUTION_ROLE_NAME): a SERVICE_MANAGED StackSet's execution role is CloudFormation's own"),
            Check::passed("model-artifacts", "the execution role may read s3://b/churn/model.tar.gz"),
            Check::passed("model-image", "the execution role may read 123456789012.dkr.ecr.us-east-1.amazonaws.com/churn:3"),
            capacity,
            Check::passed("endpoint-name", "churn-prod is free"),
        ]
    };
    fleet_run(
        FleetCommand::Preflight,
        vec![
            ("111111111111", checks(Check::passed("capacity", "quota \"ml.m5.large for endpoint usage\" is 4, 0 in use, 1 instance(s) asked")), None),
            ("222222222222", checks(Check::failed("capacity", "quota \"ml.m5.large for endpoint usage\" is 2, 2 in use, 1 instance(s) asked: 1 short <&>")), None),
        ],
    )
}

/// A status of two prod accounts: one in sync, one drifted.
fn status_run() -> FleetReport {
    let state = |count: i32, drift: Vec<String>| EndpointState {
        endpoint_status: "InService".into(),
        last_modified: Some("2026-12-01T10:00:00Z".into()),
        endpoint_config_name: Some("churn-prod-config".into()),
        variants: vec![VariantModel {
            variant_name: "AllTraffic".into(),
            model_name: "churn-model-3".into(),
            model_package_names: vec![PACKAGE.into()],
            serverless_memory_mb: None,
            serverless_provisioned_concurrency: None,
            instance_type: Some("ml.m5.large".into()),
            initial_instance_count: Some(count),
        }],
        data_capture_percentage: None,
        serves_package: true,
        drift,
    };
    let drift = "variant AllTraffic starts 2 instance(s), the build config asks for 1".to_owned();
    fleet_run(
        FleetCommand::Status,
        vec![
            (
                "111111111111",
                vec![
                    Check::passed("endpoint", "endpoint churn-prod is InService"),
                    Check::passed("model-package", format!("serves {PACKAGE}")),
                    Check::passed("settings", "the hosting and data capture the build config sets"),
                ],
                Some(state(1, vec![])),
            ),
            (
                "222222222222",
                vec![
                    Check::passed("endpoint", "endpoint churn-prod is InService"),
                    Check::passed("model-package", format!("serves {PACKAGE}")),
                    Check::failed("settings", format!("endpoint churn-prod serves the exported model package but not the build config's settings: {drift}")),
                ],
                Some(state(2, vec![drift])),
            ),
        ],
    )
}

type FleetTargetSpec = (&'static str, Vec<Check>, Option<EndpointState>);

fn fleet_run(command: FleetCommand, targets: Vec<FleetTargetSpec>) -> FleetReport {
    let run = RunSetup {
        build_config: "prod-config-export.json".into(),
        stage: Some("prod".into()),
        project_name: Some(PROJECT.into()),
        endpoint_name: Some("churn-prod".into()),
        model_package_name: Some(PACKAGE.into()),
        role_name: Some("sagemaker-p-1-prod-test".into()),
        session_name: Some(SESSION.into()),
        targets_from: Some("accounts_file".into()),
        accounts_file: Some("prod-accounts.json".into()),
        regions: vec!["us-east-1".into()],
        ..RunSetup::default()
    };
    let setup = FleetSetup::of(run, false);
    let mut report = FleetReport::started(TOOL.into(), command, Some(STARTED_AT.into()), setup);
    report.targets = targets
        .into_iter()
        .map(|(account, checks, endpoint)| {
            let target = Target {
                account_id: account.into(),
                region: "us-east-1".into(),
            };
            let role = format!("arn:aws:iam::{account}:role/sagemaker-p-1-prod-test");
            let mut report = FleetTarget::new(&target, "churn-prod", role);
            report.checks = checks;
            report.endpoint = endpoint;
            report.duration_seconds = 0.25;
            report
        })
        .collect();
    report.duration_seconds = 1.5;
    report.conclude();
    report
}

/// The JSON, the JUnit XML and the text of a fleet report, one after the other.
fn fleet_forms(report: &FleetReport) -> String {
    let mut text = Vec::new();
    report.print(Format::Text, &mut text).unwrap();
    let xml = fleet_junit_reports(report).concat();
    let root = junit::parse(&xml).unwrap_or_else(|e| panic!("{e}:\n{xml}"));
    assert_eq!(root.name, "testsuites");
    redacted(&format!(
        "{}\n{xml}\n{}\n{}\n",
        report.to_json(),
        String::from_utf8(text).unwrap(),
        report.summary_line()
    ))
}

#[test]
fn the_preflight_and_status_reports_match_their_snapshots() {
    let preflight = preflight_run();
    assert_eq!(preflight.exit_status(), ExitStatus::Negative);
    insta::assert_snapshot!("preflight-run", fleet_forms(&preflight));
    let status = status_run();
    assert_eq!(status.exit_status(), ExitStatus::Negative);
    insta::assert_snapshot!("status-run", fleet_forms(&status));
}
