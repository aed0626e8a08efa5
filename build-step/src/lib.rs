//! `build-step`: the Build stage of the multi-account SageMaker deployment pipeline.
//!
//! It validates everything it can before touching AWS (settings, stage configs, the template and
//! its declared parameters), then makes the fewest AWS calls the job needs (one ListModelPackages
//! and one DescribeModelPackage in the normal case, whatever the group's size), and writes its
//! three outputs atomically at the very end, so any failure leaves no output behind.

pub mod access;
pub mod cli;
pub mod error;
pub mod registry;
pub mod stage_config;
pub mod summary;
pub mod template;

use std::collections::BTreeSet;
use std::path::Path;

use aws_config::SdkConfig;
use deploy_common::aws::{explain_failure, load_sdk_config};
use deploy_common::env_vars as env;
use deploy_common::files::write_all_atomically;
use deploy_common::organizations::active_accounts_under;
use deploy_common::stack_params::ParameterList;

pub use cli::Args;
pub use error::BuildError;
use registry::ModelPackage;
use stage_config::{check_distinct_stages, plan_stage, Derived, StageInput, StagePlan};
use summary::{AccessSummary, StageSummary, Summary, WrittenFile};
use template::{PackageContext, ProjectContext, RenderContext, Template};

/// Settings every run needs, checked to be present and non-empty (an env var set to "" counts as
/// unset: the seed passed such values on as flags, B10).
struct Settings<'a> {
    group: &'a str,
    project_name: &'a str,
    project_id: &'a str,
    staging_role: &'a str,
    prod_role: &'a str,
}

impl<'a> Settings<'a> {
    fn from_args(args: &'a Args) -> Result<Self, BuildError> {
        Ok(Self {
            group: required(
                &args.model_package_group_name,
                "the model package group",
                "--model-package-group-name",
                env::SOURCE_MODEL_PACKAGE_GROUP_NAME,
            )?,
            project_name: required(
                &args.sagemaker_project_name,
                "the project name",
                "--sagemaker-project-name",
                env::SAGEMAKER_PROJECT_NAME,
            )?,
            project_id: required(
                &args.sagemaker_project_id,
                "the project id",
                "--sagemaker-project-id",
                env::SAGEMAKER_PROJECT_ID,
            )?,
            staging_role: required(
                &args.sagemaker_execution_role_staging_name,
                "the staging execution role name",
                "--sagemaker-execution-role-staging-name",
                env::SAGEMAKER_EXECUTION_ROLE_STAGING_NAME,
            )?,
            prod_role: required(
                &args.sagemaker_execution_role_prod_name,
                "the prod execution role name",
                "--sagemaker-execution-role-prod-name",
                env::SAGEMAKER_EXECUTION_ROLE_PROD_NAME,
            )?,
        })
    }
}

fn required<'a>(
    value: &'a Option<String>,
    what: &'static str,
    flag: &'static str,
    env: &'static str,
) -> Result<&'a str, BuildError> {
    non_empty(value).ok_or(BuildError::MissingSetting { what, flag, env })
}

fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
}

/// Runs the whole build step and returns what it did (or, with `--dry-run`, would do).
pub async fn run(args: &Args) -> Result<Summary, BuildError> {
    let settings = Settings::from_args(args)?;
    let staging_config =
        ParameterList::read(&args.import_staging_config, "--import-staging-config")?;
    let prod_config = ParameterList::read(&args.import_prod_config, "--import-prod-config")?;
    let template = Template::load(args.template.as_deref())?;
    let grant_ous = if args.grant_cross_account_access {
        Some(grant_ous(args)?)
    } else {
        None
    };

    // Preflight: everything but the package is known, so bad input fails before any AWS call.
    let preview = ModelPackage::placeholder(settings.group);
    plan(
        args,
        &settings,
        &template,
        &preview,
        &staging_config,
        &prod_config,
    )?;

    let sdk_config = load_sdk_config(&args.aws).await?;
    match deploy(
        args,
        &settings,
        &template,
        [&staging_config, &prod_config],
        grant_ous,
        &sdk_config,
    )
    .await
    {
        Err(BuildError::Aws(err)) => Err(BuildError::Aws(explain_failure(&sdk_config, err).await)),
        other => other,
    }
}

/// The AWS part of the run: choose the package, plan for real, grant access, write the outputs.
async fn deploy(
    args: &Args,
    settings: &Settings<'_>,
    template: &Template,
    [staging_config, prod_config]: [&ParameterList; 2],
    grant_ous: Option<(String, String)>,
    sdk_config: &SdkConfig,
) -> Result<Summary, BuildError> {
    let sagemaker = aws_sdk_sagemaker::Client::new(sdk_config);
    let package = match non_empty(&args.model_package_arn) {
        Some(arn) => registry::pinned(&sagemaker, settings.group, arn).await?,
        None => registry::newest_approved(&sagemaker, settings.group).await?,
    };
    tracing::info!(arn = %package.arn, version = ?package.version, "chose model package");
    let (rendered, stages) = plan(
        args,
        settings,
        template,
        &package,
        staging_config,
        prod_config,
    )?;
    let warnings = instance_type_warnings(&package, &stages);
    for warning in &warnings {
        tracing::warn!("{warning}");
    }

    let cross_account_access = match grant_ous {
        Some((staging_ou, prod_ou)) => {
            let organizations = aws_sdk_organizations::Client::new(sdk_config);
            Some(
                grant_access(
                    &sagemaker,
                    &organizations,
                    settings.group,
                    [staging_ou, prod_ou],
                    args.dry_run,
                )
                .await?,
            )
        }
        None => None,
    };

    let outputs: [(&Path, String); 3] = [
        (&args.export_template, rendered),
        (
            &args.export_staging_config,
            stages[0].1.parameters.to_json(),
        ),
        (&args.export_prod_config, stages[1].1.parameters.to_json()),
    ];
    if !args.dry_run {
        let batch: Vec<(&Path, &[u8])> = outputs
            .iter()
            .map(|(path, text)| (*path, text.as_bytes()))
            .collect();
        write_all_atomically(&batch)?;
    }
    Ok(Summary {
        dry_run: args.dry_run,
        model_package: package,
        stages: stages
            .iter()
            .zip([&args.export_staging_config, &args.export_prod_config])
            .map(|((_, plan), file)| StageSummary {
                stage_name: plan.stage_name.clone(),
                endpoint_name: plan.endpoint_name.clone(),
                parameter_file: file.display().to_string(),
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
        warnings,
    })
}

/// The rendered template and both stages' plans, staging first, each with its name.
type Plan = (String, [(&'static str, StagePlan); 2]);

/// Renders the template for `package` and plans both stages against its declared parameters.
fn plan(
    args: &Args,
    settings: &Settings<'_>,
    template: &Template,
    package: &ModelPackage,
    staging_config: &ParameterList,
    prod_config: &ParameterList,
) -> Result<Plan, BuildError> {
    let context = RenderContext {
        package: PackageContext::new(package),
        project: ProjectContext {
            name: settings.project_name,
            id: settings.project_id,
        },
        generator: concat!("build-step ", env!("CARGO_PKG_VERSION")).to_owned(),
    };
    let rendered = template.render(&context)?;
    let declared = template.declared_parameters(&rendered)?;
    let derived = Derived {
        project_name: settings.project_name,
        project_id: settings.project_id,
        model_package_arn: &package.arn,
        artifact_bucket: non_empty(&args.artifact_bucket),
    };
    let staging_label = format!(
        "{} (--import-staging-config)",
        args.import_staging_config.display()
    );
    let prod_label = format!(
        "{} (--import-prod-config)",
        args.import_prod_config.display()
    );
    let staging = plan_stage(
        &declared,
        &StageInput {
            file_label: staging_label,
            config: staging_config,
            role_name: settings.staging_role,
            role_label:
                "SAGEMAKER_EXECUTION_ROLE_STAGING_NAME (--sagemaker-execution-role-staging-name)",
        },
        &derived,
    )?;
    let prod = plan_stage(
        &declared,
        &StageInput {
            file_label: prod_label,
            config: prod_config,
            role_name: settings.prod_role,
            role_label: "SAGEMAKER_EXECUTION_ROLE_PROD_NAME (--sagemaker-execution-role-prod-name)",
        },
        &derived,
    )?;
    let stages = [("staging", staging), ("prod", prod)];
    check_distinct_stages(&[&stages[0].1, &stages[1].1])?;
    Ok((rendered, stages))
}

fn instance_type_warnings(package: &ModelPackage, stages: &[(&str, StagePlan)]) -> Vec<String> {
    let supported = &package.realtime_instance_types;
    stages
        .iter()
        .filter_map(|(stage, plan)| {
            let instance_type = plan.instance_type.as_deref()?;
            (!supported.is_empty() && !supported.iter().any(|t| t == instance_type)).then(|| {
                format!(
                    "{stage}: EndpointInstanceType {instance_type} is not among the package's supported real-time instance types ({}); the endpoint may fail to start",
                    supported.join(", ")
                )
            })
        })
        .collect()
}

fn grant_ous(args: &Args) -> Result<(String, String), BuildError> {
    let staging =
        non_empty(&args.organizational_unit_staging_id).ok_or(BuildError::MissingSetting {
            what: "the staging OU id for --grant-cross-account-access",
            flag: "--organizational-unit-staging-id",
            env: env::ORGANIZATIONAL_UNIT_STAGING_ID,
        })?;
    let prod = non_empty(&args.organizational_unit_prod_id).ok_or(BuildError::MissingSetting {
        what: "the prod OU id for --grant-cross-account-access",
        flag: "--organizational-unit-prod-id",
        env: env::ORGANIZATIONAL_UNIT_PROD_ID,
    })?;
    Ok((staging.to_owned(), prod.to_owned()))
}

/// Lets every ACTIVE account of the OUs use the group's packages. With `dry_run` only the project's
/// statements are computed and shown; nothing is read from or written to the policy.
async fn grant_access(
    sagemaker: &aws_sdk_sagemaker::Client,
    organizations: &aws_sdk_organizations::Client,
    group: &str,
    ous: [String; 2],
    dry_run: bool,
) -> Result<AccessSummary, BuildError> {
    let mut accounts = BTreeSet::new();
    for ou in &ous {
        accounts.extend(active_accounts_under(organizations, ou).await?);
    }
    if accounts.is_empty() {
        return Err(BuildError::Access(format!(
            "no ACTIVE accounts under the OUs {} and {}; check ORGANIZATIONAL_UNIT_STAGING_ID and ORGANIZATIONAL_UNIT_PROD_ID",
            ous[0], ous[1]
        )));
    }
    let group_arn = registry::group_arn(sagemaker, group).await?;
    let ours = access::project_statements(&group_arn, &accounts)?;
    let existing = if dry_run {
        None
    } else {
        access::current_policy(sagemaker, group).await?
    };
    let policy = access::merge_policy(existing.as_deref(), ours)?;
    if !dry_run {
        access::put_policy(sagemaker, group, &policy).await?;
    }
    Ok(AccessSummary {
        accounts: accounts.into_iter().collect(),
        policy,
        applied: !dry_run,
    })
}
