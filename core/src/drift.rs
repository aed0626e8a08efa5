//! Whether an endpoint runs the settings its build config asks for, beyond the model package.
//! SageMaker can roll an endpoint update back and leave it InService on the old endpoint config
//! (<https://docs.aws.amazon.com/sagemaker/latest/dg/deployment-guardrails-blue-green.html>), and
//! an endpoint can be changed by hand: with the same package, a different instance type, instance
//! count, serverless memory or data capture is drift, and the test, `VerifyProd` and `status`
//! name it. Only what the build config sets is compared; a setting it leaves to the template's
//! default is not known here, so it is not judged.

use crate::hosting::{INSTANCE_COUNT, INSTANCE_TYPE, SERVERLESS_MEMORY};
use crate::report::VariantModel;
use crate::stack_params::ParameterList;

/// The build config's key for the share of requests captured (0 is off).
pub const DATA_CAPTURE_PERCENTAGE: &str = "DataCaptureSamplingPercentage";

/// The settings a build config asks of every production variant, as far as it sets them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ExpectedSettings {
    pub instance_type: Option<String>,
    pub instance_count: Option<i32>,
    /// Set (above 0) for a serverless stage.
    pub serverless_memory_mb: Option<i32>,
    /// 0 asks for capture off.
    pub data_capture_percentage: Option<i32>,
}

impl ExpectedSettings {
    /// What `params` (build-step's parameter file for the stage) sets. A value that is not a
    /// whole number is left unjudged: build-step refused such a file, so it was edited by hand.
    pub fn of_build_config(params: &ParameterList) -> Self {
        let number = |key: &str| params.get(key).and_then(|v| v.trim().parse::<i32>().ok());
        let serverless_memory_mb = number(SERVERLESS_MEMORY).filter(|m| *m > 0);
        let on_instances = serverless_memory_mb.is_none();
        Self {
            instance_type: params
                .get(INSTANCE_TYPE)
                .map(str::trim)
                .filter(|t| on_instances && !t.is_empty())
                .map(str::to_owned),
            instance_count: number(INSTANCE_COUNT).filter(|_| on_instances),
            serverless_memory_mb,
            data_capture_percentage: number(DATA_CAPTURE_PERCENTAGE),
        }
    }

    /// How the deployed variants and data capture differ from these settings, one line each
    /// (empty when they match). `capture` is the endpoint config's sampling percentage, `None`
    /// when capture is off.
    pub fn drift(&self, variants: &[VariantModel], capture: Option<i32>) -> Vec<String> {
        let mut drift = Vec::new();
        for variant in variants {
            let name = &variant.variant_name;
            let deployed = hosting(variant);
            match (self.serverless_memory_mb, variant.serverless_memory_mb) {
                (Some(asked), Some(runs)) if asked != runs => drift.push(format!(
                    "variant {name} has {runs} MB of serverless memory, the build config asks for {asked} MB"
                )),
                (Some(asked), None) => drift.push(format!(
                    "variant {name} runs on {deployed}, the build config asks for serverless with {asked} MB"
                )),
                (None, Some(_)) if self.instance_type.is_some() || self.instance_count.is_some() => {
                    drift.push(format!(
                        "variant {name} is {deployed}, the build config asks for instances"
                    ));
                }
                (None, None) => {
                    if let (Some(asked), Some(runs)) =
                        (&self.instance_type, &variant.instance_type)
                    {
                        if asked != runs {
                            drift.push(format!(
                                "variant {name} runs on {runs}, the build config asks for {asked}"
                            ));
                        }
                    }
                    if let (Some(asked), Some(runs)) =
                        (self.instance_count, variant.initial_instance_count)
                    {
                        if asked != runs {
                            drift.push(format!(
                                "variant {name} starts {runs} instance(s), the build config asks for {asked}"
                            ));
                        }
                    }
                }
                _ => {}
            }
        }
        match (self.data_capture_percentage, capture) {
            (Some(0), Some(runs)) => drift.push(format!(
                "data capture samples {runs}%, the build config turns it off"
            )),
            (Some(asked), None) if asked > 0 => drift.push(format!(
                "data capture is off, the build config asks for {asked}%"
            )),
            (Some(asked), Some(runs)) if asked > 0 && asked != runs => drift.push(format!(
                "data capture samples {runs}%, the build config asks for {asked}%"
            )),
            _ => {}
        }
        drift
    }
}

/// How a variant runs, for people: `2 x ml.m5.large` or `serverless, 2048 MB`.
pub fn hosting(variant: &VariantModel) -> String {
    match (variant.serverless_memory_mb, &variant.instance_type) {
        (Some(memory), _) => format!("serverless, {memory} MB"),
        (None, Some(instance_type)) => match variant.initial_instance_count {
            Some(count) => format!("{count} x {instance_type}"),
            None => instance_type.clone(),
        },
        (None, None) => "no known hosting".to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stack_params::tests::params as config;

    fn on_instances(instance_type: &str, count: i32) -> VariantModel {
        VariantModel {
            variant_name: "AllTraffic".into(),
            model_name: "m".into(),
            model_package_names: vec![],
            serverless_memory_mb: None,
            serverless_provisioned_concurrency: None,
            instance_type: Some(instance_type.into()),
            initial_instance_count: Some(count),
        }
    }

    fn serverless(memory: i32) -> VariantModel {
        VariantModel {
            instance_type: None,
            initial_instance_count: None,
            serverless_memory_mb: Some(memory),
            ..on_instances("x", 1)
        }
    }

    #[test]
    fn the_same_settings_are_no_drift_and_unset_ones_are_not_judged() {
        let expected = ExpectedSettings::of_build_config(&config(&[
            ("EndpointInstanceType", "ml.m5.large"),
            ("EndpointInstanceCount", "2"),
        ]));
        assert!(expected
            .drift(&[on_instances("ml.m5.large", 2)], None)
            .is_empty());
        let unset = ExpectedSettings::of_build_config(&config(&[("StageName", "staging")]));
        assert_eq!(unset, ExpectedSettings::default());
        assert!(unset
            .drift(&[on_instances("ml.c5.xlarge", 9)], Some(40))
            .is_empty());
    }

    #[test]
    fn type_count_memory_and_capture_changes_are_each_named() {
        let expected = ExpectedSettings::of_build_config(&config(&[
            ("EndpointInstanceType", "ml.m5.large"),
            ("EndpointInstanceCount", "2"),
            ("DataCaptureSamplingPercentage", "20"),
        ]));
        assert_eq!(
            expected.drift(&[on_instances("ml.m5.xlarge", 1)], Some(100)),
            [
                "variant AllTraffic runs on ml.m5.xlarge, the build config asks for ml.m5.large",
                "variant AllTraffic starts 1 instance(s), the build config asks for 2",
                "data capture samples 100%, the build config asks for 20%",
            ]
        );
        assert_eq!(
            expected.drift(&[serverless(2048)], None),
            [
                "variant AllTraffic is serverless, 2048 MB, the build config asks for instances",
                "data capture is off, the build config asks for 20%",
            ]
        );
        let serverless_config = ExpectedSettings::of_build_config(&config(&[
            ("ServerlessMemorySizeInMB", "4096"),
            ("EndpointInstanceType", "ml.m5.large"),
            ("DataCaptureSamplingPercentage", "0"),
        ]));
        assert_eq!(serverless_config.instance_type, None, "serverless wins");
        assert_eq!(
            serverless_config.drift(&[serverless(2048), on_instances("ml.m5.large", 1)], Some(5)),
            [
                "variant AllTraffic has 2048 MB of serverless memory, the build config asks for 4096 MB",
                "variant AllTraffic runs on 1 x ml.m5.large, the build config asks for serverless with 4096 MB",
                "data capture samples 5%, the build config turns it off",
            ]
        );
    }
}
