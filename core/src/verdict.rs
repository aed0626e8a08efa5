//! The verdict: what passes, decided here and nowhere else. test-step's stages end a target's
//! test short of passing with a typed [`Cause`] (not in service, serving another package, an AWS
//! error of a kind, stopped); a test that ran to the end passes unless a case failed. From the
//! [`Outcome`] follow the target's status and error and the cases it did not reach
//! ([`TargetReport::settle`]); from the targets' statuses the run's counts, status and exit code
//! ([`Report::conclude`], [`run_exit`]); from the report the paragraph on stderr
//! ([`Report::failure_paragraph`]) and the one line the production approval shows
//! ([`Report::summary_line`], exported as TEST_SUMMARY); and whether a verdict stands when its
//! reports cannot be written ([`stands_without_reports`]). Changing what passes is one edit
//! here, tested in milliseconds below and fuzzed (`fuzz/fuzz_targets/verdict.rs`).
//!
//! `test-step preflight` and `status` judge checks, not tests: a target of theirs is settled from
//! its checks by [`crate::fleet::FleetTarget::settle`], and the run's exit code follows from the
//! targets' statuses by the same [`run_exit`] as a test run's.

use std::fmt;
use std::path::Path;

use crate::exit::ExitStatus;
use crate::manifest::Case;
use crate::report::{
    CaseReport, CaseStatus, Counts, Report, RunStatus, TargetReport, TargetStatus,
};

/// The kind of AWS error that kept a target from being tested.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AwsErrorKind {
    /// A role lacks a permission: the build's role to assume the staging role, or the staging
    /// role for a SageMaker call.
    AccessDenied,
    /// AWS answered with another error code after the SDK's retries (throttling, an internal
    /// error, an answer without what it always returns).
    Service,
    /// No answer came, after the SDK's retries (the network, a timeout).
    Network,
}

/// Why a target did not pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cause {
    /// The endpoint is missing, in a state that will not serve (Failed, RollingBack,
    /// OutOfService), still Creating or Updating at `--wait-timeout`, or InService without an
    /// endpoint config. The message says which.
    NotInService(String),
    /// The endpoint does not serve the exported model package: a variant serves another package
    /// or none, or its endpoint config or model does not exist. The message names what it serves.
    ServesAnotherPackage(String),
    /// The endpoint serves the exported package with settings other than the build config's
    /// (`crate::drift`): an update rolled back, or a change by hand. The message names each.
    Drifted(String),
    /// Every case was run, and `failed` of the `cases` did not meet their expectations.
    CasesFailed { failed: usize, cases: usize },
    /// An AWS or network error, after the SDK's retries, kept the target from being tested.
    Aws { kind: AwsErrorKind, message: String },
    /// The run was stopped before the target finished, `by` a signal or `--deadline`.
    Stopped { by: String },
    /// The target's test ended unexpectedly (the log says how).
    Aborted,
}

impl Cause {
    /// `failed` when the answer is no (the endpoint or its answers are wrong), `error` when the
    /// target could not be tested.
    pub fn status(&self) -> TargetStatus {
        match self {
            Cause::NotInService(_)
            | Cause::ServesAnotherPackage(_)
            | Cause::Drifted(_)
            | Cause::CasesFailed { .. } => TargetStatus::Failed,
            Cause::Aws { .. } | Cause::Stopped { .. } | Cause::Aborted => TargetStatus::Error,
        }
    }
}

/// The target's `error` in the reports.
impl fmt::Display for Cause {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cause::NotInService(message)
            | Cause::ServesAnotherPackage(message)
            | Cause::Drifted(message)
            | Cause::Aws { message, .. } => f.write_str(message),
            Cause::CasesFailed { failed, cases } => {
                write!(f, "{failed} of {cases} payload cases failed")
            }
            Cause::Stopped { by } => write!(f, "interrupted by {by} before this target finished"),
            Cause::Aborted => {
                f.write_str("the test of this target stopped unexpectedly (see the log)")
            }
        }
    }
}

/// How one target's test ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// InService, serving the exported package, and every case met its expectations.
    Passed,
    DidNotPass(Cause),
}

impl Outcome {
    /// The outcome of a test that `ended` so (`Ok`: every stage ran to the end) with `cases`
    /// reported: a test that ran to the end passed only if every case passed.
    pub fn of(ended: Result<(), Cause>, cases: &[CaseReport]) -> Self {
        if let Err(cause) = ended {
            return Outcome::DidNotPass(cause);
        }
        let failed = cases
            .iter()
            .filter(|c| c.status != CaseStatus::Passed)
            .count();
        if failed == 0 {
            Outcome::Passed
        } else {
            Outcome::DidNotPass(Cause::CasesFailed {
                failed,
                cases: cases.len(),
            })
        }
    }

    pub fn status(&self) -> TargetStatus {
        self.cause().map_or(TargetStatus::Passed, Cause::status)
    }

    pub fn cause(&self) -> Option<&Cause> {
        match self {
            Outcome::Passed => None,
            Outcome::DidNotPass(cause) => Some(cause),
        }
    }
}

impl TargetReport {
    /// Ends the report of a target whose test `ended` so: every case of the manifest (`cases`)
    /// it did not reach is added as not run, so the report always has every case; then the
    /// target's status and error follow from its outcome, which is returned.
    pub fn settle(
        &mut self,
        ended: Result<(), Cause>,
        cases: &[Case],
        invocations: u32,
    ) -> Outcome {
        for case in cases.iter().skip(self.cases.len()) {
            self.cases.push(CaseReport::not_run(case, invocations));
        }
        let outcome = Outcome::of(ended, &self.cases);
        self.status = outcome.status();
        self.error = outcome.cause().map(ToString::to_string);
        outcome
    }
}

impl Counts {
    /// The targets, counted by status.
    pub fn of(targets: &[TargetReport]) -> Self {
        Self::of_statuses(targets.iter().map(|t| t.status))
    }

    /// Targets of these statuses, counted (the test's, or `preflight`'s and `status`'s).
    pub fn of_statuses(statuses: impl Iterator<Item = TargetStatus>) -> Self {
        let mut counts = Counts::default();
        for status in statuses {
            counts.targets += 1;
            match status {
                TargetStatus::Passed => counts.passed += 1,
                TargetStatus::Failed => counts.failed += 1,
                TargetStatus::Error => counts.errors += 1,
            }
        }
        counts
    }
}

/// The exit status of a run that tested its targets: any failed target means 1 (the answer is
/// no, whatever else happened), else a run stopped part way means 4, else any target that could
/// not be tested means 3, else no target at all means 2 (never a pass), else 0.
pub fn run_exit(counts: Counts, interrupted: bool) -> ExitStatus {
    if counts.failed > 0 {
        ExitStatus::Negative
    } else if interrupted {
        ExitStatus::Interrupted
    } else if counts.errors > 0 {
        ExitStatus::AwsError
    } else if counts.targets == 0 {
        ExitStatus::BadInput
    } else {
        ExitStatus::Success
    }
}

impl RunStatus {
    /// `passed` for exit 0 alone.
    pub fn of(exit: ExitStatus) -> Self {
        if exit == ExitStatus::Success {
            RunStatus::Passed
        } else {
            RunStatus::Failed
        }
    }
}

/// The run-level methods every report kind shares, written once: the test report ([`Report`])
/// and the fleet reports ([`crate::fleet::FleetReport`]) carry the same `status`, `exit_code` and
/// `error` fields, set by the same rules, and are written as JSON the same way
/// ([`crate::report::json::to_json`]). Expanded inside each kind's `impl` block.
macro_rules! run_report_methods {
    () => {
        /// Records a run-level failure (nothing, or not everything, was tested or checked).
        pub fn stopped(&mut self, message: String, status: $crate::exit::ExitStatus) {
            self.error = Some(message);
            self.set_exit(status);
        }

        fn set_exit(&mut self, status: $crate::exit::ExitStatus) {
            self.exit_code = status.code();
            self.status = $crate::report::RunStatus::of(status);
        }

        pub fn exit_status(&self) -> $crate::exit::ExitStatus {
            $crate::exit::ExitStatus::from_code(self.exit_code)
        }

        /// The JSON report ([`crate::report::json`]).
        pub fn to_json(&self) -> String {
            $crate::report::json::to_json(self)
        }
    };
}
pub(crate) use run_report_methods;

/// Whether a finished run's verdict stands when its reports could not be written: a pass without
/// its reports is not a pass (the run ends with exit 2), but failed or untested targets keep
/// their code, since the pipeline must stop either way and the code is what tells it why.
pub fn stands_without_reports(exit: ExitStatus) -> bool {
    exit != ExitStatus::Success
}

impl Report {
    /// Counts the targets and sets the run's status and exit code ([`run_exit`]).
    pub fn conclude(&mut self) {
        self.summary = Counts::of(&self.targets);
        self.set_exit(run_exit(self.summary, self.interrupted.is_some()));
    }

    run_report_methods!();

    /// The one paragraph for stderr of a concluded run whose targets did not all pass, pointing
    /// at the reports written to `json` and `junit`; `None` for a pass.
    pub fn failure_paragraph(&self, json: &Path, junit: &Path) -> Option<String> {
        let s = &self.summary;
        let see = format!("see {} and {}", json.display(), junit.display());
        match self.exit_status() {
            ExitStatus::Success => None,
            ExitStatus::Negative => Some(format!(
                "{} of {} targets failed their tests{}; {see}",
                s.failed,
                s.targets,
                if s.errors > 0 {
                    format!(" and {} could not be tested", s.errors)
                } else {
                    String::new()
                }
            )),
            ExitStatus::Interrupted => Some(format!(
                "stopped by {} before every target finished: {} of {} targets passed, the others are reported as interrupted or could not be tested; {see}",
                self.interrupted.as_deref().unwrap_or("a signal"),
                s.passed,
                s.targets
            )),
            ExitStatus::AwsError | ExitStatus::BadInput => Some(format!(
                "{} of {} targets could not be tested because of AWS or network errors (after retries); {see}",
                s.errors, s.targets
            )),
        }
    }

    /// One line for a person deciding on production (the approval's message, TEST_SUMMARY): the
    /// targets' verdicts and the worst p99 latency, with where it was measured.
    pub fn summary_line(&self) -> String {
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
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::manifest::Expect;
    use crate::report::tests::{case, empty_report, target};
    use crate::report::Latency;
    use crate::targets::Target;

    fn manifest_case(name: &str) -> Case {
        Case {
            name: name.into(),
            body_file: format!("{name}.csv"),
            body: crate::Bytes::from_static(b"1,2,3"),
            content_type: Some("text/csv".into()),
            accept: None,
            expect: Expect::default(),
        }
    }

    fn blank() -> TargetReport {
        let target = Target {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
        };
        TargetReport::new(&target, "churn-staging", "r".into(), TargetStatus::Error)
    }

    fn aws(kind: AwsErrorKind) -> Cause {
        Cause::Aws {
            kind,
            message: "AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: slow"
                .into(),
        }
    }

    /// Every cause, and what it means for the target.
    fn every_cause() -> Vec<(Cause, TargetStatus, &'static str)> {
        vec![
            (
                Cause::NotInService("endpoint e is Failed: no image".into()),
                TargetStatus::Failed,
                "endpoint e is Failed: no image",
            ),
            (
                Cause::ServesAnotherPackage("endpoint e does not serve p".into()),
                TargetStatus::Failed,
                "endpoint e does not serve p",
            ),
            (
                Cause::CasesFailed {
                    failed: 1,
                    cases: 2,
                },
                TargetStatus::Failed,
                "1 of 2 payload cases failed",
            ),
            (
                aws(AwsErrorKind::AccessDenied),
                TargetStatus::Error,
                "AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: slow",
            ),
            (
                aws(AwsErrorKind::Service),
                TargetStatus::Error,
                "AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: slow",
            ),
            (
                aws(AwsErrorKind::Network),
                TargetStatus::Error,
                "AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: slow",
            ),
            (
                Cause::Stopped {
                    by: "SIGTERM".into(),
                },
                TargetStatus::Error,
                "interrupted by SIGTERM before this target finished",
            ),
            (
                Cause::Aborted,
                TargetStatus::Error,
                "the test of this target stopped unexpectedly (see the log)",
            ),
        ]
    }

    #[test]
    fn a_cause_decides_the_targets_status_and_error() {
        for (cause, status, error) in every_cause() {
            assert_eq!(cause.status(), status, "{cause:?}");
            assert_eq!(cause.to_string(), error);
            let outcome = Outcome::DidNotPass(cause.clone());
            assert_eq!(outcome.status(), status);
            assert_eq!(outcome.cause(), Some(&cause));
        }
        assert_eq!(Outcome::Passed.status(), TargetStatus::Passed);
        assert_eq!(Outcome::Passed.cause(), None);
    }

    #[test]
    fn a_test_that_ran_to_the_end_passes_only_if_every_case_passed() {
        let passed = [case("a", CaseStatus::Passed, &[])];
        assert_eq!(Outcome::of(Ok(()), &passed), Outcome::Passed);
        let one_failed = [
            case("a", CaseStatus::Passed, &[]),
            case("b", CaseStatus::Failed, &["/p is 2"]),
        ];
        assert_eq!(
            Outcome::of(Ok(()), &one_failed),
            Outcome::DidNotPass(Cause::CasesFailed {
                failed: 1,
                cases: 2
            })
        );
        let stopped = Cause::Stopped {
            by: "SIGINT".into(),
        };
        assert_eq!(
            Outcome::of(Err(stopped.clone()), &passed),
            Outcome::DidNotPass(stopped),
            "a cause wins over the cases run before it"
        );
    }

    #[test]
    fn settling_fills_the_cases_not_reached_and_sets_status_and_error() {
        let cases = [manifest_case("first"), manifest_case("second")];
        let mut report = blank();
        report.cases.push(case("first", CaseStatus::Passed, &[]));
        let outcome = report.settle(Err(aws(AwsErrorKind::Network)), &cases, 3);
        assert_eq!(outcome, Outcome::DidNotPass(aws(AwsErrorKind::Network)));
        assert_eq!(report.status, TargetStatus::Error);
        assert_eq!(
            report.error.as_deref(),
            Some("AWS call sagemaker:DescribeEndpoint failed with ThrottlingException: slow")
        );
        let statuses: Vec<_> = report
            .cases
            .iter()
            .map(|c| (c.name.as_str(), c.status))
            .collect();
        assert_eq!(
            statuses,
            [
                ("first", CaseStatus::Passed),
                ("second", CaseStatus::NotRun)
            ]
        );
        assert_eq!(report.cases[1].invocations, 3);

        let mut report = blank();
        report.cases = vec![
            case("first", CaseStatus::Passed, &[]),
            case("second", CaseStatus::Passed, &[]),
        ];
        assert_eq!(report.settle(Ok(()), &cases, 1), Outcome::Passed);
        assert_eq!((report.status, report.error), (TargetStatus::Passed, None));

        let mut report = blank();
        let outcome = report.settle(
            Err(Cause::Stopped {
                by: "SIGTERM".into(),
            }),
            &cases,
            1,
        );
        assert_eq!(outcome.status(), TargetStatus::Error);
        assert!(report.cases.iter().all(|c| c.status == CaseStatus::NotRun));
        assert_eq!(report.cases.len(), 2, "every case, run or not");
    }

    /// Every mix of up to three targets, run to the end or stopped: exit 0 exactly when there
    /// is a target, every target passed and nothing stopped the run; the counts add up; and only
    /// a run that is not a pass has a paragraph for stderr.
    #[test]
    fn exit_0_is_every_target_passed_and_nothing_else() {
        let statuses = [
            TargetStatus::Passed,
            TargetStatus::Failed,
            TargetStatus::Error,
        ];
        let mut mixes = Vec::new();
        for len in 0..=3_u32 {
            for n in 0..3_usize.pow(len) {
                let mix: Vec<TargetStatus> =
                    (0..len).map(|i| statuses[n / 3_usize.pow(i) % 3]).collect();
                mixes.push(mix);
            }
        }
        assert_eq!(mixes.len(), 1 + 3 + 9 + 27);
        for mix in &mixes {
            for interrupted in [None, Some("SIGTERM".to_owned())] {
                let mut report = empty_report();
                report.targets = mix.iter().map(|s| target("1", *s, vec![])).collect();
                report.interrupted.clone_from(&interrupted);
                report.conclude();
                let s = report.summary;
                assert_eq!(s.passed + s.failed + s.errors, s.targets);
                assert_eq!(s.targets, mix.len());
                let pass = !mix.is_empty()
                    && mix.iter().all(|s| *s == TargetStatus::Passed)
                    && interrupted.is_none();
                assert_eq!(report.exit_code == 0, pass, "{mix:?} {interrupted:?}");
                assert_eq!(report.status == RunStatus::Passed, pass);
                let paragraph = report.failure_paragraph(Path::new("r.json"), Path::new("r.xml"));
                assert_eq!(paragraph.is_none(), pass);
                assert_eq!(stands_without_reports(report.exit_status()), !pass);
                assert!(report.summary_line().starts_with(&format!(
                    "{} of {} targets passed, {} failed, {} could not be tested",
                    s.passed, s.targets, s.failed, s.errors
                )));
            }
        }
    }

    #[test]
    fn the_failure_paragraph_says_what_happened_and_where_the_reports_are() {
        let (json, junit) = (Path::new("out/r.json"), Path::new("out/r.xml"));
        let mut report = empty_report();
        report.targets = vec![
            target("1", TargetStatus::Passed, vec![]),
            target("2", TargetStatus::Failed, vec![]),
            target("3", TargetStatus::Error, vec![]),
        ];
        report.conclude();
        assert_eq!(
            report.failure_paragraph(json, junit).as_deref(),
            Some("1 of 3 targets failed their tests and 1 could not be tested; see out/r.json and out/r.xml")
        );
        report.targets.remove(2);
        report.conclude();
        assert_eq!(
            report.failure_paragraph(json, junit).as_deref(),
            Some("1 of 2 targets failed their tests; see out/r.json and out/r.xml")
        );
        report.targets[1].status = TargetStatus::Error;
        report.conclude();
        assert_eq!(
            report.failure_paragraph(json, junit).as_deref(),
            Some("1 of 2 targets could not be tested because of AWS or network errors (after retries); see out/r.json and out/r.xml")
        );
        report.interrupted = Some("SIGINT (Ctrl-C)".into());
        report.conclude();
        assert_eq!(
            report.failure_paragraph(json, junit).as_deref(),
            Some("stopped by SIGINT (Ctrl-C) before every target finished: 1 of 2 targets passed, the others are reported as interrupted or could not be tested; see out/r.json and out/r.xml")
        );
        report.targets.truncate(1);
        report.interrupted = None;
        report.conclude();
        assert_eq!(report.failure_paragraph(json, junit), None);
    }

    #[test]
    fn a_pass_does_not_stand_without_its_reports_and_a_no_does() {
        assert!(!stands_without_reports(ExitStatus::Success));
        for status in [
            ExitStatus::Negative,
            ExitStatus::BadInput,
            ExitStatus::AwsError,
            ExitStatus::Interrupted,
        ] {
            assert!(stands_without_reports(status), "{status:?}");
        }
    }

    #[test]
    fn the_summary_line_gives_the_verdicts_and_the_worst_p99() {
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
            report.summary_line(),
            "1 of 2 targets passed, 1 failed, 0 could not be tested; worst p99 12.0 ms (111111111111 us-east-1)"
        );
        report.targets.truncate(1);
        report.targets[0].cases.clear();
        report.conclude();
        assert!(
            report.summary_line().ends_with("; no latency measured"),
            "{}",
            report.summary_line()
        );
        report.error = Some("no targets".into());
        assert_eq!(report.summary_line(), "no target was tested: no targets");
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
}
