//! The daemon's runs, apart from the command line that configures them:
//! [`capture::run`] (live capture, served over HTTP) and [`replay::run`]
//! (capture files through the same pipeline, the final state printed and
//! optionally served).
//!
//! Layout of a run: the calling thread is the capture worker (the
//! tracker's only writer); the HTTP server, when asked for, runs on its own
//! thread with a single-threaded runtime and reads the snapshots the worker
//! publishes. The start-up of a live capture is an ordered list of named
//! steps ([`capture::STARTUP`]): which privileges are still held when each
//! runs is decided by that order, and a unit test holds it to the rules.
//! `settings` holds what capture and replay share (the HTTP access policy,
//! the state file, the per-client table's options). The log lines keep the
//! target `lanwatch` they had when this was the binary's own code.

pub mod capture;
pub mod replay;
mod settings;

use std::net::TcpListener;
use std::thread::JoinHandle;

pub use self::settings::{HttpSettings, StateSettings, TrackSettings};
use crate::export::http;
use crate::privileges::Credentials;
use crate::shutdown::Shutdown;
use crate::track::publish::SnapshotReader;

/// A shutdown handle triggered by SIGINT and SIGTERM, and reloaded by
/// SIGHUP (see `crate::shutdown`). Installed first thing: until
/// `stop_gracefully`, SIGINT/SIGTERM end the process at once.
pub fn shutdown_on_signals() -> Result<Shutdown, String> {
    let shutdown = Shutdown::new();
    shutdown.starting();
    shutdown
        .trigger_on_signals()
        .map_err(|e| format!("cannot install signal handlers: {e}"))?;
    Ok(shutdown)
}

/// Serves on an already bound listener from a thread of its own; it stops
/// when `shutdown` is triggered, and triggers it itself if it fails. A
/// reload (SIGHUP) re-reads the web config into it.
fn serve(
    listener: TcpListener,
    settings: &HttpSettings,
    policy: http::Policy,
    reader: SnapshotReader,
    shutdown: &Shutdown,
) -> Result<JoinHandle<()>, String> {
    if let Ok(listen) = listener.local_addr() {
        tracing::info!(target: "lanwatch", %listen, "serving /metrics and /api/v1");
    }
    let policy = http::SharedPolicy::new(policy);
    let (settings, reloaded) = (settings.clone(), policy.clone());
    shutdown.on_reload(move || settings.reload(&reloaded));
    let shutdown = shutdown.clone();
    std::thread::Builder::new()
        .name("http".into())
        .spawn(move || {
            if let Err(e) = http::serve(listener, reader, shutdown.clone(), policy) {
                tracing::error!(target: "lanwatch", "{e}");
                shutdown.trigger();
            }
        })
        .map_err(|e| format!("cannot start the HTTP thread: {e}"))
}

/// Refuses to serve HTTP as root unless `allow_root`: the process that
/// parses requests from the network should hold no privileges. Called
/// after the point where privileges are dropped (`--user`).
fn check_not_root(allow_root: bool) -> Result<(), String> {
    // SAFETY: geteuid has no preconditions and cannot fail.
    let euid = unsafe { libc::geteuid() };
    if euid == 0 && !allow_root {
        return Err(
            "refusing to serve HTTP as root: use --user (and --group) to drop \
                    privileges once the capture sockets are open, or --allow-root to \
                    serve as root anyway"
                .to_string(),
        );
    }
    if euid == 0 {
        tracing::warn!(target: "lanwatch", "serving HTTP as root (--allow-root)");
    }
    Ok(())
}

/// Who this process runs as now, for messages: " as USER:GROUP (uid U,
/// gid G)" after `--user`, else " as uid U, gid G".
fn running_as(credentials: Option<&Credentials>) -> String {
    match credentials {
        Some(c) => format!(" as {c}"),
        None => {
            // SAFETY: geteuid/getegid have no preconditions and cannot fail.
            let (uid, gid) = unsafe { (libc::geteuid(), libc::getegid()) };
            format!(" as uid {uid}, gid {gid}")
        }
    }
}
