//! Parses the command line, runs the test step and ends the way both binaries end
//! (`deploy_shell::finish`). All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use test_step::Args;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    deploy_shell::logging::init(&args.log);
    let result = test_step::run(&args).await;
    deploy_shell::finish::finish("test-step", args.log.log_format, args.output, &result)
}
