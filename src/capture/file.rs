//! Capture files: classic pcap (µs and ns, both byte orders) and pcapng.
//!
//! [`CaptureFile`] reads one file as a [`Source`]; `lanwatch replay FILE...`
//! opens one per file, in order, when the file's turn comes, and runs each
//! through the same pipeline (so a damaged file can be reported and skipped).
//!
//! The format is told by the magic number, never by the file name: plenty of
//! `.pcap` files are really pcapng. Reading streams through one reusable
//! buffer that grows to the largest record and is then reused, so a
//! multi-gigabyte capture costs no more memory than its biggest packet and no
//! allocation per packet. Everything read from the file is distrusted: record
//! and block lengths are bounded ([`MAX_CAPLEN`], [`MAX_BLOCK_LEN`]) before
//! any buffer is sized from them, and every field is read through a checked
//! accessor, so a damaged or hostile file yields a [`CaptureError`] naming
//! the file and the byte offset of the damaged record — never a panic.
//!
//! Frames read before the damage have already been handed out when the error
//! comes, so a caller that wants to keep going keeps what it counted. After a
//! `Truncated`, `Corrupt` or `Read` error the file is finished (the next call
//! yields [`Next::End`]); a pcapng packet on an interface of an unsupported
//! link type is reported and then skipped, and reading goes on after it.

use std::fs::File;
use std::io::{self, BufReader, Read};
use std::ops::Range;
use std::path::Path;

use super::{CaptureError, Frame, Next, Source};
use crate::decode::LinkType;

/// Largest captured length accepted for one packet. Real snaplens stop at
/// 262144 (libpcap's maximum); anything above is a damaged length field.
pub const MAX_CAPLEN: u32 = 256 * 1024;

/// Largest pcapng block that is buffered (packet and interface blocks): a
/// packet of [`MAX_CAPLEN`] plus generous room for its options. Blocks the
/// reader does not use are skipped by their length without being buffered.
pub const MAX_BLOCK_LEN: u32 = MAX_CAPLEN + 64 * 1024;

/// Most interfaces one pcapng section may describe (bounds the table).
pub const MAX_INTERFACES: usize = 65_536;

/// Read-ahead of the file reader.
const READ_BUFFER: usize = 64 * 1024;

/// Magic numbers, as read big-endian from the first four bytes.
mod magic {
    /// Classic pcap, microsecond timestamps.
    pub const PCAP_MICROS: u32 = 0xa1b2_c3d4;
    /// Classic pcap, nanosecond timestamps.
    pub const PCAP_NANOS: u32 = 0xa1b2_3c4d;
    /// pcapng Section Header Block type (a palindrome: same in both orders).
    pub const PCAPNG_SHB: u32 = 0x0a0d_0d0a;
    /// pcapng byte-order magic, inside the Section Header Block.
    pub const PCAPNG_BYTE_ORDER: u32 = 0x1a2b_3c4d;
}

/// Classic pcap file header and record header fields.
mod pcap_field {
    use std::ops::Range;

    pub const MAGIC: Range<usize> = 0..4;
    // VERSION_MAJOR 4..6, VERSION_MINOR 6..8, THISZONE 8..12, SIGFIGS 12..16,
    // SNAPLEN 16..20: informational, not used.
    pub const LINKTYPE: Range<usize> = 20..24;
    pub const HEADER_LEN: usize = 24;

    pub const TS_SEC: Range<usize> = 0..4;
    pub const TS_FRAC: Range<usize> = 4..8;
    pub const INCL_LEN: Range<usize> = 8..12;
    pub const ORIG_LEN: Range<usize> = 12..16;
    pub const RECORD_HEADER_LEN: usize = 16;

    /// The low bits of the link-type field; the high bits carry FCS
    /// information (libpcap's `LT_LINKTYPE`).
    pub const LINKTYPE_MASK: u32 = 0x03ff_ffff;
}

/// pcapng block fields. Offsets inside a block body are counted from the end
/// of the 8-byte block header (type, total length); the 4-byte trailing
/// total length closes every block.
mod ng_field {
    use std::ops::Range;

    pub const BLOCK_TYPE: Range<usize> = 0..4;
    pub const BLOCK_LEN: Range<usize> = 4..8;
    pub const BLOCK_HEADER_LEN: usize = 8;
    pub const BLOCK_TRAILER_LEN: usize = 4;

    pub const TYPE_IDB: u32 = 0x0000_0001;
    pub const TYPE_PB: u32 = 0x0000_0002;
    pub const TYPE_SPB: u32 = 0x0000_0003;
    pub const TYPE_NRB: u32 = 0x0000_0004;
    pub const TYPE_ISB: u32 = 0x0000_0005;
    pub const TYPE_EPB: u32 = 0x0000_0006;
    pub const TYPE_DSB: u32 = 0x0000_000a;
    pub const TYPE_CUSTOM: u32 = 0x0000_0bad;
    pub const TYPE_CUSTOM_NO_COPY: u32 = 0x4000_0bad;

    /// Section Header Block, counted from the block start (its length can
    /// only be read once the byte-order magic after it is known).
    pub mod shb {
        use std::ops::Range;
        pub const BYTE_ORDER: Range<usize> = 8..12;
        pub const MAJOR: Range<usize> = 12..14;
        // MINOR 14..16, SECTION_LEN 16..24, then options.
        pub const FIXED_LEN: usize = 24;
    }

    /// Interface Description Block body.
    pub mod idb {
        use std::ops::Range;
        pub const LINKTYPE: Range<usize> = 0..2;
        // RESERVED 2..4
        pub const SNAPLEN: Range<usize> = 4..8;
        pub const OPTIONS: usize = 8;
        pub const OPT_TSRESOL: u16 = 9;
        pub const OPT_TSOFFSET: u16 = 14;
    }

    /// Enhanced Packet Block body.
    pub mod epb {
        use std::ops::Range;
        pub const INTERFACE: Range<usize> = 0..4;
        pub const TS_HIGH: Range<usize> = 4..8;
        pub const TS_LOW: Range<usize> = 8..12;
        pub const CAPLEN: Range<usize> = 12..16;
        pub const ORIG_LEN: Range<usize> = 16..20;
        pub const DATA: usize = 20;
        pub const OPT_FLAGS: u16 = 2;
    }

    /// Obsolete Packet Block body: the EPB's layout, but the interface id
    /// is 16 bits, followed by a 16-bit drop count (2..4).
    pub mod pb {
        use std::ops::Range;
        pub const INTERFACE: Range<usize> = 0..2;
    }

    /// Simple Packet Block body: original length, then the data.
    pub mod spb {
        use std::ops::Range;
        pub const ORIG_LEN: Range<usize> = 0..4;
        pub const DATA: usize = 4;
    }

    /// Options: code, length, value padded to 4 bytes.
    pub mod opt {
        use std::ops::Range;
        pub const CODE: Range<usize> = 0..2;
        pub const LEN: Range<usize> = 2..4;
        pub const VALUE: usize = 4;
        pub const END_OF_OPT: u16 = 0;
    }
}

/// Byte order of a file or pcapng section.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Endian {
    Little,
    Big,
}

impl Endian {
    fn u16(self, bytes: &[u8], at: Range<usize>) -> Option<u16> {
        let b: [u8; 2] = bytes.get(at)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u16::from_le_bytes(b),
            Endian::Big => u16::from_be_bytes(b),
        })
    }

    fn u32(self, bytes: &[u8], at: Range<usize>) -> Option<u32> {
        let b: [u8; 4] = bytes.get(at)?.try_into().ok()?;
        Some(match self {
            Endian::Little => u32::from_le_bytes(b),
            Endian::Big => u32::from_be_bytes(b),
        })
    }

    fn i64(self, bytes: &[u8], at: Range<usize>) -> Option<i64> {
        let b: [u8; 8] = bytes.get(at)?.try_into().ok()?;
        Some(match self {
            Endian::Little => i64::from_le_bytes(b),
            Endian::Big => i64::from_be_bytes(b),
        })
    }
}

/// The first four bytes as a big-endian number, as magic numbers are written.
fn be_u32(bytes: &[u8], at: Range<usize>) -> Option<u32> {
    Endian::Big.u32(bytes, at)
}

/// A length rounded up to the next multiple of 4 (pcapng padding).
fn padded4(len: usize) -> Option<usize> {
    len.checked_add(3).map(|l| l & !3)
}

/// How a pcapng interface counts time: units of 10^-n or 2^-n seconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum TsResolution {
    Decimal(u8),
    Binary(u8),
}

impl TsResolution {
    /// The pcapng default when an interface has no `if_tsresol`: µs.
    const MICROS: TsResolution = TsResolution::Decimal(6);

    /// Decodes the `if_tsresol` byte: the high bit picks base 2.
    fn from_option(byte: u8) -> TsResolution {
        if byte & 0x80 != 0 {
            TsResolution::Binary(byte & 0x7f)
        } else {
            TsResolution::Decimal(byte)
        }
    }

    /// Converts a count of units to nanoseconds, rounding down.
    fn to_nanos(self, units: u64) -> u128 {
        let units = u128::from(units);
        match self {
            TsResolution::Decimal(exp) if exp <= 9 => {
                let scale = 10u128.pow(u32::from(9 - exp));
                units.saturating_mul(scale)
            }
            TsResolution::Decimal(exp) => match 10u128.checked_pow(u32::from(exp - 9)) {
                Some(divisor) => units / divisor,
                None => 0,
            },
            // exp <= 127 and units * 1e9 < 2^94, so neither step overflows.
            TsResolution::Binary(exp) => units.saturating_mul(1_000_000_000) >> exp,
        }
    }
}

/// What one pcapng Interface Description Block said.
#[derive(Clone, Copy, Debug)]
struct Interface {
    linktype: u32,
    link: Option<LinkType>,
    snaplen: u32,
    tsresol: TsResolution,
    tsoffset_secs: i64,
}

impl Interface {
    /// Nanoseconds since the epoch of a packet stamped `units` on this
    /// interface, saturating at both ends of the u64 range.
    fn ts_nanos(&self, units: u64) -> u64 {
        let base = i128::try_from(self.tsresol.to_nanos(units)).unwrap_or(i128::MAX);
        let offset = i128::from(self.tsoffset_secs).saturating_mul(1_000_000_000);
        let total = base.saturating_add(offset);
        if total < 0 {
            0
        } else {
            u64::try_from(total).unwrap_or(u64::MAX)
        }
    }
}

/// The file's layout, fixed by its header.
#[derive(Debug)]
enum Format {
    Pcap {
        order: Endian,
        /// Nanoseconds per unit of the record's fractional timestamp.
        frac_nanos: u64,
        link: LinkType,
    },
    Pcapng {
        order: Endian,
        /// The current section's interfaces, by id.
        interfaces: Vec<Interface>,
    },
}

/// Where a packet's bytes sit in the buffer, and what goes with them.
#[derive(Clone, Copy, Debug)]
struct Record {
    ts_nanos: u64,
    wire_len: u32,
    link: LinkType,
    data: (usize, usize),
    outgoing: bool,
}

/// One capture file read as a stream of frames.
///
/// `R` is the byte stream; [`CaptureFile::open`] gives a buffered file,
/// [`CaptureFile::from_reader`] takes any reader (a byte slice, a socket...).
pub struct CaptureFile<R: Read = BufReader<File>> {
    /// What errors call the input (the file's path).
    path: String,
    input: R,
    /// Bytes consumed from `input` so far.
    offset: u64,
    /// The current record; grows to the largest one and is reused.
    buf: Vec<u8>,
    format: Format,
    /// Timestamp of the last packet, for Simple Packet Blocks (which have none).
    last_ts: u64,
    done: bool,
}

impl CaptureFile {
    /// Opens `path` and reads its header: a pcap file header, or the first
    /// pcapng Section Header Block. Only a regular file is opened: a FIFO,
    /// a directory or a device is refused at once, saying what it is
    /// (opening a FIFO would otherwise wait for a writer for ever).
    pub fn open(path: &Path) -> Result<CaptureFile, CaptureError> {
        let name = path.display().to_string();
        let file = crate::files::open_regular(path).map_err(|source| CaptureError::Open {
            path: name.clone(),
            source,
        })?;
        CaptureFile::from_reader(name, BufReader::with_capacity(READ_BUFFER, file))
    }
}

impl<R: Read> CaptureFile<R> {
    /// Reads a capture from any byte stream; `name` stands for it in errors.
    /// The stream is read in small pieces: wrap unbuffered readers in a
    /// `BufReader`.
    pub fn from_reader(name: impl Into<String>, input: R) -> Result<CaptureFile<R>, CaptureError> {
        let mut file = CaptureFile {
            path: name.into(),
            input,
            offset: 0,
            buf: Vec::new(),
            // Replaced by the header below.
            format: Format::Pcapng {
                order: Endian::Little,
                interfaces: Vec::new(),
            },
            last_ts: 0,
            done: false,
        };
        file.read_file_header()?;
        Ok(file)
    }

    /// The name errors use for this input.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// Bytes consumed so far: the offset of the next record.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Reads the next packet into the buffer; `None` at the end of the file.
    fn advance(&mut self) -> Result<Option<Record>, CaptureError> {
        if self.done {
            return Ok(None);
        }
        let result = match self.format {
            Format::Pcap { .. } => self.read_pcap_record(),
            Format::Pcapng { .. } => self.read_pcapng_packet(),
        };
        match &result {
            Ok(Some(record)) => self.last_ts = record.ts_nanos,
            Ok(None) => self.done = true,
            // A packet on an unsupported interface was consumed whole: the
            // next one can still be read. Anything else loses our place.
            Err(CaptureError::UnsupportedInterfaceLinkType { .. }) => {}
            Err(_) => self.done = true,
        }
        result
    }

    /// The frame of a record `advance` just read.
    fn frame(&self, record: Record) -> Frame<'_> {
        let (start, len) = record.data;
        let data = start
            .checked_add(len)
            .and_then(|end| self.buf.get(start..end))
            .unwrap_or_default();
        Frame {
            ts_nanos: record.ts_nanos,
            wire_len: record.wire_len,
            link: record.link,
            data,
            outgoing: record.outgoing,
        }
    }

    // ---- reading primitives -------------------------------------------

    /// Fills `dst` as far as the input goes; returns how many bytes it got
    /// (less than `dst.len()` only at the end of the input).
    fn read_up_to(&mut self, dst: &mut [u8]) -> Result<usize, CaptureError> {
        let mut got = 0;
        while let Some(rest) = dst.get_mut(got..) {
            if rest.is_empty() {
                break;
            }
            match self.input.read(rest) {
                Ok(0) => break,
                Ok(n) => {
                    got = got.saturating_add(n);
                    self.offset = self.offset.saturating_add(n as u64);
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(source) => {
                    return Err(CaptureError::Read {
                        path: self.path.clone(),
                        offset: self.offset,
                        source,
                    })
                }
            }
        }
        Ok(got)
    }

    /// Fills `dst` completely or reports the file truncated inside `what`,
    /// which started at `start`.
    fn read_exact_at(
        &mut self,
        dst: &mut [u8],
        start: u64,
        what: &'static str,
    ) -> Result<(), CaptureError> {
        if self.read_up_to(dst)? < dst.len() {
            return Err(self.truncated(start, what));
        }
        Ok(())
    }

    /// Reads `len` bytes into the start of the reusable buffer.
    fn read_into_buf(
        &mut self,
        len: usize,
        start: u64,
        what: &'static str,
    ) -> Result<(), CaptureError> {
        if self.buf.len() < len {
            // Lengths are bounded by MAX_BLOCK_LEN before they get here.
            self.buf.resize(len, 0);
        }
        let mut buf = std::mem::take(&mut self.buf);
        let result = match buf.get_mut(..len) {
            Some(dst) => self.read_exact_at(dst, start, what),
            None => Err(self.corrupt(start, format!("{what} of {len} bytes does not fit"))),
        };
        self.buf = buf;
        result
    }

    /// Skips `len` bytes without buffering them.
    fn skip(&mut self, len: u64, start: u64, what: &'static str) -> Result<(), CaptureError> {
        let copied = io::copy(&mut (&mut self.input).take(len), &mut io::sink());
        match copied {
            Ok(n) => {
                self.offset = self.offset.saturating_add(n);
                if n < len {
                    return Err(self.truncated(start, what));
                }
                Ok(())
            }
            Err(source) => Err(CaptureError::Read {
                path: self.path.clone(),
                offset: self.offset,
                source,
            }),
        }
    }

    fn truncated(&self, offset: u64, what: &'static str) -> CaptureError {
        CaptureError::Truncated {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    fn corrupt(&self, offset: u64, what: String) -> CaptureError {
        CaptureError::Corrupt {
            path: self.path.clone(),
            offset,
            what,
        }
    }

    // ---- file header --------------------------------------------------

    fn read_file_header(&mut self) -> Result<(), CaptureError> {
        let mut magic = [0u8; 4];
        match self.read_up_to(&mut magic)? {
            0 => {
                return Err(CaptureError::Empty {
                    path: self.path.clone(),
                })
            }
            4 => {}
            _ => return Err(self.truncated(0, "file header")),
        }
        let magic_be = u32::from_be_bytes(magic);
        let magic_le = u32::from_le_bytes(magic);
        let pcap = |m: u32| match m {
            magic::PCAP_MICROS => Some(1_000),
            magic::PCAP_NANOS => Some(1),
            _ => None,
        };
        if let Some(frac_nanos) = pcap(magic_le) {
            self.read_pcap_header(magic, Endian::Little, frac_nanos)
        } else if let Some(frac_nanos) = pcap(magic_be) {
            self.read_pcap_header(magic, Endian::Big, frac_nanos)
        } else if magic_be == magic::PCAPNG_SHB {
            self.read_section_header(0)
        } else {
            Err(self.corrupt(
                0,
                format!("not a pcap or pcapng file (magic 0x{magic_be:08x})"),
            ))
        }
    }

    fn read_pcap_header(
        &mut self,
        magic: [u8; 4],
        order: Endian,
        frac_nanos: u64,
    ) -> Result<(), CaptureError> {
        let mut header = [0u8; pcap_field::HEADER_LEN];
        if let Some(dst) = header.get_mut(pcap_field::MAGIC) {
            dst.copy_from_slice(&magic);
        }
        if let Some(rest) = header.get_mut(pcap_field::MAGIC.end..) {
            self.read_exact_at(rest, 0, "file header")?;
        }
        let linktype = order.u32(&header, pcap_field::LINKTYPE).unwrap_or_default()
            & pcap_field::LINKTYPE_MASK;
        let link =
            LinkType::from_pcap(linktype).ok_or_else(|| CaptureError::UnsupportedLinkType {
                path: self.path.clone(),
                linktype,
            })?;
        self.format = Format::Pcap {
            order,
            frac_nanos,
            link,
        };
        Ok(())
    }

    // ---- classic pcap records -----------------------------------------

    fn read_pcap_record(&mut self) -> Result<Option<Record>, CaptureError> {
        let Format::Pcap {
            order,
            frac_nanos,
            link,
        } = self.format
        else {
            return Ok(None);
        };
        let start = self.offset;
        let mut header = [0u8; pcap_field::RECORD_HEADER_LEN];
        match self.read_up_to(&mut header)? {
            0 => return Ok(None),
            pcap_field::RECORD_HEADER_LEN => {}
            _ => return Err(self.truncated(start, "packet record header")),
        }
        let field = |at| order.u32(&header, at).unwrap_or_default();
        let ts_sec = u64::from(field(pcap_field::TS_SEC));
        let ts_frac = u64::from(field(pcap_field::TS_FRAC));
        let caplen = field(pcap_field::INCL_LEN);
        let wire_len = field(pcap_field::ORIG_LEN);
        if caplen > MAX_CAPLEN {
            return Err(self.corrupt(
                start,
                format!("packet record claims {caplen} captured bytes (limit {MAX_CAPLEN})"),
            ));
        }
        let caplen = caplen as usize;
        self.read_into_buf(caplen, start, "packet record")?;
        let ts_nanos = ts_sec
            .saturating_mul(1_000_000_000)
            .saturating_add(ts_frac.saturating_mul(frac_nanos));
        Ok(Some(Record {
            ts_nanos,
            wire_len,
            link,
            data: (0, caplen),
            outgoing: false,
        }))
    }

    // ---- pcapng blocks ------------------------------------------------

    /// Reads a Section Header Block whose 4-byte type, at `start`, has
    /// already been consumed; starts a new section with no interfaces.
    fn read_section_header(&mut self, start: u64) -> Result<(), CaptureError> {
        use ng_field::shb;
        const WHAT: &str = "section header block";
        let mut head = [0u8; shb::FIXED_LEN];
        let (block_type, rest) = head.split_at_mut(ng_field::BLOCK_TYPE.end);
        block_type.copy_from_slice(&magic::PCAPNG_SHB.to_be_bytes());
        self.read_exact_at(rest, start, WHAT)?;
        // The byte-order magic says how to read everything else, the block
        // length included.
        let order = match be_u32(&head, shb::BYTE_ORDER) {
            Some(magic::PCAPNG_BYTE_ORDER) => Endian::Big,
            Some(m) if m == magic::PCAPNG_BYTE_ORDER.swap_bytes() => Endian::Little,
            m => {
                return Err(self.corrupt(
                    start,
                    format!(
                        "section header block has byte-order magic 0x{:08x}, not 0x{:08x}",
                        m.unwrap_or_default(),
                        magic::PCAPNG_BYTE_ORDER
                    ),
                ))
            }
        };
        let block_len = order.u32(&head, ng_field::BLOCK_LEN).unwrap_or_default();
        let fixed = shb::FIXED_LEN.saturating_add(ng_field::BLOCK_TRAILER_LEN);
        self.check_block_len(start, block_len, fixed, WHAT)?;
        let major = order.u16(&head, shb::MAJOR).unwrap_or_default();
        if major != 1 {
            return Err(self.corrupt(
                start,
                format!("unsupported pcapng version {major} (only 1 is defined)"),
            ));
        }
        // Options are not needed: skip them, then check the trailer.
        let options = u64::from(block_len).saturating_sub(fixed as u64);
        self.skip(options, start, WHAT)?;
        self.read_trailer(start, order, block_len, WHAT)?;
        self.format = Format::Pcapng {
            order,
            interfaces: Vec::new(),
        };
        Ok(())
    }

    /// Checks a block's total length: a multiple of 4, at least its fixed
    /// part.
    fn check_block_len(
        &self,
        start: u64,
        block_len: u32,
        fixed: usize,
        what: &'static str,
    ) -> Result<(), CaptureError> {
        if block_len % 4 != 0 {
            return Err(self.corrupt(
                start,
                format!("{what} length {block_len} is not a multiple of 4"),
            ));
        }
        if (block_len as usize) < fixed {
            return Err(self.corrupt(
                start,
                format!("{what} length {block_len} is shorter than its {fixed}-byte fixed part"),
            ));
        }
        Ok(())
    }

    /// Reads the trailing copy of the block length and checks it.
    fn read_trailer(
        &mut self,
        start: u64,
        order: Endian,
        block_len: u32,
        what: &'static str,
    ) -> Result<(), CaptureError> {
        let mut trailer = [0u8; ng_field::BLOCK_TRAILER_LEN];
        self.read_exact_at(&mut trailer, start, what)?;
        self.check_trailer(start, order.u32(&trailer, 0..4), block_len, what)
    }

    fn check_trailer(
        &self,
        start: u64,
        trailer: Option<u32>,
        block_len: u32,
        what: &'static str,
    ) -> Result<(), CaptureError> {
        match trailer {
            Some(len) if len == block_len => Ok(()),
            other => Err(self.corrupt(
                start,
                format!(
                    "{what} ends with length {}, but starts with {block_len}",
                    other.unwrap_or_default()
                ),
            )),
        }
    }

    /// Reads blocks until a packet (or the end of the file).
    fn read_pcapng_packet(&mut self) -> Result<Option<Record>, CaptureError> {
        loop {
            let Format::Pcapng { order, .. } = self.format else {
                return Ok(None);
            };
            let start = self.offset;
            let mut block_type = [0u8; 4];
            match self.read_up_to(&mut block_type)? {
                0 => return Ok(None),
                4 => {}
                _ => return Err(self.truncated(start, "block header")),
            }
            if be_u32(&block_type, 0..4) == Some(magic::PCAPNG_SHB) {
                self.read_section_header(start)?;
                continue;
            }
            let mut header = [0u8; ng_field::BLOCK_HEADER_LEN];
            let (type_field, len_field) = header.split_at_mut(ng_field::BLOCK_TYPE.end);
            type_field.copy_from_slice(&block_type);
            self.read_exact_at(len_field, start, "block header")?;
            let block_type = order.u32(&header, ng_field::BLOCK_TYPE).unwrap_or_default();
            let block_len = order.u32(&header, ng_field::BLOCK_LEN).unwrap_or_default();
            let kind = BlockKind::of(block_type);
            let fixed = ng_field::BLOCK_HEADER_LEN
                .saturating_add(kind.fixed_body_len())
                .saturating_add(ng_field::BLOCK_TRAILER_LEN);
            self.check_block_len(start, block_len, fixed, kind.name())?;
            // Everything after the header, trailer included.
            let rest = (block_len as usize).saturating_sub(ng_field::BLOCK_HEADER_LEN);
            if kind == BlockKind::Other(block_type) {
                let body = (rest as u64).saturating_sub(ng_field::BLOCK_TRAILER_LEN as u64);
                self.skip(body, start, kind.name())?;
                self.read_trailer(start, order, block_len, kind.name())?;
                continue;
            }
            if block_len > MAX_BLOCK_LEN {
                return Err(self.corrupt(
                    start,
                    format!(
                        "{} length {block_len} is over the {MAX_BLOCK_LEN}-byte limit",
                        kind.name()
                    ),
                ));
            }
            self.read_into_buf(rest, start, kind.name())?;
            let body_len = rest.saturating_sub(ng_field::BLOCK_TRAILER_LEN);
            let trailer = order.u32(&self.buf, body_len..rest);
            self.check_trailer(start, trailer, block_len, kind.name())?;
            let packet = match kind {
                BlockKind::Interface => {
                    self.add_interface(start, order, body_len)?;
                    None
                }
                BlockKind::Enhanced => Some(self.packet_block(start, order, body_len, false)?),
                BlockKind::Obsolete => Some(self.packet_block(start, order, body_len, true)?),
                BlockKind::Simple => Some(self.simple_packet(start, order, body_len)?),
                BlockKind::Other(_) => None,
            };
            if packet.is_some() {
                return Ok(packet);
            }
        }
    }

    fn interfaces(&self) -> &[Interface] {
        match &self.format {
            Format::Pcapng { interfaces, .. } => interfaces,
            Format::Pcap { .. } => &[],
        }
    }

    /// The interface a packet block names, or why it has none.
    fn interface(&self, start: u64, id: u32) -> Result<Interface, CaptureError> {
        let interfaces = self.interfaces();
        match usize::try_from(id).ok().and_then(|i| interfaces.get(i)) {
            Some(iface) => Ok(*iface),
            None => Err(self.corrupt(
                start,
                format!(
                    "packet on interface {id}, but the section describes {} interface(s)",
                    interfaces.len()
                ),
            )),
        }
    }

    /// Records an Interface Description Block whose body is in the buffer.
    fn add_interface(
        &mut self,
        start: u64,
        order: Endian,
        body_len: usize,
    ) -> Result<(), CaptureError> {
        let body = self.buf.get(..body_len).unwrap_or_default();
        let linktype = u32::from(order.u16(body, ng_field::idb::LINKTYPE).unwrap_or_default());
        let snaplen = order.u32(body, ng_field::idb::SNAPLEN).unwrap_or_default();
        let mut iface = Interface {
            linktype,
            link: LinkType::from_pcap(linktype),
            snaplen,
            tsresol: TsResolution::MICROS,
            tsoffset_secs: 0,
        };
        let options = body.get(ng_field::idb::OPTIONS..).unwrap_or_default();
        let scan = scan_options(order, options, |code, value| match code {
            ng_field::idb::OPT_TSRESOL => {
                if let Some(&b) = value.first() {
                    iface.tsresol = TsResolution::from_option(b);
                }
            }
            ng_field::idb::OPT_TSOFFSET => {
                if let Some(secs) = order.i64(value, 0..8) {
                    iface.tsoffset_secs = secs;
                }
            }
            _ => {}
        });
        if let Err(code) = scan {
            return Err(self.corrupt(
                start,
                format!("interface description block option {code} runs past the block"),
            ));
        }
        let count = self.interfaces().len();
        if count >= MAX_INTERFACES {
            return Err(self.corrupt(
                start,
                format!("more than {MAX_INTERFACES} interfaces in one section"),
            ));
        }
        if let Format::Pcapng { interfaces, .. } = &mut self.format {
            interfaces.push(iface);
        }
        Ok(())
    }

    /// An Enhanced (or obsolete) Packet Block whose body is in the buffer.
    fn packet_block(
        &mut self,
        start: u64,
        order: Endian,
        body_len: usize,
        obsolete: bool,
    ) -> Result<Record, CaptureError> {
        use ng_field::{epb, pb};
        let (name, id) = if obsolete {
            let id = order.u16(&self.buf, pb::INTERFACE).map(u32::from);
            (BlockKind::Obsolete.name(), id)
        } else {
            (
                BlockKind::Enhanced.name(),
                order.u32(&self.buf, epb::INTERFACE),
            )
        };
        let id = id.unwrap_or_default();
        let high = order.u32(&self.buf, epb::TS_HIGH).unwrap_or_default();
        let low = order.u32(&self.buf, epb::TS_LOW).unwrap_or_default();
        let caplen = order.u32(&self.buf, epb::CAPLEN).unwrap_or_default();
        let wire_len = order.u32(&self.buf, epb::ORIG_LEN).unwrap_or_default();
        if caplen > MAX_CAPLEN {
            return Err(self.corrupt(
                start,
                format!("{name} claims {caplen} captured bytes (limit {MAX_CAPLEN})"),
            ));
        }
        let caplen = caplen as usize;
        let options_at = padded4(caplen).and_then(|p| p.checked_add(epb::DATA));
        let options_at = match options_at {
            Some(at) if at <= body_len => at,
            _ => {
                return Err(self.corrupt(
                    start,
                    format!(
                        "{name} of {body_len} body bytes is too short for {caplen} captured bytes"
                    ),
                ))
            }
        };
        let mut flags = 0u32;
        let options = self.buf.get(options_at..body_len).unwrap_or_default();
        let scan = scan_options(order, options, |code, value| {
            if code == epb::OPT_FLAGS {
                flags = order.u32(value, 0..4).unwrap_or_default();
            }
        });
        if let Err(code) = scan {
            return Err(self.corrupt(start, format!("{name} option {code} runs past the block")));
        }
        let iface = self.interface(start, id)?;
        let link = self.supported_link(start, id, &iface)?;
        let units = (u64::from(high) << 32) | u64::from(low);
        Ok(Record {
            ts_nanos: iface.ts_nanos(units),
            wire_len,
            link,
            data: (epb::DATA, caplen),
            // epb_flags bits 0-1: 01 inbound, 10 outbound.
            outgoing: flags & 0b11 == 0b10,
        })
    }

    /// A Simple Packet Block whose body is in the buffer: interface 0, no
    /// timestamp (the previous packet's is kept so packet time never jumps
    /// back), captured length bounded by the snaplen and the block.
    fn simple_packet(
        &mut self,
        start: u64,
        order: Endian,
        body_len: usize,
    ) -> Result<Record, CaptureError> {
        use ng_field::spb;
        let wire_len = order.u32(&self.buf, spb::ORIG_LEN).unwrap_or_default();
        let iface = self.interface(start, 0)?;
        let mut caplen = wire_len;
        if iface.snaplen != 0 {
            caplen = caplen.min(iface.snaplen);
        }
        let room = body_len.saturating_sub(spb::DATA);
        let caplen = (caplen as usize).min(room);
        if caplen > MAX_CAPLEN as usize {
            return Err(self.corrupt(
                start,
                format!(
                    "{} holds {caplen} captured bytes (limit {MAX_CAPLEN})",
                    BlockKind::Simple.name()
                ),
            ));
        }
        let link = self.supported_link(start, 0, &iface)?;
        Ok(Record {
            ts_nanos: self.last_ts,
            wire_len,
            link,
            data: (spb::DATA, caplen),
            outgoing: false,
        })
    }

    fn supported_link(
        &self,
        start: u64,
        id: u32,
        iface: &Interface,
    ) -> Result<LinkType, CaptureError> {
        iface
            .link
            .ok_or_else(|| CaptureError::UnsupportedInterfaceLinkType {
                path: self.path.clone(),
                offset: start,
                interface: id,
                linktype: iface.linktype,
            })
    }
}

/// Walks pcapng options, calling `each(code, value)` until `opt_endofopt`
/// or the end; `Err(code)` when an option's value runs past the end.
fn scan_options(
    order: Endian,
    options: &[u8],
    mut each: impl FnMut(u16, &[u8]),
) -> Result<(), u16> {
    use ng_field::opt;
    let mut at = 0usize;
    loop {
        let Some(head) = at
            .checked_add(opt::VALUE)
            .and_then(|end| options.get(at..end))
        else {
            // Fewer than 4 bytes left: padding, or no options at all.
            return Ok(());
        };
        let code = order.u16(head, opt::CODE).unwrap_or_default();
        let len = usize::from(order.u16(head, opt::LEN).unwrap_or_default());
        if code == opt::END_OF_OPT {
            return Ok(());
        }
        let value_at = at.saturating_add(opt::VALUE);
        let value = value_at
            .checked_add(len)
            .and_then(|end| options.get(value_at..end))
            .ok_or(code)?;
        each(code, value);
        at = padded4(len)
            .and_then(|p| value_at.checked_add(p))
            .ok_or(code)?;
    }
}

/// The pcapng block types this reader tells apart.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum BlockKind {
    Interface,
    Enhanced,
    Obsolete,
    Simple,
    Other(u32),
}

impl BlockKind {
    fn of(block_type: u32) -> BlockKind {
        match block_type {
            ng_field::TYPE_IDB => BlockKind::Interface,
            ng_field::TYPE_EPB => BlockKind::Enhanced,
            ng_field::TYPE_PB => BlockKind::Obsolete,
            ng_field::TYPE_SPB => BlockKind::Simple,
            other => BlockKind::Other(other),
        }
    }

    /// Bytes of the block body before its variable part.
    fn fixed_body_len(self) -> usize {
        match self {
            BlockKind::Interface => ng_field::idb::OPTIONS,
            BlockKind::Enhanced => ng_field::epb::DATA,
            BlockKind::Obsolete => ng_field::epb::DATA,
            BlockKind::Simple => ng_field::spb::DATA,
            BlockKind::Other(_) => 0,
        }
    }

    /// The block's name in error messages.
    fn name(self) -> &'static str {
        match self {
            BlockKind::Interface => "interface description block",
            BlockKind::Enhanced => "enhanced packet block",
            BlockKind::Obsolete => "packet block",
            BlockKind::Simple => "simple packet block",
            BlockKind::Other(ng_field::TYPE_NRB) => "name resolution block",
            BlockKind::Other(ng_field::TYPE_ISB) => "interface statistics block",
            BlockKind::Other(ng_field::TYPE_DSB) => "decryption secrets block",
            BlockKind::Other(ng_field::TYPE_CUSTOM | ng_field::TYPE_CUSTOM_NO_COPY) => {
                "custom block"
            }
            BlockKind::Other(_) => "block",
        }
    }
}

impl<R: Read> Source for CaptureFile<R> {
    fn next_frame(&mut self) -> Result<Next<'_>, CaptureError> {
        match self.advance()? {
            Some(record) => Ok(Next::Frame(self.frame(record))),
            None => Ok(Next::End),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A little-endian µs pcap with one record per length.
    fn pcap_with_records(lens: &[usize]) -> Vec<u8> {
        let mut out = Vec::new();
        out.extend(magic::PCAP_MICROS.to_le_bytes());
        out.extend(2u16.to_le_bytes());
        out.extend(4u16.to_le_bytes());
        out.extend([0; 8]);
        out.extend(65535u32.to_le_bytes());
        out.extend(1u32.to_le_bytes());
        for (i, &len) in lens.iter().enumerate() {
            out.extend((i as u32).to_le_bytes());
            out.extend(0u32.to_le_bytes());
            out.extend((len as u32).to_le_bytes());
            out.extend((len as u32).to_le_bytes());
            out.extend(vec![i as u8; len]);
        }
        out
    }

    #[test]
    fn the_buffer_grows_to_the_largest_record_and_is_then_reused() {
        let bytes = pcap_with_records(&[60, 1500, 60, 900, 1500, 40]);
        let mut file = CaptureFile::from_reader("t", &bytes[..]).unwrap();
        let mut seen = Vec::new();
        while let Some(record) = file.advance().unwrap() {
            let frame = file.frame(record);
            assert!(frame.data.iter().all(|&b| b == frame.data[0]));
            seen.push((frame.data.len(), file.buf.as_ptr(), file.buf.capacity()));
        }
        let lens: Vec<usize> = seen.iter().map(|s| s.0).collect();
        assert_eq!(lens, [60, 1500, 60, 900, 1500, 40]);
        // From the first 1500-byte record on, the same allocation serves.
        assert!(seen[1..]
            .iter()
            .all(|s| s.1 == seen[1].1 && s.2 == seen[1].2));
        assert_eq!(file.buf.len(), 1500);
    }

    #[test]
    fn decimal_resolutions_scale_to_nanoseconds() {
        assert_eq!(TsResolution::Decimal(6).to_nanos(1), 1_000);
        assert_eq!(TsResolution::Decimal(9).to_nanos(7), 7);
        assert_eq!(TsResolution::Decimal(0).to_nanos(2), 2_000_000_000);
        // Finer than ns rounds down.
        assert_eq!(TsResolution::Decimal(12).to_nanos(1_999), 1);
        // 10^-127 s units are all below a ns.
        assert_eq!(TsResolution::Decimal(127).to_nanos(u64::MAX), 0);
    }

    #[test]
    fn binary_resolutions_scale_to_nanoseconds_rounding_down() {
        // 2^-10 s = 976562.5 ns.
        assert_eq!(TsResolution::Binary(10).to_nanos(1), 976_562);
        assert_eq!(TsResolution::Binary(10).to_nanos(2), 1_953_125);
        assert_eq!(TsResolution::Binary(0).to_nanos(3), 3_000_000_000);
        assert_eq!(TsResolution::Binary(127).to_nanos(u64::MAX), 0);
    }

    #[test]
    fn the_tsresol_option_byte_picks_the_base_with_its_high_bit() {
        assert_eq!(TsResolution::from_option(6), TsResolution::Decimal(6));
        assert_eq!(TsResolution::from_option(0x8a), TsResolution::Binary(10));
    }

    fn iface(tsresol: TsResolution, tsoffset_secs: i64) -> Interface {
        Interface {
            linktype: 1,
            link: Some(LinkType::Ethernet),
            snaplen: 0,
            tsresol,
            tsoffset_secs,
        }
    }

    #[test]
    fn timestamps_saturate_instead_of_overflowing() {
        // u64::MAX seconds is far past what u64 ns can hold.
        assert_eq!(
            iface(TsResolution::Decimal(0), 0).ts_nanos(u64::MAX),
            u64::MAX
        );
        assert_eq!(
            iface(TsResolution::Decimal(6), i64::MAX).ts_nanos(1),
            u64::MAX
        );
        // An offset before the epoch clamps to 0.
        assert_eq!(iface(TsResolution::Decimal(6), -10).ts_nanos(1_000_000), 0);
        assert_eq!(
            iface(TsResolution::Decimal(6), i64::MIN).ts_nanos(u64::MAX),
            0
        );
    }

    #[test]
    fn the_time_offset_is_added_in_seconds() {
        assert_eq!(
            iface(TsResolution::Decimal(9), 3600).ts_nanos(5),
            3_600_000_000_005
        );
        assert_eq!(
            iface(TsResolution::Decimal(6), -1).ts_nanos(2_000_000),
            1_000_000_000
        );
    }

    #[test]
    fn options_stop_at_end_of_options_and_report_overruns() {
        let mut seen = Vec::new();
        // code 9 len 1 value 6 (padded), then end-of-options, then junk.
        let opts = [9, 0, 1, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0xff, 0xff];
        let r = scan_options(Endian::Little, &opts, |c, v| seen.push((c, v.to_vec())));
        assert_eq!(r, Ok(()));
        assert_eq!(seen, [(9, vec![6])]);
        // A value running past the end names its option code.
        let opts = [14, 0, 8, 0, 1, 2, 3, 4];
        assert_eq!(scan_options(Endian::Little, &opts, |_, _| {}), Err(14));
        // Fewer than 4 bytes left is padding.
        assert_eq!(scan_options(Endian::Little, &[1, 2], |_, _| {}), Ok(()));
    }
}
