//! The model check's calls: DescribeEndpointConfig for the InService endpoint's config, then
//! DescribeModel for each production variant. The verdict (every variant serves the exported
//! package, with the build config's settings) is `deploy_core::model_check`'s. The config also
//! says whether the endpoint is serverless, which decides how its first call is counted.

use aws_sdk_sagemaker::types::ProductionVariantServerlessConfig as ServerlessConfig;
use deploy_core::drift::ExpectedSettings;
use deploy_core::report::{ModelCheck, VariantModel};
use deploy_core::verdict::Cause;
use deploy_shell::AwsCallError;

use crate::session::Session;

/// What the endpoint under check should serve: the exported package, with the build config's
/// settings.
pub(crate) struct Expected<'a> {
    pub(crate) package: &'a str,
    pub(crate) settings: &'a ExpectedSettings,
}

/// Describes what `endpoint`'s config `config_name` serves and judges it against `expected`.
pub(crate) async fn check_model(
    session: &mut Session,
    endpoint: &str,
    config_name: &str,
    expected: &Expected<'_>,
) -> Result<ModelCheck, Cause> {
    let sagemaker = session.sagemaker().await?;
    let config = sagemaker
        .describe_endpoint_config()
        .endpoint_config_name(config_name)
        .send()
        .await
        .map_err(|e| {
            let err = AwsCallError::new("sagemaker:DescribeEndpointConfig", e);
            session.describe_failure(&err, |detail| {
                Cause::ServesAnotherPackage(format!("endpoint {endpoint} uses the endpoint config {config_name}, which does not exist ({detail})"))
            })
        })?;
    let mut variants = Vec::new();
    for variant in config.production_variants() {
        let variant_name = variant.variant_name().unwrap_or_default().to_owned();
        let serverless = variant.serverless_config();
        let serverless_memory_mb = serverless.and_then(ServerlessConfig::memory_size_in_mb);
        let serverless_provisioned_concurrency =
            serverless.and_then(ServerlessConfig::provisioned_concurrency);
        let instance_type = variant.instance_type().map(|t| t.as_str().to_owned());
        let initial_instance_count = variant.initial_instance_count();
        let Some(model_name) = variant.model_name().filter(|m| !m.is_empty()) else {
            variants.push(VariantModel {
                variant_name,
                model_name: String::new(),
                model_package_names: Vec::new(),
                serverless_memory_mb,
                serverless_provisioned_concurrency,
                instance_type,
                initial_instance_count,
            });
            continue;
        };
        let model = sagemaker
            .describe_model()
            .model_name(model_name)
            .send()
            .await
            .map_err(|e| {
                let err = AwsCallError::new("sagemaker:DescribeModel", e);
                session.describe_failure(&err, |detail| {
                    Cause::ServesAnotherPackage(format!("the model {model_name} of variant {variant_name} (endpoint config {config_name}) does not exist ({detail})"))
                })
            })?;
        let model_package_names = model
            .primary_container()
            .into_iter()
            .chain(model.containers())
            .filter_map(|c| c.model_package_name())
            .map(str::to_owned)
            .collect();
        variants.push(VariantModel {
            variant_name,
            model_name: model_name.to_owned(),
            model_package_names,
            serverless_memory_mb,
            serverless_provisioned_concurrency,
            instance_type,
            initial_instance_count,
        });
    }
    let capture = config
        .data_capture_config()
        .filter(|c| c.enable_capture().unwrap_or(true))
        .and_then(aws_sdk_sagemaker::types::DataCaptureConfig::initial_sampling_percentage);
    Ok(ModelCheck::of(expected.package, config_name, variants)
        .with_settings(expected.settings, capture))
}
