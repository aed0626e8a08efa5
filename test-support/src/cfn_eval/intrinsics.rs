//! Values: a node evaluated to plain JSON, each intrinsic function called (`Ref`, `Fn::If`,
//! `Fn::Sub`, `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::GetAtt`, `Fn::FindInMap`, `Fn::Base64`,
//! `Fn::GetAZs`), and `AWS::NoValue` removing the item that holds it.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

use super::error::{malformed, unsupported, CfnError, Result};
use super::evaluator::Evaluator;
use super::ids::base64;
use super::values::{exactly, intrinsic, key_text, list, literal_text, scalar, text};
use super::REF;

impl Evaluator<'_> {
    /// Evaluates `node`; `None` is `AWS::NoValue`, which removes the enclosing item.
    pub(super) fn eval(&mut self, node: &Yaml, path: &str) -> Result<Option<Json>> {
        if let Some((function, argument)) = intrinsic(node, false) {
            return self.call(&function, argument, &format!("{path}.{function}"));
        }
        match node {
            Yaml::Mapping(mapping) => self.eval_mapping(mapping, path).map(Some),
            Yaml::Sequence(items) => self.eval_sequence(items, path).map(Some),
            _ => scalar(node, path).map(Some),
        }
    }

    fn eval_mapping(&mut self, mapping: &Mapping, path: &str) -> Result<Json> {
        let mut object = Map::new();
        for (key, value) in mapping {
            let key = key_text(key, path)?;
            if let Some(value) = self.eval(value, &format!("{path}.{key}"))? {
                object.insert(key, value);
            }
        }
        Ok(Json::Object(object))
    }

    fn eval_sequence(&mut self, items: &[Yaml], path: &str) -> Result<Json> {
        let mut values = Vec::with_capacity(items.len());
        for (index, item) in items.iter().enumerate() {
            values.extend(self.eval(item, &format!("{path}[{index}]"))?);
        }
        Ok(Json::Array(values))
    }

    pub(super) fn eval_value(&mut self, node: &Yaml, path: &str) -> Result<Json> {
        let value = self.eval(node, path)?;
        value.ok_or_else(|| malformed(path, "AWS::NoValue where a value is required"))
    }

    pub(super) fn eval_text(&mut self, node: &Yaml, path: &str) -> Result<String> {
        text(&self.eval_value(node, path)?, path)
    }

    /// The `N` arguments of a function, each evaluated.
    pub(super) fn arguments<const N: usize>(
        &mut self,
        argument: &Yaml,
        path: &str,
    ) -> Result<[Json; N]> {
        let mut values = Vec::with_capacity(N);
        for (index, node) in exactly::<N>(argument, path)?.iter().enumerate() {
            values.push(self.eval_value(node, &format!("{path}[{index}]"))?);
        }
        values
            .try_into()
            .map_err(|_| malformed(path, format!("expects {N} arguments")))
    }

    fn call(&mut self, function: &str, argument: &Yaml, path: &str) -> Result<Option<Json>> {
        let value = match function {
            REF => return self.reference(literal_text(argument, path)?, path),
            "Fn::If" => return self.fn_if(argument, path),
            "Fn::Sub" => Json::String(self.fn_sub(argument, path)?),
            "Fn::Join" => Json::String(self.fn_join(argument, path)?),
            "Fn::Select" => self.fn_select(argument, path)?,
            "Fn::Split" => self.fn_split(argument, path)?,
            "Fn::GetAtt" => self.fn_get_att(argument, path)?,
            "Fn::FindInMap" => self.fn_find_in_map(argument, path)?,
            "Fn::Base64" => Json::String(base64(self.eval_text(argument, path)?.as_bytes())),
            "Fn::GetAZs" => self.fn_get_azs(argument, path)?,
            "Condition" | "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" => {
                return Err(malformed(path, "condition functions belong in Conditions"));
            }
            _ => return Err(unsupported(path, function)),
        };
        Ok(Some(value))
    }

    fn reference(&mut self, name: &str, path: &str) -> Result<Option<Json>> {
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(value) = self
            .inputs
            .pseudo(name)
            .or_else(|| self.parameters.get(name).cloned())
        {
            return Ok(Some(value));
        }
        self.resource_attribute(name, REF, path).map(Some)
    }

    fn fn_if(&mut self, argument: &Yaml, path: &str) -> Result<Option<Json>> {
        let [condition, then, otherwise] = exactly::<3>(argument, path)?;
        if self.condition(literal_text(condition, path)?, path)? {
            self.eval(then, &format!("{path}[1]"))
        } else {
            self.eval(otherwise, &format!("{path}[2]"))
        }
    }

    fn fn_sub(&mut self, argument: &Yaml, path: &str) -> Result<String> {
        let (template, variables) = match argument {
            Yaml::Sequence(items) => match items.as_slice() {
                [template, Yaml::Mapping(variables)] => (template, Some(variables)),
                _ => {
                    return Err(malformed(
                        path,
                        "expects a string, or a string and a mapping",
                    ))
                }
            },
            template => (template, None),
        };
        let mut values = BTreeMap::new();
        for (name, node) in variables.into_iter().flatten() {
            let name = key_text(name, path)?;
            let value = self.eval_text(node, &format!("{path}.{name}"))?;
            values.insert(name, value);
        }
        self.substitute(literal_text(template, path)?, &values, path)
    }

    /// Replaces each `${name}` of `template`; `${!text}` stands for the literal `${text}`.
    fn substitute(
        &mut self,
        template: &str,
        values: &BTreeMap<String, String>,
        path: &str,
    ) -> Result<String> {
        let mut out = String::with_capacity(template.len());
        let mut rest = template;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            rest = &rest[start + 2..];
            if let Some(literal) = rest.strip_prefix('!') {
                out.push_str("${");
                rest = literal;
                continue;
            }
            let end = rest
                .find('}')
                .ok_or_else(|| malformed(path, "a ${ without its closing }"))?;
            let name = &rest[..end];
            match values.get(name) {
                Some(value) => out.push_str(value),
                None => out.push_str(&self.sub_variable(name, path)?),
            }
            rest = &rest[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// The value of `${name}` in `Fn::Sub`: a parameter, pseudo parameter, resource or attribute.
    fn sub_variable(&mut self, name: &str, path: &str) -> Result<String> {
        let value = match name.split_once('.') {
            Some((logical_id, attribute)) => {
                self.resource_attribute(logical_id, attribute, path)?
            }
            None => self
                .reference(name, path)?
                .ok_or_else(|| malformed(path, "${AWS::NoValue} inserts nothing"))?,
        };
        text(&value, path)
    }

    fn fn_join(&mut self, argument: &Yaml, path: &str) -> Result<String> {
        let [delimiter, items] = self.arguments(argument, path)?;
        let parts = list(items, path)?
            .iter()
            .map(|item| text(item, path))
            .collect::<Result<Vec<_>>>()?;
        Ok(parts.join(&text(&delimiter, path)?))
    }

    fn fn_select(&mut self, argument: &Yaml, path: &str) -> Result<Json> {
        let [index, items] = self.arguments(argument, path)?;
        let (index, items) = (text(&index, path)?, list(items, path)?);
        let position: usize = index
            .parse()
            .map_err(|_| malformed(path, format!("index {index:?} is no whole number")))?;
        let count = items.len();
        items
            .into_iter()
            .nth(position)
            .ok_or_else(|| malformed(path, format!("index {position} of {count} items")))
    }

    fn fn_split(&mut self, argument: &Yaml, path: &str) -> Result<Json> {
        let [delimiter, source] = self.arguments(argument, path)?;
        let (delimiter, source) = (text(&delimiter, path)?, text(&source, path)?);
        if delimiter.is_empty() {
            return Err(malformed(path, "the delimiter is empty"));
        }
        Ok(source.split(delimiter.as_str()).collect::<Vec<_>>().into())
    }

    fn fn_get_att(&mut self, argument: &Yaml, path: &str) -> Result<Json> {
        let (logical_id, attribute) = if argument.is_sequence() {
            let [logical_id, attribute] = exactly::<2>(argument, path)?;
            (
                literal_text(logical_id, path)?,
                self.eval_text(attribute, &format!("{path}[1]"))?,
            )
        } else {
            let whole = literal_text(argument, path)?.split_once('.');
            let (logical_id, attribute) =
                whole.ok_or_else(|| malformed(path, "expects LogicalId.Attribute"))?;
            (logical_id, attribute.to_owned())
        };
        self.resource_attribute(logical_id, &attribute, path)
    }

    fn fn_find_in_map(&mut self, argument: &Yaml, path: &str) -> Result<Json> {
        let [map, top, second] = self.arguments(argument, path)?;
        let keys = [text(&map, path)?, text(&top, path)?, text(&second, path)?];
        let found = self.mappings.and_then(|mappings| {
            let entry = mappings.get(keys[0].as_str())?;
            entry.get(keys[1].as_str())?.get(keys[2].as_str())
        });
        let value = found.ok_or_else(|| CfnError::UnknownName {
            path: path.to_owned(),
            name: keys.join("."),
        })?;
        self.eval_value(value, path)
    }

    /// The Region's zones `a` to `c`; the empty string stands for this stack's Region.
    fn fn_get_azs(&mut self, argument: &Yaml, path: &str) -> Result<Json> {
        let region = self.eval_text(argument, path)?;
        let region = if region.is_empty() {
            &self.inputs.region
        } else {
            &region
        };
        Ok(Vec::from(["a", "b", "c"].map(|zone| format!("{region}{zone}"))).into())
    }
}
