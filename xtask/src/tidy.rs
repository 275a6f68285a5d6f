//! Tidy: checks that keep the code map and the app's wiring honest, run by
//! `cargo xtask test` (as `cargo test -p xtask`), after rust-analyzer's
//! `xtask tidy`.
//!
//! - the dependency arrows between our crates (from `cargo metadata`) are
//!   the ones ARCHITECTURE.md lists;
//! - the app's command lists in `build.rs`, `generate_handler!` and the
//!   capability are equal, and equal to the commands the UI calls;
//! - no front end depends on `lab-store`: they go through `lab-pipeline`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;

fn root() -> PathBuf {
    let xtask = std::env::var("CARGO_MANIFEST_DIR").expect("run by cargo test");
    PathBuf::from(xtask)
        .parent()
        .expect("xtask is one level down")
        .to_path_buf()
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

type Graph = BTreeMap<String, BTreeSet<String>>;

/// Our packages and, for each, the other packages of ours it depends on
/// (normal dependencies with `dev = false`, dev-dependencies with `true`).
fn cargo_graph(dev: bool) -> Graph {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = std::process::Command::new(cargo)
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(root())
        .output()
        .expect("cargo metadata runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let m: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let packages = m["packages"].as_array().unwrap();
    let ours: BTreeSet<String> = packages
        .iter()
        .map(|p| p["name"].as_str().unwrap().to_string())
        .collect();
    packages
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|d| d["kind"].as_str() == dev.then_some("dev"))
                .map(|d| d["name"].as_str().unwrap().to_string())
                .filter(|d| ours.contains(d))
                .collect();
            (p["name"].as_str().unwrap().to_string(), deps)
        })
        .collect()
}

/// The arrows ARCHITECTURE.md lists between its `tidy:deps` markers, one
/// `crate → dep, dep` line per crate.
fn documented_graph() -> Graph {
    let doc = read("ARCHITECTURE.md");
    let start = doc
        .find("<!-- tidy:deps -->")
        .expect("ARCHITECTURE.md marks its dependency list with <!-- tidy:deps -->");
    let end = doc[start..]
        .find("<!-- /tidy:deps -->")
        .expect("… and <!-- /tidy:deps -->")
        + start;
    doc[start..end]
        .lines()
        .filter_map(|l| l.trim().trim_start_matches("- ").split_once('→'))
        .map(|(from, to)| {
            let to = to
                .split(',')
                .map(|d| d.trim().trim_matches('`').to_string())
                .filter(|d| !d.is_empty() && d != "nothing of ours")
                .collect();
            (from.trim().trim_matches('`').to_string(), to)
        })
        .collect()
}

#[test]
fn architecture_lists_the_crate_dependencies_cargo_sees() {
    let actual = cargo_graph(false);
    let documented = documented_graph();
    for (krate, deps) in &actual {
        let doc = documented.get(krate).unwrap_or_else(|| {
            panic!("ARCHITECTURE.md's dependency list has no line for `{krate}` (→ {deps:?})")
        });
        assert_eq!(
            doc, deps,
            "ARCHITECTURE.md says `{krate}` → {doc:?}, Cargo.toml says → {deps:?}"
        );
    }
    for krate in documented.keys() {
        assert!(
            actual.contains_key(krate),
            "ARCHITECTURE.md lists `{krate}`, which is not a package"
        );
    }
}

#[test]
fn no_front_end_depends_on_the_store() {
    for dev in [false, true] {
        let graph = cargo_graph(dev);
        for front_end in ["lab-cli", "mlops-lab-app"] {
            assert!(
                !graph[front_end].contains("lab-store"),
                "{front_end} depends on lab-store (dev: {dev}); front ends call lab-pipeline"
            );
        }
    }
}

/// The quoted names between `start` and the first `end` after it.
fn quoted_after(text: &str, start: &str, end: &str) -> Vec<String> {
    let from = text.find(start).unwrap_or_else(|| panic!("no `{start}`")) + start.len();
    let to = text[from..]
        .find(end)
        .unwrap_or_else(|| panic!("no `{end}`"))
        + from;
    text[from..to]
        .split('"')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

fn sorted_unique(what: &str, names: Vec<String>) -> BTreeSet<String> {
    let set: BTreeSet<String> = names.iter().cloned().collect();
    assert_eq!(
        set.len(),
        names.len(),
        "{what} lists a command twice: {names:?}"
    );
    set
}

#[test]
fn the_apps_command_lists_agree() {
    let build = sorted_unique(
        "src-tauri/build.rs",
        quoted_after(&read("src-tauri/build.rs"), "const COMMANDS", "];"),
    );
    let lib = read("src-tauri/src/lib.rs");
    let from = lib.find("generate_handler![").expect("generate_handler!") + 17;
    let to = lib[from..].find(']').unwrap() + from;
    let handler = sorted_unique(
        "generate_handler!",
        lib[from..to]
            .split(',')
            .map(|p| p.trim().rsplit("::").next().unwrap_or("").to_string())
            .filter(|p| !p.is_empty())
            .collect(),
    );
    let capability = read("src-tauri/capabilities/default.json");
    let capability = sorted_unique(
        "the capability",
        quoted_after(&capability, "\"permissions\"", "]")
            .into_iter()
            .map(|p| {
                p.strip_prefix("allow-")
                    .unwrap_or_else(|| panic!("the capability grants `{p}`, not one of ours"))
                    .replace('-', "_")
            })
            .collect(),
    );
    assert_eq!(build, handler, "build.rs vs generate_handler!");
    assert_eq!(build, capability, "build.rs vs capabilities/default.json");
    assert_eq!(build, ui_commands(), "build.rs vs the commands ui/ calls");
}

/// Every command named as the first argument of `call(`, `invoke(`,
/// `longWork(` or the Models view's `work(` in the UI's modules.
fn ui_commands() -> BTreeSet<String> {
    let mut found = BTreeSet::new();
    let mut dirs = vec![root().join("ui")];
    while let Some(dir) = dirs.pop() {
        for e in std::fs::read_dir(&dir).unwrap() {
            let path = e.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|x| x == "js") {
                let text = std::fs::read_to_string(&path).unwrap();
                for call in ["call(", "invoke(", "work(", "longWork("] {
                    for (i, _) in text.match_indices(call) {
                        let rest = text[i + call.len()..].trim_start();
                        if let Some(rest) = rest.strip_prefix('"')
                            && let Some(end) = rest.find('"')
                        {
                            found.insert(rest[..end].to_string());
                        }
                    }
                }
            }
        }
    }
    found
}
