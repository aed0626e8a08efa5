//! The text of IAM's awsQuery protocol as the stand-in needs it: elements found in an XML
//! answer, XML escaping both ways, and form values encoded for a request to the emulator.
/// The texts of every `<tag>...</tag>` in `xml` (an empty `<tag/>` holds ""), still escaped.
pub(super) fn elements<'a>(xml: &'a str, tag: &str) -> Vec<&'a str> {
    let (open, close, empty) = (format!("<{tag}>"), format!("</{tag}>"), format!("<{tag}/>"));
    let mut found = Vec::new();
    let mut rest = xml;
    loop {
        let (open_at, empty_at) = (rest.find(&open), rest.find(&empty));
        let Some(at) = open_at.into_iter().chain(empty_at).min() else {
            return found;
        };
        if Some(at) == empty_at {
            found.push("");
            rest = &rest[at + empty.len()..];
            continue;
        }
        let after = &rest[at + open.len()..];
        let Some(end) = after.find(&close) else {
            return found;
        };
        found.push(&after[..end]);
        rest = &after[end + close.len()..];
    }
}

/// The text of the first `<tag>` in `xml`.
pub(super) fn element<'a>(xml: &'a str, tag: &str) -> Option<&'a str> {
    elements(xml, tag).into_iter().next()
}

pub(super) fn xml_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&apos;")
}

/// XML text with its five named entities and numeric character references resolved.
pub(super) fn xml_unescape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let entity = after
            .find(';')
            .map(|end| (&after[..end], &after[end + 1..]));
        let resolved = entity.and_then(|(name, tail)| {
            let c = match name {
                "amp" => '&',
                "lt" => '<',
                "gt" => '>',
                "quot" => '"',
                "apos" => '\'',
                _ => {
                    let code = match name.strip_prefix("#x").or_else(|| name.strip_prefix("#X")) {
                        Some(hex) => u32::from_str_radix(hex, 16).ok(),
                        None => name.strip_prefix('#').and_then(|d| d.parse().ok()),
                    };
                    char::from_u32(code?)?
                }
            };
            Some((c, tail))
        });
        let (c, tail) = resolved.unwrap_or(('&', after));
        out.push(c);
        rest = tail;
    }
    out.push_str(rest);
    out
}

/// A form value, every byte but the unreserved ones percent-encoded.
pub(super) fn form_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for byte in value.bytes() {
        if byte.is_ascii_alphanumeric() || b"-_.~".contains(&byte) {
            out.push(byte as char);
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fault_proxy::http::percent_decode;

    #[test]
    fn elements_entities_and_form_values_round_trip() {
        let xml = "<a><member>x&amp;y</member><member/><member>&#x41;&#66;&lt;</member></a>";
        assert_eq!(elements(xml, "member"), ["x&amp;y", "", "&#x41;&#66;&lt;"]);
        let texts: Vec<String> = elements(xml, "member")
            .into_iter()
            .map(xml_unescape)
            .collect();
        assert_eq!(texts, ["x&y", "", "AB<"]);
        assert_eq!(xml_unescape("a & b &bogus; c"), "a & b &bogus; c");
        assert_eq!(element(xml, "none"), None);
        let value = "{\"a\": \"b+c/d é\"}";
        assert_eq!(percent_decode(&form_encode(value)), value);
        assert_eq!(xml_unescape(&xml_escape("<'&\">")), "<'&\">");
    }
}
