//! The submitter's experience: .xlsx files, the template, hints, Danish messages, feedback,
//! and a clear answer (never a panic) for bad input.

use crate::util::*;

/// `validate` in English unless `extra` names a language (Danish is the default).
fn validate(paths: &[&std::path::Path], extra: &[&str]) -> std::process::Output {
    let mut cmd = hcount();
    cmd.arg("validate").args(paths).args(extra);
    if !extra.contains(&"--lang") {
        cmd.args(["--lang", "en"]);
    }
    cmd.output().unwrap()
}

/// An .xlsx submission as Excel users make them: numbers typed as numbers, a date cell.
fn write_xlsx(path: &std::path::Path) {
    use rust_xlsxwriter::{ExcelDateTime, Format, Workbook};
    let mut book = Workbook::new();
    let sheet = book.add_worksheet();
    let header = [
        "taelleaar",
        "respondent",
        "respondenttype",
        "cpr",
        "foedselsdato",
        "koen",
        "initialer",
        "kommune",
        "situation",
    ];
    for (i, h) in header.iter().enumerate() {
        sheet.write_string(0, i as u16, *h).unwrap();
    }
    let date = Format::new().set_num_format("dd-mm-yyyy");
    // Row 2: a CPR typed as text; fine.
    sheet.write_number(1, 0, 2024).unwrap();
    sheet.write_string(1, 1, "psyk-1").unwrap();
    sheet.write_string(1, 2, "psychiatry").unwrap();
    sheet.write_string(1, 3, "010180-1235").unwrap();
    sheet.write_number(1, 7, 101).unwrap();
    sheet.write_string(1, 8, "hospital_discharge").unwrap();
    // Row 3: a CPR typed as a number: Excel drops the leading zero.
    sheet.write_number(2, 0, 2024).unwrap();
    sheet.write_string(2, 1, "psyk-1").unwrap();
    sheet.write_string(2, 2, "psychiatry").unwrap();
    sheet.write_number(2, 3, 101801235.0).unwrap();
    sheet.write_number(2, 7, 101).unwrap();
    sheet.write_string(2, 8, "shelter").unwrap();
    // Row 4: no CPR; birth date as an Excel date cell.
    sheet.write_number(3, 0, 2024).unwrap();
    sheet.write_string(3, 1, "psyk-1").unwrap();
    sheet.write_string(3, 2, "psychiatry").unwrap();
    let d = ExcelDateTime::from_ymd(1980, 1, 1).unwrap();
    sheet.write_datetime_with_format(3, 4, &d, &date).unwrap();
    sheet.write_string(3, 5, "m").unwrap();
    sheet.write_string(3, 6, "JPH").unwrap();
    sheet.write_number(3, 7, 751).unwrap();
    sheet.write_string(3, 8, "rough_sleeping").unwrap();
    book.save(path).unwrap();
}

#[test]
fn xlsx_submissions_are_read_and_a_lost_leading_zero_is_explained() {
    let ws = Workspace::new();
    let path = ws.input().join("psyk.xlsx");
    write_xlsx(&path);
    let out = validate(&[&path], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["rows_read"], 3);
    assert_eq!(v["total"]["rows_accepted"], 2);
    let p = &v["problems"][0];
    assert_eq!(p["code"], "E007");
    assert_eq!(p["line"], 3);
    assert!(p["reason"].as_str().unwrap().contains("leading 0"), "{p}");
    assert_eq!(p["value"], "******-****");

    // The run counts the xlsx rows like CSV rows: the date cell links row 4 to the CPR person
    // of row 2 (with no initials on the CPR row there is no link, so two persons).
    let out = ws.run(&[]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "2");
    assert_eq!(
        ws.value("tables/national_by_category.csv", "rough_sleeping"),
        "1"
    );
}

#[test]
fn the_template_validates_clean() {
    let ws = Workspace::new();
    let out = hcount()
        .args(["template", "--year", "2024", "--out"])
        .arg(ws.input())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(ws.input().join("hcount-skabelon.csv").exists());
    assert!(ws.input().join("hcount-skabelon.xlsx").exists());
    let out = validate(&[&ws.input()], &[]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    assert!(
        stdout(&out).contains("2 rows read, 2 accepted, 0 rejected, 0 warnings"),
        "{}",
        stdout(&out)
    );
    // The workbook has the code sheet a caseworker picks codes from.
    use calamine::Reader;
    let mut book = calamine::open_workbook_auto(ws.input().join("hcount-skabelon.xlsx")).unwrap();
    assert!(book.sheet_names().contains(&"Koder".to_string()));
    let codes = book.worksheet_range("Koder").unwrap();
    assert!(
        codes
            .rows()
            .any(|r| r.iter().any(|c| c.to_string() == "Gadesovende"))
    );
}

#[test]
fn hints_for_typos_and_delimiters() {
    let ws = Workspace::new();
    let typo = ws.write(
        "typo.csv",
        "count_year,respondent_id,respondent_type,municipality,situatoin\n2024,r1,shelter,101,shelter\n",
    );
    let out = validate(&[&typo], &[]);
    assert!(
        stdout(&out).contains("found \"situatoin\" — a typo?"),
        "{}",
        stdout(&out)
    );
    let tabs = ws.write(
        "tabs.csv",
        "count_year\trespondent_id\trespondent_type\tmunicipality\tsituation\n2024\tr1\tshelter\t101\tshelter\n",
    );
    let out = validate(&[&tabs], &[]);
    assert!(
        stdout(&out).contains("separated by tabs"),
        "{}",
        stdout(&out)
    );
    let code = ws.write("code.csv", csv(&[row(&[("situation", "rough_sleping")])]));
    let out = validate(&[&code], &[]);
    assert!(
        stdout(&out).contains("did you mean \"rough_sleeping\"?"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn danish_messages() {
    let ws = Workspace::new();
    ws.write(
        "herberg.csv",
        csv(&[
            row(&[("cpr", "310299-1234")]),
            row(&[("situation", "herberg")]),
            row(&[("municipality", "999"), ("children", "mange")]),
        ]),
    );
    let out = validate(&[&ws.input()], &["--lang", "da"]);
    assert_eq!(out.status.code(), Some(1));
    insta::assert_snapshot!("validate_text_da", stdout(&out));
}

#[test]
fn bad_input_gets_a_clear_answer_never_a_panic() {
    let ws = Workspace::new();
    let dir = ws.path();
    let cases: Vec<(&str, Vec<u8>, i32, &str)> = vec![
        ("empty.csv", Vec::new(), 0, "W011"),
        (
            "header-only.csv",
            b"count_year;respondent_id;respondent_type;municipality;situation\r\n".to_vec(),
            0,
            "W011",
        ),
        (
            "junk.csv",
            (0..4096u32).map(|i| (i * 7919 % 251) as u8).collect(),
            2,
            "binary",
        ),
        (
            "utf16.csv",
            b"\xFF\xFEc\0o\0u\0n\0t\0".to_vec(),
            2,
            "UTF-16",
        ),
        (
            "really-csv.xlsx",
            csv(&[row(&[])]).into_bytes(),
            2,
            "rename it to .csv",
        ),
    ];
    for (name, bytes, code, want) in cases {
        let path = dir.join(name);
        std::fs::write(&path, bytes).unwrap();
        let out = validate(&[&path], &[]);
        let text = format!("{}{}", stdout(&out), stderr(&out));
        assert_eq!(out.status.code(), Some(code), "{name}: {text}");
        assert!(text.contains(want), "{name}: {text}");
        assert!(!text.contains("panicked"), "{name}: {text}");
        if code == 2 {
            assert_eq!(
                stderr(&out).lines().count(),
                1,
                "{name}: one line: {}",
                stderr(&out)
            );
        }
    }

    // 10,000 columns: one summary warning for the unknown ones, the row still validates.
    let mut header: Vec<String> = crate::util::COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend((0..10_000).map(|i| format!("extra{i}")));
    let mut values = row(&[]);
    values.extend((0..10_000).map(|_| String::new()));
    let wide = dir.join("wide.csv");
    std::fs::write(
        &wide,
        format!("{}\n{}\n", header.join(","), values.join(",")),
    )
    .unwrap();
    let out = validate(&[&wide], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["total"]["rows_accepted"], 1);
    let w001 = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == "W001")
        .count();
    assert_eq!(w001, 11, "ten listed, one summary");

    // A 10 MB field: read, and shown cut short.
    let big = dir.join("big-field.csv");
    std::fs::write(&big, csv(&[row(&[("initials", &"x".repeat(10 << 20))])])).unwrap();
    let out = validate(&[&big], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["problems"][0]["value"].as_str().unwrap().chars().count() <= 81);

    // A folder with no submissions, and a file that cannot be opened.
    let none = dir.join("nothing");
    std::fs::create_dir(&none).unwrap();
    std::fs::write(none.join("notes.txt"), "hello").unwrap();
    let out = validate(&[&none], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("no submission files"));
    let dangling = dir.join("gone.csv");
    std::os::unix::fs::symlink(dir.join("does-not-exist"), &dangling).unwrap();
    let out = validate(&[&dangling], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert_eq!(stderr(&out).lines().count(), 1, "{}", stderr(&out));
}

#[test]
fn each_unit_gets_feedback_about_its_own_files_only() {
    let ws = Workspace::new();
    ws.write(
        "shelter.csv",
        csv(&[
            row(&[("cpr", "010180-1235"), ("respondent_id", "shelter-101")]),
            row(&[("cpr", "020280-1234"), ("respondent_id", "shelter-101")]),
            row(&[("municipality", "999"), ("respondent_id", "shelter-101")]),
        ]),
    );
    ws.write(
        "outreach.csv",
        csv(&[row(&[
            ("cpr", "010180-1235"),
            ("respondent_id", "outreach-751"),
            ("situation", "rough_sleeping"),
        ])]),
    );
    // English, as the texts below (Danish, the default, is tested in hostile.rs).
    assert!(ws.run(&["--lang", "en"]).status.success());
    let shelter = std::fs::read_to_string(ws.out().join("feedback/shelter-101.md")).unwrap();
    assert!(shelter.contains("| Rows accepted | 2 |"), "{shelter}");
    assert!(
        shelter.contains("| ... of whom other units reported too | 1 |"),
        "{shelter}"
    );
    assert!(shelter.contains("E012"));
    assert!(
        !shelter.contains("outreach"),
        "no other unit's data: {shelter}"
    );
    let outreach = std::fs::read_to_string(ws.out().join("feedback/outreach-751.md")).unwrap();
    assert!(outreach.contains("No problems were found"));
    assert!(!outreach.contains("shelter"));
    assert!(ws.out().join("feedback/outreach-751.html").exists());
}
