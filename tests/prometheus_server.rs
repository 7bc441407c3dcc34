//! A real Prometheus server scrapes `lanwatch replay --listen` and its
//! PromQL answers equal the independent model's per-client totals.
//!
//! The scrapes pass through a small TCP relay in the test, which records
//! what went over the wire: Prometheus asks for gzip, lanwatch answers
//! with a gzip body, and Prometheus still reads the right samples from it.

mod common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread;

use common::*;

/// The first request head and response head of every relayed connection,
/// as soon as each has gone through, lower-cased.
type Heads = Arc<Mutex<Vec<String>>>;

/// Relays connections from `listener` to `target`, recording heads (the
/// bytes before the first blank line in each direction). Runs until the
/// test process ends.
fn relay(listener: TcpListener, target: String) -> Heads {
    let heads: Heads = Arc::default();
    let record = heads.clone();
    thread::spawn(move || {
        for client in listener.incoming() {
            let Ok(client) = client else { continue };
            let Ok(server) = TcpStream::connect(&target) else {
                continue;
            };
            let (Ok(client_reader), Ok(server_reader)) = (client.try_clone(), server.try_clone())
            else {
                continue;
            };
            copy_recording_head(client_reader, server, record.clone());
            copy_recording_head(server_reader, client, record.clone());
        }
    });
    heads
}

/// Copies `from` to `to` on a thread of its own until `from` ends,
/// recording the head that went through.
fn copy_recording_head(mut from: TcpStream, mut to: TcpStream, record: Heads) {
    thread::spawn(move || {
        let mut seen = Vec::new();
        let mut recorded = false;
        let mut buf = [0u8; 16 * 1024];
        while let Ok(n) = from.read(&mut buf) {
            if n == 0 || to.write_all(&buf[..n]).is_err() {
                break;
            }
            if recorded {
                continue;
            }
            seen.extend_from_slice(&buf[..n]);
            if let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&seen[..end]).to_ascii_lowercase();
                record.lock().unwrap().push(head);
                recorded = true;
            }
        }
        let _ = to.shutdown(Shutdown::Write);
    });
}

#[test]
fn prometheus_scrapes_the_per_client_totals_of_a_replay() {
    require_tool("prometheus", "prometheus");
    let sample = repo_file("samples/home-lan.pcap");
    let lanwatch_port = free_port();
    let lanwatch_addr = format!("127.0.0.1:{lanwatch_port}");
    let mut lanwatch = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args([
                "replay",
                "--format",
                "prometheus",
                "--listen",
                &lanwatch_addr,
            ])
            .arg(&sample)
            .stdout(Stdio::null())
            .spawn()
            .expect("start lanwatch"),
    ));
    wait_for("lanwatch to serve", 30, || {
        http_get(&lanwatch_addr, "/metrics")
            .ok()
            .filter(|(s, _)| *s == 200)
    });

    let relay_listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let relay_addr = relay_listener.local_addr().unwrap().to_string();
    let heads = relay(relay_listener, lanwatch_addr.clone());

    let dir = std::env::temp_dir().join(format!("lanwatch-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: lanwatch\n    static_configs:\n      - targets: ['{relay_addr}']\n"
        ),
    )
    .unwrap();
    let prom_addr = format!("127.0.0.1:{}", free_port());
    let mut prometheus = ChildGuard(Some(
        Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address={prom_addr}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus"),
    ));

    let query = |q: &str| -> Option<serde_json::Value> {
        let (status, body) = http_get(
            &prom_addr,
            &format!("/api/v1/query?query={}", url_encode(q)),
        )
        .ok()?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        (status == 200 && doc["status"] == "success").then_some(doc)
    };
    wait_for("Prometheus to scrape lanwatch (up == 1)", 60, || {
        let doc = query("up{job=\"lanwatch\"}")?;
        (doc["data"]["result"][0]["value"][1] == "1").then_some(())
    });

    let doc = query("sum by (mac, direction) (client_bandwidth_bytes_total)").expect("query");
    let mut scraped: BTreeMap<(String, String), u64> = BTreeMap::new();
    for series in doc["data"]["result"].as_array().unwrap() {
        let mac = series["metric"]["mac"].as_str().unwrap_or("").to_string();
        let dir = series["metric"]["direction"]
            .as_str()
            .unwrap_or("")
            .to_string();
        let value: f64 = series["value"][1].as_str().unwrap().parse().unwrap();
        scraped.insert((mac, dir), value as u64);
    }

    let model = theirs(&expected_json(std::slice::from_ref(&sample), &[]));
    let mut expected: BTreeMap<(String, String), u64> = BTreeMap::new();
    for (mac, client) in &model {
        let (rx, tx) = client
            .protocols
            .values()
            .fold((0, 0), |(rx, tx), p| (rx + p[0], tx + p[1]));
        if rx + tx > 0 {
            expected.insert((mac.clone(), "rx".into()), rx);
            expected.insert((mac.clone(), "tx".into()), tx);
        }
    }
    assert!(
        expected.len() >= 6,
        "the sample has several clients: {expected:?}"
    );
    assert_eq!(scraped, expected, "PromQL per-client totals vs the model");

    // Those samples came gzip-compressed, because Prometheus asked for it.
    let heads = heads.lock().unwrap().clone();
    let requests: Vec<&String> = heads.iter().filter(|h| h.starts_with("get ")).collect();
    let responses: Vec<&String> = heads.iter().filter(|h| h.starts_with("http/")).collect();
    assert!(!requests.is_empty(), "the relay saw Prometheus' scrapes");
    for request in &requests {
        assert!(request.starts_with("get /metrics "), "{request}");
        let accepts_gzip = request.lines().any(|l| {
            l.strip_prefix("accept-encoding:")
                .is_some_and(|v| v.split(',').any(|c| c.trim().starts_with("gzip")))
        });
        assert!(accepts_gzip, "Prometheus asks for gzip:\n{request}");
    }
    assert!(!responses.is_empty(), "the relay saw lanwatch's answers");
    for response in &responses {
        assert!(response.starts_with("http/1.1 200"), "{response}");
        assert!(
            response.contains("\r\ncontent-encoding: gzip"),
            "lanwatch answers gzip:\n{response}"
        );
        assert!(response.contains("\r\nvary: accept-encoding"), "{response}");
    }

    // The standard process families arrive with their types intact: the
    // start time is this daemon's, a counter of CPU seconds rates.
    let value = |q: &str| -> f64 {
        let doc = query(q).unwrap_or_else(|| panic!("query {q}"));
        doc["data"]["result"][0]["value"][1]
            .as_str()
            .unwrap_or_else(|| panic!("no result for {q}: {doc}"))
            .parse()
            .unwrap()
    };
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs_f64();
    let start = value("process_start_time_seconds{job=\"lanwatch\"}");
    assert!(
        start <= now && start > now - 600.0,
        "start {start}, now {now}"
    );
    assert!(value("process_resident_memory_bytes{job=\"lanwatch\"}") > 1e6);
    assert!(value("process_open_fds{job=\"lanwatch\"}") >= 3.0);
    let metadata = http_get(
        &prom_addr,
        "/api/v1/metadata?metric=process_cpu_seconds_total",
    )
    .expect("metadata");
    assert!(
        metadata.1.contains("\"type\":\"counter\""),
        "{}",
        metadata.1
    );
    assert!(
        metadata
            .1
            .contains("Total user and system CPU time spent in seconds."),
        "{}",
        metadata.1
    );

    let _ = prometheus.terminate(10);
    let status = lanwatch.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success(), "lanwatch exit status {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
