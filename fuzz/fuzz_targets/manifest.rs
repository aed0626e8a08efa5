//! test-step's payload manifest parser (`Manifest::parse`, the text entry `Manifest::load` reads
//! `manifest.json` through) and the response checks it builds. Input: the manifest text (bytes
//! that are not UTF-8 become U+FFFD, as the loader's UTF-8 check is not what is fuzzed), then
//! optionally a response body after the first NUL byte, which every parsed case's expectations
//! are checked against. The bodies come from memory, so no input touches the file system. Nothing
//! may panic, and every rejection must be the manifest error naming the manifest (test-step maps
//! it to exit 2).

#![no_main]

use std::path::Path;

use deploy_core::manifest::{Manifest, MANIFEST_FILE};
use deploy_core::Bytes;
use libfuzzer_sys::fuzz_target;

/// The two bodies a manifest may name; any other name is a missing file.
fn body(file: &str) -> Result<Bytes, String> {
    match file {
        "one-row.csv" => Ok(Bytes::from_static(b"1,2,3\n")),
        "body.json" => Ok(Bytes::from_static(br#"{"rows": [[1, 2]]}"#)),
        _ => Err(format!("body file {file} not found")),
    }
}

fuzz_target!(|data: &[u8]| {
    let (manifest, response) = match data.iter().position(|&b| b == 0) {
        Some(at) => (&data[..at], &data[at + 1..]),
        None => (data, &[][..]),
    };
    let path = Path::new(MANIFEST_FILE);
    match Manifest::parse(&String::from_utf8_lossy(manifest), path, body) {
        Ok(parsed) => {
            assert!(!parsed.cases.is_empty());
            assert_eq!(parsed.path, path);
            for case in &parsed.cases {
                assert!(!case.name.is_empty());
                for content_type in [None, Some("application/json"), Some("text/csv")] {
                    let _ = case.expect.check(content_type, response);
                }
            }
        }
        Err(err) => {
            assert_eq!(err.path, path, "{err}");
            let message = err.to_string();
            assert!(message.starts_with("payload manifest "), "{message}");
        }
    }
});
