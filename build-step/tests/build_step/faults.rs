//! What AWS and the network throw at build-step's calls, through the fault proxy: every
//! transient fault the retries can absorb leaves the exact outputs of a clean run; AccessDenied,
//! and transient faults that outlast the attempts, exit 3 naming the call and write nothing.
//!
//! The cells share one group (they only read it) and each has its own proxy, so faults and request
//! counts never cross; they run concurrently with the documented knobs keeping retries short.

use test_support::fault_matrix::{assert_cells, fails, recovers, CallFaults, Cell, Outcome};
use test_support::fault_proxy::FaultKind::{AccessDenied, ServerError, Throttling};
use test_support::fault_proxy::{Fault, FaultProxy};
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
    // What the StackSets run is read for advice only; its transient faults are retried.
    for call in [
        "DescribeStackSet",
        "ListStackInstances",
        "ListStackSetOperations",
    ] {
        cells.push(recovers(call, Throttling, 2));
        cells.push(recovers(call, ServerError(500), 2));
    }
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
    assert_eq!(cells.len(), 26);
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

/// Reading what the StackSets deployed is advice: when it is denied, the build still succeeds,
/// writes what a clean run writes, and says which check it skipped and which permission it lacked
/// (the deploy decision's own denied reads: `deploy_needed.rs`).
#[tokio::test]
async fn a_denied_stack_set_read_skips_the_update_check_with_a_warning() {
    let (group, _) = group_with_one_approved("faults-stack-set-denied").await;
    let proxy = FaultProxy::start(moto());
    proxy.inject(Fault::new("DescribeStackSet", AccessDenied, 2));
    let ws = Workspace::new(&group.name);
    let out = ws
        .build_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .args(["--output", "json"])
        .run();
    out.code(0);
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    let warnings: Vec<&str> = summary["warnings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(serde_json::Value::as_str)
        .collect();
    assert_eq!(warnings.len(), 2, "{warnings:?}");
    for (warning, stage) in warnings.iter().zip(["staging", "prod"]) {
        assert!(
            warning.starts_with(&format!("{stage}: could not read the StackSet sagemaker-churn-p-abc123-deploy-{stage}, so the instance type change check was skipped and the stage is deployed anyway: AWS denied cloudformation:DescribeStackSet to the caller")),
            "{warning}"
        );
        assert!(
            warning.ends_with("Grant the principal running this tool the permission cloudformation:DescribeStackSet (in the pipeline that is the CodeBuild project's service role, on a laptop your profile's role), then run again."),
            "{warning}"
        );
    }
    assert_eq!(
        proxy.count("DescribeStackSet"),
        2,
        "denied calls are not retried"
    );
    let mut files: Vec<&str> = INPUTS.iter().chain(&OUTPUTS).copied().collect();
    files.sort_unstable();
    assert_eq!(ws.files(), files);
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
