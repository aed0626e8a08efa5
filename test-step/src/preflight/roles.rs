//! `execution-role` and `deploy-role`: the roles the stack needs exist in the target and trust
//! whom they must, judged by `deploy_core::grants`.

use deploy_core::fleet::Check;
use deploy_core::grants::{trusts, Trustee};
use deploy_shell::AwsCallError;

use super::{TargetRun, DEPLOY_ROLE, EXECUTION_ROLE, SAGEMAKER};

/// A role as GetRole found it.
enum RoleRead {
    /// Its trust policy.
    Trust(String),
    /// It does not exist: the check says so.
    Missing(Check),
    /// It could not be read: the check says why.
    Unread(Check),
}

impl TargetRun<'_> {
    /// GetRole `name`: its trust policy, or the check that says why there is none.
    async fn trust_policy(&mut self, check: &str, name: &str) -> RoleRead {
        let iam = match self.iam().await {
            Ok(iam) => iam,
            Err(c) => {
                return RoleRead::Unread(Check {
                    name: check.into(),
                    ..c
                })
            }
        };
        let got = iam
            .get_role()
            .role_name(name)
            .send()
            .await
            .map_err(|e| AwsCallError::new("iam:GetRole", e));
        match got {
            Ok(out) => RoleRead::Trust(
                out.role()
                    .and_then(|r| r.assume_role_policy_document())
                    .unwrap_or_default()
                    .to_owned(),
            ),
            Err(err) if err.code() == Some("NoSuchEntity") => RoleRead::Missing(Check::failed(
                check,
                format!(
                    "role {name} does not exist in account {}: deploy templates/target-account-role.yml there for this project and stage",
                    self.target.account_id
                ),
            )),
            Err(err) => RoleRead::Unread(self.not_run(check, &err)),
        }
    }

    fn judge_trust(
        check: &str,
        role: &str,
        policy: &str,
        trustee: Trustee<'_>,
        whom: &str,
    ) -> Check {
        match trusts(policy, trustee) {
            Ok(true) => Check::passed(check, format!("role {role} exists and trusts {whom}")),
            Ok(false) => Check::failed(
                check,
                format!("role {role} does not trust {whom}: its trust policy must let {whom} assume it (redeploy templates/target-account-role.yml)"),
            ),
            Err(why) => Check::failed(check, format!("role {role}: {why}")),
        }
    }

    /// The execution role's check, and whether the role is known not to exist (then nothing
    /// can be simulated for it).
    pub(super) async fn execution_role(&mut self) -> (Check, bool) {
        let Some(role) = self.preflight.execution_role.clone() else {
            let check = Check::skipped(
                EXECUTION_ROLE,
                "the build config names no RoleName: build-step writes it",
            );
            return (check, false);
        };
        match self.trust_policy(EXECUTION_ROLE, &role).await {
            RoleRead::Trust(policy) => {
                let trustee = Trustee::Service(SAGEMAKER);
                let check = Self::judge_trust(EXECUTION_ROLE, &role, &policy, trustee, SAGEMAKER);
                (check, false)
            }
            RoleRead::Missing(check) => (check, true),
            RoleRead::Unread(check) => (check, false),
        }
    }

    pub(super) async fn deploy_role(&mut self) -> Check {
        let Some(role) = self.preflight.deploy_role.clone() else {
            return Check::skipped(
                DEPLOY_ROLE,
                "no --deploy-role-name (STACKSET_EXECUTION_ROLE_NAME): a SERVICE_MANAGED StackSet's execution role is CloudFormation's own",
            );
        };
        let policy = match self.trust_policy(DEPLOY_ROLE, &role).await {
            RoleRead::Trust(policy) => policy,
            RoleRead::Missing(check) | RoleRead::Unread(check) => return check,
        };
        match &self.preflight.admin_role {
            Some(admin) => {
                Self::judge_trust(DEPLOY_ROLE, &role, &policy, Trustee::Role(admin), admin)
            }
            None => Check::passed(
                DEPLOY_ROLE,
                format!(
                    "role {role} exists (no --deploy-admin-role-arn to judge its trust policy by)"
                ),
            ),
        }
    }
}
