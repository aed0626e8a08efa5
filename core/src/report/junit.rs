//! The JUnit XML report for CodeBuild's `reports:` section: one `<testsuite>` per target, one
//! `<testcase>` per payload case, written by hand (the format is small and fixed, and every value
//! goes through `escape`). A report of more than [`MAX_CASES_PER_REPORT`] cases is split into
//! several documents so CodeBuild keeps every case.

use crate::report::{CaseStatus, Report, TargetStatus};

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
pub(crate) fn escape(text: &str) -> String {
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
    use crate::exit::ExitStatus;
    use crate::report::tests::{case, empty_report, target};
    use crate::report::SCHEMA_VERSION;

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
}
