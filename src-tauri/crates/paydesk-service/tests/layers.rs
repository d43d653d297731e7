//! The service's layers point one way only (see `ARCHITECTURE.md`): every top-level module
//! of `src/` may use the modules of lower levels, never a peer or a higher level, so there is
//! no circle between them. This test reads the `crate::…` paths of every source file and fails
//! naming the file, the line and the offending edge.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Bottom to top. Modules on one level are peers and independent of each other.
const LEVELS: &[&[&str]] = &[
    &["context"],
    &["sandbox"],
    &["vault"],
    &["connect"],
    &["dashboard", "reconcile", "refunds", "review"],
    &["settlement"],
    &["demo"],
];

fn level_of(module: &str) -> Option<usize> {
    LEVELS.iter().position(|level| level.contains(&module))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src dir") {
        let path = entry.expect("dir entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level modules a line names through `crate::`: `crate::a::…` and `crate::{a, b::c}`.
fn crate_paths(line: &str) -> Vec<String> {
    let mut found = Vec::new();
    let mut rest = line;
    while let Some(at) = rest.find("crate::") {
        let before = rest[..at].chars().last();
        rest = &rest[at + "crate::".len()..];
        // `paydesk_crate::x` or `my_crate::x` are not this crate.
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // The first name of each item at depth 0 of the group.
            let mut depth = 0;
            let mut start_of_item = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => start_of_item = true,
                    c if start_of_item && (c.is_alphanumeric() || c == '_') => {
                        start_of_item = false;
                        found.push(
                            group[i..]
                                .chars()
                                .take_while(|c| c.is_alphanumeric() || *c == '_')
                                .collect(),
                        );
                    }
                    _ => {}
                }
            }
        } else {
            found.push(
                rest.chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect(),
            );
        }
    }
    found
}

/// Every edge (from module, to module) with the place it was seen.
fn edges(src: &Path) -> BTreeMap<(String, String), String> {
    let mut files = Vec::new();
    rust_files(src, &mut files);
    let mut out = BTreeMap::new();
    for file in files {
        let rel = file.strip_prefix(src).expect("below src");
        let top = rel
            .components()
            .next()
            .and_then(|c| c.as_os_str().to_str())
            .map(|s| s.trim_end_matches(".rs").to_string())
            .expect("a file name");
        if top == "lib" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("read source");
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for target in crate_paths(code) {
                if target != top && level_of(&target).is_some() {
                    out.entry((top.clone(), target))
                        .or_insert_with(|| format!("{}:{}", rel.display(), n + 1));
                }
            }
        }
    }
    out
}

#[test]
fn every_module_has_a_level() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    for entry in std::fs::read_dir(&src).expect("read src") {
        let path = entry.expect("entry").path();
        let name = path
            .file_name()
            .and_then(|n| n.to_str())
            .expect("name")
            .trim_end_matches(".rs")
            .to_string();
        if name == "lib" {
            continue;
        }
        assert!(
            level_of(&name).is_some(),
            "src/{name} is not in LEVELS of tests/layers.rs: give it a level"
        );
    }
}

#[test]
fn layers_only_point_down() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let found = edges(&src);
    assert!(
        found.contains_key(&("reconcile".to_string(), "connect".to_string())),
        "the scan found no reconcile → connect edge: the scanner is broken"
    );
    let wrong: Vec<String> = found
        .iter()
        .filter(|((from, to), _)| level_of(to) >= level_of(from))
        .map(|((from, to), at)| format!("{from} → {to} at {at}"))
        .collect();
    assert!(
        wrong.is_empty(),
        "service modules must only use lower layers (LEVELS in tests/layers.rs):\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_scanner_reads_paths_and_groups() {
    assert_eq!(crate_paths("use crate::vault::Vault;"), ["vault"]);
    assert_eq!(
        crate_paths("use crate::{context::auth, vault::{Vault, X}};"),
        ["context", "vault"]
    );
    assert_eq!(
        crate_paths("x = crate::connect::open(); y = crate::demo::run()"),
        ["connect", "demo"]
    );
    assert!(crate_paths("use paydesk_crate::vault;").is_empty());
}
