//! Output files are written whole or not at all: each goes to a temp file beside its target and is
//! renamed into place only once every file of the batch has been written and synced. A failed or
//! interrupted run therefore never leaves a half-written template, parameter file or report for
//! the next pipeline stage to pick up.

use std::io::Write;
use std::path::{Path, PathBuf};

/// A write that failed, with the file it was for.
#[derive(Debug, thiserror::Error)]
#[error("cannot write {}: {source}; check that the directory exists and is writable", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes every `(path, contents)` pair through temp files and renames them into place only when
/// all were written. On error no target is touched before the failing one's rename.
pub fn write_all_atomically(files: &[(&Path, &[u8])]) -> Result<(), WriteError> {
    let mut staged: Vec<(PathBuf, &Path)> = Vec::with_capacity(files.len());
    let cleanup = |staged: &[(PathBuf, &Path)]| {
        for (temp, _) in staged {
            let _ = std::fs::remove_file(temp);
        }
    };
    for (path, contents) in files {
        match write_temp(path, contents) {
            Ok(temp) => staged.push((temp, path)),
            Err(source) => {
                cleanup(&staged);
                return Err(WriteError {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    for (i, (temp, path)) in staged.iter().enumerate() {
        if let Err(source) = std::fs::rename(temp, path) {
            cleanup(&staged[i..]);
            return Err(WriteError {
                path: path.to_path_buf(),
                source,
            });
        }
    }
    Ok(())
}

/// Writes one file atomically (see [`write_all_atomically`]).
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    write_all_atomically(&[(path, contents)])
}

fn write_temp(path: &Path, contents: &[u8]) -> std::io::Result<PathBuf> {
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temp = dir.join(format!(".{file_name}.{}.tmp", std::process::id()));
    let result = std::fs::File::create(&temp).and_then(|mut file| {
        file.write_all(contents)?;
        file.sync_all()
    });
    match result {
        Ok(()) => Ok(temp),
        Err(err) => {
            let _ = std::fs::remove_file(&temp);
            Err(err)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_whole_files_and_leaves_no_temp_behind() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        write_atomically(&target, b"[1]").unwrap();
        write_atomically(&target, b"[2]").unwrap();
        assert_eq!(std::fs::read(&target).unwrap(), b"[2]");
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn one_failing_file_leaves_the_whole_batch_unwritten() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("good.json");
        let bad = dir.path().join("missing-dir").join("bad.json");
        let err = write_all_atomically(&[(&good, b"1"), (&bad, b"2")]).unwrap_err();
        assert_eq!(err.path, bad);
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            0,
            "no target and no temp file"
        );
    }
}
