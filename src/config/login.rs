//! The login the OpenWrt service sets up from `web_user` and
//! `web_password`: `lanwatch hash-password` turns the password into the
//! bcrypt hash the init script writes into the generated web-config file
//! ([`super::GENERATED_WEB_CONFIG`], read by `--web-config`).
//!
//! The password arrives on stdin, never on a command line (where `ps`
//! would show it). The hash's cost is what every first login costs the
//! daemon (it remembers a successful login afterwards), so the default is
//! the exporter toolkit's usual 10, not bcrypt's 12: several seconds on a
//! router CPU would outlast the LuCI backend's timeout.

use std::io::Read;

/// bcrypt cost of `lanwatch hash-password` unless told otherwise.
pub const DEFAULT_COST: u32 = 10;

/// The longest password bcrypt takes whole.
pub const MAX_PASSWORD_BYTES: usize = 72;

/// Why a password cannot be hashed.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum LoginError {
    #[error("no password on stdin")]
    Empty,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes (bcrypt's limit)")]
    TooLong,
    #[error("the password is more than one line")]
    Lines,
    #[error("bcrypt cost {0} is outside 4..=31")]
    Cost(u32),
    #[error("cannot read the password from stdin: {0}")]
    Read(String),
    #[error("bcrypt: {0}")]
    Bcrypt(String),
}

/// The password in what was read from stdin: one line, its line ending
/// (`\n` or `\r\n`) not part of it.
pub fn password_from_input(input: &[u8]) -> Result<&[u8], LoginError> {
    let line = input.strip_suffix(b"\n").unwrap_or(input);
    let line = line.strip_suffix(b"\r").unwrap_or(line);
    if line.contains(&b'\n') || line.contains(&b'\r') {
        return Err(LoginError::Lines);
    }
    if line.is_empty() {
        return Err(LoginError::Empty);
    }
    if line.len() > MAX_PASSWORD_BYTES {
        return Err(LoginError::TooLong);
    }
    Ok(line)
}

/// Reads the password from `input` (at most a few KiB are read).
pub fn read_password(input: impl Read) -> Result<Vec<u8>, LoginError> {
    let mut bytes = Vec::new();
    input
        .take(4096)
        .read_to_end(&mut bytes)
        .map_err(|e| LoginError::Read(e.to_string()))?;
    password_from_input(&bytes).map(<[u8]>::to_vec)
}

/// A `$2y$` bcrypt hash of `password` with a random salt, the form
/// `htpasswd -B` writes and `basic_auth_users` takes.
pub fn hash_password(password: &[u8], cost: u32) -> Result<String, LoginError> {
    if !(4..=31).contains(&cost) {
        return Err(LoginError::Cost(cost));
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(LoginError::TooLong);
    }
    bcrypt::hash_with_result(password, cost)
        .map(|parts| parts.format_for_version(bcrypt::Version::TwoY))
        .map_err(|e| LoginError::Bcrypt(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_ending_is_not_part_of_the_password() {
        assert_eq!(password_from_input(b"secret\n"), Ok(&b"secret"[..]));
        assert_eq!(password_from_input(b"secret\r\n"), Ok(&b"secret"[..]));
        assert_eq!(password_from_input(b"secret"), Ok(&b"secret"[..]));
        assert_eq!(password_from_input(b" a b "), Ok(&b" a b "[..]));
    }

    #[test]
    fn empty_long_and_multi_line_passwords_are_refused() {
        assert_eq!(password_from_input(b"\n"), Err(LoginError::Empty));
        assert_eq!(password_from_input(b""), Err(LoginError::Empty));
        assert_eq!(password_from_input(&[b'x'; 73]), Err(LoginError::TooLong));
        assert!(password_from_input(&[b'x'; 72]).is_ok());
        assert_eq!(password_from_input(b"a\nb\n"), Err(LoginError::Lines));
    }

    #[test]
    fn a_hash_verifies_its_password_only() {
        let hash = hash_password(b"secret", 4).unwrap();
        assert!(hash.starts_with("$2y$04$"), "{hash}");
        assert!(bcrypt::verify(b"secret", &hash).unwrap());
        assert!(!bcrypt::verify(b"Secret", &hash).unwrap());
        assert_ne!(hash, hash_password(b"secret", 4).unwrap(), "salted");
        assert_eq!(hash_password(b"x", 3), Err(LoginError::Cost(3)));
    }
}
