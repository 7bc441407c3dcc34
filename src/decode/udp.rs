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

#[cfg(test)]
mod tests {
    use super::*;

    /// ndpi/dns.pcap frame 2: 192.168.170.8 → 192.168.170.20 DNS 75 Standard query 0xbc1f AAAA www.example.com
    static DNS_QUERY: [u8; 75] = [
        0x00, 0xc0, 0x9f, 0x32, 0x41, 0x8c, 0x00, 0xe0, 0x18, 0xb1, 0x0c, 0xad, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x3d, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0x65, 0x42, 0xc0, 0xa8, 0xaa, 0x08,
        0xc0, 0xa8, 0xaa, 0x14, 0x80, 0x1b, 0x00, 0x35, 0x00, 0x29, 0x88, 0x61, 0xbc, 0x1f, 0x01,
        0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77, 0x77, 0x07, 0x65,
        0x78, 0x61, 0x6d, 0x70, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c, 0x00, 0x01,
    ];

    /// The UDP datagram: after 14 bytes of Ethernet and 20 of IPv4.
    fn datagram() -> &'static [u8] {
        &DNS_QUERY[34..]
    }

    #[test]
    fn view_reads_the_header() {
        let udp = Packet::new_checked(datagram(), 41, true).unwrap();
        assert_eq!(udp.src_port(), 32795);
        assert_eq!(udp.dst_port(), 53);
        assert_eq!(udp.length(), 41);
        assert_eq!(udp.checksum(), 0x8861);
        // The DNS query, ID 0xbc1f.
        assert_eq!(udp.payload().len(), 33);
        assert_eq!(&udp.payload()[..2], &[0xbc, 0x1f]);
    }

    #[test]
    fn payload_stops_at_the_udp_length() {
        let mut padded = datagram().to_vec();
        padded.extend_from_slice(&[0; 6]);
        let udp = Packet::new_checked(&padded, 47, true).unwrap();
        assert_eq!(udp.payload().len(), 33);
    }

    #[test]
    fn payload_stops_at_the_captured_bytes() {
        let udp = Packet::new_checked(&datagram()[..20], 41, true).unwrap();
        assert_eq!(udp.payload().len(), 12);
    }

    #[test]
    fn first_fragment_length_may_exceed_the_packet() {
        // The UDP length covers the whole datagram, not this fragment.
        let udp = Packet::new_checked(&datagram()[..24], 24, false).unwrap();
        assert_eq!(udp.payload().len(), 16);
    }

    #[test]
    fn length_past_the_ip_payload_is_malformed() {
        assert_eq!(
            Packet::new_checked(&datagram()[..24], 24, true).unwrap_err(),
            DecodeError::Malformed(Layer::Udp, "length past the end of the IP payload")
        );
    }

    #[test]
    fn length_below_eight_is_malformed() {
        let mut bad = datagram().to_vec();
        bad[4..6].copy_from_slice(&7u16.to_be_bytes());
        assert_eq!(
            Packet::new_checked(&bad, 41, true).unwrap_err(),
            DecodeError::Malformed(Layer::Udp, "length below 8")
        );
    }

    #[test]
    fn header_cut_short_is_truncated_or_malformed() {
        assert_eq!(
            Packet::new_checked(&datagram()[..7], 41, true).unwrap_err(),
            DecodeError::Truncated(Layer::Udp)
        );
        assert!(matches!(
            Packet::new_checked(&datagram()[..7], 7, true),
            Err(DecodeError::Malformed(Layer::Udp, _))
        ));
    }
}
