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

use super::StandIn;
use crate::fault_proxy::http::{Request, Response};
use crate::fault_proxy::protocol::Call;
use crate::policy_eval::Decision;

mod request;
mod upstream;
mod xml;

use request::Simulation;
use upstream::Upstream;
use xml::xml_escape;

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
pub(super) struct IamError {
    pub(super) status: u16,
    pub(super) code: &'static str,
    pub(super) message: String,
}

impl IamError {
    pub(super) fn invalid(message: impl Into<String>) -> Self {
        let message = message.into();
        IamError {
            status: 400,
            code: "InvalidInput",
            message,
        }
    }

    pub(super) fn no_such_entity(message: impl Into<String>) -> Self {
        let message = message.into();
        IamError {
            status: 404,
            code: "NoSuchEntity",
            message,
        }
    }

    pub(super) fn evaluation(message: impl Into<String>) -> Self {
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

/// How IAM names a decision.
fn decision_name(decision: &Decision) -> &'static str {
    match decision {
        Decision::Allow(_) => "allowed",
        Decision::ExplicitDeny(_) => "explicitDeny",
        Decision::ImplicitDeny(_) => "implicitDeny",
    }
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
