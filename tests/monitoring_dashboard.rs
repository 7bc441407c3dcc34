//! The Grafana dashboard and the recording rules against a real Prometheus.
//!
//! Grafana itself is not needed: the dashboard JSON is checked for the
//! structure Grafana relies on (a datasource variable everywhere, no fixed
//! datasource uid, the instance and client variables, `$__rate_interval` in
//! rates, hostnames in legends), and every panel's PromQL runs against
//! Debian's Prometheus — loaded with the repository's prometheus.yml and rule
//! files — scraping `lanwatch replay samples/home-lan.pcap --listen`. Every
//! query must parse; every query must return series (but those the sample cannot fill), and per-client
//! ones exactly the sample's clients (by MAC, as the independent model counts
//! them).

mod common;
mod monitoring_common;

use std::collections::BTreeSet;

use serde_json::Value;

use common::*;
use monitoring_common::*;

fn dashboard() -> Value {
    let path = repo_file("deploy/grafana/dashboards/lanwatch.json");
    let text = std::fs::read_to_string(&path).unwrap();
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// Every panel, rows' nested panels included.
fn panels(dashboard: &Value) -> Vec<Value> {
    fn walk(list: &Value, out: &mut Vec<Value>) {
        for p in list.as_array().into_iter().flatten() {
            out.push(p.clone());
            walk(&p["panels"], out);
        }
    }
    let mut out = Vec::new();
    walk(&dashboard["panels"], &mut out);
    out
}

/// (panel title, target) for every query of every panel.
fn targets(dashboard: &Value) -> Vec<(String, Value)> {
    panels(dashboard)
        .into_iter()
        .filter(|p| p["type"] != "row")
        .flat_map(|p| {
            let title = p["title"].as_str().unwrap_or("?").to_string();
            p["targets"]
                .as_array()
                .cloned()
                .unwrap_or_default()
                .into_iter()
                .map(move |t| (title.clone(), t))
        })
        .collect()
}

fn variable<'a>(dashboard: &'a Value, name: &str) -> &'a Value {
    dashboard["templating"]["list"]
        .as_array()
        .unwrap()
        .iter()
        .find(|v| v["name"] == name)
        .unwrap_or_else(|| panic!("variable {name}"))
}

/// Every value of every `uid` key anywhere in the document.
fn uids(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                if k == "uid" {
                    out.push(v.as_str().unwrap_or("").to_string());
                }
                uids(v, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| uids(v, out)),
        _ => {}
    }
}

#[test]
fn every_panel_uses_the_datasource_variable_and_no_fixed_uid() {
    let d = dashboard();
    let ds = variable(&d, "datasource");
    assert_eq!(ds["type"], "datasource");
    assert_eq!(ds["query"], "prometheus");
    for p in panels(&d).iter().filter(|p| p["type"] != "row") {
        assert_eq!(
            p["datasource"]["uid"], "${datasource}",
            "panel {}",
            p["title"]
        );
        assert_eq!(
            p["datasource"]["type"], "prometheus",
            "panel {}",
            p["title"]
        );
        let targets = p["targets"].as_array().expect("targets");
        assert!(!targets.is_empty(), "panel {} has no query", p["title"]);
        for t in targets {
            assert_eq!(
                t["datasource"]["uid"], "${datasource}",
                "a target of {}",
                p["title"]
            );
            assert!(
                t["expr"].as_str().is_some_and(|e| !e.is_empty()),
                "{}",
                p["title"]
            );
        }
    }
    let mut all = Vec::new();
    uids(&d, &mut all);
    let fixed: Vec<&String> = all
        .iter()
        .filter(|u| *u != "${datasource}" && *u != "-- Grafana --")
        .filter(|u| **u != d["uid"].as_str().unwrap_or(""))
        .collect();
    assert!(fixed.is_empty(), "hard-coded uids: {fixed:?}");
    for name in ["instance", "client"] {
        let v = variable(&d, name);
        assert_eq!(v["type"], "query");
        assert_eq!(v["datasource"]["uid"], "${datasource}", "variable {name}");
        assert_eq!(v["multi"], true);
        assert_eq!(v["includeAll"], true);
    }
    let ids: Vec<u64> = panels(&d).iter().filter_map(|p| p["id"].as_u64()).collect();
    let unique: BTreeSet<u64> = ids.iter().copied().collect();
    assert_eq!(ids.len(), unique.len(), "panel ids are unique");
}

#[test]
fn rates_use_the_rate_interval_and_per_client_legends_show_hostnames() {
    for (title, t) in targets(&dashboard()) {
        let expr = t["expr"].as_str().unwrap();
        let mut rest = expr;
        while let Some(i) = rest.find("rate(") {
            rest = &rest[i + 5..];
            let range = &rest[rest.find('[').expect("a range")..];
            assert!(
                range.starts_with("[$__rate_interval]"),
                "{title}: rate over {range:.24} in {expr}"
            );
        }
        if expr.contains("group_left (name)") && t["format"] != "table" {
            let legend = t["legendFormat"].as_str().unwrap_or("");
            assert!(
                legend.contains("{{name}}"),
                "{title}: legend {legend:?} for {expr}"
            );
        }
        if expr.contains("client_") {
            assert!(
                expr.contains("instance=~\"$instance\""),
                "{title} follows $instance: {expr}"
            );
        }
    }
}

#[test]
fn the_dashboard_has_the_panels_people_look_for() {
    let d = dashboard();
    let titles: BTreeSet<String> = panels(&d)
        .iter()
        .filter_map(|p| p["title"].as_str().map(str::to_string))
        .collect();
    for wanted in [
        "Top 10 clients by download",
        "Top 10 clients by upload",
        "Bandwidth of the top 5 clients",
        "Protocol distribution",
        "Top DNS query clients",
        "Unique domains per client",
        "Client activity",
        "Active connections per client",
        "DNS queries by type",
        "Client $client",
    ] {
        assert!(titles.contains(wanted), "no panel {wanted:?} in {titles:?}");
    }
    let drill = panels(&d)
        .into_iter()
        .find(|p| p["title"] == "Client $client")
        .unwrap();
    assert_eq!(drill["type"], "row");
    assert_eq!(
        drill["repeat"], "client",
        "one drill-down row per selected client"
    );
    assert!(drill["panels"].as_array().is_some_and(|p| p.len() >= 4));
    let table = panels(&d)
        .into_iter()
        .find(|p| p["title"] == "Client activity")
        .unwrap();
    let renamed = &table["transformations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["id"] == "organize")
        .unwrap()["options"]["renameByName"];
    let columns: BTreeSet<&str> = renamed
        .as_object()
        .unwrap()
        .values()
        .filter_map(Value::as_str)
        .collect();
    for column in [
        "Hostname",
        "IP",
        "MAC",
        "Vendor",
        "Down",
        "Up",
        "Connections",
        "DNS queries",
        "Last seen",
    ] {
        assert!(
            columns.contains(column),
            "client table column {column}: {columns:?}"
        );
    }
}

/// Query types are parts of one whole (all the queries per interval): the
/// panels that show them draw stacked bars, the way Grafana's time-series
/// panel draws them (bars, normal stacking, solid fill), not lines.
#[test]
fn dns_queries_by_type_are_stacked_bars() {
    let d = dashboard();
    let by_type: Vec<Value> = panels(&d)
        .into_iter()
        .filter(|p| p["title"] == "DNS queries by type")
        .collect();
    assert_eq!(
        by_type.len(),
        2,
        "the overview's panel and the drill-down's"
    );
    for panel in by_type {
        let custom = &panel["fieldConfig"]["defaults"]["custom"];
        assert_eq!(panel["type"], "timeseries", "{panel}");
        assert_eq!(custom["drawStyle"], "bars", "{custom}");
        assert_eq!(custom["stacking"]["mode"], "normal", "{custom}");
        assert_eq!(custom["fillOpacity"], 100, "{custom}");
        // Each bar is one series' rate: the query splits by query_type.
        let expr = panel["targets"][0]["expr"].as_str().unwrap_or("");
        assert!(expr.contains("by (query_type)"), "{expr}");
    }
}

/// The PromQL of a variable query: `label_values(EXPR, label)` or
/// `query_result(EXPR)`.
fn variable_expr(definition: &str) -> String {
    if let Some(inner) = definition.strip_prefix("label_values(") {
        let inner = inner.strip_suffix(')').unwrap();
        let (expr, _label) = inner.rsplit_once(',').unwrap();
        expr.trim().to_string()
    } else if let Some(inner) = definition.strip_prefix("query_result(") {
        inner.strip_suffix(')').unwrap().to_string()
    } else {
        panic!("unknown variable query {definition}")
    }
}

/// Grafana's substitutions, as the server would make them for "All".
fn substitute(expr: &str) -> String {
    expr.replace("$instance", ".*")
        .replace("$client", ".*")
        .replace("$__rate_interval", "10s")
        .replace("$__range", "1h")
        .replace("$__interval", "10s")
}

/// Queries that legitimately return nothing for the sample: it has no
/// NXDOMAIN answers and no queries to resolvers outside the LAN.
fn empty_for_the_sample(expr: &str) -> bool {
    expr.contains("NXDOMAIN") || expr.contains("other_resolver")
}

/// Rewrites the repository's prometheus.yml for a test: the target, 1 s
/// scrapes and evaluations, the rules from `rules_dir`.
fn test_config(target: &str, rules_dir: &std::path::Path) -> String {
    let original = std::fs::read_to_string(repo_file("deploy/prometheus/prometheus.yml")).unwrap();
    let mut config = original.clone();
    for (from, to) in [
        ("192.168.1.1:19477", target.to_string()),
        ("scrape_interval: 30s", "scrape_interval: 1s".to_string()),
        ("scrape_timeout: 25s", "scrape_timeout: 1s".to_string()),
        (
            "evaluation_interval: 1m",
            "evaluation_interval: 1s".to_string(),
        ),
        ("- rules/*.yml", format!("- {}/*.yml", rules_dir.display())),
    ] {
        assert!(
            config.contains(from),
            "prometheus.yml no longer has {from:?}"
        );
        config = config.replace(from, &to);
    }
    config
}

#[test]
fn every_dashboard_and_recording_rule_query_works_on_a_real_prometheus() {
    let sample = repo_file("samples/home-lan.pcap");
    let model = theirs(&expected_json(std::slice::from_ref(&sample), &[]));
    let clients: BTreeSet<String> = model
        .iter()
        .filter(|(_, c)| c.protocols.values().any(|p| p[0] + p[1] > 0))
        .map(|(mac, _)| mac.clone())
        .collect();
    assert!(clients.len() >= 6, "the sample's clients: {clients:?}");
    // Clients that resolved names over plain DNS (per the model).
    let dns_clients: BTreeSet<String> = model
        .iter()
        .filter(|(_, c)| !c.dns_queries.is_empty())
        .map(|(mac, _)| mac.clone())
        .collect();

    let scratch = Scratch::new("dashboard");
    // The repository's rules, evaluated every second instead of every
    // minute or hour so the test does not wait for them.
    let rules_dir = scratch.path("rules");
    std::fs::create_dir_all(&rules_dir).unwrap();
    for entry in std::fs::read_dir(repo_file("deploy/prometheus/rules")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        let fast = text
            .replace("interval: 1m", "interval: 1s")
            .replace("interval: 5m", "interval: 1s")
            .replace("interval: 1h", "interval: 1s");
        std::fs::write(rules_dir.join(path.file_name().unwrap()), fast).unwrap();
    }
    let (mut lanwatch, target) = serve_replay(&sample, &[]);
    std::fs::write(
        scratch.path("prometheus.yml"),
        test_config(&target, &rules_dir),
    )
    .unwrap();
    let prometheus = PromServer::start(&scratch.path("prometheus.yml"), &scratch.path("data"), &[]);
    wait_for_scrapes(&prometheus, 4);
    wait_for("the recording rules to produce every client", 60, || {
        let named = prometheus.query("instance_mac:client_info:named");
        let baseline = prometheus.query("instance_mac:client_download_bytes:rate1h_p95_14d");
        (named.len() == clients.len() && baseline.len() == clients.len()).then_some(())
    });

    let macs = |result: &[Value]| -> BTreeSet<String> {
        result
            .iter()
            .filter_map(|s| s["metric"]["mac"].as_str().map(str::to_string))
            .collect()
    };

    // The rules as Prometheus loaded them.
    let groups = prometheus.api("/api/v1/rules");
    let mut recordings = 0;
    let mut alerts = 0;
    for group in groups["groups"].as_array().unwrap() {
        for rule in group["rules"].as_array().unwrap() {
            let name = rule["name"].as_str().unwrap();
            let query = rule["query"].as_str().unwrap();
            assert_eq!(rule["health"], "ok", "{name}: {}", rule["lastError"]);
            let result = prometheus.query(query);
            match rule["type"].as_str() {
                Some("recording") => {
                    recordings += 1;
                    if empty_for_the_sample(query) {
                        continue;
                    }
                    assert!(
                        !result.is_empty(),
                        "recording rule {name} gives no series: {query}"
                    );
                    let recorded = prometheus.query(name);
                    assert!(!recorded.is_empty(), "{name} was not recorded");
                    if name.starts_with("instance_mac") && name.contains("dns") {
                        // Only clients that resolved names have DNS series
                        // (the sample's Raspberry Pi uses DNS over TLS).
                        assert!(
                            macs(&recorded).is_subset(&clients),
                            "{name}: known clients only"
                        );
                    } else if name.starts_with("instance_mac") {
                        assert_eq!(macs(&recorded), clients, "{name}: one series per client");
                    }
                }
                Some("alerting") => {
                    alerts += 1;
                    let severity = rule["labels"]["severity"].as_str().unwrap_or("");
                    assert!(
                        ["critical", "warning", "info"].contains(&severity),
                        "{name}: severity {severity:?}"
                    );
                    for annotation in ["summary", "description"] {
                        let text = rule["annotations"][annotation].as_str().unwrap_or("");
                        assert!(!text.is_empty(), "{name} has no {annotation}");
                    }
                }
                other => panic!("{name}: rule type {other:?}"),
            }
        }
    }
    assert!(
        recordings >= 10 && alerts >= 8,
        "{recordings} recording rules, {alerts} alerts loaded"
    );

    // The hostname join: every client has a name.
    for s in prometheus.query("instance_mac:client_info:named") {
        assert!(
            s["metric"]["name"].as_str().is_some_and(|n| !n.is_empty()),
            "no name: {s}"
        );
    }

    // The variables.
    let d = dashboard();
    for name in ["instance", "client"] {
        let definition = variable(&d, name)["definition"]
            .as_str()
            .unwrap()
            .to_string();
        let result = prometheus.query(&substitute(&variable_expr(&definition)));
        assert!(
            !result.is_empty(),
            "variable {name}: {definition} gives nothing"
        );
    }
    let client_values = prometheus.query(&substitute(&variable_expr(
        variable(&d, "client")["definition"].as_str().unwrap(),
    )));
    assert_eq!(
        macs(&client_values),
        clients,
        "the client variable lists every client"
    );

    // Every panel.
    for (title, t) in targets(&d) {
        let expr = substitute(t["expr"].as_str().unwrap());
        let doc = prometheus.query_doc(&expr);
        assert_eq!(
            doc["status"], "success",
            "{title}: {expr}: {}",
            doc["error"]
        );
        if empty_for_the_sample(&expr) {
            continue;
        }
        let result = doc["data"]["result"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        assert!(!result.is_empty(), "{title}: no series for {expr}");
        let per_client = result.iter().any(|s| s["metric"].get("mac").is_some());
        if per_client {
            let got = macs(&result);
            if expr.contains("topk(5,") {
                assert_eq!(got.len(), 5, "{title}: five clients: {got:?}");
                assert!(got.is_subset(&clients), "{title}: {got:?}");
            } else if [
                "client_dns_queries",
                "client_dns_responses",
                "client_dns_latency",
            ]
            .iter()
            .any(|family| expr.contains(family))
            {
                // Query, response and latency series exist only for clients
                // that queried; the other DNS families cover every client.
                assert_eq!(
                    got, dns_clients,
                    "{title}: every client that sent DNS queries"
                );
            } else {
                assert_eq!(got, clients, "{title}: every client of the sample");
            }
        }
        if expr.contains("group_left (name)") {
            for s in &result {
                assert!(
                    s["metric"]["name"].as_str().is_some_and(|n| !n.is_empty()),
                    "{title}: a series without a name: {s}"
                );
            }
        }
    }

    let _ = lanwatch.terminate(10);
}
