//! The vocabulary of the submission format (`../shared/spec/submission-format.md`) and of the
//! categories (`categories.md`): column names and their Danish aliases, code lists, the count
//! date. Validation (Rust) and the SQL under `queries/` both depend on these lists; a test
//! checks that the precedence order in `queries/` agrees with [`SITUATIONS`].

use chrono::{Datelike, NaiveDate, Weekday};

/// The version of `../shared/spec/` this build implements (recorded in `run.json`). Every
/// file of an earlier format version is a valid file of this one.
pub const SPEC_VERSION: u32 = 2;

/// A column of the submission format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Column {
    CountYear,
    RespondentId,
    RespondentType,
    Cpr,
    BirthDate,
    Sex,
    Initials,
    Municipality,
    HomeMunicipality,
    Situation,
    Residence,
    Duration,
    MentalIllness,
    SubstanceAbuse,
    Income,
    Children,
    Support,
    HousingQueue,
    ActionPlan,
    // Format version 2: the rest of the person form (all optional).
    Background,
    Citizenship,
    PhysicalIllness,
    MentalIllnessTreated,
    SubstanceTreated,
    Causes,
}

impl Column {
    /// Every column, in the order of the format spec (also the template's order).
    pub const ALL: [Column; 25] = [
        Column::CountYear,
        Column::RespondentId,
        Column::RespondentType,
        Column::Cpr,
        Column::BirthDate,
        Column::Sex,
        Column::Initials,
        Column::Municipality,
        Column::HomeMunicipality,
        Column::Situation,
        Column::Residence,
        Column::Duration,
        Column::MentalIllness,
        Column::SubstanceAbuse,
        Column::Income,
        Column::Children,
        Column::Support,
        Column::HousingQueue,
        Column::ActionPlan,
        Column::Background,
        Column::Citizenship,
        Column::PhysicalIllness,
        Column::MentalIllnessTreated,
        Column::SubstanceTreated,
        Column::Causes,
    ];

    /// The columns of format version 1 (the first 19 of [`Column::ALL`]).
    pub const V1: [Column; 19] = [
        Column::CountYear,
        Column::RespondentId,
        Column::RespondentType,
        Column::Cpr,
        Column::BirthDate,
        Column::Sex,
        Column::Initials,
        Column::Municipality,
        Column::HomeMunicipality,
        Column::Situation,
        Column::Residence,
        Column::Duration,
        Column::MentalIllness,
        Column::SubstanceAbuse,
        Column::Income,
        Column::Children,
        Column::Support,
        Column::HousingQueue,
        Column::ActionPlan,
    ];

    /// The format version that introduced the column (1 or 2).
    pub fn version(self) -> u8 {
        if Column::V1.contains(&self) { 1 } else { 2 }
    }

    pub fn name(self) -> &'static str {
        match self {
            Column::CountYear => "count_year",
            Column::RespondentId => "respondent_id",
            Column::RespondentType => "respondent_type",
            Column::Cpr => "cpr",
            Column::BirthDate => "birth_date",
            Column::Sex => "sex",
            Column::Initials => "initials",
            Column::Municipality => "municipality",
            Column::HomeMunicipality => "home_municipality",
            Column::Situation => "situation",
            Column::Residence => "residence",
            Column::Duration => "duration",
            Column::MentalIllness => "mental_illness",
            Column::SubstanceAbuse => "substance_abuse",
            Column::Income => "income",
            Column::Children => "children",
            Column::Support => "support",
            Column::HousingQueue => "housing_queue",
            Column::ActionPlan => "action_plan",
            Column::Background => "background",
            Column::Citizenship => "citizenship",
            Column::PhysicalIllness => "physical_illness",
            Column::MentalIllnessTreated => "mental_illness_treated",
            Column::SubstanceTreated => "substance_treated",
            Column::Causes => "causes",
        }
    }

    pub fn danish(self) -> &'static str {
        match self {
            Column::CountYear => "taelleaar",
            Column::RespondentId => "respondent",
            Column::RespondentType => "respondenttype",
            Column::Cpr => "cpr",
            Column::BirthDate => "foedselsdato",
            Column::Sex => "koen",
            Column::Initials => "initialer",
            Column::Municipality => "kommune",
            Column::HomeMunicipality => "hjemkommune",
            Column::Situation => "situation",
            Column::Residence => "opholdsgrundlag",
            Column::Duration => "varighed",
            Column::MentalIllness => "psykisk_sygdom",
            Column::SubstanceAbuse => "misbrug",
            Column::Income => "indkomst",
            Column::Children => "boern",
            Column::Support => "bostoette",
            Column::HousingQueue => "skrevet_op",
            Column::ActionPlan => "handleplan",
            Column::Background => "herkomst",
            Column::Citizenship => "statsborgerskab",
            Column::PhysicalIllness => "fysisk_sygdom",
            Column::MentalIllnessTreated => "psykisk_behandling",
            Column::SubstanceTreated => "misbrugsbehandling",
            Column::Causes => "aarsager",
        }
    }

    pub fn required(self) -> bool {
        matches!(
            self,
            Column::CountYear
                | Column::RespondentId
                | Column::RespondentType
                | Column::Municipality
                | Column::Situation
        )
    }

    /// Matches a header cell: case-insensitive after trimming, English name or Danish alias.
    /// `æ ø å` spelled out (`taelleaar`) is the alias; the Danish letters are accepted too.
    pub fn from_header(cell: &str) -> Option<Column> {
        let h = cell.trim().to_lowercase();
        let h = h.replace('æ', "ae").replace('ø', "oe").replace('å', "aa");
        Column::ALL
            .into_iter()
            .find(|c| c.name() == h || c.danish() == h)
    }
}

/// A code with its Danish label (for reports, templates and messages).
#[derive(Debug, Clone, Copy)]
pub struct Code {
    pub code: &'static str,
    pub label_da: &'static str,
    pub label_en: &'static str,
}

impl Code {
    /// The label a person reads: Danish, or English.
    pub fn label(&self, da: bool) -> &'static str {
        if da { self.label_da } else { self.label_en }
    }
}

const fn code(code: &'static str, label_da: &'static str, label_en: &'static str) -> Code {
    Code {
        code,
        label_da,
        label_en,
    }
}

/// The homelessness situations in precedence order (rank = index + 1), then `not_homeless`.
pub const SITUATIONS: [Code; 13] = [
    code("rough_sleeping", "Gadesovende", "Rough sleeping"),
    code(
        "night_shelter",
        "Natvarmestue / nødovernatning",
        "Night shelter",
    ),
    code(
        "shelter",
        "Forsorgshjem / herberg",
        "Shelter or hostel (§110)",
    ),
    code(
        "hotel",
        "Hotel, vandrehjem, camping",
        "Hotel, hostel, camp site",
    ),
    code(
        "family_friends",
        "Midlertidigt hos familie/venner",
        "Temporarily with family/friends",
    ),
    code(
        "transitional",
        "Midlertidig udslusningsbolig",
        "Transitional housing",
    ),
    code(
        "makeshift",
        "Kolonihave, campingvogn, nødbolig",
        "Allotment hut, caravan, makeshift",
    ),
    code(
        "prison_release",
        "Afventer løsladelse",
        "Awaiting release from prison",
    ),
    code(
        "hospital_discharge",
        "Afventer udskrivning",
        "Awaiting discharge from hospital",
    ),
    code(
        "functional",
        "Funktionel hjemløshed",
        "Functional homelessness",
    ),
    code("other", "Andet", "Other"),
    code("unknown", "Uoplyst", "Not stated"),
    code("not_homeless", "Ikke hjemløs", "Not homeless"),
];

pub const RESPONDENT_TYPES: [Code; 11] = [
    code("shelter", "Forsorgshjem/herberg (§110)", "Shelter (§110)"),
    code(
        "night_shelter",
        "Natvarmestue, nødovernatning",
        "Night shelter",
    ),
    code("drop_in", "Værested", "Drop-in centre"),
    code("outreach", "Opsøgende team", "Outreach team"),
    code("hospital", "Hospital (somatisk)", "Hospital (somatic)"),
    code("psychiatry", "Psykiatri", "Psychiatry"),
    code("treatment", "Misbrugsbehandling", "Addiction treatment"),
    code(
        "prison_probation",
        "Kriminalforsorgen",
        "Prison and probation",
    ),
    code(
        "municipality",
        "Kommune, jobcenter, borgerservice",
        "Municipality, jobcentre",
    ),
    code("housing", "Boligsocial indsats", "Social housing work"),
    code("other", "Andet", "Other"),
];

pub const RESIDENCE: [Code; 3] = [
    code("permanent", "Fast ophold", "Permanent residence"),
    code("no_permanent", "Uden fast ophold", "No permanent residence"),
    code("unknown", "Uoplyst", "Not stated"),
];

pub const DURATIONS: [Code; 6] = [
    code("lt3m", "Under 3 måneder", "Less than 3 months"),
    code("3to6m", "3-6 måneder", "3-6 months"),
    code("6to12m", "6-12 måneder", "6-12 months"),
    code("1to2y", "1-2 år", "1-2 years"),
    code("gt2y", "Over 2 år", "More than 2 years"),
    code("unknown", "Uoplyst", "Not stated"),
];

pub const YES_NO: [Code; 3] = [
    code("yes", "Ja", "Yes"),
    code("no", "Nej", "No"),
    code("unknown", "Uoplyst", "Not stated"),
];

/// Named substances (the list column also takes `none` and `unknown`).
pub const SUBSTANCES: [Code; 5] = [
    code("alcohol", "Alkohol", "Alcohol"),
    code("cannabis", "Hash", "Cannabis"),
    code("hard_drugs", "Hårde stoffer", "Hard drugs"),
    code("medication", "Medicin", "Medication"),
    code("other", "Andet", "Other"),
];

pub const SUPPORTS: [Code; 5] = [
    code("act", "ACT-indsats", "ACT"),
    code("icm", "ICM-indsats", "ICM"),
    code("cti", "CTI-indsats", "CTI"),
    code("social_caretaker", "Social vicevært", "Social caretaker"),
    code("other", "Anden støtte", "Other support"),
];

pub const INCOMES: [Code; 10] = [
    code("cash_benefit", "Kontanthjælp", "Cash benefit"),
    code("disability_pension", "Førtidspension", "Disability pension"),
    code("old_age_pension", "Folkepension", "Old-age pension"),
    code("unemployment", "Dagpenge", "Unemployment benefit"),
    code("sickness", "Sygedagpenge", "Sickness benefit"),
    code("education", "SU / uddannelse", "Education grant"),
    code("wages", "Løn", "Wages"),
    code("none", "Ingen indkomst", "No income"),
    code("other", "Anden indkomst", "Other"),
    code("unknown", "Uoplyst", "Not stated"),
];

/// Format version 2: the person's background (herkomst). Danish aliases: [`background`].
pub const BACKGROUNDS: [Code; 4] = [
    code("danish", "Dansk oprindelse", "Danish origin"),
    code("immigrant", "Indvandrer", "Immigrant"),
    code("descendant", "Efterkommer", "Descendant of immigrants"),
    code("unknown", "Uoplyst", "Not stated"),
];

/// Format version 2: citizenship (statsborgerskab). Danish aliases: [`citizenship`].
pub const CITIZENSHIPS: [Code; 4] = [
    code("danish", "Dansk", "Danish"),
    code("eu_eea", "Andet EU/EØS-land", "Another EU/EEA country"),
    code("other", "Andet land", "Another country"),
    code("unknown", "Uoplyst", "Not stated"),
];

/// Format version 2: the named causes of homelessness (the list column also takes `unknown`).
pub const CAUSES: [Code; 10] = [
    code("mental_illness", "Psykisk sygdom", "Mental illness"),
    code("drugs", "Stofmisbrug", "Drug abuse"),
    code("alcohol", "Alkoholmisbrug", "Alcohol abuse"),
    code("economy", "Økonomi", "Economy"),
    code(
        "no_suitable_housing",
        "Mangel på egnet bolig",
        "No suitable housing",
    ),
    code("eviction", "Udsættelse", "Eviction"),
    code(
        "family_friends_end",
        "Kan ikke længere bo hos familie/venner",
        "Can no longer stay with family or friends",
    ),
    code(
        "relationship_breakdown",
        "Samlivsophør",
        "Relationship breakdown",
    ),
    code(
        "released_institution",
        "Udskrevet/løsladt uden bolig",
        "Released from an institution without a home",
    ),
    code("other", "Andet", "Other"),
];

/// `danish`/`dansk`, `immigrant`/`indvandrer`, `descendant`/`efterkommer`,
/// `unknown`/`uoplyst` (any case) → the canonical code.
pub fn background(value: &str) -> Option<&'static str> {
    one_of(
        value,
        &[
            ("danish", "danish"),
            ("dansk", "danish"),
            ("immigrant", "immigrant"),
            ("indvandrer", "immigrant"),
            ("descendant", "descendant"),
            ("efterkommer", "descendant"),
            ("unknown", "unknown"),
            ("uoplyst", "unknown"),
        ],
    )
}

/// `danish`/`dansk`, `eu_eea`, `other`/`andet`, `unknown`/`uoplyst` (any case) → the code.
pub fn citizenship(value: &str) -> Option<&'static str> {
    one_of(
        value,
        &[
            ("danish", "danish"),
            ("dansk", "danish"),
            ("eu_eea", "eu_eea"),
            ("other", "other"),
            ("andet", "other"),
            ("unknown", "unknown"),
            ("uoplyst", "unknown"),
        ],
    )
}

pub const AGE_GROUPS: [&str; 7] = [
    "18-24", "25-29", "30-39", "40-49", "50-59", "60+", "unknown",
];

/// Finds `value` (trimmed; any case) in a code list. Codes are ASCII, so the comparison
/// needs no lower-cased copy (this runs for several columns of every row).
pub fn find_code(list: &'static [Code], value: &str) -> Option<&'static Code> {
    list.iter().find(|c| c.code.eq_ignore_ascii_case(value))
}

/// The canonical word for the first of `words` that `value` matches, in any case.
fn one_of(value: &str, words: &[(&'static str, &'static str)]) -> Option<&'static str> {
    words
        .iter()
        .find(|(w, _)| w.eq_ignore_ascii_case(value))
        .map(|(_, canonical)| *canonical)
}

/// `yes`/`ja`, `no`/`nej`, `unknown`/`uoplyst` (any case) → the canonical code.
pub fn yes_no(value: &str) -> Option<&'static str> {
    one_of(
        value,
        &[
            ("yes", "yes"),
            ("ja", "yes"),
            ("no", "no"),
            ("nej", "no"),
            ("unknown", "unknown"),
            ("uoplyst", "unknown"),
        ],
    )
}

/// `m`/`mand`/`male` → male; `k`/`kvinde`/`f`/`female` → female (any case).
pub fn sex(value: &str) -> Option<&'static str> {
    one_of(
        value,
        &[
            ("m", "male"),
            ("mand", "male"),
            ("male", "male"),
            ("k", "female"),
            ("kvinde", "female"),
            ("f", "female"),
            ("female", "female"),
        ],
    )
}

/// The 98 municipalities, shipped with the project (a copy of `shared/data/municipalities.csv`).
pub struct Municipality {
    pub code: u16,
    pub name: &'static str,
    pub region: &'static str,
}

static MUNICIPALITIES_CSV: &str = include_str!("../../../data/municipalities.csv");

pub fn municipalities() -> &'static [Municipality] {
    use std::sync::OnceLock;
    static LIST: OnceLock<Vec<Municipality>> = OnceLock::new();
    LIST.get_or_init(|| {
        let mut list: Vec<Municipality> = MUNICIPALITIES_CSV
            .lines()
            .skip(1)
            .filter(|l| !l.trim().is_empty())
            .map(|line| {
                let mut parts = line.splitn(3, ',');
                let code = parts.next().unwrap_or_default().trim();
                let name = parts.next().unwrap_or_default().trim();
                let region = parts.next().unwrap_or_default().trim().trim_matches('"');
                Municipality {
                    code: code
                        .parse()
                        .expect("data/municipalities.csv: code is a number"),
                    name,
                    region,
                }
            })
            .collect();
        list.sort_by_key(|m| m.code);
        list
    })
}

/// The five regions, in the order they first appear in `data/municipalities.csv`.
pub fn regions() -> Vec<&'static str> {
    let mut out: Vec<&'static str> = Vec::new();
    for m in municipalities() {
        if !out.contains(&m.region) {
            out.push(m.region);
        }
    }
    out
}

/// A lookup table indexed by code (codes are below 1000), for the hot validation path.
pub fn municipality_index() -> &'static [bool; 1000] {
    use std::sync::OnceLock;
    static INDEX: OnceLock<[bool; 1000]> = OnceLock::new();
    INDEX.get_or_init(|| {
        let mut index = [false; 1000];
        for m in municipalities() {
            index[m.code as usize] = true;
        }
        index
    })
}

pub fn municipality_name(code: u16) -> Option<&'static str> {
    municipalities()
        .binary_search_by_key(&code, |m| m.code)
        .ok()
        .map(|i| municipalities()[i].name)
}

/// The count date of year Y: the Wednesday of ISO week 6.
pub fn count_date(year: i32) -> Option<NaiveDate> {
    NaiveDate::from_isoywd_opt(year, 6, Weekday::Wed)
}

/// Age in whole years on `on`.
pub fn age_on(birth: NaiveDate, on: NaiveDate) -> i32 {
    let mut age = on.year() - birth.year();
    if (on.month(), on.day()) < (birth.month(), birth.day()) {
        age -= 1;
    }
    age
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ninety_eight_municipalities() {
        assert_eq!(municipalities().len(), 98);
        assert_eq!(municipality_name(101), Some("København"));
        assert_eq!(municipality_name(860), Some("Hjørring"));
        assert!(municipality_index()[751]);
        assert!(!municipality_index()[999]);
    }

    #[test]
    fn count_dates() {
        assert_eq!(count_date(2024), NaiveDate::from_ymd_opt(2024, 2, 7));
        assert_eq!(count_date(2022), NaiveDate::from_ymd_opt(2022, 2, 9));
        assert_eq!(count_date(2026), NaiveDate::from_ymd_opt(2026, 2, 4));
    }

    #[test]
    fn ages() {
        let on = NaiveDate::from_ymd_opt(2024, 2, 7).unwrap();
        let b = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).unwrap();
        assert_eq!(age_on(b(2006, 2, 7), on), 18);
        assert_eq!(age_on(b(2006, 2, 8), on), 17);
        assert_eq!(age_on(b(2000, 2, 29), on), 23);
    }

    #[test]
    fn headers() {
        assert_eq!(Column::from_header(" Taelleaar "), Some(Column::CountYear));
        assert_eq!(Column::from_header("TÆLLEÅR"), Some(Column::CountYear));
        assert_eq!(Column::from_header("KOEN"), Some(Column::Sex));
        assert_eq!(
            Column::from_header("hjemkommune"),
            Some(Column::HomeMunicipality)
        );
        assert_eq!(Column::from_header("comment"), None);
        assert_eq!(Column::from_header("Herkomst"), Some(Column::Background));
        assert_eq!(Column::from_header("ÅRSAGER"), Some(Column::Causes));
        assert_eq!(
            Column::from_header("psykisk_behandling"),
            Some(Column::MentalIllnessTreated)
        );
    }

    #[test]
    fn version_2_columns_and_aliases() {
        assert_eq!(Column::ALL[..19], Column::V1);
        assert!(Column::V1.iter().all(|c| c.version() == 1));
        assert_eq!(Column::ALL.iter().filter(|c| c.version() == 2).count(), 6);
        assert!(
            Column::ALL
                .iter()
                .all(|c| !c.required() || c.version() == 1)
        );
        assert_eq!(background("Indvandrer"), Some("immigrant"));
        assert_eq!(background("EFTERKOMMER"), Some("descendant"));
        assert_eq!(background("uoplyst"), Some("unknown"));
        assert_eq!(background("dane"), None);
        assert_eq!(citizenship("andet"), Some("other"));
        assert_eq!(citizenship("EU_EEA"), Some("eu_eea"));
        assert_eq!(citizenship("eu"), None);
    }
}
