//! Linux "cooked" capture headers, SLL (LINKTYPE_LINUX_SLL, 113) and SLL2
//! (LINKTYPE_LINUX_SLL2, 276).
//!
//! `tcpdump -i any` and captures on PPP or tunnel devices write these
//! instead of an Ethernet header. They carry the packet's direction (the
//! "outgoing" packet type tells the router's own transmissions apart), the
//! link-layer source address and an EtherType; there is no destination MAC.
//! VLAN tags that libpcap put back after the header are walked like
//! Ethernet's.

use super::ethernet::strip_encapsulation;
use super::{
    head, read_array, read_u16, read_u8, tail, wire_after, DecodeError, Decoded, Field, Layer,
    LinkInfo, Mac,
};

/// `ARPHRD_ETHER`: the address is an Ethernet MAC.
pub const ARPHRD_ETHER: u16 = 1;

/// Packet types (`PACKET_*` in `linux/if_packet.h`).
pub mod packet_type {
    pub const HOST: u16 = 0;
    pub const BROADCAST: u16 = 1;
    pub const MULTICAST: u16 = 2;
    pub const OTHERHOST: u16 = 3;
    pub const OUTGOING: u16 = 4;
}

mod field {
    use crate::decode::Field;

    pub const PACKET_TYPE: Field = 0..2;
    pub const ARPHRD_TYPE: Field = 2..4;
    pub const ADDR_LEN: Field = 4..6;
    /// Link-layer address, padded to 8 bytes.
    pub const ADDR: Field = 6..14;
    /// The part of `ADDR` an Ethernet MAC fills.
    pub const ADDR_MAC: Field = 6..12;
    pub const PROTOCOL: Field = 14..16;
    pub const PAYLOAD: usize = 16;
}

/// Length of an SLL (v1) header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of a Linux cooked (v1) header.
#[derive(Clone, Copy, Debug)]
pub struct SllHeader<'a> {
    buffer: &'a [u8],
}

impl<'a> SllHeader<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<SllHeader<'a>, DecodeError> {
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Link));
        }
        Ok(SllHeader { buffer })
    }

    #[inline]
    pub fn packet_type(&self) -> u16 {
        read_u16(self.buffer, field::PACKET_TYPE)
    }

    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        read_u16(self.buffer, field::ARPHRD_TYPE)
    }

    #[inline]
    pub fn addr_len(&self) -> u16 {
        read_u16(self.buffer, field::ADDR_LEN)
    }

    /// The sender's link-layer address, as long as `addr_len` says (at most 8).
    #[inline]
    pub fn link_addr(&self) -> &'a [u8] {
        link_addr(self.buffer, field::ADDR, self.addr_len())
    }

    /// The sender's MAC, when the header carries an Ethernet address.
    #[inline]
    pub fn src_mac(&self) -> Option<Mac> {
        ethernet_source(
            self.arphrd_type(),
            self.addr_len(),
            read_array(self.buffer, field::ADDR_MAC),
        )
    }

    /// The EtherType of the payload (or a Linux `ETH_P_*` below 0x0600).
    #[inline]
    pub fn protocol(&self) -> u16 {
        read_u16(self.buffer, field::PROTOCOL)
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, field::PAYLOAD)
    }
}

mod v2_field {
    use crate::decode::Field;

    pub const PROTOCOL: Field = 0..2;
    pub const RESERVED: Field = 2..4;
    pub const IF_INDEX: Field = 4..8;
    pub const ARPHRD_TYPE: Field = 8..10;
    pub const PACKET_TYPE: usize = 10;
    pub const ADDR_LEN: usize = 11;
    /// Link-layer address, padded to 8 bytes.
    pub const ADDR: Field = 12..20;
    /// The part of `ADDR` an Ethernet MAC fills.
    pub const ADDR_MAC: Field = 12..18;
    pub const PAYLOAD: usize = 20;
}

/// Length of an SLL2 header.
pub const V2_HEADER_LEN: usize = v2_field::PAYLOAD;

/// A read-only view of a Linux cooked v2 header.
#[derive(Clone, Copy, Debug)]
pub struct Sll2Header<'a> {
    buffer: &'a [u8],
}

impl<'a> Sll2Header<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<Sll2Header<'a>, DecodeError> {
        if buffer.len() < V2_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Link));
        }
        Ok(Sll2Header { buffer })
    }

    /// The EtherType of the payload (or a Linux `ETH_P_*` below 0x0600).
    #[inline]
    pub fn protocol(&self) -> u16 {
        read_u16(self.buffer, v2_field::PROTOCOL)
    }

    /// Reserved, zero in practice.
    #[inline]
    pub fn reserved(&self) -> u16 {
        read_u16(self.buffer, v2_field::RESERVED)
    }

    /// The capturing interface's index.
    #[inline]
    pub fn if_index(&self) -> u32 {
        super::read_u32(self.buffer, v2_field::IF_INDEX)
    }

    #[inline]
    pub fn arphrd_type(&self) -> u16 {
        read_u16(self.buffer, v2_field::ARPHRD_TYPE)
    }

    #[inline]
    pub fn packet_type(&self) -> u16 {
        u16::from(read_u8(self.buffer, v2_field::PACKET_TYPE))
    }

    #[inline]
    pub fn addr_len(&self) -> u16 {
        u16::from(read_u8(self.buffer, v2_field::ADDR_LEN))
    }

    /// The sender's link-layer address, as long as `addr_len` says (at most 8).
    #[inline]
    pub fn link_addr(&self) -> &'a [u8] {
        link_addr(self.buffer, v2_field::ADDR, self.addr_len())
    }

    /// The sender's MAC, when the header carries an Ethernet address.
    #[inline]
    pub fn src_mac(&self) -> Option<Mac> {
        ethernet_source(
            self.arphrd_type(),
            self.addr_len(),
            read_array(self.buffer, v2_field::ADDR_MAC),
        )
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, v2_field::PAYLOAD)
    }
}

/// The used part of the 8-byte address field.
#[inline]
fn link_addr(buffer: &[u8], field: Field, addr_len: u16) -> &[u8] {
    head(buffer.get(field).unwrap_or(&[]), usize::from(addr_len))
}

/// The cooked header's address is a MAC only on Ethernet-like devices.
#[inline]
fn ethernet_source(arphrd_type: u16, addr_len: u16, addr: [u8; 6]) -> Option<Mac> {
    (arphrd_type == ARPHRD_ETHER && addr_len == 6).then_some(Mac(addr))
}

/// Decodes a frame with a Linux cooked (v1) header.
pub(super) fn decode_v1(data: &[u8], wire: usize) -> Result<Decoded<'_>, DecodeError> {
    let header = SllHeader::new_checked(data)?;
    let link = LinkInfo {
        src_mac: header.src_mac(),
        outgoing: header.packet_type() == packet_type::OUTGOING,
        ..LinkInfo::default()
    };
    let payload = header.payload();
    decode_payload(
        link,
        header.protocol(),
        payload,
        wire_after(data, payload, wire),
    )
}

/// Decodes a frame with a Linux cooked v2 header.
pub(super) fn decode_v2(data: &[u8], wire: usize) -> Result<Decoded<'_>, DecodeError> {
    let header = Sll2Header::new_checked(data)?;
    let link = LinkInfo {
        src_mac: header.src_mac(),
        outgoing: header.packet_type() == packet_type::OUTGOING,
        ..LinkInfo::default()
    };
    let payload = header.payload();
    decode_payload(
        link,
        header.protocol(),
        payload,
        wire_after(data, payload, wire),
    )
}

#[inline]
fn decode_payload(
    mut link: LinkInfo,
    protocol: u16,
    cooked: &[u8],
    wire: usize,
) -> Result<Decoded<'_>, DecodeError> {
    let (ethertype, payload) = strip_encapsulation(protocol, cooked, &mut link)?;
    Ok(Decoded {
        link,
        network: super::decode_network(ethertype, payload, wire_after(cooked, payload, wire))?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixtures::decode_whole;
    use crate::decode::{LinkType, Network, TcpFlags, Transport};
    use std::net::IpAddr;

    /// Crafted with scapy as LINKTYPE_LINUX_SLL; tshark reads it as: packet type 4 (outgoing), hatype 1,
    /// address 02:11:22:33:44:55, 192.168.1.10:40000 -> 192.168.1.1:53 UDP, IP length 36.
    static SLL_OUTGOING_UDP: [u8; 52] = [
        0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55, 0x00, 0x00, 0x08,
        0x00, 0x45, 0x00, 0x00, 0x24, 0x12, 0x34, 0x00, 0x00, 0x40, 0x11, 0xe5, 0x39, 0xc0, 0xa8,
        0x01, 0x0a, 0xc0, 0xa8, 0x01, 0x01, 0x9c, 0x40, 0x00, 0x35, 0x00, 0x10, 0x40, 0x47, 0x6c,
        0x61, 0x6e, 0x77, 0x61, 0x74, 0x63, 0x68,
    ];

    /// Crafted with scapy as LINKTYPE_LINUX_SLL; tshark reads it as: packet type 0, 02:11:22:33:44:66, EtherType 0x8100,
    /// VLAN 42, 10.0.42.2:51000 -> 10.0.42.1:22 TCP SYN, IP length 40.
    static SLL_VLAN_TCP_SYN: [u8; 60] = [
        0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x02, 0x11, 0x22, 0x33, 0x44, 0x66, 0x00, 0x00, 0x81,
        0x00, 0x00, 0x2a, 0x08, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x07, 0x00, 0x00, 0x40, 0x06,
        0x12, 0xc7, 0x0a, 0x00, 0x2a, 0x02, 0x0a, 0x00, 0x2a, 0x01, 0xc7, 0x38, 0x00, 0x16, 0x00,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0x60, 0x90, 0x00, 0x00,
    ];

    /// Crafted with scapy as LINKTYPE_LINUX_SLL; tshark reads it as: packet type 4, hatype 512 (PPP), no address,
    /// 100.64.0.2 -> 1.1.1.1 ICMP echo request, IP length 28.
    static SLL_PPP_ICMP_ECHO: [u8; 44] = [
        0x00, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08,
        0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x09, 0x00, 0x00, 0x40, 0x01, 0x14, 0x95, 0x64, 0x40,
        0x00, 0x02, 0x01, 0x01, 0x01, 0x01, 0x08, 0x00, 0xf7, 0xfd, 0x00, 0x01, 0x00, 0x01,
    ];

    /// Crafted with scapy as LINKTYPE_LINUX_SLL2; tshark reads it as: interface 3, packet type 0, hatype 1,
    /// 02:aa:bb:cc:dd:ee, fe80::aa:bbff:fecc:ddee -> ff02::2 ICMPv6 133/0, payload length 8.
    static SLL2_ROUTER_SOLICITATION: [u8; 68] = [
        0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x06, 0x02, 0xaa, 0xbb,
        0xcc, 0xdd, 0xee, 0x00, 0x00, 0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff, 0xfe, 0x80,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xaa, 0xbb, 0xff, 0xfe, 0xcc, 0xdd, 0xee, 0xff,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
        0x85, 0x00, 0xe3, 0xd1, 0x00, 0x00, 0x00, 0x00,
    ];

    /// Crafted with scapy as LINKTYPE_LINUX_SLL2; tshark reads it as: interface 5, packet type 4, 02:aa:bb:cc:dd:ef,
    /// 192.168.1.1:67 -> 192.168.1.20:68 UDP, IP length 29.
    static SLL2_OUTGOING_UDP: [u8; 49] = [
        0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x01, 0x04, 0x06, 0x02, 0xaa, 0xbb,
        0xcc, 0xdd, 0xef, 0x00, 0x00, 0x45, 0x00, 0x00, 0x1d, 0x00, 0x42, 0x00, 0x00, 0x40, 0x11,
        0xf7, 0x28, 0xc0, 0xa8, 0x01, 0x01, 0xc0, 0xa8, 0x01, 0x14, 0x00, 0x43, 0x00, 0x44, 0x00,
        0x09, 0x03, 0xef, 0x78,
    ];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn sll_view_reads_its_header() {
        let header = SllHeader::new_checked(&SLL_OUTGOING_UDP).unwrap();
        assert_eq!(header.packet_type(), packet_type::OUTGOING);
        assert_eq!(header.arphrd_type(), ARPHRD_ETHER);
        assert_eq!(header.addr_len(), 6);
        assert_eq!(header.link_addr(), &[0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
        assert_eq!(header.protocol(), 0x0800);
    }

    #[test]
    fn outgoing_packet_type_marks_the_frame_outgoing() {
        let decoded = decode_whole(LinkType::LinuxSll, &SLL_OUTGOING_UDP).unwrap();
        assert!(decoded.link.outgoing);
        assert_eq!(
            decoded.link.src_mac,
            Some("02:11:22:33:44:55".parse().unwrap())
        );
        assert_eq!(decoded.link.dst_mac, None);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(
            (packet.src, packet.dst),
            (ip("192.168.1.10"), ip("192.168.1.1"))
        );
        assert_eq!(packet.ip_len, 36);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 40000,
                dst_port: 53
            }
        );
        assert_eq!(packet.payload, b"lanwatch");
    }

    #[test]
    fn vlan_tag_after_the_cooked_header_is_walked() {
        let decoded = decode_whole(LinkType::LinuxSll, &SLL_VLAN_TCP_SYN).unwrap();
        assert!(!decoded.link.outgoing);
        assert_eq!((decoded.link.vlan, decoded.link.vlan_depth), (Some(42), 1));
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(packet.ip_len, 40);
        assert_eq!(
            packet.transport,
            Transport::Tcp {
                src_port: 51000,
                dst_port: 22,
                flags: TcpFlags(TcpFlags::SYN)
            }
        );
    }

    #[test]
    fn non_ethernet_device_gives_no_mac() {
        let decoded = decode_whole(LinkType::LinuxSll, &SLL_PPP_ICMP_ECHO).unwrap();
        assert_eq!(decoded.link.src_mac, None);
        assert!(decoded.link.outgoing);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!((packet.src, packet.ip_len), (ip("100.64.0.2"), 28));
        assert_eq!(
            packet.transport,
            Transport::Icmp {
                icmp_type: 8,
                code: 0
            }
        );
    }

    #[test]
    fn sll2_view_reads_its_header() {
        let header = Sll2Header::new_checked(&SLL2_ROUTER_SOLICITATION).unwrap();
        assert_eq!(header.protocol(), 0x86dd);
        assert_eq!(header.reserved(), 0);
        assert_eq!(header.if_index(), 3);
        assert_eq!(header.arphrd_type(), ARPHRD_ETHER);
        assert_eq!(header.packet_type(), packet_type::HOST);
        assert_eq!(header.link_addr(), &[0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    }

    #[test]
    fn sll2_carries_ipv6_and_the_sender_mac() {
        let decoded = decode_whole(LinkType::LinuxSll2, &SLL2_ROUTER_SOLICITATION).unwrap();
        assert!(!decoded.link.outgoing);
        assert_eq!(
            decoded.link.src_mac,
            Some("02:aa:bb:cc:dd:ee".parse().unwrap())
        );
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(packet.src, ip("fe80::aa:bbff:fecc:ddee"));
        assert_eq!(packet.dst, ip("ff02::2"));
        assert_eq!(packet.ip_len, 48);
        assert_eq!(
            packet.transport,
            Transport::Icmpv6 {
                icmp_type: 133,
                code: 0
            }
        );
    }

    #[test]
    fn sll2_outgoing_packet_type_marks_the_frame_outgoing() {
        let decoded = decode_whole(LinkType::LinuxSll2, &SLL2_OUTGOING_UDP).unwrap();
        assert!(decoded.link.outgoing);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(packet.ip_len, 29);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 67,
                dst_port: 68
            }
        );
    }

    #[test]
    fn cooked_headers_cut_short_are_truncated() {
        assert_eq!(
            decode_whole(LinkType::LinuxSll, &SLL_OUTGOING_UDP[..HEADER_LEN - 1]),
            Err(DecodeError::Truncated(Layer::Link))
        );
        assert_eq!(
            decode_whole(LinkType::LinuxSll2, &SLL2_OUTGOING_UDP[..V2_HEADER_LEN - 1]),
            Err(DecodeError::Truncated(Layer::Link))
        );
    }

    #[test]
    fn every_prefix_of_a_cooked_frame_decodes_or_errors() {
        for (link, frame) in [
            (LinkType::LinuxSll, &SLL_OUTGOING_UDP[..]),
            (LinkType::LinuxSll, &SLL_VLAN_TCP_SYN),
            (LinkType::LinuxSll, &SLL_PPP_ICMP_ECHO),
            (LinkType::LinuxSll2, &SLL2_ROUTER_SOLICITATION),
            (LinkType::LinuxSll2, &SLL2_OUTGOING_UDP),
        ] {
            for len in 0..=frame.len() {
                let _ = decode_whole(link, &frame[..len]);
            }
        }
    }
}
