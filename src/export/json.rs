//! JSON documents of the `/api/v1` endpoints (shape documented in `docs/api.md`).
//!
//! The documents are built from small view structs declared here rather than
//! by serialising the tracker's snapshot types directly: the API is a
//! promise to scripts and dashboards, so its field names must not change
//! because an internal struct did. Clients are listed in the same fixed
//! order as the Prometheus output (MAC, then IP).

use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use serde::Serialize;

use crate::decode::Mac;
use crate::track::snapshot::FlowOffload;
use crate::track::{ClientSnapshot, DnsSnapshot, DomainUsage, Health, Snapshot, Traffic};

/// `GET /api/v1/clients`: every client.
pub fn clients(snapshot: &Snapshot) -> String {
    to_json(&ClientsDoc {
        clients: ordered(snapshot).into_iter().map(ClientView::new).collect(),
    })
}

/// `GET /api/v1/clients/{key}`: one client, with every domain.
pub fn client(client: &ClientSnapshot) -> String {
    to_json(&ClientView::with_domains(client, usize::MAX))
}

/// `GET /api/v1/health`: the daemon's own state.
pub fn health(snapshot: &Snapshot) -> String {
    to_json(&HealthView::new(&snapshot.health))
}

/// Clients and health in one document (what `replay --format json` prints).
pub fn snapshot(snapshot: &Snapshot) -> String {
    to_json(&SnapshotDoc {
        clients: ordered(snapshot).into_iter().map(ClientView::new).collect(),
        health: HealthView::new(&snapshot.health),
    })
}

/// An error document: `{"error": "..."}`.
pub fn error(message: &str) -> String {
    to_json(&ErrorDoc { error: message })
}

/// How a client is named in `/api/v1/clients/{key}`: its MAC (either case,
/// `:` or `-` separators), or one of its IP addresses (for clients seen on
/// links that carry no MAC).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ClientKey {
    Mac(Mac),
    Ip(IpAddr),
}

/// A client key that is neither a MAC nor an IP address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BadClientKey(pub String);

impl fmt::Display for BadClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:?} is neither a MAC address (aa:bb:cc:dd:ee:ff) nor an IP address",
            self.0
        )
    }
}

impl std::error::Error for BadClientKey {}

impl FromStr for ClientKey {
    type Err = BadClientKey;

    fn from_str(s: &str) -> Result<ClientKey, BadClientKey> {
        // Mac's parser would let a sign through `from_str_radix` ("+a").
        let hex_or_separator = |c: char| c.is_ascii_hexdigit() || c == ':' || c == '-';
        if s.chars().all(hex_or_separator) {
            if let Ok(mac) = s.parse::<Mac>() {
                return Ok(ClientKey::Mac(mac));
            }
        }
        s.parse::<IpAddr>()
            .map(ClientKey::Ip)
            .map_err(|_| BadClientKey(s.to_string()))
    }
}

/// The client a key names: by MAC identity, or the client holding that
/// address (the `ip` label first, then any of its addresses).
pub fn find_client<'a>(snapshot: &'a Snapshot, key: &ClientKey) -> Option<&'a ClientSnapshot> {
    let clients = ordered(snapshot);
    match *key {
        ClientKey::Mac(mac) => clients.into_iter().find(|c| c.mac == Some(mac)),
        ClientKey::Ip(ip) => clients
            .iter()
            .find(|c| c.ip == Some(ip))
            .or_else(|| clients.iter().find(|c| holds_address(c, ip)))
            .copied(),
    }
}

fn holds_address(client: &ClientSnapshot, ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => client.ipv4.contains(&v4),
        IpAddr::V6(v6) => client.ipv6.contains(&v6),
    }
}

/// Clients in a fixed order, whatever order the tracker yielded them in.
fn ordered(snapshot: &Snapshot) -> Vec<&ClientSnapshot> {
    let mut clients: Vec<&ClientSnapshot> = snapshot.clients.iter().collect();
    clients.sort_by_key(|c| (c.mac, c.ip));
    clients
}

/// Pretty-printed, with a final line feed.
fn to_json<T: Serialize>(value: &T) -> String {
    match serde_json::to_string_pretty(value) {
        Ok(mut text) => {
            text.push('\n');
            text
        }
        // Plain structs of numbers and strings serialise into memory without
        // fail; should that ever change, say so instead of panicking.
        Err(e) => format!("{{\"error\": \"cannot render JSON: {e}\"}}\n"),
    }
}

#[derive(Serialize)]
struct ClientsDoc<'a> {
    clients: Vec<ClientView<'a>>,
}

#[derive(Serialize)]
struct SnapshotDoc<'a> {
    clients: Vec<ClientView<'a>>,
    health: HealthView,
}

#[derive(Serialize)]
struct ErrorDoc<'a> {
    error: &'a str,
}

#[derive(Serialize)]
struct ClientView<'a> {
    mac: Option<Mac>,
    ip: Option<IpAddr>,
    ipv4: &'a [Ipv4Addr],
    ipv6: &'a [Ipv6Addr],
    hostname: Option<&'a str>,
    hostname_source: Option<&'a str>,
    vendor: Option<&'a str>,
    randomized_mac: bool,
    dhcp_vendor_class: Option<&'a str>,
    dhcp_fingerprint: Option<&'a str>,
    active: bool,
    first_seen: f64,
    last_seen: f64,
    bandwidth: TrafficView,
    lan: TrafficView,
    connections: ConnectionsView,
    protocols: Vec<ProtocolView<'a>>,
    dns: DnsView<'a>,
    /// Most bytes first; the client list carries the top few, the
    /// single-client document all of them.
    domains: Vec<DomainView<'a>>,
}

/// Domains per client in `/api/v1/clients`; `/api/v1/clients/{key}` has all.
pub const DOMAINS_IN_LIST: usize = 10;

impl<'a> ClientView<'a> {
    fn new(c: &'a ClientSnapshot) -> ClientView<'a> {
        Self::with_domains(c, DOMAINS_IN_LIST)
    }

    fn with_domains(c: &'a ClientSnapshot, domain_limit: usize) -> ClientView<'a> {
        let mut protocols: Vec<ProtocolView<'a>> = c
            .protocols
            .iter()
            .map(|p| ProtocolView {
                protocol: &p.protocol,
                traffic: TrafficView::from(&p.traffic),
                connections: p.connections,
            })
            .collect();
        protocols.sort_by(|a, b| a.protocol.cmp(b.protocol));
        ClientView {
            mac: c.mac,
            ip: c.ip,
            ipv4: &c.ipv4,
            ipv6: &c.ipv6,
            hostname: c.hostname.as_deref(),
            hostname_source: c.identity.hostname_source.as_deref(),
            vendor: c.vendor.as_deref(),
            randomized_mac: c.randomized_mac,
            dhcp_vendor_class: c.identity.dhcp_vendor_class.as_deref(),
            dhcp_fingerprint: c.identity.dhcp_fingerprint.as_deref(),
            active: c.identity.active,
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            bandwidth: TrafficView::from(&c.bandwidth()),
            lan: TrafficView::from(&c.lan),
            connections: ConnectionsView {
                total: c
                    .protocols
                    .iter()
                    .fold(0_u64, |sum, p| sum.saturating_add(p.connections)),
                active: c.connections_active,
            },
            protocols,
            dns: DnsView::new(&c.dns),
            domains: c
                .domains
                .iter()
                .take(domain_limit)
                .map(DomainView::new)
                .collect(),
        }
    }
}

#[derive(Serialize)]
struct DnsView<'a> {
    queries_total: u64,
    /// Query type → query messages.
    queries: BTreeMap<&'a str, u64>,
    /// Rcode → responses received.
    responses: BTreeMap<&'a str, u64>,
    mdns_queries: u64,
    unique_domains_24h: u64,
    bypass: BypassView,
    latency: LatencyView,
}

impl<'a> DnsView<'a> {
    fn new(d: &'a DnsSnapshot) -> DnsView<'a> {
        DnsView {
            queries_total: d.queries_total(),
            queries: d
                .queries
                .iter()
                .map(|q| (q.name.as_str(), q.count))
                .collect(),
            responses: d
                .responses
                .iter()
                .map(|q| (q.name.as_str(), q.count))
                .collect(),
            mdns_queries: d.mdns_queries,
            unique_domains_24h: d.unique_domains,
            bypass: BypassView {
                other_resolver: d.bypass.other_resolver,
                dot: d.bypass.dot,
                doh: d.bypass.doh,
            },
            latency: LatencyView {
                count: d.latency.count,
                sum_seconds: d.latency.sum_seconds,
                mean_seconds: (d.latency.count > 0)
                    .then(|| d.latency.sum_seconds / d.latency.count as f64),
            },
        }
    }
}

#[derive(Serialize)]
struct BypassView {
    other_resolver: u64,
    dot: u64,
    doh: u64,
}

#[derive(Serialize)]
struct LatencyView {
    count: u64,
    sum_seconds: f64,
    mean_seconds: Option<f64>,
}

#[derive(Serialize)]
struct DomainView<'a> {
    domain: &'a str,
    queries: u64,
    #[serde(flatten)]
    traffic: TrafficView,
    connections: u64,
    first_seen: f64,
    last_seen: f64,
}

impl<'a> DomainView<'a> {
    fn new(d: &'a DomainUsage) -> DomainView<'a> {
        DomainView {
            domain: &d.domain,
            queries: d.queries,
            traffic: TrafficView::from(&d.traffic),
            connections: d.connections,
            first_seen: d.first_seen,
            last_seen: d.last_seen,
        }
    }
}

#[derive(Serialize)]
struct TrafficView {
    rx_bytes: u64,
    tx_bytes: u64,
    rx_packets: u64,
    tx_packets: u64,
}

impl From<&Traffic> for TrafficView {
    fn from(t: &Traffic) -> TrafficView {
        TrafficView {
            rx_bytes: t.rx_bytes,
            tx_bytes: t.tx_bytes,
            rx_packets: t.rx_packets,
            tx_packets: t.tx_packets,
        }
    }
}

#[derive(Serialize)]
struct ConnectionsView {
    total: u64,
    active: u64,
}

#[derive(Serialize)]
struct ProtocolView<'a> {
    protocol: &'a str,
    #[serde(flatten)]
    traffic: TrafficView,
    connections: u64,
}

#[derive(Serialize)]
struct HealthView {
    version: &'static str,
    start_time_seconds: f64,
    last_packet_time: f64,
    snapshot_duration_seconds: f64,
    resident_memory_bytes: u64,
    packets: PacketsView,
    kernel: KernelView,
    tables: TablesView,
    /// Live capture only: flow offloading as last detected.
    #[serde(skip_serializing_if = "Option::is_none")]
    flow_offload: Option<FlowOffload>,
}

#[derive(Serialize)]
struct PacketsView {
    accounted: u64,
    lan: u64,
    no_client: u64,
    not_ip: u64,
    malformed: u64,
    duplicate: u64,
    excluded: u64,
}

#[derive(Serialize)]
struct KernelView {
    packets: u64,
    drops: u64,
}

#[derive(Serialize)]
struct TablesView {
    clients: TableView,
    flows: TableView,
}

#[derive(Serialize)]
struct TableView {
    entries: u64,
    max: u64,
    evictions: u64,
}

impl HealthView {
    fn new(h: &Health) -> HealthView {
        HealthView {
            version: env!("CARGO_PKG_VERSION"),
            start_time_seconds: h.process.start_time_seconds,
            last_packet_time: h.last_packet_time,
            snapshot_duration_seconds: h.snapshot_duration_seconds,
            resident_memory_bytes: h.process.resident_memory_bytes,
            packets: PacketsView {
                accounted: h.packets.accounted,
                lan: h.packets.lan,
                no_client: h.packets.no_client,
                not_ip: h.packets.not_ip,
                malformed: h.packets.malformed,
                duplicate: h.packets.duplicate,
                excluded: h.packets.excluded,
            },
            kernel: KernelView {
                packets: h.kernel_packets,
                drops: h.kernel_drops,
            },
            tables: TablesView {
                clients: TableView {
                    entries: h.clients,
                    max: h.max_clients,
                    evictions: h.client_evictions,
                },
                flows: TableView {
                    entries: h.flows,
                    max: h.max_flows,
                    evictions: h.flow_evictions,
                },
            },
            flow_offload: h.flow_offload,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{PacketOutcomes, ProcessStats, ProtocolUsage};
    use serde_json::{json, Value};

    fn laptop() -> ClientSnapshot {
        ClientSnapshot {
            ipv4: vec!["192.168.1.23".parse().unwrap()],
            ipv6: vec!["fd00::23".parse().unwrap()],
            hostname: Some("anna-laptop".into()),
            first_seen: 1_764_057_600.0,
            last_seen: 1_764_061_199.5,
            protocols: vec![
                ProtocolUsage {
                    protocol: "QUIC".into(),
                    traffic: Traffic {
                        rx_bytes: 9000,
                        tx_bytes: 1000,
                        rx_packets: 9,
                        tx_packets: 4,
                    },
                    connections: 2,
                },
                ProtocolUsage {
                    protocol: "DNS".into(),
                    traffic: Traffic {
                        rx_bytes: 300,
                        tx_bytes: 100,
                        rx_packets: 3,
                        tx_packets: 3,
                    },
                    connections: 3,
                },
            ],
            lan: Traffic {
                rx_bytes: 42,
                tx_bytes: 0,
                rx_packets: 1,
                tx_packets: 0,
            },
            connections_active: 1,
            ..ClientSnapshot::test_client(
                Mac([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]),
                "192.168.1.23".parse().unwrap(),
            )
        }
    }

    fn parsed(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn a_client_document_has_the_documented_shape() {
        let doc = parsed(&client(&laptop()));
        assert_eq!(
            doc,
            json!({
                "mac": "3c:22:fb:12:34:56",
                "ip": "192.168.1.23",
                "ipv4": ["192.168.1.23"],
                "ipv6": ["fd00::23"],
                "hostname": "anna-laptop",
                "hostname_source": null,
                "vendor": null,
                "randomized_mac": false,
                "dhcp_vendor_class": null,
                "dhcp_fingerprint": null,
                "active": false,
                "first_seen": 1_764_057_600.0,
                "last_seen": 1_764_061_199.5,
                "bandwidth": {"rx_bytes": 9300, "tx_bytes": 1100, "rx_packets": 12, "tx_packets": 7},
                "lan": {"rx_bytes": 42, "tx_bytes": 0, "rx_packets": 1, "tx_packets": 0},
                "connections": {"total": 5, "active": 1},
                "protocols": [
                    {"protocol": "DNS", "rx_bytes": 300, "tx_bytes": 100, "rx_packets": 3, "tx_packets": 3, "connections": 3},
                    {"protocol": "QUIC", "rx_bytes": 9000, "tx_bytes": 1000, "rx_packets": 9, "tx_packets": 4, "connections": 2}
                ],
                "dns": {
                    "queries_total": 0, "queries": {}, "responses": {}, "mdns_queries": 0,
                    "unique_domains_24h": 0,
                    "bypass": {"other_resolver": 0, "dot": 0, "doh": 0},
                    "latency": {"count": 0, "sum_seconds": 0.0, "mean_seconds": null}
                },
                "domains": []
            })
        );
    }

    #[test]
    fn clients_are_listed_by_mac() {
        let mut other = laptop();
        other.mac = Some(Mac([0x00, 0x17, 0x88, 0, 0, 1]));
        let snapshot = Snapshot {
            clients: vec![laptop(), other],
            health: Health::default(),
            export: Default::default(),
        };
        let doc = parsed(&clients(&snapshot));
        let macs: Vec<&str> = doc["clients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["mac"].as_str().unwrap())
            .collect();
        assert_eq!(macs, ["00:17:88:00:00:01", "3c:22:fb:12:34:56"]);
    }

    #[test]
    fn health_document_groups_packets_kernel_and_tables() {
        let snapshot = Snapshot {
            clients: vec![],
            health: Health {
                packets: PacketOutcomes {
                    accounted: 1,
                    lan: 2,
                    no_client: 3,
                    not_ip: 4,
                    malformed: 5,
                    duplicate: 6,
                    excluded: 9,
                },
                kernel_packets: 21,
                kernel_drops: 7,
                clients: 8,
                flows: 9,
                max_clients: 1024,
                max_flows: 4096,
                client_evictions: 10,
                flow_evictions: 11,
                domain_evictions: 0,
                dns_answer_evictions: 0,
                device_evictions: 0,
                fragment_evictions: 0,
                dns_messages: 0,
                dns_malformed: 0,
                dns_answers: 0,
                last_packet_time: 1_764_061_200.0,
                snapshot_duration_seconds: 0.5,
                process: ProcessStats {
                    resident_memory_bytes: 4096,
                    start_time_seconds: 1_764_057_000.0,
                    ..ProcessStats::default()
                },
                flow_offload: None,
                state_saves: None,
            },
            export: Default::default(),
        };
        assert_eq!(
            parsed(&health(&snapshot)),
            json!({
                "version": env!("CARGO_PKG_VERSION"),
                "start_time_seconds": 1_764_057_000.0,
                "last_packet_time": 1_764_061_200.0,
                "snapshot_duration_seconds": 0.5,
                "resident_memory_bytes": 4096,
                "packets": {"accounted": 1, "lan": 2, "no_client": 3, "not_ip": 4, "malformed": 5, "duplicate": 6, "excluded": 9},
                "kernel": {"packets": 21, "drops": 7},
                "tables": {
                    "clients": {"entries": 8, "max": 1024, "evictions": 10},
                    "flows": {"entries": 9, "max": 4096, "evictions": 11}
                }
            })
        );
    }

    #[test]
    fn client_keys_accept_mac_in_either_case_and_separator() {
        let mac = ClientKey::Mac(Mac([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56]));
        for text in [
            "3c:22:fb:12:34:56",
            "3C:22:FB:12:34:56",
            "3c-22-fb-12-34-56",
            "3C-22-Fb-12-34-56",
        ] {
            assert_eq!(text.parse::<ClientKey>(), Ok(mac), "{text}");
        }
    }

    #[test]
    fn client_keys_accept_ip_addresses() {
        assert_eq!(
            "192.168.1.23".parse::<ClientKey>(),
            Ok(ClientKey::Ip("192.168.1.23".parse().unwrap()))
        );
        assert_eq!(
            "fd00::23".parse::<ClientKey>(),
            Ok(ClientKey::Ip("fd00::23".parse().unwrap()))
        );
    }

    #[test]
    fn client_keys_reject_everything_else() {
        for text in [
            "",
            "3c:22:fb:12:34",
            "3c:22:fb:12:34:56:78",
            "+c:22:fb:12:34:56",
            "zz:22:fb:12:34:56",
            "laptop",
        ] {
            assert!(text.parse::<ClientKey>().is_err(), "{text}");
        }
    }

    #[test]
    fn find_client_by_mac_or_by_any_of_its_addresses() {
        let snapshot = Snapshot {
            clients: vec![laptop()],
            health: Health::default(),
            export: Default::default(),
        };
        for key in ["3C-22-FB-12-34-56", "192.168.1.23", "fd00::23"] {
            let key: ClientKey = key.parse().unwrap();
            assert_eq!(
                find_client(&snapshot, &key).and_then(|c| c.hostname.as_deref()),
                Some("anna-laptop")
            );
        }
        let unknown: ClientKey = "3c:22:fb:12:34:57".parse().unwrap();
        assert!(find_client(&snapshot, &unknown).is_none());
    }

    #[test]
    fn error_documents_escape_their_message() {
        assert_eq!(
            parsed(&error("no \"client\" here")),
            json!({"error": "no \"client\" here"})
        );
    }
}
