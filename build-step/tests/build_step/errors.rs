//! Bad input: each case gets exit 2, a message naming the input and the fix, and no output file.

use test_support::{moto, Cli};

use crate::{group_with_one_approved, Workspace, BIN, INPUTS};

struct Case {
    name: &'static str,
    staging: Option<&'static str>,
    env: &'static [(&'static str, &'static str)],
    args: &'static [&'static str],
    message: &'static str,
}

const fn case(name: &'static str, staging: &'static str, message: &'static str) -> Case {
    Case {
        name,
        staging: Some(staging),
        env: &[],
        args: &[],
        message,
    }
}

const CASES: &[Case] = &[
    case("malformed JSON", "[{", "staging-config.json: is not valid JSON"),
    case("an object instead of the list", r#"{"StageName": "staging"}"#, "holds an object, not a list"),
    case("empty file", "", "staging-config.json: is empty"),
    case(
        "duplicate key",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "a"}, {"ParameterKey": "StageName", "ParameterValue": "b"}]"#,
        "sets ParameterKey \"StageName\" more than once",
    ),
    case(
        "unknown key (typo)",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "EndpointInstanceTyp", "ParameterValue": "ml.m5.large"}]"#,
        "unknown ParameterKey \"EndpointInstanceTyp\"; did you mean \"EndpointInstanceType\"? the template accepts: StageName, EndpointInstanceType",
    ),
    case(
        "missing StageName",
        r#"[{"ParameterKey": "EndpointInstanceCount", "ParameterValue": "1"}]"#,
        "sets no \"StageName\", which the template requires",
    ),
    case(
        "non-numeric count",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "EndpointInstanceCount", "ParameterValue": "one"}]"#,
        "EndpointInstanceCount \"one\" is not a number",
    ),
    case(
        "negative count",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "EndpointInstanceCount", "ParameterValue": "-1"}]"#,
        "EndpointInstanceCount \"-1\" is below the minimum 1",
    ),
    case(
        "number written as a JSON number",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "EndpointInstanceCount", "ParameterValue": 1}]"#,
        "write every value as a JSON string",
    ),
    case(
        "instance type not shaped like ml.*",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "EndpointInstanceType", "ParameterValue": "m5.large"}]"#,
        "EndpointInstanceType \"m5.large\" does not match the pattern",
    ),
    case(
        "a value build-step derives",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "RoleName", "ParameterValue": "admin"}]"#,
        "ParameterKey \"RoleName\" is set by build-step from SAGEMAKER_EXECUTION_ROLE_STAGING_NAME",
    ),
    case(
        "same StageName as prod",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "prod"}]"#,
        "StageName \"prod\" is also the StageName in staging-config.json",
    ),
    case(
        "StageName that SageMaker refuses in an endpoint name",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "stag_ing"}]"#,
        "StageName \"stag_ing\" does not match the pattern",
    ),
    Case {
        name: "data capture with nowhere to write",
        staging: Some(
            r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "DataCaptureSamplingPercentage", "ParameterValue": "10"}]"#,
        ),
        env: &[("ARTIFACT_BUCKET", "")],
        args: &[],
        message: "turns on data capture (DataCaptureSamplingPercentage > 0) with nowhere to write it",
    },
    case(
        "autoscaling minimum above maximum",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "AutoScalingMinCapacity", "ParameterValue": "5"}, {"ParameterKey": "AutoScalingMaxCapacity", "ParameterValue": "2"}]"#,
        "AutoScalingMinCapacity (5) is above AutoScalingMaxCapacity (2)",
    ),
    case(
        "unknown blue/green mode",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}, {"ParameterKey": "BlueGreenTrafficRouting", "ParameterValue": "Gradual"}]"#,
        "BlueGreenTrafficRouting \"Gradual\" is not one of Disabled, AllAtOnce, Canary, Linear",
    ),
    Case {
        name: "missing stage config file",
        staging: None,
        env: &[],
        args: &["--import-staging-config", "nope.json"],
        message: "--import-staging-config nope.json: file not found",
    },
    Case {
        name: "a directory where the stage config should be",
        staging: None,
        env: &[],
        args: &["--import-staging-config", "."],
        message: "--import-staging-config .: is a directory",
    },
    Case {
        name: "B6: a 33-character project name",
        staging: None,
        env: &[("SAGEMAKER_PROJECT_NAME", "p23456789012345678901234567890123")],
        args: &[],
        message: "is 33 characters, over the maximum of 32",
    },
    Case {
        name: "endpoint name over 63 characters",
        staging: Some(r#"[{"ParameterKey": "StageName", "ParameterValue": "s234567890123456789012345678901"}]"#),
        env: &[("SAGEMAKER_PROJECT_NAME", "p2345678901234567890123456789012")],
        args: &[],
        message: "(<project>-<stage>) is 64 characters, over SageMaker's limit of 63",
    },
    Case {
        name: "B10: group name set to the empty string",
        staging: None,
        env: &[("SOURCE_MODEL_PACKAGE_GROUP_NAME", "")],
        args: &[],
        message: "missing the model package group: pass --model-package-group-name or set SOURCE_MODEL_PACKAGE_GROUP_NAME",
    },
    Case {
        name: "grant without OU ids",
        staging: None,
        env: &[("GRANT_CROSS_ACCOUNT_ACCESS", "true")],
        args: &[],
        message: "missing the staging OU id for --grant-cross-account-access",
    },
    Case {
        name: "a custom template that cannot be read",
        staging: None,
        env: &[],
        args: &["--template", "missing.yml.tera"],
        message: "template missing.yml.tera (--template): cannot be read",
    },
    Case {
        name: "a custom template that is not a CloudFormation template",
        staging: None,
        env: &[],
        args: &["--template", "prod-config.json"],
        message: "template prod-config.json: renders a document with no Parameters section",
    },
];

#[tokio::test]
async fn every_bad_input_exits_2_with_its_message_and_writes_nothing() {
    let (group, _) = group_with_one_approved("errors-bad-input").await;
    let mut failures = Vec::new();
    for case in CASES {
        let ws = Workspace::new(&group.name);
        if let Some(staging) = case.staging {
            ws.write("staging-config.json", staging);
        }
        let out = ws
            .build_step()
            .envs(case.env.iter().copied())
            .args(case.args.iter().copied())
            .run();
        if out.code != Some(2) || !out.stderr.contains(case.message) {
            failures.push(format!(
                "{}: exit {:?}, expected 2 and {:?} in:\n{}",
                case.name, out.code, case.message, out.stderr
            ));
        }
        if ws.files() != INPUTS {
            failures.push(format!(
                "{}: left files behind: {:?}",
                case.name,
                ws.files()
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[tokio::test]
async fn the_32_character_project_name_the_seed_refused_is_accepted() {
    let (group, _) = group_with_one_approved("errors-b6-accepted").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("SAGEMAKER_PROJECT_NAME", "p2345678901234567890123456789012")
        .run()
        .code(0);
}

#[tokio::test]
async fn non_utf8_stage_config_is_named() {
    let ws = Workspace::new("errors-non-utf8");
    ws.write("prod-config.json", b"[\xff\xfe]");
    ws.build_step()
        .run()
        .code(2)
        .stderr_contains("prod-config.json: is not UTF-8 text");
}

#[test]
fn an_unreachable_endpoint_exits_3_naming_the_call() {
    let ws = Workspace::new("errors-unreachable");
    let closed_port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    ws.build_step()
        .env(
            "AWS_ENDPOINT_URL",
            format!("http://127.0.0.1:{closed_port}"),
        )
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
