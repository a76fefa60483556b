//! ETHOS Light (FEANTSA's harmonised definition of homelessness for statistical purposes):
//! the six categories and where each SFI category of the count belongs
//! (`data/ethos_light/`, its README gives the source). Compiled in, like the municipalities,
//! so every run uses the reviewed mapping; `queries/tables/ethos_light.sql` counts by it.

use std::sync::OnceLock;

static CATEGORIES_CSV: &str = include_str!("../../data/ethos_light/categories.csv");
static MAPPING_CSV: &str = include_str!("../../data/ethos_light/mapping.csv");

/// One ETHOS Light category.
#[derive(Debug, Clone)]
pub struct Category {
    /// `1` to `6`.
    pub code: String,
    pub label_en: String,
    pub label_da: String,
    pub living_situation_en: String,
    pub living_situation_da: String,
}

/// Where an SFI category belongs: `1`–`6`, [`OUTSIDE`] or [`UNKNOWN`].
#[derive(Debug, Clone)]
pub struct Placement {
    pub situation: String,
    pub ethos_light: String,
    pub reason: String,
}

/// A situation with no ETHOS Light category.
pub const OUTSIDE: &str = "outside";
/// The situation was not stated.
pub const UNKNOWN: &str = "unknown";
/// The row of `tables/ethos_light.csv` that sums categories 1–6.
pub const ETHOS_TOTAL: &str = "ethos_light_total";

fn read<T>(text: &str, row: impl Fn(&csv::StringRecord) -> T) -> Vec<T> {
    csv::Reader::from_reader(text.as_bytes())
        .records()
        .map(|r| row(&r.expect("data/ethos_light: a CSV file checked by the tests")))
        .collect()
}

/// The six categories, in order.
pub fn categories() -> &'static [Category] {
    static LIST: OnceLock<Vec<Category>> = OnceLock::new();
    LIST.get_or_init(|| {
        read(CATEGORIES_CSV, |r| Category {
            code: r[0].to_string(),
            label_en: r[1].to_string(),
            label_da: r[2].to_string(),
            living_situation_en: r[3].to_string(),
            living_situation_da: r[4].to_string(),
        })
    })
}

/// Every SFI category's placement, in the order of the mapping file.
pub fn mapping() -> &'static [Placement] {
    static LIST: OnceLock<Vec<Placement>> = OnceLock::new();
    LIST.get_or_init(|| {
        read(MAPPING_CSV, |r| Placement {
            situation: r[0].to_string(),
            ethos_light: r[1].to_string(),
            reason: r[2].to_string(),
        })
    })
}

/// The ETHOS Light code of an SFI situation (None for `not_homeless` or an unknown code).
pub fn of_situation(situation: &str) -> Option<&'static str> {
    mapping()
        .iter()
        .find(|p| p.situation == situation)
        .map(|p| p.ethos_light.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::spec;

    #[test]
    fn every_sfi_category_is_placed_once() {
        let homeless: Vec<&str> = spec::SITUATIONS
            .iter()
            .map(|c| c.code)
            .filter(|&c| c != "not_homeless")
            .collect();
        let placed: Vec<&str> = mapping().iter().map(|p| p.situation.as_str()).collect();
        assert_eq!(
            placed, homeless,
            "mapping.csv must list the categories in rank order"
        );
        let codes: Vec<&str> = categories().iter().map(|c| c.code.as_str()).collect();
        assert_eq!(codes, ["1", "2", "3", "4", "5", "6"]);
        for p in mapping() {
            assert!(
                codes.contains(&p.ethos_light.as_str())
                    || p.ethos_light == OUTSIDE
                    || p.ethos_light == UNKNOWN,
                "{p:?}"
            );
            assert!(!p.reason.is_empty(), "{p:?}");
        }
        assert_eq!(of_situation("rough_sleeping"), Some("1"));
        assert_eq!(of_situation("not_homeless"), None);
        // Every ETHOS Light category holds at least one SFI category.
        for c in &codes {
            assert!(mapping().iter().any(|p| p.ethos_light == *c), "{c}");
        }
    }
}
