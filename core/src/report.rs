//! The report of a run: the one model the three forms people and tools read are rendered from.
//! The JSON report (`test-results.json`, one document, versioned by `schema_version`, its schema
//! in docs/reports.md) is [`json`]; the JUnit XML report for CodeBuild's `reports:` section (one test
//! case per target x payload) is [`junit`]; the short text summary on stdout is [`text`]. The JSON
//! replaces the seed's file of concatenated objects, which was not valid JSON as soon as there
//! were two accounts (B4). The reports hold statuses, timings and messages; never credentials, and
//! never a request or response body. What passes, and so every status, count and exit code here,
//! is [`crate::verdict`]'s.

use std::time::Duration;

use serde::Serialize;

use crate::exit::ExitStatus;
use crate::manifest::Case;
use crate::targets::Target;

pub mod json;
pub mod junit;
pub mod text;

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
    #[serde(flatten)]
    pub run: RunSetup,
    pub payloads: String,
    pub invocations_per_case: u32,
}

/// What every command of test-step reads before it reaches a target (the test, `preflight`,
/// `status`): the build config and what it says, whom to become, where.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RunSetup {
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
    /// The endpoint config's data capture sampling percentage; null when capture is off.
    pub data_capture_percentage: Option<i32>,
    /// How the endpoint's settings differ from the build config's (instance type and count,
    /// serverless memory, data capture), one line each; empty when they match.
    pub drift: Vec<String>,
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
    /// The instance type of a variant on instances; null for a serverless one.
    pub instance_type: Option<String>,
    /// The instances the endpoint config starts the variant with (autoscaling may run more).
    pub initial_instance_count: Option<i32>,
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
}

/// Report values the tests of every rendering and of the verdict build on.
#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A run of project churn in us-east-1 that has tested nothing yet, 1.5 s long.
    pub(crate) fn empty_report() -> Report {
        let mut report = Report::started(
            "test-step".into(),
            None,
            Setup {
                run: RunSetup {
                    build_config: "staging-config-export.json".into(),
                    stage: Some("staging".into()),
                    project_name: Some("churn".into()),
                    endpoint_name: Some("churn-staging".into()),
                    model_package_name: Some(
                        "arn:aws:sagemaker:us-east-1:1:model-package/g/3".into(),
                    ),
                    role_name: Some("role".into()),
                    session_name: None,
                    organizational_unit_id: None,
                    targets_from: Some("account_ids".into()),
                    accounts_file: None,
                    regions: vec!["us-east-1".into()],
                },
                payloads: "test/payloads".into(),
                invocations_per_case: 1,
            },
        );
        report.duration_seconds = 1.5;
        report
    }

    pub(crate) fn target(
        account: &str,
        status: TargetStatus,
        cases: Vec<CaseReport>,
    ) -> TargetReport {
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

    pub(crate) fn case(name: &str, status: CaseStatus, failures: &[&str]) -> CaseReport {
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
}
