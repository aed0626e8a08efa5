//! What test-step records in the model registry after a test (`--update-model-lifecycle`): the
//! tested package's `ModelLifeCycle`, so data scientists see in the registry where a version was
//! deployed and whether its tests passed. SageMaker's staging construct leaves the stages and
//! statuses to the user (each a name of letters, digits and hyphens, at most 63 characters; the
//! description at most 1,024 characters:
//! <https://docs.aws.amazon.com/sagemaker/latest/dg/model-registry-staging-construct.html>,
//! <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelLifeCycle.html>). These
//! are the values, fixed so IAM can allow exactly them (the `sagemaker:ModelLifeCycle:stage` and
//! `:stageStatus` condition keys).

use crate::exit::ExitStatus;
use crate::report::Report;

/// The stage of a build config whose StageName begins with `prod`.
pub const PRODUCTION: &str = "Production";
/// The stage of any other build config.
pub const STAGING: &str = "Staging";
/// Every target passed.
pub const DEPLOYED_AND_TESTED: &str = "DeployedAndTested";
/// A target failed its tests.
pub const TEST_FAILED: &str = "TestFailed";
/// No target failed, but not every target could be tested (AWS errors, a stop).
pub const TEST_INCOMPLETE: &str = "TestIncomplete";
/// The longest description the registry takes, in characters.
pub const MAX_DESCRIPTION_CHARS: usize = 1024;

/// A package's `ModelLifeCycle` after a test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleUpdate {
    pub stage: &'static str,
    pub stage_status: &'static str,
    pub description: String,
}

impl LifecycleUpdate {
    /// The update for a concluded test of stage `stage_name`: its verdict, its summary line and
    /// `run_url` (the build's page), cut to what the registry takes.
    pub fn after_test(stage_name: &str, report: &Report, run_url: Option<&str>) -> Self {
        let stage = if stage_name.to_ascii_lowercase().starts_with("prod") {
            PRODUCTION
        } else {
            STAGING
        };
        let stage_status = match report.exit_status() {
            ExitStatus::Success => DEPLOYED_AND_TESTED,
            ExitStatus::Negative => TEST_FAILED,
            _ => TEST_INCOMPLETE,
        };
        let mut description = format!("{stage} ({stage_name}): {}", report.summary_line());
        if let Some(url) = run_url.filter(|u| !u.is_empty()) {
            description.push_str(&format!("; run {url}"));
        }
        let description = crate::exit::one_line(&description)
            .chars()
            .take(MAX_DESCRIPTION_CHARS)
            .collect();
        Self {
            stage,
            stage_status,
            description,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::tests::{empty_report, target};
    use crate::report::TargetStatus;

    fn concluded(status: TargetStatus) -> Report {
        let mut report = empty_report();
        report.targets = vec![target("111111111111", status, vec![])];
        report.conclude();
        report
    }

    #[test]
    fn the_verdict_and_the_stage_name_the_stage_and_status() {
        let passed = LifecycleUpdate::after_test(
            "staging",
            &concluded(TargetStatus::Passed),
            Some("https://console/build/1"),
        );
        assert_eq!(
            (passed.stage, passed.stage_status),
            (STAGING, DEPLOYED_AND_TESTED)
        );
        assert!(passed
            .description
            .starts_with("Staging (staging): 1 of 1 targets passed"));
        assert!(passed
            .description
            .ends_with("; run https://console/build/1"));
        let failed = LifecycleUpdate::after_test("prod-eu", &concluded(TargetStatus::Failed), None);
        assert_eq!(
            (failed.stage, failed.stage_status),
            (PRODUCTION, TEST_FAILED)
        );
        let error = LifecycleUpdate::after_test("Prod", &concluded(TargetStatus::Error), Some(""));
        assert_eq!(
            (error.stage, error.stage_status),
            (PRODUCTION, TEST_INCOMPLETE)
        );
        assert!(!error.description.contains("run"));
    }

    #[test]
    fn the_description_is_one_line_within_the_registrys_limit() {
        let long = format!("https://x/{}\n", "é".repeat(2000));
        let update =
            LifecycleUpdate::after_test("staging", &concluded(TargetStatus::Passed), Some(&long));
        assert_eq!(update.description.chars().count(), MAX_DESCRIPTION_CHARS);
        assert!(!update.description.contains('\n'));
        for name in [
            STAGING,
            PRODUCTION,
            DEPLOYED_AND_TESTED,
            TEST_FAILED,
            TEST_INCOMPLETE,
        ] {
            assert!(name.len() <= 63 && name.chars().all(|c| c.is_ascii_alphanumeric()));
        }
    }
}
