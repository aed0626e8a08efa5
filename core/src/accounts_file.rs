//! The accounts file: the JSON array of account id strings (`["111111111111", "222222222222"]`)
//! that build-step writes for each stage and test-step reads back with `--accounts-file`, so that
//! the accounts tested are exactly the accounts deployed to. It is the form CodePipeline's
//! CloudFormationStackSet action takes as `DeploymentTargets: BuildArtifact::<file>` for
//! SELF_MANAGED stack sets
//! (<https://docs.aws.amazon.com/codepipeline/latest/userguide/action-reference-StackSets.html>).
//! Also the comma-separated lists (`STAGING_ACCOUNT_IDS`, `PROD_ACCOUNT_IDS`) that stand in for an
//! OU walk where the pipeline cannot read Organizations.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::input_file::{self, problem_from_text_error};
use crate::inputs::Input;
use crate::stack_params::json_kind;
use crate::targets::check_account_id;

/// Far above any organization's accounts (15 bytes each): a bigger file is not an accounts file.
pub const MAX_ACCOUNTS_FILE_BYTES: u64 = 1024 * 1024;

/// The file's text: the accounts, sorted and without duplicates, one per line.
pub fn render(accounts: &BTreeSet<String>) -> String {
    let mut text = serde_json::to_string_pretty(&accounts.iter().collect::<Vec<_>>())
        .expect("invariant: a list of strings always serializes");
    text.push('\n');
    text
}

/// Reads an accounts file named by `input`.
pub fn read(path: &Path, input: Input) -> Result<BTreeSet<String>, AccountsFileError> {
    let fail = |problem| AccountsFileError {
        path: path.to_owned(),
        input,
        problem,
    };
    let text =
        input_file::read_text(path, MAX_ACCOUNTS_FILE_BYTES).map_err(|err| fail(err.into()))?;
    parse(&text).map_err(fail)
}

/// Parses the text of an accounts file: a non-empty JSON array of account id strings.
pub fn parse(text: &str) -> Result<BTreeSet<String>, Problem> {
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|err| Problem::MalformedJson(err.to_string()))?;
    let serde_json::Value::Array(items) = value else {
        return Err(Problem::NotAList(json_kind(&value)));
    };
    let mut accounts = BTreeSet::new();
    for (index, item) in items.iter().enumerate() {
        let Some(id) = item.as_str() else {
            return Err(Problem::BadEntry {
                index,
                reason: format!("it is {}, not a string", json_kind(item)),
            });
        };
        check_account_id(id).map_err(|reason| Problem::BadEntry { index, reason })?;
        accounts.insert(id.to_owned());
    }
    if accounts.is_empty() {
        return Err(Problem::NoAccounts);
    }
    Ok(accounts)
}

/// A comma-separated list of account ids (blanks around and between commas ignored), checked;
/// none at all is an error.
pub fn parse_list(text: &str) -> Result<BTreeSet<String>, String> {
    let mut accounts = BTreeSet::new();
    for id in text.split(',').map(str::trim).filter(|id| !id.is_empty()) {
        check_account_id(id)?;
        accounts.insert(id.to_owned());
    }
    if accounts.is_empty() {
        return Err("lists no account id; give 12-digit ids separated by commas".to_owned());
    }
    Ok(accounts)
}

/// An accounts file that cannot be used, with the path and the setting that named it.
#[derive(Debug, Error)]
#[error("{input} {}: {problem}", path.display())]
pub struct AccountsFileError {
    pub path: PathBuf,
    pub input: Input,
    pub problem: Problem,
}

const FORMAT_HINT: &str = r#"the file must be a JSON list of account id strings like ["111111111111", "222222222222"], as build-step writes it"#;

#[derive(Debug, Error, PartialEq, Eq)]
pub enum Problem {
    #[error("file not found; point the setting at the accounts file build-step wrote")]
    Missing,
    #[error("is a directory, not a file; point the setting at the JSON file inside it")]
    IsDirectory,
    #[error("is not a regular file (a FIFO, device or socket, which could block or never end); point the setting at the accounts file build-step wrote")]
    NotRegular,
    #[error("cannot be read ({0}); check its permissions")]
    Unreadable(String),
    #[error("is over {MAX_ACCOUNTS_FILE_BYTES} bytes, far more than any organization's accounts; {FORMAT_HINT}")]
    TooBig,
    #[error("is not UTF-8 text (invalid byte after {0} valid bytes); {FORMAT_HINT}")]
    NotUtf8(usize),
    #[error("is not valid JSON ({0}); {FORMAT_HINT}")]
    MalformedJson(String),
    #[error("holds {0}, not a list; {FORMAT_HINT}")]
    NotAList(&'static str),
    #[error("entry {index}: {reason}; {FORMAT_HINT}")]
    BadEntry { index: usize, reason: String },
    #[error("lists no account; zero targets is not a pass, so give at least one")]
    NoAccounts,
}

problem_from_text_error!(Problem);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_sorted_and_unique_and_read_back() {
        let accounts: BTreeSet<String> = ["222222222222", "111111111111"].map(str::to_owned).into();
        let text = render(&accounts);
        assert_eq!(text, "[\n  \"111111111111\",\n  \"222222222222\"\n]\n");
        assert_eq!(parse(&text).unwrap(), accounts);
        assert_eq!(
            parse(r#"["111111111111","111111111111"]"#).unwrap().len(),
            1
        );
    }

    #[test]
    fn anything_else_is_refused_with_what_to_write() {
        for (text, expected) in [
            ("", Problem::MalformedJson(String::new())),
            ("{}", Problem::NotAList("an object")),
            ("[]", Problem::NoAccounts),
        ] {
            let got = parse(text).unwrap_err();
            assert_eq!(
                std::mem::discriminant(&got),
                std::mem::discriminant(&expected),
                "{text}: {got}"
            );
        }
        let err = parse(r#"["111111111111", 222222222222]"#)
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("entry 1: it is a number, not a string;"),
            "{err}"
        );
        let err = parse(r#"["1111"]"#).unwrap_err().to_string();
        assert!(
            err.starts_with("entry 0: \"1111\" is not an AWS account id"),
            "{err}"
        );
    }

    #[test]
    fn a_comma_separated_list_is_checked() {
        assert_eq!(
            parse_list(" 222222222222, 111111111111,,").unwrap(),
            ["111111111111".to_owned(), "222222222222".to_owned()].into()
        );
        assert!(parse_list(" , ")
            .unwrap_err()
            .starts_with("lists no account id"));
        assert!(parse_list("111111111111,12")
            .unwrap_err()
            .starts_with("\"12\" is not"));
    }
}
