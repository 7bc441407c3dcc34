//! End to end: a real Prometheus scrapes `lanwatch replay samples/home-lan.pcap
//! --listen`, and `lanwatch report` computed from Prometheus's HTTP API shows
//! per-client and per-protocol totals equal to the independent accounting
//! model's (tshark + Python). Plus the report's errors when Prometheus is
//! unreachable or has no data for the day.
#![cfg(feature = "report")]

mod common;
mod monitoring_common;

use std::collections::BTreeMap;

use common::*;
use lanwatch::report::time::Date;
use monitoring_common::*;

/// The TZ the report runs in: UTC, so "today" is easy to name.
const TZ: &str = "UTC0";

fn today_utc() -> Date {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    Date::from_days_since_epoch((now / 86_400) as i64)
}

#[test]
fn the_report_from_a_scraped_replay_matches_the_independent_model() {
    let sample = repo_file("samples/home-lan.pcap");
    let model_doc = expected_json(std::slice::from_ref(&sample), &[]);
    let model = theirs(&model_doc);

    let scratch = Scratch::new("report-live");
    let (mut lanwatch, target) = serve_replay(&sample, &[]);
    std::fs::write(scratch.path("prometheus.yml"), simple_config(&target)).unwrap();
    let prometheus = PromServer::start(&scratch.path("prometheus.yml"), &scratch.path("data"), &[]);
    wait_for_scrapes(&prometheus, 3);

    let date = today_utc().to_string();
    let (ok, json, err) = report(
        TZ,
        &[
            "--prometheus",
            &prometheus.url(),
            "--date",
            &date,
            "--format",
            "json",
        ],
    );
    assert!(ok, "lanwatch report failed: {err}");
    let doc: serde_json::Value = serde_json::from_str(&json).expect("the report as JSON");

    // Per client: download, upload, connections.
    let mut expected: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for (mac, client) in &model {
        let (rx, tx, conns) = client
            .protocols
            .values()
            .fold((0, 0, 0), |(rx, tx, c), p| (rx + p[0], tx + p[1], c + p[4]));
        if rx + tx > 0 {
            expected.insert(mac.clone(), [rx, tx, conns]);
        }
    }
    let mut reported: BTreeMap<String, [u64; 3]> = BTreeMap::new();
    for c in doc["clients"].as_array().expect("clients") {
        let figure = |k: &str| c[k].as_f64().unwrap_or(f64::NAN) as u64;
        if figure("download_bytes") + figure("upload_bytes") > 0 {
            reported.insert(
                c["key"].as_str().unwrap().to_string(),
                [
                    figure("download_bytes"),
                    figure("upload_bytes"),
                    figure("connections"),
                ],
            );
        }
    }
    assert!(expected.len() >= 6, "the sample has several clients");
    assert_eq!(
        reported, expected,
        "[download, upload, connections] per client: report vs model"
    );

    // Per protocol, over all clients.
    let mut expected_protocols: BTreeMap<String, [u64; 2]> = BTreeMap::new();
    for client in model.values() {
        for (name, p) in &client.protocols {
            let e = expected_protocols.entry(name.clone()).or_default();
            e[0] += p[0];
            e[1] += p[1];
        }
    }
    expected_protocols.retain(|_, v| v[0] + v[1] > 0);
    let reported_protocols: BTreeMap<String, [u64; 2]> = doc["protocols"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| {
            p["download_bytes"].as_f64().unwrap() + p["upload_bytes"].as_f64().unwrap() > 0.0
        })
        .map(|p| {
            (
                p["protocol"].as_str().unwrap().to_string(),
                [
                    p["download_bytes"].as_f64().unwrap() as u64,
                    p["upload_bytes"].as_f64().unwrap() as u64,
                ],
            )
        })
        .collect();
    assert_eq!(
        reported_protocols, expected_protocols,
        "per protocol: report vs model"
    );

    // The summary adds up, and on a fresh Prometheus every client is new.
    let total_rx: u64 = expected.values().map(|v| v[0]).sum();
    let total_tx: u64 = expected.values().map(|v| v[1]).sum();
    assert_eq!(
        doc["summary"]["download_bytes"].as_f64().unwrap() as u64,
        total_rx
    );
    assert_eq!(
        doc["summary"]["upload_bytes"].as_f64().unwrap() as u64,
        total_tx
    );
    assert_eq!(
        doc["summary"]["active_clients"].as_u64().unwrap(),
        expected.len() as u64
    );
    assert_eq!(
        doc["summary"]["new_clients"].as_u64().unwrap(),
        expected.len() as u64
    );

    // DNS: once lanwatch exports DNS queries, they must match the model too.
    if doc["dns"].is_object() {
        for c in doc["clients"].as_array().unwrap() {
            let key = c["key"].as_str().unwrap();
            let model_queries: u64 = model_doc["clients"][key]["dns_queries"]
                .as_object()
                .map(|m| m.values().filter_map(|v| v.as_u64()).sum())
                .unwrap_or(0);
            assert_eq!(
                c["dns_queries"].as_f64().unwrap() as u64,
                model_queries,
                "DNS queries of {key}"
            );
        }
    }

    // The Markdown, written where asked, under the day's name.
    let out_dir = scratch.path("reports");
    let (ok, _, err) = report(
        TZ,
        &[
            "--prometheus",
            &prometheus.url(),
            "--date",
            &date,
            "--out",
            out_dir.to_str().unwrap(),
        ],
    );
    assert!(ok, "lanwatch report --out failed: {err}");
    let path = out_dir.join(format!("client-activity-{date}.md"));
    let md = std::fs::read_to_string(&path).expect("the report file");
    assert!(
        err.contains(&path.display().to_string()),
        "says where: {err}"
    );
    for section in [
        "## Summary",
        "## Top downloaders",
        "## Top uploaders",
        "## Most connections",
        "## DNS",
        "## Protocols",
        "## Devices first seen",
        "## Devices gone quiet",
        "## Changes against the previous 7 days",
        "## All clients",
    ] {
        assert!(md.contains(section), "{section} missing:\n{md}");
    }
    let (top_mac, top) = expected.iter().max_by_key(|(_, v)| v[0]).unwrap();
    let top_ip = model[top_mac].ipv4.first().cloned().unwrap_or_default();
    let row = md
        .lines()
        .find(|l| l.starts_with("| 1 |"))
        .expect("a first row in the top downloaders");
    assert!(
        row.contains(&top_ip) && row.contains(&human_bytes(top[0])),
        "top downloader {top_mac} ({top_ip}, {}) in {row:?}",
        human_bytes(top[0])
    );
    assert!(
        md.contains(&format!(
            "| {} | {} |",
            human_bytes(total_rx),
            human_bytes(total_tx)
        )),
        "summary totals {} / {}:\n{md}",
        human_bytes(total_rx),
        human_bytes(total_tx)
    );

    // A day without lanwatch data is an error that says so.
    let (ok, _, err) = report(
        TZ,
        &["--prometheus", &prometheus.url(), "--date", "2020-01-01"],
    );
    assert!(!ok);
    assert!(err.contains("has no lanwatch data for 2020-01-01"), "{err}");

    // So is a Prometheus that is not there.
    drop(prometheus);
    let gone = format!("http://127.0.0.1:{}", free_port());
    let (ok, _, err) = report(TZ, &["--prometheus", &gone, "--date", &date]);
    assert!(!ok);
    assert!(err.contains("cannot reach Prometheus at"), "{err}");
    assert_eq!(err.lines().count(), 1, "one line: {err}");

    let _ = lanwatch.terminate(10);
}
