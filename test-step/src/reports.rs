//! What every run does with its reports, whichever command ran: the time it starts as they show
//! it, the rule for a report that cannot be written (a pass without its reports is no pass, any
//! other verdict stands), and [`Finished`], the reports of a run that got as far as its targets
//! with the files they were written to, as `deploy_shell::finish` prints them.

use std::time::SystemTime;

use deploy_core::files::WriteError;
use deploy_core::fleet::FleetReport;
use deploy_core::report::Report;
use deploy_core::verdict::stands_without_reports;
use deploy_core::{ExitStatus, Format};
use deploy_shell::finish::Summary;

use crate::config::{Rendered, ReportFiles};
use crate::error::TestError;

/// A run that got as far as its targets, with its reports on disk.
pub struct Finished(Reported);

/// The report of the command that ran, and where it was written.
enum Reported {
    Test {
        report: Report,
        files: ReportFiles,
    },
    Fleet {
        report: FleetReport,
        files: ReportFiles,
    },
}

impl Finished {
    /// A test run's report, written to `files`.
    pub(crate) fn test(report: Report, files: ReportFiles) -> Self {
        Self(Reported::Test { report, files })
    }

    /// A `preflight` or `status` run's report, written to `files`.
    pub(crate) fn fleet(report: FleetReport, files: ReportFiles) -> Self {
        Self(Reported::Fleet { report, files })
    }
}

impl Summary for Finished {
    fn print(&self, format: Format, out: &mut dyn std::io::Write) -> std::io::Result<()> {
        match &self.0 {
            Reported::Test { report, .. } => report.print(format, out),
            Reported::Fleet { report, .. } => report.print(format, out),
        }
    }

    fn exit_status(&self) -> ExitStatus {
        match &self.0 {
            Reported::Test { report, .. } => report.exit_status(),
            Reported::Fleet { report, .. } => report.exit_status(),
        }
    }

    /// The one-paragraph message for stderr when targets did not all pass.
    fn failure(&self) -> Option<String> {
        match &self.0 {
            Reported::Test { report, files } => report.failure_paragraph(&files.json, &files.junit),
            Reported::Fleet { report, files } => {
                report.failure_paragraph(&files.json, &files.junit)
            }
        }
    }
}

/// The time a run starts, as the reports show it.
pub(crate) fn started_at() -> Option<String> {
    aws_smithy_types::DateTime::from(SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .ok()
}

/// Writes the reports of a run that stopped early; a failure to is logged, the stop's error is
/// what the run ends with.
pub(crate) fn write_stopped(files: &ReportFiles, report: impl Into<Rendered>) {
    if let Err(write_err) = files.write(report) {
        tracing::error!("{}", TestError::from(write_err));
    }
}

/// What a failed report write does to a finished run: a pass without its reports is not a pass
/// (exit 2), but a verdict of failed or untested targets stands (logged, the code kept); the rule
/// is `deploy_core::verdict::stands_without_reports`.
pub(crate) fn keep_verdict(
    exit: ExitStatus,
    written: Result<(), WriteError>,
) -> Result<(), TestError> {
    match written {
        Err(err) if !stands_without_reports(exit) => Err(err.into()),
        Err(err) => {
            tracing::error!(
                "{}; the exit code still says what the run found",
                TestError::from(err)
            );
            Ok(())
        }
        Ok(()) => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use deploy_core::report::{Setup, TargetReport, TargetStatus};
    use deploy_core::targets::Target;
    use deploy_shell::finish::Failure;

    use super::*;

    fn concluded(status: TargetStatus) -> Report {
        let mut report = Report::started("test-step".into(), None, Setup::default());
        let target = Target {
            account_id: "111111111111".into(),
            region: "us-east-1".into(),
        };
        report.targets = vec![TargetReport::new(&target, "e", "r".into(), status)];
        report.conclude();
        report
    }

    fn write_failed() -> Result<(), WriteError> {
        Err(WriteError {
            path: "test-results.json".into(),
            source: std::io::Error::other("disk full"),
        })
    }

    #[test]
    fn a_report_that_cannot_be_written_keeps_the_verdict_unless_it_was_a_pass() {
        let exit = |status| concluded(status).exit_status();
        assert!(keep_verdict(exit(TargetStatus::Failed), write_failed()).is_ok());
        assert!(keep_verdict(exit(TargetStatus::Error), write_failed()).is_ok());
        let pass = keep_verdict(exit(TargetStatus::Passed), write_failed()).unwrap_err();
        assert_eq!(pass.exit_status(), ExitStatus::BadInput);
        assert!(keep_verdict(exit(TargetStatus::Passed), Ok(())).is_ok());
    }
}
