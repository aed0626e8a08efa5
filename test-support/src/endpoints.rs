//! What the staging StackSet deploys, created directly in the emulator: moto's CloudFormation
//! ignores `EndpointName`, so the endpoint `<project>-<stage>` is made with the SDK, through
//! credentials assumed in the target account exactly as the pipeline's role would. Also the
//! runtime answers each account's endpoint gives.

use aws_sdk_sagemaker::types::{
    CaptureMode, CaptureOption, ContainerDefinition, DataCaptureConfig, ProductionVariant,
    ProductionVariantInstanceType, ProductionVariantServerlessConfig,
};
use deploy_core::hosting;
use deploy_core::stack_params::ParameterList;

use crate::seed::{assume_account, sdk_config_with};
use crate::Moto;

/// The role the tests assume in every staging account (moto does not require it to exist).
pub const STAGING_ROLE: &str = "sagemaker-role-staging";

/// Answers that meet the shipped manifest's expectations (`test/payloads/manifest.json`), in its
/// case order: what the demo's, the benchmark's and the tests' endpoints answer.
pub const GOOD_ANSWERS: [&str; 2] = [
    r#"{"predictions": [0.18]}"#,
    r#"{"predictions": [0.18, 0.04, 0.71, 0.33, 0.09]}"#,
];

/// One answer that meets every case of the shipped manifest: what a stand-in endpoint
/// (`FaultProxy::stand_in_for_endpoints`) answers to every invocation.
pub const STAND_IN_ANSWER: &str = GOOD_ANSWERS[1];

/// One endpoint as deployed into an account and region.
#[derive(Debug, Clone)]
pub struct DeployedEndpoint {
    pub account_id: String,
    pub region: String,
    pub endpoint_name: String,
    pub endpoint_config_name: String,
    pub model_name: String,
}

/// How the variant runs, as a stage's parameters choose it (the template's defaults otherwise).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Hosting {
    Instances {
        instance_type: String,
        count: i32,
    },
    Serverless {
        memory_mb: i32,
        max_concurrency: i32,
    },
}

impl std::fmt::Display for Hosting {
    /// How the demo names it: `serverless, 2048 MB, up to 5 at once` or `1 x ml.m5.large`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Instances {
                instance_type,
                count,
            } => write!(f, "{count} x {instance_type}"),
            Self::Serverless {
                memory_mb,
                max_concurrency,
            } => write!(
                f,
                "serverless, {memory_mb} MB, up to {max_concurrency} at once"
            ),
        }
    }
}

/// The endpoint template's defaults.
const DEFAULT_INSTANCE_TYPE: &str = "ml.m5.large";
const DEFAULT_INSTANCE_COUNT: i32 = 1;
const DEFAULT_MAX_CONCURRENCY: i32 = 20;

impl Default for Hosting {
    fn default() -> Self {
        Self::Instances {
            instance_type: DEFAULT_INSTANCE_TYPE.into(),
            count: DEFAULT_INSTANCE_COUNT,
        }
    }
}

impl Hosting {
    /// The hosting a stage's parameter file (build-step's export) asks for, read as the endpoint
    /// template reads it: serverless when `ServerlessMemorySizeInMB` is above 0.
    pub fn of_stage(parameters: &ParameterList) -> Self {
        let number = |key: &str, default: i32| {
            parameters.get(key).map_or(default, |v| {
                v.parse().expect("a whole number in the stage parameters")
            })
        };
        match number(hosting::SERVERLESS_MEMORY, 0) {
            0 => Self::Instances {
                instance_type: parameters
                    .get(hosting::INSTANCE_TYPE)
                    .unwrap_or(DEFAULT_INSTANCE_TYPE)
                    .to_owned(),
                count: number(hosting::INSTANCE_COUNT, DEFAULT_INSTANCE_COUNT),
            },
            memory_mb => Self::Serverless {
                memory_mb,
                max_concurrency: number(
                    hosting::SERVERLESS_MAX_CONCURRENCY,
                    DEFAULT_MAX_CONCURRENCY,
                ),
            },
        }
    }

    fn variant(&self, model_name: &str) -> ProductionVariant {
        let variant = ProductionVariant::builder()
            .variant_name("AllTraffic")
            .model_name(model_name);
        match self {
            Self::Instances {
                instance_type,
                count,
            } => variant
                .initial_instance_count(*count)
                .instance_type(ProductionVariantInstanceType::from(instance_type.as_str()))
                .initial_variant_weight(1.0),
            Self::Serverless {
                memory_mb,
                max_concurrency,
            } => variant.serverless_config(
                ProductionVariantServerlessConfig::builder()
                    .memory_size_in_mb(*memory_mb)
                    .max_concurrency(*max_concurrency)
                    .build(),
            ),
        }
        .build()
    }
}

/// [`deploy_hosted_endpoint`] on the template's default instances.
pub async fn deploy_endpoint(
    moto: &Moto,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
    model_package: &str,
) -> DeployedEndpoint {
    let hosting = Hosting::default();
    deploy_hosted_endpoint(
        moto,
        account_id,
        region,
        endpoint_name,
        model_package,
        &hosting,
    )
    .await
}

/// The data capture the endpoint template gives a stage whose parameters set
/// `DataCaptureSamplingPercentage` above 0: requests and answers, at that rate, into
/// `destination`; `None` when capture stays off.
pub fn data_capture(parameters: &ParameterList, destination: &str) -> Option<DataCaptureConfig> {
    let percentage = parameters
        .get(deploy_core::drift::DATA_CAPTURE_PERCENTAGE)
        .map_or(0, |p| {
            p.parse::<i32>()
                .expect("a whole number in the stage parameters")
        });
    let mode = |mode| CaptureOption::builder().capture_mode(mode).build();
    (percentage > 0).then(|| {
        DataCaptureConfig::builder()
            .enable_capture(true)
            .initial_sampling_percentage(percentage)
            .destination_s3_uri(destination)
            .capture_options(mode(CaptureMode::Input))
            .capture_options(mode(CaptureMode::Output))
            .build()
    })
}

/// [`deploy_hosted_endpoint`] as a stage's parameters (build-step's export) ask: their hosting
/// and their data capture (into the project's bucket `bucket`), so the endpoint serves what the
/// build config says and shows no drift.
pub async fn deploy_stage_endpoint(
    moto: &Moto,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
    parameters: &ParameterList,
    bucket: &str,
) -> DeployedEndpoint {
    let package = parameters
        .get("ModelPackageName")
        .expect("ModelPackageName in the stage parameters");
    let role = parameters
        .get("RoleName")
        .expect("RoleName in the stage parameters");
    let capture = data_capture(
        parameters,
        &format!("s3://{bucket}/datacapture/{role}/{endpoint_name}"),
    );
    let hosting = Hosting::of_stage(parameters);
    let target = (account_id, region, endpoint_name);
    create_endpoint(moto, target, package, &hosting, capture).await
}

/// Creates the model (from `model_package`, as the template's `AWS::SageMaker::Model` does), an
/// endpoint config with one `AllTraffic` variant hosted as `hosting` says, and the endpoint, in
/// `account_id` and `region`.
pub async fn deploy_hosted_endpoint(
    moto: &Moto,
    account_id: &str,
    region: &str,
    endpoint_name: &str,
    model_package: &str,
    hosting: &Hosting,
) -> DeployedEndpoint {
    let target = (account_id, region, endpoint_name);
    create_endpoint(moto, target, model_package, hosting, None).await
}

/// The model, the endpoint config (with `capture`, if any) and the endpoint `name` in `account_id`
/// and `region`.
async fn create_endpoint(
    moto: &Moto,
    (account_id, region, endpoint_name): (&str, &str, &str),
    model_package: &str,
    hosting: &Hosting,
    capture: Option<DataCaptureConfig>,
) -> DeployedEndpoint {
    let credentials = assume_account(moto, account_id, STAGING_ROLE).await;
    let client = aws_sdk_sagemaker::Client::new(&sdk_config_with(moto, region, credentials).await);
    let model_name = format!("{endpoint_name}-model");
    let endpoint_config_name = format!("{endpoint_name}-config");
    client
        .create_model()
        .model_name(&model_name)
        .execution_role_arn(format!("arn:aws:iam::{account_id}:role/{STAGING_ROLE}"))
        .primary_container(
            ContainerDefinition::builder()
                .model_package_name(model_package)
                .build(),
        )
        .send()
        .await
        .expect("CreateModel");
    client
        .create_endpoint_config()
        .endpoint_config_name(&endpoint_config_name)
        .production_variants(hosting.variant(&model_name))
        .set_data_capture_config(capture)
        .send()
        .await
        .expect("CreateEndpointConfig");
    client
        .create_endpoint()
        .endpoint_name(endpoint_name)
        .endpoint_config_name(&endpoint_config_name)
        .send()
        .await
        .expect("CreateEndpoint");
    DeployedEndpoint {
        account_id: account_id.to_owned(),
        region: region.to_owned(),
        endpoint_name: endpoint_name.to_owned(),
        endpoint_config_name,
        model_name,
    }
}

/// Queues JSON answers for the endpoints of one account and region: the first distinct request
/// gets the first body, the next distinct request the second, and so on; a repeated request gets
/// its first answer again (moto caches by request body).
pub fn queue_json_answers(moto: &Moto, account_id: &str, region: &str, bodies: &[&str]) {
    let results: Vec<serde_json::Value> = bodies
        .iter()
        .map(|body| serde_json::json!({"Body": body, "ContentType": "application/json"}))
        .collect();
    moto.queue_endpoint_results(account_id, region, &serde_json::Value::Array(results));
}

/// An endpoint nothing listens on: a run that reaches AWS through it exits 3, not 2.
pub fn closed_endpoint() -> String {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("a free port")
        .local_addr()
        .expect("its address")
        .port();
    format!("http://127.0.0.1:{port}")
}

/// The model's execution role in `account` as the role template makes it: [`STAGING_ROLE`],
/// trusting SageMaker, reading the artifacts under `bucket_prefix` (`bucket/prefix`) and pulling
/// from the ECR repository `repository_arn`. Returns the IAM client of the account (its
/// organization's access role), for more.
pub async fn create_execution_role(
    moto: &Moto,
    account_id: &str,
    bucket_prefix: &str,
    repository_arn: &str,
) -> aws_sdk_iam::Client {
    let credentials = assume_account(moto, account_id, "OrganizationAccountAccessRole").await;
    let iam =
        aws_sdk_iam::Client::new(&sdk_config_with(moto, crate::seed::REGION, credentials).await);
    let trust = serde_json::json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
        "Principal": {"Service": "sagemaker.amazonaws.com"}, "Action": "sts:AssumeRole"}]});
    iam.create_role()
        .role_name(STAGING_ROLE)
        .assume_role_policy_document(trust.to_string())
        .send()
        .await
        .expect("CreateRole (the execution role)");
    let run_the_model = serde_json::json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": format!("arn:aws:s3:::{bucket_prefix}/*")},
        {"Effect": "Allow", "Action": ["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
         "Resource": repository_arn}]});
    iam.put_role_policy()
        .role_name(STAGING_ROLE)
        .policy_name("run-the-model")
        .policy_document(run_the_model.to_string())
        .send()
        .await
        .expect("PutRolePolicy (the execution role)");
    iam
}
