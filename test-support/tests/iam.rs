//! The one path to production, evaluated. The emulator enforces no IAM, so this test resolves the
//! product template (the data science account's roles) and the role template (each staging and
//! prod account's roles) with `cfn_eval` for every parameter combination, adds the principals a
//! real organization has besides them (the shared `AmazonSageMakerServiceCatalogProductsUseRole`
//! with the SageMaker projects' AWS managed policies, as moto ships them; another project's roles
//! of the same names), and walks who can become whom with `policy_eval`:
//! - assuming a role: the caller's identity policies and boundary, and the role's trust policy,
//!   across accounts both (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html);
//! - making a service act as a role for one of the project's resources: the service must be
//!   trusted for that resource (`aws:SourceAccount`/`aws:SourceArn`,
//!   https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html), and the caller must
//!   be allowed to change or start it (a CodeBuild `StartBuild` may override the buildspec:
//!   https://docs.aws.amazon.com/codebuild/latest/APIReference/API_StartBuild.html), or, for a
//!   service trusted by account only, to pass the role to it.
//!
//! Production changes when a principal may change a prod endpoint, its config or its model in a
//! prod account, or may update the prod stack set. The test shows that only the pipeline role
//! (which CodePipeline runs the project's pipeline as, DeployProd coming after the approval), the
//! prod administration role (which CloudFormation takes for the prod stack set) and the prod
//! deploy role can; that no role may answer the approval; and that the table of roles in
//! `docs/iam.md` matches the templates.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{json, Value as Json};
use test_support::cfn_eval::{self, ResolvedTemplate, StackInputs};
use test_support::policy_eval::{
    evaluate, Policies, Policy, Principal, Request, ResourcePolicyKind,
};
use test_support::tools::{python_tool, repo_root};

const DS: &str = "111111111111";
const STAGING: &str = "222222222222";
const PROD: &str = "333333333333";
const REGION: &str = "eu-west-1";
const PROJECT: &str = "churn";
const ID: &str = "p-abc123";
const OTHER_PROJECT: &str = "fraud";
const OTHER_ID: &str = "p-other9";
const BOUNDARY: &str = "arn:aws:iam::111111111111:policy/sagemaker-deploy-steps-boundary";
/// The topic people are told through, in the combinations that give one.
const TOPIC: &str = "arn:aws:sns:eu-west-1:111111111111:ml-deployments";

/// A role as IAM would hold it once CloudFormation created it.
#[derive(Clone)]
struct Role {
    /// Where it comes from, for messages: `product PipelineRole`, `prod account TestRole`, ...
    label: String,
    arn: String,
    account: String,
    identity: Vec<Policy>,
    boundary: Option<Policy>,
    trust: Policy,
    trust_document: Json,
}

impl Role {
    fn session(&self) -> Principal {
        Principal::role_session(&self.arn, "session").unwrap()
    }

    fn policies(&self, resource_account: &str) -> Policies {
        Policies {
            identity: self.identity.clone(),
            boundary: self.boundary.clone(),
            cross_account: resource_account != self.account,
            ..Policies::default()
        }
    }

    /// Whether this role's trust lets `service` assume it when acting for `source_arn` in
    /// `source_account` (https://docs.aws.amazon.com/IAM/latest/UserGuide/confused-deputy.html).
    fn trusts_service(&self, service: &str, source_account: &str, source_arn: &str) -> bool {
        let request = Request::assume_role(Principal::service(service), &self.arn)
            .with("aws:SourceAccount", source_account)
            .with("aws:SourceArn", source_arn);
        let policies = Policies {
            resource: Some(self.trust.clone()),
            resource_kind: ResourcePolicyKind::Trust,
            ..Policies::default()
        };
        evaluate(&request, &policies).is_allowed()
    }

    /// Whether this role may make `request` (built for its session) on a resource of
    /// `resource_account` that has no resource-based policy.
    fn may(&self, request: &Request, resource_account: &str) -> bool {
        evaluate(request, &self.policies(resource_account)).is_allowed()
    }
}

/// A parameter combination of the product and the role template.
#[derive(Debug, Clone, Copy)]
struct Combination {
    self_managed: bool,
    code_commit: bool,
    capture: bool,
    /// NotificationTopicArn: the approval and the notification rules publish to this topic.
    topic: Option<&'static str>,
}

const COMBINATIONS: [Combination; 4] = [
    Combination {
        self_managed: true,
        code_commit: true,
        capture: false,
        topic: Some(TOPIC),
    },
    Combination {
        self_managed: true,
        code_commit: false,
        capture: true,
        topic: None,
    },
    Combination {
        self_managed: false,
        code_commit: true,
        capture: true,
        topic: Some(TOPIC),
    },
    Combination {
        self_managed: false,
        code_commit: false,
        capture: false,
        topic: None,
    },
];

fn permission_model(combination: Combination) -> &'static str {
    if combination.self_managed {
        "SELF_MANAGED"
    } else {
        "SERVICE_MANAGED"
    }
}

fn template(path: &str) -> serde_yaml::Value {
    let text = std::fs::read_to_string(repo_root().join(path)).unwrap();
    serde_yaml::from_str(&text).unwrap()
}

fn product(project: &str, id: &str, combination: Combination) -> ResolvedTemplate {
    let mut inputs = StackInputs::new(DS, REGION)
        .parameter("SageMakerProjectName", project)
        .parameter("SageMakerProjectId", id)
        .parameter("PermissionsBoundaryArn", BOUNDARY)
        .parameter("OrganizationalUnitStagingId", "ou-root-staging1")
        .parameter("OrganizationalUnitProdId", "ou-root-prodprod")
        .parameter("StackSetPermissionModel", permission_model(combination));
    if !combination.code_commit {
        inputs = inputs
            .parameter("SourceProvider", "CodeConnections")
            .parameter(
                "CodeConnectionArn",
                "arn:aws:codeconnections:eu-west-1:111111111111:connection/0a1b2c3d-aaaa-bbbb-cccc-123456789012",
            )
            .parameter("FullRepositoryId", "example/churn-deploy");
    }
    if combination.capture {
        inputs = inputs.parameter("OrganizationId", "o-exampleorg1");
    }
    if let Some(topic) = combination.topic {
        inputs = inputs.parameter("NotificationTopicArn", topic);
    }
    cfn_eval::resolve(&template("templates/sagemaker-project.yml"), &inputs)
        .unwrap_or_else(|e| panic!("the product resolves for {combination:?}: {e}"))
}

fn account_roles(
    project: &str,
    id: &str,
    stage: &str,
    account: &str,
    combination: Combination,
) -> ResolvedTemplate {
    let mut inputs = StackInputs::new(account, REGION)
        .parameter("SageMakerProjectName", project)
        .parameter("SageMakerProjectId", id)
        .parameter("Stage", stage)
        .parameter("StageName", stage)
        .parameter("DataScienceAccountId", DS)
        .parameter("StackSetPermissionModel", permission_model(combination))
        .parameter(
            "ModelArtifactBucketArn",
            "arn:aws:s3:::sagemaker-eu-west-1-111111111111",
        )
        .parameter("ModelArtifactKeyPrefix", &format!("{project}/"))
        .parameter(
            "ModelImageRepositoryArns",
            "arn:aws:ecr:eu-west-1:111111111111:repository/churn",
        );
    if combination.capture {
        inputs = inputs.parameter(
            "DataCaptureBucketArn",
            &format!("arn:aws:s3:::sagemaker-project-{id}"),
        );
    }
    cfn_eval::resolve(&template("templates/target-account-role.yml"), &inputs)
        .unwrap_or_else(|e| panic!("the role template resolves for {stage} {combination:?}: {e}"))
}

fn boundary() -> Policy {
    let path = repo_root().join("templates/iam/permissions-boundary-policy.json");
    let document: Json = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    Policy::parse("permissions boundary", &document).unwrap()
}

/// The roles a resolved template creates.
fn roles_of(stack: &ResolvedTemplate, origin: &str, account: &str) -> Vec<Role> {
    stack
        .of_type("AWS::IAM::Role")
        .map(|role| {
            let label = format!("{origin} {}", role.logical_id);
            let properties = &role.properties;
            assert!(
                properties.get("ManagedPolicyArns").is_none(),
                "{label}: a managed policy this test does not evaluate"
            );
            let identity = properties["Policies"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|p| {
                    let name = format!("{label} {}", p["PolicyName"].as_str().unwrap());
                    Policy::parse(&name, &p["PolicyDocument"]).unwrap()
                })
                .collect();
            let boundary = properties["PermissionsBoundary"].as_str().map(|arn| {
                assert!(arn.is_empty() || arn.ends_with("sagemaker-deploy-steps-boundary"));
                boundary()
            });
            let trust = Policy::parse(
                &format!("{label} trust"),
                &properties["AssumeRolePolicyDocument"],
            )
            .unwrap();
            Role {
                arn: role.arn.clone().unwrap(),
                account: account.to_owned(),
                identity,
                boundary,
                trust,
                trust_document: properties["AssumeRolePolicyDocument"].clone(),
                label,
            }
        })
        .collect()
}

/// The shared use role the SageMaker console creates, with every
/// `AmazonSageMakerServiceCatalogProducts*` AWS managed policy (as moto ships AWS's documents)
/// and a trust of the services the console lists for it.
fn shared_use_role() -> Role {
    let python = python_tool("python");
    let out = std::process::Command::new(python)
        .args([
            "-c",
            "from moto.iam.aws_managed_policies import aws_managed_policies_data as d; print(d)",
        ])
        .output()
        .expect("the pinned python runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all: BTreeMap<String, Json> = serde_json::from_slice(&out.stdout).unwrap();
    let identity: Vec<Policy> = all
        .iter()
        .filter(|(name, _)| name.starts_with("AmazonSageMakerServiceCatalogProducts"))
        .map(|(name, policy)| Policy::parse(name, &policy["Document"]).unwrap())
        .collect();
    assert!(
        identity.len() >= 8,
        "moto ships the projects' managed policies"
    );
    let services = [
        "apigateway",
        "cloudformation",
        "codebuild",
        "codepipeline",
        "events",
        "firehose",
        "glue",
        "lambda",
        "sagemaker",
        "states",
    ];
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole",
        "Principal": {"Service": services.iter().map(|s| format!("{s}.amazonaws.com")).collect::<Vec<_>>()},
    }]});
    Role {
        label: "the shared AmazonSageMakerServiceCatalogProductsUseRole".into(),
        arn: format!(
            "arn:aws:iam::{DS}:role/service-role/AmazonSageMakerServiceCatalogProductsUseRole"
        ),
        account: DS.into(),
        identity,
        boundary: None,
        trust: Policy::parse("use role trust", &trust).unwrap(),
        trust_document: trust,
    }
}

/// Every role of the organization this test knows: this project's, another project's, the
/// shared use role.
fn organization(combination: Combination) -> Vec<Role> {
    let mut roles = Vec::new();
    for (project, id) in [(PROJECT, ID), (OTHER_PROJECT, OTHER_ID)] {
        let origin = if id == ID { "" } else { "other project's " };
        let stack = product(project, id, combination);
        roles.extend(roles_of(&stack, &format!("{origin}product"), DS));
        for (stage, account) in [("staging", STAGING), ("prod", PROD)] {
            let stack = account_roles(project, id, stage, account, combination);
            roles.extend(roles_of(
                &stack,
                &format!("{origin}{stage} account"),
                account,
            ));
        }
    }
    roles.push(shared_use_role());
    roles
}

/// A resource of the project a service acts for as a role, and the calls that make the service
/// run a caller's will there.
struct ServiceResource {
    service: &'static str,
    arn: String,
    controls: &'static [&'static str],
}

/// The project's resources in the data science account that services run as its roles, for both
/// projects.
fn service_resources() -> Vec<ServiceResource> {
    let mut resources = Vec::new();
    for (project, id) in [(PROJECT, ID), (OTHER_PROJECT, OTHER_ID)] {
        let name = format!("sagemaker-{project}-{id}");
        resources.push(ServiceResource {
            service: "codepipeline.amazonaws.com",
            arn: format!("arn:aws:codepipeline:{REGION}:{DS}:{name}-modeldeploy"),
            controls: &[
                "codepipeline:UpdatePipeline",
                "codepipeline:PutApprovalResult",
            ],
        });
        for stage in ["staging", "prod"] {
            resources.push(ServiceResource {
                service: "cloudformation.amazonaws.com",
                arn: format!(
                    "arn:aws:cloudformation:{REGION}:{DS}:stackset/{name}-deploy-{stage}:0a1b2c3d"
                ),
                controls: &STACK_SET_CHANGES,
            });
        }
        for build in [
            "build",
            "test",
            "verify",
            "preflight-staging",
            "preflight-prod",
        ] {
            resources.push(ServiceResource {
                service: "codebuild.amazonaws.com",
                arn: format!(
                    "arn:aws:codebuild:{REGION}:{DS}:project/deploy-steps-{project}-{id}-{build}"
                ),
                controls: &["codebuild:StartBuild", "codebuild:UpdateProject"],
            });
        }
        for rule in ["pkg", "code"] {
            resources.push(ServiceResource {
                service: "events.amazonaws.com",
                arn: format!("arn:aws:events:{REGION}:{DS}:rule/{name}-{rule}"),
                controls: &["events:PutTargets", "events:PutRule"],
            });
        }
    }
    resources
}

const STACK_SET_CHANGES: [&str; 6] = [
    "cloudformation:CreateStackSet",
    "cloudformation:UpdateStackSet",
    "cloudformation:DeleteStackSet",
    "cloudformation:CreateStackInstances",
    "cloudformation:UpdateStackInstances",
    "cloudformation:DeleteStackInstances",
];

/// What changes a prod endpoint, its endpoint config or its model.
const ENDPOINT_CHANGES: [&str; 9] = [
    "sagemaker:CreateEndpoint",
    "sagemaker:UpdateEndpoint",
    "sagemaker:UpdateEndpointWeightsAndCapacities",
    "sagemaker:DeleteEndpoint",
    "sagemaker:CreateEndpointConfig",
    "sagemaker:DeleteEndpointConfig",
    "sagemaker:CreateModel",
    "sagemaker:DeleteModel",
    "sagemaker:AddTags",
];

/// The calls with which `role` would change production directly, one per way, as requests.
fn prod_changes(role: &Role) -> Vec<Request> {
    let mut requests = Vec::new();
    let prefix = format!("arn:aws:sagemaker:{REGION}:{PROD}");
    for action in ENDPOINT_CHANGES {
        for resource in [
            format!("{prefix}:endpoint/{PROJECT}-prod"),
            format!("{prefix}:endpoint-config/{PROJECT}-prod-0a1b2c"),
            format!("{prefix}:model/{PROJECT}-prod-0a1b2c"),
        ] {
            // A change of an existing resource carries its tags; a create carries the tags it
            // asks for (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_tags.html).
            requests.push(
                Request::new(role.session(), action, &resource)
                    .with("aws:ResourceTag/sagemaker:project-id", ID)
                    .with("aws:RequestTag/sagemaker:project-id", ID)
                    .with_values("aws:TagKeys", &["sagemaker:project-id"]),
            );
        }
    }
    let stack_set = format!(
        "arn:aws:cloudformation:{REGION}:{DS}:stackset/sagemaker-{PROJECT}-{ID}-deploy-prod:0a1b2c3d"
    );
    for action in STACK_SET_CHANGES {
        requests.push(Request::new(role.session(), action, &stack_set));
    }
    requests
}

fn changes_prod(role: &Role) -> Option<String> {
    prod_changes(role).into_iter().find_map(|request| {
        let account = request.resource.split(':').nth(4).unwrap().to_owned();
        let account = if account.is_empty() {
            DS.to_owned()
        } else {
            account
        };
        role.may(&request, &account)
            .then(|| format!("{} on {}", request.action, request.resource))
    })
}

/// Whom `from` can become in one step, with how.
fn steps(from: &Role, roles: &[Role], services: &[ServiceResource]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    for (index, to) in roles.iter().enumerate() {
        if to.arn == from.arn {
            continue;
        }
        let assume = Request::assume_role(from.session(), &to.arn);
        let policies = Policies {
            resource: Some(to.trust.clone()),
            resource_kind: ResourcePolicyKind::Trust,
            ..from.policies(&to.account)
        };
        if evaluate(&assume, &policies).is_allowed() {
            found.push((index, "sts:AssumeRole".to_owned()));
            continue;
        }
        for resource in services.iter().filter(|_| to.account == DS) {
            if !to.trusts_service(resource.service, DS, &resource.arn) {
                continue;
            }
            if let Some(action) = resource
                .controls
                .iter()
                .find(|action| from.may(&Request::new(from.session(), action, &resource.arn), DS))
            {
                found.push((index, format!("{action} on {}", resource.arn)));
            }
        }
        // A service trusted by account alone (SageMaker, for a model's execution role) runs as
        // any role it is passed: passing the role is the step.
        for service in [
            "sagemaker.amazonaws.com",
            "lambda.amazonaws.com",
            "glue.amazonaws.com",
        ] {
            let anything = format!(
                "arn:aws:sagemaker:{REGION}:{}:training-job/anything",
                to.account
            );
            let trusted = to.trusts_service(service, &to.account, &anything);
            let pass = Request::new(from.session(), "iam:PassRole", &to.arn)
                .with("iam:PassedToService", service);
            if trusted && from.may(&pass, &to.account) {
                found.push((index, format!("iam:PassRole to {service}")));
            }
        }
    }
    found
}

/// For every role, the chain by which it can change production, if any.
fn paths_to_prod(roles: &[Role]) -> BTreeMap<String, String> {
    let services = service_resources();
    let graph: Vec<Vec<(usize, String)>> = roles
        .iter()
        .map(|role| steps(role, roles, &services))
        .collect();
    let mut paths = BTreeMap::new();
    for (start, role) in roles.iter().enumerate() {
        let mut seen = BTreeSet::from([start]);
        let mut queue = vec![(start, role.label.clone())];
        while let Some((at, path)) = queue.pop() {
            if let Some(change) = changes_prod(&roles[at]) {
                paths.insert(role.label.clone(), format!("{path} -> {change}"));
                break;
            }
            for (next, how) in &graph[at] {
                if seen.insert(*next) {
                    queue.push((*next, format!("{path} -[{how}]-> {}", roles[*next].label)));
                }
            }
        }
    }
    paths
}

#[test]
fn only_the_pipeline_after_the_approval_can_change_production() {
    for combination in COMBINATIONS {
        let roles = organization(combination);
        let paths = paths_to_prod(&roles);
        let mut expected = vec!["product PipelineRole"];
        if combination.self_managed {
            expected.extend([
                "product ProdAdministrationRole",
                "prod account StackSetExecutionRole",
            ]);
        }
        expected.sort_unstable();
        assert_eq!(
            paths.keys().map(String::as_str).collect::<Vec<_>>(),
            expected,
            "who can change production with {combination:?}:\n{paths:#?}"
        );
        if combination.self_managed {
            assert!(
                paths["product ProdAdministrationRole"].contains("sts:AssumeRole"),
                "{paths:#?}"
            );
        }
    }
}

/// The walk finds the paths the old design had: a prod role trusting the shared use role (which
/// every project's builds run as), and the use role allowed to assume it (the old documented
/// inline policy), make the use role a way to prod.
#[test]
fn the_walk_finds_a_prod_role_that_trusts_the_shared_use_role() {
    let mut roles = organization(COMBINATIONS[0]);
    let use_role = roles.last_mut().unwrap();
    let old_inline = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "arn:aws:iam::*:role/sagemaker-*",
    }]});
    use_role
        .identity
        .push(Policy::parse("old use role inline policy", &old_inline).unwrap());
    let use_role = use_role.arn.clone();
    let deploy = roles
        .iter_mut()
        .find(|r| r.label == "prod account StackSetExecutionRole")
        .unwrap();
    let trust = json!({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": "sts:AssumeRole", "Principal": {"AWS": use_role},
    }]});
    deploy.trust = Policy::parse("old trust", &trust).unwrap();
    let paths = paths_to_prod(&roles);
    let path = &paths["the shared AmazonSageMakerServiceCatalogProductsUseRole"];
    assert!(
        path.contains("-[sts:AssumeRole]-> prod account StackSetExecutionRole"),
        "{path}"
    );
}

/// The pipeline role changes production only through the prod stack set, and its pipeline
/// deploys to that stack set only in DeployProd, which comes after the manual approval.
#[test]
fn the_prod_stack_set_is_deployed_only_after_the_approval() {
    for combination in COMBINATIONS {
        let stack = product(PROJECT, ID, combination);
        let stages = stack.resource("ModelDeployPipeline").unwrap().properties["Stages"]
            .as_array()
            .unwrap()
            .clone();
        let mut approved = false;
        let mut prod_deploys = Vec::new();
        for stage in &stages {
            let mut actions: Vec<&Json> = stage["Actions"].as_array().unwrap().iter().collect();
            actions.sort_by_key(|a| a["RunOrder"].as_u64().unwrap_or(1));
            for action in actions {
                let provider = action["ActionTypeId"]["Provider"].as_str().unwrap();
                let stack_set = action["Configuration"]["StackSetName"]
                    .as_str()
                    .unwrap_or("");
                if stack_set.ends_with("-deploy-prod") {
                    assert!(
                        approved,
                        "{} deploys prod before any approval",
                        action["Name"]
                    );
                    prod_deploys.push(action["Name"].as_str().unwrap().to_owned());
                }
                if provider == "Manual" {
                    approved = true;
                }
            }
        }
        assert_eq!(prod_deploys, ["DeployProd"], "{combination:?}");
    }
}

/// The stages a run enters, in order, when the build exports `variables` (namespace
/// `BuildVariables`): a stage without a BeforeEntry condition is entered; with one, it is entered
/// when its VariableCheck rules hold, and otherwise its result engages (SKIP: skipped)
/// (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html).
fn entered_stages<'a>(stages: &'a [Json], variables: &[(&str, &str)]) -> Vec<&'a Json> {
    let value_of = |reference: &str| -> String {
        let name = reference
            .strip_prefix("#{BuildVariables.")
            .and_then(|rest| rest.strip_suffix('}'))
            .unwrap_or_else(|| panic!("a rule checks {reference}, not a build variable"));
        variables.iter().find(|(n, _)| *n == name).map_or_else(
            || panic!("the build exports no {name}"),
            |(_, v)| (*v).to_owned(),
        )
    };
    stages
        .iter()
        .filter(|stage| {
            let Some(entry) = stage.get("BeforeEntry") else {
                return true;
            };
            let condition = &entry["Conditions"][0];
            let met = condition["Rules"].as_array().unwrap().iter().all(|rule| {
                assert_eq!(rule["RuleTypeId"]["Provider"], "VariableCheck");
                let config = &rule["Configuration"];
                let variable = value_of(config["Variable"].as_str().unwrap());
                let value = config["Value"].as_str().unwrap();
                match config["Operator"].as_str().unwrap() {
                    "EQ" => variable == value,
                    "NE" => variable != value,
                    other => panic!("the operator {other} is not modelled"),
                }
            });
            assert!(
                met || condition["Result"] == "SKIP",
                "{}: an entry condition that fails the run",
                stage["Name"]
            );
            met
        })
        .collect()
}

/// A run (by the build's two variables, whatever their values) that deploys the prod stack set
/// without passing an approval earlier in that run, if any.
fn prod_without_approval(stages: &[Json]) -> Option<String> {
    for staging in ["true", "false", ""] {
        for prod in ["true", "false", "", "TRUE"] {
            let variables = [("DEPLOY_STAGING", staging), ("DEPLOY_PROD", prod)];
            let mut approved = false;
            for stage in entered_stages(stages, &variables) {
                let mut actions: Vec<&Json> = stage["Actions"].as_array().unwrap().iter().collect();
                actions.sort_by_key(|a| a["RunOrder"].as_u64().unwrap_or(1));
                for action in actions {
                    let stack_set = action["Configuration"]["StackSetName"]
                        .as_str()
                        .unwrap_or("");
                    if stack_set.ends_with("-deploy-prod") && !approved {
                        return Some(format!(
                            "DEPLOY_STAGING={staging:?} DEPLOY_PROD={prod:?}: {} deploys prod unapproved",
                            action["Name"]
                        ));
                    }
                    if action["ActionTypeId"]["Provider"] == "Manual" {
                        approved = true;
                    }
                }
            }
        }
    }
    None
}

/// The stage conditions skip stages, never the approval alone: whatever the build exports, a
/// run that enters the prod stage entered the approval's stage before it (both take the same
/// condition). The check catches a prod stage entered without its condition, or one whose
/// condition is not the approval's.
#[test]
fn no_run_reaches_the_prod_stack_set_without_the_approval_whatever_the_build_exports() {
    for combination in COMBINATIONS {
        let stack = product(PROJECT, ID, combination);
        let stages = stack.resource("ModelDeployPipeline").unwrap().properties["Stages"]
            .as_array()
            .unwrap()
            .clone();
        assert_eq!(prod_without_approval(&stages), None, "{combination:?}");
        let index = |name: &str| {
            stages
                .iter()
                .position(|s| s["Name"] == name)
                .unwrap_or_else(|| panic!("no stage {name}"))
        };
        let (approve, prod) = (index("ApproveProd"), index("DeployResourcesProd"));
        // A prod stage entered unconditionally is reached with the approval skipped.
        let mut unconditional = stages.clone();
        unconditional[prod]
            .as_object_mut()
            .unwrap()
            .remove("BeforeEntry");
        assert!(
            prod_without_approval(&unconditional).is_some(),
            "the check misses a prod stage without its condition"
        );
        // So is one gated by another variable than the approval's.
        let mut other_variable = stages.clone();
        other_variable[approve]["BeforeEntry"] =
            stages[index("DeployResourcesStaging")]["BeforeEntry"].clone();
        assert!(
            prod_without_approval(&other_variable).is_some(),
            "the check misses an approval gated by staging's variable"
        );
    }
}

#[test]
fn no_role_may_answer_the_approval() {
    let roles = organization(COMBINATIONS[0]);
    let approval = format!(
        "arn:aws:codepipeline:{REGION}:{DS}:sagemaker-{PROJECT}-{ID}-modeldeploy/ApproveProd/ApproveDeployment"
    );
    for role in &roles {
        let request = Request::new(role.session(), "codepipeline:PutApprovalResult", &approval);
        assert!(
            !role.may(&request, DS),
            "{} may answer the approval",
            role.label
        );
    }
}

/// The table of roles in `docs/iam.md`, before its first `##` section: one row per role the
/// templates create, in the account the row names, trusted by the service or role the row names.
#[test]
fn the_iam_doc_table_of_roles_matches_the_templates() {
    let doc = std::fs::read_to_string(repo_root().join("docs/iam.md")).unwrap();
    let section = doc
        .split("# IAM: one job per role, one path to production")
        .nth(1)
        .expect("docs/iam.md has the IAM heading");
    let rows: BTreeMap<String, (String, String)> = section
        .lines()
        .take_while(|line| !line.starts_with("## "))
        .filter(|line| line.starts_with("| `"))
        .map(|line| {
            let cells: Vec<&str> = line.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`').to_owned();
            (name, (cells[2].to_owned(), cells[3].to_owned()))
        })
        .collect();
    let mut expected = BTreeMap::new();
    let combination = COMBINATIONS[0];
    let generic = |arn: &str| {
        let name = arn.split(":role/").nth(1).unwrap().to_owned();
        name.replace(ID, "<id>")
            .replace("-staging-", "-<stage>-")
            .replace("-prod-", "-<stage>-")
    };
    for role in roles_of(&product(PROJECT, ID, combination), "product", DS) {
        let name = role.arn.split(":role/").nth(1).unwrap().replace(ID, "<id>");
        expected.insert(name, ("data science".to_owned(), trusted_by(&role)));
    }
    for (stage, account) in [("staging", STAGING), ("prod", PROD)] {
        for role in roles_of(
            &account_roles(PROJECT, ID, stage, account, combination),
            stage,
            account,
        ) {
            expected.insert(
                generic(&role.arn),
                ("each staging or prod account".to_owned(), trusted_by(&role)),
            );
        }
    }
    assert_eq!(
        rows.keys().collect::<Vec<_>>(),
        expected.keys().collect::<Vec<_>>(),
        "the roles of docs/iam.md"
    );
    for (name, (account, trusted)) in &expected {
        let (row_account, row_trusted) = &rows[name];
        assert_eq!(row_account, account, "the account of {name}");
        assert!(
            row_trusted.starts_with(trusted.as_str()),
            "{name} is trusted by {trusted}, docs/iam.md says {row_trusted}"
        );
    }
}

/// How docs/iam.md names who a role trusts: the service, or the role family of an ARN condition.
fn trusted_by(role: &Role) -> String {
    let document = role.trust_document.to_string();
    let services = [
        ("codepipeline.amazonaws.com", "CodePipeline"),
        ("cloudformation.amazonaws.com", "CloudFormation"),
        ("codebuild.amazonaws.com", "CodeBuild"),
        ("events.amazonaws.com", "EventBridge"),
        ("sagemaker.amazonaws.com", "SageMaker"),
    ];
    if let Some((_, name)) = services
        .iter()
        .find(|(service, _)| document.contains(service))
    {
        return (*name).to_owned();
    }
    if document.contains("stackset-admin") {
        "the stage's administration role".to_owned()
    } else {
        "the test role (staging) or the verify role (prod)".to_owned()
    }
}

/// Captured data is each stage's own: the project bucket's policy lets a stage's execution role,
/// from an account of that stage's OU, write under its own prefix (the endpoint template's
/// default, `datacapture/<RoleName>/<endpoint>`) and nowhere else, and each role's own policy
/// asks for no more. A staging model cannot write into prod's captured data, not even through a
/// role of the prod role's name made in a staging account.
#[test]
fn each_stage_writes_only_its_own_captured_data() {
    let combination = COMBINATIONS
        .into_iter()
        .find(|c| c.capture)
        .expect("a combination with data capture");
    let product = product(PROJECT, ID, combination);
    let bucket_policy = product
        .resource("MlOpsArtifactsBucketPolicy")
        .expect("the bucket policy");
    let bucket_policy =
        Policy::parse("bucket policy", &bucket_policy.properties["PolicyDocument"]).unwrap();
    let org_path = |ou: &str| format!("o-exampleorg1/r-root/{ou}/");
    let staging_path = org_path("ou-root-staging1");
    let prod_path = org_path("ou-root-prodprod");
    let prefix = |stage: &str| {
        format!(
            "arn:aws:s3:::sagemaker-project-{ID}/datacapture/sagemaker-{ID}-{stage}-model/{PROJECT}-{stage}/capture.jsonl"
        )
    };
    // (who: role stage, account, OU path) -> (where: stage prefix) -> allowed?
    let cases = [
        ("staging", STAGING, &staging_path, "staging", true),
        ("staging", STAGING, &staging_path, "prod", false),
        ("prod", PROD, &prod_path, "prod", true),
        ("prod", PROD, &prod_path, "staging", false),
        // A role of the prod role's name, made in a staging account.
        ("prod", STAGING, &staging_path, "prod", false),
        // The staging role's name in an account outside the staging OU.
        ("staging", PROD, &prod_path, "staging", false),
    ];
    for (role_stage, account, path, target_stage, expected) in cases {
        let stack = account_roles(PROJECT, ID, role_stage, account, combination);
        let role = roles_of(&stack, &format!("{role_stage} account"), account)
            .into_iter()
            .find(|r| r.arn.ends_with(&format!("-{role_stage}-model")))
            .expect("the model role");
        let request = Request::new(role.session(), "s3:PutObject", &prefix(target_stage))
            .with("aws:PrincipalOrgID", "o-exampleorg1")
            .with_values("aws:PrincipalOrgPaths", &[path.as_str()]);
        // The role's own policy and the bucket's, across accounts (both must allow).
        let policies = Policies {
            resource: Some(bucket_policy.clone()),
            ..role.policies(DS)
        };
        let decided = evaluate(&request, &policies);
        assert_eq!(
            decided.is_allowed(),
            expected,
            "{} in {account} ({path}) writing {target_stage}'s captured data: {decided:?}",
            role.label
        );
        // The bucket's side alone decides the forged role: its own policy may say anything.
        let bucket_alone = Policies {
            identity: vec![Policy::parse(
                "anything",
                &json!({"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}),
            )
            .unwrap()],
            resource: Some(bucket_policy.clone()),
            cross_account: true,
            ..Policies::default()
        };
        assert_eq!(
            evaluate(&request, &bucket_alone).is_allowed(),
            expected,
            "the bucket policy alone, {} in {account} writing {target_stage}'s captured data",
            role.label
        );
    }
}

/// Only the pipeline role may change either of this project's stack sets or hand CloudFormation
/// either administration role: not the builds, the test roles, the event rules, the shared use
/// role, another project's roles or the stage accounts' roles. (The walk above covers prod
/// through every chain; this is each role's own permissions, for staging too.)
#[test]
fn only_the_pipeline_role_may_change_the_stack_sets_or_pass_their_administration_roles() {
    for combination in COMBINATIONS {
        let roles = organization(combination);
        let admin_roles: Vec<&Role> = roles
            .iter()
            .filter(|r| r.label.starts_with("product ") && r.label.ends_with("AdministrationRole"))
            .collect();
        assert_eq!(
            admin_roles.len(),
            if combination.self_managed { 2 } else { 0 },
            "{combination:?}"
        );
        let mut able = BTreeSet::new();
        for role in &roles {
            for stage in ["staging", "prod"] {
                let stack_set = format!(
                    "arn:aws:cloudformation:{REGION}:{DS}:stackset/sagemaker-{PROJECT}-{ID}-deploy-{stage}:0a1b2c3d"
                );
                for action in STACK_SET_CHANGES {
                    if role.may(&Request::new(role.session(), action, &stack_set), DS) {
                        able.insert(format!("{}: {action} {stage}", role.label));
                    }
                }
            }
            for admin in &admin_roles {
                let pass = Request::new(role.session(), "iam:PassRole", &admin.arn)
                    .with("iam:PassedToService", "cloudformation.amazonaws.com");
                if role.may(&pass, DS) {
                    able.insert(format!("{}: iam:PassRole {}", role.label, admin.label));
                }
            }
        }
        let others: Vec<&String> = able
            .iter()
            .filter(|line| !line.starts_with("product PipelineRole: "))
            .collect();
        assert_eq!(others, Vec::<&String>::new(), "{combination:?}");
        for stage in ["staging", "prod"] {
            assert!(
                able.contains(&format!(
                    "product PipelineRole: cloudformation:UpdateStackSet {stage}"
                )),
                "the pipeline role updates the {stage} stack set ({combination:?}): {able:#?}"
            );
        }
        if combination.self_managed {
            assert_eq!(
                able.iter().filter(|l| l.contains("iam:PassRole")).count(),
                2,
                "the pipeline role passes both administration roles: {able:#?}"
            );
        }
    }
}
