//! Issue #10 "Trust", part A: hcount used as an attacker and a careless user would. Rows never
//! vanish (an unclosed quote, a linked folder, a second sheet), hostile files get a clear
//! message and a non-zero exit instead of an abort or a balloon, one language rule, and
//! warnings about the key.

use crate::util::*;

fn validate(paths: &[&std::path::Path], extra: &[&str]) -> std::process::Output {
    hcount()
        .arg("validate")
        .args(paths)
        .args(extra)
        .output()
        .unwrap()
}

fn json(out: &std::process::Output) -> serde_json::Value {
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("{e}: {}{}", stdout(out), stderr(out)))
}

/// The (line, code) of every rejection in `validate --format json` output.
fn problems(v: &serde_json::Value) -> Vec<(u64, String)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["severity"] == "error")
        .map(|p| {
            (
                p["line"].as_u64().unwrap(),
                p["code"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

#[test]
fn an_unclosed_quote_in_a_rows_last_field_rejects_every_row_it_swallowed() {
    let ws = Workspace::new();
    let good = csv(&[row(&[])]);
    let body = good.lines().nth(1).unwrap();
    // Line 3's last field opens a quote that is never closed: lines 4 and 5 are swallowed.
    let text = format!("{good}{body}\"\n{body}\n{body}\n");
    let path = ws.write("q.csv", text);
    let out = validate(&[&path], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["total"]["rows_read"], 4);
    assert_eq!(v["total"]["rows_accepted"], 1);
    assert_eq!(v["total"]["rows_rejected"], 3);
    assert_eq!(
        problems(&v),
        vec![
            (3, "E015".to_string()),
            (4, "E015".to_string()),
            (5, "E015".to_string())
        ]
    );
    let first = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "E015")
        .unwrap();
    let reason = first["reason"].as_str().unwrap();
    assert!(reason.contains("linje 3"), "{reason}");
}

#[test]
fn a_cell_with_a_line_break_is_still_one_row() {
    // Alt+Enter in Excel: a quoted value across lines that are not rows on their own.
    let ws = Workspace::new();
    let text = csv(&[row(&[("situation", "shel\nter")]), row(&[])]);
    let path = ws.write("cell.csv", text);
    let v = json(&validate(&[&path], &["--format", "json"]));
    assert_eq!(v["total"]["rows_read"], 2);
    assert_eq!(v["total"]["rows_rejected"], 1);
    assert_eq!(problems(&v), vec![(2, "E003".to_string())]);
}

#[test]
fn an_unclosed_quote_in_the_header_refuses_the_file() {
    let ws = Workspace::new();
    let text = format!("\"{}", csv(&[row(&[]), row(&[])]));
    let path = ws.write("h.csv", text);
    let out = validate(&[&path], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("header") && err.contains("line 1"), "{err}");
}

#[test]
fn a_linked_folder_is_followed_and_a_loop_is_refused() {
    let ws = Workspace::new();
    let elsewhere = ws.path().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(elsewhere.join("b.csv"), csv(&[row(&[]), row(&[])])).unwrap();
    ws.write("a.csv", csv(&[row(&[])]));
    std::os::unix::fs::symlink(&elsewhere, ws.input().join("linked")).unwrap();
    let v = json(&validate(&[&ws.input()], &["--format", "json"]));
    assert_eq!(v["total"]["rows_read"], 3);
    assert_eq!(v["files"][1]["file"], "linked/b.csv");
    // A link back up: the folder would be read again and again.
    std::os::unix::fs::symlink(&ws.input(), elsewhere.join("back")).unwrap();
    let out = validate(&[&ws.input()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("same folder"), "{}", stderr(&out));
}

#[test]
fn one_file_reached_twice_is_refused() {
    let ws = Workspace::new();
    let a = ws.write("a.csv", csv(&[row(&[])]));
    std::os::unix::fs::symlink(&a, ws.input().join("copy.csv")).unwrap();
    let out = validate(&[&ws.input()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("same file"), "{}", stderr(&out));
}

/// A workbook whose sheets are given as (name, rows of cells).
fn workbook(path: &std::path::Path, sheets: &[(&str, Vec<Vec<String>>)]) {
    let mut book = rust_xlsxwriter::Workbook::new();
    for (name, rows) in sheets {
        let sheet = book.add_worksheet();
        sheet.set_name(*name).unwrap();
        for (r, cells) in rows.iter().enumerate() {
            for (c, v) in cells.iter().enumerate() {
                if !v.is_empty() {
                    sheet.write_string(r as u32, c as u16, v).unwrap();
                }
            }
        }
    }
    book.save(path).unwrap();
}

fn header() -> Vec<String> {
    COLUMNS.iter().map(|c| c.to_string()).collect()
}

#[test]
fn the_sheet_with_the_header_is_read_wherever_it_is() {
    let ws = Workspace::new();
    let path = ws.input().join("book.xlsx");
    let notes = vec![vec!["Indberetning fra herberg Nord".to_string()]];
    workbook(
        &path,
        &[
            ("Noter", notes),
            ("Data", vec![header(), row(&[]), row(&[])]),
        ],
    );
    let v = json(&validate(&[&path], &["--format", "json"]));
    assert_eq!(v["total"]["rows_read"], 2);
    assert_eq!(v["total"]["rows_accepted"], 2);
    // The sheet of notes was not read, and validate says so (W014), naming it.
    let out = validate(&[&path], &["--lang", "en"]);
    assert_eq!(out.status.code(), Some(0));
    let text = stdout(&out);
    assert!(
        text.contains("W014") && text.contains("\"Noter\""),
        "{text}"
    );
}

#[test]
fn rows_on_two_sheets_refuse_the_workbook() {
    let ws = Workspace::new();
    let path = ws.input().join("book.xlsx");
    workbook(
        &path,
        &[
            ("Ark1", vec![header(), row(&[])]),
            ("Ark2", vec![header(), row(&[])]),
        ],
    );
    let out = validate(&[&path], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("\"Ark1\", \"Ark2\""), "{err}");
}

#[test]
fn a_value_in_the_last_cell_of_a_sheet_is_one_rejected_row_not_an_abort() {
    let ws = Workspace::new();
    let path = ws.input().join("far.xlsx");
    let mut book = rust_xlsxwriter::Workbook::new();
    let sheet = book.add_worksheet();
    for (c, h) in COLUMNS.iter().enumerate() {
        sheet.write_string(0, c as u16, *h).unwrap();
    }
    for (c, v) in row(&[]).iter().enumerate() {
        sheet.write_string(1, c as u16, v).unwrap();
    }
    // XFD1048576: the last cell Excel has.
    sheet.write_string(1_048_575, 16_383, "x").unwrap();
    book.save(&path).unwrap();
    let out = validate(&[&path], &["--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let v = json(&out);
    assert_eq!(v["total"]["rows_read"], 2);
    assert_eq!(problems(&v), vec![(1_048_576, "E013".to_string())]);
}

#[test]
fn a_line_of_only_delimiters_past_excels_column_limit_is_refused() {
    let ws = Workspace::new();
    let mut text = csv(&[row(&[])]);
    text.push_str(&",".repeat(100_000));
    text.push_str("x\n");
    let path = ws.write("wide.csv", text);
    let out = validate(&[&path], &[]);
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(
        err.contains("line 3") && err.contains("16384 fields"),
        "{err}"
    );
}

#[test]
fn a_device_as_key_file_is_refused_after_4_kib() {
    let ws = Workspace::new();
    ws.write("a.csv", csv(&[row(&[])]));
    let out = hcount()
        .arg("run")
        .arg(ws.input())
        .arg("--out")
        .arg(ws.out())
        .args(["--key-file", "/dev/zero", "--year", "2024"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("more than 4096 bytes"),
        "{}",
        stderr(&out)
    );
    assert!(!ws.out().exists());
}

#[test]
fn key_warnings_readable_key_file_and_demo_key_on_real_data() {
    use std::os::unix::fs::PermissionsExt;
    let ws = Workspace::new();
    ws.write("a.csv", csv(&[row(&[])]));
    std::fs::set_permissions(ws.key(), std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = ws.run(&["--quiet"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("can be read by the group and others"), "{err}");
    assert!(err.contains("chmod 600"), "{err}");
    std::fs::set_permissions(ws.key(), std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = ws.run(&["--quiet"]);
    assert!(!stderr(&out).contains("warning"), "{}", stderr(&out));

    let demo =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-key.NOT-SECRET.txt");
    let out = hcount()
        .arg("run")
        .arg(ws.input())
        .arg("--out")
        .arg(ws.out())
        .arg("--key-file")
        .arg(&demo)
        .arg("--quiet")
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("published demo key"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn danish_is_the_default_of_every_text_and_en_switches() {
    let ws = Workspace::new();
    ws.write("a.csv", csv(&[row(&[("situation", "homless")]), row(&[])]));
    let da = stdout(&validate(&[&ws.input()], &[]));
    assert!(da.contains("rækker læst"), "{da}");
    let en = stdout(&validate(&[&ws.input()], &["--lang", "en"]));
    assert!(en.contains("rows read"), "{en}");
    let help = stdout(&hcount().args(["validate", "--help"]).output().unwrap());
    assert!(help.contains("[default: da]"), "{help}");
    assert!(!help.contains("[default: en]"), "{help}");
    let rules = stdout(&hcount().arg("rules").output().unwrap());
    assert!(rules.contains("E015  et anførselstegn"), "{rules}");

    assert!(ws.run(&["--quiet"]).status.success());
    let md = std::fs::read_to_string(ws.out().join("feedback/r1.md")).unwrap();
    assert!(md.starts_with("# Tilbagemelding til r1"), "{md}");
    assert!(
        md.contains("værdien er ikke en af de tilladte koder"),
        "{md}"
    );
    let html = std::fs::read_to_string(ws.out().join("feedback/r1.html")).unwrap();
    assert!(html.contains("<html lang=\"da\">"));
    let report = std::fs::read_to_string(ws.out().join("report.html")).unwrap();
    assert!(report.contains("lang=\"da\""));

    assert!(ws.run(&["--quiet", "--lang", "en"]).status.success());
    let md = std::fs::read_to_string(ws.out().join("feedback/r1.md")).unwrap();
    assert!(md.starts_with("# Feedback to r1"), "{md}");
}

/// A workbook that makes calamine panic (found by fuzzing): refused as damaged with exit 2,
/// and no Rust panic message reaches the caseworker's terminal.
#[test]
fn a_workbook_that_crashes_the_excel_reader_is_refused_as_damaged_without_a_panic_message() {
    let ws = Workspace::new();
    let path = ws.input().join("skadet.xlsx");
    std::fs::copy(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz/seeds/xlsx_reader/calamine-mul-overflow.xlsx"),
        &path,
    )
    .unwrap();
    let out = validate(&[&path], &[]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains("damaged"), "{err}");
    assert!(!err.contains("panicked"), "{err}");
}
