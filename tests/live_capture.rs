//! Live capture against real kernel interfaces, inside network namespaces
//! this test creates (and always deletes).
//!
//! Frames are built with etherparse, written to a pcap file and sent with
//! tcpreplay into one end of a veth pair; `LiveCapture` runs on the other end
//! from a thread that has entered the namespace. What must come out is known
//! from the frames sent, not from lanwatch's own code.
//!
//! Needs root (network namespaces, raw sockets) and tcpreplay.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{mpsc, Arc};
use std::thread::JoinHandle;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use etherparse::{ArpHardwareId, ArpOperation, ArpPacket, EtherType, PacketBuilder};
use lanwatch::capture::live::{LiveCapture, LiveOptions};
use lanwatch::capture::{KernelStats, Next, Source};
use lanwatch::decode::{LinkType, Mac};

// ---------------------------------------------------------------------------
// Environment: root, tools, namespaces
// ---------------------------------------------------------------------------

fn require_root_and_tools() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(
        euid, 0,
        "live capture tests need root (network namespaces and raw sockets): run them as root"
    );
    let found = Command::new("tcpreplay").arg("--version").output();
    assert!(
        found.is_ok(),
        "live capture tests need tcpreplay: apt-get install -y tcpreplay"
    );
}

fn run(program: &str, args: &[&str]) {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program} {args:?}: {e}"));
    assert!(
        out.status.success(),
        "{program} {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

static NEXT_NS: AtomicUsize = AtomicUsize::new(0);

/// A network namespace, deleted on drop (also when the test fails).
struct Netns {
    name: String,
}

impl Netns {
    fn new() -> Netns {
        let n = NEXT_NS.fetch_add(1, Ordering::Relaxed);
        let name = format!("lw-live-{}-{n}", std::process::id());
        run("ip", &["netns", "add", &name]);
        let ns = Netns { name };
        // A fresh interface would otherwise send IPv6 router solicitations.
        ns.exec(&[
            "sysctl",
            "-qw",
            "net.ipv6.conf.all.disable_ipv6=1",
            "net.ipv6.conf.default.disable_ipv6=1",
        ]);
        ns.ip(&["link", "set", "lo", "up"]);
        ns
    }

    fn ip(&self, args: &[&str]) {
        let mut all = vec!["-n", &self.name];
        all.extend_from_slice(args);
        run("ip", &all);
    }

    fn exec(&self, args: &[&str]) {
        let mut all = vec!["netns", "exec", &self.name];
        all.extend_from_slice(args);
        run("ip", &all);
    }

    /// A veth pair `a`–`b`, both up.
    fn veth(&self, a: &str, b: &str) {
        self.ip(&["link", "add", "name", a, "type", "veth", "peer", "name", b]);
        self.ip(&["link", "set", a, "up"]);
        self.ip(&["link", "set", b, "up"]);
    }

    /// The interface's MAC address as `ip` reports it.
    fn mac(&self, iface: &str) -> Mac {
        let out = Command::new("ip")
            .args(["-n", &self.name, "-o", "link", "show", iface])
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let mut words = text.split_whitespace();
        words.find(|w| *w == "link/ether").unwrap();
        words.next().unwrap().parse().unwrap()
    }

    /// Sends the frames of `pcap` out of `iface` with tcpreplay.
    fn replay(&self, iface: &str, pcap: &Path) {
        self.exec(&[
            "tcpreplay",
            "-q",
            "--pps=2000",
            &format!("--intf1={iface}"),
            pcap.to_str().unwrap(),
        ]);
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip")
            .args(["netns", "del", &self.name])
            .status();
    }
}

/// Moves the calling thread into the namespace, with a sysfs of its own that
/// shows the namespace's interfaces (as `ip netns exec` does for a process).
fn enter(ns: &str) {
    let path = std::ffi::CString::new(format!("/var/run/netns/{ns}")).unwrap();
    // SAFETY: plain syscalls on a path we own; they change only this thread
    // (network namespace, and a mount namespace unshared from the process).
    unsafe {
        let fd = libc::open(path.as_ptr(), libc::O_RDONLY | libc::O_CLOEXEC);
        assert!(fd >= 0, "open {ns}: {}", std::io::Error::last_os_error());
        assert_eq!(libc::setns(fd, libc::CLONE_NEWNET), 0, "setns");
        libc::close(fd);
        assert_eq!(libc::unshare(libc::CLONE_NEWNS), 0, "unshare(CLONE_NEWNS)");
        let root = c"/";
        let sys = c"/sys";
        assert_eq!(
            libc::mount(
                std::ptr::null(),
                root.as_ptr(),
                std::ptr::null(),
                libc::MS_REC | libc::MS_SLAVE,
                std::ptr::null()
            ),
            0,
            "make / a slave mount"
        );
        libc::umount2(sys.as_ptr(), libc::MNT_DETACH);
        assert_eq!(
            libc::mount(
                c"sysfs".as_ptr(),
                sys.as_ptr(),
                c"sysfs".as_ptr(),
                0,
                std::ptr::null()
            ),
            0,
            "mount sysfs: {}",
            std::io::Error::last_os_error()
        );
    }
}

// ---------------------------------------------------------------------------
// Frames and pcap files
// ---------------------------------------------------------------------------

const BROADCAST: [u8; 6] = [0xff; 6];

/// Test frames carry source MAC 02:00:00:00:01:NN, NN unique per frame, so a
/// captured frame names the frame it came from.
fn sender(n: u8) -> [u8; 6] {
    [0x02, 0, 0, 0, 0x01, n]
}

fn frame_id(data: &[u8]) -> Option<u8> {
    match data.get(6..12)? {
        [0x02, 0, 0, 0, 0x01, n] => Some(*n),
        _ => None,
    }
}

/// An IPv4/UDP frame of exactly `len` bytes.
fn udp4(n: u8, dst: [u8; 6], len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(sender(n), dst)
        .ipv4([10, 77, 1, n], [10, 77, 0, 255], 64)
        .udp(40000 + u16::from(n), 9);
    let payload = vec![n; len - b.size(0)];
    let mut out = Vec::new();
    b.write(&mut out, &payload).unwrap();
    assert_eq!(out.len(), len);
    out
}

fn udp6(n: u8, len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(sender(n), [0x33, 0x33, 0, 0, 0, 1])
        .ipv6(
            [0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, n],
            [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
            64,
        )
        .udp(40000, 9);
    let payload = vec![n; len - b.size(0)];
    let mut out = Vec::new();
    b.write(&mut out, &payload).unwrap();
    out
}

fn udp4_vlan(n: u8, vid: u16, len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(sender(n), BROADCAST)
        .single_vlan(vid.try_into().unwrap())
        .ipv4([10, 77, 1, n], [10, 77, 0, 255], 64)
        .udp(40000, 9);
    let payload = vec![n; len - b.size(0)];
    let mut out = Vec::new();
    b.write(&mut out, &payload).unwrap();
    assert_eq!(&out[12..14], &[0x81, 0x00]);
    out
}

fn udp4_qinq(n: u8, len: usize) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(sender(n), BROADCAST)
        .double_vlan(300.try_into().unwrap(), 20.try_into().unwrap())
        .ipv4([10, 77, 1, n], [10, 77, 0, 255], 64)
        .udp(40000, 9);
    let payload = vec![n; len - b.size(0)];
    let mut out = Vec::new();
    b.write(&mut out, &payload).unwrap();
    assert_eq!(&out[12..14], &[0x88, 0xa8]);
    out
}

fn arp_request(n: u8, sender_ip: [u8; 4], target_ip: [u8; 4]) -> Vec<u8> {
    let b = PacketBuilder::ethernet2(sender(n), BROADCAST).arp(
        ArpPacket::new(
            ArpHardwareId::ETHERNET,
            EtherType::IPV4,
            ArpOperation::REQUEST,
            &sender(n),
            &sender_ip,
            &[0; 6],
            &target_ip,
        )
        .unwrap(),
    );
    let mut out = Vec::new();
    b.write(&mut out).unwrap();
    out.resize(60, 0); // Ethernet minimum, as a NIC would pad it
    out
}

/// PPPoE session frame (RFC 2516) carrying PPP/IPv4/UDP.
fn pppoe_session(n: u8) -> Vec<u8> {
    let ip = {
        let b = PacketBuilder::ipv4([100, 64, 0, 2], [9, 9, 9, 9], 64).udp(40000, 53);
        let mut out = Vec::new();
        b.write(&mut out, &[n; 40]).unwrap();
        out
    };
    let mut f = Vec::new();
    f.extend_from_slice(&[0x02, 0, 0, 0, 0, 0xfe]);
    f.extend_from_slice(&sender(n));
    f.extend_from_slice(&[0x88, 0x64, 0x11, 0x00, 0x12, 0x34]);
    f.extend_from_slice(&((ip.len() + 2) as u16).to_be_bytes());
    f.extend_from_slice(&[0x00, 0x21]);
    f.extend_from_slice(&ip);
    f
}

/// A frame of an EtherType lanwatch does not account (dropped by the filter).
fn other_ethertype(n: u8, ethertype: u16) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend_from_slice(&[0x01, 0x80, 0xc2, 0, 0, 0x0e]);
    f.extend_from_slice(&sender(n));
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.resize(64, n);
    f
}

/// Writes a classic pcap (microsecond, Ethernet) file.
fn write_pcap(path: &Path, frames: &[Vec<u8>]) {
    let mut out = Vec::new();
    out.extend_from_slice(&0xa1b2_c3d4u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&4u16.to_le_bytes());
    out.extend_from_slice(&0i32.to_le_bytes());
    out.extend_from_slice(&0u32.to_le_bytes());
    out.extend_from_slice(&65535u32.to_le_bytes());
    out.extend_from_slice(&1u32.to_le_bytes()); // LINKTYPE_ETHERNET
    for (i, f) in frames.iter().enumerate() {
        out.extend_from_slice(&1_700_000_000u32.to_le_bytes());
        out.extend_from_slice(&(i as u32 * 1000).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(&(f.len() as u32).to_le_bytes());
        out.extend_from_slice(f);
    }
    fs::write(path, out).unwrap();
}

struct TempPcap(PathBuf);

impl TempPcap {
    fn new(tag: &str, frames: &[Vec<u8>]) -> TempPcap {
        let n = NEXT_NS.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!(
            "lanwatch-live-{}-{tag}-{n}.pcap",
            std::process::id()
        ));
        write_pcap(&path, frames);
        TempPcap(path)
    }
}

impl Drop for TempPcap {
    fn drop(&mut self) {
        let _ = fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------
// A capture running in a namespace
// ---------------------------------------------------------------------------

#[derive(Clone)]
struct Captured {
    data: Vec<u8>,
    wire_len: u32,
    ts_nanos: u64,
    outgoing: bool,
    link: LinkType,
}

impl std::fmt::Debug for Captured {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head = &self.data[..self.data.len().min(16)];
        write!(
            f,
            "{} bytes of {} ({}): {head:02x?}",
            self.data.len(),
            self.wire_len,
            if self.outgoing { "sent" } else { "received" }
        )
    }
}

struct Summary {
    stats: KernelStats,
    duplicates: u64,
    local_macs: Vec<Mac>,
}

struct Running {
    stop: Arc<AtomicBool>,
    frames: mpsc::Receiver<Captured>,
    thread: Option<JoinHandle<Summary>>,
}

impl Running {
    /// Starts `LiveCapture` on `interfaces` inside `ns`; returns once it is open.
    fn start(ns: &Netns, interfaces: &[&str], opts: LiveOptions) -> Running {
        let stop = Arc::new(AtomicBool::new(false));
        let (tx, frames) = mpsc::channel();
        let (ready_tx, ready) = mpsc::channel();
        let name = ns.name.clone();
        let interfaces: Vec<String> = interfaces.iter().map(|s| s.to_string()).collect();
        let stop_flag = Arc::clone(&stop);
        let thread = std::thread::spawn(move || {
            enter(&name);
            let mut capture = match LiveCapture::open(&interfaces, opts) {
                Ok(c) => c,
                Err(e) => {
                    ready_tx.send(Err(e.to_string())).unwrap();
                    panic!("open failed");
                }
            };
            ready_tx.send(Ok(())).unwrap();
            while !stop_flag.load(Ordering::Relaxed) {
                match capture.next_frame().unwrap() {
                    Next::Frame(f) => {
                        let _ = tx.send(Captured {
                            data: f.data.to_vec(),
                            wire_len: f.wire_len,
                            ts_nanos: f.ts_nanos,
                            outgoing: f.outgoing,
                            link: f.link,
                        });
                    }
                    Next::Idle => {}
                    Next::End => panic!("a live capture never ends"),
                }
            }
            Summary {
                stats: capture.kernel_stats(),
                duplicates: capture.skipped_duplicates(),
                local_macs: capture.local_macs().to_vec(),
            }
        });
        match ready.recv_timeout(Duration::from_secs(10)) {
            Ok(Ok(())) => {}
            Ok(Err(e)) => panic!("LiveCapture::open: {e}"),
            Err(e) => panic!("capture thread did not start: {e}"),
        }
        Running {
            stop,
            frames,
            thread: Some(thread),
        }
    }

    /// Collects frames until `done` says so (or 10 s pass), then 300 ms more
    /// to catch anything that would arrive twice.
    fn collect_until(&self, mut done: impl FnMut(&[Captured]) -> bool) -> Vec<Captured> {
        let mut got = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(10);
        while !done(&got) && Instant::now() < deadline {
            if let Ok(f) = self.frames.recv_timeout(Duration::from_millis(50)) {
                got.push(f);
            }
        }
        let settle = Instant::now() + Duration::from_millis(300);
        while let Some(left) = settle.checked_duration_since(Instant::now()) {
            if let Ok(f) = self.frames.recv_timeout(left) {
                got.push(f);
            }
        }
        got
    }

    /// Replays `probe` every 400 ms until the capture delivers it: the capture
    /// is up again after an interface change.
    fn wait_until_capturing(&self, ns: &Netns, iface: &str, probe: &TempPcap, id: u8) {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            ns.replay(iface, &probe.0);
            let wait = Instant::now() + Duration::from_millis(400);
            while let Some(left) = wait.checked_duration_since(Instant::now()) {
                if let Ok(f) = self.frames.recv_timeout(left) {
                    if frame_id(&f.data) == Some(id) {
                        // Drain what else the probe round brought.
                        while self.frames.try_recv().is_ok() {}
                        return;
                    }
                }
            }
            assert!(
                Instant::now() < deadline,
                "capture did not recover within 15 s"
            );
        }
    }

    fn stop(mut self) -> Summary {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .unwrap()
            .join()
            .expect("capture thread panicked")
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn now_nanos() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
}

/// Asserts that each frame of `sent` was delivered exactly once, as the
/// kernel would capture it with `snaplen`, and that nothing else came.
fn assert_each_delivered_once(sent: &[Vec<u8>], got: &[Captured], snaplen: usize) {
    for frame in sent {
        let id = frame_id(frame).unwrap();
        let copies: Vec<&Captured> = got
            .iter()
            .filter(|c| frame_id(&c.data) == Some(id))
            .collect();
        assert_eq!(
            copies.len(),
            1,
            "frame {id} ({} bytes) delivered {} times",
            frame.len(),
            copies.len()
        );
        let c = copies[0];
        assert_eq!(c.wire_len as usize, frame.len(), "frame {id}: wire length");
        let expected = &frame[..frame.len().min(snaplen)];
        assert_eq!(c.data.len(), expected.len(), "frame {id}: captured length");
        assert_eq!(c.data, expected, "frame {id}: captured bytes");
        assert!(!c.outgoing, "frame {id} was received, not sent");
        assert_eq!(c.link, LinkType::Ethernet);
    }
}

// ---------------------------------------------------------------------------
// The rules
// ---------------------------------------------------------------------------

#[test]
fn every_kept_frame_arrives_once_cut_at_the_snaplen_with_its_vlan_tag() {
    require_root_and_tools();
    let ns = Netns::new();
    ns.veth("vin", "vcap");
    let snaplen = 1024;

    let kept = vec![
        udp4(1, BROADCAST, 60),
        udp4(2, BROADCAST, 200),
        udp4(3, [0x02, 0, 0, 0, 0x02, 0x01], 1024),
        udp4(4, BROADCAST, 1025),
        udp4(5, BROADCAST, 1514),
        udp6(6, 400),
        udp4_vlan(7, 100, 300),
        udp4_vlan(8, 4000, 1400),
        udp4_qinq(9, 500),
        arp_request(10, [10, 77, 0, 110], [10, 77, 0, 1]),
        pppoe_session(11),
    ];
    let filtered = vec![other_ethertype(20, 0x88cc), other_ethertype(21, 0x8863)];
    let mut all = kept.clone();
    all.extend(filtered.iter().cloned());
    let pcap = TempPcap::new("kept", &all);

    let before = now_nanos();
    let capture = Running::start(&ns, &["vcap"], LiveOptions::default());
    ns.replay("vin", &pcap.0);
    let got = capture.collect_until(|g| g.len() >= kept.len());
    let after = now_nanos();
    let summary = capture.stop();

    assert_each_delivered_once(&kept, &got, snaplen);
    for frame in &filtered {
        let id = frame_id(frame).unwrap();
        assert!(
            !got.iter().any(|c| frame_id(&c.data) == Some(id)),
            "EtherType {:02x}{:02x} must be filtered out",
            frame[12],
            frame[13]
        );
    }
    let strangers: Vec<_> = got.iter().filter(|c| frame_id(&c.data).is_none()).collect();
    assert!(strangers.is_empty(), "unexpected frames: {strangers:?}");

    // The VLAN frames were untagged by the kernel; the tag is back in place.
    let vlan = got.iter().find(|c| frame_id(&c.data) == Some(7)).unwrap();
    assert_eq!(&vlan.data[12..16], &[0x81, 0x00, 0x00, 100]);
    let qinq = got.iter().find(|c| frame_id(&c.data) == Some(9)).unwrap();
    assert_eq!(&qinq.data[12..14], &[0x88, 0xa8]);

    let mut last = 0;
    for c in &got {
        assert!(c.ts_nanos >= last, "timestamps go forward");
        assert!(
            c.ts_nanos + 1_000_000_000 >= before && c.ts_nanos <= after + 1_000_000_000,
            "timestamp {} not within the test's run ({before}..{after})",
            c.ts_nanos
        );
        last = c.ts_nanos;
    }

    assert_eq!(summary.stats.drops, 0, "{:?}", summary.stats);
    assert!(
        summary.stats.packets >= kept.len() as u64,
        "kernel counted {:?}, {} frames delivered",
        summary.stats,
        got.len()
    );
    assert_eq!(summary.duplicates, 0);
    assert!(summary.local_macs.contains(&ns.mac("vcap")));
}

#[test]
fn bridged_frame_counts_once_across_member_ports() {
    require_root_and_tools();
    let ns = Netns::new();
    let bridge_mac = "02:00:00:00:00:b0";
    ns.ip(&[
        "link",
        "add",
        "name",
        "br0",
        "type",
        "bridge",
        "stp_state",
        "0",
    ]);
    ns.ip(&["link", "set", "br0", "address", bridge_mac]);
    ns.veth("h1", "p1");
    ns.veth("h2", "p2");
    ns.ip(&["link", "set", "p1", "master", "br0"]);
    ns.ip(&["link", "set", "p2", "master", "br0"]);
    ns.ip(&["link", "set", "br0", "up"]);
    ns.ip(&["addr", "add", "10.77.0.1/24", "dev", "br0"]);
    // Only br0 answers ARP for its address (by default any interface would,
    // and h2 would reply to the flooded request too).
    ns.exec(&["sysctl", "-qw", "net.ipv4.conf.all.arp_ignore=1"]);

    // Broadcast and unknown-unicast frames enter p1 from a host and are
    // flooded out of p2 with the host's MAC; the ARP request for the
    // bridge's address gets a reply from the bridge's own MAC out of p1.
    let sent = vec![
        udp4(1, BROADCAST, 100),
        udp4(2, [0x02, 0, 0, 0, 0x02, 0x01], 300),
        udp4(3, BROADCAST, 1200),
        arp_request(4, [10, 77, 0, 104], [10, 77, 0, 1]),
    ];
    let pcap = TempPcap::new("bridge", &sent);
    let router: Mac = bridge_mac.parse().unwrap();
    let from_router = |c: &Captured| c.data.get(6..12) == Some(&router.0[..]);
    let is_arp_reply =
        |c: &Captured| from_router(c) && c.data.get(12..14) == Some(&[0x08, 0x06][..]);
    let marker = b"lanwatch router broadcast";
    let is_router_broadcast =
        |c: &Captured| from_router(c) && c.data.windows(marker.len()).any(|w| w == marker);

    let capture = Running::start(&ns, &["p1", "p2"], LiveOptions::default());
    ns.replay("h1", &pcap.0);
    // The router itself broadcasts: br0 floods it out of p1 and p2.
    let name = ns.name.clone();
    std::thread::spawn(move || {
        enter(&name);
        let socket = std::net::UdpSocket::bind("10.77.0.1:0").unwrap();
        socket.set_broadcast(true).unwrap();
        socket.send_to(marker, "10.77.0.255:9").unwrap();
    })
    .join()
    .unwrap();
    let got = capture.collect_until(|g| {
        g.iter().filter(|c| frame_id(&c.data).is_some()).count() >= sent.len()
            && g.iter().any(is_arp_reply)
            && g.iter().any(is_router_broadcast)
    });
    let summary = capture.stop();

    assert_each_delivered_once(&sent, &got, 1024);
    let replies: Vec<_> = got.iter().filter(|c| is_arp_reply(c)).collect();
    assert_eq!(
        replies.len(),
        1,
        "the router's reply leaves one port and counts once"
    );
    assert!(replies[0].outgoing);
    assert_eq!(&replies[0].data[20..22], &[0x00, 0x02], "ARP reply opcode");
    let broadcasts: Vec<_> = got.iter().filter(|c| is_router_broadcast(c)).collect();
    assert_eq!(
        broadcasts.len(),
        1,
        "the router's broadcast leaves both ports and counts once"
    );
    assert!(broadcasts[0].outgoing);

    // Everything else the router sent on its own (IGMP reports for br0's
    // address, say) also left both ports; each counted once.
    let strangers: Vec<_> = got
        .iter()
        .filter(|c| frame_id(&c.data).is_none() && !from_router(c))
        .collect();
    assert!(strangers.is_empty(), "unexpected frames: {strangers:?}");
    let router_floods = got
        .iter()
        .filter(|c| from_router(c) && c.data[0] & 1 == 1)
        .count() as u64;
    // The router floods the test sent are skipped exactly; the kernel's own
    // (an IGMP report, say) may be caught between its two copies when the
    // capture stops, so those are allowed to be short by their number.
    let own_floods = broadcasts.len() as u64;
    let at_least = sent.len() as u64 + own_floods;
    let at_most = sent.len() as u64 + router_floods;
    assert!(
        (at_least..=at_most).contains(&summary.duplicates),
        "each host frame flooded out of p2, and each router flood's second copy, is skipped: \
         {} not in {at_least}..={at_most}: {got:?}",
        summary.duplicates
    );
    assert!(
        summary.local_macs.contains(&router),
        "bridge MAC learned from sysfs"
    );
    assert!(summary.local_macs.contains(&ns.mac("p1")));
    assert!(summary.local_macs.contains(&ns.mac("p2")));
}

#[test]
fn capture_survives_interface_down_up_and_recreation() {
    require_root_and_tools();
    // Shows the capture's loss/recovery log lines when the test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().try_init();
    let ns = Netns::new();
    ns.veth("vin", "vcap");
    let probe = TempPcap::new("probe", &[udp4(200, BROADCAST, 80)]);
    let batch = |base: u8| -> Vec<Vec<u8>> {
        (0..5)
            .map(|k| udp4(base + k, BROADCAST, 100 + 200 * usize::from(k)))
            .collect()
    };

    let capture = Running::start(&ns, &["vcap"], LiveOptions::default());
    capture.wait_until_capturing(&ns, "vin", &probe, 200);
    let first = batch(1);
    let pcap = TempPcap::new("first", &first);
    ns.replay("vin", &pcap.0);
    let got = capture.collect_until(|g| g.len() >= first.len());
    assert_each_delivered_once(&first, &got, 1024);

    // Down and up again: same interface, same index.
    ns.ip(&["link", "set", "vcap", "down"]);
    std::thread::sleep(Duration::from_millis(500));
    ns.ip(&["link", "set", "vcap", "up"]);
    capture.wait_until_capturing(&ns, "vin", &probe, 200);
    let second = batch(11);
    let pcap = TempPcap::new("second", &second);
    ns.replay("vin", &pcap.0);
    let got = capture.collect_until(|g| g.len() >= second.len());
    assert_each_delivered_once(&second, &got, 1024);

    // Deleted and recreated under the same name: a new index.
    ns.ip(&["link", "del", "vcap"]);
    std::thread::sleep(Duration::from_millis(500));
    ns.veth("vin", "vcap");
    capture.wait_until_capturing(&ns, "vin", &probe, 200);
    let third = batch(21);
    let pcap = TempPcap::new("third", &third);
    ns.replay("vin", &pcap.0);
    let got = capture.collect_until(|g| g.len() >= third.len());
    assert_each_delivered_once(&third, &got, 1024);

    let summary = capture.stop();
    assert_eq!(summary.stats.drops, 0);
    assert!(summary.stats.packets >= 15);
}

#[test]
fn fanout_workers_share_the_frames_without_overlap() {
    require_root_and_tools();
    let ns = Netns::new();
    ns.veth("vin", "vcap");
    // Twenty flows (each from its own address and port): the kernel's flow
    // hash spreads them over the two workers.
    let sent: Vec<Vec<u8>> = (1..=20).map(|n| udp4(n, BROADCAST, 120)).collect();
    let pcap = TempPcap::new("fanout", &sent);
    let opts = || LiveOptions {
        fanout: Some(4242),
        ..LiveOptions::default()
    };
    let workers = [
        Running::start(&ns, &["vcap"], opts()),
        Running::start(&ns, &["vcap"], opts()),
    ];
    ns.replay("vin", &pcap.0);

    let mut got: [Vec<Captured>; 2] = [Vec::new(), Vec::new()];
    let deadline = Instant::now() + Duration::from_secs(10);
    let settle = Duration::from_millis(300);
    let mut quiet_since = Instant::now();
    while Instant::now() < deadline {
        let mut any = false;
        for (w, frames) in workers.iter().zip(got.iter_mut()) {
            while let Ok(f) = w.frames.try_recv() {
                frames.push(f);
                any = true;
            }
        }
        if any {
            quiet_since = Instant::now();
        }
        if got[0].len() + got[1].len() >= sent.len() && quiet_since.elapsed() > settle {
            break;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let [a, b] = workers;
    a.stop();
    b.stop();

    let both: Vec<Captured> = got.iter().flatten().cloned().collect();
    assert_each_delivered_once(&sent, &both, 1024);
    assert!(
        !got[0].is_empty() && !got[1].is_empty(),
        "both workers get a share: {} and {}",
        got[0].len(),
        got[1].len()
    );
}

#[test]
fn opening_a_missing_interface_names_it() {
    require_root_and_tools();
    let ns = Netns::new();
    let name = ns.name.clone();
    let message = std::thread::spawn(move || {
        enter(&name);
        match LiveCapture::open(
            &["lo".to_string(), "br-lan".to_string()],
            LiveOptions::default(),
        ) {
            Ok(_) => panic!("br-lan does not exist in a fresh namespace"),
            Err(e) => e.to_string(),
        }
    })
    .join()
    .unwrap();
    assert!(
        message.starts_with("interface br-lan: no such interface"),
        "{message}"
    );
    assert!(!message.contains('\n'));
}

#[test]
fn opening_without_cap_net_raw_says_what_is_needed() {
    require_root_and_tools();
    let message = std::thread::spawn(|| {
        drop_cap_net_raw_in_this_thread();
        match LiveCapture::open(&["lo".to_string()], LiveOptions::default()) {
            Ok(_) => panic!("opened a packet socket without CAP_NET_RAW"),
            Err(e) => e.to_string(),
        }
    })
    .join()
    .unwrap();
    assert!(message.starts_with("interface lo: "), "{message}");
    assert!(message.contains("CAP_NET_RAW"), "{message}");
}

/// Clears CAP_NET_RAW from the calling thread's effective capabilities
/// (capabilities are per thread on Linux).
fn drop_cap_net_raw_in_this_thread() {
    const CAP_NET_RAW: u32 = 13;
    #[repr(C)]
    struct Header {
        version: u32,
        pid: i32,
    }
    #[repr(C)]
    #[derive(Default, Clone, Copy)]
    struct Data {
        effective: u32,
        permitted: u32,
        inheritable: u32,
    }
    let mut header = Header {
        version: 0x2008_0522, // _LINUX_CAPABILITY_VERSION_3
        pid: 0,
    };
    let mut data = [Data::default(); 2];
    // SAFETY: capget/capset with a v3 header and two data structs, as
    // capget(2) describes; they affect only the calling thread.
    unsafe {
        assert_eq!(
            libc::syscall(
                libc::SYS_capget,
                &mut header as *mut Header,
                data.as_mut_ptr()
            ),
            0
        );
        data[0].effective &= !(1 << CAP_NET_RAW);
        assert_eq!(
            libc::syscall(libc::SYS_capset, &mut header as *mut Header, data.as_ptr()),
            0
        );
    }
}
