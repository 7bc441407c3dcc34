//! Joining a TLS ClientHello that spans TCP segments or TLS records: the
//! one piece of TLS handling that keeps bytes between segments (a bounded
//! buffer per flow), and so the one that allocates — which is why it lives
//! with naming in track, not with the views in `decode::tls`, whose record
//! and handshake readers it uses.

use crate::decode::tls::{
    client_hello_len, is_sslv2_client_hello, record_body_len, ClientHello, Parsed, TlsError,
    HANDSHAKE_HEADER_LEN, RECORD_HEADER_LEN,
};

/// Default bound of a [`ClientHelloAssembler`]'s buffer.
pub const DEFAULT_ASSEMBLER_LIMIT: usize = 16 * 1024;

/// Joins a ClientHello that spans TCP segments or TLS records.
///
/// Push the client's payloads in order; record headers are stripped and
/// the handshake bytes kept in one buffer of at most `limit` bytes. A
/// ClientHello announced larger than that is refused with
/// [`TlsError::TooLarge`] before anything is buffered past the limit.
#[derive(Debug)]
pub struct ClientHelloAssembler {
    /// The handshake message so far (its 4-byte header included).
    handshake: Vec<u8>,
    /// A record header cut by a segment boundary.
    record_header: [u8; RECORD_HEADER_LEN],
    record_header_len: usize,
    /// Body bytes of the current record not yet seen.
    record_left: usize,
    /// Stream offset, for error messages.
    offset: usize,
    limit: usize,
    outcome: Option<Result<(), TlsError>>,
    sslv2: bool,
}

impl Default for ClientHelloAssembler {
    fn default() -> Self {
        ClientHelloAssembler::new()
    }
}

impl ClientHelloAssembler {
    pub fn new() -> ClientHelloAssembler {
        ClientHelloAssembler::with_limit(DEFAULT_ASSEMBLER_LIMIT)
    }

    /// An assembler for ClientHellos of at most `limit` bytes (handshake
    /// header included).
    pub fn with_limit(limit: usize) -> ClientHelloAssembler {
        ClientHelloAssembler {
            handshake: Vec::new(),
            record_header: [0; RECORD_HEADER_LEN],
            record_header_len: 0,
            record_left: 0,
            offset: 0,
            limit,
            outcome: None,
            sslv2: false,
        }
    }

    /// Starts over (a new connection, or a gap in this one).
    pub fn reset(&mut self) {
        self.handshake.clear();
        self.record_header_len = 0;
        self.record_left = 0;
        self.offset = 0;
        self.outcome = None;
        self.sslv2 = false;
    }

    /// Bytes buffered.
    pub fn buffered(&self) -> usize {
        self.handshake.len()
    }

    /// The handshake message length once its header is in.
    fn handshake_total(&self) -> Option<usize> {
        client_hello_len(&self.handshake).ok().flatten()
    }

    /// Adds the next payload of the client; answers like
    /// [`crate::decode::tls::parse_client_hello`]. Once an answer other than `Incomplete` is
    /// given, later pushes are ignored and give the same answer.
    pub fn push(&mut self, data: &[u8]) -> Result<Parsed<'_>, TlsError> {
        if self.outcome.is_none() {
            if let Err(e) = self.absorb(data) {
                self.outcome = Some(Err(e));
            }
        }
        match self.outcome {
            Some(Err(e)) => Err(e),
            Some(Ok(())) if self.sslv2 => Ok(Parsed::Sslv2),
            Some(Ok(())) => {
                let total = self.handshake_total().unwrap_or(0);
                let body = self
                    .handshake
                    .get(HANDSHAKE_HEADER_LEN..total)
                    .unwrap_or_default();
                ClientHello::parse(body).map(Parsed::Hello)
            }
            None => Ok(Parsed::Incomplete {
                needed: self.needed(),
            }),
        }
    }

    fn needed(&self) -> usize {
        let total = self.handshake_total().unwrap_or(HANDSHAKE_HEADER_LEN);
        let missing = total.saturating_sub(self.handshake.len());
        if self.record_left >= missing {
            missing
        } else {
            missing
                .saturating_sub(self.record_left)
                .saturating_add(RECORD_HEADER_LEN)
                .saturating_add(self.record_left)
                .saturating_sub(self.record_header_len)
        }
    }

    fn absorb(&mut self, mut data: &[u8]) -> Result<(), TlsError> {
        if self.offset == 0 && self.record_header_len == 0 && is_sslv2_client_hello(data) {
            self.sslv2 = true;
            self.outcome = Some(Ok(()));
            return Ok(());
        }
        while !data.is_empty() {
            if self.record_left == 0 {
                let n = RECORD_HEADER_LEN
                    .saturating_sub(self.record_header_len)
                    .min(data.len());
                let dst = self
                    .record_header
                    .get_mut(self.record_header_len..self.record_header_len.saturating_add(n));
                if let (Some(dst), Some(src)) = (dst, data.get(..n)) {
                    dst.copy_from_slice(src);
                }
                self.record_header_len = self.record_header_len.saturating_add(n);
                data = data.get(n..).unwrap_or_default();
                let header = self
                    .record_header
                    .get(..self.record_header_len)
                    .unwrap_or_default();
                match record_body_len(header, self.offset)? {
                    Some(len) => {
                        self.record_left = len;
                        self.record_header_len = 0;
                        self.offset = self.offset.saturating_add(RECORD_HEADER_LEN);
                    }
                    None => return Ok(()),
                }
                continue;
            }
            let total = self.handshake_total().unwrap_or(HANDSHAKE_HEADER_LEN);
            let want = total.saturating_sub(self.handshake.len());
            let n = self.record_left.min(data.len()).min(want);
            self.handshake
                .extend_from_slice(data.get(..n).unwrap_or_default());
            data = data.get(n..).unwrap_or_default();
            self.record_left = self.record_left.saturating_sub(n);
            self.offset = self.offset.saturating_add(n);
            if let Some(total) = client_hello_len(&self.handshake)? {
                if total > self.limit {
                    return Err(TlsError::TooLarge {
                        len: total,
                        limit: self.limit,
                    });
                }
                if self.handshake.len() >= total {
                    self.outcome = Some(Ok(()));
                    return Ok(());
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::decode::fixtures::{github_client_hello, split_tls_records};
    use crate::decode::tls::parse_client_hello;

    #[test]
    fn assembler_joins_segments_of_any_size() {
        let bytes = github_client_hello();
        for chunk in [1, 2, 7, 100, 300, bytes.len()] {
            let mut asm = ClientHelloAssembler::new();
            let mut result = None;
            for piece in bytes.chunks(chunk) {
                match asm.push(piece).unwrap() {
                    Parsed::Hello(h) => {
                        result = Some(h.server_name().unwrap().to_vec());
                        break;
                    }
                    Parsed::Incomplete { needed } => assert!(needed > 0),
                    Parsed::Sslv2 => panic!("not SSLv2"),
                }
            }
            assert_eq!(result.as_deref(), Some(&b"github.com"[..]), "chunk {chunk}");
        }
    }

    #[test]
    fn client_hello_over_several_records_is_read_by_the_assembler() {
        let framed = split_tls_records(&github_client_hello(), 200);
        // All bytes are there, but not in one record.
        assert_eq!(
            parse_client_hello(&framed),
            Ok(Parsed::Incomplete { needed: 0 })
        );
        let mut asm = ClientHelloAssembler::new();
        match asm.push(&framed).unwrap() {
            Parsed::Hello(h) => assert_eq!(h.server_name(), Some(&b"github.com"[..])),
            other => panic!("{other:?}"),
        }
        // Records of 3 bytes cut even the handshake header.
        let framed = split_tls_records(&github_client_hello(), 3);
        let mut asm = ClientHelloAssembler::new();
        let mut sni = None;
        for piece in framed.chunks(11) {
            if let Parsed::Hello(h) = asm.push(piece).unwrap() {
                sni = h.server_name().map(<[u8]>::to_vec);
            }
        }
        assert_eq!(sni.as_deref(), Some(&b"github.com"[..]));
    }

    #[test]
    fn assembler_refuses_a_hello_larger_than_its_limit() {
        let bytes = github_client_hello();
        let mut asm = ClientHelloAssembler::with_limit(256);
        assert_eq!(
            asm.push(&bytes[..20]),
            Err(TlsError::TooLarge {
                len: 0x200,
                limit: 256
            })
        );
        assert!(asm.buffered() <= 256);
    }

    #[test]
    fn assembler_answers_an_sslv2_compatible_hello_as_such() {
        // An SSLv2-framed ClientHello announcing TLS 1.0 (as old clients send).
        let v2 = [
            0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
        ];
        assert_eq!(ClientHelloAssembler::new().push(&v2), Ok(Parsed::Sslv2));
    }
}
