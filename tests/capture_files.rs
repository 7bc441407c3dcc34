//! Capture files read by lanwatch agree with independent readers.
//!
//! Every capture under `tests/captures` is read by our reader and compared,
//! frame by frame, with what tshark reports (captured length, original
//! length, timestamp to the nanosecond, link type) and with the packet bytes
//! the `pcap-file` crate reads. Files written here by hand check the formats
//! the real captures lack (big-endian nanosecond pcap, several interfaces
//! of different link types, odd timestamp resolutions, several sections) and
//! the damage a reader must survive: each damaged file yields the frames
//! before the damage, then the exact error at the exact offset.

use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use lanwatch::capture::file::{CaptureFile, MAX_CAPLEN};
use lanwatch::capture::{CaptureError, Next, Source};
use lanwatch::decode::LinkType;

// ---------------------------------------------------------------------------
// What our reader yields

/// One frame as our reader gave it, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
struct OurFrame {
    ts_nanos: u64,
    wire_len: u32,
    link: LinkType,
    data: Vec<u8>,
    outgoing: bool,
}

/// Reads a source to its end or first error.
fn read_all(source: &mut impl Source) -> (Vec<OurFrame>, Option<CaptureError>) {
    let mut frames = Vec::new();
    loop {
        match source.next_frame() {
            Ok(Next::Frame(f)) => frames.push(OurFrame {
                ts_nanos: f.ts_nanos,
                wire_len: f.wire_len,
                link: f.link,
                data: f.data.to_vec(),
                outgoing: f.outgoing,
            }),
            Ok(Next::Idle) => panic!("a capture file never idles"),
            Ok(Next::End) => return (frames, None),
            Err(e) => return (frames, Some(e)),
        }
    }
}

fn read_bytes(bytes: &[u8]) -> (Vec<OurFrame>, Option<CaptureError>) {
    match CaptureFile::from_reader("test.pcap", bytes) {
        Ok(mut file) => read_all(&mut file),
        Err(e) => (Vec::new(), Some(e)),
    }
}

/// Reads bytes that must be clean to the end.
fn read_clean(bytes: &[u8]) -> Vec<OurFrame> {
    let (frames, err) = read_bytes(bytes);
    if let Some(e) = err {
        panic!("unexpected error after {} frames: {e}", frames.len());
    }
    frames
}

// ---------------------------------------------------------------------------
// What tshark says

#[derive(Clone, Debug, PartialEq, Eq)]
struct TsharkFrame {
    cap_len: u32,
    len: u32,
    /// Seconds and the fraction as printed, scaled to ns; `None` for a
    /// record without a time stamp (a Simple Packet Block).
    ts_nanos: Option<u64>,
    /// How many fraction digits tshark printed (9 = ns).
    ts_digits: u32,
    interface_id: Option<u32>,
    link: LinkType,
}

fn tshark_available() {
    let ok = Command::new("tshark")
        .arg("--version")
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        ok,
        "tshark is not installed; these tests compare against it (apt-get install -y tshark)"
    );
}

/// tshark's encapsulation numbers (WTAP_ENCAP_*) for the link types we read.
fn link_from_wtap_encap(encap: u32) -> LinkType {
    match encap {
        1 => LinkType::Ethernet,
        7 | 129 | 130 => LinkType::RawIp,
        15 => LinkType::Null,
        25 => LinkType::LinuxSll,
        210 => LinkType::LinuxSll2,
        other => panic!("tshark encapsulation {other} has no lanwatch link type"),
    }
}

/// "1616775370.814360603" → (ns since the epoch, digits after the point).
fn parse_epoch(text: &str) -> (u64, u32) {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let digits = frac.len() as u32;
    assert!(digits <= 9, "time {text:?} finer than ns");
    let secs: u64 = secs.parse().unwrap();
    let frac: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse().unwrap()
    };
    (secs * 1_000_000_000 + frac * 10u64.pow(9 - digits), digits)
}

fn tshark_frames(path: &Path) -> Vec<TsharkFrame> {
    tshark_available();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(path)
        .args(["-T", "fields"])
        .args(["-e", "frame.cap_len", "-e", "frame.len"])
        .args(["-e", "frame.time_epoch", "-e", "frame.interface_id"])
        .args(["-e", "frame.encap_type", "-E", "separator=,"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|line| {
            let f: Vec<&str> = line.split(',').collect();
            assert_eq!(f.len(), 5, "tshark line {line:?}");
            if f[4].is_empty() {
                // Not a packet: tshark lists custom blocks as records with
                // no encapsulation.
                return None;
            }
            let (ts_nanos, ts_digits) = match f[2] {
                "" => (None, 9),
                text => {
                    let (ns, digits) = parse_epoch(text);
                    (Some(ns), digits)
                }
            };
            Some(TsharkFrame {
                cap_len: f[0].parse().unwrap(),
                len: f[1].parse().unwrap(),
                ts_nanos,
                ts_digits,
                interface_id: (!f[3].is_empty()).then(|| f[3].parse().unwrap()),
                link: link_from_wtap_encap(f[4].parse().unwrap()),
            })
        })
        .collect()
}

/// Our frames agree with tshark's on every field tshark shows.
fn assert_matches_tshark(name: &str, ours: &[OurFrame], theirs: &[TsharkFrame]) {
    assert_eq!(ours.len(), theirs.len(), "{name}: frame count");
    for (i, (o, t)) in ours.iter().zip(theirs).enumerate() {
        let n = i + 1;
        assert_eq!(o.data.len() as u32, t.cap_len, "{name} frame {n}: cap_len");
        assert_eq!(o.wire_len, t.len, "{name} frame {n}: len");
        assert_eq!(o.link, t.link, "{name} frame {n}: link type");
        // Compare at the precision tshark printed.
        let unit = 10u64.pow(9 - t.ts_digits);
        let Some(theirs) = t.ts_nanos else {
            panic!("{name} frame {n}: tshark shows no time stamp");
        };
        assert_eq!(
            o.ts_nanos / unit,
            theirs / unit,
            "{name} frame {n}: time ({} vs {theirs})",
            o.ts_nanos,
        );
    }
}

// ---------------------------------------------------------------------------
// What the pcap-file crate reads

fn pcap_file_crate_data(bytes: &[u8]) -> Vec<Vec<u8>> {
    use pcap_file::pcap::PcapReader;
    use pcap_file::pcapng::{Block, PcapNgReader};
    let mut out = Vec::new();
    if bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut reader = PcapNgReader::new(bytes).unwrap();
        while let Some(block) = reader.next_block() {
            match block.unwrap() {
                Block::EnhancedPacket(b) => out.push(b.data.to_vec()),
                Block::Packet(b) => out.push(b.data.to_vec()),
                Block::SimplePacket(b) => out.push(b.data.to_vec()),
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(bytes).unwrap();
        while let Some(packet) = reader.next_packet() {
            out.push(packet.unwrap().data.to_vec());
        }
    }
    out
}

// ---------------------------------------------------------------------------
// The real captures (tests/captures)

fn real_pcaps() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

/// Every capture file under tests/captures (expected-result files
/// excluded), in a stable order.
fn real_captures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "expected") {
                    walk(&path, out);
                }
            } else if path
                .extension()
                .is_some_and(|e| e == "pcap" || e == "pcapng" || e == "cap")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&real_pcaps(), &mut out);
    out.sort();
    assert!(
        out.len() >= 45,
        "expected the 45 real captures, found {}",
        out.len()
    );
    out
}

#[test]
fn every_real_capture_matches_tshark() {
    tshark_available();
    for path in real_captures() {
        let name = path.display().to_string();
        let mut file = CaptureFile::open(&path).unwrap();
        let (ours, err) = read_all(&mut file);
        assert!(err.is_none(), "{name}: {}", err.unwrap());
        assert!(!ours.is_empty(), "{name}: no frames");
        assert_matches_tshark(&name, &ours, &tshark_frames(&path));
    }
}

#[test]
fn every_real_capture_has_the_bytes_pcap_file_reads() {
    for path in real_captures() {
        let bytes = fs::read(&path).unwrap();
        let ours: Vec<Vec<u8>> = read_clean(&bytes).into_iter().map(|f| f.data).collect();
        let theirs = pcap_file_crate_data(&bytes);
        assert_eq!(ours.len(), theirs.len(), "{}: frame count", path.display());
        for (i, (o, t)) in ours.iter().zip(&theirs).enumerate() {
            assert!(o == t, "{}: frame {} bytes differ", path.display(), i + 1);
        }
    }
}

#[test]
fn pcap_named_files_that_are_pcapng_are_read_as_pcapng() {
    // ndpi/dns.pcap is pcapng inside; the name must not matter.
    let path = real_pcaps().join("ndpi/dns.pcap");
    assert_eq!(fs::read(&path).unwrap()[..4], [0x0a, 0x0d, 0x0d, 0x0a]);
    let (frames, err) = read_all(&mut CaptureFile::open(&path).unwrap());
    assert!(err.is_none());
    assert_matches_tshark("ndpi/dns.pcap", &frames, &tshark_frames(&path));
}

#[test]
fn nanosecond_pcapng_matches_tshark_to_the_nanosecond() {
    let path = real_pcaps().join("ndpi/quic_frags_ch_in_multiple_packets.pcapng");
    let theirs = tshark_frames(&path);
    assert!(theirs.iter().all(|t| t.ts_digits == 9));
    // The file really has sub-microsecond digits to get right.
    assert!(theirs.iter().any(|t| t.ts_nanos.unwrap() % 1000 != 0));
    let (ours, err) = read_all(&mut CaptureFile::open(&path).unwrap());
    assert!(err.is_none());
    let ours_ns: Vec<Option<u64>> = ours.iter().map(|f| Some(f.ts_nanos)).collect();
    let theirs_ns: Vec<Option<u64>> = theirs.iter().map(|t| t.ts_nanos).collect();
    assert_eq!(ours_ns, theirs_ns);
}

#[test]
fn multi_interface_pcapng_gives_each_frame_its_interface() {
    let path = real_pcaps().join("zeek/pcapng-multi-interface.pcapng");
    let theirs = tshark_frames(&path);
    let interfaces: Vec<Option<u32>> = theirs.iter().map(|t| t.interface_id).collect();
    assert!(interfaces.contains(&Some(0)) && interfaces.contains(&Some(1)));
    let (ours, err) = read_all(&mut CaptureFile::open(&path).unwrap());
    assert!(err.is_none());
    assert_matches_tshark("pcapng-multi-interface", &ours, &theirs);
}

// ---------------------------------------------------------------------------
// Writing test files by hand

#[derive(Clone, Copy, PartialEq, Eq)]
enum Order {
    Le,
    Be,
}

impl Order {
    fn u16(self, v: u16) -> [u8; 2] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
    fn u32(self, v: u32) -> [u8; 4] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
    fn i64(self, v: i64) -> [u8; 8] {
        match self {
            Order::Le => v.to_le_bytes(),
            Order::Be => v.to_be_bytes(),
        }
    }
}

const LINKTYPE_ETHERNET: u32 = 1;
const LINKTYPE_RAW: u32 = 101;
const LINKTYPE_IEEE802_11: u32 = 105;

/// Classic pcap file header.
fn pcap_header(order: Order, nanos: bool, linktype: u32) -> Vec<u8> {
    let magic = if nanos { 0xa1b2_3c4d } else { 0xa1b2_c3d4 };
    let mut out = Vec::new();
    out.extend(order.u32(magic));
    out.extend(order.u16(2));
    out.extend(order.u16(4));
    out.extend(order.u32(0)); // thiszone
    out.extend(order.u32(0)); // sigfigs
    out.extend(order.u32(65535)); // snaplen
    out.extend(order.u32(linktype));
    out
}

/// Classic pcap record.
fn pcap_record(order: Order, sec: u32, frac: u32, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend(order.u32(sec));
    out.extend(order.u32(frac));
    out.extend(order.u32(data.len() as u32));
    out.extend(order.u32(orig_len));
    out.extend(data);
    out
}

/// A pcapng block: type, total length, body padded to 4, total length.
fn ng_block(order: Order, block_type: u32, body: &[u8]) -> Vec<u8> {
    let mut padded = body.to_vec();
    while padded.len() % 4 != 0 {
        padded.push(0);
    }
    let total = (12 + padded.len()) as u32;
    let mut out = Vec::new();
    out.extend(order.u32(block_type));
    out.extend(order.u32(total));
    out.extend(padded);
    out.extend(order.u32(total));
    out
}

/// Options list with opt_endofopt.
fn ng_options(order: Order, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut out = Vec::new();
    if options.is_empty() {
        return out;
    }
    for (code, value) in options {
        out.extend(order.u16(*code));
        out.extend(order.u16(value.len() as u16));
        out.extend(value);
        while out.len() % 4 != 0 {
            out.push(0);
        }
    }
    out.extend([0, 0, 0, 0]);
    out
}

fn ng_shb(order: Order) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(0x1a2b_3c4d));
    body.extend(order.u16(1));
    body.extend(order.u16(0));
    body.extend(order.i64(-1)); // section length unknown
    ng_block(order, 0x0a0d_0d0a, &body)
}

fn ng_idb(order: Order, linktype: u16, snaplen: u32, options: &[(u16, Vec<u8>)]) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u16(linktype));
    body.extend(order.u16(0));
    body.extend(order.u32(snaplen));
    body.extend(ng_options(order, options));
    ng_block(order, 1, &body)
}

fn ng_epb(
    order: Order,
    interface: u32,
    units: u64,
    data: &[u8],
    orig_len: u32,
    options: &[(u16, Vec<u8>)],
) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(interface));
    body.extend(order.u32((units >> 32) as u32));
    body.extend(order.u32(units as u32));
    body.extend(order.u32(data.len() as u32));
    body.extend(order.u32(orig_len));
    body.extend(data);
    while body.len() % 4 != 0 {
        body.push(0);
    }
    body.extend(ng_options(order, options));
    ng_block(order, 6, &body)
}

/// Obsolete Packet Block (type 2).
fn ng_pb(order: Order, interface: u16, units: u64, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u16(interface));
    body.extend(order.u16(0)); // drops
    body.extend(order.u32((units >> 32) as u32));
    body.extend(order.u32(units as u32));
    body.extend(order.u32(data.len() as u32));
    body.extend(order.u32(orig_len));
    body.extend(data);
    ng_block(order, 2, &body)
}

fn ng_spb(order: Order, data: &[u8], orig_len: u32) -> Vec<u8> {
    let mut body = Vec::new();
    body.extend(order.u32(orig_len));
    body.extend(data);
    ng_block(order, 3, &body)
}

/// An Ethernet frame carrying a minimal IPv4/UDP packet, `n` payload bytes.
fn ethernet_frame(n: usize, tag: u8) -> Vec<u8> {
    let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, tag, 0x08, 0x00];
    f.extend(ipv4_udp(n, tag));
    f
}

fn ipv4_udp(n: usize, tag: u8) -> Vec<u8> {
    let total = (20 + 8 + n) as u16;
    let mut p = vec![0x45, 0, 0, 0, 0, 0, 0, 0, 64, 17, 0, 0];
    p[2..4].copy_from_slice(&total.to_be_bytes());
    p.extend([192, 168, 1, tag, 192, 168, 1, 1]);
    p.extend([0x30, 0x39, 0, 53]);
    p.extend(((8 + n) as u16).to_be_bytes());
    p.extend([0, 0]);
    p.extend((0..n).map(|i| i as u8 ^ tag));
    p
}

/// A scratch directory for files tshark must read.
fn scratch_dir(test: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("lanwatch-capfile-{}-{test}", std::process::id()));
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// Writes `bytes`, and checks our reader against tshark and pcap-file.
fn assert_generated_file_matches_tshark(test: &str, bytes: &[u8]) -> Vec<OurFrame> {
    let dir = scratch_dir(test);
    let path = dir.join("generated.pcap");
    fs::write(&path, bytes).unwrap();
    let ours = read_clean(bytes);
    assert_matches_tshark(test, &ours, &tshark_frames(&path));
    fs::remove_dir_all(&dir).unwrap();
    ours
}

// ---------------------------------------------------------------------------
// Formats the real captures lack

#[test]
fn big_endian_nanosecond_pcap_matches_tshark() {
    let mut bytes = pcap_header(Order::Be, true, LINKTYPE_ETHERNET);
    bytes.extend(pcap_record(
        Order::Be,
        1_700_000_000,
        123_456_789,
        &ethernet_frame(10, 1),
        52,
    ));
    bytes.extend(pcap_record(
        Order::Be,
        1_700_000_001,
        999_999_999,
        &ethernet_frame(20, 2),
        62,
    ));
    let ours = assert_generated_file_matches_tshark("be-ns", &bytes);
    assert_eq!(ours.len(), 2);
    let data: Vec<Vec<u8>> = ours.into_iter().map(|f| f.data).collect();
    assert_eq!(data, pcap_file_crate_data(&bytes));
}

#[test]
fn little_endian_microsecond_and_big_endian_microsecond_pcap_match_tshark() {
    for order in [Order::Le, Order::Be] {
        let mut bytes = pcap_header(order, false, LINKTYPE_ETHERNET);
        bytes.extend(pcap_record(
            order,
            1_600_000_000,
            999_999,
            &ethernet_frame(3, 1),
            45,
        ));
        bytes.extend(pcap_record(
            order,
            4_294_967_295,
            1,
            &ethernet_frame(3, 2),
            45,
        ));
        assert_generated_file_matches_tshark("us", &bytes);
    }
}

#[test]
fn pcapng_with_ethernet_and_raw_ip_interfaces_gives_each_frame_its_link_type() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, LINKTYPE_ETHERNET as u16, 0, &[]));
    bytes.extend(ng_idb(o, LINKTYPE_RAW as u16, 0, &[(9, vec![9])]));
    bytes.extend(ng_epb(
        o,
        0,
        1_700_000_000_000_001,
        &ethernet_frame(5, 1),
        47,
        &[],
    ));
    bytes.extend(ng_epb(
        o,
        1,
        1_700_000_000_000_000_002,
        &ipv4_udp(6, 2),
        34,
        &[],
    ));
    bytes.extend(ng_epb(
        o,
        0,
        1_700_000_000_000_003,
        &ethernet_frame(7, 3),
        49,
        &[],
    ));
    let ours = assert_generated_file_matches_tshark("two-links", &bytes);
    let links: Vec<LinkType> = ours.iter().map(|f| f.link).collect();
    assert_eq!(
        links,
        [LinkType::Ethernet, LinkType::RawIp, LinkType::Ethernet]
    );
    let data: Vec<Vec<u8>> = ours.into_iter().map(|f| f.data).collect();
    assert_eq!(data, pcap_file_crate_data(&bytes));
}

#[test]
fn pcapng_timestamp_resolutions_and_offsets_match_tshark() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    // 0: default µs. 1: 2^-20 s. 2: ns with +3600 s offset. 3: 10^-3 s, -10 s.
    bytes.extend(ng_idb(o, 1, 0, &[]));
    bytes.extend(ng_idb(o, 1, 0, &[(9, vec![0x80 | 20])]));
    bytes.extend(ng_idb(o, 1, 0, &[(9, vec![9]), (14, o.i64(3600).to_vec())]));
    bytes.extend(ng_idb(o, 1, 0, &[(9, vec![3]), (14, o.i64(-10).to_vec())]));
    let stamps: [(u32, u64); 4] = [
        (0, 1_650_000_000_123_456),
        (1, (1_650_000_000u64 << 20) + 777_777),
        (2, 1_650_000_000_987_654_321),
        (3, 1_650_000_000_321),
    ];
    for (i, (iface, units)) in stamps.iter().enumerate() {
        let f = ethernet_frame(i, i as u8);
        bytes.extend(ng_epb(o, *iface, *units, &f, f.len() as u32, &[]));
    }
    let ours = assert_generated_file_matches_tshark("tsresol", &bytes);
    assert_eq!(ours.len(), 4);
}

#[test]
fn pcapng_sections_in_both_byte_orders_each_reset_the_interfaces() {
    let mut bytes = ng_shb(Order::Be);
    bytes.extend(ng_idb(Order::Be, LINKTYPE_RAW as u16, 0, &[]));
    bytes.extend(ng_epb(Order::Be, 0, 1_000_000, &ipv4_udp(4, 1), 32, &[]));
    // New section: interface 0 is now Ethernet, in little-endian.
    bytes.extend(ng_shb(Order::Le));
    bytes.extend(ng_idb(Order::Le, LINKTYPE_ETHERNET as u16, 0, &[]));
    bytes.extend(ng_epb(
        Order::Le,
        0,
        2_000_000,
        &ethernet_frame(4, 2),
        46,
        &[],
    ));
    let ours = assert_generated_file_matches_tshark("sections", &bytes);
    let links: Vec<LinkType> = ours.iter().map(|f| f.link).collect();
    assert_eq!(links, [LinkType::RawIp, LinkType::Ethernet]);
}

#[test]
fn pcapng_skips_unknown_blocks_and_reads_obsolete_packet_blocks() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, 1, 0, &[]));
    // Name resolution, interface statistics, custom: all skipped by length
    // (tshark lists the custom block as a record of its own, not a packet).
    bytes.extend(ng_block(
        o,
        4,
        &[1, 0, 8, 0, 10, 0, 0, 1, b'a', b'b', 0, 0, 0, 0, 0, 0],
    ));
    bytes.extend(ng_pb(
        o,
        0,
        1_500_000_000_000_000,
        &ethernet_frame(9, 1),
        51,
    ));
    bytes.extend(ng_block(o, 5, &[0; 12]));
    bytes.extend(ng_block(o, 0x0000_0bad, &[0x78, 0x56, 0x34, 0x12, 1, 2, 3]));
    bytes.extend(ng_epb(
        o,
        0,
        1_500_000_000_000_001,
        &ethernet_frame(2, 2),
        44,
        &[],
    ));
    let ours = assert_generated_file_matches_tshark("blocks", &bytes);
    assert_eq!(ours.len(), 2);
    let data: Vec<Vec<u8>> = ours.into_iter().map(|f| f.data).collect();
    assert_eq!(data, pcap_file_crate_data(&bytes));
}

#[test]
fn simple_packet_blocks_are_cut_to_the_snaplen_and_keep_the_last_time() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, 1, 40, &[]));
    bytes.extend(ng_epb(
        o,
        0,
        1_500_000_000_000_000,
        &ethernet_frame(2, 1),
        44,
        &[],
    ));
    let frame = ethernet_frame(30, 2);
    // The block holds 40 bytes of a 72-byte frame.
    bytes.extend(ng_spb(o, &frame[..40], frame.len() as u32));
    let dir = scratch_dir("spb");
    let path = dir.join("spb.pcapng");
    fs::write(&path, &bytes).unwrap();
    let theirs = tshark_frames(&path);
    fs::remove_dir_all(&dir).unwrap();
    let ours = read_clean(&bytes);
    assert_eq!(ours.len(), theirs.len());
    // A Simple Packet Block has no time stamp: only the lengths compare.
    assert_eq!(theirs[1].ts_nanos, None);
    assert_eq!(ours[1].data.len() as u32, theirs[1].cap_len);
    assert_eq!(ours[1].wire_len, theirs[1].len);
    assert_eq!(ours[1].data, pcap_file_crate_data(&bytes)[1]);
    assert_eq!(ours[1].ts_nanos, ours[0].ts_nanos);
}

#[test]
fn epb_flags_outbound_marks_the_frame_outgoing() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, 1, 0, &[]));
    let f = ethernet_frame(1, 1);
    let inbound = (2u16, o.u32(0b01).to_vec());
    let outbound = (2u16, o.u32(0b10).to_vec());
    bytes.extend(ng_epb(o, 0, 1, &f, f.len() as u32, &[inbound]));
    bytes.extend(ng_epb(o, 0, 2, &f, f.len() as u32, &[outbound]));
    bytes.extend(ng_epb(o, 0, 3, &f, f.len() as u32, &[]));
    let dir = scratch_dir("flags");
    let path = dir.join("flags.pcapng");
    fs::write(&path, &bytes).unwrap();
    tshark_available();
    let out = Command::new("tshark")
        .arg("-r")
        .arg(&path)
        .args(["-T", "fields", "-e", "frame.packet_flags_direction"])
        .output()
        .unwrap();
    fs::remove_dir_all(&dir).unwrap();
    let directions: Vec<String> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // tshark: 0x..01 inbound, 0x..02 outbound, nothing when the option is
    // absent.
    let tshark_outgoing: Vec<bool> = directions
        .iter()
        .map(|d| {
            let flags = u32::from_str_radix(d.trim_start_matches("0x"), 16).unwrap_or(0);
            flags & 0b11 == 0b10
        })
        .collect();
    let ours: Vec<bool> = read_clean(&bytes).iter().map(|f| f.outgoing).collect();
    assert_eq!(ours, tshark_outgoing);
    assert_eq!(ours, [false, true, false]);
}

#[test]
fn caplen_larger_than_orig_len_is_tolerated_and_the_captured_bytes_used() {
    let mut bytes = pcap_header(Order::Le, false, LINKTYPE_ETHERNET);
    let f = ethernet_frame(20, 1);
    bytes.extend(pcap_record(Order::Le, 1, 0, &f, 30));
    let ours = read_clean(&bytes);
    assert_eq!(ours[0].data, f);
    assert_eq!(ours[0].wire_len, 30);
}

// ---------------------------------------------------------------------------
// Damage: the frames before it, then the exact error at the exact offset

const PCAP_HEADER: u64 = 24;
const RECORD_HEADER: u64 = 16;

/// A pcap with two good 60-byte frames; returns the bytes and the offset
/// where a third record would start.
fn two_good_records() -> (Vec<u8>, u64) {
    let mut bytes = pcap_header(Order::Le, false, LINKTYPE_ETHERNET);
    for tag in 1..=2u8 {
        let f = ethernet_frame(18, tag);
        assert_eq!(f.len(), 60);
        bytes.extend(pcap_record(
            Order::Le,
            1_700_000_000,
            u32::from(tag),
            &f,
            60,
        ));
    }
    (bytes, PCAP_HEADER + 2 * (RECORD_HEADER + 60))
}

#[test]
fn missing_file_is_an_open_error_naming_the_path() {
    let dir = scratch_dir("missing");
    let path = dir.join("no-such-file.pcap");
    let err = CaptureFile::open(&path).err().unwrap();
    assert!(
        matches!(err, CaptureError::Open { ref path, .. } if path.ends_with("no-such-file.pcap"))
    );
    assert!(err.to_string().contains("no-such-file.pcap"));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn zero_length_file_is_empty() {
    let dir = scratch_dir("empty");
    let path = dir.join("empty.pcap");
    fs::write(&path, b"").unwrap();
    let err = CaptureFile::open(&path).err().unwrap();
    assert!(matches!(err, CaptureError::Empty { ref path } if path.ends_with("empty.pcap")));
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn garbage_magic_is_corrupt_at_offset_zero() {
    let (_, err) = read_bytes(
        b"GIF89a\x01\x00\x01\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00",
    );
    let err = err.unwrap();
    match &err {
        CaptureError::Corrupt { offset, what, .. } => {
            assert_eq!(*offset, 0);
            assert_eq!(what, "not a pcap or pcapng file (magic 0x47494638)");
        }
        other => panic!("wrong error: {other}"),
    }
    assert_eq!(
        err.to_string(),
        "test.pcap: at offset 0: not a pcap or pcapng file (magic 0x47494638)"
    );
}

#[test]
fn file_header_cut_short_is_truncated_at_offset_zero() {
    let header = pcap_header(Order::Le, false, LINKTYPE_ETHERNET);
    for len in [2, 10, 23] {
        let (_, err) = read_bytes(&header[..len]);
        assert!(
            matches!(
                err,
                Some(CaptureError::Truncated {
                    offset: 0,
                    what: "file header",
                    ..
                })
            ),
            "{len} bytes: {err:?}"
        );
    }
}

#[test]
fn truncated_mid_record_header_returns_the_frames_before_then_the_record_offset() {
    let (mut bytes, third) = two_good_records();
    bytes.extend(&pcap_record(Order::Le, 1, 2, &[0; 60], 60)[..10]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 2);
    match err {
        Some(CaptureError::Truncated { offset, what, .. }) => {
            assert_eq!(offset, third);
            assert_eq!(what, "packet record header");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn truncated_mid_record_body_returns_the_frames_before_then_the_record_offset() {
    let (mut bytes, third) = two_good_records();
    let record = pcap_record(Order::Le, 1, 2, &ethernet_frame(18, 3), 60);
    bytes.extend(&record[..RECORD_HEADER as usize + 30]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 2);
    assert!(
        matches!(err, Some(CaptureError::Truncated { offset, what: "packet record", .. }) if offset == third),
        "{err:?}"
    );
    assert_eq!(
        err.unwrap().to_string(),
        format!("test.pcap: at offset {third}: file ends inside packet record")
    );
}

#[test]
fn after_damage_the_file_is_finished() {
    let (mut bytes, _) = two_good_records();
    bytes.extend([1, 2, 3]);
    let mut file = CaptureFile::from_reader("t", &bytes[..]).unwrap();
    let (frames, err) = read_all(&mut file);
    assert_eq!(frames.len(), 2);
    assert!(err.is_some());
    assert!(matches!(file.next_frame(), Ok(Next::End)));
}

#[test]
fn huge_caplen_is_corrupt_instead_of_allocated() {
    let (mut bytes, third) = two_good_records();
    let mut header = Vec::new();
    header.extend(1u32.to_le_bytes());
    header.extend(0u32.to_le_bytes());
    header.extend(0x7fff_fff0u32.to_le_bytes());
    header.extend(0x7fff_fff0u32.to_le_bytes());
    bytes.extend(header);
    bytes.extend([0; 100]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 2);
    match err {
        Some(CaptureError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, third);
            assert!(what.contains("2147483632"), "{what}");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn caplen_at_the_limit_is_read() {
    let mut bytes = pcap_header(Order::Le, false, LINKTYPE_ETHERNET);
    let big = vec![0xab; MAX_CAPLEN as usize];
    bytes.extend(pcap_record(Order::Le, 1, 0, &big, MAX_CAPLEN));
    let ours = read_clean(&bytes);
    assert_eq!(ours[0].data.len(), MAX_CAPLEN as usize);
}

#[test]
fn pcap_with_an_unsupported_link_type_is_refused_at_open() {
    let bytes = pcap_header(Order::Le, false, LINKTYPE_IEEE802_11);
    let (_, err) = read_bytes(&bytes);
    assert!(
        matches!(
            err,
            Some(CaptureError::UnsupportedLinkType { linktype: 105, .. })
        ),
        "{err:?}"
    );
}

/// A pcapng with one Ethernet interface and one good packet; returns the
/// bytes and where the next block would start.
fn pcapng_one_good_packet() -> (Vec<u8>, u64) {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, 1, 0, &[]));
    bytes.extend(ng_epb(o, 0, 1, &ethernet_frame(10, 1), 52, &[]));
    let len = bytes.len() as u64;
    (bytes, len)
}

#[test]
fn pcapng_block_length_not_a_multiple_of_four_is_corrupt() {
    let (mut bytes, next) = pcapng_one_good_packet();
    let mut block = ng_epb(Order::Le, 0, 2, &ethernet_frame(10, 2), 52, &[]);
    let bad = (block.len() as u32 - 2).to_le_bytes();
    block[4..8].copy_from_slice(&bad);
    bytes.extend(block);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, next);
            assert!(what.contains("not a multiple of 4"), "{what}");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn pcapng_block_length_shorter_than_its_fixed_part_is_corrupt() {
    let (mut bytes, next) = pcapng_one_good_packet();
    // An EPB claiming 16 bytes: less than header + 20-byte body + trailer.
    bytes.extend(6u32.to_le_bytes());
    bytes.extend(16u32.to_le_bytes());
    bytes.extend([0; 8]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, next);
            assert!(
                what.contains("shorter than its 32-byte fixed part"),
                "{what}"
            );
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn pcapng_huge_block_length_is_corrupt_instead_of_allocated() {
    let (mut bytes, next) = pcapng_one_good_packet();
    bytes.extend(6u32.to_le_bytes());
    bytes.extend(0xffff_fff0u32.to_le_bytes());
    bytes.extend([0; 64]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == next),
        "{err:?}"
    );
}

#[test]
fn pcapng_epb_caplen_past_its_block_is_corrupt() {
    let (mut bytes, next) = pcapng_one_good_packet();
    let mut block = ng_epb(Order::Le, 0, 2, &ethernet_frame(10, 2), 52, &[]);
    // caplen field (block offset 8 + 12) says 200, the block holds 52.
    block[20..24].copy_from_slice(&200u32.to_le_bytes());
    bytes.extend(block);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == next),
        "{err:?}"
    );
}

#[test]
fn pcapng_mismatched_trailing_length_is_corrupt() {
    let (mut bytes, next) = pcapng_one_good_packet();
    let mut block = ng_epb(Order::Le, 0, 2, &ethernet_frame(10, 2), 52, &[]);
    let end = block.len();
    block[end - 4..].copy_from_slice(&4u32.to_le_bytes());
    bytes.extend(block);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Corrupt { offset, .. }) if offset == next),
        "{err:?}"
    );
}

#[test]
fn pcapng_truncated_mid_block_header_and_mid_block() {
    let (good, next) = pcapng_one_good_packet();
    let block = ng_epb(Order::Le, 0, 2, &ethernet_frame(10, 2), 52, &[]);
    for (cut, what) in [
        (2, "block header"),
        (6, "block header"),
        (30, "enhanced packet block"),
    ] {
        let mut bytes = good.clone();
        bytes.extend(&block[..cut]);
        let (frames, err) = read_bytes(&bytes);
        assert_eq!(frames.len(), 1, "cut at {cut}");
        match err {
            Some(CaptureError::Truncated {
                offset, what: w, ..
            }) => {
                assert_eq!((offset, w), (next, what), "cut at {cut}");
            }
            other => panic!("cut at {cut}: wrong error {other:?}"),
        }
    }
}

#[test]
fn pcapng_truncated_inside_a_skipped_block() {
    let (mut bytes, next) = pcapng_one_good_packet();
    let block = ng_block(Order::Le, 5, &[0; 40]);
    bytes.extend(&block[..20]);
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    assert!(
        matches!(err, Some(CaptureError::Truncated { offset, what: "interface statistics block", .. }) if offset == next),
        "{err:?}"
    );
}

#[test]
fn pcapng_packet_on_an_undescribed_interface_is_corrupt() {
    let (mut bytes, next) = pcapng_one_good_packet();
    bytes.extend(ng_epb(Order::Le, 3, 2, &ethernet_frame(10, 2), 52, &[]));
    let (frames, err) = read_bytes(&bytes);
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Corrupt { offset, what, .. }) => {
            assert_eq!(offset, next);
            assert!(what.contains("interface 3"), "{what}");
        }
        other => panic!("wrong error: {other:?}"),
    }
}

#[test]
fn pcapng_unsupported_link_type_is_reported_when_a_packet_uses_it_then_skipped() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, 1, 0, &[]));
    bytes.extend(ng_idb(o, LINKTYPE_IEEE802_11 as u16, 0, &[]));
    bytes.extend(ng_epb(o, 0, 1, &ethernet_frame(4, 1), 46, &[]));
    let bad_at = bytes.len() as u64;
    bytes.extend(ng_epb(o, 1, 2, &[0; 24], 24, &[]));
    bytes.extend(ng_epb(o, 0, 3, &ethernet_frame(4, 3), 46, &[]));
    let mut file = CaptureFile::from_reader("two.pcapng", &bytes[..]).unwrap();
    assert!(matches!(file.next_frame(), Ok(Next::Frame(f)) if f.ts_nanos == 1_000));
    match file.next_frame() {
        Err(e @ CaptureError::UnsupportedInterfaceLinkType { .. }) => {
            assert_eq!(
                e.to_string(),
                format!("two.pcapng: at offset {bad_at}: packet on interface 1 has unsupported link type 105")
            );
        }
        other => panic!("wrong result: {other:?}"),
    }
    assert!(matches!(file.next_frame(), Ok(Next::Frame(f)) if f.ts_nanos == 3_000));
    assert!(matches!(file.next_frame(), Ok(Next::End)));
}

#[test]
fn pcapng_interface_of_unsupported_link_type_without_packets_is_no_error() {
    let o = Order::Le;
    let mut bytes = ng_shb(o);
    bytes.extend(ng_idb(o, LINKTYPE_IEEE802_11 as u16, 0, &[]));
    bytes.extend(ng_idb(o, 1, 0, &[]));
    bytes.extend(ng_epb(o, 1, 1, &ethernet_frame(4, 1), 46, &[]));
    assert_eq!(read_clean(&bytes).len(), 1);
}

#[test]
fn pcapng_bad_byte_order_magic_is_corrupt() {
    let mut bytes = ng_shb(Order::Le);
    bytes[8..12].copy_from_slice(&[1, 2, 3, 4]);
    let (_, err) = read_bytes(&bytes);
    assert!(
        matches!(err, Some(CaptureError::Corrupt { offset: 0, .. })),
        "{err:?}"
    );
}

// ---------------------------------------------------------------------------
// Several files as one source

#[test]
fn capture_files_chain_in_order() {
    let dir = scratch_dir("chain");
    let a = real_pcaps().join("zeek/dns-https.pcap");
    let b = real_pcaps().join("ndpi/dns.pcap");
    let mut expected = read_clean(&fs::read(&a).unwrap());
    expected.extend(read_clean(&fs::read(&b).unwrap()));
    // As replay reads them: one source per file, in order.
    let mut frames = Vec::new();
    for path in [&a, &b] {
        let (read, err) = read_all(&mut CaptureFile::open(path).unwrap());
        assert!(err.is_none());
        frames.extend(read);
    }
    assert_eq!(frames, expected);
    fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn capture_files_report_a_bad_file_then_go_on_with_the_next() {
    let dir = scratch_dir("chain-bad");
    let (mut truncated, _) = two_good_records();
    truncated.extend([0; 5]);
    let damaged = dir.join("damaged.pcap");
    fs::write(&damaged, &truncated).unwrap();
    let missing = dir.join("missing.pcap");
    let good = real_pcaps().join("zeek/dns-https.pcap");
    let mut log = String::new();
    let mut frames = 0;
    // As replay --keep-going reads them: each file opened in its turn, an
    // error reported, then on with the next file.
    let kind = |e: CaptureError| match e {
        CaptureError::Truncated { .. } => "truncated",
        CaptureError::Open { .. } => "open",
        _ => "other",
    };
    for path in [damaged.clone(), missing, good.clone()] {
        let mut file = match CaptureFile::open(&path) {
            Ok(file) => file,
            Err(e) => {
                write!(log, "{frames}:{} ", kind(e)).unwrap();
                continue;
            }
        };
        loop {
            match file.next_frame() {
                Ok(Next::Frame(_)) => frames += 1,
                Ok(Next::End) => break,
                Ok(Next::Idle) => panic!("idle"),
                Err(e) => write!(log, "{frames}:{} ", kind(e)).unwrap(),
            }
        }
    }
    // Two frames of the damaged file, its error, the missing file's error,
    // then the good file's two frames.
    assert_eq!(log, "2:truncated 2:open ");
    assert_eq!(frames, 4);
    fs::remove_dir_all(&dir).unwrap();
}
