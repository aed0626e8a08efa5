//! The command line. Every setting the seed's test CodeBuild project passes is a flag with an env
//! fallback of the same name (names from `deploy_core::inputs`), so the binary runs in CodeBuild
//! with no flags, and the flags that did not exist in the seed (target selection, payloads,
//! reports, timing) have defaults that suit the pipeline. Nothing here is checked beyond its
//! syntax: the config stage (`config`) turns these raw values into one checked value.

use std::path::PathBuf;
use std::time::Duration;

use clap::Parser;
use deploy_core::duration::parse_duration_at_most;
use deploy_core::inputs as input;
use deploy_core::Format;
use deploy_shell::cli::path_or_default;
use deploy_shell::logging::LogArgs;
use deploy_shell::AwsArgs;

/// Tests the staging endpoints before the manual approval for production: finds the staging
/// accounts, assumes the test role in each, waits for the endpoint, checks that it serves the
/// exported model package with the build config's settings, invokes it with the payloads of the
/// manifest and writes a JSON and a JUnit report. `preflight` checks, before a stage's deploy,
/// that every account is ready for it; `status` shows what every account serves. Neither writes
/// anything to AWS nor invokes an endpoint.
#[derive(Debug, Clone, Parser)]
#[command(name = "test-step", version, after_help = after_help())]
pub struct Args {
    /// What to do
    #[arg(value_enum, default_value_t = Command::Test)]
    pub(crate) command: Command,
    /// SageMaker project name; must match SageMakerProjectName of the build config
    #[arg(long = input::PROJECT_NAME.flag, env = input::PROJECT_NAME.env, value_name = "NAME")]
    pub(crate) sagemaker_project_name: Option<String>,
    /// SageMaker project id; must match SageMakerProjectId of the build config
    #[arg(long = input::PROJECT_ID.flag, env = input::PROJECT_ID.env, value_name = "ID")]
    pub(crate) sagemaker_project_id: Option<String>,
    /// StackSet parameter file build-step wrote (in CodeBuild under $CODEBUILD_SRC_DIR_BuildArtifact)
    #[arg(long = input::BUILD_CONFIG.flag, env = input::BUILD_CONFIG.env, value_name = "FILE", default_value = DEFAULT_BUILD_CONFIG, value_parser = path_or_default(DEFAULT_BUILD_CONFIG))]
    pub(crate) build_config: PathBuf,
    /// JSON report to write [default: test-results.json; preflight-results.json and
    /// status-results.json for those commands]
    #[arg(hide_default_value = true, long = input::EXPORT_TEST_RESULTS.flag, env = input::EXPORT_TEST_RESULTS.env, value_name = "FILE", default_value = DEFAULT_TEST_RESULTS, value_parser = path_or_default(DEFAULT_TEST_RESULTS))]
    pub(crate) export_test_results: PathBuf,
    /// JUnit XML report to write (for a CodeBuild reports: section) [default: test-results.xml;
    /// preflight-results.xml and status-results.xml for those commands]
    #[arg(hide_default_value = true, long = input::JUNIT_REPORT.flag, value_name = "FILE", default_value = DEFAULT_JUNIT_REPORT)]
    pub(crate) junit_report: PathBuf,
    /// One-line summary to write (verdicts and the worst p99), for the approval's message
    #[arg(long = input::SUMMARY_FILE.flag, value_name = "FILE")]
    pub(crate) summary_file: Option<PathBuf>,
    /// Role to assume in each account [default: RoleName of the build config]
    #[arg(long = input::ROLE_NAME.flag, env = input::ROLE_NAME.env, value_name = "ROLE")]
    pub(crate) sagemaker_execution_role_name: Option<String>,
    /// Organizational unit whose ACTIVE accounts (child OUs included) are tested
    #[arg(long = input::OU.flag, env = input::OU.env, value_name = "OU")]
    pub(crate) organizational_unit_id: Option<String>,
    /// Accounts file build-step wrote (a JSON array of account ids): test exactly these accounts
    /// instead of the OU's
    #[arg(long = input::ACCOUNTS_FILE.flag, env = input::ACCOUNTS_FILE.env, value_name = "FILE")]
    pub(crate) accounts_file: Option<String>,
    /// Test this account instead of the OU's (repeatable, or comma-separated)
    #[arg(long = input::ACCOUNT_IDS.flag, value_name = "ACCOUNT", value_delimiter = ',')]
    pub(crate) account_ids: Vec<String>,
    /// Regions to test in (repeatable, or comma-separated) [default: the current region]
    #[arg(long = input::REGIONS.flag, value_name = "REGION", value_delimiter = ',')]
    pub(crate) regions: Vec<String>,
    /// Directory holding manifest.json and the request bodies it names
    #[arg(long = input::PAYLOADS.flag, value_name = "DIR", default_value = DEFAULT_PAYLOADS)]
    pub(crate) payloads: PathBuf,
    /// Longest wait for an endpoint to be InService, per target (for example 30m, 90s, 1h30m; at most 24h)
    #[arg(long = input::WAIT_TIMEOUT.flag, value_name = "DURATION", default_value = "30m", value_parser = at_most_a_day)]
    pub(crate) wait_timeout: Duration,
    /// Longest the whole run may take; then, as on SIGTERM or SIGINT, the targets not finished are
    /// reported as interrupted and the run exits 4 (the default ends 5 minutes before the test
    /// CodeBuild project's 60-minute timeout; at most 24h)
    #[arg(long = input::DEADLINE.flag, value_name = "DURATION", default_value = DEFAULT_DEADLINE, value_parser = at_most_a_day)]
    pub(crate) deadline: Duration,
    /// Invocations per payload, for the latency figures
    #[arg(long = input::INVOCATIONS.flag, value_name = "N", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub(crate) invocations: u32,
    /// Targets (account x region) making AWS calls at once (at most 256)
    #[arg(long = input::CONCURRENCY.flag, value_name = "N", default_value_t = DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u32).range(1..=MAX_CONCURRENCY))]
    pub(crate) concurrency: u32,
    /// preflight: a check the role may not run fails its target instead of being skipped
    #[arg(long = input::STRICT.flag)]
    pub(crate) strict: bool,
    /// preflight: the StackSet execution role the stage's deploy assumes in each account
    /// (SELF_MANAGED StackSets); unset skips its check
    #[arg(long = input::DEPLOY_ROLE.flag, env = input::DEPLOY_ROLE.env, value_name = "ROLE")]
    pub(crate) deploy_role_name: Option<String>,
    /// preflight: the StackSet administration role the execution role must trust
    #[arg(long = input::DEPLOY_ADMIN_ROLE.flag, env = input::DEPLOY_ADMIN_ROLE.env, value_name = "ARN")]
    pub(crate) deploy_admin_role_arn: Option<String>,
    /// test: record the verdict in the tested package's ModelLifeCycle in the model registry
    /// (stage Staging or Production, status DeployedAndTested, TestFailed or TestIncomplete)
    #[arg(long = input::UPDATE_MODEL_LIFECYCLE.flag, env = input::UPDATE_MODEL_LIFECYCLE.env,
          action = clap::ArgAction::Set, num_args = 0..=1,
          default_value = "false", default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) update_model_lifecycle: bool,
    /// The build's page, linked from the ModelLifeCycle description (CodeBuild sets it)
    #[arg(long = input::BUILD_URL.flag, env = input::BUILD_URL.env, value_name = "URL", hide = true)]
    pub(crate) build_url: Option<String>,
    /// Report format on stdout
    #[arg(long = input::OUTPUT.flag, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    /// The build that names the assumed-role sessions (CodeBuild sets it)
    #[arg(long = input::BUILD_ID.flag, env = input::BUILD_ID.env, value_name = "ID", hide = true)]
    pub(crate) codebuild_build_id: Option<String>,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

/// What a run does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Command {
    /// Wait for each endpoint, check what it serves and invoke it with the payloads
    Test,
    /// Before a stage's deploy: check that each account is ready for it (roles, the model's
    /// access to its artifacts and image, capacity, the endpoint name)
    Preflight,
    /// What each account's endpoint serves, and whether it is what the build config says
    Status,
}

impl Command {
    /// The reports' default file names (JSON, JUnit) for this command.
    pub(crate) fn default_reports(self) -> (&'static str, &'static str) {
        match self {
            Command::Test => (DEFAULT_TEST_RESULTS, DEFAULT_JUNIT_REPORT),
            Command::Preflight => ("preflight-results.json", "preflight-results.xml"),
            Command::Status => ("status-results.json", "status-results.xml"),
        }
    }
}

impl Args {
    /// The JSON and JUnit report paths: as given, else the command's defaults.
    pub(crate) fn report_paths(&self) -> (PathBuf, PathBuf) {
        let (json, junit) = self.command.default_reports();
        let pick = |given: &PathBuf, test_default: &str, own: &str| {
            if given.as_os_str() == test_default {
                PathBuf::from(own)
            } else {
                given.clone()
            }
        };
        (
            pick(&self.export_test_results, DEFAULT_TEST_RESULTS, json),
            pick(&self.junit_report, DEFAULT_JUNIT_REPORT, junit),
        )
    }
}

/// Targets making calls at once by default. Against AWS every target's DescribeEndpoint and
/// InvokeEndpoint calls go to its own account's service, so the only shared rates are STS's in
/// the pipeline account (one AssumeRole per target, whose credentials are reused for the whole
/// test) and Organizations' (the walk, before any target starts, at most
/// `deploy_shell::organizations::CONCURRENT_OUS` calls at once). 64 targets keep at most 64
/// AssumeRole calls in flight, one burst at the start that STS's token bucket absorbs (and the
/// SDK retries a throttled one with backoff), while 50 staging accounts take one round of the
/// calls a single account takes.
pub(crate) const DEFAULT_CONCURRENCY: u32 = 64;
/// The most `--concurrency` takes: enough for hundreds of targets in a few rounds, with each
/// in-flight target's clients and connection in memory.
pub(crate) const MAX_CONCURRENCY: i64 = 256;

pub(crate) const DEFAULT_BUILD_CONFIG: &str = "staging-config-export.json";
pub(crate) const DEFAULT_TEST_RESULTS: &str = "test-results.json";
pub(crate) const DEFAULT_JUNIT_REPORT: &str = "test-results.xml";
pub(crate) const DEFAULT_PAYLOADS: &str = "test/payloads";
/// Five minutes inside the test CodeBuild project's `TimeoutInMinutes: 60`, to write and upload
/// the reports before CodeBuild stops the build.
pub(crate) const DEFAULT_DEADLINE: &str = "55m";
/// The longest duration a flag takes: longer than any build, and far from overflowing a timer.
pub(crate) const MAX_DURATION: Duration = Duration::from_hours(24);

fn at_most_a_day(text: &str) -> Result<Duration, String> {
    parse_duration_at_most(text, MAX_DURATION)
}

fn after_help() -> String {
    deploy_core::exit::help_table(
        "a target failed its tests (endpoint missing, failed, stale or drifted, or a payload expectation not met), is not ready (preflight) or does not serve what the build config says (status)",
        Some("stopped before every target finished (SIGTERM, SIGINT or --deadline); the reports say which"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Args::command().debug_assert();
    }

    #[test]
    fn every_flag_and_variable_comes_from_the_registry() {
        test_support::cli::assert_names_from_registry(&Args::command());
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
        assert_eq!(args.wait_timeout, Duration::from_mins(30));
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

    /// The default deadline must end before the test CodeBuild project's timeout, with room to
    /// write and upload the reports.
    #[test]
    fn the_default_deadline_ends_inside_the_test_projects_timeout() {
        let product = include_str!("../../templates/sagemaker-project.yml");
        let project = product
            .split("  ModelDeployTestProject:")
            .nth(1)
            .expect("the test project");
        let minutes: u64 = project
            .lines()
            .find_map(|l| l.trim().strip_prefix("TimeoutInMinutes: "))
            .and_then(|m| m.trim().parse().ok())
            .expect("TimeoutInMinutes");
        let deadline = parse_duration_at_most(DEFAULT_DEADLINE, MAX_DURATION).unwrap();
        assert!(
            deadline + Duration::from_mins(5) <= Duration::from_mins(minutes),
            "--deadline {DEFAULT_DEADLINE} against a {minutes}-minute CodeBuild timeout"
        );
        let wait = Args::try_parse_from(["test-step"]).unwrap().wait_timeout;
        assert!(wait < deadline, "a full wait fits in the default deadline");
    }

    #[test]
    fn the_command_picks_the_reports_default_names_unless_they_are_given() {
        let parse = |argv: &[&str]| Args::try_parse_from(argv).unwrap();
        let test = parse(&["test-step"]);
        assert_eq!(test.command, Command::Test);
        assert_eq!(
            test.report_paths(),
            ("test-results.json".into(), "test-results.xml".into())
        );
        let preflight = parse(&["test-step", "preflight", "--strict"]);
        assert!(preflight.strict);
        assert_eq!(
            preflight.report_paths(),
            (
                "preflight-results.json".into(),
                "preflight-results.xml".into()
            )
        );
        let status = parse(&["test-step", "status", "--junit-report", "s.xml"]);
        assert_eq!(
            status.report_paths(),
            ("status-results.json".into(), "s.xml".into())
        );
        assert!(Args::try_parse_from(["test-step", "deploy"]).is_err());
    }

    #[test]
    fn durations_are_bounded_so_no_timer_overflows() {
        for flag in ["--wait-timeout", "--deadline"] {
            for huge in ["18446744073709551615s", "24h1s", "99999999999999999999"] {
                assert!(
                    Args::try_parse_from(["test-step", flag, huge]).is_err(),
                    "{flag} {huge}"
                );
            }
        }
    }
}
