//! Shared by the two state-file targets: their tracker configuration and
//! the round-trip check every restored state must pass.
use std::path::Path;
use std::sync::OnceLock;

use lanwatch::state_file;
use lanwatch::track::{ClientSnapshot, TrackConfig, Tracker};

/// The instance both targets' inputs (and seeds) are written by.
pub const INSTANCE: &str = "fuzz";

/// At most this many clients are restored.
pub const MAX_CLIENTS: usize = 8;

/// Built once: the default configuration carries the built-in vendor
/// table, whose construction took a seventh of each run.
pub fn config() -> &'static TrackConfig {
    static CONFIG: OnceLock<TrackConfig> = OnceLock::new();
    CONFIG.get_or_init(|| TrackConfig {
        max_clients: MAX_CLIENTS,
        ..TrackConfig::default()
    })
}

/// What was restored into `tracker` (shown as `restored`) saves and
/// restores to the same figures.
pub fn assert_round_trip(tracker: &Tracker, restored: Vec<ClientSnapshot>) {
    let again = state_file::capture(tracker, INSTANCE);
    let text = serde_json::to_vec(&again).expect("a state serializes");
    let parsed =
        state_file::parse(Path::new("round trip"), &text, INSTANCE).expect("our own file reads");
    let mut second = Tracker::new(config().clone());
    state_file::restore(&mut second, parsed);
    let b = second.snapshot().clients;
    assert_eq!(restored.len(), b.len());
    for (x, y) in restored.iter().zip(&b) {
        assert_eq!(x.mac, y.mac);
        assert_eq!(x.protocols, y.protocols);
        assert_eq!(x.lan, y.lan);
        assert_eq!(x.dns.queries, y.dns.queries);
    }
}
