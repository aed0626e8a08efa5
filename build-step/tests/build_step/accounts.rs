//! The accounts files through the binary against the emulator: the ACTIVE accounts under each
//! OU, child OUs included, suspended ones left out, sorted and without duplicates, written with
//! the other outputs; listed ids instead of the walk; an OU with no ACTIVE account is exit 2
//! naming it, with nothing written.

use test_support::fault_proxy::FaultProxy;
use test_support::moto;
use test_support::seed::Organization;

use crate::{group_with_one_approved, Workspace, INPUTS, OUTPUTS};

fn read_accounts(ws: &Workspace, name: &str) -> Vec<String> {
    serde_json::from_str(&ws.read(name)).unwrap()
}

#[tokio::test]
async fn each_stage_gets_its_active_accounts_child_ous_included() {
    let (group, _) = group_with_one_approved("accounts-files").await;
    let org = Organization::get(moto()).await;
    let staging_ou = org.create_ou(&org.root_id, "accounts-staging").await;
    let child = org.create_ou(&staging_ou, "accounts-staging-child").await;
    let grandchild = org.create_ou(&child, "accounts-staging-grandchild").await;
    let prod_ou = org.create_ou(&org.root_id, "accounts-prod").await;
    let mut staging = vec![
        org.create_account(&staging_ou, "accounts-staging-a").await,
        org.create_account(&child, "accounts-staging-b").await,
        org.create_account(&grandchild, "accounts-staging-c").await,
    ];
    staging.sort();
    let closed = org.create_account(&child, "accounts-staging-closed").await;
    org.close_account(&closed).await;
    let prod = org.create_account(&prod_ou, "accounts-prod-a").await;

    let ws = Workspace::new(&group.name);
    let out = ws
        .build_step()
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", &staging_ou)
        .env("ORGANIZATIONAL_UNIT_PROD_ID", &prod_ou)
        .env("EXPORT_STAGING_ACCOUNTS", "staging-accounts.json")
        .env("EXPORT_PROD_ACCOUNTS", "prod-accounts.json")
        .run();
    out.code(0)
        .stdout_contains("Accounts file staging-accounts.json (staging, from ")
        .stdout_contains("Wrote prod-accounts.json");
    assert_eq!(read_accounts(&ws, "staging-accounts.json"), staging);
    assert_eq!(read_accounts(&ws, "prod-accounts.json"), [prod]);
    let mut files: Vec<String> = INPUTS
        .iter()
        .chain(&OUTPUTS)
        .map(|s| (*s).to_owned())
        .collect();
    files.extend([
        "prod-accounts.json".to_owned(),
        "staging-accounts.json".to_owned(),
    ]);
    files.sort();
    assert_eq!(ws.files(), files);

    // Listed ids stand in for the walk (checked, sorted, without duplicates); one stage only.
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("EXPORT_PROD_ACCOUNTS", "prod-accounts.json")
        .env(
            "PROD_ACCOUNT_IDS",
            "333333333333, 111111111111,333333333333",
        )
        .run()
        .code(0);
    assert_eq!(
        read_accounts(&ws, "prod-accounts.json"),
        ["111111111111", "333333333333"]
    );
    assert!(!ws.file("staging-accounts.json").exists());
}

#[tokio::test]
async fn an_ou_without_active_accounts_is_bad_input_and_nothing_is_written() {
    let (group, _) = group_with_one_approved("accounts-empty").await;
    let org = Organization::get(moto()).await;
    let empty = org.create_ou(&org.root_id, "accounts-empty").await;
    org.create_ou(&empty, "accounts-empty-child").await;
    let closed = org.create_account(&empty, "accounts-empty-closed").await;
    org.close_account(&closed).await;

    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", &empty)
        .env("EXPORT_STAGING_ACCOUNTS", "staging-accounts.json")
        .run()
        .code(2)
        .stderr_contains(&format!("build-step: error: no accounts for EXPORT_STAGING_ACCOUNTS (--export-staging-accounts): the organizational unit {empty}, from ORGANIZATIONAL_UNIT_STAGING_ID (--organizational-unit-staging-id), has no ACTIVE accounts"));
    assert_eq!(ws.files(), INPUTS);

    ws.build_step()
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", "ou-zzzz-doesnotexist")
        .env("EXPORT_STAGING_ACCOUNTS", "staging-accounts.json")
        .run()
        .code(2)
        .stderr_contains("ORGANIZATIONAL_UNIT_STAGING_ID (--organizational-unit-staging-id): the organizational unit \"ou-zzzz-doesnotexist\" cannot be listed");
    assert_eq!(ws.files(), INPUTS);

    // With the grant asked for too: the accounts are resolved first, so the group's policy is
    // never written for a build that then fails.
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_group_policies();
    let prod = org.create_ou(&org.root_id, "accounts-empty-prod").await;
    ws.build_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("GRANT_CROSS_ACCOUNT_ACCESS", "true")
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", &empty)
        .env("ORGANIZATIONAL_UNIT_PROD_ID", &prod)
        .env("EXPORT_STAGING_ACCOUNTS", "staging-accounts.json")
        .run()
        .code(2)
        .stderr_contains("has no ACTIVE accounts");
    assert_eq!(proxy.count("PutModelPackageGroupPolicy"), 0);
    assert_eq!(ws.files(), INPUTS);
}

/// A mistyped OU in the grant is bad input naming the setting, not an AWS failure.
#[tokio::test]
async fn a_grant_to_an_unknown_ou_is_bad_input() {
    let (group, _) = group_with_one_approved("accounts-unknown-ou").await;
    let org = Organization::get(moto()).await;
    let prod = org.create_ou(&org.root_id, "accounts-unknown-prod").await;
    let ws = Workspace::new(&group.name);
    ws.build_step()
        .env("GRANT_CROSS_ACCOUNT_ACCESS", "true")
        .env("ORGANIZATIONAL_UNIT_STAGING_ID", "ou-zzzz-doesnotexist")
        .env("ORGANIZATIONAL_UNIT_PROD_ID", &prod)
        .args(["--dry-run"])
        .run()
        .code(2)
        .stderr_contains("build-step: error: ORGANIZATIONAL_UNIT_STAGING_ID (--organizational-unit-staging-id): the organizational unit \"ou-zzzz-doesnotexist\" cannot be listed");
}
