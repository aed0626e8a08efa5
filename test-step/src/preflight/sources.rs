//! What the exported package's model reads (its artifacts, their bucket's key, its image) and
//! the resources' policies, read once per run with the pipeline's own credentials: the
//! `model-artifacts` and `model-image` checks judge every target's execution role against them.

use std::collections::BTreeMap;

use aws_config::SdkConfig;
use deploy_core::model_source::{Artifact, Image};
use deploy_shell::AwsCallError;

/// A resource policy as the pipeline's role could read it.
#[derive(Debug, Clone)]
pub(super) enum PolicyRead {
    Found(String),
    /// The resource has no policy of its own.
    None,
    /// Why it could not be read (denied, or the call failed).
    Unreadable(String),
}

impl PolicyRead {
    fn of<T>(
        read: Result<T, AwsCallError>,
        absent_code: &str,
        policy: impl FnOnce(T) -> Option<String>,
    ) -> Self {
        match read {
            Ok(out) => policy(out).map_or(PolicyRead::None, PolicyRead::Found),
            Err(err) if err.code() == Some(absent_code) => PolicyRead::None,
            Err(err) => PolicyRead::Unreadable(err.to_string()),
        }
    }
}

/// A resource the execution role must reach, and what it takes.
#[derive(Debug, Clone)]
pub(super) struct Resource {
    /// What people call it (`s3://bucket/key`, the image URI, the key ARN).
    pub(super) label: String,
    pub(super) arn: String,
    pub(super) actions: Vec<&'static str>,
    pub(super) policy: PolicyRead,
    /// The owning account's id, when known.
    pub(super) owner: Option<String>,
    /// Where a grant is missing, what to change.
    pub(super) fix: &'static str,
}

/// What the exported package's model reads, with the resources' policies, read once per run
/// with the pipeline's own credentials.
pub(crate) struct ModelSources {
    /// Why the package could not be described; the artifact and image checks are skipped.
    pub(super) unreadable: Option<String>,
    pub(super) artifacts: Vec<Resource>,
    pub(super) images: Vec<Resource>,
    /// Images that are not in ECR (nothing of the account's IAM decides access to them).
    pub(super) other_images: Vec<String>,
}

impl ModelSources {
    /// DescribeModelPackage, then each artifact bucket's policy and default encryption key, and
    /// each image repository's policy. A read that fails leaves that policy unknown (the check of
    /// a resource of another account is then skipped with the reason), never the run. Key
    /// policies are not read: the KMS SDK would take test-step over its size budget, so a key of
    /// another account is skipped, saying which grant to check.
    pub(crate) async fn read(sdk_config: &SdkConfig, partition: &str, package: &str) -> Self {
        let sagemaker = aws_sdk_sagemaker::Client::new(sdk_config);
        let described = sagemaker
            .describe_model_package()
            .model_package_name(package)
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:DescribeModelPackage", e));
        let described = match described {
            Ok(out) => out,
            Err(err) => {
                tracing::warn!("preflight cannot read the model package: {err}");
                return Self {
                    unreadable: Some(format!(
                        "the model package {package} could not be described with the pipeline's role ({err})"
                    )),
                    artifacts: Vec::new(),
                    images: Vec::new(),
                    other_images: Vec::new(),
                };
            }
        };
        let package_account = package.split(':').nth(4).unwrap_or_default();
        let containers = described
            .inference_specification()
            .map(aws_sdk_sagemaker::types::InferenceSpecification::containers)
            .unwrap_or_default();
        // Emulators and other S3-compatible endpoints given by URL take path-style requests.
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(sdk_config)
                .force_path_style(sdk_config.endpoint_url().is_some())
                .build(),
        );
        let mut artifacts = Vec::new();
        let mut buckets: BTreeMap<String, (PolicyRead, Option<String>)> = BTreeMap::new();
        let urls = containers.iter().filter_map(|c| {
            c.model_data_url().or_else(|| {
                c.model_data_source()
                    .and_then(|s| s.s3_data_source())
                    .and_then(|s| s.s3_uri())
            })
        });
        for url in urls {
            let Some(artifact) = Artifact::parse(url) else {
                continue;
            };
            if !buckets.contains_key(&artifact.bucket) {
                let policy = PolicyRead::of(
                    s3.get_bucket_policy()
                        .bucket(&artifact.bucket)
                        .send()
                        .await
                        .map_err(|e| AwsCallError::new("s3:GetBucketPolicy", e)),
                    "NoSuchBucketPolicy",
                    |out| out.policy().map(str::to_owned),
                );
                let key = bucket_key(&s3, &artifact.bucket, partition, package).await;
                buckets.insert(artifact.bucket.clone(), (policy, key));
            }
            let (policy, key) = buckets[&artifact.bucket].clone();
            // A bucket whose policy the pipeline's role read is taken to be its account's.
            let owner =
                (!matches!(policy, PolicyRead::Unreadable(_))).then(|| package_account.to_owned());
            artifacts.push(Resource {
                label: url.to_owned(),
                arn: artifact.object_arn(partition),
                actions: vec!["s3:GetObject"],
                policy,
                owner,
                fix: "allow it in the execution role's policy (the role template's ModelArtifactBucketArn and ModelArtifactKeyPrefix) and, for a bucket of another account, in the bucket policy for this account",
            });
            if let Some(key) = key {
                let owner = key.split(':').nth(4).map(str::to_owned);
                artifacts.push(Resource {
                    label: key.clone(),
                    policy: PolicyRead::Unreadable(format!(
                        "test-step reads no KMS key policy; check that the policy of key {key} grants this account kms:Decrypt"
                    )),
                    arn: key,
                    actions: vec!["kms:Decrypt"],
                    owner,
                    fix: "allow kms:Decrypt in the execution role's policy (the role template's ModelArtifactKmsKeyArn) and in the key policy for this account",
                });
            }
        }
        let mut images = Vec::new();
        let mut other_images = Vec::new();
        let mut repositories: BTreeMap<String, PolicyRead> = BTreeMap::new();
        for uri in containers.iter().filter_map(|c| c.image()) {
            let Some(image) = Image::parse(uri) else {
                other_images.push(uri.to_owned());
                continue;
            };
            let arn = image.repository_arn(partition);
            if !repositories.contains_key(&arn) {
                let policy = repository_policy(sdk_config, &image).await;
                repositories.insert(arn.clone(), policy);
            }
            let policy = repositories[&arn].clone();
            images.push(Resource {
                label: uri.to_owned(),
                arn: image.repository_arn(partition),
                actions: vec!["ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                policy,
                owner: Some(image.account_id.clone()),
                fix: "allow it in the execution role's policy (the role template's ModelImageRepositoryArns) and, for a repository of another account, in the repository policy for this account",
            });
        }
        Self {
            unreadable: None,
            artifacts,
            images,
            other_images,
        }
    }
}

/// The policy of the ECR repository `image` comes from, read in the image's Region and registry
/// (<https://docs.aws.amazon.com/AmazonECR/latest/APIReference/API_GetRepositoryPolicy.html>): a
/// repository without one grants no other account anything.
async fn repository_policy(sdk_config: &SdkConfig, image: &Image) -> PolicyRead {
    let ecr = aws_sdk_ecr::Client::from_conf(
        aws_sdk_ecr::config::Builder::from(sdk_config)
            .region(aws_sdk_ecr::config::Region::new(image.region.clone()))
            .build(),
    );
    PolicyRead::of(
        ecr.get_repository_policy()
            .registry_id(&image.account_id)
            .repository_name(&image.repository)
            .send()
            .await
            .map_err(|e| AwsCallError::new("ecr:GetRepositoryPolicy", e)),
        "RepositoryPolicyNotFoundException",
        |out| out.policy_text().map(str::to_owned),
    )
}

/// The KMS key a bucket encrypts new objects with by default, as an ARN; `None` when it uses
/// S3's own keys or its encryption could not be read (logged).
async fn bucket_key(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    partition: &str,
    package: &str,
) -> Option<String> {
    let encryption = s3
        .get_bucket_encryption()
        .bucket(bucket)
        .send()
        .await
        .map_err(|e| AwsCallError::new("s3:GetEncryptionConfiguration", e));
    let out = match encryption {
        Ok(out) => out,
        Err(err) => {
            if err.code() != Some("ServerSideEncryptionConfigurationNotFoundError") {
                tracing::warn!(
                    "preflight cannot read the default encryption of bucket {bucket}: {err}"
                );
            }
            return None;
        }
    };
    let key = out
        .server_side_encryption_configuration()?
        .rules()
        .iter()
        .filter_map(|rule| rule.apply_server_side_encryption_by_default())
        .find(|default| default.sse_algorithm().as_str().starts_with("aws:kms"))?
        .kms_master_key_id()?
        .to_owned();
    if key.starts_with("arn:") {
        return Some(key);
    }
    // A key id alone is a key of the bucket's account and Region: the package's.
    let mut parts = package.split(':');
    let (region, account) = (parts.nth(3)?, parts.next()?);
    Some(format!("arn:{partition}:kms:{region}:{account}:key/{key}"))
}
