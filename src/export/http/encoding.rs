//! Content-coding negotiation: whether an answer goes gzip-compressed.
//!
//! Prometheus asks for `/metrics` with `Accept-Encoding: gzip` and, like
//! node_exporter, lanwatch then answers with a gzip body: a scrape of a
//! busy router shrinks about tenfold. The request header is read as RFC 9110
//! §12.5.3 defines it: a comma-separated list of codings (case-insensitive),
//! each with an optional `;q=` weight, over any number of header lines;
//! `q=0` means "not acceptable", `*` stands for every coding not listed, and
//! `x-gzip` is gzip. Among what the client accepts, gzip is chosen unless
//! it prefers `identity` (a higher weight): a client that sends no header,
//! `identity`, or `gzip;q=0` gets the plain body.
//!
//! Compression is deflate's fastest level: the router's CPU is worth more
//! than the last few percent of a body that is already mostly repetition.

use std::io::Write as _;

use hyper::header::{HeaderMap, ACCEPT_ENCODING};

/// Whether the request's `Accept-Encoding` lets the answer be gzip.
pub fn accepts_gzip(headers: &HeaderMap) -> bool {
    let mut gzip: Option<Weight> = None;
    let mut identity: Option<Weight> = None;
    let mut any: Option<Weight> = None;
    for value in headers.get_all(ACCEPT_ENCODING) {
        // A header that is not text names no coding we could use.
        let Ok(text) = value.to_str() else { continue };
        for item in text.split(',') {
            let Some((coding, weight)) = parse_item(item) else {
                continue;
            };
            let slot =
                if coding.eq_ignore_ascii_case("gzip") || coding.eq_ignore_ascii_case("x-gzip") {
                    &mut gzip
                } else if coding.eq_ignore_ascii_case("identity") {
                    &mut identity
                } else if coding == "*" {
                    &mut any
                } else {
                    continue;
                };
            // Listed twice: the higher weight counts (a client that says
            // both means at least that).
            *slot = Some(slot.map_or(weight, |w| w.max(weight)));
        }
    }
    let gzip = gzip.or(any).unwrap_or(Weight::ZERO);
    gzip > Weight::ZERO && identity.map_or(true, |identity| gzip >= identity)
}

/// `body` compressed as a gzip member (RFC 1952); None if compression
/// failed (it writes to memory, so it does not in practice).
pub fn gzip(body: &[u8]) -> Option<Vec<u8>> {
    // Expositions shrink to about a tenth: start with room for a sixth.
    let out = Vec::with_capacity(body.len() / 6 + 64);
    let mut encoder = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    encoder.write_all(body).ok()?;
    encoder.finish().ok()
}

/// A q-value, in thousandths (RFC 9110 allows three decimals).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Weight(u16);

impl Weight {
    const ZERO: Weight = Weight(0);
    const ONE: Weight = Weight(1000);

    /// `0`, `0.5`, `1.000`…; None for anything else (out of range, more
    /// than three decimals, not a number).
    fn parse(text: &str) -> Option<Weight> {
        let (int, frac) = text.split_once('.').unwrap_or((text, ""));
        if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let thousandths = frac
            .bytes()
            .chain(std::iter::repeat(b'0'))
            .take(3)
            .fold(0u16, |n, b| n * 10 + u16::from(b - b'0'));
        match int {
            "0" => Some(Weight(thousandths)),
            "1" if thousandths == 0 => Some(Weight::ONE),
            _ => None,
        }
    }
}

/// One list element: `coding` or `coding;q=W` (spaces allowed around the
/// separators, other parameters ignored). None for an empty element or a
/// broken weight (such an element is ignored, as if not sent).
fn parse_item(item: &str) -> Option<(&str, Weight)> {
    let mut parts = item.split(';');
    let coding = parts.next()?.trim();
    if coding.is_empty() {
        return None;
    }
    let mut weight = Weight::ONE;
    for parameter in parts {
        let (name, value) = parameter.split_once('=')?;
        if name.trim().eq_ignore_ascii_case("q") {
            weight = Weight::parse(value.trim())?;
        }
    }
    Some((coding, weight))
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    fn accepts(values: &[&str]) -> bool {
        let mut headers = HeaderMap::new();
        for v in values {
            headers.append(ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
        }
        accepts_gzip(&headers)
    }

    #[test]
    fn gzip_is_used_when_the_client_accepts_it() {
        for header in [
            "gzip",
            "GZIP",
            "x-gzip",
            "deflate, gzip",
            "br;q=1.0, gzip;q=0.8, *;q=0.1",
            " gzip ; q=0.5 ",
            "gzip;Q=1",
            "*",
            "identity;q=0.5, gzip",
            "gzip;q=0.5, identity;q=0.5",
        ] {
            assert!(accepts(&[header]), "{header:?}");
        }
        // Several header lines are one list.
        assert!(accepts(&["deflate", "gzip"]));
    }

    #[test]
    fn the_plain_body_when_gzip_is_not_accepted_or_identity_preferred() {
        for header in [
            "",
            "identity",
            "gzip;q=0",
            "gzip; q=0.000",
            "deflate, br",
            "*;q=0",
            "*, gzip;q=0",
            "gzip;q=0.5, identity;q=1",
            "gzipped",
            // A broken weight: the element is ignored.
            "gzip;q=2",
            "gzip;q=0.0001",
            "gzip;q=",
            ",,",
        ] {
            assert!(!accepts(&[header]), "{header:?}");
        }
        assert!(!accepts(&[]), "no header at all");
    }

    #[test]
    fn weights_parse_as_rfc_9110_qvalues() {
        assert_eq!(Weight::parse("0"), Some(Weight(0)));
        assert_eq!(Weight::parse("0.5"), Some(Weight(500)));
        assert_eq!(Weight::parse("0.125"), Some(Weight(125)));
        assert_eq!(Weight::parse("1.000"), Some(Weight(1000)));
        assert_eq!(Weight::parse("1."), Some(Weight(1000)));
        for bad in ["1.5", "-1", "0.1234", "abc", "", ".5", "2"] {
            assert_eq!(Weight::parse(bad), None, "{bad:?}");
        }
    }
}
