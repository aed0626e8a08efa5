//! Each test follows examples of the IAM User Guide page named in its comment.
use serde_json::{json, Value};

use super::*;

const ACCOUNT: &str = "111122223333";
const FINANCE: &str = r#""arn:aws:someservice:*:111122223333:finance/*""#;
const STORE: &str = "arn:aws:someservice:us-east-2:999999999999:store/abc:111122223333:finance/d";
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
    let put = |object: &str| evaluate(&Request::new(carlos.clone(), "s3:PutObject", object), &p);
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
    let alice = Principal::from_arn(&format!("arn:aws:iam::{ACCOUNT}:user/team/alice")).unwrap();
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
    let shirley = Principal::from_arn("arn:aws:iam::123456789012:user/ShirleyRodriguez").unwrap();
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
    let reader = identity(&json!({"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}));
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
    let elsewhere = Request::assume_role(role("caller"), "arn:aws:iam::444455556666:role/target");
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
