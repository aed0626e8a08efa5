//! Rendering the built-in endpoint template through the core's template API with fuzzed values
//! for every context field (project name and id, package ARN, group, version, approval status,
//! generator; NUL-separated in the input). The output must parse (with serde_yaml, a YAML 1.1
//! parser like CloudFormation's, not the product's own) as exactly the intended document: each
//! value verbatim where the template puts it, and everything else identical to a render with
//! plain values. (YAML parsing is most of each run's cost: libFuzzer traces its comparisons.)

#![no_main]

use std::sync::LazyLock;

use deploy_core::template::{
    PackageContext, ProjectContext, RenderContext, StageContext, Template, MAX_TEMPLATE_BYTES,
};
use libfuzzer_sys::fuzz_target;
use serde_yaml::Value;

static TEMPLATE: LazyLock<Template> =
    LazyLock::new(|| Template::load(None).expect("the built-in template compiles"));

/// Field values, in input order.
struct Fields<'a>([&'a str; 7]);

impl<'a> Fields<'a> {
    fn context(&self) -> RenderContext<'a> {
        let [name, id, arn, group, version, approval_status, generator] = self.0;
        RenderContext {
            package: PackageContext {
                arn,
                group,
                version: version.to_owned(),
                approval_status,
            },
            project: ProjectContext { name, id },
            generator: generator.to_owned(),
            stage: StageContext::default(),
        }
    }
}

const PLAIN: Fields<'static> = Fields([
    "churn",
    "p-1",
    "arn:aws:sagemaker:us-east-1:123456789012:model-package/churn/3",
    "churn",
    "3",
    "Approved",
    "build-step",
]);

/// The plain render, parsed, with the rendered metadata blanked out.
static BASELINE: LazyLock<Value> = LazyLock::new(|| {
    let rendered = TEMPLATE.render(&PLAIN.context()).expect("a plain render");
    blank_metadata(serde_yaml::from_str(&rendered).expect("the plain render is YAML"))
});

fn blank_metadata(mut doc: Value) -> Value {
    doc["Description"] = Value::Null;
    doc["Metadata"]["BuildStep"] = Value::Null;
    doc
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let fields = Fields(PLAIN.0.map(|plain| parts.next().unwrap_or(plain)));
    let [name, _id, arn, group, version, approval_status, generator] = fields.0;

    let rendered = match TEMPLATE.render(&fields.context()) {
        Ok(rendered) => rendered,
        // Only a render over the StackSet action's size limit may fail: each value appears at
        // most twice, escaped to at most six bytes per input byte.
        Err(err) => {
            assert!(data.len() * 12 + 10_000 > MAX_TEMPLATE_BYTES, "{err}");
            return;
        }
    };
    let doc: Value = serde_yaml::from_str(&rendered)
        .unwrap_or_else(|e| panic!("the render is not YAML ({e}):\n{rendered}"));
    assert_eq!(
        doc["Description"],
        Value::from(format!(
            "SageMaker endpoint for project {name}, model package {group} version {version}"
        )),
        "{rendered}"
    );
    let metadata = &doc["Metadata"]["BuildStep"];
    let expected_metadata: serde_yaml::Mapping = [
        ("Generator", generator),
        ("ModelPackageArn", arn),
        ("ModelPackageGroupName", group),
        ("ModelPackageVersion", version),
        ("ModelApprovalStatus", approval_status),
    ]
    .into_iter()
    .map(|(k, v)| (Value::from(k), Value::from(v)))
    .collect();
    assert_eq!(metadata, &Value::Mapping(expected_metadata), "{rendered}");
    assert_eq!(blank_metadata(doc), *BASELINE, "{rendered}");
});
