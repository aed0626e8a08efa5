//! The templates and IAM documents under `templates/`, checked against what they must agree with:
//! cfn-lint for every template, the input registry for the CodeBuild projects, the binaries'
//! AWS calls for the permissions, the buildspecs for paths and report groups, and each resource's
//! name limit for a 32-character project. A change on either side fails here, not in an account.
//!
//! CloudFormation's short forms (`!Ref`, `!Sub`, `!If`) parse as `serde_yaml::Value::Tagged`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use deploy_core::inputs::{self, ReadBy};
use serde_json::Value as Json;
use serde_yaml::Value;
use test_support::cli::assert_cfn_lint_passes;

const PRODUCT: &str = "templates/sagemaker-project.yml";
const TARGET_ROLE: &str = "templates/target-account-role.yml";
const IAM_DIR: &str = "templates/iam";
const IMAGE: &str = "aws/codebuild/amazonlinux-x86_64-standard:5.0";
const DEPRECATED_IMAGE: &str = "aws/codebuild/amazonlinux2-x86_64-standard:3.0";
/// The longest project name and id the product must carry end to end.
const PROJECT_NAME_MAX: usize = 32;
const PROJECT_ID_MAX: usize = 16;

const BUILD_PROJECT_ENV: &[&str] = &[
    inputs::MODEL_PACKAGE_GROUP.var(),
    inputs::PROJECT_NAME.var(),
    inputs::PROJECT_ID.var(),
    inputs::ARTIFACT_BUCKET.var(),
    inputs::STAGING_ROLE.var(),
    inputs::PROD_ROLE.var(),
    inputs::STAGING_OU.var(),
    inputs::PROD_OU.var(),
    inputs::EXPORT_TEMPLATE.var(),
    inputs::EXPORT_PROD_TEMPLATE.var(),
    inputs::EXPORT_STAGING_CONFIG.var(),
    inputs::EXPORT_PROD_CONFIG.var(),
    inputs::EXPORT_STAGING_ACCOUNTS.var(),
    inputs::EXPORT_PROD_ACCOUNTS.var(),
    inputs::GRANT_CROSS_ACCOUNT_ACCESS.var(),
    inputs::PIPELINE_NAME.var(),
    inputs::REGION.var(),
];
const TEST_PROJECT_ENV: &[&str] = &[
    inputs::PROJECT_NAME.var(),
    inputs::PROJECT_ID.var(),
    inputs::REGION.var(),
    inputs::BUILD_CONFIG.var(),
    inputs::EXPORT_TEST_RESULTS.var(),
    inputs::ROLE_NAME.var(),
    inputs::OU.var(),
    // The test records its verdict in the registry.
    inputs::UPDATE_MODEL_LIFECYCLE.var(),
];
/// The preflight projects: test-step's inputs for a stage, the accounts file the buildspec passes,
/// and the StackSet roles preflight judges (not EXPORT_TEST_RESULTS: the buildspec names its
/// reports).
const PREFLIGHT_PROJECT_ENV: &[&str] = &[
    inputs::PROJECT_NAME.var(),
    inputs::PROJECT_ID.var(),
    inputs::REGION.var(),
    inputs::BUILD_CONFIG.var(),
    inputs::ACCOUNTS_FILE.var(),
    inputs::ROLE_NAME.var(),
    inputs::OU.var(),
    inputs::DEPLOY_ROLE.var(),
    inputs::DEPLOY_ADMIN_ROLE.var(),
];
/// The preflight projects, each with its stage, the role it runs as and the stage's StackSet
/// action.
const PREFLIGHT_PROJECTS: [(&str, &str, &str, &str); 2] = [
    (
        "ModelDeployPreflightStagingProject",
        "staging",
        "TestRole",
        "DeployStaging",
    ),
    (
        "ModelDeployPreflightProdProject",
        "prod",
        "VerifyRole",
        "DeployProd",
    ),
];

/// What the binaries call as the pipeline's role (build-step, and test-step before AssumeRole).
const PIPELINE_ROLE_CALLS: &[&str] = &[
    "sagemaker:ListModelPackages",
    "sagemaker:DescribeModelPackage",
    "sagemaker:DescribeModelPackageGroup",
    "sagemaker:GetModelPackageGroupPolicy",
    "sagemaker:PutModelPackageGroupPolicy",
    "organizations:ListAccountsForParent",
    "organizations:ListOrganizationalUnitsForParent",
    "organizations:DescribeOrganization",
    "organizations:ListParents",
    "cloudformation:DescribeStackSet",
    "cloudformation:ListStackInstances",
    "cloudformation:ListStackSetOperations",
    "sts:AssumeRole",
    "sts:GetCallerIdentity",
    "codepipeline:GetPipelineExecution",
    // test-step preflight: the policy and default encryption of the bucket the package's model
    // reads (S3 authorizes GetBucketEncryption as s3:GetEncryptionConfiguration).
    "s3:GetBucketPolicy",
    "s3:GetEncryptionConfiguration",
    // test-step preflight: the policy of the repository the package's image comes from.
    "ecr:GetRepositoryPolicy",
    // test-step --update-model-lifecycle: the verdict in the tested package's ModelLifeCycle.
    "sagemaker:UpdateModelPackage",
];
/// What test-step calls as the assumed role in each staging or prod account, with a resource the
/// role template grants it on (`GetAtt <Resource>` for an `!GetAtt`).
const ASSUMED_ROLE_CALLS: &[(&str, &str)] = &[
    (
        "sagemaker:DescribeEndpoint",
        "arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:endpoint/*",
    ),
    (
        "sagemaker:DescribeEndpointConfig",
        "arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:endpoint-config/*",
    ),
    (
        "sagemaker:DescribeModel",
        "arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:model/*",
    ),
    (
        "sagemaker:InvokeEndpoint",
        "arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:endpoint/*",
    ),
    // test-step preflight and status.
    ("sagemaker:ListEndpoints", "*"),
    (
        "sagemaker:ListTags",
        "arn:${AWS::Partition}:sagemaker:*:${AWS::AccountId}:endpoint/*",
    ),
    ("servicequotas:ListServiceQuotas", "*"),
    ("iam:GetRole", "GetAtt ModelExecutionRole.Arn"),
    (
        "iam:GetRole",
        "arn:${AWS::Partition}:iam::${AWS::AccountId}:role/sagemaker-${SageMakerProjectId}-${Stage}-deploy",
    ),
    ("iam:SimulatePrincipalPolicy", "GetAtt ModelExecutionRole.Arn"),
];

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("test-support lives inside the workspace")
        .to_owned()
}

fn read(relative: &str) -> String {
    std::fs::read_to_string(repo().join(relative))
        .unwrap_or_else(|e| panic!("cannot read {relative}: {e}"))
}

fn yaml(relative: &str) -> Value {
    serde_yaml::from_str(&read(relative)).unwrap_or_else(|e| panic!("{relative} is not YAML: {e}"))
}

/// The value of a short-form function call `!<function> value`.
fn tagged<'a>(value: &'a Value, function: &str) -> Option<&'a Value> {
    match value {
        Value::Tagged(tagged) if tagged.tag == function => Some(&tagged.value),
        _ => None,
    }
}

fn ref_of(value: &Value) -> Option<&str> {
    tagged(value, "Ref").and_then(Value::as_str)
}

/// A name as written: a literal or the string form of `!Sub`.
fn text_of(value: &Value) -> Option<&str> {
    value
        .as_str()
        .or_else(|| tagged(value, "Sub").and_then(Value::as_str))
}

/// The alternatives of an `!If` (recursively), without `AWS::NoValue`; any other value is itself.
fn branches(value: &Value) -> Vec<&Value> {
    match tagged(value, "If").and_then(Value::as_sequence) {
        Some(parts) if parts.len() == 3 => parts[1..].iter().flat_map(branches).collect(),
        _ if ref_of(value) == Some("AWS::NoValue") => Vec::new(),
        _ => vec![value],
    }
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::Sequence(items) => items.iter().filter_map(Value::as_str).collect(),
        other => other.as_str().into_iter().collect(),
    }
}

struct Template {
    path: &'static str,
    doc: Value,
}

impl Template {
    fn load(path: &'static str) -> Self {
        Self {
            path,
            doc: yaml(path),
        }
    }

    #[track_caller]
    fn resource(&self, id: &str) -> &Value {
        let resource = &self.doc["Resources"][id];
        assert!(resource.is_mapping(), "{}: no resource {id}", self.path);
        resource
    }

    fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Value)> {
        self.doc["Resources"]
            .as_mapping()
            .into_iter()
            .flatten()
            .filter(move |(_, r)| r["Type"].as_str() == Some(kind))
            .map(|(id, r)| (id.as_str().unwrap_or_default(), r))
    }

    #[track_caller]
    fn max_length(&self, parameter: &str) -> usize {
        self.doc["Parameters"][parameter]["MaxLength"]
            .as_u64()
            .unwrap_or_else(|| panic!("{}: parameter {parameter} has no MaxLength", self.path))
            as usize
    }

    /// The longest value a name can take: each `${Parameter}` at its MaxLength, each `${Resource}`
    /// at the longest of that resource's own name.
    #[track_caller]
    fn longest(&self, name: &str) -> usize {
        let mut length = 0;
        let mut rest = name;
        while let Some(start) = rest.find("${") {
            let end = start + rest[start..].find('}').expect("an unclosed ${ in a !Sub");
            let variable = &rest[start + 2..end];
            length += start
                + if self.doc["Parameters"][variable].is_mapping() {
                    self.max_length(variable)
                } else {
                    let resource = self.resource(variable);
                    let (_, property, _) = NAME_LIMITS
                        .iter()
                        .find(|(kind, _, _)| resource["Type"].as_str() == Some(kind))
                        .unwrap_or_else(|| {
                            panic!("{}: no name length for ${{{variable}}}", self.path)
                        });
                    self.longest(
                        text_of(&resource["Properties"][property])
                            .unwrap_or_else(|| panic!("{variable} has no {property}")),
                    )
                };
            rest = &rest[end + 1..];
        }
        length + rest.len()
    }

    /// Name -> value of a CodeBuild project's environment, in order.
    fn environment(&self, project: &str) -> Vec<(&str, &Value)> {
        self.resource(project)["Properties"]["Environment"]["EnvironmentVariables"]
            .as_sequence()
            .unwrap_or_else(|| panic!("{project} has no EnvironmentVariables"))
            .iter()
            .map(|v| {
                (
                    v["Name"].as_str().expect("a variable without a Name"),
                    &v["Value"],
                )
            })
            .collect()
    }

    #[track_caller]
    fn literal_env(&self, project: &str, name: &str) -> &str {
        self.environment(project)
            .into_iter()
            .find(|(n, _)| *n == name)
            .and_then(|(_, v)| v.as_str())
            .unwrap_or_else(|| panic!("{project} sets no literal {name}"))
    }

    /// The pipeline's actions, each with its stage index and RunOrder; an action written as
    /// `!If` yields its alternatives in one entry.
    fn pipeline_actions(&self) -> Vec<(usize, u64, Vec<&Value>)> {
        let stages = self.resource("ModelDeployPipeline")["Properties"]["Stages"]
            .as_sequence()
            .expect("the pipeline has Stages");
        stages
            .iter()
            .enumerate()
            .flat_map(|(index, stage)| {
                stage["Actions"]
                    .as_sequence()
                    .expect("a stage has Actions")
                    .iter()
                    .map(move |action| {
                        let alternatives = branches(action);
                        let run_order = alternatives[0]["RunOrder"].as_u64().unwrap_or(1);
                        (index, run_order, alternatives)
                    })
            })
            .collect()
    }

    fn stack_set_actions(&self) -> Vec<&Value> {
        self.pipeline_actions()
            .into_iter()
            .flat_map(|(_, _, alternatives)| alternatives)
            .filter(|a| a["ActionTypeId"]["Provider"].as_str() == Some("CloudFormationStackSet"))
            .collect()
    }

    /// Every statement of the inline policies of `role` (a resource), `!If`s expanded.
    fn role_statements(&self, role: &str) -> Vec<&Value> {
        self.resource(role)["Properties"]["Policies"]
            .as_sequence()
            .expect("the role has inline Policies")
            .iter()
            .flat_map(|p| {
                p["PolicyDocument"]["Statement"]
                    .as_sequence()
                    .expect("Statement list")
            })
            .flat_map(branches)
            .collect()
    }
}

/// The resources whose names derive from the project, with the property and AWS's limit.
const NAME_LIMITS: &[(&str, &str, usize)] = &[
    ("AWS::S3::Bucket", "BucketName", 63),
    ("AWS::Events::Rule", "Name", 64),
    ("AWS::CodeCommit::Repository", "RepositoryName", 100),
    ("AWS::CodeBuild::Project", "Name", 255),
    ("AWS::CodePipeline::Pipeline", "Name", 100),
    ("AWS::IAM::Role", "RoleName", 64),
];
const EVENT_TARGET_ID_LIMIT: usize = 64;
const STACK_SET_NAME_LIMIT: usize = 128;
const REPORT_GROUP_NAME_LIMIT: usize = 128;

#[test]
fn every_template_passes_cfn_lint() {
    let mut templates: Vec<PathBuf> = std::fs::read_dir(repo().join("templates"))
        .expect("templates/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "yml"))
        .collect();
    templates.sort();
    let names: Vec<String> = templates
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["sagemaker-project.yml", "target-account-role.yml"]);
    for template in &templates {
        assert_cfn_lint_passes(template, &[]);
    }
}

#[track_caller]
fn assert_environment(project: &str, expected: &[&str], binary: ReadBy) {
    let template = Template::load(PRODUCT);
    let names: BTreeSet<&str> = template
        .environment(project)
        .into_iter()
        .map(|(n, _)| n)
        .collect();
    assert_eq!(
        names,
        expected.iter().copied().collect(),
        "{project}'s env vars"
    );
    for name in names {
        let entry = inputs::ENV_VARS
            .iter()
            .find(|v| v.input.env == Some(name))
            .unwrap_or_else(|| panic!("{project} sets {name}, which is not in inputs::ENV_VARS"));
        assert!(
            entry.read_by == binary || entry.read_by == ReadBy::Both,
            "{project} sets {name}, which its binary does not read ({:?})",
            entry.read_by
        );
    }
}

#[test]
fn the_build_project_sets_exactly_the_env_vars_build_step_reads() {
    assert_environment(
        "ModelDeployBuildProject",
        BUILD_PROJECT_ENV,
        ReadBy::BuildStep,
    );
}

#[test]
fn the_test_project_sets_exactly_the_env_vars_test_step_reads() {
    assert_environment("ModelDeployTestProject", TEST_PROJECT_ENV, ReadBy::TestStep);
}

/// VerifyProd tests the prod accounts: the prod build config, the prod role, the prod OU.
#[test]
fn the_verify_project_sets_the_test_step_env_vars_for_prod() {
    assert_environment(
        "ModelDeployVerifyProdProject",
        TEST_PROJECT_ENV,
        ReadBy::TestStep,
    );
    let template = Template::load(PRODUCT);
    let build = "ModelDeployBuildProject";
    let verify = "ModelDeployVerifyProdProject";
    assert_eq!(
        template.literal_env(verify, inputs::BUILD_CONFIG.var()),
        template.literal_env(build, inputs::EXPORT_PROD_CONFIG.var())
    );
    let env = template.environment(verify);
    let role = env
        .iter()
        .find(|(name, _)| *name == inputs::ROLE_NAME.var())
        .and_then(|(_, value)| text_of(value));
    assert_eq!(role, Some("sagemaker-${SageMakerProjectId}-prod-test"));
    let buildspec = read("test/verify-prod-buildspec.yml");
    for needle in [
        "/prod-config-export.json\"",
        "/prod-accounts.json\"",
        "--invocations 2",
    ] {
        assert!(
            buildspec.contains(needle),
            "verify-prod-buildspec.yml lacks {needle}"
        );
    }
}

/// A failed production verification rolls the prod stage back to the last version that passed.
#[test]
fn the_prod_stage_rolls_back_when_its_verification_fails() {
    let template = Template::load(PRODUCT);
    let stages = template.resource("ModelDeployPipeline")["Properties"]["Stages"]
        .as_sequence()
        .expect("Stages");
    let prod = stages.last().expect("a last stage");
    assert_eq!(prod["OnFailure"]["Result"].as_str(), Some("ROLLBACK"));
    let kinds: Vec<&str> = prod["Actions"]
        .as_sequence()
        .expect("Actions")
        .iter()
        .map(action_kind)
        .collect();
    assert_eq!(kinds, ["Preflight prod", "StackSet to prod", "Verify prod"]);
}

/// SELF_MANAGED (the default): the product's administration role may only assume the stages'
/// roles, which the target account role makes trust it.
#[test]
fn self_managed_stack_sets_deploy_through_the_administration_role() {
    let template = Template::load(PRODUCT);
    let parameters = &template.doc["Parameters"];
    assert_eq!(
        parameters["StackSetPermissionModel"]["Default"].as_str(),
        Some("SELF_MANAGED")
    );
    // One administration role per stage: trusted by CloudFormation for that stage's stack set
    // alone, it may assume that stage's deploy role alone.
    for (role, stage) in [
        ("StagingAdministrationRole", "staging"),
        ("ProdAdministrationRole", "prod"),
    ] {
        let role = &template.resource(role)["Properties"];
        let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
        assert_eq!(
            trust["Principal"]["Service"].as_str(),
            Some("cloudformation.amazonaws.com")
        );
        assert_eq!(
            text_of(&trust["Condition"]["ArnLike"]["aws:SourceArn"]),
            Some(format!("arn:${{AWS::Partition}}:cloudformation:*:${{AWS::AccountId}}:stackset/sagemaker-${{SageMakerProjectName}}-${{SageMakerProjectId}}-deploy-{stage}:*").as_str())
        );
        let statement = &role["Policies"][0]["PolicyDocument"]["Statement"][0];
        assert_eq!(statement["Action"].as_str(), Some("sts:AssumeRole"));
        assert_eq!(
            text_of(&statement["Resource"]),
            Some(format!("arn:${{AWS::Partition}}:iam::*:role/sagemaker-${{SageMakerProjectId}}-{stage}-deploy").as_str())
        );
    }
    for action in template.stack_set_actions() {
        let execution = tagged(&action["Configuration"]["ExecutionRoleName"], "If")
            .expect("ExecutionRoleName is an !If");
        let stage = match action_kind(action) {
            "StackSet to staging" => "staging",
            _ => "prod",
        };
        assert_eq!(
            text_of(&execution[1]),
            Some(format!("sagemaker-${{SageMakerProjectId}}-{stage}-deploy").as_str())
        );
    }
}

#[test]
fn codebuild_projects_run_the_repo_buildspecs_on_a_current_image() {
    let template = Template::load(PRODUCT);
    for (project, buildspec) in [
        ("ModelDeployBuildProject", "buildspec.yml"),
        ("ModelDeployTestProject", "test/buildspec.yml"),
        (
            "ModelDeployVerifyProdProject",
            "test/verify-prod-buildspec.yml",
        ),
        (
            "ModelDeployPreflightStagingProject",
            "test/preflight-buildspec.yml",
        ),
        (
            "ModelDeployPreflightProdProject",
            "test/preflight-buildspec.yml",
        ),
    ] {
        let properties = &template.resource(project)["Properties"];
        assert_eq!(
            properties["Source"]["BuildSpec"].as_str(),
            Some(buildspec),
            "{project}"
        );
        assert!(repo().join(buildspec).is_file(), "{buildspec} is missing");
        let image = properties["Environment"]["Image"].as_str();
        assert_ne!(image, Some(DEPRECATED_IMAGE), "{project}");
        assert_eq!(image, Some(IMAGE), "{project}");
    }
}

/// What an action does, named after the pipeline's intended order.
fn action_kind(action: &Value) -> &'static str {
    let (kind, config) = (&action["ActionTypeId"], &action["Configuration"]);
    match (kind["Category"].as_str(), kind["Provider"].as_str()) {
        (Some("Source"), _) => "Source",
        (Some("Build"), Some("CodeBuild")) => match ref_of(&config["ProjectName"]) {
            Some("ModelDeployBuildProject") => "Build",
            Some("ModelDeployTestProject") => "Test",
            Some("ModelDeployVerifyProdProject") => "Verify prod",
            Some("ModelDeployPreflightStagingProject") => "Preflight staging",
            Some("ModelDeployPreflightProdProject") => "Preflight prod",
            other => panic!("a CodeBuild action runs {other:?}"),
        },
        (Some("Deploy"), Some("CloudFormationStackSet")) => match config["Parameters"].as_str() {
            Some("BuildArtifact::staging-config-export.json") => "StackSet to staging",
            Some("BuildArtifact::prod-config-export.json") => "StackSet to prod",
            other => panic!("a StackSet action reads {other:?}"),
        },
        (Some("Approval"), Some("Manual")) => "Approval",
        other => panic!("unexpected action type {other:?}"),
    }
}

/// The pipeline's shape (docs/running.md, "The pipeline's shape"): each stage's actions in order,
/// one at a time but for the fresh staging test and the prod preflight the approver reads side by
/// side.
#[test]
fn the_pipeline_runs_preflight_before_each_deploy_and_the_approval_between_the_stages() {
    let template = Template::load(PRODUCT);
    let mut actions: Vec<(usize, u64, &str)> = template
        .pipeline_actions()
        .into_iter()
        .map(|(stage, run_order, alternatives)| {
            let kinds: BTreeSet<&str> = alternatives.iter().map(|a| action_kind(a)).collect();
            assert_eq!(
                kinds.len(),
                1,
                "the alternatives of one action differ: {kinds:?}"
            );
            (stage, run_order, kinds.into_iter().next().unwrap())
        })
        .collect();
    actions.sort_unstable();
    assert_eq!(
        actions,
        [
            (0, 1, "Source"),
            (1, 1, "Build"),
            (2, 1, "Preflight staging"),
            (2, 2, "StackSet to staging"),
            (2, 3, "Test"),
            (3, 1, "Preflight prod"),
            (3, 1, "Test"),
            (3, 2, "Approval"),
            (4, 1, "Preflight prod"),
            (4, 2, "StackSet to prod"),
            (4, 3, "Verify prod"),
        ]
    );
    let stages: Vec<&str> = template.resource("ModelDeployPipeline")["Properties"]["Stages"]
        .as_sequence()
        .expect("Stages")
        .iter()
        .map(|stage| stage["Name"].as_str().expect("a stage name"))
        .collect();
    assert_eq!(
        stages,
        [
            "Source",
            "Build",
            "DeployResourcesStaging",
            "ApproveProd",
            "DeployResourcesProd"
        ]
    );
}

#[test]
fn stack_set_actions_target_an_ou_without_auto_deployment_and_read_build_step_outputs() {
    let template = Template::load(PRODUCT);
    let build = "ModelDeployBuildProject";
    let actions = template.stack_set_actions();
    assert_eq!(actions.len(), 2);
    for action in actions {
        let config = &action["Configuration"];
        let (template_var, parameters_var) = match action_kind(action) {
            "StackSet to staging" => (
                inputs::EXPORT_TEMPLATE.var(),
                inputs::EXPORT_STAGING_CONFIG.var(),
            ),
            _ => (
                inputs::EXPORT_PROD_TEMPLATE.var(),
                inputs::EXPORT_PROD_CONFIG.var(),
            ),
        };
        let template_file = template.literal_env(build, template_var);
        assert!(
            config.get("OrganizationsAutoDeployment").is_none(),
            "OrganizationsAutoDeployment may not be given with DeploymentTargets/Regions: {config:?}"
        );
        // SELF_MANAGED: the accounts file build-step wrote; SERVICE_MANAGED: the stage's OU.
        let (accounts_var, ou) = match action_kind(action) {
            "StackSet to staging" => (
                inputs::EXPORT_STAGING_ACCOUNTS.var(),
                "OrganizationalUnitStagingId",
            ),
            _ => (
                inputs::EXPORT_PROD_ACCOUNTS.var(),
                "OrganizationalUnitProdId",
            ),
        };
        let targets =
            tagged(&config["DeploymentTargets"], "If").expect("DeploymentTargets is an !If");
        assert_eq!(targets[0].as_str(), Some("SelfManaged"));
        assert_eq!(
            targets[1].as_str(),
            Some(
                format!(
                    "BuildArtifact::{}",
                    template.literal_env(build, accounts_var)
                )
                .as_str()
            )
        );
        assert_eq!(ref_of(&targets[2]), Some(ou));
        assert_eq!(ref_of(&config["Regions"]), Some("AWS::Region"));
        assert_eq!(
            ref_of(&config["PermissionModel"]),
            Some("StackSetPermissionModel")
        );
        assert_eq!(
            config["TemplatePath"].as_str(),
            Some(format!("BuildArtifact::{template_file}").as_str())
        );
        assert_eq!(
            config["Parameters"].as_str(),
            Some(
                format!(
                    "BuildArtifact::{}",
                    template.literal_env(build, parameters_var)
                )
                .as_str()
            )
        );
        assert_eq!(
            strings(&action["InputArtifacts"][0]["Name"]),
            ["BuildArtifact"]
        );
    }
    assert_eq!(
        template.literal_env(build, inputs::EXPORT_TEMPLATE.var()),
        "template-export.yml"
    );
    assert_eq!(
        template.literal_env("ModelDeployTestProject", inputs::BUILD_CONFIG.var()),
        template.literal_env(build, inputs::EXPORT_STAGING_CONFIG.var())
    );
}

/// The actions of the stage named `stage`, `!If`s expanded.
fn stage_actions<'a>(template: &'a Template, stage: &str) -> Vec<&'a Value> {
    template.resource("ModelDeployPipeline")["Properties"]["Stages"]
        .as_sequence()
        .expect("Stages")
        .iter()
        .find(|s| s["Name"].as_str() == Some(stage))
        .unwrap_or_else(|| panic!("no stage {stage}"))["Actions"]
        .as_sequence()
        .expect("Actions")
        .iter()
        .flat_map(branches)
        .collect()
}

/// The variables a buildspec exports (`env.exported-variables`).
fn exported_variables(buildspec: &str) -> Vec<String> {
    strings(&yaml(buildspec)["env"]["exported-variables"])
        .into_iter()
        .map(str::to_owned)
        .collect()
}

/// The approver sees evidence taken in the approval's own stage: a fresh staging test and the
/// prod preflight, side by side before the approval; its message carries both summaries (what
/// test/buildspec.yml and test/preflight-buildspec.yml export) and its link the test run.
#[test]
fn the_approval_shows_the_staging_test_and_prod_preflight_summaries_and_links_to_the_run() {
    let template = Template::load(PRODUCT);
    let actions = stage_actions(&template, "ApproveProd");
    let namespace_of = |kind: &str| -> &str {
        let action = actions
            .iter()
            .find(|a| action_kind(a) == kind)
            .unwrap_or_else(|| panic!("ApproveProd has no {kind} action"));
        assert_eq!(action["RunOrder"].as_u64(), Some(1), "{kind} runs first");
        action["Namespace"]
            .as_str()
            .unwrap_or_else(|| panic!("{kind} has a Namespace"))
    };
    let (test, preflight) = (namespace_of("Test"), namespace_of("Preflight prod"));
    assert_eq!((test, preflight), ("ReviewStaging", "PreflightProd"));
    let approval = actions
        .iter()
        .find(|a| action_kind(a) == "Approval")
        .expect("the approval");
    assert_eq!(approval["RunOrder"].as_u64(), Some(2));
    let config = &approval["Configuration"];
    let message = config["CustomData"].as_str().expect("CustomData");
    for variable in [
        format!("#{{{test}.TEST_SUMMARY}}"),
        format!("#{{{preflight}.PREFLIGHT_SUMMARY}}"),
        format!("#{{{preflight}.PREFLIGHT_RUN_URL}}"),
    ] {
        assert!(message.contains(&variable), "{message} lacks {variable}");
    }
    assert_eq!(
        config["ExternalEntityLink"].as_str(),
        Some(format!("#{{{test}.TEST_RUN_URL}}").as_str())
    );
    assert_eq!(
        exported_variables("test/buildspec.yml"),
        ["TEST_SUMMARY", "TEST_RUN_URL"]
    );
    assert_eq!(
        exported_variables("test/preflight-buildspec.yml"),
        ["PREFLIGHT_SUMMARY", "PREFLIGHT_RUN_URL"]
    );
    // No approval anywhere else.
    let approvals = template
        .pipeline_actions()
        .into_iter()
        .flat_map(|(_, _, alternatives)| alternatives)
        .filter(|a| action_kind(a) == "Approval")
        .count();
    assert_eq!(approvals, 1);
}

/// The stages after the build are entered only when build-step says their StackSet needs a
/// deploy, and skipped otherwise: a VariableCheck rule on the build's exported variable, with the
/// result SKIP (the only rules that may skip a stage are LambdaInvoke and VariableCheck). The
/// approval's stage and the prod stage take the same condition, so no run reaches production
/// without the approval, and a run that skips the approval skips production too.
#[test]
fn each_stage_after_the_build_is_entered_only_when_the_build_says_it_needs_a_deploy() {
    let template = Template::load(PRODUCT);
    let build = template
        .pipeline_actions()
        .into_iter()
        .flat_map(|(_, _, alternatives)| alternatives)
        .find(|a| action_kind(a) == "Build")
        .expect("the build action");
    let namespace = build["Namespace"].as_str().expect("the build's Namespace");
    assert_eq!(namespace, "BuildVariables");
    assert_eq!(
        exported_variables("buildspec.yml"),
        ["DEPLOY_STAGING", "DEPLOY_PROD"]
    );
    let stages = template.resource("ModelDeployPipeline")["Properties"]["Stages"]
        .as_sequence()
        .expect("Stages");
    let mut entries = BTreeMap::new();
    for stage in stages {
        let name = stage["Name"].as_str().unwrap();
        let entry = &stage["BeforeEntry"];
        if entry.is_null() {
            entries.insert(name, None);
            continue;
        }
        let conditions = entry["Conditions"].as_sequence().expect("Conditions");
        assert_eq!(conditions.len(), 1, "{name}: one entry condition");
        assert_eq!(conditions[0]["Result"].as_str(), Some("SKIP"), "{name}");
        let rules = conditions[0]["Rules"].as_sequence().expect("Rules");
        assert_eq!(rules.len(), 1, "{name}: one rule");
        let kind = &rules[0]["RuleTypeId"];
        assert_eq!(
            (
                kind["Category"].as_str(),
                kind["Owner"].as_str(),
                kind["Provider"].as_str(),
                kind["Version"].as_str()
            ),
            (Some("Rule"), Some("AWS"), Some("VariableCheck"), Some("1")),
            "{name}"
        );
        let config = &rules[0]["Configuration"];
        assert_eq!(config["Operator"].as_str(), Some("EQ"), "{name}");
        assert_eq!(config["Value"].as_str(), Some("true"), "{name}");
        entries.insert(name, config["Variable"].as_str());
    }
    let variable = |name: &str| format!("#{{{namespace}.{name}}}");
    let (staging, prod) = (variable("DEPLOY_STAGING"), variable("DEPLOY_PROD"));
    assert_eq!(
        entries,
        BTreeMap::from([
            ("Source", None),
            ("Build", None),
            ("DeployResourcesStaging", Some(staging.as_str())),
            ("ApproveProd", Some(prod.as_str())),
            ("DeployResourcesProd", Some(prod.as_str())),
        ])
    );
    // The whole condition, not only its variable, is the same for the approval and production.
    let before_entry = |name: &str| {
        stages
            .iter()
            .find(|s| s["Name"].as_str() == Some(name))
            .map(|s| s["BeforeEntry"].clone())
    };
    assert_eq!(
        before_entry("ApproveProd"),
        before_entry("DeployResourcesProd")
    );
}

/// Each stage's preflight runs test-step preflight with that stage's files and roles, as the role
/// its stage's test role trusts, with the StackSet roles its StackSet action deploys through.
#[test]
fn the_preflight_projects_check_their_stage_with_its_files_and_roles() {
    let template = Template::load(PRODUCT);
    let build = "ModelDeployBuildProject";
    for (project, stage, role, stack_set_action) in PREFLIGHT_PROJECTS {
        assert_environment(project, PREFLIGHT_PROJECT_ENV, ReadBy::TestStep);
        let properties = &template.resource(project)["Properties"];
        assert_eq!(
            tagged(&properties["ServiceRole"], "GetAtt").and_then(Value::as_str),
            Some(format!("{role}.Arn").as_str()),
            "{project}"
        );
        let (config, accounts) = match stage {
            "staging" => (
                inputs::EXPORT_STAGING_CONFIG.var(),
                inputs::EXPORT_STAGING_ACCOUNTS.var(),
            ),
            _ => (
                inputs::EXPORT_PROD_CONFIG.var(),
                inputs::EXPORT_PROD_ACCOUNTS.var(),
            ),
        };
        assert_eq!(
            template.literal_env(project, inputs::BUILD_CONFIG.var()),
            template.literal_env(build, config),
            "{project}"
        );
        assert_eq!(
            template.literal_env(project, inputs::ACCOUNTS_FILE.var()),
            template.literal_env(build, accounts),
            "{project}"
        );
        let env = template.environment(project);
        let value = |name: &str| {
            env.iter()
                .find(|(n, _)| *n == name)
                .map_or_else(|| panic!("{project} sets {name}"), |(_, v)| (*v).clone())
        };
        assert_eq!(
            text_of(&value(inputs::ROLE_NAME.var())),
            Some(format!("sagemaker-${{SageMakerProjectId}}-{stage}-test").as_str())
        );
        // The StackSet roles: the action's own under SELF_MANAGED, empty (unset) otherwise.
        let action = template
            .stack_set_actions()
            .into_iter()
            .find(|a| a["Name"].as_str() == Some(stack_set_action))
            .expect("the stage's StackSet action");
        for (variable, key) in [
            (inputs::DEPLOY_ROLE.var(), "ExecutionRoleName"),
            (inputs::DEPLOY_ADMIN_ROLE.var(), "AdministrationRoleArn"),
        ] {
            let set = tagged(&value(variable), "If")
                .and_then(Value::as_sequence)
                .cloned()
                .unwrap_or_else(|| panic!("{project}: {variable} is an !If"));
            let used = tagged(&action["Configuration"][key], "If")
                .and_then(Value::as_sequence)
                .expect("an !If");
            assert_eq!(set[0].as_str(), Some("SelfManaged"));
            assert_eq!(
                set[1], used[1],
                "{project}: {variable} is {stack_set_action}'s {key}"
            );
            assert_eq!(set[2].as_str(), Some(""), "{project}: {variable}");
        }
    }
    // One buildspec: the command, the stage's files from the BuildArtifact, named reports.
    let buildspec = read("test/preflight-buildspec.yml");
    for needle in [
        "./bin/test-step preflight",
        "--build-config \"$artifacts/${BUILD_CONFIG:?",
        "--accounts-file \"$artifacts/${ACCOUNTS_FILE:?",
        "--export-test-results preflight-results.json",
        "--junit-report preflight-results.xml",
        "--summary-file preflight-summary.txt",
    ] {
        assert!(
            buildspec.contains(needle),
            "test/preflight-buildspec.yml lacks {needle}"
        );
    }
}

/// Rollout per stage: the StackSet actions take the product's percentages, whose defaults deploy
/// staging to every account at once and prod in waves of a tenth.
#[test]
fn stack_set_rollouts_are_product_parameters_staging_all_at_once_prod_in_waves() {
    let template = Template::load(PRODUCT);
    let parameters = &template.doc["Parameters"];
    for action in template.stack_set_actions() {
        let config = &action["Configuration"];
        let stage = match action_kind(action) {
            "StackSet to staging" => "Staging",
            _ => "Prod",
        };
        for (key, default) in [
            (
                "MaxConcurrentPercentage",
                if stage == "Staging" { 100 } else { 10 },
            ),
            (
                "FailureTolerancePercentage",
                if stage == "Staging" { 100 } else { 10 },
            ),
        ] {
            let parameter = format!("{stage}{key}");
            assert_eq!(ref_of(&config[key]), Some(parameter.as_str()), "{config:?}");
            assert_eq!(
                parameters[&parameter]["Default"].as_u64(),
                Some(default),
                "{parameter}"
            );
            assert_eq!(
                parameters[&parameter]["MaxValue"].as_u64(),
                Some(100),
                "{parameter}"
            );
        }
    }
}

/// Rollback without a commit: a V2 pipeline whose ModelPackageArn variable reaches build-step as
/// MODEL_PACKAGE_ARN, "newest" (a variable cannot default to empty) dropped by the buildspec.
#[test]
fn the_pipeline_takes_the_package_to_deploy_as_a_variable() {
    let template = Template::load(PRODUCT);
    let pipeline = &template.resource("ModelDeployPipeline")["Properties"];
    assert_eq!(pipeline["PipelineType"].as_str(), Some("V2"));
    assert_eq!(pipeline["ExecutionMode"].as_str(), Some("QUEUED"));
    let variables = pipeline["Variables"].as_sequence().expect("Variables");
    assert_eq!(variables.len(), 1);
    assert_eq!(variables[0]["Name"].as_str(), Some("ModelPackageArn"));
    assert_eq!(variables[0]["DefaultValue"].as_str(), Some("newest"));
    let build = template
        .pipeline_actions()
        .into_iter()
        .flat_map(|(_, _, alternatives)| alternatives)
        .find(|a| action_kind(a) == "Build")
        .expect("the build action");
    // CodePipeline pastes a variable's value into an action's configuration as text, unescaped
    // (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html): model
    // that with a value that closes the JSON string, and check that no action's configuration
    // changes, and that the build's variables are exactly the static ones.
    let hostile = r#"x", "type": "PLAINTEXT"}, {"name": "AWS_ENDPOINT_URL_SAGEMAKER", "value": "http://attacker.example"#;
    for (_, _, alternatives) in template.pipeline_actions() {
        for action in alternatives {
            let mut texts = Vec::new();
            yaml_strings(&action["Configuration"], &mut texts);
            for text in texts {
                assert!(
                    !text.contains("#{variables."),
                    "{}: a pipeline variable is pasted into {text}",
                    action_kind(action)
                );
            }
        }
    }
    let configured = build["Configuration"]["EnvironmentVariables"]
        .as_str()
        .expect("EnvironmentVariables is a JSON string");
    let substituted = configured
        .replace("#{variables.ModelPackageArn}", hostile)
        .replace(
            "#{codepipeline.PipelineExecutionId}",
            "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0",
        );
    let passed: serde_json::Value =
        serde_json::from_str(&substituted).expect("EnvironmentVariables is JSON");
    assert_eq!(
        passed,
        serde_json::json!([{"name": inputs::PIPELINE_EXECUTION_ID.var(), "value": "0b1c2d3e-4f50-6172-8394-a5b6c7d8e9f0", "type": "PLAINTEXT"}])
    );
    // build-step asks CodePipeline for the run's variables; the build project names the pipeline.
    assert_eq!(
        template.literal_env("ModelDeployBuildProject", inputs::PIPELINE_NAME.var()),
        text_of(&pipeline["Name"]).expect("the pipeline's name")
    );
    assert_eq!(
        read("buildspec.yml").matches("./bin/build-step").count(),
        1,
        "buildspec.yml runs build-step once, with nothing taken from the variable"
    );
}

#[test]
fn the_source_is_the_seeded_codecommit_repository_or_a_codeconnections_one() {
    let template = Template::load(PRODUCT);
    let parameters = &template.doc["Parameters"];
    assert_eq!(
        parameters["SourceProvider"]["Default"].as_str(),
        Some("CodeCommit")
    );
    assert_eq!(
        strings(&parameters["SourceProvider"]["AllowedValues"]),
        ["CodeCommit", "CodeConnections"]
    );
    assert_eq!(parameters["SourceBranch"]["Default"].as_str(), Some("main"));
    for id in [
        "ModelDeployCodeCommitRepository",
        "ModelDeployCodeCommitEventRule",
    ] {
        assert_eq!(
            template.resource(id)["Condition"].as_str(),
            Some("UseCodeCommit"),
            "{id}"
        );
    }
    let seed = &template.resource("ModelDeployCodeCommitRepository")["Properties"]["Code"]["S3"];
    assert_eq!(
        (ref_of(&seed["Bucket"]), ref_of(&seed["Key"])),
        (Some("SeedBucket"), Some("SeedKey"))
    );

    let (_, _, sources) = template.pipeline_actions().remove(0);
    let providers: Vec<(&str, &str)> = sources
        .iter()
        .map(|a| {
            let kind = &a["ActionTypeId"];
            (
                kind["Owner"].as_str().unwrap(),
                kind["Provider"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        providers,
        [("AWS", "CodeCommit"), ("AWS", "CodeStarSourceConnection")]
    );
    let connection = &sources[1]["Configuration"];
    assert_eq!(
        ref_of(&connection["ConnectionArn"]),
        Some("CodeConnectionArn")
    );
    assert_eq!(
        ref_of(&connection["FullRepositoryId"]),
        Some("FullRepositoryId")
    );
    assert_eq!(ref_of(&connection["BranchName"]), Some("SourceBranch"));
    assert_eq!(
        connection["OutputArtifactFormat"].as_str(),
        Some("CODE_ZIP")
    );
    assert_eq!(
        ref_of(&sources[0]["Configuration"]["BranchName"]),
        Some("SourceBranch")
    );
    assert_eq!(
        sources[0]["Configuration"]["PollForSourceChanges"].as_bool(),
        Some(false)
    );
}

#[test]
fn every_derived_name_fits_its_limit_for_a_32_character_project() {
    let template = Template::load(PRODUCT);
    assert_eq!(
        template.max_length("SageMakerProjectName"),
        PROJECT_NAME_MAX
    );
    assert_eq!(template.max_length("SageMakerProjectId"), PROJECT_ID_MAX);
    let mut names: Vec<(String, usize, usize)> = Vec::new();
    let mut check = |what: String, name: &str, limit: usize| {
        names.push((what, template.longest(name), limit));
    };
    for (kind, property, limit) in NAME_LIMITS {
        let mut found = 0;
        for (id, resource) in template.resources_of_type(kind) {
            let properties = &resource["Properties"];
            let name = text_of(&properties[property])
                .unwrap_or_else(|| panic!("{id} has no {property} to check"));
            check(format!("{id}.{property}"), name, *limit);
            for target in properties["Targets"].as_sequence().into_iter().flatten() {
                check(
                    format!("{id} target Id"),
                    text_of(&target["Id"]).unwrap(),
                    EVENT_TARGET_ID_LIMIT,
                );
            }
            found += 1;
        }
        assert!(found > 0, "no {kind} in {PRODUCT}");
    }
    for action in template.stack_set_actions() {
        let name = text_of(&action["Configuration"]["StackSetName"]).expect("a StackSetName");
        check(
            format!("{} StackSetName", action["Name"].as_str().unwrap()),
            name,
            STACK_SET_NAME_LIMIT,
        );
    }
    let report_arns: Vec<&str> = report_group_arns(&template)
        .into_iter()
        .flat_map(|(_, _, arns)| arns)
        .collect();
    for report_arn in report_arns {
        let (_, report_group) = report_arn
            .split_once(":report-group/")
            .expect("a report group ARN");
        check("report group".into(), report_group, REPORT_GROUP_NAME_LIMIT);
    }

    let too_long: Vec<_> = names
        .iter()
        .filter(|(_, longest, limit)| longest > limit)
        .collect();
    assert!(
        too_long.is_empty(),
        "names over their limit (what, longest, limit): {too_long:?}"
    );
    assert_eq!(names.len(), 42, "{names:?}");
}

#[test]
fn the_artifact_bucket_is_encrypted_private_and_kept() {
    let template = Template::load(PRODUCT);
    let bucket = template.resource("MlOpsArtifactsBucket");
    assert_eq!(bucket["DeletionPolicy"].as_str(), Some("Retain"));
    assert_eq!(bucket["UpdateReplacePolicy"].as_str(), Some("Retain"));
    let properties = &bucket["Properties"];
    let encryption = &properties["BucketEncryption"]["ServerSideEncryptionConfiguration"][0];
    assert_eq!(
        encryption["ServerSideEncryptionByDefault"]["SSEAlgorithm"].as_str(),
        Some("AES256")
    );
    let block = &properties["PublicAccessBlockConfiguration"];
    for setting in [
        "BlockPublicAcls",
        "BlockPublicPolicy",
        "IgnorePublicAcls",
        "RestrictPublicBuckets",
    ] {
        assert_eq!(block[setting].as_bool(), Some(true), "{setting}");
    }
}

#[test]
fn the_rules_fire_on_approved_and_rejected_packages_of_the_group_and_on_the_source_branch() {
    let template = Template::load(PRODUCT);
    let (_, group) = template
        .environment("ModelDeployBuildProject")
        .into_iter()
        .find(|(name, _)| *name == inputs::MODEL_PACKAGE_GROUP.var())
        .expect("the build project names the group");
    let model = &template.resource("ModelDeploySageMakerEventRule")["Properties"]["EventPattern"];
    assert_eq!(
        strings(&model["detail-type"]),
        ["SageMaker Model Package State Change"]
    );
    assert_eq!(
        strings(&model["detail"]["ModelApprovalStatus"]),
        ["Approved", "Rejected"],
        "a rejection redeploys the newest remaining Approved package; pending ones never run it"
    );
    assert_eq!(model["detail"]["ModelPackageGroupName"][0], *group);
    let code = &template.resource("ModelDeployCodeCommitEventRule")["Properties"]["EventPattern"];
    assert_eq!(strings(&code["detail"]["referenceType"]), ["branch"]);
    assert_eq!(
        ref_of(&code["detail"]["referenceName"][0]),
        Some("SourceBranch")
    );
}

/// The report groups each role may write, by role and statement: every statement of the
/// product's roles that grants the CodeBuild report permissions.
fn report_group_arns(template: &Template) -> Vec<(&'static str, &str, Vec<&str>)> {
    let mut found = Vec::new();
    for role in [
        "PipelineRole",
        "BuildRole",
        "TestRole",
        "VerifyRole",
        "EventsRole",
    ] {
        for statement in template.role_statements(role) {
            if !strings(&statement["Action"]).contains(&"codebuild:BatchPutTestCases") {
                continue;
            }
            assert_eq!(
                strings(&statement["Action"]),
                [
                    "codebuild:CreateReportGroup",
                    "codebuild:CreateReport",
                    "codebuild:UpdateReport",
                    "codebuild:BatchPutTestCases"
                ],
                "{role}"
            );
            let arns = statement["Resource"]
                .as_sequence()
                .expect("a list of report group ARNs")
                .iter()
                .map(|arn| text_of(arn).expect("a report group ARN"))
                .collect();
            found.push((role, statement["Sid"].as_str().unwrap_or_default(), arns));
        }
    }
    found
}

/// The report groups of `buildspec` as CodeBuild names them for `project`: `<project name>-<group>`.
fn buildspec_report_groups(template: &Template, buildspec: &str, project: &str) -> Vec<String> {
    let reports = yaml(buildspec)["reports"].clone();
    let groups: Vec<String> = reports
        .as_mapping()
        .unwrap_or_else(|| panic!("{buildspec} declares reports"))
        .keys()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    assert_eq!(
        groups.len(),
        5,
        "{buildspec}: one per JUnit file test-step may write: {groups:?}"
    );
    let name = text_of(&template.resource(project)["Properties"]["Name"])
        .unwrap_or_else(|| panic!("{project}'s name"));
    groups
        .iter()
        .map(|group| format!(
            "arn:${{AWS::Partition}}:codebuild:${{AWS::Region}}:${{AWS::AccountId}}:report-group/{name}-{group}"
        ))
        .collect()
}

/// The test role writes the test's and the staging preflight's report groups, the verify role
/// the prod preflight's, and no role any other (VerifyProd keeps its reports as files).
#[test]
fn each_role_may_write_exactly_the_report_groups_of_the_buildspecs_it_runs() {
    let template = Template::load(PRODUCT);
    let expected = [
        (
            "TestRole",
            "TestReports",
            buildspec_report_groups(&template, "test/buildspec.yml", "ModelDeployTestProject"),
        ),
        (
            "TestRole",
            "PreflightReports",
            buildspec_report_groups(
                &template,
                "test/preflight-buildspec.yml",
                "ModelDeployPreflightStagingProject",
            ),
        ),
        (
            "VerifyRole",
            "PreflightReports",
            buildspec_report_groups(
                &template,
                "test/preflight-buildspec.yml",
                "ModelDeployPreflightProdProject",
            ),
        ),
    ];
    let found = report_group_arns(&template);
    assert_eq!(found.len(), expected.len(), "{found:?}");
    for ((role, sid, arns), (want_role, want_sid, want)) in found.iter().zip(&expected) {
        assert_eq!((*role, *sid), (*want_role, *want_sid));
        assert_eq!(arns, want, "{role} {sid}");
    }
    assert!(yaml("test/verify-prod-buildspec.yml")["reports"].is_null());
}

/// Every string in a YAML tree, tags and keys included.
fn yaml_strings<'a>(value: &'a Value, out: &mut Vec<&'a str>) {
    match value {
        Value::String(s) => out.push(s),
        Value::Sequence(items) => items.iter().for_each(|v| yaml_strings(v, out)),
        Value::Mapping(map) => map.iter().for_each(|(k, v)| {
            yaml_strings(k, out);
            yaml_strings(v, out);
        }),
        Value::Tagged(tagged) => yaml_strings(&tagged.value, out),
        _ => {}
    }
}

#[test]
fn no_arn_names_a_partition() {
    for path in [PRODUCT, TARGET_ROLE] {
        let template = Template::load(path);
        let mut texts = Vec::new();
        yaml_strings(&template.doc["Resources"], &mut texts);
        yaml_strings(&template.doc["Outputs"], &mut texts);
        let fixed: Vec<_> = texts.iter().filter(|t| t.contains("arn:aws")).collect();
        assert!(
            fixed.is_empty(),
            "{path}: ARNs with a fixed partition: {fixed:?}"
        );
        assert!(
            texts.iter().any(|t| t.contains("arn:${AWS::Partition}:")),
            "{path}"
        );
    }
    for (file, text) in iam_documents() {
        assert!(
            !text.contains("arn:aws"),
            "{file}: an ARN with a fixed partition"
        );
    }
}

/// A resource as a statement names it: its text, or `GetAtt <Resource>.<Attribute>`.
fn resource_text(value: &Value) -> Option<String> {
    match tagged(value, "GetAtt").and_then(Value::as_str) {
        Some(attribute) => Some(format!("GetAtt {attribute}")),
        None => text_of(value).map(str::to_owned),
    }
}

/// Actions granted by statements (one or a list), on resources (one or a list).
fn grants<'a>(statements: &[&'a Value]) -> Vec<(&'a str, Vec<String>)> {
    statements
        .iter()
        .filter(|s| s["Effect"].as_str() == Some("Allow"))
        .flat_map(|s| {
            let resources: Vec<String> = match &s["Resource"] {
                Value::Sequence(items) => items.iter().filter_map(resource_text).collect(),
                one => resource_text(one).into_iter().collect(),
            };
            strings(&s["Action"])
                .into_iter()
                .map(move |a| (a, resources.clone()))
        })
        .collect()
}

/// Each role of a target account does one job and trusts exactly who does it: SageMaker (in
/// this account) runs the model, the project's administration role for the stage deploys, and the
/// project's test (staging) or verify (prod) build tests; all by exact ARN.
#[test]
fn each_target_role_trusts_exactly_the_principal_of_its_job() {
    let template = Template::load(TARGET_ROLE);
    let trust = |role: &str| -> Vec<&Value> {
        template.resource(role)["Properties"]["AssumeRolePolicyDocument"]["Statement"]
            .as_sequence()
            .expect("trust statements")
            .iter()
            .collect()
    };
    let model = trust("ModelExecutionRole");
    assert_eq!(model.len(), 1);
    assert_eq!(
        model[0]["Principal"]["Service"].as_str(),
        Some("sagemaker.amazonaws.com")
    );
    assert_eq!(
        ref_of(&model[0]["Condition"]["StringEquals"]["aws:SourceAccount"]),
        Some("AWS::AccountId")
    );
    let deploy = trust("StackSetExecutionRole");
    assert_eq!(deploy.len(), 1);
    assert_eq!(
        text_of(&deploy[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"]),
        Some("arn:${AWS::Partition}:iam::${DataScienceAccountId}:role/sagemaker-deploy-steps/sagemaker-${SageMakerProjectId}-${Stage}-stackset-admin")
    );
    let test = trust("TestRole");
    assert_eq!(test.len(), 1);
    let by_stage = tagged(&test[0]["Condition"]["ArnEquals"]["aws:PrincipalArn"], "If")
        .expect("the tester depends on the stage");
    assert_eq!(by_stage[0].as_str(), Some("IsProd"));
    let callers: Vec<&str> = by_stage
        .as_sequence()
        .expect("an !If list")
        .iter()
        .skip(1)
        .filter_map(text_of)
        .collect();
    assert_eq!(
        callers,
        [
            "arn:${AWS::Partition}:iam::${DataScienceAccountId}:role/sagemaker-deploy-steps/sagemaker-${SageMakerProjectId}-verify",
            "arn:${AWS::Partition}:iam::${DataScienceAccountId}:role/sagemaker-deploy-steps/sagemaker-${SageMakerProjectId}-test"
        ]
    );
    for role in ["ModelExecutionRole", "StackSetExecutionRole", "TestRole"] {
        assert!(
            template.resource(role)["Properties"]["ManagedPolicyArns"].is_null(),
            "{role}: no managed policy (such as AmazonS3ReadOnlyAccess)"
        );
        for statement in trust(role) {
            assert!(
                !serde_yaml::to_string(statement).unwrap().contains('*'),
                "{role} trusts a pattern: {statement:?}"
            );
        }
    }
    // The tester describes and invokes, makes preflight's reads, and nothing else.
    let granted = grants(&template.role_statements("TestRole"));
    let actions: BTreeSet<&str> = granted.iter().map(|(a, _)| *a).collect();
    assert_eq!(
        actions,
        ASSUMED_ROLE_CALLS.iter().map(|(a, _)| *a).collect()
    );
    for (action, resource) in ASSUMED_ROLE_CALLS {
        assert!(
            granted
                .iter()
                .any(|(a, r)| a == action && r.iter().any(|r| r == resource)),
            "{TARGET_ROLE} does not grant {action} on {resource}"
        );
    }
    // The deploying role passes the model's role, and no other.
    let pass_role: Vec<_> = grants(&template.role_statements("StackSetExecutionRole"))
        .into_iter()
        .filter(|(a, _)| *a == "iam:PassRole")
        .collect();
    assert_eq!(pass_role.len(), 1);
}

#[test]
fn the_target_role_can_create_every_resource_type_of_the_endpoint_template() {
    // The call that creates each type; a new type in the template needs its permissions here.
    let creators = [
        ("AWS::SageMaker::Model", "sagemaker:CreateModel"),
        (
            "AWS::SageMaker::EndpointConfig",
            "sagemaker:CreateEndpointConfig",
        ),
        ("AWS::SageMaker::Endpoint", "sagemaker:CreateEndpoint"),
        ("AWS::CloudWatch::Alarm", "cloudwatch:PutMetricAlarm"),
        (
            "AWS::ApplicationAutoScaling::ScalableTarget",
            "application-autoscaling:RegisterScalableTarget",
        ),
        (
            "AWS::ApplicationAutoScaling::ScalingPolicy",
            "application-autoscaling:PutScalingPolicy",
        ),
        // A parameter type, not a resource: CloudFormation reads the parameter as the deployer.
        ("AWS::SSM::Parameter::Value<String>", "ssm:GetParameters"),
    ];
    let types: BTreeSet<&str> = read("templates/endpoint.yml.j2")
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Type: AWS::"))
        .map(|t| creators.iter().find(|(kind, _)| kind[5..] == *t).unwrap_or_else(|| {
            panic!("the endpoint template creates AWS::{t}: grant it in {TARGET_ROLE} and list it here")
        }).1)
        .collect();
    assert_eq!(types.len(), creators.len(), "{types:?}");
    let template = Template::load(TARGET_ROLE);
    let granted = grants(&template.role_statements("StackSetExecutionRole"));
    for action in types {
        assert!(
            granted.iter().any(|(a, _)| *a == action),
            "{TARGET_ROLE} does not grant {action}"
        );
    }
}

/// The table of AWS facts in `docs/aws-facts.md`: (fact, as of, source) per row.
fn aws_facts() -> Vec<(String, String, String)> {
    let doc = read("docs/aws-facts.md");
    let section = doc
        .split("# AWS facts this project relies on")
        .nth(1)
        .expect("docs/aws-facts.md has its AWS facts heading");
    section
        .split("\n## ")
        .next()
        .unwrap_or_default()
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| fact ") && !l.starts_with("|---"))
        .map(|l| {
            let cells: Vec<&str> = l.trim_matches('|').split(" | ").map(str::trim).collect();
            assert_eq!(cells.len(), 3, "a facts row has three cells: {l}");
            (
                cells[0].to_owned(),
                cells[1].to_owned(),
                cells[2].to_owned(),
            )
        })
        .collect()
}

#[test]
fn every_aws_fact_is_dated_sourced_and_what_the_templates_use() {
    let facts = aws_facts();
    assert_eq!(facts.len(), 4, "{facts:?}");
    for (fact, as_of, source) in &facts {
        let date = as_of
            .strip_prefix("checked ")
            .unwrap_or_else(|| panic!("{fact}: \"{as_of}\" is not \"checked <date>\""));
        let parts: Vec<&str> = date.split('-').collect();
        assert!(
            parts.len() == 3
                && [4, 2, 2]
                    .iter()
                    .zip(&parts)
                    .all(|(n, p)| p.len() == *n && p.bytes().all(|b| b.is_ascii_digit())),
            "{fact}: {date} is not a YYYY-MM-DD date"
        );
        assert!(
            source.contains("](https://docs.aws.amazon.com/")
                || source.contains("](https://aws.amazon.com/"),
            "{fact}: the source is not an AWS page: {source}"
        );
    }
    let fact_about = |needle: &str| -> &str {
        facts
            .iter()
            .find(|(fact, ..)| fact.contains(needle))
            .map_or_else(
                || panic!("no fact about {needle}"),
                |(fact, ..)| fact.as_str(),
            )
    };
    // The image the CodeBuild projects run on (checked project by project above).
    assert!(fact_about("CodeBuild").contains(&format!("`{IMAGE}`")));
    assert!(fact_about("CodeBuild").contains(&format!(
        "`{}`",
        DEPRECATED_IMAGE.trim_start_matches("aws/codebuild/")
    )));
    // CodeCommit stays the default source, with CodeConnections beside it.
    let product = Template::load(PRODUCT);
    let source = &product.doc["Parameters"]["SourceProvider"];
    assert_eq!(source["Default"].as_str(), Some("CodeCommit"));
    assert!(fact_about("CodeCommit").contains("`SourceProvider: CodeCommit` (the default)"));
    let comment = read(PRODUCT);
    assert!(
        comment.contains("reopened on 2025-11-24")
            && fact_about("CodeCommit").contains("2025-11-24"),
        "the product template's comment and docs/aws-facts.md state the same date"
    );
    // The roles and the managed policy the IAM documents complement.
    let iam_readme = read("templates/iam/README.md");
    for name in [
        "AmazonSageMakerServiceCatalogProductsLaunchRole",
        "AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy",
    ] {
        assert!(fact_about("managed policy").contains(name), "{name}");
        assert!(
            iam_readme.contains(name),
            "templates/iam/README.md names {name}"
        );
    }
    assert!(fact_about("studio-visibility").contains("`sagemaker:projectS3TemplatesLocation`"));
}

#[test]
fn build_step_reads_back_the_stack_sets_the_pipeline_deploys() {
    let template = Template::load(PRODUCT);
    let names: BTreeSet<&str> = template
        .stack_set_actions()
        .into_iter()
        .map(|a| text_of(&a["Configuration"]["StackSetName"]).expect("a StackSetName"))
        .collect();
    let project = deploy_core::template::ProjectContext {
        name: "${SageMakerProjectName}",
        id: "${SageMakerProjectId}",
    };
    let read_back: Vec<String> = deploy_core::build_plan::Stage::ALL
        .into_iter()
        .map(|stage| deploy_core::build_plan::stack_set_name(&project, stage))
        .collect();
    assert_eq!(
        names,
        read_back
            .iter()
            .map(String::as_str)
            .collect::<BTreeSet<_>>()
    );
}

#[test]
fn the_target_role_grants_vpc_and_key_permissions_only_when_its_parameters_ask() {
    let template = Template::load(TARGET_ROLE);
    // The model's role uses the network and the capture key; the deploying role the volume key
    // and the network parameters.
    let statements: Vec<&Value> = ["ModelExecutionRole", "StackSetExecutionRole"]
        .iter()
        .flat_map(|role| {
            template.resource(role)["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
                .as_sequence()
                .expect("Statement list")
        })
        .collect();
    // (condition, statement) of the statement with this Sid, when an !If gates it.
    let gated = |sid: &str| -> Option<(&str, &Value)> {
        statements.iter().find_map(|s| {
            let branch = tagged(s, "If")?.as_sequence()?;
            (branch[1]["Sid"].as_str() == Some(sid))
                .then(|| (branch[0].as_str().unwrap_or(""), &branch[1]))
        })
    };
    assert_eq!(
        gated("ModelNetworkInterfaces").map(|g| g.0),
        Some("VpcModels")
    );
    for (sid, condition, actions, key) in [
        (
            "EncryptEndpointVolumes",
            "VolumeKeyGiven",
            vec!["kms:CreateGrant"],
            "EndpointVolumeKmsKeyArn",
        ),
        // Apart, without the grant condition its requests never carry.
        (
            "DescribeEndpointVolumeKey",
            "VolumeKeyGiven",
            vec!["kms:DescribeKey"],
            "EndpointVolumeKmsKeyArn",
        ),
        (
            "EncryptCapturedData",
            "DataCaptureKeyGiven",
            vec!["kms:Encrypt", "kms:GenerateDataKey"],
            "DataCaptureKmsKeyArn",
        ),
    ] {
        let (gate, statement) = gated(sid).unwrap_or_else(|| panic!("no gated statement {sid}"));
        assert_eq!(gate, condition, "{sid}");
        assert_eq!(strings(&statement["Action"]), actions, "{sid}");
        assert_eq!(ref_of(&statement["Resource"]), Some(key), "{sid}");
    }
    let (_, volume) = gated("EncryptEndpointVolumes").expect("the volume key statement");
    assert_eq!(
        volume["Condition"]["Bool"]["kms:GrantIsForAWSResource"].as_str(),
        Some("true"),
        "the role may create grants for AWS services only"
    );
    let granted: Vec<_> = ["ModelExecutionRole", "StackSetExecutionRole"]
        .iter()
        .flat_map(|role| grants(&template.role_statements(role)))
        .collect();
    let resources_of = |action: &str| -> Vec<String> {
        granted
            .iter()
            .filter(|(a, _)| *a == action)
            .flat_map(|(_, r)| r.clone())
            .collect()
    };
    // The network interface calls SageMaker makes for a model with a VpcConfig, and no other.
    let ec2: BTreeSet<&str> = granted
        .iter()
        .map(|(a, _)| *a)
        .filter(|a| a.starts_with("ec2:"))
        .collect();
    assert_eq!(
        ec2,
        BTreeSet::from([
            "ec2:CreateNetworkInterface",
            "ec2:CreateNetworkInterfacePermission",
            "ec2:DeleteNetworkInterface",
            "ec2:DeleteNetworkInterfacePermission",
            "ec2:DescribeDhcpOptions",
            "ec2:DescribeNetworkInterfaces",
            "ec2:DescribeSecurityGroups",
            "ec2:DescribeSubnets",
            "ec2:DescribeVpcs",
        ])
    );
    assert_eq!(
        resources_of("ssm:GetParameters"),
        ["arn:${AWS::Partition}:ssm:*:${AWS::AccountId}:parameter${EndpointNetworkParameterPath}/*"]
    );
    // No public parameter: AWS serves them in some Regions only, and the emulator in none.
    assert!(
        !read("templates/endpoint.yml.j2").contains("/aws/service/"),
        "the endpoint template needs no public SSM parameter"
    );
}

/// The AWS actions the binaries call, read from their sources: every call is wrapped in
/// `AwsCallError::new("<service>:<Action>", ...)`. Test modules are left out.
fn actions_in_sources() -> BTreeSet<String> {
    let mut actions = BTreeSet::new();
    let mut dirs: Vec<PathBuf> = ["shell/src", "build-step/src", "test-step/src"]
        .iter()
        .map(|dir| repo().join(dir))
        .collect();
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source dir") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let source = std::fs::read_to_string(&path).expect("a readable source");
            let code = source
                .split("#[cfg(test)]\nmod tests")
                .next()
                .unwrap_or_default();
            for call in code.split("AwsCallError::new(\"").skip(1) {
                actions.insert(call.split('"').next().unwrap_or_default().to_owned());
            }
        }
    }
    actions
}

#[test]
fn the_listed_calls_are_exactly_the_binaries_calls() {
    let listed: BTreeSet<String> = PIPELINE_ROLE_CALLS
        .iter()
        .copied()
        .chain(ASSUMED_ROLE_CALLS.iter().map(|(action, _)| *action))
        .map(str::to_owned)
        .collect();
    assert_eq!(actions_in_sources(), listed);
}

/// `templates/iam/*.json`, by file name, sorted.
fn iam_documents() -> Vec<(String, String)> {
    let mut files: Vec<(String, String)> = std::fs::read_dir(repo().join(IAM_DIR))
        .expect("templates/iam exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            (
                name,
                std::fs::read_to_string(&p).expect("a readable policy"),
            )
        })
        .collect();
    files.sort();
    files
}

/// The `${Name}` placeholders in a text.
fn placeholders(text: &str) -> BTreeSet<&str> {
    text.split("${")
        .skip(1)
        .filter_map(|rest| rest.split_once('}').map(|(name, _)| name))
        .collect()
}

fn policy(file: &str) -> Json {
    serde_json::from_str(&read(&format!("{IAM_DIR}/{file}")))
        .unwrap_or_else(|e| panic!("{file} is not JSON: {e}"))
}

/// Action -> resources of every Allow statement of a policy document.
fn json_grants(document: &Json) -> Vec<(String, Vec<String>)> {
    let one_or_many = |v: &Json| -> Vec<String> {
        match v {
            Json::Array(items) => items
                .iter()
                .filter_map(Json::as_str)
                .map(str::to_owned)
                .collect(),
            Json::String(s) => vec![s.clone()],
            _ => Vec::new(),
        }
    };
    document["Statement"]
        .as_array()
        .expect("a Statement list")
        .iter()
        .filter(|s| s["Effect"] == "Allow")
        .flat_map(|s| {
            let resources = one_or_many(&s["Resource"]);
            one_or_many(&s["Action"])
                .into_iter()
                .map(move |a| (a, resources.clone()))
        })
        .collect()
}

#[test]
fn iam_documents_parse_and_every_placeholder_is_documented() {
    // The README's placeholder table: rows that start with a placeholder.
    let readme = read(&format!("{IAM_DIR}/README.md"));
    let documented: BTreeSet<&str> = readme
        .lines()
        .filter_map(|line| line.strip_prefix("| `"))
        .flat_map(|row| placeholders(row.split('`').next().unwrap_or_default()))
        .collect();
    let files = iam_documents();
    let names: Vec<&str> = files.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names,
        [
            "artifact-bucket-policy.json",
            "launch-role-inline-policy.json",
            "permissions-boundary-policy.json"
        ]
    );
    let mut used = BTreeSet::new();
    for (file, text) in &files {
        let document = policy(file);
        assert_eq!(document["Version"], "2012-10-17", "{file}");
        let sids: Vec<&str> = document["Statement"]
            .as_array()
            .unwrap_or_else(|| panic!("{file}: no Statement list"))
            .iter()
            .map(|s| {
                s["Sid"]
                    .as_str()
                    .unwrap_or_else(|| panic!("{file}: a statement without Sid"))
            })
            .collect();
        assert_eq!(
            sids.iter().collect::<BTreeSet<_>>().len(),
            sids.len(),
            "{file}: duplicate Sids"
        );
        for (action, _) in json_grants(&document) {
            assert!(!action.contains('*'), "{file}: wildcard action {action}");
        }
        let missing: Vec<_> = placeholders(text)
            .difference(&documented)
            .copied()
            .collect();
        assert!(
            missing.is_empty(),
            "{file}: placeholders missing from the README: {missing:?}"
        );
        used.extend(placeholders(text));
    }
    let unused: Vec<_> = documented.difference(&used).collect();
    assert!(
        unused.is_empty(),
        "the README documents unused placeholders: {unused:?}"
    );
}

/// The binaries' roles in the data science account grant the binaries' calls and, in the services
/// the binaries call, nothing else; the tests assume only their own stage's tester.
#[test]
fn the_binaries_roles_grant_their_calls_and_no_other_sagemaker_organizations_or_sts_action() {
    let template = Template::load(PRODUCT);
    let granted: Vec<(&str, Vec<String>)> = ["BuildRole", "TestRole", "VerifyRole"]
        .iter()
        .flat_map(|role| grants(&template.role_statements(role)))
        .collect();
    let exclusive = |a: &&str| {
        [
            "sagemaker:",
            "organizations:",
            "sts:",
            "codepipeline:",
            "cloudformation:",
        ]
        .iter()
        .any(|p| a.starts_with(p))
            || [
                "s3:GetBucketPolicy",
                "s3:GetEncryptionConfiguration",
                "ecr:GetRepositoryPolicy",
            ]
            .contains(a)
    };
    let binaries: BTreeSet<&str> = granted
        .iter()
        .map(|(action, _)| *action)
        .filter(exclusive)
        .collect();
    assert_eq!(
        binaries,
        PIPELINE_ROLE_CALLS
            .iter()
            .copied()
            .filter(exclusive)
            .collect()
    );
    for (role, stage) in [("TestRole", "staging"), ("VerifyRole", "prod")] {
        let assumed: Vec<String> = grants(&template.role_statements(role))
            .into_iter()
            .filter(|(a, _)| *a == "sts:AssumeRole")
            .flat_map(|(_, r)| r)
            .collect();
        assert_eq!(
            assumed,
            [format!("arn:${{AWS::Partition}}:iam::*:role/sagemaker-${{SageMakerProjectId}}-{stage}-test")]
        );
    }
    // build-step's update check and deploy decision read the project's StackSets, and change
    // none.
    let build: Vec<(&str, Vec<String>)> = grants(&template.role_statements("BuildRole"));
    let reads = [
        "cloudformation:DescribeStackSet",
        "cloudformation:ListStackInstances",
        "cloudformation:ListStackSetOperations",
    ];
    assert!(build
        .iter()
        .all(|(a, _)| !a.starts_with("cloudformation:") || reads.contains(a)));
    // Preflight's reads in this account, by the two roles that run it, name this account's
    // resources only; and only they read resource policies.
    let preflight_reads = [
        "sagemaker:DescribeModelPackage",
        "s3:GetBucketPolicy",
        "s3:GetEncryptionConfiguration",
        "ecr:GetRepositoryPolicy",
    ];
    for role in ["TestRole", "VerifyRole", "BuildRole"] {
        let granted = grants(&template.role_statements(role));
        for action in &preflight_reads[1..] {
            let resources: Vec<&String> = granted
                .iter()
                .filter(|(a, _)| a == action)
                .flat_map(|(_, r)| r)
                .collect();
            if role == "BuildRole" {
                assert!(resources.is_empty(), "{role} grants {action}");
                continue;
            }
            assert!(!resources.is_empty(), "{role} does not grant {action}");
            for resource in resources {
                assert!(
                    resource.contains("${AWS::AccountId}")
                        || resource.contains("sagemaker-project-${SageMakerProjectId}"),
                    "{role} grants {action} on {resource}, beyond this account"
                );
            }
        }
        if role != "BuildRole" {
            assert!(granted.iter().any(|(a, r)| *a == preflight_reads[0]
                && r == &["arn:${AWS::Partition}:sagemaker:${AWS::Region}:${AWS::AccountId}:model-package/*"]));
        }
    }
}

#[test]
fn the_launch_role_reads_the_platform_seed_not_the_blog_bucket() {
    let text = read(&format!("{IAM_DIR}/launch-role-inline-policy.json"));
    assert!(!text.contains("aws-ml-blog"));
    let granted = json_grants(&policy("launch-role-inline-policy.json"));
    assert!(granted.contains(&(
        "s3:GetObject".to_owned(),
        vec!["arn:${Partition}:s3:::${SeedBucket}/${SeedKeyPrefix}*".to_owned()]
    )));
}

/// The buckets the execution role may read and write are named exactly: a wildcard in either ARN
/// would open every matching bucket of every account to the model.
#[test]
fn the_target_role_takes_exact_bucket_and_repository_arns_only() {
    let role = Template::load(TARGET_ROLE);
    for parameter in ["ModelArtifactBucketArn", "DataCaptureBucketArn"] {
        let pattern = role.doc["Parameters"][parameter]["AllowedPattern"]
            .as_str()
            .unwrap_or_else(|| panic!("{parameter} has an AllowedPattern"));
        let allowed = regex_lite::Regex::new(pattern).unwrap();
        for good in [
            "arn:aws:s3:::sagemaker-eu-west-1-111111111111",
            "arn:aws-cn:s3:::models.example",
        ] {
            assert!(allowed.is_match(good), "{parameter} refuses {good}");
        }
        for wide in [
            "arn:aws:s3:::*",
            "arn:aws:s3:::sagemaker-*",
            "arn:aws:s3:::sagemaker-?",
            "arn:aws:s3:::bucket/*",
            "arn:aws:s3:::",
        ] {
            assert!(!allowed.is_match(wide), "{parameter} takes {wide}");
        }
    }
    let pattern = role.doc["Parameters"]["ModelImageRepositoryArns"]["AllowedPattern"]
        .as_str()
        .expect("ModelImageRepositoryArns has an AllowedPattern");
    let allowed = regex_lite::Regex::new(pattern).unwrap();
    for good in [
        "arn:aws:ecr:eu-west-1:111111111111:repository/churn",
        "arn:aws:ecr:eu-west-1:141502667606:repository/sagemaker-xgboost",
        "arn:aws-cn:ecr:cn-north-1:111111111111:repository/team/model.v2",
    ] {
        assert!(
            allowed.is_match(good),
            "ModelImageRepositoryArns refuses {good}"
        );
    }
    for wide in [
        "*",
        "arn:aws:ecr:eu-west-1:111111111111:repository/*",
        "arn:aws:ecr:eu-west-1:111111111111:repository/team*",
        "arn:aws:ecr:*:111111111111:repository/churn",
        "arn:aws:ecr:eu-west-1:*:repository/churn",
        "arn:aws:ecr:eu-west-1:111111111111:repository/",
    ] {
        assert!(
            !allowed.is_match(wide),
            "ModelImageRepositoryArns takes {wide}"
        );
    }
}

/// A topic as the platform team names it.
const TOPIC: &str = "arn:aws:sns:eu-west-1:111111111111:ml-deployments";
/// The product's required parameters and `NotificationTopicArn` (empty: no topic), as a launch
/// gives them.
fn launch_parameters(topic: &str) -> Vec<(&'static str, String)> {
    vec![
        ("SageMakerProjectName", "churn".to_owned()),
        ("SageMakerProjectId", "p-abc123".to_owned()),
        (
            "PermissionsBoundaryArn",
            "arn:aws:iam::111111111111:policy/sagemaker-deploy-steps-boundary".to_owned(),
        ),
        ("OrganizationalUnitStagingId", "ou-root-staging1".to_owned()),
        ("OrganizationalUnitProdId", "ou-root-prodprod".to_owned()),
        ("SeedBucket", "platform-seeds".to_owned()),
        ("SeedKey", "sagemaker-deploy-steps/seed.zip".to_owned()),
        ("NotificationTopicArn", topic.to_owned()),
    ]
}

/// The product as CloudFormation creates it with `NotificationTopicArn` set to `topic`.
fn launched_with_topic(topic: &str) -> test_support::cfn_eval::ResolvedTemplate {
    let mut inputs = test_support::cfn_eval::StackInputs::new("111111111111", "eu-west-1");
    for (name, value) in launch_parameters(topic) {
        inputs = inputs.parameter(name, &value);
    }
    test_support::cfn_eval::resolve(&Template::load(PRODUCT).doc, &inputs)
        .unwrap_or_else(|e| panic!("the product resolves with NotificationTopicArn {topic:?}: {e}"))
}

/// People are told only when a topic is given: then the approval publishes its message (with both
/// summaries and the link) to it, the pipeline role may publish there and nowhere else, and three
/// EventBridge rules, each on this pipeline's events only, publish a stage's failure, a rollback
/// and a release verified in prod to it. The stage conditions are the same either way.
#[test]
fn people_are_told_through_the_topic_only_when_one_is_given() {
    for topic in ["", TOPIC] {
        let stack = launched_with_topic(topic);
        let pipeline = &stack.resource("ModelDeployPipeline").unwrap().properties;
        let pipeline_name = pipeline["Name"].as_str().unwrap();
        let stages = pipeline["Stages"].as_array().unwrap();
        let approval = stages
            .iter()
            .flat_map(|s| s["Actions"].as_array().unwrap())
            .find(|a| a["ActionTypeId"]["Category"] == "Approval")
            .expect("the approval");
        let rules: BTreeSet<&str> = stack
            .of_type("AWS::Events::Rule")
            .map(|r| r.logical_id.as_str())
            .collect();
        let notifications = [
            "StageFailedNotification",
            "RollbackNotification",
            "ReleaseVerifiedNotification",
        ];
        let publishes: Vec<Json> = stack
            .of_type("AWS::IAM::Role")
            .flat_map(|role| {
                role.properties["Policies"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .flat_map(|p| p["PolicyDocument"]["Statement"].as_array().unwrap().clone())
                    .filter(|s| s["Action"].to_string().contains("sns:"))
                    .map(|s| serde_json::json!({"role": role.logical_id, "statement": s}))
                    .collect::<Vec<_>>()
            })
            .collect();
        let entered: Vec<bool> = stages
            .iter()
            .map(|s| s.get("BeforeEntry").is_some())
            .collect();
        assert_eq!(entered, [false, false, true, true, true], "{topic:?}");
        if topic.is_empty() {
            assert!(approval["Configuration"].get("NotificationArn").is_none());
            assert_eq!(
                rules,
                BTreeSet::from([
                    "ModelDeployCodeCommitEventRule",
                    "ModelDeploySageMakerEventRule"
                ])
            );
            assert!(publishes.is_empty(), "{publishes:#?}");
            assert!(!stack.conditions["NotifyPeople"]);
            continue;
        }
        assert_eq!(approval["Configuration"]["NotificationArn"], topic);
        assert_eq!(
            publishes,
            [serde_json::json!({"role": "PipelineRole", "statement": {
                "Sid": "TellTheApprovers", "Effect": "Allow", "Action": "sns:Publish", "Resource": topic}})]
        );
        for id in notifications {
            assert!(rules.contains(id), "{id}");
            let rule = &stack.resource(id).unwrap().properties;
            let pattern = &rule["EventPattern"];
            assert_eq!(
                pattern["source"],
                serde_json::json!(["aws.codepipeline"]),
                "{id}"
            );
            assert_eq!(
                pattern["detail"]["pipeline"],
                serde_json::json!([pipeline_name]),
                "{id}: this pipeline's events only"
            );
            let targets = rule["Targets"].as_array().unwrap();
            assert_eq!(targets.len(), 1, "{id}");
            assert_eq!(targets[0]["Arn"], topic, "{id}");
            assert!(
                targets[0].get("RoleArn").is_none(),
                "{id}: the topic policy decides"
            );
            let template = targets[0]["InputTransformer"]["InputTemplate"]
                .as_str()
                .unwrap();
            assert!(
                template.starts_with('"') && template.ends_with('"'),
                "{id}: one line of text"
            );
        }
        let detail = |id: &str| &stack.resource(id).unwrap().properties["EventPattern"];
        let failed = detail("StageFailedNotification");
        assert_eq!(
            failed["detail-type"],
            serde_json::json!(["CodePipeline Stage Execution State Change"])
        );
        assert_eq!(failed["detail"]["state"], serde_json::json!(["FAILED"]));
        let rollback = detail("RollbackNotification");
        assert_eq!(
            rollback["detail-type"],
            serde_json::json!(["CodePipeline Pipeline Execution State Change"])
        );
        assert_eq!(
            rollback["detail"]["execution-trigger"]["trigger-type"],
            serde_json::json!(["AutomatedRollback", "ManualRollback"])
        );
        let verified = detail("ReleaseVerifiedNotification");
        assert_eq!(
            verified["detail-type"],
            serde_json::json!(["CodePipeline Action Execution State Change"])
        );
        let (stage, action) = (
            verified["detail"]["stage"][0].as_str().unwrap(),
            verified["detail"]["action"][0].as_str().unwrap(),
        );
        assert_eq!(
            verified["detail"]["state"],
            serde_json::json!(["SUCCEEDED"])
        );
        let verify = stages
            .iter()
            .find(|s| s["Name"] == stage)
            .and_then(|s| {
                s["Actions"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .find(|a| a["Name"] == action)
            })
            .unwrap_or_else(|| panic!("the pipeline has no action {stage}/{action}"));
        assert_eq!(
            verify["Configuration"]["ProjectName"],
            stack
                .resource("ModelDeployVerifyProdProject")
                .unwrap()
                .properties["Name"],
            "the release is verified by VerifyProd"
        );
    }
}

/// cfn-lint checks the product with the parameters a launch gives, with and without a topic; the
/// parameter takes a standard topic's ARN or nothing.
#[test]
fn the_product_lints_with_and_without_a_notification_topic() {
    let work = tempfile::tempdir().unwrap();
    for topic in ["", TOPIC] {
        let parameters: Vec<Json> = launch_parameters(topic)
            .into_iter()
            .map(|(key, value)| serde_json::json!({"ParameterKey": key, "ParameterValue": value}))
            .collect();
        let file = work.path().join(format!("parameters-{}.json", topic.len()));
        std::fs::write(&file, serde_json::to_vec(&parameters).unwrap()).unwrap();
        assert_cfn_lint_passes(&repo().join(PRODUCT), &[&file]);
    }
    let template = Template::load(PRODUCT);
    let pattern = template.doc["Parameters"]["NotificationTopicArn"]["AllowedPattern"]
        .as_str()
        .expect("NotificationTopicArn has an AllowedPattern");
    let allowed = regex_lite::Regex::new(pattern).unwrap();
    for good in [
        "",
        TOPIC,
        "arn:aws-cn:sns:cn-north-1:111111111111:deploys_1",
    ] {
        assert!(allowed.is_match(good), "refuses {good}");
    }
    for bad in [
        "arn:aws:sns:eu-west-1:111111111111:deploys.fifo",
        "arn:aws:sns:eu-west-1:111111111111:*",
        "arn:aws:sqs:eu-west-1:111111111111:deploys",
        "ml-deployments",
    ] {
        assert!(!allowed.is_match(bad), "takes {bad}");
    }
}

/// The platform team's boundary caps every role of the product
/// (`templates/iam/permissions-boundary-policy.json`): an action a role grants that the boundary
/// does not allow is never allowed, so it is a permission that silently does nothing, and the
/// job that needs it fails in an account
/// (https://docs.aws.amazon.com/IAM/latest/UserGuide/access_policies_boundaries.html).
#[test]
fn every_action_the_products_roles_grant_is_within_the_platform_boundary() {
    let boundary = policy("permissions-boundary-policy.json");
    let bounded: Vec<String> = json_grants(&boundary)
        .into_iter()
        .filter(|(_, resources)| resources.iter().any(|r| r == "*"))
        .map(|(action, _)| action)
        .collect();
    let template = Template::load(PRODUCT);
    let mut outside = Vec::new();
    for (role, _) in template.resources_of_type("AWS::IAM::Role") {
        for (action, _) in grants(&template.role_statements(role)) {
            if !bounded.iter().any(|allowed| allowed == action) {
                outside.push(format!("{role}: {action}"));
            }
        }
    }
    assert!(
        outside.is_empty(),
        "granted, but outside the permissions boundary: {outside:#?}"
    );
}
