//! What `capture` and `replay` share, as the command line gave it: who may
//! use the HTTP endpoint, the state file, the per-client table's options;
//! and turning each into what the library runs with (an access policy, a
//! restored tracker and its saver, a [`TrackConfig`]), re-read on SIGHUP.

use std::path::{Path, PathBuf};
use std::time::Duration;

use ipnet::IpNet;

use crate::decode::Mac;
use crate::export::http;
use crate::pipeline::ReloadHook;
use crate::state_file::{self, StateSaver};
use crate::track::identity::IdentityConfig;
use crate::track::lan::Lan;
use crate::track::oui::OuiTable;
use crate::track::{ExportSettings, PacketSpan, ProtocolTable, Timeouts, TrackConfig, Tracker};

/// Who may use the HTTP endpoint, and how (`--web-config`,
/// `--allow-scraper`, `--request-timeout`).
#[derive(Clone, Debug)]
pub struct HttpSettings {
    pub web_config: Option<PathBuf>,
    pub allow_scrapers: Vec<IpNet>,
    /// Seconds (at least 1 is used).
    pub request_timeout: u64,
}

impl HttpSettings {
    /// The access policy: the web config read (it must be a regular file)
    /// and the allow-list.
    pub fn policy(&self) -> Result<http::Policy, String> {
        if let Some(path) = &self.web_config {
            crate::files::check_regular(path)
                .map_err(|e| format!("web config {}: {e}", path.display()))?;
        }
        http::Policy::new(
            self.web_config.as_deref(),
            self.allow_scrapers.clone(),
            Duration::from_secs(self.request_timeout.max(1)),
        )
        .map_err(|e| e.to_string())
    }

    /// Re-reads the web config into the running server (SIGHUP); a file
    /// that does not read is logged (with its line) and the running policy
    /// kept.
    pub fn reload(&self, shared: &http::SharedPolicy) {
        let Some(path) = &self.web_config else {
            return;
        };
        match self.policy() {
            Ok(policy) => {
                shared.replace(policy);
                tracing::info!(target: "lanwatch", path = %path.display(), "web config re-read");
            }
            Err(e) => tracing::warn!(target: "lanwatch", "{e}; keeping the web config as it was"),
        }
    }
}

/// Keeping the counters across restarts (`--state-file`,
/// `--state-interval`).
#[derive(Clone, Debug)]
pub struct StateSettings {
    pub state_file: Option<PathBuf>,
    /// Minutes between two saves (at least 1 is used).
    pub state_interval: u64,
}

impl StateSettings {
    /// Removes what killed saves left, restores the saved counters into
    /// `tracker` and returns the saver the capture worker writes with.
    /// Fails on a state path that is not a regular file.
    pub fn restore(&self, tracker: &mut Tracker) -> Result<Option<StateSaver>, String> {
        let Some(path) = self.state_file.clone() else {
            return Ok(None);
        };
        let instance = state_file::instance_name();
        state_file::remove_stale_temps(&path);
        state_file::restore_or_set_aside(tracker, &path, &instance).map_err(|e| e.to_string())?;
        let minutes = self.state_interval.max(1);
        Ok(Some(StateSaver::new(
            path,
            Duration::from_secs(minutes.saturating_mul(60)),
            instance,
        )))
    }

    /// Refuses to start if the state file could not be saved by whoever
    /// this process is now (after the privilege drop); `who` names them.
    pub fn check_writable(&self, who: &str) -> Result<(), String> {
        match &self.state_file {
            Some(path) => state_file::check_writable(path, who).map_err(|e| e.to_string()),
            None => Ok(()),
        }
    }
}

/// Options of the per-client table, shared by capture and replay; times
/// in seconds (`domain_retention` in hours).
#[derive(Clone, Debug)]
pub struct TrackSettings {
    pub lan: Vec<IpNet>,
    pub router_macs: Vec<Mac>,
    pub max_clients: usize,
    pub max_flows: usize,
    pub protocols: Option<PathBuf>,
    pub tcp_timeout: u64,
    pub tcp_closing_timeout: u64,
    pub udp_timeout: u64,
    pub udp_replied_timeout: u64,
    pub icmp_timeout: u64,
    pub other_timeout: u64,
    pub leases: Option<PathBuf>,
    pub oui: Option<PathBuf>,
    pub max_devices: usize,
    pub active_window: u64,
    pub top_domains: usize,
    pub exclude_macs: Vec<Mac>,
    pub no_dns_names: bool,
    pub domain_retention: Option<u64>,
}

impl TrackSettings {
    /// The tracker's configuration; `default_lan` gives the LAN prefixes
    /// when none were named (none either: the private ranges).
    pub fn config(&self, default_lan: impl FnOnce() -> Vec<IpNet>) -> Result<TrackConfig, String> {
        let protocols = protocol_table(self.protocols.as_deref(), ProtocolTable::empty())?;
        if let Some(path) = &self.oui {
            crate::files::check_regular(path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        let lan = if self.lan.is_empty() {
            let prefixes = default_lan();
            if prefixes.is_empty() {
                Lan::default()
            } else {
                Lan::new(&prefixes)
            }
        } else {
            Lan::new(&self.lan)
        };
        tracing::debug!(target: "lanwatch", prefixes = ?lan.prefixes(), "LAN prefixes");
        Ok(TrackConfig {
            lan,
            router_macs: self.router_macs.clone(),
            max_clients: self.max_clients,
            max_flows: self.max_flows,
            timeouts: self.timeouts(),
            protocols,
            identity: IdentityConfig {
                max_devices: self.max_devices,
                leases: self.leases.clone(),
                oui: OuiTable::load_or_builtin(self.oui.as_deref()).map_err(|e| e.to_string())?,
            },
            active_window: seconds(self.active_window),
            exclude_macs: self.exclude_macs.clone(),
            domain_retention: self
                .domain_retention
                .map(|hours| hours.saturating_mul(3600).saturating_mul(NANOS)),
            export: ExportSettings {
                top_domains: self.top_domains,
                dns_names: !self.no_dns_names,
            },
            ..TrackConfig::default()
        })
    }

    fn timeouts(&self) -> Timeouts {
        Timeouts {
            tcp_established: PacketSpan::from_secs(self.tcp_timeout),
            tcp_closing: PacketSpan::from_secs(self.tcp_closing_timeout),
            udp_unreplied: PacketSpan::from_secs(self.udp_timeout),
            udp_replied: PacketSpan::from_secs(self.udp_replied_timeout),
            icmp: PacketSpan::from_secs(self.icmp_timeout),
            other: PacketSpan::from_secs(self.other_timeout),
        }
    }

    /// What re-reads the protocol table on SIGHUP, if a file was named.
    pub fn protocol_reload(&self) -> Option<ReloadHook<'static>> {
        let path = self.protocols.clone()?;
        Some(Box::new(move |tracker| reload_protocols(&path, tracker)))
    }
}

const NANOS: u64 = 1_000_000_000;

/// Seconds in the nanoseconds of packet time.
fn seconds(s: u64) -> u64 {
    s.saturating_mul(NANOS)
}

/// The built-in protocol table with the `--protocols` file on top, built
/// on `base` (the empty table at start, the running table's names at a
/// reload, so their ids stay).
fn protocol_table(path: Option<&Path>, base: ProtocolTable) -> Result<ProtocolTable, String> {
    let mut protocols = base;
    protocols
        .extend_from_str("built-in protocols", crate::track::protocols::DEFAULT_TABLE)
        .map_err(|e| e.to_string())?;
    if let Some(path) = path {
        let mut text = String::new();
        crate::files::open_regular(path)
            .and_then(|mut file| std::io::Read::read_to_string(&mut file, &mut text))
            .map_err(|e| format!("{}: {e}", path.display()))?;
        protocols
            .extend_from_str(&path.display().to_string(), &text)
            .map_err(|e| e.to_string())?;
    }
    Ok(protocols)
}

/// Re-reads the protocol table into the running tracker (SIGHUP); a table
/// that does not read is logged and the running one kept.
fn reload_protocols(path: &Path, tracker: &mut Tracker) {
    let base = ProtocolTable::keeping_ids_of(tracker.protocols());
    match protocol_table(Some(path), base) {
        Ok(table) => {
            tracing::info!(target: "lanwatch", path = %path.display(), "protocol table re-read");
            tracker.set_protocols(table);
        }
        Err(e) => tracing::warn!(target: "lanwatch", "{e}; keeping the protocol table as it was"),
    }
}
