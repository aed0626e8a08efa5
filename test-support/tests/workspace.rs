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
