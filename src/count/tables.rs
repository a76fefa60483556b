//! Tables: the CSV artefacts of a run (outputs.md). UTF-8, `,`, a header row, rows in the
//! order the queries give; cells that Excel would run as a formula are defused with `'`, and
//! every cell passes the CPR mask (`crate::privacy`).

use std::io::Write;
use std::path::Path;

use datafusion::arrow::array::{Array, AsArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Float64Type, Int32Type, Int64Type};
use datafusion::arrow::util::display::{ArrayFormatter, FormatOptions};

use crate::intake::validate::{FileReport, Problem};

/// A table as text cells: what is written, and what the report reads back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    pub header: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// Turns query results into text cells: integers as digits, floats (percents) with one
    /// decimal, strings as they are, NULL as an empty cell.
    pub fn from_batches(
        batches: &[RecordBatch],
    ) -> Result<Table, datafusion::arrow::error::ArrowError> {
        let Some(first) = batches.first() else {
            return Ok(Table {
                header: Vec::new(),
                rows: Vec::new(),
            });
        };
        let header = first
            .schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect();
        let mut rows = Vec::new();
        for batch in batches {
            let mut columns: Vec<Vec<String>> = Vec::with_capacity(batch.num_columns());
            for array in batch.columns() {
                columns.push(cells(array.as_ref())?);
            }
            for r in 0..batch.num_rows() {
                rows.push(columns.iter().map(|c| c[r].clone()).collect());
            }
        }
        Ok(Table { header, rows })
    }

    /// The value of `column` in every row (empty when there is no such column).
    pub fn column(&self, name: &str) -> Vec<&str> {
        match self.header.iter().position(|h| h == name) {
            Some(i) => self.rows.iter().map(|r| r[i].as_str()).collect(),
            None => Vec::new(),
        }
    }

    /// A table from string literals, for tests.
    #[cfg(test)]
    pub fn of(header: &[&str], rows: &[&[&str]]) -> Table {
        Table {
            header: header.iter().map(|s| s.to_string()).collect(),
            rows: rows
                .iter()
                .map(|r| r.iter().map(|s| s.to_string()).collect())
                .collect(),
        }
    }

    /// Reads a table [`Table::write_csv`] wrote, the `'` of a defused cell taken off again
    /// (for the report, the trends page and the audit, which read a run's output back).
    pub fn read_csv(path: &Path) -> Result<Table, String> {
        let failed = |e: csv::Error| format!("{}: {e}", path.display());
        let mut reader = csv::Reader::from_path(path).map_err(failed)?;
        let header = reader
            .headers()
            .map_err(failed)?
            .iter()
            .map(String::from)
            .collect();
        let rows = reader
            .records()
            .map(|record| {
                record.map(|record| {
                    record
                        .iter()
                        .map(|c| c.strip_prefix('\'').unwrap_or(c).to_string())
                        .collect()
                })
            })
            .collect::<Result<_, _>>()
            .map_err(failed)?;
        Ok(Table { header, rows })
    }

    pub fn write_csv(&self, path: &Path) -> std::io::Result<()> {
        let mut out = csv::WriterBuilder::new()
            .terminator(csv::Terminator::Any(b'\n'))
            .from_writer(std::io::BufWriter::new(std::fs::File::create(path)?));
        out.write_record(&self.header)?;
        for row in &self.rows {
            out.write_record(
                row.iter()
                    .map(|c| defuse(&crate::privacy::mask_cpr(c)).into_owned()),
            )?;
        }
        out.flush()?;
        Ok(())
    }
}

fn cells(array: &dyn Array) -> Result<Vec<String>, datafusion::arrow::error::ArrowError> {
    let n = array.len();
    let out = match array.data_type() {
        DataType::Float64 => {
            let a = array.as_primitive::<Float64Type>();
            (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        String::new()
                    } else {
                        format!("{:.1}", a.value(i))
                    }
                })
                .collect()
        }
        DataType::Int64 => {
            let a = array.as_primitive::<Int64Type>();
            (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        String::new()
                    } else {
                        a.value(i).to_string()
                    }
                })
                .collect()
        }
        DataType::Int32 => {
            let a = array.as_primitive::<Int32Type>();
            (0..n)
                .map(|i| {
                    if a.is_null(i) {
                        String::new()
                    } else {
                        a.value(i).to_string()
                    }
                })
                .collect()
        }
        _ => {
            let options = FormatOptions::default().with_null("");
            let f = ArrayFormatter::try_new(array, &options)?;
            (0..n).map(|i| f.value(i).to_string()).collect()
        }
    };
    Ok(out)
}

/// A cell that begins with `=`, `+`, `-` or `@` would be a formula in Excel: prefix `'`.
pub fn defuse(cell: &str) -> std::borrow::Cow<'_, str> {
    if cell.starts_with(['=', '+', '-', '@']) {
        std::borrow::Cow::Owned(format!("'{cell}"))
    } else {
        std::borrow::Cow::Borrowed(cell)
    }
}

/// The published copy of a table: counts from 1 to `min_cell - 1` become `<min_cell`.
pub fn suppress(table: &Table, column: &str, min_cell: u64) -> Table {
    let Some(i) = table.header.iter().position(|h| h == column) else {
        return table.clone();
    };
    let mut out = table.clone();
    for row in &mut out.rows {
        if let Ok(n) = row[i].parse::<u64>()
            && n > 0
            && n < min_cell
        {
            row[i] = format!("<{min_cell}");
        }
    }
    out
}

/// `rejected.csv` or `warnings.csv`: `file,line,column,code,value,reason`.
pub fn write_problems<'a>(
    path: &Path,
    problems: impl Iterator<Item = &'a Problem>,
) -> std::io::Result<()> {
    let table = Table {
        header: ["file", "line", "column", "code", "value", "reason"]
            .map(String::from)
            .to_vec(),
        rows: problems
            .map(|p| {
                vec![
                    p.file.to_string(),
                    p.line.to_string(),
                    p.column.clone(),
                    p.code.code().to_string(),
                    p.value.clone(),
                    p.reason.en.to_string(),
                ]
            })
            .collect(),
    };
    table.write_csv(path)
}

/// `tables/intake.csv`: one row per input file.
pub fn intake(reports: &[FileReport]) -> Table {
    Table {
        header: [
            "file",
            "respondent_ids",
            "rows_read",
            "rows_accepted",
            "rows_rejected",
            "warnings",
        ]
        .map(String::from)
        .to_vec(),
        rows: reports
            .iter()
            .map(|r| {
                vec![
                    r.file.clone(),
                    r.respondent_ids
                        .iter()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join("|"),
                    r.rows_read.to_string(),
                    r.rows_accepted.to_string(),
                    r.rows_rejected.to_string(),
                    r.warnings.to_string(),
                ]
            })
            .collect(),
    }
}

/// Writes `bytes` to `path`, creating parent folders.
pub fn write_file(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut f = std::fs::File::create(path)?;
    f.write_all(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formulas_are_defused() {
        assert_eq!(defuse("=SUM(A1)"), "'=SUM(A1)");
        assert_eq!(defuse("@x"), "'@x");
        assert_eq!(defuse("-1"), "'-1");
        assert_eq!(defuse("København"), "København");
    }

    #[test]
    fn suppression() {
        let t = Table {
            header: vec!["m".into(), "persons".into()],
            rows: vec![
                vec!["a".into(), "0".into()],
                vec!["b".into(), "1".into()],
                vec!["c".into(), "4".into()],
                vec!["d".into(), "5".into()],
            ],
        };
        let s = suppress(&t, "persons", 5);
        assert_eq!(s.column("persons"), vec!["0", "<5", "<5", "5"]);
        assert_eq!(
            suppress(&t, "persons", 3).column("persons"),
            vec!["0", "<3", "4", "5"]
        );
    }
}
