//! Shared by the DNS, DHCP and TLS oracle tests: read the captures in
//! `tests/captures`, cut each frame down to its UDP/TCP payload with
//! etherparse (independently of lanwatch's own frame decoder), and run
//! tshark for the expected values.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::fs::File;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::Command;

use etherparse::{IpNumber, LaxNetSlice, LaxSlicedPacket, TransportSlice};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

pub fn pcaps_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

/// Every capture file under `tests/captures` (recursively), sorted.
pub fn all_captures() -> Vec<PathBuf> {
    fn walk(dir: &std::path::Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("pcap" | "pcapng" | "cap")
            ) {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&pcaps_dir(), &mut out);
    out.sort();
    out
}

/// One captured frame: 1-based number (as tshark counts), link type, bytes.
pub struct Frame {
    pub number: u32,
    pub linktype: u32,
    pub data: Vec<u8>,
}

/// The frames of a pcap or pcapng file.
pub fn read_frames(path: &std::path::Path) -> Vec<Frame> {
    let bytes = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut frames = Vec::new();
    let is_pcapng = bytes.get(..4) == Some(&[0x0a, 0x0d, 0x0d, 0x0a]);
    if is_pcapng {
        let mut reader = PcapNgReader::new(File::open(path).unwrap()).unwrap();
        let mut n = 0;
        while let Some(block) = reader.next_block() {
            let Ok(block) = block else { break };
            let (iface, data) = match block {
                Block::EnhancedPacket(p) => (p.interface_id, p.data.into_owned()),
                Block::SimplePacket(p) => (0, p.data.into_owned()),
                _ => continue,
            };
            n += 1;
            let linktype = reader
                .interfaces()
                .get(iface as usize)
                .map(|i| u32::from(i.linktype))
                .unwrap_or(1);
            frames.push(Frame {
                number: n,
                linktype,
                data,
            });
        }
    } else {
        let mut reader = PcapReader::new(File::open(path).unwrap()).unwrap();
        let linktype = u32::from(reader.header().datalink);
        let mut n = 0;
        while let Some(packet) = reader.next_packet() {
            let Ok(packet) = packet else { break };
            n += 1;
            frames.push(Frame {
                number: n,
                linktype,
                data: packet.data.into_owned(),
            });
        }
    }
    frames
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Proto {
    Udp,
    Tcp,
}

/// A UDP datagram or TCP segment cut out of a frame.
#[derive(Debug)]
pub struct Segment<'a> {
    pub proto: Proto,
    pub src: IpAddr,
    pub dst: IpAddr,
    pub src_port: u16,
    pub dst_port: u16,
    pub tcp_seq: u32,
    pub tcp_syn: bool,
    pub tcp_fin_or_rst: bool,
    pub payload: &'a [u8],
}

/// Why a frame gave no segment.
#[derive(Debug, PartialEq, Eq, PartialOrd, Ord, Clone, Copy)]
pub enum Skip {
    NotIp,
    Fragment,
    NotUdpTcp,
    Undecodable,
}

/// Strips the link layer by hand (Ethernet, any number of VLAN tags, PPPoE
/// session, Linux SLL/SLL2, BSD loopback, raw IP) and returns the IP packet.
fn ip_packet(linktype: u32, data: &[u8]) -> Option<&[u8]> {
    let (mut ethertype, mut rest) = match linktype {
        1 => (
            u16::from_be_bytes([*data.get(12)?, *data.get(13)?]),
            data.get(14..)?,
        ),
        113 => (
            u16::from_be_bytes([*data.get(14)?, *data.get(15)?]),
            data.get(16..)?,
        ),
        276 => (
            u16::from_be_bytes([*data.first()?, *data.get(1)?]),
            data.get(20..)?,
        ),
        0 => return data.get(4..),
        12 | 14 | 101 | 228 | 229 => return Some(data),
        _ => return None,
    };
    loop {
        match ethertype {
            0x8100 | 0x88a8 | 0x9100 => {
                ethertype = u16::from_be_bytes([*rest.get(2)?, *rest.get(3)?]);
                rest = rest.get(4..)?;
            }
            0x8864 => {
                let ppp = u16::from_be_bytes([*rest.get(6)?, *rest.get(7)?]);
                ethertype = match ppp {
                    0x0021 => 0x0800,
                    0x0057 => 0x86dd,
                    _ => return None,
                };
                rest = rest.get(8..)?;
            }
            0x0800 | 0x86dd => return Some(rest),
            _ => return None,
        }
    }
}

/// Cuts a frame down to its UDP/TCP payload. Lax about length fields (a
/// UDP length larger than the datagram, a snaplen-cut packet): the captured
/// bytes are used, as tshark does.
pub fn segment(frame: &Frame) -> Result<Segment<'_>, Skip> {
    let ip = ip_packet(frame.linktype, &frame.data).ok_or(Skip::NotIp)?;
    let sliced = LaxSlicedPacket::from_ip(ip).map_err(|_| Skip::Undecodable)?;
    let (src, dst, payload) = match &sliced.net {
        Some(LaxNetSlice::Ipv4(v4)) => (
            IpAddr::V4(v4.header().source_addr()),
            IpAddr::V4(v4.header().destination_addr()),
            v4.payload(),
        ),
        Some(LaxNetSlice::Ipv6(v6)) => (
            IpAddr::V6(v6.header().source_addr()),
            IpAddr::V6(v6.header().destination_addr()),
            v6.payload(),
        ),
        _ => return Err(Skip::NotIp),
    };
    if payload.fragmented {
        return Err(Skip::Fragment);
    }
    match sliced.transport {
        Some(TransportSlice::Udp(udp)) => Ok(Segment {
            proto: Proto::Udp,
            src,
            dst,
            src_port: udp.source_port(),
            dst_port: udp.destination_port(),
            tcp_seq: 0,
            tcp_syn: false,
            tcp_fin_or_rst: false,
            payload: udp.payload(),
        }),
        Some(TransportSlice::Tcp(tcp)) => Ok(Segment {
            proto: Proto::Tcp,
            src,
            dst,
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            tcp_seq: tcp.sequence_number(),
            tcp_syn: tcp.syn(),
            tcp_fin_or_rst: tcp.fin() || tcp.rst(),
            payload: tcp.payload(),
        }),
        // A UDP header whose length field etherparse refuses: read the
        // ports by hand and take the captured rest as the payload.
        None if payload.ip_number == IpNumber::UDP && payload.payload.len() >= 8 => {
            let p = payload.payload;
            Ok(Segment {
                proto: Proto::Udp,
                src,
                dst,
                src_port: u16::from_be_bytes([p[0], p[1]]),
                dst_port: u16::from_be_bytes([p[2], p[3]]),
                tcp_seq: 0,
                tcp_syn: false,
                tcp_fin_or_rst: false,
                payload: &p[8..],
            })
        }
        _ => Err(Skip::NotUdpTcp),
    }
}

/// Runs tshark on `path` with a display filter and fields; returns the rows
/// keyed by the first field (which must be `frame.number`).
pub fn tshark_fields(
    path: &std::path::Path,
    filter: &str,
    fields: &[&str],
) -> BTreeMap<u32, Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.arg("-n")
        .arg("-r")
        .arg(path)
        .arg("-Y")
        .arg(filter)
        .arg("-T")
        .arg("fields")
        .arg("-E")
        .arg("occurrence=a")
        .arg("-E")
        .arg("aggregator=,")
        .arg("-e")
        .arg("frame.number");
    for f in fields {
        cmd.arg("-e").arg(f);
    }
    let out = cmd.output().unwrap_or_else(|e| {
        panic!(
            "tshark is needed for this test and could not be run ({e}); \
             install it with `apt-get install -y tshark`"
        )
    });
    assert!(
        out.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    let mut rows = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut cols = line.split('\t');
        let number: u32 = cols.next().unwrap().parse().unwrap();
        let mut values: Vec<String> = cols.map(str::to_owned).collect();
        values.resize(fields.len(), String::new());
        rows.insert(number, values);
    }
    rows
}

pub fn capture(rel: &str) -> PathBuf {
    let p = pcaps_dir().join(rel);
    assert!(
        p.exists(),
        "{} is missing: the shared captures must sit beside the checkout",
        p.display()
    );
    p
}
