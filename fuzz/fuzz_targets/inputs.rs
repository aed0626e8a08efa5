//! The small parsers and namers of the command line: `--wait-timeout` and `--deadline` durations
//! (bounded, never overflowing a timer) and the role session name built from the CodeBuild build
//! id, user and host (always 2 to 64 characters STS accepts). Input: up to four NUL-separated
//! strings (a duration, then a build id, a user and a host).

#![no_main]

use std::time::Duration;

use deploy_core::duration::{parse_duration, parse_duration_at_most};
use deploy_core::session_name::{
    is_session_name_char, session_name, MAX_SESSION_NAME_LEN, MIN_SESSION_NAME_LEN,
};
use libfuzzer_sys::fuzz_target;

const DAY: Duration = Duration::from_secs(24 * 3600);

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut parts = text.split('\0');
    let duration = parts.next().unwrap_or_default();
    if let Ok(bounded) = parse_duration_at_most(duration, DAY) {
        assert!(bounded <= DAY, "{duration:?} gave {bounded:?}");
        assert_eq!(parse_duration(duration), Ok(bounded));
        // What the wait and the deadline do with it must not overflow.
        let _ = std::time::Instant::now() + bounded;
    }
    let (build_id, user, host) = (parts.next(), parts.next(), parts.next());
    let name = session_name(build_id, user, host);
    let length = name.chars().count();
    assert!(
        (MIN_SESSION_NAME_LEN..=MAX_SESSION_NAME_LEN).contains(&length),
        "{name:?}"
    );
    assert!(name.chars().all(is_session_name_char), "{name:?}");
});
