//! test-step against its Python script over staging OUs of each size of the mode, every account
//! with the staging endpoint build-step's parameters ask for; a run must pass every target. Also
//! what the scale cases share with these: the staging seed, the environment and the report check.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use deploy_core::stack_params::ParameterList;
use test_support::endpoints::{deploy_endpoint, queue_json_answers, GOOD_ANSWERS, STAGING_ROLE};
use test_support::seed::{Organization, REGION};
use test_support::Moto;

use crate::compare::{run_case, Case, Implementations, Row};
use crate::figures::{accounts, secs};
use crate::{Mode, PROJECT};

/// What every test-step run needs: the endpoint build-step's staging parameters name, serving
/// their package, and the inputs and payloads of a run.
pub(crate) struct Staging {
    package: String,
    endpoint: String,
    /// build-step's staging parameters, the run's one input.
    pub(crate) inputs: [(&'static str, String); 1],
    payloads: PathBuf,
}

impl Staging {
    /// From build-step's staging parameters `build_config`; the payloads of `repo`.
    pub(crate) fn of(build_config: &str, repo: &Path) -> Self {
        let params = ParameterList::parse(build_config).expect("build-step's parameters");
        let package = params.get("ModelPackageName").expect("ModelPackageName");
        let endpoint = format!("{PROJECT}-{}", params.get("StageName").expect("StageName"));
        Staging {
            package: package.to_owned(),
            endpoint,
            inputs: [("staging-config-export.json", build_config.to_owned())],
            payloads: repo.join("test/payloads"),
        }
    }

    /// An OU of `count` ACTIVE accounts, each with the staging endpoint serving the package.
    pub(crate) async fn seed(&self, moto: &Moto, count: usize) -> String {
        let seeding = Instant::now();
        let org = Organization::get(moto).await;
        let ou = org
            .create_ou(&org.root_id, &format!("bench-staging-{count}"))
            .await;
        for n in 0..count {
            let account = org.create_account(&ou, &format!("bench-{count}-{n}")).await;
            deploy_endpoint(moto, &account, REGION, &self.endpoint, &self.package).await;
            queue_json_answers(moto, &account, REGION, &GOOD_ANSWERS);
        }
        println!(
            "\nseeded OU {ou}: {} with {} in {}",
            accounts(count),
            self.endpoint,
            secs(seeding.elapsed())
        );
        ou
    }

    /// test-step's arguments: the sample payloads.
    pub(crate) fn args(&self) -> Vec<OsString> {
        vec!["--payloads".into(), self.payloads.clone().into()]
    }
}

/// The test CodeBuild project's environment, testing the accounts of `ou`.
pub(crate) fn test_step_env(ou: &str) -> Vec<(String, String)> {
    [
        ("SAGEMAKER_EXECUTION_ROLE_NAME", STAGING_ROLE),
        ("ORGANIZATIONAL_UNIT_ID", ou),
        (
            "CODEBUILD_BUILD_ID",
            "bench:00000000-0000-0000-0000-000000000000",
        ),
    ]
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .to_vec()
}

/// A run's check: a passed report over `targets` targets, in JSON and JUnit XML.
pub(crate) fn check_report(targets: usize) -> impl Fn(&Path) -> Result<(), String> {
    move |dir| {
        let text = std::fs::read_to_string(dir.join("test-results.json"))
            .map_err(|e| format!("test-results.json: {e}"))?;
        let report: serde_json::Value =
            serde_json::from_str(&text).map_err(|e| format!("test-results.json: {e}"))?;
        let summary = &report["summary"];
        if report["status"] != "passed" || summary["passed"] != targets {
            return Err(format!("expected {targets} passed targets: {summary}"));
        }
        std::fs::metadata(dir.join("test-results.xml"))
            .map(|_| ())
            .map_err(|e| format!("test-results.xml: {e}"))
    }
}

/// Each implementation's median wall time over a number of accounts.
pub(crate) type Walls = Vec<(&'static str, usize, Duration)>;

/// Runs test-step and its script over an OU of each size, adding their rows to `rows`.
pub(crate) async fn compare(
    moto: &Moto,
    mode: &Mode,
    implementations: &Implementations<'_>,
    out_dir: &Path,
    staging: &Staging,
    rows: &mut Vec<Row>,
) -> Result<Walls, String> {
    let mut walls = Vec::new();
    for count in mode.account_counts {
        let ou = staging.seed(moto, count).await;
        let check = check_report(count);
        let case = Case {
            name: format!("test-step, {}", accounts(count)),
            dir: out_dir.join(format!("accounts-{count}")),
            env: test_step_env(&ou),
            inputs: &staging.inputs,
            counted: "InvokeEndpoint",
            check: &check,
        };
        for mut implementation in implementations.of("test-step") {
            implementation.args.extend(staging.args());
            let row = run_case(moto, &case, &implementation, mode.runs)?;
            walls.push((implementation.name, count, row.wall));
            rows.push(row);
        }
    }
    Ok(walls)
}

/// Prints how each implementation's wall time grew from the fewest accounts to the most.
pub(crate) fn print_growth(walls: &Walls, mode: &Mode) {
    let (first, last) = (mode.account_counts[0], mode.account_counts[2]);
    println!("\ntest-step wall time, {last} accounts : {first} (against one moto_server it grows with the calls: see bench/README.md)");
    for name in ["rust", "python"] {
        let wall = |count| {
            walls
                .iter()
                .find(|(n, c, _)| *n == name && *c == count)
                .map(|(_, _, w)| w.as_secs_f64())
                .expect("a measured case")
        };
        println!("  {name:<7} {:.1}", wall(last) / wall(first));
    }
}
