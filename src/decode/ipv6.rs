//! IPv6 headers (RFC 8200) and the extension header chain up to the
//! transport header.
//!
//! The fixed 40-byte header is required (its payload length is what gets
//! accounted); the extension headers after it are walked best effort:
//! hop-by-hop options (first only), routing, destination options, fragment
//! and authentication headers, at most [`MAX_EXTENSION_HEADERS`] of them.
//! A chain cut off by the snaplen, longer than the bound or contradicting
//! itself stops the walk with an opaque transport, `protocol` then being
//! the next-header value the walk could not get past. ESP (50) and
//! No Next Header (59) end the chain the same way, by design.

use std::net::{IpAddr, Ipv6Addr};

use super::{
    decode_transport, head, ip_protocol, read_array, read_u16, read_u32, read_u8, tail,
    DecodeError, Fragment, IpPacket, Layer, Segment, Transport,
};

/// How many extension headers are walked before giving up (RFC 8200
/// recommends at most one of each, and there are six kinds).
pub const MAX_EXTENSION_HEADERS: usize = 8;

mod field {
    use crate::decode::Field;

    /// Version (4 bits), traffic class (8 bits), flow label (20 bits).
    pub const VER_TC_FLOW: Field = 0..4;
    pub const LENGTH: Field = 4..6;
    pub const NXT_HDR: usize = 6;
    pub const HOP_LIMIT: usize = 7;
    pub const SRC_ADDR: Field = 8..24;
    pub const DST_ADDR: Field = 24..40;
    pub const PAYLOAD: usize = 40;
}

/// Length of the fixed header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of an IPv6 packet whose fixed header was captured.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<Packet<'a>, DecodeError> {
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Ipv6));
        }
        let packet = Packet { buffer };
        if packet.version() != 6 {
            return Err(DecodeError::Malformed(Layer::Ipv6, "version is not 6"));
        }
        Ok(packet)
    }

    #[inline]
    pub fn version(&self) -> u8 {
        read_u8(self.buffer, field::VER_TC_FLOW.start) >> 4
    }

    #[inline]
    pub fn flow_label(&self) -> u32 {
        read_u32(self.buffer, field::VER_TC_FLOW) & 0x000f_ffff
    }

    /// The payload length: everything after the fixed header, extension
    /// headers included.
    #[inline]
    pub fn payload_len(&self) -> u16 {
        read_u16(self.buffer, field::LENGTH)
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        read_u8(self.buffer, field::NXT_HDR)
    }

    #[inline]
    pub fn hop_limit(&self) -> u8 {
        read_u8(self.buffer, field::HOP_LIMIT)
    }

    #[inline]
    pub fn src_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buffer, field::SRC_ADDR))
    }

    #[inline]
    pub fn dst_addr(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buffer, field::DST_ADDR))
    }

    /// The captured payload, never past the payload length (so Ethernet
    /// padding is left out).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let end = HEADER_LEN.saturating_add(usize::from(self.payload_len()));
        tail(head(self.buffer, end), HEADER_LEN)
    }
}

mod ext_field {
    use crate::decode::Field;

    pub const NXT_HDR: usize = 0;
    /// Hop-by-hop, routing, destination options: length in 8-byte units,
    /// not counting the first 8. AH: length in 4-byte units, minus 2.
    pub const LENGTH: usize = 1;
    /// Fragment header: offset (13 bits, 8-byte units), 2 reserved bits, M.
    pub const FRAG_OFF_M: Field = 2..4;
    pub const FRAG_IDENT: Field = 4..8;
    pub const FRAGMENT_HEADER_LEN: usize = 8;
    /// The shortest a hop-by-hop, routing or destination options header can be.
    pub const MIN_OPTIONS_LEN: usize = 8;
}

/// A read-only view of one hop-by-hop, routing or destination options
/// header: the ones with the generic "next header, length in 8-byte units"
/// layout.
#[derive(Clone, Copy, Debug)]
pub struct OptionsHeader<'a> {
    buffer: &'a [u8],
    header_len: usize,
}

impl<'a> OptionsHeader<'a> {
    /// `None` if the header is not all there.
    pub fn new_checked(buffer: &'a [u8]) -> Option<OptionsHeader<'a>> {
        let units = usize::from(*buffer.get(ext_field::LENGTH)?);
        let header_len = units
            .saturating_add(1)
            .saturating_mul(ext_field::MIN_OPTIONS_LEN);
        (buffer.len() >= header_len).then_some(OptionsHeader { buffer, header_len })
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        read_u8(self.buffer, ext_field::NXT_HDR)
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, self.header_len)
    }
}

/// A read-only view of an IPv6 fragment header.
#[derive(Clone, Copy, Debug)]
pub struct FragmentHeader<'a> {
    buffer: &'a [u8],
}

impl<'a> FragmentHeader<'a> {
    /// `None` if the 8 bytes are not all there.
    pub fn new_checked(buffer: &'a [u8]) -> Option<FragmentHeader<'a>> {
        (buffer.len() >= ext_field::FRAGMENT_HEADER_LEN).then_some(FragmentHeader { buffer })
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        read_u8(self.buffer, ext_field::NXT_HDR)
    }

    /// The fragment offset in bytes.
    #[inline]
    pub fn frag_offset(&self) -> u16 {
        read_u16(self.buffer, ext_field::FRAG_OFF_M) & !0x0007
    }

    #[inline]
    pub fn more_frags(&self) -> bool {
        read_u16(self.buffer, ext_field::FRAG_OFF_M) & 0x0001 != 0
    }

    #[inline]
    pub fn ident(&self) -> u32 {
        read_u32(self.buffer, ext_field::FRAG_IDENT)
    }

    /// Where this packet sits in its datagram; an atomic fragment (offset
    /// 0, no more fragments, RFC 6946) is whole.
    #[inline]
    pub fn fragment(&self) -> Fragment {
        let id = self.ident();
        match (self.frag_offset(), self.more_frags()) {
            (0, false) => Fragment::Whole,
            (0, true) => Fragment::First { id },
            _ => Fragment::Later { id },
        }
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, ext_field::FRAGMENT_HEADER_LEN)
    }
}

/// A read-only view of an IPsec authentication header (RFC 4302), which
/// can follow IPv4 as well as IPv6.
#[derive(Clone, Copy, Debug)]
pub struct AuthHeader<'a> {
    buffer: &'a [u8],
    header_len: usize,
}

impl<'a> AuthHeader<'a> {
    /// `None` if the header is not all there or shorter than its fixed
    /// 12 bytes.
    pub fn new_checked(buffer: &'a [u8]) -> Option<AuthHeader<'a>> {
        let units = usize::from(*buffer.get(ext_field::LENGTH)?);
        let header_len = units.saturating_add(2).saturating_mul(4);
        (header_len >= 12 && buffer.len() >= header_len)
            .then_some(AuthHeader { buffer, header_len })
    }

    #[inline]
    pub fn next_header(&self) -> u8 {
        read_u8(self.buffer, ext_field::NXT_HDR)
    }

    #[inline]
    pub fn header_len(&self) -> usize {
        self.header_len
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, self.header_len)
    }
}

/// Decodes an IPv6 packet, its extension headers and transport header.
pub(super) fn decode(data: &[u8]) -> Result<IpPacket<'_>, DecodeError> {
    let packet = Packet::new_checked(data)?;
    let mut ip = IpPacket {
        src: IpAddr::V6(packet.src_addr()),
        dst: IpAddr::V6(packet.dst_addr()),
        ip_len: u32::from(packet.payload_len()).saturating_add(HEADER_LEN as u32),
        protocol: packet.next_header(),
        fragment: Fragment::Whole,
        transport: Transport::Opaque,
        payload: packet.payload(),
    };
    // Each header consumes its bytes from both; `captured` never exceeds
    // `declared`, so a header that fits the captured bytes fits the packet.
    let mut declared = usize::from(packet.payload_len());
    let mut walked = 0;
    loop {
        let (next_header, header_len, rest) = match ip.protocol {
            ip_protocol::HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTIONS
            | ip_protocol::IPV6_FRAGMENT
            | ip_protocol::AUTH
                if walked == MAX_EXTENSION_HEADERS =>
            {
                return Ok(ip);
            }
            // RFC 8200 4.1: hop-by-hop options only right after the header.
            ip_protocol::HOP_BY_HOP if walked > 0 => return Ok(ip),
            ip_protocol::HOP_BY_HOP
            | ip_protocol::IPV6_ROUTING
            | ip_protocol::IPV6_DEST_OPTIONS => {
                let Some(header) = OptionsHeader::new_checked(ip.payload) else {
                    return Ok(ip);
                };
                (header.next_header(), header.header_len(), header.payload())
            }
            ip_protocol::IPV6_FRAGMENT => {
                let Some(header) = FragmentHeader::new_checked(ip.payload) else {
                    return Ok(ip);
                };
                ip.fragment = header.fragment();
                (
                    header.next_header(),
                    ext_field::FRAGMENT_HEADER_LEN,
                    header.payload(),
                )
            }
            ip_protocol::AUTH => {
                let Some(header) = AuthHeader::new_checked(ip.payload) else {
                    return Ok(ip);
                };
                (header.next_header(), header.header_len(), header.payload())
            }
            _ => break,
        };
        ip.protocol = next_header;
        ip.payload = rest;
        declared = declared.saturating_sub(header_len);
        walked = walked.saturating_add(1);
        if let Fragment::Later { .. } = ip.fragment {
            // The rest of the chain and the transport are in the first fragment.
            return Ok(ip);
        }
    }
    let segment = Segment {
        captured: ip.payload,
        declared,
        whole: ip.fragment == Fragment::Whole,
    };
    (ip.transport, ip.payload) = decode_transport(ip.protocol, true, segment);
    Ok(ip)
}
