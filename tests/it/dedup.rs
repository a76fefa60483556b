//! Deduplication, linking and classification (categories.md), through the binary.

use crate::util::*;

fn persons(ws: &Workspace) -> Vec<std::collections::BTreeMap<String, String>> {
    parquet_rows(&ws.out().join("persons.parquet"))
}

#[test]
fn precedence_the_most_acute_situation_wins() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[
                ("cpr", "010180-1235"),
                ("situation", "family_friends"),
                ("respondent_id", "a"),
            ]),
            row(&[
                ("cpr", "0101801235"),
                ("situation", "night_shelter"),
                ("respondent_id", "b"),
            ]),
            row(&[
                ("cpr", "010180-1235"),
                ("situation", "hospital_discharge"),
                ("respondent_id", "c"),
            ]),
            row(&[
                ("cpr", "010180-1235"),
                ("situation", "not_homeless"),
                ("respondent_id", "d"),
            ]),
        ]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p.len(), 1);
    assert_eq!(p[0]["situation"], "night_shelter");
    assert_eq!(p[0]["reports"], "4");
    assert_eq!(p[0]["respondents"], "4");
    assert_eq!(p[0]["id_kind"], "cpr");
    assert_eq!(
        ws.value("tables/national_by_category.csv", "night_shelter"),
        "1"
    );
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "1");
}

#[test]
fn ties_break_by_respondent_then_file_then_line() {
    // Same rank (shelter) everywhere; the deciding row gives the municipality.
    let ws = Workspace::new();
    let p = |m: &str, r: &str| {
        row(&[
            ("cpr", "010180-1235"),
            ("municipality", m),
            ("respondent_id", r),
        ])
    };
    ws.write("b.csv", csv(&[p("147", "zeta"), p("151", "alpha")]));
    ws.write(
        "a.csv",
        csv(&[p("153", "beta"), p("155", "alpha"), p("157", "alpha")]),
    );
    ws.run_ok();
    // respondent "alpha" wins; among its rows file a.csv < b.csv; in a.csv line 3 < line 4.
    assert_eq!(persons(&ws)[0]["municipality"], "155");
}

#[test]
fn not_homeless_only_is_never_counted() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[row(&[
            ("cpr", "010180-1235"),
            ("situation", "not_homeless"),
        ])]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p[0]["counted"], "false");
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "0");
}

#[test]
fn alternative_key_links_to_the_one_cpr_person() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[
                ("cpr", "010180-1235"),
                ("initials", "J.P.H."),
                ("situation", "shelter"),
            ]),
            // No CPR, same birth date, sex and initials: the same person.
            row(&[
                ("birth_date", "01-01-1980"),
                ("sex", "m"),
                ("initials", "jph"),
                ("situation", "rough_sleeping"),
            ]),
            // Replacement number with the same alternative key: joins too (rule 5).
            row(&[
                ("cpr", "010180-1AB3"),
                ("birth_date", "1980-01-01"),
                ("sex", "male"),
                ("initials", "JPH"),
            ]),
        ]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p.len(), 1, "{p:?}");
    assert_eq!(p[0]["situation"], "rough_sleeping");
    assert_eq!(p[0]["reports"], "3");
    assert_eq!(p[0]["id_kind"], "cpr");
}

#[test]
fn twins_are_never_linked() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            // Twins: same birth date, sex and initials, two CPR numbers.
            row(&[("cpr", "010180-1235"), ("initials", "AB")]),
            row(&[("cpr", "010180-1237"), ("initials", "AB")]),
            // Two rows without CPR with their shared alternative key: one person of its own.
            row(&[
                ("birth_date", "01-01-1980"),
                ("sex", "m"),
                ("initials", "AB"),
                ("respondent_id", "x"),
            ]),
            row(&[
                ("birth_date", "01.01.1980"),
                ("sex", "mand"),
                ("initials", "A.B."),
                ("respondent_id", "y"),
            ]),
        ]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p.len(), 3, "{p:?}");
    let kinds: Vec<(&str, &str)> = p
        .iter()
        .map(|r| (r["id_kind"].as_str(), r["reports"].as_str()))
        .collect();
    assert_eq!(kinds.iter().filter(|k| **k == ("cpr", "1")).count(), 2);
    assert!(kinds.contains(&("alt", "2")));
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "3");
}

#[test]
fn replacement_numbers_identify_but_take_in_no_alt_rows() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[
                ("cpr", "010180-1AB3"),
                ("birth_date", "01-01-1980"),
                ("sex", "m"),
                ("initials", "QQ"),
            ]),
            row(&[("cpr", "010180-1ab3")]),
            // Same alternative key, no CPR: stays an alt person (rule 5: no intake by alt key).
            row(&[
                ("birth_date", "01-01-1980"),
                ("sex", "m"),
                ("initials", "QQ"),
            ]),
        ]),
    );
    ws.run_ok();
    let p = persons(&ws);
    let mut kinds: Vec<(String, String)> = p
        .iter()
        .map(|r| (r["id_kind"].clone(), r["reports"].clone()))
        .collect();
    kinds.sort();
    assert_eq!(
        kinds,
        vec![("alt".into(), "1".into()), ("ecpr".into(), "2".into())]
    );
}

#[test]
fn unidentified_rows_are_each_their_own_person() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[row(&[]), row(&[]), row(&[("initials", "AB")])]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p.len(), 3);
    assert!(p.iter().all(|r| r["id_kind"] == "unidentified"));
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ws.out().join("run.json")).unwrap()).unwrap();
    assert_eq!(run["rows"]["unidentified"], 3);
}

#[test]
fn any_row_rules_for_indicators() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[
                ("cpr", "010180-1235"),
                ("mental_illness", "nej"),
                ("substance_abuse", "none"),
                ("support", "act"),
            ]),
            row(&[
                ("cpr", "010180-1235"),
                ("mental_illness", "ja"),
                ("substance_abuse", "alcohol|cannabis"),
                ("support", "none"),
                ("respondent_id", "r2"),
            ]),
            row(&[
                ("cpr", "010180-1235"),
                ("substance_abuse", "Hard_Drugs"),
                ("support", "icm|act"),
            ]),
            // Second person: only "none" and "unknown".
            row(&[
                ("cpr", "020280-1234"),
                ("substance_abuse", "none"),
                ("mental_illness", "uoplyst"),
            ]),
            row(&[
                ("cpr", "020280-1234"),
                ("substance_abuse", "unknown"),
                ("housing_queue", "no"),
            ]),
        ]),
    );
    ws.run_ok();
    let p = persons(&ws);
    let first = p.iter().find(|r| r["reports"] == "3").unwrap();
    assert_eq!(first["mental_illness"], "yes");
    assert_eq!(first["substance_abuse"], "alcohol|cannabis|hard_drugs");
    assert_eq!(first["support"], "act|icm");
    assert_eq!(first["respondents"], "2");
    let second = p.iter().find(|r| r["reports"] == "2").unwrap();
    assert_eq!(second["mental_illness"], "unknown");
    assert_eq!(second["substance_abuse"], "none");
    assert_eq!(second["support"], "unknown");
    assert_eq!(second["housing_queue"], "no");
    assert_eq!(second["sex"], "female");
}

#[test]
fn migrants_and_children_are_reported_apart() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[
            row(&[("cpr", "010180-1235"), ("residence", "no_permanent")]),
            // Born 2010: 13 on the count date.
            row(&[("cpr", "010110-4235")]),
            // Both: reported with the migrants.
            row(&[("cpr", "020210-4235"), ("residence", "no_permanent")]),
            row(&[("cpr", "030380-1235"), ("residence", "unknown")]),
        ]),
    );
    ws.run_ok();
    assert_eq!(
        ws.value("tables/migrants_no_permanent_residence.csv", "total"),
        "2"
    );
    assert_eq!(ws.value("tables/under_18.csv", "total"), "1");
    assert_eq!(ws.value("tables/national_by_category.csv", "total"), "1");
    assert_eq!(ws.value("tables/by_age_group.csv", "40-49"), "1");
}

#[test]
fn home_municipality_decides_the_municipal_tables() {
    let ws = Workspace::new();
    ws.write(
        "a.csv",
        csv(&[row(&[
            ("cpr", "010180-1235"),
            ("municipality", "101"),
            ("home_municipality", "751"),
        ])]),
    );
    ws.run_ok();
    let p = persons(&ws);
    assert_eq!(p[0]["municipality"], "751");
    assert_eq!(p[0]["stay_municipality"], "101");
    let totals = ws.table("tables/municipal_totals.csv");
    assert_eq!(totals.len(), 99);
    assert!(totals.contains(&vec!["751".into(), "Aarhus".into(), "1".into()]));
    let published = ws.table("tables/published/municipal_totals.csv");
    // One person in all: Aarhus is hidden (<5, or x where <5 would say too much), and no
    // other municipality shows a count.
    let aarhus = published.iter().find(|r| r[0] == "751").unwrap();
    assert!(aarhus[2] == "<5" || aarhus[2] == "x", "{aarhus:?}");
    let kbh = published.iter().find(|r| r[0] == "101").unwrap();
    assert!(kbh[2] == "0" || kbh[2] == "x", "{kbh:?}");
}
