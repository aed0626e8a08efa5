//! What `build-step` and `test-step` share, and nothing more: how they reach AWS, how they name and
//! read their inputs (env var registry, StackSet parameter files), how they fail (typed errors and
//! one exit-code contract) and how they log. Keeping this in one crate is what stops the two
//! binaries from drifting apart on the rules the pipeline depends on (the endpoint name, the
//! parameter-file format, the OU walk).

pub mod aws;
pub mod cli;
pub mod endpoint;
pub mod env_vars;
pub mod exit;
pub mod files;
pub mod logging;
pub mod organizations;
pub mod stack_params;

pub use aws::{AwsArgs, AwsCallError};
pub use exit::ExitStatus;
