//! What stops `test-step` before it can give a verdict, each with the exit code it maps to and a
//! one-paragraph message that names the input (or AWS call) and the fix. A target that fails its
//! tests is not an error here: it is a result in the report (exit 1).

use std::path::PathBuf;

use deploy_common::aws::AwsSetupError;
use deploy_common::stack_params::ParameterFileError;
use deploy_common::{AwsCallError, ExitStatus};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TestError {
    #[error("missing {what}: pass {flag} or set {env}")]
    MissingSetting {
        what: &'static str,
        flag: &'static str,
        env: &'static str,
    },
    #[error("{input}: {message}")]
    BadSetting { input: String, message: String },
    #[error("{source}{hint}")]
    BuildConfigFile {
        source: ParameterFileError,
        hint: &'static str,
    },
    #[error("{input} {}: {message}", path.display())]
    BuildConfig {
        input: &'static str,
        path: PathBuf,
        message: String,
    },
    #[error("payload manifest {}: {message}", path.display())]
    Manifest { path: PathBuf, message: String },
    #[error("{0}")]
    NoTargets(String),
    #[error(transparent)]
    WriteReport(#[from] deploy_common::files::WriteError),
    #[error(transparent)]
    AwsSetup(#[from] AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl TestError {
    pub fn exit_status(&self) -> ExitStatus {
        match self {
            TestError::Aws(err) if err.is_missing_credentials() => ExitStatus::BadInput,
            TestError::Aws(_) => ExitStatus::AwsError,
            TestError::MissingSetting { .. }
            | TestError::BadSetting { .. }
            | TestError::BuildConfigFile { .. }
            | TestError::BuildConfig { .. }
            | TestError::Manifest { .. }
            | TestError::NoTargets(_)
            | TestError::WriteReport(_)
            | TestError::AwsSetup(_) => ExitStatus::BadInput,
        }
    }
}
