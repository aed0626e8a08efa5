//! The summary on stdout: a few lines a person reads in the build log (the run, one line per
//! target with its failures under it, the result), or with `--output json` the JSON report.

use std::io::Write;

use crate::format::Format;
use crate::report::{CaseStatus, Report, RunStatus, TargetStatus};

impl Report {
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
            self.setup.run.endpoint_name.clone().unwrap_or_else(unknown),
            self.setup.run.stage.clone().unwrap_or_else(unknown),
            self.setup
                .run
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::report::tests::{case, empty_report, target};
    use crate::report::FirstCall;

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
