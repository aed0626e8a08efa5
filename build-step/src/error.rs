//! Everything that can stop `build-step`, each with the exit code it maps to and a one-paragraph
//! message that names the input (or AWS call) and the fix.

use deploy_common::aws::AwsSetupError;
use deploy_common::stack_params::ParameterFileError;
use deploy_common::{AwsCallError, ExitStatus};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum BuildError {
    #[error("missing {what}: pass {flag} or set {env}")]
    MissingSetting {
        what: &'static str,
        flag: &'static str,
        env: &'static str,
    },
    #[error(transparent)]
    ParameterFile(#[from] ParameterFileError),
    #[error("{file}: {message}")]
    StageConfig { file: String, message: String },
    #[error("template {source_name}: {message}")]
    Template {
        source_name: String,
        message: String,
    },
    #[error(
        "model package {arn} (--model-package-arn / MODEL_PACKAGE_ARN) {problem}; pin an Approved package of group {group}, or unset it to deploy the newest Approved one"
    )]
    PinnedPackage {
        arn: String,
        group: String,
        problem: String,
    },
    #[error(
        "model package group \"{group}\" does not exist in this account and region; check SOURCE_MODEL_PACKAGE_GROUP_NAME (--model-package-group-name), the region and the profile"
    )]
    GroupMissing { group: String },
    #[error(
        "model package group \"{group}\" has no Approved model package, so there is nothing to deploy; approve one in SageMaker Studio or with `aws sagemaker update-model-package --model-package-arn <arn> --model-approval-status Approved`, then run again"
    )]
    NothingApproved { group: String },
    #[error("cross-account access: {0}")]
    Access(String),
    #[error(transparent)]
    WriteOutput(#[from] deploy_common::files::WriteError),
    #[error(transparent)]
    AwsSetup(#[from] AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl BuildError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            BuildError::NothingApproved { .. } => ExitStatus::Negative,
            BuildError::Aws(err) if err.is_missing_credentials() => ExitStatus::BadInput,
            BuildError::Aws(_) => ExitStatus::AwsError,
            BuildError::MissingSetting { .. }
            | BuildError::ParameterFile(_)
            | BuildError::StageConfig { .. }
            | BuildError::Template { .. }
            | BuildError::PinnedPackage { .. }
            | BuildError::GroupMissing { .. }
            | BuildError::Access(_)
            | BuildError::WriteOutput(_)
            | BuildError::AwsSetup(_) => ExitStatus::BadInput,
        }
    }
}
