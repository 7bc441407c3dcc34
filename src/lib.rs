//! lanwatch: a per-client network monitor for routers.
//!
//! The crate follows the data flow of the design: `capture` yields frames,
//! `decode` turns them into zero-copy views, `track` keeps the bounded
//! per-client state, and `export` renders snapshots of that state.
//! `pipeline` ties the four together so live capture and replay share one path;
//! `report` turns the history Prometheus kept into the daily Markdown report;
//! `config` reads the OpenWrt configuration and `privileges` drops root once
//! the sockets are open; `state_file` saves the counters across restarts;
//! `rpcd` is the LuCI backend on the router; `files` opens the files a user
//! names (regular files only, never blocking on a FIFO); `system` holds the
//! probes of the router itself (interface addresses, flow offloading,
//! process figures); `daemon` runs `capture` and `replay` (start-up in its
//! privilege order, the HTTP thread, shutdown) for the command line.

// What the code keeps to, enforced: nothing from the network, a file or the
// user may panic it. `#[cfg(test)]` code is exempt (clippy.toml); the
// integration tests, benches and examples are crates of their own and free.
// Set here rather than in Cargo.toml's [lints], which would reach those too.
#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

pub mod capture;
pub mod config;
pub mod daemon;
pub mod decode;
pub mod export;
pub mod files;
pub mod pipeline;
pub mod privileges;
#[cfg(feature = "report")]
pub mod report;
pub mod rpcd;
pub mod seccomp;
pub mod shutdown;
pub mod state_file;
pub mod system;
pub mod track;
