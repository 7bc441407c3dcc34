//! Any text as `/etc/config/lanwatch`: the UCI parser and the settings
//! built from it either accept it or refuse it with errors that name a line
//! and an option — never a panic, never an error message over one line.
#![no_main]
use lanwatch::config::{uci, Settings};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Err(e) = uci::parse(text) {
        assert!(!e.to_string().contains('\n'), "one line: {e}");
    }
    match Settings::from_text(text) {
        Ok(_) => {}
        Err(errors) => {
            assert!(!errors.is_empty());
            for e in errors {
                assert!(!e.to_string().contains('\n'), "one line: {e}");
            }
        }
    }
});
