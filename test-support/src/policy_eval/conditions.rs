//! The Condition element: its operators (`String...`, `Numeric...`, `Date...`, `Bool`, `Binary...`,
//! `IpAddress`, `Arn...` and `Null`, each with `...IfExists` and the `ForAllValues:` and
//! `ForAnyValue:` set operators), parsed from a document and tested against a request's keys.

use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::net::IpAddr;

use serde_json::Value;

use super::patterns::{arn_like, compile, text_matches};
use super::request::Context;
use super::{fail, texts, PolicyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum SetOp {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone)]
pub(super) struct Condition {
    set: SetOp,
    /// The operator without set prefix and IfExists suffix, such as `StringNotLike`.
    operator: String,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

pub(super) fn conditions(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Some(operators) = value.as_object() else {
        return fail("Condition must be an object");
    };
    let mut out = Vec::new();
    for (name, keys) in operators {
        let (set, rest) = match name.split_once(':') {
            Some(("ForAllValues", rest)) => (SetOp::ForAllValues, rest),
            Some(("ForAnyValue", rest)) => (SetOp::ForAnyValue, rest),
            _ => (SetOp::Single, name.as_str()),
        };
        let operator = rest.strip_suffix("IfExists").unwrap_or(rest);
        let if_exists = operator.len() < rest.len();
        // IfExists goes on "any condition operator name except the Null condition".
        let null = operator == "Null" && !if_exists;
        let known = null || matches(operator, "", "", None).is_some();
        let (true, Some(keys)) = (known, keys.as_object()) else {
            return fail(format!("{name}: not a condition operator over keys"));
        };
        for (key, values) in keys {
            out.push(Condition {
                set,
                operator: operator.to_owned(),
                if_exists,
                key: key.to_ascii_lowercase(),
                values: texts(values, true)?,
            });
        }
    }
    Ok(out)
}

impl Condition {
    /// Condition operators page, and the two pages on multiple keys, values and value sets.
    pub(super) fn holds(&self, context: &Context, variables: bool) -> bool {
        let present = context.get(&self.key);
        if self.operator == "Null" {
            // "true": the key is absent (or null); "false": it is present with a value.
            let absent = |v: &String| v.eq_ignore_ascii_case("true");
            return self.values.iter().any(|v| absent(v) == present.is_none());
        }
        // The negated operators are those named with "Not" (StringNotLike, NotIpAddress...).
        let negated = self.operator.contains("Not");
        let Some(request) = present else {
            // A missing key fails, but a negated operator ("the key is *not* matched") then
            // holds, as does ...IfExists; ForAllValues holds for a missing or empty key, while
            // ForAnyValue fails.
            let single = self.set == SetOp::Single;
            return self.if_exists || self.set == SetOp::ForAllValues || (single && negated);
        };
        // One operator's values for a key are ORed, or NORed when the operator is negated.
        let vars = variables.then_some(context);
        let one = |value: &String| {
            let mut policy = self.values.iter();
            policy.any(|p| matches(&self.operator, p, value, vars) == Some(true)) != negated
        };
        match self.set {
            SetOp::ForAllValues => request.iter().all(one),
            SetOp::ForAnyValue | SetOp::Single => request.iter().any(one),
        }
    }
}

/// Whether `request` matches the `policy` value under `operator`, negation aside; `None` for
/// an unknown operator.
fn matches(operator: &str, policy: &str, request: &str, vars: Option<&Context>) -> Option<bool> {
    let text = |like, ignore_case| text_matches(policy, vars, like, request, ignore_case);
    let number = |text: &str| text.trim().parse::<f64>().ok();
    let (numeric, date) = (
        operator.strip_prefix("Numeric"),
        operator.strip_prefix("Date"),
    );
    Some(match operator {
        "StringEquals" | "StringNotEquals" => text(false, false),
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" | "Bool" => text(false, true),
        "StringLike" | "StringNotLike" => text(true, false),
        // The page compares bytes with a base-64 policy value; here the base-64 texts.
        "BinaryEquals" => policy == request,
        "IpAddress" | "NotIpAddress" => cidr_contains(policy, request),
        // "The ArnEquals and ArnLike condition operators behave identically", as do their Nots.
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => {
            compile(policy, vars, true).is_some_and(|p| arn_like(&p, request))
        }
        _ => match (numeric, date) {
            (Some(comparison), _) => compared(comparison, order(number(request), number(policy)))?,
            (_, Some(comparison)) => compared(comparison, date_order(request, policy))?,
            _ => return None,
        },
    })
}

/// The Numeric and Date tests: `Equals`, `NotEquals`, `LessThan`, `LessThanEquals`...
fn compared(test: &str, order: Option<Ordering>) -> Option<bool> {
    let accepted: &[Ordering] = match test {
        "Equals" | "NotEquals" => &[Equal],
        "LessThan" => &[Less],
        "LessThanEquals" => &[Less, Equal],
        "GreaterThan" => &[Greater],
        "GreaterThanEquals" => &[Greater, Equal],
        _ => return None,
    };
    Some(order.is_some_and(|o| accepted.contains(&o)))
}

fn order<T: PartialOrd>(request: Option<T>, policy: Option<T>) -> Option<Ordering> {
    request?.partial_cmp(&policy?)
}

/// Epoch seconds compare as numbers; ISO 8601 dates in UTC sort as text.
fn date_order(request: &str, policy: &str) -> Option<Ordering> {
    match (request.trim().parse::<i64>(), policy.trim().parse::<i64>()) {
        (Ok(request), Ok(policy)) => Some(request.cmp(&policy)),
        (Err(_), Err(_)) => Some(request.trim().cmp(policy.trim())),
        _ => None,
    }
}

/// IpAddress: CIDR notation, IPv4 or IPv6; a bare address stands for a /32 (or /128).
fn cidr_contains(cidr: &str, address: &str) -> bool {
    let (network, length) = match cidr.split_once('/') {
        Some((network, length)) => (network, Some(length)),
        None => (cidr, None),
    };
    let (Ok(network), Ok(address)) = (network.trim().parse(), address.trim().parse()) else {
        return false;
    };
    let (network, address, width) = match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    let length = length.map_or(Some(width), |l| l.trim().parse::<u32>().ok());
    let Some(shift) = length.filter(|l| *l <= width).map(|l| width - l) else {
        return false;
    };
    network.checked_shr(shift) == address.checked_shr(shift)
}
