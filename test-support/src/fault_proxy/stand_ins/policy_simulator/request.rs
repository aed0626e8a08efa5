//! A SimulatePrincipalPolicy request, checked as the API reference says before any role is read,
//! and the decision for each action and resource it asks about.

use serde_json::{Map, Value};

use super::{IamError, DEFAULT_MAX_ITEMS};
use crate::policy_eval::{self, evaluate, Decision, Policies, Policy, Principal};

/// What a SimulatePrincipalPolicy request asks, checked.
pub(super) struct Simulation {
    pub(super) role_arn: String,
    pub(super) role_name: String,
    /// The caller's account: CallerArn's, else the role's.
    pub(super) caller_account: String,
    pub(super) caller: Principal,
    pub(super) actions: Vec<String>,
    pub(super) resources: Vec<String>,
    pub(super) resource_policy: Option<Policy>,
    pub(super) resource_owner: Option<String>,
    pub(super) extra_identity: Vec<Policy>,
    pub(super) boundary: Option<Policy>,
    pub(super) context: Vec<(String, Vec<String>)>,
    pub(super) max_items: usize,
    pub(super) start: usize,
}

fn text<'a>(params: &'a Map<String, Value>, key: &str) -> Option<&'a str> {
    params.get(key).and_then(Value::as_str)
}

/// The members of the awsQuery list `name` (`name.member.1`, `name.member.2`...).
fn list(params: &Map<String, Value>, name: &str) -> Vec<String> {
    (1..)
        .map_while(|n| text(params, &format!("{name}.member.{n}")))
        .map(str::to_owned)
        .collect()
}

fn is_account(text: &str) -> bool {
    text.len() == 12 && text.bytes().all(|b| b.is_ascii_digit())
}

/// The account of an ARN (its fifth field, when it is 12 digits).
fn arn_account(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|account| is_account(account))
}

/// `PolicyInputList`-style documents, parsed and named `name #N`.
fn documents(params: &Map<String, Value>, name: &str) -> Result<Vec<Policy>, IamError> {
    let parse = |(n, document): (usize, String)| {
        let value: Value = serde_json::from_str(&document)
            .map_err(|e| IamError::invalid(format!("{name} #{}: {e}", n + 1)))?;
        let policy = Policy::parse(&format!("{name} #{}", n + 1), &value);
        policy.map_err(|e| IamError::invalid(e.to_string()))
    };
    list(params, name)
        .into_iter()
        .enumerate()
        .map(parse)
        .collect()
}

impl Simulation {
    pub(super) fn parse(params: &Map<String, Value>) -> Result<Self, IamError> {
        let role_arn = text(params, "PolicySourceArn")
            .unwrap_or_default()
            .to_owned();
        let fields: Vec<&str> = role_arn.splitn(6, ':').collect();
        let role_name = match fields[..] {
            ["arn", _, "iam", "", account, resource]
                if arn_account(&role_arn) == Some(account) && resource.starts_with("role/") =>
            {
                resource.rsplit('/').next().unwrap_or_default().to_owned()
            }
            _ => {
                return Err(IamError::invalid(format!(
                    "PolicySourceArn {role_arn:?}: the fault proxy simulates the policies of a role (arn:aws:iam::<account>:role/<name>) only"
                )))
            }
        };
        let actions = list(params, "ActionNames");
        if actions.is_empty() {
            return Err(IamError::invalid("ActionNames must name an action"));
        }
        let mut resources = list(params, "ResourceArns");
        if resources.is_empty() {
            resources.push("*".to_owned());
        }
        let resource_policy = match text(params, "ResourcePolicy") {
            None => None,
            Some(document) => {
                let value: Value = serde_json::from_str(document)
                    .map_err(|e| IamError::invalid(format!("ResourcePolicy: {e}")))?;
                let policy = Policy::parse("ResourcePolicy", &value);
                Some(policy.map_err(|e| IamError::invalid(e.to_string()))?)
            }
        };
        let caller_arn = text(params, "CallerArn");
        let is_user = |arn: &str| {
            let fields: Vec<&str> = arn.splitn(6, ':').collect();
            matches!(fields[..], ["arn", _, "iam", "", _, user] if user.starts_with("user/"))
                && arn_account(arn).is_some()
        };
        let caller = match caller_arn {
            Some(arn) if !is_user(arn) => {
                return Err(IamError::invalid(format!(
                    "CallerArn {arn:?}: you can specify only the ARN of an IAM user"
                )))
            }
            Some(arn) => Principal::from_arn(arn),
            None if resource_policy.is_some() => {
                return Err(IamError::invalid(
                    "CallerArn is required if you include a ResourcePolicy and the PolicySourceArn is not the ARN for an IAM user",
                ))
            }
            None => Principal::from_arn(&role_arn),
        }
        .map_err(|e| IamError::invalid(e.to_string()))?;
        let caller_account = arn_account(caller_arn.unwrap_or(&role_arn))
            .unwrap_or_default()
            .to_owned();
        let resource_owner = match text(params, "ResourceOwner") {
            None => None,
            Some(owner) => match arn_account(owner).or(is_account(owner).then_some(owner)) {
                Some(account) => Some(account.to_owned()),
                None => {
                    return Err(IamError::invalid(format!(
                        "ResourceOwner {owner:?} is not an account (arn:aws:iam::<account>:root)"
                    )))
                }
            },
        };
        let boundaries = documents(params, "PermissionsBoundaryPolicyInputList")?;
        let mut context = Vec::new();
        for n in 1.. {
            let entry = format!("ContextEntries.member.{n}");
            let Some(key) = text(params, &format!("{entry}.ContextKeyName")) else {
                break;
            };
            let values = list(params, &format!("{entry}.ContextKeyValues"));
            context.push((key.to_owned(), values));
        }
        let max_items = match text(params, "MaxItems") {
            None => DEFAULT_MAX_ITEMS,
            Some(max) => match max.parse() {
                Ok(max @ 1..=1000) => max,
                _ => {
                    return Err(IamError::invalid(format!(
                        "MaxItems {max} is not 1 to 1000"
                    )))
                }
            },
        };
        let pairs = actions.len() * resources.len();
        let start = match text(params, "Marker") {
            None => 0,
            Some(marker) => match marker.parse() {
                Ok(start) if start > 0 && start < pairs => start,
                _ => return Err(IamError::invalid(format!("Marker {marker:?} is not valid"))),
            },
        };
        Ok(Simulation {
            role_arn,
            role_name,
            caller_account,
            caller,
            actions,
            resources,
            resource_policy,
            resource_owner,
            extra_identity: documents(params, "PolicyInputList")?,
            boundary: boundaries.into_iter().next(),
            context,
            max_items,
            start,
        })
    }

    /// The decision for `action` on `resource` under the role's `identity` and `boundary`, and
    /// for a resource of another account how each side decided alone (`EvalDecisionDetails`:
    /// <https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html>).
    pub(super) fn decide(
        &self,
        identity: &[Policy],
        boundary: Option<&Policy>,
        action: &str,
        resource: &str,
    ) -> (Decision, Option<[(&'static str, Decision); 2]>) {
        let owner = arn_account(resource)
            .or(self.resource_owner.as_deref())
            .unwrap_or(&self.caller_account);
        let policies = Policies {
            identity: identity
                .iter()
                .chain(&self.extra_identity)
                .cloned()
                .collect(),
            resource: self.resource_policy.clone(),
            boundary: self.boundary.as_ref().or(boundary).cloned(),
            cross_account: owner != self.caller_account,
            ..Policies::default()
        };
        let mut request = policy_eval::Request::new(self.caller.clone(), action, resource);
        for (key, values) in &self.context {
            let values: Vec<&str> = values.iter().map(String::as_str).collect();
            request = request.with_values(key, &values);
        }
        let details = policies.cross_account.then(|| {
            let identity_alone = Policies {
                resource: None,
                cross_account: false,
                ..policies.clone()
            };
            let resource_alone = Policies {
                identity: Vec::new(),
                boundary: None,
                cross_account: false,
                ..policies.clone()
            };
            let resource_decision = match &policies.resource {
                Some(_) => evaluate(&request, &resource_alone),
                None => Decision::ImplicitDeny("no resource policy".into()),
            };
            [
                ("IAM Policy", evaluate(&request, &identity_alone)),
                ("Resource Policy", resource_decision),
            ]
        });
        (evaluate(&request, &policies), details)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_is_checked_before_any_role_is_read() {
        let params = |pairs: &[(&str, &str)]| {
            let mut params = Map::new();
            for (k, v) in pairs {
                params.insert((*k).to_owned(), Value::from(*v));
            }
            params
        };
        let role = ("PolicySourceArn", "arn:aws:iam::111122223333:role/path/r");
        let action = ("ActionNames.member.1", "s3:GetObject");
        let parsed = Simulation::parse(&params(&[role, action])).unwrap();
        assert_eq!(parsed.role_name, "r");
        assert_eq!(parsed.resources, ["*"]);
        assert_eq!(parsed.caller_account, "111122223333");
        let invalid = |pairs: &[(&str, &str)]| {
            let error = Simulation::parse(&params(pairs)).err().unwrap();
            assert_eq!((error.status, error.code), (400, "InvalidInput"));
            error.message
        };
        let user = ("PolicySourceArn", "arn:aws:iam::111122223333:user/u");
        assert!(invalid(&[user, action]).contains("of a role"));
        assert!(invalid(&[role]).contains("ActionNames"));
        let policy = ("ResourcePolicy", r#"{"Statement": []}"#);
        assert!(invalid(&[role, action, policy]).contains("CallerArn is required"));
        let session = ("CallerArn", "arn:aws:sts::111122223333:assumed-role/r/s");
        assert!(invalid(&[role, action, session]).contains("only the ARN of an IAM user"));
        let owner = ("ResourceOwner", "me");
        assert!(invalid(&[role, action, owner]).contains("ResourceOwner"));
        let bare = ("ResourceOwner", "444455556666");
        let parsed = Simulation::parse(&params(&[role, action, bare])).unwrap();
        assert_eq!(parsed.resource_owner.as_deref(), Some("444455556666"));
        assert!(invalid(&[role, action, ("Marker", "1")]).contains("Marker"));
        assert!(invalid(&[role, action, ("MaxItems", "0")]).contains("MaxItems"));
    }
}
