//! DNS messages: header, questions, answers (zero-copy, compression-safe).
