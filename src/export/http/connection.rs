//! One connection's life: the accept loop that admits it (allow-list,
//! connection limits, TLS handshake), the hyper connection with its
//! timeouts, and the request-level rules applied before a route answers
//! (basic authentication through the bcrypt gate, no request bodies).

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use http_body_util::Full;
use hyper::body::{Bytes, Incoming};
use hyper::header::{
    HeaderMap, HeaderValue, AUTHORIZATION, CONNECTION, CONTENT_LENGTH, RETRY_AFTER,
    TRANSFER_ENCODING, WWW_AUTHENTICATE,
};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use tracing::{debug, warn};

use super::auth_gate::{AuthGate, Verdict};
use super::limits::{self, ConnState, Limits, Slot, Source, Watched};
use super::policy::{Policy, SharedPolicy};
use super::routes::{reply, respond, TEXT};
use super::{encoding, MAX_HEADER_BYTES, SHUTDOWN_GRACE};
use crate::track::publish::SnapshotReader;

/// A connection is closed (gracefully) after this long, however busy: a
/// slow reader cannot hold one of the few connection slots for ever.
const MAX_CONNECTION_LIFETIME: Duration = Duration::from_secs(300);

/// Pause after an accept error (out of file descriptors, say) before retrying.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Accepts and serves connections until `shutdown` resolves, then shuts
/// down gracefully: no new connections, in-flight requests finish (for at
/// most `SHUTDOWN_GRACE`), idle keep-alive connections close.
///
/// Fails only if the listener itself breaks; a failing connection or a
/// temporary accept error (out of file descriptors) is logged and skipped.
pub(super) async fn accept_until(
    listener: TcpListener,
    reader: SnapshotReader,
    shutdown: impl Future<Output = ()>,
    shared: SharedPolicy,
) -> io::Result<()> {
    let (stop_tx, stop) = watch::channel(false);
    let acceptor = Acceptor {
        reader,
        shared,
        gate: Arc::new(AuthGate::new()),
        limits: Arc::new(Limits::new()),
        stop,
    };
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
            Ok((stream, peer)) => acceptor.admit(stream, peer, &mut connections),
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

/// What the accept loop hands each connection it admits.
struct Acceptor {
    reader: SnapshotReader,
    shared: SharedPolicy,
    gate: Arc<AuthGate>,
    limits: Arc<Limits>,
    /// Turns true when shutdown begins.
    stop: watch::Receiver<bool>,
}

impl Acceptor {
    /// Admits an accepted connection under the current policy — the
    /// allow-list, then the connection limits, closing it unread if either
    /// says no — and serves it in a task of `connections`.
    fn admit(&self, stream: TcpStream, peer: SocketAddr, connections: &mut JoinSet<()>) {
        let policy = self.shared.current();
        if !policy.allows(peer.ip()) {
            // Closed unread: nothing is revealed, nothing is spent.
            debug!("connection from {peer} refused: not on the allow-list");
            drop(stream);
            return;
        }
        let limits = &self.limits;
        let source = Source::of(peer.ip());
        let slot = match limits.admit(source, policy.names(peer.ip()), std::time::Instant::now()) {
            Ok(slot) => slot,
            Err(why) => {
                debug!("connection from {peer} closed unread: {why}");
                drop(stream);
                return;
            }
        };
        debug!("connection from {peer} ({:?})", slot.class);
        // Where no password is asked for, a clean exchange is what earns
        // a source trust; otherwise the credentials.
        let vouch = policy.auth.is_none().then(|| (limits.clone(), source));
        let stream = Watched::new(stream, slot.state.clone(), limits::WRITE_STALL_LIMIT, vouch);
        let context = Context {
            reader: self.reader.clone(),
            policy: policy.clone(),
            gate: self.gate.clone(),
            limits: limits.clone(),
            source,
            state: slot.state.clone(),
        };
        let stop = self.stop.clone();
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
            return;
        }
        let id = slot.id();
        let task = connections.spawn(serve_connection(stream, context, stop, slot));
        limits.attach(id, task);
    }
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
