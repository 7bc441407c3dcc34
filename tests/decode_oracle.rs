//! Differential tests of `decode_frame` against decoders lanwatch does not
//! share code with.
//!
//! * etherparse, over every frame of every capture in `tests/captures`
//!   whose link type both decode: MACs, VLAN, IP addresses, protocol, the
//!   accounted IP length, fragment, ports, TCP flags, ICMP type/code must
//!   agree. Where the two legitimately differ, the difference has a named
//!   category whose condition is checked on the frame's bytes; a difference
//!   outside every category fails the test.
//! * tshark, over the captures with VLAN/QinQ/PPPoE, IPv6 extension headers,
//!   fragments and snaplen-cut packets: its `ip.len`, `ipv6.plen`,
//!   `vlan.id`, addresses, fragment fields and ports per frame.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{BufReader, Read};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use etherparse::{
    Ipv6ExtensionSlice, LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LinkSlice, TransportSlice,
};
use lanwatch::decode::{
    decode_frame, DecodeError, Decoded, Fragment, Layer, LinkType, Network, Transport,
};
use pcap_file::pcap::PcapReader;
use pcap_file::pcapng::{Block, PcapNgReader};

// ---------------------------------------------------------------------------
// Reading the captures

fn pcaps_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/captures")
}

struct CapturedFrame {
    /// 1-based, as tshark numbers them.
    number: usize,
    linktype: u32,
    wire_len: u32,
    data: Vec<u8>,
}

/// Every capture file under tests/captures (not the expected results).
fn all_captures() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "expected") {
                    walk(&path, out);
                }
            } else if path
                .extension()
                .is_some_and(|ext| ext == "pcap" || ext == "pcapng")
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&pcaps_dir(), &mut out);
    assert!(
        out.len() >= 40,
        "expected the real captures in {}, found {}",
        pcaps_dir().display(),
        out.len()
    );
    out
}

/// Reads pcap or pcapng, whatever the file name says (some `.pcap` files
/// are pcapng).
fn read_capture(path: &Path) -> Vec<CapturedFrame> {
    let mut magic = [0u8; 4];
    File::open(path)
        .and_then(|mut f| f.read_exact(&mut magic))
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let file = BufReader::new(File::open(path).unwrap());
    let mut frames = Vec::new();
    if magic == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut reader = PcapNgReader::new(file).unwrap();
        let mut interfaces: Vec<u32> = Vec::new();
        while let Some(block) = reader.next_block() {
            match block.unwrap_or_else(|e| panic!("{}: {e}", path.display())) {
                Block::SectionHeader(_) => interfaces.clear(),
                Block::InterfaceDescription(idb) => interfaces.push(u32::from(idb.linktype)),
                Block::EnhancedPacket(epb) => frames.push(CapturedFrame {
                    number: frames.len() + 1,
                    linktype: interfaces[epb.interface_id as usize],
                    wire_len: epb.original_len,
                    data: epb.data.into_owned(),
                }),
                Block::SimplePacket(spb) => frames.push(CapturedFrame {
                    number: frames.len() + 1,
                    linktype: interfaces[0],
                    wire_len: spb.original_len,
                    data: spb.data.into_owned(),
                }),
                _ => {}
            }
        }
    } else {
        let mut reader = PcapReader::new(file).unwrap();
        let linktype = u32::from(reader.header().datalink);
        while let Some(packet) = reader.next_packet() {
            let packet = packet.unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            frames.push(CapturedFrame {
                number: frames.len() + 1,
                linktype,
                wire_len: packet.orig_len,
                data: packet.data.into_owned(),
            });
        }
    }
    frames
}

// ---------------------------------------------------------------------------
// What both decoders are compared on

#[derive(Clone, Debug, PartialEq, Eq)]
struct Summary {
    /// (source, destination), where the link type has them.
    macs: Option<([u8; 6], [u8; 6])>,
    /// Innermost VLAN ID and the number of tags.
    vlan: Option<u16>,
    vlan_depth: usize,
    net: Net,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Net {
    None,
    Arp {
        operation: u16,
        sender: ([u8; 6], [u8; 4]),
        target: ([u8; 6], [u8; 4]),
    },
    Ip(IpSummary),
}

#[derive(Clone, Debug, PartialEq, Eq)]
struct IpSummary {
    src: IpAddr,
    dst: IpAddr,
    protocol: u8,
    ip_len: u32,
    fragment: Fragment,
    /// TCP/UDP/ICMP/ICMPv6 only; `None` for opaque.
    transport: Option<Transport>,
}

fn lanwatch_summary(decoded: &Decoded<'_>) -> Summary {
    let link = decoded.link;
    Summary {
        macs: link.src_mac.zip(link.dst_mac).map(|(s, d)| (s.0, d.0)),
        vlan: link.vlan,
        vlan_depth: usize::from(link.vlan_depth),
        net: match decoded.network {
            Network::Ip(ip) => Net::Ip(IpSummary {
                src: ip.src,
                dst: ip.dst,
                protocol: ip.protocol,
                ip_len: ip.ip_len,
                fragment: ip.fragment,
                transport: (ip.transport != Transport::Opaque).then_some(ip.transport),
            }),
            Network::Arp(arp) => Net::Arp {
                operation: arp.operation,
                sender: (arp.sender_mac.0, arp.sender_ip.octets()),
                target: (arp.target_mac.0, arp.target_ip.octets()),
            },
            Network::Other { .. } => Net::None,
        },
    }
}

fn etherparse_summary(packet: &LaxSlicedPacket<'_>) -> Summary {
    let macs = match &packet.link {
        Some(LinkSlice::Ethernet2(eth)) => Some((eth.source(), eth.destination())),
        _ => None,
    };
    let vlans: Vec<u16> = packet
        .link_exts
        .iter()
        .filter_map(|ext| match ext {
            LaxLinkExtSlice::Vlan(vlan) => Some(vlan.vlan_identifier().value()),
            LaxLinkExtSlice::Macsec(_) => None,
        })
        .collect();
    let transport = packet.transport.as_ref().and_then(|t| match t {
        TransportSlice::Tcp(tcp) => Some(Transport::Tcp {
            src_port: tcp.source_port(),
            dst_port: tcp.destination_port(),
            flags: lanwatch::decode::TcpFlags(tcp.header_slice()[13]),
        }),
        TransportSlice::Udp(udp) => Some(Transport::Udp {
            src_port: udp.source_port(),
            dst_port: udp.destination_port(),
        }),
        TransportSlice::Icmpv4(icmp) => Some(Transport::Icmp {
            icmp_type: icmp.type_u8(),
            code: icmp.code_u8(),
        }),
        TransportSlice::Icmpv6(icmp) => Some(Transport::Icmpv6 {
            icmp_type: icmp.type_u8(),
            code: icmp.code_u8(),
        }),
        // lanwatch does not decode IGMP headers.
        TransportSlice::Igmp(_) => None,
    });
    let net = match &packet.net {
        None => Net::None,
        Some(LaxNetSlice::Arp(arp)) => {
            let ethernet_ipv4 = arp.hw_addr_type() == etherparse::ArpHardwareId::ETHERNET
                && arp.proto_addr_type() == etherparse::EtherType::IPV4
                && arp.hw_addr_size() == 6
                && arp.proto_addr_size() == 4;
            if ethernet_ipv4 {
                Net::Arp {
                    operation: arp.operation().0,
                    sender: (
                        arp.sender_hw_addr().try_into().unwrap(),
                        arp.sender_protocol_addr().try_into().unwrap(),
                    ),
                    target: (
                        arp.target_hw_addr().try_into().unwrap(),
                        arp.target_protocol_addr().try_into().unwrap(),
                    ),
                }
            } else {
                Net::None
            }
        }
        Some(LaxNetSlice::Ipv4(ipv4)) => {
            let header = ipv4.header();
            let id = u32::from(header.identification());
            Net::Ip(IpSummary {
                src: IpAddr::from(header.source()),
                dst: IpAddr::from(header.destination()),
                protocol: ipv4.payload().ip_number.0,
                ip_len: u32::from(header.total_len()),
                fragment: fragment(
                    header.fragments_offset().value(),
                    header.more_fragments(),
                    id,
                ),
                transport,
            })
        }
        Some(LaxNetSlice::Ipv6(ipv6)) => {
            let header = ipv6.header();
            let mut frag = Fragment::Whole;
            for ext in ipv6.extensions().clone() {
                if let Ipv6ExtensionSlice::Fragment(f) = ext {
                    frag = fragment(
                        f.fragment_offset().value(),
                        f.more_fragments(),
                        f.identification(),
                    );
                }
            }
            Net::Ip(IpSummary {
                src: IpAddr::from(header.source()),
                dst: IpAddr::from(header.destination()),
                protocol: ipv6.payload().ip_number.0,
                ip_len: 40 + u32::from(header.payload_length()),
                fragment: frag,
                transport,
            })
        }
    };
    Summary {
        macs,
        vlan: vlans.last().copied(),
        vlan_depth: vlans.len(),
        net,
    }
}

fn fragment(offset_units: u16, more: bool, id: u32) -> Fragment {
    match (offset_units, more) {
        (0, false) => Fragment::Whole,
        (0, true) => Fragment::First { id },
        _ => Fragment::Later { id },
    }
}

// ---------------------------------------------------------------------------
// The documented differences

/// Why lanwatch and etherparse may see a frame differently. Each variant's
/// condition is checked on the frame itself in [`classify`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
enum Difference {
    /// lanwatch decodes IP inside PPPoE sessions (EtherType 0x8864, PPP
    /// 0x0021/0x0057); etherparse stops at the PPPoE EtherType.
    PppoeSession,
    /// A first fragment: lanwatch reads the transport header it carries,
    /// etherparse leaves every fragmented payload undecoded.
    FirstFragmentTransport,
    /// The snaplen cut the TCP options (or the last four bytes of an 8-byte
    /// ICMP header): the fixed part with the ports / type and code was
    /// captured, which is all lanwatch needs; etherparse wants the whole
    /// header.
    TransportHeaderPartlyCaptured,
    /// The IPv4 options were cut off by the snaplen: lanwatch still
    /// accounts the packet from the fixed header (opaque transport),
    /// etherparse rejects the IP header.
    Ipv4OptionsCutOff,
    /// IPv4 total length below the header length: the IP length cannot be
    /// accounted, so lanwatch rejects the frame; etherparse falls back to
    /// the captured length.
    Ipv4TotalLengthBelowHeader,
    /// A malformed IP header (IHL below 5, say) that etherparse rejects
    /// too: the same verdict, except that etherparse still reports the link
    /// layer where lanwatch returns an error for the whole frame.
    IpHeaderRejectedByBoth,
    /// The IP version nibble contradicts the EtherType: lanwatch rejects
    /// the frame (the length fields cannot be trusted), etherparse goes by
    /// the version nibble.
    IpVersionContradictsEtherType,
    /// UDP length field below 8 or beyond the IP payload: lanwatch calls
    /// the header untrustworthy (opaque), etherparse falls back to the
    /// captured length and reports the ports.
    UdpLengthInconsistent,
    /// TCP data offset beyond the segment the IP header declares: lanwatch
    /// calls the header opaque; etherparse only compares it with the
    /// captured bytes.
    TcpDataOffsetPastSegment,
    /// An ICMP message of a type with a fixed size (timestamp) whose size
    /// differs: etherparse rejects it, lanwatch only needs type and code.
    IcmpFixedSizeMismatch,
    /// IPv6 payload length 0 (jumbogram or TSO/GSO artefact) with data
    /// after the header: lanwatch accounts the header's 40 bytes and stops,
    /// etherparse assumes the rest of the capture is payload.
    Ipv6ZeroPayloadLength,
    /// An ICMP message shorter than 8 bytes: lanwatch reads type and code
    /// from the first 4 bytes (RFC 4443's header), etherparse wants 8.
    IcmpShorterThanEight,
}

/// Everything the classifier may look at for one frame.
struct Seen<'f> {
    frame: &'f CapturedFrame,
    ours: &'f Result<Decoded<'f>, DecodeError>,
    ours_summary: Option<&'f Summary>,
    theirs: Option<&'f LaxSlicedPacket<'f>>,
    theirs_summary: Option<&'f Summary>,
}

/// Finds the documented reason for a difference, or says why there is none.
fn classify(seen: &Seen<'_>) -> Result<Difference, String> {
    let (Some(theirs), Some(their_summary)) = (seen.theirs, seen.theirs_summary) else {
        return Err("etherparse rejected the link layer, lanwatch did not".into());
    };
    let cut_by_snaplen = (seen.frame.data.len() as u64) < u64::from(seen.frame.wire_len);

    if let Some((ethertype, payload)) = innermost_ether_payload(theirs) {
        // PPPoE: hand etherparse the IP packet after the 6-byte PPPoE
        // header and the 2-byte PPP protocol, and compare with that.
        if ethertype == 0x8864 && their_summary.net == Net::None {
            let ppp_protocol = payload.get(6..8).map(|p| u16::from_be_bytes([p[0], p[1]]));
            if matches!(ppp_protocol, Some(0x0021 | 0x0057)) {
                let inner = LaxSlicedPacket::from_ip(&payload[8..])
                    .map_err(|e| format!("etherparse rejects the IP inside PPPoE: {e:?}"))?;
                let inner = Summary {
                    net: etherparse_summary(&inner).net,
                    ..their_summary.clone()
                };
                return if seen.ours_summary == Some(&inner) {
                    Ok(Difference::PppoeSession)
                } else {
                    Err(format!(
                        "PPPoE frame; etherparse on the inner IP: {inner:?}"
                    ))
                };
            }
        }
    }

    let Some(ours) = seen.ours_summary else {
        return classify_rejected_by_us(seen, theirs, their_summary);
    };
    let (Net::Ip(our_ip), Net::Ip(their_ip)) = (&ours.net, &their_summary.net) else {
        if let (Net::Ip(our_ip), Net::None) = (&ours.net, &their_summary.net) {
            return classify_ip_only_ours(seen, theirs, ours, our_ip, cut_by_snaplen);
        }
        return Err("network layers differ".into());
    };
    let ip_payload = ip_payload(theirs).unwrap_or(&[]);
    let same_except_transport = |ours_t: Option<Transport>, theirs_t: Option<Transport>| {
        let mut o = ours.clone();
        let mut t = their_summary.clone();
        if let (Net::Ip(o), Net::Ip(t)) = (&mut o.net, &mut t.net) {
            o.transport = ours_t;
            t.transport = theirs_t;
        }
        o == t
    };

    if matches!(our_ip.fragment, Fragment::First { .. }) && their_ip.transport.is_none() {
        // etherparse's own header parsers on the first fragment's payload.
        let header = transport_header(our_ip.protocol, ip_payload);
        if same_except_transport(our_ip.transport, header) {
            return Ok(Difference::FirstFragmentTransport);
        }
    }
    let stop_layer = theirs.stop_err.as_ref().map(|(_, layer)| *layer);
    if cut_by_snaplen
        && our_ip.transport.is_some()
        && their_ip.transport.is_none()
        && matches!(
            stop_layer,
            Some(etherparse::err::Layer::TcpHeader)
                | Some(etherparse::err::Layer::Icmpv4)
                | Some(etherparse::err::Layer::Icmpv6)
        )
        && same_except_transport(None, None)
    {
        return Ok(Difference::TransportHeaderPartlyCaptured);
    }
    if our_ip.protocol == 17
        && our_ip.transport.is_none()
        && matches!(their_ip.transport, Some(Transport::Udp { .. }))
        && same_except_transport(None, None)
    {
        let udp_len = ip_payload
            .get(4..6)
            .map(|l| usize::from(u16::from_be_bytes([l[0], l[1]])));
        let declared = match &theirs.net {
            Some(LaxNetSlice::Ipv4(v4)) => usize::from(v4.header().total_len())
                .saturating_sub(usize::from(v4.header().ihl()) * 4),
            Some(LaxNetSlice::Ipv6(v6)) => usize::from(v6.header().payload_length())
                .saturating_sub(v6.extensions().slice().len()),
            _ => 0,
        };
        if udp_len.is_some_and(|len| len < 8 || len > declared) {
            return Ok(Difference::UdpLengthInconsistent);
        }
    }
    if our_ip.protocol == 6
        && our_ip.transport.is_none()
        && matches!(their_ip.transport, Some(Transport::Tcp { .. }))
        && same_except_transport(None, None)
    {
        let header_len = ip_payload.get(12).map(|b| usize::from(b >> 4) * 4);
        let declared = match &theirs.net {
            Some(LaxNetSlice::Ipv4(v4)) => usize::from(v4.header().total_len())
                .saturating_sub(usize::from(v4.header().ihl()) * 4),
            _ => usize::MAX,
        };
        if header_len.is_some_and(|len| len > declared) {
            return Ok(Difference::TcpDataOffsetPastSegment);
        }
    }
    if matches!(
        our_ip.transport,
        Some(Transport::Icmp { .. } | Transport::Icmpv6 { .. })
    ) && their_ip.transport.is_none()
        && same_except_transport(None, None)
    {
        if ip_payload.len() < 8 {
            return Ok(Difference::IcmpShorterThanEight);
        }
        // Timestamp (13) and timestamp reply (14) are 20 bytes exactly.
        if matches!(ip_payload.first(), Some(13 | 14)) && ip_payload.len() != 20 {
            return Ok(Difference::IcmpFixedSizeMismatch);
        }
    }
    if let Some(LaxNetSlice::Ipv6(v6)) = &theirs.net {
        if v6.header().payload_length() == 0
            && our_ip.ip_len == 40
            && their_ip.ip_len == 40
            && our_ip.transport.is_none()
        {
            return Ok(Difference::Ipv6ZeroPayloadLength);
        }
    }
    Err("no documented category".into())
}

/// lanwatch returned an error; etherparse decoded something.
fn classify_rejected_by_us(
    seen: &Seen<'_>,
    theirs: &LaxSlicedPacket<'_>,
    their_summary: &Summary,
) -> Result<Difference, String> {
    match (seen.ours, &theirs.net) {
        (Err(DecodeError::Malformed(_, _)), Some(LaxNetSlice::Ipv4(v4)))
            if usize::from(v4.header().total_len()) < usize::from(v4.header().ihl()) * 4 =>
        {
            Ok(Difference::Ipv4TotalLengthBelowHeader)
        }
        (Err(DecodeError::Malformed(Layer::Ipv4, _)), Some(LaxNetSlice::Ipv6(_)))
            if innermost_ether_payload(theirs).map(|(t, _)| t) == Some(0x0800) =>
        {
            Ok(Difference::IpVersionContradictsEtherType)
        }
        (Err(DecodeError::Malformed(Layer::Ipv6, _)), Some(LaxNetSlice::Ipv4(_)))
            if innermost_ether_payload(theirs).map(|(t, _)| t) == Some(0x86dd) =>
        {
            Ok(Difference::IpVersionContradictsEtherType)
        }
        (Err(DecodeError::Malformed(_, _)), None) if their_summary.net == Net::None => {
            Ok(Difference::IpHeaderRejectedByBoth)
        }
        (Err(e), _) => Err(format!(
            "lanwatch rejected the frame ({e}), etherparse did not"
        )),
        (Ok(_), _) => Err("unreachable: summary missing for a decoded frame".into()),
    }
}

/// lanwatch decoded an IP packet where etherparse stopped before the
/// network layer.
fn classify_ip_only_ours(
    seen: &Seen<'_>,
    theirs: &LaxSlicedPacket<'_>,
    ours: &Summary,
    our_ip: &IpSummary,
    cut_by_snaplen: bool,
) -> Result<Difference, String> {
    let Some((ethertype, payload)) = innermost_ether_payload(theirs) else {
        return Err("etherparse has no link payload".into());
    };
    let ihl = payload
        .first()
        .map(|b| usize::from(b & 0x0f) * 4)
        .unwrap_or(0);
    if ethertype == 0x0800 && cut_by_snaplen && payload.len() < ihl && our_ip.transport.is_none() {
        // Pad the cut options with zeros so etherparse reads the fixed
        // header, and compare that.
        let mut padded = payload.to_vec();
        padded.resize(ihl, 0);
        let header = etherparse::Ipv4HeaderSlice::from_slice(&padded)
            .map_err(|e| format!("etherparse rejects the padded IPv4 header: {e:?}"))?;
        let fixed = IpSummary {
            src: IpAddr::from(header.source()),
            dst: IpAddr::from(header.destination()),
            protocol: header.protocol().0,
            ip_len: u32::from(header.total_len()),
            fragment: fragment(
                header.fragments_offset().value(),
                header.more_fragments(),
                u32::from(header.identification()),
            ),
            transport: None,
        };
        let _ = seen;
        return if *our_ip == fixed
            && seen.theirs_summary.map(|t| (t.macs, t.vlan)) == Some((ours.macs, ours.vlan))
        {
            Ok(Difference::Ipv4OptionsCutOff)
        } else {
            Err(format!(
                "IPv4 options cut off; etherparse on the padded header: {fixed:?}"
            ))
        };
    }
    Err("lanwatch found IP, etherparse did not".into())
}

/// The EtherType and payload after the Ethernet header and its VLAN tags.
fn innermost_ether_payload<'a>(packet: &LaxSlicedPacket<'a>) -> Option<(u16, &'a [u8])> {
    if let Some(ext) = packet.link_exts.last() {
        let payload = ext.payload()?;
        return Some((payload.ether_type.0, payload.payload));
    }
    match &packet.link {
        Some(LinkSlice::Ethernet2(eth)) => {
            let payload = eth.payload();
            Some((payload.ether_type.0, payload.payload))
        }
        _ => None,
    }
}

/// The payload after the IP header(s), as etherparse cut it.
fn ip_payload<'a>(packet: &LaxSlicedPacket<'a>) -> Option<&'a [u8]> {
    match &packet.net {
        Some(LaxNetSlice::Ipv4(v4)) => Some(v4.payload().payload),
        Some(LaxNetSlice::Ipv6(v6)) => Some(v6.payload().payload),
        _ => None,
    }
}

/// etherparse's header parsers applied directly to a transport header.
fn transport_header(protocol: u8, payload: &[u8]) -> Option<Transport> {
    match protocol {
        6 => etherparse::TcpHeaderSlice::from_slice(payload)
            .ok()
            .map(|tcp| Transport::Tcp {
                src_port: tcp.source_port(),
                dst_port: tcp.destination_port(),
                flags: lanwatch::decode::TcpFlags(tcp.slice()[13]),
            }),
        17 => etherparse::UdpHeaderSlice::from_slice(payload)
            .ok()
            .map(|udp| Transport::Udp {
                src_port: udp.source_port(),
                dst_port: udp.destination_port(),
            }),
        1 => etherparse::Icmpv4Slice::from_slice(payload)
            .ok()
            .map(|icmp| Transport::Icmp {
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
            }),
        58 => etherparse::Icmpv6Slice::from_slice(payload)
            .ok()
            .map(|icmp| Transport::Icmpv6 {
                icmp_type: icmp.type_u8(),
                code: icmp.code_u8(),
            }),
        _ => None,
    }
}

// ---------------------------------------------------------------------------
// The etherparse test

#[test]
fn every_frame_agrees_with_etherparse_or_differs_for_a_documented_reason() {
    let mut agree = 0usize;
    let mut agree_on_transport = 0usize;
    let mut differences: BTreeMap<Difference, BTreeMap<String, usize>> = BTreeMap::new();
    let mut skipped: BTreeMap<u32, usize> = BTreeMap::new();
    let mut unexplained: Vec<String> = Vec::new();
    let mut total = 0usize;

    for path in all_captures() {
        let name = path
            .strip_prefix(pcaps_dir())
            .unwrap()
            .display()
            .to_string();
        for frame in read_capture(&path) {
            let Some(link) = LinkType::from_pcap(frame.linktype) else {
                *skipped.entry(frame.linktype).or_default() += 1;
                continue;
            };
            let etherparse_input = match link {
                LinkType::Ethernet => LaxSlicedPacket::from_ethernet(&frame.data).ok(),
                LinkType::RawIp => LaxSlicedPacket::from_ip(&frame.data).ok(),
                LinkType::Null => frame
                    .data
                    .get(4..)
                    .and_then(|ip| LaxSlicedPacket::from_ip(ip).ok()),
                // etherparse's SLL support differs in scope; none of the
                // real captures is SLL.
                LinkType::LinuxSll | LinkType::LinuxSll2 => {
                    *skipped.entry(frame.linktype).or_default() += 1;
                    continue;
                }
            };
            total += 1;
            // The parse as the other decoders see it: the wire length is
            // not held against the headers (that rule has its own tests).
            let decoded = decode_frame(link, &frame.data, u32::MAX);
            let ours_summary = decoded.as_ref().ok().map(lanwatch_summary);
            let theirs_summary = etherparse_input.as_ref().map(etherparse_summary);
            if ours_summary == theirs_summary {
                agree += 1;
                if let Some(Summary {
                    net:
                        Net::Ip(IpSummary {
                            transport: Some(_), ..
                        }),
                    ..
                }) = ours_summary
                {
                    agree_on_transport += 1;
                }
                continue;
            }
            let seen = Seen {
                frame: &frame,
                ours: &decoded,
                ours_summary: ours_summary.as_ref(),
                theirs: etherparse_input.as_ref(),
                theirs_summary: theirs_summary.as_ref(),
            };
            match classify(&seen) {
                Ok(category) => {
                    *differences
                        .entry(category)
                        .or_default()
                        .entry(name.clone())
                        .or_default() += 1
                }
                Err(why) => unexplained.push(format!(
                    "{name} frame {}: {why}\n  ours:   {:?}\n  theirs: {:?}",
                    frame.number, decoded, theirs_summary
                )),
            }
        }
    }

    eprintln!(
        "{total} frames compared, {agree} agree ({agree_on_transport} of them down to the \
         transport header); skipped by link type: {skipped:?}"
    );
    for (category, files) in &differences {
        eprintln!(
            "  {category:?}: {} frames in {files:?}",
            files.values().sum::<usize>()
        );
    }
    assert!(
        unexplained.is_empty(),
        "{} frames differ for no documented reason:\n{}",
        unexplained.len(),
        unexplained.join("\n")
    );
    assert!(total > 7000, "only {total} frames compared");
    assert!(
        agree * 100 >= total * 90,
        "only {agree} of {total} frames agree"
    );
    assert!(
        agree_on_transport * 100 >= total * 70,
        "only {agree_on_transport} of {total} frames agree down to the transport header"
    );
}

// ---------------------------------------------------------------------------
// The tshark test

/// Captures with the encapsulations and headers that are easy to get wrong.
const TSHARK_CAPTURES: &[&str] = &[
    "arkime/twovlan.pcap",              // QinQ 0x8100/0x8100
    "arkime/dot1ad.pcap",               // 802.1ad S-tag + C-tag
    "zeek/http-vlan-0.pcap",            // priority tag, VID 0
    "ndpi/dns.pcap",                    // QinQ + PPPoE, pcapng
    "arkime/pppoe.pcap",                // PPPoE session
    "zeek/ipv6-hbh-routing0.pcap",      // hop-by-hop + routing type 0
    "tcpdump/ipv6-routing-header.pcap", // routing header
    "zeek/ipv6-fragmented-dns.pcap",    // IPv6 fragment headers
    "ndpi/dns_fragmented.pcap",         // IPv4 and IPv6 fragments
    "ndpi/ip_fragmented_garbage.pcap",  // tiny IPv4 fragments
    "ndpi/badpackets.pcap",             // snaplen-cut fragments
    "zeek/ip6-ext-trunc.pcap",          // cut inside hop-by-hop
    "zeek/mdns.pcap",                   // MLDv2 behind hop-by-hop
    "arkime/v6.pcap",                   // IPv6 mix, ICMPv6 ND
];

const TSHARK_FIELDS: &[&str] = &[
    "frame.number",
    "eth.src",
    "eth.dst",
    "ieee8021ad.id",
    "vlan.id",
    "ip.len",
    "ip.hdr_len",
    "ipv6.plen",
    "ip.src",
    "ip.dst",
    "ipv6.src",
    "ipv6.dst",
    "ip.id",
    "ip.flags.mf",
    "ip.frag_offset",
    "ipv6.fraghdr.offset",
    "ipv6.fraghdr.more",
    "ipv6.fraghdr.ident",
    "tcp.srcport",
    "tcp.dstport",
    "tcp.flags",
    "tcp.hdr_len",
    "udp.srcport",
    "udp.dstport",
    "icmp.type",
    "icmp.code",
    "icmpv6.type",
    "icmpv6.code",
];

/// One line of `tshark -T fields`: every occurrence of every field.
struct TsharkFrame(BTreeMap<&'static str, Vec<String>>);

impl TsharkFrame {
    fn all(&self, field: &str) -> &[String] {
        self.0.get(field).map(Vec::as_slice).unwrap_or(&[])
    }
    /// The outermost occurrence (an ICMP error quotes inner headers).
    fn first(&self, field: &str) -> Option<&str> {
        self.all(field).first().map(String::as_str)
    }
    fn number(&self, field: &str) -> Option<u64> {
        self.first(field)
            .map(|v| parse_number(v).unwrap_or_else(|| panic!("{field}={v}")))
    }
}

fn parse_number(v: &str) -> Option<u64> {
    match v.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).ok(),
        None => v.parse().ok(),
    }
}

fn tshark(path: &Path) -> Vec<TsharkFrame> {
    let mut command = Command::new("tshark");
    command
        .arg("-n")
        .arg("-r")
        .arg(path)
        // Each frame on its own: no reassembly.
        .args(["-o", "ip.defragment:FALSE", "-o", "ipv6.defragment:FALSE"])
        .args([
            "-T",
            "fields",
            "-E",
            "separator=/t",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ]);
    for field in TSHARK_FIELDS {
        command.args(["-e", field]);
    }
    let output = match command.output() {
        Ok(output) => output,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => panic!(
            "tshark is not installed, and this test compares against it: \
             install it (apt-get install -y tshark) and run the test again"
        ),
        Err(e) => panic!("running tshark: {e}"),
    };
    assert!(
        output.status.success(),
        "tshark failed on {}: {}",
        path.display(),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let values = line.split('\t');
            TsharkFrame(
                TSHARK_FIELDS
                    .iter()
                    .copied()
                    .zip(values)
                    .map(|(field, value)| {
                        let occurrences = value
                            .split(',')
                            .filter(|v| !v.is_empty())
                            .map(str::to_owned)
                            .collect();
                        (field, occurrences)
                    })
                    .collect(),
            )
        })
        .collect()
}

/// Compares one frame; returns what differs.
fn compare_with_tshark(decoded: &Decoded<'_>, t: &TsharkFrame) -> Vec<String> {
    let mut wrong = Vec::new();
    let mut check = |what: &str, ours: String, theirs: String| {
        if ours != theirs {
            wrong.push(format!("{what}: lanwatch {ours}, tshark {theirs}"));
        }
    };
    let link = decoded.link;
    check(
        "source MAC",
        format!("{:?}", link.src_mac.map(|m| m.to_string())),
        format!("{:?}", t.first("eth.src").map(str::to_owned)),
    );
    check(
        "destination MAC",
        format!("{:?}", link.dst_mac.map(|m| m.to_string())),
        format!("{:?}", t.first("eth.dst").map(str::to_owned)),
    );
    // 802.1ad service tags are their own protocol to tshark; they are outer.
    let vlans: Vec<u16> = t
        .all("ieee8021ad.id")
        .iter()
        .chain(t.all("vlan.id"))
        .map(|v| v.parse().unwrap())
        .collect();
    check(
        "VLAN (innermost, depth)",
        format!("{:?}", (link.vlan, usize::from(link.vlan_depth))),
        format!("{:?}", (vlans.last().copied(), vlans.len())),
    );
    let Network::Ip(ip) = decoded.network else {
        check(
            "IP layer",
            "none".into(),
            format!("{:?} {:?}", t.first("ip.src"), t.first("ipv6.src")),
        );
        return wrong;
    };
    let (len, src, dst, fragment) = if ip.src.is_ipv4() {
        let fragment = fragment(
            t.number("ip.frag_offset").unwrap_or(0) as u16,
            t.first("ip.flags.mf") == Some("1"),
            t.number("ip.id").unwrap_or(0) as u32,
        );
        (
            t.number("ip.len"),
            t.first("ip.src"),
            t.first("ip.dst"),
            fragment,
        )
    } else {
        let fragment = fragment(
            t.number("ipv6.fraghdr.offset").unwrap_or(0) as u16,
            t.first("ipv6.fraghdr.more") == Some("1"),
            t.number("ipv6.fraghdr.ident").unwrap_or(0) as u32,
        );
        (
            t.number("ipv6.plen").map(|plen| plen + 40),
            t.first("ipv6.src"),
            t.first("ipv6.dst"),
            fragment,
        )
    };
    check(
        "IP length",
        format!("{:?}", Some(u64::from(ip.ip_len))),
        format!("{len:?}"),
    );
    check(
        "IP source",
        format!("{:?}", Some(ip.src.to_string())),
        format!("{:?}", src.map(str::to_owned)),
    );
    check(
        "IP destination",
        format!("{:?}", Some(ip.dst.to_string())),
        format!("{:?}", dst.map(str::to_owned)),
    );
    check(
        "fragment",
        format!("{:?}", ip.fragment),
        format!("{fragment:?}"),
    );
    let ports = |proto: &str| {
        (
            t.number(&format!("{proto}.srcport")),
            t.number(&format!("{proto}.dstport")),
        )
    };
    match ip.transport {
        Transport::Tcp {
            src_port,
            dst_port,
            flags,
        } => {
            check(
                "TCP ports and flags",
                format!(
                    "{:?}",
                    (
                        Some(u64::from(src_port)),
                        Some(u64::from(dst_port)),
                        Some(u64::from(flags.0))
                    )
                ),
                format!(
                    "{:?}",
                    (
                        ports("tcp").0,
                        ports("tcp").1,
                        t.number("tcp.flags").map(|f| f & 0xff)
                    )
                ),
            );
        }
        Transport::Udp { src_port, dst_port } => check(
            "UDP ports",
            format!(
                "{:?}",
                (Some(u64::from(src_port)), Some(u64::from(dst_port)))
            ),
            format!("{:?}", ports("udp")),
        ),
        Transport::Icmp { icmp_type, code } => check(
            "ICMP type and code",
            format!("{:?}", (Some(u64::from(icmp_type)), Some(u64::from(code)))),
            format!("{:?}", (t.number("icmp.type"), t.number("icmp.code"))),
        ),
        Transport::Icmpv6 { icmp_type, code } => check(
            "ICMPv6 type and code",
            format!("{:?}", (Some(u64::from(icmp_type)), Some(u64::from(code)))),
            format!("{:?}", (t.number("icmpv6.type"), t.number("icmpv6.code"))),
        ),
        Transport::Opaque => {
            // tshark shows ports when it saw a transport header, unless the
            // frame is a later fragment (no header there). It also shows
            // what it can of a header lanwatch calls broken: a data offset
            // below 20 bytes (tshark flags it "bogus"), or a first fragment
            // too short to hold the fixed TCP header (RFC 1858 tiny fragments).
            let bogus_tcp = t.number("tcp.hdr_len").is_some_and(|len| len < 20);
            let tiny_first_fragment = matches!(ip.fragment, Fragment::First { .. })
                && t.number("tcp.srcport").is_some()
                && t.number("ip.len")
                    .zip(t.number("ip.hdr_len"))
                    .is_some_and(|(len, hdr)| len - hdr < 20);
            if !matches!(ip.fragment, Fragment::Later { .. }) && !bogus_tcp && !tiny_first_fragment
            {
                check(
                    "opaque transport",
                    "no ports".into(),
                    format!("{:?}", (ports("tcp"), ports("udp")))
                        .replace("((None, None), (None, None))", "no ports"),
                );
            }
        }
    }
    wrong
}

#[test]
fn tshark_agrees_on_lengths_vlans_fragments_and_ports() {
    let mut compared = 0;
    let mut wrong = Vec::new();
    for name in TSHARK_CAPTURES {
        let path = pcaps_dir().join(name);
        let frames = read_capture(&path);
        let expected = tshark(&path);
        assert_eq!(frames.len(), expected.len(), "{name}: frame count");
        for (frame, t) in frames.iter().zip(&expected) {
            assert_eq!(t.number("frame.number"), Some(frame.number as u64));
            let link = LinkType::from_pcap(frame.linktype).unwrap();
            match decode_frame(link, &frame.data, u32::MAX) {
                Ok(decoded) => {
                    for what in compare_with_tshark(&decoded, t) {
                        wrong.push(format!("{name} frame {}: {what}", frame.number));
                    }
                }
                Err(e) => wrong.push(format!("{name} frame {}: lanwatch error {e}", frame.number)),
            }
            compared += 1;
        }
    }
    assert!(
        wrong.is_empty(),
        "{} differences from tshark:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert!(compared > 1500, "only {compared} frames compared");
}
