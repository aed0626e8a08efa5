//! Invoking an endpoint with one case of the payload manifest, `--invocations` times: each answer
//! is checked against the case's expectations (`deploy_core::manifest`) and timed for the latency
//! figures. A model error or an unmet expectation fails the case; an AWS error stops the target.
//! A serverless endpoint's first call may wait for a cold start: it is reported apart
//! (`FirstCall`), not in a case's figures.

use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointError;
use aws_smithy_types::Blob;
use deploy_core::manifest::Case;
use deploy_core::remote_text::{contained, MAX_MESSAGE_CHARS};
use deploy_core::report::{seconds, CaseReport, CaseStatus, FirstCall, Latency};
use deploy_core::verdict::Cause;
use deploy_shell::AwsCallError;

use crate::clock::Clock;
use crate::outcome::aws_error;
use crate::session::Session;

/// What every case's invocations on one target share, and the target's first call.
pub(crate) struct Invoker<'a> {
    pub(crate) clock: &'a dyn Clock,
    pub(crate) endpoint_name: &'a str,
    pub(crate) invocations: u32,
    /// The endpoint is serverless without provisioned concurrency: its first call may include a
    /// cold start, kept out of the latency figures.
    pub(crate) serverless: bool,
    /// The target's first invocation, once it has been made, when it succeeded.
    pub(crate) first_call: Option<FirstCall>,
    invoked: bool,
}

impl<'a> Invoker<'a> {
    /// An invoker for one target that has not been called yet.
    pub(crate) fn new(
        clock: &'a dyn Clock,
        endpoint_name: &'a str,
        invocations: u32,
        serverless: bool,
    ) -> Self {
        Self {
            clock,
            endpoint_name,
            invocations,
            serverless,
            first_call: None,
            invoked: false,
        }
    }

    /// `--invocations` calls with one case's body; stops at the first unmet expectation or model
    /// error (the case failed) and gives up on the target at an AWS error (it cannot be tested).
    pub(crate) async fn case(
        &mut self,
        session: &mut Session,
        case: &Case,
    ) -> Result<CaseReport, Cause> {
        let mut report = CaseReport::not_run(case, self.invocations);
        report.status = CaseStatus::Passed;
        let mut latencies = Vec::with_capacity(self.invocations as usize);
        let case_started = self.clock.now();
        for attempt in 1..=self.invocations {
            let runtime = session.runtime().await?;
            let started = self.clock.now();
            let result = runtime
                .invoke_endpoint()
                .endpoint_name(self.endpoint_name)
                .body(request_body(case))
                .set_content_type(case.content_type.clone())
                .set_accept(case.accept.clone())
                .send()
                .await;
            let elapsed = self.clock.now().saturating_duration_since(started);
            let first = !std::mem::replace(&mut self.invoked, true);
            tracing::debug!(case = %case.name, attempt, ok = result.is_ok(), ms = elapsed.as_millis() as u64, "InvokeEndpoint");
            match result {
                Ok(out) => {
                    if first {
                        self.first_call =
                            Some(FirstCall::new(&case.name, elapsed, self.serverless));
                    }
                    if !(first && self.serverless) {
                        latencies.push(elapsed);
                    }
                    report.succeeded += 1;
                    let content_type = out.content_type().map(str::to_owned);
                    let body = out.body.map(Blob::into_inner).unwrap_or_default();
                    report.response_content_type.clone_from(&content_type);
                    report.response_bytes = Some(body.len());
                    // Off the runtime's thread: a body_regex may take seconds on a large answer
                    // (bounded: `deploy_core::body_regex`), and stops and deadlines must fire
                    // meanwhile.
                    let expect = case.expect.clone();
                    let failures = tokio::task::spawn_blocking(move || {
                        expect.check(content_type.as_deref(), &body)
                    })
                    .await
                    .unwrap_or_else(|_| vec!["checking the answer failed unexpectedly".to_owned()]);
                    if !failures.is_empty() {
                        report.status = CaseStatus::Failed;
                        report.failures = failures
                            .into_iter()
                            .map(|f| self.numbered(attempt, f))
                            .collect();
                        break;
                    }
                }
                Err(err) => {
                    let log_stream = match err.as_service_error() {
                        Some(InvokeEndpointError::ModelError(e)) => e
                            .log_stream_arn()
                            .map(|arn| contained(arn, MAX_MESSAGE_CHARS)),
                        _ => None,
                    };
                    let err = AwsCallError::new("sagemaker:InvokeEndpoint", err);
                    match err.code() {
                        // The endpoint answered: the model or the request is wrong, the case fails.
                        Some(
                            "ModelError"
                            | "ModelNotReadyException"
                            | "ValidationError"
                            | "ValidationException",
                        ) => {
                            let mut message = err.to_string();
                            if let Some(stream) = log_stream {
                                message.push_str(&format!(" (model log stream: {stream})"));
                            }
                            report.status = CaseStatus::Failed;
                            report.failures = vec![self.numbered(attempt, message)];
                            break;
                        }
                        _ => {
                            return Err(aws_error(
                                &err,
                                format!("case \"{}\": {}", case.name, session.explain(&err)),
                            ))
                        }
                    }
                }
            }
        }
        report.duration_seconds = seconds(self.clock.now().saturating_duration_since(case_started));
        report.latency_ms = Latency::of(&latencies);
        Ok(report)
    }

    fn numbered(&self, attempt: u32, message: String) -> String {
        if self.invocations == 1 {
            message
        } else {
            format!("invocation {attempt} of {}: {message}", self.invocations)
        }
    }
}

/// The case's body as the SDK sends it: the manifest's allocation, shared, never copied per call.
fn request_body(case: &Case) -> Blob {
    Blob::from_maybe_shared(case.body.clone())
}

#[cfg(test)]
mod tests {
    use deploy_core::manifest::Expect;
    use deploy_core::Bytes;

    use super::*;

    #[test]
    fn every_invocation_sends_the_manifests_bytes_without_a_copy() {
        let case = Case {
            name: "big".into(),
            body_file: "big.csv".into(),
            body: Bytes::from(vec![7_u8; 1 << 20]),
            content_type: None,
            accept: None,
            expect: Expect::default(),
        };
        let (first, second) = (request_body(&case), request_body(&case));
        assert_eq!(first.as_ref().as_ptr(), case.body.as_ptr());
        assert_eq!(second.as_ref().as_ptr(), case.body.as_ptr());
    }
}
