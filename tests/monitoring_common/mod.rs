//! Helpers of the monitoring-host tests: a real Prometheus (Debian's) in a
//! scratch directory, a `lanwatch replay --listen` for it to scrape, and
//! PromQL over the HTTP API. Used beside `common` (`mod common; mod
//! monitoring_common;` in the test file).
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::common::{free_port, http_get, require_tool, url_encode, wait_for, ChildGuard};

/// A scratch directory removed when dropped.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(name: &str) -> Scratch {
        let dir = std::env::temp_dir().join(format!("lanwatch-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create a scratch directory");
        Scratch(dir)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.0.join(rel)
    }
}

impl Drop for Scratch {
    /// Removes the directory, unless LANWATCH_KEEP_SCRATCH is set (to look
    /// at a failed test's Prometheus log and data).
    fn drop(&mut self) {
        if std::env::var_os("LANWATCH_KEEP_SCRATCH").is_some() {
            eprintln!("keeping {}", self.0.display());
            return;
        }
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// `lanwatch replay FILE --listen ADDR` serving the final state; returns
/// the process and its address once /metrics answers.
pub fn serve_replay(capture: &Path, extra: &[&str]) -> (ChildGuard, String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let child = ChildGuard(Some(
        Command::new(env!("CARGO_BIN_EXE_lanwatch"))
            .args(["replay", "--format", "prometheus", "--listen", &addr])
            .args(extra)
            .arg(capture)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start lanwatch replay"),
    ));
    wait_for("lanwatch to serve /metrics", 30, || {
        http_get(&addr, "/metrics").ok().filter(|(s, _)| *s == 200)
    });
    (child, addr)
}

/// A running Prometheus.
pub struct PromServer {
    pub child: ChildGuard,
    pub addr: String,
}

impl PromServer {
    /// Starts Prometheus with `config` (a file) and its TSDB at `data`.
    pub fn start(config: &Path, data: &Path, extra: &[&str]) -> PromServer {
        require_tool("prometheus", "prometheus");
        let addr = format!("127.0.0.1:{}", free_port());
        let log = std::fs::File::create(data.with_extension("log")).expect("a log file");
        let child = ChildGuard(Some(
            Command::new("prometheus")
                .arg(format!("--config.file={}", config.display()))
                .arg(format!("--storage.tsdb.path={}", data.display()))
                .arg(format!("--web.listen-address={addr}"))
                .args(extra)
                .stdout(Stdio::null())
                .stderr(log)
                .spawn()
                .expect("start prometheus"),
        ));
        let server = PromServer { child, addr };
        wait_for("Prometheus to answer", 60, || {
            http_get(&server.addr, "/-/ready")
                .ok()
                .filter(|(s, _)| *s == 200)
        });
        server
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// An instant query; the whole JSON answer (status may be "error").
    pub fn query_doc(&self, query: &str) -> Value {
        let (_, body) = http_get(
            &self.addr,
            &format!("/api/v1/query?query={}", url_encode(query)),
        )
        .expect("Prometheus answers");
        serde_json::from_str(&body).expect("Prometheus answers JSON")
    }

    /// An instant query's result list, panicking with Prometheus's error.
    pub fn query(&self, query: &str) -> Vec<Value> {
        let doc = self.query_doc(query);
        assert_eq!(
            doc["status"], "success",
            "query {query:?} failed: {}",
            doc["error"]
        );
        doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default()
    }

    /// GET an API path's `data`.
    pub fn api(&self, path: &str) -> Value {
        let (status, body) = http_get(&self.addr, path).expect("Prometheus answers");
        assert_eq!(status, 200, "{path}: {body}");
        let doc: Value = serde_json::from_str(&body).expect("JSON");
        doc["data"].clone()
    }
}

/// A scrape config for one lanwatch target, scraped every second.
pub fn simple_config(target: &str) -> String {
    format!(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n\
         scrape_configs:\n  - job_name: lanwatch\n    static_configs:\n      - targets: ['{target}']\n"
    )
}

/// Waits until Prometheus has at least `n` scrapes of the lanwatch job.
pub fn wait_for_scrapes(prometheus: &PromServer, n: u32) {
    wait_for(&format!("{n} scrapes of lanwatch"), 90, || {
        let result = prometheus.query("count_over_time(up{job=\"lanwatch\"}[5m])");
        let count: f64 = result
            .first()?
            .get("value")?
            .get(1)?
            .as_str()?
            .parse()
            .ok()?;
        (count >= f64::from(n)).then_some(())
    });
}

/// The value of a vector element.
pub fn value(sample: &Value) -> f64 {
    sample["value"][1]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(f64::NAN)
}

/// Runs `lanwatch report ARGS` with `TZ`; returns (success, stdout, stderr).
pub fn report(tz: &str, args: &[&str]) -> (bool, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lanwatch"))
        .arg("report")
        .args(args)
        .env("TZ", tz)
        .output()
        .expect("run lanwatch report");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Bytes in binary units with one decimal, as a reader of the report sees
/// them (written here from the definition, not taken from lanwatch).
pub fn human_bytes(n: u64) -> String {
    if n < 1024 {
        return format!("{n} B");
    }
    let units = ["KiB", "MiB", "GiB", "TiB"];
    let mut v = n as f64 / 1024.0;
    let mut i = 0;
    while v >= 1024.0 && i + 1 < units.len() {
        v /= 1024.0;
        i += 1;
    }
    format!("{v:.1} {}", units[i])
}
