//! The client_* families (DNS apart, see `dns`): each client's bandwidth,
//! LAN traffic, connections, domains, last frame and identity, and the
//! label sets they carry.
//!
//! Also owns the order clients are written in (MAC, then IP) and their `ip`
//! and `mac` label values, worked out once per render.

use super::{
    Exposition, Value, CLIENT_BANDWIDTH_BYTES, CLIENT_CONNECTIONS, CLIENT_CONNECTIONS_ACTIVE,
    CLIENT_DOMAIN_BYTES, CLIENT_DOMAIN_QUERIES, CLIENT_INFO, CLIENT_LAN_BYTES, CLIENT_LAST_SEEN,
    CLIENT_PACKETS,
};
use crate::track::{
    ClientSnapshot, Direction, DomainUsage, ExportSettings, ProtocolUsage, Snapshot, Traffic,
};

label_set! {
    /// The labels every client family starts with.
    Client<'a> { ip: &'a str, mac: &'a str }
}

label_set! {
    /// A client's traffic in one direction.
    ClientDirection<'a> { ip: &'a str, mac: &'a str, direction: Direction }
}

label_set! {
    /// A client's use of one protocol.
    ClientProtocol<'a> { ip: &'a str, mac: &'a str, protocol: &'a str }
}

label_set! {
    /// A client's traffic under one protocol in one direction.
    ProtocolDirection<'a> { ip: &'a str, mac: &'a str, protocol: &'a str, direction: Direction }
}

label_set! {
    /// A client's use of one domain.
    ClientDomain<'a> { ip: &'a str, mac: &'a str, domain: &'a str }
}

label_set! {
    /// A client's traffic with one domain in one direction.
    DomainDirection<'a> { ip: &'a str, mac: &'a str, domain: &'a str, direction: Direction }
}

label_set! {
    /// A client's identity, as `client_info` shows it.
    Info<'a> {
        ip: &'a str,
        mac: &'a str,
        hostname: &'a str,
        vendor: &'a str,
        randomized_mac: bool,
    }
}

const DIRECTIONS: [Direction; 2] = [Direction::Rx, Direction::Tx];

/// A client with its `ip` and `mac` label values worked out once.
pub struct Labelled<'a> {
    pub client: &'a ClientSnapshot,
    ip: String,
    mac: String,
    /// The client's protocols, ordered by name.
    pub protocols: Vec<&'a ProtocolUsage>,
}

impl Labelled<'_> {
    /// The client's own labels, which every client family starts with.
    pub fn labels(&self) -> Client<'_> {
        Client {
            ip: &self.ip,
            mac: &self.mac,
        }
    }

    fn direction(&self, direction: Direction) -> ClientDirection<'_> {
        ClientDirection {
            ip: &self.ip,
            mac: &self.mac,
            direction,
        }
    }

    fn protocol<'a>(&'a self, protocol: &'a str) -> ClientProtocol<'a> {
        ClientProtocol {
            ip: &self.ip,
            mac: &self.mac,
            protocol,
        }
    }

    fn protocol_direction<'a>(
        &'a self,
        protocol: &'a str,
        direction: Direction,
    ) -> ProtocolDirection<'a> {
        ProtocolDirection {
            ip: &self.ip,
            mac: &self.mac,
            protocol,
            direction,
        }
    }

    fn domain<'a>(&'a self, domain: &'a str) -> ClientDomain<'a> {
        ClientDomain {
            ip: &self.ip,
            mac: &self.mac,
            domain,
        }
    }

    fn domain_direction<'a>(
        &'a self,
        domain: &'a str,
        direction: Direction,
    ) -> DomainDirection<'a> {
        DomainDirection {
            ip: &self.ip,
            mac: &self.mac,
            domain,
            direction,
        }
    }
}

/// The clients in a fixed order (MAC, then IP), so the output does not
/// depend on the order the tracker's tables happened to yield them.
pub fn ordered(snapshot: &Snapshot) -> Vec<Labelled<'_>> {
    let mut clients: Vec<Labelled<'_>> = snapshot
        .clients
        .iter()
        .map(|client| {
            let mut protocols: Vec<&ProtocolUsage> = client.protocols.iter().collect();
            protocols.sort_by(|a, b| a.protocol.cmp(&b.protocol));
            Labelled {
                client,
                ip: client.ip_label(),
                mac: client.mac_label(),
                protocols,
            }
        })
        .collect();
    clients.sort_by_key(|c| (c.client.mac, c.client.ip));
    clients
}

/// Bandwidth, packets, LAN traffic and connections, in the table's order.
pub fn collect_traffic(out: &mut Exposition, clients: &[Labelled<'_>]) {
    bandwidth_bytes(out, clients);
    packets(out, clients);
    lan_bytes(out, clients);
    connections(out, clients);
    connections_active(out, clients);
}

/// Domains, last frame and identity, in the table's order.
pub fn collect_domains_and_identity(
    out: &mut Exposition,
    clients: &[Labelled<'_>],
    export: &ExportSettings,
) {
    let top = if export.dns_names {
        export.top_domains
    } else {
        0
    };
    domain_bytes(out, clients, top);
    domain_queries(out, clients, top);
    last_seen(out, clients);
    info(out, clients);
}

fn bandwidth_bytes(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_BANDWIDTH_BYTES);
    for c in clients {
        for p in &c.protocols {
            for direction in DIRECTIONS {
                let labels = c.protocol_direction(&p.protocol, direction);
                let value = bytes(&p.traffic, direction);
                out.sample(&CLIENT_BANDWIDTH_BYTES, labels, value);
            }
        }
    }
}

fn packets(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_PACKETS);
    for c in clients {
        for p in &c.protocols {
            for direction in DIRECTIONS {
                let labels = c.protocol_direction(&p.protocol, direction);
                let value = packet_count(&p.traffic, direction);
                out.sample(&CLIENT_PACKETS, labels, value);
            }
        }
    }
}

fn lan_bytes(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_LAN_BYTES);
    for c in clients {
        for direction in DIRECTIONS {
            let value = bytes(&c.client.lan, direction);
            out.sample(&CLIENT_LAN_BYTES, c.direction(direction), value);
        }
    }
}

fn connections(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_CONNECTIONS);
    for c in clients {
        for p in &c.protocols {
            let labels = c.protocol(&p.protocol);
            out.sample(&CLIENT_CONNECTIONS, labels, Value::Int(p.connections));
        }
    }
}

fn connections_active(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_CONNECTIONS_ACTIVE);
    for c in clients {
        let active = Value::Int(c.client.connections_active);
        out.sample(&CLIENT_CONNECTIONS_ACTIVE, c.labels(), active);
    }
}

/// The client's top `top` domains by bytes (the snapshot lists them so).
fn domain_bytes(out: &mut Exposition, clients: &[Labelled<'_>], top: usize) {
    out.family(&CLIENT_DOMAIN_BYTES);
    for c in clients {
        let by_bytes = c
            .client
            .domains
            .iter()
            .filter(|d| d.traffic.rx_bytes > 0 || d.traffic.tx_bytes > 0);
        for d in by_bytes.take(top) {
            for direction in DIRECTIONS {
                let labels = c.domain_direction(&d.domain, direction);
                out.sample(&CLIENT_DOMAIN_BYTES, labels, bytes(&d.traffic, direction));
            }
        }
    }
}

/// The client's top `top` domains by queries (ties by name).
fn domain_queries(out: &mut Exposition, clients: &[Labelled<'_>], top: usize) {
    out.family(&CLIENT_DOMAIN_QUERIES);
    for c in clients {
        let mut by_queries: Vec<&DomainUsage> =
            c.client.domains.iter().filter(|d| d.queries > 0).collect();
        by_queries.sort_by(|a, b| b.queries.cmp(&a.queries).then(a.domain.cmp(&b.domain)));
        for d in by_queries.into_iter().take(top) {
            let labels = c.domain(&d.domain);
            out.sample(&CLIENT_DOMAIN_QUERIES, labels, Value::Int(d.queries));
        }
    }
}

fn last_seen(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_LAST_SEEN);
    for c in clients {
        let last_seen = Value::Float(c.client.last_seen);
        out.sample(&CLIENT_LAST_SEEN, c.labels(), last_seen);
    }
}

fn info(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_INFO);
    for c in clients {
        let labels = Info {
            ip: &c.ip,
            mac: &c.mac,
            hostname: c.client.hostname.as_deref().unwrap_or(""),
            vendor: c.client.vendor.as_deref().unwrap_or(""),
            randomized_mac: c.client.randomized_mac,
        };
        out.sample(&CLIENT_INFO, labels, Value::Int(1));
    }
}

fn bytes(traffic: &Traffic, direction: Direction) -> Value {
    Value::Int(match direction {
        Direction::Rx => traffic.rx_bytes,
        Direction::Tx => traffic.tx_bytes,
    })
}

fn packet_count(traffic: &Traffic, direction: Direction) -> Value {
    Value::Int(match direction {
        Direction::Rx => traffic.rx_packets,
        Direction::Tx => traffic.tx_packets,
    })
}
