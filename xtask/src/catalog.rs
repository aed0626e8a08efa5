//! `cargo xtask publish --service-catalog`: the product as a SageMaker project template in
//! Service Catalog, found or created by name, so a second run with the same version changes
//! nothing. Each step reads before it writes: the portfolio (ListPortfolios, by display name),
//! the product (DescribeProductAsAdmin, by name) with its `sagemaker:studio-visibility` tag, the
//! version's provisioning artifact (ListProvisioningArtifacts, by name `v<version>`), the
//! product's place in the portfolio (ListPortfoliosForProduct), the launch constraint
//! (ListConstraintsForPortfolio) and the principals (ListPrincipalsForPortfolio). Service Catalog
//! documents no "already exists" error for the associate calls
//! (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_AssociateProductWithPortfolio.html>),
//! so they are made only when the listing lacks them. Creates carry idempotency tokens derived
//! from what they create, so a retried call does not create twice.

use aws_sdk_servicecatalog::operation::describe_product_as_admin::DescribeProductAsAdminError;
use aws_sdk_servicecatalog::types::{
    PrincipalType, ProductType, ProvisioningArtifactProperties, ProvisioningArtifactType, Tag,
};
use aws_sdk_servicecatalog::Client;
use deploy_shell::AwsCallError;

use crate::publish::{PublishError, STUDIO_VISIBILITY};
use crate::seed_zip::hex_sha256;

/// What the catalog should hold after the run.
#[derive(Debug, Clone)]
pub struct CatalogTarget {
    pub portfolio: String,
    pub provider: String,
    pub product: String,
    pub version: String,
    pub template_url: String,
    pub launch_role_arn: String,
    pub principals: Vec<String>,
}

impl CatalogTarget {
    fn artifact_name(&self) -> String {
        format!("v{}", self.version)
    }

    /// The calls a run makes, for `--dry-run`.
    pub fn describe_calls(&self) -> Vec<String> {
        vec![
            format!("servicecatalog:ListPortfolios, then servicecatalog:CreatePortfolio {:?} unless one has that name", self.portfolio),
            format!("servicecatalog:DescribeProductAsAdmin {:?}, then servicecatalog:CreateProduct (tagged {}={}, artifact {} from {}) unless it exists, or servicecatalog:UpdateProduct adding the tag when it lacks it", self.product, STUDIO_VISIBILITY.0, STUDIO_VISIBILITY.1, self.artifact_name(), self.template_url),
            format!("servicecatalog:ListProvisioningArtifacts, then servicecatalog:CreateProvisioningArtifact {} unless the product has it", self.artifact_name()),
            "servicecatalog:ListPortfoliosForProduct, then servicecatalog:AssociateProductWithPortfolio unless the product is in the portfolio".to_owned(),
            format!("servicecatalog:ListConstraintsForPortfolio, then servicecatalog:CreateConstraint LAUNCH {} unless the product has a launch constraint", self.launch_role_arn),
            format!("servicecatalog:ListPrincipalsForPortfolio, then servicecatalog:AssociatePrincipalWithPortfolio for each of {} the portfolio lacks", self.principals.join(", ")),
        ]
    }

    fn artifact(&self) -> ProvisioningArtifactProperties {
        ProvisioningArtifactProperties::builder()
            .name(self.artifact_name())
            .description(format!("sagemaker-deploy-steps {}", self.version))
            .r#type(ProvisioningArtifactType::CloudFormationTemplate)
            .info("LoadTemplateFromURL", &self.template_url)
            .build()
    }

    /// A token that is the same for the same create, and differs between creates.
    fn token(&self, what: &str) -> String {
        hex_sha256(
            format!(
                "{what}|{}|{}|{}",
                self.portfolio, self.product, self.version
            )
            .as_bytes(),
        )[..32]
            .to_owned()
    }
}

/// Brings the catalog to `target`; says, step by step, what it created and what it found.
pub async fn publish(client: &Client, target: &CatalogTarget) -> Result<Vec<String>, PublishError> {
    let mut done = Vec::new();
    let portfolio = portfolio(client, target, &mut done).await?;
    let product = product(client, target, &mut done).await?;
    artifact(client, target, &product, &mut done).await?;

    let in_portfolio = collect_pages(|token| {
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

    let constraints = collect_pages(|token| {
        let request = client
            .list_constraints_for_portfolio()
            .portfolio_id(&portfolio)
            .product_id(&product)
            .set_page_token(token);
        async move {
            let page = request
                .send()
                .await
                .map_err(|e| AwsCallError::new("servicecatalog:ListConstraintsForPortfolio", e))?;
            let kinds = page
                .constraint_details()
                .iter()
                .filter_map(|c| c.r#type().map(str::to_owned))
                .collect();
            Ok((kinds, page.next_page_token().map(str::to_owned)))
        }
    })
    .await?;
    if constraints.iter().any(|kind| kind == "LAUNCH") {
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

    let principals = collect_pages(|token| {
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

/// Every page of a listing, following its page token.
async fn collect_pages<F, Fut>(mut page: F) -> Result<Vec<String>, PublishError>
where
    F: FnMut(Option<String>) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<String>, Option<String>), PublishError>>,
{
    let mut all = Vec::new();
    let mut token = None;
    loop {
        let (items, next) = page(token).await?;
        all.extend(items);
        match next.filter(|t| !t.is_empty()) {
            Some(next) => token = Some(next),
            None => return Ok(all),
        }
    }
}

/// The portfolio's id, found by display name or created.
async fn portfolio(
    client: &Client,
    target: &CatalogTarget,
    done: &mut Vec<String>,
) -> Result<String, PublishError> {
    let named = collect_pages(|token| {
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
    if let Some(id) = named.into_iter().next() {
        done.push(format!("found portfolio {} ({id})", target.portfolio));
        return Ok(id);
    }
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

/// The product's id, found by name (tagged for Studio when it was not) or created with this
/// version's artifact.
async fn product(
    client: &Client,
    target: &CatalogTarget,
    done: &mut Vec<String>,
) -> Result<String, PublishError> {
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
            if tagged {
                done.push(format!("found product {} ({id})", target.product));
            } else {
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
            }
            Ok(id)
        }
        Err(err)
            if matches!(
                err.as_service_error(),
                Some(DescribeProductAsAdminError::ResourceNotFoundException(_))
            ) =>
        {
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
        Err(err) => Err(AwsCallError::new("servicecatalog:DescribeProductAsAdmin", err).into()),
    }
}

/// This version's provisioning artifact, added when the product lacks it.
async fn artifact(
    client: &Client,
    target: &CatalogTarget,
    product: &str,
    done: &mut Vec<String>,
) -> Result<(), PublishError> {
    let listed = client
        .list_provisioning_artifacts()
        .product_id(product)
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:ListProvisioningArtifacts", e))?;
    let name = target.artifact_name();
    if listed
        .provisioning_artifact_details()
        .iter()
        .any(|a| a.name() == Some(name.as_str()))
    {
        done.push(format!("found artifact {name} of {}", target.product));
        return Ok(());
    }
    client
        .create_provisioning_artifact()
        .product_id(product)
        .parameters(target.artifact())
        .idempotency_token(target.token("artifact"))
        .send()
        .await
        .map_err(|e| AwsCallError::new("servicecatalog:CreateProvisioningArtifact", e))?;
    done.push(format!(
        "created artifact {name} of {} from {}",
        target.product, target.template_url
    ));
    Ok(())
}
