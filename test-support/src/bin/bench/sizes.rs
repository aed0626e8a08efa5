//! The binaries' sizes: each release binary must be stripped and within the size budget the
//! project sets itself (`deploy_core::budget::MAX_BINARY_BYTES`).

use std::path::Path;

use deploy_core::budget::MAX_BINARY_BYTES;

/// Prints the size of each binary in `bin_dir`; the problems found.
pub(crate) fn check(bin_dir: &Path) -> Vec<String> {
    println!("stripped binary sizes (budget {MAX_BINARY_BYTES} bytes each):");
    let mut problems = Vec::new();
    for name in ["build-step", "test-step"] {
        match binary_size(&bin_dir.join(name)) {
            Ok(size) => println!(
                "  {name:<10} {size:>9} bytes ({:.2} MiB)",
                size as f64 / 1_048_576.0
            ),
            Err(why) => {
                println!("  {name:<10} {why}");
                problems.push(why);
            }
        }
    }
    problems
}

/// The binary's size, failing when it is over budget or still carries a symbol table.
fn binary_size(path: &Path) -> Result<u64, String> {
    let bytes = std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let size = bytes.len() as u64;
    if bytes.windows(8).any(|w| w == b".symtab\0") {
        return Err(format!("{} is not stripped", path.display()));
    }
    if size > MAX_BINARY_BYTES {
        return Err(format!(
            "{} is {size} bytes, over the {MAX_BINARY_BYTES}-byte budget",
            path.display()
        ));
    }
    Ok(size)
}
