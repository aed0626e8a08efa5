//! The decision: an explicit deny anywhere wins; each SCP must allow; then an identity-based or a
//! resource-based policy must allow, within one account, or both across accounts; a permissions
//! boundary and session policies cap the result, except for resource-based grants that name the
//! caller itself. How strongly a resource-based policy names the caller is its [`Grant`].

use std::slice;

use super::arn_fields;
use super::document::{Effect, Element, Policy, PrincipalType, Statement};
use super::patterns::text_matches;
use super::request::{Context, Kind, Principal, Request};

/// How a resource-based policy names the caller; the order is the strength of the grant.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Grant {
    /// The caller's account (`"123456789012"` or its `:root` ARN) delegates to the account,
    /// whose identity-based policies must allow too (Principal page, "AWS account principals").
    Account,
    /// The caller's role ARN needs no identity-based policy, but a boundary and session policies
    /// cap it (evaluation-logic page, the table of resource-based policies and implicit denies).
    Role,
    /// `"*"`, the user, the session or the service: not capped by a boundary or session policy
    /// (same table; Principal page on `"*"` narrowed by `aws:PrincipalArn`).
    Direct,
}

fn entry_grant(kind: PrincipalType, id: &str, who: &Principal) -> Option<Grant> {
    let root = arn_fields(id).is_some_and(|f| f[2] == "iam" && f[5] == "root");
    let service = who.kind == Kind::Service;
    if kind == PrincipalType::Aws && id == "*" {
        Some(Grant::Direct)
    } else if kind == PrincipalType::Other || (kind == PrincipalType::Service) != service {
        None
    } else if id == who.account || (root && id.split(':').nth(4) == Some(&who.account)) {
        Some(Grant::Account)
    } else if who.role_arn.as_deref() == Some(id) {
        Some(Grant::Role)
    } else {
        (id == who.arn).then_some(Grant::Direct)
    }
}

impl Statement {
    /// How this statement's Principal (or NotPrincipal: everyone but those listed) names `who`.
    fn grant(&self, who: &Principal) -> Option<Grant> {
        let principal = self.principal.as_ref()?;
        let named = principal
            .value
            .iter()
            .filter_map(|(t, id)| entry_grant(*t, id, who));
        let strongest = named.max();
        if principal.negated {
            strongest.is_none().then_some(Grant::Direct)
        } else {
            strongest
        }
    }
}

/// A role trust policy (or a KMS key policy) must allow the principal itself, even within one
/// account (evaluation-logic page: they "must explicitly allow access for principals").
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ResourcePolicyKind {
    #[default]
    Ordinary,
    Trust,
}

/// The policies in force for one request.
#[derive(Debug, Clone, Default)]
pub struct Policies {
    /// Identity-based policies of the principal (inline, managed, from groups).
    pub identity: Vec<Policy>,
    /// The resource-based policy of the resource (bucket policy, trust policy...).
    pub resource: Option<Policy>,
    pub resource_kind: ResourcePolicyKind,
    /// The permissions boundary of the principal's user or role.
    pub boundary: Option<Policy>,
    /// Session policies passed when the role session was made (empty: none); one must allow.
    pub session: Vec<Policy>,
    /// SCPs, one per level of the organization (root, OUs, account); each must allow.
    pub scps: Vec<Policy>,
    /// The resource belongs to another account than the principal.
    pub cross_account: bool,
}

/// The outcome of [`evaluate`], with a short reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    Allow(String),
    ExplicitDeny(String),
    ImplicitDeny(String),
}

impl Decision {
    pub fn is_allowed(&self) -> bool {
        matches!(self, Decision::Allow(_))
    }

    pub fn reason(&self) -> &str {
        match self {
            Decision::Allow(r) | Decision::ExplicitDeny(r) | Decision::ImplicitDeny(r) => r,
        }
    }
}

fn deny(reason: impl Into<String>) -> Decision {
    Decision::ImplicitDeny(reason.into())
}

/// Decides `request` under `policies` (see the module documentation for the logic followed).
pub fn evaluate(request: &Request, policies: &Policies) -> Decision {
    let context = request.full_context();
    Eval { request, context }.decide(policies)
}

/// Whether `request` (from [`Request::assume_role`], with condition keys such as
/// `aws:SourceAccount` or `sts:ExternalId`) may assume its role, whose trust policy is `trust`,
/// given the caller's identity-based policies. Across accounts both must allow; within one
/// account a trust policy naming the caller's role or session suffices, one naming the account
/// needs the caller's identity policy too. For a caller with a boundary or session policy, call
/// [`evaluate`] with [`ResourcePolicyKind::Trust`].
pub fn can_assume(request: &Request, identity: &[Policy], trust: &Policy) -> Decision {
    let role_account = arn_fields(&request.resource).map(|f| f[4]);
    let policies = Policies {
        identity: identity.to_vec(),
        resource: Some(trust.clone()),
        resource_kind: ResourcePolicyKind::Trust,
        cross_account: role_account != Some(request.principal.account.as_str()),
        ..Policies::default()
    };
    evaluate(request, &policies)
}

/// What the resource-based policy and the identity-based policies allow, with their statements.
type Found = (Option<(Grant, String)>, Option<String>);

struct Eval<'a> {
    request: &'a Request,
    context: Context,
}

impl Eval<'_> {
    fn decide(&self, policies: &Policies) -> Decision {
        if let Some(by) = self.explicit_deny(policies) {
            return Decision::ExplicitDeny(format!("explicitly denied by {by}"));
        }
        let resource = self.named(policies.resource.as_ref(), Effect::Allow);
        if self.request.principal.kind == Kind::Service {
            // A service principal has no identity-based policies: the resource policy decides.
            let allowed = resource.map(|(_, by)| Decision::Allow(format!("allowed by {by}")));
            return allowed.unwrap_or_else(|| deny("no resource-based policy names this service"));
        }
        if let Some(scp) = policies
            .scps
            .iter()
            .find(|scp| !self.allows(slice::from_ref(scp)))
        {
            return deny(format!("the SCP {} does not allow it", scp.name));
        }
        let found = (resource, self.first(&policies.identity, Effect::Allow));
        if policies.cross_account {
            self.cross_account(policies, found)
        } else {
            self.same_account(policies, found)
        }
    }

    /// Action, Resource (or their Nots) and Condition match; Principal is checked apart.
    fn applies(&self, policy: &Policy, statement: &Statement) -> bool {
        let (request, vars) = (self.request, policy.variables.then_some(&self.context));
        let action = |p: &String| text_matches(p, None, true, &request.action, true);
        let resource = |p: &String| text_matches(p, vars, true, &request.resource, false);
        let mut conditions = statement.conditions.iter();
        any_of(&statement.action, action)
            && (statement.resource.as_ref()).is_none_or(|r| any_of(r, resource))
            && conditions.all(|c| c.holds(&self.context, vars.is_some()))
    }

    /// The first statement of `effect` that applies, as "policy NAME statement SID".
    fn first(&self, policies: &[Policy], effect: Effect) -> Option<String> {
        policies.iter().find_map(|policy| {
            let mut candidates = policy.statements.iter().filter(|s| s.effect == effect);
            let statement = candidates.find(|s| self.applies(policy, s))?;
            Some(format!("policy {} {}", policy.name, statement.label))
        })
    }

    fn allows(&self, policies: &[Policy]) -> bool {
        self.first(policies, Effect::Allow).is_some()
    }

    /// The strongest grant among the statements of `effect` that name the caller and apply.
    fn named(&self, policy: Option<&Policy>, effect: Effect) -> Option<(Grant, String)> {
        let policy = policy?;
        let candidates = policy.statements.iter().filter(|s| s.effect == effect);
        let named = candidates.filter_map(|s| Some((s.grant(&self.request.principal)?, s)));
        let applying = named.filter(|(_, s)| self.applies(policy, s));
        let (grant, statement) = applying.max_by_key(|(grant, _)| *grant)?;
        Some((grant, format!("policy {} {}", policy.name, statement.label)))
    }

    /// Deny evaluation: an applicable Deny in any policy is final.
    fn explicit_deny(&self, policies: &Policies) -> Option<String> {
        let layers = [
            &policies.scps[..],
            &policies.identity,
            policies.boundary.as_slice(),
        ];
        let mut layers = layers.into_iter().chain([&policies.session[..]]);
        let resource = || self.named(policies.resource.as_ref(), Effect::Deny);
        let layered = layers.find_map(|layer| self.first(layer, Effect::Deny));
        layered.or_else(|| resource().map(|(_, by)| by))
    }

    /// The permissions boundary and session policies, which cap what the others allow.
    fn limits(&self, policies: &Policies) -> Option<Decision> {
        let boundary = policies.boundary.as_slice();
        if !boundary.is_empty() && !self.allows(boundary) {
            return Some(deny("the permissions boundary does not allow it"));
        }
        let capped = !policies.session.is_empty() && !self.allows(&policies.session);
        capped.then(|| deny("no session policy allows it"))
    }

    /// Within one account: the resource-based policies table of the evaluation-logic page.
    fn same_account(&self, policies: &Policies, (resource, identity): Found) -> Decision {
        let trust = policies.resource_kind == ResourcePolicyKind::Trust;
        let by = match (resource, identity) {
            (Some((Grant::Direct, by)), _) => return Decision::Allow(format!("allowed by {by}")),
            (None, _) if trust => return deny("the trust policy does not allow this principal"),
            (Some((Grant::Role, by)), _) | (_, Some(by)) => by,
            (Some((Grant::Account, by)), None) => {
                return deny(format!("{by} only names the account"))
            }
            (None, None) => return deny("no identity-based or resource-based policy allows it"),
        };
        let allowed = || Decision::Allow(format!("allowed by {by}"));
        self.limits(policies).unwrap_or_else(allowed)
    }

    /// Across accounts: the caller's side and the resource's side must both allow.
    fn cross_account(&self, policies: &Policies, (resource, identity): Found) -> Decision {
        match (identity, resource) {
            (None, _) => deny("cross-account, and no identity-based policy allows it"),
            (Some(_), None) => deny("cross-account, and no resource-based policy allows it"),
            (Some(by), Some((_, granted))) => {
                let allowed = || Decision::Allow(format!("allowed by {by} and {granted}"));
                self.limits(policies).unwrap_or_else(allowed)
            }
        }
    }
}

fn any_of(element: &Element<Vec<String>>, matches: impl Fn(&String) -> bool) -> bool {
    element.value.iter().any(matches) != element.negated
}
