//! The docs point at each other, and every pointer leads somewhere. The README says what the
//! project is and where to read on (at most 300 lines); `docs/`, `CONTRIBUTING.md` and
//! `bench/README.md` hold the rest, and `templates/iam/README.md` points into them. Every relative
//! markdown link in those files, `[x](path)` or `[x](path#anchor)`, must lead to a file of this
//! repository and, with an anchor, to a heading of that file by GitHub's slug rules (lower case, spaces to `-`, punctuation dropped except `-` and
//! `_`, a repeated heading numbered `-1`, `-2`, ...). The repository speaks of itself only: no
//! link leaves it, and no text cites an issue or pull request number. Links inside code (fenced
//! blocks and inline spans) are text, not links. Beyond the markdown, every path of the repository
//! that a source, template or script names outside the tests exists.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Component, Path, PathBuf};

use test_support::tools::repo_root;

const README_MAX_LINES: usize = 300;

/// The documents whose links are checked, relative to the repository root, sorted.
fn documents(root: &Path) -> Vec<PathBuf> {
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ exists")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .map(|p| p.strip_prefix(root).expect("under the root").to_owned())
        .collect();
    // templates/iam/README.md points into docs/ too; seed-repo/README.md is the seed's, whose links
    // would resolve in the team's repository, not here.
    docs.extend(
        [
            "README.md",
            "CONTRIBUTING.md",
            "bench/README.md",
            "templates/iam/README.md",
        ]
        .map(PathBuf::from),
    );
    docs.sort();
    docs
}

/// The text outside fenced code blocks, each fenced line left empty so line numbers stay those of
/// the file.
fn outside_fences(text: &str) -> String {
    let mut outside = String::with_capacity(text.len());
    let mut fence: Option<String> = None;
    for line in text.lines() {
        let trimmed = line.trim();
        let marker: String = trimmed
            .chars()
            .take_while(|c| *c == '`' || *c == '~')
            .collect();
        let is_fence = marker.len() >= 3
            && (marker.chars().all(|c| c == '`') || marker.chars().all(|c| c == '~'));
        match &fence {
            Some(open) if trimmed == marker && marker.starts_with(open.as_str()) => fence = None,
            Some(_) => {}
            None if is_fence => fence = Some(marker),
            None => outside.push_str(line),
        }
        outside.push('\n');
    }
    outside
}

/// The text outside code: fenced blocks become empty lines and inline code spans spaces, so line
/// numbers stay those of the file.
fn prose(text: &str) -> String {
    blank_code_spans(&outside_fences(text))
}

/// Inline code spans (a run of backticks up to the next run of the same length) as spaces.
fn blank_code_spans(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out: Vec<char> = chars.clone();
    let run_at = |i: usize| chars[i..].iter().take_while(|c| **c == '`').count();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] != '`' {
            i += 1;
            continue;
        }
        let open = run_at(i);
        let mut j = i + open;
        let mut close = None;
        while j < chars.len() {
            if chars[j] == '`' {
                let run = run_at(j);
                if run == open {
                    close = Some(j);
                    break;
                }
                j += run;
            } else {
                j += 1;
            }
        }
        match close {
            Some(j) => {
                for c in &mut out[i..j + open] {
                    if *c != '\n' {
                        *c = ' ';
                    }
                }
                i = j + open;
            }
            None => i += open,
        }
    }
    out.into_iter().collect()
}

/// GitHub's anchor for a heading's text.
fn slug(heading: &str) -> String {
    without_link_targets(heading)
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

/// `[text](target)` as `text`, the way a heading renders.
fn without_link_targets(text: &str) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find("](") {
        out.push_str(&rest[..at]);
        let after = &rest[at + 2..];
        rest = after.find(')').map_or("", |end| &after[end + 1..]);
    }
    out.push_str(rest);
    out.replace('[', "")
}

/// The anchors of a markdown text's headings, code excluded.
fn anchors(text: &str) -> BTreeSet<String> {
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    let mut anchors = BTreeSet::new();
    // Headings keep their code spans' text: GitHub drops only the backticks.
    let text = outside_fences(text);
    for line in text.lines() {
        let line = line.trim_start();
        let level = line.chars().take_while(|c| *c == '#').count();
        if !(1..=6).contains(&level) || !line[level..].starts_with(' ') {
            continue;
        }
        let title = line[level..].trim().trim_end_matches('#').trim();
        let base = slug(title);
        let count = seen.entry(base.clone()).or_insert(0);
        anchors.insert(if *count == 0 {
            base
        } else {
            format!("{base}-{count}")
        });
        *count += 1;
    }
    anchors
}

/// Every link target in a markdown text outside code, with its line number.
fn links(text: &str) -> Vec<(usize, String)> {
    let prose = prose(text);
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(at) = prose[from..].find("](") {
        let start = from + at + 2;
        let mut depth = 0usize;
        let mut end = start;
        for (i, c) in prose[start..].char_indices() {
            match c {
                '(' => depth += 1,
                ')' if depth == 0 => {
                    end = start + i;
                    break;
                }
                ')' => depth -= 1,
                c if c.is_whitespace() => {
                    end = start + i;
                    break;
                }
                _ => {}
            }
            end = start + i + c.len_utf8();
        }
        let target = prose[start..end]
            .trim_start_matches('<')
            .trim_end_matches('>');
        let line = prose[..start].matches('\n').count() + 1;
        found.push((line, target.to_owned()));
        from = end.max(start);
    }
    found
}

/// `#123`-style references to issues or pull requests in a text outside code.
fn issue_numbers(text: &str) -> Vec<(usize, String)> {
    let prose = prose(text);
    let mut found = Vec::new();
    for (n, line) in prose.lines().enumerate() {
        let chars: Vec<char> = line.chars().collect();
        for (i, c) in chars.iter().enumerate() {
            // `(#anchor)` after `]` is a link, not a citation.
            let starts_word = i == 0
                || chars[i - 1].is_whitespace()
                || (chars[i - 1] == '(' && (i < 2 || chars[i - 2] != ']'));
            if *c == '#' && starts_word && chars.get(i + 1).is_some_and(char::is_ascii_digit) {
                let number: String = chars[i..]
                    .iter()
                    .take_while(|c| **c == '#' || c.is_ascii_digit())
                    .collect();
                found.push((n + 1, number));
            }
        }
        for word in line.split(|c: char| c.is_whitespace() || c == '(' || c == ')') {
            if word.contains("github.com/")
                && (word.contains("/issues/") || word.contains("/pull/"))
            {
                found.push((n + 1, word.to_owned()));
            }
        }
    }
    found
}

/// `a/./b/../c` as `a/c`; `None` when it climbs above its start (out of the repository).
fn normalized(path: &Path) -> Option<PathBuf> {
    let mut parts: Vec<&std::ffi::OsStr> = Vec::new();
    for part in path.components() {
        match part {
            Component::Normal(name) => parts.push(name),
            Component::CurDir => {}
            Component::ParentDir => {
                parts.pop()?;
            }
            Component::RootDir | Component::Prefix(_) => return None,
        }
    }
    Some(parts.iter().collect())
}

/// What is wrong with the links of `docs` (relative to `root`): one line per broken link, naming
/// the file, the line and the target.
fn broken_links(root: &Path, docs: &[PathBuf]) -> Vec<String> {
    let read = |relative: &Path| std::fs::read_to_string(root.join(relative)).ok();
    let mut problems = Vec::new();
    for doc in docs {
        let Some(text) = read(doc) else {
            problems.push(format!("{}: cannot be read", doc.display()));
            continue;
        };
        let dir = doc.parent().unwrap_or(Path::new(""));
        for (line, target) in links(&text) {
            let at = format!("{}:{line}: ({target})", doc.display());
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (path, anchor) = match target.split_once('#') {
                Some((path, anchor)) => (path, Some(anchor)),
                None => (target.as_str(), None),
            };
            let file = if path.is_empty() {
                doc.clone()
            } else if path.starts_with('/') {
                problems.push(format!("{at}: an absolute path; link relative to the file"));
                continue;
            } else {
                let Some(file) = normalized(&dir.join(path)) else {
                    problems.push(format!("{at}: leads out of the repository"));
                    continue;
                };
                file
            };
            if !root.join(&file).exists() {
                problems.push(format!("{at}: no such file {}", file.display()));
                continue;
            }
            if let Some(anchor) = anchor {
                let headings = read(&file).map(|t| anchors(&t)).unwrap_or_default();
                if !headings.contains(anchor) {
                    problems.push(format!("{at}: {} has no heading #{anchor}", file.display()));
                }
            }
        }
        for (line, number) in issue_numbers(&text) {
            problems.push(format!(
                "{}:{line}: {number} cites an issue; say what it was instead",
                doc.display()
            ));
        }
    }
    problems
}

/// What is wrong with the README's length, if anything.
fn readme_too_long(readme: &str) -> Option<String> {
    let lines = readme.lines().count();
    (lines > README_MAX_LINES).then(|| {
        format!(
            "README.md has {lines} lines, more than {README_MAX_LINES}: move the detail into docs/ and point to it"
        )
    })
}

#[test]
fn every_link_between_the_docs_leads_to_a_file_and_heading_of_the_repository() {
    let root = repo_root();
    let docs = documents(&root);
    assert!(docs.len() > 4, "{docs:?}");
    // The parser finds the links there are (a checker that finds none passes everything).
    let relative = docs
        .iter()
        .flat_map(|doc| links(&std::fs::read_to_string(root.join(doc)).unwrap()))
        .filter(|(_, target)| !target.contains("://"))
        .count();
    assert!(relative > 50, "only {relative} relative links found");
    let problems = broken_links(&root, &docs);
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn the_readme_is_short_and_points_to_every_doc() {
    let root = repo_root();
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    if let Some(problem) = readme_too_long(&readme) {
        panic!("{problem}");
    }
    let linked: BTreeSet<PathBuf> = links(&readme)
        .into_iter()
        .map(|(_, target)| PathBuf::from(target.split('#').next().unwrap_or_default()))
        .collect();
    let unlinked: Vec<PathBuf> = documents(&root)
        .into_iter()
        .filter(|doc| doc != Path::new("README.md") && !linked.contains(doc))
        .collect();
    assert!(
        unlinked.is_empty(),
        "the README's \"Where to read on\" does not point to {unlinked:?}"
    );
}

/// The checker itself: a broken file, a missing heading, a link out of the repository, an issue
/// number are reported; links in code and links that resolve are not.
#[test]
fn a_broken_link_is_reported() {
    let root = tempfile::tempdir().unwrap();
    std::fs::create_dir(root.path().join("docs")).unwrap();
    std::fs::write(
        root.path().join("docs/guide.md"),
        "# Guide\n\n## Publishing: `cargo xtask publish`\n\n```sh\n# not a heading\n```\n\n## Guide\n",
    )
    .unwrap();
    std::fs::write(
        root.path().join("README.md"),
        "# Title\n\n\
         [fine](docs/guide.md) [fine](docs/guide.md#publishing-cargo-xtask-publish)\n\
         [fine](docs/guide.md#guide-1) [fine](#title) [fine](https://docs.aws.amazon.com/x.html)\n\
         [gone](docs/gone.md)\n\
         [no heading](docs/guide.md#not-a-heading)\n\
         [outside](../elsewhere/README.md)\n\
         [no anchor here](#nowhere)\n\
         fixed in #42\n\
         `[in code](docs/gone.md)`\n\
         ```\n[in a fence](docs/gone.md)\n```\n",
    )
    .unwrap();
    let problems = broken_links(root.path(), &[PathBuf::from("README.md")]);
    let expected = [
        "README.md:5: (docs/gone.md): no such file docs/gone.md",
        "README.md:6: (docs/guide.md#not-a-heading): docs/guide.md has no heading #not-a-heading",
        "README.md:7: (../elsewhere/README.md): leads out of the repository",
        "README.md:8: (#nowhere): README.md has no heading #nowhere",
        "README.md:9: #42 cites an issue; say what it was instead",
    ];
    assert_eq!(problems, expected);
}

#[test]
fn anchors_follow_githubs_slugs() {
    assert_eq!(
        slug("Publishing: `cargo xtask publish`"),
        "publishing-cargo-xtask-publish"
    );
    assert_eq!(
        slug("What the seed's scripts did, and the defects fixed"),
        "what-the-seeds-scripts-did-and-the-defects-fixed"
    );
    assert_eq!(
        slug("The JSON report (`schema_version` 1)"),
        "the-json-report-schema_version-1"
    );
    assert_eq!(
        slug("`test-step`: testing the staging endpoints"),
        "test-step-testing-the-staging-endpoints"
    );
    assert_eq!(
        anchors("# Notes\n## Notes\n### Notes\n"),
        BTreeSet::from(["notes".into(), "notes-1".into(), "notes-2".into()])
    );
}

#[test]
fn a_readme_over_300_lines_is_reported() {
    let at_limit = "line\n".repeat(README_MAX_LINES);
    assert_eq!(readme_too_long(&at_limit), None);
    let over = format!("{at_limit}one more\n");
    assert!(readme_too_long(&over).is_some_and(|p| p.contains("301 lines")));
}

/// The folders of this repository a path in its text starts with.
const TOP_FOLDERS: [&str; 14] = [
    "core/",
    "shell/",
    "build-step/",
    "test-step/",
    "test-support/",
    "xtask/",
    "templates/",
    "scripts/",
    "docs/",
    "test/",
    "bench/",
    "fuzz/",
    "seed-repo/",
    ".ci/",
];

/// Every `core/src/x.rs`-style path in `text` (a top folder, then path characters, not inside
/// another word or path), without a trailing `.`; paths with a wildcard or placeholder are left
/// out.
fn repository_paths(text: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "_./-".contains(c);
    let mut found = Vec::new();
    for (at, _) in text.char_indices() {
        let before = text[..at].chars().next_back();
        if before.is_some_and(is_path_char) {
            continue;
        }
        let rest = &text[at..];
        // A crate's `src/` or `tests/` under any name: a crate that was renamed is caught too.
        let crate_path = rest.split_once('/').is_some_and(|(first, after)| {
            !first.is_empty()
                && first
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '-' || c == '_')
                && (after.starts_with("src/") || after.starts_with("tests/"))
        });
        if !crate_path && !TOP_FOLDERS.iter().any(|top| rest.starts_with(top)) {
            continue;
        }
        let end = rest.find(|c: char| !is_path_char(c)).unwrap_or(rest.len());
        let next = rest[end..].chars().next();
        if next.is_some_and(|c| "*{<$".contains(c)) {
            continue;
        }
        found.push(rest[..end].trim_end_matches('.').to_owned());
    }
    found
}

/// The files git tracks under `root` that match `patterns` (all of them for none).
fn tracked(root: &Path, patterns: &[&str]) -> Vec<String> {
    let listed = std::process::Command::new("git")
        .arg("-C")
        .arg(root)
        .args(["ls-files", "-z"])
        .args(patterns)
        .output()
        .expect("git runs");
    assert!(listed.status.success(), "git ls-files");
    String::from_utf8(listed.stdout)
        .expect("UTF-8 file names")
        .split('\0')
        .filter(|f| !f.is_empty())
        .map(str::to_owned)
        .collect()
}

/// Outside the tests (whose fixtures name files they create), every path of this repository
/// that a source, template, script or document names exists: a comment that points at a moved
/// or renamed file misleads the next reader.
#[test]
fn every_repository_path_named_outside_the_tests_exists() {
    let root = repo_root();
    let files = tracked(&root, &[]);
    let mut missing = Vec::new();
    let mut named = 0;
    for file in &files {
        let in_tests = file
            .split('/')
            .any(|part| part == "tests" || part == "corpus");
        let Ok(text) = std::fs::read_to_string(root.join(file)) else {
            continue;
        };
        if in_tests || file.ends_with("tests.rs") {
            continue;
        }
        let code = text.split("#[cfg(test)]").next().unwrap_or_default();
        for path in repository_paths(code) {
            named += 1;
            if !root.join(&path).exists() {
                missing.push(format!("{file}: {path}"));
            }
        }
    }
    assert!(named > 100, "the scan found the paths ({named})");
    assert_eq!(missing, Vec::<String>::new(), "paths that do not exist");
}

#[test]
fn a_path_is_found_whole_and_only_where_it_starts() {
    assert_eq!(
        repository_paths(
            "see core/src/inputs.rs. Not xcore/a or a/core/b, nor docs/*.md; common/src/x.rs."
        ),
        ["core/src/inputs.rs", "common/src/x.rs"]
    );
}

/// Every test or function a document names in code (`a_name_with_several_words`) exists, so a
/// renamed test does not leave the docs pointing at nothing.
#[test]
fn every_function_the_docs_name_exists() {
    let root = repo_root();
    let sources: String = tracked(&root, &["*.rs"])
        .iter()
        .filter_map(|f| std::fs::read_to_string(root.join(f)).ok())
        .collect();
    let mut missing = Vec::new();
    let mut named = 0;
    for doc in documents(&root) {
        let text = std::fs::read_to_string(root.join(&doc)).expect("a readable document");
        for (at, span) in text.split('`').enumerate() {
            let is_name = at % 2 == 1
                && span.matches('_').count() >= 3
                && span
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
                && span.starts_with(|c: char| c.is_ascii_lowercase());
            if !is_name {
                continue;
            }
            named += 1;
            if !sources.contains(&format!("fn {span}")) {
                missing.push(format!("{}: {span}", doc.display()));
            }
        }
    }
    assert!(named > 10, "the scan found the names ({named})");
    assert_eq!(missing, Vec::<String>::new(), "names no function has");
}
