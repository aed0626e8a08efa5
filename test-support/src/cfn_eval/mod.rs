//! Resolves a CloudFormation template for given parameter values, as CloudFormation would, so
//! tests can read the concrete IAM policies, trust policies, ARNs and property values each
//! resource of a real stack would get: the emulator enforces no IAM, so the project evaluates the
//! rendered policies itself.
//!
//! [`resolve`] takes the template as parsed YAML (the short forms `!Ref`, `!Sub`, ... arrive as
//! tagged values; the long forms `{"Fn::If": [...]}` and `{"Ref": ...}` work as well) and the
//! [`StackInputs`] (account, Region, stack name, parameter values, attribute overrides). It
//! returns a [`ResolvedTemplate`]: every resource whose `Condition` holds, with its `Properties`
//! as plain JSON (every intrinsic evaluated, every `AWS::NoValue` removed with its property or
//! list item), the Outputs whose condition holds, and the value of every condition.
//!
//! Covered: parameters (defaults; `String` and `Number` as strings, `CommaDelimitedList` and
//! `List<...>` as lists; AllowedValues, MinLength/MaxLength and MinValue/MaxValue checked), the
//! pseudo parameters, Conditions (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`, `Condition`,
//! each evaluated once, when first needed; cycles reported), `Ref`, `Fn::If`, `Fn::Sub`,
//! `Fn::Join`, `Fn::Select`, `Fn::Split`, `Fn::GetAtt`, `Fn::FindInMap`, `Fn::Base64` and
//! `Fn::GetAZs`, which always gives the Region's zones `a`, `b` and `c`.
//!
//! `Ref` and `Fn::GetAtt` of a resource give what CloudFormation documents for its type, for the
//! types in `types::TYPES`, built from the resource's name property. An unnamed resource gets the
//! name `<StackName>-<LogicalId>-<12 characters>` (lower case for buckets), the characters derived
//! from the stack name and logical id so every run gives the same; ids AWS assigns (a RoleId, a
//! repository id) are derived the same way. [`StackInputs::attribute`] gives any other attribute
//! or type its value, and overrides the built-in ones.
//!
//! Left out: transforms (`Transform`, `Fn::ForEach`, `Fn::Length`, `Fn::ToJsonString`),
//! `Fn::ImportValue` and `Fn::Cidr` (all errors); AllowedPattern (this crate has no regex engine,
//! so tests check their values against it); the `Rules` section; SSM parameter types (the value
//! given stands for the parameter store's); dynamic references (`{{resolve:...}}` stays text);
//! event rules on custom buses; generated names cut to a service's length limit; attributes known
//! only after creation (dates, counts); `DependsOn`, `Metadata` and the resource policies.
//!
//! One job per part: `error` names what can go wrong; `inputs` holds the stack's own values and
//! the pseudo parameters; `parameters` checks and reads the Parameters section; `values` reads
//! YAML nodes and JSON values; `evaluator` walks the template's sections; `conditions`,
//! `intrinsics` and `resources` evaluate condition expressions, the intrinsic functions and
//! `Ref`/`Fn::GetAtt` of resources; `types` is the table of resource types with their names, ARNs
//! and other return values; `ids` derives the generated names and ids. This file is the entry.

use std::collections::BTreeMap;

use serde_json::Value as Json;
use serde_yaml::{Mapping, Value as Yaml};

mod conditions;
mod error;
mod evaluator;
mod ids;
mod inputs;
mod intrinsics;
mod parameters;
mod resources;
mod types;
mod values;

pub use error::CfnError;
pub use inputs::StackInputs;

use error::{malformed, unsupported, Result};
use evaluator::Evaluator;
use parameters::resolve_parameters;

/// The attribute name that stands for what `Ref` returns, in [`StackInputs::attribute`].
pub const REF: &str = "Ref";

/// A template as one stack of it would be.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedTemplate {
    /// Every condition of the template, by name.
    pub conditions: BTreeMap<String, bool>,
    /// The resources whose Condition holds, by logical id.
    pub resources: BTreeMap<String, ResolvedResource>,
    /// The outputs whose Condition holds, by name.
    pub outputs: BTreeMap<String, ResolvedOutput>,
}

impl ResolvedTemplate {
    pub fn resource(&self, logical_id: &str) -> Option<&ResolvedResource> {
        self.resources.get(logical_id)
    }

    /// The resources of type `resource_type`, for example `AWS::IAM::Role`.
    pub fn of_type<'a>(
        &'a self,
        resource_type: &'a str,
    ) -> impl Iterator<Item = &'a ResolvedResource> {
        self.resources
            .values()
            .filter(move |r| r.resource_type == resource_type)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedResource {
    pub logical_id: String,
    pub resource_type: String,
    /// The `Properties`, fully evaluated (an empty object when the template gives none).
    pub properties: Json,
    /// What `Ref` returns, when a built-in rule or an override gives it.
    pub physical_id: Option<Json>,
    /// The `Arn` attribute, or else `Ref` when that is an ARN (SNS, SageMaker, managed policies).
    pub arn: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedOutput {
    pub value: Json,
    pub export_name: Option<String>,
}

/// Resolves `template` for the stack `inputs` describes, as CloudFormation would create it.
///
/// ```
/// use test_support::cfn_eval::{self, StackInputs};
///
/// let text = "Parameters:\n  Stage: {Type: String}\nResources:\n  TestRole:\n    Type: AWS::IAM::Role\n    Properties:\n      RoleName: !Sub app-${Stage}-test\n      AssumeRolePolicyDocument: {}\n";
/// let template: serde_yaml::Value = serde_yaml::from_str(text).unwrap();
/// let inputs = StackInputs::new("111111111111", "eu-west-1").parameter("Stage", "prod");
/// let stack = cfn_eval::resolve(&template, &inputs).unwrap();
/// let role = stack.resource("TestRole").unwrap();
/// assert_eq!(role.arn.as_deref(), Some("arn:aws:iam::111111111111:role/app-prod-test"));
/// ```
pub fn resolve(template: &Yaml, inputs: &StackInputs) -> Result<ResolvedTemplate> {
    let root = template
        .as_mapping()
        .ok_or_else(|| malformed("(template)", "a template must be a mapping"))?;
    if root.contains_key("Transform") {
        return Err(unsupported("Transform", "a template transform"));
    }
    let mut evaluator = Evaluator {
        inputs,
        parameters: resolve_parameters(section(root, "Parameters")?, inputs)?,
        conditions: section(root, "Conditions")?,
        mappings: section(root, "Mappings")?,
        resources: section(root, "Resources")?,
        condition_values: BTreeMap::new(),
        attributes: BTreeMap::new(),
        in_progress: Vec::new(),
        condition_depth: 0,
    };
    Ok(ResolvedTemplate {
        conditions: evaluator.all_conditions()?,
        resources: evaluator.all_resources()?,
        outputs: evaluator.all_outputs(section(root, "Outputs")?)?,
    })
}

fn section<'t>(root: &'t Mapping, name: &str) -> Result<Option<&'t Mapping>> {
    match root.get(name) {
        None | Some(Yaml::Null) => Ok(None),
        Some(Yaml::Mapping(mapping)) => Ok(Some(mapping)),
        Some(_) => Err(malformed(name, "a section must be a mapping")),
    }
}

#[cfg(test)]
mod tests;
