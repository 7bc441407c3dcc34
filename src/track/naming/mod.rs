//! Naming: what tells a flow's server by name — DNS answers, TLS server
//! names — and the reassembly those need across segments.
//!
//! `decode` reads one payload at a time and never allocates; the pieces
//! that keep bytes between segments (bounded buffers, one per stream) live
//! here instead. `dns_tcp` splits DNS over TCP into messages, `tls_hello`
//! joins a TLS ClientHello split over segments or records. The server
//! names and applications of QUIC belong here too.
//!
//! [`Naming`] owns that state for the tracker: the DNS tracker (answers,
//! pending queries, DNS-over-TCP streams), the ClientHellos being joined,
//! and which protocols are DNS over TLS or QUIC. The tracker hands it the
//! pieces of its own state a packet needs (the client table, the flow
//! table, the LAN), so the accounting rules stay in the tracker.

pub mod dns_tcp;
pub mod tls_hello;

use std::collections::HashMap;

use crate::decode::tls::{parse_client_hello, Parsed};
use crate::decode::{IpPacket, TcpFlags};

use super::clients::{ClientKey, ClientTable};
use super::dns::{
    self, ClientDns, DnsConfig, DnsTracker, DomainRef, Endpoints, MessageRole, StreamKey,
};
use super::flows::{FlowKey, FlowTable, HelloState};
use super::is_unicast;
use super::lan::Lan;
use super::protocols::{ProtocolId, ProtocolTable};
use super::snapshot::Direction;
use tls_hello::ClientHelloAssembler;

/// The naming state, written by the capture worker through its tracker.
pub struct Naming {
    dns: DnsTracker,
    /// Scratch list of DNS messages completed by one TCP segment.
    dns_messages: Vec<Vec<u8>>,
    /// ClientHellos split over segments, by flow (bounded).
    hellos: HashMap<FlowKey, (ClientHelloAssembler, u64), foldhash::fast::RandomState>,
    /// The protocols whose connections are DNS over TLS/QUIC.
    dot_protocols: Vec<ProtocolId>,
}

/// The flow a packet belongs to: its client's index in the client table,
/// its key, and the packet's time.
#[derive(Clone, Copy, Debug)]
pub struct FlowAt<'k> {
    pub index: usize,
    pub key: &'k FlowKey,
    pub now: u64,
}

/// The protocols of `table` whose connections are DNS over TLS or QUIC.
fn dot_protocols(table: &ProtocolTable) -> Vec<ProtocolId> {
    ["DoT", "DoQ"].iter().filter_map(|n| table.id(n)).collect()
}

impl Naming {
    pub fn new(config: DnsConfig, protocols: &ProtocolTable) -> Naming {
        Naming {
            dns: DnsTracker::new(config),
            dns_messages: Vec::new(),
            hellos: HashMap::default(),
            dot_protocols: dot_protocols(protocols),
        }
    }

    /// Follows a new protocol table (a reload of `--protocols`).
    pub fn set_protocols(&mut self, table: &ProtocolTable) {
        self.dot_protocols = dot_protocols(table);
    }

    /// The DNS tracker (its counters and answer table, for snapshots).
    pub fn dns(&self) -> &DnsTracker {
        &self.dns
    }

    /// Per-client DNS bounds are this share of the global ones.
    #[inline]
    pub fn set_client_share(&mut self, divisor: usize) {
        self.dns.clients = divisor;
    }

    /// Expires DNS answers, pending queries and streams as of `now`.
    pub fn expire(&mut self, now: u64) {
        self.dns.expire(now);
    }

    /// A new connection: name it after a recent DNS answer for its remote
    /// address, and count resolver bypass (DoT, DoH by address).
    pub fn on_flow_opened(
        &mut self,
        clients: &mut ClientTable,
        flows: &mut FlowTable,
        flow: FlowAt<'_>,
        protocol: ProtocolId,
    ) -> Option<u64> {
        let FlowAt { index, key, now } = flow;
        let domain = self.dns.domain_of(key.remote_ip, now);
        let is_dot = self.dot_protocols.contains(&protocol);
        let is_doh = key.remote_port == 443 && self.dns.is_doh(key.remote_ip, None);
        let max = self.dns.domain_cap();
        let client = clients.at_mut(index)?;
        if is_dot {
            client.dns.bypass.dot = client.dns.bypass.dot.wrapping_add(1);
        }
        if is_doh {
            client.dns.bypass.doh = client.dns.bypass.doh.wrapping_add(1);
        }
        let domain = domain?;
        let hash = domain.hash;
        count_domain_connection(&mut client.dns, &domain, now, max);
        flows.set_domain(key, domain);
        Some(hash)
    }

    /// Looks for the TLS server name in a client's first payload; a name
    /// found overrides the DNS answer's (it is what the client asked for).
    pub fn inspect_client_hello(
        &mut self,
        clients: &mut ClientTable,
        flows: &mut FlowTable,
        flow: FlowAt<'_>,
        payload: &[u8],
        state: HelloState,
    ) -> Option<u64> {
        let FlowAt { index, key, now } = flow;
        let parsed = match state {
            HelloState::Assembling => match self.hellos.get_mut(key) {
                Some((assembler, _)) => assembler.push(payload).map(|p| server_name_of(&p)),
                None => Ok(HelloOutcome::NotTls),
            },
            _ => parse_client_hello(payload).map(|p| server_name_of(&p)),
        };
        let outcome = match parsed {
            Ok(HelloOutcome::Incomplete) if state == HelloState::Waiting => {
                let max = self.dns.config.max_streams;
                if self.hellos.len() >= max {
                    dns::evict_oldest(&mut self.hellos, max, |h| h.1);
                }
                let mut assembler = ClientHelloAssembler::with_limit(16 * 1024);
                let started = assembler.push(payload).map(|p| server_name_of(&p));
                self.hellos.insert(*key, (assembler, now));
                started.unwrap_or(HelloOutcome::NotTls)
            }
            Ok(outcome) => outcome,
            Err(_) => HelloOutcome::NotTls,
        };
        if outcome == HelloOutcome::Incomplete {
            flows.set_hello(key, HelloState::Assembling);
            return None;
        }
        self.hellos.remove(key);
        flows.set_hello(key, HelloState::Done);
        let HelloOutcome::Name(name) = outcome else {
            return None;
        };
        let domain = self.dns.domain_for_name(name.as_bytes())?;
        let max = self.dns.domain_cap();
        let is_doh = key.remote_port == 443
            && !self.dns.is_doh(key.remote_ip, None)
            && self.dns.is_doh(key.remote_ip, Some(&domain.name));
        let hash = domain.hash;
        let already = flows.domain(key).map(|d| d.hash);
        let client = clients.at_mut(index)?;
        if is_doh {
            client.dns.bypass.doh = client.dns.bypass.doh.wrapping_add(1);
        }
        if already != Some(hash) {
            count_domain_connection(&mut client.dns, &domain, now, max);
            flows.set_domain(key, domain);
        }
        Some(hash)
    }

    /// Adds a packet's bytes to the domain its flow is attributed to.
    #[inline]
    pub fn add_domain_traffic(
        &self,
        clients: &mut ClientTable,
        flows: &FlowTable,
        flow: FlowAt<'_>,
        hash: u64,
        (direction, bytes): (Direction, u64),
    ) {
        let FlowAt { index, key, now } = flow;
        let max = self.dns.domain_cap();
        let Some(client) = clients.at_mut(index) else {
            return;
        };
        let name = || {
            flows
                .domain(key)
                .map(|d| d.name.clone())
                .unwrap_or_else(|| std::sync::Arc::from("?"))
        };
        client
            .dns
            .domain_mut(hash, name, now, max)
            .traffic
            .add(direction, bytes);
    }

    /// Counts DNS messages: queries to the sender, responses to the receiver.
    pub fn observe_dns(
        &mut self,
        clients: &mut ClientTable,
        lan: &Lan,
        now: u64,
        sides: (Option<ClientKey>, Option<ClientKey>),
        ip: &IpPacket<'_>,
        (src_port, dst_port, tcp_flags): (u16, u16, Option<TcpFlags>),
    ) {
        let ends = Endpoints {
            src_ip: ip.src,
            src_port,
            dst_ip: ip.dst,
            dst_port,
        };
        match tcp_flags {
            None => self.dns_message(clients, lan, now, sides, ip.payload, ends),
            Some(flags) => {
                let key: StreamKey = (ip.src, src_port, ip.dst, dst_port);
                let mut messages = std::mem::take(&mut self.dns_messages);
                self.dns
                    .feed_tcp(key, flags.syn(), ip.payload, now, &mut messages);
                for message in &messages {
                    self.dns_message(clients, lan, now, sides, message, ends);
                }
                if flags.fin() || flags.rst() {
                    self.dns.close_tcp(&key);
                }
                messages.clear();
                self.dns_messages = messages;
            }
        }
    }

    /// Counts one DNS message to the client that sent the query or
    /// receives the response.
    fn dns_message(
        &mut self,
        clients: &mut ClientTable,
        lan: &Lan,
        now: u64,
        (src, dst): (Option<ClientKey>, Option<ClientKey>),
        message: &[u8],
        ends: Endpoints,
    ) {
        if message.is_empty() {
            return;
        }
        let Some((msg, role)) = self.dns.classify(message, ends) else {
            return;
        };
        let client = match role {
            MessageRole::Query | MessageRole::MdnsQuery => src,
            MessageRole::Response => dst,
            MessageRole::Ignored => None,
        };
        let Some(index) = client.and_then(|k| clients.index_of(&k)) else {
            return;
        };
        self.dns.clients = clients.share_divisor(index);
        let Some(client) = clients.at_mut(index) else {
            return;
        };
        match role {
            MessageRole::Query => {
                let outside = is_unicast(ends.dst_ip) && !lan.contains(ends.dst_ip);
                self.dns
                    .record_query(&mut client.dns, &msg, ends, now, outside);
            }
            MessageRole::MdnsQuery => {
                client.dns.mdns_queries = client.dns.mdns_queries.wrapping_add(1);
            }
            MessageRole::Response => self.dns.record_response(&mut client.dns, &msg, ends, now),
            MessageRole::Ignored => {}
        }
    }
}

/// A connection attributed to a domain (at its opening, or when its TLS
/// server name arrives).
fn count_domain_connection(dns: &mut ClientDns, domain: &DomainRef, now: u64, max: usize) {
    let stats = dns.domain_mut(domain.hash, || domain.name.clone(), now, max);
    stats.connections = stats.connections.wrapping_add(1);
}

/// What a ClientHello attempt gave.
#[derive(Clone, Debug, PartialEq, Eq)]
enum HelloOutcome {
    Name(String),
    NoName,
    Incomplete,
    NotTls,
}

fn server_name_of(parsed: &Parsed<'_>) -> HelloOutcome {
    match parsed {
        Parsed::Hello(hello) => match hello.server_name() {
            Some(name) if !name.is_empty() => {
                HelloOutcome::Name(String::from_utf8_lossy(name).into_owned())
            }
            _ => HelloOutcome::NoName,
        },
        Parsed::Incomplete { .. } => HelloOutcome::Incomplete,
        Parsed::Sslv2 => HelloOutcome::NoName,
    }
}
