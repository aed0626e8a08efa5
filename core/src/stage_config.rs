//! Turning a stage config (the seed's `staging-config.json` / `prod-config.json`) into the
//! StackSet parameter file the pipeline deploys. The rendered template's declared `Parameters` are
//! the contract: unknown keys (typos) are rejected with the known ones, values are checked against
//! each declaration's Type, AllowedValues, AllowedPattern and length/value bounds, and values
//! build-step derives itself cannot be overridden from a file. A parameter file that CloudFormation
//! would reject mid-deployment is rejected here, before anything is written.

use thiserror::Error;

use crate::endpoint::endpoint_name;
use crate::hosting::{self, StageValues};
use crate::inputs::{self, Input};
use crate::stack_params::ParameterList;
use crate::template::DeclaredParameter;

pub const STAGE_NAME: &str = "StageName";

/// A stage config that CloudFormation would reject, or that clashes with what build-step derives.
#[derive(Debug, Error)]
#[error("{origin}: {message}")]
pub struct StageConfigError {
    /// The file (`staging-config.json (--import-staging-config)`) or setting the value came from.
    pub origin: String,
    pub message: String,
}

/// One stage's inputs: the config file's entries and where they came from.
#[derive(Debug, Clone)]
pub struct StageInput<'a> {
    /// The config file, as named in messages (`staging-config.json (--import-staging-config)`).
    pub file_label: String,
    pub config: &'a ParameterList,
    pub role_name: &'a str,
    /// The setting the role name came from.
    pub role_input: Input,
}

/// The values build-step derives itself and appends after a stage's own entries.
#[derive(Debug, Clone)]
pub struct Derived<'a> {
    pub project_name: &'a str,
    pub project_id: &'a str,
    pub model_package_arn: &'a str,
    pub artifact_bucket: Option<&'a str>,
}

/// A validated stage: its export parameter list and the facts the summary and checks need.
#[derive(Debug, Clone)]
pub struct StagePlan {
    /// The config file as named in messages (from [`StageInput::file_label`]).
    pub file_label: String,
    pub stage_name: String,
    pub endpoint_name: String,
    /// The instance type; None for a serverless stage.
    pub instance_type: Option<String>,
    /// The memory of a serverless stage; None for one on instances.
    pub serverless_memory_mb: Option<String>,
    pub parameters: ParameterList,
}

/// Builds and validates one stage's StackSet parameter list: the config's entries in file order,
/// then `SageMakerProjectName`, `SageMakerProjectId`, `ModelPackageName`, `RoleName` and, when
/// known, `ArtifactBucket`.
pub fn plan_stage(
    declared: &[DeclaredParameter],
    input: &StageInput<'_>,
    derived: &Derived<'_>,
) -> Result<StagePlan, StageConfigError> {
    let derived_entries = [
        DerivedEntry::from_input(
            "SageMakerProjectName",
            Some(derived.project_name),
            inputs::PROJECT_NAME,
        ),
        DerivedEntry::from_input(
            "SageMakerProjectId",
            Some(derived.project_id),
            inputs::PROJECT_ID,
        ),
        DerivedEntry {
            key: "ModelPackageName",
            value: Some(derived.model_package_arn),
            origin: "the chosen model package".to_owned(),
        },
        DerivedEntry::from_input("RoleName", Some(input.role_name), input.role_input),
        DerivedEntry::from_input(
            "ArtifactBucket",
            derived.artifact_bucket,
            inputs::ARTIFACT_BUCKET,
        ),
    ];
    let config_error = |message: String| StageConfigError {
        origin: input.file_label.clone(),
        message,
    };
    let declaration = |key: &str| declared.iter().find(|d| d.name == key);

    let mut parameters = ParameterList::default();
    for entry in input.config.iter() {
        let key = entry.parameter_key.as_str();
        if let Some(entry) = derived_entries.iter().find(|entry| entry.key == key) {
            return Err(config_error(format!(
                "ParameterKey \"{key}\" is set by build-step from {}; remove it from the file",
                entry.origin
            )));
        }
        let Some(decl) = declaration(key) else {
            let derived_keys = derived_entries.each_ref().map(|entry| entry.key);
            return Err(config_error(unknown_key_message(
                key,
                declared,
                &derived_keys,
            )));
        };
        check_value(decl, &entry.parameter_value)
            .map_err(|why| config_error(format!("{key} {why}")))?;
        parameters
            .push(key, entry.parameter_value.as_str())
            .map_err(|k| config_error(format!("sets \"{k}\" twice")))?;
    }
    for DerivedEntry { key, value, origin } in derived_entries {
        let (Some(value), Some(decl)) = (value, declaration(key)) else {
            continue;
        };
        check_value(decl, value).map_err(|why| StageConfigError {
            origin,
            message: format!("the value for template parameter {key} {why}"),
        })?;
        parameters
            .push(key, value)
            .map_err(|k| config_error(format!("sets \"{k}\" twice")))?;
    }

    let values = StageValues {
        set: &parameters,
        declared,
    };
    let effective = |key: &str| values.effective(key).map(str::to_owned);
    // The hosting rules first: half a VPC (which makes the other half a required parameter) is
    // better named by the rule that explains it.
    hosting::check(&values).map_err(config_error)?;
    for decl in declared.iter().filter(|d| d.default.is_none()) {
        if parameters.get(&decl.name).is_none() {
            return Err(config_error(format!(
                "sets no \"{0}\", which the template requires; add {{\"ParameterKey\": \"{0}\", \"ParameterValue\": \"...\"}}",
                decl.name
            )));
        }
    }

    let stage_name = effective(STAGE_NAME)
        .ok_or_else(|| config_error(format!("sets no \"{STAGE_NAME}\"; add {{\"ParameterKey\": \"{STAGE_NAME}\", \"ParameterValue\": \"staging\"}}")))?;
    let endpoint_name = endpoint_name(derived.project_name, &stage_name)
        .map_err(|e| config_error(e.to_string()))?;
    Ok(StagePlan {
        file_label: input.file_label.clone(),
        instance_type: values.instance_type().map(str::to_owned),
        serverless_memory_mb: values.serverless_memory().map(str::to_owned),
        stage_name,
        endpoint_name,
        parameters,
    })
}

/// A value build-step sets itself, and the setting it comes from.
struct DerivedEntry<'a> {
    key: &'static str,
    value: Option<&'a str>,
    origin: String,
}

impl<'a> DerivedEntry<'a> {
    fn from_input(key: &'static str, value: Option<&'a str>, input: Input) -> Self {
        Self {
            key,
            value,
            origin: input.to_string(),
        }
    }
}

/// The stages must deploy distinct endpoints.
pub fn check_distinct_stages(stages: &[&StagePlan]) -> Result<(), StageConfigError> {
    for (i, plan) in stages.iter().enumerate() {
        if let Some(other) = stages[..i].iter().find(|p| p.stage_name == plan.stage_name) {
            return Err(StageConfigError {
                origin: plan.file_label.clone(),
                message: format!(
                    "StageName \"{}\" is also the StageName in {}; each stage needs its own (for example staging and prod) or both deploy the same endpoint",
                    plan.stage_name, other.file_label
                ),
            });
        }
    }
    Ok(())
}

/// Checks one value against its declaration the way CloudFormation would, plus "whole numbers
/// stay whole": a Number whose default is an integer (counts, capacities, percentages) must get one.
pub fn check_value(decl: &DeclaredParameter, value: &str) -> Result<(), String> {
    let why = |problem: String| match &decl.constraint_description {
        Some(hint) => format!("{problem} (expected {hint})"),
        None => problem,
    };
    if decl.kind == "Number" {
        let number: f64 = value
            .trim()
            .parse()
            .ok()
            .filter(|n: &f64| n.is_finite())
            .ok_or_else(|| why(format!("\"{value}\" is not a number")))?;
        // The value is written to the parameter file as given, so it must be in the form
        // CloudFormation reads: no spaces, sign, exponent or leading dot.
        if !is_plain_decimal(value) {
            return Err(why(format!(
                "\"{value}\" is not written as a plain decimal number (digits, an optional minus and decimal point, such as 2 or 0.5)"
            )));
        }
        if decl
            .default
            .as_deref()
            .is_some_and(|d| d.parse::<i64>().is_ok())
            && number.fract() != 0.0
        {
            return Err(why(format!("\"{value}\" must be a whole number")));
        }
        if let Some(min) = decl.min_value.filter(|min| number < *min) {
            return Err(why(format!("\"{value}\" is below the minimum {min}")));
        }
        if let Some(max) = decl.max_value.filter(|max| number > *max) {
            return Err(why(format!("\"{value}\" is above the maximum {max}")));
        }
    }
    if !decl.allowed_values.is_empty() && !decl.allowed_values.iter().any(|v| v == value) {
        return Err(why(format!(
            "\"{value}\" is not one of {}",
            decl.allowed_values.join(", ")
        )));
    }
    let length = value.chars().count();
    if let Some(max) = decl.max_length.filter(|max| length > *max) {
        return Err(why(format!(
            "\"{value}\" is {length} characters, over the maximum of {max}"
        )));
    }
    if let Some(min) = decl.min_length.filter(|min| length < *min) {
        return Err(why(format!(
            "\"{value}\" is {length} characters, under the minimum of {min}"
        )));
    }
    if let Some(pattern) = &decl.allowed_pattern {
        // regex-lite (the SDK links it anyway) reads CloudFormation's Java patterns as Java does
        // in the common cases: `\w`, `\d`, `\s`, `\b` and `(?i)` are ASCII-only. It rejects
        // `\p{..}` classes and class set operations (`[a-z&&[^c]]`): those "cannot be checked".
        let anchored = regex_lite::Regex::new(&format!("^(?:{})$", with_java_dots(pattern)))
            .map_err(|e| format!("cannot be checked: the template's AllowedPattern {pattern} is not a valid regex ({e})"))?;
        if !anchored.is_match(value) {
            return Err(why(format!(
                "{value:?} does not match the pattern {pattern}"
            )));
        }
    }
    Ok(())
}

/// `-?digits(.digits)?`: a number as CloudFormation takes it and as it is written out.
fn is_plain_decimal(value: &str) -> bool {
    let digits = |part: &str| !part.is_empty() && part.bytes().all(|b| b.is_ascii_digit());
    let unsigned = value.strip_prefix('-').unwrap_or(value);
    match unsigned.split_once('.') {
        Some((whole, fraction)) => digits(whole) && digits(fraction),
        None => digits(unsigned),
    }
}

/// What Java's `.` matches, as CloudFormation's AllowedPattern reads it: any character but a line
/// terminator (`\n`, `\r`, U+0085, U+2028, U+2029). regex-lite's `.` excludes `\n` only.
const JAVA_DOT: &str = r"[^\n\r\x{85}\x{2028}\x{2029}]";

/// `pattern` with every `.` outside a character class (and not escaped) read as Java reads it.
fn with_java_dots(pattern: &str) -> String {
    let mut translated = String::with_capacity(pattern.len());
    let mut chars = pattern.chars().peekable();
    let mut class_depth = 0_usize;
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                translated.push(c);
                translated.extend(chars.next());
            }
            '[' => {
                class_depth += 1;
                translated.push(c);
                // A `]` first in a class (after an optional `^`) is a literal.
                if chars.peek() == Some(&'^') {
                    translated.extend(chars.next());
                }
                if chars.peek() == Some(&']') {
                    translated.extend(chars.next());
                }
            }
            ']' if class_depth > 0 => {
                class_depth -= 1;
                translated.push(c);
            }
            '.' if class_depth == 0 => translated.push_str(JAVA_DOT),
            _ => translated.push(c),
        }
    }
    translated
}

fn unknown_key_message(key: &str, declared: &[DeclaredParameter], derived: &[&str]) -> String {
    let settable: Vec<&str> = declared
        .iter()
        .map(|d| d.name.as_str())
        .filter(|name| !derived.contains(name))
        .collect();
    let suggestion = settable
        .iter()
        .map(|name| {
            (
                edit_distance(&key.to_ascii_lowercase(), &name.to_ascii_lowercase()),
                *name,
            )
        })
        .filter(|(distance, _)| *distance <= 3)
        .min()
        .map(|(_, name)| format!("did you mean \"{name}\"? "))
        .unwrap_or_default();
    format!(
        "unknown ParameterKey \"{key}\"; {suggestion}the template accepts: {}",
        settable.join(", ")
    )
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            current.push(
                (previous[j] + usize::from(ca != *cb))
                    .min(previous[j + 1] + 1)
                    .min(current[j] + 1),
            );
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn number(name: &str, default: &str, min: f64) -> DeclaredParameter {
        DeclaredParameter {
            name: name.into(),
            kind: "Number".into(),
            default: Some(default.into()),
            min_value: Some(min),
            ..Default::default()
        }
    }

    #[test]
    fn numbers_are_checked() {
        let count = number("EndpointInstanceCount", "1", 1.0);
        assert!(check_value(&count, "2").is_ok());
        assert_eq!(
            check_value(&count, "two").unwrap_err(),
            "\"two\" is not a number"
        );
        assert_eq!(
            check_value(&count, "-1").unwrap_err(),
            "\"-1\" is below the minimum 1"
        );
        assert_eq!(
            check_value(&count, "1.5").unwrap_err(),
            "\"1.5\" must be a whole number"
        );
        assert!(check_value(&count, "NaN").is_err() && check_value(&count, "inf").is_err());
    }

    #[test]
    fn patterns_are_whole_value_and_ascii_like_java() {
        let pattern = |pattern: &str| DeclaredParameter {
            name: "P".into(),
            kind: "String".into(),
            allowed_pattern: Some(pattern.into()),
            ..Default::default()
        };
        let word = pattern("\\w+");
        assert!(check_value(&word, "a_1").is_ok());
        assert_eq!(
            check_value(&word, "a-b").unwrap_err(),
            "\"a-b\" does not match the pattern \\w+",
            "anchored to the whole value"
        );
        assert!(check_value(&word, "é").is_err(), "\\w is ASCII, as in Java");
        assert!(check_value(&pattern("(?i)ml\\..+"), "ML.m5.large").is_ok());
        assert!(check_value(&pattern("\\p{L}+"), "a")
            .unwrap_err()
            .starts_with(
                "cannot be checked: the template's AllowedPattern \\p{L}+ is not a valid regex"
            ));
    }

    #[test]
    fn numbers_must_be_written_as_cloudformation_reads_them() {
        let count = number("EndpointInstanceCount", "1", 1.0);
        for odd in [" 2", "2 ", "+2", "2e0", "0x2", ".5", "5.", "1_000"] {
            let err = check_value(&count, odd).unwrap_err();
            assert!(
                err.contains("is not written as a plain decimal number")
                    || err.contains("is not a number"),
                "{odd:?}: {err}"
            );
        }
        let ratio = number("Ratio", "0.5", 0.0);
        assert!(check_value(&ratio, "0.25").is_ok() && check_value(&ratio, "12").is_ok());
    }

    #[test]
    fn a_dot_in_a_pattern_matches_no_line_terminator_as_in_java() {
        let pattern = |pattern: &str| DeclaredParameter {
            name: "P".into(),
            kind: "String".into(),
            allowed_pattern: Some(pattern.into()),
            ..Default::default()
        };
        let any = pattern("s3://.*");
        assert!(check_value(&any, "s3://bucket/a.b").is_ok());
        for terminator in ["\r", "\n", "\u{85}", "\u{2028}", "\u{2029}"] {
            assert!(
                check_value(&any, &format!("s3://bucket{terminator}x")).is_err(),
                "{terminator:?}"
            );
        }
        let literal = pattern("a\\.b[.]c[].]d");
        assert!(check_value(&literal, "a.b.c]d").is_ok());
        assert!(
            check_value(&literal, "axb.c]d").is_err(),
            "an escaped dot stays a dot"
        );
        assert_eq!(with_java_dots("[^]]."), format!("[^]]{JAVA_DOT}"));
    }

    #[test]
    fn typos_get_a_suggestion() {
        let declared = [number("EndpointInstanceCount", "1", 1.0)];
        let message = unknown_key_message("EndpointInstanceCont", &declared, &[]);
        assert!(
            message.contains("did you mean \"EndpointInstanceCount\"?"),
            "{message}"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
    }
}
