//! Signals as an operator sends them: SIGHUP re-reads what can be re-read
//! (protocol table, lease file, web config) and saves the state without
//! stopping the daemon; SIGTERM ends a replay at once with the status a
//! shell reports for it; and a FIFO where a file is meant is refused at once
//! instead of blocking a start that no signal could then end.
//!
//! The live test runs `lanwatch capture` on a veth pair in a network
//! namespace of its own and sends it frames built here (etherparse), so the
//! expected bytes are the IP lengths of the frames sent; the basic-auth
//! hashes come from `htpasswd -B` (apache2-utils), not from lanwatch.

mod common;
mod hostile;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant, SystemTime};

use common::*;
use hostile::{ip_len, udp4, Pcap};

const CLIENT_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01];
const ROUTER_MAC: [u8; 6] = [0x02, 0x00, 0x00, 0x00, 0x00, 0xfe];
const CLIENT_IP: [u8; 4] = [192, 168, 1, 10];
/// A documentation address (RFC 5737): the frames never leave the
/// namespace's veth pair.
const SERVER_IP: [u8; 4] = [198, 51, 100, 7];
const GAME_PORT: u16 = 40000;

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lanwatch-signals-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// `lwg-TAG-PID` with `vin` ↔ `vcap` up and IPv6 off (like
/// `common::Netns::new`), deleted on drop.
fn netns(tag: &str) -> Netns {
    Netns::named(format!("lwg-{tag}-{}", std::process::id()))
}

/// A bcrypt hash of `password` made by htpasswd (not by lanwatch).
fn bcrypt(user: &str, password: &str) -> String {
    let out = Command::new("htpasswd")
        .args(["-nbB", "-C", "4", user, password])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    line.trim()
        .split_once(':')
        .map(|(_, hash)| hash.to_string())
        .unwrap()
}

fn web_config(user: &str, hash: &str) -> String {
    format!("basic_auth_users:\n  {user}: '{hash}'\n")
}

/// `curl` inside the namespace: the HTTP status and the body.
fn curl(ns: &Netns, url: &str, user: Option<&str>) -> (u16, String) {
    let mut args = vec!["curl", "-s", "--max-time", "5", "-w", "\n%{http_code}"];
    if let Some(user) = user {
        args.extend(["-u", user]);
    }
    args.push(url);
    let out = ns.command(&args).output().expect("curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

/// The value of the sample `series` (name and labels, exactly) in an
/// exposition, if present.
fn sample(exposition: &str, series: &str) -> Option<f64> {
    exposition.lines().find_map(|line| {
        let rest = line.strip_prefix(series)?;
        rest.strip_prefix(' ')?.trim().parse().ok()
    })
}

fn sighup(pid: u32) {
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

/// UDP frames from the client to the server's GAME_PORT from `sport`; the
/// pcap and the bytes they are accounted at.
fn game_frames(dir: &Path, name: &str, sport: u16, count: usize) -> (PathBuf, u64) {
    let mut pcap = Pcap::new();
    let mut bytes = 0;
    for i in 0..count {
        let frame = udp4(
            CLIENT_MAC,
            ROUTER_MAC,
            CLIENT_IP,
            SERVER_IP,
            sport,
            GAME_PORT,
            &[0x42; 100],
        );
        bytes += ip_len(&frame);
        pcap.push(1_700_000_000_000_000 + i as u64 * 1000, &frame);
    }
    let path = dir.join(name);
    pcap.write(&path);
    (path, bytes)
}

fn send(ns: &Netns, pcap: &Path) {
    let status = ns
        .command(&["tcpreplay", "-q", "-i", "vin", "--pps", "1000"])
        .arg(pcap)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("tcpreplay");
    assert!(status.success(), "tcpreplay failed");
}

fn bandwidth(exposition: &str, protocol: &str) -> f64 {
    let series = format!(
        r#"client_bandwidth_bytes_total{{ip="192.168.1.10",mac="02:00:00:00:00:01",protocol="{protocol}",direction="tx"}}"#
    );
    sample(exposition, &series).unwrap_or(0.0)
}

#[test]
fn sighup_rereads_protocols_leases_and_web_config_and_saves_the_state() {
    require_tool("tcpreplay", "tcpreplay");
    require_tool("curl", "curl");
    require_tool("htpasswd", "apache2-utils");
    let dir = temp_dir("hup");
    let ns = netns("hup");
    let protocols = dir.join("protocols");
    std::fs::write(&protocols, "OLDGAME udp 40001\n").unwrap();
    let leases = dir.join("dhcp.leases");
    std::fs::write(
        &leases,
        "1900000000 02:00:00:00:00:01 192.168.1.10 alpha *\n",
    )
    .unwrap();
    let web = dir.join("web.yml");
    std::fs::write(&web, web_config("alice", &bcrypt("alice", "wonderland"))).unwrap();
    let state = dir.join("state.json");
    let addr = "127.0.0.1:19950";
    let url = format!("http://{addr}/metrics");
    let stderr_path = dir.join("stderr");

    let mut daemon = ChildGuard(Some(
        ns.capture(
            addr,
            &[
                "--allow-root",
                "--lan",
                "192.168.1.0/24",
                "--router-mac",
                "02:00:00:00:00:fe",
            ],
        )
        .arg("--protocols")
        .arg(&protocols)
        .arg("--leases")
        .arg(&leases)
        .arg("--web-config")
        .arg(&web)
        .arg("--state-file")
        .arg(&state)
        .stdout(Stdio::null())
        .stderr(std::fs::File::create(&stderr_path).unwrap())
        .spawn()
        .expect("start lanwatch capture"),
    ));
    let pid = daemon.0.as_ref().unwrap().id();
    wait_for("the daemon to serve", 30, || {
        (curl(&ns, &url, Some("alice:wonderland")).0 == 200).then_some(())
    });

    // Before: port 40000 is nobody's, the lease says alpha.
    let (first, first_bytes) = game_frames(&dir, "first.pcap", 50001, 5);
    send(&ns, &first);
    let metrics = wait_for("the first frames", 30, || {
        let (_, m) = curl(&ns, &url, Some("alice:wonderland"));
        (bandwidth(&m, "other") == first_bytes as f64).then_some(m)
    });
    assert!(metrics.contains(r#"hostname="alpha""#), "{metrics}");
    assert!(!state.exists(), "nothing saved yet (interval 15 min)");

    // The new files: a GAME rule for port 40000, the lease renamed (same
    // size, same modification time, so only a forced re-read sees it),
    // and bob instead of alice.
    std::fs::write(&protocols, "GAME udp 40000\n").unwrap();
    let mtime = std::fs::metadata(&leases).unwrap().modified().unwrap();
    std::fs::write(
        &leases,
        "1900000000 02:00:00:00:00:01 192.168.1.10 omega *\n",
    )
    .unwrap();
    std::fs::File::options()
        .write(true)
        .open(&leases)
        .unwrap()
        .set_modified(mtime)
        .unwrap();
    std::fs::write(&web, web_config("bob", &bcrypt("bob", "builder"))).unwrap();
    let before_hup = SystemTime::now();
    sighup(pid);

    let saved: serde_json::Value = wait_for("the state file written by SIGHUP", 30, || {
        serde_json::from_slice(&std::fs::read(&state).ok()?).ok()
    });
    assert!(
        std::fs::metadata(&state).unwrap().modified().unwrap()
            >= before_hup - Duration::from_secs(1)
    );
    let client = saved["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "02:00:00:00:00:01")
        .expect("the client is in the state file");
    let other = client["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["protocol"] == "other")
        .expect("its traffic so far");
    assert_eq!(other["tx_bytes"], first_bytes);

    wait_for("bob to be let in", 30, || {
        (curl(&ns, &url, Some("bob:builder")).0 == 200).then_some(())
    });
    assert_eq!(curl(&ns, &url, Some("alice:wonderland")).0, 401);
    assert!(
        daemon.0.as_mut().unwrap().try_wait().unwrap().is_none(),
        "still running"
    );

    // After: a new flow to port 40000 counts as GAME; the lease name moved.
    let (second, second_bytes) = game_frames(&dir, "second.pcap", 50002, 7);
    send(&ns, &second);
    let metrics = wait_for("the later frames as GAME", 30, || {
        let (_, m) = curl(&ns, &url, Some("bob:builder"));
        (bandwidth(&m, "GAME") == second_bytes as f64).then_some(m)
    });
    assert_eq!(bandwidth(&metrics, "other"), first_bytes as f64);
    assert!(metrics.contains(r#"hostname="omega""#), "{metrics}");

    // A broken web config is reported with its line and the old one kept.
    std::fs::write(&web, "basic_auth_users:\n  bob: 'x'\n  nonsense\n").unwrap();
    sighup(pid);
    let log = wait_for("the broken file to be reported", 30, || {
        let log = std::fs::read_to_string(&stderr_path).ok()?;
        log.contains("keeping the web config as it was")
            .then_some(log)
    });
    let web_name = web.display().to_string();
    let reported = log
        .lines()
        .find(|l| l.contains("keeping the web config"))
        .unwrap();
    assert!(
        reported.contains(&format!("{web_name}:2")) || reported.contains(&format!("{web_name}:3")),
        "names the file and line: {reported}"
    );
    assert_eq!(curl(&ns, &url, Some("bob:builder")).0, 200);

    let status = daemon.terminate(15).expect("stops on SIGTERM");
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sigterm_ends_a_long_replay_within_a_second_with_status_143() {
    // At the pace it was captured, the sample lasts minutes.
    let sample = repo_file("samples/home-lan.pcap");
    let mut child = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--realtime", "--format", "json"])
            .arg(&sample)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        child.0.as_mut().unwrap().try_wait().unwrap().is_none(),
        "the replay takes longer than 1.5 s"
    );
    let sent = Instant::now();
    let status = child.terminate(5).expect("ends on SIGTERM");
    let took = sent.elapsed();
    assert!(took < Duration::from_secs(1), "took {took:?}");
    // 128 + 15, what a shell reports for a process SIGTERM ended.
    assert_eq!(status.code(), Some(143), "{status:?}");
}

fn mkfifo(path: &Path) {
    let ok = Command::new("mkfifo").arg(path).status().unwrap();
    assert!(ok.success());
}

/// Runs lanwatch with `args`; the process must end by itself within 10 s.
fn ends_by_itself(args: &[&std::ffi::OsStr]) -> std::process::Output {
    let mut child = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap(),
    ));
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if child.0.as_mut().unwrap().try_wait().unwrap().is_some() {
            return child.0.take().unwrap().wait_with_output().unwrap();
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    // Blocked: does SIGTERM at least end it?
    let ended = child.terminate(3);
    panic!("still running after 10 s (SIGTERM then: {ended:?})");
}

#[test]
fn a_state_file_on_a_fifo_is_refused_at_once() {
    let dir = temp_dir("fifo-state");
    let fifo = dir.join("state.json");
    mkfifo(&fifo);
    let sample = repo_file("samples/home-lan.pcap");
    let out = ends_by_itself(&[
        "replay".as_ref(),
        sample.as_os_str(),
        "--state-file".as_ref(),
        fifo.as_os_str(),
    ]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&fifo.display().to_string()) && err.contains("is a FIFO"),
        "{err}"
    );
    assert!(out.stdout.is_empty(), "no replay output");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_capture_file_on_a_fifo_is_refused_at_once() {
    let dir = temp_dir("fifo-capture");
    let fifo = dir.join("capture.pcap");
    mkfifo(&fifo);
    let out = ends_by_itself(&["replay".as_ref(), fifo.as_os_str()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains(&fifo.display().to_string()) && err.contains("is a FIFO"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "one line: {err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn sighup_does_not_end_a_replay_that_serves() {
    let sample = repo_file("samples/home-lan.pcap");
    let addr = "127.0.0.1:19951";
    let mut child = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "json", "--listen", addr])
            .arg(&sample)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    ));
    wait_for("/metrics", 30, || http_get(addr, "/metrics").ok());
    sighup(child.0.as_ref().unwrap().id());
    std::thread::sleep(Duration::from_millis(500));
    assert!(
        child.0.as_mut().unwrap().try_wait().unwrap().is_none(),
        "SIGHUP ended it"
    );
    assert_eq!(http_get(addr, "/metrics").unwrap().0, 200);
    let status = child.terminate(15).expect("stops on SIGTERM");
    assert!(
        status.success(),
        "serving ended by SIGTERM is the normal end: {status:?}"
    );
}
