//! No credential leaks at the most verbose logging: build-step runs with `-vv` and `RUST_LOG=trace`
//! (which also turns on the SDK's own trace output, request signing included), in both log
//! formats, through an assume-role profile whose source profile holds static credentials with a
//! session token, the way a developer runs it from a laptop. Neither the source credentials' secret
//! key and session token nor the assumed role's (as the emulator recorded issuing them) may appear
//! in stdout, stderr or any written file.

use test_support::moto;
use test_support::secrets::{
    assert_only_key_ids_shown, assumed_role_credentials, files_under, traced_streams,
    CALLER_ACCESS_KEY_ID, CALLER_SECRET_ACCESS_KEY, CALLER_SESSION_TOKEN,
};

use crate::{group_with_one_approved, Workspace};

const ROLE_ARN: &str = "arn:aws:iam::123456789012:role/no-leaks-build-deployer";

#[tokio::test]
async fn no_secret_key_or_session_token_reaches_any_output_at_trace_level() {
    let ws = Workspace::new("no-leaks");
    let (_group, arn) = group_with_one_approved(&ws.group).await;
    let profiles = tempfile::tempdir().unwrap();
    let config = profiles.path().join("config");
    let credentials = profiles.path().join("credentials");
    std::fs::write(
        &config,
        format!(
            "[profile deployer]\nrole_arn = {ROLE_ARN}\nsource_profile = source\nregion = us-east-1\n\n[profile source]\nregion = us-east-1\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &credentials,
        format!(
            "[source]\naws_access_key_id = {CALLER_ACCESS_KEY_ID}\naws_secret_access_key = {CALLER_SECRET_ACCESS_KEY}\naws_session_token = {CALLER_SESSION_TOKEN}\n"
        ),
    )
    .unwrap();

    let mut outputs = Vec::new();
    for format in ["text", "json"] {
        let out = ws
            .build_step()
            .env_remove("AWS_ACCESS_KEY_ID")
            .env_remove("AWS_SECRET_ACCESS_KEY")
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials)
            .env("AWS_PROFILE", "deployer")
            .env("RUST_LOG", "trace")
            .env("EXPORT_TEMPLATE_NAME", format!("template-{format}.yml"))
            .env(
                "EXPORT_TEMPLATE_STAGING_CONFIG",
                format!("staging-{format}.json"),
            )
            .env("EXPORT_TEMPLATE_PROD_CONFIG", format!("prod-{format}.json"))
            .env(
                "EXPORT_TEMPLATE_PROD_NAME",
                format!("prod-template-{format}.yml"),
            )
            .args(["-vv", "--log-format", format, "--output", "json"])
            .run();
        out.code(0).stdout_contains(&arn);
        outputs.extend(traced_streams(format, out));
    }
    outputs.extend(files_under(&ws.path));
    let mut written: Vec<String> = test_support::cli::file_names(&ws.path);
    written.retain(|name| !crate::INPUTS.contains(&name.as_str()));
    assert_eq!(
        written,
        [
            "prod-json.json",
            "prod-template-json.yml",
            "prod-template-text.yml",
            "prod-text.json",
            "staging-json.json",
            "staging-text.json",
            "template-json.yml",
            "template-text.yml"
        ]
    );

    let assumed: Vec<_> = assumed_role_credentials(moto())
        .into_iter()
        .filter(|c| c.role_arn == ROLE_ARN)
        .collect();
    assert_eq!(assumed.len(), 2, "one AssumeRole per run");

    assert_only_key_ids_shown(&outputs, &assumed);
}
