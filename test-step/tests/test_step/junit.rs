//! The JUnit report read back with `roxmltree`, the XML reader xtask's tests use too: it proves
//! the file is well-formed XML 1.0 (tags nest and match, attributes are quoted, every `&` starts a
//! known entity, only characters XML can carry). The report must also start with the declaration
//! it is written with, and its root element must close (which roxmltree 0.14 does not check). The tree is copied into plain owned [`Element`]s, so a parsed report
//! outlives its text.

use std::collections::BTreeMap;

/// What the report writes first.
const DECLARATION: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Element {
    pub name: String,
    pub attrs: BTreeMap<String, String>,
    /// The child elements, in order.
    pub children: Vec<Element>,
    /// The text directly inside, entities resolved.
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

    fn of(node: roxmltree::Node<'_, '_>) -> Self {
        Self {
            name: node.tag_name().name().to_owned(),
            attrs: node
                .attributes()
                .iter()
                .map(|a| (a.name().to_owned(), a.value().to_owned()))
                .collect(),
            children: node
                .children()
                .filter(roxmltree::Node::is_element)
                .map(Self::of)
                .collect(),
            text: node
                .children()
                .filter(roxmltree::Node::is_text)
                .filter_map(|t| t.text())
                .collect(),
        }
    }
}

/// The root element of a JUnit document, or why the document is not one.
pub(crate) fn parse(xml: &str) -> Result<Element, String> {
    if !xml.starts_with(DECLARATION) {
        return Err("the document does not start with the XML declaration".into());
    }
    let document = roxmltree::Document::parse(xml).map_err(|e| e.to_string())?;
    let root = document.root_element();
    // roxmltree 0.14 accepts a root element the text ends inside of: it must close, then only
    // white space may follow.
    let end = root.range().end;
    let closing = format!("</{}>", root.tag_name().name());
    if !(xml[..end].ends_with(&closing) || xml[..end].ends_with("/>"))
        || !xml[end..].trim().is_empty()
    {
        return Err(format!("<{}> is never closed", root.tag_name().name()));
    }
    Ok(Element::of(root))
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
