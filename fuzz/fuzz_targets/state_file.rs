//! Any bytes as a state file: refused with an error, or checked and
//! restored into a tracker within its bounds — never a panic, never an
//! overflow (release builds check arithmetic). A state that was restored
//! saves and reads back to the same counters.
#![no_main]
use std::path::Path;
use std::sync::OnceLock;

use lanwatch::state_file;
use lanwatch::track::{TrackConfig, Tracker};
use libfuzzer_sys::fuzz_target;

const INSTANCE: &str = "fuzz";

/// Built once: the default configuration carries the built-in vendor
/// table, whose construction took a seventh of each run.
fn config() -> &'static TrackConfig {
    static CONFIG: OnceLock<TrackConfig> = OnceLock::new();
    CONFIG.get_or_init(|| TrackConfig {
        max_clients: 8,
        ..TrackConfig::default()
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(saved) = state_file::parse(Path::new("fuzz"), data, INSTANCE) else {
        return;
    };
    let mut tracker = Tracker::new(config().clone());
    let restored = state_file::restore(&mut tracker, saved);
    let snapshot = tracker.snapshot();
    assert!(snapshot.clients.len() <= 8);
    assert!(snapshot.clients.len() <= restored);

    // Round trip: what was restored saves and restores to the same figures.
    let again = state_file::capture(&tracker, INSTANCE);
    let text = serde_json::to_vec(&again).expect("a state serializes");
    let parsed =
        state_file::parse(Path::new("round trip"), &text, INSTANCE).expect("our own file reads");
    let mut second = Tracker::new(config().clone());
    state_file::restore(&mut second, parsed);
    let a = snapshot.clients;
    let b = second.snapshot().clients;
    assert_eq!(a.len(), b.len());
    for (x, y) in a.iter().zip(&b) {
        assert_eq!(x.mac, y.mac);
        assert_eq!(x.protocols, y.protocols);
        assert_eq!(x.lan, y.lan);
        assert_eq!(x.dns.queries, y.dns.queries);
    }
});
