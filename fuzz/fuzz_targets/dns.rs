//! Fuzzes the DNS decoder: every question, record and name of a message is
//! read and rendered; the question section is checked against simple-dns;
//! and the same bytes, split into chunks, go through the TCP stream
//! splitter, which must cut out the same messages as a plain loop.
//!
//! Inputs are capped at what DNS can carry (a message read whole is at
//! most 65535 bytes, the splitter gets one at most with its 2-byte length
//! and the target's seed byte); `scripts/fuzz` keeps them far smaller
//! (`fuzz/options/dns.options`), where the decoder's paths are the same
//! and runs are fast.
#![no_main]
use libfuzzer_sys::fuzz_target;

use lanwatch::decode::dns::{
    qtype_name, rcode_name, DnsError, DnsMessage, Name, MAX_TCP_MESSAGE_LEN, NAME_BUF_LEN,
};
use lanwatch::track::naming::dns_tcp::DnsTcpStream;

/// The largest DNS message: its length is a 16-bit field over TCP, and a
/// UDP payload is smaller still.
const MAX_MESSAGE: usize = MAX_TCP_MESSAGE_LEN;

fn render(name: &Name<'_>) -> Result<Vec<u8>, DnsError> {
    let mut buf = [0u8; NAME_BUF_LEN];
    let len = name.write_lower(&mut buf)?;
    assert!(len <= 253);
    for label in name.labels() {
        let label = label.expect("labels fail where rendering fails");
        assert!(!label.is_empty() && label.len() <= 63);
    }
    assert!(name.eq_ignore_case(name)?);
    Ok(buf[..len].to_vec())
}

fn read_all(data: &[u8]) {
    let Ok(msg) = DnsMessage::new_checked(data) else {
        assert!(data.len() < 12);
        return;
    };
    let _ = (
        msg.id(),
        msg.opcode(),
        msg.aa(),
        msg.tc(),
        msg.rd(),
        msg.ra(),
    );
    let _ = rcode_name(u16::from(msg.rcode())).to_string();
    let _ = msg.extended_rcode();
    let mut questions = Vec::new();
    let mut structural = None;
    for q in msg.questions() {
        match q {
            Ok(q) => {
                let _ = qtype_name(q.qtype).to_string();
                questions.push((render(&q.name), q.qtype));
            }
            Err(e) => structural = Some(e),
        }
    }
    for r in msg.records() {
        let Ok(r) = r else { break };
        let _ = render(&r.name);
        let _ = (r.a(), r.aaaa(), r.ip());
        if let Some(t) = r.target_name() {
            let _ = render(&t);
        }
        assert!(r.rdata_offset + r.rdata.len() <= data.len());
    }
    differential(data, &msg, &questions, structural);
}

/// simple-dns must read the header and questions as we do. It is given the
/// header and question section only (record counts zeroed), so that rdata
/// it refuses and we do not interpret does not hide the questions.
///
/// One divergence is by design: simple-dns accepts a pointer to any earlier
/// offset, lanwatch only one before the run of labels the pointer ends
/// (the rule that makes every chain terminate), so a pointer back into its
/// own run is refused here as PointerLoop even where simple-dns finds a name.
fn differential(
    data: &[u8],
    msg: &DnsMessage<'_>,
    questions: &[(Result<Vec<u8>, DnsError>, u16)],
    structural: Option<DnsError>,
) {
    if structural.is_some() {
        return;
    }
    let mut qs = msg.questions();
    for q in qs.by_ref() {
        q.unwrap();
    }
    let mut hq = data[..qs.offset()].to_vec();
    hq[6..12].fill(0);
    let Ok(p) = simple_dns::Packet::parse(&hq) else {
        return;
    };
    // Both read the same cut-down bytes (a name may point into the counts
    // that were zeroed).
    let msg = DnsMessage::new_checked(&hq).unwrap();
    assert_eq!(p.id(), msg.id());
    assert_eq!(p.has_flags(simple_dns::PacketFlag::RESPONSE), msg.qr());
    assert_eq!(p.questions.len(), questions.len());
    for (t, q) in p.questions.iter().zip(msg.questions()) {
        let q = q.unwrap();
        let ours = match render(&q.name) {
            Ok(n) => n,
            Err(DnsError::PointerLoop { .. }) => continue,
            Err(e) => panic!("simple-dns accepted a name lanwatch refuses: {e}"),
        };
        let theirs: Vec<Vec<u8>> = t.qname.as_bytes().map(|l| l.to_ascii_lowercase()).collect();
        assert_eq!(ours, theirs.join(&b'.'));
        assert_eq!(u16::from(t.qtype), q.qtype);
    }
}

/// The messages of a length-prefixed stream, cut by a plain loop.
fn reference_split(stream: &[u8]) -> Vec<&[u8]> {
    let mut out = Vec::new();
    let mut pos = 0;
    while pos + 2 <= stream.len() {
        let len = u16::from_be_bytes([stream[pos], stream[pos + 1]]) as usize;
        if pos + 2 + len > stream.len() {
            break;
        }
        out.push(&stream[pos + 2..pos + 2 + len]);
        pos += 2 + len;
    }
    out
}

fn tcp_split(data: &[u8]) {
    let Some((&seed, stream)) = data.split_first() else {
        return;
    };
    let mut stream_rx = DnsTcpStream::new();
    let mut got: Vec<Vec<u8>> = Vec::new();
    let mut rest = stream;
    let mut state = u32::from(seed) | 1;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (state >> 16) as usize % 64).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        let mut feed = stream_rx.feed(chunk);
        while let Some(m) = feed.next_message() {
            got.push(m.to_vec());
        }
        drop(feed);
        rest = tail;
    }
    let want: Vec<Vec<u8>> = reference_split(stream)
        .into_iter()
        .map(<[u8]>::to_vec)
        .collect();
    assert_eq!(got, want);
    assert_eq!(stream_rx.stats().oversized, 0);
}

fuzz_target!(|data: &[u8]| {
    if data.len() <= MAX_MESSAGE {
        read_all(data);
    }
    // The seed byte, the length prefix, one whole message.
    if data.len() <= 1 + 2 + MAX_MESSAGE {
        tcp_split(data);
    }
});
