//! Rendering snapshots: Prometheus text, JSON, the terminal table, HTTP.
