//! How long `decode_frame` takes per frame, over the frame mix of a real
//! multi-client LAN capture (`ndpi/1kxun.pcap`: DHCP, DNS, mDNS, SSDP,
//! NBNS, HTTP ...). All frames are loaded into memory first, so only
//! decoding is measured; criterion reports the time per frame through
//! `Throughput::Elements`.

use std::fs::File;
use std::hint::black_box;
use std::io::BufReader;
use std::path::Path;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lanwatch::decode::{decode_frame, LinkType, Network};
use pcap_file::pcap::PcapReader;

fn load_frames() -> Vec<Vec<u8>> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/pcaps/ndpi/1kxun.pcap");
    let file = File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut reader = PcapReader::new(BufReader::new(file)).expect("pcap header");
    let mut frames = Vec::new();
    while let Some(packet) = reader.next_packet() {
        frames.push(packet.expect("pcap record").data.into_owned());
    }
    frames
}

fn decode(c: &mut Criterion) {
    let frames = load_frames();
    let ip_frames = frames
        .iter()
        .filter(|f| {
            matches!(
                decode_frame(LinkType::Ethernet, f).map(|d| d.network),
                Ok(Network::Ip(_))
            )
        })
        .count();
    assert!(ip_frames > frames.len() / 2, "the mix should be mostly IP");

    let mut group = c.benchmark_group("decode_frame");
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("1kxun_mix", |b| {
        b.iter(|| {
            let mut ip_len_total = 0u64;
            for frame in &frames {
                if let Ok(decoded) = decode_frame(LinkType::Ethernet, black_box(frame)) {
                    if let Network::Ip(ip) = decoded.network {
                        ip_len_total = ip_len_total.wrapping_add(u64::from(ip.ip_len));
                    }
                }
            }
            black_box(ip_len_total)
        })
    });
    group.finish();
}

criterion_group!(benches, decode);
criterion_main!(benches);
