//! Keyed pseudonyms (HMAC-SHA256: 32 bytes inside the pipeline, 64 lower-case hex characters
//! in every file) for person keys, as `categories.md` defines them. An unkeyed hash of a CPR
//! number is brute-forceable (≈ 3.65 million birth dates × 10,000 serials), so the key is the
//! secret that protects every output.
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

/// A longer key file is refused, and no more than this is ever read: a key is 16 to a few
/// hundred bytes, and a wrong `--key-file` (a device like `/dev/zero`, a data file) must not
/// be read without limit. Pipes stay allowed (`--key-file <(pass show hcount)`).
pub const MAX_KEY_FILE_BYTES: usize = 4096;

/// The demo key published in `fixtures/demo-key.NOT-SECRET.txt` (trimmed, as it is used).
/// Anyone can recompute the pseudonyms made with it.
const DEMO_KEY: &[u8] =
    b"hcount demo key - NOT SECRET - published with the project, never use it for a real count";

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
    #[error(
        "the key file {path} holds more than {MAX_KEY_FILE_BYTES} bytes: is it the right file? (a key is 16 to a few hundred bytes)"
    )]
    TooLong { path: PathBuf },
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
        use std::io::Read;
        let read_error = |source| KeyError::Read {
            path: path.to_owned(),
            source,
        };
        let mut bytes = Vec::new();
        std::fs::File::open(path)
            .map_err(read_error)?
            .take(MAX_KEY_FILE_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() > MAX_KEY_FILE_BYTES {
            return Err(KeyError::TooLong {
                path: path.to_owned(),
            });
        }
        let len = bytes.trim_ascii().len();
        if len < MIN_KEY_BYTES {
            return Err(KeyError::TooShort {
                path: path.to_owned(),
                len,
            });
        }
        Ok(Key::from_bytes(&bytes))
    }

    /// True for the demo key published with the project.
    pub fn is_demo(&self) -> bool {
        let probe: &[&[u8]] = &[b"hcount:demo-key-probe"];
        self.hash(probe) == Key::from_bytes(DEMO_KEY).hash(probe)
    }

    /// What the person running a count should know about its key (warnings, not errors):
    /// - the key file can be read by the group or others (anyone who reads it can recompute
    ///   every pseudonym from CPR numbers);
    /// - the published demo key is used on a real-looking count: any input outside a folder
    ///   called `fixtures` (where the project keeps its demo data). The demo key's own file
    ///   mode does not matter: it is public anyway.
    pub fn warnings(&self, key_file: &Path, inputs: &[PathBuf]) -> Vec<String> {
        let mut out = Vec::new();
        if self.is_demo() {
            let real = inputs.iter().find(|input| {
                let path = std::fs::canonicalize(input).unwrap_or_else(|_| input.to_path_buf());
                !path.components().any(|c| c.as_os_str() == "fixtures")
            });
            if let Some(input) = real {
                out.push(format!(
                    "{} is the published demo key, and {} is not demo data: anyone can recompute these pseudonyms from CPR numbers. For a real count, make a secret key (head -c 32 /dev/urandom | base64 > count.key; chmod 600 count.key)",
                    key_file.display(),
                    input.display()
                ));
            }
        } else if let Some(who) = readable_by_others(key_file) {
            out.push(format!(
                "the key file {} can be read by {who}; anyone who can read it can recompute the pseudonyms from CPR numbers: chmod 600 {}",
                key_file.display(),
                key_file.display()
            ));
        }
        out
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
        self.digest(parts).hex()
    }

    /// HMAC-SHA256 of the concatenated parts, as its 32 bytes.
    pub fn digest(&self, parts: &[&[u8]]) -> Pseudonym {
        let mut mac = self.mac.clone();
        for p in parts {
            mac.update(p);
        }
        Pseudonym(mac.finalize().into_bytes().into())
    }

    /// `cpr:v1:<10 digits>`
    pub fn cpr_key(&self, digits: &[u8; 10]) -> Pseudonym {
        self.digest(&[b"cpr:v1:", digits])
    }

    /// `ecpr:v1:<DDMMYYCAAG>`
    pub fn ecpr_key(&self, chars: &[u8; 10]) -> Pseudonym {
        self.digest(&[b"ecpr:v1:", chars])
    }

    /// `alt:v1:<yyyymmdd>:<m|k>:<INITIALS>`
    pub fn alt_key(&self, birth: chrono::NaiveDate, male: bool, initials: &str) -> Pseudonym {
        let date = yyyymmdd(birth);
        let sex: &[u8] = if male { b"m" } else { b"k" };
        self.digest(&[
            b"alt:v1:",
            date.as_ref(),
            b":",
            sex,
            b":",
            initials.as_bytes(),
        ])
    }

    /// `row:v1:<file name>:<line>`
    pub fn row_key(&self, file: &str, line: u64) -> Pseudonym {
        self.digest(&[
            b"row:v1:",
            file.as_bytes(),
            b":",
            line.to_string().as_bytes(),
        ])
    }
}

/// `date` as chrono's `%Y%m%d` writes it, without parsing a format string per row (that
/// took 2 % of the intake at 10 million rows): eight digits for the years 0 to 9999, and
/// chrono's own text (a sign, more digits) for any other.
fn yyyymmdd(date: chrono::NaiveDate) -> impl AsRef<[u8]> {
    use chrono::Datelike;
    use std::io::Write;
    enum Text {
        Digits([u8; 8]),
        Other(String),
    }
    impl AsRef<[u8]> for Text {
        fn as_ref(&self) -> &[u8] {
            match self {
                Text::Digits(d) => d,
                Text::Other(s) => s.as_bytes(),
            }
        }
    }
    if !(0..=9999).contains(&date.year()) {
        return Text::Other(date.format("%Y%m%d").to_string());
    }
    let mut d = [0u8; 8];
    write!(
        &mut d[..],
        "{:04}{:02}{:02}",
        date.year(),
        date.month(),
        date.day()
    )
    .expect("a year of 0 to 9999, a month and a day are eight digits");
    Text::Digits(d)
}

/// "the group", "others" or "the group and others" when the (regular) file's mode lets them
/// read it.
#[cfg(unix)]
fn readable_by_others(path: &Path) -> Option<&'static str> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(path).ok()?;
    if !meta.is_file() {
        // A pipe or device: its mode says nothing about who can read the key.
        return None;
    }
    match (
        meta.permissions().mode() & 0o040 != 0,
        meta.permissions().mode() & 0o004 != 0,
    ) {
        (true, true) => Some("the group and others"),
        (true, false) => Some("the group"),
        (false, true) => Some("others"),
        (false, false) => None,
    }
}

#[cfg(not(unix))]
fn readable_by_others(_: &Path) -> Option<&'static str> {
    None
}

/// A person key: the 32 bytes of an HMAC-SHA256. Inside the pipeline keys stay bytes (half
/// the size of their hex, so every join, sort and spill of the rows moves less); the outputs
/// hold them as the 64 lower-case hex characters `categories.md` defines ([`Pseudonym::hex`]),
/// which sort in the same order as the bytes.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Pseudonym(pub [u8; 32]);

impl Pseudonym {
    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// The 64 lower-case hex characters.
    pub fn hex(&self) -> String {
        to_hex(&self.0)
    }

    /// The key from its 64 hex characters (either case); `None` for anything else.
    pub fn from_hex(hex: &str) -> Option<Pseudonym> {
        let hex = hex.as_bytes();
        if hex.len() != 64 {
            return None;
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
        let mut bytes = [0u8; 32];
        for (byte, pair) in bytes.iter_mut().zip(hex.chunks_exact(2)) {
            *byte = digit(pair[0])? << 4 | digit(pair[1])?;
        }
        Some(Pseudonym(bytes))
    }
}

impl std::fmt::Debug for Pseudonym {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.hex())
    }
}

fn to_hex(bytes: &[u8]) -> String {
    let mut s = Vec::with_capacity(bytes.len() * 2);
    push_hex(bytes, &mut s);
    String::from_utf8(s).expect("hex digits are ASCII")
}

/// Appends the bytes' lower-case hex digits (two per byte) to `out`.
pub fn push_hex(bytes: &[u8], out: &mut Vec<u8>) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for b in bytes {
        out.push(HEX[(b >> 4) as usize]);
        out.push(HEX[(b & 15) as usize]);
    }
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
    fn birth_dates_are_written_as_chrono_writes_them() {
        for (y, m, d) in [
            (1980, 1, 1),
            (2026, 12, 31),
            (1900, 2, 28),
            (2000, 2, 29),
            (905, 7, 4),
            (0, 1, 1),
            (9999, 12, 31),
            (10000, 1, 1),
            (-1, 6, 15),
        ] {
            let date = chrono::NaiveDate::from_ymd_opt(y, m, d).unwrap();
            assert_eq!(
                yyyymmdd(date).as_ref(),
                date.format("%Y%m%d").to_string().as_bytes(),
                "{date:?}"
            );
        }
    }

    #[test]
    fn keys_are_prefixed_and_distinct() {
        let key = Key::from_bytes(b"0123456789abcdef-test");
        let cpr = key.cpr_key(b"0101801235");
        assert_eq!(cpr.hex(), key.hash(&[b"cpr:v1:0101801235"]));
        assert_ne!(cpr, key.ecpr_key(b"0101801235"));
        let other = Key::from_bytes(b"another key of 16+ bytes");
        assert_ne!(cpr, other.cpr_key(b"0101801235"));
        let d = chrono::NaiveDate::from_ymd_opt(1980, 1, 1).unwrap();
        assert_eq!(
            key.alt_key(d, false, "JPH").hex(),
            key.hash(&[b"alt:v1:19800101:k:JPH"])
        );
        assert_eq!(
            key.row_key("a.csv", 7).hex(),
            key.hash(&[b"row:v1:a.csv:7"])
        );
    }

    #[test]
    fn a_key_is_its_hex_and_the_hex_sorts_as_the_bytes() {
        let key = Key::from_bytes(b"0123456789abcdef-test");
        let mut keys: Vec<Pseudonym> = (0..200u64).map(|line| key.row_key("a.csv", line)).collect();
        for k in &keys {
            assert_eq!(Pseudonym::from_hex(&k.hex()), Some(*k));
            assert_eq!(Pseudonym::from_hex(&k.hex().to_uppercase()), Some(*k));
        }
        // The pipeline sorts the rows on the bytes and writes the hex: the order must agree.
        keys.sort();
        let hex: Vec<String> = keys.iter().map(Pseudonym::hex).collect();
        let mut sorted = hex.clone();
        sorted.sort();
        assert_eq!(hex, sorted);
        assert_eq!(Pseudonym::from_hex("ab"), None);
        assert_eq!(Pseudonym::from_hex(&"g".repeat(64)), None);
        assert_eq!(Pseudonym::from_hex(&"é".repeat(32)), None);
    }

    #[test]
    fn debug_is_redacted() {
        let key = Key::from_bytes(b"super secret key material");
        assert_eq!(format!("{key:?}"), "Key(<redacted>)");
    }

    #[test]
    fn key_files_are_read_within_bounds() {
        let dir = tempfile::tempdir().unwrap();
        let big = dir.path().join("big.key");
        std::fs::write(&big, vec![b'k'; MAX_KEY_FILE_BYTES + 1]).unwrap();
        let err = Key::from_file(&big).unwrap_err();
        assert!(matches!(err, KeyError::TooLong { .. }), "{err}");
        let ok = dir.path().join("ok.key");
        std::fs::write(&ok, vec![b'k'; MAX_KEY_FILE_BYTES]).unwrap();
        assert!(Key::from_file(&ok).is_ok());
        // A device is read no further than the limit.
        #[cfg(unix)]
        assert!(matches!(
            Key::from_file(Path::new("/dev/zero")),
            Err(KeyError::TooLong { .. })
        ));
    }

    #[test]
    fn the_demo_key_is_recognised() {
        let path = Path::new(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/demo-key.NOT-SECRET.txt"
        ));
        let demo = Key::from_file(path).unwrap();
        assert!(demo.is_demo());
        assert!(!Key::from_bytes(b"a real secret key, 32 bytes long").is_demo());
        let fixtures = path.parent().unwrap().join("count-2026");
        assert!(demo.warnings(path, &[fixtures]).is_empty());
        let elsewhere = tempfile::tempdir().unwrap();
        let w = demo.warnings(path, &[elsewhere.path().to_owned()]);
        assert!(w[0].contains("published demo key"), "{w:?}");
    }

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_warned_about() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("count.key");
        std::fs::write(&path, "a real secret key, 32 bytes long").unwrap();
        let key = Key::from_file(&path).unwrap();
        let inputs = [dir.path().to_owned()];
        for (mode, want) in [
            (0o600, None),
            (0o640, Some("the group;")),
            (0o604, Some("others;")),
            (0o644, Some("the group and others;")),
        ] {
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
            let w = key.warnings(&path, &inputs);
            match want {
                None => assert!(w.is_empty(), "{mode:o}: {w:?}"),
                Some(who) => assert!(w[0].contains(who), "{mode:o}: {w:?}"),
            }
        }
    }

    #[test]
    fn trailing_newline_does_not_change_keys() {
        let a = Key::from_bytes(b"0123456789abcdef\n");
        let b = Key::from_bytes(b"0123456789abcdef");
        assert_eq!(a.cpr_key(b"0101801235"), b.cpr_key(b"0101801235"));
    }
}
