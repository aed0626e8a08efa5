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
//! types in `TYPES` below, built from the resource's name property. An unnamed resource gets the
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

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value as Json};
use serde_yaml::{Mapping, Value as Yaml};

/// The attribute name that stands for what `Ref` returns, in [`StackInputs::attribute`].
pub const REF: &str = "Ref";

/// Why a template did not resolve. Every variant names the path in the template where it failed,
/// for example `Resources.Role.Properties.Policies[0].PolicyDocument.Statement[1].Fn::Sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfnError {
    /// The template is not shaped as CloudFormation requires.
    Malformed { path: String, message: String },
    /// A parameter without a default was given no value.
    MissingParameter { path: String },
    /// A value CloudFormation would refuse for its parameter, or one for an undeclared parameter.
    InvalidParameter { path: String, message: String },
    /// `Ref`, `Fn::Sub`, `Fn::GetAtt` or `Fn::FindInMap` names nothing the template declares.
    UnknownName { path: String, name: String },
    /// A condition name the Conditions section lacks.
    UnknownCondition { path: String, name: String },
    /// Conditions, or resource names, that depend on themselves.
    Cycle { path: String, chain: String },
    /// A resource referenced where its Condition is false, so it would not exist.
    ConditionalResource { path: String, logical_id: String },
    /// Neither a built-in rule nor an override gives this attribute (or `Ref`) of the resource.
    NoAttribute {
        path: String,
        logical_id: String,
        attribute: String,
    },
    /// A function or template feature this module leaves out.
    Unsupported { path: String, feature: String },
}

impl fmt::Display for CfnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { path, message } | Self::InvalidParameter { path, message } => {
                write!(f, "{path}: {message}")
            }
            Self::MissingParameter { path } => write!(f, "{path}: no value and no Default"),
            Self::UnknownName { path, name } => write!(f, "{path}: the template declares no {name}"),
            Self::UnknownCondition { path, name } => write!(f, "{path}: no condition {name}"),
            Self::Cycle { path, chain } => write!(f, "{path}: circular dependency {chain}"),
            Self::ConditionalResource { path, logical_id } => {
                write!(f, "{path}: {logical_id} does not exist (its Condition is false)")
            }
            Self::NoAttribute { path, logical_id, attribute } => write!(
                f,
                "{path}: no built-in {attribute} of {logical_id}; give it with StackInputs::attribute"
            ),
            Self::Unsupported { path, feature } => write!(f, "{path}: {feature} is not supported"),
        }
    }
}

impl std::error::Error for CfnError {}

type Result<T> = std::result::Result<T, CfnError>;

fn malformed(path: &str, message: impl Into<String>) -> CfnError {
    let (path, message) = (path.to_owned(), message.into());
    CfnError::Malformed { path, message }
}

fn invalid(path: &str, message: impl Into<String>) -> CfnError {
    let (path, message) = (path.to_owned(), message.into());
    CfnError::InvalidParameter { path, message }
}

fn unsupported(path: &str, feature: &str) -> CfnError {
    let (path, feature) = (path.to_owned(), feature.to_owned());
    CfnError::Unsupported { path, feature }
}

/// What CloudFormation knows of a stack besides its template.
#[derive(Debug, Clone)]
pub struct StackInputs {
    account_id: String,
    region: String,
    stack_name: String,
    notification_arns: Vec<String>,
    parameters: BTreeMap<String, String>,
    attributes: BTreeMap<(String, String), Json>,
}

impl StackInputs {
    /// A stack named `test-stack` in `account_id` and `region`, with no parameter values.
    pub fn new(account_id: &str, region: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            stack_name: "test-stack".to_owned(),
            notification_arns: Vec::new(),
            parameters: BTreeMap::new(),
            attributes: BTreeMap::new(),
        }
    }

    /// The stack's name (`AWS::StackName`, and the start of generated names).
    #[must_use]
    pub fn stack_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.stack_name);
        self
    }

    /// `AWS::NotificationARNs` (empty unless set).
    #[must_use]
    pub fn notification_arns(mut self, arns: &[&str]) -> Self {
        self.notification_arns = arns.iter().map(ToString::to_string).collect();
        self
    }

    /// The value of parameter `name` as the CLI passes it: comma-separated for list types.
    #[must_use]
    pub fn parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.insert(name.to_owned(), value.to_owned());
        self
    }

    /// What `Fn::GetAtt` of `attribute` (or `Ref`, with [`REF`]) of resource `logical_id`
    /// returns: for types or attributes without a built-in rule, or instead of the rule.
    #[must_use]
    pub fn attribute(mut self, logical_id: &str, attribute: &str, value: impl Into<Json>) -> Self {
        let key = (logical_id.to_owned(), attribute.to_owned());
        self.attributes.insert(key, value.into());
        self
    }

    /// `AWS::Partition`, from the Region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else
    /// `aws`.
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// `AWS::URLSuffix`: `amazonaws.com.cn` in China, else `amazonaws.com`.
    pub fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }

    /// `AWS::StackId`: the stack's ARN, its UUID derived from the account, Region and name.
    pub fn stack_id(&self) -> String {
        let (account, region, name) = (&self.account_id, &self.region, &self.stack_name);
        let id = uuid(&[account.as_str(), region.as_str(), name.as_str()]);
        format!(
            "arn:{}:cloudformation:{region}:{account}:stack/{name}/{id}",
            self.partition()
        )
    }

    /// The value of pseudo parameter `name` (not `AWS::NoValue`, which has none).
    fn pseudo(&self, name: &str) -> Option<Json> {
        Some(Json::String(match name {
            "AWS::AccountId" => self.account_id.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::Partition" => self.partition().to_owned(),
            "AWS::URLSuffix" => self.url_suffix().to_owned(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::StackId" => self.stack_id(),
            "AWS::NotificationARNs" => return Some(self.notification_arns.clone().into()),
            _ => return None,
        }))
    }
}

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
/// ```ignore
/// let template: serde_yaml::Value = serde_yaml::from_str(&text)?;
/// let inputs = StackInputs::new("111111111111", "eu-west-1").parameter("Stage", "prod");
/// let stack = cfn_eval::resolve(&template, &inputs)?;
/// let role = stack.resource("TestRole").unwrap();
/// assert!(role.arn.as_deref().unwrap().starts_with("arn:aws:iam::111111111111:role/"));
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

// ---- Parameters ----------------------------------------------------------------------------

/// Every declared parameter's value: a string, or a list of strings for list types.
fn resolve_parameters(
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

// ---- Values --------------------------------------------------------------------------------

/// The intrinsic function `node` calls, with its argument: a short form (`!Sub ...`) or a long
/// form (`{"Fn::Sub": ...}`, `{"Ref": ...}`). The long form `{"Condition": ...}` counts only in
/// condition expressions, where `in_condition` is set.
fn intrinsic(node: &Yaml, in_condition: bool) -> Option<(String, &Yaml)> {
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
fn scalar(node: &Yaml, path: &str) -> Result<Json> {
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
fn scalar_text(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(text) => Some(text.clone()),
        Yaml::Number(number) => Some(number.to_string()),
        Yaml::Bool(value) => Some(value.to_string()),
        _ => None,
    }
}

fn key_text(key: &Yaml, path: &str) -> Result<String> {
    scalar_text(key).ok_or_else(|| malformed(path, "a key must be a string"))
}

fn literal_text<'n>(node: &'n Yaml, path: &str) -> Result<&'n str> {
    node.as_str()
        .ok_or_else(|| malformed(path, "expects a literal string here"))
}

/// The argument list of a function taking exactly `N` arguments.
fn exactly<'n, const N: usize>(node: &'n Yaml, path: &str) -> Result<&'n [Yaml; N]> {
    node.as_sequence()
        .and_then(|items| <&[Yaml; N]>::try_from(items.as_slice()).ok())
        .ok_or_else(|| malformed(path, format!("expects a list of {N} arguments")))
}

/// A JSON scalar as text: strings as they are, numbers and booleans spelled out.
fn text(value: &Json, path: &str) -> Result<String> {
    match value {
        Json::String(text) => Ok(text.clone()),
        Json::Number(number) => Ok(number.to_string()),
        Json::Bool(value) => Ok(value.to_string()),
        _ => Err(malformed(path, format!("expected a string, found {value}"))),
    }
}

fn list(value: Json, path: &str) -> Result<Vec<Json>> {
    match value {
        Json::Array(items) => Ok(items),
        other => Err(malformed(path, format!("expected a list, found {other}"))),
    }
}

/// `Fn::Equals`: CloudFormation compares scalars as strings, so `1` equals `"1"`.
fn loosely_equal(a: &Json, b: &Json) -> bool {
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

// ---- Evaluation ----------------------------------------------------------------------------

struct Evaluator<'t> {
    inputs: &'t StackInputs,
    parameters: BTreeMap<String, Json>,
    conditions: Option<&'t Mapping>,
    mappings: Option<&'t Mapping>,
    resources: Option<&'t Mapping>,
    condition_values: BTreeMap<String, bool>,
    attributes: BTreeMap<(String, String), Json>,
    /// What is being evaluated now, outermost first: meeting one of them again is a cycle.
    in_progress: Vec<String>,
    /// How deep inside condition expressions, where resources may not be referenced.
    condition_depth: usize,
}

impl<'t> Evaluator<'t> {
    fn all_conditions(&mut self) -> Result<BTreeMap<String, bool>> {
        for name in self.conditions.into_iter().flat_map(Mapping::keys) {
            self.condition(&key_text(name, "Conditions")?, "Conditions")?;
        }
        Ok(self.condition_values.clone())
    }

    fn all_resources(&mut self) -> Result<BTreeMap<String, ResolvedResource>> {
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

    fn all_outputs(
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
    fn holds(&mut self, body: &Mapping, path: &str) -> Result<bool> {
        let Some(name) = body.get("Condition") else {
            return Ok(true);
        };
        let path = format!("{path}.Condition");
        self.condition(literal_text(name, &path)?, &path)
    }

    /// Marks `what` as being evaluated, or reports the cycle it closes.
    fn enter(&mut self, what: String, path: &str) -> Result<()> {
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

    // ---- Conditions ----

    fn condition(&mut self, name: &str, path: &str) -> Result<bool> {
        if let Some(&value) = self.condition_values.get(name) {
            return Ok(value);
        }
        let Some(node) = self.conditions.and_then(|c| c.get(name)) else {
            return Err(CfnError::UnknownCondition {
                path: path.to_owned(),
                name: name.to_owned(),
            });
        };
        self.enter(format!("Condition {name}"), path)?;
        self.condition_depth += 1;
        let value = self.condition_expression(node, &format!("Conditions.{name}"));
        self.condition_depth -= 1;
        self.in_progress.pop();
        let value = value?;
        self.condition_values.insert(name.to_owned(), value);
        Ok(value)
    }

    fn condition_expression(&mut self, node: &Yaml, path: &str) -> Result<bool> {
        let Some((function, argument)) = intrinsic(node, true) else {
            return Err(malformed(
                path,
                "expected Fn::Equals, Fn::Not, Fn::And, Fn::Or or Condition",
            ));
        };
        let path = &format!("{path}.{function}");
        match function.as_str() {
            "Condition" => self.condition(literal_text(argument, path)?, path),
            "Fn::Equals" => {
                let [a, b] = self.arguments(argument, path)?;
                Ok(loosely_equal(&a, &b))
            }
            "Fn::Not" => {
                let [inner] = exactly::<1>(argument, path)?;
                Ok(!self.condition_expression(inner, path)?)
            }
            "Fn::And" | "Fn::Or" => {
                let items = argument
                    .as_sequence()
                    .filter(|items| (2..=10).contains(&items.len()));
                let items =
                    items.ok_or_else(|| malformed(path, "expects a list of 2 to 10 conditions"))?;
                let mut values = Vec::with_capacity(items.len());
                for (index, item) in items.iter().enumerate() {
                    values.push(self.condition_expression(item, &format!("{path}[{index}]"))?);
                }
                let and = function == "Fn::And";
                Ok(if and {
                    values.iter().all(|v| *v)
                } else {
                    values.iter().any(|v| *v)
                })
            }
            _ => Err(malformed(path, "not a condition function")),
        }
    }

    // ---- Values ----

    /// Evaluates `node`; `None` is `AWS::NoValue`, which removes the enclosing item.
    fn eval(&mut self, node: &Yaml, path: &str) -> Result<Option<Json>> {
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

    fn eval_value(&mut self, node: &Yaml, path: &str) -> Result<Json> {
        let value = self.eval(node, path)?;
        value.ok_or_else(|| malformed(path, "AWS::NoValue where a value is required"))
    }

    fn eval_text(&mut self, node: &Yaml, path: &str) -> Result<String> {
        text(&self.eval_value(node, path)?, path)
    }

    /// The `N` arguments of a function, each evaluated.
    fn arguments<const N: usize>(&mut self, argument: &Yaml, path: &str) -> Result<[Json; N]> {
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

    // ---- Resources ----

    fn declaration(&self, logical_id: &str, path: &str) -> Result<&'t Mapping> {
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
    fn resource_attribute(
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
    fn optional_attribute(
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

fn resource_type<'m>(body: &'m Mapping, path: &str) -> Result<&'m str> {
    let resource_type = body.get("Type").and_then(Yaml::as_str);
    resource_type.ok_or_else(|| malformed(path, "a resource needs a Type"))
}

// ---- Resource identity ---------------------------------------------------------------------

/// The types with built-in rules: the property naming a resource ("" where CloudFormation always
/// generates the name), the other properties the rules read, and the return values they follow.
const TYPES: [(&str, &str, &[&str]); 15] = [
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-role.html#aws-resource-iam-role-return-values
    ("AWS::IAM::Role", "RoleName", &["Path"]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-managedpolicy.html#aws-resource-iam-managedpolicy-return-values
    ("AWS::IAM::ManagedPolicy", "ManagedPolicyName", &["Path"]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-iam-policy.html#aws-resource-iam-policy-return-values
    ("AWS::IAM::Policy", "", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-s3-bucket.html#aws-resource-s3-bucket-return-values
    ("AWS::S3::Bucket", "BucketName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codecommit-repository.html#aws-resource-codecommit-repository-return-values
    ("AWS::CodeCommit::Repository", "RepositoryName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codebuild-project.html#aws-resource-codebuild-project-return-values
    ("AWS::CodeBuild::Project", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codepipeline-pipeline.html#aws-resource-codepipeline-pipeline-return-values
    ("AWS::CodePipeline::Pipeline", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-events-rule.html#aws-resource-events-rule-return-values
    ("AWS::Events::Rule", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sns-topic.html#aws-resource-sns-topic-return-values
    ("AWS::SNS::Topic", "TopicName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-codestarnotifications-notificationrule.html#aws-resource-codestarnotifications-notificationrule-return-values
    ("AWS::CodeStarNotifications::NotificationRule", "Name", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-model.html#aws-resource-sagemaker-model-return-values
    ("AWS::SageMaker::Model", "ModelName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpointconfig.html#aws-resource-sagemaker-endpointconfig-return-values
    ("AWS::SageMaker::EndpointConfig", "EndpointConfigName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-sagemaker-endpoint.html#aws-resource-sagemaker-endpoint-return-values
    ("AWS::SageMaker::Endpoint", "EndpointName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-cloudwatch-alarm.html#aws-resource-cloudwatch-alarm-return-values
    ("AWS::CloudWatch::Alarm", "AlarmName", &[]),
    // https://docs.aws.amazon.com/AWSCloudFormation/latest/TemplateReference/aws-resource-applicationautoscaling-scalabletarget.html#aws-resource-applicationautoscaling-scalabletarget-return-values
    (
        "AWS::ApplicationAutoScaling::ScalableTarget",
        "",
        &["ResourceId", "ScalableDimension", "ServiceNamespace"],
    ),
];

/// The built-in value of `attribute` ([`REF`] for `Ref`) of a resource of `resource_type`.
fn builtin(resource_type: &str, attribute: &str, r: &Identity<'_>) -> Option<String> {
    let name = &r.name;
    Some(match (resource_type, attribute) {
        // Names. An inline policy's Ref and Id are the id CloudFormation generates, not its
        // PolicyName; a new pipeline's Version is 1.
        (
            "AWS::IAM::Role"
            | "AWS::S3::Bucket"
            | "AWS::CodeBuild::Project"
            | "AWS::CodePipeline::Pipeline"
            | "AWS::Events::Rule"
            | "AWS::CloudWatch::Alarm",
            REF,
        )
        | ("AWS::IAM::Policy", REF | "Id")
        | ("AWS::CodeCommit::Repository", "Name")
        | ("AWS::SNS::Topic", "TopicName")
        | ("AWS::SageMaker::Model", "ModelName")
        | ("AWS::SageMaker::EndpointConfig", "EndpointConfigName")
        | ("AWS::SageMaker::Endpoint", "EndpointName") => name.clone(),
        ("AWS::CodePipeline::Pipeline", "Version") => "1".to_owned(),
        // ARNs and ids.
        ("AWS::IAM::Role", "Arn") => r.iam_arn("role"),
        ("AWS::IAM::Role", "RoleId") => r.derived_id("AROA"),
        ("AWS::IAM::ManagedPolicy", REF | "PolicyArn") => r.iam_arn("policy"),
        ("AWS::IAM::ManagedPolicy", "PolicyId") => r.derived_id("ANPA"),
        ("AWS::S3::Bucket", "Arn") => format!("arn:{}:s3:::{name}", r.inputs.partition()),
        ("AWS::CodeCommit::Repository", REF) => uuid(&[r.inputs.stack_name.as_str(), r.logical_id]),
        ("AWS::CodeCommit::Repository", "Arn") => r.arn("codecommit", name),
        ("AWS::CodeBuild::Project", "Arn") => r.arn("codebuild", &format!("project/{name}")),
        ("AWS::Events::Rule", "Arn") => r.arn("events", &format!("rule/{name}")),
        ("AWS::SNS::Topic", REF | "TopicArn") => r.arn("sns", name),
        ("AWS::CodeStarNotifications::NotificationRule", REF | "Arn") => {
            let id = token(&[r.inputs.stack_name.as_str(), r.logical_id], HEX, 40);
            r.arn("codestar-notifications", &format!("notificationrule/{id}"))
        }
        // SageMaker writes names in ARNs in lower case.
        ("AWS::SageMaker::Model", REF) => {
            r.arn("sagemaker", &format!("model/{}", name.to_lowercase()))
        }
        ("AWS::SageMaker::EndpointConfig", REF) => r.arn(
            "sagemaker",
            &format!("endpoint-config/{}", name.to_lowercase()),
        ),
        ("AWS::SageMaker::Endpoint", REF) => {
            r.arn("sagemaker", &format!("endpoint/{}", name.to_lowercase()))
        }
        ("AWS::CloudWatch::Alarm", "Arn") => r.arn("cloudwatch", &format!("alarm:{name}")),
        ("AWS::ApplicationAutoScaling::ScalableTarget", REF | "Id") => {
            let part = |property: &str| r.properties.get(property).map(String::as_str);
            let parts = [
                part("ResourceId")?,
                part("ScalableDimension")?,
                part("ServiceNamespace")?,
            ];
            parts.join("|")
        }
        // Hosts.
        ("AWS::S3::Bucket", "DomainName") => format!("{name}.s3.{}", r.inputs.url_suffix()),
        ("AWS::S3::Bucket", "RegionalDomainName") => format!("{name}.{}", r.host("s3")),
        ("AWS::S3::Bucket", "DualStackDomainName") => format!("{name}.{}", r.host("s3.dualstack")),
        ("AWS::S3::Bucket", "WebsiteURL") => format!("http://{name}.{}", r.host("s3-website")),
        ("AWS::CodeCommit::Repository", "CloneUrlHttp") => {
            format!("https://{}/v1/repos/{name}", r.host("git-codecommit"))
        }
        ("AWS::CodeCommit::Repository", "CloneUrlSsh") => {
            format!("ssh://{}/v1/repos/{name}", r.host("git-codecommit"))
        }
        _ => return None,
    })
}

/// What the built-in rules know of one resource: its name (given or generated) and the other
/// properties its type's rules read.
struct Identity<'a> {
    inputs: &'a StackInputs,
    logical_id: &'a str,
    name: String,
    properties: BTreeMap<&'a str, String>,
}

impl Identity<'_> {
    /// `arn:<partition>:<service>:<region>:<account>:<resource>`.
    fn arn(&self, service: &str, resource: &str) -> String {
        let (partition, region, account) = (
            self.inputs.partition(),
            &self.inputs.region,
            &self.inputs.account_id,
        );
        format!("arn:{partition}:{service}:{region}:{account}:{resource}")
    }

    /// An IAM ARN: no Region, and the resource's `Path` (`/` by default) before its name.
    fn iam_arn(&self, kind: &str) -> String {
        let path = self.properties.get("Path").map_or("/", String::as_str);
        let (partition, account) = (self.inputs.partition(), &self.inputs.account_id);
        format!("arn:{partition}:iam::{account}:{kind}{path}{}", self.name)
    }

    /// An id AWS assigns: `prefix` and 17 characters derived from the stack and logical id.
    fn derived_id(&self, prefix: &str) -> String {
        let characters = token(
            &[self.inputs.stack_name.as_str(), self.logical_id, prefix],
            UPPER_ALNUM,
            17,
        );
        format!("{prefix}{characters}")
    }

    /// `<service>.<region>.<url suffix>`.
    fn host(&self, service: &str) -> String {
        format!(
            "{service}.{}.{}",
            self.inputs.region,
            self.inputs.url_suffix()
        )
    }
}

/// `<StackName>-<LogicalId>-<12 characters>`, the characters derived from both names.
fn generated_name(inputs: &StackInputs, logical_id: &str) -> String {
    let suffix = token(&[inputs.stack_name.as_str(), logical_id], UPPER_ALNUM, 12);
    format!("{}-{logical_id}-{suffix}", inputs.stack_name)
}

// ---- Derived ids and encodings -------------------------------------------------------------

const UPPER_ALNUM: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const HEX: &[u8] = b"0123456789abcdef";

/// `len` characters of `alphabet` derived from `parts` (FNV-1a, 8 characters per hash): the same
/// parts always give the same token.
fn token(parts: &[&str], alphabet: &[u8], len: usize) -> String {
    let base = alphabet.len() as u64;
    let mut state = 0;
    let mut out = String::with_capacity(len);
    for position in 0..len {
        if position % 8 == 0 {
            let round = position.to_string();
            let round = round.as_str();
            let bytes = parts
                .iter()
                .chain([&round])
                .flat_map(|part| part.bytes().chain([0]));
            state = bytes.fold(0xcbf2_9ce4_8422_2325, |hash: u64, byte| {
                (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3)
            });
        }
        out.push(char::from(alphabet[(state % base) as usize]));
        state /= base;
    }
    out
}

/// A UUID-shaped id derived from `parts`.
fn uuid(parts: &[&str]) -> String {
    let hex = token(parts, HEX, 32);
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// Standard base64 with padding, as `Fn::Base64` encodes.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let byte = |index: usize| u32::from(chunk.get(index).copied().unwrap_or(0));
        let triple = (byte(0) << 16) | (byte(1) << 8) | byte(2);
        for position in 0..4 {
            let sextet = (triple >> (18 - 6 * position)) & 0x3f;
            out.push(if position <= chunk.len() {
                char::from(ALPHABET[sextet as usize])
            } else {
                '='
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use serde_json::{json, Value as Json};
    use serde_yaml::Value as Yaml;

    use super::{base64, resolve, CfnError, ResolvedTemplate, StackInputs, REF};

    const ACCOUNT: &str = "123456789012";

    fn yaml(text: &str) -> Yaml {
        serde_yaml::from_str(text).unwrap()
    }

    fn inputs() -> StackInputs {
        StackInputs::new(ACCOUNT, "eu-west-1").stack_name("demo")
    }

    fn resolved(text: &str) -> ResolvedTemplate {
        resolve(&yaml(text), &inputs()).unwrap()
    }

    fn failure(text: &str, inputs: &StackInputs) -> CfnError {
        resolve(&yaml(text), inputs).unwrap_err()
    }

    /// The properties of resource `id`.
    fn properties(stack: &ResolvedTemplate, id: &str) -> Json {
        stack.resource(id).unwrap().properties.clone()
    }

    /// A template whose one resource `R` (a type without rules) has `properties`.
    fn with_properties(head: &str, properties: &str) -> String {
        let lines: Vec<String> = properties
            .lines()
            .map(|line| format!("      {line}"))
            .collect();
        let indented = lines.join("\n");
        format!("{head}\nResources:\n  R:\n    Type: Test::Thing\n    Properties:\n{indented}")
    }

    #[test]
    fn parameters_defaults_numbers_lists_and_pseudo_parameters() {
        let head = "Parameters:
  Name: {Type: String}
  Count: {Type: Number, Default: 3}
  Zones: {Type: CommaDelimitedList, Default: 'a, b,c'}
  Ids: {Type: 'List<AWS::EC2::Subnet::Id>'}";
        let text = with_properties(
            head,
            "Name: !Ref Name
Count: !Ref Count
Zones: !Ref Zones
Ids: !Ref Ids
Literal: 60
Flag: true
Pseudo: [!Ref AWS::AccountId, !Ref AWS::Region, !Ref AWS::Partition, !Ref AWS::StackName, !Ref AWS::URLSuffix]
StackId: !Ref AWS::StackId
Arns: !Ref AWS::NotificationARNs",
        );
        let inputs = inputs()
            .parameter("Name", "n")
            .parameter("Ids", "subnet-1,subnet-2");
        let stack = resolve(&yaml(&text), &inputs).unwrap();
        let p = properties(&stack, "R");
        assert_eq!(p["Name"], "n");
        assert_eq!(p["Count"], "3", "Number parameters arrive as strings");
        assert_eq!(p["Zones"], json!(["a", "b", "c"]));
        assert_eq!(p["Ids"], json!(["subnet-1", "subnet-2"]));
        assert_eq!(p["Literal"], 60);
        assert_eq!(p["Flag"], true);
        assert_eq!(
            p["Pseudo"],
            json!([ACCOUNT, "eu-west-1", "aws", "demo", "amazonaws.com"])
        );
        let stack_id = p["StackId"].as_str().unwrap();
        assert!(stack_id.starts_with(&format!(
            "arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/demo/"
        )));
        assert_eq!(p["Arns"], json!([]));

        let china = StackInputs::new(ACCOUNT, "cn-north-1")
            .parameter("Name", "n")
            .parameter("Ids", "s");
        let p = properties(&resolve(&yaml(&text), &china).unwrap(), "R");
        assert_eq!(p["Pseudo"][2], "aws-cn");
        assert_eq!(p["Pseudo"][4], "amazonaws.com.cn");
        let notified = inputs.notification_arns(&["arn:aws:sns:eu-west-1:1:t"]);
        let p = properties(&resolve(&yaml(&text), &notified).unwrap(), "R");
        assert_eq!(p["Arns"], json!(["arn:aws:sns:eu-west-1:1:t"]));
    }

    #[test]
    fn parameter_errors_name_the_parameter() {
        let text = "Parameters:
  Stage: {Type: String, AllowedValues: [staging, prod]}
  Name: {Type: String, MinLength: 2, MaxLength: 3, Default: abc}
  Count: {Type: Number, MinValue: 1, MaxValue: 5, Default: 1}
Resources: {}";
        assert_eq!(
            failure(text, &inputs()),
            CfnError::MissingParameter {
                path: "Parameters.Stage".to_owned()
            }
        );
        let stage = || inputs().parameter("Stage", "prod");
        for (name, value) in [
            ("Stage", "dev"),
            ("Name", "a"),
            ("Name", "abcd"),
            ("Count", "6"),
            ("Count", "x"),
        ] {
            let error = failure(text, &stage().parameter(name, value));
            assert!(
                matches!(&error, CfnError::InvalidParameter { path, .. } if *path == format!("Parameters.{name}")),
                "{name}={value}: {error}"
            );
        }
        let error = failure(text, &stage().parameter("Other", "x"));
        assert!(
            error.to_string().starts_with("Parameters.Other: "),
            "{error}"
        );
        assert!(resolve(&yaml(text), &stage()).is_ok());
    }

    #[test]
    fn conditions_nest_and_are_all_reported() {
        let text = "Parameters:
  Stage: {Type: String, Default: prod}
  Count: {Type: Number, Default: 2}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsStaging: {\"Fn::Equals\": [{\"Ref\": Stage}, staging]}
  NotProd: !Not [!Condition IsProd]
  ProdAndTwo: !And [!Condition IsProd, !Equals [!Ref Count, 2]]
  Either: {\"Fn::Or\": [{\"Condition\": IsStaging}, {\"Condition\": NotProd}]}
  Unused: !Equals [a, b]
  Lists: !Equals [!Split [',', 'a,b'], [a, b]]
Resources:
  Always:
    Type: Test::Thing
  OnlyStaging:
    Type: Test::Thing
    Condition: IsStaging
Outputs:
  ProdOnly:
    Condition: ProdAndTwo
    Value: yes
  StagingOnly:
    Condition: Either
    Value: no";
        let stack = resolved(text);
        let expected = [
            ("Either", false),
            ("IsProd", true),
            ("IsStaging", false),
            ("Lists", true),
            ("NotProd", false),
            ("ProdAndTwo", true),
            ("Unused", false),
        ];
        let expected: BTreeMap<String, bool> = expected
            .iter()
            .map(|(name, value)| ((*name).to_owned(), *value))
            .collect();
        assert_eq!(stack.conditions, expected);
        assert!(stack.resource("Always").is_some());
        assert!(stack.resource("OnlyStaging").is_none());
        assert_eq!(stack.resource("Always").unwrap().properties, json!({}));
        assert_eq!(stack.outputs.keys().collect::<Vec<_>>(), ["ProdOnly"]);
        assert_eq!(stack.outputs["ProdOnly"].value, "yes");
    }

    #[test]
    fn condition_cycles_and_unknown_conditions_are_errors() {
        let cycle = "Conditions:
  A: !Not [!Condition B]
  B: !And [!Equals [x, x], !Condition A]";
        let error = failure(cycle, &inputs());
        assert!(
            matches!(&error, CfnError::Cycle { chain, .. } if chain == "Condition A -> Condition B -> Condition A"),
            "{error}"
        );

        let unknown = with_properties("", "X: !If [Missing, a, b]");
        let error = failure(&unknown, &inputs());
        assert_eq!(
            error,
            CfnError::UnknownCondition {
                path: "Resources.R.Properties.X.Fn::If".to_owned(),
                name: "Missing".to_owned()
            }
        );
        let resource_in_condition = "Conditions:
  C: !Equals [!Ref Thing, x]
Resources:
  Thing: {Type: Test::Thing}";
        assert!(matches!(
            failure(resource_in_condition, &inputs()),
            CfnError::Malformed { .. }
        ));
    }

    #[test]
    fn fn_if_and_no_value_remove_list_items_and_properties() {
        let head = "Parameters:
  On: {Type: String, Default: 'true'}
Conditions:
  IsOn: !Equals [!Ref On, 'true']
  IsOff: !Not [!Condition IsOn]";
        let text = with_properties(
            head,
            "Kept: !If [IsOn, kept, !Ref AWS::NoValue]
Dropped: !If [IsOff, never, !Ref AWS::NoValue]
Bare: !Ref AWS::NoValue
LongForm: {\"Fn::If\": [IsOn, {\"Ref\": On}, other]}
Statement:
  - Sid: First
  - !If [IsOff, {Sid: Off}, !Ref AWS::NoValue]
  - !If
    - IsOn
    - Sid: On
      Condition: !If [IsOff, {Bool: {x: 'true'}}, !Ref AWS::NoValue]
    - !Ref AWS::NoValue
  - !Ref AWS::NoValue
Joined: !Join [',', [a, !If [IsOff, b, !Ref AWS::NoValue], c]]",
        );
        let p = properties(&resolved(&text), "R");
        assert_eq!(
            p,
            json!({
                "Kept": "kept",
                "LongForm": "true",
                "Statement": [{"Sid": "First"}, {"Sid": "On"}],
                "Joined": "a,c",
            })
        );
    }

    #[test]
    fn sub_substitutes_parameters_resources_attributes_and_literals() {
        let text = "Parameters:
  Project: {Type: String, Default: churn}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${Project}-role
  R:
    Type: Test::Thing
    Properties:
      Plain: !Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/${Project}:*
      Resource: !Sub '${Role} is ${Role.Arn}'
      Literal: !Sub '${!Literal} and ${!Project} stay, ${Project} goes'
      Variables: !Sub
        - ${Name}/${Bucket}/${AWS::Region}
        - Name: !Join ['-', [!Ref Project, x]]
          Bucket: fixed
      Long: {\"Fn::Sub\": [\"${A}${Project}\", {A: \"a-\"}]}";
        let p = properties(&resolved(text), "R");
        assert_eq!(
            p["Plain"],
            format!("arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/churn:*")
        );
        assert_eq!(
            p["Resource"],
            format!("churn-role is arn:aws:iam::{ACCOUNT}:role/churn-role")
        );
        assert_eq!(p["Literal"], "${Literal} and ${Project} stay, churn goes");
        assert_eq!(p["Variables"], "churn-x/fixed/eu-west-1");
        assert_eq!(p["Long"], "a-churn");

        for bad in [
            "!Sub '${Unclosed'",
            "!Sub '${Nothing}'",
            "!Sub '${AWS::NoValue}'",
        ] {
            let text = with_properties("", &format!("X: {bad}"));
            let error = failure(&text, &inputs());
            assert!(
                error
                    .to_string()
                    .starts_with("Resources.R.Properties.X.Fn::Sub: "),
                "{error}"
            );
        }
    }

    #[test]
    fn join_select_split_find_in_map_base64_and_get_azs() {
        let head = "Parameters:
  Env: {Type: String, Default: prod}
  Index: {Type: Number, Default: 1}
Mappings:
  Sizes:
    prod: {Instance: ml.m5.xlarge, Count: 2, Zones: [x, y]}";
        let text = with_properties(
            head,
            "Join: !Join ['', [a, 1, true]]
Select: !Select [!Ref Index, [zero, one]]
SelectAz: !Select ['0', !GetAZs '']
Split: !Split ['|', 'a|b||c']
Nested: !Join ['/', !Split [',', 'x,y']]
Map: !FindInMap [Sizes, !Ref Env, Instance]
MapNumber: {\"Fn::FindInMap\": [Sizes, prod, Count]}
MapList: !FindInMap [Sizes, prod, Zones]
Base64: {'Fn::Base64': !Sub '${Env}!'}
Azs: !GetAZs us-east-1",
        );
        let p = properties(&resolved(&text), "R");
        assert_eq!(p["Join"], "a1true");
        assert_eq!(p["Select"], "one");
        assert_eq!(p["SelectAz"], "eu-west-1a");
        assert_eq!(p["Split"], json!(["a", "b", "", "c"]));
        assert_eq!(p["Nested"], "x/y");
        assert_eq!(p["Map"], "ml.m5.xlarge");
        assert_eq!(p["MapNumber"], 2);
        assert_eq!(p["MapList"], json!(["x", "y"]));
        assert_eq!(p["Base64"], "cHJvZCE=");
        assert_eq!(p["Azs"], json!(["us-east-1a", "us-east-1b", "us-east-1c"]));
    }

    #[test]
    fn base64_pads() {
        let cases = [
            ("", ""),
            ("M", "TQ=="),
            ("Ma", "TWE="),
            ("Man", "TWFu"),
            ("hello world", "aGVsbG8gd29ybGQ="),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64(plain.as_bytes()), encoded);
        }
    }

    #[test]
    fn roles_have_names_arns_with_paths_and_stable_ids() {
        let text = "Resources:
  Named:
    Type: AWS::IAM::Role
    Properties:
      Path: /team/
      RoleName: builder
  Unnamed:
    Type: AWS::IAM::Role
  R:
    Type: Test::Thing
    Properties:
      Arn: !GetAtt Named.Arn
      ListForm: !GetAtt [Named, Arn]
      Name: !Ref Named
      Id: !GetAtt Named.RoleId
      Generated: !Ref Unnamed
      GeneratedArn: !GetAtt Unnamed.Arn";
        let stack = resolved(text);
        let p = properties(&stack, "R");
        let arn = format!("arn:aws:iam::{ACCOUNT}:role/team/builder");
        assert_eq!(p["Arn"], arn);
        assert_eq!(p["ListForm"], arn);
        assert_eq!(p["Name"], "builder");
        let id = p["Id"].as_str().unwrap();
        assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
        let generated = p["Generated"].as_str().unwrap();
        assert!(
            generated.starts_with("demo-Unnamed-") && generated.len() == 25,
            "{generated}"
        );
        assert_eq!(
            p["GeneratedArn"],
            format!("arn:aws:iam::{ACCOUNT}:role/{generated}")
        );
        assert_eq!(
            stack.resource("Named").unwrap().arn.as_deref(),
            Some(arn.as_str())
        );
        assert_eq!(
            stack.resource("Named").unwrap().physical_id,
            Some(json!("builder"))
        );
        assert_eq!(resolved(text), stack, "the same inputs give the same ids");
        assert_eq!(stack.of_type("AWS::IAM::Role").count(), 2);
    }

    #[test]
    fn built_in_identities_of_the_other_types() {
        let text = "Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Repo: {Type: AWS::CodeCommit::Repository, Properties: {RepositoryName: repo}}
  Build: {Type: AWS::CodeBuild::Project, Properties: {Name: build}}
  Pipe: {Type: AWS::CodePipeline::Pipeline, Properties: {Name: pipe}}
  Rule: {Type: AWS::Events::Rule, Properties: {Name: rule}}
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: topic}}
  Notify: {Type: AWS::CodeStarNotifications::NotificationRule, Properties: {Name: n}}
  Policy: {Type: AWS::IAM::ManagedPolicy, Properties: {ManagedPolicyName: p, Path: /x/}}
  Inline: {Type: AWS::IAM::Policy, Properties: {PolicyName: inline}}
  Model: {Type: AWS::SageMaker::Model, Properties: {ModelName: MyModel}}
  Config: {Type: AWS::SageMaker::EndpointConfig}
  Endpoint: {Type: AWS::SageMaker::Endpoint, Properties: {EndpointName: churn-prod}}
  Alarm: {Type: AWS::CloudWatch::Alarm, Properties: {AlarmName: alarm}}
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ResourceId: !Sub endpoint/${Endpoint.EndpointName}/variant/AllTraffic
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      ServiceNamespace: sagemaker";
        let stack = resolved(text);
        let arn = |id: &str| stack.resource(id).unwrap().arn.clone().unwrap();
        let physical = |id: &str| stack.resource(id).unwrap().physical_id.clone().unwrap();
        let bucket = physical("Bucket");
        let bucket = bucket.as_str().unwrap();
        assert!(
            bucket.starts_with("demo-bucket-") && bucket == bucket.to_lowercase(),
            "{bucket}"
        );
        assert_eq!(arn("Bucket"), format!("arn:aws:s3:::{bucket}"));
        assert_eq!(
            arn("Repo"),
            format!("arn:aws:codecommit:eu-west-1:{ACCOUNT}:repo")
        );
        assert_eq!(physical("Repo").as_str().unwrap().len(), 36, "a UUID");
        assert_eq!(
            arn("Build"),
            format!("arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/build")
        );
        assert_eq!(physical("Pipe"), "pipe");
        assert_eq!(
            arn("Rule"),
            format!("arn:aws:events:eu-west-1:{ACCOUNT}:rule/rule")
        );
        assert_eq!(
            physical("Topic"),
            format!("arn:aws:sns:eu-west-1:{ACCOUNT}:topic")
        );
        assert!(arn("Notify").starts_with(&format!(
            "arn:aws:codestar-notifications:eu-west-1:{ACCOUNT}:notificationrule/"
        )));
        assert_eq!(
            physical("Policy"),
            format!("arn:aws:iam::{ACCOUNT}:policy/x/p")
        );
        assert!(physical("Inline")
            .as_str()
            .unwrap()
            .starts_with("demo-Inline-"));
        assert_eq!(
            arn("Model"),
            format!("arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/mymodel")
        );
        assert!(arn("Config").starts_with(&format!(
            "arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint-config/demo-config-"
        )));
        assert_eq!(
            arn("Endpoint"),
            format!("arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/churn-prod")
        );
        assert_eq!(
            arn("Alarm"),
            format!("arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:alarm")
        );
        assert_eq!(
            physical("Target"),
            "endpoint/churn-prod/variant/AllTraffic|sagemaker:variant:DesiredInstanceCount|sagemaker"
        );

        let attributes = format!(
            "{text}
  R:
    Type: Test::Thing
    Properties:
      Clone: !GetAtt Repo.CloneUrlHttp
      Name: !GetAtt Model.ModelName
      Regional: !GetAtt Bucket.RegionalDomainName"
        );
        let p = properties(&resolved(&attributes), "R");
        assert_eq!(
            p["Clone"],
            "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/repo"
        );
        assert_eq!(p["Name"], "MyModel");
        assert_eq!(
            p["Regional"],
            format!("{bucket}.s3.eu-west-1.amazonaws.com")
        );
    }

    #[test]
    fn overrides_supply_and_replace_attributes() {
        let text = "Resources:
  Vpc: {Type: AWS::EC2::VPC}
  Role: {Type: AWS::IAM::Role, Properties: {RoleName: r}}
  R:
    Type: Test::Thing
    Properties:
      Vpc: !Ref Vpc
      Cidr: !GetAtt Vpc.CidrBlock
      Role: !GetAtt Role.Arn";
        let error = failure(text, &inputs());
        assert_eq!(
            error,
            CfnError::NoAttribute {
                path: "Resources.R.Properties.Vpc.Ref".to_owned(),
                logical_id: "Vpc".to_owned(),
                attribute: REF.to_owned(),
            }
        );
        let overridden = inputs()
            .attribute("Vpc", REF, "vpc-1")
            .attribute("Vpc", "CidrBlock", "10.0.0.0/16")
            .attribute("Role", "Arn", "arn:aws:iam::1:role/other");
        let stack = resolve(&yaml(text), &overridden).unwrap();
        let p = properties(&stack, "R");
        assert_eq!(
            p,
            json!({"Vpc": "vpc-1", "Cidr": "10.0.0.0/16", "Role": "arn:aws:iam::1:role/other"})
        );
        assert_eq!(
            stack.resource("Vpc").unwrap().physical_id,
            Some(json!("vpc-1"))
        );
        assert_eq!(stack.resource("Vpc").unwrap().arn, None);
    }

    #[test]
    fn references_to_absent_or_unknown_things_are_errors() {
        let conditional = "Conditions:
  Never: !Equals [a, b]
Resources:
  Role: {Type: AWS::IAM::Role, Condition: Never}
  R:
    Type: Test::Thing
    Properties:
      Policies:
        - !GetAtt Role.Arn";
        assert_eq!(
            failure(conditional, &inputs()),
            CfnError::ConditionalResource {
                path: "Resources.R.Properties.Policies[0].Fn::GetAtt".to_owned(),
                logical_id: "Role".to_owned()
            }
        );
        let unknown = with_properties("", "X: !Ref Nowhere");
        assert!(
            matches!(failure(&unknown, &inputs()), CfnError::UnknownName { name, .. } if name == "Nowhere")
        );
        let cycle = "Resources:
  A: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref B}}
  B: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref A}}";
        assert!(matches!(failure(cycle, &inputs()), CfnError::Cycle { .. }));
    }

    #[test]
    fn unsupported_and_malformed_input_fails_without_panicking() {
        let import = with_properties("", "X: !ImportValue shared");
        assert_eq!(
            failure(&import, &inputs()),
            CfnError::Unsupported {
                path: "Resources.R.Properties.X.Fn::ImportValue".to_owned(),
                feature: "Fn::ImportValue".to_owned()
            }
        );
        let bad_properties = [
            "X: !Cidr [a, 1, 2]",
            "X: !Select [5, [a]]",
            "X: !Select [x, [a]]",
            "X: !Join a",
            "X: !Join [',', a]",
            "X: !Join [',', [[a]]]",
            "X: !Split ['', a]",
            "X: !If [a, b]",
            "X: !GetAtt NoDot",
            "X: !FindInMap [M, a, b]",
            "X: !Equals [a, a]",
            "X: !Condition C",
            "X: !Ref [a]",
            "X: !Sub [a, b, c]",
            "X: !Base64 [a]",
        ];
        for properties in bad_properties {
            let error = failure(&with_properties("", properties), &inputs());
            assert!(
                error.to_string().starts_with("Resources.R.Properties.X"),
                "{properties}: {error}"
            );
        }
        for template in [
            "- a list",
            "Transform: AWS::Serverless-2016-10-31",
            "Resources: [a]",
            "Resources: {R: {Properties: {}}}",
            "Resources: {R: {Type: T, Properties: [a]}}",
            "Resources: {'Fn::ForEach::X': [a, [b], {}]}",
            "Conditions: {C: [a]}",
            "Outputs: {O: {Description: no value}}",
            "Parameters: {P: {Default: x}}",
        ] {
            assert!(resolve(&yaml(template), &inputs()).is_err(), "{template}");
        }
    }

    // ---- The repository's templates ----

    /// Values for the parameters the two templates declare, each matching its AllowedPattern.
    /// Those with a default are given only in the `optional` pass, to take the branches they guard.
    const REQUIRED: &[(&str, &str)] = &[
        ("SageMakerProjectName", "churn"),
        ("SageMakerProjectId", "p-abcdefghijkl"),
        ("Stage", "staging"),
        ("StageName", "staging"),
        ("DataScienceAccountId", "111111111111"),
        ("ModelArtifactBucketArn", "arn:aws:s3:::sagemaker-eu-west-1-111111111111"),
        ("ModelImageRepositoryArns", "arn:aws:ecr:eu-west-1:111111111111:repository/churn,arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-inference"),
        ("PermissionsBoundaryArn", "arn:aws:iam::111111111111:policy/sagemaker-deploy-steps-boundary"),
        ("OrganizationalUnitStagingId", "ou-ab12-stagingx"),
        ("OrganizationalUnitProdId", "ou-ab12-prodxxxx"),
    ];
    const OPTIONAL: &[(&str, &str)] = &[
        ("ModelArtifactKeyPrefix", "churn/"),
        ("ModelArtifactKmsKeyArn", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("DataCaptureBucketArn", "arn:aws:s3:::sagemaker-project-p-abcdefghijkl"),
        ("EndpointVolumeKmsKeyArn", "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
        ("DataCaptureKmsKeyArn", "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ac"),
        ("OrganizationId", "o-abcdefghij"),
        ("SeedBucket", "platform-seed-bucket"),
        ("SeedKey", "seed/seed.zip"),
        ("CodeConnectionArn", "arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab"),
        ("FullRepositoryId", "team/churn-deploy"),
    ];

    fn repository_template(name: &str) -> Yaml {
        let path = format!("{}/../templates/{name}", env!("CARGO_MANIFEST_DIR"));
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
        serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// The stack's inputs: `values` for the parameters the template declares, the first allowed
    /// value for any other parameter without a default (a new one without either fails here).
    fn stack_inputs(template: &Yaml, account: &str, values: &[(&str, &str)]) -> StackInputs {
        let mut inputs = StackInputs::new(account, "eu-west-1").stack_name("e2e");
        let declared = template["Parameters"]
            .as_mapping()
            .expect("a Parameters section");
        for (name, declaration) in declared {
            let name = name.as_str().unwrap();
            let given = values
                .iter()
                .rev()
                .find(|(n, _)| *n == name)
                .map(|(_, v)| (*v).to_owned());
            let first_allowed = || declaration["AllowedValues"][0].as_str().map(str::to_owned);
            let value = match given.or_else(first_allowed) {
                Some(value) => value,
                None if declaration.get("Default").is_some() => continue,
                None => panic!("give the new parameter {name} a value in REQUIRED"),
            };
            if let Some(pattern) = declaration.get("AllowedPattern").and_then(Yaml::as_str) {
                let pattern = regex_lite::Regex::new(&format!("^(?:{pattern})$")).unwrap();
                assert!(
                    pattern.is_match(&value),
                    "{name}={value} breaks its AllowedPattern"
                );
            }
            inputs = inputs.parameter(name, &value);
        }
        inputs
    }

    /// Every string of `value`, with where it is.
    fn strings<'a>(value: &'a Json, path: &str, out: &mut Vec<(String, &'a str)>) {
        match value {
            Json::String(text) => out.push((path.to_owned(), text)),
            Json::Array(items) => {
                for (index, item) in items.iter().enumerate() {
                    strings(item, &format!("{path}[{index}]"), out);
                }
            }
            Json::Object(object) => {
                for (key, item) in object {
                    assert!(
                        key != "Ref" && !key.starts_with("Fn::"),
                        "{path}.{key} is unresolved"
                    );
                    strings(item, &format!("{path}.{key}"), out);
                }
            }
            _ => {}
        }
    }

    /// The resolved facts that hold whatever the templates' authors change.
    fn check_resolved(stack: &ResolvedTemplate, account: &str) {
        let mut all = Vec::new();
        for resource in stack.resources.values() {
            strings(&resource.properties, &resource.logical_id, &mut all);
        }
        for (name, output) in &stack.outputs {
            strings(&output.value, name, &mut all);
        }
        for (path, text) in &all {
            assert!(
                !text.contains("${") && !text.contains("AWS::NoValue"),
                "{path}: {text}"
            );
            if text.starts_with("arn:") {
                assert!(text.starts_with("arn:aws:"), "{path}: {text}");
            }
        }
        let roles: Vec<_> = stack.of_type("AWS::IAM::Role").collect();
        assert!(!roles.is_empty());
        for role in &roles {
            let arn = role.arn.as_deref().unwrap();
            let path = role
                .properties
                .get("Path")
                .and_then(Json::as_str)
                .unwrap_or("/");
            let name = role.physical_id.as_ref().and_then(Json::as_str).unwrap();
            assert_eq!(arn, format!("arn:aws:iam::{account}:role{path}{name}"));
            if let Some(given) = role.properties.get("RoleName") {
                assert_eq!(given, name);
            }
        }
        let in_account = format!(":{account}:");
        let resources: Vec<_> = all
            .iter()
            .filter(|(path, text)| {
                path.contains("PolicyDocument.Statement")
                    && path.contains(".Resource")
                    && text.contains(&in_account)
            })
            .collect();
        assert!(
            !resources.is_empty(),
            "some policy statement names a resource of the account"
        );
        for output in stack.outputs.values() {
            if let Some(arn) = output
                .value
                .as_str()
                .filter(|v| v.starts_with("arn:aws:iam:"))
            {
                assert!(
                    roles.iter().any(|role| role.arn.as_deref() == Some(arn)),
                    "{arn}"
                );
            }
        }
    }

    /// Resolves `name` with the required values, then with the optional ones too, then with each
    /// allowed value of each parameter that has some, and checks every result.
    fn resolve_every_way(name: &str, account: &str) -> Vec<ResolvedTemplate> {
        let template = repository_template(name);
        let everything: Vec<_> = REQUIRED.iter().chain(OPTIONAL).copied().collect();
        let mut variants = vec![REQUIRED.to_vec(), everything.clone()];
        for (parameter, declaration) in template["Parameters"].as_mapping().unwrap() {
            for allowed in declaration["AllowedValues"]
                .as_sequence()
                .into_iter()
                .flatten()
            {
                let mut values = everything.clone();
                values.push((parameter.as_str().unwrap(), allowed.as_str().unwrap()));
                variants.push(values);
            }
        }
        variants
            .iter()
            .map(|values| {
                let inputs = stack_inputs(&template, account, values);
                let stack = resolve(&template, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
                check_resolved(&stack, account);
                stack
            })
            .collect()
    }

    #[test]
    fn the_target_account_template_resolves() {
        let account = "222222222222";
        let stacks = resolve_every_way("target-account-role.yml", account);
        let roles = |stack: &ResolvedTemplate| stack.of_type("AWS::IAM::Role").count();
        let counts: Vec<_> = stacks.iter().map(roles).collect();
        assert!(counts.iter().all(|count| *count >= 2), "{counts:?}");
    }

    #[test]
    fn the_product_template_resolves() {
        let account = "111111111111";
        let stacks = resolve_every_way("sagemaker-project.yml", account);
        let stack = &stacks[0];
        let role = stack.of_type("AWS::IAM::Role").next().unwrap();
        let boundary = role.properties.get("PermissionsBoundary");
        assert_eq!(boundary.and_then(Json::as_str), Some(REQUIRED[7].1));
        let bucket = stack.of_type("AWS::S3::Bucket").next().unwrap();
        let name = bucket.physical_id.as_ref().and_then(Json::as_str).unwrap();
        assert_eq!(
            bucket.arn.as_deref(),
            Some(format!("arn:aws:s3:::{name}").as_str())
        );
    }
}
