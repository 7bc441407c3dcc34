//! The accounting rules of the design, one test each, on decoded frames.

use super::*;
use crate::decode::{
    ArpPacket, Decoded, Fragment, IpPacket, LinkInfo, Mac, Network, TcpFlags, Transport,
};

const SEC: u64 = 1_000_000_000;
const ROUTER: Mac = Mac([0x02, 0, 0, 0, 0, 0x01]);
const PHONE: Mac = Mac([0x3c, 0x22, 0xfb, 0, 0, 0x02]);
const TV: Mac = Mac([0xa8, 0x23, 0xfe, 0, 0, 0x03]);

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap()
}

fn eth(src: Mac, dst: Mac) -> LinkInfo {
    LinkInfo {
        src_mac: Some(src),
        dst_mac: Some(dst),
        ..LinkInfo::default()
    }
}

fn tcp(src_port: u16, dst_port: u16, flags: u8) -> Transport {
    Transport::Tcp {
        src_port,
        dst_port,
        flags: TcpFlags(flags),
    }
}

fn udp(src_port: u16, dst_port: u16) -> Transport {
    Transport::Udp { src_port, dst_port }
}

fn packet(
    link: LinkInfo,
    src: &str,
    dst: &str,
    transport: Transport,
    ip_len: u32,
) -> Decoded<'static> {
    let protocol = match transport {
        Transport::Tcp { .. } => 6,
        Transport::Udp { .. } => 17,
        Transport::Icmp { .. } => 1,
        Transport::Icmpv6 { .. } => 58,
        Transport::Opaque => 17,
    };
    Decoded {
        link,
        network: Network::Ip(IpPacket {
            src: ip(src),
            dst: ip(dst),
            ip_len,
            protocol,
            fragment: Fragment::Whole,
            transport,
            payload: &[],
            headers_cut: false,
        }),
    }
}

fn tracker_with_router() -> Tracker {
    Tracker::new(TrackConfig {
        router_macs: vec![ROUTER],
        ..TrackConfig::default()
    })
}

fn client(s: &Snapshot, mac: Mac) -> &ClientSnapshot {
    s.clients
        .iter()
        .find(|c| c.mac == Some(mac))
        .expect("client present")
}

fn usage<'a>(c: &'a ClientSnapshot, protocol: &str) -> &'a ProtocolUsage {
    c.protocols
        .iter()
        .find(|p| p.protocol == protocol)
        .expect("protocol present")
}

#[test]
fn bytes_are_the_ip_length_and_direction_is_from_the_client() {
    let mut t = tracker_with_router();
    let up = packet(
        eth(PHONE, ROUTER),
        "192.168.1.2",
        "198.51.100.7",
        tcp(50000, 443, TcpFlags::SYN),
        60,
    );
    let down = packet(
        eth(ROUTER, PHONE),
        "198.51.100.7",
        "192.168.1.2",
        tcp(443, 50000, TcpFlags::SYN | TcpFlags::ACK),
        1500,
    );
    t.process_decoded(SEC, &up);
    t.process_decoded(SEC, &down);
    let s = t.snapshot();
    let https = usage(client(&s, PHONE), "HTTPS");
    assert_eq!(https.traffic.tx_bytes, 60);
    assert_eq!(https.traffic.rx_bytes, 1500);
    assert_eq!((https.traffic.tx_packets, https.traffic.rx_packets), (1, 1));
    assert_eq!(https.connections, 1);
    assert_eq!(s.health.packets.accounted, 2);
}

#[test]
fn traffic_to_the_router_itself_is_bandwidth() {
    let mut t = tracker_with_router();
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "192.168.1.2",
            "192.168.1.1",
            udp(40000, 53),
            70,
        ),
    );
    let s = t.snapshot();
    assert_eq!(usage(client(&s, PHONE), "DNS").traffic.tx_bytes, 70);
    assert_eq!(s.clients.len(), 1, "the router is never a client");
}

#[test]
fn lan_traffic_between_clients_is_counted_apart_on_both_sides() {
    let mut t = tracker_with_router();
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, TV),
            "192.168.1.2",
            "192.168.1.3",
            tcp(50000, 8009, 0x18),
            400,
        ),
    );
    let s = t.snapshot();
    assert_eq!(client(&s, PHONE).lan.tx_bytes, 400);
    assert_eq!(client(&s, TV).lan.rx_bytes, 400);
    assert!(client(&s, PHONE).protocols.is_empty());
    assert_eq!(
        client(&s, PHONE).connections_total(),
        0,
        "LAN flows are not connections"
    );
    assert_eq!(s.health.packets.lan, 1);
}

#[test]
fn multicast_and_broadcast_from_a_client_are_lan_traffic() {
    let mut t = tracker_with_router();
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, Mac([1, 0, 0x5e, 0, 0, 0xfb])),
            "192.168.1.2",
            "224.0.0.251",
            udp(5353, 5353),
            100,
        ),
    );
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, Mac::BROADCAST),
            "192.168.1.2",
            "192.168.1.255",
            udp(137, 137),
            78,
        ),
    );
    let s = t.snapshot();
    assert_eq!(client(&s, PHONE).lan.tx_bytes, 178);
    assert_eq!(s.clients.len(), 1);
}

#[test]
fn a_dhcp_request_from_0_0_0_0_makes_a_client_before_it_has_an_address() {
    let mut t = Tracker::new(TrackConfig::default());
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, Mac::BROADCAST),
            "0.0.0.0",
            "255.255.255.255",
            udp(68, 67),
            328,
        ),
    );
    let s = t.snapshot();
    let c = client(&s, PHONE);
    assert_eq!(c.lan.tx_bytes, 328);
    assert!(c.ipv4.is_empty());
    assert_eq!(c.ip, None);
}

#[test]
fn the_router_is_learned_from_dhcp_server_replies() {
    let mut t = Tracker::new(TrackConfig::default());
    // Before: the router looks like any LAN host.
    t.process_decoded(
        SEC,
        &packet(
            eth(ROUTER, PHONE),
            "192.168.1.1",
            "192.168.1.2",
            udp(67, 68),
            328,
        ),
    );
    assert_eq!(t.router_macs(), &[ROUTER]);
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "192.168.1.2",
            "192.168.1.1",
            udp(40000, 53),
            70,
        ),
    );
    let s = t.snapshot();
    assert_eq!(s.clients.len(), 1);
    assert_eq!(usage(client(&s, PHONE), "DHCP").traffic.rx_bytes, 328);
    assert_eq!(usage(client(&s, PHONE), "DNS").traffic.tx_bytes, 70);
}

#[test]
fn the_router_is_learned_as_the_l2_peer_of_non_lan_addresses() {
    let mut t = Tracker::new(TrackConfig::default());
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "192.168.1.2",
            "198.51.100.7",
            udp(40000, 443),
            1200,
        ),
    );
    assert_eq!(t.router_macs(), &[ROUTER]);
    let s = t.snapshot();
    assert_eq!(usage(client(&s, PHONE), "QUIC").traffic.tx_bytes, 1200);
}

#[test]
fn a_mac_found_to_be_the_router_stops_being_a_client() {
    let mut t = Tracker::new(TrackConfig::default());
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "192.168.1.2",
            "192.168.1.1",
            udp(40000, 53),
            70,
        ),
    );
    assert_eq!(t.snapshot().clients.len(), 2);
    t.process_decoded(
        SEC,
        &packet(
            eth(ROUTER, PHONE),
            "192.168.1.1",
            "192.168.1.2",
            udp(67, 68),
            328,
        ),
    );
    let s = t.snapshot();
    assert_eq!(s.clients.len(), 1);
    assert_eq!(s.clients[0].mac, Some(PHONE));
}

#[test]
fn the_routers_own_traffic_is_no_client() {
    let mut t = tracker_with_router();
    t.process_decoded(
        SEC,
        &packet(
            eth(ROUTER, Mac([2, 9, 9, 9, 9, 9])),
            "203.0.113.5",
            "198.51.100.7",
            udp(123, 123),
            76,
        ),
    );
    let s = t.snapshot();
    assert!(s.clients.is_empty());
    assert_eq!(s.health.packets.no_client, 1);
}

#[test]
fn global_ipv6_outside_the_lan_prefixes_is_not_client_traffic() {
    let mut t = tracker_with_router();
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "192.168.1.2",
            "198.51.100.7",
            udp(40000, 443),
            100,
        ),
    );
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "2001:db8:1::aaaa",
            "2001:db8:2::1",
            udp(40001, 443),
            100,
        ),
    );
    t.process_decoded(
        SEC,
        &packet(
            eth(PHONE, ROUTER),
            "2001:db8:1::bbbb",
            "2001:db8:2::1",
            udp(40002, 443),
            100,
        ),
    );
    let s = t.snapshot();
    assert_eq!(s.clients.len(), 1);
    let c = client(&s, PHONE);
    // Global IPv6 addresses outside the LAN prefixes are not client addresses.
    assert_eq!(
        c.ipv4,
        vec!["192.168.1.2".parse::<std::net::Ipv4Addr>().unwrap()]
    );
    assert_eq!(usage(c, "QUIC").traffic.tx_bytes, 100);
}

#[test]
fn ipv6_privacy_addresses_inside_the_lan_fold_into_one_client() {
    let mut t = Tracker::new(TrackConfig {
        lan: Lan::new(&[
            "192.168.1.0/24".parse().unwrap(),
            "2001:db8:1::/64".parse().unwrap(),
        ]),
        router_macs: vec![ROUTER],
        ..TrackConfig::default()
    });
    for (n, addr) in ["192.168.1.2", "2001:db8:1::aaaa", "2001:db8:1::bbbb"]
        .iter()
        .enumerate()
    {
        let dst = if addr.contains(':') {
            "2001:db8:2::1"
        } else {
            "198.51.100.7"
        };
        t.process_decoded(
            SEC,
            &packet(
                eth(PHONE, ROUTER),
                addr,
                dst,
                udp(40000 + n as u16, 443),
                100,
            ),
        );
    }
    let s = t.snapshot();
    let c = client(&s, PHONE);
    assert_eq!(c.ipv6.len(), 2);
    assert_eq!(
        c.ip,
        Some(ip("192.168.1.2")),
        "the ip label is the IPv4 address"
    );
    assert_eq!(usage(c, "QUIC").connections, 3);
}

#[test]
fn later_fragments_count_to_the_first_fragments_protocol_without_a_new_connection() {
    let mut t = tracker_with_router();
    let mut first = packet(
        eth(PHONE, ROUTER),
        "192.168.1.2",
        "198.51.100.7",
        udp(40000, 53),
        1500,
    );
    let mut later = packet(
        eth(PHONE, ROUTER),
        "192.168.1.2",
        "198.51.100.7",
        Transport::Opaque,
        600,
    );
    if let Network::Ip(p) = &mut first.network {
        p.fragment = Fragment::First { id: 7 };
    }
    if let Network::Ip(p) = &mut later.network {
        p.fragment = Fragment::Later { id: 7 };
    }
    t.process_decoded(SEC, &first);
    t.process_decoded(SEC, &later);
    let s = t.snapshot();
    let dns = usage(client(&s, PHONE), "DNS");
    assert_eq!(dns.traffic.tx_bytes, 2100);
    assert_eq!(dns.connections, 1);
}

#[test]
fn a_later_fragment_whose_first_was_not_seen_counts_by_protocol_number() {
    let mut t = tracker_with_router();
    let mut later = packet(
        eth(PHONE, ROUTER),
        "192.168.1.2",
        "198.51.100.7",
        Transport::Opaque,
        600,
    );
    if let Network::Ip(p) = &mut later.network {
        p.fragment = Fragment::Later { id: 9 };
    }
    t.process_decoded(SEC, &later);
    let s = t.snapshot();
    let other = usage(client(&s, PHONE), "other");
    assert_eq!(other.traffic.tx_bytes, 600);
    assert_eq!(other.connections, 0);
}

#[test]
fn without_macs_clients_are_keyed_by_ip_unless_a_neighbour_is_known() {
    let mut t = Tracker::new(TrackConfig::default());
    let raw = LinkInfo::default();
    t.process_decoded(
        SEC,
        &packet(raw, "192.168.1.9", "198.51.100.7", udp(40000, 443), 100),
    );
    let s = t.snapshot();
    assert_eq!(s.clients.len(), 1);
    assert_eq!(s.clients[0].mac, None);
    assert_eq!(s.clients[0].ip, Some(ip("192.168.1.9")));

    // An ARP reply teaches 192.168.1.2 → PHONE; later MAC-less frames fold into it.
    t.process_decoded(
        SEC,
        &Decoded {
            link: eth(PHONE, ROUTER),
            network: Network::Arp(ArpPacket {
                operation: 2,
                sender_mac: PHONE,
                sender_ip: "192.168.1.2".parse().unwrap(),
                target_mac: ROUTER,
                target_ip: "192.168.1.1".parse().unwrap(),
            }),
        },
    );
    t.process_decoded(
        SEC,
        &packet(raw, "198.51.100.7", "192.168.1.2", udp(443, 40000), 900),
    );
    let s = t.snapshot();
    assert_eq!(usage(client(&s, PHONE), "QUIC").traffic.rx_bytes, 900);
    assert_eq!(s.health.packets.not_ip, 1);
}

#[test]
fn udp_flows_expire_on_packet_time_and_reopen() {
    let mut t = tracker_with_router();
    let out = packet(
        eth(PHONE, ROUTER),
        "192.168.1.2",
        "198.51.100.7",
        udp(40000, 123),
        76,
    );
    t.process_decoded(SEC, &out);
    assert_eq!(t.snapshot().clients[0].connections_active, 1);
    t.process_decoded(
        62 * SEC,
        &packet(
            eth(TV, ROUTER),
            "192.168.1.3",
            "198.51.100.7",
            udp(1, 2),
            76,
        ),
    );
    let s = t.snapshot();
    assert_eq!(
        client(&s, PHONE).connections_active,
        0,
        "expired after 60 s unreplied"
    );
    t.process_decoded(63 * SEC, &out);
    let s = t.snapshot();
    assert_eq!(usage(client(&s, PHONE), "NTP").connections, 2);
    assert_eq!(client(&s, PHONE).connections_active, 1);
}

#[test]
fn the_client_table_is_bounded_and_counts_evictions() {
    let mut t = Tracker::new(TrackConfig {
        router_macs: vec![ROUTER],
        max_clients: 32,
        ..TrackConfig::default()
    });
    for n in 0..1000u32 {
        let mac = Mac([2, 1, 0, (n >> 8) as u8, n as u8, 0]);
        let src = format!("10.0.{}.{}", n >> 8, n & 0xff);
        t.process_decoded(
            u64::from(n) * SEC,
            &packet(
                eth(mac, ROUTER),
                &src,
                "198.51.100.7",
                tcp(1000, 443, TcpFlags::SYN),
                60,
            ),
        );
    }
    let s = t.snapshot();
    assert!(s.clients.len() <= 32);
    assert_eq!(s.health.client_evictions + s.clients.len() as u64, 1000);
    assert_eq!(
        s.health.flows,
        s.clients.len() as u64,
        "flows of evicted clients go with them"
    );
    assert_eq!(s.health.packets.accounted, 1000);
}

/// Ethernet + an IPv6 header claiming 20 payload bytes that start with a
/// hop-by-hop header, and nothing after.
const IPV6_HEADER_ONLY: [u8; 54] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x86, 0xdd, //
    0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 0x00, 0x40, //
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02, //
    0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x03,
];

/// Decodes an Ethernet frame captured at 1 s, `wire_len` bytes long on the
/// wire, and accounts it (what the capture worker does with each frame).
fn process_frame(t: &mut Tracker, data: &[u8], wire_len: u32) {
    let decoded = crate::decode::decode_frame(crate::decode::LinkType::Ethernet, data, wire_len);
    t.process_result(SEC, &decoded);
}

#[test]
fn a_snaplen_cut_frame_counts_its_full_ip_length() {
    let mut t = Tracker::new(TrackConfig::default());
    // Captured 54 bytes of a 74-byte frame: the IP length (60) is what
    // counts, although the hop-by-hop header was cut off.
    process_frame(&mut t, &IPV6_HEADER_ONLY, 74);
    let s = t.snapshot();
    assert_eq!(s.health.packets.lan, 1);
    assert_eq!(s.clients[0].lan.tx_bytes, 60);
}

#[test]
fn a_frame_that_ends_inside_its_extension_headers_uncut_is_malformed() {
    let mut t = Tracker::new(TrackConfig::default());
    process_frame(&mut t, &IPV6_HEADER_ONLY, 54);
    let s = t.snapshot();
    assert_eq!(s.health.packets.malformed, 1);
    assert!(s.clients.is_empty());
}
