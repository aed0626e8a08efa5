//! The cross-account grant at organization scale: 1,000 ACTIVE accounts under the staging and
//! prod OUs, nested three levels deep, in the emulator. By Organizations path the policy is a few
//! hundred characters and the walk is not needed; listing every account would be about 66,000
//! characters, which build-step refuses before sending, after a walk that makes exactly the calls
//! the tree needs.
//!
//! The emulator answers the policy calls with HTTP 500, so the fault proxy stands in for them as
//! the SageMaker API reference documents them (see `FaultProxy::stand_in_for_group_policies`).

use test_support::fault_proxy::{FaultProxy, MAX_GROUP_POLICY_CHARS};
use test_support::moto;
use test_support::seed::{Organization, ACCOUNT_ID, TREE};

use crate::{group_with_one_approved, Workspace, INPUTS, OUTPUTS};

#[tokio::test]
async fn a_thousand_accounts_get_a_constant_size_grant_and_a_minimal_walk() {
    let (group, _) = group_with_one_approved("scale-grant").await;
    let tree = Organization::get(moto())
        .await
        .create_scale_tree("scale")
        .await;
    assert_eq!(tree.active_accounts, 1_000);
    let grant = |proxy: &FaultProxy, ws: &Workspace| {
        ws.build_step()
            .env("AWS_ENDPOINT_URL", proxy.url())
            .env("GRANT_CROSS_ACCOUNT_ACCESS", "true")
            .env("ORGANIZATIONAL_UNIT_STAGING_ID", &tree.staging)
            .env("ORGANIZATIONAL_UNIT_PROD_ID", &tree.prod)
    };

    // The default: the OUs by path, one DescribeOrganization and one ListParents per level.
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_group_policies();
    let ws = Workspace::new(&group.name);
    let out = grant(&proxy, &ws).args(["--output", "json"]).run();
    out.code(0);
    let mut written = INPUTS
        .iter()
        .chain(&OUTPUTS)
        .map(|s| (*s).to_owned())
        .collect::<Vec<_>>();
    written.sort();
    assert_eq!(ws.files(), written);
    let policy = proxy
        .group_policy(ACCOUNT_ID, &group.name)
        .expect("the policy was written");
    assert!(policy.chars().count() <= MAX_GROUP_POLICY_CHARS);
    assert!(policy.chars().count() < 2_000, "{policy}");
    let policy: serde_json::Value = serde_json::from_str(&policy).unwrap();
    let paths =
        &policy["Statement"][1]["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"];
    let org = Organization::get(moto()).await;
    for (n, ou) in [&tree.staging, &tree.prod].into_iter().enumerate() {
        let path = paths[n].as_str().unwrap_or_default();
        assert!(
            path.starts_with("o-") && path.ends_with(&format!("/{}/{ou}/*", org.root_id)),
            "{paths}"
        );
    }
    let summary: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(
        summary["cross_account_access"]["policy_chars"],
        policy.to_string().chars().count()
    );
    assert_eq!(
        (
            proxy.count("DescribeOrganization"),
            proxy.count("ListParents"),
            proxy.count("ListAccountsForParent"),
        ),
        (1, 2, 0),
        "the paths cost the same for any number of accounts"
    );

    // Every account by name: the walk, then a refusal before PutModelPackageGroupPolicy.
    let proxy = FaultProxy::start(moto());
    proxy.stand_in_for_group_policies();
    let ws = Workspace::new(&group.name);
    let out = grant(&proxy, &ws).env("GRANT_PRINCIPALS", "accounts").run();
    out.code(2)
        .stderr_contains("characters, over the 20480 that PutModelPackageGroupPolicy takes, so nothing was written: it lists 1000 accounts one by one; set GRANT_PRINCIPALS (--grant-principals) to org-paths");
    assert_eq!(ws.files(), INPUTS);
    assert_eq!(proxy.count("PutModelPackageGroupPolicy"), 0);
    let (accounts, ous) = TREE.walk_calls();
    assert_eq!(
        (
            proxy.count("ListAccountsForParent"),
            proxy.count("ListOrganizationalUnitsForParent")
        ),
        (2 * accounts, 2 * ous),
        "every page at 20 items, each OU listed once"
    );
}
