//! The hand-worked fixture (fixtures/handworked/): expected tables worked out by hand from
//! the spec, independently of the code. See its README for the reasoning behind each number.

use std::path::PathBuf;

use crate::util::*;

fn fixture() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/handworked")
}

fn run() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let out = hcount()
        .arg("run")
        .arg(fixture().join("submissions"))
        .arg("--out")
        .arg(dir.path().join("out"))
        .arg("--key-file")
        .arg(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-key.NOT-SECRET.txt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    dir
}

#[test]
fn tables_match_the_hand_worked_expectation() {
    let dir = run();
    let tables = dir.path().join("out/tables");
    for name in [
        "national_by_category.csv",
        "by_age_group.csv",
        "by_sex.csv",
        "migrants_no_permanent_residence.csv",
        "under_18.csv",
        "indicators.csv",
    ] {
        let want = read_csv(&fixture().join("expected").join(name));
        let got = read_csv(&tables.join(name));
        assert_eq!(
            got, want,
            "tables/{name} differs from the hand-worked expectation"
        );
    }
    // The expectation lists only municipalities with persons; the output lists all 98.
    let want = read_csv(&fixture().join("expected/municipal_totals.csv"));
    let got: Vec<Vec<String>> = read_csv(&tables.join("municipal_totals.csv"))
        .into_iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || r[2] != "0")
        .map(|(_, r)| r)
        .collect();
    assert_eq!(got, want, "tables/municipal_totals.csv");
}

#[test]
fn intake_matches_the_hand_worked_expectation() {
    let dir = run();
    let want = read_csv(&fixture().join("expected/intake.csv"));
    let got = read_csv(&dir.path().join("out/tables/intake.csv"));
    // rows read / accepted / rejected exactly; the warning count is checked by the rules tests.
    let strip = |t: Vec<Vec<String>>| -> Vec<Vec<String>> {
        t.into_iter().map(|r| r[..5].to_vec()).collect()
    };
    assert_eq!(strip(got), strip(want));
}

#[test]
fn persons_match_the_hand_worked_expectation() {
    let dir = run();
    let want = read_csv(&fixture().join("expected/persons.csv"));
    let header = &want[0];
    let col = |n: &str| header.iter().position(|h| h == n).unwrap();
    let fields = [
        "situation",
        "municipality",
        "age_group",
        "sex",
        "id_kind",
        "counted",
        "reports",
        "respondents",
        "mental_illness",
        "substance_abuse",
        "support",
    ];
    let mut want: Vec<Vec<String>> = want[1..]
        .iter()
        .map(|r| fields.iter().map(|f| r[col(f)].clone()).collect())
        .collect();
    let mut got: Vec<Vec<String>> = parquet_rows(&dir.path().join("out/persons.parquet"))
        .into_iter()
        .map(|r| fields.iter().map(|f| r[*f].clone()).collect())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want, "persons differ (fields: {fields:?})");
}
