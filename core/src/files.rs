//! A run's outputs are written as a set, whole or not at all. Before anything is written the set
//! is checked: every output names a file (not a directory) in an existing, writable directory, no
//! two outputs are the same file, and no output is one of the run's inputs (compared by resolved
//! directory entries, not by spelling). Then each output goes to a temp file created beside it
//! (exclusively, so a planted symlink is never followed) and the temps are renamed into place
//! only once all were written and synced; if a rename fails midway, the files already replaced
//! are restored. A failed or interrupted run therefore never leaves a partial set for the next
//! pipeline stage to pick up, and never loses a file it was given.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::inputs::Input;

/// How many names a temp file may try before the directory is deemed unusable.
const TEMP_ATTEMPTS: u32 = 64;

/// A path and the input that named it, as messages show it: `--import-staging-config staging-config.json`.
#[derive(Debug, Clone, Copy)]
pub struct NamedPath<'a> {
    pub path: &'a Path,
    pub input: Input,
}

impl<'a> NamedPath<'a> {
    pub fn new(path: &'a Path, input: Input) -> Self {
        Self { path, input }
    }
}

impl std::fmt::Display for NamedPath<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.input, self.path.display())
    }
}

/// An output set that cannot be written as asked; nothing was written.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum OutputSetError {
    #[error(
        "{output}: {problem}; name a file in an existing, writable directory (nothing was written)"
    )]
    Unwritable { output: String, problem: String },
    #[error("{first} and {second} are the same file; give each output its own file (nothing was written)")]
    SameFile { first: String, second: String },
    #[error("{output} would overwrite {input}, which this run reads; name another file (nothing was written)")]
    OverwritesInput { output: String, input: String },
}

/// Checks an output set against itself and the run's inputs (see the module doc).
pub fn check_output_set(
    outputs: &[NamedPath<'_>],
    inputs: &[NamedPath<'_>],
) -> Result<(), OutputSetError> {
    let mut entries = Vec::with_capacity(outputs.len());
    for output in outputs {
        let entry = output_entry(output.path).map_err(|problem| OutputSetError::Unwritable {
            output: output.to_string(),
            problem,
        })?;
        if let Some((earlier, _)) = entries.iter().find(|(_, e)| *e == entry) {
            return Err(OutputSetError::SameFile {
                first: NamedPath::to_string(earlier),
                second: output.to_string(),
            });
        }
        entries.push((*output, entry));
    }
    for input in inputs {
        let read = input_entries(input.path);
        if let Some((output, _)) = entries.iter().find(|(_, e)| read.contains(e)) {
            return Err(OutputSetError::OverwritesInput {
                output: output.to_string(),
                input: input.to_string(),
            });
        }
    }
    Ok(())
}

/// The directory entry an output's rename replaces: its directory resolved, its own name kept (a
/// rename replaces a symlink, it does not follow it).
fn output_entry(path: &Path) -> Result<PathBuf, String> {
    let Some(name) = path.file_name() else {
        return Err("names no file".into());
    };
    if path
        .symlink_metadata()
        .is_ok_and(|m| m.file_type().is_dir())
    {
        return Err("is a directory".into());
    }
    let dir = parent_dir(path);
    let resolved = dir
        .canonicalize()
        .map_err(|_| format!("its directory {} does not exist", dir.display()))?;
    if !resolved.is_dir() {
        return Err(format!("{} is not a directory", dir.display()));
    }
    if !writable(&resolved) {
        return Err(format!("its directory {} is not writable", dir.display()));
    }
    Ok(resolved.join(name))
}

/// The entries reading `path` touches: its own (resolved like an output's) and, when it is a
/// symlink, the file it leads to.
fn input_entries(path: &Path) -> Vec<PathBuf> {
    let mut entries = Vec::with_capacity(2);
    if let (Some(name), Ok(dir)) = (path.file_name(), parent_dir(path).canonicalize()) {
        entries.push(dir.join(name));
    }
    if let Ok(target) = path.canonicalize() {
        entries.push(target);
    }
    entries
}

fn parent_dir(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// Whether this process may create files in `dir`: the kernel's answer to a real create (an
/// empty probe file, created exclusively under a fresh name and removed at once).
fn writable(dir: &Path) -> bool {
    for attempt in 0..TEMP_ATTEMPTS {
        let probe = dir.join(format!(".{}.{attempt}.probe", std::process::id()));
        match OpenOptions::new().write(true).create_new(true).open(&probe) {
            Ok(file) => {
                drop(file);
                let _ = std::fs::remove_file(&probe);
                return true;
            }
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(_) => return false,
        }
    }
    false
}

/// A write that failed, with the file it was for.
#[derive(Debug, Error)]
#[error("cannot write {}: {source}; check that the directory exists and is writable", path.display())]
pub struct WriteError {
    pub path: PathBuf,
    pub source: std::io::Error,
}

/// Writes every `(path, contents)` pair through temp files and renames them into place only when
/// all were written; a failed rename restores the files already replaced.
pub fn write_all_atomically(files: &[(&Path, &[u8])]) -> Result<(), WriteError> {
    write_set(files, |from, to| std::fs::rename(from, to))
}

/// Writes one file atomically (see [`write_all_atomically`]).
pub fn write_atomically(path: &Path, contents: &[u8]) -> Result<(), WriteError> {
    write_all_atomically(&[(path, contents)])
}

/// One output on its way: its temp file and, once replaced, the copy of what it replaced.
struct Staged<'a> {
    target: &'a Path,
    temp: PathBuf,
    /// A hard link to the file the rename replaces, kept until the whole set is in place.
    previous: Option<PathBuf>,
}

fn write_set(
    files: &[(&Path, &[u8])],
    mut rename: impl FnMut(&Path, &Path) -> std::io::Result<()>,
) -> Result<(), WriteError> {
    let mut staged: Vec<Staged<'_>> = Vec::with_capacity(files.len());
    for (path, contents) in files {
        match write_temp(path, contents) {
            Ok(temp) => staged.push(Staged {
                target: path,
                temp,
                previous: None,
            }),
            Err(source) => {
                discard(&staged);
                return Err(WriteError {
                    path: path.to_path_buf(),
                    source,
                });
            }
        }
    }
    for i in 0..staged.len() {
        let keep = keep_previous(staged[i].target);
        let result = keep.and_then(|previous| {
            staged[i].previous = previous;
            rename(&staged[i].temp, staged[i].target)
        });
        if let Err(source) = result {
            restore(&staged[..i]);
            discard(&staged[i..]);
            return Err(WriteError {
                path: staged[i].target.to_path_buf(),
                source,
            });
        }
    }
    for done in &staged {
        if let Some(previous) = &done.previous {
            let _ = std::fs::remove_file(previous);
        }
    }
    Ok(())
}

/// A hard link to the file at `target`, if there is one, so a later failure can put it back.
fn keep_previous(target: &Path) -> std::io::Result<Option<PathBuf>> {
    if !target.symlink_metadata().is_ok_and(|m| m.is_file()) {
        return Ok(None);
    }
    for attempt in 0..TEMP_ATTEMPTS {
        let previous = sibling(target, &format!("{attempt}.previous"));
        match std::fs::hard_link(target, &previous) {
            Ok(()) => return Ok(Some(previous)),
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => {}
            Err(err) => return Err(err),
        }
    }
    Err(std::io::Error::other("no free name for a backup"))
}

/// Puts back what the already renamed outputs replaced (or removes them if they were new).
fn restore(renamed: &[Staged<'_>]) {
    for done in renamed.iter().rev() {
        match &done.previous {
            Some(previous) => {
                let _ = std::fs::rename(previous, done.target);
            }
            None => {
                let _ = std::fs::remove_file(done.target);
            }
        }
    }
}

fn discard(staged: &[Staged<'_>]) {
    for pending in staged {
        let _ = std::fs::remove_file(&pending.temp);
        if let Some(previous) = &pending.previous {
            let _ = std::fs::remove_file(previous);
        }
    }
}

/// `.<name>.<pid>.<tag>` beside `target`.
fn sibling(target: &Path, tag: &str) -> PathBuf {
    let name = target
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    parent_dir(target).join(format!(".{name}.{}.{tag}", std::process::id()))
}

/// A new file beside `path` holding `contents`, synced. Created exclusively: an existing name
/// (a planted symlink included) is never opened, another name is tried.
fn write_temp(path: &Path, contents: &[u8]) -> std::io::Result<PathBuf> {
    for attempt in 0..TEMP_ATTEMPTS {
        let temp = sibling(path, &format!("{attempt}.tmp"));
        let mut file = match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => file,
            Err(err) if err.kind() == std::io::ErrorKind::AlreadyExists => continue,
            Err(err) => return Err(err),
        };
        let written = file.write_all(contents).and_then(|()| file.sync_all());
        return match written {
            Ok(()) => Ok(temp),
            Err(err) => {
                let _ = std::fs::remove_file(&temp);
                Err(err)
            }
        };
    }
    Err(std::io::Error::other("no free name for a temp file"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inputs;

    fn named(path: &Path, input: Input) -> NamedPath<'_> {
        NamedPath::new(path, input)
    }

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

    #[test]
    fn a_rename_failing_midway_restores_what_was_already_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let [first, second, third] = ["a.yml", "b.json", "c.json"].map(|n| dir.path().join(n));
        std::fs::write(&first, "old a").unwrap();
        std::fs::write(&third, "old c").unwrap();
        let mut renames = 0;
        let err = write_set(
            &[(&first, b"new a"), (&second, b"new b"), (&third, b"new c")],
            |from, to| {
                renames += 1;
                if renames == 3 {
                    Err(std::io::Error::other("injected"))
                } else {
                    std::fs::rename(from, to)
                }
            },
        )
        .unwrap_err();
        assert_eq!(err.path, third);
        assert_eq!(std::fs::read_to_string(&first).unwrap(), "old a");
        assert!(!second.exists(), "a new output is removed again");
        assert_eq!(std::fs::read_to_string(&third).unwrap(), "old c");
        let mut left: Vec<String> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["a.yml", "c.json"], "no temp file or backup is left");
    }

    #[test]
    fn a_planted_symlink_at_the_temp_name_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out.json");
        let victim = dir.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        std::os::unix::fs::symlink(&victim, sibling(&target, "0.tmp")).unwrap();
        write_atomically(&target, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        assert_eq!(std::fs::read_to_string(&target).unwrap(), "new");
    }

    #[test]
    fn outputs_must_be_files_in_writable_directories() {
        let dir = tempfile::tempdir().unwrap();
        let sub = dir.path().join("sub");
        std::fs::create_dir(&sub).unwrap();
        let missing = dir.path().join("nope/out.json");
        let err = check_output_set(&[named(&sub, inputs::EXPORT_TEMPLATE)], &[]).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!("EXPORT_TEMPLATE_NAME (--export-template) {}: is a directory; name a file in an existing, writable directory (nothing was written)", sub.display())
        );
        let err = check_output_set(&[named(&missing, inputs::EXPORT_TEMPLATE)], &[]).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        assert!(check_output_set(&[named(Path::new(""), inputs::JUNIT_REPORT)], &[]).is_err());
    }

    #[test]
    fn two_spellings_of_one_file_are_the_same_output() {
        let dir = tempfile::tempdir().unwrap();
        let plain = dir.path().join("out.json");
        let dotted = dir.path().join("sub/../out.json");
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        let err = check_output_set(
            &[
                named(&plain, inputs::EXPORT_STAGING_CONFIG),
                named(&dotted, inputs::EXPORT_PROD_CONFIG),
            ],
            &[],
        )
        .unwrap_err();
        assert!(matches!(err, OutputSetError::SameFile { .. }), "{err}");
    }

    #[test]
    fn an_output_may_not_replace_an_input_or_its_link() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().join("staging-config.json");
        std::fs::write(&config, "[]").unwrap();
        let link = dir.path().join("link.json");
        std::os::unix::fs::symlink(&config, &link).unwrap();
        let err = check_output_set(
            &[named(&config, inputs::EXPORT_STAGING_CONFIG)],
            &[named(&config, inputs::IMPORT_STAGING_CONFIG)],
        )
        .unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "EXPORT_TEMPLATE_STAGING_CONFIG (--export-staging-config) {0} would overwrite --import-staging-config {0}, which this run reads; name another file (nothing was written)",
                config.display()
            )
        );
        let through_link = check_output_set(
            &[named(&config, inputs::EXPORT_STAGING_CONFIG)],
            &[named(&link, inputs::IMPORT_STAGING_CONFIG)],
        );
        assert!(
            matches!(through_link, Err(OutputSetError::OverwritesInput { .. })),
            "an input read through a symlink is the file it leads to"
        );
        let other = dir.path().join("staging-config-export.json");
        assert!(check_output_set(
            &[named(&other, inputs::EXPORT_STAGING_CONFIG)],
            &[named(&config, inputs::IMPORT_STAGING_CONFIG)],
        )
        .is_ok());
    }
}
