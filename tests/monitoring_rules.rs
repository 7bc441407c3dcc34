//! The monitoring host's Prometheus and Alertmanager files pass their own
//! tools: `promtool check config`, `promtool check rules`, `promtool test
//! rules` (a unit test firing and one not firing for every alert), and
//! `amtool check-config` with the routes the alerts are meant to take.

mod common;
mod monitoring_common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::*;
use monitoring_common::Scratch;

fn deploy(rel: &str) -> PathBuf {
    repo_file(&format!("deploy/{rel}"))
}

fn files_in(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.to_string_lossy().ends_with(suffix))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no *{suffix} in {}", dir.display());
    files
}

/// Runs a tool; returns (success, stdout + stderr).
fn run(tool: &str, args: &[&str], files: &[PathBuf]) -> (bool, String) {
    let out = Command::new(tool)
        .args(args)
        .args(files)
        .output()
        .unwrap_or_else(|e| panic!("run {tool}: {e}"));
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

fn rule_files() -> Vec<PathBuf> {
    files_in(&deploy("prometheus/rules"), ".yml")
}

fn test_files() -> Vec<PathBuf> {
    files_in(&deploy("prometheus/tests"), ".test.yml")
}

/// Each alert's block of lines in the rule files.
fn alerts() -> BTreeMap<String, String> {
    let mut alerts = BTreeMap::new();
    for file in rule_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mut current: Option<(String, String)> = None;
        for line in text.lines() {
            let trimmed = line.trim_start();
            let starts_rule = trimmed.starts_with("- alert:")
                || trimmed.starts_with("- record:")
                || trimmed.starts_with("- name:");
            if starts_rule {
                if let Some((name, block)) = current.take() {
                    alerts.insert(name, block);
                }
                if let Some(name) = trimmed.strip_prefix("- alert:") {
                    current = Some((name.trim().to_string(), String::new()));
                }
            } else if let Some((_, block)) = current.as_mut() {
                block.push_str(line);
                block.push('\n');
            }
        }
        if let Some((name, block)) = current {
            alerts.insert(name, block);
        }
    }
    assert!(alerts.len() >= 8, "alerts found: {:?}", alerts.keys());
    alerts
}

#[test]
fn prometheus_config_and_rules_pass_promtool_check() {
    require_tool("promtool", "prometheus");
    let (ok, out) = run(
        "promtool",
        &["check", "config"],
        &[deploy("prometheus/prometheus.yml")],
    );
    assert!(ok, "promtool check config:\n{out}");
    assert!(
        out.contains("rule files found"),
        "the config loads the rules:\n{out}"
    );
    let (ok, out) = run("promtool", &["check", "rules"], &rule_files());
    assert!(ok, "promtool check rules:\n{out}");
}

#[test]
fn the_config_scrapes_every_30s_with_a_25s_timeout_and_documents_a_year_of_retention() {
    let text = std::fs::read_to_string(deploy("prometheus/prometheus.yml")).unwrap();
    assert!(text.contains("scrape_interval: 30s"), "{text}");
    assert!(text.contains("scrape_timeout: 25s"), "{text}");
    assert!(text.contains("--storage.tsdb.retention.time=1y"), "{text}");
    assert!(text.contains("job_name: lanwatch"), "{text}");
}

#[test]
fn alert_rule_unit_tests_pass() {
    require_tool("promtool", "prometheus");
    let (ok, out) = run("promtool", &["test", "rules"], &test_files());
    assert!(ok, "promtool test rules:\n{out}");
}

#[test]
fn every_alert_has_severity_summary_description_and_tests_firing_and_not_firing() {
    let tests: String = test_files()
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect::<Vec<_>>()
        .join("\n");
    let lines: Vec<&str> = tests.lines().map(str::trim).collect();
    for (alert, block) in alerts() {
        assert!(
            ["severity: critical", "severity: warning", "severity: info"]
                .iter()
                .any(|s| block.contains(s)),
            "{alert} has no severity:\n{block}"
        );
        assert!(block.contains("summary:"), "{alert} has no summary");
        assert!(block.contains("description:"), "{alert} has no description");
        // After "alertname: X" comes "exp_alerts: []" (not firing) or
        // "exp_alerts:" and a list (firing).
        let mut firing = false;
        let mut quiet = false;
        for (i, line) in lines.iter().enumerate() {
            if *line == format!("alertname: {alert}") {
                match lines.get(i + 1) {
                    Some(&"exp_alerts: []") => quiet = true,
                    Some(&"exp_alerts:") => firing = true,
                    other => panic!("{alert}: unexpected {other:?} after the alertname"),
                }
            }
        }
        assert!(firing, "{alert} has no unit test where it fires");
        assert!(quiet, "{alert} has no unit test where it stays quiet");
    }
}

#[test]
fn the_unit_tests_fail_when_an_alert_is_broken() {
    require_tool("promtool", "prometheus");
    // The same tests against a copy of the rules where LanwatchDown waits
    // for up == 2: promtool must notice.
    let scratch = Scratch::new("rules-mutant");
    std::fs::create_dir_all(scratch.path("rules")).unwrap();
    std::fs::create_dir_all(scratch.path("tests")).unwrap();
    for file in rule_files() {
        let text = std::fs::read_to_string(&file).unwrap();
        let mutated = text.replace(
            "expr: up{job=\"lanwatch\"} == 0",
            "expr: up{job=\"lanwatch\"} == 2",
        );
        std::fs::write(
            scratch.path("rules").join(file.file_name().unwrap()),
            mutated,
        )
        .unwrap();
    }
    let mut copies = Vec::new();
    for file in test_files() {
        let copy = scratch.path("tests").join(file.file_name().unwrap());
        std::fs::copy(&file, &copy).unwrap();
        copies.push(copy);
    }
    let (ok, out) = run("promtool", &["test", "rules"], &copies);
    assert!(!ok, "promtool passed with a broken LanwatchDown:\n{out}");
    assert!(out.contains("LanwatchDown"), "{out}");
}

#[test]
fn alertmanager_example_passes_amtool_and_routes_alerts_to_email_and_chat() {
    require_tool("amtool", "prometheus-alertmanager");
    let config = deploy("alertmanager/alertmanager.yml");
    let (ok, out) = run("amtool", &["check-config"], std::slice::from_ref(&config));
    assert!(ok, "amtool check-config:\n{out}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("email_configs:"));
    assert!(text.contains("slack_configs:"));
    for (labels, receiver) in [
        (
            &["alertname=LanwatchDown", "severity=critical"][..],
            "email-and-chat",
        ),
        (
            &[
                "alertname=LanwatchClientBypassesLocalDNS",
                "severity=warning",
            ][..],
            "email-and-chat",
        ),
        (
            &["alertname=LanwatchNewDevice", "severity=info"][..],
            "email",
        ),
    ] {
        let mut args = vec!["config", "routes", "test"];
        let flag = format!("--config.file={}", config.display());
        args.push(&flag);
        args.extend_from_slice(labels);
        let (ok, out) = run("amtool", &args, &[]);
        assert!(ok, "amtool {args:?}:\n{out}");
        assert_eq!(
            out.lines()
                .find(|l| !l.starts_with("Warning"))
                .map(str::trim),
            Some(receiver),
            "{labels:?} goes to {receiver}:\n{out}"
        );
    }
    // Every alert the rules define routes somewhere (no typo in a matcher
    // sends them all to the default by accident: the default is e-mail too,
    // so check a warning reaches chat).
    for (alert, block) in alerts() {
        if block.contains("severity: warning") || block.contains("severity: critical") {
            let flag = format!("--config.file={}", config.display());
            let name = format!("alertname={alert}");
            let severity = if block.contains("severity: warning") {
                "severity=warning"
            } else {
                "severity=critical"
            };
            let (ok, out) = run(
                "amtool",
                &["config", "routes", "test", &flag, &name, severity],
                &[],
            );
            assert!(
                ok && out.contains("email-and-chat"),
                "{alert} reaches chat:\n{out}"
            );
        }
    }
}
