//! Parses the command line, runs the test step and ends the way both binaries end
//! (`deploy_shell::finish`). All logic lives in the library.

#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::Parser;
use test_step::Args;

fn main() -> ExitCode {
    let args = Args::parse();
    deploy_shell::logging::init(&args.log);
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("test-step: error: cannot start the async runtime ({err}); the machine is out of threads or file descriptors, free some and run again");
            return ExitCode::from(deploy_core::ExitStatus::AwsError.code());
        }
    };
    let result = runtime.block_on(test_step::run(&args));
    // An answer check may still run on a blocking thread when a stop ended the run: the reports
    // are written, so it is not waited for.
    runtime.shutdown_background();
    deploy_shell::finish::finish("test-step", args.log.log_format, args.output, &result)
}
