//! Flow offloading: is the router forwarding traffic past the capture?
//!
//! OpenWrt can offload established forwarded flows. With *software* offload
//! (a netfilter flowtable; firewall option `flow_offloading`) their packets
//! skip the bridge device and the rest of the stack but still pass the
//! physical ports; with *hardware* offload (`flow_offloading_hw`) they never
//! reach the CPU at all. Either way lanwatch's counts can be incomplete
//! without any error showing — so this module finds out, warns, and the
//! answer is exported (`lanwatch_flow_offload{kind}`,
//! `lanwatch_capture_incomplete`).
//!
//! [`assess`] is a pure function over what the system shows — the firewall's
//! UCI file, `nft list flowtables`, `/proc/net/nf_conntrack` — and the
//! capture interfaces, so it is tested with sample texts. [`gather`] reads
//! those sources; [`Monitor`] re-checks every minute on a thread of its own
//! and hands the result to the capture worker through one atomic byte, so
//! the packet path is not touched. After the daemon dropped its privileges
//! `nft` may no longer answer; the firewall file still does.

use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::config::uci;
use crate::shutdown::Shutdown;

/// How often the monitor looks again.
pub const RECHECK: Duration = Duration::from_secs(60);

/// Most of `/proc/net/nf_conntrack` read for hints (a busy router has
/// thousands of entries; a sample is enough to see offloaded ones).
const CONNTRACK_SAMPLE_BYTES: u64 = 256 * 1024;

/// A capture interface as offloading sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureInterface {
    pub name: String,
    /// It is a bridge device (`br-lan`), not one of its ports.
    pub is_bridge: bool,
}

/// Whether the router offloads forwarded flows past the capture, and what
/// that means for the counts.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct OffloadState {
    /// Software flow offloading (a netfilter flowtable) is on.
    pub software: bool,
    /// Hardware flow offloading is on: offloaded flows never reach the CPU.
    pub hardware: bool,
    /// Forwarded traffic bypasses the capture interfaces, so the counts are
    /// incomplete (hardware offload, or software offload with a capture on
    /// the bridge device rather than its member ports).
    pub incomplete: bool,
}

/// What the system shows; `None` where a source is unavailable.
#[derive(Clone, Debug, Default)]
pub struct Inputs {
    /// Text of `/etc/config/firewall`.
    pub firewall: Option<String>,
    /// Output of `nft list flowtables`.
    pub nft_flowtables: Option<String>,
    /// (The start of) `/proc/net/nf_conntrack`.
    pub conntrack: Option<String>,
}

/// The verdict: the state to export and what to tell the user.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Assessment {
    pub state: OffloadState,
    /// One line each, for the log.
    pub warnings: Vec<String>,
}

/// A flowtable from `nft list flowtables`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Flowtable {
    pub name: String,
    pub devices: Vec<String>,
    /// `flags offload`: the flowtable is offloaded to hardware.
    pub hardware: bool,
}

/// The flowtables in `nft list flowtables` output.
pub fn parse_flowtables(text: &str) -> Vec<Flowtable> {
    let mut tables = Vec::new();
    let mut current: Option<Flowtable> = None;
    for line in text.lines().map(str::trim) {
        if let Some(rest) = line.strip_prefix("flowtable ") {
            if let Some(done) = current.take() {
                tables.push(done);
            }
            let name = rest.trim_end_matches('{').trim().to_string();
            current = Some(Flowtable {
                name,
                ..Flowtable::default()
            });
        } else if let Some(table) = current.as_mut() {
            if let Some(rest) = line.strip_prefix("devices") {
                let list = rest.trim_start_matches([' ', '=']).trim();
                let list = list.trim_start_matches('{').trim_end_matches('}');
                table.devices = list
                    .split(',')
                    .map(|d| d.trim().trim_matches('"').to_string())
                    .filter(|d| !d.is_empty())
                    .collect();
            } else if let Some(rest) = line.strip_prefix("flags ") {
                if rest.split([',', ' ']).any(|f| f.trim() == "offload") {
                    table.hardware = true;
                }
            } else if line == "}" {
                if let Some(done) = current.take() {
                    tables.push(done);
                }
            }
        }
    }
    if let Some(done) = current {
        tables.push(done);
    }
    tables
}

/// UCI booleans as OpenWrt reads them.
fn uci_bool(value: &str) -> Option<bool> {
    match value {
        "1" | "yes" | "on" | "true" | "enabled" => Some(true),
        "0" | "no" | "off" | "false" | "disabled" => Some(false),
        _ => None,
    }
}

/// (`flow_offloading`, `flow_offloading_hw`) of the firewall's `defaults`.
fn firewall_options(text: &str) -> Option<(bool, bool)> {
    let package = uci::parse(text).ok()?;
    let defaults = package.sections_of("defaults").next()?;
    let flag = |name| defaults.value(name).and_then(uci_bool).unwrap_or(false);
    let software = flag("flow_offloading");
    // fw4 only sets up hardware offload on top of software offload.
    Some((software, software && flag("flow_offloading_hw")))
}

/// Decides what offloading is on and what it means for `capture`.
///
/// The kernel's own view (`nft`) wins over the firewall file, which may
/// hold changes not applied yet; offloaded conntrack entries are proof
/// either way.
pub fn assess(inputs: &Inputs, capture: &[CaptureInterface]) -> Assessment {
    let from_nft = inputs.nft_flowtables.as_deref().map(parse_flowtables);
    let (mut software, mut hardware) = match (&from_nft, inputs.firewall.as_deref()) {
        (Some(tables), _) => (!tables.is_empty(), tables.iter().any(|t| t.hardware)),
        (None, Some(text)) => firewall_options(text).unwrap_or((false, false)),
        (None, None) => (false, false),
    };
    if let Some(conntrack) = inputs.conntrack.as_deref() {
        if conntrack.contains("[HW_OFFLOAD]") {
            hardware = true;
            software = true;
        } else if conntrack.contains("[OFFLOAD]") {
            software = true;
        }
    }

    let mut warnings = Vec::new();
    let bridges: Vec<&str> = capture
        .iter()
        .filter(|c| c.is_bridge)
        .map(|c| c.name.as_str())
        .collect();
    if hardware {
        warnings.push(
            "hardware flow offloading is on: offloaded forwarded flows never reach the CPU, \
             so their traffic is missing from the counts (turn off flow_offloading_hw in \
             /etc/config/firewall for complete figures)"
                .to_string(),
        );
    }
    let bridge_misses = software && !hardware && !bridges.is_empty();
    if bridge_misses {
        warnings.push(format!(
            "software flow offloading is on and lanwatch captures on the bridge {}: offloaded \
             forwarded flows skip the bridge device, so their traffic is missing from the \
             counts; capture on the bridge's member ports instead",
            bridges.join(", ")
        ));
    }
    Assessment {
        state: OffloadState {
            software,
            hardware,
            incomplete: hardware || bridge_misses,
        },
        warnings,
    }
}

/// Reads the sources [`assess`] looks at, skipping those that are missing
/// (not OpenWrt, no nft, no conntrack procfs, no permission). Under the
/// seccomp allow-list (after `--user`) `nft` is not run: starting programs
/// is forbidden there, and without CAP_NET_ADMIN it could not answer anyway.
pub fn gather() -> Inputs {
    let firewall = std::fs::read_to_string("/etc/config/firewall").ok();
    let nft_flowtables = (!crate::seccomp::is_active())
        .then(|| {
            Command::new("nft")
                .args(["list", "flowtables"])
                .stdin(Stdio::null())
                .stderr(Stdio::null())
                .output()
                .ok()
                .filter(|o| o.status.success())
                .and_then(|o| String::from_utf8(o.stdout).ok())
        })
        .flatten();
    let conntrack = read_start("/proc/net/nf_conntrack", CONNTRACK_SAMPLE_BYTES);
    Inputs {
        firewall,
        nft_flowtables,
        conntrack,
    }
}

fn read_start(path: &str, limit: u64) -> Option<String> {
    use std::io::Read;
    let file = std::fs::File::open(path).ok()?;
    let mut bytes = Vec::new();
    file.take(limit).read_to_end(&mut bytes).ok()?;
    Some(String::from_utf8_lossy(&bytes).into_owned())
}

/// The capture interfaces with whether each is a bridge (sysfs).
pub fn describe_interfaces(names: &[String]) -> Vec<CaptureInterface> {
    names
        .iter()
        .map(|name| CaptureInterface {
            name: name.clone(),
            is_bridge: Path::new("/sys/class/net")
                .join(name)
                .join("bridge")
                .is_dir(),
        })
        .collect()
}

/// The latest state, shared between the monitor and the capture worker.
#[derive(Clone, Debug, Default)]
pub struct OffloadCell(Arc<AtomicU8>);

const KNOWN: u8 = 1;
const SOFTWARE: u8 = 2;
const HARDWARE: u8 = 4;
const INCOMPLETE: u8 = 8;

impl OffloadCell {
    pub fn store(&self, state: OffloadState) {
        let mut bits = KNOWN;
        for (on, bit) in [
            (state.software, SOFTWARE),
            (state.hardware, HARDWARE),
            (state.incomplete, INCOMPLETE),
        ] {
            if on {
                bits |= bit;
            }
        }
        self.0.store(bits, Ordering::Relaxed);
    }

    /// The last stored state; None before the first check.
    pub fn load(&self) -> Option<OffloadState> {
        let bits = self.0.load(Ordering::Relaxed);
        (bits & KNOWN != 0).then_some(OffloadState {
            software: bits & SOFTWARE != 0,
            hardware: bits & HARDWARE != 0,
            incomplete: bits & INCOMPLETE != 0,
        })
    }
}

/// Checks offloading now and then every [`RECHECK`] until shutdown, on a
/// thread of its own; [`Monitor::join`] waits for it to end.
pub struct Monitor {
    cell: OffloadCell,
    thread: std::thread::JoinHandle<()>,
}

impl Monitor {
    /// Logs the `first` assessment (made by the caller, maybe while it still
    /// had privileges), stores it in the monitor's cell, and starts the
    /// thread that re-checks and warns on changes.
    pub fn start(
        first: Assessment,
        interfaces: &[String],
        shutdown: &Shutdown,
    ) -> std::io::Result<Monitor> {
        let cell = OffloadCell::default();
        let capture = describe_interfaces(interfaces);
        log(&first, None);
        cell.store(first.state);
        let shared = cell.clone();
        let shutdown = shutdown.clone();
        let thread = std::thread::Builder::new()
            .name("offload".into())
            .spawn(move || {
                let mut last = first;
                let tick = Duration::from_secs(1);
                let mut waited = Duration::ZERO;
                while !shutdown.is_triggered() {
                    std::thread::sleep(tick);
                    waited = waited.saturating_add(tick);
                    if waited < RECHECK {
                        continue;
                    }
                    waited = Duration::ZERO;
                    let now = assess(&gather(), &describe_interfaces(&capture_names(&capture)));
                    if now.state != last.state {
                        log(&now, Some(&last));
                        shared.store(now.state);
                        last = now;
                    }
                }
            })?;
        Ok(Monitor { cell, thread })
    }

    /// Where the latest state is (for the capture worker).
    pub fn cell(&self) -> OffloadCell {
        self.cell.clone()
    }

    /// Waits for the thread to end: it looks at the shutdown handle every
    /// second, so this returns within about a second of shutdown.
    pub fn join(self) {
        if self.thread.join().is_err() {
            tracing::warn!("the flow offload monitor thread panicked");
        }
    }
}

fn capture_names(capture: &[CaptureInterface]) -> Vec<String> {
    capture.iter().map(|c| c.name.clone()).collect()
}

fn log(now: &Assessment, before: Option<&Assessment>) {
    for warning in &now.warnings {
        tracing::warn!("{warning}");
    }
    let s = now.state;
    if before.is_some() || s.software || s.hardware {
        tracing::info!(
            software = s.software,
            hardware = s.hardware,
            counts_incomplete = s.incomplete,
            "flow offloading {}",
            if before.is_some() {
                "changed"
            } else {
                "detected"
            }
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// fw4's ruleset with `flow_offloading '1'` (OpenWrt 23.05, DSA router).
    const NFT_SOFTWARE: &str = "\
table inet fw4 {
\tflowtable ft {
\t\thook ingress priority filter
\t\tdevices = { lan1, lan2, lan3, wan }
\t\tcounter
\t}
}
";

    /// The same with `flow_offloading_hw '1'`.
    const NFT_HARDWARE: &str = "\
table inet fw4 {
\tflowtable ft {
\t\thook ingress priority filter
\t\tdevices = { lan1, lan2, lan3, wan }
\t\tflags offload
\t\tcounter
\t}
}
";

    const FIREWALL_SOFTWARE: &str = "\
config defaults
\toption syn_flood '1'
\toption flow_offloading '1'

config zone
\toption name 'lan'
";

    const FIREWALL_HARDWARE: &str = "\
config defaults
\toption flow_offloading '1'
\toption flow_offloading_hw '1'
";

    /// Two nf_conntrack lines, the second offloaded in software.
    const CONNTRACK_OFFLOADED: &str = "\
ipv4     2 udp      17 58 src=192.168.1.101 dst=1.1.1.1 sport=51413 dport=53 packets=1 bytes=61 src=1.1.1.1 dst=192.0.2.7 sport=53 dport=51413 packets=1 bytes=93 mark=0 zone=0 use=2
ipv4     2 tcp      6 src=192.168.1.102 dst=198.51.100.9 sport=50322 dport=443 packets=20 bytes=3011 src=198.51.100.9 dst=192.0.2.7 sport=443 dport=50322 packets=31 bytes=40112 [OFFLOAD] mark=0 zone=0 use=3
";

    fn ports() -> Vec<CaptureInterface> {
        ["lan1", "lan2", "lan3"]
            .iter()
            .map(|n| CaptureInterface {
                name: n.to_string(),
                is_bridge: false,
            })
            .collect()
    }

    fn bridge() -> Vec<CaptureInterface> {
        vec![CaptureInterface {
            name: "br-lan".into(),
            is_bridge: true,
        }]
    }

    fn inputs(firewall: Option<&str>, nft: Option<&str>, conntrack: Option<&str>) -> Inputs {
        Inputs {
            firewall: firewall.map(str::to_string),
            nft_flowtables: nft.map(str::to_string),
            conntrack: conntrack.map(str::to_string),
        }
    }

    #[test]
    fn flowtables_are_read_with_their_devices_and_offload_flag() {
        let tables = parse_flowtables(NFT_HARDWARE);
        assert_eq!(
            tables,
            vec![Flowtable {
                name: "ft".into(),
                devices: vec!["lan1".into(), "lan2".into(), "lan3".into(), "wan".into()],
                hardware: true,
            }]
        );
        assert!(!parse_flowtables(NFT_SOFTWARE)[0].hardware);
        assert!(parse_flowtables("table inet fw4 {\n}\n").is_empty());
    }

    #[test]
    fn no_offload_anywhere_is_complete_and_silent() {
        let a = assess(
            &inputs(Some("config defaults\n"), Some(""), Some("")),
            &bridge(),
        );
        assert_eq!(a.state, OffloadState::default());
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn software_offload_on_member_ports_is_still_complete() {
        let a = assess(&inputs(Some(FIREWALL_SOFTWARE), None, None), &ports());
        assert!(a.state.software && !a.state.hardware);
        assert!(!a.state.incomplete);
        assert!(a.warnings.is_empty());
    }

    #[test]
    fn software_offload_with_capture_on_the_bridge_is_incomplete() {
        let a = assess(&inputs(None, Some(NFT_SOFTWARE), None), &bridge());
        assert!(a.state.software && a.state.incomplete);
        assert_eq!(a.warnings.len(), 1);
        assert!(a.warnings[0].contains("br-lan"), "{:?}", a.warnings);
        assert!(a.warnings[0].contains("member ports"));
    }

    #[test]
    fn hardware_offload_is_incomplete_whatever_the_interfaces() {
        for capture in [ports(), bridge()] {
            let a = assess(&inputs(Some(FIREWALL_HARDWARE), None, None), &capture);
            assert_eq!(
                a.state,
                OffloadState {
                    software: true,
                    hardware: true,
                    incomplete: true
                }
            );
            assert!(a.warnings[0].contains("hardware flow offloading"));
        }
    }

    #[test]
    fn hardware_option_without_software_offload_does_nothing() {
        let text = "config defaults\n option flow_offloading_hw '1'\n";
        let a = assess(&inputs(Some(text), None, None), &ports());
        assert_eq!(a.state, OffloadState::default());
    }

    #[test]
    fn the_kernel_ruleset_wins_over_an_unapplied_firewall_file() {
        let a = assess(&inputs(Some(FIREWALL_HARDWARE), Some(""), None), &ports());
        assert_eq!(a.state, OffloadState::default());
        let a = assess(
            &inputs(Some("config defaults\n"), Some(NFT_HARDWARE), None),
            &ports(),
        );
        assert!(a.state.hardware);
    }

    #[test]
    fn offloaded_conntrack_entries_prove_offloading() {
        let a = assess(&inputs(None, None, Some(CONNTRACK_OFFLOADED)), &bridge());
        assert!(a.state.software && !a.state.hardware && a.state.incomplete);
        let hw = CONNTRACK_OFFLOADED.replace("[OFFLOAD]", "[HW_OFFLOAD]");
        let a = assess(&inputs(None, None, Some(&hw)), &ports());
        assert!(a.state.hardware && a.state.incomplete);
    }

    #[test]
    fn disabled_spellings_are_off() {
        for off in ["0", "no", "off", "false", "disabled"] {
            let text = format!("config defaults\n option flow_offloading '{off}'\n");
            let a = assess(&inputs(Some(&text), None, None), &bridge());
            assert!(!a.state.software, "{off}");
        }
    }

    #[test]
    fn cell_starts_unknown_and_keeps_each_flag() {
        let cell = OffloadCell::default();
        assert_eq!(cell.load(), None);
        let state = OffloadState {
            software: true,
            hardware: false,
            incomplete: true,
        };
        cell.store(state);
        assert_eq!(cell.load(), Some(state));
        cell.store(OffloadState::default());
        assert_eq!(cell.load(), Some(OffloadState::default()));
    }
}
