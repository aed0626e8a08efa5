//! The side of `build-step` and `test-step` that touches the world, shared so the two cannot
//! drift apart: one way to reach AWS (config loading, retries, timeouts, errors that name the
//! call and the exit code they end a run with), the OU walk both steps rely on, one pagination
//! loop for every listing (`pages`, which xtask's publish uses too), logging, the flags both
//! accept, and how a run ends. The rules that need none of this live in `deploy-core`, which this
//! crate builds on.

#![forbid(unsafe_code)]

pub mod aws;
pub mod cli;
pub mod finish;
pub mod http;
pub mod logging;
pub mod organizations;
pub mod pages;

pub use aws::{AwsArgs, AwsCallError};
