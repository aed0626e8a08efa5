//! The product template as published: the repository's `templates/sagemaker-project.yml` with the
//! `SeedBucket` and `SeedKey` defaults pointing at the uploaded seed zip. The two scalars are
//! located by the YAML parser and replaced in place by serialized strings, so comments and layout
//! stay as they are; the result is parsed again and must equal the original in every other value,
//! so a template whose layout the edit does not understand is refused, never half-edited.

use yaml_rust2::parser::{Event, MarkedEventReceiver, Parser};
use yaml_rust2::scanner::{Marker, TScalarStyle};

/// The parameters the edit sets, in the order they are replaced.
pub(crate) const SEED_PARAMETERS: [&str; 2] = ["SeedBucket", "SeedKey"];

/// Why the template could not be edited.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateEditError {
    #[error("the product template is not valid YAML ({0}); fix templates/sagemaker-project.yml")]
    Parse(String),
    #[error("the product template has no one-line Default for Parameters.{0}; give the parameter a Default (\"\" is enough) so publish can set it")]
    MissingDefault(&'static str),
    #[error("the edited product template differs from the original in more than the seed defaults; this is a bug in the edit, publish nothing and report it")]
    Unverified,
}

/// The template with `SeedBucket` defaulting to `bucket` and `SeedKey` to `key`.
pub(crate) fn with_seed(
    template: &str,
    bucket: &str,
    key: &str,
) -> Result<String, TemplateEditError> {
    let values = [bucket, key];
    let mut spans = Vec::new();
    for name in SEED_PARAMETERS {
        spans.push(default_span(template, name)?);
    }
    // Replace from the end, so earlier spans keep their offsets.
    let mut order: Vec<usize> = (0..spans.len()).collect();
    order.sort_by_key(|&i| std::cmp::Reverse(spans[i].0));
    let mut edited = template.to_owned();
    for i in order {
        let (start, end) = spans[i];
        let quoted = serde_json::to_string(values[i]).expect("a string serializes");
        edited.replace_range(start..end, &quoted);
    }
    verify(template, &edited, &values)?;
    Ok(edited)
}

/// Byte range of the scalar `Parameters.<name>.Default`.
fn default_span(template: &str, name: &'static str) -> Result<(usize, usize), TemplateEditError> {
    let mut finder = Finder {
        path: ["Parameters", name, "Default"],
        stack: Vec::new(),
        found: None,
    };
    Parser::new_from_str(template)
        .load(&mut finder, false)
        .map_err(|e| TemplateEditError::Parse(e.to_string()))?;
    let (mark, style) = finder
        .found
        .ok_or(TemplateEditError::MissingDefault(name))?;
    let start = template
        .char_indices()
        .nth(mark.index())
        .map_or(template.len(), |(byte, _)| byte);
    let end =
        scalar_end(&template[start..], style).ok_or(TemplateEditError::MissingDefault(name))?;
    Ok((start, start + end))
}

/// Length in bytes of the one-line scalar that `text` starts with, or None when it spans lines.
fn scalar_end(text: &str, style: TScalarStyle) -> Option<usize> {
    let line = text.split('\n').next().unwrap_or_default();
    match style {
        TScalarStyle::DoubleQuoted => {
            let mut escaped = false;
            for (i, c) in line.char_indices().skip(1) {
                match c {
                    '\\' if !escaped => escaped = true,
                    '"' if !escaped => return Some(i + 1),
                    _ => escaped = false,
                }
            }
            None
        }
        TScalarStyle::SingleQuoted => {
            let bytes = line.as_bytes();
            let mut i = 1;
            while i < bytes.len() {
                if bytes[i] == b'\'' {
                    if bytes.get(i + 1) == Some(&b'\'') {
                        i += 2;
                        continue;
                    }
                    return Some(i + 1);
                }
                i += 1;
            }
            None
        }
        TScalarStyle::Plain => {
            let value = line.split(" #").next().unwrap_or_default().trim_end();
            (!value.is_empty()).then_some(value.len())
        }
        _ => None,
    }
}

/// Walks the parser's events keeping the path of mapping keys, and notes where the scalar at
/// `path` starts.
struct Finder {
    path: [&'static str; 3],
    stack: Vec<Frame>,
    found: Option<(Marker, TScalarStyle)>,
}

enum Frame {
    /// A mapping: the key whose value comes next, if a key has been read.
    Mapping(Option<String>),
    Sequence,
}

impl Finder {
    /// Whether the node being read sits at `path`.
    fn at_path(&self) -> bool {
        self.stack.len() == self.path.len()
            && self
                .stack
                .iter()
                .zip(self.path)
                .all(|(frame, key)| matches!(frame, Frame::Mapping(Some(k)) if k == key))
    }

    /// A value (scalar, mapping or sequence) was read: the enclosing mapping expects a key again.
    fn value_done(&mut self) {
        if let Some(Frame::Mapping(key)) = self.stack.last_mut() {
            *key = None;
        }
    }
}

impl MarkedEventReceiver for Finder {
    fn on_event(&mut self, event: Event, mark: Marker) {
        match event {
            Event::Scalar(value, style, ..) => {
                if let Some(Frame::Mapping(key @ None)) = self.stack.last_mut() {
                    *key = Some(value);
                    return;
                }
                if self.at_path() && self.found.is_none() {
                    self.found = Some((mark, style));
                }
                self.value_done();
            }
            Event::MappingStart(..) => self.stack.push(Frame::Mapping(None)),
            Event::SequenceStart(..) => self.stack.push(Frame::Sequence),
            Event::MappingEnd | Event::SequenceEnd => {
                self.stack.pop();
                self.value_done();
            }
            Event::Alias(_) => self.value_done(),
            _ => {}
        }
    }
}

/// The edited template must be the original with exactly the two defaults changed.
fn verify(original: &str, edited: &str, values: &[&str; 2]) -> Result<(), TemplateEditError> {
    let parse = |text: &str| -> Result<serde_yaml::Value, TemplateEditError> {
        serde_yaml::from_str(text).map_err(|e| TemplateEditError::Parse(e.to_string()))
    };
    let mut expected = parse(original)?;
    for (name, value) in SEED_PARAMETERS.iter().zip(values) {
        let default = expected
            .get_mut("Parameters")
            .and_then(|p| p.get_mut(*name))
            .and_then(|p| p.get_mut("Default"))
            .ok_or(TemplateEditError::MissingDefault(name))?;
        *default = serde_yaml::Value::String((*value).to_owned());
    }
    if parse(edited)? == expected {
        Ok(())
    } else {
        Err(TemplateEditError::Unverified)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEMPLATE: &str = r#"# A comment that stays.
Parameters:
  SeedBucket:
    Type: String
    Default: ""  # set by publish
    AllowedPattern: ^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$
  SeedKey:
    Type: String
    Default: 'old ''key'''
  Other:
    Default: SeedKey
Resources:
  Repo:
    Type: AWS::CodeCommit::Repository
    Properties:
      Code: !If [UseSeed, {S3: {Bucket: !Ref SeedBucket, Key: !Ref SeedKey}}, !Ref AWS::NoValue]
"#;

    #[test]
    fn only_the_two_defaults_change_and_comments_stay() {
        let edited = with_seed(TEMPLATE, "platform-bucket", "seed/0.2.0/seed.zip").unwrap();
        let expected = TEMPLATE
            .replace(
                r#"Default: ""  # set"#,
                r#"Default: "platform-bucket"  # set"#,
            )
            .replace(
                "Default: 'old ''key'''",
                r#"Default: "seed/0.2.0/seed.zip""#,
            );
        assert_eq!(edited, expected);
    }

    #[test]
    fn values_are_serialized_not_pasted() {
        let hostile = "a\"b: c\n# d\\";
        let edited = with_seed(TEMPLATE, "bucket", hostile).unwrap();
        let parsed: serde_yaml::Value = serde_yaml::from_str(&edited).unwrap();
        assert_eq!(
            parsed["Parameters"]["SeedKey"]["Default"].as_str(),
            Some(hostile)
        );
        assert_eq!(
            parsed["Parameters"]["Other"]["Default"].as_str(),
            Some("SeedKey")
        );
    }

    #[test]
    fn a_template_without_the_defaults_or_not_yaml_is_refused() {
        let without = TEMPLATE.replace("    Default: 'old ''key'''\n", "");
        assert_eq!(
            with_seed(&without, "b", "k"),
            Err(TemplateEditError::MissingDefault("SeedKey"))
        );
        let folded = TEMPLATE.replace("Default: 'old ''key'''", "Default: >-\n      folded");
        assert_eq!(
            with_seed(&folded, "b", "k"),
            Err(TemplateEditError::MissingDefault("SeedKey"))
        );
        assert!(matches!(
            with_seed("Parameters: [unclosed", "b", "k"),
            Err(TemplateEditError::Parse(_))
        ));
    }

    #[test]
    fn the_shipped_product_template_takes_the_edit() {
        let path = crate::repo_root().join("templates/sagemaker-project.yml");
        let template = std::fs::read_to_string(path).unwrap();
        let edited = with_seed(&template, "b", "k").unwrap();
        assert_eq!(edited.lines().count(), template.lines().count());
    }
}
