//! Generated captures, one per accounting rule (`scripts/gen_captures.py`),
//! replayed and compared with the expected figures the independent model
//! wrote beside each of them.

mod common;

use common::{
    assert_accounting_matches, assert_figures_match, lanwatch_json, ours, repo_file, theirs,
};

fn load(case: &str) -> (std::path::PathBuf, serde_json::Value, serde_json::Value) {
    let capture = repo_file(&format!("tests/data/generated/{case}.pcap"));
    let expected_path = repo_file(&format!("tests/data/generated/{case}.expected.json"));
    let expected: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&expected_path).unwrap()).unwrap();
    let ours = lanwatch_json(std::slice::from_ref(&capture), &[]);
    (capture, ours, expected)
}

fn check(case: &str) {
    let (capture, ours, expected) = load(case);
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
    dns_compression_and_names,
    dns_nxdomain_cname,
);

/// One client floods random subdomains: more distinct names than lanwatch
/// keeps per client. Everything is compared except that client's distinct
/// names, which are bounded by design (tests/dns_tracking.rs checks the
/// bound and the counted evictions); the other clients' figures, and the
/// flooder's query counts, must be exact.
#[test]
fn dns_random_subdomain_flood() {
    const FLOODER: &str = "02:00:00:00:00:66";
    let (capture, ours_doc, expected) = load("dns_random_subdomain_flood");
    let (mut ours_map, mut theirs_map) = (ours(&ours_doc), theirs(&expected));
    for figures in [&mut ours_map, &mut theirs_map] {
        figures
            .get_mut(FLOODER)
            .expect("the flooding client")
            .unique_domains = 0;
    }
    assert_figures_match(
        &[capture],
        &[],
        &ours_doc,
        &expected,
        &ours_map,
        &theirs_map,
    );
}

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
