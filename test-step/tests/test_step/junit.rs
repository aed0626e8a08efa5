//! A strict little XML reader for the JUnit report: enough of XML 1.0 to prove the file is
//! well-formed (tags nest and match, attributes are quoted, every `&` starts a known entity, no
//! control characters) and to walk it. The report uses no comments, CDATA or DTD, so those are
//! rejected rather than skipped.

use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    pub children: Vec<Element>,
    pub text: String,
}

impl Element {
    pub fn attr(&self, name: &str) -> &str {
        self.attrs.get(name).map_or_else(
            || panic!("<{}> has no {name} attribute", self.name),
            String::as_str,
        )
    }

    pub fn count(&self, name: &str) -> usize {
        self.children.iter().filter(|c| c.name == name).count()
    }

    pub fn children_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a Element> {
        self.children.iter().filter(move |c| c.name == name)
    }

    /// Every descendant named `name`, depth first.
    pub fn descendants<'a>(&'a self, name: &str, found: &mut Vec<&'a Element>) {
        for child in &self.children {
            if child.name == name {
                found.push(child);
            }
            child.descendants(name, found);
        }
    }
}

pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    if let Some(bad) = xml
        .chars()
        .find(|&c| (c as u32) < 0x20 && !matches!(c, '\t' | '\n' | '\r'))
    {
        return Err(format!("control character {bad:?} in the document"));
    }
    let rest = xml
        .strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>")
        .ok_or("the document does not start with the XML declaration")?;
    let mut reader = Reader { rest };
    reader.skip_space();
    let root = reader.element()?;
    reader.skip_space();
    if !reader.rest.is_empty() {
        return Err(format!(
            "content after the root element: {:.40}",
            reader.rest
        ));
    }
    Ok(root)
}

struct Reader<'a> {
    rest: &'a str,
}

impl Reader<'_> {
    fn skip_space(&mut self) {
        self.rest = self.rest.trim_start();
    }

    fn eat(&mut self, prefix: &str) -> bool {
        match self.rest.strip_prefix(prefix) {
            Some(rest) => {
                self.rest = rest;
                true
            }
            None => false,
        }
    }

    fn name(&mut self) -> Result<String, String> {
        let end = self
            .rest
            .find(|c: char| !(c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':')))
            .unwrap_or(self.rest.len());
        if end == 0 {
            return Err(format!("expected a name at {:.40}", self.rest));
        }
        let name = self.rest[..end].to_owned();
        self.rest = &self.rest[end..];
        Ok(name)
    }

    fn element(&mut self) -> Result<Element, String> {
        if !self.eat("<") {
            return Err(format!("expected an element at {:.40}", self.rest));
        }
        let name = self.name()?;
        let mut attrs = BTreeMap::new();
        loop {
            let had_space = self.rest.starts_with(char::is_whitespace);
            self.skip_space();
            if self.eat("/>") {
                return Ok(Element {
                    name,
                    attrs,
                    children: Vec::new(),
                    text: String::new(),
                });
            }
            if self.eat(">") {
                break;
            }
            if !had_space {
                return Err(format!(
                    "attributes of <{name}> must be separated by spaces"
                ));
            }
            let key = self.name()?;
            if !self.eat("=\"") {
                return Err(format!("attribute {key} of <{name}> is not double-quoted"));
            }
            let end = self
                .rest
                .find('"')
                .ok_or_else(|| format!("attribute {key} of <{name}> is not closed"))?;
            let raw = &self.rest[..end];
            if raw.contains('<') {
                return Err(format!("raw < in attribute {key} of <{name}>"));
            }
            let value = unescape(raw)?;
            self.rest = &self.rest[end + 1..];
            if attrs.insert(key.clone(), value).is_some() {
                return Err(format!("attribute {key} of <{name}> appears twice"));
            }
        }
        let mut children = Vec::new();
        let mut text = String::new();
        loop {
            let next = self
                .rest
                .find('<')
                .ok_or_else(|| format!("<{name}> is never closed"))?;
            text.push_str(&unescape(&self.rest[..next])?);
            self.rest = &self.rest[next..];
            if self.eat("</") {
                let closing = self.name()?;
                if closing != name {
                    return Err(format!("<{name}> closed by </{closing}>"));
                }
                self.skip_space();
                if !self.eat(">") {
                    return Err(format!("</{name}> is not closed with >"));
                }
                return Ok(Element {
                    name,
                    attrs,
                    children,
                    text,
                });
            }
            if self.rest.starts_with("<!") || self.rest.starts_with("<?") {
                return Err("comments, CDATA and processing instructions are not expected".into());
            }
            children.push(self.element()?);
        }
    }
}

fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = raw;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        let end = rest[at..]
            .find(';')
            .ok_or_else(|| format!("unterminated entity in {raw:?}"))?;
        let entity = &rest[at + 1..at + end];
        let c = match entity {
            "amp" => '&',
            "lt" => '<',
            "gt" => '>',
            "quot" => '"',
            "apos" => '\'',
            _ => {
                let code = if let Some(hex) = entity.strip_prefix("#x") {
                    u32::from_str_radix(hex, 16).ok()
                } else if let Some(dec) = entity.strip_prefix('#') {
                    dec.parse().ok()
                } else {
                    None
                };
                code.and_then(char::from_u32)
                    .ok_or_else(|| format!("unknown entity &{entity}; in {raw:?}"))?
            }
        };
        out.push(c);
        rest = &rest[at + end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[test]
fn the_reader_rejects_what_is_not_well_formed() {
    let decl = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    let good = format!("{decl}<a x=\"1 &amp; &#10;2\"><b/><c>t &lt;</c></a>\n");
    let root = parse(&good).unwrap();
    assert_eq!(root.attr("x"), "1 & \n2");
    assert_eq!(root.children[1].text, "t <");
    for bad in [
        "<a></a>".to_owned(),
        format!("{decl}<a><b></a></b>"),
        format!("{decl}<a x=1/>"),
        format!("{decl}<a>&bogus;</a>"),
        format!("{decl}<a>fish & chips</a>"),
        format!("{decl}<a x=\"<\"/>"),
        format!("{decl}<a/><b/>"),
        format!("{decl}<a>\u{1}</a>"),
        format!("{decl}<a>"),
    ] {
        assert!(parse(&bad).is_err(), "{bad:?} should be rejected");
    }
}
