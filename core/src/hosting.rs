//! How a stage's endpoint is hosted, checked as a whole: settings that are valid one by one but
//! that AWS refuses together (a serverless endpoint with instances, autoscaling, blue/green
//! updates, data capture or a VPC; a customer managed key on a type with instance storage), or
//! that would silently do nothing (a capture key with capture off). Each rule names both keys and
//! the fix, so a stage config CloudFormation would fail on mid-deployment is refused at build
//! time. The AWS pages each rule follows are cited next to it.

use crate::stack_params::ParameterList;
use crate::template::DeclaredParameter;

pub const SERVERLESS_MEMORY: &str = "ServerlessMemorySizeInMB";
pub const SERVERLESS_MAX_CONCURRENCY: &str = "ServerlessMaxConcurrency";
pub const SERVERLESS_PROVISIONED_CONCURRENCY: &str = "ServerlessProvisionedConcurrency";
pub const INSTANCE_TYPE: &str = "EndpointInstanceType";
pub const INSTANCE_COUNT: &str = "EndpointInstanceCount";
pub const VPC_SUBNETS: &str = "VpcSubnetIdsParameter";
pub const VPC_SECURITY_GROUPS: &str = "VpcSecurityGroupIdsParameter";
pub const NETWORK_ISOLATION: &str = "EnableNetworkIsolation";
pub const VOLUME_KEY: &str = "EndpointVolumeKmsKeyId";
pub const CAPTURE_KEY: &str = "DataCaptureKmsKeyId";
const CAPTURE_PERCENTAGE: &str = "DataCaptureSamplingPercentage";
const AUTOSCALING_MAX: &str = "AutoScalingMaxCapacity";
const AUTOSCALING_MIN: &str = "AutoScalingMinCapacity";
const BLUE_GREEN: &str = "BlueGreenTrafficRouting";

/// Instance families with local NVMe instance storage. SageMaker encrypts those volumes with a
/// hardware module and refuses a `KmsKeyId` when any variant uses one: the `KmsKeyId` parameter
/// of <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_CreateEndpointConfig.html>.
/// SageMaker points to EC2 for which types have it; these are the `ml.` families whose EC2 types
/// have instance store volumes in
/// <https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/InstanceStorage.html#instance-store-volumes>
/// (checked 2026-12-02; a new family with local storage belongs here).
pub const INSTANCE_STORAGE_FAMILIES: &[&str] = &[
    "c5d", "c6id", "g4dn", "g5", "g6", "g6e", "m5d", "m6id", "p3dn", "p4d", "p4de", "p5", "p5e",
    "p5en", "r5d", "r6id", "trn1", "trn1n",
];

/// One stage's values: those its config file (and build-step) set, and the template's defaults.
pub struct StageValues<'a> {
    pub set: &'a ParameterList,
    pub declared: &'a [DeclaredParameter],
}

impl StageValues<'_> {
    /// The value the file sets, if it sets one.
    fn explicit(&self, key: &str) -> Option<&str> {
        self.set.get(key)
    }

    /// The value the stack gets: the file's, else the template's default (None if undeclared).
    pub fn effective(&self, key: &str) -> Option<&str> {
        self.explicit(key).or_else(|| {
            self.declared
                .iter()
                .find(|d| d.name == key)?
                .default
                .as_deref()
        })
    }

    fn number(&self, key: &str) -> Option<f64> {
        self.effective(key)?.trim().parse().ok()
    }

    fn is_positive(&self, key: &str) -> bool {
        self.number(key).is_some_and(|n| n > 0.0)
    }

    fn is_non_empty(&self, key: &str) -> bool {
        self.effective(key).is_some_and(|v| !v.is_empty())
    }

    /// The memory of a serverless variant: Some when the stage is serverless.
    pub fn serverless_memory(&self) -> Option<&str> {
        self.effective(SERVERLESS_MEMORY)
            .filter(|_| self.is_positive(SERVERLESS_MEMORY))
    }

    /// The instance type the endpoint runs on; None for a serverless stage.
    pub fn instance_type(&self) -> Option<&str> {
        match self.serverless_memory() {
            Some(_) => None,
            None => self.effective(INSTANCE_TYPE),
        }
    }

    /// Whether the file puts the model in a VPC (names either SSM parameter).
    fn in_vpc(&self) -> bool {
        names_a_vpc(self.set)
    }
}

/// Whether a stage config puts the model in a VPC: it names either network SSM parameter.
pub fn names_a_vpc(config: &ParameterList) -> bool {
    config.get(VPC_SUBNETS).is_some() || config.get(VPC_SECURITY_GROUPS).is_some()
}

/// Every rule, in the order a user would fix them.
pub fn check(values: &StageValues<'_>) -> Result<(), String> {
    check_serverless(values)?;
    check_vpc(values)?;
    check_keys(values)?;
    check_autoscaling_and_capture(values)
}

/// A feature a serverless endpoint does not have, and whether the stage turns it on.
struct ServerlessExclusion {
    key: &'static str,
    turned_on: fn(&StageValues<'_>) -> bool,
    why: &'static str,
    fix: &'static str,
}

/// What serverless endpoints exclude: instance settings (a serverless variant takes
/// `ServerlessConfig` instead of an instance type and count,
/// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariant.html>); the
/// features the serverless page lists as excluded (VPC configuration, network isolation, data
/// capture: "Feature exclusions" in
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints.html>); instance-count
/// autoscaling (a serverless endpoint scales on its own, and only provisioned concurrency
/// autoscales: <https://docs.aws.amazon.com/sagemaker/latest/dg/serverless-endpoints-autoscale.html>);
/// blue/green deployment guardrails, which apply to real-time and asynchronous endpoints only
/// (<https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails.html>); and a storage
/// volume key, which encrypts the ML instances' volumes a serverless endpoint does not have.
const SERVERLESS_EXCLUSIONS: &[ServerlessExclusion] = &[
    ServerlessExclusion {
        key: INSTANCE_TYPE,
        turned_on: |v| v.explicit(INSTANCE_TYPE).is_some(),
        why: "a serverless endpoint has no instances to choose",
        fix: "remove EndpointInstanceType",
    },
    ServerlessExclusion {
        key: INSTANCE_COUNT,
        turned_on: |v| v.explicit(INSTANCE_COUNT).is_some(),
        why: "a serverless endpoint has no instances to count; ServerlessMaxConcurrency bounds it",
        fix: "remove EndpointInstanceCount",
    },
    ServerlessExclusion {
        key: AUTOSCALING_MAX,
        turned_on: |v| v.is_positive(AUTOSCALING_MAX),
        why: "autoscaling here scales the instance count, and a serverless endpoint scales on its own up to ServerlessMaxConcurrency",
        fix: "set AutoScalingMaxCapacity to 0",
    },
    ServerlessExclusion {
        key: BLUE_GREEN,
        turned_on: |v| v.effective(BLUE_GREEN).is_some_and(|r| r != "Disabled"),
        why: "blue/green deployment guardrails update instance endpoints only",
        fix: "set BlueGreenTrafficRouting to Disabled",
    },
    ServerlessExclusion {
        key: CAPTURE_PERCENTAGE,
        turned_on: |v| v.is_positive(CAPTURE_PERCENTAGE),
        why: "serverless endpoints do not support data capture",
        fix: "set DataCaptureSamplingPercentage to 0",
    },
    ServerlessExclusion {
        key: VPC_SUBNETS,
        turned_on: |v| v.in_vpc(),
        why: "serverless endpoints do not support a VPC configuration",
        fix: "remove VpcSubnetIdsParameter and VpcSecurityGroupIdsParameter",
    },
    ServerlessExclusion {
        key: NETWORK_ISOLATION,
        turned_on: |v| v.effective(NETWORK_ISOLATION) == Some("true"),
        why: "serverless endpoints do not support network isolation",
        fix: "set EnableNetworkIsolation to false",
    },
    ServerlessExclusion {
        key: VOLUME_KEY,
        turned_on: |v| v.is_non_empty(VOLUME_KEY),
        why: "that key encrypts the storage volumes of an endpoint's instances, and a serverless endpoint has none",
        fix: "remove EndpointVolumeKmsKeyId",
    },
];

/// Serverless settings: the exclusions, and the concurrency bounds
/// (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_ProductionVariantServerlessConfig.html>:
/// MaxConcurrency 1-200, ProvisionedConcurrency 1-200 and at most MaxConcurrency; memory
/// 1024-6144 MB in 1 GB steps is the template's AllowedValues).
fn check_serverless(values: &StageValues<'_>) -> Result<(), String> {
    let Some(memory) = values.serverless_memory() else {
        for key in [
            SERVERLESS_MAX_CONCURRENCY,
            SERVERLESS_PROVISIONED_CONCURRENCY,
        ] {
            if values.explicit(key).is_some() {
                return Err(format!(
                    "sets {key} but {SERVERLESS_MEMORY} is 0, so the endpoint runs on instances; set {SERVERLESS_MEMORY} (1024 to 6144 in steps of 1024) for a serverless endpoint, or remove {key}"
                ));
            }
        }
        return Ok(());
    };
    for exclusion in SERVERLESS_EXCLUSIONS {
        if (exclusion.turned_on)(values) {
            let key = exclusion.key;
            let value = values.effective(key).unwrap_or_default();
            return Err(format!(
                "{SERVERLESS_MEMORY} {memory} (a serverless endpoint) cannot be combined with {key} {value}: {}; {}, or set {SERVERLESS_MEMORY} to 0 to run on instances",
                exclusion.why, exclusion.fix
            ));
        }
    }
    if let (Some(provisioned), Some(max)) = (
        values.number(SERVERLESS_PROVISIONED_CONCURRENCY),
        values.number(SERVERLESS_MAX_CONCURRENCY),
    ) {
        if provisioned > max {
            return Err(format!(
                "{SERVERLESS_PROVISIONED_CONCURRENCY} ({provisioned}) is above {SERVERLESS_MAX_CONCURRENCY} ({max}); AWS allows at most the maximum concurrency to be provisioned: raise {SERVERLESS_MAX_CONCURRENCY} or lower {SERVERLESS_PROVISIONED_CONCURRENCY}"
            ));
        }
    }
    Ok(())
}

/// A model in a VPC needs both lists (`VpcConfig` requires `Subnets` and `SecurityGroupIds`,
/// <https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_VpcConfig.html>), each named
/// as an SSM parameter name may be
/// (<https://docs.aws.amazon.com/systems-manager/latest/userguide/sysman-parameter-name-constraints.html>).
fn check_vpc(values: &StageValues<'_>) -> Result<(), String> {
    match (
        values.explicit(VPC_SUBNETS),
        values.explicit(VPC_SECURITY_GROUPS),
    ) {
        (None, None) => Ok(()),
        (Some(_), None) => Err(format!(
            "sets {VPC_SUBNETS} without {VPC_SECURITY_GROUPS}; a model in a VPC needs both: add the name of the SSM parameter holding its security group IDs"
        )),
        (None, Some(_)) => Err(format!(
            "sets {VPC_SECURITY_GROUPS} without {VPC_SUBNETS}; a model in a VPC needs both: add the name of the SSM parameter holding its subnet IDs"
        )),
        (Some(subnets), Some(groups)) => {
            for (key, name) in [(VPC_SUBNETS, subnets), (VPC_SECURITY_GROUPS, groups)] {
                ssm_parameter_name(name).map_err(|why| {
                    format!("{key} {name:?} is not an SSM parameter name: {why}; give the name of a String parameter in each target account, such as /sagemaker/endpoint-network/subnet-ids")
                })?;
            }
            Ok(())
        }
    }
}

/// Systems Manager's naming rules for a parameter CloudFormation reads by name.
fn ssm_parameter_name(name: &str) -> Result<(), &'static str> {
    if name.is_empty() || name.len() > 1011 {
        return Err("a name has 1 to 1011 characters");
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"_.-/".contains(&b))
    {
        return Err("a name has only letters, digits and _ . - /");
    }
    if name.contains('/') && !name.starts_with('/') {
        return Err("a name with a path starts with /");
    }
    let first = name.trim_start_matches('/').to_ascii_lowercase();
    if first.starts_with("aws") || first.starts_with("ssm") {
        return Err("names starting with aws or ssm are reserved for AWS");
    }
    Ok(())
}

/// Customer managed keys: none on a type with instance storage, and no capture key without
/// captured data.
fn check_keys(values: &StageValues<'_>) -> Result<(), String> {
    if values.is_non_empty(VOLUME_KEY) {
        if let Some(instance_type) = values.instance_type().filter(|t| has_instance_storage(t)) {
            return Err(format!(
                "{VOLUME_KEY} cannot be used with {INSTANCE_TYPE} {instance_type}: that type's storage is local instance storage, which SageMaker encrypts itself and for which AWS refuses a KmsKeyId; remove {VOLUME_KEY} or choose a type without local storage (such as ml.m5.large)"
            ));
        }
    }
    if values.is_non_empty(CAPTURE_KEY) && !values.is_positive(CAPTURE_PERCENTAGE) {
        return Err(format!(
            "sets {CAPTURE_KEY} but {CAPTURE_PERCENTAGE} is 0, so nothing is captured to encrypt; set {CAPTURE_PERCENTAGE} above 0 or remove {CAPTURE_KEY}"
        ));
    }
    Ok(())
}

/// Whether `instance_type` (`ml.<family>.<size>`) has local instance storage.
pub fn has_instance_storage(instance_type: &str) -> bool {
    let family = instance_type.split('.').nth(1).unwrap_or_default();
    INSTANCE_STORAGE_FAMILIES.contains(&family)
}

fn check_autoscaling_and_capture(values: &StageValues<'_>) -> Result<(), String> {
    if let (Some(min), Some(max)) = (
        values.number(AUTOSCALING_MIN),
        values.number(AUTOSCALING_MAX),
    ) {
        if max > 0.0 && min > max {
            return Err(format!(
                "{AUTOSCALING_MIN} ({min}) is above {AUTOSCALING_MAX} ({max}); raise the maximum or lower the minimum"
            ));
        }
    }
    let has_destination = values.is_non_empty("DataCaptureDestination");
    let has_bucket = values.is_non_empty("ArtifactBucket");
    if values.is_positive(CAPTURE_PERCENTAGE) && !has_destination && !has_bucket {
        return Err(format!(
            "turns on data capture ({CAPTURE_PERCENTAGE} > 0) with nowhere to write it; set DataCaptureDestination to an s3:// URI or set ARTIFACT_BUCKET"
        ));
    }
    Ok(())
}

/// The update AWS refuses mid-deployment: "If the update would change the instance type for any
/// model that is a target for auto scaling, the update fails" (UpdateEndpoint, in
/// <https://docs.aws.amazon.com/sagemaker/latest/dg/endpoint-scaling-update.html>). The endpoint
/// stack registers its variant while `AutoScalingMaxCapacity` is above 0, and CloudFormation
/// updates the endpoint before it touches the scalable target, so switching autoscaling off in the
/// same release does not help: the variant must be deregistered by one release and its type
/// changed by the next. `deployed` are the values the stage's StackSet last deployed, `next` the
/// stage's new ones; the message says what to release first.
pub fn autoscaled_type_change(
    deployed: &StageValues<'_>,
    next: &StageValues<'_>,
) -> Option<String> {
    let capacity = deployed.effective(AUTOSCALING_MAX)?;
    let from = deployed
        .instance_type()
        .filter(|_| deployed.is_positive(AUTOSCALING_MAX))?;
    let to = match (next.instance_type(), next.serverless_memory()) {
        (Some(to), _) if to == from => return None,
        (Some(to), _) => format!("{INSTANCE_TYPE} {to}"),
        (None, memory) => format!("{SERVERLESS_MEMORY} {}", memory.unwrap_or_default()),
    };
    Some(format!(
        "the deployed endpoint runs on {INSTANCE_TYPE} {from} with autoscaling on ({AUTOSCALING_MAX} {capacity}), and this release changes it to {to}: SageMaker refuses to change the instance type of a variant registered for autoscaling, so the StackSet update would fail and roll back. Release it in two steps: first with {AUTOSCALING_MAX} 0 and {INSTANCE_TYPE} {from} (which deregisters the variant), then with {to} and the autoscaling settings you want"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn declared() -> Vec<DeclaredParameter> {
        [
            (SERVERLESS_MEMORY, "0"),
            (SERVERLESS_MAX_CONCURRENCY, "20"),
            (SERVERLESS_PROVISIONED_CONCURRENCY, "0"),
            (INSTANCE_TYPE, "ml.m5.large"),
            (INSTANCE_COUNT, "1"),
            (BLUE_GREEN, "Disabled"),
            (CAPTURE_PERCENTAGE, "0"),
            (AUTOSCALING_MAX, "0"),
            (NETWORK_ISOLATION, "false"),
            (VOLUME_KEY, ""),
            (CAPTURE_KEY, ""),
        ]
        .into_iter()
        .map(|(name, default)| DeclaredParameter {
            name: name.into(),
            default: Some(default.into()),
            ..Default::default()
        })
        .collect()
    }

    fn check_pairs(pairs: &[(&str, &str)]) -> Result<(), String> {
        let set = values_of(pairs);
        let declared = declared();
        check(&StageValues {
            set: &set,
            declared: &declared,
        })
    }

    #[test]
    fn a_serverless_stage_refuses_each_feature_it_lacks_naming_both_keys() {
        let serverless = (SERVERLESS_MEMORY, "2048");
        assert!(check_pairs(&[serverless]).is_ok());
        for (key, value) in [
            (INSTANCE_TYPE, "ml.m5.large"),
            (INSTANCE_COUNT, "1"),
            (AUTOSCALING_MAX, "4"),
            (BLUE_GREEN, "Canary"),
            (CAPTURE_PERCENTAGE, "10"),
            (NETWORK_ISOLATION, "true"),
            (VOLUME_KEY, "alias/endpoints"),
        ] {
            let message = check_pairs(&[serverless, (key, value)]).unwrap_err();
            assert!(
                message.starts_with(&format!(
                    "ServerlessMemorySizeInMB 2048 (a serverless endpoint) cannot be combined with {key} {value}: "
                )),
                "{message}"
            );
        }
        for (key, off) in [
            (AUTOSCALING_MAX, "0"),
            (BLUE_GREEN, "Disabled"),
            (CAPTURE_PERCENTAGE, "0"),
            (NETWORK_ISOLATION, "false"),
        ] {
            assert!(check_pairs(&[serverless, (key, off)]).is_ok(), "{key} off");
        }
    }

    #[test]
    fn serverless_concurrency_needs_a_serverless_stage_and_provisioned_at_most_max() {
        assert!(check_pairs(&[(SERVERLESS_MAX_CONCURRENCY, "5")])
            .unwrap_err()
            .starts_with("sets ServerlessMaxConcurrency but ServerlessMemorySizeInMB is 0"));
        let message = check_pairs(&[
            (SERVERLESS_MEMORY, "1024"),
            (SERVERLESS_MAX_CONCURRENCY, "5"),
            (SERVERLESS_PROVISIONED_CONCURRENCY, "6"),
        ])
        .unwrap_err();
        assert!(
            message.starts_with(
                "ServerlessProvisionedConcurrency (6) is above ServerlessMaxConcurrency (5)"
            ),
            "{message}"
        );
        assert!(check_pairs(&[
            (SERVERLESS_MEMORY, "1024"),
            (SERVERLESS_PROVISIONED_CONCURRENCY, "20")
        ])
        .is_ok());
    }

    fn values_of(pairs: &[(&str, &str)]) -> ParameterList {
        let mut set = ParameterList::default();
        for (key, value) in pairs {
            set.push(key, *value).unwrap();
        }
        set
    }

    #[test]
    fn changing_the_type_of_an_autoscaled_variant_is_caught_with_the_two_releases_that_work() {
        let declared = declared();
        let change = |deployed: &[(&str, &str)], next: &[(&str, &str)]| {
            let (deployed, next) = (values_of(deployed), values_of(next));
            autoscaled_type_change(
                &StageValues {
                    set: &deployed,
                    declared: &declared,
                },
                &StageValues {
                    set: &next,
                    declared: &declared,
                },
            )
        };
        let scaled = [(AUTOSCALING_MAX, "4")];
        let message = change(
            &scaled,
            &[(INSTANCE_TYPE, "ml.c5.xlarge"), (AUTOSCALING_MAX, "4")],
        )
        .expect("the default ml.m5.large, scaled, changes type");
        assert_eq!(
            message,
            "the deployed endpoint runs on EndpointInstanceType ml.m5.large with autoscaling on (AutoScalingMaxCapacity 4), and this release changes it to EndpointInstanceType ml.c5.xlarge: SageMaker refuses to change the instance type of a variant registered for autoscaling, so the StackSet update would fail and roll back. Release it in two steps: first with AutoScalingMaxCapacity 0 and EndpointInstanceType ml.m5.large (which deregisters the variant), then with EndpointInstanceType ml.c5.xlarge and the autoscaling settings you want"
        );
        // Turning autoscaling off in the same release still fails: the endpoint updates first.
        assert!(change(&scaled, &[(INSTANCE_TYPE, "ml.c5.xlarge")]).is_some());
        assert!(change(&scaled, &[(SERVERLESS_MEMORY, "2048")])
            .unwrap()
            .contains("changes it to ServerlessMemorySizeInMB 2048:"));
        // What works: the same type, a type change without autoscaling deployed, step one.
        assert_eq!(
            change(
                &scaled,
                &[(INSTANCE_TYPE, "ml.m5.large"), (AUTOSCALING_MAX, "8")]
            ),
            None
        );
        assert_eq!(
            change(
                &[],
                &[(INSTANCE_TYPE, "ml.c5.xlarge"), (AUTOSCALING_MAX, "4")]
            ),
            None
        );
        assert_eq!(change(&scaled, &[(AUTOSCALING_MAX, "0")]), None);
        assert_eq!(
            change(
                &[(SERVERLESS_MEMORY, "2048")],
                &[(INSTANCE_TYPE, "ml.c5.xlarge")]
            ),
            None
        );
    }

    #[test]
    fn a_vpc_needs_both_lists_named_as_ssm_parameters() {
        let subnets = (VPC_SUBNETS, "/network/subnets");
        let groups = (VPC_SECURITY_GROUPS, "/network/groups");
        assert!(check_pairs(&[subnets, groups]).is_ok());
        assert!(check_pairs(&[subnets])
            .unwrap_err()
            .starts_with("sets VpcSubnetIdsParameter without VpcSecurityGroupIdsParameter"));
        assert!(check_pairs(&[groups])
            .unwrap_err()
            .starts_with("sets VpcSecurityGroupIdsParameter without VpcSubnetIdsParameter"));
        for bad in ["subnet-0abc,subnet-0def", "network/subnets", "/aws/x", ""] {
            let message = check_pairs(&[(VPC_SUBNETS, bad), groups]).unwrap_err();
            assert!(
                message.starts_with(&format!(
                    "VpcSubnetIdsParameter {bad:?} is not an SSM parameter name"
                )),
                "{message}"
            );
        }
    }

    #[test]
    fn a_volume_key_is_refused_for_types_with_instance_storage() {
        let key = (VOLUME_KEY, "arn:aws:kms:eu-west-1:111111111111:key/abc");
        assert!(check_pairs(&[key]).is_ok(), "the default ml.m5.large");
        let message = check_pairs(&[key, (INSTANCE_TYPE, "ml.g5.xlarge")]).unwrap_err();
        assert!(
            message.starts_with(
                "EndpointVolumeKmsKeyId cannot be used with EndpointInstanceType ml.g5.xlarge"
            ),
            "{message}"
        );
        assert!(has_instance_storage("ml.m5d.large") && !has_instance_storage("ml.m5.large"));
    }

    #[test]
    fn a_capture_key_needs_captured_data() {
        let key = (CAPTURE_KEY, "alias/capture");
        assert!(check_pairs(&[key])
            .unwrap_err()
            .starts_with("sets DataCaptureKmsKeyId but DataCaptureSamplingPercentage is 0"));
        assert!(check_pairs(&[
            key,
            (CAPTURE_PERCENTAGE, "5"),
            ("DataCaptureDestination", "s3://b/p")
        ])
        .is_ok());
    }
}
