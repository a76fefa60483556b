//! The warehouse of counts (issue #12): `run --warehouse`, linkage between counts, `trends`
//! and `rekey`, on the hand-worked three-count panel `fixtures/panel-handworked/` (expected
//! tables worked out by hand in its README, person by person).

use crate::util::*;
use std::path::{Path, PathBuf};

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/panel-handworked")
}

fn demo_key() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/demo-key.NOT-SECRET.txt")
}

/// `hcount run <input> --out <dir>/out-<tag> --warehouse <wh>` plus `extra`.
fn run_into(
    dir: &Path,
    input: &Path,
    wh: &Path,
    key: &Path,
    extra: &[&str],
) -> std::process::Output {
    let tag = input.file_name().unwrap().to_string_lossy().into_owned();
    hcount()
        .arg("run")
        .arg(input)
        .arg("--out")
        .arg(dir.join(format!("out-{tag}")))
        .arg("--key-file")
        .arg(key)
        .arg("--warehouse")
        .arg(wh)
        .args(["--threads", "2", "--quiet"])
        .args(extra)
        .output()
        .unwrap()
}

/// The panel's three counts in a warehouse (`<ws>/wh`), oldest first, with their run
/// outputs (`<ws>/out-<year>`): made once, copied into each workspace.
fn panel(ws: &Workspace) -> PathBuf {
    static PANEL: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    let made = made_once(&PANEL, "warehouse-panel", |dir| {
        for year in ["2022", "2024", "2026"] {
            let out = run_into(
                dir,
                &fixture().join(year),
                &dir.join("wh"),
                &demo_key(),
                &[],
            );
            assert!(out.status.success(), "{year}: {}", stderr(&out));
        }
    });
    for entry in std::fs::read_dir(made).unwrap() {
        let entry = entry.unwrap();
        copy_folder(&entry.path(), &ws.path().join(entry.file_name()));
    }
    ws.path().join("wh")
}

fn linkage_tables(wh: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    tree(wh)
        .into_iter()
        .filter(|(name, _)| {
            let file = name.rsplit('/').next().unwrap();
            file.starts_with("linkage") || file.starts_with("transitions")
        })
        .collect()
}

#[test]
fn handworked_panel_linkage_matches_exactly() {
    let ws = Workspace::new();
    let wh = panel(&ws);
    for year in ["2022", "2024", "2026"] {
        let tables = wh.join(format!("year={year}/tables"));
        for name in ["linkage.csv", "transitions.csv"] {
            assert_eq!(
                read_csv(&tables.join(name)),
                read_csv(&fixture().join("expected").join(year).join(name)),
                "{year} {name}"
            );
        }
        // new + again + returning = the year's counted persons.
        let total: i64 = read_csv(&tables.join("national_by_category.csv"))
            .iter()
            .find(|r| r[0] == "total")
            .unwrap()[1]
            .parse()
            .unwrap();
        let linkage = read_csv(&tables.join("linkage.csv"));
        let sum: i64 = linkage[1..4]
            .iter()
            .map(|r| r[1].parse::<i64>().unwrap())
            .sum();
        assert_eq!(sum, total, "{year}");
    }
    // By municipality: the three municipalities of the panel, exact; all 98 rows present.
    let by_m = read_csv(&wh.join("year=2026/tables/linkage_by_municipality.csv"));
    assert_eq!(by_m.len(), 99);
    let expected = read_csv(&fixture().join("expected/2026/linkage_by_municipality.csv"));
    assert_eq!(by_m[0], expected[0]);
    for row in &expected[1..] {
        assert!(by_m.contains(row), "{row:?}");
    }
    // The published copies are protected together with what the year's run published
    // (one linked set; docs/DECISIONS.md): each persons cell is shown as the year's
    // published municipal_totals.csv shows it — København's 5 persons are hidden there
    // (`x`, to protect the small municipalities of this tiny count), so they are here too —
    // and the attacker of `hcount audit` narrows nothing, in any year.
    let published = read_csv(&wh.join("year=2026/tables/published/linkage_by_municipality.csv"));
    let totals = read_csv(&wh.join("year=2026/tables/published/municipal_totals.csv"));
    let kbh = published.iter().find(|r| r[0] == "101").unwrap();
    let kbh_total = totals.iter().find(|r| r[0] == "101").unwrap();
    assert_eq!(kbh_total[2], "x");
    assert_eq!(kbh[6], "x");
    // new + again + returning = 5: not all three may be shown beside the hidden total.
    assert!(
        kbh[2..5].iter().any(|v| v.parse::<u64>().is_err()),
        "{kbh:?}"
    );
    for row in &published[1..] {
        let total = totals.iter().find(|r| r[0] == row[0]).unwrap();
        assert_eq!(row[6], total[2], "{row:?}");
    }
    // The first count of the warehouse has nobody counted again, returning or persistent,
    // the second nobody returning or persistent: shown as the zeros anyone knows they are.
    for (year, zeros) in [("2022", &[3, 4, 5][..]), ("2024", &[4, 5][..])] {
        let t = read_csv(&wh.join(format!(
            "year={year}/tables/published/linkage_by_municipality.csv"
        )));
        for row in &t[1..] {
            for &c in zeros {
                assert_eq!(row[c], "0", "{year} {row:?}");
            }
        }
    }
    // The national linkage and the transitions are published protected too (2026: 2 new,
    // 4 again, 3 returning, 2 persistent of 9 persons; transitions of 1 or 2 persons).
    let national = read_csv(&wh.join("year=2026/tables/published/linkage.csv"));
    assert_eq!(national[0], ["status", "persons"]);
    for row in &national[1..] {
        assert!(row[1].parse::<u64>().is_err(), "{row:?} is a count under 5");
    }
    let moves = read_csv(&wh.join("year=2026/tables/published/transitions.csv"));
    assert!(moves.len() > 1);
    for row in &moves[1..] {
        assert!(row[2] == "<5" || row[2] == "x", "{row:?}");
    }
    let audit = hcount()
        .arg("audit")
        .arg(ws.path().join("out-2026"))
        .args(["--lang", "en"])
        .output()
        .unwrap();
    let text = stdout(&audit);
    assert_eq!(audit.status.code(), Some(0), "{text}");
    for part in [
        "the run",
        "the warehouse, year=2022",
        "the warehouse, year=2026",
    ] {
        assert!(text.contains(&format!("audit: {part}\n")), "{text}");
    }
    assert_eq!(text.matches("audit: passed").count(), 4, "{text}");
    // The warehouse folder itself: every year.
    let audit = hcount().arg("audit").arg(&wh).output().unwrap();
    assert_eq!(audit.status.code(), Some(0), "{}", stdout(&audit));
    assert_eq!(stdout(&audit).matches("audit: bestået").count(), 3);
    // Hive partitions: one folder per year, the manifest lists them.
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wh.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(
        manifest["years"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["2022", "2024", "2026"]
    );
    assert_eq!(manifest["key_chain"].as_array().unwrap().len(), 1);
    let text = std::fs::read_to_string(wh.join("manifest.json")).unwrap();
    let key = std::fs::read_to_string(demo_key()).unwrap();
    assert!(!text.contains(key.trim()), "the manifest holds the key");
}

#[test]
fn the_run_report_links_to_the_trends_page_and_trends_draws_every_year() {
    let ws = Workspace::new();
    let wh = panel(&ws);
    let run_out = ws.path().join("out-2026");
    let report = std::fs::read_to_string(run_out.join("report.html")).unwrap();
    assert!(report.contains("href=\"trends.html\""));
    // The report itself shows the warehouse: the series, new/again/returning per count (2026:
    // 9 counted, new/again/returning hidden as x, persistent <5), the transitions, the caveat.
    assert!(report.contains("id=\"lager\"") && report.contains("id=\"forloeb\""));
    // The published copies: every count of the tiny panel's linkage is under 5, hidden.
    assert!(report.contains("<td>2026</td><td class=\"n\">9</td><td class=\"n\">x</td><td class=\"n\">x</td><td class=\"n\">x</td><td class=\"n\">&lt;5</td>"), "{report}");
    assert!(report.contains("2022 → 2024") && report.contains("2024 → 2026"));
    assert!(report.contains("ikke det samme som at have fået en bolig"));
    assert!(report.contains("Hjemløse i Danmark, uge 6: offentliggjort og talt"));
    let page = std::fs::read_to_string(run_out.join("trends.html")).unwrap();
    assert!(page.contains("2022 → 2024") && page.contains("2024 → 2026"));
    assert!(page.contains("ikke det samme som at have fået en bolig"));
    // `hcount trends` gives the same page from the warehouse alone.
    let out = ws.path().join("trends");
    let r = hcount()
        .args(["trends", "--warehouse"])
        .arg(&wh)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(
        std::fs::read_to_string(out.join("trends.html")).unwrap(),
        page
    );
    assert!(out.join("charts/trends/linkage.png").is_file());
    let en = ws.path().join("trends-en");
    let r = hcount()
        .args(["trends", "--lang", "en", "--warehouse"])
        .arg(&wh)
        .arg("--out")
        .arg(&en)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let page = std::fs::read_to_string(en.join("trends.html")).unwrap();
    assert!(page.contains("Not being counted again is not the same as being housed"));
    // The run's report in English (the 2026 count again, replacing itself).
    let out = run_into(
        ws.path(),
        &fixture().join("2026"),
        &wh,
        &demo_key(),
        &["--lang", "en"],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let en = std::fs::read_to_string(run_out.join("report.html")).unwrap();
    assert!(en.contains("Count after count") && en.contains("2024 → 2026"));
    assert!(en.contains("Not being counted again is not the same as being housed"));
    // `hcount report` re-renders a warehouse run's report with the warehouse's series (and
    // trends.html), in the language asked for.
    let r = hcount()
        .args(["report", "--out"])
        .arg(&run_out)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let da = std::fs::read_to_string(run_out.join("report.html")).unwrap();
    assert!(da.contains("Tælling efter tælling") && da.contains("2024 → 2026"));
    let page = std::fs::read_to_string(run_out.join("trends.html")).unwrap();
    assert!(page.contains("ikke det samme som at have fået en bolig"));
}

#[test]
fn replacing_a_year_leaves_the_other_years_byte_identical() {
    let ws = Workspace::new();
    let wh = panel(&ws);
    let before = tree(&wh);
    // The same 2024 again: the whole warehouse is byte-identical but for run.json timings.
    let out = run_into(ws.path(), &fixture().join("2024"), &wh, &demo_key(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = tree(&wh);
    assert_eq!(
        before.keys().collect::<Vec<_>>(),
        after.keys().collect::<Vec<_>>()
    );
    for (name, bytes) in &before {
        if !name.ends_with("run.json") && name != "manifest.json" {
            assert!(after[name] == *bytes, "{name} changed");
        }
    }
    // A different 2024: 2022 and 2026's own files stay as they were.
    let changed = ws.path().join("in2024");
    std::fs::create_dir_all(&changed).unwrap();
    let text = std::fs::read_to_string(fixture().join("2024/herberg.csv")).unwrap();
    std::fs::write(
        changed.join("herberg.csv"),
        text.lines().take(4).collect::<Vec<_>>().join("\n") + "\n",
    )
    .unwrap();
    let out = run_into(ws.path(), &changed, &wh, &demo_key(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let after = tree(&wh);
    for (name, bytes) in &before {
        let kept = name.starts_with("year=2022/")
            || (name.starts_with("year=2026/")
                && !linkage_tables(&wh).contains_key(name)
                && !name.ends_with("run.json"));
        if kept {
            assert!(after[name] == *bytes, "{name} changed");
        }
    }
    assert_ne!(
        after["year=2024/persons.parquet"],
        before["year=2024/persons.parquet"]
    );
    // 2026's linkage follows the new 2024 (E and J are no longer in it: returning/new).
    assert_ne!(
        after["year=2026/tables/linkage.csv"],
        before["year=2026/tables/linkage.csv"]
    );
}

#[test]
fn a_year_made_with_another_key_is_refused() {
    let ws = Workspace::new();
    let wh = ws.path().join("wh");
    let out = run_into(ws.path(), &fixture().join("2022"), &wh, &demo_key(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = tree(&wh);
    let out = run_into(ws.path(), &fixture().join("2024"), &wh, &ws.key(), &[]);
    assert_eq!(out.status.code(), Some(2));
    let msg = stderr(&out);
    assert!(msg.contains("another key"), "{msg}");
    assert!(msg.contains("not added to the warehouse"), "{msg}");
    assert_eq!(tree(&wh), before, "the warehouse changed");
}

#[test]
fn rekeying_leaves_every_linkage_table_unchanged_and_later_runs_link() {
    let ws = Workspace::new();
    let wh = ws.path().join("wh");
    for year in ["2022", "2024"] {
        let out = run_into(ws.path(), &fixture().join(year), &wh, &demo_key(), &[]);
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let new_key = ws.path().join("new.key");
    std::fs::write(&new_key, "a brand new key of thirty-two bytes").unwrap();
    let keys_before = parquet_strings(&wh.join("year=2022/persons.parquet"));
    let linkage_before = linkage_tables(&wh);

    // The wrong current key is refused and nothing changes.
    let r = hcount()
        .args(["rekey", "--warehouse"])
        .arg(&wh)
        .arg("--key-file")
        .arg(ws.key())
        .arg("--new-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(
        stderr(&r).contains("not the warehouse's current key"),
        "{}",
        stderr(&r)
    );

    let r = hcount()
        .args(["rekey", "--warehouse"])
        .arg(&wh)
        .arg("--key-file")
        .arg(demo_key())
        .arg("--new-key-file")
        .arg(&new_key)
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(linkage_tables(&wh), linkage_before);
    let keys_after = parquet_strings(&wh.join("year=2022/persons.parquet"));
    assert_eq!(keys_before.len(), keys_after.len());
    assert!(
        keys_before
            .iter()
            .filter(|k| k.len() == 64)
            .all(|k| !keys_after.contains(k))
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(wh.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["key_chain"].as_array().unwrap().len(), 2);
    assert_eq!(manifest["rekeyings"].as_array().unwrap().len(), 1);

    // A run with the new key alone is refused, with what to do.
    let out = run_into(ws.path(), &fixture().join("2026"), &wh, &new_key, &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("--chain-key-file"),
        "{}",
        stderr(&out)
    );
    // The first key plus the chain links 2026 to the re-keyed years exactly as before.
    let out = run_into(
        ws.path(),
        &fixture().join("2026"),
        &wh,
        &demo_key(),
        &["--chain-key-file", new_key.to_str().unwrap()],
    );
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(
        read_csv(&wh.join("year=2026/tables/linkage.csv")),
        read_csv(&fixture().join("expected/2026/linkage.csv"))
    );
    assert_eq!(
        read_csv(&wh.join("year=2026/tables/transitions.csv")),
        read_csv(&fixture().join("expected/2026/transitions.csv"))
    );
}

#[test]
fn other_refusals_are_explained_and_change_nothing() {
    let ws = Workspace::new();
    let wh = ws.path().join("wh");
    // trends on a folder that is not a warehouse.
    let r = hcount()
        .args(["trends", "--warehouse"])
        .arg(ws.path())
        .arg("--out")
        .arg(ws.path().join("t"))
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("is not a warehouse"), "{}", stderr(&r));
    assert!(!ws.path().join("t").exists());

    let out = run_into(ws.path(), &fixture().join("2022"), &wh, &demo_key(), &[]);
    assert!(out.status.success(), "{}", stderr(&out));
    let before = tree(&wh);
    // Re-keying to the key the warehouse already has.
    let r = hcount()
        .args(["rekey", "--warehouse"])
        .arg(&wh)
        .arg("--key-file")
        .arg(demo_key())
        .arg("--new-key-file")
        .arg(demo_key())
        .output()
        .unwrap();
    assert_eq!(r.status.code(), Some(2));
    assert!(stderr(&r).contains("already used"), "{}", stderr(&r));
    assert_eq!(tree(&wh), before);
    // Another hcount is changing the warehouse (its lock file is there).
    std::fs::write(wh.join(".lock"), "").unwrap();
    let out = run_into(ws.path(), &fixture().join("2024"), &wh, &demo_key(), &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("being changed by another hcount"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(wh.join(".lock")).unwrap();
    assert_eq!(tree(&wh), before);
}

/// The years read as one Hive-partitioned dataset, as DuckDB, Polars or DataFusion would:
/// `year` comes from the folder names, and every year's persons are there.
#[test]
fn the_warehouse_reads_as_one_hive_partitioned_dataset() {
    use datafusion::arrow::datatypes::DataType;
    use datafusion::datasource::file_format::parquet::ParquetFormat;
    use datafusion::datasource::listing::ListingOptions;
    use datafusion::prelude::SessionContext;
    let ws = Workspace::new();
    let wh = panel(&ws);
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let rows = rt.block_on(async {
        let ctx = SessionContext::new();
        let options = ListingOptions::new(std::sync::Arc::new(ParquetFormat::default()))
            .with_file_extension("persons.parquet")
            .with_table_partition_cols(vec![("year".to_string(), DataType::Int32)]);
        ctx.register_listing_table("persons", wh.to_str().unwrap(), options, None, None)
            .await
            .unwrap();
        let df = ctx
            .sql("SELECT year, COUNT(*) AS n, SUM(CASE WHEN counted THEN 1 ELSE 0 END) AS counted FROM persons GROUP BY year ORDER BY year")
            .await
            .unwrap();
        datafusion::arrow::util::pretty::pretty_format_batches(&df.collect().await.unwrap())
            .unwrap()
            .to_string()
    });
    // 2024 has 8 persons, 7 counted (I is not_homeless).
    for line in [
        "| 2022 | 8 | 8       |",
        "| 2024 | 8 | 7       |",
        "| 2026 | 9 | 9       |",
    ] {
        assert!(rows.contains(line), "{rows}");
    }
}

/// `hcount synth --panel`: the same population in three counts, persons coming back; the
/// warehouse finds them again. Same seed, same files.
#[test]
fn a_synthetic_panel_links_from_count_to_count() {
    let ws = Workspace::new();
    let panel_dir = ws.path().join("panel");
    let synth = |dir: &Path| {
        let r = hcount()
            .args([
                "synth",
                "--panel",
                "--persons",
                "400",
                "--files",
                "8",
                "--seed",
                "5",
                "--style",
                "plain",
                "--out",
            ])
            .arg(dir)
            .output()
            .unwrap();
        assert!(r.status.success(), "{}", stderr(&r));
    };
    synth(&panel_dir);
    synth(&ws.path().join("again"));
    assert_eq!(tree(&panel_dir), tree(&ws.path().join("again")));
    let wh = ws.path().join("wh");
    // Published figures rounded, not suppressed: what is tested is the linking, and a
    // sparse panel's secondary suppression is a thousand LP solves a year (7 of this test's
    // 7.5 minutes in a debug build). Suppression of generated counts is tested in
    // disclosure.rs, and beside the linkage tables in handworked_panel_linkage_matches_exactly.
    for year in ["2022", "2024", "2026"] {
        let out = run_into(
            ws.path(),
            &panel_dir.join(year),
            &wh,
            &demo_key(),
            &["--round", "5"],
        );
        assert!(out.status.success(), "{year}: {}", stderr(&out));
    }
    let status = |year: &str, s: &str| -> i64 {
        read_csv(&wh.join(format!("year={year}/tables/linkage.csv")))
            .iter()
            .find(|r| r[0] == s)
            .unwrap()[1]
            .parse()
            .unwrap()
    };
    // 35 % of one count's persons are in the next; counted and identified ones link. The
    // bounds are wide: what is tested is that linking happens, not the generator's rates.
    let again_2024 = status("2024", "again");
    assert!((60..=200).contains(&again_2024), "again 2024: {again_2024}");
    assert!(status("2026", "returning") > 0);
    assert!(status("2026", "persistent") > 0);
    assert_eq!(status("2022", "again"), 0);
}
