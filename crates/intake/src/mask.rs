//! The one rule that keeps CPR numbers out of everything hcount shows or writes.
//!
//! Every text that leaves the program — problem values, reasons and column names, CSV cells,
//! JSON strings, Markdown and HTML, file names shown, messages on the terminal — passes
//! through [`mask_cpr`]. It does not try to recognise valid CPR numbers (a mistyped one is as
//! personal as a valid one): any run of **9 or more digits**, written together or in groups
//! separated by spaces, dashes (any kind), slashes, dots or underscores, is masked, wherever
//! it stands — also right after or before a letter (`CPR0101801234`). So is a replacement
//! number (`DDMMYY-CAAG`, six digits, a digit, two letters, a digit).
//!
//! The masked form is `DDMMYY-****` when the run has 10 or 11 digits and its first six are a
//! plausible date (what the format spec allows to be shown), else `******-****`.
//!
//! What is left alone, because outputs must show it: numbers of up to 8 digits (counts,
//! years, municipality codes, line numbers, dates like `05-02-2026`), and a word of exactly
//! 64 hexadecimal characters (a SHA-256 hash: the person keys and file hashes), whose digit
//! runs are chance, not a CPR number.

use std::borrow::Cow;

/// Digits in a run from which it is masked: a CPR number that lost its leading zero in Excel
/// has 9.
const MIN_DIGITS: usize = 9;
/// At most this many separator characters between two groups of digits (`010180 - 1234`).
const MAX_SEPARATORS: usize = 3;
/// A word of this many hex characters is a SHA-256 hash, not a number.
const HASH_LEN: usize = 64;

/// The masked form when no date part can be shown.
pub const MASKED: &str = "******-****";

/// `text` with every CPR-like run of digits masked (see the module documentation).
/// Borrowed when there is nothing to mask, which is the common case.
pub fn mask_cpr(text: &str) -> Cow<'_, str> {
    if !may_hold_cpr(text) {
        return Cow::Borrowed(text);
    }
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    let mut out = String::with_capacity(text.len());
    let mut changed = false;
    let mut i = 0;
    while i < chars.len() {
        if digit(chars[i].1).is_none() {
            out.push(chars[i].1);
            i += 1;
            continue;
        }
        let together = chars[i..]
            .iter()
            .take_while(|c| digit(c.1).is_some())
            .count();
        if (6..=7).contains(&together)
            && let Some(tail) = replacement_tail(&chars, i + 6)
        {
            let digits: Vec<u8> = chars[i..i + 6].iter().filter_map(|c| digit(c.1)).collect();
            out.push_str(&masked(&digits, true));
            changed = true;
            i += 6 + tail;
            continue;
        }
        let (end, digits, separated) = run_at(&chars, i);
        let from = chars[i].0;
        let to = chars.get(end).map_or(text.len(), |c| c.0);
        if digits.len() >= MIN_DIGITS && (separated || !is_hash_word(text, from, to)) {
            out.push_str(&masked(&digits, (10..=11).contains(&digits.len())));
            changed = true;
        } else {
            out.push_str(&text[from..to]);
        }
        i = end;
    }
    if changed {
        Cow::Owned(out)
    } else {
        Cow::Borrowed(text)
    }
}

/// [`mask_cpr`] for an owned string (a `String`, or a `Cow<'static, str>` that may borrow a
/// shared text): no copy when there is nothing to mask.
pub fn mask_string<T: AsRef<str> + From<String>>(text: T) -> T {
    match mask_cpr(text.as_ref()) {
        Cow::Owned(masked) => T::from(masked),
        Cow::Borrowed(_) => text,
    }
}

/// Whether `text` holds anything [`mask_cpr`] would mask.
pub fn has_cpr_like(text: &str) -> bool {
    matches!(mask_cpr(text), Cow::Owned(_))
}

/// The rest of a replacement number `DDMMYY-CAAG` after its six digits: a dash or another
/// separator (optional), a digit, two letters, a digit, and no letter or digit after it.
/// Returns how many characters it takes.
fn replacement_tail(chars: &[(usize, char)], at: usize) -> Option<usize> {
    let c = |i: usize| chars.get(i).map(|c| c.1);
    let sep = usize::from(c(at).is_some_and(is_separator));
    let i = at + sep;
    let shape = c(i).and_then(digit).is_some()
        && c(i + 1).is_some_and(|x| x.is_ascii_alphabetic())
        && c(i + 2).is_some_and(|x| x.is_ascii_alphabetic())
        && c(i + 3).and_then(digit).is_some()
        && !c(i + 4).is_some_and(|x| x.is_alphanumeric());
    shape.then_some(sep + 4)
}

/// The masked form of a number with these digits; its first six are shown when
/// `date_first` (the number has the shape of a CPR or replacement number) and they are a
/// plausible date.
fn masked(digits: &[u8], date_first: bool) -> String {
    let d = |i: usize| (digits[i] - b'0') as u32;
    let plausible_date = date_first
        && (1..=31).contains(&(d(0) * 10 + d(1)))
        && (1..=12).contains(&(d(2) * 10 + d(3)));
    if plausible_date {
        let mut s = String::with_capacity(11);
        s.extend(digits[..6].iter().map(|&b| b as char));
        s.push_str("-****");
        s
    } else {
        MASKED.to_string()
    }
}

/// The run of digit groups starting at `chars[i]` (a digit): the index after its last digit,
/// its digits (as ASCII), and whether separators split it.
fn run_at(chars: &[(usize, char)], i: usize) -> (usize, Vec<u8>, bool) {
    let mut digits = Vec::new();
    let mut j = i;
    let mut separated = false;
    loop {
        while let Some(d) = chars.get(j).and_then(|c| digit(c.1)) {
            digits.push(d);
            j += 1;
        }
        let mut k = j;
        while k < chars.len() && k - j < MAX_SEPARATORS && is_separator(chars[k].1) {
            k += 1;
        }
        if k > j && chars.get(k).is_some_and(|c| digit(c.1).is_some()) {
            separated = true;
            j = k;
        } else {
            return (j, digits, separated);
        }
    }
}

/// Whether text[from..to] (digits only) lies in a word of exactly 64 hex characters.
fn is_hash_word(text: &str, from: usize, to: usize) -> bool {
    let b = text.as_bytes();
    let start = b[..from]
        .iter()
        .rposition(|c| !c.is_ascii_alphanumeric())
        .map_or(0, |p| p + 1);
    let end = b[to..]
        .iter()
        .position(|c| !c.is_ascii_alphanumeric())
        .map_or(b.len(), |p| to + p);
    end - start == HASH_LEN && b[start..end].iter().all(u8::is_ascii_hexdigit)
}

/// An ASCII or full-width digit, as its ASCII byte.
fn digit(c: char) -> Option<u8> {
    match c {
        '0'..='9' => Some(c as u8),
        '０'..='９' => Some(b'0' + (c as u32 - '０' as u32) as u8),
        _ => None,
    }
}

/// What people put between the groups of a CPR number.
fn is_separator(c: char) -> bool {
    matches!(
        c,
        ' ' | '\t' | '\u{a0}' | '\u{2007}' | '\u{2009}' | '\u{202f}' | '-' | '\u{2010}'
            ..='\u{2015}' | '\u{2212}' | '/' | '.' | '_'
    )
}

/// A quick test that rules most texts out without looking at them closely: fewer than 8
/// digits in all (a replacement number has 8).
fn may_hold_cpr(text: &str) -> bool {
    const AT_LEAST: usize = 8;
    if text.is_ascii() {
        text.bytes().filter(u8::is_ascii_digit).count() >= AT_LEAST
    } else {
        text.chars().filter(|&c| digit(c).is_some()).count() >= AT_LEAST
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(s: &str) -> String {
        mask_cpr(s).into_owned()
    }

    #[test]
    fn the_spellings_of_the_issue() {
        assert_eq!(m("0101801234"), "010180-****");
        assert_eq!(m("010180-1234"), "010180-****");
        assert_eq!(m("010180 1234"), "010180-****");
        assert_eq!(m("010180/1234"), "010180-****");
        assert_eq!(m("01.01.80.1234"), "010180-****");
        assert_eq!(m("01.01.80-1234"), "010180-****");
        assert_eq!(m("010180–1234"), "010180-****"); // en dash
        assert_eq!(m("010180 - 1234"), "010180-****");
        assert_eq!(m("x0101801234"), "x010180-****");
        assert_eq!(m("CPR:0101801234."), "CPR:010180-****.");
        assert_eq!(m("0101801234x"), "010180-****x");
        assert_eq!(m("01018012345"), "010180-****"); // an 11th digit
        assert_eq!(m("010180-12345"), "010180-****"); // a 5-digit tail
        assert_eq!(m("101801234"), MASKED); // the leading 0 lost: no date part to show
        assert_eq!(m("123456789012"), MASKED);
        assert_eq!(m("991301-1234"), MASKED); // not a date
        assert_eq!(m("０１０１８０１２３４"), "010180-****"); // full-width digits
        // Replacement numbers (DDMMYY-CAAG) identify a person too.
        assert_eq!(m("010180-1AB2"), "010180-****");
        assert_eq!(m("e-cpr 0101801ab2."), "e-cpr 010180-****.");
        assert_eq!(m("010180-1AB2C"), "010180-1AB2C");
        assert_eq!(
            m("a 010180-1234 and 020290 5678."),
            "a 010180-**** and 020290-****."
        );
    }

    #[test]
    fn short_numbers_stay() {
        for s in [
            "",
            "2026",
            "101",
            "line 12345678",
            "05-02-2026",
            "born 01-01-1980, after the count date 05-02-2026",
            "1,234,567,890 rows",
            "12.5",
            "the row is for 2024, this count is 2026",
        ] {
            assert_eq!(mask_cpr(s), Cow::Borrowed(s), "{s}");
            assert!(!has_cpr_like(s));
        }
    }

    #[test]
    fn hashes_stay_but_not_a_number_inside_a_longer_word() {
        let key = "0101801234abcdef0101801234abcdef0101801234abcdef0101801234abcdef";
        assert_eq!(key.len(), 64);
        assert_eq!(mask_cpr(key), Cow::Borrowed(key));
        assert_eq!(m(&format!("key {key}.")), format!("key {key}."));
        // 65 or 63 characters: not a hash.
        assert!(has_cpr_like(&format!("{key}0")));
        assert!(has_cpr_like(&key[1..]));
        // A hash-length word with a letter beyond f is not hex.
        let word = format!("{}g", &key[..63]);
        assert!(has_cpr_like(&word));
    }

    #[test]
    fn separators_join_only_digits() {
        // Three separators at most, and only between digits.
        assert_eq!(m("010180    1234"), "010180    1234");
        assert_eq!(m("0101 - 80 - 1234"), "010180-****");
        assert_eq!(m("12345, 6789"), "12345, 6789");
        assert_eq!(m("-0101801234-"), "-010180-****-");
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            /// Whatever surrounds it and however it is written, no 9 digits of a CPR number
            /// come through, and masking twice changes nothing more.
            #[test]
            fn no_cpr_digits_survive(
                before in "[^0-9０-９]{0,12}",
                after in "[^0-9０-９]{0,12}",
                cpr in "[0-9]{10,11}",
                seps in prop::collection::vec(prop::sample::select(
                    vec!["", "-", " ", "/", ".", "–", " - ", "_"]), 10),
            ) {
                let mut written = String::new();
                for (i, c) in cpr.chars().enumerate() {
                    written.push(c);
                    if i + 1 < cpr.len() { written.push_str(seps[i % seps.len()]); }
                }
                let text = format!("{before}{written}{after}");
                let out = m(&text);
                let kept: String = out.chars().filter(|c| c.is_ascii_digit()).collect();
                prop_assert!(!kept.contains(&cpr[..9]), "{text:?} -> {out:?}");
                prop_assert!(!kept.contains(&cpr[cpr.len() - 9..]), "{text:?} -> {out:?}");
                prop_assert_eq!(m(&out), out.clone());
            }
        }
    }
}
