//! The report over weeks of history with known numbers: the test writes
//! 19 days of lanwatch series (five clients, 15-minute samples) as
//! OpenMetrics, backfills a TSDB with `promtool tsdb create-blocks-from
//! openmetrics`, starts Prometheus on it, and checks the daily, weekly and
//! monthly reports against sums of the increments it generated — per local
//! calendar day in the report's time zone (UTC+2 here, so days start at
//! 22:00 UTC and a report in UTC would get different numbers).
//!
//! The history holds the awkward cases: a device first seen on the report
//! day, one gone quiet, a client whose IP address changes mid-day (its
//! counters go on under the new `ip` label), a lanwatch restart (every
//! counter starts again from zero) and a client downloading ten times its
//! usual amount.
#![cfg(feature = "report")]

mod common;
mod monitoring_common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::process::Command;

use common::*;
use lanwatch::report::time::Date;
use monitoring_common::*;

/// UTC+2 without daylight saving, as a POSIX TZ string (no zone database).
const TZ: &str = "LWT-2";
const TZ_OFFSET: i64 = 7_200;
const STEP: i64 = 900;
const DAY: i64 = 86_400;

fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// Local midnight of `date` in a zone `offset` seconds east of UTC.
fn midnight(date: Date, offset: i64) -> i64 {
    date.days_since_epoch() * DAY - offset
}

/// The local date of `t` in that zone, for a sample at `t` (which belongs
/// to the day it falls in; none falls exactly on midnight).
fn local_date(t: i64, offset: i64) -> Date {
    Date::from_days_since_epoch((t + offset).div_euclid(DAY))
}

fn local_hour(t: i64, offset: i64) -> i64 {
    (t + offset).rem_euclid(DAY) / 3_600
}

/// Deterministic irregular numbers.
fn noise(seed: u64, k: i64) -> u64 {
    let mut x = seed ^ (k as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
    x ^= x >> 31;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x ^= x >> 29;
    x % 1_000
}

struct Client {
    mac: &'static str,
    hostname: &'static str,
    vendor: &'static str,
}

const LAPTOP: Client = Client {
    mac: "3c:a9:f4:18:62:a5",
    hostname: "work-laptop",
    vendor: "Intel",
};
const TV: Client = Client {
    mac: "a8:23:fe:4d:91:0e",
    hostname: "living-room-tv",
    vendor: "LG Electronics",
};
const PI: Client = Client {
    mac: "dc:a6:32:5b:0c:7f",
    hostname: "raspberrypi",
    vendor: "Raspberry Pi Trading",
};
const PHONE: Client = Client {
    mac: "8c:77:12:e0:5a:14",
    hostname: "Galaxy-S21",
    vendor: "Samsung",
};
const IPHONE: Client = Client {
    mac: "a6:5b:1f:7c:33:d2",
    hostname: "Lucas-iPhone",
    vendor: "",
};

/// What the test generates: OpenMetrics text, and every increment with
/// its time, client and meaning, to sum up per window.
struct History {
    openmetrics: String,
    /// (time, mac, what, labels value, increment); `what` is "rx"/"tx"
    /// bytes, "conn", "dns", "nx", "domain:<name>:<dir>".
    increments: Vec<(i64, &'static str, String, String, u64)>,
    /// (time, mac, unique domains gauge)
    unique_domains: Vec<(i64, &'static str, u64)>,
    ends: i64,
}

/// One series' samples: (time, value).
type Samples = Vec<(i64, u64)>;

/// Series being written: (family, type) → series labels → samples.
#[derive(Default)]
struct Writer {
    families: BTreeMap<(String, &'static str), BTreeMap<String, Samples>>,
}

/// A client's traffic in one step: (protocol, direction, bytes).
type Traffic = Vec<(&'static str, &'static str, u64)>;

impl Writer {
    fn sample(&mut self, family: &str, kind: &'static str, series: String, t: i64, v: u64) {
        self.families
            .entry((family.to_string(), kind))
            .or_default()
            .entry(series)
            .or_default()
            .push((t, v));
    }

    fn finish(self) -> String {
        let mut out = String::new();
        for ((family, kind), series) in self.families {
            let _ = writeln!(out, "# TYPE {family} {kind}");
            let name = if kind == "counter" {
                format!("{family}_total")
            } else {
                family.clone()
            };
            for (labels, samples) in series {
                for (t, v) in samples {
                    let _ = writeln!(out, "{name}{{{labels}}} {v} {t}");
                }
            }
        }
        out.push_str("# EOF\n");
        out
    }
}

fn generate() -> History {
    let start = midnight(d("2026-02-20"), TZ_OFFSET);
    let ends = midnight(d("2026-03-10"), TZ_OFFSET) + 12 * 3_600;
    let born = midnight(d("2026-03-09"), TZ_OFFSET) + 10 * 3_600;
    let readdressed = midnight(d("2026-03-09"), TZ_OFFSET) + 12 * 3_600;
    let restart = midnight(d("2026-03-09"), TZ_OFFSET) + 15 * 3_600;
    let pi_quiet = midnight(d("2026-03-06"), TZ_OFFSET);
    let big_day = d("2026-03-09");

    let mut w = Writer::default();
    let mut counters: BTreeMap<String, u64> = BTreeMap::new();
    let mut increments = Vec::new();
    let mut unique_domains = Vec::new();
    let base = |mac: &str, ip: &str| {
        format!("instance=\"router\",job=\"lanwatch\",ip=\"{ip}\",mac=\"{mac}\"")
    };

    let mut k = 0;
    loop {
        // Off the grid of midnights: samples at hh:07:30, hh:22:30, ...
        let t = start + 450 + k * STEP;
        if t > ends {
            break;
        }
        k += 1;
        let restarted_now = t > restart && t - STEP <= restart;
        if restarted_now {
            counters.clear();
        }
        w.sample(
            "lanwatch_build_info",
            "gauge",
            "instance=\"router\",job=\"lanwatch\",version=\"0.1.0\",arch=\"aarch64\",os=\"linux\""
                .into(),
            t,
            1,
        );
        let hour = local_hour(t, TZ_OFFSET);
        let day = local_date(t, TZ_OFFSET);
        let mut clients: Vec<(&Client, &str, Traffic)> = Vec::new();

        // The laptop: all day, every day; ten times the HTTPS on the big day.
        let boost = if day == big_day { 10 } else { 1 };
        clients.push((
            &LAPTOP,
            "192.168.1.104",
            vec![
                ("HTTPS", "rx", (200_000 + 100 * noise(1, k)) * boost),
                ("HTTPS", "tx", 20_000 + 10 * noise(2, k)),
                ("QUIC", "rx", 50_000 + 50 * noise(3, k)),
                ("QUIC", "tx", 3_000 + noise(4, k)),
            ],
        ));
        // The TV: streams from 20:00 to 21:00 local, idles otherwise.
        let streaming = hour == 20;
        clients.push((
            &TV,
            "192.168.1.102",
            vec![
                (
                    "HTTPS",
                    "rx",
                    if streaming {
                        30_000_000 + 1_000 * noise(5, k)
                    } else {
                        1_000 + noise(6, k)
                    },
                ),
                ("HTTPS", "tx", if streaming { 500_000 } else { 200 }),
            ],
        ));
        // The Pi: until the end of 5 March, then silent; gone after the restart.
        if t <= restart {
            let active = t < pi_quiet;
            clients.push((
                &PI,
                "192.168.1.103",
                vec![
                    ("HTTP", "rx", if active { 30_000 + noise(7, k) } else { 0 }),
                    ("DoT", "tx", if active { 2_000 + noise(8, k) } else { 0 }),
                ],
            ));
        }
        // The Galaxy: first seen on 9 March at 10:00.
        if t >= born {
            clients.push((
                &PHONE,
                "192.168.1.105",
                vec![("QUIC", "rx", 80_000 + noise(9, k)), ("QUIC", "tx", 5_000)],
            ));
        }
        // The iPhone: moves from .101 to .121 on 9 March at 12:00.
        let iphone_ip = if t >= readdressed {
            "192.168.1.121"
        } else {
            "192.168.1.101"
        };
        clients.push((
            &IPHONE,
            iphone_ip,
            vec![
                ("HTTPS", "rx", 40_000 + 10 * noise(10, k)),
                ("HTTPS", "tx", 4_000),
            ],
        ));

        for (client, ip, traffic) in &clients {
            let labels = base(client.mac, ip);
            let mut active = false;
            for &(protocol, direction, inc) in traffic {
                let key = format!("bw{}{protocol}{direction}", client.mac);
                let value = counters.entry(key).or_insert(0);
                *value += inc;
                w.sample(
                    "client_bandwidth_bytes",
                    "counter",
                    format!("{labels},protocol=\"{protocol}\",direction=\"{direction}\""),
                    t,
                    *value,
                );
                increments.push((
                    t,
                    client.mac,
                    direction.to_string(),
                    protocol.to_string(),
                    inc,
                ));
                active |= inc > 0;
                // A connection for every 100 kB downloaded.
                if direction == "rx" {
                    let conns = inc / 100_000;
                    let key = format!("conn{}{protocol}", client.mac);
                    let value = counters.entry(key).or_insert(0);
                    *value += conns;
                    w.sample(
                        "client_connections",
                        "counter",
                        format!("{labels},protocol=\"{protocol}\""),
                        t,
                        *value,
                    );
                    increments.push((t, client.mac, "conn".into(), protocol.to_string(), conns));
                }
            }
            let info = format!(
                "{labels},hostname=\"{}\",vendor=\"{}\",randomized_mac=\"false\"",
                client.hostname, client.vendor
            );
            w.sample("client_info", "gauge", info, t, 1);
            let key = format!("seen{}", client.mac);
            let seen = counters.entry(key).or_insert(t as u64);
            if active {
                *seen = t as u64;
            }
            w.sample(
                "client_last_seen_timestamp_seconds",
                "gauge",
                labels.clone(),
                t,
                *seen,
            );
        }

        // DNS for the laptop and the TV.
        for (client, ip, seed) in [(&LAPTOP, "192.168.1.104", 20), (&TV, "192.168.1.102", 30)] {
            let labels = base(client.mac, ip);
            for (query_type, n) in [
                ("A", noise(seed, k) % 20),
                ("AAAA", noise(seed + 1, k) % 10),
            ] {
                let key = format!("dns{}{query_type}", client.mac);
                let value = counters.entry(key).or_insert(0);
                *value += n;
                w.sample(
                    "client_dns_queries",
                    "counter",
                    format!("{labels},query_type=\"{query_type}\""),
                    t,
                    *value,
                );
                increments.push((t, client.mac, "dns".into(), query_type.into(), n));
            }
            for (rcode, n) in [
                ("NXDOMAIN", noise(seed + 2, k) % 3),
                ("NOERROR", noise(seed + 3, k) % 25),
            ] {
                let key = format!("rc{}{rcode}", client.mac);
                let value = counters.entry(key).or_insert(0);
                *value += n;
                w.sample(
                    "client_dns_responses",
                    "counter",
                    format!("{labels},rcode=\"{rcode}\""),
                    t,
                    *value,
                );
                if rcode == "NXDOMAIN" {
                    increments.push((t, client.mac, "nx".into(), String::new(), n));
                }
            }
            let domain = if client.mac == TV.mac {
                "nflxvideo.net"
            } else {
                "github.com"
            };
            let n = 1_000 * noise(seed + 4, k);
            let key = format!("dom{}", client.mac);
            let value = counters.entry(key).or_insert(0);
            *value += n;
            w.sample(
                "client_domain_bytes",
                "counter",
                format!("{labels},domain=\"{domain}\",direction=\"rx\""),
                t,
                *value,
            );
            increments.push((t, client.mac, format!("domain:{domain}"), String::new(), n));
            let unique = 30 + noise(seed + 5, k) % 50;
            w.sample(
                "client_dns_unique_domains",
                "gauge",
                labels.clone(),
                t,
                unique,
            );
            unique_domains.push((t, client.mac, unique));
        }
    }
    History {
        openmetrics: w.finish(),
        increments,
        unique_domains,
        ends,
    }
}

impl History {
    /// Sum of the increments of `what` (and, if given, the detail) for
    /// `mac` (or everyone) over the local days [first, last].
    fn sum(
        &self,
        mac: Option<&str>,
        what: &str,
        detail: Option<&str>,
        first: Date,
        last: Date,
        offset: i64,
    ) -> u64 {
        let (from, to) = (midnight(first, offset), midnight(last.add_days(1), offset));
        self.increments
            .iter()
            .filter(|(t, m, w, dt, _)| {
                *t > from
                    && *t <= to
                    && mac.map_or(true, |mac| mac == *m)
                    && w == what
                    && detail.map_or(true, |x| x == dt)
            })
            .map(|i| i.4)
            .sum()
    }
}

fn figure(v: &serde_json::Value) -> u64 {
    let f = v.as_f64().unwrap_or(f64::NAN);
    assert!(f.fract() == 0.0, "a whole number of bytes: {f}");
    f as u64
}

fn client<'a>(doc: &'a serde_json::Value, mac: &str) -> &'a serde_json::Value {
    doc["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == mac)
        .unwrap_or_else(|| panic!("{mac} in the report"))
}

fn run_report(prometheus: &PromServer, tz: &str, args: &[&str]) -> serde_json::Value {
    let url = prometheus.url();
    let mut all = vec!["--prometheus", url.as_str(), "--format", "json"];
    all.extend_from_slice(args);
    let (ok, out, err) = report(tz, &all);
    assert!(ok, "lanwatch report {args:?} failed: {err}");
    serde_json::from_str(&out).expect("JSON report")
}

#[test]
fn reports_over_backfilled_history_add_up_per_local_day_week_and_month() {
    require_tool("promtool", "prometheus");
    let history = generate();
    let scratch = Scratch::new("report-history");
    let input = scratch.path("history.om");
    std::fs::write(&input, &history.openmetrics).unwrap();
    let data = scratch.path("data");
    let out = Command::new("promtool")
        .args(["tsdb", "create-blocks-from", "openmetrics", "--quiet"])
        .arg(&input)
        .arg(&data)
        .output()
        .expect("run promtool");
    assert!(
        out.status.success(),
        "promtool tsdb create-blocks-from openmetrics: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::write(
        scratch.path("prometheus.yml"),
        "global:\n  scrape_interval: 1m\n",
    )
    .unwrap();
    let prometheus = PromServer::start(
        &scratch.path("prometheus.yml"),
        &data,
        &["--storage.tsdb.retention.time=10y"],
    );
    crate::common::wait_for("the backfilled blocks to load", 60, || {
        let r = prometheus.query(&format!(
            "count(last_over_time(client_info[1h] @ {}))",
            history.ends
        ));
        (!r.is_empty()).then_some(())
    });

    let all_macs = [LAPTOP.mac, TV.mac, PI.mac, PHONE.mac, IPHONE.mac];
    let day = d("2026-03-09");

    // --- The day of everything: 9 March ---------------------------------
    let doc = run_report(&prometheus, TZ, &["--date", "2026-03-09"]);
    for mac in all_macs {
        let c = client(&doc, mac);
        for (field, what) in [
            ("download_bytes", "rx"),
            ("upload_bytes", "tx"),
            ("connections", "conn"),
            ("dns_queries", "dns"),
            ("nxdomain", "nx"),
        ] {
            assert_eq!(
                figure(&c[field]),
                history.sum(Some(mac), what, None, day, day, TZ_OFFSET),
                "{mac} {field} on {day}"
            );
        }
    }
    for protocol in ["HTTPS", "QUIC", "HTTP", "DoT"] {
        let p = doc["protocols"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["protocol"] == protocol)
            .unwrap_or_else(|| panic!("{protocol}"));
        assert_eq!(
            figure(&p["download_bytes"]),
            history.sum(None, "rx", Some(protocol), day, day, TZ_OFFSET),
            "{protocol} rx"
        );
        assert_eq!(
            figure(&p["upload_bytes"]),
            history.sum(None, "tx", Some(protocol), day, day, TZ_OFFSET),
            "{protocol} tx"
        );
    }
    assert_eq!(
        figure(&doc["summary"]["download_bytes"]),
        history.sum(None, "rx", None, day, day, TZ_OFFSET)
    );
    assert_eq!(
        figure(&doc["summary"]["dns_queries"]),
        history.sum(None, "dns", None, day, day, TZ_OFFSET)
    );
    assert_eq!(
        doc["summary"]["active_clients"], 4,
        "laptop, TV, Galaxy, iPhone (the Pi is quiet)"
    );
    let github = doc["dns"]["top_domains"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["domain"] == "github.com")
        .expect("github.com among the domains");
    assert_eq!(
        figure(&github["download_bytes"]),
        history.sum(None, "domain:github.com", None, day, day, TZ_OFFSET)
    );
    let most_unique = history
        .unique_domains
        .iter()
        .filter(|(t, m, _)| *m == LAPTOP.mac && local_date(*t, TZ_OFFSET) == day)
        .map(|u| u.2)
        .max()
        .unwrap();
    assert_eq!(
        figure(&client(&doc, LAPTOP.mac)["unique_domains"]),
        most_unique
    );

    // Identity: hostnames, and the iPhone's newest address.
    assert_eq!(client(&doc, IPHONE.mac)["name"], "Lucas-iPhone");
    assert_eq!(client(&doc, IPHONE.mac)["ip"], "192.168.1.121");
    assert_eq!(client(&doc, LAPTOP.mac)["vendor"], "Intel");

    // New, quiet, changed.
    assert_eq!(doc["new_clients"], serde_json::json!([PHONE.mac]));
    let quiet: Vec<&str> = doc["gone_quiet"]
        .as_array()
        .unwrap()
        .iter()
        .map(|q| q["key"].as_str().unwrap())
        .collect();
    assert_eq!(quiet, [PI.mac]);
    let week_before = (day.add_days(-7), day.add_days(-1));
    let pi_before = history.sum(
        Some(PI.mac),
        "rx",
        None,
        week_before.0,
        week_before.1,
        TZ_OFFSET,
    ) as f64
        / 7.0;
    let reported = doc["gone_quiet"][0]["download_bytes_before"]
        .as_f64()
        .unwrap();
    assert!(
        (reported - pi_before).abs() < 1e-6,
        "the Pi's daily average before: {reported} vs {pi_before}"
    );
    let all_before =
        history.sum(None, "rx", None, week_before.0, week_before.1, TZ_OFFSET) as f64 / 7.0;
    let reported = doc["comparison"]["download_bytes_before"].as_f64().unwrap();
    assert!(
        (reported - all_before).abs() < 1e-6,
        "daily average of the 7 days before: {reported} vs {all_before}"
    );
    let changes: Vec<(&str, &str)> = doc["comparison"]["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["key"].as_str().unwrap(), c["what"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [(LAPTOP.mac, "download")],
        "only the laptop's tenfold download is notable"
    );

    // --- An ordinary day, in this zone and in UTC --------------------------
    let plain = d("2026-03-04");
    for (tz, offset) in [(TZ, TZ_OFFSET), ("UTC0", 0)] {
        let doc = run_report(&prometheus, tz, &["--date", "2026-03-04"]);
        for mac in [LAPTOP.mac, TV.mac, PI.mac, IPHONE.mac] {
            let c = client(&doc, mac);
            assert_eq!(
                figure(&c["download_bytes"]),
                history.sum(Some(mac), "rx", None, plain, plain, offset),
                "{mac} on {plain} in {tz}"
            );
        }
        assert_eq!(doc["new_clients"], serde_json::json!([]));
    }
    assert_ne!(
        history.sum(Some(LAPTOP.mac), "rx", None, plain, plain, TZ_OFFSET),
        history.sum(Some(LAPTOP.mac), "rx", None, plain, plain, 0),
        "the zone matters for this day's figures"
    );

    // --- The week ending 8 March: seven days, and when the TV is busy -------
    let doc = run_report(
        &prometheus,
        TZ,
        &["--date", "2026-03-08", "--period", "week"],
    );
    let (first, last) = (d("2026-03-02"), d("2026-03-08"));
    for mac in [LAPTOP.mac, TV.mac, PI.mac, IPHONE.mac] {
        let c = client(&doc, mac);
        assert_eq!(
            figure(&c["download_bytes"]),
            history.sum(Some(mac), "rx", None, first, last, TZ_OFFSET),
            "{mac} in the week"
        );
        assert_eq!(
            figure(&c["upload_bytes"]),
            history.sum(Some(mac), "tx", None, first, last, TZ_OFFSET),
            "{mac} in the week"
        );
    }
    let before = history.sum(
        None,
        "rx",
        None,
        d("2026-02-23"),
        d("2026-03-01"),
        TZ_OFFSET,
    ) as f64;
    assert!((doc["comparison"]["download_bytes_before"].as_f64().unwrap() - before).abs() < 1e-6);
    let tv = doc["peak_hours"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["key"] == TV.mac)
        .expect("the TV's hours");
    assert_eq!(tv["peak_hour"], 20, "the TV streams from 20:00 local");

    // --- March against February ---------------------------------------------
    let doc = run_report(
        &prometheus,
        TZ,
        &["--date", "2026-03-15", "--period", "month"],
    );
    assert_eq!(doc["title"], "March 2026");
    let (march, end) = (d("2026-03-01"), d("2026-03-31"));
    assert_eq!(
        figure(&doc["summary"]["download_bytes"]),
        history.sum(None, "rx", None, march, end, TZ_OFFSET)
    );
    assert_eq!(
        figure(&doc["summary"]["upload_bytes"]),
        history.sum(None, "tx", None, march, end, TZ_OFFSET)
    );
    let february = history.sum(
        None,
        "rx",
        None,
        d("2026-02-01"),
        d("2026-02-28"),
        TZ_OFFSET,
    ) as f64;
    assert!(february > 0.0);
    assert!((doc["comparison"]["download_bytes_before"].as_f64().unwrap() - february).abs() < 1e-6);
    assert_eq!(
        doc["comparison"]["label"],
        "the previous month (February 2026)"
    );

    // --- The Markdown files ----------------------------------------------
    let dir = scratch.path("reports");
    let dir_arg = dir.to_str().unwrap().to_string();
    let url = prometheus.url();
    for (args, file) in [
        (
            vec!["--date", "2026-03-09"],
            "client-activity-2026-03-09.md",
        ),
        (
            vec!["--date", "2026-03-08", "--period", "week"],
            "client-activity-week-2026-03-08.md",
        ),
        (
            vec!["--date", "2026-03-15", "--period", "month"],
            "client-activity-2026-03.md",
        ),
    ] {
        let mut all = vec!["--prometheus", url.as_str(), "--out", dir_arg.as_str()];
        all.extend(args);
        let (ok, _, err) = report(TZ, &all);
        assert!(ok, "{all:?}: {err}");
        assert!(dir.join(file).exists(), "{file} written");
    }
    let md = std::fs::read_to_string(dir.join("client-activity-2026-03-09.md")).unwrap();
    let section = |name: &str| -> String {
        let start = md
            .find(&format!("## {name}"))
            .unwrap_or_else(|| panic!("## {name}"));
        let rest = &md[start + 3..];
        rest[..rest.find("\n## ").unwrap_or(rest.len())].to_string()
    };
    assert!(section("Devices first seen")
        .contains("| Galaxy-S21 | 192.168.1.105 | 8c:77:12:e0:5a:14 | Samsung |"));
    assert!(section("Devices gone quiet").contains("| raspberrypi |"));
    assert!(section("Changes against").contains("| work-laptop | download |"));
    let laptop_rx = history.sum(Some(LAPTOP.mac), "rx", None, day, day, TZ_OFFSET);
    assert!(
        section("Top downloaders").contains(&format!(
            "| 1 | work-laptop | 192.168.1.104 | {} |",
            human_bytes(laptop_rx)
        )),
        "{}",
        section("Top downloaders")
    );
    assert!(section("DNS").contains("| github.com |"));
    let weekly = std::fs::read_to_string(dir.join("client-activity-week-2026-03-08.md")).unwrap();
    assert!(
        weekly.contains("| living-room-tv | 20:00–21:00 |"),
        "{weekly}"
    );

    // --- No data --------------------------------------------------------------
    let (ok, _, err) = report(TZ, &["--prometheus", &url, "--date", "2026-01-15"]);
    assert!(!ok);
    assert!(err.contains("has no lanwatch data for 2026-01-15"), "{err}");
}
