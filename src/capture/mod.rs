//! Frame sources: capture files (pcap, pcapng) and the live AF_PACKET ring.
//!
//! Both implement [`Source`], so the pipeline cannot tell a replay from a
//! live capture: the same frames give the same state.

mod bpf;
pub mod file;
mod iface;
pub mod live;
pub mod pacing;
mod ring;

use crate::decode::LinkType;

/// One captured frame, borrowed from the source's buffer.
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    /// Capture time, nanoseconds since the Unix epoch.
    pub ts_nanos: u64,
    /// Length of the frame on the wire (may exceed `data.len()`).
    pub wire_len: u32,
    pub link: LinkType,
    /// The captured bytes.
    pub data: &'a [u8],
    /// The capturing host sent this frame (live PACKET_OUTGOING, a pcapng
    /// packet flagged outbound). The live source's count-once rule reads the
    /// ring's copy of it; the frame keeps it for readers of captures. It is
    /// the capture's: the tracker is handed decoded frames, not this.
    pub outgoing: bool,
}

/// What a source yields next.
#[derive(Debug)]
pub enum Next<'a> {
    Frame(Frame<'a>),
    /// Nothing arrived within the source's poll interval (live only): a
    /// chance for the caller to publish snapshots and check for shutdown.
    Idle,
    /// The source is exhausted (end of the last file).
    End,
}

/// Anything that yields frames.
pub trait Source {
    fn next_frame(&mut self) -> Result<Next<'_>, CaptureError>;

    /// Kernel counters (received, dropped) where the source has them.
    fn kernel_stats(&mut self) -> KernelStats {
        KernelStats::default()
    }

    /// Frames skipped as copies already counted on another interface.
    fn skipped_duplicates(&self) -> u64 {
        0
    }
}

/// What a source says about itself: the kernel's counters and the frames
/// it skipped as copies. The capture worker reads it now and then and
/// stamps it on each snapshot (the tracker never sees it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SourceHealth {
    pub kernel: KernelStats,
    /// Frames skipped as copies already counted on another interface.
    pub duplicates: u64,
}

impl SourceHealth {
    /// `source`'s figures now.
    pub fn of(source: &mut dyn Source) -> SourceHealth {
        SourceHealth {
            kernel: source.kernel_stats(),
            duplicates: source.skipped_duplicates(),
        }
    }
}

/// Totals from PACKET_STATISTICS, accumulated over the source's lifetime.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct KernelStats {
    pub packets: u64,
    pub drops: u64,
    pub freeze_queue_count: u64,
}

/// Errors from capture sources, each naming the file or interface.
#[derive(Debug, thiserror::Error)]
pub enum CaptureError {
    #[error("{path}: {source}")]
    Open {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: empty file (no capture header)")]
    Empty { path: String },
    #[error("{path}: at offset {offset}: {what}")]
    Corrupt {
        path: String,
        offset: u64,
        what: String,
    },
    #[error("{path}: at offset {offset}: file ends inside {what}")]
    Truncated {
        path: String,
        offset: u64,
        what: &'static str,
    },
    #[error("{path}: unsupported link type {linktype}")]
    UnsupportedLinkType { path: String, linktype: u32 },
    /// A pcapng packet arrived on an interface whose link type lanwatch does
    /// not decode (the packet is skipped; reading can go on).
    #[error("{path}: at offset {offset}: packet on interface {interface} has unsupported link type {linktype}")]
    UnsupportedInterfaceLinkType {
        path: String,
        offset: u64,
        interface: u32,
        linktype: u32,
    },
    /// Reading an opened capture file failed.
    #[error("{path}: at offset {offset}: read error: {source}")]
    Read {
        path: String,
        offset: u64,
        source: std::io::Error,
    },
    #[error("interface {iface}: {what}: {source}")]
    Interface {
        iface: String,
        what: &'static str,
        source: std::io::Error,
    },
}
