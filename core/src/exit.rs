//! The exit-code contract both binaries document in `--help` and docs/running.md. It separates "the
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
    /// The run was stopped before it finished (test-step: SIGTERM, SIGINT or `--deadline`).
    Interrupted = 4,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        self as u8
    }

    /// The status a recorded code stands for; a code outside the contract reads as bad input.
    pub fn from_code(code: u8) -> Self {
        match code {
            0 => ExitStatus::Success,
            1 => ExitStatus::Negative,
            3 => ExitStatus::AwsError,
            4 => ExitStatus::Interrupted,
            _ => ExitStatus::BadInput,
        }
    }
}

impl From<ExitStatus> for ExitCode {
    fn from(status: ExitStatus) -> Self {
        ExitCode::from(status.code())
    }
}

/// The exit-code table for `--help` (`after_help`) and docs/running.md; `interrupted_meaning` for a
/// binary that can be stopped part way and says so.
pub fn help_table(negative_meaning: &str, interrupted_meaning: Option<&str>) -> String {
    let mut table = format!(
        "Exit codes:\n  0  success\n  1  {negative_meaning}\n  2  bad input (flags, env vars, input files); the message names the input and the fix\n  3  AWS or network error after the SDK's retries; the message names the call"
    );
    if let Some(meaning) = interrupted_meaning {
        table.push_str(&format!("\n  4  {meaning}"));
    }
    table
}

/// `message` with control characters and Unicode line and paragraph separators escaped. A
/// message can quote input (a project name, a parameter key); printed through this, a hostile
/// value cannot end the paragraph and forge lines of its own.
pub fn one_line(message: &str) -> String {
    let mut line = String::with_capacity(message.len());
    for c in message.chars() {
        if c.is_control() || matches!(c, '\u{2028}' | '\u{2029}') {
            line.extend(c.escape_default());
        } else {
            line.push(c);
        }
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_stays_one_line_whatever_it_quotes() {
        assert_eq!(
            one_line("name \"a\nb\r\u{85}c\u{2028}d\te\" is not valid"),
            "name \"a\\nb\\r\\u{85}c\\u{2028}d\\te\" is not valid"
        );
        assert_eq!(one_line("café: ${AWS::Region}"), "café: ${AWS::Region}");
    }

    #[test]
    fn codes_read_back_as_their_status() {
        for status in [
            ExitStatus::Success,
            ExitStatus::Negative,
            ExitStatus::BadInput,
            ExitStatus::AwsError,
            ExitStatus::Interrupted,
        ] {
            assert_eq!(ExitStatus::from_code(status.code()), status);
        }
        assert_eq!(ExitStatus::from_code(134), ExitStatus::BadInput);
    }
}
