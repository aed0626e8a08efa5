//! The config stage: flags, env vars and files in, one checked [`TestConfig`] out, before any AWS
//! call. The report paths, the build config (what was deployed), the role, the account source,
//! the regions and the payload manifest with every body are all read and checked here, so bad
//! input fails in a second with exit 2 instead of after the wait for the endpoints. The AWS part
//! of the run takes only this value.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use deploy_core::drift::ExpectedSettings;
use deploy_core::endpoint::endpoint_name;
use deploy_core::files::{check_output_set, write_all_atomically, NamedPath, WriteError};
use deploy_core::fleet::junit::fleet_junit_reports;
use deploy_core::fleet::FleetReport;
use deploy_core::hosting::SERVERLESS_MAX_CONCURRENCY;
use deploy_core::inputs;
use deploy_core::manifest::{Manifest, MANIFEST_FILE};
use deploy_core::report::junit::{
    junit_part_path, junit_reports, MAX_CASES_PER_REPORT, MAX_REPORT_GROUPS,
};
use deploy_core::report::{Report, RunSetup, Setup};
use deploy_core::session_name::session_name;
use deploy_core::stack_params::{ParameterList, Problem};
use deploy_shell::aws::AwsSettings;
use deploy_shell::cli::non_empty;

use crate::cli::{Args, Command};
use crate::error::TestError;
use crate::targets::{regions_from_args, AccountSource};
use crate::wait::WaitPolicy;

/// What every command needs, checked: what was deployed, whom to become, where.
pub(crate) struct RunConfig {
    pub(crate) deployment: Deployment,
    pub(crate) role_name: String,
    pub(crate) accounts: AccountSource,
    /// The regions asked for; empty means the current region.
    pub(crate) regions: Vec<String>,
    pub(crate) session_name: String,
    pub(crate) concurrency: usize,
    pub(crate) aws: AwsSettings,
}

/// Everything a test run needs, checked.
pub(crate) struct TestConfig {
    pub(crate) run: RunConfig,
    pub(crate) manifest: Arc<Manifest>,
    pub(crate) invocations: u32,
    pub(crate) wait: WaitPolicy,
}

/// What the build config says about the deployment under test.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Deployment {
    pub(crate) stage: String,
    pub(crate) project_name: String,
    pub(crate) endpoint_name: String,
    pub(crate) model_package_name: String,
    pub(crate) role_name: Option<String>,
    /// SageMakerProjectId, which tags every resource of the project's endpoint stack.
    pub(crate) project_id: Option<String>,
    /// The hosting and data capture the endpoint must run with (what the file sets of them).
    pub(crate) settings: ExpectedSettings,
    /// ServerlessMaxConcurrency, for a serverless stage's capacity check.
    pub(crate) serverless_max_concurrency: Option<i32>,
}

/// Where the two reports go, checked to be writable names before anything else.
#[derive(Debug, Clone)]
pub(crate) struct ReportFiles {
    pub(crate) json: PathBuf,
    pub(crate) junit: PathBuf,
    /// The one-line summary (`--summary-file`), when asked for.
    pub(crate) summary: Option<PathBuf>,
}

impl RunConfig {
    /// Checks every input that can be checked without AWS (see the module doc). What it has read
    /// is recorded in `setup` as it goes, so a run stopped by bad input still reports it.
    pub(crate) fn load(args: &Args, setup: &mut RunSetup) -> Result<Self, TestError> {
        if args.strict && args.command != Command::Preflight {
            return Err(TestError::BadSetting {
                input: inputs::STRICT,
                message: "applies to test-step preflight only; drop it or run preflight".into(),
            });
        }
        let deployment = Deployment::read(args)?;
        setup.stage = Some(deployment.stage.clone());
        setup.project_name = Some(deployment.project_name.clone());
        setup.endpoint_name = Some(deployment.endpoint_name.clone());
        setup.model_package_name = Some(deployment.model_package_name.clone());
        let role_name = non_empty(&args.sagemaker_execution_role_name)
            .map(str::to_owned)
            .or(deployment.role_name.clone())
            .ok_or(TestError::MissingSetting {
                what:
                    "the role to assume in each account (the build config has no RoleName either)",
                input: inputs::ROLE_NAME,
            })?;
        setup.role_name = Some(role_name.clone());
        let accounts = AccountSource::from_args(
            &args.account_ids,
            &args.organizational_unit_id,
            &args.accounts_file,
        )?;
        setup.organizational_unit_id = accounts.organizational_unit().map(str::to_owned);
        setup.targets_from = Some(accounts.kind().to_owned());
        setup.accounts_file = accounts.file().map(|path| path.display().to_string());
        let regions = regions_from_args(&args.regions)?;
        let (user, host) = local_user_and_host();
        let session_name = session_name(
            non_empty(&args.codebuild_build_id),
            user.as_deref(),
            host.as_deref(),
        );
        setup.session_name = Some(session_name.clone());
        Ok(Self {
            deployment,
            role_name,
            accounts,
            regions,
            session_name,
            concurrency: args.concurrency as usize,
            aws: AwsSettings::from_env(&args.aws)?,
        })
    }
}

impl TestConfig {
    /// [`RunConfig::load`], then the payload manifest with every body.
    pub(crate) fn load(args: &Args, setup: &mut Setup) -> Result<Self, TestError> {
        let run = RunConfig::load(args, &mut setup.run)?;
        let manifest = Arc::new(Manifest::load(&args.payloads)?);
        Ok(Self {
            run,
            manifest,
            invocations: args.invocations,
            wait: WaitPolicy::with_timeout(args.wait_timeout),
        })
    }
}

/// What the report knows before any input is read.
pub(crate) fn initial_setup(args: &Args) -> Setup {
    Setup {
        run: RunSetup {
            build_config: args.build_config.display().to_string(),
            ..RunSetup::default()
        },
        payloads: args.payloads.display().to_string(),
        invocations_per_case: args.invocations,
    }
}

impl Deployment {
    /// Reads the staging parameter file build-step wrote; `SAGEMAKER_PROJECT_NAME` and
    /// `SAGEMAKER_PROJECT_ID`, when set, must agree with it (a build config from another
    /// project's build is bad input).
    fn read(args: &Args) -> Result<Self, TestError> {
        let path = args.build_config.as_path();
        let params = ParameterList::read(path, inputs::BUILD_CONFIG).map_err(|source| {
            let hint = match source.problem {
                Problem::Missing => ". In CodeBuild the file build-step wrote is $CODEBUILD_SRC_DIR_BuildArtifact/staging-config-export.json",
                _ => "",
            };
            TestError::BuildConfigFile { source, hint }
        })?;
        let bad = |message: String| TestError::BuildConfig {
            path: path.to_owned(),
            message,
        };
        let value = |key: &str| params.get(key).map(str::trim).filter(|v| !v.is_empty());
        let required = |key: &str| {
            value(key).map(str::to_owned).ok_or_else(|| {
                bad(format!(
                    "has no {key}; point it at the staging parameter file build-step wrote (staging-config-export.json), not at the stage config it read (staging-config.json)"
                ))
            })
        };
        let stage = required("StageName")?;
        let model_package_name = required("ModelPackageName")?;
        let project_name = match (
            value("SageMakerProjectName"),
            non_empty(&args.sagemaker_project_name),
        ) {
            (Some(file), Some(flag)) if file != flag => {
                return Err(bad(format!(
                    "has SageMakerProjectName \"{file}\" but {} is \"{flag}\"; the build config comes from another project's build",
                    inputs::PROJECT_NAME
                )))
            }
            (Some(name), _) | (None, Some(name)) => name.to_owned(),
            (None, None) => {
                return Err(bad(format!(
                    "has no SageMakerProjectName and {} is not set; point it at the parameter file build-step wrote",
                    inputs::PROJECT_NAME
                )))
            }
        };
        if let (Some(file), Some(flag)) = (
            value("SageMakerProjectId"),
            non_empty(&args.sagemaker_project_id),
        ) {
            if file != flag {
                return Err(bad(format!(
                    "has SageMakerProjectId \"{file}\" but {} is \"{flag}\"; the build config comes from another project's build",
                    inputs::PROJECT_ID
                )));
            }
        }
        let endpoint_name =
            endpoint_name(&project_name, &stage).map_err(|err| bad(err.to_string()))?;
        Ok(Self {
            stage,
            project_name,
            endpoint_name,
            model_package_name,
            role_name: value("RoleName").map(str::to_owned),
            project_id: value("SageMakerProjectId").map(str::to_owned),
            settings: ExpectedSettings::of_build_config(&params),
            serverless_max_concurrency: value(SERVERLESS_MAX_CONCURRENCY)
                .and_then(|v| v.parse().ok()),
        })
    }
}

impl ReportFiles {
    /// Checked first, before anything else is read: with nowhere to write the reports, trying
    /// would only add a second error. The two reports are an output set (see
    /// `deploy_core::files`) that may not replace the build config or the manifest, nor land in
    /// the payloads directory, whose files the run reads.
    pub(crate) fn check(args: &Args) -> Result<Self, TestError> {
        let (json, junit) = args.report_paths();
        let files = Self {
            json,
            junit,
            summary: args
                .summary_file
                .clone()
                .filter(|p| !p.as_os_str().is_empty()),
        };
        let manifest = args.payloads.join(MANIFEST_FILE);
        // Every JUnit document a run may write (see `write`), checked with the others.
        let junit_parts: Vec<PathBuf> = (0..MAX_REPORT_GROUPS)
            .map(|index| junit_part_path(&files.junit, index))
            .collect();
        let mut outputs = vec![NamedPath::new(&files.json, inputs::EXPORT_TEST_RESULTS)];
        outputs.extend(
            junit_parts
                .iter()
                .map(|part| NamedPath::new(part, inputs::JUNIT_REPORT)),
        );
        outputs.extend(
            files
                .summary
                .iter()
                .map(|path| NamedPath::new(path, inputs::SUMMARY_FILE)),
        );
        let accounts_file = non_empty(&args.accounts_file).map(Path::new);
        let mut read = vec![NamedPath::new(&args.build_config, inputs::BUILD_CONFIG)];
        if args.command == Command::Test {
            read.push(NamedPath::new(&manifest, inputs::PAYLOADS));
        }
        read.extend(accounts_file.map(|file| NamedPath::new(file, inputs::ACCOUNTS_FILE)));
        check_output_set(&outputs, &read)?;
        let payloads = args.payloads.canonicalize().ok();
        if let Some(payloads) = payloads.filter(|_| args.command == Command::Test) {
            let summary = files
                .summary
                .iter()
                .map(|path| (path, inputs::SUMMARY_FILE));
            for (path, input) in [
                (&files.json, inputs::EXPORT_TEST_RESULTS),
                (&files.junit, inputs::JUNIT_REPORT),
            ]
            .into_iter()
            .chain(summary)
            {
                let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
                let resolved = dir.unwrap_or(Path::new(".")).canonicalize();
                if resolved.is_ok_and(|dir| dir.starts_with(&payloads)) {
                    return Err(TestError::BadSetting {
                        input,
                        message: format!(
                            "{} is inside {} {}, whose files this run reads; write the reports elsewhere (nothing was written)",
                            path.display(),
                            inputs::PAYLOADS,
                            args.payloads.display()
                        ),
                    });
                }
            }
        }
        Ok(files)
    }

    /// Writes the reports (and the summary, when asked for), atomically and together. Past 500 test cases the JUnit report is
    /// several documents (`test-results.xml`, `test-results-2.xml`, …), one per report group of
    /// the test buildspec, so CodeBuild keeps every case.
    pub(crate) fn write(&self, report: impl Into<Rendered>) -> Result<(), WriteError> {
        let Rendered {
            json,
            junit,
            summary_line,
        } = report.into();
        if junit.len() > MAX_REPORT_GROUPS {
            tracing::warn!(
                "the JUnit report needs {} files of at most {MAX_CASES_PER_REPORT} test cases, and a CodeBuild project takes {MAX_REPORT_GROUPS} report groups: only the first {MAX_REPORT_GROUPS} files are written, and the cases past the first {} are only in {}",
                junit.len(),
                MAX_REPORT_GROUPS * MAX_CASES_PER_REPORT,
                self.json.display()
            );
        }
        // Only the files the output set was checked for, one per report group.
        let parts: Vec<PathBuf> = (0..junit.len().min(MAX_REPORT_GROUPS))
            .map(|index| junit_part_path(&self.junit, index))
            .collect();
        let summary_line = format!("{summary_line}\n");
        let mut files = vec![(self.json.as_path(), json.as_bytes())];
        files.extend(
            parts
                .iter()
                .map(PathBuf::as_path)
                .zip(junit.iter().map(String::as_bytes)),
        );
        files.extend(
            self.summary
                .as_deref()
                .map(|path| (path, summary_line.as_bytes())),
        );
        write_all_atomically(&files)
    }
}

/// A report in the forms its files hold: the JSON document, the JUnit documents and the one-line
/// summary.
pub(crate) struct Rendered {
    json: String,
    junit: Vec<String>,
    summary_line: String,
}

impl From<&Report> for Rendered {
    fn from(report: &Report) -> Self {
        Self {
            json: report.to_json(),
            junit: junit_reports(report),
            summary_line: report.summary_line(),
        }
    }
}

impl From<&FleetReport> for Rendered {
    fn from(report: &FleetReport) -> Self {
        Self {
            json: report.to_json(),
            junit: fleet_junit_reports(report),
            summary_line: report.summary_line(),
        }
    }
}

/// The user and host of this process, for the session name outside CodeBuild.
fn local_user_and_host() -> (Option<String>, Option<String>) {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .or_else(|_| std::fs::read_to_string("/etc/hostname"))
        .ok()
        .map(|h| h.trim().to_owned())
        .or_else(|| std::env::var("HOSTNAME").ok());
    (user, host)
}
