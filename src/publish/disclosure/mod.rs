//! Statistical disclosure control of the published tables (issue #13).
//!
//! Every published table of a run is one *linked set*: the cells of all tables, and the
//! relations between them that anyone can write down (a municipality's categories add up to
//! its total, the municipalities of a region to the region's total, each Housing First
//! indicator of a municipality is at most its total, …). [`suppress`] hides cells so that
//! no small count can be recovered from the rest; [`audit`] plays the attacker: by linear
//! programming it computes the range each hidden cell can take given every published
//! figure, and checks the protection rule. The audit reads only what was published (the
//! CSVs under `tables/published/`), so it attacks what was really written.

pub mod audit;
pub mod suppress;

use std::collections::HashMap;

use crate::count::ethos;
use crate::count::tables::Table;

/// The mark of a cell hidden to protect another one (secondary suppression). It says
/// nothing about the count: it may be 0 (a published zero can be hidden too) or large.
pub const SECONDARY_MARK: &str = "x";

/// A published table: its name (file `tables/published/<name>.csv`), the columns that
/// identify a cell, the count column, and columns derived from the count (hidden with it).
pub struct TableSpec {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    pub derived: &'static [&'static str],
}

/// The published tables, in the order cells are numbered (and suppression decisions taken).
pub const PUBLISHED: &[TableSpec] = &[
    TableSpec {
        name: "national_by_category",
        keys: &["situation"],
        derived: &[],
    },
    TableSpec {
        name: "region_totals",
        keys: &["region"],
        derived: &[],
    },
    TableSpec {
        name: "municipal_totals",
        keys: &["municipality"],
        derived: &[],
    },
    TableSpec {
        name: "municipal_by_category",
        keys: &["municipality", "situation"],
        derived: &[],
    },
    TableSpec {
        name: "by_sex",
        keys: &["sex"],
        derived: &[],
    },
    TableSpec {
        name: "by_age_group",
        keys: &["age_group"],
        derived: &[],
    },
    TableSpec {
        name: "region_by_sex",
        keys: &["region", "sex"],
        derived: &[],
    },
    TableSpec {
        name: "region_by_age_group",
        keys: &["region", "age_group"],
        derived: &[],
    },
    TableSpec {
        name: "indicators",
        keys: &["indicator"],
        derived: &["percent"],
    },
    TableSpec {
        name: "municipal_indicators",
        keys: &["municipality", "indicator"],
        derived: &[],
    },
    // Last, so adding it left the suppression order of the other tables as it was.
    TableSpec {
        name: "ethos_light",
        keys: &["ethos_light"],
        derived: &[],
    },
];

/// The indicators `tables/published/municipal_indicators.csv` holds: the Housing First ones
/// (support, waiting for a home, for how long), as the report's Housing First table. The
/// other indicators are published nationally only (`indicators`): per municipality most of
/// them are counts under 5, and protecting forty such cells per municipality hid nearly
/// every published figure of a small count, the national ones included (docs/DECISIONS.md).
pub const MUNICIPAL_INDICATORS: &[&str] = &[
    "support_act",
    "support_icm",
    "support_cti",
    "support_social_caretaker",
    "support_none",
    "housing_queue",
    "action_plan",
    "homeless_3m_plus",
];

/// The rows of the exact `table` named `name` that are published (all but the
/// municipal indicators outside [`MUNICIPAL_INDICATORS`]).
pub fn published_rows(name: &str, table: &Table) -> Table {
    if name != "municipal_indicators" {
        return table.clone();
    }
    let Some(col) = table.header.iter().position(|h| h == "indicator") else {
        return table.clone();
    };
    Table {
        header: table.header.clone(),
        rows: table
            .rows
            .iter()
            .filter(|r| MUNICIPAL_INDICATORS.contains(&r[col].as_str()))
            .cloned()
            .collect(),
    }
}

/// What anyone knows bounds every count (the LP needs finite bounds, wave2-notes §5): no
/// count of persons or children can exceed the population of Denmark (under 6 million). The
/// same for the suppression and the audit, and independent of the data, so a hidden cell
/// is never bounded by anything the tables do not say.
pub const COUNT_BOUND: f64 = 10_000_000.0;

/// The count column of every published table.
pub const COUNT: &str = "persons";

/// The one indicator that counts children, not persons: not bounded by the persons total.
const CHILDREN: &str = "children_with_adults";

/// What a published cell says about its count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// The exact count.
    Known(u64),
    /// `<t`: between 1 and t − 1.
    Below(u64),
    /// [`SECONDARY_MARK`]: hidden, any count from 0 to [`COUNT_BOUND`].
    Secondary,
}

#[derive(Debug, Clone)]
pub struct Cell {
    /// Index into [`PUBLISHED`].
    pub table: usize,
    pub key: Vec<String>,
    pub value: Value,
    /// The row of the table the cell is in.
    pub row: usize,
}

impl Cell {
    pub fn label(&self) -> String {
        format!("{}[{}]", PUBLISHED[self.table].name, self.key.join(", "))
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Σ coefficient × cell = 0.
    Equal,
    /// Σ coefficient × cell ≤ 0.
    AtMost,
}

#[derive(Debug, Clone)]
pub struct Relation {
    pub terms: Vec<(usize, i64)>,
    pub kind: Kind,
}

/// All published cells and the relations between them.
#[derive(Debug, Clone)]
pub struct LinkedSet {
    pub cells: Vec<Cell>,
    pub relations: Vec<Relation>,
    /// For each cell, the relations it is in.
    pub relations_of: Vec<Vec<usize>>,
    /// A bound no count of the set can exceed (the LP needs finite bounds): [`COUNT_BOUND`].
    pub upper_bound: f64,
    /// The cell holding the national total (never hidden if it can be helped).
    pub grand_total: Option<usize>,
}

/// How a detail table adds up to (or is bounded by) a total table.
struct Margin {
    detail: &'static str,
    total: &'static str,
    /// Sum: the details mapping to a total add up to it. Bound: each detail is at most its total.
    sum: bool,
    /// The key of the total cell a detail cell belongs to (None: it belongs to none).
    map: fn(&[String]) -> Option<Vec<String>>,
}

fn region_of(code: &str) -> Option<String> {
    let code: u16 = code.parse().ok()?;
    crate::intake::spec::municipalities()
        .iter()
        .find(|m| m.code == code)
        .map(|m| m.region.to_string())
}

fn total_key() -> Vec<String> {
    vec!["total".to_string()]
}

const MARGINS: &[Margin] = &[
    Margin {
        detail: "national_by_category",
        total: "national_by_category",
        sum: true,
        map: |k| (k[0] != "total").then(total_key),
    },
    Margin {
        detail: "region_totals",
        total: "national_by_category",
        sum: true,
        map: |_| Some(total_key()),
    },
    Margin {
        detail: "municipal_totals",
        total: "region_totals",
        sum: true,
        map: |k| region_of(&k[0]).map(|r| vec![r]),
    },
    Margin {
        detail: "municipal_by_category",
        total: "municipal_totals",
        sum: true,
        map: |k| Some(vec![k[0].clone()]),
    },
    Margin {
        detail: "municipal_by_category",
        total: "national_by_category",
        sum: true,
        map: |k| Some(vec![k[1].clone()]),
    },
    Margin {
        detail: "by_sex",
        total: "national_by_category",
        sum: true,
        map: |_| Some(total_key()),
    },
    Margin {
        detail: "by_age_group",
        total: "national_by_category",
        sum: true,
        map: |_| Some(total_key()),
    },
    Margin {
        detail: "region_by_sex",
        total: "region_totals",
        sum: true,
        map: |k| Some(vec![k[0].clone()]),
    },
    Margin {
        detail: "region_by_sex",
        total: "by_sex",
        sum: true,
        map: |k| Some(vec![k[1].clone()]),
    },
    Margin {
        detail: "region_by_age_group",
        total: "region_totals",
        sum: true,
        map: |k| Some(vec![k[0].clone()]),
    },
    Margin {
        detail: "region_by_age_group",
        total: "by_age_group",
        sum: true,
        map: |k| Some(vec![k[1].clone()]),
    },
    Margin {
        detail: "municipal_indicators",
        total: "indicators",
        sum: true,
        map: |k| Some(vec![k[1].clone()]),
    },
    Margin {
        detail: "municipal_indicators",
        total: "municipal_totals",
        sum: false,
        map: |k| (k[1] != CHILDREN).then(|| vec![k[0].clone()]),
    },
    Margin {
        detail: "indicators",
        total: "national_by_category",
        sum: false,
        map: |k| (k[0] != CHILDREN).then(total_key),
    },
    // ETHOS Light (crate::count::ethos): each category is the sum of its SFI categories,
    // 1-6 add up to ethos_light_total, which with outside and unknown is the total.
    Margin {
        detail: "national_by_category",
        total: "ethos_light",
        sum: true,
        map: |k| ethos::of_situation(&k[0]).map(|e| vec![e.to_string()]),
    },
    Margin {
        detail: "ethos_light",
        total: "ethos_light",
        sum: true,
        map: |k| {
            let code = k[0].as_str();
            if ethos::categories().iter().any(|c| c.code == code) {
                Some(vec![ethos::ETHOS_TOTAL.to_string()])
            } else if code == ethos::ETHOS_TOTAL || code == ethos::OUTSIDE || code == ethos::UNKNOWN
            {
                Some(total_key())
            } else {
                None
            }
        },
    },
    Margin {
        detail: "ethos_light",
        total: "national_by_category",
        sum: true,
        map: |k| (k[0] == "total").then(total_key),
    },
];

/// The substance kinds of `substance_any` (a person abusing a substance names at least one).
const SUBSTANCES: &[&str] = &[
    "substance_alcohol",
    "substance_cannabis",
    "substance_hard_drugs",
    "substance_medication",
    "substance_other",
];

/// The support codes `support_none` excludes (a person has a list of supports, or none).
const SUPPORTS: &[&str] = &[
    "support_act",
    "support_icm",
    "support_cti",
    "support_social_caretaker",
];

/// The causes `cause_unknown` excludes (a person has a list of causes, or unknown).
const CAUSES: &[&str] = &[
    "cause_mental_illness",
    "cause_drugs",
    "cause_alcohol",
    "cause_economy",
    "cause_no_suitable_housing",
    "cause_eviction",
    "cause_family_friends_end",
    "cause_relationship_breakdown",
    "cause_released_institution",
    "cause_other",
];

/// Single-answer measures: every counted person is in exactly one of each group.
const PARTITIONS: &[&[&str]] = &[
    &[
        "background_danish",
        "background_immigrant",
        "background_descendant",
        "background_unknown",
    ],
    &[
        "citizenship_danish",
        "citizenship_eu_eea",
        "citizenship_other",
        "citizenship_unknown",
    ],
];

/// The relations that follow from the definitions of the indicators
/// (`queries/41_municipal_indicator_counts.sql`), beyond "each at most the total" of
/// [`MARGINS`]: anyone who reads the definitions can write them down, so the attacker gets
/// them. Per municipality (municipal_indicators with municipal_totals) and nationally
/// (indicators with the national total):
/// - each single-answer group (background, citizenship) adds up to the total;
/// - a substance kind ≤ substance_any ≤ the sum of the kinds; young_18_24 ≤ youth_18_29;
///   mental_illness_treated ≤ mental_illness; substance_treated ≤ substance_any;
///   with_children ≤ children_with_adults (each has at least one child);
/// - support_none + any other support ≤ the total, cause_unknown + any cause ≤ the total
///   (they exclude each other).
///
/// Across tables: women = by_sex female, young_18_24 = age 18-24, youth_18_29 = ages 18-24
/// and 25-29, nationally (indicators with by_sex and by_age_group) and per region (the sum
/// of the region's municipalities with region_by_sex and region_by_age_group).
fn definitions(cells: &[Cell], index: &HashMap<(usize, Vec<String>), usize>) -> Vec<Relation> {
    let table = |name: &str| PUBLISHED.iter().position(|s| s.name == name);
    let at = |name: &str, key: &[&str]| -> Option<usize> {
        let t = table(name)?;
        index
            .get(&(t, key.iter().map(|k| k.to_string()).collect()))
            .copied()
    };
    let mut out = Vec::new();
    let rel = |terms: Vec<(usize, i64)>, kind: Kind| Relation { terms, kind };
    // One group per municipality of municipal_indicators (in cell order), then the nation.
    let mut munis: Vec<String> = Vec::new();
    if let Some(t) = table("municipal_indicators") {
        for c in cells.iter().filter(|c| c.table == t) {
            if !munis.contains(&c.key[0]) {
                munis.push(c.key[0].clone());
            }
        }
    }
    type Lookup<'a> = Box<dyn Fn(&str) -> Option<usize> + 'a>;
    let mut groups: Vec<(Lookup<'_>, Option<usize>)> = munis
        .iter()
        .map(|m| {
            let m = m.clone();
            let total = at("municipal_totals", &[m.as_str()]);
            let f: Lookup<'_> =
                Box::new(move |i: &str| at("municipal_indicators", &[m.as_str(), i]));
            (f, total)
        })
        .collect();
    groups.push((
        Box::new(|i: &str| at("indicators", &[i])),
        at("national_by_category", &["total"]),
    ));
    for (ind, total) in &groups {
        let at_most = |a: usize, b: usize| rel(vec![(a, 1), (b, -1)], Kind::AtMost);
        if let Some(total) = *total {
            for group in PARTITIONS {
                let parts: Option<Vec<usize>> = group.iter().map(|i| ind(i)).collect();
                if let Some(parts) = parts {
                    let mut terms: Vec<(usize, i64)> = parts.into_iter().map(|c| (c, 1)).collect();
                    terms.push((total, -1));
                    out.push(rel(terms, Kind::Equal));
                }
            }
            for (none, others) in [("support_none", SUPPORTS), ("cause_unknown", CAUSES)] {
                let Some(none) = ind(none) else { continue };
                for other in others.iter().filter_map(|o| ind(o)) {
                    out.push(rel(vec![(none, 1), (other, 1), (total, -1)], Kind::AtMost));
                }
            }
        }
        if let Some(any) = ind("substance_any") {
            let kinds: Vec<usize> = SUBSTANCES.iter().filter_map(|k| ind(k)).collect();
            for &k in &kinds {
                out.push(at_most(k, any));
            }
            if kinds.len() == SUBSTANCES.len() {
                let mut terms = vec![(any, 1)];
                terms.extend(kinds.iter().map(|&k| (k, -1)));
                out.push(rel(terms, Kind::AtMost));
            }
        }
        for (small, large) in [
            ("young_18_24", "youth_18_29"),
            ("mental_illness_treated", "mental_illness"),
            ("substance_treated", "substance_any"),
            ("with_children", "children_with_adults"),
        ] {
            if let (Some(a), Some(b)) = (ind(small), ind(large)) {
                out.push(at_most(a, b));
            }
        }
    }
    // Indicators that are cells of the sex and age tables.
    let same = |lhs: Vec<usize>, rhs: Vec<Option<usize>>| -> Option<Relation> {
        let rhs: Vec<usize> = rhs.into_iter().collect::<Option<_>>()?;
        let mut terms: Vec<(usize, i64)> = lhs.into_iter().map(|c| (c, 1)).collect();
        terms.extend(rhs.into_iter().map(|c| (c, -1)));
        Some(rel(terms, Kind::Equal))
    };
    let by = |sex_or_age: &str, region: Option<&str>| match region {
        None if sex_or_age == "female" => at("by_sex", &["female"]),
        None => at("by_age_group", &[sex_or_age]),
        Some(r) if sex_or_age == "female" => at("region_by_sex", &[r, "female"]),
        Some(r) => at("region_by_age_group", &[r, sex_or_age]),
    };
    let identities: [(&str, &[&str]); 3] = [
        ("women", &["female"]),
        ("young_18_24", &["18-24"]),
        ("youth_18_29", &["18-24", "25-29"]),
    ];
    for (indicator, cols) in identities {
        if let Some(c) = at("indicators", &[indicator]) {
            out.extend(same(vec![c], cols.iter().map(|g| by(g, None)).collect()));
        }
        // Per region: the region's municipalities (a municipality without counted persons
        // has no rows, and 0 there).
        let Some(mi) = table("municipal_indicators") else {
            continue;
        };
        // Only when the indicator is published per municipality (the published table holds
        // the Housing First ones): else the sum would be empty and say the region has 0.
        if !cells.iter().any(|c| c.table == mi && c.key[1] == indicator) {
            continue;
        }
        for r in crate::intake::spec::regions() {
            let lhs: Vec<usize> = munis
                .iter()
                .filter(|m| region_of(m).as_deref() == Some(r))
                .filter_map(|m| at("municipal_indicators", &[m.as_str(), indicator]))
                .collect();
            out.extend(same(lhs, cols.iter().map(|g| by(g, Some(r))).collect()));
        }
    }
    out
}

/// Reads a published count: digits, `<t`, or [`SECONDARY_MARK`].
pub fn parse_value(text: &str) -> Option<Value> {
    let text = text.trim();
    if text == SECONDARY_MARK {
        return Some(Value::Secondary);
    }
    if let Some(t) = text.strip_prefix('<') {
        return t.parse().ok().map(Value::Below);
    }
    text.parse().ok().map(Value::Known)
}

impl LinkedSet {
    /// The linked set of `tables` (by name; tables of [`PUBLISHED`] that are missing are
    /// left out, with their relations).
    pub fn build(tables: &HashMap<String, Table>) -> Result<LinkedSet, String> {
        let mut cells = Vec::new();
        let mut index: HashMap<(usize, Vec<String>), usize> = HashMap::new();
        for (t, spec) in PUBLISHED.iter().enumerate() {
            let Some(table) = tables.get(spec.name) else {
                continue;
            };
            // A table without rows (a count of nobody) has no cells, and may have no header.
            if table.rows.is_empty() {
                continue;
            }
            let column = |name: &str| {
                table
                    .header
                    .iter()
                    .position(|h| h == name)
                    .ok_or_else(|| format!("{}: no column {name:?}", spec.name))
            };
            let keys = spec
                .keys
                .iter()
                .map(|k| column(k))
                .collect::<Result<Vec<_>, _>>()?;
            let count = column(COUNT)?;
            for (row, values) in table.rows.iter().enumerate() {
                let key: Vec<String> = keys.iter().map(|&k| values[k].clone()).collect();
                let value = parse_value(&values[count]).ok_or_else(|| {
                    format!(
                        "{}: row {}: {:?} is not a count, <N or {SECONDARY_MARK}",
                        spec.name,
                        row + 2,
                        values[count]
                    )
                })?;
                if index.insert((t, key.clone()), cells.len()).is_some() {
                    return Err(format!("{}: the row {key:?} appears twice", spec.name));
                }
                cells.push(Cell {
                    table: t,
                    key,
                    value,
                    row,
                });
            }
        }
        let table_index = |name: &str| PUBLISHED.iter().position(|s| s.name == name);
        let mut relations = Vec::new();
        for margin in MARGINS {
            let (Some(d), Some(t)) = (table_index(margin.detail), table_index(margin.total)) else {
                continue;
            };
            // Groups in cell order, so relations are numbered the same on every run.
            let mut groups: Vec<(usize, Vec<usize>)> = Vec::new();
            let mut group_of: HashMap<usize, usize> = HashMap::new();
            for (i, cell) in cells.iter().enumerate() {
                if cell.table != d {
                    continue;
                }
                let Some(total_key) = (margin.map)(&cell.key) else {
                    continue;
                };
                let Some(&total) = index.get(&(t, total_key)) else {
                    continue;
                };
                if margin.sum {
                    let g = *group_of.entry(total).or_insert_with(|| {
                        groups.push((total, Vec::new()));
                        groups.len() - 1
                    });
                    groups[g].1.push(i);
                } else {
                    relations.push(Relation {
                        terms: vec![(i, 1), (total, -1)],
                        kind: Kind::AtMost,
                    });
                }
            }
            for (total, details) in groups {
                let mut terms: Vec<(usize, i64)> = details.into_iter().map(|i| (i, 1)).collect();
                terms.push((total, -1));
                relations.push(Relation {
                    terms,
                    kind: Kind::Equal,
                });
            }
        }
        relations.extend(definitions(&cells, &index));
        let mut relations_of = vec![Vec::new(); cells.len()];
        for (r, rel) in relations.iter().enumerate() {
            for &(c, _) in &rel.terms {
                relations_of[c].push(r);
            }
        }
        let upper_bound = COUNT_BOUND;
        let grand_total =
            table_index("national_by_category").and_then(|t| index.get(&(t, total_key())).copied());
        Ok(LinkedSet {
            cells,
            relations,
            relations_of,
            upper_bound,
            grand_total,
        })
    }

    /// The set with `marks` applied (None: the cell stays as it is).
    pub fn with_marks(&self, marks: &[Option<Value>]) -> LinkedSet {
        let mut out = self.clone();
        for (cell, mark) in out.cells.iter_mut().zip(marks) {
            if let Some(m) = mark {
                cell.value = *m;
            }
        }
        out
    }
}

/// The published copy of `table` (one of [`PUBLISHED`]): the cells of `set` that are hidden
/// get their mark, and the columns derived from them are emptied.
pub fn published_table(set: &LinkedSet, table: &Table, name: &str) -> Table {
    let Some(t) = PUBLISHED.iter().position(|s| s.name == name) else {
        return table.clone();
    };
    let count = table.header.iter().position(|h| h == COUNT);
    let derived: Vec<usize> = PUBLISHED[t]
        .derived
        .iter()
        .filter_map(|d| table.header.iter().position(|h| h == d))
        .collect();
    let mut out = table.clone();
    for cell in set.cells.iter().filter(|c| c.table == t) {
        let (Some(count), Some(row)) = (count, out.rows.get_mut(cell.row)) else {
            continue;
        };
        match cell.value {
            Value::Known(_) => {}
            Value::Below(th) => {
                row[count] = format!("<{th}");
                for &d in &derived {
                    row[d] = String::new();
                }
            }
            Value::Secondary => {
                row[count] = SECONDARY_MARK.to_string();
                for &d in &derived {
                    row[d] = String::new();
                }
            }
        }
    }
    out
}

/// How published counts are protected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protection {
    /// Counts from 1 to t − 1 hidden as `<t`, and the secondary cells that protect them.
    Suppress { min_cell: u64 },
    /// Every count of every published table rounded to the nearest multiple of N (halves
    /// up); nothing hidden, no exact figure beside a rounded one.
    Round { base: u64 },
}

/// What [`write_published`] did.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub primary: usize,
    pub secondary: usize,
    /// Primary cells no secondary suppression could protect (labels); the audit fails then.
    pub unprotected: Vec<String>,
}

/// Rounds `n` to the nearest multiple of `base`, halves up.
pub fn round_to(n: u64, base: u64) -> u64 {
    (n + base / 2) / base * base
}

/// Writes `tables/published/<name>.csv` for every table of [`PUBLISHED`] found in `exact`
/// (the exact tables of the run), protected as `protection` says.
pub fn write_published(
    dir: &std::path::Path,
    exact: &HashMap<String, Table>,
    protection: Protection,
) -> Result<Published, String> {
    let exact: HashMap<String, Table> = exact
        .iter()
        .map(|(name, t)| (name.clone(), published_rows(name, t)))
        .collect();
    let exact = &exact;
    let set = LinkedSet::build(exact)?;
    let mut summary = Published::default();
    let marked = match protection {
        Protection::Suppress { min_cell } => {
            let s = suppress::suppress(&set, min_cell);
            audit::trace::report("suppression");
            summary.unprotected = s
                .unprotected
                .iter()
                .map(|&c| set.cells[c].label())
                .collect();
            for m in s.marks.iter().flatten() {
                match m {
                    Value::Below(_) => summary.primary += 1,
                    _ => summary.secondary += 1,
                }
            }
            Some(set.with_marks(&s.marks))
        }
        Protection::Round { .. } => None,
    };
    std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    for spec in PUBLISHED {
        let Some(table) = exact.get(spec.name) else {
            continue;
        };
        let out = match (&marked, protection) {
            (Some(marked), _) => published_table(marked, table, spec.name),
            (None, Protection::Round { base }) => rounded_table(table, spec, base),
            (None, _) => table.clone(),
        };
        let path = dir.join(format!("{}.csv", spec.name));
        out.write_csv(&path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
    }
    Ok(summary)
}

/// `table` with every count rounded to a multiple of `base`; derived columns (percents) are
/// recomputed from nothing exact, so they are left out of the rounded copy (emptied).
fn rounded_table(table: &Table, spec: &TableSpec, base: u64) -> Table {
    let mut out = table.clone();
    let count = table.header.iter().position(|h| h == COUNT);
    let derived: Vec<usize> = spec
        .derived
        .iter()
        .filter_map(|d| table.header.iter().position(|h| h == d))
        .collect();
    for row in &mut out.rows {
        if let Some(c) = count
            && let Ok(n) = row[c].parse::<u64>()
        {
            row[c] = round_to(n, base).to_string();
        }
        for &d in &derived {
            row[d] = String::new();
        }
    }
    out
}
