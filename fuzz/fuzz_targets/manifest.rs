//! test-step's payload manifest parser (`Manifest::load`) and the response checks it builds.
//! Input: the manifest text, then optionally a response body after the first NUL byte, which every
//! loaded case's expectations are checked against. Nothing may panic, and every rejection must
//! be the manifest error naming the manifest (test-step maps it to exit 2).

#![no_main]

use std::sync::LazyLock;

use deploy_core::manifest::{Manifest, MANIFEST_FILE};
use libfuzzer_sys::fuzz_target;

/// A payloads directory with two bodies a manifest may name.
static PAYLOADS: LazyLock<tempfile::TempDir> = LazyLock::new(|| {
    let dir = tempfile::tempdir().expect("a temp dir");
    std::fs::write(dir.path().join("one-row.csv"), "1,2,3\n").unwrap();
    std::fs::write(dir.path().join("body.json"), r#"{"rows": [[1, 2]]}"#).unwrap();
    dir
});

fuzz_target!(|data: &[u8]| {
    let (manifest, response) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let dir = PAYLOADS.path();
    std::fs::write(dir.join(MANIFEST_FILE), manifest).unwrap();
    match Manifest::load(dir) {
        Ok(loaded) => {
            assert!(!loaded.cases.is_empty());
            for case in &loaded.cases {
                assert!(!case.name.is_empty());
                for content_type in [None, Some("application/json"), Some("text/csv")] {
                    let _ = case.expect.check(content_type, response);
                }
            }
        }
        Err(err) => {
            assert_eq!(err.path, dir.join(MANIFEST_FILE), "{err}");
            let message = err.to_string();
            assert!(message.starts_with("payload manifest "), "{message}");
        }
    }
});
