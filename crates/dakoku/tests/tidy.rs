//! The workspace's layering, checked from `cargo metadata` (as rust-analyzer's tidy tests do):
//! the pure crates stay free of IO, the edges do not reach into the store, and the dependency
//! column of ARCHITECTURE.md says what the manifests say.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

const IO_CRATES: &[&str] = &["tokio", "sqlx", "axum", "reqwest", "hyper"];

/// Edges the layering forbids that still exist, each with the work that removes it. The test
/// fails when one disappears, so the list only shrinks.
const PENDING: &[(&str, &str, &str)] = &[
    ("dakoku-platforms", "dakoku-store", "adapters get an IntegrationCtx instead of the store (issue 14)"),
    ("dakoku-platforms", "dakoku-http", "adapters map their own errors to problem+json (issue 14)"),
];

fn workspace_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().and_then(Path::parent).expect("workspace root")
}

/// Each workspace crate's normal (non-dev, non-build) dependencies.
fn dependencies() -> BTreeMap<String, BTreeSet<String>> {
    let out = std::process::Command::new(env!("CARGO"))
        .args(["metadata", "--format-version", "1", "--no-deps", "--offline"])
        .current_dir(workspace_root())
        .output()
        .expect("cargo metadata runs");
    assert!(out.status.success(), "cargo metadata: {}", String::from_utf8_lossy(&out.stderr));
    let metadata: Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    let mut crates = BTreeMap::new();
    for package in metadata["packages"].as_array().expect("packages") {
        let deps = package["dependencies"]
            .as_array()
            .expect("dependencies")
            .iter()
            .filter(|d| d["kind"].is_null())
            .filter_map(|d| d["name"].as_str().map(str::to_owned))
            .collect();
        crates.insert(package["name"].as_str().expect("name").to_owned(), deps);
    }
    crates
}

#[test]
fn the_layering_holds() {
    let crates = dependencies();
    let mut broken = Vec::new();
    for pure in ["dakoku-domain", "dakoku-rules"] {
        for io in IO_CRATES.iter().filter(|io| crates[pure].contains(**io)) {
            broken.push(format!("{pure} depends on the IO crate {io}"));
        }
    }
    let forbidden = [
        ("dakoku-platforms", "dakoku-store"),
        ("dakoku-platforms", "dakoku-http"),
        ("dakoku-http", "dakoku-store"),
        ("dakoku-web", "dakoku-store"),
        ("dakoku-domain", "dakoku-store"),
        ("dakoku-rules", "dakoku-store"),
    ];
    for (from, to) in forbidden {
        let pending = PENDING.iter().any(|(f, t, _)| *f == from && *t == to);
        match (crates[from].contains(to), pending) {
            (true, false) => broken.push(format!("{from} depends on {to}")),
            (false, true) => broken.push(format!("{from} no longer depends on {to}: remove it from PENDING")),
            _ => {}
        }
    }
    assert!(broken.is_empty(), "{}", broken.join("\n"));
}

#[test]
fn architecture_md_lists_the_real_dependencies() {
    let crates = dependencies();
    let text = std::fs::read_to_string(workspace_root().join("ARCHITECTURE.md")).expect("ARCHITECTURE.md");
    let mut listed = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `dakoku")) {
        let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
        let name = cells[0].trim_matches('`').to_owned();
        let deps: BTreeSet<String> = match cells[cells.len() - 1] {
            "—" => BTreeSet::new(),
            list => list.split(", ").map(|d| format!("dakoku-{}", d.trim())).collect(),
        };
        listed.insert(name, deps);
    }
    let real: BTreeMap<String, BTreeSet<String>> = crates
        .iter()
        .filter(|(name, _)| name.starts_with("dakoku"))
        .map(|(name, deps)| (name.clone(), deps.iter().filter(|d| d.starts_with("dakoku-")).cloned().collect()))
        .collect();
    assert_eq!(listed, real, "the crate table of ARCHITECTURE.md (left) against the manifests (right)");
}
