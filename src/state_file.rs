//! The state file: the day's per-client totals survive a restart or an
//! upgrade.
//!
//! What is saved is what Prometheus treats as counters — each client's
//! addresses, bandwidth and connections per protocol, LAN traffic, DNS
//! queries by type, responses by rcode, mDNS, resolver bypass and the
//! latency histogram. Flows, pending DNS queries and domain names are not:
//! flows are re-learnt from traffic within seconds, and names are private
//! data the file should not keep (see `--no-dns-names` and
//! `--domain-retention`).
//!
//! The file is JSON with a format name, a version and the instance (host
//! name) that wrote it. It is written atomically — a temporary file in the
//! same directory, fsync, rename, fsync of the directory — so a power cut
//! leaves the old file or the new one, never half of one. The capture worker
//! writes it itself (periodically from its loop and once at shutdown): no
//! other thread ever touches the tracker.
//!
//! Reading is defensive: the file's size is checked against a bound derived
//! from the client table's ([`max_file_bytes`]) before a byte is read, every
//! count is checked, and a file that is damaged, too large, of another format
//! or version, or written by another instance is reported and renamed aside
//! (`<file>.corrupt-<unix seconds>`) — never fatal: the daemon starts from
//! zero instead. What is fatal at start is a path that can never work: one
//! that is not a regular file (a FIFO would block the start for ever), or a
//! directory the daemon, once it has dropped privileges, cannot write in
//! ([`check_writable`]: the day's counts would only be lost at shutdown).
//! Temporary files a killed save left behind are removed at start
//! ([`remove_stale_temps`]); every save counts as `ok` or `error`
//! ([`StateSaves`], served as `lanwatch_state_saves_total`).

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

use crate::decode::Mac;
use crate::track::clients::{Client, ClientKey, ProtocolCounters};
use crate::track::dns::{ClientDns, LatencyHistogram, LATENCY_BUCKETS_SECONDS};
use crate::track::{Tracker, Traffic};

/// The `format` field of every state file.
pub const FORMAT: &str = "lanwatch-state";

/// The layout version this build writes and reads.
pub const VERSION: u32 = 1;

/// The most one client can take in a file this build writes, with every
/// per-client bound below reached: 256 protocols at about 200 bytes each
/// (five 20-digit counters, the keys, a name of up to 60 bytes) are 51 KiB,
/// 64 IPv6 addresses 2.8 KiB, 128 DNS codes 3.7 KiB, the rest under 1 KiB.
pub const MAX_CLIENT_BYTES: u64 = 64 * 1024;

/// The default bound of a state file: the default client table (512
/// clients) at [`MAX_CLIENT_BYTES`] each, plus the header (32 MiB + 64 KiB).
pub const MAX_FILE_BYTES: u64 = 513 * MAX_CLIENT_BYTES;

/// The largest state file worth reading for a client table of
/// `max_clients`: every client at [`MAX_CLIENT_BYTES`], plus one more for
/// the header. A larger file cannot be one this build wrote for this table,
/// and is refused by its size, before it is read.
pub fn max_file_bytes(max_clients: usize) -> u64 {
    (max_clients as u64)
        .saturating_add(1)
        .saturating_mul(MAX_CLIENT_BYTES)
}

/// Per-client bounds on what a file may hold (the tracker's own bounds
/// apply again on restore).
const MAX_PROTOCOLS_PER_CLIENT: usize = 256;
const MAX_CODES_PER_CLIENT: usize = 64;
const MAX_ADDRESSES_PER_CLIENT: usize = 64;

/// The default `--state-interval`, minutes.
pub const DEFAULT_INTERVAL_MINUTES: u64 = 15;

/// Why a state file could not be used or written.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state file {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("state file {path}: {size} bytes, more than the {max} bytes that {clients} clients (--max-clients) can fill; not read")]
    TooLarge {
        path: PathBuf,
        size: u64,
        max: u64,
        clients: u64,
    },
    #[error("state file {path}: {source}")]
    NotRegular { path: PathBuf, source: io::Error },
    #[error("state file {path}: cannot write in {dir}{who}: {source}")]
    Unwritable {
        path: PathBuf,
        dir: PathBuf,
        /// " as USER" or empty.
        who: String,
        source: io::Error,
    },
    #[error("state file {path}: not a lanwatch state file: {reason}")]
    Corrupt { path: PathBuf, reason: String },
    #[error("state file {path}: format {format:?} version {version} (this lanwatch reads {FORMAT:?} version {VERSION})")]
    Foreign {
        path: PathBuf,
        format: String,
        version: u32,
    },
    #[error("state file {path}: written by instance {found:?}, this is {expected:?}")]
    OtherInstance {
        path: PathBuf,
        found: String,
        expected: String,
    },
}

/// The file's top level.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedState {
    pub format: String,
    pub version: u32,
    /// Who wrote it: the host name (a file copied from another router is
    /// not restored).
    pub instance: String,
    /// Wall-clock time of writing, seconds since the epoch.
    pub saved_at: u64,
    pub clients: Vec<SavedClient>,
}

/// One client's counters.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedClient {
    /// The client's identity: its MAC, or (links without MACs) its address.
    pub key: String,
    #[serde(default)]
    pub ipv4: Vec<Ipv4Addr>,
    #[serde(default)]
    pub ipv6: Vec<Ipv6Addr>,
    /// Packet time, nanoseconds since the epoch.
    pub first_seen: u64,
    pub last_seen: u64,
    #[serde(default)]
    pub protocols: Vec<SavedProtocol>,
    #[serde(default)]
    pub lan: SavedTraffic,
    #[serde(default)]
    pub dns: SavedDns,
}

#[derive(Debug, Default, Clone, Copy, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedTraffic {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
}

impl From<Traffic> for SavedTraffic {
    fn from(t: Traffic) -> Self {
        SavedTraffic {
            rx_bytes: t.rx_bytes,
            tx_bytes: t.tx_bytes,
            rx_packets: t.rx_packets,
            tx_packets: t.tx_packets,
        }
    }
}

impl From<SavedTraffic> for Traffic {
    fn from(t: SavedTraffic) -> Self {
        Traffic {
            rx_bytes: t.rx_bytes,
            tx_bytes: t.tx_bytes,
            rx_packets: t.rx_packets,
            tx_packets: t.tx_packets,
        }
    }
}

/// One protocol's counters, by the protocol's name (ids are per process).
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedProtocol {
    pub protocol: String,
    #[serde(flatten)]
    pub traffic: SavedTraffic,
    pub connections: u64,
}

/// DNS counts: `(code, count)` pairs, no names.
#[derive(Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SavedDns {
    #[serde(default)]
    pub queries: Vec<(u16, u64)>,
    #[serde(default)]
    pub queries_other: u64,
    #[serde(default)]
    pub responses: Vec<(u16, u64)>,
    #[serde(default)]
    pub responses_other: u64,
    #[serde(default)]
    pub mdns_queries: u64,
    #[serde(default)]
    pub bypass_other_resolver: u64,
    #[serde(default)]
    pub bypass_dot: u64,
    #[serde(default)]
    pub bypass_doh: u64,
    /// Per latency bucket, not cumulative.
    #[serde(default)]
    pub latency_buckets: Vec<u64>,
    #[serde(default)]
    pub latency_count: u64,
    #[serde(default)]
    pub latency_sum_nanos: u64,
}

/// This machine's instance name: the host name, or `unknown`.
pub fn instance_name() -> String {
    fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".to_string())
}

fn unix_seconds() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The tracker's counters as a state document.
pub fn capture(tracker: &Tracker, instance: &str) -> SavedState {
    let protocols = tracker.protocols();
    let clients = tracker
        .clients()
        .map(|c| SavedClient {
            key: c.key.to_string(),
            ipv4: c.ipv4.clone(),
            ipv6: c.ipv6.clone(),
            first_seen: c.first_seen,
            last_seen: c.last_seen,
            protocols: c
                .protocols
                .iter()
                .map(|p| SavedProtocol {
                    protocol: protocols.name(p.protocol).to_string(),
                    traffic: p.traffic.into(),
                    connections: p.connections,
                })
                .collect(),
            lan: c.lan.into(),
            dns: SavedDns {
                queries: c.dns.queries.iter().collect(),
                queries_other: c.dns.queries.other,
                responses: c.dns.responses.iter().collect(),
                responses_other: c.dns.responses.other,
                mdns_queries: c.dns.mdns_queries,
                bypass_other_resolver: c.dns.bypass.other_resolver,
                bypass_dot: c.dns.bypass.dot,
                bypass_doh: c.dns.bypass.doh,
                latency_buckets: c.dns.latency.buckets.to_vec(),
                latency_count: c.dns.latency.count,
                latency_sum_nanos: c.dns.latency.sum_nanos,
            },
        })
        .collect();
    SavedState {
        format: FORMAT.to_string(),
        version: VERSION,
        instance: instance.to_string(),
        saved_at: unix_seconds(),
        clients,
    }
}

/// Writes the tracker's counters to `path` atomically (mode 0600: the file
/// says who is on the network). Creates the parent directory if missing.
pub fn save(path: &Path, tracker: &Tracker, instance: &str) -> Result<(), StateError> {
    let io_error = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let document = capture(tracker, instance);
    let bytes = serde_json::to_vec(&document).map_err(|e| io_error(io::Error::other(e)))?;
    let dir = directory_of(path);
    fs::create_dir_all(&dir).map_err(io_error)?;
    let temp = temp_path(path);
    let written = (|| {
        let mut file = OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&temp)?;
        file.write_all(&bytes)?;
        file.sync_all()?;
        drop(file);
        fs::rename(&temp, path)?;
        // The rename itself is durable once the directory is synced.
        File::open(&dir)?.sync_all()
    })();
    if written.is_err() {
        let _ = fs::remove_file(&temp);
    }
    written.map_err(io_error)
}

/// The directory the state file (and its temporary files) live in.
fn directory_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

/// This process's temporary file for `path`: `<name>.tmp-<pid>`, beside it.
fn temp_path(path: &Path) -> PathBuf {
    let mut temp_name = path.file_name().unwrap_or_default().to_os_string();
    temp_name.push(format!(".tmp-{}", std::process::id()));
    directory_of(path).join(temp_name)
}

/// Reads and checks a state file of at most [`MAX_FILE_BYTES`] (see
/// [`load_bounded`]).
pub fn load(path: &Path, instance: &str) -> Result<Option<SavedState>, StateError> {
    load_bounded(path, instance, MAX_FILE_BYTES)
}

/// Reads and checks a state file. `Ok(None)`: there is none (first start).
/// A file larger than `max_bytes` is refused by its size before anything is
/// read from it; anything but a regular file is [`StateError::NotRegular`]
/// (a FIFO is not waited on).
pub fn load_bounded(
    path: &Path,
    instance: &str,
    max_bytes: u64,
) -> Result<Option<SavedState>, StateError> {
    let io_error = |source| StateError::Io {
        path: path.to_path_buf(),
        source,
    };
    let file = match crate::files::open_regular(path) {
        Ok(f) => f,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(source) if source.kind() == io::ErrorKind::InvalidInput => {
            return Err(StateError::NotRegular {
                path: path.to_path_buf(),
                source,
            })
        }
        Err(source) => return Err(io_error(source)),
    };
    let too_large = |size| StateError::TooLarge {
        path: path.to_path_buf(),
        size,
        max: max_bytes,
        clients: (max_bytes / MAX_CLIENT_BYTES).saturating_sub(1),
    };
    let size = file.metadata().map_err(io_error)?.len();
    if size > max_bytes {
        return Err(too_large(size));
    }
    // The size said at most `max_bytes`; a file growing meanwhile is still
    // read no further than that.
    let mut bytes = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
    file.take(max_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > max_bytes {
        return Err(too_large(bytes.len() as u64));
    }
    parse(path, &bytes, instance).map(Some)
}

/// Parses and checks a state document (the fuzzed entry point).
pub fn parse(path: &Path, bytes: &[u8], instance: &str) -> Result<SavedState, StateError> {
    let corrupt = |reason: String| StateError::Corrupt {
        path: path.to_path_buf(),
        reason,
    };
    // The header first, so a foreign file is named as such even if the
    // rest of it is not ours to understand.
    #[derive(Deserialize)]
    struct Header {
        format: String,
        version: u32,
        instance: String,
    }
    let header: Header = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    if header.format != FORMAT || header.version != VERSION {
        return Err(StateError::Foreign {
            path: path.to_path_buf(),
            format: header.format,
            version: header.version,
        });
    }
    if header.instance != instance {
        return Err(StateError::OtherInstance {
            path: path.to_path_buf(),
            found: header.instance,
            expected: instance.to_string(),
        });
    }
    let state: SavedState = serde_json::from_slice(bytes).map_err(|e| corrupt(e.to_string()))?;
    for c in &state.clients {
        check_client(c).map_err(|what| corrupt(format!("client {:?}: {what}", c.key)))?;
    }
    Ok(state)
}

fn check_client(c: &SavedClient) -> Result<(), String> {
    parse_key(&c.key)?;
    if c.ipv4.len().saturating_add(c.ipv6.len()) > MAX_ADDRESSES_PER_CLIENT {
        return Err("too many addresses".into());
    }
    if c.protocols.len() > MAX_PROTOCOLS_PER_CLIENT {
        return Err("too many protocols".into());
    }
    if c.dns.queries.len() > MAX_CODES_PER_CLIENT || c.dns.responses.len() > MAX_CODES_PER_CLIENT {
        return Err("too many DNS codes".into());
    }
    if c.dns.latency_buckets.len() > LATENCY_BUCKETS_SECONDS.len() {
        return Err("too many latency buckets".into());
    }
    if c.first_seen > c.last_seen {
        return Err("first seen after last seen".into());
    }
    Ok(())
}

fn parse_key(key: &str) -> Result<ClientKey, String> {
    if let Ok(mac) = key.parse::<Mac>() {
        return Ok(ClientKey::Mac(mac));
    }
    key.parse::<IpAddr>()
        .map(ClientKey::Ip)
        .map_err(|_| format!("{key:?} is neither a MAC nor an IP address"))
}

/// Turns a checked saved client into the tracker's type; protocols this
/// table does not know (a `--protocols` file changed) count as `other`.
fn to_client(saved: SavedClient, tracker: &Tracker) -> Option<Client> {
    let key = parse_key(&saved.key).ok()?;
    let table = tracker.protocols();
    let protocols = saved
        .protocols
        .into_iter()
        .map(|p| ProtocolCounters {
            protocol: table
                .id(&p.protocol)
                .unwrap_or(crate::track::ProtocolId::OTHER),
            traffic: p.traffic.into(),
            connections: p.connections,
        })
        .collect();
    let mut dns = ClientDns::default();
    for (code, n) in saved.dns.queries {
        dns.queries.add_count(code, n);
    }
    dns.queries.other = saved.dns.queries_other;
    for (code, n) in saved.dns.responses {
        dns.responses.add_count(code, n);
    }
    dns.responses.other = saved.dns.responses_other;
    dns.mdns_queries = saved.dns.mdns_queries;
    dns.bypass.other_resolver = saved.dns.bypass_other_resolver;
    dns.bypass.dot = saved.dns.bypass_dot;
    dns.bypass.doh = saved.dns.bypass_doh;
    let mut latency = LatencyHistogram::default();
    for (mine, saved) in latency
        .buckets
        .iter_mut()
        .zip(saved.dns.latency_buckets.iter())
    {
        *mine = *saved;
    }
    latency.count = saved.dns.latency_count;
    latency.sum_nanos = saved.dns.latency_sum_nanos;
    dns.latency = latency;
    Some(Client {
        key,
        ipv4: saved.ipv4,
        ipv6: saved.ipv6,
        first_seen: saved.first_seen,
        last_seen: saved.last_seen,
        protocols,
        lan: saved.lan.into(),
        connections_active: 0,
        dns,
    })
}

/// Puts a checked state into the tracker; returns how many clients were
/// restored.
pub fn restore(tracker: &mut Tracker, state: SavedState) -> usize {
    let mut restored = 0usize;
    for saved in state.clients {
        if let Some(client) = to_client(saved, tracker) {
            if tracker.restore_client(client) {
                restored = restored.saturating_add(1);
            }
        }
    }
    restored
}

/// Restores `path` into the tracker if it holds a usable state; a damaged,
/// too large or foreign file is logged and renamed aside. Fails only on a
/// path that is not a regular file (nothing to set aside: the daemon could
/// never save there either).
pub fn restore_or_set_aside(
    tracker: &mut Tracker,
    path: &Path,
    instance: &str,
) -> Result<(), StateError> {
    let max_bytes = max_file_bytes(tracker.max_clients());
    match load_bounded(path, instance, max_bytes) {
        Ok(None) => tracing::info!(path = %path.display(), "no state file yet; starting from zero"),
        Ok(Some(state)) => {
            let saved_at = state.saved_at;
            let n = restore(tracker, state);
            tracing::info!(path = %path.display(), clients = n, saved_at, "restored the saved counters");
        }
        Err(e @ StateError::NotRegular { .. }) => return Err(e),
        Err(e) => {
            let aside = set_aside(path);
            match aside {
                Ok(to) => tracing::warn!(
                    "{e}; moved it to {} and starting from zero",
                    to.display()
                ),
                Err(move_error) => tracing::warn!(
                    "{e}; could not move it aside ({move_error}); starting from zero, it will be overwritten"
                ),
            }
        }
    }
    Ok(())
}

/// Removes the temporary files killed saves of `path` left behind:
/// `<name>.tmp-<pid>` in the same directory, whose pid is this process's
/// (a save of this process has not begun) or no running lanwatch's
/// (`/proc/<pid>/comm` missing or another program's). Without `/proc`
/// nothing is removed. Returns how many files and bytes went.
pub fn remove_stale_temps(path: &Path) -> (usize, u64) {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return (0, 0);
    };
    let Ok(own_comm) = fs::read_to_string("/proc/self/comm") else {
        return (0, 0);
    };
    let prefix = format!("{name}.tmp-");
    let dir = directory_of(path);
    let Ok(entries) = fs::read_dir(&dir) else {
        return (0, 0);
    };
    let (mut files, mut bytes) = (0usize, 0u64);
    for entry in entries.flatten() {
        let file_name = entry.file_name();
        let Some(pid) = file_name
            .to_str()
            .and_then(|n| n.strip_prefix(prefix.as_str()))
            .filter(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
            .and_then(|digits| digits.parse::<u32>().ok())
        else {
            continue;
        };
        let live_lanwatch = pid != std::process::id()
            && fs::read_to_string(format!("/proc/{pid}/comm")).is_ok_and(|c| c == own_comm);
        if live_lanwatch {
            continue;
        }
        // Only plain files: never follow a link or descend into a directory.
        let Ok(meta) = fs::symlink_metadata(entry.path()) else {
            continue;
        };
        if !meta.is_file() {
            continue;
        }
        match fs::remove_file(entry.path()) {
            Ok(()) => {
                files = files.saturating_add(1);
                bytes = bytes.saturating_add(meta.len());
            }
            Err(e) => tracing::warn!(
                "cannot remove the stale temporary file {}: {e}",
                entry.path().display()
            ),
        }
    }
    if files > 0 {
        tracing::info!(
            "removed {files} temporary file(s) of killed saves ({bytes} bytes) beside {}",
            path.display()
        );
    }
    (files, bytes)
}

/// Checks that this process (as whoever it is now: call it after dropping
/// privileges) can save `path`: creates its directory if missing, then
/// writes and removes the temporary file a save writes first. `who` names
/// the user in the error (" as nobody:nogroup (uid 65534, gid 65534)").
pub fn check_writable(path: &Path, who: &str) -> Result<(), StateError> {
    let dir = directory_of(path);
    let unwritable = |source| StateError::Unwritable {
        path: path.to_path_buf(),
        dir: dir.clone(),
        who: who.to_string(),
        source,
    };
    fs::create_dir_all(&dir).map_err(unwritable)?;
    let probe = temp_path(path);
    let written = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&probe)
        .and_then(|mut f| f.write_all(b"{}"));
    let removed = fs::remove_file(&probe);
    written.map_err(unwritable)?;
    removed.map_err(unwritable)
}

/// Renames `path` to `<path>.corrupt-<unix seconds>` and returns the new name.
pub fn set_aside(path: &Path) -> io::Result<PathBuf> {
    let mut name = path.as_os_str().to_os_string();
    name.push(format!(".corrupt-{}", unix_seconds()));
    let to = PathBuf::from(name);
    fs::rename(path, &to)?;
    Ok(to)
}

/// Saves of the state file since the start, by outcome
/// (`lanwatch_state_saves_total`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct StateSaves {
    pub ok: u64,
    pub error: u64,
}

/// When the capture worker writes the state file: every `interval`, at a
/// reload (SIGHUP), and at shutdown.
#[derive(Debug)]
pub struct StateSaver {
    pub path: PathBuf,
    pub interval: Duration,
    pub instance: String,
    /// How the saves of this run went (`lanwatch_state_saves_total`).
    pub counts: StateSaves,
    next: Instant,
}

impl StateSaver {
    pub fn new(path: PathBuf, interval: Duration, instance: String) -> StateSaver {
        let next = Instant::now()
            .checked_add(interval)
            .unwrap_or_else(Instant::now);
        StateSaver {
            path,
            interval,
            instance,
            counts: StateSaves::default(),
            next,
        }
    }

    /// Whether the periodic write is due (cheap: one clock read).
    #[inline]
    pub fn is_due(&self) -> bool {
        Instant::now() >= self.next
    }

    /// Writes the file now; a failure is logged and counted, not fatal
    /// (the next attempt comes at the next interval).
    pub fn save(&mut self, tracker: &Tracker) {
        let started = Instant::now();
        match save(&self.path, tracker, &self.instance) {
            Ok(()) => {
                self.counts.ok = self.counts.ok.wrapping_add(1);
                tracing::debug!(
                    path = %self.path.display(),
                    elapsed = ?started.elapsed(),
                    "state saved"
                )
            }
            Err(e) => {
                self.counts.error = self.counts.error.wrapping_add(1);
                tracing::warn!("cannot save the state: {e}")
            }
        }
        self.next = Instant::now()
            .checked_add(self.interval)
            .unwrap_or_else(Instant::now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::track::{Direction, TrackConfig};

    fn tracker_with_one_client() -> Tracker {
        let mut t = Tracker::new(TrackConfig::default());
        let mut c = Client {
            key: ClientKey::Mac(Mac([2, 0, 0, 0, 0, 1])),
            ipv4: vec![Ipv4Addr::new(192, 168, 1, 10)],
            ipv6: Vec::new(),
            first_seen: 1,
            last_seen: 2,
            protocols: Vec::new(),
            lan: Traffic::default(),
            connections_active: 3,
            dns: ClientDns::default(),
        };
        let https = t.protocols().id("HTTPS").unwrap();
        c.add_bandwidth(https, Direction::Rx, 1500);
        c.dns.queries.add(1);
        assert!(t.restore_client(c));
        t
    }

    fn dir() -> PathBuf {
        let d = std::env::temp_dir().join(format!(
            "lanwatch-state-unit-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        let _ = fs::remove_dir_all(&d);
        d
    }

    #[test]
    fn a_saved_state_restores_the_same_counters_and_no_active_connections() {
        let d = dir();
        let path = d.join("state.json");
        let t = tracker_with_one_client();
        save(&path, &t, "router").unwrap();
        let mut fresh = Tracker::new(TrackConfig::default());
        let state = load(&path, "router").unwrap().unwrap();
        assert_eq!(restore(&mut fresh, state), 1);
        let snap = fresh.snapshot();
        let c = &snap.clients[0];
        assert_eq!(c.protocols[0].protocol, "HTTPS");
        assert_eq!(c.protocols[0].traffic.rx_bytes, 1500);
        assert_eq!(c.dns.queries_total(), 1);
        assert_eq!(c.connections_active, 0);
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn the_file_is_private_to_its_owner() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir();
        let path = d.join("state.json");
        save(&path, &tracker_with_one_client(), "router").unwrap();
        let mode = fs::metadata(&path).unwrap().permissions().mode();
        assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        fs::remove_dir_all(&d).unwrap();
    }

    #[test]
    fn another_instance_or_format_is_refused() {
        let p = Path::new("x");
        let other =
            br#"{"format":"lanwatch-state","version":1,"instance":"b","saved_at":0,"clients":[]}"#;
        assert!(matches!(
            parse(p, other, "a"),
            Err(StateError::OtherInstance { .. })
        ));
        let newer =
            br#"{"format":"lanwatch-state","version":2,"instance":"a","saved_at":0,"clients":[]}"#;
        assert!(matches!(
            parse(p, newer, "a"),
            Err(StateError::Foreign { .. })
        ));
        assert!(matches!(
            parse(p, b"{not json", "a"),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_bad_client_key_makes_the_file_corrupt() {
        let text = br#"{"format":"lanwatch-state","version":1,"instance":"a","saved_at":0,
            "clients":[{"key":"not-a-mac","first_seen":0,"last_seen":0}]}"#;
        assert!(matches!(
            parse(Path::new("x"), text, "a"),
            Err(StateError::Corrupt { .. })
        ));
    }

    #[test]
    fn a_missing_file_is_a_first_start() {
        let d = dir();
        assert!(load(&d.join("none.json"), "a").unwrap().is_none());
    }
}
