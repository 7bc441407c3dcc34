//! Frames and pcap files built in the tests (etherparse builds the headers,
//! simple-dns the DNS messages), with the IP-layer length each frame is
//! accounted at, so the expected figures come from what was generated.
#![allow(dead_code)]
// The builders take one argument per header field, in header order.
#![allow(clippy::too_many_arguments)]

use etherparse::{IpNumber, Ipv4Header, PacketBuilder, PacketBuilderStep, UdpHeader};

pub type MacAddr = [u8; 6];

/// A classic pcap file (microsecond timestamps, Ethernet) being written.
pub struct Pcap {
    pub bytes: Vec<u8>,
    pub frames: u64,
}

impl Pcap {
    pub fn new() -> Pcap {
        let mut bytes = Vec::new();
        bytes.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
        bytes.extend_from_slice(&2u16.to_le_bytes());
        bytes.extend_from_slice(&4u16.to_le_bytes());
        bytes.extend_from_slice(&0i32.to_le_bytes());
        bytes.extend_from_slice(&0u32.to_le_bytes());
        bytes.extend_from_slice(&65535u32.to_le_bytes());
        bytes.extend_from_slice(&1u32.to_le_bytes());
        Pcap { bytes, frames: 0 }
    }

    /// Appends a frame captured at `micros` (microseconds since the epoch).
    pub fn push(&mut self, micros: u64, frame: &[u8]) {
        self.push_cut(micros, frame, frame.len() as u32);
    }

    /// Appends a frame that was `wire_len` bytes on the wire, of which a
    /// snaplen kept `frame`.
    pub fn push_cut(&mut self, micros: u64, frame: &[u8], wire_len: u32) {
        let sec = (micros / 1_000_000) as u32;
        let usec = (micros % 1_000_000) as u32;
        self.bytes.extend_from_slice(&sec.to_le_bytes());
        self.bytes.extend_from_slice(&usec.to_le_bytes());
        self.bytes
            .extend_from_slice(&(frame.len() as u32).to_le_bytes());
        self.bytes.extend_from_slice(&wire_len.to_le_bytes());
        self.bytes.extend_from_slice(frame);
        self.frames += 1;
    }

    pub fn write(&self, path: &std::path::Path) {
        std::fs::write(path, &self.bytes).unwrap();
    }
}

/// The IP-layer length of an Ethernet + IPv4/IPv6 frame (no VLAN), read
/// back with etherparse: what lanwatch must account it at.
pub fn ip_len(frame: &[u8]) -> u64 {
    let sliced = etherparse::SlicedPacket::from_ethernet(frame).expect("a valid frame");
    match sliced.net {
        Some(etherparse::NetSlice::Ipv4(v4)) => u64::from(v4.header().total_len()),
        Some(etherparse::NetSlice::Ipv6(v6)) => 40 + u64::from(v6.header().payload_length()),
        _ => panic!("not IP"),
    }
}

pub fn tcp4(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    syn: bool,
    ack: bool,
    payload: usize,
) -> Vec<u8> {
    let mut b = PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv4(src, dst, 64)
        .tcp(sport, dport, 1000, 64240);
    if syn {
        b = b.syn();
    }
    if ack {
        b = b.ack(1);
    }
    let data = vec![0x17u8; payload];
    let mut out = Vec::with_capacity(b.size(payload));
    b.write(&mut out, &data).unwrap();
    out
}

pub fn udp4(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv4(src, dst, 64)
        .udp(sport, dport);
    udp_frame(b, payload)
}

/// The frame a finished UDP builder (Ethernet, IPv4 or IPv6) writes for
/// `payload`.
fn udp_frame(b: PacketBuilderStep<UdpHeader>, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(b.size(payload.len()));
    b.write(&mut out, payload).unwrap();
    out
}

/// A DNS query for `name` (type A) built by simple-dns.
pub fn dns_query(id: u16, name: &str) -> Vec<u8> {
    use simple_dns::{Name, Packet, Question, CLASS, QCLASS, QTYPE, TYPE};
    let mut p = Packet::new_query(id);
    p.questions.push(Question::new(
        Name::new_unchecked(name),
        QTYPE::TYPE(TYPE::A),
        QCLASS::CLASS(CLASS::IN),
        false,
    ));
    p.build_bytes_vec().unwrap()
}

/// A DNS query whose question name is a compression pointer to itself
/// (a loop): a decompression bomb that a naive parser follows for ever.
pub fn dns_pointer_loop_query(id: u16) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    // Question name at offset 12: a pointer to offset 12.
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1]);
    m
}

/// A DNS query whose question name is a long chain of pointers, each to
/// the one before (a message that expands far beyond its size).
pub fn dns_pointer_chain_query(id: u16, links: usize) -> Vec<u8> {
    let mut m = Vec::new();
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 1]);
    // Question: a pointer to the last link of the chain (patched below).
    let question = m.len();
    m.extend_from_slice(&[0xc0, 0x00, 0, 1, 0, 1]);
    // Additional record name chain: label "a" then pointer to previous.
    let mut previous: Option<usize> = None;
    for _ in 0..links {
        let here = m.len();
        m.extend_from_slice(&[0x3f]);
        m.extend_from_slice(&[b'a'; 63]);
        match previous {
            Some(p) => m.extend_from_slice(&[0xc0 | (p >> 8) as u8, p as u8]),
            None => m.push(0),
        }
        previous = Some(here);
        if m.len() > 0x3f00 {
            break;
        }
    }
    let last = previous.unwrap_or(12);
    m[question] = 0xc0 | (last >> 8) as u8;
    m[question + 1] = last as u8;
    // The additional record's type/class/ttl/rdlength.
    m.extend_from_slice(&[0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0]);
    m
}

/// An IPv4 fragment carrying `payload` at `offset_units` × 8 bytes.
pub fn ipv4_fragment(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: [u8; 4],
    dst: [u8; 4],
    id: u16,
    offset_units: u16,
    more: bool,
    payload: &[u8],
) -> Vec<u8> {
    let mut ip = Ipv4Header::new(payload.len() as u16, 64, IpNumber::UDP, src, dst).unwrap();
    ip.identification = id;
    ip.more_fragments = more;
    ip.fragment_offset = etherparse::IpFragOffset::try_new(offset_units).unwrap();
    ip.header_checksum = ip.calc_header_checksum();
    let mut out = Vec::new();
    out.extend_from_slice(&dst_mac);
    out.extend_from_slice(&src_mac);
    out.extend_from_slice(&[0x08, 0x00]);
    ip.write(&mut out).unwrap();
    out.extend_from_slice(payload);
    out
}

/// A tiny deterministic generator (xorshift), so a failing flood can be
/// replayed exactly.
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn mac(&mut self) -> MacAddr {
        let r = self.next().to_le_bytes();
        // Locally administered unicast, like a randomized MAC.
        [(r[0] & 0xfc) | 0x02, r[1], r[2], r[3], r[4], r[5]]
    }

    pub fn word(&mut self, len: usize) -> String {
        (0..len)
            .map(|_| (b'a' + (self.next() % 26) as u8) as char)
            .collect()
    }
}

/// An Ethernet + IPv4 frame whose total length field is overwritten with
/// `claimed` (the header checksum recomputed, so only the length lies).
pub fn with_ipv4_total_length(mut frame: Vec<u8>, claimed: u16) -> Vec<u8> {
    frame[16..18].copy_from_slice(&claimed.to_be_bytes());
    frame[24..26].copy_from_slice(&[0, 0]);
    let sum = frame[14..34]
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w[1]])))
        .sum::<u32>();
    let folded = (sum & 0xffff) + (sum >> 16);
    let checksum = !(((folded & 0xffff) + (folded >> 16)) as u16);
    frame[24..26].copy_from_slice(&checksum.to_be_bytes());
    frame
}

pub fn udp6(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: [u8; 16],
    dst: [u8; 16],
    sport: u16,
    dport: u16,
    payload: &[u8],
) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(src_mac, dst_mac)
        .ipv6(src, dst, 64)
        .udp(sport, dport);
    udp_frame(b, payload)
}

/// An Ethernet + IPv6 frame whose payload length field says `claimed`.
pub fn with_ipv6_payload_length(mut frame: Vec<u8>, claimed: u16) -> Vec<u8> {
    frame[18..20].copy_from_slice(&claimed.to_be_bytes());
    frame
}

/// An Ethernet + IPv6 jumbogram (RFC 2675): payload length 0, a hop-by-hop
/// header whose Jumbo Payload option says `jumbo`, then UDP with `payload`.
pub fn jumbogram(
    src_mac: MacAddr,
    dst_mac: MacAddr,
    src: [u8; 16],
    dst: [u8; 16],
    jumbo: u32,
    payload: &[u8],
) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&dst_mac);
    f.extend_from_slice(&src_mac);
    f.extend_from_slice(&[0x86, 0xdd]);
    f.extend_from_slice(&[0x60, 0, 0, 0, 0, 0, 0, 64]);
    f.extend_from_slice(&src);
    f.extend_from_slice(&dst);
    f.extend_from_slice(&[17, 0, 0xc2, 4]);
    f.extend_from_slice(&jumbo.to_be_bytes());
    // UDP: ports 40000 -> 9999, length 0 (a jumbogram's), no checksum.
    f.extend_from_slice(&[0x9c, 0x40, 0x27, 0x0f, 0, 0, 0, 0]);
    f.extend_from_slice(payload);
    f
}
