//! The CPR parser and the masking of CPR values in messages, on any text.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|value: &str| {
    let parsed = hcount_intake::cpr::parse(value);
    if let Ok(cpr) = &parsed {
        // The canonical form is itself a valid number, and the same one.
        let canonical = std::str::from_utf8(cpr.canonical()).expect("canonical is ASCII");
        assert_eq!(hcount_intake::cpr::parse(canonical).as_ref(), Ok(cpr));
    }
    let _ = hcount_intake::cpr::mask(value);
});
