//! The row rules: a valid header line, then any bytes as data rows, through the whole
//! validator of one file. Every row is accepted or gets problems; nothing panics.
#![no_main]

use libfuzzer_sys::fuzz_target;

const HEADER: &[u8] = b"count_year,respondent_id,respondent_type,cpr,birth_date,sex,initials,\
municipality,home_municipality,situation,residence,duration,mental_illness,substance_abuse,\
income,children,support,housing_queue,action_plan\n";

fuzz_target!(|data: &[u8]| {
    let file = hcount_fuzz::scratch_file(&[HEADER, data].concat(), "csv");
    let year = hcount_intake::validate::CountYear::new(2024).unwrap();
    if let Ok(outcome) = hcount_intake::validate::validate_file(&file, year, &mut ()) {
        let r = &outcome.report;
        let _ = (r.file.len(), outcome.problems.len());
    }
});
