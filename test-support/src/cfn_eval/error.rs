//! What can go wrong resolving a template: [`CfnError`], each variant naming the path in the
//! template where it happened, and the constructors the other parts build the common ones with.

use std::fmt;

/// Why a template did not resolve. Every variant names the path in the template where it failed,
/// for example `Resources.Role.Properties.Policies[0].PolicyDocument.Statement[1].Fn::Sub`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CfnError {
    /// The template is not shaped as CloudFormation requires.
    Malformed { path: String, message: String },
    /// A parameter without a default was given no value.
    MissingParameter { path: String },
    /// A value CloudFormation would refuse for its parameter, or one for an undeclared parameter.
    InvalidParameter { path: String, message: String },
    /// `Ref`, `Fn::Sub`, `Fn::GetAtt` or `Fn::FindInMap` names nothing the template declares.
    UnknownName { path: String, name: String },
    /// A condition name the Conditions section lacks.
    UnknownCondition { path: String, name: String },
    /// Conditions, or resource names, that depend on themselves.
    Cycle { path: String, chain: String },
    /// A resource referenced where its Condition is false, so it would not exist.
    ConditionalResource { path: String, logical_id: String },
    /// Neither a built-in rule nor an override gives this attribute (or `Ref`) of the resource.
    NoAttribute {
        path: String,
        logical_id: String,
        attribute: String,
    },
    /// A function or template feature this module leaves out.
    Unsupported { path: String, feature: String },
}

impl fmt::Display for CfnError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Malformed { path, message } | Self::InvalidParameter { path, message } => {
                write!(f, "{path}: {message}")
            }
            Self::MissingParameter { path } => write!(f, "{path}: no value and no Default"),
            Self::UnknownName { path, name } => write!(f, "{path}: the template declares no {name}"),
            Self::UnknownCondition { path, name } => write!(f, "{path}: no condition {name}"),
            Self::Cycle { path, chain } => write!(f, "{path}: circular dependency {chain}"),
            Self::ConditionalResource { path, logical_id } => {
                write!(f, "{path}: {logical_id} does not exist (its Condition is false)")
            }
            Self::NoAttribute { path, logical_id, attribute } => write!(
                f,
                "{path}: no built-in {attribute} of {logical_id}; give it with StackInputs::attribute"
            ),
            Self::Unsupported { path, feature } => write!(f, "{path}: {feature} is not supported"),
        }
    }
}

impl std::error::Error for CfnError {}

pub(super) type Result<T> = std::result::Result<T, CfnError>;

pub(super) fn malformed(path: &str, message: impl Into<String>) -> CfnError {
    let (path, message) = (path.to_owned(), message.into());
    CfnError::Malformed { path, message }
}

pub(super) fn invalid(path: &str, message: impl Into<String>) -> CfnError {
    let (path, message) = (path.to_owned(), message.into());
    CfnError::InvalidParameter { path, message }
}

pub(super) fn unsupported(path: &str, feature: &str) -> CfnError {
    let (path, feature) = (path.to_owned(), feature.to_owned());
    CfnError::Unsupported { path, feature }
}
