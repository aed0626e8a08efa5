//! The stand-in endpoint: every InvokeEndpoint is answered with one fixed JSON body, never
//! reaching the emulator. Scale measurements use it so that the emulator's CPU on the invocations
//! (a few milliseconds a call, one call at a time) is not what they measure: against AWS every
//! account's endpoint is its own service.

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::Call;

#[derive(Default)]
pub(crate) struct EndpointStandIn {
    /// What every invocation gets (`application/json`).
    pub(crate) body: String,
}

impl StandIn for EndpointStandIn {
    fn answer(&mut self, call: &Call, _: &Request, _: &str) -> Option<Response> {
        (call.operation == "InvokeEndpoint").then(|| {
            let variant = ("x-Amzn-Invoked-Production-Variant", "AllTraffic");
            let body = self.body.clone().into_bytes();
            Response::aws(200, "application/json", &[variant], body)
        })
    }
}
