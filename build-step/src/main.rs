//! Parses the command line, runs the build step and ends the way both binaries end
//! (`deploy_shell::finish`). All logic lives in the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use build_step::Args;
use clap::Parser;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    deploy_shell::logging::init(&args.log);
    let result = build_step::run(&args).await;
    deploy_shell::finish::finish("build-step", args.log.log_format, args.output, &result)
}
