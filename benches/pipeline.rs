//! decode + track per frame, over the frame mix of real home captures.
//!
//! Frames are loaded into memory first, so the figure is the pipeline's own
//! cost: decoding, client and flow lookups, counters. Run with
//! `cargo bench --bench pipeline`.

use std::path::{Path, PathBuf};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use lanwatch::capture::file::CaptureFile;
use lanwatch::capture::{Frame, Next, Source};
use lanwatch::decode::LinkType;
use lanwatch::track::{TrackConfig, Tracker};

struct OwnedFrame {
    ts_nanos: u64,
    wire_len: u32,
    link: LinkType,
    data: Vec<u8>,
}

/// The home-LAN mixes: our generated sample plus, where present, the
/// real multi-client captures beside the checkout.
fn frame_mix() -> Vec<OwnedFrame> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let candidates: Vec<PathBuf> = vec![
        root.join("samples/home-lan.pcap"),
        root.join("../shared/pcaps/ndpi/1kxun.pcap"),
        root.join("../shared/pcaps/ndpi/telegram.pcap"),
        root.join("../shared/pcaps/ndpi/iphone.pcap"),
    ];
    let mut frames = Vec::new();
    for path in candidates.iter().filter(|p| p.exists()) {
        let Ok(mut file) = CaptureFile::open(path) else {
            continue;
        };
        while let Ok(Next::Frame(f)) = file.next_frame() {
            frames.push(OwnedFrame {
                ts_nanos: f.ts_nanos,
                wire_len: f.wire_len,
                link: f.link,
                data: f.data.to_vec(),
            });
        }
    }
    assert!(!frames.is_empty(), "no capture found for the benchmark");
    frames
}

fn decode_and_track(c: &mut Criterion) {
    let frames = frame_mix();
    let mut group = c.benchmark_group("pipeline");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("decode+track per frame mix", |b| {
        b.iter_batched_ref(
            || Tracker::new(TrackConfig::default()),
            |tracker| {
                for f in &frames {
                    tracker.process_frame(&Frame {
                        ts_nanos: f.ts_nanos,
                        wire_len: f.wire_len,
                        link: f.link,
                        data: &f.data,
                        outgoing: false,
                    });
                }
            },
            BatchSize::LargeInput,
        )
    });
    group.finish();
}

criterion_group!(benches, decode_and_track);
criterion_main!(benches);
