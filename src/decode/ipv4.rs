//! IPv4 headers (RFC 791): options, fragments, and the lengths lanwatch
//! accounts.
//!
//! The total length field is what gets counted, so the checked constructor
//! insists on the fixed 20-byte header and on lengths that agree with each
//! other (version 4, IHL ≥ 5, total length ≥ header length). It does not
//! insist on the options or payload being captured: a snaplen may cut them,
//! and the packet still counts in full, with an opaque transport. What it
//! claims must have been sent, though: a total length longer than the frame
//! was on the wire is malformed (see `decode_frame`).

use std::net::{IpAddr, Ipv4Addr};

use super::ipv6::AuthHeader;
use super::{
    decode_transport, head, ip_protocol, read_array, read_u16, read_u8, tail, DecodeError,
    Fragment, IpPacket, Layer, Segment, Transport,
};

mod field {
    use crate::decode::Field;

    /// Version (4 bits) and IHL, the header length in 32-bit words (4 bits).
    pub const VER_IHL: usize = 0;
    pub const DSCP_ECN: usize = 1;
    pub const LENGTH: Field = 2..4;
    pub const IDENT: Field = 4..6;
    /// Flags (3 bits: reserved, DF, MF) and fragment offset in 8-byte units.
    pub const FLG_OFF: Field = 6..8;
    pub const TTL: usize = 8;
    pub const PROTOCOL: usize = 9;
    pub const CHECKSUM: Field = 10..12;
    pub const SRC_ADDR: Field = 12..16;
    pub const DST_ADDR: Field = 16..20;
    pub const OPTIONS: usize = 20;
}

/// Length of the fixed header (IHL 5).
pub const MIN_HEADER_LEN: usize = field::OPTIONS;

const FLAG_MORE_FRAGMENTS: u16 = 0x2000;
const FLAG_DONT_FRAGMENT: u16 = 0x4000;
const OFFSET_MASK: u16 = 0x1fff;

/// A read-only view of an IPv4 packet whose fixed header was captured and
/// whose length fields are consistent.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
        if buffer.len() < MIN_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Ipv4));
        }
        let packet = Packet { buffer };
        if packet.version() != 4 {
            return Err(DecodeError::Malformed(Layer::Ipv4, "version is not 4"));
        }
        if packet.header_len() < MIN_HEADER_LEN {
            return Err(DecodeError::Malformed(
                Layer::Ipv4,
                "header length below 20 bytes",
            ));
        }
        if usize::from(packet.total_len()) < packet.header_len() {
            return Err(DecodeError::Malformed(
                Layer::Ipv4,
                "total length shorter than the header",
            ));
        }
        Ok(packet)
    }

    #[inline]
    pub fn version(&self) -> u8 {
        read_u8(self.buffer, field::VER_IHL) >> 4
    }

    /// The header length in bytes, options included (20..=60).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(read_u8(self.buffer, field::VER_IHL) & 0x0f) * 4
    }

    #[inline]
    pub fn dscp(&self) -> u8 {
        read_u8(self.buffer, field::DSCP_ECN) >> 2
    }

    /// The total length: header and payload as sent.
    #[inline]
    pub fn total_len(&self) -> u16 {
        read_u16(self.buffer, field::LENGTH)
    }

    #[inline]
    pub fn ident(&self) -> u16 {
        read_u16(self.buffer, field::IDENT)
    }

    #[inline]
    pub fn dont_frag(&self) -> bool {
        read_u16(self.buffer, field::FLG_OFF) & FLAG_DONT_FRAGMENT != 0
    }

    #[inline]
    pub fn more_frags(&self) -> bool {
        read_u16(self.buffer, field::FLG_OFF) & FLAG_MORE_FRAGMENTS != 0
    }

    /// The fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        // 13 bits of 8-byte units: at most 65528, fits.
        (read_u16(self.buffer, field::FLG_OFF) & OFFSET_MASK) << 3
    }

    /// Where this packet sits in its datagram.
    #[inline]
    pub fn fragment(&self) -> Fragment {
        let id = u32::from(self.ident());
        match (self.frag_offset(), self.more_frags()) {
            (0, false) => Fragment::Whole,
            (0, true) => Fragment::First { id },
            _ => Fragment::Later { id },
        }
    }

    #[inline]
    pub fn ttl(&self) -> u8 {
        read_u8(self.buffer, field::TTL)
    }

    #[inline]
    pub fn protocol(&self) -> u8 {
        read_u8(self.buffer, field::PROTOCOL)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer, field::CHECKSUM)
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer, field::SRC_ADDR))
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer, field::DST_ADDR))
    }

    /// The captured payload, never past the total length (so Ethernet
    /// padding is left out); `None` if the options were cut off.
    #[inline]
    pub fn payload(&self) -> Option<&'a [u8]> {
        let header_len = self.header_len();
        if self.buffer.len() < header_len {
            return None;
        }
        Some(tail(
            head(self.buffer, usize::from(self.total_len())),
            header_len,
        ))
    }
}

/// Decodes an IPv4 packet and its transport header; `on_wire` bytes from
/// its first on were on the wire, and its total length must fit in them.
pub(super) fn decode(data: &[u8], on_wire: usize) -> Result<IpPacket<'_>, DecodeError> {
    let packet = Packet::new_checked(data)?;
    if usize::from(packet.total_len()) > on_wire {
        return Err(DecodeError::Malformed(
            Layer::Ipv4,
            "total length longer than the frame on the wire",
        ));
    }
    let mut ip = IpPacket {
        src: IpAddr::V4(packet.src_addr()),
        dst: IpAddr::V4(packet.dst_addr()),
        ip_len: u32::from(packet.total_len()),
        protocol: packet.protocol(),
        fragment: packet.fragment(),
        transport: Transport::Opaque,
        payload: &[],
        headers_cut: false,
    };
    let Some(captured) = packet.payload() else {
        // Options cut off by the snaplen: counted, but nothing more to see.
        ip.headers_cut = true;
        return Ok(ip);
    };
    ip.payload = captured;
    if let Fragment::Later { .. } = ip.fragment {
        return Ok(ip);
    }
    let mut segment = Segment {
        captured,
        // The constructor checked total length ≥ header length.
        declared: usize::from(packet.total_len()).saturating_sub(packet.header_len()),
        whole: ip.fragment == Fragment::Whole,
    };
    if ip.protocol == ip_protocol::AUTH {
        // IPsec AH (RFC 4302) sits between IPv4 and the transport too.
        let Some(auth) = AuthHeader::new_checked(captured) else {
            return Ok(ip);
        };
        ip.protocol = auth.next_header();
        ip.payload = auth.payload();
        segment.captured = auth.payload();
        segment.declared = segment.declared.saturating_sub(auth.header_len());
    }
    (ip.transport, ip.payload) = decode_transport(ip.protocol, false, segment);
    Ok(ip)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixtures::{decode_whole, ip_packet, ip_packet_cut};
    use crate::decode::{LinkType, TcpFlags};

    /// zeek/mdns.pcap frame 5: 10.0.2.7 → 224.0.0.22 IGMPv3 54 Membership Report / Leave group 224.0.0.251
    static IGMP_WITH_ROUTER_ALERT: [u8; 54] = [
        0x01, 0x00, 0x5e, 0x00, 0x00, 0x16, 0x8a, 0x3c, 0xd6, 0xe1, 0x4d, 0xc4, 0x08, 0x00, 0x46,
        0xc0, 0x00, 0x28, 0x00, 0x00, 0x40, 0x00, 0x01, 0x02, 0xf7, 0xf2, 0x0a, 0x00, 0x02, 0x07,
        0xe0, 0x00, 0x00, 0x16, 0x94, 0x04, 0x00, 0x00, 0x22, 0x00, 0xfa, 0x02, 0x00, 0x00, 0x00,
        0x01, 0x03, 0x00, 0x00, 0x00, 0xe0, 0x00, 0x00, 0xfb,
    ];

    /// ndpi/badpackets.pcap frame 1, bytes 0..64: 131.78.81.254 → 204.186.80.229 DNS 271 Standard query response 0x0168 No such name A phl1sprt108.ad.dla.mil SOA eagleib1.ad.dla.mil RRSIG[BoundErrorUnreassembled Packet]
    static SNAPLEN_CUT_FIRST_FRAGMENT: [u8; 64] = [
        0xc4, 0x34, 0x6b, 0xb5, 0xad, 0xc8, 0x78, 0xba, 0xf9, 0x68, 0x79, 0x67, 0x08, 0x00, 0x45,
        0x00, 0x05, 0xdc, 0x3f, 0x54, 0x20, 0x00, 0xe7, 0x11, 0x7b, 0xd0, 0x83, 0x4e, 0x51, 0xfe,
        0xcc, 0xba, 0x50, 0xe5, 0x00, 0x35, 0xcc, 0x67, 0x06, 0xb5, 0x4a, 0xad, 0x01, 0x68, 0x85,
        0x93, 0x00, 0x01, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x01, 0x0b, 0x70, 0x68, 0x6c, 0x31, 0x73,
        0x70, 0x72, 0x74, 0x31,
    ];

    /// ndpi/ip_fragmented_garbage.pcap frame 1: 10.0.0.2 → 10.128.0.2 IPv4 54 Fragmented IP protocol (proto=TCP 6, off=0, ID=00a0)
    static TINY_FIRST_FRAGMENT: [u8; 54] = [
        0x42, 0x01, 0x0a, 0xf0, 0x00, 0x01, 0x42, 0x01, 0x0a, 0xf0, 0x00, 0x1b, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x24, 0x00, 0xa0, 0x20, 0x00, 0x40, 0x06, 0x45, 0xb1, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x80, 0x00, 0x02, 0x5e, 0x26, 0x2a, 0x28, 0x29, 0x28, 0x2a, 0x26, 0x5e, 0x25, 0x24,
        0x23, 0x40, 0x23, 0x24, 0x25, 0x29, 0x38, 0x00, 0x00,
    ];

    /// ndpi/ip_fragmented_garbage.pcap frame 2: 10.0.0.2 → 10.128.0.2 IPv4 50 Fragmented IP protocol (proto=TCP 6, off=16, ID=00a0)
    static TINY_LATER_FRAGMENT: [u8; 50] = [
        0x42, 0x01, 0x0a, 0xf0, 0x00, 0x01, 0x42, 0x01, 0x0a, 0xf0, 0x00, 0x1b, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x24, 0x00, 0xa0, 0x20, 0x02, 0x40, 0x06, 0x45, 0xaf, 0x0a, 0x00, 0x00, 0x02,
        0x0a, 0x80, 0x00, 0x02, 0x5e, 0x26, 0x2a, 0x28, 0x2a, 0x26, 0x5e, 0x25, 0x24, 0x23, 0x26,
        0x2a, 0x28, 0x4b, 0x49, 0x4a,
    ];

    /// ndpi/443-git.pcap frame 1: 192.168.1.13 → 140.82.114.4 TCP 78 55744 → 443 [SYN] Seq=0 Win=65535 Len=0 MSS=1460 WS=32 TSval=510286784 TSecr=0 SACK_PERM
    static TCP_SYN_WITH_OPTIONS: [u8; 78] = [
        0x10, 0x13, 0x31, 0xf1, 0x39, 0x76, 0x28, 0x37, 0x37, 0x00, 0x6d, 0xc8, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x7a, 0xac, 0xc0, 0xa8, 0x01, 0x0d,
        0x8c, 0x52, 0x72, 0x04, 0xd9, 0xc0, 0x01, 0xbb, 0xf4, 0xfe, 0x9e, 0x7f, 0x00, 0x00, 0x00,
        0x00, 0xb0, 0x02, 0xff, 0xff, 0x8d, 0xcc, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03,
        0x03, 0x05, 0x01, 0x01, 0x08, 0x0a, 0x1e, 0x6a, 0x5b, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x04,
        0x02, 0x00, 0x00,
    ];

    /// Crafted with scapy, checked with tshark: 192.168.7.2 -> 192.168.7.1, protocol 51,
    /// AH (SPI 0x300, length 4: 24 bytes), then UDP 500 -> 500, length 12; IP length 56.
    static IPV4_AUTH_HEADER_UDP: [u8; 70] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x38, 0x00, 0x77, 0x00, 0x00, 0x40, 0x33, 0xea, 0xc8, 0xc0, 0xa8, 0x07, 0x02,
        0xc0, 0xa8, 0x07, 0x01, 0x11, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00, 0x00, 0x00,
        0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xf4,
        0x01, 0xf4, 0x00, 0x0c, 0x00, 0x00, 0x69, 0x6b, 0x65, 0x3f,
    ];

    const ETHERNET: usize = 14;

    #[test]
    fn view_reads_the_fixed_header() {
        let packet = Packet::new_checked(&TCP_SYN_WITH_OPTIONS[ETHERNET..]).unwrap();
        assert_eq!(packet.version(), 4);
        assert_eq!(packet.header_len(), 20);
        assert_eq!(packet.total_len(), 64);
        assert_eq!(packet.ident(), 0);
        assert!(packet.dont_frag());
        assert!(!packet.more_frags());
        assert_eq!(packet.frag_offset(), 0);
        assert_eq!(packet.ttl(), 64);
        assert_eq!(packet.protocol(), ip_protocol::TCP);
        assert_eq!(packet.src_addr(), Ipv4Addr::new(192, 168, 1, 13));
        assert_eq!(packet.dst_addr(), Ipv4Addr::new(140, 82, 114, 4));
    }

    #[test]
    fn options_are_skipped_to_reach_the_payload() {
        let packet = ip_packet(&IGMP_WITH_ROUTER_ALERT);
        let view = Packet::new_checked(&IGMP_WITH_ROUTER_ALERT[ETHERNET..]).unwrap();
        assert_eq!(view.header_len(), 24);
        assert_eq!(packet.ip_len, 40);
        assert_eq!(packet.protocol, 2);
        assert_eq!(packet.transport, Transport::Opaque);
        // The IGMPv3 report: type 0x22, 16 bytes.
        assert_eq!(packet.payload.len(), 16);
        assert_eq!(packet.payload[0], 0x22);
    }

    #[test]
    fn options_cut_by_the_snaplen_still_count_the_total_length() {
        let packet = ip_packet_cut(&IGMP_WITH_ROUTER_ALERT[..ETHERNET + 22], 54);
        assert_eq!(packet.ip_len, 40);
        assert_eq!(packet.protocol, 2);
        assert_eq!(packet.transport, Transport::Opaque);
        assert!(packet.payload.is_empty());
    }

    #[test]
    fn ip_len_is_the_total_length_not_the_captured_length() {
        let packet = ip_packet_cut(&SNAPLEN_CUT_FIRST_FRAGMENT, 14 + 1500);
        assert_eq!(packet.ip_len, 1500);
        assert_eq!(packet.fragment, Fragment::First { id: 0x3f54 });
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 53,
                dst_port: 52327
            }
        );
        // Only what was captured after the UDP header.
        assert_eq!(packet.payload.len(), 64 - ETHERNET - 20 - 8);
    }

    #[test]
    fn first_fragment_too_short_for_a_tcp_header_is_opaque() {
        let packet = ip_packet(&TINY_FIRST_FRAGMENT);
        assert_eq!(packet.fragment, Fragment::First { id: 0xa0 });
        assert_eq!(packet.protocol, ip_protocol::TCP);
        assert_eq!(packet.ip_len, 36);
        assert_eq!(packet.transport, Transport::Opaque);
    }

    #[test]
    fn ethernet_padding_is_not_payload() {
        // 54-byte frame: 14 + 36 bytes of IP + 4 bytes of padding.
        let packet = ip_packet(&TINY_FIRST_FRAGMENT);
        assert_eq!(packet.payload.len(), 16);
        assert_eq!(
            packet.payload,
            &TINY_FIRST_FRAGMENT[ETHERNET + 20..ETHERNET + 36]
        );
    }

    #[test]
    fn later_fragment_keeps_its_protocol_but_has_no_transport() {
        let packet = ip_packet(&TINY_LATER_FRAGMENT);
        let view = Packet::new_checked(&TINY_LATER_FRAGMENT[ETHERNET..]).unwrap();
        assert_eq!(view.frag_offset(), 16);
        assert_eq!(packet.fragment, Fragment::Later { id: 0xa0 });
        assert_eq!(packet.protocol, ip_protocol::TCP);
        assert_eq!(packet.ip_len, 36);
        assert_eq!(packet.transport, Transport::Opaque);
        assert_eq!(packet.payload.len(), 16);
    }

    #[test]
    fn tcp_ports_and_flags_come_through() {
        let packet = ip_packet(&TCP_SYN_WITH_OPTIONS);
        assert_eq!(packet.fragment, Fragment::Whole);
        assert_eq!(packet.ip_len, 64);
        assert_eq!(
            packet.transport,
            Transport::Tcp {
                src_port: 55744,
                dst_port: 443,
                flags: TcpFlags(TcpFlags::SYN)
            }
        );
        assert!(packet.payload.is_empty());
    }

    #[test]
    fn a_bad_tcp_header_is_opaque_but_the_packet_counts() {
        let mut bad = TCP_SYN_WITH_OPTIONS;
        bad[ETHERNET + 20 + 12] = 0x40; // data offset 4 words
        let packet = ip_packet(&bad);
        assert_eq!(packet.ip_len, 64);
        assert_eq!(packet.protocol, ip_protocol::TCP);
        assert_eq!(packet.transport, Transport::Opaque);
        assert_eq!(packet.payload.len(), 44);
    }

    #[test]
    fn authentication_header_is_skipped_to_reach_udp() {
        let packet = ip_packet(&IPV4_AUTH_HEADER_UDP);
        assert_eq!(packet.ip_len, 56);
        assert_eq!(packet.protocol, ip_protocol::UDP);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 500,
                dst_port: 500
            }
        );
        assert_eq!(packet.payload, b"ike?");
    }

    #[test]
    fn fixed_header_cut_short_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &TCP_SYN_WITH_OPTIONS[..ETHERNET + 19]),
            Err(DecodeError::Truncated(Layer::Ipv4))
        );
    }

    #[test]
    fn version_other_than_4_is_malformed() {
        let mut bad = TCP_SYN_WITH_OPTIONS;
        bad[ETHERNET] = 0x65;
        assert_eq!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Ipv4, "version is not 4"))
        );
    }

    #[test]
    fn header_length_below_20_is_malformed() {
        let mut bad = TCP_SYN_WITH_OPTIONS;
        bad[ETHERNET] = 0x44;
        assert_eq!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(
                Layer::Ipv4,
                "header length below 20 bytes"
            ))
        );
    }

    #[test]
    fn total_length_shorter_than_the_header_is_malformed() {
        let mut bad = IGMP_WITH_ROUTER_ALERT;
        bad[ETHERNET + 2..ETHERNET + 4].copy_from_slice(&23u16.to_be_bytes());
        assert_eq!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(
                Layer::Ipv4,
                "total length shorter than the header"
            ))
        );
    }
}
