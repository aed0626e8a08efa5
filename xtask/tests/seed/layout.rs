//! What is in the seed zip, and that it is reproducible and within budget.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use xtask::seed_zip;

use crate::{seed_zip, unzip_seed};

/// Every entry of the zip: path, unix mode, modification time and bytes.
fn entries(zip_path: &Path) -> Vec<(String, u32, String, Vec<u8>)> {
    let mut archive = zip::ZipArchive::new(std::fs::File::open(zip_path).unwrap()).unwrap();
    (0..archive.len())
        .map(|index| {
            let mut file = archive.by_index(index).unwrap();
            let mut bytes = Vec::new();
            file.read_to_end(&mut bytes).unwrap();
            let modified = file
                .last_modified()
                .map(|t| t.to_string())
                .unwrap_or_default();
            (
                file.name().unwrap().into_owned(),
                file.unix_mode().unwrap(),
                modified,
                bytes,
            )
        })
        .collect()
}

#[test]
fn the_seed_holds_the_documented_files_sorted_with_fixed_modes_and_times() {
    let entries = entries(seed_zip());
    let names: Vec<&str> = entries.iter().map(|(name, ..)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "README.md",
            "bin/build-step",
            "bin/test-step",
            "bin/upgrade-seed",
            "buildspec.yml",
            "prod-config.json",
            "staging-config.json",
            "templates/endpoint.yml.j2",
            "test/buildspec.yml",
            "test/payloads/five-rows.csv",
            "test/payloads/manifest.json",
            "test/payloads/one-row.csv",
            "test/verify-prod-buildspec.yml",
            "SHA256SUMS",
        ]
    );
    for (name, mode, modified, bytes) in &entries {
        let expected_mode = if name.starts_with("bin/") {
            0o100_755
        } else {
            0o100_644
        };
        assert_eq!(*mode, expected_mode, "{name}: mode {mode:o}");
        assert_eq!(modified, "1980-01-01 00:00:00", "{name}");
        if name.starts_with("bin/") {
            assert!(
                bytes.len() as u64 <= MAX_BINARY_BYTES,
                "{name}: {} bytes",
                bytes.len()
            );
        }
    }
    assert!(std::fs::metadata(seed_zip()).unwrap().len() <= MAX_SEED_ZIP_BYTES);
}

#[test]
fn sha256sums_lists_every_other_entry_with_its_digest() {
    let entries = entries(seed_zip());
    let (sums, files) = entries.split_last().unwrap();
    let mut expected = String::new();
    for (name, _, _, bytes) in files {
        expected.push_str(&format!("{}  {name}\n", seed_zip::hex_sha256(bytes)));
    }
    assert_eq!(String::from_utf8(sums.3.clone()).unwrap(), expected);
}

/// Copies the repository's seed sources into a fresh tree: new mtimes, a different path and,
/// through the umask, different permissions than the checkout the zip was built from.
fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::write(&target, std::fs::read(entry.path()).unwrap()).unwrap();
            std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }
}

#[test]
fn the_same_sources_and_binaries_give_the_same_zip_byte_for_byte() {
    let root = xtask::repo_root();
    let copy = tempfile::tempdir().unwrap();
    for part in ["buildspec.yml", "test", "templates", "seed-repo", "scripts"] {
        let from = root.join(part);
        if from.is_dir() {
            copy_tree(&from, &copy.path().join(part));
        } else {
            std::fs::copy(&from, copy.path().join(part)).unwrap();
        }
    }
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let out = copy.path().join("again.zip");
    let rebuilt = seed_zip::build(copy.path(), &unzipped.path().join("bin"), &out).unwrap();
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(seed_zip()).unwrap(),
        "a zip assembled from a fresh copy differs from {}",
        seed_zip().display()
    );
    let leftovers: Vec<String> = test_support::cli::file_names(copy.path())
        .into_iter()
        .filter(|name| name.starts_with(".again.zip"))
        .collect();
    assert_eq!(
        leftovers,
        Vec::<String>::new(),
        "no temp file is left behind"
    );
    assert_eq!(rebuilt.bytes, std::fs::metadata(&out).unwrap().len());
}

#[test]
fn a_binary_over_budget_or_not_static_is_refused_and_no_zip_is_written() {
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let bin = unzipped.path().join("bin");
    let out = unzipped.path().join("out.zip");

    let static_binary = std::fs::read(bin.join("test-step")).unwrap();
    let mut padded = static_binary.clone();
    padded.resize(MAX_BINARY_BYTES as usize + 1, 0);
    std::fs::write(bin.join("test-step"), &padded).unwrap();
    let err = seed_zip::build(&xtask::repo_root(), &bin, &out)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("test-step is 5000001 bytes, over its budget of 5000000 bytes"),
        "{err}"
    );

    std::fs::copy("/bin/sh", bin.join("test-step")).unwrap();
    let err = seed_zip::build(&xtask::repo_root(), &bin, &out)
        .unwrap_err()
        .to_string();
    assert!(err.contains("test-step is not fully static"), "{err}");
    assert!(!out.exists());
}
