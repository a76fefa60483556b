//! `hcount synth`: a deterministic generator of realistic submission sets, for the fixtures,
//! the tests and the benchmarks. The same options give byte-identical files.
//!
//! A population of persons (valid CPR numbers by the century rule, realistic ages, sexes,
//! municipalities and situations) is reported by one to four services each, in the styles
//! services really send: Danish Excel exports (`;`, Windows-1252, Danish headers, dd-mm-yyyy,
//! CRLF), UTF-8 with BOM and shuffled columns, plain UTF-8. The messy style adds twins,
//! replacement numbers, unidentified rows, blank lines, quoted line breaks and bad rows of
//! every kind.

use std::io::Write;
use std::path::Path;

use chrono::{Datelike, NaiveDate};

use crate::intake::spec::{self, Column};

mod form_v2;
mod panel;

#[derive(Debug, Clone, Copy)]
pub enum Style {
    /// UTF-8, `,`, ISO dates, English headers, no bad rows (benchmarks).
    Plain,
    /// Every file style the format allows, and bad rows of every kind (fixtures).
    Messy,
}

#[derive(Debug, Clone)]
pub struct SynthOptions {
    pub persons: usize,
    pub files: usize,
    pub seed: u64,
    pub year: i32,
    pub style: Style,
    /// 1: the version 1 columns only (exactly the files of before version 2); 2: also the
    /// version 2 columns (background, citizenship, health, causes).
    pub format_version: u8,
}

pub struct SynthSummary {
    pub files: usize,
    pub rows: usize,
    pub persons: usize,
    pub bad_rows: usize,
}

/// SplitMix64: tiny, fast, and ours, so the fixtures never change with a crate upgrade.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
    /// Picks by weight.
    fn weighted<'a, T>(&mut self, items: &'a [(T, u32)]) -> &'a T {
        let total: u32 = items.iter().map(|(_, w)| w).sum();
        let mut r = self.below(total as usize) as u32;
        for (item, w) in items {
            if r < *w {
                return item;
            }
            r -= w;
        }
        &items[0].0
    }
}

#[derive(Clone)]
struct Person {
    /// Stable across the counts of a panel: the version 2 answers are drawn from it, so a
    /// person keeps their background and causes from count to count.
    id: usize,
    birth: NaiveDate,
    male: bool,
    serial: u32,
    initials: String,
    municipality: u16,
    home: Option<u16>,
    migrant: bool,
    /// How the person is identified in reports: 0 CPR, 1 alt key, 2 replacement, 3 nothing.
    id_style: u8,
    ecpr: String,
}

impl Person {
    fn cpr(&self, dash: bool) -> String {
        let yy = self.birth.year() % 100;
        // The century digit (format spec): 0–3 for the 1900s; 4 for 2000–2036.
        let d7 = if self.birth.year() >= 2000 {
            4
        } else {
            self.serial / 1000 % 4
        };
        let rest = self.serial % 1000;
        let last = rest % 10;
        let rest = rest - last + if self.male { last | 1 } else { last & !1 };
        let sep = if dash { "-" } else { "" };
        format!(
            "{:02}{:02}{:02}{sep}{d7}{rest:03}",
            self.birth.day(),
            self.birth.month(),
            yy
        )
    }
}

const SITUATIONS: &[(&str, u32)] = &[
    ("shelter", 35),
    ("family_friends", 30),
    ("rough_sleeping", 10),
    ("night_shelter", 5),
    ("transitional", 5),
    ("hotel", 2),
    ("prison_release", 3),
    ("hospital_discharge", 3),
    ("makeshift", 1),
    ("functional", 1),
    ("other", 1),
    ("unknown", 1),
];

/// Which respondent types report which situations most naturally.
fn respondent_type_for(situation: &str, rng: &mut Rng) -> &'static str {
    match situation {
        "shelter" => "shelter",
        "night_shelter" => "night_shelter",
        "rough_sleeping" => *rng.pick(&["outreach", "drop_in", "night_shelter"]),
        "prison_release" => "prison_probation",
        "hospital_discharge" => *rng.pick(&["hospital", "psychiatry", "treatment"]),
        _ => *rng.pick(&[
            "municipality",
            "drop_in",
            "outreach",
            "housing",
            "treatment",
            "other",
        ]),
    }
}

const INITIAL_LETTERS: &[char] = &[
    'A', 'B', 'C', 'D', 'E', 'F', 'G', 'H', 'I', 'J', 'K', 'L', 'M', 'N', 'O', 'P', 'R', 'S', 'T',
    'U', 'V', 'Æ', 'Ø', 'Å',
];

/// One report: a person seen by a respondent.
struct Report {
    person: usize,
    respondent: usize,
    situation: &'static str,
}

/// How a file is written.
#[derive(Clone, Copy, PartialEq)]
enum FileStyle {
    Plain,
    /// Danish Excel: `;`, Windows-1252, Danish headers, dd-mm-yyyy, CRLF, Danish words.
    Excel,
    /// UTF-8 with BOM, `,`, shuffled columns, an unknown free-text column.
    Bom,
    /// UTF-8, dd.mm.yyyy or dd/mm/yyyy, upper-case codes, stray spaces, CPR without dash.
    Loose,
}

pub fn generate(opts: &SynthOptions, out_dir: &Path) -> anyhow::Result<SynthSummary> {
    anyhow::ensure!(opts.persons > 0, "--persons must be at least 1");
    anyhow::ensure!(opts.files > 0, "--files must be at least 1");
    let count_date = spec::count_date(opts.year)
        .ok_or_else(|| anyhow::anyhow!("{} is not a usable year", opts.year))?;
    let mut rng = Rng(opts.seed ^ 0x6863_6F75_6E74);
    let persons = population(opts.persons, opts, count_date, &mut rng);
    write_set(&persons, opts, out_dir, &mut rng)
}

/// `n` persons of the count on `count_date` (ages on that date).
fn population(n: usize, opts: &SynthOptions, count_date: NaiveDate, rng: &mut Rng) -> Vec<Person> {
    let messy = matches!(opts.style, Style::Messy);
    let municipalities: Vec<u16> = spec::municipalities().iter().map(|m| m.code).collect();
    let big: &[(u16, u32)] = &[
        (101, 30),
        (751, 10),
        (461, 6),
        (851, 4),
        (147, 3),
        (561, 2),
        (0, 45),
    ];

    // The population.
    let mut persons: Vec<Person> = Vec::with_capacity(n);
    for i in 0..n {
        let age_years = if messy && rng.chance(0.01) {
            14 + rng.below(4)
        } else {
            18 + rng.below(52).min(rng.below(60))
        };
        let birth = count_date
            .checked_sub_days(chrono::Days::new((age_years * 365 + rng.below(365)) as u64))
            .unwrap_or(count_date);
        let mut municipality = *rng.weighted(big);
        if municipality == 0 {
            municipality = *rng.pick(&municipalities);
        }
        let initials: String = (0..2 + rng.below(2))
            .map(|_| *rng.pick(INITIAL_LETTERS))
            .collect();
        let id_style = if !messy {
            if rng.chance(0.8) {
                0
            } else if rng.chance(0.7) {
                1
            } else {
                3
            }
        } else {
            *rng.weighted(&[(0u8, 72), (1, 20), (2, 4), (3, 4)])
        };
        let mut p = Person {
            id: i,
            birth,
            male: rng.chance(0.77),
            serial: (i as u32).wrapping_mul(7919) % 4000,
            initials,
            municipality,
            home: rng.chance(0.4).then(|| *rng.pick(&municipalities)),
            migrant: rng.chance(0.05),
            id_style,
            ecpr: String::new(),
        };
        // Twins: the same birth date, sex and initials as the previous person.
        if messy && i > 0 && rng.chance(0.01) {
            let prev = &persons[i - 1];
            p.birth = prev.birth;
            p.male = prev.male;
            p.initials = prev.initials.clone();
            p.id_style = 0;
        }
        p.ecpr = replacement_number(p.birth, rng);
        persons.push(p);
    }
    persons
}

/// A replacement number (the format's `DDMMYY-NLLN`) for a person born on `birth`.
fn replacement_number(birth: NaiveDate, rng: &mut Rng) -> String {
    format!(
        "{:02}{:02}{:02}-{}{}{}{}",
        birth.day(),
        birth.month(),
        birth.year() % 100,
        rng.below(10),
        (b'A' + rng.below(26) as u8) as char,
        (b'A' + rng.below(26) as u8) as char,
        rng.below(10)
    )
}

/// Writes the submissions of `persons` (one count: `opts.year`) into `out_dir`.
fn write_set(
    persons: &[Person],
    opts: &SynthOptions,
    out_dir: &Path,
    rng: &mut Rng,
) -> anyhow::Result<SynthSummary> {
    let messy = matches!(opts.style, Style::Messy);
    // Respondents: about one per 15 persons, at least one per file — but no more than
    // max(files, 1,000): a real count has hundreds of reporting units, not one per 15
    // persons at any scale (a 1M-row set would otherwise have 46,000 units, each with its
    // own feedback files).
    let n_respondents = (persons.len() / 15)
        .max(opts.files)
        .min(opts.files.max(1000))
        .max(1);
    let respondent_types: Vec<&str> = (0..n_respondents)
        .map(|_| spec::RESPONDENT_TYPES[rng.below(spec::RESPONDENT_TYPES.len())].code)
        .collect();
    let respondent_ids: Vec<String> = (0..n_respondents)
        .map(|r| format!("{}-{:03}", respondent_types[r].replace('_', "-"), r))
        .collect();

    // Reports: most persons once, some by two to four services.
    let mut reports = Vec::new();
    for (i, _) in persons.iter().enumerate() {
        let n = *rng.weighted(&[(1usize, 68), (2, 22), (3, 7), (4, 3)]);
        for _ in 0..n {
            let situation = if messy && rng.chance(0.01) {
                "not_homeless"
            } else {
                *rng.weighted(SITUATIONS)
            };
            let wanted = respondent_type_for(situation, rng);
            let mut respondent = rng.below(n_respondents);
            for _ in 0..4 {
                if respondent_types[respondent] == wanted {
                    break;
                }
                respondent = rng.below(n_respondents);
            }
            reports.push(Report {
                person: i,
                respondent,
                situation,
            });
        }
    }
    // Spread the respondents over the files; a file holds one respondent's rows.
    let file_of_respondent: Vec<usize> = (0..n_respondents).map(|r| r % opts.files).collect();
    write_files(
        persons,
        &reports,
        &Units {
            ids: &respondent_ids,
            types: &respondent_types,
            file: &file_of_respondent,
        },
        opts,
        out_dir,
        rng,
    )
}

/// The reporting units of a set: id, respondent type and file of each.
struct Units<'a> {
    ids: &'a [String],
    types: &'a [&'a str],
    /// The file (0..opts.files) that holds the unit's rows.
    file: &'a [usize],
}

/// Writes `reports` into `opts.files` files (each unit's rows in the unit's file), in the
/// styles of `opts.style`.
fn write_files(
    persons: &[Person],
    reports: &[Report],
    units: &Units,
    opts: &SynthOptions,
    out_dir: &Path,
    rng: &mut Rng,
) -> anyhow::Result<SynthSummary> {
    let messy = matches!(opts.style, Style::Messy);
    let (respondent_ids, respondent_types) = (units.ids, units.types);
    // The version 2 columns come from their own random stream, so version 1 files stay
    // exactly what they were.
    let mut form = form_v2::FormV2::new(opts.seed);
    let mut by_file: Vec<Vec<&Report>> = (0..opts.files).map(|_| Vec::new()).collect();
    for r in reports {
        by_file[units.file[r.respondent]].push(r);
    }

    std::fs::create_dir_all(out_dir)?;
    let mut summary = SynthSummary {
        files: 0,
        rows: 0,
        persons: persons.len(),
        bad_rows: 0,
    };
    for (f, rows) in by_file.iter().enumerate() {
        if rows.is_empty() {
            continue;
        }
        let first = &respondent_ids[rows[0].respondent];
        let style = if !messy {
            FileStyle::Plain
        } else {
            *rng.pick(&[
                FileStyle::Excel,
                FileStyle::Excel,
                FileStyle::Bom,
                FileStyle::Loose,
                FileStyle::Plain,
            ])
        };
        let name = file_name(first, f);
        let (text, n, bad) = write_file(
            rows,
            persons,
            respondent_ids,
            respondent_types,
            style,
            opts,
            messy,
            rng,
            &mut form,
        );
        let bytes = match style {
            FileStyle::Excel => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
            FileStyle::Bom => [b"\xEF\xBB\xBF".as_slice(), text.as_bytes()].concat(),
            _ => text.into_bytes(),
        };
        let mut out = std::io::BufWriter::new(std::fs::File::create(out_dir.join(name))?);
        out.write_all(&bytes)?;
        out.flush()?;
        summary.files += 1;
        summary.rows += n;
        summary.bad_rows += bad;
    }
    Ok(summary)
}

/// `hcount synth --panel`: one population of Denmark counted in each of `years`
/// (ascending), its totals by situation and municipality following the published counts,
/// persons coming back from count to count (see [`panel`]). Writes `out_dir/<year>/`.
pub fn generate_panel(
    opts: &SynthOptions,
    years: &[i32],
    out_dir: &Path,
) -> anyhow::Result<Vec<(i32, SynthSummary)>> {
    panel::generate(opts, years, out_dir)
}

#[allow(clippy::too_many_arguments)]
/// The name of a generated file: its first unit's id and the file's number.
fn file_name(unit: &str, file: usize) -> String {
    let name = format!("{}_{file:04}.csv", unit.to_lowercase());
    // In a large set a unit number and a file number can together look like a CPR number
    // (`aarhus-12345_6789`), which every output masks, so two files would end up with one
    // name and the run would refuse them: a letter between them keeps the name whole.
    // Names that pass the mask as they are stay as they were (the shipped fixtures).
    if crate::privacy::has_cpr_like(&name) {
        format!("{}_f{file:04}.csv", unit.to_lowercase())
    } else {
        name
    }
}

fn write_file(
    rows: &[&Report],
    persons: &[Person],
    respondent_ids: &[String],
    respondent_types: &[&str],
    style: FileStyle,
    opts: &SynthOptions,
    messy: bool,
    rng: &mut Rng,
    form: &mut form_v2::FormV2,
) -> (String, usize, usize) {
    let danish = style == FileStyle::Excel;
    let sep = if danish { ";" } else { "," };
    let eol = if danish { "\r\n" } else { "\n" };
    let mut columns: Vec<Column> = Column::V1.to_vec();
    if style == FileStyle::Bom {
        // Free column order, plus a free-text column the format does not know.
        for i in (1..columns.len()).rev() {
            columns.swap(i, rng.below(i + 1));
        }
    }
    if opts.format_version >= 2 {
        for c in Column::ALL.into_iter().filter(|c| c.version() == 2) {
            if style == FileStyle::Bom {
                let at = form.position(columns.len());
                columns.insert(at, c);
            } else {
                columns.push(c);
            }
        }
    }
    let mut header: Vec<&str> = columns
        .iter()
        .map(|c| if danish { c.danish() } else { c.name() })
        .collect();
    if style == FileStyle::Bom {
        header.push("comment");
    }
    let mut text = header.join(sep);
    text.push_str(eol);
    let (mut n, mut bad) = (0, 0);
    for r in rows {
        let p = &persons[r.person];
        // How this report identifies the person (decided once per row).
        let carries_cpr = p.id_style == 0 && !rng.chance(0.1);
        let carries_alt = p.id_style == 1
            || (p.id_style == 0 && !carries_cpr)
            || (p.id_style == 2 && rng.chance(0.3));
        let with_initials = carries_alt || (carries_cpr && rng.chance(0.6));
        let ids = Ids {
            cpr: carries_cpr,
            alt: carries_alt,
            initials: with_initials,
        };
        let mut cells: Vec<String> = columns
            .iter()
            .map(|c| {
                if c.version() == 2 {
                    return form.cell(*c, p.id, danish, style == FileStyle::Loose);
                }
                cell(
                    *c,
                    r,
                    p,
                    ids,
                    respondent_ids,
                    respondent_types,
                    style,
                    opts,
                    rng,
                )
            })
            .collect();
        form_v2::consistent(&mut cells, &columns);
        if style == FileStyle::Bom {
            let note = *rng.pick(&[
                "",
                "",
                "kendt fra natcafeen",
                "sover i \"opgangen\", ofte",
                "ny i byen\nhenvist af kommunen",
            ]);
            cells.push(note.to_string());
        }
        if messy && rng.chance(0.015) {
            bad += 1;
            spoil(&mut cells, &columns, opts.year, rng);
        }
        let mut line: Vec<String> = cells.iter().map(|c| quote(c, sep)).collect();
        if messy && rng.chance(0.002) {
            // A truncated row, or one with a field too many.
            if rng.chance(0.5) {
                line.truncate(line.len() / 2);
            } else {
                line.push("x".into());
            }
            bad += 1;
        }
        text.push_str(&line.join(sep));
        text.push_str(eol);
        if messy && rng.chance(0.003) {
            text.push_str(eol); // a blank line
        }
        n += 1;
    }
    (text, n, bad)
}

/// Which identifying values a row carries.
#[derive(Clone, Copy)]
struct Ids {
    cpr: bool,
    alt: bool,
    initials: bool,
}

#[allow(clippy::too_many_arguments)]
fn cell(
    c: Column,
    r: &Report,
    p: &Person,
    ids: Ids,
    respondent_ids: &[String],
    respondent_types: &[&str],
    style: FileStyle,
    opts: &SynthOptions,
    rng: &mut Rng,
) -> String {
    let danish = style == FileStyle::Excel;
    let date = |d: NaiveDate| match style {
        FileStyle::Excel => d.format("%d-%m-%Y").to_string(),
        FileStyle::Loose => d
            .format(if d.day() % 2 == 0 {
                "%d.%m.%Y"
            } else {
                "%d/%m/%Y"
            })
            .to_string(),
        _ => d.format("%Y-%m-%d").to_string(),
    };
    let code = |s: &str| {
        if style == FileStyle::Loose {
            format!(" {} ", s.to_uppercase())
        } else {
            s.to_string()
        }
    };
    let yes_no = |rng: &mut Rng, p_yes: f64| -> String {
        let v = if rng.chance(0.15) {
            ""
        } else if rng.chance(p_yes) {
            "yes"
        } else {
            "no"
        };
        match (danish, v) {
            (true, "yes") => "ja".into(),
            (true, "no") => "nej".into(),
            _ => v.into(),
        }
    };
    match c {
        Column::CountYear => opts.year.to_string(),
        Column::RespondentId => respondent_ids[r.respondent].clone(),
        Column::RespondentType => code(respondent_types[r.respondent]),
        Column::Cpr => match p.id_style {
            0 if ids.cpr => p.cpr(style != FileStyle::Loose),
            2 => p.ecpr.clone(),
            _ => String::new(),
        },
        Column::BirthDate if ids.alt => date(p.birth),
        Column::Sex if ids.alt => match (danish, p.male) {
            (true, true) => "mand".into(),
            (true, false) => "kvinde".into(),
            (false, true) => "m".into(),
            (false, false) => "k".into(),
        },
        // Initials are often given with the CPR number too (so rows without it can link).
        Column::Initials if ids.initials => {
            if rng.chance(0.3) {
                p.initials.chars().map(|ch| format!("{ch}.")).collect()
            } else {
                p.initials.clone()
            }
        }
        Column::Municipality => p.municipality.to_string(),
        Column::HomeMunicipality => p.home.map(|h| h.to_string()).unwrap_or_default(),
        Column::Situation => code(r.situation),
        Column::Residence if p.migrant => "no_permanent".into(),
        Column::Duration => (*rng.pick(&[
            "", "lt3m", "3to6m", "6to12m", "1to2y", "gt2y", "gt2y", "unknown",
        ]))
        .into(),
        Column::MentalIllness => yes_no(rng, 0.5),
        Column::SubstanceAbuse => (*rng.pick(&[
            "",
            "none",
            "alcohol",
            "alcohol|cannabis",
            "hard_drugs",
            "cannabis",
            "medication",
            "unknown",
        ]))
        .into(),
        Column::Income => (*rng.pick(&[
            "",
            "cash_benefit",
            "cash_benefit",
            "disability_pension",
            "old_age_pension",
            "wages",
            "none",
            "unknown",
        ]))
        .into(),
        Column::Children => (*rng.pick(&["", "0", "0", "0", "0", "1", "2"])).into(),
        Column::Support => (*rng.pick(&[
            "",
            "none",
            "none",
            "act",
            "icm",
            "cti",
            "social_caretaker",
            "act|icm",
            "unknown",
        ]))
        .into(),
        Column::HousingQueue => yes_no(rng, 0.35),
        Column::ActionPlan => yes_no(rng, 0.45),
        _ => String::new(),
    }
}

/// Makes one row break one rule of the format (or earn a warning).
fn spoil(cells: &mut [String], columns: &[Column], year: i32, rng: &mut Rng) {
    let at = |c: Column| columns.iter().position(|x| *x == c).unwrap_or(0);
    match rng.below(12) {
        0 => cells[at(Column::Cpr)] = "310299-1234".into(),
        1 => cells[at(Column::Cpr)] = "12345-678".into(),
        2 => cells[at(Column::Municipality)] = "999".into(),
        3 => cells[at(Column::Situation)] = "homeless".into(),
        4 => cells[at(Column::RespondentType)] = String::new(),
        5 => cells[at(Column::CountYear)] = (year - 2).to_string(),
        6 => {
            cells[at(Column::Cpr)] = String::new();
            cells[at(Column::BirthDate)] = format!("01-01-{}", year + 1);
        }
        7 => {
            cells[at(Column::Cpr)] = String::new();
            cells[at(Column::BirthDate)] = "01-01-1890".into();
        }
        // Warnings: the row stays.
        8 => cells[at(Column::Sex)] = "x".into(),
        9 => cells[at(Column::Initials)] = "J5".into(),
        10 => cells[at(Column::Children)] = "many".into(),
        _ => cells[at(Column::Duration)] = "long".into(),
    }
}

fn quote(cell: &str, sep: &str) -> String {
    if cell.contains(sep) || cell.contains('"') || cell.contains('\n') {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// The file that marks a folder written by `hcount synth`, so that a later `synth --out` to
/// the same folder may replace it (and no other folder). Not a `.csv`/`.xlsx`, so `run`
/// ignores it.
pub const MARKER: &str = "SYNTHETIC.txt";

/// `hcount synth --out DIR`: generates into a folder beside `out` and swaps it into place,
/// like `hcount run` (src/output.rs), with [`MARKER`] saying what the files are.
pub fn write_to(opts: &SynthOptions, out: &Path) -> Result<SynthSummary, String> {
    staged(opts, out, "", |dir| generate(opts, dir))
}

/// [`generate_panel`] into `out` the same way as [`write_to`]: staged, marked, swapped in.
pub fn write_panel_to(
    opts: &SynthOptions,
    years: &[i32],
    out: &Path,
) -> Result<Vec<(i32, SynthSummary)>, String> {
    let years_arg: Vec<String> = years.iter().map(|y| y.to_string()).collect();
    let extra = format!(" --panel --panel-years {}", years_arg.join(","));
    staged(opts, out, &extra, |dir| generate_panel(opts, years, dir))
}

/// Writes into a staged folder beside `out`, adds the marker that says what made it, and
/// swaps it into place.
fn staged<T>(
    opts: &SynthOptions,
    out: &Path,
    extra_args: &str,
    write: impl FnOnce(&Path) -> anyhow::Result<T>,
) -> Result<T, String> {
    let dir = crate::output::StagedDir::create(out, MARKER)?;
    let made = write(dir.path()).map_err(|e| e.to_string())?;
    let style = match opts.style {
        Style::Plain => "plain",
        Style::Messy => "messy",
    };
    let note = format!(
        "Synthetic submissions made by `hcount synth`: no real persons.\n\
         hcount synth --persons {} --files {} --seed {} --year {} --style {style} --format-version {}{extra_args}\n",
        opts.persons, opts.files, opts.seed, opts.year, opts.format_version
    );
    std::fs::write(dir.path().join(MARKER), note).map_err(|e| format!("{MARKER}: {e}"))?;
    dir.commit(MARKER)
        .map_err(|e| format!("{}: cannot move the files into place: {e}", out.display()))?;
    Ok(made)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_survive_the_cpr_mask() {
        assert_eq!(file_name("drop-in-056", 16), "drop-in-056_0016.csv");
        assert_eq!(
            file_name("Drop-in-Aarhus-12345", 6789),
            "drop-in-aarhus-12345_f6789.csv"
        );
        assert!(!crate::privacy::has_cpr_like(&file_name(
            "shelter-aarhus-123456",
            1999
        )));
    }

    fn options(style: Style) -> SynthOptions {
        SynthOptions {
            persons: 1500,
            files: 12,
            seed: 7,
            year: 2026,
            style,
            format_version: 2,
        }
    }

    #[test]
    fn deterministic() {
        let a = tempfile::tempdir().unwrap();
        let b = tempfile::tempdir().unwrap();
        generate(&options(Style::Messy), a.path()).unwrap();
        generate(&options(Style::Messy), b.path()).unwrap();
        let list = |d: &Path| {
            let mut v: Vec<_> = std::fs::read_dir(d)
                .unwrap()
                .map(|e| {
                    let p = e.unwrap().path();
                    (
                        p.file_name().unwrap().to_owned(),
                        std::fs::read(&p).unwrap(),
                    )
                })
                .collect();
            v.sort();
            v
        };
        assert_eq!(list(a.path()), list(b.path()));
    }

    #[test]
    fn cpr_numbers_follow_the_century_and_sex_rules() {
        let mut rng = Rng(1);
        for y in [1930, 1975, 1999, 2003] {
            for male in [true, false] {
                let p = Person {
                    id: 0,
                    birth: NaiveDate::from_ymd_opt(y, 3, 9).unwrap(),
                    male,
                    serial: rng.below(4000) as u32,
                    initials: "AB".into(),
                    municipality: 101,
                    home: None,
                    migrant: false,
                    id_style: 0,
                    ecpr: String::new(),
                };
                match crate::intake::cpr::parse(&p.cpr(true)).unwrap() {
                    crate::intake::cpr::Cpr::Person {
                        birth_date,
                        male: m,
                        ..
                    } => {
                        assert_eq!(birth_date, p.birth);
                        assert_eq!(m, male);
                    }
                    other => panic!("{other:?}"),
                }
            }
        }
    }

    /// Version 2 files are the version 1 files with six more columns: the version 1 cells
    /// are untouched, and the new ones carry the published shares.
    #[test]
    fn version_2_adds_six_columns_with_the_published_shares() {
        let v1 = tempfile::tempdir().unwrap();
        let v2 = tempfile::tempdir().unwrap();
        let plain = |format_version| SynthOptions {
            persons: 4000,
            files: 4,
            seed: 11,
            year: 2026,
            style: Style::Plain,
            format_version,
        };
        generate(&plain(1), v1.path()).unwrap();
        generate(&plain(2), v2.path()).unwrap();
        let mut background: std::collections::BTreeMap<String, usize> = Default::default();
        let mut mental_illness_cause = (0, 0);
        for e in std::fs::read_dir(v1.path()).unwrap() {
            let name = e.unwrap().file_name();
            let read = |dir: &Path| -> Vec<Vec<String>> {
                csv::ReaderBuilder::new()
                    .has_headers(false)
                    .from_path(dir.join(&name))
                    .unwrap()
                    .records()
                    .map(|r| r.unwrap().iter().map(String::from).collect())
                    .collect()
            };
            let (a, b) = (read(v1.path()), read(v2.path()));
            assert_eq!(a.len(), b.len());
            assert_eq!(
                b[0][19..],
                [
                    "background",
                    "citizenship",
                    "physical_illness",
                    "mental_illness_treated",
                    "substance_treated",
                    "causes"
                ]
            );
            for (ra, rb) in a.iter().zip(&b) {
                assert_eq!(ra[..], rb[..19]);
            }
            for r in &b[1..] {
                *background.entry(r[19].clone()).or_default() += 1;
                if !r[24].is_empty() && r[24] != "unknown" {
                    mental_illness_cause.1 += 1;
                    mental_illness_cause.0 +=
                        r[24].split('|').any(|c| c == "mental_illness") as usize;
                }
                // No "in treatment" beside "no illness" (that is what W012 is for).
                assert!(!(r[12] == "no" && r[22] == "yes"), "{r:?}");
            }
        }
        let known: usize = ["danish", "immigrant", "descendant"]
            .iter()
            .map(|k| background[*k])
            .sum();
        let danish = background["danish"] as f64 / known as f64;
        assert!((0.79..0.85).contains(&danish), "{danish} {background:?}");
        let share = mental_illness_cause.0 as f64 / mental_illness_cause.1 as f64;
        assert!((0.38..0.48).contains(&share), "{share}");
    }

    #[test]
    fn messy_sets_have_every_style_and_bad_rows() {
        let dir = tempfile::tempdir().unwrap();
        let s = generate(&options(Style::Messy), dir.path()).unwrap();
        assert!(s.rows > 1500 && s.bad_rows > 0);
        let mut semicolon = false;
        let mut bom = false;
        for e in std::fs::read_dir(dir.path()).unwrap() {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            semicolon |= bytes.starts_with(b"taelleaar;");
            bom |= bytes.starts_with(b"\xEF\xBB\xBF");
        }
        assert!(semicolon && bom);
    }
}
