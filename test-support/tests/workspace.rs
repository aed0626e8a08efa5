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
    for krate in CRATES {
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

/// A module's code as far as imports go: without comment lines and without `#[cfg(test)]` items
/// (a `mod tests { .. }` block, or a `mod test_kit;` line that may come before the code).
fn code_of(text: &str) -> String {
    let text: String = text
        .lines()
        .filter(|line| !line.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n");
    let mut code = String::new();
    let mut rest = text.as_str();
    while let Some((before, after)) = rest.split_once("#[cfg(test)]") {
        code.push_str(before);
        // The item ends at its first `;` unless a `{` comes first: then at the matching `}`.
        let mut depth = 0usize;
        let mut end = after.len();
        for (at, c) in after.char_indices() {
            match c {
                ';' if depth == 0 => {
                    end = at + 1;
                    break;
                }
                '{' => depth += 1,
                '}' if depth <= 1 => {
                    end = at + 1;
                    break;
                }
                '}' => depth -= 1,
                _ => {}
            }
        }
        rest = &after[end..];
    }
    code.push_str(rest);
    code
}

/// The paths a use tree or path names, from `text[*at..]`: `a::b::C` is `[a, b, C]`,
/// `{a, b::{c, d as e}}` is `[a]`, `[b, c]`, `[b, d]`. A path ends at anything but an identifier
/// or `::` (a call's `(`, a `;`, a `<`, a `*`).
fn use_paths(text: &[u8], at: &mut usize) -> Vec<Vec<String>> {
    let skip_space = |at: &mut usize| {
        while text.get(*at).is_some_and(u8::is_ascii_whitespace) {
            *at += 1;
        }
    };
    let ident = |at: &mut usize| {
        let start = *at;
        while text
            .get(*at)
            .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'_')
        {
            *at += 1;
        }
        String::from_utf8_lossy(&text[start..*at]).into_owned()
    };
    if text.get(*at) == Some(&b'{') {
        *at += 1;
        let mut all = Vec::new();
        loop {
            skip_space(at);
            match text.get(*at) {
                None => break,
                Some(b'}') => {
                    *at += 1;
                    break;
                }
                Some(b',' | b'*') => *at += 1,
                Some(_) => {
                    let before = *at;
                    all.extend(use_paths(text, at));
                    skip_space(at);
                    if text[*at..].starts_with(b"as ") {
                        *at += 3;
                        skip_space(at);
                        ident(at);
                    }
                    if *at == before {
                        *at += 1;
                    }
                }
            }
        }
        return all;
    }
    let first = ident(at);
    if first.is_empty() {
        return Vec::new();
    }
    if !text[*at..].starts_with(b"::") {
        return vec![vec![first]];
    }
    *at += 2;
    let rest = use_paths(text, at);
    if rest.is_empty() {
        return vec![vec![first]];
    }
    rest.into_iter()
        .map(|mut path| {
            path.insert(0, first.clone());
            path
        })
        .collect()
}

/// Every path `code` names after `prefix` (such as `crate::`, `super::` or `fleet::`), where the
/// prefix starts a path: not the tail of a longer name (`deploy_core::fleet::` is no `fleet::`).
fn mentions(code: &str, prefix: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let mut found = Vec::new();
    for (start, _) in code.match_indices(prefix) {
        let starts_a_path = start == 0 || {
            let before = bytes[start - 1];
            !(before.is_ascii_alphanumeric() || before == b'_' || before == b':')
        };
        if starts_a_path {
            let mut at = start + prefix.len();
            found.extend(use_paths(bytes, &mut at));
        }
    }
    found
}

/// The names a crate root defines at its top level (`fn`, `struct`, `enum`, `const`, ...), and
/// the names it re-exports from its own modules (`pub use cli::{Args, Command}`), with the module
/// each comes from.
fn root_names(
    code: &str,
    modules: &BTreeSet<String>,
) -> (BTreeSet<String>, BTreeMap<String, String>) {
    let mut defined = BTreeSet::new();
    let mut reexported = BTreeMap::new();
    for line in code.lines().filter(|l| !l.starts_with(char::is_whitespace)) {
        let mut words: Vec<&str> = line.split_whitespace().collect();
        while words.first().is_some_and(|w| {
            w.starts_with("pub") || ["async", "unsafe", "extern"].contains(w) || w.starts_with('"')
        }) {
            words.remove(0);
        }
        if words.first() == Some(&"const") && words.get(1) == Some(&"fn") {
            words.remove(0);
        }
        match words.as_slice() {
            ["fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union", name, ..] =>
            {
                let name: String = name
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                defined.insert(name);
            }
            ["use", ..] if line.starts_with("pub") => {
                let tree = line.split_once("use ").map_or("", |(_, tree)| tree);
                for path in use_paths(tree.as_bytes(), &mut 0) {
                    if let (Some(module), Some(name)) = (path.first(), path.last()) {
                        if path.len() > 1 && modules.contains(module) {
                            reexported.insert(name.clone(), module.clone());
                        }
                    }
                }
            }
            _ => {}
        }
    }
    (defined, reexported)
}

/// The `mod x;` a crate root or folder module declares.
fn declared_modules(code: &str) -> BTreeSet<String> {
    code.lines()
        .filter_map(|line| line.trim_start().split_once("mod "))
        .filter(|(visibility, _)| visibility.is_empty() || visibility.starts_with("pub"))
        .filter_map(|(_, rest)| rest.strip_suffix(';'))
        .map(str::to_owned)
        .collect()
}

/// A source's module path under `src`: `policy_eval/mod.rs` is `[policy_eval]`,
/// `fault_proxy/stand_ins/catalog.rs` is `[fault_proxy, stand_ins, catalog]`.
fn module_path(src: &Path, path: &Path) -> Vec<String> {
    let relative = path.strip_prefix(src).expect("under src");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| {
            let part = c.as_os_str().to_string_lossy();
            part.trim_end_matches(".rs").to_owned()
        })
        .collect();
    if parts.len() > 1 && parts.last().is_some_and(|last| last == "mod") {
        parts.pop();
    }
    parts
}

/// Whether the module at `module` (a path under `src`) is tests, not imports: a test file by name
/// (`tests.rs`, `*_tests.rs`, or a file under one), or `declared`, if its parent's `root` declares
/// it for tests only (`#[cfg(test)] mod test_kit;`).
fn test_only(root: &str, declared: &str, module: &[String]) -> bool {
    let by_name = module
        .iter()
        .any(|part| part == "tests" || part.ends_with("_tests"));
    by_name
        || root.match_indices("#[cfg(test)]").any(|(at, attribute)| {
            let item = root[at + attribute.len()..].trim_start();
            let item = item.strip_prefix("pub(crate) ").unwrap_or(item);
            item.strip_prefix("mod ")
                .and_then(|rest| rest.strip_prefix(declared))
                .is_some_and(|rest| rest.starts_with(';'))
        })
}

type Arrows = BTreeMap<String, BTreeSet<String>>;

/// Every circle of `arrows`, each once, as the path that returns to its start (its least module).
fn circles(arrows: &Arrows) -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    for start in arrows.keys() {
        // Depth-first from each module: reaching it again is a circle.
        let mut pending: Vec<Vec<String>> = vec![vec![start.clone()]];
        let mut visited = BTreeSet::new();
        while let Some(path) = pending.pop() {
            let last = path.last().expect("a path is never empty");
            for next in arrows.get(last).into_iter().flatten() {
                if next == start {
                    let first = path.iter().enumerate().min_by_key(|(_, m)| *m);
                    let mut circle = path.clone();
                    circle.rotate_left(first.map_or(0, |(at, _)| at));
                    circle.push(circle[0].clone());
                    found.insert(circle.join(" -> "));
                } else if visited.insert(next.clone()) {
                    let mut longer = path.clone();
                    longer.push(next.clone());
                    pending.push(longer);
                }
            }
        }
    }
    found
}

/// The arrows between a crate's top-level modules: each `crate::<m>` a module's files name; a
/// `crate::<item>` of an item lib.rs defines is an arrow to `lib` (one it re-exports, to the module
/// it comes from); and lib.rs's own `crate::<m>` and `<m>::` mentions of the modules it declares
/// are arrows from `lib`. A module's `super::` that reaches the crate root counts as `crate::`.
/// Files under `src/bin/` are other crates' and main.rs is the binary's.
fn crate_arrows(src: &Path, files: &[(String, std::path::PathBuf, String)]) -> Arrows {
    let modules: BTreeSet<String> = files.iter().map(|(top, ..)| top.clone()).collect();
    let root_text = files
        .iter()
        .find(|(top, path, _)| top == "lib" && path.file_name().is_some_and(|n| n == "lib.rs"))
        .map(|(.., text)| text.as_str())
        .unwrap_or_default();
    let root = code_of(root_text);
    let (lib_items, reexported) = root_names(&root, &modules);
    let mut arrows = Arrows::new();
    for (from, path, text) in files {
        let module = module_path(src, path);
        if ["main", "bin"].contains(&from.as_str()) || test_only(root_text, &module[0], &module) {
            continue;
        }
        let code = code_of(text);
        let to_root = if from == "lib" {
            Vec::new()
        } else {
            mentions(&code, &"super::".repeat(module.len()))
        };
        let mut targets: Vec<String> = mentions(&code, "crate::")
            .into_iter()
            .chain(to_root)
            .filter_map(|path| path.into_iter().next())
            .filter_map(|name| {
                if modules.contains(&name) {
                    Some(name)
                } else if let Some(module) = reexported.get(&name) {
                    Some(module.clone())
                } else {
                    lib_items.contains(&name).then(|| "lib".to_owned())
                }
            })
            .collect();
        if from == "lib" {
            for module in declared_modules(&code) {
                if !mentions(&code, &format!("{module}::")).is_empty() {
                    targets.push(module);
                }
            }
        }
        for to in targets {
            if to != *from {
                arrows.entry(from.clone()).or_default().insert(to);
            }
        }
    }
    arrows
}

/// The arrows between the files of each folder module (`src/policy_eval/*.rs`), by folder: each
/// `super::<sibling>` (`super::super::<sibling>` from a file one folder deeper) and
/// `crate::<folder>::<sibling>` a file names. The folder's root (`mod.rs`, or `src/<folder>.rs`)
/// only wires them; a deeper folder counts as one sibling.
fn folder_arrows(
    src: &Path,
    files: &[(String, std::path::PathBuf, String)],
) -> BTreeMap<String, Arrows> {
    let roots: BTreeMap<Vec<String>, &str> = files
        .iter()
        .map(|(_, path, text)| (module_path(src, path), text.as_str()))
        .collect();
    // By folder: each file's module (its sibling name) and the names it mentions there.
    let mut by_folder: BTreeMap<&String, Vec<(String, Vec<String>)>> = BTreeMap::new();
    for (top, path, text) in files {
        let module = module_path(src, path);
        let root = roots.get(&module[..1]).copied().unwrap_or_default();
        if module.len() < 2 || top == "bin" || test_only(root, &module[1], &module) {
            continue;
        }
        let code = code_of(text);
        let local = mentions(&code, &"super::".repeat(module.len() - 1));
        let absolute = mentions(&code, "crate::")
            .into_iter()
            .filter(|path| path.first() == Some(top))
            .map(|path| path[1..].to_vec());
        let names = local
            .into_iter()
            .chain(absolute)
            .filter_map(|path| path.into_iter().next())
            .collect();
        by_folder
            .entry(top)
            .or_default()
            .push((module[1].clone(), names));
    }
    let mut all = BTreeMap::new();
    for (folder, members) in by_folder {
        let siblings: BTreeSet<&String> = members.iter().map(|(name, _)| name).collect();
        let mut arrows = Arrows::new();
        for (from, names) in &members {
            for to in names {
                if to != from && siblings.contains(to) {
                    arrows.entry(from.clone()).or_default().insert(to.clone());
                }
            }
        }
        all.insert(folder.clone(), arrows);
    }
    all
}

/// The modules of each crate import one another without a circle: between its top-level modules
/// (lib.rs's items counting as a module `lib`), and between the files of each folder module. An
/// arrow is each `crate::<m>`, `super::<sibling>` or, in lib.rs, `<m>::` a module's code names.
#[test]
fn no_crate_has_an_import_circle() {
    let mut arrows_seen = 0;
    let mut lib_arrows_seen = 0;
    let mut folder_arrows_seen = 0;
    let mut found = Vec::<String>::new();
    for krate in CRATES {
        let src = src_of(krate);
        let files = sources(&src);
        let arrows = crate_arrows(&src, &files);
        arrows_seen += arrows.values().map(BTreeSet::len).sum::<usize>();
        lib_arrows_seen += arrows.get("lib").map_or(0, BTreeSet::len);
        found.extend(
            circles(&arrows)
                .into_iter()
                .map(|c| format!("{krate}: {c}")),
        );
        for (folder, arrows) in folder_arrows(&src, &files) {
            folder_arrows_seen += arrows.values().map(BTreeSet::len).sum::<usize>();
            found.extend(
                circles(&arrows)
                    .into_iter()
                    .map(|c| format!("{krate}/src/{folder}: {c}")),
            );
        }
    }
    assert!(
        arrows_seen > 30,
        "the walk found the imports ({arrows_seen})"
    );
    assert!(
        lib_arrows_seen > 10,
        "the walk found lib.rs's imports ({lib_arrows_seen})"
    );
    assert!(
        folder_arrows_seen > 20,
        "the walk found the folder modules' imports ({folder_arrows_seen})"
    );
    assert_eq!(found, Vec::<String>::new(), "import circles");
}
