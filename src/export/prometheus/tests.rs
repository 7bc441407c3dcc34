//! The exposition's format and each family's samples.

use super::*;
use crate::decode::Mac;
use crate::track::{ClientSnapshot, Health, PacketOutcomes, ProcessStats, ProtocolUsage, Traffic};
use std::net::{IpAddr, Ipv4Addr};

fn value(v: Value) -> String {
    let mut s = String::new();
    push_value(&mut s, v);
    s
}

fn escaped(s: &str) -> String {
    let mut out = String::new();
    push_escaped_label_value(&mut out, s);
    out
}

fn client(mac: [u8; 6], ip: [u8; 4]) -> ClientSnapshot {
    let ip = Ipv4Addr::from(ip);
    ClientSnapshot {
        ipv4: vec![ip],
        first_seen: 1_700_000_000.0,
        last_seen: 1_700_000_100.5,
        ..ClientSnapshot::test_client(Mac(mac), IpAddr::V4(ip))
    }
}

fn usage(protocol: &str, rx_bytes: u64, tx_bytes: u64, connections: u64) -> ProtocolUsage {
    ProtocolUsage {
        protocol: protocol.to_string(),
        traffic: Traffic {
            rx_bytes,
            tx_bytes,
            rx_packets: rx_bytes / 100,
            tx_packets: tx_bytes / 100,
        },
        connections,
    }
}

/// The lines of one family's samples (no comments).
fn samples_of(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .filter(|l| l.split(['{', ' ']).next() == Some(name))
        .map(str::to_string)
        .collect()
}

#[test]
fn label_values_escape_backslash_quote_and_newline() {
    assert_eq!(escaped(r"a\b"), r"a\\b");
    assert_eq!(escaped(r#"say "hi""#), r#"say \"hi\""#);
    assert_eq!(escaped("two\nlines"), r"two\nlines");
    assert_eq!(escaped("tab\tand ünïcode"), "tab\tand ünïcode");
}

#[test]
fn help_text_escapes_backslash_and_newline_but_not_quotes() {
    let mut out = String::new();
    push_escaped_help(&mut out, "a \"b\" \\ c\nd");
    assert_eq!(out, r#"a "b" \\ c\nd"#);
}

#[test]
fn integral_floats_render_without_exponent_or_fraction() {
    assert_eq!(value(Value::Float(1_700_000_000.0)), "1700000000");
    assert_eq!(value(Value::Float(0.0)), "0");
    assert_eq!(value(Value::Float(-0.0)), "0");
    assert_eq!(value(Value::Float(-3.0)), "-3");
    assert_eq!(value(Value::Int(u64::MAX)), "18446744073709551615");
}

#[test]
fn fractional_floats_render_shortest_round_trip() {
    assert_eq!(value(Value::Float(1_700_000_100.5)), "1700000100.5");
    assert_eq!(value(Value::Float(0.000_25)), "0.00025");
    assert_eq!(value(Value::Float(0.1)), "0.1");
    assert_eq!(value(Value::Float(1.5e-7)), "1.5e-7");
    assert_eq!(value(Value::Float(1e300)), "1e300");
    for f in [0.1, 1.5e-7, 1e300, 1_700_000_100.123_456, 2.5e16] {
        assert_eq!(value(Value::Float(f)).parse::<f64>().ok(), Some(f));
    }
}

#[test]
fn special_floats_are_spelled_as_prometheus_reads_them() {
    assert_eq!(value(Value::Float(f64::INFINITY)), "+Inf");
    assert_eq!(value(Value::Float(f64::NEG_INFINITY)), "-Inf");
    assert_eq!(value(Value::Float(f64::NAN)), "NaN");
}

#[test]
fn every_family_has_help_and_type_in_table_order() {
    let text = render(&Snapshot::default());
    let typed: Vec<&str> = text
        .lines()
        .filter_map(|l| l.strip_prefix("# TYPE "))
        .filter_map(|l| l.split(' ').next())
        .collect();
    let declared: Vec<&str> = FAMILIES.iter().map(|f| f.name).collect();
    assert_eq!(typed, declared);
    let helped = text.lines().filter(|l| l.starts_with("# HELP ")).count();
    assert_eq!(helped, FAMILIES.len());
}

#[test]
fn bandwidth_and_packets_have_both_directions_per_protocol() {
    let mut c = client([0x00, 0x11, 0x22, 0x33, 0x44, 0x55], [192, 168, 1, 10]);
    c.protocols = vec![usage("HTTPS", 5000, 700, 3)];
    let text = render(&Snapshot {
        clients: vec![c],
        health: Health::default(),
        export: Default::default(),
    });
    assert_eq!(
        samples_of(&text, "client_bandwidth_bytes_total"),
        [
            r#"client_bandwidth_bytes_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="rx"} 5000"#,
            r#"client_bandwidth_bytes_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="tx"} 700"#,
        ]
    );
    assert_eq!(
        samples_of(&text, "client_packets_total"),
        [
            r#"client_packets_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="rx"} 50"#,
            r#"client_packets_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS",direction="tx"} 7"#,
        ]
    );
    assert_eq!(
        samples_of(&text, "client_connections_total"),
        [
            r#"client_connections_total{ip="192.168.1.10",mac="00:11:22:33:44:55",protocol="HTTPS"} 3"#
        ]
    );
}

#[test]
fn lan_active_last_seen_and_info_have_one_series_per_client() {
    let mut c = client([0x02, 0, 0, 0, 0, 0x01], [10, 0, 0, 2]);
    c.lan = Traffic {
        rx_bytes: 11,
        tx_bytes: 22,
        rx_packets: 1,
        tx_packets: 1,
    };
    c.connections_active = 4;
    c.hostname = Some("Anna's \"phone\"".to_string());
    c.vendor = Some("Acme\\Corp".to_string());
    c.randomized_mac = true;
    let text = render(&Snapshot {
        clients: vec![c],
        health: Health::default(),
        export: Default::default(),
    });
    let l = r#"ip="10.0.0.2",mac="02:00:00:00:00:01""#;
    assert_eq!(
        samples_of(&text, "client_lan_bytes_total"),
        [
            format!("client_lan_bytes_total{{{l},direction=\"rx\"}} 11"),
            format!("client_lan_bytes_total{{{l},direction=\"tx\"}} 22"),
        ]
    );
    assert_eq!(
        samples_of(&text, "client_connections_active"),
        [format!("client_connections_active{{{l}}} 4")]
    );
    assert_eq!(
        samples_of(&text, "client_last_seen_timestamp_seconds"),
        [format!(
            "client_last_seen_timestamp_seconds{{{l}}} 1700000100.5"
        )]
    );
    assert_eq!(
        samples_of(&text, "client_info"),
        [format!(
            r#"client_info{{{l},hostname="Anna's \"phone\"",vendor="Acme\\Corp",randomized_mac="true"}} 1"#
        )]
    );
}

#[test]
fn client_without_mac_or_ip_has_empty_label_values() {
    let mut c = client([0; 6], [0; 4]);
    c.mac = None;
    c.ip = None;
    let text = render(&Snapshot {
        clients: vec![c],
        health: Health::default(),
        export: Default::default(),
    });
    assert_eq!(
        samples_of(&text, "client_connections_active"),
        [r#"client_connections_active{ip="",mac=""} 0"#]
    );
}

#[test]
fn health_families_carry_every_outcome_and_table() {
    let health = Health {
        packets: PacketOutcomes {
            accounted: 1,
            lan: 2,
            no_client: 3,
            not_ip: 4,
            malformed: 5,
            duplicate: 6,
            excluded: 9,
        },
        kernel_packets: 100,
        kernel_drops: 7,
        clients: 8,
        flows: 9,
        max_clients: 1024,
        max_flows: 65536,
        client_evictions: 10,
        flow_evictions: 11,
        domain_evictions: 0,
        dns_answer_evictions: 0,
        device_evictions: 0,
        fragment_evictions: 12,
        dns_messages: 0,
        dns_malformed: 0,
        dns_answers: 0,
        last_packet_time: 1_700_000_200.25,
        snapshot_duration_seconds: 0.000_125,
        process: ProcessStats {
            start_time_seconds: 1_699_999_000.5,
            cpu_seconds_total: 12.34,
            resident_memory_bytes: 4_194_304,
            virtual_memory_bytes: 16_777_216,
            open_fds: 11,
            max_fds: 1024,
        },
        flow_offload: None,
        state_saves: None,
    };
    let text = render(&Snapshot {
        clients: vec![],
        health,
        export: Default::default(),
    });
    assert_eq!(
        samples_of(&text, "lanwatch_packets_total"),
        [
            r#"lanwatch_packets_total{outcome="accounted"} 1"#,
            r#"lanwatch_packets_total{outcome="lan"} 2"#,
            r#"lanwatch_packets_total{outcome="no_client"} 3"#,
            r#"lanwatch_packets_total{outcome="not_ip"} 4"#,
            r#"lanwatch_packets_total{outcome="malformed"} 5"#,
            r#"lanwatch_packets_total{outcome="duplicate"} 6"#,
            r#"lanwatch_packets_total{outcome="excluded"} 9"#,
        ]
    );
    assert_eq!(
        samples_of(&text, "lanwatch_evictions_total"),
        [
            r#"lanwatch_evictions_total{table="clients"} 10"#,
            r#"lanwatch_evictions_total{table="flows"} 11"#,
            r#"lanwatch_evictions_total{table="domains"} 0"#,
            r#"lanwatch_evictions_total{table="dns_answers"} 0"#,
            r#"lanwatch_evictions_total{table="devices"} 0"#,
            r#"lanwatch_evictions_total{table="fragments"} 12"#,
        ]
    );
    for (name, expected) in [
        ("lanwatch_kernel_packets_total", "100"),
        ("lanwatch_kernel_drops_total", "7"),
        ("lanwatch_clients", "8"),
        ("lanwatch_clients_max", "1024"),
        ("lanwatch_flows", "9"),
        ("lanwatch_flows_max", "65536"),
        ("lanwatch_last_packet_timestamp_seconds", "1700000200.25"),
        ("lanwatch_snapshot_duration_seconds", "0.000125"),
        ("process_cpu_seconds_total", "12.34"),
        ("process_open_fds", "11"),
        ("process_max_fds", "1024"),
        ("process_virtual_memory_bytes", "16777216"),
        ("process_resident_memory_bytes", "4194304"),
        ("process_start_time_seconds", "1699999000.5"),
    ] {
        assert_eq!(samples_of(&text, name), [format!("{name} {expected}")]);
    }
    assert_eq!(
        samples_of(&text, "lanwatch_build_info"),
        [format!(
            r#"lanwatch_build_info{{version="{}",arch="{}",os="{}"}} 1"#,
            env!("CARGO_PKG_VERSION"),
            std::env::consts::ARCH,
            std::env::consts::OS
        )]
    );
}

#[test]
fn flow_offload_gauges_say_which_kind_and_whether_counts_are_incomplete() {
    let replay = render(&Snapshot::default());
    assert!(samples_of(&replay, "lanwatch_flow_offload").is_empty());
    assert!(samples_of(&replay, "lanwatch_capture_incomplete").is_empty());
    let mut snapshot = Snapshot::default();
    snapshot.health.flow_offload = Some(crate::track::snapshot::FlowOffload {
        software: true,
        hardware: false,
        incomplete: true,
    });
    let live = render(&snapshot);
    assert_eq!(
        samples_of(&live, "lanwatch_flow_offload"),
        [
            r#"lanwatch_flow_offload{kind="software"} 1"#,
            r#"lanwatch_flow_offload{kind="hardware"} 0"#,
        ]
    );
    assert_eq!(
        samples_of(&live, "lanwatch_capture_incomplete"),
        ["lanwatch_capture_incomplete 1"]
    );
    // Each family's samples come right after its own TYPE line.
    let lines: Vec<&str> = live.lines().collect();
    for (family, first) in [
        (
            "lanwatch_flow_offload",
            r#"lanwatch_flow_offload{kind="software"} 1"#,
        ),
        (
            "lanwatch_capture_incomplete",
            "lanwatch_capture_incomplete 1",
        ),
    ] {
        let at = lines
            .iter()
            .position(|l| *l == format!("# TYPE {family} gauge"))
            .unwrap();
        assert_eq!(lines[at + 1], first);
    }
}

#[test]
fn output_does_not_depend_on_client_or_protocol_order() {
    let mut a = client([0x00, 0, 0, 0, 0, 0x0a], [192, 168, 1, 10]);
    a.protocols = vec![usage("DNS", 1, 2, 1), usage("HTTPS", 3, 4, 1)];
    let mut b = client([0x00, 0, 0, 0, 0, 0x0b], [192, 168, 1, 11]);
    b.protocols = vec![usage("QUIC", 5, 6, 1)];
    let forward = Snapshot {
        clients: vec![a.clone(), b.clone()],
        health: Health::default(),
        export: Default::default(),
    };
    a.protocols.reverse();
    let backward = Snapshot {
        clients: vec![b, a],
        health: Health::default(),
        export: Default::default(),
    };
    assert_eq!(render(&forward), render(&backward));
}
