//! `lanwatch rpcd`: the rpcd exec plugin behind LuCI's ubus object
//! `luci.lanwatch` (installed as `/usr/libexec/rpcd/luci.lanwatch`, a
//! two-line shell wrapper).
//!
//! rpcd's exec-plugin protocol: at start rpcd runs `PLUGIN list` and reads
//! one JSON object from stdout mapping each method to its argument
//! signature (`{"mac": "str"}`: a string argument); for a call it runs
//! `PLUGIN call METHOD`, writes the arguments as one JSON object on stdin
//! (then closes it), and replies with the one JSON object read from stdout.
//! The exit status is not looked at, and anything but an object on stdout
//! becomes a bare ubus error. So every outcome here is an object on stdout
//! and exit status 0: the API's own JSON, or `{"error": "..."}` saying what
//! went wrong — the daemon not running, a timeout, a refused login, a bad
//! configuration line.
//!
//! The daemon is found the way the service starts it: the listen address
//! and login come from `/etc/config/lanwatch`, resolved by the same code as
//! `lanwatch check-config` ([`crate::config`]; `listen_interface` through
//! netifd's interface dump). Each call is one short HTTP GET on the router
//! itself ([`client`]), bounded in time end to end, so a stuck daemon never
//! stalls rpcd (and LuCI) for more than a few seconds.

pub mod client;

use std::io::Read;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use serde_json::{json, Map, Value};

use crate::config::{self, ConfigError, Settings};
use crate::export::json::ClientKey;
use crate::export::webconfig::WebConfig;

/// Environment variable naming the configuration file (for tests).
pub const CONFIG_ENV: &str = "LANWATCH_CONFIG";

/// Environment variable naming a file holding netifd's interface dump,
/// used instead of asking ubus (for tests).
pub const INTERFACES_DUMP_ENV: &str = "LANWATCH_INTERFACES_DUMP";

/// The largest answer taken from the daemon.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// How long `ubus call network.interface dump` may take.
const UBUS_TIMEOUT: Duration = Duration::from_secs(2);

/// How long the call's arguments may take to arrive on stdin.
const ARGUMENTS_TIMEOUT: Duration = Duration::from_secs(1);

/// The largest argument object read.
const MAX_ARGUMENT_BYTES: u64 = 64 * 1024;

/// The methods of `luci.lanwatch`: name, argument signature, and what each
/// asks the daemon for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Method {
    /// `GET /api/v1/clients`, no arguments.
    Clients,
    /// `GET /api/v1/clients/{mac}`, argument `mac` (a MAC or IP address).
    Client,
    /// `GET /api/v1/health`, no arguments.
    Health,
}

impl Method {
    pub const ALL: [Method; 3] = [Method::Clients, Method::Client, Method::Health];

    pub fn name(self) -> &'static str {
        match self {
            Method::Clients => "clients",
            Method::Client => "client",
            Method::Health => "health",
        }
    }

    /// The argument signature `list` announces.
    fn signature(self) -> Value {
        match self {
            Method::Clients | Method::Health => json!({}),
            Method::Client => json!({ "mac": "str" }),
        }
    }

    pub fn from_name(name: &str) -> Option<Method> {
        Method::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// Where the configuration (and, in tests, netifd's answer) comes from.
#[derive(Clone, Debug)]
pub struct Options {
    pub config: PathBuf,
    pub interfaces_dump: Option<PathBuf>,
}

impl Options {
    /// The flags given, else the environment ([`CONFIG_ENV`],
    /// [`INTERFACES_DUMP_ENV`]), else the router's own files.
    pub fn new(config: Option<PathBuf>, interfaces_dump: Option<PathBuf>) -> Options {
        let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
        Options {
            config: config
                .or_else(|| env(CONFIG_ENV).map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(config::DEFAULT_PATH)),
            interfaces_dump: interfaces_dump
                .or_else(|| env(INTERFACES_DUMP_ENV).map(PathBuf::from)),
        }
    }
}

/// What `lanwatch rpcd list` prints: every method with its signature.
pub fn list() -> String {
    let methods: Map<String, Value> = Method::ALL
        .into_iter()
        .map(|m| (m.name().to_string(), m.signature()))
        .collect();
    Value::Object(methods).to_string()
}

/// What `lanwatch rpcd call METHOD` prints: always one JSON object.
/// `arguments` is read only by methods that take any.
pub fn call(method: &str, options: &Options, arguments: impl Read + Send + 'static) -> String {
    match answer(method, options, arguments) {
        Ok(object) => object,
        Err(message) => error(&message),
    }
}

/// `{"error": MESSAGE}`.
pub fn error(message: &str) -> String {
    json!({ "error": message }).to_string()
}

fn answer(
    method: &str,
    options: &Options,
    arguments: impl Read + Send + 'static,
) -> Result<String, String> {
    let method = Method::from_name(method).ok_or_else(|| {
        let known: Vec<&str> = Method::ALL.iter().map(|m| m.name()).collect();
        format!(
            "unknown method {method:?} (luci.lanwatch has {})",
            known.join(", ")
        )
    })?;
    let path = match method {
        Method::Clients => "/api/v1/clients".to_string(),
        Method::Health => "/api/v1/health".to_string(),
        Method::Client => format!("/api/v1/clients/{}", client_key(arguments)?),
    };
    let target = Target::resolve(options)?;
    target.fetch(&path)
}

/// The `mac` argument of `client`, checked to be a client key (a MAC or an
/// IP address) before it goes into a path.
fn client_key(arguments: impl Read + Send + 'static) -> Result<String, String> {
    let usage = r#"method client needs {"mac": "aa:bb:cc:dd:ee:ff"} (a MAC or an IP address)"#;
    let text = read_arguments(arguments)?;
    let value: Value = if text.trim().is_empty() {
        json!({})
    } else {
        serde_json::from_str(&text).map_err(|e| format!("arguments are not JSON ({e})"))?
    };
    let key = value
        .get("mac")
        .and_then(Value::as_str)
        .ok_or_else(|| usage.to_string())?;
    key.parse::<ClientKey>().map_err(|e| e.to_string())?;
    Ok(key.to_string())
}

/// Everything on stdin, within [`ARGUMENTS_TIMEOUT`] and
/// [`MAX_ARGUMENT_BYTES`] (rpcd writes the object and closes the pipe).
fn read_arguments(input: impl Read + Send + 'static) -> Result<String, String> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("rpcd-stdin".into())
        .spawn(move || {
            let mut bytes = Vec::new();
            let outcome = input
                .take(MAX_ARGUMENT_BYTES.saturating_add(1))
                .read_to_end(&mut bytes)
                .map(|_| bytes);
            let _ = tx.send(outcome);
        })
        .map_err(|e| format!("cannot read the arguments: {e}"))?;
    let bytes = match rx.recv_timeout(ARGUMENTS_TIMEOUT) {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(e)) => return Err(format!("cannot read the arguments from stdin: {e}")),
        Err(_) => {
            return Err(format!(
                "no arguments on stdin within {} s",
                ARGUMENTS_TIMEOUT.as_secs()
            ))
        }
    };
    if bytes.len() as u64 > MAX_ARGUMENT_BYTES {
        return Err(format!("arguments larger than {MAX_ARGUMENT_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "the arguments are not UTF-8".to_string())
}

/// The daemon the configuration describes.
#[derive(Debug)]
struct Target {
    addr: SocketAddr,
    /// The `Authorization` header value, and the user it logs in as.
    login: Option<(String, String)>,
    config: String,
}

impl Target {
    fn resolve(options: &Options) -> Result<Target, String> {
        let file = options.config.display().to_string();
        let text = std::fs::read_to_string(&options.config)
            .map_err(|e| format!("cannot read {file}: {e}"))?;
        let settings = Settings::from_text(&text).map_err(|errors| {
            let more = errors.len().saturating_sub(1);
            let first = errors
                .first()
                .map(|e| bad_config(&file, e))
                .unwrap_or_else(|| format!("bad configuration in {file}"));
            if more > 0 {
                format!("{first} (and {more} more problem(s): run lanwatch check-config)")
            } else {
                first
            }
        })?;
        let dump = match settings.listen {
            config::ListenOn::Address(_) => r#"{"interface":[]}"#.to_string(),
            config::ListenOn::Network(_) => interfaces_dump(options.interfaces_dump.as_deref())?,
        };
        let firewall = options
            .config
            .parent()
            .map(|dir| dir.join("firewall"))
            .and_then(|path| std::fs::read_to_string(path).ok());
        let system = config::System::new(&dump, Path::new("/sys"), firewall.as_deref())?;
        let (listen, _) =
            config::resolve_listen(&settings, &system).map_err(|e| bad_config(&file, &e))?;
        let addr = connect_address(&listen)
            .ok_or_else(|| format!("bad configuration in {file}: listen address {listen:?}"))?;
        if let Some(web_config) = &settings.web_config {
            if let Ok(parsed) = WebConfig::load(Path::new(web_config)) {
                if parsed.tls.is_some() {
                    return Err(format!(
                        "lanwatch serves HTTPS (tls_server_config in {web_config}); the LuCI \
                         backend speaks plain HTTP only"
                    ));
                }
            }
        }
        let login = settings.web_login.as_ref().map(|login| {
            use base64::Engine;
            let pair = format!("{}:{}", login.user, login.password);
            let encoded = base64::engine::general_purpose::STANDARD.encode(pair);
            (format!("Basic {encoded}"), login.user.clone())
        });
        Ok(Target {
            addr,
            login,
            config: file,
        })
    }

    fn fetch(&self, path: &str) -> Result<String, String> {
        use client::FetchError;
        let addr = self.addr;
        let authorization = self.login.as_ref().map(|(header, _)| header.as_str());
        let response =
            client::get(addr, path, authorization, MAX_ANSWER_BYTES).map_err(|e| match e {
                FetchError::Refused => format!(
                    "lanwatch is not running: connection refused at {addr} (logread -e lanwatch)"
                ),
                FetchError::ConnectTimeout => format!("no connection to lanwatch at {addr}: {e}"),
                FetchError::Timeout => format!("lanwatch at {addr} is not answering: {e}"),
                FetchError::ClosedUnanswered => format!(
                    "lanwatch at {addr} closed the connection without answering (is the \
                     router left off its --allow-scraper list?)"
                ),
                e => format!("lanwatch at {addr}: {e}"),
            })?;
        let object = std::str::from_utf8(&response.body)
            .ok()
            .filter(|text| serde_json::from_str::<Value>(text).is_ok_and(|value| value.is_object()))
            .map(|text| text.trim_end().to_string());
        match (response.status, object) {
            (200, Some(object)) => Ok(object),
            (200, None) => Err(format!(
                "lanwatch at {addr} answered {path} with something that is not a JSON object"
            )),
            (401, _) => Err(match &self.login {
                Some((_, user)) => format!(
                    "401: lanwatch at {addr} refused the login of web_user '{user}': bad \
                     credentials (check web_user and web_password in {})",
                    self.config
                ),
                None => format!(
                    "401: lanwatch at {addr} asks for a login: set web_user and web_password \
                     in {}",
                    self.config
                ),
            }),
            // The API's own errors (no such client, a bad key) are objects.
            (_, Some(object)) if object.contains("\"error\"") => Ok(object),
            (status, _) => Err(format!(
                "lanwatch at {addr} answered {path} with HTTP {status}"
            )),
        }
    }
}

/// A configuration problem as `bad configuration at FILE:LINE: what`.
fn bad_config(file: &str, e: &ConfigError) -> String {
    let text = e.to_string();
    match e.line() {
        Some(line) => {
            let what = text
                .strip_prefix(&format!("line {line}: "))
                .unwrap_or(&text);
            format!("bad configuration at {file}:{line}: {what}")
        }
        None => format!("bad configuration in {file}: {text}"),
    }
}

/// The address to connect to for `--listen ADDR:PORT`: the same, except
/// that an unspecified address (all interfaces) means loopback.
fn connect_address(listen: &str) -> Option<SocketAddr> {
    let mut addr: SocketAddr = listen.parse().ok()?;
    if addr.ip().is_unspecified() {
        addr.set_ip(match addr.ip() {
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::LOCALHOST),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::LOCALHOST),
        });
    }
    Some(addr)
}

/// netifd's interface dump: from `file` if given, else from
/// `ubus call network.interface dump`, within [`UBUS_TIMEOUT`].
fn interfaces_dump(file: Option<&Path>) -> Result<String, String> {
    if let Some(path) = file {
        return std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()));
    }
    let what = "ubus call network.interface dump";
    let mut child = Command::new("ubus")
        .args(["call", "network.interface", "dump"])
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run {what} to resolve listen_interface: {e}"))?;
    let stdout = child.stdout.take();
    let (tx, rx) = mpsc::channel();
    let reader = std::thread::Builder::new()
        .name("ubus".into())
        .spawn(move || {
            let mut text = String::new();
            let outcome = stdout
                .map(|out| out.take(4 * 1024 * 1024).read_to_string(&mut text))
                .transpose();
            let _ = tx.send(outcome.map(|_| text));
        });
    if let Err(e) = reader {
        let _ = child.kill();
        let _ = child.wait();
        return Err(format!("cannot read {what}: {e}"));
    }
    let outcome = rx.recv_timeout(UBUS_TIMEOUT);
    if outcome.is_err() {
        let _ = child.kill();
    }
    let status = child.wait();
    match (outcome, status) {
        (Ok(Ok(text)), Ok(status)) if status.success() => Ok(text),
        (Err(_), _) => Err(format!(
            "{what} did not answer within {} s (is netifd running?)",
            UBUS_TIMEOUT.as_secs()
        )),
        (Ok(Err(e)), _) => Err(format!("cannot read {what}: {e}")),
        (Ok(Ok(_)), Ok(status)) => Err(format!("{what} failed ({status})")),
        (Ok(Ok(_)), Err(e)) => Err(format!("{what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn list_announces_every_method_with_its_signature() {
        let listed: Value = serde_json::from_str(&list()).unwrap();
        assert_eq!(
            listed,
            json!({"clients": {}, "health": {}, "client": {"mac": "str"}})
        );
    }

    #[test]
    fn an_unspecified_listen_address_is_reached_on_loopback() {
        assert_eq!(
            connect_address("0.0.0.0:19477"),
            Some("127.0.0.1:19477".parse().unwrap())
        );
        assert_eq!(
            connect_address("[::]:19477"),
            Some("[::1]:19477".parse().unwrap())
        );
        assert_eq!(
            connect_address("[fd00::1]:19477"),
            Some("[fd00::1]:19477".parse().unwrap())
        );
    }

    #[test]
    fn client_keys_are_checked_before_they_become_a_path() {
        let key = |text: &'static str| client_key(text.as_bytes());
        assert_eq!(
            key(r#"{"mac":"AA:BB:CC:DD:EE:FF"}"#).unwrap(),
            "AA:BB:CC:DD:EE:FF"
        );
        assert_eq!(key(r#"{"mac":"fd00::23"}"#).unwrap(), "fd00::23");
        for bad in [
            r#"{"mac":"../health"}"#,
            r#"{"mac":"aa:bb/../x"}"#,
            r#"{"mac":7}"#,
            "{}",
            "",
            "[1]",
            "{",
        ] {
            assert!(key(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn an_unknown_method_is_an_error_object() {
        let options = Options {
            config: PathBuf::from("/nonexistent"),
            interfaces_dump: None,
        };
        let out: Value = serde_json::from_str(&call("stop", &options, std::io::empty())).unwrap();
        assert!(out["error"].as_str().unwrap().contains("unknown method"));
        let out: Value =
            serde_json::from_str(&call("clients", &options, std::io::empty())).unwrap();
        assert!(out["error"]
            .as_str()
            .unwrap()
            .starts_with("cannot read /nonexistent"));
    }

    #[test]
    fn configuration_problems_name_file_and_line() {
        let e = Settings::from_text("config lanwatch\n option listen_port 'x'\n").unwrap_err();
        assert_eq!(
            bad_config("/etc/config/lanwatch", &e[0]),
            "bad configuration at /etc/config/lanwatch:2: option 'listen_port': \"x\" is not a port from 1 to 65535"
        );
    }
}
