//! DHCPv4 (RFC 2131/2132) and DHCPv6 (RFC 8415) messages: zero-copy views
//! of the options that say who a device is.
//!
//! lanwatch snoops DHCP to name clients: the host name (option 12), the
//! client FQDN (81; v6: 39), the vendor class (60; v6: 16), the parameter
//! request list (55, a fingerprint of the client's DHCP stack), the
//! requested and assigned addresses, and the client identifier / DUID. The
//! views never copy: every accessor walks the options once and returns a
//! slice of the packet. Option walks are bounded by the packet (each option
//! moves the cursor forward by at least one byte) and stop at the first
//! malformed option.
//!
//! DHCPv4 option overload (option 52) is honoured: after the options field
//! the walk continues in the `file` and then the `sname` field, as RFC 2131
//! §4.1 orders it. Long options split in several instances (RFC 3396) are
//! not concatenated; the first instance is returned.

use std::net::{Ipv4Addr, Ipv6Addr};

use super::dns::{DnsError, Name, NameBuf};
use super::{get_array, get_u16, read_array, read_u16, read_u32, read_u8, Field, Mac};

/// Byte ranges of the BOOTP fixed part (RFC 2131 §2, figure 1).
mod field {
    use super::Field;

    pub const OP: usize = 0;
    pub const HTYPE: usize = 1;
    pub const HLEN: usize = 2;
    pub const HOPS: usize = 3;
    pub const XID: Field = 4..8;
    pub const SECS: Field = 8..10;
    pub const FLAGS: Field = 10..12;
    pub const CIADDR: Field = 12..16;
    pub const YIADDR: Field = 16..20;
    pub const SIADDR: Field = 20..24;
    pub const GIADDR: Field = 24..28;
    pub const CHADDR: Field = 28..44;
    pub const SNAME: Field = 44..108;
    pub const FILE: Field = 108..236;
    pub const MAGIC: Field = 236..240;
    pub const OPTIONS: usize = 240;

    pub const MAGIC_COOKIE: [u8; 4] = [99, 130, 83, 99];

    /// DHCPv6 client/server message header (RFC 8415 §8).
    pub const V6_MSG_TYPE: usize = 0;
    pub const V6_XID: Field = 1..4;
    pub const V6_OPTIONS: usize = 4;
    /// DHCPv6 relay message header (RFC 8415 §9).
    pub const V6_HOP_COUNT: usize = 1;
    pub const V6_LINK_ADDRESS: Field = 2..18;
    pub const V6_PEER_ADDRESS: Field = 18..34;
    pub const V6_RELAY_OPTIONS: usize = 34;
}

/// DHCPv4 option codes used here.
pub mod option {
    pub const PAD: u8 = 0;
    pub const HOST_NAME: u8 = 12;
    pub const REQUESTED_IP: u8 = 50;
    pub const LEASE_TIME: u8 = 51;
    pub const OVERLOAD: u8 = 52;
    pub const MESSAGE_TYPE: u8 = 53;
    pub const SERVER_ID: u8 = 54;
    pub const PARAMETER_REQUEST_LIST: u8 = 55;
    pub const VENDOR_CLASS: u8 = 60;
    pub const CLIENT_ID: u8 = 61;
    pub const CLIENT_FQDN: u8 = 81;
    pub const END: u8 = 255;
}

/// DHCPv6 option codes used here.
pub mod option6 {
    pub const CLIENT_ID: u16 = 1;
    pub const SERVER_ID: u16 = 2;
    pub const IA_NA: u16 = 3;
    pub const IAADDR: u16 = 5;
    pub const RELAY_MSG: u16 = 9;
    pub const USER_CLASS: u16 = 15;
    pub const VENDOR_CLASS: u16 = 16;
    pub const CLIENT_FQDN: u16 = 39;
}

/// Why a DHCP message could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DhcpError {
    /// Shorter than the fixed part.
    #[error("DHCP message truncated: {len} bytes, the fixed part needs {need}")]
    Truncated { len: usize, need: usize },
    /// The four bytes after the BOOTP fixed part are not the DHCP cookie.
    #[error("BOOTP message without the DHCP magic cookie")]
    NoMagicCookie,
    /// An option's length runs past its field.
    #[error("DHCP option {code} at offset {offset} runs past the end")]
    OptionTruncated { code: u16, offset: usize },
}

#[inline]
fn ipv4(data: &[u8]) -> Option<Ipv4Addr> {
    let octets: [u8; 4] = data.try_into().ok()?;
    Some(Ipv4Addr::from(octets))
}

/// DHCP message type (option 53, RFC 2132 §9.6 and later RFCs).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    Discover,
    Offer,
    Request,
    Decline,
    Ack,
    Nak,
    Release,
    Inform,
    ForceRenew,
    LeaseQuery,
    LeaseUnassigned,
    LeaseUnknown,
    LeaseActive,
    Unknown(u8),
}

impl MessageType {
    pub fn from_u8(v: u8) -> MessageType {
        match v {
            1 => MessageType::Discover,
            2 => MessageType::Offer,
            3 => MessageType::Request,
            4 => MessageType::Decline,
            5 => MessageType::Ack,
            6 => MessageType::Nak,
            7 => MessageType::Release,
            8 => MessageType::Inform,
            9 => MessageType::ForceRenew,
            10 => MessageType::LeaseQuery,
            11 => MessageType::LeaseUnassigned,
            12 => MessageType::LeaseUnknown,
            13 => MessageType::LeaseActive,
            other => MessageType::Unknown(other),
        }
    }

    pub fn to_u8(self) -> u8 {
        match self {
            MessageType::Discover => 1,
            MessageType::Offer => 2,
            MessageType::Request => 3,
            MessageType::Decline => 4,
            MessageType::Ack => 5,
            MessageType::Nak => 6,
            MessageType::Release => 7,
            MessageType::Inform => 8,
            MessageType::ForceRenew => 9,
            MessageType::LeaseQuery => 10,
            MessageType::LeaseUnassigned => 11,
            MessageType::LeaseUnknown => 12,
            MessageType::LeaseActive => 13,
            MessageType::Unknown(v) => v,
        }
    }
}

/// One DHCPv4 option: its code and its data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DhcpOption<'a> {
    pub code: u8,
    pub data: &'a [u8],
}

/// A zero-copy view over a DHCPv4 message (BOOTP fixed part + cookie).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DhcpMessage<'a> {
    buf: &'a [u8],
}

impl<'a> DhcpMessage<'a> {
    /// Wraps a UDP payload: the 236-byte fixed part and the magic cookie
    /// must be there.
    pub fn new_checked(buf: &'a [u8]) -> Result<DhcpMessage<'a>, DhcpError> {
        if buf.len() < field::OPTIONS {
            return Err(DhcpError::Truncated {
                len: buf.len(),
                need: field::OPTIONS,
            });
        }
        if buf.get(field::MAGIC) != Some(&field::MAGIC_COOKIE[..]) {
            return Err(DhcpError::NoMagicCookie);
        }
        Ok(DhcpMessage { buf })
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    // The fixed part is there: the constructor checked it.
    fn byte(&self, at: usize) -> u8 {
        read_u8(self.buf, at)
    }

    fn addr(&self, f: Field) -> Ipv4Addr {
        Ipv4Addr::from(read_array::<4>(self.buf, f))
    }

    /// 1 = BOOTREQUEST (client), 2 = BOOTREPLY (server).
    pub fn op(&self) -> u8 {
        self.byte(field::OP)
    }

    pub fn htype(&self) -> u8 {
        self.byte(field::HTYPE)
    }

    pub fn hlen(&self) -> u8 {
        self.byte(field::HLEN)
    }

    pub fn hops(&self) -> u8 {
        self.byte(field::HOPS)
    }

    pub fn xid(&self) -> u32 {
        read_u32(self.buf, field::XID)
    }

    pub fn secs(&self) -> u16 {
        read_u16(self.buf, field::SECS)
    }

    pub fn flags(&self) -> u16 {
        read_u16(self.buf, field::FLAGS)
    }

    pub fn ciaddr(&self) -> Ipv4Addr {
        self.addr(field::CIADDR)
    }

    /// "Your" address: what the server assigns.
    pub fn yiaddr(&self) -> Ipv4Addr {
        self.addr(field::YIADDR)
    }

    pub fn siaddr(&self) -> Ipv4Addr {
        self.addr(field::SIADDR)
    }

    pub fn giaddr(&self) -> Ipv4Addr {
        self.addr(field::GIADDR)
    }

    /// The raw 16-byte client hardware address field.
    pub fn chaddr_raw(&self) -> &'a [u8] {
        self.buf.get(field::CHADDR).unwrap_or_default()
    }

    /// The client's MAC, when the hardware type is Ethernet (1) with 6-byte
    /// addresses.
    pub fn chaddr(&self) -> Option<Mac> {
        if self.htype() != 1 || self.hlen() != 6 {
            return None;
        }
        let start = field::CHADDR.start;
        get_array(self.buf, start..start.saturating_add(6)).map(Mac)
    }

    /// The options, from the options field then — if option 52 says so —
    /// from `file` and `sname`. Pad options are skipped; the walk ends at
    /// End, at the end of the data, or after reporting a truncated option.
    pub fn options(&self) -> Options<'a> {
        Options {
            buf: self.buf,
            pos: field::OPTIONS,
            end: self.buf.len(),
            area: Area::Options,
            overload: 0,
            done: false,
        }
    }

    /// The data of the first option `code`. A malformed option list ends
    /// the search (options after it are not trusted).
    pub fn option(&self, code: u8) -> Option<&'a [u8]> {
        self.options()
            .map_while(Result::ok)
            .find(|o| o.code == code)
            .map(|o| o.data)
    }

    /// Option 53.
    pub fn message_type(&self) -> Option<MessageType> {
        match self.option(option::MESSAGE_TYPE)? {
            [t] => Some(MessageType::from_u8(*t)),
            _ => None,
        }
    }

    /// Option 12, as sent (not necessarily UTF-8, may end in NULs).
    pub fn hostname(&self) -> Option<&'a [u8]> {
        self.option(option::HOST_NAME)
    }

    /// Option 81 (RFC 4702).
    pub fn client_fqdn(&self) -> Option<ClientFqdn<'a>> {
        let data = self.option(option::CLIENT_FQDN)?;
        let (&flags, rest) = data.split_first()?;
        // Two deprecated RCODE bytes follow the flags.
        let name = rest.get(2..)?;
        Some(ClientFqdn {
            flags,
            name: if flags & ClientFqdn::FLAG_E != 0 {
                FqdnName::Wire(name)
            } else {
                FqdnName::Ascii(name)
            },
        })
    }

    /// Option 60.
    pub fn vendor_class(&self) -> Option<&'a [u8]> {
        self.option(option::VENDOR_CLASS)
    }

    /// Option 55: the option codes the client asks for, in its order.
    pub fn parameter_request_list(&self) -> Option<&'a [u8]> {
        self.option(option::PARAMETER_REQUEST_LIST)
    }

    /// Option 50.
    pub fn requested_ip(&self) -> Option<Ipv4Addr> {
        ipv4(self.option(option::REQUESTED_IP)?)
    }

    /// Option 54.
    pub fn server_identifier(&self) -> Option<Ipv4Addr> {
        ipv4(self.option(option::SERVER_ID)?)
    }

    /// Option 51, in seconds.
    pub fn lease_time(&self) -> Option<u32> {
        let b: [u8; 4] = self.option(option::LEASE_TIME)?.try_into().ok()?;
        Some(u32::from_be_bytes(b))
    }

    /// Option 61: a type byte and an identifier.
    pub fn client_identifier(&self) -> Option<&'a [u8]> {
        self.option(option::CLIENT_ID)
    }

    /// The MAC inside option 61 when its type is Ethernet (1).
    pub fn client_identifier_mac(&self) -> Option<Mac> {
        match self.client_identifier()? {
            [1, mac @ ..] => Some(Mac(mac.try_into().ok()?)),
            _ => None,
        }
    }
}

impl std::fmt::Debug for DhcpMessage<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DhcpMessage")
            .field("op", &self.op())
            .field("xid", &format_args!("{:#010x}", self.xid()))
            .field("message_type", &self.message_type())
            .field("chaddr", &self.chaddr())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Area {
    Options,
    File,
    Sname,
}

/// The DHCPv4 options of a message; see [`DhcpMessage::options`].
#[derive(Clone, Debug)]
pub struct Options<'a> {
    buf: &'a [u8],
    pos: usize,
    end: usize,
    area: Area,
    overload: u8,
    done: bool,
}

impl Options<'_> {
    /// Moves to the next field option 52 asked for; false when none is left.
    fn next_area(&mut self) -> bool {
        let next = match self.area {
            Area::Options if self.overload & 1 != 0 => Some((Area::File, field::FILE)),
            Area::Options | Area::File if self.overload & 2 != 0 => {
                Some((Area::Sname, field::SNAME))
            }
            _ => None,
        };
        match next {
            Some((area, range)) => {
                self.area = area;
                self.pos = range.start;
                self.end = range.end.min(self.buf.len());
                true
            }
            None => false,
        }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<DhcpOption<'a>, DhcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let code = match self.buf.get(self.pos) {
                Some(&c) if self.pos < self.end => c,
                _ => option::END,
            };
            if code == option::END {
                if !self.next_area() {
                    self.done = true;
                }
                continue;
            }
            if code == option::PAD {
                self.pos = self.pos.saturating_add(1);
                continue;
            }
            let start = self.pos;
            let len = self.buf.get(start.saturating_add(1)).copied();
            let data_start = start.saturating_add(2);
            let data_end = data_start.saturating_add(usize::from(len.unwrap_or(0)));
            let data = match (len, self.buf.get(data_start..data_end)) {
                (Some(_), Some(d)) if data_end <= self.end => d,
                _ => {
                    self.done = true;
                    return Some(Err(DhcpError::OptionTruncated {
                        code: u16::from(code),
                        offset: start,
                    }));
                }
            };
            self.pos = data_end;
            if code == option::OVERLOAD && self.area == Area::Options {
                if let [v] = data {
                    self.overload = *v & 3;
                }
            }
            return Some(Ok(DhcpOption { code, data }));
        }
    }
}

/// The client FQDN option (v4: 81, RFC 4702; v6: 39, RFC 4704).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientFqdn<'a> {
    /// Flags: S (0x01) server should update A, O (0x02) server override,
    /// E (0x04) canonical wire encoding, N (0x08) no server update.
    pub flags: u8,
    pub name: FqdnName<'a>,
}

impl ClientFqdn<'_> {
    pub const FLAG_S: u8 = 0x01;
    pub const FLAG_O: u8 = 0x02;
    pub const FLAG_E: u8 = 0x04;
    pub const FLAG_N: u8 = 0x08;
}

/// The name of a client FQDN option, in the encoding its flags announce.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FqdnName<'a> {
    /// Deprecated ASCII form (v4 with E clear).
    Ascii(&'a [u8]),
    /// DNS wire format without compression; may be a partial name (no root
    /// label), which RFC 4702/4704 allow.
    Wire(&'a [u8]),
}

impl FqdnName<'_> {
    /// Writes the name lower-cased, without trailing dot, into `buf`;
    /// returns its length. Like [`Name::write_lower`].
    pub fn write_lower(&self, buf: &mut NameBuf) -> Result<usize, DnsError> {
        match *self {
            FqdnName::Ascii(text) => {
                let text = text.strip_suffix(b"\0").unwrap_or(text);
                let text = text.strip_suffix(b".").unwrap_or(text);
                let n = text.len().min(buf.len());
                for (o, i) in buf.iter_mut().zip(text.get(..n).unwrap_or_default()) {
                    *o = i.to_ascii_lowercase();
                }
                Ok(n)
            }
            FqdnName::Wire(wire) => {
                // A partial name has no root label: walk the labels up to
                // the end of the option.
                let mut pos = 0usize;
                let mut labels = 0usize;
                while let Some(&len) = wire.get(pos) {
                    if len == 0 {
                        break;
                    }
                    pos = pos.saturating_add(1).saturating_add(usize::from(len));
                    labels = labels.saturating_add(1);
                }
                if pos == wire.len() && wire.last() != Some(&0) && labels > 0 {
                    // Partial: render through a root-terminated copy on the stack.
                    let mut full = [0u8; 256];
                    let n = wire.len().min(255);
                    if let Some(dst) = full.get_mut(..n) {
                        dst.copy_from_slice(wire.get(..n).unwrap_or_default());
                    }
                    return Name::new_bounded(&full, 0, n.saturating_add(1)).write_lower(buf);
                }
                Name::new(wire, 0).write_lower(buf)
            }
        }
    }
}

/// DHCPv6 message types (RFC 8415 §7.3).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Dhcpv6MessageType {
    Solicit,
    Advertise,
    Request,
    Confirm,
    Renew,
    Rebind,
    Reply,
    Release,
    Decline,
    Reconfigure,
    InformationRequest,
    RelayForw,
    RelayRepl,
    Unknown(u8),
}

impl Dhcpv6MessageType {
    pub fn from_u8(v: u8) -> Dhcpv6MessageType {
        use Dhcpv6MessageType::*;
        match v {
            1 => Solicit,
            2 => Advertise,
            3 => Request,
            4 => Confirm,
            5 => Renew,
            6 => Rebind,
            7 => Reply,
            8 => Release,
            9 => Decline,
            10 => Reconfigure,
            11 => InformationRequest,
            12 => RelayForw,
            13 => RelayRepl,
            other => Unknown(other),
        }
    }

    pub fn is_relay(self) -> bool {
        matches!(
            self,
            Dhcpv6MessageType::RelayForw | Dhcpv6MessageType::RelayRepl
        )
    }
}

/// One DHCPv6 option.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Dhcpv6Option<'a> {
    pub code: u16,
    pub data: &'a [u8],
}

/// DHCPv6 options in a block of bytes (a message, or the inside of an
/// IA_NA / IAADDR option); stops after the first truncated option.
#[derive(Clone, Debug)]
pub struct Dhcpv6Options<'a> {
    data: &'a [u8],
    pos: usize,
    /// Offset of `data` in the message, for error offsets.
    base: usize,
    done: bool,
}

impl<'a> Dhcpv6Options<'a> {
    fn new(data: &'a [u8], base: usize) -> Dhcpv6Options<'a> {
        Dhcpv6Options {
            data,
            pos: 0,
            base,
            done: false,
        }
    }
}

impl<'a> Iterator for Dhcpv6Options<'a> {
    type Item = Result<Dhcpv6Option<'a>, DhcpError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.done || self.pos >= self.data.len() {
            return None;
        }
        let start = self.pos;
        let code = get_u16(self.data, start);
        let len = start.checked_add(2).and_then(|at| get_u16(self.data, at));
        let data_start = start.saturating_add(4);
        let data_end = data_start.saturating_add(usize::from(len.unwrap_or(0)));
        match (code, len, self.data.get(data_start..data_end)) {
            (Some(code), Some(_), Some(data)) => {
                self.pos = data_end;
                Some(Ok(Dhcpv6Option { code, data }))
            }
            _ => {
                self.done = true;
                Some(Err(DhcpError::OptionTruncated {
                    code: code.unwrap_or(0),
                    offset: self.base.saturating_add(start),
                }))
            }
        }
    }
}

/// A zero-copy view over a DHCPv6 message (client/server or relay).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Dhcpv6Message<'a> {
    buf: &'a [u8],
}

impl<'a> Dhcpv6Message<'a> {
    /// Wraps a UDP payload: 4 header bytes, or 34 for a relay message.
    pub fn new_checked(buf: &'a [u8]) -> Result<Dhcpv6Message<'a>, DhcpError> {
        let need = match buf.first() {
            Some(&t) if Dhcpv6MessageType::from_u8(t).is_relay() => field::V6_RELAY_OPTIONS,
            _ => field::V6_OPTIONS,
        };
        if buf.len() < need {
            return Err(DhcpError::Truncated {
                len: buf.len(),
                need,
            });
        }
        Ok(Dhcpv6Message { buf })
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    pub fn msg_type(&self) -> Dhcpv6MessageType {
        Dhcpv6MessageType::from_u8(self.buf.get(field::V6_MSG_TYPE).copied().unwrap_or(0))
    }

    /// A relay message (RELAY-FORW/REPL): its options are the relay's; the
    /// client's message is inside option 9 ([`Dhcpv6Message::relayed_message`]).
    pub fn is_relay(&self) -> bool {
        self.msg_type().is_relay()
    }

    /// The 24-bit transaction id (none for relay messages).
    pub fn transaction_id(&self) -> Option<u32> {
        if self.is_relay() {
            return None;
        }
        let [a, b, c] = get_array::<3>(self.buf, field::V6_XID)?;
        Some(u32::from_be_bytes([0, a, b, c]))
    }

    /// Relay hop count, link address and peer address (relay messages).
    pub fn relay_header(&self) -> Option<(u8, Ipv6Addr, Ipv6Addr)> {
        if !self.is_relay() {
            return None;
        }
        let hops = self.buf.get(field::V6_HOP_COUNT).copied()?;
        let link = Ipv6Addr::from(get_array::<16>(self.buf, field::V6_LINK_ADDRESS)?);
        let peer = Ipv6Addr::from(get_array::<16>(self.buf, field::V6_PEER_ADDRESS)?);
        Some((hops, link, peer))
    }

    pub fn options(&self) -> Dhcpv6Options<'a> {
        let start = if self.is_relay() {
            field::V6_RELAY_OPTIONS
        } else {
            field::V6_OPTIONS
        };
        Dhcpv6Options::new(self.buf.get(start..).unwrap_or_default(), start)
    }

    /// The data of the first option `code` (stops at a malformed option).
    pub fn option(&self, code: u16) -> Option<&'a [u8]> {
        self.options()
            .map_while(Result::ok)
            .find(|o| o.code == code)
            .map(|o| o.data)
    }

    /// The message a relay carries (option 9), one level down.
    pub fn relayed_message(&self) -> Option<Result<Dhcpv6Message<'a>, DhcpError>> {
        if !self.is_relay() {
            return None;
        }
        self.option(option6::RELAY_MSG)
            .map(Dhcpv6Message::new_checked)
    }

    /// Option 1, the client's DUID.
    pub fn client_duid(&self) -> Option<Duid<'a>> {
        self.option(option6::CLIENT_ID).map(Duid)
    }

    /// Option 2, the server's DUID.
    pub fn server_duid(&self) -> Option<Duid<'a>> {
        self.option(option6::SERVER_ID).map(Duid)
    }

    /// Option 39 (RFC 4704): flags and a wire-format name.
    pub fn client_fqdn(&self) -> Option<ClientFqdn<'a>> {
        let (&flags, name) = self.option(option6::CLIENT_FQDN)?.split_first()?;
        Some(ClientFqdn {
            flags,
            name: FqdnName::Wire(name),
        })
    }

    /// The addresses in the IAADDR options (5) of every IA_NA option (3).
    pub fn ia_na_addresses(&self) -> impl Iterator<Item = Ipv6Addr> + 'a {
        self.options()
            .map_while(Result::ok)
            .filter(|o| o.code == option6::IA_NA)
            // IAID, T1, T2, then the IA_NA-options.
            .filter_map(|o| o.data.get(12..))
            .flat_map(|inner| Dhcpv6Options::new(inner, 0).map_while(Result::ok))
            .filter(|o| o.code == option6::IAADDR)
            .filter_map(|o| get_array::<16>(o.data, 0..16).map(Ipv6Addr::from))
    }

    /// Option 16: the enterprise number and the vendor-class data items.
    pub fn vendor_class(&self) -> Option<(u32, OpaqueList<'a>)> {
        let data = self.option(option6::VENDOR_CLASS)?;
        let enterprise = u32::from_be_bytes(get_array(data, 0..4)?);
        Some((enterprise, OpaqueList(data.get(4..)?)))
    }

    /// Option 15: the user-class data items.
    pub fn user_class(&self) -> Option<OpaqueList<'a>> {
        self.option(option6::USER_CLASS).map(OpaqueList)
    }
}

impl std::fmt::Debug for Dhcpv6Message<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Dhcpv6Message")
            .field("msg_type", &self.msg_type())
            .field("transaction_id", &self.transaction_id())
            .finish()
    }
}

/// A list of 2-byte-length-prefixed items (user class, vendor class data).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OpaqueList<'a>(pub &'a [u8]);

impl<'a> OpaqueList<'a> {
    /// The items; a truncated last item ends the list.
    pub fn items(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let data = self.0;
        let mut pos = 0usize;
        std::iter::from_fn(move || {
            let len = usize::from(u16::from_be_bytes(get_array(
                data,
                pos..pos.saturating_add(2),
            )?));
            let start = pos.saturating_add(2);
            let end = start.saturating_add(len);
            let item = data.get(start..end)?;
            pos = end;
            Some(item)
        })
    }
}

/// A DHCP Unique Identifier (RFC 8415 §11).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Duid<'a>(pub &'a [u8]);

impl<'a> Duid<'a> {
    /// 1 = DUID-LLT, 2 = DUID-EN, 3 = DUID-LL, 4 = DUID-UUID.
    pub fn duid_type(&self) -> Option<u16> {
        get_array::<2>(self.0, 0..2).map(u16::from_be_bytes)
    }

    pub fn as_bytes(&self) -> &'a [u8] {
        self.0
    }

    /// The link-layer address of a DUID-LLT or DUID-LL with hardware type
    /// Ethernet (1) and a 6-byte address.
    pub fn mac(&self) -> Option<Mac> {
        let hw_type = get_array::<2>(self.0, 2..4).map(u16::from_be_bytes)?;
        let addr = match self.duid_type()? {
            1 => self.0.get(8..)?,
            3 => self.0.get(4..)?,
            _ => return None,
        };
        if hw_type != 1 {
            return None;
        }
        Some(Mac(addr.try_into().ok()?))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decode::fixtures::{hex, MUD_REQUEST};

    #[test]
    fn request_fields_read_as_tshark_shows_them() {
        let bytes = hex(MUD_REQUEST);
        let m = DhcpMessage::new_checked(&bytes).unwrap();
        assert_eq!(m.op(), 1);
        assert_eq!(m.hops(), 1);
        assert_eq!(m.xid(), 0x068c4847);
        assert_eq!(m.ciaddr(), Ipv4Addr::new(62, 12, 173, 123));
        assert_eq!(m.yiaddr(), Ipv4Addr::UNSPECIFIED);
        assert_eq!(m.giaddr(), Ipv4Addr::new(62, 12, 173, 121));
        assert_eq!(m.chaddr(), Some("b8:27:eb:b8:53:c8".parse().unwrap()));
        assert_eq!(m.message_type(), Some(MessageType::Request));
        assert_eq!(m.hostname(), Some(&b"raspberrypi"[..]));
        assert_eq!(
            m.vendor_class(),
            Some(&b"dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709"[..])
        );
        assert_eq!(
            m.parameter_request_list(),
            Some(&[1, 121, 33, 3, 6, 12, 15, 28, 42, 51, 54, 58, 59, 100, 101, 119][..])
        );
        assert_eq!(
            m.client_identifier_mac(),
            Some("b8:27:eb:b8:53:c8".parse().unwrap())
        );
        assert_eq!(m.requested_ip(), None);
        let codes: Vec<u8> = m.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [53, 61, 57, 161, 60, 12, 145, 55]);
    }

    /// A minimal DHCP message: zeroed fixed part, cookie, then `options`.
    fn dhcp(options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; 236];
        m[0] = 1;
        m[1] = 1;
        m[2] = 6;
        m.extend_from_slice(&field::MAGIC_COOKIE);
        m.extend_from_slice(options);
        m
    }

    #[test]
    fn short_or_cookieless_messages_are_rejected() {
        let m = dhcp(&[255]);
        assert!(matches!(
            DhcpMessage::new_checked(&m[..239]),
            Err(DhcpError::Truncated { .. })
        ));
        let mut bootp = m.clone();
        bootp[236] = 0;
        assert_eq!(
            DhcpMessage::new_checked(&bootp),
            Err(DhcpError::NoMagicCookie)
        );
    }

    #[test]
    fn pads_are_skipped_and_end_stops_the_walk() {
        let m = dhcp(&[0, 0, 53, 1, 1, 0, 255, 12, 3, b'a', b'b', b'c']);
        let m = DhcpMessage::new_checked(&m).unwrap();
        let opts: Vec<_> = m.options().collect();
        assert_eq!(
            opts,
            [Ok(DhcpOption {
                code: 53,
                data: &[1]
            })]
        );
        assert_eq!(m.hostname(), None);
    }

    #[test]
    fn truncated_option_is_reported_once_and_ends_the_walk() {
        let m = dhcp(&[53, 1, 3, 12, 10, b'a']);
        let m = DhcpMessage::new_checked(&m).unwrap();
        let opts: Vec<_> = m.options().collect();
        assert_eq!(opts.len(), 2);
        assert_eq!(
            opts[1],
            Err(DhcpError::OptionTruncated {
                code: 12,
                offset: 243
            })
        );
        assert_eq!(m.message_type(), Some(MessageType::Request));
        assert_eq!(m.hostname(), None);
        // A length byte missing at the very end.
        let m = dhcp(&[12]);
        let m = DhcpMessage::new_checked(&m).unwrap();
        assert!(m.options().next().unwrap().is_err());
    }

    #[test]
    fn overload_continues_in_file_then_sname() {
        let mut m = dhcp(&[52, 1, 3, 53, 1, 1, 255]);
        m[field::FILE.start..field::FILE.start + 5].copy_from_slice(&[12, 2, b'h', b'1', 255]);
        m[field::SNAME.start..field::SNAME.start + 7].copy_from_slice(&[50, 4, 10, 0, 0, 9, 255]);
        let m = DhcpMessage::new_checked(&m).unwrap();
        let codes: Vec<u8> = m.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [52, 53, 12, 50]);
        assert_eq!(m.hostname(), Some(&b"h1"[..]));
        assert_eq!(m.requested_ip(), Some(Ipv4Addr::new(10, 0, 0, 9)));
    }

    #[test]
    fn unknown_message_type_keeps_its_number() {
        let m = dhcp(&[53, 1, 0x6a, 255]);
        let m = DhcpMessage::new_checked(&m).unwrap();
        assert_eq!(m.message_type(), Some(MessageType::Unknown(0x6a)));
        assert_eq!(MessageType::from_u8(0x6a).to_u8(), 0x6a);
    }

    #[test]
    fn chaddr_is_a_mac_only_for_ethernet() {
        let mut m = dhcp(&[255]);
        m[28..34].copy_from_slice(&[2, 0, 0, 0, 0, 1]);
        let v = DhcpMessage::new_checked(&m).unwrap();
        assert_eq!(v.chaddr(), Some(Mac([2, 0, 0, 0, 0, 1])));
        m[1] = 6; // IEEE 802
        assert_eq!(DhcpMessage::new_checked(&m).unwrap().chaddr(), None);
    }

    #[test]
    fn lease_time_server_id_and_fqdn_both_encodings() {
        let mut opts = vec![51, 4, 0, 0, 0x0e, 0x10, 54, 4, 192, 168, 1, 1];
        opts.extend_from_slice(&[81, 3 + 11, 0x05, 0, 0]);
        opts.extend_from_slice(b"\x04Host\x03lan\x00\x00");
        opts.extend_from_slice(&[255]);
        let m = dhcp(&opts);
        let m = DhcpMessage::new_checked(&m).unwrap();
        assert_eq!(m.lease_time(), Some(3600));
        assert_eq!(m.server_identifier(), Some(Ipv4Addr::new(192, 168, 1, 1)));
        let fqdn = m.client_fqdn().unwrap();
        assert_eq!(fqdn.flags, ClientFqdn::FLAG_S | ClientFqdn::FLAG_E);
        let mut buf = [0u8; 256];
        let n = fqdn.name.write_lower(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"host.lan");

        let m = dhcp(&[
            81,
            3 + 9,
            0,
            0,
            0,
            b'M',
            b'y',
            b'P',
            b'C',
            b'.',
            b'l',
            b'a',
            b'n',
            b'.',
            255,
        ]);
        let m = DhcpMessage::new_checked(&m).unwrap();
        let fqdn = m.client_fqdn().unwrap();
        assert_eq!(fqdn.name, FqdnName::Ascii(b"MyPC.lan."));
        let n = fqdn.name.write_lower(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"mypc.lan");
    }

    #[test]
    fn partial_wire_fqdn_without_root_label() {
        let name = FqdnName::Wire(b"\x06laptop");
        let mut buf = [0u8; 256];
        let n = name.write_lower(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"laptop");
        assert!(FqdnName::Wire(b"\x09lap").write_lower(&mut buf).is_err());
    }

    /// nDPI's `1kxun.pcap`, frame 12: an Information-request with a DUID-LLT.
    const INFO_REQUEST: &str =
        "0b27731d0001000e000100011db8e6fb703eacf0f0070006000400170018000800020000";

    #[test]
    fn dhcpv6_information_request_as_tshark_shows_it() {
        let bytes = hex(INFO_REQUEST);
        let m = Dhcpv6Message::new_checked(&bytes).unwrap();
        assert_eq!(m.msg_type(), Dhcpv6MessageType::InformationRequest);
        assert_eq!(m.transaction_id(), Some(0x27731d));
        let duid = m.client_duid().unwrap();
        assert_eq!(duid.duid_type(), Some(1));
        assert_eq!(duid.mac(), Some("70:3e:ac:f0:f0:07".parse().unwrap()));
        let codes: Vec<u16> = m.options().map(|o| o.unwrap().code).collect();
        assert_eq!(codes, [1, 6, 8]);
        assert!(!m.is_relay());
    }

    #[test]
    fn dhcpv6_solicit_with_ia_na_fqdn_and_classes() {
        let mut m = vec![1, 0xab, 0xcd, 0xef];
        // Client DUID-LL, Ethernet.
        m.extend_from_slice(&[0, 1, 0, 10, 0, 3, 0, 1, 2, 0x11, 0x22, 0x33, 0x44, 0x55]);
        // IA_NA with one IAADDR 2001:db8::5.
        m.extend_from_slice(&[0, 3, 0, 12 + 28, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0]);
        m.extend_from_slice(&[0, 5, 0, 24]);
        m.extend_from_slice(&"2001:db8::5".parse::<Ipv6Addr>().unwrap().octets());
        m.extend_from_slice(&[0; 8]);
        // Client FQDN "pc.lan" (flags S).
        m.extend_from_slice(&[0, 39, 0, 9, 1]);
        m.extend_from_slice(b"\x02pc\x03lan\x00");
        // Vendor class: enterprise 311, one item "MSFT 5.0".
        m.extend_from_slice(&[0, 16, 0, 14, 0, 0, 1, 55, 0, 8]);
        m.extend_from_slice(b"MSFT 5.0");
        // User class: two items.
        m.extend_from_slice(&[0, 15, 0, 7, 0, 1, b'a', 0, 2, b'b', b'c']);
        let m = Dhcpv6Message::new_checked(&m).unwrap();
        assert_eq!(m.msg_type(), Dhcpv6MessageType::Solicit);
        assert_eq!(m.transaction_id(), Some(0xabcdef));
        assert_eq!(
            m.client_duid().unwrap().mac(),
            Some(Mac([2, 0x11, 0x22, 0x33, 0x44, 0x55]))
        );
        let addrs: Vec<_> = m.ia_na_addresses().collect();
        assert_eq!(addrs, ["2001:db8::5".parse::<Ipv6Addr>().unwrap()]);
        let fqdn = m.client_fqdn().unwrap();
        let mut buf = [0u8; 256];
        let n = fqdn.name.write_lower(&mut buf).unwrap();
        assert_eq!(&buf[..n], b"pc.lan");
        let (enterprise, data) = m.vendor_class().unwrap();
        assert_eq!(enterprise, 311);
        assert_eq!(data.items().collect::<Vec<_>>(), [&b"MSFT 5.0"[..]]);
        let uc: Vec<_> = m.user_class().unwrap().items().collect();
        assert_eq!(uc, [&b"a"[..], b"bc"]);
    }

    #[test]
    fn dhcpv6_relay_is_reported_and_unwrapped() {
        let inner = hex(INFO_REQUEST);
        let mut m = vec![12, 0];
        m.extend_from_slice(&[0; 32]);
        m.extend_from_slice(&[0, 9, 0, inner.len() as u8]);
        m.extend_from_slice(&inner);
        let m = Dhcpv6Message::new_checked(&m).unwrap();
        assert!(m.is_relay());
        assert_eq!(m.transaction_id(), None);
        assert_eq!(m.client_duid(), None);
        let inner = m.relayed_message().unwrap().unwrap();
        assert_eq!(inner.transaction_id(), Some(0x27731d));
        assert!(matches!(
            Dhcpv6Message::new_checked(&[12, 0, 0]),
            Err(DhcpError::Truncated { need: 34, .. })
        ));
    }

    #[test]
    fn dhcpv6_truncated_option_ends_the_walk() {
        let m = [1, 0, 0, 1, 0, 1, 0, 20, 0, 3];
        let m = Dhcpv6Message::new_checked(&m).unwrap();
        let opts: Vec<_> = m.options().collect();
        assert_eq!(
            opts,
            [Err(DhcpError::OptionTruncated { code: 1, offset: 4 })]
        );
        assert_eq!(m.client_duid(), None);
    }

    #[test]
    fn duid_en_and_non_ethernet_have_no_mac() {
        assert_eq!(Duid(&[0, 2, 0, 0, 0, 9, 1, 2]).mac(), None);
        assert_eq!(Duid(&[0, 3, 0, 6, 1, 2, 3, 4, 5, 6]).mac(), None);
        assert_eq!(Duid(&[0, 3, 0, 1, 1, 2, 3]).mac(), None);
    }
}
