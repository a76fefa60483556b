//! The .xlsx reader (a zip of XML, read by calamine) on any bytes: records or an error, never
//! a panic. Seeded with real workbooks, so mutations reach past the zip header.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = hcount_fuzz::scratch_file(data, "xlsx");
    let _ = hcount_intake::ingest::read_records(&file, |_, record| {
        for i in 0..record.len() {
            let _ = record.get(i);
        }
        true
    });
});
