//! The model package group's resource policy for cross-account access. Staging and prod accounts
//! create their models from packages in the data science account, which needs the group's
//! resource policy to let them describe the group and describe/list/create models from its
//! packages (the seed granted only CreateModel, B9). The project's statements are identified by a
//! `Sid` that names the project, so two projects deploying from one group keep each other's
//! statements, and are merged into the existing policy: statements somebody else wrote are never
//! dropped.

use std::collections::BTreeSet;

use serde_json::{json, Value};
use thiserror::Error;

/// The grant cannot be made as asked; the message says what to fix.
#[derive(Debug, Error)]
#[error("cross-account access: {0}")]
pub struct AccessError(pub String);

/// The start of the project's statement ids; the project's name follows.
pub const GROUP_STATEMENT_SID: &str = "SageMakerDeployStepsDescribeGroup";
pub const PACKAGE_STATEMENT_SID: &str = "SageMakerDeployStepsUsePackages";

/// The two statement ids of `project`. A Sid takes letters and digits only, so the project name is
/// written with `Z` as an escape (`Z` -> `ZZ`, any other character -> `Z` and its hex code):
/// distinct projects always get distinct ids.
pub fn project_sids(project: &str) -> [String; 2] {
    let mut escaped = String::with_capacity(project.len());
    for c in project.chars() {
        match c {
            'Z' => escaped.push_str("ZZ"),
            c if c.is_ascii_alphanumeric() => escaped.push(c),
            c => escaped.push_str(&format!("Z{:X}Z", u32::from(c))),
        }
    }
    [
        format!("{GROUP_STATEMENT_SID}{escaped}"),
        format!("{PACKAGE_STATEMENT_SID}{escaped}"),
    ]
}

/// The longest resource policy PutModelPackageGroupPolicy takes, in characters
/// (<https://docs.aws.amazon.com/sagemaker/latest/APIReference/API_PutModelPackageGroupPolicy.html>,
/// `ResourcePolicy`: "Maximum length of 20480").
pub const MAX_POLICY_CHARS: usize = 20_480;

/// Who the project's statements let use the group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Grantees {
    /// Every principal of an account under one of these OUs, child OUs included, given as their
    /// Organizations paths (`o-…/r-…/ou-…/`): the global condition key `aws:PrincipalOrgPaths`
    /// with `ForAnyValue:StringLike` and a trailing `*`
    /// (<https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-principalorgpaths>).
    /// The policy's size does not grow with the accounts.
    OrgPaths(Vec<String>),
    /// Each account as its own principal (`arn:…:iam::ACCOUNT:root`) in both statements: about
    /// 66 characters an account, so it stops fitting at about 300 accounts.
    Accounts(BTreeSet<String>),
}

/// The project's two statements for `grantees` on the group `group_arn`.
pub fn project_statements(
    group_arn: &str,
    project: &str,
    grantees: &Grantees,
) -> Result<Vec<Value>, AccessError> {
    let [group_sid, package_sid] = project_sids(project);
    let (partition, packages_arn) = arn_parts(group_arn).ok_or_else(|| {
        AccessError(format!(
            "the group ARN \"{group_arn}\" is not a model-package-group ARN"
        ))
    })?;
    let statement = |sid: String, actions: &[&str], resource: &str| {
        let mut statement = json!({
            "Sid": sid,
            "Effect": "Allow",
            "Action": actions,
            "Resource": resource,
        });
        match grantees {
            Grantees::OrgPaths(paths) => {
                let patterns: Vec<String> = paths.iter().map(|p| format!("{p}*")).collect();
                statement["Principal"] = json!({"AWS": "*"});
                statement["Condition"] =
                    json!({"ForAnyValue:StringLike": {"aws:PrincipalOrgPaths": patterns}});
            }
            Grantees::Accounts(accounts) => {
                let principals: Vec<String> = accounts
                    .iter()
                    .map(|a| format!("arn:{partition}:iam::{a}:root"))
                    .collect();
                statement["Principal"] = json!({"AWS": principals});
            }
        }
        statement
    };
    Ok(vec![
        statement(
            group_sid,
            &["sagemaker:DescribeModelPackageGroup"],
            group_arn,
        ),
        statement(
            package_sid,
            &[
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:CreateModel",
            ],
            &packages_arn,
        ),
    ])
}

/// The policy's length as sent (compact JSON), in characters, when it is at most
/// [`MAX_POLICY_CHARS`]; otherwise the error that says how to make it fit.
pub fn check_fits(
    policy: &Value,
    grantees: &Grantees,
    principals_input: &str,
) -> Result<usize, AccessError> {
    let chars = policy.to_string().chars().count();
    if chars <= MAX_POLICY_CHARS {
        return Ok(chars);
    }
    let fix = match grantees {
        Grantees::Accounts(accounts) => format!(
            "it lists {} accounts one by one; set {principals_input} to org-paths, which grants the OUs by their Organizations paths in a policy of constant size",
            accounts.len()
        ),
        Grantees::OrgPaths(_) => "the statements other projects or people wrote fill it; remove the ones no longer needed with aws sagemaker put-model-package-group-policy".to_owned(),
    };
    Err(AccessError(format!(
        "the group's resource policy would be {chars} characters, over the {MAX_POLICY_CHARS} that PutModelPackageGroupPolicy takes, so nothing was written: {fix}"
    )))
}

/// `arn:P:sagemaker:R:A:model-package-group/G` -> (`P`, `arn:P:sagemaker:R:A:model-package/G/*`).
fn arn_parts(group_arn: &str) -> Option<(&str, String)> {
    let partition = crate::arn::partition(group_arn)?;
    let (prefix, group) = group_arn.split_once(":model-package-group/")?;
    Some((partition, format!("{prefix}:model-package/{group}/*")))
}

/// Merges `ours` into `existing` (a policy document or nothing): statements with our Sids are
/// replaced, every other statement is kept in place.
pub fn merge_policy(existing: Option<&str>, ours: Vec<Value>) -> Result<Value, AccessError> {
    let mut policy = match existing.filter(|text| !text.trim().is_empty()) {
        None => json!({"Version": "2012-10-17", "Statement": []}),
        Some(text) => serde_json::from_str::<Value>(text).map_err(|e| {
            AccessError(format!("the group's existing resource policy is not valid JSON ({e}); fix or delete it, then run again"))
        })?,
    };
    let Some(document) = policy.as_object_mut() else {
        return Err(AccessError(
            "the group's existing resource policy is not a JSON object; fix or delete it".into(),
        ));
    };
    let statements = match document.remove("Statement") {
        Some(Value::Array(list)) => list,
        Some(single @ Value::Object(_)) => vec![single],
        _ => Vec::new(),
    };
    let our_sids: Vec<&Value> = ours.iter().map(|s| &s["Sid"]).collect();
    let mut merged: Vec<Value> = statements
        .into_iter()
        .filter(|s| !our_sids.contains(&&s["Sid"]))
        .collect();
    merged.extend(ours);
    document.insert("Statement".into(), Value::Array(merged));
    document
        .entry("Version")
        .or_insert_with(|| json!("2012-10-17"));
    Ok(policy)
}

#[cfg(test)]
mod tests {
    use super::*;

    const GROUP_ARN: &str =
        "arn:aws-cn:sagemaker:cn-north-1:123456789012:model-package-group/churn";

    fn accounts() -> Grantees {
        Grantees::Accounts(["111111111111".to_owned(), "222222222222".to_owned()].into())
    }

    fn org_paths() -> Grantees {
        Grantees::OrgPaths(vec![
            "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/".to_owned(),
            "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/ou-ab12-33333333/".to_owned(),
        ])
    }

    #[test]
    fn org_path_statements_name_no_account_and_cover_child_ous() {
        let statements = project_statements(GROUP_ARN, "churn", &org_paths()).unwrap();
        for statement in &statements {
            assert_eq!(statement["Principal"], json!({"AWS": "*"}));
            assert_eq!(
                statement["Condition"]["ForAnyValue:StringLike"]["aws:PrincipalOrgPaths"],
                json!([
                    "o-a1b2c3d4e5/r-ab12/ou-ab12-11111111/*",
                    "o-a1b2c3d4e5/r-ab12/ou-ab12-22222222/ou-ab12-33333333/*"
                ])
            );
        }
        assert_eq!(
            statements[1]["Action"],
            json!([
                "sagemaker:DescribeModelPackage",
                "sagemaker:ListModelPackages",
                "sagemaker:CreateModel"
            ])
        );
    }

    #[test]
    fn a_policy_over_the_limit_is_refused_with_the_fix_for_its_grantees() {
        let many: BTreeSet<String> = (0..1_000)
            .map(|n| format!("{:012}", 100_000_000_000u64 + n))
            .collect();
        let grantees = Grantees::Accounts(many);
        let policy = merge_policy(
            None,
            project_statements(GROUP_ARN, "churn", &grantees).unwrap(),
        )
        .unwrap();
        let err = check_fits(&policy, &grantees, "GRANT_PRINCIPALS (--grant-principals)")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("over the 20480 that PutModelPackageGroupPolicy takes"),
            "{err}"
        );
        assert!(err.contains("lists 1000 accounts one by one; set GRANT_PRINCIPALS (--grant-principals) to org-paths"), "{err}");

        let small = merge_policy(
            None,
            project_statements(GROUP_ARN, "churn", &org_paths()).unwrap(),
        )
        .unwrap();
        let chars = check_fits(&small, &org_paths(), "x").unwrap();
        assert_eq!(chars, small.to_string().len());
        assert!(chars < 2_000, "{chars}");

        let mut full = small.clone();
        full["Statement"]
            .as_array_mut()
            .unwrap()
            .push(json!({"Sid": "Other", "Resource": "x".repeat(MAX_POLICY_CHARS)}));
        let err = check_fits(&full, &org_paths(), "x")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("the statements other projects or people wrote fill it"),
            "{err}"
        );
    }

    #[test]
    fn statements_use_the_group_partition_and_every_account() {
        let statements = project_statements(GROUP_ARN, "churn", &accounts()).unwrap();
        assert_eq!(
            statements[0]["Principal"]["AWS"][1],
            "arn:aws-cn:iam::222222222222:root"
        );
        assert_eq!(
            statements[1]["Resource"],
            "arn:aws-cn:sagemaker:cn-north-1:123456789012:model-package/churn/*"
        );
        assert_eq!(
            statements[1]["Action"].as_array().unwrap().len(),
            3,
            "B9: more than CreateModel"
        );
    }

    fn sids(policy: &Value) -> Vec<&str> {
        policy["Statement"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["Sid"].as_str().unwrap())
            .collect()
    }

    #[test]
    fn merging_keeps_foreign_statements_and_replaces_ours() {
        let [ours_group, ours_packages] = project_sids("churn");
        let existing = json!({"Version": "2012-10-17", "Statement": [
            {"Sid": "SomebodyElse", "Effect": "Allow", "Principal": {"AWS": "x"}, "Action": "sagemaker:DescribeModelPackage", "Resource": "*"},
            {"Sid": ours_group, "Effect": "Allow", "Principal": {"AWS": "stale"}, "Action": "x", "Resource": "*"}
        ]})
        .to_string();
        let merged = merge_policy(
            Some(&existing),
            project_statements(GROUP_ARN, "churn", &accounts()).unwrap(),
        )
        .unwrap();
        assert_eq!(
            sids(&merged),
            ["SomebodyElse", ours_group.as_str(), ours_packages.as_str()]
        );
        assert!(!merged.to_string().contains("stale"));
        assert!(merge_policy(Some("{not json"), vec![]).is_err());
    }

    /// Two projects deploying from one group each keep the other's statements.
    #[test]
    fn two_projects_keep_each_others_statements() {
        let churn = merge_policy(
            None,
            project_statements(GROUP_ARN, "churn", &accounts()).unwrap(),
        )
        .unwrap();
        let both = merge_policy(
            Some(&churn.to_string()),
            project_statements(GROUP_ARN, "churn-v2", &accounts()).unwrap(),
        )
        .unwrap();
        assert_eq!(sids(&both).len(), 4);
        let again = merge_policy(
            Some(&both.to_string()),
            project_statements(GROUP_ARN, "churn", &accounts()).unwrap(),
        )
        .unwrap();
        assert_eq!(sids(&again).len(), 4, "a project replaces only its own");
    }

    #[test]
    fn distinct_projects_get_distinct_sids_of_letters_and_digits() {
        let names = [
            "churn",
            "churn-v2",
            "churnZ2DZv2",
            "churnZ",
            "ch-urn",
            "c-h-urn",
            "ZZ",
            "Z",
        ];
        let mut seen = BTreeSet::new();
        for name in names {
            for sid in project_sids(name) {
                assert!(sid.chars().all(|c| c.is_ascii_alphanumeric()), "{sid}");
                assert!(seen.insert(sid.clone()), "{name} collides: {sid}");
            }
        }
        assert_eq!(
            project_sids("churn-v2")[0],
            "SageMakerDeployStepsDescribeGroupchurnZ2DZv2"
        );
    }
}
