//! `--state-file`: a restart keeps the totals, and a damaged or foreign
//! file is set aside, never fatal. Expected figures come from the
//! independent accounting model (tshark + scripts/expected_accounting.py)
//! run on each capture separately and summed here.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

/// The counters a restart must keep (addresses and active connections
/// are current state, not totals).
#[derive(Debug, Default, PartialEq, Eq, Clone)]
struct Totals {
    protocols: BTreeMap<String, [u64; 5]>,
    lan: [u64; 4],
    dns_queries: BTreeMap<String, u64>,
}

fn totals(figures: &BTreeMap<String, ClientFigures>) -> BTreeMap<String, Totals> {
    figures
        .iter()
        .map(|(k, c)| {
            (
                k.clone(),
                Totals {
                    protocols: c.protocols.clone(),
                    lan: c.lan,
                    dns_queries: c.dns_queries.clone(),
                },
            )
        })
        .collect()
}

fn add(sum: &mut BTreeMap<String, Totals>, more: &BTreeMap<String, Totals>) {
    for (key, t) in more {
        let s = sum.entry(key.clone()).or_default();
        for (proto, v) in &t.protocols {
            let e = s.protocols.entry(proto.clone()).or_default();
            for (a, b) in e.iter_mut().zip(v) {
                *a += b;
            }
        }
        for (a, b) in s.lan.iter_mut().zip(&t.lan) {
            *a += b;
        }
        for (q, n) in &t.dns_queries {
            *s.dns_queries.entry(q.clone()).or_default() += n;
        }
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lanwatch-state-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `lanwatch replay --format json FILE --state-file STATE`, with stderr.
fn replay_with_state(file: &Path, state: &Path) -> (serde_json::Value, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "json"])
        .arg(file)
        .arg("--state-file")
        .arg(state)
        .output()
        .expect("run lanwatch");
    let stderr = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(out.status.success(), "lanwatch failed: {stderr}");
    (serde_json::from_slice(&out.stdout).unwrap(), stderr)
}

fn model(file: &Path) -> BTreeMap<String, Totals> {
    totals(&theirs(&expected_json(&[file.to_path_buf()], &[])))
}

#[test]
fn a_restart_keeps_the_totals_of_the_run_before() {
    let dir = temp_dir("restart");
    let state = dir.join("state.json");
    let a = repo_file("samples/home-lan.pcap");
    let b = real_capture("ndpi/443-git.pcap");

    let (first, _) = replay_with_state(&a, &state);
    assert!(state.exists(), "the state file is written");
    assert_eq!(totals(&ours(&first)), model(&a), "run A alone");

    // Run B starts from A's saved counters.
    let (second, _) = replay_with_state(&b, &state);
    let mut expected = model(&a);
    add(&mut expected, &model(&b));
    assert_eq!(totals(&ours(&second)), expected, "A + B");

    // And again: the same capture twice doubles every counter.
    let (third, _) = replay_with_state(&a, &state);
    add(&mut expected, &model(&a));
    assert_eq!(totals(&ours(&third)), expected, "A + B + A");
    std::fs::remove_dir_all(&dir).unwrap();
}

fn set_aside_files(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.to_string_lossy().contains(".corrupt-"))
        .collect()
}

#[test]
fn a_damaged_state_file_is_set_aside_and_the_run_starts_from_zero() {
    let dir = temp_dir("corrupt");
    let state = dir.join("state.json");
    std::fs::write(&state, b"{\"format\": \"lanwatch-state\", \"vers").unwrap();
    let a = repo_file("samples/home-lan.pcap");
    let (doc, stderr) = replay_with_state(&a, &state);
    assert!(
        stderr.contains("moved it to"),
        "a warning says so: {stderr}"
    );
    assert_eq!(totals(&ours(&doc)), model(&a), "counts from zero");
    let aside = set_aside_files(&dir);
    assert_eq!(aside.len(), 1, "{aside:?}");
    assert_eq!(
        std::fs::read(&aside[0]).unwrap(),
        b"{\"format\": \"lanwatch-state\", \"vers",
        "the damaged file is kept as it was"
    );
    // A fresh state was written in its place.
    let fresh: serde_json::Value = serde_json::from_slice(&std::fs::read(&state).unwrap()).unwrap();
    assert_eq!(fresh["format"], "lanwatch-state");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_file_of_another_instance_or_version_is_set_aside() {
    let a = repo_file("tests/data/generated/lan_and_broadcast.pcap");
    for (tag, header) in [
        (
            "foreign",
            r#""format":"lanwatch-state","version":1,"instance":"some-other-router""#,
        ),
        (
            "newer",
            r#""format":"lanwatch-state","version":99,"instance":"x""#,
        ),
        ("other", r#""format":"nlbwmon","version":1,"instance":"x""#),
    ] {
        let dir = temp_dir(tag);
        let state = dir.join("state.json");
        let text = format!(
            r#"{{{header},"saved_at":0,"clients":[{{"key":"02:00:00:00:00:01","first_seen":0,"last_seen":0,
                "protocols":[{{"protocol":"HTTPS","rx_bytes":1000000,"tx_bytes":0,"rx_packets":1,"tx_packets":0,"connections":1}}]}}]}}"#
        );
        std::fs::write(&state, &text).unwrap();
        let (doc, stderr) = replay_with_state(&a, &state);
        assert!(stderr.contains("moved it to"), "{tag}: {stderr}");
        assert!(
            !totals(&ours(&doc)).contains_key("02:00:00:00:00:01"),
            "{tag}: nothing of it was restored"
        );
        assert_eq!(set_aside_files(&dir).len(), 1, "{tag}");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[test]
fn the_state_file_holds_no_domain_names() {
    let dir = temp_dir("names");
    let state = dir.join("state.json");
    let a = repo_file("samples/home-lan.pcap");
    let (doc, _) = replay_with_state(&a, &state);
    let text = std::fs::read_to_string(&state).unwrap();
    let mut checked = 0;
    for client in doc["clients"].as_array().unwrap() {
        for d in client["domains"].as_array().into_iter().flatten() {
            let name = d["domain"].as_str().unwrap();
            assert!(!text.contains(name), "{name} is in the state file");
            checked += 1;
        }
    }
    assert!(checked > 0, "the sample has domains to look for");
    std::fs::remove_dir_all(&dir).unwrap();
}
