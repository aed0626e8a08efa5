//! The walk over a template's sections: the evaluator's state (the template's sections, the
//! values found so far, what is being evaluated, for cycles) and the passes over every condition,
//! resource and output. The expressions themselves are evaluated in `conditions`, `intrinsics`
//! and `resources`.

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};
use serde_yaml::Mapping;

use super::error::{malformed, unsupported, CfnError, Result};
use super::inputs::StackInputs;
use super::values::{key_text, literal_text, resource_type};
use super::{ResolvedOutput, ResolvedResource, REF};

pub(super) struct Evaluator<'t> {
    pub(super) inputs: &'t StackInputs,
    pub(super) parameters: BTreeMap<String, Json>,
    pub(super) conditions: Option<&'t Mapping>,
    pub(super) mappings: Option<&'t Mapping>,
    pub(super) resources: Option<&'t Mapping>,
    pub(super) condition_values: BTreeMap<String, bool>,
    pub(super) attributes: BTreeMap<(String, String), Json>,
    /// What is being evaluated now, outermost first: meeting one of them again is a cycle.
    pub(super) in_progress: Vec<String>,
    /// How deep inside condition expressions, where resources may not be referenced.
    pub(super) condition_depth: usize,
}

impl Evaluator<'_> {
    pub(super) fn all_conditions(&mut self) -> Result<BTreeMap<String, bool>> {
        for name in self.conditions.into_iter().flat_map(Mapping::keys) {
            self.condition(&key_text(name, "Conditions")?, "Conditions")?;
        }
        Ok(self.condition_values.clone())
    }

    pub(super) fn all_resources(&mut self) -> Result<BTreeMap<String, ResolvedResource>> {
        let mut resolved = BTreeMap::new();
        for key in self.resources.into_iter().flat_map(Mapping::keys) {
            let logical_id = key_text(key, "Resources")?;
            let path = format!("Resources.{logical_id}");
            if logical_id.starts_with("Fn::") {
                return Err(unsupported(&path, &logical_id));
            }
            let body = self.declaration(&logical_id, &path)?;
            let resource_type = resource_type(body, &path)?.to_owned();
            if !self.holds(body, &path)? {
                continue;
            }
            let properties = self.properties(body, &format!("{path}.Properties"))?;
            let physical_id = self.optional_attribute(&logical_id, REF, &path)?;
            let arn = match self.optional_attribute(&logical_id, "Arn", &path)? {
                Some(Json::String(arn)) => Some(arn),
                _ => physical_id
                    .as_ref()
                    .and_then(Json::as_str)
                    .filter(|id| id.starts_with("arn:"))
                    .map(str::to_owned),
            };
            let resource = ResolvedResource {
                logical_id,
                resource_type,
                properties,
                physical_id,
                arn,
            };
            resolved.insert(resource.logical_id.clone(), resource);
        }
        Ok(resolved)
    }

    fn properties(&mut self, body: &Mapping, path: &str) -> Result<Json> {
        let properties = body
            .get("Properties")
            .map(|node| self.eval(node, path))
            .transpose()?;
        match properties.flatten() {
            None | Some(Json::Null) => Ok(Json::Object(Map::new())),
            Some(object @ Json::Object(_)) => Ok(object),
            Some(_) => Err(malformed(path, "Properties must be a mapping")),
        }
    }

    pub(super) fn all_outputs(
        &mut self,
        outputs: Option<&Mapping>,
    ) -> Result<BTreeMap<String, ResolvedOutput>> {
        let mut resolved = BTreeMap::new();
        for (name, body) in outputs.into_iter().flatten() {
            let name = key_text(name, "Outputs")?;
            let path = format!("Outputs.{name}");
            let body = body
                .as_mapping()
                .ok_or_else(|| malformed(&path, "an output must be a mapping"))?;
            if !self.holds(body, &path)? {
                continue;
            }
            let value = body
                .get("Value")
                .ok_or_else(|| malformed(&path, "an output needs a Value"))?;
            let value = self.eval_value(value, &format!("{path}.Value"))?;
            let export = body.get("Export").and_then(|export| export.get("Name"));
            let export_name =
                export.map(|node| self.eval_text(node, &format!("{path}.Export.Name")));
            resolved.insert(
                name,
                ResolvedOutput {
                    value,
                    export_name: export_name.transpose()?,
                },
            );
        }
        Ok(resolved)
    }

    /// Whether the resource or output `body` exists: its `Condition`, if it has one, holds.
    pub(super) fn holds(&mut self, body: &Mapping, path: &str) -> Result<bool> {
        let Some(name) = body.get("Condition") else {
            return Ok(true);
        };
        let path = format!("{path}.Condition");
        self.condition(literal_text(name, &path)?, &path)
    }

    /// Marks `what` as being evaluated, or reports the cycle it closes.
    pub(super) fn enter(&mut self, what: String, path: &str) -> Result<()> {
        if let Some(start) = self.in_progress.iter().position(|item| *item == what) {
            let mut chain = self.in_progress[start..].to_vec();
            chain.push(what);
            let chain = chain.join(" -> ");
            return Err(CfnError::Cycle {
                path: path.to_owned(),
                chain,
            });
        }
        self.in_progress.push(what);
        Ok(())
    }
}
