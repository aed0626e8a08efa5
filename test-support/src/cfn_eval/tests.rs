//! The resolver on small templates, one feature at a time, and on its errors.

use std::collections::BTreeMap;

use serde_json::{json, Value as Json};
use serde_yaml::Value as Yaml;

use super::ids::base64;
use super::{resolve, CfnError, ResolvedTemplate, StackInputs, REF};

const ACCOUNT: &str = "123456789012";

fn yaml(text: &str) -> Yaml {
    serde_yaml::from_str(text).unwrap()
}

fn inputs() -> StackInputs {
    StackInputs::new(ACCOUNT, "eu-west-1").stack_name("demo")
}

fn resolved(text: &str) -> ResolvedTemplate {
    resolve(&yaml(text), &inputs()).unwrap()
}

fn failure(text: &str, inputs: &StackInputs) -> CfnError {
    resolve(&yaml(text), inputs).unwrap_err()
}

/// The properties of resource `id`.
fn properties(stack: &ResolvedTemplate, id: &str) -> Json {
    stack.resource(id).unwrap().properties.clone()
}

/// A template whose one resource `R` (a type without rules) has `properties`.
fn with_properties(head: &str, properties: &str) -> String {
    let lines: Vec<String> = properties
        .lines()
        .map(|line| format!("      {line}"))
        .collect();
    let indented = lines.join("\n");
    format!("{head}\nResources:\n  R:\n    Type: Test::Thing\n    Properties:\n{indented}")
}

#[test]
fn parameters_defaults_numbers_lists_and_pseudo_parameters() {
    let head = "Parameters:
  Name: {Type: String}
  Count: {Type: Number, Default: 3}
  Zones: {Type: CommaDelimitedList, Default: 'a, b,c'}
  Ids: {Type: 'List<AWS::EC2::Subnet::Id>'}";
    let text = with_properties(
        head,
        "Name: !Ref Name
Count: !Ref Count
Zones: !Ref Zones
Ids: !Ref Ids
Literal: 60
Flag: true
Pseudo: [!Ref AWS::AccountId, !Ref AWS::Region, !Ref AWS::Partition, !Ref AWS::StackName, !Ref AWS::URLSuffix]
StackId: !Ref AWS::StackId
Arns: !Ref AWS::NotificationARNs",
    );
    let inputs = inputs()
        .parameter("Name", "n")
        .parameter("Ids", "subnet-1,subnet-2");
    let stack = resolve(&yaml(&text), &inputs).unwrap();
    let p = properties(&stack, "R");
    assert_eq!(p["Name"], "n");
    assert_eq!(p["Count"], "3", "Number parameters arrive as strings");
    assert_eq!(p["Zones"], json!(["a", "b", "c"]));
    assert_eq!(p["Ids"], json!(["subnet-1", "subnet-2"]));
    assert_eq!(p["Literal"], 60);
    assert_eq!(p["Flag"], true);
    assert_eq!(
        p["Pseudo"],
        json!([ACCOUNT, "eu-west-1", "aws", "demo", "amazonaws.com"])
    );
    let stack_id = p["StackId"].as_str().unwrap();
    assert!(stack_id.starts_with(&format!(
        "arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/demo/"
    )));
    assert_eq!(p["Arns"], json!([]));

    let china = StackInputs::new(ACCOUNT, "cn-north-1")
        .parameter("Name", "n")
        .parameter("Ids", "s");
    let p = properties(&resolve(&yaml(&text), &china).unwrap(), "R");
    assert_eq!(p["Pseudo"][2], "aws-cn");
    assert_eq!(p["Pseudo"][4], "amazonaws.com.cn");
    let notified = inputs.notification_arns(&["arn:aws:sns:eu-west-1:1:t"]);
    let p = properties(&resolve(&yaml(&text), &notified).unwrap(), "R");
    assert_eq!(p["Arns"], json!(["arn:aws:sns:eu-west-1:1:t"]));
}

#[test]
fn parameter_errors_name_the_parameter() {
    let text = "Parameters:
  Stage: {Type: String, AllowedValues: [staging, prod]}
  Name: {Type: String, MinLength: 2, MaxLength: 3, Default: abc}
  Count: {Type: Number, MinValue: 1, MaxValue: 5, Default: 1}
Resources: {}";
    assert_eq!(
        failure(text, &inputs()),
        CfnError::MissingParameter {
            path: "Parameters.Stage".to_owned()
        }
    );
    let stage = || inputs().parameter("Stage", "prod");
    for (name, value) in [
        ("Stage", "dev"),
        ("Name", "a"),
        ("Name", "abcd"),
        ("Count", "6"),
        ("Count", "x"),
    ] {
        let error = failure(text, &stage().parameter(name, value));
        assert!(
            matches!(&error, CfnError::InvalidParameter { path, .. } if *path == format!("Parameters.{name}")),
            "{name}={value}: {error}"
        );
    }
    let error = failure(text, &stage().parameter("Other", "x"));
    assert!(
        error.to_string().starts_with("Parameters.Other: "),
        "{error}"
    );
    assert!(resolve(&yaml(text), &stage()).is_ok());
}

#[test]
fn conditions_nest_and_are_all_reported() {
    let text = "Parameters:
  Stage: {Type: String, Default: prod}
  Count: {Type: Number, Default: 2}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsStaging: {\"Fn::Equals\": [{\"Ref\": Stage}, staging]}
  NotProd: !Not [!Condition IsProd]
  ProdAndTwo: !And [!Condition IsProd, !Equals [!Ref Count, 2]]
  Either: {\"Fn::Or\": [{\"Condition\": IsStaging}, {\"Condition\": NotProd}]}
  Unused: !Equals [a, b]
  Lists: !Equals [!Split [',', 'a,b'], [a, b]]
Resources:
  Always:
    Type: Test::Thing
  OnlyStaging:
    Type: Test::Thing
    Condition: IsStaging
Outputs:
  ProdOnly:
    Condition: ProdAndTwo
    Value: yes
  StagingOnly:
    Condition: Either
    Value: no";
    let stack = resolved(text);
    let expected = [
        ("Either", false),
        ("IsProd", true),
        ("IsStaging", false),
        ("Lists", true),
        ("NotProd", false),
        ("ProdAndTwo", true),
        ("Unused", false),
    ];
    let expected: BTreeMap<String, bool> = expected
        .iter()
        .map(|(name, value)| ((*name).to_owned(), *value))
        .collect();
    assert_eq!(stack.conditions, expected);
    assert!(stack.resource("Always").is_some());
    assert!(stack.resource("OnlyStaging").is_none());
    assert_eq!(stack.resource("Always").unwrap().properties, json!({}));
    assert_eq!(stack.outputs.keys().collect::<Vec<_>>(), ["ProdOnly"]);
    assert_eq!(stack.outputs["ProdOnly"].value, "yes");
}

#[test]
fn condition_cycles_and_unknown_conditions_are_errors() {
    let cycle = "Conditions:
  A: !Not [!Condition B]
  B: !And [!Equals [x, x], !Condition A]";
    let error = failure(cycle, &inputs());
    assert!(
        matches!(&error, CfnError::Cycle { chain, .. } if chain == "Condition A -> Condition B -> Condition A"),
        "{error}"
    );

    let unknown = with_properties("", "X: !If [Missing, a, b]");
    let error = failure(&unknown, &inputs());
    assert_eq!(
        error,
        CfnError::UnknownCondition {
            path: "Resources.R.Properties.X.Fn::If".to_owned(),
            name: "Missing".to_owned()
        }
    );
    let resource_in_condition = "Conditions:
  C: !Equals [!Ref Thing, x]
Resources:
  Thing: {Type: Test::Thing}";
    assert!(matches!(
        failure(resource_in_condition, &inputs()),
        CfnError::Malformed { .. }
    ));
}

#[test]
fn fn_if_and_no_value_remove_list_items_and_properties() {
    let head = "Parameters:
  On: {Type: String, Default: 'true'}
Conditions:
  IsOn: !Equals [!Ref On, 'true']
  IsOff: !Not [!Condition IsOn]";
    let text = with_properties(
        head,
        "Kept: !If [IsOn, kept, !Ref AWS::NoValue]
Dropped: !If [IsOff, never, !Ref AWS::NoValue]
Bare: !Ref AWS::NoValue
LongForm: {\"Fn::If\": [IsOn, {\"Ref\": On}, other]}
Statement:
  - Sid: First
  - !If [IsOff, {Sid: Off}, !Ref AWS::NoValue]
  - !If
    - IsOn
    - Sid: On
      Condition: !If [IsOff, {Bool: {x: 'true'}}, !Ref AWS::NoValue]
    - !Ref AWS::NoValue
  - !Ref AWS::NoValue
Joined: !Join [',', [a, !If [IsOff, b, !Ref AWS::NoValue], c]]",
    );
    let p = properties(&resolved(&text), "R");
    assert_eq!(
        p,
        json!({
            "Kept": "kept",
            "LongForm": "true",
            "Statement": [{"Sid": "First"}, {"Sid": "On"}],
            "Joined": "a,c",
        })
    );
}

#[test]
fn sub_substitutes_parameters_resources_attributes_and_literals() {
    let text = "Parameters:
  Project: {Type: String, Default: churn}
Resources:
  Role:
    Type: AWS::IAM::Role
    Properties:
      RoleName: !Sub ${Project}-role
  R:
    Type: Test::Thing
    Properties:
      Plain: !Sub arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/${Project}:*
      Resource: !Sub '${Role} is ${Role.Arn}'
      Literal: !Sub '${!Literal} and ${!Project} stay, ${Project} goes'
      Variables: !Sub
        - ${Name}/${Bucket}/${AWS::Region}
        - Name: !Join ['-', [!Ref Project, x]]
          Bucket: fixed
      Long: {\"Fn::Sub\": [\"${A}${Project}\", {A: \"a-\"}]}";
    let p = properties(&resolved(text), "R");
    assert_eq!(
        p["Plain"],
        format!("arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/churn:*")
    );
    assert_eq!(
        p["Resource"],
        format!("churn-role is arn:aws:iam::{ACCOUNT}:role/churn-role")
    );
    assert_eq!(p["Literal"], "${Literal} and ${Project} stay, churn goes");
    assert_eq!(p["Variables"], "churn-x/fixed/eu-west-1");
    assert_eq!(p["Long"], "a-churn");

    for bad in [
        "!Sub '${Unclosed'",
        "!Sub '${Nothing}'",
        "!Sub '${AWS::NoValue}'",
    ] {
        let text = with_properties("", &format!("X: {bad}"));
        let error = failure(&text, &inputs());
        assert!(
            error
                .to_string()
                .starts_with("Resources.R.Properties.X.Fn::Sub: "),
            "{error}"
        );
    }
}

#[test]
fn join_select_split_find_in_map_base64_and_get_azs() {
    let head = "Parameters:
  Env: {Type: String, Default: prod}
  Index: {Type: Number, Default: 1}
Mappings:
  Sizes:
    prod: {Instance: ml.m5.xlarge, Count: 2, Zones: [x, y]}";
    let text = with_properties(
        head,
        "Join: !Join ['', [a, 1, true]]
Select: !Select [!Ref Index, [zero, one]]
SelectAz: !Select ['0', !GetAZs '']
Split: !Split ['|', 'a|b||c']
Nested: !Join ['/', !Split [',', 'x,y']]
Map: !FindInMap [Sizes, !Ref Env, Instance]
MapNumber: {\"Fn::FindInMap\": [Sizes, prod, Count]}
MapList: !FindInMap [Sizes, prod, Zones]
Base64: {'Fn::Base64': !Sub '${Env}!'}
Azs: !GetAZs us-east-1",
    );
    let p = properties(&resolved(&text), "R");
    assert_eq!(p["Join"], "a1true");
    assert_eq!(p["Select"], "one");
    assert_eq!(p["SelectAz"], "eu-west-1a");
    assert_eq!(p["Split"], json!(["a", "b", "", "c"]));
    assert_eq!(p["Nested"], "x/y");
    assert_eq!(p["Map"], "ml.m5.xlarge");
    assert_eq!(p["MapNumber"], 2);
    assert_eq!(p["MapList"], json!(["x", "y"]));
    assert_eq!(p["Base64"], "cHJvZCE=");
    assert_eq!(p["Azs"], json!(["us-east-1a", "us-east-1b", "us-east-1c"]));
}

#[test]
fn base64_pads() {
    let cases = [
        ("", ""),
        ("M", "TQ=="),
        ("Ma", "TWE="),
        ("Man", "TWFu"),
        ("hello world", "aGVsbG8gd29ybGQ="),
    ];
    for (plain, encoded) in cases {
        assert_eq!(base64(plain.as_bytes()), encoded);
    }
}

#[test]
fn roles_have_names_arns_with_paths_and_stable_ids() {
    let text = "Resources:
  Named:
    Type: AWS::IAM::Role
    Properties:
      Path: /team/
      RoleName: builder
  Unnamed:
    Type: AWS::IAM::Role
  R:
    Type: Test::Thing
    Properties:
      Arn: !GetAtt Named.Arn
      ListForm: !GetAtt [Named, Arn]
      Name: !Ref Named
      Id: !GetAtt Named.RoleId
      Generated: !Ref Unnamed
      GeneratedArn: !GetAtt Unnamed.Arn";
    let stack = resolved(text);
    let p = properties(&stack, "R");
    let arn = format!("arn:aws:iam::{ACCOUNT}:role/team/builder");
    assert_eq!(p["Arn"], arn);
    assert_eq!(p["ListForm"], arn);
    assert_eq!(p["Name"], "builder");
    let id = p["Id"].as_str().unwrap();
    assert!(id.starts_with("AROA") && id.len() == 21, "{id}");
    let generated = p["Generated"].as_str().unwrap();
    assert!(
        generated.starts_with("demo-Unnamed-") && generated.len() == 25,
        "{generated}"
    );
    assert_eq!(
        p["GeneratedArn"],
        format!("arn:aws:iam::{ACCOUNT}:role/{generated}")
    );
    assert_eq!(
        stack.resource("Named").unwrap().arn.as_deref(),
        Some(arn.as_str())
    );
    assert_eq!(
        stack.resource("Named").unwrap().physical_id,
        Some(json!("builder"))
    );
    assert_eq!(resolved(text), stack, "the same inputs give the same ids");
    assert_eq!(stack.of_type("AWS::IAM::Role").count(), 2);
}

#[test]
fn built_in_identities_of_the_other_types() {
    let text = "Resources:
  Bucket: {Type: AWS::S3::Bucket}
  Repo: {Type: AWS::CodeCommit::Repository, Properties: {RepositoryName: repo}}
  Build: {Type: AWS::CodeBuild::Project, Properties: {Name: build}}
  Pipe: {Type: AWS::CodePipeline::Pipeline, Properties: {Name: pipe}}
  Rule: {Type: AWS::Events::Rule, Properties: {Name: rule}}
  Topic: {Type: AWS::SNS::Topic, Properties: {TopicName: topic}}
  Notify: {Type: AWS::CodeStarNotifications::NotificationRule, Properties: {Name: n}}
  Policy: {Type: AWS::IAM::ManagedPolicy, Properties: {ManagedPolicyName: p, Path: /x/}}
  Inline: {Type: AWS::IAM::Policy, Properties: {PolicyName: inline}}
  Model: {Type: AWS::SageMaker::Model, Properties: {ModelName: MyModel}}
  Config: {Type: AWS::SageMaker::EndpointConfig}
  Endpoint: {Type: AWS::SageMaker::Endpoint, Properties: {EndpointName: churn-prod}}
  Alarm: {Type: AWS::CloudWatch::Alarm, Properties: {AlarmName: alarm}}
  Target:
    Type: AWS::ApplicationAutoScaling::ScalableTarget
    Properties:
      ResourceId: !Sub endpoint/${Endpoint.EndpointName}/variant/AllTraffic
      ScalableDimension: sagemaker:variant:DesiredInstanceCount
      ServiceNamespace: sagemaker";
    let stack = resolved(text);
    let arn = |id: &str| stack.resource(id).unwrap().arn.clone().unwrap();
    let physical = |id: &str| stack.resource(id).unwrap().physical_id.clone().unwrap();
    let bucket = physical("Bucket");
    let bucket = bucket.as_str().unwrap();
    assert!(
        bucket.starts_with("demo-bucket-") && bucket == bucket.to_lowercase(),
        "{bucket}"
    );
    assert_eq!(arn("Bucket"), format!("arn:aws:s3:::{bucket}"));
    assert_eq!(
        arn("Repo"),
        format!("arn:aws:codecommit:eu-west-1:{ACCOUNT}:repo")
    );
    assert_eq!(physical("Repo").as_str().unwrap().len(), 36, "a UUID");
    assert_eq!(
        arn("Build"),
        format!("arn:aws:codebuild:eu-west-1:{ACCOUNT}:project/build")
    );
    assert_eq!(physical("Pipe"), "pipe");
    assert_eq!(
        arn("Rule"),
        format!("arn:aws:events:eu-west-1:{ACCOUNT}:rule/rule")
    );
    assert_eq!(
        physical("Topic"),
        format!("arn:aws:sns:eu-west-1:{ACCOUNT}:topic")
    );
    assert!(arn("Notify").starts_with(&format!(
        "arn:aws:codestar-notifications:eu-west-1:{ACCOUNT}:notificationrule/"
    )));
    assert_eq!(
        physical("Policy"),
        format!("arn:aws:iam::{ACCOUNT}:policy/x/p")
    );
    assert!(physical("Inline")
        .as_str()
        .unwrap()
        .starts_with("demo-Inline-"));
    assert_eq!(
        arn("Model"),
        format!("arn:aws:sagemaker:eu-west-1:{ACCOUNT}:model/mymodel")
    );
    assert!(arn("Config").starts_with(&format!(
        "arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint-config/demo-config-"
    )));
    assert_eq!(
        arn("Endpoint"),
        format!("arn:aws:sagemaker:eu-west-1:{ACCOUNT}:endpoint/churn-prod")
    );
    assert_eq!(
        arn("Alarm"),
        format!("arn:aws:cloudwatch:eu-west-1:{ACCOUNT}:alarm:alarm")
    );
    assert_eq!(
        physical("Target"),
        "endpoint/churn-prod/variant/AllTraffic|sagemaker:variant:DesiredInstanceCount|sagemaker"
    );

    let attributes = format!(
        "{text}
  R:
    Type: Test::Thing
    Properties:
      Clone: !GetAtt Repo.CloneUrlHttp
      Name: !GetAtt Model.ModelName
      Regional: !GetAtt Bucket.RegionalDomainName"
    );
    let p = properties(&resolved(&attributes), "R");
    assert_eq!(
        p["Clone"],
        "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/repo"
    );
    assert_eq!(p["Name"], "MyModel");
    assert_eq!(
        p["Regional"],
        format!("{bucket}.s3.eu-west-1.amazonaws.com")
    );
}

#[test]
fn overrides_supply_and_replace_attributes() {
    let text = "Resources:
  Vpc: {Type: AWS::EC2::VPC}
  Role: {Type: AWS::IAM::Role, Properties: {RoleName: r}}
  R:
    Type: Test::Thing
    Properties:
      Vpc: !Ref Vpc
      Cidr: !GetAtt Vpc.CidrBlock
      Role: !GetAtt Role.Arn";
    let error = failure(text, &inputs());
    assert_eq!(
        error,
        CfnError::NoAttribute {
            path: "Resources.R.Properties.Vpc.Ref".to_owned(),
            logical_id: "Vpc".to_owned(),
            attribute: REF.to_owned(),
        }
    );
    let overridden = inputs()
        .attribute("Vpc", REF, "vpc-1")
        .attribute("Vpc", "CidrBlock", "10.0.0.0/16")
        .attribute("Role", "Arn", "arn:aws:iam::1:role/other");
    let stack = resolve(&yaml(text), &overridden).unwrap();
    let p = properties(&stack, "R");
    assert_eq!(
        p,
        json!({"Vpc": "vpc-1", "Cidr": "10.0.0.0/16", "Role": "arn:aws:iam::1:role/other"})
    );
    assert_eq!(
        stack.resource("Vpc").unwrap().physical_id,
        Some(json!("vpc-1"))
    );
    assert_eq!(stack.resource("Vpc").unwrap().arn, None);
}

#[test]
fn references_to_absent_or_unknown_things_are_errors() {
    let conditional = "Conditions:
  Never: !Equals [a, b]
Resources:
  Role: {Type: AWS::IAM::Role, Condition: Never}
  R:
    Type: Test::Thing
    Properties:
      Policies:
        - !GetAtt Role.Arn";
    assert_eq!(
        failure(conditional, &inputs()),
        CfnError::ConditionalResource {
            path: "Resources.R.Properties.Policies[0].Fn::GetAtt".to_owned(),
            logical_id: "Role".to_owned()
        }
    );
    let unknown = with_properties("", "X: !Ref Nowhere");
    assert!(
        matches!(failure(&unknown, &inputs()), CfnError::UnknownName { name, .. } if name == "Nowhere")
    );
    let cycle = "Resources:
  A: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref B}}
  B: {Type: AWS::IAM::Role, Properties: {RoleName: !Ref A}}";
    assert!(matches!(failure(cycle, &inputs()), CfnError::Cycle { .. }));
}

#[test]
fn unsupported_and_malformed_input_fails_without_panicking() {
    let import = with_properties("", "X: !ImportValue shared");
    assert_eq!(
        failure(&import, &inputs()),
        CfnError::Unsupported {
            path: "Resources.R.Properties.X.Fn::ImportValue".to_owned(),
            feature: "Fn::ImportValue".to_owned()
        }
    );
    let bad_properties = [
        "X: !Cidr [a, 1, 2]",
        "X: !Select [5, [a]]",
        "X: !Select [x, [a]]",
        "X: !Join a",
        "X: !Join [',', a]",
        "X: !Join [',', [[a]]]",
        "X: !Split ['', a]",
        "X: !If [a, b]",
        "X: !GetAtt NoDot",
        "X: !FindInMap [M, a, b]",
        "X: !Equals [a, a]",
        "X: !Condition C",
        "X: !Ref [a]",
        "X: !Sub [a, b, c]",
        "X: !Base64 [a]",
    ];
    for properties in bad_properties {
        let error = failure(&with_properties("", properties), &inputs());
        assert!(
            error.to_string().starts_with("Resources.R.Properties.X"),
            "{properties}: {error}"
        );
    }
    for template in [
        "- a list",
        "Transform: AWS::Serverless-2016-10-31",
        "Resources: [a]",
        "Resources: {R: {Properties: {}}}",
        "Resources: {R: {Type: T, Properties: [a]}}",
        "Resources: {'Fn::ForEach::X': [a, [b], {}]}",
        "Conditions: {C: [a]}",
        "Outputs: {O: {Description: no value}}",
        "Parameters: {P: {Default: x}}",
    ] {
        assert!(resolve(&yaml(template), &inputs()).is_err(), "{template}");
    }
}

// ---- The repository's templates ----

/// Values for the parameters the two templates declare, each matching its AllowedPattern.
/// Those with a default are given only in the `optional` pass, to take the branches they guard.
const REQUIRED: &[(&str, &str)] = &[
    ("SageMakerProjectName", "churn"),
    ("SageMakerProjectId", "p-abcdefghijkl"),
    ("Stage", "staging"),
    ("StageName", "staging"),
    ("DataScienceAccountId", "111111111111"),
    ("ModelArtifactBucketArn", "arn:aws:s3:::sagemaker-eu-west-1-111111111111"),
    ("ModelImageRepositoryArns", "arn:aws:ecr:eu-west-1:111111111111:repository/churn,arn:aws:ecr:eu-west-1:763104351884:repository/pytorch-inference"),
    ("PermissionsBoundaryArn", "arn:aws:iam::111111111111:policy/sagemaker-deploy-steps-boundary"),
    ("OrganizationalUnitStagingId", "ou-ab12-stagingx"),
    ("OrganizationalUnitProdId", "ou-ab12-prodxxxx"),
];
const OPTIONAL: &[(&str, &str)] = &[
    ("ModelArtifactKeyPrefix", "churn/"),
    ("ModelArtifactKmsKeyArn", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("DataCaptureBucketArn", "arn:aws:s3:::sagemaker-project-p-abcdefghijkl"),
    ("EndpointVolumeKmsKeyArn", "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
    ("DataCaptureKmsKeyArn", "arn:aws:kms:eu-west-1:222222222222:key/1234abcd-12ab-34cd-56ef-1234567890ac"),
    ("OrganizationId", "o-abcdefghij"),
    ("SeedBucket", "platform-seed-bucket"),
    ("SeedKey", "seed/seed.zip"),
    ("CodeConnectionArn", "arn:aws:codeconnections:eu-west-1:111111111111:connection/0123abcd-0123-4567-89ab-0123456789ab"),
    ("FullRepositoryId", "team/churn-deploy"),
];

fn repository_template(name: &str) -> Yaml {
    let path = format!("{}/../templates/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_yaml::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The stack's inputs: `values` for the parameters the template declares, the first allowed
/// value for any other parameter without a default (a new one without either fails here).
fn stack_inputs(template: &Yaml, account: &str, values: &[(&str, &str)]) -> StackInputs {
    let mut inputs = StackInputs::new(account, "eu-west-1").stack_name("e2e");
    let declared = template["Parameters"]
        .as_mapping()
        .expect("a Parameters section");
    for (name, declaration) in declared {
        let name = name.as_str().unwrap();
        let given = values
            .iter()
            .rev()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| (*v).to_owned());
        let first_allowed = || declaration["AllowedValues"][0].as_str().map(str::to_owned);
        let value = match given.or_else(first_allowed) {
            Some(value) => value,
            None if declaration.get("Default").is_some() => continue,
            None => panic!("give the new parameter {name} a value in REQUIRED"),
        };
        if let Some(pattern) = declaration.get("AllowedPattern").and_then(Yaml::as_str) {
            let pattern = regex_lite::Regex::new(&format!("^(?:{pattern})$")).unwrap();
            // A CommaDelimitedList's pattern holds for each of its values
            // (https://docs.aws.amazon.com/AWSCloudFormation/latest/UserGuide/parameters-section-structure.html).
            let values: Vec<&str> = match declaration["Type"].as_str() {
                Some("CommaDelimitedList") => value.split(',').collect(),
                _ => vec![value.as_str()],
            };
            for one in values {
                assert!(
                    pattern.is_match(one),
                    "{name}={value} breaks its AllowedPattern at {one}"
                );
            }
        }
        inputs = inputs.parameter(name, &value);
    }
    inputs
}

/// Every string of `value`, with where it is.
fn strings<'a>(value: &'a Json, path: &str, out: &mut Vec<(String, &'a str)>) {
    match value {
        Json::String(text) => out.push((path.to_owned(), text)),
        Json::Array(items) => {
            for (index, item) in items.iter().enumerate() {
                strings(item, &format!("{path}[{index}]"), out);
            }
        }
        Json::Object(object) => {
            for (key, item) in object {
                assert!(
                    key != "Ref" && !key.starts_with("Fn::"),
                    "{path}.{key} is unresolved"
                );
                strings(item, &format!("{path}.{key}"), out);
            }
        }
        _ => {}
    }
}

/// The resolved facts that hold whatever the templates' authors change.
fn check_resolved(stack: &ResolvedTemplate, account: &str) {
    let mut all = Vec::new();
    for resource in stack.resources.values() {
        strings(&resource.properties, &resource.logical_id, &mut all);
    }
    for (name, output) in &stack.outputs {
        strings(&output.value, name, &mut all);
    }
    for (path, text) in &all {
        assert!(
            !text.contains("${") && !text.contains("AWS::NoValue"),
            "{path}: {text}"
        );
        if text.starts_with("arn:") {
            assert!(text.starts_with("arn:aws:"), "{path}: {text}");
        }
    }
    let roles: Vec<_> = stack.of_type("AWS::IAM::Role").collect();
    assert!(!roles.is_empty());
    for role in &roles {
        let arn = role.arn.as_deref().unwrap();
        let path = role
            .properties
            .get("Path")
            .and_then(Json::as_str)
            .unwrap_or("/");
        let name = role.physical_id.as_ref().and_then(Json::as_str).unwrap();
        assert_eq!(arn, format!("arn:aws:iam::{account}:role{path}{name}"));
        if let Some(given) = role.properties.get("RoleName") {
            assert_eq!(given, name);
        }
    }
    let in_account = format!(":{account}:");
    let resources: Vec<_> = all
        .iter()
        .filter(|(path, text)| {
            path.contains("PolicyDocument.Statement")
                && path.contains(".Resource")
                && text.contains(&in_account)
        })
        .collect();
    assert!(
        !resources.is_empty(),
        "some policy statement names a resource of the account"
    );
    for output in stack.outputs.values() {
        if let Some(arn) = output
            .value
            .as_str()
            .filter(|v| v.starts_with("arn:aws:iam:"))
        {
            assert!(
                roles.iter().any(|role| role.arn.as_deref() == Some(arn)),
                "{arn}"
            );
        }
    }
}

/// Resolves `name` with the required values, then with the optional ones too, then with each
/// allowed value of each parameter that has some, and checks every result.
fn resolve_every_way(name: &str, account: &str) -> Vec<ResolvedTemplate> {
    let template = repository_template(name);
    let everything: Vec<_> = REQUIRED.iter().chain(OPTIONAL).copied().collect();
    let mut variants = vec![REQUIRED.to_vec(), everything.clone()];
    for (parameter, declaration) in template["Parameters"].as_mapping().unwrap() {
        for allowed in declaration["AllowedValues"]
            .as_sequence()
            .into_iter()
            .flatten()
        {
            let mut values = everything.clone();
            values.push((parameter.as_str().unwrap(), allowed.as_str().unwrap()));
            variants.push(values);
        }
    }
    variants
        .iter()
        .map(|values| {
            let inputs = stack_inputs(&template, account, values);
            let stack = resolve(&template, &inputs).unwrap_or_else(|e| panic!("{name}: {e}"));
            check_resolved(&stack, account);
            stack
        })
        .collect()
}

#[test]
fn the_target_account_template_resolves() {
    let account = "222222222222";
    let stacks = resolve_every_way("target-account-role.yml", account);
    let roles = |stack: &ResolvedTemplate| stack.of_type("AWS::IAM::Role").count();
    let counts: Vec<_> = stacks.iter().map(roles).collect();
    assert!(counts.iter().all(|count| *count >= 2), "{counts:?}");
}

#[test]
fn the_product_template_resolves() {
    let account = "111111111111";
    let stacks = resolve_every_way("sagemaker-project.yml", account);
    let stack = &stacks[0];
    let role = stack.of_type("AWS::IAM::Role").next().unwrap();
    let boundary = role.properties.get("PermissionsBoundary");
    assert_eq!(boundary.and_then(Json::as_str), Some(REQUIRED[7].1));
    let bucket = stack.of_type("AWS::S3::Bucket").next().unwrap();
    let name = bucket.physical_id.as_ref().and_then(Json::as_str).unwrap();
    assert_eq!(
        bucket.arn.as_deref(),
        Some(format!("arn:aws:s3:::{name}").as_str())
    );
}
