//! Any text as a `--web-config` file: read or refused with an error of one
//! line — never a panic. A file that was read only holds bcrypt hashes and
//! TLS files that were both named; and any `Authorization` header decodes
//! to credentials or to nothing.
#![no_main]
use std::path::Path;

use lanwatch::export::webconfig::{BasicAuth, WebConfig};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = BasicAuth::credentials(data);
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match WebConfig::parse("fuzz.yml", text, Path::new("/etc/lanwatch")) {
        Ok(config) => {
            for hash in config.users.values() {
                assert!(hash.parse::<bcrypt::HashParts>().is_ok());
            }
            for user in config.users.keys() {
                assert!(!user.contains(':'));
            }
            if let Some(tls) = &config.tls {
                assert!(tls.cert_file.starts_with("/") && tls.key_file.starts_with("/"));
            }
        }
        Err(e) => assert!(!e.to_string().contains('\n'), "errors are one line: {e}"),
    }
});
