//! IPv6 neighbour discovery (RFC 4861 §4.3, §4.4): the neighbour
//! solicitation and advertisement bodies and their link-layer address
//! options — how lanwatch learns IPv6 address ↔ MAC bindings.
//!
//! The view wraps an ICMPv6 message *body*: what [`super::IpPacket`] hands
//! out as the payload of an ICMPv6 packet, after type, code and checksum
//! (the type comes from [`super::Transport::Icmpv6`]). Solicitations and
//! advertisements share the body's layout: 4 bytes (reserved, or the R/S/O
//! flags of an advertisement), the 16-byte target address, then options,
//! each a type byte, a length in units of 8 bytes (0 is invalid) and data.
//!
//! - A solicitation's *source* link-layer address option (1) is the MAC of
//!   the packet's source address (absent when the source is `::`, during
//!   duplicate address detection).
//! - An advertisement's *target* link-layer address option (2) is the MAC
//!   of its target address.

use std::net::Ipv6Addr;

use super::{read_array, read_u8, Mac};

mod field {
    use crate::decode::Field;

    /// Reserved, or the advertisement's flags in the top three bits.
    pub const FLAGS: usize = 0;
    pub const TARGET: Field = 4..20;
    pub const OPTIONS: usize = 20;

    /// Within an option.
    pub const OPT_TYPE: usize = 0;
    pub const OPT_LEN: usize = 1;
    pub const OPT_DATA: usize = 2;
}

/// ICMPv6 types of the two neighbour messages.
pub mod icmp_type {
    pub const NEIGHBOR_SOLICIT: u8 = 135;
    pub const NEIGHBOR_ADVERT: u8 = 136;
}

/// Option types used here.
pub mod option {
    pub const SOURCE_LINK_ADDR: u8 = 1;
    pub const TARGET_LINK_ADDR: u8 = 2;
}

/// Advertisement flags (first byte of the body).
pub mod flag {
    pub const ROUTER: u8 = 0x80;
    pub const SOLICITED: u8 = 0x40;
    pub const OVERRIDE: u8 = 0x20;
}

/// Which neighbour message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NdpKind {
    Solicitation,
    Advertisement,
}

/// Why a body is not a usable neighbour message.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NdpError {
    #[error("ICMPv6 type {0} is not a neighbour solicitation or advertisement")]
    NotNeighborMessage(u8),
    #[error("neighbour message truncated: {len} bytes, the target ends at 20")]
    Truncated { len: usize },
    #[error("neighbour discovery option at offset {offset} has a bad length")]
    BadOption { offset: usize },
}

/// A read-only view of a neighbour solicitation or advertisement body.
#[derive(Clone, Copy, Debug)]
pub struct Packet<'a> {
    kind: NdpKind,
    buffer: &'a [u8],
}

impl<'a> Packet<'a> {
    /// `icmp_type` from the ICMPv6 header, `body` what follows its first
    /// four bytes. The fixed part (flags and target) must be there.
    pub fn new_checked(icmp_type: u8, body: &'a [u8]) -> Result<Packet<'a>, NdpError> {
        let kind = match icmp_type {
            icmp_type::NEIGHBOR_SOLICIT => NdpKind::Solicitation,
            icmp_type::NEIGHBOR_ADVERT => NdpKind::Advertisement,
            other => return Err(NdpError::NotNeighborMessage(other)),
        };
        if body.len() < field::OPTIONS {
            return Err(NdpError::Truncated { len: body.len() });
        }
        Ok(Packet { kind, buffer: body })
    }

    #[inline]
    pub fn kind(&self) -> NdpKind {
        self.kind
    }

    /// The advertisement flags (R, S, O); zero for a solicitation.
    #[inline]
    pub fn flags(&self) -> u8 {
        match self.kind {
            NdpKind::Advertisement => read_u8(self.buffer, field::FLAGS) & 0xe0,
            NdpKind::Solicitation => 0,
        }
    }

    #[inline]
    pub fn target(&self) -> Ipv6Addr {
        Ipv6Addr::from(read_array::<16>(self.buffer, field::TARGET))
    }

    /// The options; a zero or overlong length ends the walk with an error.
    pub fn options(&self) -> Options<'a> {
        Options {
            buffer: self.buffer,
            pos: field::OPTIONS,
            done: false,
        }
    }

    /// The Ethernet address in the first option of type `code` whose data
    /// is one (an option of length 1: 6 bytes of address).
    pub fn link_layer_option(&self, code: u8) -> Option<Mac> {
        self.options()
            .map_while(Result::ok)
            .find(|o| o.code == code)
            .and_then(|o| Some(Mac(o.data.get(..6)?.try_into().ok()?)))
    }

    /// The meaning: which message, its target and the link-layer address
    /// the message gives (source for a solicitation, target for an
    /// advertisement).
    pub fn repr(&self) -> NdpRepr {
        let code = match self.kind {
            NdpKind::Solicitation => option::SOURCE_LINK_ADDR,
            NdpKind::Advertisement => option::TARGET_LINK_ADDR,
        };
        NdpRepr {
            kind: self.kind,
            target: self.target(),
            flags: self.flags(),
            link_layer: self.link_layer_option(code),
        }
    }
}

/// One option: its type and data (after the two header bytes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdpOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
}

/// The options of a neighbour message.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    buffer: &'a [u8],
    pos: usize,
    done: bool,
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<NdpOption<'a>, NdpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.buffer.len() {
            return None;
        }
        let start = self.pos;
        let code = read_u8(self.buffer, start.saturating_add(field::OPT_TYPE));
        let units = self
            .buffer
            .get(start.saturating_add(field::OPT_LEN))
            .copied();
        let end = start.saturating_add(usize::from(units.unwrap_or(0)).saturating_mul(8));
        match (
            units,
            self.buffer.get(start.saturating_add(field::OPT_DATA)..end),
        ) {
            (Some(u), Some(data)) if u > 0 => {
                self.pos = end;
                Some(Ok(NdpOption { code, data }))
            }
            _ => {
                self.done = true;
                Some(Err(NdpError::BadOption { offset: start }))
            }
        }
    }
}

/// What a neighbour message says.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NdpRepr {
    pub kind: NdpKind,
    pub target: Ipv6Addr,
    /// Advertisement flags ([`flag`]); zero for a solicitation.
    pub flags: u8,
    /// Source link-layer address (solicitation) or target link-layer
    /// address (advertisement), when the message carries one.
    pub link_layer: Option<Mac>,
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `arkime/v6.pcap` frame 3: fe80::200:86ff:fe05:80da solicits
    /// fe80::260:97ff:fe07:69ea, source link-layer address 00:00:86:05:80:da
    /// (ICMPv6 body after type 135, code 0, checksum 0x68bd).
    static SOLICIT: [u8; 28] = [
        0x00, 0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x60, 0x97,
        0xff, 0xfe, 0x07, 0x69, 0xea, 0x01, 0x01, 0x00, 0x00, 0x86, 0x05, 0x80, 0xda,
    ];

    /// Frame 139: 3ffe:507:0:1:260:97ff:fe07:69ea advertises itself with
    /// flags R, S and O, target link-layer address 00:60:97:07:69:ea.
    static ADVERT: [u8; 28] = [
        0xe0, 0x00, 0x00, 0x00, 0x3f, 0xfe, 0x05, 0x07, 0x00, 0x00, 0x00, 0x01, 0x02, 0x60, 0x97,
        0xff, 0xfe, 0x07, 0x69, 0xea, 0x02, 0x01, 0x00, 0x60, 0x97, 0x07, 0x69, 0xea,
    ];

    /// Frame 4: a solicited advertisement without options (flags R and S).
    static ADVERT_NO_OPTION: [u8; 20] = [
        0xc0, 0x00, 0x00, 0x00, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x60, 0x97,
        0xff, 0xfe, 0x07, 0x69, 0xea,
    ];

    #[test]
    fn solicitation_gives_target_and_source_link_layer_address_as_tshark_shows() {
        let p = Packet::new_checked(135, &SOLICIT).unwrap();
        assert_eq!(
            p.repr(),
            NdpRepr {
                kind: NdpKind::Solicitation,
                target: "fe80::260:97ff:fe07:69ea".parse().unwrap(),
                flags: 0,
                link_layer: Some("00:00:86:05:80:da".parse().unwrap()),
            }
        );
        // A solicitation has no target link-layer address.
        assert_eq!(p.link_layer_option(option::TARGET_LINK_ADDR), None);
    }

    #[test]
    fn advertisement_gives_target_flags_and_target_link_layer_address() {
        let p = Packet::new_checked(136, &ADVERT).unwrap();
        let r = p.repr();
        assert_eq!(r.kind, NdpKind::Advertisement);
        assert_eq!(
            r.target,
            "3ffe:507:0:1:260:97ff:fe07:69ea"
                .parse::<Ipv6Addr>()
                .unwrap()
        );
        assert_eq!(r.flags, flag::ROUTER | flag::SOLICITED | flag::OVERRIDE);
        assert_eq!(r.link_layer, Some("00:60:97:07:69:ea".parse().unwrap()));
    }

    #[test]
    fn advertisement_without_option_has_no_link_layer_address() {
        let p = Packet::new_checked(136, &ADVERT_NO_OPTION).unwrap();
        assert_eq!(p.repr().flags, flag::ROUTER | flag::SOLICITED);
        assert_eq!(p.repr().link_layer, None);
        assert_eq!(p.options().count(), 0);
    }

    #[test]
    fn other_types_and_short_bodies_are_rejected() {
        assert_eq!(
            Packet::new_checked(134, &SOLICIT).unwrap_err(),
            NdpError::NotNeighborMessage(134)
        );
        assert_eq!(
            Packet::new_checked(135, &SOLICIT[..19]).unwrap_err(),
            NdpError::Truncated { len: 19 }
        );
    }

    #[test]
    fn a_zero_or_overlong_option_length_ends_the_walk() {
        let mut body = SOLICIT.to_vec();
        body[21] = 0;
        let p = Packet::new_checked(135, &body).unwrap();
        assert_eq!(
            p.options().collect::<Vec<_>>(),
            [Err(NdpError::BadOption { offset: 20 })]
        );
        assert_eq!(p.repr().link_layer, None);
        body[21] = 2; // 16 bytes claimed, 8 present
        let p = Packet::new_checked(135, &body).unwrap();
        assert!(p.options().next().unwrap().is_err());
        // A nonce option (14) before the address option is skipped.
        let mut body = SOLICIT[..20].to_vec();
        body.extend_from_slice(&[14, 1, 1, 2, 3, 4, 5, 6]);
        body.extend_from_slice(&SOLICIT[20..]);
        let p = Packet::new_checked(135, &body).unwrap();
        assert_eq!(p.options().count(), 2);
        assert_eq!(
            p.repr().link_layer,
            Some("00:00:86:05:80:da".parse().unwrap())
        );
    }
}
