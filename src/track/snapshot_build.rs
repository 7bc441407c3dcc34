//! Snapshot assembly: the tracker's tables copied into the plain
//! [`Snapshot`] types export renders — one function per part (a client, its
//! protocols, its identity, its DNS, its domains, the health figures).

use super::clients::Client;
use super::dns;
use super::identity::DeviceIdentity;
use super::snapshot::{
    BypassSnapshot, ClientSnapshot, DnsSnapshot, DomainUsage, Health, IdentitySnapshot,
    LatencySnapshot, NamedCount, ProcessStats, ProtocolUsage, Snapshot,
};
use super::Tracker;

impl Tracker {
    /// A consistent copy of the state, as of the newest packet time.
    pub fn snapshot(&mut self) -> Snapshot {
        let started = std::time::Instant::now();
        self.sweep();
        let mut clients: Vec<ClientSnapshot> = self
            .clients
            .iter()
            .map(|c| self.client_snapshot(c))
            .collect();
        clients.sort_by_key(|a| (a.mac, a.ip));
        let health = self.health(started);
        Snapshot {
            clients,
            health,
            export: self.export,
        }
    }

    /// One client as export shows it.
    fn client_snapshot(&self, c: &Client) -> ClientSnapshot {
        let mut ipv4 = c.ipv4.clone();
        ipv4.sort();
        let mut ipv6 = c.ipv6.clone();
        ipv6.sort();
        let mac = c.key.mac();
        let device = mac.and_then(|m| self.identities.get(&m));
        let text = |s: Option<&str>| s.map(str::to_string);
        ClientSnapshot {
            mac,
            ip: c.label_ip(),
            ipv4,
            ipv6,
            hostname: text(device.and_then(|d| d.hostname())),
            vendor: text(mac.and_then(|m| self.identities.vendor(&m))),
            randomized_mac: mac.is_some_and(|m| m.is_locally_administered()),
            first_seen: nanos_to_seconds(c.first_seen),
            last_seen: nanos_to_seconds(c.last_seen),
            protocols: self.protocol_usage(c),
            lan: c.lan,
            connections_active: c.connections_active,
            dns: dns_snapshot(&c.dns, self.now),
            domains: if self.export.dns_names {
                domain_usage(&c.dns)
            } else {
                Vec::new()
            },
            identity: self.identity_snapshot(c, device),
        }
    }

    /// A client's traffic and connections per protocol, by protocol name.
    fn protocol_usage(&self, c: &Client) -> Vec<ProtocolUsage> {
        let mut protocols: Vec<ProtocolUsage> = c
            .protocols
            .iter()
            .map(|p| ProtocolUsage {
                protocol: self.protocols.name(p.protocol).to_string(),
                traffic: p.traffic,
                connections: p.connections,
            })
            .collect();
        protocols.sort_by(|a, b| a.protocol.cmp(&b.protocol));
        protocols
    }

    /// Where a client's name came from, what its DHCP said, whether it is
    /// active.
    fn identity_snapshot(&self, c: &Client, device: Option<&DeviceIdentity>) -> IdentitySnapshot {
        let text = |s: Option<&str>| s.map(str::to_string);
        IdentitySnapshot {
            hostname_source: device
                .and_then(|d| d.hostname_source)
                .map(|s| s.label().to_string()),
            dhcp_vendor_class: text(device.and_then(|d| d.dhcp_vendor_class.as_deref())),
            dhcp_fingerprint: text(device.and_then(|d| d.dhcp_fingerprint.as_deref())),
            active: self.now.saturating_sub(c.last_seen) <= self.active_window,
        }
    }

    /// The tracker's own figures: packet outcomes, table sizes, bounds and
    /// evictions, DNS counters.
    fn health(&self, started: std::time::Instant) -> Health {
        let dns = self.naming.dns();
        Health {
            packets: self.outcomes,
            // What the capture and the system say about themselves (kernel
            // counters, duplicates, process figures, offloading) is not the
            // tracker's to know: the capture worker stamps it on.
            kernel_packets: 0,
            kernel_drops: 0,
            clients: self.clients.len() as u64,
            flows: self.flows.len() as u64,
            max_clients: self.clients.max() as u64,
            max_flows: self.flows.max() as u64,
            client_evictions: self.clients.evictions,
            flow_evictions: self.flows.evictions,
            domain_evictions: self.clients.iter().fold(0u64, |sum, c| {
                sum.wrapping_add(c.dns.unique_evictions)
                    .wrapping_add(c.dns.domain_evictions)
            }),
            dns_answer_evictions: dns.stats.answers_evicted,
            device_evictions: self.identities.evictions(),
            fragment_evictions: self.fragments.evictions,
            dns_messages: dns.stats.messages,
            dns_malformed: dns.stats.malformed,
            dns_answers: dns.answers_len() as u64,
            last_packet_time: nanos_to_seconds(self.now),
            snapshot_duration_seconds: started.elapsed().as_secs_f64(),
            process: ProcessStats::default(),
            flow_offload: None,
            state_saves: None,
        }
    }
}

fn dns_snapshot(dns: &dns::ClientDns, now: u64) -> DnsSnapshot {
    let named = |counts: &dns::CodeCounts, label: fn(u16) -> String| {
        let mut out: Vec<NamedCount> = counts
            .iter()
            .map(|(code, count)| NamedCount {
                name: label(code),
                count,
            })
            .collect();
        if counts.other > 0 {
            out.push(NamedCount {
                name: "other".to_string(),
                count: counts.other,
            });
        }
        out.sort_by(|a, b| a.name.cmp(&b.name));
        out
    };
    let mut cumulative = 0u64;
    let buckets = dns::LATENCY_BUCKETS_SECONDS
        .iter()
        .zip(dns.latency.buckets.iter())
        .map(|(le, n)| {
            cumulative = cumulative.wrapping_add(*n);
            (*le, cumulative)
        })
        .collect();
    DnsSnapshot {
        queries: named(&dns.queries, dns::query_type_label),
        responses: named(&dns.responses, dns::rcode_label),
        mdns_queries: dns.mdns_queries,
        unique_domains: dns.unique_domains(now),
        unique_evictions: dns.unique_evictions,
        domain_evictions: dns.domain_evictions,
        bypass: BypassSnapshot {
            other_resolver: dns.bypass.other_resolver,
            dot: dns.bypass.dot,
            doh: dns.bypass.doh,
        },
        latency: LatencySnapshot {
            buckets,
            count: dns.latency.count,
            sum_seconds: dns.latency.sum_nanos as f64 / 1e9,
        },
    }
}

fn domain_usage(dns: &dns::ClientDns) -> Vec<DomainUsage> {
    let mut out: Vec<DomainUsage> = dns
        .domains
        .values()
        .map(|d| DomainUsage {
            domain: d.name.to_string(),
            queries: d.queries,
            traffic: d.traffic,
            connections: d.connections,
            first_seen: nanos_to_seconds(d.first_seen),
            last_seen: nanos_to_seconds(d.last_seen),
        })
        .collect();
    out.sort_by(|a, b| {
        let bytes = |d: &DomainUsage| d.traffic.rx_bytes.wrapping_add(d.traffic.tx_bytes);
        bytes(b)
            .cmp(&bytes(a))
            .then(b.queries.cmp(&a.queries))
            .then(a.domain.cmp(&b.domain))
    });
    out
}

fn nanos_to_seconds(ns: u64) -> f64 {
    // Millisecond precision keeps renderings short and stable.
    (ns / 1_000_000) as f64 / 1000.0
}
