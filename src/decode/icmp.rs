//! ICMP (RFC 792) and ICMPv6 (RFC 4443) message headers: type and code.
//!
//! Both share the layout of their first four bytes — type, code, checksum —
//! and RFC 4443 calls everything after them the message body, so that is
//! the payload here (echo identifiers, neighbour discovery targets and
//! options, quoted packets of error messages).

use super::{read_u16, read_u8, tail, DecodeError, Layer, Transport};

mod field {
    use crate::decode::Field;

    pub const TYPE: usize = 0;
    pub const CODE: usize = 1;
    pub const CHECKSUM: Field = 2..4;
    pub const BODY: usize = 4;
}

/// Length of the common header.
pub const HEADER_LEN: usize = field::BODY;

/// A read-only view of an ICMP or ICMPv6 message.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    /// `buffer` is the captured message, `declared` its length according
    /// to the IP header (at least `buffer.len()`).
    pub fn new_checked(buffer: &'a [u8], declared: usize) -> Result<Packet<'a>, DecodeError> {
        if declared < HEADER_LEN {
            return Err(DecodeError::Malformed(
                Layer::Icmp,
                "message shorter than an ICMP header",
            ));
        }
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Icmp));
        }
        Ok(Packet { buffer })
    }

    #[inline]
    pub fn msg_type(&self) -> u8 {
        read_u8(self.buffer, field::TYPE)
    }

    #[inline]
    pub fn msg_code(&self) -> u8 {
        read_u8(self.buffer, field::CODE)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer, field::CHECKSUM)
    }

    /// What lanwatch needs of an ICMP (v4) header.
    #[inline]
    pub fn transport_v4(&self) -> Transport {
        Transport::Icmp {
            icmp_type: self.msg_type(),
            code: self.msg_code(),
        }
    }

    /// What lanwatch needs of an ICMPv6 header.
    #[inline]
    pub fn transport_v6(&self) -> Transport {
        Transport::Icmpv6 {
            icmp_type: self.msg_type(),
            code: self.msg_code(),
        }
    }

    /// The captured message body after type, code and checksum.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, field::BODY)
    }
}
