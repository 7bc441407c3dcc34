//! Test fixtures shared by the parsers' and the tracker's unit tests:
//! real packet bytes written as hex, and the helper that reads them.

/// The bytes a hex string spells (test data: panics on bad hex).
pub(crate) fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

/// tcpdump's `dhcp-mud.pcap`, frame 1: a Raspberry Pi's relayed REQUEST.
pub(crate) const MUD_REQUEST: &str = concat!(
    "01010601068c4847000000003e0cad7b00000000000000003e0cad79b827ebb853c8",
    "00000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "0000000000000000000000000000000000000000000000000000000000000000",
    "63825363",
    "350103",
    "3d0701b827ebb853c8",
    "390205c0",
    "a13668747470733a2f2f6d756463746c2e6578616d706c652e636f6d2f2e77656c6c2d6b6e6f776e2f6d75642f76312f726173627031303",
    "13c2d6468637063642d362e31312e353a4c696e75782d342e312e31382d76372b3a61726d76376c3a42434d32373039",
    "0c0b7261737062657272797069",
    "910101",
    "371001792103060c0f1c2a33363a3b646577",
    "ff"
);

/// Decodes a frame that was captured whole (its wire length is what was
/// captured).
pub(crate) fn decode_whole(
    link: super::LinkType,
    data: &[u8],
) -> Result<super::Decoded<'_>, super::DecodeError> {
    super::decode_frame(link, data, u32::try_from(data.len()).unwrap())
}

/// The IP packet of an Ethernet frame captured whole (test data: panics if
/// it is not IP).
pub(crate) fn ip_packet(frame: &[u8]) -> super::IpPacket<'_> {
    ip_packet_cut(frame, u32::try_from(frame.len()).unwrap())
}

/// The IP packet of an Ethernet frame that was `wire_len` bytes on the wire,
/// of which the snaplen kept `frame` (test data: panics if it is not IP).
pub(crate) fn ip_packet_cut(frame: &[u8], wire_len: u32) -> super::IpPacket<'_> {
    match super::decode_frame(super::LinkType::Ethernet, frame, wire_len) {
        Ok(super::Decoded {
            network: super::Network::Ip(packet),
            ..
        }) => packet,
        other => panic!("not IP: {other:?}"),
    }
}

/// nDPI's `443-git.pcap`, frame 4: a TLS 1.2 ClientHello for
/// github.com (SNI) offering ALPN http/1.1, padded to 512 bytes.
pub(crate) fn github_client_hello() -> Vec<u8> {
    let mut h = hex(concat!(
        "1603010200010001fc03035059421aa24aec88bf1712cc29f280e7f1240d36210c2fc6c4a2c0538a17",
        "11ca000086cc14cc13cc15c030c02cc028c024c014c00a00a3009f006b006a00390038ff8500c400c3",
        "008800870081c032c02ec02ac026c00fc005009d003d003500c00084c02fc02bc027c023c013c00900",
        "a2009e006700400033003200be00bd00450044c031c02dc029c025c00ec004009c003c002f00ba0041",
        "c012c00800160013c00dc003000a00ff0100014d0000000f000d00000a6769746875622e636f6d000b",
        "000403000102000a003a0038000e000d0019001c000b000c001b00180009000a001a00160017000800",
        "060007001400150004000500120013000100020003000f00100011000d0026002406010602060",
        "3efef050105020503040104020403eeeeeded030103020303020102020203337400000010000b0009",
        "08687474702f312e31001500b3"
    ));
    // The padding extension's 0xb3 zero bytes.
    h.extend(std::iter::repeat(0u8).take(0xb3));
    h
}

/// Re-frames a single-record hello into records of at most `size` bytes.
pub(crate) fn split_tls_records(bytes: &[u8], size: usize) -> Vec<u8> {
    let mut out = Vec::new();
    for piece in bytes[5..].chunks(size) {
        out.extend_from_slice(&[22, 3, 1]);
        out.extend_from_slice(&(piece.len() as u16).to_be_bytes());
        out.extend_from_slice(piece);
    }
    out
}
