//! A manifest's `expect.body_regex`, with its cost bounded. regex-lite matches in time
//! proportional to the compiled pattern's size times the answer's length, and bounded repeats
//! multiply a pattern's size: `(?:a{1,50}){1,50}b`, 19 characters, compiles to about 180 KB and
//! takes minutes on a 1 MB answer. So the compiled size is bounded when the manifest is read (a
//! pattern over it is bad input, exit 2), and a pattern is matched against an answer only when
//! size times length stays within a budget of a few seconds; otherwise the case fails, saying so,
//! without matching.

use regex_lite::{Regex, RegexBuilder};

/// Largest compiled pattern, in regex-lite's own accounting: everyday patterns compile to under
/// 2 KB; bounded repeats nested in bounded repeats are what reach this.
pub const MAX_COMPILED_BYTES: usize = 32 * 1024;
/// Compiled size times answer length that may be matched: about 7 s in the worst case measured
/// (0.84 ns per unit with the release build), a 2 KB pattern on a 4 MB answer.
pub const MAX_MATCH_WORK: u64 = 8_000_000_000;

/// A checked `body_regex` and its compiled size.
#[derive(Debug, Clone)]
pub struct BodyRegex {
    regex: Regex,
    compiled_bytes: usize,
}

impl BodyRegex {
    /// Compiles `pattern`, refusing one that does not parse or compiles to more than
    /// [`MAX_COMPILED_BYTES`]; the message continues "expect.body_regex ".
    pub fn new(pattern: &str) -> Result<Self, String> {
        let regex = RegexBuilder::new(pattern)
            .size_limit(MAX_COMPILED_BYTES)
            .build()
            .map_err(|err| {
                if Regex::new(pattern).is_ok() {
                    format!(
                        "compiles to more than {MAX_COMPILED_BYTES} bytes, which makes every match slow (a bounded repeat such as {{1,50}} inside another multiplies the size); simplify it"
                    )
                } else {
                    format!("is not a valid regular expression: {err}")
                }
            })?;
        Ok(Self {
            compiled_bytes: compiled_bytes(pattern),
            regex,
        })
    }

    pub fn as_str(&self) -> &str {
        self.regex.as_str()
    }

    /// Whether the pattern matches somewhere in `text`, or, when matching it against this much
    /// text could take more than the budget, the reason it was not tried.
    pub fn is_match(&self, text: &str) -> Result<bool, String> {
        let work = self.compiled_bytes as u64 * text.len() as u64;
        if work > MAX_MATCH_WORK {
            return Err(format!(
                "body_regex {} was not matched against the {}-byte response body: its compiled size ({} bytes) times the body's length is over the budget of {MAX_MATCH_WORK}; simplify the pattern or check a JSON pointer instead",
                self.as_str(),
                text.len(),
                self.compiled_bytes
            ));
        }
        Ok(self.regex.is_match(text))
    }
}

/// The smallest size limit `pattern` compiles under (it compiles under [`MAX_COMPILED_BYTES`]):
/// regex-lite does not report its program's size, so it is found by bisection, a dozen compiles
/// of a pattern already known to be small.
fn compiled_bytes(pattern: &str) -> usize {
    let (mut low, mut high) = (1, MAX_COMPILED_BYTES);
    while low < high {
        let middle = low + (high - low) / 2;
        if RegexBuilder::new(pattern)
            .size_limit(middle)
            .build()
            .is_ok()
        {
            high = middle;
        } else {
            low = middle + 1;
        }
    }
    low
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_bounded_repeats_are_refused_when_read() {
        let err = BodyRegex::new("(?:a{1,50}){1,50}b").unwrap_err();
        assert!(
            err.starts_with("compiles to more than 32768 bytes"),
            "{err}"
        );
        let err = BodyRegex::new("(").unwrap_err();
        assert!(
            err.starts_with("is not a valid regular expression"),
            "{err}"
        );
    }

    #[test]
    fn everyday_patterns_are_small_and_match() {
        let regex = BodyRegex::new(r#""predictions":\s*\[\s*[0-9.]+"#).unwrap();
        assert!(regex.compiled_bytes < 2048, "{}", regex.compiled_bytes);
        assert_eq!(regex.is_match(r#"{"predictions": [0.5]}"#), Ok(true));
        assert_eq!(regex.is_match("{}"), Ok(false));
    }

    #[test]
    fn a_costly_pattern_on_a_long_answer_is_not_matched_at_all() {
        let regex = BodyRegex::new("(?:a{1,20}){1,20}b").unwrap();
        assert!(regex.compiled_bytes > 20_000, "{}", regex.compiled_bytes);
        // A short answer is matched as usual.
        assert_eq!(regex.is_match("aaab"), Ok(true));
        // A megabyte would take about half a minute: refused at once.
        let started = std::time::Instant::now();
        let err = regex.is_match(&"a".repeat(1_000_000)).unwrap_err();
        assert!(started.elapsed() < std::time::Duration::from_secs(1));
        assert!(
            err.contains("was not matched against the 1000000-byte response body"),
            "{err}"
        );
    }
}
