//! Device identity against tshark: every frame of the DHCP and mDNS
//! captures goes through lanwatch's frame decoder and `Identities`; tshark
//! reads the same files, the identity rules (DESIGN's precedence, the
//! host part of a name, `<host>.local` records of the sender's own
//! address) are applied to its rows here, independently, and the final
//! result per MAC must be the same. Address bindings (DHCPACK, neighbour
//! discovery) and MAC vendors (tshark's OUI resolution) are checked the
//! same way, and the generated renewal capture shows a client's address
//! moving with its DHCPACK.

mod common;

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::Command;

use lanwatch::capture::file::CaptureFile;
use lanwatch::capture::{Next, Source};
use lanwatch::decode::{decode_frame, Mac, Network};
use lanwatch::track::identity::{AddressBinding, Identities, IdentityConfig};
use lanwatch::track::oui::OuiTable;

const CAPTURES: [&str; 9] = [
    "zeek/dhcp.pcap",
    "tcpdump/dhcp-mud.pcap",
    "tcpdump/dhcp-option-108.pcapng",
    "suricata-verify/dhcp-eve-extended-option-60.pcap",
    "arkime/wireshark-dhcp.pcap",
    "ndpi/1kxun.pcap",
    "ndpi/telegram.pcap",
    "ndpi/iphone.pcap",
    "zeek/mdns.pcap",
];

/// tshark's separator between the occurrences of a field.
const SEP: char = '\u{1f}';

fn capture(rel: &str) -> PathBuf {
    let p = common::real_capture(rel);
    assert!(p.exists(), "{} is missing", p.display());
    p
}

/// Runs tshark with a display filter; one row of fields per frame, each
/// field split into its occurrences.
fn tshark(path: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<Vec<String>>> {
    common::require_tool("tshark", "tshark");
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"])
        .arg(path)
        .args(["-Y", filter, "-T", "fields"]);
    cmd.args(["-E", "occurrence=a", "-E"])
        .arg(format!("aggregator={SEP}"));
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark on {}", path.display());
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|line| {
            let mut row: Vec<Vec<String>> = line
                .split('\t')
                .map(|f| {
                    f.split(SEP)
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .collect();
            row.resize(fields.len(), Vec::new());
            row
        })
        .collect()
}

/// What we compare per MAC.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
struct Expected {
    hostname: Option<(String, &'static str)>,
    vendor_class: Option<String>,
    fingerprint: Option<String>,
    requested: Option<String>,
    assigned: Option<String>,
}

impl Expected {
    fn is_empty(&self) -> bool {
        *self == Expected::default()
    }
}

/// Precedence ranks as the design states them: lease file > DHCP option
/// 81/12 > DHCPv6 FQDN > mDNS.
fn rank(source: &str) -> u8 {
    match source {
        "lease_file" => 4,
        "dhcp" | "dhcp_fqdn" => 3,
        "dhcpv6_fqdn" => 2,
        "mdns" => 1,
        other => panic!("unknown source {other}"),
    }
}

fn offer(e: &mut Expected, name: &str, source: &'static str) {
    let host = name.split('.').next().unwrap_or_default().trim();
    if host.is_empty() {
        return;
    }
    let replace = match &e.hostname {
        Some((_, current)) => rank(source) >= rank(current),
        None => true,
    };
    if replace {
        e.hostname = Some((host.to_string(), source));
    }
}

fn first(row: &[Vec<String>], i: usize) -> Option<&str> {
    row[i].first().map(String::as_str)
}

fn is_usable(mac: &Mac) -> bool {
    !mac.is_zero() && !mac.is_group()
}

/// tshark's DHCP rows turned into expected identities and ACK bindings.
fn expected_dhcp(
    path: &Path,
    into: &mut BTreeMap<Mac, Expected>,
    events: &mut Vec<(u32, Mac, String, &'static str)>,
    bindings: &mut Vec<(u32, Mac, IpAddr)>,
) {
    let fields = [
        "frame.number",
        "dhcp.type",
        "dhcp.hw.type",
        "dhcp.hw.len",
        "dhcp.hw.mac_addr",
        "dhcp.option.dhcp",
        "dhcp.option.hostname",
        "dhcp.fqdn.name",
        "dhcp.option.vendor_class_id",
        "dhcp.option.request_list_item",
        "dhcp.option.requested_ip_address",
        "dhcp.ip.client",
        "dhcp.ip.your",
    ];
    for row in tshark(path, "dhcp", &fields) {
        let frame: u32 = first(&row, 0).unwrap().parse().unwrap();
        if first(&row, 2) != Some("0x01") || first(&row, 3) != Some("6") {
            continue;
        }
        let Some(mac) = first(&row, 4).and_then(|m| m.parse::<Mac>().ok()) else {
            continue;
        };
        let Some(kind) = first(&row, 5) else { continue };
        if !is_usable(&mac) {
            continue;
        }
        let e = into.entry(mac).or_default();
        match first(&row, 1) {
            Some("1") => {
                // Option 81 before option 12 in one message.
                let fqdn = first(&row, 7).filter(|n| !n.split('.').next().unwrap().is_empty());
                if let Some(name) = fqdn {
                    events.push((frame, mac, name.to_string(), "dhcp_fqdn"));
                } else if let Some(name) = first(&row, 6) {
                    events.push((frame, mac, name.to_string(), "dhcp"));
                }
                if let Some(v) = first(&row, 8) {
                    e.vendor_class = Some(v.to_string());
                }
                if !row[9].is_empty() {
                    e.fingerprint = Some(row[9].join(","));
                }
                let ciaddr = first(&row, 11).filter(|c| *c != "0.0.0.0" && kind == "3");
                if let Some(r) = first(&row, 10).or(ciaddr) {
                    e.requested = Some(r.to_string());
                }
            }
            Some("2") if kind == "5" => {
                let yiaddr = first(&row, 12).unwrap_or("0.0.0.0");
                if yiaddr != "0.0.0.0" && yiaddr != "255.255.255.255" {
                    e.assigned = Some(yiaddr.to_string());
                    bindings.push((frame, mac, yiaddr.parse().unwrap()));
                }
            }
            _ => {}
        }
    }
}

/// The reverse-mapping name of an address, lower-case.
fn reverse_name(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(a) => {
            let o = a.octets();
            format!("{}.{}.{}.{}.in-addr.arpa", o[3], o[2], o[1], o[0])
        }
        IpAddr::V6(a) => {
            let hex: String = a.octets().iter().map(|b| format!("{b:02x}")).collect();
            let mut parts: Vec<String> = hex.chars().rev().map(|c| c.to_string()).collect();
            parts.push("ip6.arpa".into());
            parts.join(".")
        }
    }
}

/// `host` of `host.local`.
fn local_host(name: &str) -> Option<&str> {
    let (host, domain) = name.split_once('.')?;
    (domain.eq_ignore_ascii_case("local") && !host.is_empty()).then_some(host)
}

/// tshark's mDNS responses: the name of an A/AAAA record holding the
/// sender's address, or the target of the sender's reverse PTR. Read from
/// tshark's JSON, where each record is an object of its own.
fn expected_mdns(path: &Path, events: &mut Vec<(u32, Mac, String, &'static str)>) {
    common::require_tool("tshark", "tshark");
    let out = Command::new("tshark")
        .args(["-n", "-r"])
        .arg(path)
        .args([
            "-Y",
            "mdns && dns.flags.response == 1 && udp.srcport == 5353",
            "-T",
            "json",
        ])
        .output()
        .expect("run tshark");
    assert!(out.status.success(), "tshark on {}", path.display());
    let packets: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for packet in packets.as_array().unwrap() {
        let layers = &packet["_source"]["layers"];
        let text = |v: &serde_json::Value| v.as_str().map(str::to_string);
        let frame: u32 = text(&layers["frame"]["frame.number"])
            .unwrap()
            .parse()
            .unwrap();
        let Some(mac) = text(&layers["eth"]["eth.src"]).and_then(|m| m.parse::<Mac>().ok()) else {
            continue;
        };
        let src: IpAddr = text(&layers["ip"]["ip.src"])
            .or_else(|| text(&layers["ipv6"]["ipv6.src"]))
            .unwrap()
            .parse()
            .unwrap();
        let mdns = &layers["mdns"];
        let mut found = None;
        for section in ["Answers", "Authoritative nameservers", "Additional records"] {
            let Some(records) = mdns[section].as_object() else {
                continue;
            };
            for record in records.values() {
                let Some(name) = record["dns.resp.name"].as_str() else {
                    continue;
                };
                let holds_src = |field: &str| {
                    record[field]
                        .as_str()
                        .and_then(|a| a.parse::<IpAddr>().ok())
                        == Some(src)
                };
                let host = if holds_src("dns.a") || holds_src("dns.aaaa") {
                    local_host(name)
                } else if name.eq_ignore_ascii_case(&reverse_name(src)) {
                    record["dns.ptr.domain_name"].as_str().and_then(local_host)
                } else {
                    None
                };
                if found.is_none() {
                    found = host.map(str::to_string);
                }
            }
        }
        if let (Some(h), true) = (found, is_usable(&mac)) {
            events.push((frame, mac, h, "mdns"));
        }
    }
}

/// Every frame of `path` through the decoder and `identities`; the
/// bindings it returned, by frame number.
fn replay(path: &Path, identities: &mut Identities) -> Vec<(u32, AddressBinding)> {
    let mut file = CaptureFile::open(path).unwrap();
    let mut bindings = Vec::new();
    let mut number = 0u32;
    loop {
        let frame = match file.next_frame().unwrap() {
            Next::Frame(f) => f,
            Next::End => break,
            Next::Idle => continue,
        };
        number += 1;
        let Ok(decoded) = decode_frame(frame.link, frame.data, frame.wire_len) else {
            continue;
        };
        match decoded.network {
            Network::Ip(ip) => {
                if let Some(b) = identities.observe_ip(frame.ts_nanos, &decoded.link, &ip) {
                    bindings.push((number, b));
                }
            }
            Network::Arp(arp) => identities.observe_arp(frame.ts_nanos, &arp),
            Network::Other { .. } => {}
        }
    }
    bindings
}

fn full_oui_table() -> OuiTable {
    OuiTable::load(&common::root().join("data/oui.tsv")).unwrap()
}

fn ours(identities: &Identities) -> BTreeMap<Mac, Expected> {
    identities
        .iter()
        .map(|(mac, d)| {
            let e = Expected {
                hostname: d
                    .hostname()
                    .map(|h| (h.to_string(), d.hostname_source.unwrap().label())),
                vendor_class: d.dhcp_vendor_class.as_deref().map(str::to_string),
                fingerprint: d.dhcp_fingerprint.as_deref().map(str::to_string),
                requested: d.dhcp_requested.map(|a| a.to_string()),
                assigned: d.dhcp_assigned.map(|a| a.to_string()),
            };
            (*mac, e)
        })
        .filter(|(_, e)| !e.is_empty())
        .collect()
}

#[test]
fn identities_agree_with_tshark_per_mac() {
    let mut names = 0;
    let mut mdns_names = 0;
    for rel in CAPTURES {
        let path = capture(rel);
        let mut expected = BTreeMap::new();
        let mut events = Vec::new();
        let mut acks = Vec::new();
        expected_dhcp(&path, &mut expected, &mut events, &mut acks);
        expected_mdns(&path, &mut events);
        events.sort_by_key(|e| e.0);
        for (_, mac, name, source) in &events {
            offer(expected.entry(*mac).or_default(), name, source);
        }
        expected.retain(|_, e| !e.is_empty());

        let mut identities = Identities::new(IdentityConfig {
            oui: full_oui_table(),
            ..IdentityConfig::default()
        });
        let bindings = replay(&path, &mut identities);
        let ours = ours(&identities);
        assert_eq!(ours, expected, "{rel}: identities per MAC");

        let ours_v4: Vec<(u32, Mac, IpAddr)> = bindings
            .iter()
            .filter(|(_, b)| b.ip.is_ipv4())
            .map(|(n, b)| (*n, b.mac, b.ip))
            .collect();
        assert_eq!(ours_v4, acks, "{rel}: DHCPACK bindings");

        names += expected.values().filter(|e| e.hostname.is_some()).count();
        mdns_names += expected
            .values()
            .filter(|e| e.hostname.as_ref().is_some_and(|h| h.1 == "mdns"))
            .count();
    }
    assert!(names >= 15, "{names} host names compared");
    assert!(mdns_names >= 3, "{mdns_names} mDNS host names compared");
}

#[test]
fn known_names_from_the_captures() {
    // Spot checks that the comparison above is about something.
    let mut identities = Identities::new(IdentityConfig::default());
    for rel in ["ndpi/iphone.pcap", "ndpi/telegram.pcap", "zeek/mdns.pcap"] {
        replay(&capture(rel), &mut identities);
    }
    let name = |m: &str| {
        identities
            .get(&m.parse().unwrap())
            .and_then(|d| d.hostname().map(str::to_string))
    };
    assert_eq!(name("c4:61:8b:35:82:a9").as_deref(), Some("Lucas-iPhone"));
    assert_eq!(name("d8:30:62:56:00:1c").as_deref(), Some("Lucas-iMac"));
    assert_eq!(name("8c:fe:57:23:37:e4").as_deref(), Some("Gabrieles-iPad"));
    assert_eq!(
        name("8a:3c:d6:e1:4d:c4").as_deref(),
        Some("johanna-QEMU-Virtual-Machine")
    );
    assert_eq!(name("00:80:8f:9a:ae:bd").as_deref(), Some("pi3"));
}

#[test]
fn neighbour_discovery_bindings_agree_with_tshark() {
    let path = capture("arkime/v6.pcap");
    let fields = [
        "frame.number",
        "ipv6.src",
        "icmpv6.type",
        "icmpv6.nd.na.target_address",
        "icmpv6.opt.type",
        "icmpv6.opt.linkaddr",
    ];
    let mut expected = Vec::new();
    for row in tshark(&path, "icmpv6.type == 135 || icmpv6.type == 136", &fields) {
        let frame: u32 = first(&row, 0).unwrap().parse().unwrap();
        let wanted_option = if first(&row, 2) == Some("135") {
            "1"
        } else {
            "2"
        };
        let Some(i) = row[4].iter().position(|t| t == wanted_option) else {
            continue;
        };
        let mac: Mac = row[5][i].parse().unwrap();
        let ip: IpAddr = if wanted_option == "1" {
            first(&row, 1).unwrap().parse().unwrap()
        } else {
            first(&row, 3).unwrap().parse().unwrap()
        };
        if !ip.is_unspecified() {
            expected.push((frame, mac, ip));
        }
    }
    assert!(expected.len() >= 10, "{} ND bindings", expected.len());
    let mut identities = Identities::new(IdentityConfig::default());
    let ours: Vec<(u32, Mac, IpAddr)> = replay(&path, &mut identities)
        .into_iter()
        .map(|(n, b)| (n, b.mac, b.ip))
        .collect();
    assert_eq!(ours, expected);
    assert!(identities.is_empty(), "neighbour discovery names nobody");
}

#[test]
fn vendors_agree_with_tshark_oui_resolution() {
    let table = full_oui_table();
    let mut compared = 0;
    let mut unknown_to_us = Vec::new();
    for rel in CAPTURES {
        let rows = tshark(&capture(rel), "eth", &["eth.src", "eth.src.oui_resolved"]);
        let mut seen = BTreeMap::new();
        for row in rows {
            let mac: Mac = first(&row, 0).unwrap().parse().unwrap();
            seen.insert(mac, first(&row, 1).map(str::to_string));
        }
        for (mac, theirs) in seen {
            let ours = table.lookup(&mac);
            if mac.is_locally_administered() {
                assert_eq!(ours, None, "{rel} {mac}: randomized MAC has no vendor");
                continue;
            }
            match (ours, theirs) {
                (Some(v), Some(t)) => {
                    // Our short name is the IEEE name less legal suffixes:
                    // every word of it is in tshark's name.
                    let t_lower = t.to_lowercase();
                    for word in v.split(' ') {
                        assert!(
                            t_lower.contains(&word.to_lowercase()),
                            "{rel} {mac}: {v:?} vs tshark {t:?}"
                        );
                    }
                    compared += 1;
                }
                (None, Some(t)) => unknown_to_us.push(format!("{mac} {t}")),
                (Some(v), None) => panic!("{rel} {mac}: {v:?}, tshark knows no vendor"),
                (None, None) => {}
            }
        }
    }
    assert!(compared >= 20, "{compared} vendors compared");
    // Blocks assigned after the registry snapshot we ship, or sub-assigned
    // (MA-M/MA-S) ones, may be known to tshark only; not more than a few.
    assert!(
        unknown_to_us.len() * 10 <= compared,
        "vendors tshark knows and we do not: {unknown_to_us:?}"
    );
}

#[test]
fn a_dhcp_renewal_moves_the_clients_address() {
    let capture = common::repo_file("tests/data/generated/dhcp_renewal.pcap");
    // The address tshark sees in each DHCPACK, per client.
    let mut expected = BTreeMap::new();
    let mut events = Vec::new();
    let mut acks = Vec::new();
    expected_dhcp(&capture, &mut expected, &mut events, &mut acks);
    for (_, mac, name, source) in &events {
        offer(expected.entry(*mac).or_default(), name, source);
    }
    assert!(acks.len() >= 2, "the capture has an ACK and a renewal ACK");
    let client = acks[0].1;
    assert!(acks.iter().all(|a| a.1 == client));
    assert_ne!(
        acks[0].2,
        acks.last().unwrap().2,
        "the renewal changes the address"
    );

    let mut identities = Identities::new(IdentityConfig::default());
    let bindings: Vec<(u32, Mac, IpAddr)> = replay(&capture, &mut identities)
        .into_iter()
        .filter(|(_, b)| b.ip.is_ipv4())
        .map(|(n, b)| (n, b.mac, b.ip))
        .collect();
    assert_eq!(bindings, acks);
    let d = identities.get(&client).unwrap();
    assert_eq!(
        d.dhcp_assigned.map(IpAddr::V4),
        Some(acks.last().unwrap().2),
        "after the renewal's ACK the client holds the new address"
    );
    assert_eq!(
        d.hostname(),
        expected[&client].hostname.as_ref().map(|h| h.0.as_str())
    );
    assert_eq!(d.hostname(), Some("renewing-laptop"));

    // And the capture's accounting agrees with the independent model.
    let json = common::repo_file("tests/data/generated/dhcp_renewal.expected.json");
    let want: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(json).unwrap()).unwrap();
    let ours = common::lanwatch_json(std::slice::from_ref(&capture), &[]);
    common::assert_accounting_matches(std::slice::from_ref(&capture), &ours, &want);

    // End to end: the daemon's client carries the renewed address as its
    // `ip` and the DHCP host name.
    let served = ours["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["mac"] == client.to_string())
        .expect("the renewing client is listed");
    assert_eq!(served["ip"], acks.last().unwrap().2.to_string());
    assert_eq!(served["hostname"], "renewing-laptop");
}

/// End to end: every client of the sample that sent a DHCP host name is
/// served with the name tshark reads from its DHCP messages, and a vendor.
#[test]
fn the_sample_replay_names_every_dhcp_client_as_tshark_reads_it() {
    common::require_tool("tshark", "tshark");
    let capture = common::repo_file("samples/home-lan.pcap");
    let out = std::process::Command::new("tshark")
        .arg("-r")
        .arg(&capture)
        .args(["-Y", "dhcp.option.hostname", "-T", "fields"])
        .args(["-e", "dhcp.hw.mac_addr", "-e", "dhcp.option.hostname"])
        .output()
        .unwrap();
    let mut names = BTreeMap::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        if let Some((mac, name)) = line.split_once('\t') {
            names.insert(mac.to_string(), name.to_string());
        }
    }
    assert!(
        names.len() >= 5,
        "the sample's clients send host names: {names:?}"
    );
    let ours = common::lanwatch_json(&[capture], &[]);
    for client in ours["clients"].as_array().unwrap() {
        let mac = client["mac"].as_str().unwrap_or_default();
        if let Some(name) = names.get(mac) {
            assert_eq!(client["hostname"], name.as_str(), "{mac}");
            assert_eq!(client["hostname_source"], "dhcp", "{mac}");
        }
        if client["randomized_mac"] == false {
            assert!(client["vendor"].is_string(), "{mac} has a vendor");
        }
    }
}
