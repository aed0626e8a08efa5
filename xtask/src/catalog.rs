//! `cargo xtask publish --service-catalog`: the product as a SageMaker project template in
//! Service Catalog, found or created by name, so a second run with the same version changes
//! nothing. Each step reads before it writes: the portfolio (ListPortfolios, by display name),
//! the product (DescribeProductAsAdmin, by name) with its `sagemaker:studio-visibility` tag, the
//! version's provisioning artifact (ListProvisioningArtifacts, by name `v<version>`), the
//! product's place in the portfolio (ListPortfoliosForProduct), the launch constraint
//! (ListConstraintsForPortfolio) and the principals (ListPrincipalsForPortfolio). What is found is
//! compared, not believed: an artifact `v<version>` must load its template from the URL this run
//! registers (DescribeProvisioningArtifact) and a launch constraint must name the launch role
//! this run names (DescribeConstraint); either differing is refused ([`Conflict`], exit 2).
//! Those two are read before the run writes anything to the catalog, so a refused run leaves it
//! as it found it. Service Catalog
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

use crate::publish::{Conflict, PublishError, STUDIO_VISIBILITY};
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
            format!("servicecatalog:ListProvisioningArtifacts, then servicecatalog:CreateProvisioningArtifact {0} unless the product has it (an artifact {0} there is read with servicecatalog:DescribeProvisioningArtifact and refused unless its template is {1})", self.artifact_name(), self.template_url),
            "servicecatalog:ListPortfoliosForProduct, then servicecatalog:AssociateProductWithPortfolio unless the product is in the portfolio".to_owned(),
            format!("servicecatalog:ListConstraintsForPortfolio, then servicecatalog:CreateConstraint LAUNCH {0} unless the product has a launch constraint (one there is read with servicecatalog:DescribeConstraint and refused unless it names {0})", self.launch_role_arn),
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
struct FoundProduct {
    id: String,
    tagged: bool,
}

/// Brings the catalog to `target`; says, step by step, what it created and what it found. What
/// is already there is read and compared first (the portfolio and product by name, this
/// version's artifact, the launch constraint), so a conflict is refused before anything is
/// written.
pub async fn publish(client: &Client, target: &CatalogTarget) -> Result<Vec<String>, PublishError> {
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

/// The portfolio's id, found by display name.
async fn find_portfolio(
    client: &Client,
    target: &CatalogTarget,
) -> Result<Option<String>, PublishError> {
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
    Ok(named.into_iter().next())
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

/// The product, found by name.
async fn find_product(
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

/// Whether the product has this version's artifact; refused when one named `v<version>` loads
/// its template from anywhere but this run's URL.
async fn find_artifact(
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
async fn find_launch_constraint(
    client: &Client,
    target: &CatalogTarget,
    portfolio: &str,
    product: &str,
) -> Result<bool, PublishError> {
    let launch = collect_pages(|token| {
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
