//! `test-step status` for one target: assume the role, describe the endpoint (no wait), trace it
//! to its model package(s) and settings with the test's own model check, and report the three
//! checks `endpoint` (exists and InService), `model-package` (serves the build config's package)
//! and `settings` (no drift), with what it serves. Nothing is written and nothing invoked: the
//! session policy allows only the describe calls.

use std::sync::Arc;

use aws_sdk_sagemaker::types::EndpointStatus;
use deploy_core::drift::ExpectedSettings;
use deploy_core::fleet::{Check, EndpointState, FleetTarget};
use deploy_core::targets::Target;
use deploy_core::verdict::Cause;
use deploy_shell::AwsCallError;

use crate::clock::Clock;
use crate::model_check::{check_model, Expected};
use crate::session::{ClientFactory, RoleToAssume, Session};

/// Everything every target's status shares.
pub(crate) struct StatusCheck {
    pub(crate) role: RoleToAssume,
    pub(crate) factory: Arc<dyn ClientFactory>,
    pub(crate) clock: Arc<dyn Clock>,
    pub(crate) endpoint_name: String,
    pub(crate) model_package_name: String,
    pub(crate) settings: ExpectedSettings,
}

const ENDPOINT: &str = "endpoint";
const PACKAGE: &str = "model-package";
const SETTINGS: &str = "settings";

impl StatusCheck {
    /// The status of one target, into `report`; never fails.
    pub(crate) async fn check(&self, target: &Target, report: &mut FleetTarget) {
        let place = format!(
            "endpoint {} in account {} region {}",
            self.endpoint_name, target.account_id, target.region
        );
        let not_checked = |report: &mut FleetTarget, why: &str| {
            for name in [PACKAGE, SETTINGS] {
                report.checks.push(Check::skipped(name, why));
            }
        };
        let mut session = match Session::open(
            self.role.clone(),
            self.factory.clone(),
            self.clock.clone(),
            target.clone(),
        )
        .await
        {
            Ok(session) => session,
            Err(cause) => {
                report
                    .checks
                    .push(Check::error(ENDPOINT, cause.to_string()));
                return not_checked(report, "not checked: the role could not be assumed");
            }
        };
        let described = match session.sagemaker().await {
            Ok(sagemaker) => sagemaker
                .describe_endpoint()
                .endpoint_name(&self.endpoint_name)
                .send()
                .await
                .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpoint", e)),
            Err(cause) => {
                report
                    .checks
                    .push(Check::error(ENDPOINT, cause.to_string()));
                return not_checked(report, "not checked: the role could not be assumed");
            }
        };
        let endpoint = match described {
            Ok(endpoint) => endpoint,
            Err(err) => {
                let cause = session.describe_failure(&err, |detail| {
                    Cause::NotInService(format!("{place} does not exist ({detail}); deploy the stage's StackSet to this account and Region"))
                });
                let check = match cause {
                    Cause::NotInService(message) => Check::failed(ENDPOINT, message),
                    other => Check::error(ENDPOINT, other.to_string()),
                };
                report.checks.push(check);
                return not_checked(report, "not checked: no endpoint to describe");
            }
        };
        let status = endpoint
            .endpoint_status()
            .map_or("(no status)", EndpointStatus::as_str)
            .to_owned();
        let last_modified = endpoint
            .last_modified_time()
            .and_then(|t| t.fmt(aws_smithy_types::date_time::Format::DateTime).ok());
        report.checks.push(
            if endpoint.endpoint_status() == Some(&EndpointStatus::InService) {
                Check::passed(ENDPOINT, format!("{place} is InService"))
            } else {
                let reason = endpoint
                    .failure_reason()
                    .map(|r| format!(" ({})", deploy_core::remote_text::contained(r, 300)))
                    .unwrap_or_default();
                Check::failed(ENDPOINT, format!("{place} is {status}{reason}"))
            },
        );
        let mut state = EndpointState {
            endpoint_status: status,
            last_modified,
            endpoint_config_name: endpoint.endpoint_config_name().map(str::to_owned),
            variants: Vec::new(),
            data_capture_percentage: None,
            serves_package: false,
            drift: Vec::new(),
        };
        let Some(config) = endpoint.endpoint_config_name().filter(|c| !c.is_empty()) else {
            report.endpoint = Some(state);
            return not_checked(report, "not checked: the endpoint names no endpoint config");
        };
        let expected = Expected {
            package: &self.model_package_name,
            settings: &self.settings,
        };
        match check_model(&mut session, &self.endpoint_name, config, &expected).await {
            Ok(check) => {
                state.serves_package = check.serves_package();
                report.checks.push(if state.serves_package {
                    Check::passed(PACKAGE, format!("serves {}", self.model_package_name))
                } else {
                    Check::failed(PACKAGE, check.stale_message(&self.endpoint_name))
                });
                report.checks.push(if check.drift.is_empty() {
                    Check::passed(
                        SETTINGS,
                        "the hosting and data capture the build config sets",
                    )
                } else {
                    Check::failed(SETTINGS, check.drift_message(&self.endpoint_name))
                });
                state.variants = check.variants;
                state.data_capture_percentage = check.data_capture_percentage;
                state.drift = check.drift;
            }
            Err(Cause::ServesAnotherPackage(message)) => {
                report.checks.push(Check::failed(PACKAGE, message));
                report.checks.push(Check::skipped(
                    SETTINGS,
                    "not checked: the model could not be described",
                ));
            }
            Err(cause) => {
                report.checks.push(Check::error(PACKAGE, cause.to_string()));
                report.checks.push(Check::skipped(
                    SETTINGS,
                    "not checked: the model could not be described",
                ));
            }
        }
        report.endpoint = Some(state);
    }
}
