//! Handing snapshots from the single writer to any number of readers.
//!
//! The capture worker owns the tracker. Readers ask for a fresh snapshot by
//! raising a flag (one relaxed atomic load per packet on the writer's side);
//! the writer takes the snapshot between two frames and publishes it through
//! a `watch` channel. Readers wait a bounded time for it and otherwise serve
//! the last published one, so a busy or stalled writer never blocks a scrape
//! and a slow scrape never blocks the writer.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::watch;

use super::Snapshot;

/// The writer's half: owned by the capture worker.
pub struct Publisher {
    shared: Arc<Shared>,
    tx: watch::Sender<Arc<Snapshot>>,
}

/// The readers' half: cheap to clone, one per HTTP connection if need be.
#[derive(Clone)]
pub struct SnapshotReader {
    shared: Arc<Shared>,
    rx: watch::Receiver<Arc<Snapshot>>,
}

struct Shared {
    wanted: AtomicBool,
}

/// Makes a connected writer/reader pair holding an empty snapshot.
pub fn channel() -> (Publisher, SnapshotReader) {
    let shared = Arc::new(Shared {
        wanted: AtomicBool::new(false),
    });
    let (tx, rx) = watch::channel(Arc::new(Snapshot::default()));
    (
        Publisher {
            shared: shared.clone(),
            tx,
        },
        SnapshotReader { shared, rx },
    )
}

impl Publisher {
    /// Whether a reader is waiting for a fresh snapshot.
    #[inline]
    pub fn is_wanted(&self) -> bool {
        self.shared.wanted.load(Ordering::Relaxed)
    }

    /// Publishes a snapshot and clears the request flag.
    pub fn publish(&self, snapshot: Snapshot) {
        self.shared.wanted.store(false, Ordering::Relaxed);
        self.tx.send_replace(Arc::new(snapshot));
    }
}

impl SnapshotReader {
    /// The last published snapshot, without waiting.
    pub fn latest(&self) -> Arc<Snapshot> {
        self.rx.borrow().clone()
    }

    /// Asks the writer for a fresh snapshot and waits for it at most
    /// `patience`; on timeout (writer gone or busy) returns the latest one.
    pub async fn fresh(&mut self, patience: Duration) -> Arc<Snapshot> {
        self.rx.mark_unchanged();
        self.shared.wanted.store(true, Ordering::Relaxed);
        let _ = tokio::time::timeout(patience, self.rx.changed()).await;
        self.latest()
    }
}
