//! A test's working directory, as the checked-out repository or build artifact a CodeBuild
//! project runs in: a temporary directory (removed when the value drops) with helpers to write,
//! read and name its files. Each binary's tests wrap it with what their runs need (the stage
//! configs, the build config, the binary's environment).

use std::path::{Path, PathBuf};

/// A temporary directory the test owns.
pub struct Workspace {
    _dir: tempfile::TempDir,
    /// Where it is (the binaries run in it).
    pub path: PathBuf,
}

impl Default for Workspace {
    fn default() -> Self {
        Self::new()
    }
}

impl Workspace {
    /// An empty directory.
    pub fn new() -> Self {
        let dir = tempfile::tempdir().expect("create a temporary directory");
        let path = dir.path().to_path_buf();
        Self { _dir: dir, path }
    }

    /// Writes `contents` to `name` (relative; its directories are created), replacing any file
    /// there.
    pub fn write(&self, name: &str, contents: impl AsRef<[u8]>) -> &Self {
        let path = self.file(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .unwrap_or_else(|e| panic!("create {}: {e}", parent.display()));
        }
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("write {name}: {e}"));
        self
    }

    /// The text of `name`; a missing or non-UTF-8 file fails the test, naming it.
    pub fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    /// The path of `name` inside the workspace.
    pub fn file(&self, name: &str) -> PathBuf {
        self.path.join(name)
    }

    /// Names of the files directly inside (sorted), for "no partial output" checks.
    pub fn files(&self) -> Vec<String> {
        crate::cli::file_names(&self.path)
    }
}

/// The `ModelPackageName` of a StackSet parameter file as build-step writes it (a JSON list of
/// `{"ParameterKey", "ParameterValue"}`), read as plain JSON, apart from the product's own parser.
pub fn model_package_name(parameter_file: &Path) -> String {
    let shown = parameter_file.display();
    let text = std::fs::read_to_string(parameter_file).unwrap_or_else(|e| panic!("{shown}: {e}"));
    let params: serde_json::Value =
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{shown}: {e}:\n{text}"));
    params
        .as_array()
        .unwrap_or_else(|| panic!("{shown} is not a list:\n{text}"))
        .iter()
        .find(|p| p["ParameterKey"] == "ModelPackageName")
        .unwrap_or_else(|| panic!("{shown} has no ModelPackageName:\n{text}"))["ParameterValue"]
        .as_str()
        .unwrap_or_else(|| panic!("{shown}: ModelPackageName has no string value:\n{text}"))
        .to_owned()
}
