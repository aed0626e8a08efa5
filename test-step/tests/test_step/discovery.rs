//! Which targets get tested: the OU's ACTIVE accounts, an explicit list instead, every region
//! asked for, and never zero.

use test_support::fault_proxy::FaultProxy;
use test_support::moto;
use test_support::seed::Organization;

use crate::{Staging, Workspace, OTHER_REGION, REGION};

#[tokio::test]
async fn an_explicit_account_list_replaces_the_ou() {
    let staging = Staging::create("explicit").await;
    let ws = Workspace::new("explicit");
    let chosen = &staging.active[1];
    ws.deploy(chosen, REGION, &ws.package).await;
    // The OU's other accounts have no endpoint: testing them would fail the run. Empty path
    // variables fall back to their defaults (B10), which are the files of this checkout.
    let out = ws
        .test_step()
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .env("BUILD_CONFIG", "")
        .env("EXPORT_TEST_RESULTS", "")
        .args(["--account-id", chosen])
        .run();
    out.code(0);
    let reports = ws.reports();
    assert_eq!(
        reports.targets(),
        [(chosen.clone(), REGION.to_owned(), "passed".to_owned())]
    );
    assert!(reports.json["organizational_unit_id"].is_null());
}

/// The accounts file build-step wrote is what gets tested: the OU (which also holds an account
/// without the endpoint) is not walked at all, and the report says where the targets came from.
#[tokio::test]
async fn an_accounts_file_is_tested_without_walking_the_ou() {
    let staging = Staging::create("accounts-file").await;
    let ws = Workspace::new("accountsfile");
    let direct = staging
        .active
        .iter()
        .find(|a| **a != staging.nested)
        .unwrap();
    let deployed = [direct, &staging.nested];
    for account in deployed {
        ws.deploy(account, REGION, &ws.package).await;
    }
    let listed = serde_json::json!(deployed).to_string();
    ws.write("staging-accounts.json", listed);
    let proxy = FaultProxy::start(moto());
    let out = ws
        .test_step()
        .env("AWS_ENDPOINT_URL", proxy.url())
        .env("ORGANIZATIONAL_UNIT_ID", &staging.ou)
        .env("ACCOUNTS_FILE", "staging-accounts.json")
        .run();
    out.code(0);
    let reports = ws.reports();
    let mut expected: Vec<_> = deployed
        .iter()
        .map(|a| ((*a).clone(), REGION.to_owned(), "passed".to_owned()))
        .collect();
    expected.sort();
    assert_eq!(reports.targets(), expected);
    assert_eq!(reports.json["targets_from"], "accounts_file");
    assert_eq!(reports.json["accounts_file"], "staging-accounts.json");
    assert!(reports.json["organizational_unit_id"].is_null());
    assert_eq!(
        proxy.count("ListAccountsForParent") + proxy.count("ListOrganizationalUnitsForParent"),
        0
    );

    // With an --account-id list as well, which accounts to test is ambiguous: bad input.
    ws.test_step()
        .env("ACCOUNTS_FILE", "staging-accounts.json")
        .args(["--account-id", direct])
        .run()
        .code(2)
        .stderr_contains("ACCOUNTS_FILE (--accounts-file): staging-accounts.json and --account-id both say which accounts to test; give one of them");
}

/// Each region is really asked: an account with its endpoint in one region only fails in the
/// other, so a run that tested one region twice would pass.
#[tokio::test]
async fn two_regions_test_every_account_in_each() {
    let staging = Staging::create("two-regions").await;
    let ws = Workspace::new("tworegions");
    let (both, east_only) = (&staging.active[0], &staging.active[1]);
    for region in [REGION, OTHER_REGION] {
        ws.deploy(both, region, &ws.package).await;
    }
    ws.deploy(east_only, REGION, &ws.package).await;
    let out = ws
        .test_step()
        .args([
            "--account-id",
            &format!("{both},{east_only}"),
            "--regions",
            &format!("{REGION},{OTHER_REGION}"),
        ])
        .run();
    out.code(1);
    let reports = ws.reports();
    let mut expected = vec![
        (both.clone(), REGION.to_owned(), "passed".to_owned()),
        (both.clone(), OTHER_REGION.to_owned(), "passed".to_owned()),
        (east_only.clone(), REGION.to_owned(), "passed".to_owned()),
        (
            east_only.clone(),
            OTHER_REGION.to_owned(),
            "failed".to_owned(),
        ),
    ];
    // Accounts sort first, then regions in the order given.
    expected.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(reports.targets(), expected);
    assert_eq!(
        reports.json["regions"],
        serde_json::json!([REGION, OTHER_REGION])
    );
    let error = reports.target(east_only, OTHER_REGION)["error"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        error.contains(&format!("region {OTHER_REGION} does not exist")),
        "{error}"
    );
}

/// Zero targets is bad input (exit 2), never a pass, and the reports say so.
#[tokio::test]
async fn an_ou_without_active_accounts_is_not_a_pass() {
    let org = Organization::get(moto()).await;
    let ou = org.create_ou(&org.root_id, "zero-targets").await;
    org.create_ou(&ou, "zero-targets-child").await;
    let closed = org.create_account(&ou, "zero-targets-closed").await;
    org.close_account(&closed).await;
    let ws = Workspace::new("zerotargets");
    let out = ws.test_step().env("ORGANIZATIONAL_UNIT_ID", &ou).run();
    out.code(2).stderr_contains(&format!(
        "no targets: the organizational unit {ou}, from ORGANIZATIONAL_UNIT_ID (--organizational-unit-id), has no ACTIVE accounts"
    ));
    let reports = ws.reports();
    assert_eq!(reports.json["status"], "failed");
    assert_eq!(reports.json["exit_code"], 2);
    assert_eq!(reports.json["targets"], serde_json::json!([]));
    assert!(reports.json["error"]
        .as_str()
        .unwrap()
        .contains("zero targets is not a pass"));
    let (_, problem) = reports.junit_setup();
    assert!(problem.contains("no targets"), "{problem}");
}

#[tokio::test]
async fn an_ou_that_does_not_exist_is_bad_input() {
    let ws = Workspace::new("noou");
    ws.test_step()
        .env("ORGANIZATIONAL_UNIT_ID", "ou-zzzz-doesnotexist")
        .run()
        .code(2)
        .stderr_contains("ORGANIZATIONAL_UNIT_ID (--organizational-unit-id): the organizational unit \"ou-zzzz-doesnotexist\" cannot be listed");
    ws.reports();
}
