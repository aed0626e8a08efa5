//! test-step's verdict (`deploy_core::verdict`): how each target's test ended, settled into its
//! report, then the run concluded and rendered. Input: bytes read through `arbitrary` into a run
//! of up to eight targets of one to four cases, each ended by any cause or run to the end with
//! any cases failed, the run stopped part way or not; or a run stopped before it could test.
//! Nothing may panic, and what passes must hold together: a target passes exactly when it ran to
//! the end with every case passed, its report has every case, the counts add up, exit 0 (and
//! `passed`, no stderr paragraph, a verdict that needs its reports) exactly when there were
//! targets, all passed and nothing stopped the run, any failed target is exit 1, and the JUnit and
//! JSON reports count what the targets hold.

#![no_main]

use std::path::Path;

use deploy_core::manifest::{Case, Expect};
use deploy_core::report::junit::{junit_reports, junit_xml, MAX_CASES_PER_REPORT};
use deploy_core::report::{
    CaseReport, CaseStatus, Report, RunStatus, Setup, TargetReport, TargetStatus,
};
use deploy_core::targets::Target;
use deploy_core::verdict::{stands_without_reports, AwsErrorKind, Cause, Outcome};
use deploy_core::{Bytes, ExitStatus, Format};
use libfuzzer_sys::arbitrary::{self, Arbitrary, Unstructured};
use libfuzzer_sys::fuzz_target;

/// One target's test: how far it got and how it ended.
#[derive(Debug)]
struct Tested {
    /// Whether each case it reached passed.
    reached: Vec<bool>,
    ended: Result<(), Cause>,
}

#[derive(Debug)]
enum Run {
    Tested {
        cases: usize,
        targets: Vec<Tested>,
        interrupted: Option<String>,
    },
    /// Stopped before testing, with this message and exit status.
    Stopped(String, ExitStatus),
}

fn cause(u: &mut Unstructured<'_>, cases: usize) -> arbitrary::Result<Cause> {
    let message: String = u.arbitrary()?;
    Ok(match u.int_in_range(0..=7)? {
        0 => Cause::NotInService(message),
        1 => Cause::ServesAnotherPackage(message),
        2 => Cause::CasesFailed {
            failed: u.int_in_range(1..=cases)?,
            cases,
        },
        3 => Cause::Aws {
            kind: *u.choose(&[
                AwsErrorKind::AccessDenied,
                AwsErrorKind::Service,
                AwsErrorKind::Network,
            ])?,
            message,
        },
        4 => Cause::Stopped { by: message },
        5 => Cause::Drifted(message),
        _ => Cause::Aborted,
    })
}

impl<'a> Arbitrary<'a> for Run {
    fn arbitrary(u: &mut Unstructured<'a>) -> arbitrary::Result<Self> {
        if u.ratio(1, 8)? {
            let status = *u.choose(&[
                ExitStatus::BadInput,
                ExitStatus::AwsError,
                ExitStatus::Interrupted,
            ])?;
            return Ok(Run::Stopped(u.arbitrary()?, status));
        }
        let cases = u.int_in_range(1..=4)?;
        let mut targets = Vec::new();
        for _ in 0..u.int_in_range(0..=8)? {
            let ran_to_the_end = u.arbitrary()?;
            let reached = if ran_to_the_end {
                cases
            } else {
                u.int_in_range(0..=cases)?
            };
            let reached = (0..reached)
                .map(|_| u.arbitrary())
                .collect::<arbitrary::Result<_>>()?;
            let ended = if ran_to_the_end {
                Ok(())
            } else {
                Err(cause(u, cases)?)
            };
            targets.push(Tested { reached, ended });
        }
        let interrupted = if u.arbitrary()? {
            Some(u.arbitrary()?)
        } else {
            None
        };
        Ok(Run::Tested {
            cases,
            targets,
            interrupted,
        })
    }
}

fn manifest(cases: usize) -> Vec<Case> {
    (0..cases)
        .map(|n| Case {
            name: format!("case-{n}"),
            body_file: format!("case-{n}.csv"),
            body: Bytes::from_static(b"1,2,3"),
            content_type: None,
            accept: None,
            expect: Expect::default(),
        })
        .collect()
}

fn started() -> Report {
    Report::started("test-step".into(), None, Setup::default())
}

/// What every concluded or stopped report must say about itself.
fn check_renderings(report: &Report) {
    let cases: usize = report.targets.iter().map(|t| t.cases.len()).sum();
    let setup = usize::from(report.error.is_some());
    let problems: usize = report
        .targets
        .iter()
        .flat_map(|t| &t.cases)
        .filter(|c| c.status != CaseStatus::Passed)
        .count();
    let xml = junit_xml(report);
    assert!(xml.starts_with("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites "));
    assert_eq!(xml.matches("<testcase ").count(), cases + setup);
    assert_eq!(
        xml.matches("<failure ").count() + xml.matches("<error ").count(),
        problems + setup
    );
    let parts = junit_reports(report);
    let split: usize = parts.iter().map(|p| p.matches("<testcase ").count()).sum();
    assert_eq!(split, cases + setup, "every case in one of the documents");
    assert!(parts
        .iter()
        .all(|p| p.matches("<testcase ").count() <= MAX_CASES_PER_REPORT));
    let json = report.to_json();
    assert!(json.starts_with("{\n") && json.ends_with("}\n"));
    assert!(json.contains(&format!("\n  \"exit_code\": {},\n", report.exit_code)));
    assert_eq!(
        json.matches("\n      \"account_id\": ").count(),
        report.targets.len()
    );
    let mut text = Vec::new();
    report.print(Format::Text, &mut text).unwrap();
    let text = String::from_utf8(text).expect("the text summary is UTF-8");
    let result = if report.status == RunStatus::Passed {
        "Result: PASSED ("
    } else {
        "Result: FAILED ("
    };
    assert!(text.contains(result), "{text}");
    assert_eq!(
        report
            .failure_paragraph(Path::new("r.json"), Path::new("r.xml"))
            .is_none(),
        report.exit_status() == ExitStatus::Success
    );
}

fuzz_target!(|run: Run| {
    let (cases, targets, interrupted) = match run {
        Run::Stopped(message, status) => {
            let mut report = started();
            report.stopped(message.clone(), status);
            assert_eq!(report.exit_status(), status);
            assert_eq!(report.status, RunStatus::Failed);
            assert_eq!(
                report.summary_line(),
                format!("no target was tested: {message}")
            );
            check_renderings(&report);
            return;
        }
        Run::Tested {
            cases,
            targets,
            interrupted,
        } => (cases, targets, interrupted),
    };
    let manifest = manifest(cases);
    let mut report = started();
    assert_ne!(
        report.exit_status(),
        ExitStatus::Success,
        "not a pass until concluded"
    );
    for (n, tested) in targets.iter().enumerate() {
        let target = Target {
            account_id: format!("{n:012}"),
            region: "us-east-1".into(),
        };
        let mut target = TargetReport::new(&target, "e", "r".into(), TargetStatus::Error);
        for (case, passed) in manifest.iter().zip(&tested.reached) {
            let mut ran = CaseReport::not_run(case, 1);
            ran.status = if *passed {
                CaseStatus::Passed
            } else {
                CaseStatus::Failed
            };
            target.cases.push(ran);
        }
        let outcome = target.settle(tested.ended.clone(), &manifest, 1);
        let all_passed = tested.reached.iter().all(|p| *p);
        assert_eq!(
            outcome == Outcome::Passed,
            tested.ended.is_ok() && all_passed,
            "{tested:?}"
        );
        if let Err(cause) = &tested.ended {
            assert_eq!(outcome.cause(), Some(cause), "a cause is kept as it came");
        }
        assert_eq!(target.status, outcome.status());
        assert_eq!(
            target.error.is_none(),
            target.status == TargetStatus::Passed
        );
        assert_eq!(target.cases.len(), cases, "every case, run or not");
        let not_run = target
            .cases
            .iter()
            .filter(|c| c.status == CaseStatus::NotRun)
            .count();
        assert_eq!(not_run, cases - tested.reached.len());
        report.targets.push(target);
    }
    report.interrupted.clone_from(&interrupted);
    report.conclude();

    let s = report.summary;
    assert_eq!(s.targets, targets.len());
    assert_eq!(s.passed + s.failed + s.errors, s.targets, "{s:?}");
    let every_target_passed = report
        .targets
        .iter()
        .all(|t| t.status == TargetStatus::Passed);
    let pass = s.targets > 0 && every_target_passed && interrupted.is_none();
    assert_eq!(report.exit_status() == ExitStatus::Success, pass, "{s:?}");
    assert_eq!(report.status == RunStatus::Passed, pass);
    if s.failed > 0 {
        assert_eq!(
            report.exit_status(),
            ExitStatus::Negative,
            "a failed target says no"
        );
    }
    assert_eq!(stands_without_reports(report.exit_status()), !pass);
    let line = report.summary_line();
    assert!(
        line.starts_with(&format!(
            "{} of {} targets passed, {} failed, {} could not be tested",
            s.passed, s.targets, s.failed, s.errors
        )),
        "{line}"
    );
    if let Some(by) = &interrupted {
        assert!(line.ends_with(&format!("; stopped by {by}")), "{line}");
    }
    check_renderings(&report);
});
