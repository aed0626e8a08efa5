//! Why `cargo xtask publish` stopped, shared by the S3 and Studio steps (`publish`, `studio`) and
//! the Service Catalog steps (`catalog`), and the exit code each reason ends the run with, through
//! the binaries' exit-code contract (`deploy_core::ExitStatus`, `deploy_shell::finish::Failure`):
//! 2 for bad input, a tool or template to fix, or something already published that differs; 3
//! for an AWS call or the network that failed.

use std::path::PathBuf;

use deploy_core::ExitStatus;
use deploy_shell::aws::AwsSetupError;
use deploy_shell::finish::Failure;
use deploy_shell::AwsCallError;

use crate::product_template::TemplateEditError;

/// Why publishing failed; each message names the input, call or tool and the fix.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    #[error("{0}")]
    BadInput(String),
    #[error(transparent)]
    Template(#[from] TemplateEditError),
    #[error("cfn-lint rejected the product template to publish (kept at {}):\n{output}\nfix templates/sagemaker-project.yml; nothing was uploaded", path.display())]
    Lint { path: PathBuf, output: String },
    #[error("the pinned cfn-lint could not run ({0}); install the pinned tools with `bash scripts/ensure-tools.sh` and run again; nothing was uploaded")]
    NoLint(String),
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(transparent)]
    Conflict(Box<Conflict>),
    #[error("could not read s3://{bucket}/{key} (s3:GetObject) to compare it with this build's bytes: {reason}; check the network and run again (nothing was written to it)")]
    ReadBack {
        bucket: String,
        key: String,
        reason: String,
    },
    #[error(transparent)]
    Setup(#[from] AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl From<Conflict> for PublishError {
    fn from(conflict: Conflict) -> Self {
        PublishError::Conflict(Box::new(conflict))
    }
}

impl Failure for PublishError {
    /// Bad input (2) when the run refused its input, its tools or template, or what it found
    /// already published; an AWS error (3) when a call failed (the credentials rule of the
    /// binaries included: [`AwsCallError::exit_status`]).
    fn exit_status(&self) -> ExitStatus {
        match self {
            PublishError::Aws(err) => err.exit_status(),
            PublishError::ReadBack { .. } => ExitStatus::AwsError,
            PublishError::BadInput(_)
            | PublishError::Template(_)
            | PublishError::Lint { .. }
            | PublishError::NoLint(_)
            | PublishError::Io { .. }
            | PublishError::Conflict(_)
            | PublishError::Setup(_) => ExitStatus::BadInput,
        }
    }
}

/// Something already published under this version that differs from what this run would
/// publish. A published version never changes, so the run stops there and writes nothing more.
#[derive(Debug, thiserror::Error)]
pub enum Conflict {
    #[error("s3://{bucket}/{key} already holds other bytes than this build's (stored: {stored}; this build: {len} bytes, sha256 {sha256}){claim}; a published version never changes, so raise the workspace version before publishing again, or, if nothing uses this version yet, delete the objects under s3://{bucket}/{folder}/ and find out who else can write to the bucket")]
    Object {
        bucket: String,
        key: String,
        /// What GetObject returned: its size, and its sha256 when it was read whole.
        stored: String,
        len: usize,
        sha256: String,
        /// Says so when the object's metadata claims this build's sha256 (it is not checked by S3).
        claim: String,
        /// The version's folder, `<prefix>/<version>`.
        folder: String,
    },
    #[error("Service Catalog product {product} already has an artifact {artifact} ({artifact_id}) registered with {there}, while this run registers the template URL {wanted}; a published version never changes, so publish again with the --bucket and --prefix version {version} was published with, or raise the workspace version, or, if nothing was provisioned from it, delete it (aws servicecatalog delete-provisioning-artifact --product-id {product_id} --provisioning-artifact-id {artifact_id}) and run again")]
    Artifact {
        product: String,
        product_id: String,
        artifact: String,
        artifact_id: String,
        /// The template URL the artifact was registered with, or what it has instead.
        there: String,
        wanted: String,
        version: String,
    },
    #[error("Service Catalog product {product} already has a launch constraint ({constraint_id}) in portfolio {portfolio} that launches with {there}, not with the role {wanted} this run names (--launch-role-arn); if that role is the right one, pass it as --launch-role-arn, otherwise delete the constraint (aws servicecatalog delete-constraint --id {constraint_id}) and run again")]
    LaunchConstraint {
        product: String,
        portfolio: String,
        constraint_id: String,
        /// The role the constraint names, or its parameters when they name none.
        there: String,
        wanted: String,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_exit_2_and_failed_calls_exit_3() {
        let conflict = PublishError::from(Conflict::LaunchConstraint {
            product: "p".into(),
            portfolio: "f".into(),
            constraint_id: "c".into(),
            there: "the role a".into(),
            wanted: "b".into(),
        });
        for refusal in [
            PublishError::BadInput("bad".into()),
            PublishError::NoLint("missing".into()),
            PublishError::Setup(AwsSetupError::MissingRegion),
            conflict,
        ] {
            assert_eq!(refusal.exit_status(), ExitStatus::BadInput, "{refusal}");
        }
        for failure in [
            PublishError::Aws(AwsCallError::incomplete("s3:GetObject", "a body")),
            PublishError::ReadBack {
                bucket: "b".into(),
                key: "k".into(),
                reason: "reset".into(),
            },
        ] {
            assert_eq!(failure.exit_status(), ExitStatus::AwsError, "{failure}");
        }
    }
}
