//! Per-client accounting of real captures, checked against an independent
//! model: tshark reads the frames and `scripts/expected_accounting.py`
//! applies the design's accounting rules to tshark's fields.

mod common;

use common::{assert_same_accounting, real_capture};

macro_rules! same_as_the_model {
    ($($name:ident => $file:expr;)*) => {$(
        #[test]
        fn $name() {
            assert_same_accounting(&[real_capture($file)], &[]);
        }
    )*};
}

same_as_the_model! {
    ndpi_1kxun_multi_client_lan => "ndpi/1kxun.pcap";
    ndpi_telegram_home_lan => "ndpi/telegram.pcap";
    ndpi_iphone_joining_wifi => "ndpi/iphone.pcap";
    ndpi_443_git_https_session => "ndpi/443-git.pcap";
    ndpi_http_ipv6 => "ndpi/http_ipv6.pcap";
    ndpi_dns_qinq_pppoe => "ndpi/dns.pcap";
    ndpi_dns_fragmented => "ndpi/dns_fragmented.pcap";
    ndpi_ip_fragmented_garbage => "ndpi/ip_fragmented_garbage.pcap";
    ndpi_badpackets_snaplen_cut => "ndpi/badpackets.pcap";
    ndpi_bad_dns_traffic => "ndpi/bad-dns-traffic.pcap";
    ndpi_malformed_dns => "ndpi/malformed_dns.pcap";
    ndpi_quic_initials => "ndpi/quic_crypto_aes_auth_size.pcap";
    ndpi_quic_pcapng_ns => "ndpi/quic_frags_ch_in_multiple_packets.pcapng";
    zeek_http_vlan_0 => "zeek/http-vlan-0.pcap";
    zeek_home_multicast => "zeek/home-multicast-short.pcap";
    zeek_mdns_v4_v6 => "zeek/mdns.pcap";
    zeek_dhcp_every_type => "zeek/dhcp.pcap";
    zeek_dns_edns_ecs_mid_stream_tcp => "zeek/dns-edns-ecs.pcap";
    zeek_ipv6_fragmented_dns => "zeek/ipv6-fragmented-dns.pcap";
    zeek_ipv6_hbh_routing0 => "zeek/ipv6-hbh-routing0.pcap";
    zeek_ipv6_ext_truncated => "zeek/ip6-ext-trunc.pcap";
    zeek_pcapng_two_interfaces => "zeek/pcapng-multi-interface.pcapng";
    zeek_quic_chromium => "zeek/chromium-115.0.5790.110-api-cirrus-com.pcap";
    tcpdump_dns_tcp => "tcpdump/dns_tcp.pcap";
    tcpdump_ipv6_routing_header => "tcpdump/ipv6-routing-header.pcap";
    tcpdump_dhcp_mud => "tcpdump/dhcp-mud.pcap";
    tcpdump_dhcp_option_108_pcapng => "tcpdump/dhcp-option-108.pcapng";
    suricata_dns_nxdomain => "suricata-verify/dns-eve-v2-udp-nxdomain-soa.pcap";
    suricata_dns_raw_ip => "suricata-verify/dns-udp-eve-log-srv.pcap";
    suricata_dns_tcp_pipelined => "suricata-verify/dns-tcp-multirequest-buffer.pcap";
    arkime_wireshark_dhcp => "arkime/wireshark-dhcp.pcap";
    arkime_dns_wiresharkrepo => "arkime/dns-wiresharkrepo.pcap";
    arkime_v6_mix => "arkime/v6.pcap";
    arkime_tls_split_client_hello => "arkime/tls-split-client-hello.pcap";
    arkime_qinq_http => "arkime/twovlan.pcap";
    arkime_dot1ad => "arkime/dot1ad.pcap";
    arkime_pppoe => "arkime/pppoe.pcap";
    arkime_bigendian_pcap => "arkime/bigendian.pcap";
}

/// Several files replay as one stream: the state carries over.
#[test]
fn several_files_replay_as_one_stream() {
    assert_same_accounting(
        &[
            real_capture("ndpi/443-git.pcap"),
            real_capture("ndpi/iphone.pcap"),
        ],
        &[],
    );
}

/// Configured LAN prefixes and router MACs change who is a client.
#[test]
fn lan_prefixes_and_router_mac_from_the_command_line() {
    assert_same_accounting(
        &[real_capture("ndpi/telegram.pcap")],
        &["--lan", "192.168.1.0/24", "--lan", "fe80::/10"],
    );
}
