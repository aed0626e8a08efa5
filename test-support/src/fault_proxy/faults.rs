//! The injected faults: what a test asks for ([`Fault`], [`FaultKind`]), the list each request is
//! matched against (a fault is used up after `times` matches), and what the two faults without an
//! answer do to the connection: a TCP reset, or a request held until the client gives up. The
//! error answers of the other kinds are shaped by the request's protocol, in `protocol`.

use std::io::{BufReader, Read};
use std::net::TcpStream;
use std::os::fd::AsRawFd;
use std::sync::Mutex;
use std::time::Duration;

/// What a matching request gets instead of moto's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultKind {
    /// HTTP 400 with the service's throttling code (`ThrottlingException`; `Throttling` for STS,
    /// `TooManyRequestsException` for Organizations), which the SDK retries.
    Throttling,
    /// HTTP 500 (`InternalFailure`) or 503 (`ServiceUnavailable`), which the SDK retries.
    ServerError(u16),
    /// The request is read, then the connection is reset (RST) without a response.
    ConnectionReset,
    /// The request is read and held without a response until the client gives up (its read
    /// timeout), at most [`HOLD_LIMIT`]. Lower the binaries' read timeout to keep this short.
    Timeout,
    /// `AccessDeniedException` (HTTP 400; `AccessDenied` with 403 for STS, 403 for the runtime).
    AccessDenied,
}

/// One injected fault: the first `times` requests for `operation` (in `account`, if given) fail
/// with `kind`; later ones go through.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fault {
    pub operation: String,
    pub account: Option<String>,
    pub kind: FaultKind,
    pub times: usize,
}

impl Fault {
    /// `times` requests for `operation`, in any account.
    pub fn new(operation: &str, kind: FaultKind, times: usize) -> Self {
        Self {
            operation: operation.to_owned(),
            account: None,
            kind,
            times,
        }
    }

    /// Only requests in `account` (for AssumeRole: assuming a role of `account`).
    #[must_use]
    pub fn in_account(mut self, account: &str) -> Self {
        self.account = Some(account.to_owned());
        self
    }
}

/// Longest a [`FaultKind::Timeout`] holds a request.
pub const HOLD_LIMIT: Duration = Duration::from_mins(2);

/// The faults injected so far, in order, with what is left of each.
#[derive(Default)]
pub(crate) struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub(crate) fn inject(&self, fault: Fault) {
        self.0.lock().unwrap().push(fault);
    }

    /// The kind of the first fault left for `operation` in `account`, used once.
    pub(crate) fn take(&self, operation: &str, account: &str) -> Option<FaultKind> {
        let mut faults = self.0.lock().unwrap();
        let fault = faults.iter_mut().find(|f| {
            f.times > 0
                && f.operation == operation
                && f.account.as_deref().is_none_or(|a| a == account)
        })?;
        fault.times -= 1;
        Some(fault.kind)
    }
}

/// Makes the coming close of the connection a TCP reset instead of a graceful close.
pub(crate) fn reset(stream: &TcpStream) {
    let linger = libc::linger {
        l_onoff: 1,
        l_linger: 0,
    };
    // SAFETY: setsockopt on a socket this thread owns, with a correctly sized option value.
    unsafe {
        libc::setsockopt(
            stream.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            (&raw const linger).cast(),
            size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}

/// Holds the connection without answering until the client closes it (or [`HOLD_LIMIT`]).
pub(crate) fn hold(reader: &mut BufReader<TcpStream>) {
    let _ = reader.get_ref().set_read_timeout(Some(HOLD_LIMIT));
    let mut buf = [0u8; 1024];
    while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
}
