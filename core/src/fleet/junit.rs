//! The JUnit XML of a preflight or status run: one `<testsuite>` per target, one `<testcase>` per
//! check (a skipped check is `<skipped>`, and a `<failure>` under `--strict`), split like the
//! test's report into documents of at most [`MAX_CASES_PER_REPORT`] cases, a target's checks
//! kept together, so CodeBuild keeps every one.

use crate::fleet::{CheckOutcome, FleetReport, FleetTarget};
use crate::report::junit::{escape, MAX_CASES_PER_REPORT};

/// The documents of the report, in order (the first for `--junit-report`, the next beside it as
/// `crate::report::junit::junit_part_path` names them).
pub fn fleet_junit_reports(report: &FleetReport) -> Vec<String> {
    let mut parts: Vec<Vec<&FleetTarget>> = vec![Vec::new()];
    let mut cases = 0;
    for target in &report.targets {
        let size = target.checks.len().max(1);
        if cases > 0 && cases + size > MAX_CASES_PER_REPORT {
            parts.push(Vec::new());
            cases = 0;
        }
        parts
            .last_mut()
            .expect("invariant: parts starts non-empty")
            .push(target);
        cases += size;
    }
    let last = parts.len() - 1;
    parts
        .iter()
        .enumerate()
        .map(|(index, targets)| render(report, targets, index == last))
        .collect()
}

fn render(report: &FleetReport, targets: &[&FleetTarget], with_setup: bool) -> String {
    let command = report.command.name();
    let (mut tests, mut failures, mut errors, mut skipped) = (0, 0, 0, 0);
    let mut suites = String::new();
    for target in targets {
        let classname = format!(
            "{command}.{}.{}.{}",
            target.endpoint_name, target.account_id, target.region
        );
        let (mut s_failures, mut s_errors, mut s_skipped) = (0, 0, 0);
        let mut cases = String::new();
        for check in &target.checks {
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"{}\" time=\"0.000\"",
                escape(&classname),
                escape(&check.name)
            ));
            let message = escape(&check.message);
            let element = match check.status {
                CheckOutcome::Passed => None,
                CheckOutcome::Skipped if report.setup.strict => {
                    s_failures += 1;
                    Some(format!(
                        "<failure message=\"skipped under --strict: {message}\">{message}</failure>"
                    ))
                }
                CheckOutcome::Skipped => {
                    s_skipped += 1;
                    Some(format!("<skipped message=\"{message}\"/>"))
                }
                CheckOutcome::Failed => {
                    s_failures += 1;
                    Some(format!(
                        "<failure message=\"{message}\">{message}</failure>"
                    ))
                }
                CheckOutcome::Error => {
                    s_errors += 1;
                    Some(format!("<error message=\"{message}\">{message}</error>"))
                }
            };
            match element {
                None => cases.push_str("/>\n"),
                Some(element) => {
                    cases.push_str(&format!(">\n      {element}\n    </testcase>\n"));
                }
            }
        }
        if target.checks.is_empty() {
            let message = escape(target.error.as_deref().unwrap_or("no check was run"));
            s_errors += 1;
            cases.push_str(&format!(
                "    <testcase classname=\"{}\" name=\"checks\" time=\"0.000\">\n      <error message=\"{message}\">{message}</error>\n    </testcase>\n",
                escape(&classname)
            ));
        }
        let count = target.checks.len().max(1);
        tests += count;
        failures += s_failures;
        errors += s_errors;
        skipped += s_skipped;
        suites.push_str(&format!(
            "  <testsuite name=\"{}\" tests=\"{count}\" failures=\"{s_failures}\" errors=\"{s_errors}\" skipped=\"{s_skipped}\" time=\"{:.3}\">\n{cases}  </testsuite>\n",
            escape(&format!("{command} {} {} {}", target.endpoint_name, target.account_id, target.region)),
            target.duration_seconds
        ));
    }
    if let (true, Some(error)) = (with_setup, &report.error) {
        tests += 1;
        errors += 1;
        let message = escape(error);
        suites.push_str(&format!(
            "  <testsuite name=\"{command}\" tests=\"1\" failures=\"0\" errors=\"1\" skipped=\"0\" time=\"0.000\">\n    <testcase classname=\"{command}\" name=\"setup\" time=\"0.000\">\n      <error message=\"{message}\">{message}</error>\n    </testcase>\n  </testsuite>\n"
        ));
    }
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"test-step {command}\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{:.3}\">\n{suites}</testsuites>\n",
        report.duration_seconds
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::tests::report;
    use crate::fleet::{Check, Command};

    #[test]
    fn each_check_is_a_case_and_skipped_ones_fail_only_under_strict() {
        let checks = vec![
            Check::passed("assume-role", "ok"),
            Check::skipped("capacity", "denied <quota>"),
            Check::failed("endpoint-name", "taken & \"by hand\""),
        ];
        let xml = &fleet_junit_reports(&report(Command::Preflight, false, vec![checks.clone()]))[0];
        assert!(
            xml.contains("tests=\"3\" failures=\"1\" errors=\"0\" skipped=\"1\""),
            "{xml}"
        );
        assert!(
            xml.contains("<skipped message=\"denied &lt;quota&gt;\"/>"),
            "{xml}"
        );
        assert!(xml.contains("taken &amp; &quot;by hand&quot;"), "{xml}");
        let strict = &fleet_junit_reports(&report(Command::Preflight, true, vec![checks]))[0];
        assert!(
            strict.contains("failures=\"2\" errors=\"0\" skipped=\"0\""),
            "{strict}"
        );
    }

    #[test]
    fn past_500_cases_the_report_is_split_keeping_a_targets_checks_together() {
        let checks: Vec<Check> = (0..7)
            .map(|i| Check::passed(&format!("c{i}"), "ok"))
            .collect();
        let report = report(Command::Preflight, false, vec![checks; 100]);
        let parts = fleet_junit_reports(&report);
        assert_eq!(parts.len(), 2);
        assert!(parts[0].contains("<testsuites name=\"test-step preflight\" tests=\"497\""));
        assert!(parts[1].contains("tests=\"203\""));
    }

    #[test]
    fn a_stopped_run_has_a_setup_case() {
        let mut report = report(Command::Status, false, vec![]);
        report.stopped("bad input".into(), crate::exit::ExitStatus::BadInput);
        let xml = &fleet_junit_reports(&report)[0];
        assert!(xml.contains("name=\"setup\""), "{xml}");
        assert!(
            xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""),
            "{xml}"
        );
    }
}
