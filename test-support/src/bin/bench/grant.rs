//! build-step's cross-account grant over the 1,000 accounts of a three-level organization tree,
//! with a network's latency on every round trip: by Organizations path the policy must fit, and
//! naming every account build-step must refuse before writing.

use std::path::Path;
use std::time::Instant;

use test_support::fault_proxy::{FaultProxy, MAX_GROUP_POLICY_CHARS};
use test_support::seed::{Organization, ACCOUNT_ID};
use test_support::Moto;

use crate::build_step::build_step_env;
use crate::figures::secs;
use crate::measure::{measure, Implementation};
use crate::ROUND_TRIP;

/// build-step's cross-account grant over the 1,000 accounts of a three-level tree, both ways,
/// through a proxy that adds [`ROUND_TRIP`] to every call and stands in for the policy calls:
/// by Organizations path it must exit 0 with a policy that fits; naming every account it must
/// refuse (exit 2) before writing. Prints the Organizations calls and the policy sizes.
pub(crate) async fn cases(
    moto: &Moto,
    build_step: &Path,
    out_dir: &Path,
    inputs: &[(&str, String)],
    group: &str,
) -> Result<(), String> {
    let seeding = Instant::now();
    let tree = Organization::get(moto)
        .await
        .create_scale_tree("bench-scale")
        .await;
    println!(
        "\nseeded {} ACTIVE accounts under two OUs three levels deep in {}",
        tree.active_accounts,
        secs(seeding.elapsed())
    );
    println!(
        "build-step --grant-cross-account-access over them, {} ms added to every round trip:",
        ROUND_TRIP.as_millis()
    );
    let organizations_calls = [
        "DescribeOrganization",
        "ListParents",
        "ListAccountsForParent",
        "ListOrganizationalUnitsForParent",
    ];
    for principals in ["org-paths", "accounts"] {
        let proxy = FaultProxy::start(moto);
        proxy.delay_every_round_trip(ROUND_TRIP);
        proxy.stand_in_for_group_policies();
        let mut env = proxy.env();
        env.extend(build_step_env(group));
        for (key, value) in [
            ("GRANT_CROSS_ACCOUNT_ACCESS", "true"),
            ("ORGANIZATIONAL_UNIT_STAGING_ID", tree.staging.as_str()),
            ("ORGANIZATIONAL_UNIT_PROD_ID", tree.prod.as_str()),
            ("GRANT_PRINCIPALS", principals),
        ] {
            env.push((key.to_owned(), value.to_owned()));
        }
        let dir = out_dir.join(format!("grant-{principals}"));
        let log = out_dir.join(format!("grant-{principals}.log"));
        let implementation = Implementation::rust(build_step, Vec::new());
        let run = measure(&implementation, &dir, inputs, &env, &log);
        let output = std::fs::read_to_string(&log).unwrap_or_default();
        let calls: Vec<String> = organizations_calls
            .iter()
            .map(|op| (op, proxy.count(op)))
            .filter(|(_, n)| *n > 0)
            .map(|(op, n)| format!("{n} {op}"))
            .collect();
        let total: usize = organizations_calls.iter().map(|op| proxy.count(op)).sum();
        let outcome = match (principals, run.code) {
            ("org-paths", 0) => {
                let policy = proxy.group_policy(ACCOUNT_ID, group).unwrap_or_default();
                format!("exit 0, a policy of {} characters", policy.chars().count())
            }
            ("accounts", 2) => {
                let size = output
                    .split_once("policy would be ")
                    .and_then(|(_, rest)| rest.split(' ').next())
                    .unwrap_or("?");
                format!("exit 2 before writing: the policy would be {size} characters")
            }
            (_, code) => {
                return Err(format!(
                    "build-step --grant-principals {principals} over 1,000 accounts exited {code}; its output is in {}",
                    log.display()
                ))
            }
        };
        println!(
            "  {principals:<10} {outcome} (limit {MAX_GROUP_POLICY_CHARS}); {total} Organizations calls ({}) in {}",
            calls.join(", "),
            secs(run.wall)
        );
    }
    Ok(())
}
