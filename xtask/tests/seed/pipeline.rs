//! The pipeline run locally from the unzipped seed: the build, test and VerifyProd buildspecs
//! executed as CodeBuild would (environment from the product template's CodeBuild projects), the
//! StackSets deployed SELF_MANAGED (the product's default) through the emulator to the accounts
//! in build-step's accounts files, and the whole chain checked: the newest approved package
//! reaches staging, its endpoint is tested on exactly those accounts, and the reports parse; a
//! failed production verification is rolled back as CodePipeline's stage rollback does it.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_cloudformation::types::{Capability, Parameter, PermissionModels};
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use deploy_core::stack_params::ParameterList;
use serde_json::Value as Json;
use test_support::cfn_eval::{self, ResolvedTemplate, StackInputs};
use test_support::codebuild::{project_environment, BuildResult, Buildspec};
use test_support::endpoints::{deploy_endpoint, queue_json_answers};
use test_support::fault_proxy::FaultProxy;
use test_support::iam_calls::{denied_calls, RolePolicies, Roles};
use test_support::seed::{
    assume_account, sdk_config, sdk_config_with, GroupSeed, Organization, ACCOUNT_ID, REGION,
};
use test_support::{moto, Moto};

use crate::unzip_seed;

const PRODUCT_TEMPLATE: &str = "templates/sagemaker-project.yml";
const TARGET_ROLES_TEMPLATE: &str = "templates/target-account-role.yml";
/// The boundary the platform team names at launch (the product requires one).
const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/sagemaker-deploy-steps-boundary";
/// The role Organizations creates in every account it creates, which the platform team uses to
/// deploy the role template into the stage accounts.
const ORGANIZATION_ROLE: &str = "OrganizationAccountAccessRole";

/// One project's pipeline: its own group, staging OU and accounts, so runs do not collide.
struct Pipeline {
    moto: &'static Moto,
    /// Every call the buildspecs make goes through it; it stands in for GetPipelineExecution.
    proxy: FaultProxy,
    /// The product as CloudFormation would create it for this project.
    product: ResolvedTemplate,
    project: String,
    project_id: String,
    staging_ou: String,
    staging_accounts: Vec<String>,
    prod_ou: String,
    prod_accounts: Vec<String>,
    first_approved: String,
    newest_approved: String,
    seed: tempfile::TempDir,
    work: tempfile::TempDir,
}

impl Pipeline {
    /// Registers v1 Approved, v2 Approved (the newest) and v3 Pending in the data-science
    /// account, and a staging OU with two accounts; unzips the seed as the repository.
    async fn new(project: &str) -> Self {
        let moto = moto();
        let group = GroupSeed::create(moto, project).await;
        let first_approved = group.add_package(Some(ModelApprovalStatus::Approved)).await;
        let newest_approved = group.add_package(Some(ModelApprovalStatus::Approved)).await;
        group
            .add_package(Some(ModelApprovalStatus::PendingManualApproval))
            .await;
        let org = Organization::get(moto).await;
        let (staging_ou, staging_accounts) =
            ou_with_two_accounts(&org, &format!("{project}-staging"), project).await;
        let (prod_ou, prod_accounts) =
            ou_with_two_accounts(&org, &format!("{project}-prod"), &format!("{project}-prod"))
                .await;
        let seed = tempfile::tempdir().unwrap();
        unzip_seed(seed.path());
        let project_id: String = format!("p-{}", project.replace('-', ""))
            .chars()
            .take(16)
            .collect();
        let product = launch(&group.name, &project_id, &staging_ou, &prod_ou);
        let proxy = FaultProxy::start(moto);
        proxy.stand_in_for_pipeline_runs();
        let pipeline = Self {
            moto,
            proxy,
            product,
            project: group.name.clone(),
            project_id,
            staging_ou,
            staging_accounts,
            prod_ou,
            prod_accounts,
            first_approved,
            newest_approved,
            seed,
            work: tempfile::tempdir().unwrap(),
        };
        for (stage, accounts) in [
            ("staging", &pipeline.staging_accounts),
            ("prod", &pipeline.prod_accounts),
        ] {
            for account in accounts {
                pipeline.create_account_roles(stage, account).await;
            }
        }
        pipeline
    }

    /// The product's parameters for this project, as the launch passes them.
    fn launch_inputs(&self) -> StackInputs {
        launch_inputs(
            &self.project,
            &self.project_id,
            &self.staging_ou,
            &self.prod_ou,
        )
    }

    /// The Configuration of the pipeline action `name`, as CloudFormation creates it.
    fn action(&self, name: &str) -> &Json {
        let pipeline = &self
            .product
            .resource("ModelDeployPipeline")
            .unwrap()
            .properties;
        pipeline["Stages"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|stage| stage["Actions"].as_array().unwrap())
            .find(|action| action["Name"] == name)
            .map_or_else(
                || panic!("the pipeline has an action {name}"),
                |action| &action["Configuration"],
            )
    }

    /// The role template's parameters for `account` of `stage`.
    fn account_role_parameters(&self, stage: &str, account: &str) -> Vec<(&'static str, String)> {
        vec![
            ("SageMakerProjectName", self.project.clone()),
            ("SageMakerProjectId", self.project_id.clone()),
            ("Stage", stage.to_owned()),
            // The seed's stage configs name their stage as the pipeline does.
            ("StageName", stage.to_owned()),
            ("DataScienceAccountId", ACCOUNT_ID.to_owned()),
            (
                "PermissionsBoundaryArn",
                BOUNDARY.replace(ACCOUNT_ID, account),
            ),
            (
                "ModelArtifactBucketArn",
                format!("arn:aws:s3:::sagemaker-{REGION}-{ACCOUNT_ID}"),
            ),
            (
                "ModelImageRepositoryArns",
                format!("arn:aws:ecr:{REGION}:{ACCOUNT_ID}:repository/models"),
            ),
        ]
    }

    /// Every role of the project, in the data science account and in each stage account, with
    /// the policies IAM would hold for it.
    fn role_policies(&self) -> ProjectRoles {
        let mut roles = Vec::new();
        let product_roles = self.product.of_type("AWS::IAM::Role");
        roles.extend(product_roles.map(|r| RolePolicies::of_role(r).unwrap()));
        let text = std::fs::read_to_string(xtask::repo_root().join(TARGET_ROLES_TEMPLATE)).unwrap();
        let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        for (stage, accounts) in [
            ("staging", &self.staging_accounts),
            ("prod", &self.prod_accounts),
        ] {
            for account in accounts {
                let mut inputs = StackInputs::new(account, REGION);
                for (key, value) in self.account_role_parameters(stage, account) {
                    inputs = inputs.parameter(key, &value);
                }
                let stack = cfn_eval::resolve(&template, &inputs).unwrap();
                let account_roles = stack.of_type("AWS::IAM::Role");
                roles.extend(account_roles.map(|r| RolePolicies::of_role(r).unwrap()));
            }
        }
        ProjectRoles {
            roles,
            project_id: self.project_id.clone(),
        }
    }

    /// Every call the CodeBuild project `project` made through the proxy since call `first`,
    /// evaluated against the role the product gives that project in production (and, for calls
    /// in a target account, the role assumed there with test-step's session policy).
    fn assert_calls_allowed(&self, project: &str, first: usize) {
        let calls = self.proxy.calls();
        let calls = &calls[first..];
        assert!(!calls.is_empty(), "{project} made no AWS call");
        let service_role = self.product.resource(project).unwrap().properties["ServiceRole"]
            .as_str()
            .unwrap()
            .to_owned();
        let roles = self.role_policies();
        let runner = roles
            .role(&service_role)
            .unwrap_or_else(|| panic!("{service_role}"));
        let denied = denied_calls(calls, runner, &|key| self.proxy.session_of(key), &roles);
        assert!(
            denied.is_empty(),
            "{project}'s calls that its production role may not make:\n{}",
            denied.join("\n")
        );
    }

    /// The roles template, deployed as the platform team does it into `account` of `stage`
    /// (with the account's OrganizationAccountAccessRole), so the StackSets and the tests run
    /// with the split roles: the deploy role, the model's execution role and test-step's role.
    async fn create_account_roles(&self, stage: &str, account: &str) {
        let credentials = assume_account(self.moto, account, ORGANIZATION_ROLE).await;
        let config = sdk_config_with(self.moto, REGION, credentials).await;
        let template = std::fs::read_to_string(xtask::repo_root().join(TARGET_ROLES_TEMPLATE))
            .expect("the roles template");
        let parameters = self.account_role_parameters(stage, account);
        let cfn = aws_sdk_cloudformation::Client::new(&config);
        let stack = format!("sagemaker-{}-{stage}-roles", self.project_id);
        cfn.create_stack()
            .stack_name(&stack)
            .template_body(template)
            .set_parameters(Some(
                parameters
                    .iter()
                    .map(|(k, v)| {
                        Parameter::builder()
                            .parameter_key(*k)
                            .parameter_value(v)
                            .build()
                    })
                    .collect(),
            ))
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await
            .unwrap_or_else(|e| panic!("the roles stack in {account}: {e:?}"));
        let resources = cfn
            .list_stack_resources()
            .stack_name(&stack)
            .send()
            .await
            .expect("ListStackResources");
        let mut roles: Vec<&str> = resources
            .stack_resource_summaries()
            .iter()
            .filter(|r| r.resource_type() == Some("AWS::IAM::Role"))
            .filter_map(|r| r.physical_resource_id())
            .collect();
        roles.sort_unstable();
        let id = &self.project_id;
        assert_eq!(
            roles,
            [
                format!("sagemaker-{id}-{stage}-deploy"),
                format!("sagemaker-{id}-{stage}-model"),
                format!("sagemaker-{id}-{stage}-test"),
            ],
            "the roles stack in {account}"
        );
    }

    /// Runs `buildspec` (relative to the seed) with `project`'s environment from the product
    /// template, CodeBuild's own variables and the emulator's credentials.
    fn codebuild(
        &self,
        project: &str,
        buildspec: &str,
        secondary: &[(&str, &Path)],
    ) -> (BuildResult, PathBuf) {
        self.codebuild_with(project, buildspec, secondary, &[])
    }

    /// [`Self::codebuild`], with `action_env` as the pipeline action's own environment variables
    /// (which CodeBuild lays over the project's).
    fn codebuild_with(
        &self,
        project: &str,
        buildspec: &str,
        secondary: &[(&str, &Path)],
        action_env: &[(&str, &str)],
    ) -> (BuildResult, PathBuf) {
        let template = xtask::repo_root().join(PRODUCT_TEMPLATE);
        let mut env = project_environment(&template, project, &self.launch_inputs()).unwrap();
        env.extend(
            action_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env.extend(self.proxy.env());
        env.push((
            "CODEBUILD_BUILD_ID".into(),
            format!("{project}:0b5e6c1a-local"),
        ));
        env.push((
            "CODEBUILD_SRC_DIR".into(),
            self.seed.path().display().to_string(),
        ));
        for (name, dir) in secondary {
            env.push((
                format!("CODEBUILD_SRC_DIR_{name}"),
                dir.display().to_string(),
            ));
        }
        let spec = Buildspec::read(&self.seed.path().join(buildspec)).unwrap();
        let artifacts = self.work.path().join(project);
        let first_call = self.proxy.calls().len();
        let result = spec.run(self.seed.path(), &env, &artifacts);
        self.assert_calls_allowed(project, first_call);
        (result, artifacts)
    }

    /// Build stage: the six artifacts, checked to name the newest approved package.
    fn build(&self) -> PathBuf {
        let artifacts = self.build_run("build", "newest");
        let staging = Self::staging_parameters(&artifacts);
        assert_eq!(
            staging.get("ModelPackageName"),
            Some(self.newest_approved.as_str())
        );
        artifacts
    }

    /// The build action of a pipeline run started with `ModelPackageArn=<variable>`: the run is
    /// recorded where GetPipelineExecution answers, and the action's environment is its
    /// `EnvironmentVariables` configuration with CodePipeline's variables substituted as text, as
    /// CodePipeline does (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html).
    fn build_action(&self, variable: &str) -> (BuildResult, PathBuf) {
        // CodePipeline's execution ids are UUIDs; one per build run of this process.
        static RUNS: AtomicU32 = AtomicU32::new(0);
        let pipeline_name = self
            .product
            .resource("ModelDeployPipeline")
            .unwrap()
            .properties["Name"]
            .as_str()
            .unwrap()
            .to_owned();
        let number = RUNS.fetch_add(1, Ordering::SeqCst);
        let execution_id = format!("{number:08x}-4d2f-4c3b-9a8e-0b5e6c1a4d2f");
        self.proxy.record_pipeline_run(
            &pipeline_name,
            &execution_id,
            &[("ModelPackageArn", variable)],
        );
        let configured = self.action("BuildDeploymentTemplates")["EnvironmentVariables"]
            .as_str()
            .unwrap()
            .replace("#{codepipeline.PipelineExecutionId}", &execution_id);
        let variables: Vec<Json> = serde_json::from_str(&configured).unwrap();
        let action_env: Vec<(&str, &str)> = variables
            .iter()
            .map(|v| (v["name"].as_str().unwrap(), v["value"].as_str().unwrap()))
            .collect();
        self.codebuild_with("ModelDeployBuildProject", "buildspec.yml", &[], &action_env)
    }

    /// One build stage run, its artifacts kept under `run` (a later run does not replace them:
    /// a stage rollback redeploys an earlier run's artifacts).
    fn build_run(&self, run: &str, variable: &str) -> PathBuf {
        let (result, artifacts) = self.build_action(variable);
        assert!(result.succeeded, "the build stage failed:\n{}", result.log);
        assert_eq!(
            result.artifacts.keys().collect::<Vec<_>>(),
            [
                "prod-accounts.json",
                "prod-config-export.json",
                "prod-template-export.yml",
                "staging-accounts.json",
                "staging-config-export.json",
                "template-export.yml"
            ]
        );
        for (file, accounts) in [
            ("staging-accounts.json", &self.staging_accounts),
            ("prod-accounts.json", &self.prod_accounts),
        ] {
            let mut expected = accounts.clone();
            expected.sort();
            let written: Vec<String> =
                serde_json::from_slice(&std::fs::read(artifacts.join(file)).unwrap()).unwrap();
            assert_eq!(written, expected, "{file}");
        }
        let kept = self.work.path().join(run);
        std::fs::rename(&artifacts, &kept).unwrap();
        kept
    }

    /// The staging parameter file of the build's artifacts, read as test-step reads it.
    fn staging_parameters(artifacts: &Path) -> ParameterList {
        let path = artifacts.join("staging-config-export.json");
        ParameterList::read(&path, deploy_core::inputs::BUILD_CONFIG).unwrap()
    }

    /// The DeployStaging action.
    async fn deploy_staging_stack_set(&self, artifacts: &Path) {
        self.deploy_stack_set("staging", artifacts).await;
    }

    /// A StackSet action as CodePipeline runs it in the product's default SELF_MANAGED mode:
    /// the build's template and the stage's parameter file, deployed to the accounts of the
    /// stage's accounts file (`DeploymentTargets: BuildArtifact::<stage>-accounts.json`). The
    /// first run creates the stack set and its instances, a later one updates it. The emulator
    /// creates the stack's resources in every listed account.
    async fn deploy_stack_set(&self, stage: &str, artifacts: &Path) {
        let (cfn, name) = self.stack_set(stage).await;
        let parameter_file = artifacts.join(format!("{stage}-config-export.json"));
        let file = ParameterList::read(&parameter_file, deploy_core::inputs::BUILD_CONFIG).unwrap();
        let parameters = file
            .iter()
            .map(|p| {
                Parameter::builder()
                    .parameter_key(&p.parameter_key)
                    .parameter_value(&p.parameter_value)
                    .build()
            })
            .collect();
        let accounts: Vec<String> = serde_json::from_slice(
            &std::fs::read(artifacts.join(format!("{stage}-accounts.json"))).unwrap(),
        )
        .unwrap();
        // The stage's template as the build wrote it (the actions' TemplatePath), deployed
        // unchanged: it names no public SSM parameter, which the emulator (and some Regions) lack.
        let template_file = if stage == "prod" {
            "prod-template-export.yml"
        } else {
            "template-export.yml"
        };
        let template = std::fs::read_to_string(artifacts.join(template_file)).unwrap();
        // The roles the stage's StackSet action names, as CloudFormation created the product.
        let action = self.action(if stage == "prod" {
            "DeployProd"
        } else {
            "DeployStaging"
        });
        assert_eq!(action["StackSetName"], name.as_str());
        let admin = action["AdministrationRoleArn"].as_str().unwrap();
        let execution_role = action["ExecutionRoleName"].as_str().unwrap();
        let exists = cfn
            .describe_stack_set()
            .stack_set_name(&name)
            .send()
            .await
            .is_ok();
        if exists {
            cfn.update_stack_set()
                .stack_set_name(&name)
                .template_body(template)
                .set_parameters(Some(parameters))
                .send()
                .await
                .expect("UpdateStackSet");
            return;
        }
        cfn.create_stack_set()
            .stack_set_name(&name)
            .template_body(template)
            .set_parameters(Some(parameters))
            .permission_model(PermissionModels::SelfManaged)
            .administration_role_arn(admin)
            .execution_role_name(execution_role)
            .capabilities(Capability::CapabilityNamedIam)
            .send()
            .await
            .expect("CreateStackSet");
        // CodePipeline passes the file's accounts as DeploymentTargets; the emulator reads only
        // the equivalent Accounts list of CreateStackInstances
        // (https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_CreateStackInstances.html).
        cfn.create_stack_instances()
            .stack_set_name(&name)
            .set_accounts(Some(accounts))
            .regions(REGION)
            .send()
            .await
            .expect("CreateStackInstances");
    }

    /// A CloudFormation client in the pipeline's account and the stage's stack set name, as the
    /// product names it.
    async fn stack_set(&self, stage: &str) -> (aws_sdk_cloudformation::Client, String) {
        let cfn = aws_sdk_cloudformation::Client::new(&sdk_config(self.moto, REGION).await);
        let name = format!(
            "sagemaker-{}-{}-deploy-{stage}",
            self.project, self.project_id
        );
        (cfn, name)
    }

    /// The package the stage's stack set deploys now (its ModelPackageName parameter).
    async fn stack_set_package(&self, stage: &str) -> String {
        let (cfn, name) = self.stack_set(stage).await;
        let described = cfn
            .describe_stack_set()
            .stack_set_name(&name)
            .send()
            .await
            .expect("DescribeStackSet");
        described
            .stack_set()
            .expect("the stack set")
            .parameters()
            .iter()
            .find(|p| p.parameter_key() == Some("ModelPackageName"))
            .and_then(|p| p.parameter_value())
            .expect("ModelPackageName")
            .to_owned()
    }

    /// The emulator ignores `EndpointName` in CloudFormation: create `<project>-prod` serving
    /// `package` by name in every prod account, answering the manifest's cases.
    async fn name_prod_endpoints(&self, package: &str) {
        for account in &self.prod_accounts {
            let endpoint = format!("{}-prod", self.project);
            deploy_endpoint(self.moto, account, REGION, &endpoint, package).await;
            let answer = r#"{"predictions": [0.1, 0.2, 0.3, 0.4, 0.5]}"#;
            queue_json_answers(self.moto, account, REGION, &[answer, answer]);
        }
    }

    /// The VerifyProd action: test/verify-prod-buildspec.yml on `build_artifacts`.
    fn verify_prod(&self, build_artifacts: &Path) -> (BuildResult, serde_json::Value) {
        let (result, artifacts) = self.codebuild(
            "ModelDeployVerifyProdProject",
            "test/verify-prod-buildspec.yml",
            &[("BuildArtifact", build_artifacts)],
        );
        let bytes = std::fs::read(artifacts.join("prod-test-results.json")).unwrap_or_else(|e| {
            panic!(
                "prod-test-results.json is an artifact ({e}):\n{}",
                result.log
            )
        });
        let report = serde_json::from_slice(&bytes).expect("prod-test-results.json is JSON");
        std::fs::remove_dir_all(&artifacts).unwrap();
        (result, report)
    }

    /// The staging StackSet has an instance in exactly the accounts of build-step's file, and
    /// in each of them a stack deploying the newest approved package. (The emulator's
    /// SELF_MANAGED instances create the stack in the account but not its SageMaker resources,
    /// which `name_staging_endpoints` creates.)
    async fn assert_staging_resources(&self) {
        let (cfn, name) = self.stack_set("staging").await;
        let instances = cfn
            .list_stack_instances()
            .stack_set_name(&name)
            .send()
            .await
            .expect("ListStackInstances");
        let mut deployed: Vec<String> = instances
            .summaries()
            .iter()
            .filter_map(|i| i.account().map(str::to_owned))
            .collect();
        deployed.sort();
        let mut expected = self.staging_accounts.clone();
        expected.sort();
        assert_eq!(deployed, expected, "the staging StackSet's accounts");
        for account in &self.staging_accounts {
            let credentials = assume_account(self.moto, account, ORGANIZATION_ROLE).await;
            let config = sdk_config_with(self.moto, REGION, credentials).await;
            let stacks = aws_sdk_cloudformation::Client::new(&config)
                .describe_stacks()
                .send()
                .await
                .expect("DescribeStacks");
            let packages: Vec<&str> = stacks
                .stacks()
                .iter()
                .filter(|s| s.stack_name().is_some_and(|n| n.contains(&name)))
                .flat_map(aws_sdk_cloudformation::types::Stack::parameters)
                .filter(|p| p.parameter_key() == Some("ModelPackageName"))
                .filter_map(|p| p.parameter_value())
                .collect();
            assert_eq!(
                packages,
                [self.newest_approved.as_str()],
                "the StackSet's stack in {account}"
            );
        }
    }

    /// The emulator ignores `EndpointName` in CloudFormation: create `<project>-staging` by
    /// name with the same parameters, and queue what each account's endpoint answers.
    async fn name_staging_endpoints(&self, answer: &str) {
        for account in &self.staging_accounts {
            let endpoint = format!("{}-staging", self.project);
            deploy_endpoint(self.moto, account, REGION, &endpoint, &self.newest_approved).await;
            // One answer per distinct request body (the manifest has two cases).
            queue_json_answers(self.moto, account, REGION, &[answer, answer]);
        }
    }

    /// Test stage: `test/buildspec.yml` with the build's output as the BuildArtifact input.
    fn test(&self, build_artifacts: &Path) -> (BuildResult, serde_json::Value, roxml::Junit) {
        let (result, artifacts) = self.codebuild(
            "ModelDeployTestProject",
            "test/buildspec.yml",
            &[("BuildArtifact", build_artifacts)],
        );
        let report: serde_json::Value = serde_json::from_slice(
            &std::fs::read(artifacts.join("test-results.json"))
                .expect("test-results.json is an artifact"),
        )
        .expect("test-results.json is JSON");
        let junit_files = &result.reports["staging-endpoint-tests"];
        assert_eq!(junit_files.len(), 1, "{}", result.log);
        let junit = roxml::Junit::read(&junit_files[0]);
        (result, report, junit)
    }
}

/// The project's roles, for [`denied_calls`]: the endpoint stack tags each resource it creates
/// with the project id (the emulator's stand-in endpoints carry no tags).
struct ProjectRoles {
    roles: Vec<RolePolicies>,
    project_id: String,
}

impl Roles for ProjectRoles {
    fn role(&self, arn: &str) -> Option<&RolePolicies> {
        self.roles.iter().find(|r| r.arn == arn)
    }

    fn resource_tags(&self, _account: &str, resource_arn: &str) -> Vec<(String, String)> {
        if resource_arn.contains(":endpoint") || resource_arn.contains(":model/") {
            vec![("sagemaker:project-id".to_owned(), self.project_id.clone())]
        } else {
            Vec::new()
        }
    }
}

/// The product's parameters for a project, as the launch passes them: a permissions boundary,
/// the OUs, and no group policy grant (the emulator answers the group-policy calls with HTTP 500;
/// build-step's tests cover the grant through a stand-in).
fn launch_inputs(project: &str, project_id: &str, staging_ou: &str, prod_ou: &str) -> StackInputs {
    StackInputs::new(ACCOUNT_ID, REGION)
        .stack_name(&format!("SC-{ACCOUNT_ID}-pp-{project_id}"))
        .parameter("SageMakerProjectName", project)
        .parameter("SageMakerProjectId", project_id)
        .parameter("PermissionsBoundaryArn", BOUNDARY)
        .parameter("OrganizationalUnitStagingId", staging_ou)
        .parameter("OrganizationalUnitProdId", prod_ou)
        .parameter("GrantCrossAccountAccess", "false")
}

/// The product template as CloudFormation would create it for the project.
fn launch(project: &str, project_id: &str, staging_ou: &str, prod_ou: &str) -> ResolvedTemplate {
    let text = std::fs::read_to_string(xtask::repo_root().join(PRODUCT_TEMPLATE)).unwrap();
    let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
    let inputs = launch_inputs(project, project_id, staging_ou, prod_ou);
    cfn_eval::resolve(&template, &inputs).expect("the product resolves for the project")
}

/// An OU `name` under the root with two ACTIVE accounts named `<prefix>-0` and `<prefix>-1`.
async fn ou_with_two_accounts(
    org: &Organization,
    name: &str,
    prefix: &str,
) -> (String, Vec<String>) {
    let ou = org.create_ou(&org.root_id, name).await;
    let mut accounts = Vec::new();
    for index in 0..2 {
        accounts.push(org.create_account(&ou, &format!("{prefix}-{index}")).await);
    }
    (ou, accounts)
}

/// The JUnit report, parsed by a real XML parser.
mod roxml {
    use std::path::Path;

    pub(super) struct Junit {
        pub tests: usize,
        pub failures: usize,
        pub failure_messages: Vec<String>,
    }

    impl Junit {
        pub(super) fn read(path: &Path) -> Self {
            let text = std::fs::read_to_string(path).unwrap();
            let doc = roxmltree::Document::parse(&text).expect("the JUnit report is XML");
            let cases: Vec<_> = doc
                .descendants()
                .filter(|n| n.has_tag_name("testcase"))
                .collect();
            let failures: Vec<_> = cases
                .iter()
                .flat_map(|case| case.children().filter(|n| n.has_tag_name("failure")))
                .collect();
            Self {
                tests: cases.len(),
                failures: failures.len(),
                failure_messages: failures
                    .iter()
                    .map(|f| f.attribute("message").unwrap_or_default().to_owned())
                    .collect(),
            }
        }
    }
}

#[tokio::test]
async fn the_newest_approved_package_is_built_deployed_to_staging_and_passes_its_tests() {
    let pipeline = Pipeline::new("seed-e2e-pass").await;
    let artifacts = pipeline.build();
    pipeline.deploy_staging_stack_set(&artifacts).await;
    pipeline.assert_staging_resources().await;
    pipeline
        .name_staging_endpoints(r#"{"predictions": [0.1, 0.2, 0.3, 0.4, 0.5]}"#)
        .await;

    let (result, report, junit) = pipeline.test(&artifacts);
    assert!(result.succeeded, "the test stage failed:\n{}", result.log);
    assert_eq!(report["status"], "passed", "{report:#}");
    assert_eq!(
        report["model_package_name"],
        pipeline.newest_approved.as_str()
    );
    assert_eq!(report["summary"]["passed"], 2, "{report:#}");
    // What the approval shows: the exported summary, from the same run.
    let summary = &result.exported["TEST_SUMMARY"];
    assert!(
        summary.starts_with("2 of 2 targets passed, 0 failed, 0 could not be tested; worst p99 "),
        "{summary}"
    );
    let mut tested: Vec<_> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap().to_owned())
        .collect();
    tested.sort();
    let mut expected = pipeline.staging_accounts.clone();
    expected.sort();
    assert_eq!(tested, expected);
    // Two accounts x two manifest cases.
    assert_eq!((junit.tests, junit.failures), (4, 0));
}

#[tokio::test]
async fn a_wrong_answer_from_the_newest_package_fails_the_test_stage_with_a_readable_report() {
    let pipeline = Pipeline::new("seed-e2e-fail").await;
    let artifacts = pipeline.build();
    pipeline.deploy_staging_stack_set(&artifacts).await;
    pipeline
        .name_staging_endpoints(r#"{"predictions": [7, 7, 7, 7, 7]}"#)
        .await;

    let (result, report, junit) = pipeline.test(&artifacts);
    assert!(!result.succeeded, "a wrong answer passed:\n{}", result.log);
    assert_eq!(result.failed_phase.as_deref(), Some("build"));
    assert_eq!(report["status"], "failed");
    assert_eq!(report["exit_code"], 1);
    assert_eq!(report["summary"]["failed"], 2, "{report:#}");
    assert!(
        result.exported["TEST_SUMMARY"].starts_with("0 of 2 targets passed, 2 failed"),
        "{:?}",
        result.exported
    );
    assert_eq!((junit.tests, junit.failures), (4, 4));
    assert!(
        junit
            .failure_messages
            .iter()
            .all(|m| m.contains("/predictions/0")),
        "{:?}",
        junit.failure_messages
    );
}

/// Rollback without a commit: build-step reads the run's ModelPackageArn variable. Its default,
/// "newest", deploys the newest Approved package; a start with an older Approved version's ARN
/// deploys that one, from the same repository; a quoted value that would add build variables if
/// it were pasted into the action's JSON is refused by build-step instead.
#[tokio::test]
async fn the_pipeline_variable_deploys_the_newest_or_any_approved_version() {
    let pipeline = Pipeline::new("seed-e2e-variable").await;
    for (value, expected) in [
        ("newest", &pipeline.newest_approved),
        (pipeline.first_approved.as_str(), &pipeline.first_approved),
    ] {
        let (result, artifacts) = pipeline.build_action(value);
        assert!(
            result.succeeded,
            "the build failed for {value}:\n{}",
            result.log
        );
        assert_eq!(
            Pipeline::staging_parameters(&artifacts).get("ModelPackageName"),
            Some(expected.as_str()),
            "ModelPackageArn={value}"
        );
        std::fs::remove_dir_all(&artifacts).unwrap();
    }
    let injected = format!(
        r#"{}", "type": "PLAINTEXT"}}, {{"name": "PROD_ACCOUNT_IDS", "value": "999999999999"#,
        pipeline.first_approved
    );
    let (result, artifacts) = pipeline.build_action(&injected);
    assert!(
        !result.succeeded,
        "an injected variable built:\n{}",
        result.log
    );
    assert_eq!(result.failed_phase.as_deref(), Some("build"));
    assert!(
        result.log.contains("the pipeline variable ModelPackageArn"),
        "{}",
        result.log
    );
    std::fs::remove_dir_all(&artifacts).ok();
}

/// Two runs and a rollback: run 1 deploys version 1 (by the pipeline variable) to production,
/// where VerifyProd passes; run 2 deploys the newest version, but production keeps serving version
/// 1's model, so VerifyProd fails. The prod stage's `OnFailure: ROLLBACK` re-runs the stage with
/// the artifacts of the last execution that completed it
/// (<https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-rollback.html>): the emulator
/// has no CodePipeline, so the test does that re-run with run 1's artifacts, and production is
/// back on version 1, verified.
#[tokio::test]
async fn a_failed_prod_verification_rolls_production_back_to_the_version_that_passed() {
    let pipeline = Pipeline::new("seed-e2e-rollback").await;
    let version_1 = pipeline.first_approved.clone();

    let run_1 = pipeline.build_run("run-1", &version_1);
    pipeline.deploy_stack_set("prod", &run_1).await;
    pipeline.name_prod_endpoints(&version_1).await;
    let (result, report) = pipeline.verify_prod(&run_1);
    assert!(
        result.succeeded,
        "run 1's VerifyProd failed:\n{}",
        result.log
    );
    assert_eq!(report["summary"]["passed"], 2, "{report:#}");
    assert_eq!(report["targets_from"], "accounts_file");

    let run_2 = pipeline.build_run("run-2", "newest");
    pipeline.deploy_stack_set("prod", &run_2).await;
    assert_eq!(
        pipeline.stack_set_package("prod").await,
        pipeline.newest_approved
    );
    let (result, report) = pipeline.verify_prod(&run_2);
    assert!(
        !result.succeeded,
        "run 2's VerifyProd passed:\n{}",
        result.log
    );
    assert_eq!(report["summary"]["failed"], 2, "{report:#}");

    // The stage rollback: the prod stage again, with run 1's artifacts.
    pipeline.deploy_stack_set("prod", &run_1).await;
    assert_eq!(pipeline.stack_set_package("prod").await, version_1);
    let (result, report) = pipeline.verify_prod(&run_1);
    assert!(
        result.succeeded,
        "the rolled-back VerifyProd failed:\n{}",
        result.log
    );
    assert_eq!(report["model_package_name"], version_1.as_str());
    assert_eq!(report["summary"]["passed"], 2, "{report:#}");
}
