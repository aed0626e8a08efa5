//! Whether a resource-based policy grants a principal an action: a role's trust policy
//! (`sts:AssumeRole`, [`trusts`]), or a bucket, key or repository policy ([`allows`]). Preflight
//! judges these for the roles a stage's stack needs (the model's execution role must trust
//! SageMaker, the StackSet execution role the project's administration role) and for the model's
//! resources in another account. IAM's policy simulator cannot: with a resource policy it needs a
//! caller that is an IAM user, never a role or a service (`CallerArn` of
//! <https://docs.aws.amazon.com/IAM/latest/APIReference/API_SimulatePrincipalPolicy.html>), so the
//! simulator judges the role's own policies and this the resource's side, following the
//! evaluation rules for the elements these policies use
//! (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_principal.html>,
//! <https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_evaluation-logic-cross-account.html>):
//! an `Allow` whose action matches (`*` and `?` wildcards, any case), whose resource matches (a
//! policy without `Resource`, as trust and repository policies are, covers its own resource), and
//! whose principal is the service, the role's ARN, or the role's account (`<id>`,
//! `arn:...:root` or `*`) narrowed, if at all, by an `aws:PrincipalArn` condition naming the role
//! (ArnEquals, ArnLike, StringEquals, StringLike); a matching `Deny` wins. Other condition keys
//! are taken as met (they scope the request's context, which this check does not know), so the
//! answer is "the policy grants this principal".

use serde_json::Value;

/// Who must be trusted.
#[derive(Debug, Clone, Copy)]
pub enum Trustee<'a> {
    /// A service principal, such as `sagemaker.amazonaws.com`.
    Service(&'a str),
    /// A role, by ARN (`arn:<partition>:iam::<account>:role/<path><name>`).
    Role(&'a str),
}

/// Whether `document` (as GetRole returns it: JSON, URL-encoded or not) lets `trustee` assume
/// the role. `Err` says why the document could not be read.
pub fn trusts(document: &str, trustee: Trustee<'_>) -> Result<bool, String> {
    allows(document, trustee, "sts:AssumeRole", None)
}

/// Whether `document` grants `principal` `action` on `resource` (`None`: the policy's own
/// resource, as in a trust policy). `Err` says why the document could not be read.
pub fn allows(
    document: &str,
    principal: Trustee<'_>,
    action: &str,
    resource: Option<&str>,
) -> Result<bool, String> {
    let decoded = if document.trim_start().starts_with('%') {
        percent_decode(document).ok_or("the trust policy is not valid URL-encoded text")?
    } else {
        document.to_owned()
    };
    let policy: Value = serde_json::from_str(&decoded)
        .map_err(|e| format!("the trust policy is not JSON ({e})"))?;
    let statements = match &policy["Statement"] {
        Value::Array(list) => list.iter().collect(),
        single @ Value::Object(_) => vec![single],
        _ => return Err("the trust policy has no Statement".into()),
    };
    let mut allowed = false;
    for statement in statements {
        let resource_matches = match (resource, &statement["Resource"]) {
            (Some(resource), Value::String(_) | Value::Array(_)) => strings(&statement["Resource"])
                .iter()
                .any(|pattern| glob(pattern, resource)),
            _ => true,
        };
        if !names_action(&statement["Action"], action)
            || !resource_matches
            || !principal_matches(statement, principal)
        {
            continue;
        }
        match statement["Effect"].as_str() {
            Some("Deny") => return Ok(false),
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    Ok(allowed)
}

fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

fn names_action(actions: &Value, action: &str) -> bool {
    let action = action.to_ascii_lowercase();
    strings(actions)
        .iter()
        .any(|pattern| glob(&pattern.to_ascii_lowercase(), &action))
}

fn principal_matches(statement: &Value, trustee: Trustee<'_>) -> bool {
    let principal = &statement["Principal"];
    if principal.as_str() == Some("*") {
        return true;
    }
    match trustee {
        Trustee::Service(service) => strings(&principal["Service"]).contains(&service),
        Trustee::Role(role) => {
            let account = role.split(':').nth(4).unwrap_or_default();
            let names = strings(&principal["AWS"]);
            if names.iter().any(|p| p.eq_ignore_ascii_case(role)) {
                return true;
            }
            let whole_account = names.iter().any(|p| {
                *p == "*" || *p == account || p.ends_with(&format!(":iam::{account}:root"))
            });
            whole_account && principal_arn_condition_allows(&statement["Condition"], role)
        }
    }
}

/// Whether the statement's `aws:PrincipalArn` conditions, if any, admit `role`.
fn principal_arn_condition_allows(condition: &Value, role: &str) -> bool {
    let Value::Object(operators) = condition else {
        return true;
    };
    for (operator, keys) in operators {
        let Value::Object(keys) = keys else { continue };
        for (key, values) in keys {
            if !key.eq_ignore_ascii_case("aws:PrincipalArn") {
                continue;
            }
            let patterns = strings(values);
            let admitted = match operator.as_str() {
                "ArnEquals" | "StringEquals" => patterns.contains(&role),
                "ArnLike" | "StringLike" => patterns.iter().any(|p| glob(p, role)),
                // A negated or unknown operator on the principal: not this check's case.
                _ => false,
            };
            if !admitted {
                return false;
            }
        }
    }
    true
}

/// IAM's `*` and `?` wildcards.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut pi, mut ti, mut star, mut mark) = (0, 0, None, 0);
    while ti < t.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some(pi);
            mark = ti;
            pi += 1;
        } else if let Some(s) = star {
            pi = s + 1;
            mark += 1;
            ti = mark;
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|c| *c == '*')
}

fn percent_decode(text: &str) -> Option<String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = text.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(hex, 16).ok()?);
                i += 3;
            }
            b'+' => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    const ADMIN: &str =
        "arn:aws:iam::111111111111:role/sagemaker-deploy-steps/sagemaker-p-1-prod-stackset-admin";

    #[test]
    fn the_execution_role_must_trust_sagemaker() {
        let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole","Condition":{"StringEquals":{"aws:SourceAccount":"2"}}}]}"#;
        assert_eq!(
            trusts(policy, Trustee::Service("sagemaker.amazonaws.com")),
            Ok(true)
        );
        assert_eq!(
            trusts(policy, Trustee::Service("lambda.amazonaws.com")),
            Ok(false)
        );
        let encoded = "%7B%22Statement%22%3A%5B%7B%22Effect%22%3A%22Allow%22%2C%22Principal%22%3A%7B%22Service%22%3A%5B%22sagemaker.amazonaws.com%22%5D%7D%2C%22Action%22%3A%22sts%3AAssumeRole%22%7D%5D%7D";
        assert_eq!(
            trusts(encoded, Trustee::Service("sagemaker.amazonaws.com")),
            Ok(true)
        );
    }

    #[test]
    fn a_role_is_trusted_by_arn_or_by_its_account_narrowed_to_it() {
        let by_account = format!(
            r#"{{"Statement":[{{"Effect":"Allow","Principal":{{"AWS":"arn:aws:iam::111111111111:root"}},"Action":"sts:AssumeRole","Condition":{{"ArnEquals":{{"aws:PrincipalArn":"{ADMIN}"}}}}}}]}}"#
        );
        assert_eq!(trusts(&by_account, Trustee::Role(ADMIN)), Ok(true));
        let other = "arn:aws:iam::111111111111:role/sagemaker-deploy-steps/sagemaker-p-2-prod-stackset-admin";
        assert_eq!(trusts(&by_account, Trustee::Role(other)), Ok(false));
        let like = by_account
            .replace("ArnEquals", "ArnLike")
            .replace("p-1-prod", "*-prod");
        assert_eq!(trusts(&like, Trustee::Role(other)), Ok(true));
        let by_arn = format!(
            r#"{{"Statement":{{"Effect":"Allow","Principal":{{"AWS":["{ADMIN}"]}},"Action":["sts:AssumeRole"]}}}}"#
        );
        assert_eq!(trusts(&by_arn, Trustee::Role(ADMIN)), Ok(true));
        let other_account = by_arn.replace("111111111111", "999999999999");
        assert_eq!(trusts(&other_account, Trustee::Role(ADMIN)), Ok(false));
    }

    #[test]
    fn a_bucket_policy_grants_an_account_or_a_role_an_action_on_its_objects() {
        let role = "arn:aws:iam::222222222222:role/sagemaker-p-1-prod-model";
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":["arn:aws:iam::222222222222:root"]},"Action":"s3:Get*","Resource":"arn:aws:s3:::b/models/*"}]}"#;
        let allowed =
            |action, resource| allows(policy, Trustee::Role(role), action, Some(resource));
        assert_eq!(
            allowed("s3:GetObject", "arn:aws:s3:::b/models/m.tar.gz"),
            Ok(true)
        );
        assert_eq!(
            allowed("s3:GetObject", "arn:aws:s3:::b/other/m.tar.gz"),
            Ok(false)
        );
        assert_eq!(
            allowed("s3:PutObject", "arn:aws:s3:::b/models/m.tar.gz"),
            Ok(false)
        );
        let other = "arn:aws:iam::333333333333:role/x";
        assert_eq!(
            allows(
                policy,
                Trustee::Role(other),
                "s3:GetObject",
                Some("arn:aws:s3:::b/models/m")
            ),
            Ok(false)
        );
        let repository =
            r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":["ecr:BatchGetImage"]}]}"#;
        assert_eq!(
            allows(
                repository,
                Trustee::Role(role),
                "ecr:batchgetimage",
                Some("arn:aws:ecr:r:1:repository/x")
            ),
            Ok(true)
        );
    }

    #[test]
    fn a_deny_wins_and_garbage_is_an_error() {
        let policy = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"sagemaker.amazonaws.com"},"Action":"sts:AssumeRole"},{"Effect":"Deny","Principal":"*","Action":"sts:*"}]}"#;
        assert_eq!(
            trusts(policy, Trustee::Service("sagemaker.amazonaws.com")),
            Ok(false)
        );
        assert!(trusts("{", Trustee::Service("s")).is_err());
        assert!(trusts("%ZZ", Trustee::Service("s")).is_err());
        assert!(trusts("[]", Trustee::Service("s")).is_err());
        assert!(glob("a*c?", "abbbcd") && !glob("a*c", "abd"));
    }
}
