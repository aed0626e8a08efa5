//! Policy documents parsed as the IAM element pages describe them: Version, Statement, Sid,
//! Effect, Principal/NotPrincipal, Action/NotAction, Resource/NotResource and Condition (whose
//! operators are parsed in `conditions`); an unknown element, or one of the wrong shape, is an
//! error that names the statement.

use serde_json::{Map, Value};

use super::conditions::{conditions, Condition};
use super::{fail, prefixed, texts, PolicyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum PrincipalType {
    Aws,
    Service,
    /// `Federated` and `CanonicalUser`: parsed, never matched.
    Other,
}

/// An element or its `Not...` twin (`negated`).
#[derive(Debug, Clone)]
pub(super) struct Element<T> {
    pub(super) value: T,
    pub(super) negated: bool,
}

#[derive(Debug, Clone)]
pub(super) struct Statement {
    pub(super) label: String,
    pub(super) effect: Effect,
    pub(super) principal: Option<Element<Vec<(PrincipalType, String)>>>,
    pub(super) action: Element<Vec<String>>,
    pub(super) resource: Option<Element<Vec<String>>>,
    pub(super) conditions: Vec<Condition>,
}

/// A parsed policy document, named for the reasons [`evaluate`](super::evaluate) gives.
#[derive(Debug, Clone)]
pub struct Policy {
    pub(super) name: String,
    /// Variables are substituted only under `"Version": "2012-10-17"` (Version element page).
    pub(super) variables: bool,
    pub(super) statements: Vec<Statement>,
}

impl Policy {
    pub fn parse(name: &str, document: &Value) -> Result<Self, PolicyError> {
        let parsed = Self::parse_document(name, document);
        prefixed(&format!("policy {name}"), parsed)
    }

    fn parse_document(name: &str, document: &Value) -> Result<Self, PolicyError> {
        let Some(fields) = document.as_object() else {
            return fail("a policy document is a JSON object");
        };
        known_keys(fields, "Version Id Statement")?;
        let variables = match fields.get("Version").map(Value::as_str) {
            None | Some(Some("2008-10-17")) => false,
            Some(Some("2012-10-17")) => true,
            Some(other) => return fail(format!("unknown Version {other:?}")),
        };
        let statements = match fields.get("Statement") {
            Some(Value::Array(list)) => list.iter().enumerate().map(Statement::parse).collect(),
            Some(one @ Value::Object(_)) => Statement::parse((0, one)).map(|s| vec![s]),
            _ => fail("Statement must be an object or a list of objects"),
        }?;
        let name = name.to_owned();
        Ok(Policy {
            name,
            variables,
            statements,
        })
    }
}

fn known_keys(fields: &Map<String, Value>, known: &str) -> Result<(), PolicyError> {
    let is_known = |key: &String| known.split(' ').any(|k| k == key);
    match fields.keys().find(|key| !is_known(key)) {
        Some(unknown) => fail(format!("unknown element {unknown}")),
        None => Ok(()),
    }
}

impl Statement {
    fn parse((index, value): (usize, &Value)) -> Result<Self, PolicyError> {
        let label = match value.get("Sid").map(Value::as_str) {
            None => format!("statement #{}", index + 1),
            Some(Some(sid)) => format!("statement {sid}"),
            Some(None) => return fail("Sid must be a string"),
        };
        let Some(fields) = value.as_object() else {
            return fail(format!("{label} is not an object"));
        };
        prefixed(&label.clone(), Self::parse_fields(fields, label))
    }

    fn parse_fields(fields: &Map<String, Value>, label: String) -> Result<Self, PolicyError> {
        let known = "Sid Effect Principal NotPrincipal Action NotAction Resource NotResource";
        known_keys(fields, &format!("{known} Condition"))?;
        let effect = match fields.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return fail("Effect must be \"Allow\" or \"Deny\""),
        };
        let Some(action) = element(fields, "Action", strings)? else {
            return fail("needs Action or NotAction");
        };
        if let Some(bad) = action.value.iter().find(|a| *a != "*" && !a.contains(':')) {
            return fail(format!("action {bad} is not service:Action"));
        }
        Ok(Statement {
            label,
            effect,
            principal: element(fields, "Principal", principals)?,
            action,
            resource: element(fields, "Resource", strings)?,
            conditions: fields.get("Condition").map_or(Ok(Vec::new()), conditions)?,
        })
    }
}

/// `name` or `Not<name>` (at most one of them), read by `parse`.
fn element<T>(
    fields: &Map<String, Value>,
    name: &str,
    parse: fn(&Value) -> Result<T, PolicyError>,
) -> Result<Option<Element<T>>, PolicyError> {
    let not_name = format!("Not{name}");
    let (value, negated) = match (fields.get(name), fields.get(&not_name)) {
        (Some(_), Some(_)) => return fail(format!("{name} and {not_name} both present")),
        (Some(value), None) => (value, false),
        (None, Some(value)) => (value, true),
        (None, None) => return Ok(None),
    };
    let value = parse(value)?;
    Ok(Some(Element { value, negated }))
}

fn strings(value: &Value) -> Result<Vec<String>, PolicyError> {
    texts(value, false)
}

fn principals(value: &Value) -> Result<Vec<(PrincipalType, String)>, PolicyError> {
    let types = match value {
        Value::String(any) if any == "*" => return Ok(vec![(PrincipalType::Aws, any.clone())]),
        Value::Object(types) => types,
        _ => return fail("Principal must be \"*\" or an object such as {\"AWS\": ...}"),
    };
    let mut entries = Vec::new();
    for (name, ids) in types {
        let kind = match name.as_str() {
            "AWS" => PrincipalType::Aws,
            "Service" => PrincipalType::Service,
            "Federated" | "CanonicalUser" => PrincipalType::Other,
            other => return fail(format!("unknown principal type {other}")),
        };
        entries.extend(strings(ids)?.into_iter().map(|id| (kind, id)));
    }
    Ok(entries)
}
