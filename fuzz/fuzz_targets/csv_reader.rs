//! The CSV reader (encoding and delimiter detection, quoting, line numbers) on any bytes: it
//! must return records or an error, never panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let file = hcount_fuzz::scratch_file(data, "csv");
    let mut last_line = 0;
    let _ = hcount_intake::ingest::read_records(&file, |line, record| {
        // Records come in file order.
        assert!(line >= last_line, "line {line} after {last_line}");
        last_line = line;
        for i in 0..record.len() {
            let _ = record.get(i);
        }
        let _ = record.is_blank();
        true
    });
});
