//! The router's DHCP lease files: who the DHCP server itself says a device is.
//!
//! OpenWrt runs dnsmasq, odhcpd or both; each writes its leases as text:
//!
//! - **dnsmasq** (`/tmp/dhcp.leases`): one DHCPv4 lease a line,
//!   `expiry mac ip hostname client-id`, `*` for "none". If it also serves
//!   DHCPv6, a `duid SERVER-DUID` line follows and then one line per IPv6
//!   lease, `expiry iaid ip hostname client-duid` (`T` before the IAID of a
//!   temporary address). A hardware address that is not Ethernet is written
//!   `hwtype-aa:bb:...`.
//! - **odhcpd** statefile (`option leasefile`), one lease a line:
//!   `# iface duid iaid hostname valid assigned length addr/len ...`, the
//!   DUID in hex without separators, `-` for no host name (an invalid one is
//!   prefixed `broken\x20`); for its DHCPv4 leases the DUID column holds the
//!   MAC and the IAID column `ipv4`. Older versions put hosts-style lines
//!   after each lease.
//! - **odhcpd** hosts file (`/tmp/hosts/odhcpd`): `ip hostname` lines, as
//!   in `/etc/hosts`.
//!
//! The format is recognised line by line, so one reader takes any of them
//! (and a file mixing the statefile's two kinds of lines). Each lease
//! gives one [`LeaseRecord`] per address: the client (MAC or DUID), the
//! address and the host name. Parsing is strict — a line that fits no
//! format is an error naming the file and the line — because the caller
//! keeps the previous records when a file is bad (dnsmasq rewrites its file
//! in place, so a reader can see it half-written).

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use crate::decode::dhcp::Duid;
use crate::decode::Mac;

/// Lease files larger than this are refused: a home router's are a few kB.
pub const MAX_FILE_BYTES: u64 = 4 << 20;

/// Who holds a lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LeaseClient {
    Mac(Mac),
    /// A DHCPv6 client's DUID (raw bytes).
    Duid(Box<[u8]>),
    /// Neither (hosts-style lines, non-Ethernet hardware).
    Unknown,
}

/// One address of one lease.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LeaseRecord {
    pub client: LeaseClient,
    pub ip: IpAddr,
    /// As written; `None` for `*`, `-` or a name the server marked broken.
    pub hostname: Option<Box<str>>,
}

impl LeaseRecord {
    /// The client's MAC: its own, or the one in an Ethernet DUID-LL/LLT.
    pub fn mac(&self) -> Option<Mac> {
        match &self.client {
            LeaseClient::Mac(m) => Some(*m),
            LeaseClient::Duid(d) => Duid(d).mac(),
            LeaseClient::Unknown => None,
        }
    }
}

/// Why a lease file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LeaseError {
    #[error("{path}: {error}")]
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    #[error("{path}: {size} bytes is more than a lease file holds ({MAX_FILE_BYTES} at most)")]
    TooLarge { path: PathBuf, size: u64 },
    #[error("{path}:{line}: {reason}")]
    Malformed {
        path: PathBuf,
        line: usize,
        reason: String,
    },
}

/// Reads and parses a lease file.
pub fn read_file(path: &Path) -> Result<Vec<LeaseRecord>, LeaseError> {
    let io = |error| LeaseError::Io {
        path: path.to_path_buf(),
        error,
    };
    // A FIFO is refused, not waited on (see `crate::files`).
    let file = crate::files::open_regular(path).map_err(io)?;
    let size = file.metadata().map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(LeaseError::TooLarge {
            path: path.to_path_buf(),
            size,
        });
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut std::io::Read::take(file, MAX_FILE_BYTES), &mut bytes)
        .map_err(io)?;
    parse(path, &bytes)
}

/// Parses the text of a lease file in any of the formats; `path` names it
/// in errors. Bytes that are not UTF-8 are replaced (host names are
/// sanitised later anyway).
pub fn parse(path: &Path, bytes: &[u8]) -> Result<Vec<LeaseRecord>, LeaseError> {
    let text = String::from_utf8_lossy(bytes);
    let mut records = Vec::new();
    // After dnsmasq's `duid` line, its lease lines are DHCPv6 ones.
    let mut dnsmasq_v6 = false;
    for (i, line) in text.lines().enumerate() {
        let number = i.saturating_add(1);
        let malformed = |reason: String| LeaseError::Malformed {
            path: path.to_path_buf(),
            line: number,
            reason,
        };
        let fields: Vec<&str> = line.split_ascii_whitespace().collect();
        match fields.as_slice() {
            [] => {}
            ["#", rest @ ..] if is_odhcpd_state(rest) => {
                odhcpd_state(rest, &mut records).map_err(malformed)?
            }
            [first, ..] if first.starts_with('#') => {}
            ["duid", _] => dnsmasq_v6 = true,
            [expiry, ..] if expiry.bytes().all(|b| b.is_ascii_digit()) => {
                dnsmasq(&fields, dnsmasq_v6, &mut records).map_err(malformed)?
            }
            [ip, names @ ..] if ip.parse::<IpAddr>().is_ok() && !names.is_empty() => {
                hosts(&fields, &mut records).map_err(malformed)?
            }
            _ => {
                return Err(malformed(
                    "not a dnsmasq, odhcpd or hosts-style lease line".into(),
                ))
            }
        }
    }
    Ok(records)
}

/// A host name field: `*` and `-` mean none.
fn hostname(field: &str) -> Option<Box<str>> {
    match field {
        "*" | "-" | "" => None,
        name => Some(name.into()),
    }
}

fn parse_ip(field: &str) -> Result<IpAddr, String> {
    field
        .parse()
        .map_err(|_| format!("{field:?} is not an IP address"))
}

/// `expiry mac ip hostname client-id` (v4) or `expiry iaid ip hostname duid` (v6).
fn dnsmasq(fields: &[&str], v6: bool, out: &mut Vec<LeaseRecord>) -> Result<(), String> {
    let [_expiry, hw, ip, name, client_id] = fields else {
        return Err(format!(
            "a dnsmasq lease line has 5 fields, this one {}",
            fields.len()
        ));
    };
    let ip = parse_ip(ip)?;
    let client = if v6 {
        let iaid = hw.strip_prefix('T').unwrap_or(hw);
        if iaid.parse::<u32>().is_err() {
            return Err(format!("{hw:?} is not an IAID"));
        }
        match *client_id {
            "*" => LeaseClient::Unknown,
            duid => LeaseClient::Duid(parse_hex(duid, true)?),
        }
    } else {
        // Ethernet is written as a bare MAC; other hardware as `type-addr`.
        hw.parse::<Mac>()
            .map(LeaseClient::Mac)
            .unwrap_or(LeaseClient::Unknown)
    };
    out.push(LeaseRecord {
        client,
        ip,
        hostname: hostname(name),
    });
    Ok(())
}

/// A statefile lease line starts `# iface duid iaid hostname valid`.
fn is_odhcpd_state(rest: &[&str]) -> bool {
    matches!(rest, [_iface, duid, iaid, _name, valid, ..]
        if duid.bytes().all(|b| b.is_ascii_hexdigit())
            && (*iaid == "ipv4" || iaid.bytes().all(|b| b.is_ascii_hexdigit()))
            && valid.parse::<i64>().is_ok())
}

/// `iface duid iaid hostname valid assigned length addr/len ...`
fn odhcpd_state(rest: &[&str], out: &mut Vec<LeaseRecord>) -> Result<(), String> {
    let [_iface, duid, iaid, name, _valid, tail @ ..] = rest else {
        return Err("an odhcpd lease line has at least 5 fields after `#`".into());
    };
    let client = if *iaid == "ipv4" {
        let hw = parse_hex(duid, false)?;
        match <[u8; 6]>::try_from(&hw[..]) {
            Ok(mac) => LeaseClient::Mac(Mac(mac)),
            Err(_) => LeaseClient::Unknown,
        }
    } else {
        LeaseClient::Duid(parse_hex(duid, false)?)
    };
    let hostname = if name.starts_with("broken\\x20") {
        None
    } else {
        hostname(name)
    };
    // Addresses are the fields with a prefix length; before them come the
    // assigned id and the length (their number differs between versions).
    for field in tail.iter().filter(|f| f.contains('/')) {
        let (ip, len) = field.split_once('/').unwrap_or((field, ""));
        if len.parse::<u8>().is_err() {
            return Err(format!("{field:?} is not an address/length"));
        }
        out.push(LeaseRecord {
            client: client.clone(),
            ip: parse_ip(ip)?,
            hostname: hostname.clone(),
        });
    }
    Ok(())
}

/// `ip hostname [aliases...]`
fn hosts(fields: &[&str], out: &mut Vec<LeaseRecord>) -> Result<(), String> {
    let [ip, name, ..] = fields else {
        return Err("a hosts line has an address and a name".into());
    };
    out.push(LeaseRecord {
        client: LeaseClient::Unknown,
        ip: parse_ip(ip)?,
        hostname: hostname(name),
    });
    Ok(())
}

/// Hex bytes, `aa:bb:cc` (with separators, dnsmasq) or `aabbcc` (odhcpd).
fn parse_hex(text: &str, separated: bool) -> Result<Box<[u8]>, String> {
    let bad = || format!("{text:?} is not hex bytes");
    let parts: Vec<&str> = if separated {
        text.split(':').collect()
    } else {
        if text.len() % 2 != 0 {
            return Err(bad());
        }
        (0..text.len())
            .step_by(2)
            .map(|i| text.get(i..i.saturating_add(2)).unwrap_or(""))
            .collect()
    };
    parts
        .iter()
        .map(|p| match p.len() {
            1 | 2 => u8::from_str_radix(p, 16).map_err(|_| bad()),
            _ => Err(bad()),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn parse_text(text: &str) -> Result<Vec<LeaseRecord>, LeaseError> {
        parse(Path::new("/tmp/dhcp.leases"), text.as_bytes())
    }

    /// dnsmasq's lease file with DHCPv4 and DHCPv6 leases, as its
    /// `lease_update_file` writes it.
    const DNSMASQ: &str = "\
1735689600 3c:22:fb:12:34:56 192.168.1.23 Lucas-iPhone 01:3c:22:fb:12:34:56
1735693200 dc:a6:32:01:02:03 192.168.1.50 raspberrypi *
1735693300 6a:1f:0e:aa:bb:cc 192.168.1.61 * 01:6a:1f:0e:aa:bb:cc
0 06-00:11:22:33:44:55 192.168.1.70 token-ring *
duid 00:01:00:01:2c:ad:4e:10:02:00:00:00:00:01
1735696800 3221225472 fd12:3456:789a:1::23 Lucas-iPhone 00:01:00:01:2a:7b:31:9e:3c:22:fb:12:34:56
1735696800 T287 fd12:3456:789a:1::99 * 00:03:00:01:dc:a6:32:01:02:03
";

    #[test]
    fn dnsmasq_v4_and_v6_leases() {
        let r = parse_text(DNSMASQ).unwrap();
        assert_eq!(r.len(), 6);
        assert_eq!(
            r[0],
            LeaseRecord {
                client: LeaseClient::Mac(mac("3c:22:fb:12:34:56")),
                ip: ip("192.168.1.23"),
                hostname: Some("Lucas-iPhone".into()),
            }
        );
        assert_eq!(r[1].hostname.as_deref(), Some("raspberrypi"));
        assert_eq!(r[2].hostname, None, "`*` is no host name");
        assert_eq!(r[2].mac(), Some(mac("6a:1f:0e:aa:bb:cc")));
        assert_eq!(r[3].client, LeaseClient::Unknown, "not Ethernet");
        assert_eq!(r[3].ip, ip("192.168.1.70"));
        // DHCPv6 leases: the MAC comes from the DUID-LLT / DUID-LL.
        assert_eq!(r[4].ip, ip("fd12:3456:789a:1::23"));
        assert_eq!(r[4].mac(), Some(mac("3c:22:fb:12:34:56")));
        assert_eq!(r[4].hostname.as_deref(), Some("Lucas-iPhone"));
        assert_eq!(r[5].mac(), Some(mac("dc:a6:32:01:02:03")));
        assert_eq!(r[5].hostname, None);
    }

    /// odhcpd's statefile: DHCPv6 leases (IA_NA and a delegated prefix)
    /// and a DHCPv4 lease, plus the hosts-style lines older versions add.
    const ODHCPD_STATE: &str = "\
# br-lan 000100012a7b319e3c22fb123456 c0000000 Lucas-iPhone 1735696800 1a2 128 fd12:3456:789a:1::1a2/128 2001:db8:0:1::1a2/128
fd12:3456:789a:1::1a2\tLucas-iPhone
# br-lan 00030001dca632010203 1 - 1735696800 7 128 fd12:3456:789a:1::7/128
# br-lan 0004aabbccddeeff00112233445566778899 3 broken\\x20bad_name -1 8 128 fd12:3456:789a:1::8/128
# br-lan 000100012a7b319e0011aabbccdd 2 router-b 1735696800 0 56 2001:db8:0:100::/56
# br-lan 0a1b2c3d4e5f ipv4 laptop 1735696800 33 32 192.168.1.51/32
";

    #[test]
    fn odhcpd_statefile_leases() {
        let r = parse_text(ODHCPD_STATE).unwrap();
        let summary: Vec<(Option<Mac>, IpAddr, Option<&str>)> = r
            .iter()
            .map(|l| (l.mac(), l.ip, l.hostname.as_deref()))
            .collect();
        let iphone = Some(mac("3c:22:fb:12:34:56"));
        assert_eq!(
            summary,
            [
                (iphone, ip("fd12:3456:789a:1::1a2"), Some("Lucas-iPhone")),
                (iphone, ip("2001:db8:0:1::1a2"), Some("Lucas-iPhone")),
                (None, ip("fd12:3456:789a:1::1a2"), Some("Lucas-iPhone")),
                (
                    Some(mac("dc:a6:32:01:02:03")),
                    ip("fd12:3456:789a:1::7"),
                    None
                ),
                (None, ip("fd12:3456:789a:1::8"), None),
                (
                    Some(mac("00:11:aa:bb:cc:dd")),
                    ip("2001:db8:0:100::"),
                    Some("router-b")
                ),
                (
                    Some(mac("0a:1b:2c:3d:4e:5f")),
                    ip("192.168.1.51"),
                    Some("laptop")
                ),
            ]
        );
        assert!(matches!(r[4].client, LeaseClient::Duid(_)), "DUID-UUID");
    }

    #[test]
    fn odhcpd_hosts_file() {
        let text = "fd12:3456:789a:1::1a2\tLucas-iPhone\n192.168.1.51 laptop laptop.lan\n\n";
        let r = parse(Path::new("/tmp/hosts/odhcpd"), text.as_bytes()).unwrap();
        assert_eq!(r.len(), 2);
        assert_eq!(r[1].client, LeaseClient::Unknown);
        assert_eq!(r[1].ip, ip("192.168.1.51"));
        assert_eq!(r[1].hostname.as_deref(), Some("laptop"));
    }

    #[test]
    fn empty_file_and_comments_give_no_records() {
        assert_eq!(parse_text("").unwrap(), []);
        assert_eq!(parse_text("# just a comment\n#\n").unwrap(), []);
    }

    fn error(text: &str) -> String {
        parse_text(text).unwrap_err().to_string()
    }

    #[test]
    fn errors_name_the_file_and_the_line() {
        assert_eq!(
            error("1735689600 3c:22:fb:12:34:56 192.168.1.23 a *\n1735689600 3c:22:fb:12:34:56 192.168.1\n"),
            "/tmp/dhcp.leases:2: a dnsmasq lease line has 5 fields, this one 3"
        );
        assert_eq!(
            error("1 3c:22:fb:12:34:56 192.168.1.300 a *\n"),
            "/tmp/dhcp.leases:1: \"192.168.1.300\" is not an IP address"
        );
        assert_eq!(
            error("duid 00:01\n1 x1 fd00::1 a 00:01\n"),
            "/tmp/dhcp.leases:2: \"x1\" is not an IAID"
        );
        assert_eq!(
            error("duid 00:01\n1 1 fd00::1 a 0g:01\n"),
            "/tmp/dhcp.leases:2: \"0g:01\" is not hex bytes"
        );
        assert_eq!(
            error("\n\nhello world\n"),
            "/tmp/dhcp.leases:3: not a dnsmasq, odhcpd or hosts-style lease line"
        );
        assert_eq!(
            error("# br-lan 0001 1 host 0 1 128 fd00::1/abc\n"),
            "/tmp/dhcp.leases:1: \"fd00::1/abc\" is not an address/length"
        );
    }

    #[test]
    fn a_missing_or_huge_file_is_an_error_naming_it() {
        let e = read_file(Path::new("no/such/dhcp.leases")).unwrap_err();
        assert!(e.to_string().starts_with("no/such/dhcp.leases: "), "{e}");
    }

    #[test]
    fn non_utf8_bytes_do_not_stop_the_parse() {
        let r = parse(
            Path::new("x"),
            b"1 3c:22:fb:12:34:56 192.168.1.23 caf\xe9 *\n",
        )
        .unwrap();
        assert_eq!(r[0].hostname.as_deref(), Some("caf\u{fffd}"));
    }
}
