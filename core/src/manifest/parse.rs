//! The manifest's text in, the checked [`Manifest`] out: its JSON shape (unknown fields are
//! refused), unique case names, body names that stay relative and never climb out with `..`, the
//! size of all bodies together, the regexes, JSON pointers and ranges of the expectations. Where
//! a body's bytes come from is the caller's: the payloads directory for `Manifest::load`, memory
//! for a fuzz target or a test.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path};

use bytes::Bytes;
use serde::Deserialize;
use serde_json::Value;

use super::{Case, Expect, JsonCheck, Manifest, ManifestError, MAX_TOTAL_BODY_BYTES};
use crate::body_regex::BodyRegex;
use crate::stack_params::json_kind;

/// The manifest's shape, for messages about a file that does not have it.
const FORMAT: &str = r#"{"cases": [{"name": "one-row", "body": "one-row.csv", "content_type": "text/csv", "expect": {...}}]}"#;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ManifestFile {
    cases: Vec<CaseFile>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CaseFile {
    name: String,
    body: String,
    content_type: Option<String>,
    accept: Option<String>,
    #[serde(default)]
    expect: ExpectFile,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct ExpectFile {
    content_type: Option<String>,
    body_regex: Option<String>,
    #[serde(default)]
    json: BTreeMap<String, Value>,
}

impl Manifest {
    /// Parses and checks the manifest's text. `path` names the manifest in every message (and
    /// becomes [`Manifest::path`]). `body` gives the bytes of each case's body, named as the
    /// manifest names it, once the name is checked to be a non-empty relative path without `..`;
    /// bodies are asked for in the manifest's order, and an error it returns is that case's
    /// message. A byte order mark before the JSON is ignored.
    pub fn parse(
        text: &str,
        path: &Path,
        mut body: impl FnMut(&str) -> Result<Bytes, String>,
    ) -> Result<Self, ManifestError> {
        let fail = |message: String| ManifestError {
            path: path.to_owned(),
            message,
        };
        // Editors on Windows may save UTF-8 with a byte order mark; it is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let file: ManifestFile = serde_json::from_str(text).map_err(|err| {
            // serde reads a struct from a list too, which would blame the list's first element.
            match serde_json::from_str::<Value>(text) {
                Ok(value) if !value.is_object() => fail(format!(
                    "holds {}, not an object; the format is {FORMAT}",
                    json_kind(&value)
                )),
                _ => fail(format!(
                    "is not a valid manifest ({err}); the format is {FORMAT}"
                )),
            }
        })?;
        if file.cases.is_empty() {
            return Err(fail(
                "lists no cases; add at least one case with a name and a body file".into(),
            ));
        }
        let mut names = HashSet::new();
        let mut total_body_bytes = 0;
        let mut cases = Vec::with_capacity(file.cases.len());
        for case in file.cases {
            let name = case.name.trim().to_owned();
            if name.is_empty() {
                return Err(fail(
                    "a case has an empty name; give every case a unique name".into(),
                ));
            }
            if !names.insert(name.clone()) {
                return Err(fail(format!(
                    "the case name \"{name}\" is used twice; give every case a unique name"
                )));
            }
            let in_case = |message: String| fail(format!("case \"{name}\": {message}"));
            check_body_name(&case.body).map_err(in_case)?;
            let bytes = body(&case.body).map_err(in_case)?;
            total_body_bytes += bytes.len() as u64;
            if total_body_bytes > MAX_TOTAL_BODY_BYTES {
                return Err(in_case(format!(
                    "the bodies up to this case add up to {total_body_bytes} bytes, over the {MAX_TOTAL_BODY_BYTES}-byte limit for all bodies together; test with fewer or smaller samples"
                )));
            }
            let expect = Expect::from_file(case.expect).map_err(in_case)?;
            for (field, value) in [
                ("content_type", &case.content_type),
                ("accept", &case.accept),
            ] {
                if value.as_deref().is_some_and(|v| v.trim().is_empty()) {
                    return Err(in_case(format!(
                        "{field} is empty; remove it or give a media type such as text/csv"
                    )));
                }
            }
            cases.push(Case {
                name,
                body_file: case.body,
                body: bytes,
                content_type: case.content_type,
                accept: case.accept,
                expect,
            });
        }
        Ok(Self {
            path: path.to_owned(),
            cases,
        })
    }
}

/// A body's name must be relative to the payloads directory and stay inside it by its spelling
/// (no `..`); where it leads once symlinks are followed is the loader's to check.
fn check_body_name(file: &str) -> Result<(), String> {
    if file.trim().is_empty() {
        return Err(
            "body is empty; name the request body's file, relative to the payloads directory"
                .into(),
        );
    }
    let named = Path::new(file);
    if named.is_absolute() {
        return Err(format!(
            "body {file} is an absolute path; name the body relative to the payloads directory"
        ));
    }
    if named
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(format!(
            "body {file} climbs out of the payloads directory (..); keep every body inside it"
        ));
    }
    Ok(())
}

impl Expect {
    pub(super) fn from_file(file: ExpectFile) -> Result<Self, String> {
        let body_regex = file
            .body_regex
            .map(|pattern| {
                BodyRegex::new(&pattern).map_err(|err| format!("expect.body_regex {err}"))
            })
            .transpose()?;
        let mut json = Vec::with_capacity(file.json.len());
        for (pointer, value) in file.json {
            if !pointer.is_empty() && !pointer.starts_with('/') {
                return Err(format!(
                    "expect.json key \"{pointer}\" is not a JSON pointer; pointers start with / (RFC 6901), for example /predictions/0, or are \"\" for the whole document"
                ));
            }
            let check = JsonCheck::from_value(value)
                .map_err(|message| format!("expect.json \"{pointer}\": {message}"))?;
            json.push((pointer, check));
        }
        if file
            .content_type
            .as_deref()
            .is_some_and(|v| v.trim().is_empty())
        {
            return Err("expect.content_type is empty; remove it or give a media type".into());
        }
        Ok(Self {
            content_type: file.content_type,
            body_regex,
            json,
        })
    }
}

impl JsonCheck {
    /// An object whose keys are only `min` and/or `max` is a range; anything else is a literal.
    fn from_value(value: Value) -> Result<Self, String> {
        if let Value::Object(map) = &value {
            let is_range = !map.is_empty() && map.keys().all(|k| k == "min" || k == "max");
            if is_range {
                let bound = |key: &str| {
                    match map.get(key) {
                    None => Ok(None),
                    Some(Value::Number(n)) => Ok(n.as_f64()),
                    Some(other) => Err(format!(
                        "the range bound {key} is {other}, not a number; write it like {{\"min\": 0, \"max\": 1}}"
                    )),
                }
                };
                let (min, max) = (bound("min")?, bound("max")?);
                if let (Some(lo), Some(hi)) = (min, max) {
                    if lo > hi {
                        return Err(format!("the range has min {lo} above max {hi}"));
                    }
                }
                return Ok(JsonCheck::Range { min, max });
            }
        }
        Ok(JsonCheck::Equals(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// The bodies a test manifest may name, from memory.
    fn in_memory(file: &str) -> Result<Bytes, String> {
        match file {
            "one-row.csv" => Ok(Bytes::from_static(b"1,2,3\n")),
            _ => Err(format!("body file {file} not found")),
        }
    }

    fn parse(text: &str) -> Result<Manifest, ManifestError> {
        Manifest::parse(text, Path::new("payloads/manifest.json"), in_memory)
    }

    #[test]
    fn text_parses_without_a_file_system() {
        let manifest = parse(
            "\u{feff}{\"cases\": [{\"name\": \" one-row \", \"body\": \"one-row.csv\", \"expect\": {\"json\": {\"/p\": {\"max\": 1}}}}]}",
        )
        .unwrap();
        assert_eq!(manifest.path, Path::new("payloads/manifest.json"));
        let case = &manifest.cases[0];
        assert_eq!(case.name, "one-row", "names are trimmed");
        assert_eq!(case.body_file, "one-row.csv");
        assert_eq!(case.body.as_ref(), b"1,2,3\n");
        assert_eq!(
            case.expect.json,
            [(
                "/p".to_owned(),
                JsonCheck::Range {
                    min: None,
                    max: Some(1.0)
                }
            )]
        );
    }

    #[test]
    fn a_body_source_is_asked_only_for_names_that_stay_inside() {
        let mut asked = Vec::new();
        let text = json!({"cases": [
            {"name": "a", "body": "one-row.csv"},
            {"name": "b", "body": "sub/../../x.csv"}
        ]})
        .to_string();
        let err = Manifest::parse(&text, Path::new("m.json"), |file| {
            asked.push(file.to_owned());
            in_memory(file)
        })
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            "payload manifest m.json: case \"b\": body sub/../../x.csv climbs out of the payloads directory (..); keep every body inside it"
        );
        assert_eq!(asked, ["one-row.csv"]);
        for (body, message) in [
            (" ", "body is empty"),
            ("/etc/passwd", "is an absolute path"),
            ("../x.csv", "climbs out of the payloads directory (..)"),
        ] {
            let err = parse(&json!({"cases": [{"name": "a", "body": body}]}).to_string())
                .unwrap_err()
                .to_string();
            assert!(err.contains(message), "{body}: {err}");
        }
    }

    #[test]
    fn the_body_sources_message_names_the_case_and_the_manifest() {
        let err = parse(r#"{"cases": [{"name": "a", "body": "missing.csv"}]}"#).unwrap_err();
        assert_eq!(err.path, Path::new("payloads/manifest.json"));
        assert_eq!(
            err.to_string(),
            "payload manifest payloads/manifest.json: case \"a\": body file missing.csv not found"
        );
    }

    #[test]
    fn a_manifest_that_is_not_an_object_says_what_it_holds() {
        let err = parse("[1]").unwrap_err().to_string();
        assert!(err.contains("holds "), "{err}");
        assert!(
            err.contains(", not an object; the format is {\"cases\""),
            "{err}"
        );
    }
}
