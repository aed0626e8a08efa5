//! The workspace's shape, as the lock files record it: the pure core and the fuzz build link no
//! AWS SDK, async runtime or network stack, so the core tests in seconds and a fuzz build never
//! compiles the SDK; every crate takes the workspace's lints.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// Crates that would mean the SDK, tokio or a network stack came along.
const IMPURE: [&str; 7] = [
    "aws-",
    "tokio",
    "hyper",
    "rustls",
    "ring",
    "h2",
    "http-body",
];

fn repo(path: &str) -> String {
    let full = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("{}: {e}", full.display()))
}

/// Each package of a Cargo.lock and the names of its dependencies.
fn lock_graph(lock: &str) -> BTreeMap<String, Vec<String>> {
    let mut graph = BTreeMap::new();
    for block in lock.split("[[package]]").skip(1) {
        let name = block
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .and_then(|rest| rest.strip_suffix('"'))
            .expect("a package name")
            .to_owned();
        let deps: Vec<String> = match block.split_once("dependencies = [") {
            Some((_, rest)) => rest
                .split(']')
                .next()
                .unwrap_or_default()
                .lines()
                .filter_map(|l| l.trim().trim_end_matches(',').strip_prefix('"'))
                .filter_map(|l| l.trim_end_matches('"').split(' ').next())
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        };
        graph.entry(name).or_insert_with(Vec::new).extend(deps);
    }
    graph
}

/// Every package reachable from `root` in the lock graph.
fn closure(graph: &BTreeMap<String, Vec<String>>, root: &str) -> BTreeSet<String> {
    let mut seen = BTreeSet::new();
    let mut pending = vec![root.to_owned()];
    while let Some(name) = pending.pop() {
        if seen.insert(name.clone()) {
            pending.extend(graph.get(&name).into_iter().flatten().cloned());
        }
    }
    seen
}

fn impure(packages: &BTreeSet<String>) -> Vec<&String> {
    packages
        .iter()
        .filter(|name| IMPURE.iter().any(|prefix| name.starts_with(prefix)))
        .collect()
}

#[test]
fn the_core_links_no_sdk_runtime_or_network_crate() {
    let graph = lock_graph(&repo("Cargo.lock"));
    let core = closure(&graph, "deploy-core");
    assert!(
        core.contains("minijinja"),
        "the walk found the core's dependencies"
    );
    assert_eq!(impure(&core), Vec::<&String>::new());
    let shell = closure(&graph, "deploy-shell");
    assert!(
        !impure(&shell).is_empty(),
        "the same walk finds the SDK where it is used"
    );
}

#[test]
fn the_fuzz_build_compiles_no_sdk_runtime_or_network_crate() {
    let lock = repo("fuzz/Cargo.lock");
    let graph = lock_graph(&lock);
    let all: BTreeSet<String> = graph.keys().cloned().collect();
    assert!(all.contains("libfuzzer-sys") && all.contains("deploy-core"));
    assert_eq!(impure(&all), Vec::<&String>::new());
}

#[test]
fn every_crate_takes_the_workspace_lints() {
    for krate in [
        "core",
        "shell",
        "build-step",
        "test-step",
        "test-support",
        "xtask",
    ] {
        let manifest = repo(&format!("{krate}/Cargo.toml"));
        assert!(
            manifest.contains("[lints]\nworkspace = true"),
            "{krate}/Cargo.toml does not take the workspace lints"
        );
    }
}

/// Every Rust source of the crate rooted at `src`, with its top-level module's name (`lib` and
/// `main` for the roots) and its text.
fn sources(src: &Path) -> Vec<(String, std::path::PathBuf, String)> {
    let mut found = Vec::new();
    let mut pending = vec![src.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).expect("a source dir") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(src).expect("under src");
                let first = relative.components().next().expect("a component");
                let top = first.as_os_str().to_string_lossy();
                let top = top.trim_end_matches(".rs").to_owned();
                let text = std::fs::read_to_string(&path).expect("a readable source");
                found.push((top, path, text));
            }
        }
    }
    found.sort();
    found
}

const CRATES: [&str; 6] = [
    "core",
    "shell",
    "build-step",
    "test-step",
    "test-support",
    "xtask",
];

fn src_of(krate: &str) -> std::path::PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(krate)
        .join("src")
}

/// A module a newcomer can hold in their head: its code, before its unit tests, fits in 450
/// lines. Test-only modules (`tests.rs`, `*_tests.rs`) are tests themselves.
#[test]
fn every_module_is_at_most_450_lines_before_its_tests() {
    let mut long = Vec::new();
    let mut counted = 0;
    for krate in CRATES {
        for (_, path, text) in sources(&src_of(krate)) {
            let name = path.file_stem().unwrap_or_default().to_string_lossy();
            if name == "tests" || name.ends_with("_tests") {
                continue;
            }
            counted += 1;
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            let lines = code.lines().count();
            if lines > 450 {
                long.push(format!("{} ({lines} lines)", path.display()));
            }
        }
    }
    assert!(counted > 50, "the walk found the modules ({counted})");
    assert_eq!(long, Vec::<String>::new(), "modules over 450 lines");
}

/// The top-level modules of each crate import one another without a circle: each `crate::<m>`
/// a module's files name is an arrow, and no arrow path returns to where it started.
#[test]
fn no_crate_has_an_import_circle() {
    let mut arrows_seen = 0;
    for krate in CRATES {
        let files = sources(&src_of(krate));
        let modules: BTreeSet<String> = files.iter().map(|(top, ..)| top.clone()).collect();
        let mut arrows: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for (from, _, text) in &files {
            let code: String = text
                .split("#[cfg(test)]")
                .next()
                .unwrap_or_default()
                .lines()
                .filter(|line| !line.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            for mention in code.split("crate::").skip(1) {
                let to: String = mention
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if to != *from && modules.contains(&to) && !["lib", "main"].contains(&from.as_str())
                {
                    arrows.entry(from.clone()).or_default().insert(to);
                }
            }
        }
        arrows_seen += arrows.values().map(BTreeSet::len).sum::<usize>();
        // Depth-first from each module: reaching it again is a circle.
        for start in &modules {
            let mut pending: Vec<Vec<String>> = vec![vec![start.clone()]];
            let mut visited = BTreeSet::new();
            while let Some(path) = pending.pop() {
                let last = path.last().expect("a path is never empty");
                for next in arrows.get(last).into_iter().flatten() {
                    assert!(
                        next != start,
                        "{krate}: import circle {} -> {start}",
                        path.join(" -> ")
                    );
                    if visited.insert(next.clone()) {
                        let mut longer = path.clone();
                        longer.push(next.clone());
                        pending.push(longer);
                    }
                }
            }
        }
    }
    assert!(
        arrows_seen > 30,
        "the walk found the imports ({arrows_seen})"
    );
}
