//! Any bytes as a state file: refused with an error, or checked and
//! restored into a tracker within its bounds — never a panic, never an
//! overflow (release builds check arithmetic). A state that was restored
//! saves and reads back to the same counters.
#![no_main]
use std::path::Path;

use lanwatch::state_file;
use lanwatch::track::Tracker;
use libfuzzer_sys::fuzz_target;

#[path = "shared/state_round_trip.rs"]
mod state_round_trip;
use state_round_trip::{assert_round_trip, config, INSTANCE, MAX_CLIENTS};

fuzz_target!(|data: &[u8]| {
    let Ok(saved) = state_file::parse(Path::new("fuzz"), data, INSTANCE) else {
        return;
    };
    let mut tracker = Tracker::new(config().clone());
    let restored = state_file::restore(&mut tracker, saved);
    let snapshot = tracker.snapshot();
    assert!(snapshot.clients.len() <= MAX_CLIENTS);
    assert!(snapshot.clients.len() <= restored);

    assert_round_trip(&tracker, snapshot.clients);
});
