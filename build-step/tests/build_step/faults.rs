//! What AWS and the network throw at build-step's two calls, through the fault proxy: every
//! transient fault the retries can absorb leaves the exact outputs of a clean run; AccessDenied,
//! and transient faults that outlast the attempts, exit 3 naming the call and write nothing.
//!
//! The cells share one group (they only read it) and each has its own proxy, so faults and request
//! counts never cross; they run concurrently with the documented knobs keeping retries short.

use test_support::fault_matrix::{assert_cells, fails, recovers, CallFaults, Cell, Outcome};
use test_support::fault_proxy::FaultKind::{ServerError, Throttling};
use test_support::fault_proxy::FaultProxy;
use test_support::moto;

use crate::{group_with_one_approved, Workspace, INPUTS, OUTPUTS};

/// The emulator's default caller, whom AccessDenied names.
const CALLER: &str = "arn:aws:sts::123456789012:user/moto";

fn cells() -> Vec<Cell> {
    let faulted = [
        CallFaults {
            call: "ListModelPackages",
            action: "sagemaker:ListModelPackages",
            prefix: "",
            denied_to: CALLER,
            recovered_server_error: 500,
        },
        CallFaults {
            call: "DescribeModelPackage",
            action: "sagemaker:DescribeModelPackage",
            prefix: "",
            denied_to: CALLER,
            recovered_server_error: 503,
        },
    ];
    let mut cells: Vec<Cell> = faulted.iter().flat_map(CallFaults::cells).collect();
    // The attempt count is a knob: one more attempt absorbs a third fault, one attempt none.
    cells.push(Cell {
        env: &[("AWS_MAX_ATTEMPTS", "4")],
        ..recovers("ListModelPackages", Throttling, 3)
    });
    cells.push(Cell {
        env: &[("AWS_MAX_ATTEMPTS", "1")],
        ..fails(
            "DescribeModelPackage",
            ServerError(503),
            1,
            "AWS call sagemaker:DescribeModelPackage failed with ServiceUnavailable: ",
        )
    });
    cells
}

/// What a run without faults wrote and printed, and the requests it made.
struct Clean {
    files: Vec<Vec<u8>>,
    stdout: String,
    proxy: FaultProxy,
}

#[tokio::test]
async fn every_fault_on_every_call_recovers_or_fails_cleanly() {
    let (group, _) = group_with_one_approved("faults-matrix").await;
    let proxy = FaultProxy::start(moto());
    let ws = Workspace::new(&group.name);
    let out = ws.build_step().env("AWS_ENDPOINT_URL", proxy.url()).run();
    out.code(0);
    let clean = Clean {
        files: OUTPUTS.iter().map(|name| read(&ws, name)).collect(),
        stdout: out.stdout,
        proxy,
    };
    assert_eq!(
        (
            clean.proxy.count("ListModelPackages"),
            clean.proxy.count("DescribeModelPackage")
        ),
        (1, 1)
    );

    let cells = cells();
    assert_eq!(cells.len(), 20);
    assert_cells(&cells, 8, |cell| check(cell, &group.name, &clean));
}

fn check(cell: &Cell, group: &str, clean: &Clean) -> Vec<String> {
    let proxy = FaultProxy::start(moto());
    proxy.inject(cell.fault());
    let ws = Workspace::new(group);
    let out = ws
        .build_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .envs(cell.env())
        .run();
    let mut problems = Vec::new();
    let (code, written) = match &cell.outcome {
        Outcome::Recovers => (0, &OUTPUTS[..]),
        Outcome::Fails(_) => (3, &[][..]),
    };
    if out.code != Some(code) {
        problems.push(format!(
            "exit {:?}, expected {code}; stderr:\n{}",
            out.code, out.stderr
        ));
    }
    match &cell.outcome {
        Outcome::Recovers => {
            for (file, clean_bytes) in OUTPUTS.iter().zip(&clean.files) {
                if ws.file(file).exists() && read(&ws, file) != *clean_bytes {
                    problems.push(format!("{file} differs from the clean run's"));
                }
            }
            if out.stdout != clean.stdout {
                problems.push(format!(
                    "the summary differs from the clean run's:\n{}",
                    out.stdout
                ));
            }
        }
        Outcome::Fails(message) => {
            let expected = format!("build-step: error: {message}");
            if !out.stderr.contains(&expected) {
                problems.push(format!("stderr lacks {expected:?}:\n{}", out.stderr));
            }
        }
    }
    let mut files: Vec<&str> = INPUTS.iter().chain(written).copied().collect();
    files.sort_unstable();
    if ws.files() != files {
        problems.push(format!("files {:?}, expected {files:?}", ws.files()));
    }
    let requests = proxy.count(cell.call);
    let expected = cell.expected_requests(clean.proxy.count(cell.call));
    if requests != expected {
        problems.push(format!(
            "{requests} {} requests, expected {expected}",
            cell.call
        ));
    }
    problems
}

fn read(ws: &Workspace, name: &str) -> Vec<u8> {
    std::fs::read(ws.file(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// A bad knob is bad input, found before any AWS call.
#[test]
fn a_bad_retry_setting_is_bad_input() {
    let ws = Workspace::new("faults-bad-knob");
    ws.build_step()
        .env("DEPLOY_STEPS_READ_TIMEOUT_SECONDS", "0")
        .run()
        .code(2)
        .stderr_contains("build-step: error: DEPLOY_STEPS_READ_TIMEOUT_SECONDS is \"0\": write a whole number from 1 to 900, or unset for the defaults (20 for control-plane calls, 65 for InvokeEndpoint)");
    assert_eq!(ws.files(), INPUTS);
}
