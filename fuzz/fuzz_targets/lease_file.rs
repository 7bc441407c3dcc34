//! Fuzzes the lease-file parser and the neighbour-discovery view: a first
//! byte below 0x80 feeds the rest to the lease parser (any of the dnsmasq,
//! odhcpd and hosts formats); otherwise the second byte is the ICMPv6 type
//! (135/136 when its low bit says so) and the rest the message body.
#![no_main]
use libfuzzer_sys::fuzz_target;

use lanwatch::decode::ndp;
use lanwatch::track::leases;

fuzz_target!(|data: &[u8]| {
    let Some((&switch, rest)) = data.split_first() else {
        return;
    };
    if switch < 0x80 {
        if let Ok(records) = leases::parse(std::path::Path::new("fuzz"), rest) {
            // Every record came from a line: no more records than bytes.
            assert!(records.len() <= rest.len());
            for r in &records {
                let _ = r.mac();
            }
        }
        return;
    }
    let Some((&kind, body)) = rest.split_first() else {
        return;
    };
    let icmp_type = if kind & 1 == 0 { 135 } else { 136 };
    let Ok(p) = ndp::Packet::new_checked(icmp_type, body) else {
        return;
    };
    let _ = p.repr();
    let mut n = 0usize;
    for o in p.options() {
        n += 1;
        assert!(n <= body.len(), "each option advances");
        if let Ok(o) = o {
            assert!(o.data.len() + 2 <= body.len());
        }
    }
});
