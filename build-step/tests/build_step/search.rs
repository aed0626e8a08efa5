//! Which package gets deployed.

use aws_sdk_sagemaker::types::ModelApprovalStatus::{Approved, PendingManualApproval, Rejected};
use test_support::moto;
use test_support::seed::GroupSeed;

use crate::{group_with_one_approved, Workspace};

/// Pins B2: the seed sorted ascending and could ship the oldest package.
#[tokio::test]
async fn b2_newest_approved_wins_over_older_approved_and_newer_rejected_or_pending() {
    let group = GroupSeed::create(moto(), "search-newest").await;
    group.add_package(Some(Approved)).await;
    let newest_approved = group.add_package(Some(Approved)).await;
    group.add_package(Some(Rejected)).await;
    group.add_package(Some(PendingManualApproval)).await;
    let later_rejected = group.add_package(Some(Approved)).await;
    group.set_status(&later_rejected, Rejected).await;

    let ws = Workspace::new(&group.name);
    ws.build_step()
        .run()
        .code(0)
        .stdout_contains(&newest_approved);
    assert_eq!(ws.exported_package(), newest_approved);
}

/// Pins B1 against the emulator: with 260 packages, the approved one far down the list is found.
#[tokio::test]
async fn b1_finds_the_newest_approved_among_260_packages() {
    let group = GroupSeed::create(moto(), "search-large").await;
    let mut newest_approved = String::new();
    for i in 0..260 {
        let status = if i == 3 || i == 40 {
            Approved
        } else {
            Rejected
        };
        let arn = group.add_package(Some(status.clone())).await;
        if status == Approved {
            newest_approved = arn;
        }
    }
    let ws = Workspace::new(&group.name);
    ws.build_step().run().code(0);
    assert!(newest_approved.ends_with("/41"), "{newest_approved}");
    assert_eq!(ws.exported_package(), newest_approved);
}

#[tokio::test]
async fn a_pinned_approved_package_is_deployed_instead_of_the_newest() {
    let group = GroupSeed::create(moto(), "search-pinned").await;
    let older = group.add_package(Some(Approved)).await;
    group.add_package(Some(Approved)).await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("MODEL_PACKAGE_ARN", &older)
        .run()
        .code(0);
    assert_eq!(ws.exported_package(), older);
}

#[tokio::test]
async fn a_pinned_package_must_be_approved_and_in_the_group() {
    let group = GroupSeed::create(moto(), "search-pinned-bad").await;
    let rejected = group.add_package(Some(Rejected)).await;
    let (_, foreign) = group_with_one_approved("search-pinned-other").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .args(["--model-package-arn", &rejected])
        .run()
        .code(2)
        .stderr_contains("is Rejected, not Approved");
    ws.build_step()
        .args(["--model-package-arn", &foreign])
        .run()
        .code(2)
        .stderr_contains("belongs to group \"search-pinned-other\", not \"search-pinned-bad\"");
    let missing = rejected.replace("/1", "/99");
    ws.build_step()
        .args(["--model-package-arn", &missing])
        .run()
        .code(2)
        .stderr_contains("cannot be found");
    assert_eq!(ws.files(), crate::INPUTS);
}

#[tokio::test]
async fn no_approved_package_exits_1_and_says_how_to_approve_one() {
    let group = GroupSeed::create(moto(), "search-none-approved").await;
    group.add_package(Some(Rejected)).await;
    group.add_package(Some(PendingManualApproval)).await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .run()
        .code(1)
        .stderr_contains(
            "model package group \"search-none-approved\" has no Approved model package",
        )
        .stderr_contains("update-model-package");
    assert_eq!(ws.files(), crate::INPUTS);
}

#[tokio::test]
async fn a_missing_group_is_named_not_dumped() {
    let ws = Workspace::new("search-no-such-group");
    let out = ws.build_step().run();
    out.code(2)
        .stderr_contains("model package group \"search-no-such-group\" does not exist");
    assert!(!out.stderr.contains("ServiceError"), "{}", out.stderr);
}
