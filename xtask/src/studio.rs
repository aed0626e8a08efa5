//! What makes a published template a SageMaker project template in Studio
//! (<https://docs.aws.amazon.com/sagemaker/latest/dg/sagemaker-projects-templates-custom.html>):
//! the `sagemaker:studio-visibility` tag (on the S3 object as on a Service Catalog product), the
//! bucket's CORS rule for Studio's origin, and the domain tagged with where Studio reads the
//! templates from. Each step reads before it writes, so a second run changes nothing.

use aws_sdk_s3::types::{CorsConfiguration, CorsRule, Tag, Tagging};
use deploy_shell::AwsCallError;

use crate::publish_error::PublishError;

/// The tag that makes a template visible in Studio, on the S3 object as on a Service Catalog
/// product.
pub(crate) const STUDIO_VISIBILITY: (&str, &str) = ("sagemaker:studio-visibility", "true");
/// The domain tag naming where Studio reads project templates from.
pub(crate) const TEMPLATES_LOCATION_TAG: &str = "sagemaker:projectS3TemplatesLocation";
/// The origin Studio's browser requests come from; the bucket's CORS rule must allow it. The rule
/// follows the S3 project template samples
/// (<https://github.com/aws-samples/sagemaker-custom-project-templates>, `s3_templates`).
pub(crate) const STUDIO_ORIGIN: &str = "https://*.sagemaker.aws";
const STUDIO_METHODS: [&str; 5] = ["GET", "HEAD", "PUT", "POST", "DELETE"];
const STUDIO_EXPOSE_HEADERS: [&str; 6] = [
    "ETag",
    "x-amz-delete-marker",
    "x-amz-id-2",
    "x-amz-request-id",
    "x-amz-server-side-encryption",
    "x-amz-version-id",
];

/// Tags the template's object for Studio.
pub(crate) async fn tag_template(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<String, PublishError> {
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
    Ok(format!(
        "tagged s3://{bucket}/{key} {}={}",
        STUDIO_VISIBILITY.0, STUDIO_VISIBILITY.1
    ))
}

/// Keeps the bucket's CORS rules and adds Studio's when none allows GET from its origin.
pub(crate) async fn studio_cors(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
) -> Result<String, PublishError> {
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
pub(crate) async fn domain_tag(
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
