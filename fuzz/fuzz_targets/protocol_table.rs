//! Any text as a `--protocols` file: it is read or refused with an error
//! naming a line of the text — never a panic — and a table that was read
//! classifies every (protocol, ports) pair to a name it holds, with at most
//! 256 names (each is a label value on every client).
#![no_main]
use std::sync::OnceLock;

use lanwatch::track::ProtocolTable;
use libfuzzer_sys::fuzz_target;

/// The built-in table, parsed once: each run extends a copy of it, as a
/// `--protocols` file extends the defaults.
fn builtin() -> &'static ProtocolTable {
    static TABLE: OnceLock<ProtocolTable> = OnceLock::new();
    TABLE.get_or_init(ProtocolTable::default)
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let mut table = builtin().clone();
    match table.extend_from_str("fuzz", text) {
        Ok(()) => {}
        Err(e) => {
            assert!(e.line >= 1 && e.line <= text.lines().count().max(1));
            assert!(!e.to_string().contains('\n'), "errors are one line");
        }
    }
    assert!(table.names().len() <= 256);
    // Whatever was read, classification stays total.
    for (proto, ports) in [
        (6u8, Some((443u16, 50000u16))),
        (17, Some((53, 53))),
        (17, Some((0, 65535))),
        (1, None),
        (58, None),
        (255, Some((65535, 0))),
    ] {
        let id = table.classify(proto, ports);
        let name = table.name(id);
        assert_eq!(table.id(name), Some(id));
    }
    // The first bytes as ports, for the rules just read.
    if let [p, a, b, c, d, ..] = data {
        let ports = (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]));
        let id = table.classify(*p, Some(ports));
        let _ = table.name(id);
    }
});
