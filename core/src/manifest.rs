//! The payload manifest: which requests to send to every endpoint and what a good answer looks like.
//!
//! `--payloads DIR` holds `manifest.json` and the request bodies it names. Everything is read and
//! checked before the first AWS call (unknown fields, bad regexes, bad JSON pointers, missing or
//! oversize bodies), so a typo in the manifest fails in a second with exit 2 instead of after the
//! wait for the endpoints. Response checks never echo the response body: a failure names the
//! expectation, the response's size and at most the one value a JSON pointer selected.
//!
//! Three parts, each with its own rules:
//! - `parse`: the manifest's text in, the checked [`Manifest`] out ([`Manifest::parse`]); each
//!   body's bytes come from whatever source the caller gives, so the rules run, and fuzz,
//!   without a file system.
//! - `load`: the payloads directory on disk ([`Manifest::load`]): reading `manifest.json`, and
//!   each body inside the directory, a regular file and within the size limits.
//! - `check`: one response against a case's expectations ([`Expect::check`]).

mod check;
mod load;
mod parse;

use std::path::PathBuf;

use bytes::Bytes;
use serde_json::Value;
use thiserror::Error;

use crate::body_regex::BodyRegex;

/// A manifest that cannot be used, with what to fix.
#[derive(Debug, Error)]
#[error("payload manifest {}: {message}", path.display())]
pub struct ManifestError {
    pub path: PathBuf,
    pub message: String,
}

/// The manifest's file name inside the payloads directory.
pub const MANIFEST_FILE: &str = "manifest.json";
/// InvokeEndpoint's limit on a real-time request body (6 MB).
pub const MAX_BODY_BYTES: u64 = 6 * 1024 * 1024;
/// All bodies of a manifest together: they stay in memory for the whole run, shared by every
/// target and invocation.
pub const MAX_TOTAL_BODY_BYTES: u64 = 32 * 1024 * 1024;
/// The manifest itself; a real one is a few kilobytes.
pub const MAX_MANIFEST_BYTES: u64 = 1024 * 1024;
/// The largest answer whose JSON expectations are checked (InvokeEndpoint answers at most 6 MB).
pub const MAX_JSON_ANSWER_BYTES: usize = 6 * 1024 * 1024;

/// The checked manifest with every body loaded.
#[derive(Debug, Clone)]
pub struct Manifest {
    pub path: PathBuf,
    pub cases: Vec<Case>,
}

/// One request and its expectations.
#[derive(Debug, Clone)]
pub struct Case {
    pub name: String,
    /// The body's file name as the manifest gives it (for reports, never the content).
    pub body_file: String,
    /// Shared, not copied: every target's every invocation sends these same bytes.
    pub body: Bytes,
    pub content_type: Option<String>,
    pub accept: Option<String>,
    pub expect: Expect,
}

/// What a response must satisfy; empty means any successful invocation passes.
#[derive(Debug, Clone, Default)]
pub struct Expect {
    pub content_type: Option<String>,
    /// regex-lite syntax: `\w`, `\d`, `\s`, `\b` and `(?i)` are ASCII-only, and `\p{..}` classes
    /// and class set operations are rejected when the manifest is read; its cost is bounded
    /// ([`crate::body_regex`]).
    pub body_regex: Option<BodyRegex>,
    pub json: Vec<(String, JsonCheck)>,
}

/// The check for one JSON pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum JsonCheck {
    /// The value must equal this one (numbers compare by value: 1 equals 1.0).
    Equals(Value),
    /// The value must be a number within the bounds (inclusive).
    Range { min: Option<f64>, max: Option<f64> },
}
