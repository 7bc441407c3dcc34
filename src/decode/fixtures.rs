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
