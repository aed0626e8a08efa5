//! `build-step`: the Build stage of the multi-account SageMaker deployment pipeline.
//!
//! It checks everything it can before touching AWS (`config`: settings, stage configs, the
//! template and a plan against its declared parameters), then makes the fewest AWS calls the job
//! needs (one ListModelPackages and one DescribeModelPackage in the normal case, whatever the
//! group's size, and per stage one DescribeStackSet, ListStackInstances and
//! ListStackSetOperations, made meanwhile, from which it decides whether the stage needs a
//! deploy), and writes its outputs (each stage's template and parameter file, and the accounts
//! files and the decision env file asked for) atomically at the very end, so any failure leaves
//! no output behind. The rules themselves (planning, validation, rendering, the policy document,
//! the deploy decision) are `deploy_core`'s; this crate is the command line and the AWS calls
//! around them. Its modules are private: the binary and the tests use
//! [`run`], [`Args`] and [`BuildError`] alone.

#![forbid(unsafe_code)]

mod accounts;
mod cli;
mod config;
mod deployed;
mod error;
mod grant;
mod pipeline_run;
mod registry;

use std::collections::BTreeSet;
use std::path::Path;

use aws_config::SdkConfig;
use deploy_core::accounts_file;
use deploy_core::build_plan::Stage;
use deploy_core::build_summary::{AccountsFileSummary, StageSummary, Summary, WrittenFile};
use deploy_core::deploy_decision::{self, PerStage, Wanted};
use deploy_core::files::write_all_atomically;
use deploy_core::inputs;
use deploy_core::template::ProjectContext;
use deploy_shell::aws::{explain_failure, load_sdk_config};

pub use cli::Args;
use config::{BuildConfig, PackageChoice, StageAccounts};
pub use error::BuildError;

/// Runs the whole build step and returns what it did (or, with `--dry-run`, would do).
pub async fn run(args: &Args) -> Result<Summary, BuildError> {
    let config = BuildConfig::load(args)?;
    let sdk_config = load_sdk_config(&config.aws).await?;
    match Box::pin(deploy(&config, &sdk_config)).await {
        Err(BuildError::Aws(err)) => Err(BuildError::Aws(explain_failure(&sdk_config, err).await)),
        other => other,
    }
}

/// The package to deploy. A pipeline run's variable is read while the newest Approved package is
/// looked up (the variable says `newest` on every run an approval starts), so the usual run waits
/// for no extra round trip.
async fn chosen_package(
    config: &BuildConfig,
    sdk_config: &SdkConfig,
    sagemaker: &aws_sdk_sagemaker::Client,
) -> Result<deploy_core::model_package::ModelPackage, BuildError> {
    match &config.package {
        PackageChoice::Newest => registry::newest_approved(sagemaker, &config.group).await,
        PackageChoice::Pinned(arn) => {
            let source = inputs::MODEL_PACKAGE_ARN.to_string();
            registry::pinned(sagemaker, &config.group, arn, &source).await
        }
        PackageChoice::FromPipelineRun {
            pipeline,
            execution_id,
        } => {
            let codepipeline = aws_sdk_codepipeline::Client::new(sdk_config);
            let (requested, newest) = tokio::join!(
                pipeline_run::requested_package(&codepipeline, pipeline, execution_id),
                registry::newest_approved(sagemaker, &config.group)
            );
            match requested? {
                Some(arn) => {
                    let source = format!(
                        "the pipeline variable {} of run {execution_id}",
                        pipeline_run::VARIABLE
                    );
                    registry::pinned(sagemaker, &config.group, &arn, &source).await
                }
                None => newest,
            }
        }
    }
}

/// The AWS part of the run: choose the package, plan for real, grant access, write the outputs.
async fn deploy(config: &BuildConfig, sdk_config: &SdkConfig) -> Result<Summary, BuildError> {
    let sagemaker = aws_sdk_sagemaker::Client::new(sdk_config);
    let project = ProjectContext {
        name: &config.project_name,
        id: &config.project_id,
    };
    let cloudformation = aws_sdk_cloudformation::Client::new(sdk_config);
    // What the StackSets run is read while the package is looked up: neither waits for the
    // other, so the checks cost no round trip of their own.
    let (package, deployed) = tokio::join!(
        chosen_package(config, sdk_config, &sagemaker),
        deployed::read(&cloudformation, &project, &config.template)
    );
    let package = package?;
    if let Some(version) = package.version {
        tracing::info!(arn = %package.arn, version, "chose model package");
    } else {
        tracing::info!(arn = %package.arn, "chose model package (no version number)");
    }
    let plan = config.plan(&package)?;
    let mut warnings = plan.instance_type_warnings(&package);
    warnings.extend(deployed.unread);
    warnings.extend(plan.update_warnings(&deployed.stages));
    for warning in &warnings {
        tracing::warn!("{warning}");
    }

    // The accounts first: their walk only reads, so a failure there leaves the group's policy
    // as it was, as every failure before the writes leaves everything.
    let organizations = aws_sdk_organizations::Client::new(sdk_config);
    let mut accounts_files = Vec::new();
    for export in &config.accounts_exports {
        let accounts = accounts::resolve(&organizations, export).await?;
        accounts_files.push(AccountsFileSummary {
            stage: export.stage.name().to_owned(),
            path: export.path.display().to_string(),
            source: match &export.source {
                StageAccounts::UnderOu { ou, .. } => ou.clone(),
                StageAccounts::Listed { input, .. } => input.to_string(),
            },
            accounts: accounts.iter().cloned().collect(),
        });
    }

    let decisions = decide(
        config,
        sdk_config,
        &plan,
        &deployed.stack_sets,
        &accounts_files,
    );

    let cross_account_access = match &config.grant {
        Some(ous) => Some(
            grant::grant_access(
                &sagemaker,
                &organizations,
                &config.group,
                &config.project_name,
                ous,
                config.dry_run,
            )
            .await?,
        ),
        None => None,
    };

    let mut outputs: Vec<(&Path, String)> = Vec::new();
    for stage in Stage::ALL {
        let source = config.stage(stage);
        outputs.push((&source.template_export, plan.template(stage).text.clone()));
        outputs.push((&source.export, plan.stage(stage).parameters.to_json()));
    }
    for (export, summary) in config.accounts_exports.iter().zip(&accounts_files) {
        let accounts = summary.accounts.iter().cloned().collect();
        outputs.push((&export.path, accounts_file::render(&accounts)));
    }
    if let Some(path) = &config.decision_env {
        outputs.push((path, deploy_decision::env_file(&decisions)));
    }
    if !config.dry_run {
        let batch: Vec<(&Path, &[u8])> = outputs
            .iter()
            .map(|(path, text)| (*path, text.as_bytes()))
            .collect();
        write_all_atomically(&batch)?;
    }
    Ok(Summary {
        dry_run: config.dry_run,
        model_package: package,
        stages: Stage::ALL
            .into_iter()
            .map(|stage| {
                let planned = plan.stage(stage);
                StageSummary {
                    stage_name: planned.stage_name.clone(),
                    endpoint_name: planned.endpoint_name.clone(),
                    template_file: config.stage(stage).template_export.display().to_string(),
                    parameter_file: config.stage(stage).export.display().to_string(),
                }
            })
            .collect(),
        files: outputs
            .iter()
            .map(|(path, text)| WrittenFile {
                path: path.display().to_string(),
                bytes: text.len(),
            })
            .collect(),
        cross_account_access,
        accounts_files,
        deploy_needed: decisions.map(|d| d.needed),
        deploy_needed_reasons: decisions.map(|d| d.reason.clone()),
        warnings,
    })
}

/// Whether each stage needs a deploy: what the plan would deploy, to the accounts resolved for
/// the stage in the pipeline's Region, against what its StackSet runs
/// (`deploy_core::deploy_decision`).
fn decide(
    config: &BuildConfig,
    sdk_config: &SdkConfig,
    plan: &deploy_core::build_plan::Plan,
    stack_sets: &PerStage<deploy_decision::Deployed>,
    accounts_files: &[AccountsFileSummary],
) -> PerStage<deploy_decision::Decision> {
    let regions: Vec<String> = sdk_config
        .region()
        .map(ToString::to_string)
        .into_iter()
        .collect();
    PerStage::from_fn(|stage| {
        let accounts: Option<BTreeSet<String>> = config
            .accounts_exports
            .iter()
            .zip(accounts_files)
            .find(|(export, _)| export.stage == stage)
            .map(|(_, summary)| summary.accounts.iter().cloned().collect());
        let template = plan.template(stage);
        let wanted = Wanted {
            template: &template.text,
            declared: &template.declared,
            parameters: &plan.stage(stage).parameters,
            accounts: accounts.as_ref(),
            regions: &regions,
        };
        let decision = deploy_decision::decide(&wanted, stack_sets.get(stage));
        tracing::info!(
            stage = stage.name(),
            needed = decision.needed,
            reason = %decision.reason,
            "deploy decision"
        );
        decision
    })
}
