//! Thin entry point; see the library.

use std::process::ExitCode;

use clap::Parser;
use deploy_common::ExitStatus;

/// Tests the staging endpoints before the manual approval for production (not implemented yet).
#[derive(Parser)]
#[command(name = "test-step", version, after_help = deploy_common::exit::help_table("a target failed its tests"))]
struct Args {}

fn main() -> ExitCode {
    Args::parse();
    eprintln!("test-step: error: {}", test_step::NOT_IMPLEMENTED);
    ExitStatus::BadInput.into()
}
