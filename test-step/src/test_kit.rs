//! Mock AWS for the unit tests of the target stages (session, wait, tester): STS, SageMaker and
//! SageMaker Runtime answers built with `aws-smithy-mocks`, behind the same `ClientFactory` the
//! binary uses. The emulator cannot make an endpoint Updating or Failed, throttle, raise a model
//! error or expire credentials, so these paths are tested here; the behaviour mocked is
//! SageMaker's documented API (DescribeEndpoint's EndpointStatus, InvokeEndpoint's ModelError:
//! https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeEndpoint.html,
//! https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_runtime_InvokeEndpoint.html).

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use aws_sdk_sagemaker::config::Credentials;
use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointOutput;
use aws_sdk_sagemaker::operation::describe_endpoint_config::DescribeEndpointConfigOutput;
use aws_sdk_sagemaker::operation::describe_model::DescribeModelOutput;
use aws_sdk_sagemaker::types::{
    ContainerDefinition, EndpointStatus, ProductionVariant, ProductionVariantServerlessConfig,
};
use aws_sdk_sagemakerruntime::operation::invoke_endpoint::InvokeEndpointOutput;
use aws_sdk_sts::operation::assume_role::AssumeRoleOutput;
use aws_smithy_mocks::{mock, mock_client, Rule, RuleMode};
use aws_smithy_types::error::ErrorMetadata;
use aws_smithy_types::Blob;
use deploy_core::targets::Target;

use crate::session::{ClientFactory, Purpose, RoleToAssume};

pub(crate) const PACKAGE: &str = "arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3";
pub(crate) const ENDPOINT: &str = "churn-staging";

pub(crate) fn error(code: &str, message: &str) -> ErrorMetadata {
    ErrorMetadata::builder().code(code).message(message).build()
}

pub(crate) fn endpoint(status: EndpointStatus) -> DescribeEndpointOutput {
    DescribeEndpointOutput::builder()
        .endpoint_name(ENDPOINT)
        .endpoint_config_name("churn-staging-config")
        .endpoint_status(status)
        .build()
}

/// DescribeEndpoint answering `status` (Creating, Updating) `times` times, then `InService`.
pub(crate) fn in_service_after(status: EndpointStatus, times: usize) -> Rule {
    mock!(aws_sdk_sagemaker::Client::describe_endpoint)
        .sequence()
        .output(move || endpoint(status.clone()))
        .times(times)
        .output(|| endpoint(EndpointStatus::InService))
        .build()
}

/// AssumeRole answering with credentials that expire after `lifetime`.
pub(crate) fn assume_role(lifetime: Duration) -> Rule {
    mock!(aws_sdk_sts::Client::assume_role).then_output(move || {
        AssumeRoleOutput::builder()
            .credentials(
                aws_sdk_sts::types::Credentials::builder()
                    .access_key_id("ASIAMOCKACCESSKEY")
                    .secret_access_key("mock-secret")
                    .session_token("mock-token")
                    .expiration((SystemTime::now() + lifetime).into())
                    .build()
                    .expect("invariant: every required field is set above"),
            )
            .build()
    })
}

/// The model check's calls, answering with `package` for the one variant.
pub(crate) fn serving(package: &'static str) -> Vec<Rule> {
    serving_from(package, None)
}

/// [`serving`], from a serverless variant with this much memory.
pub(crate) fn serving_serverless(package: &'static str, memory_mb: i32) -> Vec<Rule> {
    serving_from(package, Some(memory_mb))
}

fn serving_from(package: &'static str, serverless_memory_mb: Option<i32>) -> Vec<Rule> {
    vec![
        mock!(aws_sdk_sagemaker::Client::describe_endpoint_config).then_output(move || {
            let serverless = serverless_memory_mb.map(|memory| {
                ProductionVariantServerlessConfig::builder()
                    .memory_size_in_mb(memory)
                    .max_concurrency(5)
                    .build()
            });
            DescribeEndpointConfigOutput::builder()
                .endpoint_config_name("churn-staging-config")
                .production_variants(
                    ProductionVariant::builder()
                        .variant_name("AllTraffic")
                        .model_name("churn-model")
                        .set_serverless_config(serverless)
                        .build(),
                )
                .build()
        }),
        mock!(aws_sdk_sagemaker::Client::describe_model).then_output(move || {
            DescribeModelOutput::builder()
                .model_name("churn-model")
                .primary_container(
                    ContainerDefinition::builder()
                        .model_package_name(package)
                        .build(),
                )
                .build()
        }),
    ]
}

pub(crate) fn answers(body: &'static str) -> Rule {
    mock!(aws_sdk_sagemakerruntime::Client::invoke_endpoint).then_output(move || {
        InvokeEndpointOutput::builder()
            .body(Blob::new(body))
            .content_type("application/json")
            .build()
    })
}

/// The binaries' retry policy (standard, MAX_ATTEMPTS), with a backoff too short to wait for.
pub(crate) fn fast_retries() -> aws_sdk_sagemaker::config::retry::RetryConfig {
    aws_sdk_sagemaker::config::retry::RetryConfig::standard()
        .with_max_attempts(deploy_shell::aws::MAX_ATTEMPTS)
        .with_initial_backoff(Duration::from_millis(1))
}

/// The staging role, assumed through an STS client that answers with `sts`.
pub(crate) fn role(sts: &[&Rule]) -> RoleToAssume {
    RoleToAssume {
        sts: mock_client!(aws_sdk_sts, RuleMode::MatchAny, sts.iter().copied(), |c| c
            .retry_config(fast_retries())),
        partition: "aws".into(),
        role_name: "sagemaker-role-staging".into(),
        session_name: "build-1".into(),
        endpoint_name: "churn-staging".into(),
        purpose: Purpose::Test,
    }
}

/// Hands out one SageMaker and one Runtime client, whatever the credentials and region.
pub(crate) struct Factory {
    sagemaker: aws_sdk_sagemaker::Client,
    runtime: aws_sdk_sagemakerruntime::Client,
}

impl Factory {
    pub(crate) fn new(sagemaker: &[&Rule], runtime: &[&Rule]) -> Arc<Self> {
        Arc::new(Self {
            sagemaker: mock_client!(
                aws_sdk_sagemaker,
                RuleMode::MatchAny,
                sagemaker.iter().copied(),
                |c| c.retry_config(fast_retries())
            ),
            runtime: mock_client!(
                aws_sdk_sagemakerruntime,
                RuleMode::MatchAny,
                runtime.iter().copied(),
                |c| c.retry_config(fast_retries())
            ),
        })
    }
}

impl ClientFactory for Factory {
    fn sagemaker(&self, _: &Credentials, _: &str) -> aws_sdk_sagemaker::Client {
        self.sagemaker.clone()
    }
    fn runtime(&self, _: &Credentials, _: &str) -> aws_sdk_sagemakerruntime::Client {
        self.runtime.clone()
    }
    fn config(&self, credentials: &Credentials, region: &str) -> aws_config::SdkConfig {
        unmocked_config(credentials, region)
    }
}

/// The config of the clients no test here mocks: preflight's and status's calls are tested
/// against the emulator.
pub(crate) fn unmocked_config(credentials: &Credentials, region: &str) -> aws_config::SdkConfig {
    aws_config::SdkConfig::builder()
        .credentials_provider(aws_sdk_sagemaker::config::SharedCredentialsProvider::new(
            credentials.clone(),
        ))
        .region(aws_config::Region::new(region.to_owned()))
        .build()
}

pub(crate) fn target() -> Target {
    Target {
        account_id: "222222222222".into(),
        region: "eu-west-1".into(),
    }
}
