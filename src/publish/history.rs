//! Published figures of earlier counts (2007–2024), for the trend charts. A copy ships with
//! the project (`data/history/`, compiled in); `--history DIR` reads another copy with the
//! same files. Not every year has every figure: charts draw what is known and leave gaps.

use std::path::Path;

/// One published figure.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    pub year: i32,
    /// Category code, indicator name, or municipality code, depending on the series.
    pub key: String,
    pub persons: i64,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct SeriesNote {
    pub year: i32,
    pub kind: String,
    pub note: String,
}

#[derive(Debug, Clone, Default)]
pub struct History {
    pub national_totals: Vec<Figure>,
    pub national_by_category: Vec<Figure>,
    pub national_indicators: Vec<Figure>,
    pub municipal_totals: Vec<Figure>,
    pub notes: Vec<SeriesNote>,
    /// Format version 2: published shares (`cause_<code>`, `background_<code>`) in whole
    /// percent of the counted persons, held in `persons`. Empty when a `--history` copy
    /// predates `national_shares.csv`.
    pub national_shares: Vec<Figure>,
}

const SHIPPED: [(&str, &str); 6] = [
    (
        "national_totals.csv",
        include_str!("../../data/history/national_totals.csv"),
    ),
    (
        "national_by_category.csv",
        include_str!("../../data/history/national_by_category.csv"),
    ),
    (
        "national_indicators.csv",
        include_str!("../../data/history/national_indicators.csv"),
    ),
    (
        "municipal_totals.csv",
        include_str!("../../data/history/municipal_totals.csv"),
    ),
    (
        "series_notes.csv",
        include_str!("../../data/history/series_notes.csv"),
    ),
    (
        "national_shares.csv",
        include_str!("../../data/history/national_shares.csv"),
    ),
];

impl History {
    /// The copy compiled into the binary.
    pub fn shipped() -> History {
        History::parse(|name| {
            Ok(SHIPPED
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, text)| text.to_string())
                .unwrap_or_default())
        })
        .expect("the shipped history parses (tested)")
    }

    /// The files of `dir` (same names as `data/history/`).
    pub fn load(dir: &Path) -> Result<History, String> {
        History::parse(|name| {
            std::fs::read_to_string(dir.join(name))
                .map_err(|e| format!("{}: {e}", dir.join(name).display()))
        })
    }

    fn parse(read: impl Fn(&str) -> Result<String, String>) -> Result<History, String> {
        let figures = |file: &str, key: &str, value: &str| -> Result<Vec<Figure>, String> {
            let text = read(file)?;
            let mut r = csv::Reader::from_reader(text.as_bytes());
            let header = r.headers().map_err(|e| format!("{file}: {e}"))?.clone();
            let col = |n: &str| {
                header
                    .iter()
                    .position(|h| h == n)
                    .ok_or_else(|| format!("{file}: no column {n}"))
            };
            let (y, k, v, s) = (col("year")?, col(key)?, col(value)?, col("source")?);
            let mut out = Vec::new();
            for rec in r.records() {
                let rec = rec.map_err(|e| format!("{file}: {e}"))?;
                // A row without a count (a share, say) is not a point on a chart.
                let Ok(persons) = rec[v].trim().parse::<i64>() else {
                    continue;
                };
                out.push(Figure {
                    year: rec[y]
                        .trim()
                        .parse()
                        .map_err(|_| format!("{file}: bad year {:?}", &rec[y]))?,
                    key: rec[k].trim().to_string(),
                    persons,
                    source: rec[s].trim().to_string(),
                });
            }
            out.sort_by(|a, b| (a.year, &a.key).cmp(&(b.year, &b.key)));
            Ok(out)
        };
        let notes_text = read("series_notes.csv")?;
        let mut notes = Vec::new();
        for rec in csv::Reader::from_reader(notes_text.as_bytes()).records() {
            let rec = rec.map_err(|e| format!("series_notes.csv: {e}"))?;
            notes.push(SeriesNote {
                year: rec[0]
                    .trim()
                    .parse()
                    .map_err(|_| "series_notes.csv: bad year".to_string())?,
                kind: rec[1].trim().to_string(),
                note: rec[2].trim().to_string(),
            });
        }
        Ok(History {
            national_totals: figures("national_totals.csv", "year", "persons")?,
            national_by_category: figures("national_by_category.csv", "situation", "persons")?,
            national_indicators: figures("national_indicators.csv", "indicator", "persons")?,
            municipal_totals: figures("municipal_totals.csv", "municipality", "persons")?,
            notes,
            national_shares: match read("national_shares.csv") {
                Ok(_) => figures("national_shares.csv", "measure", "percent")?,
                Err(_) => Vec::new(),
            },
        })
    }

    /// The latest published national total before `year`.
    pub fn previous_total(&self, year: i32) -> Option<&Figure> {
        self.national_totals.iter().rev().find(|f| f.year < year)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shipped_history_parses() {
        let h = History::shipped();
        assert_eq!(
            h.national_totals.first().map(|f| (f.year, f.persons)),
            Some((2007, 5253))
        );
        assert_eq!(
            h.previous_total(2026).map(|f| (f.year, f.persons)),
            Some((2024, 5989))
        );
        assert!(
            h.national_by_category
                .iter()
                .any(|f| f.year == 2015 && f.key == "shelter")
        );
        assert!(
            h.municipal_totals
                .iter()
                .any(|f| f.key == "751" && f.year == 2024)
        );
        assert_eq!(h.notes.len(), 3);
        assert!(
            h.national_shares
                .iter()
                .any(|f| f.year == 2022 && f.key == "cause_mental_illness" && f.persons == 42)
        );
        // The regional share row has no count and is skipped, not an error.
        assert!(h.national_indicators.iter().all(|f| f.persons >= 0));
    }

    #[test]
    fn a_copy_on_disk_loads_the_same() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/history");
        let a = History::load(&dir).unwrap();
        assert_eq!(a.national_totals, History::shipped().national_totals);
    }
}
