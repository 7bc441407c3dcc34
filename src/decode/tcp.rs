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
