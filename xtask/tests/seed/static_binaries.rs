//! The shipped binaries need nothing from the image they run on: each runs inside an empty root
//! holding only itself and a CA bundle (no loader, no libc, no NSS), prints its help, and
//! `build-step` even completes a dry run against the emulator from there.

use std::path::Path;
use std::process::{Command, Output};

use test_support::moto;
use test_support::seed::GroupSeed;

use crate::unzip_seed;

/// An empty root with `/<binary>` and `/etc/ssl/certs/ca-certificates.crt`, nothing else.
fn empty_root(binary: &str) -> tempfile::TempDir {
    let unzipped = tempfile::tempdir().unwrap();
    unzip_seed(unzipped.path());
    let root = tempfile::tempdir().unwrap();
    std::fs::copy(
        unzipped.path().join("bin").join(binary),
        root.path().join(binary),
    )
    .unwrap();
    let certs = root.path().join("etc/ssl/certs");
    std::fs::create_dir_all(&certs).unwrap();
    std::fs::write(certs.join("ca-certificates.crt"), "").unwrap();
    root
}

/// Runs `/<binary> args` chrooted into `root`: through an unprivileged user namespace, or a
/// plain chroot when already root and namespaces are not allowed.
fn run_chrooted(root: &Path, command: &Command) -> Output {
    let program = command.get_program().to_owned();
    let args: Vec<_> = command.get_args().map(ToOwned::to_owned).collect();
    let envs: Vec<_> = command
        .get_envs()
        .filter_map(|(k, v)| Some((k.to_owned(), v?.to_owned())))
        .collect();
    let attempt = |launcher: &[&str]| {
        Command::new(launcher[0])
            .args(&launcher[1..])
            .arg(root)
            .arg(&program)
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .envs(envs.iter().map(|(k, v)| (k, v)))
            .output()
            .expect("the launcher runs")
    };
    let output = attempt(&["unshare", "--user", "--map-root-user", "chroot"]);
    let unshare_refused = String::from_utf8_lossy(&output.stderr).contains("unshare failed");
    if unshare_refused && is_root() {
        return attempt(&["chroot"]);
    }
    assert!(
        !unshare_refused,
        "user namespaces are not allowed here and the tests are not root: cannot build an empty root"
    );
    output
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

#[test]
fn each_binary_prints_its_help_from_an_empty_root() {
    for binary in ["build-step", "test-step"] {
        let root = empty_root(binary);
        let mut command = Command::new(format!("/{binary}"));
        command.arg("--help");
        let output = run_chrooted(root.path(), &command);
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success() && stdout.contains("Usage:") && stdout.contains("Exit codes"),
            "{binary} --help in an empty root: {:?}\n{stdout}\n{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
}

#[tokio::test]
async fn build_step_completes_a_dry_run_against_the_emulator_from_an_empty_root() {
    let moto = moto();
    let group = GroupSeed::create(moto, "seed-empty-root").await;
    let package = group
        .add_package(Some(
            aws_sdk_sagemaker::types::ModelApprovalStatus::Approved,
        ))
        .await;
    let root = empty_root("build-step");
    let repo = xtask::repo_root();
    for config in ["staging-config.json", "prod-config.json"] {
        std::fs::copy(
            repo.join("seed-repo").join(config),
            root.path().join(config),
        )
        .unwrap();
    }
    let mut command = Command::new("/build-step");
    command
        .envs(moto.env())
        .env("ARTIFACT_BUCKET", "sagemaker-project-p-emptyroot")
        .args([
            "--model-package-group-name",
            &group.name,
            "--sagemaker-project-name",
            "seed-empty-root",
            "--sagemaker-project-id",
            "p-emptyroot",
            "--sagemaker-execution-role-staging-name",
            "sagemaker-role-staging",
            "--sagemaker-execution-role-prod-name",
            "sagemaker-role-prod",
            "--import-staging-config",
            "/staging-config.json",
            "--import-prod-config",
            "/prod-config.json",
            "--dry-run",
        ]);
    let output = run_chrooted(root.path(), &command);
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && stdout.contains(&package),
        "build-step --dry-run in an empty root: {:?}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
}
