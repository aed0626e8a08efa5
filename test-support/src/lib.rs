//! Dev-only test support: one real `moto_server` per test process, seeding through the real AWS
//! SDK, and a small builder for running the real binaries against it.
//!
//! The emulator is started on 127.0.0.1 on a free port the first time a test asks for it and is
//! killed when the test process ends (an `atexit` hook, plus a parent-death signal in case the
//! process is killed). If `moto_server` cannot start, the calling test panics with the fix: a
//! missing emulator is never a silent skip. Tests isolate through unique names and account ids,
//! never through a global reset, so they can run in parallel against one emulator.

pub mod cfn_eval;
pub mod cli;
pub mod codebuild;
pub mod corpus;
pub mod endpoints;
pub mod fault_matrix;
pub mod fault_proxy;
pub mod iam_calls;
pub mod moto;
pub mod policy_eval;
pub mod repo_templates;
pub mod secrets;
pub mod seed;
pub mod tools;
pub mod workspace;

// The fault proxy's Service Catalog and CodePipeline stand-ins, at the paths they had before they
// moved in with its other stand-ins.
pub use fault_proxy::stand_ins::{catalog as catalog_stand_in, pipeline as pipeline_stand_in};

pub use cli::{Cli, CliOutput};
pub use moto::{moto, Moto};
