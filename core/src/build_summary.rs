//! What `build-step` reports on stdout when it succeeds: the chosen package, the files written
//! (with sizes), the accounts granted and whether each stage needs a deploy, as text for people
//! or JSON for scripts. With `--dry-run` the same report is the plan.

use std::io::Write;

use serde::Serialize;

use crate::deploy_decision::PerStage;
use crate::format::Format;
use crate::model_package::ModelPackage;

#[derive(Debug, Serialize)]
pub struct Summary {
    pub dry_run: bool,
    pub model_package: ModelPackage,
    pub stages: Vec<StageSummary>,
    pub files: Vec<WrittenFile>,
    pub cross_account_access: Option<AccessSummary>,
    /// The accounts files written (or, on a dry run, that would be).
    pub accounts_files: Vec<AccountsFileSummary>,
    /// Whether each stage's StackSet needs a deploy (`deploy_core::deploy_decision`).
    pub deploy_needed: PerStage<bool>,
    /// Why, one line a stage.
    pub deploy_needed_reasons: PerStage<String>,
    pub warnings: Vec<String>,
}

/// One stage's accounts file: where, from what, and the accounts in it.
#[derive(Debug, Serialize)]
pub struct AccountsFileSummary {
    pub stage: String,
    pub path: String,
    /// The OU walked, or the setting that listed the accounts.
    pub source: String,
    pub accounts: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct StageSummary {
    pub stage_name: String,
    pub endpoint_name: String,
    pub template_file: String,
    pub parameter_file: String,
}

#[derive(Debug, Serialize)]
pub struct WrittenFile {
    pub path: String,
    pub bytes: usize,
}

#[derive(Debug, Serialize)]
pub struct AccessSummary {
    /// The accounts named one by one (`--grant-principals accounts`), sorted; else empty.
    pub accounts: Vec<String>,
    /// The OUs' Organizations paths granted (`--grant-principals org-paths`); else empty.
    pub org_paths: Vec<String>,
    pub policy: serde_json::Value,
    /// The whole policy's length as sent, in characters (on a dry run, of the project's
    /// statements alone: the group's policy is not read).
    pub policy_chars: usize,
    /// False on a dry run: the policy was only computed.
    pub applied: bool,
}

impl Summary {
    /// The summary on stdout, as text or pretty JSON.
    pub fn print(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        match format {
            Format::Json => {
                serde_json::to_writer_pretty(&mut *out, self)?;
                writeln!(out)
            }
            Format::Text => self.print_text(out),
        }
    }

    fn print_text(&self, out: &mut dyn Write) -> std::io::Result<()> {
        let package = &self.model_package;
        if self.dry_run {
            writeln!(out, "Dry run: nothing was written to disk or AWS.")?;
        }
        writeln!(out, "Model package:  {}", package.arn)?;
        let version = package
            .version
            .map_or_else(|| "?".into(), |v| v.to_string());
        writeln!(out, "  version {version}, {}", package.approval_status)?;
        if let Some(created) = &package.created {
            writeln!(out, "  created {created}")?;
        }
        if let Some(modified) = &package.last_modified {
            writeln!(out, "  approved (last status change) {modified}")?;
        }
        for stage in &self.stages {
            writeln!(
                out,
                "Stage {}: endpoint {} ({})",
                stage.stage_name, stage.endpoint_name, stage.parameter_file
            )?;
        }
        for (stage, needed, reason) in [
            (
                "staging",
                self.deploy_needed.staging,
                &self.deploy_needed_reasons.staging,
            ),
            (
                "prod",
                self.deploy_needed.prod,
                &self.deploy_needed_reasons.prod,
            ),
        ] {
            let verdict = if needed { "needed" } else { "not needed" };
            writeln!(out, "Deploy {stage}: {verdict} ({reason})")?;
        }
        let verb = if self.dry_run { "Would write" } else { "Wrote" };
        for file in &self.files {
            writeln!(out, "{verb} {} ({} bytes)", file.path, file.bytes)?;
        }
        if let Some(access) = &self.cross_account_access {
            let verb = if access.applied {
                "Granted"
            } else {
                "Would grant"
            };
            if access.org_paths.is_empty() {
                writeln!(
                    out,
                    "{verb} cross-account access to {} account(s): {}",
                    access.accounts.len(),
                    access.accounts.join(", ")
                )?;
            } else {
                writeln!(
                    out,
                    "{verb} cross-account access to every account under {}",
                    access.org_paths.join(" and ")
                )?;
            }
            if access.applied {
                writeln!(
                    out,
                    "The group's resource policy: {} of at most {} characters",
                    access.policy_chars,
                    crate::access_policy::MAX_POLICY_CHARS
                )?;
            } else {
                writeln!(
                    out,
                    "The project's statements: {} of the policy's at most {} characters (a dry run does not read the statements others wrote)",
                    access.policy_chars,
                    crate::access_policy::MAX_POLICY_CHARS
                )?;
            }
            if !access.applied {
                writeln!(out, "Project statements of the group resource policy:")?;
                writeln!(
                    out,
                    "{}",
                    serde_json::to_string_pretty(&access.policy).unwrap_or_default()
                )?;
            }
        }
        for file in &self.accounts_files {
            writeln!(
                out,
                "Accounts file {} ({}, from {}): {} account(s): {}",
                file.path,
                file.stage,
                file.source,
                file.accounts.len(),
                file.accounts.join(", ")
            )?;
        }
        for warning in &self.warnings {
            writeln!(out, "Warning: {warning}")?;
        }
        Ok(())
    }
}
