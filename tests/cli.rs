//! The command line as a user meets it: errors that name the file and the
//! offset, --keep-going, --version, and `--format prometheus` being exactly
//! what `/metrics` serves.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;

fn lanwatch(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(args)
        .output()
        .expect("run lanwatch")
}

fn frames_counted(doc: &serde_json::Value) -> u64 {
    let p = &doc["health"]["packets"];
    ["accounted", "lan", "no_client", "not_ip", "malformed"]
        .iter()
        .map(|k| p[*k].as_u64().unwrap_or(0))
        .sum()
}

/// The sample, cut in the middle of a packet record.
fn truncated_sample(dir: &std::path::Path) -> std::path::PathBuf {
    let bytes = std::fs::read(repo_file("samples/home-lan.pcap")).unwrap();
    let cut = dir.join("cut.pcap");
    std::fs::write(&cut, &bytes[..bytes.len() / 2 + 7]).unwrap();
    cut
}

#[test]
fn version_and_help_explain_themselves() {
    let out = lanwatch(&["--version"]);
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains(env!("CARGO_PKG_VERSION")));
    for sub in ["capture", "replay"] {
        let out = lanwatch(&[sub, "--help"]);
        assert!(out.status.success());
        let help = String::from_utf8_lossy(&out.stdout);
        for option in [
            "--lan",
            "--router-mac",
            "--max-clients",
            "--max-flows",
            "--protocols",
        ] {
            assert!(help.contains(option), "{sub} --help explains {option}");
        }
    }
}

#[test]
fn a_missing_file_is_an_error_naming_it() {
    let out = lanwatch(&["replay", "/nonexistent/lw.pcap"]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("/nonexistent/lw.pcap"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");
}

#[test]
fn a_truncated_file_names_the_offset_and_keep_going_keeps_what_was_read() {
    require_tool("tshark", "tshark");
    let dir = std::env::temp_dir().join(format!("lw-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let cut = truncated_sample(&dir);
    let path = cut.to_str().unwrap();

    let out = lanwatch(&["replay", path]);
    assert!(
        !out.status.success(),
        "a damaged file fails without --keep-going"
    );
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains(path) && err.contains("offset"), "{err}");
    assert!(out.stdout.is_empty(), "no table from a failed replay");

    // tshark reads the same whole records before the cut.
    let tshark = Command::new("tshark")
        .args(["-r", path, "-T", "fields", "-e", "frame.number"])
        .output()
        .unwrap();
    let whole_records = String::from_utf8_lossy(&tshark.stdout).lines().count() as u64;
    assert!(whole_records > 100);

    let out = lanwatch(&["replay", path, "--keep-going", "--format", "json"]);
    assert!(
        !out.status.success(),
        "the damage still shows in the exit status"
    );
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(frames_counted(&doc), whole_records);
    assert!(!doc["clients"].as_array().unwrap().is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn format_prometheus_is_exactly_what_metrics_serves() {
    let sample = repo_file("samples/home-lan.pcap");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "prometheus", "--listen", &addr])
            .arg(&sample)
            .stdout(Stdio::piped())
            .spawn()
            .expect("start lanwatch"),
    ));
    let stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
    // The printed exposition ends with the build-info family's sample.
    let mut printed = String::new();
    let mut reader = BufReader::new(stdout);
    let mut line = String::new();
    while reader.read_line(&mut line).unwrap() > 0 {
        printed.push_str(&line);
        let done = line.starts_with("lanwatch_build_info{");
        line.clear();
        if done {
            break;
        }
    }
    let (status, served) = wait_for("/metrics", 30, || http_get(&addr, "/metrics").ok());
    assert_eq!(status, 200);
    assert_eq!(served, printed, "byte for byte");
    let status = child.terminate(10).expect("stops on SIGTERM");
    assert!(status.success());
}
