//! DNS per client, and the names behind flows.
//!
//! Per client: query messages by question type, responses by rcode, resolver
//! latency (query → response, matched by id and 5-tuple), distinct names in a
//! sliding 24 h window, the most-queried domains with the bytes and
//! connections attributed to them, mDNS queries apart, and queries that
//! bypass the router's resolver. Globally: the answer addresses of recent
//! responses (TTL-bounded), so later flows to those addresses are named.
//!
//! Every table here is bounded; a flood of random subdomains from one client
//! costs that client's bound and shows up as counted evictions.

use std::collections::HashMap;
use std::hash::BuildHasher;
use std::net::IpAddr;
use std::sync::Arc;

use crate::decode::dns::{qtype_name, rcode_name, DnsMessage, NameBuf, Section, NAME_BUF_LEN};

use super::naming::dns_tcp::DnsTcpStream;

use super::snapshot::Traffic;

const NANOS: u64 = 1_000_000_000;
/// The window of `client_dns_unique_domains`.
pub const UNIQUE_WINDOW_NANOS: u64 = 24 * 3600 * NANOS;
/// An answer names flows for at least this long, whatever its TTL: clients
/// keep using addresses past short TTLs.
const MIN_ANSWER_LIFETIME_NANOS: u64 = 300 * NANOS;
const MAX_ANSWER_LIFETIME_NANOS: u64 = 24 * 3600 * NANOS;
/// A query without a response is forgotten after this long.
const PENDING_LIFETIME_NANOS: u64 = 10 * NANOS;
/// A query repeated (same id, same ends) less than this after the first
/// transmission is a retransmission: the latency runs from the first one,
/// which is how long the client waited (tshark's `dns.time` does the same,
/// with the same 5 s).
const RETRANSMIT_WINDOW_NANOS: u64 = 5 * NANOS;
/// Distinct query types / rcodes kept per client before `other`.
const MAX_CODES_PER_CLIENT: usize = 32;

/// Upper bounds of the resolver-latency histogram, in seconds.
pub const LATENCY_BUCKETS_SECONDS: [f64; 10] =
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0];

/// Resolvers whose names or addresses mark a TLS flow as DNS over HTTPS.
const DOH_NAMES: [&str; 12] = [
    "dns.google",
    "dns.google.com",
    "cloudflare-dns.com",
    "mozilla.cloudflare-dns.com",
    "one.one.one.one",
    "dns.quad9.net",
    "dns11.quad9.net",
    "doh.opendns.com",
    "dns.nextdns.io",
    "doh.cleanbrowsing.org",
    "dns.adguard-dns.com",
    "doh.mullvad.net",
];
const DOH_ADDRESSES: [&str; 12] = [
    "1.1.1.1",
    "1.0.0.1",
    "8.8.8.8",
    "8.8.4.4",
    "9.9.9.9",
    "149.112.112.112",
    "94.140.14.14",
    "2606:4700:4700::1111",
    "2606:4700:4700::1001",
    "2001:4860:4860::8888",
    "2001:4860:4860::8844",
    "2620:fe::fe",
];

/// DNS settings.
#[derive(Clone, Debug)]
pub struct DnsConfig {
    /// Distinct names per client in the 24 h window (exact up to this).
    pub max_unique_per_client: usize,
    /// Named domains (with counters) kept per client.
    pub max_domains_per_client: usize,
    /// Distinct-name entries over all clients: with many clients each one
    /// gets an equal share, so the memory bound is this, not the product
    /// of the client bound and the per-client bound.
    pub max_unique_total: usize,
    /// Named domains over all clients, shared out the same way (a flood of
    /// long random names from every client stays within it).
    pub max_domains_total: usize,
    /// Answer addresses remembered for naming flows.
    pub max_answers: usize,
    /// Queries waiting for their response (latency).
    pub max_pending: usize,
    /// DNS-over-TCP streams and split ClientHellos being reassembled.
    pub max_streams: usize,
}

impl Default for DnsConfig {
    fn default() -> Self {
        DnsConfig {
            max_unique_per_client: 1024,
            max_domains_per_client: 128,
            // 8 bytes an entry: 1 MiB. 128 clients still get 1024 each.
            max_unique_total: 64 * 1024,
            // Up to ~450 bytes an entry with a long name, as much again in
            // every snapshot and scrape: ~2 MiB. 16 clients still get 128
            // each, 200 clients 10 (the exported top), 512 clients 4.
            max_domains_total: 2048,
            max_answers: 4096,
            max_pending: 1024,
            max_streams: 64,
        }
    }
}

impl DnsConfig {
    /// Distinct names each of `clients` clients may keep.
    pub fn unique_cap(&self, clients: usize) -> usize {
        share(self.max_unique_per_client, self.max_unique_total, clients)
    }

    /// Named domains each of `clients` clients may keep.
    pub fn domain_cap(&self, clients: usize) -> usize {
        share(self.max_domains_per_client, self.max_domains_total, clients)
    }
}

/// A client's share of a total, no more than its own bound, at least one.
fn share(per_client: usize, total: usize, clients: usize) -> usize {
    per_client.min(total / clients.max(1)).max(1)
}

/// Counters keyed by a small code (query type, rcode), bounded.
#[derive(Clone, Debug, Default)]
pub struct CodeCounts {
    counts: Vec<(u16, u64)>,
    /// Codes that arrived after the bound was reached.
    pub other: u64,
}

impl CodeCounts {
    pub fn add(&mut self, code: u16) {
        if let Some(entry) = self.counts.iter_mut().find(|(c, _)| *c == code) {
            entry.1 = entry.1.wrapping_add(1);
        } else if self.counts.len() < MAX_CODES_PER_CLIENT {
            self.counts.push((code, 1));
        } else {
            self.other = self.other.wrapping_add(1);
        }
    }

    pub fn iter(&self) -> impl Iterator<Item = (u16, u64)> + '_ {
        self.counts.iter().copied()
    }

    /// Adds `n` to `code` (restoring saved counts); bounded like `add`.
    pub fn add_count(&mut self, code: u16, n: u64) {
        if let Some(entry) = self.counts.iter_mut().find(|(c, _)| *c == code) {
            entry.1 = entry.1.wrapping_add(n);
        } else if self.counts.len() < MAX_CODES_PER_CLIENT {
            self.counts.push((code, n));
        } else {
            self.other = self.other.wrapping_add(n);
        }
    }

    pub fn total(&self) -> u64 {
        self.counts
            .iter()
            .fold(self.other, |sum, (_, n)| sum.wrapping_add(*n))
    }
}

/// Resolver latency: cumulative-free bucket counts, sum and count.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LatencyHistogram {
    /// Per bucket of `LATENCY_BUCKETS_SECONDS` (not cumulative).
    pub buckets: [u64; LATENCY_BUCKETS_SECONDS.len()],
    pub count: u64,
    pub sum_nanos: u64,
}

impl LatencyHistogram {
    pub fn observe(&mut self, nanos: u64) {
        let seconds = nanos as f64 / NANOS as f64;
        if let Some(i) = LATENCY_BUCKETS_SECONDS.iter().position(|le| seconds <= *le) {
            if let Some(b) = self.buckets.get_mut(i) {
                *b = b.wrapping_add(1);
            }
        }
        self.count = self.count.wrapping_add(1);
        self.sum_nanos = self.sum_nanos.wrapping_add(nanos);
    }
}

/// One domain's counters for one client.
#[derive(Clone, Debug)]
pub struct DomainStats {
    pub name: Arc<str>,
    pub queries: u64,
    pub traffic: Traffic,
    pub connections: u64,
    pub first_seen: u64,
    pub last_seen: u64,
}

/// Queries that went around the router's resolver.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Bypass {
    /// Plain DNS queries to a resolver outside the LAN.
    pub other_resolver: u64,
    /// DNS over TLS/QUIC connections (port 853).
    pub dot: u64,
    /// TLS connections to well-known DNS-over-HTTPS resolvers.
    pub doh: u64,
}

/// A client's DNS state.
#[derive(Clone, Debug, Default)]
pub struct ClientDns {
    pub queries: CodeCounts,
    pub responses: CodeCounts,
    pub mdns_queries: u64,
    pub bypass: Bypass,
    pub latency: LatencyHistogram,
    /// The 24 h distinct-name window: (name fingerprint, last queried in
    /// whole seconds of packet time), sorted by fingerprint. Eight bytes a
    /// name instead of a hash map's ~34 (u64 → u64 at 7/8 load, doubled):
    /// this is the largest per-client table, and 512 clients at its bound
    /// must still fit the daemon's memory budget. A 32-bit fingerprint
    /// makes two names collide with probability ~1/8000 at the default
    /// bound — noise next to what the gauge is for.
    unique: Vec<(u32, u32)>,
    pub unique_evictions: u64,
    /// Name hash → counters.
    pub domains: HashMap<u64, DomainStats, foldhash::fast::RandomState>,
    pub domain_evictions: u64,
}

/// The window test on a `unique` entry (seconds rounded down, so an entry
/// leaves the window at most a second early).
fn in_unique_window(seen_secs: u32, now: u64) -> bool {
    now.saturating_sub(u64::from(seen_secs).saturating_mul(NANOS)) <= UNIQUE_WINDOW_NANOS
}

impl ClientDns {
    /// Distinct names queried in the 24 h before `now`.
    pub fn unique_domains(&self, now: u64) -> u64 {
        self.unique
            .iter()
            .filter(|(_, seen)| in_unique_window(*seen, now))
            .count() as u64
    }

    fn note_unique(&mut self, hash: u64, now: u64, max: usize) {
        // The high half: foldhash mixes best there.
        let fingerprint = (hash >> 32) as u32;
        let seen = u32::try_from(now / NANOS).unwrap_or(u32::MAX);
        let at = match self.unique.binary_search_by_key(&fingerprint, |e| e.0) {
            Ok(i) => {
                if let Some(entry) = self.unique.get_mut(i) {
                    entry.1 = entry.1.max(seen);
                }
                return;
            }
            Err(i) => i,
        };
        if self.unique.len() < max.max(1) {
            self.unique.insert(at, (fingerprint, seen));
            return;
        }
        self.unique.retain(|(_, seen)| in_unique_window(*seen, now));
        if self.unique.len() >= max.max(1) {
            // The least recently queried eighth goes (one scan per batch),
            // and whatever is above a bound that shrank.
            let batch = (max / 8)
                .max(1)
                .saturating_add(self.unique.len().saturating_sub(max));
            let mut ages: Vec<u32> = self.unique.iter().map(|e| e.1).collect();
            let cut = batch.min(ages.len().saturating_sub(1));
            let (_, threshold, _) = ages.select_nth_unstable(cut);
            let threshold = *threshold;
            let older = self.unique.iter().filter(|e| e.1 < threshold).count();
            // Ties at the threshold go too, until the batch is full.
            let mut ties = batch.saturating_sub(older);
            let before = self.unique.len();
            self.unique.retain(|(_, seen)| {
                if *seen < threshold {
                    return false;
                }
                if *seen == threshold && ties > 0 {
                    ties -= 1;
                    return false;
                }
                true
            });
            self.unique.shrink_to(max);
            let evicted = before.saturating_sub(self.unique.len());
            self.unique_evictions = self.unique_evictions.wrapping_add(evicted as u64);
        }
        let at = self
            .unique
            .binary_search_by_key(&fingerprint, |e| e.0)
            .unwrap_or_else(|i| i);
        self.unique.insert(at, (fingerprint, seen));
    }

    /// Adds the counters (not the names) of a saved copy (state restore).
    pub fn restore_counts(&mut self, saved: &ClientDns) {
        for (code, n) in saved.queries.iter() {
            self.queries.add_count(code, n);
        }
        self.queries.other = self.queries.other.wrapping_add(saved.queries.other);
        for (code, n) in saved.responses.iter() {
            self.responses.add_count(code, n);
        }
        self.responses.other = self.responses.other.wrapping_add(saved.responses.other);
        self.mdns_queries = self.mdns_queries.wrapping_add(saved.mdns_queries);
        self.bypass.other_resolver = self
            .bypass
            .other_resolver
            .wrapping_add(saved.bypass.other_resolver);
        self.bypass.dot = self.bypass.dot.wrapping_add(saved.bypass.dot);
        self.bypass.doh = self.bypass.doh.wrapping_add(saved.bypass.doh);
        for (mine, theirs) in self
            .latency
            .buckets
            .iter_mut()
            .zip(saved.latency.buckets.iter())
        {
            *mine = mine.wrapping_add(*theirs);
        }
        self.latency.count = self.latency.count.wrapping_add(saved.latency.count);
        self.latency.sum_nanos = self.latency.sum_nanos.wrapping_add(saved.latency.sum_nanos);
    }

    /// Privacy retention: drops the domains (names and their counters) not
    /// seen for more than `retention` nanoseconds before `now`.
    pub fn forget_domains_idle_since(&mut self, now: u64, retention: u64) {
        self.domains
            .retain(|_, d| now.saturating_sub(d.last_seen) <= retention);
    }

    /// The counters of a domain, created (bounded) if new.
    pub fn domain_mut(
        &mut self,
        hash: u64,
        name: impl FnOnce() -> Arc<str>,
        now: u64,
        max: usize,
    ) -> &mut DomainStats {
        if !self.domains.contains_key(&hash) && self.domains.len() >= max {
            let evicted = evict_oldest(&mut self.domains, max, |d| d.last_seen);
            self.domain_evictions = self.domain_evictions.wrapping_add(evicted);
        }
        let stats = self.domains.entry(hash).or_insert_with(|| DomainStats {
            name: name(),
            queries: 0,
            traffic: Traffic::default(),
            connections: 0,
            first_seen: now,
            last_seen: now,
        });
        stats.last_seen = stats.last_seen.max(now);
        stats
    }
}

/// Removes the least recently seen eighth of `map` (at least one); returns
/// how many went.
pub(crate) fn evict_oldest<K: Copy + Eq + std::hash::Hash + Ord, V>(
    map: &mut HashMap<K, V, foldhash::fast::RandomState>,
    max: usize,
    seen: impl Fn(&V) -> u64,
) -> u64 {
    // Down to the bound (it shrinks as clients arrive), and an eighth more.
    let batch = (max / 8)
        .max(1)
        .saturating_add(map.len().saturating_sub(max));
    let mut ages: Vec<(u64, K)> = map.iter().map(|(k, v)| (seen(v), *k)).collect();
    if batch < ages.len() {
        ages.select_nth_unstable(batch);
        ages.truncate(batch);
    }
    for (_, key) in &ages {
        map.remove(key);
    }
    // A map that grew under a larger share gives the memory back.
    map.shrink_to(max);
    ages.len() as u64
}

/// A name learnt from DNS answers or a TLS server name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainRef {
    pub hash: u64,
    pub name: Arc<str>,
}

#[derive(Clone, Debug)]
struct Answer {
    domain: DomainRef,
    expires: u64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
struct PendingKey {
    client_ip: IpAddr,
    client_port: u16,
    server_ip: IpAddr,
    server_port: u16,
    id: u16,
}

/// One side of a TCP connection: (sender ip, port, receiver ip, port).
pub type StreamKey = (IpAddr, u16, IpAddr, u16);

/// The daemon-wide DNS state and counters.
pub struct DnsTracker {
    pub config: DnsConfig,
    hasher: foldhash::fast::RandomState,
    answers: HashMap<IpAddr, Answer, foldhash::fast::RandomState>,
    pending: HashMap<PendingKey, u64, foldhash::fast::RandomState>,
    /// DNS-over-TCP streams being split into messages, with their last use.
    tcp: HashMap<StreamKey, (DnsTcpStream, u64), foldhash::fast::RandomState>,
    doh_addresses: Vec<IpAddr>,
    pub stats: DnsStats,
    /// How many clients the tracker holds (kept current by the tracker):
    /// the per-client bounds are shares of the totals.
    pub clients: usize,
}

/// What happened to DNS messages, for the self-metrics.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct DnsStats {
    pub messages: u64,
    pub malformed: u64,
    pub answers_evicted: u64,
    pub pending_evicted: u64,
    pub streams_evicted: u64,
}

/// A query or response, as the tracker hands it over.
#[derive(Clone, Copy, Debug)]
pub struct Endpoints {
    pub src_ip: IpAddr,
    pub src_port: u16,
    pub dst_ip: IpAddr,
    pub dst_port: u16,
}

/// What a DNS message means for the clients involved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum MessageRole {
    /// A query sent by the source.
    Query,
    /// A response received by the destination.
    Response,
    /// An mDNS query sent by the source.
    MdnsQuery,
    /// Nothing to count.
    Ignored,
}

impl DnsTracker {
    pub fn new(config: DnsConfig) -> DnsTracker {
        DnsTracker {
            config,
            hasher: foldhash::fast::RandomState::default(),
            answers: HashMap::default(),
            pending: HashMap::default(),
            tcp: HashMap::default(),
            doh_addresses: DOH_ADDRESSES
                .iter()
                .filter_map(|a| a.parse().ok())
                .collect(),
            stats: DnsStats::default(),
            clients: 1,
        }
    }

    /// Named domains each client may keep now.
    pub fn domain_cap(&self) -> usize {
        self.config.domain_cap(self.clients)
    }

    /// The hash that keys a (lower-case) name everywhere in lanwatch.
    pub fn hash_name(&self, name: &[u8]) -> u64 {
        self.hasher.hash_one(name)
    }

    pub fn answers_len(&self) -> usize {
        self.answers.len()
    }

    /// Feeds one direction of a DNS-over-TCP connection; the complete
    /// messages are appended to `out` (copied: TCP DNS is rare).
    pub fn feed_tcp(
        &mut self,
        key: StreamKey,
        syn: bool,
        payload: &[u8],
        now: u64,
        out: &mut Vec<Vec<u8>>,
    ) {
        if syn {
            self.tcp.remove(&key);
        }
        if payload.is_empty() {
            return;
        }
        if !self.tcp.contains_key(&key) && self.tcp.len() >= self.config.max_streams {
            // The idlest streams go first, as everywhere else.
            let evicted = evict_oldest(&mut self.tcp, self.config.max_streams, |s| s.1);
            self.stats.streams_evicted = self.stats.streams_evicted.wrapping_add(evicted);
        }
        let (stream, last_used) = self
            .tcp
            .entry(key)
            .or_insert_with(|| (DnsTcpStream::with_limit(16 * 1024), now));
        *last_used = now;
        let mut feed = stream.feed(payload);
        while let Some(message) = feed.next_message() {
            out.push(message.to_vec());
        }
    }

    /// Ends a TCP stream (FIN/RST).
    pub fn close_tcp(&mut self, key: &StreamKey) {
        self.tcp.remove(key);
    }

    /// Classifies a message: queries are the sender's, responses the
    /// receiver's. Returns the parsed message with its role.
    pub fn classify<'m>(
        &mut self,
        message: &'m [u8],
        ends: Endpoints,
    ) -> Option<(DnsMessage<'m>, MessageRole)> {
        self.stats.messages = self.stats.messages.wrapping_add(1);
        let Ok(msg) = DnsMessage::new_checked(message) else {
            self.stats.malformed = self.stats.malformed.wrapping_add(1);
            return None;
        };
        let mdns = ends.src_port == 5353 || ends.dst_port == 5353;
        let role = match (msg.qr(), mdns) {
            (false, true) => MessageRole::MdnsQuery,
            (false, false) if ends.dst_port == 53 => MessageRole::Query,
            (true, false) if ends.src_port == 53 => MessageRole::Response,
            _ => MessageRole::Ignored,
        };
        Some((msg, role))
    }

    /// Counts a query sent by a client (`dns`), remembering it for latency.
    /// `resolver_outside_lan`: the query goes around the router's resolver.
    pub fn record_query(
        &mut self,
        dns: &mut ClientDns,
        msg: &DnsMessage<'_>,
        ends: Endpoints,
        now: u64,
        resolver_outside_lan: bool,
    ) {
        let Some(Ok(question)) = msg.questions().next() else {
            self.stats.malformed = self.stats.malformed.wrapping_add(1);
            return;
        };
        dns.queries.add(question.qtype);
        if resolver_outside_lan {
            dns.bypass.other_resolver = dns.bypass.other_resolver.wrapping_add(1);
        }
        let mut buf: NameBuf = [0; NAME_BUF_LEN];
        if let Ok(len) = question.name.write_lower(&mut buf) {
            let name = buf.get(..len).unwrap_or_default();
            if !name.is_empty() {
                let hash = self.hash_name(name);
                dns.note_unique(hash, now, self.config.unique_cap(self.clients));
                let max = self.domain_cap();
                let stats = dns.domain_mut(hash, || name_arc(name), now, max);
                stats.queries = stats.queries.wrapping_add(1);
            }
        } else {
            // A name that cannot be read (a compression-pointer loop or
            // chain, say): the query still counts under its type, and the
            // message shows up as malformed.
            self.stats.malformed = self.stats.malformed.wrapping_add(1);
        }
        self.remember_pending(ends, msg.id(), now);
    }

    fn remember_pending(&mut self, ends: Endpoints, id: u16, now: u64) {
        if self.pending.len() >= self.config.max_pending {
            self.pending
                .retain(|_, sent| now.saturating_sub(*sent) <= PENDING_LIFETIME_NANOS);
            if self.pending.len() >= self.config.max_pending {
                // The oldest first: under a flood those are the flood's own, and
                // the other clients' queries, answered within milliseconds, keep
                // their latency.
                let evicted =
                    evict_oldest(&mut self.pending, self.config.max_pending, |sent| *sent);
                self.stats.pending_evicted = self.stats.pending_evicted.wrapping_add(evicted);
            }
        }
        let key = PendingKey {
            client_ip: ends.src_ip,
            client_port: ends.src_port,
            server_ip: ends.dst_ip,
            server_port: ends.dst_port,
            id,
        };
        match self.pending.get(&key) {
            Some(first) if now.saturating_sub(*first) < RETRANSMIT_WINDOW_NANOS => {}
            _ => {
                self.pending.insert(key, now);
            }
        }
    }

    /// Counts a response received by a client, measures the latency and
    /// remembers the answer addresses.
    pub fn record_response(
        &mut self,
        dns: &mut ClientDns,
        msg: &DnsMessage<'_>,
        ends: Endpoints,
        now: u64,
    ) {
        dns.responses.add(u16::from(msg.rcode()));
        let key = PendingKey {
            client_ip: ends.dst_ip,
            client_port: ends.dst_port,
            server_ip: ends.src_ip,
            server_port: ends.src_port,
            id: msg.id(),
        };
        if let Some(sent) = self.pending.remove(&key) {
            dns.latency.observe(now.saturating_sub(sent));
        }
        self.remember_answers(dns, msg, now);
    }

    /// A (or AAAA) answers name their addresses after the question: what
    /// the client asked for, whatever CNAME chain led there.
    fn remember_answers(&mut self, dns: &ClientDns, msg: &DnsMessage<'_>, now: u64) {
        let Some(Ok(question)) = msg.questions().next() else {
            return;
        };
        let mut buf: NameBuf = [0; NAME_BUF_LEN];
        let Ok(len) = question.name.write_lower(&mut buf) else {
            return;
        };
        let name = buf.get(..len).unwrap_or_default();
        if name.is_empty() {
            return;
        }
        let mut domain: Option<DomainRef> = None;
        for record in msg.answers() {
            let Ok(record) = record else { break };
            if record.section != Section::Answer {
                break;
            }
            let Some(ip) = record.ip() else { continue };
            let domain = domain
                .get_or_insert_with(|| {
                    let hash = self.hasher.hash_one(name);
                    // The client's query usually made the name already:
                    // share it rather than keep a second copy.
                    let name = match dns.domains.get(&hash) {
                        Some(d) => Arc::clone(&d.name),
                        None => name_arc(name),
                    };
                    DomainRef { hash, name }
                })
                .clone();
            let lifetime = (u64::from(record.ttl) * NANOS)
                .clamp(MIN_ANSWER_LIFETIME_NANOS, MAX_ANSWER_LIFETIME_NANOS);
            self.insert_answer(ip, domain, now.saturating_add(lifetime), now);
        }
    }

    fn insert_answer(&mut self, ip: IpAddr, domain: DomainRef, expires: u64, now: u64) {
        if !self.answers.contains_key(&ip) && self.answers.len() >= self.config.max_answers {
            self.answers.retain(|_, a| a.expires > now);
            if self.answers.len() >= self.config.max_answers {
                let batch = (self.config.max_answers / 8).max(1);
                let mut by_expiry: Vec<(u64, IpAddr)> = self
                    .answers
                    .iter()
                    .map(|(ip, a)| (a.expires, *ip))
                    .collect();
                if batch < by_expiry.len() {
                    by_expiry.select_nth_unstable(batch);
                    by_expiry.truncate(batch);
                }
                for (_, ip) in &by_expiry {
                    self.answers.remove(ip);
                }
                self.stats.answers_evicted = self
                    .stats
                    .answers_evicted
                    .wrapping_add(by_expiry.len() as u64);
            }
        }
        self.answers.insert(ip, Answer { domain, expires });
    }

    /// The name a recent DNS answer gave `ip`, if it has not expired.
    pub fn domain_of(&self, ip: IpAddr, now: u64) -> Option<DomainRef> {
        self.answers
            .get(&ip)
            .filter(|a| a.expires > now)
            .map(|a| a.domain.clone())
    }

    /// A domain reference for a TLS server name.
    pub fn domain_for_name(&self, name: &[u8]) -> Option<DomainRef> {
        if name.is_empty() || name.len() > 253 {
            return None;
        }
        let lower: Vec<u8> = name.iter().map(u8::to_ascii_lowercase).collect();
        let lower = lower.strip_suffix(b".").unwrap_or(&lower);
        Some(DomainRef {
            hash: self.hasher.hash_one(lower),
            name: name_arc(lower),
        })
    }

    /// Whether a TLS flow goes to a well-known DNS-over-HTTPS resolver.
    pub fn is_doh(&self, remote: IpAddr, server_name: Option<&str>) -> bool {
        self.doh_addresses.contains(&remote) || server_name.is_some_and(|n| DOH_NAMES.contains(&n))
    }

    /// Drops expired answers and pending queries.
    pub fn expire(&mut self, now: u64) {
        self.answers.retain(|_, a| a.expires > now);
        self.pending
            .retain(|_, sent| now.saturating_sub(*sent) <= PENDING_LIFETIME_NANOS);
    }
}

/// A name as shared text; bytes that are not UTF-8 are replaced.
fn name_arc(name: &[u8]) -> Arc<str> {
    Arc::from(String::from_utf8_lossy(name).as_ref())
}

/// The mnemonic of a query type (`A`, `HTTPS`, `TYPE65280`).
pub fn query_type_label(qtype: u16) -> String {
    qtype_name(qtype).to_string()
}

/// The mnemonic of an rcode (`NOERROR`, `NXDOMAIN`, `RCODE15`).
pub fn rcode_label(rcode: u16) -> String {
    rcode_name(rcode).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A query for `example.com` type A, id 0x1234.
    const QUERY: [u8; 29] = [
        0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, //
        7, b'E', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
        0x00, 0x01, 0x00, 0x01,
    ];

    /// The response: one A record 93.184.215.14, TTL 3600, NOERROR.
    const RESPONSE: [u8; 45] = [
        0x12, 0x34, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, //
        7, b'e', b'x', b'a', b'm', b'p', b'l', b'e', 3, b'c', b'o', b'm', 0, //
        0x00, 0x01, 0x00, 0x01, //
        0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x0e, 0x10, 0x00, 0x04, 93, 184, 215, 14,
    ];

    fn ends(client: &str, server: &str, query: bool) -> Endpoints {
        let (c, s) = (client.parse().unwrap(), server.parse().unwrap());
        if query {
            Endpoints {
                src_ip: c,
                src_port: 40000,
                dst_ip: s,
                dst_port: 53,
            }
        } else {
            Endpoints {
                src_ip: s,
                src_port: 53,
                dst_ip: c,
                dst_port: 40000,
            }
        }
    }

    #[test]
    fn a_query_and_its_response_give_type_rcode_latency_and_an_answer() {
        let mut t = DnsTracker::new(DnsConfig::default());
        let mut client = ClientDns::default();
        let q = ends("192.168.1.2", "192.168.1.1", true);
        let (msg, role) = t.classify(&QUERY, q).unwrap();
        assert_eq!(role, MessageRole::Query);
        t.record_query(&mut client, &msg, q, NANOS, false);
        let r = ends("192.168.1.2", "192.168.1.1", false);
        let (msg, role) = t.classify(&RESPONSE, r).unwrap();
        assert_eq!(role, MessageRole::Response);
        t.record_response(&mut client, &msg, r, NANOS + 12_000_000);

        assert_eq!(client.queries.iter().collect::<Vec<_>>(), vec![(1, 1)]);
        assert_eq!(client.responses.iter().collect::<Vec<_>>(), vec![(0, 1)]);
        assert_eq!(client.latency.count, 1);
        assert_eq!(
            client.latency.buckets[4], 1,
            "12 ms falls in the 25 ms bucket"
        );
        assert_eq!(client.unique_domains(NANOS), 1);
        let named: Vec<&str> = client.domains.values().map(|d| &*d.name).collect();
        assert_eq!(named, vec!["example.com"], "lower-cased, no trailing dot");
        let answer = t
            .domain_of("93.184.215.14".parse().unwrap(), 2 * NANOS)
            .unwrap();
        assert_eq!(&*answer.name, "example.com");
        assert_eq!(answer.hash, t.hash_name(b"example.com"));
    }

    #[test]
    fn latency_runs_from_the_first_transmission_of_a_retransmitted_query() {
        let mut t = DnsTracker::new(DnsConfig::default());
        let mut client = ClientDns::default();
        let q = ends("192.168.1.2", "192.168.1.1", true);
        let r = ends("192.168.1.2", "192.168.1.1", false);
        for sent in [NANOS, 2 * NANOS] {
            let (msg, _) = t.classify(&QUERY, q).unwrap();
            t.record_query(&mut client, &msg, q, sent, false);
        }
        let (msg, _) = t.classify(&RESPONSE, r).unwrap();
        t.record_response(&mut client, &msg, r, 2 * NANOS + 5_000_000);
        assert_eq!(client.latency.count, 1);
        assert_eq!(client.latency.sum_nanos, NANOS + 5_000_000);

        // Five seconds or more after the first: a new query, timed afresh.
        for sent in [10 * NANOS, 15 * NANOS] {
            let (msg, _) = t.classify(&QUERY, q).unwrap();
            t.record_query(&mut client, &msg, q, sent, false);
        }
        let (msg, _) = t.classify(&RESPONSE, r).unwrap();
        t.record_response(&mut client, &msg, r, 15 * NANOS + 7_000_000);
        assert_eq!(client.latency.count, 2);
        assert_eq!(
            client.latency.sum_nanos,
            NANOS + 5_000_000 + 7_000_000,
            "the second pair is timed from 15 s"
        );
    }

    #[test]
    fn answers_expire_but_live_at_least_five_minutes() {
        let mut t = DnsTracker::new(DnsConfig::default());
        let mut client = ClientDns::default();
        let r = ends("192.168.1.2", "192.168.1.1", false);
        let (msg, _) = t.classify(&RESPONSE, r).unwrap();
        t.record_response(&mut client, &msg, r, 0);
        let ip = "93.184.215.14".parse().unwrap();
        assert!(t.domain_of(ip, 3599 * NANOS).is_some());
        assert!(t.domain_of(ip, 3601 * NANOS).is_none());
    }

    #[test]
    fn distinct_names_are_bounded_per_client_with_counted_evictions() {
        let config = DnsConfig {
            max_unique_per_client: 64,
            max_domains_per_client: 16,
            ..DnsConfig::default()
        };
        let mut t = DnsTracker::new(config);
        let mut client = ClientDns::default();
        let q = ends("192.168.1.2", "192.168.1.1", true);
        for n in 0..1000u32 {
            let mut msg = QUERY.to_vec();
            // Vary the first label: a random-subdomain flood.
            let label = format!("{n:07}");
            msg.splice(13..20, label.bytes());
            let (parsed, _) = t.classify(&msg, q).unwrap();
            t.record_query(&mut client, &parsed, q, NANOS, false);
        }
        assert!(client.unique_domains(NANOS) <= 64);
        assert_eq!(client.unique_domains(NANOS) + client.unique_evictions, 1000);
        assert!(client.domains.len() <= 16);
        assert_eq!(client.queries.total(), 1000);
    }

    #[test]
    fn a_flood_of_unanswered_queries_evicts_its_own_oldest_not_everyone_pending() {
        let config = DnsConfig {
            max_pending: 64,
            ..DnsConfig::default()
        };
        let mut t = DnsTracker::new(config);
        let mut flooder = ClientDns::default();
        let mut client = ClientDns::default();
        let ms = NANOS / 1000;
        let flood_query = |t: &mut DnsTracker, flooder: &mut ClientDns, n: u64| {
            let mut msg = QUERY.to_vec();
            msg.splice(0..2, (n as u16).to_be_bytes());
            let q = ends("192.168.1.66", "192.168.1.1", true);
            let (parsed, _) = t.classify(&msg, q).unwrap();
            t.record_query(flooder, &parsed, q, n * ms, false);
        };
        for n in 0..63 {
            flood_query(&mut t, &mut flooder, n);
        }
        let q = ends("192.168.1.2", "192.168.1.1", true);
        let (msg, _) = t.classify(&QUERY, q).unwrap();
        t.record_query(&mut client, &msg, q, 63 * ms, false);
        for n in 63..100 {
            flood_query(&mut t, &mut flooder, n);
        }
        assert!(t.pending.len() <= 64, "bounded");
        assert!(t.stats.pending_evicted >= 100 + 1 - 64, "and counted");
        let r = ends("192.168.1.2", "192.168.1.1", false);
        let (msg, _) = t.classify(&RESPONSE, r).unwrap();
        t.record_response(&mut client, &msg, r, 100 * ms);
        assert_eq!(client.latency.count, 1, "the other client's query was kept");
        assert_eq!(client.latency.sum_nanos, 37 * ms);
    }

    #[test]
    fn per_client_bounds_are_shares_of_the_totals() {
        let c = DnsConfig::default();
        assert_eq!(c.domain_cap(1), c.max_domains_per_client);
        assert_eq!(c.unique_cap(1), c.max_unique_per_client);
        assert_eq!(c.domain_cap(512), c.max_domains_total / 512);
        assert_eq!(c.unique_cap(512), c.max_unique_total / 512);
        assert_eq!(c.domain_cap(usize::MAX), 1, "never below one");
    }

    #[test]
    fn a_client_over_a_shrunken_share_is_trimmed_on_its_next_name() {
        let mut t = DnsTracker::new(DnsConfig {
            max_unique_total: 64,
            max_domains_total: 16,
            ..DnsConfig::default()
        });
        let mut client = ClientDns::default();
        let q = ends("192.168.1.2", "192.168.1.1", true);
        let query = |t: &mut DnsTracker, client: &mut ClientDns, n: u32| {
            let mut msg = QUERY.to_vec();
            msg.splice(13..20, format!("{n:07}").bytes());
            let (parsed, _) = t.classify(&msg, q).unwrap();
            t.record_query(client, &parsed, q, NANOS, false);
        };
        for n in 0..100 {
            query(&mut t, &mut client, n);
        }
        assert!(client.domains.len() > 2 && client.domains.len() <= 16);
        assert!(client.unique_domains(NANOS) > 8 && client.unique_domains(NANOS) <= 64);
        // Eight clients now share the totals: 2 domains, 8 names each.
        t.clients = 8;
        query(&mut t, &mut client, 1000);
        assert!(client.domains.len() <= 2);
        assert!(client.unique_domains(NANOS) <= 8);
        assert_eq!(client.unique_domains(NANOS) + client.unique_evictions, 101);
    }

    #[test]
    fn the_unique_window_is_24_hours() {
        let mut t = DnsTracker::new(DnsConfig::default());
        let mut client = ClientDns::default();
        let q = ends("192.168.1.2", "192.168.1.1", true);
        let (msg, _) = t.classify(&QUERY, q).unwrap();
        t.record_query(&mut client, &msg, q, 0, false);
        assert_eq!(client.unique_domains(UNIQUE_WINDOW_NANOS), 1);
        assert_eq!(client.unique_domains(UNIQUE_WINDOW_NANOS + 1), 0);
    }

    #[test]
    fn query_types_per_client_are_bounded() {
        let mut counts = CodeCounts::default();
        for code in 0..100u16 {
            counts.add(code);
        }
        assert_eq!(counts.iter().count(), MAX_CODES_PER_CLIENT);
        assert_eq!(counts.other, 100 - MAX_CODES_PER_CLIENT as u64);
        assert_eq!(counts.total(), 100);
    }

    #[test]
    fn doh_is_recognised_by_resolver_address_or_name() {
        let t = DnsTracker::new(DnsConfig::default());
        assert!(t.is_doh("1.1.1.1".parse().unwrap(), None));
        assert!(t.is_doh("203.0.113.9".parse().unwrap(), Some("dns.google")));
        assert!(!t.is_doh("203.0.113.9".parse().unwrap(), Some("example.com")));
    }
}
