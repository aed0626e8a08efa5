//! UpdateModelPackage with a `ModelLifeCycle`, which the emulator does not know (and which, sent
//! to it, would clear the package's approval status), answered as the SageMaker API reference
//! documents it: the call changes only what it names, here the package's lifecycle (stage, stage
//! status, description), and answers with the package's ARN
//! (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateModelPackage.html>,
//! <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ModelLifeCycle.html>). A stage or
//! status outside the documented pattern, or a description over 1,024 characters, is the
//! ValidationException AWS answers. Other UpdateModelPackage calls go to the emulator.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::{answer_json, Call};

/// (account, package ARN) -> the `ModelLifeCycle` last set, as sent.
#[derive(Default)]
pub(crate) struct ModelLifecycleStandIn(HashMap<(String, String), Value>);

impl ModelLifecycleStandIn {
    /// The lifecycle last set on `package` in `account`.
    pub(crate) fn get(&self, account: &str, package: &str) -> Option<Value> {
        self.0
            .get(&(account.to_owned(), package.to_owned()))
            .cloned()
    }

    fn reply(&mut self, account: &str, body: &Value) -> Option<(u16, Value)> {
        let lifecycle = body.get("ModelLifeCycle")?;
        let package = body["ModelPackageArn"].as_str().unwrap_or_default();
        let invalid = |message: String| {
            Some((
                400,
                json!({"__type": "ValidationException", "message": message}),
            ))
        };
        for key in ["Stage", "StageStatus"] {
            let value = lifecycle[key].as_str().unwrap_or_default();
            if !is_name(value) {
                return invalid(format!("1 validation error detected: Value '{value}' at 'modelLifeCycle.{}' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9](-*[a-zA-Z0-9]){{0,62}}", key.to_ascii_lowercase()));
            }
        }
        let description = lifecycle["StageDescription"].as_str().unwrap_or_default();
        if description.chars().count() > 1024 {
            return invalid("1 validation error detected: Value at 'modelLifeCycle.stageDescription' failed to satisfy constraint: Member must have length less than or equal to 1024".into());
        }
        self.0
            .insert((account.to_owned(), package.to_owned()), lifecycle.clone());
        Some((200, json!({"ModelPackageArn": package})))
    }
}

/// `[a-zA-Z0-9](-*[a-zA-Z0-9]){0,62}`: letters and digits, single or repeated hyphens between.
fn is_name(value: &str) -> bool {
    let bytes = value.as_bytes();
    !value.is_empty()
        && value.len() <= 63
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-')
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes.last().is_some_and(u8::is_ascii_alphanumeric)
}

impl StandIn for ModelLifecycleStandIn {
    fn answer(&mut self, call: &Call, request: &Request, account: &str) -> Option<Response> {
        if call.operation != "UpdateModelPackage" {
            return None;
        }
        answer_json(request, |body| self.reply(account, body))
    }
}
