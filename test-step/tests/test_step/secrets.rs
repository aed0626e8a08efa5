//! No credential leaks at the most verbose logging: test-step runs with `-vv` and `RUST_LOG=trace`
//! (which also turns on the SDK's own trace output, request signing included), in both log
//! formats, with a session token on the caller's credentials, through AssumeRole into every
//! staging account. Neither the caller's secret key and session token nor those of any assumed
//! role (as the emulator recorded issuing them) may appear in stdout, stderr or any written file.

use test_support::moto;
use test_support::secrets::{
    assert_only_key_ids_shown, assumed_role_credentials, files_under, traced_streams,
    CALLER_ACCESS_KEY_ID, CALLER_SECRET_ACCESS_KEY, CALLER_SESSION_TOKEN,
};

use crate::{Staging, Workspace, REGION};

#[tokio::test]
async fn no_secret_key_or_session_token_reaches_any_output_at_trace_level() {
    let staging = Staging::create("no-leaks").await;
    let ws = Workspace::new("noleaks");
    for account in &staging.active {
        ws.deploy(account, REGION, &ws.package).await;
    }

    let mut outputs = Vec::new();
    let mut sessions = Vec::new();
    for format in ["text", "json"] {
        let session = format!("no-leaks-{format}-run");
        let out = ws
            .test_step()
            .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
            .env("CODEBUILD_BUILD_ID", &session)
            .env("AWS_ACCESS_KEY_ID", CALLER_ACCESS_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", CALLER_SECRET_ACCESS_KEY)
            .env("AWS_SESSION_TOKEN", CALLER_SESSION_TOKEN)
            .env("RUST_LOG", "trace")
            .env("EXPORT_TEST_RESULTS", format!("results-{format}.json"))
            .args(["-vv", "--log-format", format, "--invocations", "2"])
            .args(["--junit-report", &format!("results-{format}.xml")])
            .run();
        out.code(0)
            .stdout_contains("Result: PASSED (3 targets: 3 passed, 0 failed, 0 errors)");
        outputs.extend(traced_streams(format, out));
        sessions.push(session);
    }
    outputs.extend(files_under(&ws.path));
    let names: Vec<&str> = outputs.iter().map(|o| o.name.as_str()).collect();
    for written in ["results-text.json", "results-json.xml"] {
        assert!(
            names.iter().any(|n| n.ends_with(written)),
            "{written} missing from {names:?}"
        );
    }

    let assumed: Vec<_> = assumed_role_credentials(moto())
        .into_iter()
        .filter(|c| sessions.contains(&c.session_name))
        .collect();
    let mut roles: Vec<&str> = assumed.iter().map(|c| c.role_arn.as_str()).collect();
    roles.sort_unstable();
    let expected: Vec<String> = staging
        .active
        .iter()
        .flat_map(|a| vec![format!("arn:aws:iam::{a}:role/sagemaker-role-staging"); 2])
        .collect();
    assert_eq!(roles, expected, "one AssumeRole per account and run");

    assert_only_key_ids_shown(&outputs, &assumed);
}
