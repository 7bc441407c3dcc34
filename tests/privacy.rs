//! Privacy controls: an excluded device never appears (its frames counted
//! only as `excluded`), `--no-dns-names` exports DNS counts but no names,
//! and `--domain-retention` forgets domains not seen for that long.

mod common;
mod hostile;

use std::path::PathBuf;
use std::process::Command;

use common::*;
use hostile::*;

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lanwatch-privacy-{}-{name}", std::process::id()))
}

/// tshark's count of the frames of `file` that match `filter`.
fn tshark_count(file: &PathBuf, filter: &str) -> u64 {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(file)
        .args(["-Y", filter, "-T", "fields", "-e", "frame.number"])
        .output()
        .expect("run tshark");
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).lines().count() as u64
}

#[test]
fn an_excluded_device_never_appears_and_the_others_are_unchanged() {
    require_tool("tshark", "tshark");
    let sample = repo_file("samples/home-lan.pcap");
    // The busiest client of the sample, by the independent model.
    let model = expected_json(std::slice::from_ref(&sample), &[]);
    let excluded = theirs(&model)
        .into_iter()
        .max_by_key(|(_, c)| c.protocols.values().map(|p| p[0] + p[1]).sum::<u64>())
        .map(|(mac, _)| mac)
        .unwrap();

    let doc = lanwatch_json(std::slice::from_ref(&sample), &["--exclude-mac", &excluded]);
    assert!(
        !ours(&doc).contains_key(&excluded),
        "{excluded} is not in the clients"
    );
    let text = serde_json::to_string(&doc).unwrap();
    assert!(!text.contains(&excluded), "{excluded} appears nowhere");

    // Everyone else: as the model says for the capture without that
    // device's frames (tshark removes them).
    let without = temp_file("without.pcap");
    let status = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(&sample)
        .args(["-Y", &format!("not eth.addr == {excluded}"), "-w"])
        .arg(&without)
        .args(["-F", "pcap"])
        .status()
        .unwrap();
    assert!(status.success());
    let expected = expected_json(std::slice::from_ref(&without), &[]);
    assert_accounting_matches(std::slice::from_ref(&sample), &doc, &expected);

    // Its IP frames are counted, as excluded and nothing else.
    let its_ip_frames = tshark_count(&sample, &format!("eth.addr == {excluded} and (ip or ipv6)"));
    assert!(its_ip_frames > 0);
    assert_eq!(
        doc["health"]["packets"]["excluded"].as_u64(),
        Some(its_ip_frames)
    );
    std::fs::remove_file(&without).unwrap();
}

fn replay_output(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("replay")
        .arg(repo_file("samples/home-lan.pcap"))
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn no_dns_names_exports_counts_but_no_domain() {
    let with: serde_json::Value =
        serde_json::from_str(&replay_output(&["--format", "json"])).unwrap();
    let without: serde_json::Value =
        serde_json::from_str(&replay_output(&["--format", "json", "--no-dns-names"])).unwrap();
    let names: Vec<String> = with["clients"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["domains"].as_array().unwrap().iter())
        .map(|d| d["domain"].as_str().unwrap().to_string())
        .collect();
    assert!(!names.is_empty(), "the sample has domains");
    let text = serde_json::to_string(&without).unwrap();
    for name in &names {
        assert!(!text.contains(name.as_str()), "{name} in the JSON");
    }
    // DNS counts are still there, unchanged.
    let queries = |doc: &serde_json::Value| {
        ours(doc)
            .into_iter()
            .map(|(k, c)| (k, c.dns_queries))
            .collect::<Vec<_>>()
    };
    assert_eq!(queries(&with), queries(&without));

    let metrics = replay_output(&["--format", "prometheus", "--no-dns-names"]);
    for name in &names {
        assert!(!metrics.contains(name.as_str()), "{name} in /metrics");
    }
    assert!(metrics.contains("client_dns_queries_total{"));
}

#[test]
fn domains_idle_longer_than_the_retention_are_forgotten() {
    let client: MacAddr = [0x02, 0, 0, 0, 0, 0x21];
    let router: MacAddr = [0x02, 0, 0, 0, 0, 0xfe];
    let t0 = 1_767_225_600_000_000u64;
    let hour = 3_600_000_000u64;
    let mut pcap = Pcap::new();
    let old = dns_query(1, "old.example.org");
    let new = dns_query(2, "new.example.org");
    let ip = [192, 168, 1, 21];
    pcap.push(
        t0,
        &udp4(client, router, ip, [192, 168, 1, 1], 40001, 53, &old),
    );
    pcap.push(
        t0 + 3 * hour,
        &udp4(client, router, ip, [192, 168, 1, 1], 40002, 53, &new),
    );
    let path = temp_file("retention.pcap");
    pcap.write(&path);

    let domains = |args: &[&str]| -> (Vec<String>, u64) {
        let mut all = vec!["--router-mac", "02:00:00:00:00:fe"];
        all.extend_from_slice(args);
        let doc = lanwatch_json(std::slice::from_ref(&path), &all);
        let c = &doc["clients"][0];
        let names = c["domains"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["domain"].as_str().unwrap().to_string())
            .collect();
        (names, c["dns"]["queries_total"].as_u64().unwrap())
    };
    let (kept, queries) = domains(&[]);
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert_eq!(queries, 2);
    let (names, queries) = domains(&["--domain-retention", "1"]);
    assert_eq!(names, ["new.example.org"]);
    assert_eq!(queries, 2, "query counts are not per-domain data");
    let (names, _) = domains(&["--domain-retention", "4"]);
    assert_eq!(names.len(), 2);
    std::fs::remove_file(&path).unwrap();
}
