//! The LuCI app's views under node: `tests/luci/*.test.js` (node's own test
//! runner) load the class files the way LuCI's luci.js evaluates them and
//! feed them what this build of lanwatch prints — `replay --format json` of
//! real captures for the clients page, `check-config` for the settings
//! page's option names. Nothing else in the suite runs the views, so a view
//! reading a field the API does not send would otherwise go unseen.
//!
//! Needs node 18 or later (Debian package `nodejs`; no npm packages), and
//! for one render in a real browser headless Chromium (Debian `chromium`).

use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// node's major version, or a failure that says what to install.
fn node_major() -> u32 {
    let out = match Command::new("node").arg("--version").output() {
        Ok(out) => out,
        Err(e) => panic!(
            "cannot run node ({e}): the LuCI view tests need node 18 or later \
             (Debian package nodejs: apt-get install nodejs)"
        ),
    };
    let version = String::from_utf8_lossy(&out.stdout);
    version
        .trim()
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|major| major.parse().ok())
        .unwrap_or_else(|| panic!("node --version printed {version:?}, not vMAJOR.MINOR.PATCH"))
}

/// Runs one `tests/luci/*.test.js` file with `node --test` against this
/// build's binary; fails with node's report when a test does.
fn node_test(file: &str) {
    let major = node_major();
    assert!(
        major >= 18,
        "node {major} has no built-in test runner: the LuCI view tests need node 18 or later \
         (Debian package nodejs)"
    );
    let path: PathBuf = Path::new("tests/luci").join(file);
    assert!(
        root().join(&path).is_file(),
        "{} is missing",
        path.display()
    );
    let out = Command::new("node")
        .arg("--test")
        .arg(&path)
        .current_dir(root())
        .env("LANWATCH_BIN", env!("CARGO_BIN_EXE_lanwatch"))
        .output()
        .unwrap_or_else(|e| panic!("cannot run node --test {}: {e}", path.display()));
    let report = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "node --test {} failed ({}):\n{report}\n{}",
        path.display(),
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    // The runner's summary: something ran and nothing failed.
    let count = |key: &str| {
        report
            .lines()
            .find_map(|l| l.strip_prefix(&format!("# {key} ")))
            .and_then(|n| n.trim().parse::<u32>().ok())
    };
    assert!(
        count("pass").is_some_and(|n| n > 0) && count("fail") == Some(0),
        "node --test {} reported no passing tests:\n{report}",
        path.display()
    );
}

#[test]
fn clients_rows_come_from_the_real_api_json() {
    node_test("rows.test.js");
}

#[test]
fn clients_page_puts_the_rows_in_the_table_as_text() {
    node_test("clients.test.js");
}

#[test]
fn settings_page_declares_only_options_check_config_accepts() {
    node_test("settings.test.js");
}

#[test]
fn clients_page_renders_in_headless_chromium() {
    node_test("chromium.test.js");
}
