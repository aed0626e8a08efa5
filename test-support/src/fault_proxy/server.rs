//! The proxy's server: it accepts client connections, one thread each, and serves every request
//! of a connection the same way: recorded first, then failed by a matching fault, or answered by
//! the first stand-in that answers it, or else forwarded to the emulator. It exists apart so that
//! this order is the one thing it decides: what a fault, a stand-in or a record is lives elsewhere.

use std::io::{BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use super::faults::{self, FaultKind, Faults};
use super::http::{self, Request, Response};
use super::protocol::Call;
use super::record::Record;
use super::stand_ins::StandIns;

/// What every connection thread of one proxy shares.
pub(crate) struct Shared {
    /// The emulator's port.
    upstream: u16,
    pub(crate) faults: Faults,
    pub(crate) record: Record,
    pub(crate) stand_ins: StandIns,
    /// Added before every answer (see [`super::FaultProxy::delay_every_round_trip`]).
    pub(crate) delay: Mutex<Duration>,
    pub(crate) stopping: AtomicBool,
}

/// Accepts connections on `listener` (port `port`) until `shared.stopping`, each served on its own
/// thread.
pub(crate) fn accept(listener: TcpListener, port: u16, shared: Arc<Shared>) -> JoinHandle<()> {
    std::thread::Builder::new()
        .name(format!("fault-proxy-{port}"))
        .spawn(move || {
            for stream in listener.incoming() {
                if shared.stopping.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(stream) = stream else { continue };
                let shared = shared.clone();
                let _ = std::thread::Builder::new()
                    .name(format!("fault-proxy-{port}-conn"))
                    .spawn(move || shared.serve(stream));
            }
        })
        .expect("start the fault proxy thread")
}

impl Shared {
    pub(crate) fn new(upstream: u16) -> Self {
        Shared {
            upstream,
            faults: Faults::default(),
            record: Record::default(),
            stand_ins: StandIns::default(),
            delay: Mutex::default(),
            stopping: AtomicBool::default(),
        }
    }

    /// Serves one client connection, request after request, until it closes or a fault ends it.
    fn serve(&self, stream: TcpStream) {
        let Ok(read_half) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(read_half);
        let mut writer = stream;
        while let Ok(Some(request)) = http::read_request(&mut reader) {
            let call = Call::of(&request);
            let account = self.record.account_of(&request, &call);
            let index = self.record.push(&request, &call, &account);
            let response = match self.faults.take(&call.operation, &account) {
                Some(FaultKind::ConnectionReset) => return faults::reset(&writer),
                Some(FaultKind::Timeout) => return faults::hold(&mut reader),
                Some(kind) => call.error_response(kind),
                None => self.answer(&call, &request, &account),
            };
            self.record.answered(index, response.status);
            let delay = *self.delay.lock().unwrap();
            if !delay.is_zero() {
                std::thread::sleep(delay);
            }
            if writer.write_all(&response.to_bytes()).is_err()
                || request
                    .header("connection")
                    .is_some_and(|c| c.eq_ignore_ascii_case("close"))
            {
                return;
            }
        }
    }

    /// A stand-in's answer, or else the emulator's, which the stand-ins and the record then see.
    fn answer(&self, call: &Call, request: &Request, account: &str) -> Response {
        if let Some(response) = self.stand_ins.answer(call, request, account) {
            return response;
        }
        let response = http::forward(self.upstream, request);
        self.stand_ins.forwarded(call, request, &response);
        if call.operation == "AssumeRole" && response.status == 200 {
            self.record.remember_key(request, &response.body);
        }
        response
    }
}
