//! Helpers shared by the integration tests: running the built binary, the
//! independent accounting model, and comparing their per-client results.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

/// The crate root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A real third-party capture under `tests/captures/` (see its PROVENANCE.md).
pub fn real_capture(name: &str) -> PathBuf {
    root().join("tests/captures").join(name)
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
    /// DNS response messages received (port 53, not mDNS), by header rcode.
    pub dns_responses: BTreeMap<String, u64>,
    /// mDNS query messages sent.
    pub mdns_queries: u64,
    /// DNS queries sent to a unicast resolver outside the LAN prefixes.
    pub dns_bypass_other_resolver: u64,
    /// Distinct names queried in the 24 h window.
    pub unique_domains: u64,
    /// The model's side: TLS server names the client sent (empty for lanwatch).
    pub tls_server_names: Vec<String>,
    /// lanwatch's side: the client's domains as listed, name → connections
    /// attributed to it (empty for the model).
    pub domains: BTreeMap<String, u64>,
    /// Whether `domains` is the client's whole list: `replay --format json`
    /// lists only the top [`LISTED_DOMAINS`], so a full list may be cut.
    pub domains_complete: bool,
}

/// How many domains per client `replay --format json` lists (the busiest).
pub const LISTED_DOMAINS: usize = 10;

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

/// A `domains` list of lanwatch's JSON as name → connections.
pub fn domain_connections(list: &Value) -> BTreeMap<String, u64> {
    list.as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| Some((d["domain"].as_str()?.to_string(), num(d, "connections"))))
        .collect()
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
                dns_responses: counts(&c["dns"]["responses"]),
                mdns_queries: num(&c["dns"], "mdns_queries"),
                dns_bypass_other_resolver: num(&c["dns"]["bypass"], "other_resolver"),
                unique_domains: num(&c["dns"], "unique_domains_24h"),
                tls_server_names: Vec::new(),
                domains: domain_connections(&c["domains"]),
                domains_complete: c["domains"].as_array().map_or(0, Vec::len) < LISTED_DOMAINS,
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
                dns_responses: counts(&c["dns_responses"]),
                mdns_queries: num(c, "mdns_queries"),
                dns_bypass_other_resolver: num(c, "dns_bypass_other_resolver"),
                unique_domains: num(c, "unique_domains"),
                tls_server_names: strings(c, "tls_server_names"),
                domains: BTreeMap::new(),
                domains_complete: true,
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
                if a.dns_responses != b.dns_responses {
                    out.push(format!(
                        "{key} DNS responses: {:?} vs {:?}",
                        a.dns_responses, b.dns_responses
                    ));
                }
                let dns_figures = [
                    ("mDNS queries", a.mdns_queries, b.mdns_queries),
                    (
                        "DNS queries to other resolvers",
                        a.dns_bypass_other_resolver,
                        b.dns_bypass_other_resolver,
                    ),
                    ("distinct names", a.unique_domains, b.unique_domains),
                ];
                for (what, x, y) in dns_figures {
                    if x != y {
                        out.push(format!("{key} {what}: {x} vs {y}"));
                    }
                }
                out.extend(server_name_differences(key, a, b));
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

/// TLS server names: each name the model saw the client send (`b`) must be
/// one of lanwatch's domains for that client (`a`) with at least one
/// connection attributed to it. A name missing from a list that may have
/// been cut (the replay JSON's top 10) is not judged here: see
/// [`unlisted_server_names`].
fn server_name_differences(key: &str, a: &ClientFigures, b: &ClientFigures) -> Vec<String> {
    let mut out = Vec::new();
    for name in &b.tls_server_names {
        match a.domains.get(name) {
            Some(0) => out.push(format!(
                "{key} TLS server name {name}: a domain of lanwatch's, but no connection"
            )),
            Some(_) => {}
            None if a.domains_complete => out.push(format!(
                "{key} TLS server name {name}: not among lanwatch's domains {:?}",
                a.domains.keys().collect::<Vec<_>>()
            )),
            None => {}
        }
    }
    out
}

/// (client, name) for each TLS server name of the model's that lanwatch's
/// listed domains lack while the list is cut to the top ones: only the
/// client's full list can tell.
pub fn unlisted_server_names(
    ours: &BTreeMap<String, ClientFigures>,
    theirs: &BTreeMap<String, ClientFigures>,
) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for (key, b) in theirs {
        let Some(a) = ours.get(key) else { continue };
        if a.domains_complete {
            continue;
        }
        for name in &b.tls_server_names {
            if !a.domains.contains_key(name) {
                out.push((key.clone(), name.clone()));
            }
        }
    }
    out
}

/// Every client's full domain list (name → connections), from
/// `/api/v1/clients/{key}` of `lanwatch replay --listen` over the same files,
/// once it has counted as many frames as `ours_doc` says.
pub fn full_domain_lists(
    files: &[PathBuf],
    args: &[&str],
    ours_doc: &Value,
    keys: &[String],
) -> BTreeMap<String, BTreeMap<String, u64>> {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("replay")
        .arg("--format")
        .arg("json")
        .arg("--listen")
        .arg(&addr)
        .args(files)
        .args(args)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start lanwatch replay --listen");
    let mut guard = ChildGuard(Some(child));
    let want = ours_doc["health"]["packets"].clone();
    wait_for("the replay to finish behind --listen", 60, || {
        let (status, body) = http_get(&addr, "/api/v1/health").ok()?;
        let health: Value = serde_json::from_str(&body).ok()?;
        (status == 200 && health["packets"] == want).then_some(())
    });
    let mut lists = BTreeMap::new();
    for key in keys {
        let (status, body) =
            http_get(&addr, &format!("/api/v1/clients/{}", url_encode(key))).expect("GET client");
        assert_eq!(status, 200, "/api/v1/clients/{key}: {body}");
        let client: Value = serde_json::from_str(&body).expect("client JSON");
        lists.insert(key.clone(), domain_connections(&client["domains"]));
    }
    let _ = guard.terminate(10);
    lists
}

/// Replays `files` with lanwatch and with the model and asserts they agree.
pub fn assert_same_accounting(files: &[PathBuf], args: &[&str]) {
    let ours_doc = lanwatch_json(files, args);
    let theirs_doc = expected_json(files, args);
    assert_accounting_matches_with(files, args, &ours_doc, &theirs_doc);
}

/// Compares two documents already at hand (files replayed without options).
pub fn assert_accounting_matches(files: &[PathBuf], ours_doc: &Value, theirs_doc: &Value) {
    assert_accounting_matches_with(files, &[], ours_doc, theirs_doc);
}

/// Compares two documents already at hand, the replay having used `args`.
///
/// Per client: addresses; bytes, packets and connections per protocol; LAN
/// traffic; active connections; DNS queries by type, responses by rcode,
/// mDNS queries, queries to resolvers outside the LAN, distinct names; and
/// every TLS server name the model saw must be one of lanwatch's domains for
/// that client with a connection (looked up in the client's full list from
/// the API when the replay JSON's top 10 do not hold it). Then the frame
/// outcomes.
pub fn assert_accounting_matches_with(
    files: &[PathBuf],
    args: &[&str],
    ours_doc: &Value,
    theirs_doc: &Value,
) {
    let (ours_map, theirs_map) = (ours(ours_doc), theirs(theirs_doc));
    assert_figures_match(files, args, ours_doc, theirs_doc, &ours_map, &theirs_map);
}

/// [`assert_accounting_matches_with`] on figures already extracted (and
/// possibly adjusted by the caller, who must say why).
pub fn assert_figures_match(
    files: &[PathBuf],
    args: &[&str],
    ours_doc: &Value,
    theirs_doc: &Value,
    ours_map: &BTreeMap<String, ClientFigures>,
    theirs_map: &BTreeMap<String, ClientFigures>,
) {
    let mut diffs = differences(ours_map, theirs_map);
    let unlisted = unlisted_server_names(ours_map, theirs_map);
    if !unlisted.is_empty() {
        let mut keys: Vec<String> = unlisted.iter().map(|(k, _)| k.clone()).collect();
        keys.dedup();
        let full = full_domain_lists(files, args, ours_doc, &keys);
        for (key, name) in unlisted {
            match full.get(&key).and_then(|l| l.get(&name)) {
                Some(n) if *n > 0 => {}
                Some(_) => diffs.push(format!(
                    "{key} TLS server name {name}: a domain of lanwatch's, but no connection"
                )),
                None => diffs.push(format!(
                    "{key} TLS server name {name}: not among lanwatch's domains (full list)"
                )),
            }
        }
    }
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

/// `lanwatch replay --format json` of one capture, as the binary prints it
/// (warnings only on stderr, shown if it fails).
pub fn replay_json(path: &Path) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["--log-level", "warn", "replay", "--format", "json"])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Records in a pcap file, counted by the pcap-file crate.
pub fn pcap_records(path: &Path) -> u64 {
    let file = std::fs::File::open(path).unwrap();
    let mut reader = pcap_file::pcap::PcapReader::new(file).unwrap();
    let mut n = 0;
    while let Some(packet) = reader.next_packet() {
        packet.unwrap();
        n += 1;
    }
    n
}

/// Frames the daemon has taken in, by /api/v1/health.
pub fn frames(health: &Value) -> u64 {
    let p = &health["packets"];
    ["accounted", "lan", "no_client", "not_ip", "malformed"]
        .iter()
        .map(|k| p[*k].as_u64().unwrap_or(0))
        .sum()
}

/// A network namespace with a veth pair, deleted on drop.
pub struct Netns(pub String);

impl Netns {
    /// `lw-TAG-PID`, with `vin` ↔ `vcap` up (MTU 9000) and IPv6 off, so
    /// the namespace itself sends nothing the capture would see.
    pub fn new(tag: &str) -> Netns {
        Netns::create(format!("lw-{tag}-{}", std::process::id()), Some(9000))
    }

    /// `name` (each test file its own prefix), with `vin` ↔ `vcap` up at
    /// the default MTU and IPv6 off.
    pub fn named(name: String) -> Netns {
        Netns::create(name, None)
    }

    fn create(name: String, mtu: Option<u16>) -> Netns {
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        let ok = Command::new("ip")
            .args(["netns", "add", &name])
            .status()
            .map(|s| s.success());
        assert_eq!(ok.ok(), Some(true), "ip netns add {name}");
        let ns = Netns(name);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.exec(&[
            "ip", "link", "add", "vin", "type", "veth", "peer", "name", "vcap",
        ]);
        // The sample holds a few offloaded segments larger than 1500 bytes.
        if let Some(mtu) = mtu {
            let mtu = mtu.to_string();
            for link in ["vin", "vcap"] {
                ns.exec(&["ip", "link", "set", link, "mtu", &mtu]);
            }
        }
        for link in ["vin", "vcap", "lo"] {
            ns.exec(&["ip", "link", "set", link, "up"]);
        }
        ns
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0]).args(args);
        cmd
    }

    /// `lanwatch capture -i vcap --listen LISTEN ARGS…` in the namespace.
    pub fn capture(&self, listen: &str, args: &[&str]) -> Command {
        let mut cmd = self.command(&[
            env!("CARGO_BIN_EXE_lanwatch"),
            "capture",
            "-i",
            "vcap",
            "--listen",
            listen,
        ]);
        cmd.args(args);
        cmd
    }

    pub fn exec(&self, args: &[&str]) {
        let status = self.command(args).status().expect("ip netns exec");
        assert!(status.success(), "ip netns exec {} {args:?} failed", self.0);
    }

    pub fn curl(&self, url: &str) -> Option<String> {
        let out = self
            .command(&["curl", "-sf", "--max-time", "5", url])
            .output()
            .ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

/// A snapshot client known by `mac` (None on a link without MACs) and `ip`,
/// nothing else: a test sets the fields it checks and leaves the rest at
/// their defaults.
pub fn snapshot_client(
    mac: Option<lanwatch::decode::Mac>,
    ip: &str,
) -> lanwatch::track::ClientSnapshot {
    lanwatch::track::ClientSnapshot {
        mac,
        ip: Some(ip.parse().expect("the test's client address")),
        ..Default::default()
    }
}
