//! `lanwatch check-config` as a user meets it: broken files are rejected with
//! one line per problem naming the file, the line and the option, and a
//! valid file shows what the service would do.

mod common;

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Output};

use common::*;

/// A config file in a temporary folder (with no firewall file beside it).
struct Config(PathBuf);

impl Config {
    fn new(tag: &str, text: &str) -> Config {
        let dir = std::env::temp_dir().join(format!("lanwatch-check-{tag}-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let file = dir.join("lanwatch");
        fs::write(&file, text).unwrap();
        Config(file)
    }

    fn check(&self, extra: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .arg("check-config")
            .arg(&self.0)
            .args(["--interfaces-dump"])
            .arg(root().join("tests/openwrt/interfaces.json"))
            .args(["--sysfs", "/nonexistent"])
            .args(extra)
            .output()
            .expect("run lanwatch check-config")
    }
}

impl Drop for Config {
    fn drop(&mut self) {
        if let Some(dir) = self.0.parent() {
            let _ = fs::remove_dir_all(dir);
        }
    }
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn every_bad_option_is_named_with_its_line() {
    let config = Config::new(
        "bad",
        "config lanwatch 'main'\n\toption listen_port 'http'\n\toption max_flows '0'\n\tlist router_mac '94:83:c4:2a:10'\n\toption log_level 'loud'\n\toption verbose '1'\n",
    );
    let out = config.check(&[]);
    assert_eq!(out.status.code(), Some(1));
    let file = config.0.display().to_string();
    let lines: Vec<String> = stderr(&out).lines().map(str::to_string).collect();
    assert_eq!(
        lines,
        [
            format!("{file}: line 2: option 'listen_port': \"http\" is not a port from 1 to 65535"),
            format!("{file}: line 3: option 'max_flows': \"0\" is not a number from 1 to 10000000"),
            format!("{file}: line 4: option 'router_mac': \"94:83:c4:2a:10\" is not a MAC address (aa:bb:cc:dd:ee:ff)"),
            format!("{file}: line 5: option 'log_level': \"loud\" is not one of error, warn, info, debug, trace"),
            format!("{file}: line 6: unknown option 'verbose'"),
            format!("{file}: invalid (5 problem(s))"),
        ]
    );
    assert!(out.stdout.is_empty());
}

#[test]
fn a_syntax_error_names_the_line() {
    let config = Config::new(
        "syntax",
        "config lanwatch 'main'\n\toption user 'lanwatch\n",
    );
    let out = config.check(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("line 2: unterminated quote"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_network_that_cannot_be_resolved_is_an_error_naming_the_option() {
    let config = Config::new(
        "unresolved",
        "config lanwatch 'main'\n\toption network 'guest'\n",
    );
    let out = config.check(&[]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("option 'network': network 'guest' has no device"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn a_valid_file_shows_devices_address_notes_and_command() {
    let config = Config::new(
        "valid",
        "config lanwatch 'main'\n\tlist interface 'lan1'\n\toption listen_interface 'loopback'\n\toption export_dns_names '0'\n",
    );
    let out = config.check(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    let file = config.0.display().to_string();
    assert!(text.starts_with(&format!("{file}: valid\n")), "{text}");
    assert!(
        text.contains("capture on:   lan1 (option interface)"),
        "{text}"
    );
    assert!(
        text.contains("serve API on: 127.0.0.1:19477 (the address of network 'loopback')"),
        "{text}"
    );
    assert!(text.contains(" --no-dns-names"), "{text}");
    assert!(
        text.contains("no option user: the daemon keeps running as root"),
        "{text}"
    );
    assert!(
        text.contains("command:      /usr/sbin/lanwatch capture -i lan1 --listen 127.0.0.1:19477 --no-dns-names"),
        "{text}"
    );
}

#[test]
fn a_missing_file_is_named() {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["check-config", "/nonexistent/lanwatch"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).starts_with("lanwatch: /nonexistent/lanwatch: "),
        "{}",
        stderr(&out)
    );
}

#[test]
fn access_login_and_state_are_shown_and_the_password_is_not() {
    let config = Config::new(
        "access",
        "config lanwatch 'main'\n\tlist interface 'lan1'\n\tlist allow_scraper '192.168.1.10'\n\toption web_user 'prometheus'\n\toption web_password 'hunter2'\n",
    );
    let out = config.check(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("scrapers:     127.0.0.0/8 ::1 192.168.1.1 (the router itself) 192.168.1.10 (option allow_scraper)\n"),
        "{text}"
    );
    assert!(
        text.contains("login:        user 'prometheus' (option web_user; the service writes its bcrypt hash to /var/run/lanwatch/web.yml)\n"),
        "{text}"
    );
    assert!(
        text.contains("state file:   /tmp/lanwatch/state.json (the default, on tmpfs: kept across restarts, not reboots)\n"),
        "{text}"
    );
    assert!(
        text.contains(" --allow-scraper 127.0.0.0/8 --allow-scraper ::1 --allow-scraper 192.168.1.1 --allow-scraper 192.168.1.10 --web-config /var/run/lanwatch/web.yml --state-file /tmp/lanwatch/state.json\n"),
        "{text}"
    );
    assert!(!text.contains("hunter2"), "{text}");
}

#[test]
fn web_config_and_web_user_together_say_which_wins() {
    let config = Config::new(
        "both-logins",
        "config lanwatch 'main'\n\tlist interface 'lan1'\n\toption web_config '/etc/lanwatch/web.yml'\n\toption web_user 'prometheus'\n\toption web_password 'x'\n\toption state_file '/etc/lanwatch/state/state.json'\n",
    );
    let out = config.check(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("note:         option web_config wins over web_user/web_password: the daemon uses /etc/lanwatch/web.yml as it is"),
        "{text}"
    );
    assert!(
        text.contains("login:        as /etc/lanwatch/web.yml says (option web_config)\n"),
        "{text}"
    );
    assert!(
        text.contains("state file:   /etc/lanwatch/state/state.json (option state_file)\n"),
        "{text}"
    );
}

#[test]
fn hash_password_reads_stdin_and_prints_a_hash_htpasswd_verifies() {
    use std::io::Write;
    require_tool("htpasswd", "apache2-utils");
    let mut child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .args(["hash-password", "--cost", "5"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"pass word\n")
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    let hash = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(hash.starts_with("$2y$05$"), "{hash}");
    let config = Config::new("htpasswd", "");
    let file = config.0.with_file_name("htpasswd");
    fs::write(&file, format!("u:{hash}\n")).unwrap();
    for (guess, right) in [("pass word", true), ("pass word\n", false), ("pass", false)] {
        let ok = Command::new("htpasswd")
            .arg("-vb")
            .arg(&file)
            .args(["u", guess])
            .output()
            .unwrap()
            .status
            .success();
        assert_eq!(ok, right, "{guess:?}");
    }
    let empty = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("hash-password")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert_eq!(empty.status.code(), Some(1));
    assert_eq!(stderr(&empty), "lanwatch: no password on stdin\n");
}
