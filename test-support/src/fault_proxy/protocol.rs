//! What a request is in AWS terms, which the proxy matches faults on, records and answers in: its
//! operation and wire protocol ([`Call`]: awsJson by `X-Amz-Target`, awsQuery by `Action`, the
//! SageMaker runtime's restJson by its path), who signed it (the SigV4 credential), its parameters
//! as a recorded call holds them, and an answer or an error in the shape its protocol uses.

use super::faults::FaultKind;
use super::http::{percent_decode, Request, Response};

/// The API call a request makes and the wire protocol its errors must use.
pub(crate) struct Call {
    pub(crate) operation: String,
    pub(crate) protocol: Protocol,
}

pub(crate) enum Protocol {
    /// awsJson1_1 (SageMaker, Organizations); the `X-Amz-Target` prefix names the service.
    AwsJson { service: String },
    /// awsQuery (STS).
    AwsQuery,
    /// restJson1 (SageMaker Runtime).
    RestJson,
}

impl Call {
    pub(crate) fn of(request: &Request) -> Self {
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
        let path = request.path();
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

    /// The `X-Amz-Target` service prefix (`CodePipeline_20150709`...) of an awsJson call.
    pub(crate) fn json_service(&self) -> Option<&str> {
        match &self.protocol {
            Protocol::AwsJson { service } => Some(service),
            Protocol::AwsQuery | Protocol::RestJson => None,
        }
    }

    /// The request's parameters, as [`super::RecordedCall::params`] describes them.
    pub(crate) fn params(&self, request: &Request) -> serde_json::Value {
        let empty = || serde_json::Value::Object(serde_json::Map::new());
        match self.protocol {
            Protocol::AwsJson { .. } => serde_json::from_slice(&request.body)
                .ok()
                .filter(serde_json::Value::is_object)
                .unwrap_or_else(empty),
            Protocol::AwsQuery => serde_json::Value::Object(request.params()),
            Protocol::RestJson if self.operation.starts_with("InvokeEndpoint") => {
                let name = request.path().trim_start_matches('/').split('/').nth(1);
                serde_json::json!({"EndpointName": percent_decode(name.unwrap_or(""))})
            }
            Protocol::RestJson => empty(),
        }
    }

    /// The error AWS would answer with for `kind`, in this call's protocol.
    pub(crate) fn error_response(&self, kind: FaultKind) -> Response {
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
        match self.protocol {
            Protocol::AwsJson { .. } => json_response(
                status,
                &serde_json::json!({"__type": code, "message": message}),
            ),
            Protocol::AwsQuery => Response::aws(
                status,
                "text/xml",
                &[],
                format!(
                    "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>{}</Type><Code>{code}</Code><Message>{message}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
                    if status < 500 { "Sender" } else { "Receiver" }
                )
                .into_bytes(),
            ),
            Protocol::RestJson => Response::aws(
                status,
                "application/json",
                &[("x-amzn-ErrorType", code)],
                serde_json::json!({"message": message})
                    .to_string()
                    .into_bytes(),
            ),
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

/// An awsJson answer with `status` and `body`.
pub(crate) fn json_response(status: u16, body: &serde_json::Value) -> Response {
    let body = body.to_string().into_bytes();
    Response::aws(status, "application/x-amz-json-1.1", &[], body)
}

/// The answer `answer` gives to the awsJson body of `request` (an object, or null when the body is
/// no JSON), as an awsJson response; `None` when it gives none.
pub(crate) fn answer_json(
    request: &Request,
    answer: impl FnOnce(&serde_json::Value) -> Option<(u16, serde_json::Value)>,
) -> Option<Response> {
    let body: serde_json::Value = serde_json::from_slice(&request.body).unwrap_or_default();
    let (status, answer) = answer(&body)?;
    Some(json_response(status, &answer))
}

impl Request {
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
    pub(crate) fn access_key(&self) -> Option<String> {
        let credential = self.credential()?;
        credential.split('/').next().map(str::to_owned)
    }

    /// The (service, region) of the SigV4 credential scope; empty strings when there is none.
    /// A SigV4a scope (`AKID/date/service/aws4_request`) has no region: that is the
    /// `X-Amz-Region-Set` header.
    pub(crate) fn credential_scope(&self) -> (String, String) {
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
