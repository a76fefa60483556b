//! `hcount synth --panel`: a synthetic Denmark counted count after count.
//!
//! One population of persons is counted in each year of the panel. The counted persons of a
//! year follow the published figures in `data/history/` (the copy compiled in), scaled so that
//! the first year has `--persons` counted persons (`--persons 5789 --panel-years 2022,…` is the
//! published 2022 count at full scale):
//!
//! - **national total**: the published total of the year; a year not published is
//!   interpolated between published counts, or carried on from the last two (2026: 5,989 +
//!   (5,989 − 5,789) = 6,189);
//! - **by situation**: the year's published category figures where there are any; the other
//!   categories share the rest by their latest published share (2015, the one nearly complete
//!   year), or by a guess for the categories never published ([`GUESSED_SHARES`]); a year
//!   without category figures keeps the shares of the latest year that has some, so the lines
//!   run on;
//! - **by home municipality**: a municipality with published figures keeps its share of the
//!   national total from its nearest published year (København 1,370 of 5,789 in 2022); the
//!   others share the rest by population ([`POPULATION`]), the capital area at a higher rate
//!   ([`rate`]).
//!
//! These are exact targets for the persons the generator means to be counted; what `hcount
//! run` counts differs a little, as a real count does, because the messy style spoils rows,
//! hides CPR numbers and splits persons it cannot link (see fixtures/README.md for the panel's
//! figures).
//!
//! Between counts, a counted person is counted again in the next count with a probability that
//! depends on their situation ([`again`]: 20–45 %), and one seen earlier but not in the last
//! count comes back with [`RETURN`]; the rest of each count are new persons. A person counted
//! again keeps their situation with [`KEEP_SITUATION`] and their home municipality with
//! [`KEEP_HOME`] (as far as the year's targets allow; otherwise they take an open place).
//! Birth dates, sex, CPR numbers, initials and the version 2 answers are fixed per person, so
//! ages grow from count to count and the warehouse links the same person across counts.
//! Migrants without permanent residence, persons under 18 and persons reported only as not
//! homeless come on top of the counted persons (they are not counted), new in every count.
//!
//! The reporting units (about 1,400 for 5,800 counted persons, as in the real count) are the
//! same in every count: each municipality has some, one of them the municipality itself, and a
//! person is reported by the units of the municipality where they stay.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::NaiveDate;

use super::{INITIAL_LETTERS, Person, Report, Rng, Style, SynthOptions, SynthSummary, Units};
use crate::intake::spec;
use crate::publish::history::History;

/// Population of each municipality in thousands (Statistics Denmark, about 2024, rounded).
/// Only weights: where hcount has no published figure for a municipality, its share of the
/// homeless follows its size.
const POPULATION: [(u16, u32); 98] = [
    (101, 660),
    (147, 105),
    (151, 49),
    (153, 36),
    (155, 14),
    (157, 75),
    (159, 70),
    (161, 24),
    (163, 30),
    (165, 28),
    (167, 54),
    (169, 52),
    (173, 57),
    (175, 41),
    (183, 24),
    (185, 44),
    (187, 17),
    (190, 42),
    (201, 26),
    (210, 41),
    (217, 64),
    (219, 52),
    (223, 25),
    (230, 57),
    (240, 44),
    (250, 46),
    (253, 51),
    (259, 62),
    (260, 32),
    (265, 90),
    (269, 24),
    (270, 42),
    (306, 33),
    (316, 73),
    (320, 38),
    (326, 49),
    (329, 36),
    (330, 80),
    (336, 24),
    (340, 31),
    (350, 29),
    (360, 40),
    (370, 84),
    (376, 60),
    (390, 46),
    (400, 39),
    (410, 40),
    (420, 41),
    (430, 52),
    (440, 24),
    (450, 32),
    (461, 207),
    (479, 59),
    (480, 30),
    (482, 12),
    (492, 6),
    (510, 56),
    (530, 27),
    (540, 74),
    (550, 37),
    (561, 116),
    (563, 4),
    (573, 50),
    (575, 43),
    (580, 59),
    (607, 52),
    (615, 97),
    (621, 95),
    (630, 121),
    (657, 90),
    (661, 59),
    (665, 19),
    (671, 21),
    (706, 44),
    (707, 37),
    (710, 49),
    (727, 24),
    (730, 99),
    (740, 96),
    (741, 4),
    (746, 64),
    (751, 367),
    (756, 42),
    (760, 56),
    (766, 47),
    (773, 20),
    (779, 46),
    (787, 43),
    (791, 98),
    (810, 36),
    (813, 58),
    (820, 37),
    (825, 2),
    (840, 31),
    (846, 42),
    (849, 38),
    (851, 222),
    (860, 64),
];

/// How many times the rest of the country's rate (per inhabitant) a municipality without
/// published figures has. The published 2024 aggregate (2,776 homeless in København,
/// Frederiksberg and Københavns omegn: `regional_aggregates.csv`) leaves about 1,350 for the
/// 660,000 inhabitants outside København, some 3.5 times the rate elsewhere; Frederiksberg,
/// as dense as København, is given that, and the suburbs of omegn 2 (the aggregate then
/// comes out at about 2,600).
fn rate(code: u16) -> f64 {
    match code {
        147 => 3.5,
        151 | 153 | 155 | 157 | 159 | 161 | 163 | 165 | 167 | 169 | 173 | 175 | 183 | 185 | 187 => {
            2.0
        }
        _ => 1.0,
    }
}

/// Shares of the national total (fractions) of the situations no count has published a figure
/// for. Guesses, chosen so that, with the 2015 figures, the categories add up to that year's
/// total (825 of 6,138 persons were in none of the published categories).
const GUESSED_SHARES: [(&str, f64); 5] = [
    ("hospital_discharge", 0.030),
    ("makeshift", 0.020),
    ("functional", 0.005),
    ("other", 0.030),
    ("unknown", 0.049),
];

/// Age bands of the counted persons (years, per mille): 18–24 and 25–29 as published for
/// 2022 (744 and 842 of 5,789), 50–59 as 2019 (1,131 of 6,431), 60+ as 2022 (451); the
/// split of 30–49 and of 60+ is a guess.
const AGES: [((u32, u32), u32); 7] = [
    ((18, 24), 129),
    ((25, 29), 145),
    ((30, 39), 220),
    ((40, 49), 250),
    ((50, 59), 176),
    ((60, 69), 60),
    ((70, 84), 20),
];

/// Probability that a person counted in one count is counted in the next, by situation.
/// Plausible assumptions, not estimates: street and shelter homelessness lasts longer than
/// staying with family or friends.
fn again(situation: &str) -> f64 {
    match situation {
        "rough_sleeping" | "night_shelter" => 0.45,
        "shelter" => 0.40,
        "makeshift" | "functional" => 0.35,
        "transitional" | "prison_release" | "hospital_discharge" => 0.30,
        "family_friends" => 0.28,
        "hotel" | "other" => 0.25,
        _ => 0.20,
    }
}

/// Probability that a person seen in an earlier count, but not in the last one, comes back.
const RETURN: f64 = 0.10;
/// Probability that a person counted again is in the same situation as last time.
const KEEP_SITUATION: f64 = 0.55;
/// Probability that a person counted again has the same home municipality as last time.
const KEEP_HOME: f64 = 0.85;
/// Reporting units per counted person: about 1,400 units for 5,789 persons (2022).
const UNITS_PER_PERSON: f64 = 1400.0 / 5789.0;

/// The published national total of `year`, or the interpolated / carried-on one.
fn national(h: &History, year: i32) -> f64 {
    let points: Vec<(i32, f64)> = h
        .national_totals
        .iter()
        .map(|f| (f.year, f.persons as f64))
        .collect();
    if let Some(p) = points.iter().find(|p| p.0 == year) {
        return p.1;
    }
    let before: Vec<&(i32, f64)> = points.iter().filter(|p| p.0 < year).collect();
    let after = points.iter().find(|p| p.0 > year);
    let line = |a: &(i32, f64), b: &(i32, f64)| {
        a.1 + (b.1 - a.1) * f64::from(year - a.0) / f64::from(b.0 - a.0)
    };
    match (before.as_slice(), after) {
        ([.., a], Some(b)) => line(a, b),
        ([.., p, a], None) => line(p, a),
        ([a], None) => a.1,
        ([], Some(a)) => a.1,
        ([], None) => 6000.0,
    }
}

/// Splits `total` into whole parts in proportion to `weights` (largest remainders, ties to
/// the first), so the parts add up to `total` exactly.
fn apportion(total: i64, weights: &[f64]) -> Vec<i64> {
    let sum: f64 = weights.iter().sum();
    if weights.is_empty() || sum <= 0.0 {
        let mut v = vec![0; weights.len()];
        if let Some(first) = v.first_mut() {
            *first = total;
        }
        return v;
    }
    let quotas: Vec<f64> = weights.iter().map(|w| total as f64 * w / sum).collect();
    let mut parts: Vec<i64> = quotas.iter().map(|q| q.floor() as i64).collect();
    let mut order: Vec<usize> = (0..weights.len()).collect();
    order.sort_by(|&a, &b| {
        let (ra, rb) = (quotas[a] - quotas[a].floor(), quotas[b] - quotas[b].floor());
        rb.total_cmp(&ra).then(a.cmp(&b))
    });
    let short = total - parts.iter().sum::<i64>();
    for i in order.into_iter().take(short.max(0) as usize) {
        parts[i] += 1;
    }
    parts
}

/// Shares of the national total: `fixed` where known, the rest of 1 split by `weight`.
fn shares(fixed: &[Option<f64>], weight: &[f64]) -> Vec<f64> {
    let taken: f64 = fixed.iter().flatten().sum();
    let rest = (1.0 - taken).max(0.0);
    let free: f64 = weight
        .iter()
        .zip(fixed)
        .filter(|(_, f)| f.is_none())
        .map(|(w, _)| w)
        .sum();
    fixed
        .iter()
        .zip(weight)
        .map(|(f, w)| match f {
            Some(s) => *s,
            None if free > 0.0 => rest * w / free,
            None => 0.0,
        })
        .collect()
}

/// The situations a person can be counted in (precedence order).
fn situations() -> Vec<&'static str> {
    spec::SITUATIONS
        .iter()
        .map(|c| c.code)
        .filter(|c| *c != "not_homeless")
        .collect()
}

/// One year's targets: counted persons in all, by situation, by home municipality.
struct Targets {
    total: i64,
    situations: Vec<(&'static str, i64)>,
    municipalities: Vec<(u16, i64)>,
    migrants: i64,
}

fn targets(h: &History, year: i32, scale: f64) -> Targets {
    let total = (national(h, year) * scale).round() as i64;

    // Situations: the shares of the latest year with published category figures.
    let codes = situations();
    let category_years: std::collections::BTreeSet<i32> =
        h.national_by_category.iter().map(|f| f.year).collect();
    let base = category_years
        .range(..=year)
        .next_back()
        .or(category_years.iter().next())
        .copied()
        .unwrap_or(year);
    let fixed: Vec<Option<f64>> = codes
        .iter()
        .map(|c| {
            h.national_by_category
                .iter()
                .find(|f| f.year == base && f.key == *c)
                .map(|f| f.persons as f64 / national(h, base))
        })
        .collect();
    let weight: Vec<f64> = codes
        .iter()
        .map(|c| {
            let latest = h
                .national_by_category
                .iter()
                .rfind(|f| f.key == *c && f.year <= base)
                .or_else(|| h.national_by_category.iter().find(|f| f.key == *c));
            match latest {
                Some(f) => f.persons as f64 / national(h, f.year),
                None => GUESSED_SHARES
                    .iter()
                    .find(|(g, _)| g == c)
                    .map(|(_, s)| *s)
                    .unwrap_or(0.005),
            }
        })
        .collect();
    let by_situation = apportion(total, &shares(&fixed, &weight));

    // Municipalities: the share of the nearest published year, else by population.
    let fixed: Vec<Option<f64>> = POPULATION
        .iter()
        .map(|(code, _)| {
            let key = code.to_string();
            let figures: Vec<_> = h.municipal_totals.iter().filter(|f| f.key == key).collect();
            figures
                .iter()
                .rev()
                .find(|f| f.year <= year)
                .or(figures.first())
                .map(|f| f.persons as f64 / national(h, f.year))
        })
        .collect();
    let weight: Vec<f64> = POPULATION
        .iter()
        .map(|(code, pop)| f64::from(*pop) * rate(*code))
        .collect();
    let by_municipality = apportion(total, &shares(&fixed, &weight));

    // Migrants without permanent residence (not in the count): the nearest published share.
    let migrants: Vec<_> = h
        .national_indicators
        .iter()
        .filter(|f| f.key == "migrants_no_permanent_residence")
        .collect();
    let migrant_share = migrants
        .iter()
        .rev()
        .find(|f| f.year <= year)
        .or(migrants.first())
        .map(|f| f.persons as f64 / national(h, f.year))
        .unwrap_or(0.05);
    Targets {
        total,
        situations: codes.into_iter().zip(by_situation).collect(),
        municipalities: POPULATION
            .iter()
            .map(|(c, _)| *c)
            .zip(by_municipality)
            .collect(),
        migrants: (total as f64 * migrant_share).round() as i64,
    }
}

/// A reporting unit: the same in every count.
struct Unit {
    id: String,
    kind: &'static str,
    municipality: u16,
}

/// The kinds of units besides the municipality itself, by how many there are.
const UNIT_KINDS: [(&str, u32); 10] = [
    ("shelter", 14),
    ("night_shelter", 5),
    ("drop_in", 12),
    ("outreach", 10),
    ("hospital", 8),
    ("psychiatry", 8),
    ("treatment", 14),
    ("prison_probation", 5),
    ("housing", 10),
    ("other", 8),
];

/// A municipality's name as ASCII for a unit id (`Høje-Taastrup` → `hoeje-taastrup`).
/// Names, not codes: digits in ids and file names next to the file number would look like a
/// CPR number to the masking, which masks them everywhere.
fn slug(code: u16) -> String {
    let name = spec::municipalities()
        .iter()
        .find(|m| m.code == code)
        .map(|m| m.name)
        .unwrap_or("x");
    name.to_lowercase()
        .chars()
        .map(|c| match c {
            'æ' => "ae".to_string(),
            'ø' => "oe".to_string(),
            'å' => "aa".to_string(),
            c if c.is_ascii_alphanumeric() => c.to_string(),
            _ => "-".to_string(),
        })
        .collect()
}

/// About `UNITS_PER_PERSON` units per counted person of the first count, at least one (the
/// municipality) in every municipality.
fn units(first: &Targets, rng: &mut Rng) -> Vec<Unit> {
    let mut out = Vec::new();
    for (code, persons) in &first.municipalities {
        let n = ((*persons as f64 * UNITS_PER_PERSON).round() as usize).max(1);
        for j in 0..n {
            let kind = if j == 0 {
                "municipality"
            } else {
                *rng.weighted(&UNIT_KINDS)
            };
            out.push(Unit {
                id: format!("{}-{}-{}", kind.replace('_', "-"), slug(*code), j + 1),
                kind,
                municipality: *code,
            });
        }
    }
    out
}

/// A person of the panel: what stays the same from count to count, and where they were.
#[derive(Clone)]
struct Member {
    person: Person,
    /// The home municipality (what the count counts by).
    home: u16,
    situation: &'static str,
    /// The index of the last count the person was counted in.
    last: Option<usize>,
}

fn new_person(
    id: usize,
    count_date: NaiveDate,
    ages: (u32, u32),
    messy: bool,
    rng: &mut Rng,
) -> Person {
    let age = ages.0 as usize + rng.below((ages.1 - ages.0 + 1) as usize);
    let birth = count_date
        .checked_sub_days(chrono::Days::new((age * 365 + rng.below(365)) as u64))
        .unwrap_or(count_date);
    let initials: String = (0..2 + rng.below(2))
        .map(|_| *rng.pick(INITIAL_LETTERS))
        .collect();
    let id_style = if messy {
        *rng.weighted(&[(0u8, 72), (1, 20), (2, 4), (3, 4)])
    } else if rng.chance(0.8) {
        0
    } else if rng.chance(0.7) {
        1
    } else {
        3
    };
    let male = rng.chance(0.77);
    let ecpr = super::replacement_number(birth, rng);
    Person {
        id,
        birth,
        male,
        serial: (id as u32).wrapping_mul(7919) % 4000,
        initials,
        municipality: 0,
        home: None,
        migrant: false,
        id_style,
        ecpr,
    }
}

fn adult_ages(rng: &mut Rng) -> (u32, u32) {
    *rng.weighted(&AGES)
}

fn shuffle<T>(v: &mut [T], rng: &mut Rng) {
    for i in (1..v.len()).rev() {
        v.swap(i, rng.below(i + 1));
    }
}

/// Gives each of `open` one of the places `left` (code → count) still has, at random.
fn fill<K: Copy + Ord>(left: &BTreeMap<K, i64>, open: usize, rng: &mut Rng) -> Vec<K> {
    let mut places: Vec<K> = left
        .iter()
        .flat_map(|(k, n)| std::iter::repeat_n(*k, (*n).max(0) as usize))
        .collect();
    shuffle(&mut places, rng);
    places.truncate(open);
    places
}

/// A less acute situation than `s` (for a second report of the same person, which then does
/// not change what the person is counted as), or `s` itself.
fn less_acute(s: &'static str, rng: &mut Rng) -> &'static str {
    let rank = |c: &str| spec::SITUATIONS.iter().position(|x| x.code == c);
    let later: Vec<&'static str> = [
        "family_friends",
        "transitional",
        "hospital_discharge",
        "other",
        "unknown",
    ]
    .into_iter()
    .filter(|c| rank(c) > rank(s))
    .collect();
    if later.is_empty() {
        s
    } else {
        later[rng.below(later.len())]
    }
}

pub(super) fn generate(
    opts: &SynthOptions,
    years: &[i32],
    out_dir: &Path,
) -> anyhow::Result<Vec<(i32, SynthSummary)>> {
    anyhow::ensure!(opts.persons > 0, "--persons must be at least 1");
    anyhow::ensure!(opts.files > 0, "--files must be at least 1");
    anyhow::ensure!(!years.is_empty(), "--panel-years needs at least one year");
    anyhow::ensure!(
        years.windows(2).all(|w| w[0] < w[1]),
        "--panel-years must rise: {years:?}"
    );
    let mut dates = Vec::with_capacity(years.len());
    for y in years {
        dates
            .push(spec::count_date(*y).ok_or_else(|| anyhow::anyhow!("{y} is not a usable year"))?);
    }
    let messy = matches!(opts.style, Style::Messy);
    let history = History::shipped();
    let scale = opts.persons as f64 / national(&history, years[0]);
    let plan: Vec<Targets> = years.iter().map(|y| targets(&history, *y, scale)).collect();
    let mut rng = Rng(opts.seed ^ 0x0070_616E_656C);

    let units = units(&plan[0], &mut rng);
    let unit_ids: Vec<String> = units.iter().map(|u| u.id.clone()).collect();
    let unit_kinds: Vec<&str> = units.iter().map(|u| u.kind).collect();
    // Units are in municipality order: consecutive units share a file, as when a
    // municipality sends the forms of its units together.
    let unit_file: Vec<usize> = (0..units.len())
        .map(|u| u * opts.files / units.len())
        .collect();
    let mut local: BTreeMap<u16, Vec<usize>> = BTreeMap::new();
    for (i, u) in units.iter().enumerate() {
        local.entry(u.municipality).or_default().push(i);
    }

    let mut members: Vec<Member> = Vec::new();
    let mut next_id = 0usize;
    let mut out = Vec::with_capacity(years.len());
    for (k, (year, date)) in years.iter().zip(&dates).enumerate() {
        let t = &plan[k];
        // Who comes back.
        let mut back: Vec<usize> = Vec::new();
        for (i, m) in members.iter().enumerate() {
            let p = match m.last {
                Some(j) if j + 1 == k => again(m.situation),
                Some(_) => RETURN,
                None => continue,
            };
            if rng.chance(p) {
                back.push(i);
            }
        }
        back.truncate(t.total.max(0) as usize);
        let first_new = members.len();
        while back.len() + (members.len() - first_new) < t.total.max(0) as usize {
            let ages = adult_ages(&mut rng);
            let person = new_person(next_id, *date, ages, messy, &mut rng);
            next_id += 1;
            members.push(Member {
                person,
                home: 0,
                situation: "unknown",
                last: None,
            });
        }
        let present: Vec<usize> = back
            .iter()
            .copied()
            .chain(first_new..members.len())
            .collect();

        // Situations and home municipalities: exactly the year's targets. Persons counted
        // again keep theirs where a place is left; everyone else takes an open place.
        let mut left: BTreeMap<&'static str, i64> = t.situations.iter().copied().collect();
        let mut open = Vec::new();
        for &i in &present {
            let s = members[i].situation;
            match left.get_mut(s) {
                Some(n) if members[i].last.is_some() && *n > 0 && rng.chance(KEEP_SITUATION) => {
                    *n -= 1
                }
                _ => open.push(i),
            }
        }
        for (i, s) in open.iter().zip(fill(&left, open.len(), &mut rng)) {
            members[*i].situation = s;
        }
        let mut left: BTreeMap<u16, i64> = t.municipalities.iter().copied().collect();
        let mut open = Vec::new();
        for &i in &present {
            let h = members[i].home;
            match left.get_mut(&h) {
                Some(n) if members[i].last.is_some() && *n > 0 && rng.chance(KEEP_HOME) => *n -= 1,
                _ => open.push(i),
            }
        }
        for (i, m) in open.iter().zip(fill(&left, open.len(), &mut rng)) {
            members[*i].home = m;
        }
        for &i in &present {
            members[i].last = Some(k);
        }

        // The year's persons: the counted ones, then those who are not counted.
        struct Entry {
            person: Person,
            situation: &'static str,
            home: u16,
            only_not_homeless: bool,
        }
        let mut entries: Vec<Entry> = present
            .iter()
            .map(|&i| Entry {
                person: members[i].person.clone(),
                situation: members[i].situation,
                home: members[i].home,
                only_not_homeless: false,
            })
            .collect();
        let big = [(101u16, 85u32), (751, 7), (461, 4), (851, 4)];
        let extras = [
            ("migrant", t.migrants),
            ("minor", if messy { t.total / 100 } else { 0 }),
            ("not_homeless", if messy { t.total / 100 } else { 0 }),
        ];
        for (kind, n) in extras {
            for _ in 0..n {
                let ages = if kind == "minor" {
                    (15, 17)
                } else {
                    adult_ages(&mut rng)
                };
                let mut person = new_person(next_id, *date, ages, messy, &mut rng);
                next_id += 1;
                // Never linked: an extra is new in every count.
                let home = match kind {
                    "migrant" => {
                        person.migrant = true;
                        *rng.weighted(&big)
                    }
                    _ => units[rng.below(units.len())].municipality,
                };
                let situation = match kind {
                    "migrant" => *rng.weighted(&[
                        ("rough_sleeping", 35u32),
                        ("night_shelter", 35),
                        ("shelter", 10),
                        ("family_friends", 20),
                    ]),
                    _ => *rng.weighted(&[("family_friends", 3u32), ("shelter", 1)]),
                };
                entries.push(Entry {
                    person,
                    situation,
                    home,
                    only_not_homeless: kind == "not_homeless",
                });
            }
        }

        // Where each stays (mostly at home; else where the services are), and who reports them.
        let mut persons = Vec::with_capacity(entries.len());
        let mut reports = Vec::new();
        for (pi, e) in entries.into_iter().enumerate() {
            let mut p = e.person;
            let stay = if rng.chance(0.75) {
                e.home
            } else {
                units[rng.below(units.len())].municipality
            };
            p.municipality = stay;
            p.home = (stay != e.home || rng.chance(0.5)).then_some(e.home);
            // An unidentified person cannot be told apart in two reports: one report only,
            // so the targets are not inflated by persons no count could deduplicate.
            let n = if p.id_style == 3 {
                1
            } else {
                *rng.weighted(&[(1usize, 58), (2, 27), (3, 10), (4, 5)])
            };
            for j in 0..n {
                let situation = if e.only_not_homeless {
                    "not_homeless"
                } else if j == 0 {
                    e.situation
                } else if messy && rng.chance(0.01) {
                    "not_homeless"
                } else if rng.chance(0.5) {
                    e.situation
                } else {
                    less_acute(e.situation, &mut rng)
                };
                let wanted = super::respondent_type_for(situation, &mut rng);
                let here = &local[&stay];
                let mut u = here[rng.below(here.len())];
                for _ in 0..6 {
                    if units[u].kind == wanted {
                        break;
                    }
                    u = here[rng.below(here.len())];
                }
                reports.push(Report {
                    person: pi,
                    respondent: u,
                    situation,
                });
            }
            persons.push(p);
        }
        let year_opts = SynthOptions {
            year: *year,
            ..opts.clone()
        };
        let summary = super::write_files(
            &persons,
            &reports,
            &Units {
                ids: &unit_ids,
                types: &unit_kinds,
                file: &unit_file,
            },
            &year_opts,
            &out_dir.join(year.to_string()),
            &mut rng,
        )?;
        out.push((*year, summary));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apportion_adds_up_and_follows_the_weights() {
        assert_eq!(apportion(10, &[1.0, 1.0, 1.0]), vec![4, 3, 3]);
        assert_eq!(apportion(7, &[0.0, 2.0, 5.0]), vec![0, 2, 5]);
        assert_eq!(apportion(5, &[]), Vec::<i64>::new());
        let parts = apportion(5789, &[0.3, 0.2, 0.5, 0.0001]);
        assert_eq!(parts.iter().sum::<i64>(), 5789);
    }

    /// At full scale the targets are the published figures: the 2022 total and its two
    /// published categories, København, Aarhus, Odense and Aalborg where published, and the
    /// four lead the municipalities.
    #[test]
    fn full_scale_targets_are_the_published_figures() {
        let h = History::shipped();
        let t = targets(&h, 2022, 1.0);
        assert_eq!(t.total, 5789);
        let s: BTreeMap<_, _> = t.situations.iter().copied().collect();
        assert_eq!((s["rough_sleeping"], s["shelter"]), (535, 2984));
        assert_eq!(s.values().sum::<i64>(), 5789);
        let m: BTreeMap<_, _> = t.municipalities.iter().copied().collect();
        assert_eq!((m[&101], m[&751], m[&461], m[&851]), (1370, 507, 117, 291));
        assert_eq!(m.values().sum::<i64>(), 5789);
        assert_eq!(t.migrants, 322);
        let t24 = targets(&h, 2024, 1.0);
        assert_eq!(t24.total, 5989);
        assert_eq!(
            t24.municipalities.iter().find(|m| m.0 == 751).unwrap().1,
            556
        );
        // 2026 is not published: carried on from 2022 → 2024.
        assert_eq!(targets(&h, 2026, 1.0).total, 6189);
        let mut ranked = t.municipalities.clone();
        ranked.sort_by_key(|(_, n)| std::cmp::Reverse(*n));
        let top: Vec<u16> = ranked.iter().take(6).map(|(c, _)| *c).collect();
        // Odense follows its published 117 (2022), behind Frederiksberg and Horsens (2019: 181).
        assert_eq!(top[..3], [101, 751, 851]);
        assert!(top.contains(&461), "{top:?}");
    }
}
