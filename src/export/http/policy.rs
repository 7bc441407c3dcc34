//! Who may use the endpoint, and how: the allow-list of `--allow-scraper`,
//! basic authentication, TLS and the extra response headers of
//! `--web-config`, and the shared handle through which a reload (SIGHUP)
//! replaces them while the server runs.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use hyper::header::{HeaderName, HeaderValue};
use ipnet::IpNet;
use tokio::sync::watch;

use super::{HttpError, DEFAULT_REQUEST_TIMEOUT};
use crate::export::webconfig::{BasicAuth, WebConfig, WebConfigError};

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
                policy.tls = Some(crate::export::webconfig::tls_acceptor(files)?);
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
                HttpError::WebConfig(WebConfigError::Invalid {
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
