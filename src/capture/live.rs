//! Live capture on AF_PACKET with a TPACKET_V3 mmap ring, one per interface.
//!
//! [`LiveCapture`] owns a [`Ring`] per capture interface and hands out their
//! frames one at a time, zero-copy from the ring (a frame whose VLAN tag the
//! kernel moved into metadata is the one exception: it is rebuilt with its tag
//! in a scratch buffer that is reused for every such frame). It decides three
//! things the rest of lanwatch relies on:
//!
//! - **Each frame counts once** across several interfaces (a bridge's member
//!   ports, say): what an interface receives is delivered, and what it sends
//!   only when the source MAC is one of the router's own ([`local_macs`]);
//!   a bridged frame leaving another port still carries its sender's MAC and
//!   is skipped ([`skipped_duplicates`]). A broadcast or multicast the router
//!   itself sends leaves *every* port with the router's MAC; the copies that
//!   another interface sent within a few milliseconds with the same bytes
//!   are skipped too ([`RecentFloods`]).
//! - **Interfaces come and go.** A bridge restart deletes and recreates the
//!   device (new ifindex) or sets it down and up. The socket reports that as
//!   an error (or a periodic check notices), the interface's ring is closed,
//!   and it is reopened once the interface is back; the other interfaces keep
//!   capturing and `next_frame` never fails because of it. The lost ring's
//!   socket is kept and re-bound to the interface's new index rather than
//!   replaced: binding, filters and promiscuous membership need no
//!   capability on an open socket, so this works after the daemon dropped
//!   its privileges. Only if re-binding fails is a new socket created, which
//!   needs CAP_NET_RAW.
//! - **Kernel drops are kept.** PACKET_STATISTICS resets on every read, so the
//!   totals are accumulated here, including those of closed rings.
//!
//! [`local_macs`]: LiveCapture::local_macs
//! [`skipped_duplicates`]: LiveCapture::skipped_duplicates

use std::fmt;
use std::io;
use std::os::fd::AsRawFd;
use std::time::{Duration, Instant};

use super::iface::{self, Control};
use super::ring::{PacketMeta, Ring, RingConfig};
use super::{CaptureError, Frame, KernelStats, Next, Source};
use crate::decode::{LinkType, Mac};

/// How often interfaces are checked (gone, replaced, down) and absent ones
/// retried.
const RECHECK: Duration = Duration::from_secs(2);

/// Smallest snaplen: Ethernet + VLAN + IPv6 + TCP headers still fit.
const MIN_SNAPLEN: u32 = 96;

/// Copies of one router-sent flood leave the ports within this window.
const FLOOD_WINDOW_NANOS: u64 = 50_000_000;

/// The last few broadcast/multicast frames the router sent, to recognise
/// their copies leaving the other ports. Fixed size: nothing is allocated,
/// and on a router's LAN such frames are rare, so a handful of slots is
/// plenty.
#[derive(Default)]
struct RecentFloods {
    slots: [Flood; 16],
    next: usize,
}

#[derive(Clone, Copy, Default)]
struct Flood {
    ts_nanos: u64,
    iface: usize,
    wire_len: u32,
    digest: u64,
}

impl RecentFloods {
    /// Whether this frame is a copy, sent on another interface, of a flood
    /// already delivered; otherwise remembers it.
    fn is_copy(&mut self, iface: usize, ts_nanos: u64, wire_len: u32, data: &[u8]) -> bool {
        let digest = fnv1a(data);
        let copy = self.slots.iter().any(|f| {
            f.digest == digest
                && f.wire_len == wire_len
                && f.iface != iface
                && f.ts_nanos.abs_diff(ts_nanos) <= FLOOD_WINDOW_NANOS
        });
        if !copy {
            if let Some(slot) = self.slots.get_mut(self.next) {
                *slot = Flood {
                    ts_nanos,
                    iface,
                    wire_len,
                    digest,
                };
            }
            self.next = (self.next + 1) % self.slots.len();
        }
        copy
    }
}

/// 64-bit FNV-1a: a cheap digest to tell frames apart.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// What a live capture is opened with.
#[derive(Clone, Debug)]
pub struct LiveOptions {
    /// Bytes kept per frame (raised to at least 96). The default 1024 holds
    /// the headers, DNS, DHCP and most TLS ClientHellos.
    pub snaplen: u32,
    /// Put the interfaces into promiscuous mode while capturing.
    pub promiscuous: bool,
    /// Ring block size in bytes (rounded up to whole pages).
    pub block_size: u32,
    /// Ring blocks per interface; the ring is `block_size * block_count`.
    pub block_count: u32,
    /// The kernel hands a partly filled block over after this long.
    pub block_timeout_ms: u32,
    /// `next_frame` returns `Next::Idle` after this long without frames.
    pub poll_timeout_ms: u32,
    /// PACKET_FANOUT group (hash mode) for several workers opening the same
    /// interfaces: the k-th interface of the list joins group `fanout + k`,
    /// since a fanout group is tied to one device.
    pub fanout: Option<u16>,
    /// The router's MAC address(es) as given by the user, in addition to the
    /// capture interfaces' own and their bridge's.
    pub extra_local_macs: Vec<Mac>,
}

impl Default for LiveOptions {
    fn default() -> LiveOptions {
        LiveOptions {
            snaplen: 1024,
            promiscuous: true,
            // 32 x 64 KiB = 2 MiB per interface: a router has little RAM.
            block_size: 64 * 1024,
            block_count: 32,
            block_timeout_ms: 50,
            poll_timeout_ms: 100,
            fanout: None,
            extra_local_macs: Vec::new(),
        }
    }
}

/// A capture interface and its ring, if it is currently open.
struct Interface {
    name: String,
    /// Position in the interface list (picks the fanout group).
    position: u16,
    link: LinkType,
    /// The interface's own MAC and its bridge master's, as last seen.
    macs: Vec<Mac>,
    state: State,
}

enum State {
    Open {
        ring: Ring,
        ifindex: i32,
        opened: Instant,
    },
    /// Gone, down, or failing to open: retried every [`RECHECK`].
    Absent {
        /// An open failure other than "missing"/"down" was already logged.
        warned: bool,
        /// The lost ring, to be re-bound when the interface is back.
        kept: Option<Kept>,
    },
}

/// A ring whose interface was lost, and the index it was bound to.
struct Kept {
    ring: Ring,
    ifindex: i32,
}

/// Why an interface's ring was closed.
enum Loss {
    Socket(io::Error),
    Gone,
    Replaced { old: i32, new: i32 },
    Down,
    Query(io::Error),
}

impl fmt::Display for Loss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Loss::Socket(e) => write!(f, "socket error: {e}"),
            Loss::Gone => f.write_str("interface no longer exists"),
            Loss::Replaced { old, new } => {
                write!(f, "interface was recreated (index {old} -> {new})")
            }
            Loss::Down => f.write_str("interface is down"),
            Loss::Query(e) => write!(f, "interface query failed: {e}"),
        }
    }
}

/// What `advance` found: a frame (where its bytes are) or nothing.
enum Ready {
    Frame {
        iface: usize,
        meta: PacketMeta,
        /// The frame was rebuilt in the scratch buffer with this length.
        rebuilt: Option<usize>,
    },
    Idle,
}

/// A live capture on one or more interfaces; see the module docs.
pub struct LiveCapture {
    ring_config: RingConfig,
    fanout: Option<u16>,
    poll_timeout_ms: u32,
    extra_local_macs: Vec<Mac>,
    control: Control,
    interfaces: Vec<Interface>,
    local_macs: Vec<Mac>,
    /// Reused for frames that get their VLAN tag back (`snaplen` bytes).
    scratch: Vec<u8>,
    duplicates: u64,
    floods: RecentFloods,
    totals: KernelStats,
    /// The interface whose block is being walked.
    active: Option<usize>,
    /// Where the round-robin search for a ready block starts.
    next_start: usize,
    last_check: Instant,
    pollfds: Vec<libc::pollfd>,
    poll_owner: Vec<usize>,
}

/// An interface just opened: its ring and what was learned about it.
struct Opened {
    ring: Ring,
    ifindex: i32,
    link: LinkType,
    macs: Vec<Mac>,
}

fn interface_error(iface: &str, what: &'static str, source: io::Error) -> CaptureError {
    let what = match source.raw_os_error() {
        Some(libc::EPERM) | Some(libc::EACCES) => {
            "capturing needs CAP_NET_RAW (run as root or grant the capability)"
        }
        _ => what,
    };
    CaptureError::Interface {
        iface: iface.to_owned(),
        what,
        source,
    }
}

/// Looks the interface up and opens its ring: re-binds the `kept` one if
/// there is one (taking it), or else opens a new socket.
fn open_interface(
    control: &Control,
    name: &str,
    config: &RingConfig,
    kept: &mut Option<Kept>,
) -> Result<Opened, (&'static str, io::Error)> {
    let ifindex = control.ifindex(name).map_err(|e| {
        let what = if e.raw_os_error() == Some(libc::ENODEV) {
            "no such interface"
        } else {
            "looking up the interface"
        };
        (what, e)
    })?;
    let (arphrd, mac) = control
        .hardware(name)
        .map_err(|e| ("reading the hardware address", e))?;
    let link = iface::link_type(arphrd).ok_or_else(|| {
        (
            "unsupported hardware type (not Ethernet or raw IP)",
            io::Error::other(format!("ARPHRD {arphrd}")),
        )
    })?;
    let ring = match kept.take() {
        Some(mut old) => match old.ring.rebind(old.ifindex, ifindex, link, config) {
            Ok(()) => old.ring,
            Err((what, e)) => {
                tracing::warn!(
                    interface = %name,
                    error = %e,
                    "re-binding the capture socket failed ({what}); opening a new one"
                );
                Ring::open(ifindex, link, config)?
            }
        },
        None => Ring::open(ifindex, link, config)?,
    };
    let mut macs = Vec::new();
    if link == LinkType::Ethernet {
        // Loopback's all-zero MAC is no router address: lo's outgoing copy
        // of a frame is skipped and its incoming copy counted.
        if !mac.is_zero() {
            macs.push(mac);
        }
        if let Some(master) = iface::bridge_master_mac(name, ifindex) {
            macs.push(master);
        }
    }
    Ok(Opened {
        ring,
        ifindex,
        link,
        macs,
    })
}

fn add_stats(totals: &mut KernelStats, ring: &Ring) {
    if let Ok((packets, drops, freeze)) = ring.take_stats() {
        totals.packets = totals.packets.saturating_add(u64::from(packets));
        totals.drops = totals.drops.saturating_add(u64::from(drops));
        totals.freeze_queue_count = totals.freeze_queue_count.saturating_add(u64::from(freeze));
    }
}

/// Whether an outgoing Ethernet frame was sent by the router itself.
fn sent_by_router(frame: &[u8], local_macs: &[Mac]) -> bool {
    let Some(src) = frame.get(6..12) else {
        return false;
    };
    local_macs.iter().any(|m| m.0 == src)
}

/// Rebuilds `frame` in `scratch` with the 802.1Q/802.1ad tag after the MAC
/// addresses; returns the rebuilt length (at most `scratch.len()`, the
/// snaplen), or `None` if the frame is too short to hold the addresses.
fn reinsert_vlan_tag(frame: &[u8], tpid: u16, tci: u16, scratch: &mut [u8]) -> Option<usize> {
    let macs = frame.get(..12)?;
    let rest = frame.get(12..)?;
    let total = frame.len().saturating_add(4).min(scratch.len());
    let tail = total.checked_sub(16)?;
    let out = scratch.get_mut(..total)?;
    out.get_mut(..12)?.copy_from_slice(macs);
    out.get_mut(12..14)?.copy_from_slice(&tpid.to_be_bytes());
    out.get_mut(14..16)?.copy_from_slice(&tci.to_be_bytes());
    out.get_mut(16..)?.copy_from_slice(rest.get(..tail)?);
    Some(total)
}

impl LiveCapture {
    /// Opens a ring on each interface. Fails, naming the interface, when one
    /// does not exist or cannot be opened, or without CAP_NET_RAW. An
    /// interface that exists but is down is waited for instead.
    pub fn open(interfaces: &[String], opts: LiveOptions) -> Result<LiveCapture, CaptureError> {
        let Some(first) = interfaces.first() else {
            return Err(CaptureError::Interface {
                iface: String::new(),
                what: "no capture interface given",
                source: io::Error::from(io::ErrorKind::InvalidInput),
            });
        };
        let control =
            Control::new().map_err(|e| interface_error(first, "creating a packet socket", e))?;
        let snaplen = opts.snaplen.max(MIN_SNAPLEN);
        let ring_config = RingConfig {
            snaplen,
            promiscuous: opts.promiscuous,
            block_size: opts.block_size,
            block_count: opts.block_count,
            block_timeout_ms: opts.block_timeout_ms,
            fanout_group: None,
        };

        let mut capture = LiveCapture {
            ring_config,
            fanout: opts.fanout,
            poll_timeout_ms: opts.poll_timeout_ms,
            extra_local_macs: opts.extra_local_macs,
            control,
            interfaces: Vec::with_capacity(interfaces.len()),
            local_macs: Vec::new(),
            scratch: vec![0; snaplen as usize],
            duplicates: 0,
            floods: RecentFloods::default(),
            totals: KernelStats::default(),
            active: None,
            next_start: 0,
            last_check: Instant::now(),
            pollfds: Vec::with_capacity(interfaces.len()),
            poll_owner: Vec::with_capacity(interfaces.len()),
        };

        for name in interfaces {
            // The same interface twice would count its frames twice.
            if capture.interfaces.iter().any(|i| &i.name == name) {
                continue;
            }
            capture.add_interface(name)?;
        }
        capture.rebuild_local_macs();
        Ok(capture)
    }

    /// Adds `name` as the next capture interface: its ring when it is up,
    /// waiting for it (with a warning) when it is down. Fails, naming it,
    /// when it does not exist or its ring cannot be opened.
    fn add_interface(&mut self, name: &str) -> Result<(), CaptureError> {
        let position = u16::try_from(self.interfaces.len()).unwrap_or(u16::MAX);
        let config = self.config_for(position);
        let up = self.control.is_up(name).map_err(|e| {
            let what = if e.raw_os_error() == Some(libc::ENODEV) {
                "no such interface"
            } else {
                "looking up the interface"
            };
            interface_error(name, what, e)
        })?;
        let mut iface = Interface {
            name: name.to_string(),
            position,
            link: LinkType::Ethernet,
            macs: Vec::new(),
            state: State::Absent {
                warned: false,
                kept: None,
            },
        };
        if up {
            let opened = open_interface(&self.control, name, &config, &mut None)
                .map_err(|(what, e)| interface_error(name, what, e))?;
            iface.link = opened.link;
            iface.macs = opened.macs;
            iface.state = State::Open {
                ring: opened.ring,
                ifindex: opened.ifindex,
                opened: Instant::now(),
            };
        } else {
            tracing::warn!(interface = %name, "capture interface is down; capturing once it is up");
        }
        self.interfaces.push(iface);
        Ok(())
    }

    /// The router's MAC addresses: the capture interfaces' own, their bridge
    /// master's, and those given in the options.
    pub fn local_macs(&self) -> &[Mac] {
        &self.local_macs
    }

    /// Outgoing frames skipped because another port had already delivered
    /// them: bridged frames not sent by the router, and the extra copies of
    /// a broadcast/multicast the router sent out of several ports.
    pub fn skipped_duplicates(&self) -> u64 {
        self.duplicates
    }

    fn config_for(&self, position: u16) -> RingConfig {
        RingConfig {
            fanout_group: self.fanout.map(|g| g.wrapping_add(position)),
            ..self.ring_config
        }
    }

    fn rebuild_local_macs(&mut self) {
        self.local_macs.clear();
        let known = self
            .extra_local_macs
            .iter()
            .chain(self.interfaces.iter().flat_map(|i| i.macs.iter()));
        for mac in known {
            if !self.local_macs.contains(mac) {
                self.local_macs.push(*mac);
            }
        }
    }

    fn ring(&self, index: usize) -> Option<&Ring> {
        match &self.interfaces.get(index)?.state {
            State::Open { ring, .. } => Some(ring),
            State::Absent { .. } => None,
        }
    }

    /// Finds the next frame to deliver, waiting at most one poll timeout.
    fn advance(&mut self) -> Ready {
        loop {
            if let Some(index) = self.active {
                if let Some(ready) = self.next_from(index) {
                    return ready;
                }
                self.active = None;
            }
            self.check_interfaces_if_due();
            if let Some(index) = self.interface_with_ready_block() {
                self.active = Some(index);
                continue;
            }
            if !self.wait_for_blocks() {
                return Ready::Idle;
            }
        }
    }

    /// The next deliverable frame of interface `index`'s current block;
    /// hands the block back to the kernel once it is used up.
    fn next_from(&mut self, index: usize) -> Option<Ready> {
        let LiveCapture {
            interfaces,
            local_macs,
            scratch,
            duplicates,
            floods,
            ..
        } = self;
        let several = interfaces.len() > 1;
        let iface = interfaces.get_mut(index)?;
        let link = iface.link;
        let State::Open { ring, .. } = &mut iface.state else {
            return None;
        };
        while let Some(meta) = ring.next_packet() {
            let data = ring.bytes(meta.data.clone());
            if link != LinkType::Ethernet {
                return Some(Ready::Frame {
                    iface: index,
                    meta,
                    rebuilt: None,
                });
            }
            if meta.outgoing {
                let copy = if !sent_by_router(data, local_macs) {
                    true
                } else {
                    let group = data.first().is_some_and(|b| b & 0x01 != 0);
                    several && group && floods.is_copy(index, meta.ts_nanos, meta.wire_len, data)
                };
                if copy {
                    *duplicates = duplicates.wrapping_add(1);
                    continue;
                }
            }
            let rebuilt = meta
                .vlan
                .and_then(|(tpid, tci)| reinsert_vlan_tag(data, tpid, tci, scratch));
            return Some(Ready::Frame {
                iface: index,
                meta,
                rebuilt,
            });
        }
        ring.release();
        None
    }

    /// An interface whose ring has a block ready, round robin.
    fn interface_with_ready_block(&mut self) -> Option<usize> {
        let count = self.interfaces.len();
        for k in 0..count {
            let index = (self.next_start + k) % count;
            if let Some(Interface {
                state: State::Open { ring, .. },
                ..
            }) = self.interfaces.get_mut(index)
            {
                if ring.try_acquire() {
                    self.next_start = (index + 1) % count;
                    return Some(index);
                }
            }
        }
        None
    }

    /// Polls the open rings. Returns false on timeout (or when nothing is
    /// open); closes the rings whose sockets report an error.
    fn wait_for_blocks(&mut self) -> bool {
        let timeout = Duration::from_millis(u64::from(self.poll_timeout_ms));
        self.pollfds.clear();
        self.poll_owner.clear();
        for (index, iface) in self.interfaces.iter().enumerate() {
            if let State::Open { ring, .. } = &iface.state {
                self.pollfds.push(libc::pollfd {
                    fd: ring.fd().as_raw_fd(),
                    events: libc::POLLIN,
                    revents: 0,
                });
                self.poll_owner.push(index);
            }
        }
        if self.pollfds.is_empty() {
            std::thread::sleep(timeout);
            return false;
        }
        let timeout_ms = i32::try_from(self.poll_timeout_ms).unwrap_or(i32::MAX);
        // SAFETY: `pollfds` is a valid array of `len` pollfd entries that
        // lives across the call; the fds belong to open rings.
        let rc = unsafe {
            libc::poll(
                self.pollfds.as_mut_ptr(),
                self.pollfds.len() as libc::nfds_t,
                timeout_ms,
            )
        };
        if rc < 0 {
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                tracing::warn!(error = %err, "poll on capture sockets failed");
                std::thread::sleep(timeout);
            }
            return false;
        }
        if rc == 0 {
            return false;
        }
        for k in 0..self.pollfds.len() {
            let (Some(pfd), Some(&index)) = (self.pollfds.get(k), self.poll_owner.get(k)) else {
                break;
            };
            if pfd.revents & (libc::POLLERR | libc::POLLHUP | libc::POLLNVAL) != 0 {
                let err = self
                    .ring(index)
                    .and_then(Ring::take_error)
                    .unwrap_or_else(|| io::Error::from_raw_os_error(libc::ENETDOWN));
                self.lose(index, Loss::Socket(err));
            }
        }
        true
    }

    /// Every [`RECHECK`]: closes rings whose interface is gone, replaced or
    /// down, and retries the absent ones.
    fn check_interfaces_if_due(&mut self) {
        let now = Instant::now();
        if now.duration_since(self.last_check) < RECHECK {
            return;
        }
        self.last_check = now;
        for index in 0..self.interfaces.len() {
            let Some(iface) = self.interfaces.get(index) else {
                break;
            };
            match &iface.state {
                State::Open { ifindex, .. } => {
                    let loss = match self.control.ifindex(&iface.name) {
                        Err(e) if e.raw_os_error() == Some(libc::ENODEV) => Some(Loss::Gone),
                        Err(e) => Some(Loss::Query(e)),
                        Ok(now_index) if now_index != *ifindex => Some(Loss::Replaced {
                            old: *ifindex,
                            new: now_index,
                        }),
                        Ok(_) => match self.control.is_up(&iface.name) {
                            Ok(false) => Some(Loss::Down),
                            _ => None,
                        },
                    };
                    if let Some(loss) = loss {
                        self.lose(index, loss);
                    }
                }
                State::Absent { .. } => {
                    self.try_reopen(index);
                }
            }
        }
    }

    /// Closes interface `index`'s ring (keeping its counters) and, unless it
    /// was only just reopened, tries to reopen it straight away.
    fn lose(&mut self, index: usize, loss: Loss) {
        let Some(iface) = self.interfaces.get_mut(index) else {
            return;
        };
        let State::Open {
            ring,
            opened,
            ifindex,
        } = std::mem::replace(
            &mut iface.state,
            State::Absent {
                warned: false,
                kept: None,
            },
        )
        else {
            return;
        };
        add_stats(&mut self.totals, &ring);
        // Not polled while absent; re-bound (not recreated) when it is back.
        iface.state = State::Absent {
            warned: false,
            kept: Some(Kept { ring, ifindex }),
        };
        if self.active == Some(index) {
            self.active = None;
        }
        tracing::warn!(
            interface = %iface.name,
            reason = %loss,
            "capture interface lost; reopening it when it is back"
        );
        // A socket failing again right after reopening waits for the
        // periodic retry instead of spinning.
        if opened.elapsed() >= RECHECK {
            self.try_reopen(index);
        }
    }

    /// Reopens an absent interface if it exists and is up.
    fn try_reopen(&mut self, index: usize) -> bool {
        let Some(iface) = self.interfaces.get(index) else {
            return false;
        };
        match self.control.is_up(&iface.name) {
            Ok(true) => {}
            Ok(false) | Err(_) => return false,
        }
        let config = self.config_for(iface.position);
        let mut kept = match self.interfaces.get_mut(index).map(|i| &mut i.state) {
            Some(State::Absent { kept, .. }) => kept.take(),
            _ => None,
        };
        let Some(iface) = self.interfaces.get(index) else {
            return false;
        };
        let outcome = open_interface(&self.control, &iface.name, &config, &mut kept);
        // Not used (the lookup failed first): keep it for the next try.
        if let Some(State::Absent { kept: slot, .. }) =
            self.interfaces.get_mut(index).map(|i| &mut i.state)
        {
            *slot = kept;
        }
        match outcome {
            Ok(opened) => {
                if let Some(iface) = self.interfaces.get_mut(index) {
                    tracing::info!(
                        interface = %iface.name,
                        ifindex = opened.ifindex,
                        "capture interface is back"
                    );
                    iface.link = opened.link;
                    iface.macs = opened.macs;
                    iface.state = State::Open {
                        ring: opened.ring,
                        ifindex: opened.ifindex,
                        opened: Instant::now(),
                    };
                }
                self.rebuild_local_macs();
                true
            }
            Err((what, err)) => {
                if let Some(iface) = self.interfaces.get_mut(index) {
                    let missing = err.raw_os_error() == Some(libc::ENODEV);
                    let denied = matches!(err.raw_os_error(), Some(libc::EPERM | libc::EACCES));
                    if let State::Absent {
                        warned: warned @ false,
                        ..
                    } = &mut iface.state
                    {
                        if denied {
                            tracing::error!(
                                interface = %iface.name,
                                "capture interface cannot be reopened: a new capture socket needs \
                                 CAP_NET_RAW, which lanwatch no longer has after dropping its \
                                 privileges; restart lanwatch to capture on it again"
                            );
                            *warned = true;
                        } else if !missing {
                            tracing::warn!(
                                interface = %iface.name,
                                error = %err,
                                "reopening capture interface failed ({what}); retrying"
                            );
                            *warned = true;
                        }
                    }
                }
                false
            }
        }
    }
}

impl Source for LiveCapture {
    fn next_frame(&mut self) -> Result<Next<'_>, CaptureError> {
        let Ready::Frame {
            iface,
            meta,
            rebuilt,
        } = self.advance()
        else {
            return Ok(Next::Idle);
        };
        let link = self
            .interfaces
            .get(iface)
            .map_or(LinkType::Ethernet, |i| i.link);
        let (data, wire_len) = match rebuilt {
            Some(len) => (
                self.scratch.get(..len).unwrap_or(&[]),
                meta.wire_len.saturating_add(4),
            ),
            None => (
                self.ring(iface)
                    .map_or(&[][..], |r| r.bytes(meta.data.clone())),
                meta.wire_len,
            ),
        };
        Ok(Next::Frame(Frame {
            ts_nanos: meta.ts_nanos,
            wire_len,
            link,
            data,
            outgoing: meta.outgoing,
        }))
    }

    /// Packets the filter accepted (including dropped ones), drops and
    /// freeze-queue counts, summed over the interfaces and their lifetime.
    fn kernel_stats(&mut self) -> KernelStats {
        for iface in &self.interfaces {
            if let State::Open { ring, .. } = &iface.state {
                add_stats(&mut self.totals, ring);
            }
        }
        self.totals
    }

    fn skipped_duplicates(&self) -> u64 {
        LiveCapture::skipped_duplicates(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mac(s: &str) -> Mac {
        s.parse().unwrap()
    }

    #[test]
    fn vlan_tag_goes_back_after_the_mac_addresses() {
        // dst, src, then IPv4 EtherType and the start of a header.
        let untagged: Vec<u8> = [
            &[0xff; 6][..],
            &[0x02, 0, 0, 0, 0, 1],
            &[0x08, 0x00, 0x45, 0x00],
        ]
        .concat();
        let mut scratch = vec![0u8; 96];
        let len = reinsert_vlan_tag(&untagged, 0x8100, 0x2064, &mut scratch).unwrap();
        assert_eq!(len, untagged.len() + 4);
        assert_eq!(&scratch[..12], &untagged[..12]);
        assert_eq!(&scratch[12..16], &[0x81, 0x00, 0x20, 0x64]);
        assert_eq!(&scratch[16..len], &untagged[12..]);
    }

    #[test]
    fn rebuilt_frame_is_cut_at_the_snaplen() {
        let untagged = vec![0xabu8; 200];
        let mut scratch = vec![0u8; 100];
        assert_eq!(
            reinsert_vlan_tag(&untagged, 0x88a8, 1, &mut scratch),
            Some(100)
        );
        assert_eq!(&scratch[12..16], &[0x88, 0xa8, 0x00, 0x01]);
        assert_eq!(scratch[99], 0xab);
    }

    #[test]
    fn frame_without_room_for_mac_addresses_is_not_rebuilt() {
        let mut scratch = vec![0u8; 96];
        assert_eq!(reinsert_vlan_tag(&[0u8; 11], 0x8100, 1, &mut scratch), None);
    }

    #[test]
    fn outgoing_frame_counts_only_when_the_router_sent_it() {
        let router = [mac("02:00:00:00:00:b0")];
        let mut frame = vec![0xffu8; 6];
        frame.extend_from_slice(&router[0].0);
        frame.extend_from_slice(&[0x08, 0x00]);
        assert!(sent_by_router(&frame, &router));
        frame[6..12].copy_from_slice(&mac("02:00:00:00:00:01").0);
        assert!(!sent_by_router(&frame, &router));
        assert!(!sent_by_router(&frame[..10], &router));
    }

    #[test]
    fn router_flood_counts_once_across_interfaces() {
        let mut floods = RecentFloods::default();
        let frame = [0xffu8; 60];
        let ms = 1_000_000;
        assert!(
            !floods.is_copy(0, 100 * ms, 60, &frame),
            "first copy is delivered"
        );
        assert!(
            floods.is_copy(1, 100 * ms + 20_000, 60, &frame),
            "the copy on port 1 is not"
        );
        assert!(
            !floods.is_copy(0, 101 * ms, 60, &frame),
            "a resend on the same port counts"
        );
        assert!(
            !floods.is_copy(1, 900 * ms, 60, &frame),
            "a resend a while later counts"
        );
        let mut other = frame;
        other[59] = 0;
        assert!(
            !floods.is_copy(2, 900 * ms, 60, &other),
            "different bytes are another frame"
        );
    }

    #[test]
    fn default_ring_is_about_two_mebibytes() {
        let o = LiveOptions::default();
        assert_eq!(o.block_size as u64 * o.block_count as u64, 2 << 20);
        assert_eq!(o.snaplen, 1024);
        assert!(o.promiscuous);
    }
}
