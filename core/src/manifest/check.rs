//! One response against a case's expectations. Every unmet expectation gives one message, and
//! no message quotes the response body: a failure names the expectation, the response's size and
//! at most the one value a JSON pointer selected, cut to a bounded length.

use serde_json::Value;

use super::{Expect, JsonCheck, MAX_JSON_ANSWER_BYTES};
use crate::remote_text::{contained, MAX_ANSWER_QUOTE_CHARS};

impl Expect {
    /// Checks one response; every unmet expectation gives one message.
    pub fn check(&self, content_type: Option<&str>, body: &[u8]) -> Vec<String> {
        let mut failures = Vec::new();
        if let Some(expected) = &self.content_type {
            match content_type {
                Some(actual) if media_types_match(expected, actual) => {}
                Some(actual) => failures.push(format!(
                    "the response Content-Type is {}, expected {expected}",
                    quote(actual)
                )),
                None => failures.push(format!(
                    "the response has no Content-Type, expected {expected}"
                )),
            }
        }
        if let Some(regex) = &self.body_regex {
            // regex-lite matches text, so bytes that are not UTF-8 become U+FFFD first (`.` and
            // negated classes match them; the full `regex` crate's byte mode would not).
            match regex.is_match(&String::from_utf8_lossy(body)) {
                Ok(true) => {}
                Ok(false) => failures.push(format!(
                    "the response body ({} bytes) does not match body_regex {}",
                    body.len(),
                    regex.as_str()
                )),
                Err(too_costly) => failures.push(too_costly),
            }
        }
        if self.json.is_empty() {
            return failures;
        }
        if body.len() > MAX_JSON_ANSWER_BYTES {
            failures.push(format!(
                "the response body ({} bytes) is over the {MAX_JSON_ANSWER_BYTES}-byte limit of JSON checks, so its JSON expectations cannot be checked",
                body.len()
            ));
            return failures;
        }
        let document: Value = match serde_json::from_slice(body) {
            Ok(document) => document,
            Err(err) => {
                failures.push(format!(
                    "the response body ({} bytes) is not JSON ({err}), so its JSON expectations cannot be checked",
                    body.len()
                ));
                return failures;
            }
        };
        for (pointer, check) in &self.json {
            let Some(actual) = document.pointer(pointer) else {
                failures.push(format!(
                    "{} is missing from the response",
                    show_pointer(pointer)
                ));
                continue;
            };
            if let Some(problem) = check.test(actual) {
                failures.push(format!("{} {problem}", show_pointer(pointer)));
            }
        }
        failures
    }
}

impl JsonCheck {
    /// None when `actual` passes, else what is wrong with it.
    fn test(&self, actual: &Value) -> Option<String> {
        match self {
            JsonCheck::Equals(expected) => (!json_equal(expected, actual))
                .then(|| format!("is {}, expected {expected}", quote(&actual.to_string()))),
            JsonCheck::Range { min, max } => {
                let Some(number) = actual.as_f64() else {
                    return Some(format!("is {}, not a number", quote(&actual.to_string())));
                };
                let below = min.is_some_and(|lo| number < lo);
                let above = max.is_some_and(|hi| number > hi);
                (below || above).then(|| {
                    let show = |b: &Option<f64>| b.map_or_else(|| "..".into(), |v| v.to_string());
                    format!("is {number}, outside [{}, {}]", show(min), show(max))
                })
            }
        }
    }
}

/// JSON equality where numbers compare by value.
fn json_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_f64(), y.as_f64()) {
            // Exact on purpose: `1` equals `1.0`, and a model answering 0.30000000000000004
            // where 0.3 is expected has given another answer.
            #[allow(clippy::float_cmp)]
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(x, y)| json_equal(x, y))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_equal(v, w)))
        }
        _ => a == b,
    }
}

/// `application/json` matches `application/json; charset=utf-8`; with parameters in the
/// expectation, the parameters must match too. Case does not matter.
fn media_types_match(expected: &str, actual: &str) -> bool {
    let parts = |text: &str| -> Vec<String> {
        text.split(';')
            .map(|part| part.trim().to_ascii_lowercase().replace(' ', ""))
            .filter(|part| !part.is_empty())
            .collect()
    };
    let (expected, actual) = (parts(expected), parts(actual));
    if expected.len() <= 1 {
        expected.first() == actual.first()
    } else {
        expected == actual
    }
}

fn show_pointer(pointer: &str) -> String {
    if pointer.is_empty() {
        "the response document".into()
    } else {
        pointer.to_owned()
    }
}

fn quote(text: &str) -> String {
    contained(text, MAX_ANSWER_QUOTE_CHARS)
}
#[cfg(test)]
mod tests {
    use super::*;
    use crate::manifest::parse::ExpectFile;
    use serde_json::json;

    fn expect(value: Value) -> Expect {
        Expect::from_file(serde_json::from_value::<ExpectFile>(value).unwrap()).unwrap()
    }

    #[test]
    fn an_answer_too_big_for_json_checks_fails_them_without_parsing() {
        let e = expect(json!({"json": {"/p": 1}}));
        let huge = vec![b' '; MAX_JSON_ANSWER_BYTES + 1];
        let failures = e.check(None, &huge);
        assert_eq!(failures.len(), 1);
        assert!(
            failures[0].contains("over the 6291456-byte limit of JSON checks"),
            "{failures:?}"
        );
    }

    #[test]
    fn no_expectations_pass_any_response() {
        assert!(Expect::default().check(None, b"\xff anything").is_empty());
    }

    #[test]
    fn content_type_ignores_parameters_unless_asked() {
        let e = expect(json!({"content_type": "application/json"}));
        assert!(e
            .check(Some("Application/JSON; charset=utf-8"), b"")
            .is_empty());
        assert_eq!(
            e.check(Some("text/csv"), b""),
            ["the response Content-Type is text/csv, expected application/json"]
        );
        assert_eq!(e.check(None, b"").len(), 1);
        let strict = expect(json!({"content_type": "text/csv; header=present"}));
        assert!(strict
            .check(Some("text/csv;header=present"), b"")
            .is_empty());
        assert_eq!(strict.check(Some("text/csv"), b"").len(), 1);
    }

    #[test]
    fn body_regex_matches_bytes_and_never_quotes_the_body() {
        let e = expect(json!({"body_regex": "^\\{"}));
        assert!(e.check(None, b"{\"a\": 1}").is_empty());
        let failures = e.check(None, b"secret-looking text");
        assert_eq!(
            failures,
            ["the response body (19 bytes) does not match body_regex ^\\{"]
        );
        assert!(
            e.check(None, b"\xff\xfe").len() == 1,
            "non-UTF-8 bodies are checked, not crashed on"
        );
        assert!(
            expect(json!({"body_regex": "^\\{.\\}$"}))
                .check(None, b"{\xff}")
                .is_empty(),
            "a byte that is not UTF-8 is one character"
        );
    }

    #[test]
    fn json_pointers_check_literals_and_ranges() {
        let e = expect(json!({"json": {
            "/predictions/0": {"min": 0, "max": 1},
            "/model": "demo",
            "/count": 2,
            "/labels": ["a", {"b": 1}],
            "/threshold": {"min": 0.5}
        }}));
        let good = br#"{"predictions": [0.25], "model": "demo", "count": 2.0, "labels": ["a", {"b": 1.0}], "threshold": 0.5}"#;
        assert_eq!(e.check(None, good), Vec::<String>::new());

        let bad = br#"{"predictions": [1.5], "model": "other", "count": "2", "labels": []}"#;
        let failures = e.check(None, bad);
        assert_eq!(
            failures,
            [
                "/count is \"2\", expected 2",
                "/labels is [], expected [\"a\",{\"b\":1}]",
                "/model is \"other\", expected \"demo\"",
                "/predictions/0 is 1.5, outside [0, 1]",
                "/threshold is missing from the response",
            ]
        );
        let not_number = e.check(None, br#"{"predictions": ["x"], "model": "demo", "count": 2, "labels": ["a", {"b": 1}], "threshold": 9}"#);
        assert_eq!(not_number, ["/predictions/0 is \"x\", not a number"]);
        assert!(e.check(None, b"not json")[0].contains("is not JSON"));
    }

    #[test]
    fn an_object_with_other_keys_is_a_literal() {
        let e = expect(json!({"json": {"": {"min": 0, "label": "x"}}}));
        assert!(e.check(None, br#"{"min": 0.0, "label": "x"}"#).is_empty());
        assert_eq!(e.check(None, br#"{"min": 1}"#).len(), 1);
    }

    #[test]
    fn long_values_are_cut_in_messages() {
        let e = expect(json!({"json": {"/v": "short"}}));
        let long = format!("{{\"v\": \"{}\"}}", "y".repeat(500));
        let failures = e.check(None, long.as_bytes());
        assert!(failures[0].len() < 200, "{}", failures[0]);
        assert!(failures[0].contains("..."));
    }
}
