//! Ethernet II frames, the VLAN tags stacked after them (802.1Q, 802.1ad,
//! the pre-standard 0x9100) and PPPoE session frames.
//!
//! A router sees tagged frames on trunk ports and QinQ on provider links,
//! and PPPoE on its WAN side, so all three are peeled here until an
//! EtherType that names a network protocol is left. The tag walk is bounded
//! ([`MAX_VLAN_DEPTH`]) so a frame of nothing but tags cannot keep it busy.
//! Linux cooked captures reuse the same walk: libpcap puts the tags the
//! kernel had moved into metadata back after the cooked header.

use super::{
    read_array, read_u16, read_u8, tail, wire_after, DecodeError, Decoded, Layer, LinkInfo, Mac,
};

/// EtherType values lanwatch dispatches on.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service tag (QinQ outer tag).
    pub const SERVICE_VLAN: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag still used by some switches.
    pub const QINQ_LEGACY: u16 = 0x9100;
}

/// More stacked VLAN tags than this make the frame malformed (QinQ uses
/// two; nothing real uses more than a handful).
pub const MAX_VLAN_DEPTH: u8 = 8;

mod field {
    use crate::decode::Field;

    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of an Ethernet II header (without tags).
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of an Ethernet II frame (without the FCS, which
/// captures do not carry).
#[derive(Clone, Copy, Debug)]
pub struct EthernetFrame<'a> {
    buffer: &'a [u8],
}

impl<'a> EthernetFrame<'a> {
    /// Wraps a buffer holding at least the 14-byte header.
    pub fn new_checked(buffer: &'a [u8]) -> Result<EthernetFrame<'a>, DecodeError> {
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Link));
        }
        Ok(EthernetFrame { buffer })
    }

    #[inline]
    pub fn dst_addr(&self) -> Mac {
        Mac(read_array(self.buffer, field::DESTINATION))
    }

    #[inline]
    pub fn src_addr(&self) -> Mac {
        Mac(read_array(self.buffer, field::SOURCE))
    }

    /// The EtherType (or, below 0x0600, an 802.3 length).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer, field::ETHERTYPE)
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, field::PAYLOAD)
    }
}

mod vlan_field {
    use crate::decode::Field;

    /// Tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of one VLAN tag after the EtherType that announced it.
pub const VLAN_TAG_LEN: usize = vlan_field::PAYLOAD;

/// A read-only view of one VLAN tag (the 4 bytes after 0x8100/0x88a8/0x9100).
#[derive(Clone, Copy, Debug)]
pub struct VlanTag<'a> {
    buffer: &'a [u8],
}

impl<'a> VlanTag<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<VlanTag<'a>, DecodeError> {
        if buffer.len() < VLAN_TAG_LEN {
            return Err(DecodeError::Truncated(Layer::Vlan));
        }
        Ok(VlanTag { buffer })
    }

    /// The VLAN identifier (0 for a priority-only tag).
    #[inline]
    pub fn vid(&self) -> u16 {
        read_u16(self.buffer, vlan_field::TCI) & 0x0fff
    }

    /// The priority code point.
    #[inline]
    pub fn pcp(&self) -> u8 {
        read_u8(self.buffer, vlan_field::TCI.start) >> 5
    }

    /// The EtherType of what follows the tag.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer, vlan_field::ETHERTYPE)
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, vlan_field::PAYLOAD)
    }
}

mod pppoe_field {
    use crate::decode::Field;

    /// Version (4 bits, 1) and type (4 bits, 1).
    pub const VER_TYPE: usize = 0;
    /// 0 for session data.
    pub const CODE: usize = 1;
    pub const SESSION_ID: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    /// The PPP protocol field: two bytes, or one when compressed (RFC 1661
    /// protocol field compression; the first byte of a full field is even).
    pub const PPP_PROTOCOL: usize = 6;
}

/// Length of the PPPoE session header, before the PPP protocol field.
pub const PPPOE_HEADER_LEN: usize = pppoe_field::PPP_PROTOCOL;

/// PPP protocol numbers carried in PPPoE sessions.
pub mod ppp_protocol {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
}

/// A read-only view of a PPPoE session frame (RFC 2516) and the PPP
/// protocol field inside it.
#[derive(Clone, Copy, Debug)]
pub struct PppoeSession<'a> {
    buffer: &'a [u8],
    /// 1 or 2: the length of the (possibly compressed) PPP protocol field.
    protocol_len: usize,
}

impl<'a> PppoeSession<'a> {
    /// Wraps a buffer holding the 6-byte session header and the PPP
    /// protocol field; version/type must be 1/1 and the code 0 (session data).
    pub fn new_checked(buffer: &'a [u8]) -> Result<PppoeSession<'a>, DecodeError> {
        if buffer.len() <= PPPOE_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Pppoe));
        }
        if read_u8(buffer, pppoe_field::VER_TYPE) != 0x11 {
            return Err(DecodeError::Malformed(
                Layer::Pppoe,
                "version/type is not 1/1",
            ));
        }
        if read_u8(buffer, pppoe_field::CODE) != 0 {
            return Err(DecodeError::Malformed(
                Layer::Pppoe,
                "session frame with a non-zero code",
            ));
        }
        let protocol_len = if read_u8(buffer, pppoe_field::PPP_PROTOCOL) & 1 == 1 {
            1
        } else {
            2
        };
        if buffer.len() < PPPOE_HEADER_LEN.saturating_add(protocol_len) {
            return Err(DecodeError::Truncated(Layer::Pppoe));
        }
        Ok(PppoeSession {
            buffer,
            protocol_len,
        })
    }

    #[inline]
    pub fn session_id(&self) -> u16 {
        read_u16(self.buffer, pppoe_field::SESSION_ID)
    }

    /// The PPPoE payload length (the PPP frame, protocol field included).
    #[inline]
    pub fn length(&self) -> u16 {
        read_u16(self.buffer, pppoe_field::LENGTH)
    }

    /// The PPP protocol number, expanded if it was compressed.
    #[inline]
    pub fn ppp_protocol(&self) -> u16 {
        let first = read_u8(self.buffer, pppoe_field::PPP_PROTOCOL);
        if self.protocol_len == 1 {
            u16::from(first)
        } else {
            let second = read_u8(self.buffer, pppoe_field::PPP_PROTOCOL.saturating_add(1));
            u16::from_be_bytes([first, second])
        }
    }

    /// The EtherType equivalent of the PPP protocol; PPPoE's own EtherType
    /// for anything that is not IP (LCP, IPCP, ...).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        match self.ppp_protocol() {
            ppp_protocol::IPV4 => ethertype::IPV4,
            ppp_protocol::IPV6 => ethertype::IPV6,
            _ => ethertype::PPPOE_SESSION,
        }
    }

    /// The PPP payload (the IP packet for IPv4/IPv6).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(
            self.buffer,
            PPPOE_HEADER_LEN.saturating_add(self.protocol_len),
        )
    }
}

/// Decodes an Ethernet II frame and everything in it; `wire` bytes of it
/// were on the wire.
pub(super) fn decode(data: &[u8], wire: usize) -> Result<Decoded<'_>, DecodeError> {
    let frame = EthernetFrame::new_checked(data)?;
    let mut link = LinkInfo {
        src_mac: Some(frame.src_addr()),
        dst_mac: Some(frame.dst_addr()),
        ..LinkInfo::default()
    };
    let (ethertype, payload) = strip_encapsulation(frame.ethertype(), frame.payload(), &mut link)?;
    Ok(Decoded {
        link,
        network: super::decode_network(ethertype, payload, wire_after(data, payload, wire))?,
    })
}

/// Peels VLAN tags and a PPPoE session header off a payload announced by
/// `ethertype`, recording the tags in `link`; returns the EtherType of the
/// network layer and its bytes.
pub(super) fn strip_encapsulation<'a>(
    mut ethertype: u16,
    mut payload: &'a [u8],
    link: &mut LinkInfo,
) -> Result<(u16, &'a [u8]), DecodeError> {
    loop {
        match ethertype {
            ethertype::VLAN | ethertype::SERVICE_VLAN | ethertype::QINQ_LEGACY => {
                if link.vlan_depth >= MAX_VLAN_DEPTH {
                    return Err(DecodeError::Malformed(
                        Layer::Vlan,
                        "more than 8 stacked VLAN tags",
                    ));
                }
                let tag = VlanTag::new_checked(payload)?;
                link.vlan = Some(tag.vid());
                link.vlan_depth = link.vlan_depth.saturating_add(1);
                ethertype = tag.ethertype();
                payload = tag.payload();
            }
            ethertype::PPPOE_SESSION => {
                let session = PppoeSession::new_checked(payload)?;
                return Ok((session.ethertype(), session.payload()));
            }
            _ => return Ok((ethertype, payload)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixtures::decode_whole;
    use crate::decode::{LinkType, Network, TcpFlags, Transport};
    use std::net::IpAddr;

    /// arkime/twovlan.pcap frame 3: 10.0.0.1 → 10.0.0.2 TCP 74 54422 → 80 [ACK] Seq=1 Ack=1 Win=29312 Len=0 TSval=1057156626 TSecr=2267904538
    static QINQ_TCP_ACK: [u8; 74] = [
        0x00, 0x09, 0x0f, 0xdb, 0xf4, 0x3e, 0x00, 0x0c, 0x29, 0xc1, 0x2d, 0x24, 0x81, 0x00, 0x00,
        0xc9, 0x81, 0x00, 0x90, 0xc8, 0x08, 0x00, 0x45, 0x00, 0x00, 0x34, 0x13, 0xe5, 0x40, 0x00,
        0x40, 0x06, 0xef, 0x53, 0x0a, 0x00, 0x00, 0x01, 0x0a, 0x00, 0x00, 0x02, 0xd4, 0x96, 0x00,
        0x50, 0xc1, 0x27, 0xfd, 0xe8, 0x4e, 0xd7, 0x79, 0x09, 0x80, 0x10, 0x00, 0xe5, 0x37, 0xb2,
        0x00, 0x00, 0x01, 0x01, 0x08, 0x0a, 0x3f, 0x02, 0xee, 0x12, 0x87, 0x2d, 0x7a, 0x1a,
    ];

    /// arkime/dot1ad.pcap frame 1: 47.245.159.156 → 92.104.109.0 ICMP 50 Echo (ping) request id=0x0000, seq=0/0, ttl=64
    static DOT1AD_ICMP_ECHO: [u8; 50] = [
        0x40, 0x8f, 0x9d, 0x6e, 0xc7, 0xd8, 0x88, 0xd9, 0x8f, 0x5f, 0xc5, 0x48, 0x88, 0xa8, 0x05,
        0xf5, 0x81, 0x00, 0x00, 0x1e, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1c, 0x00, 0x01, 0x00, 0x00,
        0x40, 0x01, 0xe1, 0xe6, 0x2f, 0xf5, 0x9f, 0x9c, 0x5c, 0x68, 0x6d, 0x00, 0x08, 0x00, 0xf7,
        0xff, 0x00, 0x00, 0x00, 0x00,
    ];

    /// zeek/http-vlan-0.pcap frame 2: 192.150.187.43 → 141.142.228.5 TCP 78 80 → 59856 [SYN, ACK] Seq=0 Ack=1 Win=14480 Len=0 MSS=1460 SACK_PERM TSval=797524569 TSecr=374005024 WS=128
    static PRIORITY_TAGGED_SYN_ACK: [u8; 78] = [
        0xc8, 0xbc, 0xc8, 0x96, 0xd2, 0xa0, 0x00, 0x10, 0xdb, 0x88, 0xd2, 0xef, 0x81, 0x00, 0xb0,
        0x00, 0x08, 0x00, 0x45, 0x00, 0x00, 0x3c, 0x00, 0x00, 0x40, 0x00, 0x2f, 0x06, 0x5e, 0x66,
        0xc0, 0x96, 0xbb, 0x2b, 0x8d, 0x8e, 0xe4, 0x05, 0x00, 0x50, 0xe9, 0xd0, 0xa5, 0xaf, 0xce,
        0x3e, 0xfe, 0x21, 0x32, 0x3b, 0xa0, 0x12, 0x38, 0x90, 0x2e, 0x50, 0x00, 0x00, 0x02, 0x04,
        0x05, 0xb4, 0x04, 0x02, 0x08, 0x0a, 0x2f, 0x89, 0x42, 0x59, 0x16, 0x4a, 0xdd, 0x20, 0x01,
        0x03, 0x03, 0x07,
    ];

    /// ndpi/dns.pcap frame 4: 82.178.113.245 → 82.178.158.181 DNS 91 Standard query 0x7843 A e7.whatsapp.net
    static QINQ_PPPOE_DNS_QUERY: [u8; 91] = [
        0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xd4, 0x94, 0xe8, 0x0e, 0xad, 0xc1, 0x81, 0x00, 0x01,
        0xa5, 0x81, 0x00, 0x03, 0x11, 0x88, 0x64, 0x11, 0x00, 0x55, 0x6a, 0x00, 0x3f, 0x00, 0x21,
        0x45, 0x00, 0x00, 0x3d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x84, 0xa1, 0x52, 0xb2, 0x71,
        0xf5, 0x52, 0xb2, 0x9e, 0xb5, 0xb8, 0x97, 0x00, 0x35, 0x00, 0x29, 0xb6, 0x7d, 0x78, 0x43,
        0x01, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x65, 0x37, 0x08, 0x77,
        0x68, 0x61, 0x74, 0x73, 0x61, 0x70, 0x70, 0x03, 0x6e, 0x65, 0x74, 0x00, 0x00, 0x01, 0x00,
        0x01,
    ];

    /// arkime/pppoe.pcap frame 3: 172.202.246.57 → 64.12.189.217 TCP 62 1063 → 443 [ACK] Seq=1 Ack=1 Win=65535 Len=0
    static PPPOE_TCP_ACK: [u8; 62] = [
        0x00, 0x90, 0x1a, 0xa0, 0x3d, 0xa4, 0x00, 0x11, 0xf5, 0x13, 0xd7, 0xa3, 0x88, 0x64, 0x11,
        0x00, 0x06, 0x9d, 0x00, 0x2a, 0x00, 0x21, 0x45, 0x00, 0x00, 0x28, 0x01, 0x3d, 0x40, 0x00,
        0x80, 0x06, 0x58, 0xa9, 0xac, 0xca, 0xf6, 0x39, 0x40, 0x0c, 0xbd, 0xd9, 0x04, 0x27, 0x01,
        0xbb, 0xe9, 0x42, 0x87, 0x56, 0x06, 0xe9, 0x64, 0xd7, 0x50, 0x10, 0xff, 0xff, 0x2c, 0xaf,
        0x00, 0x00,
    ];

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn frame_view_reads_the_addresses_and_ethertype() {
        let frame = EthernetFrame::new_checked(&QINQ_TCP_ACK).unwrap();
        assert_eq!(frame.dst_addr(), mac("00:09:0f:db:f4:3e"));
        assert_eq!(frame.src_addr(), mac("00:0c:29:c1:2d:24"));
        assert_eq!(frame.ethertype(), ethertype::VLAN);
        assert_eq!(frame.payload().len(), QINQ_TCP_ACK.len() - HEADER_LEN);
    }

    #[test]
    fn qinq_reports_the_inner_vlan_and_two_tags() {
        let decoded = decode_whole(LinkType::Ethernet, &QINQ_TCP_ACK).unwrap();
        assert_eq!(decoded.link.src_mac, Some(mac("00:0c:29:c1:2d:24")));
        assert_eq!(decoded.link.dst_mac, Some(mac("00:09:0f:db:f4:3e")));
        assert_eq!(decoded.link.vlan, Some(200));
        assert_eq!(decoded.link.vlan_depth, 2);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!((packet.src, packet.dst), (ip("10.0.0.1"), ip("10.0.0.2")));
        assert_eq!(packet.ip_len, 52);
        assert_eq!(
            packet.transport,
            Transport::Tcp {
                src_port: 54422,
                dst_port: 80,
                flags: TcpFlags(TcpFlags::ACK)
            }
        );
    }

    #[test]
    fn vlan_tag_view_reads_vid_and_inner_ethertype() {
        let outer = VlanTag::new_checked(&QINQ_TCP_ACK[HEADER_LEN..]).unwrap();
        assert_eq!((outer.vid(), outer.pcp()), (201, 0));
        assert_eq!(outer.ethertype(), ethertype::VLAN);
        let inner = VlanTag::new_checked(outer.payload()).unwrap();
        assert_eq!((inner.vid(), inner.pcp()), (200, 4));
        assert_eq!(inner.ethertype(), ethertype::IPV4);
    }

    #[test]
    fn service_tag_then_customer_tag_is_qinq() {
        let decoded = decode_whole(LinkType::Ethernet, &DOT1AD_ICMP_ECHO).unwrap();
        assert_eq!(decoded.link.vlan, Some(30));
        assert_eq!(decoded.link.vlan_depth, 2);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(packet.src, ip("47.245.159.156"));
        assert_eq!(packet.ip_len, 28);
        assert_eq!(
            packet.transport,
            Transport::Icmp {
                icmp_type: 8,
                code: 0
            }
        );
    }

    #[test]
    fn priority_tag_reports_vlan_zero() {
        let decoded = decode_whole(LinkType::Ethernet, &PRIORITY_TAGGED_SYN_ACK).unwrap();
        assert_eq!(decoded.link.vlan, Some(0));
        assert_eq!(decoded.link.vlan_depth, 1);
        let tag = VlanTag::new_checked(&PRIORITY_TAGGED_SYN_ACK[HEADER_LEN..]).unwrap();
        assert_eq!(tag.pcp(), 5);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(packet.ip_len, 60);
        assert_eq!(
            packet.transport,
            Transport::Tcp {
                src_port: 80,
                dst_port: 59856,
                flags: TcpFlags(TcpFlags::SYN | TcpFlags::ACK)
            }
        );
    }

    #[test]
    fn pppoe_inside_qinq_carries_the_ip_packet() {
        let decoded = decode_whole(LinkType::Ethernet, &QINQ_PPPOE_DNS_QUERY).unwrap();
        assert_eq!(decoded.link.vlan, Some(785));
        assert_eq!(decoded.link.vlan_depth, 2);
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(
            (packet.src, packet.dst),
            (ip("82.178.113.245"), ip("82.178.158.181"))
        );
        assert_eq!(packet.ip_len, 61);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 47255,
                dst_port: 53
            }
        );
        // UDP length 41 - 8: the DNS query.
        assert_eq!(packet.payload.len(), 33);
    }

    #[test]
    fn pppoe_session_view_reads_its_header() {
        let session = PppoeSession::new_checked(&QINQ_PPPOE_DNS_QUERY[HEADER_LEN + 8..]).unwrap();
        assert_eq!(session.session_id(), 0x556a);
        assert_eq!(session.length(), 63);
        assert_eq!(session.ppp_protocol(), ppp_protocol::IPV4);
        assert_eq!(session.ethertype(), ethertype::IPV4);
    }

    #[test]
    fn untagged_pppoe_session_carries_ipv4() {
        let decoded = decode_whole(LinkType::Ethernet, &PPPOE_TCP_ACK).unwrap();
        assert_eq!((decoded.link.vlan, decoded.link.vlan_depth), (None, 0));
        let session = PppoeSession::new_checked(&PPPOE_TCP_ACK[HEADER_LEN..]).unwrap();
        assert_eq!((session.session_id(), session.length()), (0x069d, 42));
        let Network::Ip(packet) = decoded.network else {
            panic!("not IP: {decoded:?}")
        };
        assert_eq!(
            (packet.src, packet.dst),
            (ip("172.202.246.57"), ip("64.12.189.217"))
        );
        assert_eq!(packet.ip_len, 40);
        assert_eq!(
            packet.transport,
            Transport::Tcp {
                src_port: 1063,
                dst_port: 443,
                flags: TcpFlags(TcpFlags::ACK)
            }
        );
    }

    #[test]
    fn compressed_ppp_protocol_field_is_understood() {
        // RFC 1661 protocol field compression: 0x0021 sent as 0x21.
        let mut compressed = PPPOE_TCP_ACK[..20].to_vec();
        compressed.extend_from_slice(&PPPOE_TCP_ACK[21..]);
        let session = PppoeSession::new_checked(&compressed[HEADER_LEN..]).unwrap();
        assert_eq!(session.ppp_protocol(), ppp_protocol::IPV4);
        let compressed = decode_whole(LinkType::Ethernet, &compressed).unwrap();
        let full = decode_whole(LinkType::Ethernet, &PPPOE_TCP_ACK).unwrap();
        assert_eq!(compressed, full);
    }

    #[test]
    fn pppoe_control_protocols_are_not_ip() {
        let mut lcp = PPPOE_TCP_ACK;
        lcp[20..22].copy_from_slice(&[0xc0, 0x21]);
        let decoded = decode_whole(LinkType::Ethernet, &lcp).unwrap();
        assert_eq!(
            decoded.network,
            Network::Other {
                ethertype: ethertype::PPPOE_SESSION
            }
        );
    }

    #[test]
    fn pppoe_with_another_version_is_malformed() {
        let mut bad = PPPOE_TCP_ACK;
        bad[HEADER_LEN] = 0x21;
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Pppoe, _))
        ));
    }

    #[test]
    fn pppoe_discovery_code_in_a_session_frame_is_malformed() {
        let mut bad = PPPOE_TCP_ACK;
        bad[HEADER_LEN + 1] = 0x09; // PADI
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Pppoe, _))
        ));
    }

    #[test]
    fn pppoe_cut_before_the_ppp_protocol_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &PPPOE_TCP_ACK[..HEADER_LEN + 7]),
            Err(DecodeError::Truncated(Layer::Pppoe))
        );
    }

    #[test]
    fn frame_shorter_than_the_ethernet_header_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &QINQ_TCP_ACK[..13]),
            Err(DecodeError::Truncated(Layer::Link))
        );
        assert_eq!(
            decode_whole(LinkType::Ethernet, &[]),
            Err(DecodeError::Truncated(Layer::Link))
        );
    }

    #[test]
    fn frame_cut_inside_a_vlan_tag_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &QINQ_TCP_ACK[..16]),
            Err(DecodeError::Truncated(Layer::Vlan))
        );
    }

    #[test]
    fn frame_cut_inside_the_ip_header_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &QINQ_TCP_ACK[..40]),
            Err(DecodeError::Truncated(Layer::Ipv4))
        );
    }

    /// A frame whose payload after `tags` VLAN tags is an LLDP EtherType.
    fn tagged(tags: u8) -> Vec<u8> {
        let mut frame = QINQ_TCP_ACK[..12].to_vec();
        for vid in 1..=tags {
            frame.extend_from_slice(&[0x81, 0x00, 0x00, vid]);
        }
        frame.extend_from_slice(&[0x88, 0xcc, 0x02, 0x07]);
        frame
    }

    #[test]
    fn eight_stacked_tags_are_walked() {
        let frame = tagged(8);
        let decoded = decode_whole(LinkType::Ethernet, &frame).unwrap();
        assert_eq!((decoded.link.vlan, decoded.link.vlan_depth), (Some(8), 8));
        assert_eq!(decoded.network, Network::Other { ethertype: 0x88cc });
    }

    #[test]
    fn more_than_eight_stacked_tags_are_malformed() {
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &tagged(9)),
            Err(DecodeError::Malformed(Layer::Vlan, _))
        ));
    }

    #[test]
    fn macsec_frames_are_left_alone() {
        // Found by the fuzzer: etherparse looks inside unencrypted MACsec
        // (802.1AE, EtherType 0x88e5); lanwatch reports the EtherType.
        let mut macsec = PPPOE_TCP_ACK;
        macsec[12..14].copy_from_slice(&[0x88, 0xe5]);
        let decoded = decode_whole(LinkType::Ethernet, &macsec).unwrap();
        assert_eq!(decoded.network, Network::Other { ethertype: 0x88e5 });
    }

    #[test]
    fn every_prefix_of_a_real_frame_decodes_or_errors() {
        for frame in [
            &QINQ_TCP_ACK[..],
            &DOT1AD_ICMP_ECHO,
            &PRIORITY_TAGGED_SYN_ACK,
            &QINQ_PPPOE_DNS_QUERY,
            &PPPOE_TCP_ACK,
        ] {
            for len in 0..=frame.len() {
                let _ = decode_whole(LinkType::Ethernet, &frame[..len]);
            }
        }
    }
}
