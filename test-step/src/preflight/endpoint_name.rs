//! `endpoint-name`: `<project>-<stage>` is free in the target, or is this project's stack's (an
//! endpoint made by hand under that name makes the deploy fail).

use std::collections::BTreeMap;

use deploy_core::fleet::Check;
use deploy_shell::AwsCallError;

use super::{TargetRun, ENDPOINT_NAME};

impl TargetRun<'_> {
    pub(super) async fn endpoint_name(&mut self) -> Check {
        let name = self.preflight.endpoint_name.clone();
        let sagemaker = match self.session.sagemaker().await {
            Ok(client) => client,
            Err(cause) => return Check::error(ENDPOINT_NAME, cause.to_string()),
        };
        let described = sagemaker
            .describe_endpoint()
            .endpoint_name(&name)
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:DescribeEndpoint", e));
        let endpoint = match described {
            Ok(endpoint) => endpoint,
            // SageMaker answers a name that does not exist with a ValidationException.
            Err(err) if err.code() == Some("ValidationException") => {
                return Check::passed(ENDPOINT_NAME, format!("{name} is free in {}", self.place))
            }
            Err(err) => return self.not_run(ENDPOINT_NAME, &err),
        };
        let tags = sagemaker
            .list_tags()
            .set_resource_arn(endpoint.endpoint_arn().map(str::to_owned))
            .send()
            .await
            .map_err(|e| AwsCallError::new("sagemaker:ListTags", e));
        let tags: BTreeMap<String, String> = match tags {
            Ok(out) => out
                .tags()
                .iter()
                .filter_map(|t| Some((t.key()?.to_owned(), t.value()?.to_owned())))
                .collect(),
            Err(err) => return self.not_run(ENDPOINT_NAME, &err),
        };
        let project = tags.get("sagemaker:project-id");
        let stack = tags.get("aws:cloudformation:stack-name");
        match (project, stack, &self.preflight.project_id) {
            (Some(found), Some(stack), Some(ours)) if found == ours => Check::passed(
                ENDPOINT_NAME,
                format!("{name} in {} belongs to this project's stack {stack}", self.place),
            ),
            _ => Check::failed(
                ENDPOINT_NAME,
                format!(
                    "endpoint {name} already exists in {} and is not this project's stack's (sagemaker:project-id {}, stack {}): it was made by hand or by another stack, and CloudFormation cannot create it; delete or rename it before the deploy",
                    self.place,
                    project.map_or("none", String::as_str),
                    stack.map_or("none", String::as_str)
                ),
            ),
        }
    }
}
