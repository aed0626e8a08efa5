//! YAML loaded in bounded memory. A YAML alias stands for a copy of its anchor's node, and the
//! loader makes that copy: ten aliases of ten aliases, eight levels deep, are 10^8 nodes from a few
//! hundred bytes. So the text is first walked as events, counting the nodes the loaded document
//! would hold (an alias counting as many as its anchor), and it is loaded only when that stays
//! within a bound. The walk holds one number per anchor and per open collection, whatever the text
//! expands to; the parser itself refuses collections nested more than a few hundred deep.

use std::collections::HashMap;

use thiserror::Error;
use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::{Yaml, YamlLoader};

/// Nodes a loaded document may hold: the built-in endpoint template holds about 1,500 and the
/// largest template CodePipeline takes (460,800 bytes) could hold about 100,000 written out.
pub const MAX_NODES: u64 = 200_000;

/// Why a text was not loaded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum YamlLimit {
    /// Not YAML: the parser's message.
    #[error("is not valid YAML: {0}")]
    Invalid(String),
    /// Would expand to more than [`MAX_NODES`] nodes (aliases of aliases).
    #[error("would expand to more than {MAX_NODES} YAML nodes (aliases that repeat aliases?); write the repeated parts out or remove the aliases")]
    TooManyNodes,
}

/// The documents of `text`, once their expanded size is known to be within bounds.
pub fn load(text: &str) -> Result<Vec<Yaml>, YamlLimit> {
    check_expansion(text)?;
    YamlLoader::load_from_str(text).map_err(|e| YamlLimit::Invalid(e.to_string()))
}

/// Walks the events of `text`, counting what loading it would build.
fn check_expansion(text: &str) -> Result<(), YamlLimit> {
    let mut parser = Parser::new_from_str(text);
    // The expanded size of each anchored node, and of each collection still open.
    let mut anchors: HashMap<usize, u64> = HashMap::new();
    let mut open: Vec<(usize, u64)> = Vec::new();
    let mut total: u64 = 0;
    loop {
        let (event, _) = parser
            .next_token()
            .map_err(|e| YamlLimit::Invalid(e.to_string()))?;
        let finished = match event {
            Event::StreamEnd => return Ok(()),
            Event::Scalar(_, _, anchor, _) => Some((anchor, 1)),
            Event::Alias(anchor) => Some((0, anchors.get(&anchor).copied().unwrap_or(1))),
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                open.push((anchor, 1));
                None
            }
            Event::SequenceEnd | Event::MappingEnd => open.pop(),
            _ => None,
        };
        let Some((anchor, size)) = finished else {
            continue;
        };
        if anchor > 0 {
            anchors.insert(anchor, size);
        }
        // A node counts where it is written, and again inside every collection that holds it
        // until that collection ends; the document's count is what the loader allocates.
        match open.last_mut() {
            Some((_, parent)) => *parent = parent.saturating_add(size),
            None => total = total.saturating_add(size),
        }
        if total > MAX_NODES || open.last().is_some_and(|(_, size)| *size > MAX_NODES) {
            return Err(YamlLimit::TooManyNodes);
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// Eight levels of ten aliases each: 10^8 nodes from a few hundred bytes.
    pub(crate) fn alias_bomb() -> String {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..8 {
            let previous = format!("*a{}", level - 1);
            let items = [previous.as_str(); 10].join(", ");
            text.push_str(&format!("a{level}: &a{level} [{items}]\n"));
        }
        text
    }

    #[test]
    fn nested_aliases_are_refused_before_they_are_expanded() {
        let text = alias_bomb();
        assert!(text.len() < 600, "{} bytes", text.len());
        assert_eq!(load(&text), Err(YamlLimit::TooManyNodes));
    }

    #[test]
    fn a_few_aliases_load_as_copies() {
        let docs = load("base: &b {x: 1}\none: *b\ntwo: *b\n").unwrap();
        assert_eq!(docs[0]["two"]["x"], Yaml::Integer(1));
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(matches!(load(&text), Err(YamlLimit::Invalid(_))));
    }

    #[test]
    fn invalid_yaml_says_so() {
        assert!(matches!(load("a: [b"), Err(YamlLimit::Invalid(_))));
    }
}
