//! A tiny blocking HTTP/1.1 client for one `GET` to the daemon on the
//! router itself: what the rpcd backend needs and no more — no TLS, no
//! redirects, no keep-alive, a few hundred lines of the router binary
//! instead of an HTTP stack.
//!
//! Every step is bounded: the connect by [`CONNECT_TIMEOUT`], the whole
//! exchange by [`ANSWER_TIMEOUT`] (each read waits at most what is left of
//! it, so a server dripping a byte a second cannot stretch it), the head by
//! [`MAX_HEAD_BYTES`] and the body by the caller's cap. The body may come
//! with a `Content-Length`, chunked, or until the server closes.

use std::fmt;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// How long a connection may take to open.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(1);

/// How long the request and the whole answer may take once connected.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(2);

/// The longest status line and headers read.
pub const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The most header lines read.
const MAX_HEADERS: usize = 100;

/// What went wrong, without the address (the caller names it).
#[derive(Debug)]
pub enum FetchError {
    /// Nothing listens there.
    Refused,
    /// No connection within [`CONNECT_TIMEOUT`].
    ConnectTimeout,
    /// Connected, but no complete answer within [`ANSWER_TIMEOUT`].
    Timeout,
    /// The server closed (or reset) the connection before answering at all.
    ClosedUnanswered,
    /// The body is larger than the cap.
    TooLarge(usize),
    /// Not an HTTP answer we can read.
    Malformed(String),
    Io(io::Error),
}

impl fmt::Display for FetchError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FetchError::Refused => write!(f, "connection refused"),
            FetchError::ConnectTimeout => write!(
                f,
                "no connection within {} s",
                CONNECT_TIMEOUT.as_secs_f32()
            ),
            FetchError::Timeout => {
                write!(f, "no answer within {} s", ANSWER_TIMEOUT.as_secs_f32())
            }
            FetchError::ClosedUnanswered => write!(f, "connection closed without an answer"),
            FetchError::TooLarge(cap) => write!(f, "answer larger than {cap} bytes"),
            FetchError::Malformed(what) => write!(f, "unreadable answer: {what}"),
            FetchError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for FetchError {
    fn from(e: io::Error) -> FetchError {
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::Timeout,
            io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => {
                FetchError::ClosedUnanswered
            }
            _ => FetchError::Io(e),
        }
    }
}

/// A complete answer.
#[derive(Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub body: Vec<u8>,
}

/// `GET path` from `addr`, with `authorization` (a header value) if given.
pub fn get(
    addr: SocketAddr,
    path: &str,
    authorization: Option<&str>,
    max_body: usize,
) -> Result<Response, FetchError> {
    let stream =
        TcpStream::connect_timeout(&addr, CONNECT_TIMEOUT).map_err(|e| match e.kind() {
            io::ErrorKind::ConnectionRefused => FetchError::Refused,
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => FetchError::ConnectTimeout,
            _ => FetchError::Io(e),
        })?;
    let deadline = Instant::now() + ANSWER_TIMEOUT;
    stream.set_write_timeout(Some(ANSWER_TIMEOUT))?;
    let mut request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nAccept: application/json\r\n\
         User-Agent: lanwatch-rpcd\r\nConnection: close\r\n"
    );
    if let Some(value) = authorization {
        request.push_str("Authorization: ");
        request.push_str(value);
        request.push_str("\r\n");
    }
    request.push_str("\r\n");
    (&stream).write_all(request.as_bytes())?;
    read_response(Deadline { stream, deadline }, max_body)
}

/// A stream whose reads all end by one deadline.
struct Deadline {
    stream: TcpStream,
    deadline: Instant,
}

impl Read for Deadline {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream.set_read_timeout(Some(left))?;
        self.stream.read(buf)
    }
}

/// Reads one HTTP/1.x answer (status line, headers, body) from `input`.
pub fn read_response(input: impl Read, max_body: usize) -> Result<Response, FetchError> {
    let mut input = BufReader::new(input);
    let mut head_left = MAX_HEAD_BYTES;
    let status_line = match read_line(&mut input, &mut head_left)? {
        Some(line) => line,
        None => return Err(FetchError::ClosedUnanswered),
    };
    let status = parse_status_line(&status_line)?;

    let mut length = None;
    let mut chunked = false;
    for n in 0.. {
        if n > MAX_HEADERS {
            return Err(FetchError::Malformed(format!(
                "more than {MAX_HEADERS} header lines"
            )));
        }
        let line = read_line(&mut input, &mut head_left)?
            .ok_or_else(|| FetchError::Malformed("the head ends early".into()))?;
        if line.is_empty() {
            break;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(FetchError::Malformed(format!("header line {line:?}")));
        };
        let value = value.trim();
        if name.eq_ignore_ascii_case("content-length") {
            let n = value
                .parse::<usize>()
                .map_err(|_| FetchError::Malformed(format!("Content-Length {value:?}")))?;
            length = Some(n);
        } else if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        }
    }

    let body = if chunked {
        read_chunked(&mut input, max_body)?
    } else if let Some(n) = length {
        if n > max_body {
            return Err(FetchError::TooLarge(max_body));
        }
        let mut body = vec![0; n];
        input.read_exact(&mut body).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => {
                FetchError::Malformed(format!("the body ends before its {n} bytes"))
            }
            _ => e.into(),
        })?;
        body
    } else {
        let mut body = Vec::new();
        input.take(cap_plus_one(max_body)).read_to_end(&mut body)?;
        if body.len() > max_body {
            return Err(FetchError::TooLarge(max_body));
        }
        body
    };
    Ok(Response { status, body })
}

fn cap_plus_one(cap: usize) -> u64 {
    u64::try_from(cap).unwrap_or(u64::MAX).saturating_add(1)
}

/// `HTTP/1.1 200 OK` → 200.
fn parse_status_line(line: &str) -> Result<u16, FetchError> {
    let mut words = line.splitn(3, ' ');
    let version = words.next().unwrap_or_default();
    let code = words.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") || code.len() != 3 {
        return Err(FetchError::Malformed(format!("status line {line:?}")));
    }
    code.parse::<u16>()
        .map_err(|_| FetchError::Malformed(format!("status line {line:?}")))
}

/// One line without its CRLF (or LF); None at a clean end of input before
/// any byte. Counts against `left`, the head's remaining budget.
fn read_line(input: &mut impl BufRead, left: &mut usize) -> Result<Option<String>, FetchError> {
    let mut line = Vec::new();
    let budget = u64::try_from(*left).unwrap_or(u64::MAX);
    let n = input.by_ref().take(budget).read_until(b'\n', &mut line)?;
    *left = left.saturating_sub(n);
    if n == 0 {
        return if *left == 0 {
            Err(FetchError::Malformed(format!(
                "head larger than {MAX_HEAD_BYTES} bytes"
            )))
        } else {
            Ok(None)
        };
    }
    if line.pop() != Some(b'\n') {
        return Err(if *left == 0 {
            FetchError::Malformed(format!("head larger than {MAX_HEAD_BYTES} bytes"))
        } else {
            FetchError::Malformed("the connection closed mid-line".into())
        });
    }
    if line.last() == Some(&b'\r') {
        line.pop();
    }
    String::from_utf8(line)
        .map(Some)
        .map_err(|_| FetchError::Malformed("a header line is not UTF-8".into()))
}

/// A chunked body (RFC 9112 §7.1), trailers skipped.
fn read_chunked(input: &mut impl BufRead, max_body: usize) -> Result<Vec<u8>, FetchError> {
    let mut body = Vec::new();
    // Chunk-size lines and trailers share one budget, like the head.
    let mut left = MAX_HEAD_BYTES;
    loop {
        let line = read_line(input, &mut left)?
            .ok_or_else(|| FetchError::Malformed("the chunked body ends early".into()))?;
        let size = line.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size, 16)
            .map_err(|_| FetchError::Malformed(format!("chunk size {line:?}")))?;
        if size == 0 {
            while read_line(input, &mut left)?.is_some_and(|l| !l.is_empty()) {}
            return Ok(body);
        }
        let total = body
            .len()
            .checked_add(size)
            .filter(|t| *t <= max_body)
            .ok_or(FetchError::TooLarge(max_body))?;
        let start = body.len();
        body.resize(total, 0);
        let chunk = body.get_mut(start..).unwrap_or_default();
        input.read_exact(chunk).map_err(|e| match e.kind() {
            io::ErrorKind::UnexpectedEof => FetchError::Malformed("a chunk ends early".into()),
            _ => e.into(),
        })?;
        let end = read_line(input, &mut left)?;
        if end.as_deref() != Some("") {
            return Err(FetchError::Malformed("no CRLF after a chunk".into()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(bytes: &[u8]) -> Result<Response, FetchError> {
        read_response(bytes, 64)
    }

    #[test]
    fn content_length_bodies_are_read_exactly() {
        let r =
            parse(b"HTTP/1.1 200 OK\r\nContent-Length: 4\r\ncontent-type: x\r\n\r\n{}\r\nextra")
                .unwrap();
        assert_eq!(
            r,
            Response {
                status: 200,
                body: b"{}\r\n".to_vec()
            }
        );
    }

    #[test]
    fn chunked_bodies_are_joined_and_trailers_skipped() {
        let r = parse(
            b"HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\n\r\n\
              3\r\n{\"a\r\n5;ext=1\r\n\":1}\n\r\n0\r\nX-Trailer: y\r\n\r\n",
        )
        .unwrap();
        assert_eq!(r.status, 404);
        assert_eq!(r.body, b"{\"a\":1}\n");
    }

    #[test]
    fn without_length_the_body_runs_to_the_end() {
        let r = parse(b"HTTP/1.0 200 OK\n\n{\"x\":1}").unwrap();
        assert_eq!(r.body, b"{\"x\":1}");
    }

    #[test]
    fn bodies_over_the_cap_are_refused_in_every_framing() {
        for bytes in [
            &b"HTTP/1.1 200 OK\r\nContent-Length: 65\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n41\r\n"[..],
            &[&b"HTTP/1.1 200 OK\r\n\r\n"[..], &[b'x'; 65]].concat()[..],
        ] {
            assert!(matches!(parse(bytes), Err(FetchError::TooLarge(64))));
        }
    }

    #[test]
    fn an_empty_answer_is_a_closed_connection() {
        assert!(matches!(parse(b""), Err(FetchError::ClosedUnanswered)));
    }

    #[test]
    fn broken_answers_are_malformed_not_panics() {
        for bytes in [
            &b"SSH-2.0-OpenSSH\r\n\r\n"[..],
            b"HTTP/1.1 2000 OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-",
        ] {
            assert!(
                matches!(parse(bytes), Err(FetchError::Malformed(_))),
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn an_endless_head_is_cut_at_its_budget() {
        let mut bytes = b"HTTP/1.1 200 OK\r\n".to_vec();
        bytes.extend(vec![b'a'; MAX_HEAD_BYTES + 10]);
        assert!(
            matches!(parse(&bytes), Err(FetchError::Malformed(m)) if m.contains("head larger"))
        );
    }
}
