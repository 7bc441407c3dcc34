//! Any bytes read as a capture file: the reader must end with frames, `End`
//! or an error — never a panic, a hang or an allocation sized by the input.
#![no_main]
use lanwatch::capture::file::{CaptureFile, MAX_CAPLEN};
use lanwatch::capture::{CaptureError, Next, Source};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(mut file) = CaptureFile::from_reader("fuzz input", data) else {
        return;
    };
    let mut checksum = 0u8;
    loop {
        match file.next_frame() {
            Ok(Next::Frame(frame)) => {
                assert!(frame.data.len() <= MAX_CAPLEN as usize);
                assert!(frame.data.len() <= data.len());
                checksum = frame.data.iter().fold(checksum, |acc, b| acc ^ b);
            }
            Ok(Next::Idle) => panic!("a capture file never idles"),
            Ok(Next::End) => break,
            // Reading goes on after a packet on an unsupported interface.
            Err(CaptureError::UnsupportedInterfaceLinkType { .. }) => {}
            Err(_) => {
                // After any other error the file is finished.
                assert!(matches!(file.next_frame(), Ok(Next::End)));
                break;
            }
        }
        assert!(file.offset() <= data.len() as u64);
    }
    std::hint::black_box(checksum);
});
