//! Hostile traffic: floods built here (random source MACs, spoofed source
//! addresses, SYN floods to many ports both ways, random-subdomain queries,
//! DNS compression bombs, tiny fragments, truncated headers) mixed with
//! three real clients whose traffic is known frame by frame.
//!
//! The rules checked: the tables stay within their configured bounds and
//! say so in their eviction counters; broken frames and DNS messages show
//! up as malformed; memory does not grow with the size of the flood; and
//! the real clients — who keep talking, as real devices do, so idle-first
//! eviction never picks them — keep exact per-protocol counts, computed
//! here from the frames generated (lengths read back with etherparse).

mod common;
mod hostile;

use std::collections::BTreeMap;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use common::*;
use hostile::*;

const ROUTER: MacAddr = [0x02, 0, 0, 0, 0, 0xfe];
const ROUTER_IP: [u8; 4] = [192, 168, 1, 1];
const ATTACKER: MacAddr = [0x02, 0x66, 0, 0, 0, 0x01];
const VICTIM: MacAddr = [0x02, 0x77, 0, 0, 0, 0x01];
const VICTIM_IP: [u8; 4] = [10, 77, 0, 1];

const MAX_CLIENTS: usize = 64;
const MAX_FLOWS: usize = 512;

/// A real client and the figures it must end with.
struct RealClient {
    mac: MacAddr,
    ip: [u8; 4],
    /// protocol → [rx_bytes, tx_bytes, rx_packets, tx_packets, connections]
    expected: BTreeMap<String, [u64; 5]>,
    dns_queries: u64,
}

impl RealClient {
    fn new(n: u8) -> RealClient {
        RealClient {
            mac: [0x02, 0, 0, 0, 1, n],
            ip: [192, 168, 1, 10 + n],
            expected: BTreeMap::new(),
            dns_queries: 0,
        }
    }

    fn count(&mut self, protocol: &str, rx: bool, frame: &[u8], opens: bool) {
        let e = self.expected.entry(protocol.to_string()).or_default();
        let bytes = ip_len(frame);
        if rx {
            e[0] += bytes;
            e[2] += 1;
        } else {
            e[1] += bytes;
            e[3] += 1;
        }
        if opens {
            e[4] += 1;
        }
    }
}

/// What was generated, beyond the frames themselves.
struct Generated {
    clients: Vec<RealClient>,
    truncated_frames: u64,
    bomb_queries: u64,
    subdomain_queries: u64,
}

/// `seconds` of packet time: the real clients' traffic and `flood_pps`
/// hostile frames per second, interleaved in time order.
fn generate(seconds: u64, flood_pps: u64, seed: u64) -> (Pcap, Generated) {
    let mut pcap = Pcap::new();
    let mut rng = Rng(seed | 1);
    let mut clients: Vec<RealClient> = (1..=3).map(RealClient::new).collect();
    let mut g = Generated {
        clients: Vec::new(),
        truncated_frames: 0,
        bomb_queries: 0,
        subdomain_queries: 0,
    };
    let start: u64 = 1_767_225_600_000_000;
    let https_server = [198, 51, 100, 10];
    let quic_server = [198, 51, 100, 20];
    let http_server = [198, 51, 100, 30];
    let flood_every = 1_000_000 / flood_pps.max(1);
    let mut next_flood = 0u64;
    let mut flood_n = 0u64;
    let mut dns_port = 20000u16;

    // The real clients act every 10 ms; floods fill the time between.
    let mut t = 0u64;
    while t < seconds * 1_000_000 {
        let tick = t / 10_000;
        // Client 1: one HTTPS connection, a request and a response each tick.
        {
            let c = &mut clients[0];
            let first = tick == 0;
            let up = tcp4(
                c.mac,
                ROUTER,
                c.ip,
                https_server,
                50001,
                443,
                first,
                !first,
                120,
            );
            c.count("HTTPS", false, &up, first);
            pcap.push(start + t, &up);
            let down = tcp4(
                ROUTER,
                c.mac,
                https_server,
                c.ip,
                443,
                50001,
                false,
                true,
                1300,
            );
            c.count("HTTPS", true, &down, false);
            pcap.push(start + t + 100, &down);
        }
        // Client 2: QUIC both ways each tick.
        {
            let c = &mut clients[1];
            let up = udp4(c.mac, ROUTER, c.ip, quic_server, 50002, 443, &[0x40; 60]);
            c.count("QUIC", false, &up, tick == 0);
            pcap.push(start + t + 200, &up);
            let down = udp4(ROUTER, c.mac, quic_server, c.ip, 443, 50002, &[0x40; 1100]);
            c.count("QUIC", true, &down, false);
            pcap.push(start + t + 300, &down);
        }
        // Client 3: plain HTTP each tick, a DNS query (new port) each second.
        {
            let c = &mut clients[2];
            let first = tick == 0;
            let up = tcp4(
                c.mac,
                ROUTER,
                c.ip,
                http_server,
                50003,
                80,
                first,
                !first,
                80,
            );
            c.count("HTTP", false, &up, first);
            pcap.push(start + t + 400, &up);
            if tick % 100 == 0 {
                dns_port = dns_port.wrapping_add(1);
                let q = dns_query(dns_port, "updates.example.net");
                let frame = udp4(c.mac, ROUTER, c.ip, ROUTER_IP, dns_port, 53, &q);
                c.count("DNS", false, &frame, true);
                c.dns_queries += 1;
                pcap.push(start + t + 500, &frame);
            }
        }
        // The floods, until the next tick.
        let tick_end = t + 10_000;
        while next_flood < tick_end {
            let ts = start + next_flood.max(t + 600);
            let frame = flood_frame(&mut rng, flood_n, &mut g);
            pcap.push(ts, &frame);
            flood_n += 1;
            next_flood += flood_every;
        }
        t = tick_end;
    }
    g.clients = clients;
    (pcap, g)
}

/// One hostile frame; the kind rotates with `n`.
fn flood_frame(rng: &mut Rng, n: u64, g: &mut Generated) -> Vec<u8> {
    let r = rng.next();
    let internet = [203, 0, 113, (r >> 8) as u8];
    let port = (r >> 16) as u16 | 1;
    match n % 8 {
        // A new random (locally administered) MAC per frame.
        0 => {
            let ip = [10, 1, (r >> 24) as u8, (r >> 32) as u8 | 1];
            udp4(rng.mac(), ROUTER, ip, internet, port, 9999, &[0; 20])
        }
        // One device spoofing random source addresses in the LAN.
        1 => {
            let ip = [10, (r >> 24) as u8, (r >> 32) as u8, (r >> 40) as u8 | 1];
            udp4(ATTACKER, ROUTER, ip, internet, port, 9999, &[0; 20])
        }
        // SYN flood from the LAN to many ports.
        2 => tcp4(
            ATTACKER,
            ROUTER,
            [10, 66, 0, 1],
            internet,
            port,
            port ^ 0x5555,
            true,
            false,
            0,
        ),
        // SYN flood from spoofed outside sources to a LAN device.
        3 => {
            let src = [(r >> 24) as u8 | 1, (r >> 32) as u8, (r >> 40) as u8, 7];
            tcp4(
                ROUTER,
                VICTIM,
                src,
                VICTIM_IP,
                port,
                (r >> 48) as u16,
                true,
                false,
                0,
            )
        }
        // Random subdomains (a water-torture attack on the resolver).
        4 => {
            g.subdomain_queries += 1;
            let name = format!("{}.victim-zone.example", rng.word(12));
            let q = dns_query(port, &name);
            udp4(ATTACKER, ROUTER, [10, 66, 0, 1], ROUTER_IP, port, 53, &q)
        }
        // DNS compression bombs: a pointer loop, or a long pointer chain.
        5 => {
            g.bomb_queries += 1;
            let q = if r % 2 == 0 {
                dns_pointer_loop_query(port)
            } else {
                dns_pointer_chain_query(port, 200)
            };
            udp4(ATTACKER, ROUTER, [10, 66, 0, 1], ROUTER_IP, port, 53, &q)
        }
        // Tiny fragments: 8 bytes at a time, never completed.
        6 => {
            let first = r % 2 == 0;
            let offset = if first { 0 } else { 1 + (r >> 60) as u16 };
            ipv4_fragment(
                ATTACKER,
                ROUTER,
                [10, 66, 0, 1],
                internet,
                (r >> 24) as u16,
                offset,
                true,
                &[0x11; 8],
            )
        }
        // A frame cut inside its IPv4 header (nothing lost to a snaplen).
        _ => {
            g.truncated_frames += 1;
            let mut f = udp4(rng.mac(), ROUTER, [10, 9, 9, 9], internet, 1, 2, &[]);
            f.truncate(14 + 12);
            f
        }
    }
}

/// What a replay of a flood gave.
struct Outcome {
    doc: serde_json::Value,
    metrics: String,
    /// Peak resident memory of the lanwatch process, kB.
    vm_hwm_kb: u64,
}

fn vm_hwm_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// Replays `file` with small bounds, keeps the process alive afterwards
/// (`--listen`) to read its peak memory and its /metrics, then stops it.
fn replay(file: &Path) -> Outcome {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["replay", "--format", "json", "--listen", &addr])
        .args(["--router-mac", "02:00:00:00:00:fe"])
        .args(["--max-clients", &MAX_CLIENTS.to_string()])
        .args(["--max-flows", &MAX_FLOWS.to_string()])
        .arg(file)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start lanwatch");
    let pid = child.id();
    let stdout = child.stdout.take().unwrap();
    let mut guard = ChildGuard(Some(child));
    // The JSON document is printed when the replay is done.
    let doc: serde_json::Value = serde_json::Deserializer::from_reader(BufReader::new(stdout))
        .into_iter()
        .next()
        .expect("a JSON document")
        .expect("valid JSON");
    let metrics = wait_for("/metrics", 30, || {
        http_get(&addr, "/metrics")
            .ok()
            .filter(|(s, _)| *s == 200)
            .map(|(_, body)| body)
    });
    let vm_hwm_kb = vm_hwm_kb(pid).expect("VmHWM of the running process");
    let status = guard.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(status.success());
    Outcome {
        doc,
        metrics,
        vm_hwm_kb,
    }
}

fn sample(metrics: &str, series: &str) -> u64 {
    metrics
        .lines()
        .find_map(|l| l.strip_prefix(series).and_then(|v| v.strip_prefix(' ')))
        .and_then(|v| v.trim().parse::<f64>().ok())
        .map(|v| v as u64)
        .unwrap_or_else(|| panic!("{series} missing"))
}

fn temp_file(name: &str) -> PathBuf {
    std::env::temp_dir().join(format!("lanwatch-hostile-{}-{name}", std::process::id()))
}

fn mac_text(m: MacAddr) -> String {
    m.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[test]
fn floods_stay_within_bounds_and_real_clients_stay_exact() {
    let (pcap, g) = generate(30, 2000, 0x1a2b_3c4d);
    let path = temp_file("flood.pcap");
    pcap.write(&path);
    let out = replay(&path);
    let doc = &out.doc;

    // The real clients: every protocol's figures exactly as generated.
    let ours = ours(doc);
    for c in &g.clients {
        let key = mac_text(c.mac);
        let figures = ours
            .get(&key)
            .unwrap_or_else(|| panic!("real client {key} was evicted"));
        assert_eq!(figures.protocols, c.expected, "client {key}");
        let queries: u64 = figures.dns_queries.values().sum();
        assert_eq!(queries, c.dns_queries, "client {key} DNS queries");
    }

    // The tables stay within their bounds, and say they evicted.
    let tables = &doc["health"]["tables"];
    assert!(tables["clients"]["entries"].as_u64().unwrap() <= MAX_CLIENTS as u64);
    assert!(tables["flows"]["entries"].as_u64().unwrap() <= MAX_FLOWS as u64);
    assert!(tables["clients"]["evictions"].as_u64().unwrap() > 0);
    assert!(tables["flows"]["evictions"].as_u64().unwrap() > 0);
    assert!(sample(&out.metrics, "lanwatch_evictions_total{table=\"domains\"}") > 0);

    // The spoofing device is one client (it keeps talking, so it is never
    // evicted) with a bounded list of addresses, and is not taken for the
    // router although some of its random source ports are 67.
    let attacker = doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["mac"] == mac_text(ATTACKER))
        .expect("the attacker is accounted as a client");
    assert!(attacker["ipv4"].as_array().unwrap().len() <= 4);

    // Broken frames and DNS messages are counted as such.
    assert_eq!(
        doc["health"]["packets"]["malformed"].as_u64(),
        Some(g.truncated_frames),
        "frames cut inside the IP header"
    );
    let dns_malformed = sample(
        &out.metrics,
        "lanwatch_dns_messages_total{outcome=\"malformed\"}",
    );
    // Each bomb is one malformed message (a finding: unreadable question
    // names used to pass silently).
    assert_eq!(dns_malformed, g.bomb_queries, "malformed DNS messages");
    assert!(g.subdomain_queries > 1000);

    // Memory: a small daemon, whatever came at it.
    assert!(
        out.vm_hwm_kb < 64 * 1024,
        "peak resident memory {} kB",
        out.vm_hwm_kb
    );
    std::fs::remove_file(&path).unwrap();
}

#[test]
fn memory_does_not_grow_with_the_size_of_the_flood() {
    let (short, _) = generate(10, 3000, 7);
    let (long, g) = generate(60, 3000, 7);
    let short_path = temp_file("short.pcap");
    let long_path = temp_file("long.pcap");
    short.write(&short_path);
    long.write(&long_path);
    let a = replay(&short_path);
    let b = replay(&long_path);
    // Six times the flood: the same bounded tables, the same memory
    // (a little slack for allocator behaviour).
    assert!(
        b.vm_hwm_kb <= a.vm_hwm_kb + 2048,
        "peak RSS {} kB after 10 s of flood, {} kB after 60 s",
        a.vm_hwm_kb,
        b.vm_hwm_kb
    );
    // And the real clients are still exact after the longer flood.
    let ours = ours(&b.doc);
    for c in &g.clients {
        assert_eq!(ours[&mac_text(c.mac)].protocols, c.expected);
    }
    std::fs::remove_file(&short_path).unwrap();
    std::fs::remove_file(&long_path).unwrap();
}

/// Regression: a device that sends one UDP packet from port 67 (not a DHCP
/// reply) used to be learnt as the router, and so vanished from accounting.
#[test]
fn a_packet_from_port_67_does_not_make_a_device_the_router() {
    let device: MacAddr = [0x02, 0x44, 0, 0, 0, 1];
    let mut pcap = Pcap::new();
    let t = 1_767_225_600_000_000u64;
    let decoy = udp4(
        device,
        ROUTER,
        [192, 168, 1, 50],
        [203, 0, 113, 9],
        67,
        9999,
        &[1; 10],
    );
    pcap.push(t, &decoy);
    let https = tcp4(
        device,
        ROUTER,
        [192, 168, 1, 50],
        [198, 51, 100, 1],
        40000,
        443,
        true,
        false,
        0,
    );
    pcap.push(t + 1000, &https);
    let path = temp_file("port67.pcap");
    pcap.write(&path);
    let doc = lanwatch_json(
        std::slice::from_ref(&path),
        &["--router-mac", "02:00:00:00:00:fe"],
    );
    let ours = ours(&doc);
    let client = ours
        .get(&mac_text(device))
        .expect("the device is still a client");
    assert_eq!(client.protocols["HTTPS"], [0, ip_len(&https), 0, 1, 1]);
    let sent: u64 = client.protocols.values().map(|p| p[1]).sum();
    assert_eq!(
        sent,
        ip_len(&decoy) + ip_len(&https),
        "both packets are its upload"
    );
    std::fs::remove_file(&path).unwrap();
}

/// Rows of tshark's fields for every frame of `path` (an empty string for
/// a field a frame does not have; only the first occurrence of each).
fn tshark_columns(path: &Path, fields: &[&str]) -> Vec<Vec<String>> {
    let mut cmd = Command::new("tshark");
    cmd.args(["-n", "-r"]).arg(path).args(["-T", "fields"]);
    cmd.args(["-E", "occurrence=f", "-E", "separator=/t"]);
    for f in fields {
        cmd.args(["-e", f]);
    }
    let out = cmd.output().expect("run tshark");
    assert!(out.status.success(), "tshark failed on {path:?}");
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| l.split('\t').map(str::to_string).collect())
        .collect()
}

fn column_u64(row: &[String], i: usize) -> Option<u64> {
    row.get(i).and_then(|v| v.parse().ok())
}

/// How many frames of an Ethernet capture claim, by tshark's reading, an
/// IP length (IPv4 total length, IPv6 40 + payload length or 40 + jumbo
/// payload length) beyond their length on the wire minus the 14-byte
/// Ethernet header.
fn frames_claiming_beyond_the_wire(path: &Path) -> u64 {
    let rows = tshark_columns(
        path,
        &["frame.len", "ip.len", "ipv6.plen", "ipv6.opt.jumbo"],
    );
    rows.iter()
        .filter(|r| {
            let wire = column_u64(r, 0).expect("frame.len");
            let claim = column_u64(r, 1).or_else(|| match (column_u64(r, 2), column_u64(r, 3)) {
                (Some(0), Some(jumbo)) => Some(40 + jumbo),
                (Some(plen), _) => Some(40 + plen),
                _ => None,
            });
            claim.is_some_and(|c| c > wire - 14)
        })
        .count() as u64
}

const SPOOFED: MacAddr = [0x02, 0x55, 0, 0, 0, 1];
const SPOOFED_IP: [u8; 4] = [192, 168, 1, 60];
const SPOOFED_IP6: [u8; 16] = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x60];
const INTERNET_IP6: [u8; 16] = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];

/// A client's honest traffic for 10 s: HTTPS over IPv4 and QUIC over IPv6,
/// both ways, every 10 ms; with `forged`, a frame of forged length (one of
/// four kinds, spoofing the client's MAC and addresses both ways) between
/// each of its ticks.
fn spoofed_client_capture(forged: bool) -> (Pcap, u64) {
    let mut pcap = Pcap::new();
    let start: u64 = 1_767_225_600_000_000;
    let server = [198, 51, 100, 10];
    let mut forgeries = 0;
    for tick in 0..1000u64 {
        let t = start + tick * 10_000;
        let first = tick == 0;
        let up = tcp4(
            SPOOFED, ROUTER, SPOOFED_IP, server, 50001, 443, first, !first, 200,
        );
        pcap.push(t, &up);
        let down = tcp4(
            ROUTER, SPOOFED, server, SPOOFED_IP, 443, 50001, false, true, 1200,
        );
        pcap.push(t + 100, &down);
        let quic = udp6(
            SPOOFED,
            ROUTER,
            SPOOFED_IP6,
            INTERNET_IP6,
            50002,
            443,
            &[0x40; 80],
        );
        pcap.push(t + 200, &quic);
        if !forged {
            continue;
        }
        let frame = match tick % 4 {
            // 60 bytes claiming 65535 from the client...
            0 => with_ipv4_total_length(
                udp4(SPOOFED, ROUTER, SPOOFED_IP, server, 50003, 443, &[0; 18]),
                65535,
            ),
            // ... and towards it.
            1 => with_ipv4_total_length(
                udp4(ROUTER, SPOOFED, server, SPOOFED_IP, 443, 50003, &[0; 18]),
                65535,
            ),
            2 => with_ipv6_payload_length(
                udp6(
                    SPOOFED,
                    ROUTER,
                    SPOOFED_IP6,
                    INTERNET_IP6,
                    50004,
                    443,
                    &[0; 10],
                ),
                65535,
            ),
            _ => jumbogram(
                SPOOFED,
                ROUTER,
                SPOOFED_IP6,
                INTERNET_IP6,
                1_000_000,
                &[0; 10],
            ),
        };
        assert!(frame.len() <= 80);
        pcap.push(t + 5_000, &frame);
        forgeries += 1;
    }
    (pcap, forgeries)
}

#[test]
fn forged_ip_lengths_are_malformed_and_the_spoofed_client_keeps_its_counts() {
    let (honest, none) = spoofed_client_capture(false);
    let (mixed, forgeries) = spoofed_client_capture(true);
    assert_eq!((none, forgeries), (0, 1000));
    let honest_path = temp_file("honest-lengths.pcap");
    let mixed_path = temp_file("forged-lengths.pcap");
    honest.write(&honest_path);
    mixed.write(&mixed_path);
    // tshark reads the same 1000 frames as claiming more than was sent.
    assert_eq!(frames_claiming_beyond_the_wire(&honest_path), 0);
    assert_eq!(frames_claiming_beyond_the_wire(&mixed_path), forgeries);

    let args = ["--router-mac", "02:00:00:00:00:fe"];
    let alone = lanwatch_json(std::slice::from_ref(&honest_path), &args);
    let with_forgeries = lanwatch_json(std::slice::from_ref(&mixed_path), &args);
    // The client's every figure is what its honest traffic gave.
    assert_eq!(with_forgeries["clients"], alone["clients"]);
    let client = &ours(&alone)[&mac_text(SPOOFED)];
    let https = client.protocols["HTTPS"];
    assert_eq!(https[2..4], [1000, 1000], "HTTPS packets rx, tx");
    // Each forged frame is malformed, and nothing else is.
    let packets = |doc: &serde_json::Value, outcome: &str| {
        doc["health"]["packets"][outcome].as_u64().unwrap()
    };
    assert_eq!(packets(&alone, "malformed"), 0);
    assert_eq!(packets(&with_forgeries, "malformed"), forgeries);
    for outcome in ["accounted", "lan", "no_client"] {
        assert_eq!(
            packets(&with_forgeries, outcome),
            packets(&alone, outcome),
            "{outcome}"
        );
    }
    std::fs::remove_file(&honest_path).unwrap();
    std::fs::remove_file(&mixed_path).unwrap();
}

#[test]
fn a_frame_cut_by_the_snaplen_counts_the_ip_length_tshark_reads() {
    let mut pcap = Pcap::new();
    let start: u64 = 1_767_225_600_000_000;
    let server = [198, 51, 100, 10];
    for n in 0..50u64 {
        let payload = 200 + 25 * n as usize;
        let down = tcp4(
            ROUTER,
            SPOOFED,
            server,
            SPOOFED_IP,
            443,
            50001,
            n == 0,
            true,
            payload,
        );
        // A 96-byte snaplen: the IP length is more than was captured and
        // no more than the wire carried after the Ethernet header.
        pcap.push_cut(start + n * 1000, &down[..96], down.len() as u32);
    }
    let path = temp_file("snaplen-cut.pcap");
    pcap.write(&path);
    let rows = tshark_columns(&path, &["frame.cap_len", "frame.len", "ip.len"]);
    assert_eq!(rows.len(), 50);
    let mut tshark_bytes = 0;
    for r in &rows {
        let (cap, wire, ip_len) = (
            column_u64(r, 0).unwrap(),
            column_u64(r, 1).unwrap(),
            column_u64(r, 2).unwrap(),
        );
        assert!(cap < ip_len && ip_len <= wire - 14, "{r:?}");
        tshark_bytes += ip_len;
    }
    let doc = lanwatch_json(
        std::slice::from_ref(&path),
        &["--router-mac", "02:00:00:00:00:fe"],
    );
    let client = &ours(&doc)[&mac_text(SPOOFED)];
    assert_eq!(client.protocols["HTTPS"][0], tshark_bytes, "HTTPS rx bytes");
    assert_eq!(client.protocols["HTTPS"][2], 50, "HTTPS rx packets");
    assert_eq!(doc["health"]["packets"]["malformed"].as_u64(), Some(0));
    std::fs::remove_file(&path).unwrap();
}

/// The fragment table (1024 first fragments by default) is cleared whole
/// when a new first fragment finds it full and nothing in it has expired:
/// a flood of `n` distinct first fragments within its 60 s lifetime evicts
/// 1024 × ⌊(n − 1) / 1024⌋ of them, and says so.
#[test]
fn a_fragment_flood_is_counted_in_the_fragment_evictions() {
    const FRAGMENT_TABLE: u64 = 1024;
    let firsts = 5000u64;
    let mut pcap = Pcap::new();
    let start: u64 = 1_767_225_600_000_000;
    // Fragment `offset` (in 8-byte units) of datagram `id`, more to follow.
    let fragment = |id: u64, offset| {
        ipv4_fragment(
            ATTACKER,
            ROUTER,
            [10, 66, 0, 1],
            [203, 0, 113, 5],
            id as u16,
            offset,
            true,
            &[0x11; 16],
        )
    };
    for n in 0..firsts {
        pcap.push(start + n * 100, &fragment(n, 0));
        // Later fragments are looked up, never stored.
        pcap.push(start + n * 100 + 50, &fragment(n, 2));
    }
    let path = temp_file("fragments.pcap");
    pcap.write(&path);
    let evictions = |files: &[PathBuf]| {
        let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "prometheus"])
            .args(files)
            .output()
            .expect("run lanwatch");
        assert!(out.status.success());
        sample(
            &String::from_utf8(out.stdout).unwrap(),
            "lanwatch_evictions_total{table=\"fragments\"}",
        )
    };
    let sample_alone = evictions(&[repo_file("samples/home-lan.pcap")]);
    assert_eq!(sample_alone, 0);
    let expected = FRAGMENT_TABLE * ((firsts - 1) / FRAGMENT_TABLE);
    assert_eq!(evictions(std::slice::from_ref(&path)), expected);
    // After the sample, the counter rises by the same amount.
    assert_eq!(
        evictions(&[repo_file("samples/home-lan.pcap"), path.clone()]),
        sample_alone + expected
    );
    std::fs::remove_file(&path).unwrap();
}
