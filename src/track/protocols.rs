//! The port table: which flows count under which `protocol` label.
//!
//! Same idea as nlbwmon's `protocols` file: (IP protocol, server port) → name,
//! with a rule on the protocol number alone as a fallback and `other` for
//! everything else. The defaults live in `data/protocols.txt`, compiled in;
//! a user file given with `--protocols` is read on top of them.

use std::collections::HashMap;
use std::fmt;

/// Index of a protocol name in the table; stable for the table's lifetime.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProtocolId(pub u16);

impl ProtocolId {
    /// `other`: no rule matched.
    pub const OTHER: ProtocolId = ProtocolId(0);
}

/// The built-in table, as shipped in `data/protocols.txt`.
pub const DEFAULT_TABLE: &str = include_str!("../../data/protocols.txt");

/// At most this many distinct names: each is a label value on every client.
const MAX_NAMES: usize = 256;

/// An error in a protocol table file, naming the line.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{source_name}:{line}: {what}")]
pub struct ProtocolTableError {
    pub source_name: String,
    pub line: usize,
    pub what: String,
}

#[derive(Clone, Debug)]
struct PortRange {
    ip_proto: u8,
    first: u16,
    last: u16,
    id: ProtocolId,
}

/// The compiled table.
#[derive(Clone, Debug)]
pub struct ProtocolTable {
    names: Vec<String>,
    ports: HashMap<(u8, u16), ProtocolId, foldhash::fast::RandomState>,
    ranges: Vec<PortRange>,
    by_protocol: HashMap<u8, ProtocolId, foldhash::fast::RandomState>,
}

impl Default for ProtocolTable {
    fn default() -> Self {
        let mut table = ProtocolTable::empty();
        // The built-in text is tested to parse; an error here is a build defect.
        if let Err(e) = table.extend_from_str("built-in protocols", DEFAULT_TABLE) {
            tracing::error!("{e}");
        }
        table
    }
}

impl ProtocolTable {
    /// A table with only `other`.
    pub fn empty() -> ProtocolTable {
        ProtocolTable {
            names: vec!["other".to_string()],
            ports: HashMap::default(),
            ranges: Vec::new(),
            by_protocol: HashMap::default(),
        }
    }

    /// A table with no rules that keeps every name of `previous` under the
    /// same id: a reloaded table is built on it (the built-in rules, then
    /// the file), so the counters and flows holding those ids stay right.
    pub fn keeping_ids_of(previous: &ProtocolTable) -> ProtocolTable {
        ProtocolTable {
            names: previous.names.clone(),
            ..ProtocolTable::empty()
        }
    }

    /// Reads rules from `text` on top of the current ones.
    pub fn extend_from_str(
        &mut self,
        source_name: &str,
        text: &str,
    ) -> Result<(), ProtocolTableError> {
        for (index, raw) in text.lines().enumerate() {
            let line = raw.split('#').next().unwrap_or("").trim();
            if line.is_empty() {
                continue;
            }
            let err = |what: String| ProtocolTableError {
                source_name: source_name.to_string(),
                line: index + 1,
                what,
            };
            let fields: Vec<&str> = line.split_whitespace().collect();
            let (name, proto, port) = match fields.as_slice() {
                [name, proto] => (*name, *proto, None),
                [name, proto, port] => (*name, *proto, Some(*port)),
                _ => return Err(err(format!("expected `NAME PROTO [PORT]`, got {line:?}"))),
            };
            if !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
            {
                return Err(err(format!("protocol name {name:?} has characters other than letters, digits, '-', '_', '.'")));
            }
            let ip_proto = parse_ip_proto(proto).ok_or_else(|| {
                err(format!(
                    "unknown IP protocol {proto:?} (tcp, udp, icmp, ipv6-icmp or 0-255)"
                ))
            })?;
            let id = self
                .intern(name)
                .ok_or_else(|| err(format!("more than {MAX_NAMES} protocol names")))?;
            match port {
                None => {
                    self.by_protocol.insert(ip_proto, id);
                }
                Some(port) => {
                    let (first, last) = parse_port_range(port).ok_or_else(|| {
                        err(format!(
                            "bad port {port:?} (a number 0-65535 or FIRST-LAST)"
                        ))
                    })?;
                    if first == last {
                        self.ports.insert((ip_proto, first), id);
                    } else {
                        // Later rules win: put new ranges first.
                        self.ranges.insert(
                            0,
                            PortRange {
                                ip_proto,
                                first,
                                last,
                                id,
                            },
                        );
                    }
                }
            }
        }
        Ok(())
    }

    fn intern(&mut self, name: &str) -> Option<ProtocolId> {
        if let Some(i) = self.names.iter().position(|n| n == name) {
            return u16::try_from(i).ok().map(ProtocolId);
        }
        if self.names.len() >= MAX_NAMES {
            return None;
        }
        self.names.push(name.to_string());
        u16::try_from(self.names.len() - 1).ok().map(ProtocolId)
    }

    /// The rule for one port, if any.
    #[inline]
    fn port_rule(&self, ip_proto: u8, port: u16) -> Option<ProtocolId> {
        if let Some(id) = self.ports.get(&(ip_proto, port)) {
            return Some(*id);
        }
        self.ranges
            .iter()
            .find(|r| r.ip_proto == ip_proto && r.first <= port && port <= r.last)
            .map(|r| r.id)
    }

    /// Names a flow: the remote port first, then the client's port, then the
    /// protocol-number rule, else `other`.
    #[inline]
    pub fn classify(&self, ip_proto: u8, ports: Option<(u16, u16)>) -> ProtocolId {
        if let Some((remote_port, client_port)) = ports {
            if let Some(id) = self.port_rule(ip_proto, remote_port) {
                return id;
            }
            if let Some(id) = self.port_rule(ip_proto, client_port) {
                return id;
            }
        }
        self.by_protocol
            .get(&ip_proto)
            .copied()
            .unwrap_or(ProtocolId::OTHER)
    }

    pub fn name(&self, id: ProtocolId) -> &str {
        self.names
            .get(usize::from(id.0))
            .map_or("other", String::as_str)
    }

    /// The id of a protocol name, if the table has it.
    pub fn id(&self, name: &str) -> Option<ProtocolId> {
        let index = self.names.iter().position(|n| n == name)?;
        u16::try_from(index).ok().map(ProtocolId)
    }

    pub fn names(&self) -> &[String] {
        &self.names
    }
}

impl fmt::Display for ProtocolId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

fn parse_ip_proto(s: &str) -> Option<u8> {
    match s.to_ascii_lowercase().as_str() {
        "tcp" => Some(6),
        "udp" => Some(17),
        "icmp" => Some(1),
        "ipv6-icmp" | "icmpv6" => Some(58),
        other => other.parse().ok(),
    }
}

fn parse_port_range(s: &str) -> Option<(u16, u16)> {
    match s.split_once('-') {
        Some((a, b)) => {
            let (a, b) = (a.parse().ok()?, b.parse().ok()?);
            (a <= b).then_some((a, b))
        }
        None => s.parse().ok().map(|p| (p, p)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_in_table_parses() {
        let mut t = ProtocolTable::empty();
        t.extend_from_str("built-in", DEFAULT_TABLE).unwrap();
        assert!(t.names().len() > 30);
    }

    #[test]
    fn remote_port_names_the_flow_before_the_client_port() {
        let t = ProtocolTable::default();
        // Client port 53 (odd, but possible) talking to a remote HTTPS server.
        let id = t.classify(6, Some((443, 53)));
        assert_eq!(t.name(id), "HTTPS");
    }

    #[test]
    fn client_port_is_used_when_the_remote_port_is_unlisted() {
        let t = ProtocolTable::default();
        assert_eq!(t.name(t.classify(17, Some((40000, 123)))), "NTP");
    }

    #[test]
    fn tcp_and_udp_443_are_different_protocols() {
        let t = ProtocolTable::default();
        assert_eq!(t.name(t.classify(6, Some((443, 50000)))), "HTTPS");
        assert_eq!(t.name(t.classify(17, Some((443, 50000)))), "QUIC");
    }

    #[test]
    fn icmp_is_named_by_protocol_number_and_unknown_is_other() {
        let t = ProtocolTable::default();
        assert_eq!(t.name(t.classify(1, None)), "ICMP");
        assert_eq!(t.name(t.classify(58, None)), "IPv6-ICMP");
        assert_eq!(t.name(t.classify(6, Some((5, 6)))), "other");
        assert_eq!(t.name(t.classify(132, None)), "other");
    }

    #[test]
    fn a_user_file_extends_and_overrides_the_defaults() {
        let mut t = ProtocolTable::default();
        t.extend_from_str(
            "user",
            "Plex tcp 32400\nGames udp 27000-27100\nWeb tcp 80\n",
        )
        .unwrap();
        assert_eq!(t.name(t.classify(6, Some((32400, 50000)))), "Plex");
        assert_eq!(t.name(t.classify(17, Some((27050, 50000)))), "Games");
        assert_eq!(t.name(t.classify(6, Some((80, 50000)))), "Web");
    }

    #[test]
    fn errors_name_the_source_and_line() {
        let mut t = ProtocolTable::empty();
        let e = t
            .extend_from_str("my.txt", "# c\nHTTP tcp 80\nBad sctpx 1\n")
            .unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.to_string().starts_with("my.txt:3: unknown IP protocol"));
        let e = t.extend_from_str("my.txt", "X tcp 70000\n").unwrap_err();
        assert!(e.to_string().contains("bad port"));
        let e = t.extend_from_str("my.txt", "X y\"z tcp 1\n").unwrap_err();
        assert!(e.to_string().contains("expected"));
    }
}
