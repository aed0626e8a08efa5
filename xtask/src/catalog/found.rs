//! What the catalog already holds, read before anything is written and compared, not believed:
//! the portfolio (ListPortfolios, by display name), the product (DescribeProductAsAdmin, by name)
//! with its Studio tag, this version's artifact, which must load its template from this run's URL
//! (ListProvisioningArtifacts, DescribeProvisioningArtifact), and the launch constraint, which
//! must name this run's launch role (ListConstraintsForPortfolio, DescribeConstraint). Either
//! differing is refused ([`Conflict`], exit 2) before the run writes anything.

use aws_sdk_servicecatalog::operation::describe_product_as_admin::DescribeProductAsAdminError;
use aws_sdk_servicecatalog::Client;
use deploy_shell::pages::all_pages;
use deploy_shell::AwsCallError;

use super::target::CatalogTarget;
use crate::publish_error::{Conflict, PublishError};
use crate::studio::STUDIO_VISIBILITY;

/// The keys of DescribeProvisioningArtifact's `Info` that hold the template's URL. The API
/// reference documents `Info` only as "the URL of the CloudFormation template in Amazon S3"
/// (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_DescribeProvisioningArtifact.html>);
/// the AWS CLI reference's example answer names it `TemplateUrl`
/// (<https://docs.aws.amazon.com/cli/latest/reference/servicecatalog/describe-provisioning-artifact.html>),
/// and `LoadTemplateFromURL` is the key it is registered under
/// (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_ProvisioningArtifactProperties.html>).
/// Every one of them present must name this run's URL, and one must be present.
const TEMPLATE_URL_KEYS: [&str; 2] = ["TemplateUrl", "LoadTemplateFromURL"];

/// How much of a value read from the catalog a refusal quotes.
const MAX_QUOTED_CHARS: usize = 300;

/// A value read from the catalog, as a refusal quotes it: bounded, on one line.
fn quoted(value: &str) -> String {
    value
        .chars()
        .take(MAX_QUOTED_CHARS)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect()
}

/// A product found by name: its id, and whether it carries the Studio tag.
pub(super) struct FoundProduct {
    pub(super) id: String,
    pub(super) tagged: bool,
}

/// The portfolio's id, found by display name.
pub(super) async fn find_portfolio(
    client: &Client,
    target: &CatalogTarget,
) -> Result<Option<String>, PublishError> {
    let named = all_pages("servicecatalog:ListPortfolios", |token| {
        let request = client.list_portfolios().set_page_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("servicecatalog:ListPortfolios", e))?;
            let ids = page
                .portfolio_details()
                .iter()
                .filter(|p| p.display_name() == Some(target.portfolio.as_str()))
                .filter_map(|p| p.id().map(str::to_owned))
                .collect();
            Ok((ids, page.next_page_token().map(str::to_owned)))
        }
    })
    .await?;
    Ok(named.into_iter().next())
}

/// The product, found by name.
pub(super) async fn find_product(
    client: &Client,
    target: &CatalogTarget,
) -> Result<Option<FoundProduct>, PublishError> {
    let (key, value) = STUDIO_VISIBILITY;
    match client
        .describe_product_as_admin()
        .name(&target.product)
        .send()
        .await
    {
        Ok(found) => {
            let id = found
                .product_view_detail()
                .and_then(|d| d.product_view_summary())
                .and_then(|s| s.product_id())
                .unwrap_or_default()
                .to_owned();
            let tagged = found
                .tags()
                .iter()
                .any(|t| t.key() == key && t.value() == value);
            Ok(Some(FoundProduct { id, tagged }))
        }
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(DescribeProductAsAdminError::ResourceNotFoundException(_))
            ) =>
        {
            Ok(None)
        }
        Err(err) => Err(AwsCallError::new("servicecatalog:DescribeProductAsAdmin", err).into()),
    }
}

/// Whether the product has this version's artifact; refused when one named `v<version>` loads
/// its template from anywhere but this run's URL.
pub(super) async fn find_artifact(
    client: &Client,
    target: &CatalogTarget,
    product: &str,
) -> Result<bool, PublishError> {
    let listed = client
        .list_provisioning_artifacts()
        .product_id(product)
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:ListProvisioningArtifacts", e))?;
    let name = target.artifact_name();
    let ids = listed
        .provisioning_artifact_details()
        .iter()
        .filter(|a| a.name() == Some(name.as_str()))
        .map(|a| {
            a.id().map(str::to_owned).ok_or_else(|| {
                AwsCallError::incomplete(
                    "servicecatalog:ListProvisioningArtifacts",
                    "an artifact's Id",
                )
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for id in &ids {
        let described = client
            .describe_provisioning_artifact()
            .product_id(product)
            .provisioning_artifact_id(id)
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:DescribeProvisioningArtifact", e))?;
        let urls: Vec<&str> = described
            .info()
            .into_iter()
            .flat_map(|info| {
                TEMPLATE_URL_KEYS
                    .iter()
                    .filter_map(|key| info.get(*key).map(String::as_str))
            })
            .collect();
        let other = urls.iter().find(|url| **url != target.template_url);
        if urls.is_empty() || other.is_some() {
            return Err(Conflict::Artifact {
                product: target.product.clone(),
                product_id: product.to_owned(),
                artifact: name,
                artifact_id: id.clone(),
                there: other.map_or_else(
                    || {
                        "no template URL (its Info has neither TemplateUrl nor LoadTemplateFromURL)"
                            .to_owned()
                    },
                    |url| format!("the template URL {}", quoted(url)),
                ),
                wanted: target.template_url.clone(),
                version: target.version.clone(),
            }
            .into());
        }
    }
    Ok(!ids.is_empty())
}

/// Whether the product has a launch constraint in the portfolio; refused when one names another
/// role than this run's. A launch constraint's parameters are `{"RoleArn": ...}` or
/// `{"LocalRoleName": ...}`
/// (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_CreateConstraint.html>), read back
/// with DescribeConstraint
/// (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_DescribeConstraint.html>), since
/// the listing carries no parameters.
pub(super) async fn find_launch_constraint(
    client: &Client,
    target: &CatalogTarget,
    portfolio: &str,
    product: &str,
) -> Result<bool, PublishError> {
    let launch = all_pages("servicecatalog:ListConstraintsForPortfolio", |token| {
        let request = client
            .list_constraints_for_portfolio()
            .portfolio_id(portfolio)
            .product_id(product)
            .set_page_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("servicecatalog:ListConstraintsForPortfolio", e))?;
            let ids = page
                .constraint_details()
                .iter()
                .filter(|c| c.r#type() == Some("LAUNCH"))
                .map(|c| {
                    c.constraint_id().map(str::to_owned).ok_or_else(|| {
                        AwsCallError::incomplete(
                            "servicecatalog:ListConstraintsForPortfolio",
                            "a constraint's ConstraintId",
                        )
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok((ids, page.next_page_token().map(str::to_owned)))
        }
    })
    .await?;
    for id in &launch {
        let described = client
            .describe_constraint()
            .id(id)
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:DescribeConstraint", e))?;
        let parameters = described.constraint_parameters().unwrap_or_default();
        let role = serde_json::from_str::<serde_json::Value>(parameters)
            .ok()
            .and_then(|p| p.get("RoleArn")?.as_str().map(str::to_owned));
        if role.as_deref() == Some(target.launch_role_arn.as_str()) {
            continue;
        }
        return Err(Conflict::LaunchConstraint {
            product: target.product.clone(),
            portfolio: target.portfolio.clone(),
            constraint_id: id.clone(),
            there: role.map_or_else(
                || format!("no role ARN (its parameters are {})", quoted(parameters)),
                |role| format!("the role {}", quoted(&role)),
            ),
            wanted: target.launch_role_arn.clone(),
        }
        .into());
    }
    Ok(!launch.is_empty())
}
