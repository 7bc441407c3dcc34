//! State files built from a structure, so that nearly every input is JSON
//! of the state file's shape and reaches the checks behind the parse (the
//! byte-level `state_file` target rarely gets past `serde_json`).
//!
//! The fuzzer's bytes become a mirror of the file's layout (clients with
//! keys, addresses, protocols, LAN traffic and DNS counts; optional fields
//! sometimes left out), written with `serde_json` and handed to the real
//! loader. Then:
//!
//! - the file is accepted exactly when the rules stated here allow it (the
//!   header ours, every key a MAC or an IP address, at most 64 addresses,
//!   256 protocols, 64 query and 64 response codes and 10 latency buckets a
//!   client, first seen not after last seen);
//! - what was accepted restores into a tracker of 8 clients within its
//!   bounds, and saves and reads back to the same counters (as in
//!   `state_file`);
//! - a file of one client that was restored gives back its LAN traffic and
//!   the wrapping sums of its protocol traffic and connections.
#![no_main]
use std::path::Path;

use arbitrary::Arbitrary;
use lanwatch::state_file::{self, StateError};
use lanwatch::track::Tracker;
use libfuzzer_sys::fuzz_target;
use serde::Serialize;

#[path = "shared/state_round_trip.rs"]
mod state_round_trip;
use state_round_trip::{assert_round_trip, config, INSTANCE, MAX_CLIENTS};

/// Protocol names: the built-in table's (restored under their own name)
/// and some it does not hold (restored as `other`).
const NAMES: [&str; 8] = ["HTTPS", "DNS", "QUIC", "NTP", "DHCP", "other", "Games", ""];

#[derive(Arbitrary, Debug)]
enum Header {
    Ours,
    OtherInstance(String),
    OtherVersion(u32),
    OtherFormat(String),
}

#[derive(Arbitrary, Debug)]
struct Input {
    /// Most files are ours: another header only when this is 0xff.
    foreign: u8,
    header: Header,
    saved_at: u64,
    clients: Vec<Client>,
}

#[derive(Arbitrary, Debug)]
enum Key {
    Mac([u8; 6]),
    V4([u8; 4]),
    V6([u8; 16]),
}

/// How a client breaks the rules, rarely (most are good, so that files of
/// several clients are accepted too).
#[derive(Arbitrary, Debug)]
struct Spoil {
    /// 0xff: `key_text` is the key instead.
    key: u8,
    key_text: String,
    /// 0xff: last seen is `seen_for` before first seen.
    backwards: u8,
}

#[derive(Arbitrary, Debug, Clone, Copy, Default, Serialize)]
struct Traffic {
    rx_bytes: u64,
    tx_bytes: u64,
    rx_packets: u64,
    tx_packets: u64,
}

#[derive(Arbitrary, Debug)]
struct Protocol {
    name: u8,
    traffic: Traffic,
    connections: u64,
}

#[derive(Arbitrary, Debug, Default)]
struct Dns {
    queries: Vec<(u16, u64)>,
    queries_other: Option<u64>,
    responses: Vec<(u16, u64)>,
    responses_other: Option<u64>,
    mdns_queries: Option<u64>,
    bypass: Option<(u64, u64, u64)>,
    latency_buckets: Vec<u64>,
    latency: Option<(u64, u64)>,
}

#[derive(Arbitrary, Debug)]
struct Client {
    key: Key,
    spoil: Spoil,
    ipv4: Vec<[u8; 4]>,
    ipv6: Vec<[u8; 16]>,
    first_seen: u64,
    /// Added to `first_seen` (saturating) for last seen.
    seen_for: u64,
    protocols: Option<Vec<Protocol>>,
    lan: Option<Traffic>,
    dns: Option<Dns>,
}

impl Client {
    fn key(&self) -> String {
        if self.spoil.key == 0xff {
            return self.spoil.key_text.clone();
        }
        match self.key {
            Key::Mac(m) => m
                .iter()
                .map(|b| format!("{b:02x}"))
                .collect::<Vec<_>>()
                .join(":"),
            Key::V4(a) => std::net::Ipv4Addr::from(a).to_string(),
            Key::V6(a) => std::net::Ipv6Addr::from(a).to_string(),
        }
    }

    fn last_seen(&self) -> u64 {
        if self.spoil.backwards == 0xff {
            self.first_seen.wrapping_sub(self.seen_for)
        } else {
            self.first_seen.saturating_add(self.seen_for)
        }
    }

    /// The rules a state file's client must keep, stated on their own.
    fn valid(&self) -> bool {
        let key = self.key();
        let key_ok =
            key.parse::<lanwatch::decode::Mac>().is_ok() || key.parse::<std::net::IpAddr>().is_ok();
        let dns = self.dns.as_ref();
        key_ok
            && self.ipv4.len() + self.ipv6.len() <= 64
            && self.protocols.as_ref().map_or(0, Vec::len) <= 256
            && dns.map_or(0, |d| d.queries.len()) <= 64
            && dns.map_or(0, |d| d.responses.len()) <= 64
            && dns.map_or(0, |d| d.latency_buckets.len()) <= 10
            && self.first_seen <= self.last_seen()
    }

    fn json(&self) -> serde_json::Value {
        let mut c = serde_json::Map::new();
        c.insert("key".into(), self.key().into());
        let v4: Vec<String> = self
            .ipv4
            .iter()
            .map(|a| std::net::Ipv4Addr::from(*a).to_string())
            .collect();
        let v6: Vec<String> = self
            .ipv6
            .iter()
            .map(|a| std::net::Ipv6Addr::from(*a).to_string())
            .collect();
        // Empty lists are left out (they default to empty) when the first
        // seen time is even.
        let written = self.first_seen % 2 == 1;
        if !v4.is_empty() || written {
            c.insert("ipv4".into(), v4.into());
        }
        if !v6.is_empty() || written {
            c.insert("ipv6".into(), v6.into());
        }
        c.insert("first_seen".into(), self.first_seen.into());
        c.insert("last_seen".into(), self.last_seen().into());
        if let Some(protocols) = &self.protocols {
            let list: Vec<serde_json::Value> = protocols
                .iter()
                .map(|p| {
                    let mut v = serde_json::to_value(p.traffic).unwrap_or_default();
                    if let serde_json::Value::Object(m) = &mut v {
                        m.insert("protocol".into(), protocol_name(p.name).into());
                        m.insert("connections".into(), p.connections.into());
                    }
                    v
                })
                .collect();
            c.insert("protocols".into(), list.into());
        }
        if let Some(lan) = self.lan {
            c.insert("lan".into(), serde_json::to_value(lan).unwrap_or_default());
        }
        if let Some(d) = &self.dns {
            let mut m = serde_json::Map::new();
            m.insert("queries".into(), serde_json::json!(d.queries));
            m.insert("responses".into(), serde_json::json!(d.responses));
            m.insert(
                "latency_buckets".into(),
                serde_json::json!(d.latency_buckets),
            );
            let optional = [
                ("queries_other", d.queries_other),
                ("responses_other", d.responses_other),
                ("mdns_queries", d.mdns_queries),
                ("bypass_other_resolver", d.bypass.map(|b| b.0)),
                ("bypass_dot", d.bypass.map(|b| b.1)),
                ("bypass_doh", d.bypass.map(|b| b.2)),
                ("latency_count", d.latency.map(|l| l.0)),
                ("latency_sum_nanos", d.latency.map(|l| l.1)),
            ];
            for (name, value) in optional {
                if let Some(v) = value {
                    m.insert(name.into(), v.into());
                }
            }
            c.insert("dns".into(), m.into());
        }
        c.into()
    }
}

fn protocol_name(n: u8) -> String {
    let i = usize::from(n);
    match NAMES.get(i) {
        Some(name) => (*name).to_string(),
        None => format!("P{i}"),
    }
}

fn sum(values: impl Iterator<Item = u64>) -> u64 {
    values.fold(0, u64::wrapping_add)
}

fuzz_target!(|input: Input| {
    let header = if input.foreign == 0xff {
        &input.header
    } else {
        &Header::Ours
    };
    let (format, version, instance) = match header {
        Header::Ours => (
            state_file::FORMAT.to_string(),
            state_file::VERSION,
            INSTANCE.to_string(),
        ),
        Header::OtherInstance(i) => (
            state_file::FORMAT.to_string(),
            state_file::VERSION,
            i.clone(),
        ),
        Header::OtherVersion(v) => (state_file::FORMAT.to_string(), *v, INSTANCE.to_string()),
        Header::OtherFormat(f) => (f.clone(), state_file::VERSION, INSTANCE.to_string()),
    };
    let document = serde_json::json!({
        "format": format,
        "version": version,
        "instance": instance,
        "saved_at": input.saved_at,
        "clients": input.clients.iter().map(Client::json).collect::<Vec<_>>(),
    });
    let bytes = serde_json::to_vec(&document).expect("a JSON value serializes");

    let header_ours = format == state_file::FORMAT && version == state_file::VERSION;
    let parsed = state_file::parse(Path::new("fuzz"), &bytes, INSTANCE);
    let saved = match parsed {
        Ok(saved) => {
            assert!(
                header_ours && instance == INSTANCE,
                "a foreign header was accepted"
            );
            assert!(
                input.clients.iter().all(Client::valid),
                "a client breaking the rules was accepted"
            );
            saved
        }
        Err(StateError::Foreign { .. }) => {
            assert!(!header_ours, "our own header refused as foreign");
            return;
        }
        Err(StateError::OtherInstance { .. }) => {
            assert!(header_ours && instance != INSTANCE);
            return;
        }
        Err(e) => {
            assert!(header_ours && instance == INSTANCE, "{e}");
            assert!(
                !input.clients.iter().all(Client::valid),
                "a file keeping the rules was refused: {e}"
            );
            return;
        }
    };

    let mut tracker = Tracker::new(config().clone());
    let restored = state_file::restore(&mut tracker, saved);
    assert!(restored <= input.clients.len());
    let snapshot = tracker.snapshot();
    assert!(snapshot.clients.len() <= MAX_CLIENTS);
    assert!(snapshot.clients.len() <= restored);

    if let ([client], [shown]) = (input.clients.as_slice(), snapshot.clients.as_slice()) {
        let lan = client.lan.unwrap_or_default();
        assert_eq!(
            (shown.lan.rx_bytes, shown.lan.tx_bytes),
            (lan.rx_bytes, lan.tx_bytes)
        );
        assert_eq!(
            (shown.lan.rx_packets, shown.lan.tx_packets),
            (lan.rx_packets, lan.tx_packets)
        );
        let protocols = client.protocols.as_deref().unwrap_or_default();
        assert_eq!(
            sum(shown.protocols.iter().map(|p| p.traffic.rx_bytes)),
            sum(protocols.iter().map(|p| p.traffic.rx_bytes))
        );
        assert_eq!(
            sum(shown.protocols.iter().map(|p| p.traffic.tx_packets)),
            sum(protocols.iter().map(|p| p.traffic.tx_packets))
        );
        assert_eq!(
            sum(shown.protocols.iter().map(|p| p.connections)),
            sum(protocols.iter().map(|p| p.connections))
        );
    }

    assert_round_trip(&tracker, snapshot.clients);
});
