//! What each stage's StackSet runs, read by the name the project template gives it
//! (`sagemaker-<project>-<id>-deploy-<stage>`), in the pipeline's own account and Region (where
//! both permission models keep the StackSet): DescribeStackSet (its template body, parameters and
//! status), ListStackInstances (every page: each instance's account, Region and status) and
//! ListStackSetOperations (one page: its newest operation). The six reads (three per stage) run at
//! once, while the package is looked up, so they cost no round trip of their own, and their
//! number does not grow with the model package group.
//!
//! Two checks use them. The update check (`deploy_core::build_plan`) compares the parameters with
//! the new stage config to warn about an update SageMaker would refuse. The deploy decision
//! (`deploy_core::deploy_decision`) says whether the stage's StackSet already runs exactly this
//! release. Both are advice, never a failed build: a StackSet not created yet is a first release,
//! and a read that fails is a warning that the update check was skipped and that the stage is
//! deployed anyway.

use std::cell::Cell;

use aws_sdk_cloudformation::operation::describe_stack_set::DescribeStackSetError;
use aws_sdk_cloudformation::operation::list_stack_instances::ListStackInstancesError;
use aws_sdk_cloudformation::operation::list_stack_set_operations::ListStackSetOperationsError;
use aws_sdk_cloudformation::types::{StackSet, StackSetOperationSummary};
use aws_sdk_cloudformation::Client;
use deploy_core::build_plan::{stack_set_name, DeployedStage, Stage};
use deploy_core::deploy_decision::{
    Deployed as StackSetRead, InstanceState, OperationState, PerStage, StackSetState,
};
use deploy_core::stack_params::{ParameterList, StackSetParameter};
use deploy_core::template::{ProjectContext, Template};
use deploy_shell::pages::all_pages;
use deploy_shell::AwsCallError;

/// ListStackInstances' and ListStackSetOperations' largest page.
const PAGE_SIZE: i32 = 100;

/// What was read: the stages whose StackSet exists (for the update check), what each stage's
/// StackSet runs (for the deploy decision), and a warning for each read that failed.
#[derive(Debug)]
pub(crate) struct Deployed {
    pub stages: Vec<DeployedStage>,
    pub stack_sets: PerStage<StackSetRead>,
    pub unread: Vec<String>,
}

/// One stage's reads.
struct StageRead {
    update: Option<DeployedStage>,
    stack_set: StackSetRead,
    warnings: Vec<String>,
}

/// Both stages' StackSets, read at once.
pub(crate) async fn read(
    client: &Client,
    project: &ProjectContext<'_>,
    template: &Template,
) -> Deployed {
    let [staging, prod] = Stage::ALL;
    let (staging, prod) = tokio::join!(
        read_stage(client, project, template, staging),
        read_stage(client, project, template, prod)
    );
    let mut deployed = Deployed {
        stages: Vec::new(),
        stack_sets: PerStage {
            staging: staging.stack_set,
            prod: prod.stack_set,
        },
        unread: Vec::new(),
    };
    for (update, warnings) in [
        (staging.update, staging.warnings),
        (prod.update, prod.warnings),
    ] {
        deployed.stages.extend(update);
        deployed.unread.extend(warnings);
    }
    deployed
}

/// One stage's three reads, at once. Any of them saying the StackSet does not exist makes it a
/// first release; otherwise any failed read makes the decision "could not check".
async fn read_stage(
    client: &Client,
    project: &ProjectContext<'_>,
    template: &Template,
    stage: Stage,
) -> StageRead {
    let name = stack_set_name(project, stage);
    tracing::debug!(stack_set = %name, "DescribeStackSet, ListStackInstances, ListStackSetOperations");
    let (described, instances, operation) = tokio::join!(
        describe(client, &name),
        instances(client, &name),
        last_operation(client, &name)
    );
    let mut warnings = Vec::new();
    let mut failed = None;
    let mut fail = |err: &AwsCallError, what: &str| {
        warnings.push(format!(
            "{}: could not read {what} {name}, so {}: {err}",
            stage.name(),
            if err.action == "cloudformation:DescribeStackSet" {
                "the instance type change check was skipped and the stage is deployed anyway"
            } else {
                "the stage is deployed anyway"
            }
        ));
        failed.get_or_insert_with(|| {
            format!(
                "{} failed with {}",
                err.action,
                err.code().unwrap_or("a network error")
            )
        });
    };
    let described = described.unwrap_or_else(|err| {
        fail(&err, "the StackSet");
        Found::Unknown
    });
    let instances = instances.unwrap_or_else(|err| {
        fail(&err, "the stack instances of the StackSet");
        Found::Unknown
    });
    let operation = operation.unwrap_or_else(|err| {
        fail(&err, "the operations of the StackSet");
        Found::Unknown
    });

    let mut update = None;
    if let Found::Yes(stack_set) = &described {
        match update_check_input(stack_set, template, stage) {
            Ok(stage) => update = Some(stage),
            Err(key) => warnings.push(format!(
                "{}: the StackSet {name} holds the parameter {key} twice; the instance type change check was skipped",
                stage.name()
            )),
        }
    }
    let stack_set = match (described, instances, operation) {
        (Found::Missing, _, _) | (_, Found::Missing, _) | (_, _, Found::Missing) => {
            tracing::debug!(stack_set = %name, "no StackSet yet: a first release");
            StackSetRead::NoStackSet
        }
        (Found::Yes(stack_set), Found::Yes(instances), Found::Yes(last_operation))
            if failed.is_none() =>
        {
            StackSetRead::Found(StackSetState {
                status: stack_set.status().map(|s| s.as_str().to_owned()),
                template_body: stack_set.template_body().map(str::to_owned),
                parameters: stack_set
                    .parameters()
                    .iter()
                    .filter_map(|p| {
                        Some((
                            p.parameter_key()?.to_owned(),
                            p.parameter_value()?.to_owned(),
                        ))
                    })
                    .collect(),
                instances,
                last_operation,
            })
        }
        _ => StackSetRead::Unread(failed.unwrap_or_else(|| "a read failed".to_owned())),
    };
    StageRead {
        update,
        stack_set,
        warnings,
    }
}

/// A read's answer: the StackSet's, that it does not exist, or (after a failed read, whose
/// warning says why) nothing.
enum Found<T> {
    Yes(T),
    Missing,
    Unknown,
}

/// DescribeStackSet.
async fn describe(client: &Client, name: &str) -> Result<Found<StackSet>, AwsCallError> {
    match client
        .describe_stack_set()
        .stack_set_name(name)
        .send()
        .await
    {
        Ok(out) => Ok(out.stack_set.map_or(Found::Missing, Found::Yes)),
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(DescribeStackSetError::StackSetNotFoundException(_))
            ) =>
        {
            Ok(Found::Missing)
        }
        Err(err) => Err(AwsCallError::new("cloudformation:DescribeStackSet", err)),
    }
}

/// ListStackInstances, every page.
async fn instances(client: &Client, name: &str) -> Result<Found<Vec<InstanceState>>, AwsCallError> {
    let missing = Cell::new(false);
    let listed = all_pages("cloudformation:ListStackInstances", |next_token| {
        let request = client
            .list_stack_instances()
            .stack_set_name(name)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token);
        let missing = &missing;
        async move {
            let page = match request.send().await {
                Ok(page) => page,
                Err(err)
                    if matches!(
                        err.as_service_error(),
                        Some(ListStackInstancesError::StackSetNotFoundException(_))
                    ) =>
                {
                    missing.set(true);
                    return Ok((Vec::new(), None));
                }
                Err(err) => {
                    return Err(AwsCallError::new("cloudformation:ListStackInstances", err))
                }
            };
            let instances = page
                .summaries()
                .iter()
                .map(|i| InstanceState {
                    account: i.account().unwrap_or_default().to_owned(),
                    region: i.region().unwrap_or_default().to_owned(),
                    status: i.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
                    detailed_status: i
                        .stack_instance_status()
                        .and_then(|s| s.detailed_status())
                        .map(|s| s.as_str().to_owned()),
                })
                .collect();
            Ok((instances, page.next_token().map(str::to_owned)))
        }
    })
    .await?;
    Ok(if missing.get() {
        Found::Missing
    } else {
        Found::Yes(listed)
    })
}

/// ListStackSetOperations' newest operation. The API reference promises no order
/// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackSetOperations.html>);
/// AWS lists the newest first and the emulator the oldest first, so the first page (at the
/// largest size) is read and its latest `CreationTimestamp` taken, the last listed of equal ones.
async fn last_operation(
    client: &Client,
    name: &str,
) -> Result<Found<Option<OperationState>>, AwsCallError> {
    let failed = |e| AwsCallError::new("cloudformation:ListStackSetOperations", e);
    let page = match client
        .list_stack_set_operations()
        .stack_set_name(name)
        .max_results(PAGE_SIZE)
        .send()
        .await
    {
        Ok(page) => page,
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(ListStackSetOperationsError::StackSetNotFoundException(_))
            ) =>
        {
            return Ok(Found::Missing);
        }
        Err(err) => return Err(failed(err)),
    };
    Ok(Found::Yes(newest(page.summaries()).map(|op| {
        OperationState {
            action: op.action().map_or("UNKNOWN", |a| a.as_str()).to_owned(),
            status: op.status().map_or("UNKNOWN", |s| s.as_str()).to_owned(),
        }
    })))
}

/// The operation with the latest creation time (the last listed of equal ones).
fn newest(operations: &[StackSetOperationSummary]) -> Option<&StackSetOperationSummary> {
    operations.iter().max_by_key(|op| {
        op.creation_timestamp()
            .map(|t| (t.secs(), t.subsec_nanos()))
    })
}

/// What the update check needs of a StackSet: its parameters, and the defaults its template
/// declared for those it left out. Err with a key the StackSet holds twice.
fn update_check_input(
    stack_set: &StackSet,
    template: &Template,
    stage: Stage,
) -> Result<DeployedStage, String> {
    let entries = stack_set
        .parameters()
        .iter()
        .filter_map(|p| {
            Some(StackSetParameter::new(
                p.parameter_key()?,
                p.parameter_value()?,
            ))
        })
        .collect();
    let parameters = ParameterList::new(entries)?;
    let declared = stack_set
        .template_body()
        .and_then(|body| template.declared_parameters(body).ok());
    Ok(DeployedStage {
        stage,
        parameters,
        declared,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use aws_sdk_cloudformation::operation::describe_stack_set::DescribeStackSetOutput;
    use aws_sdk_cloudformation::operation::list_stack_instances::ListStackInstancesOutput;
    use aws_sdk_cloudformation::operation::list_stack_set_operations::ListStackSetOperationsOutput;
    use aws_sdk_cloudformation::types::error::StackSetNotFoundException;
    use aws_sdk_cloudformation::types::{
        Parameter, StackInstanceComprehensiveStatus, StackInstanceDetailedStatus,
        StackInstanceStatus, StackInstanceSummary, StackSetOperationAction,
        StackSetOperationStatus, StackSetStatus,
    };
    use aws_smithy_mocks::{mock, mock_client, RuleMode};
    use aws_smithy_types::DateTime;
    use deploy_core::deploy_decision::{decide, Wanted};

    use super::*;

    const BODY: &str = "Parameters: {}\nResources: {}\n";
    const PROJECT: ProjectContext<'static> = ProjectContext {
        name: "churn",
        id: "p-1",
    };

    fn operation(
        action: StackSetOperationAction,
        status: StackSetOperationStatus,
        secs: i64,
    ) -> StackSetOperationSummary {
        StackSetOperationSummary::builder()
            .action(action)
            .status(status)
            .creation_timestamp(DateTime::from_secs(secs))
            .build()
    }

    fn instance(account: &str) -> StackInstanceSummary {
        StackInstanceSummary::builder()
            .account(account)
            .region("eu-west-1")
            .status(StackInstanceStatus::Current)
            .stack_instance_status(
                StackInstanceComprehensiveStatus::builder()
                    .detailed_status(StackInstanceDetailedStatus::Succeeded)
                    .build(),
            )
            .build()
    }

    /// A StackSet whose last operation FAILED, which the emulator cannot make: its newest
    /// operation is found whether it is listed first (as AWS does) or last (as the emulator
    /// does), since ListStackSetOperations promises no order
    /// (<https://docs.aws.amazon.com/AWSCloudFormation/latest/APIReference/API_ListStackSetOperations.html>),
    /// every page of ListStackInstances is read, and the stage needs a deploy.
    #[tokio::test]
    async fn a_failed_last_operation_means_a_deploy_whatever_the_listing_order() {
        let describe = mock!(Client::describe_stack_set).then_output(|| {
            DescribeStackSetOutput::builder()
                .stack_set(
                    StackSet::builder()
                        .status(StackSetStatus::Active)
                        .template_body(BODY)
                        .parameters(
                            Parameter::builder()
                                .parameter_key("StageName")
                                .parameter_value("staging")
                                .build(),
                        )
                        .build(),
                )
                .build()
        });
        let first_page = mock!(Client::list_stack_instances)
            .match_requests(|r| r.next_token().is_none() && r.max_results() == Some(PAGE_SIZE))
            .then_output(|| {
                ListStackInstancesOutput::builder()
                    .summaries(instance("111111111111"))
                    .next_token("t1")
                    .build()
            });
        let second_page = mock!(Client::list_stack_instances)
            .match_requests(|r| r.next_token() == Some("t1"))
            .then_output(|| {
                ListStackInstancesOutput::builder()
                    .summaries(instance("222222222222"))
                    .build()
            });
        let older = || {
            operation(
                StackSetOperationAction::Create,
                StackSetOperationStatus::Succeeded,
                100,
            )
        };
        let newer = || {
            operation(
                StackSetOperationAction::Update,
                StackSetOperationStatus::Failed,
                200,
            )
        };
        for newest_first in [true, false] {
            let operations = mock!(Client::list_stack_set_operations).then_output(move || {
                let listed = if newest_first {
                    vec![newer(), older()]
                } else {
                    vec![older(), newer()]
                };
                ListStackSetOperationsOutput::builder()
                    .set_summaries(Some(listed))
                    .build()
            });
            let client = mock_client!(
                aws_sdk_cloudformation,
                RuleMode::MatchAny,
                [&describe, &first_page, &second_page, &operations]
            );
            let template = Template::load(None).unwrap();

            let deployed = Box::pin(read(&client, &PROJECT, &template)).await;

            assert!(deployed.unread.is_empty(), "{:?}", deployed.unread);
            let StackSetRead::Found(state) = &deployed.stack_sets.staging else {
                panic!("{:?}", deployed.stack_sets.staging);
            };
            assert_eq!(
                state.last_operation,
                Some(OperationState {
                    action: "UPDATE".into(),
                    status: "FAILED".into()
                })
            );
            let accounts: BTreeSet<String> =
                ["111111111111", "222222222222"].map(str::to_owned).into();
            assert_eq!(
                state
                    .instances
                    .iter()
                    .map(|i| i.account.clone())
                    .collect::<BTreeSet<_>>(),
                accounts
            );
            let parameters =
                ParameterList::new(vec![StackSetParameter::new("StageName", "staging")]).unwrap();
            let regions = ["eu-west-1".to_owned()];
            let wanted = Wanted {
                template: BODY,
                declared: &[],
                parameters: &parameters,
                accounts: Some(&accounts),
                regions: &regions,
            };
            let decision = decide(&wanted, &deployed.stack_sets.staging);
            assert!(decision.needed);
            assert_eq!(decision.reason, "the last operation (UPDATE) FAILED");
        }
    }

    /// A StackSet that one read does not find (deleted between two reads, or not created yet) is
    /// a first release, not a failed check.
    #[tokio::test]
    async fn a_stack_set_any_read_does_not_find_is_a_first_release() {
        let describe = mock!(Client::describe_stack_set).then_output(|| {
            DescribeStackSetOutput::builder()
                .stack_set(StackSet::builder().template_body(BODY).build())
                .build()
        });
        let instances = mock!(Client::list_stack_instances)
            .then_output(|| ListStackInstancesOutput::builder().build());
        let operations = mock!(Client::list_stack_set_operations).then_error(|| {
            ListStackSetOperationsError::StackSetNotFoundException(
                StackSetNotFoundException::builder().build(),
            )
        });
        let client = mock_client!(
            aws_sdk_cloudformation,
            RuleMode::MatchAny,
            [&describe, &instances, &operations]
        );
        let template = Template::load(None).unwrap();

        let deployed = Box::pin(read(&client, &PROJECT, &template)).await;

        assert_eq!(deployed.stack_sets.staging, StackSetRead::NoStackSet);
        assert_eq!(deployed.stack_sets.prod, StackSetRead::NoStackSet);
        assert!(deployed.unread.is_empty(), "{:?}", deployed.unread);
    }
}
