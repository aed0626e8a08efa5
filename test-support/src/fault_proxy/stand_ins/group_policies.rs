//! The model package group policy calls, which the emulator answers with HTTP 500, answered as the
//! SageMaker API reference documents them (see
//! [`FaultProxy::stand_in_for_group_policies`](crate::fault_proxy::FaultProxy::stand_in_for_group_policies)):
//! PutModelPackageGroupPolicy replaces a group's policy, refusing one over
//! [`MAX_GROUP_POLICY_CHARS`]; GetModelPackageGroupPolicy returns the last one put. Every other
//! call naming a group policy is answered as a Get.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::{answer_json, Call};

/// The longest resource policy PutModelPackageGroupPolicy takes, in characters.
pub const MAX_GROUP_POLICY_CHARS: usize = 20_480;

/// (account, group name) -> the resource policy last put.
#[derive(Default)]
pub(crate) struct GroupPolicyStandIn(HashMap<(String, String), String>);

impl GroupPolicyStandIn {
    /// The policy last put for `group` in `account`.
    pub(crate) fn get(&self, account: &str, group: &str) -> Option<String> {
        self.0.get(&(account.to_owned(), group.to_owned())).cloned()
    }

    fn reply(&mut self, operation: &str, account: &str, body: &Value) -> (u16, Value) {
        let group = body["ModelPackageGroupName"].as_str().unwrap_or_default();
        let key = (account.to_owned(), group.to_owned());
        let invalid = |message: String| {
            (
                400,
                json!({"__type": "ValidationException", "message": message}),
            )
        };
        match operation {
            "PutModelPackageGroupPolicy" => {
                let policy = body["ResourcePolicy"].as_str().unwrap_or_default();
                let chars = policy.chars().count();
                if chars > MAX_GROUP_POLICY_CHARS {
                    return invalid(format!("1 validation error detected: Value at 'resourcePolicy' failed to satisfy constraint: Member must have length less than or equal to {MAX_GROUP_POLICY_CHARS} (it has {chars})"));
                }
                self.0.insert(key, policy.to_owned());
                let arn =
                    format!("arn:aws:sagemaker:us-east-1:{account}:model-package-group/{group}");
                (200, json!({"ModelPackageGroupArn": arn}))
            }
            _ => match self.0.get(&key) {
                Some(policy) => (200, json!({"ResourcePolicy": policy})),
                None => invalid(format!(
                    "Cannot find Model Package Group policy for {group}"
                )),
            },
        }
    }
}

impl StandIn for GroupPolicyStandIn {
    fn answer(&mut self, call: &Call, request: &Request, account: &str) -> Option<Response> {
        if !call.operation.ends_with("ModelPackageGroupPolicy") {
            return None;
        }
        answer_json(request, |body| {
            Some(self.reply(&call.operation, account, body))
        })
    }
}
