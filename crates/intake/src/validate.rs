//! Validate: every rule of the submission format, for every row, with a stable rule code.
//!
//! A row is either accepted (handed to a [`RowSink`] as a typed [`ValidRow`]) or rejected
//! (listed with file, line, column, value and reason). Optional values that are not valid
//! become `unknown` with a warning and never drop the row. `validate` and `run` use this same
//! code, so a file that passes `hcount validate` is counted the same way by `hcount run`.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use chrono::NaiveDate;

use crate::cpr::{self, Cpr, CprError};
use crate::ingest::{self, FileError, FileFormat, Record, SourceFile};
use crate::mask::{self, mask_cpr};
use crate::spec::{self, Column};

mod form_v2;
pub use form_v2::PersonForm;

/// Stable rule codes. `E…` rejects the row, `W…` is a warning. Documented in `docs/RULES.md`;
/// never renumber a code: submitters look them up.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Rule {
    E001,
    E002,
    E003,
    E004,
    E005,
    E006,
    E007,
    E008,
    E009,
    E010,
    E011,
    E012,
    E013,
    E014,
    E015,
    E016,
    W001,
    W002,
    W003,
    W004,
    W005,
    W006,
    W007,
    W008,
    W009,
    W010,
    W011,
    W012,
    W013,
    W014,
}

impl Rule {
    pub const ALL: [Rule; 30] = [
        Rule::E001,
        Rule::E002,
        Rule::E003,
        Rule::E004,
        Rule::E005,
        Rule::E006,
        Rule::E007,
        Rule::E008,
        Rule::E009,
        Rule::E010,
        Rule::E011,
        Rule::E012,
        Rule::E013,
        Rule::E014,
        Rule::E015,
        Rule::E016,
        Rule::W001,
        Rule::W002,
        Rule::W003,
        Rule::W004,
        Rule::W005,
        Rule::W006,
        Rule::W007,
        Rule::W008,
        Rule::W009,
        Rule::W010,
        Rule::W011,
        Rule::W012,
        Rule::W013,
        Rule::W014,
    ];

    pub fn code(self) -> &'static str {
        match self {
            Rule::E001 => "E001",
            Rule::E002 => "E002",
            Rule::E003 => "E003",
            Rule::E004 => "E004",
            Rule::E005 => "E005",
            Rule::E006 => "E006",
            Rule::E007 => "E007",
            Rule::E008 => "E008",
            Rule::E009 => "E009",
            Rule::E010 => "E010",
            Rule::E011 => "E011",
            Rule::E012 => "E012",
            Rule::E013 => "E013",
            Rule::E014 => "E014",
            Rule::E015 => "E015",
            Rule::E016 => "E016",
            Rule::W001 => "W001",
            Rule::W002 => "W002",
            Rule::W003 => "W003",
            Rule::W004 => "W004",
            Rule::W005 => "W005",
            Rule::W006 => "W006",
            Rule::W007 => "W007",
            Rule::W008 => "W008",
            Rule::W009 => "W009",
            Rule::W010 => "W010",
            Rule::W011 => "W011",
            Rule::W012 => "W012",
            Rule::W013 => "W013",
            Rule::W014 => "W014",
        }
    }

    pub fn title_in(self, danish: bool) -> &'static str {
        if danish {
            self.title_da()
        } else {
            self.title()
        }
    }

    pub fn fix_in(self, danish: bool) -> &'static str {
        if danish { self.fix_da() } else { self.fix() }
    }

    pub fn is_error(self) -> bool {
        self.code().starts_with('E')
    }

    /// What the rule means, in a line.
    pub fn title(self) -> &'static str {
        match self {
            Rule::E001 => "a required column is missing from the file",
            Rule::E002 => "a required value is empty",
            Rule::E003 => "the value is not one of the allowed codes",
            Rule::E004 => "count_year is not a year",
            Rule::E005 => "count_year is not the year of this count",
            Rule::E006 => "respondent_id is not a valid id",
            Rule::E007 => "cpr is not a CPR number",
            Rule::E008 => "the date in the CPR number does not exist",
            Rule::E009 => "birth_date is not a valid date",
            Rule::E010 => "the birth date is after the count date",
            Rule::E011 => "the birth date gives an age over 110",
            Rule::E012 => "municipality is not a municipality code",
            Rule::E013 => "the row has more fields than the header",
            Rule::E014 => "the row has fewer fields than the header",
            Rule::E015 => "a quote (\") is not closed and swallowed the rows after it",
            Rule::E016 => "respondent_id looks like a CPR number",
            Rule::W001 => "unknown column, ignored",
            Rule::W002 => "the column appears twice; the first is used",
            Rule::W003 => "birth_date disagrees with the CPR number; the CPR number is used",
            Rule::W004 => "sex disagrees with the CPR number; the CPR number is used",
            Rule::W005 => "sex is not a valid code; treated as missing",
            Rule::W006 => "initials are not 2–4 letters; treated as missing",
            Rule::W007 => "the value is not one of the allowed codes; treated as unknown",
            Rule::W008 => "children is not a number from 0 to 20; treated as unknown",
            Rule::W009 => "home_municipality is not a municipality code; treated as unknown",
            Rule::W010 => {
                "the person cannot be identified (no CPR, and birth_date, sex or initials missing)"
            }
            Rule::W011 => "the file has no rows",
            Rule::W012 => "mental_illness_treated is yes, but mental_illness is no",
            Rule::W013 => "substance_treated is yes, but substance_abuse is none",
            Rule::W014 => "other sheets of the workbook hold values but were not read",
        }
    }

    /// What the rule means, in Danish.
    pub fn title_da(self) -> &'static str {
        match self {
            Rule::E001 => "en påkrævet kolonne mangler i filen",
            Rule::E002 => "en påkrævet værdi er tom",
            Rule::E003 => "værdien er ikke en af de tilladte koder",
            Rule::E004 => "taelleaar er ikke et årstal",
            Rule::E005 => "taelleaar er ikke denne tællings år",
            Rule::E006 => "respondent er ikke et gyldigt id",
            Rule::E007 => "cpr er ikke et CPR-nummer",
            Rule::E008 => "datoen i CPR-nummeret findes ikke",
            Rule::E009 => "foedselsdato er ikke en gyldig dato",
            Rule::E010 => "fødselsdatoen ligger efter tælledatoen",
            Rule::E011 => "fødselsdatoen giver en alder over 110 år",
            Rule::E012 => "kommune er ikke en kommunekode",
            Rule::E013 => "rækken har flere felter end overskriften",
            Rule::E014 => "rækken har færre felter end overskriften",
            Rule::E015 => "et anførselstegn (\") lukkes ikke og har slugt rækkerne efter det",
            Rule::E016 => "respondent ligner et CPR-nummer",
            Rule::W001 => "ukendt kolonne, ignoreres",
            Rule::W002 => "kolonnen findes to gange; den første bruges",
            Rule::W003 => "foedselsdato passer ikke med CPR-nummeret; CPR-nummeret bruges",
            Rule::W004 => "koen passer ikke med CPR-nummeret; CPR-nummeret bruges",
            Rule::W005 => "koen er ikke en gyldig kode; behandles som manglende",
            Rule::W006 => "initialer er ikke 2–4 bogstaver; behandles som manglende",
            Rule::W007 => "værdien er ikke en af de tilladte koder; behandles som uoplyst",
            Rule::W008 => "boern er ikke et tal fra 0 til 20; behandles som uoplyst",
            Rule::W009 => "hjemkommune er ikke en kommunekode; behandles som uoplyst",
            Rule::W010 => {
                "personen kan ikke identificeres (intet CPR-nummer, og fødselsdato, køn eller initialer mangler)"
            }
            Rule::W011 => "filen har ingen rækker",
            Rule::W012 => "psykisk_behandling er ja, men psykisk_sygdom er nej",
            Rule::W013 => "misbrugsbehandling er ja, men misbrug er none (intet misbrug)",
            Rule::W014 => "andre ark i projektmappen har værdier, men blev ikke læst",
        }
    }

    /// How to fix it, in Danish.
    pub fn fix_da(self) -> &'static str {
        match self {
            Rule::E001 => "tilføj kolonnen i overskriftsrækken (dansk eller engelsk navn)",
            Rule::E002 => "udfyld værdien",
            Rule::E003 => {
                "brug en af kodelistens koder (se docs/RULES.md eller arket Koder i skabelonen)"
            }
            Rule::E004 => "skriv året med fire cifre, fx 2026",
            Rule::E005 => "brug denne tællings år, eller send rækken med det års tælling",
            Rule::E006 => "brug 1–64 tegn blandt A–Z a–z 0–9 . _ -",
            Rule::E007 => {
                "skriv DDMMÅÅ-SSSS eller DDMMÅÅSSSS (10 cifre); har Excel fjernet et 0 forrest, så formatér kolonnen som tekst"
            }
            Rule::E008 => "tjek de første seks cifre (DDMMÅÅ)",
            Rule::E009 => "skriv dd-mm-åååå, dd.mm.åååå, dd/mm/åååå eller åååå-mm-dd",
            Rule::E010 => "tjek fødselsdatoen eller CPR-nummeret",
            Rule::E011 => "tjek fødselsdatoen eller CPR-nummeret (og dets århundredeciffer)",
            Rule::E012 => "brug den 3-cifrede kommunekode, fx 101 for København",
            Rule::E013 => {
                "fjern det ekstra felt, eller sæt anførselstegn om en værdi, der indeholder skilletegnet"
            }
            Rule::E014 => "rækken er afkortet: udfyld de manglende felter",
            Rule::E015 => {
                "luk anførselstegnet i rækken, hvor det åbner, eller fjern det; send så alle rækkerne igen"
            }
            Rule::E016 => {
                "brug enhedens eget id (fx herberg-nord), aldrig et CPR-nummer eller et andet langt tal på 9 cifre eller flere"
            }
            Rule::W001 => "fjern kolonnen, eller tjek stavemåden",
            Rule::W002 => "fjern den anden kolonne",
            Rule::W003 => "tjek fødselsdatoen og CPR-nummeret",
            Rule::W004 => "tjek køn og CPR-nummeret",
            Rule::W005 => "brug m / mand / male eller k / kvinde / f / female",
            Rule::W006 => "skriv 2–4 bogstaver, fx JPH",
            Rule::W007 => {
                "brug en af kodelistens koder (se docs/RULES.md eller arket Koder i skabelonen)"
            }
            Rule::W008 => "skriv antallet af børn under 18, 0–20",
            Rule::W009 => "brug den 3-cifrede kommunekode, eller lad feltet stå tomt",
            Rule::W010 => {
                "angiv CPR-nummeret eller både fødselsdato, køn og initialer, så personen ikke tælles to gange"
            }
            Rule::W011 => "tjek, at det er den rigtige fil, og at eksporten fra Excel lykkedes",
            Rule::W012 => {
                "tjek begge svar: er personen i behandling for psykisk sygdom, er psykisk_sygdom ja (eller uoplyst)"
            }
            Rule::W013 => {
                "tjek begge svar: er personen i misbrugsbehandling, så angiv misbruget (eller uoplyst)"
            }
            Rule::W014 => {
                "flyt rækkerne over på arket med overskriften, eller send hvert ark som sin egen fil med overskriftsrækken øverst"
            }
        }
    }

    /// How to fix it, in a line.
    pub fn fix(self) -> &'static str {
        match self {
            Rule::E001 => "add the column to the header row (English name or Danish alias)",
            Rule::E002 => "fill in the value",
            Rule::E003 => "use one of the codes listed in the format (docs/RULES.md)",
            Rule::E004 => "write the year with four digits, e.g. 2026",
            Rule::E005 => "use the current count's year, or send the row with that year's count",
            Rule::E006 => "use 1–64 characters of A–Z a–z 0–9 . _ -",
            Rule::E007 => {
                "write DDMMYY-SSSS or DDMMYYSSSS (10 digits); if Excel removed a leading 0, format the column as text"
            }
            Rule::E008 => "check the first six digits (DDMMYY)",
            Rule::E009 => "write dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy or yyyy-mm-dd",
            Rule::E010 => "check the birth date or CPR number",
            Rule::E011 => "check the birth date or CPR number (and its century digit)",
            Rule::E012 => "use the 3-digit municipality code, e.g. 101 for København",
            Rule::E013 => "remove the extra field, or quote a value that contains the delimiter",
            Rule::E014 => "the row is cut short: fill in the missing fields",
            Rule::E015 => {
                "close the quote in the row where it opens, or remove it; then send all the rows again"
            }
            Rule::E016 => {
                "use the unit's own id (e.g. shelter-north), never a CPR number or another number of 9 or more digits"
            }
            Rule::W001 => "remove the column, or check its spelling",
            Rule::W002 => "remove the second column",
            Rule::W003 => "check the birth date and the CPR number",
            Rule::W004 => "check sex and the CPR number",
            Rule::W005 => "use m / mand / male or k / kvinde / f / female",
            Rule::W006 => "write 2–4 letters, e.g. JPH",
            Rule::W007 => "use one of the codes listed in the format (docs/RULES.md)",
            Rule::W008 => "write the number of children under 18, 0–20",
            Rule::W009 => "use the 3-digit municipality code, or leave it empty",
            Rule::W010 => {
                "give the CPR number, or all three of birth_date, sex and initials, so the person is not counted twice"
            }
            Rule::W011 => "check that this is the right file and that the export from Excel worked",
            Rule::W012 => {
                "check both answers: a person in treatment for mental illness has mental_illness yes (or unknown)"
            }
            Rule::W013 => {
                "check both answers: for a person in treatment for substance abuse, name the substance (or unknown)"
            }
            Rule::W014 => {
                "move the rows onto the sheet with the header row, or send each sheet as a file of its own with the header row on top"
            }
        }
    }
}

/// A message in English and Danish (`--lang da`). Borrowed when the text is one of a few
/// fixed ones (W010's): a count holds a problem for up to a tenth of its rows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Msg {
    pub en: Cow<'static, str>,
    pub da: Cow<'static, str>,
}

macro_rules! msg {
    ($en:expr, $da:expr $(,)?) => {
        Msg {
            en: $en.into(),
            da: $da.into(),
        }
    };
}

impl Msg {
    pub fn get(&self, danish: bool) -> &str {
        if danish { &self.da } else { &self.en }
    }
}

/// W010's reason: which of birth date, sex and initials a row without CPR number lacks.
/// Eight texts in all, made once and shared: a count can hold a W010 for a tenth of its
/// rows, and a copy of both texts per row took 300 MB at 10 million rows (issue #14).
fn unidentified_reason(no_birth_date: bool, no_sex: bool, no_initials: bool) -> Msg {
    static TEXTS: std::sync::LazyLock<Vec<(String, String)>> = std::sync::LazyLock::new(|| {
        (0..8)
            .map(|bits: usize| {
                let missing: Vec<Column> = [Column::BirthDate, Column::Sex, Column::Initials]
                    .into_iter()
                    .enumerate()
                    .filter_map(|(i, c)| (bits & (1 << i) != 0).then_some(c))
                    .collect();
                let names = |name: fn(Column) -> &'static str| {
                    missing.iter().copied().map(name).collect::<Vec<_>>().join(", ")
                };
                let en = format!(
                    "no CPR number and no {}: the row is counted as its own person and cannot be matched with other reports",
                    names(Column::name)
                );
                let da = format!(
                    "intet CPR-nummer og ingen {}: rækken tælles som sin egen person og kan ikke kobles med andre indberetninger",
                    names(Column::danish)
                );
                (en, da)
            })
            .collect()
    });
    let texts: &'static [(String, String)] = &TEXTS;
    let (en, da) = &texts
        [usize::from(no_birth_date) | usize::from(no_sex) << 1 | usize::from(no_initials) << 2];
    Msg {
        en: Cow::Borrowed(en),
        da: Cow::Borrowed(da),
    }
}

/// One rejection or warning.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Problem {
    pub file: Arc<str>,
    pub line: u64,
    pub column: String,
    pub code: Rule,
    /// The offending value, safe to show: CPR-like digits are masked, long values cut.
    pub value: String,
    pub reason: Msg,
    /// Whose rows the problem is about: a unit's feedback shows only its own.
    pub owner: Owner,
}

/// Whose rows a problem is about, so that a reporting unit sees only its own rows.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
pub enum Owner {
    /// The file as a whole (its header row, or an empty file): shown to every unit of the file.
    File,
    /// A row with this (valid) respondent_id.
    Unit(Arc<str>),
    /// A row whose respondent_id is missing, not valid, or refused (`E006`, `E016`).
    Unknown,
}

/// One reporting unit's rows in one file.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct UnitRows {
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
}

/// Per-file counts, for `tables/intake.csv` and the summaries.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct FileReport {
    pub file: String,
    pub respondent_ids: BTreeSet<String>,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub warnings: u64,
    /// The rows of each unit in `respondent_ids` (a file may hold several units' rows).
    pub units: BTreeMap<String, UnitRows>,
    #[serde(skip)]
    pub format: Option<FileFormat>,
}

/// The count year and its count date, which several rules need.
#[derive(Debug, Clone, Copy)]
pub struct CountYear {
    pub year: i32,
    pub date: NaiveDate,
}

impl CountYear {
    pub fn new(year: i32) -> Option<CountYear> {
        if !(1900..=2200).contains(&year) {
            return None;
        }
        Some(CountYear {
            year,
            date: spec::count_date(year)?,
        })
    }
}

/// How the row identifies its person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Identity {
    Cpr(Cpr),
    None,
}

/// An accepted row with typed, canonical values.
#[derive(Debug, Clone)]
pub struct ValidRow<'a> {
    pub line: u64,
    pub count_year: i32,
    pub respondent_id: &'a str,
    pub respondent_type: &'static str,
    pub identity: Identity,
    /// From the CPR number when there is one, else from `birth_date`.
    pub birth_date: Option<NaiveDate>,
    /// From the CPR number when there is one, else from `sex`.
    pub male: Option<bool>,
    /// Upper-cased, dots and spaces removed.
    pub initials: Option<String>,
    pub age: Option<i32>,
    pub municipality: u16,
    pub home_municipality: Option<u16>,
    pub situation: &'static str,
    pub residence: &'static str,
    pub duration: Option<&'static str>,
    pub mental_illness: Option<&'static str>,
    pub substance_abuse: Option<String>,
    pub income: Option<&'static str>,
    pub children: Option<i32>,
    pub support: Option<String>,
    pub housing_queue: Option<&'static str>,
    pub action_plan: Option<&'static str>,
    /// The format version 2 columns.
    pub form: PersonForm,
}

impl ValidRow<'_> {
    /// The alternative key's parts (birth date, sex, initials), when all three are known.
    pub fn alt_parts(&self) -> Option<(NaiveDate, bool, &str)> {
        Some((self.birth_date?, self.male?, self.initials.as_deref()?))
    }
}

/// Where accepted rows go: the staging table in `run`, nowhere in `validate`.
pub trait RowSink {
    fn accept(&mut self, file: &SourceFile, row: &ValidRow<'_>);
}

impl RowSink for () {
    fn accept(&mut self, _: &SourceFile, _: &ValidRow<'_>) {}
}

/// The result of validating one file.
pub struct FileOutcome {
    pub report: FileReport,
    pub problems: Vec<Problem>,
}

/// The count year a file declares: the `count_year` of its first data row, if valid. Used to
/// pick the run's year when `--year` is not given (see `docs/DECISIONS.md`).
pub fn peek_year(file: &SourceFile) -> Option<i32> {
    peek_year_in(file, None)
}

fn peek_year_in(file: &SourceFile, bytes: Option<&[u8]>) -> Option<i32> {
    let mut column = None;
    let mut year = None;
    let mut header_seen = false;
    let _ = ingest::read_records_in(file, bytes, |_, record| {
        if !header_seen {
            header_seen = true;
            column = (0..record.len())
                .find(|&i| Column::from_header(record.get(i)) == Some(Column::CountYear));
            return column.is_some();
        }
        year = column.and_then(|i| record.get(i).parse::<i32>().ok());
        false
    });
    year
}

/// Validates one file, handing each accepted row to `sink`.
pub fn validate_file(
    file: &SourceFile,
    year: CountYear,
    sink: &mut dyn RowSink,
) -> Result<FileOutcome, FileError> {
    validate_source(file, None, year, sink)
}

/// [`validate_file`] for a file held in memory (an upload to the inbox, never written to
/// disk); `file` gives its name and kind.
pub fn validate_bytes(
    file: &SourceFile,
    bytes: &[u8],
    year: CountYear,
    sink: &mut dyn RowSink,
) -> Result<FileOutcome, FileError> {
    validate_source(file, Some(bytes), year, sink)
}

/// [`peek_year`] for a file held in memory.
pub fn peek_year_bytes(file: &SourceFile, bytes: &[u8]) -> Option<i32> {
    peek_year_in(file, Some(bytes))
}

fn validate_source(
    file: &SourceFile,
    bytes: Option<&[u8]>,
    year: CountYear,
    sink: &mut dyn RowSink,
) -> Result<FileOutcome, FileError> {
    let name: Arc<str> = Arc::from(file.name.as_str());
    let mut v = Validator {
        file,
        name: name.clone(),
        year,
        header: None,
        report: FileReport {
            file: file.name.clone(),
            ..FileReport::default()
        },
        problems: Vec::new(),
        row_problems: Vec::new(),
        row_owner: Owner::File,
    };
    let mut header_quote = None;
    let format = ingest::read_records_in(file, bytes, |line, record| {
        if v.header.is_none() {
            if !record.quoted_lines().is_empty() {
                // A column name never holds a line break: a quote in the header that runs
                // across lines is not closed, and the rows after it are not readable as rows.
                header_quote = Some(record.quote_opened());
                return false;
            }
            v.read_header(line, record);
        } else {
            v.row(line, record, sink);
        }
        true
    })?;
    if let Some(opened) = header_quote {
        return Err(FileError::Csv(format!(
            "a quote (\") in the header row, opened on line {opened}, is not closed before the line ends, so the rows after it cannot be read; close it or remove it and send the file again ({})",
            Rule::E015.code()
        )));
    }
    if !format.unread_sheets.is_empty() {
        // About the workbook as a whole: every unit of the file sees it.
        v.row_owner = Owner::File;
        let names = format
            .unread_sheets
            .iter()
            .map(|n| format!("{:?}", mask::mask_cpr(n)))
            .collect::<Vec<_>>()
            .join(", ");
        let p = v.problem(
            1,
            "",
            Rule::W014,
            "",
            msg!(
                format!("only the sheet with the header row was read; these sheets also hold values and were not read: {names}"),
                format!("kun arket med overskriftsrækken blev læst; disse ark har også værdier og blev ikke læst: {names}")
            ),
        );
        v.problems.push(p);
    }
    v.report.format = Some(format);
    if v.report.rows_read == 0 {
        let (en, da) = if v.header.is_none() {
            (
                "the file is empty: no header row and no rows",
                "filen er tom: ingen overskrift og ingen rækker",
            )
        } else {
            (
                "the file has a header row but no rows",
                "filen har en overskrift, men ingen rækker",
            )
        };
        let p = v.problem(1, "", Rule::W011, "", msg!(en, da));
        v.problems.push(p);
    }
    v.report.warnings = v.problems.iter().filter(|p| !p.code.is_error()).count() as u64;
    debug_assert_eq!(
        v.report.rows_read,
        v.report.rows_accepted + v.report.rows_rejected
    );
    Ok(FileOutcome {
        report: v.report,
        problems: v.problems,
    })
}

/// Unknown columns listed one by one; past this, one summary warning (a sheet with 10,000
/// columns must not bury the real problems).
const MAX_UNKNOWN_COLUMNS: usize = 10;

struct Header {
    width: usize,
    index: [Option<usize>; Column::ALL.len()],
    missing: Vec<Column>,
    /// The reason given for each missing column (same order).
    missing_hints: Vec<Msg>,
}

impl Header {
    fn get<'r>(&self, record: &Record<'r>, column: Column) -> &'r str {
        match self.index[column as usize] {
            Some(i) => record.get(i),
            None => "",
        }
    }
}

struct Validator<'f> {
    file: &'f SourceFile,
    name: Arc<str>,
    year: CountYear,
    header: Option<Header>,
    report: FileReport,
    problems: Vec<Problem>,
    /// Problems of the current row (reused).
    row_problems: Vec<Problem>,
    /// Whose the current row is (`File` while the header is read).
    row_owner: Owner,
}

impl Validator<'_> {
    fn read_header(&mut self, line: u64, record: &Record<'_>) {
        let mut index = [None; Column::ALL.len()];
        let mut unknown = 0usize;
        for i in 0..record.len() {
            let cell = record.get(i);
            match Column::from_header(cell) {
                Some(c) if index[c as usize].is_none() => index[c as usize] = Some(i),
                Some(c) => self.problems.push(self.problem(
                    line,
                    c.name(),
                    Rule::W002,
                    cell,
                    msg!(
                        format!(
                            "column {} appears more than once; column {} is used",
                            c.name(),
                            index[c as usize].unwrap_or(0) + 1
                        ),
                        format!(
                            "kolonnen {} findes flere gange; kolonne {} bruges",
                            c.name(),
                            index[c as usize].unwrap_or(0) + 1
                        )
                    ),
                )),
                None if unknown >= MAX_UNKNOWN_COLUMNS => unknown += 1,
                None => {
                    unknown += 1;
                    // Masked before it is quoted: `{:?}` would escape a separator
                    // (`\u{a0}`) and split the digits the mask looks for.
                    let shown = mask_cpr(cell);
                    let (hint, hint_da) = match suggest(cell, column_names()) {
                        Some(c) => (
                            format!("; did you mean {c:?}?"),
                            format!("; mente du {c:?}?"),
                        ),
                        None => (String::new(), String::new()),
                    };
                    self.problems.push(self.problem(
                        line,
                        cell,
                        Rule::W001,
                        cell,
                        msg!(
                            format!(
                                "column {shown:?} is not part of the format and is ignored{hint}"
                            ),
                            format!(
                                "kolonnen {shown:?} er ikke en del af formatet og ignoreres{hint_da}"
                            )
                        ),
                    ))
                }
            }
        }
        if unknown > MAX_UNKNOWN_COLUMNS {
            let more = unknown - MAX_UNKNOWN_COLUMNS;
            self.problems.push(self.problem(
                line,
                "",
                Rule::W001,
                "",
                msg!(
                    format!("… and {more} more unknown columns, ignored"),
                    format!("… og {more} ukendte kolonner mere, ignoreres")
                ),
            ));
        }
        let missing: Vec<Column> = Column::ALL
            .into_iter()
            .filter(|c| c.required() && index[*c as usize].is_none())
            .collect();
        // Why a column is missing, in the words a person needs: a typo, or a wrong delimiter.
        let mut missing_hints = Vec::new();
        for &c in &missing {
            let found = (0..record.len()).map(|i| record.get(i)).find(|cell| {
                Column::from_header(cell).is_none()
                    && suggest(cell, [c.name(), c.danish()]).is_some()
            });
            let mut hint = format!(
                "the file has no column {} (Danish: {})",
                c.name(),
                c.danish()
            );
            let mut hint_da = format!(
                "filen har ingen kolonne {} (engelsk: {})",
                c.danish(),
                c.name()
            );
            if let Some(found) = found.map(mask_cpr) {
                hint.push_str(&format!("; found {found:?} — a typo?"));
                hint_da.push_str(&format!("; fandt {found:?} — en stavefejl?"));
            } else if record.len() == 1 {
                let cell = record.get(0);
                let sep = if cell.contains('\t') {
                    "tabs"
                } else if cell.contains('|') {
                    "|"
                } else {
                    ""
                };
                if sep.is_empty() {
                    hint.push_str("; the header has only one column — is the delimiter ; or , ?");
                    hint_da.push_str(
                        "; overskriften har kun én kolonne — er skilletegnet ; eller , ?",
                    );
                } else {
                    hint.push_str(&format!(
                        "; the header has only one column and is separated by {sep} — save the file as CSV with ; or ,"
                    ));
                    hint_da.push_str(&format!(
                        "; overskriften har kun én kolonne og er adskilt af {sep} — gem filen som CSV med ; eller ,"
                    ));
                }
            }
            missing_hints.push(msg!(hint, hint_da));
        }
        self.header = Some(Header {
            width: record.len(),
            index,
            missing,
            missing_hints,
        });
    }

    /// Every problem is made here, and everything in it that came from the file is masked
    /// here: the value, the column (a header cell) and the reason (which may quote a value).
    fn problem(&self, line: u64, column: &str, code: Rule, value: &str, reason: Msg) -> Problem {
        Problem {
            file: self.name.clone(),
            line,
            column: mask_cpr(column).into_owned(),
            code,
            value: safe_value(value),
            reason: Msg {
                en: mask::mask_string(reason.en),
                da: mask::mask_string(reason.da),
            },
            owner: self.row_owner.clone(),
        }
    }

    fn error(&mut self, line: u64, column: Column, code: Rule, value: &str, reason: Msg) {
        let p = self.problem(line, column.name(), code, value, reason);
        self.row_problems.push(p);
    }

    fn row(&mut self, line: u64, record: &Record<'_>, sink: &mut dyn RowSink) {
        self.report.rows_read += 1;
        self.row_problems.clear();
        let header = self.header.take().expect("header is read first");
        let respondent = header.get(record, Column::RespondentId);
        // Most files have one unit: a row of the unit before it needs no new check.
        let same_unit = matches!(&self.row_owner, Owner::Unit(id) if **id == *respondent);
        self.row_owner = if same_unit {
            self.row_owner.clone()
        } else if usable_respondent_id(respondent) {
            if !self.report.respondent_ids.contains(respondent) {
                self.report.respondent_ids.insert(respondent.to_string());
                self.report
                    .units
                    .insert(respondent.to_string(), UnitRows::default());
            }
            Owner::Unit(Arc::from(respondent))
        } else {
            Owner::Unknown
        };
        if self.unclosed_quote(line, record, header.width) {
            self.header = Some(header);
            return;
        }
        let accepted = self.check_row(line, record, &header);
        self.header = Some(header);
        let unit = match &self.row_owner {
            Owner::Unit(id) => self.report.units.get_mut(&**id),
            _ => None,
        };
        match accepted {
            Some(row) => {
                self.report.rows_accepted += 1;
                if let Some(u) = unit {
                    u.rows_read += 1;
                    u.rows_accepted += 1;
                }
                sink.accept(self.file, &row);
            }
            None => {
                self.report.rows_rejected += 1;
                if let Some(u) = unit {
                    u.rows_read += 1;
                    u.rows_rejected += 1;
                }
            }
        }
        self.problems.append(&mut self.row_problems);
    }

    /// E015: a quoted field of this record runs across a line that would be a complete row on
    /// its own (as many delimiters as the header, and a value). That is a quote never closed,
    /// not a cell with a line break: the record and every row it swallowed are rejected, each
    /// at its own line, so that rows read = accepted + rejected counts the rows the submitter
    /// sees in Excel. Returns true when the record was handled so.
    fn unclosed_quote(&mut self, line: u64, record: &Record<'_>, width: usize) -> bool {
        let quoted = record.quoted_lines();
        if !quoted
            .iter()
            .any(|q| q.content && q.delimiters as usize + 1 >= width)
        {
            return false;
        }
        let opened = record.quote_opened();
        let swallowed: Vec<u64> = quoted
            .iter()
            .filter(|q| q.content)
            .map(|q| q.line)
            .collect();
        let n = swallowed.len();
        let (first, last) = (swallowed[0], swallowed[n - 1]);
        let p = self.problem(
            line,
            "",
            Rule::E015,
            "",
            msg!(
                format!(
                    "a quote (\") opened on line {opened} is not closed before the line ends; it swallowed {n} row(s) after it (lines {first}–{last}), rejected too"
                ),
                format!(
                    "et anførselstegn (\") åbnet på linje {opened} lukkes ikke, før linjen slutter; det har slugt {n} række(r) efter sig (linje {first}–{last}), som også afvises"
                )
            ),
        );
        self.problems.push(p);
        for l in swallowed {
            let p = self.problem(
                l,
                "",
                Rule::E015,
                "",
                msg!(
                    format!("swallowed by the quote (\") opened on line {opened}"),
                    format!("slugt af anførselstegnet (\") åbnet på linje {opened}")
                ),
            );
            self.problems.push(p);
        }
        self.report.rows_read += n as u64;
        self.report.rows_rejected += 1 + n as u64;
        // The swallowed rows are the opening row's unit's: it sees them in its feedback.
        if let Owner::Unit(id) = &self.row_owner
            && let Some(u) = self.report.units.get_mut(&**id)
        {
            u.rows_read += 1 + n as u64;
            u.rows_rejected += 1 + n as u64;
        }
        true
    }

    /// Checks one row; `Some` when it is accepted. Problems go to `row_problems`.
    fn check_row<'r>(
        &mut self,
        line: u64,
        record: &Record<'r>,
        header: &Header,
    ) -> Option<ValidRow<'r>> {
        if record.len() != header.width {
            let (rule, what, what_da) = if record.len() > header.width {
                (Rule::E013, "more", "flere")
            } else {
                (Rule::E014, "fewer", "færre")
            };
            let p = self.problem(
                line,
                "",
                rule,
                "",
                msg!(
                    format!(
                        "the row has {} fields, {what} than the {} columns of the header",
                        record.len(),
                        header.width
                    ),
                    format!(
                        "rækken har {} felter, {what_da} end overskriftens {} kolonner",
                        record.len(),
                        header.width
                    )
                ),
            );
            self.row_problems.push(p);
            return None;
        }
        for (&c, hint) in header.missing.iter().zip(&header.missing_hints) {
            self.error(line, c, Rule::E001, "", hint.clone());
        }
        let get = |c: Column| header.get(record, c);

        // Required columns.
        let count_year = match get(Column::CountYear) {
            "" if header.index[Column::CountYear as usize].is_some() => {
                self.required_empty(line, Column::CountYear);
                None
            }
            "" => None,
            v => match v.parse::<i32>() {
                Ok(y) if y == self.year.year => Some(y),
                Ok(y) => {
                    self.error(
                        line,
                        Column::CountYear,
                        Rule::E005,
                        v,
                        msg!(
                            format!("the row is for {y}, this count is {}", self.year.year),
                            format!("rækken er for {y}, denne tælling er {}", self.year.year)
                        ),
                    );
                    None
                }
                Err(_) => {
                    self.error(
                        line,
                        Column::CountYear,
                        Rule::E004,
                        v,
                        msg!("not a year", "ikke et årstal"),
                    );
                    None
                }
            },
        };
        // The row's unit, when `row` found its id usable (valid, not CPR-like).
        let usable = |v: &str| matches!(&self.row_owner, Owner::Unit(id) if **id == *v);
        let respondent_id = match get(Column::RespondentId) {
            "" => {
                self.required_empty_if_present(line, header, Column::RespondentId);
                None
            }
            v if usable(v) => Some(v),
            v if valid_respondent_id(v) && mask::has_cpr_like(v) => {
                self.error(
                    line,
                    Column::RespondentId,
                    Rule::E016,
                    v,
                    msg!(
                        "an id with a number of 9 or more digits may be a CPR number, and ids are shown in every output",
                        "et id med et tal på 9 cifre eller flere kan være et CPR-nummer, og id'er vises i alle output"
                    ),
                );
                None
            }
            v if valid_respondent_id(v) => Some(v),
            v => {
                self.error(
                    line,
                    Column::RespondentId,
                    Rule::E006,
                    v,
                    msg!(
                        "an id is 1–64 characters of A–Z a–z 0–9 . _ -",
                        "et id er 1–64 tegn blandt A–Z a–z 0–9 . _ -"
                    ),
                );
                None
            }
        };
        let respondent_type = self.required_code(
            line,
            header,
            Column::RespondentType,
            get(Column::RespondentType),
            &spec::RESPONDENT_TYPES,
        );
        let situation = self.required_code(
            line,
            header,
            Column::Situation,
            get(Column::Situation),
            &spec::SITUATIONS,
        );
        let municipality = match get(Column::Municipality) {
            "" => {
                self.required_empty_if_present(line, header, Column::Municipality);
                None
            }
            v => match parse_municipality(v) {
                Some(m) => Some(m),
                None => {
                    self.error(
                        line,
                        Column::Municipality,
                        Rule::E012,
                        v,
                        msg!(
                            "not one of the 98 municipality codes",
                            "ikke en af de 98 kommunekoder"
                        ),
                    );
                    None
                }
            },
        };

        // Identification: CPR number, else birth date + sex + initials.
        let cpr_text = get(Column::Cpr);
        let identity = if cpr_text.is_empty() {
            Identity::None
        } else {
            match cpr::parse(cpr_text) {
                Ok(c) => Identity::Cpr(c),
                Err(CprError::Format) => {
                    self.error(
                        line,
                        Column::Cpr,
                        Rule::E007,
                        &cpr::mask(cpr_text),
                        cpr_format_reason(cpr_text),
                    );
                    Identity::None
                }
                Err(CprError::Date) => {
                    self.error(
                        line,
                        Column::Cpr,
                        Rule::E008,
                        &cpr::mask(cpr_text),
                        msg!(
                            "the first six digits are not a real date (DDMMYY)",
                            "de første seks cifre er ikke en gyldig dato (DDMMÅÅ)"
                        ),
                    );
                    Identity::None
                }
            }
        };
        let birth_text = get(Column::BirthDate);
        let birth_column = if birth_text.is_empty() {
            None
        } else {
            match parse_date(birth_text) {
                Some(d) => Some(d),
                None => {
                    self.error(
                        line,
                        Column::BirthDate,
                        Rule::E009,
                        birth_text,
                        msg!(
                            "not a date in dd-mm-yyyy, dd.mm.yyyy, dd/mm/yyyy or yyyy-mm-dd",
                            "ikke en dato på formen dd-mm-åååå, dd.mm.åååå, dd/mm/åååå eller åååå-mm-dd"
                        ),
                    );
                    None
                }
            }
        };
        let sex_text = get(Column::Sex);
        let sex_column = if sex_text.is_empty() {
            None
        } else {
            match spec::sex(sex_text) {
                Some(s) => Some(s == "male"),
                None => {
                    self.warn(
                        line,
                        Column::Sex,
                        Rule::W005,
                        sex_text,
                        msg!(
                            "not m/mand/male or k/kvinde/f/female; treated as missing",
                            "ikke m/mand/male eller k/kvinde/f/female; behandles som manglende"
                        ),
                    );
                    None
                }
            }
        };
        let (birth_date, male) = match &identity {
            Identity::Cpr(Cpr::Person {
                birth_date, male, ..
            }) => {
                if let Some(b) = birth_column.filter(|b| b != birth_date) {
                    self.warn(
                        line,
                        Column::BirthDate,
                        Rule::W003,
                        birth_text,
                        msg!(
                            format!(
                                "birth_date {} disagrees with the CPR number; the CPR number's date is used",
                                b.format("%d-%m-%Y")
                            ),
                            format!(
                                "fødselsdato {} passer ikke med CPR-nummeret; CPR-nummerets dato bruges",
                                b.format("%d-%m-%Y")
                            )
                        ),
                    );
                }
                if sex_column.is_some_and(|m| m != *male) {
                    self.warn(
                        line,
                        Column::Sex,
                        Rule::W004,
                        sex_text,
                        msg!(
                            "sex disagrees with the CPR number; the CPR number's sex is used",
                            "køn passer ikke med CPR-nummeret; CPR-nummerets køn bruges"
                        ),
                    );
                }
                (Some(*birth_date), Some(*male))
            }
            _ => (birth_column, sex_column),
        };
        if let Some(b) = birth_date {
            let column = if matches!(identity, Identity::Cpr(Cpr::Person { .. })) {
                Column::Cpr
            } else {
                Column::BirthDate
            };
            // Made only for a problem: masking a CPR number on every row cost a tenth of
            // the intake's time.
            let shown = || {
                if column == Column::Cpr {
                    cpr::mask(cpr_text)
                } else {
                    birth_text.to_string()
                }
            };
            if b > self.year.date {
                self.error(
                    line,
                    column,
                    Rule::E010,
                    &shown(),
                    msg!(
                        format!(
                            "born {}, after the count date {}",
                            b.format("%d-%m-%Y"),
                            self.year.date.format("%d-%m-%Y")
                        ),
                        format!(
                            "født {}, efter tælledatoen {}",
                            b.format("%d-%m-%Y"),
                            self.year.date.format("%d-%m-%Y")
                        )
                    ),
                );
            } else if spec::age_on(b, self.year.date) > 110 {
                self.error(
                    line,
                    column,
                    Rule::E011,
                    &shown(),
                    msg!(
                        format!(
                            "born {}: {} years old on the count date",
                            b.format("%d-%m-%Y"),
                            spec::age_on(b, self.year.date)
                        ),
                        format!(
                            "født {}: {} år på tælledatoen",
                            b.format("%d-%m-%Y"),
                            spec::age_on(b, self.year.date)
                        )
                    ),
                );
            }
        }
        let initials_text = get(Column::Initials);
        let initials = if initials_text.is_empty() {
            None
        } else {
            match normalise_initials(initials_text) {
                Some(i) => Some(i),
                None => {
                    self.warn(
                        line,
                        Column::Initials,
                        Rule::W006,
                        initials_text,
                        msg!(
                            "initials are 2–4 letters (dots and spaces are ignored); treated as missing",
                            "initialer er 2–4 bogstaver (punktum og mellemrum ignoreres); behandles som manglende"
                        ),
                    );
                    None
                }
            }
        };

        // Optional columns: an invalid value becomes unknown, with a warning.
        let residence = self
            .optional_code(
                line,
                Column::Residence,
                get(Column::Residence),
                &spec::RESIDENCE,
            )
            .unwrap_or("permanent");
        let duration = self.optional_code(
            line,
            Column::Duration,
            get(Column::Duration),
            &spec::DURATIONS,
        );
        let mental_illness =
            self.optional_yes_no(line, Column::MentalIllness, get(Column::MentalIllness));
        let housing_queue =
            self.optional_yes_no(line, Column::HousingQueue, get(Column::HousingQueue));
        let action_plan = self.optional_yes_no(line, Column::ActionPlan, get(Column::ActionPlan));
        let income = self.optional_code(line, Column::Income, get(Column::Income), &spec::INCOMES);
        let substance_abuse = self.optional_list(
            line,
            Column::SubstanceAbuse,
            get(Column::SubstanceAbuse),
            &spec::SUBSTANCES,
        );
        let support =
            self.optional_list(line, Column::Support, get(Column::Support), &spec::SUPPORTS);
        let children = match get(Column::Children) {
            "" => None,
            v => match v.parse::<i32>() {
                Ok(n) if (0..=20).contains(&n) => Some(n),
                _ => {
                    self.warn(
                        line,
                        Column::Children,
                        Rule::W008,
                        v,
                        msg!(
                            "not a whole number from 0 to 20; treated as unknown",
                            "ikke et helt tal fra 0 til 20; behandles som uoplyst"
                        ),
                    );
                    None
                }
            },
        };
        let home_municipality = match get(Column::HomeMunicipality) {
            "" => None,
            v => match parse_municipality(v) {
                Some(m) => Some(m),
                None => {
                    self.warn(
                        line,
                        Column::HomeMunicipality,
                        Rule::W009,
                        v,
                        msg!(
                            "not one of the 98 municipality codes; treated as unknown",
                            "ikke en af de 98 kommunekoder; behandles som uoplyst"
                        ),
                    );
                    None
                }
            },
        };
        let form = self.person_form(line, &get, mental_illness, substance_abuse.as_deref());

        if self.row_problems.iter().any(|p| p.code.is_error()) {
            return None;
        }
        let row = ValidRow {
            line,
            count_year: count_year?,
            respondent_id: respondent_id?,
            respondent_type: respondent_type?,
            identity,
            birth_date,
            male,
            initials,
            age: birth_date.map(|b| spec::age_on(b, self.year.date)),
            municipality: municipality?,
            home_municipality,
            situation: situation?,
            residence,
            duration,
            mental_illness,
            substance_abuse,
            income,
            children,
            support,
            housing_queue,
            action_plan,
            form,
        };
        if row.identity == Identity::None && row.alt_parts().is_none() {
            let reason = unidentified_reason(
                row.birth_date.is_none(),
                row.male.is_none(),
                row.initials.is_none(),
            );
            self.warn(line, Column::Cpr, Rule::W010, "", reason);
        }
        Some(row)
    }

    fn warn(&mut self, line: u64, column: Column, code: Rule, value: &str, reason: Msg) {
        self.error(line, column, code, value, reason);
    }

    fn required_empty(&mut self, line: u64, column: Column) {
        self.error(
            line,
            column,
            Rule::E002,
            "",
            msg!(
                format!("{} is required", column.name()),
                format!("{} skal udfyldes", column.danish())
            ),
        );
    }

    /// An empty required value is E002, unless the whole column is missing (E001 says so).
    fn required_empty_if_present(&mut self, line: u64, header: &Header, column: Column) {
        if header.index[column as usize].is_some() {
            self.required_empty(line, column);
        }
    }

    fn required_code(
        &mut self,
        line: u64,
        header: &Header,
        column: Column,
        value: &str,
        list: &'static [spec::Code],
    ) -> Option<&'static str> {
        if value.is_empty() {
            self.required_empty_if_present(line, header, column);
            return None;
        }
        match spec::find_code(list, value) {
            Some(c) => Some(c.code),
            None => {
                self.error(
                    line,
                    column,
                    Rule::E003,
                    value,
                    msg!(
                        format!(
                            "not a {} code{}",
                            column.name(),
                            did_you_mean(value, list, false)
                        ),
                        format!(
                            "ikke en gyldig kode for {}{}",
                            column.danish(),
                            did_you_mean(value, list, true)
                        )
                    ),
                );
                None
            }
        }
    }

    fn optional_code(
        &mut self,
        line: u64,
        column: Column,
        value: &str,
        list: &'static [spec::Code],
    ) -> Option<&'static str> {
        if value.is_empty() {
            return None;
        }
        let found = spec::find_code(list, value)
            .map(|c| c.code)
            .or_else(|| value.eq_ignore_ascii_case("uoplyst").then_some("unknown"));
        match found {
            Some(c) => Some(c),
            None => {
                self.warn(
                    line,
                    column,
                    Rule::W007,
                    value,
                    msg!(
                        format!(
                            "not a {} code{}; treated as unknown",
                            column.name(),
                            did_you_mean(value, list, false)
                        ),
                        format!(
                            "ikke en gyldig kode for {}{}; behandles som uoplyst",
                            column.danish(),
                            did_you_mean(value, list, true)
                        )
                    ),
                );
                Some("unknown")
            }
        }
    }

    fn optional_yes_no(&mut self, line: u64, column: Column, value: &str) -> Option<&'static str> {
        if value.is_empty() {
            return None;
        }
        match spec::yes_no(value) {
            Some(v) => Some(v),
            None => {
                self.warn(
                    line,
                    column,
                    Rule::W007,
                    value,
                    msg!(
                        format!(
                            "{} is yes/ja, no/nej or unknown/uoplyst; treated as unknown",
                            column.name()
                        ),
                        format!(
                            "{} skal være ja/yes, nej/no eller uoplyst/unknown; behandles som uoplyst",
                            column.danish()
                        )
                    ),
                );
                Some("unknown")
            }
        }
    }

    /// A `|`-separated list of named items, or `none`, or `unknown`; canonical form: the items
    /// in the order of the format, without repeats.
    fn optional_list(
        &mut self,
        line: u64,
        column: Column,
        value: &str,
        list: &'static [spec::Code],
    ) -> Option<String> {
        if value.is_empty() {
            return None;
        }
        match canonical_list(value, list) {
            Some(v) => Some(v),
            None => {
                self.warn(
                    line,
                    column,
                    Rule::W007,
                    value,
                    msg!(
                        format!(
                            "{} is a list separated by | of {}, or none, or unknown; treated as unknown",
                            column.name(),
                            list.iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
                        ),
                        format!(
                            "{} er en liste adskilt af | med {}, eller none eller unknown; behandles som uoplyst",
                            column.danish(),
                            list.iter().map(|c| c.code).collect::<Vec<_>>().join(", ")
                        )
                    ),
                );
                Some("unknown".to_string())
            }
        }
    }
}

/// The longest value (in bytes) that "did you mean" looks at: every code, label word and
/// column name is far shorter, and the edit distance costs the value's length times the
/// candidate's (a 29 MB value took 29 s). Longer values get no suggestion.
pub const MAX_SUGGEST_BYTES: usize = 256;

/// The closest candidate within edit distance 2 (for "did you mean …?").
pub fn suggest<'c>(value: &str, candidates: impl IntoIterator<Item = &'c str>) -> Option<&'c str> {
    if value.len() > MAX_SUGGEST_BYTES {
        return None;
    }
    let value = value.to_lowercase();
    let len = value.chars().count();
    candidates
        .into_iter()
        // Lengths more than 2 apart are more than 2 edits apart: not worth computing.
        .filter(|c| c.chars().count().abs_diff(len) <= 2)
        .map(|c| (edit_distance(&value, c), c))
        .filter(|(d, c)| *d <= 2 && *d < c.chars().count())
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

fn did_you_mean(value: &str, list: &'static [spec::Code], danish: bool) -> String {
    if value.len() > MAX_SUGGEST_BYTES {
        return String::new();
    }
    // A typo of a code, else a Danish word of a code's label ("herberg" → shelter).
    let by_label = || {
        let v = value.to_lowercase();
        list.iter()
            .find(|c| {
                c.label_da
                    .to_lowercase()
                    .split(|ch: char| !ch.is_alphabetic())
                    .any(|w| w.len() >= 4 && w == v)
            })
            .map(|c| c.code)
    };
    match suggest(value, list.iter().map(|c| c.code)).or_else(by_label) {
        Some(c) if danish => format!("; mente du {c:?}?"),
        Some(c) => format!("; did you mean {c:?}?"),
        None => String::new(),
    }
}

fn canonical_list(value: &str, list: &'static [spec::Code]) -> Option<String> {
    // Lists are read on most rows: no lower-case copy when there is nothing to lower, and
    // the items found kept as bits, not in vectors (a fifth of the intake's time before).
    let lower: std::borrow::Cow<str> =
        if value.is_ascii() && !value.bytes().any(|b| b.is_ascii_uppercase()) {
            value.into()
        } else {
            value.to_lowercase().into()
        };
    if !lower.contains('|') {
        match lower.trim() {
            "none" | "ingen" => return Some("none".into()),
            "unknown" | "uoplyst" => return Some("unknown".into()),
            _ => {}
        }
    }
    debug_assert!(list.len() <= 64, "a list of more than 64 codes");
    let mut seen = 0u64;
    for item in lower.split('|').map(str::trim) {
        let i = list.iter().position(|c| c.code == item)?;
        seen |= 1 << i;
    }
    let mut out = String::with_capacity(lower.len());
    for (i, c) in list.iter().enumerate() {
        if seen & (1 << i) != 0 {
            if !out.is_empty() {
                out.push('|');
            }
            out.push_str(c.code);
        }
    }
    Some(out)
}

fn column_names() -> impl Iterator<Item = &'static str> {
    Column::ALL.into_iter().flat_map(|c| [c.name(), c.danish()])
}

/// A respondent_id that may name a unit in the outputs: valid, and not CPR-like (`E016`).
fn usable_respondent_id(v: &str) -> bool {
    valid_respondent_id(v) && !mask::has_cpr_like(v)
}

fn valid_respondent_id(v: &str) -> bool {
    (1..=64).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// A municipality code: three digits, one of the 98. Excel may have written `101.0`.
pub fn parse_municipality(v: &str) -> Option<u16> {
    let v = v.strip_suffix(".0").unwrap_or(v);
    if v.len() != 3 || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code: u16 = v.parse().ok()?;
    spec::municipality_index()[code as usize].then_some(code)
}

/// `dd-mm-yyyy`, `dd.mm.yyyy`, `dd/mm/yyyy` or `yyyy-mm-dd`; one-digit day and month accepted.
pub fn parse_date(v: &str) -> Option<NaiveDate> {
    let b = v.as_bytes();
    if b.len() == 10 && b[4] == b'-' && b[7] == b'-' {
        let y = v[..4].parse().ok()?;
        let m = v[5..7].parse().ok()?;
        let d = v[8..10].parse().ok()?;
        if !v[..4]
            .bytes()
            .chain(v[5..7].bytes())
            .chain(v[8..].bytes())
            .all(|c| c.is_ascii_digit())
        {
            return None;
        }
        return NaiveDate::from_ymd_opt(y, m, d);
    }
    let sep = b
        .iter()
        .copied()
        .find(|c| matches!(c, b'-' | b'.' | b'/'))?;
    let mut parts = v.split(sep as char);
    let (d, m, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some()
        || !(1..=2).contains(&d.len())
        || !(1..=2).contains(&m.len())
        || y.len() != 4
        || !d
            .bytes()
            .chain(m.bytes())
            .chain(y.bytes())
            .all(|c| c.is_ascii_digit())
    {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
}

/// 2–4 letters once dots and spaces are removed; upper-cased.
pub fn normalise_initials(v: &str) -> Option<String> {
    let letters: String = v
        .chars()
        .filter(|c| *c != '.' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect();
    let n = letters.chars().count();
    ((2..=4).contains(&n) && letters.chars().all(char::is_alphabetic)).then_some(letters)
}

fn cpr_format_reason(v: &str) -> Msg {
    let digits = v.bytes().filter(u8::is_ascii_digit).count();
    if digits == 9 && v.bytes().all(|b| b.is_ascii_digit()) {
        msg!(
            "9 digits: a leading 0 is probably missing (Excel drops it when the column is a number)",
            "9 cifre: der mangler sandsynligvis et 0 forrest (Excel fjerner det, når kolonnen er et tal)"
        )
    } else {
        msg!(
            format!(
                "{} characters; a CPR number is DDMMYY-SSSS or DDMMYYSSSS",
                v.chars().count()
            ),
            format!(
                "{} tegn; et CPR-nummer skrives DDMMÅÅ-SSSS eller DDMMÅÅSSSS",
                v.chars().count()
            )
        )
    }
}

/// Makes a value safe to show in any output: CPR-like digits masked ([`mask::mask_cpr`]),
/// then cut at 80 characters (masked first, so that a cut cannot leave digits unmasked).
pub fn safe_value(v: &str) -> String {
    const MAX: usize = 80;
    let masked = mask_cpr(v);
    if masked.chars().count() <= MAX {
        return masked.into_owned();
    }
    let mut out: String = masked.chars().take(MAX).collect();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// W010's texts name what is missing, in each language, and are shared, not copied.
    #[test]
    fn unidentified_reasons_name_what_is_missing_and_are_shared() {
        let one = unidentified_reason(true, false, true);
        assert!(
            one.en
                .starts_with("no CPR number and no birth_date, initials: "),
            "{}",
            one.en
        );
        assert!(
            one.da.starts_with("intet CPR-nummer og ingen "),
            "{}",
            one.da
        );
        assert!(!one.da.contains("birth_date"), "{}", one.da);
        let all = unidentified_reason(true, true, true);
        assert!(
            all.en.contains("no birth_date, sex, initials:"),
            "{}",
            all.en
        );
        let again = unidentified_reason(true, false, true);
        assert!(
            matches!((&one.en, &again.en), (Cow::Borrowed(a), Cow::Borrowed(b)) if std::ptr::eq(*a, *b))
        );
        // Masking leaves a text without CPR-like digits as it is: still shared.
        assert!(matches!(
            mask::mask_string(one.en.clone()),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn dates() {
        let d = |y, m, dd| NaiveDate::from_ymd_opt(y, m, dd);
        assert_eq!(parse_date("07-02-2024"), d(2024, 2, 7));
        assert_eq!(parse_date("7.2.2024"), d(2024, 2, 7));
        assert_eq!(parse_date("07/02/2024"), d(2024, 2, 7));
        assert_eq!(parse_date("2024-02-07"), d(2024, 2, 7));
        assert_eq!(parse_date("31-02-2024"), None);
        assert_eq!(parse_date("2024/02/07"), None);
        assert_eq!(parse_date("07-02-24"), None);
        assert_eq!(parse_date("soon"), None);
        assert_eq!(parse_date("+7-02-2024"), None);
    }

    #[test]
    fn initials() {
        assert_eq!(normalise_initials("J.P.H."), Some("JPH".into()));
        assert_eq!(normalise_initials("æ ø"), Some("ÆØ".into()));
        assert_eq!(normalise_initials("J"), None);
        assert_eq!(normalise_initials("ABCDE"), None);
        assert_eq!(normalise_initials("J5"), None);
    }

    #[test]
    fn suggestions() {
        let codes = spec::SITUATIONS.iter().map(|c| c.code);
        assert_eq!(suggest("homless", codes.clone()), None);
        assert_eq!(suggest("Shelterr", codes.clone()), Some("shelter"));
        assert_eq!(
            suggest("rough_sleping", codes.clone()),
            Some("rough_sleeping")
        );
        assert_eq!(suggest("situatoin", column_names()), Some("situation"));
        assert_eq!(suggest("xyz", column_names()), None);
        assert!(did_you_mean("Herberg", &spec::RESPONDENT_TYPES, false).contains("\"shelter\""));
        assert!(did_you_mean("gadesovende", &spec::SITUATIONS, true).contains("rough_sleeping"));
        assert_eq!(did_you_mean("zzz", &spec::SITUATIONS, false), "");
    }

    #[test]
    fn no_suggestion_is_computed_for_a_huge_value() {
        let codes = || spec::SITUATIONS.iter().map(|c| c.code);
        assert_eq!(suggest("shelterr", codes()), Some("shelter"));
        // Past the cap nothing is computed, however close the value's start is.
        let huge = "shelterr".repeat(4 << 20);
        assert_eq!(suggest(&huge, codes()), None);
        assert_eq!(did_you_mean(&huge, &spec::SITUATIONS, false), "");
        // Lengths more than 2 apart are never within 2 edits.
        assert_eq!(suggest("shelterrrr", codes()), None);
    }

    #[test]
    fn lists() {
        let s = &spec::SUBSTANCES;
        assert_eq!(
            canonical_list("Hard_drugs|alcohol|alcohol", s),
            Some("alcohol|hard_drugs".into())
        );
        assert_eq!(canonical_list("none", s), Some("none".into()));
        assert_eq!(canonical_list("none|alcohol", s), None);
        assert_eq!(canonical_list("beer", s), None);
        // Already canonical (read without a lower-case copy), spaced, Danish, empty items.
        assert_eq!(
            canonical_list("hard_drugs | alcohol", s),
            Some("alcohol|hard_drugs".into())
        );
        assert_eq!(canonical_list(" Ingen ", s), Some("none".into()));
        assert_eq!(canonical_list("UOPLYST", s), Some("unknown".into()));
        assert_eq!(canonical_list("alcohol|", s), None);
        assert_eq!(canonical_list("|", s), None);
        // Not ASCII: lower-cased as Unicode, and still no code.
        assert_eq!(canonical_list("ALKOHOL|Ø", s), None);
    }

    #[test]
    fn municipalities() {
        assert_eq!(parse_municipality("101"), Some(101));
        assert_eq!(parse_municipality("101.0"), Some(101));
        assert_eq!(parse_municipality("999"), None);
        assert_eq!(parse_municipality("0101"), None);
    }

    #[test]
    fn cpr_like_values_are_masked() {
        assert_eq!(safe_value("0101801234"), "010180-****");
        assert_eq!(safe_value("x 010180-1234 y"), "x 010180-**** y");
        assert_eq!(safe_value("010180-1AB2"), "010180-****");
        assert_eq!(safe_value("101801234"), "******-****");
        assert_eq!(safe_value("12345678901"), "******-****");
        assert_eq!(safe_value("010180 1234"), "010180-****");
        assert_eq!(safe_value("x0101801234"), "x010180-****");
        // A cut after the mask: no digits of the serial number at the end.
        let long = format!("{}0101801234", "x".repeat(75));
        assert_eq!(safe_value(&long), format!("{}01018…", "x".repeat(75)));
        assert_eq!(safe_value("2024"), "2024");
        assert!(safe_value(&"x".repeat(10_000)).chars().count() <= 81);
    }
}
