//! Fuzzes the DHCPv4 and DHCPv6 decoders: a first byte of 1 or 2 (BOOTP
//! request/reply) is read as DHCPv4, anything else as DHCPv6; every
//! accessor and option walk runs.
#![no_main]
use libfuzzer_sys::fuzz_target;

use lanwatch::decode::dhcp::{DhcpMessage, Dhcpv6Message};

fuzz_target!(|data: &[u8]| {
    let mut buf = [0u8; 256];
    match data.first() {
        Some(1 | 2) => {
            let Ok(m) = DhcpMessage::new_checked(data) else {
                return;
            };
            let _ = (
                m.op(),
                m.xid(),
                m.ciaddr(),
                m.yiaddr(),
                m.siaddr(),
                m.giaddr(),
            );
            let _ = (m.chaddr(), m.chaddr_raw(), m.message_type(), m.hostname());
            let _ = (
                m.vendor_class(),
                m.parameter_request_list(),
                m.requested_ip(),
            );
            let _ = (
                m.server_identifier(),
                m.lease_time(),
                m.client_identifier_mac(),
            );
            if let Some(f) = m.client_fqdn() {
                if let Ok(n) = f.name.write_lower(&mut buf) {
                    assert!(n <= 255);
                }
            }
            let mut n = 0usize;
            for o in m.options() {
                n += 1;
                assert!(n <= data.len(), "each option advances");
                if let Ok(o) = o {
                    assert!(o.data.len() <= 255);
                }
            }
        }
        _ => {
            let Ok(m) = Dhcpv6Message::new_checked(data) else {
                return;
            };
            let _ = (m.msg_type(), m.transaction_id(), m.relay_header());
            if let Some(d) = m.client_duid() {
                let _ = (d.duid_type(), d.mac());
            }
            let _ = m.server_duid().map(|d| d.mac());
            if let Some(f) = m.client_fqdn() {
                let _ = f.name.write_lower(&mut buf);
            }
            let _ = m.ia_na_addresses().count();
            if let Some((_, v)) = m.vendor_class() {
                let _ = v.items().count();
            }
            let _ = m.user_class().map(|u| u.items().count());
            if let Some(Ok(inner)) = m.relayed_message() {
                let _ = (inner.msg_type(), inner.client_duid());
            }
            let _ = m.options().count();
        }
    }
});
