//! What a person reads on stdout: for `preflight`, each target's verdict with its failed and
//! skipped checks under it; for `status`, the fleet as a table (one row per target: the
//! endpoint's status, the package version(s) it serves, how it is hosted, when it last changed
//! and the verdict) with the reasons under it. `--output json` prints the JSON report instead.

use std::io::Write;

use crate::drift::hosting;
use crate::fleet::{CheckOutcome, Command, FleetReport, FleetTarget};
use crate::format::Format;
use crate::report::TargetStatus;

impl FleetReport {
    /// The summary on stdout.
    pub fn print(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Json => out.write_all(self.to_json().as_bytes()),
            Format::Text => {
                let unknown = || "?".to_owned();
                writeln!(
                    out,
                    "{} of endpoint {} (stage {}), model package {}",
                    self.command.name(),
                    self.setup.run.endpoint_name.clone().unwrap_or_else(unknown),
                    self.setup.run.stage.clone().unwrap_or_else(unknown),
                    self.setup
                        .run
                        .model_package_name
                        .clone()
                        .unwrap_or_else(unknown)
                )?;
                match self.command {
                    Command::Preflight => self.print_checks(out)?,
                    Command::Status => self.print_table(out)?,
                }
                writeln!(out, "{}", self.summary_line())
            }
        }
    }

    fn print_checks(&self, out: &mut dyn Write) -> std::io::Result<()> {
        for target in &self.targets {
            let verdict = match target.status {
                TargetStatus::Passed => "READY    ",
                TargetStatus::Failed => "NOT READY",
                TargetStatus::Error => "ERROR    ",
            };
            writeln!(
                out,
                "  {verdict} {} {}: {} of {} checks passed",
                target.account_id,
                target.region,
                target
                    .checks
                    .iter()
                    .filter(|c| c.status == CheckOutcome::Passed)
                    .count(),
                target.checks.len()
            )?;
            for check in target
                .checks
                .iter()
                .filter(|c| c.status != CheckOutcome::Passed)
            {
                let status = match check.status {
                    CheckOutcome::Failed => "failed ",
                    CheckOutcome::Skipped => "skipped",
                    _ => "error  ",
                };
                writeln!(out, "      {status} {}: {}", check.name, check.message)?;
            }
        }
        Ok(())
    }

    fn print_table(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let header = [
            "ACCOUNT", "REGION", "ENDPOINT", "PACKAGE", "HOSTING", "CHANGED", "VERDICT",
        ];
        let rows: Vec<[String; 7]> = self.targets.iter().map(row).collect();
        let mut widths = header.map(str::len);
        for row in &rows {
            for (width, cell) in widths.iter_mut().zip(row) {
                *width = (*width).max(cell.chars().count());
            }
        }
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(widths)
                .map(|(cell, width)| format!("{cell:<width$}"))
                .collect();
            format!("  {}", padded.join("  ").trim_end())
        };
        writeln!(out, "{}", line(header.to_vec()))?;
        for row in &rows {
            writeln!(out, "{}", line(row.iter().map(String::as_str).collect()))?;
        }
        for target in self
            .targets
            .iter()
            .filter(|t| t.status != TargetStatus::Passed)
        {
            if let Some(error) = &target.error {
                writeln!(out, "  {} {}: {error}", target.account_id, target.region)?;
            }
        }
        Ok(())
    }
}

/// A target's row of the status table.
fn row(target: &FleetTarget) -> [String; 7] {
    let verdict = match target.status {
        TargetStatus::Passed => "in sync",
        TargetStatus::Failed
            if target
                .endpoint
                .as_ref()
                .is_some_and(|e| e.serves_package && !e.drift.is_empty()) =>
        {
            "DRIFTED"
        }
        TargetStatus::Failed => "NOT SERVING",
        TargetStatus::Error => "ERROR",
    };
    let dash = || "-".to_owned();
    let (status, package, hosted, changed) = match &target.endpoint {
        None => (dash(), dash(), dash(), dash()),
        Some(endpoint) => {
            let mut packages: Vec<String> = endpoint
                .variants
                .iter()
                .flat_map(|v| &v.model_package_names)
                .map(|p| short_package(p))
                .collect();
            packages.dedup();
            let hosted: Vec<String> = endpoint.variants.iter().map(hosting).collect();
            (
                endpoint.endpoint_status.clone(),
                if packages.is_empty() {
                    dash()
                } else {
                    packages.join(",")
                },
                if hosted.is_empty() {
                    dash()
                } else {
                    hosted.join(",")
                },
                endpoint.last_modified.clone().unwrap_or_else(dash),
            )
        }
    };
    [
        target.account_id.clone(),
        target.region.clone(),
        status,
        package,
        hosted,
        changed,
        verdict.to_owned(),
    ]
}

/// `group/version` of a package ARN, for the table; anything else as it is.
fn short_package(package: &str) -> String {
    package
        .split_once(":model-package/")
        .map_or(package, |(_, rest)| rest)
        .to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fleet::tests::report;
    use crate::fleet::{Check, EndpointState};
    use crate::report::VariantModel;

    fn text(report: &FleetReport) -> String {
        let mut out = Vec::new();
        report.print(Format::Text, &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn preflight_lists_what_did_not_pass_under_each_target() {
        let report = report(
            Command::Preflight,
            false,
            vec![vec![
                Check::passed("assume-role", "ok"),
                Check::skipped("capacity", "denied"),
                Check::failed("endpoint-name", "taken"),
            ]],
        );
        assert_eq!(
            text(&report),
            "preflight of endpoint churn-prod (stage prod), model package ?\n  NOT READY 111111111111 us-east-1: 1 of 3 checks passed\n      skipped capacity: denied\n      failed  endpoint-name: taken\npreflight: 0 of 1 targets passed, 1 not ready, 0 could not be checked; 111111111111 us-east-1 (endpoint-name); 1 checks skipped\n"
        );
    }

    #[test]
    fn status_is_a_table_with_the_reasons_under_it() {
        let mut report = report(
            Command::Status,
            false,
            vec![
                vec![Check::passed("endpoint", "InService")],
                vec![Check::failed(
                    "settings",
                    "variant AllTraffic starts 1 instance(s), the build config asks for 2",
                )],
            ],
        );
        let variant = VariantModel {
            variant_name: "AllTraffic".into(),
            model_name: "m".into(),
            model_package_names: vec!["arn:aws:sagemaker:us-east-1:1:model-package/churn/3".into()],
            serverless_memory_mb: None,
            serverless_provisioned_concurrency: None,
            instance_type: Some("ml.m5.large".into()),
            initial_instance_count: Some(1),
        };
        for (target, drift) in report
            .targets
            .iter_mut()
            .zip([vec![], vec!["d".to_owned()]])
        {
            target.endpoint = Some(EndpointState {
                endpoint_status: "InService".into(),
                last_modified: Some("2026-12-01T10:00:00Z".into()),
                endpoint_config_name: Some("c".into()),
                variants: vec![variant.clone()],
                data_capture_percentage: None,
                serves_package: true,
                drift,
            });
        }
        assert_eq!(
            text(&report),
            "status of endpoint churn-prod (stage prod), model package ?\n  ACCOUNT       REGION     ENDPOINT   PACKAGE  HOSTING          CHANGED               VERDICT\n  111111111111  us-east-1  InService  churn/3  1 x ml.m5.large  2026-12-01T10:00:00Z  in sync\n  222222222222  us-east-1  InService  churn/3  1 x ml.m5.large  2026-12-01T10:00:00Z  DRIFTED\n  222222222222 us-east-1: settings: variant AllTraffic starts 1 instance(s), the build config asks for 2\nstatus: 1 of 2 targets passed, 1 not serving what the build config says, 0 could not be checked; 222222222222 us-east-1 (settings)\n"
        );
    }
}
