//! Reading ARNs. Roles and policies are built in the caller's own partition (aws, aws-cn,
//! aws-us-gov, ...): the seed's hard-coded `arn:aws` broke every other partition (B7).

/// The partition of `arn`, when it is an ARN.
pub fn partition(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .next()
        .filter(|p| !p.is_empty())
}

/// The group a model package's ARN places it in:
/// `arn:P:sagemaker:R:A:model-package/G/V` -> `arn:P:sagemaker:R:A:model-package-group/G`.
pub fn group_of_package(package_arn: &str) -> Option<String> {
    let (prefix, rest) = package_arn.split_once(":model-package/")?;
    let (group, version) = rest.rsplit_once('/')?;
    (!group.is_empty() && !version.is_empty() && partition(prefix).is_some())
        .then(|| format!("{prefix}:model-package-group/{group}"))
}

/// The name of a model package group given by name or by ARN (a group shared from another account
/// is given by its ARN).
pub fn group_name(group: &str) -> &str {
    group
        .split_once(":model-package-group/")
        .map_or(group, |(_, name)| name)
}

/// A model package's ARN, exactly: `arn:<partition>:sagemaker:<region>:<account>:model-package/
/// <group>/<version>`, with SageMaker's name characters and a numeric version. A value from
/// outside (a pipeline variable anyone who may start the pipeline sets) is checked against it
/// before any call uses it.
pub fn check_model_package_arn(arn: &str) -> Result<(), String> {
    let shape = || {
        let rest = arn.strip_prefix("arn:")?;
        let mut parts = rest.splitn(6, ':');
        let (partition, service, region, account, resource) = (
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
            parts.next()?,
        );
        let (group, version) = resource.strip_prefix("model-package/")?.split_once('/')?;
        let name = |text: &str| {
            (1..=63).contains(&text.len())
                && text.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !text.starts_with('-')
        };
        (parts.next().is_none()
            && partition.starts_with("aws")
            && partition
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'-')
            && service == "sagemaker"
            && !region.is_empty()
            && region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
            && account.len() == 12
            && account.bytes().all(|b| b.is_ascii_digit())
            && name(group)
            && !version.is_empty()
            && version.len() <= 10
            && version.bytes().all(|b| b.is_ascii_digit()))
        .then_some(())
    };
    shape().ok_or_else(|| {
        "is not a model package ARN (arn:<partition>:sagemaker:<region>:<account>:model-package/<group>/<version>)".to_owned()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_package_arns_are_checked_exactly() {
        assert!(check_model_package_arn(
            "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3"
        )
        .is_ok());
        assert!(check_model_package_arn(
            "arn:aws-cn:sagemaker:cn-north-1:111111111111:model-package/Churn-2/12"
        )
        .is_ok());
        for bad in [
            "newest",
            "",
            "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn",
            "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3\",\"name\":\"X",
            "arn:aws:sagemaker:eu-west-1:11111111111:model-package/churn/3",
            "arn:aws:s3:eu-west-1:111111111111:model-package/churn/3",
            "arn:aws:sagemaker:eu-west-1:111111111111:model-package/churn/3:extra",
            "arn:aws:sagemaker:eu-west-1:111111111111:model-package/ch urn/3",
        ] {
            assert!(check_model_package_arn(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn a_package_arn_names_its_group_by_account_region_and_name() {
        assert_eq!(
            group_of_package("arn:aws:sagemaker:us-east-1:111111111111:model-package/churn/3")
                .as_deref(),
            Some("arn:aws:sagemaker:us-east-1:111111111111:model-package-group/churn")
        );
        assert_eq!(
            group_of_package("arn:aws:sagemaker:us-east-1:1:model-package/churn"),
            None
        );
        assert_eq!(group_of_package("churn/3"), None);
        assert_eq!(
            group_name("arn:aws:sagemaker:us-east-1:1:model-package-group/churn"),
            "churn"
        );
        assert_eq!(group_name("churn"), "churn");
    }

    /// Pins B7: the partition comes from the ARN instead of a hard-coded `arn:aws`.
    #[test]
    fn b7_the_partition_is_read_from_the_arn() {
        assert_eq!(
            partition("arn:aws-cn:sts::123456789012:assumed-role/codebuild/build"),
            Some("aws-cn")
        );
        assert_eq!(
            partition("arn:aws-us-gov:iam::123456789012:user/ci"),
            Some("aws-us-gov")
        );
        assert_eq!(partition(""), None);
        assert_eq!(partition("arn::iam::1:user/x"), None);
    }
}
