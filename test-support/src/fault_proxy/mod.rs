//! A fault-injecting HTTP/1.1 proxy in front of the emulator, which has no fault injection of its
//! own. The binaries reach it through `AWS_ENDPOINT_URL` like any endpoint; it forwards every
//! request to moto unless an injected [`Fault`] matches, and then, for the first `times` matching
//! requests, answers the way AWS or the network fails: a throttling error or a 5xx in the
//! protocol's own error shape, a reset connection, a response that never comes, or AccessDenied.
//!
//! A request is matched by its operation (the API name, from `X-Amz-Target`, the awsQuery
//! `Action`, or the runtime's `/endpoints/<name>/invocations` path) and optionally by its account:
//! the account of the SigV4 access key (moto's default key `testing`, and any key the proxy has not
//! seen issued, is account 123456789012; keys issued by an AssumeRole that went through the proxy
//! are the role's account), except that an AssumeRole request's account is the account of the role
//! it asks for, so a fault can stop one target's AssumeRole and spare the others.
//!
//! For scale measurements it can also add a fixed delay to every round trip (what reaching AWS
//! from CodeBuild costs) and answer InvokeEndpoint itself as a stand-in endpoint, so that the
//! emulator's own CPU (a few milliseconds a call, one call at a time) is not what is measured:
//! against AWS every account's endpoint is its own service. And it can stand in for the model
//! package group policy calls, which the emulator answers with HTTP 500, and for the calls the
//! emulator lacks: Service Catalog's ([`CatalogStandIn`]), CodePipeline's GetPipelineExecution
//! ([`PipelineStandIn`]), IAM's policy simulator (SimulatePrincipalPolicy for a role, decided by
//! [`crate::policy_eval`] over the role's policies as the emulator holds them:
//! [`FaultProxy::stand_in_for_policy_simulator`]) and Service Quotas' SageMaker quotas
//! (ListServiceQuotas and GetServiceQuota, per account and Region:
//! [`FaultProxy::stand_in_for_service_quotas`], [`FaultProxy::set_service_quota`]), and the
//! model registry's `ModelLifeCycle` (UpdateModelPackage:
//! [`FaultProxy::stand_in_for_model_lifecycle`], [`FaultProxy::model_lifecycle`]).
//!
//! Every request is recorded ([`FaultProxy::calls`], a [`RecordedCall`] each): the service and
//! region it was signed for, its operation, account, access key, parameters and the status it got,
//! so a test can evaluate each call against the IAM policies that would be in force. The proxy
//! also remembers, for each key an AssumeRole through it issued, the role, session name and
//! session policy asked for ([`FaultProxy::session_of`]).
//!
//! Plain std threads and blocking sockets, one thread per client connection: keep-alive is kept
//! towards the client, each forwarded request gets its own upstream connection.
//!
//! One job per part: `http` reads, writes and forwards the messages; `protocol` says what a
//! request is in AWS terms (its operation, protocol, signer and parameters) and shapes the errors;
//! `faults` keeps the injected faults; `record` keeps every call and every issued key's session;
//! `stand_ins` holds the stand-ins, all behind one trait; `server` serves each connection through
//! them. This file is the proxy's face to the tests.

use std::net::{TcpListener, TcpStream};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use crate::Moto;

mod faults;
mod http;
mod protocol;
mod record;
mod server;
pub(crate) mod stand_ins;

pub use faults::{Fault, FaultKind, HOLD_LIMIT};
pub use record::{AssumedSession, RecordedCall};
pub use stand_ins::group_policies::MAX_GROUP_POLICY_CHARS;

use server::Shared;
use stand_ins::catalog::CatalogStandIn;
use stand_ins::endpoints::EndpointStandIn;
use stand_ins::group_policies::GroupPolicyStandIn;
use stand_ins::model_lifecycle::ModelLifecycleStandIn;
use stand_ins::pipeline::PipelineStandIn;
use stand_ins::policy_simulator::PolicySimulatorStandIn;
use stand_ins::service_quotas::{self, QuotaStandIn};

/// A running proxy on 127.0.0.1; it stops accepting when dropped.
pub struct FaultProxy {
    port: u16,
    upstream_env: Vec<(String, String)>,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` on a free port.
    pub fn start(upstream: &Moto) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared::new(upstream.port));
        let accept = server::accept(listener, port, shared.clone());
        FaultProxy {
            port,
            upstream_env: upstream.env(),
            shared,
            accept: Some(accept),
        }
    }

    /// The emulator's port, from the endpoint of [`Moto::env`].
    fn upstream_port(&self) -> u16 {
        let endpoint = self
            .upstream_env
            .iter()
            .find(|(key, _)| key == "AWS_ENDPOINT_URL");
        let port = endpoint.and_then(|(_, url)| url.rsplit(':').next()?.parse().ok());
        port.expect("the emulator's endpoint names its port")
    }

    /// `http://127.0.0.1:PORT`, for `AWS_ENDPOINT_URL`.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// [`Moto::env`], with every call sent through this proxy.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.upstream_env.clone();
        for (key, value) in &mut env {
            if key == "AWS_ENDPOINT_URL" {
                *value = self.url();
            }
        }
        env
    }

    /// Holds every answer (forwarded, faulted or stood in) for `delay` before sending it: each
    /// connection has its own thread, so concurrent calls wait concurrently, as on a network.
    pub fn delay_every_round_trip(&self, delay: Duration) {
        *self.shared.delay.lock().unwrap() = delay;
    }

    /// Answers every InvokeEndpoint itself with `body` (`application/json`), never reaching the
    /// emulator; the calls are still counted.
    pub fn stand_in_for_endpoints(&self, body: &str) {
        let stand_ins = &self.shared.stand_ins;
        stand_ins.with(|endpoint: &mut EndpointStandIn| body.clone_into(&mut endpoint.body));
    }

    /// Answers GetModelPackageGroupPolicy and PutModelPackageGroupPolicy itself, as the SageMaker
    /// API reference documents them: Put replaces the group's whole policy and refuses one over
    /// [`MAX_GROUP_POLICY_CHARS`] with a ValidationException; Get returns the last one put, or a
    /// ValidationException when there is none
    /// (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_PutModelPackageGroupPolicy.html>,
    /// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_GetModelPackageGroupPolicy.html>).
    /// The group's existence is not checked: the binaries describe it first, through the emulator.
    pub fn stand_in_for_group_policies(&self) {
        self.shared.stand_ins.with(|_: &mut GroupPolicyStandIn| ());
    }

    /// Answers the Service Catalog calls the emulator lacks itself (see [`CatalogStandIn`]).
    pub fn stand_in_for_service_catalog(&self) {
        self.shared.stand_ins.with(|_: &mut CatalogStandIn| ());
    }

    /// Answers CodePipeline's GetPipelineExecution itself (see [`PipelineStandIn`]), knowing only
    /// the runs recorded with [`FaultProxy::record_pipeline_run`]; other CodePipeline calls still
    /// go to the emulator.
    pub fn stand_in_for_pipeline_runs(&self) {
        self.shared.stand_ins.with(|_: &mut PipelineStandIn| ());
    }

    /// Answers IAM's SimulatePrincipalPolicy itself, as the IAM API reference documents it
    /// (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>),
    /// for a role: its inline and managed policies (and permissions boundary) are read from the
    /// emulator in the account of the request's access key, and each action on each resource is
    /// decided by [`crate::policy_eval`], across accounts as the IAM User Guide's cross-account
    /// rule says (the `policy_simulator` stand-in's module docs list what is evaluated and what
    /// is not). A role the emulator does not hold is `NoSuchEntity` (HTTP 404); other IAM calls
    /// still go to the emulator.
    pub fn stand_in_for_policy_simulator(&self) {
        let upstream = self.upstream_port();
        let stand_ins = &self.shared.stand_ins;
        stand_ins.with(|simulator: &mut PolicySimulatorStandIn| simulator.upstream = upstream);
    }

    /// Answers Service Quotas' ListServiceQuotas and GetServiceQuota for service code `sagemaker`
    /// itself, as the Service Quotas API reference documents them
    /// (<https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_ListServiceQuotas.html>,
    /// <https://docs.aws.amazon.com/servicequotas/2019-06-24/apireference/API_GetServiceQuota.html>):
    /// every account and Region (of the SigV4 scope) has SageMaker's per-instance-type quotas
    /// (`"ml.m5.large for endpoint usage"`, 4, and the other uses and types of
    /// `stand_ins/service_quotas.rs`) and `"Maximum total concurrency that can be allocated
    /// across all serverless endpoints"`, 1000, more than one page of 100, with the values
    /// [`FaultProxy::set_service_quota`] set over them. Other services' quotas go to the emulator.
    pub fn stand_in_for_service_quotas(&self) {
        self.shared.stand_ins.with(|_: &mut QuotaStandIn| ());
    }

    /// Sets SageMaker's quota `quota_name` to `value` in `account` and `region` (a name that is no
    /// default quota is added), and stands in for the quota calls if it did not.
    pub fn set_service_quota(&self, account: &str, region: &str, quota_name: &str, value: f64) {
        let stand_ins = &self.shared.stand_ins;
        stand_ins.with(|quotas: &mut QuotaStandIn| quotas.set(account, region, quota_name, value));
    }

    /// The `QuotaCode` the quota stand-in gives `quota_name` (`L-` and 8 hex digits of a hash of
    /// the name, the same in every run), and the last part of its `QuotaArn`.
    pub fn service_quota_code(quota_name: &str) -> String {
        service_quotas::quota_code(quota_name)
    }

    /// Records run `execution_id` of `pipeline`, whose `pipelineExecution.variables` are
    /// `variables` (name, resolved value), and stands in for GetPipelineExecution if it did not.
    pub fn record_pipeline_run(
        &self,
        pipeline: &str,
        execution_id: &str,
        variables: &[(&str, &str)],
    ) {
        let stand_ins = &self.shared.stand_ins;
        stand_ins.with(|runs: &mut PipelineStandIn| runs.record(pipeline, execution_id, variables));
    }

    /// Answers UpdateModelPackage with a `ModelLifeCycle` itself, as the SageMaker API reference
    /// documents it (stage and status names of at most 63 letters, digits and hyphens, a
    /// description of at most 1,024 characters): the emulator knows no lifecycle, and would clear
    /// the package's approval status.
    pub fn stand_in_for_model_lifecycle(&self) {
        self.shared
            .stand_ins
            .with(|_: &mut ModelLifecycleStandIn| ());
    }

    /// The `ModelLifeCycle` last set on `package` in `account` through this proxy (as sent:
    /// `Stage`, `StageStatus`, `StageDescription`), when standing in for it.
    pub fn model_lifecycle(&self, account: &str, package: &str) -> Option<serde_json::Value> {
        let stand_ins = &self.shared.stand_ins;
        stand_ins
            .read(|lifecycles: &ModelLifecycleStandIn| lifecycles.get(account, package))
            .flatten()
    }

    /// The Service Catalog writes made through this proxy, in order (`CreateProduct <name>`, ...).
    pub fn catalog_writes(&self) -> Vec<String> {
        let stand_ins = &self.shared.stand_ins;
        let writes = stand_ins.read(|catalog: &CatalogStandIn| catalog.writes.clone());
        writes.unwrap_or_default()
    }

    /// The policy last put for `group` in `account`, when standing in for the policy calls.
    pub fn group_policy(&self, account: &str, group: &str) -> Option<String> {
        let stand_ins = &self.shared.stand_ins;
        stand_ins
            .read(|policies: &GroupPolicyStandIn| policies.get(account, group))
            .flatten()
    }

    /// Adds a fault; faults are checked in the order they were injected.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.inject(fault);
    }

    /// Requests seen for `operation` (faulted or forwarded), in every account.
    pub fn count(&self, operation: &str) -> usize {
        self.shared.record.count(|call| call.operation == operation)
    }

    /// Requests seen for `operation` in `account` (see the module docs for a request's account).
    pub fn count_in(&self, operation: &str, account: &str) -> usize {
        let record = &self.shared.record;
        record.count(|call| call.operation == operation && call.account == account)
    }

    /// Every request the proxy received (faulted, stood in or forwarded), in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.record.calls()
    }

    /// What the AssumeRole that issued `access_key` through this proxy asked for; `None` for a
    /// key the proxy did not see issued (moto's default `testing`, for one).
    pub fn session_of(&self, access_key: &str) -> Option<AssumedSession> {
        self.shared.record.session_of(access_key)
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.shared.stopping.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
        if let Some(accept) = self.accept.take() {
            let _ = accept.join();
        }
    }
}

#[cfg(test)]
mod stand_in_tests;
#[cfg(test)]
mod tests;
