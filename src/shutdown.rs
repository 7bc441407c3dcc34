//! Stopping cleanly, and reloading: one handle that SIGTERM/SIGINT, a fatal
//! error in the capture worker, or a test can trigger, and that the HTTP
//! server and the capture loop both watch; the same handle carries SIGHUP's
//! reload requests.
//!
//! The binary installs the handlers first thing ([`Shutdown::trigger_on_signals`]),
//! so no signal ever meets its default disposition afterwards — SIGHUP's
//! would kill the daemon without saving. What a signal does then depends on
//! the phase:
//!
//! - **Starting** (from [`Shutdown::starting`] until
//!   [`Shutdown::stop_gracefully`]; the binary's start-up): nothing has been
//!   counted, nothing needs saving, and start-up may be waiting on something
//!   slow. SIGTERM/SIGINT end the process at once with status 128 + the
//!   signal number (143, 130), as the default disposition would.
//! - **Running** (the default): SIGTERM/SIGINT trigger the handle; the
//!   capture loop and the HTTP server stop on their own, the state is
//!   saved. A second SIGTERM/SIGINT exits at once with 128 + the signal
//!   number, and so does a process that went through `starting` (the
//!   binary) if it is still there [`STOP_DEADLINE`] after the first (a read
//!   stuck on a slow file).
//! - SIGHUP, in any phase, is a reload: it bumps a counter the capture worker
//!   polls between frames (it re-reads the protocol table and the lease file
//!   and saves the state itself, as the tracker's only writer), and runs the
//!   hooks registered with [`Shutdown::on_reload`] (the web config) on a
//!   thread of their own, one reload at a time, so a slow file never keeps
//!   the signal thread from seeing the next SIGTERM.

use std::future::Future;
use std::io;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::sync::watch;
use tracing::{info, warn};

/// How long a triggered shutdown may take before the process exits anyway:
/// the HTTP server's grace for in-flight requests plus time to save the
/// state.
pub const STOP_DEADLINE: Duration = Duration::from_secs(10);

type Hook = Arc<dyn Fn() + Send + Sync>;

/// What the signal thread shares with the handles.
struct Signals {
    /// SIGTERM/SIGINT trigger instead of exiting (false from `starting`
    /// until `stop_gracefully`).
    graceful: AtomicBool,
    /// The signal that triggered the shutdown (0: none did).
    by_signal: AtomicI32,
    /// SIGHUPs (and `request_reload` calls) so far.
    // 32 bits: 32-bit MIPS has no 64-bit atomics; the worker only compares
    // for a change, so wrapping is harmless.
    reloads: AtomicU32,
    /// Set by `starting`: the process is the binary, whose signals these
    /// are, and it may exit on its own after STOP_DEADLINE.
    owns_process: AtomicBool,
    hooks: Mutex<Vec<Hook>>,
    /// Held while the hooks run: one reload at a time.
    reloading: Mutex<()>,
}

/// Tells a running server and capture loop to stop. Clone it freely; `trigger` works from
/// any thread, with or without a tokio runtime, and more than once.
#[derive(Clone)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
    signals: Arc<Signals>,
}

impl std::fmt::Debug for Shutdown {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shutdown")
            .field("triggered", &self.is_triggered())
            .field("by_signal", &self.signal())
            .field("reloads", &self.reloads())
            .finish()
    }
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown {
            tx: Arc::new(watch::Sender::new(false)),
            signals: Arc::new(Signals {
                graceful: AtomicBool::new(true),
                owns_process: AtomicBool::new(false),
                by_signal: AtomicI32::new(0),
                reloads: AtomicU32::new(0),
                hooks: Mutex::new(Vec::new()),
                reloading: Mutex::new(()),
            }),
        }
    }

    /// Starts the graceful shutdown of every server waiting on this handle.
    pub fn trigger(&self) {
        self.tx.send_replace(true);
    }

    /// Whether `trigger` was called (cheap enough for a capture loop to poll
    /// between batches of frames).
    pub fn is_triggered(&self) -> bool {
        *self.tx.borrow()
    }

    /// The signal (SIGTERM, SIGINT) that triggered the shutdown, if one did.
    pub fn signal(&self) -> Option<i32> {
        match self.signals.by_signal.load(Ordering::Relaxed) {
            0 => None,
            n => Some(n),
        }
    }

    /// Until [`stop_gracefully`](Self::stop_gracefully), SIGTERM/SIGINT end
    /// the process at once with 128 + the signal number: nothing counted
    /// yet needs saving, and start-up may be stuck on something slow.
    pub fn starting(&self) {
        self.signals.owns_process.store(true, Ordering::Relaxed);
        self.signals.graceful.store(false, Ordering::Relaxed);
    }

    /// From now on SIGTERM/SIGINT stop the process gracefully (trigger this
    /// handle) instead of ending it at once: call it when the capture loop
    /// is about to run and there is something to save.
    pub fn stop_gracefully(&self) {
        self.signals.graceful.store(true, Ordering::Relaxed);
    }

    /// How many reloads were asked for so far (the capture worker compares
    /// it with the count it last acted on).
    pub fn reloads(&self) -> u32 {
        self.signals.reloads.load(Ordering::Relaxed)
    }

    /// Runs `hook` on every reload (SIGHUP), on a thread of its own, never
    /// two reloads at once.
    pub fn on_reload(&self, hook: impl Fn() + Send + Sync + 'static) {
        self.signals
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Arc::new(hook));
    }

    /// What SIGHUP does: counts a reload for the capture worker and runs the
    /// reload hooks.
    pub fn request_reload(&self) {
        self.signals.reloads.fetch_add(1, Ordering::Relaxed);
        let hooks: Vec<Hook> = self
            .signals
            .hooks
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        if hooks.is_empty() {
            return;
        }
        let signals = self.signals.clone();
        let spawned = std::thread::Builder::new()
            .name("lanwatch-reload".to_string())
            .spawn(move || {
                let _one_at_a_time = signals
                    .reloading
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner);
                for hook in &hooks {
                    hook();
                }
            });
        if let Err(e) = spawned {
            warn!("cannot start the reload thread: {e}");
        }
    }

    /// Handles SIGTERM, SIGINT and SIGHUP from a small thread of its own,
    /// as the module docs describe. The handlers are in place when this
    /// returns; registering them is the only thing that can fail.
    pub fn trigger_on_signals(&self) -> io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (mut terminate, mut interrupt, mut hangup) = {
            let _context = runtime.enter();
            (
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
                signal(SignalKind::hangup())?,
            )
        };
        let shutdown = self.clone();
        std::thread::Builder::new()
            .name("lanwatch-signals".to_string())
            .spawn(move || {
                runtime.block_on(async {
                    loop {
                        let (name, number) = tokio::select! {
                            _ = terminate.recv() => ("SIGTERM", libc::SIGTERM),
                            _ = interrupt.recv() => ("SIGINT", libc::SIGINT),
                            _ = hangup.recv() => {
                                info!("SIGHUP received, reloading");
                                shutdown.request_reload();
                                continue;
                            }
                        };
                        shutdown.on_stop_signal(name, number);
                    }
                });
            })?;
        Ok(())
    }

    /// SIGTERM or SIGINT arrived (see the module docs).
    fn on_stop_signal(&self, name: &'static str, number: i32) {
        let code = 128 + number;
        if !self.signals.graceful.load(Ordering::Relaxed) {
            info!("{name} received while starting; exiting");
            std::process::exit(code);
        }
        if self.is_triggered() {
            warn!("{name} received again; exiting now");
            std::process::exit(code);
        }
        info!("{name} received, shutting down");
        let _ = self.signals.by_signal.compare_exchange(
            0,
            number,
            Ordering::Relaxed,
            Ordering::Relaxed,
        );
        self.trigger();
        if !self.signals.owns_process.load(Ordering::Relaxed) {
            return;
        }
        let watchdog = std::thread::Builder::new()
            .name("lanwatch-stop".to_string())
            .spawn(move || {
                std::thread::sleep(STOP_DEADLINE);
                warn!("still running {STOP_DEADLINE:?} after the {name}; exiting");
                std::process::exit(code);
            });
        if watchdog.is_err() {
            warn!("cannot start the stop deadline thread; stopping without one");
        }
    }

    /// Resolves once `trigger` is called (at once if it already was).
    pub fn wait(&self) -> impl Future<Output = ()> + Send + 'static {
        // Holding the sender keeps the channel open: the future can only
        // end by a trigger, never because the handles were dropped.
        let tx = self.tx.clone();
        let mut rx = tx.subscribe();
        async move {
            let _ = rx.wait_for(|stop| *stop).await;
            drop(tx);
        }
    }
}

impl Default for Shutdown {
    fn default() -> Shutdown {
        Shutdown::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reload_counts_and_runs_every_hook() {
        let shutdown = Shutdown::new();
        let (tx, rx) = std::sync::mpsc::channel();
        for n in 0..2 {
            let tx = Mutex::new(tx.clone());
            shutdown.on_reload(move || {
                let _ = tx.lock().unwrap().send(n);
            });
        }
        assert_eq!(shutdown.reloads(), 0);
        shutdown.request_reload();
        assert_eq!(shutdown.reloads(), 1);
        let mut ran: Vec<i32> = (0..2)
            .map(|_| rx.recv_timeout(Duration::from_secs(5)).unwrap())
            .collect();
        ran.sort();
        assert_eq!(ran, [0, 1]);
        assert!(!shutdown.is_triggered(), "a reload is not a stop");
    }
}
