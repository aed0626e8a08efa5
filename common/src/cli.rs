//! Command-line pieces both binaries share beyond the AWS and logging flags: the summary format on
//! stdout, and path flags whose env fallback may be set but empty. CodeBuild passes an unset
//! project variable on as "" (the seed then passed it on as a flag, B10); for a path with a
//! default, empty means the default.

use std::path::PathBuf;

use clap::ValueEnum;

/// Format of the summary on stdout.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    #[default]
    Text,
    Json,
}

/// A clap value parser for a path flag with a default: an empty value (from an empty env var)
/// means `default`. Use it together with `default_value = default`.
pub fn path_or_default(
    default: &'static str,
) -> impl Fn(&str) -> Result<PathBuf, String> + Clone + Send + Sync + 'static {
    move |text| {
        Ok(PathBuf::from(if text.trim().is_empty() {
            default
        } else {
            text
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_means_the_default() {
        let parse = path_or_default("out.json");
        assert_eq!(parse("").unwrap(), PathBuf::from("out.json"));
        assert_eq!(parse("  ").unwrap(), PathBuf::from("out.json"));
        assert_eq!(parse("x/y.json").unwrap(), PathBuf::from("x/y.json"));
    }
}
