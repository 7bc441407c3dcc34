//! Connection limits of the HTTP server: how many connections it holds,
//! from whom, which it closes when full, and how long a slow reader may
//! keep a response waiting.
//!
//! All of it is decided before a byte of the request is read, from what
//! the accepted socket tells: the peer's address. The unit of "one peer"
//! is a [`Source`] — an IPv4 address, or the /64 of an IPv6 one (a single
//! IPv6 host owns a whole /64). [`Limits`] keeps the table of open
//! connections:
//!
//! - at most [`MAX_CONNECTIONS`] in total and [`PER_SOURCE`] per source;
//! - of the total, [`RESERVED`] slots are kept for *trusted* sources;
//!   others share the rest. A source is trusted when the allow-list names
//!   it as a single address (`--allow-scraper 192.168.1.10`, as opposed to
//!   a prefix that lets a whole network in), or when it recently proved
//!   itself: with basic authentication, by presenting the right
//!   credentials; without, by a clean exchange (a request answered and the
//!   whole answer read, before the connection went quiet) — see
//!   [`Limits::trust`]. Trust lasts [`TRUST_TTL`] after the last proof.
//! - when a connection would exceed a bound, the oldest *idle* connection
//!   that bound counts is closed to make room — idle meaning not being
//!   answered: waiting for a request head, whether kept alive after an
//!   answer or never finished (slowloris). A newcomer of an untrusted
//!   source may only displace untrusted connections; a trusted newcomer
//!   may displace any idle one. If nothing is idle, the newcomer is closed
//!   at once, unread. Displacing the oldest idle connection rather than
//!   refusing the newcomer is what lets a scraper through when idle
//!   hostile connections fill the table: a fresh connection sends its
//!   request head within milliseconds and is then busy, so an attacker
//!   would have to churn through the whole table in those milliseconds
//!   to displace it.
//!
//! Busy connections cannot be displaced. A slow reader is the one way to
//! stay busy for long, so [`Watched`] (the wrapper every connection's
//! socket goes through) bounds the time a response may spend waiting for
//! the peer to read: [`WRITE_STALL_LIMIT`] in total per response, however
//! the reader trickles; past it the connection is closed. Idle time is
//! bounded by hyper's header-read timeout (the request timeout, which
//! covers both a slow head and a kept-alive connection's wait for its next
//! request).
//!
//! What this cannot do: an attacker who behaves like a scraper from a
//! source (one clean exchange, no password configured) is trusted like
//! one. Naming the scraper's address on the allow-list, or setting a
//! password, makes the reserve the scraper's alone.

use std::collections::VecDeque;
use std::future::Future;
use std::io;
use std::net::{IpAddr, Ipv6Addr};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::task::AbortHandle;
use tokio::time::Sleep;

/// Connections held at once, in total.
pub const MAX_CONNECTIONS: usize = 64;

/// Of [`MAX_CONNECTIONS`], the slots only trusted sources may take.
pub const RESERVED: usize = 16;

/// Connections held at once from one [`Source`].
pub const PER_SOURCE: usize = 8;

/// How long a source stays trusted after it last proved itself.
pub const TRUST_TTL: Duration = Duration::from_secs(10 * 60);

/// Trusted sources remembered at most (the oldest proof is forgotten first).
const MAX_TRUSTED_SOURCES: usize = 64;

/// How long, in total, one response may wait for the peer to read it.
pub const WRITE_STALL_LIMIT: Duration = Duration::from_secs(10);

/// One peer as the limits count it: an IPv4 address (IPv4-mapped IPv6
/// included) or an IPv6 /64.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Source(IpAddr);

impl Source {
    pub fn of(ip: IpAddr) -> Source {
        match ip {
            IpAddr::V4(v4) => Source(IpAddr::V4(v4)),
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => Source(IpAddr::V4(v4)),
                None => {
                    let prefix = u128::from(v6) & !(u128::from(u64::MAX));
                    Source(IpAddr::V6(Ipv6Addr::from(prefix)))
                }
            },
        }
    }
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.0 {
            IpAddr::V4(v4) => write!(f, "{v4}"),
            IpAddr::V6(v6) => write!(f, "{v6}/64"),
        }
    }
}

/// What a connection is doing, shared by its socket wrapper, its request
/// handler and the table (which reads it to find idle connections).
#[derive(Debug)]
pub struct ConnState {
    /// Requests being answered right now.
    in_flight: AtomicUsize,
    /// A write is waiting for the peer to read.
    stalled: AtomicBool,
    /// Requests started on this connection (wrapping: only compared for a
    /// change).
    requests: AtomicU32,
    /// When the connection was accepted or last began a request
    /// (milliseconds since the table's epoch, wrapping): the oldest idle goes
    /// first. 32 bits because 32-bit MIPS has no 64-bit atomics; idle times
    /// are differences, right while under 49 days (idle ones close in seconds).
    last_active_ms: AtomicU32,
}

impl ConnState {
    fn new(now_ms: u32) -> ConnState {
        ConnState {
            in_flight: AtomicUsize::new(0),
            stalled: AtomicBool::new(false),
            requests: AtomicU32::new(0),
            last_active_ms: AtomicU32::new(now_ms),
        }
    }

    /// Not being answered: no request in hand, no answer waiting to be read.
    pub fn is_idle(&self) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && !self.stalled.load(Ordering::Relaxed)
    }
}

/// Marks a connection busy from a request's start until it is dropped
/// (when the handler has its answer, or is cancelled).
#[derive(Debug)]
pub struct RequestGuard(Arc<ConnState>);

impl Drop for RequestGuard {
    fn drop(&mut self) {
        self.0.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// Whether the connection table trusts a source, and why.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Named by the allow-list or recently proved: may use the reserve.
    Trusted,
    /// Everyone else.
    General,
}

/// Why a new connection was closed unread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// Its source already holds [`PER_SOURCE`] busy connections.
    PerSource,
    /// The slots it may use are all busy.
    Full,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Refusal::PerSource => write!(f, "{PER_SOURCE} busy connections from there already"),
            Refusal::Full => write!(f, "every connection slot it may use is busy"),
        }
    }
}

struct Entry {
    id: u64,
    source: Source,
    class: Class,
    state: Arc<ConnState>,
    abort: Option<AbortHandle>,
}

struct Table {
    next_id: u64,
    open: Vec<Entry>,
    /// Sources that proved themselves, and when they last did, oldest first.
    trusted: VecDeque<(Source, Instant)>,
}

/// The table of open connections (see the module documentation).
pub struct Limits {
    epoch: Instant,
    table: Mutex<Table>,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits::new()
    }
}

impl std::fmt::Debug for Limits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let table = self.table();
        f.debug_struct("Limits")
            .field("open", &table.open.len())
            .field("trusted", &table.trusted.len())
            .finish()
    }
}

/// A connection's place in the table, given up when dropped.
#[derive(Debug)]
pub struct Slot {
    limits: Arc<Limits>,
    id: u64,
    pub source: Source,
    pub class: Class,
    pub state: Arc<ConnState>,
}

impl Drop for Slot {
    fn drop(&mut self) {
        self.limits.table().open.retain(|e| e.id != self.id);
    }
}

impl Slot {
    /// The slot's number in the table, for [`Limits::attach`].
    pub fn id(&self) -> u64 {
        self.id
    }

    /// Marks the start of a request; the connection is busy until the
    /// guard is dropped.
    pub fn begin_request(&self) -> RequestGuard {
        begin_request(&self.limits, &self.state)
    }
}

/// [`Slot::begin_request`] for code that holds the pieces, not the slot.
pub fn begin_request(limits: &Limits, state: &Arc<ConnState>) -> RequestGuard {
    state.in_flight.fetch_add(1, Ordering::Relaxed);
    state.requests.fetch_add(1, Ordering::Relaxed);
    state
        .last_active_ms
        .store(limits.now_ms(Instant::now()), Ordering::Relaxed);
    RequestGuard(state.clone())
}

impl Limits {
    pub fn new() -> Limits {
        Limits {
            epoch: Instant::now(),
            table: Mutex::new(Table {
                next_id: 0,
                open: Vec::new(),
                trusted: VecDeque::new(),
            }),
        }
    }

    fn table(&self) -> MutexGuard<'_, Table> {
        // A panic while holding the lock leaves a table that is still
        // consistent entry by entry: go on with it.
        self.table.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Milliseconds since the epoch, wrapping at 2^32 (49.7 days).
    fn now_ms(&self, now: Instant) -> u32 {
        // Truncation is the wrap: only differences of these are used.
        now.saturating_duration_since(self.epoch).as_millis() as u32
    }

    /// Lets the table close connection `id` (by aborting its task, which
    /// drops its socket) when it must make room.
    pub fn attach(&self, id: u64, abort: AbortHandle) {
        if let Some(entry) = self.table().open.iter_mut().find(|e| e.id == id) {
            entry.abort = Some(abort);
        }
    }

    /// Connections open now.
    pub fn open(&self) -> usize {
        self.table().open.len()
    }

    /// Records that `source` proved itself (right credentials, or a clean
    /// exchange where no password is asked for).
    pub fn trust(&self, source: Source, now: Instant) {
        let mut table = self.table();
        table.trusted.retain(|(s, _)| *s != source);
        if table.trusted.len() >= MAX_TRUSTED_SOURCES {
            table.trusted.pop_front();
        }
        table.trusted.push_back((source, now));
    }

    /// Whether `source` proved itself within [`TRUST_TTL`].
    pub fn is_trusted(&self, source: Source, now: Instant) -> bool {
        let mut table = self.table();
        while table
            .trusted
            .front()
            .is_some_and(|(_, at)| now.saturating_duration_since(*at) > TRUST_TTL)
        {
            table.trusted.pop_front();
        }
        table.trusted.iter().any(|(s, _)| *s == source)
    }

    /// Finds room for a new connection from `source` (`named`: the
    /// allow-list names it), closing the oldest idle connections the
    /// bounds require, or says why there is none.
    pub fn admit(
        self: &Arc<Limits>,
        source: Source,
        named: bool,
        now: Instant,
    ) -> Result<Slot, Refusal> {
        let class = if named || self.is_trusted(source, now) {
            Class::Trusted
        } else {
            Class::General
        };
        let mut evicted = Vec::new();
        let result = {
            let mut table = self.table();
            self.make_room(&mut table, source, class, self.now_ms(now), &mut evicted)
                .map(|()| {
                    let id = table.next_id;
                    table.next_id = table.next_id.wrapping_add(1);
                    let state = Arc::new(ConnState::new(self.now_ms(now)));
                    table.open.push(Entry {
                        id,
                        source,
                        class,
                        state: state.clone(),
                        abort: None,
                    });
                    Slot {
                        limits: self.clone(),
                        id,
                        source,
                        class,
                        state,
                    }
                })
        };
        for abort in evicted {
            abort.abort();
        }
        result
    }

    /// Removes the oldest idle connections until a connection of `class`
    /// from `source` fits every bound; their tasks go to `evicted`.
    fn make_room(
        &self,
        table: &mut Table,
        source: Source,
        class: Class,
        now_ms: u32,
        evicted: &mut Vec<AbortHandle>,
    ) -> Result<(), Refusal> {
        let from_source = table.open.iter().filter(|e| e.source == source).count();
        if from_source >= PER_SOURCE {
            evict_oldest_idle(table, |e| e.source == source, now_ms, evicted)
                .ok_or(Refusal::PerSource)?;
        }
        let general_share = MAX_CONNECTIONS.saturating_sub(RESERVED);
        match class {
            Class::General => {
                let general = table
                    .open
                    .iter()
                    .filter(|e| e.class == Class::General)
                    .count();
                if general >= general_share || table.open.len() >= MAX_CONNECTIONS {
                    evict_oldest_idle(table, |e| e.class == Class::General, now_ms, evicted)
                        .ok_or(Refusal::Full)?;
                }
            }
            Class::Trusted => {
                if table.open.len() >= MAX_CONNECTIONS {
                    evict_oldest_idle(table, |e| e.class == Class::General, now_ms, evicted)
                        .or_else(|| evict_oldest_idle(table, |_| true, now_ms, evicted))
                        .ok_or(Refusal::Full)?;
                }
            }
        }
        Ok(())
    }
}

/// Removes the idle connection among those `counts` that has been idle
/// longest; None if none is idle.
fn evict_oldest_idle(
    table: &mut Table,
    counts: impl Fn(&Entry) -> bool,
    now_ms: u32,
    evicted: &mut Vec<AbortHandle>,
) -> Option<()> {
    let index = table
        .open
        .iter()
        .enumerate()
        .filter(|(_, e)| counts(e) && e.state.is_idle())
        // The longest idle; ties (the same millisecond) go to the earlier
        // accepted.
        .max_by_key(|(_, e)| {
            let since = e.state.last_active_ms.load(Ordering::Relaxed);
            (now_ms.wrapping_sub(since), std::cmp::Reverse(e.id))
        })
        .map(|(i, _)| i)?;
    let entry = table.open.swap_remove(index);
    if let Some(abort) = entry.abort {
        evicted.push(abort);
    }
    Some(())
}

/// A connection's socket, as the server reads and writes it: bounds the
/// time each response waits for a slow reader ([`WRITE_STALL_LIMIT`] in
/// total), tells the table when a write is stalled, and — where no
/// password is asked for — vouches for the source after a clean exchange.
pub struct Watched<S> {
    inner: S,
    state: Arc<ConnState>,
    stall_limit: Duration,
    /// Stall time of the current response so far.
    stalled_for: Duration,
    /// Since when the current write has been waiting, and its deadline.
    stall: Option<(Instant, Pin<Box<Sleep>>)>,
    /// The request count the stall time belongs to.
    response_of: u32,
    /// Where to vouch for a clean exchange; None: not this way.
    vouch: Option<(Arc<Limits>, Source)>,
    /// The request count up to which the source was vouched for.
    vouched: u32,
}

impl<S> Watched<S> {
    /// `vouch`: the table and source to trust after a clean exchange
    /// (None where trust comes from credentials instead).
    pub fn new(
        inner: S,
        state: Arc<ConnState>,
        stall_limit: Duration,
        vouch: Option<(Arc<Limits>, Source)>,
    ) -> Watched<S> {
        Watched {
            inner,
            state,
            stall_limit,
            stalled_for: Duration::ZERO,
            stall: None,
            response_of: 0,
            vouch,
            vouched: 0,
        }
    }

    /// Turns a write's outcome into the stall bookkeeping: a Pending write
    /// starts (or goes on) waiting against the response's budget, which
    /// ends in a `TimedOut` error once spent.
    fn account<T>(
        &mut self,
        cx: &mut Context<'_>,
        outcome: Poll<io::Result<T>>,
    ) -> Poll<io::Result<T>> {
        let requests = self.state.requests.load(Ordering::Relaxed);
        if requests != self.response_of {
            // A new response: a fresh budget.
            self.response_of = requests;
            self.stalled_for = Duration::ZERO;
        }
        match outcome {
            Poll::Ready(result) => {
                if let Some((since, _)) = self.stall.take() {
                    self.stalled_for = self.stalled_for.saturating_add(since.elapsed());
                    self.state.stalled.store(false, Ordering::Relaxed);
                }
                Poll::Ready(result)
            }
            Poll::Pending => {
                if self.stall.is_none() {
                    let remaining = self.stall_limit.saturating_sub(self.stalled_for);
                    self.stall = Some((Instant::now(), Box::pin(tokio::time::sleep(remaining))));
                    self.state.stalled.store(true, Ordering::Relaxed);
                }
                let expired = match &mut self.stall {
                    Some((_, deadline)) => deadline.as_mut().poll(cx).is_ready(),
                    None => false,
                };
                if expired {
                    return Poll::Ready(Err(io::Error::new(
                        io::ErrorKind::TimedOut,
                        format!(
                            "the peer read too slowly (the answer waited {:?} for it)",
                            self.stall_limit
                        ),
                    )));
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        let outcome = Pin::new(&mut this.inner).poll_read(cx, buf);
        if outcome.is_pending() && this.state.is_idle() {
            // Quiet with every answer read: a clean exchange, if there
            // was one since the last time.
            let requests = this.state.requests.load(Ordering::Relaxed);
            if requests != this.vouched {
                this.vouched = requests;
                if let Some((limits, source)) = &this.vouch {
                    limits.trust(*source, Instant::now());
                }
            }
        }
        outcome
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write(cx, buf);
        self.account(cx, outcome)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let outcome = Pin::new(&mut self.inner).poll_write_vectored(cx, bufs);
        self.account(cx, outcome)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let outcome = Pin::new(&mut self.inner).poll_flush(cx);
        self.account(cx, outcome)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v4(last: u8) -> Source {
        Source::of(IpAddr::from([192, 0, 2, last]))
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap()
    }

    #[test]
    fn an_ipv6_host_counts_as_its_slash_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(Source::of(a), Source::of(b));
        assert_ne!(Source::of(a), Source::of(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        assert_eq!(Source::of(mapped), v4(7));
        assert_eq!(Source::of(a).to_string(), "2001:db8:1:2::/64");
    }

    #[test]
    fn one_source_gets_per_source_connections_and_then_displaces_its_own_oldest_idle() {
        let limits = Arc::new(Limits::new());
        let now = Instant::now();
        let mut slots: Vec<Slot> = (0..PER_SOURCE)
            .map(|_| limits.admit(v4(1), false, now).unwrap())
            .collect();
        // All busy: the next one is refused.
        let guards: Vec<RequestGuard> = slots.iter().map(Slot::begin_request).collect();
        assert_eq!(
            limits.admit(v4(1), false, now).unwrap_err(),
            Refusal::PerSource
        );
        // Another source is not held back.
        let other = limits.admit(v4(2), false, now).unwrap();
        drop(guards);
        // Idle again: the newcomer displaces one of them.
        slots.push(limits.admit(v4(1), false, now).unwrap());
        assert_eq!(limits.open(), PER_SOURCE + 1);
        drop(other);
        drop(slots);
        assert_eq!(limits.open(), 0);
    }

    #[test]
    fn untrusted_sources_leave_the_reserve_free_and_a_named_scraper_takes_it() {
        let limits = Arc::new(Limits::new());
        let now = Instant::now();
        let general = MAX_CONNECTIONS - RESERVED;
        let slots: Vec<Slot> = (0..general)
            .map(|i| {
                limits
                    .admit(v4(10 + (i / PER_SOURCE) as u8), false, now)
                    .unwrap()
            })
            .collect();
        let _busy: Vec<RequestGuard> = slots.iter().map(Slot::begin_request).collect();
        // The general share is full of busy connections.
        assert_eq!(
            limits.admit(v4(200), false, now).unwrap_err(),
            Refusal::Full
        );
        // A named scraper still gets in, up to the reserve.
        let named: Vec<Slot> = (0..RESERVED)
            .map(|i| limits.admit(v4(100 + i as u8), true, now).unwrap())
            .collect();
        assert!(named.iter().all(|s| s.class == Class::Trusted));
        let _busy_named: Vec<RequestGuard> = named.iter().map(Slot::begin_request).collect();
        assert_eq!(limits.admit(v4(250), true, now).unwrap_err(), Refusal::Full);
    }

    #[test]
    fn a_full_table_of_idle_connections_gives_way_oldest_first() {
        let limits = Arc::new(Limits::new());
        let start = Instant::now();
        let runtime = runtime();
        runtime.block_on(async {
            let mut tasks = Vec::new();
            for i in 0..(MAX_CONNECTIONS - RESERVED) {
                let slot = limits
                    .admit(v4(10 + (i / PER_SOURCE) as u8), false, start)
                    .unwrap();
                // Each one became active a little later than the last.
                slot.state.last_active_ms.store(i as u32, Ordering::Relaxed);
                let task = tokio::spawn(async move {
                    let _slot = slot;
                    std::future::pending::<()>().await
                });
                tasks.push(task);
            }
            // Attach the abort handles as the server does.
            {
                let mut table = limits.table();
                for (entry, task) in table.open.iter_mut().zip(&tasks) {
                    entry.abort = Some(task.abort_handle());
                }
            }
            // A second later: every one has been idle at least that long.
            let later = start + Duration::from_secs(1);
            let newcomer = limits.admit(v4(222), false, later).unwrap();
            tokio::task::yield_now().await;
            // The first (oldest) was closed; the rest still run.
            assert!(tasks[0].is_finished());
            assert!(tasks[1..].iter().all(|t| !t.is_finished()));
            assert_eq!(limits.open(), MAX_CONNECTIONS - RESERVED);
            drop(newcomer);
            for t in &tasks {
                t.abort();
            }
        });
    }

    #[test]
    fn trust_lasts_its_time_after_the_last_proof() {
        let limits = Limits::new();
        let now = Instant::now();
        limits.trust(v4(5), now);
        assert!(limits.is_trusted(v4(5), now + TRUST_TTL));
        assert!(!limits.is_trusted(v4(6), now));
        assert!(!limits.is_trusted(v4(5), now + TRUST_TTL + Duration::from_secs(1)));
        for i in 0..=MAX_TRUSTED_SOURCES {
            limits.trust(
                Source::of(IpAddr::from([10, 0, (i / 256) as u8, i as u8])),
                now,
            );
        }
        assert!(!limits.is_trusted(Source::of(IpAddr::from([10, 0, 0, 0])), now));
        assert!(limits.is_trusted(Source::of(IpAddr::from([10, 0, 0, 1])), now));
    }

    #[test]
    fn a_reader_that_never_reads_is_cut_off_after_the_stall_limit() {
        use tokio::io::AsyncWriteExt;
        let runtime = runtime();
        runtime.block_on(async {
            let (client, server) = tokio::io::duplex(1024);
            let limits = Arc::new(Limits::new());
            let slot = limits.admit(v4(1), false, Instant::now()).unwrap();
            let _request = slot.begin_request();
            let mut watched =
                Watched::new(server, slot.state.clone(), Duration::from_millis(200), None);
            let started = Instant::now();
            let big = vec![b'x'; 64 * 1024];
            let error = watched.write_all(&big).await.unwrap_err();
            assert_eq!(error.kind(), io::ErrorKind::TimedOut);
            let waited = started.elapsed();
            assert!(
                waited >= Duration::from_millis(200) && waited < Duration::from_secs(2),
                "{waited:?}"
            );
            drop(client);
        });
    }
}
