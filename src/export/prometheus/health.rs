//! The lanwatch_* families (the daemon's own health: frames, kernel drops,
//! table sizes and evictions, DNS parsing, state saves, build) and the
//! standard process_* families; and the label sets they carry.

use super::{
    Exposition, LabelValue, Value, LANWATCH_BUILD_INFO, LANWATCH_CAPTURE_INCOMPLETE,
    LANWATCH_CLIENTS, LANWATCH_CLIENTS_MAX, LANWATCH_DNS_ANSWERS, LANWATCH_DNS_MESSAGES,
    LANWATCH_EVICTIONS, LANWATCH_FLOWS, LANWATCH_FLOWS_MAX, LANWATCH_FLOW_OFFLOAD,
    LANWATCH_KERNEL_DROPS, LANWATCH_KERNEL_PACKETS, LANWATCH_LAST_PACKET, LANWATCH_PACKETS,
    LANWATCH_SNAPSHOT_DURATION, LANWATCH_STATE_SAVES, PROCESS_CPU_SECONDS, PROCESS_MAX_FDS,
    PROCESS_OPEN_FDS, PROCESS_RESIDENT_MEMORY, PROCESS_START_TIME, PROCESS_VIRTUAL_MEMORY,
};
use crate::track::snapshot::{EvictionTable, FlowOffload, PacketOutcome};
use crate::track::{Health, ProcessStats};

label_set! {
    /// What became of the frames counted.
    Packets { outcome: PacketOutcome }
}

label_set! {
    /// One kind of flow offloading.
    Offload { kind: OffloadKind }
}

label_set! {
    /// The table entries were evicted from.
    Evictions { table: EvictionTable }
}

label_set! {
    /// Whether the DNS messages counted parsed.
    DnsMessages { outcome: DnsOutcome }
}

label_set! {
    /// How the state-file saves counted went.
    StateSaves { outcome: SaveOutcome }
}

label_set! {
    /// The binary's version and platform.
    BuildInfo<'a> { version: &'a str, arch: &'a str, os: &'a str }
}

impl LabelValue for PacketOutcome {
    fn label_value(&self) -> &str {
        self.label()
    }
}

impl LabelValue for EvictionTable {
    fn label_value(&self) -> &str {
        self.label()
    }
}

/// The `kind` of `lanwatch_flow_offload`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OffloadKind {
    Software,
    Hardware,
}

impl LabelValue for OffloadKind {
    fn label_value(&self) -> &str {
        match self {
            OffloadKind::Software => "software",
            OffloadKind::Hardware => "hardware",
        }
    }
}

/// The `outcome` of `lanwatch_dns_messages_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DnsOutcome {
    Parsed,
    Malformed,
}

impl LabelValue for DnsOutcome {
    fn label_value(&self) -> &str {
        match self {
            DnsOutcome::Parsed => "parsed",
            DnsOutcome::Malformed => "malformed",
        }
    }
}

/// The `outcome` of `lanwatch_state_saves_total`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SaveOutcome {
    Ok,
    Error,
}

impl LabelValue for SaveOutcome {
    fn label_value(&self) -> &str {
        match self {
            SaveOutcome::Ok => "ok",
            SaveOutcome::Error => "error",
        }
    }
}

/// The process_* families, with the figures the capture worker read.
pub fn collect_process(out: &mut Exposition, p: &ProcessStats) {
    out.single(&PROCESS_CPU_SECONDS, Value::Float(p.cpu_seconds_total));
    out.single(&PROCESS_OPEN_FDS, Value::Int(p.open_fds));
    out.single(&PROCESS_MAX_FDS, Value::Int(p.max_fds));
    out.single(&PROCESS_VIRTUAL_MEMORY, Value::Int(p.virtual_memory_bytes));
    let resident = Value::Int(p.resident_memory_bytes);
    out.single(&PROCESS_RESIDENT_MEMORY, resident);
    out.single(&PROCESS_START_TIME, Value::Float(p.start_time_seconds));
}

/// The lanwatch_* families, in the table's order.
pub fn collect(out: &mut Exposition, h: &Health) {
    packets(out, h);
    out.single(&LANWATCH_KERNEL_PACKETS, Value::Int(h.kernel_packets));
    out.single(&LANWATCH_KERNEL_DROPS, Value::Int(h.kernel_drops));
    flow_offload(out, h.flow_offload);
    out.single(&LANWATCH_CLIENTS, Value::Int(h.clients));
    out.single(&LANWATCH_CLIENTS_MAX, Value::Int(h.max_clients));
    out.single(&LANWATCH_FLOWS, Value::Int(h.flows));
    out.single(&LANWATCH_FLOWS_MAX, Value::Int(h.max_flows));
    evictions(out, h);
    dns_messages(out, h);
    out.single(&LANWATCH_DNS_ANSWERS, Value::Int(h.dns_answers));
    out.single(&LANWATCH_LAST_PACKET, Value::Float(h.last_packet_time));
    let duration = Value::Float(h.snapshot_duration_seconds);
    out.single(&LANWATCH_SNAPSHOT_DURATION, duration);
    state_saves(out, h);
    build_info(out);
}

fn packets(out: &mut Exposition, h: &Health) {
    out.family(&LANWATCH_PACKETS);
    for (outcome, count) in h.packets.by_outcome() {
        out.sample(&LANWATCH_PACKETS, Packets { outcome }, Value::Int(count));
    }
}

/// Both offload families are left without samples in a replay, where
/// offloading does not apply.
fn flow_offload(out: &mut Exposition, offload: Option<FlowOffload>) {
    let gauge = |on: bool| Value::Int(u64::from(on));
    out.family(&LANWATCH_FLOW_OFFLOAD);
    if let Some(offload) = offload {
        for (kind, on) in [
            (OffloadKind::Software, offload.software),
            (OffloadKind::Hardware, offload.hardware),
        ] {
            out.sample(&LANWATCH_FLOW_OFFLOAD, Offload { kind }, gauge(on));
        }
    }
    out.family(&LANWATCH_CAPTURE_INCOMPLETE);
    if let Some(offload) = offload {
        out.sample(&LANWATCH_CAPTURE_INCOMPLETE, (), gauge(offload.incomplete));
    }
}

fn evictions(out: &mut Exposition, h: &Health) {
    out.family(&LANWATCH_EVICTIONS);
    for (table, count) in h.evictions() {
        out.sample(&LANWATCH_EVICTIONS, Evictions { table }, Value::Int(count));
    }
}

fn dns_messages(out: &mut Exposition, h: &Health) {
    out.family(&LANWATCH_DNS_MESSAGES);
    let parsed = h.dns_messages.saturating_sub(h.dns_malformed);
    for (outcome, count) in [
        (DnsOutcome::Parsed, parsed),
        (DnsOutcome::Malformed, h.dns_malformed),
    ] {
        out.sample(
            &LANWATCH_DNS_MESSAGES,
            DnsMessages { outcome },
            Value::Int(count),
        );
    }
}

/// No samples without a state file.
fn state_saves(out: &mut Exposition, h: &Health) {
    out.family(&LANWATCH_STATE_SAVES);
    if let Some(saves) = h.state_saves {
        for (outcome, count) in [
            (SaveOutcome::Ok, saves.ok),
            (SaveOutcome::Error, saves.error),
        ] {
            out.sample(
                &LANWATCH_STATE_SAVES,
                StateSaves { outcome },
                Value::Int(count),
            );
        }
    }
}

fn build_info(out: &mut Exposition) {
    out.family(&LANWATCH_BUILD_INFO);
    let labels = BuildInfo {
        version: env!("CARGO_PKG_VERSION"),
        arch: std::env::consts::ARCH,
        os: std::env::consts::OS,
    };
    out.sample(&LANWATCH_BUILD_INFO, labels, Value::Int(1));
}
