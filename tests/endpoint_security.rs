//! The metrics endpoint refuses what it should, checked with a real HTTP
//! client (curl) against `lanwatch replay --listen`: scrapers off the
//! allow-list, wrong passwords, oversized heads, slow requests, bodies and
//! other methods; and HTTPS works with a certificate made by openssl.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;

/// A replay that keeps serving, with extra options.
struct Server {
    addr: String,
    _child: ChildGuard,
}

fn start(args: &[&str]) -> Server {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "json", "--listen", &addr])
        .arg(repo_file("tests/data/generated/lan_and_broadcast.pcap"))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lanwatch");
    let child = ChildGuard(Some(child));
    wait_for("lanwatch to listen", 30, || TcpStream::connect(&addr).ok());
    Server {
        addr,
        _child: child,
    }
}

/// What curl saw: its exit code, the HTTP status (0: none) and the headers.
struct Seen {
    exit: i32,
    status: u16,
    headers: String,
}

fn curl(args: &[&str]) -> Seen {
    require_tool("curl", "curl");
    let out = Command::new("curl")
        .args(["-sS", "-o", "/dev/null", "-D", "-", "--max-time", "20"])
        .args(args)
        .output()
        .expect("run curl");
    let headers = String::from_utf8_lossy(&out.stdout).to_string();
    let status = headers
        .lines()
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    Seen {
        exit: out.status.code().unwrap_or(-1),
        status,
        headers,
    }
}

fn temp_dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("lanwatch-endpoint-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// A web-config file with one user (bcrypt hash from the `bcrypt` crate,
/// cost 4 to keep the test fast).
fn web_config_with_user(dir: &Path, user: &str, password: &str, extra: &str) -> PathBuf {
    let hash = bcrypt::hash(password, 4).unwrap();
    let path = dir.join("web.yml");
    std::fs::write(
        &path,
        format!("{extra}basic_auth_users:\n  {user}: '{hash}'\n"),
    )
    .unwrap();
    path
}

#[test]
fn a_wrong_or_missing_password_is_401_with_a_basic_challenge() {
    let dir = temp_dir("auth");
    let config = web_config_with_user(&dir, "prometheus", "correct horse", "");
    let server = start(&["--web-config", config.to_str().unwrap()]);
    let url = format!("http://{}/metrics", server.addr);

    let wrong = curl(&["-u", "prometheus:battery staple", &url]);
    assert_eq!(wrong.status, 401, "{}", wrong.headers);
    assert!(
        wrong
            .headers
            .to_ascii_lowercase()
            .contains("www-authenticate: basic realm=\"lanwatch\""),
        "{}",
        wrong.headers
    );
    assert_eq!(curl(&[&url]).status, 401, "no credentials");
    assert_eq!(
        curl(&["-u", "nobody:correct horse", &url]).status,
        401,
        "unknown user"
    );
    // Authentication comes before routing: nothing about paths leaks.
    let unknown_path = format!("http://{}/nope", server.addr);
    assert_eq!(curl(&[&unknown_path]).status, 401);

    let right = curl(&["-u", "prometheus:correct horse", &url]);
    assert_eq!(right.status, 200, "{}", right.headers);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn a_scraper_off_the_allow_list_is_closed_without_an_answer() {
    let server = start(&["--allow-scraper", "192.0.2.0/24"]);
    let seen = curl(&[&format!("http://{}/metrics", server.addr)]);
    assert_eq!(seen.status, 0, "no HTTP answer at all: {}", seen.headers);
    // 52: empty reply; 56: connection reset while receiving.
    assert!(
        seen.exit == 52 || seen.exit == 56,
        "curl exit {}",
        seen.exit
    );
}

#[test]
fn a_scraper_on_the_allow_list_is_served() {
    let server = start(&[
        "--allow-scraper",
        "10.0.0.0/8",
        "--allow-scraper",
        "127.0.0.1",
    ]);
    let seen = curl(&[&format!("http://{}/metrics", server.addr)]);
    assert_eq!(seen.status, 200);
}

#[test]
fn request_heads_over_8_kib_are_431() {
    let server = start(&[]);
    let big = format!("X-Padding: {}", "a".repeat(9 * 1024));
    let seen = curl(&["-H", &big, &format!("http://{}/metrics", server.addr)]);
    assert_eq!(seen.status, 431, "{}", seen.headers);
    // A normal head on the same server is still fine.
    let small = curl(&[
        "-H",
        "X-Padding: a",
        &format!("http://{}/metrics", server.addr),
    ]);
    assert_eq!(small.status, 200);
}

#[test]
fn only_get_and_head_are_allowed_and_requests_carry_no_body() {
    let server = start(&[]);
    let url = format!("http://{}/metrics", server.addr);
    let post = curl(&["-X", "POST", &url]);
    assert_eq!(post.status, 405);
    assert!(post.headers.contains("GET, HEAD"), "{}", post.headers);
    assert_eq!(curl(&["-X", "POST", "-d", "x=1", &url]).status, 405);
    assert_eq!(curl(&["-X", "DELETE", &url]).status, 405);
    assert_eq!(curl(&["-I", &url]).status, 200, "HEAD");
    assert_eq!(curl(&["-X", "GET", "-d", "x=1", &url]).status, 413);
}

#[test]
fn a_slow_request_is_closed_after_the_request_timeout() {
    let server = start(&["--request-timeout", "2"]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    // Half a request head, then nothing (a slowloris client).
    stream
        .write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\n")
        .unwrap();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "closed after {waited:?}"
    );
    let text = String::from_utf8_lossy(&buf);
    assert!(
        buf.is_empty() || text.starts_with("HTTP/1.1 408"),
        "no answer but a timeout: {text}"
    );
    // The same holds with curl: it gets no response to a request it never
    // finished, and the server goes on serving others.
    let seen = curl(&[&format!("http://{}/api/v1/health", server.addr)]);
    assert_eq!(seen.status, 200);
}

#[test]
fn a_web_config_lanwatch_cannot_honour_stops_the_start_with_its_line() {
    let dir = temp_dir("badconfig");
    let path = dir.join("web.yml");
    std::fs::write(
        &path,
        "tls_server_config:\n  cert_file: a.crt\n  key_file: a.key\n  client_auth_type: RequireAndVerifyClientCert\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--web-config"])
        .arg(&path)
        .arg(repo_file("tests/data/generated/lan_and_broadcast.pcap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("web.yml:4") && err.contains("client_auth_type"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The value of header `name` in curl's `-D -` output (names compared
/// without case).
fn header<'a>(headers: &'a str, name: &str) -> Option<&'a str> {
    headers.lines().find_map(|line| {
        let (n, v) = line.split_once(':')?;
        n.trim().eq_ignore_ascii_case(name).then_some(v.trim())
    })
}

#[test]
fn http_server_config_headers_arrive_on_every_response() {
    let dir = temp_dir("headers");
    let path = web_config_with_user(
        &dir,
        "prometheus",
        "correct horse",
        "http_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: deny\n    \
         x-content-type-options: nosniff\n    \
         Content-Security-Policy: \"default-src 'self'\"\n    \
         Strict-Transport-Security: max-age=31536000; includeSubDomains\n    \
         X-XSS-Protection: ''\n",
    );
    let server = start(&["--web-config", path.to_str().unwrap()]);
    let base = format!("http://{}", server.addr);
    let ok = curl(&["-u", "prometheus:correct horse", &format!("{base}/metrics")]);
    let refused = curl(&[&format!("{base}/metrics")]);
    let missing = curl(&["-u", "prometheus:correct horse", &format!("{base}/nope")]);
    let head = curl(&[
        "-I",
        "-u",
        "prometheus:correct horse",
        &format!("{base}/api/v1/health"),
    ]);
    assert_eq!(
        (ok.status, refused.status, missing.status, head.status),
        (200, 401, 404, 200)
    );
    for seen in [&ok, &refused, &missing, &head] {
        let h = &seen.headers;
        assert_eq!(header(h, "X-Frame-Options"), Some("deny"), "{h}");
        assert_eq!(header(h, "X-Content-Type-Options"), Some("nosniff"), "{h}");
        assert_eq!(
            header(h, "Content-Security-Policy"),
            Some("default-src 'self'"),
            "{h}"
        );
        assert_eq!(
            header(h, "Strict-Transport-Security"),
            Some("max-age=31536000; includeSubDomains"),
            "{h}"
        );
        // A blank value leaves the header unset, as in the exporter toolkit.
        assert_eq!(header(h, "X-XSS-Protection"), None, "{h}");
    }
    // lanwatch's own headers are still there.
    assert!(header(&refused.headers, "WWW-Authenticate").is_some());
    assert!(header(&ok.headers, "Content-Type").is_some_and(|t| t.starts_with("text/plain")));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn headers_the_toolkit_forbids_and_unknown_http_server_config_keys_stop_the_start() {
    let dir = temp_dir("badheaders");
    let path = dir.join("web.yml");
    for (text, wanted) in [
        (
            "http_server_config:\n  headers:\n    Content-Type: text/html\n",
            [
                "web.yml:3",
                "http_server_config.headers.Content-Type",
                "cannot be set",
            ],
        ),
        (
            "http_server_config:\n  headers:\n    X-Frame-Options: allow-from\n",
            ["web.yml:3", "X-Frame-Options", "not an allowed value"],
        ),
        (
            "http_server_config:\n  http2: true\n  keep_alive: false\n",
            ["web.yml:3", "http_server_config.keep_alive", "unknown key"],
        ),
    ] {
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--web-config"])
            .arg(&path)
            .arg(repo_file("tests/data/generated/lan_and_broadcast.pcap"))
            .output()
            .unwrap();
        assert!(!out.status.success(), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        for w in wanted {
            assert!(err.contains(w), "{w:?} not in {err}");
        }
    }
    std::fs::remove_dir_all(&dir).unwrap();
}

/// A self-signed certificate for `localhost` made by openssl.
fn self_signed(dir: &Path) -> (PathBuf, PathBuf) {
    require_tool("openssl", "openssl");
    let cert = dir.join("server.crt");
    let key = dir.join("server.key");
    let out = Command::new("openssl")
        .args([
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
        ])
        .args(["-nodes", "-days", "2", "-subj", "/CN=localhost"])
        .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .output()
        .expect("run openssl");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    (cert, key)
}

#[cfg(feature = "tls")]
#[test]
fn https_with_a_self_signed_certificate_and_basic_auth() {
    let dir = temp_dir("tls");
    let (cert, _key) = self_signed(&dir);
    // Relative names: from the web-config file's directory.
    let config = web_config_with_user(
        &dir,
        "prometheus",
        "pw",
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    );
    let server = start(&["--web-config", config.to_str().unwrap()]);
    let port = server.addr.rsplit(':').next().unwrap();
    let url = format!("https://localhost:{port}/metrics");
    let resolve = format!("localhost:{port}:127.0.0.1");
    let cacert = cert.to_str().unwrap();

    let seen = curl(&[
        "--cacert",
        cacert,
        "--resolve",
        &resolve,
        "-u",
        "prometheus:pw",
        &url,
    ]);
    assert_eq!(seen.status, 200, "{}", seen.headers);
    let wrong = curl(&[
        "--cacert",
        cacert,
        "--resolve",
        &resolve,
        "-u",
        "prometheus:no",
        &url,
    ]);
    assert_eq!(wrong.status, 401);
    // Without trusting the certificate, the handshake fails (60: peer
    // certificate cannot be authenticated).
    let untrusted = curl(&["--resolve", &resolve, &url]);
    assert_eq!(untrusted.status, 0);
    assert_ne!(untrusted.exit, 0);
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain = curl(&[&format!("http://{}/metrics", server.addr)]);
    assert_ne!(plain.status, 200);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[cfg(not(feature = "tls"))]
#[test]
fn tls_in_the_web_config_without_the_tls_feature_is_a_clear_start_error() {
    let dir = temp_dir("notls");
    let (_cert, _key) = self_signed(&dir);
    let path = dir.join("web.yml");
    std::fs::write(
        &path,
        "tls_server_config:\n  cert_file: server.crt\n  key_file: server.key\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--listen", "127.0.0.1:0", "--web-config"])
        .arg(&path)
        .arg(repo_file("tests/data/generated/lan_and_broadcast.pcap"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("feature `tls`"), "{err}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn capture_refuses_to_serve_as_root_without_allow_root() {
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("skipped: needs root (the check is about running as root)");
        return;
    }
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["capture", "-i", "lo", "--listen", "127.0.0.1:0"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("as root") && err.contains("--user") && err.contains("--allow-root"),
        "{err}"
    );
}

/// Reads from `stream` until the server closes it (or 20 s pass); returns
/// what arrived and how long it took.
fn read_until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let started = Instant::now();
    let mut buf = Vec::new();
    let _ = stream.read_to_end(&mut buf);
    (buf, started.elapsed())
}

#[test]
fn a_kept_alive_connection_that_sends_nothing_more_is_closed_after_the_request_timeout() {
    let server = start(&["--request-timeout", "2"]);
    let mut stream = TcpStream::connect(&server.addr).unwrap();
    stream
        .write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let (buf, waited) = read_until_closed(&mut stream);
    let text = String::from_utf8_lossy(&buf);
    assert!(text.starts_with("HTTP/1.1 200"), "{text}");
    // One answer, then the idle connection is closed: not held for ever.
    assert_eq!(text.matches("HTTP/1.1 ").count(), 1, "{text}");
    assert!(
        waited >= Duration::from_millis(1500) && waited < Duration::from_secs(10),
        "closed after {waited:?}"
    );
}

#[test]
fn a_slow_body_is_refused_at_once_and_its_connection_closed() {
    let server = start(&[]);
    for head in [
        "POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 100000000\r\n\r\n",
        "GET /metrics HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n",
    ] {
        let mut stream = TcpStream::connect(&server.addr).unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        // A byte of the body, then nothing: the answer must not wait for it.
        stream.write_all(b"1").unwrap();
        let (buf, waited) = read_until_closed(&mut stream);
        let text = String::from_utf8_lossy(&buf);
        assert!(
            text.starts_with("HTTP/1.1 405") || text.starts_with("HTTP/1.1 413"),
            "{head:?}: {text}"
        );
        assert!(
            waited < Duration::from_secs(3),
            "{head:?}: closed after {waited:?}"
        );
    }
}

#[test]
fn connections_beyond_the_per_address_bound_push_out_the_oldest_idle_one() {
    let server = start(&["--request-timeout", "30"]);
    // Eight idle connections from 127.0.0.1, the per-address bound.
    let mut idle: Vec<TcpStream> = (0..8)
        .map(|_| TcpStream::connect(&server.addr).unwrap())
        .collect();
    std::thread::sleep(Duration::from_millis(300));
    // A ninth is served; the oldest idle one is closed to make room.
    let seen = curl(&[&format!("http://{}/api/v1/health", server.addr)]);
    assert_eq!(seen.status, 200);
    let (buf, waited) = read_until_closed(&mut idle[0]);
    assert!(buf.is_empty(), "the displaced connection got no answer");
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
    // The others are still open: a request on the newest is answered.
    let last = idle.last_mut().unwrap();
    last.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .unwrap();
    let (buf, _) = read_until_closed(last);
    assert!(String::from_utf8_lossy(&buf).starts_with("HTTP/1.1 200"));
}
