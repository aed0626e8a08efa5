//! IAM's SimulatePrincipalPolicy for a role, which the emulator (moto 5.2.1) lacks (it answers
//! HTTP 500), answered by the fault proxy as the IAM API reference documents it
//! (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>), with
//! the role's policies read from the emulator and decided by [`crate::policy_eval`].
//!
//! The request is awsQuery (a form POST, `Action=SimulatePrincipalPolicy`,
//! `Version=2010-05-08`). Its inputs:
//!
//! - `PolicySourceArn`, a role (`arn:aws:iam::<account>:role/<path/name>`). The stand-in reads
//!   the role from the emulator in the account of the request, with the request's own
//!   `Authorization` (and `X-Amz-Security-Token`) headers, whose access key tells the emulator the
//!   account (it checks no signature): GetRole, ListRolePolicies and GetRolePolicy (its inline
//!   policies), ListAttachedRolePolicies, GetPolicy and GetPolicyVersion (the default version of
//!   each managed policy, and of its permissions boundary). A role that is not there, or whose
//!   ARN (path included) differs, is `NoSuchEntity` (HTTP 404). A user or group source is
//!   `InvalidInput`: only roles are stood in for.
//! - `ActionNames.member.N` and `ResourceArns.member.N` (none: `*`): one result per action and
//!   resource, in that order, paged by `MaxItems` (default 100) and `Marker`.
//! - `PolicyInputList.member.N`, more identity-based policies; `PermissionsBoundaryPolicyInputList`,
//!   a boundary in place of the role's.
//! - `ResourcePolicy`, a resource-based policy every resource is taken to have, and `CallerArn`, the
//!   IAM user the simulation calls as (with the role's policies). As the reference says,
//!   `CallerArn` is "required if you include a ResourcePolicy and the PolicySourceArn is not the
//!   ARN for an IAM user", and "You can specify only the ARN of an IAM user": a ResourcePolicy
//!   without a CallerArn, or a CallerArn that is no user, is `InvalidInput` (HTTP 400). Without
//!   a CallerArn the role is the caller.
//! - `ResourceOwner` (`arn:aws:iam::<account>:root` or the bare account id), the owner of a
//!   resource whose ARN names no account (S3's); without it such a resource belongs to the caller's
//!   account.
//! - `ContextEntries.member.N` (`ContextKeyName`, `ContextKeyValues.member.M`), the condition keys,
//!   each value as text (the `ContextKeyType` is not read).
//!
//! The decision is the evaluator's, with the cross-account rule of the IAM User Guide
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>):
//! when the resource's owner is not the caller's account, the identity-based policies and the
//! ResourcePolicy (naming the caller: its ARN, its account or `"*"`) must both allow; within one
//! account either may, a ResourcePolicy that names only the account needing the identity-based
//! policies too. An explicit Deny in any of them wins, and a permissions boundary caps the rest.
//! Each result is an `EvaluationResult`
//! (<https://docs.aws.amazon.com/IAM/latest/APIReference/API_EvaluationResult.html>) with
//! `EvalActionName`, `EvalResourceName`, `EvalDecision` (`allowed`, `explicitDeny` or
//! `implicitDeny`), `EvalDecisionDetails` (for a resource of another account, how each side
//! decided alone, keyed `IAM Policy` and `Resource Policy`; empty within one account) and empty
//! `MatchedStatements` and `MissingContextValues`; the answer has `IsTruncated` (and a `Marker`
//! while more results are left).
//!
//! Left out, where AWS does more: SCPs and resource control policies (the Organizations and
//! boundary decision details), `ResourceSpecificResults`, the matched
//! statements and missing context keys, `ResourceHandlingOption`, `PolicyExclusionList`, the
//! keys AWS fills in from the request (`aws:SourceIp`, `aws:CurrentTime`, `aws:SecureTransport`,
//! `aws:RequestedRegion`, resource tags...: a condition on one holds only through
//! `ContextEntries`), the `ContextKeyType` of a context entry, and the conditions and principals
//! `policy_eval` itself leaves out (its module docs). A managed policy the emulator does not hold
//! (moto loads AWS's managed policies only on request) is a `PolicyEvaluation` error (HTTP 500),
//! not a silent skip.

use serde_json::{Map, Value};

use super::StandIn;
use crate::fault_proxy::http::{self, percent_decode, Request, Response};
use crate::fault_proxy::protocol::Call;
use crate::policy_eval::{self, evaluate, Decision, Policies, Policy, Principal};

/// The operation the stand-in answers.
pub(crate) const STOOD_IN: &str = "SimulatePrincipalPolicy";

/// The most results a page holds when the request gives no `MaxItems`.
pub(crate) const DEFAULT_MAX_ITEMS: usize = 100;

const XMLNS: &str = "https://iam.amazonaws.com/doc/2010-05-08/";

/// The emulator the stand-in reads roles and policies from.
#[derive(Debug, Default)]
pub(crate) struct PolicySimulatorStandIn {
    /// The emulator's port.
    pub(crate) upstream: u16,
}

/// An IAM error, answered in the awsQuery error shape.
#[derive(Debug)]
struct IamError {
    status: u16,
    code: &'static str,
    message: String,
}

impl IamError {
    fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        IamError {
            status: 400,
            code: "InvalidInput",
            message,
        }
    }

    fn no_such_entity(message: impl Into<String>) -> Self {
        let message = message.into();
        IamError {
            status: 404,
            code: "NoSuchEntity",
            message,
        }
    }

    fn evaluation(message: impl Into<String>) -> Self {
        let message = message.into();
        IamError {
            status: 500,
            code: "PolicyEvaluation",
            message,
        }
    }

    fn response(&self) -> Response {
        let kind = if self.status < 500 {
            "Sender"
        } else {
            "Receiver"
        };
        let body = format!(
            "<ErrorResponse xmlns=\"{XMLNS}\"><Error><Type>{kind}</Type><Code>{}</Code><Message>{}</Message></Error><RequestId>fault-proxy</RequestId></ErrorResponse>",
            self.code,
            xml_escape(&self.message)
        );
        Response::aws(self.status, "text/xml", &[], body.into_bytes())
    }
}

/// What a SimulatePrincipalPolicy request asks, checked.
struct Simulation {
    role_arn: String,
    role_name: String,
    /// The caller's account: CallerArn's, else the role's.
    caller_account: String,
    caller: Principal,
    actions: Vec<String>,
    resources: Vec<String>,
    resource_policy: Option<Policy>,
    resource_owner: Option<String>,
    extra_identity: Vec<Policy>,
    boundary: Option<Policy>,
    context: Vec<(String, Vec<String>)>,
    max_items: usize,
    start: usize,
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
    fn parse(params: &Map<String, Value>) -> Result<Self, IamError> {
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
    fn decide(
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

/// The emulator's IAM, asked with the headers of the request being answered.
struct Upstream<'a> {
    port: u16,
    request: &'a Request,
}

impl Upstream<'_> {
    /// The emulator's answer to IAM `action` with `params`: the body on HTTP 200, else the status
    /// and the body.
    fn query(&self, action: &str, params: &[(&str, &str)]) -> Result<String, (u16, String)> {
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (key, value) in params {
            body.push_str(&format!("&{key}={}", form_encode(value)));
        }
        let mut headers = vec![
            ("Host".to_owned(), format!("127.0.0.1:{}", self.port)),
            (
                "Content-Type".to_owned(),
                "application/x-www-form-urlencoded; charset=utf-8".to_owned(),
            ),
        ];
        for name in ["authorization", "x-amz-security-token", "x-amz-date"] {
            if let Some(value) = self.request.header(name) {
                headers.push((name.to_owned(), value.to_owned()));
            }
        }
        let request = Request {
            method: "POST".to_owned(),
            target: "/".to_owned(),
            headers,
            body: body.into_bytes(),
        };
        let response = http::forward(self.port, &request);
        let text = String::from_utf8_lossy(&response.body).into_owned();
        match response.status {
            200 => Ok(text),
            status => Err((status, text)),
        }
    }

    /// [`Upstream::query`], or the PolicyEvaluation error naming the call.
    fn ask(&self, action: &str, params: &[(&str, &str)]) -> Result<String, IamError> {
        self.query(action, params).map_err(|(status, body)| {
            IamError::evaluation(format!(
                "the emulator answered {action} {params:?} with HTTP {status}: {body}"
            ))
        })
    }

    /// The texts of `tag` in every page of the list call `action` (following `Marker`).
    fn list(&self, action: &str, role: &str, tag: &str) -> Result<Vec<String>, IamError> {
        let (mut found, mut marker) = (Vec::new(), None::<String>);
        loop {
            let mut params = vec![("RoleName", role)];
            if let Some(marker) = &marker {
                params.push(("Marker", marker));
            }
            let page = self.ask(action, &params)?;
            found.extend(elements(&page, tag).into_iter().map(xml_unescape));
            let truncated = element(&page, "IsTruncated") == Some("true");
            marker = element(&page, "Marker").map(xml_unescape);
            if !truncated || marker.is_none() {
                return Ok(found);
            }
        }
    }

    /// The default version of managed policy `arn`, parsed.
    fn managed_policy(&self, arn: &str) -> Result<Policy, IamError> {
        let policy = self.ask("GetPolicy", &[("PolicyArn", arn)])?;
        let version = element(&policy, "DefaultVersionId").map(xml_unescape);
        let version = version.unwrap_or_else(|| "v1".to_owned());
        let params = [("PolicyArn", arn), ("VersionId", &version)];
        let answer = self.ask("GetPolicyVersion", &params)?;
        policy_document(arn, element(&answer, "Document"))
    }

    /// The role's identity-based policies (inline, then managed) and its permissions boundary.
    fn role_policies(
        &self,
        simulation: &Simulation,
    ) -> Result<(Vec<Policy>, Option<Policy>), IamError> {
        let name = simulation.role_name.as_str();
        let role = self.query("GetRole", &[("RoleName", name)]);
        let missing = || {
            IamError::no_such_entity(format!(
                "The role with name {name} cannot be found. (PolicySourceArn {})",
                simulation.role_arn
            ))
        };
        let role = match role {
            Ok(role) => role,
            Err((404, _)) => return Err(missing()),
            Err((status, body)) => {
                return Err(IamError::evaluation(format!(
                    "the emulator answered GetRole {name} with HTTP {status}: {body}"
                )))
            }
        };
        if element(&role, "Arn").map(xml_unescape).as_deref() != Some(&simulation.role_arn) {
            return Err(missing());
        }
        let mut identity = Vec::new();
        for policy in self.list("ListRolePolicies", name, "member")? {
            let params = [("RoleName", name), ("PolicyName", policy.as_str())];
            let answer = self.ask("GetRolePolicy", &params)?;
            let label = format!("{name} inline {policy}");
            identity.push(policy_document(&label, element(&answer, "PolicyDocument"))?);
        }
        for arn in self.list("ListAttachedRolePolicies", name, "PolicyArn")? {
            identity.push(self.managed_policy(&arn)?);
        }
        let boundary = element(&role, "PermissionsBoundaryArn").map(xml_unescape);
        let boundary = boundary.map(|arn| self.managed_policy(&arn)).transpose()?;
        Ok((identity, boundary))
    }
}

/// How IAM names a decision.
fn decision_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Allow(_) => "allowed",
        Decision::ExplicitDeny(_) => "explicitDeny",
        Decision::ImplicitDeny(_) => "implicitDeny",
    }
}

/// A policy document as IAM returns it (URL-encoded JSON, which moto sends as is for a managed
/// policy's version), parsed and named `name`.
fn policy_document(name: &str, document: Option<&str>) -> Result<Policy, IamError> {
    let text = xml_unescape(document.unwrap_or_default());
    let value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&percent_decode(&text)))
        .map_err(|e| IamError::evaluation(format!("the policy {name} is no JSON: {e}")))?;
    Policy::parse(name, &value).map_err(|e| IamError::evaluation(e.to_string()))
}

impl PolicySimulatorStandIn {
    fn simulate(&self, request: &Request) -> Result<String, IamError> {
        let simulation = Simulation::parse(&request.params())?;
        let upstream = Upstream {
            port: self.upstream,
            request,
        };
        let (identity, boundary) = upstream.role_policies(&simulation)?;
        let pairs = simulation.actions.iter().flat_map(|action| {
            let resources = simulation.resources.iter();
            resources.map(move |resource| (action, resource))
        });
        let all = pairs.clone().count();
        let end = all.min(simulation.start + simulation.max_items);
        let mut members = String::new();
        for (action, resource) in pairs.skip(simulation.start).take(end - simulation.start) {
            let (decided, details) =
                simulation.decide(&identity, boundary.as_ref(), action, resource);
            let mut details_xml = String::new();
            for (side, decision) in details.iter().flatten() {
                details_xml.push_str(&format!(
                    "<entry><key>{side}</key><value>{}</value></entry>",
                    decision_name(decision)
                ));
            }
            members.push_str(&format!(
                "<member><EvalActionName>{}</EvalActionName><EvalResourceName>{}</EvalResourceName><EvalDecision>{}</EvalDecision><EvalDecisionDetails>{details_xml}</EvalDecisionDetails><MatchedStatements></MatchedStatements><MissingContextValues></MissingContextValues></member>",
                xml_escape(action),
                xml_escape(resource),
                decision_name(&decided)
            ));
        }
        let page = if end < all {
            format!("<IsTruncated>true</IsTruncated><Marker>{end}</Marker>")
        } else {
            "<IsTruncated>false</IsTruncated>".to_owned()
        };
        Ok(format!(
            "<SimulatePrincipalPolicyResponse xmlns=\"{XMLNS}\"><SimulatePrincipalPolicyResult><EvaluationResults>{members}</EvaluationResults>{page}</SimulatePrincipalPolicyResult><ResponseMetadata><RequestId>fault-proxy</RequestId></ResponseMetadata></SimulatePrincipalPolicyResponse>"
        ))
    }
}

/// IAM's awsQuery SimulatePrincipalPolicy answered; every other IAM call goes on to the emulator.
impl StandIn for PolicySimulatorStandIn {
    fn answer(&mut self, call: &Call, request: &Request, _: &str) -> Option<Response> {
        if call.operation != STOOD_IN || call.json_service().is_some() {
            return None;
        }
        Some(match self.simulate(request) {
            Ok(body) => Response::aws(200, "text/xml", &[], body.into_bytes()),
            Err(error) => error.response(),
        })
    }
}

/// The texts of every `<tag>...</tag>` in `xml` (an empty `<tag/>` holds ""), still escaped.
fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close, empty) = (format!("<{tag}>"), format!("</{tag}>"), format!("<{tag}/>"));
    let mut found = Vec::new();
    let mut rest = xml;
    loop {
        let (open_at, empty_at) = (rest.find(&open), rest.find(&empty));
        let Some(at) = open_at.into_iter().chain(empty_at).min() else {
            return found;
        };
        if Some(at) == empty_at {
            found.push("");
            rest = &rest[at + empty.len()..];
            continue;
        }
        let after = &rest[at + open.len()..];
        let Some(end) = after.find(&close) else {
            return found;
        };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
}

/// The text of the first `<tag>` in `xml`.
fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    elements(xml, tag).into_iter().next()
}

fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// XML text with its five named entities and numeric character references resolved.
fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let entity = after
            .find(';')
            .map(|end| (&after[..end], &after[end + 1..]));
        let resolved = entity.and_then(|(name, tail)| {
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    char::from_u32(code?)?
                }
            };
            Some((c, tail))
        });
        let (c, tail) = resolved.unwrap_or(('&', after));
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A form value, every byte but the unreserved ones percent-encoded.
fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_entities_and_form_values_round_trip() {
        let xml = "<a><member>x&amp;y</member><member/><member>&#x41;&#66;&lt;</member></a>";
        assert_eq!(elements(xml, "member"), ["x&amp;y", "", "&#x41;&#66;&lt;"]);
        let texts: Vec<String> = elements(xml, "member")
            .into_iter()
            .map(xml_unescape)
            .collect();
        assert_eq!(texts, ["x&y", "", "AB<"]);
        assert_eq!(xml_unescape("a & b &bogus; c"), "a & b &bogus; c");
        assert_eq!(element(xml, "none"), None);
        let value = "{\"a\": \"b+c/d é\"}";
        assert_eq!(percent_decode(&form_encode(value)), value);
        assert_eq!(xml_unescape(&xml_escape("<'&\">")), "<'&\">");
    }

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
