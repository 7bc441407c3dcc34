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
//!
//! A payload length of 0 with a hop-by-hop Jumbo Payload option (RFC 2675)
//! takes the option's length; without one it is taken at face value (40
//! bytes accounted). Either length must fit in what the wire carried: a
//! claim beyond it is malformed (see `decode_frame`), and so is a jumbo
//! length below 65536, which RFC 2675 forbids.

use std::net::{IpAddr, Ipv6Addr};

use super::{
    decode_transport, get_u32, head, ip_protocol, read_array, read_u16, read_u32, read_u8, tail,
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
        self.payload_upto(usize::from(self.payload_len()))
    }

    /// The captured bytes after the fixed header, never past `len` of them.
    #[inline]
    fn payload_upto(&self, len: usize) -> &'a [u8] {
        tail(
            head(self.buffer, HEADER_LEN.saturating_add(len)),
            HEADER_LEN,
        )
    }

    /// The Jumbo Payload option's length, for a payload length of 0 and a
    /// hop-by-hop header (captured) that carries one.
    #[inline]
    pub fn jumbo_payload_len(&self) -> Option<u32> {
        if self.payload_len() != 0 || self.next_header() != ip_protocol::HOP_BY_HOP {
            return None;
        }
        OptionsHeader::new_checked(tail(self.buffer, HEADER_LEN))?.jumbo_payload_len()
    }
}

/// The hop-by-hop Jumbo Payload option (RFC 2675 §2).
mod jumbo {
    pub const OPTION_TYPE: u8 = 0xc2;
    pub const OPTION_LEN: u8 = 4;
    /// The smallest length a jumbogram may declare.
    pub const MIN_PAYLOAD_LEN: u32 = 65_536;
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

    /// The value of a Jumbo Payload option among the options, if any.
    pub fn jumbo_payload_len(&self) -> Option<u32> {
        let options = tail(head(self.buffer, self.header_len), 2);
        let mut at = 0usize;
        while let Some(&kind) = options.get(at) {
            if kind == 0 {
                // Pad1: a single byte.
                at = at.saturating_add(1);
                continue;
            }
            let len = *options.get(at.saturating_add(1))?;
            if kind == jumbo::OPTION_TYPE && len == jumbo::OPTION_LEN {
                // The option's value may be cut off by the header's end or
                // the snaplen: a length the data gives, so a checked read.
                return get_u32(options, at.saturating_add(2));
            }
            at = at.saturating_add(2).saturating_add(usize::from(len));
        }
        None
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

/// Decodes an IPv6 packet, its extension headers and transport header;
/// `on_wire` bytes from its first on were on the wire, and its length
/// (40 + payload or jumbo payload length) must fit in them.
pub(super) fn decode(data: &[u8], on_wire: usize) -> Result<IpPacket<'_>, DecodeError> {
    let packet = Packet::new_checked(data)?;
    let payload_len = match packet.jumbo_payload_len() {
        Some(len) if len < jumbo::MIN_PAYLOAD_LEN => {
            return Err(DecodeError::Malformed(
                Layer::Ipv6,
                "jumbo payload length below 65536",
            ))
        }
        Some(len) => usize::try_from(len).unwrap_or(usize::MAX),
        None => usize::from(packet.payload_len()),
    };
    if HEADER_LEN.saturating_add(payload_len) > on_wire {
        return Err(DecodeError::Malformed(
            Layer::Ipv6,
            "payload length longer than the frame on the wire",
        ));
    }
    let mut ip = IpPacket {
        src: IpAddr::V6(packet.src_addr()),
        dst: IpAddr::V6(packet.dst_addr()),
        ip_len: u32::try_from(HEADER_LEN.saturating_add(payload_len)).unwrap_or(u32::MAX),
        protocol: packet.next_header(),
        fragment: Fragment::Whole,
        transport: Transport::Opaque,
        payload: packet.payload_upto(payload_len),
        headers_cut: false,
    };
    // Each header consumes its bytes from both; `captured` never exceeds
    // `declared`, so a header that fits the captured bytes fits the packet.
    let mut declared = payload_len;
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
                    ip.headers_cut = true;
                    return Ok(ip);
                };
                (header.next_header(), header.header_len(), header.payload())
            }
            ip_protocol::IPV6_FRAGMENT => {
                let Some(header) = FragmentHeader::new_checked(ip.payload) else {
                    ip.headers_cut = true;
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
                    ip.headers_cut = true;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::decode_frame;
    use crate::decode::fixtures::{decode_whole, ip_packet, ip_packet_cut};
    use crate::decode::LinkType;

    /// zeek/ipv6-hbh-routing0.pcap frame 1: 2001:4f8:4:7:2e0:81ff:fe52:ffff → 2001:78:1:32::2 DNS 113 [Malformed Packet]
    static HOP_BY_HOP_AND_ROUTING_DNS: [u8; 113] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x3b, 0x00, 0x40, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00, 0x07,
        0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0xff, 0xff, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00,
        0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0x9a, 0x6b, 0x2b, 0x00, 0x01, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x11, 0x04, 0x00, 0x02, 0x00, 0x00, 0x00, 0x00, 0x20, 0x01, 0x00, 0x78, 0x00,
        0x01, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x20, 0x01, 0x00, 0x78,
        0x00, 0x01, 0x00, 0x32, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x35, 0x00,
        0x35, 0x00, 0x0b, 0x86, 0x31, 0x58, 0x58, 0x58,
    ];

    /// zeek/ip6-ext-trunc.pcap frame 1: 2001:4f8:4:7:2e0:81ff:fe52:ffff → 2001:4f8:4:7:2e0:81ff:fe52:9a6b IPv6 54 IPv6 hop-by-hop options[Malformed Packet]
    static CUT_INSIDE_HOP_BY_HOP: [u8; 54] = [
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x40, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00, 0x07,
        0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0xff, 0xff, 0x20, 0x01, 0x04, 0xf8, 0x00, 0x04, 0x00,
        0x07, 0x02, 0xe0, 0x81, 0xff, 0xfe, 0x52, 0x9a, 0x6b,
    ];

    /// ndpi/dns_fragmented.pcap frame 8, bytes 0..96: 2001:470:765b::a25:53 → 2a00:1450:4013:c06::105 IPv6 1510 IPv6 fragment (off=0 more=y ident=0x247f0cb3 nxt=17)
    static IPV6_FIRST_FRAGMENT_CUT: [u8; 96] = [
        0x00, 0x86, 0x9c, 0xe7, 0x55, 0x14, 0x00, 0x0c, 0x29, 0x8a, 0x5d, 0xd7, 0x86, 0xdd, 0x60,
        0x02, 0x62, 0x15, 0x05, 0xb0, 0x2c, 0x40, 0x20, 0x01, 0x04, 0x70, 0x76, 0x5b, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0a, 0x25, 0x00, 0x53, 0x2a, 0x00, 0x14, 0x50, 0x40, 0x13, 0x0c,
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x05, 0x11, 0x00, 0x00, 0x01, 0x24, 0x7f,
        0x0c, 0xb3, 0x00, 0x35, 0xf7, 0x89, 0x05, 0xda, 0xda, 0x48, 0x0a, 0x32, 0x84, 0x10, 0x00,
        0x01, 0x00, 0x02, 0x00, 0x03, 0x00, 0x09, 0x03, 0x66, 0x67, 0x32, 0x08, 0x77, 0x65, 0x62,
        0x65, 0x72, 0x6c, 0x61, 0x62, 0x02,
    ];

    /// ndpi/dns_fragmented.pcap frame 9: the last fragment (offset 181 units, M=0,
    /// ident 0x247f0cb3, next header 17) of a DNS response, payload length 58.
    static IPV6_LATER_FRAGMENT: [u8; 112] = [
        0x00, 0x86, 0x9c, 0xe7, 0x55, 0x14, 0x00, 0x0c, 0x29, 0x8a, 0x5d, 0xd7, 0x86, 0xdd, 0x60,
        0x02, 0x62, 0x15, 0x00, 0x3a, 0x2c, 0x40, 0x20, 0x01, 0x04, 0x70, 0x76, 0x5b, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x0a, 0x25, 0x00, 0x53, 0x2a, 0x00, 0x14, 0x50, 0x40, 0x13, 0x0c,
        0x06, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0x05, 0x11, 0x00, 0x05, 0xa8, 0x24, 0x7f,
        0x0c, 0xb3, 0x4f, 0x2c, 0x1e, 0xcc, 0x06, 0x91, 0x26, 0x9a, 0x0e, 0x84, 0x7f, 0x00, 0xbf,
        0x5b, 0xa9, 0x29, 0xc8, 0x49, 0x05, 0xca, 0x72, 0x79, 0xec, 0xe6, 0x00, 0x00, 0x29, 0x10,
        0x00, 0x00, 0x00, 0x80, 0x00, 0x00, 0x0f, 0x00, 0x08, 0x00, 0x0b, 0x00, 0x02, 0x38, 0x00,
        0x20, 0x01, 0x04, 0x70, 0x1f, 0x0b, 0x16,
    ];

    /// zeek/mdns.pcap frame 6: fe80::883c:d6ff:fee1:4dc4 → ff02::16 ICMPv6 90 Multicast Listener Report Message v2
    static MLD_REPORT_AFTER_HOP_BY_HOP: [u8; 90] = [
        0x33, 0x33, 0x00, 0x00, 0x00, 0x16, 0x8a, 0x3c, 0xd6, 0xe1, 0x4d, 0xc4, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x24, 0x00, 0x01, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x88, 0x3c, 0xd6, 0xff, 0xfe, 0xe1, 0x4d, 0xc4, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x16, 0x3a, 0x00, 0x05, 0x02, 0x00, 0x00,
        0x01, 0x00, 0x8f, 0x00, 0xc4, 0x2d, 0x00, 0x00, 0x00, 0x01, 0x03, 0x00, 0x00, 0x00, 0xff,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xfb,
    ];

    /// arkime/v6.pcap frame 3: fe80::200:86ff:fe05:80da → fe80::260:97ff:fe07:69ea ICMPv6 86 Neighbor Solicitation for fe80::260:97ff:fe07:69ea from 00:00:86:05:80:da
    static NEIGHBOR_SOLICITATION: [u8; 86] = [
        0x00, 0x60, 0x97, 0x07, 0x69, 0xea, 0x00, 0x00, 0x86, 0x05, 0x80, 0xda, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x20, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x86, 0xff, 0xfe, 0x05, 0x80, 0xda, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x02, 0x60, 0x97, 0xff, 0xfe, 0x07, 0x69, 0xea, 0x87, 0x00, 0x68, 0xbd, 0x00, 0x00,
        0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x60, 0x97, 0xff, 0xfe,
        0x07, 0x69, 0xea, 0x01, 0x01, 0x00, 0x00, 0x86, 0x05, 0x80, 0xda,
    ];

    /// Crafted with scapy, checked with tshark: fd00::1 -> fd00::2, fragment header offset 0,
    /// M=0, ident 0x1234 (an atomic fragment), UDP 1000 -> 53, length 12.
    static ATOMIC_FRAGMENT: [u8; 74] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x14, 0x2c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x12, 0x34, 0x03, 0xe8, 0x00, 0x35, 0x00, 0x0c, 0x30, 0xd3, 0x61, 0x74, 0x6f, 0x6d,
    ];

    /// Crafted with scapy, checked with tshark: fd00::1 -> fd00::2, ESP SPI 0x100, payload length 24.
    static ESP: [u8; 78] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x18, 0x32, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00,
        0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00,
    ];

    /// Crafted with scapy, checked with tshark: destination options, then hop-by-hop options ("must
    /// appear immediately after IPv6 header"), then UDP 1000 -> 53.
    static HOP_BY_HOP_NOT_FIRST: [u8; 82] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x1c, 0x3c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x01, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x35, 0x00,
        0x0c, 0x20, 0xee, 0x6c, 0x61, 0x74, 0x65,
    ];

    /// Crafted with scapy, checked with tshark: AH (SPI 0x200, length 4: 24 bytes), then UDP 1000 -> 53,
    /// length 12; payload length 36.
    static AUTH_HEADER_UDP: [u8; 90] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x24, 0x33, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x11, 0x04, 0x00, 0x00, 0x00, 0x00,
        0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 0x61, 0x75, 0x74, 0x68,
    ];

    /// Crafted with scapy, checked with tshark: nine destination options headers, then UDP 1000 -> 53;
    /// payload length 80.
    static NINE_DESTINATION_OPTIONS: [u8; 134] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x50, 0x3c, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00,
        0x00, 0x00, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x04, 0x00,
        0x00, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x04,
        0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x01,
        0x04, 0x00, 0x00, 0x00, 0x00, 0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00,
        0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x03, 0xe8, 0x00, 0x35, 0x00, 0x08, 0x01, 0xbd,
    ];

    /// Crafted with scapy, checked with tshark: next header 59 (No Next Header), payload length 0.
    static NO_NEXT_HEADER: [u8; 54] = [
        0x02, 0x00, 0x00, 0x00, 0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x86, 0xdd, 0x60,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x3b, 0x40, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xfd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
        0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02,
    ];

    const ETHERNET: usize = 14;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn view_reads_the_fixed_header() {
        let packet = Packet::new_checked(&HOP_BY_HOP_AND_ROUTING_DNS[ETHERNET..]).unwrap();
        assert_eq!(packet.version(), 6);
        assert_eq!(packet.flow_label(), 0);
        assert_eq!(packet.payload_len(), 59);
        assert_eq!(packet.next_header(), ip_protocol::HOP_BY_HOP);
        assert_eq!(packet.hop_limit(), 64);
        assert_eq!(
            IpAddr::V6(packet.src_addr()),
            ip("2001:4f8:4:7:2e0:81ff:fe52:ffff")
        );
    }

    #[test]
    fn hop_by_hop_and_routing_headers_are_walked_to_udp() {
        let packet = ip_packet(&HOP_BY_HOP_AND_ROUTING_DNS);
        assert_eq!(packet.ip_len, 40 + 59);
        assert_eq!(packet.protocol, ip_protocol::UDP);
        assert_eq!(packet.fragment, Fragment::Whole);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 53,
                dst_port: 53
            }
        );
        // UDP length 11: three bytes of payload.
        assert_eq!(packet.payload.len(), 3);
    }

    #[test]
    fn header_cut_inside_hop_by_hop_counts_the_payload_length() {
        // As if a snaplen had cut the 14 + 60 bytes its header announces.
        let packet = ip_packet_cut(&CUT_INSIDE_HOP_BY_HOP, 14 + 60);
        assert_eq!(packet.ip_len, 40 + 20);
        assert_eq!(packet.protocol, ip_protocol::HOP_BY_HOP);
        assert_eq!(packet.transport, Transport::Opaque);
        assert!(packet.payload.is_empty());
    }

    #[test]
    fn first_fragment_gives_ports_and_the_ident() {
        let packet = ip_packet_cut(&IPV6_FIRST_FRAGMENT_CUT, 1510);
        assert_eq!(packet.ip_len, 40 + 1456);
        assert_eq!(packet.fragment, Fragment::First { id: 0x247f_0cb3 });
        assert_eq!(packet.protocol, ip_protocol::UDP);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 53,
                dst_port: 63369
            }
        );
        assert_eq!(packet.payload.len(), 96 - ETHERNET - 40 - 8 - 8);
    }

    #[test]
    fn later_fragment_keeps_its_protocol_but_has_no_transport() {
        let packet = ip_packet(&IPV6_LATER_FRAGMENT);
        assert_eq!(packet.ip_len, 40 + 58);
        assert_eq!(packet.fragment, Fragment::Later { id: 0x247f_0cb3 });
        assert_eq!(packet.protocol, ip_protocol::UDP);
        assert_eq!(packet.transport, Transport::Opaque);
        assert_eq!(packet.payload.len(), 58 - 8);
        let header = FragmentHeader::new_checked(&IPV6_LATER_FRAGMENT[ETHERNET + 40..]).unwrap();
        assert_eq!(header.frag_offset(), 181 * 8);
        assert!(!header.more_frags());
    }

    #[test]
    fn atomic_fragment_is_whole() {
        let packet = ip_packet(&ATOMIC_FRAGMENT);
        assert_eq!(packet.fragment, Fragment::Whole);
        assert_eq!(packet.ip_len, 40 + 20);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 1000,
                dst_port: 53
            }
        );
        assert_eq!(packet.payload, b"atom");
    }

    #[test]
    fn mld_behind_hop_by_hop_is_icmpv6() {
        let packet = ip_packet(&MLD_REPORT_AFTER_HOP_BY_HOP);
        assert_eq!(packet.ip_len, 40 + 36);
        assert_eq!(packet.dst, ip("ff02::16"));
        assert_eq!(
            packet.transport,
            Transport::Icmpv6 {
                icmp_type: 143,
                code: 0
            }
        );
    }

    #[test]
    fn neighbor_solicitation_body_holds_the_target() {
        let packet = ip_packet(&NEIGHBOR_SOLICITATION);
        assert_eq!(packet.ip_len, 40 + 32);
        assert_eq!(
            packet.transport,
            Transport::Icmpv6 {
                icmp_type: 135,
                code: 0
            }
        );
        // Message body: 4 reserved bytes, then the target address.
        let target: [u8; 16] = packet.payload[4..20].try_into().unwrap();
        assert_eq!(IpAddr::from(target), ip("fe80::260:97ff:fe07:69ea"));
    }

    #[test]
    fn esp_stops_the_walk() {
        let packet = ip_packet(&ESP);
        assert_eq!(packet.ip_len, 40 + 24);
        assert_eq!(packet.protocol, ip_protocol::ESP);
        assert_eq!(packet.transport, Transport::Opaque);
        assert_eq!(packet.payload.len(), 24);
    }

    #[test]
    fn no_next_header_stops_the_walk() {
        let packet = ip_packet(&NO_NEXT_HEADER);
        assert_eq!(packet.ip_len, 40);
        assert_eq!(packet.protocol, ip_protocol::IPV6_NO_NEXT);
        assert_eq!(packet.transport, Transport::Opaque);
        assert!(packet.payload.is_empty());
    }

    #[test]
    fn authentication_header_is_walked() {
        let packet = ip_packet(&AUTH_HEADER_UDP);
        assert_eq!(packet.ip_len, 40 + 36);
        assert_eq!(packet.protocol, ip_protocol::UDP);
        assert_eq!(
            packet.transport,
            Transport::Udp {
                src_port: 1000,
                dst_port: 53
            }
        );
        assert_eq!(packet.payload, b"auth");
    }

    #[test]
    fn hop_by_hop_after_another_header_stops_the_walk() {
        let packet = ip_packet(&HOP_BY_HOP_NOT_FIRST);
        assert_eq!(packet.protocol, ip_protocol::HOP_BY_HOP);
        assert_eq!(packet.transport, Transport::Opaque);
    }

    #[test]
    fn more_than_eight_extension_headers_stop_the_walk() {
        let packet = ip_packet(&NINE_DESTINATION_OPTIONS);
        assert_eq!(packet.ip_len, 40 + 80);
        assert_eq!(packet.protocol, ip_protocol::IPV6_DEST_OPTIONS);
        assert_eq!(packet.transport, Transport::Opaque);
    }

    #[test]
    fn extension_header_longer_than_the_packet_is_malformed() {
        let mut bad = HOP_BY_HOP_AND_ROUTING_DNS;
        bad[ETHERNET + 40 + 1] = 200; // hop-by-hop of 1608 bytes
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Ipv6, _))
        ));
        // Cut by a snaplen, the same bytes are only opaque: what follows
        // the capture is unknown, the payload length still counts.
        let packet = ip_packet_cut(&bad, 1500);
        assert_eq!(packet.ip_len, 40 + 59);
        assert_eq!(packet.transport, Transport::Opaque);
        assert!(packet.headers_cut);
    }

    #[test]
    fn a_frame_that_ends_inside_its_hop_by_hop_header_uncut_is_malformed() {
        // zeek's ip6-ext-trunc.pcap frame 1 was 54 bytes on the wire: its
        // payload length of 20 claims more than the wire carried.
        assert!(matches!(
            decode_whole(LinkType::Ethernet, &CUT_INSIDE_HOP_BY_HOP),
            Err(DecodeError::Malformed(Layer::Ipv6, _))
        ));
    }

    #[test]
    fn fixed_header_cut_short_is_truncated() {
        assert_eq!(
            decode_whole(LinkType::Ethernet, &CUT_INSIDE_HOP_BY_HOP[..ETHERNET + 39]),
            Err(DecodeError::Truncated(Layer::Ipv6))
        );
    }

    #[test]
    fn version_other_than_6_is_malformed() {
        let mut bad = ATOMIC_FRAGMENT;
        bad[ETHERNET] = 0x40;
        assert_eq!(
            decode_whole(LinkType::Ethernet, &bad),
            Err(DecodeError::Malformed(Layer::Ipv6, "version is not 6"))
        );
    }

    #[test]
    fn every_prefix_of_a_real_frame_decodes_or_errors() {
        for frame in [
            &HOP_BY_HOP_AND_ROUTING_DNS[..],
            &IPV6_FIRST_FRAGMENT_CUT,
            &IPV6_LATER_FRAGMENT,
            &MLD_REPORT_AFTER_HOP_BY_HOP,
            &AUTH_HEADER_UDP,
            &NINE_DESTINATION_OPTIONS,
        ] {
            for len in 0..=frame.len() {
                let _ = decode_whole(LinkType::Ethernet, &frame[..len]);
            }
        }
    }

    /// Found by the decode_frame fuzz target: a Jumbo Payload option whose
    /// value runs past the end of the hop-by-hop header was read before its
    /// length was checked (a debug assertion fired).
    #[test]
    fn a_jumbo_option_cut_off_by_its_header_is_no_jumbo_length() {
        static FRAME: [u8; 70] = [
            0x00, 0x00, 0x86, 0x05, 0x80, 0xda, 0x00, 0x60, 0x97, 0x07, 0x79, 0xea, 0x86, 0xdd,
            0x60, 0x00, 0xfe, 0x67, 0x00, 0x00, 0x00, 0x01, 0x01, 0x42, 0x42, 0x6a, 0xcd, 0x00,
            0x00, 0x00, 0x00, 0x8d, 0x9c, 0xe7, 0x55, 0x14, 0x00, 0x0f, 0xdb, 0xf4, 0x3e, 0x00,
            0x86, 0xdd, 0x60, 0x02, 0x62, 0x15, 0x29, 0x00, 0x36, 0x00, 0x00, 0x00, 0x00, 0x00,
            0x00, 0xc2, 0x04, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x0a, 0x00, 0x00, 0x00,
        ];
        for wire_len in [70, u32::MAX] {
            let _ = decode_frame(LinkType::Ethernet, &FRAME, wire_len);
        }
        let packet = Packet::new_checked(&FRAME[14..]).unwrap();
        assert_eq!(packet.jumbo_payload_len(), None);
    }
}
