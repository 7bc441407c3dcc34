//! The state: clients, flows and what they did.
//!
//! One `Tracker` is owned by the capture worker (single writer, no locks on
//! the packet path). Every table is bounded and evicts idle entries first.
//! All time is packet time, so a replay gives the same answer every time.
//!
//! The accounting rules (DESIGN.md): a client is a LAN address that is not
//! the router, identified by its MAC; bandwidth is client ↔ router or beyond,
//! counted at the IP layer's length; LAN traffic (client ↔ client, broadcast,
//! multicast) is counted apart; connections are bandwidth flows.

pub mod clients;
pub mod flows;
pub mod fragments;
pub mod lan;
pub mod protocols;
pub mod publish;
pub mod snapshot;

use std::collections::HashMap;
use std::net::IpAddr;

use crate::capture::Frame;
use crate::decode::{decode_frame, Decoded, Fragment, IpPacket, LinkInfo, Mac, Network, Transport};

pub use clients::ClientKey;
pub use flows::Timeouts;
pub use protocols::{ProtocolId, ProtocolTable};
pub use snapshot::{
    ClientSnapshot, Direction, Health, PacketOutcomes, ProtocolUsage, Snapshot, Traffic,
};

use clients::ClientTable;
use flows::{FlowKey, FlowPacket, FlowTable};
use fragments::FragmentCache;
use lan::{is_group_ip, Lan};

/// The router is rarely more than a couple of MACs; learning stops here so
/// spoofed DHCP servers cannot grow the list without bound.
const MAX_ROUTER_MACS: usize = 16;

/// Expire idle flows once per second of packet time.
const SWEEP_INTERVAL_NANOS: u64 = 1_000_000_000;

/// Tracker settings.
#[derive(Clone, Debug)]
pub struct TrackConfig {
    pub lan: Lan,
    pub router_macs: Vec<Mac>,
    pub max_clients: usize,
    pub max_flows: usize,
    pub max_fragments: usize,
    pub timeouts: Timeouts,
    pub protocols: ProtocolTable,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            lan: Lan::default(),
            router_macs: Vec::new(),
            max_clients: 512,
            max_flows: 16384,
            max_fragments: 1024,
            timeouts: Timeouts::default(),
            protocols: ProtocolTable::default(),
        }
    }
}

/// The per-client state, written by one capture worker.
pub struct Tracker {
    lan: Lan,
    protocols: ProtocolTable,
    router_macs: Vec<Mac>,
    clients: ClientTable,
    flows: FlowTable,
    fragments: FragmentCache,
    /// IP → MAC, for links that carry no MAC (raw IP, Linux cooked dst).
    neighbours: HashMap<IpAddr, Mac, foldhash::fast::RandomState>,
    max_neighbours: usize,
    outcomes: PacketOutcomes,
    kernel: crate::capture::KernelStats,
    now: u64,
    next_sweep: u64,
    /// Scratch list of clients evicted while handling one packet.
    evicted: Vec<ClientKey>,
}

impl Tracker {
    pub fn new(config: TrackConfig) -> Tracker {
        let mut router_macs = config.router_macs;
        router_macs.truncate(MAX_ROUTER_MACS);
        Tracker {
            lan: config.lan,
            protocols: config.protocols,
            router_macs,
            clients: ClientTable::new(config.max_clients),
            flows: FlowTable::new(config.max_flows, config.timeouts),
            fragments: FragmentCache::new(config.max_fragments),
            neighbours: HashMap::default(),
            max_neighbours: config.max_clients.saturating_mul(4).max(16),
            outcomes: PacketOutcomes::default(),
            kernel: Default::default(),
            now: 0,
            next_sweep: 0,
            evicted: Vec::new(),
        }
    }

    /// Decodes and accounts one captured frame.
    #[inline]
    pub fn process_frame(&mut self, frame: &Frame<'_>) {
        match decode_frame(frame.link, frame.data) {
            Ok(decoded) if !claims_more_than_the_wire(&decoded, frame.wire_len) => {
                self.process_decoded(frame.ts_nanos, &decoded)
            }
            _ => {
                self.advance_time(frame.ts_nanos);
                self.outcomes.malformed = self.outcomes.malformed.wrapping_add(1)
            }
        }
    }

    /// Accounts one decoded frame captured at `ts_nanos`.
    #[inline]
    pub fn process_decoded(&mut self, ts_nanos: u64, decoded: &Decoded<'_>) {
        self.advance_time(ts_nanos);
        match decoded.network {
            Network::Ip(ip) => self.account_ip(&decoded.link, &ip),
            Network::Arp(arp) => {
                self.outcomes.not_ip = self.outcomes.not_ip.wrapping_add(1);
                let sender = IpAddr::V4(arp.sender_ip);
                if is_unicast(sender) && self.lan.contains(sender) && !arp.sender_mac.is_group() {
                    self.learn_neighbour(sender, arp.sender_mac);
                }
            }
            Network::Other { .. } => self.outcomes.not_ip = self.outcomes.not_ip.wrapping_add(1),
        }
    }

    /// Declares a MAC to be the router's (capture interfaces, `--router-mac`).
    pub fn add_router_mac(&mut self, mac: Mac) {
        if mac.is_zero() || mac.is_group() || self.is_router(mac) {
            return;
        }
        if self.router_macs.len() >= MAX_ROUTER_MACS {
            return;
        }
        self.router_macs.push(mac);
        // It was taken for a client until now: its entry held only LAN counts.
        let key = ClientKey::Mac(mac);
        if self.clients.remove(&key).is_some() {
            self.flows.remove_clients(&[key]);
        }
    }

    pub fn router_macs(&self) -> &[Mac] {
        &self.router_macs
    }

    /// Frames skipped by the capture as duplicates (bridged frames seen leaving).
    pub fn set_duplicates(&mut self, duplicates: u64) {
        self.outcomes.duplicate = duplicates;
    }

    pub fn set_kernel_stats(&mut self, stats: crate::capture::KernelStats) {
        self.kernel = stats;
    }

    #[inline]
    fn is_router(&self, mac: Mac) -> bool {
        self.router_macs.contains(&mac)
    }

    #[inline]
    fn advance_time(&mut self, ts: u64) {
        if ts > self.now {
            self.now = ts;
        }
        if self.now >= self.next_sweep {
            self.sweep();
            self.next_sweep = self.now.saturating_add(SWEEP_INTERVAL_NANOS);
        }
    }

    /// Expires idle flows and fragments as of the newest packet time.
    pub fn sweep(&mut self) {
        let clients = &mut self.clients;
        self.flows.expire(self.now, |key| {
            if let Some(c) = clients.get_mut(key) {
                c.connections_active = c.connections_active.saturating_sub(1);
            }
        });
        self.fragments.expire(self.now);
    }

    /// Learns the router from what only a router sends (DHCP server replies,
    /// router advertisements) and from the L2 peer of non-LAN addresses in
    /// LAN ↔ non-LAN traffic. Both ends non-LAN (say a client's global IPv6
    /// address outside the configured prefixes) teaches nothing.
    #[inline]
    fn learn_router(&mut self, link: &LinkInfo, ip: &IpPacket<'_>) {
        let src_lan = self.lan.contains(ip.src);
        let dst_lan = self.lan.contains(ip.dst);
        if let Some(src_mac) = link.src_mac {
            let from_router_service = match ip.transport {
                Transport::Udp { src_port: 67, .. } => true,
                Transport::Icmpv6 { icmp_type: 134, .. } => true,
                _ => false,
            };
            let from_beyond = dst_lan && !src_lan && is_unicast(ip.src);
            if (from_router_service || from_beyond) && !self.is_router(src_mac) {
                self.add_router_mac(src_mac);
            }
        }
        if let Some(dst_mac) = link.dst_mac {
            let to_beyond = src_lan && !dst_lan && is_unicast(ip.dst);
            if to_beyond && !dst_mac.is_group() && !self.is_router(dst_mac) {
                self.add_router_mac(dst_mac);
            }
        }
        // The router's own LAN addresses, so that on links without a
        // receiver MAC (Linux cooked) traffic to them is not a client's.
        if let Some(src_mac) = link.src_mac {
            if src_lan
                && is_unicast(ip.src)
                && self.is_router(src_mac)
                && self.neighbours.get(&ip.src) != Some(&src_mac)
            {
                self.learn_neighbour(ip.src, src_mac);
            }
        }
    }

    /// The client on one side of a packet, if that side is a client.
    #[inline]
    fn client_side(&self, ip: IpAddr, mac: Option<Mac>, is_source: bool) -> Option<ClientKey> {
        if let Some(m) = mac {
            if m.is_group() || self.is_router(m) {
                return None;
            }
        }
        if ip.is_unspecified() {
            // DHCP DISCOVER, IPv6 DAD: a host before it has an address.
            return if is_source {
                mac.map(ClientKey::Mac)
            } else {
                None
            };
        }
        if is_group_ip(ip) || !self.lan.contains(ip) {
            return None;
        }
        match mac {
            Some(m) => Some(ClientKey::Mac(m)),
            None => match self.neighbours.get(&ip) {
                Some(m) if !self.is_router(*m) => Some(ClientKey::Mac(*m)),
                Some(_) => None,
                None => Some(ClientKey::Ip(ip)),
            },
        }
    }

    fn learn_neighbour(&mut self, ip: IpAddr, mac: Mac) {
        if self.neighbours.len() >= self.max_neighbours && !self.neighbours.contains_key(&ip) {
            // Bounded: a flood of spoofed addresses resets the cache rather
            // than growing it; real hosts are relearnt from their next frame.
            self.neighbours.clear();
        }
        self.neighbours.insert(ip, mac);
    }

    /// Finds (or creates) a client, notes the address it used, and returns
    /// its index in the client table.
    #[inline]
    fn touch_client(&mut self, key: ClientKey, ip: IpAddr) -> usize {
        let index = self.clients.get_or_insert(key, self.now, &mut self.evicted);
        let new_address = self
            .clients
            .at_mut(index)
            .is_some_and(|c| !ip.is_unspecified() && c.note_address(ip));
        if !self.evicted.is_empty() {
            self.flows.remove_clients(&self.evicted);
            self.evicted.clear();
        }
        if let (true, Some(mac)) = (new_address, key.mac()) {
            self.learn_neighbour(ip, mac);
        }
        index
    }

    /// Counts LAN traffic for one side.
    #[inline]
    fn add_lan(&mut self, key: ClientKey, ip: IpAddr, direction: Direction, bytes: u64) {
        let index = self.touch_client(key, ip);
        if let Some(c) = self.clients.at_mut(index) {
            c.lan.add(direction, bytes);
        }
    }

    #[inline]
    fn account_ip(&mut self, link: &LinkInfo, ip: &IpPacket<'_>) {
        // Later fragments carry no ports: take them from the first fragment.
        let (transport, may_open) = match ip.fragment {
            Fragment::Whole => (ip.transport, true),
            Fragment::First { id } => {
                self.fragments.insert_first(
                    ip.src,
                    ip.dst,
                    ip.protocol,
                    id,
                    ip.transport,
                    self.now,
                );
                (ip.transport, true)
            }
            Fragment::Later { id } => (
                self.fragments
                    .lookup(ip.src, ip.dst, ip.protocol, id)
                    .unwrap_or(Transport::Opaque),
                false,
            ),
        };

        self.learn_router(link, ip);

        let to_group = is_group_ip(ip.dst) || link.dst_mac.is_some_and(|m| m.is_group());
        let src = self.client_side(ip.src, link.src_mac, true);
        let dst = if to_group {
            None
        } else {
            self.client_side(ip.dst, link.dst_mac, false)
        };
        let bytes = u64::from(ip.ip_len);

        match (src, dst) {
            (Some(s), Some(d)) => {
                self.add_lan(s, ip.src, Direction::Tx, bytes);
                self.add_lan(d, ip.dst, Direction::Rx, bytes);
                self.outcomes.lan = self.outcomes.lan.wrapping_add(1);
            }
            (Some(s), None) if to_group => {
                self.add_lan(s, ip.src, Direction::Tx, bytes);
                self.outcomes.lan = self.outcomes.lan.wrapping_add(1);
            }
            (Some(s), None) => {
                self.account_bandwidth(s, ip, transport, may_open, Direction::Tx);
            }
            (None, Some(d)) => {
                self.account_bandwidth(d, ip, transport, may_open, Direction::Rx);
            }
            (None, None) => self.outcomes.no_client = self.outcomes.no_client.wrapping_add(1),
        }
    }

    #[inline]
    fn account_bandwidth(
        &mut self,
        client: ClientKey,
        ip: &IpPacket<'_>,
        transport: Transport,
        may_open: bool,
        direction: Direction,
    ) {
        let (client_ip, remote_ip) = match direction {
            Direction::Tx => (ip.src, ip.dst),
            Direction::Rx => (ip.dst, ip.src),
        };
        let (ports, tcp_flags) = match transport {
            Transport::Tcp {
                src_port,
                dst_port,
                flags,
            } => (Some((src_port, dst_port)), Some(flags)),
            Transport::Udp { src_port, dst_port } => (Some((src_port, dst_port)), None),
            _ => (None, None),
        };
        // (remote port, client port)
        let ports = ports.map(|(s, d)| match direction {
            Direction::Tx => (d, s),
            Direction::Rx => (s, d),
        });
        let protocol = self.protocols.classify(ip.protocol, ports);
        let key = FlowKey {
            client,
            client_ip,
            remote_ip,
            client_port: ports.map_or(0, |p| p.1),
            remote_port: ports.map_or(0, |p| p.0),
            ip_proto: ip.protocol,
        };
        let packet = FlowPacket {
            now: self.now,
            direction,
            tcp_flags: tcp_flags.filter(|_| ip.protocol == 6),
            may_open,
            protocol,
        };

        // The client first, so that an eviction it causes is settled before
        // the flow table is touched.
        let index = self.touch_client(client, client_ip);
        let clients = &mut self.clients;
        let obs = self.flows.observe(&key, packet, |evicted| {
            if let Some(c) = clients.get_mut(evicted) {
                c.connections_active = c.connections_active.saturating_sub(1);
            }
        });
        if let Some(c) = self.clients.at_mut(index) {
            let counters = c.protocol_mut(obs.protocol);
            counters.traffic.add(direction, u64::from(ip.ip_len));
            if obs.opened {
                counters.connections = counters.connections.wrapping_add(1);
                c.connections_active = c.connections_active.wrapping_add(1);
            }
            c.connections_active = c.connections_active.saturating_sub(obs.deactivated);
        }
        self.outcomes.accounted = self.outcomes.accounted.wrapping_add(1);
    }

    /// A consistent copy of the state, as of the newest packet time.
    pub fn snapshot(&mut self) -> Snapshot {
        let started = std::time::Instant::now();
        self.sweep();
        let mut clients: Vec<ClientSnapshot> = self
            .clients
            .iter()
            .map(|c| {
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
                let mut ipv4 = c.ipv4.clone();
                ipv4.sort();
                let mut ipv6 = c.ipv6.clone();
                ipv6.sort();
                let mac = c.key.mac();
                ClientSnapshot {
                    mac,
                    ip: c.label_ip(),
                    ipv4,
                    ipv6,
                    hostname: None,
                    vendor: None,
                    randomized_mac: mac.is_some_and(|m| m.is_locally_administered()),
                    first_seen: nanos_to_seconds(c.first_seen),
                    last_seen: nanos_to_seconds(c.last_seen),
                    protocols,
                    lan: c.lan,
                    connections_active: c.connections_active,
                }
            })
            .collect();
        clients.sort_by(|a, b| (a.mac, a.ip).cmp(&(b.mac, b.ip)));
        let health = Health {
            packets: self.outcomes,
            kernel_packets: self.kernel.packets,
            kernel_drops: self.kernel.drops,
            clients: self.clients.len() as u64,
            flows: self.flows.len() as u64,
            max_clients: self.clients.max() as u64,
            max_flows: self.flows.max() as u64,
            client_evictions: self.clients.evictions,
            flow_evictions: self.flows.evictions,
            last_packet_time: nanos_to_seconds(self.now),
            snapshot_duration_seconds: started.elapsed().as_secs_f64(),
            resident_memory_bytes: 0,
            start_time_seconds: 0.0,
            flow_offload: None,
        };
        Snapshot { clients, health }
    }
}

/// An IP header whose length is more than the whole frame on the wire lies:
/// a snaplen may cut what was captured, but not what was sent.
#[inline]
fn claims_more_than_the_wire(decoded: &Decoded<'_>, wire_len: u32) -> bool {
    matches!(decoded.network, Network::Ip(ip) if ip.ip_len > wire_len)
}

/// Neither unspecified, multicast nor broadcast.
#[inline]
fn is_unicast(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !is_group_ip(ip)
}

fn nanos_to_seconds(ns: u64) -> f64 {
    // Millisecond precision keeps renderings short and stable.
    (ns / 1_000_000) as f64 / 1000.0
}

#[cfg(test)]
mod tests;
