//! Keyed pseudonyms (HMAC-SHA256, lower-case hex) for person keys, as `categories.md` defines
//! them. An unkeyed hash of a CPR number is brute-forceable (≈ 3.65 million birth dates ×
//! 10,000 serials), so the key is the secret that protects every output.
//!
//! The key is read from a file (named by `--key-file` or `HCOUNT_KEY_FILE`), never from the
//! command line, and never printed: `Debug` of [`Key`] is redacted.

use std::path::{Path, PathBuf};

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Environment variable naming the key file.
pub const KEY_FILE_ENV: &str = "HCOUNT_KEY_FILE";

/// A shorter key is refused: it would be guessable.
pub const MIN_KEY_BYTES: usize = 16;

/// The HMAC key, already expanded into the HMAC state (so the raw bytes are not kept).
#[derive(Clone)]
pub struct Key {
    mac: HmacSha256,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Key(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error(
        "no HMAC key: give --key-file FILE or set {KEY_FILE_ENV}=FILE (the key is never taken from the command line itself)"
    )]
    Missing,
    #[error("cannot read the key file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the key file {path} holds {len} bytes; a key needs at least {MIN_KEY_BYTES}")]
    TooShort { path: PathBuf, len: usize },
}

impl Key {
    /// Uses the key bytes as they are, less surrounding whitespace (a trailing newline from an
    /// editor must not change every person key).
    pub fn from_bytes(bytes: &[u8]) -> Key {
        let trimmed = bytes.trim_ascii();
        Key {
            mac: <HmacSha256 as KeyInit>::new_from_slice(trimmed)
                .expect("HMAC accepts keys of any length"),
        }
    }

    pub fn from_file(path: &Path) -> Result<Key, KeyError> {
        let bytes = std::fs::read(path).map_err(|source| KeyError::Read {
            path: path.to_owned(),
            source,
        })?;
        let len = bytes.trim_ascii().len();
        if len < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: path.to_owned(),
                len,
            });
        }
        Ok(Key::from_bytes(&bytes))
    }

    /// `--key-file` if given, else the file named by `HCOUNT_KEY_FILE`.
    pub fn locate(flag: Option<&Path>) -> Result<PathBuf, KeyError> {
        if let Some(p) = flag {
            return Ok(p.to_owned());
        }
        match std::env::var_os(KEY_FILE_ENV) {
            Some(p) if !p.is_empty() => Ok(PathBuf::from(p)),
            _ => Err(KeyError::Missing),
        }
    }

    /// HMAC-SHA256 of the concatenated parts, as 64 lower-case hex characters.
    pub fn hash(&self, parts: &[&[u8]]) -> String {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        let digest = mac.finalize().into_bytes();
        to_hex(&digest)
    }

    /// `cpr:v1:<10 digits>`
    pub fn cpr_key(&self, digits: &[u8; 10]) -> String {
        self.hash(&[b"cpr:v1:", digits])
    }

    /// `ecpr:v1:<DDMMYYCAAG>`
    pub fn ecpr_key(&self, chars: &[u8; 10]) -> String {
        self.hash(&[b"ecpr:v1:", chars])
    }

    /// `alt:v1:<yyyymmdd>:<m|k>:<INITIALS>`
    pub fn alt_key(&self, birth: chrono::NaiveDate, male: bool, initials: &str) -> String {
        let date = birth.format("%Y%m%d").to_string();
        let sex: &[u8] = if male { b"m" } else { b"k" };
        self.hash(&[
            b"alt:v1:",
            date.as_bytes(),
            b":",
            sex,
            b":",
            initials.as_bytes(),
        ])
    }

    /// `row:v1:<file name>:<line>`
    pub fn row_key(&self, file: &str, line: u64) -> String {
        self.hash(&[
            b"row:v1:",
            file.as_bytes(),
            b":",
            line.to_string().as_bytes(),
        ])
    }
}

fn to_hex(bytes: &[u8]) -> String {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(HEX[(b >> 4) as usize] as char);
        s.push(HEX[(b & 15) as usize] as char);
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc4231_test_case_2() {
        // HMAC-SHA256 test vector (RFC 4231, case 2), through our helper.
        let key = Key::from_bytes(b"Jefe");
        assert_eq!(
            key.hash(&[b"what do ya want ", b"for nothing?"]),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn keys_are_prefixed_and_distinct() {
        let key = Key::from_bytes(b"0123456789abcdef-test");
        let cpr = key.cpr_key(b"0101801235");
        assert_eq!(cpr, key.hash(&[b"cpr:v1:0101801235"]));
        assert_ne!(cpr, key.ecpr_key(b"0101801235"));
        let other = Key::from_bytes(b"another key of 16+ bytes");
        assert_ne!(cpr, other.cpr_key(b"0101801235"));
        let d = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        assert_eq!(
            key.alt_key(d, false, "JPH"),
            key.hash(&[b"alt:v1:19800101:k:JPH"])
        );
        assert_eq!(key.row_key("a.csv", 7), key.hash(&[b"row:v1:a.csv:7"]));
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key::from_bytes(b"super secret key material");
        assert_eq!(format!("{key:?}"), "Key(<redacted>)");
    }

    #[test]
    fn trailing_newline_does_not_change_keys() {
        let a = Key::from_bytes(b"0123456789abcdef\n");
        let b = Key::from_bytes(b"0123456789abcdef");
        assert_eq!(a.cpr_key(b"0101801235"), b.cpr_key(b"0101801235"));
    }
}
