//! What CloudFormation knows of a stack besides its template: the account, Region and name, the
//! parameter values and the attribute overrides a test gives ([`StackInputs`]), and the pseudo
//! parameters (`AWS::AccountId`, `AWS::Partition`...) derived from them.

use std::collections::BTreeMap;

use serde_json::Value as Json;

use super::ids::uuid;

/// What CloudFormation knows of a stack besides its template.
#[derive(Debug, Clone)]
pub struct StackInputs {
    pub(super) account_id: String,
    pub(super) region: String,
    pub(super) stack_name: String,
    pub(super) notification_arns: Vec<String>,
    pub(super) parameters: BTreeMap<String, String>,
    pub(super) attributes: BTreeMap<(String, String), Json>,
}

impl StackInputs {
    /// A stack named `test-stack` in `account_id` and `region`, with no parameter values.
    pub fn new(account_id: &str, region: &str) -> Self {
        Self {
            account_id: account_id.to_owned(),
            region: region.to_owned(),
            stack_name: "test-stack".to_owned(),
            notification_arns: Vec::new(),
            parameters: BTreeMap::new(),
            attributes: BTreeMap::new(),
        }
    }

    /// The stack's name (`AWS::StackName`, and the start of generated names).
    #[must_use]
    pub fn stack_name(mut self, name: &str) -> Self {
        name.clone_into(&mut self.stack_name);
        self
    }

    /// `AWS::NotificationARNs` (empty unless set).
    #[must_use]
    pub fn notification_arns(mut self, arns: &[&str]) -> Self {
        self.notification_arns = arns.iter().map(ToString::to_string).collect();
        self
    }

    /// The value of parameter `name` as the CLI passes it: comma-separated for list types.
    #[must_use]
    pub fn parameter(mut self, name: &str, value: &str) -> Self {
        self.parameters.insert(name.to_owned(), value.to_owned());
        self
    }

    /// What `Fn::GetAtt` of `attribute` (or `Ref`, with [`REF`](super::REF)) of resource `logical_id`
    /// returns: for types or attributes without a built-in rule, or instead of the rule.
    #[must_use]
    pub fn attribute(mut self, logical_id: &str, attribute: &str, value: impl Into<Json>) -> Self {
        let key = (logical_id.to_owned(), attribute.to_owned());
        self.attributes.insert(key, value.into());
        self
    }

    /// `AWS::Partition`, from the Region: `aws-cn` for `cn-*`, `aws-us-gov` for `us-gov-*`, else
    /// `aws`.
    pub fn partition(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "aws-cn"
        } else if self.region.starts_with("us-gov-") {
            "aws-us-gov"
        } else {
            "aws"
        }
    }

    /// `AWS::URLSuffix`: `amazonaws.com.cn` in China, else `amazonaws.com`.
    pub fn url_suffix(&self) -> &'static str {
        if self.region.starts_with("cn-") {
            "amazonaws.com.cn"
        } else {
            "amazonaws.com"
        }
    }

    /// `AWS::StackId`: the stack's ARN, its UUID derived from the account, Region and name.
    pub fn stack_id(&self) -> String {
        let (account, region, name) = (&self.account_id, &self.region, &self.stack_name);
        let id = uuid(&[account.as_str(), region.as_str(), name.as_str()]);
        format!(
            "arn:{}:cloudformation:{region}:{account}:stack/{name}/{id}",
            self.partition()
        )
    }

    /// The value of pseudo parameter `name` (not `AWS::NoValue`, which has none).
    pub(super) fn pseudo(&self, name: &str) -> Option<Json> {
        Some(Json::String(match name {
            "AWS::AccountId" => self.account_id.clone(),
            "AWS::Region" => self.region.clone(),
            "AWS::Partition" => self.partition().to_owned(),
            "AWS::URLSuffix" => self.url_suffix().to_owned(),
            "AWS::StackName" => self.stack_name.clone(),
            "AWS::StackId" => self.stack_id(),
            "AWS::NotificationARNs" => return Some(self.notification_arns.clone().into()),
            _ => return None,
        }))
    }
}
