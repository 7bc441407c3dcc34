//! Stopping cleanly: one handle that SIGTERM/SIGINT, a fatal error in the
//! capture worker, or a test can trigger, and that the HTTP server and the
//! capture loop both watch.

use std::future::Future;
use std::io;
use std::sync::Arc;

use tokio::sync::watch;
use tracing::info;

/// Tells a running server and capture loop to stop. Clone it freely; `trigger` works from
/// any thread, with or without a tokio runtime, and more than once.
#[derive(Clone, Debug)]
pub struct Shutdown {
    tx: Arc<watch::Sender<bool>>,
}

impl Shutdown {
    pub fn new() -> Shutdown {
        Shutdown {
            tx: Arc::new(watch::Sender::new(false)),
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

    /// Triggers this shutdown on the first SIGTERM or SIGINT, from a small
    /// thread of its own, so a binary whose main thread is blocked in
    /// [`run_server`] (and whose capture worker polls
    /// [`is_triggered`](Self::is_triggered)) stops cleanly on either signal.
    /// The handlers are in place when this returns; registering them is
    /// the only thing that can fail.
    pub fn trigger_on_signals(&self) -> io::Result<()> {
        use tokio::signal::unix::{signal, SignalKind};
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        let (mut terminate, mut interrupt) = {
            let _context = runtime.enter();
            (
                signal(SignalKind::terminate())?,
                signal(SignalKind::interrupt())?,
            )
        };
        let shutdown = self.clone();
        std::thread::Builder::new()
            .name("lanwatch-signals".to_string())
            .spawn(move || {
                runtime.block_on(async {
                    let name = tokio::select! {
                        _ = terminate.recv() => "SIGTERM",
                        _ = interrupt.recv() => "SIGINT",
                    };
                    info!("{name} received, shutting down");
                });
                shutdown.trigger();
            })?;
        Ok(())
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
