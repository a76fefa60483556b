//! The hand-worked fixture: `fixtures/handworked/submissions/` with tables worked out by hand
//! from the spec in `fixtures/handworked/expected/` (see `fixtures/handworked/README.md` for
//! the reasoning, person by person). Any difference is a bug in the program or in the spec
//! reading, never something to re-bless.

use crate::util::*;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/handworked")
}

fn expected(name: &str) -> Vec<Vec<String>> {
    read_csv(&fixture().join("expected").join(name))
}

fn run() -> Workspace {
    let ws = Workspace::new();
    let out = hcount()
        .arg("run")
        .arg(fixture().join("submissions"))
        .arg("--out")
        .arg(ws.out())
        .arg("--key-file")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-key.NOT-SECRET.txt"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    ws
}

#[test]
fn handworked_tables_match_exactly() {
    let ws = run();
    for name in [
        "national_by_category.csv",
        "municipal_by_category.csv",
        "by_age_group.csv",
        "by_sex.csv",
        "migrants_no_permanent_residence.csv",
        "under_18.csv",
        "indicators.csv",
        "intake.csv",
        // Format version 2 (README: "Version 2 columns").
        "causes.csv",
        "background.csv",
        "citizenship.csv",
        "health.csv",
    ] {
        assert_eq!(
            ws.table(&format!("tables/{name}")),
            expected(name),
            "tables/{name}"
        );
    }

    // All 98 municipalities, zeros included; the hand-worked file lists the non-zero ones.
    let totals = ws.table("tables/municipal_totals.csv");
    assert_eq!(totals.len(), 1 + 98);
    let nonzero: Vec<_> = totals
        .iter()
        .enumerate()
        .filter(|(i, r)| *i == 0 || r[2] != "0")
        .map(|(_, r)| r.clone())
        .collect();
    assert_eq!(nonzero, expected("municipal_totals_nonzero.csv"));

    // Every non-zero municipality here has 1-4 persons: all hidden when published, as <5
    // or, where even that would give them away (11 persons in all), as x.
    let published = ws.table("tables/published/municipal_totals.csv");
    for row in &expected("municipal_totals_nonzero.csv")[1..] {
        let p = published.iter().find(|r| r[0] == row[0]).unwrap();
        assert!(p[2] == "<5" || p[2] == "x", "{row:?}: {p:?}");
    }
}

#[test]
fn handworked_rejects_and_warnings_match_exactly() {
    let ws = run();
    for name in ["rejected.csv", "warnings.csv"] {
        let got: Vec<Vec<String>> = ws
            .table(name)
            .into_iter()
            .map(|r| r[..5].to_vec())
            .collect();
        assert_eq!(got, expected(name), "{name}");
    }
}

#[test]
fn handworked_persons_match_exactly() {
    let ws = run();
    let want = expected("persons.csv");
    let columns = &want[0][1..]; // the first column names the person for the reader
    let mut want: Vec<Vec<String>> = want[1..].iter().map(|r| r[1..].to_vec()).collect();
    let mut got: Vec<Vec<String>> = parquet_rows(&ws.out().join("persons.parquet"))
        .into_iter()
        .map(|m| columns.iter().map(|c| m[c.as_str()].clone()).collect())
        .collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}
