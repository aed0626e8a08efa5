//! The exit-code contract both binaries document in `--help` and the README. It separates "the
//! check said no" (1) from "the tool could not run" (2, 3) so a pipeline can tell a rejected model
//! from a broken setup.

use std::process::ExitCode;

/// How a run ended, as the process exit code a pipeline reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// Everything asked for was done.
    Success = 0,
    /// The tool ran but the answer is no: nothing approved to deploy, or a target failed its tests.
    Negative = 1,
    /// Bad flags, env vars or input files; the message names the input and the fix.
    BadInput = 2,
    /// An AWS call or the network failed after the SDK's retries.
    AwsError = 3,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// The exit-code table for `--help` (`after_help`) and the README.
pub fn help_table(negative_meaning: &str) -> String {
    format!(
        "Exit codes:\n  0  success\n  1  {negative_meaning}\n  2  bad input (flags, env vars, input files); the message names the input and the fix\n  3  AWS or network error after the SDK's retries; the message names the call"
    )
}

/// Prints the final error of a run on stderr: a plain `error: ...` paragraph, or one JSON line
/// when logs are JSON, so log shippers parse it like every other line.
pub fn print_failure(
    format: crate::logging::LogFormat,
    tool: &str,
    message: &str,
    status: ExitStatus,
) {
    match format {
        crate::logging::LogFormat::Text => eprintln!("{tool}: error: {message}"),
        crate::logging::LogFormat::Json => eprintln!(
            "{}",
            serde_json::json!({"level": "ERROR", "message": message, "tool": tool, "exit_code": status.code()})
        ),
    }
}
