//! Reading the template's YAML and the JSON it evaluates to: which intrinsic function a node
//! calls, scalars and keys as text, a resource's Type, argument lists of a fixed length, and
//! `Fn::Equals`'s loose comparison. Nothing here evaluates; the evaluator's parts share these
//! readers.

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use super::error::{malformed, Result};
use super::REF;

/// The intrinsic function `node` calls, with its argument: a short form (`!Sub ...`) or a long
/// form (`{"Fn::Sub": ...}`, `{"Ref": ...}`). The long form `{"Condition": ...}` counts only in
/// condition expressions, where `in_condition` is set.
pub(super) fn intrinsic(node: &Yaml, in_condition: bool) -> Option<(String, &Yaml)> {
    match node {
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let function = match tag.trim_start_matches('!') {
                tag @ ("Ref" | "Condition") => tag.to_owned(),
                tag => format!("Fn::{tag}"),
            };
            Some((function, &tagged.value))
        }
        Yaml::Mapping(mapping) if mapping.len() == 1 => {
            let (key, value) = mapping.iter().next()?;
            let key = key.as_str()?;
            let is_function =
                key == REF || key.starts_with("Fn::") || (in_condition && key == "Condition");
            is_function.then(|| (key.to_owned(), value))
        }
        _ => None,
    }
}

/// A plain YAML scalar as JSON.
pub(super) fn scalar(node: &Yaml, path: &str) -> Result<Json> {
    match node {
        Yaml::Null => Ok(Json::Null),
        Yaml::Bool(value) => Ok(Json::Bool(*value)),
        Yaml::String(text) => Ok(Json::String(text.clone())),
        Yaml::Number(number) => serde_json::to_value(number)
            .ok()
            .filter(|value| !value.is_null())
            .ok_or_else(|| malformed(path, format!("{number} is not a finite number"))),
        Yaml::Sequence(_) | Yaml::Mapping(_) | Yaml::Tagged(_) => {
            Err(malformed(path, "expected a scalar"))
        }
    }
}

/// A YAML scalar as CloudFormation passes it on: as text.
pub(super) fn scalar_text(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(text) => Some(text.clone()),
        Yaml::Number(number) => Some(number.to_string()),
        Yaml::Bool(value) => Some(value.to_string()),
        _ => None,
    }
}

pub(super) fn key_text(key: &Yaml, path: &str) -> Result<String> {
    scalar_text(key).ok_or_else(|| malformed(path, "a key must be a string"))
}

pub(super) fn literal_text<'n>(node: &'n Yaml, path: &str) -> Result<&'n str> {
    node.as_str()
        .ok_or_else(|| malformed(path, "expects a literal string here"))
}

/// A resource declaration's `Type`.
pub(super) fn resource_type<'m>(body: &'m Mapping, path: &str) -> Result<&'m str> {
    let resource_type = body.get("Type").and_then(Yaml::as_str);
    resource_type.ok_or_else(|| malformed(path, "a resource needs a Type"))
}

/// The argument list of a function taking exactly `N` arguments.
pub(super) fn exactly<'n, const N: usize>(node: &'n Yaml, path: &str) -> Result<&'n [Yaml; N]> {
    node.as_sequence()
        .and_then(|items| <&[Yaml; N]>::try_from(items.as_slice()).ok())
        .ok_or_else(|| malformed(path, format!("expects a list of {N} arguments")))
}

/// A JSON scalar as text: strings as they are, numbers and booleans spelled out.
pub(super) fn text(value: &Json, path: &str) -> Result<String> {
    match value {
        Json::String(text) => Ok(text.clone()),
        Json::Number(number) => Ok(number.to_string()),
        Json::Bool(value) => Ok(value.to_string()),
        _ => Err(malformed(path, format!("expected a string, found {value}"))),
    }
}

pub(super) fn list(value: Json, path: &str) -> Result<Vec<Json>> {
    match value {
        Json::Array(items) => Ok(items),
        other => Err(malformed(path, format!("expected a list, found {other}"))),
    }
}

/// `Fn::Equals`: CloudFormation compares scalars as strings, so `1` equals `"1"`.
pub(super) fn loosely_equal(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Array(a), Json::Array(b)) => {
            a.len() == b.len() && a.iter().zip(b).all(|(a, b)| loosely_equal(a, b))
        }
        _ => match (text(a, ""), text(b, "")) {
            (Ok(a), Ok(b)) => a == b,
            _ => a == b,
        },
    }
}
