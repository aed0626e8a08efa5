//! Which package a pipeline run asks for: with `PIPELINE_EXECUTION_ID` (and `PIPELINE_NAME`) set,
//! build-step reads the run's `ModelPackageArn` variable with GetPipelineExecution, which the fault
//! proxy answers for the runs a test records (the emulator lacks the call). `newest` (or no
//! variable) deploys the newest Approved package, an ARN pins it, anything else is exit 2 naming
//! the variable, the pipeline and the run; a run CodePipeline does not know is exit 3 naming the
//! call; and a run asked for together with `MODEL_PACKAGE_ARN` is exit 2 before any AWS call.

use aws_sdk_sagemaker::types::ModelApprovalStatus::{Approved, Rejected};
use test_support::fault_proxy::FaultProxy;
use test_support::moto;
use test_support::seed::GroupSeed;

use crate::{Workspace, INPUTS, OUTPUTS};

const PIPELINE: &str = "sagemaker-churn-p-abc123-modeldeploy";

/// A group whose newest Approved package is not its newest package: the older Approved one, the
/// newest Approved one.
async fn group(name: &str) -> (GroupSeed, String, String) {
    let group = GroupSeed::create(moto(), name).await;
    let older = group.add_package(Some(Approved)).await;
    let newest = group.add_package(Some(Approved)).await;
    group.add_package(Some(Rejected)).await;
    (group, older, newest)
}

/// A proxy standing in for GetPipelineExecution, with run `execution_id` of [`PIPELINE`]
/// recorded with `variables`.
fn proxy_with_run(execution_id: &str, variables: &[(&str, &str)]) -> FaultProxy {
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_pipeline_runs();
    proxy.record_pipeline_run(PIPELINE, execution_id, variables);
    proxy
}

/// `build-step` as the build action runs it: the run's id and the pipeline's name, through `proxy`.
fn run_of(ws: &Workspace, proxy: &FaultProxy, execution_id: &str) -> test_support::CliOutput {
    ws.build_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("PIPELINE_NAME", PIPELINE)
        .env("PIPELINE_EXECUTION_ID", execution_id)
        .run()
}

fn all_files() -> Vec<&'static str> {
    let mut files: Vec<&str> = INPUTS.iter().chain(&OUTPUTS).copied().collect();
    files.sort_unstable();
    files
}

/// The GetPipelineExecution calls `proxy` saw, as (signing service, params, status).
fn run_reads(proxy: &FaultProxy) -> Vec<(String, serde_json::Value, u16)> {
    proxy
        .calls()
        .into_iter()
        .filter(|call| call.operation == "GetPipelineExecution")
        .map(|call| (call.signing_service, call.params, call.status))
        .collect()
}

#[tokio::test]
async fn newest_or_no_variable_deploys_the_newest_approved_package() {
    let (group, _, newest) = group("run-variable-newest").await;
    for (execution_id, variables) in [
        (
            "0b5e6c1a-4d2f-4c3b-9a8e-00000000a001",
            &[("ModelPackageArn", "newest")][..],
        ),
        ("0b5e6c1a-4d2f-4c3b-9a8e-00000000a002", &[][..]),
    ] {
        let proxy = proxy_with_run(execution_id, variables);
        let ws = Workspace::new(&group.name);
        run_of(&ws, &proxy, execution_id)
            .code(0)
            .stdout_contains(&newest);
        assert_eq!(ws.exported_package(), newest, "{variables:?}");
        assert_eq!(ws.files(), all_files());
        assert_eq!(
            run_reads(&proxy),
            [(
                "codepipeline".to_owned(),
                serde_json::json!({"pipelineName": PIPELINE, "pipelineExecutionId": execution_id}),
                200
            )]
        );
    }
}

#[tokio::test]
async fn an_approved_package_arn_in_the_variable_is_deployed_instead_of_the_newest() {
    let (group, older, newest) = group("run-variable-pinned").await;
    let execution_id = "0b5e6c1a-4d2f-4c3b-9a8e-00000000b001";
    let proxy = proxy_with_run(execution_id, &[("ModelPackageArn", older.as_str())]);
    let ws = Workspace::new(&group.name);
    run_of(&ws, &proxy, execution_id)
        .code(0)
        .stdout_contains(&older);
    assert_ne!(older, newest);
    assert_eq!(ws.exported_package(), older);
    assert_eq!(proxy.count("GetPipelineExecution"), 1);
}

/// A value that would close the JSON string an action configuration pastes it into, and add a
/// variable of its own, is refused as what it is: not a model package ARN.
#[tokio::test]
async fn a_variable_that_is_not_a_package_arn_is_exit_2_naming_the_run() {
    let (group, _, _) = group("run-variable-injected").await;
    let execution_id = "0b5e6c1a-4d2f-4c3b-9a8e-00000000c001";
    let injected =
        r#"arn:aws:sagemaker:us-east-1:123456789012:model-package/g/1","PROD_ACCOUNT_IDS":"1"#;
    let proxy = proxy_with_run(execution_id, &[("ModelPackageArn", injected)]);
    let ws = Workspace::new(&group.name);
    let out = run_of(&ws, &proxy, execution_id);
    out.code(2)
        .stderr_contains("build-step: error: the pipeline variable ModelPackageArn")
        .stderr_contains(&format!("of run {execution_id} of {PIPELINE}"));
    assert!(out.stdout.is_empty(), "{}", out.stdout);
    assert_eq!(ws.files(), INPUTS);
    assert_eq!(proxy.count("GetPipelineExecution"), 1);
}

#[tokio::test]
async fn a_run_codepipeline_does_not_know_is_exit_3_naming_the_call() {
    let (group, _, _) = group("run-variable-unknown-run").await;
    let proxy = proxy_with_run("0b5e6c1a-4d2f-4c3b-9a8e-00000000d001", &[]);
    let unknown = "0b5e6c1a-4d2f-4c3b-9a8e-00000000dfff";
    let ws = Workspace::new(&group.name);
    run_of(&ws, &proxy, unknown)
        .code(3)
        .stderr_contains("build-step: error: AWS call codepipeline:GetPipelineExecution failed with PipelineExecutionNotFoundException: ");
    assert_eq!(ws.files(), INPUTS);
    assert_eq!(
        run_reads(&proxy),
        [(
            "codepipeline".to_owned(),
            serde_json::json!({"pipelineName": PIPELINE, "pipelineExecutionId": unknown}),
            400
        )],
        "a not-found answer is not retried"
    );
}

#[test]
fn a_pinned_package_and_a_pipeline_run_together_are_exit_2_before_any_aws_call() {
    let proxy = proxy_with_run("0b5e6c1a-4d2f-4c3b-9a8e-00000000e001", &[]);
    let ws = Workspace::new("run-variable-both");
    ws.build_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env(
            "MODEL_PACKAGE_ARN",
            "arn:aws:sagemaker:us-east-1:123456789012:model-package/run-variable-both/1",
        )
        .env("PIPELINE_NAME", PIPELINE)
        .env(
            "PIPELINE_EXECUTION_ID",
            "0b5e6c1a-4d2f-4c3b-9a8e-00000000e001",
        )
        .run()
        .code(2)
        .stderr_contains("MODEL_PACKAGE_ARN")
        .stderr_contains("PIPELINE_EXECUTION_ID");
    assert_eq!(proxy.calls(), []);
    assert_eq!(ws.files(), INPUTS);
}
