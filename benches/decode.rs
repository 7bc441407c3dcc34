//! Decoding alone: `decode_frame` per frame, and the DNS parser per
//! message, over realistic mixes held in memory (so only parsing is
//! measured). Criterion reports time per element through
//! `Throughput::Elements`: ns/frame and frames/s, ns/message.
//!
//! * `decode_frame/1kxun`: a real multi-client LAN capture (DHCP, DNS,
//!   mDNS, SSDP, NBNS, HTTP ...), from `tests/captures`.
//! * `decode_frame/home_mix`: 200 k frames of the generated home mix
//!   (HTTPS, QUIC, DNS, LAN chatter; a fifth IPv6).
//! * `dns_parse/*`: every DNS message of those mixes (queries and
//!   responses with answers, mDNS): header, question name lower-cased
//!   into a buffer, every answer record and its address.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use lanwatch::decode::dns::{DnsMessage, NameBuf, NAME_BUF_LEN};
use lanwatch::decode::{decode_frame, Network, Transport};

mod common {
    pub mod frames;
    pub mod gen;
}
use common::frames::{home_mix, real_capture, real_mix, Mix};

fn decode_all(frames: &Mix) -> u64 {
    let mut ip_len_total = 0u64;
    for f in frames.iter() {
        if let Ok(decoded) = decode_frame(f.link, black_box(f.data), f.wire_len) {
            if let Network::Ip(ip) = decoded.network {
                ip_len_total = ip_len_total.wrapping_add(u64::from(ip.ip_len));
            }
        }
    }
    ip_len_total
}

fn decode(c: &mut Criterion) {
    let mut group = c.benchmark_group("decode_frame");
    if let Some(frames) = real_capture("ndpi/1kxun.pcap") {
        group.throughput(Throughput::Elements(frames.len() as u64));
        group.bench_function("1kxun", |b| b.iter(|| black_box(decode_all(&frames))));
    }
    let frames = home_mix(200_000, 4_000);
    group.throughput(Throughput::Elements(frames.len() as u64));
    group.bench_function("home_mix", |b| b.iter(|| black_box(decode_all(&frames))));
    group.finish();
}

/// The UDP payloads on port 53 or 5353 of a mix.
fn dns_messages(frames: &Mix) -> Vec<Vec<u8>> {
    frames
        .iter()
        .filter_map(
            |f| match decode_frame(f.link, f.data, f.wire_len).ok()?.network {
                Network::Ip(ip) => match ip.transport {
                    Transport::Udp { src_port, dst_port }
                        if [53, 5353].contains(&src_port) || [53, 5353].contains(&dst_port) =>
                    {
                        Some(ip.payload.to_vec())
                    }
                    _ => None,
                },
                _ => None,
            },
        )
        .collect()
}

fn parse_all(messages: &[Vec<u8>]) -> u64 {
    let mut sum = 0u64;
    let mut buf: NameBuf = [0; NAME_BUF_LEN];
    for m in messages {
        let Ok(msg) = DnsMessage::new_checked(black_box(m)) else {
            continue;
        };
        sum = sum.wrapping_add(u64::from(msg.id()));
        if let Some(Ok(q)) = msg.questions().next() {
            if let Ok(len) = q.name.write_lower(&mut buf) {
                sum = sum.wrapping_add(len as u64);
            }
        }
        for record in msg.answers() {
            let Ok(record) = record else { break };
            if record.ip().is_some() {
                sum = sum.wrapping_add(1);
            }
        }
    }
    sum
}

fn dns(c: &mut Criterion) {
    let mut group = c.benchmark_group("dns_parse");
    let mut real = dns_messages(&real_mix());
    for capture in ["ndpi/dns.pcap", "ndpi/dns_fragmented.pcap"] {
        if let Some(frames) = real_capture(capture) {
            real.extend(dns_messages(&frames));
        }
    }
    if !real.is_empty() {
        group.throughput(Throughput::Elements(real.len() as u64));
        group.bench_function("real_captures", |b| b.iter(|| black_box(parse_all(&real))));
    }
    let home = dns_messages(&home_mix(200_000, 4_000));
    group.throughput(Throughput::Elements(home.len() as u64));
    group.bench_function("home_mix", |b| b.iter(|| black_box(parse_all(&home))));
    group.finish();
}

criterion_group!(benches, decode, dns);
criterion_main!(benches);
