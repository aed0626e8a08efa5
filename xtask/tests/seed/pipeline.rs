//! The pipeline run locally from the unzipped seed: the build, preflight, test and VerifyProd
//! buildspecs executed as CodeBuild would (environment from the product template's CodeBuild
//! projects), the StackSets deployed SELF_MANAGED (the product's default) through the emulator to
//! the accounts in build-step's accounts files, the stages entered or skipped as their BeforeEntry
//! conditions say for the build's exported variables, and the whole chain checked: the newest
//! approved package passes each stage's preflight, reaches staging, is tested on exactly those
//! accounts, waits for the approval with both summaries, reaches production and is verified
//! there, and the reports parse; a re-fired event for that live release deploys nothing and asks
//! for no approval; a failed production verification is rolled back as CodePipeline's stage
//! rollback does it. Every AWS call a buildspec makes is evaluated against the role its project
//! runs as.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_cloudformation::types::{Capability, Parameter, PermissionModels};
use aws_sdk_sagemaker::types::{
    ContainerDefinition, InferenceSpecification, ModelApprovalStatus,
    ModelPackageContainerDefinition, ProductionVariant, ProductionVariantInstanceType,
    ProductionVariantServerlessConfig,
};
use deploy_core::stack_params::ParameterList;
use serde_json::Value as Json;
use test_support::cfn_eval::{self, ResolvedTemplate, StackInputs};
use test_support::codebuild::{project_environment, BuildResult, Buildspec};
use test_support::endpoints::{data_capture, queue_json_answers, Hosting};
use test_support::fault_proxy::{FaultProxy, RecordedCall};
use test_support::iam_calls::{denied_calls, named_bucket_reads, RolePolicies, Roles};
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
        share_the_default_bucket(moto).await;
        let first_approved = add_package(moto, &group.name, ModelApprovalStatus::Approved).await;
        let newest_approved = add_package(moto, &group.name, ModelApprovalStatus::Approved).await;
        add_package(
            moto,
            &group.name,
            ModelApprovalStatus::PendingManualApproval,
        )
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
        // What preflight asks that the emulator lacks: IAM's policy simulator and SageMaker's
        // quotas (each account's default, "ml.m5.large for endpoint usage" 4).
        proxy.stand_in_for_policy_simulator();
        proxy.stand_in_for_service_quotas();
        // What the test and verify builds record in the registry: the emulator knows no
        // ModelLifeCycle.
        proxy.stand_in_for_model_lifecycle();
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
        let calls: Vec<RecordedCall> = self.proxy.calls()[first..]
            .iter()
            .flat_map(named_bucket_reads)
            .collect();
        let calls = &calls[..];
        assert!(!calls.is_empty(), "{project} made no AWS call");
        // Defence in depth: test-step's sessions in the target accounts carry a session policy
        // that allows only the calls it makes; without one the evaluation below would judge the
        // role's own policies alone and still pass.
        let mut test_sessions = 0;
        for call in calls.iter().filter(|c| c.operation == "AssumeRole") {
            let role = call.params["RoleArn"].as_str().unwrap_or_default();
            if !role.ends_with("-test") {
                continue;
            }
            test_sessions += 1;
            let policy = call.params["Policy"].as_str().unwrap_or_default();
            let parsed: Json = serde_json::from_str(policy).unwrap_or_else(|e| {
                panic!("{project} assumed {role} without a session policy ({e}): {policy:?}")
            });
            assert!(
                parsed["Statement"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty()),
                "{project} assumed {role} with a session policy that allows nothing: {policy}"
            );
        }
        if project != "ModelDeployBuildProject" {
            assert!(test_sessions > 0, "{project} assumed no test role");
        }
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
        let config = sdk_config_with(self.moto, REGION, credentials.clone()).await;
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
        self.hold_the_policies_as_iam_does(stage, account, &credentials);
    }

    /// What IAM holds for the roles stack, as AWS holds it, for IAM's policy simulator (the
    /// proxy's stand-in reads the roles' policies from the emulator): the emulator's
    /// CloudFormation keeps a role's inline policies as Python text, which its GetRolePolicy
    /// returns, so each is written again as the JSON the template gives; and the permissions
    /// boundary the roles name is created in the account, as the platform team creates it from
    /// `templates/iam/permissions-boundary-policy.json`.
    fn hold_the_policies_as_iam_does(
        &self,
        stage: &str,
        account: &str,
        credentials: &aws_sdk_sagemaker::config::Credentials,
    ) {
        let boundary = std::fs::read_to_string(
            xtask::repo_root().join("templates/iam/permissions-boundary-policy.json"),
        )
        .unwrap();
        let boundary_name = BOUNDARY.rsplit('/').next().unwrap();
        self.iam_call(
            credentials,
            &[
                ("Action", "CreatePolicy"),
                ("PolicyName", boundary_name),
                ("PolicyDocument", &boundary),
            ],
        );
        let text = std::fs::read_to_string(xtask::repo_root().join(TARGET_ROLES_TEMPLATE)).unwrap();
        let template: serde_yaml::Value = serde_yaml::from_str(&text).unwrap();
        let mut inputs = StackInputs::new(account, REGION);
        for (key, value) in self.account_role_parameters(stage, account) {
            inputs = inputs.parameter(key, &value);
        }
        let stack = cfn_eval::resolve(&template, &inputs).unwrap();
        for role in stack.of_type("AWS::IAM::Role") {
            let name = role.properties["RoleName"].as_str().unwrap();
            for policy in role.properties["Policies"].as_array().into_iter().flatten() {
                self.iam_call(
                    credentials,
                    &[
                        ("Action", "PutRolePolicy"),
                        ("RoleName", name),
                        ("PolicyName", policy["PolicyName"].as_str().unwrap()),
                        ("PolicyDocument", &policy["PolicyDocument"].to_string()),
                    ],
                );
            }
        }
    }

    /// One IAM call (the awsQuery protocol) to the emulator as `credentials`: the emulator
    /// takes the account from the access key and checks no signature. xtask has no IAM client.
    fn iam_call(
        &self,
        credentials: &aws_sdk_sagemaker::config::Credentials,
        params: &[(&str, &str)],
    ) {
        use std::io::{Read, Write};
        let encode = |text: &str| -> String {
            text.bytes()
                .map(|b| match b {
                    b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                        (b as char).to_string()
                    }
                    _ => format!("%{b:02X}"),
                })
                .collect()
        };
        let mut body: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", encode(v)))
            .collect();
        body.push("Version=2010-05-08".to_owned());
        let body = body.join("&");
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", self.moto.port)).unwrap();
        let request = format!(
            "POST / HTTP/1.0\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/x-www-form-urlencoded\r\n\
             X-Amz-Date: 20260101T000000Z\r\nX-Amz-Security-Token: {token}\r\n\
             Authorization: AWS4-HMAC-SHA256 Credential={key}/20260101/us-east-1/iam/aws4_request, SignedHeaders=host;x-amz-date, Signature=0\r\n\
             Content-Length: {length}\r\n\r\n{body}",
            port = self.moto.port,
            token = credentials.session_token().unwrap_or_default(),
            key = credentials.access_key_id(),
            length = body.len(),
        );
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split_whitespace().nth(1).unwrap_or_default();
        assert!(
            status == "200" || answer.contains("EntityAlreadyExists"),
            "IAM {params:?} failed: {answer}"
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
        // CodeBuild's link to the build's page, which the test and preflight buildspecs export
        // for the approval (https://docs.aws.amazon.com/codebuild/latest/userguide/build-env-ref-env-vars.html).
        let name = self.product.resource(project).unwrap().properties["Name"]
            .as_str()
            .unwrap()
            .to_owned();
        env.push((
            "CODEBUILD_BUILD_URL".into(),
            format!("https://{REGION}.console.aws.amazon.com/codesuite/codebuild/{ACCOUNT_ID}/projects/{name}/build/{name}%3A0b5e6c1a-local/?region={REGION}"),
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
        self.build_stage(run, variable).0
    }

    /// [`Self::build_run`], with the variables the build exported (its namespace's).
    fn build_stage(&self, run: &str, variable: &str) -> (PathBuf, BTreeMap<String, String>) {
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
        (kept, result.exported)
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

    /// The emulator's SELF_MANAGED stack instances create no SageMaker resources and it ignores
    /// `EndpointName`: create `<project>-<stage>` by name in every account of the stage, serving
    /// `package` hosted and capturing data as the stage's parameter file in `artifacts` says (as
    /// the endpoint template would; the test judges drift), and queue what it answers.
    async fn name_endpoints(&self, stage: &str, package: &str, artifacts: &Path, answer: &str) {
        let parameters = ParameterList::read(
            &artifacts.join(format!("{stage}-config-export.json")),
            deploy_core::inputs::BUILD_CONFIG,
        )
        .unwrap();
        let accounts = if stage == "prod" {
            &self.prod_accounts
        } else {
            &self.staging_accounts
        };
        let endpoint = format!("{}-{stage}", self.project);
        for account in accounts {
            let credentials = assume_account(self.moto, account, ORGANIZATION_ROLE).await;
            let sagemaker = aws_sdk_sagemaker::Client::new(
                &sdk_config_with(self.moto, REGION, credentials).await,
            );
            let model = format!("{endpoint}-model");
            sagemaker
                .create_model()
                .model_name(&model)
                .execution_role_arn(format!(
                    "arn:aws:iam::{account}:role/sagemaker-{}-{stage}-model",
                    self.project_id
                ))
                .primary_container(
                    ContainerDefinition::builder()
                        .model_package_name(package)
                        .build(),
                )
                .send()
                .await
                .expect("CreateModel");
            let variant = ProductionVariant::builder()
                .variant_name("AllTraffic")
                .model_name(&model);
            let variant = match Hosting::of_stage(&parameters) {
                Hosting::Instances {
                    instance_type,
                    count,
                } => variant
                    .instance_type(ProductionVariantInstanceType::from(instance_type.as_str()))
                    .initial_instance_count(count)
                    .initial_variant_weight(1.0),
                Hosting::Serverless {
                    memory_mb,
                    max_concurrency,
                } => variant.serverless_config(
                    ProductionVariantServerlessConfig::builder()
                        .memory_size_in_mb(memory_mb)
                        .max_concurrency(max_concurrency)
                        .build(),
                ),
            };
            // The endpoint template's default: under the execution role's name.
            let destination = format!(
                "s3://sagemaker-project-{}/datacapture/{}/{endpoint}",
                self.project_id,
                parameters.get("RoleName").expect("RoleName in the export")
            );
            let config = format!("{endpoint}-config");
            sagemaker
                .create_endpoint_config()
                .endpoint_config_name(&config)
                .production_variants(variant.build())
                .set_data_capture_config(data_capture(&parameters, &destination))
                .send()
                .await
                .expect("CreateEndpointConfig");
            sagemaker
                .create_endpoint()
                .endpoint_name(&endpoint)
                .endpoint_config_name(&config)
                .send()
                .await
                .expect("CreateEndpoint");
            // One answer per distinct request body (the manifest has two cases).
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
    /// which `name_endpoints` creates.)
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

/// What one run of the pipeline did, as CodePipeline's console would show it.
#[derive(Debug, Default)]
struct Run {
    /// Each stage after the source: the actions it ran, in order, or `skipped`.
    stages: Vec<(String, Vec<String>)>,
    /// The approval's message and link, as CodePipeline shows them (variables substituted).
    approval: Option<(String, String)>,
    /// The variables each action's namespace holds.
    namespaces: BTreeMap<String, BTreeMap<String, String>>,
    /// Each CodeBuild action's result and artifacts, by action name.
    builds: BTreeMap<String, (BuildResult, PathBuf)>,
}

impl Run {
    /// The JSON report `file` of the CodeBuild action `action`.
    fn report(&self, action: &str, file: &str) -> Json {
        let (result, artifacts) = &self.builds[action];
        let bytes = std::fs::read(artifacts.join(file))
            .unwrap_or_else(|e| panic!("{action} wrote no {file} ({e}):\n{}", result.log));
        serde_json::from_slice(&bytes).unwrap_or_else(|e| panic!("{action}'s {file}: {e}"))
    }
}

/// `text` with each `#{Namespace.Variable}` replaced as CodePipeline does before it runs an
/// action or evaluates a rule (https://docs.aws.amazon.com/codepipeline/latest/userguide/reference-variables.html);
/// a variable no earlier action produced fails, as it fails the run.
fn substitute(text: &str, namespaces: &BTreeMap<String, BTreeMap<String, String>>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(start) = rest.find("#{") {
        out.push_str(&rest[..start]);
        let end = start + rest[start..].find('}').expect("a closed #{...}");
        let reference = &rest[start + 2..end];
        let (namespace, name) = reference.split_once('.').expect("#{Namespace.Variable}");
        let value = namespaces
            .get(namespace)
            .and_then(|variables| variables.get(name))
            .unwrap_or_else(|| {
                panic!("#{{{reference}}} in {text:?}: no earlier action exported it")
            });
        out.push_str(value);
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Whether CodePipeline enters `stage` (resolved) with these variables: a stage without a
/// BeforeEntry condition is entered; with one, its rules are evaluated and, when one fails, the
/// condition's result engages: SKIP skips the stage, FAIL fails the run
/// (https://docs.aws.amazon.com/codepipeline/latest/userguide/stage-conditions.html). The rule
/// modelled is VariableCheck and its string operators
/// (https://docs.aws.amazon.com/codepipeline/latest/userguide/rule-reference-VariableCheck.html).
fn enters(stage: &Json, namespaces: &BTreeMap<String, BTreeMap<String, String>>) -> bool {
    let name = stage["Name"].as_str().unwrap();
    let Some(entry) = stage.get("BeforeEntry") else {
        return true;
    };
    let conditions = entry["Conditions"].as_array().expect("Conditions");
    assert_eq!(
        conditions.len(),
        1,
        "{name}: CodePipeline takes one entry condition"
    );
    let condition = &conditions[0];
    let met = condition["Rules"]
        .as_array()
        .expect("Rules")
        .iter()
        .all(|rule| {
            let kind = &rule["RuleTypeId"];
            assert_eq!(
                (&kind["Category"], &kind["Provider"]),
                (&Json::from("Rule"), &Json::from("VariableCheck")),
                "{name}: only VariableCheck rules are modelled"
            );
            let config = &rule["Configuration"];
            let variable = substitute(config["Variable"].as_str().unwrap(), namespaces);
            let value = config["Value"].as_str().unwrap();
            match config["Operator"].as_str().unwrap() {
                "EQ" => variable == value,
                "NE" => variable != value,
                "CONTAINS" => variable.contains(value),
                other => panic!("{name}: the operator {other} is not modelled"),
            }
        });
    match (met, condition["Result"].as_str()) {
        (true, _) => true,
        (false, Some("SKIP")) => false,
        (false, result) => panic!("{name}'s entry condition failed with the result {result:?}"),
    }
}

impl Pipeline {
    /// The pipeline's stages as CloudFormation creates them.
    fn stages(&self) -> Vec<Json> {
        self.product
            .resource("ModelDeployPipeline")
            .unwrap()
            .properties["Stages"]
            .as_array()
            .unwrap()
            .clone()
    }

    /// The logical id of the CodeBuild project an action names.
    fn project_of(&self, action: &Json) -> String {
        let name = &action["Configuration"]["ProjectName"];
        self.product
            .of_type("AWS::CodeBuild::Project")
            .find(|project| project.properties["Name"] == *name)
            .map_or_else(
                || panic!("no CodeBuild project {name}"),
                |project| project.logical_id.clone(),
            )
    }

    /// One run started by an event (`ModelPackageArn` at its default, the newest Approved
    /// package), as CodePipeline runs it: the build, then each later stage entered or skipped by
    /// its condition on the build's variables, its actions in RunOrder (those of one RunOrder one
    /// after another here), every CodeBuild action's buildspec run with its project's environment
    /// and the run's BuildArtifact, and the approval approved. Each action must succeed. The
    /// emulator's StackSets create each account's stack but not its endpoint, so after each
    /// StackSet action the endpoints are made by name, answering `answer`.
    async fn run(&self, run: &str, answer: &str) -> Run {
        let mut out = Run::default();
        let stages = self.stages();
        let build_action = &stages[1]["Actions"][0];
        let (artifacts, exported) = self.build_stage(run, "newest");
        let namespace = build_action["Namespace"]
            .as_str()
            .expect("the build's Namespace");
        out.namespaces.insert(namespace.to_owned(), exported);
        let build_name = build_action["Name"].as_str().unwrap().to_owned();
        out.stages.push((
            stages[1]["Name"].as_str().unwrap().to_owned(),
            vec![build_name],
        ));
        for stage in &stages[2..] {
            let stage_name = stage["Name"].as_str().unwrap().to_owned();
            if !enters(stage, &out.namespaces) {
                out.stages.push((stage_name, vec!["skipped".to_owned()]));
                continue;
            }
            let mut actions: Vec<&Json> = stage["Actions"].as_array().unwrap().iter().collect();
            actions.sort_by_key(|action| action["RunOrder"].as_u64().unwrap_or(1));
            let mut ran = Vec::new();
            for action in actions {
                let name = action["Name"].as_str().unwrap().to_owned();
                let kind = &action["ActionTypeId"];
                match (kind["Category"].as_str(), kind["Provider"].as_str()) {
                    (Some("Build"), Some("CodeBuild")) => {
                        let project = self.project_of(action);
                        let buildspec = self.product.resource(&project).unwrap().properties
                            ["Source"]["BuildSpec"]
                            .as_str()
                            .unwrap()
                            .to_owned();
                        let (result, dir) =
                            self.codebuild(&project, &buildspec, &[("BuildArtifact", &artifacts)]);
                        assert!(
                            result.succeeded,
                            "{stage_name}/{name} ({buildspec}) failed:\n{}",
                            result.log
                        );
                        if let Some(namespace) = action["Namespace"].as_str() {
                            out.namespaces
                                .insert(namespace.to_owned(), result.exported.clone());
                        }
                        // Each action's own copy: the same project runs in several actions.
                        let kept = self.work.path().join(format!("{run}-{name}"));
                        std::fs::rename(&dir, &kept).unwrap();
                        out.builds.insert(name.clone(), (result, kept));
                    }
                    (Some("Deploy"), Some("CloudFormationStackSet")) => {
                        let stack_set = action["Configuration"]["StackSetName"].as_str().unwrap();
                        if stack_set.ends_with("-deploy-prod") {
                            self.deploy_stack_set("prod", &artifacts).await;
                            self.name_endpoints("prod", &self.newest_approved, &artifacts, answer)
                                .await;
                        } else {
                            self.deploy_staging_stack_set(&artifacts).await;
                            self.assert_staging_resources().await;
                            self.name_endpoints(
                                "staging",
                                &self.newest_approved,
                                &artifacts,
                                answer,
                            )
                            .await;
                        }
                    }
                    (Some("Approval"), Some("Manual")) => {
                        let config = &action["Configuration"];
                        let text =
                            |key: &str| substitute(config[key].as_str().unwrap(), &out.namespaces);
                        out.approval = Some((text("CustomData"), text("ExternalEntityLink")));
                    }
                    other => panic!("{stage_name}/{name}: the action {other:?} is not modelled"),
                }
                ran.push(name);
            }
            out.stages.push((stage_name, ran));
        }
        out
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

/// SageMaker's default bucket in the data science account (`sagemaker-<Region>-<account>`, the
/// account role template's ModelArtifactBucketArn), which the packages' artifacts live in, readable
/// by every account of the organization as a platform team shares it
/// (the same policy for every project, so the tests may write it concurrently).
async fn share_the_default_bucket(moto: &'static Moto) {
    let org = Organization::get(moto).await;
    let config = sdk_config(moto, REGION).await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&config)
            .force_path_style(true)
            .build(),
    );
    let bucket = format!("sagemaker-{REGION}-{ACCOUNT_ID}");
    // Already there when another test made it.
    let _ = s3.create_bucket().bucket(&bucket).send().await;
    let policy = serde_json::json!({"Version": "2012-10-17", "Statement": [{
        "Sid": "TheOrganizationReadsTheModels", "Effect": "Allow", "Principal": "*",
        "Action": "s3:GetObject", "Resource": format!("arn:aws:s3:::{bucket}/*"),
        "Condition": {"ForAnyValue:StringLike": {
            "aws:PrincipalOrgPaths": [format!("*/{}/*", org.root_id)]}}}]});
    s3.put_bucket_policy()
        .bucket(&bucket)
        .policy(policy.to_string())
        .send()
        .await
        .expect("PutBucketPolicy");
}

/// A package of `group` with `status`, as SageMaker projects register them: the artifacts in
/// SageMaker's default bucket under the group's prefix, the image in the account's `models`
/// repository (the account role template's ModelImageRepositoryArns).
async fn add_package(moto: &'static Moto, group: &str, status: ModelApprovalStatus) -> String {
    let client = aws_sdk_sagemaker::Client::new(&sdk_config(moto, REGION).await);
    let spec = InferenceSpecification::builder()
        .containers(
            ModelPackageContainerDefinition::builder()
                .image(format!(
                    "{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/models:{group}"
                ))
                .model_data_url(format!(
                    "s3://sagemaker-{REGION}-{ACCOUNT_ID}/{group}/model.tar.gz"
                ))
                .build(),
        )
        .supported_content_types("text/csv")
        .supported_response_mime_types("application/json")
        .supported_realtime_inference_instance_types(ProductionVariantInstanceType::MlM5Large)
        .build();
    client
        .create_model_package()
        .model_package_group_name(group)
        .model_approval_status(status)
        .inference_specification(spec)
        .send()
        .await
        .expect("CreateModelPackage")
        .model_package_arn()
        .expect("arn")
        .to_owned()
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

/// What every staging and prod endpoint answers in a passing run.
const GOOD_ANSWER: &str = r#"{"predictions": [0.1, 0.2, 0.3, 0.4, 0.5]}"#;

/// A preflight action's reports: every target of the stage ready (exit 0), each of its checks
/// passed or skipped, one JUnit test case per check, and the summary exported for the approval.
fn assert_preflight_passed(run: &Run, action: &str, accounts: &[String]) {
    let report = run.report(action, "preflight-results.json");
    assert_eq!(report["command"], "preflight", "{report:#}");
    assert_eq!(report["status"], "passed", "{action}: {report:#}");
    assert_eq!(report["exit_code"], 0, "{report:#}");
    let mut checked: Vec<String> = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["account_id"].as_str().unwrap().to_owned())
        .collect();
    checked.sort();
    let mut expected = accounts.to_vec();
    expected.sort();
    assert_eq!(checked, expected, "{action}: the stage's accounts file");
    let mut checks = 0;
    for target in report["targets"].as_array().unwrap() {
        for check in target["checks"].as_array().unwrap() {
            checks += 1;
            let status = check["status"].as_str().unwrap();
            assert!(
                status == "passed" || status == "skipped",
                "{action}: {check:#}"
            );
            // What the clean accounts and the product's roles make sure of.
            if [
                "assume-role",
                "execution-role",
                "deploy-role",
                "model-artifacts",
                "capacity",
                "endpoint-name",
            ]
            .contains(&check["name"].as_str().unwrap())
            {
                assert_eq!(status, "passed", "{action}: {check:#}");
            }
        }
    }
    let (result, _) = &run.builds[action];
    let junit_files = &result.reports["preflight-checks"];
    assert_eq!(junit_files.len(), 1, "{}", result.log);
    let junit = roxml::Junit::read(&junit_files[0]);
    assert_eq!((junit.tests, junit.failures), (checks, 0), "{action}");
    let summary = &result.exported["PREFLIGHT_SUMMARY"];
    assert!(
        summary.starts_with(&format!(
            "preflight: {n} of {n} targets passed",
            n = accounts.len()
        )),
        "{action}: {summary}"
    );
}

/// The whole pipeline, twice. Run 1 (the newest Approved package, on accounts that run nothing
/// yet): the build finds both stages need a deploy, staging passes its preflight, deploys and
/// passes its tests on exactly the staging accounts; the approval's stage tests staging afresh
/// beside the prod preflight and shows both summaries and the test run's link; production passes
/// its preflight, deploys and is verified, and each test records its verdict in the package's
/// ModelLifeCycle. Run 2 is the event that record sends (a "SageMaker Model Package State
/// Change" of the live, unchanged release, as any re-fired event, which the emulator's
/// EventBridge delivers through the pipeline's rule): the build finds nothing to
/// deploy, and every later stage is skipped, the approval's included, so nobody is asked. Every
/// call of every action is evaluated against its role.
#[tokio::test]
async fn a_release_passes_every_stage_and_a_refired_event_for_it_deploys_nothing() {
    let pipeline = Pipeline::new("seed-e2e-pass").await;
    let run = pipeline.run("run-1", GOOD_ANSWER).await;
    let decision = |run: &Run| {
        let variables = &run.namespaces["BuildVariables"];
        (
            variables.get("DEPLOY_STAGING").cloned(),
            variables.get("DEPLOY_PROD").cloned(),
        )
    };
    assert_eq!(
        decision(&run),
        (Some("true".to_owned()), Some("true".to_owned()))
    );
    let stages: Vec<(&str, Vec<&str>)> = run
        .stages
        .iter()
        .map(|(stage, actions)| (stage.as_str(), actions.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        stages,
        [
            ("Build", vec!["BuildDeploymentTemplates"]),
            (
                "DeployResourcesStaging",
                vec!["PreflightStaging", "DeployStaging", "TestStaging"]
            ),
            (
                "ApproveProd",
                vec![
                    "ReviewStaging",
                    "PreflightProdForReview",
                    "ApproveDeployment"
                ]
            ),
            (
                "DeployResourcesProd",
                vec!["PreflightProd", "DeployProd", "VerifyProd"]
            ),
        ]
    );
    assert_preflight_passed(&run, "PreflightStaging", &pipeline.staging_accounts);
    assert_preflight_passed(&run, "PreflightProdForReview", &pipeline.prod_accounts);
    assert_preflight_passed(&run, "PreflightProd", &pipeline.prod_accounts);

    for test in ["TestStaging", "ReviewStaging"] {
        let report = run.report(test, "test-results.json");
        assert_eq!(report["status"], "passed", "{test}: {report:#}");
        assert_eq!(
            report["model_package_name"],
            pipeline.newest_approved.as_str()
        );
        assert_eq!(report["summary"]["passed"], 2, "{report:#}");
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
        let (result, _) = &run.builds[test];
        let junit_files = &result.reports["staging-endpoint-tests"];
        assert_eq!(junit_files.len(), 1, "{}", result.log);
        // Two accounts x two manifest cases.
        let junit = roxml::Junit::read(&junit_files[0]);
        assert_eq!((junit.tests, junit.failures), (4, 0));
        let summary = &result.exported["TEST_SUMMARY"];
        assert!(
            summary
                .starts_with("2 of 2 targets passed, 0 failed, 0 could not be tested; worst p99 "),
            "{summary}"
        );
    }
    // What the approver reads: this run's fresh staging test and prod preflight, and the link to
    // the test's build.
    let (message, link) = run.approval.clone().expect("the approval waited");
    let review = &run.builds["ReviewStaging"].0.exported;
    let preflight = &run.builds["PreflightProdForReview"].0.exported;
    assert!(
        message.contains(&review["TEST_SUMMARY"])
            && message.contains(&preflight["PREFLIGHT_SUMMARY"])
            && message.contains(&preflight["PREFLIGHT_RUN_URL"]),
        "{message}"
    );
    assert_eq!(link, review["TEST_RUN_URL"]);
    assert!(link.contains("-test/build/"), "{link}");
    assert!(
        preflight["PREFLIGHT_RUN_URL"].contains("-preflight-prod/build/"),
        "{preflight:?}"
    );
    let verified = run.report("VerifyProd", "prod-test-results.json");
    assert_eq!(verified["status"], "passed", "{verified:#}");
    assert_eq!(
        pipeline.stack_set_package("prod").await,
        pipeline.newest_approved
    );

    // The registry knows: the staging tests recorded Staging, the verification last Production.
    assert_eq!(
        pipeline.proxy.count("UpdateModelPackage"),
        3,
        "TestStaging, ReviewStaging, VerifyProd"
    );
    let lifecycle = pipeline
        .proxy
        .model_lifecycle(ACCOUNT_ID, &pipeline.newest_approved)
        .expect("the verdict is in the registry");
    assert_eq!(
        (&lifecycle["Stage"], &lifecycle["StageStatus"]),
        (
            &serde_json::json!("Production"),
            &serde_json::json!("DeployedAndTested")
        )
    );
    assert!(
        lifecycle["StageDescription"]
            .as_str()
            .unwrap()
            .contains("2 of 2 targets passed"),
        "{lifecycle}"
    );

    // The record's own event starts the pipeline again: the event SageMaker sends for the
    // update matches the rule that starts it (EventBridge's own matcher, as the emulator runs it),
    // as a pending package's would not.
    let rule = pipeline
        .product
        .resource("ModelDeploySageMakerEventRule")
        .expect("the rule that starts the pipeline");
    let pattern = &rule.properties["EventPattern"];
    let event = package_state_change(
        &pipeline.project,
        &pipeline.newest_approved,
        "Approved",
        &lifecycle,
    );
    assert!(
        rule_matches(pipeline.moto, pattern, &event, "lifecycle-update"),
        "the lifecycle update's event starts the pipeline: {event}"
    );
    let pending = package_state_change(
        &pipeline.project,
        &pipeline.newest_approved,
        "PendingManualApproval",
        &lifecycle,
    );
    assert!(!rule_matches(
        pipeline.moto,
        pattern,
        &pending,
        "pending-package"
    ));
    let again = pipeline.run("run-2", GOOD_ANSWER).await;
    assert_eq!(
        decision(&again),
        (Some("false".to_owned()), Some("false".to_owned()))
    );
    let skipped: Vec<(&str, Vec<&str>)> = again
        .stages
        .iter()
        .map(|(stage, actions)| (stage.as_str(), actions.iter().map(String::as_str).collect()))
        .collect();
    assert_eq!(
        skipped,
        [
            ("Build", vec!["BuildDeploymentTemplates"]),
            ("DeployResourcesStaging", vec!["skipped"]),
            ("ApproveProd", vec!["skipped"]),
            ("DeployResourcesProd", vec!["skipped"]),
        ]
    );
    assert!(again.approval.is_none(), "nobody is asked to approve");
    assert!(
        again.builds.is_empty(),
        "no build after the build stage ran"
    );
}

/// The "SageMaker Model Package State Change" event SageMaker sends when a package of `group`
/// changes, here its `ModelLifeCycle`: the package's whole state, nothing saying what changed
/// (<https://docs.aws.amazon.com/sagemaker/latest/dg/automating-sagemaker-with-eventbridge.html#eventbridge-model-package>).
fn package_state_change(group: &str, package: &str, approval: &str, lifecycle: &Json) -> Json {
    let version: u64 = package
        .rsplit('/')
        .next()
        .and_then(|v| v.parse().ok())
        .expect("a versioned package ARN");
    serde_json::json!({
        "version": "0",
        "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
        "detail-type": "SageMaker Model Package State Change",
        "source": "aws.sagemaker",
        "account": ACCOUNT_ID,
        "time": "2026-12-06T10:00:00Z",
        "region": REGION,
        "resources": [package],
        "detail": {
            "ModelPackageGroupName": group,
            "ModelPackageVersion": version,
            "ModelPackageArn": package,
            "CreationTime": 1_796_000_000_000u64,
            "ModelApprovalStatus": approval,
            "ModelLifeCycle": lifecycle,
        }
    })
}

/// Whether a rule of `pattern` delivers `event`: the emulator's EventBridge gets the rule (with a
/// queue as its target) and the event (PutEvents), and the queue says whether it arrived. The
/// emulator's TestEventPattern answers nothing, so the rule is exercised as it runs. Asked
/// through boto3, which the pinned tools bring; `name` keeps tests apart.
fn rule_matches(moto: &Moto, pattern: &Json, event: &Json, name: &str) -> bool {
    let script = "import boto3, json, sys\n\
        url, pattern, event, name = sys.argv[1], sys.argv[2], json.loads(sys.argv[3]), sys.argv[4]\n\
        kw = dict(endpoint_url=url, region_name=event['region'], aws_access_key_id='testing', aws_secret_access_key='testing')\n\
        events, sqs = boto3.client('events', **kw), boto3.client('sqs', **kw)\n\
        queue = sqs.create_queue(QueueName=name)['QueueUrl']\n\
        arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=['QueueArn'])['Attributes']['QueueArn']\n\
        events.put_rule(Name=name, EventPattern=pattern)\n\
        events.put_targets(Rule=name, Targets=[{'Id': 'queue', 'Arn': arn}])\n\
        events.put_events(Entries=[{'Source': event['source'], 'DetailType': event['detail-type'], 'Resources': event['resources'], 'Detail': json.dumps(event['detail'])}])\n\
        delivered = sqs.receive_message(QueueUrl=queue, WaitTimeSeconds=0).get('Messages', [])\n\
        events.remove_targets(Rule=name, Ids=['queue'])\n\
        events.delete_rule(Name=name)\n\
        sqs.delete_queue(QueueUrl=queue)\n\
        print(json.dumps(len(delivered) > 0))";
    let output = std::process::Command::new(test_support::tools::python_tool("python"))
        .args(["-c", script, &moto.endpoint])
        .arg(pattern.to_string())
        .arg(event.to_string())
        .arg(name)
        .output()
        .expect("python runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "the rule could not be exercised: {stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    match stdout.trim() {
        "true" => true,
        "false" => false,
        other => panic!("the rule's check printed {other}"),
    }
}

#[tokio::test]
async fn a_wrong_answer_from_the_newest_package_fails_the_test_stage_with_a_readable_report() {
    let pipeline = Pipeline::new("seed-e2e-fail").await;
    let artifacts = pipeline.build();
    pipeline.deploy_staging_stack_set(&artifacts).await;
    pipeline
        .name_endpoints(
            "staging",
            &pipeline.newest_approved,
            &artifacts,
            r#"{"predictions": [7, 7, 7, 7, 7]}"#,
        )
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
    pipeline
        .name_endpoints("prod", &version_1, &run_1, GOOD_ANSWER)
        .await;
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
