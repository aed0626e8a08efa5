//! How every run ends, the same way for both binaries: the summary on stdout, one error paragraph
//! on stderr (plain text, or one JSON line when logs are JSON, so log shippers parse it like every
//! other line), and the process exit code. The code printed, logged and, for test-step, written
//! in the report is always the one the process exits with: a summary that cannot be printed is a
//! warning, never a second verdict.

use std::io::Write;
use std::process::ExitCode;

use deploy_core::exit::one_line;
use deploy_core::{ExitStatus, Format};

/// What a successful run prints on stdout, and whether it still has something to say on stderr
/// (test-step's report is a summary even when targets failed).
pub trait Summary {
    fn print(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()>;

    fn exit_status(&self) -> ExitStatus {
        ExitStatus::Success
    }

    /// The paragraph for stderr when the run did not fully succeed.
    fn failure(&self) -> Option<String> {
        None
    }
}

/// An error that stopped a run: its message is the paragraph on stderr.
pub trait Failure: std::fmt::Display {
    fn exit_status(&self) -> ExitStatus;
}

impl Summary for deploy_core::build_summary::Summary {
    fn print(&self, format: Format, out: &mut dyn Write) -> std::io::Result<()> {
        deploy_core::build_summary::Summary::print(self, format, out)
    }
}

/// The tool name, the two formats and the run's result: everything `main` ends with.
pub fn finish<S: Summary, E: Failure>(
    tool: &str,
    log_format: Format,
    output: Format,
    result: &Result<S, E>,
) -> ExitCode {
    let (status, message) = match result {
        Ok(summary) => {
            if let Err(err) = summary.print(output, &mut std::io::stdout().lock()) {
                tracing::warn!("cannot print the summary on stdout: {err}");
            }
            (summary.exit_status(), summary.failure())
        }
        Err(err) => (err.exit_status(), Some(err.to_string())),
    };
    if let Some(message) = message {
        eprintln!("{}", error_line(log_format, tool, &message, status));
    }
    status.into()
}

/// The final error of a run as stderr shows it. A message can quote input (a project name, a
/// parameter key); in text its line breaks and other control characters are escaped, so a
/// hostile value cannot end the paragraph and forge lines of its own.
fn error_line(format: Format, tool: &str, message: &str, status: ExitStatus) -> String {
    match format {
        Format::Text => format!("{tool}: error: {}", one_line(message)),
        Format::Json => serde_json::json!({
            "level": "ERROR",
            "message": message,
            "tool": tool,
            "exit_code": status.code(),
        })
        .to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_line_is_one_line_of_text_or_one_json_object() {
        let text = error_line(Format::Text, "t", "bad \"a\nb\"", ExitStatus::BadInput);
        assert_eq!(text, "t: error: bad \"a\\nb\"");
        let json: serde_json::Value = serde_json::from_str(&error_line(
            Format::Json,
            "t",
            "bad \"a\nb\"",
            ExitStatus::AwsError,
        ))
        .unwrap();
        assert_eq!(json["message"], "bad \"a\nb\"");
        assert_eq!(json["exit_code"], 3);
    }
}
