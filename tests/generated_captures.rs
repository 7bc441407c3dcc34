//! Generated captures, one per accounting rule (`scripts/gen_captures.py`),
//! replayed and compared with the expected figures the independent model
//! wrote beside each of them.

mod common;

use common::{assert_accounting_matches, lanwatch_json, repo_file};

fn check(case: &str) {
    let capture = repo_file(&format!("tests/data/generated/{case}.pcap"));
    let expected_path = repo_file(&format!("tests/data/generated/{case}.expected.json"));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let ours = lanwatch_json(std::slice::from_ref(&capture), &[]);
    assert_accounting_matches(&[capture], &ours, &expected);
}

macro_rules! cases {
    ($($name:ident),* $(,)?) => {$(
        #[test]
        fn $name() {
            check(stringify!($name));
        }
    )*};
}

cases!(
    vlan_qinq,
    ipv6_ext_headers,
    ipv4_fragments,
    snaplen_truncated,
    lan_and_broadcast,
    router_own_traffic,
    tcp_midstream_rst,
    udp_idle_expiry,
    dns_tcp_split,
    multi_address_client,
    sll_cooked,
    raw_ip,
    dhcp_renewal,
);

#[test]
fn the_bundled_sample() {
    let capture = repo_file("samples/home-lan.pcap");
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(repo_file("samples/home-lan.expected.json")).unwrap(),
    )
    .unwrap();
    let ours = lanwatch_json(std::slice::from_ref(&capture), &[]);
    assert_accounting_matches(&[capture], &ours, &expected);
}
