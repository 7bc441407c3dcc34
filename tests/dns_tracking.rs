//! DNS per client against independent truth.
//!
//! - Resolver latency: tshark matches every response to its query itself
//!   (`dns.time`); the model (`scripts/expected_accounting.py`) sums those per
//!   receiving client. Count equal, sum within 1 µs per response.
//! - Resolver bypass over TLS: DNS over TLS is a TCP connection (a SYN from the
//!   client) to port 853; DNS over HTTPS a connection to port 443 of a
//!   well-known public resolver, by address or by the server name of its
//!   ClientHello. Both are read from tshark's fields here.
//! - The bytes and connections behind each name: the model names a flow after
//!   the last DNS answer the client got for the remote address (or the TLS
//!   server name), and counts the flow's bytes from there on.
//! - A random-subdomain flood: the flooding client's distinct names stay
//!   within the per-client bound and the excess shows as counted evictions,
//!   while the other clients' DNS figures stay exact.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::process::Command;

use common::{expected_json, lanwatch_json, real_capture, repo_file, require_tool, LISTED_DOMAINS};
use serde_json::Value;

/// The model's expected figures committed beside a generated capture.
fn committed_model(rel: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(repo_file(rel)).unwrap()).unwrap()
}

fn client_key(c: &Value) -> String {
    c["mac"]
        .as_str()
        .or_else(|| c["ip"].as_str())
        .expect("client has a MAC or an IP")
        .to_string()
}

fn by_key(doc: &Value) -> BTreeMap<String, Value> {
    doc["clients"]
        .as_array()
        .expect("clients array")
        .iter()
        .map(|c| (client_key(c), c.clone()))
        .collect()
}

// ---- resolver latency ----------------------------------------------------------

/// Per client, lanwatch's latency count and sum equal tshark's `dns.time`
/// over the responses the client received; returns the responses checked.
fn assert_latency_matches_tshark(files: &[PathBuf], model: &Value) -> u64 {
    let ours = by_key(&lanwatch_json(files, &[]));
    let mut responses = 0;
    for (key, theirs) in model["clients"].as_object().expect("clients object") {
        let want_count = theirs["dns_latency"]["count"].as_u64().unwrap();
        let want_sum = theirs["dns_latency"]["sum_ns"].as_u64().unwrap();
        if want_count == 0 {
            continue;
        }
        let ours = ours
            .get(key)
            .unwrap_or_else(|| panic!("{files:?}: lanwatch lacks client {key}"));
        let latency = &ours["dns"]["latency"];
        let count = latency["count"].as_u64().unwrap();
        let sum_ns = latency["sum_seconds"].as_f64().unwrap() * 1e9;
        assert_eq!(count, want_count, "{files:?} {key}: responses timed");
        let tolerance = want_count as f64 * 1000.0;
        assert!(
            (sum_ns - want_sum as f64).abs() <= tolerance,
            "{files:?} {key}: latency sum {sum_ns} ns vs tshark's {want_sum} ns"
        );
        responses += want_count;
    }
    responses
}

#[test]
fn resolver_latency_of_the_sample_is_tsharks_dns_time() {
    let n = assert_latency_matches_tshark(
        &[repo_file("samples/home-lan.pcap")],
        &committed_model("samples/home-lan.expected.json"),
    );
    assert!(
        n >= 30,
        "the sample has dozens of answered queries, got {n}"
    );
}

#[test]
fn resolver_latency_runs_from_the_first_copy_of_a_retransmitted_query() {
    let n = assert_latency_matches_tshark(
        &[repo_file("tests/data/generated/dns_nxdomain_cname.pcap")],
        &committed_model("tests/data/generated/dns_nxdomain_cname.expected.json"),
    );
    assert_eq!(n, 9);
}

#[test]
fn resolver_latency_of_real_captures_is_tsharks_dns_time() {
    for (file, at_least) in [
        // Every query captured twice, 44 µs apart: timed from the first copy.
        ("ndpi/1kxun.pcap", 6),
        ("ndpi/iphone.pcap", 19),
        ("ndpi/telegram.pcap", 9),
        ("arkime/dns-wiresharkrepo.pcap", 19),
        // DNS over TCP: one message per connection, and twenty pipelined.
        ("zeek/dns-edns-ecs.pcap", 1),
        ("tcpdump/dns_tcp.pcap", 1),
        ("suricata-verify/dns-tcp-multirequest-buffer.pcap", 20),
        ("suricata-verify/dns-eve-v2-udp-nxdomain-soa.pcap", 1),
    ] {
        let files = [real_capture(file)];
        let n = assert_latency_matches_tshark(&files, &expected_json(&files, &[]));
        assert!(n >= at_least, "{file}: {n} responses timed");
    }
}

// ---- resolver bypass over TLS ----------------------------------------------------

/// Public resolvers that answer DNS over HTTPS (their operators' documentation).
const DOH_ADDRESSES: [&str; 5] = ["1.1.1.1", "1.0.0.1", "8.8.8.8", "8.8.4.4", "9.9.9.9"];
const DOH_NAMES: [&str; 4] = [
    "cloudflare-dns.com",
    "one.one.one.one",
    "dns.google",
    "dns.quad9.net",
];

fn tshark_fields(file: &PathBuf, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
    require_tool("tshark", "tshark");
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(file)
        .args(["-o", "tcp.desegment_tcp_streams:TRUE", "-Y", filter])
        .args(["-T", "fields", "-E", "separator=/t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark on {file:?} failed");
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

/// Client MAC → (DoT connections, DoH connections), from tshark.
fn tls_bypass_truth(file: &PathBuf) -> BTreeMap<String, (u64, u64)> {
    let mut names: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for row in tshark_fields(
        file,
        "tls.handshake.type == 1",
        &["tcp.stream", "tls.handshake.extensions_server_name"],
    ) {
        if let [stream, name, ..] = row.as_slice() {
            names
                .entry(stream.clone())
                .or_default()
                .insert(name.to_ascii_lowercase());
        }
    }
    let mut out: BTreeMap<String, (u64, u64)> = BTreeMap::new();
    for row in tshark_fields(
        file,
        "tcp.flags.syn == 1 && tcp.flags.ack == 0",
        &["eth.src", "ip.dst", "ipv6.dst", "tcp.dstport", "tcp.stream"],
    ) {
        let [mac, v4, v6, port, stream, ..] = row.as_slice() else {
            continue;
        };
        let dst = if v4.is_empty() { v6 } else { v4 };
        let entry = out.entry(mac.clone()).or_default();
        let sni_is_doh = names
            .get(stream)
            .is_some_and(|n| n.iter().any(|n| DOH_NAMES.contains(&n.as_str())));
        match port.as_str() {
            "853" => entry.0 += 1,
            "443" if DOH_ADDRESSES.contains(&dst.as_str()) || sni_is_doh => entry.1 += 1,
            _ => {}
        }
    }
    out
}

fn assert_bypass_matches_tshark(file: &PathBuf) -> (u64, u64) {
    let truth = tls_bypass_truth(file);
    let ours = by_key(&lanwatch_json(std::slice::from_ref(file), &[]));
    let mut totals = (0, 0);
    for (key, c) in &ours {
        let bypass = &c["dns"]["bypass"];
        let got = (
            bypass["dot"].as_u64().unwrap(),
            bypass["doh"].as_u64().unwrap(),
        );
        let want = truth.get(key).copied().unwrap_or_default();
        assert_eq!(got, want, "{file:?} {key}: (DoT, DoH) connections");
        totals = (totals.0 + got.0, totals.1 + got.1);
    }
    for key in truth.keys() {
        if truth[key] != (0, 0) {
            assert!(ours.contains_key(key), "{file:?}: lanwatch lacks {key}");
        }
    }
    totals
}

#[test]
fn the_samples_raspberry_pi_uses_dns_over_tls() {
    let totals = assert_bypass_matches_tshark(&repo_file("samples/home-lan.pcap"));
    assert_eq!(totals, (3, 0), "three DoT connections to 1.1.1.1, no DoH");
}

#[test]
fn dns_over_tls_and_https_are_told_by_port_address_and_server_name() {
    let file = repo_file("tests/data/generated/dns_nxdomain_cname.pcap");
    assert_eq!(assert_bypass_matches_tshark(&file), (1, 2));
    // And a plain DNS query to a public resolver.
    let model = committed_model("tests/data/generated/dns_nxdomain_cname.expected.json");
    let ours = by_key(&lanwatch_json(&[file], &[]));
    for (key, theirs) in model["clients"].as_object().unwrap() {
        assert_eq!(
            ours[key]["dns"]["bypass"]["other_resolver"].as_u64(),
            theirs["dns_bypass_other_resolver"].as_u64(),
            "{key}"
        );
    }
}

// ---- bytes and connections behind each name ----------------------------------------

/// Every name the model attributes traffic to has the same bytes and
/// connections in lanwatch's domain list of that client.
fn assert_domain_bytes_match(capture: &str, model: &str) -> usize {
    let ours = by_key(&lanwatch_json(&[repo_file(capture)], &[]));
    let model = committed_model(model);
    let mut checked = 0;
    for (key, theirs) in model["clients"].as_object().unwrap() {
        let want = theirs["domain_bytes"].as_object().unwrap();
        if want.is_empty() {
            continue;
        }
        let list = ours[key]["domains"].as_array().unwrap();
        assert!(
            list.len() < LISTED_DOMAINS,
            "{capture} {key}: the listed domains may be cut; use a smaller case"
        );
        for (name, w) in want {
            let got = list
                .iter()
                .find(|d| d["domain"] == name.as_str())
                .unwrap_or_else(|| panic!("{capture} {key}: no domain {name} in {list:?}"));
            for field in ["rx_bytes", "tx_bytes", "connections"] {
                assert_eq!(got[field], w[field], "{capture} {key} {name} {field}");
            }
            checked += 1;
        }
    }
    checked
}

#[test]
fn a_cname_chain_counts_the_connection_to_the_queried_name() {
    let n = assert_domain_bytes_match(
        "tests/data/generated/dns_nxdomain_cname.pcap",
        "tests/data/generated/dns_nxdomain_cname.expected.json",
    );
    assert!(
        n >= 4,
        "www.shop.example, api.shop.example, dns.google, ..."
    );
    // The flows went to the end of the chain; the names in between carry nothing.
    let ours = by_key(&lanwatch_json(
        &[repo_file("tests/data/generated/dns_nxdomain_cname.pcap")],
        &[],
    ));
    let client = &ours["02:00:00:00:00:10"];
    for d in client["domains"].as_array().unwrap() {
        assert!(
            !["shop.cdn.example", "edge.cdnprovider.net"].contains(&d["domain"].as_str().unwrap()),
            "a CNAME target became a domain: {d}"
        );
    }
    let shop = client["domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["domain"] == "www.shop.example")
        .unwrap();
    assert_eq!(
        shop["connections"], 3,
        "IPv4 with SNI, IPv6 without, renamed"
    );
}

#[test]
fn compressed_owner_names_still_name_their_addresses() {
    let n = assert_domain_bytes_match(
        "tests/data/generated/dns_compression_and_names.pcap",
        "tests/data/generated/dns_compression_and_names.expected.json",
    );
    assert_eq!(n, 3, "pointer chain, loop, forward pointer");
}

#[test]
fn the_samples_domains_carry_the_models_bytes() {
    let n = assert_domain_bytes_match("samples/home-lan.pcap", "samples/home-lan.expected.json");
    assert!(n >= 15, "the sample's named flows, got {n}");
}

// ---- a random-subdomain flood ----------------------------------------------------------

const FLOODER: &str = "02:00:00:00:00:66";

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
        .unwrap_or_else(|| panic!("no sample {series}"))
}

#[test]
fn a_random_subdomain_flood_is_bounded_and_its_evictions_counted() {
    let capture = repo_file("tests/data/generated/dns_random_subdomain_flood.pcap");
    let model = committed_model("tests/data/generated/dns_random_subdomain_flood.expected.json");
    let ours = by_key(&lanwatch_json(std::slice::from_ref(&capture), &[]));
    let bound = lanwatch::track::dns::DnsConfig::default().max_unique_per_client as u64;

    let flooder = &ours[FLOODER]["dns"];
    let theirs = &model["clients"][FLOODER];
    let names = theirs["unique_domains"].as_u64().unwrap();
    assert!(
        names > bound,
        "the flood has more names ({names}) than the bound ({bound})"
    );
    let kept = flooder["unique_domains_24h"].as_u64().unwrap();
    assert!(kept <= bound, "{kept} distinct names kept, bound {bound}");
    assert!(kept > 0);
    assert_eq!(
        flooder["queries"], theirs["dns_queries"],
        "every flood query is still counted"
    );

    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "prometheus"])
        .arg(&capture)
        .output()
        .expect("run lanwatch");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let evicted = metric(&text, r#"lanwatch_evictions_total{table="domains"}"#) as u64;
    assert!(
        evicted >= names - kept,
        "every name not kept was evicted and counted: {evicted} < {names} - {kept}"
    );
    assert_eq!(
        metric(
            &text,
            r#"client_dns_unique_domains{ip="192.168.1.66",mac="02:00:00:00:00:66"}"#
        ) as u64,
        kept
    );

    // The other clients: every DNS figure exact, their latency included.
    for (key, theirs) in model["clients"].as_object().unwrap() {
        if key == FLOODER {
            continue;
        }
        let dns = &ours[key]["dns"];
        assert_eq!(dns["queries"], theirs["dns_queries"], "{key} queries");
        assert_eq!(dns["responses"], theirs["dns_responses"], "{key} responses");
        assert_eq!(
            dns["unique_domains_24h"], theirs["unique_domains"],
            "{key} names"
        );
        assert_eq!(
            dns["latency"]["count"], theirs["dns_latency"]["count"],
            "{key}: the flood cost no other client its latency"
        );
    }
    assert_latency_matches_tshark(&[capture], &model);
}

// ---- DNS captures not replayed elsewhere ----------------------------------------------

/// The whole per-client comparison with the model (DNS figures included) on
/// the real DNS captures that tests/replay_accounting.rs does not replay.
/// Their hosts have public (or loopback) addresses, so the LAN is named.
#[test]
fn more_real_dns_captures_match_the_model() {
    for (file, lan, responses) in [
        // A response with rcode 15 and a name of more than 255 octets.
        ("tcpdump/dns-badlabel.pcap", "156.118.27.0/24", 1),
        ("zeek/dns-https.pcap", "192.168.0.0/16", 1),
        // Resolver and client on 127.0.0.1 (one IP-keyed client, both ends).
        ("zeek/dns-svcb.pcap", "127.0.0.0/8", 1),
        // A client asking a resolver outside its LAN.
        ("zeek/dns-txt-multiple.pcap", "192.150.187.0/24", 1),
    ] {
        let files = [real_capture(file)];
        let args = ["--lan", lan];
        common::assert_same_accounting(&files, &args);
        let model = expected_json(&files, &args);
        let seen: u64 = model["clients"]
            .as_object()
            .unwrap()
            .values()
            .flat_map(|c| c["dns_responses"].as_object().unwrap().values())
            .filter_map(Value::as_u64)
            .sum();
        assert_eq!(seen, responses, "{file}: responses to clients");
    }
}
