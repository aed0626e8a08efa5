//! The model package being deployed, as the template, the stage plans and the summary see it:
//! plain data, filled in by build-step's registry search from DescribeModelPackage.

use serde::Serialize;

/// The model package being deployed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ModelPackage {
    pub arn: String,
    pub group: String,
    pub version: Option<i32>,
    pub approval_status: String,
    pub created: Option<String>,
    pub last_modified: Option<String>,
    /// Instance types the package declares for real-time inference (may be empty).
    #[serde(skip)]
    pub realtime_instance_types: Vec<String>,
}

/// SageMaker's approval status of a deployable package.
pub const APPROVED: &str = "Approved";

impl ModelPackage {
    /// Stands in for the package while everything local is checked, before any AWS call: every
    /// rule that does not depend on the real package then fails before the first request.
    pub fn placeholder(group: &str) -> Self {
        Self {
            arn: format!("arn:aws:sagemaker:::model-package/{group}/0"),
            group: group.to_owned(),
            version: None,
            approval_status: APPROVED.to_owned(),
            created: None,
            last_modified: None,
            realtime_instance_types: Vec::new(),
        }
    }
}
