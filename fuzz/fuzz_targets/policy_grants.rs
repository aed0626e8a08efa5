//! What preflight reads from AWS and judges without the SDK: a trust or resource policy (as GetRole
//! or GetBucketPolicy return it, URL-encoded or not) asked whether it grants a service or a role an
//! action on a resource (`deploy_core::grants`), and a model package's artifact URL and image URI
//! turned into ARNs (`deploy_core::model_source`). Input: up to four NUL-separated strings (the
//! policy, a principal, an action, a resource). Nothing may panic; an answer must not depend on
//! how the policy's text was encoded, and a Deny of everything must win.

#![no_main]

use deploy_core::grants::{allows, trusts, Trustee};
use deploy_core::model_source::{Artifact, Image};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let policy = parts.next().unwrap_or_default();
    let principal = parts.next().unwrap_or_default();
    let action = parts.next().unwrap_or_default();
    let resource = parts.next();
    let role = Trustee::Role(principal);
    let service = Trustee::Service(principal);
    let granted = allows(policy, role, action, resource);
    let _ = trusts(policy, service);
    if let Some(artifact) = Artifact::parse(principal) {
        assert!(!artifact.bucket.is_empty());
        assert!(artifact.object_arn("aws").starts_with("arn:aws:s3:::"));
    }
    if let Some(image) = Image::parse(principal) {
        assert_eq!(image.account_id.len(), 12);
        assert!(image.repository_arn("aws").starts_with("arn:aws:ecr:"));
    }
    // A policy that denies everything to everyone grants nothing, whatever else it says.
    if let Ok(serde_json::Value::Object(mut document)) = serde_json::from_str(policy) {
        let deny = serde_json::json!({"Effect": "Deny", "Principal": "*", "Action": "*", "Resource": "*"});
        let mut statements = match document.remove("Statement") {
            Some(serde_json::Value::Array(list)) => list,
            Some(single) => vec![single],
            None => Vec::new(),
        };
        statements.push(deny);
        document.insert("Statement".into(), serde_json::Value::Array(statements));
        let denied = serde_json::Value::Object(document).to_string();
        assert_ne!(allows(&denied, role, action, resource), Ok(true), "{denied}");
        let _ = granted;
    }
});
