//! The OpenWrt package's Makefile (`openwrt-feed/net/lanwatch/Makefile`) has
//! the shape the packages feed asks of a Rust package: a pinned source
//! download, the packages feed's `rust-package.mk` doing the build (no
//! `Build/Prepare` or `Build/Compile` of its own), cargo options passed
//! through that file's variables, SPDX licences, a maintainer with an
//! address, and an install section that only names files that exist.
//!
//! The Makefile is read with a small parser of GNU make assignments
//! (`NAME:=value`, `NAME=value`, `+=`, `?=`, continuation lines) and
//! `define` blocks. Cargo.toml is read through `cargo metadata` (cargo's own
//! reading of it), the licence expression through the SPDX expression parser
//! Debian ships for node (`node-spdx-expression-parse`), and the pinned
//! commit through git.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

const MAKEFILE: &str = "openwrt-feed/net/lanwatch/Makefile";
const RUST_PACKAGE_MK: &str = "$(TOPDIR)/feeds/packages/lang/rust/rust-package.mk";
const PACKAGE_MK: &str = "$(INCLUDE_DIR)/package.mk";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

// ---------------------------------------------------------------------------
// A small reader of GNU make syntax: enough for a package Makefile.
// ---------------------------------------------------------------------------

/// How a variable is assigned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Op {
    /// `:=` or `::=`
    Simple,
    /// `=`
    Recursive,
    /// `?=`
    IfUnset,
    /// `+=`
    Append,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Item {
    Assign {
        name: String,
        op: Op,
        value: String,
        line: usize,
    },
    Define {
        name: String,
        body: Vec<String>,
        line: usize,
    },
    Include {
        path: String,
        line: usize,
    },
    /// Anything else (`$(eval ...)`, conditionals, rules).
    Other {
        text: String,
        line: usize,
    },
}

impl Item {
    fn line(&self) -> usize {
        match self {
            Item::Assign { line, .. }
            | Item::Define { line, .. }
            | Item::Include { line, .. }
            | Item::Other { line, .. } => *line,
        }
    }
}

/// A make variable name as package Makefiles write them (`PKG_NAME`,
/// `Build/Compile`, `Package/lanwatch/install`).
fn is_var_name(s: &str) -> bool {
    !s.is_empty()
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '/' | '.' | '-' | '%'))
}

/// `NAME op value` for one logical line, or None if it is no assignment.
fn parse_assignment(text: &str) -> Option<(String, Op, String)> {
    let text = text.trim_start();
    let text = text
        .strip_prefix("override ")
        .or_else(|| text.strip_prefix("export "))
        .unwrap_or(text)
        .trim_start();
    let bytes = text.as_bytes();
    for (i, &b) in bytes.iter().enumerate() {
        if b != b'=' {
            continue;
        }
        let (name_end, op) = if text[..i].ends_with("::") {
            (i - 2, Op::Simple)
        } else if text[..i].ends_with(':') {
            (i - 1, Op::Simple)
        } else if text[..i].ends_with('?') {
            (i - 1, Op::IfUnset)
        } else if text[..i].ends_with('+') {
            (i - 1, Op::Append)
        } else {
            (i, Op::Recursive)
        };
        let name = text[..name_end].trim();
        if !is_var_name(name) {
            return None;
        }
        return Some((name.to_string(), op, text[i + 1..].trim().to_string()));
    }
    None
}

/// Reads a Makefile into its items, in order. Comments and blank lines are
/// dropped; a line ending in `\` continues on the next one (joined with a
/// space, as make does); `define NAME` … `endef` bodies are kept verbatim,
/// nested defines included.
fn parse_makefile(text: &str) -> Vec<Item> {
    let lines: Vec<&str> = text.lines().collect();
    let mut items = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let start = i + 1;
        let first = lines[i];
        i += 1;
        if first.trim_start().starts_with('#') || first.trim().is_empty() {
            continue;
        }
        if let Some(rest) = first.trim_start().strip_prefix("define ") {
            let name = rest
                .trim()
                .trim_end_matches(":=")
                .trim_end_matches('=')
                .trim()
                .to_string();
            let mut body = Vec::new();
            let mut depth = 1;
            while i < lines.len() {
                let l = lines[i];
                i += 1;
                let t = l.trim_start();
                if t.starts_with("define ") {
                    depth += 1;
                } else if t == "endef" || t.starts_with("endef ") {
                    depth -= 1;
                    if depth == 0 {
                        break;
                    }
                }
                body.push(l.to_string());
            }
            items.push(Item::Define {
                name,
                body,
                line: start,
            });
            continue;
        }
        let mut logical = first.to_string();
        while logical.ends_with('\\') && i < lines.len() {
            logical.pop();
            logical = format!("{} {}", logical.trim_end(), lines[i].trim());
            i += 1;
        }
        let logical = logical.trim_end_matches('\\').trim_end().to_string();
        let trimmed = logical.trim_start();
        if let Some(path) = trimmed
            .strip_prefix("include ")
            .or_else(|| trimmed.strip_prefix("-include "))
        {
            items.push(Item::Include {
                path: path.trim().to_string(),
                line: start,
            });
        } else if let Some((name, op, value)) = parse_assignment(&logical) {
            items.push(Item::Assign {
                name,
                op,
                value,
                line: start,
            });
        } else {
            items.push(Item::Other {
                text: logical,
                line: start,
            });
        }
    }
    items
}

/// The assignments in a `define` body (`Package/NAME` holds `URL:=` etc.).
fn define_assignments(body: &[String]) -> BTreeMap<String, String> {
    parse_makefile(&body.join("\n"))
        .into_iter()
        .filter_map(|item| match item {
            Item::Assign { name, value, .. } => Some((name, value)),
            _ => None,
        })
        .collect()
}

/// The package Makefile, read.
struct Package {
    items: Vec<Item>,
}

impl Package {
    fn load() -> Package {
        let path = root().join(MAKEFILE);
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()));
        Package {
            items: parse_makefile(&text),
        }
    }

    /// Every top-level assignment to `name`, in order.
    fn assignments(&self, name: &str) -> Vec<(Op, &str, usize)> {
        self.items
            .iter()
            .filter_map(|item| match item {
                Item::Assign {
                    name: n,
                    op,
                    value,
                    line,
                } if n == name => Some((*op, value.as_str(), *line)),
                _ => None,
            })
            .collect()
    }

    /// The value of a variable set exactly once with `:=`.
    fn var(&self, name: &str) -> String {
        let found = self.assignments(name);
        assert_eq!(
            found.len(),
            1,
            "{MAKEFILE}: {name} should be assigned exactly once, found {found:?}"
        );
        let (op, value, line) = found[0];
        assert_eq!(
            op,
            Op::Simple,
            "{MAKEFILE}:{line}: {name} should be assigned with :="
        );
        value.to_string()
    }

    /// `value` with `$(NAME)` references to this Makefile's own simple
    /// variables replaced; other references are left as written.
    fn expand(&self, value: &str) -> String {
        let mut out = value.to_string();
        for _ in 0..8 {
            let mut changed = false;
            for item in &self.items {
                if let Item::Assign {
                    name,
                    op: Op::Simple,
                    value,
                    ..
                } = item
                {
                    let reference = format!("$({name})");
                    if out.contains(&reference) {
                        out = out.replace(&reference, value);
                        changed = true;
                    }
                }
            }
            if !changed {
                break;
            }
        }
        out
    }

    fn define(&self, name: &str) -> Option<(&[String], usize)> {
        self.items.iter().find_map(|item| match item {
            Item::Define {
                name: n,
                body,
                line,
            } if n == name => Some((body.as_slice(), *line)),
            _ => None,
        })
    }

    fn include_line(&self, path: &str) -> Option<usize> {
        self.items.iter().find_map(|item| match item {
            Item::Include { path: p, line } if p == path => Some(*line),
            _ => None,
        })
    }
}

// ---------------------------------------------------------------------------
// Independent readings of Cargo.toml, the SPDX expression and git.
// ---------------------------------------------------------------------------

/// Cargo's own reading of Cargo.toml: the lanwatch package's metadata.
fn cargo_package() -> Value {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .arg("--manifest-path")
        .arg(root().join("Cargo.toml"))
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "cargo metadata failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let doc: Value = serde_json::from_slice(&out.stdout).expect("cargo metadata prints JSON");
    doc["packages"]
        .as_array()
        .and_then(|p| p.iter().find(|p| p["name"] == "lanwatch"))
        .cloned()
        .expect("cargo metadata lists the lanwatch package")
}

/// Parses an SPDX licence expression with node's `spdx-expression-parse`
/// (Debian `node-spdx-expression-parse`, which checks every identifier
/// against the SPDX licence list) and returns its licence identifiers.
/// Err carries the parser's complaint.
fn spdx_ids(expression: &str) -> Result<BTreeSet<String>, String> {
    let script = r#"
const parse = require("spdx-expression-parse");
const ids = new Set();
const walk = (node) => {
  if (node.license) ids.add(node.license);
  if (node.left) walk(node.left);
  if (node.right) walk(node.right);
};
try {
  walk(parse(process.argv[1]));
  console.log(JSON.stringify([...ids]));
} catch (e) {
  console.error(e.message);
  process.exit(2);
}
"#;
    let out = Command::new("node")
        .arg("-e")
        .arg(script)
        .arg(expression)
        .env("NODE_PATH", "/usr/share/nodejs")
        .output()
        .map_err(|e| {
            format!("cannot run node: {e} (Debian packages nodejs, node-spdx-expression-parse)")
        })?;
    let stderr = String::from_utf8_lossy(&out.stderr);
    if stderr.contains("Cannot find module") {
        panic!("node-spdx-expression-parse is not installed: run scripts/test (it installs the Debian package node-spdx-expression-parse)");
    }
    if !out.status.success() {
        return Err(stderr.trim().to_string());
    }
    let ids: Vec<String> =
        serde_json::from_slice(&out.stdout).map_err(|e| format!("node printed no JSON: {e}"))?;
    Ok(ids.into_iter().collect())
}

/// The pinned commit's copy of `path`, when this is a full git checkout.
/// None when the tree is no git checkout or a shallow one (the commit may
/// not be in it); a checkout that lacks the commit or the file fails.
fn at_commit(commit: &str, path: &str) -> Option<Result<Vec<u8>, String>> {
    let git = |args: &[&str]| {
        Command::new("git")
            .arg("-C")
            .arg(root())
            .args(args)
            .output()
    };
    let inside = git(&["rev-parse", "--is-inside-work-tree"]).ok()?;
    if !inside.status.success() {
        return None;
    }
    let shallow = git(&["rev-parse", "--is-shallow-repository"]).ok()?;
    if String::from_utf8_lossy(&shallow.stdout).trim() == "true" {
        return None;
    }
    let show = git(&["show", &format!("{commit}:{path}")]).ok()?;
    Some(if show.status.success() {
        Ok(show.stdout)
    } else {
        Err(String::from_utf8_lossy(&show.stderr).trim().to_string())
    })
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len
        && s.bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
}

// ---------------------------------------------------------------------------
// The parser itself.
// ---------------------------------------------------------------------------

#[test]
fn parser_reads_assignments_continuations_and_defines() {
    let items = parse_makefile(
        "# comment\n\
         A:=one\n\
         B = two \\\n  three\n\
         C?=x\n\
         C+= --y\n\
         include $(TOPDIR)/rules.mk\n\
         define Package/p\n  URL:=u\n  define inner\n  endef\nendef\n\
         $(eval $(call BuildPackage,p))\n",
    );
    assert_eq!(
        items,
        vec![
            Item::Assign {
                name: "A".into(),
                op: Op::Simple,
                value: "one".into(),
                line: 2
            },
            Item::Assign {
                name: "B".into(),
                op: Op::Recursive,
                value: "two three".into(),
                line: 3
            },
            Item::Assign {
                name: "C".into(),
                op: Op::IfUnset,
                value: "x".into(),
                line: 5
            },
            Item::Assign {
                name: "C".into(),
                op: Op::Append,
                value: "--y".into(),
                line: 6
            },
            Item::Include {
                path: "$(TOPDIR)/rules.mk".into(),
                line: 7
            },
            Item::Define {
                name: "Package/p".into(),
                body: vec!["  URL:=u".into(), "  define inner".into(), "  endef".into()],
                line: 8
            },
            Item::Other {
                text: "$(eval $(call BuildPackage,p))".into(),
                line: 13
            },
        ]
    );
    // A rule or a recipe line is no assignment.
    assert_eq!(parse_assignment("all: x=y"), None);
    assert_eq!(parse_assignment("\t$(INSTALL_DIR) $(1)/usr"), None);
    assert_eq!(
        parse_assignment("Build/Compile=$(call Build/Compile/Cargo)"),
        Some((
            "Build/Compile".into(),
            Op::Recursive,
            "$(call Build/Compile/Cargo)".into()
        ))
    );
}

#[test]
fn spdx_parser_rejects_what_is_no_spdx_expression() {
    assert!(spdx_ids("Not-A-Licence-1.0").is_err());
    assert!(
        spdx_ids("Apache-2.0 MIT").is_err(),
        "a list is no expression"
    );
    assert_eq!(
        spdx_ids("(MIT OR Apache-2.0)").unwrap(),
        BTreeSet::from(["MIT".to_string(), "Apache-2.0".to_string()])
    );
}

// ---------------------------------------------------------------------------
// The Makefile's shape.
// ---------------------------------------------------------------------------

#[test]
fn source_is_a_pinned_download() {
    let p = Package::load();
    if p.assignments("PKG_SOURCE_PROTO").is_empty() {
        // A release tarball instead of a git checkout.
        assert!(!p.var("PKG_SOURCE").is_empty(), "PKG_SOURCE is empty");
        assert!(
            !p.var("PKG_SOURCE_URL").is_empty(),
            "PKG_SOURCE_URL is empty"
        );
        let hash = p.var("PKG_HASH");
        assert!(is_hex(&hash, 64), "PKG_HASH {hash:?} is no sha256");
        return;
    }
    assert_eq!(p.var("PKG_SOURCE_PROTO"), "git");
    assert!(
        p.expand(&p.var("PKG_SOURCE_URL")).contains("://"),
        "PKG_SOURCE_URL is no URL"
    );
    let version = p.var("PKG_SOURCE_VERSION");
    assert!(
        is_hex(&version, 40),
        "PKG_SOURCE_VERSION {version:?} should pin a full commit id"
    );
    let hash = p.var("PKG_MIRROR_HASH");
    assert!(
        is_hex(&hash, 64),
        "PKG_MIRROR_HASH {hash:?} should be a sha256 (`make package/lanwatch/check FIXUP=1` writes it)"
    );
}

#[test]
fn pinned_commit_is_a_commit_of_this_repository_with_the_same_version() {
    let p = Package::load();
    let commit = p.var("PKG_SOURCE_VERSION");
    match at_commit(&commit, "Cargo.toml") {
        None => eprintln!("not a full git checkout: the pinned commit is not looked up"),
        Some(Err(e)) => panic!("PKG_SOURCE_VERSION {commit} is not in this repository: {e}"),
        Some(Ok(manifest)) => {
            let manifest = String::from_utf8_lossy(&manifest);
            let version = manifest
                .lines()
                .find_map(|l| l.strip_prefix("version = "))
                .map(|v| v.trim().trim_matches('"').to_string())
                .expect("the pinned Cargo.toml has a version line");
            assert_eq!(
                version,
                p.var("PKG_VERSION"),
                "the pinned commit's Cargo.toml version differs from PKG_VERSION"
            );
            for needed in ["Cargo.lock", "LICENSE-APACHE", "LICENSE-MIT"] {
                if let Some(Err(e)) = at_commit(&commit, needed) {
                    panic!("the pinned commit {commit} has no {needed}: {e}");
                }
            }
        }
    }
}

#[test]
fn no_build_prepare_or_build_compile_of_its_own() {
    let p = Package::load();
    for item in &p.items {
        let name = match item {
            Item::Assign { name, .. } | Item::Define { name, .. } => name,
            _ => continue,
        };
        assert!(
            name != "Build/Prepare" && name != "Build/Compile",
            "{MAKEFILE}:{}: defines {name}; rust-package.mk and the default unpack do that",
            item.line()
        );
    }
}

#[test]
fn includes_rules_package_and_rust_package_mk_in_that_order() {
    let p = Package::load();
    let rules = p
        .include_line("$(TOPDIR)/rules.mk")
        .expect("includes $(TOPDIR)/rules.mk");
    let package = p.include_line(PACKAGE_MK).expect("includes package.mk");
    let rust = p
        .include_line(RUST_PACKAGE_MK)
        .expect("includes the packages feed's rust-package.mk");
    assert!(rules < package && package < rust, "include order");
    let first_line = p.items.first().map(Item::line);
    assert_eq!(first_line, Some(rules), "rules.mk comes first");
}

#[test]
fn licence_is_the_cargo_licence_as_an_spdx_list() {
    let p = Package::load();
    let listed: Vec<String> = p
        .var("PKG_LICENSE")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!listed.is_empty(), "PKG_LICENSE is empty");
    for id in &listed {
        let ids = spdx_ids(id).unwrap_or_else(|e| {
            panic!("PKG_LICENSE entry {id:?} is no SPDX licence identifier: {e}")
        });
        assert_eq!(
            ids,
            BTreeSet::from([id.clone()]),
            "{id:?} is one identifier"
        );
    }
    let cargo = cargo_package();
    let expression = cargo["license"]
        .as_str()
        .expect("Cargo.toml has a license expression");
    let from_cargo =
        spdx_ids(expression).unwrap_or_else(|e| panic!("Cargo.toml license {expression:?}: {e}"));
    let listed_set: BTreeSet<String> = listed.iter().cloned().collect();
    assert_eq!(listed_set.len(), listed.len(), "PKG_LICENSE repeats an id");
    assert_eq!(
        listed_set, from_cargo,
        "PKG_LICENSE should list the identifiers of Cargo.toml's {expression:?}"
    );
}

#[test]
fn licence_files_exist_at_the_root_and_hold_those_licences() {
    let p = Package::load();
    let files: Vec<String> = p
        .var("PKG_LICENSE_FILES")
        .split_whitespace()
        .map(str::to_string)
        .collect();
    assert!(!files.is_empty(), "PKG_LICENSE_FILES is empty");
    let mut texts = String::new();
    for f in &files {
        assert!(!f.contains('/'), "{f}: licence files sit at the root");
        let path = root().join(f);
        let text = fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("PKG_LICENSE_FILES names {f}: {e}"));
        texts.push_str(&text);
    }
    // Each licence's own wording, from its text as SPDX publishes it.
    let wording = |id: &str| -> &'static [&'static str] {
        match id {
            "Apache-2.0" => &["Apache License", "Version 2.0, January 2004"],
            "MIT" => &[
                "Permission is hereby granted, free of charge, to any person obtaining a copy",
                "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND",
            ],
            other => panic!("no wording known for {other}: add it here"),
        }
    };
    let flat = texts.split_whitespace().collect::<Vec<_>>().join(" ");
    for id in p.var("PKG_LICENSE").split_whitespace() {
        for phrase in wording(id) {
            assert!(
                flat.contains(phrase),
                "no file of PKG_LICENSE_FILES holds the {id} licence ({phrase:?})"
            );
        }
    }
}

#[test]
fn maintainer_is_a_name_and_an_address() {
    let p = Package::load();
    let maintainer = p.var("PKG_MAINTAINER");
    let (name, rest) = maintainer
        .split_once(" <")
        .unwrap_or_else(|| panic!("PKG_MAINTAINER {maintainer:?} is not `Name <email>`"));
    let email = rest
        .strip_suffix('>')
        .unwrap_or_else(|| panic!("PKG_MAINTAINER {maintainer:?} does not end in `>`"));
    assert!(
        !name.trim().is_empty() && !name.contains(['<', '>']),
        "name {name:?}"
    );
    let (local, domain) = email
        .split_once('@')
        .unwrap_or_else(|| panic!("{email:?} is no e-mail address"));
    assert!(
        !local.is_empty()
            && domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !email.contains([' ', '<', '>'])
            && !domain.contains('@'),
        "{email:?} is no e-mail address"
    );
}

#[test]
fn the_repository_url_is_written_once_and_both_urls_follow_it() {
    let p = Package::load();
    // Every literal URL in the Makefile's values, top level and defines.
    let mut literal = Vec::new();
    for item in &p.items {
        match item {
            Item::Assign {
                name, value, line, ..
            } if value.contains("://") => literal.push((name.clone(), value.clone(), *line)),
            Item::Define { name, body, line } => {
                for (n, v) in define_assignments(body) {
                    if v.contains("://") {
                        literal.push((format!("{name}: {n}"), v, *line));
                    }
                }
            }
            _ => {}
        }
    }
    assert_eq!(
        literal.len(),
        1,
        "the repository's URL should be written in one place, found {literal:?}"
    );
    let url = literal[0].1.clone();
    assert!(url.starts_with("https://"), "{url}");
    assert_eq!(p.expand(&p.var("PKG_SOURCE_URL")), url, "PKG_SOURCE_URL");
    let (body, _) = p
        .define("Package/lanwatch")
        .expect("defines Package/lanwatch");
    let fields = define_assignments(body);
    let package_url = fields.get("URL").expect("Package/lanwatch sets URL");
    assert_eq!(p.expand(package_url), url, "Package/lanwatch URL");
}

#[test]
fn version_is_the_cargo_version() {
    let p = Package::load();
    let cargo = cargo_package();
    assert_eq!(
        Some(p.var("PKG_VERSION").as_str()),
        cargo["version"].as_str(),
        "PKG_VERSION and Cargo.toml's version differ"
    );
}

#[test]
fn default_features_are_left_out_through_rust_package_mk() {
    let p = Package::load();
    let rust_include = p
        .include_line(RUST_PACKAGE_MK)
        .expect("includes rust-package.mk");
    let cargo = cargo_package();
    let features = cargo["features"].as_object().expect("Cargo.toml features");
    let default: Vec<&str> = features
        .get("default")
        .and_then(Value::as_array)
        .map(|d| d.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    assert!(
        default.contains(&"report"),
        "`report` is a default feature: the router build leaves it out"
    );

    // rust-package.mk sets CARGO_PKG_ARGS when it is included and passes it
    // to cargo install: --no-default-features is added to it afterwards.
    let args: Vec<_> = p.assignments("CARGO_PKG_ARGS");
    let after: Vec<_> = args
        .iter()
        .filter(|(op, value, line)| {
            *op == Op::Append && *line > rust_include && value.contains("--no-default-features")
        })
        .collect();
    assert_eq!(
        after.len(),
        1,
        "CARGO_PKG_ARGS+= --no-default-features after including rust-package.mk, found {args:?}"
    );
    assert!(
        args.iter().all(|(op, _, _)| *op == Op::Append),
        "CARGO_PKG_ARGS is only appended to (rust-package.mk's --locked stays): {args:?}"
    );

    // Features to turn on go through RUST_PKG_FEATURES, set before the include.
    for (_, value, line) in p.assignments("RUST_PKG_FEATURES") {
        assert!(
            line < rust_include,
            "RUST_PKG_FEATURES is read at the include"
        );
        for feature in value.split([' ', ',']).filter(|f| !f.is_empty()) {
            assert!(
                features.contains_key(feature),
                "RUST_PKG_FEATURES names {feature:?}, which Cargo.toml does not have"
            );
            assert!(
                !default.contains(&feature),
                "RUST_PKG_FEATURES turns a default feature back on: {feature}"
            );
        }
    }
    // Nothing else passes cargo flags.
    for item in &p.items {
        let text = match item {
            Item::Assign { name, value, .. } if name != "CARGO_PKG_ARGS" => value.clone(),
            Item::Define { body, .. } => body.join("\n"),
            Item::Other { text, .. } => text.clone(),
            _ => continue,
        };
        assert!(
            !text.contains("--features") && !text.contains("--no-default-features"),
            "{MAKEFILE}:{}: cargo flags outside rust-package.mk's variables",
            item.line()
        );
    }
}

#[test]
fn cargo_lock_is_honoured() {
    let p = Package::load();
    let rust_include = p
        .include_line(RUST_PACKAGE_MK)
        .expect("includes rust-package.mk");
    let locked = p.assignments("RUST_PKG_LOCKED");
    assert_eq!(locked.len(), 1, "RUST_PKG_LOCKED set once: {locked:?}");
    let (_, value, line) = locked[0];
    assert_eq!(value, "1", "RUST_PKG_LOCKED:=1 (cargo install --locked)");
    assert!(
        line < rust_include,
        "RUST_PKG_LOCKED must be set before rust-package.mk, which reads it when included"
    );
    assert!(
        root().join("Cargo.lock").is_file(),
        "Cargo.lock is committed"
    );
}

#[test]
fn install_section_names_only_files_that_exist() {
    let p = Package::load();
    let package_dir = root()
        .join(MAKEFILE)
        .parent()
        .map(Path::to_path_buf)
        .unwrap();
    let (body, _) = p
        .define("Package/lanwatch/install")
        .expect("defines Package/lanwatch/install");
    let commit = p.var("PKG_SOURCE_VERSION");
    let cargo = cargo_package();
    let bins: BTreeSet<&str> = cargo["targets"]
        .as_array()
        .expect("cargo targets")
        .iter()
        .filter(|t| {
            t["kind"]
                .as_array()
                .is_some_and(|k| k.iter().any(|k| k == "bin"))
        })
        .filter_map(|t| t["name"].as_str())
        .collect();

    let mut installed_from_files = BTreeSet::new();
    let mut destinations = BTreeSet::new();
    let mut checked = 0;
    for line in body {
        let words: Vec<&str> = line.split_whitespace().collect();
        if words
            .first()
            .is_some_and(|w| w.starts_with("$(INSTALL_") && *w != "$(INSTALL_DIR)")
        {
            let dest = words.last().copied().unwrap_or_default();
            destinations.insert(dest.trim_start_matches("$(1)").to_string());
        }
        for word in words {
            if let Some(rel) = word
                .strip_prefix("./files/")
                .or_else(|| word.strip_prefix("$(CURDIR)/files/"))
            {
                assert!(
                    package_dir.join("files").join(rel).is_file(),
                    "the install section names files/{rel}, which does not exist"
                );
                installed_from_files.insert(rel.to_string());
                checked += 1;
            } else if let Some(rel) = word.strip_prefix("$(PKG_INSTALL_DIR)/bin/") {
                assert!(
                    bins.contains(rel),
                    "the install section takes bin/{rel}, which Cargo.toml does not build ({bins:?})"
                );
                checked += 1;
            } else if let Some(rel) = word.strip_prefix("$(PKG_BUILD_DIR)/") {
                // The build directory holds the pinned source.
                assert!(
                    root().join(rel).is_file(),
                    "the install section names {rel} of the source, which does not exist"
                );
                if let Some(Err(e)) = at_commit(&commit, rel) {
                    panic!("the pinned commit {commit} has no {rel}: {e}");
                }
                checked += 1;
            }
        }
    }
    assert!(
        checked >= 5,
        "found only {checked} installed files in the install section"
    );

    // Every file the feed ships is installed, and every conffile is one of them.
    for entry in fs::read_dir(package_dir.join("files")).expect("files/ exists") {
        let name = entry.expect("files/ entry").file_name();
        let name = name.to_string_lossy().to_string();
        assert!(
            installed_from_files.contains(&name),
            "files/{name} is shipped but not installed"
        );
    }
    let (conffiles, _) = p
        .define("Package/lanwatch/conffiles")
        .expect("defines Package/lanwatch/conffiles");
    for conffile in conffiles.iter().map(|l| l.trim()).filter(|l| !l.is_empty()) {
        assert!(
            destinations.contains(conffile),
            "conffile {conffile} is not installed ({destinations:?})"
        );
    }
}
