//! Rendering the endpoint template, and reading back what it declares. minijinja renders it with
//! a formatter that writes every `{{ value }}` as a JSON string (a valid YAML double-quoted
//! scalar), so no value can break out of its scalar even in a custom `--template` that forgets a
//! filter. The formatter ignores `safe` and `{% autoescape %}`: a template cannot paste raw text.
//! The rendered YAML's `Parameters` section is then the single source of truth for what a stage
//! config may set and what each value must look like.

use std::borrow::Cow;
use std::path::{Path, PathBuf};

use minijinja::value::Value;
use minijinja::{context, Environment, UndefinedBehavior};
use thiserror::Error;
use yaml_rust2::Yaml;

use crate::bounded_yaml;
use crate::input_file::{self, ReadError};
use crate::inputs;
use crate::model_package::ModelPackage;

/// Where the built-in template lives in this repository and in the seed.
pub const BUILT_IN_PATH: &str = "templates/endpoint.yml.j2";
const BUILT_IN: &str = include_str!("../../templates/endpoint.yml.j2");
/// The built-in template's extension before it was named for the engine that renders it; a
/// repository seeded then still passes its `--template` under the former `.tera` name.
const FORMER_EXTENSION: &str = "tera";
const EXTENSION: &str = "j2";
/// Largest template the CodePipeline StackSet action accepts.
pub const MAX_TEMPLATE_BYTES: usize = 460_800;
/// Largest custom template source read: twice what it may render to leaves room for Jinja.
pub const MAX_TEMPLATE_SOURCE_BYTES: u64 = 2 * MAX_TEMPLATE_BYTES as u64;
/// The work a render may do, in minijinja's instructions: the built-in template takes a few
/// thousand; a custom one that loops over loops runs out instead of hanging the build.
pub const RENDER_FUEL: u64 = 1_000_000;

/// A template that cannot be read, compiled or rendered, or renders to an unusable document.
#[derive(Debug, Error)]
#[error("template {source_name}: {message}")]
pub struct TemplateError {
    pub source_name: String,
    pub message: String,
}

/// A compiled endpoint template.
pub struct Template {
    source_name: String,
    /// The file it was read from (None for the built-in one), after the extension fallback.
    path: Option<PathBuf>,
    env: Environment<'static>,
}

/// What the template sees: `package`, `project` and `generator`, all strings, and `stage`, what
/// the stage it is rendered for needs from it.
#[derive(Debug)]
pub struct RenderContext<'a> {
    pub package: PackageContext<'a>,
    pub project: ProjectContext<'a>,
    pub generator: String,
    pub stage: StageContext,
}

/// The one thing a stage's template differs in: CloudFormation resolves an SSM-typed parameter
/// in every stack of the template, so the network parameters are SSM-typed only in the template
/// of a stage that puts its model in a VPC (a default naming a public parameter would fail in
/// Regions that lack it).
#[derive(Debug, Clone, Copy, Default)]
pub struct StageContext {
    /// `stage.in_vpc`: the stage's config names the SSM parameters of its subnets and groups.
    pub in_vpc: bool,
}

#[derive(Debug)]
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

#[derive(Debug, Clone, Copy)]
pub struct ProjectContext<'a> {
    pub name: &'a str,
    pub id: &'a str,
}

impl RenderContext<'_> {
    fn to_value(&self) -> Value {
        let (package, project) = (&self.package, &self.project);
        context! {
            package => context! {
                arn => package.arn,
                group => package.group,
                version => package.version.as_str(),
                approval_status => package.approval_status,
            },
            project => context! { name => project.name, id => project.id },
            generator => self.generator.as_str(),
            stage => context! { in_vpc => self.stage.in_vpc },
        }
    }
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
    pub fn load(custom: Option<&Path>) -> Result<Self, TemplateError> {
        let Some(path) = custom else {
            return Self::compile(BUILT_IN_PATH, BUILT_IN, None);
        };
        let path = with_current_name(path);
        let name = path.display().to_string();
        let fail = |message: String| TemplateError {
            source_name: format!("{name} ({})", inputs::TEMPLATE),
            message,
        };
        let source = match input_file::read(&path, MAX_TEMPLATE_SOURCE_BYTES) {
            Ok(bytes) => String::from_utf8(bytes)
                .map_err(|_| fail("is not UTF-8 text; save the template as UTF-8".into()))?,
            Err(ReadError::TooBig { .. }) => {
                return Err(fail(format!(
                    "is over {MAX_TEMPLATE_SOURCE_BYTES} bytes; a template CodePipeline deploys renders to at most {MAX_TEMPLATE_BYTES}"
                )))
            }
            Err(err) => {
                return Err(fail(format!(
                    "cannot be read ({err}); pass the path of a template file"
                )))
            }
        };
        Self::compile(&name, source, Some(path))
    }

    /// The file the template was read from, as resolved: the outputs must not overwrite it.
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    fn compile(
        source_name: &str,
        source: impl Into<Cow<'static, str>>,
        path: Option<PathBuf>,
    ) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        // The rendered document ends as the template does (a YAML file ends with a newline); an
        // undefined value is an error when printed or looked into, so a typo in a custom template
        // fails the build, but false in an `if`, so optional sections can test for a value.
        env.set_syntax(
            minijinja::syntax::SyntaxConfig::builder()
                .keep_trailing_newline(true)
                .build()
                .expect("invariant: the default delimiters are valid"),
        );
        env.set_undefined_behavior(UndefinedBehavior::SemiStrict);
        env.set_fuel(Some(RENDER_FUEL));
        env.set_formatter(|out, _state, value| {
            let quoted = match value.as_str() {
                Some(text) => yaml_quote(text),
                None => yaml_quote(&value.to_string()),
            };
            out.write_str(&quoted).map_err(minijinja::Error::from)
        });
        env.add_template_owned(source_name.to_owned(), source)
            .map_err(|err| TemplateError {
                source_name: source_name.to_owned(),
                message: format!("is not a valid template: {}", error_chain(&err)),
            })?;
        Ok(Self {
            source_name: source_name.to_owned(),
            path,
            env,
        })
    }

    /// Renders the template and checks the result is a CloudFormation-sized YAML document.
    pub fn render(&self, context: &RenderContext<'_>) -> Result<String, TemplateError> {
        let fail = |message: String| TemplateError {
            source_name: self.source_name.clone(),
            message,
        };
        let mut output = Bounded::default();
        let rendered = self
            .env
            .get_template(&self.source_name)
            .and_then(|template| template.render_captured_to(context.to_value(), &mut output));
        match rendered {
            // The output is bounded while it is written, not after: a template cannot fill the
            // memory before the size is checked.
            Err(_) if output.overflowed => Err(fail(format!(
                "renders to more than {MAX_TEMPLATE_BYTES} bytes, the limit of the CodePipeline StackSet action"
            ))),
            Err(e) if e.kind() == minijinja::ErrorKind::OutOfFuel => Err(fail(format!(
                "takes more than the {RENDER_FUEL} steps a render may take (a loop inside a loop?); simplify it"
            ))),
            Err(e) => Err(fail(format!("failed to render: {}", error_chain(&e)))),
            Ok(_) => String::from_utf8(output.bytes)
                .map_err(|_| fail("renders to text that is not UTF-8".into())),
        }
    }

    /// The `Parameters` the rendered template declares, in template order.
    pub fn declared_parameters(
        &self,
        rendered: &str,
    ) -> Result<Vec<DeclaredParameter>, TemplateError> {
        let fail = |message: String| TemplateError {
            source_name: self.source_name.clone(),
            message,
        };
        let docs =
            bounded_yaml::load(rendered).map_err(|e| fail(format!("renders to YAML that {e}")))?;
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

/// A render's output, refused past [`MAX_TEMPLATE_BYTES`].
#[derive(Default)]
struct Bounded {
    bytes: Vec<u8>,
    overflowed: bool,
}

impl std::io::Write for Bounded {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.bytes.len() + buf.len() > MAX_TEMPLATE_BYTES {
            self.overflowed = true;
            return Err(std::io::Error::other("the rendered template is too large"));
        }
        self.bytes.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// `path`, or the same file under the built-in template's current extension when `path` names
/// one that is missing under the former extension (or the other way round): a repository seeded
/// before the rename keeps working whichever of the two its buildspec and checkout have.
fn with_current_name(path: &Path) -> PathBuf {
    let swapped = match path.extension().and_then(|e| e.to_str()) {
        Some(FORMER_EXTENSION) => path.with_extension(EXTENSION),
        Some(EXTENSION) => path.with_extension(FORMER_EXTENSION),
        _ => return path.to_owned(),
    };
    if !path.exists() && swapped.is_file() {
        swapped
    } else {
        path.to_owned()
    }
}

/// What every `{{ value }}` becomes: a YAML double-quoted scalar. A JSON string is one, except
/// that JSON leaves DEL, the C1 controls, LS, PS, the byte order mark and U+FFFE/U+FFFF raw: YAML
/// 1.1 parsers (CloudFormation's among them) read NEL, LS and PS as line breaks and reject the
/// others, so those get a `\uXXXX` escape, which JSON and YAML read alike.
fn yaml_quote(text: &str) -> String {
    let json = serde_json::to_string(text).expect("invariant: a string always serializes");
    let raw = |c: char| {
        matches!(
            c,
            '\u{7f}'..='\u{9f}' | '\u{2028}' | '\u{2029}' | '\u{feff}' | '\u{fffe}' | '\u{ffff}'
        )
    };
    let mut quoted = String::with_capacity(json.len());
    for c in json.chars() {
        if raw(c) {
            quoted.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            quoted.push(c);
        }
    }
    quoted
}

fn scalar(node: &Yaml) -> Option<String> {
    match node {
        Yaml::String(s) | Yaml::Real(s) => Some(s.clone()),
        Yaml::Integer(i) => Some(i.to_string()),
        Yaml::Boolean(b) => Some(b.to_string()),
        _ => None,
    }
}

fn error_chain(err: &minijinja::Error) -> String {
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
            version: Some(3),
            ..ModelPackage::placeholder("g")
        }
    }

    #[test]
    fn values_cannot_break_out_of_their_scalar() {
        let template = Template::compile(
            "t",
            "Description: {{ project.name }}\nOther: {{ project.id }}\n",
            None,
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
                stage: StageContext::default(),
            })
            .unwrap();
        let doc = &bounded_yaml::load(&rendered).unwrap()[0];
        assert_eq!(doc["Description"].as_str(), Some(hostile));
        assert_eq!(doc["Other"].as_str(), Some("i"));
        assert!(doc["Resources"].is_badvalue());
    }

    fn render(source: &'static str) -> Result<String, TemplateError> {
        Template::compile("t", source, None)?.render(&RenderContext {
            package: PackageContext::new(&package()),
            project: ProjectContext {
                name: "p\"",
                id: "i",
            },
            generator: "g".into(),
            stage: StageContext::default(),
        })
    }

    #[test]
    fn characters_yaml_reads_as_breaks_or_rejects_are_escaped() {
        let value = "a\u{85}b\u{2028}c\u{2029}d\u{7f}\u{1}\u{9f}\u{feff}\u{ffff}\t\"é";
        let quoted = yaml_quote(value);
        assert_eq!(
            quoted,
            r#""a\u0085b\u2028c\u2029d\u007f\u0001\u009f\ufeff\uffff\t\"é""#
        );
        let doc = &bounded_yaml::load(&format!("k: {quoted}")).unwrap()[0];
        assert_eq!(doc["k"].as_str(), Some(value));
        assert_eq!(serde_json::from_str::<String>(&quoted).unwrap(), value);
    }

    #[test]
    fn neither_safe_nor_autoescape_blocks_paste_raw_text() {
        assert_eq!(
            render("{{ project.name | safe }} {% autoescape false %}{{ project.name }}{% endautoescape %} {{ 3 }}\n")
                .unwrap(),
            "\"p\\\"\" \"p\\\"\" \"3\"\n",
            "and the trailing newline stays"
        );
    }

    #[test]
    fn undefined_values_fail_to_render_but_are_false_in_if() {
        for source in ["{{ nope }}", "{{ project.nope }}", "{{ nope.x }}"] {
            let err = render(source).unwrap_err().to_string();
            assert!(
                err.starts_with("template t: failed to render: undefined value"),
                "{source}: {err}"
            );
        }
        assert_eq!(
            render("{% if project.nope %}x{% else %}{{ package.version }}{% endif %}").unwrap(),
            "\"3\""
        );
    }

    #[test]
    fn reads_declared_parameters_with_their_constraints() {
        let template = Template::load(None).unwrap();
        let rendered = template
            .render(&RenderContext {
                package: PackageContext::new(&package()),
                project: ProjectContext { name: "p", id: "i" },
                generator: "g".into(),
                stage: StageContext::default(),
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
        let err = Template::compile("bad.j2", "{% if %}", None).err().unwrap();
        assert!(
            err.to_string()
                .starts_with("template bad.j2: is not a valid template: syntax error"),
            "{err}"
        );
    }

    #[test]
    fn a_template_named_by_either_extension_is_found() {
        let dir = tempfile::tempdir().unwrap();
        let current = dir.path().join("endpoint.yml.j2");
        std::fs::write(&current, "Parameters: {}\n").unwrap();
        let former = dir.path().join("endpoint.yml.tera");
        assert_eq!(with_current_name(&former), current);
        std::fs::rename(&current, &former).unwrap();
        assert_eq!(with_current_name(&current), former);
        assert_eq!(
            with_current_name(&former),
            former,
            "an existing path is kept"
        );
        let other = dir.path().join("missing.yml");
        assert_eq!(with_current_name(&other), other);
        assert!(Template::load(Some(&current)).is_ok());
    }

    #[test]
    fn a_custom_template_cannot_loop_or_grow_without_end() {
        let looping = render(
            "{% for a in project.name %}{% for b in project.name %}{% for c in project.name %}{% for d in project.name %}{% for e in project.name %}{% for f in project.name %}{% for g in project.name %}{% for h in project.name %}{% for i in project.name %}{% for j in project.name %}{% for k in project.name %}{% for l in project.name %}{% for m in project.name %}{% for n in project.name %}{% for o in project.name %}{% for p in project.name %}{% for q in project.name %}{% for r in project.name %}{% for s in project.name %}{% for t in project.name %}x{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}{% endfor %}",
        );
        assert!(
            looping
                .unwrap_err()
                .to_string()
                .contains("takes more than the 1000000 steps"),
            "2^20 iterations run out of fuel"
        );
        let big = "x".repeat(MAX_TEMPLATE_BYTES / 2 + 1);
        let source: &'static str =
            Box::leak(format!("{big}{{{{ project.id }}}}{big}").into_boxed_str());
        let grown = render(source).unwrap_err().to_string();
        assert!(
            grown.ends_with(
                "renders to more than 460800 bytes, the limit of the CodePipeline StackSet action"
            ),
            "{grown}"
        );
    }

    #[test]
    fn the_built_in_template_needs_a_fraction_of_the_fuel() {
        let template = Template::load(None).unwrap();
        let captured = template
            .env
            .get_template(BUILT_IN_PATH)
            .unwrap()
            .render_captured(
                RenderContext {
                    package: PackageContext::new(&package()),
                    project: ProjectContext { name: "p", id: "i" },
                    generator: "g".into(),
                    stage: StageContext::default(),
                }
                .to_value(),
            )
            .unwrap();
        let (consumed, _) = captured.state().fuel_levels().unwrap();
        assert!(consumed < RENDER_FUEL / 20, "{consumed} steps");
    }
}
