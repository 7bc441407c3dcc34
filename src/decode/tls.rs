//! TLS ClientHello (RFC 8446 §4.1.2, RFC 5246 §7.4.1.2): the server name
//! (SNI), the ALPN list and whether supported_versions is offered.
//!
//! lanwatch only reads the first flight of a client: the ClientHello names
//! the server the flow is for. [`parse_client_hello`] works on one TCP
//! payload without copying; when the ClientHello does not lie whole in the
//! first record of that payload (it is split over TCP segments or TLS
//! records, as large post-quantum key shares make common) it answers
//! [`Parsed::Incomplete`], and the caller hands the payloads to the
//! tracker's ClientHello assembler (it keeps bytes between segments, so it
//! lives with naming in track), which strips the record headers with
//! [`record_body_len`] into a bounded buffer and reads the handshake with
//! [`client_hello_len`] and [`ClientHello::parse`]. An SSLv2-compatible
//! ClientHello (old clients, scanners) has no extensions and is answered
//! [`Parsed::Sslv2`], not an error.
//!
//! [`ClientHello::parse`] checks every length once — the fixed part, the
//! extension list, and the server_name and ALPN extensions in full — so the
//! accessors afterwards cannot fail.

use std::fmt;

use super::{get_array, get_u16, Field};

/// Byte ranges of the record and handshake headers and the fixed start of
/// the ClientHello body.
mod field {
    use super::Field;

    pub const RECORD_TYPE: usize = 0;
    pub const RECORD_VERSION_MAJOR: usize = 1;
    pub const RECORD_LENGTH: Field = 3..5;
    pub const RECORD_HEADER_LEN: usize = 5;

    pub const HS_TYPE: usize = 0;
    pub const HS_LENGTH: Field = 1..4;
    pub const HS_HEADER_LEN: usize = 4;

    pub const HELLO_VERSION: Field = 0..2;
    pub const HELLO_RANDOM: Field = 2..34;
    pub const HELLO_SESSION_ID: usize = 34;

    /// SSLv2 record: 2-byte header with the top bit set, then the message type.
    pub const SSLV2_MSG_TYPE: usize = 2;
}

pub const CONTENT_TYPE_HANDSHAKE: u8 = 22;
pub const HANDSHAKE_CLIENT_HELLO: u8 = 1;
/// The largest record body TLS allows (2^14 plaintext + 2048 expansion).
pub const MAX_RECORD_LEN: usize = 16384 + 2048;
/// The length of a record header (type, version, length).
pub const RECORD_HEADER_LEN: usize = field::RECORD_HEADER_LEN;
/// The length of a handshake message header (type, 24-bit length).
pub const HANDSHAKE_HEADER_LEN: usize = field::HS_HEADER_LEN;

/// Extension types read here.
pub mod extension {
    pub const SERVER_NAME: u16 = 0;
    pub const ALPN: u16 = 16;
    pub const SUPPORTED_VERSIONS: u16 = 43;
}

/// Why bytes are not (or not a valid) ClientHello.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
pub enum TlsError {
    /// The record is not a handshake record (or not a TLS record at all).
    #[error("not a TLS handshake record (content type {content_type})")]
    NotHandshake { content_type: u8 },
    /// A handshake message other than ClientHello.
    #[error("TLS handshake type {handshake_type} is not a ClientHello")]
    NotClientHello { handshake_type: u8 },
    /// A length field that does not fit what contains it.
    #[error("malformed TLS ClientHello: {what} at offset {offset}")]
    Malformed { what: &'static str, offset: usize },
    /// The ClientHello is larger than the assembler's buffer.
    #[error("TLS ClientHello of {len} bytes is larger than the {limit}-byte buffer")]
    TooLarge { len: usize, limit: usize },
}

/// What one payload (or the assembler) yielded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parsed<'a> {
    /// A whole ClientHello.
    Hello(ClientHello<'a>),
    /// The ClientHello is not whole here: at least `needed` more bytes (TLS
    /// record headers included) must arrive. `needed` is 0 when all bytes
    /// are there but spread over several records: an assembler joins them.
    Incomplete { needed: usize },
    /// An SSLv2-compatible ClientHello: no extensions, so no server name.
    Sslv2,
}

/// The big-endian 24-bit length at `at` (a handshake's), if it is there.
#[inline]
fn be24(data: &[u8], at: usize) -> Option<usize> {
    let [a, b, c] = get_array::<3>(data, at..at.checked_add(3)?)?;
    Some(usize::from(a) << 16 | usize::from(b) << 8 | usize::from(c))
}

/// Whether `data` starts an SSLv2-framed ClientHello.
pub fn is_sslv2_client_hello(data: &[u8]) -> bool {
    matches!(data.first(), Some(&b) if b & 0x80 != 0)
        && data.get(field::SSLV2_MSG_TYPE) == Some(&HANDSHAKE_CLIENT_HELLO)
}

/// Checks a handshake record header (as far as it is there) that starts
/// at stream offset `offset`; returns the record body length once all 5
/// bytes are.
pub fn record_body_len(header: &[u8], offset: usize) -> Result<Option<usize>, TlsError> {
    if let Some(&t) = header.get(field::RECORD_TYPE) {
        if t != CONTENT_TYPE_HANDSHAKE {
            return Err(TlsError::NotHandshake { content_type: t });
        }
    }
    if let Some(&major) = header.get(field::RECORD_VERSION_MAJOR) {
        if major != 3 {
            return Err(TlsError::Malformed {
                what: "record version",
                offset: offset.saturating_add(1),
            });
        }
    }
    let Some(len) = get_u16(header, field::RECORD_LENGTH.start) else {
        return Ok(None);
    };
    let len = usize::from(len);
    if len == 0 || len > MAX_RECORD_LEN {
        return Err(TlsError::Malformed {
            what: "record length",
            offset: offset.saturating_add(field::RECORD_LENGTH.start),
        });
    }
    Ok(Some(len))
}

/// The length of the ClientHello handshake message `handshake` starts
/// (its 4-byte header included), once that header is in; an error when
/// the message is another handshake type.
pub fn client_hello_len(handshake: &[u8]) -> Result<Option<usize>, TlsError> {
    if let Some(&t) = handshake.get(field::HS_TYPE) {
        if t != HANDSHAKE_CLIENT_HELLO {
            return Err(TlsError::NotClientHello { handshake_type: t });
        }
    }
    Ok(be24(handshake, field::HS_LENGTH.start).map(|l| l.saturating_add(field::HS_HEADER_LEN)))
}

/// Reads a ClientHello from the start of a TCP payload without copying.
///
/// Returns the ClientHello when it lies whole in the payload's first
/// record, `Incomplete` when it does not (see [`Parsed::Incomplete`]),
/// `Sslv2` for an SSLv2-compatible hello, and an error when the payload
/// does not start with a ClientHello or its lengths are inconsistent.
pub fn parse_client_hello(payload: &[u8]) -> Result<Parsed<'_>, TlsError> {
    if is_sslv2_client_hello(payload) {
        return Ok(Parsed::Sslv2);
    }
    let header = payload.get(..field::RECORD_HEADER_LEN).unwrap_or(payload);
    let Some(record_len) = record_body_len(header, 0)? else {
        return Ok(Parsed::Incomplete {
            needed: field::RECORD_HEADER_LEN.saturating_sub(payload.len()),
        });
    };
    let body = payload.get(field::RECORD_HEADER_LEN..).unwrap_or_default();
    let in_record = body.get(..record_len).unwrap_or(body);
    if let Some(&t) = in_record.get(field::HS_TYPE) {
        if t != HANDSHAKE_CLIENT_HELLO {
            return Err(TlsError::NotClientHello { handshake_type: t });
        }
    }
    let Some(hs_len) = be24(in_record, field::HS_LENGTH.start) else {
        // The handshake header itself is cut: by the segment, or (oddly)
        // by a record shorter than 4 bytes.
        return Ok(Parsed::Incomplete {
            needed: incomplete_needed(payload, field::HS_HEADER_LEN),
        });
    };
    let hs_total = hs_len.saturating_add(field::HS_HEADER_LEN);
    if hs_total <= record_len {
        if let Some(hello) = in_record.get(field::HS_HEADER_LEN..hs_total) {
            return ClientHello::parse(hello).map(Parsed::Hello);
        }
    }
    Ok(Parsed::Incomplete {
        needed: incomplete_needed(payload, hs_total),
    })
}

/// A lower bound of the bytes missing for a `hs_total`-byte handshake
/// message, counting the records present in `payload`.
fn incomplete_needed(payload: &[u8], hs_total: usize) -> usize {
    let mut have = 0usize;
    let mut pos = 0usize;
    let mut header_missing = 0usize;
    while have < hs_total && pos < payload.len() {
        let header = payload
            .get(pos..pos.saturating_add(field::RECORD_HEADER_LEN))
            .unwrap_or_default();
        match record_body_len(header, pos) {
            Ok(Some(len)) => {
                let start = pos.saturating_add(field::RECORD_HEADER_LEN);
                let avail = payload.len().saturating_sub(start).min(len);
                have = have.saturating_add(avail);
                pos = start.saturating_add(len);
            }
            Ok(None) => {
                header_missing = field::RECORD_HEADER_LEN.saturating_sub(header.len());
                break;
            }
            Err(_) => break,
        }
    }
    hs_total.saturating_sub(have).saturating_add(header_missing)
}

/// A parsed ClientHello, borrowing the handshake body.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct ClientHello<'a> {
    pub legacy_version: u16,
    pub random: &'a [u8],
    pub session_id: &'a [u8],
    /// Two bytes per cipher suite.
    pub cipher_suites: &'a [u8],
    pub compression_methods: &'a [u8],
    /// The extension block (without its length); empty if there is none.
    pub extensions: &'a [u8],
    server_name: Option<&'a [u8]>,
    alpn: Option<&'a [u8]>,
    supported_versions: Option<&'a [u8]>,
}

/// Reads length-prefixed pieces off a slice, tracking the offset.
struct Cursor<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Cursor<'a> {
    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], TlsError> {
        let end = self.pos.saturating_add(n);
        let s = self.data.get(self.pos..end).ok_or(TlsError::Malformed {
            what,
            offset: self.pos,
        })?;
        self.pos = end;
        Ok(s)
    }

    fn u8_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], TlsError> {
        let len = self.take(1, what)?.first().copied().unwrap_or(0);
        self.take(usize::from(len), what)
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, TlsError> {
        let b = self.take(2, what)?;
        get_u16(b, 0).ok_or(TlsError::Malformed {
            what,
            offset: self.pos,
        })
    }

    fn u16_prefixed(&mut self, what: &'static str) -> Result<&'a [u8], TlsError> {
        let len = self.u16(what)?;
        self.take(usize::from(len), what)
    }

    fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
}

impl<'a> ClientHello<'a> {
    /// Parses the body of a ClientHello handshake message (after its
    /// 4-byte header). Offsets in errors are relative to the body.
    pub fn parse(body: &'a [u8]) -> Result<ClientHello<'a>, TlsError> {
        let mut c = Cursor { data: body, pos: 0 };
        let version = c.take(field::HELLO_VERSION.len(), "legacy_version")?;
        let legacy_version = get_u16(version, 0).unwrap_or(0);
        let random = c.take(field::HELLO_RANDOM.len(), "random")?;
        debug_assert_eq!(c.pos, field::HELLO_SESSION_ID);
        let session_id = c.u8_prefixed("session_id")?;
        if session_id.len() > 32 {
            return Err(TlsError::Malformed {
                what: "session_id length",
                offset: field::HELLO_SESSION_ID,
            });
        }
        let suites_at = c.pos;
        let cipher_suites = c.u16_prefixed("cipher_suites")?;
        if cipher_suites.is_empty() || cipher_suites.len() % 2 != 0 {
            return Err(TlsError::Malformed {
                what: "cipher_suites length",
                offset: suites_at,
            });
        }
        let compression_methods = c.u8_prefixed("compression_methods")?;
        let extensions = if c.is_empty() {
            &[][..]
        } else {
            c.u16_prefixed("extensions")?
        };
        let ext_base = c.pos.saturating_sub(extensions.len());
        let mut hello = ClientHello {
            legacy_version,
            random,
            session_id,
            cipher_suites,
            compression_methods,
            extensions,
            server_name: None,
            alpn: None,
            supported_versions: None,
        };
        let mut e = Cursor {
            data: extensions,
            pos: 0,
        };
        while !e.is_empty() {
            let at = ext_base.saturating_add(e.pos);
            let ext_type = e.u16("extension type")?;
            let data = e.u16_prefixed("extension length")?;
            match ext_type {
                extension::SERVER_NAME if hello.server_name.is_none() => {
                    hello.server_name = parse_server_name(data, at)?;
                }
                extension::ALPN if hello.alpn.is_none() => {
                    hello.alpn = Some(parse_alpn(data, at)?);
                }
                extension::SUPPORTED_VERSIONS if hello.supported_versions.is_none() => {
                    hello.supported_versions = Some(data);
                }
                _ => {}
            }
        }
        Ok(hello)
    }

    /// The first host_name of the server_name extension, as sent.
    pub fn server_name(&self) -> Option<&'a [u8]> {
        self.server_name
    }

    /// The ALPN protocol list, if offered.
    pub fn alpn(&self) -> Option<Alpn<'a>> {
        self.alpn.map(Alpn)
    }

    /// Does the client offer the supported_versions extension (TLS 1.3)?
    pub fn has_supported_versions(&self) -> bool {
        self.supported_versions.is_some()
    }

    /// The versions of the supported_versions extension.
    pub fn supported_versions(&self) -> impl Iterator<Item = u16> + 'a {
        let list = self
            .supported_versions
            .and_then(|d| d.get(1..))
            .unwrap_or_default();
        list.chunks_exact(2).filter_map(|p| get_u16(p, 0))
    }

    /// The cipher suite numbers.
    pub fn cipher_suite_list(&self) -> impl Iterator<Item = u16> + 'a {
        self.cipher_suites
            .chunks_exact(2)
            .filter_map(|p| get_u16(p, 0))
    }

    /// All extensions as (type, data); checked by [`ClientHello::parse`].
    pub fn extension_list(&self) -> impl Iterator<Item = (u16, &'a [u8])> + 'a {
        let mut e = Cursor {
            data: self.extensions,
            pos: 0,
        };
        std::iter::from_fn(move || {
            if e.is_empty() {
                return None;
            }
            let t = e.u16("").ok()?;
            let d = e.u16_prefixed("").ok()?;
            Some((t, d))
        })
    }
}

impl fmt::Debug for ClientHello<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientHello")
            .field(
                "legacy_version",
                &format_args!("{:#06x}", self.legacy_version),
            )
            .field(
                "server_name",
                &self.server_name.map(String::from_utf8_lossy),
            )
            .field("alpn", &self.alpn())
            .field("supported_versions", &self.has_supported_versions())
            .finish()
    }
}

/// server_name (RFC 6066 §3): a list of (type, name); returns the first
/// host_name (type 0).
fn parse_server_name(data: &[u8], at: usize) -> Result<Option<&[u8]>, TlsError> {
    let mut c = Cursor { data, pos: 0 };
    let malformed = TlsError::Malformed {
        what: "server_name extension",
        offset: at,
    };
    if data.is_empty() {
        // A server's empty acknowledgement; not expected from a client.
        return Ok(None);
    }
    let list = c.u16_prefixed("server_name").map_err(|_| malformed)?;
    let mut l = Cursor { data: list, pos: 0 };
    let mut host = None;
    while !l.is_empty() {
        let name_type = l.take(1, "").map_err(|_| malformed)?;
        let name = l.u16_prefixed("").map_err(|_| malformed)?;
        if name_type == [0] && host.is_none() {
            host = Some(name);
        }
    }
    Ok(host)
}

fn parse_alpn(data: &[u8], at: usize) -> Result<&[u8], TlsError> {
    let malformed = TlsError::Malformed {
        what: "ALPN extension",
        offset: at,
    };
    let mut c = Cursor { data, pos: 0 };
    let list = c.u16_prefixed("").map_err(|_| malformed)?;
    let mut l = Cursor { data: list, pos: 0 };
    while !l.is_empty() {
        let proto = l.u8_prefixed("").map_err(|_| malformed)?;
        if proto.is_empty() {
            return Err(malformed);
        }
    }
    Ok(list)
}

/// The ALPN protocol names, in the client's order (checked at parse).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Alpn<'a>(&'a [u8]);

impl<'a> Alpn<'a> {
    pub fn iter(&self) -> impl Iterator<Item = &'a [u8]> + 'a {
        let mut c = Cursor {
            data: self.0,
            pos: 0,
        };
        std::iter::from_fn(move || {
            if c.is_empty() {
                return None;
            }
            c.u8_prefixed("").ok()
        })
    }
}

impl fmt::Debug for Alpn<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list()
            .entries(self.iter().map(String::from_utf8_lossy))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decode::fixtures::{github_client_hello, split_tls_records};

    #[test]
    fn sni_and_alpn_from_a_real_client_hello() {
        let bytes = github_client_hello();
        assert_eq!(bytes.len(), 5 + 0x200);
        let Parsed::Hello(hello) = parse_client_hello(&bytes).unwrap() else {
            panic!("a whole ClientHello");
        };
        assert_eq!(hello.server_name(), Some(&b"github.com"[..]));
        let alpn: Vec<_> = hello.alpn().unwrap().iter().collect();
        assert_eq!(alpn, [&b"http/1.1"[..]]);
        assert_eq!(hello.legacy_version, 0x0303);
        assert!(hello.session_id.is_empty());
        assert_eq!(hello.cipher_suites.len(), 0x86);
        assert!(!hello.has_supported_versions());
        let types: Vec<u16> = hello.extension_list().map(|(t, _)| t).collect();
        assert_eq!(types, [0, 11, 10, 13, 13172, 16, 21]);
    }

    #[test]
    fn client_hello_cut_by_the_segment_is_incomplete_with_the_missing_count() {
        let bytes = github_client_hello();
        for cut in [9, 10, 100, bytes.len() - 1] {
            assert_eq!(
                parse_client_hello(&bytes[..cut]),
                Ok(Parsed::Incomplete {
                    needed: bytes.len() - cut
                }),
                "cut at {cut}"
            );
        }
        // Before the handshake length is in, only the headers are known missing.
        for cut in 0..9 {
            assert_eq!(
                parse_client_hello(&bytes[..cut]),
                Ok(Parsed::Incomplete {
                    needed: if cut < 5 { 5 - cut } else { 9 - cut }
                }),
                "cut at {cut}"
            );
        }
    }

    #[test]
    fn client_hello_over_several_records_is_incomplete_in_one_payload() {
        let framed = split_tls_records(&github_client_hello(), 200);
        // All bytes are there, but not in one record.
        assert_eq!(
            parse_client_hello(&framed),
            Ok(Parsed::Incomplete { needed: 0 })
        );
        assert_eq!(
            parse_client_hello(&framed[..300]),
            Ok(Parsed::Incomplete {
                needed: 0x200 - 200 - (300 - 210)
            })
        );
    }

    #[test]
    fn sslv2_compatible_hello_has_no_sni_and_is_not_an_error() {
        // An SSLv2-framed ClientHello announcing TLS 1.0 (as old clients send).
        let v2 = [
            0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
        ];
        assert_eq!(parse_client_hello(&v2), Ok(Parsed::Sslv2));
    }

    #[test]
    fn other_records_and_handshakes_are_errors() {
        assert_eq!(
            parse_client_hello(&[23, 3, 3, 0, 10]),
            Err(TlsError::NotHandshake { content_type: 23 })
        );
        assert_eq!(
            parse_client_hello(b"GET / HTTP/1.1\r\n"),
            Err(TlsError::NotHandshake { content_type: b'G' })
        );
        // A ServerHello.
        assert_eq!(
            parse_client_hello(&[22, 3, 3, 0, 4, 2, 0, 0, 0]),
            Err(TlsError::NotClientHello { handshake_type: 2 })
        );
    }

    #[test]
    fn inconsistent_lengths_inside_the_hello_are_malformed() {
        let good = github_client_hello();
        // The server_name list length one byte too long.
        let mut bad = good.clone();
        let sni_list = 5 + 4 + 2 + 32 + 1 + 2 + 0x86 + 2 + 2 + 2 + 2;
        assert_eq!(&bad[sni_list..sni_list + 2], &[0x00, 0x0d]);
        bad[sni_list + 1] = 0x0e;
        assert!(matches!(
            parse_client_hello(&bad),
            Err(TlsError::Malformed {
                what: "server_name extension",
                ..
            })
        ));
        // A session id longer than 32.
        let mut bad = good.clone();
        bad[5 + 4 + 34] = 33;
        assert!(matches!(
            parse_client_hello(&bad),
            Err(TlsError::Malformed { .. })
        ));
        // The extensions block longer than the message.
        let mut bad = good;
        let ext_len = 5 + 4 + 2 + 32 + 1 + 2 + 0x86 + 2;
        assert_eq!(&bad[ext_len..ext_len + 2], &[0x01, 0x4d]);
        bad[ext_len] = 0x02;
        assert!(matches!(
            parse_client_hello(&bad),
            Err(TlsError::Malformed {
                what: "extensions",
                ..
            })
        ));
    }

    #[test]
    fn hello_without_extensions_has_no_sni() {
        let mut body = vec![3, 1];
        body.extend_from_slice(&[0; 32]);
        body.extend_from_slice(&[0, 0, 2, 0, 0x2f, 1, 0]);
        let hello = ClientHello::parse(&body).unwrap();
        assert_eq!(hello.server_name(), None);
        assert!(hello.alpn().is_none());
        assert_eq!(hello.cipher_suite_list().collect::<Vec<_>>(), [0x2f]);
    }
}
