//! TLS ClientHello: the server name (SNI).
