//! The verdict, in the three forms people and tools read: the JSON report (`test-results.json`,
//! one document, versioned by `schema_version`, its schema in the README), the JUnit XML report for
//! CodeBuild's `reports:` section (one test case per target x payload), and a short text or JSON
//! summary on stdout. The JSON replaces the seed's file of concatenated objects, which was not
//! valid JSON as soon as there were two accounts (B4). The reports hold statuses, timings and
//! messages; never credentials, and never a request or response body.

use std::io::Write;
use std::time::Duration;

use serde::Serialize;

use crate::exit::ExitStatus;
use crate::format::Format;
use crate::manifest::Case;
use crate::targets::Target;

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const SCHEMA_VERSION: u32 = 1;

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub schema_version: u32,
    pub tool: String,
    /// `passed` only when every target passed.
    pub status: RunStatus,
    pub exit_code: u8,
    pub started_at: Option<String>,
    pub duration_seconds: f64,
    #[serde(flatten)]
    pub setup: Setup,
    pub summary: Counts,
    pub targets: Vec<TargetReport>,
    /// Why the run stopped before it could test (bad input, AWS error); null otherwise.
    pub error: Option<String>,
    /// What stopped the run while targets were being tested (SIGTERM, SIGINT, `--deadline`); the
    /// targets it cut short are errors that say so. Null when the run finished.
    pub interrupted: Option<String>,
}

/// What was tested and how, as far as the run got: test-step fills it in while it reads its
/// inputs, so a run stopped by bad input still reports what it had read.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Setup {
    pub build_config: String,
    pub stage: Option<String>,
    pub project_name: Option<String>,
    pub endpoint_name: Option<String>,
    pub model_package_name: Option<String>,
    pub role_name: Option<String>,
    pub session_name: Option<String>,
    pub organizational_unit_id: Option<String>,
    /// Where the accounts came from: `organizational_unit`, `accounts_file` or `account_ids`.
    pub targets_from: Option<String>,
    /// The accounts file read, when the accounts came from one.
    pub accounts_file: Option<String>,
    pub regions: Vec<String>,
    pub payloads: String,
    pub invocations_per_case: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunStatus {
    Passed,
    Failed,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    pub targets: usize,
    pub passed: usize,
    pub failed: usize,
    pub errors: usize,
}

/// One account x region.
#[derive(Debug, Clone, Serialize)]
pub struct TargetReport {
    pub account_id: String,
    pub region: String,
    pub endpoint_name: String,
    pub status: TargetStatus,
    pub role_arn: String,
    pub duration_seconds: f64,
    /// The endpoint status last seen (null when it could not be described).
    pub endpoint_status: Option<String>,
    pub wait_seconds: f64,
    /// DescribeEndpoint calls made while waiting.
    pub polls: u32,
    pub model_check: Option<ModelCheck>,
    /// The target's first invocation, timed apart (null when it failed or was never made).
    pub first_call: Option<FirstCall>,
    pub cases: Vec<CaseReport>,
    /// Why the target failed or could not be tested; null when it passed.
    pub error: Option<String>,
}

/// A target's first invocation, when it succeeded. A serverless endpoint without provisioned
/// concurrency starts its compute on demand, so its first call may wait for a cold start
/// (<https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html>): that call is
/// marked `cold_start` and left out of its case's latency figures. On instances, or with
/// provisioned concurrency, it is counted like any other call and kept here for comparison.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FirstCall {
    pub case: String,
    pub latency_ms: f64,
    pub cold_start: bool,
}

impl FirstCall {
    pub fn new(case: &str, latency: Duration, cold_start: bool) -> Self {
        Self {
            case: case.to_owned(),
            latency_ms: millis(latency),
            cold_start,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TargetStatus {
    /// Endpoint InService, serving the exported package, every case met its expectations.
    Passed,
    /// The target failed its tests (exit 1).
    Failed,
    /// An AWS or network error prevented testing it (exit 3).
    Error,
}

#[derive(Debug, Clone, Serialize)]
pub struct ModelCheck {
    pub status: CheckStatus,
    pub expected_model_package: String,
    pub endpoint_config_name: String,
    pub variants: Vec<VariantModel>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckStatus {
    Passed,
    Failed,
}

#[derive(Debug, Clone, Serialize)]
pub struct VariantModel {
    pub variant_name: String,
    pub model_name: String,
    /// ModelPackageName of the model's containers (empty when it was not built from a package).
    pub model_package_names: Vec<String>,
    /// The memory of a serverless variant; null for one on instances.
    pub serverless_memory_mb: Option<i32>,
    /// Invocations a serverless variant keeps warm; null when none are (or on instances).
    pub serverless_provisioned_concurrency: Option<i32>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CaseReport {
    pub name: String,
    pub body_file: String,
    pub status: CaseStatus,
    pub invocations: u32,
    pub succeeded: u32,
    /// Time spent invoking this case (all its invocations).
    pub duration_seconds: f64,
    pub latency_ms: Option<Latency>,
    pub response_content_type: Option<String>,
    pub response_bytes: Option<usize>,
    /// Unmet expectations or the invocation error; empty when the case passed.
    pub failures: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Passed,
    Failed,
    /// The target stopped before this case (see the target's `error`).
    NotRun,
}

impl TargetReport {
    /// A report for `target` with `status` and nothing measured yet.
    pub fn new(
        target: &Target,
        endpoint_name: &str,
        role_arn: String,
        status: TargetStatus,
    ) -> Self {
        Self {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            endpoint_name: endpoint_name.to_owned(),
            status,
            role_arn,
            duration_seconds: 0.0,
            endpoint_status: None,
            wait_seconds: 0.0,
            polls: 0,
            model_check: None,
            first_call: None,
            cases: Vec::new(),
            error: None,
        }
    }
}

impl CaseReport {
    /// A case the target has not run (yet).
    pub fn not_run(case: &Case, invocations: u32) -> Self {
        Self {
            name: case.name.clone(),
            body_file: case.body_file.clone(),
            status: CaseStatus::NotRun,
            invocations,
            succeeded: 0,
            duration_seconds: 0.0,
            latency_ms: None,
            response_content_type: None,
            response_bytes: None,
            failures: Vec::new(),
        }
    }
}

/// Latency of the successful invocations, in milliseconds, nearest-rank percentiles.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Latency {
    pub count: usize,
    pub p50: f64,
    pub p90: f64,
    pub p99: f64,
    pub max: f64,
}

impl Latency {
    pub fn of(samples: &[Duration]) -> Option<Self> {
        if samples.is_empty() {
            return None;
        }
        let mut sorted = samples.to_vec();
        sorted.sort_unstable();
        let n = sorted.len();
        let rank = |p: f64| {
            let index = ((p / 100.0) * n as f64).ceil() as usize;
            millis(sorted[index.clamp(1, n) - 1])
        };
        Some(Self {
            count: n,
            p50: rank(50.0),
            p90: rank(90.0),
            p99: rank(99.0),
            max: millis(sorted[n - 1]),
        })
    }
}

fn millis(d: Duration) -> f64 {
    (d.as_secs_f64() * 1_000_000.0).round() / 1000.0
}

/// Seconds with millisecond precision, for the report.
pub fn seconds(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0).round() / 1000.0
}

impl Report {
    /// A run that has tested nothing yet: failed with exit 2 until [`Report::conclude`] or
    /// [`Report::stopped`] says otherwise, so a report written too early can never read as a pass.
    pub fn started(tool: String, started_at: Option<String>, setup: Setup) -> Self {
        Self {
            schema_version: SCHEMA_VERSION,
            tool,
            status: RunStatus::Failed,
            exit_code: ExitStatus::BadInput.code(),
            started_at,
            duration_seconds: 0.0,
            setup,
            summary: Counts::default(),
            targets: Vec::new(),
            error: None,
            interrupted: None,
        }
    }

    /// Counts the targets and sets the overall status and exit code: any failed target means 1
    /// (the answer is no, whatever else happened), else a run stopped part way means 4, else any
    /// target that could not be tested means 3, else 0.
    pub fn conclude(&mut self) {
        let mut counts = Counts {
            targets: self.targets.len(),
            ..Counts::default()
        };
        for target in &self.targets {
            match target.status {
                TargetStatus::Passed => counts.passed += 1,
                TargetStatus::Failed => counts.failed += 1,
                TargetStatus::Error => counts.errors += 1,
            }
        }
        self.summary = counts;
        let status = if counts.failed > 0 {
            ExitStatus::Negative
        } else if self.interrupted.is_some() {
            ExitStatus::Interrupted
        } else if counts.errors > 0 {
            ExitStatus::AwsError
        } else if counts.targets == 0 {
            ExitStatus::BadInput
        } else {
            ExitStatus::Success
        };
        self.set_exit(status);
    }

    /// Records a run-level failure (nothing or not everything was tested).
    pub fn stopped(&mut self, message: String, status: ExitStatus) {
        self.error = Some(message);
        self.set_exit(status);
    }

    fn set_exit(&mut self, status: ExitStatus) {
        self.exit_code = status.code();
        self.status = if status == ExitStatus::Success {
            RunStatus::Passed
        } else {
            RunStatus::Failed
        };
    }

    pub fn exit_status(&self) -> ExitStatus {
        ExitStatus::from_code(self.exit_code)
    }

    /// One line for a person deciding on production (the approval's message): the targets'
    /// verdicts and the worst p99 latency, with where it was measured.
    pub fn headline(&self) -> String {
        if let Some(error) = &self.error {
            return format!("no target was tested: {error}");
        }
        let s = &self.summary;
        let mut line = format!(
            "{} of {} targets passed, {} failed, {} could not be tested",
            s.passed, s.targets, s.failed, s.errors
        );
        let worst = self
            .targets
            .iter()
            .flat_map(|t| t.cases.iter().map(move |c| (t, c)))
            .filter_map(|(t, c)| Some((t, c.latency_ms.as_ref()?.p99)))
            .max_by(|a, b| a.1.total_cmp(&b.1));
        match worst {
            Some((target, p99)) => line.push_str(&format!(
                "; worst p99 {p99:.1} ms ({} {})",
                target.account_id, target.region
            )),
            None => line.push_str("; no latency measured"),
        }
        if let Some(interrupted) = &self.interrupted {
            line.push_str(&format!("; stopped by {interrupted}"));
        }
        line
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .expect("invariant: a report of strings, numbers and lists always serializes");
        text.push('\n');
        text
    }

    /// The summary on stdout.
    pub fn print(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Json => out.write_all(self.to_json().as_bytes()),
            Format::Text => self.print_text(out),
        }
    }

    fn print_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let unknown = || "?".to_owned();
        writeln!(
            out,
            "Endpoint {} (stage {}), model package {}",
            self.setup.endpoint_name.clone().unwrap_or_else(unknown),
            self.setup.stage.clone().unwrap_or_else(unknown),
            self.setup
                .model_package_name
                .clone()
                .unwrap_or_else(unknown)
        )?;
        for target in &self.targets {
            let status = match target.status {
                TargetStatus::Passed => "PASSED",
                TargetStatus::Failed => "FAILED",
                TargetStatus::Error => "ERROR ",
            };
            let passed = target
                .cases
                .iter()
                .filter(|c| c.status == CaseStatus::Passed)
                .count();
            let p99 = target
                .cases
                .iter()
                .filter_map(|c| c.latency_ms.map(|l| l.p99))
                .fold(None, |acc: Option<f64>, v| {
                    Some(acc.map_or(v, |a| a.max(v)))
                });
            write!(
                out,
                "  {status} {} {}: {}/{} cases passed",
                target.account_id,
                target.region,
                passed,
                target.cases.len()
            )?;
            if let Some(p99) = p99 {
                write!(out, ", p99 {p99:.1} ms")?;
            }
            if let Some(first) = target.first_call.as_ref().filter(|f| f.cold_start) {
                write!(out, ", first call {:.1} ms (cold start)", first.latency_ms)?;
            }
            if target.wait_seconds >= 1.0 {
                write!(out, ", waited {:.0} s", target.wait_seconds)?;
            }
            writeln!(out)?;
            if let Some(error) = &target.error {
                writeln!(out, "         {error}")?;
            }
            for case in target
                .cases
                .iter()
                .filter(|c| c.status == CaseStatus::Failed)
            {
                for failure in &case.failures {
                    writeln!(out, "         case {}: {failure}", case.name)?;
                }
            }
        }
        let s = &self.summary;
        writeln!(
            out,
            "Result: {} ({} targets: {} passed, {} failed, {} errors)",
            match self.status {
                RunStatus::Passed => "PASSED",
                RunStatus::Failed => "FAILED",
            },
            s.targets,
            s.passed,
            s.failed,
            s.errors
        )
    }
}

/// The most test cases CodeBuild keeps in one report; past it, it keeps the failed ones and drops
/// the rest (<https://docs.aws.amazon.com/codebuild/latest/userguide/test-report.html>).
pub const MAX_CASES_PER_REPORT: usize = 500;
/// The most report groups one CodeBuild project takes, each a report of its own per build
/// (<https://docs.aws.amazon.com/codebuild/latest/userguide/test-report-group.html>): the test
/// buildspec names this many, one JUnit file each.
pub const MAX_REPORT_GROUPS: usize = 5;

/// The JUnit XML report: one `<testsuite>` per target, one `<testcase>` per payload case. A case
/// the target never reached carries the target's reason, as a failure (the target failed) or an
/// error (it could not be tested). A run that stopped before testing has one `setup` test case.
/// This is the whole report in one document; [`junit_reports`] splits it for CodeBuild.
pub fn junit_xml(report: &Report) -> String {
    junit_parts(report, usize::MAX).swap_remove(0)
}

/// The JUnit report as CodeBuild can take it: documents of at most [`MAX_CASES_PER_REPORT`] test
/// cases each, a target's cases kept in one document whenever they fit in one. Up to 500 cases
/// this is one document, [`junit_xml`]'s.
pub fn junit_reports(report: &Report) -> Vec<String> {
    junit_parts(report, MAX_CASES_PER_REPORT)
}

/// The file of JUnit document `index` (0-based) when the first is `first`: `first` itself, then
/// `<stem>-2.<ext>`, `<stem>-3.<ext>`, … beside it.
pub fn junit_part_path(first: &std::path::Path, index: usize) -> std::path::PathBuf {
    if index == 0 {
        return first.to_owned();
    }
    let stem = first.file_stem().unwrap_or_default().to_string_lossy();
    let name = match first.extension() {
        Some(ext) => format!("{stem}-{}.{}", index + 1, ext.to_string_lossy()),
        None => format!("{stem}-{}", index + 1),
    };
    first.with_file_name(name)
}

/// What one JUnit document holds: slices of targets' cases, and the setup case.
#[derive(Default)]
struct Part {
    suites: Vec<(usize, std::ops::Range<usize>)>,
    cases: usize,
    setup: bool,
}

fn junit_parts(report: &Report, max_cases: usize) -> Vec<String> {
    let max_cases = max_cases.max(1);
    let mut parts = vec![Part::default()];
    for (index, target) in report.targets.iter().enumerate() {
        let total = target.cases.len();
        let mut start = 0;
        loop {
            let part = parts.last_mut().expect("invariant: parts starts non-empty");
            let room = max_cases - part.cases;
            let left = total - start;
            // Start a new document rather than split a target that fits in one.
            if part.cases > 0 && (room == 0 || (left > room && left <= max_cases)) {
                parts.push(Part::default());
                continue;
            }
            let take = left.min(room);
            part.suites.push((index, start..start + take));
            part.cases += take;
            start += take;
            if start == total {
                break;
            }
        }
    }
    if report.error.is_some() {
        if parts.last().is_some_and(|p| p.cases >= max_cases) {
            parts.push(Part::default());
        }
        let part = parts.last_mut().expect("invariant: parts starts non-empty");
        part.setup = true;
        part.cases += 1;
    }
    parts.iter().map(|part| render_part(report, part)).collect()
}

fn render_part(report: &Report, part: &Part) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let (mut tests, mut failures, mut errors) = (0, 0, 0);
    let mut suites = String::new();
    for (index, range) in &part.suites {
        let target = &report.targets[*index];
        let suite_name = format!(
            "{} {} {}",
            target.endpoint_name, target.account_id, target.region
        );
        let classname = format!(
            "{}.{}.{}",
            target.endpoint_name, target.account_id, target.region
        );
        let (mut suite_failures, mut suite_errors) = (0, 0);
        let mut cases = String::new();
        let slice = &target.cases[range.clone()];
        for case in slice {
            let time = case.duration_seconds;
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"{time:.3}\"",
                escape(&classname),
                escape(&case.name)
            ));
            let problem = match case.status {
                CaseStatus::Passed => None,
                CaseStatus::Failed => Some(("failure", case.failures.join("; "))),
                CaseStatus::NotRun => {
                    let reason = target.error.clone().unwrap_or_else(|| "not run".into());
                    let kind = if target.status == TargetStatus::Error {
                        "error"
                    } else {
                        "failure"
                    };
                    Some((kind, format!("not run: {reason}")))
                }
            };
            match problem {
                None => cases.push_str("/>\n"),
                Some((kind, message)) => {
                    if kind == "error" {
                        suite_errors += 1;
                    } else {
                        suite_failures += 1;
                    }
                    cases.push_str(&format!(
                        ">\n      <{kind} message=\"{}\">{}</{kind}>\n    </testcase>\n",
                        escape(&message),
                        escape(&message)
                    ));
                }
            }
        }
        tests += slice.len();
        failures += suite_failures;
        errors += suite_errors;
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{}\" failures=\"{suite_failures}\" errors=\"{suite_errors}\" skipped=\"0\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
            escape(&suite_name),
            slice.len(),
            target.duration_seconds
        ));
    }
    if let (true, Some(error)) = (part.setup, &report.error) {
        tests += 1;
        errors += 1;
        suites.push_str(&format!(
            "  <testsuite name=\"test-step\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n    <testcase classname=\"test-step\" name=\"setup\" time=\"0.000\">\n      <error message=\"{}\">{}</error>\n    </testcase>\n  </testsuite>\n",
            escape(error),
            escape(error)
        ));
    }
    xml.push_str(&format!(
        "<testsuites name=\"test-step\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        report.duration_seconds
    ));
    xml
}

/// Escapes text for an XML attribute or element, dropping characters XML 1.0 cannot carry.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            '\r' => out.push_str("&#13;"),
            '\t' => out.push_str("&#9;"),
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => out.push('\u{FFFD}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_report() -> Report {
        let mut report = Report::started(
            "test-step".into(),
            None,
            Setup {
                build_config: "staging-config-export.json".into(),
                stage: Some("staging".into()),
                project_name: Some("churn".into()),
                endpoint_name: Some("churn-staging".into()),
                model_package_name: Some("arn:aws:sagemaker:us-east-1:1:model-package/g/3".into()),
                role_name: Some("role".into()),
                session_name: None,
                organizational_unit_id: None,
                targets_from: Some("account_ids".into()),
                accounts_file: None,
                regions: vec!["us-east-1".into()],
                payloads: "test/payloads".into(),
                invocations_per_case: 1,
            },
        );
        report.duration_seconds = 1.5;
        report
    }

    fn target(account: &str, status: TargetStatus, cases: Vec<CaseReport>) -> TargetReport {
        TargetReport {
            account_id: account.into(),
            region: "us-east-1".into(),
            endpoint_name: "churn-staging".into(),
            status,
            role_arn: format!("arn:aws:iam::{account}:role/r"),
            duration_seconds: 0.25,
            endpoint_status: Some("InService".into()),
            wait_seconds: 0.0,
            polls: 1,
            model_check: None,
            first_call: None,
            cases,
            error: (status != TargetStatus::Passed).then(|| "endpoint <gone> & \"failed\"".into()),
        }
    }

    fn case(name: &str, status: CaseStatus, failures: &[&str]) -> CaseReport {
        CaseReport {
            name: name.into(),
            body_file: "b.csv".into(),
            status,
            invocations: 2,
            succeeded: 2,
            duration_seconds: 0.008,
            latency_ms: Latency::of(&[Duration::from_millis(3), Duration::from_millis(5)]),
            response_content_type: None,
            response_bytes: None,
            failures: failures.iter().map(|f| (*f).to_owned()).collect(),
        }
    }

    /// Every `(classname, name)` test case of `xml`, and the `tests` count its root declares.
    fn junit_cases(xml: &str) -> (Vec<(String, String)>, usize) {
        let attr = |tag: &str, name: &str| {
            let start = tag.find(&format!(" {name}=\"")).unwrap() + name.len() + 3;
            tag[start..].split('"').next().unwrap().to_owned()
        };
        let declared = attr(xml.split("<testsuites").nth(1).unwrap(), "tests");
        let cases = xml
            .split("<testcase")
            .skip(1)
            .map(|tag| (attr(tag, "classname"), attr(tag, "name")))
            .collect();
        (cases, declared.parse().unwrap())
    }

    /// 200 targets of three cases are 600: two documents, no case lost or repeated, none over 500,
    /// no target split; one target of 700 cases is split across two.
    #[test]
    fn junit_over_500_cases_is_split_so_codebuild_keeps_every_case() {
        let mut report = empty_report();
        report.targets = (0..200)
            .map(|n| {
                let cases = ["a", "b", "c"]
                    .map(|c| case(c, CaseStatus::Passed, &[]))
                    .to_vec();
                target(&format!("{n:012}"), TargetStatus::Passed, cases)
            })
            .collect();
        let parts = junit_reports(&report);
        assert_eq!(parts.len(), 2);
        let mut all = Vec::new();
        for part in &parts {
            let (cases, declared) = junit_cases(part);
            assert_eq!(cases.len(), declared);
            assert!(declared <= MAX_CASES_PER_REPORT, "{declared}");
            assert_eq!(declared % 3, 0, "a target's cases stay together");
            all.extend(cases);
        }
        assert_eq!(all.len(), 600);
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 600, "every case once");

        report.targets = vec![target(
            "111111111111",
            TargetStatus::Passed,
            (0..700)
                .map(|n| case(&format!("c{n}"), CaseStatus::Passed, &[]))
                .collect(),
        )];
        report.error = Some("stopped".into());
        let parts = junit_reports(&report);
        let counts: Vec<usize> = parts.iter().map(|p| junit_cases(p).1).collect();
        assert_eq!(counts, [500, 201], "the setup case follows the last");
    }

    #[test]
    fn up_to_500_cases_is_the_one_document_and_parts_are_named_beside_it() {
        let mut report = empty_report();
        report.targets = vec![target(
            "1",
            TargetStatus::Passed,
            vec![case("a", CaseStatus::Passed, &[])],
        )];
        assert_eq!(junit_reports(&report), [junit_xml(&report)]);
        let first = std::path::Path::new("reports/test-results.xml");
        assert_eq!(junit_part_path(first, 0), first);
        assert_eq!(
            junit_part_path(first, 1),
            std::path::Path::new("reports/test-results-2.xml")
        );
        assert_eq!(
            junit_part_path(std::path::Path::new("junit"), 2),
            std::path::Path::new("junit-3")
        );
    }

    #[test]
    fn the_headline_gives_the_verdicts_and_the_worst_p99() {
        let mut report = empty_report();
        report.targets = vec![
            target(
                "111111111111",
                TargetStatus::Passed,
                vec![case("a", CaseStatus::Passed, &[])],
            ),
            target("222222222222", TargetStatus::Failed, vec![]),
        ];
        report.targets[0].cases[0].latency_ms =
            Latency::of(&[Duration::from_millis(3), Duration::from_millis(12)]);
        report.conclude();
        assert_eq!(
            report.headline(),
            "1 of 2 targets passed, 1 failed, 0 could not be tested; worst p99 12.0 ms (111111111111 us-east-1)"
        );
        report.targets.truncate(1);
        report.targets[0].cases.clear();
        report.conclude();
        assert!(
            report.headline().ends_with("; no latency measured"),
            "{}",
            report.headline()
        );
        report.error = Some("no targets".into());
        assert_eq!(report.headline(), "no target was tested: no targets");
    }

    #[test]
    fn percentiles_use_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=100).rev().map(Duration::from_millis).collect();
        let l = Latency::of(&samples).unwrap();
        assert_eq!(
            (l.count, l.p50, l.p90, l.p99, l.max),
            (100, 50.0, 90.0, 99.0, 100.0)
        );
        let one = Latency::of(&[Duration::from_micros(1500)]).unwrap();
        assert_eq!((one.p50, one.p99, one.max), (1.5, 1.5, 1.5));
        assert_eq!(Latency::of(&[]), None);
    }

    #[test]
    fn the_exit_code_puts_a_failed_target_before_an_error() {
        let mut report = empty_report();
        report.targets = vec![
            target("1", TargetStatus::Passed, vec![]),
            target("2", TargetStatus::Error, vec![]),
        ];
        report.conclude();
        assert_eq!((report.exit_code, report.status), (3, RunStatus::Failed));
        report
            .targets
            .push(target("3", TargetStatus::Failed, vec![]));
        report.conclude();
        assert_eq!(report.exit_code, 1);
        assert_eq!(
            report.summary,
            Counts {
                targets: 3,
                passed: 1,
                failed: 1,
                errors: 1
            }
        );
        report.targets.retain(|t| t.status == TargetStatus::Passed);
        report.conclude();
        assert_eq!((report.exit_code, report.status), (0, RunStatus::Passed));
        report.targets.clear();
        report.conclude();
        assert_eq!(report.exit_code, 2, "zero targets is never a pass");
        report.targets = vec![
            target("1", TargetStatus::Passed, vec![]),
            target("2", TargetStatus::Error, vec![]),
        ];
        report.interrupted = Some("SIGTERM".into());
        report.conclude();
        assert_eq!(report.exit_code, 4, "a run stopped part way is not a pass");
        report
            .targets
            .push(target("3", TargetStatus::Failed, vec![]));
        report.conclude();
        assert_eq!(report.exit_code, 1, "a failed target still says no");
    }

    #[test]
    fn junit_has_one_case_per_target_and_payload_with_escaped_text() {
        let mut report = empty_report();
        report.targets = vec![
            target(
                "111111111111",
                TargetStatus::Failed,
                vec![
                    case("ok", CaseStatus::Passed, &[]),
                    case(
                        "bad <one>",
                        CaseStatus::Failed,
                        &["/p is 2 & more", "x\u{1}y"],
                    ),
                ],
            ),
            target(
                "222222222222",
                TargetStatus::Error,
                vec![
                    case("ok", CaseStatus::NotRun, &[]),
                    case("bad <one>", CaseStatus::NotRun, &[]),
                ],
            ),
        ];
        report.conclude();
        let xml = junit_xml(&report);
        assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"test-step\" tests=\"4\" failures=\"1\" errors=\"2\""), "{xml}");
        assert_eq!(xml.matches("<testcase ").count(), 4);
        assert!(xml.contains("name=\"bad &lt;one&gt;\""), "{xml}");
        assert!(xml.contains("/p is 2 &amp; more; x\u{FFFD}y"), "{xml}");
        assert!(
            xml.contains(
                "<error message=\"not run: endpoint &lt;gone&gt; &amp; &quot;failed&quot;\""
            ),
            "{xml}"
        );
        assert!(!xml.contains('\u{1}'));
    }

    #[test]
    fn a_stopped_run_has_one_setup_case() {
        let mut report = empty_report();
        report.stopped("bad <manifest>".into(), ExitStatus::BadInput);
        let xml = junit_xml(&report);
        assert!(
            xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""),
            "{xml}"
        );
        assert!(xml.contains("<testcase classname=\"test-step\" name=\"setup\""));
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(json["status"], "failed");
        assert_eq!(json["exit_code"], 2);
        assert_eq!(json["error"], "bad <manifest>");
        assert_eq!(json["schema_version"], SCHEMA_VERSION);
    }

    #[test]
    fn the_text_summary_names_each_target_and_failure() {
        let mut report = empty_report();
        report.targets = vec![
            target(
                "111111111111",
                TargetStatus::Passed,
                vec![case("ok", CaseStatus::Passed, &[])],
            ),
            target(
                "222222222222",
                TargetStatus::Failed,
                vec![case("bad", CaseStatus::Failed, &["/p is 2"])],
            ),
        ];
        report.conclude();
        let mut out = Vec::new();
        report.print(Format::Text, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("PASSED 111111111111 us-east-1: 1/1 cases passed, p99 5.0 ms"),
            "{text}"
        );
        assert!(
            text.contains("FAILED 222222222222 us-east-1: 0/1 cases passed"),
            "{text}"
        );
        assert!(text.contains("case bad: /p is 2"), "{text}");
        assert!(
            text.ends_with("Result: FAILED (2 targets: 1 passed, 1 failed, 0 errors)\n"),
            "{text}"
        );
    }

    #[test]
    fn a_cold_start_is_shown_beside_the_latency_it_is_kept_out_of() {
        let mut report = empty_report();
        let mut serverless = target(
            "111111111111",
            TargetStatus::Passed,
            vec![case("ok", CaseStatus::Passed, &[])],
        );
        serverless.first_call = Some(FirstCall::new("ok", Duration::from_micros(812_500), true));
        let mut instances = serverless.clone();
        instances.account_id = "222222222222".into();
        instances.first_call = Some(FirstCall::new("ok", Duration::from_millis(4), false));
        report.targets = vec![serverless, instances];
        report.conclude();
        let mut out = Vec::new();
        report.print(Format::Text, &mut out).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            text.contains("111111111111 us-east-1: 1/1 cases passed, p99 5.0 ms, first call 812.5 ms (cold start)\n"),
            "{text}"
        );
        assert!(
            text.contains("222222222222 us-east-1: 1/1 cases passed, p99 5.0 ms\n"),
            "{text}"
        );
        let json: serde_json::Value = serde_json::from_str(&report.to_json()).unwrap();
        assert_eq!(
            json["targets"][0]["first_call"],
            serde_json::json!({"case": "ok", "latency_ms": 812.5, "cold_start": true})
        );
    }
}
