//! Publishing safely (issue #13): every published table passes the attacker of `hcount
//! audit`, on the fixtures and on generated counts; a table set made unsafe on purpose
//! fails it; `--round` publishes only multiples of N.

use std::path::{Path, PathBuf};

use crate::util::*;

const PUBLISHED: &[&str] = &[
    "national_by_category",
    "region_totals",
    "municipal_totals",
    "municipal_by_category",
    "by_sex",
    "by_age_group",
    "region_by_sex",
    "region_by_age_group",
    "indicators",
    "municipal_indicators",
    "ethos_light",
];

fn audit(out: &Path) -> std::process::Output {
    hcount()
        .arg("audit")
        .arg(out)
        .args(["--lang", "en"])
        .output()
        .unwrap()
}

/// `hcount run` of `inputs` into `out`, two threads, quiet.
fn run_command(inputs: &Path, out: &Path, key: &Path, extra: &[&str]) -> std::process::Command {
    let mut cmd = hcount();
    cmd.arg("run")
        .arg(inputs)
        .arg("--out")
        .arg(out)
        .arg("--key-file")
        .arg(key)
        .args(["--threads", "2", "--quiet"])
        .args(extra);
    cmd
}

fn run_dir(inputs: &Path, out: &Path, key: &Path, extra: &[&str]) {
    let o = run_command(inputs, out, key, extra).output().unwrap();
    assert!(o.status.success(), "run failed: {}", stderr(&o));
}

/// `fixtures/count-2026` run with the defaults: made once, shared by the tests below.
fn count_2026() -> PathBuf {
    static MADE: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    made_once(&MADE, "count-2026", |dir| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/count-2026");
        std::fs::write(dir.join("key.txt"), TEST_KEY).unwrap();
        run_dir(&root, &dir.join("out"), &dir.join("key.txt"), &[]);
    })
    .join("out")
}

/// Every published count is 0, at least 5, `<5` or `x`, and every table is there.
fn check_marks(out: &Path) {
    for name in PUBLISHED {
        let t = read_csv(&out.join(format!("tables/published/{name}.csv")));
        let col = t[0].iter().position(|h| h == "persons").unwrap();
        for row in &t[1..] {
            let v = &row[col];
            let ok = v == "<5" || v == "x" || v.parse::<u64>().is_ok_and(|n| n == 0 || n >= 5);
            assert!(ok, "{name}: {row:?}");
        }
    }
}

#[test]
fn fixtures_pass_the_audit() {
    let ws = Workspace::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures");
    let handworked = ws.path().join("handworked");
    run_dir(
        &root.join("handworked/submissions"),
        &handworked,
        &ws.key(),
        &[],
    );
    for (fixture, out) in [("count-2026", count_2026()), ("handworked", handworked)] {
        check_marks(&out);
        let a = audit(&out);
        assert_eq!(a.status.code(), Some(0), "{fixture}: {}", stdout(&a));
        assert!(stdout(&a).contains("audit: passed"), "{}", stdout(&a));
    }
    // Danish by default, like every text a person reads.
    let da = hcount()
        .arg("audit")
        .arg(ws.path().join("handworked"))
        .output()
        .unwrap();
    assert_eq!(da.status.code(), Some(0));
    assert!(stdout(&da).contains("audit: bestået"), "{}", stdout(&da));
}

#[test]
fn generated_counts_of_several_sizes_pass_the_audit() {
    // 150 persons over 98 municipalities is sparser than any real count: most cells small.
    for (persons, seed) in [("150", "8"), ("400", "3"), ("800", "8"), ("2500", "9")] {
        let ws = Workspace::new();
        let o = hcount()
            .args([
                "synth",
                "--persons",
                persons,
                "--files",
                "10",
                "--seed",
                seed,
            ])
            .args(["--year", "2026", "--style", "plain", "--out"])
            .arg(ws.input())
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", stderr(&o));
        run_dir(&ws.input(), &ws.out(), &ws.key(), &[]);
        check_marks(&ws.out());
        let a = audit(&ws.out());
        assert_eq!(a.status.code(), Some(0), "{persons}: {}", stdout(&a));
        // Protection hides detail, not the figures most readers look for: from 2,500
        // persons on, every national figure by sex and age and every region's total is
        // published (an earlier greedy choice hid them all to protect one municipal cell).
        if persons == "2500" {
            for name in ["by_sex", "by_age_group", "region_totals"] {
                let t = read_csv(&ws.out().join(format!("tables/published/{name}.csv")));
                for row in &t[1..] {
                    assert!(
                        row.last().unwrap().parse::<u64>().is_ok(),
                        "{name}: {row:?} hidden"
                    );
                }
            }
        }
        // Per municipality only the Housing First indicators are published.
        let t = read_csv(&ws.out().join("tables/published/municipal_indicators.csv"));
        let indicators: std::collections::BTreeSet<&str> =
            t[1..].iter().map(|r| r[2].as_str()).collect();
        assert!(indicators.contains("support_act") && indicators.contains("housing_queue"));
        assert!(!indicators.contains("women"), "{indicators:?}");
    }
}

#[test]
fn an_unsafe_table_set_fails_the_audit() {
    let ws = Workspace::new();
    copy_folder(&count_2026(), &ws.out());
    let published = ws.out().join("tables/published/municipal_by_category.csv");
    // Primary suppression only: the secondary cells shown with their exact counts.
    let exact = read_csv(&ws.out().join("tables/municipal_by_category.csv"));
    let mut rows = read_csv(&published);
    let mut revealed = 0;
    for (row, exact) in rows.iter_mut().zip(&exact).skip(1) {
        if row[3] == "x" {
            row[3] = exact[3].clone();
            revealed += 1;
        }
    }
    assert!(revealed > 0);
    let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    std::fs::write(&published, text).unwrap();
    let a = audit(&ws.out());
    assert_eq!(a.status.code(), Some(1), "{}", stdout(&a));
    assert!(stdout(&a).contains("can be narrowed to"), "{}", stdout(&a));

    // A published count below the threshold fails too.
    let totals = ws.out().join("tables/published/municipal_totals.csv");
    let mut rows = read_csv(&totals);
    // (count-2026 has no municipal total below 5: any published count will do.)
    let small = rows
        .iter()
        .skip(1)
        .position(|r| r[2].parse::<u64>().is_ok_and(|n| n >= 5))
        .unwrap()
        + 1;
    rows[small][2] = "3".into();
    let text: String = rows.iter().map(|r| r.join(",") + "\n").collect();
    std::fs::write(&totals, text).unwrap();
    let a = audit(&ws.out());
    assert_eq!(a.status.code(), Some(1));
    assert!(stdout(&a).contains("below the threshold"), "{}", stdout(&a));
}

#[test]
fn audit_of_a_folder_without_published_tables_exits_2() {
    let ws = Workspace::new();
    let a = audit(ws.path());
    assert_eq!(a.status.code(), Some(2));
    assert!(stderr(&a).contains("no published tables"), "{}", stderr(&a));
}

#[test]
fn round_publishes_only_multiples() {
    let ws = Workspace::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/count-2026");
    run_dir(&root, &ws.out(), &ws.key(), &["--round", "5"]);
    for name in PUBLISHED {
        let t = read_csv(&ws.out().join(format!("tables/published/{name}.csv")));
        let col = t[0].iter().position(|h| h == "persons").unwrap();
        for row in &t[1..] {
            let n: u64 = row[col]
                .parse()
                .unwrap_or_else(|_| panic!("{name}: {row:?}"));
            assert_eq!(n % 5, 0, "{name}: {row:?}");
        }
    }
    let a = audit(&ws.out());
    assert_eq!(a.status.code(), Some(0), "{}", stdout(&a));
}

#[test]
fn linking_sensitivity_brackets_the_count() {
    let out = count_2026();
    let t = read_csv(&out.join("tables/linking_sensitivity.csv"));
    assert_eq!(
        t[0],
        ["scenario", "persons", "difference", "difference_percent"]
    );
    let n = |s: &str| -> i64 { t.iter().find(|r| r[0] == s).unwrap()[1].parse().unwrap() };
    let today: i64 = read_csv(&out.join("tables/national_by_category.csv"))
        .iter()
        .find(|r| r[0] == "total")
        .expect("a total row")[1]
        .parse()
        .unwrap();
    assert_eq!(n("today"), today);
    assert!(n("cpr_only") > today);
    assert!(n("unidentified_already_counted") < today);
}

#[test]
fn municipal_charts_drawn_during_the_protection_are_those_drawn_after_it() {
    // `hcount run` draws the municipal charts while it protects the published tables,
    // guessing a municipality's count hidden when it is below --min-cell. With --min-cell 8,
    // fixtures/count-2026 has counts of 8 and more hidden as `x` to protect others: the
    // guess was wrong for them, and the report must have drawn them again.
    // HCOUNT_CHARTS_AHEAD_ALL: every chart is drawn on the guess first, however fast the
    // protection is, so the report's redrawing is what is tested.
    let ws = Workspace::new();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/count-2026");
    let o = run_command(&root, &ws.out(), &ws.key(), &["--min-cell", "8"])
        .env("HCOUNT_CHARTS_AHEAD_ALL", "1")
        .output()
        .unwrap();
    assert!(o.status.success(), "run failed: {}", stderr(&o));
    let exact = read_csv(&ws.out().join("tables/municipal_totals.csv"));
    let published = read_csv(&ws.out().join("tables/published/municipal_totals.csv"));
    let guessed_wrong = exact[1..]
        .iter()
        .zip(&published[1..])
        .filter(|(e, p)| e[2].parse::<u64>().unwrap() >= 8 && p[2] == "x")
        .count();
    assert!(
        guessed_wrong > 0,
        "no count of 8 or more hidden: the test tests nothing"
    );
    let during = tree(&ws.out().join("charts"));
    // `hcount report` draws every chart again from the output folder, after the fact.
    let o = hcount()
        .arg("report")
        .arg("--out")
        .arg(ws.out())
        .args(["--min-cell", "8"])
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", stderr(&o));
    let after = tree(&ws.out().join("charts"));
    assert_eq!(
        during.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &during {
        assert!(bytes == &after[name], "charts/{name} differs");
    }
}
