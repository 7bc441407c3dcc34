//! `lanwatch capture --user` after the drop, on a live daemon in a network
//! namespace: every thread has empty capability sets (bounding set
//! included), no_new_privs and the seccomp filter (`Seccomp: 2` in
//! `/proc/PID/task/TID/status`, as the kernel reports it), and the daemon
//! still captures, serves `/metrics` and the JSON API, saves its state on
//! SIGHUP and stops cleanly under the filter. A forbidden system call kills
//! it by SIGSYS; `--no-seccomp` leaves the filter out.
//!
//! Frame counts are checked against the records of the pcap file sent
//! (read with the pcap-file crate). Needs root, tcpreplay and curl.

mod common;

use std::os::unix::process::ExitStatusExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A network namespace `lwh-seccomp-TAG-PID` with a veth pair vin–vcap,
/// IPv6 off; deleted on drop.
struct Netns(common::Netns);

impl std::ops::Deref for Netns {
    type Target = common::Netns;

    fn deref(&self) -> &common::Netns {
        &self.0
    }
}

impl Netns {
    fn new(tag: &str) -> Netns {
        Netns(common::Netns::named(format!(
            "lwh-seccomp-{tag}-{}",
            std::process::id()
        )))
    }

    /// GET with the login the tests' web config has.
    fn curl(&self, url: &str) -> Option<String> {
        let out = self
            .command(&["curl", "-sf", "--max-time", "5", "-u", LOGIN, url])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }

    fn send(&self, pcap: &Path) {
        let status = self
            .command(&["tcpreplay", "-q", "-i", "vin", "--pps", "2000"])
            .arg(pcap)
            .stdout(Stdio::null())
            .status()
            .expect("tcpreplay");
        assert!(status.success(), "tcpreplay failed");
    }
}

/// A directory the daemon's user (nobody) may write, removed on drop.
struct StateDir(PathBuf);

impl StateDir {
    fn new(tag: &str) -> StateDir {
        let dir = std::env::temp_dir().join(format!("lwh-seccomp-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let status = Command::new("chown")
            .args(["nobody:nogroup"])
            .arg(&dir)
            .status()
            .unwrap();
        assert!(status.success(), "chown nobody {}", dir.display());
        StateDir(dir)
    }
}

impl Drop for StateDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The basic-auth login of the web config [`web_config`] writes.
const LOGIN: &str = "scraper:seccomp-test";

/// A web config in `dir` with [`LOGIN`] hashed by htpasswd (bcrypt): the
/// daemon verifies it on a thread of tokio's blocking pool, started under
/// the filter.
fn web_config(dir: &Path) -> PathBuf {
    let (user, password) = LOGIN.split_once(':').unwrap();
    let out = Command::new("htpasswd")
        .args(["-nbBC", "4", user, password])
        .output()
        .expect("htpasswd");
    assert!(out.status.success(), "htpasswd failed");
    let line = String::from_utf8(out.stdout).unwrap();
    let hash = line.trim().split_once(':').unwrap().1.to_string();
    let path = dir.join("web.yml");
    std::fs::write(&path, format!("basic_auth_users:\n  {user}: {hash}\n")).unwrap();
    path
}

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "these tests need root (CI runs as root)");
    require_tool("tcpreplay", "tcpreplay");
    require_tool("curl", "curl");
    require_tool("htpasswd", "apache2-utils");
}

fn field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{key} missing from the status file:\n{status}"))
}

/// `(thread name, status file)` of every thread of process `pid`.
fn threads(pid: u32) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let path = entry.unwrap().path();
        let Ok(status) = std::fs::read_to_string(path.join("status")) else {
            continue; // a thread that just ended
        };
        all.push((field(&status, "Name").to_string(), status));
    }
    assert!(!all.is_empty(), "no threads of {pid}");
    all
}

/// Checks every thread of `pid`: no capability in any set, no_new_privs,
/// and the given seccomp mode. Returns the thread names.
fn assert_nothing_to_regain(pid: u32, seccomp: &str) -> Vec<String> {
    let mut names = Vec::new();
    for (name, status) in threads(pid) {
        for key in ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"] {
            assert_eq!(
                field(&status, key),
                "0000000000000000",
                "{key} of thread {name}"
            );
        }
        assert_eq!(field(&status, "NoNewPrivs"), "1", "NoNewPrivs of {name}");
        assert_eq!(field(&status, "Seccomp"), seccomp, "Seccomp of {name}");
        assert_eq!(
            field(&status, "Uid"),
            "65534\t65534\t65534\t65534",
            "{name}"
        );
        names.push(name);
    }
    names
}

fn daemon(ns: &Netns, listen: &str, extra: &[&str]) -> ChildGuard {
    let mut args = vec![
        env!("CARGO_BIN_EXE_lanwatch"),
        "capture",
        "-i",
        "vcap",
        "--listen",
        listen,
        "--user",
        "nobody",
    ];
    args.extend_from_slice(extra);
    ChildGuard(Some(
        ns.command(&args)
            .stdout(Stdio::null())
            .spawn()
            .expect("start lanwatch capture"),
    ))
}

#[test]
fn the_filtered_daemon_captures_serves_saves_and_has_nothing_to_regain() {
    require_root();
    let ns = Netns::new("run");
    let dir = StateDir::new("run");
    let state = dir.0.join("state.json");
    let leases = dir.0.join("leases");
    std::fs::write(&leases, "1999999999 02:00:00:00:00:01 10.0.0.1 laptop *\n").unwrap();
    let pcap = repo_file("tests/data/generated/multi_address_client.pcap");
    let sent = pcap_records(&pcap);
    let listen = "127.0.0.1:20010";
    let state_arg = state.to_str().unwrap();
    let leases_arg = leases.to_str().unwrap();
    let web = web_config(&dir.0);
    let mut daemon = daemon(
        &ns,
        listen,
        &[
            "--state-file",
            state_arg,
            "--leases",
            leases_arg,
            "--web-config",
            web.to_str().unwrap(),
        ],
    );
    let pid = daemon.0.as_ref().unwrap().id();
    let url = |path: &str| format!("http://{listen}{path}");
    wait_for("the daemon to serve", 30, || {
        ns.curl(&url("/api/v1/health"))
    });

    // Every thread, including the signal thread started before the drop
    // and the HTTP thread started after it.
    let names = assert_nothing_to_regain(pid, "2");
    // (Thread names are cut at 15 bytes.)
    for expected in ["lanwatch", "lanwatch-signal", "http", "offload"] {
        assert!(
            names.iter().any(|n| n == expected),
            "thread {expected} in {names:?}"
        );
    }

    ns.send(&pcap);
    let health: serde_json::Value = wait_for("the replay to be counted", 20, || {
        let doc: serde_json::Value =
            serde_json::from_str(&ns.curl(&url("/api/v1/health"))?).ok()?;
        (frames(&doc) >= sent).then_some(doc)
    });
    assert_eq!(frames(&health), sent, "every frame once");
    let clients: serde_json::Value =
        serde_json::from_str(&ns.curl(&url("/api/v1/clients")).expect("clients")).unwrap();
    assert!(
        clients["clients"].as_array().is_some_and(|c| !c.is_empty()),
        "{clients}"
    );
    let metrics = ns.curl(&url("/metrics")).expect("metrics");
    assert!(
        metrics.contains("# TYPE client_bandwidth_bytes_total counter"),
        "{metrics}"
    );

    // SIGHUP: the lease file is re-read and the state saved, under the filter.
    assert!(!state.exists(), "no save before the first reload");
    let hup = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status();
    assert!(hup.is_ok_and(|s| s.success()));
    let saved: serde_json::Value = wait_for("the state file to be saved", 10, || {
        serde_json::from_str(&std::fs::read_to_string(&state).ok()?).ok()
    });
    assert!(saved.is_object(), "{saved}");
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        ns.curl(&url("/metrics")).is_some(),
        "still serving after the reload"
    );
    assert_nothing_to_regain(pid, "2");

    let exit = daemon.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(exit.success(), "clean exit under the filter, got {exit:?}");
}

#[test]
fn a_forbidden_system_call_kills_the_daemon_by_sigsys() {
    require_root();
    let ns = Netns::new("kill");
    for (call, port) in [("execve", 20011), ("setuid", 20012), ("ptrace", 20013)] {
        let listen = format!("127.0.0.1:{port}");
        let mut command = ns.command(&[
            env!("CARGO_BIN_EXE_lanwatch"),
            "capture",
            "-i",
            "vcap",
            "--listen",
            &listen,
            "--user",
            "nobody",
        ]);
        command.env("LANWATCH_SECCOMP_SELFTEST", call);
        let out = command.output().expect("run lanwatch");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(
            out.status.signal(),
            Some(libc::SIGSYS),
            "{call}: {:?}\n{stderr}",
            out.status
        );
        assert!(
            stderr.contains("making a forbidden system call"),
            "{stderr}"
        );
        assert!(!stderr.contains("returned"), "{stderr}");
    }
}

#[test]
fn no_seccomp_leaves_the_filter_out_but_not_the_rest() {
    require_root();
    let ns = Netns::new("off");
    let listen = "127.0.0.1:20014";
    let mut daemon = daemon(&ns, listen, &["--no-seccomp"]);
    let pid = daemon.0.as_ref().unwrap().id();
    let url = format!("http://{listen}/api/v1/health");
    wait_for("the daemon to serve", 30, || ns.curl(&url));
    assert_nothing_to_regain(pid, "0");
    let exit = daemon.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(exit.success(), "clean exit, got {exit:?}");
}
