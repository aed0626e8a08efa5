//! `cargo xtask publish`: the platform team's last step as one command. It uploads the seed zip
//! and the product template (its `SeedBucket`/`SeedKey` defaults set by `product_template`, then
//! checked by cfn-lint) under keys that carry the version, and with `--s3-template` makes the
//! template a SageMaker project template read from S3: the object tagged
//! `sagemaker:studio-visibility=true`, the bucket's CORS rule for Studio, and the Studio domain
//! tagged `sagemaker:projectS3TemplatesLocation`
//! (<https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-projects-templates-custom.html>),
//! and with `--service-catalog` a Service Catalog product (`catalog`).
//! Every step is planned before any call, so `--dry-run` prints exactly the calls a run makes;
//! each step checks before it writes, so a second run changes nothing: an object already under a
//! version's key is read back (GetObject) and compared byte for byte with what this run would
//! upload, left alone when it is the same and refused ([`Conflict`], exit 2) when it is not,
//! since a published version never changes. Nothing stored is taken on trust: the object's
//! user metadata is whatever its writer sent, and the zip is reproducible, so anyone who can
//! write to the bucket first could plant other bytes under this build's hash. The
//! AWS calls use the binaries' SDK configuration (`deploy_shell::aws`: profiles,
//! `AWS_ENDPOINT_URL*`, retries), and a failed call names the call and the permission.

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::process::Command;

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{CorsConfiguration, CorsRule, Tag, Tagging};
use deploy_shell::aws::{load_sdk_config, AwsArgs, AwsSettings};
use deploy_shell::AwsCallError;
use sha2::{Digest, Sha256};

use crate::catalog::{self, CatalogTarget};
use crate::product_template::{self, TemplateEditError};
use crate::seed_zip::hex_sha256;

/// The tag that makes a template visible in Studio, on the S3 object as on a Service Catalog
/// product.
pub const STUDIO_VISIBILITY: (&str, &str) = ("sagemaker:studio-visibility", "true");
/// The domain tag naming where Studio reads project templates from.
pub const TEMPLATES_LOCATION_TAG: &str = "sagemaker:projectS3TemplatesLocation";
/// The origin Studio's browser requests come from; the bucket's CORS rule must allow it. The rule
/// follows the S3 project template samples
/// (<https://github.com/aws-samples/sagemaker-custom-project-templates>, `s3_templates`).
pub const STUDIO_ORIGIN: &str = "https://*.sagemaker.aws";
const STUDIO_METHODS: [&str; 5] = ["GET", "HEAD", "PUT", "POST", "DELETE"];
const STUDIO_EXPOSE_HEADERS: [&str; 6] = [
    "ETag",
    "x-amz-delete-marker",
    "x-amz-id-2",
    "x-amz-request-id",
    "x-amz-server-side-encryption",
    "x-amz-version-id",
];

/// What to publish and where, checked.
#[derive(Debug, Clone)]
pub struct PublishOptions {
    pub bucket: String,
    /// Key prefix without leading or trailing slashes (may be empty).
    pub prefix: String,
    pub version: String,
    /// `--s3-template --domain-id D`: the Studio domain to point at the template.
    pub studio_domain: Option<String>,
    /// `--service-catalog`: the portfolio, product and roles the product goes into.
    pub catalog: Option<CatalogOptions>,
    pub dry_run: bool,
    pub aws: AwsArgs,
}

/// Where in Service Catalog the product goes.
#[derive(Debug, Clone)]
pub struct CatalogOptions {
    pub portfolio: String,
    pub provider: String,
    pub product: String,
    pub launch_role_arn: String,
    pub principals: Vec<String>,
}

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
    Setup(#[from] deploy_shell::aws::AwsSetupError),
    #[error(transparent)]
    Aws(#[from] AwsCallError),
}

impl From<Conflict> for PublishError {
    fn from(conflict: Conflict) -> Self {
        PublishError::Conflict(Box::new(conflict))
    }
}

impl PublishError {
    /// True when the run refused its input or what it found already published (exit 2), rather
    /// than failing on a call (exit 3).
    pub fn is_refusal(&self) -> bool {
        matches!(self, PublishError::BadInput(_) | PublishError::Conflict(_))
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

impl PublishOptions {
    /// Checks the bucket and prefix as S3 names them.
    pub fn new(
        bucket: &str,
        prefix: &str,
        version: &str,
        studio_domain: Option<String>,
        catalog: Option<CatalogOptions>,
        dry_run: bool,
        aws: AwsArgs,
    ) -> Result<Self, PublishError> {
        let bucket_ok = (3..=63).contains(&bucket.len())
            && bucket
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && !bucket.starts_with(['.', '-'])
            && !bucket.ends_with(['.', '-']);
        if !bucket_ok {
            return Err(PublishError::BadInput(format!(
                "--bucket {bucket:?} is not a bucket publish can use: 3 to 63 lowercase letters, digits and hyphens, starting and ending with a letter or digit (no dots: the template's https://<bucket>.s3.amazonaws.com URL would not match S3's certificate); give the bucket the launch role can read"
            )));
        }
        let prefix = prefix.trim_matches('/');
        if prefix.split('/').any(|part| part == "." || part == "..")
            || prefix.contains("//")
            || !prefix
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"._/-".contains(&b))
        {
            return Err(PublishError::BadInput(format!(
                "--prefix {prefix:?} is not a plain key prefix; use letters, digits, . _ - and / between names, such as sagemaker-deploy-steps"
            )));
        }
        if let Some(domain) = &studio_domain {
            if !domain.starts_with("d-") || domain.len() < 3 {
                return Err(PublishError::BadInput(format!(
                    "--domain-id {domain:?} is not a SageMaker domain id (d-...); find it with aws sagemaker list-domains"
                )));
            }
        }
        if let Some(catalog) = &catalog {
            let role = |arn: &str| {
                arn.starts_with("arn:aws")
                    && arn.split(':').nth(2) == Some("iam")
                    && arn.contains(":role/")
            };
            if !role(&catalog.launch_role_arn) {
                return Err(PublishError::BadInput(format!(
                    "--launch-role-arn {:?} is not an IAM role ARN; give the launch role's ARN, such as arn:aws:iam::111111111111:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole",
                    catalog.launch_role_arn
                )));
            }
            if catalog.principals.is_empty() {
                return Err(PublishError::BadInput(
                    "--service-catalog needs at least one --principal-arn: the role Studio users work as (the domain's execution role), so they see the product".to_owned(),
                ));
            }
            if let Some(bad) = catalog
                .principals
                .iter()
                .find(|arn| !arn.starts_with("arn:aws"))
            {
                return Err(PublishError::BadInput(format!(
                    "--principal-arn {bad:?} is not an IAM ARN; give the Studio execution role's ARN"
                )));
            }
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            version: version.to_owned(),
            studio_domain,
            catalog,
            dry_run,
            aws,
        })
    }

    /// `<prefix>/<version>/<name>`.
    fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            format!("{}/{name}", self.version)
        } else {
            format!("{}/{}/{name}", self.prefix, self.version)
        }
    }

    /// Where Studio reads this version's templates from.
    fn templates_location(&self) -> String {
        let key = self.key("");
        format!("s3://{}/{key}", self.bucket)
    }
}

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
pub async fn execute(plan: &Plan, aws: &AwsArgs) -> Result<Vec<String>, PublishError> {
    let settings = AwsSettings::from_env(aws)?;
    let sdk_config = load_sdk_config(&settings).await?;
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
        if let Step::ServiceCatalog(target) = step {
            done.extend(catalog::publish(&service_catalog, target).await?);
            continue;
        }
        done.push(match step {
            Step::Upload {
                key,
                body,
                content_type,
            } => upload(&s3, bucket, key, body, content_type).await?,
            Step::TagTemplate { key } => {
                let tag = Tag::builder()
                    .key(STUDIO_VISIBILITY.0)
                    .value(STUDIO_VISIBILITY.1)
                    .build()
                    .expect("invariant: key and value are set");
                s3.put_object_tagging()
                    .bucket(bucket)
                    .key(key)
                    .tagging(
                        Tagging::builder()
                            .tag_set(tag)
                            .build()
                            .expect("invariant: the tag set is set"),
                    )
                    .send()
                    .await
                    .map_err(|e| AwsCallError::new("s3:PutObjectTagging", e))?;
                format!(
                    "tagged s3://{bucket}/{key} {}={}",
                    STUDIO_VISIBILITY.0, STUDIO_VISIBILITY.1
                )
            }
            Step::StudioCors => studio_cors(&s3, bucket).await?,
            Step::DomainTag { domain, location } => {
                domain_tag(&sagemaker, domain, location).await?
            }
            Step::ServiceCatalog(_) => unreachable!("handled above"),
        });
    }
    Ok(done)
}

/// The object metadata key holding the uploaded bytes' sha256: informative only, never trusted
/// when deciding whether an object holds this build's bytes (any writer can set it).
const SHA256_METADATA: &str = "sha256";

/// What a version's key holds, as S3 returns it.
enum Stored {
    Missing,
    Same,
    /// Other bytes: their size, and their sha256 when they were read whole.
    Other(String),
}

/// Uploads `body` to `key` unless the object is there with the same bytes; a version's keys never
/// take other bytes, so what a provisioning artifact points at stays what it was published with.
async fn upload(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
    content_type: &str,
) -> Result<String, PublishError> {
    let sha256 = hex_sha256(body);
    match stored(s3, bucket, key, body).await? {
        (Stored::Missing, _) => {}
        (Stored::Same, _) => {
            return Ok(format!(
                "found s3://{bucket}/{key} (the same {} bytes)",
                body.len()
            ))
        }
        (Stored::Other(stored), claimed) => {
            let claim = if claimed.as_deref() == Some(sha256.as_str()) {
                " although its sha256 metadata claims this build's hash".to_owned()
            } else {
                String::new()
            };
            return Err(Conflict::Object {
                bucket: bucket.to_owned(),
                key: key.to_owned(),
                stored,
                len: body.len(),
                sha256,
                claim,
                folder: key
                    .rsplit_once('/')
                    .map_or("", |(folder, _)| folder)
                    .to_owned(),
            }
            .into());
        }
    }
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type(content_type)
        .metadata(SHA256_METADATA, &sha256)
        .body(ByteStream::from(body.to_vec()))
        .send()
        .await
        .map_err(|e| AwsCallError::new("s3:PutObject", e))?;
    Ok(format!(
        "uploaded s3://{bucket}/{key} ({} bytes)",
        body.len()
    ))
}

/// Reads back what `key` holds (GetObject) and compares it byte for byte with `body`; also returns
/// the object's `sha256` metadata, for the message only. The read stops as soon as the object is
/// longer than `body`, so a large object planted there is never held in memory. S3 answers 404
/// for a missing key when the caller may list the bucket
/// (<https://docs.aws.amazon.com/AmazonS3/latest/API/API_GetObject.html>, "Permissions").
async fn stored(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    body: &[u8],
) -> Result<(Stored, Option<String>), PublishError> {
    let object = match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(object) => object,
        Err(err)
            if err
                .raw_response()
                .is_some_and(|r| r.status().as_u16() == 404) =>
        {
            return Ok((Stored::Missing, None))
        }
        Err(err) => return Err(AwsCallError::new("s3:GetObject", err).into()),
    };
    let claimed = object
        .metadata()
        .and_then(|m| m.get(SHA256_METADATA))
        .cloned();
    if let Some(length) = object
        .content_length()
        .filter(|&n| u64::try_from(n).ok() != Some(body.len() as u64))
    {
        return Ok((Stored::Other(format!("{length} bytes")), claimed));
    }
    let mut stream = object.body;
    let mut hasher = Sha256::new();
    let mut read = 0usize;
    let mut same = true;
    loop {
        let chunk = match stream.try_next().await {
            Ok(Some(chunk)) => chunk,
            Ok(None) => break,
            Err(err) => {
                return Err(PublishError::ReadBack {
                    bucket: bucket.to_owned(),
                    key: key.to_owned(),
                    reason: err.to_string(),
                })
            }
        };
        let end = read + chunk.len();
        let Some(expected) = body.get(read..end) else {
            return Ok((
                Stored::Other(format!("more than {} bytes", body.len())),
                claimed,
            ));
        };
        same &= expected == &chunk[..];
        hasher.update(&chunk);
        read = end;
    }
    if same && read == body.len() {
        return Ok((Stored::Same, claimed));
    }
    let digest = hasher
        .finalize()
        .iter()
        .fold(String::with_capacity(64), |mut hex, byte| {
            let _ = write!(hex, "{byte:02x}");
            hex
        });
    Ok((
        Stored::Other(format!("{read} bytes, sha256 {digest}")),
        claimed,
    ))
}

/// Keeps the bucket's CORS rules and adds Studio's when none allows GET from its origin.
async fn studio_cors(s3: &aws_sdk_s3::Client, bucket: &str) -> Result<String, PublishError> {
    let mut rules: Vec<CorsRule> = match s3.get_bucket_cors().bucket(bucket).send().await {
        Ok(out) => out.cors_rules().to_vec(),
        Err(err)
            if err.as_service_error().and_then(|e| e.meta().code())
                == Some("NoSuchCORSConfiguration") =>
        {
            Vec::new()
        }
        Err(err) => return Err(AwsCallError::new("s3:GetBucketCors", err).into()),
    };
    let allows_studio = rules.iter().any(|rule| {
        rule.allowed_origins().iter().any(|o| o == STUDIO_ORIGIN)
            && rule.allowed_methods().iter().any(|m| m == "GET")
    });
    if allows_studio {
        return Ok(format!("found a CORS rule on {bucket} for {STUDIO_ORIGIN}"));
    }
    let mut rule = CorsRule::builder()
        .allowed_origins(STUDIO_ORIGIN)
        .allowed_headers("*");
    for method in STUDIO_METHODS {
        rule = rule.allowed_methods(method);
    }
    for header in STUDIO_EXPOSE_HEADERS {
        rule = rule.expose_headers(header);
    }
    rules.push(
        rule.build()
            .expect("invariant: origins and methods are set"),
    );
    s3.put_bucket_cors()
        .bucket(bucket)
        .cors_configuration(
            CorsConfiguration::builder()
                .set_cors_rules(Some(rules))
                .build()
                .expect("invariant: the rules are set"),
        )
        .send()
        .await
        .map_err(|e| AwsCallError::new("s3:PutBucketCors", e))?;
    Ok(format!("added a CORS rule on {bucket} for {STUDIO_ORIGIN}"))
}

/// Tags the domain with the templates' location unless it already has that value.
async fn domain_tag(
    sagemaker: &aws_sdk_sagemaker::Client,
    domain: &str,
    location: &str,
) -> Result<String, PublishError> {
    let described = sagemaker
        .describe_domain()
        .domain_id(domain)
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:DescribeDomain", e))?;
    let arn = described.domain_arn().unwrap_or_default().to_owned();
    let tags = sagemaker
        .list_tags()
        .resource_arn(&arn)
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:ListTags", e))?;
    let current = tags
        .tags()
        .iter()
        .find(|t| t.key() == Some(TEMPLATES_LOCATION_TAG))
        .and_then(|t| t.value().map(str::to_owned));
    if current.as_deref() == Some(location) {
        return Ok(format!(
            "found {TEMPLATES_LOCATION_TAG}={location} on domain {domain}"
        ));
    }
    sagemaker
        .add_tags()
        .resource_arn(&arn)
        .tags(
            aws_sdk_sagemaker::types::Tag::builder()
                .key(TEMPLATES_LOCATION_TAG)
                .value(location)
                .build(),
        )
        .send()
        .await
        .map_err(|e| AwsCallError::new("sagemaker:AddTags", e))?;
    Ok(match current {
        Some(old) => {
            format!("retagged domain {domain}: {TEMPLATES_LOCATION_TAG}={location} (was {old})")
        }
        None => format!("tagged domain {domain} {TEMPLATES_LOCATION_TAG}={location}"),
    })
}
