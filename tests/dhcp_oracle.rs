//! The DHCP decoder against tshark's reading of the DHCP captures: message
//! type, transaction id, client MAC, assigned and requested address, host
//! name, vendor class and parameter request list (DHCPv4), and message
//! type, transaction id and DUID link-layer address (DHCPv6).

mod proto_support;

use lanwatch::decode::dhcp::{DhcpMessage, Dhcpv6Message};
use proto_support::{capture, read_frames, segment, tshark_fields, Proto};

const V4_CAPTURES: [&str; 9] = [
    "zeek/dhcp.pcap",
    "tcpdump/dhcp-mud.pcap",
    "tcpdump/dhcp-option-108.pcapng",
    "suricata-verify/dhcp-eve-extended-option-60.pcap",
    "arkime/wireshark-dhcp.pcap",
    "ndpi/1kxun.pcap",
    "ndpi/telegram.pcap",
    "ndpi/iphone.pcap",
    "ndpi/dhcp-fuzz.pcapng",
];

const V4_FIELDS: [&str; 9] = [
    "dhcp.id",
    "dhcp.option.dhcp",
    "dhcp.hw.mac_addr",
    "dhcp.ip.your",
    "dhcp.option.requested_ip_address",
    "dhcp.option.hostname",
    "dhcp.option.vendor_class_id",
    "dhcp.option.request_list_item",
    "_ws.malformed",
];

/// Text as tshark shows a string field: control bytes escaped the way
/// Wireshark's `format_text` does.
fn tshark_text(bytes: &[u8]) -> String {
    let mut out = String::new();
    for c in String::from_utf8_lossy(bytes).chars() {
        match c {
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{b}' => out.push_str("\\v"),
            c if c.is_ascii_control() => out.push_str(&format!("\\{:03o}", c as u32)),
            c => out.push(c),
        }
    }
    out
}

/// Our reading of one DHCPv4 message, in `V4_FIELDS` order.
fn read_v4(m: &DhcpMessage<'_>) -> Vec<String> {
    let opt = |v: Option<String>| v.unwrap_or_default();
    vec![
        format!("{:#010x}", m.xid()),
        opt(m.message_type().map(|t| t.to_u8().to_string())),
        opt(m.chaddr().map(|mac| mac.to_string())),
        m.yiaddr().to_string(),
        opt(m.requested_ip().map(|a| a.to_string())),
        // tshark stops a string at its first NUL.
        opt(m.hostname().map(|h| {
            let h = h.split(|&b| b == 0).next().unwrap_or_default();
            tshark_text(h)
        })),
        opt(m.vendor_class().map(tshark_text)),
        opt(m
            .parameter_request_list()
            .map(|l| l.iter().map(u8::to_string).collect::<Vec<_>>().join(","))),
    ]
}

#[test]
fn dhcpv4_fields_agree_with_tshark() {
    let mut compared = 0;
    let mut hostnames = 0;
    for rel in V4_CAPTURES {
        let path = capture(rel);
        let tshark = tshark_fields(&path, "dhcp", &V4_FIELDS);
        let mut ours = std::collections::BTreeMap::new();
        for frame in read_frames(&path) {
            let Ok(seg) = segment(&frame) else { continue };
            if seg.proto != Proto::Udp || ![67, 68].contains(&seg.dst_port) {
                continue;
            }
            match DhcpMessage::new_checked(seg.payload) {
                Ok(m) => {
                    ours.insert(frame.number, read_v4(&m));
                }
                Err(e) => assert!(
                    !tshark.contains_key(&frame.number),
                    "{rel} frame {}: tshark reads DHCP, lanwatch says {e}",
                    frame.number
                ),
            }
        }
        for (frame, t) in &tshark {
            let o = ours
                .get(frame)
                .unwrap_or_else(|| panic!("{rel} frame {frame}: DHCP to tshark only"));
            let malformed = !t[8].is_empty();
            for (i, field) in V4_FIELDS[..8].iter().enumerate() {
                if malformed && t[i].is_empty() {
                    // tshark stopped at the bad option; we may have read
                    // the options before it just the same.
                    continue;
                }
                // dhcp.hw.mac_addr also holds option 61's MAC: the first
                // occurrence is chaddr.
                let t = if *field == "dhcp.hw.mac_addr" {
                    t[i].split(',').next().unwrap_or_default()
                } else {
                    &t[i]
                };
                assert_eq!(t, o[i], "{rel} frame {frame}: {field}");
            }
            if !o[5].is_empty() {
                hostnames += 1;
            }
            compared += 1;
        }
        assert_eq!(ours.len(), tshark.len(), "{rel}: DHCP frames");
    }
    assert!(compared >= 30, "{compared} DHCP messages compared");
    assert!(hostnames >= 10, "{hostnames} host names compared");
}

#[test]
fn dhcpv6_fields_agree_with_tshark() {
    let path = capture("ndpi/1kxun.pcap");
    let fields = [
        "dhcpv6.msgtype",
        "dhcpv6.xid",
        "dhcpv6.duidllt.link_layer_addr",
    ];
    let tshark = tshark_fields(&path, "dhcpv6", &fields);
    assert!(!tshark.is_empty());
    let mut seen = 0;
    for frame in read_frames(&path) {
        let Ok(seg) = segment(&frame) else { continue };
        if seg.proto != Proto::Udp || ![546, 547].contains(&seg.dst_port) {
            continue;
        }
        let m = Dhcpv6Message::new_checked(seg.payload).unwrap();
        let t = &tshark[&frame.number];
        let duid = m.client_duid().unwrap();
        assert_eq!(duid.duid_type(), Some(1), "DUID-LLT");
        let ours = [
            m.as_bytes()[0].to_string(),
            format!("{:#08x}", m.transaction_id().unwrap()),
            duid.mac().unwrap().to_string(),
        ];
        assert_eq!(t[..], ours[..], "frame {}", frame.number);
        seen += 1;
    }
    assert_eq!(seen, tshark.len());
}

#[test]
fn fuzzed_dhcp_keeps_its_unknown_message_type_and_host_name() {
    // nDPI's dhcp-fuzz: message type 0x6a and host name MK03862 among
    // malformed options.
    let path = capture("ndpi/dhcp-fuzz.pcapng");
    let frames = read_frames(&path);
    let seg = segment(&frames[0]).unwrap();
    let m = DhcpMessage::new_checked(seg.payload).unwrap();
    assert_eq!(
        m.message_type(),
        Some(lanwatch::decode::dhcp::MessageType::Unknown(0x6a))
    );
    assert_eq!(m.hostname(), Some(&b"MK03862"[..]));
    // Walking every option ends (in an error or at End) without panicking.
    assert!(m.options().count() < 300);
}
