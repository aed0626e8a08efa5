//! The JSON report, `test-results.json`: the whole [`Report`] as one pretty-printed document
//! ending in a newline, its fields in declaration order (docs/reports.md documents the schema). With
//! `--output json` it is also the summary on stdout.

use crate::report::Report;

impl Report {
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self)
            .expect("invariant: a report of strings, numbers and lists always serializes");
        text.push('\n');
        text
    }
}
