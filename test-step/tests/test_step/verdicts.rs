//! The verdict on deployed endpoints: every account passes, or the one that is missing its
//! endpoint, serves a stale model package or answers wrongly fails, alone, with exit 1.

use deploy_core::stack_params::ParameterList;
use serde_json::{json, Value};
use test_support::endpoints::{
    deploy_hosted_endpoint, queue_json_answers, Hosting, GOOD_ANSWERS, STAGING_ROLE,
};
use test_support::moto;

use crate::{package_arn, Staging, Workspace, REGION, SESSION, SHIPPED_CASES};

/// Pins B3, B4 and B5 end to end: every ACTIVE account of the OU and its child OU is tested (the
/// closed one is not), each endpoint is invoked with every payload, the three accounts land in
/// one valid JSON document, and the verdict is exit 0.
#[tokio::test]
async fn b3_b4_b5_every_active_account_of_the_ou_and_its_child_ou_is_invoked_and_passes() {
    let staging = Staging::create("pass-all").await;
    let ws = Workspace::new("passall");
    for account in &staging.active {
        ws.deploy(account, REGION, &ws.package).await;
    }
    let out = ws
        .test_step()
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .args(["--invocations", "3"])
        .run();
    out.code(0)
        .stdout_contains("Result: PASSED (3 targets: 3 passed, 0 failed, 0 errors)")
        .stderr_contains(&format!("as session {SESSION}"));

    let reports = ws.reports();
    let expected: Vec<(String, String, String)> = staging
        .active
        .iter()
        .map(|a| (a.clone(), REGION.to_owned(), "passed".to_owned()))
        .collect();
    assert_eq!(reports.targets(), expected);
    let tested: Vec<String> = reports.targets().into_iter().map(|t| t.0).collect();
    assert!(
        !tested.contains(&staging.suspended),
        "the closed account is not tested"
    );
    assert!(
        tested.contains(&staging.nested),
        "the child OU's account is tested"
    );
    let json = &reports.json;
    assert_eq!(json["status"], "passed");
    assert_eq!(json["stage"], "staging");
    assert_eq!(json["endpoint_name"], "passall-staging");
    assert_eq!(json["model_package_name"], ws.package.as_str());
    assert_eq!(json["session_name"], SESSION);
    assert_eq!(json["organizational_unit_id"], staging.ou.as_str());
    assert_eq!(json["invocations_per_case"], 3);
    for account in &staging.active {
        let target = reports.target(account, REGION);
        assert_eq!(target["endpoint_status"], "InService");
        assert_eq!(
            target["role_arn"],
            format!("arn:aws:iam::{account}:role/sagemaker-role-staging")
        );
        let check = &target["model_check"];
        assert_eq!(check["status"], "passed");
        assert_eq!(check["variants"][0]["variant_name"], "AllTraffic");
        assert_eq!(
            check["variants"][0]["model_package_names"][0],
            ws.package.as_str()
        );
        let cases = reports.cases(account, REGION);
        assert_eq!(
            cases,
            SHIPPED_CASES.map(|c| (c.to_owned(), "passed".to_owned()))
        );
        for case in target["cases"].as_array().unwrap() {
            assert_eq!(case["succeeded"], 3);
            assert_eq!(case["latency_ms"]["count"], 3);
            assert_eq!(case["response_content_type"], "application/json");
        }
    }
    assert_eq!(reports.junit.attr("failures"), "0");
}

/// A serverless staging stage, deployed from the parameters build-step exports for it: it is
/// waited for, checked and invoked like any other, and each target's first call is reported as
/// the cold start it may be, apart from the latency figures.
#[tokio::test]
async fn a_serverless_staging_endpoint_passes_and_its_first_call_is_kept_out_of_the_latency() {
    let staging = Staging::create("serverless").await;
    let ws = Workspace::new("serverless");
    let mut params = ParameterList::default();
    for (key, value) in [
        ("StageName", "staging"),
        ("ServerlessMemorySizeInMB", "2048"),
        ("ServerlessMaxConcurrency", "5"),
        ("SageMakerProjectName", "serverless"),
        ("SageMakerProjectId", "p-test0001"),
        ("ModelPackageName", ws.package.as_str()),
        ("RoleName", STAGING_ROLE),
    ] {
        params.push(key, value).unwrap();
    }
    // The instances account keeps the workspace's own build config (1 x ml.m5.large): one build
    // config asks for one hosting, and the other would be drift.
    ws.write("serverless-config-export.json", params.to_json());
    let hosting = Hosting::of_stage(&params);
    assert_eq!(
        hosting,
        Hosting::Serverless {
            memory_mb: 2048,
            max_concurrency: 5
        }
    );
    let (account, instances) = (&staging.active[0], &staging.active[1]);
    deploy_hosted_endpoint(
        moto(),
        account,
        REGION,
        &ws.endpoint(),
        &ws.package,
        &hosting,
    )
    .await;
    queue_json_answers(moto(), account, REGION, &GOOD_ANSWERS);
    ws.deploy(instances, REGION, &ws.package).await;

    for (target, serverless) in [(account, true), (instances, false)] {
        let config = if serverless {
            "serverless-config-export.json"
        } else {
            "staging-config-export.json"
        };
        let out = ws
            .test_step()
            .args(["--account-id", target.as_str(), "--build-config", config])
            .args(["--invocations", "3"])
            .run();
        out.code(0)
            .stdout_contains("Result: PASSED (1 targets: 1 passed, 0 failed, 0 errors)");
        if serverless {
            out.stdout_contains(" ms (cold start)");
        }
        let reports = ws.reports();
        let report = reports.target(target, REGION);
        assert_eq!(report["status"], "passed");
        let variant = &report["model_check"]["variants"][0];
        assert_eq!(variant["model_package_names"][0], ws.package.as_str());
        assert_eq!(
            variant["serverless_memory_mb"],
            if serverless { json!(2048) } else { json!(null) }
        );
        let first = &report["first_call"];
        assert_eq!(first["case"], SHIPPED_CASES[0]);
        assert_eq!(first["cold_start"], serverless);
        assert!(first["latency_ms"].as_f64().unwrap() > 0.0, "{first}");
        let counts: Vec<&Value> = report["cases"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| &c["latency_ms"]["count"])
            .collect();
        let first_case = if serverless { 2 } else { 3 };
        assert_eq!(counts, [&json!(first_case), &json!(3)], "{target}");
    }
}

#[tokio::test]
async fn one_account_without_its_endpoint_fails_alone() {
    let staging = Staging::create("missing-ep").await;
    let ws = Workspace::new("missingep");
    let (deployed, missing) = (&staging.active[..2], &staging.active[2]);
    for account in deployed {
        ws.deploy(account, REGION, &ws.package).await;
    }
    let out = ws
        .test_step()
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .run();
    out.code(1)
        .stderr_contains(
            "1 of 3 targets failed their tests; see test-results.json and test-results.xml",
        )
        .stdout_contains(&format!("FAILED {missing} {REGION}"));

    let reports = ws.reports();
    let failed = reports.target(missing, REGION);
    assert_eq!(failed["status"], "failed");
    let error = failed["error"].as_str().unwrap();
    assert!(
        error.starts_with(&format!(
            "endpoint missingep-staging in account {missing} region {REGION} does not exist"
        )),
        "{error}"
    );
    assert!(failed["endpoint_status"].is_null());
    assert_eq!(
        reports.cases(missing, REGION),
        SHIPPED_CASES.map(|c| (c.to_owned(), "not_run".to_owned()))
    );
    for (_, problem) in reports.junit_cases(missing, REGION) {
        let problem = problem.expect("a failure for every case of the failed target");
        assert!(
            problem.starts_with("failure: not run: endpoint missingep-staging"),
            "{problem}"
        );
    }
    for account in deployed {
        assert_eq!(reports.target(account, REGION)["status"], "passed");
    }
    assert_eq!(reports.json["status"], "failed");
    assert_eq!(reports.json["exit_code"], 1);
}

/// A StackSet update that rolled back leaves the endpoint InService on the old package: that
/// must fail the test, not pass it.
#[tokio::test]
async fn an_endpoint_serving_another_model_package_fails_the_model_check() {
    let staging = Staging::create("stale-model").await;
    let ws = Workspace::new("stalemodel");
    let stale = package_arn("stalemodel", 2);
    let (current, behind) = (&staging.active[0], &staging.active[1]);
    ws.deploy(current, REGION, &ws.package).await;
    ws.deploy(behind, REGION, &stale).await;
    let out = ws
        .test_step()
        .args(["--account-id", &format!("{current},{behind}")])
        .run();
    out.code(1);

    let reports = ws.reports();
    assert_eq!(reports.target(current, REGION)["status"], "passed");
    let target = reports.target(behind, REGION);
    assert_eq!(target["status"], "failed");
    assert_eq!(target["endpoint_status"], "InService");
    let check = &target["model_check"];
    assert_eq!(check["status"], "failed");
    assert_eq!(check["expected_model_package"], ws.package.as_str());
    assert_eq!(
        check["variants"][0]["model_package_names"][0],
        stale.as_str()
    );
    let error = target["error"].as_str().unwrap();
    assert!(
        error.contains(&format!(
            "does not serve the exported ModelPackageName {}: variant AllTraffic serves {stale}",
            ws.package
        )),
        "{error}"
    );
    assert!(reports
        .cases(behind, REGION)
        .iter()
        .all(|(_, status)| status == "not_run"));
}

/// Pins B5: the endpoint is really invoked, and a wrong answer fails.
#[tokio::test]
async fn b5_an_answer_that_misses_an_expectation_fails_that_case() {
    let staging = Staging::create("bad-answer").await;
    let ws = Workspace::new("badanswer");
    let (good, bad) = (&staging.active[0], &staging.active[1]);
    ws.deploy(good, REGION, &ws.package).await;
    test_support::endpoints::deploy_endpoint(moto(), bad, REGION, &ws.endpoint(), &ws.package)
        .await;
    // The first case's answer is a probability out of range; the second is fine.
    queue_json_answers(
        moto(),
        bad,
        REGION,
        &[
            r#"{"predictions": [1.7]}"#,
            r#"{"predictions": [0.1, 0.2, 0.3, 0.4, 0.5]}"#,
        ],
    );
    let out = ws
        .test_step()
        .args([
            "--account-id",
            good,
            "--account-id",
            bad,
            "--invocations",
            "3",
        ])
        .run();
    out.code(1)
        .stdout_contains("case one-row: invocation 1 of 3: /predictions/0 is 1.7, outside [0, 1]");

    let reports = ws.reports();
    assert_eq!(reports.target(good, REGION)["status"], "passed");
    let target = reports.target(bad, REGION);
    assert_eq!(target["status"], "failed");
    assert_eq!(target["model_check"]["status"], "passed");
    assert_eq!(target["error"], "1 of 2 payload cases failed");
    assert_eq!(
        reports.cases(bad, REGION),
        [
            ("one-row".to_owned(), "failed".to_owned()),
            ("five-rows".to_owned(), "passed".to_owned())
        ]
    );
    let one_row = &target["cases"][0];
    assert_eq!(
        one_row["failures"],
        serde_json::json!(["invocation 1 of 3: /predictions/0 is 1.7, outside [0, 1]"])
    );
    assert_eq!(
        one_row["succeeded"], 1,
        "the case stops at the first unmet expectation"
    );
    let junit = reports.junit_cases(bad, REGION);
    assert_eq!(
        junit,
        [
            (
                "one-row".to_owned(),
                Some(
                    "failure: invocation 1 of 3: /predictions/0 is 1.7, outside [0, 1]".to_owned()
                )
            ),
            ("five-rows".to_owned(), None)
        ]
    );
}

/// Never print credentials (not even access key ids) or bodies, at any log level the flags reach:
/// `-v` raises this project's crates only, never the SDK's request/credential debug output.
#[tokio::test]
async fn secrets_and_bodies_never_reach_the_log() {
    let staging = Staging::create("no-secrets").await;
    let ws = Workspace::new("nosecrets");
    ws.deploy(&staging.active[0], REGION, &ws.package).await;
    let run = |extra: &[&str]| {
        let out = ws
            .test_step()
            .env("AWS_ACCESS_KEY_ID", "AKIDBASEKEYNEVERPRINTED")
            .env("AWS_SECRET_ACCESS_KEY", "base-secret-never-printed")
            .args(["--account-id", &staging.active[0]])
            .args(extra.iter().copied())
            .run();
        out.code(0);
        format!("{}{}", out.stdout, out.stderr)
    };
    let never = [
        "base-secret-never-printed",
        "FQoGZXIvYXdzE", // moto's session tokens
        "42,1,0,12",     // the one-row payload
        "predictions",   // the answers
    ];
    let default_level = run(&[]);
    for secret in never.iter().chain(&["AKIDBASEKEYNEVERPRINTED", "ASIA"]) {
        assert!(
            !default_level.contains(secret),
            "{secret} was printed:\n{default_level}"
        );
    }
    let most_verbose = run(&["-vv"]);
    assert!(
        most_verbose.contains("DEBUG"),
        "-vv logs at debug:\n{most_verbose}"
    );
    for secret in never.iter().chain(&["AKIDBASEKEYNEVERPRINTED", "ASIA"]) {
        assert!(
            !most_verbose.contains(secret),
            "{secret} was printed with -vv:\n{most_verbose}"
        );
    }
    let report = std::fs::read_to_string(ws.file("test-results.json")).unwrap();
    for secret in never.iter().chain(&["ASIA"]) {
        assert!(!report.contains(secret), "{secret} is in the report");
    }
}
