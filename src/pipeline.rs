//! capture → decode → track, the same loop for live capture and replay.
//!
//! The worker decodes each frame (`decode_frame` gets the frame's length
//! on the wire and decides what is malformed) and hands the tracker the
//! result. It owns the tracker and is its only writer. Between frames it
//! checks (one relaxed atomic load) whether a reader wants a fresh snapshot
//! and whether it has been told to stop; kernel counters are refreshed when
//! the source is idle and every few thousand frames.
//!
//! What the capture and the system say about themselves — the source's
//! kernel counters and duplicates ([`SourceHealth`]), the process's figures,
//! flow offloading, the state file's saves — never passes through the
//! tracker: the worker stamps it on each snapshot, in one place
//! ([`Worker::snapshot`]). This is the one module that sees capture,
//! the system probes and track together.

use std::time::SystemTime;

use crate::capture::{CaptureError, Frame, Next, Source, SourceHealth};
use crate::decode::decode_frame;
use crate::shutdown::Shutdown;
use crate::state_file::StateSaver;
use crate::system::offload::{OffloadCell, OffloadState};
use crate::system::process::{self, ProcessFigures};
use crate::track::publish::Publisher;
use crate::track::snapshot::FlowOffload;
use crate::track::{Health, ProcessStats, Snapshot, Tracker};

/// Refresh kernel counters at least this often under constant load.
const STATS_EVERY_FRAMES: u64 = 1 << 14;

/// Look at the shutdown handle this often under constant load.
const SHUTDOWN_CHECK_EVERY_FRAMES: u64 = 1 << 10;

/// Process-level facts stamped on every snapshot.
#[derive(Clone, Copy, Debug)]
pub struct ProcessInfo {
    pub start_time_seconds: f64,
}

impl ProcessInfo {
    /// This process's facts (its start time, from procfs).
    pub fn now() -> ProcessInfo {
        ProcessInfo {
            start_time_seconds: process::start_time_seconds(),
        }
    }
}

/// Decodes one captured frame and hands the result to `tracker`.
#[inline]
pub fn account_frame(tracker: &mut Tracker, frame: &Frame<'_>) {
    let decoded = decode_frame(frame.link, frame.data, frame.wire_len);
    tracker.process_result(frame.ts_nanos, &decoded);
}

/// What a reload (SIGHUP) does to the tracker besides the lease file.
pub type ReloadHook<'a> = Box<dyn FnMut(&mut Tracker) + 'a>;

/// A tracker together with where its snapshots go.
pub struct Worker<'a> {
    pub tracker: &'a mut Tracker,
    pub publisher: Option<&'a Publisher>,
    pub process: ProcessInfo,
    /// Frames handed to the tracker so far.
    pub frames: u64,
    /// The source's own figures as last read.
    pub source: SourceHealth,
    /// Flow offloading as a monitor thread last saw it (live capture).
    pub flow_offload: Option<OffloadCell>,
    /// Where the counters are saved periodically (`--state-file`); the
    /// worker writes it itself so no other thread touches the tracker.
    pub state: Option<StateSaver>,
    /// Run on the tracker when a reload (SIGHUP) is asked for, before the
    /// lease file is re-read and the state saved (the protocol table).
    pub on_reload: Option<ReloadHook<'a>>,
    /// The shutdown handle's reload count last acted on.
    reloads_seen: u32,
}

impl<'a> Worker<'a> {
    pub fn new(tracker: &'a mut Tracker, publisher: Option<&'a Publisher>) -> Worker<'a> {
        Worker {
            tracker,
            publisher,
            process: ProcessInfo::now(),
            frames: 0,
            source: SourceHealth::default(),
            flow_offload: None,
            state: None,
            on_reload: None,
            reloads_seen: 0,
        }
    }

    /// Runs `source` until it ends or `shutdown` is triggered.
    pub fn run(
        &mut self,
        source: &mut dyn Source,
        shutdown: &Shutdown,
    ) -> Result<(), CaptureError> {
        loop {
            match source.next_frame()? {
                Next::Frame(frame) => {
                    account_frame(self.tracker, &frame);
                    self.frames = self.frames.wrapping_add(1);
                    if self.frames % STATS_EVERY_FRAMES == 0 {
                        self.refresh_source_stats(source);
                    }
                    if self.frames % SHUTDOWN_CHECK_EVERY_FRAMES == 0 {
                        if shutdown.is_triggered() {
                            break;
                        }
                        self.reload_if_asked(shutdown);
                        self.save_state_if_due();
                    }
                }
                Next::Idle => {
                    self.refresh_source_stats(source);
                    if shutdown.is_triggered() {
                        break;
                    }
                    self.reload_if_asked(shutdown);
                    self.save_state_if_due();
                }
                Next::End => break,
            }
            self.publish_if_wanted();
        }
        self.refresh_source_stats(source);
        Ok(())
    }

    fn save_state_if_due(&mut self) {
        if let Some(saver) = &mut self.state {
            if saver.is_due() {
                saver.save(self.tracker);
            }
        }
    }

    /// A reload (SIGHUP) since the last look: re-reads what the tracker
    /// reads (`on_reload`, the lease file) and saves the state.
    fn reload_if_asked(&mut self, shutdown: &Shutdown) {
        let reloads = shutdown.reloads();
        if reloads == self.reloads_seen {
            return;
        }
        self.reloads_seen = reloads;
        if let Some(reload) = &mut self.on_reload {
            reload(self.tracker);
        }
        self.tracker.reread_leases(SystemTime::now());
        self.save_state();
    }

    /// Writes the state file now, if there is one (shutdown, end of replay).
    pub fn save_state(&mut self) {
        if let Some(saver) = &mut self.state {
            saver.save(self.tracker);
        }
    }

    /// Kernel counters, duplicates, and wall-clock housekeeping (the lease
    /// file); run when idle and every few thousand frames.
    fn refresh_source_stats(&mut self, source: &mut dyn Source) {
        self.source = SourceHealth::of(source);
        self.tracker.refresh(SystemTime::now());
    }

    #[inline]
    fn publish_if_wanted(&mut self) {
        if let Some(publisher) = self.publisher {
            if publisher.is_wanted() {
                publisher.publish(self.snapshot());
            }
        }
    }

    /// The tracker's snapshot stamped with what the source, the system and
    /// the state saver say about themselves.
    pub fn snapshot(&mut self) -> Snapshot {
        let mut snapshot = self.tracker.snapshot();
        self.stamp_health(&mut snapshot.health);
        snapshot
    }

    /// The one place the figures from outside the tracker reach a snapshot.
    fn stamp_health(&self, health: &mut Health) {
        health.kernel_packets = self.source.kernel.packets;
        health.kernel_drops = self.source.kernel.drops;
        health.packets.duplicate = self.source.duplicates;
        health.process = process_stats(process::stats(self.process.start_time_seconds));
        health.flow_offload = self
            .flow_offload
            .as_ref()
            .and_then(OffloadCell::load)
            .map(flow_offload);
        health.state_saves = self.state.as_ref().map(|saver| saver.counts);
    }
}

/// The process figures as the snapshot carries them.
fn process_stats(figures: ProcessFigures) -> ProcessStats {
    let ProcessFigures {
        start_time_seconds,
        cpu_seconds_total,
        resident_memory_bytes,
        virtual_memory_bytes,
        open_fds,
        max_fds,
    } = figures;
    ProcessStats {
        start_time_seconds,
        cpu_seconds_total,
        resident_memory_bytes,
        virtual_memory_bytes,
        open_fds,
        max_fds,
    }
}

/// Flow offloading as the snapshot carries it.
fn flow_offload(state: OffloadState) -> FlowOffload {
    let OffloadState {
        software,
        hardware,
        incomplete,
    } = state;
    FlowOffload {
        software,
        hardware,
        incomplete,
    }
}
