//! The format version 2 columns of `hcount synth`: background, citizenship, physical illness,
//! treatment and causes, with the shares the published counts report (background 2019: 82 %
//! Danish, 11 % immigrants, 7 % descendants; causes 2022: mental illness 42 %, drugs 35 %,
//! economy 28 %, alcohol 27 %, no suitable housing 20 %, family/friends 20 %, eviction
//! 18 %; `data/history/national_shares.csv`). Shares the counts do not publish (citizenship,
//! physical illness, treatment, the last three causes) are plausible guesses, marked below.
//!
//! These values come from their own random stream, so `--format-version 1` writes exactly
//! the files of before, and version 2 files are the same files with six more columns.

use super::Rng;
use crate::intake::spec::Column;

/// What a person is, decided once per person (reports then repeat it, or leave it out).
struct Truth {
    background: &'static str,
    citizenship: &'static str,
    physical_illness: bool,
    mental_treated: bool,
    substance_treated: bool,
    causes: Vec<&'static str>,
}

/// Each cause with its share in percent (2022; the last three are guesses).
const CAUSES: [(&str, f64); 10] = [
    ("mental_illness", 0.42),
    ("drugs", 0.35),
    ("alcohol", 0.27),
    ("economy", 0.28),
    ("no_suitable_housing", 0.20),
    ("eviction", 0.18),
    ("family_friends_end", 0.20),
    ("relationship_breakdown", 0.12), // guess
    ("released_institution", 0.08),   // guess
    ("other", 0.06),                  // guess
];

pub(super) struct FormV2 {
    seed: u64,
    /// Per-report noise (left out, unknown), separate from the main stream.
    rng: Rng,
}

impl FormV2 {
    pub(super) fn new(seed: u64) -> FormV2 {
        FormV2 {
            seed,
            rng: Rng(seed ^ 0x666F_726D_5F76_32),
        }
    }

    /// A free position for a version 2 column in a file with shuffled columns.
    pub(super) fn position(&mut self, len: usize) -> usize {
        self.rng.below(len + 1)
    }

    fn truth(&self, person: usize) -> Truth {
        let mut rng = Rng(self.seed ^ (person as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407));
        let background = *rng.weighted(&[("danish", 82), ("immigrant", 11), ("descendant", 7)]);
        let citizenship = match background {
            "danish" => "danish",
            // Guesses: most descendants are Danish citizens; immigrants split.
            "descendant" => *rng.weighted(&[("danish", 70), ("eu_eea", 5), ("other", 25)]),
            _ => *rng.weighted(&[("danish", 25), ("eu_eea", 30), ("other", 45)]),
        };
        let mut causes: Vec<&'static str> = CAUSES
            .iter()
            .filter(|(_, share)| rng.chance(*share))
            .map(|(c, _)| *c)
            .collect();
        if causes.is_empty() && rng.chance(0.5) {
            causes.push("other");
        }
        Truth {
            background,
            citizenship,
            physical_illness: rng.chance(0.35),  // guess
            mental_treated: rng.chance(0.45),    // guess
            substance_treated: rng.chance(0.40), // guess
            causes,
        }
    }

    /// The cell of a version 2 column in one report of `person`. `danish`: the file uses
    /// Danish words; `loose`: upper-case codes with stray spaces.
    pub(super) fn cell(
        &mut self,
        column: Column,
        person: usize,
        danish: bool,
        loose: bool,
    ) -> String {
        // A report leaves a question out now and then, or says it does not know.
        if self.rng.chance(0.12) {
            return String::new();
        }
        if self.rng.chance(0.03) {
            return if danish { "uoplyst" } else { "unknown" }.into();
        }
        let t = self.truth(person);
        let yes_no = |b: bool| match (b, danish) {
            (true, true) => "ja",
            (false, true) => "nej",
            (true, false) => "yes",
            (false, false) => "no",
        };
        let value: String = match column {
            Column::Background => match (t.background, danish) {
                ("danish", true) => "dansk".into(),
                ("immigrant", true) => "indvandrer".into(),
                ("descendant", true) => "efterkommer".into(),
                (b, _) => b.into(),
            },
            Column::Citizenship => match (t.citizenship, danish) {
                ("danish", true) => "dansk".into(),
                ("other", true) => "andet".into(),
                (c, _) => c.into(),
            },
            Column::PhysicalIllness => yes_no(t.physical_illness).into(),
            Column::MentalIllnessTreated => yes_no(t.mental_treated).into(),
            Column::SubstanceTreated => yes_no(t.substance_treated).into(),
            Column::Causes if t.causes.is_empty() => "unknown".into(),
            Column::Causes => t.causes.join("|"),
            _ => String::new(),
        };
        if loose {
            format!(" {} ", value.to_uppercase())
        } else {
            value
        }
    }
}

/// A report that says "in treatment" beside "no mental illness" (or "no substance abuse") is
/// what the W012/W013 warnings are for, not what a careful unit sends: answer "no" instead.
pub(super) fn consistent(cells: &mut [String], columns: &[Column]) {
    let at = |c: Column| columns.iter().position(|x| *x == c);
    let pairs = [
        (
            Column::MentalIllness,
            Column::MentalIllnessTreated,
            ["no", "nej"],
        ),
        (
            Column::SubstanceAbuse,
            Column::SubstanceTreated,
            ["none", "none"],
        ),
    ];
    for (condition, treated, denial) in pairs {
        let (Some(c), Some(t)) = (at(condition), at(treated)) else {
            continue;
        };
        let denied = denial
            .iter()
            .any(|d| cells[c].trim().eq_ignore_ascii_case(d));
        let yes = ["yes", "ja"]
            .iter()
            .any(|y| cells[t].trim().eq_ignore_ascii_case(y));
        if denied && yes {
            let danish = cells[t].trim().eq_ignore_ascii_case("ja");
            cells[t] = if danish { "nej" } else { "no" }.into();
        }
    }
}
