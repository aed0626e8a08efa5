//! How the binaries write for people or for tools: human text by default, JSON on request. One
//! enum serves both the summary on stdout (`--output`) and the log lines on stderr
//! (`--log-format`), so the two flags accept the same words.

/// Text for people, JSON for tools.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    #[default]
    Text,
    Json,
}
