//! The frame both binaries' fault matrices share: a [`Cell`] per call and fault, the standard nine
//! cells of a call written out from what differs between calls ([`CallFaults`]), the environment
//! that keeps retries short, the request count a cell must produce, and [`assert_cells`], which
//! runs the cells concurrently and names every failing one.

use std::panic::AssertUnwindSafe;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use deploy_core::inputs;

use crate::fault_proxy::{Fault, FaultKind};

/// Attempts per call in the binaries' default retry policy.
const ATTEMPTS: usize = 3;

/// What a matrix needs to know of one call; everything else about its nine cells is the same for
/// every call.
#[derive(Debug, Clone, Copy)]
pub struct CallFaults {
    /// The operation as the proxy matches it (`ListModelPackages`).
    pub call: &'static str,
    /// The IAM action the binaries' messages name (`sagemaker:ListModelPackages`).
    pub action: &'static str,
    /// What the binary puts before the call's own message (`case "one-row": `), if anything.
    pub prefix: &'static str,
    /// Whom an AccessDenied names (`the caller`, a principal ARN, `the assumed role {role}`).
    pub denied_to: &'static str,
    /// The 5xx a recovering run gets; a run that runs out of attempts gets the other of 500 and
    /// 503, so each call's matrix covers both.
    pub recovered_server_error: u16,
}

impl CallFaults {
    /// Four transient faults the retries absorb, the same four outlasting every attempt, and
    /// AccessDenied (not retried), each with the message the binary must give.
    pub fn cells(&self) -> Vec<Cell> {
        let Self {
            call,
            action,
            prefix,
            denied_to,
            recovered_server_error,
        } = *self;
        let failing_server_error = if recovered_server_error == 500 {
            503
        } else {
            500
        };
        let gave_up =
            format!("{prefix}AWS call {action} could not complete after {ATTEMPTS} attempts: ");
        vec![
            recovers(call, FaultKind::Throttling, 2),
            recovers(call, FaultKind::ServerError(recovered_server_error), 2),
            recovers(call, FaultKind::ConnectionReset, 2),
            recovers(call, FaultKind::Timeout, 2),
            fails(
                call,
                FaultKind::Throttling,
                ATTEMPTS,
                format!("{prefix}AWS call {action} failed with {}: Rate exceeded", throttling_code(action)),
            ),
            fails(
                call,
                FaultKind::ServerError(failing_server_error),
                ATTEMPTS,
                format!("{prefix}AWS call {action} failed with {}: ", server_error_code(failing_server_error)),
            ),
            fails(call, FaultKind::ConnectionReset, ATTEMPTS, gave_up.clone()),
            fails(call, FaultKind::Timeout, ATTEMPTS, gave_up),
            fails(
                call,
                FaultKind::AccessDenied,
                1,
                format!("{prefix}AWS denied {action} to {denied_to}: User is not authorized to perform: {call}"),
            ),
        ]
    }
}

/// The throttling code each service answers with, as the proxy sends it.
fn throttling_code(action: &str) -> &'static str {
    match action.split(':').next() {
        Some("sts") => "Throttling",
        Some("organizations") => "TooManyRequestsException",
        _ => "ThrottlingException",
    }
}

fn server_error_code(status: u16) -> &'static str {
    if status == 503 {
        "ServiceUnavailable"
    } else {
        "InternalFailure"
    }
}

/// One cell of a fault matrix: a call, a fault, how many requests it hits, and what the run must
/// do. Each binary's matrix is a table of these, one line per cell.
#[derive(Debug, Clone)]
pub struct Cell {
    pub call: &'static str,
    pub kind: FaultKind,
    pub times: usize,
    pub outcome: Outcome,
    /// Extra environment for this cell's run (say `AWS_MAX_ATTEMPTS`).
    pub env: &'static [(&'static str, &'static str)],
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The retries absorb the fault: the run succeeds with the clean run's outputs.
    Recovers,
    /// The run fails with exit 3 and this message (a binary's matrix decides where it must appear).
    Fails(String),
}

/// A transient fault on the first `times` requests, which the retries must absorb.
pub fn recovers(call: &'static str, kind: FaultKind, times: usize) -> Cell {
    Cell {
        call,
        kind,
        times,
        outcome: Outcome::Recovers,
        env: &[],
    }
}

/// A fault the run cannot get past (AccessDenied, or as many transient faults as attempts).
pub fn fails(
    call: &'static str,
    kind: FaultKind,
    times: usize,
    message: impl Into<String>,
) -> Cell {
    Cell {
        call,
        kind,
        times,
        outcome: Outcome::Fails(message.into()),
        env: &[],
    }
}

/// The read timeout of cells whose fault is a held request: what each held attempt costs. Not
/// lower: the run's other calls share it, and the emulator answers slowly while many cells run.
pub const HELD_READ_TIMEOUT_SECONDS: &str = "2";

impl Cell {
    /// How assertion messages name the cell, e.g. `ListModelPackages x Throttling x2`.
    pub fn name(&self) -> String {
        let mut name = format!("{} x {:?} x{}", self.call, self.kind, self.times);
        for (key, value) in self.env {
            name.push_str(&format!(" ({key}={value})"));
        }
        name
    }

    pub fn fault(&self) -> Fault {
        Fault::new(self.call, self.kind, self.times)
    }

    /// The environment of this cell's run: a 10 ms retry backoff, a short read timeout when the
    /// fault is a held request (the binaries' documented knobs), then the cell's own settings.
    pub fn env(&self) -> Vec<(&'static str, &'static str)> {
        let mut env = vec![(inputs::RETRY_INITIAL_BACKOFF.var(), "10")];
        if self.kind == FaultKind::Timeout {
            env.push((inputs::READ_TIMEOUT.var(), HELD_READ_TIMEOUT_SECONDS));
        }
        env.extend_from_slice(self.env);
        env
    }

    /// Requests the proxy must see for the call, given `clean` in a run without faults: every
    /// faulted attempt comes on top of a recovered run's requests, and a failed call is attempted
    /// exactly `times` times (the attempts it had, or 1 for a fault the SDK does not retry).
    pub fn expected_requests(&self, clean: usize) -> usize {
        match self.outcome {
            Outcome::Recovers => clean + self.times,
            Outcome::Fails(_) => self.times,
        }
    }
}

/// Runs `check` on every cell, `workers` at a time, the held-request cells (the slowest) first,
/// and fails the test with every problem any check reported, each under its cell's name, in table
/// order. A check that panics reports its panic as a problem of its cell; the others still run.
#[track_caller]
pub fn assert_cells(cells: &[Cell], workers: usize, check: impl Fn(&Cell) -> Vec<String> + Sync) {
    let mut order: Vec<usize> = (0..cells.len()).collect();
    order.sort_by_key(|&i| cells[i].kind != FaultKind::Timeout);
    let next = AtomicUsize::new(0);
    let found = Mutex::new(vec![Vec::new(); cells.len()]);
    std::thread::scope(|scope| {
        for _ in 0..workers.max(1) {
            scope.spawn(|| {
                while let Some(&i) = order.get(next.fetch_add(1, Ordering::SeqCst)) {
                    let problems = std::panic::catch_unwind(AssertUnwindSafe(|| check(&cells[i])))
                        .unwrap_or_else(|panic| {
                            let text = panic
                                .downcast_ref::<String>()
                                .cloned()
                                .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                                .unwrap_or_default();
                            vec![format!("panicked: {text}")]
                        });
                    found.lock().unwrap()[i] = problems;
                }
            });
        }
    });
    let problems: Vec<String> = cells
        .iter()
        .zip(found.into_inner().unwrap())
        .flat_map(|(cell, problems)| {
            problems
                .into_iter()
                .map(move |problem| format!("{}: {problem}", cell.name()))
        })
        .collect();
    assert!(
        problems.is_empty(),
        "{} problem(s) in {} cells:\n\n{}",
        problems.len(),
        cells.len(),
        problems.join("\n\n")
    );
}
