//! Whether a stage needs its StackSet deployed, decided from what build-step would deploy and
//! what the stage's StackSet already runs. The pipeline starts on every "SageMaker Model Package
//! State Change" event of an Approved or Rejected package, and SageMaker sends one for any update
//! of a package (a description, metadata, a lifecycle stage), so a run often finds the StackSets
//! already running exactly this release; the build then says so, and the buildspec exports it
//! (`DEPLOY_STAGING`, `DEPLOY_PROD`).
//!
//! A stage needs no deploy only when all of these hold; the first that does not is the reason:
//!
//! 1. the StackSet exists and every read of it succeeded (a read that failed or was denied means
//!    a deploy, never a blocked one);
//! 2. its parameters are the parameter file's, key by key; a key on one side only counts as equal
//!    when its value is the (new) template's default for it, the value CloudFormation uses for a
//!    parameter not given;
//! 3. its template body is the rendered template: the same bytes, or, when the bytes differ, the
//!    same YAML value (so a body handed back with other line endings, quoting or comments is the
//!    same template), read with the bounded reader the template check uses;
//! 4. it has a stack instance in every target account and Region, and none elsewhere (the
//!    targets are the accounts build-step resolved for the stage, in both permission models, and
//!    the pipeline's Region); with no accounts resolved the targets cannot be compared;
//! 5. its last operation SUCCEEDED;
//! 6. every stack instance is CURRENT.
//!
//! The reads and what they return are the binary's; this module takes a plain model of them.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use crate::bounded_yaml;
use crate::build_plan::Stage;
use crate::stack_params::ParameterList;
use crate::template::DeclaredParameter;

/// The environment variable the decision env file sets for each stage.
pub const ENV_NAMES: PerStage<&str> = PerStage {
    staging: "DEPLOY_STAGING",
    prod: "DEPLOY_PROD",
};

/// How many instances a reason names before it only counts them.
const NAMED_INSTANCES: usize = 3;

/// One value for each stage, serialized as `{"staging": ..., "prod": ...}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct PerStage<T> {
    pub staging: T,
    pub prod: T,
}

impl<T> PerStage<T> {
    /// The value of each stage, computed in deployment order.
    pub fn from_fn(mut value: impl FnMut(Stage) -> T) -> Self {
        let staging = value(Stage::Staging);
        let prod = value(Stage::Prod);
        Self { staging, prod }
    }

    pub fn get(&self, stage: Stage) -> &T {
        match stage {
            Stage::Staging => &self.staging,
            Stage::Prod => &self.prod,
        }
    }

    pub fn map<U>(&self, mut f: impl FnMut(&T) -> U) -> PerStage<U> {
        PerStage {
            staging: f(&self.staging),
            prod: f(&self.prod),
        }
    }
}

/// What the stage would deploy.
#[derive(Debug, Clone, Copy)]
pub struct Wanted<'a> {
    /// The rendered template, as written to the stage's template file.
    pub template: &'a str,
    /// The parameters that template declares (for their defaults).
    pub declared: &'a [DeclaredParameter],
    /// The parameter file's entries.
    pub parameters: &'a ParameterList,
    /// The target accounts, when build-step resolved them (an accounts file for the stage).
    pub accounts: Option<&'a BTreeSet<String>>,
    /// The target Regions: the pipeline's own.
    pub regions: &'a [String],
}

/// What the reads found of the stage's StackSet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deployed {
    /// StackSetNotFoundException: a first release.
    NoStackSet,
    /// A read failed; the text says which and how (`cloudformation:ListStackInstances failed
    /// with AccessDenied`).
    Unread(String),
    Found(StackSetState),
}

/// A StackSet as DescribeStackSet, ListStackInstances and ListStackSetOperations show it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StackSetState {
    /// `ACTIVE` or `DELETED`.
    pub status: Option<String>,
    pub template_body: Option<String>,
    /// `(key, value)` in the order AWS listed them.
    pub parameters: Vec<(String, String)>,
    pub instances: Vec<InstanceState>,
    /// The newest operation, when there is one.
    pub last_operation: Option<OperationState>,
}

/// One stack instance (ListStackInstances' summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstanceState {
    pub account: String,
    pub region: String,
    /// `CURRENT`, `OUTDATED` or `INOPERABLE`.
    pub status: String,
    /// `StackInstanceStatus.DetailedStatus`: `SUCCEEDED`, `FAILED`, `CANCELLED`, ...
    pub detailed_status: Option<String>,
}

/// One StackSet operation (ListStackSetOperations' summary).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OperationState {
    /// `CREATE`, `UPDATE`, `DELETE` or `DETECT_DRIFT`.
    pub action: String,
    /// `SUCCEEDED`, `FAILED`, `STOPPED`, `RUNNING`, `QUEUED` or `STOPPING`.
    pub status: String,
}

/// Whether the stage needs a deploy, and why, in one line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Decision {
    pub needed: bool,
    pub reason: String,
}

impl Decision {
    fn needed(reason: impl Into<String>) -> Self {
        Self {
            needed: true,
            reason: reason.into(),
        }
    }
}

/// The reason given when nothing differs.
pub const UP_TO_DATE: &str = "the StackSet already runs this template with these parameters in every target account and Region, its last operation SUCCEEDED and every stack instance is CURRENT";

/// Decides one stage (see the module doc for the order of the checks).
pub fn decide(wanted: &Wanted<'_>, deployed: &Deployed) -> Decision {
    let state = match deployed {
        Deployed::NoStackSet => return Decision::needed("no StackSet yet"),
        Deployed::Unread(why) => return Decision::needed(format!("could not check: {why}")),
        Deployed::Found(state) => state,
    };
    if let Some(status) = state.status.as_deref().filter(|s| *s != "ACTIVE") {
        return Decision::needed(format!("the StackSet is {status}"));
    }
    let checks = [
        parameter_difference(wanted, &state.parameters),
        template_difference(wanted.template, state.template_body.as_deref()),
        target_difference(wanted, &state.instances),
        operation_difference(state.last_operation.as_ref()),
        instance_difference(&state.instances),
    ];
    match checks.into_iter().flatten().next() {
        Some(reason) => Decision::needed(reason),
        None => Decision {
            needed: false,
            reason: UP_TO_DATE.to_owned(),
        },
    }
}

/// The first parameter whose deployed value differs, in the file's order, then the StackSet's.
fn parameter_difference(wanted: &Wanted<'_>, deployed: &[(String, String)]) -> Option<String> {
    let default = |key: &str| {
        wanted
            .declared
            .iter()
            .find(|p| p.name == key)
            .and_then(|p| p.default.as_deref())
    };
    let deployed_map: BTreeMap<&str, &str> = deployed
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    for entry in wanted.parameters.iter() {
        let (key, now) = (entry.parameter_key.as_str(), entry.parameter_value.as_str());
        match deployed_map.get(key) {
            Some(before) if *before == now => {}
            Some(before) => return Some(format!("parameter {key}: deployed {before}, now {now}")),
            None if default(key) == Some(now) => {}
            None => return Some(format!("parameter {key}: not deployed, now {now}")),
        }
    }
    deployed.iter().find_map(|(key, before)| {
        if wanted.parameters.get(key).is_some() {
            return None;
        }
        match default(key) {
            Some(now) if now == before => None,
            Some(now) => Some(format!(
                "parameter {key}: deployed {before}, now its default {now}"
            )),
            None => Some(format!(
                "parameter {key}: deployed {before}, now not declared"
            )),
        }
    })
}

/// Whether the deployed body is the rendered template (module doc, point 3).
fn template_difference(wanted: &str, deployed: Option<&str>) -> Option<String> {
    let Some(deployed) = deployed else {
        return Some("the StackSet shows no template body".to_owned());
    };
    if deployed == wanted {
        return None;
    }
    match (bounded_yaml::load(deployed), bounded_yaml::load(wanted)) {
        (Ok(before), Ok(now)) if before == now => None,
        _ => {
            let line = wanted
                .lines()
                .zip(deployed.lines())
                .position(|(now, before)| now != before)
                .unwrap_or_else(|| wanted.lines().count().min(deployed.lines().count()));
            Some(format!(
                "the template differs from the deployed one from line {}",
                line + 1
            ))
        }
    }
}

/// A target without its instance, or an instance outside the targets.
fn target_difference(wanted: &Wanted<'_>, instances: &[InstanceState]) -> Option<String> {
    let Some(accounts) = wanted.accounts else {
        return Some(
            "the stage's target accounts are not known (no accounts file asked for), so they cannot be compared with the stack instances"
                .to_owned(),
        );
    };
    let deployed: BTreeSet<(&str, &str)> = instances
        .iter()
        .map(|i| (i.account.as_str(), i.region.as_str()))
        .collect();
    let deployed_regions: BTreeSet<&str> = deployed.iter().map(|(_, region)| *region).collect();
    if let Some(region) = wanted
        .regions
        .iter()
        .find(|r| !deployed_regions.contains(r.as_str()))
    {
        if !deployed.is_empty() {
            return Some(format!("Region {region} has no stack instance"));
        }
    }
    for account in accounts {
        for region in wanted.regions {
            if !deployed.contains(&(account.as_str(), region.as_str())) {
                return Some(format!(
                    "account {account} has no stack instance in {region}"
                ));
            }
        }
    }
    deployed
        .iter()
        .find(|(account, region)| {
            !accounts.contains(*account) || !wanted.regions.iter().any(|r| r == region)
        })
        .map(|(account, region)| {
            format!("account {account} has a stack instance in {region} but is not a target there")
        })
}

/// Anything but a SUCCEEDED last operation.
fn operation_difference(last: Option<&OperationState>) -> Option<String> {
    let Some(last) = last else {
        return Some("the StackSet has no operation yet".to_owned());
    };
    let action = &last.action;
    match last.status.as_str() {
        "SUCCEEDED" => None,
        "RUNNING" | "QUEUED" | "STOPPING" => Some(format!(
            "the last operation ({action}) is still {}",
            last.status
        )),
        status => Some(format!("the last operation ({action}) {status}")),
    }
}

/// Instances that are not CURRENT, by status: `2 stack instances are OUTDATED (...)`.
fn instance_difference(instances: &[InstanceState]) -> Option<String> {
    let mut by_status: BTreeMap<&str, Vec<&InstanceState>> = BTreeMap::new();
    for instance in instances.iter().filter(|i| i.status != "CURRENT") {
        by_status
            .entry(instance.status.as_str())
            .or_default()
            .push(instance);
    }
    let parts: Vec<String> = by_status
        .iter()
        .map(|(status, stale)| {
            let verb = if stale.len() == 1 {
                "stack instance is"
            } else {
                "stack instances are"
            };
            let mut named: Vec<String> = stale
                .iter()
                .take(NAMED_INSTANCES)
                .map(|i| match &i.detailed_status {
                    Some(detail) => format!("{} {}: {detail}", i.account, i.region),
                    None => format!("{} {}", i.account, i.region),
                })
                .collect();
            if stale.len() > NAMED_INSTANCES {
                named.push(format!("{} more", stale.len() - NAMED_INSTANCES));
            }
            format!("{} {verb} {status} ({})", stale.len(), named.join(", "))
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join("; "))
}

/// The decision env file: `DEPLOY_STAGING=true` and `DEPLOY_PROD=false`, one a line, which a
/// POSIX shell can source (the values are only ever `true` or `false`).
pub fn env_file(decisions: &PerStage<Decision>) -> String {
    let staging = (ENV_NAMES.staging, decisions.staging.needed);
    let prod = (ENV_NAMES.prod, decisions.prod.needed);
    format!("{}={}\n{}={}\n", staging.0, staging.1, prod.0, prod.1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack_params::tests::params;

    const TEMPLATE: &str = "Parameters:\n  StageName:\n    Type: String\n  EndpointInstanceCount:\n    Type: Number\n    Default: '1'\nResources: {}\n";

    fn declared(name: &str, default: Option<&str>) -> DeclaredParameter {
        DeclaredParameter {
            name: name.into(),
            kind: "String".into(),
            default: default.map(str::to_owned),
            allowed_values: Vec::new(),
            allowed_pattern: None,
            min_length: None,
            max_length: None,
            min_value: None,
            max_value: None,
            constraint_description: None,
        }
    }

    struct Fixture {
        declared: Vec<DeclaredParameter>,
        parameters: ParameterList,
        accounts: BTreeSet<String>,
        regions: Vec<String>,
    }

    impl Fixture {
        fn new() -> Self {
            Self {
                declared: vec![
                    declared("StageName", None),
                    declared("EndpointInstanceCount", Some("1")),
                ],
                parameters: params(&[("StageName", "staging"), ("EndpointInstanceCount", "2")]),
                accounts: ["111111111111", "222222222222"].map(str::to_owned).into(),
                regions: vec!["eu-west-1".to_owned()],
            }
        }

        fn wanted(&self) -> Wanted<'_> {
            Wanted {
                template: TEMPLATE,
                declared: &self.declared,
                parameters: &self.parameters,
                accounts: Some(&self.accounts),
                regions: &self.regions,
            }
        }
    }

    fn instance(account: &str, region: &str, status: &str) -> InstanceState {
        InstanceState {
            account: account.into(),
            region: region.into(),
            status: status.into(),
            detailed_status: Some(
                if status == "CURRENT" {
                    "SUCCEEDED"
                } else {
                    "FAILED"
                }
                .into(),
            ),
        }
    }

    /// What a StackSet deployed from exactly the fixture looks like.
    fn deployed() -> StackSetState {
        StackSetState {
            status: Some("ACTIVE".into()),
            template_body: Some(TEMPLATE.into()),
            parameters: vec![
                ("StageName".into(), "staging".into()),
                ("EndpointInstanceCount".into(), "2".into()),
            ],
            instances: vec![
                instance("111111111111", "eu-west-1", "CURRENT"),
                instance("222222222222", "eu-west-1", "CURRENT"),
            ],
            last_operation: Some(OperationState {
                action: "UPDATE".into(),
                status: "SUCCEEDED".into(),
            }),
        }
    }

    fn reason(fixture: &Fixture, state: StackSetState) -> Decision {
        decide(&fixture.wanted(), &Deployed::Found(state))
    }

    #[test]
    fn the_same_release_needs_no_deploy() {
        let fixture = Fixture::new();
        assert_eq!(
            reason(&fixture, deployed()),
            Decision {
                needed: false,
                reason: UP_TO_DATE.into()
            }
        );
    }

    #[test]
    fn no_stack_set_or_a_failed_read_means_a_deploy() {
        let fixture = Fixture::new();
        assert_eq!(
            decide(&fixture.wanted(), &Deployed::NoStackSet),
            Decision::needed("no StackSet yet")
        );
        let unread =
            Deployed::Unread("cloudformation:ListStackInstances failed with AccessDenied".into());
        assert_eq!(
            decide(&fixture.wanted(), &unread),
            Decision::needed(
                "could not check: cloudformation:ListStackInstances failed with AccessDenied"
            )
        );
        let mut deleted = deployed();
        deleted.status = Some("DELETED".into());
        assert_eq!(reason(&fixture, deleted).reason, "the StackSet is DELETED");
    }

    #[test]
    fn a_changed_parameter_is_named_with_both_values() {
        let fixture = Fixture::new();
        let mut state = deployed();
        state.parameters[1].1 = "1".into();
        assert_eq!(
            reason(&fixture, state),
            Decision::needed("parameter EndpointInstanceCount: deployed 1, now 2")
        );
    }

    #[test]
    fn a_parameter_on_one_side_only_is_equal_when_it_is_the_default() {
        let mut fixture = Fixture::new();
        fixture.parameters = params(&[("StageName", "staging")]);
        // The StackSet lists the default the file leaves out.
        let mut state = deployed();
        state.parameters[1].1 = "1".into();
        assert!(!reason(&fixture, state).needed);
        // The StackSet holds another value than the default the file now falls back to.
        let state = deployed();
        assert_eq!(
            reason(&fixture, state).reason,
            "parameter EndpointInstanceCount: deployed 2, now its default 1"
        );
        // The file sets the default, the StackSet does not list it.
        fixture.parameters = params(&[("StageName", "staging"), ("EndpointInstanceCount", "1")]);
        let mut state = deployed();
        state.parameters.truncate(1);
        assert!(!reason(&fixture, state).needed);
        // A key the file adds without a default, and one the template no longer declares.
        fixture.parameters = params(&[("StageName", "staging"), ("EndpointInstanceCount", "3")]);
        let mut state = deployed();
        state.parameters.truncate(1);
        assert_eq!(
            reason(&fixture, state).reason,
            "parameter EndpointInstanceCount: not deployed, now 3"
        );
        fixture.parameters = params(&[("StageName", "staging"), ("EndpointInstanceCount", "2")]);
        let mut state = deployed();
        state.parameters.push(("Gone".into(), "x".into()));
        assert_eq!(
            reason(&fixture, state).reason,
            "parameter Gone: deployed x, now not declared"
        );
    }

    #[test]
    fn the_template_is_compared_by_bytes_then_as_yaml() {
        let fixture = Fixture::new();
        let mut state = deployed();
        state.template_body = Some(format!("# reformatted\n{}", TEMPLATE.replace('\n', "\r\n")));
        assert!(!reason(&fixture, state).needed, "same YAML value");
        let mut state = deployed();
        state.template_body = Some(TEMPLATE.replace("Default: '1'", "Default: '3'"));
        assert_eq!(
            reason(&fixture, state).reason,
            "the template differs from the deployed one from line 6"
        );
        let mut state = deployed();
        state.template_body = None;
        assert_eq!(
            reason(&fixture, state).reason,
            "the StackSet shows no template body"
        );
    }

    #[test]
    fn a_deployed_body_of_nested_aliases_is_a_difference_not_an_expansion() {
        // A StackSet's body is whatever was last deployed: 10^8 nodes from a few hundred bytes
        // would take the machine's memory if it were loaded to compare.
        let mut state = deployed();
        state.template_body = Some(bounded_yaml::tests::alias_bomb());
        let decided = reason(&Fixture::new(), state);
        assert!(decided.needed);
        assert_eq!(
            decided.reason,
            "the template differs from the deployed one from line 1"
        );
    }

    #[test]
    fn every_target_needs_its_instance_and_no_instance_may_be_elsewhere() {
        let mut fixture = Fixture::new();
        fixture.accounts.insert("333333333333".into());
        assert_eq!(
            reason(&fixture, deployed()).reason,
            "account 333333333333 has no stack instance in eu-west-1"
        );
        let fixture = Fixture::new();
        let mut state = deployed();
        state
            .instances
            .push(instance("444444444444", "eu-west-1", "CURRENT"));
        assert_eq!(
            reason(&fixture, state).reason,
            "account 444444444444 has a stack instance in eu-west-1 but is not a target there"
        );
        let mut fixture = Fixture::new();
        fixture.regions = vec!["eu-west-1".into(), "us-east-1".into()];
        assert_eq!(
            reason(&fixture, deployed()).reason,
            "Region us-east-1 has no stack instance"
        );
        let mut state = deployed();
        state.instances.clear();
        assert_eq!(
            reason(&Fixture::new(), state).reason,
            "account 111111111111 has no stack instance in eu-west-1"
        );
        let fixture = Fixture::new();
        let unknown = Wanted {
            accounts: None,
            ..fixture.wanted()
        };
        assert!(decide(&unknown, &Deployed::Found(deployed()))
            .reason
            .starts_with("the stage's target accounts are not known"));
    }

    #[test]
    fn the_last_operation_must_have_succeeded() {
        let fixture = Fixture::new();
        for (status, expected) in [
            ("FAILED", "the last operation (UPDATE) FAILED"),
            ("STOPPED", "the last operation (UPDATE) STOPPED"),
            ("RUNNING", "the last operation (UPDATE) is still RUNNING"),
            ("QUEUED", "the last operation (UPDATE) is still QUEUED"),
        ] {
            let mut state = deployed();
            state.last_operation = Some(OperationState {
                action: "UPDATE".into(),
                status: status.into(),
            });
            assert_eq!(reason(&fixture, state), Decision::needed(expected));
        }
        let mut state = deployed();
        state.last_operation = None;
        assert_eq!(
            reason(&fixture, state).reason,
            "the StackSet has no operation yet"
        );
    }

    #[test]
    fn instances_that_are_not_current_are_counted_by_status() {
        let mut fixture = Fixture::new();
        let accounts: Vec<String> = (1..=5)
            .map(|n| format!("{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}{n}"))
            .collect();
        fixture.accounts = accounts.iter().cloned().collect();
        let mut state = deployed();
        state.instances = accounts
            .iter()
            .enumerate()
            .map(|(n, account)| {
                let status = match n {
                    0 => "INOPERABLE",
                    1 => "CURRENT",
                    _ => "OUTDATED",
                };
                instance(account, "eu-west-1", status)
            })
            .collect();
        assert_eq!(
            reason(&fixture, state.clone()).reason,
            "1 stack instance is INOPERABLE (111111111111 eu-west-1: FAILED); 3 stack instances are OUTDATED (333333333333 eu-west-1: FAILED, 444444444444 eu-west-1: FAILED, 555555555555 eu-west-1: FAILED)"
        );
        state
            .instances
            .push(instance("666666666666", "eu-west-1", "OUTDATED"));
        fixture.accounts.insert("666666666666".into());
        assert!(reason(&fixture, state)
            .reason
            .ends_with("555555555555 eu-west-1: FAILED, 1 more)"));
    }

    #[test]
    fn the_first_difference_is_the_reason() {
        let mut fixture = Fixture::new();
        fixture.accounts.insert("333333333333".into());
        let mut state = deployed();
        state.parameters[1].1 = "1".into();
        state.last_operation = None;
        assert_eq!(
            reason(&fixture, state).reason,
            "parameter EndpointInstanceCount: deployed 1, now 2"
        );
    }

    #[test]
    fn the_env_file_sets_both_variables() {
        let decisions = PerStage {
            staging: Decision::needed("no StackSet yet"),
            prod: Decision {
                needed: false,
                reason: UP_TO_DATE.into(),
            },
        };
        assert_eq!(
            env_file(&decisions),
            "DEPLOY_STAGING=true\nDEPLOY_PROD=false\n"
        );
        assert_eq!(
            serde_json::to_value(decisions.map(|d| d.needed)).unwrap(),
            serde_json::json!({"staging": true, "prod": false})
        );
    }
}
