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

/// Whether a process with this pid is running (the kernel's view).
fn is_running(pid: u32) -> bool {
    Path::new(&format!("/proc/{pid}")).exists()
}

#[test]
fn temporary_files_of_killed_saves_are_removed_at_start_and_only_those() {
    let dir = temp_dir("stale");
    let state = dir.join("state.json");
    // A pid no process has (the kernel's limit is below it) and this test's
    // own pid (a live process, but not a lanwatch).
    let dead = 4_194_305u32;
    assert!(!is_running(dead));
    let stale = [
        dir.join(format!("state.json.tmp-{dead}")),
        dir.join(format!("state.json.tmp-{}", std::process::id())),
    ];
    // A live lanwatch's save in progress, and files that are not ours.
    let mut live = ChildGuard(Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--listen", "127.0.0.1:19953"])
            .arg(repo_file("samples/home-lan.pcap"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_for("the other lanwatch", 30, || {
        http_get("127.0.0.1:19953", "/metrics").ok()
    });
    let live_pid = live.0.as_ref().unwrap().id();
    let kept = [
        dir.join(format!("state.json.tmp-{live_pid}")),
        dir.join("state.json.tmp-12ab"),
        dir.join("state.json.tmp-"),
        dir.join(format!("other.json.tmp-{dead}")),
        dir.join(format!("xstate.json.tmp-{dead}")),
    ];
    for path in stale.iter().chain(&kept) {
        std::fs::write(path, vec![b'x'; 256 * 1024]).unwrap();
    }
    let (_, stderr) = replay_with_state(&repo_file("samples/home-lan.pcap"), &state);
    for path in &stale {
        assert!(!path.exists(), "{} removed ({stderr})", path.display());
    }
    for path in &kept {
        assert!(path.exists(), "{} kept", path.display());
    }
    assert!(stderr.contains("removed 2 temporary file(s)"), "{stderr}");
    assert!(state.exists());
    live.terminate(10);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// `/metrics` of `lanwatch replay --listen ADDR SAMPLE --state-file STATE`
/// run as `wrapper...` (once the replay is done), and its stderr.
fn saves_served(wrapper: &[&str], state: &Path, addr: &str) -> (String, String) {
    let dir = state.parent().unwrap().parent().unwrap();
    let stderr_path = dir.join(format!("stderr-{}", addr.replace(':', "-")));
    let mut command = std::process::Command::new(wrapper[0]);
    command
        .args(&wrapper[1..])
        .arg(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "json", "--listen", addr])
        .arg(repo_file("samples/home-lan.pcap"))
        .arg("--state-file")
        .arg(state)
        .stdout(std::process::Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap());
    let mut child = ChildGuard(Some(command.spawn().unwrap()));
    let (_, metrics) = wait_for("/metrics", 30, || {
        let stderr = std::fs::read_to_string(&stderr_path).unwrap_or_default();
        assert!(
            !stderr.lines().any(|l| l.starts_with("lanwatch: ")),
            "failed: {stderr}"
        );
        if !stderr.contains("replay done") {
            return None;
        }
        http_get(addr, "/metrics").ok()
    });
    child.terminate(10);
    (metrics, std::fs::read_to_string(&stderr_path).unwrap())
}

#[test]
fn a_failed_save_is_counted_as_an_error_and_a_good_one_as_ok() {
    require_tool("unshare", "util-linux");
    let dir = temp_dir("saves");
    // A good save.
    std::fs::create_dir_all(dir.join("ok")).unwrap();
    let (metrics, _) = saves_served(&["env"], &dir.join("ok/state.json"), "127.0.0.1:19954");
    assert!(
        metrics.contains("lanwatch_state_saves_total{outcome=\"ok\"} 1\n")
            && metrics.contains("lanwatch_state_saves_total{outcome=\"error\"} 0\n"),
        "{metrics}"
    );
    // A full disk: a one-page tmpfs in a mount namespace of the daemon's
    // own. The start-up probe (two bytes) fits, the sample's state does not.
    let full = dir.join("full");
    std::fs::create_dir_all(&full).unwrap();
    let script = format!(
        "mount -t tmpfs -o size=4k lwg-full '{}' && exec \"$@\"",
        full.display()
    );
    let state = full.join("state.json");
    let (metrics, stderr) = saves_served(
        &[
            "unshare",
            "-m",
            "--propagation",
            "private",
            "sh",
            "-c",
            &script,
            "sh",
        ],
        &state,
        "127.0.0.1:19955",
    );
    assert!(stderr.contains("No space left on device"), "{stderr}");
    assert!(
        metrics.contains("lanwatch_state_saves_total{outcome=\"ok\"} 0\n")
            && metrics.contains("lanwatch_state_saves_total{outcome=\"error\"} 1\n"),
        "{metrics}"
    );
    // Without a state file the family has no samples.
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "prometheus"])
        .arg(repo_file("samples/home-lan.pcap"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("# TYPE lanwatch_state_saves_total counter"));
    assert!(!text.contains("lanwatch_state_saves_total{"));
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The kernel's figure of the peak resident memory of process `pid`.
fn peak_rss_bytes(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kb * 1024
}

#[test]
fn a_state_file_too_large_for_the_table_is_refused_by_its_size_unread() {
    let dir = temp_dir("large");
    let state = dir.join("state.json");
    let size: u64 = 40 * 1024 * 1024;
    std::fs::write(&state, vec![b' '; size as usize]).unwrap();
    let addr = "127.0.0.1:19956";
    let stderr_path = dir.join("stderr");
    let mut child = ChildGuard(Some(
        std::process::Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "json", "--listen", addr])
            .arg(repo_file("tests/data/generated/lan_and_broadcast.pcap"))
            .arg("--state-file")
            .arg(&state)
            .stdout(std::process::Stdio::null())
            .stderr(std::fs::File::create(&stderr_path).unwrap())
            .spawn()
            .unwrap(),
    ));
    wait_for("/metrics", 30, || http_get(addr, "/metrics").ok());
    let peak = peak_rss_bytes(child.0.as_ref().unwrap().id());
    child.terminate(10);
    let stderr = std::fs::read_to_string(&stderr_path).unwrap();
    assert!(
        stderr.contains(&format!("{}: {size} bytes", state.display())),
        "names the file and its size: {stderr}"
    );
    // 512 clients (the default bound) at 64 KiB each, plus the header.
    assert!(
        stderr.contains("more than the 33619968 bytes that 512 clients"),
        "{stderr}"
    );
    assert!(
        peak < 24 * 1024 * 1024,
        "peak RSS {peak} bytes: the file was read"
    );
    assert_eq!(set_aside_files(&dir).len(), 1, "set aside as before");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_state_directory_the_user_cannot_write_refuses_the_start() {
    require_tool("ip", "iproute2");
    let dir = temp_dir("unwritable");
    // Root's, mode 0755: nobody cannot create the temporary file there.
    let locked = dir.join("locked");
    std::fs::create_dir_all(&locked).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o755)).unwrap();
    let state = locked.join("state.json");
    let ns = format!("lwg-state-{}", std::process::id());
    let _ = Command::new("ip")
        .args(["netns", "del", &ns])
        .stderr(std::process::Stdio::null())
        .status();
    assert!(Command::new("ip")
        .args(["netns", "add", &ns])
        .status()
        .unwrap()
        .success());
    let _cleanup = Netns(ns.clone());
    let mut child = ChildGuard(Some(
        Command::new("ip")
            .args(["netns", "exec", &ns, env!("CARGO_BIN_EXE_lanwatch")])
            .args(["capture", "-i", "lo", "--listen", "127.0.0.1:19957"])
            .args(["--user", "nobody", "--state-file"])
            .arg(&state)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let status = wait_for("lanwatch to refuse to start", 20, || {
        child.0.as_mut().unwrap().try_wait().unwrap()
    });
    let output = child.0.take().unwrap().wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(!status.success());
    let line = stderr
        .lines()
        .find(|l| l.starts_with("lanwatch: "))
        .unwrap_or_else(|| panic!("an error line: {stderr}"));
    for part in [
        state.display().to_string(),
        "nobody".to_string(),
        "uid 65534".to_string(),
        "Permission denied".to_string(),
    ] {
        assert!(line.contains(&part), "{part:?} in {line}");
    }
    assert!(!state.exists());
    assert_eq!(
        std::fs::read_dir(&locked).unwrap().count(),
        0,
        "left nothing"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
