//! An IAM policy evaluator for tests. The AWS emulator enforces no IAM, so tests use this module
//! to prove that a role grants exactly the calls the binaries make: given a [`Request`]
//! (principal, action, resource ARN, condition context) and the [`Policies`] in force, [`evaluate`]
//! returns a [`Decision`] (allow, explicit deny, implicit deny) whose reason names the deciding
//! statement or the layer that lacked an allow. [`can_assume`] does the same for role trust.
//!
//! It follows the IAM User Guide (<https://docs.aws.amazon.com/IAM/latest/UserGuide/>), page by page:
//! - reference_policies_evaluation-logic.html and its flow chart
//!   (reference_policies_evaluation-logic_policy-eval-denyallow.html): an explicit deny anywhere
//!   wins; each SCP must allow; an identity-based or a resource-based policy must allow; a
//!   permissions boundary and session policies cap the result, except for resource-based grants
//!   that name the session (or user) itself.
//! - reference_policies_evaluation-logic-cross-account.html: across accounts the caller's side
//!   (identity-based policy and its limits) and the resource-based policy must both allow.
//! - reference_policies_elements_condition_operators.html,
//!   reference_policies_condition-single-vs-multi-valued-context-keys.html and
//!   reference_policies_condition-logic-multiple-context-keys-or-values.html: the operators,
//!   `...IfExists`, `Null`, the `ForAllValues:`/`ForAnyValue:` set operators, AND/OR/NOR.
//! - reference_policies_elements_principal.html, _notprincipal.html, _action.html,
//!   _notaction.html, _resource.html, _notresource.html, _version.html and
//!   reference_policies_variables.html for the elements and `${...}` variables.
//! - access_policies_boundaries.html, id_credentials_temp_control-access_assumerole.html
//!   (session policies) and id_roles_update-role-trust-policy.html (trust policies).
//!
//! Deliberately left out: the root user's default full access, resource control policies, VPC
//! endpoint policies, ACLs, KMS grants and other service-specific rules; federated principals
//! (a `Federated` or `CanonicalUser` principal parses but matches no caller); NotPrincipal's quirk
//! with principals that carry a boundary; the checks AWS makes when a policy is saved (a `"*"`
//! principal in a trust policy is accepted); `${key, 'default'}` defaults. Dates compare as epoch
//! seconds when both sides are numbers, else as ISO 8601 text (so: UTC, one precision). A
//! multivalued key under a plain operator behaves as under `ForAnyValue:`; a statement without
//! Resource (a trust policy's) covers any resource.
//!
//! One job per part: `request` is the model of a call (principal, action, resource, condition
//! keys); `document` parses policy documents; `conditions` holds the condition operators and
//! `patterns` the wildcards and variables they and the Action and Resource elements match with;
//! `evaluation` decides a request under the policies in force. This file holds what they share.

mod conditions;
mod document;
mod evaluation;
mod patterns;
mod request;

pub use document::Policy;
pub use evaluation::{can_assume, evaluate, Decision, Policies, ResourcePolicyKind};
pub use request::{Context, Principal, Request};

use std::fmt;
use std::slice;

use serde_json::Value;

/// A policy document or principal ARN that cannot be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

fn prefixed<T>(prefix: &str, result: Result<T, PolicyError>) -> Result<T, PolicyError> {
    result.map_err(|e| PolicyError(format!("{prefix}: {}", e.0)))
}

/// A string or a list of them; with `scalars`, numbers and booleans too (condition values).
fn texts(value: &Value, scalars: bool) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::Array(items) => items.as_slice(),
        one => slice::from_ref(one),
    };
    let text = |item: &Value| match item {
        Value::String(s) => Ok(s.clone()),
        Value::Number(_) | Value::Bool(_) if scalars => Ok(item.to_string()),
        other => fail(format!("expected a string, found {other}")),
    };
    list.iter().map(text).collect()
}

/// The six colon-separated fields of an ARN, the last one keeping any further colons.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let fields: [&str; 6] = arn.splitn(6, ':').collect::<Vec<_>>().try_into().ok()?;
    (fields[0] == "arn").then_some(fields)
}

#[cfg(test)]
mod tests;
