//! Fuzzes the ClientHello decoder: one-shot parse, then the same bytes
//! pushed into the assembler in pseudo-random chunks. Whenever the one-shot
//! parse reads a hello, the assembler must read the same one.
#![no_main]
use libfuzzer_sys::fuzz_target;

use lanwatch::decode::tls::{parse_client_hello, ClientHello, Parsed};
use lanwatch::track::naming::tls_hello::ClientHelloAssembler;

/// What we compare between two readings of a hello: the server name, the
/// ALPN list, whether it has supported_versions, and those versions.
type Summary = (Option<Vec<u8>>, Option<Vec<Vec<u8>>>, bool, Vec<u16>);

fn summary(h: &ClientHello<'_>) -> Summary {
    (
        h.server_name().map(<[u8]>::to_vec),
        h.alpn().map(|a| a.iter().map(<[u8]>::to_vec).collect()),
        h.has_supported_versions(),
        h.supported_versions().collect(),
    )
}

fuzz_target!(|data: &[u8]| {
    let Some((&seed, payload)) = data.split_first() else {
        return;
    };
    let one_shot = match parse_client_hello(payload) {
        Ok(Parsed::Hello(h)) => {
            let _ = h.cipher_suite_list().count();
            let _ = h.extension_list().count();
            let _ = format!("{h:?}");
            Some(summary(&h))
        }
        Ok(Parsed::Incomplete { needed }) => {
            assert!(needed <= payload.len() + 16 * 1024 * 1024);
            None
        }
        _ => None,
    };
    let mut asm = ClientHelloAssembler::new();
    let mut rest = payload;
    let mut state = u32::from(seed) | 1;
    let mut assembled = None;
    while !rest.is_empty() {
        state = state.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        let n = (1 + (state >> 16) as usize % 200).min(rest.len());
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        match asm.push(chunk) {
            Ok(Parsed::Hello(h)) => {
                assembled = Some(summary(&h));
                break;
            }
            Ok(Parsed::Incomplete { .. }) => {}
            Ok(Parsed::Sslv2) | Err(_) => break,
        }
        assert!(asm.buffered() <= 16 * 1024);
    }
    if let Some(one) = one_shot {
        assert_eq!(Some(one), assembled);
    }
});
