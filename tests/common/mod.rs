//! Helpers shared by the integration tests: running the built binary, the
//! independent accounting model, and comparing their per-client results.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A capture under the shared captures folder beside the checkout.
pub fn shared_capture(name: &str) -> PathBuf {
    root().join("../shared/pcaps").join(name)
}

/// Fails with a clear message when a tool the tests need is missing.
pub fn require_tool(tool: &str, package: &str) {
    let found = Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool}"))
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed: run scripts/test (it installs the Debian package {package})"
    );
}

/// Runs `lanwatch replay --format json FILES ARGS` and parses the output.
pub fn lanwatch_json(files: &[PathBuf], args: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("replay")
        .arg("--format")
        .arg("json")
        .args(files)
        .args(args)
        .output()
        .expect("run lanwatch");
    assert!(
        out.status.success(),
        "lanwatch replay {files:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("lanwatch printed JSON")
}

/// Runs the independent accounting model (tshark + Python) on FILES.
pub fn expected_json(files: &[PathBuf], args: &[&str]) -> Value {
    require_tool("tshark", "tshark");
    let out = Command::new("/usr/bin/python3")
        .arg(root().join("scripts/expected_accounting.py"))
        .args(files)
        .args(args)
        .output()
        .expect("run /usr/bin/python3 scripts/expected_accounting.py");
    assert!(
        out.status.success(),
        "expected_accounting.py {files:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("the model printed JSON")
}

/// One client's figures in a shape both sides can be brought to.
#[derive(Debug, Default, PartialEq, Eq, Clone)]
pub struct ClientFigures {
    pub ipv4: Vec<String>,
    pub ipv6: Vec<String>,
    /// protocol → [rx_bytes, tx_bytes, rx_packets, tx_packets, connections]
    pub protocols: BTreeMap<String, [u64; 5]>,
    /// [rx_bytes, tx_bytes, rx_packets, tx_packets]
    pub lan: [u64; 4],
    pub connections_active: u64,
    /// DNS query messages sent, by question type.
    pub dns_queries: BTreeMap<String, u64>,
}

fn num(v: &Value, key: &str) -> u64 {
    v.get(key).and_then(Value::as_u64).unwrap_or(0)
}

fn strings(v: &Value, key: &str) -> Vec<String> {
    let mut out: Vec<String> = v
        .get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

fn counts(v: &Value) -> BTreeMap<String, u64> {
    v.as_object()
        .map(|o| {
            o.iter()
                .map(|(k, n)| (k.clone(), n.as_u64().unwrap_or(0)))
                .collect()
        })
        .unwrap_or_default()
}

fn traffic4(v: &Value) -> [u64; 4] {
    [
        num(v, "rx_bytes"),
        num(v, "tx_bytes"),
        num(v, "rx_packets"),
        num(v, "tx_packets"),
    ]
}

/// Per-client figures from lanwatch's JSON (`replay --format json`).
pub fn ours(doc: &Value) -> BTreeMap<String, ClientFigures> {
    let mut map = BTreeMap::new();
    for c in doc["clients"].as_array().expect("clients array") {
        let key = c["mac"]
            .as_str()
            .map(str::to_string)
            .or_else(|| c["ip"].as_str().map(str::to_string))
            .expect("client has a MAC or an IP");
        let mut protocols = BTreeMap::new();
        for p in c["protocols"].as_array().into_iter().flatten() {
            let t = traffic4(p);
            protocols.insert(
                p["protocol"].as_str().unwrap_or("?").to_string(),
                [t[0], t[1], t[2], t[3], num(p, "connections")],
            );
        }
        map.insert(
            key,
            ClientFigures {
                ipv4: strings(c, "ipv4"),
                ipv6: strings(c, "ipv6"),
                protocols,
                lan: traffic4(&c["lan"]),
                connections_active: num(&c["connections"], "active"),
                dns_queries: counts(&c["dns"]["queries"]),
            },
        );
    }
    map
}

/// Per-client figures from the independent model's JSON.
pub fn theirs(doc: &Value) -> BTreeMap<String, ClientFigures> {
    let mut map = BTreeMap::new();
    for (key, c) in doc["clients"].as_object().expect("clients object") {
        let mut protocols = BTreeMap::new();
        for (name, p) in c["protocols"].as_object().into_iter().flatten() {
            let t = traffic4(p);
            protocols.insert(
                name.clone(),
                [t[0], t[1], t[2], t[3], num(p, "connections")],
            );
        }
        map.insert(
            key.clone(),
            ClientFigures {
                ipv4: strings(c, "ipv4"),
                ipv6: strings(c, "ipv6"),
                protocols,
                lan: traffic4(&c["lan"]),
                connections_active: num(c, "connections_active"),
                dns_queries: counts(&c["dns_queries"]),
            },
        );
    }
    map
}

/// Every difference between the two views, one line each.
pub fn differences(
    ours: &BTreeMap<String, ClientFigures>,
    theirs: &BTreeMap<String, ClientFigures>,
) -> Vec<String> {
    let mut out = Vec::new();
    for key in ours.keys().chain(theirs.keys()) {
        match (ours.get(key), theirs.get(key)) {
            (Some(_), None) => out.push(format!("{key}: only lanwatch has this client")),
            (None, Some(_)) => out.push(format!("{key}: lanwatch is missing this client")),
            (Some(a), Some(b)) if a != b => {
                if a.ipv4 != b.ipv4 || a.ipv6 != b.ipv6 {
                    out.push(format!(
                        "{key}: addresses {:?}/{:?} vs {:?}/{:?}",
                        a.ipv4, a.ipv6, b.ipv4, b.ipv6
                    ));
                }
                for proto in a.protocols.keys().chain(b.protocols.keys()) {
                    let (x, y) = (a.protocols.get(proto), b.protocols.get(proto));
                    if x != y {
                        out.push(format!(
                            "{key} {proto}: [rx_bytes, tx_bytes, rx_pkts, tx_pkts, conns] {x:?} vs {y:?}"
                        ));
                    }
                }
                if a.lan != b.lan {
                    out.push(format!("{key} LAN: {:?} vs {:?}", a.lan, b.lan));
                }
                if a.dns_queries != b.dns_queries {
                    out.push(format!(
                        "{key} DNS queries: {:?} vs {:?}",
                        a.dns_queries, b.dns_queries
                    ));
                }
                if a.connections_active != b.connections_active {
                    out.push(format!(
                        "{key}: active connections {} vs {}",
                        a.connections_active, b.connections_active
                    ));
                }
            }
            _ => {}
        }
    }
    out.sort();
    out.dedup();
    out
}

/// Replays `files` with lanwatch and with the model and asserts they agree.
pub fn assert_same_accounting(files: &[PathBuf], args: &[&str]) {
    let ours_doc = lanwatch_json(files, args);
    let theirs_doc = expected_json(files, args);
    assert_accounting_matches(files, &ours_doc, &theirs_doc);
}

/// Compares two documents already at hand.
pub fn assert_accounting_matches(files: &[PathBuf], ours_doc: &Value, theirs_doc: &Value) {
    let diffs = differences(&ours(ours_doc), &theirs(theirs_doc));
    assert!(
        diffs.is_empty(),
        "{} differences between lanwatch and the independent model for {:?}:\n{}",
        diffs.len(),
        files
            .iter()
            .map(|f| f.display().to_string())
            .collect::<Vec<_>>(),
        diffs.join("\n")
    );
    // The frame outcomes must agree too.
    let health = &ours_doc["health"]["packets"];
    let outcomes = &theirs_doc["outcomes"];
    for outcome in ["accounted", "lan", "no_client"] {
        assert_eq!(
            health[outcome].as_u64(),
            outcomes[outcome].as_u64(),
            "frames {outcome} for {files:?}"
        );
    }
}

/// Reads a path relative to the crate root.
pub fn repo_file(rel: &str) -> PathBuf {
    let p = root().join(rel);
    assert!(Path::new(&p).exists(), "{} is missing", p.display());
    p
}

/// A free TCP port on loopback (bound and released; good enough for tests).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A plain HTTP/1.0 GET; returns the status code and the body.
pub fn http_get(addr: &str, path: &str) -> std::io::Result<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(std::time::Duration::from_secs(10)))?;
    write!(stream, "GET {path} HTTP/1.0\r\nHost: {addr}\r\n\r\n")?;
    let mut response = String::new();
    stream.read_to_string(&mut response)?;
    let status = response
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let body = response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    Ok((status, body))
}

/// Percent-encodes a query-string value.
pub fn url_encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Polls `check` every 100 ms until it returns Some, or panics after `secs`.
pub fn wait_for<T>(what: &str, secs: u64, mut check: impl FnMut() -> Option<T>) -> T {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
    loop {
        if let Some(v) = check() {
            return v;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "timed out waiting for {what}"
        );
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
}

/// A child process killed (SIGTERM, then SIGKILL) when dropped.
pub struct ChildGuard(pub Option<std::process::Child>);

impl ChildGuard {
    /// Sends SIGTERM and waits up to `secs` for a clean exit.
    pub fn terminate(&mut self, secs: u64) -> Option<std::process::ExitStatus> {
        let child = self.0.as_mut()?;
        let _ = Command::new("kill")
            .arg("-TERM")
            .arg(child.id().to_string())
            .status();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(secs);
        while std::time::Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                self.0 = None;
                return Some(status);
            }
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
        None
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        if let Some(child) = self.0.as_mut() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}
