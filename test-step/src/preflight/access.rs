//! `model-artifacts` and `model-image`: whether the target's execution role may read what the
//! model needs, its own policies judged by IAM's policy simulator and a resource of another
//! account's policy by `deploy_core::grants`.

use deploy_core::fleet::Check;
use deploy_core::grants::{allows, Trustee};
use deploy_shell::AwsCallError;

use super::sources::{PolicyRead, Resource};
use super::{TargetRun, IMAGE};

/// How the role's own policies decided one simulated action: the decision itself, or for a
/// resource of another account (where the simulator asks the resource's policy too, and none was
/// given) the identity side of `EvalDecisionDetails`
/// (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html>); `None`
/// when the answer does not say.
fn identity_decision(result: &aws_sdk_iam::types::EvaluationResult) -> Option<&str> {
    let decision = result.eval_decision().as_str();
    if decision != "implicitDeny" {
        return Some(decision);
    }
    match result.eval_decision_details() {
        Some(details) if !details.is_empty() => details
            .iter()
            .find(|(side, _)| side.to_ascii_lowercase().contains("iam"))
            .map(|(_, decision)| decision.as_str()),
        _ => Some(decision),
    }
}

impl TargetRun<'_> {
    pub(super) async fn image(&mut self) -> Check {
        let sources = &self.preflight.sources;
        if sources.images.is_empty() && !sources.other_images.is_empty() {
            return Check::skipped(
                IMAGE,
                format!(
                    "the image {} is not in ECR: no IAM policy of this account decides who pulls it",
                    sources.other_images.join(", ")
                ),
            );
        }
        self.may_read(IMAGE, &sources.images, "image").await
    }

    /// Whether the execution role may make `resource.actions` on each resource: its own
    /// policies by IAM's simulator, and for a resource of another account the resource's policy
    /// by `deploy_core::grants` (the simulator takes a resource policy only for an IAM user
    /// caller; see that module).
    pub(super) async fn may_read(
        &mut self,
        check: &str,
        resources: &[Resource],
        what: &str,
    ) -> Check {
        if let Some(why) = &self.preflight.sources.unreadable {
            return Check::skipped(check, why.clone());
        }
        if resources.is_empty() {
            return Check::skipped(check, format!("the model package names no {what} to check"));
        }
        let Some(role_name) = self.preflight.execution_role.clone() else {
            return Check::skipped(check, "the build config names no RoleName");
        };
        let account = self.target.account_id.clone();
        let role = format!(
            "arn:{}:iam::{account}:role/{role_name}",
            self.preflight.role.partition
        );
        let iam = match self.iam().await {
            Ok(iam) => iam,
            Err(c) => {
                return Check {
                    name: check.into(),
                    ..c
                }
            }
        };
        let mut allowed = Vec::new();
        let mut unsure = Vec::new();
        for resource in resources {
            let simulated = iam
                .simulate_principal_policy()
                .policy_source_arn(&role)
                .set_action_names(Some(
                    resource.actions.iter().map(|a| (*a).to_owned()).collect(),
                ))
                .resource_arns(&resource.arn)
                .send()
                .await
                .map_err(|e| AwsCallError::new("iam:SimulatePrincipalPolicy", e));
            let out = match simulated {
                Ok(out) => out,
                Err(err) => return self.not_run(check, &err),
            };
            let results = out.evaluation_results();
            let mut unknown = false;
            let denied: Vec<String> = results
                .iter()
                .filter_map(|r| match identity_decision(r) {
                    Some("allowed") => None,
                    Some(decision) => Some(format!("{} ({decision})", r.eval_action_name())),
                    None => {
                        unknown = true;
                        None
                    }
                })
                .collect();
            if unknown && denied.is_empty() {
                unsure.push(format!(
                    "IAM's policy simulator judged {} across accounts without saying how the execution role's own policy decided",
                    resource.label
                ));
                continue;
            }
            if results.is_empty() || !denied.is_empty() {
                let denied = if results.is_empty() {
                    "no decision".into()
                } else {
                    denied.join(", ")
                };
                return Check::failed(
                    check,
                    format!(
                        "the execution role {role} may not read {}: its own policy does not allow {denied}, by IAM's policy simulator, in {}; {}",
                        resource.label, self.place, resource.fix
                    ),
                );
            }
            if resource.owner.as_deref() == Some(account.as_str()) {
                allowed.push(resource.label.clone());
                continue;
            }
            let policy = match &resource.policy {
                PolicyRead::Found(policy) => policy.as_str(),
                PolicyRead::None => "{\"Statement\":[]}",
                PolicyRead::Unreadable(why) => {
                    unsure.push(format!(
                        "the execution role's own policy allows {}, but its resource policy could not be read with the pipeline's role ({why})",
                        resource.label
                    ));
                    continue;
                }
            };
            let refused: Vec<&str> = resource
                .actions
                .iter()
                .copied()
                .filter(|action| {
                    !allows(policy, Trustee::Role(&role), action, Some(&resource.arn))
                        .unwrap_or(false)
                })
                .collect();
            if !refused.is_empty() {
                return Check::failed(
                    check,
                    format!(
                        "the execution role {role} may not read {}: the resource policy of account {} grants account {account} no {}; {}",
                        resource.label,
                        resource.owner.as_deref().unwrap_or("(unknown)"),
                        refused.join(", "),
                        resource.fix
                    ),
                );
            }
            allowed.push(resource.label.clone());
        }
        if unsure.is_empty() {
            Check::passed(
                check,
                format!("the execution role {role} may read {}", allowed.join(", ")),
            )
        } else {
            Check::skipped(check, unsure.join("; "))
        }
    }
}
