//! Link types without a MAC layer: raw IP (LINKTYPE_RAW and friends) and
//! BSD loopback (LINKTYPE_NULL).
//!
//! Raw IP has no header at all; the IP version nibble says what follows.
//! BSD loopback prefixes each packet with the sender's `AF_*` address
//! family as a 4-byte integer in the capturing host's byte order, so both
//! byte orders are accepted. Neither carries a MAC, so the frame's identity
//! is its IP address (see the design's accounting rules).

use super::ethernet::ethertype;
use super::{
    read_array, read_u8, tail, wire_after, DecodeError, Decoded, Layer, LinkInfo, Network,
};

/// Address families that mean IPv4 or IPv6 in a LINKTYPE_NULL header.
pub mod family {
    pub const INET: u32 = 2;
    /// NetBSD, OpenBSD, BSD/OS (and Windows' value too).
    pub const INET6_BSD: u32 = 24;
    /// FreeBSD, DragonFly BSD.
    pub const INET6_FREEBSD: u32 = 28;
    /// macOS / Darwin.
    pub const INET6_DARWIN: u32 = 30;
}

mod field {
    use crate::decode::Field;

    /// The address family, in the capturing host's byte order.
    pub const FAMILY: Field = 0..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of the LINKTYPE_NULL header.
pub const NULL_HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of a BSD loopback (LINKTYPE_NULL) header.
#[derive(Clone, Copy, Debug)]
pub struct NullHeader<'a> {
    buffer: &'a [u8],
}

impl<'a> NullHeader<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<NullHeader<'a>, DecodeError> {
        if buffer.len() < NULL_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Link));
        }
        Ok(NullHeader { buffer })
    }

    /// The EtherType equivalent of the address family, whichever byte order
    /// it was written in; `None` for families other than IPv4 and IPv6.
    #[inline]
    pub fn ethertype(&self) -> Option<u16> {
        let bytes: [u8; 4] = read_array(self.buffer, field::FAMILY);
        let (little, big) = (u32::from_le_bytes(bytes), u32::from_be_bytes(bytes));
        let is = |wanted: &[u32]| wanted.contains(&little) || wanted.contains(&big);
        if is(&[family::INET]) {
            Some(ethertype::IPV4)
        } else if is(&[
            family::INET6_BSD,
            family::INET6_FREEBSD,
            family::INET6_DARWIN,
        ]) {
            Some(ethertype::IPV6)
        } else {
            None
        }
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, field::PAYLOAD)
    }
}

/// Decodes a raw IP packet: the version nibble picks IPv4 or IPv6.
pub(super) fn decode_raw_ip(data: &[u8], wire: usize) -> Result<Decoded<'_>, DecodeError> {
    if data.is_empty() {
        return Err(DecodeError::Truncated(Layer::Link));
    }
    let ethertype = match read_u8(data, 0) >> 4 {
        4 => ethertype::IPV4,
        6 => ethertype::IPV6,
        _ => {
            return Err(DecodeError::Malformed(
                Layer::Link,
                "raw IP packet whose version is neither 4 nor 6",
            ))
        }
    };
    Ok(Decoded {
        link: LinkInfo::default(),
        network: super::decode_network(ethertype, data, wire)?,
    })
}

/// Decodes a BSD loopback frame. A family other than IPv4/IPv6 has no
/// EtherType and is reported as `Network::Other { ethertype: 0 }`.
pub(super) fn decode_null(data: &[u8], wire: usize) -> Result<Decoded<'_>, DecodeError> {
    let header = NullHeader::new_checked(data)?;
    let network = match header.ethertype() {
        Some(ethertype) => {
            let payload = header.payload();
            super::decode_network(ethertype, payload, wire_after(data, payload, wire))?
        }
        None => Network::Other { ethertype: 0 },
    };
    Ok(Decoded {
        link: LinkInfo::default(),
        network,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixtures::decode_whole;
    use crate::decode::{LinkType, Transport};
    use std::net::IpAddr;

    /// Crafted as LINKTYPE_NULL: family 30 (Darwin AF_INET6) written big-endian, then an
    /// IPv6 UDP packet built with scapy; tshark: null.family 30, 2001:db8::1:5353 ->
    /// 2001:db8::2:5353, payload length 12.
    static NULL_BIG_ENDIAN_IPV6_UDP: [u8; 56] = [
        0x00, 0x00, 0x00, 0x1e, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0x20, 0x01, 0x0d,
        0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
        0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14,
        0xe9, 0x14, 0xe9, 0x00, 0x0c, 0xa3, 0xb6, 0x73, 0x76, 0x63, 0x62,
    ];

    /// Crafted as LINKTYPE_NULL: family 7 (not IP) before the same packet; tshark: null.family 7.
    static NULL_UNKNOWN_FAMILY: [u8; 56] = [
        0x00, 0x00, 0x00, 0x07, 0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x11, 0x40, 0x20, 0x01, 0x0d,
        0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01,
        0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x14,
        0xe9, 0x14, 0xe9, 0x00, 0x0c, 0xa3, 0xb6, 0x73, 0x76, 0x63, 0x62,
    ];

    /// zeek/dns-svcb.pcap frame 1: 127.0.0.1 → 127.0.0.1 DNS 84 Standard query 0xc964 SVCB example.com OPT
    static NULL_LITTLE_ENDIAN_IPV4_DNS: [u8; 84] = [
        0x02, 0x00, 0x00, 0x00, 0x45, 0x00, 0x00, 0x50, 0xb2, 0x66, 0x00, 0x00, 0x40, 0x11, 0x00,
        0x00, 0x7f, 0x00, 0x00, 0x01, 0x7f, 0x00, 0x00, 0x01, 0xe0, 0xcd, 0x00, 0x35, 0x00, 0x3c,
        0xfe, 0x4f, 0xc9, 0x64, 0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x07,
        0x65, 0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x40, 0x00,
        0x01, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00,
        0x08, 0xae, 0x42, 0x38, 0xd9, 0x3c, 0x7c, 0x85, 0x38,
    ];

    /// suricata-verify/dns-udp-eve-log-srv.pcap frame 1: 172.30.2.70 → 172.23.0.22 DNS 99 Standard query 0xeb56 SRV _sip._udp.sip.voice.google.com OPT
    static RAW_IPV4_DNS_QUERY: [u8; 99] = [
        0x45, 0x00, 0x00, 0x63, 0x0d, 0xd7, 0x00, 0x00, 0x40, 0x11, 0x12, 0x22, 0xac, 0x1e, 0x02,
        0x46, 0xac, 0x17, 0x00, 0x16, 0x8e, 0x59, 0x00, 0x35, 0x00, 0x4f, 0x57, 0x54, 0xeb, 0x56,
        0x01, 0x20, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x04, 0x5f, 0x73, 0x69, 0x70,
        0x04, 0x5f, 0x75, 0x64, 0x70, 0x03, 0x73, 0x69, 0x70, 0x05, 0x76, 0x6f, 0x69, 0x63, 0x65,
        0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x21, 0x00,
        0x01, 0x00, 0x00, 0x29, 0x10, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x0c, 0x00, 0x0a, 0x00,
        0x08, 0x51, 0x67, 0xb8, 0x38, 0x13, 0x98, 0x82, 0x4f,
    ];

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn null_family_is_read_in_either_byte_order() {
        let big = NullHeader::new_checked(&NULL_BIG_ENDIAN_IPV6_UDP).unwrap();
        assert_eq!(big.ethertype(), Some(ethertype::IPV6));
        let little = NullHeader::new_checked(&NULL_LITTLE_ENDIAN_IPV4_DNS).unwrap();
        assert_eq!(little.ethertype(), Some(ethertype::IPV4));
    }

    #[test]
    fn every_bsd_inet6_value_means_ipv6() {
        for family in [24u32, 28, 30] {
            let header = family.to_le_bytes();
            assert_eq!(
                NullHeader::new_checked(&header).unwrap().ethertype(),
                Some(ethertype::IPV6)
            );
        }
    }

    #[test]
    fn loopback_ipv6_decodes_without_macs() {
        let decoded = decode_whole(LinkType::Null, &NULL_BIG_ENDIAN_IPV6_UDP).unwrap();
        assert_eq!(decoded.link, LinkInfo::default());
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(
            (packet.src, packet.dst),
            (ip("2001:db8::1"), ip("2001:db8::2"))
        );
        assert_eq!(packet.ip_len, 52);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 5353,
                dst_port: 5353
            }
        );
    }

    #[test]
    fn loopback_ipv4_decodes() {
        let decoded = decode_whole(LinkType::Null, &NULL_LITTLE_ENDIAN_IPV4_DNS).unwrap();
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!((packet.src, packet.dst), (ip("127.0.0.1"), ip("127.0.0.1")));
        assert_eq!(packet.ip_len, 80);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 57549,
                dst_port: 53
            }
        );
    }

    #[test]
    fn loopback_family_other_than_ip_is_other() {
        let decoded = decode_whole(LinkType::Null, &NULL_UNKNOWN_FAMILY).unwrap();
        assert_eq!(decoded.network, Network::Other { ethertype: 0 });
    }

    #[test]
    fn raw_ipv4_is_recognised_by_its_version() {
        let decoded = decode_whole(LinkType::RawIp, &RAW_IPV4_DNS_QUERY).unwrap();
        assert_eq!(decoded.link, LinkInfo::default());
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(
            (packet.src, packet.dst),
            (ip("172.30.2.70"), ip("172.23.0.22"))
        );
        assert_eq!(packet.ip_len, 99);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 36441,
                dst_port: 53
            }
        );
    }

    #[test]
    fn raw_ipv6_is_recognised_by_its_version() {
        let raw = &NULL_BIG_ENDIAN_IPV6_UDP[NULL_HEADER_LEN..];
        let decoded = decode_whole(LinkType::RawIp, raw).unwrap();
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!((packet.src, packet.ip_len), (ip("2001:db8::1"), 52));
    }

    #[test]
    fn raw_packet_of_another_version_is_malformed() {
        let mut bad = RAW_IPV4_DNS_QUERY;
        bad[0] = 0x55;
        assert!(matches!(
            decode_whole(LinkType::RawIp, &bad),
            Err(DecodeError::Malformed(Layer::Link, _))
        ));
    }

    #[test]
    fn empty_or_short_frames_are_truncated() {
        assert_eq!(
            decode_whole(LinkType::RawIp, &[]),
            Err(DecodeError::Truncated(Layer::Link))
        );
        assert_eq!(
            decode_whole(LinkType::RawIp, &RAW_IPV4_DNS_QUERY[..19]),
            Err(DecodeError::Truncated(Layer::Ipv4))
        );
        assert_eq!(
            decode_whole(LinkType::Null, &NULL_LITTLE_ENDIAN_IPV4_DNS[..3]),
            Err(DecodeError::Truncated(Layer::Link))
        );
    }
}
