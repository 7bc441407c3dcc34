//! Flows (connections): one per 5-tuple between a client and the router or
//! beyond, with TCP state and idle timeouts on packet time.
//!
//! The rules follow OpenWrt's conntrack defaults, so `connections_active`
//! reads like the router's own connection count.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::TcpFlags;

use super::clients::ClientKey;
use super::dns::DomainRef;
use super::protocols::ProtocolId;
use super::snapshot::Direction;
use super::time::{PacketSpan, PacketTime};

/// Idle timeouts, in packet time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Timeouts {
    pub tcp_established: PacketSpan,
    /// After the first FIN, and how long a closed flow lingers.
    pub tcp_closing: PacketSpan,
    /// UDP seen in one direction only.
    pub udp_unreplied: PacketSpan,
    /// UDP once both directions were seen.
    pub udp_replied: PacketSpan,
    pub icmp: PacketSpan,
    /// Any other IP protocol.
    pub other: PacketSpan,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            tcp_established: PacketSpan::from_secs(7440),
            tcp_closing: PacketSpan::from_secs(120),
            udp_unreplied: PacketSpan::from_secs(60),
            udp_replied: PacketSpan::from_secs(180),
            icmp: PacketSpan::from_secs(30),
            other: PacketSpan::from_secs(600),
        }
    }
}

/// A flow's identity, with the client's side first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct FlowKey {
    pub client: ClientKey,
    pub client_ip: IpAddr,
    pub remote_ip: IpAddr,
    /// 0 for protocols without ports.
    pub client_port: u16,
    pub remote_port: u16,
    pub ip_proto: u8,
}

/// Where a flow is in looking for its TLS ClientHello (server name).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HelloState {
    /// TCP, no payload from the client yet.
    Waiting,
    /// The ClientHello spans segments; an assembler holds the start.
    Assembling,
    /// Found, or not TLS, or not TCP: nothing more to look for.
    Done,
}

#[derive(Clone, Debug)]
struct Flow {
    protocol: ProtocolId,
    /// The name the flow is attributed to (DNS answer or TLS server name).
    domain: Option<DomainRef>,
    hello: HelloState,
    last_seen: PacketTime,
    seen_rx: bool,
    seen_tx: bool,
    fin_from_client: bool,
    fin_from_remote: bool,
    /// Closed (RST, or FIN both ways): no longer active, lingering.
    ended: bool,
}

impl Flow {
    fn new(protocol: ProtocolId, ip_proto: u8, now: PacketTime) -> Flow {
        Flow {
            protocol,
            domain: None,
            hello: if ip_proto == 6 {
                HelloState::Waiting
            } else {
                HelloState::Done
            },
            last_seen: now,
            seen_rx: false,
            seen_tx: false,
            fin_from_client: false,
            fin_from_remote: false,
            ended: false,
        }
    }

    fn timeout(&self, ip_proto: u8, t: &Timeouts) -> PacketSpan {
        match ip_proto {
            6 if self.ended || self.fin_from_client || self.fin_from_remote => t.tcp_closing,
            6 => t.tcp_established,
            17 if self.seen_rx && self.seen_tx => t.udp_replied,
            17 => t.udp_unreplied,
            1 | 58 => t.icmp,
            _ => t.other,
        }
    }

    fn is_expired(&self, ip_proto: u8, now: PacketTime, t: &Timeouts) -> bool {
        now.saturating_since(self.last_seen) > self.timeout(ip_proto, t)
    }
}

/// What one packet did to its flow.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Observation {
    /// The protocol the flow is counted under.
    pub protocol: ProtocolId,
    /// Hash of the flow's domain, if it has one.
    pub domain: Option<u64>,
    /// The flow still looks for a TLS ClientHello.
    pub hello: HelloState,
    /// A new connection was opened by this packet.
    pub opened: bool,
    /// Active connections that ended with this packet (an expired
    /// predecessor, and/or this flow closing): subtract from the client.
    pub deactivated: u64,
    /// A packet towards the client on a flow the client had sent on: the
    /// other side answered it (a sign of a real device, see `clients`).
    pub answered: bool,
}

/// One packet's part in a flow.
#[derive(Clone, Copy, Debug)]
pub struct FlowPacket {
    pub now: PacketTime,
    pub direction: Direction,
    pub tcp_flags: Option<TcpFlags>,
    /// False for later fragments: they never open a connection.
    pub may_open: bool,
    /// The protocol a new flow would be counted under.
    pub protocol: ProtocolId,
}

/// The bounded flow table.
pub struct FlowTable {
    map: HashMap<FlowKey, Flow, foldhash::fast::RandomState>,
    max: usize,
    timeouts: Timeouts,
    pub evictions: u64,
}

impl FlowTable {
    pub fn new(max: usize, timeouts: Timeouts) -> FlowTable {
        FlowTable {
            map: HashMap::default(),
            max: max.max(1),
            timeouts,
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Accounts one packet to its flow. `on_deactivate` is called with the
    /// client of every *other* active flow that had to be evicted to make room.
    #[inline]
    pub fn observe(
        &mut self,
        key: &FlowKey,
        packet: FlowPacket,
        mut on_deactivate: impl FnMut(&ClientKey),
    ) -> Observation {
        let mut obs = Observation {
            protocol: packet.protocol,
            domain: None,
            hello: HelloState::Done,
            opened: false,
            deactivated: 0,
            answered: false,
        };
        let timeouts = self.timeouts;
        if let Some(flow) = self.map.get_mut(key) {
            let reopening_syn = flow.ended && packet.tcp_flags.is_some_and(|f| f.syn() && !f.ack());
            if flow.is_expired(key.ip_proto, packet.now, &timeouts) || reopening_syn {
                if !flow.ended {
                    obs.deactivated += 1;
                }
                if !packet.may_open {
                    self.map.remove(key);
                    return obs;
                }
                *flow = Flow::new(packet.protocol, key.ip_proto, packet.now);
                obs.opened = true;
            }
            obs.protocol = flow.protocol;
            obs.domain = flow.domain.as_ref().map(|d| d.hash);
            obs.hello = flow.hello;
            obs.answered = packet.direction == Direction::Rx && flow.seen_tx;
            obs.deactivated += update(flow, key.ip_proto, packet);
            return obs;
        }
        if !packet.may_open {
            return obs;
        }
        if self.map.len() >= self.max {
            self.make_room(packet.now, &mut on_deactivate);
        }
        let mut flow = Flow::new(packet.protocol, key.ip_proto, packet.now);
        obs.opened = true;
        obs.hello = flow.hello;
        obs.deactivated += update(&mut flow, key.ip_proto, packet);
        self.map.insert(*key, flow);
        obs
    }

    /// Attributes a flow to a domain; returns true if it had none before.
    pub fn set_domain(&mut self, key: &FlowKey, domain: DomainRef) -> bool {
        match self.map.get_mut(key) {
            Some(flow) => flow.domain.replace(domain).is_none(),
            None => false,
        }
    }

    /// The domain a flow is attributed to.
    pub fn domain(&self, key: &FlowKey) -> Option<&DomainRef> {
        self.map.get(key).and_then(|f| f.domain.as_ref())
    }

    /// Records how the search for the flow's ClientHello stands.
    pub fn set_hello(&mut self, key: &FlowKey, state: HelloState) {
        if let Some(flow) = self.map.get_mut(key) {
            flow.hello = state;
        }
    }

    /// Drops expired flows, calling `on_deactivate` for each that was active.
    pub fn expire(&mut self, now: PacketTime, mut on_deactivate: impl FnMut(&ClientKey)) {
        let t = self.timeouts;
        self.map.retain(|key, flow| {
            if flow.is_expired(key.ip_proto, now, &t) {
                if !flow.ended {
                    on_deactivate(&key.client);
                }
                false
            } else {
                true
            }
        });
    }

    /// Drops every flow of the given clients (they were evicted).
    pub fn remove_clients(&mut self, clients: &[ClientKey]) {
        if clients.is_empty() {
            return;
        }
        let before = self.map.len();
        if clients.len() <= 4 {
            self.map.retain(|key, _| !clients.contains(&key.client));
        } else {
            // A batch of evictions (a flood of new MACs evicts a sixteenth
            // of the client table at a time): one hash probe per flow
            // instead of a scan of the batch per flow.
            let gone: std::collections::HashSet<&ClientKey, foldhash::fast::RandomState> =
                clients.iter().collect();
            self.map.retain(|key, _| !gone.contains(&key.client));
        }
        let removed = before - self.map.len();
        self.evictions = self.evictions.wrapping_add(removed as u64);
    }

    /// At the bound: expire what is idle; if still full, evict the least
    /// recently seen sixteenth, so a SYN flood costs one scan per batch.
    fn make_room(&mut self, now: PacketTime, on_deactivate: &mut impl FnMut(&ClientKey)) {
        self.expire(now, &mut *on_deactivate);
        if self.map.len() < self.max {
            return;
        }
        let batch = (self.max / 16).max(1);
        let mut by_age: Vec<(PacketTime, FlowKey)> =
            self.map.iter().map(|(k, f)| (f.last_seen, *k)).collect();
        if batch < by_age.len() {
            by_age.select_nth_unstable_by_key(batch, |(t, _)| *t);
            by_age.truncate(batch);
        }
        for (_, key) in by_age {
            if let Some(flow) = self.map.remove(&key) {
                self.evictions = self.evictions.wrapping_add(1);
                if !flow.ended {
                    on_deactivate(&key.client);
                }
            }
        }
    }
}

/// Applies one packet to a live flow; returns 1 if it closed the flow.
#[inline]
fn update(flow: &mut Flow, ip_proto: u8, packet: FlowPacket) -> u64 {
    flow.last_seen = flow.last_seen.max(packet.now);
    match packet.direction {
        Direction::Rx => flow.seen_rx = true,
        Direction::Tx => flow.seen_tx = true,
    }
    let Some(flags) = packet.tcp_flags.filter(|_| ip_proto == 6) else {
        return 0;
    };
    if flow.ended {
        return 0;
    }
    if flags.fin() {
        match packet.direction {
            Direction::Tx => flow.fin_from_client = true,
            Direction::Rx => flow.fin_from_remote = true,
        }
    }
    if flags.rst() || (flow.fin_from_client && flow.fin_from_remote) {
        flow.ended = true;
        return 1;
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Mac;

    /// One second of packet time, in nanoseconds.
    const S: u64 = 1_000_000_000;

    fn key(proto: u8, port: u16) -> FlowKey {
        FlowKey {
            client: ClientKey::Mac(Mac([2, 0, 0, 0, 0, 1])),
            client_ip: "192.168.1.2".parse().unwrap(),
            remote_ip: "198.51.100.1".parse().unwrap(),
            client_port: port,
            remote_port: 443,
            ip_proto: proto,
        }
    }

    fn pkt(now: u64, direction: Direction, flags: Option<u8>) -> FlowPacket {
        FlowPacket {
            now: PacketTime::from_nanos(now),
            direction,
            tcp_flags: flags.map(TcpFlags),
            may_open: true,
            protocol: ProtocolId(1),
        }
    }

    const SYN: Option<u8> = Some(TcpFlags::SYN);
    const ACK: Option<u8> = Some(TcpFlags::ACK);
    const FIN: Option<u8> = Some(TcpFlags::FIN | TcpFlags::ACK);
    const RST: Option<u8> = Some(TcpFlags::RST);

    fn run(t: &mut FlowTable, k: &FlowKey, p: FlowPacket) -> Observation {
        t.observe(k, p, |_| panic!("no eviction expected"))
    }

    #[test]
    fn a_syn_opens_one_connection_and_fin_both_ways_closes_it() {
        let mut t = FlowTable::new(16, Timeouts::default());
        let k = key(6, 40000);
        let o = run(&mut t, &k, pkt(S, Direction::Tx, SYN));
        assert!(o.opened);
        assert!(
            !run(
                &mut t,
                &k,
                pkt(S, Direction::Rx, Some(TcpFlags::SYN | TcpFlags::ACK))
            )
            .opened
        );
        assert_eq!(
            run(&mut t, &k, pkt(2 * S, Direction::Tx, FIN)).deactivated,
            0
        );
        assert_eq!(
            run(&mut t, &k, pkt(2 * S, Direction::Rx, FIN)).deactivated,
            1
        );
        // The last ACK belongs to the closed flow: nothing new.
        let o = run(&mut t, &k, pkt(3 * S, Direction::Tx, ACK));
        assert!(!o.opened);
        assert_eq!(o.deactivated, 0);
    }

    #[test]
    fn a_flow_seen_mid_stream_counts_once() {
        let mut t = FlowTable::new(16, Timeouts::default());
        let k = key(6, 40000);
        assert!(run(&mut t, &k, pkt(S, Direction::Rx, ACK)).opened);
        assert!(!run(&mut t, &k, pkt(2 * S, Direction::Tx, ACK)).opened);
    }

    #[test]
    fn rst_closes_and_a_new_syn_on_the_same_ports_opens_again() {
        let mut t = FlowTable::new(16, Timeouts::default());
        let k = key(6, 40000);
        run(&mut t, &k, pkt(S, Direction::Tx, SYN));
        assert_eq!(
            run(&mut t, &k, pkt(2 * S, Direction::Rx, RST)).deactivated,
            1
        );
        let o = run(&mut t, &k, pkt(3 * S, Direction::Tx, SYN));
        assert!(o.opened);
        assert_eq!(o.deactivated, 0);
    }

    #[test]
    fn udp_expires_after_60s_unreplied_and_180s_replied() {
        let mut t = FlowTable::new(16, Timeouts::default());
        let k = key(17, 40000);
        assert!(run(&mut t, &k, pkt(0, Direction::Tx, None)).opened);
        assert!(!run(&mut t, &k, pkt(60 * S, Direction::Tx, None)).opened);
        let o = run(&mut t, &k, pkt(121 * S, Direction::Tx, None));
        assert!(o.opened);
        assert_eq!(o.deactivated, 1);
        run(&mut t, &k, pkt(122 * S, Direction::Rx, None));
        assert!(!run(&mut t, &k, pkt(300 * S, Direction::Tx, None)).opened);
        assert!(run(&mut t, &k, pkt(481 * S, Direction::Tx, None)).opened);
    }

    #[test]
    fn expire_reports_only_active_flows() {
        let mut t = FlowTable::new(16, Timeouts::default());
        run(&mut t, &key(6, 1), pkt(0, Direction::Tx, SYN));
        run(&mut t, &key(6, 2), pkt(0, Direction::Tx, SYN));
        run(&mut t, &key(6, 2), pkt(0, Direction::Rx, RST));
        let mut n = 0;
        t.expire(PacketTime::from_nanos(8000 * S), |_| n += 1);
        assert_eq!(n, 1);
        assert!(t.is_empty());
    }

    #[test]
    fn later_fragments_never_open_a_flow() {
        let mut t = FlowTable::new(16, Timeouts::default());
        let mut p = pkt(0, Direction::Tx, None);
        p.may_open = false;
        assert!(!run(&mut t, &key(17, 1), p).opened);
        assert!(t.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_idlest() {
        let mut t = FlowTable::new(32, Timeouts::default());
        let mut deactivated = 0;
        for port in 0..100u16 {
            t.observe(
                &key(6, port),
                pkt(u64::from(port) * S, Direction::Tx, SYN),
                |_| deactivated += 1,
            );
        }
        assert!(t.len() <= 32);
        assert_eq!(t.evictions, deactivated);
        assert_eq!(t.evictions, 100 - t.len() as u64);
        // The newest flow survived.
        assert!(!run(&mut t, &key(6, 99), pkt(100 * S, Direction::Tx, ACK)).opened);
    }
}
