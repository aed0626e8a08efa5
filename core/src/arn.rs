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

#[cfg(test)]
mod tests {
    use super::*;

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
