//! Every environment variable either binary reads, in one registry. The names are the ones the
//! seed's CodeBuild projects set, so the binaries drop into the existing pipeline unchanged. Clap
//! flags take their `env` fallback from these constants, `--help` shows them, and a test checks
//! that the README's configuration table lists exactly this registry.

/// Which binary reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    BuildStep,
    TestStep,
    Both,
}

/// One registry entry: the variable and the line the README's table shows for it.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    pub name: &'static str,
    pub read_by: ReadBy,
    pub meaning: &'static str,
}

macro_rules! registry {
    ($($name:ident, $read_by:ident, $meaning:literal;)*) => {
        $(pub const $name: &str = stringify!($name);)*
        /// The whole registry, in README order.
        pub const ALL: &[EnvVar] = &[
            $(EnvVar { name: $name, read_by: ReadBy::$read_by, meaning: $meaning },)*
        ];
    };
}

registry! {
    SOURCE_MODEL_PACKAGE_GROUP_NAME, BuildStep, "model package group to deploy from";
    SAGEMAKER_PROJECT_NAME, Both, "project name (at most 32 characters); the endpoint is `<project>-<stage>`";
    SAGEMAKER_PROJECT_ID, Both, "project id, used in tags";
    ARTIFACT_BUCKET, BuildStep, "project artifact bucket; default destination for data capture";
    SAGEMAKER_EXECUTION_ROLE_STAGING_NAME, BuildStep, "role name in the staging accounts (`RoleName` of the staging parameters)";
    SAGEMAKER_EXECUTION_ROLE_PROD_NAME, BuildStep, "role name in the prod accounts (`RoleName` of the prod parameters)";
    ORGANIZATIONAL_UNIT_STAGING_ID, BuildStep, "staging OU, for `--grant-cross-account-access`";
    ORGANIZATIONAL_UNIT_PROD_ID, BuildStep, "prod OU, for `--grant-cross-account-access`";
    EXPORT_TEMPLATE_NAME, BuildStep, "rendered endpoint template (default `template-export.yml`)";
    EXPORT_TEMPLATE_STAGING_CONFIG, BuildStep, "staging StackSet parameter file (default `staging-config-export.json`)";
    EXPORT_TEMPLATE_PROD_CONFIG, BuildStep, "prod StackSet parameter file (default `prod-config-export.json`)";
    MODEL_PACKAGE_ARN, BuildStep, "pin this package instead of the newest Approved one";
    GRANT_CROSS_ACCOUNT_ACCESS, BuildStep, "`true` to update the group's resource policy for the OU accounts";
    BUILD_CONFIG, TestStep, "parameter file `build-step` wrote (default `staging-config-export.json`)";
    EXPORT_TEST_RESULTS, TestStep, "JSON test report (default `test-results.json`)";
    SAGEMAKER_EXECUTION_ROLE_NAME, TestStep, "role to assume in each staging account";
    ORGANIZATIONAL_UNIT_ID, TestStep, "OU whose ACTIVE accounts are tested";
    CODEBUILD_BUILD_ID, TestStep, "set by CodeBuild; names the assumed-role session";
    AWS_REGION, Both, "region (flag `--region`)";
    AWS_PROFILE, Both, "named profile (flag `--profile`); SSO profiles through `credential_process`, see below";
    AWS_ENDPOINT_URL, Both, "send every AWS call to this endpoint (the emulator); `AWS_ENDPOINT_URL_<SERVICE>` for one service";
    AWS_MAX_ATTEMPTS, Both, "attempts per AWS call, the first included (default 3, at most 10); see Retries and timeouts";
    DEPLOY_STEPS_READ_TIMEOUT_SECONDS, Both, "longest wait for one AWS response, in seconds (default 65, 1 to 900)";
    DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS, Both, "longest wait before the first retry, in milliseconds, doubling per retry (default 1000, 1 to 20000)";
    LOG_FORMAT, Both, "`text` (default) or `json` (flag `--log-format`)";
    RUST_LOG, Both, "log filter, overrides `-v`/`-q` (for example `build_step=debug`); the only way to see the SDK's own debug output";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ALL.iter().map(|v| v.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ALL.len());
    }

    #[test]
    fn the_readme_table_mirrors_the_registry() {
        let readme = include_str!("../../README.md");
        let listed: Vec<&str> = readme
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect();
        let registry: Vec<&str> = ALL.iter().map(|v| v.name).collect();
        assert_eq!(
            listed, registry,
            "README configuration table and env_vars::ALL differ"
        );
    }
}
