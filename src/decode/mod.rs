//! Frame decoding: zero-copy views from the link layer up to L4.
//!
//! `decode_frame` is the single entry point of the hot path. It never
//! allocates, never panics and never reads past the captured bytes; a frame
//! cut short by the snaplen still reports the IP header's length fields so it
//! can be accounted in full.

pub mod dhcp;
pub mod dns;
pub mod tls;

use std::fmt;
use std::net::IpAddr;

/// How a captured frame is framed at the link layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LinkType {
    /// Ethernet II (with optional 802.1Q / 802.1ad tags).
    Ethernet,
    /// Linux "cooked" capture, version 1 (LINKTYPE_LINUX_SLL, 113).
    LinuxSll,
    /// Linux "cooked" capture, version 2 (LINKTYPE_LINUX_SLL2, 276).
    LinuxSll2,
    /// Raw IPv4 or IPv6, no link header (LINKTYPE_RAW 101, DLT_RAW 12/14, 228, 229).
    RawIp,
    /// BSD loopback: a 4-byte address family in host byte order (LINKTYPE_NULL, 0).
    Null,
}

impl LinkType {
    /// Maps a pcap/pcapng link-type number to the framings lanwatch decodes.
    pub fn from_pcap(linktype: u32) -> Option<LinkType> {
        match linktype {
            1 => Some(LinkType::Ethernet),
            113 => Some(LinkType::LinuxSll),
            276 => Some(LinkType::LinuxSll2),
            12 | 14 | 101 | 228 | 229 => Some(LinkType::RawIp),
            0 => Some(LinkType::Null),
            _ => None,
        }
    }
}

/// An Ethernet MAC address.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Mac(pub [u8; 6]);

impl Mac {
    pub const BROADCAST: Mac = Mac([0xff; 6]);

    /// Group (multicast or broadcast) addresses have the I/G bit set.
    pub fn is_group(&self) -> bool {
        self.0[0] & 0x01 != 0
    }

    /// Locally administered addresses (U/L bit) are what phones use as
    /// "private" / randomized Wi-Fi addresses.
    pub fn is_locally_administered(&self) -> bool {
        self.0[0] & 0x02 != 0
    }

    pub fn is_zero(&self) -> bool {
        self.0 == [0; 6]
    }
}

impl fmt::Display for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let m = self.0;
        write!(
            f,
            "{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}",
            m[0], m[1], m[2], m[3], m[4], m[5]
        )
    }
}

impl fmt::Debug for Mac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl std::str::FromStr for Mac {
    type Err = String;

    /// Parses `aa:bb:cc:dd:ee:ff` (or with `-` separators).
    fn from_str(s: &str) -> Result<Mac, String> {
        let mut out = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in out.iter_mut() {
            let part = parts
                .next()
                .ok_or_else(|| format!("MAC address {s:?} has fewer than 6 octets"))?;
            if part.len() != 2 {
                return Err(format!(
                    "MAC address {s:?}: octet {part:?} is not two hex digits"
                ));
            }
            *byte = u8::from_str_radix(part, 16)
                .map_err(|_| format!("MAC address {s:?}: octet {part:?} is not hex"))?;
        }
        if parts.next().is_some() {
            return Err(format!("MAC address {s:?} has more than 6 octets"));
        }
        Ok(Mac(out))
    }
}

/// What the link layer said about a frame.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct LinkInfo {
    /// Sender's MAC, where the framing carries one (not raw IP or NULL).
    pub src_mac: Option<Mac>,
    /// Receiver's MAC, where the framing carries one (Ethernet only).
    pub dst_mac: Option<Mac>,
    /// Innermost 802.1Q VLAN ID, if the frame was tagged.
    pub vlan: Option<u16>,
    /// Number of VLAN tags that were stripped (0, 1 for 802.1Q, 2 for QinQ ...).
    pub vlan_depth: u8,
    /// The frame was sent by the capturing host (Linux cooked "outgoing").
    pub outgoing: bool,
}

/// A fragment's place in its datagram.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Fragment {
    /// Not fragmented.
    Whole,
    /// First fragment (offset 0, more fragments): carries the L4 header.
    First { id: u32 },
    /// A later fragment: no L4 header, must be matched to the first by id.
    Later { id: u32 },
}

/// TCP flags, as the raw flag byte.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags(pub u8);

impl TcpFlags {
    pub const FIN: u8 = 0x01;
    pub const SYN: u8 = 0x02;
    pub const RST: u8 = 0x04;
    pub const PSH: u8 = 0x08;
    pub const ACK: u8 = 0x10;

    pub fn fin(self) -> bool {
        self.0 & Self::FIN != 0
    }
    pub fn syn(self) -> bool {
        self.0 & Self::SYN != 0
    }
    pub fn rst(self) -> bool {
        self.0 & Self::RST != 0
    }
    pub fn ack(self) -> bool {
        self.0 & Self::ACK != 0
    }
}

/// The transport header, as far as lanwatch needs it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Tcp {
        src_port: u16,
        dst_port: u16,
        flags: TcpFlags,
    },
    Udp {
        src_port: u16,
        dst_port: u16,
    },
    /// ICMP (v4) type and code.
    Icmp {
        icmp_type: u8,
        code: u8,
    },
    /// ICMPv6 type and code.
    Icmpv6 {
        icmp_type: u8,
        code: u8,
    },
    /// No usable transport header: a later fragment, an unknown protocol,
    /// or a header cut off by the snaplen.
    Opaque,
}

/// An IP packet's meaning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpPacket<'a> {
    pub src: IpAddr,
    pub dst: IpAddr,
    /// IP-layer length from the header (IPv4 total length, IPv6 40 +
    /// payload length): what is accounted, whatever was captured.
    pub ip_len: u32,
    /// The upper-layer protocol number (after IPv6 extension headers).
    pub protocol: u8,
    pub fragment: Fragment,
    pub transport: Transport,
    /// The L4 payload that was captured (may be shorter than on the wire).
    pub payload: &'a [u8],
}

/// An ARP packet (Ethernet/IPv4), used to learn IP ↔ MAC bindings.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArpPacket {
    pub operation: u16,
    pub sender_mac: Mac,
    pub sender_ip: std::net::Ipv4Addr,
    pub target_mac: Mac,
    pub target_ip: std::net::Ipv4Addr,
}

/// What the network layer of a frame carries.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Network<'a> {
    Ip(IpPacket<'a>),
    Arp(ArpPacket),
    /// Any other EtherType (LLDP, EAPOL, ...): not IP, not accounted.
    Other {
        ethertype: u16,
    },
}

/// A decoded frame: link information plus the network layer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Decoded<'a> {
    pub link: LinkInfo,
    pub network: Network<'a>,
}

/// Which layer a decoding error was found in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Layer {
    Link,
    Vlan,
    Pppoe,
    Arp,
    Ipv4,
    Ipv6,
    Tcp,
    Udp,
    Icmp,
}

/// Why a frame could not be decoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The captured bytes end before a header that must be there.
    #[error("{0:?} header truncated")]
    Truncated(Layer),
    /// A header field holds an impossible value.
    #[error("{0:?} header malformed: {1}")]
    Malformed(Layer, &'static str),
}

/// Decodes one captured frame. Never allocates, never panics.
pub fn decode_frame(link: LinkType, data: &[u8]) -> Result<Decoded<'_>, DecodeError> {
    let _ = (link, data);
    Err(DecodeError::Truncated(Layer::Link))
}

impl serde::Serialize for Mac {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}
