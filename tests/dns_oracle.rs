//! The DNS decoder against two independent readings of the same bytes:
//! simple-dns (a Rust DNS library) and tshark (Wireshark's dissector), over
//! every DNS message (UDP/TCP port 53, mDNS port 5353) in the real
//! captures. Where simple-dns and lanwatch disagree on whether a message is
//! valid, the disagreement must fall in a known, named category.

mod proto_support;

use std::collections::{BTreeMap, HashMap};
use std::net::IpAddr;

use lanwatch::decode::dns::{DnsError, DnsMessage, Name, NAME_BUF_LEN};
use lanwatch::track::naming::dns_tcp::DnsTcpStream;
use proto_support::{all_captures, capture, read_frames, segment, tshark_fields, Proto, Skip};

const DNS_PORTS: [u16; 2] = [53, 5353];

/// A DNS message found in a capture, with the frame that completed it.
struct Found {
    frame: u32,
    bytes: Vec<u8>,
}

/// What the capture held besides DNS messages.
#[derive(Default)]
struct Extraction {
    messages: Vec<Found>,
    /// DNS-port frames without a usable payload, and why.
    skipped: BTreeMap<u32, Skip>,
}

type FlowKey = (IpAddr, u16, IpAddr, u16);

/// One direction of a TCP connection: the stream splitter and the next
/// sequence number expected (retransmissions are dropped, gaps reset).
struct TcpDir {
    stream: DnsTcpStream,
    next_seq: Option<u32>,
}

fn extract(path: &std::path::Path) -> Extraction {
    let mut out = Extraction::default();
    let mut tcp: HashMap<FlowKey, TcpDir> = HashMap::new();
    for frame in read_frames(path) {
        let seg = match segment(&frame) {
            Ok(s) => s,
            Err(skip) => {
                out.skipped.insert(frame.number, skip);
                continue;
            }
        };
        if !DNS_PORTS.contains(&seg.src_port) && !DNS_PORTS.contains(&seg.dst_port) {
            continue;
        }
        match seg.proto {
            Proto::Udp => {
                if !seg.payload.is_empty() {
                    out.messages.push(Found {
                        frame: frame.number,
                        bytes: seg.payload.to_vec(),
                    });
                }
            }
            Proto::Tcp => {
                let key = (seg.src, seg.src_port, seg.dst, seg.dst_port);
                let dir = tcp.entry(key).or_insert_with(|| TcpDir {
                    stream: DnsTcpStream::new(),
                    next_seq: None,
                });
                if seg.tcp_syn {
                    dir.stream.reset();
                    dir.next_seq = Some(seg.tcp_seq.wrapping_add(1));
                    continue;
                }
                if seg.payload.is_empty() {
                    continue;
                }
                if let Some(next) = dir.next_seq {
                    let ahead = seg.tcp_seq.wrapping_sub(next) as i32;
                    if ahead < 0 {
                        continue; // retransmission
                    }
                    if ahead > 0 {
                        dir.stream.reset(); // gap
                    }
                }
                dir.next_seq = Some(seg.tcp_seq.wrapping_add(seg.payload.len() as u32));
                let mut feed = dir.stream.feed(seg.payload);
                while let Some(m) = feed.next_message() {
                    out.messages.push(Found {
                        frame: frame.number,
                        bytes: m.to_vec(),
                    });
                }
            }
        }
    }
    out
}

fn render(name: &Name<'_>) -> Result<String, DnsError> {
    let mut buf = [0u8; NAME_BUF_LEN];
    let len = name.write_lower(&mut buf)?;
    Ok(String::from_utf8_lossy(&buf[..len]).into_owned())
}

/// A rendered name in tshark's presentation (Wireshark's `format_text`):
/// C escapes for the usual control characters, octal for the others.
fn tshark_style(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
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

/// Our reading of a message, as flat lists like tshark's fields.
#[derive(Default, Debug, Clone, PartialEq)]
struct Reading {
    ids: Vec<String>,
    responses: Vec<String>,
    rcodes: Vec<String>,
    qnames: Vec<String>,
    qtypes: Vec<String>,
    a: Vec<String>,
    aaaa: Vec<String>,
    /// The upper rcode bits of each OPT record.
    opt_ext_rcodes: Vec<String>,
    /// The first error met while walking the message.
    error: Option<DnsError>,
    /// Names that failed to render (question names included).
    name_errors: Vec<DnsError>,
}

fn read_message(bytes: &[u8], r: &mut Reading) {
    let Ok(msg) = DnsMessage::new_checked(bytes) else {
        r.error = Some(DnsError::Truncated {
            what: "header",
            offset: 0,
        });
        return;
    };
    r.ids.push(format!("{:#06x}", msg.id()));
    r.responses.push(if msg.qr() { "1" } else { "0" }.into());
    if msg.qr() {
        // tshark shows the rcode of responses only.
        r.rcodes.push(msg.rcode().to_string());
    }
    for q in msg.questions() {
        match q {
            Ok(q) => {
                let name = match render(&q.name) {
                    Ok(n) if n.is_empty() => "<root>".to_owned(),
                    Ok(n) => tshark_style(&n),
                    // tshark shows a placeholder and reads on.
                    Err(e @ DnsError::NameTooLong { .. }) => {
                        r.name_errors.push(e);
                        "<name too long>".to_owned()
                    }
                    // tshark gives up on the message at a bad pointer.
                    Err(e) => {
                        r.name_errors.push(e);
                        r.error.get_or_insert(e);
                        break;
                    }
                };
                r.qnames.push(name);
                r.qtypes.push(q.qtype.to_string());
            }
            Err(e) => {
                r.error.get_or_insert(e);
            }
        }
    }
    for rr in msg.records() {
        match rr {
            Ok(rr) => {
                if let Err(e) = rr.name.validate() {
                    r.name_errors.push(e);
                }
                if let Some(a) = rr.a() {
                    r.a.push(a.to_string());
                }
                if let Some(aaaa) = rr.aaaa() {
                    r.aaaa.push(aaaa.to_string());
                }
                if rr.rtype == lanwatch::decode::dns::rtype::OPT {
                    r.opt_ext_rcodes.push((rr.ttl >> 24).to_string());
                }
            }
            Err(e) => {
                r.error.get_or_insert(e);
            }
        }
    }
}

/// The kind of an error, without offsets.
fn kind(e: &DnsError) -> &'static str {
    match e {
        DnsError::Truncated { .. } => "Truncated",
        DnsError::BadLabel { .. } => "BadLabel",
        DnsError::ForwardPointer { .. } => "ForwardPointer",
        DnsError::PointerLoop { .. } => "PointerLoop",
        DnsError::NameTooLong { .. } => "NameTooLong",
    }
}

fn simple_dns_kind(e: &simple_dns::SimpleDnsError) -> String {
    let s = format!("{e:?}");
    s.split('(').next().unwrap_or(&s).to_owned()
}

/// Lower-cased labels joined by dots, as simple-dns's labels give them.
fn simple_name(name: &simple_dns::Name<'_>) -> String {
    let labels: Vec<String> = name
        .as_bytes()
        .map(|l| String::from_utf8_lossy(&l.to_ascii_lowercase()).into_owned())
        .collect();
    labels.join(".")
}

/// The header and question section of `bytes` alone (record counts set to
/// 0), so simple-dns can be asked about the questions when it refuses the
/// records.
fn header_and_questions(bytes: &[u8]) -> Option<Vec<u8>> {
    let msg = DnsMessage::new_checked(bytes).ok()?;
    let mut qs = msg.questions();
    for q in qs.by_ref() {
        q.ok()?;
    }
    let mut out = bytes.get(..qs.offset())?.to_vec();
    out[6..12].fill(0);
    Some(out)
}

/// Compares one message with simple-dns; returns the agreement category.
fn differential(bytes: &[u8], ours: &Reading) -> String {
    let theirs = simple_dns::Packet::parse(bytes);
    let our_err = ours.error.or(ours.name_errors.first().copied());
    match (&theirs, our_err) {
        (Ok(p), None) => {
            let msg = DnsMessage::new_checked(bytes).unwrap();
            assert_eq!(p.id(), msg.id());
            assert_eq!(
                p.has_flags(simple_dns::PacketFlag::RESPONSE),
                msg.qr(),
                "QR"
            );
            let has_opt = msg
                .records()
                .any(|r| r.is_ok_and(|r| r.rtype == lanwatch::decode::dns::rtype::OPT));
            if has_opt {
                // simple-dns 0.13 takes the extended rcode from the low TTL
                // byte of the OPT record instead of the high one (RFC 6891
                // §6.1.3); the OPT rcode is checked against tshark instead.
                assert_eq!(ours.opt_ext_rcodes.len(), 1);
            } else {
                assert_eq!(
                    p.rcode(),
                    simple_dns::RCODE::from(msg.extended_rcode().unwrap()),
                    "rcode"
                );
            }
            compare_questions(p, &msg);
            let ours: Vec<_> = msg.answers().map(Result::unwrap).collect();
            assert_eq!(p.answers.len(), ours.len());
            for (t, o) in p.answers.iter().zip(&ours) {
                assert_eq!(simple_name(&t.name), render(&o.name).unwrap());
                assert_eq!(u16::from(t.rdata.type_code()), o.rtype);
                match &t.rdata {
                    simple_dns::rdata::RData::A(a) => {
                        assert_eq!(o.a(), Some(std::net::Ipv4Addr::from(a.address)))
                    }
                    simple_dns::rdata::RData::AAAA(a) => {
                        assert_eq!(o.aaaa(), Some(std::net::Ipv6Addr::from(a.address)))
                    }
                    simple_dns::rdata::RData::CNAME(c) => {
                        assert_eq!(simple_name(&c.0), render(&o.cname().unwrap()).unwrap())
                    }
                    _ => {}
                }
            }
            "both accept, same reading".into()
        }
        (Err(e), None) => {
            // We accept what simple-dns refuses: its refusal must lie in
            // what we do not interpret (record types, classes, rdata, the Z
            // bit), so it must accept the same header and questions once
            // the records are cut off — unless the question itself has a
            // type or class it does not know.
            let kind = simple_dns_kind(e);
            if let Some(hq) = header_and_questions(bytes) {
                if let Ok(p) = simple_dns::Packet::parse(&hq) {
                    // Compared on the same cut-down bytes.
                    let msg = DnsMessage::new_checked(&hq).unwrap();
                    compare_questions(&p, &msg);
                    return format!("simple-dns refuses the records only: {kind}");
                }
            }
            format!("simple-dns refuses the header or a question: {kind}")
        }
        (Ok(_), Some(e)) => format!("lanwatch refuses, simple-dns accepts: {}", kind(&e)),
        (Err(t), Some(e)) => format!(
            "both refuse: lanwatch {}, simple-dns {}",
            kind(&e),
            simple_dns_kind(t)
        ),
    }
}

fn compare_questions(p: &simple_dns::Packet<'_>, msg: &DnsMessage<'_>) {
    let ours: Vec<_> = msg.questions().map(Result::unwrap).collect();
    assert_eq!(p.questions.len(), ours.len(), "question count");
    for (t, o) in p.questions.iter().zip(&ours) {
        assert_eq!(simple_name(&t.qname), render(&o.name).unwrap(), "qname");
        assert_eq!(u16::from(t.qtype), o.qtype, "qtype");
    }
}

/// The tshark fields compared, in `Reading` order.
const FIELDS: [&str; 10] = [
    "dns.id",
    "dns.flags.response",
    "dns.flags.rcode",
    "dns.qry.name",
    "dns.qry.type",
    "dns.a",
    "dns.aaaa",
    "frame.protocols",
    "dns.resp.ext_rcode",
    "_ws.malformed",
];

const TSHARK_FILTER: &str =
    "(dns || mdns) && (udp.port == 53 || udp.port == 5353 || tcp.port == 53 || tcp.port == 5353)";

/// Splits a tshark aggregate ("a,b") into its values.
fn split(v: &str) -> Vec<String> {
    if v.is_empty() {
        Vec::new()
    } else {
        v.split(',').map(str::to_owned).collect()
    }
}

/// tshark's values against ours. Where we stopped at an error, tshark
/// (which reads on past some errors) may have more: ours must be a prefix.
#[derive(Clone, Copy)]
enum Stop {
    /// Whether we stopped at an error (then ours may be a prefix of tshark's).
    Ours(bool),
    /// tshark flagged the message malformed: either may be the prefix.
    Either,
}

fn same(tshark: &[String], ours: &[String], stop: Stop, ctx: &str, what: &str) {
    let prefix_agrees = ours.iter().zip(tshark).all(|(o, t)| o == t);
    let ok = match stop {
        Stop::Ours(false) => ours == tshark,
        Stop::Ours(true) => ours.len() <= tshark.len() && prefix_agrees,
        Stop::Either => prefix_agrees,
    };
    assert!(ok, "{ctx}: {what}: tshark {tshark:?}, lanwatch {ours:?}");
}

struct Outcome {
    categories: BTreeMap<String, usize>,
    messages: usize,
    tshark_frames_matched: usize,
}

/// Checks every DNS message of one capture against simple-dns and tshark.
fn check_capture(path: &std::path::Path) -> Outcome {
    let ex = extract(path);
    let mut categories = BTreeMap::new();
    let mut by_frame: BTreeMap<u32, Reading> = BTreeMap::new();
    for m in &ex.messages {
        let mut one = Reading::default();
        read_message(&m.bytes, &mut one);
        let cat = differential(&m.bytes, &one);
        *categories.entry(cat).or_insert(0) += 1;
        let row = by_frame.entry(m.frame).or_default();
        row.ids.extend(one.ids);
        row.responses.extend(one.responses);
        row.rcodes.extend(one.rcodes);
        row.qnames.extend(one.qnames);
        row.qtypes.extend(one.qtypes);
        row.a.extend(one.a);
        row.aaaa.extend(one.aaaa);
        row.opt_ext_rcodes.extend(one.opt_ext_rcodes);
        row.name_errors.extend(one.name_errors);
        if row.error.is_none() {
            row.error = one.error;
        }
    }
    let tshark = tshark_fields(path, TSHARK_FILTER, &FIELDS);
    let mut matched = 0;
    for (frame, cols) in &tshark {
        let Some(ours) = by_frame.get(frame) else {
            // tshark reassembles IP fragments and reads the packet quoted
            // in an ICMP error; this test's extraction does neither.
            let explained = match ex.skipped.get(frame) {
                Some(Skip::Fragment) => true,
                Some(Skip::NotUdpTcp) => cols[7].contains(":icmp"),
                _ => false,
            };
            assert!(
                explained,
                "{}: frame {frame} is DNS to tshark ({cols:?}) but gave no message here ({:?})",
                path.display(),
                ex.skipped.get(frame)
            );
            continue;
        };
        let ctx = format!("{} frame {frame}", path.display());
        // Where tshark gives up on a malformed message it may have read less
        // than we did (or more, where we stopped first): the values both
        // produced must agree.
        let stopped = if cols[9].is_empty() {
            Stop::Ours(ours.error.is_some())
        } else {
            Stop::Either
        };
        // A message shorter than its header is refused whole; tshark shows
        // the header fields it has.
        same(&split(&cols[0]), &ours.ids, stopped, &ctx, "id");
        same(&split(&cols[1]), &ours.responses, stopped, &ctx, "QR");
        same(&split(&cols[2]), &ours.rcodes, stopped, &ctx, "rcode");
        same(
            &split(&cols[3].to_lowercase()),
            &ours.qnames,
            stopped,
            &ctx,
            "question names",
        );
        same(
            &split(&cols[4]),
            &ours.qtypes,
            stopped,
            &ctx,
            "question types",
        );
        same(&split(&cols[5]), &ours.a, stopped, &ctx, "A addresses");
        same(
            &split(&cols[6]),
            &ours.aaaa,
            stopped,
            &ctx,
            "AAAA addresses",
        );
        let ext: Vec<String> = split(&cols[8])
            .iter()
            .map(|v| {
                u32::from_str_radix(v.trim_start_matches("0x"), 16)
                    .unwrap()
                    .to_string()
            })
            .collect();
        same(
            &ext,
            &ours.opt_ext_rcodes,
            stopped,
            &ctx,
            "OPT extended rcode",
        );
        matched += 1;
    }
    for (frame, ours) in &by_frame {
        // A payload shorter than a DNS header shows no DNS fields in tshark.
        assert!(
            tshark.contains_key(frame) || ours.ids.is_empty(),
            "{}: frame {frame} gave a DNS message here but tshark shows none",
            path.display()
        );
    }
    Outcome {
        categories,
        messages: ex.messages.len(),
        tshark_frames_matched: matched,
    }
}

#[test]
fn every_dns_message_in_the_real_captures_agrees_with_simple_dns_and_tshark() {
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    let mut messages = 0;
    let mut frames = 0;
    for path in all_captures() {
        let o = check_capture(&path);
        messages += o.messages;
        frames += o.tshark_frames_matched;
        for (k, v) in o.categories {
            *totals.entry(k).or_insert(0) += v;
        }
    }
    eprintln!("{messages} DNS messages, {frames} frames checked against tshark");
    for (k, v) in &totals {
        eprintln!("{v:6}  {k}");
    }
    assert!(
        messages > 1000,
        "the captures hold over a thousand DNS messages"
    );
    // Every disagreement with simple-dns must be one we can explain:
    // - simple-dns refuses question types and classes it has no name for,
    //   and a set Z bit (InvalidHeaderData); lanwatch keeps their numbers;
    // - it refuses rdata it cannot interpret; lanwatch reads rdata only for
    //   A/AAAA/CNAME-like records, so it must then agree on the questions;
    // - it follows a pointer to any earlier offset; lanwatch only to one
    //   before the run of labels the pointer ends, which is what makes every
    //   chain terminate, and calls a pointer back into its own run a loop.
    for k in totals.keys() {
        let explained = k == "both accept, same reading"
            || k.starts_with("both refuse")
            || k.starts_with("simple-dns refuses the records only")
            || k == "simple-dns refuses the header or a question: InvalidQType"
            || k == "simple-dns refuses the header or a question: InvalidClass"
            || k == "simple-dns refuses the header or a question: InvalidQClass"
            || k == "simple-dns refuses the header or a question: InvalidHeaderData"
            || k == "lanwatch refuses, simple-dns accepts: PointerLoop";
        assert!(explained, "unexplained disagreement with simple-dns: {k}");
    }
    assert!(totals["both accept, same reading"] > 1000);
}

fn messages_of(rel: &str) -> Vec<(u32, Vec<u8>)> {
    extract(&capture(rel))
        .messages
        .into_iter()
        .map(|m| (m.frame, m.bytes))
        .collect()
}

#[test]
fn tcp_pipelined_queries_give_twenty_messages() {
    // suricata-verify's multirequest test: 20 queries sent back to back in
    // one connection, each answered NXDOMAIN.
    let msgs = messages_of("suricata-verify/dns-tcp-multirequest-buffer.pcap");
    let queries: Vec<_> = msgs
        .iter()
        .filter(|(_, b)| !DnsMessage::new_checked(b).unwrap().qr())
        .collect();
    let responses: Vec<_> = msgs
        .iter()
        .map(|(_, b)| DnsMessage::new_checked(b).unwrap())
        .filter(|m| m.qr())
        .collect();
    assert_eq!(queries.len(), 20);
    assert_eq!(responses.len(), 20);
    assert!(responses.iter().all(|m| m.rcode() == 3));
    check_capture(&capture("suricata-verify/dns-tcp-multirequest-buffer.pcap"));
}

#[test]
fn tcp_query_and_response_from_tcpdump() {
    let msgs = messages_of("tcpdump/dns_tcp.pcap");
    assert_eq!(msgs.len(), 2);
    check_capture(&capture("tcpdump/dns_tcp.pcap"));
}

#[test]
fn malformed_captures_give_errors_not_panics() {
    // nDPI: answers and CNAMEs longer than 255 bytes.
    let mut too_long = 0;
    for (_, b) in messages_of("ndpi/malformed_dns.pcap") {
        let mut r = Reading::default();
        read_message(&b, &mut r);
        too_long += r
            .name_errors
            .iter()
            .chain(&r.error)
            .filter(|e| matches!(e, DnsError::NameTooLong { .. }))
            .count();
    }
    assert!(too_long > 0, "malformed_dns.pcap has over-long names");
    check_capture(&capture("ndpi/malformed_dns.pcap"));

    // tcpdump: an invalid label type (0x40/0x80) in a 63 KB response.
    let msgs = messages_of("tcpdump/dns-badlabel.pcap");
    assert_eq!(msgs.len(), 1);
    let mut r = Reading::default();
    read_message(&msgs[0].1, &mut r);
    let all: Vec<_> = r.error.iter().chain(&r.name_errors).collect();
    assert!(
        all.iter().any(|e| matches!(e, DnsError::BadLabel { .. })),
        "{all:?}"
    );
    let msg = DnsMessage::new_checked(&msgs[0].1).unwrap();
    assert_eq!(msg.rcode(), 15);
    assert!(msg.tc());

    // Wireshark's fuzz capture: randomly corrupted packets.
    check_capture(&capture("ndpi/fuzz-2006-06-26-2594.pcap"));
}
