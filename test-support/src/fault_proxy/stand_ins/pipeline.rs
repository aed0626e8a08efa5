//! CodePipeline's GetPipelineExecution, which the emulator (moto 5.2.1) lacks, answered by the
//! fault proxy as the CodePipeline API reference documents it
//! (<https://docs.aws.amazon.com/codepipeline/latest/APIReference/API_GetPipelineExecution.html>):
//! the request is awsJson1.1 (`X-Amz-Target: CodePipeline_20150709.GetPipelineExecution`, body
//! `{"pipelineName": .., "pipelineExecutionId": ..}`); a run a test recorded gets HTTP 200 with
//! `{"pipelineExecution": {"pipelineName", "pipelineVersion", "pipelineExecutionId", "status",
//! "variables": [{"name", "resolvedValue"}], "executionMode"}}` (camelCase, as the SDK's
//! `PipelineExecution` and `ResolvedPipelineVariable` schemas name the members); a pipeline with
//! no recorded run gets HTTP 400 `PipelineNotFoundException`, an execution id the pipeline has
//! not recorded HTTP 400 `PipelineExecutionNotFoundException`, and a request without either name
//! a `ValidationException`. Errors carry `__type` and `message`, as every awsJson error does.
//!
//! Pipelines are known by name alone, in every account: a test records the runs it starts (with
//! [`crate::fault_proxy::FaultProxy::record_pipeline_run`]), and only those runs exist here. The
//! reference's pattern for execution ids (a UUID) is not checked, so a test may use readable ids;
//! every other CodePipeline call goes on to the emulator.
//!
//! It lives with the fault proxy's other stand-ins; the crate keeps it public as
//! `test_support::pipeline_stand_in`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::{answer_json, Call};

/// The operation the stand-in answers.
pub const STOOD_IN: &str = "GetPipelineExecution";

/// The status of every recorded run: it is being built when build-step asks about it.
pub const RUN_STATUS: &str = "InProgress";

/// The execution mode of every recorded run (the project's pipeline queues its runs).
pub const EXECUTION_MODE: &str = "QUEUED";

/// The runs recorded so far, by pipeline name and execution id.
#[derive(Debug, Default)]
pub struct PipelineStandIn {
    /// Pipeline name -> execution id -> the run's variables (name, resolved value), in order.
    runs: HashMap<String, HashMap<String, Vec<(String, String)>>>,
}

fn error(code: &str, message: &str) -> (u16, Value) {
    (400, json!({"__type": code, "message": message}))
}

impl PipelineStandIn {
    /// Records run `execution_id` of `pipeline` with its resolved `variables` (name, value); a
    /// run recorded again gets the new variables.
    pub fn record(&mut self, pipeline: &str, execution_id: &str, variables: &[(&str, &str)]) {
        let variables = variables
            .iter()
            .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
            .collect();
        self.runs
            .entry(pipeline.to_owned())
            .or_default()
            .insert(execution_id.to_owned(), variables);
    }

    /// The answer to `operation` with awsJson `body`, asked in `account` (which the not-found
    /// message names, as AWS's does), when it is the one the stand-in answers.
    pub fn answer(&self, operation: &str, account: &str, body: &Value) -> Option<(u16, Value)> {
        if operation != STOOD_IN {
            return None;
        }
        let (Some(pipeline), Some(execution_id)) = (
            body["pipelineName"].as_str(),
            body["pipelineExecutionId"].as_str(),
        ) else {
            let missing = if body["pipelineName"].is_string() {
                "pipelineExecutionId"
            } else {
                "pipelineName"
            };
            return Some(error(
                "ValidationException",
                &format!("1 validation error detected: Value null at '{missing}' failed to satisfy constraint: Member must not be null"),
            ));
        };
        let Some(runs) = self.runs.get(pipeline) else {
            return Some(error(
                "PipelineNotFoundException",
                &format!("Account '{account}' does not have a pipeline with name '{pipeline}'"),
            ));
        };
        let Some(variables) = runs.get(execution_id) else {
            return Some(error(
                "PipelineExecutionNotFoundException",
                &format!("Pipeline execution with id '{execution_id}' does not exist in pipeline with name '{pipeline}'"),
            ));
        };
        let variables: Vec<Value> = variables
            .iter()
            .map(|(name, value)| json!({"name": name, "resolvedValue": value}))
            .collect();
        Some((
            200,
            json!({"pipelineExecution": {
                "pipelineName": pipeline,
                "pipelineVersion": 1,
                "pipelineExecutionId": execution_id,
                "status": RUN_STATUS,
                "variables": variables,
                "executionMode": EXECUTION_MODE,
            }}),
        ))
    }
}

/// CodePipeline's awsJson calls (`CodePipeline_20150709.<operation>`): GetPipelineExecution
/// answered.
impl StandIn for PipelineStandIn {
    fn answer(&mut self, call: &Call, request: &Request, account: &str) -> Option<Response> {
        let service = call.json_service().unwrap_or_default();
        if !service.starts_with("CodePipeline") {
            return None;
        }
        answer_json(request, |body| {
            PipelineStandIn::answer(self, &call.operation, account, body)
        })
    }
}

/// The stand-in through the fault proxy, read by the real CodePipeline SDK client: the answer's
/// members land where build-step reads them, and each error is the modeled one.
#[cfg(test)]
mod tests {
    use aws_config::retry::RetryConfig;
    use aws_sdk_codepipeline::error::ProvideErrorMetadata;
    use aws_sdk_codepipeline::operation::get_pipeline_execution::GetPipelineExecutionError;
    use aws_sdk_codepipeline::types::{ExecutionMode, PipelineExecutionStatus};

    use super::*;
    use crate::fault_proxy::FaultProxy;
    use crate::seed::{sdk_config, REGION};

    async fn client(proxy: &FaultProxy) -> aws_sdk_codepipeline::Client {
        let config = sdk_config(crate::moto(), REGION)
            .await
            .to_builder()
            .endpoint_url(proxy.url())
            .retry_config(RetryConfig::disabled())
            .build();
        aws_sdk_codepipeline::Client::new(&config)
    }

    #[tokio::test]
    async fn a_recorded_run_is_answered_with_its_variables() {
        let proxy = FaultProxy::start(crate::moto());
        proxy.stand_in_for_pipeline_runs();
        proxy.record_pipeline_run(
            "deploy",
            "0b5e6c1a-4d2f-4c3b-9a8e-000000000001",
            &[("ModelPackageArn", "newest"), ("Other", "x\"y")],
        );
        let out = client(&proxy)
            .await
            .get_pipeline_execution()
            .pipeline_name("deploy")
            .pipeline_execution_id("0b5e6c1a-4d2f-4c3b-9a8e-000000000001")
            .send()
            .await
            .unwrap();
        let run = out.pipeline_execution().unwrap();
        assert_eq!(run.pipeline_name(), Some("deploy"));
        assert_eq!(run.pipeline_version(), Some(1));
        assert_eq!(
            run.pipeline_execution_id(),
            Some("0b5e6c1a-4d2f-4c3b-9a8e-000000000001")
        );
        assert_eq!(run.status(), Some(&PipelineExecutionStatus::InProgress));
        assert_eq!(run.execution_mode(), Some(&ExecutionMode::Queued));
        let variables: Vec<(Option<&str>, Option<&str>)> = run
            .variables()
            .iter()
            .map(|v| (v.name(), v.resolved_value()))
            .collect();
        assert_eq!(
            variables,
            [
                (Some("ModelPackageArn"), Some("newest")),
                (Some("Other"), Some("x\"y"))
            ]
        );
        assert_eq!(proxy.count("GetPipelineExecution"), 1);
    }

    #[tokio::test]
    async fn an_unknown_pipeline_or_run_is_the_modeled_error() {
        let proxy = FaultProxy::start(crate::moto());
        proxy.record_pipeline_run("deploy", "0b5e6c1a-4d2f-4c3b-9a8e-000000000002", &[]);
        let client = client(&proxy).await;
        let ask = |pipeline: &'static str, id: &'static str| {
            client
                .get_pipeline_execution()
                .pipeline_name(pipeline)
                .pipeline_execution_id(id)
                .send()
        };
        let err = ask("other", "0b5e6c1a-4d2f-4c3b-9a8e-000000000002")
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(err, GetPipelineExecutionError::PipelineNotFoundException(_)),
            "{err:?}"
        );
        assert_eq!(
            err.message(),
            Some("Account '123456789012' does not have a pipeline with name 'other'")
        );
        let err = ask("deploy", "0b5e6c1a-4d2f-4c3b-9a8e-00000000000f")
            .await
            .unwrap_err()
            .into_service_error();
        assert!(
            matches!(
                err,
                GetPipelineExecutionError::PipelineExecutionNotFoundException(_)
            ),
            "{err:?}"
        );
        assert_eq!(err.code(), Some("PipelineExecutionNotFoundException"));
        // A run without variables has an empty list, which the SDK reads as none.
        let out = ask("deploy", "0b5e6c1a-4d2f-4c3b-9a8e-000000000002")
            .await
            .unwrap();
        assert!(out.pipeline_execution().unwrap().variables().is_empty());
        let statuses: Vec<u16> = proxy.calls().iter().map(|c| c.status).collect();
        assert_eq!(statuses, [400, 400, 200]);
    }

    #[test]
    fn a_request_without_a_name_is_a_validation_error() {
        let mut stand_in = PipelineStandIn::default();
        stand_in.record("deploy", "run", &[]);
        let (status, body) = stand_in
            .answer(STOOD_IN, "123456789012", &json!({"pipelineName": "deploy"}))
            .unwrap();
        assert_eq!(status, 400);
        assert_eq!(body["__type"], "ValidationException");
        assert!(body["message"]
            .as_str()
            .unwrap()
            .contains("'pipelineExecutionId'"));
        assert_eq!(
            stand_in.answer("ListPipelineExecutions", "123456789012", &json!({})),
            None
        );
    }
}
