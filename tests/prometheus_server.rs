//! A real Prometheus server scrapes `lanwatch replay --listen` and its
//! PromQL answers equal the independent model's per-client totals.

mod common;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use common::*;

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

    let dir = std::env::temp_dir().join(format!("lanwatch-prom-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("prometheus.yml");
    std::fs::write(
        &config,
        format!(
            "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\nscrape_configs:\n  - job_name: lanwatch\n    static_configs:\n      - targets: ['{lanwatch_addr}']\n"
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

    let _ = prometheus.terminate(10);
    let status = lanwatch.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success(), "lanwatch exit status {status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
