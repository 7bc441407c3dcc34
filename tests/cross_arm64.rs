//! The arm64 build runs: `scripts/cross-arm64` builds lanwatch for
//! aarch64-unknown-linux-musl, replays the sample capture under
//! qemu-aarch64 and compares its table, Prometheus and JSON output with this
//! build's, byte for byte (process-specific figures masked). A difference
//! between the architectures — endianness, word size, float formatting —
//! fails here.
//!
//! The cross build uses a target directory of its own, so it neither waits
//! for nor invalidates the test build's.

mod common;

use std::process::Command;

use common::*;

#[test]
fn aarch64_replay_prints_what_x86_64_prints() {
    let target_dir = root().join("target/cross-arm64");
    let out = Command::new(root().join("scripts/cross-arm64"))
        .env("LANWATCH_X86_BIN", env!("CARGO_BIN_EXE_lanwatch"))
        .env("CARGO_TARGET_DIR", &target_dir)
        .output()
        .expect("run scripts/cross-arm64");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "scripts/cross-arm64 failed:\n{stdout}\n{}",
        stderr
            .lines()
            .rev()
            .take(40)
            .collect::<Vec<_>>()
            .into_iter()
            .rev()
            .collect::<Vec<_>>()
            .join("\n")
    );
    for format in ["table", "prom", "json"] {
        assert!(
            stdout.contains(&format!("== {format}: aarch64 output equals x86-64 output")),
            "{format} not compared:\n{stdout}"
        );
    }
    assert!(stdout.contains("ARM aarch64"), "{stdout}");
}
