//! The OpenWrt init script, run off the router: sourced by `sh` with
//! stand-ins for procd's and OpenWrt's shell helpers (tests/openwrt/*.sh), a
//! sample UCI configuration, and a fake sysfs with a bridge. What it hands to
//! procd — the daemon's command line, the jail, the triggers — must be
//! exactly what the configuration says, and the command line must be the
//! one `lanwatch check-config --args` prints for the same files.
//!
//! The files the service writes are checked too: the web config made from
//! `web_user`/`web_password` (mode, owner, a hash an independent tool
//! verifies, a file the daemon accepts) and the state file's directory.
//!
//! Also: `sh -n` and shellcheck accept the init script, and the package's
//! JSON files parse.

mod common;
#[path = "openwrt/daemon.rs"]
mod daemon;

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;

const INIT: &str = "openwrt-feed/net/lanwatch/files/lanwatch.init";

/// A router's root directory in a temporary folder, deleted on drop.
struct Root(PathBuf);

impl Root {
    fn new(tag: &str, config: &str, with_ujail: bool) -> Root {
        let dir = std::env::temp_dir().join(format!("lanwatch-init-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        let root = Root(dir);
        let fixtures = root_dir().join("tests/openwrt");
        root.write("etc/config/lanwatch", config);
        root.write(
            "etc/config/firewall",
            &fs::read_to_string(fixtures.join("firewall")).unwrap(),
        );
        root.write(
            "lib/functions/network.sh",
            &fs::read_to_string(fixtures.join("network.sh")).unwrap(),
        );
        root.write(
            "etc/capabilities/lanwatch.json",
            &fs::read_to_string(
                root_dir().join("openwrt-feed/net/lanwatch/files/lanwatch.capabilities.json"),
            )
            .unwrap(),
        );
        for file in ["etc/passwd", "etc/group", "etc/lanwatch/protocols"] {
            root.write(file, "");
        }
        // `lanwatch hash-password` is called from the installed binary.
        fs::create_dir_all(root.0.join("usr/sbin")).unwrap();
        std::os::unix::fs::symlink(
            env!("CARGO_BIN_EXE_lanwatch"),
            root.0.join("usr/sbin/lanwatch"),
        )
        .unwrap();
        // br-lan with three ports (created out of order), a fourth device
        // outside it, and br-lan.5, a VLAN device on top of it.
        for port in ["lan3", "lan1", "lan2"] {
            root.write(&format!("sys/class/net/br-lan/brif/{port}"), "");
        }
        fs::create_dir_all(root.0.join("sys/class/net/lan4")).unwrap();
        fs::create_dir_all(root.0.join("sys/class/net/br-lan.5")).unwrap();
        std::os::unix::fs::symlink(
            "../br-lan",
            root.0.join("sys/class/net/br-lan.5/lower_br-lan"),
        )
        .unwrap();
        if with_ujail {
            root.write("sbin/ujail", "#!/bin/sh\n");
            let mut perms = fs::metadata(root.0.join("sbin/ujail"))
                .unwrap()
                .permissions();
            std::os::unix::fs::PermissionsExt::set_mode(&mut perms, 0o755);
            fs::set_permissions(root.0.join("sbin/ujail"), perms).unwrap();
        }
        root
    }

    fn write(&self, rel: &str, text: &str) {
        let path = self.0.join(rel);
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    /// Sources the init script and calls `function`; returns the command
    /// line procd got (if any), the other procd calls, and the status.
    fn run_init(&self, function: &str) -> (Option<Vec<String>>, Vec<String>, bool) {
        let argv = self.0.join("argv");
        let log = self.0.join("procd.log");
        let _ = fs::remove_file(&argv);
        fs::write(&log, "").unwrap();
        let fixtures = root_dir().join("tests/openwrt");
        let script = format!(
            ". '{}'; . '{}'; . '{}'; {function}",
            fixtures.join("procd.sh").display(),
            fixtures.join("functions.sh").display(),
            root_dir().join(INIT).display(),
        );
        let out = Command::new("sh")
            .arg("-c")
            .arg(script)
            .env("IPKG_INSTROOT", &self.0)
            .env("UCI_CONFIG_DIR", self.0.join("etc/config"))
            .env("LANWATCH_SYSFS", self.0.join("sys"))
            .env("LANWATCH_ARGV", &argv)
            .env("LANWATCH_LOG", &log)
            .output()
            .expect("run sh");
        let argv = fs::read_to_string(&argv)
            .ok()
            .map(|t| t.lines().map(str::to_string).collect());
        let log = fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        (argv, log, out.status.success())
    }

    /// `lanwatch check-config --args` on this root's files.
    fn check_config(&self) -> Result<Vec<String>, String> {
        let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .arg("check-config")
            .arg(self.0.join("etc/config/lanwatch"))
            .arg("--args")
            .arg("--interfaces-dump")
            .arg(root_dir().join("tests/openwrt/interfaces.json"))
            .arg("--sysfs")
            .arg(self.0.join("sys"))
            .output()
            .expect("run lanwatch check-config");
        if out.status.success() {
            Ok(String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect())
        } else {
            Err(String::from_utf8_lossy(&out.stderr).into_owned())
        }
    }
}

impl Drop for Root {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn root_dir() -> PathBuf {
    root()
}

fn words(line: &str) -> Vec<String> {
    line.split_whitespace().map(str::to_string).collect()
}

fn sample() -> String {
    fs::read_to_string(root_dir().join("tests/openwrt/lanwatch.sample")).unwrap()
}

#[test]
fn sample_config_gives_the_exact_command_line() {
    let root = Root::new("sample", &sample(), true);
    let (argv, _, ok) = root.run_init("start_service");
    assert!(ok, "start_service failed");
    let expected = words(
        "/usr/sbin/lanwatch capture -i lan1 -i lan2 -i lan3 --listen 192.168.1.1:9477 \
         --no-promisc --snaplen 512 --lan 192.168.1.0/24 --lan fd5e:8a21:4c07:1::/64 \
         --max-clients 256 --udp-timeout 90 --protocols /etc/lanwatch/protocols \
         --leases /tmp/dhcp.leases --exclude-mac AA:BB:CC:DD:EE:01 \
         --exclude-mac aa:bb:cc:dd:ee:02 --no-dns-names --user lanwatch --group lanwatch \
         --log-level debug --allow-scraper 127.0.0.0/8 --allow-scraper ::1 \
         --allow-scraper 192.168.1.1 --state-file /tmp/lanwatch/state.json",
    );
    assert_eq!(argv.unwrap(), expected);
    assert_eq!(
        root.check_config().unwrap(),
        expected,
        "check-config agrees"
    );
}

#[test]
fn jail_runs_the_user_with_only_cap_net_raw_and_cap_setpcap() {
    let root = Root::new("jail", &sample(), true);
    let (_, log, ok) = root.run_init("start_service");
    assert!(ok);
    assert_eq!(
        log,
        [
            "procd_open_instance ",
            "procd_append_param netdev lan1",
            "procd_append_param netdev lan2",
            "procd_append_param netdev lan3",
            "procd_set_param respawn 3600 5 5",
            "procd_set_param stdout 1",
            "procd_set_param stderr 1",
            "procd_set_param no_new_privs 1",
            "procd_set_param reload_signal HUP",
            "procd_add_jail lanwatch log procfs sysfs",
            "procd_add_jail_mount /etc/passwd",
            "procd_add_jail_mount /etc/group",
            "procd_add_jail_mount /etc/config/firewall",
            "procd_add_jail_mount /etc/lanwatch/protocols",
            "procd_add_jail_mount_rw /tmp/lanwatch",
            "procd_set_param capabilities /etc/capabilities/lanwatch.json",
            "procd_set_param user lanwatch",
            "procd_set_param group lanwatch",
            "procd_close_instance",
        ]
    );
    // The capabilities file grants CAP_NET_RAW (the capture sockets) and
    // CAP_SETPCAP (emptying the bounding set) and nothing else, in every set.
    let caps: serde_json::Value = serde_json::from_str(
        &fs::read_to_string(root.0.join("etc/capabilities/lanwatch.json")).unwrap(),
    )
    .unwrap();
    for set in [
        "bounding",
        "effective",
        "ambient",
        "permitted",
        "inheritable",
    ] {
        assert_eq!(
            caps[set],
            serde_json::json!(["CAP_NET_RAW", "CAP_SETPCAP"]),
            "{set}"
        );
    }
}

#[test]
fn without_ujail_the_daemon_starts_as_root_and_drops_by_itself() {
    let root = Root::new("nojail", &sample(), false);
    let (argv, log, ok) = root.run_init("start_service");
    assert!(ok);
    let argv = argv.unwrap();
    assert!(argv.windows(2).any(|w| w == ["--user", "lanwatch"]));
    assert!(log.contains(&"procd_set_param no_new_privs 1".to_string()));
    assert!(!log
        .iter()
        .any(|l| l.contains("jail") || l.contains("capabilities")));
    assert!(!log.iter().any(|l| l.starts_with("procd_set_param user")));
}

#[test]
fn triggers_reload_on_config_and_network_changes() {
    let root = Root::new("triggers", &sample(), true);
    let (_, log, ok) = root.run_init("service_triggers");
    assert!(ok);
    assert_eq!(
        log,
        [
            "procd_add_reload_trigger lanwatch",
            "procd_add_reload_interface_trigger lan",
            "procd_add_reload_interface_trigger lan",
        ]
    );
}

/// Configurations on which the init script and check-config must agree.
const AGREEING: [(&str, &str); 9] = [
    ("empty", "config lanwatch 'main'\n"),
    (
        "devices",
        "config lanwatch\n\tlist interface 'lan4'\n\tlist interface 'br-lan'\n\toption listen_interface 'loopback'\n",
    ),
    (
        "option-list",
        "config lanwatch 'main'\n\toption interface 'lan2'\n\toption router_mac '94:83:C4:2A:10:01'\n",
    ),
    (
        "vlan",
        "config lanwatch 'main'\n\toption network 'iot'\n\toption listen_interface 'iot'\n\toption promiscuous 'no'\n",
    ),
    (
        "ipv6",
        "config lanwatch 'main'\n\toption listen_address 'fd5e:8a21:4c07:1::1'\n\toption listen_port '19500'\n\toption tcp_timeout '3600'\n\toption other_timeout '30'\n\toption icmp_timeout '10'\n",
    ),
    (
        "not-a-bridge",
        "config lanwatch 'main'\n\toption network 'wan'\n\toption export_dns_names 'on'\n\toption enabled 'yes'\n",
    ),
    (
        "access",
        "config lanwatch 'main'\n\tlist allow_scraper '192.168.1.10'\n\tlist allow_scraper 'fd00::/64'\n\toption web_config '/etc/lanwatch/web.yml'\n\toption state_file '/etc/lanwatch/state/state.json'\n\toption state_interval '60'\n\toption listen_address '::1'\n",
    ),
    (
        "login",
        "config lanwatch 'main'\n\toption allow_scraper '10.0.0.0/8'\n\toption web_user 'prometheus'\n\toption web_password 'it''s a secret'\n",
    ),
    (
        "both-logins",
        "config lanwatch 'main'\n\toption web_config '/etc/lanwatch/web.yml'\n\toption web_user 'prometheus'\n\toption web_password 'secret'\n\toption listen_address '127.0.0.1'\n",
    ),
];

#[test]
fn init_script_and_check_config_build_the_same_command_line() {
    for (tag, config) in AGREEING {
        let root = Root::new(tag, config, true);
        let (argv, _, ok) = root.run_init("start_service");
        assert!(ok, "{tag}: start_service failed");
        let argv = argv.unwrap_or_else(|| panic!("{tag}: no command line"));
        assert_eq!(root.check_config().unwrap(), argv, "{tag}");
    }
}

#[test]
fn shipped_default_config_agrees_and_captures_on_the_lan_ports() {
    let shipped =
        fs::read_to_string(root_dir().join("openwrt-feed/net/lanwatch/files/lanwatch.config"))
            .unwrap();
    let root = Root::new("shipped", &shipped, true);
    let (argv, _, ok) = root.run_init("start_service");
    assert!(ok);
    let argv = argv.unwrap();
    assert_eq!(
        argv[..10].join(" "),
        "/usr/sbin/lanwatch capture -i lan1 -i lan2 -i lan3 --listen 192.168.1.1:19477"
    );
    assert_eq!(root.check_config().unwrap(), argv);
}

#[test]
fn both_refuse_to_serve_on_a_wan_network() {
    for network in ["wan", "wwan"] {
        let config = format!("config lanwatch 'main'\n\toption listen_interface '{network}'\n");
        let root = Root::new(network, &config, true);
        let (argv, log, ok) = root.run_init("start_service");
        assert!(!ok, "{network}: the init script started it");
        assert_eq!(argv, None);
        assert!(log.is_empty(), "{network}: no instance: {log:?}");
        let err = root.check_config().unwrap_err();
        assert!(
            err.contains(&format!(
                "option 'listen_interface': '{network}' is a WAN network"
            )),
            "{err}"
        );
    }
}

#[test]
fn disabled_service_opens_no_instance() {
    let root = Root::new(
        "disabled",
        "config lanwatch 'main'\n\toption enabled '0'\n",
        true,
    );
    let (argv, log, ok) = root.run_init("start_service");
    assert!(ok);
    assert_eq!(argv, None);
    assert!(log.is_empty());
}

#[test]
fn init_script_passes_sh_n_and_shellcheck() {
    let init = root_dir().join(INIT);
    let status = Command::new("sh").arg("-n").arg(&init).status().unwrap();
    assert!(status.success(), "sh -n {INIT}");
    require_tool("shellcheck", "shellcheck");
    for file in [
        init,
        root_dir().join("tests/openwrt/functions.sh"),
        root_dir().join("tests/openwrt/procd.sh"),
        root_dir().join("tests/openwrt/network.sh"),
    ] {
        let out = Command::new("shellcheck").arg(&file).output().unwrap();
        assert!(
            out.status.success(),
            "shellcheck {}:\n{}",
            file.display(),
            String::from_utf8_lossy(&out.stdout)
        );
    }
}

/// Every JSON file of the feed (capabilities, LuCI menu and ACL).
fn feed_files(dir: &Path, ext: &str, out: &mut Vec<PathBuf>) {
    for entry in fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            feed_files(&path, ext, out);
        } else if path.extension().is_some_and(|e| e == ext) {
            out.push(path);
        }
    }
}

#[test]
fn feed_json_files_parse() {
    let mut files = Vec::new();
    feed_files(&root_dir().join("openwrt-feed"), "json", &mut files);
    assert!(files.len() >= 3, "capabilities, menu and ACL: {files:?}");
    for file in files {
        let text = fs::read_to_string(&file).unwrap();
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&text) {
            panic!("{}: {e}", file.display());
        }
    }
}

#[test]
fn luci_views_parse_and_extend_view() {
    require_tool("node", "nodejs");
    let mut scripts = Vec::new();
    feed_files(&root_dir().join("openwrt-feed/luci"), "js", &mut scripts);
    let views: Vec<&PathBuf> = scripts
        .iter()
        .filter(|p| p.parent().is_some_and(|d| d.ends_with("view/lanwatch")))
        .collect();
    assert_eq!(views.len(), 2, "clients and settings: {views:?}");
    for script in &scripts {
        let out = Command::new("node")
            .arg("--check")
            .arg(script)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}: {}",
            script.display(),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    for view in views {
        let text = fs::read_to_string(view).unwrap();
        assert!(text.contains("'require view';"), "{}", view.display());
        assert!(text.contains("return view.extend({"), "{}", view.display());
    }
}

/// `id -u NAME` / `id -g NAME`: the account as the system knows it.
fn id(flag: &str, name: &str) -> u32 {
    let out = Command::new("id").args([flag, name]).output().unwrap();
    assert!(out.status.success(), "id {flag} {name}");
    String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
}

#[test]
fn web_login_becomes_a_private_web_config_of_the_user_that_the_daemon_accepts() {
    use std::os::unix::fs::MetadataExt;
    require_tool("htpasswd", "apache2-utils");
    require_tool("curl", "curl");
    let password = "s3cret pass'word";
    let config = "config lanwatch 'main'\n\toption listen_interface 'loopback'\n\
                  \toption listen_port '19620'\n\toption user 'nobody'\n\toption group 'nogroup'\n\
                  \toption web_user 'prometheus'\n\toption web_password 's3cret pass'\\''word'\n";
    let root = Root::new("web-login", config, true);
    let (argv, log, ok) = root.run_init("start_service");
    assert!(ok, "start_service failed");
    let argv = argv.unwrap();
    assert!(
        argv.windows(2)
            .any(|w| w == ["--web-config", "/var/run/lanwatch/web.yml"]),
        "{argv:?}"
    );
    assert_eq!(root.check_config().unwrap(), argv, "check-config agrees");
    assert!(!argv.iter().chain(&log).any(|a| a.contains("s3cret")));
    assert!(log.contains(&"procd_add_jail_mount /var/run/lanwatch/web.yml".to_string()));

    let dir = root.0.join("var/run/lanwatch");
    let file = dir.join("web.yml");
    let meta = fs::metadata(&file).expect("the web config is written");
    assert_eq!(meta.mode() & 0o777, 0o600, "mode of {}", file.display());
    assert_eq!(meta.uid(), id("-u", "nobody"), "owned by the user");
    assert_eq!(meta.gid(), id("-g", "nobody"), "and the group");
    let dir_meta = fs::metadata(&dir).unwrap();
    assert_eq!(dir_meta.mode() & 0o777, 0o700);
    assert_eq!(dir_meta.uid(), id("-u", "nobody"));

    // The hash verifies the password with an independent implementation.
    let text = fs::read_to_string(&file).unwrap();
    let hash = text
        .lines()
        .find_map(|l| l.strip_prefix("  prometheus: "))
        .unwrap_or_else(|| panic!("no user line in {text}"));
    let htpasswd = root.0.join("htpasswd");
    fs::write(&htpasswd, format!("prometheus:{hash}\n")).unwrap();
    for (guess, right) in [(password, true), ("s3cret pass", false)] {
        let status = Command::new("htpasswd")
            .arg("-vb")
            .arg(&htpasswd)
            .args(["prometheus", guess])
            .output()
            .unwrap()
            .status;
        assert_eq!(status.success(), right, "htpasswd -v with {guess:?}");
    }

    // The daemon takes the file, and only the right login gets in.
    let daemon =
        daemon::Daemon::start("127.0.0.1:19620", &["--web-config", file.to_str().unwrap()]);
    let (status, body) = daemon.curl("/api/v1/health", Some(&format!("prometheus:{password}")));
    assert_eq!(status, 200, "{body}");
    assert_eq!(
        daemon
            .curl("/api/v1/health", Some("prometheus:s3cret pass"))
            .0,
        401
    );
    assert_eq!(daemon.curl("/api/v1/health", None).0, 401);
}

#[test]
fn without_a_user_the_web_config_is_root_s_and_still_private() {
    use std::os::unix::fs::MetadataExt;
    let config = "config lanwatch 'main'\n\toption web_user 'p'\n\toption web_password 'x'\n";
    let root = Root::new("web-root", config, true);
    let (_, _, ok) = root.run_init("start_service");
    assert!(ok);
    let meta = fs::metadata(root.0.join("var/run/lanwatch/web.yml")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o600);
    assert_eq!(meta.uid(), id("-u", "root"));
}

#[test]
fn web_config_wins_and_no_file_is_written() {
    let root = Root::new("web-both", AGREEING[8].1, true);
    let (argv, _, ok) = root.run_init("start_service");
    assert!(ok);
    let argv = argv.unwrap();
    assert!(argv
        .windows(2)
        .any(|w| w == ["--web-config", "/etc/lanwatch/web.yml"]));
    assert!(!root.0.join("var/run/lanwatch/web.yml").exists());
}

#[test]
fn both_refuse_a_login_without_its_password() {
    for (tag, config, message) in [
        (
            "no-password",
            "config lanwatch 'main'\n\toption web_user 'prometheus'\n",
            "option 'web_user' needs option 'web_password' too",
        ),
        (
            "no-user",
            "config lanwatch 'main'\n\toption web_password 'x'\n",
            "option 'web_password' needs option 'web_user' too",
        ),
    ] {
        let root = Root::new(tag, config, true);
        let (argv, log, ok) = root.run_init("start_service");
        assert!(!ok, "{tag}: the init script started it");
        assert_eq!(argv, None, "{tag}");
        assert!(log.is_empty(), "{tag}: {log:?}");
        let err = root.check_config().unwrap_err();
        assert!(err.contains(message), "{tag}: {err}");
    }
}

#[test]
fn the_default_state_file_is_on_tmpfs_in_a_directory_of_the_user() {
    use std::os::unix::fs::MetadataExt;
    let config = "config lanwatch 'main'\n\toption user 'nobody'\n\toption group 'nogroup'\n";
    let root = Root::new("state-default", config, true);
    let (argv, log, ok) = root.run_init("start_service");
    assert!(ok);
    let argv = argv.unwrap();
    assert!(argv
        .windows(2)
        .any(|w| w == ["--state-file", "/tmp/lanwatch/state.json"]));
    assert!(!argv.contains(&"--state-interval".to_string()));
    let meta = fs::metadata(root.0.join("tmp/lanwatch")).unwrap();
    assert_eq!(meta.mode() & 0o777, 0o700);
    assert_eq!(meta.uid(), id("-u", "nobody"));
    assert!(log.contains(&"procd_add_jail_mount_rw /tmp/lanwatch".to_string()));
    assert_eq!(root.check_config().unwrap(), argv);
}

#[test]
fn a_state_file_on_flash_gets_its_directory_and_interval() {
    let config = "config lanwatch 'main'\n\toption state_file '/etc/lanwatch/state/state.json'\n\toption state_interval '60'\n";
    let root = Root::new("state-flash", config, true);
    let (argv, _, ok) = root.run_init("start_service");
    assert!(ok);
    let argv = argv.unwrap();
    let tail = argv[argv.len() - 4..].join(" ");
    assert_eq!(
        tail,
        "--state-file /etc/lanwatch/state/state.json --state-interval 60"
    );
    assert!(root.0.join("etc/lanwatch/state").is_dir());
    assert!(!root.0.join("tmp/lanwatch").exists());
}
