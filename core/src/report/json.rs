//! The JSON report, `test-results.json`: the whole [`Report`](super::Report) as one pretty-printed
//! document ending in a newline, its fields in declaration order (docs/reports.md documents the
//! schema). With `--output json` it is also the summary on stdout. The fleet reports
//! (`preflight-results.json`, `status-results.json`) are written the same way.

use serde::Serialize;

/// A report (the test report, a fleet report) as its JSON document: pretty-printed, its fields in
/// declaration order, ending in a newline. `Report::to_json` and `FleetReport::to_json` call it.
pub(crate) fn to_json(report: &impl Serialize) -> String {
    let mut text = serde_json::to_string_pretty(report)
        .expect("invariant: a report of strings, numbers and lists always serializes");
    text.push('\n');
    text
}
