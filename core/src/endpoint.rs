//! The endpoint naming rule, in one place: the template names the endpoint
//! `${SageMakerProjectName}-${StageName}`, `build-step` validates that name before it renders, and
//! `test-step` derives the same name to find the endpoint it must test.

use thiserror::Error;

/// SageMaker's limit on endpoint names.
pub const MAX_ENDPOINT_NAME_LEN: usize = 63;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum EndpointNameError {
    #[error(
        "the endpoint name \"{name}\" (<project>-<stage>) is {len} characters, over SageMaker's limit of {MAX_ENDPOINT_NAME_LEN}; shorten the project name or the StageName"
    )]
    TooLong { name: String, len: usize },
    #[error(
        "the endpoint name \"{name}\" (<project>-<stage>) is not a valid SageMaker endpoint name: use letters, digits and single hyphens between them (pattern ^[a-zA-Z0-9](-*[a-zA-Z0-9])*$) in the project name and the StageName"
    )]
    Invalid { name: String },
}

/// The endpoint name the template gives a stage's endpoint, checked against SageMaker's rules.
pub fn endpoint_name(project_name: &str, stage_name: &str) -> Result<String, EndpointNameError> {
    let name = format!("{project_name}-{stage_name}");
    let len = name.chars().count();
    if len > MAX_ENDPOINT_NAME_LEN {
        return Err(EndpointNameError::TooLong { name, len });
    }
    let valid_chars = name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
    let starts_and_ends_alphanumeric = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_alphanumeric());
    if !valid_chars || !starts_and_ends_alphanumeric {
        return Err(EndpointNameError::Invalid { name });
    }
    Ok(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_project_and_stage() {
        assert_eq!(endpoint_name("churn", "staging").unwrap(), "churn-staging");
    }

    #[test]
    fn rejects_names_over_63_characters() {
        let project = "p".repeat(32);
        assert!(endpoint_name(&project, &"s".repeat(30)).is_ok());
        let err = endpoint_name(&project, &"s".repeat(31)).unwrap_err();
        assert!(matches!(err, EndpointNameError::TooLong { len: 64, .. }));
    }

    #[test]
    fn rejects_characters_sagemaker_refuses() {
        for stage in ["stag_ing", "staging-", "st aging", "stägé", ""] {
            assert!(
                endpoint_name("churn", stage).is_err(),
                "{stage:?} should be rejected"
            );
        }
    }
}
