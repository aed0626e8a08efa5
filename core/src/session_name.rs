//! The role session name test-step assumes each staging role with: the CodeBuild build id when
//! there is one, so CloudTrail in each target account points at the build, else `user@host`,
//! always in the characters and length STS accepts.

/// STS's limits on a role session name.
pub const MAX_SESSION_NAME_LEN: usize = 64;
pub const MIN_SESSION_NAME_LEN: usize = 2;
/// A character STS accepts in a role session name (`[\w+=,.@-]`).
pub fn is_session_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "+=,.@_-".contains(c)
}

/// What a name too short for STS is prefixed with.
const SHORT_NAME_PREFIX: &str = "test-step-";
/// How much of a long build id's end a shortened name keeps: its UUID.
const TAIL: usize = 36;

/// The role session name: the CodeBuild build id when there is one (so CloudTrail in each target
/// account points at the build), else `user@host`. Characters STS refuses become `-`; a name over
/// 64 characters keeps its start and its end (a build id ends with the build's UUID); one under 2
/// is prefixed with `test-step-`.
pub fn session_name(build_id: Option<&str>, user: Option<&str>, host: Option<&str>) -> String {
    let present = |v: Option<&str>| {
        v.map(str::trim)
            .filter(|v| !v.is_empty())
            .map(str::to_owned)
    };
    let raw = match present(build_id) {
        Some(id) => id,
        None => format!(
            "{}@{}",
            present(user).unwrap_or_else(|| "unknown".into()),
            present(host).unwrap_or_else(|| "localhost".into())
        ),
    };
    let clean: Vec<char> = raw
        .chars()
        .map(|c| if is_session_name_char(c) { c } else { '-' })
        .collect();
    if clean.len() < MIN_SESSION_NAME_LEN {
        return SHORT_NAME_PREFIX.chars().chain(clean).collect();
    }
    if clean.len() <= MAX_SESSION_NAME_LEN {
        return clean.into_iter().collect();
    }
    let head = MAX_SESSION_NAME_LEN - TAIL - 1;
    let mut name: String = clean[..head].iter().collect();
    name.push('-');
    name.extend(&clean[clean.len() - TAIL..]);
    name
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_codebuild_build_id_names_the_session_in_sts_characters() {
        assert_eq!(
            session_name(
                Some("churn-test:0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"),
                Some("root"),
                Some("box")
            ),
            "churn-test-0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
        );
    }

    #[test]
    fn a_long_build_id_keeps_its_start_and_its_uuid_within_64_characters() {
        let project = "sagemaker-churn-prediction-modeldeploy-test-project-with-a-long-name";
        let uuid = "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0";
        let name = session_name(Some(&format!("{project}:{uuid}")), None, None);
        assert_eq!(name.len(), MAX_SESSION_NAME_LEN);
        assert!(name.starts_with("sagemaker-churn-prediction"), "{name}");
        assert!(name.ends_with(uuid), "{name}");
    }

    #[test]
    fn outside_codebuild_the_session_is_user_at_host() {
        assert_eq!(
            session_name(None, Some("alice"), Some("laptop.local")),
            "alice@laptop.local"
        );
        assert_eq!(session_name(Some(" "), Some("a b"), None), "a-b@localhost");
        assert_eq!(session_name(None, None, None), "unknown@localhost");
        let name = session_name(None, Some("ünï"), Some("h/st"));
        assert!(name.chars().all(is_session_name_char), "{name}");
    }

    /// Whatever the build id, user and host, the name is 2 to 64 characters STS accepts.
    #[test]
    fn every_name_is_one_sts_accepts() {
        let long = "x".repeat(500);
        let odd = [
            "",
            " ",
            "a",
            "é",
            "\u{0}",
            "a:b",
            "🦀🦀🦀",
            long.as_str(),
            "\n\t",
        ];
        for build_id in odd.iter().map(|v| Some(*v)).chain([None]) {
            for user in odd.iter().map(|v| Some(*v)).chain([None]) {
                for host in [None, Some(""), Some("h"), Some(long.as_str())] {
                    let name = session_name(build_id, user, host);
                    let length = name.chars().count();
                    assert!(
                        (MIN_SESSION_NAME_LEN..=MAX_SESSION_NAME_LEN).contains(&length),
                        "{build_id:?} {user:?} {host:?}: {name:?}"
                    );
                    assert!(name.chars().all(is_session_name_char), "{name:?}");
                }
            }
        }
        assert_eq!(session_name(Some("a"), None, None), "test-step-a");
    }
}
