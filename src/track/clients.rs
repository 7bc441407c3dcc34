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

/// The bounded client table.
pub struct ClientTable {
    index: HashMap<ClientKey, usize, foldhash::fast::RandomState>,
    clients: Vec<Client>,
    max: usize,
    pub evictions: u64,
}

impl ClientTable {
    pub fn new(max: usize) -> ClientTable {
        ClientTable {
            index: HashMap::default(),
            clients: Vec::new(),
            max: max.max(1),
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

    /// The client at `index` (from `get_or_insert`; valid until the next
    /// insertion or removal).
    #[inline]
    pub fn at_mut(&mut self, index: usize) -> Option<&mut Client> {
        self.clients.get_mut(index)
    }

    /// The index of the client for `key`, created if new. At the bound, the
    /// idlest clients are evicted first and their keys appended to `evicted`.
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
                let i = self.clients.len() - 1;
                self.index.insert(key, i);
                i
            }
        };
        if let Some(client) = self.clients.get_mut(i) {
            client.last_seen = client.last_seen.max(now);
        }
        i
    }

    /// Removes a client (e.g. a MAC found to be the router's).
    pub fn remove(&mut self, key: &ClientKey) -> Option<Client> {
        let i = self.index.remove(key)?;
        let removed = self.clients.swap_remove(i);
        if let Some(moved) = self.clients.get(i) {
            self.index.insert(moved.key, i);
        }
        Some(removed)
    }

    /// Evicts the least recently seen sixteenth of the table (at least one),
    /// so a flood of new clients costs one scan per batch, not per client.
    fn evict_idlest(&mut self, evicted: &mut Vec<ClientKey>) {
        let batch = (self.max / 16).max(1);
        let mut by_age: Vec<(u64, ClientKey)> =
            self.clients.iter().map(|c| (c.last_seen, c.key)).collect();
        if batch < by_age.len() {
            by_age.select_nth_unstable(batch);
            by_age.truncate(batch);
        }
        for (_, key) in by_age {
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
}
