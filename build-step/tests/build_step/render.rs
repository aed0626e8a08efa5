//! What gets written: byte-for-byte snapshots, and cfn-lint with every optional feature on and
//! off. Values that try to break out of YAML or JSON are in `hostile.rs`.

use std::path::Path;

use deploy_core::stack_params::ParameterList;
use test_support::cli::assert_cfn_lint_passes;

use crate::{group_with_one_approved, Workspace, OUTPUTS};

#[tokio::test]
async fn exported_files_match_their_snapshots_and_pass_cfn_lint() {
    let (group, _) = group_with_one_approved("render-snapshot").await;
    let ws = Workspace::new(&group.name);
    ws.build_step().run().code(0);
    let mut files = ws.files();
    files.retain(|f| OUTPUTS.contains(&f.as_str()));
    assert_eq!(files, OUTPUTS);
    // insta ignores leading and trailing blank lines; pin the exact edges of each file here.
    let template_text = ws.read("template-export.yml");
    assert!(
        template_text.starts_with("AWSTemplateFormatVersion: \"2010-09-09\"\n"),
        "{template_text:.80}"
    );
    assert!(template_text.ends_with("Value: !GetAtt Model.ModelName\n"));
    for file in ["staging-config-export.json", "prod-config-export.json"] {
        let text = ws.read(file);
        assert!(
            text.starts_with("[\n  {\n") && text.ends_with("}\n]\n"),
            "{file}: {text}"
        );
    }
    insta::assert_snapshot!("template-export.yml", template_text);
    insta::assert_snapshot!(
        "staging-config-export.json",
        ws.read("staging-config-export.json")
    );
    insta::assert_snapshot!(
        "prod-config-export.json",
        ws.read("prod-config-export.json")
    );
    let template = ws.file("template-export.yml");
    assert_eq!(
        ws.read("prod-template-export.yml"),
        template_text,
        "neither stage is in a VPC: one template for both"
    );
    assert_cfn_lint_passes(&template, &[]);
    assert_cfn_lint_passes(&template, &[&ws.file("staging-config-export.json")]);
    assert_cfn_lint_passes(&template, &[&ws.file("prod-config-export.json")]);
}

/// Pins B7: the role ARN follows the partition of the account it is deployed into.
#[tokio::test]
async fn b7_the_role_arn_is_partition_aware() {
    let (group, _) = group_with_one_approved("render-partition").await;
    let ws = Workspace::new(&group.name);
    ws.build_step().run().code(0);
    let template = ws.read("template-export.yml");
    assert!(template.contains("arn:${AWS::Partition}:iam::${AWS::AccountId}:role/${RoleName}"));
    assert!(!template.contains("arn:aws:iam"), "hard-coded partition");
}

#[tokio::test]
async fn every_optional_feature_passes_cfn_lint_on_and_off() {
    let (group, _) = group_with_one_approved("render-features").await;
    let features_on = |stage: &str, routing: &str| {
        serde_json::json!([
            {"ParameterKey": "StageName", "ParameterValue": stage},
            {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.m5.xlarge"},
            {"ParameterKey": "EndpointInstanceCount", "ParameterValue": "2"},
            {"ParameterKey": "DataCaptureSamplingPercentage", "ParameterValue": "50"},
            {"ParameterKey": "DataCaptureDestination", "ParameterValue": "s3://capture-bucket/prefix"},
            {"ParameterKey": "AutoScalingMinCapacity", "ParameterValue": "2"},
            {"ParameterKey": "AutoScalingMaxCapacity", "ParameterValue": "6"},
            {"ParameterKey": "AutoScalingTargetInvocationsPerInstance", "ParameterValue": "750"},
            {"ParameterKey": "BlueGreenTrafficRouting", "ParameterValue": routing},
            {"ParameterKey": "BlueGreenTrafficPercentage", "ParameterValue": "20"},
            {"ParameterKey": "BlueGreenWaitIntervalSeconds", "ParameterValue": "600"}
        ])
        .to_string()
    };
    for (staging_routing, prod_routing) in [("Canary", "Linear"), ("AllAtOnce", "Disabled")] {
        let ws = Workspace::new(&group.name);
        ws.write(
            "staging-config.json",
            features_on("staging", staging_routing),
        );
        ws.write("prod-config.json", features_on("prod", prod_routing));
        ws.build_step().run().code(0);
        let template = ws.file("template-export.yml");
        assert_cfn_lint_passes(&template, &[&ws.file("staging-config-export.json")]);
        assert_cfn_lint_passes(
            &ws.file("prod-template-export.yml"),
            &[&ws.file("prod-config-export.json")],
        );
    }
    // All off: only the three required keys, everything else from the template's defaults.
    let ws = Workspace::new(&group.name);
    ws.write(
        "staging-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}]"#,
    );
    ws.write(
        "prod-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "prod"}]"#,
    );
    ws.build_step().env("ARTIFACT_BUCKET", "").run().code(0);
    assert_cfn_lint_passes(
        &ws.file("prod-template-export.yml"),
        &[&ws.file("prod-config-export.json")],
    );
}

/// The hosting options in the pairs a fleet would use: serverless staging (on demand and with
/// provisioned concurrency) beside a prod stage in a VPC, network-isolated, with customer
/// managed keys for its volumes and its captured data; and a prod stage on a type with instance
/// storage, capture key only.
#[tokio::test]
async fn hosting_options_pass_cfn_lint_in_every_combination_the_readme_shows() {
    let (group, _) = group_with_one_approved("render-hosting").await;
    let serverless = |provisioned: Option<&str>| {
        let mut config = serde_json::json!([
            {"ParameterKey": "StageName", "ParameterValue": "staging"},
            {"ParameterKey": "ServerlessMemorySizeInMB", "ParameterValue": "4096"},
            {"ParameterKey": "ServerlessMaxConcurrency", "ParameterValue": "10"}
        ]);
        if let Some(provisioned) = provisioned {
            config.as_array_mut().unwrap().push(serde_json::json!(
                {"ParameterKey": "ServerlessProvisionedConcurrency", "ParameterValue": provisioned}
            ));
        }
        config.to_string()
    };
    let vpc_prod = serde_json::json!([
        {"ParameterKey": "StageName", "ParameterValue": "prod"},
        {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.m5.xlarge"},
        {"ParameterKey": "VpcSubnetIdsParameter", "ParameterValue": "/sagemaker/endpoint-network/subnet-ids"},
        {"ParameterKey": "VpcSecurityGroupIdsParameter", "ParameterValue": "/sagemaker/endpoint-network/security-group-ids"},
        {"ParameterKey": "EnableNetworkIsolation", "ParameterValue": "true"},
        {"ParameterKey": "EndpointVolumeKmsKeyId", "ParameterValue": "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
        {"ParameterKey": "DataCaptureSamplingPercentage", "ParameterValue": "20"},
        {"ParameterKey": "DataCaptureKmsKeyId", "ParameterValue": "alias/sagemaker-capture"}
    ])
    .to_string();
    let storage_prod = serde_json::json!([
        {"ParameterKey": "StageName", "ParameterValue": "prod"},
        {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.g5.xlarge"},
        {"ParameterKey": "DataCaptureSamplingPercentage", "ParameterValue": "5"},
        {"ParameterKey": "DataCaptureKmsKeyId", "ParameterValue": "alias/sagemaker-capture"}
    ])
    .to_string();
    for (staging, prod, prod_in_vpc) in [
        (serverless(None), vpc_prod.clone(), true),
        (serverless(Some("2")), storage_prod, false),
    ] {
        let ws = Workspace::new(&group.name);
        ws.write("staging-config.json", staging);
        ws.write("prod-config.json", prod);
        ws.build_step().run().code(0);
        let template = ws.file("template-export.yml");
        // Only a stage in a VPC gets the SSM-typed network parameters, which CloudFormation
        // resolves in every stack of a template; no template names a public parameter.
        let staging_text = ws.read("template-export.yml");
        let prod_text = ws.read("prod-template-export.yml");
        assert!(!staging_text.contains("VpcSubnetIdsParameter"));
        assert_eq!(
            prod_text
                .matches("Type: AWS::SSM::Parameter::Value<String>")
                .count(),
            if prod_in_vpc { 2 } else { 0 }
        );
        assert_eq!(staging_text == prod_text, !prod_in_vpc);
        assert!(!staging_text.contains("/aws/service/") && !prod_text.contains("/aws/service/"));
        assert_cfn_lint_passes(&template, &[&ws.file("staging-config-export.json")]);
        // cfn-lint reads an SSM-typed parameter's value as the resolved one; CloudFormation
        // resolves the names in each target account, so lint what it would see there.
        let prod = std::fs::read_to_string(ws.file("prod-config-export.json"))
            .unwrap()
            .replace(
                "/sagemaker/endpoint-network/subnet-ids",
                "subnet-0123456789abcdef0,subnet-0fedcba9876543210",
            )
            .replace(
                "/sagemaker/endpoint-network/security-group-ids",
                "sg-0123456789abcdef0",
            );
        ws.write("prod-resolved.json", prod);
        let prod_template = ws.file("prod-template-export.yml");
        assert_cfn_lint_passes(&prod_template, &[&ws.file("prod-resolved.json")]);
        let staging = ParameterList::read(
            &ws.file("staging-config-export.json"),
            deploy_core::inputs::BUILD_CONFIG,
        )
        .unwrap();
        assert_eq!(staging.get("ServerlessMemorySizeInMB"), Some("4096"));
        assert_eq!(
            staging.get("EndpointInstanceType"),
            None,
            "a serverless stage names no type"
        );
    }
}

#[tokio::test]
async fn a_custom_template_declares_its_own_parameters() {
    let (group, arn) = group_with_one_approved("render-custom").await;
    let ws = Workspace::new(&group.name);
    ws.write(
        "custom.yml.j2",
        "AWSTemplateFormatVersion: \"2010-09-09\"\nDescription: {{ package.arn }}\nParameters:\n  StageName:\n    Type: String\n  SageMakerProjectName:\n    Type: String\n  ModelPackageName:\n    Type: String\nResources:\n  Topic:\n    Type: AWS::SNS::Topic\n",
    );
    ws.write(
        "staging-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "staging"}]"#,
    );
    ws.write("prod-config.json", r#"[{"ParameterKey": "StageName", "ParameterValue": "prod"}, {"ParameterKey": "EndpointInstanceType", "ParameterValue": "ml.m5.large"}]"#);
    ws.build_step()
        .args(["--template", "custom.yml.j2"])
        .run()
        .code(2)
        .stderr_contains(
            "unknown ParameterKey \"EndpointInstanceType\"; the template accepts: StageName",
        );
    ws.write(
        "prod-config.json",
        r#"[{"ParameterKey": "StageName", "ParameterValue": "prod"}]"#,
    );
    ws.build_step()
        .args(["--template", "custom.yml.j2"])
        .run()
        .code(0);
    assert!(ws
        .read("template-export.yml")
        .contains(&format!("Description: \"{arn}\"")));
    let prod = ws.read("prod-config-export.json");
    assert!(
        prod.contains("ModelPackageName") && !prod.contains("RoleName"),
        "{prod}"
    );
}

/// A repository seeded before the template was named for minijinja (`endpoint.yml.j2`) has a
/// buildspec that passes the former name; with only the new file checked out, the build renders
/// it all the same, and the other way round.
#[tokio::test]
async fn the_template_is_found_under_its_former_name_too() {
    let (group, _) = group_with_one_approved("render-former-name").await;
    let ws = Workspace::new(&group.name);
    let built_in = Path::new(env!("CARGO_MANIFEST_DIR")).join("../templates/endpoint.yml.j2");
    std::fs::create_dir(ws.file("templates")).unwrap();
    std::fs::copy(&built_in, ws.file("templates/endpoint.yml.j2")).unwrap();
    ws.build_step()
        .args(["--template", "templates/endpoint.yml.tera"])
        .run()
        .code(0);
    let with_new_file = ws.read("template-export.yml");
    std::fs::rename(
        ws.file("templates/endpoint.yml.j2"),
        ws.file("templates/endpoint.yml.tera"),
    )
    .unwrap();
    ws.build_step()
        .args(["--template", "templates/endpoint.yml.j2"])
        .run()
        .code(0);
    assert_eq!(ws.read("template-export.yml"), with_new_file);
    ws.build_step().run().code(0);
    assert_eq!(
        ws.read("template-export.yml"),
        with_new_file,
        "the repository's copy renders as the built-in one"
    );
}
