//! Format version 2 (issue #15): the person form's background, citizenship, health and
//! causes columns. The hand-worked fixture (handworked.rs) checks the person rules and the
//! new tables value by value; here: version 1 files give the tables of before byte for byte,
//! the warnings in both languages, and how the new tables, the municipal measures, the
//! report, run.json, the template and synth fit together.

use crate::util::*;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).to_path_buf()
}

fn run(input: &Path, out: &Path, extra: &[&str]) {
    let status = hcount()
        .arg("run")
        .arg(input)
        .arg("--out")
        .arg(out)
        .arg("--key-file")
        .arg(root().join("fixtures/demo-key.NOT-SECRET.txt"))
        .args(["--threads", "2"])
        .args(extra)
        .output()
        .unwrap();
    assert!(status.status.success(), "{}", stderr(&status));
}

/// The version 1 tables, as written before format version 2.
const VERSION_1_TABLES: &[&str] = &[
    "tables/national_by_category.csv",
    "tables/municipal_by_category.csv",
    "tables/municipal_totals.csv",
    "tables/published/municipal_totals.csv",
    "tables/by_age_group.csv",
    "tables/by_sex.csv",
    "tables/migrants_no_permanent_residence.csv",
    "tables/under_18.csv",
    "tables/indicators.csv",
    "tables/municipal_indicators.csv",
    "tables/intake.csv",
    "tables/by_age_group_and_sex.csv",
    "tables/data_quality.csv",
    "rejected.csv",
    "warnings.csv",
];

/// `fixtures/format-v1/` is the hand-worked fixture as it was before version 2. Its tables
/// are snapshotted as an hcount before version 2 wrote them (checked byte for byte when the
/// snapshot was made); the report has no person-form section.
#[test]
fn version_1_files_give_the_tables_of_before() {
    let ws = Workspace::new();
    run(
        &root().join("fixtures/format-v1/submissions"),
        &ws.out(),
        &[],
    );
    let mut all = String::new();
    for name in VERSION_1_TABLES {
        let text = std::fs::read_to_string(ws.out().join(name)).unwrap();
        all.push_str(&format!("==> {name} <==\n{text}"));
    }
    insta::assert_snapshot!("version_1_tables", all);

    // The new tables exist, and say that nobody answered.
    assert_eq!(
        ws.table("tables/causes.csv").last().unwrap(),
        &["unknown", "11", "100.0"]
    );
    assert_eq!(
        ws.table("tables/health.csv")[1],
        ["physical_illness", "0", "11", "0.0"]
    );
    let html = std::fs::read_to_string(ws.out().join("report.html")).unwrap();
    assert!(!html.contains("personskema"));
    assert!(!ws.out().join("charts/causes.svg").exists());
}

/// A version 2 file whose rows make every version 2 warning, and accept the Danish words.
fn warnings_file(ws: &Workspace) {
    let text = "\
count_year,respondent_id,respondent_type,municipality,situation,mental_illness,substance_abuse,herkomst,statsborgerskab,fysisk_sygdom,psykisk_behandling,misbrugsbehandling,aarsager
2024,r1,shelter,101,shelter,nej,none,Indvandrer,andet,ja,nej,nej,economy|Eviction
2024,r1,shelter,101,shelter,,,dane,eu,maybe,nok,X,none
2024,r1,shelter,101,shelter,nej,none,dansk,dansk,nej,ja,ja,econmy
2024,r1,shelter,101,shelter,ja,alcohol,efterkommer,uoplyst,uoplyst,ja,ja,uoplyst
";
    ws.write("skema.csv", text);
}

#[test]
fn version_2_warnings_in_english() {
    let ws = Workspace::new();
    warnings_file(&ws);
    let out = hcount()
        .args(["validate", "--lang", "en"])
        .arg(ws.input())
        .output()
        .unwrap();
    // Warnings only: every row is accepted.
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("version_2_warnings_en", stdout(&out));
}

#[test]
fn version_2_warnings_in_danish() {
    let ws = Workspace::new();
    warnings_file(&ws);
    let out = hcount()
        .args(["validate", "--lang", "da"])
        .arg(ws.input())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    insta::assert_snapshot!("version_2_warnings_da", stdout(&out));
}

/// The national version 2 tables are the sums of the municipal measures, the version 1 rows
/// of municipal_indicators.csv come first and unchanged, and the report shows the section
/// in both languages with its chart.
#[test]
fn version_2_tables_municipal_measures_and_report_agree() {
    let ws = Workspace::new();
    let input = root().join("fixtures/handworked/submissions");
    run(&input, &ws.out(), &["--lang", "en"]);
    let municipal = ws.table("tables/municipal_indicators.csv");
    let sum = |indicator: &str| -> u64 {
        municipal
            .iter()
            .filter(|r| r[2] == indicator)
            .map(|r| r[3].parse::<u64>().unwrap())
            .sum()
    };
    for (table, prefix) in [
        ("causes", "cause_"),
        ("background", "background_"),
        ("citizenship", "citizenship_"),
        ("health", ""),
    ] {
        for r in &ws.table(&format!("tables/{table}.csv"))[1..] {
            assert_eq!(
                sum(&format!("{prefix}{}", r[0])).to_string(),
                r[1],
                "{table} {r:?}"
            );
        }
    }
    // Per municipality: the 20 version 1 indicators, then the 22 version 2 measures.
    let indicators: Vec<&str> = municipal[1..]
        .iter()
        .filter(|r| r[0] == "101")
        .map(|r| r[2].as_str())
        .collect();
    assert_eq!(indicators.len(), 20 + 22);
    assert_eq!(indicators[19], "children_with_adults");
    assert_eq!(indicators[20], "cause_mental_illness");
    assert_eq!(indicators[41], "substance_treated");

    let run_json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.out().join("run.json")).unwrap()).unwrap();
    assert_eq!(run_json["spec_version"], 2);

    let html = std::fs::read_to_string(ws.out().join("report.html")).unwrap();
    assert!(html.contains("Causes of homelessness"), "English section");
    assert!(html.contains("In treatment for mental illness"));
    assert!(ws.out().join("charts/causes.svg").exists());
    assert!(ws.out().join("charts/causes.png").exists());
    let md = std::fs::read_to_string(ws.out().join("report.md")).unwrap();
    assert!(md.contains("![Causes of homelessness"));

    let da = ws.path().join("da");
    run(&input, &da, &["--lang", "da"]);
    let html = std::fs::read_to_string(da.join("report.html")).unwrap();
    assert!(html.contains("Årsager til hjemløshed"), "Danish section");
    assert!(html.contains("I behandling for psykisk sygdom"));
    // The published 2022 share of mental illness as a cause, beside this count's.
    assert!(html.contains("<td class=\"n\">42</td>"));
}

/// The template has the version 2 columns; synth fills them (and `--format-version 1`
/// leaves them out); what synth writes passes validation with no rejected row from them.
#[test]
fn template_and_synth_have_the_version_2_columns() {
    let ws = Workspace::new();
    let out = hcount()
        .args(["template", "--year", "2026", "--out"])
        .arg(ws.path().join("t"))
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let header = std::fs::read_to_string(ws.path().join("t/hcount-skabelon.csv")).unwrap();
    let header = header.lines().next().unwrap().to_string();
    assert!(
        header.ends_with(
            "herkomst;statsborgerskab;fysisk_sygdom;psykisk_behandling;misbrugsbehandling;aarsager"
        ),
        "{header}"
    );

    for (version, has) in [("1", false), ("2", true)] {
        let dir = ws.path().join(format!("synth{version}"));
        let out = hcount()
            .args([
                "synth",
                "--persons",
                "300",
                "--files",
                "3",
                "--style",
                "plain",
                "--format-version",
                version,
                "--out",
            ])
            .arg(&dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
        let first = std::fs::read_dir(&dir).unwrap().next().unwrap().unwrap();
        let text = std::fs::read_to_string(first.path()).unwrap();
        assert_eq!(text.lines().next().unwrap().contains("causes"), has);
        let out = hcount()
            .args(["validate", "--format", "json"])
            .arg(&dir)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
    }
    let out = hcount()
        .args(["synth", "--format-version", "3", "--out"])
        .arg(ws.path().join("x"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
}
