//! lanwatch's OpenWrt configuration (`/etc/config/lanwatch`): what each
//! option means, which values are valid, and the `lanwatch capture` command
//! line a configuration implies.
//!
//! The init script builds the daemon's command line from the same file, in
//! shell; `lanwatch check-config` builds it here, so a user can see what the
//! service will run before restarting it, and the test suite checks that the
//! two agree. The order of the arguments is therefore part of the contract
//! (see [`Plan::args`]); both sides follow the table in `docs/openwrt.md`.
//!
//! Validation happens in two steps. [`Settings::from_package`] checks every
//! option on its own (type, range, known name) and collects *all* problems,
//! each naming the option and its line. [`plan`] then resolves what needs
//! the system — the devices behind the `network` option, the listen address
//! behind `listen_interface` — through a [`Network`] (netifd's interface
//! dump and sysfs on the router; fixed answers in tests) and refuses to
//! serve on a WAN network.
//!
//! Who may use the API is part of the configuration too: the allow-list
//! always holds the router itself (loopback and the listen address, so the
//! LuCI backend on the router is never shut out) plus `allow_scraper`; a
//! login is either a user-managed `web_config` file or `web_user` and
//! `web_password`, which the service turns into a generated web-config
//! file ([`login`]).

pub mod login;
pub mod uci;

use std::fmt;
use std::net::{IpAddr, Ipv4Addr};
use std::path::{Path, PathBuf};
use std::str::FromStr;

use ipnet::IpNet;

use crate::decode::Mac;

/// Where the init script reads its configuration.
pub const DEFAULT_PATH: &str = "/etc/config/lanwatch";

/// Where the package installs the binary.
pub const INSTALLED_PROGRAM: &str = "/usr/sbin/lanwatch";

/// The API port when `listen_port` is not set.
pub const DEFAULT_PORT: u16 = 19477;

/// The state file when `state_file` is not set: on tmpfs, so it survives a
/// restart of the daemon (procd's respawns included) but not a reboot.
pub const DEFAULT_STATE_FILE: &str = "/tmp/lanwatch/state.json";

/// The web-config file the service writes from `web_user`/`web_password`
/// (on tmpfs, mode 0600, owned by `user`).
pub const GENERATED_WEB_CONFIG: &str = "/var/run/lanwatch/web.yml";

/// The router itself, always on the allow-list (the listen address is
/// added too when it is not a loopback address).
pub const ROUTER_SCRAPERS: [&str; 2] = ["127.0.0.0/8", "::1"];

/// The section type of lanwatch's settings.
const SECTION: &str = "lanwatch";

/// A problem with the configuration, naming the option and line.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{0}")]
    Syntax(#[from] uci::SyntaxError),
    #[error("no 'config {SECTION}' section")]
    NoSection,
    #[error("line {line}: more than one 'config {SECTION}' section (only the first is used)")]
    SecondSection { line: usize },
    #[error("line {line}: unknown section type {kind:?} (expected '{SECTION}')")]
    UnknownSection { kind: String, line: usize },
    #[error("line {line}: unknown option '{option}'")]
    UnknownOption { option: String, line: usize },
    #[error("line {line}: option '{option}': {value:?} is not {expected}")]
    Invalid {
        option: &'static str,
        line: usize,
        value: String,
        expected: &'static str,
    },
    #[error("line {line}: option '{option}': '{network}' is a WAN network; lanwatch never serves its API on WAN")]
    Wan {
        option: &'static str,
        line: usize,
        network: String,
    },
    #[error("line {line}: option '{option}' needs option '{needs}' too")]
    Needs {
        option: &'static str,
        line: usize,
        needs: &'static str,
    },
    #[error("{}option '{option}': {what}", line.map(|l| format!("line {l}: ")).unwrap_or_default())]
    Resolve {
        option: &'static str,
        line: Option<usize>,
        what: String,
    },
}

impl ConfigError {
    /// The line the problem is on, where there is one.
    pub fn line(&self) -> Option<usize> {
        match self {
            ConfigError::Syntax(e) => Some(e.line),
            ConfigError::NoSection => None,
            ConfigError::SecondSection { line }
            | ConfigError::UnknownSection { line, .. }
            | ConfigError::UnknownOption { line, .. }
            | ConfigError::Invalid { line, .. }
            | ConfigError::Wan { line, .. }
            | ConfigError::Needs { line, .. } => Some(*line),
            ConfigError::Resolve { line, .. } => *line,
        }
    }
}

/// Where to capture.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CaptureOn {
    /// `list interface`: these devices.
    Devices(Vec<String>),
    /// `option network` (default `lan`): the member ports of that network's
    /// bridge, or its device if it is no bridge.
    NetworkPorts(String),
}

/// Where to serve the API.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ListenOn {
    /// As written (validated).
    Address(String),
    /// The first IPv4 address of this network (default `lan`).
    Network(String),
}

/// A validated configuration. `None`/empty means "not set": the daemon's
/// default applies and no flag is passed. Values that become arguments are
/// kept as written (once validated), exactly as the init script passes them.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub enabled: bool,
    pub capture: CaptureOn,
    pub promiscuous: bool,
    pub snaplen: Option<String>,
    pub listen: ListenOn,
    /// Line of the listen option, for errors found while resolving it.
    pub listen_line: Option<usize>,
    pub listen_port: String,
    pub lan_prefixes: Vec<String>,
    pub router_macs: Vec<String>,
    pub max_clients: Option<String>,
    pub max_flows: Option<String>,
    /// (flag, seconds) in the order of [`TIMEOUTS`].
    pub timeouts: Vec<(&'static str, String)>,
    pub protocols: Option<String>,
    pub leases: Option<String>,
    pub exclude_macs: Vec<String>,
    pub export_dns_names: bool,
    pub user: Option<String>,
    pub group: Option<String>,
    /// `seccomp '0'`: no system-call allow-list after the drop (debugging).
    pub seccomp: bool,
    pub log_level: Option<String>,
    /// `allow_scraper`: peers allowed besides the router itself, as written.
    pub allow_scrapers: Vec<String>,
    /// `web_config`: a user-managed web-config file.
    pub web_config: Option<String>,
    /// `web_user` and `web_password`: the simple login.
    pub web_login: Option<WebLogin>,
    /// `state_file`, or [`DEFAULT_STATE_FILE`].
    pub state_file: String,
    /// `state_interval`: minutes between saves.
    pub state_interval: Option<String>,
}

/// The login of `web_user` and `web_password`.
#[derive(Clone, PartialEq, Eq)]
pub struct WebLogin {
    pub user: String,
    pub password: String,
}

impl fmt::Debug for WebLogin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("WebLogin")
            .field("user", &self.user)
            .field("password", &"…")
            .finish()
    }
}

/// Timeout options and their flags, in command-line order.
pub const TIMEOUTS: [(&str, &str); 6] = [
    ("tcp_timeout", "--tcp-timeout"),
    ("tcp_closing_timeout", "--tcp-closing-timeout"),
    ("udp_timeout", "--udp-timeout"),
    ("udp_replied_timeout", "--udp-replied-timeout"),
    ("icmp_timeout", "--icmp-timeout"),
    ("other_timeout", "--other-timeout"),
];

/// Every option the section may hold.
const KNOWN: [&str; 33] = [
    "enabled",
    "network",
    "interface",
    "promiscuous",
    "snaplen",
    "listen_interface",
    "listen_address",
    "listen_port",
    "lan_prefix",
    "router_mac",
    "max_clients",
    "max_flows",
    "tcp_timeout",
    "tcp_closing_timeout",
    "udp_timeout",
    "udp_replied_timeout",
    "icmp_timeout",
    "other_timeout",
    "protocols",
    "leases",
    "exclude_mac",
    "export_dns_names",
    "user",
    "group",
    "seccomp",
    "log_level",
    "allow_scraper",
    "web_config",
    "web_user",
    "web_password",
    "state_file",
    "state_interval",
    // Accepted for LuCI's benefit: the page refresh interval.
    "refresh",
];

/// UCI booleans as OpenWrt's `config_get_bool` reads them.
pub fn uci_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "yes" | "on" | "true" | "enabled" => Some(true),
        "0" | "no" | "off" | "false" | "disabled" => Some(false),
        _ => None,
    }
}

/// Network and device names: what netifd and the kernel accept.
fn is_ifname(s: &str) -> bool {
    !s.is_empty()
        && s.len() < 16
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.@".contains(&b))
}

/// User and group names as busybox adduser accepts them.
fn is_account(s: &str) -> bool {
    let mut bytes = s.bytes();
    matches!(bytes.next(), Some(b) if b.is_ascii_lowercase() || b == b'_' || b.is_ascii_digit())
        && s.len() <= 32
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_' || b == b'-')
}

/// A `web_user`: what the generated web-config file can hold unquoted.
fn is_web_user(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b))
}

/// An `allow_scraper` item: what `--allow-scraper` accepts.
fn is_address_or_prefix(s: &str) -> bool {
    s.parse::<IpNet>().is_ok() || s.parse::<IpAddr>().is_ok()
}

/// Reads the options of one section, collecting every problem.
struct Reader<'a> {
    section: &'a uci::Section,
    errors: Vec<ConfigError>,
}

impl<'a> Reader<'a> {
    fn line(&self, option: &str) -> usize {
        self.section
            .get(option)
            .map_or(self.section.line, |o| o.line)
    }

    fn invalid(&mut self, option: &'static str, value: &str, expected: &'static str) {
        let line = self.line(option);
        self.errors.push(ConfigError::Invalid {
            option,
            line,
            value: value.to_string(),
            expected,
        });
    }

    /// The single value of `option`, `None` if unset or empty.
    fn value(&self, option: &str) -> Option<&'a str> {
        self.section.value(option).filter(|v| !v.is_empty())
    }

    fn items(&self, option: &str) -> Vec<&'a str> {
        self.section
            .get(option)
            .map(|o| {
                o.value
                    .items()
                    .iter()
                    .map(String::as_str)
                    .filter(|v| !v.is_empty())
                    .collect()
            })
            .unwrap_or_default()
    }

    fn bool(&mut self, option: &'static str, default: bool) -> bool {
        match self.value(option) {
            None => default,
            Some(v) => uci_bool(v).unwrap_or_else(|| {
                self.invalid(option, v, "a boolean (1/0, yes/no, on/off, true/false)");
                default
            }),
        }
    }

    fn number(
        &mut self,
        option: &'static str,
        min: u64,
        max: u64,
        expected: &'static str,
    ) -> Option<String> {
        let v = self.value(option)?;
        match v.parse::<u64>() {
            Ok(n) if (min..=max).contains(&n) => Some(v.to_string()),
            _ => {
                self.invalid(option, v, expected);
                None
            }
        }
    }

    /// The items of a list that parse as `T`, as written.
    fn parsed_list<T: FromStr>(
        &mut self,
        option: &'static str,
        expected: &'static str,
    ) -> Vec<String> {
        let mut out = Vec::new();
        for item in self.items(option) {
            match item.parse::<T>() {
                Ok(_) => out.push(item.to_string()),
                Err(_) => self.invalid(option, item, expected),
            }
        }
        out
    }

    fn path(&mut self, option: &'static str) -> Option<String> {
        let v = self.value(option)?;
        if v.starts_with('/') {
            Some(v.to_string())
        } else {
            self.invalid(option, v, "an absolute path");
            None
        }
    }

    fn name(
        &mut self,
        option: &'static str,
        check: fn(&str) -> bool,
        expected: &'static str,
    ) -> Option<String> {
        let v = self.value(option)?;
        if check(v) {
            Some(v.to_string())
        } else {
            self.invalid(option, v, expected);
            None
        }
    }
}

impl Settings {
    /// Validates a parsed lanwatch configuration; every problem is
    /// reported, not just the first.
    pub fn from_package(package: &uci::Package) -> Result<Settings, Vec<ConfigError>> {
        let (section, errors) = our_section(package)?;
        let mut r = Reader { section, errors };

        let enabled = r.bool("enabled", true);
        let capture = r.capture_on();
        let promiscuous = r.bool("promiscuous", true);
        let snaplen = r.number("snaplen", 96, 65535, "a snap length from 96 to 65535 bytes");
        let (listen, listen_line) = r.listen_on();
        let listen_port = r
            .number("listen_port", 1, 65535, "a port from 1 to 65535")
            .unwrap_or_else(|| DEFAULT_PORT.to_string());
        let lan_prefixes =
            r.parsed_list::<IpNet>("lan_prefix", "a prefix in CIDR notation (192.168.1.0/24)");
        let router_macs = r.parsed_list::<Mac>("router_mac", "a MAC address (aa:bb:cc:dd:ee:ff)");
        let max_clients = r.number("max_clients", 1, 1_000_000, "a number from 1 to 1000000");
        let max_flows = r.number("max_flows", 1, 10_000_000, "a number from 1 to 10000000");
        let timeouts = r.timeouts();
        let protocols = r.path("protocols");
        let leases = r.path("leases");
        let exclude_macs = r.parsed_list::<Mac>("exclude_mac", "a MAC address (aa:bb:cc:dd:ee:ff)");
        let export_dns_names = r.bool("export_dns_names", true);
        let user = r.name("user", is_account, "a user name");
        let group = r.name("group", is_account, "a group name");
        let seccomp = r.bool("seccomp", true);
        let log_level = r.log_level();
        let allow_scrapers = r.allow_scrapers();
        let web_config = r.path("web_config");
        let web_login = r.web_login();
        let (state_file, state_interval) = r.state();
        r.finish(user.is_some(), group.is_some())?;
        Ok(Settings {
            enabled,
            capture,
            promiscuous,
            snaplen,
            listen,
            listen_line,
            listen_port,
            lan_prefixes,
            router_macs,
            max_clients,
            max_flows,
            timeouts,
            protocols,
            leases,
            exclude_macs,
            export_dns_names,
            user,
            group,
            seccomp,
            log_level,
            allow_scrapers,
            web_config,
            web_login,
            state_file,
            state_interval,
        })
    }

    /// Parses and validates a configuration file's text.
    pub fn from_text(text: &str) -> Result<Settings, Vec<ConfigError>> {
        let package = uci::parse(text).map_err(|e| vec![ConfigError::Syntax(e)])?;
        Settings::from_package(&package)
    }
}

/// The package's one lanwatch section, with the problems of the package's
/// shape (foreign sections, a second section, unknown options) found so far;
/// without a section, those problems and [`ConfigError::NoSection`].
fn our_section(
    package: &uci::Package,
) -> Result<(&uci::Section, Vec<ConfigError>), Vec<ConfigError>> {
    let mut errors = Vec::new();
    for section in &package.sections {
        if section.kind != SECTION {
            errors.push(ConfigError::UnknownSection {
                kind: section.kind.clone(),
                line: section.line,
            });
        }
    }
    let mut ours = package.sections_of(SECTION);
    let Some(section) = ours.next() else {
        errors.push(ConfigError::NoSection);
        return Err(errors);
    };
    if let Some(second) = ours.next() {
        errors.push(ConfigError::SecondSection { line: second.line });
    }
    for option in &section.options {
        if !KNOWN.contains(&option.name.as_str()) {
            errors.push(ConfigError::UnknownOption {
                option: option.name.clone(),
                line: option.line,
            });
        }
    }
    Ok((section, errors))
}

/// The option groups of [`Settings::from_package`], each read in the order
/// the options' problems are reported.
impl Reader<'_> {
    /// `interface` (devices) or else `network` (its bridge ports).
    fn capture_on(&mut self) -> CaptureOn {
        let devices: Vec<String> = self
            .items("interface")
            .into_iter()
            .filter_map(|d| {
                if is_ifname(d) {
                    Some(d.to_string())
                } else {
                    self.invalid(
                        "interface",
                        d,
                        "a device name (1-15 letters, digits, '-', '_', '.')",
                    );
                    None
                }
            })
            .collect();
        let network = self
            .name("network", is_ifname, "a network name")
            .unwrap_or_else(|| "lan".to_string());
        if devices.is_empty() {
            CaptureOn::NetworkPorts(network)
        } else {
            CaptureOn::Devices(devices)
        }
    }

    /// `listen_address` or else `listen_interface`, with the line that
    /// chose it.
    fn listen_on(&mut self) -> (ListenOn, Option<usize>) {
        let listen_address = self
            .value("listen_address")
            .and_then(|v| match v.parse::<IpAddr>() {
                Ok(ip) if ip.is_unspecified() => {
                    self.invalid(
                        "listen_address",
                        v,
                        "a LAN address (0.0.0.0 and :: would serve on WAN too)",
                    );
                    None
                }
                Ok(_) => Some(v.to_string()),
                Err(_) => {
                    self.invalid("listen_address", v, "an IP address");
                    None
                }
            });
        match listen_address {
            Some(ip) => (ListenOn::Address(ip), Some(self.line("listen_address"))),
            None => {
                let network = self
                    .name("listen_interface", is_ifname, "a network name")
                    .unwrap_or_else(|| "lan".to_string());
                let line = self.section.get("listen_interface").map(|o| o.line);
                (ListenOn::Network(network), line)
            }
        }
    }

    /// The flow and client timeouts set, as (flag, seconds).
    fn timeouts(&mut self) -> Vec<(&'static str, String)> {
        let mut timeouts = Vec::new();
        for (option, flag) in TIMEOUTS {
            if let Some(s) = self.number(
                option,
                1,
                31_536_000,
                "a number of seconds from 1 to 31536000",
            ) {
                timeouts.push((flag, s));
            }
        }
        timeouts
    }

    fn log_level(&mut self) -> Option<String> {
        self.value("log_level").and_then(|v| {
            if ["error", "warn", "info", "debug", "trace"].contains(&v) {
                Some(v.to_string())
            } else {
                self.invalid("log_level", v, "one of error, warn, info, debug, trace");
                None
            }
        })
    }

    fn allow_scrapers(&mut self) -> Vec<String> {
        let mut allow_scrapers = Vec::new();
        for item in self.items("allow_scraper") {
            if is_address_or_prefix(item) {
                allow_scrapers.push(item.to_string());
            } else {
                self.invalid(
                    "allow_scraper",
                    item,
                    "an address or a prefix in CIDR notation (192.168.1.10, 192.168.1.0/24)",
                );
            }
        }
        allow_scrapers
    }

    /// `web_user` and `web_password`, which only come together.
    fn web_login(&mut self) -> Option<WebLogin> {
        let web_user = self.name(
            "web_user",
            is_web_user,
            "a user name (1-64 letters, digits, '.', '_', '-')",
        );
        let web_password = self.value("web_password").and_then(|v| {
            if v.len() <= 72 && !v.contains(['\n', '\r', '\0']) {
                Some(v.to_string())
            } else {
                // The value itself stays out of the message.
                self.invalid(
                    "web_password",
                    "…",
                    "a password of at most 72 bytes on one line (bcrypt's limit)",
                );
                None
            }
        });
        match (web_user, web_password) {
            (Some(user), Some(password)) => Some(WebLogin { user, password }),
            (None, None) => None,
            (user, _) => {
                let (option, needs) = if user.is_some() {
                    ("web_user", "web_password")
                } else {
                    ("web_password", "web_user")
                };
                // Only complain when the one given was valid itself.
                if self.value(option).is_some() && self.value(needs).is_none() {
                    let line = self.line(option);
                    self.errors.push(ConfigError::Needs {
                        option,
                        line,
                        needs,
                    });
                }
                None
            }
        }
    }

    /// `state_file` (or its default) and `state_interval`.
    fn state(&mut self) -> (String, Option<String>) {
        let state_file = self
            .path("state_file")
            .unwrap_or_else(|| DEFAULT_STATE_FILE.to_string());
        let state_interval = self.number(
            "state_interval",
            1,
            10_080,
            "a number of minutes from 1 to 10080",
        );
        (state_file, state_interval)
    }

    /// The last checks (`group` without `user`, `refresh`), then every
    /// problem found, by line.
    fn finish(&mut self, user: bool, group: bool) -> Result<(), Vec<ConfigError>> {
        if group && !user {
            let v = self.value("group").unwrap_or_default();
            self.invalid("group", v, "used without option 'user'");
        }
        let _ = self.number(
            "refresh",
            1,
            3600,
            "a refresh interval from 1 to 3600 seconds",
        );
        if !self.errors.is_empty() {
            let mut errors = std::mem::take(&mut self.errors);
            errors.sort_by_key(|e| e.line().unwrap_or(usize::MAX));
            return Err(errors);
        }
        Ok(())
    }
}

/// What the configuration needs to know about the router's networks.
pub trait Network {
    /// The device behind a logical network (`lan` → `br-lan`).
    fn device(&self, network: &str) -> Option<String>;
    /// The first IPv4 address of a logical network.
    fn ipv4(&self, network: &str) -> Option<Ipv4Addr>;
    /// The member ports of `device` if it is a bridge (or a VLAN device on
    /// top of one), sorted by name; `None` if it is no bridge.
    fn bridge_ports(&self, device: &str) -> Option<Vec<String>>;
    /// The networks of the firewall's `wan` zone.
    fn wan_networks(&self) -> Vec<String>;
}

/// The router's networks as netifd (`ubus call network.interface dump`),
/// sysfs and the firewall configuration describe them.
pub struct System {
    dump: serde_json::Value,
    sysfs: PathBuf,
    wan: Vec<String>,
}

impl System {
    /// `dump`: the JSON of `ubus call network.interface dump`; `sysfs`: where
    /// sysfs is mounted; `firewall`: the text of the firewall's UCI file.
    pub fn new(dump: &str, sysfs: &Path, firewall: Option<&str>) -> Result<System, String> {
        let dump = serde_json::from_str(dump).map_err(|e| format!("netifd interface dump: {e}"))?;
        Ok(System {
            dump,
            sysfs: sysfs.to_path_buf(),
            wan: wan_networks(firewall),
        })
    }

    fn interface(&self, network: &str) -> Option<&serde_json::Value> {
        self.dump
            .get("interface")?
            .as_array()?
            .iter()
            .find(|i| i.get("interface").and_then(|n| n.as_str()) == Some(network))
    }
}

/// The networks of the firewall zone named `wan`; `wan` and `wan6` when
/// there is no firewall file or no such zone.
pub fn wan_networks(firewall: Option<&str>) -> Vec<String> {
    let fallback = || vec!["wan".to_string(), "wan6".to_string()];
    let Some(package) = firewall.and_then(|t| uci::parse(t).ok()) else {
        return fallback();
    };
    let Some(zone) = package
        .sections_of("zone")
        .find(|z| z.value("name") == Some("wan"))
    else {
        return fallback();
    };
    // `option network 'wan wan6'` and `list network` are both used.
    zone.get("network")
        .map(|o| {
            o.value
                .items()
                .iter()
                .flat_map(|v| v.split_whitespace())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default()
}

impl Network for System {
    fn device(&self, network: &str) -> Option<String> {
        let i = self.interface(network)?;
        i.get("l3_device")
            .or_else(|| i.get("device"))
            .and_then(|d| d.as_str())
            .map(str::to_string)
    }

    fn ipv4(&self, network: &str) -> Option<Ipv4Addr> {
        self.interface(network)?
            .get("ipv4-address")?
            .as_array()?
            .first()?
            .get("address")?
            .as_str()?
            .parse()
            .ok()
    }

    fn bridge_ports(&self, device: &str) -> Option<Vec<String>> {
        let class = self.sysfs.join("class/net");
        let ports_of = |bridge: &str| -> Option<Vec<String>> {
            let mut ports: Vec<String> = std::fs::read_dir(class.join(bridge).join("brif"))
                .ok()?
                .filter_map(|e| e.ok())
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect();
            ports.sort();
            Some(ports)
        };
        if let Some(ports) = ports_of(device) {
            return Some(ports);
        }
        // br-lan.1: a VLAN device whose lower device is the bridge.
        let mut lowers: Vec<String> = std::fs::read_dir(class.join(device))
            .ok()?
            .filter_map(|e| e.ok())
            .filter_map(|e| {
                e.file_name()
                    .to_string_lossy()
                    .strip_prefix("lower_")
                    .map(str::to_string)
            })
            .collect();
        lowers.sort();
        lowers.iter().find_map(|lower| ports_of(lower))
    }

    fn wan_networks(&self) -> Vec<String> {
        self.wan.clone()
    }
}

/// What a configuration makes the service do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Plan {
    pub enabled: bool,
    /// The capture devices and where they came from.
    pub capture: Vec<String>,
    pub capture_from: String,
    /// `ADDR:PORT` as passed to `--listen`.
    pub listen: String,
    pub listen_from: String,
    /// The `--allow-scraper` entries, the router's own first.
    pub scrapers: Vec<String>,
    /// How many of them are the router's own.
    pub router_scrapers: usize,
    /// How a client logs in, in words.
    pub login: String,
    /// The state file and where the path came from, in words.
    pub state_file: String,
    /// The daemon's argv, program first, in the contract's order.
    pub args: Vec<String>,
    /// Non-fatal remarks.
    pub notes: Vec<String>,
}

/// Resolves `settings` against the router's networks into the command line.
pub fn plan(settings: &Settings, net: &dyn Network, program: &str) -> Result<Plan, ConfigError> {
    let (capture, capture_from) = resolve_capture(&settings.capture, net)?;
    let (listen, listen_from) = resolve_listen(settings, net)?;
    let (scrapers, router_scrapers) = scrapers(settings, &listen);
    let web_config = settings.web_config.clone().or_else(|| {
        settings
            .web_login
            .as_ref()
            .map(|_| GENERATED_WEB_CONFIG.to_string())
    });

    let mut args: Vec<String> = vec![program.to_string(), "capture".to_string()];
    capture_args(&mut args, settings, &capture, &listen);
    service_args(&mut args, settings, &scrapers, web_config.as_deref());

    let state_from = if settings.state_file == DEFAULT_STATE_FILE {
        "the default, on tmpfs: kept across restarts, not reboots"
    } else {
        "option state_file"
    };
    Ok(Plan {
        enabled: settings.enabled,
        capture,
        capture_from,
        listen,
        listen_from,
        scrapers,
        router_scrapers,
        login: login_in_words(settings),
        state_file: format!("{} ({state_from})", settings.state_file),
        args,
        notes: notes(settings),
    })
}

/// The capture devices and where they came from: the listed devices, or the
/// member ports of the network's bridge, or the network's device itself.
fn resolve_capture(
    capture: &CaptureOn,
    net: &dyn Network,
) -> Result<(Vec<String>, String), ConfigError> {
    match capture {
        CaptureOn::Devices(devices) => Ok((devices.clone(), "option interface".to_string())),
        CaptureOn::NetworkPorts(network) => {
            let device = net.device(network).ok_or_else(|| ConfigError::Resolve {
                option: "network",
                line: None,
                what: format!(
                    "network '{network}' has no device (is it defined and up?); \
                     name the capture devices with 'list interface'"
                ),
            })?;
            match net.bridge_ports(&device) {
                Some(ports) if !ports.is_empty() => {
                    let from =
                        format!("the member ports of {device}, the bridge of network '{network}'");
                    Ok((ports, from))
                }
                Some(_) => Err(ConfigError::Resolve {
                    option: "network",
                    line: None,
                    what: format!("bridge {device} of network '{network}' has no member ports"),
                }),
                None => Ok((
                    vec![device.clone()],
                    format!("{device}, the device of network '{network}'"),
                )),
            }
        }
    }
}

/// Appends `flag` and, when there is one, its value.
fn push_arg(args: &mut Vec<String>, flag: &str, value: Option<String>) {
    args.push(flag.to_string());
    if let Some(v) = value {
        args.push(v);
    }
}

/// The flags of what is captured and tracked, `-i` to `--no-dns-names`,
/// in the contract's order.
fn capture_args(args: &mut Vec<String>, settings: &Settings, capture: &[String], listen: &str) {
    for dev in capture {
        push_arg(args, "-i", Some(dev.clone()));
    }
    push_arg(args, "--listen", Some(listen.to_string()));
    if !settings.promiscuous {
        push_arg(args, "--no-promisc", None);
    }
    if let Some(n) = &settings.snaplen {
        push_arg(args, "--snaplen", Some(n.clone()));
    }
    for p in &settings.lan_prefixes {
        push_arg(args, "--lan", Some(p.clone()));
    }
    for m in &settings.router_macs {
        push_arg(args, "--router-mac", Some(m.clone()));
    }
    if let Some(n) = &settings.max_clients {
        push_arg(args, "--max-clients", Some(n.clone()));
    }
    if let Some(n) = &settings.max_flows {
        push_arg(args, "--max-flows", Some(n.clone()));
    }
    for (flag, seconds) in &settings.timeouts {
        push_arg(args, flag, Some(seconds.clone()));
    }
    if let Some(p) = &settings.protocols {
        push_arg(args, "--protocols", Some(p.clone()));
    }
    if let Some(p) = &settings.leases {
        push_arg(args, "--leases", Some(p.clone()));
    }
    for m in &settings.exclude_macs {
        push_arg(args, "--exclude-mac", Some(m.clone()));
    }
    if !settings.export_dns_names {
        push_arg(args, "--no-dns-names", None);
    }
}

/// The flags of how the daemon runs and serves, `--user` to
/// `--state-interval`, in the contract's order.
fn service_args(
    args: &mut Vec<String>,
    settings: &Settings,
    scrapers: &[String],
    web_config: Option<&str>,
) {
    if let Some(u) = &settings.user {
        push_arg(args, "--user", Some(u.clone()));
    }
    if let Some(g) = &settings.group {
        push_arg(args, "--group", Some(g.clone()));
    }
    // The allow-list is installed by the drop to `user`; without one there is
    // nothing to turn off.
    if !settings.seccomp && settings.user.is_some() {
        push_arg(args, "--no-seccomp", None);
    }
    if let Some(l) = &settings.log_level {
        push_arg(args, "--log-level", Some(l.clone()));
    }
    for peer in scrapers {
        push_arg(args, "--allow-scraper", Some(peer.clone()));
    }
    if let Some(file) = web_config {
        push_arg(args, "--web-config", Some(file.to_string()));
    }
    push_arg(args, "--state-file", Some(settings.state_file.clone()));
    if let Some(n) = &settings.state_interval {
        push_arg(args, "--state-interval", Some(n.clone()));
    }
}

/// The non-fatal remarks about `settings`.
fn notes(settings: &Settings) -> Vec<String> {
    let mut notes = Vec::new();
    if !settings.enabled {
        notes.push("option enabled is off: the service does not start".to_string());
    }
    if settings.user.is_none() {
        notes.push("no option user: the daemon keeps running as root".to_string());
    }
    if let (Some(file), Some(login)) = (&settings.web_config, &settings.web_login) {
        notes.push(format!(
            "option web_config wins over web_user/web_password: the daemon uses {file} as it \
             is; web_user '{}' and web_password are only the login the LuCI backend sends \
             (they must be a user of that file)",
            login.user
        ));
    }
    notes
}

/// How a client logs in, in words.
fn login_in_words(settings: &Settings) -> String {
    match (&settings.web_config, &settings.web_login) {
        (Some(file), _) => format!("as {file} says (option web_config)"),
        (None, Some(login)) => format!(
            "user '{}' (option web_user; the service writes its bcrypt hash to {})",
            login.user, GENERATED_WEB_CONFIG
        ),
        (None, None) => "none (no web_user or web_config)".to_string(),
    }
}

/// The `--listen ADDR:PORT` a configuration resolves to, and where the
/// address came from. The LuCI backend connects to the same address.
pub fn resolve_listen(
    settings: &Settings,
    net: &dyn Network,
) -> Result<(String, String), ConfigError> {
    let (ip, from) = match &settings.listen {
        ListenOn::Address(ip) => (ip.clone(), "option listen_address".to_string()),
        ListenOn::Network(network) => {
            if net.wan_networks().iter().any(|w| w == network) {
                return Err(ConfigError::Wan {
                    option: "listen_interface",
                    line: settings.listen_line.unwrap_or(0),
                    network: network.clone(),
                });
            }
            let ip = net.ipv4(network).ok_or_else(|| ConfigError::Resolve {
                option: "listen_interface",
                line: settings.listen_line,
                what: format!("network '{network}' has no IPv4 address (is it up?)"),
            })?;
            (
                ip.to_string(),
                format!("the address of network '{network}'"),
            )
        }
    };
    let listen = if ip.contains(':') {
        format!("[{ip}]:{}", settings.listen_port)
    } else {
        format!("{ip}:{}", settings.listen_port)
    };
    Ok((listen, from))
}

/// The `--allow-scraper` entries: the router itself — loopback, and the
/// listen address unless it is a loopback one — then `allow_scraper`; and
/// how many are the router's own.
fn scrapers(settings: &Settings, listen: &str) -> (Vec<String>, usize) {
    let mut out: Vec<String> = ROUTER_SCRAPERS.iter().map(|s| s.to_string()).collect();
    let ip = listen
        .rsplit_once(':')
        .map_or(listen, |(host, _port)| host)
        .trim_start_matches('[')
        .trim_end_matches(']');
    if ip.parse::<IpAddr>().is_ok_and(|ip| !ip.is_loopback()) {
        out.push(ip.to_string());
    }
    let own = out.len();
    out.extend(settings.allow_scrapers.iter().cloned());
    (out, own)
}

/// Quotes an argument for a POSIX shell when it needs it.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=@,+[]".contains(&b));
    if plain {
        arg.to_string()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

impl fmt::Display for Plan {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "capture on:   {} ({})",
            self.capture.join(" "),
            self.capture_from
        )?;
        writeln!(f, "serve API on: {} ({})", self.listen, self.listen_from)?;
        let (own, listed) = self
            .scrapers
            .split_at(self.router_scrapers.min(self.scrapers.len()));
        write!(f, "scrapers:     {} (the router itself)", own.join(" "))?;
        if listed.is_empty() {
            writeln!(f, "; no option allow_scraper")?;
        } else {
            writeln!(f, " {} (option allow_scraper)", listed.join(" "))?;
        }
        writeln!(f, "login:        {}", self.login)?;
        writeln!(f, "state file:   {}", self.state_file)?;
        for note in &self.notes {
            writeln!(f, "note:         {note}")?;
        }
        let line: Vec<String> = self.args.iter().map(|a| shell_quote(a)).collect();
        writeln!(f, "command:      {}", line.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A router with `lan` on bridge br-lan (ports lan1..lan3), `wan` on eth1.
    struct Router;

    impl Network for Router {
        fn device(&self, network: &str) -> Option<String> {
            match network {
                "lan" => Some("br-lan".into()),
                "wan" => Some("eth1".into()),
                "guest" => Some("br-guest".into()),
                _ => None,
            }
        }
        fn ipv4(&self, network: &str) -> Option<Ipv4Addr> {
            match network {
                "lan" => Some(Ipv4Addr::new(192, 168, 1, 1)),
                "loopback" => Some(Ipv4Addr::LOCALHOST),
                _ => None,
            }
        }
        fn bridge_ports(&self, device: &str) -> Option<Vec<String>> {
            match device {
                "br-lan" => Some(vec!["lan1".into(), "lan2".into(), "lan3".into()]),
                "br-guest" => Some(vec![]),
                _ => None,
            }
        }
        fn wan_networks(&self) -> Vec<String> {
            vec!["wan".into(), "wan6".into()]
        }
    }

    fn errors(text: &str) -> Vec<String> {
        Settings::from_text(text)
            .unwrap_err()
            .iter()
            .map(|e| e.to_string())
            .collect()
    }

    fn args(text: &str) -> Vec<String> {
        let s = Settings::from_text(text).unwrap();
        plan(&s, &Router, "lanwatch").unwrap().args
    }

    #[test]
    fn empty_section_captures_on_the_lan_bridge_ports_and_serves_on_the_lan_address() {
        assert_eq!(
            args("config lanwatch 'main'\n"),
            [
                "lanwatch",
                "capture",
                "-i",
                "lan1",
                "-i",
                "lan2",
                "-i",
                "lan3",
                "--listen",
                "192.168.1.1:19477",
                "--allow-scraper",
                "127.0.0.0/8",
                "--allow-scraper",
                "::1",
                "--allow-scraper",
                "192.168.1.1",
                "--state-file",
                "/tmp/lanwatch/state.json",
            ]
        );
    }

    #[test]
    fn listed_interfaces_replace_the_network_ports() {
        let a = args("config lanwatch\n list interface 'br-lan'\n option network 'guest'\n");
        assert_eq!(&a[2..4], ["-i", "br-lan"]);
        assert_eq!(a.iter().filter(|a| *a == "-i").count(), 1);
    }

    #[test]
    fn every_option_becomes_its_flag_in_order() {
        let text = "\
config lanwatch 'main'
\toption promiscuous '0'
\toption snaplen '256'
\toption listen_address '10.0.0.1'
\toption listen_port '9100'
\tlist lan_prefix '192.168.1.0/24'
\tlist lan_prefix 'fd00::/64'
\tlist router_mac '02:00:00:00:00:01'
\toption max_clients '64'
\toption max_flows '4096'
\toption udp_timeout '30'
\toption tcp_timeout '3600'
\toption protocols '/etc/lanwatch/protocols'
\toption leases '/tmp/dhcp.leases'
\tlist exclude_mac 'AA:BB:CC:DD:EE:FF'
\toption export_dns_names '0'
\toption user 'lanwatch'
\toption group 'lanwatch'
\toption seccomp '0'
\toption log_level 'debug'
\tlist allow_scraper '192.168.1.10'
\tlist allow_scraper 'fd00::/64'
\toption web_config '/etc/lanwatch/web.yml'
\toption state_file '/etc/lanwatch/state/state.json'
\toption state_interval '60'
";
        assert_eq!(
            args(text).join(" "),
            "lanwatch capture -i lan1 -i lan2 -i lan3 --listen 10.0.0.1:9100 --no-promisc \
             --snaplen 256 --lan 192.168.1.0/24 --lan fd00::/64 --router-mac 02:00:00:00:00:01 \
             --max-clients 64 --max-flows 4096 --tcp-timeout 3600 --udp-timeout 30 \
             --protocols /etc/lanwatch/protocols --leases /tmp/dhcp.leases \
             --exclude-mac AA:BB:CC:DD:EE:FF --no-dns-names --user lanwatch --group lanwatch \
             --no-seccomp --log-level debug --allow-scraper 127.0.0.0/8 --allow-scraper ::1 \
             --allow-scraper 10.0.0.1 --allow-scraper 192.168.1.10 --allow-scraper fd00::/64 \
             --web-config /etc/lanwatch/web.yml --state-file /etc/lanwatch/state/state.json \
             --state-interval 60"
        );
    }

    #[test]
    fn ipv6_listen_address_is_bracketed() {
        let a = args("config lanwatch\n option listen_address 'fd00::1'\n");
        let listen = a.iter().position(|a| a == "--listen").unwrap();
        assert_eq!(a[listen + 1], "[fd00::1]:19477");
        assert!(a.windows(2).any(|w| w == ["--allow-scraper", "fd00::1"]));
    }

    #[test]
    fn bad_values_are_all_reported_with_option_and_line() {
        let text = "\
config lanwatch 'main'
\toption snaplen 'lots'
\toption listen_port '70000'
\tlist exclude_mac 'not-a-mac'
\toption enabled 'maybe'
\toption colour 'blue'
\tlist lan_prefix '192.168.1.0/33'
\toption leases 'dhcp.leases'
";
        assert_eq!(
            errors(text),
            [
                "line 2: option 'snaplen': \"lots\" is not a snap length from 96 to 65535 bytes",
                "line 3: option 'listen_port': \"70000\" is not a port from 1 to 65535",
                "line 4: option 'exclude_mac': \"not-a-mac\" is not a MAC address (aa:bb:cc:dd:ee:ff)",
                "line 5: option 'enabled': \"maybe\" is not a boolean (1/0, yes/no, on/off, true/false)",
                "line 6: unknown option 'colour'",
                "line 7: option 'lan_prefix': \"192.168.1.0/33\" is not a prefix in CIDR notation (192.168.1.0/24)",
                "line 8: option 'leases': \"dhcp.leases\" is not an absolute path",
            ]
        );
    }

    #[test]
    fn serving_on_all_addresses_is_refused() {
        assert_eq!(
            errors("config lanwatch\n option listen_address '0.0.0.0'\n"),
            ["line 2: option 'listen_address': \"0.0.0.0\" is not a LAN address (0.0.0.0 and :: would serve on WAN too)"]
        );
    }

    #[test]
    fn serving_on_a_wan_network_is_refused() {
        let s = Settings::from_text("config lanwatch\n\n option listen_interface 'wan'\n").unwrap();
        let e = plan(&s, &Router, "lanwatch").unwrap_err();
        assert_eq!(
            e.to_string(),
            "line 3: option 'listen_interface': 'wan' is a WAN network; lanwatch never serves its API on WAN"
        );
    }

    #[test]
    fn missing_section_and_foreign_sections_are_errors() {
        assert_eq!(
            errors("config other 'x'\n"),
            [
                "line 1: unknown section type \"other\" (expected 'lanwatch')",
                "no 'config lanwatch' section"
            ]
        );
    }

    #[test]
    fn group_needs_a_user() {
        assert_eq!(
            errors("config lanwatch\n option group 'lanwatch'\n"),
            ["line 2: option 'group': \"lanwatch\" is not used without option 'user'"]
        );
    }

    #[test]
    fn a_network_without_device_or_ports_is_explained() {
        let s = Settings::from_text("config lanwatch\n option network 'iot'\n").unwrap();
        assert!(plan(&s, &Router, "l")
            .unwrap_err()
            .to_string()
            .contains("network 'iot' has no device"));
        let s = Settings::from_text("config lanwatch\n option network 'guest'\n").unwrap();
        assert!(plan(&s, &Router, "l")
            .unwrap_err()
            .to_string()
            .contains("no member ports"));
    }

    #[test]
    fn a_network_that_is_no_bridge_is_captured_on_its_device() {
        let s = Settings::from_text(
            "config lanwatch\n option network 'wan'\n option listen_interface 'loopback'\n",
        )
        .unwrap();
        let p = plan(&s, &Router, "l").unwrap();
        assert_eq!(p.capture, ["eth1"]);
        assert_eq!(p.listen, "127.0.0.1:19477");
    }

    #[test]
    fn wan_zone_networks_come_from_the_firewall_file() {
        let fw = "config zone\n option name 'lan'\n list network 'lan'\nconfig zone\n option name 'wan'\n option network 'wan wan6 wwan'\n";
        assert_eq!(wan_networks(Some(fw)), ["wan", "wan6", "wwan"]);
        assert_eq!(wan_networks(None), ["wan", "wan6"]);
    }

    #[test]
    fn privacy_options_become_daemon_flags() {
        let s = Settings::from_text(
            "config lanwatch\n option user 'x'\n option export_dns_names 'no'\n list exclude_mac 'aa:bb:cc:dd:ee:ff'\n",
        )
        .unwrap();
        let p = plan(&s, &Router, "l").unwrap();
        assert!(p.notes.is_empty(), "{:?}", p.notes);
        let args = p.args.join(" ");
        assert!(args.contains("--no-dns-names"), "{args}");
        assert!(args.contains("--exclude-mac aa:bb:cc:dd:ee:ff"), "{args}");
    }

    #[test]
    fn the_router_itself_is_always_allowed_and_loopback_only_once() {
        let a = args("config lanwatch\n option listen_address '127.0.0.1'\n list allow_scraper '192.168.1.0/24'\n");
        let allowed: Vec<&str> = a
            .windows(2)
            .filter(|w| w[0] == "--allow-scraper")
            .map(|w| w[1].as_str())
            .collect();
        assert_eq!(allowed, ["127.0.0.0/8", "::1", "192.168.1.0/24"]);
    }

    #[test]
    fn web_user_makes_the_service_write_a_web_config() {
        let s = Settings::from_text(
            "config lanwatch\n option web_user 'prometheus'\n option web_password 'it''s secret'\n",
        )
        .unwrap();
        let login = s.web_login.clone().unwrap();
        assert_eq!(
            (login.user.as_str(), login.password.as_str()),
            ("prometheus", "its secret")
        );
        let p = plan(&s, &Router, "l").unwrap();
        assert!(p
            .args
            .windows(2)
            .any(|w| w == ["--web-config", GENERATED_WEB_CONFIG]));
        assert!(
            !format!("{p}").contains("secret"),
            "the password is never shown"
        );
        assert!(
            !format!("{s:?}").contains("secret"),
            "not even in debug output"
        );
    }

    #[test]
    fn web_config_wins_over_web_user_and_says_so() {
        let s = Settings::from_text(
            "config lanwatch\n option web_config '/etc/lanwatch/web.yml'\n option web_user 'p'\n option web_password 'x'\n",
        )
        .unwrap();
        let p = plan(&s, &Router, "l").unwrap();
        assert!(p
            .args
            .windows(2)
            .any(|w| w == ["--web-config", "/etc/lanwatch/web.yml"]));
        assert_eq!(p.args.iter().filter(|a| *a == "--web-config").count(), 1);
        assert!(
            p.notes
                .iter()
                .any(|n| n.starts_with("option web_config wins")),
            "{:?}",
            p.notes
        );
    }

    #[test]
    fn login_and_access_options_are_checked() {
        assert_eq!(
            errors("config lanwatch\n option web_user 'prometheus'\n"),
            ["line 2: option 'web_user' needs option 'web_password' too"]
        );
        assert_eq!(
            errors("config lanwatch\n option web_password 'x'\n"),
            ["line 2: option 'web_password' needs option 'web_user' too"]
        );
        let long = "x".repeat(73);
        assert_eq!(
            errors(&format!(
                "config lanwatch\n list allow_scraper 'lan'\n option web_user 'a:b'\n option web_password '{long}'\n option state_file 'state.json'\n option state_interval '0'\n option web_config 'web.yml'\n"
            )),
            [
                "line 2: option 'allow_scraper': \"lan\" is not an address or a prefix in CIDR notation (192.168.1.10, 192.168.1.0/24)",
                "line 3: option 'web_user': \"a:b\" is not a user name (1-64 letters, digits, '.', '_', '-')",
                "line 4: option 'web_password': \"…\" is not a password of at most 72 bytes on one line (bcrypt's limit)",
                "line 5: option 'state_file': \"state.json\" is not an absolute path",
                "line 6: option 'state_interval': \"0\" is not a number of minutes from 1 to 10080",
                "line 7: option 'web_config': \"web.yml\" is not an absolute path",
            ]
        );
    }

    #[test]
    fn shell_quoting_only_where_needed() {
        assert_eq!(shell_quote("192.168.1.1:19477"), "192.168.1.1:19477");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
