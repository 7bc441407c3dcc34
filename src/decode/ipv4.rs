//! IPv4 headers (RFC 791): options, fragments, and the lengths lanwatch
//! accounts.
//!
//! The total length field is what gets counted, so the checked constructor
//! insists on the fixed 20-byte header and on lengths that agree with each
//! other (version 4, IHL ≥ 5, total length ≥ header length). It does not
//! insist on the options or payload being captured: a snaplen may cut them,
//! and the packet still counts in full, with an opaque transport.

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

/// Decodes an IPv4 packet and its transport header.
pub(super) fn decode(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    let packet = Packet::new_checked(data)?;
    let mut ip = IpPacket {
        src: IpAddr::V4(packet.src_addr()),
        dst: IpAddr::V4(packet.dst_addr()),
        ip_len: u32::from(packet.total_len()),
        protocol: packet.protocol(),
        fragment: packet.fragment(),
        transport: Transport::Opaque,
        payload: &[],
    };
    let Some(captured) = packet.payload() else {
        // Options cut off by the snaplen: counted, but nothing more to see.
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
