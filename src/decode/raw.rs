//! Link types without a MAC layer: raw IP (LINKTYPE_RAW and friends) and
//! BSD loopback (LINKTYPE_NULL).
//!
//! Raw IP has no header at all; the IP version nibble says what follows.
//! BSD loopback prefixes each packet with the sender's `AF_*` address
//! family as a 4-byte integer in the capturing host's byte order, so both
//! byte orders are accepted. Neither carries a MAC, so the frame's identity
//! is its IP address (see the design's accounting rules).

use super::ethernet::ethertype;
use super::{read_array, read_u8, tail, DecodeError, Decoded, Layer, LinkInfo, Network};

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
pub(super) fn decode_raw_ip(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
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
        network: super::decode_network(ethertype, data)?,
    })
}

/// Decodes a BSD loopback frame. A family other than IPv4/IPv6 has no
/// EtherType and is reported as `Network::Other { ethertype: 0 }`.
pub(super) fn decode_null(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let header = NullHeader::new_checked(data)?;
    let network = match header.ethertype() {
        Some(ethertype) => super::decode_network(ethertype, header.payload())?,
        None => Network::Other { ethertype: 0 },
    };
    Ok(Decoded {
        link: LinkInfo::default(),
        network,
    })
}
