//! `--web-config FILE`: TLS, basic authentication and extra response
//! headers for the endpoint, in the file format of the Prometheus exporter
//! toolkit, so the file a node_exporter already uses works unchanged:
//!
//! ```yaml
//! tls_server_config:
//!   cert_file: server.crt      # relative paths: from the file's directory
//!   key_file: server.key
//! http_server_config:
//!   http2: true                # accepted; lanwatch serves HTTP/1.1 only
//!   headers:
//!     X-Frame-Options: deny
//! basic_auth_users:
//!   prometheus: $2y$10$...     # bcrypt hashes (htpasswd -nB)
//! ```
//!
//! `http_server_config.headers` may set only the headers the toolkit lets
//! an operator set (its fixed list: Content-Security-Policy,
//! Strict-Transport-Security, X-Content-Type-Options, X-Frame-Options,
//! X-XSS-Protection, the enumerated ones only to their allowed values; a
//! blank value leaves the header unset). `http2` is, in the toolkit, leave
//! to offer HTTP/2 over TLS (default true; a client without HTTP/2 falls
//! back to HTTP/1.1 through ALPN): lanwatch never offers it, which both
//! values allow, so both are accepted.
//!
//! Only that much of YAML is read: top-level keys holding a block mapping
//! of `key: scalar` lines (plain, 'single' or "double" quoted), one level
//! deeper for `http_server_config.headers`, comments and blank lines. A
//! serde YAML stack would cost the router binary more than the whole HTTP
//! server. Anything else — other exporter-toolkit options such as
//! `client_auth_type`, flow syntax, anchors — is an error naming the line,
//! never silently ignored: a setting the operator believes in force must
//! be in force.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The largest web-config file read.
const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// Users in `basic_auth_users`, at most.
const MAX_USERS: usize = 1024;

/// Why a web-config file was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebConfigError {
    #[error("web config {path}: {reason}")]
    Read { path: String, reason: String },
    #[error("web config {path}:{line}: {what}")]
    Syntax {
        path: String,
        line: usize,
        what: String,
    },
    #[error("web config {path}: {what}")]
    Invalid { path: String, what: String },
}

/// The certificate and key files of `tls_server_config`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert_file: PathBuf,
    pub key_file: PathBuf,
}

/// What the file asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WebConfig {
    /// Serve HTTPS with these files.
    pub tls: Option<TlsFiles>,
    /// user → bcrypt hash; empty: no authentication.
    pub users: BTreeMap<String, String>,
    /// Headers added to every response (`http_server_config.headers`),
    /// names spelled as the exporter toolkit spells them, in file order.
    pub headers: Vec<(String, String)>,
}

/// The headers `http_server_config.headers` may set, as the exporter
/// toolkit lists them, with the only values it allows (None: any).
const SETTABLE_HEADERS: [(&str, Option<&[&str]>); 5] = [
    ("Content-Security-Policy", None),
    ("Strict-Transport-Security", None),
    ("X-Content-Type-Options", Some(&["nosniff"])),
    ("X-Frame-Options", Some(&["deny", "sameorigin"])),
    ("X-XSS-Protection", None),
];

impl WebConfig {
    /// Reads and checks `path`.
    pub fn load(path: &Path) -> Result<WebConfig, WebConfigError> {
        use std::io::Read;
        let name = path.display().to_string();
        let read_error = |reason: String| WebConfigError::Read {
            path: name.clone(),
            reason,
        };
        let file = fs::File::open(path).map_err(|e| read_error(e.to_string()))?;
        let mut text = String::new();
        file.take(MAX_FILE_BYTES.saturating_add(1))
            .read_to_string(&mut text)
            .map_err(|e| read_error(e.to_string()))?;
        if text.len() as u64 > MAX_FILE_BYTES {
            return Err(read_error(format!("larger than {MAX_FILE_BYTES} bytes")));
        }
        let base = path.parent().unwrap_or(Path::new("."));
        WebConfig::parse(&name, &text, base)
    }

    /// Parses the text of a web-config file named `name`; relative file
    /// names are taken from `base`.
    pub fn parse(name: &str, text: &str, base: &Path) -> Result<WebConfig, WebConfigError> {
        let syntax = |line: usize, what: String| WebConfigError::Syntax {
            path: name.to_string(),
            line,
            what,
        };
        let invalid = |what: String| WebConfigError::Invalid {
            path: name.to_string(),
            what,
        };
        let sections = parse_yaml_subset(text).map_err(|(line, what)| syntax(line, what))?;
        let mut config = WebConfig::default();
        for section in sections {
            match section.key.as_str() {
                "tls_server_config" => {
                    let mut cert = None;
                    let mut key = None;
                    for (line, k, v) in section.scalars().map_err(|(l, w)| syntax(l, w))? {
                        match k.as_str() {
                            "cert_file" => cert = Some(v),
                            "key_file" => key = Some(v),
                            other => {
                                return Err(syntax(
                                    line,
                                    format!("tls_server_config.{other} is not supported by lanwatch (only cert_file and key_file)"),
                                ))
                            }
                        }
                    }
                    match (cert, key) {
                        (Some(c), Some(k)) if !c.is_empty() && !k.is_empty() => {
                            config.tls = Some(TlsFiles {
                                cert_file: base.join(c),
                                key_file: base.join(k),
                            })
                        }
                        _ => {
                            return Err(invalid(
                                "tls_server_config needs both cert_file and key_file".into(),
                            ))
                        }
                    }
                }
                "basic_auth_users" => {
                    for (line, user, hash) in section.scalars().map_err(|(l, w)| syntax(l, w))? {
                        if user.contains(':') {
                            return Err(syntax(line, format!("user name {user:?} contains ':'")));
                        }
                        if hash.parse::<bcrypt::HashParts>().is_err() {
                            return Err(syntax(
                                line,
                                format!("the password of {user:?} is not a bcrypt hash"),
                            ));
                        }
                        if config.users.len() >= MAX_USERS {
                            return Err(syntax(line, format!("more than {MAX_USERS} users")));
                        }
                        if config.users.insert(user.clone(), hash).is_some() {
                            return Err(syntax(line, format!("user {user:?} given twice")));
                        }
                    }
                }
                "http_server_config" => {
                    config.headers = http_server_config(section).map_err(|(l, w)| syntax(l, w))?;
                }
                "rate_limit" => {
                    return Err(syntax(
                        section.line,
                        format!("{} is not supported by lanwatch", section.key),
                    ))
                }
                other => return Err(syntax(section.line, format!("unknown key {other:?}"))),
            }
        }
        Ok(config)
    }
}

/// Remembered successful logins, so a scraper every 15 s costs one bcrypt
/// verification, not one per scrape.
const MAX_REMEMBERED_LOGINS: usize = 16;

/// How long a remembered login is kept after it was last used: longer
/// than any usual scrape interval, so a scraper is checked by bcrypt once,
/// not once per scrape, while a login nobody uses is soon forgotten.
pub const REMEMBER_LOGIN_FOR: Duration = Duration::from_secs(5 * 60);

/// Checks `Authorization: Basic` credentials against the bcrypt hashes of
/// `basic_auth_users`.
///
/// A bcrypt verification takes tens of milliseconds on a PC and most of a
/// second on a router: the server runs them off its runtime thread, one at
/// a time (see `super::auth_gate`). Unknown users are verified against a
/// dummy hash of the same cost, so the time taken does not tell which user
/// names exist. Successful logins are remembered (user and password,
/// compared in constant time, for [`REMEMBER_LOGIN_FOR`] after their last
/// use), as the exporter toolkit does; a new web config (SIGHUP) starts
/// with none.
#[derive(Debug)]
pub struct BasicAuth {
    users: BTreeMap<String, String>,
    dummy: String,
    remembered: std::sync::Mutex<Vec<Remembered>>,
}

/// A login that passed, and when it was last used.
#[derive(Debug)]
struct Remembered {
    user: String,
    password: Vec<u8>,
    used: Instant,
}

impl BasicAuth {
    /// None when there are no users (no authentication asked for).
    pub fn new(users: &BTreeMap<String, String>) -> Option<BasicAuth> {
        let cost = users
            .values()
            .filter_map(|h| h.parse::<bcrypt::HashParts>().ok())
            .map(|p| p.get_cost())
            .max()?;
        let dummy = bcrypt::hash_with_salt(b"lanwatch: no such user", cost, [0x5a; 16])
            .map(|p| p.format_for_version(bcrypt::Version::TwoB))
            .unwrap_or_default();
        Some(BasicAuth {
            users: users.clone(),
            dummy,
            remembered: std::sync::Mutex::new(Vec::new()),
        })
    }

    /// The user and password of an `Authorization` header value, if it is
    /// well-formed `Basic` credentials.
    pub fn credentials(header: &[u8]) -> Option<(String, Vec<u8>)> {
        use base64::Engine;
        let text = std::str::from_utf8(header).ok()?;
        let (scheme, encoded) = text.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("basic") {
            return None;
        }
        let decoded = base64::engine::general_purpose::STANDARD
            .decode(encoded.trim())
            .ok()?;
        let colon = decoded.iter().position(|b| *b == b':')?;
        let user = std::str::from_utf8(decoded.get(..colon)?).ok()?.to_string();
        let password = decoded.get(colon.checked_add(1)?..)?.to_vec();
        Some((user, password))
    }

    /// Whether the login is right. Slow (bcrypt): not for a runtime thread.
    pub fn verify(&self, user: &str, password: &[u8]) -> bool {
        if self.is_remembered(user, password, Instant::now()) {
            return true;
        }
        let (hash, known) = match self.users.get(user) {
            Some(h) => (h.as_str(), true),
            None => (self.dummy.as_str(), false),
        };
        let ok = bcrypt::verify(password, hash).unwrap_or(false) && known;
        if ok {
            let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
            if remembered.len() >= MAX_REMEMBERED_LOGINS {
                remembered.remove(0);
            }
            remembered.push(Remembered {
                user: user.to_string(),
                password: password.to_vec(),
                used: Instant::now(),
            });
        }
        ok
    }

    /// Whether the login passed a verification and was used within
    /// [`REMEMBER_LOGIN_FOR`] (which starts again from `now`). Fast: no
    /// bcrypt, a constant-time comparison with each remembered login.
    pub fn is_remembered(&self, user: &str, password: &[u8], now: Instant) -> bool {
        let mut remembered = self.remembered.lock().unwrap_or_else(|e| e.into_inner());
        remembered.retain(|r| now.saturating_duration_since(r.used) <= REMEMBER_LOGIN_FOR);
        let mut found = false;
        for r in remembered.iter_mut() {
            let same = constant_time_eq(r.user.as_bytes(), user.as_bytes())
                & constant_time_eq(&r.password, password);
            if same {
                r.used = now;
            }
            found |= same;
        }
        found
    }
}

/// Equality whose time depends only on the lengths.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The TLS acceptor for `tls_server_config` (the `tls` cargo feature).
#[cfg(feature = "tls")]
pub fn tls_acceptor(files: &TlsFiles) -> Result<tokio_rustls::TlsAcceptor, WebConfigError> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let invalid = |what: String| WebConfigError::Invalid {
        path: files.cert_file.display().to_string(),
        what,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&files.cert_file)
        .and_then(|i| i.collect())
        .map_err(|e| invalid(format!("cannot read the certificate chain: {e}")))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in cert_file".into()));
    }
    let key =
        PrivateKeyDer::from_pem_file(&files.key_file).map_err(|e| WebConfigError::Invalid {
            path: files.key_file.display().to_string(),
            what: format!("cannot read the private key: {e}"),
        })?;
    let provider = std::sync::Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| invalid(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| invalid(format!("certificate and key do not make a TLS config: {e}")))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(std::sync::Arc::new(config)))
}

/// The `http_server_config` section: checks `http2` and returns the
/// headers to add, or the line and reason it was refused.
fn http_server_config(section: Section) -> Result<Vec<(String, String)>, Refusal> {
    let mut headers = Vec::new();
    for entry in section.entries {
        match (entry.key.as_str(), entry.value) {
            ("http2", Node::Scalar(value)) => {
                if !value.eq_ignore_ascii_case("true") && !value.eq_ignore_ascii_case("false") {
                    return Err((
                        entry.line,
                        format!("http_server_config.http2 must be true or false, not {value:?}"),
                    ));
                }
            }
            ("headers", Node::Map(lines)) => {
                for (line, name, value) in lines {
                    if let Some(header) = settable_header(&name, &value).map_err(|e| (line, e))? {
                        if headers
                            .iter()
                            .any(|(n, _): &(String, String)| n.eq_ignore_ascii_case(&header.0))
                        {
                            return Err((
                                line,
                                format!("http_server_config.headers: {name} given twice"),
                            ));
                        }
                        headers.push(header);
                    }
                }
            }
            ("http2", Node::Map(_)) => {
                return Err((
                    entry.line,
                    "http_server_config.http2 needs a scalar value".into(),
                ))
            }
            ("headers", Node::Scalar(_)) => {
                return Err((
                    entry.line,
                    "http_server_config.headers must be a mapping of header names to values".into(),
                ))
            }
            (other, _) => {
                return Err((
                    entry.line,
                    format!(
                        "unknown key http_server_config.{other} (lanwatch reads http2 and headers)"
                    ),
                ))
            }
        }
    }
    Ok(headers)
}

/// The header `name: value` of `http_server_config.headers` as it will be
/// sent (None: a blank value, the header stays unset), or why it may not
/// be set.
fn settable_header(name: &str, value: &str) -> Result<Option<(String, String)>, String> {
    let Some((spelling, allowed)) = SETTABLE_HEADERS
        .iter()
        .find(|(header, _)| header.eq_ignore_ascii_case(name))
    else {
        let names: Vec<&str> = SETTABLE_HEADERS.iter().map(|(h, _)| *h).collect();
        return Err(format!(
            "http_server_config.headers.{name}: the header {name} cannot be set (as in the exporter toolkit, only {} can)",
            names.join(", ")
        ));
    };
    if value.is_empty() {
        return Ok(None);
    }
    if let Some(allowed) = allowed {
        if !allowed.contains(&value) {
            return Err(format!(
                "http_server_config.headers.{name}: {value:?} is not an allowed value of {spelling} (expected one of {})",
                allowed.join(", ")
            ));
        }
    }
    if !value
        .bytes()
        .all(|b| b == b'\t' || (b' '..=b'~').contains(&b))
    {
        return Err(format!(
            "http_server_config.headers.{name}: the value holds characters an HTTP header cannot carry"
        ));
    }
    Ok(Some((spelling.to_string(), value.to_string())))
}

/// A top-level key and what it holds (with line numbers).
struct Section {
    line: usize,
    key: String,
    entries: Vec<Entry>,
}

/// A `key: value` line under a section, or a `key:` line opening a
/// mapping one level deeper.
struct Entry {
    line: usize,
    key: String,
    value: Node,
}

enum Node {
    Scalar(String),
    /// `key: scalar` lines, with their line numbers.
    Map(Lines),
}

/// `key: scalar` lines: (line number, key, value).
type Lines = Vec<(usize, String, String)>;

/// Why a line was refused: its number and the reason.
type Refusal = (usize, String);

impl Section {
    /// The entries of a section that holds only `key: scalar` lines.
    fn scalars(self) -> Result<Lines, Refusal> {
        let section = self.key;
        self.entries
            .into_iter()
            .map(|entry| match entry.value {
                Node::Scalar(value) => Ok((entry.line, entry.key, value)),
                Node::Map(_) => Err((
                    entry.line,
                    format!("{section}.{} needs a scalar value", entry.key),
                )),
            })
            .collect()
    }
}

/// Parses the subset described in the module documentation.
fn parse_yaml_subset(text: &str) -> Result<Vec<Section>, Refusal> {
    let mut sections: Vec<Section> = Vec::new();
    // Indentation of the current section's entries, and of the lines of
    // the mapping its last entry opened.
    let mut child_indent: Option<usize> = None;
    let mut grandchild_indent: Option<usize> = None;
    for (index, raw) in text.lines().enumerate() {
        let line_no = index.saturating_add(1);
        let line = strip_comment(raw);
        if line.trim().is_empty() || (index == 0 && line.trim() == "---") {
            continue;
        }
        if line.contains('\t') {
            return Err((line_no, "tabs are not allowed in YAML indentation".into()));
        }
        let indent = line.len().saturating_sub(line.trim_start().len());
        let (key, value) = split_key_value(line.trim()).ok_or((
            line_no,
            format!("expected `key: value`, found {:?}", line.trim()),
        ))?;
        if indent == 0 {
            open_section(&mut sections, line_no, key, value)?;
            child_indent = None;
            continue;
        }
        let Some(section) = sections.last_mut() else {
            return Err((line_no, "indented line outside any section".into()));
        };
        let child = *child_indent.get_or_insert(indent);
        if indent < child {
            return Err((line_no, "inconsistent indentation".into()));
        }
        if indent == child {
            add_entry(section, line_no, key, value)?;
            grandchild_indent = None;
            continue;
        }
        // One level deeper: a line of the mapping the last entry opened.
        add_nested(section, &mut grandchild_indent, indent, line_no, key, value)?;
    }
    Ok(sections)
}

/// A top-level `key:` line: a new section, which must be a mapping.
fn open_section(
    sections: &mut Vec<Section>,
    line_no: usize,
    key: String,
    value: Option<String>,
) -> Result<(), Refusal> {
    if sections.iter().any(|s| s.key == key) {
        return Err((line_no, format!("{key} given twice")));
    }
    match value {
        None => {}
        // An explicitly empty mapping is allowed.
        Some(v) if v == "{}" => {}
        Some(_) => return Err((line_no, format!("{key} must be a mapping"))),
    }
    sections.push(Section {
        line: line_no,
        key,
        entries: Vec::new(),
    });
    Ok(())
}

/// A line at the section's entry indentation: a new entry of `section`.
fn add_entry(
    section: &mut Section,
    line_no: usize,
    key: String,
    value: Option<String>,
) -> Result<(), Refusal> {
    if section.entries.iter().any(|e| e.key == key) {
        return Err((line_no, format!("{key} given twice")));
    }
    let value = match value {
        Some(v) if v != "{}" => Node::Scalar(v),
        // `key:` (lines one level deeper may follow) or `key: {}`.
        _ => Node::Map(Vec::new()),
    };
    section.entries.push(Entry {
        line: line_no,
        key,
        value,
    });
    Ok(())
}

/// A line of the mapping the section's last entry opened, all such lines
/// at one indentation (`grandchild_indent`, set by the first).
fn add_nested(
    section: &mut Section,
    grandchild_indent: &mut Option<usize>,
    indent: usize,
    line_no: usize,
    key: String,
    value: Option<String>,
) -> Result<(), Refusal> {
    let Some(Entry {
        key: parent,
        value: Node::Map(lines),
        ..
    }) = section.entries.last_mut()
    else {
        return Err((line_no, "inconsistent indentation".into()));
    };
    match *grandchild_indent {
        None => *grandchild_indent = Some(indent),
        Some(i) if i == indent => {}
        Some(_) => return Err((line_no, "inconsistent indentation".into())),
    }
    let value = value
        .filter(|v| v != "{}")
        .ok_or((line_no, format!("{parent}.{key} needs a scalar value")))?;
    if lines.iter().any(|(_, k, _)| *k == key) {
        return Err((line_no, format!("{key} given twice")));
    }
    lines.push((line_no, key, value));
    Ok(())
}

/// The line without a `#` comment (one that starts the line or follows a
/// space, outside quotes).
fn strip_comment(line: &str) -> &str {
    let mut quote: Option<char> = None;
    let mut previous = ' ';
    for (i, ch) in line.char_indices() {
        match quote {
            Some(q) if ch == q => quote = None,
            Some(_) => {}
            None if ch == '\'' || ch == '"' => quote = Some(ch),
            None if ch == '#' && previous.is_whitespace() => {
                return line.get(..i).unwrap_or(line);
            }
            None => {}
        }
        previous = ch;
    }
    line
}

/// `key: value` → (key, Some(value)); `key:` → (key, None).
fn split_key_value(line: &str) -> Option<(String, Option<String>)> {
    let (key, rest) = if let Some(stripped) = line.strip_suffix(':') {
        (stripped, "")
    } else {
        line.split_once(": ")?
    };
    let key = unquote(key.trim())?;
    if key.is_empty() {
        return None;
    }
    let rest = rest.trim();
    if rest.is_empty() {
        return Some((key, None));
    }
    if rest == "{}" {
        // An empty flow mapping: only meaningful for a top-level key.
        return Some((key, Some(rest.to_string())));
    }
    Some((key, Some(unquote(rest)?)))
}

/// A plain, 'single-quoted' or "double-quoted" scalar.
fn unquote(s: &str) -> Option<String> {
    if let Some(inner) = s.strip_prefix('\'') {
        let inner = inner.strip_suffix('\'')?;
        let unescaped = inner.replace("''", "'");
        if unescaped.matches('\'').count() != inner.matches("''").count() {
            return None;
        }
        return Some(unescaped);
    }
    if let Some(inner) = s.strip_prefix('"') {
        let inner = inner.strip_suffix('"')?;
        let mut out = String::with_capacity(inner.len());
        let mut chars = inner.chars();
        while let Some(ch) = chars.next() {
            match ch {
                '\\' => match chars.next()? {
                    '"' => out.push('"'),
                    '\\' => out.push('\\'),
                    _ => return None,
                },
                '"' => return None,
                c => out.push(c),
            }
        }
        return Some(out);
    }
    // Plain scalars: refuse what would mean something else in YAML.
    let first = s.chars().next()?;
    if matches!(
        first,
        '[' | '{' | '&' | '*' | '!' | '|' | '>' | '%' | '@' | '`'
    ) || s.starts_with("- ")
    {
        return None;
    }
    Some(s.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    // A well-formed bcrypt hash (cost 10).
    const HASH: &str = "$2y$10$X0h1gDsPszWURQaxFN.vOu9H5dKqV4W7Fn0cMXmPHhN8Fo7SYpMXy";

    fn parse(text: &str) -> Result<WebConfig, WebConfigError> {
        WebConfig::parse("web.yml", text, Path::new("/etc/lanwatch"))
    }

    #[test]
    fn the_exporter_toolkit_layout_is_read() {
        let c = parse(&format!(
            "# lanwatch endpoint\n\
             tls_server_config:\n  cert_file: server.crt\n  key_file: \"/abs/server.key\" # comment\n\
             basic_auth_users:\n  prometheus: {HASH}\n  'grafana': '{HASH}'\n"
        ))
        .unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(tls.cert_file, Path::new("/etc/lanwatch/server.crt"));
        assert_eq!(tls.key_file, Path::new("/abs/server.key"));
        assert_eq!(c.users.len(), 2);
        assert_eq!(c.users["grafana"], HASH);
    }

    #[test]
    fn an_empty_file_asks_for_nothing() {
        assert_eq!(parse("").unwrap(), WebConfig::default());
        assert_eq!(
            parse("basic_auth_users: {}\n").unwrap(),
            WebConfig::default()
        );
    }

    #[test]
    fn options_lanwatch_cannot_honour_are_errors_not_ignored() {
        let e = parse("tls_server_config:\n  cert_file: a\n  key_file: b\n  client_auth_type: RequireAndVerifyClientCert\n")
            .unwrap_err();
        assert!(e.to_string().contains("web.yml:4"), "{e}");
        assert!(e.to_string().contains("client_auth_type"), "{e}");
        assert!(parse("rate_limit:\n  burst: 10\n").is_err());
        assert!(parse("whatever: 1\n").is_err());
    }

    #[test]
    fn http_server_config_headers_are_read_in_the_toolkit_spelling() {
        // The exporter toolkit's own good example (web_config_headers.good.yml).
        let c = parse(
            "http_server_config:\n  http2: true\n  headers:\n    X-Frame-Options: deny\n    \
             Strict-Transport-Security: max-age=31536000; includeSubDomains\n    \
             x-content-type-options: nosniff\n    X-XSS-Protection: 1\n    \
             Content-Security-Policy: \"default-src 'self' *.test.example.net\"\n",
        )
        .unwrap();
        assert_eq!(
            c.headers,
            [
                ("X-Frame-Options", "deny"),
                (
                    "Strict-Transport-Security",
                    "max-age=31536000; includeSubDomains"
                ),
                ("X-Content-Type-Options", "nosniff"),
                ("X-XSS-Protection", "1"),
                (
                    "Content-Security-Policy",
                    "default-src 'self' *.test.example.net"
                ),
            ]
            .map(|(n, v)| (n.to_string(), v.to_string()))
        );
        // A blank value leaves the header unset; http2 false is what
        // lanwatch does anyway.
        let c = parse("http_server_config:\n  http2: false\n  headers:\n    X-Frame-Options: ''\n")
            .unwrap();
        assert!(c.headers.is_empty());
        assert_eq!(
            parse("http_server_config: {}\n").unwrap(),
            WebConfig::default()
        );
    }

    #[test]
    fn headers_the_toolkit_does_not_let_be_set_are_refused_by_name() {
        // The toolkit's bad examples, and headers lanwatch sets itself.
        for (header, value) in [
            ("Content-Type", "foo"),
            ("Content-Encoding", "identity"),
            ("WWW-Authenticate", "None"),
            ("Set-Cookie", "a=b"),
        ] {
            let text = format!("http_server_config:\n  headers:\n    {header}: {value}\n");
            let e = parse(&text).unwrap_err().to_string();
            assert!(e.contains("web.yml:3"), "{e}");
            assert!(
                e.contains(&format!("http_server_config.headers.{header}")),
                "{e}"
            );
            assert!(e.contains("cannot be set"), "{e}");
        }
        for (header, value) in [
            ("X-Content-Type-Options", "sniff"),
            ("X-Frame-Options", "foo"),
        ] {
            let text = format!("http_server_config:\n  headers:\n    {header}: {value}\n");
            let e = parse(&text).unwrap_err().to_string();
            assert!(
                e.contains(header) && e.contains("not an allowed value"),
                "{e}"
            );
        }
    }

    #[test]
    fn unknown_or_malformed_http_server_config_keys_are_refused_by_name() {
        let e = parse("http_server_config:\n  http3: true\n")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("web.yml:2") && e.contains("http_server_config.http3"),
            "{e}"
        );
        let e = parse("http_server_config:\n  http2: maybe\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http_server_config.http2"), "{e}");
        let e = parse("http_server_config:\n  headers: deny\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("http_server_config.headers"), "{e}");
        let e = parse("http_server_config:\n  headers:\n    X-Frame-Options: deny\n    x-frame-options: deny\n")
            .unwrap_err()
            .to_string();
        assert!(e.contains("web.yml:4") && e.contains("twice"), "{e}");
        // Deeper than the headers mapping, or a mapping where a scalar belongs.
        assert!(
            parse("http_server_config:\n  headers:\n    X-Frame-Options:\n      a: b\n").is_err()
        );
        assert!(parse("tls_server_config:\n  cert_file:\n    a: b\n").is_err());
        assert!(parse("basic_auth_users:\n  alice:\n    a: b\n").is_err());
    }

    #[test]
    fn a_password_that_is_not_a_bcrypt_hash_is_refused() {
        let e = parse("basic_auth_users:\n  alice: secret\n").unwrap_err();
        assert!(e.to_string().contains("not a bcrypt hash"), "{e}");
    }

    #[test]
    fn half_a_tls_config_is_refused() {
        assert!(parse("tls_server_config:\n  cert_file: a\n").is_err());
    }

    #[test]
    fn yaml_beyond_the_subset_is_refused_with_its_line() {
        for bad in [
            "basic_auth_users:\n  - alice\n",
            "basic_auth_users: [a]\n",
            "basic_auth_users:\n  a: &x 1\n",
            "basic_auth_users:\n\ta: b\n",
            "basic_auth_users:\n  a: 'x\n",
            "  a: b\n",
            "basic_auth_users:\n  a:\n",
        ] {
            assert!(parse(bad).is_err(), "{bad:?}");
        }
        let e = parse("basic_auth_users:\n    a: b\n  c: d\n").unwrap_err();
        assert!(e.to_string().contains("web.yml:3"), "{e}");
    }

    #[test]
    fn basic_credentials_decode_and_others_do_not() {
        // "alice:open sesame" in base64.
        let (user, password) = BasicAuth::credentials(b"Basic YWxpY2U6b3BlbiBzZXNhbWU=").unwrap();
        assert_eq!(user, "alice");
        assert_eq!(password, b"open sesame");
        assert!(BasicAuth::credentials(b"Bearer abc").is_none());
        assert!(BasicAuth::credentials(b"Basic !!!").is_none());
        // "alice" without a colon.
        assert!(BasicAuth::credentials(b"Basic YWxpY2U=").is_none());
    }

    #[test]
    fn only_the_right_password_of_a_known_user_passes() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = BTreeMap::from([("alice".to_string(), hash.clone())]);
        let auth = BasicAuth::new(&users).unwrap();
        assert!(auth.verify("alice", b"s3cret"));
        // Remembered now; still exact.
        assert!(auth.verify("alice", b"s3cret"));
        assert!(!auth.verify("alice", b"s3cret "));
        assert!(!auth.verify("bob", b"s3cret"));
        // The dummy hash never lets anyone in, not even with its own text.
        assert!(!auth.verify("bob", b"lanwatch: no such user"));
        assert!(BasicAuth::new(&BTreeMap::new()).is_none());
    }

    #[test]
    fn a_remembered_login_is_forgotten_when_unused_for_its_time() {
        let hash = bcrypt::hash("s3cret", 4).unwrap();
        let users = BTreeMap::from([("alice".to_string(), hash)]);
        let auth = BasicAuth::new(&users).unwrap();
        let now = Instant::now();
        assert!(!auth.is_remembered("alice", b"s3cret", now));
        assert!(auth.verify("alice", b"s3cret"));
        assert!(auth.is_remembered("alice", b"s3cret", now));
        assert!(!auth.is_remembered("alice", b"s3cret!", now));
        // Each use starts the time again.
        let later = now + REMEMBER_LOGIN_FOR;
        assert!(auth.is_remembered("alice", b"s3cret", later));
        assert!(auth.is_remembered("alice", b"s3cret", later + REMEMBER_LOGIN_FOR));
        let unused = later + REMEMBER_LOGIN_FOR * 2 + Duration::from_secs(1);
        assert!(!auth.is_remembered("alice", b"s3cret", unused));
    }

    #[test]
    fn duplicate_keys_are_refused() {
        assert!(parse(&format!("basic_auth_users:\n  a: {HASH}\n  a: {HASH}\n")).is_err());
        assert!(parse("basic_auth_users:\nbasic_auth_users:\n").is_err());
    }
}
