//! What the catalog should hold after a run: the portfolio, the product and this version's
//! provisioning artifact, the launch role and the principals, and the calls a run makes for them
//! (`--dry-run` prints these).

use aws_sdk_servicecatalog::types::{ProvisioningArtifactProperties, ProvisioningArtifactType};

use crate::seed_zip::hex_sha256;
use crate::studio::STUDIO_VISIBILITY;

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
    pub(super) fn artifact_name(&self) -> String {
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

    pub(super) fn artifact(&self) -> ProvisioningArtifactProperties {
        ProvisioningArtifactProperties::builder()
            .name(self.artifact_name())
            .description(format!("sagemaker-deploy-steps {}", self.version))
            .r#type(ProvisioningArtifactType::CloudFormationTemplate)
            .info("LoadTemplateFromURL", &self.template_url)
            .build()
    }

    /// A token that is the same for the same create, and differs between creates.
    pub(super) fn token(&self, what: &str) -> String {
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
