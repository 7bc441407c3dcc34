//! A burst of made-up MACs must not erase the real devices.
//!
//! The sample's six clients are replayed alone, and again with floods of
//! 1 k, 100 k and 1 M frames from random source MACs (one new MAC per
//! frame, 60-byte UDP frames to the router) spread over the capture's own
//! time and sent after its last frame. Every real client must come out of
//! the flooded replays exactly as it came out of the sample alone — the
//! whole JSON object: bandwidth, packets, connections, DNS, domains,
//! addresses, identity — while the client table stays within its bound
//! and counts the flood's evictions. The floods are written straight to a
//! temporary pcap here (76 bytes a frame) and removed afterwards.

mod common;

use std::collections::BTreeMap;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use common::{replay_json, repo_file};

/// The daemon's default client table.
const MAX_CLIENTS: u64 = 512;

/// A generous bound on the daemon's resident memory (a debug build).
const RSS_BOUND_BYTES: u64 = 64 << 20;

/// One record of a classic pcap file.
struct Record {
    micros: u64,
    caplen: u32,
    wire_len: u32,
    data: Vec<u8>,
}

/// Reads a classic little-endian microsecond pcap file (the sample's
/// format): its 24-byte header and its records.
fn read_pcap(path: &Path) -> (Vec<u8>, Vec<Record>) {
    let bytes = std::fs::read(path).unwrap();
    assert_eq!(&bytes[..4], &[0xd4, 0xc3, 0xb2, 0xa1], "{path:?}");
    let u32_at = |at: usize| u32::from_le_bytes(bytes[at..at + 4].try_into().unwrap());
    let mut records = Vec::new();
    let mut at = 24;
    while at + 16 <= bytes.len() {
        let micros = u64::from(u32_at(at)) * 1_000_000 + u64::from(u32_at(at + 4));
        let caplen = u32_at(at + 8);
        let wire_len = u32_at(at + 12);
        let data = bytes[at + 16..at + 16 + caplen as usize].to_vec();
        records.push(Record {
            micros,
            caplen,
            wire_len,
            data,
        });
        at += 16 + caplen as usize;
    }
    (bytes[..24].to_vec(), records)
}

/// The router's MAC, as tshark reads it: the sender of the DHCP server's
/// replies.
fn router_mac(path: &Path) -> [u8; 6] {
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args(["-Y", "udp.srcport == 67", "-T", "fields", "-e", "eth.src"])
        .output()
        .expect("run tshark");
    let text = String::from_utf8(out.stdout).unwrap();
    let first = text.lines().next().expect("a DHCP server reply");
    let mut mac = [0u8; 6];
    for (b, part) in mac.iter_mut().zip(first.split(':')) {
        *b = u8::from_str_radix(part, 16).unwrap();
    }
    mac
}

/// xorshift: the same flood every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }
}

/// A 60-byte frame from a new random (locally administered, unicast) MAC
/// and a random 10/8 address to a documentation address beyond the
/// router: a new client each, on a new flow.
fn flood_frame(rng: &mut Rng, router: [u8; 6]) -> [u8; 60] {
    let r = rng.next().to_le_bytes();
    let s = rng.next().to_le_bytes();
    let mut f = [0u8; 60];
    f[0..6].copy_from_slice(&router);
    f[6..12].copy_from_slice(&[(r[0] & 0xfc) | 0x02, r[1], r[2], r[3], r[4], r[5]]);
    f[12..14].copy_from_slice(&[0x08, 0x00]);
    // IPv4, total length 46, UDP.
    f[14..24].copy_from_slice(&[0x45, 0, 0, 46, 0, 1, 0, 0, 64, 17]);
    f[26..30].copy_from_slice(&[10, s[0], s[1], s[2] | 1]);
    f[30..34].copy_from_slice(&[203, 0, 113, s[3]]);
    let sum = f[14..34]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !(((folded & 0xffff) + (folded >> 16)) as u16);
    f[24..26].copy_from_slice(&checksum.to_be_bytes());
    // UDP: random high port to 9999, length 26, 18 bytes of zeros.
    f[34..36].copy_from_slice(&(u16::from_le_bytes([s[4], s[5]]) | 0x8000).to_be_bytes());
    f[36..38].copy_from_slice(&9999u16.to_be_bytes());
    f[38..40].copy_from_slice(&26u16.to_be_bytes());
    f
}

/// A capture removed on drop.
struct TempCapture(PathBuf);

impl Drop for TempCapture {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The sample with `during` flood frames spread evenly over its time span
/// (each at the time of the sample frame it follows) and `after` more
/// after its last frame (1000 to a microsecond, so that packet time moves
/// on by no more than a millisecond per million: no flow of the sample's
/// expires because of the flood).
fn flooded_sample(tag: &str, during: u64, after: u64) -> TempCapture {
    let sample = repo_file("samples/home-lan.pcap");
    let router = router_mac(&sample);
    let (header, records) = read_pcap(&sample);
    let path = std::env::temp_dir().join(format!(
        "lanwatch-probation-{tag}-{}.pcap",
        std::process::id()
    ));
    let capture = TempCapture(path);
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(&capture.0).unwrap());
    out.write_all(&header).unwrap();
    let mut rng = Rng(0x5eed_f10d ^ during ^ (after << 32));
    let record = |out: &mut BufWriter<std::fs::File>, micros: u64, caplen, wire, data: &[u8]| {
        out.write_all(&((micros / 1_000_000) as u32).to_le_bytes())
            .unwrap();
        out.write_all(&((micros % 1_000_000) as u32).to_le_bytes())
            .unwrap();
        out.write_all(&u32::to_le_bytes(caplen)).unwrap();
        out.write_all(&u32::to_le_bytes(wire)).unwrap();
        out.write_all(data).unwrap();
    };
    let n = records.len() as u64;
    let mut sent = 0u64;
    for (i, r) in records.iter().enumerate() {
        record(&mut out, r.micros, r.caplen, r.wire_len, &r.data);
        // After sample frame i, the flood frames up to its share.
        let due = during * (i as u64 + 1) / n;
        while sent < due {
            let f = flood_frame(&mut rng, router);
            record(&mut out, r.micros, 60, 60, &f);
            sent += 1;
        }
    }
    let last = records.last().unwrap().micros;
    for k in 0..after {
        let f = flood_frame(&mut rng, router);
        record(&mut out, last + k / 1000, 60, 60, &f);
    }
    out.flush().unwrap();
    capture
}

/// Every client of a replay's JSON by MAC.
fn clients_by_mac(doc: &Value) -> BTreeMap<String, Value> {
    doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["mac"].as_str().unwrap().to_string(), c.clone()))
        .collect()
}

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap()
}

/// Replays the sample flooded with `during` and `after` random MACs and
/// checks the real clients against the sample replayed alone.
fn real_clients_survive(during: u64, after: u64) {
    let alone = replay_json(&repo_file("samples/home-lan.pcap"));
    let real = clients_by_mac(&alone);
    assert_eq!(real.len(), 6, "the sample's clients");
    let capture = flooded_sample(&format!("{during}-{after}"), during, after);
    let flooded = replay_json(&capture.0);
    let all = clients_by_mac(&flooded);
    for (mac, client) in &real {
        let got = all
            .get(mac)
            .unwrap_or_else(|| panic!("real client {mac} was evicted by the flood"));
        assert_eq!(
            got, client,
            "client {mac} after {during} + {after} flood frames"
        );
    }
    let tables = &flooded["health"]["tables"]["clients"];
    assert_eq!(u(&tables["max"]), MAX_CLIENTS);
    assert!(u(&tables["entries"]) <= MAX_CLIENTS);
    // Every flood frame was a new client: those not in the table were
    // evicted, and none of the evicted is a real client.
    let flood_clients = during + after;
    assert_eq!(
        u(&tables["entries"]) + u(&tables["evictions"]),
        real.len() as u64 + flood_clients
    );
    if flood_clients > MAX_CLIENTS {
        assert!(u(&tables["evictions"]) > 0);
    }
    assert!(
        u(&flooded["health"]["tables"]["flows"]["entries"])
            <= u(&flooded["health"]["tables"]["flows"]["max"])
    );
    assert!(u(&flooded["health"]["resident_memory_bytes"]) < RSS_BOUND_BYTES);
}

#[test]
fn a_thousand_random_macs_during_and_after_the_capture_leave_the_real_clients_exact() {
    real_clients_survive(1_000, 1_000);
}

#[test]
fn a_hundred_thousand_random_macs_during_the_capture_leave_the_real_clients_exact() {
    real_clients_survive(100_000, 0);
}

#[test]
fn a_hundred_thousand_random_macs_after_the_capture_leave_the_real_clients_exact() {
    real_clients_survive(0, 100_000);
}

#[test]
fn a_million_random_macs_during_and_after_the_capture_leave_the_real_clients_exact() {
    real_clients_survive(500_000, 500_000);
}

/// 560 fresh MACs after the capture (the table of 512 and one eviction
/// batch of 32, plus some): enough, with least-recently-seen eviction, to
/// push out all six real clients, idle at the capture's end.
#[test]
fn the_560_random_macs_that_erased_every_idle_client_leave_them_exact() {
    real_clients_survive(0, 560);
}
