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
