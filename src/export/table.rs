//! The terminal table: what a person wants to see first after a replay.
//!
//! One line per client, biggest download first, sizes in 1024-based units,
//! the DNS queries it sent and the three protocols that carried most of its
//! bytes; under it, indented, the domains that carried most. Columns
//! are as wide as their widest cell (hostnames are cut at
//! `HOSTNAME_WIDTH`), numbers are right-aligned, and the free-text protocol
//! column comes last so a typical home LAN fits in 120 columns. No colours:
//! the output is meant to be piped, diffed and pasted.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::track::{ClientSnapshot, ProtocolUsage, Snapshot};

/// Longest hostname shown; longer ones are cut and end in `…`.
pub const HOSTNAME_WIDTH: usize = 20;

/// How many protocols the last column names.
const TOP_PROTOCOLS: usize = 3;

/// How many domains the line under a client names.
const TOP_DOMAINS: usize = 3;

/// Longest vendor name shown.
pub const VENDOR_WIDTH: usize = 14;

/// Spaces between columns.
const GAP: &str = "  ";

#[derive(Clone, Copy)]
enum Align {
    Left,
    Right,
}

/// The columns, in order: title and alignment.
const COLUMNS: [(&str, Align); 10] = [
    ("HOST", Align::Left),
    ("IP", Align::Left),
    ("MAC", Align::Left),
    ("VENDOR", Align::Left),
    ("DOWN", Align::Right),
    ("UP", Align::Right),
    ("CONN", Align::Right),
    ("DNS", Align::Right),
    ("LAN", Align::Right),
    ("TOP PROTOCOLS", Align::Left),
];

type Row = [String; 10];

/// Renders the table: a header line, one line per client (by download,
/// largest first), and a totals line.
pub fn render_table(snapshot: &Snapshot) -> String {
    let mut clients: Vec<&ClientSnapshot> = snapshot.clients.iter().collect();
    clients.sort_by_cached_key(|c| {
        let bandwidth = c.bandwidth();
        (
            Reverse(bandwidth.rx_bytes),
            Reverse(bandwidth.tx_bytes),
            c.mac,
            c.ip,
        )
    });

    let mut rows: Vec<Row> = Vec::with_capacity(clients.len().saturating_add(2));
    rows.push(COLUMNS.map(|(title, _)| title.to_string()));
    rows.extend(clients.iter().map(|c| client_row(c)));
    rows.push(totals_row(&clients));
    // The line under each client row (none under the header and totals).
    let mut notes: Vec<Option<String>> = vec![None];
    notes.extend(clients.iter().map(|c| top_domains(c)));
    notes.push(None);

    let mut widths = [0_usize; 10];
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }

    let mut out = String::new();
    for (row, note) in rows.iter().zip(&notes) {
        let mut line = String::new();
        for (i, ((cell, width), (_, align))) in row.iter().zip(widths).zip(COLUMNS).enumerate() {
            if i > 0 {
                line.push_str(GAP);
            }
            let pad = width.saturating_sub(cell.chars().count());
            match align {
                Align::Left => {
                    line.push_str(cell);
                    line.push_str(&" ".repeat(pad));
                }
                Align::Right => {
                    line.push_str(&" ".repeat(pad));
                    line.push_str(cell);
                }
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
        if let Some(note) = note {
            out.push_str("       ");
            out.push_str(note);
            out.push('\n');
        }
    }
    out
}

/// `domains: nflxvideo.net 88% www.netflix.com 7%`: the domains that carried
/// most of the client's attributed bytes, if any.
fn top_domains(c: &ClientSnapshot) -> Option<String> {
    let shown = top_shares(
        c.domains.iter().map(|d| {
            (
                d.domain.as_str(),
                d.traffic.rx_bytes.saturating_add(d.traffic.tx_bytes),
            )
        }),
        TOP_DOMAINS,
    )?;
    Some(format!("domains: {shown}"))
}

fn client_row(c: &ClientSnapshot) -> Row {
    let bandwidth = c.bandwidth();
    let total = c
        .protocols
        .iter()
        .fold(0_u64, |sum, p| sum.saturating_add(p.connections));
    [
        c.hostname
            .as_deref()
            .map_or_else(|| "-".to_string(), shown_hostname),
        c.ip.map_or_else(|| "-".to_string(), |ip| ip.to_string()),
        c.mac.map_or_else(|| "-".to_string(), |mac| mac.to_string()),
        c.vendor
            .as_deref()
            .map_or_else(|| "-".to_string(), |v| shown_text(v, VENDOR_WIDTH)),
        human_bytes(bandwidth.rx_bytes),
        human_bytes(bandwidth.tx_bytes),
        format!("{total}/{}", c.connections_active),
        c.dns.queries_total().to_string(),
        human_bytes(c.lan.rx_bytes.saturating_add(c.lan.tx_bytes)),
        top_protocols(
            c.protocols
                .iter()
                .map(|p| (p.protocol.as_str(), bytes_of(p))),
        ),
    ]
}

fn totals_row(clients: &[&ClientSnapshot]) -> Row {
    let (mut down, mut up, mut lan, mut total, mut active) = (0_u64, 0_u64, 0_u64, 0_u64, 0_u64);
    let mut dns = 0_u64;
    let mut by_protocol: BTreeMap<&str, u64> = BTreeMap::new();
    for c in clients {
        let bandwidth = c.bandwidth();
        down = down.saturating_add(bandwidth.rx_bytes);
        up = up.saturating_add(bandwidth.tx_bytes);
        lan = lan
            .saturating_add(c.lan.rx_bytes)
            .saturating_add(c.lan.tx_bytes);
        active = active.saturating_add(c.connections_active);
        dns = dns.saturating_add(c.dns.queries_total());
        for p in &c.protocols {
            total = total.saturating_add(p.connections);
            let sum = by_protocol.entry(p.protocol.as_str()).or_insert(0);
            *sum = sum.saturating_add(bytes_of(p));
        }
    }
    let count = match clients.len() {
        1 => "1 client".to_string(),
        n => format!("{n} clients"),
    };
    [
        "TOTAL".to_string(),
        count,
        String::new(),
        String::new(),
        human_bytes(down),
        human_bytes(up),
        format!("{total}/{active}"),
        dns.to_string(),
        human_bytes(lan),
        top_protocols(by_protocol.into_iter()),
    ]
}

/// Both directions of one protocol's bandwidth.
fn bytes_of(p: &ProtocolUsage) -> u64 {
    p.traffic.rx_bytes.saturating_add(p.traffic.tx_bytes)
}

/// `HTTPS 71% QUIC 20% DNS 3%`: the protocols with most bytes (ties by
/// name) and their share of all the bytes; `-` when nothing was sent.
fn top_protocols<'a>(protocols: impl Iterator<Item = (&'a str, u64)>) -> String {
    top_shares(protocols, TOP_PROTOCOLS).unwrap_or_else(|| "-".to_string())
}

/// The `n` names with most bytes (ties by name) and their share of all the
/// bytes; None when there were no bytes.
fn top_shares<'a>(items: impl Iterator<Item = (&'a str, u64)>, n: usize) -> Option<String> {
    let mut items: Vec<(&str, u64)> = items.filter(|&(_, bytes)| bytes > 0).collect();
    let all = items
        .iter()
        .fold(0_u64, |sum, &(_, bytes)| sum.saturating_add(bytes));
    if all == 0 {
        return None;
    }
    items.sort_by_key(|&(name, bytes)| (Reverse(bytes), name));
    let shares: Vec<String> = items
        .iter()
        .take(n)
        .map(|&(name, bytes)| format!("{} {}", shown_text(name, 40), percent(bytes, all)))
        .collect();
    Some(shares.join(" "))
}

/// `part` as a rounded whole percentage of `all` (> 0); `<1%` for a share
/// that rounds to nothing.
fn percent(part: u64, all: u64) -> String {
    let all = u128::from(all.max(1));
    let rounded = (u128::from(part) * 100 + all / 2) / all;
    if rounded == 0 {
        "<1%".to_string()
    } else {
        format!("{rounded}%")
    }
}

/// A size in 1024-based units: `512 B`, `12.3 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 7] = ["B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64;
    let mut unit = 0;
    // Step up while the value would show as 1024.0 or more.
    while value >= 1023.95 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    let name = UNITS.get(unit).copied().unwrap_or("EiB");
    format!("{value:.1} {name}")
}

/// A hostname made safe for one table cell: control characters shown as
/// `?`, and cut to `HOSTNAME_WIDTH` characters.
fn shown_hostname(name: &str) -> String {
    shown_text(name, HOSTNAME_WIDTH)
}

/// Text made safe for the table: control characters shown as `?`, cut to
/// `width` characters (ending in `…` when cut).
fn shown_text(text: &str, width: usize) -> String {
    let clean = text.chars().map(|c| if c.is_control() { '?' } else { c });
    if text.chars().count() <= width {
        clean.collect()
    } else {
        let mut cut: String = clean.take(width.saturating_sub(1)).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Mac;
    use crate::track::{DomainUsage, Health, NamedCount, Traffic};
    use std::net::IpAddr;

    const KIB: u64 = 1024;
    const MIB: u64 = 1024 * 1024;

    fn usage(protocol: &str, rx_bytes: u64, tx_bytes: u64, connections: u64) -> ProtocolUsage {
        ProtocolUsage {
            protocol: protocol.to_string(),
            traffic: Traffic {
                rx_bytes,
                tx_bytes,
                rx_packets: 1,
                tx_packets: 1,
            },
            connections,
        }
    }

    fn client(hostname: Option<&str>, ip: &str, mac: [u8; 6]) -> ClientSnapshot {
        ClientSnapshot {
            hostname: hostname.map(str::to_string),
            ..ClientSnapshot::test_client(Mac(mac), ip.parse::<IpAddr>().unwrap())
        }
    }

    fn domain(name: &str, rx_bytes: u64) -> DomainUsage {
        DomainUsage {
            domain: name.to_string(),
            queries: 1,
            traffic: lan(rx_bytes, 0),
            connections: 1,
            first_seen: 0.0,
            last_seen: 0.0,
        }
    }

    fn lan(rx_bytes: u64, tx_bytes: u64) -> Traffic {
        Traffic {
            rx_bytes,
            tx_bytes,
            rx_packets: 0,
            tx_packets: 0,
        }
    }

    /// A laptop (8.5 MiB down), a phone without hostname (1,000,000 bytes
    /// down) and an idle IPv6-only bridge, listed out of order.
    fn small_lan() -> Snapshot {
        let mut laptop = client(
            Some("anna-laptop"),
            "192.168.1.23",
            [0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56],
        );
        laptop.protocols = vec![
            usage("DNS", 10 * KIB, 10 * KIB, 40),
            usage("HTTPS", 7 * MIB, MIB, 12),
            usage("QUIC", 3 * MIB / 2, MIB / 2, 3),
        ];
        laptop.connections_active = 6;
        laptop.lan = lan(2 * KIB, KIB);
        laptop.vendor = Some("Apple".to_string());
        laptop.dns.queries = vec![
            NamedCount {
                name: "A".into(),
                count: 30,
            },
            NamedCount {
                name: "AAAA".into(),
                count: 10,
            },
        ];
        // 3 MiB to youtube of 4 MiB attributed: 75 %, github 25 %.
        laptop.domains = vec![
            domain("www.youtube.com", 3 * MIB),
            domain("github.com", MIB),
        ];

        let mut phone = client(None, "192.168.1.57", [0xda, 0xa1, 0x19, 0x0b, 0xee, 0xf1]);
        phone.protocols = vec![
            usage("DNS", 0, 500, 2),
            usage("HTTPS", 1_000_000, 200_000, 5),
        ];
        phone.connections_active = 1;
        phone.dns.queries = vec![NamedCount {
            name: "A".into(),
            count: 2,
        }];

        let mut bridge = client(
            Some("hue-bridge"),
            "fd00::1:2",
            [0x00, 0x17, 0x88, 0x6a, 0x01, 0x02],
        );
        bridge.lan = lan(0, 512);

        Snapshot {
            clients: vec![bridge, phone, laptop],
            health: Health::default(),
            export: Default::default(),
        }
    }

    #[test]
    fn clients_are_listed_by_download_with_a_header_and_totals() {
        // Shares: laptop HTTPS 8 MiB of 10,506,240 B = 79.8 %, QUIC 2 MiB = 20.0 %,
        // DNS 20 KiB = 0.2 %; phone HTTPS 1,200,000 of 1,200,500 B = 99.96 %.
        // Totals: down 9,923,136 B = 9.46 MiB, up 1,783,604 B = 1.70 MiB,
        // HTTPS 9,588,608 of 11,706,740 B = 81.9 %, QUIC 17.9 %, DNS 0.18 %.
        let expected = "\
HOST         IP            MAC                VENDOR       DOWN         UP  CONN  DNS      LAN  TOP PROTOCOLS
anna-laptop  192.168.1.23  3c:22:fb:12:34:56  Apple     8.5 MiB    1.5 MiB  55/6   40  3.0 KiB  HTTPS 80% QUIC 20% DNS <1%
       domains: www.youtube.com 75% github.com 25%
-            192.168.1.57  da:a1:19:0b:ee:f1  -       976.6 KiB  195.8 KiB   7/1    2      0 B  HTTPS 100% DNS <1%
hue-bridge   fd00::1:2     00:17:88:6a:01:02  -             0 B        0 B   0/0    0    512 B  -
TOTAL        3 clients                                  9.5 MiB    1.7 MiB  62/7   42  3.5 KiB  HTTPS 82% QUIC 18% DNS <1%
";
        assert_eq!(render_table(&small_lan()), expected);
    }

    #[test]
    fn an_empty_snapshot_has_only_header_and_totals() {
        let expected = "\
HOST   IP         MAC  VENDOR  DOWN   UP  CONN  DNS  LAN  TOP PROTOCOLS
TOTAL  0 clients                0 B  0 B   0/0    0  0 B  -
";
        assert_eq!(render_table(&Snapshot::default()), expected);
    }

    #[test]
    fn sizes_use_1024_based_units_with_one_decimal() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(12_897_485), "12.3 MiB"); // 12.3000002 MiB
        assert_eq!(human_bytes(1024 * 1024 - 1), "1.0 MiB"); // not "1024.0 KiB"
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn long_or_strange_hostnames_are_cut_and_cleaned() {
        assert_eq!(
            shown_hostname("living-room-television-4k"),
            "living-room-televis…"
        );
        assert_eq!(shown_hostname("two\nlines"), "two?lines");
        assert_eq!(
            shown_hostname("exactly-twenty-chars"),
            "exactly-twenty-chars"
        );
    }

    #[test]
    fn top_protocols_name_at_most_three_and_break_ties_by_name() {
        let four = [("b", 10), ("a", 10), ("c", 60), ("d", 20)];
        assert_eq!(top_protocols(four.into_iter()), "c 60% d 20% a 10%");
        assert_eq!(top_protocols([("x", 0)].into_iter()), "-");
    }
}
