//! Seeding the emulator through the real SDK: model package groups and packages, and an
//! organization with OUs and accounts.

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_organizations::types::AccountState;
use aws_sdk_sagemaker::types::{
    InferenceSpecification, ModelApprovalStatus, ModelPackageContainerDefinition,
    ProductionVariantInstanceType,
};
use aws_sdk_sts::config::Credentials;
use tokio::sync::OnceCell;

use crate::Moto;

pub const ACCOUNT_ID: &str = "123456789012";
pub const REGION: &str = "us-east-1";

/// SDK config for the emulator's default account (123456789012) in `region`.
pub async fn sdk_config(moto: &Moto, region: &str) -> SdkConfig {
    sdk_config_with(
        moto,
        region,
        Credentials::new("testing", "testing", None, None, "test-support"),
    )
    .await
}

pub async fn sdk_config_with(moto: &Moto, region: &str, credentials: Credentials) -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(deploy_shell::http::http_client())
        .endpoint_url(&moto.endpoint)
        .region(Region::new(region.to_owned()))
        .credentials_provider(credentials)
        .load()
        .await
}

/// Credentials for `account_id`, through STS AssumeRole as the binaries get them.
pub async fn assume_account(moto: &Moto, account_id: &str, role_name: &str) -> Credentials {
    let sts = aws_sdk_sts::Client::new(&sdk_config(moto, REGION).await);
    let out = sts
        .assume_role()
        .role_arn(format!("arn:aws:iam::{account_id}:role/{role_name}"))
        .role_session_name("test-support")
        .send()
        .await
        .expect("AssumeRole against the emulator");
    let c = out.credentials().expect("credentials");
    Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_owned()),
        None,
        "assumed",
    )
}

/// A model package group with packages created in order (so later ones are newer).
pub struct GroupSeed {
    client: aws_sdk_sagemaker::Client,
    pub name: String,
}

impl GroupSeed {
    pub async fn create(moto: &Moto, name: &str) -> Self {
        let client = aws_sdk_sagemaker::Client::new(&sdk_config(moto, REGION).await);
        client
            .create_model_package_group()
            .model_package_group_name(name)
            .send()
            .await
            .expect("CreateModelPackageGroup");
        Self {
            client,
            name: name.to_owned(),
        }
    }

    /// Adds a package with `status` (None: no status, as moto does without one); returns its ARN.
    pub async fn add_package(&self, status: Option<ModelApprovalStatus>) -> String {
        let spec = InferenceSpecification::builder()
            .containers(
                ModelPackageContainerDefinition::builder()
                    .image(format!(
                        "{ACCOUNT_ID}.dkr.ecr.{REGION}.amazonaws.com/demo-model:latest"
                    ))
                    .model_data_url("s3://demo-artifacts/model.tar.gz")
                    .build(),
            )
            .supported_content_types("text/csv")
            .supported_response_mime_types("application/json")
            .supported_realtime_inference_instance_types(ProductionVariantInstanceType::MlM5Large)
            .supported_realtime_inference_instance_types(ProductionVariantInstanceType::MlM5Xlarge)
            .build();
        let out = self
            .client
            .create_model_package()
            .model_package_group_name(&self.name)
            .set_model_approval_status(status)
            .inference_specification(spec)
            .send()
            .await
            .expect("CreateModelPackage");
        out.model_package_arn().expect("arn").to_owned()
    }

    pub async fn set_status(&self, arn: &str, status: ModelApprovalStatus) {
        self.client
            .update_model_package()
            .model_package_arn(arn)
            .model_approval_status(status)
            .send()
            .await
            .expect("UpdateModelPackage");
    }
}

/// The emulator's organization (created once per process) and helpers to grow it.
#[derive(Clone)]
pub struct Organization {
    client: aws_sdk_organizations::Client,
    pub root_id: String,
}

static ORGANIZATION: OnceCell<String> = OnceCell::const_new();

impl Organization {
    pub async fn get(moto: &Moto) -> Self {
        let client = aws_sdk_organizations::Client::new(&sdk_config(moto, REGION).await);
        let root_id = ORGANIZATION
            .get_or_init(|| async {
                client
                    .create_organization()
                    .feature_set(aws_sdk_organizations::types::OrganizationFeatureSet::All)
                    .send()
                    .await
                    .expect("CreateOrganization");
                let roots = client.list_roots().send().await.expect("ListRoots");
                roots.roots()[0].id().expect("root id").to_owned()
            })
            .await
            .clone();
        Self { client, root_id }
    }

    pub async fn create_ou(&self, parent_id: &str, name: &str) -> String {
        let out = self
            .client
            .create_organizational_unit()
            .parent_id(parent_id)
            .name(name)
            .send()
            .await
            .expect("CreateOrganizationalUnit");
        out.organizational_unit()
            .and_then(|ou| ou.id())
            .expect("ou id")
            .to_owned()
    }

    /// Creates an ACTIVE account and moves it under `ou_id`; returns its id.
    pub async fn create_account(&self, ou_id: &str, name: &str) -> String {
        let out = self
            .client
            .create_account()
            .account_name(name)
            .email(format!("{name}@example.com"))
            .send()
            .await
            .expect("CreateAccount");
        let id = out
            .create_account_status()
            .and_then(|s| s.account_id())
            .expect("account id")
            .to_owned();
        self.client
            .move_account()
            .account_id(&id)
            .source_parent_id(&self.root_id)
            .destination_parent_id(ou_id)
            .send()
            .await
            .expect("MoveAccount");
        id
    }

    /// Closes an account: it stays in its OU as SUSPENDED.
    pub async fn close_account(&self, account_id: &str) {
        self.client
            .close_account()
            .account_id(account_id)
            .send()
            .await
            .expect("CloseAccount");
        let described = self
            .client
            .describe_account()
            .account_id(account_id)
            .send()
            .await
            .expect("DescribeAccount");
        let account = described.account().expect("account");
        assert!(
            account.state() != Some(&AccountState::Active)
                || account.status().is_some_and(|s| s.as_str() != "ACTIVE"),
            "the emulator did not suspend {account_id}"
        );
    }

    /// Two OUs under the root, `<name>-staging` and `<name>-prod`, each three levels deep as
    /// [`TREE`] shapes them, holding 1,000 ACTIVE accounts in all (and one SUSPENDED one).
    pub async fn create_scale_tree(&self, name: &str) -> ScaleTree {
        let mut tops = Vec::new();
        let mut accounts = Vec::new();
        for stage in ["staging", "prod"] {
            let top = self
                .create_ou(&self.root_id, &format!("{name}-{stage}"))
                .await;
            for child in 0..TREE.children {
                let child_ou = self
                    .create_ou(&top, &format!("{name}-{stage}-{child}"))
                    .await;
                accounts.extend(
                    (0..TREE.child_accounts)
                        .map(|n| (child_ou.clone(), format!("{name}-{stage}-{child}-{n}"))),
                );
                for grandchild in 0..TREE.grandchildren {
                    let label = format!("{name}-{stage}-{child}-{grandchild}");
                    let grandchild_ou = self.create_ou(&child_ou, &label).await;
                    accounts.extend(
                        (0..TREE.grandchild_accounts)
                            .map(|n| (grandchild_ou.clone(), format!("{label}-{n}"))),
                    );
                }
            }
            tops.push(top);
        }
        let active = accounts.len();
        // A few at once: the emulator serves one call at a time, but the round trips overlap.
        let mut creating = tokio::task::JoinSet::new();
        let mut pending = accounts.into_iter();
        loop {
            while creating.len() < 8 {
                let Some((ou, label)) = pending.next() else {
                    break;
                };
                let org = self.clone();
                creating.spawn(async move { org.create_account(&ou, &label).await });
            }
            match creating.join_next().await {
                Some(created) => {
                    created.expect("an account created");
                }
                None => break,
            }
        }
        let suspended = self
            .create_account(&tops[0], &format!("{name}-closed"))
            .await;
        self.close_account(&suspended).await;
        let [staging, prod]: [String; 2] = tops.try_into().expect("two top OUs");
        ScaleTree {
            staging,
            prod,
            active_accounts: active,
        }
    }
}

/// The shape of each top OU of [`Organization::create_scale_tree`]: its children, their accounts,
/// each child's children and theirs. 24 and 19 accounts are not multiples of a 20-account page.
pub struct TreeShape {
    pub children: usize,
    pub child_accounts: usize,
    pub grandchildren: usize,
    pub grandchild_accounts: usize,
}

pub const TREE: TreeShape = TreeShape {
    children: 5,
    child_accounts: 24,
    grandchildren: 4,
    grandchild_accounts: 19,
};

/// The two top OUs of a scale tree and how many ACTIVE accounts they hold together.
pub struct ScaleTree {
    pub staging: String,
    pub prod: String,
    pub active_accounts: usize,
}

impl TreeShape {
    /// Calls a walk of one top OU makes at 20 items a page, at least one page per listing:
    /// (ListAccountsForParent, ListOrganizationalUnitsForParent).
    pub fn walk_calls(&self) -> (usize, usize) {
        let pages = |items: usize| items.div_ceil(20).max(1);
        let grandchildren = self.children * self.grandchildren;
        let accounts = pages(1) // the top OU's only account is the suspended one, or none
            + self.children * pages(self.child_accounts)
            + grandchildren * pages(self.grandchild_accounts);
        let ous = pages(self.children)
            + self.children * pages(self.grandchildren)
            + grandchildren * pages(0);
        (accounts, ous)
    }
}

/// A StackSet in the emulator's default account, as the pipeline's deploy action leaves it: named
/// `name`, last deployed with `parameters` from a template that also declares `defaults` (what
/// build-step reads back to warn about an update).
pub async fn create_stack_set(
    moto: &Moto,
    name: &str,
    parameters: &[(&str, &str)],
    defaults: &[(&str, &str)],
) {
    let mut template = String::from("Parameters:\n");
    for (key, _) in parameters {
        template.push_str(&format!("  {key}:\n    Type: String\n"));
    }
    for (key, default) in defaults {
        template.push_str(&format!(
            "  {key}:\n    Type: String\n    Default: {default}\n"
        ));
    }
    template.push_str("Resources:\n  Topic:\n    Type: AWS::SNS::Topic\n");
    let client = aws_sdk_cloudformation::Client::new(&sdk_config(moto, REGION).await);
    client
        .create_stack_set()
        .stack_set_name(name)
        .template_body(template)
        .set_parameters(Some(
            parameters
                .iter()
                .map(|(key, value)| {
                    aws_sdk_cloudformation::types::Parameter::builder()
                        .parameter_key(*key)
                        .parameter_value(*value)
                        .build()
                })
                .collect(),
        ))
        .send()
        .await
        .expect("CreateStackSet");
}
