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
//! emulator lacks: Service Catalog's ([`CatalogStandIn`]) and CodePipeline's GetPipelineExecution
//! ([`PipelineStandIn`]).
//!
//! Every request is recorded ([`FaultProxy::calls`], a [`RecordedCall`] each): the service and
//! region it was signed for, its operation, account, access key, parameters and the status it got,
//! so a test can evaluate each call against the IAM policies that would be in force. The proxy
//! also remembers, for each key an AssumeRole through it issued, the role, session name and
//! session policy asked for ([`FaultProxy::session_of`]).
//!
//! Plain std threads and blocking sockets, one thread per client connection: keep-alive is kept
//! towards the client, each forwarded request gets its own upstream connection.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;

use crate::catalog_stand_in::CatalogStandIn;
use crate::pipeline_stand_in::{self, PipelineStandIn};
use crate::seed::ACCOUNT_ID;
use crate::Moto;

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

/// One request the proxy received, as an IAM evaluation needs it.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordedCall {
    /// The service of the SigV4 credential scope (`Credential=AKID/date/region/SERVICE/aws4_request`
    /// in the `Authorization` header, or the presigned `X-Amz-Credential`): `sagemaker`, `sts`,
    /// `organizations`, `codepipeline`, `cloudformation`, `iam`, `s3`, `kms`...; empty when the
    /// request is not signed.
    pub signing_service: String,
    /// The region of the same scope; empty when the request is not signed.
    pub region: String,
    /// The API name (see the module docs); `METHOD /path` for a REST call the proxy cannot name.
    pub operation: String,
    /// The request's account as faults match it: the access key's, except for AssumeRole, whose
    /// account is the one of the role it asks for (its caller's account is its key's: the
    /// [`FaultProxy::session_of`] that key, or 123456789012 for a key the proxy did not see issued).
    pub account: String,
    /// The SigV4 access key id; empty when the request is not signed.
    pub access_key: String,
    /// The parameters: an awsJson body as it was sent; awsQuery fields (query string and form,
    /// `Action` and `Version` included) as an object of decoded strings; `{"EndpointName": name}`
    /// for the SageMaker runtime's invocation paths; otherwise `{}`.
    pub params: serde_json::Value,
    /// The HTTP status the client got: moto's, a stand-in's or an injected fault's; 0 while the
    /// answer is pending and for a reset or held request (no answer).
    pub status: u16,
}

/// What an AssumeRole through the proxy asked for, remembered by the access key it issued.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedSession {
    /// The `RoleArn` asked for.
    pub role_arn: String,
    /// The `RoleSessionName`.
    pub session_name: String,
    /// The session policy (`Policy`, decoded), if one was passed.
    pub policy: Option<String>,
    /// The role's account, which calls made with the key are in.
    pub account: String,
}

/// The longest resource policy PutModelPackageGroupPolicy takes, in characters.
pub const MAX_GROUP_POLICY_CHARS: usize = 20_480;

/// Longest a [`FaultKind::Timeout`] holds a request.
pub const HOLD_LIMIT: Duration = Duration::from_mins(2);

/// A running proxy on 127.0.0.1; it stops accepting when dropped.
pub struct FaultProxy {
    port: u16,
    upstream_env: Vec<(String, String)>,
    shared: Arc<Shared>,
    accept: Option<JoinHandle<()>>,
}

#[derive(Default)]
struct Shared {
    upstream: u16,
    faults: Mutex<Vec<Fault>>,
    /// Every request, in arrival order.
    calls: Mutex<Vec<RecordedCall>>,
    /// Access key id -> what the AssumeRole that issued it asked for, from the AssumeRole answers
    /// that went through the proxy.
    keys: Mutex<HashMap<String, AssumedSession>>,
    /// Added before every answer (see [`FaultProxy::delay_every_round_trip`]).
    delay: Mutex<Duration>,
    /// The body every InvokeEndpoint gets, when the proxy stands in for the endpoints.
    stand_in: Mutex<Option<String>>,
    /// (account, group name) -> resource policy, when the proxy stands in for the policy calls.
    group_policies: Mutex<Option<HashMap<(String, String), String>>>,
    /// The Service Catalog calls the emulator lacks, when the proxy stands in for them.
    catalog: Mutex<Option<CatalogStandIn>>,
    /// The pipeline runs GetPipelineExecution knows, when the proxy stands in for it.
    pipelines: Mutex<Option<PipelineStandIn>>,
    stopping: AtomicBool,
}

impl FaultProxy {
    /// Starts a proxy in front of `upstream` on a free port.
    pub fn start(upstream: &Moto) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind the fault proxy");
        let port = listener.local_addr().expect("proxy address").port();
        let shared = Arc::new(Shared {
            upstream: upstream.port,
            ..Shared::default()
        });
        let accepting = shared.clone();
        let accept = std::thread::Builder::new()
            .name(format!("fault-proxy-{port}"))
            .spawn(move || {
                for stream in listener.incoming() {
                    if accepting.stopping.load(Ordering::SeqCst) {
                        break;
                    }
                    let Ok(stream) = stream else { continue };
                    let shared = accepting.clone();
                    let _ = std::thread::Builder::new()
                        .name(format!("fault-proxy-{port}-conn"))
                        .spawn(move || shared.serve(stream));
                }
            })
            .expect("start the fault proxy thread");
        FaultProxy {
            port,
            upstream_env: upstream.env(),
            shared,
            accept: Some(accept),
        }
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
        *self.shared.stand_in.lock().unwrap() = Some(body.to_owned());
    }

    /// Answers GetModelPackageGroupPolicy and PutModelPackageGroupPolicy itself, as the SageMaker
    /// API reference documents them: Put replaces the group's whole policy and refuses one over
    /// [`MAX_GROUP_POLICY_CHARS`] with a ValidationException; Get returns the last one put, or a
    /// ValidationException when there is none
    /// (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_PutModelPackageGroupPolicy.html>,
    /// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_GetModelPackageGroupPolicy.html>).
    /// The group's existence is not checked: the binaries describe it first, through the emulator.
    pub fn stand_in_for_group_policies(&self) {
        self.shared
            .group_policies
            .lock()
            .unwrap()
            .get_or_insert_with(HashMap::new);
    }

    /// Answers the Service Catalog calls the emulator lacks itself (see [`CatalogStandIn`]).
    pub fn stand_in_for_service_catalog(&self) {
        self.shared
            .catalog
            .lock()
            .unwrap()
            .get_or_insert_with(CatalogStandIn::default);
    }

    /// Answers CodePipeline's GetPipelineExecution itself (see [`PipelineStandIn`]), knowing only
    /// the runs recorded with [`FaultProxy::record_pipeline_run`]; other CodePipeline calls still
    /// go to the emulator.
    pub fn stand_in_for_pipeline_runs(&self) {
        self.shared
            .pipelines
            .lock()
            .unwrap()
            .get_or_insert_with(PipelineStandIn::default);
    }

    /// Records run `execution_id` of `pipeline`, whose `pipelineExecution.variables` are
    /// `variables` (name, resolved value), and stands in for GetPipelineExecution if it did not.
    pub fn record_pipeline_run(
        &self,
        pipeline: &str,
        execution_id: &str,
        variables: &[(&str, &str)],
    ) {
        self.shared
            .pipelines
            .lock()
            .unwrap()
            .get_or_insert_with(PipelineStandIn::default)
            .record(pipeline, execution_id, variables);
    }

    /// The Service Catalog writes made through this proxy, in order (`CreateProduct <name>`, ...).
    pub fn catalog_writes(&self) -> Vec<String> {
        let catalog = self.shared.catalog.lock().unwrap();
        catalog
            .as_ref()
            .map(|c| c.writes.clone())
            .unwrap_or_default()
    }

    /// The policy last put for `group` in `account`, when standing in for the policy calls.
    pub fn group_policy(&self, account: &str, group: &str) -> Option<String> {
        let policies = self.shared.group_policies.lock().unwrap();
        policies
            .as_ref()?
            .get(&(account.to_owned(), group.to_owned()))
            .cloned()
    }

    /// Adds a fault; faults are checked in the order they were injected.
    pub fn inject(&self, fault: Fault) {
        self.shared.faults.lock().unwrap().push(fault);
    }

    /// Requests seen for `operation` (faulted or forwarded), in every account.
    pub fn count(&self, operation: &str) -> usize {
        self.counted(|op, _| op == operation)
    }

    /// Requests seen for `operation` in `account` (see the module docs for a request's account).
    pub fn count_in(&self, operation: &str, account: &str) -> usize {
        self.counted(|op, acct| op == operation && acct == account)
    }

    fn counted(&self, matches: impl Fn(&str, &str) -> bool) -> usize {
        let calls = self.shared.calls.lock().unwrap();
        calls
            .iter()
            .filter(|call| matches(&call.operation, &call.account))
            .count()
    }

    /// Every request the proxy received (faulted, stood in or forwarded), in arrival order.
    pub fn calls(&self) -> Vec<RecordedCall> {
        self.shared.calls.lock().unwrap().clone()
    }

    /// What the AssumeRole that issued `access_key` through this proxy asked for; `None` for a
    /// key the proxy did not see issued (moto's default `testing`, for one).
    pub fn session_of(&self, access_key: &str) -> Option<AssumedSession> {
        self.shared.session_of(access_key)
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

impl Shared {
    /// Serves one client connection, request after request, until it closes or a fault ends it.
    fn serve(&self, stream: TcpStream) {
        let Ok(read_half) = stream.try_clone() else {
            return;
        };
        let mut reader = BufReader::new(read_half);
        let mut writer = stream;
        while let Ok(Some(request)) = read_request(&mut reader) {
            let call = Call::of(&request);
            let account = self.account_of(&request, &call);
            let index = self.record(&request, &call, &account);
            let response = match self.take_fault(&call.operation, &account) {
                Some(FaultKind::ConnectionReset) => return reset(&writer),
                Some(FaultKind::Timeout) => return hold(&mut reader),
                Some(kind) => call.error_response(kind),
                None => match self.stand_in() {
                    Some(body) if call.operation == "InvokeEndpoint" => stand_in_answer(body),
                    _ if call.operation.ends_with("ModelPackageGroupPolicy") => self
                        .answer_policy_call(&call.operation, &account, &request)
                        .unwrap_or_else(|| self.forward(&request)),
                    _ if matches!(&call.protocol, Protocol::AwsJson { service } if service.contains("ServiceCatalog")) => {
                        self.answer_catalog_call(&call.operation, &request)
                    }
                    _ if call.operation == pipeline_stand_in::STOOD_IN
                        && matches!(&call.protocol, Protocol::AwsJson { service } if service.starts_with("CodePipeline")) =>
                    {
                        self.answer_pipeline_call(&call.operation, &account, &request)
                            .unwrap_or_else(|| self.forward(&request))
                    }
                    _ => {
                        let response = self.forward(&request);
                        if call.operation == "AssumeRole" && response.status == 200 {
                            self.remember_key(&request, &response.body);
                        }
                        response
                    }
                },
            };
            self.calls.lock().unwrap()[index].status = response.status;
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

    /// The stand-in answer to a group policy call, or none when the proxy is not standing in.
    fn answer_policy_call(
        &self,
        operation: &str,
        account: &str,
        request: &Request,
    ) -> Option<Response> {
        let mut guard = self.group_policies.lock().unwrap();
        let policies = guard.as_mut()?;
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let group = body["ModelPackageGroupName"].as_str().unwrap_or_default();
        let key = (account.to_owned(), group.to_owned());
        let invalid = |message: String| {
            Some(Call::json_response(
                400,
                &serde_json::json!({"__type": "ValidationException", "message": message}),
            ))
        };
        match operation {
            "PutModelPackageGroupPolicy" => {
                let policy = body["ResourcePolicy"].as_str().unwrap_or_default();
                let chars = policy.chars().count();
                if chars > MAX_GROUP_POLICY_CHARS {
                    return invalid(format!("1 validation error detected: Value at 'resourcePolicy' failed to satisfy constraint: Member must have length less than or equal to {MAX_GROUP_POLICY_CHARS} (it has {chars})"));
                }
                policies.insert(key, policy.to_owned());
                let arn =
                    format!("arn:aws:sagemaker:us-east-1:{account}:model-package-group/{group}");
                Some(Call::json_response(
                    200,
                    &serde_json::json!({"ModelPackageGroupArn": arn}),
                ))
            }
            _ => match policies.get(&key) {
                Some(policy) => Some(Call::json_response(
                    200,
                    &serde_json::json!({"ResourcePolicy": policy}),
                )),
                None => invalid(format!(
                    "Cannot find Model Package Group policy for {group}"
                )),
            },
        }
    }

    /// A Service Catalog call: stood in when the emulator lacks it, else forwarded (and a created
    /// product noted, so the stand-in knows it).
    fn answer_catalog_call(&self, operation: &str, request: &Request) -> Response {
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let mut guard = self.catalog.lock().unwrap();
        let Some(catalog) = guard.as_mut() else {
            drop(guard);
            return self.forward(request);
        };
        if let Some((status, answer)) = catalog.answer(operation, &body) {
            return Call::json_response(status, &answer);
        }
        let response = self.forward(request);
        if response.status == 200 {
            match operation {
                "CreateProduct" => {
                    let answer = serde_json::from_slice(&response.body).unwrap_or_default();
                    catalog.created(&body, &answer);
                }
                "CreatePortfolio" => catalog.forwarded_write(operation, &body),
                _ => {}
            }
        }
        response
    }

    /// The stand-in answer to GetPipelineExecution, or none when the proxy is not standing in.
    fn answer_pipeline_call(
        &self,
        operation: &str,
        account: &str,
        request: &Request,
    ) -> Option<Response> {
        let guard = self.pipelines.lock().unwrap();
        let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
        let (status, answer) = guard.as_ref()?.answer(operation, account, &body)?;
        Some(Call::json_response(status, &answer))
    }

    fn stand_in(&self) -> Option<String> {
        self.stand_in.lock().unwrap().clone()
    }

    /// Records `request` (its status still 0) and returns its index in `calls`.
    fn record(&self, request: &Request, call: &Call, account: &str) -> usize {
        let (signing_service, region) = request.credential_scope();
        let recorded = RecordedCall {
            signing_service,
            region,
            operation: call.operation.clone(),
            account: account.to_owned(),
            access_key: request.access_key().unwrap_or_default(),
            params: call.params(request),
            status: 0,
        };
        let mut calls = self.calls.lock().unwrap();
        calls.push(recorded);
        calls.len() - 1
    }

    fn take_fault(&self, operation: &str, account: &str) -> Option<FaultKind> {
        let mut faults = self.faults.lock().unwrap();
        let fault = faults.iter_mut().find(|f| {
            f.times > 0
                && f.operation == operation
                && f.account.as_deref().is_none_or(|a| a == account)
        })?;
        fault.times -= 1;
        Some(fault.kind)
    }

    fn account_of(&self, request: &Request, call: &Call) -> String {
        if call.operation == "AssumeRole" {
            if let Some(account) = request.param("RoleArn").and_then(|arn| arn_account(&arn)) {
                return account;
            }
        }
        request
            .access_key()
            .and_then(|key| self.session_of(&key))
            .map_or_else(|| ACCOUNT_ID.to_owned(), |session| session.account)
    }

    fn session_of(&self, access_key: &str) -> Option<AssumedSession> {
        self.keys.lock().unwrap().get(access_key).cloned()
    }

    /// Remembers the key an AssumeRole answer issued, with what the request asked for.
    fn remember_key(&self, request: &Request, answer: &[u8]) {
        let answer = String::from_utf8_lossy(answer);
        let key = answer
            .split_once("<AccessKeyId>")
            .and_then(|(_, rest)| rest.split_once("</AccessKeyId>"))
            .map(|(key, _)| key.trim().to_owned());
        let Some(role_arn) = request.param("RoleArn") else {
            return;
        };
        if let (Some(key), Some(account)) = (key, arn_account(&role_arn)) {
            let session = AssumedSession {
                role_arn,
                session_name: request.param("RoleSessionName").unwrap_or_default(),
                policy: request.param("Policy"),
                account,
            };
            self.keys.lock().unwrap().insert(key, session);
        }
    }

    /// Sends `request` to moto on a fresh connection; a 502 if moto cannot be reached.
    fn forward(&self, request: &Request) -> Response {
        let attempt = || -> std::io::Result<Response> {
            let mut upstream = TcpStream::connect(("127.0.0.1", self.upstream))?;
            let mut head = format!("{} {} HTTP/1.1\r\n", request.method, request.target);
            for (name, value) in &request.headers {
                if !is_hop_by_hop(name) {
                    head.push_str(&format!("{name}: {value}\r\n"));
                }
            }
            head.push_str(&format!(
                "Content-Length: {}\r\nConnection: close\r\n\r\n",
                request.body.len()
            ));
            upstream.write_all(head.as_bytes())?;
            upstream.write_all(&request.body)?;
            let mut reader = BufReader::new(upstream);
            loop {
                let (start, headers) = read_head(&mut reader)?.ok_or_else(|| {
                    std::io::Error::new(std::io::ErrorKind::UnexpectedEof, "no response")
                })?;
                let mut parts = start.splitn(3, ' ');
                let status: u16 = parts.nth(1).and_then(|s| s.parse().ok()).unwrap_or(502);
                if (100..200).contains(&status) {
                    continue;
                }
                // A HEAD answer (S3's HeadObject) has the headers of a body it does not send.
                let body = if request.method == "HEAD" {
                    Vec::new()
                } else {
                    read_body(&mut reader, &headers, true)?
                };
                return Ok(Response {
                    status,
                    headers: headers
                        .into_iter()
                        .filter(|(name, _)| !is_hop_by_hop(name))
                        .collect(),
                    body,
                });
            }
        };
        attempt().unwrap_or_else(|err| Response {
            status: 502,
            headers: vec![("Content-Type".into(), "text/plain".into())],
            body: format!("fault proxy: moto did not answer: {err}").into_bytes(),
        })
    }
}

/// A stand-in endpoint's answer to InvokeEndpoint.
fn stand_in_answer(body: String) -> Response {
    Response {
        status: 200,
        headers: vec![
            ("Content-Type".into(), "application/json".into()),
            (
                "x-Amzn-Invoked-Production-Variant".into(),
                "AllTraffic".into(),
            ),
            ("x-amzn-RequestId".into(), "fault-proxy".into()),
        ],
        body: body.into_bytes(),
    }
}

/// Makes the coming close of the connection a TCP reset instead of a graceful close.
fn reset(stream: &TcpStream) {
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
fn hold(reader: &mut BufReader<TcpStream>) {
    let _ = reader.get_ref().set_read_timeout(Some(HOLD_LIMIT));
    let mut buf = [0u8; 1024];
    while matches!(reader.read(&mut buf), Ok(n) if n > 0) {}
}

/// The API call a request makes and the wire protocol its errors must use.
struct Call {
    operation: String,
    protocol: Protocol,
}

enum Protocol {
    /// awsJson1_1 (SageMaker, Organizations); the `X-Amz-Target` prefix names the service.
    AwsJson { service: String },
    /// awsQuery (STS).
    AwsQuery,
    /// restJson1 (SageMaker Runtime).
    RestJson,
}

impl Call {
    fn of(request: &Request) -> Self {
        if let Some((service, operation)) = request
            .header("x-amz-target")
            .and_then(|target| target.rsplit_once('.'))
        {
            return Self {
                operation: operation.to_owned(),
                protocol: Protocol::AwsJson {
                    service: service.to_owned(),
                },
            };
        }
        if let Some(action) = request.param("Action") {
            return Self {
                operation: action,
                protocol: Protocol::AwsQuery,
            };
        }
        let path = request.target.split('?').next().unwrap_or_default();
        let operation = match path.trim_start_matches('/').split('/').collect::<Vec<_>>()[..] {
            ["endpoints", _, "invocations"] => "InvokeEndpoint".to_owned(),
            ["endpoints", _, "async-invocations"] => "InvokeEndpointAsync".to_owned(),
            ["endpoints", _, "invocations-response-stream"] => {
                "InvokeEndpointWithResponseStream".to_owned()
            }
            _ => format!("{} {path}", request.method),
        };
        Self {
            operation,
            protocol: Protocol::RestJson,
        }
    }

    /// The request's parameters, as [`RecordedCall::params`] describes them.
    fn params(&self, request: &Request) -> serde_json::Value {
        let empty = || serde_json::Value::Object(serde_json::Map::new());
        match self.protocol {
            Protocol::AwsJson { .. } => serde_json::from_slice(&request.body)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(empty),
            Protocol::AwsQuery => serde_json::Value::Object(request.params()),
            Protocol::RestJson if self.operation.starts_with("InvokeEndpoint") => {
                let path = request.target.split('?').next().unwrap_or_default();
                let name = path.trim_start_matches('/').split('/').nth(1).unwrap_or("");
                serde_json::json!({"EndpointName": percent_decode(name)})
            }
            Protocol::RestJson => empty(),
        }
    }

    /// An awsJson answer with `status` and `body`.
    fn json_response(status: u16, body: &serde_json::Value) -> Response {
        Response {
            status,
            headers: vec![
                ("Content-Type".into(), "application/x-amz-json-1.1".into()),
                ("x-amzn-RequestId".into(), "fault-proxy".into()),
            ],
            body: body.to_string().into_bytes(),
        }
    }

    /// The error AWS would answer with for `kind`, in this call's protocol.
    fn error_response(&self, kind: FaultKind) -> Response {
        let denied = format!(
            "User is not authorized to perform: {} (injected by the fault proxy)",
            self.operation
        );
        let (status, code, message) = match kind {
            FaultKind::Throttling => (400, self.throttling_code(), "Rate exceeded".to_owned()),
            FaultKind::ServerError(503) => (
                503,
                "ServiceUnavailable",
                "Service is unavailable (injected by the fault proxy)".to_owned(),
            ),
            FaultKind::ServerError(status) => (
                status,
                "InternalFailure",
                "Internal failure (injected by the fault proxy)".to_owned(),
            ),
            FaultKind::AccessDenied => match self.protocol {
                Protocol::AwsQuery => (403, "AccessDenied", denied),
                Protocol::AwsJson { .. } => (400, "AccessDeniedException", denied),
                Protocol::RestJson => (403, "AccessDeniedException", denied),
            },
            FaultKind::ConnectionReset | FaultKind::Timeout => {
                unreachable!("{kind:?} has no response")
            }
        };
        let request_id = ("x-amzn-RequestId".to_owned(), "fault-proxy".to_owned());
        match self.protocol {
            Protocol::AwsJson { .. } => Response {
                status,
                headers: vec![
                    ("Content-Type".into(), "application/x-amz-json-1.1".into()),
                    request_id,
                ],
                body: serde_json::json!({"__type": code, "message": message})
                    .to_string()
                    .into_bytes(),
            },
            Protocol::AwsQuery => Response {
                status,
                headers: vec![("Content-Type".into(), "text/xml".into()), request_id],
                body: format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
                    if status < 500 { "Sender" } else { "Receiver" }
                )
                .into_bytes(),
            },
            Protocol::RestJson => Response {
                status,
                headers: vec![
                    ("Content-Type".into(), "application/json".into()),
                    ("x-amzn-ErrorType".into(), code.to_owned()),
                    request_id,
                ],
                body: serde_json::json!({"message": message})
                    .to_string()
                    .into_bytes(),
            },
        }
    }

    fn throttling_code(&self) -> &'static str {
        match &self.protocol {
            Protocol::AwsQuery => "Throttling",
            Protocol::AwsJson { service } if service.starts_with("AWSOrganizations") => {
                "TooManyRequestsException"
            }
            _ => "ThrottlingException",
        }
    }
}

struct Request {
    method: String,
    target: String,
    headers: Headers,
    body: Vec<u8>,
}

impl Request {
    fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }

    /// A query-string or form-body parameter (awsQuery), decoded.
    fn param(&self, name: &str) -> Option<String> {
        self.raw_params()
            .find(|(key, _)| *key == name)
            .map(|(_, value)| percent_decode(value))
    }

    /// Every query-string and form-body parameter (awsQuery), decoded, the first of a repeated
    /// name winning (as in [`Request::param`]).
    fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut params = serde_json::Map::new();
        for (key, value) in self.raw_params() {
            let key = percent_decode(key);
            if !params.contains_key(&key) {
                params.insert(key, percent_decode(value).into());
            }
        }
        params
    }

    /// The query string's `key=value` pairs, then a form body's, still encoded.
    fn raw_params(&self) -> impl Iterator<Item = (&str, &str)> {
        let query = self.target.split_once('?').map_or("", |(_, q)| q);
        let form = match self.header("content-type") {
            Some(t) if t.starts_with("application/x-www-form-urlencoded") => {
                std::str::from_utf8(&self.body).unwrap_or("")
            }
            _ => "",
        };
        query
            .split('&')
            .chain(form.split('&'))
            .filter_map(|pair| pair.split_once('='))
    }

    /// The SigV4 credential (`AKID/date/region/service/aws4_request`): the `Authorization`
    /// header's, or a presigned request's `X-Amz-Credential`.
    fn credential(&self) -> Option<String> {
        match self.header("authorization") {
            Some(auth) => {
                let (_, rest) = auth.split_once("Credential=")?;
                rest.split([',', ' ']).next().map(str::to_owned)
            }
            None => self.param("X-Amz-Credential"),
        }
    }

    /// The access key id of the SigV4 credential.
    fn access_key(&self) -> Option<String> {
        let credential = self.credential()?;
        credential.split('/').next().map(str::to_owned)
    }

    /// The (service, region) of the SigV4 credential scope; empty strings when there is none.
    /// A SigV4a scope (`AKID/date/service/aws4_request`) has no region: that is the
    /// `X-Amz-Region-Set` header.
    fn credential_scope(&self) -> (String, String) {
        let credential = self.credential().unwrap_or_default();
        match credential.split('/').collect::<Vec<_>>()[..] {
            [_, _, region, service, _] => (service.to_owned(), region.to_owned()),
            [_, _, service, _] => (
                service.to_owned(),
                self.header("x-amz-region-set")
                    .unwrap_or_default()
                    .to_owned(),
            ),
            _ => (String::new(), String::new()),
        }
    }
}

struct Response {
    status: u16,
    headers: Headers,
    body: Vec<u8>,
}

impl Response {
    fn to_bytes(&self) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} {}\r\n", self.status, reason(self.status));
        for (name, value) in &self.headers {
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut bytes = out.into_bytes();
        bytes.extend_from_slice(&self.body);
        bytes
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        403 => "Forbidden",
        404 => "Not Found",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// Headers that describe one connection, not the message: the proxy sets its own.
fn is_hop_by_hop(name: &str) -> bool {
    [
        "connection",
        "keep-alive",
        "transfer-encoding",
        "content-length",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v.as_str())
}

fn read_request(reader: &mut impl BufRead) -> std::io::Result<Option<Request>> {
    let Some((start, headers)) = read_head(reader)? else {
        return Ok(None);
    };
    let mut parts = start.split(' ');
    let (Some(method), Some(target)) = (parts.next(), parts.next()) else {
        return Ok(None);
    };
    let body = read_body(reader, &headers, false)?;
    Ok(Some(Request {
        method: method.to_owned(),
        target: target.to_owned(),
        headers,
        body,
    }))
}

/// A message's header fields, in order.
type Headers = Vec<(String, String)>;

/// The start line and headers of a message; `None` at a clean end of stream.
fn read_head(reader: &mut impl BufRead) -> std::io::Result<Option<(String, Headers)>> {
    let mut start = String::new();
    if reader.read_line(&mut start)? == 0 {
        return Ok(None);
    }
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':') {
            headers.push((name.trim().to_owned(), value.trim().to_owned()));
        }
    }
    Ok(Some((start.trim_end().to_owned(), headers)))
}

/// A message body by `Transfer-Encoding: chunked` or `Content-Length`; without either, a response
/// body runs to the end of the stream and a request has none.
fn read_body(
    reader: &mut impl BufRead,
    headers: &[(String, String)],
    to_eof: bool,
) -> std::io::Result<Vec<u8>> {
    let mut body = Vec::new();
    if header(headers, "transfer-encoding").is_some_and(|te| te.contains("chunked")) {
        loop {
            let mut size_line = String::new();
            reader.read_line(&mut size_line)?;
            let hex = size_line.split(';').next().unwrap_or("").trim();
            let size = usize::from_str_radix(hex, 16)
                .map_err(|_| std::io::Error::other(format!("bad chunk size {hex:?}")))?;
            if size == 0 {
                // Trailers, up to the empty line.
                let mut line = String::new();
                while reader.read_line(&mut line)? > 0 && !line.trim_end().is_empty() {
                    line.clear();
                }
                return Ok(body);
            }
            let start = body.len();
            body.resize(start + size, 0);
            reader.read_exact(&mut body[start..])?;
            let mut crlf = [0u8; 2];
            reader.read_exact(&mut crlf)?;
        }
    }
    if let Some(length) = header(headers, "content-length").and_then(|l| l.parse::<usize>().ok()) {
        body.resize(length, 0);
        reader.read_exact(&mut body)?;
    } else if to_eof {
        reader.read_to_end(&mut body)?;
    }
    Ok(body)
}

fn percent_decode(text: &str) -> String {
    let hex = |b: u8| (b as char).to_digit(16);
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(high), Some(low)) => {
                out.push((high * 16 + low) as u8);
                i += 3;
                continue;
            }
            (b'+', _, _) => out.push(b' '),
            (byte, _, _) => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The account of an ARN such as `arn:aws:iam::111111111111:role/name`.
fn arn_account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12)
        .map(str::to_owned)
}

/// The proxy against the real emulator through the real SDK: every fault in the shape the SDK
/// parses and classifies (retried or not), and faults matched by account.
#[cfg(test)]
mod tests {
    use std::time::Duration;

    use aws_config::retry::RetryConfig;
    use aws_config::timeout::TimeoutConfig;
    use aws_config::SdkConfig;
    use aws_sdk_sagemaker::error::ProvideErrorMetadata;

    use super::*;
    use crate::seed::{sdk_config, sdk_config_with, REGION};

    /// The tests' read timeout: what a held request costs, with room for a busy emulator.
    const HELD: Duration = Duration::from_secs(2);

    /// The emulator's SDK config sent through `proxy`, with `attempts`, a backoff too short to
    /// wait for and a read timeout short enough for a held request.
    async fn through(proxy: &FaultProxy, attempts: u32) -> SdkConfig {
        sdk_config(crate::moto(), REGION)
            .await
            .to_builder()
            .endpoint_url(proxy.url())
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(attempts)
                    .with_initial_backoff(Duration::from_millis(1)),
            )
            .timeout_config(TimeoutConfig::builder().read_timeout(HELD).build())
            .build()
    }

    async fn list_groups(config: &SdkConfig) -> Result<(), String> {
        aws_sdk_sagemaker::Client::new(config)
            .list_model_package_groups()
            .send()
            .await
            .map(|_| ())
            .map_err(|e| e.code().map_or_else(|| format!("{e:?}"), str::to_owned))
    }

    #[tokio::test]
    async fn forwards_and_counts_every_request() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 1).await;
        list_groups(&config).await.unwrap();
        list_groups(&config).await.unwrap();
        assert_eq!(proxy.count("ListModelPackageGroups"), 2);
        assert_eq!(proxy.count_in("ListModelPackageGroups", ACCOUNT_ID), 2);
        assert_eq!(proxy.count("ListModelPackages"), 0);
        let env = proxy.env();
        assert!(env.contains(&("AWS_ENDPOINT_URL".to_owned(), proxy.url())));
        assert!(env.contains(&("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned())));
    }

    /// Each answered fault in the protocol's shape: the SDK reads the code AWS would send.
    #[tokio::test]
    async fn answered_faults_carry_each_protocols_error_code() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 1).await;
        let organizations = aws_sdk_organizations::Client::new(&config);
        let sts = aws_sdk_sts::Client::new(&config);
        for (kind, sagemaker_code, organizations_code, sts_code) in [
            (
                FaultKind::Throttling,
                "ThrottlingException",
                "TooManyRequestsException",
                "Throttling",
            ),
            (
                FaultKind::ServerError(500),
                "InternalFailure",
                "InternalFailure",
                "InternalFailure",
            ),
            (
                FaultKind::ServerError(503),
                "ServiceUnavailable",
                "ServiceUnavailable",
                "ServiceUnavailable",
            ),
            (
                FaultKind::AccessDenied,
                "AccessDeniedException",
                "AccessDeniedException",
                "AccessDenied",
            ),
        ] {
            proxy.inject(Fault::new("ListModelPackageGroups", kind, 1));
            proxy.inject(Fault::new("ListRoots", kind, 1));
            proxy.inject(Fault::new("GetCallerIdentity", kind, 1));
            assert_eq!(list_groups(&config).await, Err(sagemaker_code.to_owned()));
            let listed = organizations.list_roots().send().await;
            assert_eq!(
                listed.unwrap_err().code(),
                Some(organizations_code),
                "{kind:?}"
            );
            let identity = sts.get_caller_identity().send().await;
            assert_eq!(identity.unwrap_err().code(), Some(sts_code), "{kind:?}");
        }
        // Used up: the next calls go through.
        list_groups(&config).await.unwrap();
        sts.get_caller_identity().send().await.unwrap();
    }

    #[tokio::test]
    async fn transient_faults_are_retried_by_the_sdk_until_they_run_out() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 3).await;
        let mut expected = 0;
        for kind in [
            FaultKind::Throttling,
            FaultKind::ServerError(500),
            FaultKind::ServerError(503),
            FaultKind::ConnectionReset,
            FaultKind::Timeout,
        ] {
            proxy.inject(Fault::new("ListModelPackageGroups", kind, 2));
            list_groups(&config)
                .await
                .unwrap_or_else(|code| panic!("{kind:?} was not retried: {code}"));
            expected += 3;
            assert_eq!(proxy.count("ListModelPackageGroups"), expected, "{kind:?}");
        }
    }

    #[tokio::test]
    async fn a_reset_or_a_held_request_fails_the_attempt_without_an_answer() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 1).await;
        let client = aws_sdk_sagemaker::Client::new(&config);
        proxy.inject(Fault::new(
            "ListModelPackageGroups",
            FaultKind::ConnectionReset,
            1,
        ));
        let err = client.list_model_package_groups().send().await.unwrap_err();
        assert!(
            matches!(err, aws_sdk_sagemaker::error::SdkError::DispatchFailure(ref f) if f.is_io()),
            "{err:?}"
        );
        proxy.inject(Fault::new("ListModelPackageGroups", FaultKind::Timeout, 1));
        let started = std::time::Instant::now();
        let err = client.list_model_package_groups().send().await.unwrap_err();
        assert!(
            matches!(err, aws_sdk_sagemaker::error::SdkError::TimeoutError(_))
                || matches!(err, aws_sdk_sagemaker::error::SdkError::DispatchFailure(ref f) if f.is_timeout()),
            "{err:?}"
        );
        assert!(started.elapsed() >= HELD);
    }

    /// AssumeRole matches the account of the role it asks for; later calls with the keys it
    /// issued match that account; the default keys are 123456789012.
    #[tokio::test]
    async fn faults_match_the_account_of_the_role_and_of_its_keys() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 1).await;
        let sts = aws_sdk_sts::Client::new(&config);
        let assume = |account: &'static str| {
            sts.assume_role()
                .role_arn(format!("arn:aws:iam::{account}:role/proxy-test"))
                .role_session_name("proxy-test")
                .send()
        };
        proxy.inject(
            Fault::new("AssumeRole", FaultKind::AccessDenied, 1).in_account("111100001111"),
        );
        assert_eq!(
            assume("222200002222")
                .await
                .map(|_| ())
                .map_err(|e| e.code().map(str::to_owned)),
            Ok(())
        );
        assert_eq!(
            assume("111100001111").await.unwrap_err().code(),
            Some("AccessDenied")
        );
        let out = assume("111100001111").await.unwrap();
        let c = out.credentials().unwrap();
        let assumed = aws_sdk_sagemaker::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "proxy-test",
        );
        assert_eq!(proxy.count_in("AssumeRole", "111100001111"), 2);
        assert_eq!(proxy.count_in("AssumeRole", "222200002222"), 1);

        let in_account = sdk_config_with(crate::moto(), REGION, assumed)
            .await
            .to_builder()
            .endpoint_url(proxy.url())
            .retry_config(RetryConfig::disabled())
            .build();
        proxy.inject(
            Fault::new("ListModelPackageGroups", FaultKind::AccessDenied, 1)
                .in_account("111100001111"),
        );
        list_groups(&config).await.unwrap();
        assert_eq!(
            list_groups(&in_account).await,
            Err("AccessDeniedException".to_owned())
        );
        assert_eq!(proxy.count_in("ListModelPackageGroups", ACCOUNT_ID), 1);
        assert_eq!(proxy.count_in("ListModelPackageGroups", "111100001111"), 1);
    }

    /// An AssumeRole with a session policy, then a call with the key it issued: both recorded
    /// with their signing scope, key, account, parameters and status, and the key's session found.
    #[tokio::test]
    async fn every_call_is_recorded_and_issued_keys_name_their_session() {
        let proxy = FaultProxy::start(crate::moto());
        let config = through(&proxy, 1).await;
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:List*","Resource":"*"}]}"#;
        let out = aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn("arn:aws:iam::111100003333:role/recorded role+x")
            .role_session_name("recorded-session")
            .policy(policy)
            .send()
            .await
            .unwrap();
        let c = out.credentials().unwrap();
        let issued = c.access_key_id().to_owned();
        let assumed = aws_sdk_sagemaker::config::Credentials::new(
            c.access_key_id(),
            c.secret_access_key(),
            Some(c.session_token().to_owned()),
            None,
            "proxy-test",
        );
        let in_account = sdk_config_with(crate::moto(), "eu-west-1", assumed)
            .await
            .to_builder()
            .endpoint_url(proxy.url())
            .retry_config(RetryConfig::disabled())
            .build();
        aws_sdk_sagemaker::Client::new(&in_account)
            .list_model_package_groups()
            .name_contains("churn")
            .send()
            .await
            .unwrap();
        proxy.inject(Fault::new("GetCallerIdentity", FaultKind::Throttling, 1));
        let throttled = aws_sdk_sts::Client::new(&config)
            .get_caller_identity()
            .send()
            .await;
        assert!(throttled.is_err());

        let calls = proxy.calls();
        assert_eq!(calls.len(), 3, "{calls:#?}");
        assert_eq!(
            calls[0],
            RecordedCall {
                signing_service: "sts".to_owned(),
                region: REGION.to_owned(),
                operation: "AssumeRole".to_owned(),
                account: "111100003333".to_owned(),
                access_key: "testing".to_owned(),
                params: serde_json::json!({
                    "Action": "AssumeRole",
                    "Version": "2011-06-15",
                    "RoleArn": "arn:aws:iam::111100003333:role/recorded role+x",
                    "RoleSessionName": "recorded-session",
                    "Policy": policy,
                }),
                status: 200,
            }
        );
        assert_eq!(
            calls[1],
            RecordedCall {
                signing_service: "sagemaker".to_owned(),
                region: "eu-west-1".to_owned(),
                operation: "ListModelPackageGroups".to_owned(),
                account: "111100003333".to_owned(),
                access_key: issued.clone(),
                params: serde_json::json!({"NameContains": "churn"}),
                status: 200,
            }
        );
        assert_eq!(
            (
                calls[2].operation.as_str(),
                calls[2].signing_service.as_str(),
                &calls[2].params,
                calls[2].status
            ),
            (
                "GetCallerIdentity",
                "sts",
                &serde_json::json!({"Action": "GetCallerIdentity", "Version": "2011-06-15"}),
                400
            )
        );
        assert_eq!(
            proxy.session_of(&issued),
            Some(AssumedSession {
                role_arn: "arn:aws:iam::111100003333:role/recorded role+x".to_owned(),
                session_name: "recorded-session".to_owned(),
                policy: Some(policy.to_owned()),
                account: "111100003333".to_owned(),
            })
        );
        assert_eq!(proxy.session_of("testing"), None);
        // The counts read the same record.
        assert_eq!(proxy.count_in("ListModelPackageGroups", "111100003333"), 1);
        assert_eq!(proxy.count("GetCallerIdentity"), 1);
    }

    /// An unsigned runtime invocation: its endpoint name is its parameter, its scope empty; a
    /// reset request is recorded with no status.
    #[tokio::test]
    async fn invocations_and_unanswered_requests_are_recorded() {
        let proxy = FaultProxy::start(crate::moto());
        proxy.stand_in_for_endpoints("{}");
        let request = "POST /endpoints/churn-staging%2Dx/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
        let send = || {
            let mut stream = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
            stream.write_all(request.as_bytes()).unwrap();
            let mut answer = String::new();
            let _ = stream.read_to_string(&mut answer);
            answer
        };
        assert!(send().starts_with("HTTP/1.1 200 "));
        proxy.inject(Fault::new("InvokeEndpoint", FaultKind::ConnectionReset, 1));
        assert_eq!(send(), "");
        let calls = proxy.calls();
        let expected = RecordedCall {
            signing_service: String::new(),
            region: String::new(),
            operation: "InvokeEndpoint".to_owned(),
            account: ACCOUNT_ID.to_owned(),
            access_key: String::new(),
            params: serde_json::json!({"EndpointName": "churn-staging-x"}),
            status: 200,
        };
        assert_eq!(calls[0], expected);
        assert_eq!(
            calls[1],
            RecordedCall {
                status: 0,
                ..expected
            }
        );
    }

    #[test]
    fn form_values_and_arns_are_decoded() {
        assert_eq!(
            percent_decode("arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx+y%"),
            "arn:aws:iam::111122223333:role/x y%"
        );
        assert_eq!(
            arn_account("arn:aws:iam::111122223333:role/x").as_deref(),
            Some("111122223333")
        );
        assert_eq!(arn_account("arn:aws:iam:::role/x"), None);
    }
}
