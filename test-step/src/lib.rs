//! `test-step`: the Test stage of the multi-account SageMaker deployment pipeline. Its verdict
//! gates the manual approval for production, so it must be right, fast and impossible to misread.
//!
//! Everything local is checked first (settings, the build config, the payload manifest and its
//! bodies), so bad input fails in a second. Then it finds the targets (the staging OU's ACTIVE
//! accounts, or an explicit list, times each region) and tests them concurrently with a bound:
//! assume the role, wait for the endpoint, check it serves the exported model package, invoke it
//! with every payload. The JSON and JUnit reports are written atomically in every case, failed
//! targets and stopped runs included, before the exit code says what happened.

pub mod cli;
pub mod clock;
pub mod error;
pub mod manifest;
pub mod report;
pub mod session;
pub mod target;
pub mod targets;
pub mod wait;

use std::path::Path;
use std::sync::Arc;
use std::time::{Instant, SystemTime};

use deploy_common::aws::{explain_failure, load_sdk_config};
use deploy_common::endpoint::endpoint_name;
use deploy_common::env_vars as env;
use deploy_common::files::write_all_atomically;
use deploy_common::stack_params::{ParameterList, Problem};
use deploy_common::{AwsCallError, ExitStatus};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

pub use cli::Args;
pub use error::TestError;
use manifest::Manifest;
use report::{seconds, Counts, Report, RunStatus, TargetReport, TargetStatus, SCHEMA_VERSION};
use session::{session_name, ClientFactory, FromSdkConfig, RoleToAssume};
use target::{Target, Tester};
use targets::Accounts;
use wait::WaitPolicy;

const BUILD_CONFIG_INPUT: &str = "BUILD_CONFIG (--build-config)";

/// Runs the whole test step. `Ok` carries the report (whose exit status may still be 1 or 3: a
/// target failed, or could not be tested); `Err` is a run that stopped before it could test. The
/// reports are on disk in both cases (unless their paths are what is wrong, or writing them
/// failed).
pub async fn run(args: &Args) -> Result<Report, TestError> {
    // Checked first: with nowhere to write the reports, trying would only add a second error.
    check_report_paths(args)?;
    let started = Instant::now();
    let mut report = skeleton(args);
    let outcome = test_everything(args, &mut report).await;
    report.duration_seconds = seconds(started.elapsed());
    match outcome {
        Ok(()) => {
            report.conclude();
            write_reports(args, &report)?;
            Ok(report)
        }
        Err(err) => {
            report.stopped(err.to_string(), err.exit_status());
            if let Err(write_err) = write_reports(args, &report) {
                tracing::error!("{}", TestError::from(write_err));
            }
            Err(err)
        }
    }
}

/// The one-paragraph message for stderr when targets did not all pass.
pub fn failure_message(report: &Report, args: &Args) -> Option<String> {
    let s = &report.summary;
    let where_ = format!(
        "see {} and {}",
        args.export_test_results.as_path().display(),
        args.junit_report.display()
    );
    match report.exit_status() {
        ExitStatus::Success => None,
        ExitStatus::Negative => Some(format!(
            "{} of {} targets failed their tests{}; {where_}",
            s.failed,
            s.targets,
            if s.errors > 0 {
                format!(" and {} could not be tested", s.errors)
            } else {
                String::new()
            }
        )),
        _ => Some(format!(
            "{} of {} targets could not be tested because of AWS or network errors (after retries); {where_}",
            s.errors, s.targets
        )),
    }
}

fn skeleton(args: &Args) -> Report {
    Report {
        schema_version: SCHEMA_VERSION,
        tool: concat!("test-step ", env!("CARGO_PKG_VERSION")).to_owned(),
        status: RunStatus::Failed,
        exit_code: ExitStatus::BadInput.code(),
        started_at: aws_smithy_types::DateTime::from(SystemTime::now())
            .fmt(aws_smithy_types::date_time::Format::DateTime)
            .ok(),
        duration_seconds: 0.0,
        build_config: args.build_config.as_path().display().to_string(),
        stage: None,
        project_name: None,
        endpoint_name: None,
        model_package_name: None,
        role_name: None,
        session_name: None,
        organizational_unit_id: None,
        regions: Vec::new(),
        payloads: args.payloads.display().to_string(),
        invocations_per_case: args.invocations,
        summary: Counts::default(),
        targets: Vec::new(),
        error: None,
    }
}

/// What the build config says about the deployment under test.
struct Deployment {
    stage: String,
    project_name: String,
    endpoint_name: String,
    model_package_name: String,
    role_name: Option<String>,
}

async fn test_everything(args: &Args, report: &mut Report) -> Result<(), TestError> {
    let deployment = read_build_config(args)?;
    report.stage = Some(deployment.stage.clone());
    report.project_name = Some(deployment.project_name.clone());
    report.endpoint_name = Some(deployment.endpoint_name.clone());
    report.model_package_name = Some(deployment.model_package_name.clone());
    let role_name = non_empty(&args.sagemaker_execution_role_name)
        .map(str::to_owned)
        .or(deployment.role_name.clone())
        .ok_or(TestError::MissingSetting {
            what: "the role to assume in each account (the build config has no RoleName either)",
            flag: "--sagemaker-execution-role-name",
            env: env::SAGEMAKER_EXECUTION_ROLE_NAME,
        })?;
    report.role_name = Some(role_name.clone());
    let accounts = accounts(args)?;
    if let Accounts::UnderOu(ou) = &accounts {
        report.organizational_unit_id = Some(ou.clone());
    }
    let mut regions = Vec::new();
    for region in args
        .regions
        .iter()
        .map(|r| r.trim())
        .filter(|r| !r.is_empty())
    {
        targets::check_region(region).map_err(|message| TestError::BadSetting {
            input: "--regions".into(),
            message,
        })?;
        if !regions.iter().any(|r| r == region) {
            regions.push(region.to_owned());
        }
    }
    let manifest = Manifest::load(&args.payloads)?;

    let sdk_config = load_sdk_config(&args.aws).await?;
    if regions.is_empty() {
        // load_sdk_config guarantees a region.
        regions.extend(sdk_config.region().map(|r| r.as_ref().to_owned()));
    }
    report.regions = regions.clone();
    let sts = aws_sdk_sts::Client::new(&sdk_config);
    let discovered = async {
        let account_ids = targets::resolve(&accounts, || {
            aws_sdk_organizations::Client::new(&sdk_config)
        })
        .await?;
        Ok::<_, TestError>((account_ids, partition(&sts).await?))
    }
    .await;
    let (account_ids, partition) = match discovered {
        // Name the principal of an AccessDenied, tell missing credentials from a network error.
        Err(TestError::Aws(err)) => {
            return Err(TestError::Aws(explain_failure(&sdk_config, err).await))
        }
        other => other?,
    };
    let targets = targets::cross(&account_ids, &regions);
    let cases = targets.len() * manifest.cases.len();
    if cases > 500 {
        tracing::warn!(
            "{cases} test cases (targets x payloads): CodeBuild keeps at most 500 per report"
        );
    }

    let (user, host) = session::local_user_and_host();
    let session_name = session_name(
        non_empty(&args.codebuild_build_id),
        user.as_deref(),
        host.as_deref(),
    );
    report.session_name = Some(session_name.clone());
    tracing::info!(
        "testing endpoint {} in {} target(s) (accounts {} x regions {}), model package {}",
        deployment.endpoint_name,
        targets.len(),
        account_ids.iter().cloned().collect::<Vec<_>>().join(", "),
        regions.join(", "),
        deployment.model_package_name
    );
    let tester = Tester {
        role: RoleToAssume {
            sts,
            partition,
            role_name,
            session_name,
        },
        factory: Arc::new(FromSdkConfig(sdk_config)) as Arc<dyn ClientFactory>,
        clock: Arc::new(clock::SystemClock),
        progress: Arc::new(|line: String| tracing::info!("{line}")),
        wait: WaitPolicy::with_timeout(args.wait_timeout),
        endpoint_name: deployment.endpoint_name,
        model_package_name: deployment.model_package_name,
        manifest: Arc::new(manifest),
        invocations: args.invocations,
    };
    report.targets = test_all(Arc::new(tester), &targets, args.concurrency as usize).await;
    Ok(())
}

/// Tests every target, at most `concurrency` at once; reports come back in target order.
pub async fn test_all(
    tester: Arc<Tester>,
    targets: &[Target],
    concurrency: usize,
) -> Vec<TargetReport> {
    let semaphore = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut tasks = JoinSet::new();
    for (index, target) in targets.iter().cloned().enumerate() {
        let tester = tester.clone();
        let semaphore = semaphore.clone();
        tasks.spawn(async move {
            let _permit = semaphore.acquire_owned().await.ok();
            (index, tester.test(&target).await)
        });
    }
    let mut reports: Vec<Option<TargetReport>> = vec![None; targets.len()];
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((index, report)) => reports[index] = Some(report),
            Err(err) => tracing::error!("a target's test stopped unexpectedly: {err}"),
        }
    }
    reports
        .into_iter()
        .zip(targets)
        .map(|(report, target)| {
            report.unwrap_or_else(|| TargetReport {
                error: Some("the test of this target stopped unexpectedly (see the log)".into()),
                ..tester.blank_report(target, TargetStatus::Error)
            })
        })
        .collect()
}

/// The caller's partition (aws, aws-cn, aws-us-gov, ...), from its own ARN: roles are assumed in
/// the same partition, and the seed's hard-coded `arn:aws` broke the others (B7).
async fn partition(sts: &aws_sdk_sts::Client) -> Result<String, TestError> {
    let identity = sts
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| AwsCallError::new("sts:GetCallerIdentity", e))?;
    Ok(partition_of(identity.arn().unwrap_or_default()).to_owned())
}

fn partition_of(arn: &str) -> &str {
    arn.strip_prefix("arn:")
        .and_then(|rest| rest.split(':').next())
        .filter(|p| !p.is_empty())
        .unwrap_or("aws")
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

fn accounts(args: &Args) -> Result<Accounts, TestError> {
    let listed: Vec<String> = args
        .account_ids
        .iter()
        .map(|a| a.trim())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    if !listed.is_empty() {
        for id in &listed {
            targets::check_account_id(id).map_err(|message| TestError::BadSetting {
                input: "--account-id".into(),
                message,
            })?;
        }
        if non_empty(&args.organizational_unit_id).is_some() {
            tracing::info!("--account-id given: testing the listed accounts, not the OU's");
        }
        return Ok(Accounts::Listed(listed));
    }
    match non_empty(&args.organizational_unit_id) {
        Some(ou) => Ok(Accounts::UnderOu(ou.to_owned())),
        None => Err(TestError::MissingSetting {
            what: "the accounts to test",
            flag: "--organizational-unit-id (or list accounts with --account-id)",
            env: env::ORGANIZATIONAL_UNIT_ID,
        }),
    }
}

fn check_report_paths(args: &Args) -> Result<(), TestError> {
    let paths = [
        (
            args.export_test_results.as_path(),
            format!("{} (--export-test-results)", env::EXPORT_TEST_RESULTS),
        ),
        (args.junit_report.as_path(), "--junit-report".to_owned()),
    ];
    for (path, input) in &paths {
        let dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent,
            _ => Path::new("."),
        };
        if path.as_os_str().is_empty() || path.is_dir() || !dir.is_dir() {
            return Err(TestError::BadSetting {
                input: input.clone(),
                message: format!(
                    "cannot write the report to \"{}\": name a file in an existing directory",
                    path.display()
                ),
            });
        }
    }
    if args.export_test_results.as_path() == args.junit_report {
        return Err(TestError::BadSetting {
            input: "--junit-report".into(),
            message: "names the same file as the JSON report; give the two reports different names"
                .into(),
        });
    }
    Ok(())
}

fn read_build_config(args: &Args) -> Result<Deployment, TestError> {
    let params = ParameterList::read(args.build_config.as_path(), BUILD_CONFIG_INPUT).map_err(|source| {
        let hint = match source.problem {
            Problem::Missing => ". In CodeBuild the file build-step wrote is $CODEBUILD_SRC_DIR_BuildArtifact/staging-config-export.json",
            _ => "",
        };
        TestError::BuildConfigFile { source, hint }
    })?;
    let bad = |message: String| TestError::BuildConfig {
        input: BUILD_CONFIG_INPUT,
        path: args.build_config.as_path().to_owned(),
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
    let from_env = non_empty(&args.sagemaker_project_name);
    let project_name = match (value("SageMakerProjectName"), from_env) {
        (Some(file), Some(flag)) if file != flag => {
            return Err(bad(format!(
                "has SageMakerProjectName \"{file}\" but {} (--sagemaker-project-name) is \"{flag}\"; the build config comes from another project's build",
                env::SAGEMAKER_PROJECT_NAME
            )))
        }
        (Some(name), _) | (None, Some(name)) => name.to_owned(),
        (None, None) => return Err(bad(format!(
            "has no SageMakerProjectName and {} (--sagemaker-project-name) is not set; point it at the parameter file build-step wrote",
            env::SAGEMAKER_PROJECT_NAME
        ))),
    };
    if let (Some(file), Some(flag)) = (
        value("SageMakerProjectId"),
        non_empty(&args.sagemaker_project_id),
    ) {
        if file != flag {
            return Err(bad(format!(
                "has SageMakerProjectId \"{file}\" but {} (--sagemaker-project-id) is \"{flag}\"; the build config comes from another project's build",
                env::SAGEMAKER_PROJECT_ID
            )));
        }
    }
    let endpoint_name = endpoint_name(&project_name, &stage).map_err(|err| bad(err.to_string()))?;
    Ok(Deployment {
        stage,
        project_name,
        endpoint_name,
        model_package_name,
        role_name: value("RoleName").map(str::to_owned),
    })
}

fn write_reports(args: &Args, report: &Report) -> Result<(), deploy_common::files::WriteError> {
    let json = report.to_json();
    let xml = report::junit_xml(report);
    write_all_atomically(&[
        (args.export_test_results.as_path(), json.as_bytes()),
        (&args.junit_report, xml.as_bytes()),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pins B7: the role ARN follows the caller's partition instead of a hard-coded `arn:aws`.
    #[test]
    fn b7_roles_are_assumed_in_the_callers_partition() {
        assert_eq!(
            partition_of("arn:aws-cn:sts::123456789012:assumed-role/codebuild/build"),
            "aws-cn"
        );
        assert_eq!(
            partition_of("arn:aws-us-gov:iam::123456789012:user/ci"),
            "aws-us-gov"
        );
        assert_eq!(partition_of(""), "aws");
    }
}
