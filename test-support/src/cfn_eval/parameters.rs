//! The Parameters section: every declared parameter's value, given or its Default, checked as
//! CloudFormation checks it (AllowedValues, MinLength/MaxLength, MinValue/MaxValue), a list type
//! split into its items; a value for an undeclared parameter is refused.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

use super::error::{invalid, malformed, CfnError, Result};
use super::inputs::StackInputs;
use super::values::{key_text, scalar_text};

/// Every declared parameter's value: a string, or a list of strings for list types.
pub(super) fn resolve_parameters(
    declared: Option<&Mapping>,
    inputs: &StackInputs,
) -> Result<BTreeMap<String, Json>> {
    let is_declared = |name: &str| declared.is_some_and(|d| d.contains_key(name));
    if let Some(name) = inputs.parameters.keys().find(|name| !is_declared(name)) {
        return Err(invalid(
            &format!("Parameters.{name}"),
            "the template declares no such parameter",
        ));
    }
    let mut values = BTreeMap::new();
    for (name, declaration) in declared.into_iter().flatten() {
        let name = key_text(name, "Parameters")?;
        let value = parameter_value(&name, declaration, inputs)?;
        values.insert(name, value);
    }
    Ok(values)
}

fn parameter_value(name: &str, declaration: &Yaml, inputs: &StackInputs) -> Result<Json> {
    let path = format!("Parameters.{name}");
    let Some(parameter_type) = declaration.get("Type").and_then(Yaml::as_str) else {
        return Err(malformed(&path, "a parameter needs a Type"));
    };
    let raw = match (inputs.parameters.get(name), declaration.get("Default")) {
        (Some(given), _) => given.clone(),
        (None, Some(default)) => {
            scalar_text(default).ok_or_else(|| malformed(&path, "a non-scalar Default"))?
        }
        (None, None) => return Err(CfnError::MissingParameter { path }),
    };
    let inner_type = parameter_type
        .strip_prefix("AWS::SSM::Parameter::Value<")
        .unwrap_or(parameter_type);
    if !inner_type.starts_with("CommaDelimitedList") && !inner_type.starts_with("List<") {
        check_constraints(&raw, declaration, parameter_type == "Number", &path)?;
        return Ok(Json::String(raw));
    }
    let items: Vec<String> = raw.split(',').map(|item| item.trim().to_owned()).collect();
    for item in &items {
        check_constraints(
            item,
            declaration,
            inner_type.starts_with("List<Number>"),
            &path,
        )?;
    }
    Ok(items.into())
}

/// AllowedValues, and MinValue/MaxValue for a number or MinLength/MaxLength for a string.
fn check_constraints(value: &str, declaration: &Yaml, numeric: bool, path: &str) -> Result<()> {
    let allowed = declaration.get("AllowedValues").and_then(Yaml::as_sequence);
    if allowed.is_some_and(|allowed| !allowed.iter().filter_map(scalar_text).any(|a| a == value)) {
        return Err(invalid(
            path,
            format!("{value:?} is not one of the AllowedValues"),
        ));
    }
    let (measure, low, high) = if numeric {
        let number = value.trim().parse::<f64>();
        let number = number.map_err(|_| invalid(path, format!("{value:?} is not a number")))?;
        (number, "MinValue", "MaxValue")
    } else {
        (value.chars().count() as f64, "MinLength", "MaxLength")
    };
    let bound = |key: &str| {
        declaration
            .get(key)
            .and_then(scalar_text)
            .and_then(|t| t.parse::<f64>().ok())
    };
    if bound(low).is_some_and(|low| measure < low) || bound(high).is_some_and(|high| measure > high)
    {
        return Err(invalid(path, format!("{value:?} is outside {low}..{high}")));
    }
    Ok(())
}
