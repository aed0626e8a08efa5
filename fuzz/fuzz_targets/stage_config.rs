//! The stage config parser (`ParameterList::parse`) and build-step's validation of a stage against
//! the built-in template's declared parameters. Input: the config text, then optionally the
//! project name, project id and artifact bucket build-step derives, separated by NUL bytes.
//! Nothing may panic; a parsed list must round-trip through the written format; a rejected stage
//! names the file or the setting to fix (build-step maps every such error to exit 2); an accepted
//! one keeps every entry verbatim and names a valid endpoint.

#![no_main]

use std::sync::LazyLock;

use deploy_core::endpoint::MAX_ENDPOINT_NAME_LEN;
use deploy_core::hosting;
use deploy_core::inputs::{self, Input};
use deploy_core::stack_params::ParameterList;
use deploy_core::stage_config::{plan_stage, Derived, StageInput};
use deploy_core::template::{
    DeclaredParameter, PackageContext, ProjectContext, RenderContext, StageContext, Template,
};
use libfuzzer_sys::fuzz_target;

const FILE_LABEL: &str = "staging-config.json (--import-staging-config)";
/// The settings a derived value comes from, which a rejection of that value names.
const DERIVED_FROM: [Input; 4] = [
    inputs::PROJECT_NAME,
    inputs::PROJECT_ID,
    inputs::STAGING_ROLE,
    inputs::ARTIFACT_BUCKET,
];
const PACKAGE_ARN: &str = "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3";

/// What the built-in template declares, rendered for a stage outside a VPC and for one inside
/// (index `in_vpc as usize`), as build-step renders it for each stage.
static DECLARED: LazyLock<[Vec<DeclaredParameter>; 2]> = LazyLock::new(|| {
    let template = Template::load(None).expect("the built-in template compiles");
    [false, true].map(|in_vpc| {
        let rendered = template
            .render(&RenderContext {
                package: PackageContext {
                    arn: PACKAGE_ARN,
                    group: "churn",
                    version: "3".into(),
                    approval_status: "Approved",
                },
                project: ProjectContext {
                    name: "churn",
                    id: "p-1",
                },
                generator: "fuzz".into(),
                stage: StageContext { in_vpc },
            })
            .expect("the built-in template renders");
        template
            .declared_parameters(&rendered)
            .expect("the built-in template declares its parameters")
    })
});

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut parts = text.split('\0');
    let config_text = parts.next().unwrap_or_default();
    let project_name = parts.next().unwrap_or("churn");
    let project_id = parts.next().unwrap_or("p-1");
    let artifact_bucket = parts.next();

    let Ok(config) = ParameterList::parse(config_text) else {
        return;
    };
    let written = config.to_json();
    assert_eq!(
        ParameterList::parse(&written).as_ref(),
        Ok(&config),
        "the written format must read back as the same list:\n{written}"
    );

    let input = StageInput {
        file_label: FILE_LABEL.into(),
        config: &config,
        role_name: "sagemaker-role-staging",
        role_input: inputs::STAGING_ROLE,
    };
    let derived = Derived {
        project_name,
        project_id,
        model_package_arn: PACKAGE_ARN,
        artifact_bucket,
    };
    let declared = &DECLARED[usize::from(hosting::names_a_vpc(&config))];
    let plan = match plan_stage(declared, &input, &derived) {
        Ok(plan) => plan,
        Err(err) => {
            let named = err.origin == FILE_LABEL
                || DERIVED_FROM
                    .iter()
                    .any(|input| err.origin == input.to_string());
            assert!(
                named,
                "the error names neither the file nor a setting: {err}"
            );
            assert!(!err.message.is_empty(), "{err}");
            return;
        }
    };
    let exported = ParameterList::parse(&plan.parameters.to_json()).expect("exports read back");
    for entry in config.iter() {
        assert_eq!(
            exported.get(&entry.parameter_key),
            Some(entry.parameter_value.as_str()),
            "a stage config entry must reach the export verbatim"
        );
    }
    assert_eq!(exported.get("SageMakerProjectName"), Some(project_name));
    assert_eq!(exported.get("SageMakerProjectId"), Some(project_id));
    assert_eq!(exported.get("ModelPackageName"), Some(PACKAGE_ARN));
    assert_eq!(
        plan.endpoint_name,
        format!("{project_name}-{}", plan.stage_name)
    );
    assert!(plan.endpoint_name.chars().count() <= MAX_ENDPOINT_NAME_LEN);
    assert!(plan
        .endpoint_name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-'));
});
