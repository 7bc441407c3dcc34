//! A small HTTP/1.1 client over `std::net::TcpStream`: exactly what the
//! report needs to talk to a Prometheus server.
//!
//! One request per connection (`Connection: close`), a form-encoded POST or
//! a GET, and a response body delimited by `Content-Length`, chunked
//! transfer coding, or the end of the connection. No TLS, redirects,
//! compression or keep-alive: the report runs once a day next to its
//! Prometheus, and the binary stays small. Put a reverse proxy in front of a
//! remote Prometheus that needs TLS.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream, ToSocketAddrs};
use std::time::Duration;

/// The largest response body accepted (a month of per-client series is a
/// few megabytes).
pub const MAX_RESPONSE_BYTES: usize = 256 << 20;

/// An `http://host[:port][/prefix]` URL.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Url {
    /// Host name or address as written (IPv6 without brackets).
    pub host: String,
    pub port: u16,
    /// Path prefix without a trailing slash ("" or "/prometheus").
    pub prefix: String,
}

/// A response: status and body.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Response {
    pub status: u16,
    pub reason: String,
    pub body: Vec<u8>,
}

/// Errors of a request, each naming the URL or address.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{url:?} is not a usable URL: {what}")]
    BadUrl { url: String, what: &'static str },
    #[error("cannot resolve {host}: {source}")]
    Resolve {
        host: String,
        source: std::io::Error,
    },
    #[error("cannot connect to {target}: {source}")]
    Connect {
        target: String,
        source: std::io::Error,
    },
    #[error("{target}: {source}")]
    Io {
        target: String,
        source: std::io::Error,
    },
    #[error("{target}: malformed HTTP response: {what}")]
    Malformed { target: String, what: &'static str },
    #[error("{target}: response larger than {MAX_RESPONSE_BYTES} bytes")]
    TooLarge { target: String },
}

impl Url {
    /// Parses `http://host[:port][/prefix]`; the port defaults to 80.
    pub fn parse(text: &str) -> Result<Url, HttpError> {
        let bad = |what| HttpError::BadUrl {
            url: text.to_string(),
            what,
        };
        let rest = if let Some(rest) = strip_prefix_ignore_case(text, "http://") {
            rest
        } else if strip_prefix_ignore_case(text, "https://").is_some() {
            return Err(bad(
                "https is not supported (lanwatch has no TLS); use http:// or a local proxy",
            ));
        } else {
            return Err(bad("expected http://host:port"));
        };
        let (authority, path) = match rest.find(['/', '?', '#']) {
            Some(i) => rest.split_at(i),
            None => (rest, ""),
        };
        if path.contains(['?', '#']) {
            return Err(bad("a query string or fragment is not allowed"));
        }
        if authority.contains('@') {
            return Err(bad("user names and passwords are not supported"));
        }
        let (host, port) = if let Some(bracketed) = authority.strip_prefix('[') {
            let (host, after) = bracketed
                .split_once(']')
                .ok_or_else(|| bad("unclosed [ in the host"))?;
            let port = match after.strip_prefix(':') {
                Some(port) => Some(port),
                None if after.is_empty() => None,
                None => return Err(bad("unexpected text after the IPv6 address")),
            };
            (host, port)
        } else {
            match authority.rsplit_once(':') {
                Some((host, port)) => (host, Some(port)),
                None => (authority, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host"));
        }
        let port = match port {
            None => 80,
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port is not a number 1-65535"))?,
        };
        Ok(Url {
            host: host.to_string(),
            port,
            prefix: path.trim_end_matches('/').to_string(),
        })
    }

    /// `host:port` as written in a Host header.
    pub fn authority(&self) -> String {
        if self.host.contains(':') {
            format!("[{}]:{}", self.host, self.port)
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for Url {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "http://{}{}", self.authority(), self.prefix)
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> Option<&'a str> {
    let head = text.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| text.get(prefix.len()..))
        .flatten()
}

/// Percent-encodes a form or query value (everything but unreserved bytes).
pub fn percent_encode(value: &str) -> String {
    let mut out = String::with_capacity(value.len().saturating_mul(3));
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4));
            out.push(hex_digit(b & 0x0f));
        }
    }
    out
}

/// The uppercase hex digit of the low four bits of `n`.
fn hex_digit(n: u8) -> char {
    let n = n & 0x0f;
    char::from(if n < 10 { b'0' + n } else { b'A' + (n - 10) })
}

/// A form body: `a=1&b=2`, percent-encoded.
pub fn form(fields: &[(&str, &str)]) -> String {
    fields
        .iter()
        .map(|(k, v)| format!("{}={}", percent_encode(k), percent_encode(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// POSTs a form to `url`'s prefix + `path`.
pub fn post_form(
    url: &Url,
    path: &str,
    fields: &[(&str, &str)],
    timeout: Duration,
) -> Result<Response, HttpError> {
    let body = form(fields);
    let head = format!(
        "POST {}{path} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lanwatch/{}\r\nAccept: application/json\r\n\
         Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        url.prefix,
        url.authority(),
        env!("CARGO_PKG_VERSION"),
        body.len()
    );
    exchange(url, &head, body.as_bytes(), timeout)
}

/// GETs `url`'s prefix + `path_and_query`.
pub fn get(url: &Url, path_and_query: &str, timeout: Duration) -> Result<Response, HttpError> {
    let head = format!(
        "GET {}{path_and_query} HTTP/1.1\r\nHost: {}\r\nUser-Agent: lanwatch/{}\r\nAccept: application/json\r\nConnection: close\r\n\r\n",
        url.prefix,
        url.authority(),
        env!("CARGO_PKG_VERSION"),
    );
    exchange(url, &head, &[], timeout)
}

fn exchange(url: &Url, head: &str, body: &[u8], timeout: Duration) -> Result<Response, HttpError> {
    let target = url.to_string();
    let mut stream = connect(url, timeout)?;
    let io = |source| HttpError::Io {
        target: target.clone(),
        source,
    };
    stream.set_read_timeout(Some(timeout)).map_err(io)?;
    stream.set_write_timeout(Some(timeout)).map_err(io)?;
    stream.write_all(head.as_bytes()).map_err(io)?;
    stream.write_all(body).map_err(io)?;
    stream.flush().map_err(io)?;
    let mut raw = Vec::new();
    let limit = u64::try_from(MAX_RESPONSE_BYTES.saturating_add(64 << 10)).unwrap_or(u64::MAX);
    (&mut stream)
        .take(limit)
        .read_to_end(&mut raw)
        .map_err(io)?;
    parse_response(&target, &raw)
}

fn connect(url: &Url, timeout: Duration) -> Result<TcpStream, HttpError> {
    let addrs: Vec<SocketAddr> = (url.host.as_str(), url.port)
        .to_socket_addrs()
        .map_err(|source| HttpError::Resolve {
            host: url.host.clone(),
            source,
        })?
        .collect();
    let mut last = std::io::Error::new(std::io::ErrorKind::NotFound, "no address");
    for addr in &addrs {
        match TcpStream::connect_timeout(addr, timeout) {
            Ok(stream) => return Ok(stream),
            Err(e) => last = e,
        }
    }
    Err(HttpError::Connect {
        target: url.authority(),
        source: last,
    })
}

/// Parses a whole response read until the connection closed.
pub fn parse_response(target: &str, raw: &[u8]) -> Result<Response, HttpError> {
    let malformed = |what| HttpError::Malformed {
        target: target.to_string(),
        what,
    };
    let end = find(raw, b"\r\n\r\n").ok_or_else(|| malformed("no end of headers"))?;
    let head = std::str::from_utf8(raw.get(..end).unwrap_or_default())
        .map_err(|_| malformed("headers are not UTF-8"))?;
    let rest = raw.get(end.saturating_add(4)..).unwrap_or_default();
    let mut lines = head.split("\r\n");
    let status_line = lines.next().unwrap_or_default();
    let mut parts = status_line.splitn(3, ' ');
    let version = parts.next().unwrap_or_default();
    if !version.starts_with("HTTP/1.") {
        return Err(malformed("not an HTTP/1.x status line"));
    }
    let status = parts
        .next()
        .and_then(|s| s.parse::<u16>().ok())
        .filter(|s| (100..1000).contains(s))
        .ok_or_else(|| malformed("bad status code"))?;
    let reason = parts.next().unwrap_or_default().to_string();
    let mut chunked = false;
    let mut length = None;
    for line in lines {
        let (name, value) = line
            .split_once(':')
            .ok_or_else(|| malformed("header line without a colon"))?;
        let value = value.trim();
        if name.eq_ignore_ascii_case("transfer-encoding") {
            chunked = value
                .rsplit(',')
                .next()
                .is_some_and(|last| last.trim().eq_ignore_ascii_case("chunked"));
        } else if name.eq_ignore_ascii_case("content-length") {
            length = Some(
                value
                    .parse::<usize>()
                    .map_err(|_| malformed("bad Content-Length"))?,
            );
        }
    }
    let body = if chunked {
        dechunk(rest).ok_or_else(|| malformed("bad chunked body"))?
    } else if let Some(length) = length {
        rest.get(..length)
            .ok_or_else(|| malformed("body shorter than its Content-Length"))?
            .to_vec()
    } else {
        rest.to_vec()
    };
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(HttpError::TooLarge {
            target: target.to_string(),
        });
    }
    Ok(Response {
        status,
        reason,
        body,
    })
}

/// Decodes a chunked body (trailers ignored); None if it is cut or malformed.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let line_end = find(data, b"\r\n")?;
        let line = std::str::from_utf8(data.get(..line_end)?).ok()?;
        let size_text = line.split(';').next()?.trim();
        let size = usize::from_str_radix(size_text, 16).ok()?;
        data = data.get(line_end.checked_add(2)?..)?;
        if size == 0 {
            return Some(out);
        }
        out.extend_from_slice(data.get(..size)?);
        data = data.get(size..)?;
        data = data.strip_prefix(b"\r\n")?;
        if out.len() > MAX_RESPONSE_BYTES {
            return None;
        }
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_give_host_port_and_prefix() {
        let u = Url::parse("http://localhost:9090").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("localhost", 9090, "")
        );
        let u = Url::parse("HTTP://monitor.lan/prometheus/").unwrap();
        assert_eq!(
            (u.host.as_str(), u.port, u.prefix.as_str()),
            ("monitor.lan", 80, "/prometheus")
        );
        let u = Url::parse("http://[fd00::5]:9090/").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("fd00::5", 9090));
        assert_eq!(u.authority(), "[fd00::5]:9090");
        assert_eq!(u.to_string(), "http://[fd00::5]:9090");
    }

    #[test]
    fn urls_lanwatch_cannot_use_are_refused_with_a_reason() {
        for (text, why) in [
            ("https://prom.example.org", "https"),
            ("prom:9090", "http://"),
            ("http://:9090", "no host"),
            ("http://prom:99999", "port"),
            ("http://prom:0", "port"),
            ("http://user:pw@prom:9090", "passwords"),
            ("http://prom:9090/?x=1", "query"),
        ] {
            let err = Url::parse(text).unwrap_err().to_string();
            assert!(err.contains(why), "{text}: {err}");
        }
    }

    #[test]
    fn form_values_are_percent_encoded() {
        assert_eq!(
            form(&[("query", r#"sum by (mac) (x{a="b"}[5m])"#), ("time", "1.5")]),
            "query=sum%20by%20%28mac%29%20%28x%7Ba%3D%22b%22%7D%5B5m%5D%29&time=1.5"
        );
    }

    #[test]
    fn content_length_bodies_are_cut_at_their_length() {
        let raw = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 4\r\n\r\n{}{}extra";
        let r = parse_response("t", raw).unwrap();
        assert_eq!(
            (r.status, r.reason.as_str(), r.body.as_slice()),
            (200, "OK", &b"{}{}"[..])
        );
    }

    #[test]
    fn chunked_bodies_are_joined() {
        let raw = b"HTTP/1.1 400 Bad Request\r\ntransfer-encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n7\r\n, world\r\n0\r\nTrailer: x\r\n\r\n";
        let r = parse_response("t", raw).unwrap();
        assert_eq!(r.status, 400);
        assert_eq!(r.body, b"hello, world");
    }

    #[test]
    fn bodies_without_length_run_to_the_end() {
        let r = parse_response("t", b"HTTP/1.0 200 OK\r\n\r\nall of it").unwrap();
        assert_eq!(r.body, b"all of it");
    }

    #[test]
    fn broken_responses_are_errors_not_panics() {
        for raw in [
            &b""[..],
            b"HTTP/1.1 200 OK\r\n",
            b"SSH-2.0-OpenSSH\r\n\r\n",
            b"HTTP/1.1 abc OK\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort",
            b"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10\r\nshort",
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffff\r\n",
            b"HTTP/1.1 200 OK\r\nno colon\r\n\r\n",
        ] {
            assert!(
                matches!(parse_response("t", raw), Err(HttpError::Malformed { .. })),
                "{:?}",
                String::from_utf8_lossy(raw)
            );
        }
    }

    #[test]
    fn a_closed_port_is_a_connect_error_naming_the_address() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let url = Url::parse(&format!("http://127.0.0.1:{port}")).unwrap();
        let err = get(&url, "/", Duration::from_secs(2)).unwrap_err();
        assert!(matches!(err, HttpError::Connect { .. }), "{err}");
        assert!(
            err.to_string().contains(&format!("127.0.0.1:{port}")),
            "{err}"
        );
    }

    #[test]
    fn a_request_round_trips_through_a_socket() {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let server = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().unwrap();
            let mut buf = vec![0; 4096];
            let mut got = Vec::new();
            while !String::from_utf8_lossy(&got).contains("time=") {
                let n = s.read(&mut buf).unwrap();
                got.extend_from_slice(&buf[..n]);
            }
            s.write_all(
                b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nok\r\n0\r\n\r\n",
            )
            .unwrap();
            String::from_utf8(got).unwrap()
        });
        let url = Url::parse(&format!("http://127.0.0.1:{port}/prom")).unwrap();
        let r = post_form(
            &url,
            "/api/v1/query",
            &[("query", "up"), ("time", "1")],
            Duration::from_secs(5),
        )
        .unwrap();
        assert_eq!(r.body, b"ok");
        let request = server.join().unwrap();
        assert!(
            request.starts_with("POST /prom/api/v1/query HTTP/1.1\r\n"),
            "{request}"
        );
        assert!(
            request.contains(&format!("Host: 127.0.0.1:{port}\r\n")),
            "{request}"
        );
        assert!(request.ends_with("\r\n\r\nquery=up&time=1"), "{request}");
    }
}
