//! The report of `test-step preflight` and `test-step status`: what each target of a stage is
//! ready for before a deploy, and what it serves after one. Both are lists of named checks per
//! target, each `passed`, `failed`, `skipped` (the role may not run it, or there is nothing to
//! check) or `error` (AWS or the network failed after retries), so one model, one verdict and one
//! set of renderings serve both: the JSON document (`preflight-results.json`,
//! `status-results.json`; schema in docs/reports.md), the JUnit XML ([`junit`], one test case per
//! check) and the text for people ([`text`]: the checks, or the fleet's table for `status`).
//!
//! The verdict: a target with a failed check is `failed` (so is one with a skipped check under
//! `--strict`), else one with a check in error is `error`, else `passed`; the run's exit code
//! follows `crate::verdict::run_exit` (1 before 4 before 3), the test's own rule.

use serde::Serialize;

use crate::exit::ExitStatus;
use crate::report::{Counts, RunSetup, RunStatus, TargetStatus, VariantModel};
use crate::targets::Target;
use crate::verdict::run_exit;

pub mod junit;
pub mod text;

/// Bumped when a field changes meaning or disappears (adding fields does not bump it).
pub const FLEET_SCHEMA_VERSION: u32 = 1;

/// Which question the run answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    /// Is every target ready for the stage's deploy?
    Preflight,
    /// What does every target serve, and is it what the build config says?
    Status,
}

impl Command {
    pub fn name(self) -> &'static str {
        match self {
            Command::Preflight => "preflight",
            Command::Status => "status",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FleetReport {
    pub schema_version: u32,
    pub tool: String,
    pub command: Command,
    /// `passed` only when every target passed.
    pub status: RunStatus,
    pub exit_code: u8,
    pub started_at: Option<String>,
    pub duration_seconds: f64,
    #[serde(flatten)]
    pub setup: FleetSetup,
    pub summary: FleetCounts,
    pub targets: Vec<FleetTarget>,
    /// Why the run stopped before it could check (bad input, AWS error); null otherwise.
    pub error: Option<String>,
    /// What stopped the run while targets were being checked; null when it finished.
    pub interrupted: Option<String>,
}

/// What was checked, as far as the run got: the test report's setup without the payloads.
#[derive(Debug, Clone, Default, Serialize)]
pub struct FleetSetup {
    #[serde(flatten)]
    pub run: RunSetup,
    /// `--strict`: a skipped check fails its target.
    pub strict: bool,
}

impl FleetSetup {
    /// The setup the inputs filled in, and whether skipped checks fail.
    pub fn of(run: RunSetup, strict: bool) -> Self {
        Self { run, strict }
    }
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FleetCounts {
    #[serde(flatten)]
    pub targets: Counts,
    /// Checks skipped across every target (the role may not run them, or nothing to check).
    pub skipped_checks: usize,
}

/// One account x region.
#[derive(Debug, Clone, Serialize)]
pub struct FleetTarget {
    pub account_id: String,
    pub region: String,
    pub endpoint_name: String,
    pub role_arn: String,
    pub status: TargetStatus,
    pub duration_seconds: f64,
    pub checks: Vec<Check>,
    /// What the endpoint serves (`status` only; null when it could not be described or for
    /// `preflight`).
    pub endpoint: Option<EndpointState>,
    /// The failed and errored checks' messages, joined; null when the target passed.
    pub error: Option<String>,
}

/// One named check of a target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    pub name: String,
    pub status: CheckOutcome,
    /// One line naming the account, region, role or resource, and for a failure the fix.
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CheckOutcome {
    Passed,
    Failed,
    /// Not run: the role may not run it (the message says which call was denied), or what it
    /// checks is absent. Fails the target under `--strict`.
    Skipped,
    /// AWS or the network failed after retries: the answer is unknown.
    Error,
}

impl Check {
    pub fn new(name: &str, status: CheckOutcome, message: impl Into<String>) -> Self {
        Self {
            name: name.to_owned(),
            status,
            message: message.into(),
        }
    }

    pub fn passed(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, CheckOutcome::Passed, message)
    }

    pub fn failed(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, CheckOutcome::Failed, message)
    }

    pub fn skipped(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, CheckOutcome::Skipped, message)
    }

    pub fn error(name: &str, message: impl Into<String>) -> Self {
        Self::new(name, CheckOutcome::Error, message)
    }
}

/// What an endpoint serves, as `status` found it.
#[derive(Debug, Clone, Serialize)]
pub struct EndpointState {
    pub endpoint_status: String,
    /// When the endpoint last changed (DescribeEndpoint's LastModifiedTime, RFC 3339).
    pub last_modified: Option<String>,
    pub endpoint_config_name: Option<String>,
    pub variants: Vec<VariantModel>,
    /// The data capture sampling percentage; null when capture is off.
    pub data_capture_percentage: Option<i32>,
    /// Every variant serves the build config's model package.
    pub serves_package: bool,
    /// How the settings differ from the build config's; empty when they match.
    pub drift: Vec<String>,
}

impl FleetTarget {
    /// A target with no check run yet.
    pub fn new(target: &Target, endpoint_name: &str, role_arn: String) -> Self {
        Self {
            account_id: target.account_id.clone(),
            region: target.region.clone(),
            endpoint_name: endpoint_name.to_owned(),
            role_arn,
            status: TargetStatus::Error,
            duration_seconds: 0.0,
            checks: Vec::new(),
            endpoint: None,
            error: None,
        }
    }

    /// Sets the target's status and error from its checks (see the module doc).
    pub fn settle(&mut self, strict: bool) {
        let failing = |c: &&Check| {
            c.status == CheckOutcome::Failed || (strict && c.status == CheckOutcome::Skipped)
        };
        let failed: Vec<&Check> = self.checks.iter().filter(failing).collect();
        let errors: Vec<&Check> = self
            .checks
            .iter()
            .filter(|c| c.status == CheckOutcome::Error)
            .collect();
        self.status = if !failed.is_empty() {
            TargetStatus::Failed
        } else if !errors.is_empty() || self.checks.is_empty() {
            TargetStatus::Error
        } else {
            TargetStatus::Passed
        };
        let problems: Vec<String> = failed
            .iter()
            .chain(&errors)
            .map(|c| format!("{}: {}", c.name, c.message))
            .collect();
        self.error = match (problems.is_empty(), self.checks.is_empty()) {
            (_, true) => Some("no check was run".to_owned()),
            (true, false) => None,
            (false, false) => Some(problems.join("; ")),
        };
    }
}

impl FleetReport {
    /// A run that has checked nothing yet: failed with exit 2 until concluded or stopped.
    pub fn started(
        tool: String,
        command: Command,
        started_at: Option<String>,
        setup: FleetSetup,
    ) -> Self {
        Self {
            schema_version: FLEET_SCHEMA_VERSION,
            tool,
            command,
            status: RunStatus::Failed,
            exit_code: ExitStatus::BadInput.code(),
            started_at,
            duration_seconds: 0.0,
            setup,
            summary: FleetCounts::default(),
            targets: Vec::new(),
            error: None,
            interrupted: None,
        }
    }

    /// Settles every target, counts them and sets the run's status and exit code.
    pub fn conclude(&mut self) {
        let strict = self.setup.strict;
        for target in &mut self.targets {
            target.settle(strict);
        }
        let counts = Counts::of_statuses(self.targets.iter().map(|t| t.status));
        self.summary = FleetCounts {
            targets: counts,
            skipped_checks: self
                .targets
                .iter()
                .flat_map(|t| &t.checks)
                .filter(|c| c.status == CheckOutcome::Skipped)
                .count(),
        };
        self.set_exit(run_exit(counts, self.interrupted.is_some()));
    }

    crate::verdict::run_report_methods!();

    /// What a target short of passing is called in messages.
    fn not_good(&self) -> &'static str {
        match self.command {
            Command::Preflight => "not ready",
            Command::Status => "not serving what the build config says",
        }
    }

    /// One line for a person (the approval's message beside the test summary): the verdicts,
    /// and the first targets short of passing with their checks.
    pub fn summary_line(&self) -> String {
        let command = self.command.name();
        if let Some(error) = &self.error {
            return format!("{command}: no target was checked: {error}");
        }
        let s = &self.summary.targets;
        let mut line = format!(
            "{command}: {} of {} targets passed, {} {}, {} could not be checked",
            s.passed,
            s.targets,
            s.failed,
            self.not_good(),
            s.errors
        );
        let short: Vec<String> = self
            .targets
            .iter()
            .filter(|t| t.status != TargetStatus::Passed)
            .take(3)
            .map(|t| {
                let names: Vec<&str> = t
                    .checks
                    .iter()
                    .filter(|c| {
                        c.status == CheckOutcome::Failed
                            || c.status == CheckOutcome::Error
                            || (self.setup.strict && c.status == CheckOutcome::Skipped)
                    })
                    .map(|c| c.name.as_str())
                    .collect();
                format!("{} {} ({})", t.account_id, t.region, names.join(", "))
            })
            .collect();
        if !short.is_empty() {
            line.push_str(&format!("; {}", short.join(", ")));
            if s.failed + s.errors > short.len() {
                line.push_str(", ...");
            }
        }
        if self.summary.skipped_checks > 0 {
            line.push_str(&format!("; {} checks skipped", self.summary.skipped_checks));
        }
        if let Some(interrupted) = &self.interrupted {
            line.push_str(&format!("; stopped by {interrupted}"));
        }
        line
    }

    /// The one paragraph for stderr when targets did not all pass, pointing at the reports.
    pub fn failure_paragraph(
        &self,
        json: &std::path::Path,
        junit: &std::path::Path,
    ) -> Option<String> {
        let s = &self.summary.targets;
        let see = format!("see {} and {}", json.display(), junit.display());
        let command = self.command.name();
        match self.exit_status() {
            ExitStatus::Success => None,
            ExitStatus::Negative => {
                let first = self
                    .targets
                    .iter()
                    .find(|t| t.status == TargetStatus::Failed)
                    .and_then(|t| {
                        Some(format!(
                            " (first: account {} region {}: {})",
                            t.account_id,
                            t.region,
                            t.error.as_deref()?
                        ))
                    })
                    .unwrap_or_default();
                Some(format!(
                    "{command}: {} of {} targets are {}{first}; {see}",
                    s.failed,
                    s.targets,
                    self.not_good()
                ))
            }
            ExitStatus::Interrupted => Some(format!(
                "{command}: stopped by {} before every target was checked: {} of {} passed; {see}",
                self.interrupted.as_deref().unwrap_or("a signal"),
                s.passed,
                s.targets
            )),
            ExitStatus::AwsError | ExitStatus::BadInput => Some(format!(
                "{command}: {} of {} targets could not be checked because of AWS or network errors (after retries); {see}",
                s.errors, s.targets
            )),
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn report(command: Command, strict: bool, targets: Vec<Vec<Check>>) -> FleetReport {
        let run = RunSetup {
            build_config: "prod-config-export.json".into(),
            stage: Some("prod".into()),
            endpoint_name: Some("churn-prod".into()),
            regions: vec!["us-east-1".into()],
            ..RunSetup::default()
        };
        let setup = FleetSetup::of(run, strict);
        let mut report = FleetReport::started("test-step".into(), command, None, setup);
        report.targets = targets
            .into_iter()
            .enumerate()
            .map(|(index, checks)| {
                let target = Target {
                    account_id: format!("{}", 111_111_111_111u64 * (index as u64 + 1)),
                    region: "us-east-1".into(),
                };
                let mut t = FleetTarget::new(&target, "churn-prod", "arn:aws:iam::1:role/r".into());
                t.checks = checks;
                t
            })
            .collect();
        report.duration_seconds = 0.5;
        report.conclude();
        report
    }

    #[test]
    fn a_failed_check_fails_the_target_and_the_run_with_exit_1_naming_it() {
        let report = report(
            Command::Preflight,
            false,
            vec![
                vec![Check::passed("assume-role", "ok")],
                vec![
                    Check::passed("assume-role", "ok"),
                    Check::failed("capacity", "quota 2, in use 2, asked 1"),
                ],
            ],
        );
        assert_eq!(report.exit_status(), ExitStatus::Negative);
        assert_eq!(report.targets[1].status, TargetStatus::Failed);
        assert_eq!(
            report.targets[1].error.as_deref(),
            Some("capacity: quota 2, in use 2, asked 1")
        );
        assert_eq!(
            report.summary_line(),
            "preflight: 1 of 2 targets passed, 1 not ready, 0 could not be checked; 222222222222 us-east-1 (capacity)"
        );
        let paragraph = report
            .failure_paragraph("p.json".as_ref(), "p.xml".as_ref())
            .unwrap();
        assert_eq!(paragraph, "preflight: 1 of 2 targets are not ready (first: account 222222222222 region us-east-1: capacity: quota 2, in use 2, asked 1); see p.json and p.xml");
    }

    #[test]
    fn a_skipped_check_passes_unless_strict() {
        let checks = vec![
            Check::passed("assume-role", "ok"),
            Check::skipped("capacity", "servicequotas:ListServiceQuotas was denied"),
        ];
        let lenient = report(Command::Preflight, false, vec![checks.clone()]);
        assert_eq!(lenient.exit_status(), ExitStatus::Success);
        assert_eq!(lenient.summary.skipped_checks, 1);
        assert!(lenient.summary_line().ends_with("; 1 checks skipped"));
        let strict = report(Command::Preflight, true, vec![checks]);
        assert_eq!(strict.exit_status(), ExitStatus::Negative);
        assert_eq!(
            strict.targets[0].error.as_deref(),
            Some("capacity: servicequotas:ListServiceQuotas was denied")
        );
    }

    #[test]
    fn an_error_without_a_failure_is_exit_3_and_no_check_at_all_is_an_error() {
        let report = report(
            Command::Status,
            false,
            vec![vec![Check::error("endpoint", "throttled")], vec![]],
        );
        assert_eq!(report.exit_status(), ExitStatus::AwsError);
        assert_eq!(report.targets[1].error.as_deref(), Some("no check was run"));
    }
}
