//! Where a model package's artifacts and image live, as the ARNs IAM judges access to: an
//! `s3://bucket/key` model data URL is the object `arn:<partition>:s3:::bucket/key` in bucket
//! `bucket`; an ECR image `<account>.dkr.ecr.<region>.amazonaws.com[.cn]/<repository>[:tag|@digest]`
//! is the repository `arn:<partition>:ecr:<region>:<account>:repository/<repository>`
//! (<https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazons3.html>,
//! <https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticcontainerregistry.html>).

/// A model artifact in S3.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Artifact {
    pub bucket: String,
    pub key: String,
}

impl Artifact {
    /// The object of an `s3://bucket/key` URL; `None` for anything else.
    pub fn parse(url: &str) -> Option<Self> {
        let rest = url.strip_prefix("s3://")?;
        let (bucket, key) = rest.split_once('/').unwrap_or((rest, ""));
        (!bucket.is_empty()).then(|| Self {
            bucket: bucket.to_owned(),
            key: key.to_owned(),
        })
    }

    pub fn object_arn(&self, partition: &str) -> String {
        format!("arn:{partition}:s3:::{}/{}", self.bucket, self.key)
    }
}

/// An image in an ECR repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    pub account_id: String,
    pub region: String,
    pub repository: String,
}

impl Image {
    /// The repository of an ECR image URI; `None` for an image from another registry.
    pub fn parse(uri: &str) -> Option<Self> {
        let (host, path) = uri.split_once('/')?;
        let mut parts = host.split('.');
        let account_id = parts.next()?;
        if parts.next()? != "dkr" || parts.next()? != "ecr" {
            return None;
        }
        let region = parts.next()?;
        let repository = path.split_once('@').map_or(path, |(name, _)| name);
        let repository = match repository.rsplit_once(':') {
            Some((name, tag)) if !tag.contains('/') => name,
            _ => repository,
        };
        let valid = account_id.len() == 12
            && account_id.bytes().all(|b| b.is_ascii_digit())
            && !region.is_empty()
            && !repository.is_empty();
        valid.then(|| Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            repository: repository.to_owned(),
        })
    }

    pub fn repository_arn(&self, partition: &str) -> String {
        format!(
            "arn:{partition}:ecr:{}:{}:repository/{}",
            self.region, self.account_id, self.repository
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_url_is_an_object_arn() {
        let artifact = Artifact::parse("s3://demo-artifacts/churn/model.tar.gz").unwrap();
        assert_eq!(artifact.bucket, "demo-artifacts");
        assert_eq!(
            artifact.object_arn("aws"),
            "arn:aws:s3:::demo-artifacts/churn/model.tar.gz"
        );
        assert_eq!(Artifact::parse("https://x/y"), None);
        assert_eq!(Artifact::parse("s3:///key"), None);
    }

    #[test]
    fn an_ecr_image_is_its_repository_whatever_the_tag_or_digest() {
        for uri in [
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/churn:1.2",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/churn@sha256:abc",
            "111111111111.dkr.ecr.eu-west-1.amazonaws.com/team/churn",
        ] {
            let image = Image::parse(uri).unwrap();
            assert_eq!(
                image.repository_arn("aws"),
                "arn:aws:ecr:eu-west-1:111111111111:repository/team/churn",
                "{uri}"
            );
        }
        assert_eq!(Image::parse("docker.io/library/python:3"), None);
        assert_eq!(Image::parse("nonsense"), None);
    }
}
