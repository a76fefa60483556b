//! The Danish CPR number and replacement numbers (e-CPR), as the format spec defines them.
//!
//! The raw number never leaves the ingest step: callers hash [`Cpr::canonical`] at once and
//! show only [`mask`] in messages.

use chrono::NaiveDate;

/// A parsed identification number.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cpr {
    /// A CPR number: 10 digits, with the birth date and sex it encodes.
    Person {
        digits: [u8; 10],
        birth_date: NaiveDate,
        male: bool,
    },
    /// A replacement number `DDMMYY-CAAG`: identifies, but gives no birth date or sex.
    Replacement { chars: [u8; 10] },
}

/// Why a CPR value is not valid (the raw value is deliberately not carried).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CprError {
    /// Not 10 digits (with an optional dash after 6), nor a replacement number.
    Format,
    /// The first six digits are not a real date.
    Date,
}

impl Cpr {
    /// The normalised value that is hashed: 10 digits, or `DDMMYYCAAG` upper-cased.
    pub fn canonical(&self) -> &[u8; 10] {
        match self {
            Cpr::Person { digits, .. } => digits,
            Cpr::Replacement { chars } => chars,
        }
    }
}

/// Parses `DDMMYY-SSSS`, `DDMMYYSSSS` or a replacement number `DDMMYY-CAAG` (letters in
/// positions 8–9). The input must already be trimmed.
pub fn parse(value: &str) -> Result<Cpr, CprError> {
    let b = value.as_bytes();
    let mut chars = [0u8; 10];
    let rest = match b.len() {
        10 => &b[6..],
        11 if b[6] == b'-' => &b[7..],
        _ => return Err(CprError::Format),
    };
    chars[..6].copy_from_slice(&b[..6]);
    chars[6..].copy_from_slice(rest);
    if !chars[..7].iter().all(u8::is_ascii_digit) || !chars[9].is_ascii_digit() {
        return Err(CprError::Format);
    }
    let letters = &chars[7..9];
    if letters.iter().all(u8::is_ascii_alphabetic) {
        chars[7..9].make_ascii_uppercase();
        return Ok(Cpr::Replacement { chars });
    }
    if !letters.iter().all(u8::is_ascii_digit) {
        return Err(CprError::Format);
    }
    let d = |i: usize| (chars[i] - b'0') as u32;
    let day = d(0) * 10 + d(1);
    let month = d(2) * 10 + d(3);
    let yy = (d(4) * 10 + d(5)) as i32;
    let century = century(d(6), yy);
    let birth_date = NaiveDate::from_ymd_opt(century + yy, month, day).ok_or(CprError::Date)?;
    Ok(Cpr::Person {
        digits: chars,
        birth_date,
        male: d(9) % 2 == 1,
    })
}

/// The century from digit 7 and `YY` (format spec, "The CPR number").
fn century(digit7: u32, yy: i32) -> i32 {
    match digit7 {
        0..=3 => 1900,
        4 | 9 => {
            if yy <= 36 {
                2000
            } else {
                1900
            }
        }
        _ => {
            if yy <= 57 {
                2000
            } else {
                1800
            }
        }
    }
}

/// What may be shown of a value of the `cpr` column: its first six characters (the date part)
/// and a mask. Anything shorter than six characters is masked whole, and so is what the
/// general rule ([`crate::mask`]) would not show a date part of (9 digits: a number that lost
/// its leading zero, whose first six digits are not its date).
pub fn mask(value: &str) -> String {
    if crate::mask::mask_cpr(value) == crate::mask::MASKED {
        return crate::mask::MASKED.to_string();
    }
    let head: String = value.chars().take(6).collect();
    if head.chars().count() == 6 && head.chars().all(|c| c.is_ascii_digit()) {
        format!("{head}-****")
    } else {
        "******-****".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).unwrap()
    }

    fn birth(value: &str) -> NaiveDate {
        match parse(value).unwrap() {
            Cpr::Person { birth_date, .. } => birth_date,
            other => panic!("not a person number: {other:?}"),
        }
    }

    #[test]
    fn century_rule() {
        // Digit 7 in 0–3: always 1900s.
        assert_eq!(birth("010150-0001"), date(1950, 1, 1));
        assert_eq!(birth("010110-3001"), date(1910, 1, 1));
        // 4 and 9: 2000s up to YY 36, else 1900s.
        assert_eq!(birth("010136-4001"), date(2036, 1, 1));
        assert_eq!(birth("010137-4001"), date(1937, 1, 1));
        assert_eq!(birth("010105-9001"), date(2005, 1, 1));
        assert_eq!(birth("010199-9001"), date(1999, 1, 1));
        // 5–8: 2000s up to YY 57, else 1800s.
        assert_eq!(birth("010157-5001"), date(2057, 1, 1));
        assert_eq!(birth("010158-5001"), date(1858, 1, 1));
        assert_eq!(birth("010199-8001"), date(1899, 1, 1));
        assert_eq!(birth("010101-6001"), date(2001, 1, 1));
    }

    #[test]
    fn forms_and_sex() {
        let a = parse("0101801235").unwrap();
        let b = parse("010180-1235").unwrap();
        assert_eq!(a, b);
        assert!(matches!(a, Cpr::Person { male: true, .. }));
        assert!(matches!(
            parse("010180-1234").unwrap(),
            Cpr::Person { male: false, .. }
        ));
        assert_eq!(a.canonical(), b"0101801235");
    }

    #[test]
    fn invalid() {
        assert_eq!(parse("310299-1234"), Err(CprError::Date));
        assert_eq!(parse("290201-1234"), Err(CprError::Date)); // 1901 is no leap year
        assert_eq!(parse("000180-1234"), Err(CprError::Date));
        assert_eq!(parse("01018-1234"), Err(CprError::Format));
        assert_eq!(parse("0101801234x"), Err(CprError::Format));
        assert_eq!(parse("010180 1234"), Err(CprError::Format));
        assert_eq!(parse("abcdefghij"), Err(CprError::Format));
        assert_eq!(parse("010180-1A34"), Err(CprError::Format));
        assert_eq!(parse(""), Err(CprError::Format));
        // The modulus-11 check is not applied: any serial number is fine.
        assert!(parse("010180-0000").is_ok());
    }

    #[test]
    fn replacement_numbers() {
        let r = parse("010180-1ab2").unwrap();
        assert_eq!(
            r,
            Cpr::Replacement {
                chars: *b"0101801AB2"
            }
        );
        // Their date part is not checked.
        assert!(matches!(parse("999999-1AB2"), Ok(Cpr::Replacement { .. })));
    }

    #[test]
    fn masking() {
        assert_eq!(mask("010180-1234"), "010180-****");
        assert_eq!(mask("0101801234"), "010180-****");
        assert_eq!(mask("12"), "******-****");
        assert_eq!(mask("ab3456789"), "******-****");
        assert_eq!(mask("101801234"), "******-****");
    }

    mod properties {
        use super::*;
        use chrono::Datelike;
        use proptest::prelude::*;

        /// Every digit 7 that, by the spec's table, puts `yy` in `century`.
        fn digit7_for(century: i32, yy: i32) -> Vec<u8> {
            (0u8..=9)
                .filter(|&d| match (century, d) {
                    (1900, 0..=3) => true,
                    (1900, 4 | 9) => yy > 36,
                    (2000, 4 | 9) => yy <= 36,
                    (2000, 5..=8) => yy <= 57,
                    (1800, 5..=8) => yy > 57,
                    _ => false,
                })
                .collect()
        }

        proptest! {
            /// Any real birth date a CPR number can encode comes back from `parse`, with
            /// and without the dash, with the sex of the last digit.
            #[test]
            fn birth_date_and_sex_round_trip(
                days in 0i64..(2057 - 1858) * 366,
                pick in any::<prop::sample::Index>(),
                serial in 0u32..100,
                last in 0u8..=9,
            ) {
                let born = date(1858, 1, 1) + chrono::Duration::days(days);
                prop_assume!(born.year() <= 2057);
                let yy = born.year() % 100;
                let century = born.year() - yy;
                let digits = digit7_for(century, yy);
                prop_assume!(!digits.is_empty());
                let d7 = digits[pick.index(digits.len())];
                let dash = format!(
                    "{:02}{:02}{:02}-{d7}{serial:02}{last}",
                    born.day(), born.month(), yy
                );
                let dashless = dash.replace('-', "");
                for text in [&dash, &dashless] {
                    match parse(text) {
                        Ok(Cpr::Person { birth_date, male, digits }) => {
                            prop_assert_eq!(birth_date, born);
                            prop_assert_eq!(male, last % 2 == 1);
                            prop_assert_eq!(&digits[..], dashless.as_bytes());
                        }
                        other => prop_assert!(false, "{text}: {other:?}"),
                    }
                }
            }

            /// Whatever the input, `parse` does not panic, and `mask` shows at most the six
            /// date digits: never anything after them.
            #[test]
            fn parse_never_panics_and_mask_hides_the_serial(value in "\\PC{0,14}") {
                let _ = parse(&value);
                let masked = mask(&value);
                prop_assert!(masked.ends_with("-****"));
                prop_assert_eq!(masked.chars().count(), 11);
                let tail: String = value.chars().skip(6).filter(|c| c.is_ascii_digit()).collect();
                if tail.len() >= 3 {
                    prop_assert!(!masked.contains(&tail));
                }
            }
        }
    }
}
