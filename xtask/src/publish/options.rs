//! The publish task's config stage, as the binaries have theirs: the flags ([`PublishArgs`]) and
//! the environment in, one checked [`PublishOptions`] out before anything is built, read or
//! called. The bucket and prefix are names S3 and the template's URL can use, the domain and
//! role ARNs look like what they name, and the AWS retry settings the environment overrides are
//! in range.

use std::path::PathBuf;

use clap::Args;
use deploy_shell::aws::{AwsArgs, AwsSettings, RetryPolicy};

use crate::publish_error::PublishError;

/// `cargo xtask publish`'s flags, unchecked.
// The fields' doc comments are the `--help` text, which shows `<prefix>` and `<account>` as typed.
#[allow(rustdoc::invalid_html_tags)]
#[derive(Debug, Clone, Args)]
pub struct PublishArgs {
    /// Bucket to upload to (the launch role must be able to read it)
    #[arg(long)]
    pub bucket: String,
    /// Key prefix; the files land under <prefix>/<version>/
    #[arg(long, default_value = "sagemaker-deploy-steps")]
    pub prefix: String,
    /// Tag the template for Studio, set the bucket's CORS rule for Studio and tag the domain
    /// with the templates' location (needs --domain-id)
    #[arg(long, requires = "domain_id")]
    pub s3_template: bool,
    /// The Studio domain whose users get the template (d-...)
    #[arg(long, requires = "s3_template")]
    pub domain_id: Option<String>,
    /// Put the product into a Service Catalog portfolio (found or created by name), with this
    /// version's provisioning artifact, the Studio tag, the launch constraint and the
    /// principals; a second run with the same version changes nothing
    #[arg(long, requires_all = ["launch_role_arn", "principal_arn"])]
    pub service_catalog: bool,
    /// Portfolio display name (--service-catalog)
    #[arg(long, default_value = "SageMaker multi-account deployment")]
    pub portfolio: String,
    /// Product name (--service-catalog)
    #[arg(long, default_value = "multi-account-model-deploy")]
    pub product: String,
    /// Portfolio provider and product owner (--service-catalog)
    #[arg(long, default_value = "ML platform")]
    pub provider: String,
    /// Launch constraint role (--service-catalog), such as
    /// arn:aws:iam::<account>:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole
    #[arg(long, value_name = "ARN")]
    pub launch_role_arn: Option<String>,
    /// Principal given access to the portfolio (--service-catalog; repeat for several), such
    /// as the Studio domain's execution role
    #[arg(long, value_name = "ARN")]
    pub principal_arn: Vec<String>,
    /// Print every call the run would make, and make none
    #[arg(long)]
    pub dry_run: bool,
    /// Publish this seed zip instead of building one
    #[arg(long, value_name = "FILE")]
    pub zip: Option<PathBuf>,
    #[command(flatten)]
    pub aws: AwsArgs,
}

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
    /// `--zip`: the seed zip to publish; without it, the run builds one.
    pub zip: Option<PathBuf>,
    /// The AWS flags and the retry policy the environment asks for.
    pub aws: AwsSettings,
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

impl PublishOptions {
    /// The options of this workspace's version, with this process's environment.
    pub fn load(args: &PublishArgs) -> Result<Self, PublishError> {
        Self::new(args, env!("CARGO_PKG_VERSION"), |name| {
            std::env::var(name).ok()
        })
    }

    /// Checks the flags (the bucket and prefix as S3 names them, the domain id, the catalog's
    /// role and principals), then the retry settings `var` finds (a lookup such as
    /// `std::env::var(..).ok()`).
    pub fn new(
        args: &PublishArgs,
        version: &str,
        var: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, PublishError> {
        let bucket = args.bucket.as_str();
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
        let prefix = args.prefix.trim_matches('/');
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
        let studio_domain = args.domain_id.clone().filter(|_| args.s3_template);
        if let Some(domain) = &studio_domain {
            if !domain.starts_with("d-") || domain.len() < 3 {
                return Err(PublishError::BadInput(format!(
                    "--domain-id {domain:?} is not a SageMaker domain id (d-...); find it with aws sagemaker list-domains"
                )));
            }
        }
        let catalog = args.service_catalog.then(|| CatalogOptions {
            portfolio: args.portfolio.clone(),
            provider: args.provider.clone(),
            product: args.product.clone(),
            launch_role_arn: args.launch_role_arn.clone().unwrap_or_default(),
            principals: args.principal_arn.clone(),
        });
        if let Some(catalog) = &catalog {
            catalog.check()?;
        }
        Ok(Self {
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            version: version.to_owned(),
            studio_domain,
            catalog,
            dry_run: args.dry_run,
            zip: args.zip.clone(),
            aws: AwsSettings {
                args: args.aws.clone(),
                retry: RetryPolicy::from_env(var)?,
            },
        })
    }

    /// `<prefix>/<version>/<name>`.
    pub fn key(&self, name: &str) -> String {
        if self.prefix.is_empty() {
            format!("{}/{name}", self.version)
        } else {
            format!("{}/{}/{name}", self.prefix, self.version)
        }
    }

    /// Where Studio reads this version's templates from.
    pub fn templates_location(&self) -> String {
        let key = self.key("");
        format!("s3://{}/{key}", self.bucket)
    }
}

impl CatalogOptions {
    /// The launch role is an IAM role ARN, and at least one principal is given, each an ARN.
    fn check(&self) -> Result<(), PublishError> {
        let role = |arn: &str| {
            arn.starts_with("arn:aws")
                && arn.split(':').nth(2) == Some("iam")
                && arn.contains(":role/")
        };
        if !role(&self.launch_role_arn) {
            return Err(PublishError::BadInput(format!(
                "--launch-role-arn {:?} is not an IAM role ARN; give the launch role's ARN, such as arn:aws:iam::111111111111:role/service-role/AmazonSageMakerServiceCatalogProductsLaunchRole",
                self.launch_role_arn
            )));
        }
        if self.principals.is_empty() {
            return Err(PublishError::BadInput(
                "--service-catalog needs at least one --principal-arn: the role Studio users work as (the domain's execution role), so they see the product".to_owned(),
            ));
        }
        if let Some(bad) = self
            .principals
            .iter()
            .find(|arn| !arn.starts_with("arn:aws"))
        {
            return Err(PublishError::BadInput(format!(
                "--principal-arn {bad:?} is not an IAM ARN; give the Studio execution role's ARN"
            )));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    #[derive(Parser)]
    struct Cli {
        #[command(flatten)]
        publish: PublishArgs,
    }

    fn options(flags: &[&str], env: &[(&str, &str)]) -> Result<PublishOptions, PublishError> {
        let args = Cli::try_parse_from([&["publish"], flags].concat())
            .unwrap()
            .publish;
        PublishOptions::new(&args, "1.2.3", |name| {
            env.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        })
    }

    #[test]
    fn keys_carry_the_prefix_without_its_slashes_and_the_version() {
        let checked = options(&["--bucket", "b-seeds", "--prefix", "/team/seeds/"], &[]).unwrap();
        assert_eq!(checked.key("x.zip"), "team/seeds/1.2.3/x.zip");
        assert_eq!(
            checked.templates_location(),
            "s3://b-seeds/team/seeds/1.2.3/"
        );
        let bare = options(&["--bucket", "b-seeds", "--prefix", "/"], &[]).unwrap();
        assert_eq!(bare.key("x.zip"), "1.2.3/x.zip");
        assert!(bare.catalog.is_none() && bare.studio_domain.is_none() && bare.zip.is_none());
    }

    #[test]
    fn the_flags_are_checked_before_the_environment() {
        let err = |flags: &[&str]| {
            options(flags, &[("AWS_MAX_ATTEMPTS", "0")])
                .unwrap_err()
                .to_string()
        };
        assert!(err(&["--bucket", "B"]).starts_with("--bucket \"B\" is not a bucket"));
        assert!(
            err(&["--bucket", "b-seeds", "--s3-template", "--domain-id", "x"])
                .starts_with("--domain-id \"x\" is not a SageMaker domain id")
        );
        let catalog = [
            "--bucket",
            "b-seeds",
            "--service-catalog",
            "--launch-role-arn",
            "arn:aws:iam::1:user/u",
            "--principal-arn",
            "arn:aws:iam::1:role/r",
        ];
        assert!(err(&catalog)
            .starts_with("--launch-role-arn \"arn:aws:iam::1:user/u\" is not an IAM role ARN"));
        assert!(err(&["--bucket", "b-seeds"])
            .starts_with("AWS_MAX_ATTEMPTS is \"0\": write a whole number from 1 to 10"));
    }
}
