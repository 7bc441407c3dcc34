//! The repository stands on its own: a fresh clone with nothing beside it
//! has every file its tests read, the real captures are the byte-identical
//! copies their provenance file says they are, and the licences are there.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::root;

const CAPTURES: &str = "tests/captures";

/// The files git tracks, or, outside a git checkout, every file of the tree
/// but build output.
fn tracked_files() -> Vec<PathBuf> {
    let out = Command::new("git")
        .arg("-C")
        .arg(root())
        .args(["ls-files", "-z"])
        .output();
    if let Ok(out) = out {
        if out.status.success() && !out.stdout.is_empty() {
            return out
                .stdout
                .split(|&b| b == 0)
                .filter(|p| !p.is_empty())
                .map(|p| root().join(String::from_utf8_lossy(p).as_ref()))
                .collect();
        }
    }
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if path.is_dir() {
                if !matches!(name.as_str(), "target" | ".git" | "corpus" | "artifacts") {
                    walk(&path, out);
                }
            } else {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root(), &mut out);
    out
}

#[test]
fn no_tracked_file_refers_to_a_folder_beside_the_checkout() {
    // Spelled in two pieces so that this file does not match itself.
    let beside = format!("{}/{}", "..", "shared");
    let offenders: Vec<String> = tracked_files()
        .iter()
        .filter(|p| p.is_file())
        .filter(|p| {
            fs::read(p)
                .map(|bytes| bytes.windows(beside.len()).any(|w| w == beside.as_bytes()))
                .unwrap_or(false)
        })
        .map(|p| p.strip_prefix(root()).unwrap_or(p).display().to_string())
        .collect();
    assert!(
        offenders.is_empty(),
        "these files refer to {beside}, which a fresh clone does not have: {offenders:?}"
    );
}

/// `file -> sha256` for every row of PROVENANCE.md's file tables.
fn provenance_hashes() -> BTreeMap<String, String> {
    let text = fs::read_to_string(root().join(CAPTURES).join("PROVENANCE.md")).unwrap();
    let mut hashes = BTreeMap::new();
    for line in text.lines().filter(|l| l.starts_with("| `")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let file = cells[1].trim_matches('`');
        if let Some(hash) = cells
            .iter()
            .map(|c| c.trim_matches('`'))
            .find(|c| c.len() == 64 && c.bytes().all(|b| b.is_ascii_hexdigit()))
        {
            hashes.insert(file.to_string(), hash.to_string());
        }
    }
    hashes
}

/// sha256 of each file, by coreutils' sha256sum (not by our own code).
fn sha256sum(files: &[PathBuf]) -> BTreeMap<String, String> {
    let out = Command::new("sha256sum").args(files).output().unwrap();
    assert!(out.status.success(), "sha256sum failed");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let (hash, path) = l.split_once("  ").unwrap();
            let rel = Path::new(path)
                .strip_prefix(root().join(CAPTURES))
                .unwrap()
                .display()
                .to_string();
            (rel, hash.to_string())
        })
        .collect()
}

#[test]
fn every_real_capture_is_the_file_its_provenance_names() {
    let listed = provenance_hashes();
    let mut files = Vec::new();
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.file_name().is_some_and(|n| n != "PROVENANCE.md") {
                out.push(path);
            }
        }
    }
    walk(&root().join(CAPTURES), &mut files);
    files.sort();
    let actual = sha256sum(&files);
    let unlisted: Vec<&String> = actual.keys().filter(|f| !listed.contains_key(*f)).collect();
    assert!(
        unlisted.is_empty(),
        "files without provenance: {unlisted:?}"
    );
    let missing: Vec<&String> = listed.keys().filter(|f| !actual.contains_key(*f)).collect();
    assert!(
        missing.is_empty(),
        "PROVENANCE.md lists missing files: {missing:?}"
    );
    for (file, hash) in &listed {
        assert_eq!(&actual[file], hash, "{file} is not the upstream file");
    }
    // 45 captures and their expected results.
    let captures = listed
        .keys()
        .filter(|f| f.ends_with(".pcap") || f.ends_with(".pcapng"))
        .count();
    assert_eq!(captures, 45);
}

#[test]
fn every_capture_folder_names_its_repository_commit_and_licence() {
    let provenance = fs::read_to_string(root().join(CAPTURES).join("PROVENANCE.md")).unwrap();
    let notice = fs::read_to_string(root().join("NOTICE")).unwrap();
    for entry in fs::read_dir(root().join(CAPTURES)).unwrap() {
        let path = entry.unwrap().path();
        if !path.is_dir() {
            continue;
        }
        let folder = format!("`{}/`", path.file_name().unwrap().to_string_lossy());
        let row = provenance
            .lines()
            .find(|l| l.starts_with(&format!("| {folder} |")))
            .unwrap_or_else(|| panic!("PROVENANCE.md has no snapshot row for {folder}"));
        let cells: Vec<&str> = row.split('|').map(str::trim).collect();
        assert!(cells[2].starts_with("https://github.com/"), "{row}");
        let commit = cells[3].trim_matches('`');
        assert!(
            commit.len() == 40 && commit.bytes().all(|b| b.is_ascii_hexdigit()),
            "{row}"
        );
        assert!(!cells[4].is_empty(), "{folder} has no licence: {row}");
        let in_notice = format!("tests/captures/{}/", folder.trim_matches(['`', '/']));
        assert!(
            notice.contains(&in_notice),
            "NOTICE does not name {in_notice}"
        );
    }
}

#[test]
fn the_licences_cargo_toml_names_are_in_the_repository() {
    let manifest = fs::read_to_string(root().join("Cargo.toml")).unwrap();
    assert!(manifest.contains("license = \"MIT OR Apache-2.0\""));
    let mit = fs::read_to_string(root().join("LICENSE-MIT")).unwrap();
    assert!(mit.starts_with("MIT License") && mit.contains("WITHOUT WARRANTY OF ANY KIND"));
    let apache = fs::read_to_string(root().join("LICENSE-APACHE")).unwrap();
    assert!(apache.contains("Apache License") && apache.contains("Version 2.0, January 2004"));
    assert!(apache.contains("END OF TERMS AND CONDITIONS"));
}

#[test]
fn the_daemon_uses_no_64_bit_atomics() {
    // 32-bit MIPS and ARMv5 OpenWrt targets have none: a build for them fails.
    fn walk(dir: &Path, out: &mut Vec<String>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let text = fs::read_to_string(&path).unwrap();
                for (n, line) in text.lines().enumerate() {
                    if ["AtomicU64", "AtomicI64"].iter().any(|a| line.contains(a)) {
                        out.push(format!("{}:{}", path.display(), n + 1));
                    }
                }
            }
        }
    }
    let mut found = Vec::new();
    walk(&root().join("src"), &mut found);
    assert!(found.is_empty(), "64-bit atomics in {found:?}");
}
