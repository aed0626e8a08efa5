//! Everything that can stop `build-step`, each with the exit code it maps to and a one-paragraph
//! message that names the input (or AWS call) and the fix.

use deploy_core::access_policy::AccessError;
use deploy_core::build_plan::PlanError;
use deploy_core::files::{OutputSetError, WriteError};
use deploy_core::inputs::{self, Input};
use deploy_core::stack_params::ParameterFileError;
use deploy_core::ExitStatus;
use deploy_shell::aws::AwsSetupError;
use deploy_shell::finish::Failure;
use deploy_shell::AwsCallError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BuildError {
    #[error("missing {what}: {}", input.how_to_set())]
    MissingSetting { what: &'static str, input: Input },
    #[error("{input}: {message}")]
    BadSetting { input: Input, message: String },
    #[error("{export} asks for an accounts file, but nothing says which accounts: {} (its ACTIVE accounts are listed), or list them with {}", ou.how_to_set(), listed)]
    AccountsWithoutSource {
        export: Input,
        ou: Input,
        listed: Input,
    },
    #[error("no accounts for {export}: the organizational unit {ou}, from {input}, has no ACTIVE accounts, child OUs included, and a StackSet deployment with no target deploys nothing; check the OU id, or list the accounts with {listed}")]
    EmptyOu {
        export: Input,
        ou: String,
        input: Input,
        listed: Input,
    },
    #[error(transparent)]
    ParameterFile(#[from] ParameterFileError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "{source_name} names the model package {arn}, which {problem}; pin an Approved package of group {group}, or ask for the newest Approved one"
    )]
    PinnedPackage {
        /// The setting or pipeline variable that named the package.
        source_name: String,
        arn: String,
        group: String,
        problem: String,
    },
    #[error(
        "the pipeline variable ModelPackageArn of run {execution_id} of {pipeline} is \"{value}\", which {problem}; start the pipeline again with newest or the ARN of an Approved package of the group"
    )]
    PipelineVariable {
        pipeline: String,
        execution_id: String,
        value: String,
        problem: String,
    },
    #[error(
        "model package group \"{group}\" does not exist in this account and region; check {}, the region and the profile",
        inputs::MODEL_PACKAGE_GROUP
    )]
    GroupMissing { group: String },
    #[error(
        "model package group \"{group}\" has no Approved model package, so there is nothing to deploy; approve one in SageMaker Studio or with `aws sagemaker update-model-package --model-package-arn <arn> --model-approval-status Approved`, then run again"
    )]
    NothingApproved { group: String },
    #[error(transparent)]
    Access(#[from] AccessError),
    #[error(transparent)]
    Outputs(#[from] OutputSetError),
    #[error(transparent)]
    WriteOutput(#[from] WriteError),
    #[error(
        "the resource policy of model package group \"{group}\" changed every time build-step wrote it ({rounds} rounds): another writer keeps replacing it; run again once it is done"
    )]
    PolicyKeptChanging { group: String, rounds: usize },
    #[error(transparent)]
    AwsSetup(#[from] AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl Failure for BuildError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            BuildError::NothingApproved { .. } => ExitStatus::Negative,
            BuildError::Aws(err) => err.exit_status(),
            BuildError::PolicyKeptChanging { .. } => ExitStatus::AwsError,
            BuildError::PipelineVariable { .. }
            | BuildError::MissingSetting { .. }
            | BuildError::BadSetting { .. }
            | BuildError::AccountsWithoutSource { .. }
            | BuildError::EmptyOu { .. }
            | BuildError::ParameterFile(_)
            | BuildError::Plan(_)
            | BuildError::PinnedPackage { .. }
            | BuildError::GroupMissing { .. }
            | BuildError::Access(_)
            | BuildError::Outputs(_)
            | BuildError::WriteOutput(_)
            | BuildError::AwsSetup(_) => ExitStatus::BadInput,
        }
    }
}
