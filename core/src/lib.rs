//! The rules `build-step` and `test-step` follow that need no AWS: how inputs are named and
//! checked, the stage configs and StackSet parameter files, the endpoint name and template, the
//! cross-account policy document, the payload manifest and its expectations, target selection,
//! session naming, and the reports. Nothing here links the AWS SDK, tokio or a network stack, so
//! every rule tests in seconds and the fuzz targets build on this crate alone. The binaries and
//! the AWS shell (`deploy-shell`) depend on it, never the reverse.
//!
//! Used by build-step: `build_plan`, `stage_config`, `hosting`, `template`, `access_policy`, `build_summary`,
//! `model_package`, `deploy_decision` (whether each stage's StackSet already runs this release).
//! Used by test-step: `manifest`, `targets`, `session_name`, `model_check`, `drift` (an
//! endpoint's settings against the build config's), `report` (the report model, rendered as JSON,
//! JUnit and text), `verdict` (what passes, and the statuses, exit code and messages that follow),
//! `fleet` (the preflight and status reports, their verdict and renderings), `capacity` (a
//! stage against its quota), `grants` (what a trust or resource policy grants a principal),
//! `model_source` (a package's artifacts and image as ARNs), `lifecycle` (the registry's record
//! of a test), `duration`. Shared: `accounts_file`, `inputs`, `exit`, `format`, `files`,
//! `stack_params`, `endpoint`, `arn`.
//!
//! `manifest` is in three parts: `manifest::parse` (the manifest's text, with bodies from any
//! source: `Manifest::parse`, which the fuzz target calls), `manifest::load` (the payloads
//! directory) and `manifest::check` (the answer checks). Also used by test-step:
//! `session_policy` (each target's session policy) and `body_regex` (the manifest's bounded
//! regexes). Shared with the AWS shell: `remote_text` (text an answer brought, quoted bounded).
//! Used by xtask and the bench: `budget`. Used inside this crate: `input_file` (how every input
//! file is read) and `bounded_yaml` (the template's YAML, bounded).

// No unsafe code outside the unit tests, which make FIFOs with mkfifo(3).
#![cfg_attr(not(test), forbid(unsafe_code))]

pub mod access_policy;
pub mod accounts_file;
pub mod arn;
pub mod body_regex;
pub mod bounded_yaml;
pub mod budget;
pub mod build_plan;
pub mod build_summary;
pub mod capacity;
pub mod deploy_decision;
pub mod drift;
pub mod duration;
pub mod endpoint;
pub mod exit;
pub mod files;
pub mod fleet;
pub mod format;
pub mod grants;
pub mod hosting;
pub mod input_file;
pub mod inputs;
pub mod lifecycle;
pub mod manifest;
pub mod model_check;
pub mod model_package;
pub mod model_source;
pub mod remote_text;
pub mod report;
pub mod session_name;
pub mod session_policy;
pub mod stack_params;
pub mod stage_config;
pub mod targets;
pub mod template;
pub mod verdict;

/// The payload bodies' type, for code that hands them on.
pub use bytes::Bytes;
pub use exit::ExitStatus;
pub use format::Format;
pub use inputs::Input;
