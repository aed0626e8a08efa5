//! What each stage's StackSet last deployed: one DescribeStackSet per stage, both at once, by the
//! name the project template gives it, in the pipeline's own account (where both permission
//! models keep the StackSet): its parameters, and the defaults its template declared for those it
//! left out. build-step compares them with the new stage config to warn about an update SageMaker
//! would refuse. It is advice, not a gate: a StackSet not created yet is a first
//! release, and a failed call is a warning that the check was skipped, never a failed build.

use aws_sdk_cloudformation::operation::describe_stack_set::DescribeStackSetError;
use aws_sdk_cloudformation::types::StackSet;
use deploy_core::build_plan::{stack_set_name, DeployedStage, Stage};
use deploy_core::stack_params::{ParameterList, StackSetParameter};
use deploy_core::template::{ProjectContext, Template};
use deploy_shell::AwsCallError;

/// What was read: the stages whose StackSet exists, and a warning for each one that could not be
/// read.
#[derive(Debug, Default)]
pub(crate) struct Deployed {
    pub stages: Vec<DeployedStage>,
    pub unread: Vec<String>,
}

/// The parameters of both stages' StackSets.
pub(crate) async fn read(
    client: &aws_sdk_cloudformation::Client,
    project: &ProjectContext<'_>,
    template: &Template,
) -> Deployed {
    let [staging, prod] = Stage::ALL;
    let reads = tokio::join!(
        read_stage(client, project, template, staging),
        read_stage(client, project, template, prod)
    );
    let mut deployed = Deployed::default();
    for read in [reads.0, reads.1] {
        match read {
            Ok(Some(stage)) => deployed.stages.push(stage),
            Ok(None) => {}
            Err(warning) => deployed.unread.push(warning),
        }
    }
    deployed
}

/// One stage's StackSet parameters; None before its first release, Err with the warning when
/// they cannot be read.
async fn read_stage(
    client: &aws_sdk_cloudformation::Client,
    project: &ProjectContext<'_>,
    template: &Template,
    stage: Stage,
) -> Result<Option<DeployedStage>, String> {
    let name = stack_set_name(project, stage);
    tracing::debug!(stack_set = %name, "DescribeStackSet");
    let out = match client
        .describe_stack_set()
        .stack_set_name(&name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(DescribeStackSetError::StackSetNotFoundException(_))
            ) =>
        {
            tracing::debug!(stack_set = %name, "no StackSet yet: a first release");
            return Ok(None);
        }
        Err(err) => {
            let err = AwsCallError::new("cloudformation:DescribeStackSet", err);
            return Err(format!(
                "{}: could not read what the StackSet {name} deployed, so the instance type change check was skipped: {err}",
                stage.name()
            ));
        }
    };
    let entries = out
        .stack_set()
        .map(StackSet::parameters)
        .unwrap_or_default()
        .iter()
        .filter_map(|p| {
            Some(StackSetParameter::new(
                p.parameter_key()?,
                p.parameter_value()?,
            ))
        })
        .collect();
    let parameters = ParameterList::new(entries).map_err(|key| {
        format!(
            "{}: the StackSet {name} holds the parameter {key} twice; the instance type change check was skipped",
            stage.name()
        )
    })?;
    let declared = out
        .stack_set()
        .and_then(StackSet::template_body)
        .and_then(|body| template.declared_parameters(body).ok());
    Ok(Some(DeployedStage {
        stage,
        parameters,
        declared,
    }))
}
