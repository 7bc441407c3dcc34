//! System probes: what lanwatch reads about the router it runs on, beside
//! the frames themselves.
//!
//! `addresses` finds the capture interfaces' own prefixes and MACs (the
//! default LAN and the router's addresses in live capture); `offload` asks
//! the firewall whether forwarded flows bypass the capture, and keeps
//! asking on a thread of its own; `process` reads this process's figures
//! from procfs (CPU, memory, file descriptors, start time). None of them
//! is on the packet path: the capture worker stamps what they found on
//! each snapshot.

pub mod addresses;
pub mod offload;
pub mod process;
