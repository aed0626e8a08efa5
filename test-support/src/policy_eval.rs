//! An IAM policy evaluator for tests. The AWS emulator enforces no IAM, so tests use this module
//! to prove that a role grants exactly the calls the binaries make: given a [`Request`]
//! (principal, action, resource ARN, condition context) and the [`Policies`] in force, [`evaluate`]
//! returns a [`Decision`] (allow, explicit deny, implicit deny) whose reason names the deciding
//! statement or the layer that lacked an allow. [`can_assume`] does the same for role trust.
//!
//! It follows the IAM User Guide (https://docs.aws.amazon.com/IAM/latest/UserGuide/), page by page:
//! - reference_policies_evaluation-logic.html and its flow chart
//!   (reference_policies_evaluation-logic_policy-eval-denyallow.html): an explicit deny anywhere
//!   wins; each SCP must allow; an identity-based or a resource-based policy must allow; a
//!   permissions boundary and session policies cap the result, except for resource-based grants
//!   that name the session (or user) itself.
//! - reference_policies_evaluation-logic-cross-account.html: across accounts the caller's side
//!   (identity-based policy and its limits) and the resource-based policy must both allow.
//! - reference_policies_elements_condition_operators.html,
//!   reference_policies_condition-single-vs-multi-valued-context-keys.html and
//!   reference_policies_condition-logic-multiple-context-keys-or-values.html: the operators,
//!   `...IfExists`, `Null`, the `ForAllValues:`/`ForAnyValue:` set operators, AND/OR/NOR.
//! - reference_policies_elements_principal.html, _notprincipal.html, _action.html,
//!   _notaction.html, _resource.html, _notresource.html, _version.html and
//!   reference_policies_variables.html for the elements and `${...}` variables.
//! - access_policies_boundaries.html, id_credentials_temp_control-access_assumerole.html
//!   (session policies) and id_roles_update-role-trust-policy.html (trust policies).
//!
//! Deliberately left out: the root user's default full access, resource control policies, VPC
//! endpoint policies, ACLs, KMS grants and other service-specific rules; federated principals
//! (a `Federated` or `CanonicalUser` principal parses but matches no caller); NotPrincipal's quirk
//! with principals that carry a boundary; the checks AWS makes when a policy is saved (a `"*"`
//! principal in a trust policy is accepted); `${key, 'default'}` defaults. Dates compare as epoch
//! seconds when both sides are numbers, else as ISO 8601 text (so: UTC, one precision). A
//! multivalued key under a plain operator behaves as under `ForAnyValue:`; a statement without
//! Resource (a trust policy's) covers any resource.

use std::cmp::Ordering::{self, Equal, Greater, Less};
use std::collections::BTreeMap;
use std::fmt;
use std::net::IpAddr;
use std::slice;

use serde_json::{Map, Value};

/// A policy document or principal ARN that cannot be read, with the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PolicyError(pub String);

impl fmt::Display for PolicyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PolicyError {}

fn fail<T>(message: impl Into<String>) -> Result<T, PolicyError> {
    Err(PolicyError(message.into()))
}

fn prefixed<T>(prefix: &str, result: Result<T, PolicyError>) -> Result<T, PolicyError> {
    result.map_err(|e| PolicyError(format!("{prefix}: {}", e.0)))
}

/// The six colon-separated fields of an ARN, the last one keeping any further colons.
fn arn_fields(arn: &str) -> Option<[&str; 6]> {
    let fields: [&str; 6] = arn.splitn(6, ':').collect::<Vec<_>>().try_into().ok()?;
    (fields[0] == "arn").then_some(fields)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    User,
    /// A role session; a bare role ARN stands for a session of that role.
    Role,
    Service,
}

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    kind: Kind,
    /// The caller's own ARN (a session's ARN for a session); a service's name.
    arn: String,
    account: String,
    /// For a role session, the role's ARN: what `aws:PrincipalArn` holds.
    role_arn: Option<String>,
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

    /// `sts:AssumeRole` of `role_arn` by `caller`, for [`can_assume`].
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

    fn full_context(&self) -> Context {
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum PrincipalType {
    Aws,
    Service,
    /// `Federated` and `CanonicalUser`: parsed, never matched.
    Other,
}

/// An element or its `Not...` twin (`negated`).
#[derive(Debug, Clone)]
struct Element<T> {
    value: T,
    negated: bool,
}

#[derive(Debug, Clone)]
struct Statement {
    label: String,
    effect: Effect,
    principal: Option<Element<Vec<(PrincipalType, String)>>>,
    action: Element<Vec<String>>,
    resource: Option<Element<Vec<String>>>,
    conditions: Vec<Condition>,
}

/// A parsed policy document, named for the reasons [`evaluate`] gives.
#[derive(Debug, Clone)]
pub struct Policy {
    name: String,
    /// Variables are substituted only under `"Version": "2012-10-17"` (Version element page).
    variables: bool,
    statements: Vec<Statement>,
}

impl Policy {
    pub fn parse(name: &str, document: &Value) -> Result<Self, PolicyError> {
        let parsed = Self::parse_document(name, document);
        prefixed(&format!("policy {name}"), parsed)
    }

    fn parse_document(name: &str, document: &Value) -> Result<Self, PolicyError> {
        let Some(fields) = document.as_object() else {
            return fail("a policy document is a JSON object");
        };
        known_keys(fields, "Version Id Statement")?;
        let variables = match fields.get("Version").map(Value::as_str) {
            None | Some(Some("2008-10-17")) => false,
            Some(Some("2012-10-17")) => true,
            Some(other) => return fail(format!("unknown Version {other:?}")),
        };
        let statements = match fields.get("Statement") {
            Some(Value::Array(list)) => list.iter().enumerate().map(Statement::parse).collect(),
            Some(one @ Value::Object(_)) => Statement::parse((0, one)).map(|s| vec![s]),
            _ => fail("Statement must be an object or a list of objects"),
        }?;
        let name = name.to_owned();
        Ok(Policy {
            name,
            variables,
            statements,
        })
    }
}

fn known_keys(fields: &Map<String, Value>, known: &str) -> Result<(), PolicyError> {
    let is_known = |key: &String| known.split(' ').any(|k| k == key);
    match fields.keys().find(|key| !is_known(key)) {
        Some(unknown) => fail(format!("unknown element {unknown}")),
        None => Ok(()),
    }
}

impl Statement {
    fn parse((index, value): (usize, &Value)) -> Result<Self, PolicyError> {
        let label = match value.get("Sid").map(Value::as_str) {
            None => format!("statement #{}", index + 1),
            Some(Some(sid)) => format!("statement {sid}"),
            Some(None) => return fail("Sid must be a string"),
        };
        let Some(fields) = value.as_object() else {
            return fail(format!("{label} is not an object"));
        };
        prefixed(&label.clone(), Self::parse_fields(fields, label))
    }

    fn parse_fields(fields: &Map<String, Value>, label: String) -> Result<Self, PolicyError> {
        let known = "Sid Effect Principal NotPrincipal Action NotAction Resource NotResource";
        known_keys(fields, &format!("{known} Condition"))?;
        let effect = match fields.get("Effect").and_then(Value::as_str) {
            Some("Allow") => Effect::Allow,
            Some("Deny") => Effect::Deny,
            _ => return fail("Effect must be \"Allow\" or \"Deny\""),
        };
        let Some(action) = element(fields, "Action", strings)? else {
            return fail("needs Action or NotAction");
        };
        if let Some(bad) = action.value.iter().find(|a| *a != "*" && !a.contains(':')) {
            return fail(format!("action {bad} is not service:Action"));
        }
        Ok(Statement {
            label,
            effect,
            principal: element(fields, "Principal", principals)?,
            action,
            resource: element(fields, "Resource", strings)?,
            conditions: fields.get("Condition").map_or(Ok(Vec::new()), conditions)?,
        })
    }

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

/// `name` or `Not<name>` (at most one of them), read by `parse`.
fn element<T>(
    fields: &Map<String, Value>,
    name: &str,
    parse: fn(&Value) -> Result<T, PolicyError>,
) -> Result<Option<Element<T>>, PolicyError> {
    let not_name = format!("Not{name}");
    let (value, negated) = match (fields.get(name), fields.get(&not_name)) {
        (Some(_), Some(_)) => return fail(format!("{name} and {not_name} both present")),
        (Some(value), None) => (value, false),
        (None, Some(value)) => (value, true),
        (None, None) => return Ok(None),
    };
    let value = parse(value)?;
    Ok(Some(Element { value, negated }))
}

/// A string or a list of them; with `scalars`, numbers and booleans too (condition values).
fn texts(value: &Value, scalars: bool) -> Result<Vec<String>, PolicyError> {
    let list = match value {
        Value::Array(items) => items.as_slice(),
        one => slice::from_ref(one),
    };
    let text = |item: &Value| match item {
        Value::String(s) => Ok(s.clone()),
        Value::Number(_) | Value::Bool(_) if scalars => Ok(item.to_string()),
        other => fail(format!("expected a string, found {other}")),
    };
    list.iter().map(text).collect()
}

fn strings(value: &Value) -> Result<Vec<String>, PolicyError> {
    texts(value, false)
}

fn principals(value: &Value) -> Result<Vec<(PrincipalType, String)>, PolicyError> {
    let types = match value {
        Value::String(any) if any == "*" => return Ok(vec![(PrincipalType::Aws, any.clone())]),
        Value::Object(types) => types,
        _ => return fail("Principal must be \"*\" or an object such as {\"AWS\": ...}"),
    };
    let mut entries = Vec::new();
    for (name, ids) in types {
        let kind = match name.as_str() {
            "AWS" => PrincipalType::Aws,
            "Service" => PrincipalType::Service,
            "Federated" | "CanonicalUser" => PrincipalType::Other,
            other => return fail(format!("unknown principal type {other}")),
        };
        entries.extend(strings(ids)?.into_iter().map(|id| (kind, id)));
    }
    Ok(entries)
}

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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetOp {
    Single,
    ForAllValues,
    ForAnyValue,
}

#[derive(Debug, Clone)]
struct Condition {
    set: SetOp,
    /// The operator without set prefix and IfExists suffix, such as `StringNotLike`.
    operator: String,
    if_exists: bool,
    key: String,
    values: Vec<String>,
}

fn conditions(value: &Value) -> Result<Vec<Condition>, PolicyError> {
    let Some(operators) = value.as_object() else {
        return fail("Condition must be an object");
    };
    let mut out = Vec::new();
    for (name, keys) in operators {
        let (set, rest) = match name.split_once(':') {
            Some(("ForAllValues", rest)) => (SetOp::ForAllValues, rest),
            Some(("ForAnyValue", rest)) => (SetOp::ForAnyValue, rest),
            _ => (SetOp::Single, name.as_str()),
        };
        let operator = rest.strip_suffix("IfExists").unwrap_or(rest);
        let if_exists = operator.len() < rest.len();
        // IfExists goes on "any condition operator name except the Null condition".
        let null = operator == "Null" && !if_exists;
        let known = null || matches(operator, "", "", None).is_some();
        let (true, Some(keys)) = (known, keys.as_object()) else {
            return fail(format!("{name}: not a condition operator over keys"));
        };
        for (key, values) in keys {
            out.push(Condition {
                set,
                operator: operator.to_owned(),
                if_exists,
                key: key.to_ascii_lowercase(),
                values: texts(values, true)?,
            });
        }
    }
    Ok(out)
}

impl Condition {
    /// Condition operators page, and the two pages on multiple keys, values and value sets.
    fn holds(&self, context: &Context, variables: bool) -> bool {
        let present = context.get(&self.key);
        if self.operator == "Null" {
            // "true": the key is absent (or null); "false": it is present with a value.
            let absent = |v: &String| v.eq_ignore_ascii_case("true");
            return self.values.iter().any(|v| absent(v) == present.is_none());
        }
        // The negated operators are those named with "Not" (StringNotLike, NotIpAddress...).
        let negated = self.operator.contains("Not");
        let Some(request) = present else {
            // A missing key fails, but a negated operator ("the key is *not* matched") then
            // holds, as does ...IfExists; ForAllValues holds for a missing or empty key, while
            // ForAnyValue fails.
            let single = self.set == SetOp::Single;
            return self.if_exists || self.set == SetOp::ForAllValues || (single && negated);
        };
        // One operator's values for a key are ORed, or NORed when the operator is negated.
        let vars = variables.then_some(context);
        let one = |value: &String| {
            let mut policy = self.values.iter();
            policy.any(|p| matches(&self.operator, p, value, vars) == Some(true)) != negated
        };
        match self.set {
            SetOp::ForAllValues => request.iter().all(one),
            SetOp::ForAnyValue | SetOp::Single => request.iter().any(one),
        }
    }
}

/// Whether `request` matches the `policy` value under `operator`, negation aside; `None` for
/// an unknown operator.
fn matches(operator: &str, policy: &str, request: &str, vars: Option<&Context>) -> Option<bool> {
    let text = |like, ignore_case| text_matches(policy, vars, like, request, ignore_case);
    let number = |text: &str| text.trim().parse::<f64>().ok();
    let (numeric, date) = (
        operator.strip_prefix("Numeric"),
        operator.strip_prefix("Date"),
    );
    Some(match operator {
        "StringEquals" | "StringNotEquals" => text(false, false),
        "StringEqualsIgnoreCase" | "StringNotEqualsIgnoreCase" | "Bool" => text(false, true),
        "StringLike" | "StringNotLike" => text(true, false),
        // The page compares bytes with a base-64 policy value; here the base-64 texts.
        "BinaryEquals" => policy == request,
        "IpAddress" | "NotIpAddress" => cidr_contains(policy, request),
        // "The ArnEquals and ArnLike condition operators behave identically", as do their Nots.
        "ArnEquals" | "ArnLike" | "ArnNotEquals" | "ArnNotLike" => {
            compile(policy, vars, true).is_some_and(|p| arn_like(&p, request))
        }
        _ => match (numeric, date) {
            (Some(comparison), _) => compared(comparison, order(number(request), number(policy)))?,
            (_, Some(comparison)) => compared(comparison, date_order(request, policy))?,
            _ => return None,
        },
    })
}

/// The Numeric and Date tests: `Equals`, `NotEquals`, `LessThan`, `LessThanEquals`...
fn compared(test: &str, order: Option<Ordering>) -> Option<bool> {
    let accepted: &[Ordering] = match test {
        "Equals" | "NotEquals" => &[Equal],
        "LessThan" => &[Less],
        "LessThanEquals" => &[Less, Equal],
        "GreaterThan" => &[Greater],
        "GreaterThanEquals" => &[Greater, Equal],
        _ => return None,
    };
    Some(order.is_some_and(|o| accepted.contains(&o)))
}

fn order<T: PartialOrd>(request: Option<T>, policy: Option<T>) -> Option<Ordering> {
    request?.partial_cmp(&policy?)
}

/// Epoch seconds compare as numbers; ISO 8601 dates in UTC sort as text.
fn date_order(request: &str, policy: &str) -> Option<Ordering> {
    match (request.trim().parse::<i64>(), policy.trim().parse::<i64>()) {
        (Ok(request), Ok(policy)) => Some(request.cmp(&policy)),
        (Err(_), Err(_)) => Some(request.trim().cmp(policy.trim())),
        _ => None,
    }
}

fn text_matches(pat: &str, vars: Option<&Context>, like: bool, text: &str, icase: bool) -> bool {
    compile(pat, vars, like).is_some_and(|p| glob(&p, text, icase))
}

/// A pattern character: literal, `*` (any run, `:` and `/` included) or `?` (one character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Pat {
    Char(char),
    Star,
    One,
}

/// `text` as a pattern, `${key}` replaced from `vars` when given (`${*}`, `${?}` and `${$}`
/// stand for those characters). `None` when a variable is undefined or multivalued: that value
/// then matches nothing (variables page, "Policy variables with no value").
fn compile(text: &str, vars: Option<&Context>, wildcards: bool) -> Option<Vec<Pat>> {
    let (mut out, mut rest) = (Vec::new(), text);
    while let Some(c) = rest.chars().next() {
        if let (Some(context), Some(after)) = (vars, rest.strip_prefix("${")) {
            let end = after.find('}')?;
            let value = match after[..end].trim() {
                special @ ("*" | "?" | "$") => special.to_owned(),
                name => match context.get(name)? {
                    [single] => single.clone(),
                    _ => return None,
                },
            };
            out.extend(value.chars().map(Pat::Char));
            rest = &after[end + 1..];
            continue;
        }
        out.push(match c {
            '*' if wildcards => Pat::Star,
            '?' if wildcards => Pat::One,
            c => Pat::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn glob(pattern: &[Pat], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
    let (mut p, mut t, mut star) = (0, 0, None);
    while t < text.len() {
        match pattern.get(p) {
            Some(Pat::Star) => (p, star) = (p + 1, Some((p, t))),
            Some(Pat::One) => (p, t) = (p + 1, t + 1),
            Some(Pat::Char(c)) if same(*c, text[t]) => (p, t) = (p + 1, t + 1),
            _ => {
                // Backtrack: the last `*` swallows one more character.
                let Some((star_p, star_t)) = star else {
                    return false;
                };
                (p, t, star) = (star_p + 1, star_t + 1, Some((star_p, star_t + 1)));
            }
        }
    }
    pattern[p..].iter().all(|x| *x == Pat::Star)
}

/// ArnLike: "each of the six colon-delimited components of the ARN is checked separately".
fn arn_like(pattern: &[Pat], request: &str) -> bool {
    let parts: Vec<&[Pat]> = pattern.splitn(6, |x| *x == Pat::Char(':')).collect();
    if parts.len() < 6 {
        return glob(pattern, request, false);
    }
    let values: Vec<&str> = request.splitn(6, ':').collect();
    values.len() == 6 && (0..6).all(|i| glob(parts[i], values[i], false))
}

/// IpAddress: CIDR notation, IPv4 or IPv6; a bare address stands for a /32 (or /128).
fn cidr_contains(cidr: &str, address: &str) -> bool {
    let (network, length) = match cidr.split_once('/') {
        Some((network, length)) => (network, Some(length)),
        None => (cidr, None),
    };
    let (Ok(network), Ok(address)) = (network.trim().parse(), address.trim().parse()) else {
        return false;
    };
    let (network, address, width) = match (network, address) {
        (IpAddr::V4(n), IpAddr::V4(a)) => (u128::from(u32::from(n)), u128::from(u32::from(a)), 32),
        (IpAddr::V6(n), IpAddr::V6(a)) => (u128::from(n), u128::from(a), 128),
        _ => return false,
    };
    let length = length.map_or(Some(width), |l| l.trim().parse::<u32>().ok());
    let Some(shift) = length.filter(|l| *l <= width).map(|l| width - l) else {
        return false;
    };
    network.checked_shr(shift) == address.checked_shr(shift)
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

#[cfg(test)]
mod tests {
    //! Each test follows examples of the IAM User Guide page named in its comment.
    use super::*;
    use serde_json::json;

    const ACCOUNT: &str = "111122223333";
    const FINANCE: &str = r#""arn:aws:someservice:*:111122223333:finance/*""#;
    const STORE: &str =
        "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d";
    const RANGES: &str = r#"["203.0.113.0/24", "2001:DB8:1234:5678::/64"]"#;

    fn policy(name: &str, statements: &Value) -> Policy {
        let document = json!({"Version": "2012-10-17", "Statement": statements});
        Policy::parse(name, &document).unwrap()
    }

    fn role(name: &str) -> Principal {
        Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:role/{name}")).unwrap()
    }

    fn identity(statements: &Value) -> Policies {
        let identity = vec![policy("identity", statements)];
        Policies {
            identity,
            ..Policies::default()
        }
    }

    fn ask(policies: &Policies, action: &str, resource: &str) -> Decision {
        evaluate(&Request::new(role("r"), action, resource), policies)
    }

    fn explicit(decision: &Decision, statement: &str) -> bool {
        matches!(decision, Decision::ExplicitDeny(r) if r.contains(statement))
    }

    /// Condition operators page (and the multivalued-keys page for the set operators): the
    /// operator, its values for key `k`, the request's values for `K` (`None`: missing, `|`
    /// separates values, `""` an empty set), and whether the condition holds.
    const CONDITIONS: &[(&str, &str, Option<&str>, bool)] = &[
        // String: the aws:PrincipalTag/job-category example; values compare case-sensitively,
        // a missing key fails, a negated operator holds on it and NORs its values.
        (
            "StringEquals",
            r#""iamuser-admin""#,
            Some("iamuser-admin"),
            true,
        ),
        (
            "StringEquals",
            r#""iamuser-admin""#,
            Some("IAMUSER-ADMIN"),
            false,
        ),
        ("StringEquals", r#""iamuser-admin""#, None, false),
        (
            "StringEqualsIgnoreCase",
            r#""iamuser-admin""#,
            Some("IAMUSER-ADMIN"),
            true,
        ),
        ("StringNotEquals", r#"["a", "b"]"#, None, true),
        ("StringNotEquals", r#"["a", "b"]"#, Some("b"), false),
        ("StringNotEquals", r#"["a", "b"]"#, Some("c"), true),
        ("StringNotEqualsIgnoreCase", r#""A""#, Some("a"), false),
        (
            "StringLike",
            r#"["home/", "home/*/"]"#,
            Some("home/bob/"),
            true,
        ),
        ("StringNotLike", r#""t?.*""#, Some("m5.large"), true),
        // Numeric (the s3:max-keys example), Date (aws:TokenIssueTime), Bool, BinaryEquals.
        ("NumericLessThanEquals", r#""10""#, Some("10"), true),
        ("NumericLessThanEquals", "10", Some("11"), false),
        ("NumericLessThanEquals", "10", None, false),
        ("NumericNotEquals", "10", None, true),
        ("NumericGreaterThan", "1.5", Some("2"), true),
        (
            "DateGreaterThan",
            r#""2020-01-01T00:00:01Z""#,
            Some("2020-06-01T12:00:00Z"),
            true,
        ),
        (
            "DateGreaterThan",
            r#""2020-01-01T00:00:01Z""#,
            Some("2019-12-31T23:59:59Z"),
            false,
        ),
        ("DateGreaterThan", r#""2020-01-01T00:00:01Z""#, None, false),
        ("DateLessThanEquals", "1577836800", Some("1577836800"), true),
        ("Bool", "true", Some("true"), true),
        ("Bool", r#""false""#, Some("true"), false),
        (
            "BinaryEquals",
            r#""QmluYXJ5VmFsdWVJbkJhc2U2NA==""#,
            Some("QmluYXJ5VmFsdWVJbkJhc2U2NA=="),
            true,
        ),
        // IP: a CIDR range, an IPv6 range, a bare address as a /32.
        ("IpAddress", RANGES, Some("203.0.113.7"), true),
        ("IpAddress", RANGES, Some("2001:db8:1234:5678::1"), true),
        ("IpAddress", RANGES, Some("203.0.114.1"), false),
        ("NotIpAddress", r#""192.0.2.1""#, Some("192.0.2.2"), true),
        ("NotIpAddress", r#""192.0.2.1""#, Some("192.0.2.1"), false),
        // ARN: each colon-separated part on its own, where StringLike spans them (the example).
        ("StringLike", FINANCE, Some(STORE), true),
        ("ArnLike", FINANCE, Some(STORE), false),
        (
            "ArnEquals",
            FINANCE,
            Some("arn:aws:someservice:us-east-2:111122223333:finance/d"),
            true,
        ),
        ("ArnNotLike", FINANCE, None, true),
        // ...IfExists (the ec2:InstanceType example) and Null (the aws:TokenIssueTime example).
        (
            "StringLikeIfExists",
            r#"["t1.*", "t2.*", "m3.*"]"#,
            None,
            true,
        ),
        (
            "StringLikeIfExists",
            r#"["t1.*", "t2.*", "m3.*"]"#,
            Some("t2.micro"),
            true,
        ),
        (
            "StringLikeIfExists",
            r#"["t1.*", "t2.*", "m3.*"]"#,
            Some("m5.large"),
            false,
        ),
        ("StringNotEqualsIfExists", r#""v""#, None, true),
        ("Null", r#""true""#, None, true),
        ("Null", "true", Some("x"), false),
        ("Null", "false", Some("x"), true),
        // Set operators: the ForAllValues:StringNotLike aws:TagKeys table; ForAllValues holds for
        // a missing or empty key, ForAnyValue fails.
        (
            "ForAllValues:StringNotLike",
            r#""key1*""#,
            Some("key1:legal"),
            false,
        ),
        (
            "ForAllValues:StringNotLike",
            r#""key1*""#,
            Some("key1:hr|key1:personnel"),
            false,
        ),
        (
            "ForAllValues:StringNotLike",
            r#""key1*""#,
            Some("key2:audit"),
            true,
        ),
        ("ForAllValues:StringNotLike", r#""key1*""#, None, true),
        ("ForAllValues:StringEquals", r#"["a", "b"]"#, Some(""), true),
        (
            "ForAllValues:StringEquals",
            r#"["a", "b"]"#,
            Some("b|a"),
            true,
        ),
        (
            "ForAllValues:StringEquals",
            r#"["a", "b"]"#,
            Some("a|c"),
            false,
        ),
        (
            "ForAnyValue:StringEquals",
            r#"["a", "b"]"#,
            Some("c|a"),
            true,
        ),
        (
            "ForAnyValue:StringEquals",
            r#"["a", "b"]"#,
            Some("c"),
            false,
        ),
        ("ForAnyValue:StringEquals", r#"["a", "b"]"#, None, false),
        ("ForAnyValue:StringEquals", r#"["a", "b"]"#, Some(""), false),
    ];

    #[test]
    fn condition_operators_follow_the_documented_table() {
        for (operator, values, request, expected) in CONDITIONS {
            let text = format!(
                r#"{{"Effect": "Allow", "Action": "*", "Resource": "*",
                "Condition": {{"{operator}": {{"k": {values}}}}}}}"#
            );
            let statement: Value = serde_json::from_str(&text).unwrap();
            let mut asked = Request::new(role("r"), "s3:GetObject", "*");
            if let Some(values) = request {
                let values: Vec<&str> = values.split('|').filter(|v| !v.is_empty()).collect();
                asked = asked.with_values("K", &values);
            }
            let decision = evaluate(&asked, &identity(&statement));
            assert_eq!(
                decision.is_allowed(),
                *expected,
                "{operator} {values} on {request:?}"
            );
        }
    }

    #[test]
    fn explicit_deny_beats_allow_and_the_rest_is_implicitly_denied() {
        // Evaluation-logic page, "The difference between explicit and implicit denies".
        let p = identity(&json!([
            {"Sid": "AllowGetList", "Effect": "Allow", "Action": ["iam:Get*", "iam:List*"], "Resource": "*"},
            {"Sid": "DenyReports", "Effect": "Deny", "Action": "iam:*Report", "Resource": "*"}]));
        assert!(ask(&p, "iam:GetUser", "*").is_allowed());
        assert!(explicit(
            &ask(&p, "iam:GetOrganizationsAccessReport", "*"),
            "DenyReports"
        ));
        assert!(matches!(
            ask(&p, "iam:CreatePolicy", "*"),
            Decision::ImplicitDeny(_)
        ));
    }

    #[test]
    fn same_account_either_policy_allows_and_a_deny_wins() {
        // Evaluation-logic page, "Example identity-based and resource-based policy evaluation".
        let carlos = Principal::from_arn("arn:aws:iam::123456789012:user/carlossalazar").unwrap();
        let bucket = policy(
            "bucket",
            &json!({"Effect": "Allow", "Action": "s3:*",
            "Principal": {"AWS": "arn:aws:iam::123456789012:user/carlossalazar"},
            "Resource": ["arn:aws:s3:::carlossalazar/*", "arn:aws:s3:::carlossalazar"]}),
        );
        let deny_logs = json!({"Sid": "DenyS3Logs", "Effect": "Deny", "Action": "s3:*",
            "Resource": "arn:aws:s3:::*log*"});
        let p = Policies {
            resource: Some(bucket),
            ..identity(&deny_logs)
        };
        let put =
            |object: &str| evaluate(&Request::new(carlos.clone(), "s3:PutObject", object), &p);
        assert!(explicit(
            &put("arn:aws:s3:::carlossalazar-logs/f"),
            "DenyS3Logs"
        ));
        assert!(
            put("arn:aws:s3:::carlossalazar/f").is_allowed(),
            "the bucket policy alone allows"
        );
    }

    #[test]
    fn not_action_and_not_resource_match_everything_but_their_list() {
        // NotAction page (all but IAM) and NotResource page (deny all but the payroll folder).
        let p = identity(
            &json!([{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
            {"Effect": "Deny", "Action": "s3:*",
             "NotResource": ["arn:aws:s3:::HRBucket/Payroll", "arn:aws:s3:::HRBucket/Payroll/*"]}]),
        );
        assert!(ask(&p, "s3:GetObject", "arn:aws:s3:::HRBucket/Payroll/jan").is_allowed());
        assert!(matches!(
            ask(&p, "s3:GetObject", "arn:aws:s3:::HRBucket/x"),
            Decision::ExplicitDeny(_)
        ));
        assert!(ask(&p, "ec2:DescribeInstances", "*").is_allowed());
        assert!(!ask(&p, "iam:CreateUser", "*").is_allowed());
    }

    #[test]
    fn wildcards_span_segments_and_only_actions_ignore_case() {
        // Resource page ("*" and "?" in segments, a "*" expanding past ":" and "/"), Action page.
        let p = identity(&json!([
            {"Effect": "Allow", "Action": "S3:get*", "Resource": "arn:aws:s3:::my_corporate_bucket/*"},
            {"Effect": "Allow", "Action": "iam:GetUser", "Resource": "arn:aws:iam::*:user/accounting/???"},
            {"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "arn:aws:logs:*"}]));
        assert!(ask(&p, "s3:GetObject", "arn:aws:s3:::my_corporate_bucket/a/b").is_allowed());
        assert!(!ask(&p, "s3:GetObject", "arn:aws:s3:::MY_CORPORATE_BUCKET/a").is_allowed());
        assert!(ask(
            &p,
            "iam:getuser",
            "arn:aws:iam::111122223333:user/accounting/bob"
        )
        .is_allowed());
        assert!(!ask(
            &p,
            "iam:GetUser",
            "arn:aws:iam::111122223333:user/accounting/bobby"
        )
        .is_allowed());
        assert!(ask(
            &p,
            "logs:PutLogEvents",
            "arn:aws:logs:eu-west-1:1:log-group:/g:log-stream:s"
        )
        .is_allowed());
    }

    #[test]
    fn policy_variables_come_from_the_request() {
        // Resource page (table/${aws:username}); variables page (${*}, undefined variables,
        // no substitution without Version 2012-10-17).
        let alice =
            Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/team/alice")).unwrap();
        let statements = json!([
            {"Effect": "Allow", "Action": "dynamodb:*", "Resource": "arn:aws:dynamodb:*:*:table/${aws:username}"},
            {"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::b",
             "Condition": {"StringLike": {"s3:prefix": "home/${aws:username}/${*}"}}},
            {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/${aws:PrincipalTag/team}/*"}]);
        let p = identity(&statements);
        let call = |action: &str, resource: &str| Request::new(alice.clone(), action, resource);
        let table = |name: &str| {
            call(
                "dynamodb:GetItem",
                &format!("arn:aws:dynamodb:us-east-2:1:table/{name}"),
            )
        };
        assert!(evaluate(&table("alice"), &p).is_allowed());
        assert!(!evaluate(&table("bob"), &p).is_allowed());
        let list = |prefix: &str| call("s3:ListBucket", "arn:aws:s3:::b").with("s3:prefix", prefix);
        assert!(
            evaluate(&list("home/alice/*"), &p).is_allowed(),
            "${{*}} is a literal *"
        );
        assert!(!evaluate(&list("home/alice/x"), &p).is_allowed());
        let get = call("s3:GetObject", "arn:aws:s3:::b/ml/x");
        assert!(
            !evaluate(&get, &p).is_allowed(),
            "an undefined variable matches nothing"
        );
        assert!(evaluate(&get.with("aws:PrincipalTag/team", "ml"), &p).is_allowed());
        let old = json!({"Statement": statements});
        let old = Policies {
            identity: vec![Policy::parse("old", &old).unwrap()],
            ..p
        };
        assert!(!evaluate(&table("alice"), &old).is_allowed());
    }

    #[test]
    fn boundaries_and_session_policies_cap_what_is_allowed() {
        // Boundaries page: ShirleyRodriguez's boundary (S3, CloudWatch, EC2) caps iam:CreateUser.
        let shirley =
            Principal::from_arn("arn:aws:iam::123456789012:user/ShirleyRodriguez").unwrap();
        let boundary = policy(
            "boundary",
            &json!({"Effect": "Allow", "Action": ["s3:*", "cloudwatch:*", "ec2:*"], "Resource": "*"}),
        );
        let create = json!({"Effect": "Allow", "Action": "iam:CreateUser", "Resource": "arn:aws:iam::123456789012:user/*"});
        let p = Policies {
            boundary: Some(boundary),
            ..identity(&create)
        };
        let asked = Request::new(
            shirley,
            "iam:CreateUser",
            "arn:aws:iam::123456789012:user/x",
        );
        assert!(evaluate(&asked, &p).reason().contains("boundary"));
        // AssumeRole page: a session policy narrows the role's productionapp permissions.
        let role_policy = json!({"Effect": "Allow", "Action": ["s3:GetObject", "s3:PutObject"], "Resource": "arn:aws:s3:::productionapp/*"});
        let session = policy(
            "session",
            &json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}),
        );
        let p = Policies {
            session: vec![session],
            ..identity(&role_policy)
        };
        assert!(ask(&p, "s3:GetObject", "arn:aws:s3:::productionapp/k").is_allowed());
        assert!(ask(&p, "s3:PutObject", "arn:aws:s3:::productionapp/k")
            .reason()
            .contains("session"));
        // Organizations SCPs: each level must allow.
        let scp = policy(
            "scp",
            &json!({"Effect": "Allow", "Action": "s3:PutObject", "Resource": "*"}),
        );
        let p = Policies {
            scps: vec![scp],
            ..identity(&role_policy)
        };
        assert!(ask(&p, "s3:GetObject", "arn:aws:s3:::productionapp/k")
            .reason()
            .contains("SCP"));
    }

    #[test]
    fn a_resource_policy_naming_the_session_escapes_the_boundary_naming_the_role_does_not() {
        // Evaluation-logic page, the table of resource-based policies and implicit denies.
        let role_arn = format!("arn:aws:iam::{ACCOUNT}:role/examplerole");
        let session = Principal::role_session(&role_arn, "examplerolesessionname").unwrap();
        let bucket = |who: &str| {
            policy(
                "bucket",
                &json!({"Effect": "Allow", "Principal": {"AWS": who},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::b/*"}),
            )
        };
        let boundary = policy(
            "boundary",
            &json!({"Effect": "Allow", "Action": "ec2:*", "Resource": "*"}),
        );
        let asked = Request::new(session.clone(), "s3:GetObject", "arn:aws:s3:::b/k");
        let with = |resource: Policy, boundary: Option<&Policy>| {
            let policies = Policies {
                resource: Some(resource),
                boundary: boundary.cloned(),
                ..Policies::default()
            };
            evaluate(&asked, &policies).is_allowed()
        };
        assert!(with(bucket(session.arn()), Some(&boundary)));
        assert!(!with(bucket(&role_arn), Some(&boundary)));
        assert!(
            with(bucket(&role_arn), None),
            "the role ARN grants without identity policy"
        );
        assert!(
            !with(bucket(ACCOUNT), None),
            "the account delegates to identity policies"
        );
    }

    #[test]
    fn cross_account_needs_the_identity_and_the_resource_policy() {
        // Cross-account policy evaluation logic page.
        let bucket = policy(
            "bucket",
            &json!({"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")},
            "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared/*"}),
        );
        let reader =
            identity(&json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}));
        let cross = |identity: &[Policy], resource: Option<&Policy>| {
            let (identity, resource) = (identity.to_vec(), resource.cloned());
            let policies = Policies {
                identity,
                resource,
                cross_account: true,
                ..Policies::default()
            };
            ask(&policies, "s3:GetObject", "arn:aws:s3:::shared/k").is_allowed()
        };
        assert!(cross(&reader.identity, Some(&bucket)));
        assert!(!cross(&reader.identity, None));
        assert!(!cross(&[], Some(&bucket)));
    }

    fn trust(principal: &Value, condition: &Value) -> Policy {
        policy(
            "trust",
            &json!({"Effect": "Allow", "Principal": principal, "Action": "sts:AssumeRole", "Condition": condition}),
        )
    }

    #[test]
    fn trust_policies_by_account_and_by_role() {
        // Principal page (account principals delegate; role principals; aws:PrincipalArn),
        // evaluation-logic page (trust policies must allow the principal), cross-account page.
        let assume = [policy(
            "caller",
            &json!({"Effect": "Allow", "Action": "sts:AssumeRole", "Resource": "*"}),
        )];
        let target = format!("arn:aws:iam::{ACCOUNT}:role/target");
        let by = |caller: &str, identity: &[Policy], trust: &Policy| {
            can_assume(
                &Request::assume_role(role(caller), &target),
                identity,
                trust,
            )
            .is_allowed()
        };
        let root = trust(
            &json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}),
            &json!({}),
        );
        assert!(!by("caller", &[], &root) && by("caller", &assume, &root));
        let named = trust(
            &json!({"AWS": format!("arn:aws:iam::{ACCOUNT}:role/caller")}),
            &json!({}),
        );
        assert!(
            by("caller", &[], &named),
            "same account: naming the role suffices"
        );
        assert!(
            !by("other", &assume, &named),
            "the trust policy must allow the caller"
        );
        let arn_like =
            json!({"ArnLike": {"aws:PrincipalArn": format!("arn:aws:iam::{ACCOUNT}:role/call*")}});
        let narrowed = trust(&json!({"AWS": ACCOUNT}), &arn_like);
        assert!(by("caller", &assume, &narrowed) && !by("other", &assume, &narrowed));
        let elsewhere =
            Request::assume_role(role("caller"), "arn:aws:iam::444455556666:role/target");
        assert!(
            !can_assume(&elsewhere, &[], &named).is_allowed(),
            "across accounts both must allow"
        );
        assert!(can_assume(&elsewhere, &assume, &named).is_allowed());
    }

    #[test]
    fn service_trust_with_source_account_and_arn() {
        // Confused deputy page: aws:SourceAccount and aws:SourceArn in a service trust policy.
        let condition = json!({"StringEquals": {"aws:SourceAccount": ACCOUNT},
            "ArnLike": {"aws:SourceArn": format!("arn:aws:codebuild:*:{ACCOUNT}:project/*")}});
        let t = trust(&json!({"Service": "codebuild.amazonaws.com"}), &condition);
        let target = format!("arn:aws:iam::{ACCOUNT}:role/build");
        let from = |service: &str, account: &str| {
            let project = format!("arn:aws:codebuild:eu-west-1:{account}:project/p");
            let asked = Request::assume_role(Principal::service(service), &target);
            can_assume(
                &asked
                    .with("AWS:SOURCEACCOUNT", account)
                    .with("aws:SourceArn", &project),
                &[],
                &t,
            )
        };
        assert!(from("codebuild.amazonaws.com", ACCOUNT).is_allowed());
        assert!(!from("codebuild.amazonaws.com", "444455556666").is_allowed());
        assert!(!from("ec2.amazonaws.com", ACCOUNT).is_allowed());
        let bare = Request::assume_role(Principal::service("codebuild.amazonaws.com"), &target);
        assert!(
            !can_assume(&bare, &[], &t).is_allowed(),
            "missing keys do not match"
        );
    }

    #[test]
    fn a_deny_in_a_resource_policy_applies_to_its_principals() {
        // Condition operators page, the Boolean example (deny S3 without TLS).
        let bucket = policy(
            "bucket",
            &json!({"Sid": "BooleanExample", "Action": "s3:*", "Effect": "Deny", "Principal": "*",
            "Resource": ["arn:aws:s3:::DOC-EXAMPLE-BUCKET", "arn:aws:s3:::DOC-EXAMPLE-BUCKET/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}}}),
        );
        let p = Policies {
            resource: Some(bucket),
            ..identity(&json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"}))
        };
        let get = |secure| {
            Request::new(
                role("r"),
                "s3:GetObject",
                "arn:aws:s3:::DOC-EXAMPLE-BUCKET/k",
            )
            .with("aws:SecureTransport", secure)
        };
        assert!(explicit(&evaluate(&get("false"), &p), "BooleanExample"));
        assert!(evaluate(&get("true"), &p).is_allowed());
    }

    #[test]
    fn malformed_documents_are_errors() {
        let statement = |extra: Value| {
            let mut s = json!({"Effect": "Allow", "Action": "s3:*", "Resource": "*"});
            s.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({"Statement": s})
        };
        let bad = [
            json!([]),
            json!({"Version": "2020-01-01", "Statement": []}),
            json!({"Statement": 1}),
            statement(json!({"Effect": "allow"})),
            statement(json!({"NotAction": "s3:Get*"})),
            statement(json!({"Actions": "s3:*"})),
            statement(json!({"Action": "s3"})),
            statement(json!({"Condition": {"StringEqualz": {"k": "v"}}})),
            statement(json!({"Condition": {"NullIfExists": {"k": "true"}}})),
            statement(json!({"Principal": {"AWZ": "*"}})),
            statement(json!({"Resource": 5})),
        ];
        for document in bad {
            assert!(Policy::parse("p", &document).is_err(), "{document}");
        }
        assert!(Principal::from_arn("arn:aws:s3:::bucket").is_err());
        assert!(Principal::role_session("arn:aws:iam::1:user/u", "s").is_err());
    }
}
