//! Command-line pieces both binaries share beyond the AWS and logging flags: path flags whose env
//! fallback may be set but empty, and settings that count as unset when empty. CodeBuild passes an
//! unset project variable on as "" (the seed then passed it on as a flag, B10); for a path with a
//! default, empty means the default, and for any other setting it means unset.

use std::path::PathBuf;

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

/// The value of a setting, trimmed; `None` when it is unset or blank.
pub fn non_empty(value: &Option<String>) -> Option<&str> {
    value.as_deref().map(str::trim).filter(|v| !v.is_empty())
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

    #[test]
    fn blank_settings_are_unset() {
        assert_eq!(non_empty(&Some("  churn ".into())), Some("churn"));
        assert_eq!(non_empty(&Some(" ".into())), None);
        assert_eq!(non_empty(&None), None);
    }
}
