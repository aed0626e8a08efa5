//! The templates are checked for every Region of the three public partitions (`aws`, `aws-cn`,
//! `aws-us-gov`) in which CloudFormation offers all their resource types, by cfn-lint's own data
//! (the pinned cfn-lint's provider schemas, one file per Region naming the schema of each type
//! offered there). cfn-lint's checks of a template in a Region depend on those schemas, so the
//! Regions are grouped by the schemas of the template's types and cfn-lint runs once per group, in
//! its first Region (a few runs instead of one per Region, each seconds long). The Regions left out
//! are named in docs/aws-facts.md's "Regions and partitions", and this test keeps that list true. The
//! isolated partitions are not checked.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use deploy_core::model_package::ModelPackage;
use deploy_core::template::{
    PackageContext, ProjectContext, RenderContext, StageContext, Template,
};
use test_support::tools::{python_tool, repo_root};

/// cfn-lint's provider schemas, one file per Region, each listing the resource types there.
fn provider_dir() -> PathBuf {
    let output = Command::new(python_tool("python"))
        .args([
            "-c",
            "import os, cfnlint; print(os.path.join(os.path.dirname(cfnlint.__file__), 'data', 'schemas', 'providers'))",
        ])
        .output()
        .expect("run the pinned python");
    assert!(output.status.success());
    PathBuf::from(String::from_utf8_lossy(&output.stdout).trim())
}

/// The Regions of the public partitions, each with the resource types CloudFormation offers there
/// and the id of each type's schema.
fn regions() -> BTreeMap<String, BTreeMap<String, String>> {
    let mut regions = BTreeMap::new();
    for entry in std::fs::read_dir(provider_dir()).unwrap() {
        let path = entry.unwrap().path();
        let Some(region) = path.file_stem().and_then(|s| s.to_str()).map(str::to_owned) else {
            continue;
        };
        let isolated = region.contains("-iso") || region.starts_with("eusc-");
        let shaped = region.matches('-').count() == 2 || region.starts_with("us-gov-");
        if isolated || !shaped {
            continue;
        }
        let types: serde_json::Map<String, serde_json::Value> =
            serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        regions.insert(
            region,
            types
                .into_iter()
                .map(|(kind, schema)| (kind, schema.as_str().unwrap_or_default().to_owned()))
                .collect(),
        );
    }
    assert!(regions.len() > 30, "{} Regions", regions.len());
    regions
}

/// The resource types a template creates, read from its text.
fn resource_types(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter_map(|line| line.trim().strip_prefix("Type: AWS::"))
        .filter(|kind| kind.contains("::") && !kind.starts_with("SSM::Parameter::Value"))
        .map(|kind| format!("AWS::{}", kind.trim()))
        .collect()
}

/// For a template's resource types: one Region per distinct set of their schemas (the Regions to
/// lint), and the Regions where one of them is not offered.
fn split(
    regions: &BTreeMap<String, BTreeMap<String, String>>,
    types: &BTreeSet<String>,
) -> (Vec<String>, Vec<String>) {
    let mut groups: BTreeMap<Vec<&String>, &String> = BTreeMap::new();
    let mut missing = Vec::new();
    for (region, offered) in regions {
        let schemas: Option<Vec<&String>> = types.iter().map(|kind| offered.get(kind)).collect();
        match schemas {
            Some(schemas) => {
                groups.entry(schemas).or_insert(region);
            }
            None => missing.push(region.clone()),
        }
    }
    (groups.into_values().cloned().collect(), missing)
}

fn lint(template: &Path, regions: &[String]) {
    let output = Command::new(python_tool("cfn-lint"))
        .arg("--regions")
        .args(regions)
        .arg("--")
        .arg(template)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "cfn-lint rejected {} in {regions:?}:\n{}",
        template.display(),
        String::from_utf8_lossy(&output.stdout)
    );
}

fn rendered_endpoint_template(in_vpc: bool) -> String {
    let package = ModelPackage::placeholder("group");
    Template::load(None)
        .unwrap()
        .render(&RenderContext {
            package: PackageContext::new(&package),
            project: ProjectContext {
                name: "churn",
                id: "p-abc123",
            },
            generator: "build-step".to_owned(),
            stage: StageContext { in_vpc },
        })
        .unwrap()
}

#[test]
fn every_template_lints_in_every_region_that_offers_its_resource_types() {
    let regions = regions();
    let work = tempfile::tempdir().unwrap();
    let facts = std::fs::read_to_string(repo_root().join("docs/aws-facts.md")).unwrap();
    let section = facts
        .split("## Regions and partitions")
        .nth(1)
        .expect("docs/aws-facts.md has a Regions and partitions section")
        .split("\n## ")
        .next()
        .unwrap_or_default()
        .to_owned();
    let mut left_out = BTreeSet::new();
    let mut templates = vec![
        (
            "templates/target-account-role.yml".to_owned(),
            std::fs::read_to_string(repo_root().join("templates/target-account-role.yml")).unwrap(),
        ),
        (
            "templates/sagemaker-project.yml".to_owned(),
            std::fs::read_to_string(repo_root().join("templates/sagemaker-project.yml")).unwrap(),
        ),
    ];
    for in_vpc in [false, true] {
        templates.push((
            format!("the endpoint template (in_vpc {in_vpc})"),
            rendered_endpoint_template(in_vpc),
        ));
    }
    for (name, text) in templates {
        let mut types = resource_types(&text);
        // Not offered everywhere; the product takes CodeConnections there (its cfn-lint metadata).
        types.remove("AWS::CodeCommit::Repository");
        let (offered, missing) = split(&regions, &types);
        assert!(!offered.is_empty(), "{name} is offered nowhere");
        let path = work
            .path()
            .join(format!("{}.yml", left_out.len() + offered.len()));
        std::fs::write(&path, &text).unwrap();
        lint(&path, &offered);
        for region in &missing {
            assert!(
                section.contains(&format!("`{region}`")),
                "{name} cannot be deployed in {region} (a resource type is missing there by cfn-lint's data): docs/aws-facts.md's Regions and partitions must name it"
            );
        }
        left_out.extend(missing);
    }
    // Where CodeCommit is not offered the product takes SourceProvider CodeConnections.
    for (region, offered) in &regions {
        if !offered.contains_key("AWS::CodeCommit::Repository") {
            assert!(
                section.contains(&format!("`{region}`")),
                "CodeCommit is not offered in {region}: docs/aws-facts.md's Regions and partitions must name it"
            );
            left_out.insert(region.clone());
        }
    }
    // Every Region the section names is one some template cannot be deployed in.
    for region in regions.keys() {
        if section.contains(&format!("`{region}`")) {
            assert!(
                left_out.contains(region),
                "docs/aws-facts.md names {region}, where every template can be deployed"
            );
        }
    }
}
