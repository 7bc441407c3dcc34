//! The module shape follows the data flow: capture → decode → track →
//! export, with the system probes beside capture and `pipeline` the one
//! place that ties them together.
//!
//! A module may name the modules upstream of it, never one downstream, and
//! the two sources (the frame sources in `capture`, the probes of the
//! router in `system`) know nothing of each other or of the state:
//!
//! - `decode` names none of them (its views are what everyone else reads);
//! - `capture` names `decode` (link types, MACs) and nothing else;
//! - `system` names none of them;
//! - `track` names `decode` only: what the capture and the system say about
//!   themselves reaches a snapshot through the capture worker (`pipeline`);
//! - `export` names `track`'s snapshot types and `decode`'s value types.
//!
//! The test reads the sources under `src/` and collects, per top-level
//! module, every `crate::NAME` path outside comments (`use` lines, grouped
//! `use crate::{a, b}` lines and inline paths alike).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// The modules whose edges are checked, with the ones each may name.
const ALLOWED: &[(&str, &[&str])] = &[
    ("decode", &[]),
    ("capture", &["decode"]),
    ("system", &[]),
    ("track", &["decode"]),
    ("export", &["track", "decode"]),
];

/// The modules of the data flow and its glue: an edge between two of them
/// that `ALLOWED` does not list fails the test. Edges to the crate's other
/// modules (config, files, shutdown, state_file ...) are not checked here.
const LAYERS: &[&str] = &["capture", "decode", "system", "track", "export", "pipeline"];

/// The top-level modules named as `crate::NAME` in `source`, comments left out.
fn crate_paths(source: &str) -> BTreeSet<String> {
    let mut named = BTreeSet::new();
    for line in source.lines() {
        let code = line.split("//").next().unwrap_or("");
        let mut rest = code;
        while let Some(at) = rest.find("crate::") {
            let before = rest[..at].chars().next_back();
            rest = &rest[at + "crate::".len()..];
            // `lanwatch_crate::x` or `my_crate::x` are other paths.
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            if let Some(group) = rest.strip_prefix('{') {
                // `crate::{a::X, b}`: each name at the group's top level.
                let mut depth = 0usize;
                let mut current = String::new();
                let mut take = true;
                for c in group.chars() {
                    match c {
                        '{' => depth += 1,
                        '}' if depth == 0 => break,
                        '}' => depth -= 1,
                        ',' if depth == 0 => {
                            take = true;
                            if !current.is_empty() {
                                named.insert(std::mem::take(&mut current));
                            }
                        }
                        c if depth == 0 && take && (c.is_alphanumeric() || c == '_') => {
                            current.push(c)
                        }
                        _ if depth == 0 && !current.is_empty() => {
                            take = false;
                            named.insert(std::mem::take(&mut current));
                        }
                        _ => {}
                    }
                }
                if !current.is_empty() {
                    named.insert(current);
                }
            } else {
                let name: String = rest
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !name.is_empty() {
                    named.insert(name);
                }
            }
        }
    }
    named
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// Per top-level module of `src/`, the other top-level modules it names.
fn edges() -> BTreeMap<String, BTreeSet<String>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut edges = BTreeMap::new();
    for layer in LAYERS {
        let mut files = Vec::new();
        let single = src.join(format!("{layer}.rs"));
        if single.is_file() {
            files.push(single);
        }
        rust_files(&src.join(layer), &mut files);
        assert!(!files.is_empty(), "src/{layer} has no sources");
        let mut named = BTreeSet::new();
        for file in files {
            let text =
                fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            named.extend(crate_paths(&text));
        }
        named.remove(*layer);
        edges.insert(layer.to_string(), named);
    }
    edges
}

#[test]
fn modules_name_only_what_is_upstream_of_them() {
    let edges = edges();
    let mut wrong = Vec::new();
    for (module, allowed) in ALLOWED {
        for named in &edges[*module] {
            if LAYERS.contains(&named.as_str()) && !allowed.contains(&named.as_str()) {
                wrong.push(format!("{module} names {named}"));
            }
        }
    }
    assert!(wrong.is_empty(), "imports against the flow: {wrong:?}");
}

#[test]
fn track_does_not_name_capture_nor_the_probes() {
    let edges = edges();
    assert!(!edges["track"].contains("capture"), "{:?}", edges["track"]);
    assert!(!edges["track"].contains("system"), "{:?}", edges["track"]);
    assert!(
        !edges["capture"].contains("track"),
        "{:?}",
        edges["capture"]
    );
    assert!(!edges["system"].contains("track"), "{:?}", edges["system"]);
}

#[test]
fn the_pipeline_ties_the_sources_to_the_tracker() {
    // The edges the checks above rely on being seen at all.
    let edges = edges();
    for named in ["capture", "decode", "system", "track"] {
        assert!(edges["pipeline"].contains(named), "{:?}", edges["pipeline"]);
    }
    assert!(edges["export"].contains("track"), "{:?}", edges["export"]);
}

#[test]
fn the_scanner_sees_plain_grouped_and_inline_paths_but_not_comments() {
    let text = "use crate::decode::Mac;\n\
                use crate::{capture::Frame, track::{Tracker, Snapshot}, shutdown};\n\
                let x: crate::state::Saves = y; // crate::export in a comment\n\
                /// [`crate::system::offload`] in a doc comment\n\
                use other_crate::thing;\n";
    let named = crate_paths(text);
    let expected: BTreeSet<String> = ["decode", "capture", "track", "shutdown", "state"]
        .iter()
        .map(|s| s.to_string())
        .collect();
    assert_eq!(named, expected);
}
