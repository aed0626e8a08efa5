//! What AWS and the network throw at test-step's calls, through the fault proxy. The OU walk runs
//! in the pipeline's own account; AssumeRole, DescribeEndpoint and InvokeEndpoint run per target,
//! so their faults hit one staging account only (matched by account) and the others must pass.
//! A transient fault the retries absorb leaves the reports of a clean run (times aside); AccessDenied,
//! and transient faults that outlast the attempts, exit 3 with reports that say which target (or
//! the OU walk) failed, on which call, and why.
//!
//! The cells share one staging OU whose endpoints they only read, and each has its own proxy, so
//! faults and request counts never cross; they run concurrently with the documented knobs keeping
//! retries short.
//!
//! `preflight` and `status` could not read either when the OU walk or a target's AssumeRole runs
//! out of attempts: exit 3, the failing call named where the run or the target reports it.

use serde_json::Value;
use test_support::endpoints::STAGING_ROLE;
use test_support::fault_matrix::{assert_cells, CallFaults, Cell, Outcome};
use test_support::fault_proxy::{Fault, FaultKind, FaultProxy};
use test_support::{moto, CliOutput};

use crate::{Reports, Staging, Workspace, REGION, SESSION};

/// The calls each target makes with its own credentials; the others are the OU walk.
const PER_TARGET: [&str; 3] = ["AssumeRole", "DescribeEndpoint", "InvokeEndpoint"];

/// The emulator's default caller, whom AccessDenied names.
const CALLER: &str = "arn:aws:sts::123456789012:user/moto";

/// `{role}` stands for the faulted target's role ARN, `{session}` for the session name.
fn cells() -> Vec<Cell> {
    [
        CallFaults {
            call: "ListAccountsForParent",
            action: "organizations:ListAccountsForParent",
            prefix: "",
            denied_to: CALLER,
            recovered_server_error: 500,
        },
        CallFaults {
            call: "ListOrganizationalUnitsForParent",
            action: "organizations:ListOrganizationalUnitsForParent",
            prefix: "",
            denied_to: CALLER,
            recovered_server_error: 503,
        },
        CallFaults {
            call: "AssumeRole",
            action: "sts:AssumeRole",
            prefix: "cannot assume {role} (session {session}): ",
            denied_to: "the caller",
            recovered_server_error: 500,
        },
        CallFaults {
            call: "DescribeEndpoint",
            action: "sagemaker:DescribeEndpoint",
            prefix: "",
            denied_to: "the assumed role {role}",
            recovered_server_error: 503,
        },
        CallFaults {
            call: "InvokeEndpoint",
            action: "sagemaker:InvokeEndpoint",
            prefix: "case \"one-row\": ",
            denied_to: "the assumed role {role}",
            recovered_server_error: 500,
        },
    ]
    .iter()
    .flat_map(CallFaults::cells)
    .collect()
}

const PROJECT: &str = "faultmatrix";

/// The staging OU every cell tests, with the endpoints deployed, and a clean run's results.
struct Fixture {
    ou: String,
    /// The target whose per-target calls are faulted; the other two must pass.
    faulted: String,
    clean: Clean,
}

/// A run without faults: its reports with times blanked, its files and its requests.
struct Clean {
    json: String,
    xml: String,
    files: Vec<String>,
    proxy: FaultProxy,
}

impl Fixture {
    fn run(&self, ws: &Workspace, proxy: &FaultProxy, cell: Option<&Cell>) -> CliOutput {
        ws.test_step()
            .env("AWS_ENDPOINT_URL", proxy.url())
            .env("ORGANIZATIONAL_UNIT_ID", &self.ou)
            .envs(cell.map(Cell::env).unwrap_or_default())
            .args(["--invocations", "1"])
            .run()
    }
}

#[tokio::test]
async fn every_fault_on_every_call_recovers_or_fails_cleanly() {
    let staging = Staging::create("fault-matrix").await;
    let ws = Workspace::new(PROJECT);
    for account in &staging.active {
        ws.deploy(account, REGION, &ws.package).await;
    }
    let mut fixture = Fixture {
        ou: staging.ou.clone(),
        faulted: staging.active[0].clone(),
        clean: Clean {
            json: String::new(),
            xml: String::new(),
            files: Vec::new(),
            proxy: FaultProxy::start(moto()),
        },
    };
    fixture
        .run(&ws, &fixture.clean.proxy, None)
        .code(0)
        .stdout_contains("Result: PASSED (3 targets: 3 passed, 0 failed, 0 errors)");
    fixture.clean.json = timeless_json(&ws.file("test-results.json"));
    fixture.clean.xml = timeless_xml(&ws.file("test-results.xml"));
    fixture.clean.files = ws.files();
    let clean = &fixture.clean.proxy;
    assert_eq!(
        [
            clean.count_in("AssumeRole", &fixture.faulted),
            clean.count_in("DescribeEndpoint", &fixture.faulted),
            clean.count_in("InvokeEndpoint", &fixture.faulted),
            clean.count("ListAccountsForParent"),
            clean.count("ListOrganizationalUnitsForParent"),
        ],
        // One call per case; the OU and its child OU are walked.
        [1, 1, 2, 2, 2]
    );

    let cells = cells();
    assert_eq!(cells.len(), 45);
    assert_cells(&cells, 8, |cell| check(cell, &fixture));
}

fn check(cell: &Cell, fixture: &Fixture) -> Vec<String> {
    let per_target = PER_TARGET.contains(&cell.call);
    let proxy = FaultProxy::start(moto());
    proxy.inject(if per_target {
        cell.fault().in_account(&fixture.faulted)
    } else {
        cell.fault()
    });
    let ws = Workspace::new(PROJECT);
    let out = fixture.run(&ws, &proxy, Some(cell));
    let mut problems = Vec::new();
    let code = match &cell.outcome {
        Outcome::Recovers => 0,
        Outcome::Fails(_) => 3,
    };
    if out.code != Some(code) {
        problems.push(format!(
            "exit {:?}, expected {code}; stdout:\n{}\nstderr:\n{}",
            out.code, out.stdout, out.stderr
        ));
    }
    // Complete whatever happened (Reports::check panics otherwise).
    let reports = ws.reports();
    match &cell.outcome {
        Outcome::Recovers => {
            if timeless_json(&ws.file("test-results.json")) != fixture.clean.json {
                problems.push("the JSON report differs from the clean run's (times aside)".into());
            }
            if timeless_xml(&ws.file("test-results.xml")) != fixture.clean.xml {
                problems.push("the JUnit report differs from the clean run's (times aside)".into());
            }
        }
        Outcome::Fails(message) if per_target => {
            let role = format!(
                "arn:aws:iam::{}:role/sagemaker-role-staging",
                fixture.faulted
            );
            let message = message
                .replace("{role}", &role)
                .replace("{session}", SESSION);
            problems.extend(target_error(&reports, &out, &fixture.faulted, &message));
        }
        Outcome::Fails(message) => problems.extend(run_error(&reports, &out, message)),
    }
    if ws.files() != fixture.clean.files {
        problems.push(format!(
            "files {:?}, expected {:?}",
            ws.files(),
            fixture.clean.files
        ));
    }
    let (requests, clean) = if per_target {
        (
            proxy.count_in(cell.call, &fixture.faulted),
            fixture.clean.proxy.count_in(cell.call, &fixture.faulted),
        )
    } else {
        (proxy.count(cell.call), fixture.clean.proxy.count(cell.call))
    };
    if requests != cell.expected_requests(clean) {
        problems.push(format!(
            "{requests} {} requests, expected {}",
            cell.call,
            cell.expected_requests(clean)
        ));
    }
    problems
}

/// A per-target fault: that target is an `error` with `message`, in both reports and on stdout;
/// the other targets pass.
fn target_error(reports: &Reports, out: &CliOutput, faulted: &str, message: &str) -> Vec<String> {
    let mut problems = Vec::new();
    for (account, region, status) in reports.targets() {
        let expected = if account == faulted {
            "error"
        } else {
            "passed"
        };
        if status != expected {
            problems.push(format!(
                "{account} {region} is {status}, expected {expected}"
            ));
        }
    }
    let error = reports.target(faulted, REGION)["error"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    if !error.starts_with(message) {
        problems.push(format!(
            "the report's error for {faulted} is {error:?}, expected it to start with {message:?}"
        ));
    }
    for (case, junit) in reports.junit_cases(faulted, REGION) {
        let junit = junit.unwrap_or_default();
        if !junit.starts_with(&format!("error: not run: {message}")) {
            problems.push(format!("JUnit case {case} of {faulted} says {junit:?}"));
        }
    }
    if !out.stdout.contains(message) {
        problems.push(format!("stdout lacks {message:?}:\n{}", out.stdout));
    }
    let summary = "test-step: error: 1 of 3 targets could not be tested because of AWS or network errors (after retries)";
    if !out.stderr.contains(summary) {
        problems.push(format!("stderr lacks {summary:?}:\n{}", out.stderr));
    }
    problems
}

/// A fault in the OU walk: the run stops with `message` on stderr, as the report's error and as
/// the JUnit `setup` error, with no target tested.
fn run_error(reports: &Reports, out: &CliOutput, message: &str) -> Vec<String> {
    let mut problems = Vec::new();
    let json = &reports.json;
    let error = json["error"].as_str().unwrap_or_default();
    if !error.starts_with(message)
        || json["exit_code"] != 3
        || json["targets"] != Value::Array(vec![])
    {
        problems.push(format!(
            "the report has error {error:?}, exit code {}, targets {}; expected {message:?}, 3, []",
            json["exit_code"], json["targets"]
        ));
    }
    if json["error"].is_string() {
        let (_, setup) = reports.junit_setup();
        if !setup.starts_with(message) {
            problems.push(format!("the JUnit setup error is {setup:?}"));
        }
    }
    let expected = format!("test-step: error: {message}");
    if !out.stderr.contains(&expected) {
        problems.push(format!("stderr lacks {expected:?}:\n{}", out.stderr));
    }
    problems
}

/// The JSON report with what differs between two identical runs (times) blanked.
fn timeless_json(path: &std::path::Path) -> String {
    fn blank(value: &mut Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match key.as_str() {
                        "started_at" | "duration_seconds" | "wait_seconds" | "p50" | "p90"
                        | "p99" | "max" => *value = Value::Null,
                        // The first call's time; a case's `latency_ms` is an object of them.
                        "latency_ms" if value.is_number() => *value = Value::Null,
                        _ => blank(value),
                    }
                }
            }
            Value::Array(items) => items.iter_mut().for_each(blank),
            _ => {}
        }
    }
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut value: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
    blank(&mut value);
    serde_json::to_string_pretty(&value).unwrap()
}

/// The JUnit report with its `time` attributes blanked.
fn timeless_xml(path: &std::path::Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(at) = rest.find(" time=\"") {
        out.push_str(&rest[..at + 7]);
        rest = &rest[at + 7..];
        rest = &rest[rest.find('"').unwrap_or(0)..];
    }
    out.push_str(rest);
    out
}

/// A bad knob is bad input, found before any AWS call, and the reports say so.
#[test]
fn a_bad_retry_setting_is_bad_input() {
    let ws = Workspace::new("faultsbadknob");
    let message =
        "AWS_MAX_ATTEMPTS is \"0\": write a whole number from 1 to 10, or unset for the default 3";
    ws.test_step()
        .env("AWS_MAX_ATTEMPTS", "0")
        .args(["--account-id", "111111111111"])
        .run()
        .code(2)
        .stderr_contains(&format!("test-step: error: {message}"));
    let reports = ws.reports();
    assert_eq!(reports.json["error"], message);
    assert_eq!(reports.json["exit_code"], 2);
}

/// `test-step <command>` that cannot read, through a proxy throttling a call past its 3 attempts
/// (a 10 ms backoff keeps the retries short): first the OU walk, which stops the run before any
/// target, then AssumeRole in the one target, which ends it in error on `assume_check`. Both exit
/// 3, and the message names the call: on stderr, as the report's error and as the JUnit `setup`
/// case for the walk; on stdout, in the target's check and error and as the JUnit error for the
/// target.
async fn fleet_could_not_read(command: &str, staging_name: &str, assume_check: &str) {
    let staging = Staging::create(staging_name).await;
    let backoff = [(deploy_core::inputs::RETRY_INITIAL_BACKOFF.var(), "10")];

    let walk = "AWS call organizations:ListAccountsForParent failed with TooManyRequestsException: Rate exceeded";
    let proxy = FaultProxy::start(moto());
    proxy.inject(Fault::new(
        "ListAccountsForParent",
        FaultKind::Throttling,
        3,
    ));
    let ws = Workspace::new(PROJECT);
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .envs(backoff)
        .args([command])
        .run();
    out.code(3)
        .stderr_contains(&format!("test-step: error: {walk}"));
    assert_eq!(proxy.count("ListAccountsForParent"), 3, "every attempt");
    let reports = ws.fleet_reports(command);
    assert_eq!(reports.json["exit_code"], 3);
    assert_eq!(reports.json["targets"], Value::Array(vec![]));
    let error = reports.json["error"].as_str().unwrap_or_default();
    assert!(error.starts_with(walk), "{error:?}");
    let (setup, setup_error) = reports.junit_setup(command);
    assert_eq!(setup, "setup");
    assert!(setup_error.starts_with(walk), "{setup_error:?}");

    let faulted = &staging.active[0];
    let assume = format!(
        "cannot assume arn:aws:iam::{faulted}:role/{STAGING_ROLE} (session {SESSION}): AWS call sts:AssumeRole failed with Throttling: Rate exceeded"
    );
    let proxy = FaultProxy::start(moto());
    proxy.inject(Fault::new("AssumeRole", FaultKind::Throttling, 3).in_account(faulted));
    let ws = Workspace::new(PROJECT);
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .envs(backoff)
        .args([command, "--account-id", faulted])
        .run();
    out.code(3)
        .stderr_contains(&format!(
            "test-step: error: {command}: 1 of 1 targets could not be checked because of AWS or network errors (after retries)"
        ))
        .stdout_contains(&assume);
    assert_eq!(proxy.count_in("AssumeRole", faulted), 3, "every attempt");
    let reports = ws.fleet_reports(command);
    assert_eq!(reports.json["exit_code"], 3);
    assert_eq!(reports.json["error"], Value::Null);
    assert_eq!(
        reports.targets(),
        [(faulted.clone(), REGION.to_owned(), "error".to_owned())]
    );
    let checks = reports.checks(faulted, REGION);
    let (name, status, message) = &checks[0];
    assert_eq!((name.as_str(), status.as_str()), (assume_check, "error"));
    assert!(message.starts_with(&assume), "{message:?}");
    assert!(
        checks[1..].iter().all(|c| c.1 == "skipped"),
        "nothing past the role: {checks:?}"
    );
    let target_error = reports.json["targets"][0]["error"].as_str().unwrap();
    assert!(
        target_error.starts_with(&format!("{assume_check}: {assume}")),
        "{target_error:?}"
    );
    let mut errors = Vec::new();
    reports.junit.descendants("error", &mut errors);
    assert_eq!(errors.len(), 1);
    assert!(errors[0].attr("message").starts_with(&assume), "{errors:?}");
}

#[tokio::test]
async fn preflight_that_cannot_walk_the_ou_or_assume_the_role_exits_3_naming_the_call() {
    fleet_could_not_read("preflight", "fault-preflight", "assume-role").await;
}

#[tokio::test]
async fn status_that_cannot_walk_the_ou_or_assume_the_role_exits_3_naming_the_call() {
    fleet_could_not_read("status", "fault-status", "endpoint").await;
}
