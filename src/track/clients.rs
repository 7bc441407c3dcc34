//! The client table: one entry per LAN host, keyed by MAC (or IP where the
//! link carries no MAC), with its addresses and its counters.

use std::collections::HashMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::decode::Mac;

use super::dns::ClientDns;
use super::protocols::ProtocolId;
use super::snapshot::{Direction, Traffic};

/// What identifies a client.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ClientKey {
    Mac(Mac),
    /// Only where the link layer carries no MAC (raw IP captures).
    Ip(IpAddr),
}

impl ClientKey {
    pub fn mac(&self) -> Option<Mac> {
        match self {
            ClientKey::Mac(m) => Some(*m),
            ClientKey::Ip(_) => None,
        }
    }
}

impl fmt::Display for ClientKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientKey::Mac(m) => m.fmt(f),
            ClientKey::Ip(ip) => ip.fmt(f),
        }
    }
}

/// A client keeps at most this many addresses, the most recently used.
const MAX_IPV4_PER_CLIENT: usize = 4;
const MAX_IPV6_PER_CLIENT: usize = 16;

/// One protocol's counters for one client.
#[derive(Clone, Debug)]
pub struct ProtocolCounters {
    pub protocol: ProtocolId,
    pub traffic: Traffic,
    pub connections: u64,
}

/// One LAN host.
#[derive(Clone, Debug)]
pub struct Client {
    pub key: ClientKey,
    /// Addresses, most recently used last.
    pub ipv4: Vec<Ipv4Addr>,
    pub ipv6: Vec<Ipv6Addr>,
    pub first_seen: u64,
    pub last_seen: u64,
    pub protocols: Vec<ProtocolCounters>,
    pub lan: Traffic,
    pub connections_active: u64,
    pub dns: ClientDns,
}

impl Client {
    fn new(key: ClientKey, now: u64) -> Client {
        let mut client = Client {
            key,
            ipv4: Vec::new(),
            ipv6: Vec::new(),
            first_seen: now,
            last_seen: now,
            protocols: Vec::new(),
            lan: Traffic::default(),
            connections_active: 0,
            dns: ClientDns::default(),
        };
        if let ClientKey::Ip(ip) = key {
            client.note_address(ip);
        }
        client
    }

    /// Records that the client used `ip`; returns true if it is new to it.
    #[inline]
    pub fn note_address(&mut self, ip: IpAddr) -> bool {
        match ip {
            IpAddr::V4(a) => note_recent(&mut self.ipv4, a, MAX_IPV4_PER_CLIENT),
            IpAddr::V6(a) => note_recent(&mut self.ipv6, a, MAX_IPV6_PER_CLIENT),
        }
    }

    /// The counters for `protocol`, created on first use.
    #[inline]
    pub fn protocol_mut(&mut self, protocol: ProtocolId) -> &mut ProtocolCounters {
        let index = match self.protocols.iter().position(|p| p.protocol == protocol) {
            Some(i) => i,
            None => {
                self.protocols.push(ProtocolCounters {
                    protocol,
                    traffic: Traffic::default(),
                    connections: 0,
                });
                self.protocols.len() - 1
            }
        };
        // Found there, or just pushed (a returned `iter_mut` borrow would not
        // let the miss push): in bounds either way.
        #[allow(clippy::indexing_slicing)]
        &mut self.protocols[index]
    }

    #[inline]
    pub fn add_bandwidth(&mut self, protocol: ProtocolId, direction: Direction, bytes: u64) {
        self.protocol_mut(protocol).traffic.add(direction, bytes);
    }

    /// Adds the counters of a saved copy of this client (state restore):
    /// addresses are noted, counters summed, first/last seen widened.
    /// Active connections are not carried over (flows are not saved).
    pub fn restore(&mut self, saved: Client) {
        for a in saved.ipv4 {
            self.note_address(IpAddr::V4(a));
        }
        for a in saved.ipv6 {
            self.note_address(IpAddr::V6(a));
        }
        self.first_seen = self.first_seen.min(saved.first_seen);
        self.last_seen = self.last_seen.max(saved.last_seen);
        for p in saved.protocols {
            let counters = self.protocol_mut(p.protocol);
            counters.traffic.merge(&p.traffic);
            counters.connections = counters.connections.wrapping_add(p.connections);
        }
        self.lan.merge(&saved.lan);
        self.dns.restore_counts(&saved.dns);
    }

    /// The address for the `ip` label: current IPv4, else most recent IPv6.
    pub fn label_ip(&self) -> Option<IpAddr> {
        self.ipv4
            .last()
            .map(|a| IpAddr::V4(*a))
            .or_else(|| self.ipv6.last().map(|a| IpAddr::V6(*a)))
    }
}

/// Moves `addr` to the end of `list` (most recent), bounded to `max` entries.
#[inline]
fn note_recent<A: PartialEq + Copy>(list: &mut Vec<A>, addr: A, max: usize) -> bool {
    if list.last() == Some(&addr) {
        return false;
    }
    let known = match list.iter().position(|a| *a == addr) {
        Some(i) => {
            list.remove(i);
            true
        }
        None => false,
    };
    if list.len() >= max {
        list.remove(0);
    }
    list.push(addr);
    !known
}

/// A new entry graduates to the protected share once its first and last
/// packets are this far apart (packet time): a device that keeps talking.
pub const GRADUATE_AFTER_NANOS: u64 = 5_000_000_000;

/// Activity (packets) halves every this long of packet time, so a device
/// that was busy long ago slowly gives way to one that is busy now.
const ACTIVITY_HALF_LIFE_NANOS: u64 = 6 * 3600 * 1_000_000_000;

/// Where an entry stands in the eviction order, kept beside the clients
/// (same index) so that the clients themselves stay plain data.
#[derive(Clone, Copy, Debug, Default)]
struct Standing {
    /// In the protected share (it showed signs of being a real device).
    protected: bool,
    /// Packets seen, halved every `ACTIVITY_HALF_LIFE_NANOS` since `epoch`.
    activity: u64,
    /// The half-life period `activity` was last brought up to.
    epoch: u64,
}

impl Standing {
    /// Activity as of half-life period `epoch`.
    #[inline]
    fn activity_at(&self, epoch: u64) -> u64 {
        let halvings = epoch.saturating_sub(self.epoch);
        if halvings >= 64 {
            0
        } else {
            self.activity >> halvings
        }
    }

    #[inline]
    fn count_packet(&mut self, epoch: u64) {
        self.activity = self.activity_at(epoch).saturating_add(1);
        self.epoch = self.epoch.max(epoch);
    }
}

#[inline]
fn epoch_of(now: u64) -> u64 {
    now / ACTIVITY_HALF_LIFE_NANOS
}

/// The bounded client table.
///
/// A hostile device can send from as many MACs as it likes, so plain
/// least-recently-seen eviction would let a burst of made-up MACs push out
/// every real device that happens to be idle. Entries therefore start on
/// **probation** and only **graduate** to the protected share on signs of
/// a real device: an answered connection, DHCP, ARP or neighbour discovery
/// from its MAC, or packets at least [`GRADUATE_AFTER_NANOS`] apart.
///
/// - The table holds `max` entries; the protected share at most
///   `max - max / 4`, so a quarter is always left for newcomers.
/// - A new entry in a full table evicts from probation only, least
///   recently seen first (a batch of a sixteenth of the table at once, so
///   a flood costs one scan per batch). Probation may use protected room
///   that is free, so a table without graduates still holds `max` entries.
/// - When the protected share is full, a graduate takes the place of the
///   least active protected entry (fewest packets, halved every 6 hours of
///   packet time: a device idle for a night still outweighs a flood MAC
///   that sent a few frames), which goes back on probation rather than
///   out of the table; a graduate less active than every protected entry
///   stays on probation. Least activity rather than least recently seen,
///   because idle real devices are exactly what a burst of fresh MACs
///   would otherwise displace.
pub struct ClientTable {
    index: HashMap<ClientKey, usize, foldhash::fast::RandomState>,
    clients: Vec<Client>,
    standing: Vec<Standing>,
    max: usize,
    /// How many entries may be protected.
    protected_max: usize,
    protected: usize,
    /// A lower bound on the least activity among protected entries, as of
    /// the half-life period it was computed in (None: not known).
    least_protected: Option<(u64, u64)>,
    pub evictions: u64,
}

impl ClientTable {
    pub fn new(max: usize) -> ClientTable {
        let max = max.max(1);
        ClientTable {
            index: HashMap::default(),
            clients: Vec::new(),
            standing: Vec::new(),
            max,
            protected_max: max - (max / 4).max(1).min(max),
            protected: 0,
            least_protected: None,
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.clients.len()
    }

    pub fn is_empty(&self) -> bool {
        self.clients.is_empty()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    /// Entries in the protected share.
    pub fn protected(&self) -> usize {
        self.protected
    }

    pub fn iter(&self) -> impl Iterator<Item = &Client> {
        self.clients.iter()
    }

    /// Runs `f` on every client (state restore, retention sweeps).
    pub fn for_each_mut(&mut self, f: impl FnMut(&mut Client)) {
        self.clients.iter_mut().for_each(f);
    }

    pub fn get_mut(&mut self, key: &ClientKey) -> Option<&mut Client> {
        let i = *self.index.get(key)?;
        self.clients.get_mut(i)
    }

    /// The index of the client for `key`, if it is in the table.
    #[inline]
    pub fn index_of(&self, key: &ClientKey) -> Option<usize> {
        self.index.get(key).copied()
    }

    /// The client at `index` (from `get_or_insert`; valid until the next
    /// insertion or removal).
    #[inline]
    pub fn at_mut(&mut self, index: usize) -> Option<&mut Client> {
        self.clients.get_mut(index)
    }

    /// The index of the client for `key`, created if new (on probation),
    /// counting one packet of activity. At the bound, the least recently
    /// seen entries on probation are evicted and their keys appended to
    /// `evicted`. An entry whose packets now span
    /// [`GRADUATE_AFTER_NANOS`] graduates.
    #[inline]
    pub fn get_or_insert(
        &mut self,
        key: ClientKey,
        now: u64,
        evicted: &mut Vec<ClientKey>,
    ) -> usize {
        let i = match self.index.get(&key) {
            Some(&i) => i,
            None => {
                if self.clients.len() >= self.max {
                    self.evict_idlest(evicted);
                }
                self.clients.push(Client::new(key, now));
                self.standing.push(Standing {
                    epoch: epoch_of(now),
                    ..Standing::default()
                });
                let i = self.clients.len() - 1;
                self.index.insert(key, i);
                i
            }
        };
        let mut long_seen = false;
        if let Some(client) = self.clients.get_mut(i) {
            client.last_seen = client.last_seen.max(now);
            long_seen = client.last_seen.saturating_sub(client.first_seen) >= GRADUATE_AFTER_NANOS;
        }
        if let Some(standing) = self.standing.get_mut(i) {
            standing.count_packet(epoch_of(now));
            if long_seen && !standing.protected {
                self.graduate(i, now);
            }
        }
        i
    }

    /// Moves the entry at `index` to the protected share (it showed a sign
    /// of being a real device), if there is room or it is more active than
    /// the least active protected entry (which goes back on probation).
    pub fn graduate(&mut self, index: usize, now: u64) {
        let epoch = epoch_of(now);
        let Some(candidate) = self.standing.get(index).copied() else {
            return;
        };
        if candidate.protected {
            return;
        }
        if self.protected < self.protected_max {
            self.set_protected(index, true);
            return;
        }
        let activity = candidate.activity_at(epoch);
        if let Some((least, at)) = self.least_protected {
            if at == epoch && activity <= least {
                return;
            }
        }
        let Some((least_index, least)) = self
            .standing
            .iter()
            .enumerate()
            .filter(|(_, s)| s.protected)
            .map(|(i, s)| (i, s.activity_at(epoch)))
            .min_by_key(|&(_, a)| a)
        else {
            return;
        };
        if activity <= least {
            self.least_protected = Some((least, epoch));
            return;
        }
        self.set_protected(least_index, false);
        self.set_protected(index, true);
    }

    fn set_protected(&mut self, index: usize, protected: bool) {
        if let Some(s) = self.standing.get_mut(index) {
            if s.protected != protected {
                s.protected = protected;
                if protected {
                    self.protected = self.protected.saturating_add(1);
                } else {
                    self.protected = self.protected.saturating_sub(1);
                }
                self.least_protected = None;
            }
        }
    }

    /// How many clients a per-client share of a global bound (the DNS
    /// tables) is divided among, for the client at `index`. With no more
    /// entries on probation than its quarter, simply the number of
    /// clients. A flood of entries on probation shares the quarter's part
    /// of the bound among itself and leaves the protected clients' shares
    /// as if the quarter were full: the sum stays within the bound.
    pub fn share_divisor(&self, index: usize) -> usize {
        let share = self.max - self.protected_max;
        let protected = self.protected;
        let probation = self.clients.len().saturating_sub(protected);
        let is_protected = self.standing.get(index).is_some_and(|s| s.protected);
        if probation <= share {
            self.clients.len()
        } else if is_protected {
            protected.saturating_add(share)
        } else {
            // ⌈(protected + share) × probation / share⌉
            protected
                .saturating_add(share)
                .saturating_mul(probation)
                .div_ceil(share.max(1))
        }
    }

    /// Removes a client (e.g. a MAC found to be the router's).
    pub fn remove(&mut self, key: &ClientKey) -> Option<Client> {
        let i = self.index.remove(key)?;
        let removed = self.clients.swap_remove(i);
        let standing = self.standing.swap_remove(i);
        if standing.protected {
            self.protected = self.protected.saturating_sub(1);
            self.least_protected = None;
        }
        if let Some(moved) = self.clients.get(i) {
            self.index.insert(moved.key, i);
        }
        Some(removed)
    }

    /// Evicts the least recently seen sixteenth of the table (at least
    /// one) from the entries on probation, so a flood of new clients costs
    /// one scan per batch, not per client. Only if none is on probation
    /// (a table too small to keep a quarter for it) do protected entries
    /// go, the least active first.
    fn evict_idlest(&mut self, evicted: &mut Vec<ClientKey>) {
        let batch = (self.max / 16).max(1);
        let mut candidates: Vec<(u64, ClientKey)> = self
            .clients
            .iter()
            .zip(&self.standing)
            .filter(|(_, s)| !s.protected)
            .map(|(c, _)| (c.last_seen, c.key))
            .collect();
        if candidates.is_empty() {
            let epoch = self.standing.iter().map(|s| s.epoch).max().unwrap_or(0);
            candidates = self
                .clients
                .iter()
                .zip(&self.standing)
                .map(|(c, s)| (s.activity_at(epoch), c.key))
                .collect();
        }
        if batch < candidates.len() {
            candidates.select_nth_unstable(batch);
            candidates.truncate(batch);
        }
        for (_, key) in candidates {
            if self.remove(&key).is_some() {
                self.evictions = self.evictions.wrapping_add(1);
                evicted.push(key);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(n: u8) -> ClientKey {
        ClientKey::Mac(Mac([2, 0, 0, 0, 0, n]))
    }

    #[test]
    fn addresses_fold_into_one_client_most_recent_last() {
        let mut t = ClientTable::new(8);
        let mut ev = Vec::new();
        let i = t.get_or_insert(mac(1), 1, &mut ev);
        let c = t.at_mut(i).unwrap();
        assert!(c.note_address("192.168.1.5".parse().unwrap()));
        assert!(c.note_address("fd00::5".parse().unwrap()));
        assert!(c.note_address("192.168.1.6".parse().unwrap()));
        assert!(!c.note_address("192.168.1.6".parse().unwrap()));
        assert_eq!(c.label_ip(), Some("192.168.1.6".parse().unwrap()));
        assert!(!c.note_address("192.168.1.5".parse().unwrap()));
        assert_eq!(c.label_ip(), Some("192.168.1.5".parse().unwrap()));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_idlest_first() {
        let mut t = ClientTable::new(4);
        let mut ev = Vec::new();
        for n in 0..4 {
            t.get_or_insert(mac(n), 10 + u64::from(n), &mut ev);
        }
        // Client 0 becomes the most recently seen.
        t.get_or_insert(mac(0), 100, &mut ev);
        t.get_or_insert(mac(9), 101, &mut ev);
        assert_eq!(ev, vec![mac(1)]);
        assert_eq!(t.len(), 4);
        assert_eq!(t.evictions, 1);
        assert!(t.get_mut(&mac(0)).is_some());
        assert!(t.get_mut(&mac(1)).is_none());
    }

    #[test]
    fn a_client_address_list_is_bounded() {
        let mut t = ClientTable::new(1);
        let mut ev = Vec::new();
        let i = t.get_or_insert(mac(1), 1, &mut ev);
        let c = t.at_mut(i).unwrap();
        for n in 0..100u16 {
            c.note_address(IpAddr::V6(Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, n)));
        }
        assert_eq!(c.ipv6.len(), MAX_IPV6_PER_CLIENT);
        assert_eq!(
            c.ipv6.last(),
            Some(&Ipv6Addr::new(0xfd00, 0, 0, 0, 0, 0, 0, 99))
        );
    }

    const SEC: u64 = 1_000_000_000;

    #[test]
    fn new_entries_are_on_probation_and_graduate_after_five_seconds() {
        let mut t = ClientTable::new(8);
        let mut ev = Vec::new();
        t.get_or_insert(mac(1), SEC, &mut ev);
        t.get_or_insert(mac(1), 5 * SEC, &mut ev);
        assert_eq!(t.protected(), 0, "4 s apart: still on probation");
        t.get_or_insert(mac(1), 6 * SEC, &mut ev);
        assert_eq!(t.protected(), 1);
    }

    #[test]
    fn a_flood_of_new_entries_evicts_from_probation_only() {
        let mut t = ClientTable::new(16);
        let mut ev = Vec::new();
        for n in 0..4 {
            let i = t.get_or_insert(mac(n), SEC, &mut ev);
            t.graduate(i, SEC);
        }
        assert_eq!(t.protected(), 4);
        // Idle ever since: plain least-recently-seen eviction would pick them.
        for n in 10..250 {
            t.get_or_insert(mac(n), 100 * SEC + u64::from(n), &mut ev);
        }
        assert_eq!(t.len(), 16);
        for n in 0..4 {
            assert!(t.get_mut(&mac(n)).is_some(), "protected {n} kept");
        }
        assert!(ev.iter().all(|k| !(0..4).any(|n| *k == mac(n))));
        assert_eq!(t.evictions, ev.len() as u64);
        assert_eq!(t.evictions, 4 + 240 - 16);
    }

    #[test]
    fn a_graduate_displaces_the_least_active_protected_entry_only_if_more_active() {
        // 4 entries, 3 protected at most.
        let mut t = ClientTable::new(4);
        let mut ev = Vec::new();
        for (n, packets) in [(1u8, 10u64), (2, 3), (3, 10)] {
            let mut i = 0;
            for _ in 0..packets {
                i = t.get_or_insert(mac(n), SEC, &mut ev);
            }
            t.graduate(i, SEC);
        }
        assert_eq!(t.protected(), 3);
        // Two packets: less active than entry 2, stays on probation.
        t.get_or_insert(mac(9), SEC, &mut ev);
        let i = t.get_or_insert(mac(9), SEC, &mut ev);
        t.graduate(i, SEC);
        let protected = |t: &ClientTable, n: u8| {
            let i = t.index_of(&mac(n)).unwrap();
            t.standing[i].protected
        };
        assert!(!protected(&t, 9));
        assert!(protected(&t, 2));
        // Five packets: more active than entry 2, which goes back on
        // probation (still in the table).
        for _ in 0..3 {
            t.get_or_insert(mac(9), SEC, &mut ev);
        }
        let i = t.index_of(&mac(9)).unwrap();
        t.graduate(i, SEC);
        assert!(protected(&t, 9));
        assert!(!protected(&t, 2));
        assert_eq!((t.protected(), t.len(), t.evictions), (3, 4, 0));
    }

    #[test]
    fn activity_halves_every_six_hours() {
        let s = Standing {
            protected: true,
            activity: 1000,
            epoch: 0,
        };
        assert_eq!(s.activity_at(0), 1000);
        assert_eq!(s.activity_at(epoch_of(6 * 3600 * SEC)), 500);
        assert_eq!(s.activity_at(epoch_of(24 * 3600 * SEC)), 62);
        assert_eq!(s.activity_at(1000), 0);
    }

    #[test]
    fn dns_shares_divide_by_the_clients_unless_probation_overflows_its_quarter() {
        let mut t = ClientTable::new(16);
        let mut ev = Vec::new();
        for n in 0..4 {
            let i = t.get_or_insert(mac(n), SEC, &mut ev);
            t.graduate(i, SEC);
        }
        for n in 10..14 {
            t.get_or_insert(mac(n), SEC, &mut ev);
        }
        // 4 protected, 4 on probation (its quarter): 8 clients.
        assert_eq!(t.share_divisor(0), 8);
        assert_eq!(t.share_divisor(t.index_of(&mac(10)).unwrap()), 8);
        for n in 14..22 {
            t.get_or_insert(mac(n), SEC, &mut ev);
        }
        // 12 on probation: the protected divide as if 4 were; probation
        // shares a quarter's part, so the shares sum to at most the bound.
        assert_eq!(t.share_divisor(0), 8);
        let p = t.share_divisor(t.index_of(&mac(20)).unwrap());
        assert_eq!(p, 24);
        let total = 1000usize;
        assert!(4 * (total / 8) + 12 * (total / p) <= total);
    }
}
