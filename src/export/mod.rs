//! Rendering snapshots: Prometheus text, JSON, the terminal table, HTTP.
//!
//! Every renderer is a pure function of a [`crate::track::Snapshot`], so the
//! CLI's `replay --format ...` and the HTTP server print the same bytes for
//! the same state. `http` only routes requests to these renderers (its
//! `encoding` decides whether an answer goes gzip-compressed).

pub mod http;
pub mod json;
pub mod prometheus;
pub mod table;
pub mod webconfig;
