//! The seed zip: what Service Catalog commits into each project's new CodeCommit repository.
//! It must be byte-for-byte reproducible (so the published zip can be checked against a commit)
//! and fit CodeCommit's limits, so entries are sorted, every timestamp is the zip epoch
//! (1980-01-01), permissions are fixed (0644, 0755 for `bin/`) whatever the checkout's
//! mtimes and umask, and `SHA256SUMS` lists every other entry.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, DateTime, ZipWriter};

use deploy_core::budget::{MAX_BINARY_BYTES, MAX_SEED_ZIP_BYTES};
use deploy_core::files::write_atomically;

use crate::elf;
use crate::TaskError;

/// The target the shipped binaries are built for: static, so they run on any CodeBuild image.
pub const TARGET: &str = "x86_64-unknown-linux-musl";
/// The shipped binaries, as `bin/<name>` in the zip.
pub const BINARIES: [&str; 2] = ["build-step", "test-step"];
/// Repository files copied into the zip at the same path (directories recursively). Everything
/// under `seed-repo/` is added at the zip's root as well.
const REPO_FILES: [&str; 5] = [
    "buildspec.yml",
    "test/buildspec.yml",
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

/// The repository's part of the seed, in no particular order.
pub fn repo_entries(repo_root: &Path) -> Result<Vec<Entry>, TaskError> {
    let mut entries = Vec::new();
    for relative in REPO_FILES {
        collect(&repo_root.join(relative), relative, &mut entries)?;
    }
    for file in sorted_dir(&repo_root.join(SEED_REPO_DIR))? {
        let name = file
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        collect(&file, &name, &mut entries)?;
    }
    let (script, zip_path) = UPGRADE_SCRIPT;
    entries.push(Entry {
        path: zip_path.to_owned(),
        contents: read(&repo_root.join(script))?,
        executable: true,
    });
    Ok(entries)
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

/// Adds `path` (a file, or a directory recursively) as `zip_path`, `/`-separated.
fn collect(path: &Path, zip_path: &str, entries: &mut Vec<Entry>) -> Result<(), TaskError> {
    if path.is_dir() {
        for child in sorted_dir(path)? {
            let name = child
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            collect(&child, &format!("{zip_path}/{name}"), entries)?;
        }
        return Ok(());
    }
    entries.push(Entry {
        path: zip_path.to_owned(),
        contents: read(path)?,
        executable: false,
    });
    Ok(())
}

fn sorted_dir(dir: &Path) -> Result<Vec<PathBuf>, TaskError> {
    let io = |source| TaskError::Io {
        path: dir.to_owned(),
        source,
    };
    let mut paths = std::fs::read_dir(dir)
        .map_err(io)?
        .map(|entry| entry.map(|entry| entry.path()))
        .collect::<Result<Vec<_>, _>>()
        .map_err(io)?;
    paths.sort();
    Ok(paths)
}

fn read(path: &Path) -> Result<Vec<u8>, TaskError> {
    std::fs::read(path).map_err(|source| TaskError::Io {
        path: path.to_owned(),
        source,
    })
}
