#![allow(dead_code)] // each benchmark uses part of it
//! Deterministic capture generator shared by the benchmarks and
//! `examples/gen_bench_capture.rs` (which writes the files).
//!
//! ```text
//! cargo run --release --example gen_bench_capture -- home  OUT.pcap [--packets N] [--snaplen S]
//! cargo run --release --example gen_bench_capture -- macs  OUT.pcap [--packets N]
//! cargo run --release --example gen_bench_capture -- names OUT.pcap [--packets N] [--clients N]
//! ```
//!
//! * `home`: the frame mix of a busy home LAN — 256 clients (a fifth of them
//!   also on IPv6), about one flow per 200 packets (~20 k flows in 4 M
//!   packets) with heavy-tailed lengths: HTTPS downloads (1514-byte segments,
//!   an ACK every second one) with a real ClientHello carrying the server
//!   name, short web requests, QUIC, plain HTTP, DNS lookups before most
//!   flows (queries for A/AAAA/HTTPS with answers naming the flow's server),
//!   NTP, pings, DoT, and LAN chatter (ARP, mDNS, SSDP, casting between
//!   clients). About 60 kpps of packet time.
//! * `macs`: a flood of frames from random source MACs (and random LAN
//!   source addresses and ports) to the internet: every frame a new client
//!   and a new flow.
//! * `names`: a random-subdomain flood: `--clients` clients (default 512)
//!   query random names under a few zones at the router's resolver, and the
//!   resolver answers each with an address.
//! * `scrape`: `--clients` clients each with traffic both ways on 15
//!   protocols and one DNS lookup: what a scrape renders.
//!
//! Same arguments, same bytes: one fixed-seed generator drives everything.
//! Frames are written whole up to `--snaplen` (default: whole); IPv4 header
//! checksums are right, TCP/UDP checksums are left zero (none of the readers
//! compared checks them by default). Classic pcap, microsecond stamps.

use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr};

/// 2026-01-01T00:00:00Z.
const T0_MICROS: u64 = 1_767_225_600_000_000;

// ---- deterministic randomness ---------------------------------------------

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.below(hi - lo + 1)
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len() as u64) as usize]
    }
}

// ---- frame building -------------------------------------------------------

type Mac = [u8; 6];

#[derive(Clone, Copy)]
enum Ip {
    V4(Ipv4Addr),
    V6(Ipv6Addr),
}

const ROUTER_MAC: Mac = [0x94, 0x83, 0xc4, 0x12, 0x34, 0x56];
const ROUTER_V4: Ipv4Addr = Ipv4Addr::new(192, 168, 1, 1);
const ROUTER_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x1, 0, 0, 0, 0, 0, 1);

const TCP: u8 = 6;
const UDP: u8 = 17;
const ICMP: u8 = 1;

const SYN: u8 = 0x02;
const ACK: u8 = 0x10;
const PSH_ACK: u8 = 0x18;
const SYN_ACK: u8 = 0x12;
const FIN_ACK: u8 = 0x11;

/// Writes the pcap file and keeps a scratch buffer for frames.
pub struct Writer<W: Write> {
    pub out: W,
    snaplen: usize,
    frame: Vec<u8>,
    /// Bytes that stand in for encrypted payloads.
    filler: Vec<u8>,
    pub packets: u64,
}

impl<W: Write> Writer<W> {
    /// Writes the pcap file header to `out`.
    pub fn new(mut out: W, snaplen: usize) -> io::Result<Writer<W>> {
        out.write_all(&0xa1b2_c3d4u32.to_le_bytes())?;
        out.write_all(&2u16.to_le_bytes())?;
        out.write_all(&4u16.to_le_bytes())?;
        out.write_all(&0i32.to_le_bytes())?;
        out.write_all(&0u32.to_le_bytes())?;
        out.write_all(&(snaplen.min(262_144) as u32).to_le_bytes())?;
        out.write_all(&1u32.to_le_bytes())?;
        let mut rng = Rng(7);
        let filler = (0..2048).map(|_| rng.next() as u8).collect();
        Ok(Writer {
            out,
            snaplen,
            frame: Vec::with_capacity(2048),
            filler,
            packets: 0,
        })
    }

    fn flush_frame(&mut self, micros: u64) -> io::Result<()> {
        let wire = self.frame.len();
        let cap = wire.min(self.snaplen);
        let secs = (micros / 1_000_000) as u32;
        let frac = (micros % 1_000_000) as u32;
        self.out.write_all(&secs.to_le_bytes())?;
        self.out.write_all(&frac.to_le_bytes())?;
        self.out.write_all(&(cap as u32).to_le_bytes())?;
        self.out.write_all(&(wire as u32).to_le_bytes())?;
        self.out.write_all(&self.frame[..cap])?;
        self.packets += 1;
        Ok(())
    }

    /// An Ethernet frame carrying an IP packet whose L4 header is `l4` and
    /// payload `payload` (or `pad` filler bytes).
    #[allow(clippy::too_many_arguments)]
    fn ip_frame(
        &mut self,
        micros: u64,
        (src_mac, dst_mac): (Mac, Mac),
        (src, dst): (Ip, Ip),
        proto: u8,
        l4: &[u8],
        payload: &[u8],
        filler_len: usize,
    ) -> io::Result<()> {
        self.frame.clear();
        self.frame.extend_from_slice(&dst_mac);
        self.frame.extend_from_slice(&src_mac);
        let l4_len = l4.len() + payload.len() + filler_len;
        match (src, dst) {
            (Ip::V4(s), Ip::V4(d)) => {
                self.frame.extend_from_slice(&[0x08, 0x00]);
                let total = (20 + l4_len) as u16;
                let mut h = [0u8; 20];
                h[0] = 0x45;
                h[2..4].copy_from_slice(&total.to_be_bytes());
                h[4..6].copy_from_slice(&((self.packets as u16).wrapping_mul(7)).to_be_bytes());
                h[6] = 0x40; // DF
                h[8] = 64;
                h[9] = proto;
                h[12..16].copy_from_slice(&s.octets());
                h[16..20].copy_from_slice(&d.octets());
                let sum = checksum(&h);
                h[10..12].copy_from_slice(&sum.to_be_bytes());
                self.frame.extend_from_slice(&h);
            }
            (Ip::V6(s), Ip::V6(d)) => {
                self.frame.extend_from_slice(&[0x86, 0xdd]);
                let mut h = [0u8; 40];
                h[0] = 0x60;
                h[4..6].copy_from_slice(&(l4_len as u16).to_be_bytes());
                h[6] = if proto == ICMP { 58 } else { proto };
                h[7] = 64;
                h[8..24].copy_from_slice(&s.octets());
                h[24..40].copy_from_slice(&d.octets());
                self.frame.extend_from_slice(&h);
            }
            _ => unreachable!("mixed address families"),
        }
        self.frame.extend_from_slice(l4);
        self.frame.extend_from_slice(payload);
        let mut left = filler_len;
        while left > 0 {
            let n = left.min(self.filler.len());
            let start = (self.packets as usize * 13) % (self.filler.len() - n + 1);
            let (frame, filler) = (&mut self.frame, &self.filler);
            frame.extend_from_slice(&filler[start..start + n]);
            left -= n;
        }
        self.flush_frame(micros)
    }

    fn arp_request(
        &mut self,
        micros: u64,
        mac: Mac,
        ip: Ipv4Addr,
        target: Ipv4Addr,
    ) -> io::Result<()> {
        self.frame.clear();
        self.frame.extend_from_slice(&[0xff; 6]);
        self.frame.extend_from_slice(&mac);
        self.frame
            .extend_from_slice(&[0x08, 0x06, 0, 1, 0x08, 0, 6, 4, 0, 1]);
        self.frame.extend_from_slice(&mac);
        self.frame.extend_from_slice(&ip.octets());
        self.frame.extend_from_slice(&[0; 6]);
        self.frame.extend_from_slice(&target.octets());
        self.frame.resize(60, 0);
        self.flush_frame(micros)
    }
}

fn checksum(bytes: &[u8]) -> u16 {
    let mut sum = 0u32;
    for pair in bytes.chunks(2) {
        let word = u16::from_be_bytes([pair[0], *pair.get(1).unwrap_or(&0)]);
        sum += u32::from(word);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

fn tcp_header(sport: u16, dport: u16, seq: u32, ack: u32, flags: u8) -> [u8; 32] {
    // 20 bytes + NOP NOP timestamps, as Linux and phones send them.
    let mut h = [0u8; 32];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..8].copy_from_slice(&seq.to_be_bytes());
    h[8..12].copy_from_slice(&ack.to_be_bytes());
    h[12] = 8 << 4;
    h[13] = flags;
    h[14..16].copy_from_slice(&502u16.to_be_bytes());
    h[20..24].copy_from_slice(&[1, 1, 8, 10]);
    h[24..28].copy_from_slice(&seq.wrapping_mul(3).to_be_bytes());
    h[28..32].copy_from_slice(&ack.wrapping_mul(5).to_be_bytes());
    h
}

fn udp_header(sport: u16, dport: u16, payload_len: usize) -> [u8; 8] {
    let mut h = [0u8; 8];
    h[0..2].copy_from_slice(&sport.to_be_bytes());
    h[2..4].copy_from_slice(&dport.to_be_bytes());
    h[4..6].copy_from_slice(&((8 + payload_len) as u16).to_be_bytes());
    h
}

// ---- application payloads --------------------------------------------------

fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name.split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut m = Vec::with_capacity(64);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    m
}

/// A response echoing the question, with one answer per address
/// (A for IPv4, AAAA for IPv6) or none (NXDOMAIN when `nx`).
fn dns_response(id: u16, name: &str, qtype: u16, answers: &[Ip], nx: bool) -> Vec<u8> {
    let mut m = Vec::with_capacity(128);
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x81, if nx { 0x83 } else { 0x80 }, 0, 1]);
    m.extend_from_slice(&(answers.len() as u16).to_be_bytes());
    m.extend_from_slice(&[0, 0, 0, 0]);
    push_name(&mut m, name);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]);
    for a in answers {
        m.extend_from_slice(&[0xc0, 0x0c]);
        match a {
            Ip::V4(v4) => {
                m.extend_from_slice(&[0, 1, 0, 1, 0, 0, 0x01, 0x2c, 0, 4]);
                m.extend_from_slice(&v4.octets());
            }
            Ip::V6(v6) => {
                m.extend_from_slice(&[0, 28, 0, 1, 0, 0, 0x01, 0x2c, 0, 16]);
                m.extend_from_slice(&v6.octets());
            }
        }
    }
    m
}

/// A TLS 1.3 ClientHello record for `sni`, padded to 517 bytes like
/// browsers' first flight.
fn client_hello(sni: &str, rng: &mut Rng) -> Vec<u8> {
    let mut body = Vec::with_capacity(512);
    body.extend_from_slice(&[0x03, 0x03]);
    for _ in 0..32 {
        body.push(rng.next() as u8);
    }
    body.push(32);
    for _ in 0..32 {
        body.push(rng.next() as u8);
    }
    let suites: [u16; 8] = [
        0x1301, 0x1302, 0x1303, 0xc02b, 0xc02f, 0xc02c, 0xc030, 0xcca9,
    ];
    body.extend_from_slice(&((suites.len() * 2) as u16).to_be_bytes());
    for s in suites {
        body.extend_from_slice(&s.to_be_bytes());
    }
    body.extend_from_slice(&[1, 0]);
    let mut ext = Vec::with_capacity(400);
    // server_name
    let n = sni.len() as u16;
    ext.extend_from_slice(&[0, 0]);
    ext.extend_from_slice(&(n + 5).to_be_bytes());
    ext.extend_from_slice(&(n + 3).to_be_bytes());
    ext.push(0);
    ext.extend_from_slice(&n.to_be_bytes());
    ext.extend_from_slice(sni.as_bytes());
    // supported_versions: TLS 1.3, 1.2
    ext.extend_from_slice(&[0, 0x2b, 0, 5, 4, 0x03, 0x04, 0x03, 0x03]);
    // ALPN h2, http/1.1
    ext.extend_from_slice(&[0, 0x10, 0, 14, 0, 12, 2, b'h', b'2', 8]);
    ext.extend_from_slice(b"http/1.1");
    // key_share x25519
    ext.extend_from_slice(&[0, 0x33, 0, 38, 0, 36, 0, 0x1d, 0, 32]);
    for _ in 0..32 {
        ext.push(rng.next() as u8);
    }
    // padding up to a 512-byte ClientHello body
    let so_far = 4 + body.len() + 2 + ext.len();
    if so_far + 4 < 512 {
        let pad = 512 - so_far - 4;
        ext.extend_from_slice(&[0, 0x15]);
        ext.extend_from_slice(&(pad as u16).to_be_bytes());
        ext.resize(ext.len() + pad, 0);
    }
    body.extend_from_slice(&(ext.len() as u16).to_be_bytes());
    body.extend_from_slice(&ext);
    let mut hs = vec![1];
    hs.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    hs.extend_from_slice(&body);
    let mut rec = vec![0x16, 0x03, 0x01];
    rec.extend_from_slice(&(hs.len() as u16).to_be_bytes());
    rec.extend_from_slice(&hs);
    rec
}

// ---- the home mix ----------------------------------------------------------

const ZONES: [&str; 40] = [
    "google.com",
    "youtube.com",
    "googlevideo.com",
    "ytimg.com",
    "gstatic.com",
    "googleapis.com",
    "facebook.com",
    "fbcdn.net",
    "instagram.com",
    "whatsapp.net",
    "netflix.com",
    "nflxvideo.net",
    "apple.com",
    "icloud.com",
    "mzstatic.com",
    "microsoft.com",
    "windowsupdate.com",
    "live.com",
    "office.com",
    "amazon.com",
    "amazonaws.com",
    "cloudfront.net",
    "akamaihd.net",
    "spotify.com",
    "scdn.co",
    "tiktokcdn.com",
    "twitch.tv",
    "reddit.com",
    "redd.it",
    "wikipedia.org",
    "github.com",
    "steamcontent.com",
    "discord.com",
    "zoom.us",
    "cloudflare.com",
    "doubleclick.net",
    "bbc.co.uk",
    "nytimes.com",
    "roku.com",
    "ring.com",
];
const PREFIXES: [&str; 12] = [
    "www",
    "api",
    "cdn",
    "static",
    "img",
    "edge",
    "rr3---sn-4g5e6nz7",
    "m",
    "graph",
    "play",
    "video",
    "i",
];

struct Client {
    mac: Mac,
    v4: Ipv4Addr,
    v6: Option<Ipv6Addr>,
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    HttpsBulk,
    HttpsShort,
    Quic,
    Http,
    Dot,
    Ntp,
    Ping,
    Cast,
}

struct Flow {
    kind: Kind,
    client: usize,
    peer: Ip,
    peer_mac: Mac,
    sport: u16,
    dport: u16,
    v6: bool,
    /// Packets still to send; the handshake and close are counted in.
    left: u32,
    step: u32,
    seq_c: u32,
    seq_s: u32,
    sni: String,
}

struct Home {
    rng: Rng,
    clients: Vec<Client>,
    micros: u64,
    /// Mean gap between frames, microseconds (× 16 for sub-µs precision).
    gap16: u64,
    dns_id: u16,
    /// Stretches flow lengths so that the capture holds the flows asked for.
    length_scale: f64,
}

fn public_v4(rng: &mut Rng, domain_hash: u64) -> Ipv4Addr {
    const FIRST: [u8; 12] = [13, 23, 31, 34, 52, 104, 142, 151, 157, 185, 199, 203];
    let h = domain_hash ^ rng.below(4);
    Ipv4Addr::new(
        FIRST[(h % 12) as usize],
        (h >> 8) as u8,
        (h >> 16) as u8,
        ((h >> 24) as u8).max(1),
    )
}

fn public_v6(rng: &mut Rng, domain_hash: u64) -> Ipv6Addr {
    let h = domain_hash ^ rng.below(4);
    Ipv6Addr::new(
        0x2a00 | (h & 0xff) as u16,
        0x1450,
        (h >> 8) as u16,
        0,
        0,
        0,
        0,
        (h >> 24) as u16 | 1,
    )
}

fn fnv(s: &str) -> u64 {
    s.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3)
    })
}

impl Home {
    fn new(length_scale: f64) -> Home {
        let mut rng = Rng(0x1a2b_3c4d);
        let ouis: [[u8; 3]; 8] = [
            [0xf0, 0x18, 0x98],
            [0x3c, 0x22, 0xfb],
            [0xa4, 0x83, 0xe7],
            [0xdc, 0xa6, 0x32],
            [0x00, 0x17, 0x88],
            [0x44, 0x65, 0x0d],
            [0xb8, 0x27, 0xeb],
            [0x18, 0xb4, 0x30],
        ];
        let clients = (0..256u32)
            .map(|i| {
                let mut mac = [0u8; 6];
                if i % 5 == 4 {
                    // Phones' private addresses: locally administered.
                    mac = [
                        0x02 | (rng.next() as u8 & 0xfc),
                        rng.next() as u8,
                        rng.next() as u8,
                        0,
                        0,
                        0,
                    ];
                } else {
                    mac[..3].copy_from_slice(rng.pick::<[u8; 3]>(&ouis));
                }
                mac[3] = (i >> 8) as u8;
                mac[4] = i as u8;
                mac[5] = rng.next() as u8;
                let v4 = Ipv4Addr::new(192, 168, 1 + (i / 250) as u8, 2 + (i % 250) as u8);
                let v6 = (i % 5 == 0).then(|| {
                    Ipv6Addr::new(
                        0xfd00,
                        1,
                        0,
                        0,
                        0x1000 + i as u16,
                        0,
                        0,
                        rng.next() as u16 | 1,
                    )
                });
                Client { mac, v4, v6 }
            })
            .collect();
        Home {
            rng,
            clients,
            micros: T0_MICROS,
            gap16: 16 * 1_000_000 / 60_000,
            dns_id: 1,
            length_scale,
        }
    }

    fn tick(&mut self) -> u64 {
        // Exponential-ish gaps: uniform 0..2×mean.
        self.micros += self.rng.below(2 * self.gap16 + 1) / 16;
        self.micros
    }

    fn new_flow(&mut self, w: &mut Writer<impl Write>) -> io::Result<Flow> {
        let rng = &mut self.rng;
        let client = rng.below(self.clients.len() as u64) as usize;
        let r = rng.below(1000);
        let kind = match r {
            0..=379 => Kind::HttpsBulk,
            380..=629 => Kind::HttpsShort,
            630..=849 => Kind::Quic,
            850..=899 => Kind::Http,
            900..=909 => Kind::Dot,
            910..=939 => Kind::Ntp,
            940..=959 => Kind::Ping,
            _ => Kind::Cast,
        };
        let v6 = self.clients[client].v6.is_some() && kind != Kind::Cast && rng.chance(0.6);
        let zone = *rng.pick(&ZONES);
        let prefix = *rng.pick(&PREFIXES);
        let sni = match kind {
            Kind::Dot => "dns.google".to_string(),
            Kind::Ntp => "pool.ntp.org".to_string(),
            _ => format!("{prefix}.{zone}"),
        };
        let h = fnv(&sni);
        let (peer, peer_mac) = if kind == Kind::Cast {
            let other = (client + 1 + rng.below(255) as usize) % self.clients.len();
            (Ip::V4(self.clients[other].v4), self.clients[other].mac)
        } else if v6 {
            (Ip::V6(public_v6(rng, h)), ROUTER_MAC)
        } else {
            (Ip::V4(public_v4(rng, h)), ROUTER_MAC)
        };
        // Heavy-tailed lengths, ~200 packets per flow on average.
        let u = rng.below(1000);
        let base = match u {
            0..=399 => rng.range(8, 40),
            400..=849 => rng.range(60, 600),
            _ => rng.range(600, 4000),
        } as f64;
        let mut left = ((base * self.length_scale) as u32).max(4);
        match kind {
            Kind::HttpsShort | Kind::Http => left = left.min(rng.range(10, 60) as u32),
            Kind::Ntp | Kind::Ping => left = 2 * rng.range(1, 4) as u32,
            Kind::Dot => left = left.min(30),
            Kind::HttpsBulk | Kind::Quic => left = left.saturating_mul(2).max(12),
            Kind::Cast => {}
        }
        let dport = match kind {
            Kind::HttpsBulk | Kind::HttpsShort | Kind::Quic => 443,
            Kind::Http => 80,
            Kind::Dot => 853,
            Kind::Ntp => 123,
            Kind::Ping => 0,
            Kind::Cast => 8009,
        };
        let sport = if kind == Kind::Ntp {
            123
        } else {
            rng.range(32768, 60999) as u16
        };
        let flow = Flow {
            kind,
            client,
            peer,
            peer_mac,
            sport,
            dport,
            v6,
            left,
            step: 0,
            seq_c: rng.next() as u32,
            seq_s: rng.next() as u32,
            sni,
        };
        // Most flows to the internet start with a lookup.
        if kind != Kind::Cast && kind != Kind::Dot && rng.chance(0.75) {
            self.lookup(w, &flow)?;
        }
        Ok(flow)
    }

    /// DNS query and response at the router's resolver for the flow's name
    /// (A or AAAA, and often an HTTPS query beside it, as browsers do).
    fn lookup(&mut self, w: &mut Writer<impl Write>, flow: &Flow) -> io::Result<()> {
        let c = &self.clients[flow.client];
        let (cmac, cip, rip) = if flow.v6 {
            (
                c.mac,
                Ip::V6(c.v6.unwrap_or(Ipv6Addr::LOCALHOST)),
                Ip::V6(ROUTER_V6),
            )
        } else {
            (c.mac, Ip::V4(c.v4), Ip::V4(ROUTER_V4))
        };
        let qtype = if flow.v6 { 28 } else { 1 };
        let mut queries = vec![qtype];
        if self.rng.chance(0.4) {
            queries.push(65);
        }
        for qt in queries {
            self.dns_id = self.dns_id.wrapping_add(1);
            let id = self.dns_id;
            let sport = self.rng.range(10_000, 65_000) as u16;
            let q = dns_query(id, &flow.sni, qt);
            let t = self.tick();
            w.ip_frame(
                t,
                (cmac, ROUTER_MAC),
                (cip, rip),
                UDP,
                &udp_header(sport, 53, q.len()),
                &q,
                0,
            )?;
            let answers: Vec<Ip> = if qt == 65 {
                vec![]
            } else {
                vec![flow.peer, other_answer(flow.peer)]
            };
            let r = dns_response(id, &flow.sni, qt, &answers, false);
            let t = self.tick() + self.rng.range(300, 30_000);
            self.micros = t;
            w.ip_frame(
                t,
                (ROUTER_MAC, cmac),
                (rip, cip),
                UDP,
                &udp_header(53, sport, r.len()),
                &r,
                0,
            )?;
        }
        Ok(())
    }

    /// Emits the flow's next frame; false once it is done.
    fn step(&mut self, w: &mut Writer<impl Write>, f: &mut Flow) -> io::Result<bool> {
        let t = self.tick();
        let c = &self.clients[f.client];
        let (cmac, cip) = match (f.v6, c.v6) {
            (true, Some(v6)) => (c.mac, Ip::V6(v6)),
            _ => (c.mac, Ip::V4(c.v4)),
        };
        let up = (cmac, f.peer_mac);
        let down = (f.peer_mac, cmac);
        let (ups, downs) = ((cip, f.peer), (f.peer, cip));
        let step = f.step;
        f.step += 1;
        f.left = f.left.saturating_sub(1);
        let last = f.left == 0;
        let rng = &mut self.rng;
        match f.kind {
            Kind::HttpsBulk | Kind::HttpsShort | Kind::Http | Kind::Dot | Kind::Cast => {
                let (flags, from_client, payload_len, hello) = match step {
                    0 => (SYN, true, 0, false),
                    1 => (SYN_ACK, false, 0, false),
                    2 => (ACK, true, 0, false),
                    3 if f.kind != Kind::Http && f.kind != Kind::Cast => (PSH_ACK, true, 0, true),
                    3 => (PSH_ACK, true, rng.range(300, 700) as usize, false),
                    _ if last => (FIN_ACK, step % 2 == 0, 0, false),
                    _ if f.kind == Kind::HttpsBulk => {
                        // Download: two full segments, then an ACK.
                        if step % 3 == 0 {
                            (ACK, true, 0, false)
                        } else {
                            (ACK, false, 1448, false)
                        }
                    }
                    _ => {
                        if rng.chance(0.35) {
                            (PSH_ACK, true, rng.range(40, 600) as usize, false)
                        } else if rng.chance(0.5) {
                            (PSH_ACK, false, rng.range(100, 1448) as usize, false)
                        } else {
                            (ACK, true, 0, false)
                        }
                    }
                };
                let payload = if hello {
                    client_hello(&f.sni, rng)
                } else {
                    Vec::new()
                };
                let len = payload.len() + payload_len;
                let (macs, ips, sp, dp, seq, ack) = if from_client {
                    (up, ups, f.sport, f.dport, f.seq_c, f.seq_s)
                } else {
                    (down, downs, f.dport, f.sport, f.seq_s, f.seq_c)
                };
                let h = tcp_header(sp, dp, seq, ack, flags);
                let adv = len as u32 + u32::from(flags & (SYN | 0x01) != 0);
                if from_client {
                    f.seq_c = f.seq_c.wrapping_add(adv);
                } else {
                    f.seq_s = f.seq_s.wrapping_add(adv);
                }
                w.ip_frame(t, macs, ips, TCP, &h, &payload, payload_len)?;
                if last {
                    // The other side's FIN, then the final ACK.
                    let (macs, ips, sp, dp) = if from_client {
                        (down, downs, f.dport, f.sport)
                    } else {
                        (up, ups, f.sport, f.dport)
                    };
                    let h = tcp_header(sp, dp, f.seq_s, f.seq_c, FIN_ACK);
                    w.ip_frame(t + 200, macs, ips, TCP, &h, &[], 0)?;
                    let h = tcp_header(f.sport, f.dport, f.seq_c, f.seq_s, ACK);
                    w.ip_frame(t + 400, up, ups, TCP, &h, &[], 0)?;
                    self.micros = t + 400;
                }
            }
            Kind::Quic => {
                // Initial from the client, then mostly full downstream
                // packets with small ACK frames up.
                let (from_client, len, first) = match step {
                    0 => (true, 1250, 0xc3),
                    1 => (false, 1200, 0xc1),
                    2 => (true, 1250, 0xc1),
                    _ if step % 4 == 0 => (true, rng.range(30, 60) as usize, 0x43),
                    _ => (false, rng.range(1200, 1350) as usize, 0x41),
                };
                let (macs, ips, sp, dp) = if from_client {
                    (up, ups, f.sport, f.dport)
                } else {
                    (down, downs, f.dport, f.sport)
                };
                let head = [first, 0, 0, 0, 1];
                w.ip_frame(
                    t,
                    macs,
                    ips,
                    UDP,
                    &udp_header(sp, dp, len),
                    &head,
                    len - head.len(),
                )?;
            }
            Kind::Ntp => {
                let from_client = step % 2 == 0;
                let (macs, ips) = if from_client {
                    (up, ups)
                } else {
                    (down, downs)
                };
                let mut ntp = [0u8; 48];
                ntp[0] = if from_client { 0x23 } else { 0x24 };
                w.ip_frame(t, macs, ips, UDP, &udp_header(123, 123, 48), &ntp, 0)?;
            }
            Kind::Ping => {
                let from_client = step % 2 == 0;
                let (macs, ips) = if from_client {
                    (up, ups)
                } else {
                    (down, downs)
                };
                let ty = match (f.v6, from_client) {
                    (false, true) => 8,
                    (false, false) => 0,
                    (true, true) => 128,
                    (true, false) => 129,
                };
                let h = [ty, 0, 0, 0, 0, 1, 0, step as u8];
                w.ip_frame(t, macs, ips, ICMP, &h, &[], 56)?;
            }
        }
        Ok(!last)
    }

    /// LAN chatter: ARP, mDNS, SSDP.
    fn chatter(&mut self, w: &mut Writer<impl Write>) -> io::Result<()> {
        let t = self.tick();
        let i = self.rng.below(self.clients.len() as u64) as usize;
        let (mac, v4) = (self.clients[i].mac, self.clients[i].v4);
        match self.rng.below(3) {
            0 => {
                let target = Ipv4Addr::new(192, 168, 1, 1 + self.rng.below(250) as u8);
                w.arp_request(t, mac, v4, target)
            }
            1 => {
                let q = dns_query(0, "_googlecast._tcp.local", 12);
                let dst = Ip::V4(Ipv4Addr::new(224, 0, 0, 251));
                w.ip_frame(
                    t,
                    (mac, [0x01, 0, 0x5e, 0, 0, 0xfb]),
                    (Ip::V4(v4), dst),
                    UDP,
                    &udp_header(5353, 5353, q.len()),
                    &q,
                    0,
                )
            }
            _ => {
                let m = b"M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\nMAN: \"ssdp:discover\"\r\nMX: 1\r\nST: ssdp:all\r\n\r\n";
                let dst = Ip::V4(Ipv4Addr::new(239, 255, 255, 250));
                w.ip_frame(
                    t,
                    (mac, [0x01, 0, 0x5e, 0x7f, 0xff, 0xfa]),
                    (Ip::V4(v4), dst),
                    UDP,
                    &udp_header(50000, 1900, m.len()),
                    m,
                    0,
                )
            }
        }
    }
}

/// A second answer address next to the flow's (CDNs answer with several).
fn other_answer(ip: Ip) -> Ip {
    match ip {
        Ip::V4(a) => {
            let mut o = a.octets();
            o[3] = o[3].wrapping_add(1).max(1);
            Ip::V4(Ipv4Addr::from(o))
        }
        Ip::V6(a) => {
            let mut s = a.segments();
            s[7] = s[7].wrapping_add(1);
            Ip::V6(Ipv6Addr::from(s))
        }
    }
}

/// Packets per flow ≈ 240 × length scale + 10 (measured on the output).
const PACKETS_PER_FLOW_PER_SCALE: f64 = 240.0;
const PACKETS_PER_FLOW_FIXED: f64 = 10.0;

pub fn home(w: &mut Writer<impl Write>, packets: u64, flows: u64) -> io::Result<()> {
    let per_flow = packets as f64 / flows.max(1) as f64;
    let scale = (per_flow - PACKETS_PER_FLOW_FIXED).max(1.0) / PACKETS_PER_FLOW_PER_SCALE;
    let mut home = Home::new(scale);
    /// Flows open at once: each frame comes from one of them at random.
    const CONCURRENT: usize = 600;
    let mut active: Vec<Flow> = Vec::with_capacity(CONCURRENT);
    for _ in 0..CONCURRENT {
        let f = home.new_flow(w)?;
        active.push(f);
    }
    while w.packets < packets {
        if home.rng.chance(0.02) {
            home.chatter(w)?;
            continue;
        }
        let i = home.rng.below(active.len() as u64) as usize;
        let mut flow = std::mem::replace(&mut active[i], placeholder());
        if home.step(w, &mut flow)? {
            active[i] = flow;
        } else {
            active[i] = home.new_flow(w)?;
        }
    }
    Ok(())
}

fn placeholder() -> Flow {
    Flow {
        kind: Kind::Ping,
        client: 0,
        peer: Ip::V4(Ipv4Addr::UNSPECIFIED),
        peer_mac: ROUTER_MAC,
        sport: 0,
        dport: 0,
        v6: false,
        left: 0,
        step: 0,
        seq_c: 0,
        seq_s: 0,
        sni: String::new(),
    }
}

// ---- the scrape mix -----------------------------------------------------------

/// Fifteen protocols of the default table: (IP protocol, server port).
const SCRAPE_PROTOCOLS: [(u8, u16); 15] = [
    (TCP, 443),
    (UDP, 443),
    (TCP, 80),
    (UDP, 53),
    (TCP, 853),
    (TCP, 22),
    (UDP, 123),
    (TCP, 993),
    (TCP, 587),
    (TCP, 5222),
    (TCP, 8883),
    (UDP, 3478),
    (UDP, 51820),
    (TCP, 8080),
    (ICMP, 0),
];

/// `clients` clients, each with traffic both ways on 15 protocols (what the
/// scrape renders: bytes and packets per protocol and direction,
/// connections) and a DNS query with its answer.
pub fn scrape_mix(w: &mut Writer<impl Write>, clients: u32) -> io::Result<()> {
    let mut micros = T0_MICROS;
    let mut rng = Rng(0x5c4a_9e00);
    for i in 0..clients {
        let mac = [0x3c, 0x22, 0xfb, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let ip = Ip::V4(Ipv4Addr::new(
            192,
            168,
            1 + (i / 250) as u8,
            2 + (i % 250) as u8,
        ));
        for (n, (proto, port)) in SCRAPE_PROTOCOLS.iter().enumerate() {
            let seed = rng.next();
            let remote = Ip::V4(public_v4(&mut rng, seed));
            let sport = 40_000 + n as u16;
            for from_client in [true, false] {
                micros += 10;
                let (macs, ips, sp, dp) = if from_client {
                    ((mac, ROUTER_MAC), (ip, remote), sport, *port)
                } else {
                    ((ROUTER_MAC, mac), (remote, ip), *port, sport)
                };
                match *proto {
                    TCP => {
                        let flags = if from_client { SYN } else { SYN_ACK };
                        let h = tcp_header(sp, dp, 1, 0, flags);
                        w.ip_frame(micros, macs, ips, TCP, &h, &[], 0)?;
                    }
                    UDP => {
                        w.ip_frame(micros, macs, ips, UDP, &udp_header(sp, dp, 100), &[], 100)?;
                    }
                    _ => {
                        let h = [if from_client { 8 } else { 0 }, 0, 0, 0, 0, 1, 0, 1];
                        w.ip_frame(micros, macs, ips, ICMP, &h, &[], 56)?;
                    }
                }
            }
        }
        let name = format!("device{i}.{}", ZONES[i as usize % ZONES.len()]);
        let q = dns_query(i as u16, &name, 1);
        micros += 10;
        let router = Ip::V4(ROUTER_V4);
        w.ip_frame(
            micros,
            (mac, ROUTER_MAC),
            (ip, router),
            UDP,
            &udp_header(5000, 53, q.len()),
            &q,
            0,
        )?;
        let answer = Ip::V4(public_v4(&mut rng, u64::from(i)));
        let r = dns_response(i as u16, &name, 1, &[answer], false);
        micros += 10;
        w.ip_frame(
            micros,
            (ROUTER_MAC, mac),
            (router, ip),
            UDP,
            &udp_header(53, 5000, r.len()),
            &r,
            0,
        )?;
    }
    Ok(())
}

// ---- the floods -------------------------------------------------------------

pub fn mac_flood(w: &mut Writer<impl Write>, packets: u64) -> io::Result<()> {
    let mut rng = Rng(0x5eed_0001);
    let mut micros = T0_MICROS;
    while w.packets < packets {
        micros += 1;
        let r = rng.next();
        // Unicast source MACs (the group bit clear), mostly "private".
        let mac = [
            (r as u8 & 0xfc) | 0x02,
            (r >> 8) as u8,
            (r >> 16) as u8,
            (r >> 24) as u8,
            (r >> 32) as u8,
            (r >> 40) as u8,
        ];
        let src = Ipv4Addr::new(
            10,
            (r >> 48) as u8,
            (r >> 56) as u8,
            2 + rng.below(250) as u8,
        );
        let seed = rng.next();
        let dst = public_v4(&mut rng, seed);
        let sport = rng.range(1024, 65535) as u16;
        let dport = *rng.pick(&[443u16, 80, 53, 123, 8080]);
        if rng.chance(0.5) {
            let h = tcp_header(sport, dport, r as u32, 0, SYN);
            w.ip_frame(
                micros,
                (mac, ROUTER_MAC),
                (Ip::V4(src), Ip::V4(dst)),
                TCP,
                &h,
                &[],
                0,
            )?;
        } else {
            w.ip_frame(
                micros,
                (mac, ROUTER_MAC),
                (Ip::V4(src), Ip::V4(dst)),
                UDP,
                &udp_header(sport, dport, 32),
                &[],
                32,
            )?;
        }
    }
    Ok(())
}

pub fn name_flood(w: &mut Writer<impl Write>, packets: u64, clients: usize) -> io::Result<()> {
    let mut rng = Rng(0x5eed_0002);
    let mut micros = T0_MICROS;
    let zones = ["example.com", "victim-bank.net", "cdn.example.org"];
    let mut id = 0u16;
    // One reply from beyond first, so that the router is known and the
    // queries are the clients' traffic with it.
    let first = [0x02, 0x42, 0, 0, 0, 0];
    let h = tcp_header(443, 40000, 1, 1, ACK);
    let beyond = Ip::V4(Ipv4Addr::new(93, 184, 216, 34));
    w.ip_frame(
        micros,
        (ROUTER_MAC, first),
        (beyond, Ip::V4(Ipv4Addr::new(10, 1, 0, 10))),
        TCP,
        &h,
        &[],
        0,
    )?;
    while w.packets < packets {
        let i = rng.below(clients as u64);
        let mac = [0x02, 0x42, 0, (i >> 16) as u8, (i >> 8) as u8, i as u8];
        let ip = Ipv4Addr::new(10, 1 + (i >> 8) as u8, i as u8, 10);
        // Long random labels: the worst case for names kept per client.
        let mut name = String::with_capacity(200);
        for _ in 0..3 {
            for _ in 0..rng.range(20, 60) {
                name.push((b'a' + rng.below(26) as u8) as char);
            }
            name.push('.');
        }
        name.push_str(rng.pick::<&str>(&zones));
        id = id.wrapping_add(1);
        let sport = rng.range(10_000, 65_000) as u16;
        let q = dns_query(id, &name, 1);
        micros += 5;
        w.ip_frame(
            micros,
            (mac, ROUTER_MAC),
            (Ip::V4(ip), Ip::V4(ROUTER_V4)),
            UDP,
            &udp_header(sport, 53, q.len()),
            &q,
            0,
        )?;
        let seed = rng.next();
        let answer = Ip::V4(public_v4(&mut rng, seed));
        let nx = rng.chance(0.5);
        let r = dns_response(
            id,
            &name,
            1,
            if nx {
                &[]
            } else {
                std::slice::from_ref(&answer)
            },
            nx,
        );
        micros += 5;
        w.ip_frame(
            micros,
            (ROUTER_MAC, mac),
            (Ip::V4(ROUTER_V4), Ip::V4(ip)),
            UDP,
            &udp_header(53, sport, r.len()),
            &r,
            0,
        )?;
    }
    Ok(())
}
