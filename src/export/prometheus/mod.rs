//! Prometheus text exposition (format 0.0.4) of a [`Snapshot`]: the metric
//! contract and the writer.
//!
//! Written by hand rather than with the `prometheus` crate: the binary runs on
//! routers where every hundred kilobytes count, and a snapshot is already the
//! collected state, so all that is left is formatting.
//!
//! Every metric family — name, type, help text and label names — is declared
//! once, in the block below, in the order of the design's metric table. Each
//! family's type names its label set (a struct with one field per label, see
//! [`label_set!`]), and the declaration must list the same label names in the
//! same order, or the crate does not compile. The values are filled by one
//! collector per group, as node_exporter does: `client` (the client_*
//! families), `dns` (client_dns_* and client_mdns_*) and `health` (lanwatch_*
//! and process_*). `render` calls them in the table's order. The same snapshot
//! always renders to the same bytes: clients are ordered by MAC then IP and
//! protocols by name, whatever order the tracker used, so
//! `replay --format prometheus` prints exactly what `/metrics` serves.

use std::fmt::Write as _;
use std::marker::PhantomData;
use std::ops::Deref;

use crate::track::{LatencySnapshot, Snapshot};

/// Declares a family's label set: a struct with one field per label, named
/// as the label and in the order the family's declaration lists them, each
/// of a type that writes its own value ([`LabelValue`]).
macro_rules! label_set {
    ($(#[$meta:meta])* $name:ident $(<$lt:lifetime>)? { $($label:ident: $ty:ty),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug)]
        pub struct $name $(<$lt>)? {
            $(pub $label: $ty,)+
        }

        impl $(<$lt>)? $crate::export::prometheus::Labels<{ [$(stringify!($label)),+].len() }>
            for $name $(<$lt>)?
        {
            const NAMES: [&'static str; { [$(stringify!($label)),+].len() }] =
                [$(stringify!($label)),+];

            fn values(&self) -> [&str; { [$(stringify!($label)),+].len() }] {
                [$($crate::export::prometheus::LabelValue::label_value(&self.$label)),+]
            }
        }
    };
}

pub mod client;
pub mod dns;
pub mod health;

/// The `Content-Type` of the exposition, as `/metrics` sends it.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

// ---------------------------------------------------------------------------
// Metric families, in the order of the design's metric table.
// ---------------------------------------------------------------------------

pub const CLIENT_BANDWIDTH_BYTES: Family<client::ProtocolDirection<'static>, 4> = Description {
    name: "client_bandwidth_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes between the client and the router or beyond, by protocol; direction rx is download, tx upload.",
    labels: &["ip", "mac", "protocol", "direction"],
}
.labelled();

pub const CLIENT_PACKETS: Family<client::ProtocolDirection<'static>, 4> = Description {
    name: "client_packets_total",
    kind: Kind::Counter,
    help: "Packets between the client and the router or beyond, by protocol; direction rx is download, tx upload.",
    labels: &["ip", "mac", "protocol", "direction"],
}
.labelled();

pub const CLIENT_LAN_BYTES: Family<client::ClientDirection<'static>, 3> = Description {
    name: "client_lan_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes between the client and other LAN hosts, broadcast or multicast; not bandwidth.",
    labels: &["ip", "mac", "direction"],
}
.labelled();

pub const CLIENT_CONNECTIONS: Family<client::ClientProtocol<'static>, 3> = Description {
    name: "client_connections_total",
    kind: Kind::Counter,
    help: "Connections (flows) the client opened with the router or beyond, by protocol.",
    labels: &["ip", "mac", "protocol"],
}
.labelled();

pub const CLIENT_CONNECTIONS_ACTIVE: Family<client::Client<'static>, 2> = Description {
    name: "client_connections_active",
    kind: Kind::Gauge,
    help: "Connections (flows) of the client that are currently open.",
    labels: &["ip", "mac"],
}
.labelled();

pub const CLIENT_DNS_QUERIES: Family<dns::QueryType<'static>, 3> = Description {
    name: "client_dns_queries_total",
    kind: Kind::Counter,
    help: "DNS query messages the client sent to port 53, by the type of their question.",
    labels: &["ip", "mac", "query_type"],
}
.labelled();

pub const CLIENT_DNS_RESPONSES: Family<dns::Rcode<'static>, 3> = Description {
    name: "client_dns_responses_total",
    kind: Kind::Counter,
    help: "DNS responses the client received from port 53, by rcode.",
    labels: &["ip", "mac", "rcode"],
}
.labelled();

pub const CLIENT_DNS_UNIQUE_DOMAINS: Family<client::Client<'static>, 2> = Description {
    name: "client_dns_unique_domains",
    kind: Kind::Gauge,
    help:
        "Distinct names the client queried in the last 24 hours (exact up to the per-client bound).",
    labels: &["ip", "mac"],
}
.labelled();

pub const CLIENT_DNS_LATENCY: Family<client::Client<'static>, 2> = Description {
    name: "client_dns_latency_seconds",
    kind: Kind::Histogram,
    help: "Time from the client's DNS query to the response, matched by id and 5-tuple.",
    labels: &["ip", "mac"],
}
.labelled();

pub const CLIENT_DNS_BYPASS: Family<dns::Bypass<'static>, 3> = Description {
    name: "client_dns_bypass_queries_total",
    kind: Kind::Counter,
    help: "DNS that went around the router's resolver: kind other_resolver counts plain queries to resolvers outside the LAN, dot and doh count DNS-over-TLS/QUIC and DNS-over-HTTPS connections.",
    labels: &["ip", "mac", "kind"],
}
.labelled();

pub const CLIENT_MDNS_QUERIES: Family<client::Client<'static>, 2> = Description {
    name: "client_mdns_queries_total",
    kind: Kind::Counter,
    help: "mDNS query messages the client sent (counted apart from DNS).",
    labels: &["ip", "mac"],
}
.labelled();

pub const CLIENT_DOMAIN_BYTES: Family<client::DomainDirection<'static>, 4> = Description {
    name: "client_domain_bytes_total",
    kind: Kind::Counter,
    help: "IP-layer bytes of the client's connections attributed to a domain (DNS answer or TLS server name), for its top domains by bytes.",
    labels: &["ip", "mac", "domain", "direction"],
}
.labelled();

pub const CLIENT_DOMAIN_QUERIES: Family<client::ClientDomain<'static>, 3> = Description {
    name: "client_domain_queries_total",
    kind: Kind::Counter,
    help: "DNS queries the client sent for a domain, for its most-queried domains.",
    labels: &["ip", "mac", "domain"],
}
.labelled();

pub const CLIENT_LAST_SEEN: Family<client::Client<'static>, 2> = Description {
    name: "client_last_seen_timestamp_seconds",
    kind: Kind::Gauge,
    help: "Packet time of the client's last frame, seconds since the Unix epoch.",
    labels: &["ip", "mac"],
}
.labelled();

pub const CLIENT_INFO: Family<client::Info<'static>, 5> = Description {
    name: "client_info",
    kind: Kind::Gauge,
    help: "Identity of the client (always 1): hostname from DHCP, vendor from the MAC prefix, whether the MAC is randomized.",
    labels: &["ip", "mac", "hostname", "vendor", "randomized_mac"],
}
.labelled();

// The standard process families, with the names, types and help texts of
// the official client libraries (client_golang, client_python), so
// dashboards made for any exporter work.

pub const PROCESS_CPU_SECONDS: Family<(), 0> = Description {
    name: "process_cpu_seconds_total",
    kind: Kind::Counter,
    help: "Total user and system CPU time spent in seconds.",
    labels: &[],
}
.labelled();

pub const PROCESS_OPEN_FDS: Family<(), 0> = Description {
    name: "process_open_fds",
    kind: Kind::Gauge,
    help: "Number of open file descriptors.",
    labels: &[],
}
.labelled();

pub const PROCESS_MAX_FDS: Family<(), 0> = Description {
    name: "process_max_fds",
    kind: Kind::Gauge,
    help: "Maximum number of open file descriptors.",
    labels: &[],
}
.labelled();

pub const PROCESS_VIRTUAL_MEMORY: Family<(), 0> = Description {
    name: "process_virtual_memory_bytes",
    kind: Kind::Gauge,
    help: "Virtual memory size in bytes.",
    labels: &[],
}
.labelled();

pub const PROCESS_RESIDENT_MEMORY: Family<(), 0> = Description {
    name: "process_resident_memory_bytes",
    kind: Kind::Gauge,
    help: "Resident memory size in bytes.",
    labels: &[],
}
.labelled();

pub const PROCESS_START_TIME: Family<(), 0> = Description {
    name: "process_start_time_seconds",
    kind: Kind::Gauge,
    help: "Start time of the process since unix epoch in seconds.",
    labels: &[],
}
.labelled();

pub const LANWATCH_PACKETS: Family<health::Packets, 1> = Description {
    name: "lanwatch_packets_total",
    kind: Kind::Counter,
    help: "Captured frames by what became of them.",
    labels: &["outcome"],
}
.labelled();

pub const LANWATCH_KERNEL_PACKETS: Family<(), 0> = Description {
    name: "lanwatch_kernel_packets_total",
    kind: Kind::Counter,
    help: "Frames the kernel passed to the capture sockets (PACKET_STATISTICS).",
    labels: &[],
}
.labelled();

pub const LANWATCH_KERNEL_DROPS: Family<(), 0> = Description {
    name: "lanwatch_kernel_drops_total",
    kind: Kind::Counter,
    help: "Frames the kernel dropped because the capture ring was full (PACKET_STATISTICS).",
    labels: &[],
}
.labelled();

pub const LANWATCH_FLOW_OFFLOAD: Family<health::Offload, 1> = Description {
    name: "lanwatch_flow_offload",
    kind: Kind::Gauge,
    help: "Whether the router offloads forwarded flows (1) or not (0), by kind; live capture only.",
    labels: &["kind"],
}
.labelled();

pub const LANWATCH_CAPTURE_INCOMPLETE: Family<(), 0> = Description {
    name: "lanwatch_capture_incomplete",
    kind: Kind::Gauge,
    help: "1 when flow offloading makes forwarded traffic bypass the capture interfaces, so the counts are incomplete; live capture only.",
    labels: &[],
}
.labelled();

pub const LANWATCH_CLIENTS: Family<(), 0> = Description {
    name: "lanwatch_clients",
    kind: Kind::Gauge,
    help: "Clients in the client table.",
    labels: &[],
}
.labelled();

pub const LANWATCH_CLIENTS_MAX: Family<(), 0> = Description {
    name: "lanwatch_clients_max",
    kind: Kind::Gauge,
    help: "Configured bound of the client table.",
    labels: &[],
}
.labelled();

pub const LANWATCH_FLOWS: Family<(), 0> = Description {
    name: "lanwatch_flows",
    kind: Kind::Gauge,
    help: "Flows in the flow table.",
    labels: &[],
}
.labelled();

pub const LANWATCH_FLOWS_MAX: Family<(), 0> = Description {
    name: "lanwatch_flows_max",
    kind: Kind::Gauge,
    help: "Configured bound of the flow table.",
    labels: &[],
}
.labelled();

pub const LANWATCH_EVICTIONS: Family<health::Evictions, 1> = Description {
    name: "lanwatch_evictions_total",
    kind: Kind::Counter,
    help: "Entries evicted because their table was full.",
    labels: &["table"],
}
.labelled();

pub const LANWATCH_DNS_MESSAGES: Family<health::DnsMessages, 1> = Description {
    name: "lanwatch_dns_messages_total",
    kind: Kind::Counter,
    help: "DNS and mDNS messages seen, by whether they parsed.",
    labels: &["outcome"],
}
.labelled();

pub const LANWATCH_DNS_ANSWERS: Family<(), 0> = Description {
    name: "lanwatch_dns_answers",
    kind: Kind::Gauge,
    help: "DNS answer addresses held to name later connections.",
    labels: &[],
}
.labelled();

pub const LANWATCH_LAST_PACKET: Family<(), 0> = Description {
    name: "lanwatch_last_packet_timestamp_seconds",
    kind: Kind::Gauge,
    help: "Packet time of the newest frame, seconds since the Unix epoch (0 before the first).",
    labels: &[],
}
.labelled();

pub const LANWATCH_SNAPSHOT_DURATION: Family<(), 0> = Description {
    name: "lanwatch_snapshot_duration_seconds",
    kind: Kind::Gauge,
    help: "Time the capture worker took to build the snapshot this scrape shows.",
    labels: &[],
}
.labelled();

pub const LANWATCH_STATE_SAVES: Family<health::StateSaves, 1> = Description {
    name: "lanwatch_state_saves_total",
    kind: Kind::Counter,
    help: "Saves of the state file (--state-file) since the start, by outcome (ok, error); none without one.",
    labels: &["outcome"],
}
.labelled();

pub const LANWATCH_BUILD_INFO: Family<health::BuildInfo, 3> = Description {
    name: "lanwatch_build_info",
    kind: Kind::Gauge,
    help: "Version and platform of the lanwatch binary (always 1).",
    labels: &["version", "arch", "os"],
}
.labelled();

/// Every family, in the order `render` writes them.
pub const FAMILIES: [Description; 37] = [
    CLIENT_BANDWIDTH_BYTES.description,
    CLIENT_PACKETS.description,
    CLIENT_LAN_BYTES.description,
    CLIENT_CONNECTIONS.description,
    CLIENT_CONNECTIONS_ACTIVE.description,
    CLIENT_DNS_QUERIES.description,
    CLIENT_DNS_RESPONSES.description,
    CLIENT_DNS_UNIQUE_DOMAINS.description,
    CLIENT_DNS_LATENCY.description,
    CLIENT_DNS_BYPASS.description,
    CLIENT_MDNS_QUERIES.description,
    CLIENT_DOMAIN_BYTES.description,
    CLIENT_DOMAIN_QUERIES.description,
    CLIENT_LAST_SEEN.description,
    CLIENT_INFO.description,
    PROCESS_CPU_SECONDS.description,
    PROCESS_OPEN_FDS.description,
    PROCESS_MAX_FDS.description,
    PROCESS_VIRTUAL_MEMORY.description,
    PROCESS_RESIDENT_MEMORY.description,
    PROCESS_START_TIME.description,
    LANWATCH_PACKETS.description,
    LANWATCH_KERNEL_PACKETS.description,
    LANWATCH_KERNEL_DROPS.description,
    LANWATCH_FLOW_OFFLOAD.description,
    LANWATCH_CAPTURE_INCOMPLETE.description,
    LANWATCH_CLIENTS.description,
    LANWATCH_CLIENTS_MAX.description,
    LANWATCH_FLOWS.description,
    LANWATCH_FLOWS_MAX.description,
    LANWATCH_EVICTIONS.description,
    LANWATCH_DNS_MESSAGES.description,
    LANWATCH_DNS_ANSWERS.description,
    LANWATCH_LAST_PACKET.description,
    LANWATCH_SNAPSHOT_DURATION.description,
    LANWATCH_STATE_SAVES.description,
    LANWATCH_BUILD_INFO.description,
];

/// A metric family's description: what `# HELP` and `# TYPE` say, and the
/// names of the labels every sample carries, in order.
#[derive(Clone, Copy, Debug)]
pub struct Description {
    pub name: &'static str,
    pub kind: Kind,
    pub help: &'static str,
    pub labels: &'static [&'static str],
}

impl Description {
    /// The family whose samples carry the label set `L`; fails to compile
    /// when `L` has other label names, or the same in another order.
    pub const fn labelled<L: Labels<N>, const N: usize>(self) -> Family<L, N> {
        // Every family is a `const`: this fails the build, never a run.
        #[allow(clippy::panic)]
        if !same_names(self.labels, &L::NAMES) {
            panic!("a family's declared label names differ from its label set's fields");
        }
        Family {
            description: self,
            label_set: PhantomData,
        }
    }
}

/// A declared family whose samples carry the labels `L` (`N` of them).
#[derive(Debug)]
pub struct Family<L, const N: usize> {
    pub description: Description,
    label_set: PhantomData<fn() -> L>,
}

impl<L, const N: usize> Deref for Family<L, N> {
    type Target = Description;

    fn deref(&self) -> &Description {
        &self.description
    }
}

/// A family's label set: the label names, and their values for one sample.
pub trait Labels<const N: usize> {
    const NAMES: [&'static str; N];
    fn values(&self) -> [&str; N];
}

/// Families without labels.
impl Labels<0> for () {
    const NAMES: [&'static str; 0] = [];

    fn values(&self) -> [&str; 0] {
        []
    }
}

/// A type that is written as one label value.
pub trait LabelValue {
    fn label_value(&self) -> &str;
}

impl LabelValue for &str {
    fn label_value(&self) -> &str {
        self
    }
}

impl LabelValue for bool {
    fn label_value(&self) -> &str {
        if *self {
            "true"
        } else {
            "false"
        }
    }
}

impl LabelValue for crate::track::Direction {
    fn label_value(&self) -> &str {
        self.label()
    }
}

const fn same_names(mut a: &[&str], mut b: &[&str]) -> bool {
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, rest_a @ ..], [y, rest_b @ ..]) if same_str(x, y) => (a, b) = (rest_a, rest_b),
            _ => return false,
        }
    }
}

const fn same_str(a: &str, b: &str) -> bool {
    let (mut a, mut b) = (a.as_bytes(), b.as_bytes());
    loop {
        match (a, b) {
            ([], []) => return true,
            ([x, rest_a @ ..], [y, rest_b @ ..]) if *x == *y => (a, b) = (rest_a, rest_b),
            _ => return false,
        }
    }
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
    let clients = client::ordered(snapshot);
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
    client::collect_traffic(&mut out, &clients);
    dns::collect(&mut out, &clients);
    client::collect_domains_and_identity(&mut out, &clients, &snapshot.export);
    health::collect_process(&mut out, &snapshot.health.process);
    health::collect(&mut out, &snapshot.health);
    out.finish()
}

/// A sample value: counters are exact integers, times are floats.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    Int(u64),
    Float(f64),
}

/// The text output being built.
pub struct Exposition {
    out: String,
}

impl Exposition {
    fn with_capacity(capacity: usize) -> Exposition {
        Exposition {
            out: String::with_capacity(capacity),
        }
    }

    /// Writes a family's `# HELP` and `# TYPE` lines.
    pub fn family<L, const N: usize>(&mut self, family: &Family<L, N>) {
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

    /// Writes one sample of the family, with its label values.
    pub fn sample<L: Labels<N>, const N: usize>(
        &mut self,
        family: &Family<L, N>,
        labels: L,
        value: Value,
    ) {
        self.labelled(family.name, family.labels, &labels.values(), None, value);
    }

    /// Writes a histogram's cumulative buckets, `+Inf`, sum and count.
    pub fn histogram<L: Labels<N>, const N: usize>(
        &mut self,
        family: &Family<L, N>,
        labels: L,
        h: &LatencySnapshot,
    ) {
        let values = labels.values();
        let bucket = format!("{}_bucket", family.name);
        for (le, count) in &h.buckets {
            let mut le_text = String::new();
            push_value(&mut le_text, Value::Float(*le));
            let count = Value::Int(*count);
            self.labelled(&bucket, family.labels, &values, Some(&le_text), count);
        }
        let count = Value::Int(h.count);
        self.labelled(&bucket, family.labels, &values, Some("+Inf"), count);
        let sum = format!("{}_sum", family.name);
        let sum_value = Value::Float(h.sum_seconds);
        self.labelled(&sum, family.labels, &values, None, sum_value);
        let count_name = format!("{}_count", family.name);
        self.labelled(&count_name, family.labels, &values, None, count);
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
    pub fn single(&mut self, family: &Family<(), 0>, value: Value) {
        self.family(family);
        self.sample(family, (), value);
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
mod tests;
