//! What stops `test-step` before it can give a verdict, each with the exit code it maps to and a
//! one-paragraph message that names the input (or AWS call) and the fix. A target that fails its
//! tests is not an error here: it is a result in the report (exit 1).

use std::path::PathBuf;

use deploy_core::accounts_file::AccountsFileError;
use deploy_core::files::{OutputSetError, WriteError};
use deploy_core::inputs::{self, Input};
use deploy_core::manifest::ManifestError;
use deploy_core::stack_params::ParameterFileError;
use deploy_core::ExitStatus;
use deploy_shell::aws::AwsSetupError;
use deploy_shell::finish::Failure;
use deploy_shell::AwsCallError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum TestError {
    #[error("missing {what}: {}", input.how_to_set())]
    MissingSetting { what: &'static str, input: Input },
    #[error(
        "missing the accounts to test: pass --{} (or list accounts with {}) or set {}",
        inputs::OU.flag.unwrap_or_default(),
        inputs::ACCOUNT_IDS,
        inputs::OU.var()
    )]
    NoAccounts,
    #[error("{input}: {message}")]
    BadSetting { input: Input, message: String },
    #[error("{source}{hint}")]
    BuildConfigFile {
        source: ParameterFileError,
        hint: &'static str,
    },
    #[error("{} {}: {message}", inputs::BUILD_CONFIG, path.display())]
    BuildConfig { path: PathBuf, message: String },
    #[error(transparent)]
    Manifest(#[from] ManifestError),
    #[error(transparent)]
    AccountsFile(#[from] AccountsFileError),
    #[error("{0}")]
    NoTargets(String),
    #[error("interrupted by {0} before any target was tested")]
    Interrupted(crate::stop::StopReason),
    #[error("cannot watch for SIGTERM and SIGINT ({0}), so the reports could not be saved if the build were stopped")]
    Signals(std::io::Error),
    #[error(transparent)]
    Reports(#[from] OutputSetError),
    #[error(transparent)]
    WriteReport(#[from] WriteError),
    #[error(transparent)]
    AwsSetup(#[from] AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl Failure for TestError {
    fn exit_status(&self) -> ExitStatus {
        match self {
            TestError::Aws(err) => err.exit_status(),
            TestError::Interrupted(_) => ExitStatus::Interrupted,
            TestError::MissingSetting { .. }
            | TestError::NoAccounts
            | TestError::BadSetting { .. }
            | TestError::BuildConfigFile { .. }
            | TestError::BuildConfig { .. }
            | TestError::Manifest(_)
            | TestError::AccountsFile(_)
            | TestError::NoTargets(_)
            | TestError::Signals(_)
            | TestError::Reports(_)
            | TestError::WriteReport(_)
            | TestError::AwsSetup(_) => ExitStatus::BadInput,
        }
    }
}
