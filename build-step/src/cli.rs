//! The command line. Every setting is a flag with an env fallback named as the seed's CodeBuild
//! project sets it (from the shared registry), so the same binary runs in CodeBuild with no flags
//! and on a laptop with flags or a profile.

use std::path::PathBuf;

use clap::{ArgAction, Parser};
use deploy_common::cli::path_or_default;
pub use deploy_common::cli::OutputFormat;
use deploy_common::env_vars as env;
use deploy_common::logging::LogArgs;
use deploy_common::AwsArgs;

/// Picks the newest Approved model package of a SageMaker model package group and renders the
/// endpoint template and the StackSet parameter files the deployment pipeline deploys.
#[derive(Debug, Clone, Parser)]
#[command(name = "build-step", version, after_help = after_help())]
pub struct Args {
    /// Model package group to deploy from
    #[arg(long, env = env::SOURCE_MODEL_PACKAGE_GROUP_NAME, value_name = "GROUP")]
    pub model_package_group_name: Option<String>,
    /// SageMaker project name (at most 32 characters)
    #[arg(long, env = env::SAGEMAKER_PROJECT_NAME, value_name = "NAME")]
    pub sagemaker_project_name: Option<String>,
    /// SageMaker project id
    #[arg(long, env = env::SAGEMAKER_PROJECT_ID, value_name = "ID")]
    pub sagemaker_project_id: Option<String>,
    /// Project artifact bucket (default data capture destination)
    #[arg(long, env = env::ARTIFACT_BUCKET, value_name = "BUCKET")]
    pub artifact_bucket: Option<String>,
    /// Execution role name in the staging accounts
    #[arg(long, env = env::SAGEMAKER_EXECUTION_ROLE_STAGING_NAME, value_name = "ROLE")]
    pub sagemaker_execution_role_staging_name: Option<String>,
    /// Execution role name in the prod accounts
    #[arg(long, env = env::SAGEMAKER_EXECUTION_ROLE_PROD_NAME, value_name = "ROLE")]
    pub sagemaker_execution_role_prod_name: Option<String>,
    /// Staging organizational unit (for --grant-cross-account-access)
    #[arg(long, env = env::ORGANIZATIONAL_UNIT_STAGING_ID, value_name = "OU")]
    pub organizational_unit_staging_id: Option<String>,
    /// Prod organizational unit (for --grant-cross-account-access)
    #[arg(long, env = env::ORGANIZATIONAL_UNIT_PROD_ID, value_name = "OU")]
    pub organizational_unit_prod_id: Option<String>,
    /// Stage config to read for staging
    #[arg(long, value_name = "FILE", default_value = "staging-config.json")]
    pub import_staging_config: PathBuf,
    /// Stage config to read for prod
    #[arg(long, value_name = "FILE", default_value = "prod-config.json")]
    pub import_prod_config: PathBuf,
    /// Rendered endpoint template to write
    #[arg(long, env = env::EXPORT_TEMPLATE_NAME, value_name = "FILE", default_value = "template-export.yml", value_parser = path_or_default("template-export.yml"))]
    pub export_template: PathBuf,
    /// Staging StackSet parameter file to write
    #[arg(long, env = env::EXPORT_TEMPLATE_STAGING_CONFIG, value_name = "FILE", default_value = "staging-config-export.json", value_parser = path_or_default("staging-config-export.json"))]
    pub export_staging_config: PathBuf,
    /// Prod StackSet parameter file to write
    #[arg(long, env = env::EXPORT_TEMPLATE_PROD_CONFIG, value_name = "FILE", default_value = "prod-config-export.json", value_parser = path_or_default("prod-config-export.json"))]
    pub export_prod_config: PathBuf,
    /// Deploy this package (it must be in the group and Approved) instead of the newest Approved one
    #[arg(long, env = env::MODEL_PACKAGE_ARN, value_name = "ARN")]
    pub model_package_arn: Option<String>,
    /// Custom Jinja template [default: the built-in templates/endpoint.yml.tera]
    #[arg(long, value_name = "FILE")]
    pub template: Option<PathBuf>,
    /// Let the ACTIVE accounts of the staging and prod OUs use the group's packages (resource policy)
    #[arg(long, env = env::GRANT_CROSS_ACCOUNT_ACCESS, action = ArgAction::Set, num_args = 0..=1,
          default_value = "false", default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub grant_cross_account_access: bool,
    /// Change nothing (no files, no AWS writes): validate everything and print the plan
    #[arg(long)]
    pub dry_run: bool,
    /// Summary format on stdout
    #[arg(long, value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,
    #[command(flatten)]
    pub aws: AwsArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

fn after_help() -> String {
    deploy_common::exit::help_table("nothing to deploy: the group has no Approved model package")
}
