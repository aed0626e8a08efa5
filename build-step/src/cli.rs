//! The command line. Every setting is a flag with an env fallback named as the seed's CodeBuild
//! project sets it (names from `deploy_core::inputs`), so the same binary runs in CodeBuild with no
//! flags and on a laptop with flags or a profile. Nothing here is checked beyond its syntax: the
//! config stage (`config`) turns these raw values into one checked value.

use std::path::PathBuf;

use clap::{ArgAction, Parser};
use deploy_core::inputs as input;
use deploy_core::Format;
use deploy_shell::cli::path_or_default;
use deploy_shell::logging::LogArgs;
use deploy_shell::AwsArgs;

pub(crate) const DEFAULT_IMPORT_STAGING_CONFIG: &str = "staging-config.json";
pub(crate) const DEFAULT_IMPORT_PROD_CONFIG: &str = "prod-config.json";
pub(crate) const DEFAULT_EXPORT_TEMPLATE: &str = "template-export.yml";
pub(crate) const DEFAULT_EXPORT_PROD_TEMPLATE: &str = "prod-template-export.yml";
pub(crate) const DEFAULT_EXPORT_STAGING_CONFIG: &str = "staging-config-export.json";
pub(crate) const DEFAULT_EXPORT_PROD_CONFIG: &str = "prod-config-export.json";

/// How the cross-account grant names the accounts it lets in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum GrantPrincipals {
    /// The OUs' Organizations paths (`aws:PrincipalOrgPaths`): no OU walk, constant size.
    OrgPaths,
    /// Each ACTIVE account under the OUs as its own principal: the OU walk, about 66 characters an
    /// account in a policy of at most 20,480 (about 300 accounts).
    Accounts,
}

/// Picks the newest Approved model package of a SageMaker model package group and renders the
/// endpoint template and the StackSet parameter files the deployment pipeline deploys.
#[derive(Debug, Clone, Parser)]
#[command(name = "build-step", version, after_help = after_help())]
pub struct Args {
    /// Model package group to deploy from
    #[arg(long = input::MODEL_PACKAGE_GROUP.flag, env = input::MODEL_PACKAGE_GROUP.env, value_name = "GROUP")]
    pub(crate) model_package_group_name: Option<String>,
    /// SageMaker project name (at most 32 characters)
    #[arg(long = input::PROJECT_NAME.flag, env = input::PROJECT_NAME.env, value_name = "NAME")]
    pub(crate) sagemaker_project_name: Option<String>,
    /// SageMaker project id
    #[arg(long = input::PROJECT_ID.flag, env = input::PROJECT_ID.env, value_name = "ID")]
    pub(crate) sagemaker_project_id: Option<String>,
    /// Project artifact bucket (default data capture destination)
    #[arg(long = input::ARTIFACT_BUCKET.flag, env = input::ARTIFACT_BUCKET.env, value_name = "BUCKET")]
    pub(crate) artifact_bucket: Option<String>,
    /// Execution role name in the staging accounts
    #[arg(long = input::STAGING_ROLE.flag, env = input::STAGING_ROLE.env, value_name = "ROLE")]
    pub(crate) sagemaker_execution_role_staging_name: Option<String>,
    /// Execution role name in the prod accounts
    #[arg(long = input::PROD_ROLE.flag, env = input::PROD_ROLE.env, value_name = "ROLE")]
    pub(crate) sagemaker_execution_role_prod_name: Option<String>,
    /// Staging organizational unit (for --grant-cross-account-access)
    #[arg(long = input::STAGING_OU.flag, env = input::STAGING_OU.env, value_name = "OU")]
    pub(crate) organizational_unit_staging_id: Option<String>,
    /// Prod organizational unit (for --grant-cross-account-access)
    #[arg(long = input::PROD_OU.flag, env = input::PROD_OU.env, value_name = "OU")]
    pub(crate) organizational_unit_prod_id: Option<String>,
    /// Stage config to read for staging
    #[arg(long = input::IMPORT_STAGING_CONFIG.flag, value_name = "FILE", default_value = DEFAULT_IMPORT_STAGING_CONFIG)]
    pub(crate) import_staging_config: PathBuf,
    /// Stage config to read for prod
    #[arg(long = input::IMPORT_PROD_CONFIG.flag, value_name = "FILE", default_value = DEFAULT_IMPORT_PROD_CONFIG)]
    pub(crate) import_prod_config: PathBuf,
    /// Rendered endpoint template of the staging stack to write
    #[arg(long = input::EXPORT_TEMPLATE.flag, env = input::EXPORT_TEMPLATE.env, value_name = "FILE", default_value = DEFAULT_EXPORT_TEMPLATE, value_parser = path_or_default(DEFAULT_EXPORT_TEMPLATE))]
    pub(crate) export_template: PathBuf,
    /// Rendered endpoint template of the prod stack to write
    #[arg(long = input::EXPORT_PROD_TEMPLATE.flag, env = input::EXPORT_PROD_TEMPLATE.env, value_name = "FILE", default_value = DEFAULT_EXPORT_PROD_TEMPLATE, value_parser = path_or_default(DEFAULT_EXPORT_PROD_TEMPLATE))]
    pub(crate) export_prod_template: PathBuf,
    /// Staging StackSet parameter file to write
    #[arg(long = input::EXPORT_STAGING_CONFIG.flag, env = input::EXPORT_STAGING_CONFIG.env, value_name = "FILE", default_value = DEFAULT_EXPORT_STAGING_CONFIG, value_parser = path_or_default(DEFAULT_EXPORT_STAGING_CONFIG))]
    pub(crate) export_staging_config: PathBuf,
    /// Prod StackSet parameter file to write
    #[arg(long = input::EXPORT_PROD_CONFIG.flag, env = input::EXPORT_PROD_CONFIG.env, value_name = "FILE", default_value = DEFAULT_EXPORT_PROD_CONFIG, value_parser = path_or_default(DEFAULT_EXPORT_PROD_CONFIG))]
    pub(crate) export_prod_config: PathBuf,
    /// Staging accounts file to write: a JSON array of the ACTIVE account ids under the staging
    /// OU, child OUs included (a SELF_MANAGED StackSet action's DeploymentTargets)
    #[arg(long = input::EXPORT_STAGING_ACCOUNTS.flag, env = input::EXPORT_STAGING_ACCOUNTS.env, value_name = "FILE")]
    pub(crate) export_staging_accounts: Option<String>,
    /// Prod accounts file to write, like --export-staging-accounts for the prod OU
    #[arg(long = input::EXPORT_PROD_ACCOUNTS.flag, env = input::EXPORT_PROD_ACCOUNTS.env, value_name = "FILE")]
    pub(crate) export_prod_accounts: Option<String>,
    /// Staging account ids (comma-separated) for the staging accounts file, instead of walking the
    /// staging OU (for a pipeline that cannot read Organizations)
    #[arg(long = input::STAGING_ACCOUNT_IDS.flag, env = input::STAGING_ACCOUNT_IDS.env, value_name = "IDS")]
    pub(crate) staging_account_ids: Option<String>,
    /// Prod account ids (comma-separated) for the prod accounts file, instead of walking the prod OU
    #[arg(long = input::PROD_ACCOUNT_IDS.flag, env = input::PROD_ACCOUNT_IDS.env, value_name = "IDS")]
    pub(crate) prod_account_ids: Option<String>,
    /// Deploy this package (it must be in the group and Approved) instead of the newest Approved one
    #[arg(long = input::MODEL_PACKAGE_ARN.flag, env = input::MODEL_PACKAGE_ARN.env, value_name = "ARN")]
    pub(crate) model_package_arn: Option<String>,
    /// The pipeline whose run started this build, for --pipeline-execution-id
    #[arg(long = input::PIPELINE_NAME.flag, env = input::PIPELINE_NAME.env, value_name = "NAME")]
    pub(crate) pipeline_name: Option<String>,
    /// Take the package from this pipeline run's ModelPackageArn variable (newest, or an ARN to pin)
    #[arg(long = input::PIPELINE_EXECUTION_ID.flag, env = input::PIPELINE_EXECUTION_ID.env, value_name = "ID")]
    pub(crate) pipeline_execution_id: Option<String>,
    /// Custom Jinja template [default: the built-in templates/endpoint.yml.j2]
    #[arg(long = input::TEMPLATE.flag, value_name = "FILE")]
    pub(crate) template: Option<PathBuf>,
    /// Let the ACTIVE accounts of the staging and prod OUs use the group's packages (resource policy)
    #[arg(long = input::GRANT_CROSS_ACCOUNT_ACCESS.flag, env = input::GRANT_CROSS_ACCOUNT_ACCESS.env,
          action = ArgAction::Set, num_args = 0..=1,
          default_value = "false", default_missing_value = "true",
          value_parser = clap::builder::BoolishValueParser::new())]
    pub(crate) grant_cross_account_access: bool,
    /// Whom the grant names: the OUs by their Organizations paths (a policy of constant size that
    /// covers accounts the day they join), or every ACTIVE account of the OUs one by one
    #[arg(long = input::GRANT_PRINCIPALS.flag, env = input::GRANT_PRINCIPALS.env, value_enum, default_value_t = GrantPrincipals::OrgPaths)]
    pub(crate) grant_principals: GrantPrincipals,
    /// Also write whether each stage's StackSet needs a deploy, as the lines DEPLOY_STAGING=true|false
    /// and DEPLOY_PROD=true|false (a file a shell can source; the build buildspec exports them)
    #[arg(long = input::DECISION_ENV.flag, value_name = "FILE")]
    pub(crate) decision_env: Option<PathBuf>,
    /// Change nothing (no files, no AWS writes): validate everything and print the plan
    #[arg(long = input::DRY_RUN.flag)]
    pub(crate) dry_run: bool,
    /// Summary format on stdout
    #[arg(long = input::OUTPUT.flag, value_enum, default_value_t = Format::Text)]
    pub output: Format,
    #[command(flatten)]
    pub(crate) aws: AwsArgs,
    #[command(flatten)]
    pub log: LogArgs,
}

fn after_help() -> String {
    deploy_core::exit::help_table(
        "nothing to deploy: the group has no Approved model package",
        None,
    )
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;

    #[test]
    fn every_flag_and_variable_comes_from_the_registry() {
        test_support::cli::assert_names_from_registry(&Args::command());
    }
}
