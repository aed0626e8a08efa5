//! A template of the repository resolved for one stack, for a test crate that parses no YAML
//! itself (`cfn_eval::resolve` takes the parsed template).

use crate::cfn_eval::{self, ResolvedTemplate, StackInputs};
use crate::tools::repo_root;

/// The template at `path` (from the repository's root) as CloudFormation would create it for
/// `inputs`; a template that cannot be read or resolved fails the test, naming it.
#[track_caller]
pub fn resolve_repo_template(path: &str, inputs: &StackInputs) -> ResolvedTemplate {
    let file = repo_root().join(path);
    let text = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let template: serde_yaml::Value =
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path} is not YAML: {e}"));
    cfn_eval::resolve(&template, inputs).unwrap_or_else(|e| panic!("{path} does not resolve: {e}"))
}
