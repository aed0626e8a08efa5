//! The payloads directory on disk: `manifest.json` read as UTF-8 text within its size limit, then
//! parsed by [`Manifest::parse`] with each body read from inside the directory. A body must stay
//! there once symlinks are resolved and be a regular file (a FIFO would block, a device or a
//! procfs file would stream without end); at most one byte past a limit is ever read, whatever
//! size a file reports.

use std::path::Path;

use bytes::Bytes;

use super::{Manifest, ManifestError, MANIFEST_FILE, MAX_BODY_BYTES, MAX_MANIFEST_BYTES};
use crate::input_file::{self, ReadError};
use crate::inputs::PAYLOADS;

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
        Self::parse(&text, &path, |file| load_body(dir, file))
    }
}

/// Reads one body named by the manifest (a relative name without `..`: [`Manifest::parse`]
/// checked it). It must stay inside the payloads directory with symlinks resolved and be a
/// regular file within [`MAX_BODY_BYTES`].
fn load_body(dir: &Path, file: &str) -> Result<Bytes, String> {
    let path = dir.join(file);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::JsonCheck;
    use serde_json::{json, Value};

    fn manifest_dir(manifest: &str, bodies: &[(&str, &[u8])]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join(MANIFEST_FILE), manifest).unwrap();
        for (name, body) in bodies {
            std::fs::write(dir.path().join(name), body).unwrap();
        }
        dir
    }

    #[test]
    fn the_documented_example_loads() {
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
}
