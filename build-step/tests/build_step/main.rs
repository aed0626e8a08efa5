//! `build-step` as CodeBuild runs it: the real binary, env vars named as the seed's CodeBuild
//! project sets them, against a real moto_server. One test binary for the crate.

mod accounts;
mod cli;
mod deploy_needed;
mod errors;
mod faults;
mod hostile;
mod pipeline_run;
mod render;
mod scale;
mod search;
mod secrets;

use test_support::seed::GroupSeed;
use test_support::workspace::model_package_name;
use test_support::{moto, Cli};

pub const BIN: &str = env!("CARGO_BIN_EXE_build-step");
pub const SEED_STAGING: &str = include_str!("../../../seed-repo/staging-config.json");
pub const SEED_PROD: &str = include_str!("../../../seed-repo/prod-config.json");

/// A working directory holding the seed's stage configs, as the checked-out repo does: the
/// shared [`test_support::workspace::Workspace`] (write, read, file, files) and the group it builds.
pub struct Workspace {
    dir: test_support::workspace::Workspace,
    pub group: String,
}

impl std::ops::Deref for Workspace {
    type Target = test_support::workspace::Workspace;

    fn deref(&self) -> &Self::Target {
        &self.dir
    }
}

impl Workspace {
    pub fn new(group: &str) -> Self {
        let dir = test_support::workspace::Workspace::new();
        dir.write("staging-config.json", SEED_STAGING)
            .write("prod-config.json", SEED_PROD);
        Self {
            dir,
            group: group.to_owned(),
        }
    }

    /// The package the staging parameter file build-step wrote names.
    pub fn exported_package(&self) -> String {
        model_package_name(&self.file("staging-config-export.json"))
    }

    /// `build-step` with the CodeBuild project's environment for this workspace's group.
    pub fn build_step(&self) -> Cli {
        Cli::new(BIN, &self.path, moto()).envs([
            ("SOURCE_MODEL_PACKAGE_GROUP_NAME", self.group.as_str()),
            ("SAGEMAKER_PROJECT_NAME", "churn"),
            ("SAGEMAKER_PROJECT_ID", "p-abc123"),
            ("ARTIFACT_BUCKET", "sagemaker-project-p-abc123"),
            (
                "SAGEMAKER_EXECUTION_ROLE_STAGING_NAME",
                "sagemaker-role-staging",
            ),
            ("SAGEMAKER_EXECUTION_ROLE_PROD_NAME", "sagemaker-role-prod"),
            ("EXPORT_TEMPLATE_NAME", "template-export.yml"),
            ("EXPORT_TEMPLATE_PROD_NAME", "prod-template-export.yml"),
            (
                "EXPORT_TEMPLATE_STAGING_CONFIG",
                "staging-config-export.json",
            ),
            ("EXPORT_TEMPLATE_PROD_CONFIG", "prod-config-export.json"),
        ])
    }
}

pub const INPUTS: [&str; 2] = ["prod-config.json", "staging-config.json"];
pub const OUTPUTS: [&str; 4] = [
    "prod-config-export.json",
    "prod-template-export.yml",
    "staging-config-export.json",
    "template-export.yml",
];

/// A group with one Approved package; returns the group seed and the package ARN.
pub async fn group_with_one_approved(name: &str) -> (GroupSeed, String) {
    let group = GroupSeed::create(moto(), name).await;
    let arn = group
        .add_package(Some(
            aws_sdk_sagemaker::types::ModelApprovalStatus::Approved,
        ))
        .await;
    (group, arn)
}
