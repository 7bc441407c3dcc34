//! The HTTP server answers real requests over 127.0.0.1: every route, the
//! right status codes and content types, HEAD, and a graceful shutdown.
//!
//! Requests are written by hand on a `TcpStream` (and with curl where it is
//! installed), so the test checks what goes over the wire, not what a
//! client library makes of it. A thread stands in for the capture worker:
//! it publishes a new snapshot whenever a reader asks for one, numbering
//! each in `health.kernel_packets` so a test can tell which one it got.

use std::io::{Read, Write};
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

mod common;

use common::snapshot_client;
use lanwatch::decode::Mac;
use lanwatch::export::http::{
    bind, serve, HttpError, Policy, SharedPolicy, Shutdown, SNAPSHOT_PATIENCE,
};
use lanwatch::export::prometheus;
use lanwatch::track::publish::{channel, Publisher, SnapshotReader};
use lanwatch::track::{ClientSnapshot, Health, ProtocolUsage, Snapshot, Traffic};
use serde_json::Value;

fn home_lan(generation: u64) -> Snapshot {
    let laptop = ClientSnapshot {
        ipv4: vec!["192.168.1.23".parse().unwrap()],
        ipv6: vec!["fd00::23".parse().unwrap()],
        hostname: Some("<anna> & laptop".to_string()),
        vendor: Some("Apple, Inc.".to_string()),
        first_seen: 1_764_057_600.0,
        last_seen: 1_764_061_199.5,
        protocols: vec![ProtocolUsage {
            protocol: "HTTPS".to_string(),
            traffic: Traffic {
                rx_bytes: 1_000_000,
                tx_bytes: 50_000,
                rx_packets: 700,
                tx_packets: 400,
            },
            connections: 12,
        }],
        connections_active: 3,
        ..snapshot_client(
            Some(Mac([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56])),
            "192.168.1.23",
        )
    };
    let sensor = ClientSnapshot {
        ipv4: vec!["10.0.0.5".parse().unwrap()],
        first_seen: 1_764_061_000.0,
        last_seen: 1_764_061_001.0,
        ..snapshot_client(None, "10.0.0.5")
    };
    Snapshot {
        clients: vec![laptop, sensor],
        health: Health {
            kernel_packets: generation,
            clients: 2,
            max_clients: 1024,
            ..Health::default()
        },
        export: Default::default(),
    }
}

/// A server on an ephemeral loopback port, and optionally a stand-in
/// capture worker that answers snapshot requests.
struct Server {
    addr: SocketAddr,
    reader: SnapshotReader,
    shutdown: Shutdown,
    server: Option<JoinHandle<Result<(), HttpError>>>,
    worker_stop: Arc<AtomicBool>,
    worker: Option<JoinHandle<()>>,
    /// A silent worker's publisher: alive (so readers wait for it) but unused.
    _silent: Option<Publisher>,
}

impl Server {
    /// With a worker that publishes a fresh, numbered snapshot on request.
    fn start() -> Server {
        Server::start_with(true)
    }

    /// With a worker that has gone quiet: one snapshot, never refreshed.
    fn start_silent() -> Server {
        Server::start_with(false)
    }

    fn start_with(answering: bool) -> Server {
        let (publisher, reader) = channel();
        publisher.publish(home_lan(1));
        let worker_stop = Arc::new(AtomicBool::new(false));
        let (worker, silent) = if answering {
            let stop = worker_stop.clone();
            let worker = thread::spawn(move || answer_requests(publisher, &stop));
            (Some(worker), None)
        } else {
            (None, Some(publisher))
        };
        let listener = bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let addr = listener.local_addr().unwrap();
        let shutdown = Shutdown::new();
        let server = {
            let (reader, shutdown) = (reader.clone(), shutdown.clone());
            thread::spawn(move || {
                serve(
                    listener,
                    reader,
                    shutdown,
                    SharedPolicy::new(Policy::default()),
                )
            })
        };
        Server {
            addr,
            reader,
            shutdown,
            server: Some(server),
            worker_stop,
            worker,
            _silent: silent,
        }
    }

    fn get(&self, path: &str) -> Reply {
        request(self.addr, "GET", path)
    }

    /// Triggers shutdown and waits for the server thread to return.
    fn stop(&mut self) -> Result<(), HttpError> {
        self.shutdown.trigger();
        self.server
            .take()
            .map_or(Ok(()), |server| server.join().unwrap())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop();
        self.worker_stop.store(true, Ordering::Relaxed);
        if let Some(worker) = self.worker.take() {
            let _ = worker.join();
        }
    }
}

fn answer_requests(publisher: Publisher, stop: &AtomicBool) {
    let mut generation = 1;
    while !stop.load(Ordering::Relaxed) {
        if publisher.is_wanted() {
            generation += 1;
            publisher.publish(home_lan(generation));
        }
        thread::sleep(Duration::from_millis(1));
    }
}

/// A response as it came over the wire.
#[derive(Debug)]
struct Reply {
    status: u16,
    /// Header names lower-cased, in order.
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One request on a fresh connection (`Connection: close`).
fn request(addr: SocketAddr, method: &str, path: &str) -> Reply {
    request_with(addr, method, path, "")
}

/// [`request`] with extra header lines (each ending in `\r\n`).
fn request_with(addr: SocketAddr, method: &str, path: &str, headers: &str) -> Reply {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Connection: close\r\n\r\n"
    )
    .unwrap();
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw).unwrap();
    parse_reply(&raw, method == "HEAD")
}

fn parse_reply(raw: &[u8], head: bool) -> Reply {
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .expect("a complete header block");
    let head_text = std::str::from_utf8(&raw[..split]).unwrap();
    let body = raw[split + 4..].to_vec();
    let mut lines = head_text.split("\r\n");
    let status_line = lines.next().unwrap();
    let mut parts = status_line.splitn(3, ' ');
    assert_eq!(parts.next(), Some("HTTP/1.1"));
    let status = parts.next().unwrap().parse().unwrap();
    let headers = lines
        .map(|line| {
            let (name, value) = line.split_once(':').unwrap();
            (name.trim().to_ascii_lowercase(), value.trim().to_string())
        })
        .collect();
    let reply = Reply {
        status,
        headers,
        body,
    };
    if head {
        assert!(reply.body.is_empty(), "HEAD must not carry a body");
    } else if let Some(length) = reply.header("content-length") {
        assert_eq!(length.parse::<usize>().unwrap(), reply.body.len());
    }
    reply
}

const PROMETHEUS_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

#[test]
fn metrics_serve_the_exposition_of_a_snapshot_taken_at_scrape_time() {
    let server = Server::start();
    let reply = server.get("/metrics");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(PROMETHEUS_TYPE));
    // The worker published a newer snapshot for this scrape, and the body
    // is exactly its rendering.
    let served = server.reader.latest();
    assert!(
        served.health.kernel_packets > 1,
        "scrape used a fresh snapshot"
    );
    assert_eq!(reply.text(), prometheus::render(&served));
}

#[test]
fn metrics_fall_back_to_the_last_snapshot_when_the_worker_is_silent() {
    let server = Server::start_silent();
    let started = Instant::now();
    let reply = server.get("/metrics");
    let waited = started.elapsed();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), prometheus::render(&home_lan(1)));
    assert!(waited >= SNAPSHOT_PATIENCE, "waited {waited:?}");
    assert!(waited < SNAPSHOT_PATIENCE * 8, "waited {waited:?}");
}

#[test]
fn clients_api_lists_every_client_as_json() {
    let server = Server::start();
    let reply = server.get("/api/v1/clients");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let doc = reply.json();
    let clients = doc["clients"].as_array().unwrap();
    let ips: Vec<&str> = clients.iter().map(|c| c["ip"].as_str().unwrap()).collect();
    assert_eq!(ips, ["10.0.0.5", "192.168.1.23"]);
    assert_eq!(clients[1]["bandwidth"]["rx_bytes"], 1_000_000);
    assert_eq!(clients[1]["connections"]["total"], 12);
    assert_eq!(clients[0]["mac"], Value::Null);
}

#[test]
fn one_client_is_found_by_mac_in_any_spelling_or_by_address() {
    let server = Server::start();
    for key in [
        "3c:22:fb:12:34:56",
        "3C:22:FB:12:34:56",
        "3c-22-fb-12-34-56",
        "3C%3A22%3AFB%3A12%3A34%3A56",
        "192.168.1.23",
        "fd00::23",
    ] {
        let reply = server.get(&format!("/api/v1/clients/{key}"));
        assert_eq!(reply.status, 200, "{key}");
        assert_eq!(reply.header("content-type"), Some("application/json"));
        assert_eq!(reply.json()["mac"], "3c:22:fb:12:34:56", "{key}");
    }
    let by_ip = server.get("/api/v1/clients/10.0.0.5");
    assert_eq!(by_ip.status, 200);
    assert_eq!(by_ip.json()["ip"], "10.0.0.5");
}

#[test]
fn an_unknown_client_is_404_and_a_malformed_key_400() {
    let server = Server::start();
    let unknown = server.get("/api/v1/clients/3c:22:fb:12:34:57");
    assert_eq!(unknown.status, 404);
    assert_eq!(unknown.header("content-type"), Some("application/json"));
    assert!(unknown.json()["error"]
        .as_str()
        .unwrap()
        .contains("3c:22:fb:12:34:57"));

    let malformed = server.get("/api/v1/clients/not-a-mac");
    assert_eq!(malformed.status, 400);
    assert!(malformed.json()["error"].is_string());
}

#[test]
fn health_api_reports_the_daemon_state() {
    let server = Server::start();
    let reply = server.get("/api/v1/health");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/json"));
    let doc = reply.json();
    assert_eq!(doc["tables"]["clients"]["entries"], 2);
    assert_eq!(doc["tables"]["clients"]["max"], 1024);
    assert_eq!(doc["version"], env!("CARGO_PKG_VERSION"));
}

#[test]
fn landing_page_links_every_endpoint_and_escapes_hostnames() {
    let server = Server::start();
    let reply = server.get("/");
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.header("content-type"),
        Some("text/html; charset=utf-8")
    );
    let page = reply.text();
    for link in ["/metrics", "/api/v1/clients", "/api/v1/health"] {
        assert!(page.contains(&format!("href=\"{link}\"")), "links {link}");
    }
    assert!(page.contains("&lt;anna&gt; &amp; laptop"));
    assert!(!page.contains("<anna>"));
}

#[test]
fn unknown_paths_are_404() {
    let server = Server::start();
    for path in [
        "/nope",
        "/metrics/",
        "/api/v1",
        "/api/v1/clients/",
        "/api/v1/clients/a/b",
    ] {
        let reply = server.get(path);
        assert_eq!(reply.status, 404, "{path}");
    }
    assert_eq!(request(server.addr, "POST", "/nope").status, 404);
}

#[test]
fn other_methods_on_known_paths_are_405_with_allow() {
    let server = Server::start();
    for (method, path) in [
        ("POST", "/metrics"),
        ("PUT", "/api/v1/clients"),
        ("DELETE", "/api/v1/clients/3c:22:fb:12:34:56"),
        ("POST", "/"),
        ("OPTIONS", "/api/v1/health"),
    ] {
        let reply = request(server.addr, method, path);
        assert_eq!(reply.status, 405, "{method} {path}");
        assert_eq!(reply.header("allow"), Some("GET, HEAD"), "{method} {path}");
    }
}

#[test]
fn head_gives_the_get_headers_without_a_body() {
    let server = Server::start_silent(); // same snapshot for GET and HEAD
    for path in [
        "/",
        "/metrics",
        "/api/v1/clients",
        "/api/v1/clients/10.0.0.5",
        "/api/v1/health",
    ] {
        let get = server.get(path);
        let head = request(server.addr, "HEAD", path);
        assert_eq!(head.status, get.status, "{path}");
        assert_eq!(
            head.header("content-type"),
            get.header("content-type"),
            "{path}"
        );
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "{path}"
        );
    }
    assert_eq!(request(server.addr, "HEAD", "/nope").status, 404);
}

#[test]
fn curl_sees_the_same_metrics() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl is not installed; the raw-socket tests cover the same ground");
        return;
    }
    let server = Server::start_silent();
    let out = Command::new("curl")
        .args(["-sS", "--fail", "-D", "-"])
        .arg(format!("http://{}/metrics", server.addr))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let reply = parse_reply(&out.stdout, false);
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some(PROMETHEUS_TYPE));
    assert_eq!(reply.text(), prometheus::render(&home_lan(1)));
}

/// `gzip -dc` of `bytes`: an independent decoder (Debian's gzip).
fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut child = Command::new("gzip")
        .arg("-dc")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("run gzip");
    let mut stdin = child.stdin.take().unwrap();
    let input = bytes.to_vec();
    let feeder = thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    feeder.join().unwrap().unwrap();
    assert!(out.status.success(), "gzip -d refused the body");
    out.stdout
}

#[test]
fn metrics_are_gzip_when_the_client_accepts_it_and_plain_otherwise() {
    let server = Server::start_silent(); // the same snapshot for every request
    let plain = server.get("/metrics");
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));
    // What Prometheus sends, and other spellings that allow gzip.
    for accept in [
        "gzip",
        "GZip",
        "x-gzip",
        "deflate, gzip;q=0.9",
        "br;q=1.0, gzip;q=0.8, *;q=0.1",
        " identity;q=0.5 , gzip ",
        "*",
    ] {
        let reply = request_with(
            server.addr,
            "GET",
            "/metrics",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(reply.status, 200, "{accept}");
        assert_eq!(reply.header("content-encoding"), Some("gzip"), "{accept}");
        assert_eq!(reply.header("vary"), Some("Accept-Encoding"), "{accept}");
        assert_eq!(reply.header("content-type"), Some(PROMETHEUS_TYPE));
        assert_eq!(&reply.body[..2], [0x1f, 0x8b], "gzip magic ({accept})");
        assert!(reply.body.len() * 3 < plain.body.len(), "it compresses");
        assert_eq!(gunzip(&reply.body), plain.body, "{accept}");
    }
    // The accepted list may span header lines.
    let split = request_with(
        server.addr,
        "GET",
        "/metrics",
        "Accept-Encoding: br\r\nAccept-Encoding: gzip\r\n",
    );
    assert_eq!(split.header("content-encoding"), Some("gzip"));
    // No gzip for a client that refuses it or prefers identity.
    for accept in [
        "identity",
        "gzip;q=0",
        "GZIP; Q=0.000",
        "deflate, br",
        "*;q=0",
        "*, gzip;q=0",
        "gzip;q=0.5, identity",
    ] {
        let reply = request_with(
            server.addr,
            "GET",
            "/metrics",
            &format!("Accept-Encoding: {accept}\r\n"),
        );
        assert_eq!(reply.header("content-encoding"), None, "{accept}");
        assert_eq!(reply.header("vary"), Some("Accept-Encoding"), "{accept}");
        assert_eq!(reply.body, plain.body, "{accept}");
    }
    assert_eq!(plain.text(), prometheus::render(&home_lan(1)));
}

#[test]
fn head_with_gzip_gives_the_headers_of_the_gzip_get() {
    let server = Server::start_silent();
    for path in ["/metrics", "/api/v1/clients", "/api/v1/health", "/"] {
        let accept = "Accept-Encoding: gzip\r\n";
        let get = request_with(server.addr, "GET", path, accept);
        let head = request_with(server.addr, "HEAD", path, accept);
        assert_eq!(head.status, 200, "{path}");
        assert_eq!(head.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(head.header("vary"), Some("Accept-Encoding"), "{path}");
        assert_eq!(
            head.header("content-length"),
            Some(get.body.len().to_string().as_str()),
            "{path}"
        );
    }
}

#[test]
fn json_endpoints_and_the_landing_page_gzip_too_but_refusals_stay_plain() {
    let server = Server::start_silent();
    let accept = "Accept-Encoding: gzip\r\n";
    for path in [
        "/api/v1/clients",
        "/api/v1/clients/10.0.0.5",
        "/api/v1/health",
        "/",
    ] {
        let plain = server.get(path);
        let gzip = request_with(server.addr, "GET", path, accept);
        assert_eq!(gzip.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gzip.header("content-type"), plain.header("content-type"));
        assert_eq!(gunzip(&gzip.body), plain.body, "{path}");
    }
    let not_found = request_with(server.addr, "GET", "/nope", accept);
    assert_eq!(not_found.status, 404);
    assert_eq!(not_found.header("content-encoding"), None);
    let post = request_with(server.addr, "POST", "/metrics", accept);
    assert_eq!(post.status, 405);
    assert_eq!(post.header("content-encoding"), None);
}

#[test]
fn curl_compressed_decodes_to_the_plain_metrics() {
    if Command::new("curl").arg("--version").output().is_err() {
        eprintln!("curl is not installed; the raw-socket tests cover the same ground");
        return;
    }
    let server = Server::start_silent();
    let url = format!("http://{}/metrics", server.addr);
    let curl = |args: &[&str]| {
        let out = Command::new("curl")
            .args(["-sS", "--fail", "-D", "-"])
            .args(args)
            .arg(&url)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        out.stdout
    };
    // --compressed: curl asks for gzip and decodes it itself; the headers
    // it prints are the wire's, so Content-Length is the gzip length.
    let compressed = curl(&["--compressed"]);
    let split = compressed
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap();
    let head = String::from_utf8_lossy(&compressed[..split]).to_ascii_lowercase();
    assert!(head.contains("\r\ncontent-encoding: gzip"), "{head}");
    assert!(head.contains("\r\nvary: accept-encoding"), "{head}");
    let decoded = &compressed[split + 4..];
    let plain = parse_reply(&curl(&[]), false);
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(decoded, &plain.body[..]);
    // Without --compressed and an explicit gzip request, curl hands over
    // the raw gzip bytes: gzip -d gives the same body.
    let raw = parse_reply(&curl(&["-H", "Accept-Encoding: gzip"]), false);
    assert_eq!(raw.header("content-encoding"), Some("gzip"));
    assert_eq!(gunzip(&raw.body), plain.body);
}

#[test]
fn shutdown_lets_an_in_flight_request_finish_then_refuses_connections() {
    // A silent worker makes /metrics take SNAPSHOT_PATIENCE: long enough
    // to trigger shutdown while the request is in flight.
    let mut server = Server::start_silent();
    let addr = server.addr;
    let in_flight = thread::spawn(move || request(addr, "GET", "/metrics"));
    thread::sleep(SNAPSHOT_PATIENCE / 5);

    let started = Instant::now();
    server.stop().unwrap();
    let reply = in_flight.join().unwrap();
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), prometheus::render(&home_lan(1)));
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "took {:?}",
        started.elapsed()
    );
    assert!(TcpStream::connect(addr).is_err(), "no longer listening");
}

#[test]
fn shutdown_closes_idle_keep_alive_connections_promptly() {
    let mut server = Server::start();
    let mut stream = TcpStream::connect(server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    write!(stream, "GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n").unwrap();
    // Read the one response (headers, then Content-Length bytes); keep the
    // connection open and idle.
    let mut raw = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = stream.read(&mut buf).unwrap();
        assert!(n > 0, "server closed before answering");
        raw.extend_from_slice(&buf[..n]);
        if let Some(split) = raw.windows(4).position(|w| w == b"\r\n\r\n") {
            let reply = parse_reply(&raw[..split + 4], true);
            let length: usize = reply.header("content-length").unwrap().parse().unwrap();
            if raw.len() >= split + 4 + length {
                break;
            }
        }
    }

    let started = Instant::now();
    server.stop().unwrap();
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(
        stream.read(&mut buf).unwrap(),
        0,
        "the idle connection was closed"
    );
}

#[test]
fn binding_a_busy_address_names_it_in_the_error() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap();
    let err = bind(addr).unwrap_err();
    assert!(matches!(err, HttpError::Bind { .. }));
    assert!(err.to_string().contains(&addr.to_string()), "{err}");
    assert!(matches!(addr.ip(), IpAddr::V4(ip) if ip.is_loopback()));
}

#[test]
fn sigterm_triggers_a_shutdown_armed_for_signals() {
    let mut server = Server::start();
    server.shutdown.trigger_on_signals().unwrap();
    assert!(!server.shutdown.is_triggered());
    // The handler is in place, so the signal stops the server instead of
    // killing the test process.
    // SAFETY: raise has no preconditions.
    assert_eq!(unsafe { libc::raise(libc::SIGTERM) }, 0);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !server.shutdown.is_triggered() {
        assert!(
            Instant::now() < deadline,
            "SIGTERM did not trigger shutdown"
        );
        thread::sleep(Duration::from_millis(5));
    }
    let server_thread = server.server.take().unwrap();
    assert!(server_thread.join().unwrap().is_ok());
    assert!(
        TcpStream::connect(server.addr).is_err(),
        "no longer listening"
    );
}
