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
pub mod dns;
pub mod flows;
pub mod fragments;
pub mod identity;
pub mod lan;
pub mod leases;
pub mod naming;
pub mod oui;
pub mod protocols;
pub mod publish;
pub mod snapshot;
mod snapshot_build;
pub mod time;

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::{DecodeError, Decoded, Fragment, IpPacket, LinkInfo, Mac, Network, Transport};

pub use clients::ClientKey;
pub use flows::Timeouts;
pub use protocols::{ProtocolId, ProtocolTable};
pub use snapshot::{
    BypassSnapshot, ClientSnapshot, Direction, DnsSnapshot, DomainUsage, ExportSettings, Health,
    IdentitySnapshot, LatencySnapshot, NamedCount, PacketOutcomes, ProcessStats, ProtocolUsage,
    Snapshot, Traffic,
};
pub use time::{PacketSpan, PacketTime};

use clients::ClientTable;
use dns::DnsConfig;
use flows::{FlowKey, FlowPacket, FlowTable, HelloState, Observation};
use fragments::FragmentCache;
use identity::{AddressBinding, Identities, IdentityConfig};
use lan::{is_group_ip, Lan};
use naming::{FlowAt, Naming};

/// The router is rarely more than a couple of MACs; learning stops here so
/// spoofed DHCP servers cannot grow the list without bound.
const MAX_ROUTER_MACS: usize = 16;

/// Expire idle flows once per second of packet time.
const SWEEP_INTERVAL_NANOS: u64 = 1_000_000_000;

/// Apply the per-domain retention bound once a minute of packet time.
const RETENTION_SWEEP_INTERVAL_NANOS: u64 = 60 * SWEEP_INTERVAL_NANOS;

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
    pub dns: DnsConfig,
    pub identity: IdentityConfig,
    /// A client seen within this long of the newest packet is active.
    pub active_window: u64,
    pub export: ExportSettings,
    /// Privacy: devices never accounted (`--exclude-mac`); their frames
    /// count as `excluded` and nothing else.
    pub exclude_macs: Vec<Mac>,
    /// Privacy: per-domain data not seen for this long (nanoseconds of
    /// packet time) is dropped (`--domain-retention`). None: kept while
    /// the per-client bound allows.
    pub domain_retention: Option<u64>,
}

impl Default for TrackConfig {
    fn default() -> Self {
        TrackConfig {
            lan: Lan::default(),
            router_macs: Vec::new(),
            max_clients: 512,
            // 7/8 of 16384: the hash table's load limit, so at the bound the
            // flow table fills 16 Ki buckets instead of doubling to 32 Ki.
            max_flows: 14336,
            max_fragments: 1024,
            timeouts: Timeouts::default(),
            protocols: ProtocolTable::default(),
            dns: DnsConfig::default(),
            identity: IdentityConfig::default(),
            active_window: 300 * 1_000_000_000,
            export: ExportSettings::default(),
            exclude_macs: Vec::new(),
            domain_retention: None,
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
    now: u64,
    next_sweep: u64,
    /// Scratch list of clients evicted while handling one packet.
    evicted: Vec<ClientKey>,
    /// DNS answers and messages, TLS server names: what names flows.
    naming: Naming,
    identities: Identities,
    active_window: u64,
    export: ExportSettings,
    exclude_macs: Vec<Mac>,
    domain_retention: Option<u64>,
    next_retention_sweep: u64,
}

impl Tracker {
    pub fn new(config: TrackConfig) -> Tracker {
        let mut router_macs = config.router_macs;
        router_macs.truncate(MAX_ROUTER_MACS);
        let naming = Naming::new(config.dns, &config.protocols);
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
            now: 0,
            next_sweep: 0,
            evicted: Vec::new(),
            naming,
            identities: Identities::new(config.identity),
            active_window: config.active_window,
            export: config.export,
            exclude_macs: config.exclude_macs,
            domain_retention: config.domain_retention,
            next_retention_sweep: 0,
        }
    }

    /// Accounts what decoding a frame captured at `ts_nanos` gave: the
    /// frame, or a `malformed` outcome (it is accounted to nobody).
    #[inline]
    pub fn process_result(&mut self, ts_nanos: u64, decoded: &Result<Decoded<'_>, DecodeError>) {
        match decoded {
            Ok(decoded) => self.process_decoded(ts_nanos, decoded),
            Err(_) => {
                self.advance_time(ts_nanos);
                self.outcomes.malformed = self.outcomes.malformed.wrapping_add(1)
            }
        }
    }

    /// Accounts one decoded frame captured at `ts_nanos`.
    #[inline]
    pub fn process_decoded(&mut self, ts_nanos: u64, decoded: &Decoded<'_>) {
        self.advance_time(ts_nanos);
        match decoded.network {
            Network::Ip(ip) => {
                let binding = self.identities.observe_ip(self.now, &decoded.link, &ip);
                self.account_ip(&decoded.link, &ip);
                if let Some(binding) = binding {
                    self.apply_binding(binding);
                }
            }
            Network::Arp(arp) => {
                self.identities.observe_arp(self.now, &arp);
                self.outcomes.not_ip = self.outcomes.not_ip.wrapping_add(1);
                // ARP is what real devices send: its sender graduates.
                if let Some(index) = self.clients.index_of(&ClientKey::Mac(arp.sender_mac)) {
                    self.clients.graduate(index, self.now);
                }
                let sender = IpAddr::V4(arp.sender_ip);
                if is_unicast(sender) && self.lan.contains(sender) && !arp.sender_mac.is_group() {
                    self.learn_neighbour(sender, arp.sender_mac);
                }
            }
            Network::Other { .. } => self.outcomes.not_ip = self.outcomes.not_ip.wrapping_add(1),
        }
    }

    /// An address that DHCP or neighbour discovery gave a MAC: the client
    /// (if known) now uses it, so a renewal that changes the address moves
    /// the client's `ip`. Clients are not created from such messages alone.
    fn apply_binding(&mut self, binding: AddressBinding) {
        let AddressBinding { mac, ip } = binding;
        if !self.lan.contains(ip) || !is_unicast(ip) || self.is_router(mac) {
            return;
        }
        if let Some(client) = self.clients.get_mut(&ClientKey::Mac(mac)) {
            client.note_address(ip);
        }
        if self.neighbours.get(&ip) != Some(&mac) {
            self.learn_neighbour(ip, mac);
        }
    }

    /// Wall-clock housekeeping: re-reads the lease file if it changed.
    pub fn refresh(&mut self, wall_now: std::time::SystemTime) {
        self.identities.refresh(wall_now);
    }

    /// Re-reads the lease file now, changed or not (a reload).
    pub fn reread_leases(&mut self, wall_now: std::time::SystemTime) {
        self.identities.reread_leases(wall_now);
    }

    /// Classifies later flows with `table` (a reload of `--protocols`).
    /// It must keep the ids of the current table's names (build it with
    /// [`ProtocolTable::keeping_ids_of`]): counters and flows hold them.
    pub fn set_protocols(&mut self, table: ProtocolTable) {
        self.naming.set_protocols(&table);
        self.protocols = table;
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

    /// The clients as they are (for the state file).
    pub fn clients(&self) -> impl Iterator<Item = &clients::Client> {
        self.clients.iter()
    }

    /// The client table's bound (`--max-clients`).
    pub fn max_clients(&self) -> usize {
        self.clients.max()
    }

    /// The protocol table the tracker classifies with.
    pub fn protocols(&self) -> &ProtocolTable {
        &self.protocols
    }

    /// Adds a saved client's counters to the table (state restore at
    /// start). Excluded devices and the router are left out; the table's
    /// bound holds as for live traffic. Returns whether it was taken.
    pub fn restore_client(&mut self, saved: clients::Client) -> bool {
        if let Some(mac) = saved.key.mac() {
            if self.is_router(mac) || self.exclude_macs.contains(&mac) || mac.is_group() {
                return false;
            }
        }
        let index = self
            .clients
            .get_or_insert(saved.key, saved.last_seen, &mut self.evicted);
        if !self.evicted.is_empty() {
            self.flows.remove_clients(&self.evicted);
            self.evicted.clear();
        }
        let Some(client) = self.clients.at_mut(index) else {
            return false;
        };
        client.restore(saved);
        // A saved client was a device the daemon knew.
        self.clients.graduate(index, self.now);
        true
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
        self.flows.expire(PacketTime::from_nanos(self.now), |key| {
            if let Some(c) = clients.get_mut(key) {
                c.connections_active = c.connections_active.saturating_sub(1);
            }
        });
        self.fragments.expire(self.now);
        self.naming.expire(self.now);
        if let Some(retention) = self.domain_retention {
            if self.now >= self.next_retention_sweep {
                let now = self.now;
                self.clients
                    .for_each_mut(|c| c.dns.forget_domains_idle_since(now, retention));
                self.next_retention_sweep = now.saturating_add(RETENTION_SWEEP_INTERVAL_NANOS);
            }
        }
    }

    /// Whether a frame is to or from a device excluded by `--exclude-mac`
    /// (by its MAC, or on links without MACs by the address learnt for it).
    #[inline]
    fn is_excluded(&self, link: &LinkInfo, ip: &IpPacket<'_>) -> bool {
        if self.exclude_macs.is_empty() {
            return false;
        }
        let excluded = |mac: Option<Mac>, addr: IpAddr| {
            let mac = mac.or_else(|| self.neighbours.get(&addr).copied());
            mac.is_some_and(|m| self.exclude_macs.contains(&m))
        };
        excluded(link.src_mac, ip.src) || excluded(link.dst_mac, ip.dst)
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
            let from_router_service = is_router_service_reply(ip);
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
        // Per-client DNS bounds are shares of global ones (memory bound).
        self.naming
            .set_client_share(self.clients.share_divisor(index));
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
            self.identities.observe_binding(self.now, mac, ip);
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
        if self.is_excluded(link, ip) {
            self.outcomes.excluded = self.outcomes.excluded.wrapping_add(1);
            return;
        }
        let (transport, may_open) = self.transport_of(ip);

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

        // DHCP and neighbour discovery are what real devices send: the
        // sender graduates from probation (see `clients`).
        if let Some(index) = src
            .filter(|_| is_address_configuration(&transport))
            .and_then(|s| self.clients.index_of(&s))
        {
            self.clients.graduate(index, self.now);
        }

        // After the accounting, so that a client's first packet (often a
        // DNS query) finds its entry.
        if let Some(ports) = dns_ports(&transport) {
            if may_open {
                self.naming.observe_dns(
                    &mut self.clients,
                    &self.lan,
                    self.now,
                    (src, dst),
                    ip,
                    ports,
                );
            }
        }
    }

    /// The transport header of a packet, and whether it may open a flow:
    /// later fragments carry no ports, so they take them from the first
    /// fragment and open nothing.
    #[inline]
    fn transport_of(&mut self, ip: &IpPacket<'_>) -> (Transport, bool) {
        match ip.fragment {
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
        let (key, packet) = self.flow_of(client, ip, transport, may_open, direction);

        // The client first, so that an eviction it causes is settled before
        // the flow table is touched.
        let index = self.touch_client(client, key.client_ip);
        let clients = &mut self.clients;
        let obs = self.flows.observe(&key, packet, |evicted| {
            if let Some(c) = clients.get_mut(evicted) {
                c.connections_active = c.connections_active.saturating_sub(1);
            }
        });
        if obs.answered {
            self.clients.graduate(index, self.now);
        }
        let bytes = u64::from(ip.ip_len);
        if let Some(c) = self.clients.at_mut(index) {
            let counters = c.protocol_mut(obs.protocol);
            counters.traffic.add(direction, bytes);
            if obs.opened {
                counters.connections = counters.connections.wrapping_add(1);
                c.connections_active = c.connections_active.wrapping_add(1);
            }
            c.connections_active = c.connections_active.saturating_sub(obs.deactivated);
        }
        self.outcomes.accounted = self.outcomes.accounted.wrapping_add(1);
        self.name_flow(index, &key, &obs, ip, direction);
    }

    /// The flow a bandwidth packet belongs to (by its client's side), and
    /// what the flow table is told about the packet.
    #[inline]
    fn flow_of(
        &self,
        client: ClientKey,
        ip: &IpPacket<'_>,
        transport: Transport,
        may_open: bool,
        direction: Direction,
    ) -> (FlowKey, FlowPacket) {
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
            now: PacketTime::from_nanos(self.now),
            direction,
            tcp_flags: tcp_flags.filter(|_| ip.protocol == 6),
            may_open,
            protocol,
        };
        (key, packet)
    }

    /// Names a bandwidth flow (DNS answer at its opening, TLS server name
    /// in its first payloads) and adds the packet to the domain it names.
    #[inline]
    fn name_flow(
        &mut self,
        index: usize,
        key: &FlowKey,
        obs: &Observation,
        ip: &IpPacket<'_>,
        direction: Direction,
    ) {
        let bytes = u64::from(ip.ip_len);
        let flow = FlowAt {
            index,
            key,
            now: self.now,
        };
        let mut domain = obs.domain;
        if obs.opened {
            domain = self
                .naming
                .on_flow_opened(&mut self.clients, &mut self.flows, flow, obs.protocol)
                .or(domain);
        }
        if obs.hello != HelloState::Done && direction == Direction::Tx && !ip.payload.is_empty() {
            domain = self
                .naming
                .inspect_client_hello(
                    &mut self.clients,
                    &mut self.flows,
                    flow,
                    ip.payload,
                    obs.hello,
                )
                .or(domain);
        }
        if let Some(hash) = domain {
            self.naming.add_domain_traffic(
                &mut self.clients,
                &self.flows,
                flow,
                hash,
                (direction, bytes),
            );
        }
    }
}

/// The ports of a packet that may carry DNS (53, or mDNS 5353), with the
/// TCP flags for DNS over TCP.
#[inline]
fn dns_ports(transport: &Transport) -> Option<(u16, u16, Option<crate::decode::TcpFlags>)> {
    let is_dns = |s: u16, d: u16| s == 53 || d == 53 || s == 5353 || d == 5353;
    match *transport {
        Transport::Udp { src_port, dst_port } if is_dns(src_port, dst_port) => {
            Some((src_port, dst_port, None))
        }
        Transport::Tcp {
            src_port,
            dst_port,
            flags,
        } if src_port == 53 || dst_port == 53 => Some((src_port, dst_port, Some(flags))),
        _ => None,
    }
}

/// What only a router sends: a DHCP server reply (UDP 67 → 68 carrying a
/// BOOTREPLY) or an IPv6 router advertisement (from a link-local address,
/// as RFC 4861 requires). Anything less strict lets any device hide from
/// accounting by sending one packet from port 67 (a hostile-traffic
/// finding: it would be taken for the router).
#[inline]
fn is_router_service_reply(ip: &IpPacket<'_>) -> bool {
    match ip.transport {
        Transport::Udp {
            src_port: 67,
            dst_port: 68,
        } => ip.payload.first().map_or(true, |op| *op == 2),
        Transport::Icmpv6 { icmp_type: 134, .. } => {
            matches!(ip.src, IpAddr::V6(v6) if v6.segments()[0] & 0xffc0 == 0xfe80)
        }
        _ => false,
    }
}

/// DHCP and DHCPv6 client messages and IPv6 neighbour discovery (router
/// and neighbour solicitations, neighbour advertisements): what a device
/// sends to join the network.
#[inline]
fn is_address_configuration(transport: &Transport) -> bool {
    matches!(
        *transport,
        Transport::Udp {
            src_port: 68,
            dst_port: 67,
        } | Transport::Udp {
            src_port: 546,
            dst_port: 547,
        } | Transport::Icmpv6 {
            icmp_type: 133 | 135 | 136,
            ..
        }
    )
}

/// Neither unspecified, multicast nor broadcast.
#[inline]
fn is_unicast(ip: IpAddr) -> bool {
    !ip.is_unspecified() && !is_group_ip(ip)
}

#[cfg(test)]
mod tests;
