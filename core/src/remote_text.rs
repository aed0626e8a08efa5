//! Text that comes from AWS or from a model (an error message, a FailureReason, a value of an
//! answer) before it reaches a message, a log line or a report: cut to a stated length and with
//! control characters and line separators escaped, so an answer can neither flood the reports
//! nor forge log lines of its own. Reports and logs never hold a request or answer body.

use crate::exit::one_line;

/// A value quoted from an answer (a JSON pointer's value, the Content-Type).
pub const MAX_ANSWER_QUOTE_CHARS: usize = 120;
/// A message of AWS's or a model's (an error message, a FailureReason).
pub const MAX_MESSAGE_CHARS: usize = 500;

/// `text` escaped to one line and cut to `max_chars` characters of the original, with how much
/// was left out.
pub fn contained(text: &str, max_chars: usize) -> String {
    let total = text.chars().count();
    if total <= max_chars {
        return one_line(text);
    }
    let kept: String = text.chars().take(max_chars).collect();
    format!(
        "{}... ({} more characters)",
        one_line(&kept),
        total - max_chars
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remote_text_is_one_line_and_bounded() {
        assert_eq!(contained("short", 10), "short");
        assert_eq!(contained("a\nb\u{2028}c", 10), "a\\nb\\u{2028}c");
        assert_eq!(
            contained(&"x".repeat(25), 10),
            "xxxxxxxxxx... (15 more characters)"
        );
        let cut = contained(&"é\n".repeat(300), MAX_MESSAGE_CHARS);
        assert!(
            !cut.contains('\n') && cut.ends_with("... (100 more characters)"),
            "{cut}"
        );
    }
}
