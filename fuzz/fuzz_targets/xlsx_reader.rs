//! The .xlsx reader (a zip of XML, read by calamine) on any bytes: records or an error, never
//! a panic. Seeded with real workbooks, so mutations reach past the zip header.
//!
//! calamine itself panics on some damaged workbooks; the intake catches those panics and
//! refuses the file (`ingest::guarded`). libFuzzer's panic hook aborts at the panic, before
//! the intake could catch it, so the target puts the intake's own hook in front of it: a
//! panic inside the workbook reader unwinds to the intake, every other panic still aborts
//! and is a crash (seed: seeds/xlsx_reader/calamine-mul-overflow.xlsx).
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(
    init: hcount_intake::ingest::keep_workbook_reader_panics_quiet(),
    |data: &[u8]| {
        let file = hcount_fuzz::scratch_file(data, "xlsx");
        let _ = hcount_intake::ingest::read_records(&file, |_, record| {
            for i in 0..record.len() {
                let _ = record.get(i);
            }
            true
        });
    }
);
