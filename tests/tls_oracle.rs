//! The ClientHello decoder against tshark: the SNI of every TLS-over-TCP
//! ClientHello in the TLS captures, including one split over two TCP
//! segments (which needs the assembler).

mod proto_support;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use lanwatch::decode::tls::{parse_client_hello, Parsed};
use lanwatch::track::naming::tls_hello::ClientHelloAssembler;
use proto_support::{capture, read_frames, segment, tshark_fields, Proto};

/// What a client flow's first bytes turned out to be.
enum FlowState {
    /// Waiting for more segments of a ClientHello.
    Assembling(ClientHelloAssembler, u32),
    /// Decided (a hello was read, or the flow is not TLS).
    Done,
}

#[derive(Debug, PartialEq, Eq)]
enum Seen {
    /// SNI (empty without one), and whether the assembler was needed.
    Hello {
        sni: String,
        assembled: bool,
    },
    Sslv2,
}

/// The ClientHellos of a capture, keyed by the frame that completed them.
fn client_hellos(path: &std::path::Path) -> BTreeMap<u32, Seen> {
    let mut flows: HashMap<(IpAddr, u16, IpAddr, u16), FlowState> = HashMap::new();
    let mut out = BTreeMap::new();
    for frame in read_frames(path) {
        let Ok(seg) = segment(&frame) else { continue };
        if seg.proto != Proto::Tcp || seg.payload.is_empty() {
            continue;
        }
        let key = (seg.src, seg.src_port, seg.dst, seg.dst_port);
        let sni = |p: &Parsed<'_>, assembled| match p {
            Parsed::Hello(h) => Some(Seen::Hello {
                sni: String::from_utf8_lossy(h.server_name().unwrap_or_default()).into_owned(),
                assembled,
            }),
            Parsed::Sslv2 => Some(Seen::Sslv2),
            Parsed::Incomplete { .. } => None,
        };
        match flows.get_mut(&key) {
            None => match parse_client_hello(seg.payload) {
                Ok(Parsed::Incomplete { .. }) => {
                    let mut asm = ClientHelloAssembler::new();
                    match asm.push(seg.payload) {
                        Ok(p) => match sni(&p, true) {
                            Some(s) => {
                                out.insert(frame.number, s);
                                flows.insert(key, FlowState::Done);
                            }
                            None => {
                                let next = seg.tcp_seq.wrapping_add(seg.payload.len() as u32);
                                flows.insert(key, FlowState::Assembling(asm, next));
                            }
                        },
                        Err(_) => {
                            flows.insert(key, FlowState::Done);
                        }
                    }
                }
                Ok(p) => {
                    out.insert(frame.number, sni(&p, false).unwrap());
                    flows.insert(key, FlowState::Done);
                }
                Err(_) => {
                    flows.insert(key, FlowState::Done);
                }
            },
            Some(FlowState::Assembling(asm, next)) => {
                if seg.tcp_seq != *next {
                    continue; // retransmission or out of order
                }
                *next = seg.tcp_seq.wrapping_add(seg.payload.len() as u32);
                match asm.push(seg.payload) {
                    Ok(p) => {
                        if let Some(s) = sni(&p, true) {
                            out.insert(frame.number, s);
                            flows.insert(key, FlowState::Done);
                        }
                    }
                    Err(_) => {
                        flows.insert(key, FlowState::Done);
                    }
                }
            }
            Some(FlowState::Done) => {}
        }
    }
    out
}

fn check(rel: &str) -> BTreeMap<u32, Seen> {
    let path = capture(rel);
    let tshark = tshark_fields(
        &path,
        "tcp && tls.handshake.type == 1",
        &["tls.handshake.extensions_server_name"],
    );
    let ours = client_hellos(&path);
    let hellos: BTreeMap<u32, String> = ours
        .iter()
        .filter_map(|(f, s)| match s {
            Seen::Hello { sni, .. } => Some((*f, sni.clone())),
            Seen::Sslv2 => None,
        })
        .collect();
    let theirs: BTreeMap<u32, String> =
        tshark.into_iter().map(|(f, v)| (f, v[0].clone())).collect();
    assert_eq!(hellos, theirs, "{rel}: ClientHello frames and SNI");
    assert!(!hellos.is_empty(), "{rel} has ClientHellos");
    ours
}

#[test]
fn sni_of_every_client_hello_in_443_git() {
    check("ndpi/443-git.pcap");
}

#[test]
fn sni_of_every_client_hello_of_an_iphone() {
    let ours = check("ndpi/iphone.pcap");
    assert!(ours.len() > 10);
}

#[test]
fn sni_over_ipv6() {
    check("ndpi/http_ipv6.pcap");
}

#[test]
fn client_hello_split_over_two_segments_is_assembled() {
    let ours = check("arkime/tls-split-client-hello.pcap");
    assert_eq!(
        ours.values().collect::<Vec<_>>(),
        [&Seen::Hello {
            sni: "clients2.google.com".into(),
            assembled: true
        }]
    );
}

#[test]
fn sslv2_compatible_hello_over_pppoe_is_not_an_error() {
    let ours = client_hellos(&capture("arkime/pppoe.pcap"));
    assert!(ours.values().any(|s| *s == Seen::Sslv2), "{ours:?}");
}
