//! The one way both binaries read an input file (stage configs, the build config, an accounts
//! file, a custom template, the payload manifest and bodies, a CA bundle). A FIFO would block the
//! reading thread, and with it the signal handling and deadlines that share it; a device such as
//! `/dev/zero`, or a procfs file, streams without end. So the path must name a regular file (after
//! symlinks), it is opened without blocking and checked again once open (a FIFO swapped in between
//! is still refused), and at most one byte past the caller's limit is ever read, whatever size
//! the file reports.

use std::io::Read;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use thiserror::Error;

/// Why an input file was not read. Each message continues `<setting> <path>: `.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReadError {
    #[error("file not found")]
    Missing,
    #[error("is a directory, not a file")]
    Directory,
    #[error("is not a regular file (a FIFO, device or socket, which could block or never end)")]
    NotRegular,
    #[error("is over {limit} bytes")]
    TooBig { limit: u64 },
    #[error("cannot be read ({0})")]
    Unreadable(String),
}

/// The bytes of the regular file at `path`, at most `limit` of them.
pub fn read(path: &Path, limit: u64) -> Result<Vec<u8>, ReadError> {
    let unreadable = |err: std::io::Error| match err.kind() {
        std::io::ErrorKind::NotFound => ReadError::Missing,
        _ => ReadError::Unreadable(err.to_string()),
    };
    let kind = |metadata: &std::fs::Metadata| {
        if metadata.is_dir() {
            Err(ReadError::Directory)
        } else if metadata.is_file() {
            Ok(())
        } else {
            Err(ReadError::NotRegular)
        }
    };
    kind(&std::fs::metadata(path).map_err(unreadable)?)?;
    // O_NONBLOCK: opening a FIFO that took the file's place since the check returns at once
    // instead of waiting for a writer; on a regular file the flag changes nothing.
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .map_err(unreadable)?;
    kind(&file.metadata().map_err(unreadable)?)?;
    let mut bytes = Vec::new();
    file.take(limit + 1)
        .read_to_end(&mut bytes)
        .map_err(unreadable)?;
    if bytes.len() as u64 > limit {
        return Err(ReadError::TooBig { limit });
    }
    Ok(bytes)
}

/// Why an input file's text was not read: the file ([`ReadError`]), or bytes that are not UTF-8
/// (the invalid byte comes after this many valid ones).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextError {
    Read(ReadError),
    NotUtf8(usize),
}

/// The UTF-8 text of the regular file at `path` (at most `limit` bytes, see [`read`]), without
/// the byte order mark editors on Windows may save (it is not part of the content).
pub fn read_text(path: &Path, limit: u64) -> Result<String, TextError> {
    let bytes = read(path, limit).map_err(TextError::Read)?;
    let text = String::from_utf8(bytes)
        .map_err(|err| TextError::NotUtf8(err.utf8_error().valid_up_to()))?;
    Ok(match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    })
}

/// `From<TextError>` for an input file's `Problem` enum, whose variants `Missing`, `IsDirectory`,
/// `NotRegular`, `TooBig`, `Unreadable(String)` and `NotUtf8(usize)` say what [`TextError`] says
/// in that file's own words (what it is, and how to fix it).
macro_rules! problem_from_text_error {
    ($problem:ty) => {
        impl From<$crate::input_file::TextError> for $problem {
            fn from(err: $crate::input_file::TextError) -> Self {
                use $crate::input_file::{ReadError, TextError};
                match err {
                    TextError::Read(ReadError::Missing) => Self::Missing,
                    TextError::Read(ReadError::Directory) => Self::IsDirectory,
                    TextError::Read(ReadError::NotRegular) => Self::NotRegular,
                    TextError::Read(ReadError::TooBig { .. }) => Self::TooBig,
                    TextError::Read(ReadError::Unreadable(err)) => Self::Unreadable(err),
                    TextError::NotUtf8(valid_up_to) => Self::NotUtf8(valid_up_to),
                }
            }
        }
    };
}
pub(crate) use problem_from_text_error;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_a_regular_file_up_to_its_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f.json");
        std::fs::write(&path, b"[1, 2]").unwrap();
        assert_eq!(read(&path, 6).unwrap(), b"[1, 2]");
        assert_eq!(read(&path, 5), Err(ReadError::TooBig { limit: 5 }));
        assert_eq!(read(&dir.path().join("none"), 5), Err(ReadError::Missing));
        assert_eq!(read(dir.path(), 5), Err(ReadError::Directory));
    }

    #[test]
    fn a_fifo_and_an_endless_device_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe.json");
        let name = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: mkfifo(3) reads a NUL-terminated path.
        assert_eq!(unsafe { libc::mkfifo(name.as_ptr(), 0o600) }, 0);
        assert_eq!(read(&fifo, 10), Err(ReadError::NotRegular));
        assert_eq!(read(Path::new("/dev/zero"), 10), Err(ReadError::NotRegular));
        let link = dir.path().join("zero.json");
        std::os::unix::fs::symlink("/dev/zero", &link).unwrap();
        assert_eq!(read(&link, 10), Err(ReadError::NotRegular));
    }

    #[test]
    fn a_file_that_streams_more_than_it_reports_is_cut_at_the_limit() {
        // procfs files report a size of 0 and stream their content.
        let path = Path::new("/proc/self/status");
        assert_eq!(std::fs::metadata(path).unwrap().len(), 0);
        assert_eq!(read(path, 10), Err(ReadError::TooBig { limit: 10 }));
    }
}
