//! Rendering the endpoint template, and reading back what it declares. Tera renders it with
//! autoescape on for every output and a YAML escape function (a JSON string serializer: JSON
//! strings are valid YAML double-quoted scalars), so no value can break out of its scalar even in
//! a custom `--template` that forgets a filter. The rendered YAML's `Parameters` section is then
//! the single source of truth for what a stage config may set and what each value must look like.

use std::path::Path;

use serde::Serialize;
use tera::{Context, Tera};
use yaml_rust2::{Yaml, YamlLoader};

use crate::error::BuildError;
use crate::registry::ModelPackage;

const BUILT_IN_NAME: &str = "templates/endpoint.yml.tera";
const BUILT_IN: &str = include_str!("../../templates/endpoint.yml.tera");
/// Largest template the CodePipeline StackSet action accepts.
pub const MAX_TEMPLATE_BYTES: usize = 460_800;

/// A compiled endpoint template.
pub struct Template {
    source_name: String,
    tera: Tera,
}

/// What the template sees: `package`, `project` and `generator`, all strings.
#[derive(Debug, Serialize)]
pub struct RenderContext<'a> {
    pub package: PackageContext<'a>,
    pub project: ProjectContext<'a>,
    pub generator: String,
}

#[derive(Debug, Serialize)]
pub struct PackageContext<'a> {
    pub arn: &'a str,
    pub group: &'a str,
    /// The version number, or `unversioned`.
    pub version: String,
    pub approval_status: &'a str,
}

impl<'a> PackageContext<'a> {
    pub fn new(package: &'a ModelPackage) -> Self {
        Self {
            arn: &package.arn,
            group: &package.group,
            version: package
                .version
                .map_or_else(|| "unversioned".to_owned(), |v| v.to_string()),
            approval_status: &package.approval_status,
        }
    }
}

#[derive(Debug, Serialize)]
pub struct ProjectContext<'a> {
    pub name: &'a str,
    pub id: &'a str,
}

/// One entry of the rendered template's `Parameters` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct DeclaredParameter {
    pub name: String,
    pub kind: String,
    pub default: Option<String>,
    pub allowed_values: Vec<String>,
    pub allowed_pattern: Option<String>,
    pub min_length: Option<usize>,
    pub max_length: Option<usize>,
    pub min_value: Option<f64>,
    pub max_value: Option<f64>,
    pub constraint_description: Option<String>,
}

impl Template {
    /// The built-in template, or the file given with `--template`.
    pub fn load(custom: Option<&Path>) -> Result<Self, BuildError> {
        match custom {
            None => Self::compile(BUILT_IN_NAME, BUILT_IN),
            Some(path) => {
                let name = path.display().to_string();
                let source = std::fs::read_to_string(path).map_err(|err| BuildError::Template {
                    source_name: format!("{name} (--template)"),
                    message: format!(
                        "cannot be read ({err}); pass the path of a tera template file"
                    ),
                })?;
                Self::compile(&name, &source)
            }
        }
    }

    fn compile(source_name: &str, source: &str) -> Result<Self, BuildError> {
        let mut tera = Tera::default();
        tera.autoescape_on(vec![""]);
        tera.set_escape_fn(yaml_quote);
        tera.add_raw_template(source_name, source)
            .map_err(|err| BuildError::Template {
                source_name: source_name.to_owned(),
                message: format!("is not a valid tera template: {}", tera_error_chain(&err)),
            })?;
        Ok(Self {
            source_name: source_name.to_owned(),
            tera,
        })
    }

    pub fn source_name(&self) -> &str {
        &self.source_name
    }

    /// Renders the template and checks the result is a CloudFormation-sized YAML document.
    pub fn render(&self, context: &RenderContext<'_>) -> Result<String, BuildError> {
        let fail = |message: String| BuildError::Template {
            source_name: self.source_name.clone(),
            message,
        };
        let context = Context::from_serialize(context).map_err(|e| fail(tera_error_chain(&e)))?;
        let rendered = self
            .tera
            .render(&self.source_name, &context)
            .map_err(|e| fail(format!("failed to render: {}", tera_error_chain(&e))))?;
        if rendered.len() > MAX_TEMPLATE_BYTES {
            return Err(fail(format!(
                "renders to {} bytes, over the {MAX_TEMPLATE_BYTES}-byte limit of the CodePipeline StackSet action",
                rendered.len()
            )));
        }
        Ok(rendered)
    }

    /// The `Parameters` the rendered template declares, in template order.
    pub fn declared_parameters(
        &self,
        rendered: &str,
    ) -> Result<Vec<DeclaredParameter>, BuildError> {
        let fail = |message: String| BuildError::Template {
            source_name: self.source_name.clone(),
            message,
        };
        let docs = YamlLoader::load_from_str(rendered)
            .map_err(|e| fail(format!("does not render to valid YAML: {e}")))?;
        let Some(Yaml::Hash(parameters)) = docs.first().map(|doc| &doc["Parameters"]) else {
            return Err(fail("renders a document with no Parameters section".into()));
        };
        parameters
            .iter()
            .map(|(name, spec)| {
                let name = scalar(name)
                    .ok_or_else(|| fail("has a parameter whose name is not a string".into()))?;
                Ok(DeclaredParameter {
                    kind: scalar(&spec["Type"]).unwrap_or_else(|| "String".into()),
                    default: scalar(&spec["Default"]),
                    allowed_values: spec["AllowedValues"]
                        .as_vec()
                        .map(|v| v.iter().filter_map(scalar).collect())
                        .unwrap_or_default(),
                    allowed_pattern: scalar(&spec["AllowedPattern"]),
                    min_length: scalar(&spec["MinLength"]).and_then(|v| v.parse().ok()),
                    max_length: scalar(&spec["MaxLength"]).and_then(|v| v.parse().ok()),
                    min_value: scalar(&spec["MinValue"]).and_then(|v| v.parse().ok()),
                    max_value: scalar(&spec["MaxValue"]).and_then(|v| v.parse().ok()),
                    constraint_description: scalar(&spec["ConstraintDescription"]),
                    name,
                })
            })
            .collect()
    }
}

/// Tera's escape function: every `{{ value }}` becomes a YAML double-quoted scalar.
fn yaml_quote(text: &str) -> String {
    serde_json::to_string(text).expect("a string always serializes")
}

fn scalar(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn tera_error_chain(err: &tera::Error) -> String {
    let mut message = err.to_string();
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

#[cfg(test)]
mod tests {
    use super::*;

    fn package() -> ModelPackage {
        ModelPackage {
            arn: "arn:aws:sagemaker:us-east-1:123456789012:model-package/g/3".into(),
            group: "g".into(),
            version: Some(3),
            approval_status: "Approved".into(),
            created: None,
            last_modified: None,
            realtime_instance_types: vec![],
        }
    }

    #[test]
    fn values_cannot_break_out_of_their_scalar() {
        let template = Template::compile(
            "t",
            "Description: {{ project.name }}\nOther: {{ project.id }}\n",
        )
        .unwrap();
        let hostile = "x\nResources: {}\n\"quoted\" !Sub ${AWS::Region} {{ y }} {% if %}";
        let rendered = template
            .render(&RenderContext {
                package: PackageContext::new(&package()),
                project: ProjectContext {
                    name: hostile,
                    id: "i",
                },
                generator: "g".into(),
            })
            .unwrap();
        let doc = &YamlLoader::load_from_str(&rendered).unwrap()[0];
        assert_eq!(doc["Description"].as_str(), Some(hostile));
        assert_eq!(doc["Other"].as_str(), Some("i"));
        assert!(doc["Resources"].is_badvalue());
    }

    #[test]
    fn reads_declared_parameters_with_their_constraints() {
        let template = Template::load(None).unwrap();
        let rendered = template
            .render(&RenderContext {
                package: PackageContext::new(&package()),
                project: ProjectContext { name: "p", id: "i" },
                generator: "g".into(),
            })
            .unwrap();
        let declared = template.declared_parameters(&rendered).unwrap();
        let count = declared
            .iter()
            .find(|p| p.name == "EndpointInstanceCount")
            .unwrap();
        assert_eq!(count.kind, "Number");
        assert_eq!(
            (count.default.as_deref(), count.min_value),
            (Some("1"), Some(1.0))
        );
        let project = declared
            .iter()
            .find(|p| p.name == "SageMakerProjectName")
            .unwrap();
        assert_eq!(
            project.max_length,
            Some(32),
            "B6: the project name cap is 32, not 15"
        );
        assert_eq!(declared.first().unwrap().name, "SageMakerProjectName");
    }

    #[test]
    fn a_broken_template_is_a_template_error() {
        let err = Template::compile("bad.tera", "{% if %}").err().unwrap();
        assert!(
            err.to_string()
                .starts_with("template bad.tera: is not a valid tera template"),
            "{err}"
        );
    }
}
