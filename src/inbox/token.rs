//! Upload tokens: 160 random bits from the operating system, shown once, stored only as
//! their SHA-256.

use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Random bytes per token (160 bits; the issue asks for at least 128).
const TOKEN_BYTES: usize = 20;

/// RFC 4648 base32, lower case: 32 characters for 20 bytes, no padding, nothing that needs
/// quoting in a CSV file, a URL or an e-mail.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// A new random token.
pub fn generate() -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; TOKEN_BYTES];
    getrandom::fill(&mut bytes)?;
    Ok(base32(&bytes))
}

fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() * 8 / 5 + 1);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &b in bytes {
        buffer = (buffer << 8) | u32::from(b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(ALPHABET[((buffer >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

/// The stored form of a token. Surrounding spaces (from copying) are ignored.
pub fn hash(token: &str) -> [u8; 32] {
    Sha256::digest(token.trim().as_bytes()).into()
}

/// Constant-time comparison of two stored hashes.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_long_random_and_distinct() {
        let a = generate().unwrap();
        let b = generate().unwrap();
        assert_eq!(a.len(), 32);
        assert_ne!(a, b);
        assert!(a.bytes().all(|c| ALPHABET.contains(&c)));
    }

    #[test]
    fn base32_matches_rfc4648() {
        // RFC 4648 §10 test vectors, lower case, without padding.
        assert_eq!(base32(b"f"), "my");
        assert_eq!(base32(b"fo"), "mzxq");
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn hashes_compare() {
        assert!(same(&hash("abc"), &hash(" abc\n")));
        assert!(!same(&hash("abc"), &hash("abd")));
    }
}
