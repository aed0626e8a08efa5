//! The seed zip: what Service Catalog commits into each project's new CodeCommit repository.
//! It must be byte-for-byte reproducible (so the published zip can be checked against a commit)
//! and fit CodeCommit's limits, so entries are sorted, every timestamp is the zip epoch
//! (1980-01-01), permissions are fixed (0644, 0755 for `bin/`) whatever the checkout's
//! mtimes and umask, and `SHA256SUMS` lists every other entry.
//!
//! The repository's part is what git tracks (`git ls-files`), never an untracked or ignored file,
//! with the bytes in the work tree (so an uncommitted edit to a tracked file is packed). The zip
//! holds regular files only: a tracked symbolic link, or a link in the work tree on the way to a
//! tracked file, is refused rather than followed.

use std::collections::BTreeSet;
use std::ffi::OsStr;
use std::fmt::Write as _;
use std::io::Write as _;
use std::os::unix::ffi::OsStrExt as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use deploy_core::files::write_atomically;

use crate::elf;
use crate::{TaskError, BINARIES};

/// Repository files copied into the zip at the same path (directories: every file git tracks
/// under them). Every file git tracks under `seed-repo/` is added at the zip's root as well.
const REPO_FILES: [&str; 6] = [
    "buildspec.yml",
    "test/buildspec.yml",
    "test/preflight-buildspec.yml",
    "test/verify-prod-buildspec.yml",
    "test/payloads",
    "templates/endpoint.yml.j2",
];
const SEED_REPO_DIR: &str = "seed-repo";
/// The script that moves a seeded repository to a newer seed, shipped as `bin/upgrade-seed`.
const UPGRADE_SCRIPT: (&str, &str) = ("scripts/upgrade-seed.sh", "bin/upgrade-seed");

/// One file of the zip: its path inside the archive, its bytes and whether it is executable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub path: String,
    pub contents: Vec<u8>,
    pub executable: bool,
}

/// What was written, for the size report.
#[derive(Debug)]
pub struct SeedZip {
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    pub binaries: Vec<(String, u64)>,
}

/// Collects the seed's entries from the repository and the built binaries, checks the binaries
/// (static, within budget), and writes the zip to `out`.
pub fn build(repo_root: &Path, binaries_dir: &Path, out: &Path) -> Result<SeedZip, TaskError> {
    let mut entries = repo_entries(repo_root)?;
    let mut binaries = Vec::new();
    for name in BINARIES {
        let path = binaries_dir.join(name);
        let contents = read(&path)?;
        elf::ensure_static(&path, &contents)?;
        let bytes = contents.len() as u64;
        if bytes > MAX_BINARY_BYTES {
            return Err(TaskError::OverBudget {
                what: path.display().to_string(),
                bytes,
                limit: MAX_BINARY_BYTES,
            });
        }
        binaries.push((name.to_owned(), bytes));
        entries.push(Entry {
            path: format!("bin/{name}"),
            contents,
            executable: true,
        });
    }
    let archive = archive(entries)?;
    let bytes = archive.len() as u64;
    if bytes > MAX_SEED_ZIP_BYTES {
        return Err(TaskError::OverBudget {
            what: out.display().to_string(),
            bytes,
            limit: MAX_SEED_ZIP_BYTES,
        });
    }
    if let Some(dir) = out.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|source| TaskError::Io {
            path: dir.to_owned(),
            source,
        })?;
    }
    write_atomically(out, &archive)?;
    Ok(SeedZip {
        path: out.to_owned(),
        bytes,
        sha256: hex_sha256(&archive),
        binaries,
    })
}

/// The repository's part of the seed, in no particular order: the files git tracks under
/// `REPO_FILES`, `seed-repo/` and the upgrade script, read from the work tree.
pub fn repo_entries(repo_root: &Path) -> Result<Vec<Entry>, TaskError> {
    let (script, script_zip_path) = UPGRADE_SCRIPT;
    let mut pathspecs = REPO_FILES.to_vec();
    pathspecs.extend([SEED_REPO_DIR, script]);
    let tracked = tracked_files(repo_root, &pathspecs)?;
    if let Some(spec) = pathspecs.iter().find(|spec| {
        !tracked
            .iter()
            .any(|file| file == *spec || file.starts_with(&format!("{spec}/")))
    }) {
        return Err(TaskError::NotTracked {
            path: repo_root.join(spec),
        });
    }
    tracked
        .into_iter()
        .map(|file| {
            let contents = read_tracked(repo_root, &file)?;
            let (path, executable) = if file == script {
                (script_zip_path.to_owned(), true)
            } else if let Some(at_root) = file.strip_prefix(&format!("{SEED_REPO_DIR}/")) {
                (at_root.to_owned(), false)
            } else {
                (file, false)
            };
            Ok(Entry {
                path,
                contents,
                executable,
            })
        })
        .collect()
}

/// The files git tracks under `pathspecs` (taken literally), as `/`-separated paths relative to
/// `repo_root`, sorted. Refuses what is not a regular file in git (a symbolic link, a submodule)
/// and a file with an unresolved merge conflict.
fn tracked_files(repo_root: &Path, pathspecs: &[&str]) -> Result<BTreeSet<String>, TaskError> {
    let output = Command::new("git")
        .arg("--literal-pathspecs")
        .arg("-C")
        .arg(repo_root)
        .args(["ls-files", "-z", "--stage", "--"])
        .args(pathspecs)
        .output()
        .map_err(|source| TaskError::GitNotRunnable {
            path: repo_root.to_owned(),
            source,
        })?;
    let git_error = |detail: String| TaskError::Git {
        path: repo_root.to_owned(),
        detail,
    };
    if !output.status.success() {
        let stderr = String::from_utf8_lossy(&output.stderr);
        return Err(git_error(format!(
            "{} ({})",
            stderr.trim().replace('\n', "; "),
            output.status
        )));
    }
    let mut files = BTreeSet::new();
    // Each record is "<mode> <object> <stage>\t<path>".
    for record in output.stdout.split(|&b| b == 0).filter(|r| !r.is_empty()) {
        let Some(tab) = record.iter().position(|&b| b == b'\t') else {
            return Err(git_error(format!(
                "unexpected output {:?}",
                String::from_utf8_lossy(record)
            )));
        };
        let (meta, name) = (&record[..tab], &record[tab + 1..]);
        let path = repo_root.join(OsStr::from_bytes(name));
        let mut fields = meta.split(|&b| b == b' ');
        let mode = fields.next().unwrap_or_default();
        let stage = fields.nth(1).unwrap_or_default();
        if stage != b"0" {
            return Err(TaskError::Conflicted { path });
        }
        let what = match mode {
            b"100644" | b"100755" => None,
            b"120000" => Some("a symbolic link tracked by git"),
            b"160000" => Some("a git submodule"),
            _ => Some("not a regular file in git"),
        };
        if let Some(what) = what {
            return Err(TaskError::NotRegularFile { path, what });
        }
        let name = String::from_utf8(name.to_vec()).map_err(|_| TaskError::NotUtf8 { path })?;
        files.insert(name);
    }
    Ok(files)
}

/// The work tree's bytes of the tracked file `relative`, refusing a symbolic link at any step
/// below `repo_root` (a linked directory as much as a linked file) and anything not a regular
/// file.
fn read_tracked(repo_root: &Path, relative: &str) -> Result<Vec<u8>, TaskError> {
    let mut path = repo_root.to_owned();
    let mut parts = relative.split('/').peekable();
    while let Some(part) = parts.next() {
        path.push(part);
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => {
                return Err(TaskError::MissingFromWorkTree {
                    path: repo_root.join(relative),
                })
            }
            Err(source) => return Err(TaskError::Io { path, source }),
        };
        let what = if metadata.file_type().is_symlink() {
            Some("a symbolic link in the work tree")
        } else if parts.peek().is_none() && !metadata.is_file() {
            Some("not a regular file in the work tree")
        } else {
            None
        };
        if let Some(what) = what {
            return Err(TaskError::NotRegularFile { path, what });
        }
    }
    read(&path)
}

/// The zip's bytes: entries sorted by path, then `SHA256SUMS` over all of them. The same entries
/// always give the same bytes.
pub fn archive(mut entries: Vec<Entry>) -> Result<Vec<u8>, TaskError> {
    entries.sort_by(|a, b| a.path.cmp(&b.path));
    if let Some(pair) = entries.windows(2).find(|pair| pair[0].path == pair[1].path) {
        return Err(TaskError::DuplicateEntry(pair[0].path.clone()));
    }
    let sums = Entry {
        path: "SHA256SUMS".to_owned(),
        contents: sha256sums(&entries).into_bytes(),
        executable: false,
    };
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    for entry in entries.iter().chain([&sums]) {
        let options = SimpleFileOptions::default()
            .compression_method(CompressionMethod::Deflated)
            .compression_level(Some(9))
            .last_modified_time(DateTime::default())
            .unix_permissions(if entry.executable { 0o755 } else { 0o644 });
        writer.start_file(entry.path.as_str(), options)?;
        writer.write_all(&entry.contents).map_err(TaskError::Zip)?;
    }
    Ok(writer.finish()?.into_inner())
}

/// `sha256sum -c` format, one line per entry in entry order.
fn sha256sums(entries: &[Entry]) -> String {
    entries.iter().fold(String::new(), |mut sums, entry| {
        let _ = writeln!(sums, "{}  {}", hex_sha256(&entry.contents), entry.path);
        sums
    })
}

pub fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        })
}

fn read(path: &Path) -> Result<Vec<u8>, TaskError> {
    std::fs::read(path).map_err(|source| TaskError::Io {
        path: path.to_owned(),
        source,
    })
}
