//! Every input either binary reads, in one registry: its flag and its environment variable. The
//! variables are named as the seed's CodeBuild projects set them, so the binaries drop into the
//! existing pipeline unchanged. The clap attributes take their names from these constants, and
//! every message that names an input prints one, so a message names an input exactly as `--help`
//! does (`SOURCE_MODEL_PACKAGE_GROUP_NAME (--model-package-group-name)`). A test keeps the
//! environment variables table of `docs/configuration.md` identical to the variables here.

use std::fmt;

/// One input: a long flag, an environment variable, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Input {
    /// The long flag without its dashes (`model-package-group-name`).
    pub flag: Option<&'static str>,
    /// The environment variable the flag falls back to, or that is read on its own.
    pub env: Option<&'static str>,
}

impl Input {
    /// The environment variable's name, for inputs that have one (a registry entry without one is
    /// a programming error, caught by the first test that asks).
    pub const fn var(self) -> &'static str {
        match self.env {
            Some(name) => name,
            None => panic!("this input has no environment variable"),
        }
    }

    /// How to give the input: `pass --flag or set ENV`, `set ENV`, or `pass --flag`.
    pub fn how_to_set(self) -> String {
        match (self.flag, self.env) {
            (Some(flag), Some(env)) => format!("pass --{flag} or set {env}"),
            (None, Some(env)) => format!("set {env}"),
            (Some(flag), None) => format!("pass --{flag}"),
            (None, None) => String::new(),
        }
    }
}

/// `ENV (--flag)`, `ENV` or `--flag`: the one way messages name an input.
impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.env, self.flag) {
            (Some(env), Some(flag)) => write!(f, "{env} (--{flag})"),
            (Some(env), None) => f.write_str(env),
            (None, Some(flag)) => write!(f, "--{flag}"),
            (None, None) => Ok(()),
        }
    }
}

/// Which binary reads a variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadBy {
    BuildStep,
    TestStep,
    Both,
}

/// An environment variable as the table in `docs/configuration.md` shows it.
#[derive(Debug, Clone, Copy)]
pub struct EnvVar {
    pub input: Input,
    pub read_by: ReadBy,
    pub meaning: &'static str,
}

macro_rules! flag {
    (-) => {
        None
    };
    ($flag:literal) => {
        Some($flag)
    };
}

macro_rules! env_var {
    (-) => {
        None
    };
    ($env:ident) => {
        Some(stringify!($env))
    };
}

macro_rules! registry {
    ($($name:ident = $flag:tt, $env:tt;)*) => {
        $(pub const $name: Input = Input { flag: flag!($flag), env: env_var!($env) };)*
        /// Every input, flags without a variable included.
        pub const ALL: &[Input] = &[$($name),*];
    };
}

macro_rules! documented {
    ($($name:ident, $read_by:ident, $meaning:literal;)*) => {
        /// Every environment variable either binary reads, in the order of `docs/configuration.md`.
        pub const ENV_VARS: &[EnvVar] = &[
            $(EnvVar { input: $name, read_by: ReadBy::$read_by, meaning: $meaning },)*
        ];
    };
}

registry! {
    MODEL_PACKAGE_GROUP = "model-package-group-name", SOURCE_MODEL_PACKAGE_GROUP_NAME;
    PROJECT_NAME = "sagemaker-project-name", SAGEMAKER_PROJECT_NAME;
    PROJECT_ID = "sagemaker-project-id", SAGEMAKER_PROJECT_ID;
    ARTIFACT_BUCKET = "artifact-bucket", ARTIFACT_BUCKET;
    STAGING_ROLE = "sagemaker-execution-role-staging-name", SAGEMAKER_EXECUTION_ROLE_STAGING_NAME;
    PROD_ROLE = "sagemaker-execution-role-prod-name", SAGEMAKER_EXECUTION_ROLE_PROD_NAME;
    STAGING_OU = "organizational-unit-staging-id", ORGANIZATIONAL_UNIT_STAGING_ID;
    PROD_OU = "organizational-unit-prod-id", ORGANIZATIONAL_UNIT_PROD_ID;
    EXPORT_TEMPLATE = "export-template", EXPORT_TEMPLATE_NAME;
    EXPORT_PROD_TEMPLATE = "export-prod-template", EXPORT_TEMPLATE_PROD_NAME;
    EXPORT_STAGING_CONFIG = "export-staging-config", EXPORT_TEMPLATE_STAGING_CONFIG;
    EXPORT_PROD_CONFIG = "export-prod-config", EXPORT_TEMPLATE_PROD_CONFIG;
    EXPORT_STAGING_ACCOUNTS = "export-staging-accounts", EXPORT_STAGING_ACCOUNTS;
    EXPORT_PROD_ACCOUNTS = "export-prod-accounts", EXPORT_PROD_ACCOUNTS;
    STAGING_ACCOUNT_IDS = "staging-account-ids", STAGING_ACCOUNT_IDS;
    PROD_ACCOUNT_IDS = "prod-account-ids", PROD_ACCOUNT_IDS;
    MODEL_PACKAGE_ARN = "model-package-arn", MODEL_PACKAGE_ARN;
    PIPELINE_NAME = "pipeline-name", PIPELINE_NAME;
    PIPELINE_EXECUTION_ID = "pipeline-execution-id", PIPELINE_EXECUTION_ID;
    GRANT_CROSS_ACCOUNT_ACCESS = "grant-cross-account-access", GRANT_CROSS_ACCOUNT_ACCESS;
    GRANT_PRINCIPALS = "grant-principals", GRANT_PRINCIPALS;
    BUILD_CONFIG = "build-config", BUILD_CONFIG;
    EXPORT_TEST_RESULTS = "export-test-results", EXPORT_TEST_RESULTS;
    ROLE_NAME = "sagemaker-execution-role-name", SAGEMAKER_EXECUTION_ROLE_NAME;
    OU = "organizational-unit-id", ORGANIZATIONAL_UNIT_ID;
    ACCOUNTS_FILE = "accounts-file", ACCOUNTS_FILE;
    DEPLOY_ROLE = "deploy-role-name", STACKSET_EXECUTION_ROLE_NAME;
    DEPLOY_ADMIN_ROLE = "deploy-admin-role-arn", STACKSET_ADMINISTRATION_ROLE_ARN;
    UPDATE_MODEL_LIFECYCLE = "update-model-lifecycle", UPDATE_MODEL_LIFECYCLE;
    BUILD_URL = "codebuild-build-url", CODEBUILD_BUILD_URL;
    BUILD_ID = "codebuild-build-id", CODEBUILD_BUILD_ID;
    REGION = "region", AWS_REGION;
    PROFILE = "profile", AWS_PROFILE;
    ENDPOINT_URL = -, AWS_ENDPOINT_URL;
    MAX_ATTEMPTS = -, AWS_MAX_ATTEMPTS;
    READ_TIMEOUT = -, DEPLOY_STEPS_READ_TIMEOUT_SECONDS;
    RETRY_INITIAL_BACKOFF = -, DEPLOY_STEPS_RETRY_INITIAL_BACKOFF_MS;
    LOG_FORMAT = "log-format", LOG_FORMAT;
    LOG_FILTER = -, RUST_LOG;
    IMPORT_STAGING_CONFIG = "import-staging-config", -;
    IMPORT_PROD_CONFIG = "import-prod-config", -;
    TEMPLATE = "template", -;
    DRY_RUN = "dry-run", -;
    DECISION_ENV = "decision-env", -;
    OUTPUT = "output", -;
    ACCOUNT_IDS = "account-id", -;
    REGIONS = "regions", -;
    PAYLOADS = "payloads", -;
    JUNIT_REPORT = "junit-report", -;
    SUMMARY_FILE = "summary-file", -;
    STRICT = "strict", -;
    WAIT_TIMEOUT = "wait-timeout", -;
    DEADLINE = "deadline", -;
    INVOCATIONS = "invocations", -;
    CONCURRENCY = "concurrency", -;
    VERBOSE = "verbose", -;
    QUIET = "quiet", -;
}

documented! {
    MODEL_PACKAGE_GROUP, BuildStep, "model package group to deploy from";
    PROJECT_NAME, Both, "project name (at most 32 characters); the endpoint is `<project>-<stage>`";
    PROJECT_ID, Both, "project id, used in tags";
    ARTIFACT_BUCKET, BuildStep, "project artifact bucket; default destination for data capture";
    STAGING_ROLE, BuildStep, "role name in the staging accounts (`RoleName` of the staging parameters)";
    PROD_ROLE, BuildStep, "role name in the prod accounts (`RoleName` of the prod parameters)";
    STAGING_OU, BuildStep, "staging OU, for `--grant-cross-account-access`";
    PROD_OU, BuildStep, "prod OU, for `--grant-cross-account-access`";
    EXPORT_TEMPLATE, BuildStep, "rendered endpoint template of the staging stack (default `template-export.yml`)";
    EXPORT_PROD_TEMPLATE, BuildStep, "rendered endpoint template of the prod stack (default `prod-template-export.yml`); the same text as the staging one unless exactly one stage runs in a VPC";
    EXPORT_STAGING_CONFIG, BuildStep, "staging StackSet parameter file (default `staging-config-export.json`)";
    EXPORT_PROD_CONFIG, BuildStep, "prod StackSet parameter file (default `prod-config-export.json`)";
    EXPORT_STAGING_ACCOUNTS, BuildStep, "when set, write the staging accounts file here: a JSON array of the staging OU's ACTIVE account ids";
    EXPORT_PROD_ACCOUNTS, BuildStep, "when set, write the prod accounts file here: a JSON array of the prod OU's ACTIVE account ids";
    STAGING_ACCOUNT_IDS, BuildStep, "comma-separated staging account ids for the accounts file, instead of walking the staging OU";
    PROD_ACCOUNT_IDS, BuildStep, "comma-separated prod account ids for the accounts file, instead of walking the prod OU";
    MODEL_PACKAGE_ARN, BuildStep, "pin this package instead of the newest Approved one";
    PIPELINE_NAME, BuildStep, "the pipeline whose run started the build (set by the build project)";
    PIPELINE_EXECUTION_ID, BuildStep, "that run's id (passed by the build action): build-step reads the run's `ModelPackageArn` variable, `newest` or an ARN to pin";
    GRANT_CROSS_ACCOUNT_ACCESS, BuildStep, "`true` to update the group's resource policy for the OU accounts";
    GRANT_PRINCIPALS, BuildStep, "`org-paths` (default: the OUs by their Organizations paths, constant size) or `accounts` (each ACTIVE account listed)";
    BUILD_CONFIG, TestStep, "parameter file `build-step` wrote (default `staging-config-export.json`)";
    EXPORT_TEST_RESULTS, TestStep, "JSON test report (default `test-results.json`)";
    ROLE_NAME, TestStep, "role to assume in each staging account";
    OU, TestStep, "OU whose ACTIVE accounts are tested";
    ACCOUNTS_FILE, TestStep, "accounts file `build-step` wrote: test exactly these accounts, without walking the OU";
    DEPLOY_ROLE, TestStep, "`preflight`: the StackSet execution role the stage's deploy assumes in each account (SELF_MANAGED); unset skips its check";
    DEPLOY_ADMIN_ROLE, TestStep, "`preflight`: the StackSet administration role (ARN) the execution role must trust";
    UPDATE_MODEL_LIFECYCLE, TestStep, "`true`: after the test, record its verdict in the tested package's `ModelLifeCycle` (the test and verify buildspecs set it)";
    BUILD_URL, TestStep, "the build's page (CodeBuild sets it), linked from the `ModelLifeCycle` description";
    BUILD_ID, TestStep, "set by CodeBuild; names the assumed-role session";
    REGION, Both, "region (flag `--region`)";
    PROFILE, Both, "named profile (flag `--profile`); SSO profiles through `credential_process`, see below";
    ENDPOINT_URL, Both, "send every AWS call to this endpoint (the emulator); `AWS_ENDPOINT_URL_<SERVICE>` for one service";
    MAX_ATTEMPTS, Both, "attempts per AWS call, the first included (default 3, at most 10); see Retries and timeouts";
    READ_TIMEOUT, Both, "longest wait for one AWS response, in seconds (default 20, 65 for InvokeEndpoint; 1 to 900)";
    RETRY_INITIAL_BACKOFF, Both, "longest wait before the first retry, in milliseconds, doubling per retry (default 1000, 1 to 20000)";
    LOG_FORMAT, Both, "`text` (default) or `json` (flag `--log-format`)";
    LOG_FILTER, Both, "log filter, overrides `-v`/`-q` (for example `build_step=debug`); the only way to see the SDK's own debug output";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique() {
        let mut names: Vec<_> = ENV_VARS.iter().map(|v| v.input.var()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), ENV_VARS.len());
    }

    #[test]
    fn every_variable_is_documented_once_in_registry_order() {
        let with_env: Vec<Input> = ALL.iter().copied().filter(|i| i.env.is_some()).collect();
        let documented: Vec<Input> = ENV_VARS.iter().map(|v| v.input).collect();
        assert_eq!(documented, with_env);
    }

    #[test]
    fn an_input_is_named_the_same_way_everywhere() {
        assert_eq!(
            MODEL_PACKAGE_GROUP.to_string(),
            "SOURCE_MODEL_PACKAGE_GROUP_NAME (--model-package-group-name)"
        );
        assert_eq!(MAX_ATTEMPTS.to_string(), "AWS_MAX_ATTEMPTS");
        assert_eq!(TEMPLATE.to_string(), "--template");
        assert_eq!(
            STAGING_OU.how_to_set(),
            "pass --organizational-unit-staging-id or set ORGANIZATIONAL_UNIT_STAGING_ID"
        );
    }

    #[test]
    fn the_configuration_table_mirrors_the_registry() {
        let configuration = include_str!("../../docs/configuration.md");
        let listed: Vec<&str> = configuration
            .lines()
            .filter_map(|line| line.strip_prefix("| `"))
            .filter_map(|rest| rest.split('`').next())
            .filter(|name| name.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
            .collect();
        let registry: Vec<&str> = ENV_VARS.iter().map(|v| v.input.var()).collect();
        assert_eq!(
            listed, registry,
            "docs/configuration.md's environment variables table and inputs::ENV_VARS differ"
        );
    }
}
