//! Hostile and broken input, data-driven from `tests/corpus/`: every bad input of `cases.json`
//! gets its exact exit code, the start of its message and no output; every hostile value
//! (`test_support::corpus::hostile_values`) is tried in every input slot and is either rejected
//! with a one-line message naming the input, or lands verbatim where it belongs in documents that
//! otherwise equal a run with plain values (no extra key, resource or parameter).

use std::collections::BTreeMap;

use deploy_core::stack_params::ParameterList;
use serde_json::Value as Json;
use serde_yaml::Value as Yaml;
use test_support::corpus::{self, assert_cases, check_outcome, hostile_values, NoExtra};
use test_support::seed::GroupSeed;
use test_support::{moto, CliOutput};

use crate::{group_with_one_approved, Workspace, INPUTS};

const TOOL: &str = "build-step";

#[tokio::test]
async fn every_corpus_case_gets_its_exit_code_and_message_and_writes_nothing() {
    let (group, _) = group_with_one_approved("hostile-corpus").await;
    let dir = corpus::dir(env!("CARGO_MANIFEST_DIR"));
    assert_cases(&corpus::cases::<NoExtra>(&dir), |case| {
        let ws = Workspace::new(&group.name);
        case.prepare(&dir, &ws.path);
        let before = ws.files();
        let out = ws.build_step().envs(case.env()).args(case.args()).run();
        let mut problems: Vec<String> = case.check(TOOL, &out).into_iter().collect();
        if ws.files() != before {
            problems.push(format!("left files behind: {:?}", ws.files()));
        }
        problems
    });
}

/// Where a slot puts its value.
#[derive(Clone, Copy)]
enum Input {
    /// An environment variable of the CodeBuild project.
    Env(&'static str),
    /// The value of a key in the staging config (replaced, or added after the seed's entries).
    StagingValue(&'static str),
    /// A key of its own in the staging config.
    StagingKey,
}

/// Exit 2 with a one-line message that starts and ends like this.
struct Rejection {
    start: &'static str,
    end: &'static str,
}

/// What a slot does with a hostile value.
enum Expect {
    Rejected(Rejection),
    /// Written: the value equals these parameters of the export files, and the documents are the
    /// plain run's with the marker replaced; values `unless` names are rejected instead.
    Accepted {
        parameters: &'static [(&'static str, &'static str)],
        unless: Option<Unless>,
    },
}

/// The values an accepted slot rejects after all: those that contain one of `contains`.
struct Unless {
    contains: &'static [char],
    rejection: Rejection,
}

struct Slot {
    input: Input,
    /// `{}` is replaced by the value (a hostile one, or the plain marker of this slot).
    format: &'static str,
    /// The plain value the baseline run uses; for an accepted slot, unique and found only where
    /// the slot puts it.
    marker: &'static str,
    expect: Expect,
}

const STAGING: &str = "staging-config-export.json";
const PROD: &str = "prod-config-export.json";

const SLOTS: &[Slot] = &[
    Slot {
        input: Input::Env("SAGEMAKER_PROJECT_NAME"),
        format: "{}",
        marker: "churn",
        expect: Expect::Rejected(Rejection {
            start: "build-step: error: SAGEMAKER_PROJECT_NAME (--sagemaker-project-name): the value for template parameter SageMakerProjectName ",
            end: " (expected 1 to 32 letters, digits and single hyphens, starting with a letter)",
        }),
    },
    Slot {
        input: Input::Env("SAGEMAKER_PROJECT_ID"),
        format: "{}",
        marker: "plainprojectid",
        expect: Expect::Accepted {
            parameters: &[(STAGING, "SageMakerProjectId"), (PROD, "SageMakerProjectId")],
            unless: None,
        },
    },
    Slot {
        input: Input::Env("ARTIFACT_BUCKET"),
        format: "{}",
        marker: "plainbucket",
        expect: Expect::Accepted {
            parameters: &[(STAGING, "ArtifactBucket"), (PROD, "ArtifactBucket")],
            unless: None,
        },
    },
    Slot {
        input: Input::Env("SAGEMAKER_EXECUTION_ROLE_STAGING_NAME"),
        format: "{}",
        marker: "plainrolestaging",
        expect: Expect::Accepted {
            parameters: &[(STAGING, "RoleName")],
            unless: None,
        },
    },
    Slot {
        input: Input::StagingValue("StageName"),
        format: "{}",
        marker: "staging",
        expect: Expect::Rejected(Rejection {
            start: "build-step: error: staging-config.json (--import-staging-config): StageName ",
            end: " (expected letters, digits and single hyphens, starting and ending with a letter or digit)",
        }),
    },
    Slot {
        input: Input::StagingValue("EndpointInstanceType"),
        format: "ml.m5.{}",
        marker: "ml.m5.large",
        expect: Expect::Rejected(Rejection {
            start: "build-step: error: staging-config.json (--import-staging-config): EndpointInstanceType ",
            end: " (expected a SageMaker instance type such as ml.m5.large)",
        }),
    },
    Slot {
        input: Input::StagingValue("DataCaptureDestination"),
        format: "s3://capture-bucket/{}",
        marker: "s3://capture-bucket/plaindestination",
        expect: Expect::Accepted {
            parameters: &[(STAGING, "DataCaptureDestination")],
            // The AllowedPattern's `(/.*)?` stops at a line terminator, as CloudFormation's Java
            // pattern does: a line feed, a carriage return, NEL, LS or PS.
            unless: Some(Unless {
                contains: &['\n', '\r', '\u{85}', '\u{2028}', '\u{2029}'],
                rejection: Rejection {
                    start: "build-step: error: staging-config.json (--import-staging-config): DataCaptureDestination ",
                    end: " (expected empty, or an S3 URI such as s3://my-bucket/prefix)",
                },
            }),
        },
    },
    Slot {
        input: Input::StagingKey,
        format: "{}",
        marker: "",
        expect: Expect::Rejected(Rejection {
            start: "build-step: error: staging-config.json (--import-staging-config): unknown ParameterKey \"",
            end: ", BlueGreenRollbackErrorThreshold",
        }),
    },
];

impl Slot {
    fn name(&self) -> String {
        match self.input {
            Input::Env(var) => var.to_owned(),
            Input::StagingValue(key) => format!("staging-config.json {key}"),
            Input::StagingKey => "a staging-config.json ParameterKey".to_owned(),
        }
    }

    fn value(&self, value: &str) -> String {
        self.format.replace("{}", value)
    }
}

/// The staging config every slot run starts from: the seed's, plus a capture destination.
fn staging_entries() -> Vec<(String, String)> {
    [
        ("StageName", "staging"),
        ("EndpointInstanceCount", "1"),
        ("EndpointInstanceType", "ml.m5.large"),
        (
            "DataCaptureDestination",
            "s3://capture-bucket/plaindestination",
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// Runs build-step in a fresh workspace with every slot plain except `slot`, which gets `value`.
fn run_with(group: &str, slot: Option<(&Slot, &str)>) -> (Workspace, CliOutput) {
    let ws = Workspace::new(group);
    let mut staging = staging_entries();
    let mut env: Vec<(&str, String)> = SLOTS
        .iter()
        .filter_map(|s| match s.input {
            Input::Env(var) => Some((var, s.marker.to_owned())),
            _ => None,
        })
        .collect();
    if let Some((slot, value)) = slot {
        let value = slot.value(value);
        match slot.input {
            Input::Env(var) => {
                env.retain(|(v, _)| *v != var);
                env.push((var, value));
            }
            Input::StagingValue(key) => match staging.iter_mut().find(|(k, _)| k == key) {
                Some(entry) => entry.1 = value,
                None => staging.push((key.to_owned(), value)),
            },
            Input::StagingKey => staging.push((value, "1".to_owned())),
        }
    }
    let mut list = ParameterList::default();
    for (key, value) in &staging {
        list.push(key, value.as_str()).unwrap();
    }
    ws.write("staging-config.json", list.to_json());
    let out = ws
        .build_step()
        .envs(env.iter().map(|(k, v)| (*k, v.as_str())))
        .run();
    (ws, out)
}

/// The three outputs, parsed: the template with serde_yaml, the parameter files as JSON (each
/// checked to read back through the product's own parser and to write out byte for byte the same).
struct Outputs {
    template: Yaml,
    parameters: BTreeMap<&'static str, Json>,
}

impl Outputs {
    fn read(ws: &Workspace) -> Self {
        let text = ws.read("template-export.yml");
        let template = serde_yaml::from_str(&text)
            .unwrap_or_else(|e| panic!("template-export.yml is not YAML ({e}):\n{text}"));
        let parameters = [STAGING, PROD]
            .into_iter()
            .map(|file| {
                let text = ws.read(file);
                let list = ParameterList::parse(&text).unwrap_or_else(|e| panic!("{file}: {e}"));
                assert_eq!(list.to_json(), text, "{file} does not round-trip");
                (file, serde_json::from_str(&text).unwrap())
            })
            .collect();
        Self {
            template,
            parameters,
        }
    }

    fn parameter(&self, file: &str, key: &str) -> Option<&str> {
        self.parameters[file]
            .as_array()?
            .iter()
            .find(|p| p["ParameterKey"] == key)?["ParameterValue"]
            .as_str()
    }

    /// These outputs with every `from` in a string (keys included) replaced by `to`.
    fn replaced(&self, replacements: &[(&str, &str)]) -> Self {
        let fix = |text: &str| {
            replacements
                .iter()
                .fold(text.to_owned(), |text, (from, to)| text.replace(from, to))
        };
        Self {
            template: map_yaml(&self.template, &fix),
            parameters: self
                .parameters
                .iter()
                .map(|(file, json)| (*file, map_json(json, &fix)))
                .collect(),
        }
    }
}

fn map_yaml(value: &Yaml, fix: &dyn Fn(&str) -> String) -> Yaml {
    match value {
        Yaml::String(s) => Yaml::String(fix(s)),
        Yaml::Sequence(items) => Yaml::Sequence(items.iter().map(|v| map_yaml(v, fix)).collect()),
        Yaml::Mapping(map) => Yaml::Mapping(
            map.iter()
                .map(|(k, v)| (map_yaml(k, fix), map_yaml(v, fix)))
                .collect(),
        ),
        Yaml::Tagged(tagged) => Yaml::Tagged(Box::new(serde_yaml::value::TaggedValue {
            tag: tagged.tag.clone(),
            value: map_yaml(&tagged.value, fix),
        })),
        other => other.clone(),
    }
}

fn map_json(value: &Json, fix: &dyn Fn(&str) -> String) -> Json {
    match value {
        Json::String(s) => Json::String(fix(s)),
        Json::Array(items) => Json::Array(items.iter().map(|v| map_json(v, fix)).collect()),
        Json::Object(map) => Json::Object(
            map.iter()
                .map(|(k, v)| (fix(k), map_json(v, fix)))
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Every hostile value in every slot: rejected with a one-line message naming the input, or
/// written verbatim where the slot belongs, with documents otherwise equal to the plain run's.
#[tokio::test]
async fn hostile_values_in_every_slot_are_rejected_or_land_verbatim() {
    let (group, _) = group_with_one_approved("hostile-slots").await;
    let (ws, out) = run_with(&group.name, None);
    out.code(0);
    let baseline = Outputs::read(&ws);
    let mut failures = Vec::new();
    for slot in SLOTS {
        if let Expect::Accepted { parameters, .. } = &slot.expect {
            for (file, key) in *parameters {
                assert_eq!(
                    baseline.parameter(file, key),
                    Some(slot.marker),
                    "{file} {key}"
                );
            }
        }
        for (name, hostile) in hostile_values() {
            let value = slot.value(&hostile);
            let (ws, out) = run_with(&group.name, Some((slot, &hostile)));
            let rejected_with = match &slot.expect {
                Expect::Rejected(rejection) => Some(rejection),
                Expect::Accepted {
                    unless: Some(unless),
                    ..
                } if value.contains(unless.contains) => Some(&unless.rejection),
                Expect::Accepted { .. } => None,
            };
            let label = format!("{} = {name} ({value:?})", slot.name());
            if let Some(Rejection { start, end }) = rejected_with {
                let problem = check_outcome(TOOL, &out, 2, start).or_else(|| {
                    (!out.stderr.trim_end().ends_with(end))
                        .then(|| format!("the message does not end with {end:?}:\n{}", out.stderr))
                });
                if let Some(problem) = problem {
                    failures.push(format!("{label}: {problem}"));
                }
                if ws.files() != INPUTS {
                    failures.push(format!("{label}: left files behind: {:?}", ws.files()));
                }
            } else {
                if out.code != Some(0) {
                    failures.push(format!(
                        "{label}: exit {:?}, expected 0:\n{}",
                        out.code, out.stderr
                    ));
                    continue;
                }
                let Expect::Accepted { parameters, .. } = &slot.expect else {
                    unreachable!()
                };
                let outputs = Outputs::read(&ws);
                for (file, key) in *parameters {
                    if outputs.parameter(file, key) != Some(value.as_str()) {
                        failures.push(format!("{label}: {file} {key} is not the value"));
                    }
                }
                let expected = baseline.replaced(&[(slot.marker, &value)]);
                if outputs.template != expected.template {
                    failures.push(format!(
                        "{label}: the template differs from the plain run's:\n{}",
                        ws.read("template-export.yml")
                    ));
                }
                if outputs.parameters != expected.parameters {
                    failures.push(format!(
                        "{label}: the parameter files differ from the plain run's with the value in place:\n{}\n{}",
                        ws.read(STAGING),
                        ws.read(PROD)
                    ));
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// The model package group name is the one input the template renders (Description and
/// Metadata), so it is where an escaping bug would show: each hostile group must come out
/// verbatim in those scalars and nowhere else.
#[tokio::test]
async fn a_hostile_group_name_is_rendered_as_data() {
    let plain = GroupSeed::create(moto(), "hostile-group plaingroup").await;
    let plain_arn = plain
        .add_package(Some(
            aws_sdk_sagemaker::types::ModelApprovalStatus::Approved,
        ))
        .await;
    let ws = Workspace::new(&plain.name);
    ws.build_step().run().code(0);
    let baseline = Outputs::read(&ws);
    assert_eq!(
        baseline.template["Metadata"]["BuildStep"]["ModelPackageGroupName"],
        Yaml::from(plain.name.as_str())
    );
    let mut failures = Vec::new();
    for (name, hostile) in hostile_values() {
        let group_name = format!("hostile-group {hostile}");
        let group = GroupSeed::create(moto(), &group_name).await;
        let arn = group
            .add_package(Some(
                aws_sdk_sagemaker::types::ModelApprovalStatus::Approved,
            ))
            .await;
        let ws = Workspace::new(&group_name);
        let out = ws.build_step().run();
        if out.code != Some(0) {
            failures.push(format!(
                "{name}: exit {:?}, expected 0:\n{}",
                out.code, out.stderr
            ));
            continue;
        }
        let text = ws.read("template-export.yml");
        let doc: Yaml = match serde_yaml::from_str(&text) {
            Ok(doc) => doc,
            Err(err) => {
                failures.push(format!("{name}: the template is not YAML ({err}):\n{text}"));
                continue;
            }
        };
        let outputs = Outputs::read(&ws);
        let metadata = &doc["Metadata"]["BuildStep"];
        if metadata["ModelPackageGroupName"] != *group_name || metadata["ModelPackageArn"] != *arn {
            failures.push(format!(
                "{name}: the metadata is not the group and ARN:\n{text}"
            ));
        }
        let expected = baseline.replaced(&[(&plain_arn, &arn), (&plain.name, &group_name)]);
        if outputs.template != expected.template || outputs.parameters != expected.parameters {
            failures.push(format!(
                "{name}: the outputs differ from the plain run's with the group in place:\n{text}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}
