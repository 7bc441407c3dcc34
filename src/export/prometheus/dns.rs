//! The client_dns_* families and client_mdns_queries_total: what each
//! client asked its resolvers, what came back, how fast, and the DNS that
//! went around the router; and the label sets they carry.

use super::client::Labelled;
use super::{
    Exposition, LabelValue, Value, CLIENT_DNS_BYPASS, CLIENT_DNS_LATENCY, CLIENT_DNS_QUERIES,
    CLIENT_DNS_RESPONSES, CLIENT_DNS_UNIQUE_DOMAINS, CLIENT_MDNS_QUERIES,
};
use crate::track::BypassSnapshot;

label_set! {
    /// A client's queries with one question type.
    QueryType<'a> { ip: &'a str, mac: &'a str, query_type: &'a str }
}

label_set! {
    /// A client's responses with one rcode.
    Rcode<'a> { ip: &'a str, mac: &'a str, rcode: &'a str }
}

label_set! {
    /// A client's DNS that went around the router, of one kind.
    Bypass<'a> { ip: &'a str, mac: &'a str, kind: BypassKind }
}

/// How DNS went around the router's resolver: the `kind` of
/// `client_dns_bypass_queries_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BypassKind {
    /// Plain DNS to a resolver outside the LAN.
    OtherResolver,
    /// DNS over TLS or QUIC (port 853).
    Dot,
    /// DNS over HTTPS to a well-known resolver.
    Doh,
}

impl LabelValue for BypassKind {
    fn label_value(&self) -> &str {
        match self {
            BypassKind::OtherResolver => "other_resolver",
            BypassKind::Dot => "dot",
            BypassKind::Doh => "doh",
        }
    }
}

/// Every bypass kind with its count, in the order they are exported.
fn by_kind(bypass: &BypassSnapshot) -> [(BypassKind, u64); 3] {
    [
        (BypassKind::OtherResolver, bypass.other_resolver),
        (BypassKind::Dot, bypass.dot),
        (BypassKind::Doh, bypass.doh),
    ]
}

/// The DNS families, in the table's order.
pub fn collect(out: &mut Exposition, clients: &[Labelled<'_>]) {
    queries(out, clients);
    responses(out, clients);
    unique_domains(out, clients);
    latency(out, clients);
    bypass(out, clients);
    mdns_queries(out, clients);
}

fn queries(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_DNS_QUERIES);
    for c in clients {
        let client = c.labels();
        for q in &c.client.dns.queries {
            let labels = QueryType {
                ip: client.ip,
                mac: client.mac,
                query_type: &q.name,
            };
            out.sample(&CLIENT_DNS_QUERIES, labels, Value::Int(q.count));
        }
    }
}

fn responses(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_DNS_RESPONSES);
    for c in clients {
        let client = c.labels();
        for r in &c.client.dns.responses {
            let labels = Rcode {
                ip: client.ip,
                mac: client.mac,
                rcode: &r.name,
            };
            out.sample(&CLIENT_DNS_RESPONSES, labels, Value::Int(r.count));
        }
    }
}

fn unique_domains(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_DNS_UNIQUE_DOMAINS);
    for c in clients {
        let unique = Value::Int(c.client.dns.unique_domains);
        out.sample(&CLIENT_DNS_UNIQUE_DOMAINS, c.labels(), unique);
    }
}

/// Only clients whose queries were answered have a latency histogram.
fn latency(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_DNS_LATENCY);
    for c in clients.iter().filter(|c| c.client.dns.latency.count > 0) {
        out.histogram(&CLIENT_DNS_LATENCY, c.labels(), &c.client.dns.latency);
    }
}

fn bypass(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_DNS_BYPASS);
    for c in clients {
        let client = c.labels();
        for (kind, n) in by_kind(&c.client.dns.bypass) {
            let labels = Bypass {
                ip: client.ip,
                mac: client.mac,
                kind,
            };
            out.sample(&CLIENT_DNS_BYPASS, labels, Value::Int(n));
        }
    }
}

fn mdns_queries(out: &mut Exposition, clients: &[Labelled<'_>]) {
    out.family(&CLIENT_MDNS_QUERIES);
    for c in clients {
        let n = Value::Int(c.client.dns.mdns_queries);
        out.sample(&CLIENT_MDNS_QUERIES, c.labels(), n);
    }
}
