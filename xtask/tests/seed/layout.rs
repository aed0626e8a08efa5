//! What is in the seed zip, and that it is reproducible, within budget, and built from what git
//! tracks only.

use std::io::Read;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;

use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use tempfile::TempDir;
use xtask::seed_zip;
use xtask::TaskError;

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
            "test/preflight-buildspec.yml",
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

/// Runs git in `dir`; it must succeed.
fn git(dir: &Path, args: &[&str]) -> Vec<u8> {
    let out = Command::new("git")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("git runs");
    assert!(
        out.status.success(),
        "git {args:?} in {}: {}",
        dir.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// The seed sources git tracks here, copied from the work tree into a fresh git repository
/// (added, not committed): new mtimes, a different path and different permissions (0600) than
/// the checkout the zip was built from.
fn fresh_checkout() -> TempDir {
    let root = xtask::repo_root();
    let tracked = git(
        &root,
        &[
            "ls-files",
            "-z",
            "--",
            "buildspec.yml",
            "test",
            "templates",
            "seed-repo",
            "scripts/upgrade-seed.sh",
        ],
    );
    let copy = tempfile::tempdir().unwrap();
    for name in tracked.split(|&b| b == 0).filter(|name| !name.is_empty()) {
        let relative = std::str::from_utf8(name).unwrap();
        let target = copy.path().join(relative);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::write(&target, std::fs::read(root.join(relative)).unwrap()).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
    }
    git(copy.path(), &["init", "--quiet"]);
    git(copy.path(), &["add", "--all"]);
    copy
}

#[test]
fn the_same_sources_and_binaries_give_the_same_zip_byte_for_byte() {
    let copy = fresh_checkout();
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

#[test]
fn untracked_and_ignored_files_are_not_packed() {
    let copy = fresh_checkout();
    std::fs::write(copy.path().join(".gitignore"), "*.local\n").unwrap();
    for dir in ["seed-repo", "test/payloads"] {
        let dir = copy.path().join(dir);
        std::fs::write(dir.join("untracked.csv"), "1,2,3\n").unwrap();
        std::fs::write(dir.join("notes.local"), "not for the seed\n").unwrap();
    }
    let untracked = git(
        copy.path(),
        &[
            "ls-files",
            "--others",
            "--exclude-standard",
            "--",
            "seed-repo",
            "test",
        ],
    );
    assert_eq!(
        String::from_utf8(untracked).unwrap(),
        "seed-repo/untracked.csv\ntest/payloads/untracked.csv\n"
    );
    let ignored = git(
        copy.path(),
        &[
            "check-ignore",
            "seed-repo/notes.local",
            "test/payloads/notes.local",
        ],
    );
    assert_eq!(
        String::from_utf8(ignored).unwrap(),
        "seed-repo/notes.local\ntest/payloads/notes.local\n"
    );
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let out = copy.path().join("again.zip");

    seed_zip::build(copy.path(), &unzipped.path().join("bin"), &out).unwrap();

    let names: Vec<String> = entries(&out).into_iter().map(|(name, ..)| name).collect();
    let published: Vec<String> = entries(seed_zip())
        .into_iter()
        .map(|(name, ..)| name)
        .collect();
    assert_eq!(names, published);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(seed_zip()).unwrap()
    );
}

#[test]
fn a_symbolic_link_is_refused_not_followed() {
    let outside = tempfile::tempdir().unwrap();
    std::fs::write(outside.path().join("secret.csv"), "1,2,3\n").unwrap();
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let bin = unzipped.path().join("bin");

    // A symbolic link git tracks.
    let copy = fresh_checkout();
    let link = copy.path().join("test/payloads/linked.csv");
    std::os::unix::fs::symlink(outside.path().join("secret.csv"), &link).unwrap();
    git(copy.path(), &["add", "test/payloads/linked.csv"]);
    let out = copy.path().join("out.zip");
    let err = seed_zip::build(copy.path(), &bin, &out).unwrap_err();
    assert!(
        matches!(&err, TaskError::NotRegularFile { path, .. } if *path == link),
        "{err}"
    );
    assert!(
        err.to_string().starts_with(&format!(
            "{} is a symbolic link tracked by git; the seed zip holds regular files only",
            link.display()
        )),
        "{err}"
    );
    assert!(!out.exists());

    // A tracked directory replaced in the work tree by a link to one outside.
    let copy = fresh_checkout();
    let seed_repo = copy.path().join("seed-repo");
    std::fs::rename(&seed_repo, outside.path().join("seed-repo")).unwrap();
    std::os::unix::fs::symlink(outside.path().join("seed-repo"), &seed_repo).unwrap();
    let out = copy.path().join("out.zip");
    let err = seed_zip::build(copy.path(), &bin, &out).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{} is a symbolic link in the work tree; the seed zip holds regular files only",
            seed_repo.display()
        )),
        "{err}"
    );
    assert!(!out.exists());
}

#[test]
fn a_tree_that_is_no_git_checkout_or_misses_a_tracked_file_is_refused() {
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let bin = unzipped.path().join("bin");

    let plain = fresh_checkout();
    std::fs::remove_dir_all(plain.path().join(".git")).unwrap();
    let err = seed_zip::build(plain.path(), &bin, &plain.path().join("out.zip")).unwrap_err();
    assert!(matches!(err, TaskError::Git { .. }), "{err}");
    assert!(
        err.to_string().starts_with(&format!(
            "`git ls-files` in {} failed: ",
            plain.path().display()
        )) && err.to_string().contains("run this in a git checkout"),
        "{err}"
    );

    let missing = fresh_checkout();
    let payload = missing.path().join("test/payloads/one-row.csv");
    std::fs::remove_file(&payload).unwrap();
    let err = seed_zip::build(missing.path(), &bin, &missing.path().join("out.zip")).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "{} is tracked by git but missing from the work tree; restore it (`git checkout -- <path>`) or remove it from git (`git rm <path>`) and run again",
            payload.display()
        )
    );

    let untracked = fresh_checkout();
    git(
        untracked.path(),
        &["rm", "--cached", "--quiet", "buildspec.yml"],
    );
    let err =
        seed_zip::build(untracked.path(), &bin, &untracked.path().join("out.zip")).unwrap_err();
    assert!(
        err.to_string().starts_with(&format!(
            "{} is not tracked by git",
            untracked.path().join("buildspec.yml").display()
        )),
        "{err}"
    );
}
