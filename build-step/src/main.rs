//! Parses the command line, runs the build step, prints its summary and maps the result to the
//! documented exit code. All logic lives in the library.

use std::process::ExitCode;

use build_step::Args;
use clap::Parser;
use deploy_common::exit::print_failure;
use deploy_common::ExitStatus;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    deploy_common::logging::init(&args.log);
    let status = match build_step::run(&args).await {
        Ok(summary) => match summary.print(args.output, &mut std::io::stdout().lock()) {
            Ok(()) => ExitStatus::Success,
            Err(err) => {
                print_failure(
                    args.log.log_format,
                    "build-step",
                    &format!("cannot print the summary: {err}"),
                    ExitStatus::BadInput,
                );
                ExitStatus::BadInput
            }
        },
        Err(err) => {
            let status = err.exit_status();
            print_failure(args.log.log_format, "build-step", &err.to_string(), status);
            status
        }
    };
    status.into()
}
