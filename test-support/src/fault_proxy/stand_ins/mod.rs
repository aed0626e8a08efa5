//! The calls the proxy answers in the emulator's place, each stand-in behind one trait,
//! [`StandIn`], and the ones a test turned on kept in one list the server asks in turn: the
//! stand-in endpoint for InvokeEndpoint (`endpoints`), the model package group policy calls
//! (`group_policies`), the Service Catalog calls the emulator lacks (`catalog`), CodePipeline's
//! GetPipelineExecution (`pipeline`), IAM's SimulatePrincipalPolicy for a role, decided by
//! `policy_eval` over the role's policies read from the emulator (`policy_simulator`), and Service
//! Quotas' ListServiceQuotas and GetServiceQuota for SageMaker (`service_quotas`), and
//! UpdateModelPackage with a `ModelLifeCycle` (`model_lifecycle`). A call none of
//! them answers goes on to the emulator, and each of them then sees the emulator's answer. Adding
//! a stand-in is a type and its `impl`, not another branch in the server.

use std::any::Any;
use std::sync::Mutex;

use super::http::{Request, Response};
use super::protocol::Call;

pub mod catalog;
pub(crate) mod endpoints;
pub(crate) mod group_policies;
pub(crate) mod model_lifecycle;
pub mod pipeline;
pub(crate) mod policy_simulator;
pub(crate) mod service_quotas;

/// A stand-in for some calls: it answers the ones it knows, keeping whatever state it needs.
pub(crate) trait StandIn: Any + Send {
    /// The answer to `call` (the parsed `request`, made in `account`), or `None` to let it go on.
    fn answer(&mut self, call: &Call, request: &Request, account: &str) -> Option<Response>;

    /// Sees the emulator's `response` to a call no stand-in answered (to learn what it made).
    fn forwarded(&mut self, _call: &Call, _request: &Request, _response: &Response) {}
}

/// The stand-ins turned on, at most one of each type, in the order they were turned on.
#[derive(Default)]
pub(crate) struct StandIns(Mutex<Vec<Box<dyn StandIn>>>);

impl StandIns {
    /// The answer of the first stand-in that answers `call`.
    pub(crate) fn answer(&self, call: &Call, request: &Request, account: &str) -> Option<Response> {
        let mut list = self.0.lock().unwrap();
        list.iter_mut()
            .find_map(|stand_in| stand_in.answer(call, request, account))
    }

    /// Shows every stand-in the emulator's answer to a call none of them answered.
    pub(crate) fn forwarded(&self, call: &Call, request: &Request, response: &Response) {
        for stand_in in self.0.lock().unwrap().iter_mut() {
            stand_in.forwarded(call, request, response);
        }
    }

    /// `change` applied to the stand-in of type `T`, which is turned on first if it was not.
    pub(crate) fn with<T: StandIn + Default, R>(&self, change: impl FnOnce(&mut T) -> R) -> R {
        let mut list = self.0.lock().unwrap();
        if !list.iter().any(|stand_in| is::<T>(stand_in.as_ref())) {
            list.push(Box::new(T::default()));
        }
        let found = list
            .iter_mut()
            .find_map(|stand_in| (stand_in.as_mut() as &mut dyn Any).downcast_mut::<T>());
        change(found.expect("the stand-in was just turned on"))
    }

    /// `look` applied to the stand-in of type `T`; `None` when it is not on.
    pub(crate) fn read<T: StandIn, R>(&self, look: impl FnOnce(&T) -> R) -> Option<R> {
        let list = self.0.lock().unwrap();
        let found = list
            .iter()
            .find_map(|stand_in| (stand_in.as_ref() as &dyn Any).downcast_ref::<T>());
        found.map(look)
    }
}

fn is<T: StandIn>(stand_in: &dyn StandIn) -> bool {
    (stand_in as &dyn Any).is::<T>()
}
