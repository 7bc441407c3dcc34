//! Frame mixes held in memory, so that a benchmark measures lanwatch and
//! not the disk: the real multi-client captures beside the checkout, and
//! the generated home mix (see `gen.rs`).
//!
//! The frames of a mix lie back to back in one buffer, as they do in the
//! capture ring's blocks and in the capture-file reader's buffer: reading
//! them in order streams through memory the way the daemon does, instead of
//! chasing one heap allocation per frame.
#![allow(dead_code)] // each benchmark uses part of it

use std::ops::Range;
use std::path::{Path, PathBuf};

use lanwatch::capture::file::CaptureFile;
use lanwatch::capture::{Frame, Next, Source};
use lanwatch::decode::LinkType;

use super::gen;

struct FrameAt {
    ts_nanos: u64,
    wire_len: u32,
    link: LinkType,
    bytes: Range<usize>,
}

/// Frames in capture order, their bytes in one buffer.
#[derive(Default)]
pub struct Mix {
    bytes: Vec<u8>,
    frames: Vec<FrameAt>,
}

impl Mix {
    pub fn len(&self) -> usize {
        self.frames.len()
    }

    pub fn is_empty(&self) -> bool {
        self.frames.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = Frame<'_>> {
        self.frames.iter().map(|f| Frame {
            ts_nanos: f.ts_nanos,
            wire_len: f.wire_len,
            link: f.link,
            data: &self.bytes[f.bytes.clone()],
            outgoing: false,
        })
    }

    fn read_all<R: std::io::Read>(&mut self, mut file: CaptureFile<R>) {
        while let Ok(Next::Frame(f)) = file.next_frame() {
            let start = self.bytes.len();
            self.bytes.extend_from_slice(f.data);
            self.frames.push(FrameAt {
                ts_nanos: f.ts_nanos,
                wire_len: f.wire_len,
                link: f.link,
                bytes: start..self.bytes.len(),
            });
        }
    }
}

/// Real captures of several clients: the repository's sample and, where
/// the multi-client captures of `tests/captures`.
pub fn real_mix() -> Mix {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = vec![
        root.join("samples/home-lan.pcap"),
        root.join("tests/captures/ndpi/1kxun.pcap"),
        root.join("tests/captures/ndpi/telegram.pcap"),
        root.join("tests/captures/ndpi/iphone.pcap"),
    ];
    let mut mix = Mix::default();
    for path in candidates.iter().filter(|p| p.exists()) {
        if let Ok(file) = CaptureFile::open(path) {
            mix.read_all(file);
        }
    }
    assert!(!mix.is_empty(), "no capture found for the benchmark");
    mix
}

/// One real capture by its path under `tests/captures`, if it reads.
pub fn real_capture(relative: &str) -> Option<Mix> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/captures")
        .join(relative);
    let file = CaptureFile::open(&path).ok()?;
    let mut mix = Mix::default();
    mix.read_all(file);
    Some(mix)
}

/// Frames of a generated capture, built in memory and cut at lanwatch's
/// default live snaplen (1024 bytes), as its capture would hold them.
pub fn generated(build: impl FnOnce(&mut gen::Writer<&mut Vec<u8>>) -> std::io::Result<()>) -> Mix {
    let mut bytes = Vec::new();
    {
        let mut w = gen::Writer::new(&mut bytes, 1024).expect("pcap header");
        build(&mut w).expect("generated capture");
    }
    let file = CaptureFile::from_reader("generated", &bytes[..]).expect("pcap header");
    let mut mix = Mix::default();
    mix.read_all(file);
    mix
}

/// The home mix: 256 clients, `packets` frames, `flows` flows.
pub fn home_mix(packets: u64, flows: u64) -> Mix {
    generated(|w| gen::home(w, packets, flows))
}
