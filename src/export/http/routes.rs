//! The paths the server knows and their answers: `/metrics`, the JSON
//! endpoints, the landing page; 404 and 405 for the rest; gzip when the
//! client accepts it.

use http_body_util::Full;
use hyper::body::Bytes;
use hyper::header::{
    HeaderValue, ALLOW, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_LENGTH, CONTENT_TYPE, VARY,
};
use hyper::{Method, Response, StatusCode};

use super::landing::landing_page;
use super::{encoding, SNAPSHOT_PATIENCE};
use crate::export::json::{self, ClientKey};
use crate::export::prometheus;
use crate::track::publish::SnapshotReader;

const HTML: &str = "text/html; charset=utf-8";
const JSON: &str = "application/json";
pub(super) const TEXT: &str = "text/plain; charset=utf-8";
const ALLOWED: &str = "GET, HEAD";

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
pub(super) async fn respond(
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
pub(super) fn reply(
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
}
