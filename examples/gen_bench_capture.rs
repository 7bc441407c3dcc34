//! Builds large, deterministic capture files for the benchmarks (the
//! generator itself is `benches/common/gen.rs`; see it for the mixes).
//!
//! ```text
//! cargo run --release --example gen_bench_capture -- home  OUT.pcap [--packets N] [--flows N] [--snaplen S]
//! cargo run --release --example gen_bench_capture -- macs  OUT.pcap [--packets N]
//! cargo run --release --example gen_bench_capture -- names OUT.pcap [--packets N] [--clients N]
//! cargo run --release --example gen_bench_capture -- scrape OUT.pcap [--clients N]
//! ```

use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::process::ExitCode;

#[path = "../benches/common/gen.rs"]
mod gen;

use gen::{home, mac_flood, name_flood, scrape_mix, Writer};

// ---- command line -------------------------------------------------------------

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let usage = "usage: gen_bench_capture home|macs|names|scrape OUT.pcap [--packets N] [--snaplen S] [--flows N] [--clients N]";
    let (Some(kind), Some(out)) = (args.first(), args.get(1)) else {
        eprintln!("{usage}");
        return ExitCode::FAILURE;
    };
    let mut packets: u64 = 4_000_000;
    let mut snaplen: usize = 262_144;
    let mut clients: usize = 512;
    let mut flows: u64 = 20_000;
    let mut rest = args.iter().skip(2);
    while let Some(flag) = rest.next() {
        let value = rest
            .next()
            .and_then(|v| v.replace('_', "").parse::<u64>().ok());
        match (flag.as_str(), value) {
            ("--packets", Some(v)) => packets = v,
            ("--snaplen", Some(v)) => snaplen = v as usize,
            ("--clients", Some(v)) => clients = v.max(1) as usize,
            ("--flows", Some(v)) => flows = v.max(1),
            _ => {
                eprintln!("{usage}");
                return ExitCode::FAILURE;
            }
        }
    }
    let file = File::create(out).map(|f| BufWriter::with_capacity(1 << 20, f));
    let result = file
        .and_then(|f| Writer::new(f, snaplen))
        .and_then(|mut w| {
            match kind.as_str() {
                "home" => home(&mut w, packets, flows)?,
                "macs" => mac_flood(&mut w, packets)?,
                "names" => name_flood(&mut w, packets, clients)?,
                "scrape" => scrape_mix(&mut w, clients as u32)?,
                other => {
                    return Err(io::Error::new(
                        io::ErrorKind::InvalidInput,
                        format!("unknown capture kind {other:?}"),
                    ))
                }
            }
            w.out.flush()?;
            Ok(w.packets)
        });
    match result {
        Ok(n) => {
            eprintln!("{out}: {n} frames");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("gen_bench_capture: {out}: {e}");
            ExitCode::FAILURE
        }
    }
}
