//! Bad settings and environments: exit 2 (or 3 for an unreachable AWS) with a message naming the
//! input and the fix, and no output file. Bad input files are the corpus of `hostile.rs`.

use clap::CommandFactory;
use test_support::endpoints::closed_endpoint;
use test_support::{moto, Cli};

use crate::{group_with_one_approved, Workspace, BIN, INPUTS};

#[tokio::test]
async fn the_32_character_project_name_the_seed_refused_is_accepted() {
    let (group, _) = group_with_one_approved("errors-b6-accepted").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("SAGEMAKER_PROJECT_NAME", "p2345678901234567890123456789012")
        .run()
        .code(0);
}

#[test]
fn an_unreachable_endpoint_exits_3_naming_the_call() {
    let ws = Workspace::new("errors-unreachable");
    ws.build_step()
        .env("AWS_ENDPOINT_URL", closed_endpoint())
        .run()
        .code(3)
        .stderr_contains("AWS call sagemaker:ListModelPackages could not complete");
    assert_eq!(ws.files(), INPUTS);
}

#[test]
fn a_missing_region_is_bad_input() {
    let ws = Workspace::new("errors-no-region");
    ws.build_step()
        .env_remove("AWS_REGION")
        .env_remove("AWS_DEFAULT_REGION")
        .run()
        .code(2)
        .stderr_contains("no AWS region is configured");
}

#[test]
fn unknown_flags_are_rejected() {
    let ws = Workspace::new("errors-flag");
    Cli::new(BIN, &ws.path, moto())
        .args(["--model-pakage-group-name", "x"])
        .run()
        .code(2)
        .stderr_contains("unexpected argument");
}

#[test]
fn missing_credentials_are_bad_input_not_a_network_error() {
    let ws = Workspace::new("errors-no-credentials");
    ws.build_step()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .run()
        .code(2)
        .stderr_contains("no usable AWS credentials for sagemaker:ListModelPackages");
}

/// The binaries carry no SSO client; an SSO profile must get a message that says what to do.
#[test]
fn an_sso_profile_is_pointed_at_credential_process() {
    let ws = Workspace::new("errors-sso-profile");
    ws.write(
        "aws-config",
        "[profile sso]\nsso_start_url = https://example.awsapps.com/start\nsso_region = us-east-1\nsso_account_id = 123456789012\nsso_role_name = Dev\nregion = us-east-1\n",
    );
    ws.build_step()
        .env_remove("AWS_ACCESS_KEY_ID")
        .env_remove("AWS_SECRET_ACCESS_KEY")
        .env("AWS_CONFIG_FILE", ws.file("aws-config"))
        .args(["--profile", "sso"])
        .run()
        .code(2)
        .stderr_contains("must be used through a credential_process profile");
}

/// Pins B10 for path settings: an empty EXPORT_* variable means the default file name.
#[tokio::test]
async fn b10_empty_export_variables_mean_the_default_names() {
    let (group, _) = group_with_one_approved("errors-b10-paths").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("EXPORT_TEMPLATE_NAME", "")
        .env("EXPORT_TEMPLATE_STAGING_CONFIG", "")
        .env("EXPORT_TEMPLATE_PROD_CONFIG", " ")
        .run()
        .code(0);
    assert!(ws.file("template-export.yml").exists() && ws.file("prod-config-export.json").exists());
}

/// An output set that cannot be written whole is refused before anything is written: the
/// outputs of an earlier run and the inputs stay byte for byte as they were.
#[tokio::test]
async fn a_bad_output_set_changes_no_file() {
    let (group, _) = group_with_one_approved("errors-output-set").await;
    let ws = Workspace::new(&group.name);
    ws.build_step().run().code(0);
    let before: Vec<(String, Vec<u8>)> = ws
        .files()
        .into_iter()
        .map(|name| {
            let bytes = std::fs::read(ws.file(&name)).unwrap();
            (name, bytes)
        })
        .collect();
    std::fs::remove_file(ws.file("prod-config-export.json")).unwrap();
    std::fs::create_dir(ws.file("prod-config-export.json")).unwrap();
    ws.build_step()
        .run()
        .code(2)
        .stderr_contains("EXPORT_TEMPLATE_PROD_CONFIG (--export-prod-config) prod-config-export.json: is a directory");
    std::fs::remove_dir(ws.file("prod-config-export.json")).unwrap();
    let prod_export = before
        .iter()
        .find(|(name, _)| name == "prod-config-export.json")
        .unwrap();
    std::fs::write(ws.file("prod-config-export.json"), &prod_export.1).unwrap();
    ws.build_step()
        .env("EXPORT_TEMPLATE_STAGING_CONFIG", "staging-config.json")
        .run()
        .code(2)
        .stderr_contains("would overwrite --import-staging-config staging-config.json");
    for (name, bytes) in &before {
        assert_eq!(
            &std::fs::read(ws.file(name)).unwrap(),
            bytes,
            "{name} changed"
        );
    }
}

/// Every flag and env var with empty, zero, negative, past-u64, huge and non-UTF-8 values: each
/// run ends with a documented exit code, never a panic.
#[test]
fn extreme_values_in_every_input_end_cleanly() {
    let ws = Workspace::new("errors-extremes");
    let unreachable = closed_endpoint();
    test_support::cli::assert_extremes_end_cleanly(&build_step::Args::command(), |extreme| {
        ws.build_step()
            .env("AWS_ENDPOINT_URL", &unreachable)
            .env("DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS", "1")
            .extreme(extreme)
            .run()
    });
}
