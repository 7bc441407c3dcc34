//! The LuCI backend run as rpcd runs it: the shipped exec-plugin wrapper
//! (`/usr/libexec/rpcd/luci.lanwatch`) under busybox's shell — OpenWrt's
//! shell — with `list`, and with `call METHOD` and the arguments as JSON on
//! stdin, against a real daemon (`lanwatch replay --listen`) found through
//! a UCI configuration in a temporary root.
//!
//! What it must do: `list` names exactly the methods the ACL grants; a call
//! answers with the daemon's own JSON (compared with what curl gets from
//! the API); every failure — daemon down, a daemon that never answers, a
//! refused login, a bad configuration — is one `{"error": ...}` object on
//! stdout with exit status 0, within a few seconds.

mod common;
#[path = "openwrt/daemon.rs"]
mod daemon;

use std::fs;
use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::*;
use daemon::{curl, Daemon};
use serde_json::Value;

const WRAPPER: &str = "openwrt-feed/luci/luci-app-lanwatch/root/usr/libexec/rpcd/luci.lanwatch";
const ACL: &str =
    "openwrt-feed/luci/luci-app-lanwatch/root/usr/share/rpcd/acl.d/luci-app-lanwatch.json";
const INSTALLED: &str = "/usr/sbin/lanwatch";

/// The longest any call may take: the backend's own bounds are 1 s to
/// connect and 2 s for the answer.
const PATIENCE: Duration = Duration::from_secs(5);

/// A router root in a temporary folder: /etc/config/lanwatch and the
/// wrapper, its `/usr/sbin/lanwatch` replaced by the binary under test.
struct Router(PathBuf);

impl Router {
    fn new(tag: &str, config: &str) -> Router {
        let dir = std::env::temp_dir().join(format!("lanwatch-rpcd-{tag}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(dir.join("etc/config")).unwrap();
        fs::write(dir.join("etc/config/lanwatch"), config).unwrap();
        let shipped = fs::read_to_string(root().join(WRAPPER)).unwrap();
        assert_eq!(shipped.matches(INSTALLED).count(), 1, "{shipped}");
        let wrapper = shipped.replace(INSTALLED, env!("CARGO_BIN_EXE_lanwatch"));
        fs::create_dir_all(dir.join("usr/libexec/rpcd")).unwrap();
        fs::write(dir.join("usr/libexec/rpcd/luci.lanwatch"), wrapper).unwrap();
        Router(dir)
    }

    fn config(&self) -> PathBuf {
        self.0.join("etc/config/lanwatch")
    }

    /// `busybox sh WRAPPER ARGS` with `stdin` written and closed, as rpcd
    /// does: the one JSON object it prints, and how long it took.
    fn rpcd(&self, args: &[&str], stdin: Option<&str>) -> (Value, Duration) {
        require_tool("busybox", "busybox-static");
        let started = Instant::now();
        let mut child = Command::new("busybox")
            .arg("sh")
            .arg(self.0.join("usr/libexec/rpcd/luci.lanwatch"))
            .args(args)
            .env("LANWATCH_CONFIG", self.config())
            .env(
                "LANWATCH_INTERFACES_DUMP",
                root().join("tests/openwrt/interfaces.json"),
            )
            .stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run busybox sh");
        if let Some(text) = stdin {
            let mut pipe = child.stdin.take().unwrap();
            pipe.write_all(text.as_bytes()).unwrap();
        }
        let deadline = started + Duration::from_secs(20);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("rpcd {args:?} hangs");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let took = started.elapsed();
        let out = child.wait_with_output().unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "rpcd {args:?}: {}\n{stdout}\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
        let value: Value = serde_json::from_str(&stdout)
            .unwrap_or_else(|e| panic!("rpcd {args:?} printed no JSON ({e}): {stdout:?}"));
        assert!(value.is_object(), "rpcd wants an object: {stdout}");
        (value, took)
    }

    fn call(&self, method: &str, arguments: &str) -> Value {
        let (value, took) = self.rpcd(&["call", method], Some(arguments));
        assert!(took < PATIENCE, "call {method} took {took:?}");
        value
    }

    /// The `error` of a call that must fail.
    fn error(&self, method: &str, arguments: &str) -> String {
        let value = self.call(method, arguments);
        value["error"]
            .as_str()
            .unwrap_or_else(|| panic!("call {method}: no error in {value}"))
            .to_string()
    }

    /// `lanwatch check-config --args` for this root's configuration.
    fn check_config_args(&self) -> Vec<String> {
        let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .arg("check-config")
            .arg(self.config())
            .arg("--args")
            .arg("--interfaces-dump")
            .arg(root().join("tests/openwrt/interfaces.json"))
            .args(["--sysfs", "/nonexistent"])
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .map(str::to_string)
            .collect()
    }
}

impl Drop for Router {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// A configuration serving on ADDR:PORT, captured on lan1 (no sysfs needed).
fn serving_on(address: &str, port: u16, extra: &str) -> String {
    format!(
        "config lanwatch 'main'\n\tlist interface 'lan1'\n\toption listen_address '{address}'\n\
         \toption listen_port '{port}'\n{extra}"
    )
}

fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// `call clients`, `call health` and `call client` give what the API gives.
fn assert_answers_like_the_api(router: &Router, daemon: &Daemon, login: Option<&str>) {
    let (status, body) = daemon.curl("/api/v1/clients", login);
    assert_eq!(status, 200, "{body}");
    let api = parse(&body);
    assert!(
        api["clients"].as_array().is_some_and(|c| !c.is_empty()),
        "{api}"
    );
    assert_eq!(router.call("clients", "{}"), api);
    // rpcd sends `{}` for a call without arguments; an empty stdin too.
    assert_eq!(router.call("clients", ""), api);

    let health = router.call("health", "{}");
    let (status, body) = daemon.curl("/api/v1/health", login);
    assert_eq!(status, 200);
    let keys = |v: &Value| v.as_object().unwrap().keys().cloned().collect::<Vec<_>>();
    assert_eq!(keys(&health), keys(&parse(&body)));

    let mac = api["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find_map(|c| c["mac"].as_str())
        .expect("a client with a MAC");
    let (status, body) = daemon.curl(&format!("/api/v1/clients/{mac}"), login);
    assert_eq!(status, 200);
    assert_eq!(
        router.call("client", &format!(r#"{{"mac": "{mac}"}}"#)),
        parse(&body)
    );
    // An unknown client: the API's own error object.
    let (status, body) = daemon.curl("/api/v1/clients/02:00:00:00:00:99", login);
    assert_eq!(status, 404);
    assert_eq!(
        router.call("client", r#"{"mac": "02:00:00:00:00:99"}"#),
        parse(&body)
    );
}

#[test]
fn the_shipped_wrapper_is_two_lines_of_sh_and_executable_in_git() {
    let text = fs::read_to_string(root().join(WRAPPER)).unwrap();
    assert_eq!(text, "#!/bin/sh\nexec /usr/sbin/lanwatch rpcd \"$@\"\n");
    let out = Command::new("git")
        .args(["ls-files", "-s", WRAPPER])
        .current_dir(root())
        .output()
        .unwrap();
    let entry = String::from_utf8_lossy(&out.stdout);
    assert!(
        entry.starts_with("100755 "),
        "git mode of {WRAPPER}: {entry:?}"
    );
    let status = Command::new("busybox")
        .args(["sh", "-n"])
        .arg(root().join(WRAPPER))
        .status()
        .unwrap();
    assert!(status.success());
}

#[test]
fn list_names_exactly_the_methods_the_acl_grants() {
    let router = Router::new("list", "config lanwatch 'main'\n");
    let (listed, _) = router.rpcd(&["list"], None);
    let mut methods: Vec<String> = listed.as_object().unwrap().keys().cloned().collect();
    methods.sort();
    for (name, signature) in listed.as_object().unwrap() {
        let signature = signature.as_object().unwrap_or_else(|| panic!("{name}"));
        for (arg, kind) in signature {
            assert_eq!(
                kind, "str",
                "{name}({arg}): rpcd reads a string for \"str\""
            );
        }
    }
    assert_eq!(listed["client"], serde_json::json!({"mac": "str"}));
    // What the LuCI views call.
    for used in ["clients", "health"] {
        assert!(listed[used] == serde_json::json!({}), "{used}: {listed}");
    }

    let acl = parse(&fs::read_to_string(root().join(ACL)).unwrap());
    let grant = &acl["luci-app-lanwatch"];
    let mut granted: Vec<String> = grant["read"]["ubus"]["luci.lanwatch"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect();
    granted.sort();
    assert_eq!(methods, granted);
    assert!(grant["write"].get("ubus").is_none(), "read-only methods");
}

#[test]
fn over_ipv4_the_calls_answer_with_the_api_s_json() {
    let daemon = Daemon::start("127.0.0.1:19601", &[]);
    let router = Router::new("ipv4", &serving_on("127.0.0.1", 19601, ""));
    assert_answers_like_the_api(&router, &daemon, None);
}

#[test]
fn over_ipv6_the_calls_answer_with_the_api_s_json() {
    let daemon = Daemon::start("[::1]:19602", &[]);
    let router = Router::new("ipv6", &serving_on("::1", 19602, ""));
    assert_answers_like_the_api(&router, &daemon, None);
}

#[test]
fn listen_interface_is_resolved_through_netifd() {
    // interfaces.json: network 'loopback' has 127.0.0.1.
    let daemon = Daemon::start("127.0.0.1:19603", &[]);
    let router = Router::new(
        "netifd",
        "config lanwatch 'main'\n\tlist interface 'lan1'\n\toption listen_interface 'loopback'\n\toption listen_port '19603'\n",
    );
    assert_answers_like_the_api(&router, &daemon, None);
}

#[test]
fn with_basic_auth_only_the_configured_login_gets_the_clients() {
    require_tool("htpasswd", "apache2-utils");
    let password = "correct horse";
    let out = Command::new("htpasswd")
        .args(["-nbB", "-C", "4", "prometheus", password])
        .output()
        .unwrap();
    assert!(out.status.success());
    let line = String::from_utf8_lossy(&out.stdout);
    let (user, hash) = line.trim().split_once(':').unwrap();
    let router = Router::new(
        "auth",
        &serving_on(
            "127.0.0.1",
            19604,
            &format!("\toption web_user 'prometheus'\n\toption web_password '{password}'\n"),
        ),
    );
    let web = router.0.join("web.yml");
    fs::write(&web, format!("basic_auth_users:\n  {user}: {hash}\n")).unwrap();
    // The daemon as the service starts it: the allow-list check-config
    // prints (the router itself), our web config.
    let args = router.check_config_args();
    let mut extra: Vec<&str> = args
        .windows(2)
        .filter(|w| w[0] == "--allow-scraper")
        .flat_map(|w| [w[0].as_str(), w[1].as_str()])
        .collect();
    assert!(!extra.is_empty(), "{args:?}");
    extra.extend(["--web-config", web.to_str().unwrap()]);
    let daemon = Daemon::start("127.0.0.1:19604", &extra);
    assert_eq!(daemon.curl("/api/v1/clients", None).0, 401);
    assert_answers_like_the_api(&router, &daemon, Some(&format!("prometheus:{password}")));

    let wrong = Router::new(
        "auth-wrong",
        &serving_on(
            "127.0.0.1",
            19604,
            "\toption web_user 'prometheus'\n\toption web_password 'correct horse!'\n",
        ),
    );
    let e = wrong.error("clients", "{}");
    assert!(e.contains("401") && e.contains("bad credentials"), "{e}");
    assert!(
        !e.contains("horse"),
        "the password stays out of errors: {e}"
    );
    let none = Router::new("auth-none", &serving_on("127.0.0.1", 19604, ""));
    let e = none.error("health", "{}");
    assert!(e.contains("401") && e.contains("asks for a login"), "{e}");
}

#[test]
fn a_daemon_that_is_not_running_is_an_error_at_once() {
    let router = Router::new("down", &serving_on("127.0.0.1", 19605, ""));
    let started = Instant::now();
    let e = router.error("clients", "{}");
    assert!(started.elapsed() < PATIENCE, "{:?}", started.elapsed());
    assert_eq!(
        e,
        "lanwatch is not running: connection refused at 127.0.0.1:19605 (logread -e lanwatch)"
    );
}

#[test]
fn a_daemon_that_never_answers_is_an_error_after_the_timeout() {
    // Connections complete in the kernel's backlog; nobody reads them.
    let _silent = std::net::TcpListener::bind("127.0.0.1:19606").unwrap();
    let router = Router::new("silent", &serving_on("127.0.0.1", 19606, ""));
    let started = Instant::now();
    let e = router.error("clients", "{}");
    let took = started.elapsed();
    assert!(took < PATIENCE, "{took:?}");
    assert!(
        took >= Duration::from_millis(1500),
        "waited for the answer: {took:?}"
    );
    assert_eq!(
        e,
        "lanwatch at 127.0.0.1:19606 is not answering: no answer within 2 s"
    );
}

#[test]
fn a_daemon_that_shuts_the_router_out_says_so() {
    let daemon = Daemon::start("127.0.0.1:19607", &["--allow-scraper", "10.0.0.0/8"]);
    let router = Router::new("shut-out", &serving_on("127.0.0.1", 19607, ""));
    let e = router.error("clients", "{}");
    assert!(e.contains("closed the connection without answering"), "{e}");
    drop(daemon);
}

#[test]
fn a_bad_configuration_names_its_file_and_line() {
    let router = Router::new(
        "bad-config",
        "config lanwatch 'main'\n\toption listen_port 'http'\n",
    );
    let e = router.error("clients", "{}");
    assert_eq!(
        e,
        format!(
            "bad configuration at {}:2: option 'listen_port': \"http\" is not a port from 1 to 65535",
            router.config().display()
        )
    );
    let router = Router::new(
        "wan",
        "config lanwatch 'main'\n\toption listen_interface 'wan'\n",
    );
    let e = router.error("health", "{}");
    assert!(
        e.contains(":2: option 'listen_interface': 'wan' is a WAN network"),
        "{e}"
    );
}

#[test]
fn client_needs_a_mac_or_ip_argument() {
    let router = Router::new("client-args", &serving_on("127.0.0.1", 19608, ""));
    for arguments in ["{}", "", r#"{"mac": 5}"#] {
        let e = router.error("client", arguments);
        assert!(e.starts_with("method client needs"), "{arguments}: {e}");
    }
    let e = router.error("client", r#"{"mac": "../health"}"#);
    assert!(e.contains("is neither a MAC address"), "{e}");
    let e = router.error("reboot", "{}");
    assert!(e.starts_with("unknown method \"reboot\""), "{e}");
    // The check comes first: nothing listens on 19608.
    let e = router.error("client", r#"{"mac": "aa:bb:cc:dd:ee:ff"}"#);
    assert!(e.contains("not running"), "{e}");
}

#[test]
fn curl_and_the_backend_agree_on_the_error_of_a_bad_key() {
    // The daemon, not the backend, answers for keys it accepts but lacks.
    let daemon = Daemon::start("127.0.0.1:19609", &[]);
    let router = Router::new("ip-key", &serving_on("127.0.0.1", 19609, ""));
    let (status, body) = curl("http://127.0.0.1:19609/api/v1/clients/10.99.99.99", None);
    assert_eq!(status, 404);
    assert_eq!(
        router.call("client", r#"{"mac": "10.99.99.99"}"#),
        parse(&body)
    );
    drop(daemon);
}
