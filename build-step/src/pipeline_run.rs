//! Which package a pipeline run asked for: its `ModelPackageArn` variable, read with
//! GetPipelineExecution. CodePipeline pastes a variable into an action's configuration as text,
//! unescaped, so a variable passed in the build action's `EnvironmentVariables` JSON could add or
//! replace build variables; the build action passes only the run's id (which CodePipeline
//! generates), and the value arrives here as a JSON string of the API's answer
//! (<https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html>).
//! A value that is not `newest` must be a model package ARN before anything uses it.

use aws_sdk_codepipeline::Client;
use deploy_core::arn::check_model_package_arn;
use deploy_core::remote_text::{contained, MAX_MESSAGE_CHARS};
use deploy_shell::AwsCallError;

use crate::error::BuildError;

/// The pipeline variable that names the package (the product template declares it).
pub(crate) const VARIABLE: &str = "ModelPackageArn";
/// Its default, which a pipeline variable needs: the newest Approved package.
pub(crate) const NEWEST: &str = "newest";

/// The package the run pins, or None for the newest Approved one.
pub(crate) async fn requested_package(
    client: &Client,
    pipeline: &str,
    execution_id: &str,
) -> Result<Option<String>, BuildError> {
    tracing::debug!(pipeline, execution_id, "GetPipelineExecution");
    let out = client
        .get_pipeline_execution()
        .pipeline_name(pipeline)
        .pipeline_execution_id(execution_id)
        .send()
        .await
        .map_err(|e| AwsCallError::new("codepipeline:GetPipelineExecution", e))?;
    let value = out
        .pipeline_execution()
        .map(aws_sdk_codepipeline::types::PipelineExecution::variables)
        .unwrap_or_default()
        .iter()
        .find(|variable| variable.name() == Some(VARIABLE))
        .and_then(|variable| variable.resolved_value());
    match value {
        None | Some(NEWEST) => Ok(None),
        Some(arn) => match check_model_package_arn(arn) {
            Ok(()) => Ok(Some(arn.to_owned())),
            Err(problem) => Err(BuildError::PipelineVariable {
                pipeline: pipeline.to_owned(),
                execution_id: execution_id.to_owned(),
                value: contained(arn, MAX_MESSAGE_CHARS),
                problem,
            }),
        },
    }
}
