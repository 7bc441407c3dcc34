//! Frame decoding: zero-copy views from the link layer up to L4.
//!
//! `decode_frame` is the single entry point of the hot path. It never
//! allocates, never panics and never reads past the captured bytes; a frame
//! cut short by the snaplen still reports the IP header's length fields so it
//! can be accounted in full.
//!
//! The parsers follow the shape of smoltcp's `wire` layer: one file per
//! protocol, each with a private `field` module naming the header's byte
//! ranges, a view built by a checked constructor, and small accessors. The
//! views only read, so they borrow `&'a [u8]` directly and hand out payloads
//! with the frame's lifetime. The meaning of a frame is the plain
//! [`Decoded`] value built here.
//!
//! # What is an error and what is opaque
//!
//! Bytes are accounted from the IP header's length fields, so whatever makes
//! those untrustworthy is an error: a missing link header or fixed IP header
//! (`Truncated`), a wrong IP version, an IPv4 header length below 20 bytes or
//! a total length shorter than the header (`Malformed`). Everything after the
//! fixed IP header is best effort: IPv4 options or IPv6 extension headers cut
//! off by the snaplen, an inconsistent extension header chain, a transport
//! header that is missing, cut short or self-contradicting (a TCP data offset
//! below 5, a UDP length below 8) all give `Ok` with [`Transport::Opaque`]:
//! the packet still counts, under its protocol number, just without ports.
//! A TCP header whose options alone were cut off by the snaplen still gives
//! its ports and flags (they sit in the fixed 20 bytes), with an empty
//! payload.

pub mod arp;
pub mod dhcp;
pub mod dns;
pub mod ethernet;
pub mod icmp;
pub mod ipv4;
pub mod ipv6;
pub mod ndp;
pub mod raw;
pub mod sll;
pub mod tcp;
pub mod tls;
pub mod udp;

#[cfg(test)]
pub(crate) mod fixtures;

use std::fmt;
use std::net::IpAddr;

/// How a captured frame is framed at the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (with optional 802.1Q / 802.1ad tags).
    Ethernet,
    /// Linux "cooked" capture, version 1 (LINKTYPE_LINUX_SLL, 113).
    LinuxSll,
    /// Linux "cooked" capture, version 2 (LINKTYPE_LINUX_SLL2, 276).
    LinuxSll2,
    /// Raw IPv4 or IPv6, no link header (LINKTYPE_RAW 101, DLT_RAW 12/14, 228, 229).
    RawIp,
    /// BSD loopback: a 4-byte address family in host byte order (LINKTYPE_NULL, 0).
    Null,
}

impl LinkType {
    /// Maps a pcap/pcapng link-type number to the framings lanwatch decodes.
    pub fn from_pcap(linktype: u32) -> Option<LinkType> {
        match linktype {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            0 => Some(LinkType::Null),
            _ => None,
        }
    }
}

/// An Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// Group (multicast or broadcast) addresses have the I/G bit set.
    pub fn is_group(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Locally administered addresses (U/L bit) are what phones use as
    /// "private" / randomized Wi-Fi addresses.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` (or with `-` separators).
    fn from_str(s: &str) -> Result<Mac, String> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in out.iter_mut() {
            let part = parts
                .next()
                .ok_or_else(|| format!("MAC address {s:?} has fewer than 6 octets"))?;
            if part.len() != 2 {
                return Err(format!(
                    "MAC address {s:?}: octet {part:?} is not two hex digits"
                ));
            }
            *byte = u8::from_str_radix(part, 16)
                .map_err(|_| format!("MAC address {s:?}: octet {part:?} is not hex"))?;
        }
        if parts.next().is_some() {
            return Err(format!("MAC address {s:?} has more than 6 octets"));
        }
        Ok(Mac(out))
    }
}

/// What the link layer said about a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// Sender's MAC, where the framing carries one (not raw IP or NULL).
    pub src_mac: Option<Mac>,
    /// Receiver's MAC, where the framing carries one (Ethernet only).
    pub dst_mac: Option<Mac>,
    /// Innermost 802.1Q VLAN ID, if the frame was tagged.
    pub vlan: Option<u16>,
    /// Number of VLAN tags that were stripped (0, 1 for 802.1Q, 2 for QinQ ...).
    pub vlan_depth: u8,
    /// The frame was sent by the capturing host (Linux cooked "outgoing").
    pub outgoing: bool,
}

/// A fragment's place in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    Whole,
    /// First fragment (offset 0, more fragments): carries the L4 header.
    First { id: u32 },
    /// A later fragment: no L4 header, must be matched to the first by id.
    Later { id: u32 },
}

/// TCP flags, as the raw flag byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// The transport header, as far as lanwatch needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp {
        src_port: u16,
        dst_port: u16,
        flags: TcpFlags,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
    },
    /// ICMP (v4) type and code.
    Icmp {
        icmp_type: u8,
        code: u8,
    },
    /// ICMPv6 type and code.
    Icmpv6 {
        icmp_type: u8,
        code: u8,
    },
    /// No usable transport header: a later fragment, an unknown protocol,
    /// or a header cut off by the snaplen.
    Opaque,
}

/// An IP packet's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP-layer length from the header (IPv4 total length, IPv6 40 +
    /// payload length): what is accounted, whatever was captured.
    pub ip_len: u32,
    /// The upper-layer protocol number (after IPv6 extension headers).
    pub protocol: u8,
    pub fragment: Fragment,
    pub transport: Transport,
    /// The L4 payload that was captured (may be shorter than on the wire).
    pub payload: &'a [u8],
    /// The captured bytes end inside the IPv4 options or the IPv6 extension
    /// headers (or those are inconsistent). Cut by a snaplen, the packet
    /// still counts; in a frame that was not cut, the header is malformed.
    pub headers_cut: bool,
}

/// An ARP packet (Ethernet/IPv4), used to learn IP ↔ MAC bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpPacket {
    pub operation: u16,
    pub sender_mac: Mac,
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: std::net::Ipv4Addr,
}

/// What the network layer of a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network<'a> {
    Ip(IpPacket<'a>),
    Arp(ArpPacket),
    /// Any other EtherType (LLDP, EAPOL, ...): not IP, not accounted.
    Other {
        ethertype: u16,
    },
}

/// A decoded frame: link information plus the network layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub link: LinkInfo,
    pub network: Network<'a>,
}

/// Which layer a decoding error was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Link,
    Vlan,
    Pppoe,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The captured bytes end before a header that must be there.
    #[error("{0:?} header truncated")]
    Truncated(Layer),
    /// A header field holds an impossible value.
    #[error("{0:?} header malformed: {1}")]
    Malformed(Layer, &'static str),
}

/// Decodes one captured frame. Never allocates, never panics.
///
/// `data` is what was captured, `wire_len` how long the frame was on the
/// wire (the capture's original length), which may be more. The IP
/// header's length is what gets accounted, so it must fit in the frame:
/// a frame cut by the snaplen still counts its IP length in full, but an
/// IPv4 total length, IPv6 payload length or jumbo payload length that
/// claims more than the wire carried after the link-layer headers is
/// `Malformed` (a forged length would otherwise count 64 KiB per 60-byte
/// frame). A frame that ends inside its IPv4 options or IPv6 extension
/// headers is `Malformed` too unless the snaplen cut it. A `wire_len`
/// below the captured length (a damaged record) counts as the captured
/// length. See the module documentation for the other error cases.
#[inline]
pub fn decode_frame(
    link: LinkType,
    data: &[u8],
    wire_len: u32,
) -> Result<Decoded<'_>, DecodeError> {
    let wire = usize::try_from(wire_len)
        .unwrap_or(usize::MAX)
        .max(data.len());
    let decoded = match link {
        LinkType::Ethernet => ethernet::decode(data, wire),
        LinkType::LinuxSll => sll::decode_v1(data, wire),
        LinkType::LinuxSll2 => sll::decode_v2(data, wire),
        LinkType::RawIp => raw::decode_raw_ip(data, wire),
        LinkType::Null => raw::decode_null(data, wire),
    }?;
    match decoded.network {
        Network::Ip(ip) if ip.headers_cut && data.len() >= wire => Err(DecodeError::Malformed(
            if ip.src.is_ipv4() {
                Layer::Ipv4
            } else {
                Layer::Ipv6
            },
            "the frame ends inside the IP options or extension headers",
        )),
        _ => Ok(decoded),
    }
}

/// How many bytes the wire carried from the start of `rest` on, given that
/// `wire` were carried from the start of `data` (`rest` is a tail of
/// `data`: what is left after the link-layer headers).
#[inline]
fn wire_after(data: &[u8], rest: &[u8], wire: usize) -> usize {
    wire.saturating_sub(data.len().saturating_sub(rest.len()))
}

/// Decodes what an EtherType says follows the link layer; `on_wire` is how
/// many bytes of it were on the wire (see [`decode_frame`]).
#[inline]
fn decode_network(
    ethertype: u16,
    payload: &[u8],
    on_wire: usize,
) -> Result<Network<'_>, DecodeError> {
    match ethertype {
        ethernet::ethertype::IPV4 => ipv4::decode(payload, on_wire).map(Network::Ip),
        ethernet::ethertype::IPV6 => ipv6::decode(payload, on_wire).map(Network::Ip),
        ethernet::ethertype::ARP => {
            Ok(arp::decode(payload)?.map_or(Network::Other { ethertype }, Network::Arp))
        }
        _ => Ok(Network::Other { ethertype }),
    }
}

/// IANA protocol numbers lanwatch looks at.
pub mod ip_protocol {
    pub const HOP_BY_HOP: u8 = 0;
    pub const ICMP: u8 = 1;
    pub const TCP: u8 = 6;
    pub const UDP: u8 = 17;
    pub const IPV6_ROUTING: u8 = 43;
    pub const IPV6_FRAGMENT: u8 = 44;
    pub const ESP: u8 = 50;
    pub const AUTH: u8 = 51;
    pub const ICMPV6: u8 = 58;
    pub const IPV6_NO_NEXT: u8 = 59;
    pub const IPV6_DEST_OPTIONS: u8 = 60;
}

/// Where the transport header sits, as the IP layer sees it.
#[derive(Clone, Copy, Debug)]
struct Segment<'a> {
    /// The captured bytes after the IP header(s), never past the IP length.
    captured: &'a [u8],
    /// How many bytes the IP header says follow; at least `captured.len()`.
    declared: usize,
    /// False for a first fragment: the transport's own length field then
    /// covers more than this packet holds.
    whole: bool,
}

/// Decodes the transport header of a whole packet or first fragment.
///
/// A transport header that is missing, cut short or self-contradicting
/// gives `Opaque` with the segment as payload: the packet still counts.
#[inline]
fn decode_transport(protocol: u8, is_ipv6: bool, segment: Segment<'_>) -> (Transport, &[u8]) {
    let decoded = match (protocol, is_ipv6) {
        (ip_protocol::TCP, _) => tcp::Packet::new_checked(segment.captured, segment.declared)
            .map(|tcp| (tcp.transport(), tcp.payload())),
        (ip_protocol::UDP, _) => {
            udp::Packet::new_checked(segment.captured, segment.declared, segment.whole)
                .map(|udp| (udp.transport(), udp.payload()))
        }
        (ip_protocol::ICMP, false) => icmp::Packet::new_checked(segment.captured, segment.declared)
            .map(|icmp| (icmp.transport_v4(), icmp.payload())),
        (ip_protocol::ICMPV6, true) => {
            icmp::Packet::new_checked(segment.captured, segment.declared)
                .map(|icmp| (icmp.transport_v6(), icmp.payload()))
        }
        _ => return (Transport::Opaque, segment.captured),
    };
    decoded.unwrap_or_else(|_| match partial_transport(protocol, segment) {
        Transport::Opaque => (Transport::Opaque, segment.captured),
        ports => (ports, &[]),
    })
}

/// A TCP or UDP header cut by the snaplen still names its ports (and TCP
/// its flags, when byte 13 made it) if the IP header says the whole header
/// was sent: enough to count the packet to its flow.
#[inline]
fn partial_transport(protocol: u8, segment: Segment<'_>) -> Transport {
    let captured = segment.captured;
    let ports = || (read_u16(captured, 0..2), read_u16(captured, 2..4));
    match protocol {
        ip_protocol::TCP
            if captured.len() >= 4
                && captured.len() < tcp::MIN_HEADER_LEN
                && segment.declared >= tcp::MIN_HEADER_LEN =>
        {
            let (src_port, dst_port) = ports();
            Transport::Tcp {
                src_port,
                dst_port,
                flags: TcpFlags(captured.get(13).copied().unwrap_or(0)),
            }
        }
        ip_protocol::UDP if captured.len() >= 4 && captured.len() < 8 && segment.declared >= 8 => {
            let (src_port, dst_port) = ports();
            Transport::Udp { src_port, dst_port }
        }
        _ => Transport::Opaque,
    }
}

/// A header field's place: a byte range from the start of its header, as
/// each protocol's `field` module names them.
pub(crate) type Field = core::ops::Range<usize>;

// Reading bytes, one convention for every protocol:
//
// - `read_*` read a field a view's checked constructor has made sure is
//   there (a fixed header). A field that is not there is a missed check: it
//   fails a debug assertion (the tests and the fuzzer see it) and reads as
//   0 in a release build, which costs nothing over the bounds check.
// - `get_*` read at an offset the data itself gave (a name pointer, an
//   option, an extension): `None` when it runs past the end, for the caller
//   to turn into its protocol's error.

/// Reads one byte of a checked field.
#[inline(always)]
pub(crate) fn read_u8(bytes: &[u8], at: usize) -> u8 {
    let byte = bytes.get(at).copied();
    debug_assert!(
        byte.is_some(),
        "byte {at} read past the {} bytes a view checked",
        bytes.len()
    );
    byte.unwrap_or(0)
}

/// Reads a checked big-endian `u16` field.
#[inline(always)]
pub(crate) fn read_u16(bytes: &[u8], field: Field) -> u16 {
    u16::from_be_bytes(read_array(bytes, field))
}

/// Reads a checked big-endian `u32` field.
#[inline(always)]
pub(crate) fn read_u32(bytes: &[u8], field: Field) -> u32 {
    u32::from_be_bytes(read_array(bytes, field))
}

/// Copies a checked fixed-size field (an address).
#[inline(always)]
pub(crate) fn read_array<const N: usize>(bytes: &[u8], field: Field) -> [u8; N] {
    let value = get_array(bytes, field.clone());
    debug_assert!(
        value.is_some(),
        "field {field:?} read past the {} bytes a view checked",
        bytes.len()
    );
    value.unwrap_or([0; N])
}

/// The `N` bytes of `field`, if they are all there.
#[inline(always)]
pub(crate) fn get_array<const N: usize>(bytes: &[u8], field: Field) -> Option<[u8; N]> {
    bytes.get(field)?.try_into().ok()
}

/// The big-endian `u16` at `at`, if both bytes are there.
#[inline(always)]
pub(crate) fn get_u16(bytes: &[u8], at: usize) -> Option<u16> {
    get_array(bytes, at..at.checked_add(2)?).map(u16::from_be_bytes)
}

/// The big-endian `u32` at `at`, if all four bytes are there.
#[inline(always)]
pub(crate) fn get_u32(bytes: &[u8], at: usize) -> Option<u32> {
    get_array(bytes, at..at.checked_add(4)?).map(u32::from_be_bytes)
}

/// The bytes from `start` on; empty if `start` is past the end.
#[inline(always)]
fn tail(bytes: &[u8], start: usize) -> &[u8] {
    bytes.get(start..).unwrap_or(&[])
}

/// The first `len` bytes, or all of them if there are fewer.
#[inline(always)]
fn head(bytes: &[u8], len: usize) -> &[u8] {
    bytes.get(..len).unwrap_or(bytes)
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod partial_header_tests {
    use super::*;

    /// The frames below were 14 + 60 bytes on the wire, cut by a snaplen.
    const SNAPLEN_CUT_WIRE_LEN: u32 = 74;

    /// Ethernet + IPv4 (total length 60, TCP) + the first `tcp` bytes of a
    /// TCP SYN from port 51000 to 443.
    fn cut_tcp_frame(tcp: usize) -> Vec<u8> {
        let mut f = vec![0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x08, 0x00];
        f.extend_from_slice(&[
            0x45, 0, 0, 60, 0, 1, 0x40, 0, 64, 6, 0, 0, 192, 168, 1, 2, 198, 51, 100, 7,
        ]);
        let header = [
            0xc7, 0x38, 0x01, 0xbb, 0, 0, 0, 1, 0, 0, 0, 0, 0xa0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        f.extend_from_slice(&header[..tcp]);
        f
    }

    #[test]
    fn a_tcp_header_cut_after_the_flags_keeps_ports_and_flags() {
        let frame = cut_tcp_frame(18);
        let Network::Ip(ip) = decode_frame(LinkType::Ethernet, &frame, SNAPLEN_CUT_WIRE_LEN)
            .unwrap()
            .network
        else {
            panic!("IPv4 expected")
        };
        assert_eq!(
            ip.transport,
            Transport::Tcp {
                src_port: 51000,
                dst_port: 443,
                flags: TcpFlags(TcpFlags::SYN)
            }
        );
        assert_eq!(ip.ip_len, 60);
    }

    #[test]
    fn a_tcp_header_cut_before_the_flags_keeps_the_ports() {
        let frame = cut_tcp_frame(6);
        let Network::Ip(ip) = decode_frame(LinkType::Ethernet, &frame, SNAPLEN_CUT_WIRE_LEN)
            .unwrap()
            .network
        else {
            panic!("IPv4 expected")
        };
        assert_eq!(
            ip.transport,
            Transport::Tcp {
                src_port: 51000,
                dst_port: 443,
                flags: TcpFlags(0)
            }
        );
    }

    #[test]
    fn fewer_than_four_tcp_bytes_are_opaque() {
        let frame = cut_tcp_frame(3);
        let Network::Ip(ip) = decode_frame(LinkType::Ethernet, &frame, SNAPLEN_CUT_WIRE_LEN)
            .unwrap()
            .network
        else {
            panic!("IPv4 expected")
        };
        assert_eq!(ip.transport, Transport::Opaque);
    }
}

/// The rule that an IP header's length must fit in the frame on the wire
/// (DESIGN.md: bytes are the IP-layer length, and a snaplen may cut a
/// frame, but a header cannot claim more than was sent).
#[cfg(test)]
mod wire_length_tests {
    use super::*;

    const CLIENT: [u8; 6] = [0x02, 0, 0, 0, 0, 1];
    const ROUTER: [u8; 6] = [0x02, 0, 0, 0, 0, 0xfe];

    /// An IPv4 header (UDP, 192.168.1.2 → 198.51.100.7) claiming `total`.
    fn ipv4_header(total: u16) -> Vec<u8> {
        let t = total.to_be_bytes();
        vec![
            0x45, 0, t[0], t[1], 0, 1, 0, 0, 64, 17, 0, 0, 192, 168, 1, 2, 198, 51, 100, 7,
        ]
    }

    /// IPv4 + a UDP header, then `captured` bytes of payload.
    fn ipv4_udp(total: u16, captured: usize) -> Vec<u8> {
        let mut p = ipv4_header(total);
        let udp_len = total.saturating_sub(20).to_be_bytes();
        p.extend_from_slice(&[0xc3, 0x50, 0x01, 0xbb, udp_len[0], udp_len[1], 0, 0]);
        p.extend(std::iter::repeat(0x40).take(captured));
        p
    }

    fn ethernet(ethertype: u16, payload: &[u8]) -> Vec<u8> {
        let mut f = ROUTER.to_vec();
        f.extend_from_slice(&CLIENT);
        f.extend_from_slice(&ethertype.to_be_bytes());
        f.extend_from_slice(payload);
        f
    }

    fn ip_len(result: Result<Decoded<'_>, DecodeError>) -> u32 {
        match result {
            Ok(Decoded {
                network: Network::Ip(ip),
                ..
            }) => ip.ip_len,
            other => panic!("an IP packet expected, got {other:?}"),
        }
    }

    fn is_malformed(result: Result<Decoded<'_>, DecodeError>, layer: Layer) -> bool {
        matches!(result, Err(DecodeError::Malformed(l, _)) if l == layer)
    }

    #[test]
    fn an_ipv4_total_length_beyond_the_wire_is_malformed() {
        // 60 bytes on the wire claiming 65535: the forged-count attack.
        let mut frame = ethernet(0x0800, &ipv4_udp(65535, 18));
        frame.truncate(60);
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, 60),
            Layer::Ipv4
        ));
        // One byte more than the wire carried is as malformed as 64 KiB.
        let frame = ethernet(0x0800, &ipv4_udp(47, 18));
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, 60),
            Layer::Ipv4
        ));
        // Exactly what the wire carried after the Ethernet header is fine.
        let frame = ethernet(0x0800, &ipv4_udp(46, 18));
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, 60)), 46);
    }

    #[test]
    fn ethernet_padding_leaves_the_claim_below_the_wire() {
        // A 28-byte IP packet padded to the 60-byte minimum frame.
        let mut frame = ethernet(0x0800, &ipv4_udp(28, 0));
        frame.resize(60, 0);
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, 60)), 28);
    }

    #[test]
    fn a_frame_cut_by_the_snaplen_counts_its_ip_length_in_full() {
        // 1514 bytes on the wire, 96 captured: the IP length counts.
        let frame = ethernet(0x0800, &ipv4_udp(1500, 54));
        assert_eq!(frame.len(), 96);
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, 1514)), 1500);
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, 1513),
            Layer::Ipv4
        ));
    }

    #[test]
    fn a_wire_length_below_the_captured_length_counts_as_the_captured_length() {
        let frame = ethernet(0x0800, &ipv4_udp(46, 18));
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, 0)), 46);
    }

    #[test]
    fn every_link_header_walked_is_taken_off_the_wire_length() {
        let ip = ipv4_udp(100, 72);
        // (link type, frame, the link-layer bytes before the IP header)
        let mut vlan = ROUTER.to_vec();
        vlan.extend_from_slice(&CLIENT);
        vlan.extend_from_slice(&[0x88, 0xa8, 0, 10, 0x81, 0, 0, 20, 0x08, 0x00]);
        vlan.extend_from_slice(&ip);
        let pppoe_payload = [&[0x11, 0, 0, 1, 0, 102, 0, 0x21][..], &ip].concat();
        let pppoe = ethernet(0x8864, &pppoe_payload);
        let mut sll = vec![0, 0, 0, 1, 0, 6];
        sll.extend_from_slice(&CLIENT);
        sll.extend_from_slice(&[0, 0, 0x08, 0x00]);
        sll.extend_from_slice(&ip);
        let mut sll2 = vec![0x08, 0x00, 0, 0, 0, 0, 0, 2, 0, 1, 0, 6];
        sll2.extend_from_slice(&CLIENT);
        sll2.extend_from_slice(&[0, 0]);
        sll2.extend_from_slice(&ip);
        let null = [&2u32.to_le_bytes()[..], &ip].concat();
        let cases = [
            (LinkType::Ethernet, ethernet(0x0800, &ip), 14),
            (LinkType::Ethernet, vlan, 14 + 4 + 4),
            (LinkType::Ethernet, pppoe, 14 + 8),
            (LinkType::LinuxSll, sll, 16),
            (LinkType::LinuxSll2, sll2, 20),
            (LinkType::RawIp, ip.clone(), 0),
            (LinkType::Null, null, 4),
        ];
        for (link, frame, headers) in cases {
            assert_eq!(frame.len(), headers + 100, "{link:?}");
            let wire = frame.len() as u32;
            assert_eq!(ip_len(decode_frame(link, &frame, wire)), 100, "{link:?}");
            // The same frame said to be one byte shorter on the wire.
            let short = &frame[..frame.len() - 1];
            assert!(
                is_malformed(decode_frame(link, short, wire - 1), Layer::Ipv4),
                "{link:?}"
            );
        }
    }

    /// An IPv6 header (UDP, fd00::2 → 2001:db8::7) with `payload_len`,
    /// `next` as its next header, then `rest`.
    fn ipv6(payload_len: u16, next: u8, rest: &[u8]) -> Vec<u8> {
        let l = payload_len.to_be_bytes();
        let mut p = vec![0x60, 0, 0, 0, l[0], l[1], next, 64];
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(&[0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7]);
        p.extend_from_slice(rest);
        p
    }

    #[test]
    fn an_ipv6_payload_length_beyond_the_wire_is_malformed() {
        let udp = [0xc3, 0x50, 0x01, 0xbb, 0, 16, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8];
        let frame = ethernet(0x86dd, &ipv6(16, ip_protocol::UDP, &udp));
        let wire = frame.len() as u32;
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, wire)), 56);
        let forged = ethernet(0x86dd, &ipv6(65535, ip_protocol::UDP, &udp));
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &forged, wire),
            Layer::Ipv6
        ));
        // Cut by a snaplen from a frame that did carry it, it counts.
        assert_eq!(
            ip_len(decode_frame(LinkType::Ethernet, &forged, 14 + 40 + 65535)),
            40 + 65535
        );
    }

    /// A hop-by-hop header with a Jumbo Payload option of `jumbo`, then
    /// the first bytes of a UDP header.
    fn jumbogram(jumbo: u32) -> Vec<u8> {
        let j = jumbo.to_be_bytes();
        let hop_by_hop = [ip_protocol::UDP, 0, 0xc2, 4, j[0], j[1], j[2], j[3]];
        let udp = [0xc3, 0x50, 0x01, 0xbb, 0, 0, 0, 0];
        ipv6(
            0,
            ip_protocol::HOP_BY_HOP,
            &[&hop_by_hop[..], &udp].concat(),
        )
    }

    #[test]
    fn a_jumbogram_counts_its_jumbo_length_if_the_wire_carried_it() {
        let jumbo = 100_000;
        let frame = ethernet(0x86dd, &jumbogram(jumbo));
        // Captured: the headers; on the wire: all of it.
        let wire = 14 + 40 + jumbo;
        let result = decode_frame(LinkType::Ethernet, &frame, wire);
        let Ok(Decoded {
            network: Network::Ip(ip),
            ..
        }) = result
        else {
            panic!("a jumbogram expected, got {result:?}")
        };
        assert_eq!(ip.ip_len, 40 + jumbo);
        assert_eq!(ip.protocol, ip_protocol::UDP);
    }

    #[test]
    fn a_jumbo_length_beyond_the_wire_is_malformed() {
        let frame = ethernet(0x86dd, &jumbogram(4_000_000_000));
        let wire = frame.len() as u32;
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, wire),
            Layer::Ipv6
        ));
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, 14 + 40 + 100_000),
            Layer::Ipv6
        ));
    }

    #[test]
    fn a_jumbo_length_below_65536_is_malformed() {
        let frame = ethernet(0x86dd, &jumbogram(1000));
        assert!(is_malformed(
            decode_frame(LinkType::Ethernet, &frame, 14 + 40 + 1000),
            Layer::Ipv6
        ));
    }

    #[test]
    fn a_zero_payload_length_without_a_jumbo_option_counts_40_bytes() {
        let frame = ethernet(0x86dd, &ipv6(0, ip_protocol::IPV6_NO_NEXT, &[]));
        let wire = frame.len() as u32;
        assert_eq!(ip_len(decode_frame(LinkType::Ethernet, &frame, wire)), 40);
    }
}
