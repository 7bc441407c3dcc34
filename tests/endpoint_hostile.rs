//! The metrics endpoint keeps answering its real scrapers while hostile
//! clients do their worst, checked against `lanwatch replay --listen`:
//!
//! - a real Prometheus scrapes (and curl fetches) within a second while
//!   200 hostile connections are held open — idle connects, slowloris
//!   heads sent one byte a second, kept-alive connections that never send
//!   their next request, and slow readers of pipelined responses;
//! - password guessers that give up after a second neither starve the
//!   right credentials nor drive the bcrypt work past one core or the
//!   thread count up.
//!
//! Loopback is a whole /8 on Linux: the hostile clients bind 127.0.0.2 and
//! up as their source addresses, so the server sees many peers; the real
//! scraper comes from 127.0.0.1. Ports come from 20100–20199.

mod common;

use std::io::{ErrorKind, Read, Write};
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpStream};
use std::os::fd::FromRawFd;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use common::*;

/// A port of this test's own range that nothing listens on yet.
fn port(offset: u16) -> u16 {
    let port = 20100 + offset;
    assert!(
        std::net::TcpListener::bind(("127.0.0.1", port)).is_ok(),
        "port {port} is taken"
    );
    port
}

fn start_lanwatch(addr: &str, args: &[&str]) -> ChildGuard {
    let child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "json", "--listen", addr])
        .arg(repo_file("samples/home-lan.pcap"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lanwatch");
    let guard = ChildGuard(Some(child));
    wait_for("lanwatch to listen", 30, || {
        http_get(addr, "/api/v1/health").ok()
    });
    guard
}

/// A TCP connection to `to` from the source address `from` (bound before
/// connecting), with a small receive buffer if asked.
fn connect_from(from: Ipv4Addr, to: SocketAddr, rcvbuf: Option<i32>) -> std::io::Result<TcpStream> {
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // sockaddr structures are fully initialised and sized.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_STREAM | libc::SOCK_CLOEXEC, 0);
        if fd < 0 {
            return Err(std::io::Error::last_os_error());
        }
        let stream = TcpStream::from_raw_fd(fd);
        if let Some(size) = rcvbuf {
            libc::setsockopt(
                fd,
                libc::SOL_SOCKET,
                libc::SO_RCVBUF,
                (&size as *const i32).cast(),
                std::mem::size_of::<i32>() as libc::socklen_t,
            );
        }
        let sockaddr = |a: SocketAddrV4| libc::sockaddr_in {
            sin_family: libc::AF_INET as libc::sa_family_t,
            sin_port: a.port().to_be(),
            sin_addr: libc::in_addr {
                s_addr: u32::from(*a.ip()).to_be(),
            },
            sin_zero: [0; 8],
        };
        let len = std::mem::size_of::<libc::sockaddr_in>() as libc::socklen_t;
        let local = sockaddr(SocketAddrV4::new(from, 0));
        if libc::bind(fd, (&local as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        let SocketAddr::V4(to) = to else {
            return Err(std::io::Error::other("IPv4 only"));
        };
        let remote = sockaddr(to);
        if libc::connect(fd, (&remote as *const libc::sockaddr_in).cast(), len) != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(stream)
    }
}

/// What a hostile connection does once connected.
#[derive(Clone, Copy, Debug)]
enum Hostile {
    /// Connects and sends nothing.
    Idle,
    /// Sends a request head one byte a second, never finishing it.
    Slowloris,
    /// Makes one quick request, reads the answer, and never sends another.
    KeptAlive,
    /// Pipelines many requests for /metrics and reads one byte a second.
    SlowReader,
}

/// Hostile clients, each on a thread of its own that reconnects (after a
/// pause) whenever the server closes its connection, until dropped.
struct Attack {
    stop: Arc<AtomicBool>,
    connects: Arc<AtomicUsize>,
    threads: Vec<JoinHandle<()>>,
}

impl Attack {
    fn start(target: SocketAddr, plan: &[(Hostile, usize, u8)]) -> Attack {
        let stop = Arc::new(AtomicBool::new(false));
        let connects = Arc::new(AtomicUsize::new(0));
        let mut threads = Vec::new();
        for &(kind, count, first_source) in plan {
            for i in 0..count {
                // Several connections share a source, as from one host.
                let source = Ipv4Addr::new(127, 0, 0, first_source + (i % 25) as u8);
                let (stop, connects) = (stop.clone(), connects.clone());
                let thread = thread::Builder::new()
                    .stack_size(64 * 1024)
                    .spawn(move || hostile_loop(kind, source, target, &stop, &connects))
                    .expect("start a hostile client");
                threads.push(thread);
            }
        }
        Attack {
            stop,
            connects,
            threads,
        }
    }
}

impl Drop for Attack {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

fn hostile_loop(
    kind: Hostile,
    source: Ipv4Addr,
    target: SocketAddr,
    stop: &AtomicBool,
    connects: &AtomicUsize,
) {
    while !stop.load(Ordering::Relaxed) {
        let rcvbuf = matches!(kind, Hostile::SlowReader).then_some(2048);
        if let Ok(stream) = connect_from(source, target, rcvbuf) {
            connects.fetch_add(1, Ordering::Relaxed);
            hostile_connection(kind, stream, stop);
        }
        thread::sleep(Duration::from_millis(300));
    }
}

/// Plays `kind` on one connection until the server closes it or the
/// attack stops (the stream is closed when this returns).
fn hostile_connection(kind: Hostile, mut stream: TcpStream, stop: &AtomicBool) {
    let _ = stream.set_read_timeout(Some(Duration::from_millis(250)));
    let _ = stream.set_write_timeout(Some(Duration::from_millis(250)));
    match kind {
        Hostile::Idle => {}
        Hostile::Slowloris => {
            if stream.write_all(b"GET /metrics HTTP/1.1\r\n").is_err() {
                return;
            }
        }
        Hostile::KeptAlive => {
            if stream
                .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
                .is_err()
            {
                return;
            }
            // Read the answer: its head, then Content-Length bytes.
            let mut seen = Vec::new();
            let mut buf = [0u8; 4096];
            let started = Instant::now();
            loop {
                if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                    let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                    let length: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if seen.len() >= end + 4 + length {
                        break;
                    }
                }
                match stream.read(&mut buf) {
                    Ok(0) => return,
                    Ok(n) => seen.extend_from_slice(&buf[..n]),
                    Err(e) if is_timeout(&e) && started.elapsed() < Duration::from_secs(5) => {}
                    Err(_) => return,
                }
                if stop.load(Ordering::Relaxed) {
                    return;
                }
            }
        }
        Hostile::SlowReader => {
            let request = b"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n".repeat(100);
            if stream.write_all(&request).is_err() {
                return;
            }
        }
    }
    // Hold the connection, trickling bytes as the kind does.
    let mut byte = [0u8; 1];
    let mut last_tick = Instant::now();
    while !stop.load(Ordering::Relaxed) {
        match kind {
            Hostile::SlowReader => {
                if last_tick.elapsed() >= Duration::from_secs(1) {
                    last_tick = Instant::now();
                    match stream.read(&mut byte) {
                        Ok(0) => return,
                        Ok(_) => {}
                        Err(e) if is_timeout(&e) => {}
                        Err(_) => return,
                    }
                } else {
                    thread::sleep(Duration::from_millis(100));
                }
                continue;
            }
            Hostile::Slowloris if last_tick.elapsed() >= Duration::from_secs(1) => {
                last_tick = Instant::now();
                if stream.write_all(b"X").is_err() {
                    return;
                }
            }
            _ => {}
        }
        match stream.read(&mut byte) {
            Ok(0) => return,
            Ok(_) => {}
            Err(e) if is_timeout(&e) => {}
            Err(_) => return,
        }
    }
}

fn is_timeout(e: &std::io::Error) -> bool {
    matches!(e.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut)
}

/// The HTTP status curl got for `args` within `--max-time 1` (0: none),
/// and how long it took.
fn curl_within_a_second(args: &[&str]) -> (u16, Duration) {
    let started = Instant::now();
    let out = Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--max-time",
            "1",
        ])
        .args(args)
        .output()
        .expect("run curl");
    let status = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .unwrap_or(0);
    (status, started.elapsed())
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lanwatch-hostile-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A directory removed when dropped.
struct RemoveOnDrop(PathBuf);

impl Drop for RemoveOnDrop {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// 200 hostile connections: 50 of each kind, from 25
/// source addresses per kind starting at `first`, `first + 25`, …
fn two_hundred_hostile(first: u8) -> Vec<(Hostile, usize, u8)> {
    vec![
        (Hostile::Idle, 50, first),
        (Hostile::Slowloris, 50, first + 25),
        (Hostile::KeptAlive, 50, first + 50),
        (Hostile::SlowReader, 50, first + 75),
    ]
}

/// Prometheus, scraping `targets` (job name, address) every second with a
/// one-second timeout.
struct Prometheus {
    addr: String,
    dir: PathBuf,
    _child: ChildGuard,
}

impl Prometheus {
    fn start(targets: &[(&str, &str)], web_port: u16) -> Prometheus {
        require_tool("prometheus", "prometheus");
        let dir = temp_dir("prometheus");
        let mut config =
            String::from("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n");
        for (job, target) in targets {
            config.push_str(&format!(
                "  - job_name: {job}\n    static_configs:\n      - targets: ['{target}']\n"
            ));
        }
        std::fs::write(dir.join("prometheus.yml"), config).unwrap();
        let addr = format!("127.0.0.1:{web_port}");
        let child = Command::new("prometheus")
            .arg(format!(
                "--config.file={}",
                dir.join("prometheus.yml").display()
            ))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        Prometheus {
            addr,
            dir,
            _child: ChildGuard(Some(child)),
        }
    }

    /// The value of the first series of an instant query (None: no result).
    fn value(&self, query: &str) -> Option<f64> {
        let (status, body) = http_get(
            &self.addr,
            &format!("/api/v1/query?query={}", url_encode(query)),
        )
        .ok()?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        if status != 200 || doc["status"] != "success" {
            return None;
        }
        doc["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self._child.terminate(10);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Holds 200 hostile connections against `addr` for `window` while curl
/// (from 127.0.0.1) fetches /metrics every half second; returns how many
/// hostile connects there were. Every fetch must succeed within a second.
fn hold_attack_and_fetch(addr: &str, first_source: u8, window: Duration) -> usize {
    let target: SocketAddr = addr.parse().unwrap();
    let attack = Attack::start(target, &two_hundred_hostile(first_source));
    // Let the hostile connections take every slot they can.
    thread::sleep(Duration::from_secs(2));
    let url = format!("http://{addr}/metrics");
    let started = Instant::now();
    let mut failures = Vec::new();
    let mut fetches = 0;
    while started.elapsed() < window {
        let (status, took) = curl_within_a_second(&["--compressed", &url]);
        fetches += 1;
        if status != 200 {
            failures.push((status, took));
        }
        thread::sleep(Duration::from_millis(500));
    }
    let connects = attack.connects.load(Ordering::Relaxed);
    drop(attack);
    assert!(fetches >= 5, "{fetches} fetches");
    assert!(
        failures.is_empty(),
        "{} of {fetches} fetches of {url} failed or took over 1 s under attack: {failures:?}",
        failures.len()
    );
    connects
}

#[test]
fn scrapes_succeed_within_a_second_while_200_hostile_connections_are_open() {
    require_tool("curl", "curl");
    // Server A names its scraper: 127.0.0.1 on the allow-list as a single
    // address, the hostile sources allowed only through the /8.
    let named = format!("127.0.0.1:{}", port(0));
    let _a = start_lanwatch(
        &named,
        &[
            "--allow-scraper",
            "127.0.0.0/8",
            "--allow-scraper",
            "127.0.0.1",
        ],
    );
    // Server B has no allow-list at all.
    let open = format!("127.0.0.1:{}", port(1));
    let _b = start_lanwatch(&open, &[]);
    let prometheus = Prometheus::start(&[("named", &named), ("open", &open)], port(2));
    for job in ["named", "open"] {
        wait_for(
            &format!("Prometheus to scrape job {job} (up == 1)"),
            60,
            || (prometheus.value(&format!("up{{job=\"{job}\"}}")) == Some(1.0)).then_some(()),
        );
    }

    let window = Duration::from_secs(10);
    for (job, addr, first_source) in [("named", &named, 2u8), ("open", &open, 120u8)] {
        let started = Instant::now();
        let connects = hold_attack_and_fetch(addr, first_source, window);
        assert!(connects >= 200, "{job}: only {connects} hostile connects");
        // Every Prometheus scrape during the attack: up, and within 1 s.
        let seconds = started.elapsed().as_secs().saturating_sub(1);
        // Let the last scrape of the window land.
        thread::sleep(Duration::from_millis(1500));
        let window_q = format!("{seconds}s");
        let scrapes = prometheus
            .value(&format!("count_over_time(up{{job=\"{job}\"}}[{window_q}])"))
            .unwrap_or(0.0);
        let lowest_up = prometheus
            .value(&format!("min_over_time(up{{job=\"{job}\"}}[{window_q}])"))
            .unwrap_or(0.0);
        let slowest = prometheus
            .value(&format!(
                "max_over_time(scrape_duration_seconds{{job=\"{job}\"}}[{window_q}])"
            ))
            .unwrap_or(f64::INFINITY);
        eprintln!(
            "{job}: {connects} hostile connects, {scrapes} scrapes, lowest up {lowest_up}, \
             slowest scrape {slowest:.3} s"
        );
        assert!(scrapes >= 8.0, "{job}: {scrapes} scrapes in {window_q}");
        assert_eq!(lowest_up, 1.0, "{job}: a scrape failed during the attack");
        assert!(slowest < 1.0, "{job}: a scrape took {slowest} s");
    }
}

/// The number of threads and the CPU ticks (user + system) of `pid`.
fn threads_and_ticks(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let threads = status
        .lines()
        .find_map(|l| l.strip_prefix("Threads:"))
        .and_then(|v| v.trim().parse().ok())
        .unwrap();
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // Fields after the command name (which is in parentheses).
    let rest = stat.rsplit_once(')').unwrap().1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the whole line: 12 and 13 here.
    let ticks = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    (threads, ticks)
}

/// A bcrypt hash of `password` made by htpasswd (apache2-utils).
fn htpasswd_hash(user: &str, password: &str, cost: u32) -> String {
    require_tool("htpasswd", "apache2-utils");
    let out = Command::new("htpasswd")
        .args(["-nbB", "-C", &cost.to_string(), user, password])
        .output()
        .expect("run htpasswd");
    assert!(out.status.success());
    let line = String::from_utf8(out.stdout).unwrap();
    line.trim().split_once(':').unwrap().1.to_string()
}

fn web_config(dir: &Path, user: &str, hash: &str) -> PathBuf {
    let path = dir.join("web.yml");
    std::fs::write(&path, format!("basic_auth_users:\n  {user}: '{hash}'\n")).unwrap();
    path
}

/// A guesser: a request with a wrong password from `source`, given up
/// after one second; returns the status line's code (0: none in time).
fn guess_once(source: Ipv4Addr, target: SocketAddr, n: usize) -> u16 {
    use base64_request::basic;
    let Ok(mut stream) = connect_from(source, target, None) else {
        return 0;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: x\r\nAuthorization: {}\r\n\r\n",
        basic("prometheus", &format!("guess-{n}"))
    );
    if stream.write_all(request.as_bytes()).is_err() {
        return 0;
    }
    let mut buf = [0u8; 64];
    match stream.read(&mut buf) {
        Ok(n) if n >= 12 => std::str::from_utf8(&buf[9..12])
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        _ => 0,
    }
}

/// Basic credentials, base64 by hand (RFC 4648 alphabet), so the test does
/// not lean on the code under test.
mod base64_request {
    pub fn basic(user: &str, password: &str) -> String {
        const ALPHABET: &[u8; 64] =
            b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let input = format!("{user}:{password}").into_bytes();
        let mut out = String::new();
        for chunk in input.chunks(3) {
            let b = [
                chunk[0],
                *chunk.get(1).unwrap_or(&0),
                *chunk.get(2).unwrap_or(&0),
            ];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for i in 0..4 {
                if i <= chunk.len() {
                    out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    out.push('=');
                }
            }
        }
        format!("Basic {out}")
    }
}

#[test]
fn password_guessers_neither_starve_the_right_credentials_nor_burn_the_cpu() {
    require_tool("curl", "curl");
    let dir = temp_dir("guessers");
    // Removed however the test ends.
    let _cleanup = RemoveOnDrop(dir.clone());
    // htpasswd's default cost (5): in this unoptimised build a check takes
    // about a tenth of a core-second, as on a router.
    let hash = htpasswd_hash("prometheus", "correct horse", 5);
    let config = web_config(&dir, "prometheus", &hash);
    let addr = format!("127.0.0.1:{}", port(10));
    let lanwatch = start_lanwatch(&addr, &["--web-config", config.to_str().unwrap()]);
    let pid = lanwatch.0.as_ref().unwrap().id();
    let url = format!("http://{addr}/metrics");
    // The scraper has been scraping before the guessing starts.
    let (status, _) = curl_within_a_second(&["-u", "prometheus:correct horse", &url]);
    assert_eq!(status, 200, "the right credentials before any guessing");
    let (wrong, _) = curl_within_a_second(&["-u", "prometheus:battery staple", &url]);
    assert_eq!(wrong, 401, "a wrong password is refused");

    // 50 guessers from 5 source addresses, each giving up after 1 s.
    let stop = Arc::new(AtomicBool::new(false));
    let answers = Arc::new(Mutex::new(std::collections::BTreeMap::<u16, usize>::new()));
    let target: SocketAddr = addr.parse().unwrap();
    let guessers: Vec<JoinHandle<()>> = (0..50)
        .map(|i| {
            let (stop, answers) = (stop.clone(), answers.clone());
            let source = Ipv4Addr::new(127, 0, 1, 2 + (i % 5) as u8);
            thread::spawn(move || {
                let mut n = 0;
                while !stop.load(Ordering::Relaxed) {
                    let code = guess_once(source, target, i * 100_000 + n);
                    *answers.lock().unwrap().entry(code).or_default() += 1;
                    n += 1;
                }
            })
        })
        .collect();

    thread::sleep(Duration::from_millis(500));
    let (_, ticks_before) = threads_and_ticks(pid);
    let started = Instant::now();
    let mut most_threads = 0;
    let mut slow = Vec::new();
    let mut scrapes = 0;
    while started.elapsed() < Duration::from_secs(10) {
        let (status, took) = curl_within_a_second(&["-u", "prometheus:correct horse", &url]);
        scrapes += 1;
        if status != 200 {
            slow.push((status, took));
        }
        most_threads = most_threads.max(threads_and_ticks(pid).0);
        thread::sleep(Duration::from_millis(300));
    }
    let elapsed = started.elapsed().as_secs_f64();
    let (_, ticks_after) = threads_and_ticks(pid);
    stop.store(true, Ordering::Relaxed);
    for g in guessers {
        let _ = g.join();
    }
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) } as f64;
    let cores = (ticks_after - ticks_before) as f64 / hz / elapsed;
    let answers = answers.lock().unwrap().clone();
    eprintln!("threads at most {most_threads}, {cores:.2} cores, guessers saw {answers:?}");

    assert!(
        slow.is_empty(),
        "{} of {scrapes} scrapes with the right credentials failed or took over 1 s: {slow:?}",
        slow.len()
    );
    assert!(most_threads <= 6, "{most_threads} threads under guessing");
    assert!(cores < 1.0, "{cores:.2} cores under guessing");
    // Guessers were refused without bcrypt once they had failed enough.
    assert!(
        answers.get(&429).copied().unwrap_or(0) > 0,
        "no guesser was refused with 429: {answers:?}"
    );
}
