//! Durations as people write and read them: `--wait-timeout 1h30m` in, `waited 2m30s` out.

use std::time::Duration;

/// `90`, `90s`, `30m`, `1h30m`: a whole number of seconds, minutes or hours, or a sum of them.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let invalid = || format!("\"{text}\" is not a duration; write it like 30m, 90s, 1h or 1h30m");
    if text.is_empty() {
        return Err(invalid());
    }
    if let Ok(seconds) = text.parse::<u64>() {
        return Ok(Duration::from_secs(seconds));
    }
    let mut total: u64 = 0;
    let mut digits = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            digits.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            _ => return Err(invalid()),
        };
        let value: u64 = digits.parse().map_err(|_| invalid())?;
        total = value
            .checked_mul(unit)
            .and_then(|v| total.checked_add(v))
            .ok_or_else(invalid)?;
        digits.clear();
    }
    if !digits.is_empty() {
        return Err(invalid());
    }
    Ok(Duration::from_secs(total))
}

/// [`parse_duration`], refusing anything longer than `max` (a timer that far out would overflow
/// the clock, and no build runs that long).
pub fn parse_duration_at_most(text: &str, max: Duration) -> Result<Duration, String> {
    let duration = parse_duration(text)?;
    if duration > max {
        return Err(format!(
            "\"{}\" is longer than the longest allowed, {}; write a shorter duration",
            text.trim(),
            human(max)
        ));
    }
    Ok(duration)
}

/// `45s`, `2m30s`, `1h5m0s`.
pub fn human(d: Duration) -> String {
    let total = d.as_secs();
    let (h, m, s) = (total / 3600, (total % 3600) / 60, total % 60);
    match (h, m) {
        (0, 0) => format!("{s}s"),
        (0, _) => format!("{m}m{s}s"),
        _ => format!("{h}h{m}m{s}s"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_parse_in_every_documented_form() {
        for (text, seconds) in [
            ("90", 90),
            ("90s", 90),
            ("30m", 1800),
            ("1h", 3600),
            ("1h30m", 5400),
            ("0", 0),
        ] {
            assert_eq!(
                parse_duration(text),
                Ok(Duration::from_secs(seconds)),
                "{text}"
            );
        }
        for bad in ["", "m", "30x", "1.5h", "-5m", "30m5"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn a_bounded_duration_refuses_what_would_overflow_a_timer() {
        let day = Duration::from_hours(24);
        assert_eq!(parse_duration_at_most("24h", day), Ok(day));
        for huge in [
            "24h1s",
            "18446744073709551615s",
            "18446744073709551615",
            "999999999h",
        ] {
            let err = parse_duration_at_most(huge, day).unwrap_err();
            assert!(
                err.contains("longer than the longest allowed, 24h0m0s")
                    || err.contains("is not a duration"),
                "{huge}: {err}"
            );
        }
    }

    #[test]
    fn durations_read_like_people_write_them() {
        assert_eq!(human(Duration::from_secs(45)), "45s");
        assert_eq!(human(Duration::from_secs(150)), "2m30s");
        assert_eq!(human(Duration::from_mins(65)), "1h5m0s");
    }
}
