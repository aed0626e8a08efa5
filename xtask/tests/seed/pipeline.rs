//! The pipeline run locally from the unzipped seed: the build, test and VerifyProd buildspecs
//! executed as CodeBuild would (environment from the product template's CodeBuild projects), the
//! StackSets deployed SELF_MANAGED (the product's default) through the emulator to the accounts
//! in build-step's accounts files, and the whole chain checked: the newest approved package
//! reaches staging, its endpoint is tested on exactly those accounts, and the reports parse; a
//! failed production verification is rolled back as CodePipeline's stage rollback does it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use aws_sdk_cloudformation::types::{Capability, Parameter, PermissionModels};
use aws_sdk_sagemaker::types::ModelApprovalStatus;
use deploy_core::stack_params::ParameterList;
use test_support::codebuild::{project_environment, BuildResult, Buildspec};
use test_support::endpoints::{deploy_endpoint, queue_json_answers, STAGING_ROLE};
use test_support::seed::{
    assume_account, sdk_config, sdk_config_with, GroupSeed, Organization, REGION,
};
use test_support::{moto, Moto};

use crate::unzip_seed;

const PRODUCT_TEMPLATE: &str = "templates/sagemaker-project.yml";
const PROD_ROLE: &str = "sagemaker-role-prod";

/// One project's pipeline: its own group, staging OU and accounts, so runs do not collide.
struct Pipeline {
    moto: &'static Moto,
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
        Self {
            moto,
            project: group.name.clone(),
            project_id: format!("p-{}", project.replace('-', ""))
                .chars()
                .take(16)
                .collect(),
            staging_ou,
            staging_accounts,
            prod_ou,
            prod_accounts,
            first_approved,
            newest_approved,
            seed,
            work: tempfile::tempdir().unwrap(),
        }
    }

    /// What the product template's `!Ref`s resolve to for this project.
    fn refs(&self) -> HashMap<&'static str, String> {
        HashMap::from([
            ("SageMakerProjectName", self.project.clone()),
            ("SageMakerProjectId", self.project_id.clone()),
            ("SageMakerExecutionRoleStagingName", STAGING_ROLE.to_owned()),
            ("SageMakerExecutionRoleProdName", PROD_ROLE.to_owned()),
            ("OrganizationalUnitStagingId", self.staging_ou.clone()),
            ("OrganizationalUnitProdId", self.prod_ou.clone()),
            (
                "MlOpsArtifactsBucket",
                format!("sagemaker-project-{}", self.project_id),
            ),
            ("AWS::Region", REGION.to_owned()),
            // The emulator answers the group-policy calls with HTTP 500; the grant's merge is
            // covered by build-step's tests with SDK-level fakes.
            ("GrantCrossAccountAccess", "false".to_owned()),
        ])
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
        let mut env = project_environment(&template, project, &self.refs()).unwrap();
        env.extend(
            action_env
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned())),
        );
        env.extend(self.moto.env());
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
        (spec.run(self.seed.path(), &env, &artifacts), artifacts)
    }

    /// Build stage: the five artifacts, checked to name the newest approved package.
    fn build(&self) -> PathBuf {
        let artifacts = self.build_run("build", &[]);
        let staging = Self::staging_parameters(&artifacts);
        assert_eq!(
            staging.get("ModelPackageName"),
            Some(self.newest_approved.as_str())
        );
        artifacts
    }

    /// One build stage run, its artifacts kept under `run` (a later run does not replace them:
    /// a stage rollback redeploys an earlier run's artifacts).
    fn build_run(&self, run: &str, action_env: &[(&str, &str)]) -> PathBuf {
        let (result, artifacts) =
            self.codebuild_with("ModelDeployBuildProject", "buildspec.yml", &[], action_env);
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
        let admin = format!(
            "arn:aws:iam::{}:role/sagemaker-{}-stackset-admin",
            test_support::seed::ACCOUNT_ID,
            self.project_id
        );
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
        let execution_role = if stage == "prod" {
            PROD_ROLE
        } else {
            STAGING_ROLE
        };
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
            let credentials = assume_account(self.moto, account, STAGING_ROLE).await;
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

/// Rollback without a commit: the build action passes the pipeline's ModelPackageArn variable as
/// MODEL_PACKAGE_ARN. Its default, "newest", deploys the newest Approved package; a start with an
/// older Approved version's ARN deploys that one, from the same repository.
#[tokio::test]
async fn the_pipeline_variable_deploys_the_newest_or_any_approved_version() {
    let pipeline = Pipeline::new("seed-e2e-variable").await;
    for (value, expected) in [
        ("newest", &pipeline.newest_approved),
        (pipeline.first_approved.as_str(), &pipeline.first_approved),
    ] {
        let (result, artifacts) = pipeline.codebuild_with(
            "ModelDeployBuildProject",
            "buildspec.yml",
            &[],
            &[("MODEL_PACKAGE_ARN", value)],
        );
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

    let run_1 = pipeline.build_run("run-1", &[("MODEL_PACKAGE_ARN", &version_1)]);
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

    let run_2 = pipeline.build_run("run-2", &[("MODEL_PACKAGE_ARN", "newest")]);
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
