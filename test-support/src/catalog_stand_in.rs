//! The Service Catalog calls the emulator lacks, answered by the fault proxy as the Service Catalog
//! API reference documents them (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_Operations_AWS_Service_Catalog.html>):
//! DescribeProductAsAdmin (by name or id; ResourceNotFoundException when there is none),
//! UpdateProduct (AddTags), ListProvisioningArtifacts and CreateProvisioningArtifact, the
//! product's portfolios and AssociateProductWithPortfolio, ListConstraintsForPortfolio and
//! CreateConstraint, ListPrincipalsForPortfolio and AssociatePrincipalWithPortfolio. Portfolios
//! and products are created in the emulator (CreatePortfolio, CreateProduct, ListPortfolios work
//! there); the stand-in learns each product from the CreateProduct that went through the proxy.
//! Every write it answers is recorded, so a test can say that a second run wrote nothing.

use std::collections::HashMap;

use serde_json::{json, Value};

/// The operations the stand-in answers; the rest go to the emulator.
pub const STOOD_IN: [&str; 10] = [
    "DescribeProductAsAdmin",
    "UpdateProduct",
    "ListProvisioningArtifacts",
    "CreateProvisioningArtifact",
    "ListPortfoliosForProduct",
    "AssociateProductWithPortfolio",
    "ListConstraintsForPortfolio",
    "CreateConstraint",
    "ListPrincipalsForPortfolio",
    "AssociatePrincipalWithPortfolio",
];

#[derive(Debug, Default)]
struct Product {
    id: String,
    name: String,
    tags: Vec<(String, String)>,
    artifacts: Vec<String>,
    portfolios: Vec<String>,
    /// (portfolio, constraint type)
    constraints: Vec<(String, String)>,
}

/// What the stand-in knows, and the writes it answered.
#[derive(Debug, Default)]
pub struct CatalogStandIn {
    products: Vec<Product>,
    principals: HashMap<String, Vec<String>>,
    pub writes: Vec<String>,
}

fn not_found(what: &str) -> (u16, Value) {
    (
        400,
        json!({"__type": "ResourceNotFoundException", "Message": format!("{what} not found")}),
    )
}

fn text(body: &Value, key: &str) -> String {
    body[key].as_str().unwrap_or_default().to_owned()
}

impl CatalogStandIn {
    /// Learns the product a CreateProduct request made, from the request and the emulator's answer.
    pub fn created(&mut self, request: &Value, answer: &Value) {
        let id = answer["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tags = request["Tags"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| (text(t, "Key"), text(t, "Value")))
            .collect();
        let artifacts = request["ProvisioningArtifactParameters"]["Name"]
            .as_str()
            .map(str::to_owned)
            .into_iter()
            .collect();
        self.writes
            .push(format!("CreateProduct {}", text(request, "Name")));
        self.products.push(Product {
            id,
            name: text(request, "Name"),
            tags,
            artifacts,
            ..Product::default()
        });
    }

    /// Notes a write the emulator answered (CreatePortfolio).
    pub fn forwarded_write(&mut self, operation: &str, request: &Value) {
        self.writes
            .push(format!("{operation} {}", text(request, "DisplayName")));
    }

    fn product(&mut self, body: &Value, key: &str) -> Option<&mut Product> {
        let wanted = text(body, key);
        self.products
            .iter_mut()
            .find(|p| p.id == wanted || (key == "Name" && p.name == wanted))
    }

    /// The answer to `operation`, when it is one the stand-in answers.
    pub fn answer(&mut self, operation: &str, body: &Value) -> Option<(u16, Value)> {
        if !STOOD_IN.contains(&operation) {
            return None;
        }
        let portfolio = text(body, "PortfolioId");
        let answer = match operation {
            "DescribeProductAsAdmin" => {
                let key = if body["Name"].is_string() {
                    "Name"
                } else {
                    "Id"
                };
                match self.product(body, key) {
                    Some(p) => (
                        200,
                        json!({
                            "ProductViewDetail": {"ProductViewSummary": {"Id": p.id, "ProductId": p.id, "Name": p.name}},
                            "Tags": p.tags.iter().map(|(k, v)| json!({"Key": k, "Value": v})).collect::<Vec<_>>(),
                        }),
                    ),
                    None => not_found("product"),
                }
            }
            "UpdateProduct" => {
                let tags: Vec<(String, String)> = body["AddTags"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|t| (text(t, "Key"), text(t, "Value")))
                    .collect();
                let Some(p) = self.product(body, "Id") else {
                    return Some(not_found("product"));
                };
                p.tags.extend(tags);
                let id = p.id.clone();
                self.writes.push(format!("UpdateProduct {id}"));
                (
                    200,
                    json!({"ProductViewDetail": {"ProductViewSummary": {"ProductId": id}}}),
                )
            }
            "ListProvisioningArtifacts" => match self.product(body, "ProductId") {
                Some(p) => (
                    200,
                    json!({"ProvisioningArtifactDetails": p.artifacts.iter().map(|name| json!({"Id": format!("pa-{name}"), "Name": name})).collect::<Vec<_>>()}),
                ),
                None => not_found("product"),
            },
            "CreateProvisioningArtifact" => {
                let name = body["Parameters"]["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let Some(p) = self.product(body, "ProductId") else {
                    return Some(not_found("product"));
                };
                p.artifacts.push(name.clone());
                self.writes
                    .push(format!("CreateProvisioningArtifact {name}"));
                (
                    200,
                    json!({"ProvisioningArtifactDetail": {"Id": format!("pa-{name}"), "Name": name}, "Status": "CREATING"}),
                )
            }
            "ListPortfoliosForProduct" => match self.product(body, "ProductId") {
                Some(p) => (
                    200,
                    json!({"PortfolioDetails": p.portfolios.iter().map(|id| json!({"Id": id})).collect::<Vec<_>>()}),
                ),
                None => not_found("product"),
            },
            "AssociateProductWithPortfolio" => {
                let Some(p) = self.product(body, "ProductId") else {
                    return Some(not_found("product"));
                };
                p.portfolios.push(portfolio.clone());
                self.writes
                    .push(format!("AssociateProductWithPortfolio {portfolio}"));
                (200, json!({}))
            }
            "ListConstraintsForPortfolio" => {
                let kinds: Vec<Value> = self
                    .product(body, "ProductId")
                    .map(|p| {
                        p.constraints
                            .iter()
                            .filter(|(on, _)| *on == portfolio)
                            .map(|(_, kind)| json!({"ConstraintId": format!("cons-{kind}"), "Type": kind}))
                            .collect()
                    })
                    .unwrap_or_default();
                (200, json!({"ConstraintDetails": kinds}))
            }
            "CreateConstraint" => {
                let kind = text(body, "Type");
                let Some(p) = self.product(body, "ProductId") else {
                    return Some(not_found("product"));
                };
                if p.constraints.contains(&(portfolio.clone(), kind.clone())) {
                    return Some((
                        400,
                        json!({"__type": "DuplicateResourceException", "Message": "The specified resource is a duplicate."}),
                    ));
                }
                p.constraints.push((portfolio, kind.clone()));
                self.writes.push(format!("CreateConstraint {kind}"));
                (
                    200,
                    json!({"ConstraintDetail": {"ConstraintId": format!("cons-{kind}"), "Type": kind}, "Status": "AVAILABLE"}),
                )
            }
            "ListPrincipalsForPortfolio" => {
                let arns = self.principals.get(&portfolio).cloned().unwrap_or_default();
                (
                    200,
                    json!({"Principals": arns.iter().map(|a| json!({"PrincipalARN": a, "PrincipalType": "IAM"})).collect::<Vec<_>>()}),
                )
            }
            _ => {
                let arn = text(body, "PrincipalARN");
                self.principals
                    .entry(portfolio)
                    .or_default()
                    .push(arn.clone());
                self.writes
                    .push(format!("AssociatePrincipalWithPortfolio {arn}"));
                (200, json!({}))
            }
        };
        Some(answer)
    }
}
