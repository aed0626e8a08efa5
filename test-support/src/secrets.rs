//! Proving that credentials never leak. The assumed-role credentials come from the emulator's own
//! record of what STS issued (`/moto-api/data.json`), not from anything the binaries print, so a
//! binary cannot hide a credential from the check by not mentioning it. The scanner looks for
//! every 20-character window of each secret, in the raw bytes and once more percent-decoded, so a
//! truncated, split-at-the-end or URL-encoded secret is still found.

use std::collections::HashMap;
use std::path::Path;

use crate::moto::http_request;
use crate::Moto;

/// The caller's own credentials for leak tests: any secret works with the emulator, so these are
/// distinctive, and the session token makes the SDK send `X-Amz-Security-Token` on every call.
pub const CALLER_ACCESS_KEY_ID: &str = "AKIALEAKTESTCALLER01";
pub const CALLER_SECRET_ACCESS_KEY: &str = "LeakTestCallerSecret/q7Vd2+Kx9Rm4Tz8Wn3Bh";
pub const CALLER_SESSION_TOKEN: &str =
    "LeakTestCallerSessionToken/FwoGZXIvYXdzEJf+Zq8Lr2Vt6Xn1Mc4Kb9Ws3Hd7Pj0Gy5Ue8Ta2Qo6Ri4El1";

/// The caller's secret key and session token, labelled for [`find_leaks`].
pub fn caller_secrets() -> Vec<(String, String)> {
    vec![
        (
            "the caller's secret access key".to_owned(),
            CALLER_SECRET_ACCESS_KEY.to_owned(),
        ),
        (
            "the caller's session token".to_owned(),
            CALLER_SESSION_TOKEN.to_owned(),
        ),
    ]
}

/// The caller's access key id, labelled for [`assert_found`].
pub fn caller_key_id() -> (String, String) {
    (
        "the caller's access key id".to_owned(),
        CALLER_ACCESS_KEY_ID.to_owned(),
    )
}

/// Windows shorter than this could match by chance; a 20-character run of a random key cannot.
pub const WINDOW: usize = 20;

/// One credential STS issued through AssumeRole, as the emulator recorded it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssumedCredentials {
    pub role_arn: String,
    pub session_name: String,
    /// Not a secret: the positive control of a leak test (the SDK's trace output names key ids).
    pub access_key_id: String,
    pub secret_access_key: String,
    pub session_token: String,
}

impl AssumedCredentials {
    fn whose(&self) -> String {
        format!("{} as {}", self.role_arn, self.session_name)
    }

    /// The access key id, labelled for [`assert_found`].
    pub fn key_id(&self) -> (String, String) {
        (
            format!("the access key id of {}", self.whose()),
            self.access_key_id.clone(),
        )
    }

    /// The secret key and session token, labelled by role and session for [`find_leaks`].
    pub fn secrets(&self) -> [(String, String); 2] {
        let whose = self.whose();
        [
            (
                format!("the secret access key of {whose}"),
                self.secret_access_key.clone(),
            ),
            (
                format!("the session token of {whose}"),
                self.session_token.clone(),
            ),
        ]
    }
}

/// The whole leak check of a run that used the caller's credentials and `assumed`: the same scan
/// that must find no secret key or session token of any of them in `outputs` must find every
/// access key id (not secret; the SDK's trace output names them), or it proves nothing.
#[track_caller]
pub fn assert_only_key_ids_shown(outputs: &[Output], assumed: &[AssumedCredentials]) {
    let mut key_ids = vec![caller_key_id()];
    key_ids.extend(assumed.iter().map(AssumedCredentials::key_id));
    assert_found(outputs, &key_ids);
    let mut secrets = caller_secrets();
    secrets.extend(assumed.iter().flat_map(AssumedCredentials::secrets));
    assert_no_leaks(outputs, &secrets);
}

/// Every credential the emulator has issued through AssumeRole, by any caller.
pub fn assumed_role_credentials(moto: &Moto) -> Vec<AssumedCredentials> {
    let (status, body) = http_request(moto.port, "GET", "/moto-api/data.json", "")
        .expect("the emulator answers /moto-api/data.json");
    assert_eq!(status, 200, "/moto-api/data.json: HTTP {status}");
    let data: serde_json::Value = serde_json::from_str(&body).expect("data.json is JSON");
    let field = |role: &serde_json::Value, key: &str| {
        role[key]
            .as_str()
            .unwrap_or_else(|| panic!("an AssumedRole without {key}: {role}"))
            .to_owned()
    };
    data["sts"]["AssumedRole"]
        .as_array()
        .map(Vec::as_slice)
        .unwrap_or_default()
        .iter()
        .map(|role| AssumedCredentials {
            role_arn: field(role, "role_arn"),
            session_name: field(role, "session_name"),
            access_key_id: field(role, "access_key_id"),
            secret_access_key: field(role, "secret_access_key"),
            session_token: field(role, "session_token"),
        })
        .collect()
}

/// Something a run produced: a stream or a file, by name.
pub struct Output {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Output {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Self {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

/// The two streams of a run made at trace level, after checking that the SDK's own trace output
/// (its signing lines) was really on: without it a run proves nothing about what the SDK logs.
pub fn traced_streams(format: &str, out: crate::CliOutput) -> [Output; 2] {
    let sdk_trace_lines = out
        .stderr
        .lines()
        .filter(|l| l.contains("TRACE") && l.contains("sigv4"))
        .count();
    assert!(
        sdk_trace_lines > 0,
        "no SDK signing trace in the {format} log:\n{}",
        out.stderr
    );
    [
        Output::new(format!("stdout ({format})"), out.stdout),
        Output::new(format!("stderr ({format})"), out.stderr),
    ]
}

/// Every file under `dir`, recursively, as outputs named by their path.
pub fn files_under(dir: &Path) -> Vec<Output> {
    let mut outputs = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
        let path = entry.expect("a directory entry").path();
        if path.is_dir() {
            outputs.extend(files_under(&path));
        } else {
            let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            outputs.push(Output::new(path.display().to_string(), bytes));
        }
    }
    outputs
}

/// Where secrets were found: (output name, secret label) pairs, empty when nothing leaked.
/// `secrets` maps a label (never the secret itself, so a failure message leaks nothing) to a secret.
pub fn find_leaks(outputs: &[Output], secrets: &[(String, String)]) -> Vec<(String, String)> {
    let mut windows: HashMap<&[u8], &str> = HashMap::new();
    for (label, secret) in secrets {
        let bytes = secret.as_bytes();
        assert!(
            bytes.len() >= WINDOW,
            "{label} is shorter than {WINDOW} bytes: too short to scan for"
        );
        for window in bytes.windows(WINDOW) {
            windows.insert(window, label);
        }
    }
    let mut leaks = Vec::new();
    for output in outputs {
        for haystack in [output.bytes.clone(), percent_decode(&output.bytes)] {
            for window in haystack.windows(WINDOW) {
                if let Some(label) = windows.get(window) {
                    let leak = (output.name.clone(), (*label).to_owned());
                    if !leaks.contains(&leak) {
                        leaks.push(leak);
                    }
                }
            }
        }
    }
    leaks
}

/// The positive control of a leak test: every labelled value (access key ids, which the SDK's
/// trace output prints) must be found by the same scan, or the scan proves nothing.
#[track_caller]
pub fn assert_found(outputs: &[Output], values: &[(String, String)]) {
    let found: Vec<String> = find_leaks(outputs, values)
        .into_iter()
        .map(|(_, label)| label)
        .collect();
    let missing: Vec<&String> = values
        .iter()
        .map(|(label, _)| label)
        .filter(|label| !found.contains(label))
        .collect();
    assert!(
        missing.is_empty(),
        "the scan did not find {missing:?} in the outputs, so it cannot be trusted to find secrets"
    );
}

/// Fails the test naming each output and secret that leaked (by label only).
#[track_caller]
pub fn assert_no_leaks(outputs: &[Output], secrets: &[(String, String)]) {
    let leaks = find_leaks(outputs, secrets);
    assert!(
        leaks.is_empty(),
        "secrets leaked (output, secret): {leaks:#?}"
    );
}

/// `%2B` becomes `+` and so on; anything that is not a valid escape is kept as it is.
fn percent_decode(bytes: &[u8]) -> Vec<u8> {
    let hex = |b: u8| (b as char).to_digit(16).map(|d| d as u8);
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if let (b'%', Some(&hi), Some(&lo)) = (bytes[i], bytes.get(i + 1), bytes.get(i + 2)) {
            if let (Some(hi), Some(lo)) = (hex(hi), hex(lo)) {
                out.push(hi << 4 | lo);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

    fn secrets() -> Vec<(String, String)> {
        vec![("the secret key".to_owned(), SECRET.to_owned())]
    }

    fn leaks_in(text: &str) -> Vec<(String, String)> {
        find_leaks(&[Output::new("stderr", text)], &secrets())
    }

    #[test]
    fn a_planted_secret_is_found_whole_truncated_and_percent_encoded() {
        let found = vec![("stderr".to_owned(), "the secret key".to_owned())];
        assert_eq!(leaks_in(&format!("DEBUG creds={SECRET} ok")), found);
        assert_eq!(leaks_in(&format!("key={}...", &SECRET[..WINDOW])), found);
        assert_eq!(
            leaks_in(&format!("...{}", &SECRET[SECRET.len() - WINDOW..])),
            found
        );
        assert_eq!(
            leaks_in("q=wJalrXUtnFEMI%2FK7MDENG%2BbPxRfiCYEXAMPLEKEY&x=1"),
            found
        );
    }

    #[test]
    fn text_without_the_secret_is_clean() {
        assert!(leaks_in("").is_empty());
        assert!(leaks_in(&SECRET[..WINDOW - 1]).is_empty());
        assert!(leaks_in("AccessKeyId=ASIA0000 SecretAccessKey=** redacted **").is_empty());
    }

    #[test]
    fn every_output_that_leaks_is_named() {
        let outputs = [
            Output::new("stdout", "clean"),
            Output::new("report.json", format!("{{\"k\": \"{SECRET}\"}}")),
            Output::new("stderr", SECRET),
        ];
        let leaks: Vec<String> = find_leaks(&outputs, &secrets())
            .into_iter()
            .map(|(name, _)| name)
            .collect();
        assert_eq!(leaks, ["report.json", "stderr"]);
    }

    #[test]
    fn percent_decoding_keeps_what_is_not_an_escape() {
        assert_eq!(percent_decode(b"a%2Fb%zz%4"), b"a/b%zz%4");
    }
}
