//! A real lanwatch daemon for the OpenWrt tests: `lanwatch replay` of the
//! sample capture with `--listen`, which keeps serving the final state
//! after the replay, and curl to ask it things.

use std::fs;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A daemon serving the replayed sample; killed on drop.
pub struct Daemon {
    child: std::process::Child,
    log: PathBuf,
    pub listen: String,
}

impl Daemon {
    /// Replays samples/home-lan.pcap with `--listen LISTEN` and `extra`
    /// arguments, and returns once the replay is done and it serves.
    pub fn start(listen: &str, extra: &[&str]) -> Daemon {
        let log = std::env::temp_dir().join(format!(
            "lanwatch-daemon-{}-{}.log",
            listen.replace([':', '[', ']'], "_"),
            std::process::id()
        ));
        let child = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .arg("replay")
            .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("samples/home-lan.pcap"))
            .args(["--format", "json", "--listen", listen])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(fs::File::create(&log).expect("daemon log"))
            .spawn()
            .expect("start lanwatch replay");
        let daemon = Daemon {
            child,
            log,
            listen: listen.to_string(),
        };
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let text = fs::read_to_string(&daemon.log).unwrap_or_default();
            if text.contains("replay done") {
                return daemon;
            }
            assert!(
                Instant::now() < deadline,
                "lanwatch replay --listen {listen} did not finish: {text}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// `curl` of `path` on the daemon, with `user:password` if given:
    /// (HTTP status, body).
    pub fn curl(&self, path: &str, login: Option<&str>) -> (u16, String) {
        curl(&format!("http://{}{path}", self.listen), login)
    }
}

/// curl's HTTP status and body for `url`.
pub fn curl(url: &str, login: Option<&str>) -> (u16, String) {
    let mut command = Command::new("curl");
    command.args([
        "-sS",
        "--max-time",
        "10",
        "-w",
        "\n%{http_code}",
        "--globoff",
    ]);
    if let Some(login) = login {
        command.args(["-u", login]);
    }
    let out = command.arg(url).output().expect("run curl");
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    let (body, code) = text.rsplit_once('\n').unwrap_or(("", "0"));
    (code.trim().parse().unwrap_or(0), body.to_string())
}

impl Drop for Daemon {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = fs::remove_file(&self.log);
    }
}
