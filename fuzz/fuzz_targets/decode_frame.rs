//! Fuzzes `decode_frame` over every link type: it must never panic. For
//! Ethernet and raw IP it is also differential: where etherparse finds a
//! whole IP packet (its length fields consistent with the captured bytes)
//! behind the EtherType its version says, lanwatch must decode the same
//! addresses and the same IP length.
#![no_main]

use etherparse::{LaxLinkExtSlice, LaxNetSlice, LaxSlicedPacket, LenSource, LinkSlice};
use lanwatch::decode::{decode_frame, LinkType, Network};
use libfuzzer_sys::fuzz_target;
use std::net::IpAddr;

const LINK_TYPES: [LinkType; 5] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::RawIp,
    LinkType::Null,
];

fuzz_target!(|data: &[u8]| {
    let Some((&selector, frame)) = data.split_first() else {
        return;
    };
    let link = LINK_TYPES[usize::from(selector) % LINK_TYPES.len()];
    // Whole as captured (the wire-length rule applies) it must not panic;
    // the differential compares the parse alone (no wire length to hold
    // against the headers, as etherparse has none).
    let _ = decode_frame(link, frame, u32::try_from(frame.len()).unwrap_or(u32::MAX));
    let ours = decode_frame(link, frame, u32::MAX);

    let theirs = match link {
        LinkType::Ethernet => LaxSlicedPacket::from_ethernet(frame).ok(),
        LinkType::RawIp => LaxSlicedPacket::from_ip(frame).ok(),
        _ => None,
    };
    let Some(theirs) = theirs else {
        return;
    };
    let Some((src, dst, ip_len, ethertype)) = whole_ip(&theirs) else {
        return;
    };
    // etherparse goes by the version nibble, lanwatch by the EtherType;
    // raw IP has only the nibble. etherparse also looks inside unencrypted
    // MACsec (0x88e5), which lanwatch leaves alone.
    if link == LinkType::Ethernet
        && (innermost_ethertype(&theirs) != Some(ethertype) || walked_macsec(&theirs))
    {
        return;
    }
    match ours {
        Ok(decoded) => match decoded.network {
            Network::Ip(ip) => {
                assert_eq!((ip.src, ip.dst), (src, dst), "addresses differ");
                assert_eq!(ip.ip_len, ip_len, "IP length differs");
            }
            other => panic!("etherparse found IP, lanwatch found {other:?}"),
        },
        Err(e) => panic!("etherparse found a whole IP packet, lanwatch said {e}"),
    }
});

/// Addresses, IP length and the version's EtherType of an IP packet whose
/// length fields etherparse could use as they are.
fn whole_ip(packet: &LaxSlicedPacket<'_>) -> Option<(IpAddr, IpAddr, u32, u16)> {
    match packet.net.as_ref()? {
        LaxNetSlice::Ipv4(v4) => {
            let payload = v4.payload();
            let whole = !payload.incomplete && payload.len_source == LenSource::Ipv4HeaderTotalLen;
            let header = v4.header();
            whole.then(|| {
                (
                    IpAddr::from(header.source()),
                    IpAddr::from(header.destination()),
                    u32::from(header.total_len()),
                    0x0800,
                )
            })
        }
        LaxNetSlice::Ipv6(v6) => {
            let payload = v6.payload();
            let whole =
                !payload.incomplete && payload.len_source == LenSource::Ipv6HeaderPayloadLen;
            let header = v6.header();
            whole.then(|| {
                (
                    IpAddr::from(header.source()),
                    IpAddr::from(header.destination()),
                    40 + u32::from(header.payload_length()),
                    0x86dd,
                )
            })
        }
        LaxNetSlice::Arp(_) => None,
    }
}

fn walked_macsec(packet: &LaxSlicedPacket<'_>) -> bool {
    packet
        .link_exts
        .iter()
        .any(|ext| matches!(ext, LaxLinkExtSlice::Macsec(_)))
}

/// The EtherType after the Ethernet header and the VLAN tags etherparse
/// walked.
fn innermost_ethertype(packet: &LaxSlicedPacket<'_>) -> Option<u16> {
    if let Some(ext) = packet.link_exts.last() {
        return ext.payload().map(|p| p.ether_type.0);
    }
    match packet.link.as_ref()? {
        LinkSlice::Ethernet2(eth) => Some(eth.ether_type().0),
        _ => None,
    }
}
