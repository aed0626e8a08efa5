//! The model of one API call as IAM sees it: who calls ([`Principal`]: a user, a role session or a
//! service), the action and resource, and the condition keys ([`Context`]), with the keys IAM
//! fills in from the principal.

use std::collections::BTreeMap;

use super::{arn_fields, fail, PolicyError};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Kind {
    User,
    /// A role session; a bare role ARN stands for a session of that role.
    Role,
    Service,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub(super) kind: Kind,
    /// The caller's own ARN (a session's ARN for a session); a service's name.
    pub(super) arn: String,
    pub(super) account: String,
    /// For a role session, the role's ARN: what `aws:PrincipalArn` holds.
    pub(super) role_arn: Option<String>,
}

impl Principal {
    /// An IAM user (`arn:aws:iam::<account>:user/<path/name>`), a role (`...:role/<path/name>`,
    /// standing for a session of it) or an assumed-role session
    /// (`arn:aws:sts::<account>:assumed-role/<name>/<session>`; its role ARN is rebuilt without
    /// a path: use [`Principal::role_session`] for a role that has one).
    pub fn from_arn(arn: &str) -> Result<Self, PolicyError> {
        let Some([_, partition, service, _, account, resource]) = arn_fields(arn) else {
            return fail(format!("not an ARN: {arn}"));
        };
        let parts: Vec<&str> = resource.split('/').collect();
        let role = |name| Some(format!("arn:{partition}:iam::{account}:role/{name}"));
        let (kind, role_arn) = match (service, parts.as_slice()) {
            ("iam", ["user", _, ..]) => (Kind::User, None),
            ("iam", ["role", _, ..]) => (Kind::Role, Some(arn.to_owned())),
            ("sts", ["assumed-role", name, _]) => (Kind::Role, role(name)),
            _ => return fail(format!("not a user, role or role session ARN: {arn}")),
        };
        Ok(Self::new(kind, arn, account, role_arn))
    }

    /// The session named `session` of the role `role_arn` (whose path is kept).
    pub fn role_session(role_arn: &str, session: &str) -> Result<Self, PolicyError> {
        let role = arn_fields(role_arn).filter(|f| f[2] == "iam" && f[5].starts_with("role/"));
        let Some([_, partition, _, _, account, resource]) = role else {
            return fail(format!("not a role ARN: {role_arn}"));
        };
        let name = resource.rsplit('/').next().unwrap_or_default();
        let arn = format!("arn:{partition}:sts::{account}:assumed-role/{name}/{session}");
        let role_arn = Some(role_arn.to_owned());
        Ok(Self::new(Kind::Role, &arn, account, role_arn))
    }

    /// A service principal such as `codebuild.amazonaws.com`.
    pub fn service(name: &str) -> Self {
        Self::new(Kind::Service, name, "", None)
    }

    fn new(kind: Kind, arn: &str, account: &str, role_arn: Option<String>) -> Self {
        let (arn, account) = (arn.to_owned(), account.to_owned());
        Principal {
            kind,
            arn,
            account,
            role_arn,
        }
    }

    pub fn arn(&self) -> &str {
        &self.arn
    }
}

/// Condition keys of a request. Names compare case-insensitively; each key holds one value or,
/// for a multivalued key such as `aws:TagKeys`, several; an empty list is a null data set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Context(BTreeMap<String, Vec<String>>);

impl Context {
    pub fn set(&mut self, key: &str, values: Vec<String>) {
        self.0.insert(key.to_ascii_lowercase(), values);
    }

    /// The values of `key`, or `None` when it is missing or holds no value.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        let values = self.0.get(&key.to_ascii_lowercase())?;
        (!values.is_empty()).then_some(values.as_slice())
    }

    fn set_default(&mut self, key: &str, value: &str) {
        let entry = self.0.entry(key.to_ascii_lowercase());
        entry.or_insert_with(|| vec![value.to_owned()]);
    }
}

/// One API call: who calls, which action (`service:Action`), on which resource ARN, with which
/// condition keys. Unless set, `aws:PrincipalArn`, `aws:PrincipalAccount`, `aws:username` (users)
/// and `aws:PrincipalServiceName` (services) are filled in from the principal.
#[derive(Debug, Clone)]
pub struct Request {
    pub principal: Principal,
    pub action: String,
    pub resource: String,
    pub context: Context,
}

impl Request {
    pub fn new(principal: Principal, action: &str, resource: &str) -> Self {
        let (action, resource, context) = (action.into(), resource.into(), Context::default());
        Request {
            principal,
            action,
            resource,
            context,
        }
    }

    /// `sts:AssumeRole` of `role_arn` by `caller`, for [`can_assume`](super::can_assume).
    pub fn assume_role(caller: Principal, role_arn: &str) -> Self {
        Self::new(caller, "sts:AssumeRole", role_arn)
    }

    #[must_use]
    pub fn with(self, key: &str, value: &str) -> Self {
        self.with_values(key, &[value])
    }

    #[must_use]
    pub fn with_values(mut self, key: &str, values: &[&str]) -> Self {
        let values = values.iter().map(|v| (*v).to_owned()).collect();
        self.context.set(key, values);
        self
    }

    pub(super) fn full_context(&self) -> Context {
        let (mut context, who) = (self.context.clone(), &self.principal);
        let (arn, name) = (&who.arn, who.arn.rsplit('/').next().unwrap_or_default());
        if who.kind == Kind::Service {
            context.set_default("aws:PrincipalServiceName", arn);
        } else {
            context.set_default("aws:PrincipalArn", who.role_arn.as_ref().unwrap_or(arn));
            context.set_default("aws:PrincipalAccount", &who.account);
        }
        if who.kind == Kind::User {
            context.set_default("aws:username", name);
        }
        context
    }
}
