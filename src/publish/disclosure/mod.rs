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
/// identify a row, its count columns (one cell each), and columns derived from the count
/// (hidden with it).
pub struct TableSpec {
    pub name: &'static str,
    pub keys: &'static [&'static str],
    /// `[COUNT]` for every table of a run; the warehouse's `linkage_by_municipality` is
    /// wide (new, again, returning, persistent, persons), and the column's name is then the
    /// last part of a cell's key.
    pub counts: &'static [&'static str],
    pub derived: &'static [&'static str],
}

/// The count columns of a table with one.
const ONE: &[&str] = &[COUNT];

/// The tables a run publishes; the others of [`PUBLISHED`] are the warehouse's, per year.
pub const WAREHOUSE_TABLES: &[&str] = &["linkage_by_municipality", "linkage", "transitions"];

/// The situation a person had in a count of the warehouse they were not counted in.
const NOT_COUNTED: &str = "not_counted";

/// The published tables, in the order cells are numbered (and suppression decisions taken).
pub const PUBLISHED: &[TableSpec] = &[
    TableSpec {
        name: "national_by_category",
        keys: &["situation"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "region_totals",
        keys: &["region"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "municipal_totals",
        keys: &["municipality"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "municipal_by_category",
        keys: &["municipality", "situation"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "by_sex",
        keys: &["sex"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "by_age_group",
        keys: &["age_group"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "region_by_sex",
        keys: &["region", "sex"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "region_by_age_group",
        keys: &["region", "age_group"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "indicators",
        keys: &["indicator"],
        counts: ONE,
        derived: &["percent"],
    },
    TableSpec {
        name: "municipal_indicators",
        keys: &["municipality", "indicator"],
        counts: ONE,
        derived: &[],
    },
    // Last, so adding it left the suppression order of the other tables as it was.
    TableSpec {
        name: "ethos_light",
        keys: &["ethos_light"],
        counts: ONE,
        derived: &[],
    },
    // The warehouse's, per year (`year=YYYY/tables/published/`), protected together with the
    // year's published tables, which stay as the run published them (src/warehouse/).
    TableSpec {
        name: "linkage_by_municipality",
        keys: &["municipality"],
        counts: &["new", "again", "returning", "persistent", "persons"],
        derived: &[],
    },
    TableSpec {
        name: "linkage",
        keys: &["status"],
        counts: ONE,
        derived: &[],
    },
    TableSpec {
        name: "transitions",
        keys: &["from_situation", "to_situation"],
        counts: ONE,
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

/// Whether a count is one the tables must not show: 1 to t − 1 (t = `--min-cell`), which
/// is published as `<t`. Zero is shown.
pub fn is_small(n: u64, threshold: u64) -> bool {
    n > 0 && n < threshold
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
    /// Its count column: an index into the table's [`TableSpec::counts`].
    pub count: usize,
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
    /// Cells published before, which the suppression must leave as they are (the year's
    /// tables when the warehouse protects its linkage tables around them).
    pub fixed: Vec<bool>,
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
    // The warehouse's linkage (queries/warehouse/): per municipality new + again +
    // returning = its persons, which is its municipal total; each status adds up over the
    // municipalities to the national linkage, whose new + again + returning is the total.
    Margin {
        detail: "linkage_by_municipality",
        total: "linkage_by_municipality",
        sum: true,
        map: |k| {
            PARTS_OF_PERSONS
                .contains(&k[1].as_str())
                .then(|| vec![k[0].clone(), COUNT.to_string()])
        },
    },
    Margin {
        detail: "linkage_by_municipality",
        total: "municipal_totals",
        sum: true,
        map: |k| (k[1] == COUNT).then(|| vec![k[0].clone()]),
    },
    Margin {
        detail: "linkage_by_municipality",
        total: "linkage",
        sum: true,
        map: |k| (k[1] != COUNT).then(|| vec![k[1].clone()]),
    },
    Margin {
        detail: "linkage",
        total: "national_by_category",
        sum: true,
        map: |k| PARTS_OF_PERSONS.contains(&k[0].as_str()).then(total_key),
    },
    // A person counted in both of two consecutive counts is counted again
    // (queries/warehouse/tables/transitions.sql and linkage.sql; both need a linkable key).
    Margin {
        detail: "transitions",
        total: "linkage",
        sum: true,
        map: |k| (k[0] != NOT_COUNTED && k[1] != NOT_COUNTED).then(|| vec!["again".to_string()]),
    },
];

/// The linkage statuses that partition a year's counted persons (persistent overlaps them).
const PARTS_OF_PERSONS: &[&str] = &["new", "again", "returning"];

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
    // Persistent (counted in two earlier counts or more) is never new: at most again +
    // returning, per municipality and nationally.
    if let Some(t) = table("linkage_by_municipality") {
        for (i, c) in cells
            .iter()
            .enumerate()
            .filter(|(_, c)| c.table == t && c.key[1] == "persistent")
        {
            let m = c.key[0].as_str();
            if let (Some(a), Some(r)) = (
                at("linkage_by_municipality", &[m, "again"]),
                at("linkage_by_municipality", &[m, "returning"]),
            ) {
                out.push(rel(vec![(i, 1), (a, -1), (r, -1)], Kind::AtMost));
            }
        }
    }
    if let (Some(p), Some(a), Some(r)) = (
        at("linkage", &["persistent"]),
        at("linkage", &["again"]),
        at("linkage", &["returning"]),
    ) {
        out.push(rel(vec![(p, 1), (a, -1), (r, -1)], Kind::AtMost));
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
            let counts = spec
                .counts
                .iter()
                .map(|k| column(k))
                .collect::<Result<Vec<_>, _>>()?;
            for (row, values) in table.rows.iter().enumerate() {
                for (ci, &count) in counts.iter().enumerate() {
                    let mut key: Vec<String> = keys.iter().map(|&k| values[k].clone()).collect();
                    if spec.counts.len() > 1 {
                        key.push(spec.counts[ci].to_string());
                    }
                    let value = parse_value(&values[count]).ok_or_else(|| {
                        format!(
                            "{}: row {}: {}: {:?} is not a count, <N or {SECONDARY_MARK}",
                            spec.name,
                            row + 2,
                            spec.counts[ci],
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
                        count: ci,
                    });
                }
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
        let fixed = vec![false; cells.len()];
        Ok(LinkedSet {
            cells,
            relations,
            relations_of,
            upper_bound,
            grand_total,
            fixed,
        })
    }

    /// Each cell's count: exact for a known cell, 0 for a hidden one (for a set built from
    /// exact tables, every count).
    pub fn known_counts(&self) -> Vec<u64> {
        self.cells
            .iter()
            .map(|c| match c.value {
                Value::Known(n) => n,
                _ => 0,
            })
            .collect()
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
    let counts: Vec<Option<usize>> = PUBLISHED[t]
        .counts
        .iter()
        .map(|c| table.header.iter().position(|h| h == c))
        .collect();
    let derived: Vec<usize> = PUBLISHED[t]
        .derived
        .iter()
        .filter_map(|d| table.header.iter().position(|h| h == d))
        .collect();
    let mut out = table.clone();
    for cell in set.cells.iter().filter(|c| c.table == t) {
        let (Some(count), Some(row)) = (counts[cell.count], out.rows.get_mut(cell.row)) else {
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

/// What a run recorded in its `run.json` about the protection of its published tables
/// (`--min-cell`, `--round`): the one reader of it, for `hcount audit`, the warehouse (which
/// protects its linkage tables as the year's run did) and the trends page.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Recorded {
    pub min_cell: Option<u64>,
    pub round: Option<u64>,
}

impl Recorded {
    /// Reads `dir/run.json`; a folder without a readable one recorded nothing.
    pub fn read(dir: &std::path::Path) -> Recorded {
        let run: Option<serde_json::Value> = std::fs::read_to_string(dir.join("run.json"))
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok());
        let field = |name: &str| run.as_ref().and_then(|r| r[name].as_u64());
        Recorded {
            min_cell: field("min_cell"),
            round: field("round"),
        }
    }

    /// The protection the run applied; `min_cell` when it recorded none.
    pub fn protection(self, min_cell: u64) -> Protection {
        match self.round {
            Some(base) => Protection::Round { base },
            None => Protection::Suppress {
                min_cell: self.min_cell.unwrap_or(min_cell),
            },
        }
    }
}

/// What [`write_published`] did.
#[derive(Debug, Clone, Default)]
pub struct Published {
    pub primary: usize,
    pub secondary: usize,
    /// Primary cells no secondary suppression could protect (labels); the audit fails then.
    pub unprotected: Vec<String>,
    /// What the suppression found, for the run's own audit (in memory only).
    pub witnessed: Option<audit::Witnessed>,
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
            summary.witnessed = Some(audit::Witnessed::new(&set, s.witnesses));
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
pub fn rounded_table(table: &Table, spec: &TableSpec, base: u64) -> Table {
    let mut out = table.clone();
    let counts: Vec<usize> = spec
        .counts
        .iter()
        .filter_map(|c| table.header.iter().position(|h| h == c))
        .collect();
    let derived: Vec<usize> = spec
        .derived
        .iter()
        .filter_map(|d| table.header.iter().position(|h| h == d))
        .collect();
    for row in &mut out.rows {
        for &c in &counts {
            if let Ok(n) = row[c].parse::<u64>() {
                row[c] = round_to(n, base).to_string();
            }
        }
        for &d in &derived {
            row[d] = String::new();
        }
    }
    out
}

/// What [`protect_beside`] made: the published copies of the added tables (in
/// [`PUBLISHED`] order), and the cells no suppression could protect (labels).
#[derive(Debug, Clone, Default)]
pub struct Beside {
    pub tables: Vec<(String, Table)>,
    pub unprotected: Vec<String>,
}

/// Protects the tables `added` (exact, by name: the warehouse's linkage tables of a year)
/// beside tables published before: `published` holds those as they were published, `exact`
/// the same tables exact. They form one linked set in which every published cell stays as
/// it is ([`LinkedSet::fixed`]): the new cells are suppressed so that no cell, old or new,
/// can be narrowed. Returns the published copies of `added` (in [`PUBLISHED`] order) and
/// the cells left unprotected (labels; the audit fails on them). Cells of `added` for which
/// `known(table, key)` holds are shown exact and never hidden: what anyone knows anyway
/// (in the first count of a warehouse nobody is counted again, see `warehouse`).
pub fn protect_beside(
    exact: &HashMap<String, Table>,
    published: &HashMap<String, Table>,
    added: &HashMap<String, Table>,
    protection: Protection,
    known: &dyn Fn(&str, &[String]) -> bool,
) -> Result<Beside, String> {
    let min_cell = match protection {
        Protection::Round { base } => {
            let rounded = PUBLISHED
                .iter()
                .filter_map(|spec| {
                    let t = added.get(spec.name)?;
                    Some((spec.name.to_string(), rounded_table(t, spec, base)))
                })
                .collect();
            return Ok(Beside {
                tables: rounded,
                unprotected: Vec::new(),
            });
        }
        Protection::Suppress { min_cell } => min_cell,
    };
    let mut all: HashMap<String, Table> = added.clone();
    for name in published.keys() {
        if added.contains_key(name) {
            continue;
        }
        let table = exact
            .get(name)
            .ok_or_else(|| format!("{name}: published, but its exact table is missing"))?;
        all.insert(name.clone(), published_rows(name, table));
    }
    let mut set = LinkedSet::build(&all)?;
    let values = set.known_counts();
    let before = LinkedSet::build(published)?;
    let shown: HashMap<(usize, &[String]), Value> = before
        .cells
        .iter()
        .map(|c| ((c.table, c.key.as_slice()), c.value))
        .collect();
    for i in 0..set.cells.len() {
        let cell = &set.cells[i];
        if added.contains_key(PUBLISHED[cell.table].name) {
            if known(PUBLISHED[cell.table].name, &cell.key) {
                set.fixed[i] = true;
            }
            continue;
        }
        let value = *shown
            .get(&(cell.table, cell.key.as_slice()))
            .ok_or_else(|| format!("{}: not in the published table", cell.label()))?;
        if let (Value::Known(p), Value::Known(e)) = (value, cell.value)
            && p != e
        {
            return Err(format!(
                "{}: published as {p}, but the exact table says {e}",
                cell.label()
            ));
        }
        set.cells[i].value = value;
        set.fixed[i] = true;
    }
    // A new cell equal by definition to a published one (a municipality's persons in the
    // linkage table is its municipal total) is shown as that one is: an exact count beside
    // the same count hidden would give it away, and a hidden one beside it shown says nothing.
    for r in 0..set.relations.len() {
        let rel = &set.relations[r];
        if let (Kind::Equal, [(a, 1), (b, -1)] | [(a, -1), (b, 1)]) =
            (rel.kind, rel.terms.as_slice())
        {
            let (a, b) = (*a, *b);
            for (new, old) in [(a, b), (b, a)] {
                if set.fixed[old] && !set.fixed[new] {
                    set.cells[new].value = set.cells[old].value;
                    set.fixed[new] = true;
                }
            }
        }
    }
    // A new cell a published 0 pins to 0 (a detail of a total of 0, or a cell at most a 0:
    // the linkage of a municipality without anyone counted) is shown as 0: hiding it would
    // cost readers a figure and protect nothing, the attacker reads it off the 0.
    loop {
        let mut changed = false;
        for (c, &value) in values.iter().enumerate() {
            if set.fixed[c] || value != 0 {
                continue;
            }
            let pinned = set.relations_of[c].iter().any(|&r| {
                let terms = &set.relations[r].terms;
                terms.iter().any(|&(d, k)| d == c && k > 0)
                    && terms.iter().any(|&(_, k)| k < 0)
                    && terms
                        .iter()
                        .filter(|&&(_, k)| k < 0)
                        .all(|&(d, _)| set.fixed[d] && set.cells[d].value == Value::Known(0))
            });
            if pinned {
                set.fixed[c] = true;
                changed = true;
            }
        }
        if !changed {
            break;
        }
    }
    let s = suppress::suppress_around(&set, &values, min_cell);
    audit::trace::report("suppression beside the published tables");
    let mut marks = s.marks;
    // An `x` the attacker pins to one count of 0 or t and more says nothing he cannot
    // compute (the national new of a warehouse's first count is its total): shown as that
    // count. Pinned, it leaves every other range as it was, so one pass settles all.
    let hidden = set.with_marks(&marks);
    for (c, mark) in marks.iter_mut().enumerate() {
        if *mark != Some(Value::Secondary) {
            continue;
        }
        if let Ok((low, high)) = audit::range(&hidden, c, min_cell)
            && low == high
            && (low == 0 || low >= min_cell)
            && low == values[c]
        {
            *mark = None;
        }
    }
    let marked = set.with_marks(&marks);
    let unprotected = s
        .unprotected
        .iter()
        .map(|&c| set.cells[c].label())
        .collect();
    let out = PUBLISHED
        .iter()
        .filter_map(|spec| {
            let t = added.get(spec.name)?;
            Some((
                spec.name.to_string(),
                published_table(&marked, t, spec.name),
            ))
        })
        .collect();
    Ok(Beside {
        tables: out,
        unprotected,
    })
}
