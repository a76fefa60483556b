//! Every rejection and warning rule of the format, through the binary.

use crate::util::*;

/// Runs one file of rows and returns (rejected, warnings) as (line, column, code).
#[allow(clippy::type_complexity)]
fn check(rows: &[Vec<String>]) -> (Vec<(String, String, String)>, Vec<(String, String, String)>) {
    let ws = Workspace::new();
    ws.write("a.csv", csv(rows));
    ws.run_ok();
    (ws.problems("rejected.csv"), ws.problems("warnings.csv"))
}

fn codes(list: &[(String, String, String)]) -> Vec<&str> {
    list.iter().map(|p| p.2.as_str()).collect()
}

#[test]
fn each_rejection_rule() {
    // (fields, expected column, expected code)
    let cases: &[(&[(&str, &str)], &str, &str)] = &[
        (&[("respondent_type", "")], "respondent_type", "E002"),
        (&[("situation", "homeless")], "situation", "E003"),
        (
            &[("respondent_type", "Shelterr")],
            "respondent_type",
            "E003",
        ),
        (&[("count_year", "20x4")], "count_year", "E004"),
        (&[("count_year", "2022")], "count_year", "E005"),
        (&[("respondent_id", "shelter #1")], "respondent_id", "E006"),
        (&[("cpr", "12345")], "cpr", "E007"),
        (&[("cpr", "310299-1234")], "cpr", "E008"),
        (&[("birth_date", "31-02-1980")], "birth_date", "E009"),
        (&[("birth_date", "01-01-2025")], "birth_date", "E010"),
        // Digit 7 = 5 and YY 58: born 1858, over 110.
        (&[("cpr", "010158-5001")], "cpr", "E011"),
        (&[("birth_date", "01-01-1900")], "birth_date", "E011"),
        (&[("municipality", "999")], "municipality", "E012"),
    ];
    let rows: Vec<Vec<String>> = cases.iter().map(|(f, _, _)| row(f)).collect();
    let (rejected, _) = check(&rows);
    for (i, (_, column, code)) in cases.iter().enumerate() {
        let line = (i + 2).to_string();
        assert!(
            rejected
                .iter()
                .any(|p| p.0 == line && p.1 == *column && p.2 == *code),
            "line {line}: expected {code} on {column}, got {rejected:?}"
        );
    }
}

#[test]
fn field_count_rules() {
    let ws = Workspace::new();
    let mut text = csv(&[row(&[])]);
    text.push_str("2024,r1,shelter,,,,,101\n"); // truncated
    text.push_str(&format!("{},extra\n", row(&[]).join(",")));
    ws.write("a.csv", text);
    ws.run_ok();
    let rejected = ws.problems("rejected.csv");
    assert_eq!(codes(&rejected), vec!["E014", "E013"]);
    assert_eq!(rejected[0].0, "3");
    assert_eq!(rejected[1].0, "4");
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "1");
}

#[test]
fn a_missing_required_column_rejects_every_row() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        "count_year;respondent_id;respondent_type;municipality\n2024;r1;shelter;101\n2024;r1;shelter;147\n",
    );
    ws.run_ok();
    let rejected = ws.table("rejected.csv");
    assert_eq!(rejected.len(), 3);
    assert!(
        rejected[1..]
            .iter()
            .all(|r| r[2] == "situation" && r[3] == "E001")
    );
    let intake = ws.table("tables/intake.csv");
    assert_eq!(intake[1][2..], ["2", "0", "2", "0"]);
}

#[test]
fn each_warning_rule() {
    let ws = Workspace::new();
    let mut text = String::from(
        "count_year,respondent_id,respondent_type,cpr,birth_date,sex,initials,municipality,home_municipality,situation,duration,children,comment,sex\n",
    );
    let lines = [
        // W003: birth_date disagrees with the CPR; W004: sex disagrees (1235 is male).
        "2024,r1,shelter,010180-1235,02-01-1980,k,AB,101,,shelter,,,,",
        // W005: bad sex; W006: bad initials; W010 follows (unidentified).
        "2024,r1,shelter,,01-01-1980,x,J5,101,,shelter,,,,",
        // W007: bad code; W008: bad children; W009: bad home municipality.
        "2024,r1,shelter,010180-1235,,,,101,998,shelter,long,many,,",
    ];
    for l in lines {
        text.push_str(l);
        text.push('\n');
    }
    ws.write("a.csv", text);
    ws.run_ok();
    let warnings = ws.problems("warnings.csv");
    let want = [
        ("1", "comment", "W001"),
        ("1", "sex", "W002"),
        ("2", "birth_date", "W003"),
        ("2", "sex", "W004"),
        ("3", "sex", "W005"),
        ("3", "initials", "W006"),
        ("3", "cpr", "W010"),
        ("4", "duration", "W007"),
        ("4", "children", "W008"),
        ("4", "home_municipality", "W009"),
    ];
    for (line, column, code) in want {
        assert!(
            warnings
                .iter()
                .any(|p| p.0 == line && p.1 == column && p.2 == code),
            "expected {code} at line {line} column {column}: {warnings:?}"
        );
    }
    // Warnings never drop a row.
    assert!(ws.problems("rejected.csv").is_empty());
    let intake = ws.table("tables/intake.csv");
    assert_eq!(intake[1][2..5], ["3", "3", "0"]);
    // The bad home municipality is ignored: the person counts where they stayed.
    assert_eq!(
        ws.table("tables/municipal_by_category.csv")[1][..2],
        ["101", "København"]
    );
}

#[test]
fn rows_read_equal_accepted_plus_rejected_per_file_and_in_total() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[row(&[]), row(&[("municipality", "1")]), row(&[])]),
    );
    ws.write("b.csv", csv(&[row(&[("situation", "")]), row(&[])]));
    ws.run_ok();
    let intake = ws.table("tables/intake.csv");
    for r in &intake[1..] {
        let n: Vec<u64> = r[2..5].iter().map(|v| v.parse().unwrap()).collect();
        assert_eq!(n[0], n[1] + n[2], "{r:?}");
    }
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.out().join("run.json")).unwrap()).unwrap();
    assert_eq!(run["rows"]["read"], 5);
    assert_eq!(run["rows"]["accepted"], 3);
    assert_eq!(run["rows"]["rejected"], 2);
}

#[test]
fn codes_and_headers_are_case_insensitive_and_danish() {
    let ws = Workspace::new();
    let text = "TAELLEAAR;Respondent;RespondentType;CPR;Koen;Kommune;Situation;Psykisk_sygdom\r\n\
                2024;r1;SHELTER;0101801235;Mand;101;Rough_Sleeping;JA\r\n";
    let bytes: Vec<u8> = encoding_rs::WINDOWS_1252.encode(text).0.into_owned();
    ws.write("a.csv", bytes);
    ws.run_ok();
    assert!(ws.problems("rejected.csv").is_empty());
    assert!(ws.problems("warnings.csv").is_empty());
    assert_eq!(
        ws.value("tables/national_by_category.csv", "rough_sleeping"),
        "1"
    );
    assert_eq!(ws.value("tables/indicators.csv", "mental_illness"), "1");
}
