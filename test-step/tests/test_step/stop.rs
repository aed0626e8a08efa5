//! Stopping early: CodeBuild stops a timed-out build with SIGTERM, a person presses Ctrl-C, or
//! `--deadline` passes. Every staging endpoint's DescribeEndpoint is held by the fault proxy, so
//! each target is mid-call when the stop comes; the run must end within 5 s with both reports
//! written, every target an error that says it was interrupted, and exit 4. `preflight` and
//! `status` stop the same way, their targets held in AssumeRole and DescribeEndpoint. A stop
//! that comes while every target is matching a costly `body_regex` against a large answer ends
//! the run just as promptly.

use std::time::{Duration, Instant};

use deploy_core::body_regex::BodyRegex;
use test_support::endpoints::{deploy_endpoint, queue_json_answers};
use test_support::fault_proxy::{Fault, FaultKind, FaultProxy};
use test_support::{moto, Cli, CliOutput};

use crate::{Reports, Staging, Workspace, REGION};

/// The staging OU with its endpoints deployed, behind a proxy that holds every `held` call.
async fn staging_holding(name: &str, held: &str) -> (Staging, Workspace, FaultProxy) {
    let staging = Staging::create(name).await;
    let ws = Workspace::new(&name.replace('-', ""));
    for account in &staging.active {
        ws.deploy(account, REGION, &ws.package).await;
    }
    let proxy = FaultProxy::start(moto());
    proxy.inject(Fault::new(held, FaultKind::Timeout, 1_000));
    (staging, ws, proxy)
}

/// The staging OU with its endpoints deployed, behind a proxy that holds every DescribeEndpoint.
async fn held_staging(name: &str) -> (Staging, Workspace, FaultProxy) {
    staging_holding(name, "DescribeEndpoint").await
}

/// Waits until every target has a DescribeEndpoint held (or 20 s pass).
fn until_every_target_waits(proxy: &FaultProxy, targets: usize) {
    let give_up = Instant::now() + Duration::from_secs(20);
    while proxy.count("DescribeEndpoint") < targets && Instant::now() < give_up {
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn assert_interrupted(out: &CliOutput, reports: &Reports, staging: &Staging, by: &str) {
    out.code(4)
        .stderr_contains(&format!("test-step: error: stopped by {by}"));
    assert_eq!(reports.json["exit_code"], 4);
    assert_eq!(reports.json["status"], "failed");
    assert!(
        reports.json["interrupted"]
            .as_str()
            .unwrap()
            .starts_with(by),
        "{}",
        reports.json["interrupted"]
    );
    let expected: Vec<(String, String, String)> = staging
        .active
        .iter()
        .map(|a| (a.clone(), REGION.to_owned(), "error".to_owned()))
        .collect();
    assert_eq!(reports.targets(), expected);
    for account in &staging.active {
        let error = reports.target(account, REGION)["error"]
            .as_str()
            .unwrap()
            .to_owned();
        assert!(
            error.starts_with(&format!("interrupted by {by}"))
                && error.ends_with("before this target finished"),
            "{error}"
        );
        for (case, junit) in reports.junit_cases(account, REGION) {
            let junit = junit.unwrap_or_default();
            assert!(
                junit.starts_with("error: not run: interrupted by"),
                "{case}: {junit}"
            );
        }
    }
}

/// A run stopped by `signal` once every target waits: its output and how long it took to end.
async fn stopped_by(name: &str, signal: &str) -> (Staging, Workspace, CliOutput, Duration) {
    let (staging, ws, proxy) = held_staging(name).await;
    let running = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .env("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "100")
        .args(["--invocations", "1"])
        .spawn();
    until_every_target_waits(&proxy, staging.active.len());
    let stopped_at = Instant::now();
    running.signal(signal);
    let out = running.wait();
    (staging, ws, out, stopped_at.elapsed())
}

#[tokio::test]
async fn sigterm_ends_the_run_within_5_s_with_both_reports_and_every_target_interrupted() {
    let (staging, ws, out, took) = stopped_by("stop-sigterm", "TERM").await;
    assert!(took < Duration::from_secs(5), "took {took:?} after SIGTERM");
    assert_interrupted(&out, &ws.reports(), &staging, "SIGTERM");
}

#[tokio::test]
async fn sigint_is_a_stop_too() {
    let (staging, ws, out, _) = stopped_by("stop-sigint", "INT").await;
    assert_interrupted(&out, &ws.reports(), &staging, "SIGINT");
}

#[tokio::test]
async fn the_deadline_bounds_the_whole_run() {
    let (staging, ws, proxy) = held_staging("stop-deadline").await;
    let started = Instant::now();
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .env("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "100")
        .args(["--invocations", "1", "--deadline", "4s"])
        .run();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(9),
        "took {took:?} with a 4 s deadline"
    );
    assert_interrupted(&out, &ws.reports(), &staging, "the --deadline of 4s");
}

/// `test-step <command>` on the staging OU with every `held` call held by the proxy, and a 4 s
/// deadline: it ends within seconds with exit 4, its reports written, saying what stopped it,
/// and every target an error because it was not finished.
async fn fleet_stopped_by_the_deadline(name: &str, command: &str, held: &str) {
    let (staging, ws, proxy) = staging_holding(name, held).await;
    let started = Instant::now();
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .env("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "100")
        .args([command, "--deadline", "4s"])
        .run();
    let took = started.elapsed();
    assert!(
        took < Duration::from_secs(9),
        "took {took:?} with a 4 s deadline"
    );
    // The run was waiting on the held call in every target when the deadline came.
    for account in &staging.active {
        assert!(proxy.count_in(held, account) >= 1, "no {held} in {account}");
    }
    let by = "the --deadline of 4s";
    out.code(4).stderr_contains(&format!(
        "test-step: error: {command}: stopped by {by} before every target was checked: 0 of 3 passed; see {command}-results.json and {command}-results.xml"
    ));
    let reports = ws.fleet_reports(command);
    let json = &reports.json;
    assert_eq!(json["exit_code"], 4);
    assert_eq!(json["status"], "failed");
    assert_eq!(json["error"], serde_json::Value::Null);
    assert!(
        json["interrupted"].as_str().unwrap().starts_with(by),
        "{}",
        json["interrupted"]
    );
    let expected: Vec<(String, String, String)> = staging
        .active
        .iter()
        .map(|a| (a.clone(), REGION.to_owned(), "error".to_owned()))
        .collect();
    assert_eq!(reports.targets(), expected);
    let not_finished = format!("not finished: stopped by {by}");
    for account in &staging.active {
        assert_eq!(
            reports.checks(account, REGION),
            [(
                "finished".to_owned(),
                "error".to_owned(),
                not_finished.clone()
            )]
        );
    }
    let mut errors = Vec::new();
    reports.junit.descendants("error", &mut errors);
    assert_eq!(errors.len(), staging.active.len());
    for error in errors {
        assert_eq!(error.attr("message"), not_finished);
    }
}

#[tokio::test]
async fn the_deadline_stops_preflight_while_every_assume_role_is_held() {
    fleet_stopped_by_the_deadline("stop-preflight", "preflight", "AssumeRole").await;
}

#[tokio::test]
async fn the_deadline_stops_status_while_every_describe_endpoint_is_held() {
    fleet_stopped_by_the_deadline("stop-status", "status", "DescribeEndpoint").await;
}

/// A `body_regex` as costly as the bounds let through on [`SLOW_ANSWER`]: it compiles to about
/// 2 KB, and the compiled size times the answer's length is about 92 % of `MAX_MATCH_WORK` (the
/// next larger nesting, [`TOO_COSTLY_PATTERN`], is over it and not matched at all). The answer is
/// all `a`s and has no `b`, so the whole answer is scanned.
const SLOW_PATTERN: &str = "(?:a{1,5}){1,5}b";
const TOO_COSTLY_PATTERN: &str = "(?:a{1,6}){1,5}b";
/// Bytes of every endpoint's answer.
const SLOW_ANSWER: usize = 3_500_000;
/// How much later than the stop the run may end.
const PROMPTLY: Duration = Duration::from_secs(3);

/// How long matching [`SLOW_PATTERN`] against the whole answer takes in this build, timed on a
/// sixteenth of it (the time grows with the length). Checks on the way that validation accepts
/// the pattern and that it is the costliest such nesting still matched against this answer.
fn slow_match_time(answer: &str) -> Duration {
    let regex = BodyRegex::new(SLOW_PATTERN).expect("validation accepts SLOW_PATTERN");
    let too_costly = BodyRegex::new(TOO_COSTLY_PATTERN).expect("validation accepts it too");
    assert!(
        too_costly.is_match(answer).is_err(),
        "{TOO_COSTLY_PATTERN} is matched"
    );
    let started = Instant::now();
    assert_eq!(regex.is_match(&answer[..answer.len() / 16]), Ok(false));
    started.elapsed() * 16
}

/// The staging OU with its endpoints deployed, each answering `answer`, a manifest whose one case
/// expects [`SLOW_PATTERN`], and a proxy that records the calls.
async fn staging_answering(name: &str, answer: &str) -> (Staging, Workspace, FaultProxy) {
    let staging = Staging::create(name).await;
    let ws = Workspace::new(&name.replace('-', ""));
    for account in &staging.active {
        deploy_endpoint(moto(), account, REGION, &ws.endpoint(), &ws.package).await;
        queue_json_answers(moto(), account, REGION, &[answer]);
    }
    ws.write(
        "test/payloads/manifest.json",
        serde_json::json!({"cases": [{
            "name": "slow-match",
            "body": "one-row.csv",
            "content_type": "text/csv",
            "expect": {"body_regex": SLOW_PATTERN}
        }]})
        .to_string(),
    );
    (staging, ws, FaultProxy::start(moto()))
}

/// Waits until every target's InvokeEndpoint has been answered and says when; `None` when 60 s
/// pass first.
fn until_every_answer_arrives(proxy: &FaultProxy, targets: usize) -> Option<Instant> {
    let give_up = Instant::now() + Duration::from_secs(60);
    while Instant::now() < give_up {
        let answered = proxy
            .calls()
            .iter()
            .filter(|call| call.operation == "InvokeEndpoint" && call.status == 200)
            .count();
        if answered >= targets {
            return Some(Instant::now());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

/// `test-step` on the staging OU through the proxy, one invocation per case, with `args`.
fn run_through(proxy: &FaultProxy, staging: &Staging, ws: &Workspace, args: &[&str]) -> Cli {
    ws.test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .args(["--invocations", "1"])
        .args(args.iter().copied())
}

#[tokio::test]
async fn the_deadline_stops_a_run_while_every_target_matches_a_costly_body_regex() {
    let answer = "a".repeat(SLOW_ANSWER);
    let matching = slow_match_time(&answer);
    let deadline = Duration::from_secs(4);
    let (staging, ws, proxy) = staging_answering("stop-regex-deadline", &answer).await;
    let started = Instant::now();
    let running = run_through(&proxy, &staging, &ws, &["--deadline", "4s"]).spawn();
    let answered = until_every_answer_arrives(&proxy, staging.active.len());
    let out = running.wait();
    let took = started.elapsed();
    let answered = answered
        .unwrap_or_else(|| panic!("not every target was answered:\n{}", out.stderr))
        .duration_since(started);
    // The deadline fell mid-match: every answer had come a second before it, and the matches
    // would have gone on well past the time allowed.
    assert!(
        answered + Duration::from_secs(1) < deadline,
        "the answers came {answered:?} after the start"
    );
    assert!(
        answered + matching > deadline + 2 * PROMPTLY,
        "matching takes only {matching:?} here, the answers came after {answered:?}"
    );
    assert!(
        took < deadline + PROMPTLY,
        "took {took:?} with a 4 s deadline (the match takes {matching:?})"
    );
    assert_interrupted(&out, &ws.reports(), &staging, "the --deadline of 4s");
}

#[tokio::test]
async fn sigterm_stops_a_run_while_every_target_matches_a_costly_body_regex() {
    let answer = "a".repeat(SLOW_ANSWER);
    let matching = slow_match_time(&answer);
    let (staging, ws, proxy) = staging_answering("stop-regex-sigterm", &answer).await;
    let running = run_through(&proxy, &staging, &ws, &[]).spawn();
    let answered = until_every_answer_arrives(&proxy, staging.active.len());
    // A second into the matches, which go on well past the time allowed.
    std::thread::sleep(Duration::from_secs(1));
    assert!(
        matching > Duration::from_secs(1) + 2 * PROMPTLY,
        "matching takes only {matching:?} here"
    );
    let stopped_at = Instant::now();
    running.signal("TERM");
    let out = running.wait();
    let took = stopped_at.elapsed();
    assert!(
        answered.is_some(),
        "not every target was answered:\n{}",
        out.stderr
    );
    assert!(
        took < PROMPTLY,
        "took {took:?} after SIGTERM (the match takes {matching:?})"
    );
    assert_interrupted(&out, &ws.reports(), &staging, "SIGTERM");
}
