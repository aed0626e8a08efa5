//! The side of `build-step` and `test-step` that touches the world, shared so the two cannot
//! drift apart: one way to reach AWS (config loading, retries, timeouts, errors that name the
//! call), the OU walk both steps rely on, logging, the flags both accept, and how a run ends. The
//! rules that need none of this live in `deploy-core`, which this crate builds on.

pub mod aws;
pub mod cli;
pub mod finish;
pub mod http;
pub mod logging;
pub mod organizations;

pub use aws::{AwsArgs, AwsCallError};
