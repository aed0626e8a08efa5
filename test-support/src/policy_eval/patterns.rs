//! Matching with IAM's wildcards and policy variables: a policy value compiled to a pattern (`*`,
//! `?` and `${key}` replaced from the request's keys), matched against text, or an ARN field by
//! field. The Action and Resource elements and the string and ARN operators all match this way.

use super::request::Context;

pub(super) fn text_matches(
    pat: &str,
    vars: Option<&Context>,
    like: bool,
    text: &str,
    icase: bool,
) -> bool {
    compile(pat, vars, like).is_some_and(|p| glob(&p, text, icase))
}

/// A pattern character: literal, `*` (any run, `:` and `/` included) or `?` (one character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Pat {
    Char(char),
    Star,
    One,
}

/// `text` as a pattern, `${key}` replaced from `vars` when given (`${*}`, `${?}` and `${$}`
/// stand for those characters). `None` when a variable is undefined or multivalued: that value
/// then matches nothing (variables page, "Policy variables with no value").
pub(super) fn compile(text: &str, vars: Option<&Context>, wildcards: bool) -> Option<Vec<Pat>> {
    let (mut out, mut rest) = (Vec::new(), text);
    while let Some(c) = rest.chars().next() {
        if let (Some(context), Some(after)) = (vars, rest.strip_prefix("${")) {
            let end = after.find('}')?;
            let value = match after[..end].trim() {
                special @ ("*" | "?" | "$") => special.to_owned(),
                name => match context.get(name)? {
                    [single] => single.clone(),
                    _ => return None,
                },
            };
            out.extend(value.chars().map(Pat::Char));
            rest = &after[end + 1..];
            continue;
        }
        out.push(match c {
            '*' if wildcards => Pat::Star,
            '?' if wildcards => Pat::One,
            c => Pat::Char(c),
        });
        rest = &rest[c.len_utf8()..];
    }
    Some(out)
}

fn glob(pattern: &[Pat], text: &str, ignore_case: bool) -> bool {
    let text: Vec<char> = text.chars().collect();
    let same = |a: char, b: char| a == b || (ignore_case && a.to_lowercase().eq(b.to_lowercase()));
    let (mut p, mut t, mut star) = (0, 0, None);
    while t < text.len() {
        match pattern.get(p) {
            Some(Pat::Star) => (p, star) = (p + 1, Some((p, t))),
            Some(Pat::One) => (p, t) = (p + 1, t + 1),
            Some(Pat::Char(c)) if same(*c, text[t]) => (p, t) = (p + 1, t + 1),
            _ => {
                // Backtrack: the last `*` swallows one more character.
                let Some((star_p, star_t)) = star else {
                    return false;
                };
                (p, t, star) = (star_p + 1, star_t + 1, Some((star_p, star_t + 1)));
            }
        }
    }
    pattern[p..].iter().all(|x| *x == Pat::Star)
}

/// ArnLike: "each of the six colon-delimited components of the ARN is checked separately".
pub(super) fn arn_like(pattern: &[Pat], request: &str) -> bool {
    let parts: Vec<&[Pat]> = pattern.splitn(6, |x| *x == Pat::Char(':')).collect();
    if parts.len() < 6 {
        return glob(pattern, request, false);
    }
    let values: Vec<&str> = request.splitn(6, ':').collect();
    values.len() == 6 && (0..6).all(|i| glob(parts[i], values[i], false))
}
