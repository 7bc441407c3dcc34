//! Device identity: who each MAC on the LAN is — its host name, its DHCP
//! fingerprint, the addresses DHCP gave it, its vendor.
//!
//! # Sources
//!
//! The tracker hands every IP packet to [`Identities::observe_ip`], which
//! returns after a couple of compares unless the packet is one of:
//!
//! - **DHCPv4** (UDP 67/68). Client messages give the host name (option 81,
//!   else 12), the vendor class (60), the parameter request list (55, kept
//!   as `"1,3,6,15"`: a fingerprint of the client's DHCP stack) and the
//!   requested address (option 50, or `ciaddr` of a renewing REQUEST). A
//!   server's ACK gives the assigned address (`yiaddr`). The device is the
//!   message's `chaddr`, not the frame's sender: relays forward for others.
//! - **DHCPv6** (UDP 546/547), relay messages unwrapped. Client messages
//!   give the FQDN (option 39); a REPLY's IA_NA address is the assigned
//!   address. The device is the frame's MAC (sender of a client message,
//!   receiver of a REPLY) or, relayed or where the link has no MAC, the MAC
//!   in the client's DUID-LL/LLT.
//! - **mDNS responses** (from UDP 5353): an A/AAAA record `<host>.local`
//!   holding the packet's source address, or a reverse-mapping PTR of the
//!   source address pointing to `<host>.local`, names the sender's MAC.
//!   Records for other addresses are ignored, so a sleep proxy answering
//!   for a sleeping Mac does not take its name.
//! - **IPv6 neighbour discovery** (ICMPv6 135/136) binds no name, only an
//!   address: see below.
//! - **The router's lease file** (`--leases`, dnsmasq or odhcpd, see
//!   [`super::leases`]), re-read by [`Identities::refresh`] when it changes.
//!
//! # Host name precedence
//!
//! lease file > DHCP option 81 / option 12 > DHCPv6 FQDN > mDNS.
//!
//! The DHCP server's own record wins; then what the client put in its DHCP
//! messages (81 before 12 in one message, as dnsmasq does; between
//! messages the newer wins); then its DHCPv6 FQDN; then its mDNS name. A
//! source never replaces a name from a higher one; when the lease file
//! stops naming a device, its best name from traffic is shown again.
//!
//! Names are the host part (up to the first dot: dnsmasq registers
//! `pi3` for a client that sends `pi3.ntop.org`), `.local` stripped from
//! mDNS names, and sanitised for label values and table cells: cut at a
//! NUL, invalid UTF-8 and control characters dropped, surrounding blanks
//! trimmed, at most 63 bytes. Case is kept (`Lucas-iPhone`).
//!
//! # Addresses
//!
//! A packet that binds an address to a MAC — a DHCPACK's `yiaddr` to its
//! `chaddr` (so a renewal that changes the address moves the client), a
//! DHCPv6 REPLY's address, a neighbour solicitation's source or an
//! advertisement's target to the link-layer address it carries — gives an
//! [`AddressBinding`] back to the tracker.
//!
//! # Bounds
//!
//! The table holds at most `max_devices` entries; at the bound the sixteenth
//! least recently seen are evicted in one batch, and counted. Lease files
//! above [`super::leases::MAX_FILE_BYTES`] are refused.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

use crate::decode::dhcp::{DhcpMessage, Dhcpv6Message, Dhcpv6MessageType, FqdnName, MessageType};
use crate::decode::dns::{rtype, DnsMessage, Name};
use crate::decode::{ndp, ArpPacket, IpPacket, LinkInfo, Mac, Transport};

use super::leases::{self, LeaseRecord};
use super::oui::OuiTable;

/// Longest host name kept, in bytes (a DNS label's limit).
pub const MAX_HOSTNAME_BYTES: usize = 63;

/// Lease files are looked at no more often than this.
pub const LEASE_CHECK_INTERVAL: Duration = Duration::from_secs(5);

/// How many relay levels of a DHCPv6 message are unwrapped.
const MAX_RELAY_DEPTH: usize = 4;

/// Identity settings.
#[derive(Clone, Debug)]
pub struct IdentityConfig {
    /// Bound of the table.
    pub max_devices: usize,
    /// The router's lease file (`--leases`).
    pub leases: Option<PathBuf>,
    /// MAC vendors.
    pub oui: OuiTable,
}

impl Default for IdentityConfig {
    fn default() -> Self {
        IdentityConfig {
            max_devices: 1024,
            leases: None,
            oui: OuiTable::builtin(),
        }
    }
}

/// Where a host name came from; see the module documentation for the
/// precedence.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum HostnameSource {
    /// DHCPv4 option 12.
    Dhcp,
    /// DHCPv4 option 81.
    DhcpFqdn,
    /// DHCPv6 option 39.
    Dhcpv6Fqdn,
    /// An mDNS response.
    Mdns,
    /// The router's lease file.
    LeaseFile,
}

impl HostnameSource {
    /// Higher wins; equal ranks replace each other (the newer wins).
    pub fn rank(self) -> u8 {
        match self {
            HostnameSource::LeaseFile => 4,
            HostnameSource::Dhcp | HostnameSource::DhcpFqdn => 3,
            HostnameSource::Dhcpv6Fqdn => 2,
            HostnameSource::Mdns => 1,
        }
    }

    /// A short name for labels and JSON.
    pub fn label(self) -> &'static str {
        match self {
            HostnameSource::Dhcp => "dhcp",
            HostnameSource::DhcpFqdn => "dhcp_fqdn",
            HostnameSource::Dhcpv6Fqdn => "dhcpv6_fqdn",
            HostnameSource::Mdns => "mdns",
            HostnameSource::LeaseFile => "lease_file",
        }
    }
}

/// What is known about one device.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DeviceIdentity {
    /// The best name by the precedence rule.
    pub hostname: Option<Box<str>>,
    /// Where `hostname` came from (`None` when there is no name).
    pub hostname_source: Option<HostnameSource>,
    /// DHCPv4 option 60, sanitised like a host name.
    pub dhcp_vendor_class: Option<Box<str>>,
    /// DHCPv4 option 55 as decimal codes joined by commas.
    pub dhcp_fingerprint: Option<Box<str>>,
    /// Option 50, or `ciaddr` of a renewal, of the last client message with one.
    pub dhcp_requested: Option<Ipv4Addr>,
    /// `yiaddr` of the last DHCPACK that assigned one.
    pub dhcp_assigned: Option<Ipv4Addr>,
    /// The first IA_NA address of the last DHCPv6 REPLY that had one.
    pub dhcpv6_assigned: Option<Ipv6Addr>,
    /// Packet time (ns) of the last DHCP or DHCPv6 message about it; 0 if none.
    pub last_dhcp: u64,
    /// Packet time (ns) the entry was created / last updated from traffic
    /// or the lease file.
    pub first_seen: u64,
    pub last_seen: u64,
    /// The best name from traffic, kept apart so that it shows again when
    /// the lease file stops naming the device.
    observed: Option<(Box<str>, HostnameSource)>,
    /// The lease file's name for it.
    lease: Option<Box<str>>,
    /// The address through which a MAC-less lease record (hosts-style
    /// line) named it.
    lease_ip: Option<IpAddr>,
}

impl DeviceIdentity {
    fn new(now: u64) -> DeviceIdentity {
        DeviceIdentity {
            first_seen: now,
            last_seen: now,
            ..DeviceIdentity::default()
        }
    }

    pub fn hostname(&self) -> Option<&str> {
        self.hostname.as_deref()
    }

    /// Takes a name from traffic if its source ranks at least as high as
    /// the current one.
    fn offer_name(&mut self, name: Box<str>, source: HostnameSource) {
        let replace = match &self.observed {
            Some((_, current)) => source.rank() >= current.rank(),
            None => true,
        };
        if replace {
            self.observed = Some((name, source));
            self.settle_name();
        }
    }

    /// Works out `hostname` from the lease file's name and the observed one.
    fn settle_name(&mut self) {
        let (name, source) = match (&self.lease, &self.observed) {
            (Some(lease), _) => (Some(lease.clone()), Some(HostnameSource::LeaseFile)),
            (None, Some((name, source))) => (Some(name.clone()), Some(*source)),
            (None, None) => (None, None),
        };
        self.hostname = name;
        self.hostname_source = source;
    }
}

/// A packet said that `ip` is `mac`'s.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AddressBinding {
    pub mac: Mac,
    pub ip: IpAddr,
}

/// The lease file and what it said last time it could be read.
#[derive(Debug)]
struct LeaseSource {
    path: PathBuf,
    last_check: Option<SystemTime>,
    /// Modification time and size of the version read last (or that failed).
    stamp: Option<(Option<SystemTime>, u64)>,
    /// The file was missing at the last check (logged once).
    missing: bool,
    by_mac: HashMap<Mac, Box<str>, foldhash::fast::RandomState>,
    /// Names of records with no MAC (hosts-style lines, odd DUIDs).
    by_ip: HashMap<IpAddr, Box<str>, foldhash::fast::RandomState>,
}

/// The identity table; see the module documentation.
pub struct Identities {
    devices: HashMap<Mac, DeviceIdentity, foldhash::fast::RandomState>,
    max: usize,
    evictions: u64,
    oui: OuiTable,
    leases: Option<LeaseSource>,
    /// Newest packet time seen.
    now: u64,
}

impl Identities {
    pub fn new(config: IdentityConfig) -> Identities {
        Identities {
            devices: HashMap::default(),
            max: config.max_devices.max(1),
            evictions: 0,
            oui: config.oui,
            leases: config.leases.map(|path| LeaseSource {
                path,
                last_check: None,
                stamp: None,
                missing: false,
                by_mac: HashMap::default(),
                by_ip: HashMap::default(),
            }),
            now: 0,
        }
    }

    /// Looks at one IP packet; returns at once unless it is DHCP, DHCPv6,
    /// an mDNS response or a neighbour solicitation/advertisement.
    #[inline]
    pub fn observe_ip(
        &mut self,
        now_ns: u64,
        link: &LinkInfo,
        ip: &IpPacket<'_>,
    ) -> Option<AddressBinding> {
        match ip.transport {
            Transport::Udp { src_port, dst_port } => match (src_port, dst_port) {
                (67 | 68, 67 | 68) => self.dhcpv4(now_ns, ip.payload),
                (546 | 547, 546 | 547) => self.dhcpv6(now_ns, link, ip.payload),
                (5353, _) => {
                    self.mdns(now_ns, link, ip);
                    None
                }
                _ => None,
            },
            Transport::Icmpv6 {
                icmp_type: ndp::icmp_type::NEIGHBOR_SOLICIT | ndp::icmp_type::NEIGHBOR_ADVERT,
                ..
            } => self.neighbour(now_ns, ip),
            _ => None,
        }
    }

    /// ARP gives no identity of its own, but its sender's address may be
    /// the key to a hosts-style lease record.
    pub fn observe_arp(&mut self, now_ns: u64, arp: &ArpPacket) {
        if !arp.sender_ip.is_unspecified() {
            self.observe_binding(now_ns, arp.sender_mac, IpAddr::V4(arp.sender_ip));
        }
    }

    /// Tells the table that `mac` uses `ip` (the tracker calls it when a
    /// client shows a new address): a lease record that names only the
    /// address then names the device.
    pub fn observe_binding(&mut self, now_ns: u64, mac: Mac, ip: IpAddr) {
        self.advance(now_ns);
        if !usable_mac(mac) {
            return;
        }
        let Some(name) = self.leases.as_ref().and_then(|l| l.by_ip.get(&ip)).cloned() else {
            return;
        };
        let now = self.now;
        if let Some(d) = self.entry(mac, now) {
            d.lease_ip = Some(ip);
            if d.lease.is_none() {
                d.lease = Some(name);
                d.settle_name();
            }
        }
    }

    pub fn get(&self, mac: &Mac) -> Option<&DeviceIdentity> {
        self.devices.get(mac)
    }

    /// Every device in the table (in no particular order).
    pub fn iter(&self) -> impl Iterator<Item = (&Mac, &DeviceIdentity)> {
        self.devices.iter()
    }

    /// The MAC's vendor; `None` for locally administered (randomized) MACs.
    pub fn vendor(&self, mac: &Mac) -> Option<&str> {
        self.oui.lookup(mac)
    }

    /// A locally administered MAC: randomized ("private Wi-Fi address").
    pub fn is_randomized(mac: &Mac) -> bool {
        mac.is_locally_administered()
    }

    pub fn len(&self) -> usize {
        self.devices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.devices.is_empty()
    }

    pub fn max(&self) -> usize {
        self.max
    }

    pub fn evictions(&self) -> u64 {
        self.evictions
    }

    /// Re-reads the lease file if it changed (modification time or size),
    /// at most every [`LEASE_CHECK_INTERVAL`] of wall time. Never fails: a
    /// missing or malformed file is logged once and the names it gave last
    /// time are kept.
    pub fn refresh(&mut self, wall_now: SystemTime) {
        let Some(source) = self.leases.as_mut() else {
            return;
        };
        if let Some(last) = source.last_check {
            // A clock stepped backwards makes the check due.
            if wall_now
                .duration_since(last)
                .is_ok_and(|since| since < LEASE_CHECK_INTERVAL)
            {
                return;
            }
        }
        source.last_check = Some(wall_now);
        let meta = match std::fs::metadata(&source.path) {
            Ok(m) => m,
            Err(e) => {
                if !source.missing {
                    tracing::warn!("lease file {}: {e}", source.path.display());
                    source.missing = true;
                }
                return;
            }
        };
        source.missing = false;
        let stamp = (meta.modified().ok(), meta.len());
        if source.stamp == Some(stamp) {
            return;
        }
        source.stamp = Some(stamp);
        match leases::read_file(&source.path) {
            Ok(records) => {
                tracing::debug!(
                    "lease file {}: {} records",
                    source.path.display(),
                    records.len()
                );
                self.set_leases(&records);
            }
            // Logged once per version of the file: it is not read again
            // until it changes.
            Err(e) => tracing::warn!("ignoring lease file: {e}"),
        }
    }

    /// Re-reads the lease file now, whether it changed or not (SIGHUP).
    pub fn reread_leases(&mut self, wall_now: SystemTime) {
        if let Some(source) = self.leases.as_mut() {
            source.last_check = None;
            source.stamp = None;
        }
        self.refresh(wall_now);
    }

    /// Replaces the lease file's names with `records`' (what `refresh`
    /// does after reading the file; public for tests and replays).
    pub fn set_leases(&mut self, records: &[LeaseRecord]) {
        let Some(source) = self.leases.as_mut() else {
            return;
        };
        source.by_mac.clear();
        source.by_ip.clear();
        for r in records {
            let Some(name) = r
                .hostname
                .as_deref()
                .and_then(|h| clean_host_part(h.as_bytes()))
            else {
                continue;
            };
            match r.mac().filter(|m| usable_mac(*m)) {
                Some(mac) => {
                    source.by_mac.insert(mac, name);
                }
                None => {
                    source.by_ip.insert(r.ip, name);
                }
            }
        }
        let by_mac: Vec<(Mac, Box<str>)> =
            source.by_mac.iter().map(|(m, n)| (*m, n.clone())).collect();
        // Devices the file no longer names fall back to their own names.
        for (mac, d) in self.devices.iter_mut() {
            d.lease = source
                .by_mac
                .get(mac)
                .or_else(|| d.lease_ip.and_then(|ip| source.by_ip.get(&ip)))
                .cloned();
            d.settle_name();
        }
        let now = self.now;
        for (mac, name) in by_mac {
            if let Some(d) = self.entry(mac, now) {
                if d.lease.as_ref() != Some(&name) {
                    d.lease = Some(name);
                    d.settle_name();
                }
            }
        }
    }

    #[inline]
    fn advance(&mut self, now_ns: u64) {
        self.now = self.now.max(now_ns);
    }

    /// The entry for `mac`, created if new (evicting at the bound), marked
    /// seen at `now`.
    fn entry(&mut self, mac: Mac, now: u64) -> Option<&mut DeviceIdentity> {
        if !self.devices.contains_key(&mac) && self.devices.len() >= self.max {
            self.evict_idlest();
        }
        let d = self
            .devices
            .entry(mac)
            .or_insert_with(|| DeviceIdentity::new(now));
        d.last_seen = d.last_seen.max(now);
        if d.lease.is_none() {
            if let Some(name) = self.leases.as_ref().and_then(|l| l.by_mac.get(&mac)) {
                d.lease = Some(name.clone());
                d.settle_name();
            }
        }
        Some(d)
    }

    /// Evicts the least recently seen sixteenth of the table (at least one).
    fn evict_idlest(&mut self) {
        let batch = (self.max / 16).max(1);
        let mut by_age: Vec<(u64, Mac)> = self
            .devices
            .iter()
            .map(|(m, d)| (d.last_seen, *m))
            .collect();
        if batch < by_age.len() {
            by_age.select_nth_unstable(batch);
            by_age.truncate(batch);
        }
        for (_, mac) in by_age {
            if self.devices.remove(&mac).is_some() {
                self.evictions = self.evictions.wrapping_add(1);
            }
        }
    }

    fn dhcpv4(&mut self, now: u64, payload: &[u8]) -> Option<AddressBinding> {
        self.advance(now);
        let m = DhcpMessage::new_checked(payload).ok()?;
        let mac = m.chaddr().filter(|m| usable_mac(*m))?;
        let kind = m.message_type()?;
        match m.op() {
            1 => {
                let name = fqdn_host(&m)
                    .map(|n| (n, HostnameSource::DhcpFqdn))
                    .or_else(|| {
                        m.hostname()
                            .and_then(clean_host_part)
                            .map(|n| (n, HostnameSource::Dhcp))
                    });
                let vendor = m.vendor_class().and_then(clean_text);
                let fingerprint = m.parameter_request_list().map(fingerprint);
                let requested = m.requested_ip().or_else(|| {
                    let ciaddr = m.ciaddr();
                    (kind == MessageType::Request && !ciaddr.is_unspecified()).then_some(ciaddr)
                });
                let d = self.entry(mac, now)?;
                d.last_dhcp = now;
                if let Some((name, source)) = name {
                    d.offer_name(name, source);
                }
                if vendor.is_some() {
                    d.dhcp_vendor_class = vendor;
                }
                if fingerprint.is_some() {
                    d.dhcp_fingerprint = fingerprint;
                }
                if requested.is_some() {
                    d.dhcp_requested = requested;
                }
                None
            }
            2 if kind == MessageType::Ack => {
                let yiaddr = m.yiaddr();
                let d = self.entry(mac, now)?;
                d.last_dhcp = now;
                if yiaddr.is_unspecified() || yiaddr.is_broadcast() {
                    // The ACK of an INFORM assigns nothing.
                    return None;
                }
                d.dhcp_assigned = Some(yiaddr);
                let ip = IpAddr::V4(yiaddr);
                self.observe_binding(now, mac, ip);
                Some(AddressBinding { mac, ip })
            }
            _ => None,
        }
    }

    fn dhcpv6(&mut self, now: u64, link: &LinkInfo, payload: &[u8]) -> Option<AddressBinding> {
        self.advance(now);
        let mut m = Dhcpv6Message::new_checked(payload).ok()?;
        let mut relayed = false;
        for _ in 0..MAX_RELAY_DEPTH {
            if !m.is_relay() {
                break;
            }
            m = m.relayed_message()?.ok()?;
            relayed = true;
        }
        let duid_mac = m.client_duid().and_then(|d| d.mac());
        use Dhcpv6MessageType as T;
        match m.msg_type() {
            T::Solicit
            | T::Request
            | T::Confirm
            | T::Renew
            | T::Rebind
            | T::Release
            | T::Decline
            | T::InformationRequest => {
                let frame_mac = link.src_mac.filter(|_| !relayed);
                let mac = frame_mac.or(duid_mac).filter(|m| usable_mac(*m))?;
                let name = m.client_fqdn().and_then(|f| wire_host(f.name));
                let d = self.entry(mac, now)?;
                d.last_dhcp = now;
                if let Some(name) = name {
                    d.offer_name(name, HostnameSource::Dhcpv6Fqdn);
                }
                None
            }
            T::Reply => {
                let frame_mac = link.dst_mac.filter(|_| !relayed);
                let mac = frame_mac
                    .filter(|m| usable_mac(*m))
                    .or(duid_mac)
                    .filter(|m| usable_mac(*m))?;
                let address = m.ia_na_addresses().next();
                let d = self.entry(mac, now)?;
                d.last_dhcp = now;
                let address = address?;
                d.dhcpv6_assigned = Some(address);
                let ip = IpAddr::V6(address);
                self.observe_binding(now, mac, ip);
                Some(AddressBinding { mac, ip })
            }
            _ => None,
        }
    }

    fn mdns(&mut self, now: u64, link: &LinkInfo, ip: &IpPacket<'_>) {
        self.advance(now);
        let Some(mac) = link.src_mac.filter(|m| usable_mac(*m)) else {
            return;
        };
        let Ok(msg) = DnsMessage::new_checked(ip.payload) else {
            return;
        };
        if !msg.is_response() {
            return;
        }
        let mut found = None;
        for record in msg.records().map_while(Result::ok) {
            let name = match record.rtype {
                rtype::A | rtype::AAAA if record.ip() == Some(ip.src) => local_host(&record.name),
                rtype::PTR if is_reverse_name_of(&record.name, ip.src) => {
                    record.target_name().and_then(|n| local_host(&n))
                }
                _ => None,
            };
            if name.is_some() {
                found = name;
                break;
            }
        }
        if let Some(name) = found {
            if let Some(d) = self.entry(mac, now) {
                d.offer_name(name, HostnameSource::Mdns);
            }
        }
    }

    fn neighbour(&mut self, now: u64, ip: &IpPacket<'_>) -> Option<AddressBinding> {
        self.advance(now);
        let Transport::Icmpv6 { icmp_type, .. } = ip.transport else {
            return None;
        };
        let repr = ndp::Packet::new_checked(icmp_type, ip.payload).ok()?.repr();
        let mac = repr.link_layer.filter(|m| usable_mac(*m))?;
        let address = match repr.kind {
            // The solicitation's link-layer address is its sender's.
            ndp::NdpKind::Solicitation => match ip.src {
                IpAddr::V6(a) => a,
                IpAddr::V4(_) => return None,
            },
            ndp::NdpKind::Advertisement => repr.target,
        };
        if address.is_unspecified() || address.is_multicast() {
            return None;
        }
        let ip = IpAddr::V6(address);
        self.observe_binding(now, mac, ip);
        Some(AddressBinding { mac, ip })
    }
}

/// A MAC that can be a device: not zero, not a group address.
#[inline]
fn usable_mac(mac: Mac) -> bool {
    !mac.is_zero() && !mac.is_group()
}

/// Option 55 as `"1,3,6,15"`.
fn fingerprint(codes: &[u8]) -> Box<str> {
    let mut out = String::with_capacity(codes.len().saturating_mul(4));
    for (i, code) in codes.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&code.to_string());
    }
    out.into_boxed_str()
}

/// Text for a label value: cut at the first NUL, invalid UTF-8 and control
/// characters dropped, blanks trimmed, at most 63 bytes; `None` if empty.
pub fn clean_text(bytes: &[u8]) -> Option<Box<str>> {
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or_default();
    let text = String::from_utf8_lossy(bytes);
    let mut out = String::with_capacity(text.len().min(MAX_HOSTNAME_BYTES));
    for c in text
        .chars()
        .filter(|c| !c.is_control() && *c != char::REPLACEMENT_CHARACTER)
    {
        if out.len().saturating_add(c.len_utf8()) > MAX_HOSTNAME_BYTES {
            break;
        }
        out.push(c);
    }
    let trimmed = out.trim();
    (!trimmed.is_empty()).then(|| trimmed.into())
}

/// The host part of a name (before the first dot), cleaned.
pub fn clean_host_part(bytes: &[u8]) -> Option<Box<str>> {
    let bytes = bytes.split(|&b| b == 0).next().unwrap_or_default();
    clean_text(bytes.split(|&b| b == b'.').next().unwrap_or_default())
}

/// The host part of option 81, case kept.
fn fqdn_host(m: &DhcpMessage<'_>) -> Option<Box<str>> {
    match m.client_fqdn()?.name {
        FqdnName::Ascii(text) => clean_host_part(text),
        name @ FqdnName::Wire(_) => wire_host(name),
    }
}

/// The first label of a wire-format FQDN option name (may be partial).
fn wire_host(name: FqdnName<'_>) -> Option<Box<str>> {
    match name {
        FqdnName::Ascii(text) => clean_host_part(text),
        FqdnName::Wire(wire) => {
            let (&len, rest) = wire.split_first()?;
            clean_text(rest.get(..usize::from(len))?)
        }
    }
}

/// `host` of a two-label name `host.local`.
fn local_host(name: &Name<'_>) -> Option<Box<str>> {
    let mut labels = name.labels();
    let host = labels.next()?.ok()?;
    let domain = labels.next()?.ok()?;
    if labels.next().is_some() || !domain.eq_ignore_ascii_case(b"local") {
        return None;
    }
    clean_text(host)
}

/// Is `name` the reverse-mapping name (`in-addr.arpa` / `ip6.arpa`) of `ip`?
fn is_reverse_name_of(name: &Name<'_>, ip: IpAddr) -> bool {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    // Longest: 32 nibbles with dots, then "ip6.arpa".
    let mut buf = [0u8; 80];
    let mut len = 0usize;
    let mut push = |bytes: &[u8]| {
        for &b in bytes {
            if let Some(slot) = buf.get_mut(len) {
                *slot = b;
                len = len.saturating_add(1);
            }
        }
    };
    match ip {
        IpAddr::V4(a) => {
            for octet in a.octets().iter().rev() {
                push(octet.to_string().as_bytes());
                push(b".");
            }
            push(b"in-addr.arpa");
        }
        IpAddr::V6(a) => {
            for octet in a.octets().iter().rev() {
                let lo = HEX.get(usize::from(octet & 0x0f)).copied().unwrap_or(b'0');
                let hi = HEX.get(usize::from(octet >> 4)).copied().unwrap_or(b'0');
                push(&[lo, b'.', hi, b'.']);
            }
            push(b"ip6.arpa");
        }
    }
    let text = buf.get(..len).and_then(|b| std::str::from_utf8(b).ok());
    text.is_some_and(|t| name.eq_text(t).unwrap_or(false))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::Fragment;
    use std::net::Ipv4Addr;

    use crate::decode::fixtures::{hex, MUD_REQUEST};

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    fn link(src: &str, dst: &str) -> LinkInfo {
        LinkInfo {
            src_mac: Some(mac(src)),
            dst_mac: Some(mac(dst)),
            ..LinkInfo::default()
        }
    }

    fn udp<'a>(src: &str, dst: &str, ports: (u16, u16), payload: &'a [u8]) -> IpPacket<'a> {
        IpPacket {
            src: src.parse().unwrap(),
            dst: dst.parse().unwrap(),
            ip_len: 28 + payload.len() as u32,
            protocol: 17,
            fragment: Fragment::Whole,
            transport: Transport::Udp {
                src_port: ports.0,
                dst_port: ports.1,
            },
            payload,
            headers_cut: false,
        }
    }

    fn table() -> Identities {
        Identities::new(IdentityConfig::default())
    }

    /// A DHCPv4 message: `op`, `chaddr`, `ciaddr`, `yiaddr`, then options
    /// (message type first) and End.
    fn dhcp(op: u8, chaddr: &str, ciaddr: [u8; 4], yiaddr: [u8; 4], options: &[u8]) -> Vec<u8> {
        let mut m = vec![0u8; 236];
        m[0] = op;
        m[1] = 1;
        m[2] = 6;
        m[12..16].copy_from_slice(&ciaddr);
        m[16..20].copy_from_slice(&yiaddr);
        m[28..34].copy_from_slice(&mac(chaddr).0);
        m.extend_from_slice(&[99, 130, 83, 99]);
        m.extend_from_slice(options);
        m.push(255);
        m
    }

    fn option(code: u8, data: &[u8]) -> Vec<u8> {
        let mut o = vec![code, data.len() as u8];
        o.extend_from_slice(data);
        o
    }

    fn request(chaddr: &str, extra: &[u8]) -> Vec<u8> {
        let mut opts = option(53, &[3]);
        opts.extend_from_slice(extra);
        dhcp(1, chaddr, [0; 4], [0; 4], &opts)
    }

    fn ack(chaddr: &str, yiaddr: [u8; 4]) -> Vec<u8> {
        dhcp(2, chaddr, [0; 4], yiaddr, &option(53, &[5]))
    }

    fn feed_dhcp(
        t: &mut Identities,
        now: u64,
        frame_src: &str,
        msg: &[u8],
    ) -> Option<AddressBinding> {
        let ports = if msg[0] == 1 { (68, 67) } else { (67, 68) };
        let p = udp("0.0.0.0", "255.255.255.255", ports, msg);
        t.observe_ip(now, &link(frame_src, "ff:ff:ff:ff:ff:ff"), &p)
    }

    #[test]
    fn a_relayed_dhcp_request_names_its_chaddr_not_the_relay() {
        let mut t = table();
        let msg = hex(MUD_REQUEST);
        assert_eq!(feed_dhcp(&mut t, 5, "00:23:eb:10:2c:29", &msg), None);
        assert!(t.get(&mac("00:23:eb:10:2c:29")).is_none());
        let pi = mac("b8:27:eb:b8:53:c8");
        let d = t.get(&pi).unwrap();
        assert_eq!(d.hostname(), Some("raspberrypi"));
        assert_eq!(d.hostname_source, Some(HostnameSource::Dhcp));
        assert_eq!(
            d.dhcp_vendor_class.as_deref(),
            Some("dhcpcd-6.11.5:Linux-4.1.18-v7+:armv7l:BCM2709")
        );
        assert_eq!(
            d.dhcp_fingerprint.as_deref(),
            Some("1,121,33,3,6,12,15,28,42,51,54,58,59,100,101,119")
        );
        // A renewing REQUEST asks for its ciaddr.
        assert_eq!(d.dhcp_requested, Some(Ipv4Addr::new(62, 12, 173, 123)));
        assert_eq!(d.last_dhcp, 5);
    }

    #[test]
    fn an_ack_binds_yiaddr_to_chaddr_and_a_renewal_moves_it() {
        let mut t = table();
        let c = "02:00:00:00:00:50";
        let b = feed_dhcp(&mut t, 1, "02:00:00:00:00:01", &ack(c, [192, 168, 1, 50]));
        assert_eq!(
            b,
            Some(AddressBinding {
                mac: mac(c),
                ip: "192.168.1.50".parse().unwrap()
            })
        );
        let b = feed_dhcp(&mut t, 2, "02:00:00:00:00:01", &ack(c, [192, 168, 1, 51]));
        assert_eq!(b.unwrap().ip, "192.168.1.51".parse::<IpAddr>().unwrap());
        assert_eq!(
            t.get(&mac(c)).unwrap().dhcp_assigned,
            Some(Ipv4Addr::new(192, 168, 1, 51))
        );
        // An OFFER, a NAK and the ACK of an INFORM assign nothing.
        let offer = dhcp(2, c, [0; 4], [192, 168, 1, 52], &option(53, &[2]));
        assert_eq!(feed_dhcp(&mut t, 3, "02:00:00:00:00:01", &offer), None);
        assert_eq!(
            feed_dhcp(&mut t, 4, "02:00:00:00:00:01", &ack(c, [0; 4])),
            None
        );
        assert_eq!(
            t.get(&mac(c)).unwrap().dhcp_assigned,
            Some(Ipv4Addr::new(192, 168, 1, 51))
        );
    }

    #[test]
    fn option_81_wins_over_option_12_in_one_message_and_keeps_its_case() {
        let mut t = table();
        let c = "3c:22:fb:00:00:01";
        let mut opts = option(12, b"short");
        // FQDN, flags E (wire format), two RCODE bytes, then Lucas-MacBook.lan.
        opts.extend(option(81, b"\x05\x00\x00\x0dLucas-MacBook\x03lan\x00"));
        feed_dhcp(&mut t, 1, c, &request(c, &opts));
        let d = t.get(&mac(c)).unwrap();
        assert_eq!(d.hostname(), Some("Lucas-MacBook"));
        assert_eq!(d.hostname_source, Some(HostnameSource::DhcpFqdn));
        // The ASCII encoding (E clear) and option 12 give the host part too.
        let opts = option(81, b"\x00\x00\x00pi3.ntop.org");
        feed_dhcp(&mut t, 2, c, &request(c, &opts));
        assert_eq!(t.get(&mac(c)).unwrap().hostname(), Some("pi3"));
        feed_dhcp(&mut t, 3, c, &request(c, &option(12, b"pi4.ntop.org")));
        assert_eq!(t.get(&mac(c)).unwrap().hostname(), Some("pi4"));
    }

    #[test]
    fn host_names_are_sanitised_for_labels() {
        assert_eq!(
            clean_text(b"Lucas-iPhone\0\0").as_deref(),
            Some("Lucas-iPhone")
        );
        assert_eq!(clean_text(b" a\x01b\nc\x7f ").as_deref(), Some("abc"));
        assert_eq!(clean_text(b"caf\xc3\xa9\xff").as_deref(), Some("caf\u{e9}"));
        assert_eq!(clean_text(b"\x01\x02"), None);
        assert_eq!(clean_text(b""), None);
        let long = "x".repeat(100);
        assert_eq!(clean_text(long.as_bytes()).unwrap().len(), 63);
        // Never cut inside a character: 31 two-byte characters fit in 63.
        let wide = "\u{e9}".repeat(40);
        assert_eq!(clean_text(wide.as_bytes()).unwrap().len(), 62);
        assert_eq!(
            clean_host_part(b"host.example.org").as_deref(),
            Some("host")
        );
        assert_eq!(clean_host_part(b".lan"), None);
    }

    /// `ndpi/telegram.pcap` frame 29: Gabrieles-iPad's mDNS announcement from
    /// 192.168.1.75: AAAA fe80::4ba:91a:7817:e318 and A 192.168.1.75.
    const IPAD_ANNOUNCE: &str = "0000840000000002000000020e4761627269656c65732d69506164056c6f63616c00001c8001000000780010fe8000000000000004ba091a7817e318c00c00018001000000780004c0a8014bc00c002f8001000000780008c00c00044000000800002905a00000119400120004000e00daaefe572337e48cfe572337e4";

    /// Frame 9: the same iPad's reverse-mapping PTR records
    /// (75.1.168.192.in-addr.arpa → Gabrieles-iPad.local), no A record.
    const IPAD_PTR: &str = "000084000000000300000003095f7365727669636573075f646e732d7364045f756470056c6f63616c00000c000100001194000d055f64616370045f746370c0230138013101330145013701310138013701410131013901300141014201340130013001300130013001300130013001300130013001300130013001380145014603697036046172706100000c80010000007800110e4761627269656c65732d69506164c0230237350131033136380331393207696e2d61646472c085000c8001000000780002c095c041002f8001000000780006c04100020008c0a6002f8001000000780006c0a60002000800002905a00000119400120004000e00daaefe572337e48cfe572337e4";

    const IPAD: &str = "8c:fe:57:23:37:e4";

    fn feed_mdns(t: &mut Identities, now: u64, src_ip: &str, msg: &[u8]) {
        let dst = if src_ip.contains(':') {
            "ff02::fb"
        } else {
            "224.0.0.251"
        };
        let p = udp(src_ip, dst, (5353, 5353), msg);
        assert_eq!(
            t.observe_ip(now, &link(IPAD, "01:00:5e:00:00:fb"), &p),
            None
        );
    }

    #[test]
    fn mdns_a_record_of_the_sender_names_it_without_local() {
        let mut t = table();
        feed_mdns(&mut t, 1, "192.168.1.75", &hex(IPAD_ANNOUNCE));
        let d = t.get(&mac(IPAD)).unwrap();
        assert_eq!(d.hostname(), Some("Gabrieles-iPad"));
        assert_eq!(d.hostname_source, Some(HostnameSource::Mdns));
        // Sent from the link-local address, the AAAA record matches.
        let mut t = table();
        feed_mdns(&mut t, 1, "fe80::4ba:91a:7817:e318", &hex(IPAD_ANNOUNCE));
        assert_eq!(
            t.get(&mac(IPAD)).unwrap().hostname(),
            Some("Gabrieles-iPad")
        );
    }

    #[test]
    fn mdns_reverse_ptr_of_the_sender_names_it() {
        let mut t = table();
        feed_mdns(&mut t, 1, "192.168.1.75", &hex(IPAD_PTR));
        assert_eq!(
            t.get(&mac(IPAD)).unwrap().hostname(),
            Some("Gabrieles-iPad")
        );
    }

    #[test]
    fn mdns_records_for_other_addresses_do_not_name_the_sender() {
        // A sleep proxy answering for the iPad from another address.
        let mut t = table();
        feed_mdns(&mut t, 1, "192.168.1.2", &hex(IPAD_ANNOUNCE));
        feed_mdns(&mut t, 2, "192.168.1.2", &hex(IPAD_PTR));
        assert!(t.get(&mac(IPAD)).is_none());
        // Queries (QR clear) name nobody either.
        let mut query = hex(IPAD_ANNOUNCE);
        query[2] = 0;
        feed_mdns(&mut t, 3, "192.168.1.75", &query);
        assert!(t.is_empty());
    }

    #[test]
    fn precedence_dhcp_over_mdns_and_lease_file_over_all() {
        let mut t = Identities::new(IdentityConfig {
            leases: Some("unused".into()),
            ..IdentityConfig::default()
        });
        let ipad = IPAD;
        feed_mdns(&mut t, 1, "192.168.1.75", &hex(IPAD_ANNOUNCE));
        feed_dhcp(&mut t, 2, ipad, &request(ipad, &option(12, b"iPad")));
        let d = t.get(&mac(ipad)).unwrap();
        assert_eq!(
            (d.hostname(), d.hostname_source),
            (Some("iPad"), Some(HostnameSource::Dhcp))
        );
        // mDNS ranks lower: it does not replace the DHCP name.
        feed_mdns(&mut t, 3, "192.168.1.75", &hex(IPAD_ANNOUNCE));
        assert_eq!(t.get(&mac(ipad)).unwrap().hostname(), Some("iPad"));
        // The lease file wins ...
        let lease = LeaseRecord {
            client: leases::LeaseClient::Mac(mac(ipad)),
            ip: "192.168.1.75".parse().unwrap(),
            hostname: Some("gabriele-ipad.lan".into()),
        };
        t.set_leases(std::slice::from_ref(&lease));
        let d = t.get(&mac(ipad)).unwrap();
        assert_eq!(
            (d.hostname(), d.hostname_source),
            (Some("gabriele-ipad"), Some(HostnameSource::LeaseFile))
        );
        feed_dhcp(&mut t, 4, ipad, &request(ipad, &option(12, b"iPad-2")));
        assert_eq!(t.get(&mac(ipad)).unwrap().hostname(), Some("gabriele-ipad"));
        // ... until it stops naming the device: the best own name is back.
        t.set_leases(&[]);
        let d = t.get(&mac(ipad)).unwrap();
        assert_eq!(
            (d.hostname(), d.hostname_source),
            (Some("iPad-2"), Some(HostnameSource::Dhcp))
        );
    }

    #[test]
    fn lease_records_create_devices_and_hosts_lines_attach_by_address() {
        let mut t = Identities::new(IdentityConfig {
            leases: Some("unused".into()),
            ..IdentityConfig::default()
        });
        let records = leases::parse(
            std::path::Path::new("leases"),
            b"1 3c:22:fb:12:34:56 192.168.1.23 Lucas-iPhone *\nfd00::7\tnas\n",
        )
        .unwrap();
        t.set_leases(&records);
        assert_eq!(t.len(), 1);
        assert_eq!(
            t.get(&mac("3c:22:fb:12:34:56")).unwrap().hostname(),
            Some("Lucas-iPhone")
        );
        // The hosts-style line names whoever is seen with fd00::7.
        let nas = mac("00:11:32:00:00:07");
        t.observe_binding(9, nas, "fd00::8".parse().unwrap());
        assert!(t.get(&nas).is_none());
        t.observe_binding(10, nas, "fd00::7".parse().unwrap());
        assert_eq!(t.get(&nas).unwrap().hostname(), Some("nas"));
        // Re-applying the same file keeps it.
        t.set_leases(&records);
        assert_eq!(t.get(&nas).unwrap().hostname(), Some("nas"));
    }

    #[test]
    fn neighbour_advertisement_binds_its_target_to_its_link_layer_address() {
        // arkime/v6.pcap frame 139 (ICMPv6 body after type/code/checksum).
        let body = hex("e00000003ffe050700000001026097fffe0769ea02010060970769ea");
        let p = IpPacket {
            src: "3ffe:507:0:1:260:97ff:fe07:69ea".parse().unwrap(),
            dst: "3ffe:507:0:1:200:86ff:fe05:80da".parse().unwrap(),
            ip_len: 72,
            protocol: 58,
            fragment: Fragment::Whole,
            transport: Transport::Icmpv6 {
                icmp_type: 136,
                code: 0,
            },
            payload: &body,
            headers_cut: false,
        };
        let mut t = table();
        let b = t.observe_ip(1, &link("00:60:97:07:69:ea", "00:00:86:05:80:da"), &p);
        assert_eq!(
            b,
            Some(AddressBinding {
                mac: mac("00:60:97:07:69:ea"),
                ip: "3ffe:507:0:1:260:97ff:fe07:69ea".parse().unwrap()
            })
        );
        assert!(t.is_empty(), "an address binding names nobody");
    }

    #[test]
    fn other_packets_are_ignored() {
        let mut t = table();
        let p = udp("192.168.1.5", "198.51.100.1", (40000, 443), b"\x00\x01");
        assert_eq!(
            t.observe_ip(1, &link("02:00:00:00:00:05", "02:00:00:00:00:01"), &p),
            None
        );
        // DHCP garbage, or from a group MAC chaddr.
        let p = udp("0.0.0.0", "255.255.255.255", (68, 67), b"\x01\x01\x06");
        assert_eq!(
            t.observe_ip(2, &link("02:00:00:00:00:05", "ff:ff:ff:ff:ff:ff"), &p),
            None
        );
        let group = request("01:00:5e:00:00:01", &option(12, b"x"));
        assert_eq!(feed_dhcp(&mut t, 3, "02:00:00:00:00:05", &group), None);
        assert!(t.is_empty());
    }

    #[test]
    fn the_table_is_bounded_and_evicts_the_idlest_in_batches() {
        let mut t = Identities::new(IdentityConfig {
            max_devices: 32,
            ..IdentityConfig::default()
        });
        for n in 0..32u8 {
            let m = format!("02:00:00:00:01:{n:02x}");
            feed_dhcp(
                &mut t,
                100 + u64::from(n),
                &m,
                &request(&m, &option(12, b"h")),
            );
        }
        // Device 0 is seen again: it is now the most recent.
        feed_dhcp(
            &mut t,
            200,
            "02:00:00:00:01:00",
            &request("02:00:00:00:01:00", &[]),
        );
        assert_eq!((t.len(), t.evictions()), (32, 0));
        feed_dhcp(
            &mut t,
            201,
            "02:00:00:00:02:00",
            &request("02:00:00:00:02:00", &[]),
        );
        // One batch: 32 / 16 = 2 evicted, the idlest (devices 1 and 2).
        assert_eq!((t.len(), t.evictions()), (31, 2));
        assert!(t.get(&mac("02:00:00:00:01:00")).is_some());
        assert!(t.get(&mac("02:00:00:00:01:01")).is_none());
        assert!(t.get(&mac("02:00:00:00:01:02")).is_none());
        assert!(t.get(&mac("02:00:00:00:01:03")).is_some());
    }

    #[test]
    fn vendor_is_none_for_randomized_macs() {
        let t = table();
        assert_eq!(t.vendor(&mac("3c:22:fb:01:02:03")), Some("Apple"));
        let private = mac("3e:22:fb:01:02:03");
        assert!(Identities::is_randomized(&private));
        assert_eq!(t.vendor(&private), None);
    }

    #[test]
    fn refresh_rereads_a_changed_file_at_most_every_5_s_and_survives_bad_ones() {
        let dir = std::env::temp_dir().join(format!("lanwatch-identity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("dhcp.leases");
        let _ = std::fs::remove_file(&path);
        let mut t = Identities::new(IdentityConfig {
            leases: Some(path.clone()),
            ..IdentityConfig::default()
        });
        let phone = mac("3c:22:fb:12:34:56");
        let t0 = SystemTime::UNIX_EPOCH + Duration::from_secs(1_000_000);
        // Missing: nothing, no failure.
        t.refresh(t0);
        assert!(t.is_empty());
        std::fs::write(&path, "1 3c:22:fb:12:34:56 192.168.1.23 phone-a *\n").unwrap();
        // Within 5 s of the last check: not looked at.
        t.refresh(t0 + Duration::from_secs(4));
        assert!(t.get(&phone).is_none());
        t.refresh(t0 + Duration::from_secs(5));
        assert_eq!(t.get(&phone).unwrap().hostname(), Some("phone-a"));
        // A half-written file is skipped: the names from before stay.
        std::fs::write(&path, "1 3c:22:fb:12:34:56 192.168.1.23 phone-b *\n1 3c:22").unwrap();
        t.refresh(t0 + Duration::from_secs(10));
        assert_eq!(t.get(&phone).unwrap().hostname(), Some("phone-a"));
        // Completed (a different size): read again.
        std::fs::write(&path, "1 3c:22:fb:12:34:56 192.168.1.23 phone-b *\n").unwrap();
        t.refresh(t0 + Duration::from_secs(15));
        assert_eq!(t.get(&phone).unwrap().hostname(), Some("phone-b"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
