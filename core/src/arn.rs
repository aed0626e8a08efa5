//! Reading ARNs. Roles and policies are built in the caller's own partition (aws, aws-cn,
//! aws-us-gov, ...): the seed's hard-coded `arn:aws` broke every other partition (B7).

/// The partition of `arn`, when it is an ARN.
pub fn partition(arn: &str) -> Option<&str> {
    arn.strip_prefix("arn:")?
        .split(':')
        .next()
        .filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

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
