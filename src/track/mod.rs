//! The state: clients, flows and what they did.
//!
//! One `Tracker` is owned by the capture worker (single writer, no locks on
//! the packet path). Every table is bounded and evicts idle entries first.

pub mod publish;
pub mod snapshot;

pub use snapshot::{
    ClientSnapshot, Direction, Health, PacketOutcomes, ProtocolUsage, Snapshot, Traffic,
};
