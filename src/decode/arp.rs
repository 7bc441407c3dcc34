//! ARP (RFC 826) for Ethernet hardware and IPv4 protocol addresses.
//!
//! ARP is how lanwatch learns which MAC holds which IPv4 address before
//! the host sends any IP traffic, so only the Ethernet/IPv4 flavour is
//! decoded into an [`ArpPacket`]; ARP for other hardware or protocol types
//! is reported as an unknown EtherType by the caller.

use std::net::Ipv4Addr;

use super::{read_array, read_u16, read_u8, ArpPacket, DecodeError, Layer, Mac};

/// `htype` for Ethernet.
pub const HARDWARE_ETHERNET: u16 = 1;
/// `ptype` for IPv4 (its EtherType).
pub const PROTOCOL_IPV4: u16 = 0x0800;

/// ARP operations.
pub mod operation {
    pub const REQUEST: u16 = 1;
    pub const REPLY: u16 = 2;
}

mod field {
    use crate::decode::Field;

    pub const HTYPE: Field = 0..2;
    pub const PTYPE: Field = 2..4;
    pub const HLEN: usize = 4;
    pub const PLEN: usize = 5;
    pub const OPER: Field = 6..8;
    /// Where the addresses start; their layout below is the Ethernet/IPv4 one.
    pub const ADDRESSES: usize = 8;
    pub const SHA: Field = 8..14;
    pub const SPA: Field = 14..18;
    pub const THA: Field = 18..24;
    pub const TPA: Field = 24..28;
}

/// Length of the fixed part, before the addresses.
pub const FIXED_LEN: usize = field::ADDRESSES;
/// Length of an Ethernet/IPv4 ARP packet.
pub const ETHERNET_IPV4_LEN: usize = field::TPA.end;

/// A read-only view of an Ethernet/IPv4 ARP packet.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    /// Wraps an ARP packet; `Ok(None)` when it is ARP for something other
    /// than Ethernet/IPv4, an error when it is cut short or its address
    /// lengths contradict its types.
    pub fn new_checked(buffer: &'a [u8]) -> Result<Option<Packet<'a>>, DecodeError> {
        if buffer.len() < FIXED_LEN {
            return Err(DecodeError::Truncated(Layer::Arp));
        }
        if read_u16(buffer, field::HTYPE) != HARDWARE_ETHERNET
            || read_u16(buffer, field::PTYPE) != PROTOCOL_IPV4
        {
            return Ok(None);
        }
        if read_u8(buffer, field::HLEN) != 6 || read_u8(buffer, field::PLEN) != 4 {
            return Err(DecodeError::Malformed(
                Layer::Arp,
                "Ethernet/IPv4 ARP with address lengths other than 6 and 4",
            ));
        }
        if buffer.len() < ETHERNET_IPV4_LEN {
            return Err(DecodeError::Truncated(Layer::Arp));
        }
        Ok(Some(Packet { buffer }))
    }

    #[inline]
    pub fn operation(&self) -> u16 {
        read_u16(self.buffer, field::OPER)
    }

    #[inline]
    pub fn sender_mac(&self) -> Mac {
        Mac(read_array(self.buffer, field::SHA))
    }

    #[inline]
    pub fn sender_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer, field::SPA))
    }

    #[inline]
    pub fn target_mac(&self) -> Mac {
        Mac(read_array(self.buffer, field::THA))
    }

    #[inline]
    pub fn target_ip(&self) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buffer, field::TPA))
    }

    /// The packet's meaning.
    pub fn repr(&self) -> ArpPacket {
        ArpPacket {
            operation: self.operation(),
            sender_mac: self.sender_mac(),
            sender_ip: self.sender_ip(),
            target_mac: self.target_mac(),
            target_ip: self.target_ip(),
        }
    }
}

/// Decodes an ARP packet; `Ok(None)` for ARP other than Ethernet/IPv4.
pub(super) fn decode(data: &[u8]) -> Result<Option<ArpPacket>, DecodeError> {
    Ok(Packet::new_checked(data)?.map(|packet| packet.repr()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::fixtures::decode_whole;
    use crate::decode::{LinkType, Network};

    /// ndpi/iphone.pcap frame 37: c4:61:8b:35:82:a9 → ff:ff:ff:ff:ff:ff ARP 42 Who has 192.168.2.17? (ARP Probe)
    static ARP_PROBE: [u8; 42] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x01, 0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xc0, 0xa8, 0x02, 0x11,
    ];

    /// ndpi/iphone.pcap frame 46: c6:2c:03:60:6a:64 → c4:61:8b:35:82:a9 ARP 42 192.168.2.1 is at c6:2c:03:60:6a:64
    static ARP_REPLY: [u8; 42] = [
        0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9, 0xc6, 0x2c, 0x03, 0x60, 0x6a, 0x64, 0x08, 0x06, 0x00,
        0x01, 0x08, 0x00, 0x06, 0x04, 0x00, 0x02, 0xc6, 0x2c, 0x03, 0x60, 0x6a, 0x64, 0xc0, 0xa8,
        0x02, 0x01, 0xc4, 0x61, 0x8b, 0x35, 0x82, 0xa9, 0xc0, 0xa8, 0x02, 0x11,
    ];

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    #[test]
    fn probe_has_an_unspecified_sender_address() {
        let decoded = decode_whole(LinkType::Ethernet, &ARP_PROBE).unwrap();
        assert_eq!(
            decoded.network,
            Network::Arp(ArpPacket {
                operation: operation::REQUEST,
                sender_mac: mac("c4:61:8b:35:82:a9"),
                sender_ip: Ipv4Addr::UNSPECIFIED,
                target_mac: Mac::default(),
                target_ip: Ipv4Addr::new(192, 168, 2, 17),
            })
        );
    }

    #[test]
    fn reply_binds_the_sender_mac_to_its_address() {
        let packet = Packet::new_checked(&ARP_REPLY[14..]).unwrap().unwrap();
        assert_eq!(packet.operation(), operation::REPLY);
        assert_eq!(packet.sender_mac(), mac("c6:2c:03:60:6a:64"));
        assert_eq!(packet.sender_ip(), Ipv4Addr::new(192, 168, 2, 1));
        assert_eq!(packet.target_mac(), mac("c4:61:8b:35:82:a9"));
        assert_eq!(packet.target_ip(), Ipv4Addr::new(192, 168, 2, 17));
    }

    #[test]
    fn arp_for_other_hardware_is_not_decoded() {
        let mut ieee802 = ARP_REPLY;
        ieee802[15] = 6; // htype 6: IEEE 802 networks
        let decoded = decode_whole(LinkType::Ethernet, &ieee802).unwrap();
        assert_eq!(decoded.network, Network::Other { ethertype: 0x0806 });
    }

    #[test]
    fn ethernet_ipv4_arp_with_other_address_lengths_is_malformed() {
        let mut bad = ARP_REPLY;
        bad[14 + 4] = 8;
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Arp, _))
        ));
    }

    #[test]
    fn arp_cut_short_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &ARP_REPLY[..14 + 27]),
            Err(DecodeError::Truncated(Layer::Arp))
        );
        assert_eq!(
            decode_whole(LinkType::Ethernet, &ARP_REPLY[..14 + 7]),
            Err(DecodeError::Truncated(Layer::Arp))
        );
    }
}
