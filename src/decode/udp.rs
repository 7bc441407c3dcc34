//! UDP headers (RFC 768): ports, and the length that bounds the payload
//! handed to the DNS and DHCP parsers.
//!
//! A length field below 8, or (in an unfragmented packet) above what the IP
//! header declares, makes the header untrustworthy: the caller treats it as
//! opaque. In a first fragment the length covers the whole datagram, so it
//! is not held against this packet's size.

use super::{head, read_u16, tail, DecodeError, Layer, Transport};

mod field {
    use crate::decode::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    pub const CHECKSUM: Field = 6..8;
    pub const PAYLOAD: usize = 8;
}

/// Length of the header.
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of a UDP datagram whose header was captured and whose
/// length is consistent with the IP length.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
    whole: bool,
}

impl<'a> Packet<'a> {
    /// `buffer` is the captured datagram, `declared` its length according
    /// to the IP header (at least `buffer.len()`), `whole` false for the
    /// first fragment of a fragmented datagram.
    pub fn new_checked(
        buffer: &'a [u8],
        declared: usize,
        whole: bool,
    ) -> Result<Packet<'a>, DecodeError> {
        if declared < HEADER_LEN {
            return Err(DecodeError::Malformed(
                Layer::Udp,
                "datagram shorter than a UDP header",
            ));
        }
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Udp));
        }
        let packet = Packet { buffer, whole };
        let len = usize::from(packet.length());
        if len < HEADER_LEN {
            return Err(DecodeError::Malformed(Layer::Udp, "length below 8"));
        }
        if whole && len > declared {
            return Err(DecodeError::Malformed(
                Layer::Udp,
                "length past the end of the IP payload",
            ));
        }
        Ok(packet)
    }

    #[inline]
    pub fn src_port(&self) -> u16 {
        read_u16(self.buffer, field::SRC_PORT)
    }

    #[inline]
    pub fn dst_port(&self) -> u16 {
        read_u16(self.buffer, field::DST_PORT)
    }

    /// The length field: header and payload.
    #[inline]
    pub fn length(&self) -> u16 {
        read_u16(self.buffer, field::LENGTH)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer, field::CHECKSUM)
    }

    /// What lanwatch needs of the header.
    #[inline]
    pub fn transport(&self) -> Transport {
        Transport::Udp {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
        }
    }

    /// The captured payload, never past the UDP length of a whole datagram.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        let datagram = if self.whole {
            head(self.buffer, usize::from(self.length()))
        } else {
            self.buffer
        };
        tail(datagram, field::PAYLOAD)
    }
}
