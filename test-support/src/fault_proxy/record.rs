//! What the proxy remembers of its traffic, for the tests to read and for faults to match on: every
//! request as a [`RecordedCall`], and for each access key an AssumeRole through it issued, the
//! [`AssumedSession`] asked for. A request's account comes from these: the role's for an
//! AssumeRole, else the session's of its key.

use std::collections::HashMap;
use std::sync::Mutex;

use super::http::Request;
use super::protocol::Call;
use crate::seed::ACCOUNT_ID;

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
    /// [`FaultProxy::session_of`](super::FaultProxy::session_of) that key, or 123456789012 for a
    /// key the proxy did not see issued).
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

#[derive(Default)]
pub(crate) struct Record {
    /// Every request, in arrival order.
    calls: Mutex<Vec<RecordedCall>>,
    /// Access key id -> what the AssumeRole that issued it asked for, from the AssumeRole answers
    /// that went through the proxy.
    keys: Mutex<HashMap<String, AssumedSession>>,
}

impl Record {
    /// Records `request` (its status still 0) and returns its index, for [`Record::answered`].
    pub(crate) fn push(&self, request: &Request, call: &Call, account: &str) -> usize {
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

    /// Notes the status the request recorded at `index` got.
    pub(crate) fn answered(&self, index: usize, status: u16) {
        self.calls.lock().unwrap()[index].status = status;
    }

    pub(crate) fn calls(&self) -> Vec<RecordedCall> {
        self.calls.lock().unwrap().clone()
    }

    /// The recorded calls that `matches`.
    pub(crate) fn count(&self, matches: impl Fn(&RecordedCall) -> bool) -> usize {
        self.calls
            .lock()
            .unwrap()
            .iter()
            .filter(|c| matches(c))
            .count()
    }

    /// The account faults match `request` in (see [`RecordedCall::account`]).
    pub(crate) fn account_of(&self, request: &Request, call: &Call) -> String {
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

    pub(crate) fn session_of(&self, access_key: &str) -> Option<AssumedSession> {
        self.keys.lock().unwrap().get(access_key).cloned()
    }

    /// Remembers the key an AssumeRole answer issued, with what the request asked for.
    pub(crate) fn remember_key(&self, request: &Request, answer: &[u8]) {
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
}

/// The account of an ARN such as `arn:aws:iam::111111111111:role/name`.
pub(crate) fn arn_account(arn: &str) -> Option<String> {
    arn.split(':')
        .nth(4)
        .filter(|a| a.len() == 12)
        .map(str::to_owned)
}
