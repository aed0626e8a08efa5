//! Finding the model package to deploy. The newest Approved package comes from one
//! ListModelPackages call sorted by CreationTime *descending* (the seed sorted ascending and could
//! ship the oldest package, B2), following NextToken only while a page is empty (B1): the number of
//! calls does not grow with the group. A pinned ARN is described and checked instead.

use aws_sdk_sagemaker::types::{ModelApprovalStatus, ModelPackageSortBy, SortOrder};
use aws_sdk_sagemaker::Client;
use deploy_core::arn::{group_name, group_of_package};
use deploy_core::model_package::{ModelPackage, APPROVED};
use deploy_shell::pages::first_item;
use deploy_shell::AwsCallError;

use crate::error::BuildError;

/// Page size for the Approved-package search: small, because only the first hit matters.
pub(crate) const PAGE_SIZE: i32 = 10;

/// The newest Approved package of `group`.
pub(crate) async fn newest_approved(
    client: &Client,
    group: &str,
) -> Result<ModelPackage, BuildError> {
    // Only a page's first summary matters: the list is sorted newest first. A page may be empty
    // and still carry a NextToken; a token seen before would loop for ever over the same pages.
    let newest = first_item("sagemaker:ListModelPackages", |next_token| {
        tracing::debug!(
            group,
            page_size = PAGE_SIZE,
            following_token = next_token.is_some(),
            "ListModelPackages (Approved, newest first)"
        );
        let request = client
            .list_model_packages()
            .model_package_group_name(group)
            .model_approval_status(ModelApprovalStatus::Approved)
            .sort_by(ModelPackageSortBy::CreationTime)
            .sort_order(SortOrder::Descending)
            .max_results(PAGE_SIZE)
            .set_next_token(next_token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("sagemaker:ListModelPackages", e))?;
            let first = page
                .model_package_summary_list()
                .first()
                .and_then(|s| s.model_package_arn())
                .map(str::to_owned);
            Ok((
                first.into_iter().collect(),
                page.next_token().map(str::to_owned),
            ))
        }
    })
    .await?;
    if let Some(arn) = newest {
        return describe(client, &arn).await;
    }
    // Nothing approved: say whether the group is empty or missing (only on this failure path).
    group_arn(client, group).await?;
    Err(BuildError::NothingApproved {
        group: group.to_owned(),
    })
}

/// The pinned package, checked to be Approved and in `group` (a name, or an ARN for a group shared
/// from another account: ListModelPackages, DescribeModelPackage and DescribeModelPackageGroup take
/// either, <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_DescribeModelPackageGroup.html>).
pub(crate) async fn pinned(
    client: &Client,
    group: &str,
    arn: &str,
    source_name: &str,
) -> Result<ModelPackage, BuildError> {
    let problem = |problem: String| BuildError::PinnedPackage {
        source_name: source_name.to_owned(),
        arn: arn.to_owned(),
        group: group.to_owned(),
        problem,
    };
    let package = match describe(client, arn).await {
        Err(BuildError::Aws(err)) if err.code() == Some("ValidationException") => {
            return Err(problem(format!("cannot be found ({})", err.detail)));
        }
        other => other?,
    };
    // By ARN, not by name: a group of the same name in another account or region is another group.
    let expected = group_arn(client, group).await?;
    let actual = group_of_package(&package.arn).unwrap_or_default();
    if !actual.eq_ignore_ascii_case(&expected) {
        let names = (package.group.as_str(), group_name(group));
        return Err(problem(if names.0 == names.1 {
            format!("is in another account or region: its group is {actual}, not {expected}")
        } else {
            format!(
                "belongs to group \"{}\", not \"{}\" ({actual}, not {expected})",
                names.0, names.1
            )
        }));
    }
    if package.approval_status != APPROVED {
        return Err(problem(format!(
            "is {}, not Approved",
            package.approval_status
        )));
    }
    Ok(package)
}

/// The ARN of `group`, or [`BuildError::GroupMissing`].
pub(crate) async fn group_arn(client: &Client, group: &str) -> Result<String, BuildError> {
    match client
        .describe_model_package_group()
        .model_package_group_name(group)
        .send()
        .await
    {
        Ok(out) => Ok(out.model_package_group_arn().unwrap_or_default().to_owned()),
        Err(err) => {
            let err = AwsCallError::new("sagemaker:DescribeModelPackageGroup", err);
            if matches!(err.code(), Some("ValidationException" | "ResourceNotFound")) {
                Err(BuildError::GroupMissing {
                    group: group.to_owned(),
                })
            } else {
                Err(err.into())
            }
        }
    }
}

async fn describe(client: &Client, arn: &str) -> Result<ModelPackage, BuildError> {
    let out = client
        .describe_model_package()
        .model_package_name(arn)
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:DescribeModelPackage", e))?;
    let rfc3339 = |t: Option<&aws_sdk_sagemaker::primitives::DateTime>| {
        t.and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok())
    };
    Ok(ModelPackage {
        arn: out.model_package_arn().unwrap_or(arn).to_owned(),
        group: out
            .model_package_group_name()
            .unwrap_or_default()
            .to_owned(),
        version: out.model_package_version(),
        approval_status: out
            .model_approval_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        created: rfc3339(out.creation_time()),
        last_modified: rfc3339(out.last_modified_time()),
        realtime_instance_types: out
            .inference_specification()
            .map(|spec| {
                spec.supported_realtime_inference_instance_types()
                    .iter()
                    .map(|t| t.as_str().to_owned())
                    .collect()
            })
            .unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_sagemaker::operation::describe_model_package::DescribeModelPackageOutput;
    use aws_sdk_sagemaker::operation::list_model_packages::ListModelPackagesOutput;
    use aws_sdk_sagemaker::types::ModelPackageSummary;
    use aws_smithy_mocks::{mock, mock_client, RuleMode};

    #[test]
    fn the_core_names_the_approved_status_as_sagemaker_does() {
        assert_eq!(ModelApprovalStatus::Approved.as_str(), APPROVED);
    }

    /// Pins B1 where the emulator cannot: real AWS may answer a filtered list with an empty page
    /// and a NextToken; the search must follow it (and stop once a package is found).
    #[tokio::test]
    async fn b1_follows_next_token_past_empty_pages() {
        let empty_first_page = mock!(Client::list_model_packages)
            .match_requests(|r| r.next_token().is_none())
            .then_output(|| {
                ListModelPackagesOutput::builder()
                    .set_model_package_summary_list(Some(vec![]))
                    .next_token("t1")
                    .build()
            });
        let second_page = mock!(Client::list_model_packages)
            .match_requests(|r| {
                r.next_token() == Some("t1")
                    && r.sort_order() == Some(&SortOrder::Descending)
                    && r.model_approval_status() == Some(&ModelApprovalStatus::Approved)
            })
            .then_output(|| {
                ListModelPackagesOutput::builder()
                    .model_package_summary_list(
                        ModelPackageSummary::builder()
                            .model_package_arn("arn:aws:sagemaker:us-east-1:1:model-package/g/7")
                            .build(),
                    )
                    .next_token("t2")
                    .build()
            });
        let describe = mock!(Client::describe_model_package).then_output(|| {
            DescribeModelPackageOutput::builder()
                .model_package_arn("arn:aws:sagemaker:us-east-1:1:model-package/g/7")
                .model_package_group_name("g")
                .model_package_version(7)
                .model_approval_status(ModelApprovalStatus::Approved)
                .build()
        });
        let client = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&empty_first_page, &second_page, &describe]
        );

        let package = newest_approved(&client, "g").await.unwrap();
        assert_eq!(package.version, Some(7));
        assert_eq!(
            (empty_first_page.num_calls(), second_page.num_calls()),
            (1, 1)
        );
    }

    /// A NextToken that comes back again would page for ever: the search stops with exit 3.
    #[tokio::test]
    async fn a_repeated_next_token_stops_the_search() {
        let page = |token: &'static str| {
            move || {
                ListModelPackagesOutput::builder()
                    .set_model_package_summary_list(Some(vec![]))
                    .next_token(token)
                    .build()
            }
        };
        let first = mock!(Client::list_model_packages)
            .match_requests(|r| r.next_token().is_none())
            .then_output(page("t1"));
        let second = mock!(Client::list_model_packages)
            .match_requests(|r| r.next_token() == Some("t1"))
            .then_output(page("t2"));
        let third = mock!(Client::list_model_packages)
            .match_requests(|r| r.next_token() == Some("t2"))
            .then_output(page("t1"));
        let client = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&first, &second, &third]
        );

        let err = newest_approved(&client, "g").await.unwrap_err();

        assert_eq!(
            deploy_shell::finish::Failure::exit_status(&err),
            deploy_core::ExitStatus::AwsError
        );
        assert!(
            err.to_string().starts_with(
                "AWS call sagemaker:ListModelPackages failed with RepeatedNextToken: it returned a NextToken it had returned before"
            ),
            "{err}"
        );
        assert_eq!(
            (first.num_calls(), second.num_calls(), third.num_calls()),
            (1, 1, 1)
        );
    }

    /// A pinned package of a same-named group in another account is another group's package.
    #[tokio::test]
    async fn a_pinned_package_must_be_in_the_group_by_account_region_and_name() {
        use aws_sdk_sagemaker::operation::describe_model_package_group::DescribeModelPackageGroupOutput;
        let describe = mock!(Client::describe_model_package).then_output(|| {
            DescribeModelPackageOutput::builder()
                .model_package_arn("arn:aws:sagemaker:us-east-1:999999999999:model-package/churn/7")
                .model_package_group_name("churn")
                .model_approval_status(ModelApprovalStatus::Approved)
                .build()
        });
        let group = mock!(Client::describe_model_package_group).then_output(|| {
            DescribeModelPackageGroupOutput::builder()
                .model_package_group_arn(
                    "arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn",
                )
                .build()
        });
        let client = mock_client!(aws_sdk_sagemaker, RuleMode::MatchAny, [&describe, &group]);

        let err = pinned(
            &client,
            "churn",
            "arn:aws:sagemaker:us-east-1:999999999999:model-package/churn/7",
            "MODEL_PACKAGE_ARN",
        )
        .await
        .unwrap_err();

        assert!(
            err.to_string().contains("which is in another account or region: its group is arn:aws:sagemaker:us-east-1:999999999999:model-package-group/churn, not arn:aws:sagemaker:us-east-1:123456789012:model-package-group/churn"),
            "{err}"
        );
        let shared = "arn:aws:sagemaker:us-east-1:999999999999:model-package-group/churn";
        let shared_group = mock!(Client::describe_model_package_group).then_output(move || {
            DescribeModelPackageGroupOutput::builder()
                .model_package_group_arn(shared)
                .build()
        });
        let client = mock_client!(
            aws_sdk_sagemaker,
            RuleMode::MatchAny,
            [&describe, &shared_group]
        );
        let package = pinned(
            &client,
            shared,
            "arn:aws:sagemaker:us-east-1:999999999999:model-package/churn/7",
            "MODEL_PACKAGE_ARN",
        )
        .await;
        assert!(
            package.is_ok(),
            "a group shared by ARN takes its own packages: {package:?}"
        );
    }
}
