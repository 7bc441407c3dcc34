//! Naming: what tells a flow's server by name — DNS answers, TLS server
//! names — and the reassembly those need across segments.
//!
//! `decode` reads one payload at a time and never allocates; the pieces
//! that keep bytes between segments (bounded buffers, one per stream) live
//! here instead. `dns_tcp` splits DNS over TCP into messages, `tls_hello`
//! joins a TLS ClientHello split over segments or records. The server
//! names and applications of QUIC belong here too.

pub mod dns_tcp;
pub mod tls_hello;
