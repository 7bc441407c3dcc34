//! decode + track per frame, and the scrape, over realistic mixes held in
//! memory (so the figure is lanwatch's own cost: decoding, client and flow
//! lookups, counters, DNS and ClientHello inspection).
//!
//! * `pipeline/cold/*`: a fresh tracker per pass, so every client and flow
//!   of the mix is created (table inserts included).
//! * `pipeline/warm/*`: one tracker, already holding the mix's clients and
//!   flows, replays it again and again: the steady state of a router that
//!   has seen its LAN for a while.
//! * `scrape/*`: 256 clients × 15 protocols (plus DNS): taking the
//!   snapshot, and rendering it as Prometheus text and as JSON.
//!
//! Run with `cargo bench --bench pipeline`; `scripts/bench` runs it too.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use lanwatch::export::{json, prometheus};
use lanwatch::pipeline::account_frame;
use lanwatch::track::{TrackConfig, Tracker};

mod common {
    pub mod frames;
    pub mod gen;
}
use common::frames::{generated, home_mix, real_mix, Mix};

fn feed(tracker: &mut Tracker, frames: &Mix) {
    for f in frames.iter() {
        account_frame(tracker, &f);
    }
}

fn decode_and_track(c: &mut Criterion) {
    let mixes = [
        ("real_captures", real_mix()),
        ("home_mix", home_mix(200_000, 4_000)),
    ];
    let mut group = c.benchmark_group("pipeline");
    for (name, frames) in &mixes {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function(format!("cold/{name}"), |b| {
            b.iter_batched_ref(
                || Tracker::new(TrackConfig::default()),
                |tracker| feed(tracker, frames),
                BatchSize::LargeInput,
            )
        });
        let mut warm = Tracker::new(TrackConfig::default());
        feed(&mut warm, frames);
        group.bench_function(format!("warm/{name}"), |b| {
            b.iter(|| feed(&mut warm, frames))
        });
    }
    group.finish();
}

fn scrape(c: &mut Criterion) {
    let frames = generated(|w| common::gen::scrape_mix(w, 256));
    let mut tracker = Tracker::new(TrackConfig::default());
    feed(&mut tracker, &frames);
    let snapshot = tracker.snapshot();
    assert_eq!(snapshot.clients.len(), 256);
    assert!(snapshot.clients.iter().all(|c| c.protocols.len() >= 15));
    let mut group = c.benchmark_group("scrape");
    group.throughput(Throughput::Elements(1));
    group.bench_function("snapshot/256x15", |b| {
        b.iter(|| black_box(tracker.snapshot()))
    });
    group.bench_function("prometheus/256x15", |b| {
        b.iter(|| black_box(prometheus::render(&snapshot)))
    });
    group.bench_function("json/256x15", |b| {
        b.iter(|| black_box(json::snapshot(&snapshot)))
    });
    group.finish();
}

criterion_group!(benches, decode_and_track, scrape);
criterion_main!(benches);
