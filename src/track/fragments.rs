//! Later IP fragments carry no ports: remember each first fragment's
//! transport header so the rest of the datagram is counted to the same flow.

use std::collections::HashMap;
use std::net::IpAddr;

use crate::decode::Transport;

/// Reassembly gives up after 60 s (Linux ipfrag_time is 30 s; be lenient).
const FRAGMENT_LIFETIME_NANOS: u64 = 60_000_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct DatagramKey {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    id: u32,
}

/// A bounded map from datagram to its first fragment's transport header.
pub struct FragmentCache {
    map: HashMap<DatagramKey, (Transport, u64), foldhash::fast::RandomState>,
    max: usize,
    pub evictions: u64,
}

impl FragmentCache {
    pub fn new(max: usize) -> FragmentCache {
        FragmentCache {
            map: HashMap::default(),
            max: max.max(1),
            evictions: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Remembers a first fragment.
    pub fn insert_first(
        &mut self,
        src: IpAddr,
        dst: IpAddr,
        protocol: u8,
        id: u32,
        transport: Transport,
        now: u64,
    ) {
        if self.map.len() >= self.max {
            self.expire(now);
            if self.map.len() >= self.max {
                // Under a flood of fragments nothing sensible can be kept.
                self.evictions = self.evictions.wrapping_add(self.map.len() as u64);
                self.map.clear();
            }
        }
        let key = DatagramKey {
            src,
            dst,
            protocol,
            id,
        };
        self.map.insert(key, (transport, now));
    }

    /// The transport header of a later fragment's datagram, if its first
    /// fragment was seen.
    pub fn lookup(&self, src: IpAddr, dst: IpAddr, protocol: u8, id: u32) -> Option<Transport> {
        let key = DatagramKey {
            src,
            dst,
            protocol,
            id,
        };
        self.map.get(&key).map(|(t, _)| *t)
    }

    pub fn expire(&mut self, now: u64) {
        self.map
            .retain(|_, (_, seen)| now.saturating_sub(*seen) <= FRAGMENT_LIFETIME_NANOS);
    }
}
