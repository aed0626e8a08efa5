//! `bin/upgrade-seed`, as a data science team runs it in a repository seeded from the published
//! zip: it takes a newer seed's binaries, buildspecs and template, leaves the team's stage configs
//! and payloads alone, and refuses, changing nothing, when a file the seed owns was changed here,
//! when it would write through a symbolic link, or when the new zip does not match its own
//! SHA256SUMS. A SHA256SUMS with CRLF line endings reads as one with LF endings.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xtask::seed_zip::{archive, hex_sha256, Entry};

use crate::{seed_zip, unzip_seed};

/// The published seed's entries, SHA256SUMS left out (`archive` writes it again).
fn seed_entries() -> Vec<Entry> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(seed_zip()).unwrap()).unwrap();
    (0..zip.len())
        .map(|index| {
            let mut file = zip.by_index(index).unwrap();
            let mut contents = Vec::new();
            file.read_to_end(&mut contents).unwrap();
            Entry {
                path: file.name().unwrap().into_owned(),
                executable: file.unix_mode().unwrap() & 0o111 != 0,
                contents,
            }
        })
        .filter(|entry| entry.path != "SHA256SUMS")
        .collect()
}

/// The next version of the seed: a changed buildspec and README, a new template file, and no
/// verify buildspec any more.
fn next_seed(dir: &Path) -> PathBuf {
    let mut entries = seed_entries();
    entries.retain(|e| e.path != "test/verify-prod-buildspec.yml");
    for entry in &mut entries {
        if entry.path == "buildspec.yml" || entry.path == "README.md" {
            entry.contents.extend_from_slice(b"\n# the next seed\n");
        }
    }
    entries.push(Entry {
        path: "templates/alarms.yml.j2".into(),
        contents: b"# new in the next seed\n".to_vec(),
        executable: false,
    });
    let path = dir.join("next-seed.zip");
    std::fs::write(&path, archive(entries).unwrap()).unwrap();
    path
}

/// A repository as CodeCommit seeds it from the published zip.
fn seeded_repository(dir: &Path) -> PathBuf {
    let repo = dir.join("repo");
    unzip_seed(&repo);
    repo
}

fn upgrade(repo: &Path, zip: &Path) -> Output {
    Command::new("bash")
        .arg(repo.join("bin/upgrade-seed"))
        .arg(zip)
        .arg(repo)
        .output()
        .expect("bash runs")
}

/// Every file under `dir`, by relative path, with its bytes and whether it is executable.
fn tree(dir: &Path) -> BTreeMap<String, (Vec<u8>, bool)> {
    use std::os::unix::fs::PermissionsExt;
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<String, (Vec<u8>, bool)>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                let mode = std::fs::metadata(&path).unwrap().permissions().mode();
                let relative = path
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.insert(relative, (std::fs::read(&path).unwrap(), mode & 0o111 != 0));
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn a_repository_takes_the_next_seed_and_keeps_the_teams_files() {
    let dir = tempfile::tempdir().unwrap();
    let repo = seeded_repository(dir.path());
    let staging = r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "ServerlessMemorySizeInMB", "ParameterValue": "2048"}]"#;
    std::fs::write(repo.join("staging-config.json"), staging).unwrap();
    std::fs::write(repo.join("test/payloads/extra.csv"), "9,9,9\n").unwrap();
    let readme = std::fs::read(repo.join("README.md")).unwrap();
    let next = next_seed(dir.path());

    let out = upgrade(&repo, &next);

    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("updated: buildspec.yml templates/alarms.yml.j2\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("removed (no longer in the seed): test/verify-prod-buildspec.yml\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "kept yours, which differ from the new seed's: README.md staging-config.json\n"
        ),
        "{stdout}"
    );
    let after = tree(&repo);
    assert!(text(&after["buildspec.yml"].0).ends_with("# the next seed\n"));
    assert!(after.contains_key("templates/alarms.yml.j2"));
    assert!(!after.contains_key("test/verify-prod-buildspec.yml"));
    assert_eq!(text(&after["staging-config.json"].0), staging);
    assert_eq!(after["README.md"].0, readme, "the team's README is theirs");
    assert!(after.contains_key("test/payloads/extra.csv"));
    assert!(
        after["bin/build-step"].1 && after["bin/upgrade-seed"].1,
        "bin/ stays executable"
    );
    assert!(!after.keys().any(|k| k.ends_with(".upgrade-seed.tmp")));
    let mut next_zip = zip::ZipArchive::new(std::fs::File::open(&next).unwrap()).unwrap();
    let mut next_sums = Vec::new();
    next_zip
        .by_name("SHA256SUMS")
        .unwrap()
        .read_to_end(&mut next_sums)
        .unwrap();
    assert_eq!(
        after["SHA256SUMS"].0, next_sums,
        "the repository records the new seed"
    );

    let again = upgrade(&repo, &next);
    assert_eq!(again.status.code(), Some(0), "{}", text(&again.stderr));
    assert!(text(&again.stdout).contains("already holds this seed; nothing to do"));
    assert_eq!(tree(&repo), after);
}

#[test]
fn the_upgrade_refuses_and_changes_nothing_when_files_the_seed_owns_were_changed_here() {
    let dir = tempfile::tempdir().unwrap();
    let repo = seeded_repository(dir.path());
    let mut buildspec = std::fs::read(repo.join("buildspec.yml")).unwrap();
    buildspec.extend_from_slice(b"# our own step\n");
    std::fs::write(repo.join("buildspec.yml"), buildspec).unwrap();
    std::fs::remove_file(repo.join("templates/endpoint.yml.j2")).unwrap();
    let before = tree(&repo);
    let next = next_seed(dir.path());

    let out = upgrade(&repo, &next);

    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert!(
        stderr.starts_with(&format!(
            "upgrade-seed: error: files the seed owns were changed in {}: buildspec.yml templates/endpoint.yml.j2 (removed). The upgrade would overwrite them, so nothing was changed; restore them",
            repo.display()
        )),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1, "one paragraph: {stderr}");
    assert_eq!(tree(&repo), before);
}

#[test]
fn a_zip_that_does_not_match_its_own_sha256sums_or_no_seed_is_bad_input() {
    let dir = tempfile::tempdir().unwrap();
    let repo = seeded_repository(dir.path());
    let before = tree(&repo);

    // The next seed, with its buildspec changed after SHA256SUMS was written.
    let entries = seed_entries();
    let mut sums = String::new();
    for entry in &entries {
        sums.push_str(&format!(
            "{}  {}\n",
            hex_sha256(&entry.contents),
            entry.path
        ));
    }
    let damaged = dir.path().join("damaged.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&damaged).unwrap());
    for entry in &entries {
        writer
            .start_file(
                entry.path.as_str(),
                zip::write::SimpleFileOptions::default(),
            )
            .unwrap();
        let mut contents = entry.contents.clone();
        if entry.path == "buildspec.yml" {
            contents.extend_from_slice(b"# changed on the way\n");
        }
        writer.write_all(&contents).unwrap();
    }
    writer
        .start_file("SHA256SUMS", zip::write::SimpleFileOptions::default())
        .unwrap();
    writer.write_all(sums.as_bytes()).unwrap();
    writer.finish().unwrap();
    let not_a_zip = dir.path().join("seed.zip");
    std::fs::write(&not_a_zip, "<html>Access Denied</html>").unwrap();

    for (zip, code, message) in [
        (
            damaged.clone(),
            2,
            format!("buildspec.yml in {} does not match the zip's SHA256SUMS; the zip is damaged, download it again", damaged.display()),
        ),
        (
            not_a_zip.clone(),
            2,
            format!("{} is not a readable zip (", not_a_zip.display()),
        ),
        (
            dir.path().join("missing.zip"),
            2,
            format!(
                "the seed zip {} does not exist or cannot be read",
                dir.path().join("missing.zip").display()
            ),
        ),
    ] {
        let out = upgrade(&repo, &zip);
        assert_eq!(out.status.code(), Some(code), "{}", text(&out.stderr));
        let stderr = text(&out.stderr);
        assert!(
            stderr.starts_with(&format!("upgrade-seed: error: {message}")),
            "{stderr}"
        );
        assert_eq!(tree(&repo), before);
    }

    std::fs::remove_file(repo.join("SHA256SUMS")).unwrap();
    let out = upgrade(&repo, &next_seed(dir.path()));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        text(&out.stderr).contains("has no SHA256SUMS, the seed's record of the files it shipped")
    );
}

#[test]
fn a_run_that_was_cut_off_can_be_run_again_and_a_new_seed_file_never_overwrites_the_teams() {
    let dir = tempfile::tempdir().unwrap();
    let next = next_seed(dir.path());
    let done = seeded_repository(&dir.path().join("done"));
    assert_eq!(upgrade(&done, &next).status.code(), Some(0));

    // Cut off half way: the buildspec already replaced, the verify buildspec already removed.
    let repo = seeded_repository(dir.path());
    std::fs::copy(done.join("buildspec.yml"), repo.join("buildspec.yml")).unwrap();
    std::fs::remove_file(repo.join("test/verify-prod-buildspec.yml")).unwrap();
    let out = upgrade(&repo, &next);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_eq!(tree(&repo), tree(&done));

    let team = seeded_repository(&dir.path().join("team"));
    std::fs::write(
        team.join("templates/alarms.yml.j2"),
        "# the team's own alarms\n",
    )
    .unwrap();
    let before = tree(&team);
    let out = upgrade(&team, &next);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("templates/alarms.yml.j2 (yours; the new seed adds it)"),
        "{}",
        text(&out.stderr)
    );
    assert_eq!(tree(&team), before);
}

/// `repo/relative` moved to `outside` and replaced by a symbolic link to it.
fn link_out(repo: &Path, relative: &str, outside: &Path) -> PathBuf {
    let target = outside.join(relative.replace('/', "-"));
    std::fs::rename(repo.join(relative), &target).unwrap();
    std::os::unix::fs::symlink(&target, repo.join(relative)).unwrap();
    target
}

/// The refusal of a symbolic link at `relative` (pointing to `target`): exit 2, one line naming the
/// link and the fix.
#[track_caller]
fn assert_refused_link(out: &Output, repo: &Path, relative: &str, target: &Path) {
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stdout));
    let stderr = text(&out.stderr);
    assert_eq!(
        stderr,
        format!(
            "upgrade-seed: error: symbolic links in {} where the upgrade would write: {relative} -> {}. It never writes through a link, so nothing was changed; replace each link with a real directory or file holding what it points to (rm the link, then cp -R what it pointed to in its place) and run again\n",
            repo.display(),
            target.display()
        )
    );
}

#[test]
fn a_seed_directory_linked_out_of_the_repository_is_refused_and_nothing_is_written() {
    // templates/ gets a new file from the next seed and test/ loses its verify buildspec: through
    // a link, both would land outside the repository.
    for linked in ["templates", "test"] {
        let dir = tempfile::tempdir().unwrap();
        let repo = seeded_repository(dir.path());
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let target = link_out(&repo, linked, &outside);
        let (repo_before, outside_before) = (tree(&repo), tree(&outside));
        let next = next_seed(dir.path());

        let out = upgrade(&repo, &next);

        assert_refused_link(&out, &repo, linked, &target);
        assert_eq!(tree(&outside), outside_before, "nothing written outside");
        assert_eq!(tree(&repo), repo_before, "nothing changed inside");
        assert!(std::fs::symlink_metadata(repo.join(linked))
            .unwrap()
            .file_type()
            .is_symlink());
    }
}

#[test]
fn a_seed_file_that_is_a_symbolic_link_is_refused() {
    for linked in [
        "bin/upgrade-seed",
        "templates/endpoint.yml.j2",
        "SHA256SUMS",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let repo = seeded_repository(dir.path());
        let outside = dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        let target = link_out(&repo, linked, &outside);
        let (repo_before, outside_before) = (tree(&repo), tree(&outside));

        let out = upgrade(&repo, &next_seed(dir.path()));

        assert_refused_link(&out, &repo, linked, &target);
        assert_eq!(tree(&outside), outside_before);
        assert_eq!(tree(&repo), repo_before);
    }
}

/// `bytes` with every LF turned into CRLF, as git's autocrlf checks a text file out.
fn crlf(bytes: &[u8]) -> Vec<u8> {
    text(bytes).replace('\n', "\r\n").into_bytes()
}

#[test]
fn a_sha256sums_with_crlf_line_endings_reads_as_lf() {
    let dir = tempfile::tempdir().unwrap();
    let next = next_seed(dir.path());
    let done = seeded_repository(&dir.path().join("done"));
    assert_eq!(upgrade(&done, &next).status.code(), Some(0));

    // In the repository: the upgrade runs as it would with LF endings.
    let repo = seeded_repository(dir.path());
    let sums = repo.join("SHA256SUMS");
    std::fs::write(&sums, crlf(&std::fs::read(&sums).unwrap())).unwrap();
    let out = upgrade(&repo, &next);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("updated: buildspec.yml templates/alarms.yml.j2\n"),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(tree(&repo), tree(&done));

    // The same seed, recorded with CRLF endings: nothing to do.
    let same = seeded_repository(&dir.path().join("same"));
    let sums = same.join("SHA256SUMS");
    std::fs::write(&sums, crlf(&std::fs::read(&sums).unwrap())).unwrap();
    let before = tree(&same);
    let out = upgrade(&same, seed_zip());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert!(text(&out.stdout).contains("already holds this seed; nothing to do"));
    assert_eq!(tree(&same), before);

    // In the zip: the upgrade runs too, and records the zip's SHA256SUMS as it is.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&next).unwrap()).unwrap();
    let crlf_zip = dir.path().join("crlf-seed.zip");
    let mut writer = zip::ZipWriter::new(std::fs::File::create(&crlf_zip).unwrap());
    for index in 0..zip.len() {
        let mut file = zip.by_index(index).unwrap();
        let mut contents = Vec::new();
        file.read_to_end(&mut contents).unwrap();
        let name = file.name().unwrap().into_owned();
        if name == "SHA256SUMS" {
            contents = crlf(&contents);
        }
        let options = zip::write::SimpleFileOptions::default()
            .unix_permissions(file.unix_mode().unwrap() & 0o777);
        writer.start_file(name, options).unwrap();
        writer.write_all(&contents).unwrap();
    }
    writer.finish().unwrap();
    let repo = seeded_repository(&dir.path().join("from-crlf-zip"));
    let out = upgrade(&repo, &crlf_zip);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    let mut after = tree(&repo);
    let mut expected = tree(&done);
    let recorded = after.remove("SHA256SUMS").unwrap().0;
    assert_eq!(recorded, crlf(&expected.remove("SHA256SUMS").unwrap().0));
    assert_eq!(after, expected);
    let again = upgrade(&repo, &crlf_zip);
    assert!(text(&again.stdout).contains("already holds this seed; nothing to do"));
}
