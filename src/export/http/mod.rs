//! The HTTP server: `/metrics`, the `/api/v1` JSON endpoints and a landing page.
//!
//! HTTP/1.1 only, on a current-thread tokio runtime: a router has few cores
//! and the capture worker needs them more than a scrape every 15 s does. The
//! server never touches the tracker; every request asks the capture worker
//! for a fresh snapshot through a [`SnapshotReader`] (waiting at most
//! `SNAPSHOT_PATIENCE`) and renders it with the same functions the CLI uses,
//! so `/metrics` serves exactly what `replay --format prometheus` prints.
//!
//! The pieces are kept apart as in any small tokio daemon: [`serve`] accepts
//! connections until its [`Shutdown`] is triggered, each connection runs in
//! its own task, and shutdown is explicit — stop accepting, tell every
//! connection to finish its in-flight request and close, wait at most
//! `SHUTDOWN_GRACE`, then drop what is left. [`Shutdown`] is the handle the
//! binary triggers from its signal handling (or the capture worker, on a
//! fatal error) to stop a server started with [`serve`].
//!
//! Access is a [`Policy`], checked in the order that costs a refused peer
//! (and the router) least: the peer's address against the allow-list as
//! soon as the connection is accepted (refused peers are closed before a
//! byte is read or a TLS handshake begins), then the connection limits
//! (below), then TLS (`--web-config`, feature `tls`), then the request's
//! limits — headers within 8 KiB (431), the whole head within the request
//! timeout (else the connection is closed) — then basic authentication
//! (401, with `WWW-Authenticate`; 429 and 503 from the bcrypt gate), and
//! only then the route (404), the method (405: only GET and HEAD) and the
//! body (413: requests carry none; a body is never read, and the
//! connection closes after the answer).
//!
//! Staying up under hostile connections. The server must keep answering
//! its scraper while others open connections and do nothing with them, so
//! nothing a peer does can hold the accept loop or a connection slot for
//! long:
//!
//! - the loop accepts at once, always: a connection beyond the limits is
//!   closed unread, so the kernel's accept queue never fills (10 000 idle
//!   connects no longer lock everyone out);
//! - [`limits`] bounds connections in total (64) and per source
//!   (8; an IPv6 source is its /64) and keeps 16 slots for trusted
//!   sources — a scraper the allow-list names by its single address, or
//!   one that recently presented the right credentials (or, where no
//!   password is asked for, made a clean exchange). When full, the oldest
//!   idle connection makes room: idle connections cannot crowd anyone out;
//! - a connection waiting for a request head — a new one, a slowloris
//!   trickling its head, or a kept-alive one between requests — is closed
//!   after the request timeout (default 5 s; hyper's header-read timer
//!   covers the whole head and the keep-alive wait alike; Prometheus
//!   simply reconnects for its next scrape);
//! - a response may wait at most 10 s in total for a slow reader;
//! - bcrypt checks go through [`auth_gate`]: cached right
//!   credentials first, one check at a time, a short queue, lockout of
//!   sources that keep guessing wrong;
//! - every connection still ends after 5 minutes, however busy.
//!
//! Every answer a route gives (`/metrics`, the JSON endpoints, the landing
//! page) is gzip-compressed when the request's `Accept-Encoding` allows it
//! (see [`encoding`]), with `Vary: Accept-Encoding` either way; the
//! short refusals above are always plain. The headers of the web config's
//! `http_server_config.headers` go on every response.
//!
//! Layout: this file binds and runs the server ([`bind`], [`serve`]);
//! `policy` is who may connect and how ([`Policy`], the allow-list, the web
//! config's headers and TLS, [`SharedPolicy`] for a reload); `connection`
//! the accept loop and one connection's life (limits, authentication, the
//! body rule); `routes` the paths and their responses; `landing` the page
//! for a browser; `limits`, `auth_gate` and `encoding` as above.

pub mod auth_gate;
mod connection;
pub mod encoding;
mod landing;
pub mod limits;
mod policy;
mod routes;

use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpListener;
use tracing::info;

pub use self::policy::{Policy, SharedPolicy};
pub use crate::shutdown::Shutdown;
use crate::track::publish::SnapshotReader;

/// Where the server listens unless told otherwise: loopback only. Serving
/// every interface (a capture sees everyone's traffic) must be asked for.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:19477";

/// How long a request waits for the capture worker's fresh snapshot before
/// it is served the last published one.
pub const SNAPSHOT_PATIENCE: Duration = Duration::from_millis(250);

/// How long in-flight requests may take to finish once shutdown begins.
pub const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// A client must send its request head (and finish any TLS handshake)
/// within this time unless told otherwise; a kept-alive connection must
/// send its next request within it too, or it is closed.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(5);

/// Request heads larger than this are refused with 431 (hyper's smallest
/// read buffer, and plenty for a scraper).
pub const MAX_HEADER_BYTES: usize = 8 * 1024;

/// Why the server could not run.
#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("cannot listen on {addr}: {source}")]
    Bind { addr: SocketAddr, source: io::Error },
    #[error("cannot start the HTTP server: {0}")]
    Runtime(#[source] io::Error),
    #[error("HTTP server on {addr} stopped accepting connections: {source}")]
    Accept { addr: SocketAddr, source: io::Error },
    #[error("{0}")]
    WebConfig(#[from] crate::export::webconfig::WebConfigError),
    #[error("{path}: tls_server_config needs a lanwatch built with TLS support (cargo feature `tls`); this one has none")]
    NoTlsSupport { path: String },
}

/// Opens the listening socket. Separate from running the server so the
/// binary can bind before it drops privileges and fail early on a bad
/// address.
pub fn bind(addr: SocketAddr) -> Result<std::net::TcpListener, HttpError> {
    let bind_error = |source| HttpError::Bind { addr, source };
    let listener = std::net::TcpListener::bind(addr).map_err(bind_error)?;
    listener.set_nonblocking(true).map_err(bind_error)?;
    Ok(listener)
}

/// Serves on an already bound (non-blocking) listener until `shutdown` is
/// triggered, under `policy` (which a reload may replace while serving), on
/// a current-thread runtime built here. Blocks the calling thread.
pub fn serve(
    listener: std::net::TcpListener,
    reader: SnapshotReader,
    shutdown: Shutdown,
    policy: SharedPolicy,
) -> Result<(), HttpError> {
    let addr = listener.local_addr().map_err(HttpError::Runtime)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .enable_time()
        // The bcrypt checks are the only blocking work, one at a time.
        .max_blocking_threads(1)
        .build()
        .map_err(HttpError::Runtime)?;
    runtime.block_on(async move {
        let listener = TcpListener::from_std(listener).map_err(HttpError::Runtime)?;
        let scheme = if policy.current().is_tls() {
            "https"
        } else {
            "http"
        };
        info!("serving metrics on {scheme}://{addr}/metrics");
        connection::accept_until(listener, reader, shutdown.wait(), policy)
            .await
            .map_err(|source| HttpError::Accept { addr, source })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_address_is_loopback_on_a_high_port() {
        let addr: SocketAddr = DEFAULT_LISTEN.parse().unwrap();
        assert!(addr.ip().is_loopback());
        assert!(addr.port() >= 10000);
    }

    #[test]
    fn shutdown_is_seen_by_waiters_started_before_and_after() {
        let shutdown = Shutdown::new();
        let early = shutdown.wait();
        assert!(!shutdown.is_triggered());
        shutdown.clone().trigger();
        assert!(shutdown.is_triggered());
        let late = shutdown.wait();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(1), async {
                early.await;
                late.await;
            })
            .await
            .unwrap();
        });
    }
}
