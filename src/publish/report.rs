//! The report: charts (SVG + PNG) and a self-contained `report.html` plus `report.md`, built
//! only from a run's tables, `rejected.csv` and `run.json` — so `hcount report` can re-render
//! them without the submissions, the key or the SQL engine. Everything is sorted and carries
//! no timestamp: the same run gives byte-identical charts and reports.

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use rayon::prelude::*;
use serde::Serialize;

use crate::count::tables::Table;
use crate::intake::spec;
use crate::intake::validate::Rule;
use crate::publish::charts::{self, BarChart, LineChart, Marker, Point, Series};
use crate::publish::disclosure::audit::Witnessed;
use crate::publish::disclosure::is_small;
use crate::publish::history::History;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    /// Danish (default)
    Da,
    /// English
    En,
}

#[derive(Clone)]
pub struct ReportOptions {
    pub lang: Lang,
    pub history: History,
    pub min_cell: u64,
}

const HTML_TEMPLATE: &str = include_str!("../../reports/templates/report.html.j2");
const MD_TEMPLATE: &str = include_str!("../../reports/templates/report.md.j2");
const PERSON_FORM_HTML: &str = include_str!("../../reports/templates/person_form.html.j2");
const PERSON_FORM_MD: &str = include_str!("../../reports/templates/person_form.md.j2");

/// Renders charts and reports into `dir`, an output folder of `hcount run`. `witnessed`:
/// what the suppression that wrote its published tables found, which spares the audit most
/// of its solves (same answer; `audit::Witnessed`).
pub fn render(
    dir: &Path,
    options: &ReportOptions,
    witnessed: Option<&Witnessed>,
    ahead: Option<&MunicipalAhead>,
) -> Result<Drawn, String> {
    render_all(dir, options, None, None, witnessed, ahead)
}

/// The charts a rendering drew and the audit it made, for rendering the same output folder
/// again: `run --warehouse` renders the report once the count is in place, and again with
/// the warehouse's section. Its tables have not changed in between, so the charts would be
/// the same files and the audit the same answer; they are made once.
pub struct Drawn {
    charts: Charts,
    audit: Option<crate::publish::disclosure::audit::Audit>,
}

/// [`render`], and for a run with `--warehouse` the series of every stored count, who was
/// counted again and the transitions (`warehouse`: what the trends page shows, drawn by
/// [`crate::publish::trends::render`] into `dir`), in report.html. `drawn`: what an earlier
/// rendering of this same folder drew, its tables unchanged since.
pub fn render_with_warehouse(
    dir: &Path,
    options: &ReportOptions,
    warehouse: Option<&crate::publish::trends::Section>,
    drawn: Option<Drawn>,
) -> Result<Drawn, String> {
    render_all(dir, options, warehouse, drawn, None, None)
}

fn render_all(
    dir: &Path,
    options: &ReportOptions,
    warehouse: Option<&crate::publish::trends::Section>,
    drawn: Option<Drawn>,
    witnessed: Option<&Witnessed>,
    ahead: Option<&MunicipalAhead>,
) -> Result<Drawn, String> {
    let data = RunData::load(dir)?;
    let charts_dir = dir.join("charts");
    std::fs::create_dir_all(charts_dir.join("municipal"))
        .map_err(|e| format!("{}: {e}", charts_dir.display()))?;
    let t = Texts::new(options.lang);
    let drawn = match drawn {
        Some(drawn) => drawn,
        None => {
            // The audit (LP solves) and the charts (drawing, PNG encoding) need nothing of
            // each other: side by side, on the run's threads.
            let (audit, charts) = rayon::join(
                || {
                    let started = std::time::Instant::now();
                    let audit = crate::publish::disclosure::audit::audit_folder_with(
                        dir,
                        data.run["min_cell"].as_u64().unwrap_or(5),
                        witnessed,
                    )
                    .ok();
                    crate::progress::trace_took("the audit", started);
                    audit
                },
                || {
                    let started = std::time::Instant::now();
                    let charts = draw_charts(&data, options, &t, &charts_dir, ahead);
                    crate::progress::trace_took("the charts", started);
                    charts
                },
            );
            Drawn {
                charts: charts?,
                audit,
            }
        }
    };
    let context = context(&data, drawn.audit.as_ref(), options, &t, &drawn.charts)?;
    // A run with --warehouse writes trends.html beside the report: link to it.
    let context = minijinja::context! { trends => dir.join("trends.html").is_file(), ..context };
    // Format version 2: the person form's section, when the count has its answers.
    let person_form = crate::publish::person_form::section(
        dir,
        options.lang,
        &options.history,
        &charts_dir,
        data.year,
    )?;
    let context = match person_form {
        Some(s) => minijinja::context! {
            person_form => minijinja::Value::from(minijinja::value::Serde(&s.value)),
            person_form_svg => minijinja::Value::from_safe_string(s.chart_svg),
            ..context
        },
        None => context,
    };
    let response =
        minijinja::Value::from(minijinja::value::Serde(&response_rates(dir, options.lang)?));
    let context = minijinja::context! { response => response, ..context };
    let context = match warehouse {
        Some(w) => {
            minijinja::context! { w => minijinja::Value::from(minijinja::value::Serde(w)), ..context }
        }
        None => context,
    };

    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|name| {
        if name.ends_with(".html") {
            minijinja::AutoEscape::Html
        } else if name.ends_with(".md") {
            minijinja::AutoEscape::Custom(MARKDOWN.into())
        } else {
            minijinja::AutoEscape::None
        }
    });
    env.set_formatter(format_value);
    env.add_template("report.html", HTML_TEMPLATE)
        .map_err(|e| e.to_string())?;
    env.add_template("report.md", MD_TEMPLATE)
        .map_err(|e| e.to_string())?;
    env.add_template("person_form.html", PERSON_FORM_HTML)
        .map_err(|e| e.to_string())?;
    env.add_template("person_form.md", PERSON_FORM_MD)
        .map_err(|e| e.to_string())?;
    env.add_template("warehouse.html", crate::publish::trends::SECTION_TEMPLATE)
        .map_err(|e| e.to_string())?;
    for name in ["report.html", "report.md"] {
        let text = env
            .get_template(name)
            .and_then(|tpl| tpl.render(&context))
            .map_err(|e| format!("{name}: {e:#}"))?;
        std::fs::write(dir.join(name), text).map_err(|e| format!("{name}: {e}"))?;
    }
    Ok(drawn)
}

/// The auto-escape mode of `report.md`.
const MARKDOWN: &str = "markdown";

/// How every `{{ value }}` of the templates is written: CPR-masked, then escaped for HTML or
/// Markdown. Safe strings (the inline SVG charts and chart paths, made here) are written as
/// they are: their numbers are coordinates, not submitted values.
fn format_value(
    out: &mut minijinja::Output,
    state: &mut minijinja::State,
    value: &minijinja::Value,
) -> Result<(), minijinja::Error> {
    if value.is_safe() || value.is_undefined() || value.is_none() {
        return minijinja::escape_formatter(out, state, value);
    }
    let text = value.to_string();
    let masked = crate::privacy::mask_cpr(&text);
    match state.auto_escape() {
        minijinja::AutoEscape::Custom(name) if name == MARKDOWN => {
            out.write_str(&crate::publish::markdown::escape(&masked))?;
            Ok(())
        }
        _ => minijinja::escape_formatter(out, state, &minijinja::Value::from(masked.as_ref())),
    }
}

/// What a run left in its output folder.
struct RunData {
    year: i32,
    count_date: String,
    tables: BTreeMap<String, Table>,
    /// Rejected rows by rule code (rows, not problems: one row may have several).
    rejections: BTreeMap<String, u64>,
    run: serde_json::Value,
}

impl RunData {
    fn load(dir: &Path) -> Result<RunData, String> {
        let run_path = dir.join("run.json");
        let run: serde_json::Value =
            serde_json::from_slice(&std::fs::read(&run_path).map_err(|e| {
                format!(
                    "{}: {e} (is this an output folder of `hcount run`?)",
                    run_path.display()
                )
            })?)
            .map_err(|e| format!("{}: {e}", run_path.display()))?;
        let year = run["count_year"]
            .as_i64()
            .ok_or("run.json: no count_year")? as i32;
        let count_date = run["count_date"].as_str().unwrap_or_default().to_string();
        let mut tables = BTreeMap::new();
        for name in [
            "national_by_category",
            "municipal_totals",
            "by_age_group",
            "by_sex",
            "by_age_group_and_sex",
            "migrants_no_permanent_residence",
            "under_18",
            "indicators",
            "intake",
            "data_quality",
        ] {
            let path = dir.join("tables").join(format!("{name}.csv"));
            tables.insert(name.to_string(), Table::read_csv(&path)?);
        }
        // Published copies (issue #13): the report shows municipal figures as published, and
        // the count under other linking assumptions; older output folders may lack them.
        for (name, path) in [
            (
                "published_municipal_totals",
                "published/municipal_totals.csv",
            ),
            ("linking_sensitivity", "linking_sensitivity.csv"),
            ("ethos_light", "ethos_light.csv"),
            ("published_ethos_light", "published/ethos_light.csv"),
        ] {
            let path = dir.join("tables").join(path);
            if path.exists() {
                tables.insert(name.to_string(), Table::read_csv(&path)?);
            }
        }
        let rejected = Table::read_csv(&dir.join("rejected.csv"))?;
        let mut seen = std::collections::BTreeSet::new();
        let mut rejections: BTreeMap<String, u64> = BTreeMap::new();
        for r in &rejected.rows {
            // Count each rejected row once, under its first code.
            if seen.insert((r[0].clone(), r[1].clone())) {
                *rejections.entry(r[3].clone()).or_default() += 1;
            }
        }
        Ok(RunData {
            year,
            count_date,
            tables,
            rejections,
            run,
        })
    }

    fn table(&self, name: &str) -> &Table {
        &self.tables[name]
    }

    /// A two-column table as a map.
    fn pairs(&self, name: &str) -> BTreeMap<String, i64> {
        self.table(name)
            .rows
            .iter()
            .map(|r| (r[0].clone(), r[1].parse().unwrap_or(0)))
            .collect()
    }

    fn total(&self) -> i64 {
        self.pairs("national_by_category")
            .get("total")
            .copied()
            .unwrap_or(0)
    }
}

/// The report's fixed texts in Danish and English.
struct Texts {
    lang: Lang,
}

impl Texts {
    fn new(lang: Lang) -> Texts {
        Texts { lang }
    }

    fn pick<'a>(&self, da: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Da => da,
            Lang::En => en,
        }
    }

    fn situation(&self, code: &str) -> String {
        match spec::find_code(&spec::SITUATIONS, code) {
            Some(c) => self.pick(c.label_da, c.label_en).to_string(),
            None if code == "total" => self.pick("I alt", "Total").to_string(),
            None => code.to_string(),
        }
    }

    fn sex(&self, code: &str) -> &'static str {
        match (code, self.lang) {
            ("male", Lang::Da) => "Mænd",
            ("female", Lang::Da) => "Kvinder",
            ("male", Lang::En) => "Men",
            ("female", Lang::En) => "Women",
            (_, Lang::Da) => "Uoplyst",
            (_, Lang::En) => "Not stated",
        }
    }

    fn indicator(&self, code: &str) -> String {
        let (da, en) = match code {
            "mental_illness" => ("Psykisk sygdom", "Mental illness"),
            "substance_any" => ("Misbrug i alt", "Any substance abuse"),
            "substance_alcohol" => ("Alkohol", "Alcohol"),
            "substance_cannabis" => ("Hash", "Cannabis"),
            "substance_hard_drugs" => ("Hårde stoffer", "Hard drugs"),
            "substance_medication" => ("Medicin", "Medication"),
            "substance_other" => ("Andet misbrug", "Other substances"),
            "support_act" => ("ACT-støtte", "ACT support"),
            "support_icm" => ("ICM-støtte", "ICM support"),
            "support_cti" => ("CTI-støtte", "CTI support"),
            "support_social_caretaker" => ("Social vicevært", "Social caretaker"),
            "support_none" => ("Ingen bostøtte", "No housing support"),
            "housing_queue" => ("Skrevet op til bolig", "On a housing waiting list"),
            "action_plan" => ("Har handleplan (§141)", "Has an action plan (§141)"),
            "homeless_3m_plus" => (
                "Hjemløs i 3 måneder eller mere",
                "Homeless 3 months or more",
            ),
            "young_18_24" => ("Unge 18-24 år", "Young people 18-24"),
            "youth_18_29" => ("Unge 18-29 år", "Young people 18-29"),
            "women" => ("Kvinder", "Women"),
            "with_children" => ("Med børn under 18 hos sig", "With children under 18"),
            "children_with_adults" => (
                "Børn hos hjemløse forældre (antal børn)",
                "Children staying with them (number of children)",
            ),
            other => (other, other),
        };
        self.pick(da, en).to_string()
    }

    fn source(&self, year: i32) -> String {
        match self.lang {
            Lang::Da => format!(
                "Kilde: SFI/VIVE's hjemløsetællinger 2007–2024 (offentliggjorte tal); {year}: denne optælling (hcount)."
            ),
            Lang::En => format!(
                "Source: SFI/VIVE homelessness counts 2007–2024 (published figures); {year}: this count (hcount)."
            ),
        }
    }
}

#[derive(Serialize)]
struct ChartRef {
    title: String,
    svg_inline: String,
    png: String,
    svg: String,
}

struct Charts {
    national_total: ChartRef,
    by_category: ChartRef,
    youth: ChartRef,
    age_sex: ChartRef,
    municipal_multiples: Option<ChartRef>,
    municipal: Vec<(i32, String)>, // (code, relative svg path)
    municipal_map: ChartRef,
    /// One map per region, in the order of `data/municipalities.csv`.
    region_maps: Vec<ChartRef>,
}

fn markers(history: &History, t: &Texts) -> Vec<Marker> {
    history
        .notes
        .iter()
        .map(|n| Marker {
            year: n.year,
            label: match n.kind.as_str() {
                "definition_break" => t.pick("ny definition", "definition change"),
                "timing_break" => t.pick("COVID-19", "COVID-19"),
                "policy_change" => t.pick("reform", "reform"),
                other => other,
            }
            .to_string(),
        })
        .collect()
}

/// Years of the series: every published count year plus this one.
fn years(history: &History, year: i32) -> Vec<i32> {
    let mut ys: Vec<i32> = history.national_totals.iter().map(|f| f.year).collect();
    ys.push(year);
    ys.sort();
    ys.dedup();
    ys
}

/// A chart series over `years`; a count from 1 to min_cell − 1 is drawn as suppressed.
pub(crate) fn series(
    label: String,
    years: &[i32],
    known: &BTreeMap<i32, i64>,
    min_cell: Option<u64>,
) -> Series {
    Series {
        label,
        points: years
            .iter()
            .map(|y| {
                let v = known.get(y).copied();
                let suppressed = match (v, min_cell) {
                    (Some(v), Some(m)) => u64::try_from(v).is_ok_and(|v| is_small(v, m)),
                    _ => false,
                };
                Point {
                    year: *y,
                    value: if suppressed {
                        None
                    } else {
                        v.map(|v| v as f64)
                    },
                    suppressed,
                }
            })
            .collect(),
    }
}

fn draw_charts(
    data: &RunData,
    options: &ReportOptions,
    t: &Texts,
    dir: &Path,
    ahead: Option<&MunicipalAhead>,
) -> Result<Charts, String> {
    let h = &options.history;
    let year = data.year;
    let ys = years(h, year);
    let marks = markers(h, t);
    let source = t.source(year);
    let draw_line = |name: &str, chart: LineChart| -> Result<ChartRef, String> {
        let svg = dir.join(format!("{name}.svg"));
        let png = dir.join(format!("{name}.png"));
        charts::render_line(&chart, &svg, &png).map_err(|e| format!("chart {name}: {e:#}"))?;
        chart_ref(&chart.title, dir, name)
    };

    // National total.
    let mut totals: BTreeMap<i32, i64> = h
        .national_totals
        .iter()
        .map(|f| (f.year, f.persons))
        .collect();
    totals.insert(year, data.total());
    let national_total = draw_line(
        "national_total",
        LineChart {
            title: t
                .pick(
                    "Hjemløse i Danmark, uge 6",
                    "Homeless persons in Denmark, week 6",
                )
                .to_string(),
            y_label: t.pick("personer", "persons").to_string(),
            source: source.clone(),
            series: vec![series(
                t.pick("I alt", "Total").to_string(),
                &ys,
                &totals,
                None,
            )],
            markers: marks.clone(),
            current_year: year,
        },
    )?;

    // By category: this count's categories, earlier years where published.
    let current = data.pairs("national_by_category");
    let mut cat_series = Vec::new();
    for c in spec::SITUATIONS.iter().filter(|c| c.code != "not_homeless") {
        let mut known: BTreeMap<i32, i64> = h
            .national_by_category
            .iter()
            .filter(|f| f.key == c.code)
            .map(|f| (f.year, f.persons))
            .collect();
        let now = current.get(c.code).copied().unwrap_or(0);
        if known.is_empty() && now == 0 {
            continue;
        }
        known.insert(year, now);
        cat_series.push(series(t.situation(c.code), &ys, &known, None));
    }
    // The largest categories only: a legend of twelve lines is unreadable.
    cat_series.sort_by_key(|s| {
        std::cmp::Reverse(s.points.last().and_then(|p| p.value).unwrap_or(0.0) as i64)
    });
    cat_series.truncate(6);
    let by_category = draw_line(
        "national_by_category",
        LineChart {
            title: t
                .pick(
                    "Hjemløse efter situation (de seks største)",
                    "Homeless persons by situation (six largest)",
                )
                .to_string(),
            y_label: t.pick("personer", "persons").to_string(),
            source: source.clone(),
            series: cat_series,
            markers: marks.clone(),
            current_year: year,
        },
    )?;

    // Young people.
    let ind = data.pairs("indicators");
    let hist_ind = |key: &str| -> BTreeMap<i32, i64> {
        h.national_indicators
            .iter()
            .filter(|f| f.key == key)
            .map(|f| (f.year, f.persons))
            .collect()
    };
    let mut y24 = hist_ind("age_18_24");
    y24.insert(year, ind.get("young_18_24").copied().unwrap_or(0));
    let mut y29 = hist_ind("age_18_29");
    y29.insert(year, ind.get("youth_18_29").copied().unwrap_or(0));
    let youth = draw_line(
        "youth",
        LineChart {
            title: t
                .pick("Unge hjemløse", "Young homeless persons")
                .to_string(),
            y_label: t.pick("personer", "persons").to_string(),
            source: source.clone(),
            series: vec![
                series(
                    t.pick("18-24 år", "aged 18-24").to_string(),
                    &ys,
                    &y24,
                    None,
                ),
                series(
                    t.pick("18-29 år", "aged 18-29").to_string(),
                    &ys,
                    &y29,
                    None,
                ),
            ],
            markers: marks.clone(),
            current_year: year,
        },
    )?;

    // Age and sex, this count.
    let age_sex = data.table("by_age_group_and_sex");
    let groups: Vec<String> = spec::AGE_GROUPS.iter().map(|g| g.to_string()).collect();
    let mut bars = Vec::new();
    for sex in ["male", "female", "unknown"] {
        let values: Vec<f64> = groups
            .iter()
            .map(|g| {
                age_sex
                    .rows
                    .iter()
                    .find(|r| &r[0] == g && r[1] == sex)
                    .and_then(|r| r[2].parse().ok())
                    .unwrap_or(0.0)
            })
            .collect();
        bars.push((t.sex(sex).to_string(), values));
    }
    let age_sex_chart = BarChart {
        title: match t.lang {
            Lang::Da => format!("Hjemløse efter alder og køn, {year}"),
            Lang::En => format!("Homeless persons by age and sex, {year}"),
        },
        source: t
            .pick(
                "Kilde: denne optælling (hcount).",
                "Source: this count (hcount).",
            )
            .to_string(),
        categories: groups
            .iter()
            .map(|g| {
                if g == "unknown" {
                    t.pick("uoplyst", "unknown").to_string()
                } else {
                    g.clone()
                }
            })
            .collect(),
        groups: bars,
    };
    charts::render_bars(
        &age_sex_chart,
        &dir.join("age_sex.svg"),
        &dir.join("age_sex.png"),
    )
    .map_err(|e| format!("chart age_sex: {e:#}"))?;
    let age_sex = chart_ref(&age_sex_chart.title, dir, "age_sex")?;

    // Municipalities: one chart each (with persons this count), and small multiples of the
    // twelve largest. Published history counts people by home municipality, as we do.
    let hidden = published_hidden(data);
    let mut municipal = municipalities_counted(data.table("municipal_totals"));
    let municipal_charts = MunicipalCharts::new(h, t, year, options.min_cell);
    let is_hidden = |code: i32| hidden.contains(&code.to_string());
    municipal
        .par_iter()
        // Those a run drew while it protected its tables, on the right guess, are done.
        .filter(|(code, name, now)| {
            !ahead.is_some_and(|a| a.drawn_as(*code, name, *now, is_hidden(*code)))
        })
        .map(|(code, name, now)| municipal_charts.draw(dir, *code, name, *now, is_hidden(*code)))
        .collect::<Result<Vec<()>, String>>()?;
    municipal.sort_by_key(|(code, _, n)| (std::cmp::Reverse(*n), *code));
    let panels: Vec<(String, Series)> = municipal
        .iter()
        .take(12)
        .map(|(code, name, now)| {
            let series = municipal_charts.series(*code, name, *now, is_hidden(*code));
            (name.clone(), series)
        })
        .collect();
    let municipal_multiples = if panels.is_empty() {
        None
    } else {
        let title = t
            .pick(
                "De tolv kommuner med flest hjemløse",
                "The twelve municipalities with most homeless persons",
            )
            .to_string();
        charts::render_small_multiples(
            &title,
            &source,
            &panels,
            &dir.join("municipal_top12.svg"),
            &dir.join("municipal_top12.png"),
        )
        .map_err(|e| format!("chart municipal_top12: {e:#}"))?;
        Some(chart_ref(&title, dir, "municipal_top12")?)
    };
    municipal.sort_by_key(|(code, _, _)| *code);
    let (municipal_map, region_maps) = municipal_map(data, options, t, dir)?;
    Ok(Charts {
        municipal_map,
        region_maps,
        national_total,
        by_category,
        youth,
        age_sex,
        municipal_multiples,
        municipal: municipal
            .iter()
            .map(|(c, _, _)| (*c, format!("charts/municipal/{c}.svg")))
            .collect(),
    })
}

/// The municipalities with persons this count in `totals` (municipal_totals, exact):
/// (code, name, persons), in the table's order.
fn municipalities_counted(totals: &Table) -> Vec<(i32, String, i64)> {
    totals
        .rows
        .iter()
        .filter_map(|r| Some((r[0].parse().ok()?, r[1].clone(), r[2].parse().ok()?)))
        .filter(|(_, _, n)| *n > 0)
        .collect()
}

/// What every municipal chart shares: the series' years, the history, the markers and the
/// source line.
struct MunicipalCharts<'a> {
    history: &'a History,
    years: Vec<i32>,
    marks: Vec<Marker>,
    source: String,
    y_label: String,
    year: i32,
    min_cell: u64,
}

impl<'a> MunicipalCharts<'a> {
    fn new(history: &'a History, t: &Texts, year: i32, min_cell: u64) -> MunicipalCharts<'a> {
        MunicipalCharts {
            history,
            years: years(history, year),
            marks: markers(history, t),
            source: t.source(year),
            y_label: t.pick("personer", "persons").to_string(),
            year,
            min_cell,
        }
    }

    /// A municipality's series: the published years, and this count's unless `hidden` (a
    /// count hidden to protect another, by secondary suppression, is not drawn).
    fn series(&self, code: i32, name: &str, now: i64, hidden: bool) -> Series {
        let mut known: BTreeMap<i32, i64> = self
            .history
            .municipal_totals
            .iter()
            .filter(|f| f.key == code.to_string())
            .map(|f| (f.year, f.persons))
            .collect();
        if !hidden {
            known.insert(self.year, now);
        }
        series(name.to_string(), &self.years, &known, Some(self.min_cell))
    }

    /// `charts/municipal/<code>.svg` and `.png` into the charts folder `dir`.
    fn draw(
        &self,
        dir: &Path,
        code: i32,
        name: &str,
        now: i64,
        hidden: bool,
    ) -> Result<(), String> {
        let chart = LineChart {
            title: format!("{name} ({code})"),
            y_label: self.y_label.clone(),
            source: self.source.clone(),
            series: vec![self.series(code, name, now, hidden)],
            markers: self.marks.clone(),
            current_year: self.year,
        };
        let base = dir.join("municipal").join(code.to_string());
        charts::render_line(
            &chart,
            &base.with_extension("svg"),
            &base.with_extension("png"),
        )
        .map_err(|e| format!("chart {code}: {e:#}"))
    }
}

/// The municipal charts of `hcount run`, drawn on a thread of their own while the published
/// tables are protected: that is one LP solve after another, on one core, and the charts
/// (a hundred PNG files at a national count) would otherwise be drawn after it. Whether a
/// municipality's count is hidden is not known until the protection is done, so they are
/// drawn on a guess: hidden if below `--min-cell` (it is then published as `<t`), shown
/// otherwise. The report draws again only the charts the thread did not reach and those
/// whose guess was wrong (a count hidden as `x` to protect another), so the charts are the
/// same files as when all are drawn after the protection.
pub struct MunicipalAhead {
    /// (code, name, persons this count), as the report draws them.
    municipalities: Vec<(i32, String, i64)>,
    guess: Vec<bool>,
    next: AtomicUsize,
    stop: AtomicBool,
    drawn: Vec<AtomicBool>,
}

impl MunicipalAhead {
    /// `totals`: the exact municipal_totals table; `hidden_anyway(count)`: whether a count
    /// is published hidden whatever else is hidden.
    pub fn new(totals: &Table, hidden_anyway: impl Fn(i64) -> bool) -> MunicipalAhead {
        let municipalities = municipalities_counted(totals);
        MunicipalAhead {
            guess: municipalities.iter().map(|m| hidden_anyway(m.2)).collect(),
            drawn: municipalities
                .iter()
                .map(|_| AtomicBool::new(false))
                .collect(),
            municipalities,
            next: AtomicUsize::new(0),
            stop: AtomicBool::new(false),
        }
    }

    /// Draws the charts into `dir` (the output folder), one after the other, until all are
    /// drawn or [`MunicipalAhead::stop`] is called. A chart that cannot be written is left
    /// to the report, which says why.
    pub fn draw(&self, dir: &Path, options: &ReportOptions, year: i32) {
        let charts = dir.join("charts");
        if std::fs::create_dir_all(charts.join("municipal")).is_err() {
            return;
        }
        let t = Texts::new(options.lang);
        let municipal_charts = MunicipalCharts::new(&options.history, &t, year, options.min_cell);
        while !self.stop.load(Ordering::Relaxed) {
            let i = self.next.fetch_add(1, Ordering::Relaxed);
            let Some((code, name, now)) = self.municipalities.get(i) else {
                return;
            };
            if municipal_charts
                .draw(&charts, *code, name, *now, self.guess[i])
                .is_ok()
            {
                self.drawn[i].store(true, Ordering::Release);
            }
        }
    }

    /// Asks [`MunicipalAhead::draw`] to stop after the chart it is drawing.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// Whether `code`'s chart was drawn as the report would draw it: the same name and
    /// count (the report reads them back from tables/municipal_totals.csv), and its count
    /// `hidden` or not as given.
    fn drawn_as(&self, code: i32, name: &str, now: i64, hidden: bool) -> bool {
        self.municipalities
            .iter()
            .position(|m| m.0 == code && m.1 == name && m.2 == now)
            .is_some_and(|i| self.drawn[i].load(Ordering::Acquire) && self.guess[i] == hidden)
    }
}

fn chart_ref(title: &str, dir: &Path, name: &str) -> Result<ChartRef, String> {
    let svg_path: PathBuf = dir.join(format!("{name}.svg"));
    let svg =
        std::fs::read_to_string(&svg_path).map_err(|e| format!("{}: {e}", svg_path.display()))?;
    Ok(ChartRef {
        title: title.to_string(),
        svg_inline: svg,
        png: format!("charts/{name}.png"),
        svg: format!("charts/{name}.svg"),
    })
}

fn pct(part: i64, whole: i64) -> String {
    if whole == 0 {
        "0.0".into()
    } else {
        format!("{:.1}", 100.0 * part as f64 / whole as f64)
    }
}

/// Thousands with a thin space (Danish) or a comma (English).
pub(crate) fn num(n: i64, lang: Lang) -> String {
    let s = n.abs().to_string();
    let sep = match lang {
        Lang::Da => '.',
        Lang::En => ',',
    };
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(sep);
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

/// `audit`: the attack on the published tables (None: the folder has none).
fn context(
    data: &RunData,
    audit: Option<&crate::publish::disclosure::audit::Audit>,
    options: &ReportOptions,
    t: &Texts,
    charts: &Charts,
) -> Result<minijinja::Value, String> {
    let lang = options.lang;
    let d = |s: &str| -> String {
        match lang {
            Lang::Da => s.replace('.', ","),
            Lang::En => s.to_string(),
        }
    };
    let year = data.year;
    let total = data.total();
    let previous = options.history.previous_total(year);
    let change = previous.map(|p| {
        let diff = total - p.persons;
        serde_json::json!({
            "year": p.year,
            "persons": num(p.persons, lang),
            "diff": format!("{}{}", if diff > 0 { "+" } else { "" }, num(diff, lang)),
            "pct": d(&format!("{}{}", if diff > 0 { "+" } else { "" }, pct(diff, p.persons))),
        })
    });
    let categories: Vec<_> = data
        .table("national_by_category")
        .rows
        .iter()
        .map(|r| {
            let n: i64 = r[1].parse().unwrap_or(0);
            let published: Option<i64> = options
                .history
                .national_by_category
                .iter()
                .filter(|f| f.key == r[0] && f.year < year)
                .max_by_key(|f| f.year)
                .map(|f| f.persons);
            let last = options
                .history
                .national_by_category
                .iter()
                .filter(|f| f.key == r[0] && f.year < year)
                .max_by_key(|f| f.year)
                .map(|f| format!("{} ({})", num(f.persons, lang), f.year))
                .unwrap_or_default();
            let _ = published;
            serde_json::json!({
                "code": r[0],
                "label": t.situation(&r[0]),
                "persons": num(n, lang),
                "share": d(&pct(n, total)),
                "is_total": r[0] == "total",
                "previous": last,
            })
        })
        .collect();
    let ages: Vec<_> = data
        .table("by_age_group")
        .rows
        .iter()
        .map(|r| {
            let n: i64 = r[1].parse().unwrap_or(0);
            let label = if r[0] == "unknown" {
                t.pick("Uoplyst", "Not stated").to_string()
            } else {
                r[0].clone()
            };
            serde_json::json!({"label": label, "persons": num(n, lang), "share": d(&pct(n, total))})
        })
        .collect();
    let sexes: Vec<_> = data
        .table("by_sex")
        .rows
        .iter()
        .map(|r| {
            let n: i64 = r[1].parse().unwrap_or(0);
            serde_json::json!({"label": t.sex(&r[0]), "persons": num(n, lang), "share": d(&pct(n, total))})
        })
        .collect();
    let indicators_table = data.table("indicators");
    let indicator = |code: &str| -> serde_json::Value {
        let row = indicators_table.rows.iter().find(|r| r[0] == code);
        let persons: i64 = row.and_then(|r| r[1].parse().ok()).unwrap_or(0);
        let percent = row.map(|r| d(&r[2])).unwrap_or_default();
        serde_json::json!({"code": code, "label": t.indicator(code), "persons": num(persons, lang), "percent": percent})
    };
    // The same indicators the published municipal table holds.
    let housing_first: Vec<_> = crate::publish::disclosure::MUNICIPAL_INDICATORS
        .iter()
        .map(|c| indicator(c))
        .collect();
    let profile: Vec<_> = [
        "women",
        "young_18_24",
        "youth_18_29",
        "mental_illness",
        "substance_any",
        "substance_alcohol",
        "substance_cannabis",
        "substance_hard_drugs",
        "substance_medication",
        "substance_other",
        "with_children",
        "children_with_adults",
    ]
    .iter()
    .map(|c| indicator(c))
    .collect();

    // Municipal totals as published: small numbers suppressed, and the cells hidden to
    // protect them.
    let min_cell = options.min_cell;
    let published = published_municipal(data);
    let municipal: Vec<_> = data
        .table("municipal_totals")
        .rows
        .iter()
        .filter(|r| r[2] != "0")
        .map(|r| {
            let n: u64 = r[2].parse().unwrap_or(0);
            // As published (a count, rounded with --round, or a mark); an older output
            // folder without the published copy: small counts as <t.
            let shown = match published.get(&r[0]) {
                Some(text) => match text.parse::<i64>() {
                    Ok(p) => num(p, lang),
                    Err(_) => text.clone(),
                },
                None if is_small(n, min_cell) => format!("<{min_cell}"),
                None => num(n as i64, lang),
            };
            let code: i32 = r[0].parse().unwrap_or(0);
            let chart = charts
                .municipal
                .iter()
                .find(|(c, _)| *c == code)
                .map(|(_, p)| p.clone());
            serde_json::json!({"code": r[0], "name": r[1], "persons": shown, "chart": chart})
        })
        .collect();

    let quality = data.pairs("data_quality");
    let q = |k: &str| quality.get(k).copied().unwrap_or(0);
    let rows_read = data.run["rows"]["read"].as_i64().unwrap_or(0);
    let rows_rejected = data.run["rows"]["rejected"].as_i64().unwrap_or(0);
    let rejections: Vec<_> = data
        .rejections
        .iter()
        .map(|(code, n)| {
            let title = Rule::ALL
                .iter()
                .find(|r| r.code() == code)
                .map(|r| r.title_in(matches!(lang, Lang::Da)))
                .unwrap_or("");
            serde_json::json!({"code": code, "title": title, "rows": num(*n as i64, lang)})
        })
        .collect();
    let accepted = q("rows_accepted");
    let quality = serde_json::json!({
        "files": num(data.table("intake").rows.len() as i64, lang),
        "rows_read": num(rows_read, lang),
        "rows_accepted": num(accepted, lang),
        "rows_rejected": num(rows_rejected, lang),
        "rows_rejected_pct": d(&pct(rows_rejected, rows_read)),
        "warnings": num(data.run["rows"]["warnings"].as_i64().unwrap_or(0), lang),
        "cpr_pct": d(&pct(q("rows_identified_by_cpr"), accepted)),
        "linked": num(q("rows_linked_to_cpr_by_alternative_key"), lang),
        "ecpr": num(q("rows_identified_by_replacement_number"), lang),
        "alt": num(q("rows_identified_by_alternative_key"), lang),
        "unidentified": num(q("rows_unidentified"), lang),
        "unidentified_pct": d(&pct(q("rows_unidentified"), accepted)),
        "persons": num(q("persons"), lang),
        "several_units": num(q("persons_counted_reported_by_several_units"), lang),
        "several_units_pct": d(&pct(q("persons_counted_reported_by_several_units"), total)),
        "not_homeless": num(q("persons_not_homeless"), lang),
        "rejections": rejections,
    });
    // The audit of what was published (issue #13), and how sure the count is.
    let disclosure = match audit {
        Some(a) => serde_json::json!({
            "done": true,
            "passed": a.passed(),
            "cells": num(a.cells as i64, lang),
            "primary": num(a.primary as i64, lang),
            "secondary": num(a.secondary as i64, lang),
            "min_range": a.min_protection(),
            "failures": a.disclosed.len() + a.exposed.len() + a.inconsistent.len(),
        }),
        None => serde_json::json!({"done": false}),
    };
    let sensitivity: Vec<_> = data
        .tables
        .get("linking_sensitivity")
        .map(|t| t.rows.clone())
        .unwrap_or_default()
        .iter()
        .map(|r| {
            let label = match r[0].as_str() {
                "cpr_only" => t.pick("Kun CPR-numre kobler", "Only CPR numbers link"),
                "today" => t.pick("Tællingens regler", "The count's rules"),
                _ => t.pick(
                    "Alle uidentificerede rækker er allerede talte personer",
                    "Every unidentified row is a person already counted",
                ),
            };
            serde_json::json!({"label": label, "persons": num(r[1].parse().unwrap_or(0), lang),
                "difference": r[2], "percent": d(&r[3])})
        })
        .collect();
    // ETHOS Light (data/ethos_light/): the published copy's figures when there is one.
    let ethos: Vec<_> = {
        let exact = data.tables.get("ethos_light");
        let published = data.tables.get("published_ethos_light").or(exact);
        published
            .map(|t| t.rows.clone())
            .unwrap_or_default()
            .iter()
            .map(|r| {
                let code = r[0].as_str();
                let label = match code {
                    crate::count::ethos::ETHOS_TOTAL => t
                        .pick("ETHOS Light i alt (1–6)", "ETHOS Light total (1–6)")
                        .to_string(),
                    crate::count::ethos::OUTSIDE => t
                        .pick("Uden for ETHOS Light", "Outside ETHOS Light")
                        .to_string(),
                    crate::count::ethos::UNKNOWN => t.pick("Uoplyst", "Unknown").to_string(),
                    "total" => t.pick("Hjemløse i alt", "All homeless persons").to_string(),
                    _ => crate::count::ethos::categories()
                        .iter()
                        .find(|c| c.code == code)
                        .map(|c| {
                            let l = if t.lang == Lang::Da {
                                &c.label_da
                            } else {
                                &c.label_en
                            };
                            format!("{code}. {l}")
                        })
                        .unwrap_or_else(|| code.to_string()),
                };
                let situations: Vec<&str> = r[1]
                    .split('|')
                    .filter(|s| !s.is_empty())
                    .map(|s| {
                        spec::find_code(&spec::SITUATIONS, s)
                            .map(|c| {
                                if t.lang == Lang::Da {
                                    c.label_da
                                } else {
                                    c.label_en
                                }
                            })
                            .unwrap_or(s)
                    })
                    .collect();
                let persons = match r[2].parse::<i64>() {
                    Ok(n) => num(n, lang),
                    Err(_) => r[2].clone(),
                };
                serde_json::json!({
                    "label": label,
                    "situations": situations.join(", "),
                    "persons": persons,
                    "sum": code == crate::count::ethos::ETHOS_TOTAL || code == "total",
                })
            })
            .collect()
    };
    let notes: Vec<_> = options
        .history
        .notes
        .iter()
        .map(|n| serde_json::json!({"year": n.year, "note": n.note}))
        .collect();
    let migrants = data
        .pairs("migrants_no_permanent_residence")
        .get("total")
        .copied()
        .unwrap_or(0);
    let under_18 = data.pairs("under_18").get("total").copied().unwrap_or(0);
    let situations: Vec<_> = spec::SITUATIONS
        .iter()
        .enumerate()
        .filter(|(_, c)| c.code != "not_homeless")
        .map(|(i, c)| serde_json::json!({"rank": i + 1, "code": c.code, "label": t.pick(c.label_da, c.label_en)}))
        .collect();
    let value = serde_json::json!({
        "da": lang == Lang::Da,
        "year": year,
        "count_date": data.count_date,
        "total": num(total, lang),
        "change": change,
        "migrants": num(migrants, lang),
        "under_18": num(under_18, lang),
        "categories": categories,
        "ages": ages,
        "sexes": sexes,
        "housing_first": housing_first,
        "profile": profile,
        "municipal": municipal,
        "min_cell": min_cell,
        "quality": quality,
        "disclosure": disclosure,
        "ethos": ethos,
        "round": data.run["round"].as_u64(),
        "sensitivity": sensitivity,
        "notes": notes,
        "situations": situations,
        "version": env!("CARGO_PKG_VERSION"),
    });
    let mut ctx = minijinja::Value::from(minijinja::value::Serde(&value));
    // Charts carry inline SVG that must not be escaped: passed as safe strings.
    let chart = |c: &ChartRef| {
        minijinja::context! {
            title => c.title.clone(),
            svg_inline => minijinja::Value::from_safe_string(c.svg_inline.clone()),
            png => minijinja::Value::from_safe_string(c.png.clone()),
            svg => minijinja::Value::from_safe_string(c.svg.clone()),
        }
    };
    let mut list = vec![
        chart(&charts.national_total),
        chart(&charts.by_category),
        chart(&charts.youth),
        chart(&charts.age_sex),
    ];
    if let Some(m) = &charts.municipal_multiples {
        list.push(chart(m));
    }
    let map = chart(&charts.municipal_map);
    // Linked, not inlined: five more maps would double the page for a view most skip.
    let regions: Vec<minijinja::Value> = charts
        .region_maps
        .iter()
        .map(|c| {
            minijinja::context! {
                title => c.title.clone(),
                png => minijinja::Value::from_safe_string(c.png.clone()),
                svg => minijinja::Value::from_safe_string(c.svg.clone()),
            }
        })
        .collect();
    ctx =
        minijinja::context! { charts => list, municipal_map => map, region_maps => regions, ..ctx };
    Ok(ctx)
}

/// The response rates of a run from an inbox (`response.csv`, written by `run --inbox`);
/// `None` for a run from files, whose report has no such section.
fn response_rates(dir: &Path, lang: Lang) -> Result<Option<Vec<serde_json::Value>>, String> {
    let path = dir.join("response.csv");
    if !path.exists() {
        return Ok(None);
    }
    let table = Table::read_csv(&path)?;
    let da = lang == Lang::Da;
    let rows = table
        .rows
        .iter()
        .map(|r| {
            let label = match r[0].as_str() {
                "total" => if da { "I alt" } else { "Total" }.to_string(),
                "respondent_type" => spec::find_code(&spec::RESPONDENT_TYPES, &r[1])
                    .map(|c| c.label(da).to_string())
                    .unwrap_or_else(|| r[1].clone()),
                _ => r[1].clone(),
            };
            let n = |s: &str| num(s.parse().unwrap_or(0), lang);
            serde_json::json!({
                "breakdown": r[0],
                "label": label,
                "asked": n(&r[2]),
                "answered": n(&r[3]),
                "answered_none": n(&r[4]),
                "rate": if da { r[5].replace('.', ",") } else { r[5].clone() },
            })
        })
        .collect();
    Ok(Some(rows))
}

/// The published municipal totals (`tables/published/municipal_totals.csv`): code → the
/// text published (a count, `<t` or `x`); empty for an older output folder without it.
fn published_municipal(data: &RunData) -> HashMap<String, String> {
    data.tables
        .get("published_municipal_totals")
        .map(|t| {
            t.rows
                .iter()
                .filter_map(|r| Some((r.first()?.clone(), r.get(2)?.clone())))
                .collect()
        })
        .unwrap_or_default()
}

/// Municipality codes whose published count is not a number (hidden as `<t` or `x`).
fn published_hidden(data: &RunData) -> std::collections::HashSet<String> {
    published_municipal(data)
        .into_iter()
        .filter(|(_, v)| v.parse::<u64>().is_err())
        .map(|(k, _)| k)
        .collect()
}

/// The municipal map of the published totals (src/publish/map.rs), national and per
/// region (`charts/municipal_map_<region>.svg`, e.g. `municipal_map_region_hovedstaden`).
fn municipal_map(
    data: &RunData,
    options: &ReportOptions,
    t: &Texts,
    dir: &Path,
) -> Result<(ChartRef, Vec<ChartRef>), String> {
    use crate::publish::map::{MunicipalMap, Shown, render_map, render_region_map};
    let published = published_municipal(data);
    let min_cell = options.min_cell;
    let values: HashMap<u16, Shown> = data
        .table("municipal_totals")
        .rows
        .iter()
        .filter_map(|r| {
            let code: u16 = r[0].parse().ok()?;
            let exact: u64 = r[2].parse().ok()?;
            let shown = match published.get(&r[0]) {
                Some(text) => text.parse().map_or(Shown::Hidden, Shown::Count),
                None if is_small(exact, min_cell) => Shown::Hidden,
                None => Shown::Count(exact),
            };
            Some((code, shown))
        })
        .collect();
    let year = data.year;
    let mut map = MunicipalMap {
        title: match t.lang {
            Lang::Da => format!("Hjemløse efter kommune, {year}"),
            Lang::En => format!("Homeless persons by municipality, {year}"),
        },
        legend_title: t.pick("Personer", "Persons").to_string(),
        hidden_label: match t.lang {
            Lang::Da => format!("skjult (<{min_cell} eller x)"),
            Lang::En => format!("hidden (<{min_cell} or x)"),
        },
        inset_title: t.pick("Hovedstadsområdet", "Capital area").to_string(),
        source: vec![
            t.pick(
                "Kilde: denne optælling (hcount), kommunetal som offentliggjort; personer i deres hjemkommune.",
                "Source: this count (hcount), municipal figures as published; persons in their home municipality.",
            )
            .to_string(),
            t.pick(
                "Kommunegrænser: Geodatastyrelsen og Danske Kommuner, DAGI 1:500.000 (2014).",
                "Municipal boundaries: Geodatastyrelsen and Danske Kommuner, DAGI 1:500,000 (2014).",
            )
            .to_string(),
        ],
        min_cell,
        values,
    };
    render_map(
        &map,
        &dir.join("municipal_map.svg"),
        &dir.join("municipal_map.png"),
    )
    .map_err(|e| format!("chart municipal_map: {e:#}"))?;
    let national = chart_ref(&map.title, dir, "municipal_map")?;
    let mut region_maps = Vec::new();
    for region in crate::intake::spec::regions() {
        let codes: Vec<u16> = crate::intake::spec::municipalities()
            .iter()
            .filter(|m| m.region == region)
            .map(|m| m.code)
            .collect();
        let name = format!("municipal_map_{}", slug(region));
        map.title = match t.lang {
            Lang::Da => format!("Hjemløse efter kommune, {region}, {year}"),
            Lang::En => format!("Homeless persons by municipality, {region}, {year}"),
        };
        render_region_map(
            &map,
            &codes,
            &dir.join(format!("{name}.svg")),
            &dir.join(format!("{name}.png")),
        )
        .map_err(|e| format!("chart {name}: {e:#}"))?;
        region_maps.push(chart_ref(region, dir, &name)?);
    }
    Ok((national, region_maps))
}

/// A file name part of a region's name: "Region Hovedstaden" → "region_hovedstaden"
/// (ASCII letters only: æ ø å become ae oe aa).
fn slug(name: &str) -> String {
    let mut out = String::new();
    for ch in name.to_lowercase().chars() {
        match ch {
            'a'..='z' | '0'..='9' => out.push(ch),
            'æ' => out.push_str("ae"),
            'ø' => out.push_str("oe"),
            'å' => out.push_str("aa"),
            _ if !out.ends_with('_') => out.push('_'),
            _ => {}
        }
    }
    out.trim_matches('_').to_string()
}
