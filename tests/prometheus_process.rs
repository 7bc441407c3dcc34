//! The standard `process_*` families that `lanwatch replay --listen` serves
//! tell the truth about the process, as procfs shows it to another
//! process (this test reads `/proc/PID/...` and runs `ls` and `getconf`
//! itself), and `promtool check metrics` accepts the live exposition.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use common::*;

/// The unlabelled samples of an exposition, by name.
fn samples(page: &str) -> BTreeMap<String, f64> {
    page.lines()
        .filter(|l| !l.starts_with('#') && !l.contains('{'))
        .filter_map(|l| {
            let (name, value) = l.split_once(' ')?;
            Some((name.to_string(), value.trim().parse().ok()?))
        })
        .collect()
}

fn proc_file(pid: u32, name: &str) -> String {
    std::fs::read_to_string(format!("/proc/{pid}/{name}")).unwrap()
}

/// Field `n` (1-based, as proc(5) numbers them) of `/proc/PID/stat`.
fn stat_field(pid: u32, n: usize) -> f64 {
    let stat = proc_file(pid, "stat");
    let (_, rest) = stat.rsplit_once(')').unwrap();
    rest.split_whitespace().nth(n - 3).unwrap().parse().unwrap()
}

/// `/proc/PID/status` line `key:` in bytes (the kernel writes kB).
fn status_kib(pid: u32, key: &str) -> f64 {
    let status = proc_file(pid, "status");
    let line = status
        .lines()
        .find(|l| l.starts_with(&format!("{key}:")))
        .unwrap();
    let kib: f64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
    kib * 1024.0
}

fn getconf(name: &str) -> f64 {
    let out = Command::new("getconf").arg(name).output().unwrap();
    String::from_utf8(out.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap()
}

#[test]
fn process_families_match_what_procfs_says_about_the_daemon() {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut lanwatch = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "json", "--listen", &addr])
            .arg(repo_file("samples/home-lan.pcap"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start lanwatch"),
    ));
    let pid = lanwatch.0.as_ref().unwrap().id();
    let scrape = || {
        let (status, body) = http_get(&addr, "/metrics").ok()?;
        (status == 200).then_some(body)
    };
    wait_for("lanwatch to serve", 30, scrape);

    let ticks = getconf("CLK_TCK");
    let cpu_before = (stat_field(pid, 14) + stat_field(pid, 15)) / ticks;
    let page = scrape().unwrap();
    let cpu_after = (stat_field(pid, 14) + stat_field(pid, 15)) / ticks;
    let got = samples(&page);
    let value = |name: &str| -> f64 {
        *got.get(name)
            .unwrap_or_else(|| panic!("no {name} in the exposition"))
    };

    // Start time: boot time plus the start in clock ticks after boot.
    let btime: f64 = std::fs::read_to_string("/proc/stat")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("btime "))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let started = btime + stat_field(pid, 22) / ticks;
    let start = value("process_start_time_seconds");
    assert!(
        (start - started).abs() <= 0.02,
        "start {start} vs procfs {started}"
    );

    // CPU time: read just before and after the scrape (ticks are 10 ms).
    let cpu = value("process_cpu_seconds_total");
    assert!(
        cpu >= cpu_before - 0.011 && cpu <= cpu_after + 0.011,
        "cpu {cpu} not within {cpu_before}..{cpu_after}"
    );
    assert!(cpu > 0.0, "a replay of a capture costs some CPU");

    // Memory: idle after the replay, so the figures stay within a little.
    let rss = value("process_resident_memory_bytes");
    let vm_rss = status_kib(pid, "VmRSS");
    assert!(
        (rss - vm_rss).abs() <= vm_rss * 0.05 + 262_144.0,
        "rss {rss} vs VmRSS {vm_rss}"
    );
    let vsize = value("process_virtual_memory_bytes");
    let vm_size = status_kib(pid, "VmSize");
    assert!(
        (vsize - vm_size).abs() <= vm_size * 0.05 + 1_048_576.0,
        "virtual {vsize} vs VmSize {vm_size}"
    );

    // Descriptors: ls counts what is open now (the scrape's connection is
    // closed); lanwatch also counted that connection and the directory it
    // was reading.
    let ls = Command::new("sh")
        .arg("-c")
        .arg(format!("ls /proc/{pid}/fd | wc -l"))
        .output()
        .unwrap();
    let listed: f64 = String::from_utf8(ls.stdout)
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    let open = value("process_open_fds");
    assert!(
        open >= listed && open <= listed + 3.0,
        "open fds {open} vs ls {listed}"
    );
    let limits = proc_file(pid, "limits");
    let soft: f64 = limits
        .lines()
        .find_map(|l| l.strip_prefix("Max open files"))
        .unwrap()
        .split_whitespace()
        .next()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(value("process_max_fds"), soft);

    // The old lanwatch-prefixed names are gone.
    assert!(!page.contains("lanwatch_resident_memory_bytes"));
    assert!(!page.contains("lanwatch_start_time_seconds"));

    // Prometheus' own linter accepts the live exposition.
    require_tool("promtool", "prometheus");
    let mut promtool = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    {
        use std::io::Write;
        let mut stdin = promtool.stdin.take().unwrap();
        stdin.write_all(page.as_bytes()).unwrap();
    }
    let out = promtool.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );

    let status = lanwatch.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success(), "lanwatch exit status {status:?}");
}
