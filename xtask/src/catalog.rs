//! `cargo xtask publish --service-catalog`: the product as a SageMaker project template in
//! Service Catalog, found or created by name, so a second run with the same version changes
//! nothing. Each step reads before it writes: the portfolio (ListPortfolios, by display name),
//! the product (DescribeProductAsAdmin, by name) with its `sagemaker:studio-visibility` tag, the
//! version's provisioning artifact (ListProvisioningArtifacts, by name `v<version>`), the
//! product's place in the portfolio (ListPortfoliosForProduct), the launch constraint
//! (ListConstraintsForPortfolio) and the principals (ListPrincipalsForPortfolio). What is found is
//! compared, not believed: an artifact `v<version>` must load its template from the URL this run
//! registers (DescribeProvisioningArtifact) and a launch constraint must name the launch role
//! this run names (DescribeConstraint); either differing is refused
//! ([`Conflict`](crate::publish_error::Conflict), exit 2).
//! Those two are read before the run writes anything to the catalog, so a refused run leaves it
//! as it found it. Service Catalog
//! documents no "already exists" error for the associate calls
//! (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_AssociateProductWithPortfolio.html>),
//! so they are made only when the listing lacks them. Creates carry idempotency tokens derived
//! from what they create, so a retried call does not create twice. Every listing follows all its
//! pages, and stops on a page token that comes back (`deploy_shell::pages`, exit 3).
//!
//! What the run aims at is `target` ([`CatalogTarget`]); what is found, and refused, is `found`;
//! this module makes the calls that write.

mod found;
mod target;

use aws_sdk_servicecatalog::types::{PrincipalType, ProductType, Tag};
use aws_sdk_servicecatalog::Client;
use deploy_shell::pages::all_pages;
use deploy_shell::AwsCallError;

use crate::publish_error::PublishError;
use crate::studio::STUDIO_VISIBILITY;
use found::{find_artifact, find_launch_constraint, find_portfolio, find_product, FoundProduct};
pub(crate) use target::CatalogTarget;

/// Brings the catalog to `target`; says, step by step, what it created and what it found. What
/// is already there is read and compared first (the portfolio and product by name, this
/// version's artifact, the launch constraint), so a conflict is refused before anything is
/// written.
pub(crate) async fn publish(
    client: &Client,
    target: &CatalogTarget,
) -> Result<Vec<String>, PublishError> {
    let mut done = Vec::new();
    let found_portfolio = find_portfolio(client, target).await?;
    let found_product = find_product(client, target).await?;
    let mut artifact_there = None;
    let mut launch_there = false;
    if let Some(product) = &found_product {
        artifact_there = Some(find_artifact(client, target, &product.id).await?);
        if let Some(portfolio) = &found_portfolio {
            launch_there = find_launch_constraint(client, target, portfolio, &product.id).await?;
        }
    }

    let portfolio = match found_portfolio {
        Some(id) => {
            done.push(format!("found portfolio {} ({id})", target.portfolio));
            id
        }
        None => create_portfolio(client, target, &mut done).await?,
    };
    let product = match found_product {
        Some(found) => tag_product(client, target, found, &mut done).await?,
        None => create_product(client, target, &mut done).await?,
    };

    // A product created just now was created with this version's artifact: it is read back and
    // compared like one found.
    let artifact_there = match artifact_there {
        Some(there) => there,
        None => find_artifact(client, target, &product).await?,
    };
    let name = target.artifact_name();
    if artifact_there {
        done.push(format!("found artifact {name} of {}", target.product));
    } else {
        client
            .create_provisioning_artifact()
            .product_id(&product)
            .parameters(target.artifact())
            .idempotency_token(target.token("artifact"))
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:CreateProvisioningArtifact", e))?;
        done.push(format!(
            "created artifact {name} of {} from {}",
            target.product, target.template_url
        ));
    }

    let in_portfolio = all_pages("servicecatalog:ListPortfoliosForProduct", |token| {
        let request = client
            .list_portfolios_for_product()
            .product_id(&product)
            .set_page_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("servicecatalog:ListPortfoliosForProduct", e))?;
            let ids = page
                .portfolio_details()
                .iter()
                .filter_map(|p| p.id().map(str::to_owned))
                .collect();
            Ok((ids, page.next_page_token().map(str::to_owned)))
        }
    })
    .await?;
    if in_portfolio.contains(&portfolio) {
        done.push(format!(
            "found product {} in portfolio {}",
            target.product, target.portfolio
        ));
    } else {
        client
            .associate_product_with_portfolio()
            .product_id(&product)
            .portfolio_id(&portfolio)
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:AssociateProductWithPortfolio", e))?;
        done.push(format!(
            "added product {} to portfolio {}",
            target.product, target.portfolio
        ));
    }

    // A portfolio or product created just now has no constraints yet.
    if launch_there {
        done.push(format!("found the launch constraint of {}", target.product));
    } else {
        let parameters = serde_json::json!({"RoleArn": target.launch_role_arn}).to_string();
        client
            .create_constraint()
            .portfolio_id(&portfolio)
            .product_id(&product)
            .r#type("LAUNCH")
            .parameters(parameters)
            .idempotency_token(target.token("constraint"))
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:CreateConstraint", e))?;
        done.push(format!(
            "created the launch constraint of {} ({})",
            target.product, target.launch_role_arn
        ));
    }

    let principals = all_pages("servicecatalog:ListPrincipalsForPortfolio", |token| {
        let request = client
            .list_principals_for_portfolio()
            .portfolio_id(&portfolio)
            .set_page_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("servicecatalog:ListPrincipalsForPortfolio", e))?;
            let arns = page
                .principals()
                .iter()
                .filter_map(|p| p.principal_arn().map(str::to_owned))
                .collect();
            Ok((arns, page.next_page_token().map(str::to_owned)))
        }
    })
    .await?;
    for principal in &target.principals {
        if principals.contains(principal) {
            done.push(format!(
                "found principal {principal} in portfolio {}",
                target.portfolio
            ));
            continue;
        }
        client
            .associate_principal_with_portfolio()
            .portfolio_id(&portfolio)
            .principal_arn(principal)
            .principal_type(PrincipalType::Iam)
            .send()
            .await
            .map_err(|e| AwsCallError::new("servicecatalog:AssociatePrincipalWithPortfolio", e))?;
        done.push(format!(
            "added principal {principal} to portfolio {}",
            target.portfolio
        ));
    }
    Ok(done)
}

/// Creates the portfolio; its id.
async fn create_portfolio(
    client: &Client,
    target: &CatalogTarget,
    done: &mut Vec<String>,
) -> Result<String, PublishError> {
    let created = client
        .create_portfolio()
        .display_name(&target.portfolio)
        .provider_name(&target.provider)
        .idempotency_token(target.token("portfolio"))
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:CreatePortfolio", e))?;
    let id = created
        .portfolio_detail()
        .and_then(|p| p.id())
        .unwrap_or_default()
        .to_owned();
    done.push(format!("created portfolio {} ({id})", target.portfolio));
    Ok(id)
}

/// The found product's id, tagged for Studio when it was not.
async fn tag_product(
    client: &Client,
    target: &CatalogTarget,
    found: FoundProduct,
    done: &mut Vec<String>,
) -> Result<String, PublishError> {
    let (key, value) = STUDIO_VISIBILITY;
    let id = found.id;
    if found.tagged {
        done.push(format!("found product {} ({id})", target.product));
        return Ok(id);
    }
    client
        .update_product()
        .id(&id)
        .add_tags(
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("invariant: key and value are set"),
        )
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:UpdateProduct", e))?;
    done.push(format!(
        "found product {} ({id}) and tagged it {key}={value}",
        target.product
    ));
    Ok(id)
}

/// Creates the product, tagged for Studio, with this version's artifact; its id.
async fn create_product(
    client: &Client,
    target: &CatalogTarget,
    done: &mut Vec<String>,
) -> Result<String, PublishError> {
    let (key, value) = STUDIO_VISIBILITY;
    let created = client
        .create_product()
        .name(&target.product)
        .owner(&target.provider)
        .product_type(ProductType::CloudFormationTemplate)
        .tags(
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("invariant: key and value are set"),
        )
        .provisioning_artifact_parameters(target.artifact())
        .idempotency_token(target.token("product"))
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:CreateProduct", e))?;
    let id = created
        .product_view_detail()
        .and_then(|d| d.product_view_summary())
        .and_then(|s| s.product_id())
        .unwrap_or_default()
        .to_owned();
    done.push(format!(
        "created product {} ({id}) with artifact {}",
        target.product,
        target.artifact_name()
    ));
    Ok(id)
}
