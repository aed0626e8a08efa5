//! A small local CodeBuild: reads a `buildspec.yml` and runs it the way CodeBuild would, so the
//! seed's buildspecs are tested as shipped rather than by re-typing their commands in a test.
//!
//! What it does: the project's environment (resolved from the product template's
//! `AWS::CodeBuild::Project`, so a variable the template forgets is a failing test) plus what
//! CodeBuild itself sets (`CODEBUILD_BUILD_ID`, `CODEBUILD_SRC_DIR`, `CODEBUILD_SRC_DIR_<input>`),
//! the phases in order (`install`, `pre_build`, `build`, `post_build`; a failed `build` still runs
//! `post_build`, as CodeBuild does), each phase's commands in one `sh -e` so the first failing
//! command fails the phase, then the artifacts and report files collected whatever the result.
//! Each phase runs in its own shell (CodeBuild shares one across phases); the seed's buildspecs
//! do not depend on the difference. Artifact files may use `*` in their file name (not in a
//! directory, and no `**`), which is all the seed's buildspecs use. Keys it does not implement
//! (`runtime-versions`, `finally`, other globs, ...) are an error, never silently ignored.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use crate::cfn_eval::{self, StackInputs};

const PHASES: [&str; 4] = ["install", "pre_build", "build", "post_build"];

/// A parsed buildspec (version 0.2).
#[derive(Debug)]
pub struct Buildspec {
    env: Vec<(String, String)>,
    /// `env.exported-variables`: what the build hands to later pipeline actions.
    exported: Vec<String>,
    phases: Vec<(String, Vec<String>)>,
    artifacts: Vec<String>,
    reports: BTreeMap<String, ReportSpec>,
}

/// A `reports:` group: its files and format.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub files: Vec<String>,
    pub file_format: String,
}

/// The outcome of one build.
#[derive(Debug)]
pub struct BuildResult {
    /// Every phase and every artifact path succeeded.
    pub succeeded: bool,
    /// The phase that failed first, if any.
    pub failed_phase: Option<String>,
    /// Combined stdout and stderr of every command, as the CodeBuild log would show it.
    pub log: String,
    /// Artifact files copied out of the source dir, by their path in the artifact.
    pub artifacts: BTreeMap<String, PathBuf>,
    /// Report files by group, as CodeBuild would upload them.
    pub reports: BTreeMap<String, Vec<PathBuf>>,
    /// The exported variables' values at the end of the last phase that set them.
    pub exported: BTreeMap<String, String>,
}

impl Buildspec {
    /// Reads and checks a buildspec; an unknown or unsupported key is an error naming it.
    pub fn read(path: &Path) -> Result<Self, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let doc: Value = serde_yaml::from_str(&text)
            .map_err(|e| format!("{} is not YAML: {e}", path.display()))?;
        let top = mapping(&doc, "buildspec")?;
        only_keys(
            top,
            "buildspec",
            &["version", "env", "phases", "artifacts", "reports"],
        )?;
        match top.get("version") {
            Some(Value::Number(n)) if n.as_f64() == Some(0.2) => {}
            Some(Value::String(s)) if s == "0.2" => {}
            other => return Err(format!("buildspec version must be 0.2, found {other:?}")),
        }
        let mut exported = Vec::new();
        let env = match top.get("env") {
            None => Vec::new(),
            Some(env) => {
                let env = mapping(env, "env")?;
                only_keys(env, "env", &["variables", "exported-variables"])?;
                if env.contains_key("exported-variables") {
                    exported = strings(env.get("exported-variables"), "env.exported-variables")?;
                }
                match env.get("variables") {
                    Some(variables) => string_map(Some(variables), "env.variables")?,
                    None => Vec::new(),
                }
            }
        };
        let phases_map = mapping(
            top.get("phases").ok_or("buildspec has no phases")?,
            "phases",
        )?;
        only_keys(phases_map, "phases", &PHASES)?;
        let mut phases = Vec::new();
        for phase in PHASES {
            if let Some(body) = phases_map.get(phase) {
                let body = mapping(body, phase)?;
                only_keys(body, phase, &["commands"])?;
                phases.push((phase.to_owned(), strings(body.get("commands"), phase)?));
            }
        }
        let artifacts = match top.get("artifacts") {
            None => Vec::new(),
            Some(artifacts) => {
                let artifacts = mapping(artifacts, "artifacts")?;
                only_keys(artifacts, "artifacts", &["files"])?;
                file_name_globs(strings(artifacts.get("files"), "artifacts.files")?)?
            }
        };
        let mut reports = BTreeMap::new();
        if let Some(groups) = top.get("reports") {
            for (group, spec) in mapping(groups, "reports")? {
                let group = group.as_str().ok_or("report group names are strings")?;
                let spec = mapping(spec, group)?;
                only_keys(spec, group, &["files", "file-format"])?;
                let files = literal_paths(strings(spec.get("files"), group)?)?;
                let file_format = match spec.get("file-format") {
                    None => "JUNITXML".to_owned(),
                    Some(Value::String(format)) => format.clone(),
                    Some(other) => return Err(format!("{group}.file-format: {other:?}")),
                };
                reports.insert(group.to_owned(), ReportSpec { files, file_format });
            }
        }
        Ok(Self {
            env,
            exported,
            phases,
            artifacts,
            reports,
        })
    }

    pub fn reports(&self) -> &BTreeMap<String, ReportSpec> {
        &self.reports
    }

    /// Runs the build in `source_dir` with `environment` (the project's variables, CodeBuild's
    /// own and the credentials), copying artifacts into `artifact_dir`.
    pub fn run(
        &self,
        source_dir: &Path,
        environment: &[(String, String)],
        artifact_dir: &Path,
    ) -> BuildResult {
        let mut log = String::new();
        let mut failed_phase = None;
        let mut exported = BTreeMap::new();
        for (phase, commands) in &self.phases {
            if failed_phase.is_some() && phase != "post_build" {
                continue;
            }
            // The exported variables' values as the phase's shell ends, however it ends.
            let exports = artifact_dir.with_extension(format!("{phase}.exported"));
            let mut script = String::new();
            if !self.exported.is_empty() {
                let dump: Vec<String> = self
                    .exported
                    .iter()
                    .map(|name| format!("printf '%s\\t%s\\n' {name} \"${{{name}-}}\""))
                    .collect();
                script.push_str(&format!(
                    "__exported() {{ {}; }}\ntrap '__exported > \"{}\"' EXIT\n",
                    dump.join("; "),
                    exports.display()
                ));
            }
            script.push_str(&commands.join("\n"));
            let mut shell = Command::new("sh");
            shell
                .arg("-ec")
                .arg(script)
                .current_dir(source_dir)
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("HOME", source_dir)
                .envs(environment.iter().map(|(k, v)| (k, v)))
                .envs(self.env.iter().map(|(k, v)| (k, v)));
            let output = shell.output().expect("sh runs");
            log.push_str(&format!("[Container] Entering phase {phase}\n"));
            log.push_str(&String::from_utf8_lossy(&output.stdout));
            log.push_str(&String::from_utf8_lossy(&output.stderr));
            if !output.status.success() && failed_phase.is_none() {
                log.push_str(&format!(
                    "[Container] Phase {phase} failed: {}\n",
                    output.status
                ));
                failed_phase = Some(phase.clone());
            }
            let dumped = std::fs::read_to_string(&exports).unwrap_or_default();
            let _ = std::fs::remove_file(&exports);
            for (name, value) in dumped.lines().filter_map(|l| l.split_once('\t')) {
                if !value.is_empty() {
                    exported.insert(name.to_owned(), value.to_owned());
                }
            }
        }
        std::fs::create_dir_all(artifact_dir).expect("artifact dir");
        let mut artifacts = BTreeMap::new();
        let mut missing_artifact = false;
        for pattern in &self.artifacts {
            let files = matching_files(source_dir, pattern);
            if files.is_empty() {
                log.push_str(&format!(
                    "[Container] no matching artifact paths found: {pattern}\n"
                ));
                missing_artifact = true;
            }
            for file in files {
                let to = artifact_dir.join(&file);
                std::fs::create_dir_all(to.parent().expect("parent")).expect("artifact subdir");
                std::fs::copy(source_dir.join(&file), &to).expect("copy artifact");
                artifacts.insert(file, to);
            }
        }
        let reports = self
            .reports
            .iter()
            .map(|(group, spec)| {
                let found = spec
                    .files
                    .iter()
                    .map(|file| source_dir.join(file))
                    .filter(|path| path.is_file())
                    .collect();
                (group.clone(), found)
            })
            .collect();
        BuildResult {
            succeeded: failed_phase.is_none() && !missing_artifact,
            failed_phase,
            log,
            artifacts,
            reports,
            exported,
        }
    }
}

/// The environment variables a CodeBuild project in a CloudFormation template sets, as a stack
/// made from `inputs` (parameters, account, Region) would set them: every intrinsic resolved by
/// [`crate::cfn_eval`].
pub fn project_environment(
    template: &Path,
    project_logical_id: &str,
    inputs: &StackInputs,
) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(template)
        .map_err(|e| format!("cannot read {}: {e}", template.display()))?;
    let doc: Value = serde_yaml::from_str(&text)
        .map_err(|e| format!("{} is not YAML: {e}", template.display()))?;
    let stack = cfn_eval::resolve(&doc, inputs).map_err(|e| e.to_string())?;
    let project = stack
        .resource(project_logical_id)
        .filter(|r| r.resource_type == "AWS::CodeBuild::Project")
        .ok_or_else(|| format!("{project_logical_id} is not an AWS::CodeBuild::Project"))?;
    let variables = project.properties["Environment"]["EnvironmentVariables"]
        .as_array()
        .ok_or_else(|| format!("{project_logical_id} has no EnvironmentVariables"))?;
    variables
        .iter()
        .map(|variable| {
            let (name, value) = (variable["Name"].as_str(), variable["Value"].as_str());
            match (name, value) {
                (Some(name), Some(value)) => Ok((name.to_owned(), value.to_owned())),
                _ => Err(format!(
                    "{project_logical_id}: a variable without a string Name and Value: {variable}"
                )),
            }
        })
        .collect()
}

fn mapping<'a>(value: &'a Value, what: &str) -> Result<&'a serde_yaml::Mapping, String> {
    value
        .as_mapping()
        .ok_or_else(|| format!("{what} must be a mapping"))
}

fn only_keys(map: &serde_yaml::Mapping, what: &str, known: &[&str]) -> Result<(), String> {
    for key in map.keys() {
        let key = key.as_str().unwrap_or_default();
        if !known.contains(&key) {
            return Err(format!(
                "{what}.{key} is not handled by the local CodeBuild runner (it handles {known:?})"
            ));
        }
    }
    Ok(())
}

fn strings(value: Option<&Value>, what: &str) -> Result<Vec<String>, String> {
    value
        .and_then(Value::as_sequence)
        .ok_or_else(|| format!("{what} must be a list"))?
        .iter()
        .map(|item| {
            item.as_str()
                .map(str::to_owned)
                .ok_or_else(|| format!("{what}: every item must be a string"))
        })
        .collect()
}

fn string_map(value: Option<&Value>, what: &str) -> Result<Vec<(String, String)>, String> {
    mapping(value.ok_or_else(|| format!("{what} is empty"))?, what)?
        .iter()
        .map(|(k, v)| match (k.as_str(), v.as_str()) {
            (Some(k), Some(v)) => Ok((k.to_owned(), v.to_owned())),
            _ => Err(format!("{what}: names and values are strings")),
        })
        .collect()
}

/// The files under `dir` that `pattern` names, relative to `dir`: itself, or with a `*` in its
/// file name, every file of its directory that matches, sorted.
fn matching_files(dir: &Path, pattern: &str) -> Vec<String> {
    let Some((prefix, suffix)) = pattern.split_once('*') else {
        return if dir.join(pattern).is_file() {
            vec![pattern.to_owned()]
        } else {
            Vec::new()
        };
    };
    let (folder, name_start) = match prefix.rsplit_once('/') {
        Some((folder, start)) => (format!("{folder}/"), start),
        None => (String::new(), prefix),
    };
    let mut found: Vec<String> = std::fs::read_dir(dir.join(&folder))
        .into_iter()
        .flatten()
        .filter_map(Result::ok)
        .filter(|entry| entry.path().is_file())
        .filter_map(|entry| entry.file_name().into_string().ok())
        .filter(|name| {
            name.len() >= name_start.len() + suffix.len()
                && name.starts_with(name_start)
                && name.ends_with(suffix)
        })
        .map(|name| format!("{folder}{name}"))
        .collect();
    found.sort();
    found
}

/// `paths`, each literal or with one `*` in its file name.
fn file_name_globs(paths: Vec<String>) -> Result<Vec<String>, String> {
    let unsupported = |path: &String| {
        let name = path.rsplit('/').next().unwrap_or_default();
        path.contains(['?', '['])
            || path.matches('*').count() > 1
            || (path.contains('*') && !name.contains('*'))
    };
    match paths.iter().find(|path| unsupported(path)) {
        Some(glob) => Err(format!(
            "the local CodeBuild runner takes literal paths or one * in a file name, not {glob}"
        )),
        None => Ok(paths),
    }
}

fn literal_paths(paths: Vec<String>) -> Result<Vec<String>, String> {
    match paths.iter().find(|path| path.contains(['*', '?', '['])) {
        Some(glob) => Err(format!(
            "the local CodeBuild runner takes literal paths, not {glob}"
        )),
        None => Ok(paths),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, text: &str) -> PathBuf {
        let path = dir.join("buildspec.yml");
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn unknown_keys_are_refused_by_name() {
        let dir = tempfile::tempdir().unwrap();
        let spec = "version: 0.2\nphases:\n  install:\n    runtime-versions:\n      python: 3.11\n";
        let err = Buildspec::read(&write(dir.path(), spec)).unwrap_err();
        assert!(
            err.contains("install.runtime-versions is not handled"),
            "{err}"
        );
        let err = Buildspec::read(&write(dir.path(), "version: 0.1\nphases: {}\n")).unwrap_err();
        assert!(err.contains("version must be 0.2"), "{err}");
    }

    #[test]
    fn a_failed_build_still_runs_post_build_and_collects_what_exists() {
        let dir = tempfile::tempdir().unwrap();
        let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - echo made > out.txt\n      - exit 4\n      - echo never > never.txt\n  post_build:\n    commands:\n      - echo \"post $GREETING\"\nartifacts:\n  files:\n    - out.txt\n    - never.txt\n";
        let spec = Buildspec::read(&write(dir.path(), spec)).unwrap();
        let artifacts = dir.path().join("artifacts");
        let env = [("GREETING".to_owned(), "hello".to_owned())];
        let result = spec.run(dir.path(), &env, &artifacts);
        assert!(!result.succeeded);
        assert_eq!(result.failed_phase.as_deref(), Some("build"));
        assert!(result.log.contains("post hello"), "{}", result.log);
        assert_eq!(result.artifacts.keys().collect::<Vec<_>>(), ["out.txt"]);
        assert!(result
            .log
            .contains("no matching artifact paths found: never.txt"));
    }

    #[test]
    fn an_artifact_glob_in_a_file_name_collects_every_match_and_other_globs_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let spec = "version: 0.2\nphases:\n  build:\n    commands:\n      - mkdir out\n      - touch out/r.xml out/r-2.xml out/r.json out/x.xml\nartifacts:\n  files:\n    - out/r*.xml\n    - none*.txt\n";
        let spec = Buildspec::read(&write(dir.path(), spec)).unwrap();
        let result = spec.run(dir.path(), &[], &dir.path().join("artifacts"));
        assert_eq!(
            result.artifacts.keys().collect::<Vec<_>>(),
            ["out/r-2.xml", "out/r.xml"]
        );
        assert!(
            !result.succeeded,
            "a pattern with no match fails, as in CodeBuild"
        );
        for glob in ["o*/r.xml", "**/r.xml", "r?.xml", "r*-*.xml"] {
            let spec =
                format!("version: 0.2\nphases: {{}}\nartifacts:\n  files:\n    - \"{glob}\"\n");
            let err = Buildspec::read(&write(dir.path(), &spec)).unwrap_err();
            assert!(err.contains("one * in a file name"), "{glob}: {err}");
        }
    }

    #[test]
    fn exported_variables_keep_their_value_when_the_phase_fails() {
        let dir = tempfile::tempdir().unwrap();
        let spec = "version: 0.2\nenv:\n  exported-variables:\n    - SUMMARY\n    - UNSET\nphases:\n  build:\n    commands:\n      - export SUMMARY=\"2 of 2 passed\"\n      - exit 1\n";
        let spec = Buildspec::read(&write(dir.path(), spec)).unwrap();
        let result = spec.run(dir.path(), &[], &dir.path().join("artifacts"));
        assert!(!result.succeeded);
        assert_eq!(
            result.exported.into_iter().collect::<Vec<_>>(),
            [("SUMMARY".to_owned(), "2 of 2 passed".to_owned())]
        );
    }
}
