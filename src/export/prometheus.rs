//! Prometheus text exposition (format 0.0.4) of a [`Snapshot`].
//!
//! Written by hand rather than with the `prometheus` crate: the binary runs on
//! routers where every hundred kilobytes count, and a snapshot is already the
//! collected state, so all that is left is formatting.
//!
//! Every metric family — name, type, help text and label names — is declared
//! once, in the `FAMILIES` block below, in the order of the design's metric
//! table. `render` walks that order and fills each family from the snapshot.
//! The same snapshot always renders to the same bytes: clients are ordered by
//! MAC then IP and protocols by name, whatever order the tracker used, so
//! `replay --format prometheus` prints exactly what `/metrics` serves.

use std::fmt::Write as _;

use crate::track::{
    ClientSnapshot, Direction, DomainUsage, LatencySnapshot, ProtocolUsage, Snapshot, Traffic,
};

/// The `Content-Type` of the exposition, as `/metrics` sends it.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

// ---------------------------------------------------------------------------
// Metric families, in the order of the design's metric table.
// ---------------------------------------------------------------------------

/// Client families carry these two labels first.
const CLIENT: [&str; 2] = ["ip", "mac"];

pub const CLIENT_BANDWIDTH_BYTES: Family = Family {
    name: "client_bandwidth_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes between the client and the router or beyond, by protocol; direction rx is download, tx upload.",
    labels: &["ip", "mac", "protocol", "direction"],
};

pub const CLIENT_PACKETS: Family = Family {
    name: "client_packets_total",
    kind: Kind::Counter,
    help: "Packets between the client and the router or beyond, by protocol; direction rx is download, tx upload.",
    labels: &["ip", "mac", "protocol", "direction"],
};

pub const CLIENT_LAN_BYTES: Family = Family {
    name: "client_lan_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes between the client and other LAN hosts, broadcast or multicast; not bandwidth.",
    labels: &["ip", "mac", "direction"],
};

pub const CLIENT_CONNECTIONS: Family = Family {
    name: "client_connections_total",
    kind: Kind::Counter,
    help: "Connections (flows) the client opened with the router or beyond, by protocol.",
    labels: &["ip", "mac", "protocol"],
};

pub const CLIENT_CONNECTIONS_ACTIVE: Family = Family {
    name: "client_connections_active",
    kind: Kind::Gauge,
    help: "Connections (flows) of the client that are currently open.",
    labels: &CLIENT,
};

pub const CLIENT_DNS_QUERIES: Family = Family {
    name: "client_dns_queries_total",
    kind: Kind::Counter,
    help: "DNS query messages the client sent to port 53, by the type of their question.",
    labels: &["ip", "mac", "query_type"],
};

pub const CLIENT_DNS_RESPONSES: Family = Family {
    name: "client_dns_responses_total",
    kind: Kind::Counter,
    help: "DNS responses the client received from port 53, by rcode.",
    labels: &["ip", "mac", "rcode"],
};

pub const CLIENT_DNS_UNIQUE_DOMAINS: Family = Family {
    name: "client_dns_unique_domains",
    kind: Kind::Gauge,
    help:
        "Distinct names the client queried in the last 24 hours (exact up to the per-client bound).",
    labels: &CLIENT,
};

pub const CLIENT_DNS_LATENCY: Family = Family {
    name: "client_dns_latency_seconds",
    kind: Kind::Histogram,
    help: "Time from the client's DNS query to the response, matched by id and 5-tuple.",
    labels: &CLIENT,
};

pub const CLIENT_DNS_BYPASS: Family = Family {
    name: "client_dns_bypass_queries_total",
    kind: Kind::Counter,
    help: "DNS that went around the router's resolver: kind other_resolver counts plain queries to resolvers outside the LAN, dot and doh count DNS-over-TLS/QUIC and DNS-over-HTTPS connections.",
    labels: &["ip", "mac", "kind"],
};

pub const CLIENT_MDNS_QUERIES: Family = Family {
    name: "client_mdns_queries_total",
    kind: Kind::Counter,
    help: "mDNS query messages the client sent (counted apart from DNS).",
    labels: &CLIENT,
};

pub const CLIENT_DOMAIN_BYTES: Family = Family {
    name: "client_domain_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes of the client's connections attributed to a domain (DNS answer or TLS server name), for its top domains by bytes.",
    labels: &["ip", "mac", "domain", "direction"],
};

pub const CLIENT_DOMAIN_QUERIES: Family = Family {
    name: "client_domain_queries_total",
    kind: Kind::Counter,
    help: "DNS queries the client sent for a domain, for its most-queried domains.",
    labels: &["ip", "mac", "domain"],
};

pub const CLIENT_LAST_SEEN: Family = Family {
    name: "client_last_seen_timestamp_seconds",
    kind: Kind::Gauge,
    help: "Packet time of the client's last frame, seconds since the Unix epoch.",
    labels: &CLIENT,
};

pub const CLIENT_INFO: Family = Family {
    name: "client_info",
    kind: Kind::Gauge,
    help: "Identity of the client (always 1): hostname from DHCP, vendor from the MAC prefix, whether the MAC is randomized.",
    labels: &["ip", "mac", "hostname", "vendor", "randomized_mac"],
};

// The standard process families, with the names, types and help texts of
// the official client libraries (client_golang, client_python), so
// dashboards made for any exporter work.

pub const PROCESS_CPU_SECONDS: Family = Family {
    name: "process_cpu_seconds_total",
    kind: Kind::Counter,
    help: "Total user and system CPU time spent in seconds.",
    labels: &[],
};

pub const PROCESS_OPEN_FDS: Family = Family {
    name: "process_open_fds",
    kind: Kind::Gauge,
    help: "Number of open file descriptors.",
    labels: &[],
};

pub const PROCESS_MAX_FDS: Family = Family {
    name: "process_max_fds",
    kind: Kind::Gauge,
    help: "Maximum number of open file descriptors.",
    labels: &[],
};

pub const PROCESS_VIRTUAL_MEMORY: Family = Family {
    name: "process_virtual_memory_bytes",
    kind: Kind::Gauge,
    help: "Virtual memory size in bytes.",
    labels: &[],
};

pub const PROCESS_RESIDENT_MEMORY: Family = Family {
    name: "process_resident_memory_bytes",
    kind: Kind::Gauge,
    help: "Resident memory size in bytes.",
    labels: &[],
};

pub const PROCESS_START_TIME: Family = Family {
    name: "process_start_time_seconds",
    kind: Kind::Gauge,
    help: "Start time of the process since unix epoch in seconds.",
    labels: &[],
};

pub const LANWATCH_PACKETS: Family = Family {
    name: "lanwatch_packets_total",
    kind: Kind::Counter,
    help: "Captured frames by what became of them.",
    labels: &["outcome"],
};

pub const LANWATCH_KERNEL_PACKETS: Family = Family {
    name: "lanwatch_kernel_packets_total",
    kind: Kind::Counter,
    help: "Frames the kernel passed to the capture sockets (PACKET_STATISTICS).",
    labels: &[],
};

pub const LANWATCH_KERNEL_DROPS: Family = Family {
    name: "lanwatch_kernel_drops_total",
    kind: Kind::Counter,
    help: "Frames the kernel dropped because the capture ring was full (PACKET_STATISTICS).",
    labels: &[],
};

pub const LANWATCH_FLOW_OFFLOAD: Family = Family {
    name: "lanwatch_flow_offload",
    kind: Kind::Gauge,
    help: "Whether the router offloads forwarded flows (1) or not (0), by kind; live capture only.",
    labels: &["kind"],
};

pub const LANWATCH_CAPTURE_INCOMPLETE: Family = Family {
    name: "lanwatch_capture_incomplete",
    kind: Kind::Gauge,
    help: "1 when flow offloading makes forwarded traffic bypass the capture interfaces, so the counts are incomplete; live capture only.",
    labels: &[],
};

pub const LANWATCH_CLIENTS: Family = Family {
    name: "lanwatch_clients",
    kind: Kind::Gauge,
    help: "Clients in the client table.",
    labels: &[],
};

pub const LANWATCH_CLIENTS_MAX: Family = Family {
    name: "lanwatch_clients_max",
    kind: Kind::Gauge,
    help: "Configured bound of the client table.",
    labels: &[],
};

pub const LANWATCH_FLOWS: Family = Family {
    name: "lanwatch_flows",
    kind: Kind::Gauge,
    help: "Flows in the flow table.",
    labels: &[],
};

pub const LANWATCH_FLOWS_MAX: Family = Family {
    name: "lanwatch_flows_max",
    kind: Kind::Gauge,
    help: "Configured bound of the flow table.",
    labels: &[],
};

pub const LANWATCH_EVICTIONS: Family = Family {
    name: "lanwatch_evictions_total",
    kind: Kind::Counter,
    help: "Entries evicted because their table was full.",
    labels: &["table"],
};

pub const LANWATCH_DNS_MESSAGES: Family = Family {
    name: "lanwatch_dns_messages_total",
    kind: Kind::Counter,
    help: "DNS and mDNS messages seen, by whether they parsed.",
    labels: &["outcome"],
};

pub const LANWATCH_DNS_ANSWERS: Family = Family {
    name: "lanwatch_dns_answers",
    kind: Kind::Gauge,
    help: "DNS answer addresses held to name later connections.",
    labels: &[],
};

pub const LANWATCH_LAST_PACKET: Family = Family {
    name: "lanwatch_last_packet_timestamp_seconds",
    kind: Kind::Gauge,
    help: "Packet time of the newest frame, seconds since the Unix epoch (0 before the first).",
    labels: &[],
};

pub const LANWATCH_SNAPSHOT_DURATION: Family = Family {
    name: "lanwatch_snapshot_duration_seconds",
    kind: Kind::Gauge,
    help: "Time the capture worker took to build the snapshot this scrape shows.",
    labels: &[],
};

pub const LANWATCH_STATE_SAVES: Family = Family {
    name: "lanwatch_state_saves_total",
    kind: Kind::Counter,
    help: "Saves of the state file (--state-file) since the start, by outcome (ok, error); none without one.",
    labels: &["outcome"],
};

pub const LANWATCH_BUILD_INFO: Family = Family {
    name: "lanwatch_build_info",
    kind: Kind::Gauge,
    help: "Version and platform of the lanwatch binary (always 1).",
    labels: &["version", "arch", "os"],
};

/// Every family, in the order `render` writes them.
pub const FAMILIES: [&Family; 37] = [
    &CLIENT_BANDWIDTH_BYTES,
    &CLIENT_PACKETS,
    &CLIENT_LAN_BYTES,
    &CLIENT_CONNECTIONS,
    &CLIENT_CONNECTIONS_ACTIVE,
    &CLIENT_DNS_QUERIES,
    &CLIENT_DNS_RESPONSES,
    &CLIENT_DNS_UNIQUE_DOMAINS,
    &CLIENT_DNS_LATENCY,
    &CLIENT_DNS_BYPASS,
    &CLIENT_MDNS_QUERIES,
    &CLIENT_DOMAIN_BYTES,
    &CLIENT_DOMAIN_QUERIES,
    &CLIENT_LAST_SEEN,
    &CLIENT_INFO,
    &PROCESS_CPU_SECONDS,
    &PROCESS_OPEN_FDS,
    &PROCESS_MAX_FDS,
    &PROCESS_VIRTUAL_MEMORY,
    &PROCESS_RESIDENT_MEMORY,
    &PROCESS_START_TIME,
    &LANWATCH_PACKETS,
    &LANWATCH_KERNEL_PACKETS,
    &LANWATCH_KERNEL_DROPS,
    &LANWATCH_FLOW_OFFLOAD,
    &LANWATCH_CAPTURE_INCOMPLETE,
    &LANWATCH_CLIENTS,
    &LANWATCH_CLIENTS_MAX,
    &LANWATCH_FLOWS,
    &LANWATCH_FLOWS_MAX,
    &LANWATCH_EVICTIONS,
    &LANWATCH_DNS_MESSAGES,
    &LANWATCH_DNS_ANSWERS,
    &LANWATCH_LAST_PACKET,
    &LANWATCH_SNAPSHOT_DURATION,
    &LANWATCH_STATE_SAVES,
    &LANWATCH_BUILD_INFO,
];

/// A metric family's description: what `# HELP` and `# TYPE` say, and the
/// names of the labels every sample carries, in order.
#[derive(Debug)]
pub struct Family {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

/// The metric types lanwatch uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Counter,
    Gauge,
    /// Written as `_bucket{le}`, `_sum` and `_count` series.
    Histogram,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
            Kind::Histogram => "histogram",
        }
    }
}

// ---------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------

/// Renders the whole exposition for one snapshot.
pub fn render(snapshot: &Snapshot) -> String {
    let clients = ordered_clients(snapshot);
    // About 120 bytes a sample; a client with a few protocols has a few dozen.
    let mut out = Exposition::with_capacity(
        4096_usize.saturating_add(
            clients
                .iter()
                .map(|c| c.protocols.len().saturating_mul(6).saturating_add(6))
                .fold(0_usize, usize::saturating_add)
                .saturating_mul(120),
        ),
    );

    out.family(&CLIENT_BANDWIDTH_BYTES);
    for c in &clients {
        for p in &c.protocols {
            for direction in [Direction::Rx, Direction::Tx] {
                let labels = [c.ip(), c.mac(), p.protocol.as_str(), direction.label()];
                out.sample(
                    &CLIENT_BANDWIDTH_BYTES,
                    &labels,
                    bytes(&p.traffic, direction),
                );
            }
        }
    }

    out.family(&CLIENT_PACKETS);
    for c in &clients {
        for p in &c.protocols {
            for direction in [Direction::Rx, Direction::Tx] {
                let labels = [c.ip(), c.mac(), p.protocol.as_str(), direction.label()];
                out.sample(&CLIENT_PACKETS, &labels, packets(&p.traffic, direction));
            }
        }
    }

    out.family(&CLIENT_LAN_BYTES);
    for c in &clients {
        for direction in [Direction::Rx, Direction::Tx] {
            let labels = [c.ip(), c.mac(), direction.label()];
            out.sample(&CLIENT_LAN_BYTES, &labels, bytes(&c.client.lan, direction));
        }
    }

    out.family(&CLIENT_CONNECTIONS);
    for c in &clients {
        for p in &c.protocols {
            let labels = [c.ip(), c.mac(), p.protocol.as_str()];
            out.sample(&CLIENT_CONNECTIONS, &labels, Value::Int(p.connections));
        }
    }

    out.family(&CLIENT_CONNECTIONS_ACTIVE);
    for c in &clients {
        let active = Value::Int(c.client.connections_active);
        out.sample(&CLIENT_CONNECTIONS_ACTIVE, &[c.ip(), c.mac()], active);
    }

    out.family(&CLIENT_DNS_QUERIES);
    for c in &clients {
        for q in &c.client.dns.queries {
            let labels = [c.ip(), c.mac(), q.name.as_str()];
            out.sample(&CLIENT_DNS_QUERIES, &labels, Value::Int(q.count));
        }
    }

    out.family(&CLIENT_DNS_RESPONSES);
    for c in &clients {
        for r in &c.client.dns.responses {
            let labels = [c.ip(), c.mac(), r.name.as_str()];
            out.sample(&CLIENT_DNS_RESPONSES, &labels, Value::Int(r.count));
        }
    }

    out.family(&CLIENT_DNS_UNIQUE_DOMAINS);
    for c in &clients {
        let unique = Value::Int(c.client.dns.unique_domains);
        out.sample(&CLIENT_DNS_UNIQUE_DOMAINS, &[c.ip(), c.mac()], unique);
    }

    out.family(&CLIENT_DNS_LATENCY);
    for c in clients.iter().filter(|c| c.client.dns.latency.count > 0) {
        out.histogram(
            &CLIENT_DNS_LATENCY,
            &[c.ip(), c.mac()],
            &c.client.dns.latency,
        );
    }

    out.family(&CLIENT_DNS_BYPASS);
    for c in &clients {
        let b = &c.client.dns.bypass;
        for (kind, n) in [
            ("other_resolver", b.other_resolver),
            ("dot", b.dot),
            ("doh", b.doh),
        ] {
            out.sample(&CLIENT_DNS_BYPASS, &[c.ip(), c.mac(), kind], Value::Int(n));
        }
    }

    out.family(&CLIENT_MDNS_QUERIES);
    for c in &clients {
        let n = Value::Int(c.client.dns.mdns_queries);
        out.sample(&CLIENT_MDNS_QUERIES, &[c.ip(), c.mac()], n);
    }

    let top = if snapshot.export.dns_names {
        snapshot.export.top_domains
    } else {
        0
    };
    out.family(&CLIENT_DOMAIN_BYTES);
    for c in &clients {
        // The snapshot lists domains by bytes, most first.
        let by_bytes = c
            .client
            .domains
            .iter()
            .filter(|d| d.traffic.rx_bytes > 0 || d.traffic.tx_bytes > 0);
        for d in by_bytes.take(top) {
            for direction in [Direction::Rx, Direction::Tx] {
                let labels = [c.ip(), c.mac(), d.domain.as_str(), direction.label()];
                out.sample(&CLIENT_DOMAIN_BYTES, &labels, bytes(&d.traffic, direction));
            }
        }
    }

    out.family(&CLIENT_DOMAIN_QUERIES);
    for c in &clients {
        let mut by_queries: Vec<&DomainUsage> =
            c.client.domains.iter().filter(|d| d.queries > 0).collect();
        by_queries.sort_by(|a, b| b.queries.cmp(&a.queries).then(a.domain.cmp(&b.domain)));
        for d in by_queries.into_iter().take(top) {
            let labels = [c.ip(), c.mac(), d.domain.as_str()];
            out.sample(&CLIENT_DOMAIN_QUERIES, &labels, Value::Int(d.queries));
        }
    }

    out.family(&CLIENT_LAST_SEEN);
    for c in &clients {
        let last_seen = Value::Float(c.client.last_seen);
        out.sample(&CLIENT_LAST_SEEN, &[c.ip(), c.mac()], last_seen);
    }

    out.family(&CLIENT_INFO);
    for c in &clients {
        let labels = [
            c.ip(),
            c.mac(),
            c.client.hostname.as_deref().unwrap_or(""),
            c.client.vendor.as_deref().unwrap_or(""),
            if c.client.randomized_mac {
                "true"
            } else {
                "false"
            },
        ];
        out.sample(&CLIENT_INFO, &labels, Value::Int(1));
    }

    let p = &snapshot.health.process;
    out.single(&PROCESS_CPU_SECONDS, Value::Float(p.cpu_seconds_total));
    out.single(&PROCESS_OPEN_FDS, Value::Int(p.open_fds));
    out.single(&PROCESS_MAX_FDS, Value::Int(p.max_fds));
    out.single(&PROCESS_VIRTUAL_MEMORY, Value::Int(p.virtual_memory_bytes));
    out.single(
        &PROCESS_RESIDENT_MEMORY,
        Value::Int(p.resident_memory_bytes),
    );
    out.single(&PROCESS_START_TIME, Value::Float(p.start_time_seconds));

    let h = &snapshot.health;
    out.family(&LANWATCH_PACKETS);
    for (outcome, count) in [
        ("accounted", h.packets.accounted),
        ("lan", h.packets.lan),
        ("no_client", h.packets.no_client),
        ("not_ip", h.packets.not_ip),
        ("malformed", h.packets.malformed),
        ("duplicate", h.packets.duplicate),
        ("excluded", h.packets.excluded),
    ] {
        out.sample(&LANWATCH_PACKETS, &[outcome], Value::Int(count));
    }

    out.single(&LANWATCH_KERNEL_PACKETS, Value::Int(h.kernel_packets));
    out.single(&LANWATCH_KERNEL_DROPS, Value::Int(h.kernel_drops));

    // Families without samples in a replay, where offloading does not apply.
    let gauge = |on: bool| Value::Int(u64::from(on));
    out.family(&LANWATCH_FLOW_OFFLOAD);
    if let Some(offload) = h.flow_offload {
        for (kind, on) in [
            ("software", offload.software),
            ("hardware", offload.hardware),
        ] {
            out.sample(&LANWATCH_FLOW_OFFLOAD, &[kind], gauge(on));
        }
    }
    out.family(&LANWATCH_CAPTURE_INCOMPLETE);
    if let Some(offload) = h.flow_offload {
        out.sample(&LANWATCH_CAPTURE_INCOMPLETE, &[], gauge(offload.incomplete));
    }
    out.single(&LANWATCH_CLIENTS, Value::Int(h.clients));
    out.single(&LANWATCH_CLIENTS_MAX, Value::Int(h.max_clients));
    out.single(&LANWATCH_FLOWS, Value::Int(h.flows));
    out.single(&LANWATCH_FLOWS_MAX, Value::Int(h.max_flows));

    out.family(&LANWATCH_EVICTIONS);
    out.sample(
        &LANWATCH_EVICTIONS,
        &["clients"],
        Value::Int(h.client_evictions),
    );
    out.sample(
        &LANWATCH_EVICTIONS,
        &["flows"],
        Value::Int(h.flow_evictions),
    );
    out.sample(
        &LANWATCH_EVICTIONS,
        &["domains"],
        Value::Int(h.domain_evictions),
    );
    out.sample(
        &LANWATCH_EVICTIONS,
        &["dns_answers"],
        Value::Int(h.dns_answer_evictions),
    );
    out.sample(
        &LANWATCH_EVICTIONS,
        &["devices"],
        Value::Int(h.device_evictions),
    );
    out.sample(
        &LANWATCH_EVICTIONS,
        &["fragments"],
        Value::Int(h.fragment_evictions),
    );

    out.family(&LANWATCH_DNS_MESSAGES);
    let parsed = h.dns_messages.saturating_sub(h.dns_malformed);
    out.sample(&LANWATCH_DNS_MESSAGES, &["parsed"], Value::Int(parsed));
    out.sample(
        &LANWATCH_DNS_MESSAGES,
        &["malformed"],
        Value::Int(h.dns_malformed),
    );

    out.single(&LANWATCH_DNS_ANSWERS, Value::Int(h.dns_answers));

    out.single(&LANWATCH_LAST_PACKET, Value::Float(h.last_packet_time));
    let duration = Value::Float(h.snapshot_duration_seconds);
    out.single(&LANWATCH_SNAPSHOT_DURATION, duration);

    out.family(&LANWATCH_STATE_SAVES);
    if let Some(saves) = h.state_saves {
        out.sample(&LANWATCH_STATE_SAVES, &["ok"], Value::Int(saves.ok));
        out.sample(&LANWATCH_STATE_SAVES, &["error"], Value::Int(saves.error));
    }

    out.family(&LANWATCH_BUILD_INFO);
    let build = [
        env!("CARGO_PKG_VERSION"),
        std::env::consts::ARCH,
        std::env::consts::OS,
    ];
    out.sample(&LANWATCH_BUILD_INFO, &build, Value::Int(1));

    out.finish()
}

/// A client with its `ip` and `mac` label values worked out once.
struct Labelled<'a> {
    client: &'a ClientSnapshot,
    ip: String,
    mac: String,
    /// The client's protocols, ordered by name.
    protocols: Vec<&'a ProtocolUsage>,
}

impl Labelled<'_> {
    fn ip(&self) -> &str {
        &self.ip
    }

    fn mac(&self) -> &str {
        &self.mac
    }
}

/// The clients in a fixed order (MAC, then IP), so the output does not
/// depend on the order the tracker's tables happened to yield them.
fn ordered_clients(snapshot: &Snapshot) -> Vec<Labelled<'_>> {
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

fn bytes(traffic: &Traffic, direction: Direction) -> Value {
    Value::Int(match direction {
        Direction::Rx => traffic.rx_bytes,
        Direction::Tx => traffic.tx_bytes,
    })
}

fn packets(traffic: &Traffic, direction: Direction) -> Value {
    Value::Int(match direction {
        Direction::Rx => traffic.rx_packets,
        Direction::Tx => traffic.tx_packets,
    })
}

/// A sample value: counters are exact integers, times are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

/// The text output being built.
struct Exposition {
    out: String,
}

impl Exposition {
    fn with_capacity(capacity: usize) -> Exposition {
        Exposition {
            out: String::with_capacity(capacity),
        }
    }

    /// Writes a family's `# HELP` and `# TYPE` lines.
    fn family(&mut self, family: &Family) {
        let out = &mut self.out;
        out.push_str("# HELP ");
        out.push_str(family.name);
        out.push(' ');
        push_escaped_help(out, family.help);
        out.push_str("\n# TYPE ");
        out.push_str(family.name);
        out.push(' ');
        out.push_str(family.kind.as_str());
        out.push('\n');
    }

    /// Writes one sample; `values` pair up with the family's label names.
    fn sample(&mut self, family: &Family, values: &[&str], value: Value) {
        debug_assert_eq!(
            values.len(),
            family.labels.len(),
            "{} takes labels {:?}",
            family.name,
            family.labels
        );
        self.labelled(family.name, family.labels, values, None, value);
    }

    /// Writes a histogram's cumulative buckets, `+Inf`, sum and count.
    fn histogram(&mut self, family: &Family, values: &[&str], h: &LatencySnapshot) {
        let bucket = format!("{}_bucket", family.name);
        for (le, count) in &h.buckets {
            let mut text = String::new();
            push_value(&mut text, Value::Float(*le));
            let le = text;
            self.labelled(
                &bucket,
                family.labels,
                values,
                Some(&le),
                Value::Int(*count),
            );
        }
        self.labelled(
            &bucket,
            family.labels,
            values,
            Some("+Inf"),
            Value::Int(h.count),
        );
        let sum = format!("{}_sum", family.name);
        self.labelled(
            &sum,
            family.labels,
            values,
            None,
            Value::Float(h.sum_seconds),
        );
        let count = format!("{}_count", family.name);
        self.labelled(&count, family.labels, values, None, Value::Int(h.count));
    }

    /// One series: a name, its labels (plus a histogram's `le`) and value;
    /// no braces when there are no labels.
    fn labelled(
        &mut self,
        name: &str,
        labels: &[&str],
        values: &[&str],
        le: Option<&str>,
        value: Value,
    ) {
        let out = &mut self.out;
        out.push_str(name);
        let pairs = labels.iter().zip(values).map(|(l, v)| (*l, *v, true));
        let pairs = pairs.chain(le.map(|le| ("le", le, false)));
        let mut open = false;
        for (label, v, escape) in pairs {
            out.push(if open { ',' } else { '{' });
            open = true;
            out.push_str(label);
            out.push_str("=\"");
            if escape {
                push_escaped_label_value(out, v);
            } else {
                out.push_str(v);
            }
            out.push('"');
        }
        if open {
            out.push('}');
        }
        out.push(' ');
        push_value(out, value);
        out.push('\n');
    }

    /// A family with a single unlabelled sample.
    fn single(&mut self, family: &Family, value: Value) {
        self.family(family);
        self.sample(family, &[], value);
    }

    fn finish(self) -> String {
        self.out
    }
}

/// Label values escape backslash, double quote and line feed.
pub(crate) fn push_escaped_label_value(out: &mut String, value: &str) {
    for ch in value.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            _ => out.push(ch),
        }
    }
}

/// Help text escapes backslash and line feed (a quote is literal there).
fn push_escaped_help(out: &mut String, help: &str) {
    for ch in help.chars() {
        match ch {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            _ => out.push(ch),
        }
    }
}

/// Largest magnitude below which every integer is exact in an f64.
const EXACT_INTEGER_LIMIT: f64 = 9_007_199_254_740_992.0; // 2^53

/// Writes a value the way Prometheus reads it: integers in plain digits,
/// other finite floats in the shortest form that reads back to the same
/// number, and `+Inf`, `-Inf`, `NaN` for the rest.
fn push_value(out: &mut String, value: Value) {
    match value {
        Value::Int(n) => {
            let _ = write!(out, "{n}");
        }
        Value::Float(f) if f.is_nan() => out.push_str("NaN"),
        Value::Float(f) if f == f64::INFINITY => out.push_str("+Inf"),
        Value::Float(f) if f == f64::NEG_INFINITY => out.push_str("-Inf"),
        Value::Float(f) if f.fract() == 0.0 && f.abs() < EXACT_INTEGER_LIMIT => {
            // Exact, so the cast loses nothing (and prints -0 as 0).
            let _ = write!(out, "{}", f as i64);
        }
        Value::Float(f) if (1e-4..1e15).contains(&f.abs()) => {
            // Rust's shortest round-trip decimal, without exponent.
            let _ = write!(out, "{f}");
        }
        Value::Float(f) => {
            let _ = write!(out, "{f:e}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Mac;
    use crate::track::{Health, PacketOutcomes, ProcessStats};
    use std::net::{IpAddr, Ipv4Addr};

    fn value(v: Value) -> String {
        let mut s = String::new();
        push_value(&mut s, v);
        s
    }

    fn escaped(s: &str) -> String {
        let mut out = String::new();
        push_escaped_label_value(&mut out, s);
        out
    }

    fn client(mac: [u8; 6], ip: [u8; 4]) -> ClientSnapshot {
        let ip = Ipv4Addr::from(ip);
        ClientSnapshot {
            mac: Some(Mac(mac)),
            ip: Some(IpAddr::V4(ip)),
            ipv4: vec![ip],
            ipv6: vec![],
            hostname: None,
            vendor: None,
            randomized_mac: false,
            first_seen: 1_700_000_000.0,
            last_seen: 1_700_000_100.5,
            protocols: vec![],
            lan: Traffic::default(),
            connections_active: 0,
            dns: Default::default(),
            domains: Vec::new(),
            identity: Default::default(),
        }
    }

    fn usage(protocol: &str, rx_bytes: u64, tx_bytes: u64, connections: u64) -> ProtocolUsage {
        ProtocolUsage {
            protocol: protocol.to_string(),
            traffic: Traffic {
                rx_bytes,
                tx_bytes,
                rx_packets: rx_bytes / 100,
                tx_packets: tx_bytes / 100,
            },
            connections,
        }
    }

    /// The lines of one family's samples (no comments).
    fn samples_of(text: &str, name: &str) -> Vec<String> {
        text.lines()
            .filter(|l| !l.starts_with('#'))
            .filter(|l| l.split(['{', ' ']).next() == Some(name))
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn label_values_escape_backslash_quote_and_newline() {
        assert_eq!(escaped(r"a\b"), r"a\\b");
        assert_eq!(escaped(r#"say "hi""#), r#"say \"hi\""#);
        assert_eq!(escaped("two\nlines"), r"two\nlines");
        assert_eq!(escaped("tab\tand ünïcode"), "tab\tand ünïcode");
    }

    #[test]
    fn help_text_escapes_backslash_and_newline_but_not_quotes() {
        let mut out = String::new();
        push_escaped_help(&mut out, "a \"b\" \\ c\nd");
        assert_eq!(out, r#"a "b" \\ c\nd"#);
    }

    #[test]
    fn integral_floats_render_without_exponent_or_fraction() {
        assert_eq!(value(Value::Float(1_700_000_000.0)), "1700000000");
        assert_eq!(value(Value::Float(0.0)), "0");
        assert_eq!(value(Value::Float(-0.0)), "0");
        assert_eq!(value(Value::Float(-3.0)), "-3");
        assert_eq!(value(Value::Int(u64::MAX)), "18446744073709551615");
    }

    #[test]
    fn fractional_floats_render_shortest_round_trip() {
        assert_eq!(value(Value::Float(1_700_000_100.5)), "1700000100.5");
        assert_eq!(value(Value::Float(0.000_25)), "0.00025");
        assert_eq!(value(Value::Float(0.1)), "0.1");
        assert_eq!(value(Value::Float(1.5e-7)), "1.5e-7");
        assert_eq!(value(Value::Float(1e300)), "1e300");
        for f in [0.1, 1.5e-7, 1e300, 1_700_000_100.123_456, 2.5e16] {
            assert_eq!(value(Value::Float(f)).parse::<f64>().ok(), Some(f));
        }
    }

    #[test]
    fn special_floats_are_spelled_as_prometheus_reads_them() {
        assert_eq!(value(Value::Float(f64::INFINITY)), "+Inf");
        assert_eq!(value(Value::Float(f64::NEG_INFINITY)), "-Inf");
        assert_eq!(value(Value::Float(f64::NAN)), "NaN");
    }

    #[test]
    fn every_family_has_help_and_type_in_table_order() {
        let text = render(&Snapshot::default());
        let typed: Vec<&str> = text
            .lines()
            .filter_map(|l| l.strip_prefix("# TYPE "))
            .filter_map(|l| l.split(' ').next())
            .collect();
        let declared: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
        assert_eq!(typed, declared);
        let helped = text.lines().filter(|l| l.starts_with("# HELP ")).count();
        assert_eq!(helped, FAMILIES.len());
    }

    #[test]
    fn bandwidth_and_packets_have_both_directions_per_protocol() {
        let mut c = client([0x00, 0x11, 0x22, 0x33, 0x44, 0x55], [192, 168, 1, 10]);
        c.protocols = vec![usage("HTTPS", 5000, 700, 3)];
        let text = render(&Snapshot {
            clients: vec![c],
            health: Health::default(),
            export: Default::default(),
        });
        assert_eq!(
            samples_of(&text, "client_bandwidth_bytes_total"),
            [
                r#"client_bandwidth_bytes_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="rx"} 5000"#,
                r#"client_bandwidth_bytes_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="tx"} 700"#,
            ]
        );
        assert_eq!(
            samples_of(&text, "client_packets_total"),
            [
                r#"client_packets_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="rx"} 50"#,
                r#"client_packets_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="tx"} 7"#,
            ]
        );
        assert_eq!(
            samples_of(&text, "client_connections_total"),
            [
                r#"client_connections_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS"} 3"#
            ]
        );
    }

    #[test]
    fn lan_active_last_seen_and_info_have_one_series_per_client() {
        let mut c = client([0x02, 0, 0, 0, 0, 0x01], [10, 0, 0, 2]);
        c.lan = Traffic {
            rx_bytes: 11,
            tx_bytes: 22,
            rx_packets: 1,
            tx_packets: 1,
        };
        c.connections_active = 4;
        c.hostname = Some("Anna's \"phone\"".to_string());
        c.vendor = Some("Acme\\Corp".to_string());
        c.randomized_mac = true;
        let text = render(&Snapshot {
            clients: vec![c],
            health: Health::default(),
            export: Default::default(),
        });
        let l = r#"ip="10.0.0.2",mac="02:00:00:00:00:01""#;
        assert_eq!(
            samples_of(&text, "client_lan_bytes_total"),
            [
                format!("client_lan_bytes_total{{{l},direction=\"rx\"}} 11"),
                format!("client_lan_bytes_total{{{l},direction=\"tx\"}} 22"),
            ]
        );
        assert_eq!(
            samples_of(&text, "client_connections_active"),
            [format!("client_connections_active{{{l}}} 4")]
        );
        assert_eq!(
            samples_of(&text, "client_last_seen_timestamp_seconds"),
            [format!(
                "client_last_seen_timestamp_seconds{{{l}}} 1700000100.5"
            )]
        );
        assert_eq!(
            samples_of(&text, "client_info"),
            [format!(
                r#"client_info{{{l},hostname="Anna's \"phone\"",vendor="Acme\\Corp",randomized_mac="true"}} 1"#
            )]
        );
    }

    #[test]
    fn client_without_mac_or_ip_has_empty_label_values() {
        let mut c = client([0; 6], [0; 4]);
        c.mac = None;
        c.ip = None;
        let text = render(&Snapshot {
            clients: vec![c],
            health: Health::default(),
            export: Default::default(),
        });
        assert_eq!(
            samples_of(&text, "client_connections_active"),
            [r#"client_connections_active{ip="",mac=""} 0"#]
        );
    }

    #[test]
    fn health_families_carry_every_outcome_and_table() {
        let health = Health {
            packets: PacketOutcomes {
                accounted: 1,
                lan: 2,
                no_client: 3,
                not_ip: 4,
                malformed: 5,
                duplicate: 6,
                excluded: 9,
            },
            kernel_packets: 100,
            kernel_drops: 7,
            clients: 8,
            flows: 9,
            max_clients: 1024,
            max_flows: 65536,
            client_evictions: 10,
            flow_evictions: 11,
            domain_evictions: 0,
            dns_answer_evictions: 0,
            device_evictions: 0,
            fragment_evictions: 12,
            dns_messages: 0,
            dns_malformed: 0,
            dns_answers: 0,
            last_packet_time: 1_700_000_200.25,
            snapshot_duration_seconds: 0.000_125,
            process: ProcessStats {
                start_time_seconds: 1_699_999_000.5,
                cpu_seconds_total: 12.34,
                resident_memory_bytes: 4_194_304,
                virtual_memory_bytes: 16_777_216,
                open_fds: 11,
                max_fds: 1024,
            },
            flow_offload: None,
            state_saves: None,
        };
        let text = render(&Snapshot {
            clients: vec![],
            health,
            export: Default::default(),
        });
        assert_eq!(
            samples_of(&text, "lanwatch_packets_total"),
            [
                r#"lanwatch_packets_total{outcome="accounted"} 1"#,
                r#"lanwatch_packets_total{outcome="lan"} 2"#,
                r#"lanwatch_packets_total{outcome="no_client"} 3"#,
                r#"lanwatch_packets_total{outcome="not_ip"} 4"#,
                r#"lanwatch_packets_total{outcome="malformed"} 5"#,
                r#"lanwatch_packets_total{outcome="duplicate"} 6"#,
                r#"lanwatch_packets_total{outcome="excluded"} 9"#,
            ]
        );
        assert_eq!(
            samples_of(&text, "lanwatch_evictions_total"),
            [
                r#"lanwatch_evictions_total{table="clients"} 10"#,
                r#"lanwatch_evictions_total{table="flows"} 11"#,
                r#"lanwatch_evictions_total{table="domains"} 0"#,
                r#"lanwatch_evictions_total{table="dns_answers"} 0"#,
                r#"lanwatch_evictions_total{table="devices"} 0"#,
                r#"lanwatch_evictions_total{table="fragments"} 12"#,
            ]
        );
        for (name, expected) in [
            ("lanwatch_kernel_packets_total", "100"),
            ("lanwatch_kernel_drops_total", "7"),
            ("lanwatch_clients", "8"),
            ("lanwatch_clients_max", "1024"),
            ("lanwatch_flows", "9"),
            ("lanwatch_flows_max", "65536"),
            ("lanwatch_last_packet_timestamp_seconds", "1700000200.25"),
            ("lanwatch_snapshot_duration_seconds", "0.000125"),
            ("process_cpu_seconds_total", "12.34"),
            ("process_open_fds", "11"),
            ("process_max_fds", "1024"),
            ("process_virtual_memory_bytes", "16777216"),
            ("process_resident_memory_bytes", "4194304"),
            ("process_start_time_seconds", "1699999000.5"),
        ] {
            assert_eq!(samples_of(&text, name), [format!("{name} {expected}")]);
        }
        assert_eq!(
            samples_of(&text, "lanwatch_build_info"),
            [format!(
                r#"lanwatch_build_info{{version="{}",arch="{}",os="{}"}} 1"#,
                env!("CARGO_PKG_VERSION"),
                std::env::consts::ARCH,
                std::env::consts::OS
            )]
        );
    }

    #[test]
    fn flow_offload_gauges_say_which_kind_and_whether_counts_are_incomplete() {
        let replay = render(&Snapshot::default());
        assert!(samples_of(&replay, "lanwatch_flow_offload").is_empty());
        assert!(samples_of(&replay, "lanwatch_capture_incomplete").is_empty());
        let mut snapshot = Snapshot::default();
        snapshot.health.flow_offload = Some(crate::track::snapshot::FlowOffload {
            software: true,
            hardware: false,
            incomplete: true,
        });
        let live = render(&snapshot);
        assert_eq!(
            samples_of(&live, "lanwatch_flow_offload"),
            [
                r#"lanwatch_flow_offload{kind="software"} 1"#,
                r#"lanwatch_flow_offload{kind="hardware"} 0"#,
            ]
        );
        assert_eq!(
            samples_of(&live, "lanwatch_capture_incomplete"),
            ["lanwatch_capture_incomplete 1"]
        );
        // Each family's samples come right after its own TYPE line.
        let lines: Vec<&str> = live.lines().collect();
        for (family, first) in [
            (
                "lanwatch_flow_offload",
                r#"lanwatch_flow_offload{kind="software"} 1"#,
            ),
            (
                "lanwatch_capture_incomplete",
                "lanwatch_capture_incomplete 1",
            ),
        ] {
            let at = lines
                .iter()
                .position(|l| *l == format!("# TYPE {family} gauge"))
                .unwrap();
            assert_eq!(lines[at + 1], first);
        }
    }

    #[test]
    fn output_does_not_depend_on_client_or_protocol_order() {
        let mut a = client([0x00, 0, 0, 0, 0, 0x0a], [192, 168, 1, 10]);
        a.protocols = vec![usage("DNS", 1, 2, 1), usage("HTTPS", 3, 4, 1)];
        let mut b = client([0x00, 0, 0, 0, 0, 0x0b], [192, 168, 1, 11]);
        b.protocols = vec![usage("QUIC", 5, 6, 1)];
        let forward = Snapshot {
            clients: vec![a.clone(), b.clone()],
            health: Health::default(),
            export: Default::default(),
        };
        a.protocols.reverse();
        let backward = Snapshot {
            clients: vec![b, a],
            health: Health::default(),
            export: Default::default(),
        };
        assert_eq!(render(&forward), render(&backward));
    }
}
