//! The role being simulated, read from the emulator's IAM with the answered request's own
//! headers: its inline and managed policies and its permissions boundary.

use super::request::Simulation;
use super::xml::{element, elements, form_encode, xml_unescape};
use super::IamError;
use crate::fault_proxy::http::{self, percent_decode, Request};
use crate::policy_eval::Policy;

/// The emulator's IAM, asked with the headers of the request being answered.
pub(super) struct Upstream<'a> {
    pub(super) port: u16,
    pub(super) request: &'a Request,
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
    pub(super) fn role_policies(
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

/// A policy document as IAM returns it (URL-encoded JSON, which moto sends as is for a managed
/// policy's version), parsed and named `name`.
fn policy_document(name: &str, document: Option<&str>) -> Result<Policy, IamError> {
    let text = xml_unescape(document.unwrap_or_default());
    let value = serde_json::from_str(&text)
        .or_else(|_| serde_json::from_str(&percent_decode(&text)))
        .map_err(|e| IamError::evaluation(format!("the policy {name} is no JSON: {e}")))?;
    Policy::parse(name, &value).map_err(|e| IamError::evaluation(e.to_string()))
}
