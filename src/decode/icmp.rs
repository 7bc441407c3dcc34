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

#[cfg(test)]
mod tests {
    use super::*;

    /// arkime/bigendian.pcap frame 1: 192.168.177.160 → 10.64.11.49 ICMP 98 Echo (ping) request id=0x43a8, seq=0/0, ttl=255
    static ICMP_ECHO_REQUEST: [u8; 98] = [
        0x00, 0x00, 0x5e, 0x00, 0x01, 0xb1, 0x00, 0x21, 0x28, 0x05, 0x29, 0xba, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x54, 0x30, 0xa7, 0x00, 0x00, 0xff, 0x01, 0x03, 0x48, 0xc0, 0xa8, 0xb1, 0xa0,
        0x0a, 0x40, 0x0b, 0x31, 0x08, 0x00, 0x0a, 0xfb, 0x43, 0xa8, 0x00, 0x00, 0x4f, 0xa1, 0x1b,
        0x29, 0x00, 0x02, 0x53, 0x8d, 0x08, 0x09, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x10, 0x11,
        0x12, 0x13, 0x14, 0x15, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f, 0x20,
        0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f,
        0x30, 0x31, 0x32, 0x33, 0x34, 0x35, 0x36, 0x37,
    ];

    /// The ICMP message: after 14 bytes of Ethernet and 20 of IPv4.
    fn message() -> &'static [u8] {
        &ICMP_ECHO_REQUEST[34..]
    }

    #[test]
    fn view_reads_type_code_and_checksum() {
        let icmp = Packet::new_checked(message(), 64).unwrap();
        assert_eq!(icmp.msg_type(), 8);
        assert_eq!(icmp.msg_code(), 0);
        assert_eq!(icmp.checksum(), 0x0afb);
        assert_eq!(
            icmp.transport_v4(),
            Transport::Icmp {
                icmp_type: 8,
                code: 0
            }
        );
        assert_eq!(
            icmp.transport_v6(),
            Transport::Icmpv6 {
                icmp_type: 8,
                code: 0
            }
        );
    }

    #[test]
    fn body_starts_after_the_checksum() {
        let icmp = Packet::new_checked(message(), 64).unwrap();
        // Echo identifier 0x43a8, sequence 0.
        assert_eq!(&icmp.payload()[..4], &[0x43, 0xa8, 0x00, 0x00]);
        assert_eq!(icmp.payload().len(), 60);
    }

    #[test]
    fn header_cut_short_is_truncated_or_malformed() {
        assert_eq!(
            Packet::new_checked(&message()[..3], 64).unwrap_err(),
            DecodeError::Truncated(Layer::Icmp)
        );
        assert!(matches!(
            Packet::new_checked(&message()[..3], 3),
            Err(DecodeError::Malformed(Layer::Icmp, _))
        ));
    }
}
