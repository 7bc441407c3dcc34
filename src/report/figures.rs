//! What a report says: the figures of one period, gathered from Prometheus.
//!
//! [`gather`] runs the queries of [`super::queries`] for the period and for
//! the period it is compared with, and folds the per-series answers into
//! per-client, per-protocol and per-domain figures. The result is plain data
//! ([`Report`]), rendered as Markdown by [`super::markdown`] or as JSON
//! as is — the renderers compute nothing.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;

use super::promql::{Labels, PromError, Sample};
use super::queries::{self, client_key, Queries, Window};
use super::time::local_time;
use crate::export::prometheus::{
    CLIENT_BANDWIDTH_BYTES, CLIENT_CONNECTIONS, CLIENT_DNS_QUERIES, CLIENT_DNS_RESPONSES,
    CLIENT_DNS_UNIQUE_DOMAINS, CLIENT_DOMAIN_BYTES, CLIENT_INFO, CLIENT_LAST_SEEN,
};

/// A change is notable when a client moved at least this many bytes more
/// or less than before …
pub const NOTABLE_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// … and by at least this factor (up or down).
pub const NOTABLE_FACTOR: f64 = 2.0;

/// The figures of one report.
#[derive(Clone, Debug, Serialize)]
pub struct Report {
    pub period: Period,
    /// "Thursday 2026-01-01", "week 2025-12-26 – 2026-01-01", "January 2026".
    pub title: String,
    pub window: WindowInfo,
    /// The window ends at the time of the report, before the period does.
    pub partial: bool,
    pub generated: String,
    pub prometheus: String,
    pub instance: Option<String>,
    pub summary: Summary,
    /// Every client with traffic or an identity in the period, most
    /// downloaded first.
    pub clients: Vec<Client>,
    /// Bandwidth per protocol, largest first.
    pub protocols: Vec<ProtocolTotal>,
    /// None when Prometheus has no DNS figures for the period.
    pub dns: Option<Dns>,
    /// Keys (MAC, else IP) of clients first seen in the period.
    pub new_clients: Vec<String>,
    pub gone_quiet: Vec<QuietClient>,
    pub comparison: Comparison,
    /// Weekly and monthly reports: when each client is busiest.
    pub peak_hours: Vec<PeakHours>,
}

/// Which kind of period a report covers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Period {
    Day,
    Week,
    Month,
}

#[derive(Clone, Debug, Serialize)]
pub struct WindowInfo {
    pub start: i64,
    pub end: i64,
    pub start_local: String,
    pub end_local: String,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Summary {
    pub download_bytes: f64,
    pub upload_bytes: f64,
    /// Clients with bandwidth in the period.
    pub active_clients: usize,
    pub new_clients: usize,
    pub connections: f64,
    pub dns_queries: Option<f64>,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Client {
    /// The MAC address, or the IP address where the link carries no MAC.
    pub key: String,
    pub mac: String,
    pub ip: String,
    /// Hostname, else IP, else MAC: what people recognise.
    pub name: String,
    pub hostname: String,
    pub vendor: String,
    pub download_bytes: f64,
    pub upload_bytes: f64,
    pub connections: f64,
    pub dns_queries: f64,
    pub nxdomain: f64,
    /// Most distinct names looked up in lanwatch's 24 h window.
    pub unique_domains: Option<f64>,
    pub last_seen: Option<f64>,
    pub last_seen_local: Option<String>,
    /// First seen in this period.
    pub new: bool,
}

#[derive(Clone, Debug, Serialize)]
pub struct ProtocolTotal {
    pub protocol: String,
    pub download_bytes: f64,
    pub upload_bytes: f64,
}

#[derive(Clone, Debug, Default, Serialize)]
pub struct Dns {
    pub queries: f64,
    pub nxdomain: f64,
    /// Queries per question type, most first.
    pub by_type: Vec<(String, f64)>,
    /// Traffic per domain (lanwatch's bounded top-N per client), most first.
    pub top_domains: Vec<DomainTotal>,
}

#[derive(Clone, Debug, Serialize)]
pub struct DomainTotal {
    pub domain: String,
    pub download_bytes: f64,
    pub upload_bytes: f64,
    pub clients: usize,
}

/// A client that had traffic before but none in this period.
#[derive(Clone, Debug, Serialize)]
pub struct QuietClient {
    pub key: String,
    pub name: String,
    pub ip: String,
    pub download_bytes_before: f64,
    pub upload_bytes_before: f64,
    pub last_seen_local: Option<String>,
}

/// This period against the one before it.
#[derive(Clone, Debug, Serialize)]
pub struct Comparison {
    /// "the previous 7 days (daily average)", "the previous week", …
    pub label: String,
    pub window: WindowInfo,
    /// The earlier figures are divided by this (7 for a daily average).
    pub divisor: f64,
    pub download_bytes_before: f64,
    pub upload_bytes_before: f64,
    pub changes: Vec<Change>,
}

#[derive(Clone, Debug, Serialize)]
pub struct Change {
    pub key: String,
    pub name: String,
    /// "download" or "upload".
    pub what: &'static str,
    pub now_bytes: f64,
    pub before_bytes: f64,
}

#[derive(Clone, Debug, Serialize)]
pub struct PeakHours {
    pub key: String,
    pub name: String,
    /// Bytes (both directions) per local hour of day, 0-23, estimated by
    /// Prometheus's `increase()` over each hour.
    pub by_hour: Vec<f64>,
    pub peak_hour: usize,
}

/// What to gather.
pub struct Request {
    pub period: Period,
    pub title: String,
    pub window: Window,
    pub partial: bool,
    pub previous: Window,
    pub previous_label: String,
    pub previous_divisor: f64,
    pub generated: i64,
    pub instance: Option<String>,
}

/// Gathers a report's figures: the series of the period and of the one it
/// is compared with, folded section by section.
pub fn gather(
    queries: &Queries<'_>,
    prometheus: &str,
    request: &Request,
) -> Result<Report, PromError> {
    let window = request.window;
    let now = PeriodSeries::fetch(queries, window)?;
    let earlier = EarlierSeries::fetch(queries, request.previous)?;

    let mut table = ClientTable::default();
    table.add_identities(&now.last_seen, &now.info);
    let protocols = table.add_traffic(&now.bandwidth, &now.connections);
    let dns = gather_dns(&mut table, &now);
    let new_clients = table.mark_new(&now.info, &now.seen_before);
    let before = Before::gather(&earlier);
    table.name_clients();
    let divisor = request.previous_divisor.max(1.0);
    let gone_quiet = gone_quiet(&table, &before, divisor);
    let comparison = Comparison {
        label: request.previous_label.clone(),
        window: window_info(request.previous),
        divisor,
        download_bytes_before: before.bytes.values().map(|b| b.0).sum::<f64>() / divisor,
        upload_bytes_before: before.bytes.values().map(|b| b.1).sum::<f64>() / divisor,
        changes: changes(&table, &before, divisor),
    };
    let peak_hours = match request.period {
        Period::Day => Vec::new(),
        Period::Week | Period::Month => peak_hours(queries, window, &table.clients)?,
    };
    let clients = table.into_sorted();
    let summary = Summary::of(&clients, new_clients.len(), dns.as_ref());
    Ok(Report {
        period: request.period,
        title: request.title.clone(),
        window: window_info(window),
        partial: request.partial,
        generated: format_local(request.generated as f64).unwrap_or_default(),
        prometheus: prometheus.to_string(),
        instance: request.instance.clone(),
        summary,
        clients,
        protocols,
        dns,
        new_clients,
        gone_quiet,
        comparison,
        peak_hours,
    })
}

/// The series of the report's own period.
struct PeriodSeries {
    bandwidth: Vec<(Labels, f64)>,
    connections: Vec<(Labels, f64)>,
    dns_queries: Vec<(Labels, f64)>,
    dns_responses: Vec<(Labels, f64)>,
    domain_bytes: Vec<(Labels, f64)>,
    unique_domains: Vec<Sample>,
    last_seen: Vec<Sample>,
    info: Vec<Sample>,
    /// Identities seen in the month before the period.
    seen_before: Vec<Sample>,
}

impl PeriodSeries {
    fn fetch(queries: &Queries<'_>, window: Window) -> Result<PeriodSeries, PromError> {
        Ok(PeriodSeries {
            bandwidth: queries.growth(&CLIENT_BANDWIDTH_BYTES, window)?,
            connections: queries.growth(&CLIENT_CONNECTIONS, window)?,
            dns_queries: queries.growth(&CLIENT_DNS_QUERIES, window)?,
            dns_responses: queries.growth(&CLIENT_DNS_RESPONSES, window)?,
            domain_bytes: queries.growth(&CLIENT_DOMAIN_BYTES, window)?,
            unique_domains: queries.over_window(
                "max_over_time",
                &CLIENT_DNS_UNIQUE_DOMAINS,
                window,
            )?,
            last_seen: queries.over_window("max_over_time", &CLIENT_LAST_SEEN, window)?,
            info: queries.over_window("last_over_time", &CLIENT_INFO, window)?,
            seen_before: queries.seen_before(
                &CLIENT_INFO,
                window,
                queries::FIRST_SEEN_LOOKBACK_SECONDS,
            )?,
        })
    }
}

/// The series of the period the report is compared with.
struct EarlierSeries {
    bandwidth: Vec<(Labels, f64)>,
    info: Vec<Sample>,
    last_seen: Vec<Sample>,
}

impl EarlierSeries {
    fn fetch(queries: &Queries<'_>, previous: Window) -> Result<EarlierSeries, PromError> {
        Ok(EarlierSeries {
            bandwidth: queries.growth(&CLIENT_BANDWIDTH_BYTES, previous)?,
            info: queries.over_window("last_over_time", &CLIENT_INFO, previous)?,
            last_seen: queries.over_window("max_over_time", &CLIENT_LAST_SEEN, previous)?,
        })
    }
}

/// Whether a series counts download (direction rx) rather than upload.
fn is_download(labels: &Labels) -> bool {
    labels.get("direction").map(String::as_str) == Some("rx")
}

/// The clients section, built up by key (MAC, else IP).
#[derive(Default)]
struct ClientTable {
    clients: BTreeMap<String, Client>,
}

impl ClientTable {
    /// The client a series belongs to, added on first sight (None for a
    /// series with neither MAC nor IP).
    fn client(&mut self, labels: &Labels) -> Option<&mut Client> {
        let key = client_key(labels);
        if key.is_empty() {
            return None;
        }
        Some(self.clients.entry(key.clone()).or_insert_with(|| Client {
            key,
            mac: labels.get("mac").cloned().unwrap_or_default(),
            ..Client::default()
        }))
    }

    /// Identity: the address series seen last wins; a hostname or vendor,
    /// once known, is kept.
    fn add_identities(&mut self, last_seen: &[Sample], info: &[Sample]) {
        let mut addresses: Vec<(f64, &Labels)> =
            last_seen.iter().map(|s| (s.value, &s.labels)).collect();
        addresses.sort_by(|a, b| a.0.total_cmp(&b.0));
        for (seen, labels) in addresses {
            if let Some(c) = self.client(labels) {
                c.ip = labels.get("ip").cloned().unwrap_or_default();
                c.last_seen = Some(c.last_seen.map_or(seen, |s| s.max(seen)));
            }
        }
        for sample in info {
            let Some(c) = self.client(&sample.labels) else {
                continue;
            };
            let get = |k: &str| sample.labels.get(k).cloned().unwrap_or_default();
            if c.ip.is_empty() {
                c.ip = get("ip");
            }
            if c.hostname.is_empty() || sample.labels.get("ip") == Some(&c.ip) {
                let hostname = get("hostname");
                if !hostname.is_empty() {
                    c.hostname = hostname;
                }
            }
            let vendor = get("vendor");
            if !vendor.is_empty() {
                c.vendor = vendor;
            }
        }
    }

    /// Each client's bandwidth and connections; returns the protocols
    /// section (bandwidth per protocol, largest first).
    fn add_traffic(
        &mut self,
        bandwidth: &[(Labels, f64)],
        connections: &[(Labels, f64)],
    ) -> Vec<ProtocolTotal> {
        let mut protocols: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for (labels, bytes) in bandwidth {
            let download = is_download(labels);
            let Some(c) = self.client(labels) else {
                continue;
            };
            if download {
                c.download_bytes += bytes;
            } else {
                c.upload_bytes += bytes;
            }
            let protocol = labels.get("protocol").cloned().unwrap_or_default();
            let entry = protocols.entry(protocol).or_default();
            if download {
                entry.0 += bytes;
            } else {
                entry.1 += bytes;
            }
        }
        for (labels, n) in connections {
            if let Some(c) = self.client(labels) {
                c.connections += n;
            }
        }
        let mut protocols: Vec<ProtocolTotal> = protocols
            .into_iter()
            .map(|(protocol, (down, up))| ProtocolTotal {
                protocol,
                download_bytes: down,
                upload_bytes: up,
            })
            .collect();
        protocols.sort_by(|a, b| {
            (b.download_bytes + b.upload_bytes)
                .total_cmp(&(a.download_bytes + a.upload_bytes))
                .then_with(|| a.protocol.cmp(&b.protocol))
        });
        protocols
    }

    /// The new-clients section: clients with an identity in the period and
    /// none in the month before, marked as new.
    fn mark_new(&mut self, info: &[Sample], seen_before: &[Sample]) -> Vec<String> {
        let known: BTreeSet<String> = seen_before.iter().map(|s| client_key(&s.labels)).collect();
        let mut new_clients = Vec::new();
        for sample in info {
            let key = client_key(&sample.labels);
            if known.contains(&key) {
                continue;
            }
            if let Some(c) = self.clients.get_mut(&key) {
                if !c.new {
                    c.new = true;
                    new_clients.push(key);
                }
            }
        }
        new_clients
    }

    /// The names people recognise, and local last-seen times.
    fn name_clients(&mut self) {
        for c in self.clients.values_mut() {
            c.name = display_name(&c.hostname, &c.ip, &c.key);
            c.last_seen_local = c.last_seen.and_then(format_local);
        }
    }

    fn bytes_of(&self, key: &str) -> f64 {
        self.clients
            .get(key)
            .map_or(0.0, |c| c.download_bytes + c.upload_bytes)
    }

    /// The clients, most downloaded first.
    fn into_sorted(self) -> Vec<Client> {
        let mut clients: Vec<Client> = self.clients.into_values().collect();
        clients.sort_by(|a, b| {
            b.download_bytes
                .total_cmp(&a.download_bytes)
                .then_with(|| b.upload_bytes.total_cmp(&a.upload_bytes))
                .then_with(|| a.key.cmp(&b.key))
        });
        clients
    }
}

/// The DNS section (None when Prometheus has no DNS figures for the
/// period), and each client's DNS figures.
fn gather_dns(table: &mut ClientTable, now: &PeriodSeries) -> Option<Dns> {
    let has_dns = !now.dns_queries.is_empty()
        || !now.dns_responses.is_empty()
        || !now.unique_domains.is_empty();
    let mut dns = Dns::default();
    let mut by_type: BTreeMap<String, f64> = BTreeMap::new();
    for (labels, n) in &now.dns_queries {
        if let Some(c) = table.client(labels) {
            c.dns_queries += n;
        }
        *by_type
            .entry(labels.get("query_type").cloned().unwrap_or_default())
            .or_default() += n;
        dns.queries += n;
    }
    for (labels, n) in &now.dns_responses {
        let nxdomain = labels
            .get("rcode")
            .is_some_and(|r| r.eq_ignore_ascii_case("nxdomain"));
        if !nxdomain {
            continue;
        }
        if let Some(c) = table.client(labels) {
            c.nxdomain += n;
        }
        dns.nxdomain += n;
    }
    for sample in &now.unique_domains {
        if let Some(c) = table.client(&sample.labels) {
            c.unique_domains = Some(
                c.unique_domains
                    .map_or(sample.value, |u| u.max(sample.value)),
            );
        }
    }
    dns.by_type = by_type.into_iter().collect();
    dns.by_type
        .sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    dns.top_domains = top_domains(&now.domain_bytes);
    has_dns.then_some(dns)
}

/// Traffic per domain, most first, with how many clients reached it.
fn top_domains(domain_bytes: &[(Labels, f64)]) -> Vec<DomainTotal> {
    let mut domains: BTreeMap<String, (f64, f64, BTreeSet<String>)> = BTreeMap::new();
    for (labels, bytes) in domain_bytes {
        let domain = labels.get("domain").cloned().unwrap_or_default();
        let entry = domains.entry(domain).or_default();
        if is_download(labels) {
            entry.0 += bytes;
        } else {
            entry.1 += bytes;
        }
        if *bytes > 0.0 {
            entry.2.insert(client_key(labels));
        }
    }
    let mut top: Vec<DomainTotal> = domains
        .into_iter()
        .map(|(domain, (down, up, who))| DomainTotal {
            domain,
            download_bytes: down,
            upload_bytes: up,
            clients: who.len(),
        })
        .collect();
    top.sort_by(|a, b| {
        (b.download_bytes + b.upload_bytes)
            .total_cmp(&(a.download_bytes + a.upload_bytes))
            .then_with(|| a.domain.cmp(&b.domain))
    });
    top
}

/// Per client, the period compared with: for the comparison and the quiet
/// ones.
struct Before {
    /// (download, upload) bytes by client key.
    bytes: BTreeMap<String, (f64, f64)>,
    /// (hostname, ip) by client key.
    names: BTreeMap<String, (String, String)>,
    last_seen: BTreeMap<String, f64>,
}

impl Before {
    fn gather(earlier: &EarlierSeries) -> Before {
        let mut bytes: BTreeMap<String, (f64, f64)> = BTreeMap::new();
        for (labels, b) in &earlier.bandwidth {
            let entry = bytes.entry(client_key(labels)).or_default();
            if is_download(labels) {
                entry.0 += b;
            } else {
                entry.1 += b;
            }
        }
        let mut names: BTreeMap<String, (String, String)> = BTreeMap::new();
        for s in &earlier.info {
            let hostname = s.labels.get("hostname").cloned().unwrap_or_default();
            let ip = s.labels.get("ip").cloned().unwrap_or_default();
            let entry = names.entry(client_key(&s.labels)).or_default();
            if !hostname.is_empty() {
                entry.0 = hostname;
            }
            if !ip.is_empty() {
                entry.1 = ip;
            }
        }
        let mut last_seen: BTreeMap<String, f64> = BTreeMap::new();
        for s in &earlier.last_seen {
            let e = last_seen.entry(client_key(&s.labels)).or_insert(s.value);
            *e = e.max(s.value);
        }
        Before {
            bytes,
            names,
            last_seen,
        }
    }
}

/// The gone-quiet section: clients with traffic before and none now,
/// largest before first.
fn gone_quiet(table: &ClientTable, before: &Before, divisor: f64) -> Vec<QuietClient> {
    let mut quiet = Vec::new();
    for (key, &(down, up)) in &before.bytes {
        if !(down + up > 0.0 && table.bytes_of(key) == 0.0) {
            continue;
        }
        let (hostname, ip) = before.names.get(key).cloned().unwrap_or_default();
        let last = table
            .clients
            .get(key)
            .and_then(|c| c.last_seen)
            .or_else(|| before.last_seen.get(key).copied());
        quiet.push(QuietClient {
            key: key.clone(),
            name: display_name(&hostname, &ip, key),
            ip,
            download_bytes_before: down / divisor,
            upload_bytes_before: up / divisor,
            last_seen_local: last.and_then(format_local),
        });
    }
    quiet.sort_by(|a, b| {
        (b.download_bytes_before + b.upload_bytes_before)
            .total_cmp(&(a.download_bytes_before + a.upload_bytes_before))
    });
    quiet
}

/// The comparison's notable changes (new clients left out), largest first.
fn changes(table: &ClientTable, before: &Before, divisor: f64) -> Vec<Change> {
    let mut changes = Vec::new();
    for c in table.clients.values() {
        let (down, up) = before.bytes.get(&c.key).copied().unwrap_or_default();
        for (what, now, was) in [
            ("download", c.download_bytes, down / divisor),
            ("upload", c.upload_bytes, up / divisor),
        ] {
            if is_notable(now, was) && !c.new {
                changes.push(Change {
                    key: c.key.clone(),
                    name: c.name.clone(),
                    what,
                    now_bytes: now,
                    before_bytes: was,
                });
            }
        }
    }
    changes.sort_by(|a, b| {
        (b.now_bytes - b.before_bytes)
            .abs()
            .total_cmp(&(a.now_bytes - a.before_bytes).abs())
    });
    changes
}

impl Summary {
    /// The summary section, from the finished clients section.
    fn of(clients: &[Client], new_clients: usize, dns: Option<&Dns>) -> Summary {
        Summary {
            download_bytes: clients.iter().map(|c| c.download_bytes).sum(),
            upload_bytes: clients.iter().map(|c| c.upload_bytes).sum(),
            active_clients: clients
                .iter()
                .filter(|c| c.download_bytes + c.upload_bytes > 0.0)
                .count(),
            new_clients,
            connections: clients.iter().map(|c| c.connections).sum(),
            dns_queries: dns.map(|d| d.queries),
        }
    }
}

/// Whether going from `before` to `now` bytes is worth a line.
pub fn is_notable(now: f64, before: f64) -> bool {
    (now - before).abs() >= NOTABLE_BYTES
        && (now >= before * NOTABLE_FACTOR || now * NOTABLE_FACTOR <= before)
}

fn display_name(hostname: &str, ip: &str, key: &str) -> String {
    [hostname, ip, key]
        .into_iter()
        .find(|s| !s.is_empty())
        .unwrap_or("?")
        .to_string()
}

fn format_local(unix_seconds: f64) -> Option<String> {
    if !unix_seconds.is_finite() || unix_seconds <= 0.0 {
        return None;
    }
    local_time(unix_seconds.floor() as i64)
        .ok()
        .map(|l| l.to_string())
}

fn window_info(window: Window) -> WindowInfo {
    WindowInfo {
        start: window.start,
        end: window.end,
        start_local: format_local(window.start as f64).unwrap_or_default(),
        end_local: format_local(window.end as f64).unwrap_or_default(),
    }
}

/// Bytes per local hour of day for every client with traffic.
fn peak_hours(
    queries: &Queries<'_>,
    window: Window,
    clients: &BTreeMap<String, Client>,
) -> Result<Vec<PeakHours>, PromError> {
    let mut hours: BTreeMap<String, [f64; 24]> = BTreeMap::new();
    for series in queries.hourly_bandwidth(window)? {
        let key = client_key(&series.labels);
        let entry = hours.entry(key).or_insert([0.0; 24]);
        for &(t, bytes) in &series.points {
            if !bytes.is_finite() {
                continue;
            }
            // The point at t covers the hour before it.
            let Ok(local) = local_time((t as i64).saturating_sub(1_800)) else {
                continue;
            };
            if let Some(slot) = entry.get_mut(usize::from(local.hour)) {
                *slot += bytes;
            }
        }
    }
    let mut out: Vec<PeakHours> = hours
        .into_iter()
        .filter(|(_, h)| h.iter().any(|b| *b > 0.0))
        .map(|(key, by_hour)| {
            let peak_hour = by_hour
                .iter()
                .enumerate()
                .max_by(|a, b| a.1.total_cmp(b.1).then(b.0.cmp(&a.0)))
                .map_or(0, |(h, _)| h);
            let name = clients
                .get(&key)
                .map_or_else(|| key.clone(), |c| c.name.clone());
            PeakHours {
                key,
                name,
                by_hour: by_hour.to_vec(),
                peak_hour,
            }
        })
        .collect();
    let total = |p: &PeakHours| p.by_hour.iter().sum::<f64>();
    out.sort_by(|a, b| total(b).total_cmp(&total(a)));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: f64 = 1024.0 * 1024.0;

    #[test]
    fn notable_means_both_a_large_factor_and_a_large_amount() {
        assert!(is_notable(50.0 * MIB, 10.0 * MIB));
        assert!(is_notable(2.0 * MIB, 20.0 * MIB));
        assert!(!is_notable(15.0 * MIB, 10.0 * MIB), "1.5× is not notable");
        assert!(
            !is_notable(3.0 * MIB, 1.0 * MIB),
            "2 MiB more is not notable"
        );
        assert!(is_notable(6.0 * MIB, 0.0));
    }

    #[test]
    fn names_prefer_hostname_then_ip_then_key() {
        assert_eq!(display_name("tv", "10.0.0.2", "aa"), "tv");
        assert_eq!(display_name("", "10.0.0.2", "aa"), "10.0.0.2");
        assert_eq!(display_name("", "", "aa"), "aa");
    }
}
