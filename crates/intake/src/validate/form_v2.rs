//! The columns of format version 2 (`submission-format.md`, *Version 2 columns*): background,
//! citizenship, physical illness, treatment of mental illness and of substance abuse, and the
//! causes of homelessness. All optional; a value that is not one of the codes is a warning
//! (W007) and becomes `unknown`: these questions are secondary, and a row is never lost over
//! them. Two answers that contradict each other are a warning (W012, W013); both are kept.

use super::{Msg, Rule, Validator, canonical_list, did_you_mean, suggest};
use crate::spec::{self, Column};

/// The version 2 answers of one row, in canonical English codes; `None` when the cell is
/// empty or the column missing (both mean `unknown`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PersonForm {
    pub background: Option<&'static str>,
    pub citizenship: Option<&'static str>,
    pub physical_illness: Option<&'static str>,
    pub mental_illness_treated: Option<&'static str>,
    pub substance_treated: Option<&'static str>,
    /// The named causes in the order of the format, `|`-separated, or `unknown`.
    pub causes: Option<String>,
}

/// `|`-separated causes, or `unknown`/`uoplyst`; canonical: the format's order, no repeats.
/// There is no `none`: every homeless person became homeless for some reason.
pub(crate) fn canonical_causes(value: &str) -> Option<String> {
    let v = value.trim();
    if v.eq_ignore_ascii_case("none") || v.eq_ignore_ascii_case("ingen") {
        return None;
    }
    canonical_list(v, &spec::CAUSES)
}

impl Validator<'_> {
    /// Reads and checks the version 2 columns of a row. `mental_illness` and
    /// `substance_abuse` are the row's (already checked) version 1 answers, for the two
    /// consistency warnings.
    pub(super) fn person_form<'r>(
        &mut self,
        line: u64,
        get: &dyn Fn(Column) -> &'r str,
        mental_illness: Option<&str>,
        substance_abuse: Option<&str>,
    ) -> PersonForm {
        let background = self.coded(
            line,
            Column::Background,
            get(Column::Background),
            spec::background,
            &spec::BACKGROUNDS,
            "danish/dansk, immigrant/indvandrer, descendant/efterkommer, unknown/uoplyst",
        );
        let citizenship = self.coded(
            line,
            Column::Citizenship,
            get(Column::Citizenship),
            spec::citizenship,
            &spec::CITIZENSHIPS,
            "danish/dansk, eu_eea, other/andet, unknown/uoplyst",
        );
        let physical_illness =
            self.optional_yes_no(line, Column::PhysicalIllness, get(Column::PhysicalIllness));
        let mental_illness_treated = self.optional_yes_no(
            line,
            Column::MentalIllnessTreated,
            get(Column::MentalIllnessTreated),
        );
        let substance_treated = self.optional_yes_no(
            line,
            Column::SubstanceTreated,
            get(Column::SubstanceTreated),
        );
        let causes_text = get(Column::Causes);
        let causes = if causes_text.is_empty() {
            None
        } else {
            match canonical_causes(causes_text) {
                Some(c) => Some(c),
                None => {
                    let codes = spec::CAUSES
                        .iter()
                        .map(|c| c.code)
                        .collect::<Vec<_>>()
                        .join(", ");
                    // A misspelt item: "did you mean …?" for the first one that is no code.
                    let typo = causes_text
                        .split('|')
                        .map(str::trim)
                        .find(|i| spec::find_code(&spec::CAUSES, i).is_none())
                        .and_then(|i| suggest(i, spec::CAUSES.iter().map(|c| c.code)));
                    let (hint, hint_da) = match typo {
                        Some(c) => (
                            format!("; did you mean {c:?}?"),
                            format!("; mente du {c:?}?"),
                        ),
                        None => (String::new(), String::new()),
                    };
                    self.warn(
                        line,
                        Column::Causes,
                        Rule::W007,
                        causes_text,
                        Msg {
                            en: format!(
                                "causes is a list separated by | of {codes}, or unknown{hint}; treated as unknown"
                            ).into(),
                            da: format!(
                                "aarsager er en liste adskilt af | med {codes}, eller uoplyst{hint_da}; behandles som uoplyst"
                            ).into(),
                        },
                    );
                    Some("unknown".to_string())
                }
            }
        };

        if mental_illness_treated == Some("yes") && mental_illness == Some("no") {
            self.warn(
                line,
                Column::MentalIllnessTreated,
                Rule::W012,
                get(Column::MentalIllnessTreated),
                Msg {
                    en: "in treatment for mental illness, but mental_illness says no; both answers are kept".into(),
                    da: "i behandling for psykisk sygdom, men psykisk_sygdom siger nej; begge svar bevares".into(),
                },
            );
        }
        if substance_treated == Some("yes") && substance_abuse == Some("none") {
            self.warn(
                line,
                Column::SubstanceTreated,
                Rule::W013,
                get(Column::SubstanceTreated),
                Msg {
                    en: "in treatment for substance abuse, but substance_abuse says none; both answers are kept".into(),
                    da: "i misbrugsbehandling, men misbrug siger none (intet misbrug); begge svar bevares".into(),
                },
            );
        }
        PersonForm {
            background,
            citizenship,
            physical_illness,
            mental_illness_treated,
            substance_treated,
            causes,
        }
    }

    /// An optional coded value with Danish aliases (`parse`); not a code: W007, `unknown`.
    fn coded(
        &mut self,
        line: u64,
        column: Column,
        value: &str,
        parse: fn(&str) -> Option<&'static str>,
        list: &'static [spec::Code],
        codes: &str,
    ) -> Option<&'static str> {
        if value.is_empty() {
            return None;
        }
        if let Some(code) = parse(value) {
            return Some(code);
        }
        self.warn(
            line,
            column,
            Rule::W007,
            value,
            Msg {
                en: format!(
                    "{} is {codes}{}; treated as unknown",
                    column.name(),
                    did_you_mean(value, list, false)
                )
                .into(),
                da: format!(
                    "{} skal være {codes}{}; behandles som uoplyst",
                    column.danish(),
                    did_you_mean(value, list, true)
                )
                .into(),
            },
        );
        Some("unknown")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_lists() {
        assert_eq!(
            canonical_causes("Eviction|drugs|drugs"),
            Some("drugs|eviction".into())
        );
        assert_eq!(canonical_causes(" unknown "), Some("unknown".into()));
        assert_eq!(canonical_causes("uoplyst"), Some("unknown".into()));
        assert_eq!(canonical_causes("none"), None);
        assert_eq!(canonical_causes("economy|luck"), None);
        assert_eq!(
            canonical_causes("released_institution|mental_illness"),
            Some("mental_illness|released_institution".into())
        );
    }
}
