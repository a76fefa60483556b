//! The report's section on the rest of the person form (format version 2): why people became
//! homeless (a bar chart beside the published 2019 and 2022 shares), background and
//! citizenship, and health with the treatment shares of those ill. Built from the run's
//! tables `causes`, `background`, `citizenship` and `health` alone, like the rest of the
//! report. A count without version 2 answers (version 1 files) has no such section: its
//! report stays as it was.

use std::path::Path;

use crate::intake::spec;
use crate::publish::charts::{self, HBarChart};
use crate::publish::history::History;
use crate::publish::report::{Lang, num};

/// The section's values for the templates, and its chart's SVG (inserted as is).
pub struct Section {
    pub value: serde_json::Value,
    pub chart_svg: String,
}

/// A table of the run as rows of cells (header dropped); `None` when the file is missing (an
/// output folder of an hcount before format version 2).
fn rows(dir: &Path, name: &str) -> Result<Option<Vec<Vec<String>>>, String> {
    let path = dir.join("tables").join(format!("{name}.csv"));
    if !path.exists() {
        return Ok(None);
    }
    let mut r = csv::Reader::from_path(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let rows = r
        .records()
        .map(|rec| rec.map(|rec| rec.iter().map(String::from).collect()))
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", path.display()))?;
    Ok(Some(rows))
}

/// `true` when some counted person answers a version 2 question: then, and only then,
/// `municipal_indicators.csv` carries the version 2 measures (43_person_form_indicator_list.sql).
fn answered(dir: &Path) -> Result<bool, String> {
    Ok(rows(dir, "municipal_indicators")?
        .unwrap_or_default()
        .iter()
        .any(|r| r.get(2).is_some_and(|i| i == "cause_unknown")))
}

/// The section, or `None` when the count has no version 2 answers.
pub fn section(
    dir: &Path,
    lang: Lang,
    history: &History,
    charts_dir: &Path,
    year: i32,
) -> Result<Option<Section>, String> {
    let (Some(causes), Some(background), Some(citizenship), Some(health)) = (
        rows(dir, "causes")?,
        rows(dir, "background")?,
        rows(dir, "citizenship")?,
        rows(dir, "health")?,
    ) else {
        return Ok(None);
    };
    if !answered(dir)? {
        return Ok(None);
    }
    let da = lang == Lang::Da;
    let pick = |d: &'static str, e: &'static str| if da { d } else { e };
    let decimal = |s: &str| {
        if da {
            s.replace('.', ",")
        } else {
            s.to_string()
        }
    };
    let count = |s: &str| num(s.parse().unwrap_or(0), lang);
    let label = |list: &'static [spec::Code], code: &str| -> String {
        match spec::find_code(list, code) {
            Some(c) => pick(c.label_da, c.label_en).to_string(),
            None if code == "unknown" => pick("Uoplyst", "Not stated").to_string(),
            None => code.to_string(),
        }
    };
    let published = |measure: &str, y: i32| -> Option<i64> {
        history
            .national_shares
            .iter()
            .find(|f| f.year == y && f.key == measure)
            .map(|f| f.persons)
    };
    let shown = |v: Option<i64>| v.map(|p| p.to_string()).unwrap_or_else(|| "–".into());

    let causes_rows: Vec<serde_json::Value> = causes
        .iter()
        .map(|r| {
            let measure = format!("cause_{}", r[0]);
            serde_json::json!({
                "label": label(&spec::CAUSES, &r[0]),
                "persons": count(&r[1]),
                "percent": decimal(&r[2]),
                "p2019": shown(published(&measure, 2019)),
                "p2022": shown(published(&measure, 2022)),
                "unknown": r[0] == "unknown",
            })
        })
        .collect();
    let coded = |table: &[Vec<String>], list: &'static [spec::Code], prefix: &str| {
        table
            .iter()
            .map(|r| {
                serde_json::json!({
                    "label": label(list, &r[0]),
                    "persons": count(&r[1]),
                    "percent": decimal(&r[2]),
                    "p2019": shown(published(&format!("{prefix}_{}", r[0]), 2019)),
                })
            })
            .collect::<Vec<_>>()
    };
    let health_rows: Vec<serde_json::Value> = health
        .iter()
        .map(|r| {
            let (text, of) = match r[0].as_str() {
                "physical_illness" => (
                    pick("Fysisk sygdom", "Physical illness"),
                    pick("af alle hjemløse", "of all the homeless"),
                ),
                "mental_illness_treated" => (
                    pick(
                        "I behandling for psykisk sygdom",
                        "In treatment for mental illness",
                    ),
                    pick(
                        "af dem med psykisk sygdom",
                        "of those with a mental illness",
                    ),
                ),
                "substance_treated" => (
                    pick("I misbrugsbehandling", "In treatment for substance abuse"),
                    pick("af dem med et misbrug", "of those with a substance abuse"),
                ),
                _ => ("", ""),
            };
            serde_json::json!({
                "label": if text.is_empty() { r[0].clone() } else { text.to_string() },
                "persons": count(&r[1]),
                "denominator": count(&r[2]),
                "of": of,
                "percent": if r[3].is_empty() { "–".to_string() } else { decimal(&r[3]) },
            })
        })
        .collect();

    // The chart: this count's shares beside the published ones, named causes only.
    let named: Vec<&Vec<String>> = causes.iter().filter(|r| r[0] != "unknown").collect();
    let percent = |s: &str| s.parse::<f64>().ok();
    let chart = HBarChart {
        title: pick(
            "Årsager til hjemløshed (flere pr. person), % af de hjemløse",
            "Causes of homelessness (several per person), % of the homeless",
        )
        .to_string(),
        source: pick(
            "Kilde: VIVE via Blå Kors (2019, 2022, offentliggjorte andele); denne optælling (hcount).",
            "Source: VIVE via Blue Cross Denmark (2019, 2022, published shares); this count (hcount).",
        )
        .to_string(),
        categories: named
            .iter()
            .map(|r| label(&spec::CAUSES, &r[0]))
            .collect(),
        groups: vec![
            (
                pick("2019 (offentliggjort)", "2019 (published)").to_string(),
                named
                    .iter()
                    .map(|r| published(&format!("cause_{}", r[0]), 2019).map(|p| p as f64))
                    .collect(),
            ),
            (
                pick("2022 (offentliggjort)", "2022 (published)").to_string(),
                named
                    .iter()
                    .map(|r| published(&format!("cause_{}", r[0]), 2022).map(|p| p as f64))
                    .collect(),
            ),
            (
                format!("{year} ({})", pick("denne optælling", "this count")),
                named.iter().map(|r| percent(&r[2])).collect(),
            ),
        ],
    };
    let svg = charts_dir.join("causes.svg");
    charts::render_hbars(&chart, &svg, &charts_dir.join("causes.png"))
        .map_err(|e| format!("chart causes: {e:#}"))?;
    let chart_svg = std::fs::read_to_string(&svg).map_err(|e| format!("{}: {e}", svg.display()))?;
    let causes_unknown = causes
        .iter()
        .find(|r| r[0] == "unknown")
        .map(|r| decimal(&r[2]))
        .unwrap_or_default();

    Ok(Some(Section {
        value: serde_json::json!({
            "causes": causes_rows,
            "causes_unknown_percent": causes_unknown,
            "background": coded(&background, &spec::BACKGROUNDS, "background"),
            "citizenship": coded(&citizenship, &spec::CITIZENSHIPS, "citizenship"),
            "health": health_rows,
            "chart": {
                "title": chart.title,
                "png": "charts/causes.png",
                "svg": "charts/causes.svg",
            },
        }),
        chart_svg,
    }))
}
