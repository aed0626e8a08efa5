//! Whether an InService endpoint serves the exported model package: every production variant's
//! model must have a container built from it. An update that rolled back leaves the endpoint
//! InService on the old package, so "InService" alone would pass a stale deployment. With the
//! same package, settings that differ from the build config's are drift (`crate::drift`), and
//! fail the check too.

use crate::drift::ExpectedSettings;
use crate::report::{CheckStatus, ModelCheck, VariantModel};

impl ModelCheck {
    /// The verdict on the variants DescribeEndpointConfig and DescribeModel described.
    pub fn of(expected: &str, endpoint_config_name: &str, variants: Vec<VariantModel>) -> Self {
        Self {
            status: if all_serve(&variants, expected) {
                CheckStatus::Passed
            } else {
                CheckStatus::Failed
            },
            expected_model_package: expected.to_owned(),
            endpoint_config_name: endpoint_config_name.to_owned(),
            variants,
            data_capture_percentage: None,
            drift: Vec::new(),
        }
    }

    /// The check with the endpoint config's data capture (`capture`, `None` when off) judged,
    /// with the variants, against the build config's `expected` settings: any drift fails it.
    #[must_use]
    pub fn with_settings(mut self, expected: &ExpectedSettings, capture: Option<i32>) -> Self {
        self.data_capture_percentage = capture;
        self.drift = expected.drift(&self.variants, capture);
        if !self.drift.is_empty() {
            self.status = CheckStatus::Failed;
        }
        self
    }

    /// Whether every variant serves the expected package (whatever the settings).
    pub fn serves_package(&self) -> bool {
        all_serve(&self.variants, &self.expected_model_package)
    }

    /// Why a check that serves the package failed: its settings drifted.
    pub fn drift_message(&self, endpoint: &str) -> String {
        format!(
            "endpoint {endpoint} serves the exported model package but not the build config's settings: {}; an update rolled back to the old endpoint config ({}), or the endpoint was changed by hand: deploy the stage's StackSet again",
            self.drift.join("; "),
            self.endpoint_config_name
        )
    }

    /// Whether the endpoint's first call may wait for a cold start: a variant is serverless and
    /// keeps no invocations warm (provisioned concurrency).
    pub fn may_cold_start(&self) -> bool {
        self.variants.iter().any(|v| {
            v.serverless_memory_mb.is_some()
                && v.serverless_provisioned_concurrency.unwrap_or(0) == 0
        })
    }

    /// Why a failed check failed, naming what each variant serves.
    pub fn stale_message(&self, endpoint: &str) -> String {
        if self.variants.is_empty() {
            return format!(
                "endpoint {endpoint} (config {}) has no production variants",
                self.endpoint_config_name
            );
        }
        let serving: Vec<String> = self
            .variants
            .iter()
            .map(|v| {
                let packages = if v.model_package_names.is_empty() {
                    "no model package".to_owned()
                } else {
                    v.model_package_names.join(", ")
                };
                format!(
                    "variant {} serves {packages} (model {})",
                    v.variant_name, v.model_name
                )
            })
            .collect();
        format!(
            "endpoint {endpoint} does not serve the exported ModelPackageName {}: {}; the StackSet did not update this account, or an update rolled back",
            self.expected_model_package,
            serving.join("; ")
        )
    }
}

/// Whether there are variants and each has a container built from `expected`.
fn all_serve(variants: &[VariantModel], expected: &str) -> bool {
    !variants.is_empty()
        && variants.iter().all(|v| {
            v.model_package_names
                .iter()
                .any(|p| same_package(p, expected))
        })
}

/// SageMaker lowercases the names inside the ARNs it returns; the version part still differs for
/// a stale model, so ARNs compare without case and plain names exactly.
fn same_package(found: &str, expected: &str) -> bool {
    found == expected || (expected.starts_with("arn:") && found.eq_ignore_ascii_case(expected))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGE: &str = "arn:aws:sagemaker:us-east-1:111111111111:model-package/Churn/3";

    fn variant(name: &str, packages: &[&str]) -> VariantModel {
        VariantModel {
            variant_name: name.into(),
            model_name: format!("{name}-model"),
            model_package_names: packages.iter().map(|p| (*p).to_owned()).collect(),
            serverless_memory_mb: None,
            serverless_provisioned_concurrency: None,
            instance_type: Some("ml.m5.large".into()),
            initial_instance_count: Some(1),
        }
    }

    #[test]
    fn every_variant_must_serve_the_package_arns_compared_without_case() {
        let lowercased = PACKAGE.to_lowercase();
        let check = ModelCheck::of(PACKAGE, "c", vec![variant("Blue", &["x", &lowercased])]);
        assert_eq!(check.status, CheckStatus::Passed);
        let check = ModelCheck::of(
            PACKAGE,
            "c",
            vec![variant("Blue", &[PACKAGE]), variant("Green", &[])],
        );
        assert_eq!(check.status, CheckStatus::Failed);
        assert_eq!(
            check.stale_message("e"),
            format!("endpoint e does not serve the exported ModelPackageName {PACKAGE}: variant Blue serves {PACKAGE} (model Blue-model); variant Green serves no model package (model Green-model); the StackSet did not update this account, or an update rolled back")
        );
        assert!(
            !same_package("churn", "Churn"),
            "plain names compare exactly"
        );
    }

    #[test]
    fn only_a_serverless_variant_without_provisioned_concurrency_may_cold_start() {
        let hosted = |memory: Option<i32>, provisioned: Option<i32>| {
            let mut v = variant("AllTraffic", &[PACKAGE]);
            v.serverless_memory_mb = memory;
            v.serverless_provisioned_concurrency = provisioned;
            ModelCheck::of(PACKAGE, "c", vec![v]).may_cold_start()
        };
        assert!(!hosted(None, None), "instances");
        assert!(hosted(Some(2048), None));
        assert!(hosted(Some(2048), Some(0)));
        assert!(!hosted(Some(2048), Some(5)), "kept warm");
    }

    #[test]
    fn drifted_settings_fail_a_check_that_serves_the_package_and_say_so() {
        let expected = ExpectedSettings {
            instance_count: Some(2),
            ..ExpectedSettings::default()
        };
        let check = ModelCheck::of(PACKAGE, "c-old", vec![variant("AllTraffic", &[PACKAGE])])
            .with_settings(&expected, None);
        assert_eq!(check.status, CheckStatus::Failed);
        assert!(check.serves_package());
        assert_eq!(
            check.drift_message("e"),
            "endpoint e serves the exported model package but not the build config's settings: variant AllTraffic starts 1 instance(s), the build config asks for 2; an update rolled back to the old endpoint config (c-old), or the endpoint was changed by hand: deploy the stage's StackSet again"
        );
        let same = ModelCheck::of(PACKAGE, "c", vec![variant("AllTraffic", &[PACKAGE])])
            .with_settings(&ExpectedSettings::default(), Some(20));
        assert_eq!(same.status, CheckStatus::Passed);
        assert_eq!(same.data_capture_percentage, Some(20));
        let stale = ModelCheck::of(PACKAGE, "c", vec![variant("AllTraffic", &["other"])])
            .with_settings(&expected, None);
        assert!(!stale.serves_package());
    }

    #[test]
    fn an_endpoint_without_variants_fails() {
        let check = ModelCheck::of(PACKAGE, "c", vec![]);
        assert_eq!(check.status, CheckStatus::Failed);
        assert_eq!(
            check.stale_message("e"),
            "endpoint e (config c) has no production variants"
        );
    }
}
