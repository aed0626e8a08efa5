//! Parses the command line, runs the test step, prints its summary and maps the result to the
//! documented exit code. All logic lives in the library.

use std::process::ExitCode;

use clap::Parser;
use deploy_common::exit::print_failure;
use deploy_common::ExitStatus;
use test_step::Args;

#[tokio::main(flavor = "current_thread")]
async fn main() -> ExitCode {
    let args = Args::parse();
    deploy_common::logging::init(&args.log);
    let status = match test_step::run(&args).await {
        Ok(report) => {
            if let Err(err) = report.print(args.output, &mut std::io::stdout().lock()) {
                print_failure(
                    args.log.log_format,
                    "test-step",
                    &format!("cannot print the summary: {err}"),
                    ExitStatus::BadInput,
                );
            }
            let status = report.exit_status();
            if let Some(message) = test_step::failure_message(&report, &args) {
                print_failure(args.log.log_format, "test-step", &message, status);
            }
            status
        }
        Err(err) => {
            let status = err.exit_status();
            print_failure(args.log.log_format, "test-step", &err.to_string(), status);
            status
        }
    };
    status.into()
}
