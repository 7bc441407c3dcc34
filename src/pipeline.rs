//! capture → decode → track, the same loop for live capture and replay.
//!
//! The worker owns the tracker and is its only writer. Between frames it
//! checks (one relaxed atomic load) whether a reader wants a fresh snapshot
//! and whether it has been told to stop; kernel counters are refreshed when
//! the source is idle and every few thousand frames.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use crate::capture::{CaptureError, Next, Source};
use crate::track::publish::Publisher;
use crate::track::{Snapshot, Tracker};

/// Refresh kernel counters at least this often under constant load.
const STATS_EVERY_FRAMES: u64 = 1 << 14;

/// Process-level facts stamped on every snapshot.
#[derive(Clone, Copy, Debug)]
pub struct ProcessInfo {
    pub start_time_seconds: f64,
}

impl ProcessInfo {
    pub fn now() -> ProcessInfo {
        let start = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs_f64())
            .unwrap_or(0.0);
        ProcessInfo {
            start_time_seconds: start,
        }
    }
}

/// A tracker together with where its snapshots go.
pub struct Worker<'a> {
    pub tracker: &'a mut Tracker,
    pub publisher: Option<&'a Publisher>,
    pub process: ProcessInfo,
    /// Frames handed to the tracker so far.
    pub frames: u64,
}

impl<'a> Worker<'a> {
    pub fn new(tracker: &'a mut Tracker, publisher: Option<&'a Publisher>) -> Worker<'a> {
        Worker {
            tracker,
            publisher,
            process: ProcessInfo::now(),
            frames: 0,
        }
    }

    /// Runs `source` until it ends or `shutdown` is raised.
    pub fn run(
        &mut self,
        source: &mut dyn Source,
        shutdown: &AtomicBool,
    ) -> Result<(), CaptureError> {
        loop {
            if shutdown.load(Ordering::Relaxed) {
                break;
            }
            match source.next_frame()? {
                Next::Frame(frame) => {
                    self.tracker.process_frame(&frame);
                    self.frames = self.frames.wrapping_add(1);
                    if self.frames % STATS_EVERY_FRAMES == 0 {
                        self.tracker.set_kernel_stats(source.kernel_stats());
                    }
                }
                Next::Idle => {
                    self.tracker.set_kernel_stats(source.kernel_stats());
                }
                Next::End => break,
            }
            self.publish_if_wanted();
        }
        self.tracker.set_kernel_stats(source.kernel_stats());
        Ok(())
    }

    #[inline]
    fn publish_if_wanted(&mut self) {
        if let Some(publisher) = self.publisher {
            if publisher.is_wanted() {
                publisher.publish(self.snapshot());
            }
        }
    }

    /// Publishes the current state unconditionally (end of a replay).
    pub fn publish(&mut self) {
        if let Some(publisher) = self.publisher {
            publisher.publish(self.snapshot());
        }
    }

    /// The tracker's snapshot stamped with process facts.
    pub fn snapshot(&mut self) -> Snapshot {
        let mut snapshot = self.tracker.snapshot();
        snapshot.health.start_time_seconds = self.process.start_time_seconds;
        snapshot.health.resident_memory_bytes = resident_memory_bytes();
        snapshot
    }
}

/// Resident set size of this process, from /proc/self/statm (0 if unknown).
pub fn resident_memory_bytes() -> u64 {
    let Ok(statm) = std::fs::read_to_string("/proc/self/statm") else {
        return 0;
    };
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|f| f.parse().ok())
        .unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let page_size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    pages.saturating_mul(u64::try_from(page_size).unwrap_or(4096))
}
