//! build-step against its Python script on model package groups of each size of the mode: the
//! newest Approved package must be found with one ListModelPackages call, and both must write the
//! same stage parameters.

use std::path::Path;
use std::time::Instant;

use aws_sdk_sagemaker::types::ModelApprovalStatus::{Approved, PendingManualApproval, Rejected};
use deploy_core::stack_params::ParameterList;
use test_support::endpoints::STAGING_ROLE;
use test_support::seed::GroupSeed;
use test_support::Moto;

use crate::compare::{run_case, Case, Implementations, Row};
use crate::figures::secs;
use crate::{Mode, PROJECT};

/// Runs build-step and its script on a group of each size, adding their rows to `rows`; the
/// staging parameters build-step wrote on the first group, for the test-step cases.
pub(crate) async fn compare(
    moto: &Moto,
    mode: &Mode,
    implementations: &Implementations<'_>,
    out_dir: &Path,
    stage_configs: &[(&str, String)],
    rows: &mut Vec<Row>,
) -> Result<String, String> {
    let mut build_config = None;
    for size in mode.group_sizes {
        let group = format!("bench-{size}");
        let seeding = Instant::now();
        let newest = seed_group(moto, &group, size).await;
        println!(
            "\nseeded {group}: {size} packages in {}",
            secs(seeding.elapsed())
        );
        let check = check_package(&newest);
        let case = Case {
            name: format!("build-step, {size} packages"),
            dir: out_dir.join(&group),
            env: build_step_env(&group),
            inputs: stage_configs,
            counted: "ListModelPackages",
            check: &check,
        };
        for implementation in implementations.of("build-step") {
            let row = run_case(moto, &case, &implementation, mode.build_runs)?;
            if implementation.name == "rust" && row.calls.1 != 1 {
                return Err(format!(
                    "build-step made {} ListModelPackages calls on {size} packages; it must make 1",
                    row.calls.1
                ));
            }
            rows.push(row);
        }
        for file in ["staging-config-export.json", "prod-config-export.json"] {
            let read = |name: &str| std::fs::read(case.dir.join(name).join(file)).ok();
            if read("rust") != read("python") {
                return Err(format!("{}: the two {file} differ", case.name));
            }
        }
        build_config.get_or_insert_with(|| {
            std::fs::read_to_string(case.dir.join("rust/staging-config-export.json"))
                .expect("build-step's staging parameters")
        });
    }
    Ok(build_config.expect("a build-step case ran"))
}

/// A group of `size` packages whose newest Approved one is third from last (a Rejected and a
/// pending one are newer); returns its ARN. One package at a time: moto numbers a group's
/// versions by counting its packages without a lock, so concurrent creates in one group fail
/// ("dictionary changed size during iteration") or get the same version.
async fn seed_group(moto: &Moto, name: &str, size: usize) -> String {
    let group = GroupSeed::create(moto, name).await;
    let statuses = [Approved, Rejected, PendingManualApproval];
    for i in 0..size.saturating_sub(3) {
        group.add_package(Some(statuses[i % 3].clone())).await;
    }
    let newest_approved = group.add_package(Some(Approved)).await;
    group.add_package(Some(Rejected)).await;
    group.add_package(Some(PendingManualApproval)).await;
    let version = size.saturating_sub(2);
    assert!(
        newest_approved.ends_with(&format!("/{version}")),
        "the emulator numbered the newest Approved package {newest_approved}, expected version {version}"
    );
    newest_approved
}

/// The build CodeBuild project's environment for `group`.
pub(crate) fn build_step_env(group: &str) -> Vec<(String, String)> {
    [
        ("SOURCE_MODEL_PACKAGE_GROUP_NAME", group),
        ("SAGEMAKER_PROJECT_NAME", PROJECT),
        ("SAGEMAKER_PROJECT_ID", "p-bench0001"),
        ("ARTIFACT_BUCKET", "sagemaker-project-p-bench0001"),
        ("SAGEMAKER_EXECUTION_ROLE_STAGING_NAME", STAGING_ROLE),
        ("SAGEMAKER_EXECUTION_ROLE_PROD_NAME", "sagemaker-role-prod"),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// A run's check: every output written, and `expected` the package deployed.
fn check_package(expected: &str) -> impl Fn(&Path) -> Result<(), String> + '_ {
    move |dir| {
        let params = ParameterList::read(
            &dir.join("staging-config-export.json"),
            deploy_core::inputs::BUILD_CONFIG,
        )
        .map_err(|e| e.to_string())?;
        std::fs::metadata(dir.join("template-export.yml"))
            .and(std::fs::metadata(dir.join("prod-template-export.yml")))
            .and(std::fs::metadata(dir.join("prod-config-export.json")))
            .map_err(|e| format!("an output is missing: {e}"))?;
        match params.get("ModelPackageName") {
            Some(arn) if arn == expected => Ok(()),
            other => Err(format!("deployed {other:?}, expected {expected}")),
        }
    }
}
