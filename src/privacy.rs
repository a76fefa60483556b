//! Where text leaves the program, it passes the CPR mask: one rule, in the intake crate
//! ([`crate::intake::mask`]), applied at each boundary — problems as they are made
//! (`validate`), file names as they are found (`ingest::discover`), every CSV cell
//! (`count::tables`), every JSON string (here), every value put into a report or feedback
//! page (`publish`), and every message printed (`cli`).

pub use crate::intake::mask::{has_cpr_like, mask_cpr};

/// Masks every string in a JSON value (keys are ours and stay). Numbers are left alone: they
/// are counts, sizes and timings, never a submitted value.
pub fn mask_json(value: &mut serde_json::Value) {
    use serde_json::Value;
    match value {
        Value::String(s) => {
            if has_cpr_like(s) {
                *s = mask_cpr(s).into_owned();
            }
        }
        Value::Array(items) => items.iter_mut().for_each(mask_json),
        Value::Object(map) => map.values_mut().for_each(mask_json),
        Value::Null | Value::Bool(_) | Value::Number(_) => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_masked_and_numbers_kept() {
        let mut v = serde_json::json!({
            "file": "0101801234.csv",
            "bytes": 1_234_567_890,
            "list": ["x 010180-1234", "2026"],
        });
        mask_json(&mut v);
        assert_eq!(
            v,
            serde_json::json!({
                "file": "010180-****.csv",
                "bytes": 1_234_567_890,
                "list": ["x 010180-****", "2026"],
            })
        );
    }
}
