//! `deploy/demo`: lanwatch replaying the sample in (accelerated) real time,
//! looping, with the repository's Prometheus config scraping it — rates
//! move, packet time runs past the capture's end, and stopping the script
//! stops both processes.

mod common;
mod monitoring_common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use common::*;
use monitoring_common::*;

/// The last frame of samples/home-lan.pcap: 2026-01-01 00:04:45.336 UTC.
const SAMPLE_END: f64 = 1_767_225_885.336;

fn refused(port: u16) -> bool {
    std::net::TcpStream::connect(("127.0.0.1", port)).is_err()
}

#[test]
fn the_demo_serves_live_rates_to_prometheus_and_stops_cleanly() {
    require_tool("prometheus", "prometheus");
    let scratch = Scratch::new("demo");
    let (lanwatch_port, prometheus_port) = (free_port(), free_port());
    let mut demo = ChildGuard(Some(
        Command::new(repo_file("deploy/demo"))
            .env("LANWATCH_PORT", lanwatch_port.to_string())
            .env("PROMETHEUS_PORT", prometheus_port.to_string())
            .env("LANWATCH_DEMO_SPEED", "30")
            .env("LANWATCH_BIN", env!("CARGO_BIN_EXE_lanwatch"))
            .env("LANWATCH_DEMO_DIR", &scratch.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("run deploy/demo"),
    ));
    let stdout = demo.0.as_mut().unwrap().stdout.take().unwrap();
    let mut lines = BufReader::new(stdout).lines();
    let banner: Vec<String> = lines
        .by_ref()
        .map_while(Result::ok)
        .take_while(|l| !l.starts_with("Ctrl-C"))
        .collect();
    let banner = banner.join("\n");
    assert!(banner.contains("lanwatch demo running"), "{banner}");
    assert!(
        banner.contains(&format!("http://127.0.0.1:{prometheus_port}/")),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("http://127.0.0.1:{lanwatch_port}/metrics")),
        "{banner}"
    );

    let prometheus_addr = format!("127.0.0.1:{prometheus_port}");
    let query = |q: &str| -> Option<f64> {
        let (status, body) = http_get(
            &prometheus_addr,
            &format!("/api/v1/query?query={}", url_encode(q)),
        )
        .ok()?;
        let doc: serde_json::Value = serde_json::from_str(&body).ok()?;
        if status != 200 {
            return None;
        }
        doc["data"]["result"][0]["value"][1].as_str()?.parse().ok()
    };
    wait_for("Prometheus to scrape the demo's lanwatch", 60, || {
        (query("up{job=\"lanwatch\"}")? == 1.0).then_some(())
    });
    // The replay is paced: traffic keeps arriving between scrapes.
    wait_for("bandwidth to grow between scrapes", 60, || {
        (query("sum(increase(client_bandwidth_bytes_total[15s]))")? > 0.0).then_some(())
    });
    // And it loops: packet time passes the end of the capture.
    wait_for("the replay to loop past the capture's end", 60, || {
        (query("max(lanwatch_last_packet_timestamp_seconds)")? > SAMPLE_END + 1.0).then_some(())
    });

    let status = demo.terminate(20).expect("the demo stops on SIGTERM");
    assert!(status.success(), "exit status {status:?}");
    assert!(refused(lanwatch_port), "lanwatch still listening");
    wait_for("Prometheus to stop", 20, || {
        refused(prometheus_port).then_some(())
    });
}
