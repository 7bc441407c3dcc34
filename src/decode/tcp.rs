//! TCP headers (RFC 9293): the ports and flags lanwatch keys flows on.
//!
//! Only the fixed 20 bytes are needed for that, so a header whose options
//! alone were cut off by the snaplen still decodes (with an empty payload).
//! A data offset below 5 words, or one reaching past the segment the IP
//! header declares, is a broken header: the caller treats it as opaque.

use super::{read_u16, read_u32, read_u8, tail, DecodeError, Layer, TcpFlags, Transport};

mod field {
    use crate::decode::Field;

    pub const SRC_PORT: Field = 0..2;
    pub const DST_PORT: Field = 2..4;
    pub const SEQ_NUM: Field = 4..8;
    pub const ACK_NUM: Field = 8..12;
    /// Data offset in 32-bit words (high 4 bits).
    pub const DATA_OFFSET: usize = 12;
    /// CWR, ECE, URG, ACK, PSH, RST, SYN, FIN.
    pub const FLAGS: usize = 13;
    pub const WIN_SIZE: Field = 14..16;
    pub const CHECKSUM: Field = 16..18;
    pub const URGENT: Field = 18..20;
    pub const OPTIONS: usize = 20;
}

/// Length of the fixed header.
pub const MIN_HEADER_LEN: usize = field::OPTIONS;

/// A read-only view of a TCP segment whose fixed header was captured and
/// whose data offset is consistent with the IP length.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    /// `buffer` is the captured segment, `declared` its length according
    /// to the IP header (at least `buffer.len()`).
    pub fn new_checked(buffer: &'a [u8], declared: usize) -> Result<Packet<'a>, DecodeError> {
        if declared < MIN_HEADER_LEN {
            return Err(DecodeError::Malformed(
                Layer::Tcp,
                "segment shorter than a TCP header",
            ));
        }
        if buffer.len() < MIN_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Tcp));
        }
        let packet = Packet { buffer };
        if packet.header_len() < MIN_HEADER_LEN {
            return Err(DecodeError::Malformed(
                Layer::Tcp,
                "data offset below 5 words",
            ));
        }
        if packet.header_len() > declared {
            return Err(DecodeError::Malformed(
                Layer::Tcp,
                "data offset past the end of the segment",
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

    #[inline]
    pub fn seq_number(&self) -> u32 {
        read_u32(self.buffer, field::SEQ_NUM)
    }

    #[inline]
    pub fn ack_number(&self) -> u32 {
        read_u32(self.buffer, field::ACK_NUM)
    }

    /// The header length in bytes, options included (20..=60).
    #[inline]
    pub fn header_len(&self) -> usize {
        usize::from(read_u8(self.buffer, field::DATA_OFFSET) >> 4) * 4
    }

    #[inline]
    pub fn flags(&self) -> TcpFlags {
        TcpFlags(read_u8(self.buffer, field::FLAGS))
    }

    #[inline]
    pub fn window_len(&self) -> u16 {
        read_u16(self.buffer, field::WIN_SIZE)
    }

    #[inline]
    pub fn checksum(&self) -> u16 {
        read_u16(self.buffer, field::CHECKSUM)
    }

    #[inline]
    pub fn urgent_at(&self) -> u16 {
        read_u16(self.buffer, field::URGENT)
    }

    /// What lanwatch needs of the header.
    #[inline]
    pub fn transport(&self) -> Transport {
        Transport::Tcp {
            src_port: self.src_port(),
            dst_port: self.dst_port(),
            flags: self.flags(),
        }
    }

    /// The captured data after the header and its options; empty if the
    /// snaplen cut into the options.
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, self.header_len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ndpi/443-git.pcap frame 1: 192.168.1.13 → 140.82.114.4 TCP 78 55744 → 443 [SYN] Seq=0 Win=65535 Len=0 MSS=1460 WS=32 TSval=510286784 TSecr=0 SACK_PERM
    static TCP_SYN_WITH_OPTIONS: [u8; 78] = [
        0x10, 0x13, 0x31, 0xf1, 0x39, 0x76, 0x28, 0x37, 0x37, 0x00, 0x6d, 0xc8, 0x08, 0x00, 0x45,
        0x00, 0x00, 0x40, 0x00, 0x00, 0x40, 0x00, 0x40, 0x06, 0x7a, 0xac, 0xc0, 0xa8, 0x01, 0x0d,
        0x8c, 0x52, 0x72, 0x04, 0xd9, 0xc0, 0x01, 0xbb, 0xf4, 0xfe, 0x9e, 0x7f, 0x00, 0x00, 0x00,
        0x00, 0xb0, 0x02, 0xff, 0xff, 0x8d, 0xcc, 0x00, 0x00, 0x02, 0x04, 0x05, 0xb4, 0x01, 0x03,
        0x03, 0x05, 0x01, 0x01, 0x08, 0x0a, 0x1e, 0x6a, 0x5b, 0xc0, 0x00, 0x00, 0x00, 0x00, 0x04,
        0x02, 0x00, 0x00,
    ];

    /// The TCP segment: after 14 bytes of Ethernet and 20 of IPv4.
    fn segment() -> &'static [u8] {
        &TCP_SYN_WITH_OPTIONS[34..]
    }

    #[test]
    fn view_reads_the_fixed_header() {
        let tcp = Packet::new_checked(segment(), 44).unwrap();
        assert_eq!(tcp.src_port(), 55744);
        assert_eq!(tcp.dst_port(), 443);
        assert_eq!(tcp.seq_number(), 4_110_327_423);
        assert_eq!(tcp.ack_number(), 0);
        assert_eq!(tcp.header_len(), 44);
        assert_eq!(tcp.flags(), TcpFlags(TcpFlags::SYN));
        assert_eq!(tcp.window_len(), 65535);
        assert_eq!(tcp.checksum(), 0x8dcc);
        assert_eq!(tcp.urgent_at(), 0);
        assert!(tcp.payload().is_empty());
    }

    #[test]
    fn options_cut_by_the_snaplen_keep_ports_and_flags() {
        let tcp = Packet::new_checked(&segment()[..30], 44).unwrap();
        assert_eq!(
            tcp.transport(),
            Transport::Tcp {
                src_port: 55744,
                dst_port: 443,
                flags: TcpFlags(TcpFlags::SYN)
            }
        );
        assert!(tcp.payload().is_empty());
    }

    #[test]
    fn fixed_header_cut_by_the_snaplen_is_truncated() {
        assert_eq!(
            Packet::new_checked(&segment()[..19], 44).unwrap_err(),
            DecodeError::Truncated(Layer::Tcp)
        );
    }

    #[test]
    fn segment_shorter_than_a_header_is_malformed() {
        assert!(matches!(
            Packet::new_checked(&segment()[..16], 16),
            Err(DecodeError::Malformed(Layer::Tcp, _))
        ));
    }

    #[test]
    fn data_offset_below_five_is_malformed() {
        let mut bad = segment().to_vec();
        bad[12] = 0x40;
        assert_eq!(
            Packet::new_checked(&bad, 44).unwrap_err(),
            DecodeError::Malformed(Layer::Tcp, "data offset below 5 words")
        );
    }

    #[test]
    fn data_offset_past_the_segment_is_malformed() {
        assert_eq!(
            Packet::new_checked(segment(), 40).unwrap_err(),
            DecodeError::Malformed(Layer::Tcp, "data offset past the end of the segment")
        );
    }
}
