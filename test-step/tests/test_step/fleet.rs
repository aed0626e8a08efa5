//! `test-step status` and `test-step preflight` against the emulator, every call through the
//! fault proxy: the proxy counts the calls (neither subcommand may write or invoke), injects the
//! denials, and stands in for the two APIs the emulator lacks, IAM's policy simulator and Service
//! Quotas' SageMaker quotas (`test_support::fault_proxy`, which cites their API references).
//!
//! The emulator enforces no IAM, so every call of every run is evaluated as IAM would in
//! production (`test_support::iam_calls`): a call with the build's own credentials against the
//! product's staging `TestRole` (templates/sagemaker-project.yml), a call with keys from an
//! AssumeRole against the target account's `TestRole` (templates/target-account-role.yml) and
//! the session policy test-step gave it, each resolved for the fleet's project, accounts and
//! Region. The fleet is named as production names it for that to mean something: the roles of
//! each account are the role template's, and the artifacts are in SageMaker's default bucket of
//! the data science account, one of the two the product's role lets preflight read.
//!
//! Each test has its own accounts, package, key prefix, bucket policy statement and repository,
//! so they run concurrently.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU32, Ordering};

use aws_sdk_sagemaker::types::{
    InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
};
use deploy_core::stack_params::{ParameterList, StackSetParameter};
use serde_json::{json, Value};
use test_support::cfn_eval::{ResolvedTemplate, StackInputs};
use test_support::endpoints::{deploy_hosted_endpoint, Hosting, STAGING_ROLE};
use test_support::fault_proxy::{Fault, FaultKind, FaultProxy, RecordedCall};
use test_support::iam_calls::{denied_calls, named_bucket_reads, RolePolicies, Roles};
use test_support::repo_templates::resolve_repo_template;
use test_support::seed::{assume_account, sdk_config, sdk_config_with, Organization, ACCOUNT_ID};
use test_support::tools::repo_root;
use test_support::workspace::model_package_name;
use test_support::{moto, CliOutput};

use crate::{build_config, target_checks, FleetReports, Workspace, REGION};

/// The data science account, where the package, its bucket and its repository live.
const DS: &str = ACCOUNT_ID;
const DEPLOY_ROLE: &str = "sagemaker-p-test0001-staging-deploy";
const ADMIN_ROLE: &str =
    "arn:aws:iam::123456789012:role/sagemaker-deploy-steps/sagemaker-p-test0001-staging-stackset-admin";
const PROJECT_ID: &str = "p-test0001";
/// The fleet's stage: the product's staging projects run test-step against it as `TestRole`.
const STAGE: &str = "staging";
/// test-step's role in each account (the role template's `TestRole`), which the product's staging
/// projects name in SAGEMAKER_EXECUTION_ROLE_NAME.
const TEST_ROLE: &str = "sagemaker-p-test0001-staging-test";
/// The model's execution role (the role template's `ModelExecutionRole`): the build config's
/// RoleName.
const MODEL_ROLE: &str = "sagemaker-p-test0001-staging-model";
/// SageMaker's default bucket in the data science account, which the product's `TestRole` lets
/// preflight read (PreflightReadsTheArtifactBuckets); each fleet's artifacts are under a prefix
/// of its own.
const BUCKET: &str = "sagemaker-us-east-1-123456789012";
const PRODUCT_TEMPLATE: &str = "templates/sagemaker-project.yml";
const TARGET_ROLES_TEMPLATE: &str = "templates/target-account-role.yml";
/// The boundary the platform team names at launch; in a stage account, the same name there.
const BOUNDARY: &str = "arn:aws:iam::123456789012:policy/sagemaker-deploy-steps-boundary";
/// The product's data science role that runs test-step for the staging fleet (its logical id),
/// and its name.
const RUNNER: &str = "TestRole";
const RUNNER_NAME: &str = "sagemaker-p-test0001-test";

static UNIQUE: AtomicU32 = AtomicU32::new(0);

/// The accounts each fleet's prefix of [`BUCKET`] is shared with, by prefix: one bucket policy
/// holds them all, written whole under this lock.
static SHARES: tokio::sync::Mutex<BTreeMap<String, Vec<String>>> =
    tokio::sync::Mutex::const_new(BTreeMap::new());

/// A staging fleet of `n` accounts, each with the roles a deploy needs, and a package whose
/// artifacts the accounts' execution roles may read, unless a test takes that away.
struct Fleet {
    ws: Workspace,
    proxy: FaultProxy,
    accounts: Vec<String>,
    bucket: String,
    repository: String,
    /// The OUs the product is launched with (the fleet's accounts are in the staging one).
    staging_ou: String,
    prod_ou: String,
}

impl Fleet {
    async fn new(name: &str, n: usize) -> Self {
        let unique = format!("{name}-{}", UNIQUE.fetch_add(1, Ordering::SeqCst));
        let org = Organization::get(moto()).await;
        let ou = org.create_ou(&org.root_id, &unique).await;
        let prod_ou = org.create_ou(&org.root_id, &format!("{unique}-prod")).await;
        let mut accounts = Vec::new();
        for index in 0..n {
            accounts.push(org.create_account(&ou, &format!("{unique}-{index}")).await);
        }
        accounts.sort();
        let bucket = BUCKET.to_owned();
        let repository = format!("models/{unique}");
        let ws = Workspace::new(&unique);
        let package = register_package(&unique, &bucket, &repository).await;
        ws.write(
            "staging-config-export.json",
            fleet_build_config(&unique, &package),
        );
        let fleet = Self {
            ws,
            proxy: FaultProxy::start(moto()),
            accounts,
            bucket,
            repository,
            staging_ou: ou,
            prod_ou,
        };
        fleet.proxy.stand_in_for_policy_simulator();
        fleet.proxy.stand_in_for_service_quotas();
        fleet.share_model(&fleet.accounts).await;
        for account in &fleet.accounts {
            fleet.create_roles(account).await;
        }
        fleet
    }

    /// The package's artifacts (this fleet's prefix of the bucket) and image (this fleet's
    /// repository), readable by `accounts` and nobody else, by the bucket's and the repository's
    /// policies.
    async fn share_model(&self, accounts: &[String]) {
        let config = sdk_config(moto(), REGION).await;
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&config)
                .force_path_style(true)
                .build(),
        );
        let mut shares = SHARES.lock().await;
        shares.insert(self.ws.project.clone(), accounts.to_vec());
        let statements: Vec<Value> = shares
            .iter()
            .map(|(prefix, accounts)| {
                let roots: Vec<String> = accounts
                    .iter()
                    .map(|a| format!("arn:aws:iam::{a}:root"))
                    .collect();
                json!({"Effect": "Allow", "Principal": {"AWS": roots}, "Action": "s3:GetObject",
                    "Resource": format!("arn:aws:s3:::{}/{prefix}/*", self.bucket)})
            })
            .collect();
        let _ = s3.create_bucket().bucket(&self.bucket).send().await;
        let bucket_policy = json!({"Version": "2012-10-17", "Statement": statements});
        s3.put_bucket_policy()
            .bucket(&self.bucket)
            .policy(bucket_policy.to_string())
            .send()
            .await
            .expect("PutBucketPolicy");
        drop(shares);
        let ecr = aws_sdk_ecr::Client::new(&config);
        let _ = ecr
            .create_repository()
            .repository_name(&self.repository)
            .send()
            .await;
        let roots: Vec<String> = accounts
            .iter()
            .map(|a| format!("arn:aws:iam::{a}:root"))
            .collect();
        let repository_policy = json!({"Version": "2012-10-17", "Statement": [{
            "Sid": "PullFromTheStages", "Effect": "Allow", "Principal": {"AWS": roots},
            "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"]}]});
        ecr.set_repository_policy()
            .repository_name(&self.repository)
            .policy_text(repository_policy.to_string())
            .send()
            .await
            .expect("SetRepositoryPolicy");
    }

    /// The role template deployed into `account` as the platform team deploys it for this
    /// project and stage: the model's execution role (trusting SageMaker, reading the artifacts
    /// and the image), the StackSet execution role (trusting the administration role) and
    /// test-step's role, with the template's policies and the permissions boundary created from
    /// `templates/iam/` (IAM's policy simulator, stood in for, reads both from the emulator).
    async fn create_roles(&self, account: &str) {
        let credentials = assume_account(moto(), account, "OrganizationAccountAccessRole").await;
        let iam = aws_sdk_iam::Client::new(&sdk_config_with(moto(), REGION, credentials).await);
        let boundary = repo_root().join("templates/iam/permissions-boundary-policy.json");
        iam.create_policy()
            .policy_name(BOUNDARY.rsplit('/').next().unwrap())
            .policy_document(std::fs::read_to_string(boundary).unwrap())
            .send()
            .await
            .expect("CreatePolicy (the permissions boundary)");
        let template = self.account_roles(account);
        let mut names = Vec::new();
        for role in template.of_type("AWS::IAM::Role") {
            let properties = &role.properties;
            let name = properties["RoleName"].as_str().unwrap();
            names.push(name);
            iam.create_role()
                .role_name(name)
                .assume_role_policy_document(properties["AssumeRolePolicyDocument"].to_string())
                .set_permissions_boundary(
                    properties["PermissionsBoundary"]
                        .as_str()
                        .map(str::to_owned),
                )
                .send()
                .await
                .unwrap_or_else(|e| panic!("CreateRole {name} in {account}: {e:?}"));
            for policy in properties["Policies"].as_array().into_iter().flatten() {
                iam.put_role_policy()
                    .role_name(name)
                    .policy_name(policy["PolicyName"].as_str().unwrap())
                    .policy_document(policy["PolicyDocument"].to_string())
                    .send()
                    .await
                    .unwrap_or_else(|e| panic!("PutRolePolicy {name} in {account}: {e:?}"));
            }
        }
        names.sort_unstable();
        assert_eq!(
            names,
            [DEPLOY_ROLE, MODEL_ROLE, TEST_ROLE],
            "the role template's roles"
        );
    }

    /// The role template (templates/target-account-role.yml) as CloudFormation creates it in
    /// `account` for this project and stage, with this fleet's artifacts and image.
    fn account_roles(&self, account: &str) -> ResolvedTemplate {
        let repository = format!("arn:aws:ecr:{REGION}:{DS}:repository/{}", self.repository);
        let mut inputs = StackInputs::new(account, REGION);
        for (key, value) in [
            ("SageMakerProjectName", self.ws.project.clone()),
            ("SageMakerProjectId", PROJECT_ID.to_owned()),
            ("Stage", STAGE.to_owned()),
            // The build config's StageName.
            ("StageName", STAGE.to_owned()),
            ("DataScienceAccountId", DS.to_owned()),
            ("PermissionsBoundaryArn", BOUNDARY.replace(DS, account)),
            (
                "ModelArtifactBucketArn",
                format!("arn:aws:s3:::{}", self.bucket),
            ),
            ("ModelArtifactKeyPrefix", format!("{}/", self.ws.project)),
            ("ModelImageRepositoryArns", repository),
        ] {
            inputs = inputs.parameter(key, &value);
        }
        resolve_repo_template(TARGET_ROLES_TEMPLATE, &inputs)
    }

    /// The product (templates/sagemaker-project.yml) as the launch of this fleet's project
    /// creates it in the data science account.
    fn product(&self) -> ResolvedTemplate {
        let inputs = StackInputs::new(DS, REGION)
            .stack_name(&format!("SC-{DS}-pp-{PROJECT_ID}"))
            .parameter("SageMakerProjectName", &self.ws.project)
            .parameter("SageMakerProjectId", PROJECT_ID)
            .parameter("PermissionsBoundaryArn", BOUNDARY)
            .parameter("OrganizationalUnitStagingId", &self.staging_ou)
            .parameter("OrganizationalUnitProdId", &self.prod_ou);
        resolve_repo_template(PRODUCT_TEMPLATE, &inputs)
    }

    /// The role test-step runs as (the product's [`RUNNER`]) and every role it may act as, with
    /// the policies IAM would hold for them: the product's, and the role template's in each
    /// account of the fleet. `without` (role name, statement Sid) takes that statement out of
    /// that role's policies, to show the evaluation denies what the statement allowed.
    fn production_roles(&self, without: Option<(&str, &str)>) -> (RolePolicies, FleetRoles) {
        let mut templates = vec![self.product()];
        templates.extend(self.accounts.iter().map(|a| self.account_roles(a)));
        let mut roles = Vec::new();
        let mut stripped = 0;
        for template in &mut templates {
            for role in template.resources.values_mut() {
                if role.resource_type != "AWS::IAM::Role" {
                    continue;
                }
                if let Some((name, sid)) = without {
                    if role.properties["RoleName"] == name {
                        remove_statement(&mut role.properties, sid);
                        stripped += 1;
                    }
                }
                roles.push(RolePolicies::of_role(role).unwrap());
            }
        }
        if without.is_some() {
            assert!(stripped > 0, "no role is named {without:?}");
        }
        let runner = templates[0].resource(RUNNER).unwrap();
        assert_eq!(runner.properties["RoleName"], RUNNER_NAME);
        let runner = RolePolicies::of_role(runner).unwrap();
        let roles = FleetRoles {
            roles,
            endpoint: self.ws.endpoint().to_ascii_lowercase(),
        };
        (runner, roles)
    }

    /// One line per call of `calls` that the production roles (less `without`, see
    /// [`Self::production_roles`]) would not allow.
    fn denied(&self, calls: &[RecordedCall], without: Option<(&str, &str)>) -> Vec<String> {
        let (runner, roles) = self.production_roles(without);
        let calls: Vec<RecordedCall> = calls.iter().flat_map(named_bucket_reads).collect();
        denied_calls(&calls, &runner, &|key| self.proxy.session_of(key), &roles)
    }

    /// Every call of one run (`calls`), evaluated as IAM would in production: each made in a
    /// target account with keys of an AssumeRole of [`TEST_ROLE`] that carried a session policy,
    /// and each allowed.
    fn assert_calls_allowed(&self, calls: &[RecordedCall]) {
        for call in calls
            .iter()
            .filter(|c| c.account != DS && c.operation != "AssumeRole")
        {
            let session = self.proxy.session_of(&call.access_key).unwrap_or_else(|| {
                panic!("{call:?} was made in a target account without an assumed role's keys")
            });
            assert!(
                session.role_arn.ends_with(&format!(":role/{TEST_ROLE}")),
                "{call:?} was made as {}",
                session.role_arn
            );
            let policy: Value = serde_json::from_str(session.policy.as_deref().unwrap_or_default())
                .unwrap_or_else(|e| panic!("{} has no session policy ({e})", session.role_arn));
            assert!(
                policy["Statement"]
                    .as_array()
                    .is_some_and(|s| !s.is_empty()),
                "a session policy that allows nothing: {policy}"
            );
        }
        let denied = self.denied(calls, None);
        assert!(
            denied.is_empty(),
            "calls test-step's production roles may not make:\n{}",
            denied.join("\n")
        );
    }

    /// `test-step <command>` on every account of the fleet, through the proxy.
    fn run(&self, command: &str, extra: &[&str]) -> CliOutput {
        self.run_in(&self.accounts, command, extra)
    }

    /// `test-step <command>` on `accounts`, through the proxy, as the product's staging projects
    /// run it; the run's calls are evaluated against the production roles
    /// ([`Self::assert_calls_allowed`]).
    fn run_in(&self, accounts: &[String], command: &str, extra: &[&str]) -> CliOutput {
        let accounts = accounts.join(",");
        let mut args = vec![command, "--account-id", &accounts];
        args.extend(extra);
        let before = self.proxy.calls().len();
        let out = self
            .ws
            .test_step()
            .envs(
                self.proxy
                    .env()
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str())),
            )
            .env("SAGEMAKER_EXECUTION_ROLE_NAME", TEST_ROLE)
            .env("STACKSET_EXECUTION_ROLE_NAME", DEPLOY_ROLE)
            .env("STACKSET_ADMINISTRATION_ROLE_ARN", ADMIN_ROLE)
            .args(args)
            .run();
        let calls = self.proxy.calls().split_off(before);
        if !calls.is_empty() {
            self.assert_calls_allowed(&calls);
        }
        out
    }

    fn report(&self, name: &str) -> Value {
        let text = std::fs::read_to_string(self.ws.file(name)).unwrap();
        let report: Value = serde_json::from_str(&text).unwrap();
        let junit = std::fs::read_to_string(self.ws.file(&name.replace(".json", ".xml"))).unwrap();
        let command = name
            .strip_suffix("-results.json")
            .expect("a command's report");
        FleetReports::check(command, &text, &junit);
        let cases: usize = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["checks"].as_array().unwrap().len())
            .sum();
        let parsed = roxmltree::Document::parse(&junit).unwrap();
        let testcases = parsed
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .count();
        assert_eq!(testcases, cases, "one JUnit test case per check:\n{junit}");
        report
    }

    /// (check name, status) of `account`'s target.
    fn checks(report: &Value, account: &str) -> Vec<(String, String, String)> {
        let target = report["targets"]
            .as_array()
            .unwrap()
            .iter()
            .find(|t| t["account_id"] == account)
            .unwrap_or_else(|| panic!("no target {account}: {report}"));
        target_checks(target)
    }

    fn check<'a>(
        checks: &'a [(String, String, String)],
        name: &str,
    ) -> &'a (String, String, String) {
        checks
            .iter()
            .find(|c| c.0 == name)
            .unwrap_or_else(|| panic!("no check {name}: {checks:?}"))
    }

    /// Every call the subcommands made, none of them a write or an invocation.
    fn assert_read_only(&self) {
        self.assert_read_only_since(0);
    }

    /// The calls of one run (those from `since`, the count before it started), after asserting
    /// there are some and none of them is a write or an invocation.
    fn assert_read_only_since(&self, since: usize) -> Vec<RecordedCall> {
        let calls = self.proxy.calls().split_off(since);
        assert!(!calls.is_empty(), "no call went through the proxy");
        let writes: Vec<&RecordedCall> = calls.iter().filter(|c| writes(&c.operation)).collect();
        assert!(writes.is_empty(), "writes or invocations: {writes:?}");
        calls
    }
}

/// Whether an operation changes something or invokes a model.
fn writes(operation: &str) -> bool {
    const VERBS: [&str; 12] = [
        "Create", "Update", "Delete", "Put", "Invoke", "Start", "Stop", "Attach", "Tag", "Untag",
        "Add", "Set",
    ];
    VERBS.iter().any(|verb| operation.starts_with(verb))
        || ["PUT ", "POST ", "DELETE "]
            .iter()
            .any(|method| operation.starts_with(method))
}

/// The build config build-step writes for the fleet's project ([`build_config`]), whose RoleName
/// is the role template's execution role, as production's is.
fn fleet_build_config(project: &str, package: &str) -> String {
    let config = ParameterList::parse(&build_config(project, package)).unwrap();
    let entries = config
        .iter()
        .map(|p| match p.parameter_key.as_str() {
            "RoleName" => StackSetParameter::new("RoleName", MODEL_ROLE),
            _ => p.clone(),
        })
        .collect();
    ParameterList::new(entries).unwrap().to_json()
}

/// The roles of the fleet's project, for [`denied_calls`]. The endpoint stack tags the endpoint,
/// its config and its model with the project id (templates/endpoint.yml.j2); the tests deploy
/// them by hand as `<endpoint>`, `<endpoint>-config` and `<endpoint>-model`, untagged, so those
/// three carry the tag here and nothing else does.
struct FleetRoles {
    roles: Vec<RolePolicies>,
    /// The project's endpoint name, in lower case as SageMaker's ARNs write it.
    endpoint: String,
}

impl Roles for FleetRoles {
    fn role(&self, arn: &str) -> Option<&RolePolicies> {
        self.roles.iter().find(|r| r.arn == arn)
    }

    fn resource_tags(&self, _account: &str, resource_arn: &str) -> Vec<(String, String)> {
        let endpoint = &self.endpoint;
        let ours = [
            format!("endpoint/{endpoint}"),
            format!("endpoint-config/{endpoint}-config"),
            format!("model/{endpoint}-model"),
        ];
        let resource = resource_arn.splitn(6, ':').nth(5).unwrap_or_default();
        if resource_arn.starts_with("arn:aws:sagemaker:") && ours.iter().any(|r| r == resource) {
            vec![("sagemaker:project-id".to_owned(), PROJECT_ID.to_owned())]
        } else {
            Vec::new()
        }
    }
}

/// Takes the statement `sid` out of the inline policies of a resolved role.
fn remove_statement(role: &mut Value, sid: &str) {
    let mut removed = 0;
    for policy in role["Policies"].as_array_mut().into_iter().flatten() {
        let statements = policy["PolicyDocument"]["Statement"]
            .as_array_mut()
            .unwrap();
        let before = statements.len();
        statements.retain(|s| s["Sid"] != sid);
        removed += before - statements.len();
    }
    assert_eq!(removed, 1, "{} has one statement {sid}", role["RoleName"]);
}

/// A package of a group of its own whose artifacts are in `bucket` and image in `repository`.
async fn register_package(group: &str, bucket: &str, repository: &str) -> String {
    let client = aws_sdk_sagemaker::Client::new(&sdk_config(moto(), REGION).await);
    client
        .create_model_package_group()
        .model_package_group_name(group)
        .send()
        .await
        .expect("CreateModelPackageGroup");
    let spec = InferenceSpecification::builder()
        .containers(
            ModelPackageContainerDefinition::builder()
                .image(format!(
                    "{DS}.dkr.ecr.{REGION}.amazonaws.com/{repository}:1"
                ))
                .model_data_url(format!("s3://{bucket}/{group}/model.tar.gz"))
                .build(),
        )
        .supported_content_types("text/csv")
        .supported_response_mime_types("application/json")
        .build();
    let out = client
        .create_model_package()
        .model_package_group_name(group)
        .model_approval_status(ModelApprovalStatus::Approved)
        .inference_specification(spec)
        .send()
        .await
        .expect("CreateModelPackage");
    out.model_package_arn().unwrap().to_owned()
}

#[tokio::test]
async fn status_names_a_drifted_and_a_missing_endpoint_and_passes_a_fleet_in_sync() {
    let fleet = Fleet::new("status", 3).await;
    let (in_sync, drifted, missing) = (&fleet.accounts[0], &fleet.accounts[1], &fleet.accounts[2]);
    let endpoint = fleet.ws.endpoint();
    let package = registered(&fleet);
    let asked = Hosting::Instances {
        instance_type: "ml.m5.large".into(),
        count: 1,
    };
    deploy_hosted_endpoint(moto(), in_sync, REGION, &endpoint, &package, &asked).await;
    // The same package on two instances: what a rolled-back update that changed the count leaves.
    let rolled_back = Hosting::Instances {
        instance_type: "ml.m5.large".into(),
        count: 2,
    };
    deploy_hosted_endpoint(moto(), drifted, REGION, &endpoint, &package, &rolled_back).await;

    let before = fleet.proxy.calls().len();
    let out = fleet.run("status", &[]);

    out.code(1);
    out.stderr_contains("status: 2 of 3 targets are not serving what the build config says");
    // Read-only on the drifted and the missing endpoint too: the calls that described them (in
    // their accounts, through the proxy) are reads, and none of the run's calls writes or invokes.
    let calls = fleet.assert_read_only_since(before);
    let operations_in = |account: &str| -> Vec<&str> {
        calls
            .iter()
            .filter(|c| c.account == account)
            .map(|c| c.operation.as_str())
            .collect()
    };
    for (account, described) in [
        (
            drifted,
            &[
                "AssumeRole",
                "DescribeEndpoint",
                "DescribeEndpointConfig",
                "DescribeModel",
            ][..],
        ),
        (missing, &["AssumeRole", "DescribeEndpoint"][..]),
    ] {
        let seen = operations_in(account);
        for operation in described {
            assert!(seen.contains(operation), "{account}: {seen:?}");
        }
    }
    assert!(
        !operations_in(missing).contains(&"DescribeEndpointConfig"),
        "nothing to describe past the missing endpoint"
    );
    for account in [in_sync, drifted] {
        out.stdout_contains(&format!("{account}  {REGION}  InService"));
    }
    out.stdout_contains("2 x ml.m5.large");
    out.stdout_contains("DRIFTED");
    let report = fleet.report("status-results.json");
    assert_eq!(report["command"], "status");
    assert_eq!(report["summary"]["failed"], 2);
    let drift = Fleet::checks(&report, drifted);
    assert_eq!(Fleet::check(&drift, "model-package").1, "passed");
    let settings = Fleet::check(&drift, "settings");
    assert_eq!(settings.1, "failed");
    assert!(
        settings
            .2
            .contains("variant AllTraffic starts 2 instance(s), the build config asks for 1"),
        "{settings:?}"
    );
    let target = report["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account_id"] == drifted.as_str())
        .unwrap();
    assert_eq!(
        target["endpoint"]["variants"][0]["initial_instance_count"],
        2
    );
    assert!(target["endpoint"]["last_modified"].is_string());
    let gone = Fleet::checks(&report, missing);
    let absent = Fleet::check(&gone, "endpoint");
    assert_eq!(absent.1, "failed");
    assert!(
        absent.2.contains(&format!(
            "{endpoint} in account {missing} region {REGION} does not exist"
        )),
        "{absent:?}"
    );
    assert!(Fleet::checks(&report, in_sync)
        .iter()
        .all(|c| c.1 == "passed"));

    // The test fails the drifted endpoint too, naming the drift.
    let test = fleet.run("test", &["--wait-timeout", "1s"]);
    test.code(1);
    let tested: Value =
        serde_json::from_str(&std::fs::read_to_string(fleet.ws.file("test-results.json")).unwrap())
            .unwrap();
    let drifted_test = tested["targets"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["account_id"] == drifted.as_str())
        .unwrap();
    assert_eq!(drifted_test["status"], "failed");
    assert!(
        drifted_test["error"]
            .as_str()
            .unwrap()
            .contains("serves the exported model package but not the build config's settings"),
        "{drifted_test}"
    );

    // A fleet in sync passes; neither run wrote anything or, in status, invoked anything.
    let calls_before = fleet.proxy.calls().len();
    let clean = fleet.run_in(
        std::slice::from_ref(in_sync),
        "status",
        &["--output", "json"],
    );
    clean.code(0);
    let printed: Value = serde_json::from_str(&clean.stdout).unwrap();
    assert_eq!(printed["status"], "passed");
    fleet.assert_read_only_since(calls_before);
    let status_calls: Vec<String> = fleet.proxy.calls()[calls_before..]
        .iter()
        .map(|c| c.operation.clone())
        .collect();
    assert!(
        !status_calls.iter().any(|op| writes(op)),
        "{status_calls:?}"
    );
}

/// The package the fleet's build config names.
fn registered(fleet: &Fleet) -> String {
    model_package_name(&fleet.ws.file("staging-config-export.json"))
}

#[tokio::test]
async fn preflight_passes_a_ready_fleet_without_writing_or_invoking() {
    let fleet = Fleet::new("ready", 2).await;
    // The second account already runs this project's stack: its endpoint name is the project's.
    let ours = &fleet.accounts[1];
    let deployed = deploy_hosted_endpoint(
        moto(),
        ours,
        REGION,
        &fleet.ws.endpoint(),
        &registered(&fleet),
        &Hosting::default(),
    )
    .await;
    let credentials = assume_account(moto(), ours, STAGING_ROLE).await;
    let sagemaker =
        aws_sdk_sagemaker::Client::new(&sdk_config_with(moto(), REGION, credentials).await);
    let endpoint_arn = sagemaker
        .describe_endpoint()
        .endpoint_name(&deployed.endpoint_name)
        .send()
        .await
        .unwrap()
        .endpoint_arn()
        .unwrap()
        .to_owned();
    let stack = format!(
        "StackSet-sagemaker-{}-{PROJECT_ID}-deploy-staging-1",
        fleet.ws.project
    );
    for (key, value) in [
        ("sagemaker:project-id", PROJECT_ID),
        ("aws:cloudformation:stack-name", &stack),
    ] {
        sagemaker
            .add_tags()
            .resource_arn(&endpoint_arn)
            .tags(
                aws_sdk_sagemaker::types::Tag::builder()
                    .key(key)
                    .value(value)
                    .build(),
            )
            .send()
            .await
            .expect("AddTags");
    }

    let out = fleet.run("preflight", &[]);

    out.code(0);
    out.stdout_contains("READY");
    let report = fleet.report("preflight-results.json");
    assert_eq!(report["command"], "preflight");
    for (account, in_use) in fleet.accounts.iter().zip([0, 1]) {
        let checks = Fleet::checks(&report, account);
        let names: Vec<&str> = checks.iter().map(|c| c.0.as_str()).collect();
        assert_eq!(
            names,
            [
                "assume-role",
                "execution-role",
                "deploy-role",
                "model-artifacts",
                "model-image",
                "capacity",
                "endpoint-name"
            ]
        );
        let image = Fleet::check(&checks, "model-image");
        assert!(
            image.2.contains(&format!(
                "may read {DS}.dkr.ecr.{REGION}.amazonaws.com/{}:1",
                fleet.repository
            )),
            "{image:?}"
        );
        assert!(checks.iter().all(|c| c.1 == "passed"), "{checks:?}");
        let capacity = Fleet::check(&checks, "capacity");
        assert!(
            capacity.2.contains("\"ml.m5.large for endpoint usage\"")
                && capacity
                    .2
                    .contains(&format!("{in_use} in use, 1 instance(s) asked")),
            "{capacity:?}"
        );
    }
    let name = Fleet::checks(&report, ours);
    assert!(Fleet::check(&name, "endpoint-name")
        .2
        .contains(&format!("belongs to this project's stack {stack}")));
    fleet.assert_read_only();
    let simulated = fleet.proxy.count("SimulatePrincipalPolicy");
    assert_eq!(
        simulated,
        2 * fleet.accounts.len(),
        "artifacts and image, per account"
    );

    // The evaluation `run` made can fail: without the role template's statement that allows
    // preflight's listings, each listing is denied, named, and nothing else is; without the
    // product's statement that lets the pipeline's role assume test-step's role, each
    // AssumeRole is.
    let calls = fleet.proxy.calls();
    for (role, sid, operations) in [
        (
            TEST_ROLE,
            "PreflightListings",
            &["ListEndpoints", "ListServiceQuotas"][..],
        ),
        (RUNNER_NAME, "AssumeTheStagingTestRole", &["AssumeRole"][..]),
    ] {
        let needed: Vec<&RecordedCall> = calls
            .iter()
            .filter(|c| operations.contains(&c.operation.as_str()))
            .collect();
        assert!(
            needed.len() >= fleet.accounts.len(),
            "{operations:?} in each account: {needed:?}"
        );
        let denied = fleet.denied(&calls, Some((role, sid)));
        assert_eq!(denied.len(), needed.len(), "without {sid}: {denied:#?}");
        for (line, call) in denied.iter().zip(needed) {
            let named = format!(
                "{}:{} in {} is not allowed",
                call.signing_service, call.operation, call.account
            );
            assert!(line.starts_with(&named), "without {sid}: {line}");
        }
    }
}

#[tokio::test]
async fn preflight_names_each_target_that_is_not_ready_and_why() {
    let fleet = Fleet::new("notready", 4).await;
    let [denied, unshared, full, taken] = [0, 1, 2, 3].map(|i| fleet.accounts[i].clone());
    // One account whose role cannot be assumed.
    fleet
        .proxy
        .inject(Fault::new("AssumeRole", FaultKind::AccessDenied, 100).in_account(&denied));
    // One account the bucket is not shared with.
    let shared: Vec<String> = fleet
        .accounts
        .iter()
        .filter(|a| **a != unshared)
        .cloned()
        .collect();
    fleet.share_model(&shared).await;
    // One account whose ml.m5.large quota its other endpoints already use up.
    fleet
        .proxy
        .set_service_quota(&full, REGION, "ml.m5.large for endpoint usage", 2.0);
    let other = Hosting::Instances {
        instance_type: "ml.m5.large".into(),
        count: 2,
    };
    let package = registered(&fleet);
    deploy_hosted_endpoint(moto(), &full, REGION, "another-team", &package, &other).await;
    // One account where someone made the endpoint by hand under the project's name.
    deploy_hosted_endpoint(
        moto(),
        &taken,
        REGION,
        &fleet.ws.endpoint(),
        &package,
        &Hosting::default(),
    )
    .await;

    let out = fleet.run("preflight", &[]);

    out.code(1);
    out.stderr_contains("preflight: 4 of 4 targets are not ready");
    let report = fleet.report("preflight-results.json");
    let status = |account: &str, name: &str| {
        let checks = Fleet::checks(&report, account);
        let check = Fleet::check(&checks, name).clone();
        (check.1, check.2)
    };
    let (assume, why) = status(&denied, "assume-role");
    assert_eq!(assume, "failed");
    assert!(
        why.contains(&format!(
            "cannot assume arn:aws:iam::{denied}:role/{TEST_ROLE}"
        )),
        "{why}"
    );
    let (artifacts, why) = status(&unshared, "model-artifacts");
    assert_eq!(artifacts, "failed");
    assert!(
        why.contains(&format!("may not read s3://{}/", fleet.bucket))
            && why.contains(&format!(
                "the resource policy of account {DS} grants account {unshared} no s3:GetObject"
            )),
        "{why}"
    );
    let (image, why) = status(&unshared, "model-image");
    assert_eq!(image, "failed");
    assert!(
        why.contains(&format!(
            "the resource policy of account {DS} grants account {unshared} no ecr:BatchGetImage, ecr:GetDownloadUrlForLayer"
        )),
        "{why}"
    );
    let (capacity, why) = status(&full, "capacity");
    assert_eq!(capacity, "failed");
    assert!(
        why.contains("is 2 in account") && why.contains("2 in use, 1 instance(s) asked: 1 short"),
        "{why}"
    );
    let (name, why) = status(&taken, "endpoint-name");
    assert_eq!(name, "failed");
    assert!(
        why.contains(&format!(
            "endpoint {} already exists in account {taken}",
            fleet.ws.endpoint()
        )),
        "{why}"
    );
    for account in [&unshared, &full, &taken] {
        assert_eq!(status(account, "assume-role").0, "passed");
    }
    fleet.assert_read_only();
}

#[tokio::test]
async fn a_check_the_role_may_not_run_is_skipped_and_fails_only_under_strict() {
    let fleet = Fleet::new("denied", 1).await;
    let account = fleet.accounts[0].clone();
    fleet
        .proxy
        .inject(Fault::new("ListServiceQuotas", FaultKind::AccessDenied, 100).in_account(&account));
    // And the pipeline's role may not read the image repository's policy.
    fleet.proxy.inject(Fault::new(
        "GetRepositoryPolicy",
        FaultKind::AccessDenied,
        100,
    ));

    let lenient = fleet.run("preflight", &[]);
    lenient.code(0);
    let report = fleet.report("preflight-results.json");
    let checks = Fleet::checks(&report, &account);
    let capacity = Fleet::check(&checks, "capacity");
    assert_eq!(capacity.1, "skipped");
    assert!(
        capacity
            .2
            .contains("AWS denied servicequotas:ListServiceQuotas to the assumed role"),
        "{capacity:?}"
    );
    let image = Fleet::check(&checks, "model-image");
    assert_eq!(image.1, "skipped");
    assert!(
        image
            .2
            .contains("its resource policy could not be read with the pipeline's role")
            && image.2.contains("ecr:GetRepositoryPolicy"),
        "{image:?}"
    );
    assert_eq!(
        report["summary"]["skipped_checks"], 2,
        "capacity, and the image whose repository policy is unreadable"
    );

    let strict = fleet.run("preflight", &["--strict"]);
    strict.code(1);
    strict.stderr_contains("capacity: not run in account");
    let junit = std::fs::read_to_string(fleet.ws.file("preflight-results.xml")).unwrap();
    assert!(junit.contains("skipped under --strict"), "{junit}");

    // --strict is preflight's alone.
    let misplaced = fleet.run("status", &["--strict"]);
    misplaced.code(2);
    misplaced.stderr_contains("--strict: applies to test-step preflight only");
    fleet.assert_read_only();
}

/// The registry learns the verdict only when asked: `--update-model-lifecycle` (the test and
/// verify buildspecs set `UPDATE_MODEL_LIFECYCLE`) records the stage and status in the package's
/// `ModelLifeCycle`, through the stand-in (the emulator knows no lifecycle); without it the run
/// writes nothing to the registry.
#[tokio::test]
async fn a_passing_test_with_the_flag_records_its_stage_in_the_registry_and_without_it_nothing() {
    let fleet = Fleet::new("lifecycle", 1).await;
    let account = fleet.accounts[0].clone();
    let package = registered(&fleet);
    let endpoint = fleet.ws.endpoint();
    deploy_hosted_endpoint(
        moto(),
        &account,
        REGION,
        &endpoint,
        &package,
        &Hosting::default(),
    )
    .await;
    test_support::endpoints::queue_json_answers(
        moto(),
        &account,
        REGION,
        &test_support::endpoints::GOOD_ANSWERS,
    );
    fleet.proxy.stand_in_for_model_lifecycle();

    let without = fleet.run("test", &[]);
    without.code(0);
    assert_eq!(
        fleet.proxy.count("UpdateModelPackage"),
        0,
        "no flag, no write"
    );
    assert_eq!(fleet.proxy.model_lifecycle(DS, &package), None);

    let before = fleet.proxy.calls().len();
    let with = fleet
        .ws
        .test_step()
        .envs(
            fleet
                .proxy
                .env()
                .iter()
                .map(|(k, v)| (k.as_str(), v.as_str())),
        )
        .env("SAGEMAKER_EXECUTION_ROLE_NAME", TEST_ROLE)
        .env("UPDATE_MODEL_LIFECYCLE", "true")
        .env(
            "CODEBUILD_BUILD_URL",
            "https://console.aws.amazon.com/codesuite/codebuild/builds/1",
        )
        .args(["--account-id", &account])
        .run();
    with.code(0);
    assert_eq!(fleet.proxy.count("UpdateModelPackage"), 1);
    fleet.assert_calls_allowed(&fleet.proxy.calls().split_off(before));
    let lifecycle = fleet
        .proxy
        .model_lifecycle(DS, &package)
        .expect("the lifecycle was set in the data science account");
    assert_eq!(lifecycle["Stage"], "Staging");
    assert_eq!(lifecycle["StageStatus"], "DeployedAndTested");
    let description = lifecycle["StageDescription"].as_str().unwrap();
    assert!(
        description.starts_with("Staging (staging): 1 of 1 targets passed")
            && description
                .ends_with("; run https://console.aws.amazon.com/codesuite/codebuild/builds/1"),
        "{description}"
    );
}
