//! `cargo xtask publish`: the platform team's last step as one command. It uploads the seed zip
//! and the product template (its `SeedBucket`/`SeedKey` defaults set by `product_template`, then
//! checked by cfn-lint) under keys that carry the version, and with `--s3-template` makes the
//! template a SageMaker project template read from S3 (`studio`), and with `--service-catalog` a
//! Service Catalog product (`catalog`).
//!
//! The flags and environment are checked once, into [`PublishOptions`] (`options`). Every step
//! is then planned before any call, so `--dry-run` prints exactly the calls a run makes; each
//! step checks before it writes, so a second run changes nothing, and what a version's keys
//! already hold is compared byte for byte, never believed (`upload`): a published version never
//! changes. The AWS calls use the binaries' SDK configuration (`deploy_shell::aws`: profiles,
//! `AWS_ENDPOINT_URL*`, retries), and a failed call names the call and the permission. Why a run
//! stops, and the exit code it ends with, is [`PublishError`].

mod options;
mod upload;

use std::fmt;
use std::path::Path;
use std::process::Command;

use deploy_shell::aws::{load_sdk_config, AwsSettings};

use crate::catalog::{self, CatalogTarget};
use crate::product_template;
use crate::publish_error::PublishError;
use crate::seed_zip::hex_sha256;
use crate::studio::{self, STUDIO_ORIGIN, STUDIO_VISIBILITY, TEMPLATES_LOCATION_TAG};
pub use options::{PublishArgs, PublishOptions};

/// One thing publish does, with the calls it makes.
#[derive(Debug, Clone)]
pub enum Step {
    Upload {
        key: String,
        body: Vec<u8>,
        content_type: &'static str,
    },
    TagTemplate {
        key: String,
    },
    StudioCors,
    DomainTag {
        domain: String,
        location: String,
    },
    ServiceCatalog(CatalogTarget),
}

/// Every step of one run, in order, and the bucket they act on.
#[derive(Debug, Clone)]
pub struct Plan {
    pub bucket: String,
    pub steps: Vec<Step>,
    pub template_url: String,
    pub seed_key: String,
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Upload { key, body, .. } => write!(
                f,
                "s3:GetObject {key} (compared byte for byte), then s3:PutObject {key} ({} bytes, sha256 {}) unless it is there; other bytes there are refused",
                body.len(),
                hex_sha256(body)
            ),
            Step::TagTemplate { key } => write!(
                f,
                "s3:PutObjectTagging {key} {}={}",
                STUDIO_VISIBILITY.0, STUDIO_VISIBILITY.1
            ),
            Step::StudioCors => write!(
                f,
                "s3:GetBucketCors, then s3:PutBucketCors adding a rule for {STUDIO_ORIGIN} unless one allows GET from it"
            ),
            Step::DomainTag { domain, location } => write!(
                f,
                "sagemaker:DescribeDomain {domain}, sagemaker:ListTags, then sagemaker:AddTags {TEMPLATES_LOCATION_TAG}={location} unless the domain has it"
            ),
            Step::ServiceCatalog(target) => write!(f, "{}", target.describe_calls().join("\n  ")),
        }
    }
}

/// Plans a run: the template edited for the uploaded zip and linted, the uploads, and the Studio
/// steps. Nothing is called yet.
pub fn plan(
    options: &PublishOptions,
    zip: &Path,
    template_source: &Path,
    work_dir: &Path,
) -> Result<Plan, PublishError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| PublishError::Io {
            path: path.to_owned(),
            source,
        })
    };
    let zip_name = format!("sagemaker-deploy-seed-{}.zip", options.version);
    if zip
        .file_name()
        .is_none_or(|name| name.to_string_lossy() != zip_name)
    {
        return Err(PublishError::BadInput(format!(
            "{} is not this version's seed zip ({zip_name}); publish the zip `cargo xtask seed-zip` built for this checkout, or leave out --zip",
            zip.display()
        )));
    }
    let seed_key = options.key(&zip_name);
    let template_key = options.key("sagemaker-project.yml");
    let source = String::from_utf8_lossy(&read(template_source)?).into_owned();
    let template = product_template::with_seed(&source, &options.bucket, &seed_key)?;
    lint(&template, work_dir)?;
    let mut steps = vec![
        Step::Upload {
            key: seed_key.clone(),
            body: read(zip)?,
            content_type: "application/zip",
        },
        Step::Upload {
            key: template_key.clone(),
            body: template.into_bytes(),
            content_type: "application/x-yaml",
        },
    ];
    if let Some(domain) = &options.studio_domain {
        steps.push(Step::TagTemplate {
            key: template_key.clone(),
        });
        steps.push(Step::StudioCors);
        steps.push(Step::DomainTag {
            domain: domain.clone(),
            location: options.templates_location(),
        });
    }
    let template_url = format!("https://{}.s3.amazonaws.com/{template_key}", options.bucket);
    if let Some(catalog) = &options.catalog {
        steps.push(Step::ServiceCatalog(CatalogTarget {
            portfolio: catalog.portfolio.clone(),
            provider: catalog.provider.clone(),
            product: catalog.product.clone(),
            version: options.version.clone(),
            template_url: template_url.clone(),
            launch_role_arn: catalog.launch_role_arn.clone(),
            principals: catalog.principals.clone(),
        }));
    }
    Ok(Plan {
        bucket: options.bucket.clone(),
        steps,
        template_url,
        seed_key,
    })
}

/// The pinned cfn-lint on the template to publish, written to `work_dir`.
fn lint(template: &str, work_dir: &Path) -> Result<(), PublishError> {
    let path = work_dir.join("sagemaker-project.yml");
    std::fs::write(&path, template).map_err(|source| PublishError::Io {
        path: path.clone(),
        source,
    })?;
    // The pinned one (scripts/pins/), so the template is checked as the tests check it.
    let cfn_lint = crate::repo_root().join(".tools/python/bin/cfn-lint");
    let output = Command::new(&cfn_lint)
        .arg(&path)
        .output()
        .map_err(|e| PublishError::NoLint(e.to_string()))?;
    if output.status.success() {
        return Ok(());
    }
    Err(PublishError::Lint {
        path,
        output: String::from_utf8_lossy(&output.stdout).into_owned(),
    })
}

/// Runs the plan's steps and says, step by step, what each did or found.
pub async fn execute(plan: &Plan, aws: &AwsSettings) -> Result<Vec<String>, PublishError> {
    let sdk_config = load_sdk_config(aws).await?;
    // Emulators and other S3-compatible endpoints given by URL take path-style requests.
    let custom_endpoint =
        sdk_config.endpoint_url().is_some() || std::env::var_os("AWS_ENDPOINT_URL_S3").is_some();
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(&sdk_config)
            .force_path_style(custom_endpoint)
            .build(),
    );
    let sagemaker = aws_sdk_sagemaker::Client::new(&sdk_config);
    let service_catalog = aws_sdk_servicecatalog::Client::new(&sdk_config);
    let bucket = plan.bucket.as_str();
    let mut done = Vec::new();
    for step in &plan.steps {
        match step {
            Step::Upload {
                key,
                body,
                content_type,
            } => done.push(upload::upload(&s3, bucket, key, body, content_type).await?),
            Step::TagTemplate { key } => done.push(studio::tag_template(&s3, bucket, key).await?),
            Step::StudioCors => done.push(studio::studio_cors(&s3, bucket).await?),
            Step::DomainTag { domain, location } => {
                done.push(studio::domain_tag(&sagemaker, domain, location).await?);
            }
            Step::ServiceCatalog(target) => {
                done.extend(catalog::publish(&service_catalog, target).await?);
            }
        }
    }
    Ok(done)
}
