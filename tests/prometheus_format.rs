//! The `/metrics` exposition is valid Prometheus text format 0.0.4 and says
//! exactly what the snapshot holds.
//!
//! Two independent checks on a realistic snapshot: `promtool check metrics`
//! (Prometheus' own parser and linter) must accept it, and a small parser
//! written here reads every sample back; the samples must equal the set
//! worked out directly from the snapshot's fields by the rules of the design.

use std::collections::BTreeMap;
use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};

mod common;

use common::snapshot_client;
use lanwatch::decode::Mac;
use lanwatch::export::prometheus::render;
use lanwatch::track::{
    BypassSnapshot, ClientSnapshot, DnsSnapshot, DomainUsage, Health, LatencySnapshot, NamedCount,
    PacketOutcomes, ProcessStats, ProtocolUsage, Snapshot, Traffic,
};

fn usage(protocol: &str, rx: (u64, u64), tx: (u64, u64), connections: u64) -> ProtocolUsage {
    ProtocolUsage {
        protocol: protocol.to_string(),
        traffic: Traffic {
            rx_bytes: rx.0,
            rx_packets: rx.1,
            tx_bytes: tx.0,
            tx_packets: tx.1,
        },
        connections,
    }
}

fn domain(name: &str, queries: u64, (rx, tx): (u64, u64), connections: u64) -> DomainUsage {
    DomainUsage {
        domain: name.to_string(),
        queries,
        traffic: Traffic {
            rx_bytes: rx,
            tx_bytes: tx,
            rx_packets: 1,
            tx_packets: 1,
        },
        connections,
        first_seen: 1_764_057_600.0,
        last_seen: 1_764_061_000.0,
    }
}

/// A home LAN: a laptop, a phone with a private MAC and an awkward hostname,
/// an IPv6-only device with no name, and a client seen on a link without MACs.
fn home_lan() -> Snapshot {
    let laptop = ClientSnapshot {
        ipv4: vec![Ipv4Addr::new(192, 168, 1, 23)],
        ipv6: vec![
            "fd12:3456:789a::23".parse().unwrap(),
            "2001:db8:1:0:a1b2:c3d4:e5f6:789".parse().unwrap(),
        ],
        hostname: Some("anna-laptop".to_string()),
        vendor: Some("Apple, Inc.".to_string()),
        first_seen: 1_764_057_600.0,
        last_seen: 1_764_061_199.873_214,
        protocols: vec![
            usage("DNS", (48_211, 301), (21_877, 298), 296),
            usage(
                "HTTPS",
                (1_288_490_188, 912_004),
                (40_111_222, 301_220),
                1_402,
            ),
            usage(
                "QUIC",
                (5_368_709_120, 3_801_244),
                (98_004_112, 610_122),
                88,
            ),
            usage("other", (0, 0), (1_500, 1), 1),
        ],
        lan: Traffic {
            rx_bytes: 912_345,
            tx_bytes: 12_004,
            rx_packets: 2_001,
            tx_packets: 97,
        },
        connections_active: 37,
        dns: DnsSnapshot {
            queries: vec![
                NamedCount {
                    name: "A".into(),
                    count: 120,
                },
                NamedCount {
                    name: "HTTPS".into(),
                    count: 40,
                },
            ],
            responses: vec![
                NamedCount {
                    name: "NOERROR".into(),
                    count: 150,
                },
                NamedCount {
                    name: "NXDOMAIN".into(),
                    count: 9,
                },
            ],
            mdns_queries: 4,
            unique_domains: 57,
            unique_evictions: 0,
            domain_evictions: 0,
            bypass: BypassSnapshot {
                other_resolver: 2,
                dot: 0,
                doh: 1,
            },
            latency: LatencySnapshot {
                buckets: vec![(0.001, 3), (0.01, 100), (0.1, 158), (1.0, 159)],
                count: 159,
                sum_seconds: 2.5,
            },
        },
        domains: vec![
            domain("www.youtube.com", 9, (5_000_000, 100_000), 4),
            domain("github.com", 30, (800_000, 90_000), 6),
            domain("ads.example", 50, (0, 0), 0),
        ],
        ..snapshot_client(
            Some(Mac([0x3c, 0x22, 0xfb, 0x12, 0x34, 0x56])),
            "192.168.1.23",
        )
    };
    let phone = ClientSnapshot {
        ipv4: vec![Ipv4Addr::new(192, 168, 1, 57)],
        hostname: Some("Bob's \"Pixel\"\\7\nsecond line".to_string()),
        randomized_mac: true,
        first_seen: 1_764_060_000.5,
        last_seen: 1_764_061_200.0,
        protocols: vec![
            usage("DNS", (9_001, 60), (4_200, 60), 60),
            usage("HTTPS", (77_000_000, 55_000), (3_100_000, 21_000), 140),
        ],
        connections_active: 4,
        ..snapshot_client(
            Some(Mac([0xda, 0xa1, 0x19, 0x0b, 0xee, 0xf1])),
            "192.168.1.57",
        )
    };
    let ipv6_only = ClientSnapshot {
        ipv6: vec!["fd12:3456:789a::1:2".parse().unwrap()],
        vendor: Some("Signify Netherlands B.V.".to_string()),
        first_seen: 1_764_050_000.0,
        last_seen: 1_764_060_000.0,
        protocols: vec![usage("NTP", (90, 1), (90, 1), 1)],
        lan: Traffic {
            rx_bytes: 0,
            tx_bytes: 31_337,
            rx_packets: 0,
            tx_packets: 211,
        },
        ..snapshot_client(
            Some(Mac([0x00, 0x17, 0x88, 0x6a, 0x01, 0x02])),
            "fd12:3456:789a::1:2",
        )
    };
    let no_mac = ClientSnapshot {
        ipv4: vec![Ipv4Addr::new(10, 0, 0, 5)],
        first_seen: 1_764_061_000.0,
        last_seen: 1_764_061_001.25,
        protocols: vec![usage("SSH", (4_096, 20), (2_048, 19), 1)],
        connections_active: 1,
        ..snapshot_client(None, "10.0.0.5")
    };
    Snapshot {
        clients: vec![phone, laptop, no_mac, ipv6_only],
        health: Health {
            packets: PacketOutcomes {
                accounted: 5_672_001,
                lan: 2_309,
                no_client: 1_200,
                not_ip: 3_411,
                malformed: 2,
                duplicate: 17,
                excluded: 0,
            },
            kernel_packets: 5_679_000,
            kernel_drops: 58,
            clients: 4,
            flows: 42,
            max_clients: 1_024,
            max_flows: 65_536,
            client_evictions: 0,
            flow_evictions: 3,
            domain_evictions: 0,
            dns_answer_evictions: 0,
            device_evictions: 0,
            fragment_evictions: 5,
            dns_messages: 0,
            dns_malformed: 0,
            dns_answers: 0,
            last_packet_time: 1_764_061_200.0,
            snapshot_duration_seconds: 0.000_183,
            process: ProcessStats {
                start_time_seconds: 1_764_057_000.125,
                cpu_seconds_total: 73.41,
                resident_memory_bytes: 6_291_456,
                virtual_memory_bytes: 9_437_184,
                open_fds: 14,
                max_fds: 1_024,
            },
            flow_offload: None,
            state_saves: None,
        },
        export: Default::default(),
    }
}

type Labels = BTreeMap<String, String>;
type Series = BTreeMap<(String, Labels), f64>;

fn labels(pairs: &[(&str, &str)]) -> Labels {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

/// What the exposition must contain, worked out from the snapshot's fields
/// by the design's metric table (not by the renderer).
fn expected_series(s: &Snapshot) -> Series {
    let mut out = Series::new();
    let mut put = |name: &str, l: Labels, v: f64| {
        assert!(out.insert((name.to_string(), l), v).is_none());
    };
    for c in &s.clients {
        let ip = c.ip.map(|ip| ip.to_string()).unwrap_or_default();
        let mac = c.mac.map(|m| m.to_string()).unwrap_or_default();
        let base = [("ip", ip.as_str()), ("mac", mac.as_str())];
        for p in &c.protocols {
            let t = &p.traffic;
            for (dir, bytes, packets) in [
                ("rx", t.rx_bytes, t.rx_packets),
                ("tx", t.tx_bytes, t.tx_packets),
            ] {
                let l = labels(&[
                    base[0],
                    base[1],
                    ("protocol", &p.protocol),
                    ("direction", dir),
                ]);
                put("client_bandwidth_bytes_total", l.clone(), bytes as f64);
                put("client_packets_total", l, packets as f64);
            }
            let l = labels(&[base[0], base[1], ("protocol", &p.protocol)]);
            put("client_connections_total", l, p.connections as f64);
        }
        for (dir, bytes) in [("rx", c.lan.rx_bytes), ("tx", c.lan.tx_bytes)] {
            let l = labels(&[base[0], base[1], ("direction", dir)]);
            put("client_lan_bytes_total", l, bytes as f64);
        }
        put(
            "client_connections_active",
            labels(&base),
            c.connections_active as f64,
        );
        let d = &c.dns;
        for q in &d.queries {
            let l = labels(&[base[0], base[1], ("query_type", &q.name)]);
            put("client_dns_queries_total", l, q.count as f64);
        }
        for r in &d.responses {
            let l = labels(&[base[0], base[1], ("rcode", &r.name)]);
            put("client_dns_responses_total", l, r.count as f64);
        }
        put(
            "client_dns_unique_domains",
            labels(&base),
            d.unique_domains as f64,
        );
        if d.latency.count > 0 {
            for (le, n) in &d.latency.buckets {
                let le = le.to_string();
                let l = labels(&[base[0], base[1], ("le", &le)]);
                put("client_dns_latency_seconds_bucket", l, *n as f64);
            }
            let l = labels(&[base[0], base[1], ("le", "+Inf")]);
            put(
                "client_dns_latency_seconds_bucket",
                l,
                d.latency.count as f64,
            );
            put(
                "client_dns_latency_seconds_sum",
                labels(&base),
                d.latency.sum_seconds,
            );
            put(
                "client_dns_latency_seconds_count",
                labels(&base),
                d.latency.count as f64,
            );
        }
        for (kind, n) in [
            ("other_resolver", d.bypass.other_resolver),
            ("dot", d.bypass.dot),
            ("doh", d.bypass.doh),
        ] {
            let l = labels(&[base[0], base[1], ("kind", kind)]);
            put("client_dns_bypass_queries_total", l, n as f64);
        }
        put(
            "client_mdns_queries_total",
            labels(&base),
            d.mdns_queries as f64,
        );
        // Top domains (the default 10) by bytes, with traffic only; and by queries.
        let with_bytes = c
            .domains
            .iter()
            .filter(|x| x.traffic.rx_bytes + x.traffic.tx_bytes > 0);
        for x in with_bytes.take(10) {
            for (dir, n) in [("rx", x.traffic.rx_bytes), ("tx", x.traffic.tx_bytes)] {
                let l = labels(&[base[0], base[1], ("domain", &x.domain), ("direction", dir)]);
                put("client_domain_bytes_total", l, n as f64);
            }
        }
        for x in c.domains.iter().filter(|x| x.queries > 0).take(10) {
            let l = labels(&[base[0], base[1], ("domain", &x.domain)]);
            put("client_domain_queries_total", l, x.queries as f64);
        }
        put(
            "client_last_seen_timestamp_seconds",
            labels(&base),
            c.last_seen,
        );
        let info = labels(&[
            base[0],
            base[1],
            ("hostname", c.hostname.as_deref().unwrap_or("")),
            ("vendor", c.vendor.as_deref().unwrap_or("")),
            (
                "randomized_mac",
                if c.randomized_mac { "true" } else { "false" },
            ),
        ]);
        put("client_info", info, 1.0);
    }
    // The standard process families, by the client libraries' names.
    let p = &s.health.process;
    for (name, v) in [
        ("process_cpu_seconds_total", p.cpu_seconds_total),
        ("process_open_fds", p.open_fds as f64),
        ("process_max_fds", p.max_fds as f64),
        (
            "process_virtual_memory_bytes",
            p.virtual_memory_bytes as f64,
        ),
        (
            "process_resident_memory_bytes",
            p.resident_memory_bytes as f64,
        ),
        ("process_start_time_seconds", p.start_time_seconds),
    ] {
        put(name, Labels::new(), v);
    }
    let h = &s.health;
    for (outcome, n) in [
        ("accounted", h.packets.accounted),
        ("lan", h.packets.lan),
        ("no_client", h.packets.no_client),
        ("not_ip", h.packets.not_ip),
        ("malformed", h.packets.malformed),
        ("duplicate", h.packets.duplicate),
        ("excluded", h.packets.excluded),
    ] {
        put(
            "lanwatch_packets_total",
            labels(&[("outcome", outcome)]),
            n as f64,
        );
    }
    for (name, v) in [
        ("lanwatch_kernel_packets_total", h.kernel_packets as f64),
        ("lanwatch_kernel_drops_total", h.kernel_drops as f64),
        ("lanwatch_clients", h.clients as f64),
        ("lanwatch_clients_max", h.max_clients as f64),
        ("lanwatch_flows", h.flows as f64),
        ("lanwatch_flows_max", h.max_flows as f64),
        ("lanwatch_last_packet_timestamp_seconds", h.last_packet_time),
        (
            "lanwatch_snapshot_duration_seconds",
            h.snapshot_duration_seconds,
        ),
    ] {
        put(name, Labels::new(), v);
    }
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "clients")]),
        h.client_evictions as f64,
    );
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "flows")]),
        h.flow_evictions as f64,
    );
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "domains")]),
        h.domain_evictions as f64,
    );
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "dns_answers")]),
        h.dns_answer_evictions as f64,
    );
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "devices")]),
        h.device_evictions as f64,
    );
    put(
        "lanwatch_evictions_total",
        labels(&[("table", "fragments")]),
        h.fragment_evictions as f64,
    );
    let parsed_dns = h.dns_messages - h.dns_malformed;
    put(
        "lanwatch_dns_messages_total",
        labels(&[("outcome", "parsed")]),
        parsed_dns as f64,
    );
    put(
        "lanwatch_dns_messages_total",
        labels(&[("outcome", "malformed")]),
        h.dns_malformed as f64,
    );
    put("lanwatch_dns_answers", Labels::new(), h.dns_answers as f64);
    put(
        "lanwatch_build_info",
        labels(&[
            ("version", env!("CARGO_PKG_VERSION")),
            ("arch", std::env::consts::ARCH),
            ("os", std::env::consts::OS),
        ]),
        1.0,
    );
    out
}

/// A parsed exposition: samples, and each family's TYPE in order of appearance.
struct Parsed {
    series: Series,
    families: Vec<(String, String)>,
}

/// A deliberately small reader of text format 0.0.4, independent of the
/// renderer: comments, `name{label="value",...} value` lines, escapes.
fn parse(text: &str) -> Parsed {
    assert!(text.ends_with('\n'), "exposition must end with a line feed");
    let mut series = Series::new();
    let mut families: Vec<(String, String)> = Vec::new();
    let mut helped: Vec<String> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let n = n + 1;
        if let Some(rest) = line.strip_prefix("# HELP ") {
            let (name, help) = rest.split_once(' ').expect("HELP has text");
            assert!(!help.is_empty(), "line {n}: empty help");
            helped.push(name.to_string());
            continue;
        }
        if let Some(rest) = line.strip_prefix("# TYPE ") {
            let (name, kind) = rest.split_once(' ').expect("TYPE has a type");
            assert!(
                families.iter().all(|(f, _)| f != name),
                "line {n}: second TYPE for {name}"
            );
            assert_eq!(
                helped.last().map(String::as_str),
                Some(name),
                "line {n}: HELP before TYPE"
            );
            families.push((name.to_string(), kind.to_string()));
            continue;
        }
        assert!(
            !line.starts_with('#') && !line.is_empty(),
            "line {n}: {line:?}"
        );

        let name_end = line.find(['{', ' ']).expect("sample has a value");
        let name = &line[..name_end];
        let mut rest = &line[name_end..];
        let mut l = Labels::new();
        if let Some(inner) = rest.strip_prefix('{') {
            let mut chars = inner.chars();
            loop {
                let label: String = chars.by_ref().take_while(|&c| c != '=').collect();
                assert_eq!(
                    chars.next(),
                    Some('"'),
                    "line {n}: label value opens with a quote"
                );
                let mut value = String::new();
                loop {
                    match chars.next().expect("label value is closed") {
                        '"' => break,
                        '\\' => match chars.next() {
                            Some('\\') => value.push('\\'),
                            Some('"') => value.push('"'),
                            Some('n') => value.push('\n'),
                            other => panic!("line {n}: bad escape {other:?}"),
                        },
                        c => value.push(c),
                    }
                }
                assert!(
                    l.insert(label.clone(), value).is_none(),
                    "line {n}: label {label} twice"
                );
                match chars.next() {
                    Some(',') => continue,
                    Some('}') => break,
                    other => panic!("line {n}: expected , or }} got {other:?}"),
                }
            }
            rest = chars.as_str();
        }
        let value = rest.strip_prefix(' ').expect("one space before the value");
        assert!(!value.contains(' '), "line {n}: no timestamps expected");
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v
                .parse()
                .unwrap_or_else(|_| panic!("line {n}: bad value {v:?}")),
        };
        let family = families.last().map(|(f, t)| (f.as_str(), t.as_str()));
        let belongs = match family {
            Some((f, "histogram")) => ["_bucket", "_sum", "_count"]
                .iter()
                .any(|suffix| name.strip_suffix(suffix) == Some(f)),
            Some((f, _)) => f == name,
            None => false,
        };
        assert!(
            belongs,
            "line {n}: sample of {name} outside its family's block"
        );
        assert!(
            series.insert((name.to_string(), l), value).is_none(),
            "line {n}: duplicate series"
        );
    }
    Parsed { series, families }
}

#[test]
fn promtool_accepts_the_exposition() {
    let text = render(&home_lan());
    let child = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn();
    let mut child = match child {
        Ok(child) => child,
        Err(e) => panic!(
            "promtool is needed to check the exposition format and could not be run ({e}); \
             install it (Debian: apt-get install -y prometheus)"
        ),
    };
    child
        .stdin
        .take()
        .unwrap()
        .write_all(text.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "promtool check metrics failed:\n{}{}\n--- exposition ---\n{text}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn every_sample_reads_back_as_the_snapshot_says() {
    let snapshot = home_lan();
    let parsed = parse(&render(&snapshot));
    let expected = expected_series(&snapshot);
    for (key, value) in &expected {
        match parsed.series.get(key) {
            Some(got) => assert_eq!(got, value, "{key:?}"),
            None => panic!("missing series {key:?}"),
        }
    }
    for key in parsed.series.keys() {
        assert!(expected.contains_key(key), "unexpected series {key:?}");
    }
}

#[test]
fn awkward_hostnames_survive_escaping() {
    let parsed = parse(&render(&home_lan()));
    let info: Vec<&Labels> = parsed
        .series
        .keys()
        .filter(|(name, _)| name == "client_info")
        .map(|(_, l)| l)
        .collect();
    assert!(info.iter().any(
        |l| l["hostname"] == "Bob's \"Pixel\"\\7\nsecond line" && l["randomized_mac"] == "true"
    ));
}

#[test]
fn families_follow_the_design_table_with_their_types() {
    let parsed = parse(&render(&home_lan()));
    let expected = [
        ("client_bandwidth_bytes_total", "counter"),
        ("client_packets_total", "counter"),
        ("client_lan_bytes_total", "counter"),
        ("client_connections_total", "counter"),
        ("client_connections_active", "gauge"),
        ("client_dns_queries_total", "counter"),
        ("client_dns_responses_total", "counter"),
        ("client_dns_unique_domains", "gauge"),
        ("client_dns_latency_seconds", "histogram"),
        ("client_dns_bypass_queries_total", "counter"),
        ("client_mdns_queries_total", "counter"),
        ("client_domain_bytes_total", "counter"),
        ("client_domain_queries_total", "counter"),
        ("client_last_seen_timestamp_seconds", "gauge"),
        ("client_info", "gauge"),
        ("process_cpu_seconds_total", "counter"),
        ("process_open_fds", "gauge"),
        ("process_max_fds", "gauge"),
        ("process_virtual_memory_bytes", "gauge"),
        ("process_resident_memory_bytes", "gauge"),
        ("process_start_time_seconds", "gauge"),
        ("lanwatch_packets_total", "counter"),
        ("lanwatch_kernel_packets_total", "counter"),
        ("lanwatch_kernel_drops_total", "counter"),
        ("lanwatch_flow_offload", "gauge"),
        ("lanwatch_capture_incomplete", "gauge"),
        ("lanwatch_clients", "gauge"),
        ("lanwatch_clients_max", "gauge"),
        ("lanwatch_flows", "gauge"),
        ("lanwatch_flows_max", "gauge"),
        ("lanwatch_evictions_total", "counter"),
        ("lanwatch_dns_messages_total", "counter"),
        ("lanwatch_dns_answers", "gauge"),
        ("lanwatch_last_packet_timestamp_seconds", "gauge"),
        ("lanwatch_snapshot_duration_seconds", "gauge"),
        ("lanwatch_state_saves_total", "counter"),
        ("lanwatch_build_info", "gauge"),
    ];
    let got: Vec<(&str, &str)> = parsed
        .families
        .iter()
        .map(|(n, t)| (n.as_str(), t.as_str()))
        .collect();
    assert_eq!(got, expected);
}

#[test]
fn the_same_state_renders_the_same_bytes_whatever_the_order() {
    let snapshot = home_lan();
    let first = render(&snapshot);
    assert_eq!(first, render(&snapshot));

    let mut shuffled = snapshot.clone();
    shuffled.clients.rotate_left(1);
    shuffled.clients.swap(0, 2);
    for c in &mut shuffled.clients {
        c.protocols.reverse();
    }
    assert_eq!(first, render(&shuffled));
}
