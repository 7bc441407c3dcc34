//! The HTTP server: `/metrics`, the `/api/v1` JSON endpoints and a landing page.
//!
//! HTTP/1.1 only, on a current-thread tokio runtime: a router has few cores
//! and the capture worker needs them more than a scrape every 15 s does. The
//! server never touches the tracker; every request asks the capture worker
//! for a fresh snapshot through a [`SnapshotReader`] (waiting at most
//! `SNAPSHOT_PATIENCE`) and renders it with the same functions the CLI uses,
//! so `/metrics` serves exactly what `replay --format prometheus` prints.
//!
//! The pieces are kept apart as in any small tokio daemon: `serve` accepts
//! connections until its shutdown future resolves, each connection runs in
//! its own task, and shutdown is explicit — stop accepting, tell every
//! connection to finish its in-flight request and close, wait at most
//! `SHUTDOWN_GRACE`, then drop what is left. [`Shutdown`] is the handle the
//! binary triggers from its signal handling (or the capture worker, on a
//! fatal error) to stop a server started with [`run_server`].
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
//! - [`super::limits`] bounds connections in total (64) and per source
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
//! - bcrypt checks go through [`super::auth_gate`]: cached right
//!   credentials first, one check at a time, a short queue, lockout of
//!   sources that keep guessing wrong;
//! - every connection still ends after 5 minutes, however busy.
//!
//! Every answer a route gives (`/metrics`, the JSON endpoints, the landing
//! page) is gzip-compressed when the request's `Accept-Encoding` allows it
//! (see [`super::encoding`]), with `Vary: Accept-Encoding` either way; the
//! short refusals above are always plain. The headers of the web config's
//! `http_server_config.headers` go on every response.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderMap, HeaderName, HeaderValue, ALLOW, AUTHORIZATION, CACHE_CONTROL, CONNECTION,
    CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, RETRY_AFTER, TRANSFER_ENCODING, VARY,
    WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use ipnet::IpNet;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, info, warn};

use super::auth_gate::{AuthGate, Verdict};
use super::json::{self, ClientKey};
use super::limits::{self, ConnState, Limits, Slot, Source, Watched};
use super::webconfig::{BasicAuth, WebConfig};
use super::{encoding, prometheus, table};
pub use crate::shutdown::Shutdown;
use crate::track::publish::SnapshotReader;
use crate::track::Snapshot;

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

/// A connection is closed (gracefully) after this long, however busy: a
/// slow reader cannot hold one of the few connection slots for ever.
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Pause after an accept error (out of file descriptors, say) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
const TEXT: &str = "text/plain; charset=utf-8";
const ALLOWED: &str = "GET, HEAD";

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
    WebConfig(#[from] super::webconfig::WebConfigError),
    #[error("{path}: tls_server_config needs a lanwatch built with TLS support (cargo feature `tls`); this one has none")]
    NoTlsSupport { path: String },
}

/// Who may use the endpoint, and how.
#[derive(Clone)]
pub struct Policy {
    /// Peers allowed to connect (`--allow-scraper`); empty: anyone who can
    /// reach the listening address.
    pub allow: Vec<IpNet>,
    /// Basic authentication (`basic_auth_users`); None: none asked for.
    pub auth: Option<Arc<BasicAuth>>,
    /// The request head (after any TLS handshake) must arrive within this.
    pub request_timeout: Duration,
    /// Added to every response (`http_server_config.headers`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    /// HTTPS (`tls_server_config`).
    #[cfg(feature = "tls")]
    pub tls: Option<tokio_rustls::TlsAcceptor>,
}

impl std::fmt::Debug for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Policy")
            .field("allow", &self.allow)
            .field("auth", &self.auth.is_some())
            .field("request_timeout", &self.request_timeout)
            .field("headers", &self.headers)
            .field("tls", &self.is_tls())
            .finish()
    }
}

impl Default for Policy {
    fn default() -> Policy {
        Policy {
            allow: Vec::new(),
            auth: None,
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            headers: Vec::new(),
            #[cfg(feature = "tls")]
            tls: None,
        }
    }
}

impl Policy {
    /// The policy of a `--web-config` file (None: no file) and the
    /// allow-list. Fails on a file asking for what this build cannot do.
    pub fn new(
        web_config: Option<&std::path::Path>,
        allow: Vec<IpNet>,
        request_timeout: Duration,
    ) -> Result<Policy, HttpError> {
        let mut policy = Policy {
            allow,
            request_timeout,
            ..Policy::default()
        };
        let Some(path) = web_config else {
            return Ok(policy);
        };
        let config = WebConfig::load(path)?;
        policy.auth = BasicAuth::new(&config.users).map(Arc::new);
        policy.headers = response_headers(path, &config.headers)?;
        if let Some(files) = &config.tls {
            #[cfg(feature = "tls")]
            {
                policy.tls = Some(super::webconfig::tls_acceptor(files)?);
            }
            #[cfg(not(feature = "tls"))]
            {
                let _ = files;
                return Err(HttpError::NoTlsSupport {
                    path: path.display().to_string(),
                });
            }
        }
        Ok(policy)
    }

    /// Whether `peer` is on the allow-list (IPv4-mapped IPv6 peers are
    /// taken as the IPv4 address they are).
    pub fn allows(&self, peer: IpAddr) -> bool {
        if self.allow.is_empty() {
            return true;
        }
        let peer = match peer {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.allow.iter().any(|net| net.contains(&peer))
    }

    /// Whether the allow-list names `peer` by its single address (an
    /// entry that is one host, not a prefix): such a scraper may use the
    /// connection slots kept for trusted sources.
    pub fn names(&self, peer: IpAddr) -> bool {
        let peer = match peer {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        self.allow
            .iter()
            .any(|net| net.prefix_len() == net.max_prefix_len() && net.contains(&peer))
    }

    /// Whether the endpoint speaks HTTPS.
    pub fn is_tls(&self) -> bool {
        #[cfg(feature = "tls")]
        {
            self.tls.is_some()
        }
        #[cfg(not(feature = "tls"))]
        {
            false
        }
    }
}

/// The `http_server_config.headers` of the web config `path` as header
/// names and values (the config has checked which headers may be set).
fn response_headers(
    path: &std::path::Path,
    headers: &[(String, String)],
) -> Result<Vec<(HeaderName, HeaderValue)>, HttpError> {
    headers
        .iter()
        .map(|(name, value)| {
            let invalid = || {
                HttpError::WebConfig(super::webconfig::WebConfigError::Invalid {
                    path: path.display().to_string(),
                    what: format!("http_server_config.headers.{name}: not a valid HTTP header"),
                })
            };
            let name = HeaderName::from_bytes(name.as_bytes()).map_err(|_| invalid())?;
            let value = HeaderValue::from_str(value).map_err(|_| invalid())?;
            Ok((name, value))
        })
        .collect()
}

/// The policy a running server serves under, which can be replaced while
/// it runs (SIGHUP re-reads `--web-config`): each connection accepted
/// afterwards is served under the new one, connections already open finish
/// under the old.
#[derive(Clone, Debug)]
pub struct SharedPolicy(Arc<watch::Sender<Arc<Policy>>>);

impl SharedPolicy {
    pub fn new(policy: Policy) -> SharedPolicy {
        SharedPolicy(Arc::new(watch::Sender::new(Arc::new(policy))))
    }

    /// The policy new connections get.
    pub fn current(&self) -> Arc<Policy> {
        self.0.borrow().clone()
    }

    /// Serves later connections under `policy`.
    pub fn replace(&self, policy: Policy) {
        self.0.send_replace(Arc::new(policy));
    }
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

/// Binds `addr` and serves until `shutdown` is triggered, on a
/// current-thread runtime built here. Blocks the calling thread.
pub fn run_server(
    addr: SocketAddr,
    reader: SnapshotReader,
    shutdown: Shutdown,
) -> Result<(), HttpError> {
    run_server_on(bind(addr)?, reader, shutdown)
}

/// Serves on an already bound (non-blocking) listener until `shutdown` is
/// triggered, on a current-thread runtime built here. Blocks the calling
/// thread.
pub fn run_server_on(
    listener: std::net::TcpListener,
    reader: SnapshotReader,
    shutdown: Shutdown,
) -> Result<(), HttpError> {
    run_server_with(listener, reader, shutdown, Policy::default())
}

/// [`run_server_on`] under an access [`Policy`].
pub fn run_server_with(
    listener: std::net::TcpListener,
    reader: SnapshotReader,
    shutdown: Shutdown,
    policy: Policy,
) -> Result<(), HttpError> {
    run_server_shared(listener, reader, shutdown, SharedPolicy::new(policy))
}

/// [`run_server_with`] under a policy that can be replaced while serving.
pub fn run_server_shared(
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
        serve_shared(listener, reader, shutdown.wait(), policy)
            .await
            .map_err(|source| HttpError::Accept { addr, source })
    })
}

/// Accepts and serves connections until `shutdown` resolves, then shuts
/// down gracefully: no new connections, in-flight requests finish (for at
/// most `SHUTDOWN_GRACE`), idle keep-alive connections close.
///
/// Fails only if the listener itself breaks; a failing connection or a
/// temporary accept error (out of file descriptors) is logged and skipped.
pub async fn serve(
    listener: TcpListener,
    reader: SnapshotReader,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with(listener, reader, shutdown, Arc::new(Policy::default())).await
}

/// [`serve`] under an access [`Policy`].
pub async fn serve_with(
    listener: TcpListener,
    reader: SnapshotReader,
    shutdown: impl Future<Output = ()>,
    policy: Arc<Policy>,
) -> io::Result<()> {
    let shared = SharedPolicy(Arc::new(watch::Sender::new(policy)));
    serve_shared(listener, reader, shutdown, shared).await
}

/// [`serve`] under a policy that can be replaced while serving.
pub async fn serve_shared(
    listener: TcpListener,
    reader: SnapshotReader,
    shutdown: impl Future<Output = ()>,
    shared: SharedPolicy,
) -> io::Result<()> {
    let gate = Arc::new(AuthGate::new());
    let limits = Arc::new(Limits::new());
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut connections = JoinSet::new();
    tokio::pin!(shutdown);

    let outcome = loop {
        // Reap connections that finished, so the set stays small.
        while connections.try_join_next().is_some() {}

        let accepted = tokio::select! {
            () = &mut shutdown => break Ok(()),
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let policy = shared.current();
                if !policy.allows(peer.ip()) {
                    // Closed unread: nothing is revealed, nothing is spent.
                    debug!("connection from {peer} refused: not on the allow-list");
                    drop(stream);
                    continue;
                }
                let source = Source::of(peer.ip());
                let slot = match limits.admit(
                    source,
                    policy.names(peer.ip()),
                    std::time::Instant::now(),
                ) {
                    Ok(slot) => slot,
                    Err(why) => {
                        debug!("connection from {peer} closed unread: {why}");
                        drop(stream);
                        continue;
                    }
                };
                debug!("connection from {peer} ({:?})", slot.class);
                // Where no password is asked for, a clean exchange is
                // what earns a source trust; otherwise the credentials.
                let vouch = policy.auth.is_none().then(|| (limits.clone(), source));
                let stream =
                    Watched::new(stream, slot.state.clone(), limits::WRITE_STALL_LIMIT, vouch);
                let context = Context {
                    reader: reader.clone(),
                    policy: policy.clone(),
                    gate: gate.clone(),
                    limits: limits.clone(),
                    source,
                    state: slot.state.clone(),
                };
                let stop = stop_rx.clone();
                #[cfg(feature = "tls")]
                if let Some(acceptor) = policy.tls.clone() {
                    let timeout = policy.request_timeout;
                    let id = slot.id();
                    let task = connections.spawn(async move {
                        match tokio::time::timeout(timeout, acceptor.accept(stream)).await {
                            Ok(Ok(tls)) => serve_connection(tls, context, stop, slot).await,
                            Ok(Err(e)) => debug!("TLS handshake with {peer} failed: {e}"),
                            Err(_) => debug!("TLS handshake with {peer} timed out"),
                        }
                    });
                    limits.attach(id, task);
                    continue;
                }
                let id = slot.id();
                let task = connections.spawn(serve_connection(stream, context, stop, slot));
                limits.attach(id, task);
            }
            Err(e) if is_transient(&e) => {
                warn!("accepting an HTTP connection failed: {e}; retrying");
                tokio::select! {
                    () = &mut shutdown => break Ok(()),
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => {}
                }
            }
            Err(e) => break Err(e),
        }
    };

    drop(listener);
    stop_tx.send_replace(true);
    let drained = tokio::time::timeout(SHUTDOWN_GRACE, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        warn!(
            "{} HTTP connection(s) still busy after {:?}; closing them",
            connections.len(),
            SHUTDOWN_GRACE
        );
        connections.shutdown().await;
    }
    outcome
}

/// Accept errors that say nothing about the listener itself.
fn is_transient(e: &io::Error) -> bool {
    use io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | Interrupted | WouldBlock | TimedOut
    ) || matches!(
        e.raw_os_error(),
        Some(
            libc::EMFILE | libc::ENFILE | libc::ENOBUFS | libc::ENOMEM | libc::EPROTO | libc::EPERM
        )
    )
}

/// What a connection needs besides its stream.
#[derive(Clone)]
struct Context {
    reader: SnapshotReader,
    policy: Arc<Policy>,
    gate: Arc<AuthGate>,
    limits: Arc<Limits>,
    /// The peer, as the limits and the bcrypt gate count it.
    source: Source,
    /// The connection's state in the limits' table.
    state: Arc<ConnState>,
}

/// Serves one connection until the client closes it or shutdown asks it to
/// finish its current request and close.
async fn serve_connection<S>(
    stream: S,
    context: Context,
    mut stop: watch::Receiver<bool>,
    _slot: Slot,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let request_timeout = context.policy.request_timeout;
    let service = service_fn(move |request: Request<Incoming>| {
        let context = context.clone();
        // Busy (not to be displaced) until the answer is ready.
        let busy = limits::begin_request(&context.limits, &context.state);
        // The request body, if any, is never read: drop it right away.
        let (parts, body) = request.into_parts();
        drop(body);
        async move {
            let response = admit_and_respond(parts, context).await;
            drop(busy);
            Ok::<_, Infallible>(response)
        }
    });
    let connection = http1::Builder::new()
        .timer(TokioTimer::new())
        .header_read_timeout(request_timeout)
        .max_buf_size(MAX_HEADER_BYTES)
        .serve_connection(TokioIo::new(stream), service);
    tokio::pin!(connection);

    let result = tokio::select! {
        result = connection.as_mut() => result,
        _ = async { stop.wait_for(|stop| *stop).await.map(|_| ()) } => {
            connection.as_mut().graceful_shutdown();
            connection.await
        }
        () = tokio::time::sleep(MAX_CONNECTION_LIFETIME) => {
            connection.as_mut().graceful_shutdown();
            tokio::time::timeout(SHUTDOWN_GRACE, connection).await.unwrap_or(Ok(()))
        }
    };
    if let Err(e) = result {
        debug!("HTTP connection ended with an error: {e}");
    }
}

/// Applies the request-level parts of the policy (body, authentication),
/// then answers, with the web config's extra headers.
async fn admit_and_respond(
    parts: hyper::http::request::Parts,
    context: Context,
) -> Response<Full<Bytes>> {
    let policy = context.policy.clone();
    let mut response = admit_then_respond(parts, context).await;
    let headers = response.headers_mut();
    for (name, value) in &policy.headers {
        headers.insert(name.clone(), value.clone());
    }
    response
}

async fn admit_then_respond(
    parts: hyper::http::request::Parts,
    context: Context,
) -> Response<Full<Bytes>> {
    let head = parts.method == Method::HEAD;
    if let Some(auth) = &context.policy.auth {
        let header = parts.headers.get(AUTHORIZATION).map(HeaderValue::as_bytes);
        match context.gate.check(auth, context.source, header).await {
            Verdict::Allowed => context
                .limits
                .trust(context.source, std::time::Instant::now()),
            Verdict::Denied => {
                let mut response = reply(
                    StatusCode::UNAUTHORIZED,
                    TEXT,
                    "unauthorized\n".to_string(),
                    head,
                );
                response.headers_mut().insert(
                    WWW_AUTHENTICATE,
                    HeaderValue::from_static("Basic realm=\"lanwatch\", charset=\"UTF-8\""),
                );
                return response;
            }
            Verdict::Busy => {
                let mut response = reply(
                    StatusCode::SERVICE_UNAVAILABLE,
                    TEXT,
                    "too many logins being checked; try again\n".to_string(),
                    head,
                );
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from_static("1"));
                return response;
            }
            Verdict::LockedOut(left) => {
                debug!("login from {} refused: too many wrong ones", context.source);
                let mut response = reply(
                    StatusCode::TOO_MANY_REQUESTS,
                    TEXT,
                    "too many wrong logins from this address; try again later\n".to_string(),
                    head,
                );
                let seconds = left.as_secs().saturating_add(1);
                response
                    .headers_mut()
                    .insert(RETRY_AFTER, HeaderValue::from(seconds));
                return response;
            }
        }
    }
    if (parts.method == Method::GET || head) && has_body(&parts.headers) {
        let mut response = reply(
            StatusCode::PAYLOAD_TOO_LARGE,
            TEXT,
            "requests carry no body\n".to_string(),
            head,
        );
        response
            .headers_mut()
            .insert(CONNECTION, HeaderValue::from_static("close"));
        return response;
    }
    let mut reader = context.reader;
    let gzip = encoding::accepts_gzip(&parts.headers);
    respond(&parts.method, parts.uri.path(), gzip, &mut reader).await
}

/// Whether the request says it carries a body.
fn has_body(headers: &HeaderMap) -> bool {
    let length = headers
        .get(CONTENT_LENGTH)
        .map(|v| v.to_str().ok().and_then(|s| s.trim().parse::<u64>().ok()));
    match length {
        Some(Some(0)) | None => headers.contains_key(TRANSFER_ENCODING),
        Some(_) => true,
    }
}

/// The paths the server knows.
#[derive(Debug, PartialEq, Eq)]
enum Route<'a> {
    Landing,
    Metrics,
    Clients,
    /// `/api/v1/clients/{key}`, the key still percent-encoded.
    Client(&'a str),
    Health,
}

impl Route<'_> {
    fn of(path: &str) -> Option<Route<'_>> {
        match path {
            "/" => Some(Route::Landing),
            "/metrics" => Some(Route::Metrics),
            "/api/v1/clients" => Some(Route::Clients),
            "/api/v1/health" => Some(Route::Health),
            _ => path
                .strip_prefix("/api/v1/clients/")
                .filter(|key| !key.is_empty() && !key.contains('/'))
                .map(Route::Client),
        }
    }
}

/// Answers one request; `gzip`: the client accepts a gzip body.
async fn respond(
    method: &Method,
    path: &str,
    gzip: bool,
    reader: &mut SnapshotReader,
) -> Response<Full<Bytes>> {
    let head = method == Method::HEAD;
    let Some(route) = Route::of(path) else {
        return reply(StatusCode::NOT_FOUND, TEXT, "not found\n".to_string(), head);
    };
    if method != Method::GET && !head {
        let mut response = reply(
            StatusCode::METHOD_NOT_ALLOWED,
            TEXT,
            "method not allowed\n".to_string(),
            false,
        );
        response
            .headers_mut()
            .insert(ALLOW, HeaderValue::from_static(ALLOWED));
        return response;
    }

    let snapshot = reader.fresh(SNAPSHOT_PATIENCE).await;
    let (status, content_type, body) = match route {
        Route::Landing => (StatusCode::OK, HTML, landing_page(&snapshot)),
        Route::Metrics => (
            StatusCode::OK,
            prometheus::CONTENT_TYPE,
            prometheus::render(&snapshot),
        ),
        Route::Clients => (StatusCode::OK, JSON, json::clients(&snapshot)),
        Route::Health => (StatusCode::OK, JSON, json::health(&snapshot)),
        Route::Client(raw) => {
            let key = percent_decode(raw).unwrap_or_else(|| raw.to_string());
            match key.parse::<ClientKey>() {
                Err(e) => (StatusCode::BAD_REQUEST, JSON, json::error(&e.to_string())),
                Ok(parsed) => match json::find_client(&snapshot, &parsed) {
                    Some(client) => (StatusCode::OK, JSON, json::client(client)),
                    None => (
                        StatusCode::NOT_FOUND,
                        JSON,
                        json::error(&format!("no client {key}")),
                    ),
                },
            }
        }
    };
    negotiated_reply(status, content_type, body, head, gzip)
}

/// A route's answer: gzip-compressed if `gzip` (the client accepts it),
/// and marked as depending on `Accept-Encoding` either way.
fn negotiated_reply(
    status: StatusCode,
    content_type: &'static str,
    body: String,
    head: bool,
    gzip: bool,
) -> Response<Full<Bytes>> {
    let compressed = if gzip {
        encoding::gzip(body.as_bytes())
    } else {
        None
    };
    let mut response = match compressed {
        Some(bytes) => {
            let mut response = reply_bytes(status, content_type, Bytes::from(bytes), head);
            response
                .headers_mut()
                .insert(CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            response
        }
        None => reply(status, content_type, body, head),
    };
    response
        .headers_mut()
        .insert(VARY, HeaderValue::from_static("Accept-Encoding"));
    response
}

/// A complete response; for HEAD the headers of the full one, no body.
fn reply(
    status: StatusCode,
    content_type: &'static str,
    body: String,
    head: bool,
) -> Response<Full<Bytes>> {
    reply_bytes(status, content_type, Bytes::from(body), head)
}

/// [`reply`] with a body already in bytes.
fn reply_bytes(
    status: StatusCode,
    content_type: &'static str,
    body: Bytes,
    head: bool,
) -> Response<Full<Bytes>> {
    let length = body.len();
    let body = if head { Bytes::new() } else { body };
    let mut response = Response::new(Full::new(body));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(CONTENT_LENGTH, HeaderValue::from(length));
    headers.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// Decodes `%XX` escapes (a client may send `aa%3Abb...`); None if an
/// escape is broken or the result is not UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = bytes.get(i.checked_add(1)?..i.checked_add(3)?)?;
            let hex = std::str::from_utf8(hex).ok()?;
            out.push(u8::from_str_radix(hex, 16).ok()?);
            i = i.checked_add(3)?;
        } else {
            out.push(b);
            i = i.checked_add(1)?;
        }
    }
    String::from_utf8(out).ok()
}

/// A small page for a person who opens the address in a browser: where
/// the data is, and the client table.
fn landing_page(snapshot: &Snapshot) -> String {
    let version = env!("CARGO_PKG_VERSION");
    let clients = snapshot.clients.len();
    let table = escape_html(&table::render_table(snapshot));
    format!(
        "<!DOCTYPE html>
<html lang=\"en\">
<head><meta charset=\"utf-8\"><title>lanwatch</title></head>
<body>
<h1>lanwatch</h1>
<ul>
<li><a href=\"/metrics\">/metrics</a> &mdash; Prometheus metrics</li>
<li><a href=\"/api/v1/clients\">/api/v1/clients</a> &mdash; clients as JSON</li>
<li><a href=\"/api/v1/health\">/api/v1/health</a> &mdash; lanwatch&#39;s own health as JSON</li>
</ul>
<h2>Clients ({clients})</h2>
<pre>
{table}</pre>
<p>lanwatch {version}</p>
</body>
</html>
"
    )
}

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(ch),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_paths_route_and_others_do_not() {
        assert_eq!(Route::of("/"), Some(Route::Landing));
        assert_eq!(Route::of("/metrics"), Some(Route::Metrics));
        assert_eq!(Route::of("/api/v1/clients"), Some(Route::Clients));
        assert_eq!(Route::of("/api/v1/health"), Some(Route::Health));
        assert_eq!(
            Route::of("/api/v1/clients/aa:bb:cc:dd:ee:ff"),
            Some(Route::Client("aa:bb:cc:dd:ee:ff"))
        );
        for path in [
            "/metrics/",
            "/api/v1/clients/",
            "/api/v1/clients/a/b",
            "/api",
            "/index.html",
            "",
        ] {
            assert_eq!(Route::of(path), None, "{path}");
        }
    }

    #[test]
    fn percent_escapes_decode_and_broken_ones_are_refused() {
        assert_eq!(percent_decode("aa%3Abb%3acc").as_deref(), Some("aa:bb:cc"));
        assert_eq!(percent_decode("plain").as_deref(), Some("plain"));
        assert_eq!(percent_decode("a%3"), None);
        assert_eq!(percent_decode("a%zz"), None);
        assert_eq!(percent_decode("%ff"), None);
    }

    #[test]
    fn html_escaping_covers_markup_characters() {
        assert_eq!(
            escape_html(r#"<b>"Tom" & 'Jerry'</b>"#),
            "&lt;b&gt;&quot;Tom&quot; &amp; &#39;Jerry&#39;&lt;/b&gt;"
        );
    }

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
