//! `Ref` and `Fn::GetAtt` of a resource: the override a test gave, else the built-in rule of its
//! type (see `types`), read from the resource's evaluated name properties; a resource whose
//! Condition is false, or a rule that depends on itself, is an error.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::Mapping;

use super::error::{malformed, CfnError, Result};
use super::evaluator::Evaluator;
use super::types::{builtin, generated_name, Identity, TYPES};
use super::values::{resource_type, text};

impl<'t> Evaluator<'t> {
    pub(super) fn declaration(&self, logical_id: &str, path: &str) -> Result<&'t Mapping> {
        let unknown = || CfnError::UnknownName {
            path: path.to_owned(),
            name: logical_id.to_owned(),
        };
        let body = self
            .resources
            .and_then(|resources| resources.get(logical_id))
            .ok_or_else(unknown)?;
        body.as_mapping().ok_or_else(|| {
            malformed(
                &format!("Resources.{logical_id}"),
                "a resource must be a mapping",
            )
        })
    }

    /// `Ref` (with [`REF`]) or `Fn::GetAtt` of a resource: an override, else the built-in rule.
    pub(super) fn resource_attribute(
        &mut self,
        logical_id: &str,
        attribute: &str,
        path: &str,
    ) -> Result<Json> {
        let body = self.declaration(logical_id, path)?;
        if self.condition_depth > 0 {
            return Err(malformed(path, "conditions may not refer to resources"));
        }
        if !self.holds(body, &format!("Resources.{logical_id}"))? {
            let logical_id = logical_id.to_owned();
            return Err(CfnError::ConditionalResource {
                path: path.to_owned(),
                logical_id,
            });
        }
        let key = (logical_id.to_owned(), attribute.to_owned());
        if let Some(value) = self
            .inputs
            .attributes
            .get(&key)
            .or_else(|| self.attributes.get(&key))
        {
            return Ok(value.clone());
        }
        self.enter(format!("{logical_id}.{attribute}"), path)?;
        let value = self.builtin_attribute(logical_id, body, attribute);
        self.in_progress.pop();
        let missing = || CfnError::NoAttribute {
            path: path.to_owned(),
            logical_id: key.0.clone(),
            attribute: key.1.clone(),
        };
        let value = Json::String(value?.ok_or_else(missing)?);
        self.attributes.insert(key, value.clone());
        Ok(value)
    }

    /// Like [`Self::resource_attribute`], but `None` where no rule gives the attribute.
    pub(super) fn optional_attribute(
        &mut self,
        logical_id: &str,
        attribute: &str,
        path: &str,
    ) -> Result<Option<Json>> {
        match self.resource_attribute(logical_id, attribute, path) {
            Ok(value) => Ok(Some(value)),
            Err(CfnError::NoAttribute { .. }) => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn builtin_attribute(
        &mut self,
        logical_id: &str,
        body: &Mapping,
        attribute: &str,
    ) -> Result<Option<String>> {
        let path = format!("Resources.{logical_id}");
        let resource_type = resource_type(body, &path)?;
        let Some((_, name_property, others)) = TYPES.iter().find(|(t, ..)| *t == resource_type)
        else {
            return Ok(None);
        };
        let mut properties = BTreeMap::new();
        for &property in others.iter().chain([name_property]) {
            let Some(node) = body.get("Properties").and_then(|p| p.get(property)) else {
                continue;
            };
            let property_path = format!("{path}.Properties.{property}");
            if let Some(value) = self.eval(node, &property_path)? {
                properties.insert(property, text(&value, &property_path)?);
            }
        }
        let name = properties.get(name_property).cloned().unwrap_or_else(|| {
            let name = generated_name(self.inputs, logical_id);
            if resource_type == "AWS::S3::Bucket" {
                name.to_lowercase()
            } else {
                name
            }
        });
        let resource = Identity {
            inputs: self.inputs,
            logical_id,
            name,
            properties,
        };
        Ok(builtin(resource_type, attribute, &resource))
    }
}
