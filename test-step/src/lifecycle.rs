//! Recording a test's verdict in the model registry (`--update-model-lifecycle`): one
//! UpdateModelPackage of the tested package with the `ModelLifeCycle` that
//! `deploy_core::lifecycle` gives the concluded report, made with the pipeline's own credentials
//! (the package is in its account). Only the lifecycle is sent: UpdateModelPackage changes only
//! what a call names
//! (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_UpdateModelPackage.html>), so
//! the approval status and the metadata stay as they are. The update sends a "SageMaker Model
//! Package State Change" event, which starts the pipeline again; build-step then finds every
//! stage current and the run deploys nothing.

use aws_config::SdkConfig;
use aws_sdk_sagemaker::types::ModelLifeCycle;
use deploy_core::lifecycle::LifecycleUpdate;
use deploy_core::report::Report;
use deploy_shell::AwsCallError;

/// Sets `package`'s lifecycle from the concluded `report` of a test of stage `stage_name`. A
/// failure is logged, not returned: the verdict stays what the test found.
pub(crate) async fn record(
    sdk_config: &SdkConfig,
    package: &str,
    stage_name: &str,
    report: &Report,
    run_url: Option<&str>,
) {
    let update = LifecycleUpdate::after_test(stage_name, report, run_url);
    let lifecycle = ModelLifeCycle::builder()
        .stage(update.stage)
        .stage_status(update.stage_status)
        .stage_description(&update.description)
        .build();
    let sent = aws_sdk_sagemaker::Client::new(sdk_config)
        .update_model_package()
        .model_package_arn(package)
        .model_life_cycle(lifecycle)
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:UpdateModelPackage", e));
    match sent {
        Ok(_) => tracing::info!(
            "recorded {} / {} in the ModelLifeCycle of {package}",
            update.stage,
            update.stage_status
        ),
        Err(err) => tracing::error!(
            "could not record the verdict in the ModelLifeCycle of {package}: {err}; the exit code still says what the tests found"
        ),
    }
}
