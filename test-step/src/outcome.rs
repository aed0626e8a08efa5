//! How one stage of a target's test (the session, the wait, the model check, an invocation) ends
//! short of passing: with a [`Cause`] of `deploy_core::verdict`, which decides what it means for
//! the target and the run. Every stage returns one, so the stages need nothing from each other to
//! say so; this module turns a failed AWS call into the cause that keeps its kind.

use deploy_core::verdict::{AwsErrorKind, Cause};
use deploy_shell::AwsCallError;

/// The cause for a target that `err` kept from being tested, described by `message`.
pub(crate) fn aws_error(err: &AwsCallError, message: String) -> Cause {
    let kind = if err.is_access_denied() {
        AwsErrorKind::AccessDenied
    } else if err.code().is_some() {
        AwsErrorKind::Service
    } else {
        AwsErrorKind::Network
    };
    Cause::Aws { kind, message }
}

#[cfg(test)]
mod tests {
    use aws_sdk_sagemaker::config::http::HttpResponse;
    use aws_sdk_sagemaker::error::SdkError;
    use aws_sdk_sagemaker::operation::describe_endpoint::DescribeEndpointError;
    use aws_smithy_mocks::{mock, mock_client};

    use super::*;
    use crate::test_kit::error;

    /// The error of a DescribeEndpoint call that AWS answered with `code`.
    async fn answered(code: &'static str) -> AwsCallError {
        let rule = mock!(aws_sdk_sagemaker::Client::describe_endpoint)
            .then_error(move || DescribeEndpointError::generic(error(code, "no")));
        let client = mock_client!(aws_sdk_sagemaker, [&rule]);
        let err = client
            .describe_endpoint()
            .endpoint_name("e")
            .send()
            .await
            .unwrap_err();
        AwsCallError::new("sagemaker:DescribeEndpoint", err)
    }

    #[tokio::test]
    async fn a_failed_call_keeps_its_kind_and_its_message() {
        let kind = |cause: Cause| match cause {
            Cause::Aws { kind, message } => {
                assert_eq!(message, "m");
                kind
            }
            other => panic!("{other:?}"),
        };
        let denied = answered("AccessDeniedException").await;
        assert_eq!(
            kind(aws_error(&denied, "m".into())),
            AwsErrorKind::AccessDenied
        );
        let internal = answered("InternalFailure").await;
        assert_eq!(
            kind(aws_error(&internal, "m".into())),
            AwsErrorKind::Service
        );
        let timeout = SdkError::<DescribeEndpointError, HttpResponse>::timeout_error("timed out");
        let unanswered = AwsCallError::new("sagemaker:DescribeEndpoint", timeout);
        assert_eq!(
            kind(aws_error(&unanswered, "m".into())),
            AwsErrorKind::Network
        );
    }
}
