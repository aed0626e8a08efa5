//! The proxy against the real emulator through the real SDK: every fault in the shape the SDK
//! parses and classifies (retried or not), and faults matched by account.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::SdkConfig;
use aws_sdk_sagemaker::error::ProvideErrorMetadata;

use super::http::percent_decode;
use super::record::arn_account;
use super::{AssumedSession, Fault, FaultKind, FaultProxy, RecordedCall};
use crate::seed::{sdk_config, sdk_config_with, ACCOUNT_ID, REGION};

/// The tests' read timeout: what a held request costs, with room for a busy emulator.
const HELD: Duration = Duration::from_secs(2);

/// The emulator's SDK config sent through `proxy`, with `attempts`, a backoff too short to
/// wait for and a read timeout short enough for a held request.
async fn through(proxy: &FaultProxy, attempts: u32) -> SdkConfig {
    sdk_config(crate::moto(), REGION)
        .await
        .to_builder()
        .endpoint_url(proxy.url())
        .retry_config(
            RetryConfig::standard()
                .with_max_attempts(attempts)
                .with_initial_backoff(Duration::from_millis(1)),
        )
        .timeout_config(TimeoutConfig::builder().read_timeout(HELD).build())
        .build()
}

async fn list_groups(config: &SdkConfig) -> Result<(), String> {
    aws_sdk_sagemaker::Client::new(config)
        .list_model_package_groups()
        .send()
        .await
        .map(|_| ())
        .map_err(|e| e.code().map_or_else(|| format!("{e:?}"), str::to_owned))
}

#[tokio::test]
async fn forwards_and_counts_every_request() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 1).await;
    list_groups(&config).await.unwrap();
    list_groups(&config).await.unwrap();
    assert_eq!(proxy.count("ListModelPackageGroups"), 2);
    assert_eq!(proxy.count_in("ListModelPackageGroups", ACCOUNT_ID), 2);
    assert_eq!(proxy.count("ListModelPackages"), 0);
    let env = proxy.env();
    assert!(env.contains(&("AWS_ENDPOINT_URL".to_owned(), proxy.url())));
    assert!(env.contains(&("AWS_ACCESS_KEY_ID".to_owned(), "testing".to_owned())));
}

/// Each answered fault in the protocol's shape: the SDK reads the code AWS would send.
#[tokio::test]
async fn answered_faults_carry_each_protocols_error_code() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 1).await;
    let organizations = aws_sdk_organizations::Client::new(&config);
    let sts = aws_sdk_sts::Client::new(&config);
    for (kind, sagemaker_code, organizations_code, sts_code) in [
        (
            FaultKind::Throttling,
            "ThrottlingException",
            "TooManyRequestsException",
            "Throttling",
        ),
        (
            FaultKind::ServerError(500),
            "InternalFailure",
            "InternalFailure",
            "InternalFailure",
        ),
        (
            FaultKind::ServerError(503),
            "ServiceUnavailable",
            "ServiceUnavailable",
            "ServiceUnavailable",
        ),
        (
            FaultKind::AccessDenied,
            "AccessDeniedException",
            "AccessDeniedException",
            "AccessDenied",
        ),
    ] {
        proxy.inject(Fault::new("ListModelPackageGroups", kind, 1));
        proxy.inject(Fault::new("ListRoots", kind, 1));
        proxy.inject(Fault::new("GetCallerIdentity", kind, 1));
        assert_eq!(list_groups(&config).await, Err(sagemaker_code.to_owned()));
        let listed = organizations.list_roots().send().await;
        assert_eq!(
            listed.unwrap_err().code(),
            Some(organizations_code),
            "{kind:?}"
        );
        let identity = sts.get_caller_identity().send().await;
        assert_eq!(identity.unwrap_err().code(), Some(sts_code), "{kind:?}");
    }
    // Used up: the next calls go through.
    list_groups(&config).await.unwrap();
    sts.get_caller_identity().send().await.unwrap();
}

#[tokio::test]
async fn transient_faults_are_retried_by_the_sdk_until_they_run_out() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 3).await;
    let mut expected = 0;
    for kind in [
        FaultKind::Throttling,
        FaultKind::ServerError(500),
        FaultKind::ServerError(503),
        FaultKind::ConnectionReset,
        FaultKind::Timeout,
    ] {
        proxy.inject(Fault::new("ListModelPackageGroups", kind, 2));
        list_groups(&config)
            .await
            .unwrap_or_else(|code| panic!("{kind:?} was not retried: {code}"));
        expected += 3;
        assert_eq!(proxy.count("ListModelPackageGroups"), expected, "{kind:?}");
    }
}

#[tokio::test]
async fn a_reset_or_a_held_request_fails_the_attempt_without_an_answer() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 1).await;
    let client = aws_sdk_sagemaker::Client::new(&config);
    proxy.inject(Fault::new(
        "ListModelPackageGroups",
        FaultKind::ConnectionReset,
        1,
    ));
    let err = client.list_model_package_groups().send().await.unwrap_err();
    assert!(
        matches!(err, aws_sdk_sagemaker::error::SdkError::DispatchFailure(ref f) if f.is_io()),
        "{err:?}"
    );
    proxy.inject(Fault::new("ListModelPackageGroups", FaultKind::Timeout, 1));
    let started = std::time::Instant::now();
    let err = client.list_model_package_groups().send().await.unwrap_err();
    assert!(
        matches!(err, aws_sdk_sagemaker::error::SdkError::TimeoutError(_))
            || matches!(err, aws_sdk_sagemaker::error::SdkError::DispatchFailure(ref f) if f.is_timeout()),
        "{err:?}"
    );
    assert!(started.elapsed() >= HELD);
}

/// AssumeRole matches the account of the role it asks for; later calls with the keys it
/// issued match that account; the default keys are 123456789012.
#[tokio::test]
async fn faults_match_the_account_of_the_role_and_of_its_keys() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 1).await;
    let sts = aws_sdk_sts::Client::new(&config);
    let assume = |account: &'static str| {
        sts.assume_role()
            .role_arn(format!("arn:aws:iam::{account}:role/proxy-test"))
            .role_session_name("proxy-test")
            .send()
    };
    proxy.inject(Fault::new("AssumeRole", FaultKind::AccessDenied, 1).in_account("111100001111"));
    assert_eq!(
        assume("222200002222")
            .await
            .map(|_| ())
            .map_err(|e| e.code().map(str::to_owned)),
        Ok(())
    );
    assert_eq!(
        assume("111100001111").await.unwrap_err().code(),
        Some("AccessDenied")
    );
    let out = assume("111100001111").await.unwrap();
    let c = out.credentials().unwrap();
    let assumed = aws_sdk_sagemaker::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "proxy-test",
    );
    assert_eq!(proxy.count_in("AssumeRole", "111100001111"), 2);
    assert_eq!(proxy.count_in("AssumeRole", "222200002222"), 1);

    let in_account = sdk_config_with(crate::moto(), REGION, assumed)
        .await
        .to_builder()
        .endpoint_url(proxy.url())
        .retry_config(RetryConfig::disabled())
        .build();
    proxy.inject(
        Fault::new("ListModelPackageGroups", FaultKind::AccessDenied, 1).in_account("111100001111"),
    );
    list_groups(&config).await.unwrap();
    assert_eq!(
        list_groups(&in_account).await,
        Err("AccessDeniedException".to_owned())
    );
    assert_eq!(proxy.count_in("ListModelPackageGroups", ACCOUNT_ID), 1);
    assert_eq!(proxy.count_in("ListModelPackageGroups", "111100001111"), 1);
}

/// An AssumeRole with a session policy, then a call with the key it issued: both recorded
/// with their signing scope, key, account, parameters and status, and the key's session found.
#[tokio::test]
async fn every_call_is_recorded_and_issued_keys_name_their_session() {
    let proxy = FaultProxy::start(crate::moto());
    let config = through(&proxy, 1).await;
    let policy = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sagemaker:List*","Resource":"*"}]}"#;
    let out = aws_sdk_sts::Client::new(&config)
        .assume_role()
        .role_arn("arn:aws:iam::111100003333:role/recorded role+x")
        .role_session_name("recorded-session")
        .policy(policy)
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    let issued = c.access_key_id().to_owned();
    let assumed = aws_sdk_sagemaker::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "proxy-test",
    );
    let in_account = sdk_config_with(crate::moto(), "eu-west-1", assumed)
        .await
        .to_builder()
        .endpoint_url(proxy.url())
        .retry_config(RetryConfig::disabled())
        .build();
    aws_sdk_sagemaker::Client::new(&in_account)
        .list_model_package_groups()
        .name_contains("churn")
        .send()
        .await
        .unwrap();
    proxy.inject(Fault::new("GetCallerIdentity", FaultKind::Throttling, 1));
    let throttled = aws_sdk_sts::Client::new(&config)
        .get_caller_identity()
        .send()
        .await;
    assert!(throttled.is_err());

    let calls = proxy.calls();
    assert_eq!(calls.len(), 3, "{calls:#?}");
    assert_eq!(
        calls[0],
        RecordedCall {
            signing_service: "sts".to_owned(),
            region: REGION.to_owned(),
            operation: "AssumeRole".to_owned(),
            account: "111100003333".to_owned(),
            access_key: "testing".to_owned(),
            params: serde_json::json!({
                "Action": "AssumeRole",
                "Version": "2011-06-15",
                "RoleArn": "arn:aws:iam::111100003333:role/recorded role+x",
                "RoleSessionName": "recorded-session",
                "Policy": policy,
            }),
            status: 200,
        }
    );
    assert_eq!(
        calls[1],
        RecordedCall {
            signing_service: "sagemaker".to_owned(),
            region: "eu-west-1".to_owned(),
            operation: "ListModelPackageGroups".to_owned(),
            account: "111100003333".to_owned(),
            access_key: issued.clone(),
            params: serde_json::json!({"NameContains": "churn"}),
            status: 200,
        }
    );
    assert_eq!(
        (
            calls[2].operation.as_str(),
            calls[2].signing_service.as_str(),
            &calls[2].params,
            calls[2].status
        ),
        (
            "GetCallerIdentity",
            "sts",
            &serde_json::json!({"Action": "GetCallerIdentity", "Version": "2011-06-15"}),
            400
        )
    );
    assert_eq!(
        proxy.session_of(&issued),
        Some(AssumedSession {
            role_arn: "arn:aws:iam::111100003333:role/recorded role+x".to_owned(),
            session_name: "recorded-session".to_owned(),
            policy: Some(policy.to_owned()),
            account: "111100003333".to_owned(),
        })
    );
    assert_eq!(proxy.session_of("testing"), None);
    // The counts read the same record.
    assert_eq!(proxy.count_in("ListModelPackageGroups", "111100003333"), 1);
    assert_eq!(proxy.count("GetCallerIdentity"), 1);
}

/// An unsigned runtime invocation: its endpoint name is its parameter, its scope empty; a
/// reset request is recorded with no status.
#[tokio::test]
async fn invocations_and_unanswered_requests_are_recorded() {
    let proxy = FaultProxy::start(crate::moto());
    proxy.stand_in_for_endpoints("{}");
    let request = "POST /endpoints/churn-staging%2Dx/invocations HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\nContent-Length: 2\r\n\r\n{}";
    let send = || {
        let mut stream = TcpStream::connect(("127.0.0.1", proxy.port)).unwrap();
        stream.write_all(request.as_bytes()).unwrap();
        let mut answer = String::new();
        let _ = stream.read_to_string(&mut answer);
        answer
    };
    assert!(send().starts_with("HTTP/1.1 200 "));
    proxy.inject(Fault::new("InvokeEndpoint", FaultKind::ConnectionReset, 1));
    assert_eq!(send(), "");
    let calls = proxy.calls();
    let expected = RecordedCall {
        signing_service: String::new(),
        region: String::new(),
        operation: "InvokeEndpoint".to_owned(),
        account: ACCOUNT_ID.to_owned(),
        access_key: String::new(),
        params: serde_json::json!({"EndpointName": "churn-staging-x"}),
        status: 200,
    };
    assert_eq!(calls[0], expected);
    assert_eq!(
        calls[1],
        RecordedCall {
            status: 0,
            ..expected
        }
    );
}

#[test]
fn form_values_and_arns_are_decoded() {
    assert_eq!(
        percent_decode("arn%3Aaws%3Aiam%3A%3A111122223333%3Arole%2Fx+y%"),
        "arn:aws:iam::111122223333:role/x y%"
    );
    assert_eq!(
        arn_account("arn:aws:iam::111122223333:role/x").as_deref(),
        Some("111122223333")
    );
    assert_eq!(arn_account("arn:aws:iam:::role/x"), None);
}
