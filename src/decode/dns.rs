//! DNS messages (RFC 1035): header, questions and resource records as
//! zero-copy views.
//!
//! Everything here runs on the packet path, so nothing allocates and nothing
//! is parsed before it is asked for:
//!
//! - [`DnsMessage`] wraps the bytes of one message (a UDP payload, or one
//!   message cut out of a TCP stream by `track::naming`). Its checked
//!   constructor only asks for the 12-byte header; the sections are walked by
//!   the [`Questions`] and [`Records`] iterators, which stop at the first error.
//! - [`Name`] is a lazy view (message + offset). Its labels are only followed
//!   when the name is rendered ([`Name::write_lower`]), compared or iterated.
//!   Compression pointers must point strictly backwards — before the start
//!   of the run of labels they continue — so a chain of pointers always
//!   terminates; the number of jumps is bounded as well. A name is at most 255
//!   bytes on the wire (RFC 1035 §2.3.4), so its text (without the trailing
//!   dot) always fits a [`NameBuf`].
//! - Type and rcode mnemonics ([`qtype_name`], [`rcode_name`]) are
//!   `&'static str` for known values and a number otherwise (`TYPE65280`),
//!   rendered without allocating.

use std::borrow::Cow;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::{get_u16, get_u32, read_u16, Field};

/// Byte ranges of the fixed parts of a message, as in RFC 1035 §4.1.
mod field {
    use super::Field;

    pub const ID: Field = 0..2;
    pub const FLAGS: Field = 2..4;
    pub const QDCOUNT: Field = 4..6;
    pub const ANCOUNT: Field = 6..8;
    pub const NSCOUNT: Field = 8..10;
    pub const ARCOUNT: Field = 10..12;
    pub const HEADER_LEN: usize = 12;

    /// After a question's name.
    pub const QTYPE: Field = 0..2;
    pub const QCLASS: Field = 2..4;
    pub const QUESTION_FIXED_LEN: usize = 4;

    /// After a resource record's name.
    pub const RR_TYPE: Field = 0..2;
    pub const RR_CLASS: Field = 2..4;
    pub const RR_TTL: Field = 4..8;
    pub const RR_RDLENGTH: Field = 8..10;
    pub const RR_FIXED_LEN: usize = 10;

    /// Bits of the flags word.
    pub const FLAG_QR: u16 = 0x8000;
    pub const FLAG_AA: u16 = 0x0400;
    pub const FLAG_TC: u16 = 0x0200;
    pub const FLAG_RD: u16 = 0x0100;
    pub const FLAG_RA: u16 = 0x0080;
    pub const FLAG_AD: u16 = 0x0020;
    pub const OPCODE_SHIFT: u32 = 11;
    pub const OPCODE_MASK: u16 = 0x0f;
    pub const RCODE_MASK: u16 = 0x000f;
}

/// Longest name on the wire, length octets and root label included.
pub const MAX_NAME_WIRE_LEN: usize = 255;
/// Longest label (the two high bits of a length octet are its type).
pub const MAX_LABEL_LEN: usize = 63;
/// Most compression pointers followed in one name.
pub const MAX_POINTER_JUMPS: usize = 64;
/// Size of a buffer that holds any rendered name.
pub const NAME_BUF_LEN: usize = 256;
/// A caller-provided buffer for [`Name::write_lower`].
pub type NameBuf = [u8; NAME_BUF_LEN];

/// Record types lanwatch looks at.
pub mod rtype {
    pub const A: u16 = 1;
    pub const NS: u16 = 2;
    pub const CNAME: u16 = 5;
    pub const PTR: u16 = 12;
    pub const AAAA: u16 = 28;
    pub const DNAME: u16 = 39;
    pub const OPT: u16 = 41;
}

/// Why a DNS message (or part of it) could not be read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum DnsError {
    /// The message ends inside `what`, which starts at `offset`.
    #[error("DNS message truncated: {what} at offset {offset} runs past the end")]
    Truncated { what: &'static str, offset: usize },
    /// A length octet with the reserved type bits 01 or 10.
    #[error("DNS name: label at offset {offset} has the reserved type {byte:#04x}")]
    BadLabel { offset: usize, byte: u8 },
    /// A compression pointer to a later offset.
    #[error("DNS name: compression pointer at offset {offset} points forward to {target}")]
    ForwardPointer { offset: usize, target: usize },
    /// A compression pointer into the labels it continues (a loop), or a
    /// chain of more than [`MAX_POINTER_JUMPS`] pointers.
    #[error("DNS name: compression pointer at offset {offset} to {target} loops")]
    PointerLoop { offset: usize, target: usize },
    /// The name starting at `offset` is longer than 255 bytes on the wire.
    #[error("DNS name at offset {offset} is longer than 255 bytes")]
    NameTooLong { offset: usize },
}

#[inline]
fn read_field_u16(data: &[u8], base: usize, f: Field) -> Option<u16> {
    get_u16(data, base.checked_add(f.start)?)
}

/// A zero-copy view over one DNS message.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct DnsMessage<'a> {
    buf: &'a [u8],
}

impl<'a> DnsMessage<'a> {
    /// Wraps `buf`, which must hold at least the 12-byte header.
    pub fn new_checked(buf: &'a [u8]) -> Result<DnsMessage<'a>, DnsError> {
        if buf.len() < field::HEADER_LEN {
            return Err(DnsError::Truncated {
                what: "header",
                offset: 0,
            });
        }
        Ok(DnsMessage { buf })
    }

    /// The whole message.
    pub fn as_bytes(&self) -> &'a [u8] {
        self.buf
    }

    #[inline]
    fn header_u16(&self, f: Field) -> u16 {
        // The constructor checked the header is there.
        read_u16(self.buf, f)
    }

    #[inline]
    pub fn id(&self) -> u16 {
        self.header_u16(field::ID)
    }

    /// The raw flags word.
    #[inline]
    pub fn flags(&self) -> u16 {
        self.header_u16(field::FLAGS)
    }

    /// QR: the message is a response.
    #[inline]
    pub fn qr(&self) -> bool {
        self.flags() & field::FLAG_QR != 0
    }

    #[inline]
    pub fn is_response(&self) -> bool {
        self.qr()
    }

    #[inline]
    pub fn opcode(&self) -> u8 {
        ((self.flags() >> field::OPCODE_SHIFT) & field::OPCODE_MASK) as u8
    }

    #[inline]
    pub fn aa(&self) -> bool {
        self.flags() & field::FLAG_AA != 0
    }

    #[inline]
    pub fn tc(&self) -> bool {
        self.flags() & field::FLAG_TC != 0
    }

    #[inline]
    pub fn rd(&self) -> bool {
        self.flags() & field::FLAG_RD != 0
    }

    #[inline]
    pub fn ra(&self) -> bool {
        self.flags() & field::FLAG_RA != 0
    }

    #[inline]
    pub fn ad(&self) -> bool {
        self.flags() & field::FLAG_AD != 0
    }

    /// The 4-bit response code of the header.
    #[inline]
    pub fn rcode(&self) -> u8 {
        (self.flags() & field::RCODE_MASK) as u8
    }

    #[inline]
    pub fn question_count(&self) -> u16 {
        self.header_u16(field::QDCOUNT)
    }

    #[inline]
    pub fn answer_count(&self) -> u16 {
        self.header_u16(field::ANCOUNT)
    }

    #[inline]
    pub fn authority_count(&self) -> u16 {
        self.header_u16(field::NSCOUNT)
    }

    #[inline]
    pub fn additional_count(&self) -> u16 {
        self.header_u16(field::ARCOUNT)
    }

    /// The question section.
    pub fn questions(&self) -> Questions<'a> {
        Questions {
            msg: self.buf,
            pos: field::HEADER_LEN,
            remaining: self.question_count(),
        }
    }

    /// The answer section.
    pub fn answers(&self) -> Records<'a> {
        let mut records = self.records();
        records.limit = u32::from(self.answer_count());
        records
    }

    /// Answer, authority and additional records, in order.
    pub fn records(&self) -> Records<'a> {
        let mut questions = self.questions();
        let mut error = None;
        for q in questions.by_ref() {
            if let Err(e) = q {
                error = Some(e);
                break;
            }
        }
        let an = u32::from(self.answer_count());
        let ns = u32::from(self.authority_count());
        let ar = u32::from(self.additional_count());
        Records {
            msg: self.buf,
            pos: questions.pos,
            index: 0,
            answers: an,
            authority_end: an.saturating_add(ns),
            limit: an.saturating_add(ns).saturating_add(ar),
            error,
        }
    }

    /// The response code including the upper 8 bits an EDNS OPT record
    /// carries (RFC 6891 §6.1.3); the header's 4 bits if there is no OPT.
    pub fn extended_rcode(&self) -> Result<u16, DnsError> {
        let low = u16::from(self.rcode());
        for record in self.records() {
            let record = record?;
            if record.section == Section::Additional && record.rtype == rtype::OPT {
                let high = (record.ttl >> 24) as u16;
                return Ok((high << 4) | low);
            }
        }
        Ok(low)
    }
}

impl fmt::Debug for DnsMessage<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DnsMessage")
            .field("id", &self.id())
            .field("flags", &format_args!("{:#06x}", self.flags()))
            .field("qdcount", &self.question_count())
            .field("ancount", &self.answer_count())
            .field("nscount", &self.authority_count())
            .field("arcount", &self.additional_count())
            .finish()
    }
}

/// Reads past the name at `pos` without following pointers: the name's
/// own bytes end at the root label or the first pointer. Returns the offset
/// after the name. Only the structure is checked here (bounds, label
/// types); the 255-byte limit is the name's own business, checked when it
/// is read, so a record with an over-long name does not hide the records
/// after it.
fn skip_name(msg: &[u8], start: usize, end: usize) -> Result<usize, DnsError> {
    let mut pos = start;
    loop {
        let len = match msg.get(pos) {
            Some(&b) if pos < end => b,
            _ => {
                return Err(DnsError::Truncated {
                    what: "name",
                    offset: start,
                })
            }
        };
        match len & 0xc0 {
            0x00 if len == 0 => return Ok(pos.saturating_add(1)),
            0x00 => pos = pos.saturating_add(1).saturating_add(usize::from(len)),
            0xc0 => {
                let after = pos.saturating_add(2);
                if after > end || after > msg.len() {
                    return Err(DnsError::Truncated {
                        what: "name",
                        offset: start,
                    });
                }
                return Ok(after);
            }
            _ => {
                return Err(DnsError::BadLabel {
                    offset: pos,
                    byte: len,
                })
            }
        }
    }
}

/// A domain name inside a message: where it starts, read lazily.
#[derive(Clone, Copy)]
pub struct Name<'a> {
    msg: &'a [u8],
    offset: usize,
    /// The name's own bytes (before any pointer) must end before this.
    end: usize,
}

impl<'a> Name<'a> {
    /// The name starting at `offset` of `message`. Nothing is checked until
    /// the name is read.
    pub fn new(message: &'a [u8], offset: usize) -> Name<'a> {
        Name {
            msg: message,
            offset,
            end: message.len(),
        }
    }

    /// Like [`Name::new`], but the bytes in place (before the first
    /// pointer) must end before `end` — the end of the rdata holding it.
    pub fn new_bounded(message: &'a [u8], offset: usize, end: usize) -> Name<'a> {
        Name {
            msg: message,
            offset,
            end: end.min(message.len()),
        }
    }

    /// Where the name starts in the message.
    pub fn offset(&self) -> usize {
        self.offset
    }

    /// The labels, root excluded, following compression pointers.
    pub fn labels(&self) -> Labels<'a> {
        Labels {
            msg: self.msg,
            pos: self.offset,
            end: self.end,
            run_start: self.offset,
            name_start: self.offset,
            jumps: 0,
            wire_len: 0,
            done: false,
        }
    }

    /// Checks the whole name: labels, pointers and length.
    pub fn validate(&self) -> Result<(), DnsError> {
        for label in self.labels() {
            label?;
        }
        Ok(())
    }

    /// Writes the name lower-cased (ASCII), labels joined by `.`, without
    /// the trailing dot, into `buf`; returns the length written. The root
    /// name writes nothing. Label bytes are copied as they are (a label may
    /// hold any octet, a dot included).
    pub fn write_lower(&self, buf: &mut NameBuf) -> Result<usize, DnsError> {
        let mut len = 0usize;
        for label in self.labels() {
            let label = label?;
            if len > 0 {
                if let Some(b) = buf.get_mut(len) {
                    *b = b'.';
                }
                len = len.saturating_add(1);
            }
            let stop = len.saturating_add(label.len());
            // Cannot fail: a name is at most 255 bytes on the wire, so its
            // text is at most 253.
            let Some(out) = buf.get_mut(len..stop) else {
                return Err(DnsError::NameTooLong {
                    offset: self.offset,
                });
            };
            for (o, i) in out.iter_mut().zip(label) {
                *o = i.to_ascii_lowercase();
            }
            len = stop;
        }
        Ok(len)
    }

    /// The same name, ignoring ASCII case?
    pub fn eq_ignore_case(&self, other: &Name<'_>) -> Result<bool, DnsError> {
        let mut a = self.labels();
        let mut b = other.labels();
        loop {
            match (a.next().transpose()?, b.next().transpose()?) {
                (None, None) => return Ok(true),
                (Some(x), Some(y)) if x.eq_ignore_ascii_case(y) => {}
                _ => return Ok(false),
            }
        }
    }

    /// Is this the dotted name `text` (ASCII case ignored, trailing dot
    /// optional)?
    pub fn eq_text(&self, text: &str) -> Result<bool, DnsError> {
        let text = text.strip_suffix('.').unwrap_or(text);
        let mut parts = text.split('.').filter(|p| !p.is_empty());
        for label in self.labels() {
            match parts.next() {
                Some(p) if p.as_bytes().eq_ignore_ascii_case(label?) => {}
                _ => return Ok(false),
            }
        }
        Ok(parts.next().is_none())
    }
}

impl fmt::Debug for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Lower-cased text, non-printable bytes escaped as `\DDD`; a malformed
/// name shows its error.
impl fmt::Display for Name<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut buf = [0u8; NAME_BUF_LEN];
        match self.write_lower(&mut buf) {
            Ok(len) => {
                for &b in buf.get(..len).unwrap_or_default() {
                    if b.is_ascii_graphic() {
                        fmt::Write::write_char(f, char::from(b))?;
                    } else {
                        write!(f, "\\{b:03}")?;
                    }
                }
                Ok(())
            }
            Err(e) => write!(f, "<{e}>"),
        }
    }
}

/// The labels of a [`Name`]; yields an error once and stops on a
/// malformed name.
#[derive(Clone)]
pub struct Labels<'a> {
    msg: &'a [u8],
    pos: usize,
    end: usize,
    /// Where the current run of in-place labels started: a pointer must
    /// point before it.
    run_start: usize,
    name_start: usize,
    jumps: usize,
    wire_len: usize,
    done: bool,
}

impl<'a> Labels<'a> {
    fn fail(&mut self, e: DnsError) -> Option<Result<&'a [u8], DnsError>> {
        self.done = true;
        Some(Err(e))
    }
}

impl<'a> Iterator for Labels<'a> {
    type Item = Result<&'a [u8], DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let pos = self.pos;
            let len = match self.msg.get(pos) {
                Some(&b) if pos < self.end => b,
                _ => {
                    return self.fail(DnsError::Truncated {
                        what: "name",
                        offset: self.name_start,
                    })
                }
            };
            match len & 0xc0 {
                0x00 => {
                    let len = usize::from(len);
                    self.wire_len = self.wire_len.saturating_add(1).saturating_add(len);
                    // Room for this label and the root label after it.
                    if self.wire_len.saturating_add(usize::from(len != 0)) > MAX_NAME_WIRE_LEN {
                        return self.fail(DnsError::NameTooLong {
                            offset: self.name_start,
                        });
                    }
                    if len == 0 {
                        self.done = true;
                        return None;
                    }
                    let start = pos.saturating_add(1);
                    let stop = start.saturating_add(len);
                    let label = match self.msg.get(start..stop) {
                        Some(l) if stop <= self.end => l,
                        _ => {
                            return self.fail(DnsError::Truncated {
                                what: "label",
                                offset: pos,
                            })
                        }
                    };
                    self.pos = stop;
                    return Some(Ok(label));
                }
                0xc0 => {
                    let Some(word) =
                        get_u16(self.msg, pos).filter(|_| pos.saturating_add(2) <= self.end)
                    else {
                        return self.fail(DnsError::Truncated {
                            what: "compression pointer",
                            offset: pos,
                        });
                    };
                    let target = usize::from(word & 0x3fff);
                    if target > pos {
                        return self.fail(DnsError::ForwardPointer {
                            offset: pos,
                            target,
                        });
                    }
                    self.jumps = self.jumps.saturating_add(1);
                    if target >= self.run_start || self.jumps > MAX_POINTER_JUMPS {
                        return self.fail(DnsError::PointerLoop {
                            offset: pos,
                            target,
                        });
                    }
                    self.run_start = target;
                    self.pos = target;
                    self.end = self.msg.len();
                }
                _ => {
                    return self.fail(DnsError::BadLabel {
                        offset: pos,
                        byte: len,
                    })
                }
            }
        }
    }
}

/// One entry of the question section.
#[derive(Clone, Copy, Debug)]
pub struct Question<'a> {
    pub name: Name<'a>,
    pub qtype: u16,
    /// The raw class; mDNS uses the top bit to ask for a unicast response.
    pub qclass: u16,
}

/// The question section; stops after the first error.
#[derive(Clone)]
pub struct Questions<'a> {
    msg: &'a [u8],
    pos: usize,
    remaining: u16,
}

impl Questions<'_> {
    /// Offset just after the questions read so far: once the iterator is
    /// exhausted without error, where the answer section starts.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Questions<'a> {
    type Item = Result<Question<'a>, DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.remaining == 0 {
            return None;
        }
        self.remaining = self.remaining.saturating_sub(1);
        let result = (|| {
            let start = self.pos;
            let after_name = skip_name(self.msg, start, self.msg.len())?;
            let (Some(qtype), Some(qclass)) = (
                read_field_u16(self.msg, after_name, field::QTYPE),
                read_field_u16(self.msg, after_name, field::QCLASS),
            ) else {
                return Err(DnsError::Truncated {
                    what: "question",
                    offset: start,
                });
            };
            self.pos = after_name.saturating_add(field::QUESTION_FIXED_LEN);
            Ok(Question {
                name: Name::new(self.msg, start),
                qtype,
                qclass,
            })
        })();
        if result.is_err() {
            self.remaining = 0;
        }
        Some(result)
    }
}

/// The section a record came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Section {
    Answer,
    Authority,
    Additional,
}

/// One resource record; the rdata is a slice of the message.
#[derive(Clone, Copy, Debug)]
pub struct Record<'a> {
    pub section: Section,
    pub name: Name<'a>,
    pub rtype: u16,
    /// The raw class (mDNS uses the top bit as "cache flush"; OPT the
    /// requester's UDP payload size).
    pub class: u16,
    pub ttl: u32,
    pub rdata: &'a [u8],
    /// Where the rdata starts in the message (names in rdata may point
    /// back into the message).
    pub rdata_offset: usize,
    msg: &'a [u8],
}

impl<'a> Record<'a> {
    /// The address of an A record (4 bytes of rdata).
    pub fn a(&self) -> Option<Ipv4Addr> {
        if self.rtype != rtype::A {
            return None;
        }
        let octets: [u8; 4] = self.rdata.try_into().ok()?;
        Some(Ipv4Addr::from(octets))
    }

    /// The address of an AAAA record (16 bytes of rdata).
    pub fn aaaa(&self) -> Option<Ipv6Addr> {
        if self.rtype != rtype::AAAA {
            return None;
        }
        let octets: [u8; 16] = self.rdata.try_into().ok()?;
        Some(Ipv6Addr::from(octets))
    }

    /// The address of an A or AAAA record.
    pub fn ip(&self) -> Option<IpAddr> {
        self.a()
            .map(IpAddr::V4)
            .or_else(|| self.aaaa().map(IpAddr::V6))
    }

    /// The target of a CNAME record.
    pub fn cname(&self) -> Option<Name<'a>> {
        (self.rtype == rtype::CNAME).then(|| self.rdata_name())
    }

    /// The name a CNAME, PTR, NS or DNAME record's rdata consists of.
    pub fn target_name(&self) -> Option<Name<'a>> {
        matches!(
            self.rtype,
            rtype::CNAME | rtype::PTR | rtype::NS | rtype::DNAME
        )
        .then(|| self.rdata_name())
    }

    fn rdata_name(&self) -> Name<'a> {
        Name::new_bounded(
            self.msg,
            self.rdata_offset,
            self.rdata_offset.saturating_add(self.rdata.len()),
        )
    }
}

/// Resource records after the question section; stops after the first
/// error (a malformed question section is reported as the first item).
#[derive(Clone)]
pub struct Records<'a> {
    msg: &'a [u8],
    pos: usize,
    index: u32,
    answers: u32,
    authority_end: u32,
    limit: u32,
    error: Option<DnsError>,
}

impl Records<'_> {
    /// Offset just after the records read so far.
    pub fn offset(&self) -> usize {
        self.pos
    }
}

impl<'a> Iterator for Records<'a> {
    type Item = Result<Record<'a>, DnsError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.index >= self.limit {
            return None;
        }
        if let Some(e) = self.error.take() {
            self.limit = 0;
            return Some(Err(e));
        }
        let section = if self.index < self.answers {
            Section::Answer
        } else if self.index < self.authority_end {
            Section::Authority
        } else {
            Section::Additional
        };
        self.index = self.index.saturating_add(1);
        let result = (|| {
            let start = self.pos;
            let msg = self.msg;
            let fixed = skip_name(msg, start, msg.len())?;
            let truncated = DnsError::Truncated {
                what: "resource record",
                offset: start,
            };
            let (Some(rtype), Some(class), Some(ttl), Some(rdlen)) = (
                read_field_u16(msg, fixed, field::RR_TYPE),
                read_field_u16(msg, fixed, field::RR_CLASS),
                get_u32(msg, fixed.saturating_add(field::RR_TTL.start)),
                read_field_u16(msg, fixed, field::RR_RDLENGTH),
            ) else {
                return Err(truncated);
            };
            let rdata_offset = fixed.saturating_add(field::RR_FIXED_LEN);
            let rdata_end = rdata_offset.saturating_add(usize::from(rdlen));
            let Some(rdata) = msg.get(rdata_offset..rdata_end) else {
                return Err(DnsError::Truncated {
                    what: "rdata",
                    offset: rdata_offset,
                });
            };
            self.pos = rdata_end;
            Ok(Record {
                section,
                name: Name::new(msg, start),
                rtype,
                class,
                ttl,
                rdata,
                rdata_offset,
                msg,
            })
        })();
        if result.is_err() {
            self.limit = 0;
        }
        Some(result)
    }
}

/// A protocol mnemonic: a known name, or a prefixed number for values
/// without one (`TYPE65280`, `RCODE15`). Displays without allocating.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mnemonic {
    Known(&'static str),
    Numbered { prefix: &'static str, value: u16 },
}

impl Mnemonic {
    /// The name, if the value has one.
    pub fn known(&self) -> Option<&'static str> {
        match *self {
            Mnemonic::Known(s) => Some(s),
            Mnemonic::Numbered { .. } => None,
        }
    }

    /// The text, borrowed when the value is known.
    pub fn to_cow(&self) -> Cow<'static, str> {
        match *self {
            Mnemonic::Known(s) => Cow::Borrowed(s),
            Mnemonic::Numbered { prefix, value } => Cow::Owned(format!("{prefix}{value}")),
        }
    }
}

impl fmt::Display for Mnemonic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Mnemonic::Known(s) => f.write_str(s),
            Mnemonic::Numbered { prefix, value } => write!(f, "{prefix}{value}"),
        }
    }
}

/// The mnemonic of a record/query type (IANA "Resource Record (RR) TYPEs"),
/// `TYPE<n>` (RFC 3597) for the rest.
pub fn qtype_name(qtype: u16) -> Mnemonic {
    let name = match qtype {
        1 => "A",
        2 => "NS",
        3 => "MD",
        4 => "MF",
        5 => "CNAME",
        6 => "SOA",
        7 => "MB",
        8 => "MG",
        9 => "MR",
        10 => "NULL",
        11 => "WKS",
        12 => "PTR",
        13 => "HINFO",
        14 => "MINFO",
        15 => "MX",
        16 => "TXT",
        17 => "RP",
        18 => "AFSDB",
        19 => "X25",
        20 => "ISDN",
        21 => "RT",
        22 => "NSAP",
        23 => "NSAP-PTR",
        24 => "SIG",
        25 => "KEY",
        26 => "PX",
        27 => "GPOS",
        28 => "AAAA",
        29 => "LOC",
        30 => "NXT",
        31 => "EID",
        32 => "NIMLOC",
        33 => "SRV",
        34 => "ATMA",
        35 => "NAPTR",
        36 => "KX",
        37 => "CERT",
        38 => "A6",
        39 => "DNAME",
        40 => "SINK",
        41 => "OPT",
        42 => "APL",
        43 => "DS",
        44 => "SSHFP",
        45 => "IPSECKEY",
        46 => "RRSIG",
        47 => "NSEC",
        48 => "DNSKEY",
        49 => "DHCID",
        50 => "NSEC3",
        51 => "NSEC3PARAM",
        52 => "TLSA",
        53 => "SMIMEA",
        55 => "HIP",
        56 => "NINFO",
        57 => "RKEY",
        58 => "TALINK",
        59 => "CDS",
        60 => "CDNSKEY",
        61 => "OPENPGPKEY",
        62 => "CSYNC",
        63 => "ZONEMD",
        64 => "SVCB",
        65 => "HTTPS",
        99 => "SPF",
        100 => "UINFO",
        101 => "UID",
        102 => "GID",
        103 => "UNSPEC",
        104 => "NID",
        105 => "L32",
        106 => "L64",
        107 => "LP",
        108 => "EUI48",
        109 => "EUI64",
        249 => "TKEY",
        250 => "TSIG",
        251 => "IXFR",
        252 => "AXFR",
        253 => "MAILB",
        254 => "MAILA",
        255 => "ANY",
        256 => "URI",
        257 => "CAA",
        258 => "AVC",
        259 => "DOA",
        260 => "AMTRELAY",
        32768 => "TA",
        32769 => "DLV",
        _ => {
            return Mnemonic::Numbered {
                prefix: "TYPE",
                value: qtype,
            }
        }
    };
    Mnemonic::Known(name)
}

/// The mnemonic of a response code (IANA "DNS RCODEs"; 16 and up only
/// exist as extended rcodes), `RCODE<n>` for the rest.
pub fn rcode_name(rcode: u16) -> Mnemonic {
    let name = match rcode {
        0 => "NOERROR",
        1 => "FORMERR",
        2 => "SERVFAIL",
        3 => "NXDOMAIN",
        4 => "NOTIMP",
        5 => "REFUSED",
        6 => "YXDOMAIN",
        7 => "YXRRSET",
        8 => "NXRRSET",
        9 => "NOTAUTH",
        10 => "NOTZONE",
        11 => "DSOTYPENI",
        16 => "BADVERS",
        17 => "BADKEY",
        18 => "BADTIME",
        19 => "BADMODE",
        20 => "BADNAME",
        21 => "BADALG",
        22 => "BADTRUNC",
        23 => "BADCOOKIE",
        _ => {
            return Mnemonic::Numbered {
                prefix: "RCODE",
                value: rcode,
            }
        }
    };
    Mnemonic::Known(name)
}

/// Largest message a 2-byte length prefix can announce (DNS over TCP,
/// RFC 1035 §4.2.2).
pub const MAX_TCP_MESSAGE_LEN: usize = 65535;

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A response from the Wireshark sample capture `dns.cap` (frame 16):
    /// `www.google.com AAAA` answered by a CNAME `www.l.google.com` whose
    /// rdata is `www` + `l` + a pointer to `google.com` in the question.
    pub(crate) static CNAME_RESPONSE: [u8; 52] = [
        0x8d, 0xb3, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
        0x77, 0x06, 0x67, 0x6f, 0x6f, 0x67, 0x6c, 0x65, 0x03, 0x63, 0x6f, 0x6d, 0x00, 0x00, 0x1c,
        0x00, 0x01, 0xc0, 0x0c, 0x00, 0x05, 0x00, 0x01, 0x00, 0x00, 0x02, 0x79, 0x00, 0x08, 0x03,
        0x77, 0x77, 0x77, 0x01, 0x6c, 0xc0, 0x10,
    ];

    /// Same capture, frame 10: `www.netbsd.org A` answered 204.152.190.12.
    pub(crate) static A_RESPONSE: [u8; 48] = [
        0x75, 0xc0, 0x81, 0x80, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x03, 0x77, 0x77,
        0x77, 0x06, 0x6e, 0x65, 0x74, 0x62, 0x73, 0x64, 0x03, 0x6f, 0x72, 0x67, 0x00, 0x00, 0x01,
        0x00, 0x01, 0xc0, 0x0c, 0x00, 0x01, 0x00, 0x01, 0x00, 0x01, 0x40, 0xef, 0x00, 0x04, 0xcc,
        0x98, 0xbe, 0x0c,
    ];

    fn render(name: &Name<'_>) -> Result<String, DnsError> {
        let mut buf = [0u8; NAME_BUF_LEN];
        let len = name.write_lower(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
    }

    /// A header (id 0x1234, a response with one question) followed by `body`.
    fn message(body: &[u8]) -> Vec<u8> {
        let mut m = vec![0x12, 0x34, 0x81, 0x80, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(body);
        m
    }

    fn first_question_name(m: &[u8]) -> Result<String, DnsError> {
        let msg = DnsMessage::new_checked(m)?;
        let q = msg.questions().next().expect("one question")?;
        render(&q.name)
    }

    #[test]
    fn header_fields_read_as_tshark_shows_them() {
        let msg = DnsMessage::new_checked(&CNAME_RESPONSE).unwrap();
        assert_eq!(msg.id(), 0x8db3);
        assert!(msg.qr() && msg.rd() && msg.ra());
        assert!(!msg.aa() && !msg.tc());
        assert_eq!(msg.opcode(), 0);
        assert_eq!(msg.rcode(), 0);
        assert_eq!(
            (
                msg.question_count(),
                msg.answer_count(),
                msg.authority_count(),
                msg.additional_count()
            ),
            (1, 1, 0, 0)
        );
    }

    #[test]
    fn question_and_compressed_cname_answer() {
        let msg = DnsMessage::new_checked(&CNAME_RESPONSE).unwrap();
        let q: Vec<_> = msg.questions().collect::<Result<_, _>>().unwrap();
        assert_eq!(q.len(), 1);
        assert_eq!(render(&q[0].name).unwrap(), "www.google.com");
        assert_eq!((q[0].qtype, q[0].qclass), (28, 1));
        let answers: Vec<_> = msg.answers().collect::<Result<_, _>>().unwrap();
        assert_eq!(answers.len(), 1);
        let rr = answers[0];
        assert_eq!(render(&rr.name).unwrap(), "www.google.com");
        assert_eq!((rr.rtype, rr.class, rr.ttl), (rtype::CNAME, 1, 633));
        assert_eq!(rr.rdata_offset, 44);
        assert_eq!(render(&rr.cname().unwrap()).unwrap(), "www.l.google.com");
        assert!(rr.a().is_none() && rr.aaaa().is_none());
        assert!(rr.name.eq_ignore_case(&q[0].name).unwrap());
        assert!(rr.name.eq_text("WWW.Google.com.").unwrap());
        assert!(!rr.name.eq_text("www.google").unwrap());
    }

    #[test]
    fn a_record_address() {
        let msg = DnsMessage::new_checked(&A_RESPONSE).unwrap();
        let rr = msg.answers().next().unwrap().unwrap();
        assert_eq!(rr.a(), Some(Ipv4Addr::new(204, 152, 190, 12)));
        assert_eq!(rr.ip(), Some(IpAddr::V4(Ipv4Addr::new(204, 152, 190, 12))));
        assert_eq!(msg.extended_rcode(), Ok(0));
    }

    #[test]
    fn names_are_lower_cased_without_trailing_dot() {
        let m = message(b"\x03WwW\x07ExAmPlE\x03COM\x00\x00\x01\x00\x01");
        assert_eq!(first_question_name(&m).unwrap(), "www.example.com");
        let root = message(b"\x00\x00\x02\x00\x01");
        assert_eq!(first_question_name(&root).unwrap(), "");
    }

    #[test]
    fn header_shorter_than_12_bytes_is_truncated() {
        for len in 0..12 {
            assert!(matches!(
                DnsMessage::new_checked(&CNAME_RESPONSE[..len]),
                Err(DnsError::Truncated { what: "header", .. })
            ));
        }
    }

    #[test]
    fn truncation_in_every_field_is_an_error_not_a_panic() {
        for len in 12..CNAME_RESPONSE.len() {
            let msg = DnsMessage::new_checked(&CNAME_RESPONSE[..len]).unwrap();
            let mut errors = 0;
            for q in msg.questions() {
                match q {
                    Ok(q) => {
                        let _ = render(&q.name);
                    }
                    Err(e) => {
                        assert!(matches!(e, DnsError::Truncated { .. }), "{len}: {e}");
                        errors += 1;
                    }
                }
            }
            if errors > 0 {
                // The answers iterator would report the same error again.
                continue;
            }
            for r in msg.answers() {
                match r {
                    Ok(r) => {
                        let _ = render(&r.cname().unwrap());
                    }
                    Err(e) => {
                        assert!(matches!(e, DnsError::Truncated { .. }), "{len}: {e}");
                        errors += 1;
                    }
                }
            }
            assert_eq!(errors, 1, "a message cut at {len} bytes reports one error");
        }
        let whole = DnsMessage::new_checked(&CNAME_RESPONSE).unwrap();
        assert!(whole.records().all(|r| r.is_ok()));
    }

    #[test]
    fn cname_rdata_cut_inside_its_labels_is_truncated() {
        // rdlength 3 keeps only `\x03ww` of the CNAME rdata.
        let mut m = CNAME_RESPONSE.to_vec();
        m[43] = 3;
        m.truncate(47);
        let msg = DnsMessage::new_checked(&m).unwrap();
        let rr = msg.answers().next().unwrap().unwrap();
        assert!(matches!(
            render(&rr.cname().unwrap()),
            Err(DnsError::Truncated { .. })
        ));
    }

    #[test]
    fn pointer_to_itself_is_a_loop() {
        let m = message(b"\xc0\x0c\x00\x01\x00\x01");
        assert_eq!(
            first_question_name(&m),
            Err(DnsError::PointerLoop {
                offset: 12,
                target: 12
            })
        );
    }

    #[test]
    fn two_pointers_to_each_other_never_resolve() {
        // 12: a pointer to 14; 14: a pointer to 12. Whichever name is read,
        // one of the two pointers points forward, so the walk stops there.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(b"\xc0\x0e\xc0\x0c");
        for start in [12, 14] {
            let err = render(&Name::new(&m, start)).unwrap_err();
            assert!(
                matches!(
                    err,
                    DnsError::ForwardPointer { .. } | DnsError::PointerLoop { .. }
                ),
                "{start}: {err}"
            );
        }
        // The same with labels between: `a` + pointer to the second question,
        // whose name points back to the first.
        let mut m = vec![0x12, 0x34, 0x01, 0x00, 0, 2, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x01a\xc0\x14\x00\x01\x00\x01\xc0\x0c\x00\x01\x00\x01");
        let msg = DnsMessage::new_checked(&m).unwrap();
        let qs: Vec<_> = msg.questions().collect::<Result<_, _>>().unwrap();
        for q in qs {
            assert_eq!(
                render(&q.name),
                Err(DnsError::ForwardPointer {
                    offset: 14,
                    target: 20
                })
            );
        }
    }

    #[test]
    fn pointer_into_the_labels_it_continues_is_a_loop() {
        // `a` at 12, then at 14 a pointer to 13: inside the run of labels
        // that started at 12, so following it would read the same bytes again.
        let m = message(b"\x01a\xc0\x0d\x00\x01\x00\x01");
        assert_eq!(
            first_question_name(&m),
            Err(DnsError::PointerLoop {
                offset: 14,
                target: 13
            })
        );
    }

    #[test]
    fn pointer_into_the_header_reads_the_header_bytes_as_labels() {
        // Found by fuzzing: the question is `\x01` + an 11-byte label + a
        // pointer to offset 1, where the header's bytes read as labels of
        // one byte until 0xcd at offset 7 — a pointer forward to 3583.
        let m: [u8; 34] = [
            0x01, 0x01, 0x01, 0x01, 0x00, 0x01, 0x3d, 0xcd, 0xff, 0x00, 0x65, 0x00, 0x01, 0x01,
            0x0b, 0x00, 0x01, 0x00, 0x09, 0x01, 0x01, 0x26, 0x01, 0x00, 0x00, 0x00, 0xc0, 0x01,
            0x00, 0x01, 0x00, 0x01, 0x00, 0x00,
        ];
        assert_eq!(
            first_question_name(&m),
            Err(DnsError::ForwardPointer {
                offset: 7,
                target: 3583
            })
        );
        // With the counts after offset 6 zeroed, offset 7 is a root label.
        let mut zeroed = m;
        zeroed[6..12].fill(0);
        zeroed[5] = 1;
        let name = Name::new(&zeroed, 12);
        let labels: Vec<_> = name.labels().collect::<Result<_, _>>().unwrap();
        assert_eq!(labels.len(), 5);
    }

    #[test]
    fn forward_pointer_is_rejected() {
        let m = message(b"\xc0\x12\x00\x01\x00\x01\x01a\x00");
        assert_eq!(
            first_question_name(&m),
            Err(DnsError::ForwardPointer {
                offset: 12,
                target: 18
            })
        );
    }

    #[test]
    fn pointer_chain_is_followed() {
        // 12: `c.com`; 19: `b` → 12; 23: `a` → 19; the question at 27 → 23.
        let mut m = vec![0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0];
        m.extend_from_slice(b"\x01c\x03com\x00");
        m.extend_from_slice(b"\x01b\xc0\x0c");
        m.extend_from_slice(b"\x01a\xc0\x13");
        let q = m.len();
        m.extend_from_slice(b"\xc0\x17\x00\x01\x00\x01");
        let name = Name::new(&m, q);
        assert_eq!(render(&name).unwrap(), "a.b.c.com");
        let labels: Vec<_> = name.labels().collect::<Result<_, _>>().unwrap();
        assert_eq!(labels, [&b"a"[..], b"b", b"c", b"com"]);
    }

    #[test]
    fn more_than_64_jumps_is_a_loop_even_if_each_points_back() {
        // 70 pointers, each to the one before it; the first is a root label.
        let mut m = vec![0u8; 12];
        m.push(0);
        for i in 0..70usize {
            let target = if i == 0 { 12 } else { 13 + 2 * (i - 1) };
            m.extend_from_slice(&(0xc000u16 | target as u16).to_be_bytes());
        }
        let last = m.len() - 2;
        assert!(matches!(
            render(&Name::new(&m, last)),
            Err(DnsError::PointerLoop { .. })
        ));
        // 64 jumps are fine.
        assert_eq!(render(&Name::new(&m, 13 + 2 * 63)).unwrap(), "");
    }

    /// A name of `labels` labels of `len` bytes each, wire-encoded.
    fn wire_name(sizes: &[usize]) -> Vec<u8> {
        let mut w = Vec::new();
        for &n in sizes {
            w.push(n as u8);
            w.extend(std::iter::repeat(b'x').take(n));
        }
        w.push(0);
        w
    }

    #[test]
    fn name_of_255_wire_bytes_is_accepted_256_is_too_long() {
        // 3 × 63-byte labels + a 61-byte label: 4×1 + 189 + 61 + 1 = 255.
        let ok = wire_name(&[63, 63, 63, 61]);
        assert_eq!(ok.len(), 255);
        let mut m = message(&ok);
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(first_question_name(&m).unwrap().len(), 253);

        let long = wire_name(&[63, 63, 63, 62]);
        assert_eq!(long.len(), 256);
        let mut m = message(&long);
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert!(matches!(
            first_question_name(&m),
            Err(DnsError::NameTooLong { .. })
        ));
    }

    #[test]
    fn name_too_long_through_pointers() {
        // 200 bytes in place, then a pointer to a 100-byte name before it.
        let mut m = vec![0u8; 12];
        m.extend_from_slice(&wire_name(&[50, 48]));
        let q = m.len();
        m.extend_from_slice(&wire_name(&[63, 63, 63])[..192]);
        m.extend_from_slice(&[0xc0, 12, 0, 1, 0, 1]);
        assert!(matches!(
            render(&Name::new(&m, q)),
            Err(DnsError::NameTooLong { .. })
        ));
    }

    #[test]
    fn label_of_63_bytes_is_accepted_64_is_a_bad_label() {
        let mut m = message(&wire_name(&[63]));
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(first_question_name(&m).unwrap().len(), 63);
        // A length octet of 64 is 0b01_000000: the reserved extended-label type.
        let mut m = message(&wire_name(&[64]));
        m.extend_from_slice(&[0, 1, 0, 1]);
        assert_eq!(
            first_question_name(&m),
            Err(DnsError::BadLabel {
                offset: 12,
                byte: 0x40
            })
        );
    }

    #[test]
    fn label_type_0x80_is_a_bad_label() {
        let m = message(b"\x01a\x80\x00\x00\x01\x00\x01");
        let msg = DnsMessage::new_checked(&m).unwrap();
        assert!(matches!(
            msg.questions().next().unwrap(),
            Err(DnsError::BadLabel {
                offset: 14,
                byte: 0x80
            })
        ));
    }

    #[test]
    fn records_after_a_bad_question_report_the_error_once() {
        let m = message(b"\x01a\x80\x00\x00\x01\x00\x01");
        let mut with_answer = m.clone();
        with_answer[7] = 1;
        let msg = DnsMessage::new_checked(&with_answer).unwrap();
        let all: Vec<_> = msg.records().collect();
        assert_eq!(all.len(), 1);
        assert!(all[0].is_err());
    }

    #[test]
    fn extended_rcode_combines_opt_ttl_and_header() {
        // A FORMERR header (1) with an OPT whose extended rcode byte is 1:
        // (1 << 4) | 1 = 17 (BADKEY's number, here just arithmetic).
        let mut m = vec![0, 7, 0x81, 0x01, 0, 0, 0, 0, 0, 0, 0, 1];
        m.extend_from_slice(&[0, 0, 41, 0x10, 0x00, 0x01, 0x00, 0x00, 0x00, 0, 0]);
        let msg = DnsMessage::new_checked(&m).unwrap();
        assert_eq!(msg.rcode(), 1);
        assert_eq!(msg.extended_rcode(), Ok(17));
    }

    #[test]
    fn type_and_rcode_mnemonics() {
        assert_eq!(qtype_name(1).to_string(), "A");
        assert_eq!(qtype_name(28).to_string(), "AAAA");
        assert_eq!(qtype_name(65).known(), Some("HTTPS"));
        assert_eq!(qtype_name(64).known(), Some("SVCB"));
        assert_eq!(qtype_name(255).known(), Some("ANY"));
        assert_eq!(qtype_name(65280).to_string(), "TYPE65280");
        assert_eq!(qtype_name(65280).known(), None);
        assert_eq!(rcode_name(0).to_string(), "NOERROR");
        assert_eq!(rcode_name(3).to_cow(), "NXDOMAIN");
        assert_eq!(rcode_name(15).to_string(), "RCODE15");
    }
}
