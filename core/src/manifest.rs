//! The payload manifest: which requests to send to every endpoint and what a good answer looks like.
//!
//! `--payloads DIR` holds `manifest.json` and the request bodies it names. Everything is read and
//! checked before the first AWS call (unknown fields, bad regexes, bad JSON pointers, missing or
//! oversize bodies), so a typo in the manifest fails in a second with exit 2 instead of after the
//! wait for the endpoints. Response checks never echo the response body: a failure names the
//! expectation, the response's size and at most the one value a JSON pointer selected.

use std::collections::{BTreeMap, HashSet};
use std::path::{Component, Path, PathBuf};

use bytes::Bytes;

use serde::Deserialize;
use serde_json::Value;
use thiserror::Error;

use crate::body_regex::BodyRegex;
use crate::input_file::{self, ReadError};
use crate::inputs::PAYLOADS;
use crate::remote_text::{contained, MAX_ANSWER_QUOTE_CHARS};
use crate::stack_params::json_kind;

/// A manifest that cannot be used, with what to fix.
#[derive(Debug, Error)]
#[error("payload manifest {}: {message}", path.display())]
pub struct ManifestError {
    pub path: PathBuf,
    pub message: String,
}

/// The manifest's file name inside the payloads directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// InvokeEndpoint's limit on a real-time request body (6 MB).
pub const MAX_BODY_BYTES: u64 = 6 * 1024 * 1024;
/// All bodies of a manifest together: they stay in memory for the whole run, shared by every
/// target and invocation.
pub const MAX_TOTAL_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// The manifest itself; a real one is a few kilobytes.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// The largest answer whose JSON expectations are checked (InvokeEndpoint answers at most 6 MB).
pub const MAX_JSON_ANSWER_BYTES: usize = 6 * 1024 * 1024;
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
struct ExpectFile {
    content_type: Option<String>,
    body_regex: Option<String>,
    #[serde(default)]
    json: BTreeMap<String, Value>,
}

/// The checked manifest with every body loaded.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub cases: Vec<Case>,
}

/// One request and its expectations.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// The body's file name as the manifest gives it (for reports, never the content).
    pub body_file: String,
    /// Shared, not copied: every target's every invocation sends these same bytes.
    pub body: Bytes,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub expect: Expect,
}

/// What a response must satisfy; empty means any successful invocation passes.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub content_type: Option<String>,
    /// regex-lite syntax: `\w`, `\d`, `\s`, `\b` and `(?i)` are ASCII-only, and `\p{..}` classes
    /// and class set operations are rejected when the manifest is read; its cost is bounded
    /// ([`crate::body_regex`]).
    pub body_regex: Option<BodyRegex>,
    pub json: Vec<(String, JsonCheck)>,
}

/// The check for one JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonCheck {
    /// The value must equal this one (numbers compare by value: 1 equals 1.0).
    Equals(Value),
    /// The value must be a number within the bounds (inclusive).
    Range { min: Option<f64>, max: Option<f64> },
}

impl Manifest {
    /// Reads `dir/manifest.json` and every body it names.
    pub fn load(dir: &Path) -> Result<Self, ManifestError> {
        let path = dir.join(MANIFEST_FILE);
        let fail = |message: String| ManifestError {
            path: path.clone(),
            message,
        };
        let bytes = match input_file::read(&path, MAX_MANIFEST_BYTES) {
            Ok(bytes) => bytes,
            Err(ReadError::TooBig { .. }) => {
                return Err(fail(format!(
                    "is over {MAX_MANIFEST_BYTES} bytes; a manifest names its bodies, it does not hold them"
                )))
            }
            Err(_) if dir.is_file() => {
                return Err(fail(format!(
                    "{PAYLOADS} names a file, not a directory; point it at the directory that holds {MANIFEST_FILE}"
                )))
            }
            Err(ReadError::Missing) => {
                return Err(fail(format!(
                    "file not found; point {PAYLOADS} at the directory that holds {MANIFEST_FILE} (default test/payloads; see the README for the format)"
                )))
            }
            Err(ReadError::Directory) => {
                return Err(fail(format!(
                    "is a directory; the manifest is the JSON file {MANIFEST_FILE} directly inside {PAYLOADS}"
                )))
            }
            Err(ReadError::NotRegular) => {
                return Err(fail(format!(
                    "is not a regular file (a FIFO or a device); the manifest is the JSON file {MANIFEST_FILE} directly inside {PAYLOADS}"
                )))
            }
            Err(err) => return Err(fail(format!("{err}; check its permissions"))),
        };
        let text = String::from_utf8(bytes).map_err(|err| {
            fail(format!(
                "is not UTF-8 text (invalid byte after {} valid bytes); save it as UTF-8 JSON",
                err.utf8_error().valid_up_to()
            ))
        })?;
        // Editors on Windows may save UTF-8 with a byte order mark; it is not part of the JSON.
        let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
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
            let body = load_body(dir, &case.body).map_err(in_case)?;
            total_body_bytes += body.len() as u64;
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
                body,
                content_type: case.content_type,
                accept: case.accept,
                expect,
            });
        }
        Ok(Self { path, cases })
    }
}

/// Reads one body named by the manifest. It must stay inside the payloads directory (a relative
/// path without `..`, symlinks resolved and still inside) and be a regular file (a FIFO would
/// block, a device or a procfs file would stream without end); at most one byte past the limit is
/// ever read, whatever size the file reports.
fn load_body(dir: &Path, file: &str) -> Result<Bytes, String> {
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
    let path = dir.join(named);
    let unreadable = |err: std::io::Error| {
        if err.kind() == std::io::ErrorKind::NotFound {
            format!(
                "body file {} not found; bodies are named relative to the payloads directory",
                path.display()
            )
        } else {
            format!(
                "body file {} cannot be read ({err}); check its permissions",
                path.display()
            )
        }
    };
    let resolved = path.canonicalize().map_err(unreadable)?;
    let root = dir.canonicalize().map_err(unreadable)?;
    if !resolved.starts_with(&root) {
        return Err(format!(
            "body {} leads outside the payloads directory (to {}); keep every body inside it",
            path.display(),
            resolved.display()
        ));
    }
    match input_file::read(&resolved, MAX_BODY_BYTES) {
        Ok(body) => Ok(Bytes::from(body)),
        Err(ReadError::Directory | ReadError::NotRegular) => Err(format!(
            "body {} is not a file (a directory, FIFO or device); name a regular file inside the payloads directory",
            path.display()
        )),
        Err(ReadError::TooBig { .. }) => Err(match std::fs::metadata(&resolved) {
            Ok(metadata) if metadata.len() > MAX_BODY_BYTES => format!(
                "body file {} is {} bytes, over InvokeEndpoint's 6 MB ({MAX_BODY_BYTES}-byte) limit for real-time endpoints; test with a smaller sample (larger inputs need asynchronous inference or batch transform)",
                path.display(),
                metadata.len()
            ),
            _ => format!(
                "body file {} holds more than InvokeEndpoint's 6 MB ({MAX_BODY_BYTES}-byte) limit for real-time endpoints, whatever size it reports; test with a smaller sample",
                path.display()
            ),
        }),
        Err(ReadError::Missing) => Err(unreadable(std::io::ErrorKind::NotFound.into())),
        Err(ReadError::Unreadable(err)) => Err(format!(
            "body file {} cannot be read ({err}); check its permissions",
            path.display()
        )),
    }
}

impl Expect {
    fn from_file(file: ExpectFile) -> Result<Self, String> {
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

    /// Checks one response; every unmet expectation gives one message.
    pub fn check(&self, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(expected) = &self.content_type {
            match content_type {
                Some(actual) if media_types_match(expected, actual) => {}
                Some(actual) => failures.push(format!(
                    "the response Content-Type is {}, expected {expected}",
                    quote(actual)
                )),
                None => failures.push(format!(
                    "the response has no Content-Type, expected {expected}"
                )),
            }
        }
        if let Some(regex) = &self.body_regex {
            // regex-lite matches text, so bytes that are not UTF-8 become U+FFFD first (`.` and
            // negated classes match them; the full `regex` crate's byte mode would not).
            match regex.is_match(&String::from_utf8_lossy(body)) {
                Ok(true) => {}
                Ok(false) => failures.push(format!(
                    "the response body ({} bytes) does not match body_regex {}",
                    body.len(),
                    regex.as_str()
                )),
                Err(too_costly) => failures.push(too_costly),
            }
        }
        if self.json.is_empty() {
            return failures;
        }
        if body.len() > MAX_JSON_ANSWER_BYTES {
            failures.push(format!(
                "the response body ({} bytes) is over the {MAX_JSON_ANSWER_BYTES}-byte limit of JSON checks, so its JSON expectations cannot be checked",
                body.len()
            ));
            return failures;
        }
        let document: Value = match serde_json::from_slice(body) {
            Ok(document) => document,
            Err(err) => {
                failures.push(format!(
                    "the response body ({} bytes) is not JSON ({err}), so its JSON expectations cannot be checked",
                    body.len()
                ));
                return failures;
            }
        };
        for (pointer, check) in &self.json {
            let Some(actual) = document.pointer(pointer) else {
                failures.push(format!(
                    "{} is missing from the response",
                    show_pointer(pointer)
                ));
                continue;
            };
            if let Some(problem) = check.test(actual) {
                failures.push(format!("{} {problem}", show_pointer(pointer)));
            }
        }
        failures
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

    /// None when `actual` passes, else what is wrong with it.
    fn test(&self, actual: &Value) -> Option<String> {
        match self {
            JsonCheck::Equals(expected) => (!json_equal(expected, actual))
                .then(|| format!("is {}, expected {expected}", quote(&actual.to_string()))),
            JsonCheck::Range { min, max } => {
                let Some(number) = actual.as_f64() else {
                    return Some(format!("is {}, not a number", quote(&actual.to_string())));
                };
                let below = min.is_some_and(|lo| number < lo);
                let above = max.is_some_and(|hi| number > hi);
                (below || above).then(|| {
                    let show = |b: &Option<f64>| b.map_or_else(|| "..".into(), |v| v.to_string());
                    format!("is {number}, outside [{}, {}]", show(min), show(max))
                })
            }
        }
    }
}

/// JSON equality where numbers compare by value.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            // Exact on purpose: `1` equals `1.0`, and a model answering 0.30000000000000004
            // where 0.3 is expected has given another answer.
            #[allow(clippy::float_cmp)]
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// `application/json` matches `application/json; charset=utf-8`; with parameters in the
/// expectation, the parameters must match too. Case does not matter.
fn media_types_match(expected: &str, actual: &str) -> bool {
    let parts = |text: &str| -> Vec<String> {
        text.split(';')
            .map(|part| part.trim().to_ascii_lowercase().replace(' ', ""))
            .filter(|part| !part.is_empty())
            .collect()
    };
    let (expected, actual) = (parts(expected), parts(actual));
    if expected.len() <= 1 {
        expected.first() == actual.first()
    } else {
        expected == actual
    }
}

fn show_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "the response document".into()
    } else {
        pointer.to_owned()
    }
}

fn quote(text: &str) -> String {
    contained(text, MAX_ANSWER_QUOTE_CHARS)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn manifest_dir(manifest: &str, bodies: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), manifest).unwrap();
        for (name, body) in bodies {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        dir
    }

    fn expect(value: Value) -> Expect {
        Expect::from_file(serde_json::from_value(value).unwrap()).unwrap()
    }

    #[test]
    fn the_issue_example_loads() {
        let dir = manifest_dir(
            r#"{"cases": [{"name": "one-row", "body": "one-row.csv", "content_type": "text/csv", "accept": "application/json",
                "expect": {"content_type": "application/json", "body_regex": "^\\{", "json": {"/predictions/0": {"min": 0, "max": 1}, "/model": "demo"}}}]}"#,
            &[("one-row.csv", b"1,2,3\n")],
        );
        let manifest = Manifest::load(dir.path()).unwrap();
        let case = &manifest.cases[0];
        assert_eq!(case.body.as_ref(), b"1,2,3\n");
        assert_eq!(case.accept.as_deref(), Some("application/json"));
        assert_eq!(
            case.expect.json,
            vec![
                ("/model".to_owned(), JsonCheck::Equals(json!("demo"))),
                (
                    "/predictions/0".to_owned(),
                    JsonCheck::Range {
                        min: Some(0.0),
                        max: Some(1.0)
                    }
                ),
            ]
        );
    }

    #[test]
    fn the_shipped_samples_load() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../test/payloads");
        let manifest = Manifest::load(&dir).unwrap();
        assert!(manifest.cases.len() >= 2);
    }

    #[test]
    fn every_broken_manifest_names_its_problem() {
        let cases: &[(&str, &str)] = &[
            ("", "is not a valid manifest"),
            (r#"{"case": []}"#, "unknown field `case`"),
            (r#"{"cases": []}"#, "lists no cases"),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "exepct": {}}]}"#,
                "unknown field `exepct`",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "missing.csv"}]}"#,
                "case \"a\": body file",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv"}, {"name": "a", "body": "b.csv"}]}"#,
                "\"a\" is used twice",
            ),
            (
                r#"{"cases": [{"name": " ", "body": "b.csv"}]}"#,
                "empty name",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "expect": {"body_regex": "("}}]}"#,
                "body_regex is not a valid regular expression",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "expect": {"json": {"predictions/0": 1}}}]}"#,
                "is not a JSON pointer",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "expect": {"json": {"/p": {"min": 2, "max": 1}}}}]}"#,
                "min 2 above max 1",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "expect": {"json": {"/p": {"min": "0"}}}}]}"#,
                "not a number",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "b.csv", "content_type": ""}]}"#,
                "content_type is empty",
            ),
            (
                r#"{"cases": [{"name": "a", "body": "."}]}"#,
                "is not a file (a directory, FIFO or device)",
            ),
        ];
        for (text, message) in cases {
            let dir = manifest_dir(text, &[("b.csv", b"1")]);
            let err = Manifest::load(dir.path()).unwrap_err().to_string();
            assert!(err.contains(message), "{text}: {err}");
            assert!(err.starts_with("payload manifest "), "{err}");
        }
        let empty = tempfile::tempdir().unwrap();
        let err = Manifest::load(empty.path()).unwrap_err().to_string();
        assert!(
            err.contains("manifest.json: file not found; point --payloads"),
            "{err}"
        );
    }

    #[test]
    fn a_body_over_6_mb_is_rejected_before_any_call() {
        let at_limit = vec![b'x'; MAX_BODY_BYTES as usize];
        let dir = manifest_dir(
            r#"{"cases": [{"name": "big", "body": "big.csv"}]}"#,
            &[("big.csv", &at_limit)],
        );
        assert!(
            Manifest::load(dir.path()).is_ok(),
            "exactly 6 MB is allowed"
        );
        std::fs::write(
            dir.path().join("big.csv"),
            [at_limit.as_slice(), b"x"].concat(),
        )
        .unwrap();
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("is 6291457 bytes, over InvokeEndpoint's 6 MB"),
            "{err}"
        );
    }

    fn body_error(dir: &Path, body: &str) -> String {
        std::fs::write(
            dir.join(MANIFEST_FILE),
            serde_json::json!({"cases": [{"name": "a", "body": body}]}).to_string(),
        )
        .unwrap();
        Manifest::load(dir).unwrap_err().to_string()
    }

    #[test]
    fn bodies_stay_inside_the_payloads_directory() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.csv"), "x").unwrap();
        let dir = manifest_dir("{}", &[("b.csv", b"1")]);
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/inner.csv"), "2").unwrap();
        std::os::unix::fs::symlink(
            outside.path().join("secret.csv"),
            dir.path().join("out.csv"),
        )
        .unwrap();
        std::os::unix::fs::symlink("sub/inner.csv", dir.path().join("in.csv")).unwrap();
        let secret = outside.path().join("secret.csv");
        for (body, message) in [
            (secret.to_str().unwrap(), "is an absolute path"),
            ("../x.csv", "climbs out of the payloads directory (..)"),
            (
                "sub/../../x.csv",
                "climbs out of the payloads directory (..)",
            ),
            ("out.csv", "leads outside the payloads directory (to "),
        ] {
            let err = body_error(dir.path(), body);
            assert!(err.contains(message), "{body}: {err}");
        }
        std::fs::write(
            dir.path().join(MANIFEST_FILE),
            r#"{"cases": [{"name": "a", "body": "in.csv"}, {"name": "b", "body": "sub/inner.csv"}]}"#,
        )
        .unwrap();
        let manifest = Manifest::load(dir.path()).unwrap();
        assert_eq!(
            manifest.cases[0].body.as_ref(),
            b"2",
            "a symlink inside is followed"
        );
    }

    #[test]
    fn a_fifo_is_not_opened_and_a_streaming_file_is_read_only_to_the_limit() {
        let dir = manifest_dir("{}", &[]);
        let fifo = std::ffi::CString::new(dir.path().join("pipe.csv").to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let err = body_error(dir.path(), "pipe.csv");
        assert!(
            err.contains("is not a file (a directory, FIFO or device)"),
            "{err}"
        );
    }

    #[test]
    fn all_bodies_together_are_bounded() {
        let six_mb = vec![b'x'; MAX_BODY_BYTES as usize];
        let names: Vec<String> = (0..6).map(|i| format!("b{i}.csv")).collect();
        let bodies: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &six_mb[..])).collect();
        let cases: Vec<Value> = names
            .iter()
            .map(|n| json!({"name": n, "body": n}))
            .collect();
        let dir = manifest_dir(&json!({ "cases": cases }).to_string(), &bodies);
        let err = Manifest::load(dir.path()).unwrap_err().to_string();
        assert!(
            err.contains("case \"b5.csv\": the bodies up to this case add up to 37748736 bytes, over the 33554432-byte limit"),
            "{err}"
        );
    }

    #[test]
    fn an_answer_too_big_for_json_checks_fails_them_without_parsing() {
        let e = expect(json!({"json": {"/p": 1}}));
        let huge = vec![b' '; MAX_JSON_ANSWER_BYTES + 1];
        let failures = e.check(None, &huge);
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].contains("over the 6291456-byte limit of JSON checks"),
            "{failures:?}"
        );
    }

    #[test]
    fn no_expectations_pass_any_response() {
        assert!(Expect::default().check(None, b"\xff anything").is_empty());
    }

    #[test]
    fn content_type_ignores_parameters_unless_asked() {
        let e = expect(json!({"content_type": "application/json"}));
        assert!(e
            .check(Some("Application/JSON; charset=utf-8"), b"")
            .is_empty());
        assert_eq!(
            e.check(Some("text/csv"), b""),
            ["the response Content-Type is text/csv, expected application/json"]
        );
        assert_eq!(e.check(None, b"").len(), 1);
        let strict = expect(json!({"content_type": "text/csv; header=present"}));
        assert!(strict
            .check(Some("text/csv;header=present"), b"")
            .is_empty());
        assert_eq!(strict.check(Some("text/csv"), b"").len(), 1);
    }

    #[test]
    fn body_regex_matches_bytes_and_never_quotes_the_body() {
        let e = expect(json!({"body_regex": "^\\{"}));
        assert!(e.check(None, b"{\"a\": 1}").is_empty());
        let failures = e.check(None, b"secret-looking text");
        assert_eq!(
            failures,
            ["the response body (19 bytes) does not match body_regex ^\\{"]
        );
        assert!(
            e.check(None, b"\xff\xfe").len() == 1,
            "non-UTF-8 bodies are checked, not crashed on"
        );
        assert!(
            expect(json!({"body_regex": "^\\{.\\}$"}))
                .check(None, b"{\xff}")
                .is_empty(),
            "a byte that is not UTF-8 is one character"
        );
    }

    #[test]
    fn json_pointers_check_literals_and_ranges() {
        let e = expect(json!({"json": {
            "/predictions/0": {"min": 0, "max": 1},
            "/model": "demo",
            "/count": 2,
            "/labels": ["a", {"b": 1}],
            "/threshold": {"min": 0.5}
        }}));
        let good = br#"{"predictions": [0.25], "model": "demo", "count": 2.0, "labels": ["a", {"b": 1.0}], "threshold": 0.5}"#;
        assert_eq!(e.check(None, good), Vec::<String>::new());

        let bad = br#"{"predictions": [1.5], "model": "other", "count": "2", "labels": []}"#;
        let failures = e.check(None, bad);
        assert_eq!(
            failures,
            [
                "/count is \"2\", expected 2",
                "/labels is [], expected [\"a\",{\"b\":1}]",
                "/model is \"other\", expected \"demo\"",
                "/predictions/0 is 1.5, outside [0, 1]",
                "/threshold is missing from the response",
            ]
        );
        let not_number = e.check(None, br#"{"predictions": ["x"], "model": "demo", "count": 2, "labels": ["a", {"b": 1}], "threshold": 9}"#);
        assert_eq!(not_number, ["/predictions/0 is \"x\", not a number"]);
        assert!(e.check(None, b"not json")[0].contains("is not JSON"));
    }

    #[test]
    fn an_object_with_other_keys_is_a_literal() {
        let e = expect(json!({"json": {"": {"min": 0, "label": "x"}}}));
        assert!(e.check(None, br#"{"min": 0.0, "label": "x"}"#).is_empty());
        assert_eq!(e.check(None, br#"{"min": 1}"#).len(), 1);
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let e = expect(json!({"json": {"/v": "short"}}));
        let long = format!("{{\"v\": \"{}\"}}", "y".repeat(500));
        let failures = e.check(None, long.as_bytes());
        assert!(failures[0].len() < 200, "{}", failures[0]);
        assert!(failures[0].contains("..."));
    }
}
