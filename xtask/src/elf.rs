//! "Fully static" checked from the ELF program headers rather than by running `readelf`: a
//! binary that asks for an interpreter (`PT_INTERP`) or carries a dynamic section (`PT_DYNAMIC`)
//! needs a loader and libc at run time, and would fail on a CodeBuild image without them.

use std::path::Path;

use crate::TaskError;

const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;

/// Fails unless `bytes` is a 64-bit little-endian ELF executable with neither an interpreter nor
/// a dynamic section.
pub(crate) fn ensure_static(path: &Path, bytes: &[u8]) -> Result<(), TaskError> {
    let not_static = |reason: &str| TaskError::NotStatic {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    if bytes.len() < 64 || &bytes[..4] != b"\x7fELF" || bytes[4] != 2 || bytes[5] != 1 {
        return Err(not_static("not a 64-bit little-endian ELF file"));
    }
    let u16_at = |at: usize| u16::from_le_bytes([bytes[at], bytes[at + 1]]) as usize;
    let program_headers = u64::from_le_bytes(bytes[32..40].try_into().expect("8 bytes")) as usize;
    let (entry_size, count) = (u16_at(54), u16_at(56));
    for index in 0..count {
        let at = program_headers + index * entry_size;
        let Some(header) = bytes.get(at..at + 4) else {
            return Err(not_static("truncated program headers"));
        };
        match u32::from_le_bytes(header.try_into().expect("4 bytes")) {
            PT_INTERP => return Err(not_static("it asks for a program interpreter (PT_INTERP)")),
            PT_DYNAMIC => return Err(not_static("it has a dynamic section (PT_DYNAMIC)")),
            _ => {}
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dynamically_linked_system_binary_is_rejected() {
        let path = Path::new("/bin/sh");
        let bytes = std::fs::read(path).expect("/bin/sh exists");
        let err = ensure_static(path, &bytes).unwrap_err().to_string();
        assert!(err.contains("/bin/sh is not fully static"), "{err}");
    }

    #[test]
    fn a_text_file_is_not_an_elf_binary() {
        let err = ensure_static(
            Path::new("README.md"),
            b"# not a binary, but long enough to have a header of sixty-four bytes",
        )
        .unwrap_err()
        .to_string();
        assert!(err.contains("not a 64-bit little-endian ELF file"), "{err}");
    }
}
