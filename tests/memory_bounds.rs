//! Hostile floods stay within the configured bounds: a generated flood of
//! random source MACs and one of random subdomains from every client are
//! replayed by the `lanwatch` binary, and the tables its JSON reports must
//! sit at or under their limits, with the overflow counted as evictions,
//! and its resident memory under a generous bound.
//!
//! The limits are the daemon's defaults (max clients 512, max flows 14336;
//! DNS: 2048 named domains and 128 Ki distinct names over all clients, at
//! most 128 and 1024 per client). Nothing here measures time.

mod common;

use std::path::PathBuf;

use serde_json::Value;

#[path = "../benches/common/gen.rs"]
mod gen;

use common::replay_json;

const MAX_CLIENTS: u64 = 512;
const MAX_FLOWS: u64 = 14336;
const MAX_DOMAINS_TOTAL: u64 = 2048;
const MAX_DOMAINS_PER_CLIENT: u64 = 128;
const MAX_UNIQUE_PER_CLIENT: u64 = 1024;
const MAX_UNIQUE_TOTAL: u64 = 128 * 1024;

/// Generous: a debug build's own pages count too. The release figures
/// (under 16 MB) are in `benches/README.md`.
const RSS_BOUND_BYTES: u64 = 64 << 20;

/// A generated capture in the temp directory, removed on drop.
struct TempCapture(PathBuf);

impl TempCapture {
    fn new(
        tag: &str,
        build: impl FnOnce(&mut gen::Writer<std::io::BufWriter<std::fs::File>>) -> std::io::Result<()>,
    ) -> TempCapture {
        let path = std::env::temp_dir().join(format!("lanwatch-{tag}-{}.pcap", std::process::id()));
        let file = std::fs::File::create(&path).unwrap();
        let mut w = gen::Writer::new(std::io::BufWriter::new(file), 65_535).unwrap();
        build(&mut w).unwrap();
        std::io::Write::flush(&mut w.out).unwrap();
        TempCapture(path)
    }
}

impl Drop for TempCapture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

#[test]
fn a_flood_of_random_source_macs_is_bounded_by_the_client_and_flow_limits() {
    let frames = 100_000;
    let capture = TempCapture::new("macs", |w| gen::mac_flood(w, frames));
    let doc = replay_json(&capture.0);
    let tables = &doc["health"]["tables"];
    let clients = &tables["clients"];
    assert_eq!(u(&clients["max"]), MAX_CLIENTS);
    assert!(u(&clients["entries"]) <= MAX_CLIENTS);
    // Every frame came from a new MAC: all but the survivors were evicted.
    assert_eq!(u(&clients["entries"]) + u(&clients["evictions"]), frames);
    assert!(u(&tables["flows"]["entries"]) <= MAX_FLOWS);
    assert_eq!(
        doc["clients"].as_array().unwrap().len() as u64,
        u(&clients["entries"])
    );
    assert!(u(&doc["health"]["resident_memory_bytes"]) < RSS_BOUND_BYTES);
}

#[test]
fn a_random_subdomain_flood_from_every_client_is_bounded_by_the_dns_limits() {
    let capture = TempCapture::new("names", |w| gen::name_flood(w, 200_000, 512));
    let doc = replay_json(&capture.0);
    let clients = doc["clients"].as_array().unwrap();
    assert_eq!(
        clients.len() as u64,
        MAX_CLIENTS,
        "every flooding client is kept"
    );
    let mut domains_total = 0;
    let mut unique_total = 0;
    let mut queries_total = 0;
    for c in clients {
        let domains = c["domains"].as_array().unwrap().len() as u64;
        let unique = u(&c["dns"]["unique_domains_24h"]);
        assert!(domains <= MAX_DOMAINS_PER_CLIENT);
        assert!(unique <= MAX_UNIQUE_PER_CLIENT);
        domains_total += domains;
        unique_total += unique;
        queries_total += u(&c["dns"]["queries_total"]);
    }
    assert!(
        domains_total <= MAX_DOMAINS_TOTAL,
        "{domains_total} named domains"
    );
    assert!(
        unique_total <= MAX_UNIQUE_TOTAL,
        "{unique_total} distinct names"
    );
    // Each query asked for a new name: most of them had to be evicted.
    assert!(queries_total > 10 * domains_total);
    let tables = &doc["health"]["tables"];
    assert!(u(&tables["flows"]["entries"]) <= MAX_FLOWS);
    assert!(
        u(&tables["flows"]["evictions"]) > 0,
        "the flood filled the flow table"
    );
    assert!(u(&doc["health"]["resident_memory_bytes"]) < RSS_BOUND_BYTES);
}
