//! The OpenWrt jail's promises, checked on a live daemon in a network
//! namespace: `lanwatch capture --user` ends up with no capabilities and
//! another uid, still captures, still gets a recreated interface back, and
//! needs nothing beyond CAP_NET_RAW — not CAP_NET_ADMIN, even for
//! promiscuous mode — when procd's jail starts it as the user, and
//! CAP_NET_RAW + CAP_SETUID + CAP_SETGID when it starts as root.
//!
//! All of it runs under the seccomp allow-list (`Seccomp: 2`), the interface
//! recreation included; the bounding set ends empty when the daemon was
//! given CAP_SETPCAP to empty it with, and as the jail left it otherwise.
//!
//! Frame counts are checked against the number of records in the pcap file
//! sent (read with the pcap-file crate), not against lanwatch's own output.
//! Needs root, tcpreplay, curl and setpriv (util-linux).

mod common;

use std::process::{Command, Stdio};
use std::time::Duration;

use common::*;

/// A network namespace with a veth pair vin–vcap, deleted on drop.
struct Netns(String);

impl Netns {
    fn new(tag: &str) -> Netns {
        let name = format!("lw-openwrt-{tag}-{}", std::process::id());
        let _ = Command::new("ip")
            .args(["netns", "del", &name])
            .stderr(Stdio::null())
            .status();
        run("ip", &["netns", "add", &name]);
        let ns = Netns(name);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1"]);
        ns.exec(&["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=1"]);
        ns.exec(&["ip", "link", "set", "lo", "up"]);
        ns.veth();
        ns
    }

    fn veth(&self) {
        self.exec(&[
            "ip", "link", "add", "vin", "type", "veth", "peer", "name", "vcap",
        ]);
        for link in ["vin", "vcap"] {
            self.exec(&["ip", "link", "set", link, "up"]);
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.0]).args(args);
        cmd
    }

    fn exec(&self, args: &[&str]) {
        let status = self.command(args).status().expect("ip netns exec");
        assert!(status.success(), "ip netns exec {} {args:?} failed", self.0);
    }

    fn output(&self, args: &[&str]) -> String {
        let out = self.command(args).output().expect("ip netns exec");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn curl_json(&self, url: &str) -> Option<serde_json::Value> {
        let out = self
            .command(&["curl", "-sf", "--max-time", "5", url])
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        serde_json::from_slice(&out.stdout).ok()
    }

    fn send(&self, pcap: &std::path::Path) {
        let status = self
            .command(&["tcpreplay", "-q", "-i", "vin", "--pps", "2000"])
            .arg(pcap)
            .stdout(Stdio::null())
            .status()
            .expect("tcpreplay");
        assert!(status.success(), "tcpreplay failed");
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).status();
    }
}

fn run(cmd: &str, args: &[&str]) {
    let status = Command::new(cmd).args(args).status().expect(cmd);
    assert!(status.success(), "{cmd} {args:?} failed");
}

fn require_root() {
    // SAFETY: geteuid has no preconditions.
    let euid = unsafe { libc::geteuid() };
    assert_eq!(euid, 0, "these tests need root (CI runs as root)");
    require_tool("tcpreplay", "tcpreplay");
    require_tool("curl", "curl");
    require_tool("setpriv", "util-linux");
}

/// `/proc/PID/status` of the daemon (`ip netns exec` and `setpriv` exec
/// it in place, so the child's pid is the daemon's).
fn daemon_status(pid: u32) -> String {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    assert!(status.starts_with("Name:\tlanwatch"), "{status}");
    status
}

fn status_field<'a>(status: &'a str, key: &str) -> &'a str {
    status
        .lines()
        .find_map(|l| l.strip_prefix(key).and_then(|r| r.strip_prefix(':')))
        .map(str::trim)
        .unwrap_or_else(|| panic!("{key} missing from /proc/PID/status"))
}

#[test]
fn root_daemon_with_jail_capabilities_drops_to_the_user_and_recovers_an_interface() {
    // Root, but with only what the drop itself needs in the bounding set:
    // how the daemon runs where procd has no ujail to grant capabilities.
    drop_capture_and_recover(
        "root",
        &[
            "setpriv",
            "--bounding-set=-all,+net_raw,+setuid,+setgid",
            "--inh-caps=-all",
        ],
        // Emptying the bounding set needs CAP_SETPCAP, which this jail
        // does not give: it stays as the jail left it.
        "00000000000020c0",
    );
}

#[test]
fn root_daemon_with_cap_setpcap_too_ends_with_an_empty_bounding_set() {
    drop_capture_and_recover(
        "setpcap",
        &[
            "setpriv",
            "--bounding-set=-all,+net_raw,+setuid,+setgid,+setpcap",
            "--inh-caps=-all",
        ],
        "0000000000000000",
    );
}

#[test]
fn jailed_daemon_started_as_the_user_gives_up_its_ambient_cap_net_raw() {
    // What procd's jail does with /etc/capabilities/lanwatch.json: start
    // the daemon as the user with exactly the file's (ambient)
    // capabilities. --user then has nothing to switch, only CAP_NET_RAW to
    // give up once the sockets are open, and CAP_SETPCAP to empty the
    // bounding set with.
    let caps = shipped_capabilities();
    let bounding = format!("--bounding-set=-all,{}", caps.join(","));
    let inheritable = format!("--inh-caps=-all,{}", caps.join(","));
    let ambient = format!("--ambient-caps={}", caps.join(","));
    drop_capture_and_recover(
        "jail",
        &[
            "setpriv",
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            &bounding,
            &inheritable,
            &ambient,
        ],
        "0000000000000000",
    );
}

/// The capabilities the package's jail grants, as setpriv spells them
/// (`+net_raw`), the same in every set of the file.
fn shipped_capabilities() -> Vec<String> {
    let text = std::fs::read_to_string(
        root().join("openwrt-feed/net/lanwatch/files/lanwatch.capabilities.json"),
    )
    .unwrap();
    let file: serde_json::Value = serde_json::from_str(&text).unwrap();
    let ambient = &file["ambient"];
    for set in ["bounding", "effective", "permitted", "inheritable"] {
        assert_eq!(&file[set], ambient, "{set} differs from ambient");
    }
    ambient
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            format!(
                "+{}",
                c.as_str()
                    .unwrap()
                    .trim_start_matches("CAP_")
                    .to_lowercase()
            )
        })
        .collect()
}

/// Starts the daemon through `launcher`, checks what it keeps after the
/// drop (`bounding_left`: the CapBnd it must end with), and has it capture
/// and get a recreated interface back, all under the seccomp filter.
fn drop_capture_and_recover(tag: &str, launcher: &[&str], bounding_left: &str) {
    require_root();
    let ns = Netns::new(tag);
    let pcap = repo_file("tests/data/generated/multi_address_client.pcap");
    let per_replay = pcap_records(&pcap);
    let listen = "127.0.0.1:19491";
    let mut command = launcher.to_vec();
    command.extend_from_slice(&[
        env!("CARGO_BIN_EXE_lanwatch"),
        "capture",
        "-i",
        "vcap",
        "--listen",
        listen,
        "--user",
        "nobody",
        "--group",
        "nogroup",
    ]);
    let mut daemon = ChildGuard(Some(
        ns.command(&command)
            .stdout(Stdio::null())
            .spawn()
            .expect("start lanwatch capture"),
    ));
    let url = format!("http://{listen}/api/v1/health");
    wait_for("the daemon to serve", 30, || ns.curl_json(&url));

    let status = daemon_status(daemon.0.as_ref().unwrap().id());
    assert_eq!(status_field(&status, "Uid"), "65534\t65534\t65534\t65534");
    assert_eq!(status_field(&status, "Gid"), "65534\t65534\t65534\t65534");
    let groups = status_field(&status, "Groups");
    assert!(groups.is_empty() || groups == "65534", "Groups: {groups}");
    for key in ["CapEff", "CapPrm", "CapInh", "CapAmb"] {
        assert_eq!(status_field(&status, key), "0000000000000000", "{key}");
    }
    assert_eq!(status_field(&status, "NoNewPrivs"), "1");
    assert_eq!(status_field(&status, "CapBnd"), bounding_left, "CapBnd");
    assert_eq!(
        status_field(&status, "Seccomp"),
        "2",
        "the allow-list is on"
    );
    // Promiscuous mode took without CAP_NET_ADMIN (a packet socket's
    // membership shows as the device's promiscuity count).
    let link = ns.output(&["ip", "-d", "link", "show", "vcap"]);
    assert!(
        link.contains("promiscuity 1"),
        "vcap is not promiscuous: {link}"
    );

    ns.send(&pcap);
    wait_for("the first replay to be counted", 20, || {
        ns.curl_json(&url).filter(|h| frames(h) >= per_replay)
    });

    // The interface is deleted and created again (a new ifindex), as a
    // bridge restart does; the unprivileged daemon must get it back.
    ns.exec(&["ip", "link", "del", "vcap"]);
    std::thread::sleep(Duration::from_millis(500));
    ns.veth();
    wait_for("the socket to be re-bound (promiscuous again)", 20, || {
        let link = ns.output(&["ip", "-d", "link", "show", "vcap"]);
        link.contains("promiscuity 1").then_some(())
    });
    ns.send(&pcap);
    let health = wait_for("the second replay to be counted", 20, || {
        ns.curl_json(&url).filter(|h| frames(h) >= 2 * per_replay)
    });
    assert_eq!(frames(&health), 2 * per_replay, "every frame once");

    let exit = daemon.terminate(10).expect("lanwatch stops on SIGTERM");
    assert!(exit.success(), "clean exit, got {exit:?}");
}

#[test]
fn an_unknown_user_fails_before_anything_is_opened() {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args([
            "capture",
            "-i",
            "lw-no-such-if0",
            "--listen",
            "127.0.0.1:0",
            "--user",
            "lw-no-such-user",
        ])
        .output()
        .expect("run lanwatch");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("user \"lw-no-such-user\" does not exist"),
        "{err}"
    );
}
