//! The JSON API's contract: `docs/api.schema.json` holds for what the real
//! daemon serves, and `docs/api.md` documents every field the schema has.
//!
//! Each capture test starts `lanwatch replay FILE --format json --listen`,
//! takes the document the replay prints (the state is final once it is
//! printed, and the server keeps serving it), then fetches every `/api/v1`
//! endpoint over a plain `TcpStream`: the client list, the health document,
//! every client by its key (and one by its IP address), and the two JSON
//! errors (404 unknown client, 400 bad key). Everything is validated at
//! once by Debian's python3-jsonschema (an implementation of JSON Schema
//! that is not ours), against the definition of its endpoint and against
//! the top-level schema, with IP address formats checked.
//!
//! The schema is strict (`additionalProperties: false`, every field the API
//! always sends required), so a field added, renamed or dropped without the
//! schema and docs moving too makes these tests fail; one test proves it
//! does, with real documents broken on purpose.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

use lanwatch::export::json;
use lanwatch::track::snapshot::FlowOffload;
use lanwatch::track::{Health, Snapshot};
use serde_json::{json, Value};

/// Debian's interpreter: a `python3` earlier on PATH may lack Debian's modules.
const PYTHON: &str = "/usr/bin/python3";

/// How long the replay of one capture may take to print its document.
const REPLAY_PATIENCE: Duration = Duration::from_secs(120);

/// Validates `{"schema": PATH, "docs": [{"label", "def", "text"}]}` from
/// stdin: each text against `$defs/<def>` and against the top-level schema,
/// formats (ipv4, ipv6) asserted. Prints `[[label, [error, ...]], ...]`.
const VALIDATOR: &str = r##"
import json, sys
try:
    import jsonschema
except ImportError as e:
    print("MISSING-JSONSCHEMA: %s" % e, file=sys.stderr)
    sys.exit(3)
V = getattr(jsonschema, "Draft202012Validator", None)
if V is None:
    print("MISSING-JSONSCHEMA: this jsonschema has no Draft 2020-12 support", file=sys.stderr)
    sys.exit(3)
checker = getattr(V, "FORMAT_CHECKER", None) or jsonschema.FormatChecker()
for fmt in ("ipv4", "ipv6"):
    if fmt not in checker.checkers:
        print("MISSING-JSONSCHEMA: format %s is not checked" % fmt, file=sys.stderr)
        sys.exit(3)
job = json.load(sys.stdin)
with open(job["schema"], encoding="utf-8") as f:
    schema = json.load(f)
V.check_schema(schema)

def validator_for(name):
    if name is None:
        return V(schema, format_checker=checker)
    if name not in schema.get("$defs", {}):
        return None
    sub = {k: v for k, v in schema.items() if k != "oneOf"}
    sub["$ref"] = "#/$defs/" + name
    return V(sub, format_checker=checker)

top = validator_for(None)
out = []
for doc in job["docs"]:
    errors = []
    try:
        value = json.loads(doc["text"])
    except ValueError as e:
        out.append([doc["label"], ["not JSON: %s" % e]])
        continue
    v = validator_for(doc["def"])
    if v is None:
        errors.append("the schema has no $defs/%s" % doc["def"])
    else:
        for e in sorted(v.iter_errors(value), key=lambda e: list(e.absolute_path)):
            where = "/".join(str(p) for p in e.absolute_path) or "(document)"
            errors.append("$defs/%s at %s: %s" % (doc["def"], where, e.message[:300]))
    if doc.get("top", True):
        for e in top.iter_errors(value):
            errors.append("top-level schema: %s" % e.message[:300])
    out.append([doc["label"], errors])
print(json.dumps(out))
"##;

fn repo_path(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

fn schema_path() -> PathBuf {
    repo_path("docs/api.schema.json")
}

/// One document to check against one definition of the schema.
struct Doc {
    label: String,
    def: &'static str,
    text: String,
    /// Also against the top-level schema (only whole documents match it).
    top: bool,
}

impl Doc {
    fn new(label: impl Into<String>, def: &'static str, text: impl Into<String>) -> Doc {
        Doc {
            label: label.into(),
            def,
            text: text.into(),
            top: true,
        }
    }
}

/// The schema errors of each document (label, errors), in order.
fn schema_errors(docs: &[Doc]) -> Vec<(String, Vec<String>)> {
    assert!(
        Path::new(PYTHON).exists(),
        "{PYTHON} is missing: install Debian's python3 and python3-jsonschema \
         (apt-get install python3-jsonschema)"
    );
    let job = json!({
        "schema": schema_path(),
        "docs": docs
            .iter()
            .map(|d| json!({"label": d.label, "def": d.def, "text": d.text, "top": d.top}))
            .collect::<Vec<Value>>(),
    });
    let mut child = Command::new(PYTHON)
        .args(["-c", VALIDATOR])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {PYTHON}: {e}"));
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = job.to_string();
    let writer = thread::spawn(move || stdin.write_all(input.as_bytes()));
    let output = child
        .wait_with_output()
        .unwrap_or_else(|e| panic!("{PYTHON} did not finish: {e}"));
    writer
        .join()
        .expect("writer thread")
        .expect("writing the documents to the validator");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        !stderr.contains("MISSING-JSONSCHEMA"),
        "JSON Schema validation needs Debian's python3-jsonschema (Draft 2020-12 \
         support, version 4 or later): apt-get install python3-jsonschema\n{stderr}"
    );
    assert!(
        output.status.success(),
        "the validator failed ({}):\n{stderr}",
        output.status
    );
    let result: Vec<(String, Vec<String>)> = serde_json::from_slice(&output.stdout)
        .unwrap_or_else(|e| panic!("validator printed no result ({e}):\n{stderr}"));
    assert_eq!(result.len(), docs.len(), "one result per document");
    result
}

/// Panics, listing every error, unless every document matches.
fn assert_valid(docs: &[Doc]) {
    let failures: Vec<String> = schema_errors(docs)
        .into_iter()
        .filter(|(_, errors)| !errors.is_empty())
        .map(|(label, errors)| format!("{label}:\n  {}", errors.join("\n  ")))
        .collect();
    assert!(
        failures.is_empty(),
        "{} of {} documents do not match docs/api.schema.json:\n{}",
        failures.len(),
        docs.len(),
        failures.join("\n")
    );
}

/// A `lanwatch replay FILE --format json --listen 127.0.0.1:PORT` that has
/// finished its replay and is serving the final state. Killed on drop.
struct Daemon {
    child: Child,
    addr: String,
    /// What the replay printed on stdout.
    printed: String,
    stderr: mpsc::Receiver<String>,
}

impl Daemon {
    fn start(capture: &Path, port: u16) -> Daemon {
        let addr = format!("127.0.0.1:{port}");
        let mut child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .arg("replay")
            .arg(capture)
            .args(["--format", "json", "--listen", &addr])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot start lanwatch: {e}"));
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut stderr = child.stderr.take().expect("stderr is piped");
        let (err_tx, err_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            let _ = stderr.read_to_string(&mut text);
            let _ = err_tx.send(text);
        });
        // The pretty-printed document ends with a `}` alone on its line;
        // the process goes on serving, so stdout stays open.
        let (doc_tx, doc_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut text = String::new();
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                text.push_str(&line);
                text.push('\n');
                if line == "}" {
                    let _ = doc_tx.send(Ok(text));
                    return;
                }
            }
            let _ = doc_tx.send(Err(text));
        });
        let mut daemon = Daemon {
            child,
            addr,
            printed: String::new(),
            stderr: err_rx,
        };
        match doc_rx.recv_timeout(REPLAY_PATIENCE) {
            Ok(Ok(text)) => daemon.printed = text,
            Ok(Err(partial)) => daemon.fail(&format!(
                "lanwatch replay {} ended before printing its document; it printed:\n{partial}",
                capture.display()
            )),
            Err(_) => daemon.fail(&format!(
                "lanwatch replay {} printed no document within {REPLAY_PATIENCE:?}",
                capture.display()
            )),
        }
        daemon
    }

    /// Stops the daemon and panics with `what` and its log.
    fn fail(&mut self, what: &str) -> ! {
        let _ = self.child.kill();
        let status = self.child.wait();
        let log = self
            .stderr
            .recv_timeout(Duration::from_secs(5))
            .unwrap_or_default();
        panic!("{what}\nexit: {status:?}\nlog:\n{log}");
    }

    fn get(&self, path: &str) -> Response {
        http_get(&self.addr, path).unwrap_or_else(|e| panic!("GET {path} on {}: {e}", self.addr))
    }
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Response {
    status: u16,
    content_type: String,
    body: String,
}

/// A plain HTTP/1.1 GET, read to the end (`Connection: close`).
fn http_get(addr: &str, path: &str) -> std::io::Result<Response> {
    let mut stream = TcpStream::connect(addr)?;
    stream.set_read_timeout(Some(Duration::from_secs(30)))?;
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\r\n"
    )?;
    let mut raw = Vec::new();
    stream.read_to_end(&mut raw)?;
    let text = String::from_utf8(raw)
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))?;
    let bad = |what: &str| std::io::Error::new(std::io::ErrorKind::InvalidData, what.to_string());
    let (head, body) = text
        .split_once("\r\n\r\n")
        .ok_or_else(|| bad("no end of headers"))?;
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("no status line"))?;
    let content_type = lines
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.eq_ignore_ascii_case("content-type"))
        .map(|(_, value)| value.trim().to_string())
        .unwrap_or_default();
    Ok(Response {
        status,
        content_type,
        body: body.to_string(),
    })
}

fn parsed(label: &str, text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("{label} is not JSON ({e}):\n{text}"))
}

/// How `/api/v1/clients/{key}` names a client: its MAC, else its address.
fn client_key(client: &Value) -> String {
    client["mac"]
        .as_str()
        .or_else(|| client["ip"].as_str())
        .unwrap_or_else(|| panic!("a client with neither MAC nor IP: {client}"))
        .to_string()
}

/// A MAC set aside for documentation (RFC 7042), so no capture's client.
const UNKNOWN_MAC: &str = "00:00:5e:00:53:ff";

/// Replays `capture`, fetches every endpoint and validates every document.
/// Also checks what docs/api.md promises about how the documents relate.
fn check_capture(rel: &str, port: u16, min_clients: usize) {
    let capture = repo_path(rel);
    let mut daemon = Daemon::start(&capture, port);
    let mut docs = vec![Doc::new(
        format!("{rel}: replay --format json"),
        "snapshot_document",
        daemon.printed.clone(),
    )];

    let list = daemon.get("/api/v1/clients");
    let health = daemon.get("/api/v1/health");
    for (path, response) in [("/api/v1/clients", &list), ("/api/v1/health", &health)] {
        if response.status != 200 || response.content_type != "application/json" {
            daemon.fail(&format!(
                "GET {path}: {} {} (want 200 application/json)",
                response.status, response.content_type
            ));
        }
    }
    docs.push(Doc::new(
        format!("{rel}: GET /api/v1/clients"),
        "clients_document",
        list.body.clone(),
    ));
    docs.push(Doc::new(
        format!("{rel}: GET /api/v1/health"),
        "health_document",
        health.body.clone(),
    ));

    let printed = parsed("replay output", &daemon.printed);
    let listed = parsed("GET /api/v1/clients", &list.body);
    let clients = listed["clients"].as_array().cloned().unwrap_or_default();
    assert!(
        clients.len() >= min_clients,
        "{rel}: {} clients, expected at least {min_clients}",
        clients.len()
    );
    // docs/api.md: replay prints the clients document plus the health one.
    assert_eq!(
        printed["clients"], listed["clients"],
        "{rel}: replay --format json and /api/v1/clients list different clients"
    );

    for client in &clients {
        let key = client_key(client);
        let one = daemon.get(&format!("/api/v1/clients/{key}"));
        if one.status != 200 || one.content_type != "application/json" {
            daemon.fail(&format!(
                "GET /api/v1/clients/{key}: {} {}",
                one.status, one.content_type
            ));
        }
        // docs/api.md: the client as listed, with every domain.
        let mut full = parsed(&format!("client {key}"), &one.body);
        let domains = full["domains"].as_array().cloned().unwrap_or_default();
        let listed_domains = client["domains"].as_array().cloned().unwrap_or_default();
        assert_eq!(
            &domains[..listed_domains.len().min(domains.len())],
            &listed_domains[..],
            "{rel}: client {key}: the list's domains are not the first of its own"
        );
        assert_eq!(
            listed_domains.len(),
            domains.len().min(json::DOMAINS_IN_LIST),
            "{rel}: client {key}: the list carries the top {} domains",
            json::DOMAINS_IN_LIST
        );
        full["domains"] = client["domains"].clone();
        assert_eq!(
            &full, client,
            "{rel}: client {key} differs from its entry in the list"
        );
        docs.push(Doc::new(
            format!("{rel}: GET /api/v1/clients/{key}"),
            "client_document",
            one.body,
        ));
    }
    // One client by its address, as clients without a MAC are looked up.
    if let Some(ip) = clients.iter().find_map(|c| c["ip"].as_str()) {
        let by_ip = daemon.get(&format!("/api/v1/clients/{ip}"));
        assert_eq!(by_ip.status, 200, "{rel}: GET /api/v1/clients/{ip}");
        docs.push(Doc::new(
            format!("{rel}: GET /api/v1/clients/{ip}"),
            "client_document",
            by_ip.body,
        ));
    }

    assert!(
        !clients.iter().any(|c| c["mac"] == UNKNOWN_MAC),
        "{rel} has a client {UNKNOWN_MAC}: pick another unknown MAC"
    );
    for (key, status) in [(UNKNOWN_MAC, 404), ("not-a-client-key", 400)] {
        let error = daemon.get(&format!("/api/v1/clients/{key}"));
        if error.status != status || error.content_type != "application/json" {
            daemon.fail(&format!(
                "GET /api/v1/clients/{key}: {} {} (want {status} application/json)",
                error.status, error.content_type
            ));
        }
        docs.push(Doc::new(
            format!("{rel}: GET /api/v1/clients/{key} ({status})"),
            "error_document",
            error.body,
        ));
    }
    drop(daemon);
    assert_valid(&docs);
}

#[test]
fn the_schema_is_a_valid_draft_2020_12_schema() {
    let schema: Value = parsed(
        "docs/api.schema.json",
        &std::fs::read_to_string(schema_path()).expect("docs/api.schema.json"),
    );
    assert_eq!(
        schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
        "the schema declares draft 2020-12"
    );
    // check_schema runs inside the validator; an empty batch runs only it.
    assert!(schema_errors(&[]).is_empty());
}

#[test]
fn sample_home_lan_serves_documents_that_match_the_schema() {
    check_capture("samples/home-lan.pcap", 19751, 6);
}

#[test]
fn ndpi_1kxun_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/ndpi/1kxun.pcap", 19752, 10);
}

#[test]
fn ndpi_iphone_serves_documents_that_match_the_schema() {
    // More domains than the list carries: the client document has them all.
    check_capture("tests/captures/ndpi/iphone.pcap", 19753, 1);
}

#[test]
fn ndpi_telegram_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/ndpi/telegram.pcap", 19754, 1);
}

#[test]
fn arkime_v6_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/arkime/v6.pcap", 19755, 1);
}

#[test]
fn zeek_dns_edns_ecs_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/zeek/dns-edns-ecs.pcap", 19756, 1);
}

#[test]
fn clients_without_a_mac_serve_documents_that_match_the_schema() {
    // A link type without MACs: clients are named by their address.
    check_capture(
        "tests/captures/suricata-verify/dns-udp-eve-log-srv.pcap",
        19757,
        1,
    );
}

#[test]
fn hostile_dhcp_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/ndpi/dhcp-fuzz.pcapng", 19758, 1);
}

#[test]
fn fuzzed_traffic_serves_documents_that_match_the_schema() {
    check_capture("tests/captures/ndpi/fuzz-2006-06-26-2594.pcap", 19759, 10);
}

#[test]
fn mdns_names_serve_documents_that_match_the_schema() {
    check_capture("tests/captures/zeek/mdns.pcap", 19760, 1);
}

#[test]
fn live_only_health_fields_match_the_schema() {
    // Flow offload is only detected in live capture; render it through the
    // daemon's own renderer, every combination.
    let mut docs = Vec::new();
    for bits in 0..8u8 {
        let snapshot = Snapshot {
            clients: Vec::new(),
            health: Health {
                flow_offload: Some(FlowOffload {
                    software: bits & 1 != 0,
                    hardware: bits & 2 != 0,
                    incomplete: bits & 4 != 0,
                }),
                ..Health::default()
            },
            export: Default::default(),
        };
        let text = json::health(&snapshot);
        assert!(text.contains("\"flow_offload\""), "{text}");
        docs.push(Doc::new(
            format!("health with flow offload {bits:03b}"),
            "health_document",
            text,
        ));
    }
    assert_valid(&docs);
}

/// Real documents from the sample (replay output).
fn sample_documents() -> (Value, Value) {
    let output = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("replay")
        .arg(repo_path("samples/home-lan.pcap"))
        .args(["--format", "json"])
        .output()
        .expect("run lanwatch replay");
    assert!(output.status.success(), "lanwatch replay failed");
    let doc = parsed("replay output", &String::from_utf8_lossy(&output.stdout));
    let client = doc["clients"][0].clone();
    assert!(client.is_object(), "the sample has clients");
    (doc, client)
}

#[test]
fn documents_that_break_the_contract_are_rejected() {
    let (snapshot, client) = sample_documents();
    let health = snapshot["health"].clone();
    let clients_doc = json!({"clients": snapshot["clients"]});

    let mut cases: Vec<(&str, &'static str, Value)> = Vec::new();
    let mut client_case = |name, change: &dyn Fn(&mut Value)| {
        let mut c = client.clone();
        change(&mut c);
        cases.push((name, "client_document", c));
    };
    client_case("a renamed traffic field", &|c| {
        let bytes = c["bandwidth"]["rx_bytes"].take();
        let traffic = c["bandwidth"].as_object_mut().expect("bandwidth");
        traffic.remove("rx_bytes");
        traffic.insert("rx_octets".into(), bytes);
    });
    client_case("a renamed client field", &|c| {
        let object = c.as_object_mut().expect("client");
        let dns = object.remove("dns").expect("dns");
        object.insert("dns_stats".into(), dns);
    });
    client_case("an undocumented field", &|c| c["rssi"] = json!(-60));
    client_case("a missing field", &|c| {
        c.as_object_mut().expect("client").remove("lan");
    });
    client_case("an upper-case MAC", &|c| {
        c["mac"] = json!("3C:A9:F4:18:62:A5")
    });
    client_case("no MAC and no IP", &|c| {
        c["mac"] = Value::Null;
        c["ip"] = Value::Null;
    });
    client_case("an IPv4 address out of range", &|c| {
        c["ipv4"] = json!(["192.168.1.300"])
    });
    client_case("an IPv6 address that is not one", &|c| {
        c["ipv6"] = json!(["fd00::1::2"])
    });
    client_case("a negative counter", &|c| c["lan"]["tx_bytes"] = json!(-1));
    client_case("a fractional counter", &|c| {
        c["connections"]["total"] = json!(1.5)
    });
    client_case("a counter as a string", &|c| {
        c["dns"]["queries_total"] = json!("18")
    });
    client_case("an unknown hostname source", &|c| {
        c["hostname_source"] = json!("netbios")
    });
    client_case("a hostname with a control character", &|c| {
        c["hostname"] = json!("work\u{7}laptop")
    });
    client_case("a query type in lower case", &|c| {
        c["dns"]["queries"]["aaaa"] = json!(1)
    });
    client_case("a domain in upper case", &|c| {
        c["domains"][0]["domain"] = json!("Teams.Microsoft.COM")
    });
    client_case("a protocol entry with a renamed field", &|c| {
        let entry = c["protocols"][0].as_object_mut().expect("protocol");
        let name = entry.remove("protocol").expect("protocol name");
        entry.insert("name".into(), name);
    });

    let mut long_list = clients_doc.clone();
    let domain = client["domains"][0].clone();
    long_list["clients"][0]["domains"] = json!(vec![domain; json::DOMAINS_IN_LIST + 1]);
    cases.push((
        "a listed client with more domains than the list carries",
        "clients_document",
        long_list,
    ));

    let mut h = health.clone();
    let excluded = h["packets"]["excluded"].take();
    let packets = h["packets"].as_object_mut().expect("packets");
    packets.remove("excluded");
    packets.insert("excluded_mac".into(), excluded);
    cases.push(("a renamed health field", "health_document", h));
    let mut h = health.clone();
    h["flow_offload"] = json!({"software": true, "hardware": false});
    cases.push(("an incomplete flow_offload", "health_document", h));
    let mut s = snapshot.clone();
    s.as_object_mut().expect("snapshot").remove("health");
    cases.push(("a replay document without health", "snapshot_document", s));
    cases.push((
        "an error document with a code",
        "error_document",
        json!({"error": "no client", "code": 404}),
    ));

    // The originals (and a client document with every domain) are valid:
    // each rejection is the change's doing.
    let mut long_client = client.clone();
    long_client["domains"] = json!(vec![
        client["domains"][0].clone();
        json::DOMAINS_IN_LIST + 1
    ]);
    let mut docs = vec![
        Doc::new("original client", "client_document", client.to_string()),
        Doc::new(
            "original clients document",
            "clients_document",
            clients_doc.to_string(),
        ),
        Doc::new("original health", "health_document", health.to_string()),
        Doc::new(
            "original replay document",
            "snapshot_document",
            snapshot.to_string(),
        ),
        Doc::new(
            "a client document with more domains than the list carries",
            "client_document",
            long_client.to_string(),
        ),
        Doc::new(
            "an error document",
            "error_document",
            json::error("no client 00:00:5e:00:53:ff"),
        ),
    ];
    let originals = docs.len();
    // A listed client alone is no whole document: its definition only.
    let mut listed = Doc::new(
        "a listed client",
        "listed_client",
        snapshot["clients"][0].to_string(),
    );
    listed.top = false;
    docs.push(listed);
    let originals = originals + 1;
    for (name, def, value) in &cases {
        docs.push(Doc::new(*name, def, value.to_string()));
    }

    let results = schema_errors(&docs);
    for (label, errors) in &results[..originals] {
        assert!(errors.is_empty(), "{label} is rejected: {errors:?}");
    }
    let accepted: Vec<&str> = results[originals..]
        .iter()
        .filter(|(_, errors)| !errors.iter().any(|e| e.starts_with("$defs/")))
        .map(|(label, _)| label.as_str())
        .collect();
    assert!(
        accepted.is_empty(),
        "their endpoint's definition accepts documents that break the contract: {accepted:?}"
    );
}

/// Every name under a `properties` keyword, anywhere in the schema.
fn property_names(schema: &Value, names: &mut BTreeSet<String>) {
    match schema {
        Value::Object(map) => {
            for (key, value) in map {
                if key == "properties" {
                    if let Value::Object(properties) = value {
                        names.extend(properties.keys().cloned());
                    }
                }
                property_names(value, names);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| property_names(v, names)),
        _ => {}
    }
}

#[test]
fn every_field_in_the_schema_is_documented_in_api_md() {
    let schema = parsed(
        "docs/api.schema.json",
        &std::fs::read_to_string(schema_path()).expect("docs/api.schema.json"),
    );
    let docs = std::fs::read_to_string(repo_path("docs/api.md")).expect("docs/api.md");
    let mut names = BTreeSet::new();
    property_names(&schema, &mut names);
    assert!(
        names.len() > 40,
        "found only {} property names: {names:?}",
        names.len()
    );
    let missing: Vec<&String> = names
        .iter()
        .filter(|name| !docs.contains(&format!("`{name}`")))
        .collect();
    assert!(
        missing.is_empty(),
        "fields in docs/api.schema.json that docs/api.md does not name (as `field`): {missing:?}"
    );
    // And each endpoint document's definition is named in the docs.
    for def in [
        "clients_document",
        "client_document",
        "health_document",
        "snapshot_document",
        "error_document",
    ] {
        assert!(
            schema["$defs"][def].is_object(),
            "the schema has no $defs/{def}"
        );
        assert!(
            docs.contains(&format!("$defs/{def}")),
            "docs/api.md does not say which endpoint $defs/{def} is"
        );
    }
}
