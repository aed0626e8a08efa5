//! The policy simulator and Service Quotas stand-ins through the proxy, in front of the real
//! emulator. test-support links neither the IAM nor the Service Quotas SDK client (adding one would
//! change `Cargo.lock`), so the requests are written here as those clients send them: awsQuery
//! forms and awsJson bodies with a SigV4 `Authorization` header naming the access key, Region and
//! service (the signature itself is checked by neither the proxy nor the emulator).

use std::io::{Read, Write};
use std::net::TcpStream;

use serde_json::{json, Value};

use super::stand_ins::service_quotas::{default_quotas, MAX_RESULTS, SERVERLESS_CONCURRENCY};
use super::FaultProxy;
use crate::seed::{assume_account, sdk_config, ACCOUNT_ID, REGION};

/// Who signs a request: moto's default key (account 123456789012) or a session's.
struct Caller {
    key: String,
    token: Option<String>,
}

impl Caller {
    fn default_account() -> Self {
        Caller {
            key: "testing".to_owned(),
            token: None,
        }
    }

    /// A session in `account`, issued by the emulator directly (the proxy has not seen it).
    async fn in_account(account: &str) -> Self {
        let credentials = assume_account(crate::moto(), account, "stand-in-tests").await;
        Caller {
            key: credentials.access_key_id().to_owned(),
            token: credentials.session_token().map(str::to_owned),
        }
    }

    /// A session in `account` issued by an AssumeRole through `proxy`, which then knows the key's
    /// account.
    async fn through(proxy: &FaultProxy, account: &str) -> Self {
        let config = sdk_config(crate::moto(), REGION)
            .await
            .to_builder()
            .endpoint_url(proxy.url())
            .build();
        let out = aws_sdk_sts::Client::new(&config)
            .assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/stand-in-tests"))
            .role_session_name("stand-in-tests")
            .send()
            .await
            .unwrap();
        let credentials = out.credentials().unwrap();
        Caller {
            key: credentials.access_key_id().to_owned(),
            token: Some(credentials.session_token().to_owned()),
        }
    }

    /// One POST to `port` signed for `service` in `region`: (status, body).
    fn post(
        &self,
        port: u16,
        (region, service): (&str, &str),
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String) {
        let mut head = format!(
            "POST / HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\nX-Amz-Date: 20260101T000000Z\r\nAuthorization: AWS4-HMAC-SHA256 Credential={}/20260101/{region}/{service}/aws4_request, SignedHeaders=host;x-amz-date, Signature=00\r\nContent-Length: {}\r\n",
            self.key,
            body.len()
        );
        if let Some(token) = &self.token {
            head.push_str(&format!("X-Amz-Security-Token: {token}\r\n"));
        }
        for (name, value) in headers {
            head.push_str(&format!("{name}: {value}\r\n"));
        }
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(b"\r\n").unwrap();
        stream.write_all(body.as_bytes()).unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).unwrap();
        let status = answer.split(' ').nth(1).and_then(|s| s.parse().ok());
        let body = answer.split_once("\r\n\r\n").map_or("", |(_, body)| body);
        (status.unwrap_or(0), body.to_owned())
    }

    /// An IAM awsQuery call to `port` (the emulator's or the proxy's).
    fn iam(&self, port: u16, action: &str, params: &[(&str, &str)]) -> (u16, String) {
        let mut body = format!("Action={action}&Version=2010-05-08");
        for (key, value) in params {
            body.push_str(&format!("&{key}={}", encode(value)));
        }
        let form = [("Content-Type", "application/x-www-form-urlencoded")];
        self.post(port, ("us-east-1", "iam"), &form, &body)
    }

    /// An IAM call to the emulator that must succeed.
    fn seed(&self, action: &str, params: &[(&str, &str)]) {
        let (status, body) = self.iam(crate::moto().port, action, params);
        assert_eq!(status, 200, "{action}: {body}");
    }

    /// A Service Quotas call through `proxy` in `region`: (status, JSON body).
    fn quotas(
        &self,
        proxy: &FaultProxy,
        region: &str,
        operation: &str,
        body: &Value,
    ) -> (u16, Value) {
        let target = format!("ServiceQuotasV20190624.{operation}");
        let headers = [
            ("Content-Type", "application/x-amz-json-1.1"),
            ("X-Amz-Target", target.as_str()),
        ];
        let scope = (region, "servicequotas");
        let (status, text) = self.post(proxy.port, scope, &headers, &body.to_string());
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// A form value, percent-encoded as the SDK's query writer does.
fn encode(value: &str) -> String {
    let keep = |b: u8| b.is_ascii_alphanumeric() || b"-_.~".contains(&b);
    let one = |b: u8| {
        if keep(b) {
            (b as char).to_string()
        } else {
            format!("%{b:02X}")
        }
    };
    value.bytes().map(one).collect()
}

const TRUST: &str = r#"{"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Principal": {"Service": "codebuild.amazonaws.com"}, "Action": "sts:AssumeRole"}]}"#;

/// Creates role `name` under `path` with the inline policy `inline` (its statements).
fn create_role(caller: &Caller, path: &str, name: &str, inline: &Value) {
    let params = [
        ("RoleName", name),
        ("Path", path),
        ("AssumeRolePolicyDocument", TRUST),
    ];
    caller.seed("CreateRole", &params);
    let document = json!({"Version": "2012-10-17", "Statement": inline}).to_string();
    let params = [
        ("RoleName", name),
        ("PolicyName", "inline"),
        ("PolicyDocument", &document),
    ];
    caller.seed("PutRolePolicy", &params);
}

/// A SimulatePrincipalPolicy through `proxy`: the status and, per result, (action, resource,
/// decision), with the `IsTruncated` and `Marker` of the page.
struct Simulated {
    status: u16,
    body: String,
    results: Vec<(String, String, String)>,
    marker: Option<String>,
}

fn between<'a>(text: &'a str, tag: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(&format!("<{tag}>"))?;
    rest.split_once(&format!("</{tag}>"))
        .map(|(inner, _)| inner)
}

fn simulate(proxy: &FaultProxy, caller: &Caller, params: &[(&str, &str)]) -> Simulated {
    let (status, body) = caller.iam(proxy.port, "SimulatePrincipalPolicy", params);
    let members = body.split("<member>").skip(1);
    let result = |member: &str| {
        let field = |tag| between(member, tag).unwrap_or_default().to_owned();
        (
            field("EvalActionName"),
            field("EvalResourceName"),
            field("EvalDecision"),
        )
    };
    let results = members.map(result).collect();
    let marker = between(&body, "Marker").map(str::to_owned);
    if status == 200 {
        let truncated = between(&body, "IsTruncated");
        assert_eq!(truncated == Some("true"), marker.is_some(), "{body}");
    }
    Simulated {
        status,
        body,
        results,
        marker,
    }
}

fn decisions(simulated: &Simulated) -> Vec<(&str, &str)> {
    let results = simulated.results.iter();
    results.map(|(_, r, d)| (r.as_str(), d.as_str())).collect()
}

/// An inline grant on a bucket prefix allows objects under it and nothing beside it; a Deny in an
/// attached managed policy wins over it; results page by MaxItems and Marker.
#[tokio::test]
async fn the_simulator_allows_a_roles_inline_grant_under_its_prefix_only() {
    const ACCOUNT: &str = "310000000001";
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_policy_simulator();
    let caller = Caller::in_account(ACCOUNT).await;
    let grant = json!([{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::artifacts/models/*"}]);
    create_role(&caller, "/deploy/", "reader", &grant);
    let deny = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Action": "s3:*", "Resource": "arn:aws:s3:::artifacts/models/secret/*"}]}).to_string();
    caller.seed(
        "CreatePolicy",
        &[("PolicyName", "no-secrets"), ("PolicyDocument", &deny)],
    );
    let managed = format!("arn:aws:iam::{ACCOUNT}:policy/no-secrets");
    caller.seed(
        "AttachRolePolicy",
        &[("RoleName", "reader"), ("PolicyArn", &managed)],
    );

    let role = format!("arn:aws:iam::{ACCOUNT}:role/deploy/reader");
    let under = "arn:aws:s3:::artifacts/models/churn/model.tar.gz";
    let beside = "arn:aws:s3:::artifacts/other/model.tar.gz";
    let secret = "arn:aws:s3:::artifacts/models/secret/key";
    let ask = [
        ("PolicySourceArn", role.as_str()),
        ("ActionNames.member.1", "s3:GetObject"),
        ("ActionNames.member.2", "s3:PutObject"),
        ("ResourceArns.member.1", under),
        ("ResourceArns.member.2", beside),
        ("ResourceArns.member.3", secret),
    ];
    let simulated = simulate(&proxy, &caller, &ask);
    assert_eq!(simulated.status, 200, "{}", simulated.body);
    assert_eq!(
        simulated.results,
        [
            ("s3:GetObject", under, "allowed"),
            ("s3:GetObject", beside, "implicitDeny"),
            ("s3:GetObject", secret, "explicitDeny"),
            ("s3:PutObject", under, "implicitDeny"),
            ("s3:PutObject", beside, "implicitDeny"),
            ("s3:PutObject", secret, "explicitDeny"),
        ]
        .map(|(a, r, d)| (a.to_owned(), r.to_owned(), d.to_owned()))
    );
    assert_eq!(simulated.marker, None);

    // Pages of 4: the second starts at the Marker the first gave.
    let first = simulate(&proxy, &caller, &[&ask[..], &[("MaxItems", "4")]].concat());
    assert_eq!(
        (first.results.len(), first.marker.as_deref()),
        (4, Some("4"))
    );
    let rest = [&ask[..], &[("MaxItems", "4"), ("Marker", "4")]].concat();
    let second = simulate(&proxy, &caller, &rest);
    assert_eq!(second.marker, None);
    let paged: Vec<_> = first.results.into_iter().chain(second.results).collect();
    assert_eq!(paged, simulated.results);

    // The stand-in answered; its reads of the role went to the emulator, not through the proxy.
    assert_eq!(proxy.count("SimulatePrincipalPolicy"), 3);
    assert_eq!(proxy.count("GetRole"), 0);
    assert!(proxy.calls().iter().all(|call| call.status == 200));
}

/// Across accounts the role's identity policy is not enough: the resource policy must grant the
/// caller too. As AWS requires, a resource policy needs a CallerArn (an IAM user, simulated with
/// the role's policies), which is the principal it must name.
#[tokio::test]
async fn across_accounts_the_resource_policy_must_grant_the_caller_too() {
    const ACCOUNT: &str = "310000000002";
    const OWNER: &str = "310000000003";
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_policy_simulator();
    let caller = Caller::in_account(ACCOUNT).await;
    let grant = json!([
        {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-models/*"},
        {"Effect": "Allow", "Action": "sagemaker:DescribeModelPackage", "Resource": "*"},
    ]);
    create_role(&caller, "/", "deployer", &grant);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/deployer");
    let object = "arn:aws:s3:::shared-models/churn/model.tar.gz";
    let owner = format!("arn:aws:iam::{OWNER}:root");
    let user = format!("arn:aws:iam::{ACCOUNT}:user/preflight");
    let base = [
        ("PolicySourceArn", role.as_str()),
        ("ActionNames.member.1", "s3:GetObject"),
        ("ResourceArns.member.1", object),
    ];
    let with = |more: &[(&'static str, &str)]| {
        let mut params: Vec<(&str, String)> =
            base.iter().map(|(k, v)| (*k, (*v).to_owned())).collect();
        params.extend(more.iter().map(|(k, v)| (*k, (*v).to_owned())));
        params
    };
    let ask = |params: Vec<(&str, String)>| {
        let params: Vec<(&str, &str)> = params.iter().map(|(k, v)| (*k, v.as_str())).collect();
        simulate(&proxy, &caller, &params)
    };
    let bucket_policy = |principal: &str| {
        json!({"Version": "2012-10-17", "Statement": [{"Sid": "Models", "Effect": "Allow", "Principal": {"AWS": principal}, "Action": "s3:GetObject", "Resource": "arn:aws:s3:::shared-models/*"}]}).to_string()
    };

    // An S3 ARN names no account: without a ResourceOwner the bucket is the role's own.
    assert_eq!(decisions(&ask(with(&[]))), [(object, "allowed")]);
    // Owned elsewhere, with no resource policy: denied.
    let elsewhere = ask(with(&[("ResourceOwner", &owner)]));
    assert_eq!(decisions(&elsewhere), [(object, "implicitDeny")]);
    // A resource ARN that names another account is owned by it.
    let package = format!("arn:aws:sagemaker:us-east-1:{OWNER}:model-package/churn/1");
    let own = format!("arn:aws:sagemaker:us-east-1:{ACCOUNT}:model-package/churn/1");
    let describe = [
        ("PolicySourceArn", role.as_str()),
        ("ActionNames.member.1", "sagemaker:DescribeModelPackage"),
        ("ResourceArns.member.1", package.as_str()),
        ("ResourceArns.member.2", own.as_str()),
    ];
    let described = simulate(&proxy, &caller, &describe);
    assert_eq!(
        decisions(&described),
        [
            (package.as_str(), "implicitDeny"),
            (own.as_str(), "allowed")
        ]
    );

    // A resource policy without a CallerArn is refused, as AWS refuses it for a role.
    let policy = bucket_policy(&role);
    let refused = ask(with(&[
        ("ResourceOwner", &owner),
        ("ResourcePolicy", &policy),
    ]));
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert!(
        refused.body.contains("<Code>InvalidInput</Code>"),
        "{}",
        refused.body
    );
    assert!(
        refused.body.contains("CallerArn is required"),
        "{}",
        refused.body
    );

    // The bucket policy grants the caller's account: with the role's identity policy, allowed.
    let account_root = format!("arn:aws:iam::{ACCOUNT}:root");
    let policy = bucket_policy(&account_root);
    let granted = [
        ("ResourceOwner", owner.as_str()),
        ("ResourcePolicy", &policy),
        ("CallerArn", &user),
    ];
    assert_eq!(decisions(&ask(with(&granted))), [(object, "allowed")]);
    // It names the user itself: allowed; it names only the role, which is not the caller: denied.
    let policy = bucket_policy(&user);
    let named = [
        ("ResourceOwner", owner.as_str()),
        ("ResourcePolicy", &policy),
        ("CallerArn", &user),
    ];
    assert_eq!(decisions(&ask(with(&named))), [(object, "allowed")]);
    let policy = bucket_policy(&role);
    let other = [
        ("ResourceOwner", owner.as_str()),
        ("ResourcePolicy", &policy),
        ("CallerArn", &user),
    ];
    assert_eq!(decisions(&ask(with(&other))), [(object, "implicitDeny")]);
    // A grant the identity policy lacks is not made by the bucket policy alone.
    let policy = bucket_policy("*");
    let put = [
        ("PolicySourceArn", role.as_str()),
        ("ActionNames.member.1", "s3:PutObject"),
        ("ResourceArns.member.1", object),
        ("ResourceOwner", owner.as_str()),
        ("ResourcePolicy", &policy),
        ("CallerArn", &user),
    ];
    assert_eq!(
        decisions(&simulate(&proxy, &caller, &put)),
        [(object, "implicitDeny")]
    );
}

/// A Deny in the resource policy wins over every grant, in the same account and across.
#[tokio::test]
async fn an_explicit_deny_in_the_resource_policy_wins() {
    const ACCOUNT: &str = "310000000004";
    const OWNER: &str = "310000000005";
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_policy_simulator();
    let caller = Caller::in_account(ACCOUNT).await;
    let grant =
        json!([{"Effect": "Allow", "Action": "s3:*", "Resource": "arn:aws:s3:::guarded/*"}]);
    create_role(&caller, "/", "writer", &grant);
    let role = format!("arn:aws:iam::{ACCOUNT}:role/writer");
    let user = format!("arn:aws:iam::{ACCOUNT}:user/preflight");
    let policy = json!({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"AWS": format!("arn:aws:iam::{ACCOUNT}:root")}, "Action": "s3:*", "Resource": "arn:aws:s3:::guarded/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject", "Resource": "arn:aws:s3:::guarded/*"},
    ]})
    .to_string();
    let object = "arn:aws:s3:::guarded/model.tar.gz";
    for owner in [ACCOUNT, OWNER] {
        let owner_arn = format!("arn:aws:iam::{owner}:root");
        let ask = [
            ("PolicySourceArn", role.as_str()),
            ("ActionNames.member.1", "s3:GetObject"),
            ("ActionNames.member.2", "s3:PutObject"),
            ("ResourceArns.member.1", object),
            ("ResourcePolicy", &policy),
            ("ResourceOwner", &owner_arn),
            ("CallerArn", &user),
        ];
        let simulated = simulate(&proxy, &caller, &ask);
        let results: Vec<(&str, &str)> = simulated
            .results
            .iter()
            .map(|(a, _, d)| (a.as_str(), d.as_str()))
            .collect();
        assert_eq!(
            results,
            [
                ("s3:GetObject", "explicitDeny"),
                ("s3:PutObject", "allowed")
            ],
            "owner {owner}"
        );
    }
}

/// A role the emulator does not hold in the request's account, or under another path, is IAM's
/// NoSuchEntity (HTTP 404, awsQuery error shape); the other IAM calls still reach the emulator.
#[tokio::test]
async fn a_role_the_emulator_does_not_hold_is_no_such_entity() {
    const ACCOUNT: &str = "310000000006";
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_policy_simulator();
    let caller = Caller::in_account(ACCOUNT).await;
    let unrelated = json!([{"Effect": "Allow", "Action": "s3:ListBucket", "Resource": "arn:aws:s3:::elsewhere"}]);
    create_role(&caller, "/team/", "present", &unrelated);
    let missing = |caller: &Caller, arn: &str| {
        let ask = [
            ("PolicySourceArn", arn),
            ("ActionNames.member.1", "s3:GetObject"),
        ];
        let simulated = simulate(&proxy, caller, &ask);
        assert_eq!(simulated.status, 404, "{arn}: {}", simulated.body);
        assert!(
            simulated.body.starts_with("<ErrorResponse"),
            "{}",
            simulated.body
        );
        assert!(
            simulated.body.contains("<Code>NoSuchEntity</Code>"),
            "{}",
            simulated.body
        );
        assert!(
            simulated.body.contains("<Type>Sender</Type>"),
            "{}",
            simulated.body
        );
    };
    missing(&caller, &format!("arn:aws:iam::{ACCOUNT}:role/team/absent"));
    missing(
        &caller,
        &format!("arn:aws:iam::{ACCOUNT}:role/other/present"),
    );
    // The role is in 310000000006: asked with the default account's key, it is not there.
    let present = format!("arn:aws:iam::{ACCOUNT}:role/team/present");
    missing(&Caller::default_account(), &present);
    let ask = [
        ("PolicySourceArn", present.as_str()),
        ("ActionNames.member.1", "s3:GetObject"),
    ];
    let empty = simulate(&proxy, &caller, &ask);
    assert_eq!(decisions(&empty), [("*", "implicitDeny")]);

    let (status, body) = caller.iam(proxy.port, "GetRole", &[("RoleName", "present")]);
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(&present), "{body}");
    assert_eq!(proxy.count("GetRole"), 1);
}

/// The default quotas take two pages of the default size, so a client must follow NextToken; a
/// value set for one account and Region is returned there only, by both operations.
#[tokio::test]
async fn quotas_paginate_and_a_set_value_is_returned_per_account_and_region() {
    const ACCOUNT: &str = "410000000001";
    const QUOTA: &str = "ml.m5.large for endpoint usage";
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_service_quotas();
    proxy.set_service_quota(ACCOUNT, "eu-west-1", QUOTA, 1.0);
    let target = Caller::through(&proxy, ACCOUNT).await;
    let default = Caller::default_account();

    let list_all = |caller: &Caller, region: &str, max: Option<usize>| {
        let (mut quotas, mut token, mut pages) = (Vec::<Value>::new(), None::<String>, 0);
        loop {
            let mut body = json!({"ServiceCode": "sagemaker"});
            if let Some(max) = max {
                body["MaxResults"] = json!(max);
            }
            if let Some(token) = &token {
                body["NextToken"] = json!(token);
            }
            let (status, page) = caller.quotas(&proxy, region, "ListServiceQuotas", &body);
            assert_eq!(status, 200, "{page}");
            let listed = page["Quotas"].as_array().unwrap();
            assert!(listed.len() <= max.unwrap_or(MAX_RESULTS));
            quotas.extend(listed.iter().cloned());
            pages += 1;
            match page["NextToken"].as_str() {
                Some(next) => token = Some(next.to_owned()),
                None => return (quotas, pages),
            }
        }
    };
    let value_of = |quotas: &[Value], name: &str| {
        let quota = quotas.iter().find(|q| q["QuotaName"] == name).unwrap();
        quota["Value"].clone()
    };

    let (quotas, pages) = list_all(&target, "eu-west-1", None);
    assert_eq!(pages, 2);
    assert_eq!(quotas.len(), default_quotas().len());
    assert_eq!(value_of(&quotas, QUOTA), json!(1.0));
    assert_eq!(
        value_of(&quotas, "ml.g5.xlarge for endpoint usage"),
        json!(4.0)
    );
    assert_eq!(value_of(&quotas, SERVERLESS_CONCURRENCY), json!(1000.0));
    let code = FaultProxy::service_quota_code(QUOTA);
    let quota = quotas.iter().find(|q| q["QuotaName"] == QUOTA).unwrap();
    assert_eq!(
        quota,
        &json!({
            "ServiceCode": "sagemaker",
            "ServiceName": "Amazon SageMaker",
            "QuotaArn": format!("arn:aws:servicequotas:eu-west-1:{ACCOUNT}:sagemaker/{code}"),
            "QuotaCode": code,
            "QuotaName": QUOTA,
            "Value": 1.0,
            "Unit": "None",
            "Adjustable": true,
            "GlobalQuota": false,
        })
    );
    let (small, pages) = list_all(&target, "eu-west-1", Some(10));
    assert_eq!(pages, default_quotas().len().div_ceil(10));
    assert_eq!(small, quotas);

    // Another Region of the account, and another account: the default.
    let (elsewhere, _) = list_all(&target, "us-east-1", None);
    assert_eq!(value_of(&elsewhere, QUOTA), json!(4.0));
    let (other_account, _) = list_all(&default, "eu-west-1", None);
    assert_eq!(value_of(&other_account, QUOTA), json!(4.0));
    assert!(other_account[0]["QuotaArn"]
        .as_str()
        .unwrap()
        .contains(&format!(":eu-west-1:{ACCOUNT_ID}:")));

    // GetServiceQuota by code, and an unknown code.
    let get = |caller: &Caller, code: &str| {
        let body = json!({"ServiceCode": "sagemaker", "QuotaCode": code});
        caller.quotas(&proxy, "eu-west-1", "GetServiceQuota", &body)
    };
    let (status, answer) = get(&target, &code);
    assert_eq!((status, &answer["Quota"]), (200, quota));
    let (status, answer) = get(&default, &code);
    assert_eq!((status, &answer["Quota"]["Value"]), (200, &json!(4.0)));
    let (status, answer) = get(&target, "L-00000000");
    assert_eq!(
        (status, &answer["__type"]),
        (400, &json!("NoSuchResourceException"))
    );

    // Other services' quotas, and the other operations, are the emulator's.
    let vpc = json!({"ServiceCode": "vpc"});
    let (status, answer) = target.quotas(&proxy, "eu-west-1", "ListAWSDefaultServiceQuotas", &vpc);
    assert_eq!(status, 200, "{answer}");
    assert!(answer["Quotas"]
        .as_array()
        .unwrap()
        .iter()
        .all(|q| q["ServiceCode"] == "vpc"));
    let (_, answer) = target.quotas(&proxy, "eu-west-1", "ListServiceQuotas", &vpc);
    assert!(!answer.to_string().contains("sagemaker"), "{answer}");
    let count = |operation| proxy.count(operation);
    assert_eq!(count("GetServiceQuota"), 3);
}
