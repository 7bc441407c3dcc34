//! Soak: `lanwatch capture` on a veth in a network namespace while
//! tcpreplay loops the sample capture into it for minutes, scraped every
//! second. Every counter must only go up, resident memory must stay flat
//! after warm-up, and the final totals must be the loop count times the
//! per-loop figures of `lanwatch replay` of the same file (which the
//! replay tests check against the independent model). At the end SIGTERM
//! writes the state file, which holds the same totals.
//!
//! CI runs it for LANWATCH_SOAK_MINUTES (default 1); `scripts/soak
//! MINUTES` runs it for as long as asked, on a release build.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// Frames per second tcpreplay sends: far below what the capture can take,
/// so any loss is a bug, not load.
const PPS: u64 = 2000;

/// Series → value of a Prometheus text page.
fn parse_metrics(text: &str) -> BTreeMap<String, f64> {
    text.lines()
        .filter(|l| !l.starts_with('#') && !l.is_empty())
        .filter_map(|l| {
            let (series, value) = l.rsplit_once(' ')?;
            Some((series.to_string(), value.parse().ok()?))
        })
        .collect()
}

/// The traffic counters of a page (not the daemon's timings and memory).
fn counters(page: &BTreeMap<String, f64>) -> Vec<(&String, &f64)> {
    page.iter()
        .filter(|(s, _)| s.starts_with("client_") || s.starts_with("lanwatch_packets_total"))
        .collect()
}

fn frames(doc: &serde_json::Value) -> u64 {
    let p = &doc["health"]["packets"];
    ["accounted", "lan", "no_client", "not_ip", "malformed"]
        .iter()
        .map(|k| p[*k].as_u64().unwrap_or(0))
        .sum()
}

/// Figures that add up over loops: bytes and packets (connections depend
/// on flow timing, active connections on the moment).
fn additive(mut m: BTreeMap<String, ClientFigures>) -> BTreeMap<String, ClientFigures> {
    for c in m.values_mut() {
        c.connections_active = 0;
        for p in c.protocols.values_mut() {
            p[4] = 0;
        }
        // Connections per domain depend on timing like connections do.
        c.domains.clear();
    }
    m
}

fn times(mut m: BTreeMap<String, ClientFigures>, n: u64) -> BTreeMap<String, ClientFigures> {
    for c in m.values_mut() {
        for p in c.protocols.values_mut() {
            for v in p.iter_mut() {
                *v *= n;
            }
        }
        for v in c.lan.iter_mut() {
            *v *= n;
        }
        for v in c
            .dns_queries
            .values_mut()
            .chain(c.dns_responses.values_mut())
        {
            *v *= n;
        }
        c.mdns_queries *= n;
        c.dns_bypass_other_resolver *= n;
    }
    m
}

#[test]
fn a_long_live_run_keeps_counters_monotonic_memory_flat_and_totals_exact() {
    // SAFETY: geteuid has no preconditions.
    assert_eq!(
        unsafe { libc::geteuid() },
        0,
        "the soak test needs root (CI runs as root)"
    );
    require_tool("tcpreplay", "tcpreplay");
    require_tool("curl", "curl");
    let minutes: u64 = std::env::var("LANWATCH_SOAK_MINUTES")
        .ok()
        .and_then(|m| m.parse().ok())
        .unwrap_or(1)
        .max(1);
    let sample = repo_file("samples/home-lan.pcap");
    let per_loop = lanwatch_json(std::slice::from_ref(&sample), &[]);
    let loop_frames = frames(&per_loop);
    let loops = (minutes * 60 * PPS).div_ceil(loop_frames).max(2);

    let dir = std::env::temp_dir().join(format!("lanwatch-soak-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    // The daemon runs as on a router (--user, under the seccomp filter):
    // its user saves the state.
    let chown = Command::new("chown")
        .arg("nobody:nogroup")
        .arg(&dir)
        .status();
    assert!(chown.is_ok_and(|s| s.success()), "chown {}", dir.display());
    let state = dir.join("state.json");

    let ns = Netns::new("soak");
    let addr = "127.0.0.1:19479";
    let mut daemon = ChildGuard(Some(
        ns.command(&[env!("CARGO_BIN_EXE_lanwatch"), "capture", "-i", "vcap"])
            .args(["--listen", addr, "--user", "nobody", "--log-level", "warn"])
            .arg("--state-file")
            .arg(&state)
            .stdout(Stdio::null())
            .spawn()
            .expect("start lanwatch capture"),
    ));
    let url = |path: &str| format!("http://{addr}{path}");
    wait_for("the daemon to serve", 30, || {
        ns.curl(&url("/api/v1/health"))
    });
    let pid = daemon.0.as_ref().map(|c| c.id()).unwrap();
    let seccomp = |pid: u32| {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
        status
            .lines()
            .find_map(|l| Some(l.strip_prefix("Seccomp:")?.trim().to_string()))
    };
    assert_eq!(seccomp(pid).as_deref(), Some("2"), "under the filter");

    let mut replay = ns
        .command(&["tcpreplay", "-q", "-i", "vin"])
        .arg(format!("--pps={PPS}"))
        .arg(format!("--loop={loops}"))
        .arg(&sample)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tcpreplay");

    // Scrape every second while the loops run, and a little after.
    let mut previous: BTreeMap<String, f64> = BTreeMap::new();
    let mut rss: Vec<f64> = Vec::new();
    let mut scrapes = 0u64;
    let mut replay_done = false;
    let mut settled_scrapes = 0;
    let started = Instant::now();
    let deadline = Duration::from_secs(minutes * 60 * 3 + 60);
    while settled_scrapes < 3 {
        assert!(started.elapsed() < deadline, "the soak did not settle");
        std::thread::sleep(Duration::from_secs(1));
        let Some(page) = ns.curl(&url("/metrics")) else {
            panic!("scrape {scrapes} failed");
        };
        scrapes += 1;
        let now = parse_metrics(&page);
        for (series, before) in &previous {
            if !series.contains("_total") {
                continue;
            }
            let after = now
                .get(series)
                .unwrap_or_else(|| panic!("scrape {scrapes}: counter {series} disappeared"));
            assert!(
                after >= before,
                "scrape {scrapes}: {series} went from {before} to {after}"
            );
        }
        if let Some(r) = now.get("process_resident_memory_bytes") {
            rss.push(*r);
        }
        if !replay_done {
            replay_done = replay.try_wait().unwrap().is_some();
        } else if counters(&now) == counters(&previous) {
            settled_scrapes += 1;
        }
        previous = now;
    }
    assert!(replay.wait().unwrap().success(), "tcpreplay failed");

    // Every frame arrived, and nothing was dropped.
    let health: serde_json::Value =
        serde_json::from_str(&ns.curl(&url("/api/v1/health")).unwrap()).unwrap();
    let clients: serde_json::Value =
        serde_json::from_str(&ns.curl(&url("/api/v1/clients")).unwrap()).unwrap();
    let live = serde_json::json!({"health": health, "clients": clients["clients"]});
    assert_eq!(
        live["health"]["kernel"]["drops"].as_u64(),
        Some(0),
        "kernel drops"
    );
    assert_eq!(
        frames(&live),
        loops * loop_frames,
        "frames over {loops} loops"
    );

    // Totals: loops × the per-loop figures.
    let expected = times(additive(ours(&per_loop)), loops);
    let got = additive(ours(&live));
    let diffs = differences(&got, &expected);
    assert!(
        diffs.is_empty(),
        "after {loops} loops:\n{}",
        diffs.join("\n")
    );

    // Memory: flat once warmed up (the first fifth of the run).
    let warm = &rss[rss.len() / 5..];
    let (low, high) = warm
        .iter()
        .fold((f64::MAX, 0f64), |(lo, hi), r| (lo.min(*r), hi.max(*r)));
    assert!(
        high - low <= 2.0 * 1024.0 * 1024.0,
        "resident memory moved {low}..{high} bytes after warm-up over {scrapes} scrapes"
    );
    eprintln!(
        "soak: {loops} loops, {} frames, {scrapes} scrapes, RSS {:.1}..{:.1} MiB after warm-up",
        loops * loop_frames,
        low / 1048576.0,
        high / 1048576.0
    );

    assert_eq!(seccomp(pid).as_deref(), Some("2"), "still under the filter");
    // SIGTERM writes the state file with the same totals.
    let status = daemon.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success(), "clean exit, got {status:?}");
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(&state).expect("the state file")).unwrap();
    let saved_bytes: u64 = saved["clients"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["protocols"].as_array().unwrap().iter())
        .map(|p| p["rx_bytes"].as_u64().unwrap() + p["tx_bytes"].as_u64().unwrap())
        .sum();
    let served_bytes: u64 = expected
        .values()
        .flat_map(|c| c.protocols.values())
        .map(|p| p[0] + p[1])
        .sum();
    assert_eq!(
        saved_bytes, served_bytes,
        "the state file holds the totals served"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
