//! End to end on a live interface: a network namespace with a veth pair,
//! tcpreplay of a capture into one end, `lanwatch capture` on the other, and
//! the served per-client figures equal to the replay of the same file. The
//! daemon runs as it does on a router: `--user`, so under the seccomp
//! allow-list.

mod common;

use std::process::{Command, Stdio};

use common::*;

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "live capture tests need root (CI runs as root)");
}

#[test]
fn live_capture_serves_the_same_figures_as_the_replay_of_the_same_file() {
    require_root();
    require_tool("tcpreplay", "tcpreplay");
    require_tool("curl", "curl");
    let sample = repo_file("samples/home-lan.pcap");
    let ns = Netns::new("e2e");
    let addr = "127.0.0.1:19478";
    let mut daemon = ChildGuard(Some(
        ns.capture(addr, &["--user", "nobody"])
            .stdout(Stdio::null())
            .spawn()
            .expect("start lanwatch capture"),
    ));
    let url = |path: &str| format!("http://{addr}{path}");
    wait_for("the daemon to serve", 30, || {
        ns.curl(&url("/api/v1/health"))
    });
    // It counts as the user, under the system-call allow-list, with no
    // capability it could get back.
    let pid = daemon.0.as_ref().map(|c| c.id()).unwrap();
    let proc_status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    for (key, want) in [
        ("Uid", "65534\t65534\t65534\t65534"),
        ("CapBnd", "0000000000000000"),
        ("CapEff", "0000000000000000"),
        ("NoNewPrivs", "1"),
        ("Seccomp", "2"),
    ] {
        let got = proc_status
            .lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix(':'))
            .map(str::trim);
        assert_eq!(got, Some(want), "{key} in /proc/{pid}/status");
    }

    let status = ns
        .command(&["tcpreplay", "-q", "-i", "vin", "--pps", "20000"])
        .arg(&sample)
        .stdout(Stdio::null())
        .status()
        .expect("tcpreplay");
    assert!(status.success(), "tcpreplay failed");

    let replayed = lanwatch_json(std::slice::from_ref(&sample), &[]);
    let frames = |doc: &serde_json::Value| -> u64 {
        let p = &doc["health"]["packets"];
        ["accounted", "lan", "no_client", "not_ip", "malformed"]
            .iter()
            .map(|k| p[*k].as_u64().unwrap_or(0))
            .sum()
    };
    let want = frames(&replayed);
    let live: serde_json::Value = wait_for("every frame to be counted", 30, || {
        let body = ns.curl(&url("/api/v1/clients"))?;
        let health = ns.curl(&url("/api/v1/health"))?;
        let health: serde_json::Value = serde_json::from_str(&health).ok()?;
        let doc = serde_json::json!({"health": health, "clients": serde_json::from_str::<serde_json::Value>(&body).ok()?["clients"]});
        (frames(&doc) >= want).then_some(doc)
    });
    assert_eq!(frames(&live), want, "frames counted live vs replayed");
    assert_eq!(live["health"]["kernel"]["drops"].as_u64(), Some(0));

    // Bytes and packets per client and protocol, and LAN traffic, are the
    // same; connections depend on timing (live time is compressed).
    let strip = |mut m: std::collections::BTreeMap<String, ClientFigures>| {
        for c in m.values_mut() {
            c.connections_active = 0;
            for p in c.protocols.values_mut() {
                p[4] = 0;
            }
        }
        m
    };
    let diffs = differences(&strip(ours(&live)), &strip(ours(&replayed)));
    assert!(diffs.is_empty(), "live vs replay:\n{}", diffs.join("\n"));

    let status = daemon.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success(), "clean exit, got {status:?}");
}

#[test]
fn a_missing_interface_is_a_clear_error() {
    require_root();
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["capture", "-i", "lw-no-such-if0", "--listen", "127.0.0.1:0"])
        .output()
        .expect("run lanwatch");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("lw-no-such-if0"),
        "error names the interface: {err}"
    );
}
