//! Snapshots: owned, consistent copies of the tracker's state.
//!
//! The capture worker is the only writer of the live tables; everything that
//! reads (the HTTP server, the terminal table, the report) works on a
//! `Snapshot` taken by that worker, so readers never hold up the packet path.

use serde::Serialize;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::Mac;

/// Traffic direction from the client's point of view.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Towards the client (download).
    Rx,
    /// From the client (upload).
    Tx,
}

impl Direction {
    pub fn label(self) -> &'static str {
        match self {
            Direction::Rx => "rx",
            Direction::Tx => "tx",
        }
    }
}

/// Bytes and packets in both directions.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Traffic {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
}

impl Traffic {
    pub fn add(&mut self, direction: Direction, bytes: u64) {
        match direction {
            Direction::Rx => {
                self.rx_bytes = self.rx_bytes.wrapping_add(bytes);
                self.rx_packets = self.rx_packets.wrapping_add(1);
            }
            Direction::Tx => {
                self.tx_bytes = self.tx_bytes.wrapping_add(bytes);
                self.tx_packets = self.tx_packets.wrapping_add(1);
            }
        }
    }

    pub fn merge(&mut self, other: &Traffic) {
        self.rx_bytes = self.rx_bytes.wrapping_add(other.rx_bytes);
        self.tx_bytes = self.tx_bytes.wrapping_add(other.tx_bytes);
        self.rx_packets = self.rx_packets.wrapping_add(other.rx_packets);
        self.tx_packets = self.tx_packets.wrapping_add(other.tx_packets);
    }
}

/// One protocol's bandwidth and connections for one client.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProtocolUsage {
    pub protocol: String,
    #[serde(flatten)]
    pub traffic: Traffic,
    /// Flows opened (connections total) under this protocol.
    pub connections: u64,
}

/// One client, as of the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct ClientSnapshot {
    /// The client's identity: its MAC, or None where the link carries none
    /// (then `ipv4`/`ipv6` hold the one address that identifies it).
    pub mac: Option<Mac>,
    /// The address used in the `ip` label: current IPv4, else most recent IPv6.
    pub ip: Option<IpAddr>,
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    pub hostname: Option<String>,
    pub vendor: Option<String>,
    pub randomized_mac: bool,
    /// Packet time of the first and last frame seen, seconds since the epoch.
    pub first_seen: f64,
    pub last_seen: f64,
    /// Bandwidth (client ↔ router or beyond), per protocol, sorted by name.
    pub protocols: Vec<ProtocolUsage>,
    /// LAN traffic (client ↔ client, broadcast, multicast).
    pub lan: Traffic,
    pub connections_active: u64,
    pub dns: DnsSnapshot,
    /// Domains the client queried or reached, most bytes first (then most
    /// queries, then name).
    pub domains: Vec<DomainUsage>,
    /// Where the identity came from, beyond hostname and vendor.
    pub identity: IdentitySnapshot,
}

/// What DHCP and friends said about a device.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct IdentitySnapshot {
    /// `dhcp`, `dhcp_fqdn`, `dhcpv6_fqdn`, `mdns` or `lease_file`.
    pub hostname_source: Option<String>,
    /// DHCP option 60.
    pub dhcp_vendor_class: Option<String>,
    /// DHCP option 55, the parameter request list: a fingerprint of the OS.
    pub dhcp_fingerprint: Option<String>,
    /// Seen within the activity window before the newest packet.
    pub active: bool,
}

/// A count under a name (a query type, an rcode).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NamedCount {
    pub name: String,
    pub count: u64,
}

/// Resolver latency as a Prometheus-style histogram.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct LatencySnapshot {
    /// (upper bound in seconds, cumulative count), `+Inf` excluded.
    pub buckets: Vec<(f64, u64)>,
    pub count: u64,
    pub sum_seconds: f64,
}

/// Queries that went around the router's resolver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BypassSnapshot {
    /// Plain DNS queries to resolvers outside the LAN.
    pub other_resolver: u64,
    /// DNS over TLS/QUIC connections (port 853).
    pub dot: u64,
    /// TLS connections to well-known DNS-over-HTTPS resolvers.
    pub doh: u64,
}

/// A client's DNS, as of the snapshot.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DnsSnapshot {
    /// Query messages by the type of their question, sorted by type name.
    pub queries: Vec<NamedCount>,
    /// Responses received, by rcode name.
    pub responses: Vec<NamedCount>,
    pub mdns_queries: u64,
    /// Distinct names queried in the last 24 h (exact up to the bound).
    pub unique_domains: u64,
    pub unique_evictions: u64,
    pub domain_evictions: u64,
    pub bypass: BypassSnapshot,
    pub latency: LatencySnapshot,
}

impl DnsSnapshot {
    pub fn queries_total(&self) -> u64 {
        self.queries.iter().map(|q| q.count).sum()
    }
}

/// What one client did with one domain.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct DomainUsage {
    pub domain: String,
    pub queries: u64,
    #[serde(flatten)]
    pub traffic: Traffic,
    /// Connections attributed to the domain (DNS answer or TLS server name).
    pub connections: u64,
    pub first_seen: f64,
    pub last_seen: f64,
}

impl ClientSnapshot {
    /// Bandwidth summed over all protocols.
    pub fn bandwidth(&self) -> Traffic {
        let mut total = Traffic::default();
        for p in &self.protocols {
            total.merge(&p.traffic);
        }
        total
    }

    pub fn connections_total(&self) -> u64 {
        self.protocols.iter().map(|p| p.connections).sum()
    }

    /// `mac` label value: the MAC, or empty where there is none.
    pub fn mac_label(&self) -> String {
        self.mac.map(|m| m.to_string()).unwrap_or_default()
    }

    /// `ip` label value, empty if the client has no address yet.
    pub fn ip_label(&self) -> String {
        self.ip.map(|ip| ip.to_string()).unwrap_or_default()
    }
}

#[cfg(test)]
impl ClientSnapshot {
    /// A client known by its MAC and `ip` and nothing else: a test sets the
    /// fields its rule is about and leaves the rest at their defaults.
    pub fn test_client(mac: Mac, ip: IpAddr) -> ClientSnapshot {
        ClientSnapshot {
            mac: Some(mac),
            ip: Some(ip),
            ..ClientSnapshot::default()
        }
    }
}

/// Frames by what became of them.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct PacketOutcomes {
    /// Counted as a client's bandwidth.
    pub accounted: u64,
    /// Counted as a client's LAN traffic.
    pub lan: u64,
    /// IP, but no client on either side (router's own, transit, WAN ↔ WAN).
    pub no_client: u64,
    /// Not IP (ARP, LLDP, ...).
    pub not_ip: u64,
    /// Could not be decoded (bad header, truncated before the IP lengths).
    pub malformed: u64,
    /// Skipped as a duplicate: a bridged frame seen leaving another port.
    pub duplicate: u64,
    /// To or from a device excluded from monitoring (`--exclude-mac`).
    pub excluded: u64,
}

/// What became of a frame: the `outcome` of `lanwatch_packets_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PacketOutcome {
    Accounted,
    Lan,
    NoClient,
    NotIp,
    Malformed,
    Duplicate,
    Excluded,
}

impl PacketOutcome {
    pub fn label(self) -> &'static str {
        match self {
            PacketOutcome::Accounted => "accounted",
            PacketOutcome::Lan => "lan",
            PacketOutcome::NoClient => "no_client",
            PacketOutcome::NotIp => "not_ip",
            PacketOutcome::Malformed => "malformed",
            PacketOutcome::Duplicate => "duplicate",
            PacketOutcome::Excluded => "excluded",
        }
    }
}

impl PacketOutcomes {
    /// Every outcome with its count, in the order they are exported.
    pub fn by_outcome(&self) -> [(PacketOutcome, u64); 7] {
        [
            (PacketOutcome::Accounted, self.accounted),
            (PacketOutcome::Lan, self.lan),
            (PacketOutcome::NoClient, self.no_client),
            (PacketOutcome::NotIp, self.not_ip),
            (PacketOutcome::Malformed, self.malformed),
            (PacketOutcome::Duplicate, self.duplicate),
            (PacketOutcome::Excluded, self.excluded),
        ]
    }
}

/// A bounded table whose evictions are counted: the `table` of
/// `lanwatch_evictions_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EvictionTable {
    Clients,
    Flows,
    Domains,
    DnsAnswers,
    Devices,
    Fragments,
}

impl EvictionTable {
    pub fn label(self) -> &'static str {
        match self {
            EvictionTable::Clients => "clients",
            EvictionTable::Flows => "flows",
            EvictionTable::Domains => "domains",
            EvictionTable::DnsAnswers => "dns_answers",
            EvictionTable::Devices => "devices",
            EvictionTable::Fragments => "fragments",
        }
    }
}

/// The daemon's own health.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Health {
    pub packets: PacketOutcomes,
    pub kernel_packets: u64,
    pub kernel_drops: u64,
    pub clients: u64,
    pub flows: u64,
    pub max_clients: u64,
    pub max_flows: u64,
    pub client_evictions: u64,
    pub flow_evictions: u64,
    /// Distinct-name and named-domain entries evicted from clients' DNS tables.
    pub domain_evictions: u64,
    /// DNS answer addresses evicted before they expired.
    pub dns_answer_evictions: u64,
    /// Device identities (DHCP, mDNS, lease file) evicted.
    pub device_evictions: u64,
    /// First fragments' transport headers dropped at the fragment table's
    /// bound (a flood of fragments that never complete).
    pub fragment_evictions: u64,
    /// DNS messages seen (port 53 and mDNS), and how many did not parse.
    pub dns_messages: u64,
    pub dns_malformed: u64,
    /// Answer addresses held for naming flows.
    pub dns_answers: u64,
    /// Packet time of the newest frame, seconds since the epoch.
    pub last_packet_time: f64,
    /// How long the writer took to build this snapshot.
    pub snapshot_duration_seconds: f64,
    /// The process's own figures when the snapshot was taken.
    pub process: ProcessStats,
    /// Flow offloading on the router, as last detected (live capture only;
    /// None in a replay, where it does not apply).
    pub flow_offload: Option<FlowOffload>,
    /// How the saves of the state file went (None: no `--state-file`).
    pub state_saves: Option<crate::state_file::StateSaves>,
}

impl Health {
    /// Evictions of every bounded table, in the order they are exported.
    pub fn evictions(&self) -> [(EvictionTable, u64); 6] {
        [
            (EvictionTable::Clients, self.client_evictions),
            (EvictionTable::Flows, self.flow_evictions),
            (EvictionTable::Domains, self.domain_evictions),
            (EvictionTable::DnsAnswers, self.dns_answer_evictions),
            (EvictionTable::Devices, self.device_evictions),
            (EvictionTable::Fragments, self.fragment_evictions),
        ]
    }
}

/// The figures of the standard `process_*` families (filled in by the
/// capture worker from procfs, see `system::process`; 0 where unknown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct ProcessStats {
    /// Start time of the process, seconds since the epoch.
    pub start_time_seconds: f64,
    /// User and system CPU time spent, seconds.
    pub cpu_seconds_total: f64,
    pub resident_memory_bytes: u64,
    pub virtual_memory_bytes: u64,
    pub open_fds: u64,
    /// The soft limit on open file descriptors (`u64::MAX`: unlimited).
    pub max_fds: u64,
}

/// Whether the router offloads forwarded flows past the capture, and what
/// that means for the counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct FlowOffload {
    /// Software flow offloading (a netfilter flowtable) is on.
    pub software: bool,
    /// Hardware flow offloading is on: offloaded flows never reach the CPU.
    pub hardware: bool,
    /// Forwarded traffic bypasses the capture interfaces, so the counts are
    /// incomplete (hardware offload, or software offload with a capture on
    /// the bridge device rather than its member ports).
    pub incomplete: bool,
}

/// How much of the state export may show (privacy and cardinality).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct ExportSettings {
    /// Domains per client exported as labels (by bytes, and by queries).
    pub top_domains: usize,
    /// Export domain names at all (false: DNS counts only).
    pub dns_names: bool,
}

impl Default for ExportSettings {
    fn default() -> Self {
        ExportSettings {
            top_domains: 10,
            dns_names: true,
        }
    }
}

/// Everything export needs, owned and consistent.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Snapshot {
    pub clients: Vec<ClientSnapshot>,
    pub health: Health,
    pub export: ExportSettings,
}
