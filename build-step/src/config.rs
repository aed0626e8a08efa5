//! The config stage: flags, env vars and files in, one checked [`BuildConfig`] out, before any
//! AWS call. Required settings are present, both stage configs parse, the template compiles, and
//! a plan made with a placeholder package passes, so every rule that does not depend on the real
//! package fails here, in a second, instead of after the registry search. The AWS part of the run
//! takes only this value.

use std::collections::BTreeSet;
use std::path::PathBuf;

use deploy_core::accounts_file;
use deploy_core::build_plan::{self, BuildInputs, PlanError, Stage};
use deploy_core::files::{check_output_set, NamedPath};
use deploy_core::inputs::{self, Input};
use deploy_core::model_package::ModelPackage;
use deploy_core::stack_params::ParameterList;
use deploy_core::stage_config::StageInput;
use deploy_core::targets::check_ou_id;
use deploy_core::template::{ProjectContext, Template};
use deploy_shell::aws::AwsSettings;
use deploy_shell::cli::non_empty;

use crate::cli::{Args, GrantPrincipals};
use crate::error::BuildError;
use crate::pipeline_run;

/// What the template's metadata names as its generator.
const GENERATOR: &str = concat!("build-step ", env!("CARGO_PKG_VERSION"));

/// Everything a run needs, checked.
pub(crate) struct BuildConfig {
    pub group: String,
    pub project_name: String,
    pub project_id: String,
    pub artifact_bucket: Option<String>,
    pub staging: StageSource,
    pub prod: StageSource,
    pub template: Template,
    /// Which package to deploy.
    pub package: PackageChoice,
    /// The OUs whose accounts get access to the group, when the grant was asked for.
    pub grant: Option<GrantOus>,
    /// The accounts files to write (none, one or both stages).
    pub accounts_exports: Vec<AccountsExport>,
    /// Where to write the deploy decision's env file, when asked for (`--decision-env`).
    pub decision_env: Option<PathBuf>,
    pub dry_run: bool,
    pub aws: AwsSettings,
}

/// Which package a run deploys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PackageChoice {
    /// The newest Approved package of the group.
    Newest,
    /// The package `MODEL_PACKAGE_ARN` names.
    Pinned(String),
    /// What the pipeline run's `ModelPackageArn` variable says (`crate::pipeline_run`).
    FromPipelineRun {
        pipeline: String,
        execution_id: String,
    },
}

/// One stage's config file, the role its stacks use, and the template and parameter file to
/// write.
pub(crate) struct StageSource {
    pub file: PathBuf,
    pub file_input: Input,
    pub config: ParameterList,
    pub role_name: String,
    pub role_input: Input,
    pub export: PathBuf,
    pub template_export: PathBuf,
}

/// One stage's accounts file: where to write it and where its accounts come from.
#[derive(Debug, Clone)]
pub(crate) struct AccountsExport {
    pub stage: Stage,
    pub path: PathBuf,
    pub input: Input,
    /// The setting that lists the stage's accounts instead of its OU (for messages).
    pub listed_input: Input,
    pub source: StageAccounts,
}

/// Where a stage's accounts come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum StageAccounts {
    /// The ACTIVE accounts under this OU (named by `input`), child OUs included.
    UnderOu { ou: String, input: Input },
    /// The accounts listed in `input`, checked.
    Listed {
        accounts: BTreeSet<String>,
        input: Input,
    },
}

/// The settings that name one stage's accounts file and its accounts.
struct AccountsSettings<'a> {
    stage: Stage,
    export: (&'a Option<String>, Input),
    listed: (&'a Option<String>, Input),
    ou: (&'a Option<String>, Input),
}

impl AccountsSettings<'_> {
    /// The stage's accounts file, when one is asked for: the listed ids (checked) if given,
    /// else the stage's OU, which must then be set.
    fn checked(&self) -> Result<Option<AccountsExport>, BuildError> {
        let Some(path) = non_empty(self.export.0) else {
            return Ok(None);
        };
        let source = match non_empty(self.listed.0) {
            Some(ids) => StageAccounts::Listed {
                accounts: accounts_file::parse_list(ids).map_err(|message| {
                    BuildError::BadSetting {
                        input: self.listed.1,
                        message,
                    }
                })?,
                input: self.listed.1,
            },
            None => StageAccounts::UnderOu {
                ou: checked_ou(
                    non_empty(self.ou.0).ok_or(BuildError::AccountsWithoutSource {
                        export: self.export.1,
                        ou: self.ou.1,
                        listed: self.listed.1,
                    })?,
                    self.ou.1,
                )?,
                input: self.ou.1,
            },
        };
        Ok(Some(AccountsExport {
            stage: self.stage,
            path: PathBuf::from(path),
            input: self.export.1,
            listed_input: self.listed.1,
            source,
        }))
    }
}

/// The staging and prod OUs of `--grant-cross-account-access`, and how the grant names them.
#[derive(Debug, Clone)]
pub(crate) struct GrantOus {
    pub staging: String,
    pub prod: String,
    pub principals: GrantPrincipals,
}

impl BuildConfig {
    /// Checks every input that can be checked without AWS (see the module doc).
    pub(crate) fn load(args: &Args) -> Result<Self, BuildError> {
        let group = required(
            &args.model_package_group_name,
            "the model package group",
            inputs::MODEL_PACKAGE_GROUP,
        )?;
        let project_name = required(
            &args.sagemaker_project_name,
            "the project name",
            inputs::PROJECT_NAME,
        )?;
        let project_id = required(
            &args.sagemaker_project_id,
            "the project id",
            inputs::PROJECT_ID,
        )?;
        let staging_role = required(
            &args.sagemaker_execution_role_staging_name,
            "the staging execution role name",
            inputs::STAGING_ROLE,
        )?;
        let prod_role = required(
            &args.sagemaker_execution_role_prod_name,
            "the prod execution role name",
            inputs::PROD_ROLE,
        )?;
        let staging = StageSource::read(
            &args.import_staging_config,
            inputs::IMPORT_STAGING_CONFIG,
            staging_role,
            inputs::STAGING_ROLE,
            [&args.export_template, &args.export_staging_config],
        )?;
        let prod = StageSource::read(
            &args.import_prod_config,
            inputs::IMPORT_PROD_CONFIG,
            prod_role,
            inputs::PROD_ROLE,
            [&args.export_prod_template, &args.export_prod_config],
        )?;
        let template = Template::load(args.template.as_deref()).map_err(PlanError::from)?;
        let accounts_exports = accounts_settings(args)
            .iter()
            .filter_map(|settings| settings.checked().transpose())
            .collect::<Result<Vec<_>, _>>()?;
        check_outputs(args, &template, &accounts_exports)?;
        let grant = if args.grant_cross_account_access {
            Some(GrantOus {
                staging: checked_ou(
                    &required(
                        &args.organizational_unit_staging_id,
                        "the staging OU id for the cross-account grant",
                        inputs::STAGING_OU,
                    )?,
                    inputs::STAGING_OU,
                )?,
                prod: checked_ou(
                    &required(
                        &args.organizational_unit_prod_id,
                        "the prod OU id for the cross-account grant",
                        inputs::PROD_OU,
                    )?,
                    inputs::PROD_OU,
                )?,
                principals: args.grant_principals,
            })
        } else {
            None
        };
        let config = Self {
            artifact_bucket: non_empty(&args.artifact_bucket).map(str::to_owned),
            package: package_choice(args)?,
            dry_run: args.dry_run,
            aws: AwsSettings::from_env(&args.aws)?,
            group,
            project_name,
            project_id,
            staging,
            prod,
            template,
            grant,
            accounts_exports,
            decision_env: args.decision_env.clone(),
        };
        // Everything but the package is known, so bad input fails before any AWS call.
        config.plan(&ModelPackage::placeholder(&config.group))?;
        Ok(config)
    }

    /// Both stages' rendered templates and plans for `package`.
    pub(crate) fn plan(&self, package: &ModelPackage) -> Result<build_plan::Plan, BuildError> {
        let labels = Stage::ALL.map(|stage| self.stage(stage).label());
        let [staging_label, prod_label] = labels;
        let inputs = BuildInputs {
            project: ProjectContext {
                name: &self.project_name,
                id: &self.project_id,
            },
            artifact_bucket: self.artifact_bucket.as_deref(),
            generator: GENERATOR,
            staging: self.staging.input(staging_label),
            prod: self.prod.input(prod_label),
        };
        Ok(build_plan::plan(&self.template, &inputs, package)?)
    }

    pub(crate) fn stage(&self, stage: Stage) -> &StageSource {
        match stage {
            Stage::Staging => &self.staging,
            Stage::Prod => &self.prod,
        }
    }
}

impl StageSource {
    fn read(
        file: &std::path::Path,
        file_input: Input,
        role_name: String,
        role_input: Input,
        [template_export, export]: [&std::path::Path; 2],
    ) -> Result<Self, BuildError> {
        Ok(Self {
            config: ParameterList::read(file, file_input)?,
            file: file.to_owned(),
            file_input,
            role_name,
            role_input,
            export: export.to_owned(),
            template_export: template_export.to_owned(),
        })
    }

    /// The config file as messages name it: `staging-config.json (--import-staging-config)`.
    fn label(&self) -> String {
        format!("{} ({})", self.file.display(), self.file_input)
    }

    fn input(&self, file_label: String) -> StageInput<'_> {
        StageInput {
            file_label,
            config: &self.config,
            role_name: &self.role_name,
            role_input: self.role_input,
        }
    }
}

/// Both stages' accounts settings.
fn accounts_settings(args: &Args) -> [AccountsSettings<'_>; 2] {
    [
        AccountsSettings {
            stage: Stage::Staging,
            export: (
                &args.export_staging_accounts,
                inputs::EXPORT_STAGING_ACCOUNTS,
            ),
            listed: (&args.staging_account_ids, inputs::STAGING_ACCOUNT_IDS),
            ou: (&args.organizational_unit_staging_id, inputs::STAGING_OU),
        },
        AccountsSettings {
            stage: Stage::Prod,
            export: (&args.export_prod_accounts, inputs::EXPORT_PROD_ACCOUNTS),
            listed: (&args.prod_account_ids, inputs::PROD_ACCOUNT_IDS),
            ou: (&args.organizational_unit_prod_id, inputs::PROD_OU),
        },
    ]
}

/// The outputs (each stage's template and parameter file, and the accounts files and the decision
/// env file asked for) may be written as a set: see `deploy_core::files`.
fn check_outputs(
    args: &Args,
    template: &Template,
    accounts: &[AccountsExport],
) -> Result<(), BuildError> {
    let named = NamedPath::new;
    let mut outputs = vec![
        named(&args.export_template, inputs::EXPORT_TEMPLATE),
        named(&args.export_prod_template, inputs::EXPORT_PROD_TEMPLATE),
        named(&args.export_staging_config, inputs::EXPORT_STAGING_CONFIG),
        named(&args.export_prod_config, inputs::EXPORT_PROD_CONFIG),
    ];
    outputs.extend(
        accounts
            .iter()
            .map(|export| named(&export.path, export.input)),
    );
    outputs.extend(
        args.decision_env
            .iter()
            .map(|path| named(path, inputs::DECISION_ENV)),
    );
    let mut read = vec![
        named(&args.import_staging_config, inputs::IMPORT_STAGING_CONFIG),
        named(&args.import_prod_config, inputs::IMPORT_PROD_CONFIG),
    ];
    // The file the template was read from: `--template x.yml.tera` may have read x.yml.j2.
    read.extend(template.path().map(|path| named(path, inputs::TEMPLATE)));
    Ok(check_output_set(&outputs, &read)?)
}

/// MODEL_PACKAGE_ARN (`newest`, the pipeline variable's default, counts as unset) or the pipeline
/// run to ask, not both.
fn package_choice(args: &Args) -> Result<PackageChoice, BuildError> {
    let pinned = non_empty(&args.model_package_arn).filter(|arn| *arn != pipeline_run::NEWEST);
    match (pinned, non_empty(&args.pipeline_execution_id)) {
        (Some(_), Some(_)) => Err(BuildError::BadSetting {
            input: inputs::MODEL_PACKAGE_ARN,
            message: format!(
                "and {} both say which package to deploy; give one of them",
                inputs::PIPELINE_EXECUTION_ID
            ),
        }),
        (Some(arn), None) => Ok(PackageChoice::Pinned(arn.to_owned())),
        (None, Some(execution_id)) => Ok(PackageChoice::FromPipelineRun {
            pipeline: required(
                &args.pipeline_name,
                "the pipeline whose run's variables say which package to deploy",
                inputs::PIPELINE_NAME,
            )?,
            execution_id: execution_id.to_owned(),
        }),
        (None, None) => Ok(PackageChoice::Newest),
    }
}

/// An OU setting's value, which must be an OU id (not the root, not an account).
fn checked_ou(ou: &str, input: Input) -> Result<String, BuildError> {
    check_ou_id(ou).map_err(|message| BuildError::BadSetting { input, message })?;
    Ok(ou.to_owned())
}

/// A setting every run needs: present and not blank (an env var set to "" counts as unset: the
/// seed passed such values on as flags, B10).
fn required(
    value: &Option<String>,
    what: &'static str,
    input: Input,
) -> Result<String, BuildError> {
    non_empty(value)
        .map(str::to_owned)
        .ok_or(BuildError::MissingSetting { what, input })
}
