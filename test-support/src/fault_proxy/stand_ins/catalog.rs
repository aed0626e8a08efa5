//! The Service Catalog calls the emulator lacks, answered by the fault proxy as the Service Catalog
//! API reference documents them (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_Operations_AWS_Service_Catalog.html>):
//! DescribeProductAsAdmin (by name or id; ResourceNotFoundException when there is none),
//! UpdateProduct (AddTags), ListProvisioningArtifacts, DescribeProvisioningArtifact and
//! CreateProvisioningArtifact, the product's portfolios and AssociateProductWithPortfolio,
//! ListConstraintsForPortfolio, DescribeConstraint and CreateConstraint,
//! ListPrincipalsForPortfolio and AssociatePrincipalWithPortfolio. Portfolios
//! and products are created in the emulator (CreatePortfolio, CreateProduct, ListPortfolios work
//! there); the stand-in learns each product from the CreateProduct that went through the proxy.
//! Every write it answers is recorded, so a test can say that a second run wrote nothing.
//!
//! It lives with the fault proxy's other stand-ins (its `StandIn` impl is at the end); the crate
//! keeps it public as `test_support::catalog_stand_in`.

use std::collections::HashMap;

use serde_json::{json, Value};

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::{answer_json, Call};

/// The operations the stand-in answers; the rest go to the emulator.
pub const STOOD_IN: [&str; 12] = [
    "DescribeProductAsAdmin",
    "UpdateProduct",
    "ListProvisioningArtifacts",
    "DescribeProvisioningArtifact",
    "CreateProvisioningArtifact",
    "ListPortfoliosForProduct",
    "AssociateProductWithPortfolio",
    "ListConstraintsForPortfolio",
    "DescribeConstraint",
    "CreateConstraint",
    "ListPrincipalsForPortfolio",
    "AssociatePrincipalWithPortfolio",
];

#[derive(Debug, Default)]
struct Product {
    id: String,
    name: String,
    tags: Vec<(String, String)>,
    artifacts: Vec<Artifact>,
    portfolios: Vec<String>,
    constraints: Vec<Constraint>,
}

/// A provisioning artifact: its name and the template URL it was registered with
/// (`Info.LoadTemplateFromURL`).
#[derive(Debug)]
struct Artifact {
    name: String,
    template_url: String,
}

impl Artifact {
    fn id(&self) -> String {
        format!("pa-{}", self.name)
    }
}

#[derive(Debug)]
struct Constraint {
    id: String,
    portfolio: String,
    kind: String,
    /// The JSON string CreateConstraint was given (`{"RoleArn": ...}` for LAUNCH).
    parameters: String,
}

/// What the stand-in knows, and the writes it answered.
#[derive(Debug, Default)]
pub struct CatalogStandIn {
    products: Vec<Product>,
    principals: HashMap<String, Vec<String>>,
    /// Constraints made so far, for their ids.
    constraints_made: usize,
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

/// A list of `{"Key": .., "Value": ..}` tags as pairs; none when `list` is not a list.
fn tags(list: &Value) -> Vec<(String, String)> {
    let tags = list.as_array().into_iter().flatten();
    tags.map(|t| (text(t, "Key"), text(t, "Value"))).collect()
}

impl CatalogStandIn {
    /// Learns the product a CreateProduct request made, from the request and the emulator's answer.
    pub fn created(&mut self, request: &Value, answer: &Value) {
        let id = answer["ProductViewDetail"]["ProductViewSummary"]["ProductId"]
            .as_str()
            .unwrap_or_default()
            .to_owned();
        let tags = tags(&request["Tags"]);
        let parameters = &request["ProvisioningArtifactParameters"];
        let artifacts = parameters["Name"]
            .as_str()
            .map(|name| Artifact {
                name: name.to_owned(),
                template_url: text(&parameters["Info"], "LoadTemplateFromURL"),
            })
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
                let tags = tags(&body["AddTags"]);
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
                    json!({"ProvisioningArtifactDetails": p.artifacts.iter().map(|a| json!({"Id": a.id(), "Name": a.name})).collect::<Vec<_>>()}),
                ),
                None => not_found("product"),
            },
            // The product by ProductId or ProductName, the artifact by ProvisioningArtifactId or
            // ProvisioningArtifactName; `Info` carries the template's URL under `TemplateUrl`, as
            // the AWS CLI reference's example answer shows
            // (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_DescribeProvisioningArtifact.html>,
            // <https://docs.aws.amazon.com/cli/latest/reference/servicecatalog/describe-provisioning-artifact.html>).
            "DescribeProvisioningArtifact" => {
                let (product_id, product_name) =
                    (text(body, "ProductId"), text(body, "ProductName"));
                let (artifact_id, artifact_name) = (
                    text(body, "ProvisioningArtifactId"),
                    text(body, "ProvisioningArtifactName"),
                );
                let artifact = self
                    .products
                    .iter()
                    .find(|p| {
                        (!product_id.is_empty() && p.id == product_id)
                            || (product_id.is_empty() && p.name == product_name)
                    })
                    .and_then(|p| {
                        p.artifacts.iter().find(|a| {
                            (!artifact_id.is_empty() && a.id() == artifact_id)
                                || (artifact_id.is_empty() && a.name == artifact_name)
                        })
                    });
                match artifact {
                    Some(a) => (
                        200,
                        json!({
                            "ProvisioningArtifactDetail": {"Id": a.id(), "Name": a.name, "Type": "CLOUD_FORMATION_TEMPLATE", "Active": true, "Guidance": "DEFAULT"},
                            "Info": {"TemplateUrl": a.template_url},
                            "Status": "AVAILABLE",
                        }),
                    ),
                    None => not_found("provisioning artifact"),
                }
            }
            "CreateProvisioningArtifact" => {
                let name = body["Parameters"]["Name"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned();
                let template_url = text(&body["Parameters"]["Info"], "LoadTemplateFromURL");
                let Some(p) = self.product(body, "ProductId") else {
                    return Some(not_found("product"));
                };
                p.artifacts.push(Artifact {
                    name: name.clone(),
                    template_url,
                });
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
                            .filter(|c| c.portfolio == portfolio)
                            .map(|c| json!({"ConstraintId": c.id, "Type": c.kind, "ProductId": p.id, "PortfolioId": c.portfolio}))
                            .collect()
                    })
                    .unwrap_or_default();
                (200, json!({"ConstraintDetails": kinds}))
            }
            // By Id: the constraint's detail and the parameters it was created with, as a JSON
            // string (<https://docs.aws.amazon.com/servicecatalog/latest/dg/API_DescribeConstraint.html>).
            "DescribeConstraint" => {
                let id = text(body, "Id");
                let found = self.products.iter().find_map(|p| {
                    p.constraints
                        .iter()
                        .find(|c| c.id == id)
                        .map(|c| (p.id.clone(), c))
                });
                match found {
                    Some((product, c)) => (
                        200,
                        json!({
                            "ConstraintDetail": {"ConstraintId": c.id, "Type": c.kind, "ProductId": product, "PortfolioId": c.portfolio},
                            "ConstraintParameters": c.parameters,
                            "Status": "AVAILABLE",
                        }),
                    ),
                    None => not_found("constraint"),
                }
            }
            "CreateConstraint" => {
                let kind = text(body, "Type");
                let parameters = text(body, "Parameters");
                let id = format!("cons-{}", self.constraints_made + 1);
                let Some(p) = self.product(body, "ProductId") else {
                    return Some(not_found("product"));
                };
                if p.constraints
                    .iter()
                    .any(|c| c.portfolio == portfolio && c.kind == kind)
                {
                    return Some((
                        400,
                        json!({"__type": "DuplicateResourceException", "Message": "The specified resource is a duplicate."}),
                    ));
                }
                p.constraints.push(Constraint {
                    id: id.clone(),
                    portfolio,
                    kind: kind.clone(),
                    parameters,
                });
                self.constraints_made += 1;
                self.writes.push(format!("CreateConstraint {kind}"));
                (
                    200,
                    json!({"ConstraintDetail": {"ConstraintId": id, "Type": kind}, "Status": "AVAILABLE"}),
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

/// Service Catalog's awsJson calls (`AWS242ServiceCatalogService.<operation>`): the stood-in ones
/// answered, a created product or portfolio learned from the emulator's answer.
impl StandIn for CatalogStandIn {
    fn answer(&mut self, call: &Call, request: &Request, _: &str) -> Option<Response> {
        if !is_catalog(call) {
            return None;
        }
        answer_json(request, |body| {
            CatalogStandIn::answer(self, &call.operation, body)
        })
    }

    fn forwarded(&mut self, call: &Call, request: &Request, response: &Response) {
        if !is_catalog(call) || response.status != 200 {
            return;
        }
        let body: Value = serde_json::from_slice(&request.body).unwrap_or_default();
        match call.operation.as_str() {
            "CreateProduct" => {
                let answer = serde_json::from_slice(&response.body).unwrap_or_default();
                self.created(&body, &answer);
            }
            "CreatePortfolio" => self.forwarded_write(&call.operation, &body),
            _ => {}
        }
    }
}

fn is_catalog(call: &Call) -> bool {
    call.json_service()
        .is_some_and(|service| service.contains("ServiceCatalog"))
}
