//! Trends from a warehouse of counts (issue #12): the national, category and municipal
//! series from every stored year, joined with the published history for the years not in
//! the warehouse, and the linkage of persons between counts (new, again, returning,
//! persistent; transitions of situation). Written as one self-contained `trends.html` and
//! its charts (SVG + PNG) under `charts/trends/`.
//!
//! Built only from the tables each year keeps (`year=YYYY/tables/*.csv`): no Parquet, no
//! key, no SQL engine here. Deterministic: no timestamps.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::count::tables::Table;
use crate::intake::spec;
use crate::publish::charts::{self, BarChart, LineChart, Marker};
use crate::publish::history::History;
use crate::publish::report::Lang;

pub struct TrendsOptions {
    pub lang: Lang,
    pub history: History,
    pub min_cell: u64,
}

const TEMPLATE: &str = include_str!("../../reports/templates/trends.html.j2");
/// The part of the trends page that the report of a warehouse run shows too: the series
/// from the warehouse, new/again/returning, the transitions and the caveat.
pub const SECTION_TEMPLATE: &str = include_str!("../../reports/templates/warehouse.html.j2");

/// One stored year's tables, as published (`tables/published/`: a hidden figure is not a
/// number here, and is neither drawn nor shown as one; docs/DECISIONS.md).
struct Year {
    year: i32,
    by_category: BTreeMap<String, i64>,
    municipal: Vec<(i32, String, i64)>,
    /// Status → the published cell (a count, `<5` or `x`).
    linkage: BTreeMap<String, String>,
    /// (from, to, the published cell).
    transitions: Vec<(String, String, String)>,
    linkage_municipal: Table,
}

fn pairs(t: &Table, key: &str, value: &str) -> BTreeMap<String, i64> {
    t.column(key)
        .into_iter()
        .zip(t.column(value))
        .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
        .collect()
}

impl Year {
    fn load(year: i32, dir: &Path) -> Result<Year, String> {
        // The published copy; a year stored by a version that did not publish it has the
        // exact table only (the next `run --warehouse` publishes every year's).
        let t = |name: &str| {
            let published = dir.join("tables/published").join(name);
            if published.exists() {
                Table::read_csv(&published)
            } else {
                Table::read_csv(&dir.join("tables").join(name))
            }
        };
        let municipal = t("municipal_totals.csv")?
            .rows
            .iter()
            .filter_map(|r| Some((r[0].parse().ok()?, r[1].clone(), r[2].parse().ok()?)))
            .collect();
        let transitions = t("transitions.csv")?
            .rows
            .iter()
            .map(|r| (r[0].clone(), r[1].clone(), r[2].clone()))
            .collect();
        let linkage = t("linkage.csv")?;
        Ok(Year {
            year,
            by_category: pairs(&t("national_by_category.csv")?, "situation", "persons"),
            municipal,
            linkage: linkage
                .column("status")
                .into_iter()
                .zip(linkage.column("persons"))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            transitions,
            linkage_municipal: t("linkage_by_municipality.csv")?,
        })
    }

    /// A linkage count as a number, if it is published as one.
    fn linkage_count(&self, status: &str) -> Option<i64> {
        self.linkage.get(status).and_then(|v| v.parse().ok())
    }

    /// The national total, if published as a count (else the year is not drawn).
    fn total(&self) -> Option<i64> {
        self.by_category.get("total").copied()
    }
}

struct Texts {
    lang: Lang,
}

impl Texts {
    fn pick<'a>(&self, da: &'a str, en: &'a str) -> &'a str {
        match self.lang {
            Lang::Da => da,
            Lang::En => en,
        }
    }

    fn situation(&self, code: &str) -> String {
        if code == "not_counted" {
            return self.pick("ikke talt", "not counted").to_string();
        }
        match spec::find_code(&spec::SITUATIONS, code) {
            Some(c) => self.pick(c.label_da, c.label_en).to_string(),
            None => code.to_string(),
        }
    }

    fn num(&self, n: i64) -> String {
        crate::publish::report::num(n, self.lang)
    }
}

/// A chart for the page: the SVG hcount drew itself is inserted as is (a safe string);
/// everything else is escaped.
#[derive(Serialize)]
pub struct ChartRef {
    title: String,
    caption: String,
    svg_inline: minijinja::Value,
    png: String,
    svg: String,
}

#[derive(Serialize)]
struct NationalRow {
    year: i32,
    published: String,
    computed: String,
    difference: String,
}

#[derive(Serialize)]
struct CategoryRow {
    label: String,
    cells: Vec<String>,
}

#[derive(Serialize)]
struct LinkageRow {
    year: i32,
    counted: String,
    new: String,
    again: String,
    returning: String,
    persistent: String,
    again_pct: String,
}

#[derive(Serialize)]
struct Transition {
    year: i32,
    previous: i32,
    from: Vec<String>,
    rows: Vec<CategoryRow>,
}

#[derive(Serialize)]
struct MunicipalRow {
    code: String,
    name: String,
    persons: String,
    new: String,
    again: String,
    returning: String,
    persistent: String,
}

/// What the trends page shows, ready for its template (`w` in `trends.html.j2` and in
/// `warehouse.html.j2`, which the report of a warehouse run includes as well).
#[derive(Serialize)]
pub struct Section {
    stored_years: String,
    first_year: Option<i32>,
    last_year: i32,
    /// The national and the category series (computed and published points).
    charts: Vec<ChartRef>,
    municipal_charts: Vec<ChartRef>,
    linkage_chart: ChartRef,
    national_rows: Vec<NationalRow>,
    all_years: Vec<i32>,
    category_rows: Vec<CategoryRow>,
    linkage_rows: Vec<LinkageRow>,
    /// What the attacker of `hcount audit` found in the published tables of every stored
    /// count, linkage included (a sentence).
    protection: String,
    transitions: Vec<Transition>,
    municipal_rows: Vec<MunicipalRow>,
    min_cell: u64,
}

/// Writes `trends.html` and `charts/trends/*` into `out` for the warehouse years `years`
/// (year and its folder, in year order), and returns what it shows, for the report.
pub fn render(
    years: &[(i32, PathBuf)],
    out: &Path,
    options: &TrendsOptions,
) -> Result<Section, String> {
    let data: Vec<Year> = years
        .iter()
        .map(|(y, d)| Year::load(*y, d))
        .collect::<Result<_, _>>()?;
    let last = data
        .last()
        .ok_or_else(|| "the warehouse holds no year".to_string())?;
    let t = Texts { lang: options.lang };
    let h = &options.history;
    let charts_dir = out.join("charts").join("trends");
    std::fs::create_dir_all(&charts_dir).map_err(|e| format!("{}: {e}", charts_dir.display()))?;
    let computed_years: Vec<i32> = data.iter().map(|y| y.year).collect();
    let mut all_years: Vec<i32> = h.national_totals.iter().map(|f| f.year).collect();
    all_years.extend(&computed_years);
    all_years.sort();
    all_years.dedup();
    let markers: Vec<Marker> = h
        .notes
        .iter()
        .map(|n| Marker {
            year: n.year,
            label: match n.kind.as_str() {
                "definition_break" => t.pick("ny definition", "definition change"),
                "timing_break" => "COVID-19",
                "policy_change" => "reform",
                other => other,
            }
            .to_string(),
        })
        .collect();
    let source = t
        .pick(
            "Kilde: VIVE/SFI's offentliggjorte tal og hcount (lageret).",
            "Source: published VIVE/SFI figures and hcount (the warehouse).",
        )
        .to_string();
    let computed_label = t.pick("talt af hcount", "counted by hcount").to_string();
    let published_label = t.pick("offentliggjort", "published").to_string();
    let series_of = |label: String, known: &BTreeMap<i32, i64>, min_cell: Option<u64>| {
        crate::publish::report::series(label, &all_years, known, min_cell)
    };
    let chart_ref = |name: &str, title: &str, caption: String| -> Result<ChartRef, String> {
        let svg_path = charts_dir.join(format!("{name}.svg"));
        Ok(ChartRef {
            title: title.to_string(),
            caption,
            svg_inline: minijinja::Value::from_safe_string(
                std::fs::read_to_string(&svg_path)
                    .map_err(|e| format!("{}: {e}", svg_path.display()))?,
            ),
            png: format!("charts/trends/{name}.png"),
            svg: format!("charts/trends/{name}.svg"),
        })
    };
    let draw_line = |name: &str, chart: LineChart, caption: String| -> Result<ChartRef, String> {
        charts::render_line(
            &chart,
            &charts_dir.join(format!("{name}.svg")),
            &charts_dir.join(format!("{name}.png")),
        )
        .map_err(|e| format!("chart {name}: {e:#}"))?;
        chart_ref(name, &chart.title, caption)
    };
    let mut chart_list = Vec::new();

    // National: the published and the computed series side by side, so each point says
    // where it comes from; where both exist, the table shows both.
    let published: BTreeMap<i32, i64> = h
        .national_totals
        .iter()
        .map(|f| (f.year, f.persons))
        .collect();
    let computed: BTreeMap<i32, i64> = data
        .iter()
        .filter_map(|y| Some((y.year, y.total()?)))
        .collect();
    chart_list.push(draw_line(
        "national_total",
        LineChart {
            title: t
                .pick(
                    "Hjemløse i Danmark, uge 6: offentliggjort og talt",
                    "Homeless persons in Denmark, week 6: published and counted",
                )
                .to_string(),
            y_label: t.pick("personer", "persons").to_string(),
            source: source.clone(),
            series: vec![
                series_of(published_label.clone(), &published, None),
                series_of(computed_label.clone(), &computed, None),
            ],
            markers: markers.clone(),
            current_year: last.year,
        },
        t.pick(
            "To linjer: de offentliggjorte tal og de år, hcount har talt fra lageret.",
            "Two lines: the published figures, and the years hcount counted from the warehouse.",
        )
        .to_string(),
    )?);

    // Categories: one line each, the warehouse's figure where the year is stored, the
    // published one before. The caption says which years are which.
    let stored_years = computed_years
        .iter()
        .map(|y| y.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    let mut cat_series = Vec::new();
    let mut category_rows = Vec::new();
    for c in spec::SITUATIONS.iter().filter(|c| c.code != "not_homeless") {
        let mut known: BTreeMap<i32, i64> = h
            .national_by_category
            .iter()
            .filter(|f| f.key == c.code)
            .map(|f| (f.year, f.persons))
            .collect();
        let published_known = known.clone();
        for y in &data {
            // A category hidden in the published table is not drawn for that year.
            if let Some(n) = y.by_category.get(c.code) {
                known.insert(y.year, *n);
            }
        }
        if known.values().all(|v| *v == 0) {
            continue;
        }
        category_rows.push(CategoryRow {
            label: t.situation(c.code),
            cells: all_years
                .iter()
                .map(|y| {
                    match (
                        computed_years.contains(y).then(|| known.get(y)).flatten(),
                        published_known.get(y),
                    ) {
                        (Some(c), Some(p)) => format!(
                            "{} ({} {})",
                            t.num(*c),
                            t.pick("offentl.", "publ."),
                            t.num(*p)
                        ),
                        (Some(c), None) => t.num(*c),
                        (None, Some(p)) => format!("{}*", t.num(*p)),
                        (None, None) => String::new(),
                    }
                })
                .collect(),
        });
        cat_series.push(series_of(t.situation(c.code), &known, None));
    }
    cat_series.sort_by_key(|s| {
        std::cmp::Reverse(s.points.iter().rev().find_map(|p| p.value).unwrap_or(0.0) as i64)
    });
    cat_series.truncate(6);
    chart_list.push(draw_line(
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
            markers: markers.clone(),
            current_year: last.year,
        },
        match t.lang {
            Lang::Da => {
                format!("Talt af hcount: {stored_years}; de øvrige år er offentliggjorte tal.")
            }
            Lang::En => {
                format!("Counted by hcount: {stored_years}; the other years are published figures.")
            }
        },
    )?);

    // Municipalities: the twelve largest of the latest stored year, one chart each with
    // the published and the counted series; counted values 1..min_cell-1 are not drawn.
    let mut top: Vec<(i32, String, i64)> = last.municipal.clone();
    top.sort_by_key(|(code, _, n)| (std::cmp::Reverse(*n), *code));
    top.retain(|(_, _, n)| *n > 0);
    top.truncate(12);
    let mut municipal_charts = Vec::new();
    for (code, name, _) in &top {
        let published: BTreeMap<i32, i64> = h
            .municipal_totals
            .iter()
            .filter(|f| f.key == code.to_string())
            .map(|f| (f.year, f.persons))
            .collect();
        let computed: BTreeMap<i32, i64> = data
            .iter()
            .filter_map(|y| {
                y.municipal
                    .iter()
                    .find(|(c, _, _)| c == code)
                    .map(|(_, _, n)| (y.year, *n))
            })
            .collect();
        municipal_charts.push(draw_line(
            &format!("municipal_{code}"),
            LineChart {
                title: format!("{name} ({code})"),
                y_label: t.pick("personer", "persons").to_string(),
                source: source.clone(),
                series: vec![
                    series_of(published_label.clone(), &published, None),
                    series_of(computed_label.clone(), &computed, Some(options.min_cell)),
                ],
                markers: markers.clone(),
                current_year: last.year,
            },
            String::new(),
        )?);
    }

    // Linkage: new / again / returning per year (stacked as groups), persistent beside.
    let groups = [
        ("new", t.pick("nye", "new")),
        ("again", t.pick("talt igen", "counted again")),
        ("returning", t.pick("vendt tilbage", "returning")),
        (
            "persistent",
            t.pick("vedvarende (3+ tællinger)", "persistent (3+ counts)"),
        ),
    ];
    let linkage_chart = BarChart {
        title: t
            .pick(
                "Nye, talt igen og vendt tilbage, efter tælling",
                "New, counted again and returning, by count",
            )
            .to_string(),
        source: t
            .pick(
                "Kilde: hcount (lageret, samme personnøgle).",
                "Source: hcount (the warehouse, same person key).",
            )
            .to_string(),
        categories: computed_years.iter().map(|y| y.to_string()).collect(),
        groups: groups
            .iter()
            .map(|(code, label)| {
                (
                    label.to_string(),
                    data.iter()
                        // A hidden figure gets no bar (the table beside shows its mark).
                        .map(|y| y.linkage_count(code).unwrap_or(0) as f64)
                        .collect(),
                )
            })
            .collect(),
    };
    charts::render_bars(
        &linkage_chart,
        &charts_dir.join("linkage.svg"),
        &charts_dir.join("linkage.png"),
    )
    .map_err(|e| format!("chart linkage: {e:#}"))?;
    let linkage_ref = chart_ref(
        "linkage",
        &linkage_chart.title,
        t.pick(
            "Nye + talt igen + vendt tilbage = årets talte personer; vedvarende overlapper dem.",
            "New + again + returning = the year's counted persons; persistent overlaps them.",
        )
        .to_string(),
    )?;

    let national_rows: Vec<NationalRow> = all_years
        .iter()
        .rev()
        .map(|y| {
            let p = published.get(y);
            let c = computed.get(y);
            NationalRow {
                year: *y,
                published: p.map(|v| t.num(*v)).unwrap_or_default(),
                computed: c.map(|v| t.num(*v)).unwrap_or_default(),
                difference: match (c, p) {
                    (Some(c), Some(p)) => {
                        format!("{}{}", if c >= p { "+" } else { "-" }, t.num((c - p).abs()))
                    }
                    _ => String::new(),
                },
            }
        })
        .collect();
    let linkage_rows: Vec<LinkageRow> = data
        .iter()
        .enumerate()
        .map(|(i, y)| {
            // Counts with thousands separators; a hidden one ("<5", "x") as it is.
            let g = |k: &str| match y.linkage_count(k) {
                Some(n) => t.num(n),
                None => y.linkage.get(k).cloned().unwrap_or_default(),
            };
            // new + again + returning = the year's counted persons (its national total).
            let counted = y.total().unwrap_or(0);
            LinkageRow {
                year: y.year,
                counted: match y.total() {
                    Some(n) => t.num(n),
                    None => super::disclosure::SECONDARY_MARK.to_string(),
                },
                new: g("new"),
                again: g("again"),
                returning: g("returning"),
                persistent: g("persistent"),
                // The first count has no previous one to be counted again from; a hidden
                // count has no share either.
                again_pct: match y.linkage_count("again") {
                    Some(a) if counted > 0 && i > 0 => {
                        format!("{:.1}", 100.0 * a as f64 / counted as f64)
                    }
                    _ => String::new(),
                },
            }
        })
        .collect();
    // Transitions: a matrix per pair of consecutive counts (rows: the earlier count).
    let order = |code: &str| {
        spec::SITUATIONS
            .iter()
            .position(|c| c.code == code)
            .unwrap_or(usize::MAX)
    };
    let mut transitions = Vec::new();
    for pair in data.windows(2) {
        let (before, now) = (&pair[0], &pair[1]);
        let mut from: Vec<&str> = now.transitions.iter().map(|(f, _, _)| f.as_str()).collect();
        let mut to: Vec<&str> = now.transitions.iter().map(|(_, t, _)| t.as_str()).collect();
        for v in [&mut from, &mut to] {
            v.sort_by_key(|c| order(c));
            v.dedup();
        }
        let rows = from
            .iter()
            .map(|f| CategoryRow {
                label: t.situation(f),
                cells: to
                    .iter()
                    .map(|to_code| {
                        now.transitions
                            .iter()
                            .find(|(a, b, _)| a == f && b == to_code)
                            .map(|(_, _, n)| n.parse().map(|n| t.num(n)).unwrap_or(n.clone()))
                            .unwrap_or_default()
                    })
                    .collect(),
            })
            .collect();
        transitions.push(Transition {
            year: now.year,
            previous: before.year,
            from: to.iter().map(|c| t.situation(c)).collect(),
            rows,
        });
    }
    let lm = &last.linkage_municipal;
    let col = |r: &Vec<String>, name: &str| -> String {
        lm.header
            .iter()
            .position(|h| h == name)
            .map(|i| r[i].clone())
            .unwrap_or_default()
    };
    let municipal_rows: Vec<MunicipalRow> = top
        .iter()
        .filter_map(|(code, _, _)| {
            lm.rows
                .iter()
                .find(|r| col(r, "municipality") == code.to_string())
        })
        .map(|r| {
            // Counts with thousands separators; a suppressed cell ("<5") as it is.
            let n = |name: &str| {
                let v = col(r, name);
                v.parse().map(|n| t.num(n)).unwrap_or(v)
            };
            MunicipalRow {
                code: col(r, "municipality"),
                name: col(r, "municipality_name"),
                persons: n("persons"),
                new: n("new"),
                again: n("again"),
                returning: n("returning"),
                persistent: n("persistent"),
            }
        })
        .collect();

    let section = Section {
        stored_years,
        first_year: computed_years.first().copied(),
        last_year: last.year,
        charts: chart_list,
        municipal_charts,
        linkage_chart: linkage_ref,
        national_rows,
        all_years,
        category_rows,
        linkage_rows,
        protection: protection_note(years, options, &t),
        transitions,
        municipal_rows,
        min_cell: options.min_cell,
    };
    let context = minijinja::context! {
        da => options.lang == Lang::Da,
        w => minijinja::Value::from(minijinja::value::Serde(&section)),
    };
    let mut env = minijinja::Environment::new();
    env.set_auto_escape_callback(|_| minijinja::AutoEscape::Html);
    env.add_template("trends.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    env.add_template("warehouse.html", SECTION_TEMPLATE)
        .map_err(|e| e.to_string())?;
    let html = env
        .get_template("trends.html")
        .and_then(|tpl| tpl.render(&context))
        .map_err(|e| format!("trends.html: {e:#}"))?;
    std::fs::write(out.join("trends.html"), html).map_err(|e| format!("trends.html: {e}"))?;
    Ok(section)
}

/// The audit of every stored year's published tables (the year's run's and the linkage
/// tables protected beside them), as one sentence for the page.
fn protection_note(years: &[(i32, PathBuf)], options: &TrendsOptions, t: &Texts) -> String {
    let mut cells = 0;
    let mut hidden = 0;
    let mut failed = Vec::new();
    for (year, dir) in years {
        let min_cell = crate::publish::disclosure::Recorded::read(dir)
            .min_cell
            .unwrap_or(options.min_cell);
        match crate::publish::disclosure::audit::audit_folder(dir, min_cell) {
            Ok(a) => {
                cells += a.cells;
                hidden += a.primary + a.secondary;
                if !a.passed() {
                    failed.push(year.to_string());
                }
            }
            Err(_) => failed.push(year.to_string()),
        }
    }
    let m = options.min_cell;
    if failed.is_empty() {
        match t.lang {
            Lang::Da => format!(
                "Tallene er de offentliggjorte: 1 til {} personer vises som <{m}, og x skjuler et tal, der ellers kunne regnes ud. Angriberen i hcount audit, der kender alle offentliggjorte tal for hver tælling i lageret, kan ikke indsnævre nogen skjult celle ({} celler, {} skjult).",
                m - 1,
                t.num(cells as i64),
                t.num(hidden as i64)
            ),
            Lang::En => format!(
                "The figures are the published ones: 1 to {} persons are shown as <{m}, and x hides a figure that could otherwise be worked out. The attacker of hcount audit, given every published figure of every count in the warehouse, narrows no hidden cell ({} cells, {} hidden).",
                m - 1,
                t.num(cells as i64),
                t.num(hidden as i64)
            ),
        }
    } else {
        match t.lang {
            Lang::Da => format!(
                "Advarsel: de offentliggjorte tabeller for {} består ikke angrebet i hcount audit; kør hcount audit på lageret for detaljerne.",
                failed.join(", ")
            ),
            Lang::En => format!(
                "Warning: the published tables of {} fail the attack of hcount audit; run hcount audit on the warehouse for the details.",
                failed.join(", ")
            ),
        }
    }
}
