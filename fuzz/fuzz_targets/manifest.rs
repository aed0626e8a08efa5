//! test-step's payload manifest parser (`Manifest::load`) and the response checks it builds.
//! Input: the manifest text, then optionally a response body after the first NUL byte, which every
//! loaded case's expectations are checked against. Nothing may panic, and every rejection must
//! be the documented bad-input error naming the manifest.

#![no_main]

use std::sync::LazyLock;

use deploy_common::ExitStatus;
use libfuzzer_sys::fuzz_target;
use test_step::manifest::{Manifest, MANIFEST_FILE};

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
            assert_eq!(err.exit_status(), ExitStatus::BadInput);
            let message = err.to_string();
            assert!(message.starts_with("payload manifest "), "{message}");
        }
    }
});
