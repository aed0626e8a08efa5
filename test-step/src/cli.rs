//! The command line. Every setting the seed's test CodeBuild project passes is a flag with an env
//! fallback of the same name (from the shared registry), so the binary runs in CodeBuild with no
//! flags, and the flags that did not exist in the seed (target selection, payloads, reports,
//! timing) have defaults that suit the pipeline.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use deploy_common::cli::path_or_default;
pub use deploy_common::cli::OutputFormat;
use deploy_common::env_vars as env;
use deploy_common::logging::LogArgs;
use deploy_common::AwsArgs;

/// Tests the staging endpoints before the manual approval for production: finds the staging
/// accounts, assumes the execution role in each, waits for the endpoint, checks that it serves the
/// exported model package, invokes it with the payloads of the manifest and writes a JSON and a
/// JUnit report.
#[derive(Debug, Clone, Parser)]
#[command(name = "test-step", version, after_help = after_help())]
pub struct Args {
    /// SageMaker project name; must match SageMakerProjectName of the build config
    #[arg(long, env = env::SAGEMAKER_PROJECT_NAME, value_name = "NAME")]
    pub sagemaker_project_name: Option<String>,
    /// SageMaker project id; must match SageMakerProjectId of the build config
    #[arg(long, env = env::SAGEMAKER_PROJECT_ID, value_name = "ID")]
    pub sagemaker_project_id: Option<String>,
    /// StackSet parameter file build-step wrote (in CodeBuild under $CODEBUILD_SRC_DIR_BuildArtifact)
    #[arg(long, env = env::BUILD_CONFIG, value_name = "FILE", default_value = DEFAULT_BUILD_CONFIG, value_parser = path_or_default(DEFAULT_BUILD_CONFIG))]
    pub build_config: PathBuf,
    /// JSON test report to write
    #[arg(long, env = env::EXPORT_TEST_RESULTS, value_name = "FILE", default_value = DEFAULT_TEST_RESULTS, value_parser = path_or_default(DEFAULT_TEST_RESULTS))]
    pub export_test_results: PathBuf,
    /// JUnit XML report to write (for a CodeBuild reports: section)
    #[arg(long, value_name = "FILE", default_value = "test-results.xml")]
    pub junit_report: PathBuf,
    /// Role to assume in each account [default: RoleName of the build config]
    #[arg(long, env = env::SAGEMAKER_EXECUTION_ROLE_NAME, value_name = "ROLE")]
    pub sagemaker_execution_role_name: Option<String>,
    /// Organizational unit whose ACTIVE accounts (child OUs included) are tested
    #[arg(long, env = env::ORGANIZATIONAL_UNIT_ID, value_name = "OU")]
    pub organizational_unit_id: Option<String>,
    /// Test this account instead of the OU's (repeatable, or comma-separated)
    #[arg(long = "account-id", value_name = "ACCOUNT", value_delimiter = ',')]
    pub account_ids: Vec<String>,
    /// Regions to test in (repeatable, or comma-separated) [default: the current region]
    #[arg(long, value_name = "REGION", value_delimiter = ',')]
    pub regions: Vec<String>,
    /// Directory holding manifest.json and the request bodies it names
    #[arg(long, value_name = "DIR", default_value = "test/payloads")]
    pub payloads: PathBuf,
    /// Longest wait for an endpoint to be InService, per target (for example 30m, 90s, 1h30m)
    #[arg(long, value_name = "DURATION", default_value = "30m", value_parser = parse_duration)]
    pub wait_timeout: Duration,
    /// Invocations per payload, for the latency figures
    #[arg(long, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub invocations: u32,
    /// Targets (account x region) tested at once
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub concurrency: u32,
    /// Report format on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    /// The build that names the assumed-role sessions (CodeBuild sets it)
    #[arg(long, env = env::CODEBUILD_BUILD_ID, value_name = "ID", hide = true)]
    pub codebuild_build_id: Option<String>,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

pub const DEFAULT_BUILD_CONFIG: &str = "staging-config-export.json";
pub const DEFAULT_TEST_RESULTS: &str = "test-results.json";

fn after_help() -> String {
    deploy_common::exit::help_table(
        "a target failed its tests (endpoint missing, failed or stale, or a payload expectation not met)",
    )
}

/// `90`, `90s`, `30m`, `1h30m`: a whole number of seconds, minutes or hours, or a sum of them.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("\"{text}\" is not a duration; write it like 30m, 90s, 1h or 1h30m");
    if text.is_empty() {
        return Err(invalid());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(invalid()),
        };
        let value: u64 = digits.parse().map_err(|_| invalid())?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_parse_in_every_documented_form() {
        for (text, seconds) in [
            ("90", 90),
            ("90s", 90),
            ("30m", 1800),
            ("1h", 3600),
            ("1h30m", 5400),
            ("0", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for bad in ["", "m", "30x", "1.5h", "-5m", "30m5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn account_ids_and_regions_accept_repeats_and_commas() {
        let args = Args::try_parse_from([
            "test-step",
            "--account-id",
            "111111111111,222222222222",
            "--account-id",
            "333333333333",
            "--regions",
            "us-east-1,eu-west-1",
        ])
        .unwrap();
        assert_eq!(
            args.account_ids,
            ["111111111111", "222222222222", "333333333333"]
        );
        assert_eq!(args.regions, ["us-east-1", "eu-west-1"]);
        assert_eq!(args.wait_timeout, Duration::from_secs(1800));
    }

    /// Pins B10: the seed passed `--export-test-results $EXPORT_TEST_RESULTS` even when unset.
    #[test]
    fn b10_empty_paths_fall_back_to_their_defaults() {
        let args = Args::try_parse_from([
            "test-step",
            "--build-config",
            "",
            "--export-test-results",
            "",
        ])
        .unwrap();
        assert_eq!(
            args.build_config,
            std::path::Path::new("staging-config-export.json")
        );
        assert_eq!(
            args.export_test_results,
            std::path::Path::new("test-results.json")
        );
    }
}
