//! The StackSet parameter file format, read and written in one place. CodePipeline's
//! CloudFormationStackSet action reads a JSON list of `{"ParameterKey", "ParameterValue"}`; the
//! seed's stage configs use the same shape, and `test-step` reads back what `build-step` wrote.
//! Reading is strict (duplicates, wrong shapes and non-string values are errors that say how to
//! fix the file) because a silently dropped parameter reverts to a template default in production.

use std::collections::HashSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use crate::input_file::{self, problem_from_text_error};
use crate::inputs::Input;

/// A parameter file's largest size: a stage config or an exported parameter file is a few
/// kilobytes, and a StackSet takes at most a few hundred parameters.
pub const MAX_PARAMETER_FILE_BYTES: u64 = 1024 * 1024;

/// One entry of a StackSet parameter file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", deny_unknown_fields)]
pub struct StackSetParameter {
    pub parameter_key: String,
    pub parameter_value: String,
}

impl StackSetParameter {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            parameter_key: key.into(),
            parameter_value: value.into(),
        }
    }
}

/// A parameter file's entries, in file order, keys unique.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterList(Vec<StackSetParameter>);

impl ParameterList {
    /// Builds a list, rejecting a key given twice.
    pub fn new(entries: Vec<StackSetParameter>) -> Result<Self, String> {
        let mut seen = HashSet::new();
        for entry in &entries {
            if !seen.insert(entry.parameter_key.as_str()) {
                return Err(entry.parameter_key.clone());
            }
        }
        Ok(Self(entries))
    }

    pub fn get(&self, key: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|p| p.parameter_key == key)
            .map(|p| p.parameter_value.as_str())
    }

    pub fn iter(&self) -> impl Iterator<Item = &StackSetParameter> {
        self.0.iter()
    }

    /// Appends an entry; an existing key is an error (the caller decides what a clash means).
    pub fn push(&mut self, key: &str, value: impl Into<String>) -> Result<(), String> {
        if self.get(key).is_some() {
            return Err(key.to_owned());
        }
        self.0.push(StackSetParameter::new(key, value));
        Ok(())
    }

    /// The file CodePipeline reads: pretty JSON, one trailing newline.
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(&self.0)
            .expect("invariant: pairs of strings always serialize");
        text.push('\n');
        text
    }

    /// Reads a parameter file. `input` is the setting that named the path, so the error can say
    /// which setting to fix.
    pub fn read(path: &Path, input: Input) -> Result<Self, ParameterFileError> {
        let fail = |problem| ParameterFileError {
            path: path.to_owned(),
            input,
            problem,
        };
        let text = input_file::read_text(path, MAX_PARAMETER_FILE_BYTES)
            .map_err(|err| fail(err.into()))?;
        Self::parse(&text).map_err(fail)
    }

    /// Parses the text of a parameter file.
    pub fn parse(text: &str) -> Result<Self, Problem> {
        if text.trim().is_empty() {
            return Err(Problem::Empty);
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|err| Problem::MalformedJson(err.to_string()))?;
        let serde_json::Value::Array(items) = value else {
            return Err(Problem::NotAList(json_kind(&value)));
        };
        let mut entries = Vec::with_capacity(items.len());
        for (index, item) in items.into_iter().enumerate() {
            let entry: StackSetParameter =
                serde_json::from_value(item).map_err(|err| Problem::BadEntry {
                    index,
                    reason: err.to_string(),
                })?;
            entries.push(entry);
        }
        Self::new(entries).map_err(Problem::DuplicateKey)
    }
}

/// What a JSON value is, for messages about a file that holds the wrong kind.
pub fn json_kind(value: &serde_json::Value) -> &'static str {
    match value {
        serde_json::Value::Object(_) => "an object",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Null => "null",
        serde_json::Value::Array(_) => "a list",
    }
}

/// A parameter file that cannot be used, with the path and the setting that named it.
#[derive(Debug, Error)]
#[error("{input} {}: {problem}", path.display())]
pub struct ParameterFileError {
    pub path: PathBuf,
    pub input: Input,
    pub problem: Problem,
}

const FORMAT_HINT: &str = r#"the file must be a JSON list like [{"ParameterKey": "StageName", "ParameterValue": "staging"}]"#;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum Problem {
    #[error("file not found; create it or point the setting at the right path")]
    Missing,
    #[error("is a directory, not a file; point the setting at the JSON file inside it")]
    IsDirectory,
    #[error("is not a regular file (a FIFO, device or socket, which could block or never end); point the setting at a JSON file")]
    NotRegular,
    #[error(
        "is over {MAX_PARAMETER_FILE_BYTES} bytes, far more than any parameter file; {FORMAT_HINT}"
    )]
    TooBig,
    #[error("cannot be read ({0}); check its permissions")]
    Unreadable(String),
    #[error("is not UTF-8 text (invalid byte after {0} valid bytes); save it as UTF-8 JSON")]
    NotUtf8(usize),
    #[error("is empty; {FORMAT_HINT}")]
    Empty,
    #[error("is not valid JSON ({0}); fix the syntax at that position")]
    MalformedJson(String),
    #[error("holds {0}, not a list; {FORMAT_HINT}")]
    NotAList(&'static str),
    #[error(
        "entry {index} is not a {{\"ParameterKey\": \"...\", \"ParameterValue\": \"...\"}} pair of strings ({reason}); give every entry exactly these two keys, each with a JSON string value (for example \"1\" rather than 1)"
    )]
    BadEntry { index: usize, reason: String },
    #[error("sets ParameterKey \"{0}\" more than once; keep one entry per key")]
    DuplicateKey(String),
}

problem_from_text_error!(Problem);

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A parameter list of `(key, value)` pairs, for the tests of every rule that reads one.
    pub(crate) fn params(pairs: &[(&str, &str)]) -> ParameterList {
        ParameterList::new(
            pairs
                .iter()
                .map(|(k, v)| StackSetParameter::new(*k, *v))
                .collect(),
        )
        .expect("distinct keys")
    }

    #[test]
    fn reads_the_seed_format_in_order() {
        let list = ParameterList::parse(
            r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"},
                {"ParameterKey": "EndpointInstanceCount", "ParameterValue": "1"}]"#,
        )
        .unwrap();
        let keys: Vec<_> = list.iter().map(|p| p.parameter_key.as_str()).collect();
        assert_eq!(keys, ["StageName", "EndpointInstanceCount"]);
        assert_eq!(list.get("EndpointInstanceCount"), Some("1"));
    }

    #[test]
    fn round_trips_through_the_written_format() {
        let mut list = ParameterList::default();
        list.push("Quote", "a \"b\"\n!Sub ${AWS::Region}").unwrap();
        assert_eq!(ParameterList::parse(&list.to_json()).unwrap(), list);
        assert_eq!(list.push("Quote", "again"), Err("Quote".to_owned()));
    }

    #[test]
    fn rejects_each_broken_shape_with_its_own_problem() {
        type Expectation = fn(&Problem) -> bool;
        let cases: &[(&str, Expectation)] = &[
            ("", |p| *p == Problem::Empty),
            ("[", |p| matches!(p, Problem::MalformedJson(_))),
            (r#"{"StageName": "x"}"#, |p| {
                *p == Problem::NotAList("an object")
            }),
            (r#"[{"ParameterKey": "A", "ParameterValue": 1}]"#, |p| {
                matches!(p, Problem::BadEntry { index: 0, .. })
            }),
            (r#"[{"ParameterKey": "A"}]"#, |p| {
                matches!(p, Problem::BadEntry { .. })
            }),
            (
                r#"[{"ParameterKey": "A", "ParameterValue": "1", "Extra": "x"}]"#,
                |p| matches!(p, Problem::BadEntry { .. }),
            ),
            (
                r#"[{"ParameterKey": "A", "ParameterValue": "1"}, {"ParameterKey": "A", "ParameterValue": "2"}]"#,
                |p| *p == Problem::DuplicateKey("A".into()),
            ),
        ];
        for (text, expected) in cases {
            let problem = ParameterList::parse(text).unwrap_err();
            assert!(expected(&problem), "{text:?} gave {problem:?}");
        }
    }

    #[test]
    fn file_errors_name_the_path_and_the_setting() {
        use crate::inputs::{BUILD_CONFIG, IMPORT_STAGING_CONFIG};

        let dir = tempfile::tempdir().unwrap();
        let err =
            ParameterList::read(&dir.path().join("nope.json"), IMPORT_STAGING_CONFIG).unwrap_err();
        assert_eq!(err.problem, Problem::Missing);
        let message = err.to_string();
        assert!(message.starts_with("--import-staging-config "), "{message}");
        assert!(message.contains("nope.json: file not found"), "{message}");

        let err = ParameterList::read(dir.path(), BUILD_CONFIG).unwrap_err();
        assert!(matches!(err.problem, Problem::IsDirectory), "{err:?}");

        let bom = dir.path().join("bom.json");
        std::fs::write(
            &bom,
            "\u{feff}[{\"ParameterKey\": \"StageName\", \"ParameterValue\": \"staging\"}]",
        )
        .unwrap();
        assert_eq!(
            ParameterList::read(&bom, BUILD_CONFIG)
                .unwrap()
                .get("StageName"),
            Some("staging"),
            "a UTF-8 byte order mark is skipped"
        );

        let bad = dir.path().join("latin1.json");
        std::fs::write(&bad, b"[\xff]").unwrap();
        assert_eq!(
            ParameterList::read(&bad, BUILD_CONFIG).unwrap_err().problem,
            Problem::NotUtf8(1)
        );
    }
}
