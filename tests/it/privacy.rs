//! Issue #10, part B: CPR numbers never show, in any spelling, anywhere; a unit sees only its
//! own rows; Markdown outputs do not carry live HTML or links from submitted values.

use std::path::Path;

use proptest::prelude::*;

use crate::util::*;

/// What people put between the digits of a CPR number; removed before looking for digits.
const SEPARATORS: [char; 8] = [' ', '-', '–', '/', '.', '_', '\u{a0}', '\\'];

/// Fails if any 9 consecutive digits of a CPR number (as typed: `digits`) are in `text`,
/// once the separators are taken out.
fn assert_no_cpr(what: &str, text: &str, numbers: &[String]) {
    let flat: String = text.chars().filter(|c| !SEPARATORS.contains(c)).collect();
    for n in numbers {
        for w in n.as_bytes().windows(9) {
            let w = std::str::from_utf8(w).unwrap();
            if let Some(at) = flat.find(w) {
                let from = flat.floor_char_boundary(at.saturating_sub(80));
                let to = flat.ceil_char_boundary((at + 80).min(flat.len()));
                panic!("{what}: digits {w} of {n} shown: …{}…", &flat[from..to]);
            }
        }
    }
}

/// Every output of a run, as text: Parquet decoded, everything else as bytes.
fn outputs(dir: &Path) -> Vec<(String, String)> {
    tree(dir)
        .into_iter()
        .map(|(name, bytes)| {
            let text = if name.ends_with(".parquet") {
                parquet_strings(&dir.join(&name)).join("\n")
            } else {
                String::from_utf8_lossy(&bytes).into_owned()
            };
            (name, text)
        })
        .collect()
}

/// Runs `validate` in text and JSON, English and Danish, and `run`; checks every printed
/// line and every output file (and its name).
fn assert_nothing_shows(ws: &Workspace, numbers: &[String]) {
    for extra in [
        &[][..],
        &["--lang", "da"][..],
        &["--format", "json"][..],
        &["--format", "json", "--lang", "da"][..],
    ] {
        let out = hcount()
            .arg("validate")
            .arg(ws.input())
            .args(["--year", "2024"])
            .args(extra)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        assert_no_cpr(
            &format!("validate {extra:?} stdout"),
            &stdout(&out),
            numbers,
        );
        assert_no_cpr(
            &format!("validate {extra:?} stderr"),
            &stderr(&out),
            numbers,
        );
    }
    let out = ws.run(&["--year", "2024"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_no_cpr("run stdout", &stdout(&out), numbers);
    assert_no_cpr("run stderr", &stderr(&out), numbers);
    let files = outputs(&ws.out());
    assert!(files.iter().any(|(n, _)| n == "submissions.parquet"));
    assert!(files.iter().any(|(n, _)| n.starts_with("feedback/")));
    for (name, text) in files {
        assert_no_cpr(&format!("file name {name}"), &name, numbers);
        assert_no_cpr(&name, &text, numbers);
    }
}

/// A CPR number written one of the ways the issue lists. Returns (as written, its digits).
fn spell(day: u32, month: u32, yy: u32, serial: u32, way: usize) -> (String, String) {
    let date = format!("{day:02}{month:02}{yy:02}");
    let s = format!("{serial:04}");
    let written = match way {
        0 => format!("{date}{s}"),
        1 => format!("{date}-{s}"),
        2 => format!("{date} {s}"),
        3 => format!("{date}/{s}"),
        4 => format!("{day:02}.{month:02}.{yy:02}.{s}"),
        5 => format!("{date}–{s}"),        // en dash
        6 => format!("x{date}{s}"),        // a letter before
        7 => format!("{date}{s}7"),        // an 11th digit
        8 => format!("{date}-{s}3"),       // a 5-digit tail
        9 => format!("{}{s}", &date[1..]), // the leading 0 lost (or a 9-digit number)
        10 => format!("CPR: {date} - {s}"),
        11 => format!("{date}\u{a0}{s}"), // a no-break space
        _ => format!("{day:02}{month:02}{yy:02}_{s}"),
    };
    let digits = written.chars().filter(char::is_ascii_digit).collect();
    (written, digits)
}

const WAYS: usize = 13;

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 4,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    /// CPR-like numbers in many spellings, in every column, in a header name and in the file
    /// name: no output byte and no printed line shows 9 of their digits.
    #[test]
    fn no_output_shows_a_cpr_number(
        numbers in prop::collection::vec(
            (1u32..=28, 1u32..=12, 0u32..100, 0u32..10_000, 0usize..WAYS),
            COLUMNS.len() + 2..COLUMNS.len() + 8,
        )
    ) {
        let spelled: Vec<(String, String)> = numbers
            .iter()
            .map(|&(d, m, y, s, w)| spell(d, m, y, s, w))
            .collect();
        let digits: Vec<String> = spelled.iter().map(|(_, d)| d.clone()).collect();
        let ws = Workspace::new();
        // One row per number: number k in column k (every column gets one), the others
        // valid; an extra column whose name is a number; a valid row to count.
        let mut rows = vec![{
            let mut r = row(&[("cpr", "010180-1235"), ("respondent_id", "unit-a")]);
            r.push(String::new());
            r
        }];
        for (k, (written, _)) in spelled.iter().enumerate() {
            let column = COLUMNS[k % COLUMNS.len()];
            let unit = if k % 2 == 0 { "unit-a" } else { "unit-b" };
            let mut r = if column == "respondent_id" {
                row(&[(column, written.as_str())])
            } else {
                row(&[("respondent_id", unit), (column, written.as_str())])
            };
            r.push(spelled[(k + 1) % spelled.len()].0.clone());
            rows.push(r);
        }
        let mut header: Vec<String> = COLUMNS.iter().map(|c| c.to_string()).collect();
        header.push(spelled[0].0.clone());
        let mut w = ::csv::WriterBuilder::new()
            .terminator(::csv::Terminator::Any(b'\n'))
            .from_writer(Vec::new());
        w.write_record(&header).unwrap();
        for r in &rows {
            w.write_record(r).unwrap();
        }
        let text = w.into_inner().unwrap();
        ws.write(&format!("unit {}.csv", spelled[1].0), &text);
        ws.write("clean.csv", csv(&[row(&[("respondent_id", "unit-c")])]));
        assert_nothing_shows(&ws, &digits);
    }
}

#[test]
fn a_cpr_number_as_respondent_id_is_refused() {
    let ws = Workspace::new();
    ws.write(
        "s.csv",
        csv(&[
            row(&[("respondent_id", "0101801234")]),
            row(&[("respondent_id", "unit-010180-1234")]),
            row(&[("respondent_id", "shelter-7")]),
        ]),
    );
    ws.run_ok();
    let rejected = ws.problems("rejected.csv");
    assert_eq!(
        rejected,
        vec![
            ("2".into(), "respondent_id".into(), "E016".into()),
            ("3".into(), "respondent_id".into(), "E016".into()),
        ]
    );
    let table = ws.table("rejected.csv");
    assert_eq!(table[1][4], "010180-****");
    assert_eq!(table[2][4], "unit-010180-****");
    assert_eq!(ws.table("tables/intake.csv")[1][1], "shelter-7");
    let feedback: Vec<String> = tree(&ws.out().join("feedback")).into_keys().collect();
    assert_eq!(feedback, vec!["shelter-7.html", "shelter-7.md"]);
    let ids: Vec<String> = parquet_rows(&ws.out().join("submissions.parquet"))
        .into_iter()
        .map(|r| r["respondent_id"].clone())
        .collect();
    assert_eq!(ids, vec!["shelter-7"]);
    // The rule is listed, in English and Danish.
    let rules = stdout(&hcount().args(["rules", "--lang", "en"]).output().unwrap());
    assert!(
        rules.contains("E016  respondent_id looks like a CPR number"),
        "{rules}"
    );
}

#[test]
fn a_unit_sees_only_its_own_rows_of_a_shared_file() {
    let ws = Workspace::new();
    ws.write(
        "shared.csv",
        csv(&[
            row(&[("cpr", "010180-1235"), ("respondent_id", "unit-a")]),
            row(&[("initials", "Q1"), ("respondent_id", "unit-a")]),
            row(&[("initials", "ZZ9SECRET"), ("respondent_id", "unit-b")]),
            row(&[("municipality", "998"), ("respondent_id", "unit-b")]),
            row(&[("respondent_id", "not valid!"), ("duration", "UNKNOWNROW")]),
        ]),
    );
    ws.write(
        "own.csv",
        csv(&[
            row(&[("respondent_id", "unit-c")]),
            row(&[("respondent_id", "also not valid!"), ("duration", "CROW")]),
        ]),
    );
    ws.run_ok();
    let read =
        |id: &str| std::fs::read_to_string(ws.out().join(format!("feedback/{id}.md"))).unwrap();
    let a = read("unit-a");
    assert!(a.contains("Q1"), "{a}");
    assert!(a.contains("| shared.csv | 2 | 2 | 0 | 2 |"), "{a}");
    for other in [
        "ZZ9SECRET",
        "998",
        "unit-b",
        "not valid",
        "UNKNOWNROW",
        "E012",
    ] {
        assert!(!a.contains(other), "unit-a sees {other}: {a}");
    }
    let b = read("unit-b");
    assert!(b.contains("ZZ9SECRET") && b.contains("998"), "{b}");
    assert!(b.contains("| shared.csv | 2 | 1 | 1 | 2 |"), "{b}");
    for other in ["Q1", "unit-a", "not valid", "UNKNOWNROW"] {
        assert!(!b.contains(other), "unit-b sees {other}: {b}");
    }
    // A row without a usable id: its file's only unit sees it; in a shared file, only the
    // coordinator (rejected.csv) does.
    let c = read("unit-c");
    assert!(c.contains("also not valid") && c.contains("CROW"), "{c}");
    assert!(c.contains("| own.csv | 2 | 1 | 1 | 2 |"), "{c}");
    let rejected = std::fs::read_to_string(ws.out().join("rejected.csv")).unwrap();
    assert!(rejected.contains("not valid!"), "{rejected}");
    let html = std::fs::read_to_string(ws.out().join("feedback/unit-a.html")).unwrap();
    assert!(!html.contains("ZZ9SECRET") && html.contains("Q1"), "{html}");
}

/// Whether `pattern` occurs in `text` without a backslash before it.
fn unescaped(text: &str, pattern: &str) -> bool {
    text.match_indices(pattern)
        .any(|(i, _)| i == 0 || text.as_bytes()[i - 1] != b'\\')
}

#[test]
fn the_leak_check_finds_a_number_in_any_spelling() {
    let numbers = vec!["0101801234".to_string()];
    for shown in [
        "a 010180-1234 b",
        "x0101801234",
        "01.01.80 1234",
        "\"101801234\"",
    ] {
        let caught = std::panic::catch_unwind(|| assert_no_cpr("t", shown, &numbers));
        assert!(caught.is_err(), "{shown}");
    }
    assert_no_cpr("t", "010180-**** and 2026, 101", &numbers);
}

#[test]
fn markdown_outputs_do_not_carry_html_or_links() {
    let ws = Workspace::new();
    let html_value = "<img src=x onerror=alert(1)>";
    let link_value = "[click](javascript:alert(1))";
    ws.write(
        "s.csv",
        csv(&[
            row(&[("respondent_id", "unit_a"), ("duration", html_value)]),
            row(&[("respondent_id", "unit_a"), ("income", link_value)]),
            row(&[
                ("respondent_id", "unit_a"),
                ("residence", "<javascript:alert(1)>"),
            ]),
        ]),
    );
    // The report quotes the published history's notes: they are escaped too.
    let history = ws.path().join("history");
    std::fs::create_dir_all(&history).unwrap();
    for e in std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/data/history")).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, history.join(p.file_name().unwrap())).unwrap();
    }
    let notes = history.join("series_notes.csv");
    let mut text = std::fs::read_to_string(&notes).unwrap();
    text.push_str(&format!("2022,other,\"{html_value} {link_value}\"\n"));
    std::fs::write(&notes, text).unwrap();
    let out = ws.run(&["--history", history.to_str().unwrap()]);
    assert!(out.status.success(), "{}", stderr(&out));

    let md = std::fs::read_to_string(ws.out().join("feedback/unit_a.md")).unwrap();
    let report = std::fs::read_to_string(ws.out().join("report.md")).unwrap();
    for (what, text) in [("feedback", &md), ("report.md", &report)] {
        assert!(!unescaped(text, "<img"), "{what}: {text}");
        assert!(!unescaped(text, "](javascript"), "{what}: {text}");
        assert!(
            text.contains("\\<img src=x onerror=alert(1)\\>"),
            "{what}: {text}"
        );
        assert!(
            text.contains("\\[click\\](javascript:alert(1))"),
            "{what}: {text}"
        );
    }
    assert!(md.contains("\\<javascript:alert(1)\\>"), "{md}");
    assert!(md.contains("# Tilbagemelding til unit\\_a"), "{md}");
    // The HTML page made from the Markdown shows the values as text, without backslashes.
    let page = std::fs::read_to_string(ws.out().join("feedback/unit_a.html")).unwrap();
    assert!(
        page.contains("&lt;img src=x onerror=alert(1)&gt;"),
        "{page}"
    );
    assert!(page.contains("[click](javascript:alert(1))"), "{page}");
    assert!(page.contains("<h1>Tilbagemelding til unit_a"), "{page}");
    assert!(!page.contains("<img"), "{page}");
}
