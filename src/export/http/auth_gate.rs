//! The gate in front of the bcrypt checks of basic authentication.
//!
//! A bcrypt check costs tens of milliseconds of a PC core and most of a
//! second of a router's, which makes it the cheapest way to burn the
//! router's CPU from outside: send wrong passwords and give up early. The
//! gate bounds that work, in the order that costs least:
//!
//! 1. credentials that were verified recently are answered from
//!    [`BasicAuth`]'s cache (constant-time comparison, no bcrypt), before
//!    any queue — the right scraper is never held up by guessers;
//! 2. a source (see [`Source`]) that failed [`MAX_FAILURES`] checks within
//!    [`FAILURE_WINDOW`] is refused for [`LOCKOUT`] (HTTP 429) without a
//!    check;
//! 3. at most one check runs at a time, and at most [`MAX_WAITING`] wait
//!    for their turn; beyond that the request is refused at once (HTTP
//!    503). A waiting request whose client goes away is dropped from the
//!    queue with its connection (hyper notices the closed connection and
//!    drops the request), so abandoned guesses cost nothing;
//! 4. the running check holds its turn until bcrypt returns, even if its
//!    client has gone: a check cannot be interrupted, and releasing the
//!    turn early would let the next one start beside it on another thread;
//! 5. a check that fails keeps the turn for as long again as it took, so
//!    a stream of wrong guesses gets bcrypt half the time of one core at
//!    most, and the router's other work the rest.
//!
//! The runtime's blocking pool is where checks run, one thread at a time.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use super::limits::Source;
use crate::export::webconfig::BasicAuth;

/// Checks waiting for their turn, at most (besides the one running).
pub const MAX_WAITING: usize = 4;

/// Failed checks from one source within [`FAILURE_WINDOW`] before it is
/// locked out.
pub const MAX_FAILURES: u32 = 5;

/// The window failures are counted in.
pub const FAILURE_WINDOW: Duration = Duration::from_secs(60);

/// How long a source that failed too often is refused.
pub const LOCKOUT: Duration = Duration::from_secs(60);

/// The longest pause after a failed check (see [`AuthGate::check`]).
const MAX_PAUSE: Duration = Duration::from_secs(2);

/// Sources whose failures are remembered, at most.
const MAX_TRACKED_SOURCES: usize = 1024;

/// What the gate says about a request's credentials.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The right credentials.
    Allowed,
    /// No, malformed or wrong credentials (401).
    Denied,
    /// Too many checks waiting: try again shortly (503).
    Busy,
    /// The source failed too often: refused for this long (429).
    LockedOut(Duration),
}

#[derive(Clone, Copy, Debug)]
struct Failures {
    window_start: Instant,
    count: u32,
    locked_until: Option<Instant>,
}

/// The gate (see the module documentation); one per server.
#[derive(Debug)]
pub struct AuthGate {
    turn: Arc<Semaphore>,
    /// Checks waiting or running.
    queued: Arc<AtomicUsize>,
    failures: Mutex<HashMap<Source, Failures>>,
}

impl Default for AuthGate {
    fn default() -> AuthGate {
        AuthGate::new()
    }
}

/// Counts a check as queued until dropped.
struct Queued(Arc<AtomicUsize>);

impl Drop for Queued {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl AuthGate {
    pub fn new() -> AuthGate {
        AuthGate {
            turn: Arc::new(Semaphore::new(1)),
            queued: Arc::new(AtomicUsize::new(0)),
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn failures(&self) -> MutexGuard<'_, HashMap<Source, Failures>> {
        self.failures.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Checks the `Authorization` header value `header` of a request from
    /// `source` against `auth`.
    pub async fn check(
        &self,
        auth: &Arc<BasicAuth>,
        source: Source,
        header: Option<&[u8]>,
    ) -> Verdict {
        let Some((user, password)) = header.and_then(BasicAuth::credentials) else {
            return Verdict::Denied;
        };
        if auth.is_remembered(&user, &password, Instant::now()) {
            return Verdict::Allowed;
        }
        if let Some(left) = self.locked_out(source, Instant::now()) {
            return Verdict::LockedOut(left);
        }
        let queued = self.queued.fetch_add(1, Ordering::AcqRel);
        let place = Queued(self.queued.clone());
        if queued > MAX_WAITING {
            return Verdict::Busy;
        }
        // Dropped here (and out of the queue) if the client goes away.
        let Ok(turn) = self.turn.clone().acquire_owned().await else {
            return Verdict::Busy;
        };
        // While this one waited, the source may have run out of tries, or
        // the same credentials may have been verified.
        if let Some(left) = self.locked_out(source, Instant::now()) {
            return Verdict::LockedOut(left);
        }
        if auth.is_remembered(&user, &password, Instant::now()) {
            return Verdict::Allowed;
        }
        let checker = auth.clone();
        let ok = tokio::task::spawn_blocking(move || {
            // The turn and the queue place end with the check itself.
            let _turn = turn;
            let _place = place;
            let started = Instant::now();
            let ok = checker.verify(&user, &password);
            if !ok {
                // A wrong guess keeps the turn as long again: under a
                // stream of guesses bcrypt gets at most half a core.
                std::thread::sleep(started.elapsed().min(MAX_PAUSE));
            }
            ok
        })
        .await
        .unwrap_or(false);
        if ok {
            Verdict::Allowed
        } else {
            self.record_failure(source, Instant::now());
            Verdict::Denied
        }
    }

    /// How much longer `source` is locked out, if it is.
    pub fn locked_out(&self, source: Source, now: Instant) -> Option<Duration> {
        let failures = self.failures();
        let until = failures.get(&source)?.locked_until?;
        let left = until.saturating_duration_since(now);
        (!left.is_zero()).then_some(left)
    }

    /// Counts a failed check of `source`; the [`MAX_FAILURES`]th within
    /// the window locks it out.
    pub fn record_failure(&self, source: Source, now: Instant) {
        let mut failures = self.failures();
        if failures.len() >= MAX_TRACKED_SOURCES && !failures.contains_key(&source) {
            failures.retain(|_, f| !is_stale(f, now));
            if failures.len() >= MAX_TRACKED_SOURCES {
                let oldest = failures
                    .iter()
                    .min_by_key(|(_, f)| f.window_start)
                    .map(|(s, _)| *s);
                if let Some(oldest) = oldest {
                    failures.remove(&oldest);
                }
            }
        }
        let entry = failures.entry(source).or_insert(Failures {
            window_start: now,
            count: 0,
            locked_until: None,
        });
        if is_stale(entry, now) {
            *entry = Failures {
                window_start: now,
                count: 0,
                locked_until: None,
            };
        }
        entry.count = entry.count.saturating_add(1);
        if entry.count >= MAX_FAILURES {
            entry.locked_until = Some(now + LOCKOUT);
        }
    }
}

/// Whether a failure record no longer counts: its window has passed and
/// any lockout is over.
fn is_stale(failures: &Failures, now: Instant) -> bool {
    let window_over = now.saturating_duration_since(failures.window_start) > FAILURE_WINDOW;
    let lock_over = !matches!(failures.locked_until, Some(until) if now < until);
    window_over && lock_over
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::net::IpAddr;

    fn source(last: u8) -> Source {
        Source::of(IpAddr::from([192, 0, 2, last]))
    }

    fn header(user: &str, password: &str) -> Vec<u8> {
        use base64::Engine;
        let encoded =
            base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        format!("Basic {encoded}").into_bytes()
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .max_blocking_threads(1)
            .build()
            .unwrap()
    }

    fn auth() -> Arc<BasicAuth> {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = BTreeMap::from([("alice".to_string(), hash)]);
        Arc::new(BasicAuth::new(&users).unwrap())
    }

    #[test]
    fn five_failures_in_a_minute_lock_the_source_out_for_a_while() {
        let gate = AuthGate::new();
        let now = Instant::now();
        for _ in 0..MAX_FAILURES - 1 {
            gate.record_failure(source(1), now);
        }
        assert_eq!(gate.locked_out(source(1), now), None);
        gate.record_failure(source(1), now);
        assert_eq!(gate.locked_out(source(1), now), Some(LOCKOUT));
        assert_eq!(gate.locked_out(source(2), now), None);
        assert_eq!(gate.locked_out(source(1), now + LOCKOUT), None);
        // Failures spread over more than the window do not add up.
        let later = now + LOCKOUT + FAILURE_WINDOW + Duration::from_secs(1);
        gate.record_failure(source(1), later);
        assert_eq!(gate.locked_out(source(1), later), None);
    }

    #[test]
    fn the_right_credentials_pass_and_are_then_answered_without_bcrypt() {
        let runtime = runtime();
        runtime.block_on(async {
            let gate = AuthGate::new();
            let auth = auth();
            let right = header("alice", "s3cret");
            assert_eq!(
                gate.check(&auth, source(1), Some(&right)).await,
                Verdict::Allowed
            );
            // Even a locked-out source's right credentials, once verified,
            // come from the cache.
            for _ in 0..MAX_FAILURES {
                gate.record_failure(source(1), Instant::now());
            }
            assert_eq!(
                gate.check(&auth, source(1), Some(&right)).await,
                Verdict::Allowed
            );
            let wrong = header("alice", "guess");
            assert!(matches!(
                gate.check(&auth, source(1), Some(&wrong)).await,
                Verdict::LockedOut(_)
            ));
            assert_eq!(gate.check(&auth, source(2), None).await, Verdict::Denied);
            assert_eq!(
                gate.check(&auth, source(2), Some(&wrong)).await,
                Verdict::Denied
            );
        });
    }

    #[test]
    fn beyond_the_queue_checks_are_refused_at_once_and_one_runs_at_a_time() {
        let runtime = runtime();
        runtime.block_on(async {
            let gate = Arc::new(AuthGate::new());
            let auth = auth();
            let mut tasks = Vec::new();
            for i in 0..(MAX_WAITING + 4) {
                let (gate, auth) = (gate.clone(), auth.clone());
                let wrong = header("alice", &format!("guess {i}"));
                tasks.push(tokio::spawn(async move {
                    gate.check(&auth, source(i as u8), Some(&wrong)).await
                }));
            }
            let mut verdicts = Vec::new();
            for t in tasks {
                verdicts.push(t.await.unwrap());
            }
            let busy = verdicts.iter().filter(|v| **v == Verdict::Busy).count();
            let denied = verdicts.iter().filter(|v| **v == Verdict::Denied).count();
            assert_eq!(denied, MAX_WAITING + 1, "{verdicts:?}");
            assert_eq!(busy, 3, "{verdicts:?}");
            assert_eq!(gate.queued.load(Ordering::Acquire), 0);
        });
    }
}
