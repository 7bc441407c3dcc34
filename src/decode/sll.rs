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
    head, read_array, read_u16, read_u8, tail, DecodeError, Decoded, Field, Layer, LinkInfo, Mac,
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
pub(super) fn decode_v1(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let header = SllHeader::new_checked(data)?;
    let link = LinkInfo {
        src_mac: header.src_mac(),
        outgoing: header.packet_type() == packet_type::OUTGOING,
        ..LinkInfo::default()
    };
    decode_payload(link, header.protocol(), header.payload())
}

/// Decodes a frame with a Linux cooked v2 header.
pub(super) fn decode_v2(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let header = Sll2Header::new_checked(data)?;
    let link = LinkInfo {
        src_mac: header.src_mac(),
        outgoing: header.packet_type() == packet_type::OUTGOING,
        ..LinkInfo::default()
    };
    decode_payload(link, header.protocol(), header.payload())
}

#[inline]
fn decode_payload(
    mut link: LinkInfo,
    protocol: u16,
    payload: &[u8],
) -> Result<Decoded<'_>, DecodeError> {
    let (ethertype, payload) = strip_encapsulation(protocol, payload, &mut link)?;
    Ok(Decoded {
        link,
        network: super::decode_network(ethertype, payload)?,
    })
}
