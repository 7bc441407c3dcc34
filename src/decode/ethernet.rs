//! Ethernet II frames, the VLAN tags stacked after them (802.1Q, 802.1ad,
//! the pre-standard 0x9100) and PPPoE session frames.
//!
//! A router sees tagged frames on trunk ports and QinQ on provider links,
//! and PPPoE on its WAN side, so all three are peeled here until an
//! EtherType that names a network protocol is left. The tag walk is bounded
//! ([`MAX_VLAN_DEPTH`]) so a frame of nothing but tags cannot keep it busy.
//! Linux cooked captures reuse the same walk: libpcap puts the tags the
//! kernel had moved into metadata back after the cooked header.

use super::{read_array, read_u16, read_u8, tail, DecodeError, Decoded, Layer, LinkInfo, Mac};

/// EtherType values lanwatch dispatches on.
pub mod ethertype {
    pub const IPV4: u16 = 0x0800;
    pub const ARP: u16 = 0x0806;
    /// IEEE 802.1Q customer tag.
    pub const VLAN: u16 = 0x8100;
    pub const IPV6: u16 = 0x86dd;
    pub const PPPOE_DISCOVERY: u16 = 0x8863;
    pub const PPPOE_SESSION: u16 = 0x8864;
    /// IEEE 802.1ad service tag (QinQ outer tag).
    pub const SERVICE_VLAN: u16 = 0x88a8;
    /// Pre-standard QinQ outer tag still used by some switches.
    pub const QINQ_LEGACY: u16 = 0x9100;
}

/// More stacked VLAN tags than this make the frame malformed (QinQ uses
/// two; nothing real uses more than a handful).
pub const MAX_VLAN_DEPTH: u8 = 8;

mod field {
    use crate::decode::Field;

    pub const DESTINATION: Field = 0..6;
    pub const SOURCE: Field = 6..12;
    pub const ETHERTYPE: Field = 12..14;
    pub const PAYLOAD: usize = 14;
}

/// Length of an Ethernet II header (without tags).
pub const HEADER_LEN: usize = field::PAYLOAD;

/// A read-only view of an Ethernet II frame (without the FCS, which
/// captures do not carry).
#[derive(Clone, Copy, Debug)]
pub struct Frame<'a> {
    buffer: &'a [u8],
}

impl<'a> Frame<'a> {
    /// Wraps a buffer holding at least the 14-byte header.
    pub fn new_checked(buffer: &'a [u8]) -> Result<Frame<'a>, DecodeError> {
        if buffer.len() < HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Link));
        }
        Ok(Frame { buffer })
    }

    #[inline]
    pub fn dst_addr(&self) -> Mac {
        Mac(read_array(self.buffer, field::DESTINATION))
    }

    #[inline]
    pub fn src_addr(&self) -> Mac {
        Mac(read_array(self.buffer, field::SOURCE))
    }

    /// The EtherType (or, below 0x0600, an 802.3 length).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer, field::ETHERTYPE)
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, field::PAYLOAD)
    }
}

mod vlan_field {
    use crate::decode::Field;

    /// Tag control information: PCP (3 bits), DEI (1 bit), VID (12 bits).
    pub const TCI: Field = 0..2;
    pub const ETHERTYPE: Field = 2..4;
    pub const PAYLOAD: usize = 4;
}

/// Length of one VLAN tag after the EtherType that announced it.
pub const VLAN_TAG_LEN: usize = vlan_field::PAYLOAD;

/// A read-only view of one VLAN tag (the 4 bytes after 0x8100/0x88a8/0x9100).
#[derive(Clone, Copy, Debug)]
pub struct VlanTag<'a> {
    buffer: &'a [u8],
}

impl<'a> VlanTag<'a> {
    pub fn new_checked(buffer: &'a [u8]) -> Result<VlanTag<'a>, DecodeError> {
        if buffer.len() < VLAN_TAG_LEN {
            return Err(DecodeError::Truncated(Layer::Vlan));
        }
        Ok(VlanTag { buffer })
    }

    /// The VLAN identifier (0 for a priority-only tag).
    #[inline]
    pub fn vid(&self) -> u16 {
        read_u16(self.buffer, vlan_field::TCI) & 0x0fff
    }

    /// The priority code point.
    #[inline]
    pub fn pcp(&self) -> u8 {
        read_u8(self.buffer, vlan_field::TCI.start) >> 5
    }

    /// The EtherType of what follows the tag.
    #[inline]
    pub fn ethertype(&self) -> u16 {
        read_u16(self.buffer, vlan_field::ETHERTYPE)
    }

    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(self.buffer, vlan_field::PAYLOAD)
    }
}

mod pppoe_field {
    use crate::decode::Field;

    /// Version (4 bits, 1) and type (4 bits, 1).
    pub const VER_TYPE: usize = 0;
    /// 0 for session data.
    pub const CODE: usize = 1;
    pub const SESSION_ID: Field = 2..4;
    pub const LENGTH: Field = 4..6;
    /// The PPP protocol field: two bytes, or one when compressed (RFC 1661
    /// protocol field compression; the first byte of a full field is even).
    pub const PPP_PROTOCOL: usize = 6;
}

/// Length of the PPPoE session header, before the PPP protocol field.
pub const PPPOE_HEADER_LEN: usize = pppoe_field::PPP_PROTOCOL;

/// PPP protocol numbers carried in PPPoE sessions.
pub mod ppp_protocol {
    pub const IPV4: u16 = 0x0021;
    pub const IPV6: u16 = 0x0057;
}

/// A read-only view of a PPPoE session frame (RFC 2516) and the PPP
/// protocol field inside it.
#[derive(Clone, Copy, Debug)]
pub struct PppoeSession<'a> {
    buffer: &'a [u8],
    /// 1 or 2: the length of the (possibly compressed) PPP protocol field.
    protocol_len: usize,
}

impl<'a> PppoeSession<'a> {
    /// Wraps a buffer holding the 6-byte session header and the PPP
    /// protocol field; version/type must be 1/1 and the code 0 (session data).
    pub fn new_checked(buffer: &'a [u8]) -> Result<PppoeSession<'a>, DecodeError> {
        if buffer.len() <= PPPOE_HEADER_LEN {
            return Err(DecodeError::Truncated(Layer::Pppoe));
        }
        if read_u8(buffer, pppoe_field::VER_TYPE) != 0x11 {
            return Err(DecodeError::Malformed(
                Layer::Pppoe,
                "version/type is not 1/1",
            ));
        }
        if read_u8(buffer, pppoe_field::CODE) != 0 {
            return Err(DecodeError::Malformed(
                Layer::Pppoe,
                "session frame with a non-zero code",
            ));
        }
        let protocol_len = if read_u8(buffer, pppoe_field::PPP_PROTOCOL) & 1 == 1 {
            1
        } else {
            2
        };
        if buffer.len() < PPPOE_HEADER_LEN.saturating_add(protocol_len) {
            return Err(DecodeError::Truncated(Layer::Pppoe));
        }
        Ok(PppoeSession {
            buffer,
            protocol_len,
        })
    }

    #[inline]
    pub fn session_id(&self) -> u16 {
        read_u16(self.buffer, pppoe_field::SESSION_ID)
    }

    /// The PPPoE payload length (the PPP frame, protocol field included).
    #[inline]
    pub fn length(&self) -> u16 {
        read_u16(self.buffer, pppoe_field::LENGTH)
    }

    /// The PPP protocol number, expanded if it was compressed.
    #[inline]
    pub fn ppp_protocol(&self) -> u16 {
        let first = read_u8(self.buffer, pppoe_field::PPP_PROTOCOL);
        if self.protocol_len == 1 {
            u16::from(first)
        } else {
            let second = read_u8(self.buffer, pppoe_field::PPP_PROTOCOL.saturating_add(1));
            u16::from_be_bytes([first, second])
        }
    }

    /// The EtherType equivalent of the PPP protocol; PPPoE's own EtherType
    /// for anything that is not IP (LCP, IPCP, ...).
    #[inline]
    pub fn ethertype(&self) -> u16 {
        match self.ppp_protocol() {
            ppp_protocol::IPV4 => ethertype::IPV4,
            ppp_protocol::IPV6 => ethertype::IPV6,
            _ => ethertype::PPPOE_SESSION,
        }
    }

    /// The PPP payload (the IP packet for IPv4/IPv6).
    #[inline]
    pub fn payload(&self) -> &'a [u8] {
        tail(
            self.buffer,
            PPPOE_HEADER_LEN.saturating_add(self.protocol_len),
        )
    }
}

/// Decodes an Ethernet II frame and everything in it.
pub(super) fn decode(data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let frame = Frame::new_checked(data)?;
    let mut link = LinkInfo {
        src_mac: Some(frame.src_addr()),
        dst_mac: Some(frame.dst_addr()),
        ..LinkInfo::default()
    };
    let (ethertype, payload) = strip_encapsulation(frame.ethertype(), frame.payload(), &mut link)?;
    Ok(Decoded {
        link,
        network: super::decode_network(ethertype, payload)?,
    })
}

/// Peels VLAN tags and a PPPoE session header off a payload announced by
/// `ethertype`, recording the tags in `link`; returns the EtherType of the
/// network layer and its bytes.
pub(super) fn strip_encapsulation<'a>(
    mut ethertype: u16,
    mut payload: &'a [u8],
    link: &mut LinkInfo,
) -> Result<(u16, &'a [u8]), DecodeError> {
    loop {
        match ethertype {
            ethertype::VLAN | ethertype::SERVICE_VLAN | ethertype::QINQ_LEGACY => {
                if link.vlan_depth >= MAX_VLAN_DEPTH {
                    return Err(DecodeError::Malformed(
                        Layer::Vlan,
                        "more than 8 stacked VLAN tags",
                    ));
                }
                let tag = VlanTag::new_checked(payload)?;
                link.vlan = Some(tag.vid());
                link.vlan_depth = link.vlan_depth.saturating_add(1);
                ethertype = tag.ethertype();
                payload = tag.payload();
            }
            ethertype::PPPOE_SESSION => {
                let session = PppoeSession::new_checked(payload)?;
                return Ok((session.ethertype(), session.payload()));
            }
            _ => return Ok((ethertype, payload)),
        }
    }
}
