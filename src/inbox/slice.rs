//! A unit's slice: one Parquet file under `slices/` holding exactly what staging would have
//! made of the unit's files (pseudonymised rows, the staging schema) and, in the file's
//! key-value metadata, each file's report and problems (values already masked). Written
//! atomically: temp file, fsync, rename, fsync of the folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Array, ArrayRef, AsArray, BinaryArray, BinaryBuilder, RecordBatch};
use datafusion::arrow::datatypes::DataType;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::WriterProperties;
use serde::{Deserialize, Serialize};

use crate::count::staging;
use crate::intake::pseudonymise::Pseudonym;
use crate::intake::validate::{FileReport, Msg, Owner, Problem, Rule, UnitRows};

const META_KEY: &str = "hcount.inbox.slice";

/// What a slice holds besides its rows.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SliceMeta {
    pub respondent_id: String,
    pub count_year: i32,
    pub files: Vec<SliceFile>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SliceFile {
    /// The name rows carry in every output: `<respondent_id>/<file name>`.
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
    pub respondent_ids: BTreeSet<String>,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub warnings: u64,
    /// Rows read, accepted and rejected of each unit in the file (feedback shows a unit only
    /// its own rows).
    #[serde(default)]
    pub units: BTreeMap<String, [u64; 3]>,
    pub problems: Vec<StoredProblem>,
}

/// A [`Problem`] as stored (its value is the masked one `validate` shows).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct StoredProblem {
    pub line: u64,
    pub column: String,
    pub code: String,
    pub value: String,
    pub en: String,
    pub da: String,
    /// Whose row the problem is about: `file` (the file as a whole), `unit:<respondent_id>`,
    /// or `unknown` (a row without a usable respondent_id).
    #[serde(default)]
    pub owner: String,
}

impl SliceFile {
    pub fn new(
        name: String,
        bytes: u64,
        sha256: String,
        report: &FileReport,
        problems: &[Problem],
    ) -> SliceFile {
        SliceFile {
            name,
            bytes,
            sha256,
            respondent_ids: report.respondent_ids.clone(),
            rows_read: report.rows_read,
            rows_accepted: report.rows_accepted,
            rows_rejected: report.rows_rejected,
            warnings: report.warnings,
            units: report
                .units
                .iter()
                .map(|(id, u)| (id.clone(), [u.rows_read, u.rows_accepted, u.rows_rejected]))
                .collect(),
            problems: problems
                .iter()
                .map(|p| StoredProblem {
                    owner: match &p.owner {
                        Owner::File => "file".to_string(),
                        Owner::Unit(id) => format!("unit:{id}"),
                        Owner::Unknown => "unknown".to_string(),
                    },
                    line: p.line,
                    column: p.column.clone(),
                    code: p.code.code().to_string(),
                    value: p.value.clone(),
                    en: p.reason.en.to_string(),
                    da: p.reason.da.to_string(),
                })
                .collect(),
        }
    }

    pub fn report(&self) -> FileReport {
        FileReport {
            file: self.name.clone(),
            respondent_ids: self.respondent_ids.clone(),
            rows_read: self.rows_read,
            rows_accepted: self.rows_accepted,
            rows_rejected: self.rows_rejected,
            warnings: self.warnings,
            units: self
                .units
                .iter()
                .map(|(id, [read, accepted, rejected])| {
                    let rows = UnitRows {
                        rows_read: *read,
                        rows_accepted: *accepted,
                        rows_rejected: *rejected,
                    };
                    (id.clone(), rows)
                })
                .collect(),
            format: None,
        }
    }

    pub fn problems(&self) -> Vec<Problem> {
        let file: Arc<str> = Arc::from(self.name.as_str());
        self.problems
            .iter()
            .filter_map(|p| {
                Some(Problem {
                    file: file.clone(),
                    line: p.line,
                    column: p.column.clone(),
                    code: *Rule::ALL.iter().find(|r| r.code() == p.code)?,
                    value: p.value.clone(),
                    reason: Msg {
                        en: p.en.clone().into(),
                        da: p.da.clone().into(),
                    },
                    owner: match p.owner.as_str() {
                        "file" => Owner::File,
                        "unknown" => Owner::Unknown,
                        o => match o.strip_prefix("unit:") {
                            Some(id) => Owner::Unit(Arc::from(id)),
                            None => Owner::File,
                        },
                    },
                })
            })
            .collect()
    }
}

/// Writes the slice to `path` atomically.
pub fn write(path: &Path, batches: &[RecordBatch], meta: &SliceMeta) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let json = serde_json::to_string(meta).map_err(std::io::Error::other)?;
    let props = WriterProperties::builder()
        .set_key_value_metadata(Some(vec![KeyValue::new(META_KEY.to_string(), json)]))
        .build();
    let mut tmp = tempfile::Builder::new()
        .prefix(".slice-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    {
        let mut w = ArrowWriter::try_new(tmp.as_file_mut(), staging::schema(), Some(props))
            .map_err(std::io::Error::other)?;
        for b in batches {
            w.write(b).map_err(std::io::Error::other)?;
        }
        // close() writes the footer: without it the file is not Parquet.
        w.close().map_err(std::io::Error::other)?;
    }
    // persist() neither syncs the file nor the folder.
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

/// Reads a slice: its rows (with the staging schema) and what it holds besides.
pub fn read(path: &Path) -> std::io::Result<(Vec<RecordBatch>, SliceMeta)> {
    let bad = |what: String| std::io::Error::other(format!("{}: {what}", path.display()));
    let file = std::fs::File::open(path)?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file).map_err(|e| bad(e.to_string()))?;
    let json = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .and_then(|kv| kv.iter().find(|k| k.key == META_KEY))
        .and_then(|k| k.value.clone())
        .ok_or_else(|| bad("not an inbox slice (no slice metadata)".into()))?;
    let meta: SliceMeta = serde_json::from_str(&json).map_err(|e| bad(e.to_string()))?;
    let reader = builder.build().map_err(|e| bad(e.to_string()))?;
    let mut batches = Vec::new();
    for b in reader {
        let b = b.map_err(|e| bad(e.to_string()))?;
        // The schema read back carries the file's metadata; the engine wants staging's own.
        batches.push(
            RecordBatch::try_new(staging::schema(), staged_columns(&b).map_err(bad)?)
                .map_err(|e| bad(e.to_string()))?,
        );
    }
    Ok((batches, meta))
}

/// The slice's columns as staging holds them now. A slice written before person keys were
/// staged as their 32 bytes holds them as hex: they are decoded to the same bytes, so such a
/// slice still counts (and counts the same).
fn staged_columns(batch: &RecordBatch) -> Result<Vec<ArrayRef>, String> {
    let schema = staging::schema();
    let mut columns = Vec::with_capacity(batch.num_columns());
    for (column, field) in batch.columns().iter().zip(schema.fields()) {
        if field.data_type() != &DataType::Binary || column.data_type() != &DataType::Utf8 {
            columns.push(column.clone());
            continue;
        }
        let hex = column.as_string::<i32>();
        let mut bytes = BinaryBuilder::with_capacity(hex.len(), hex.len() * 32);
        for value in hex.iter() {
            match value {
                None => bytes.append_null(),
                Some(h) => {
                    let key = Pseudonym::from_hex(h).ok_or_else(|| {
                        format!("column {} holds {h:?}, not a person key", field.name())
                    })?;
                    bytes.append_value(key.as_bytes());
                }
            }
        }
        columns.push(Arc::new(bytes.finish()));
    }
    Ok(columns)
}

/// The persons of a slice, as their strongest key (CPR, replacement number, alternative key,
/// else the row): what the held-upload rule compares. Rows without the four key columns as
/// bytes are an error, not a slice of no persons.
pub fn person_keys(batches: &[RecordBatch]) -> std::io::Result<BTreeSet<Vec<u8>>> {
    let mut keys = BTreeSet::new();
    for b in batches {
        let cols = ["cpr_key", "ecpr_key", "alt_key", "row_key"]
            .iter()
            .map(|c| {
                b.column_by_name(c)
                    .and_then(|column| column.as_binary_opt::<i32>())
                    .ok_or_else(|| {
                        std::io::Error::other(format!("staged rows without the key column {c}"))
                    })
            })
            .collect::<std::io::Result<Vec<&BinaryArray>>>()?;
        for row in 0..b.num_rows() {
            if let Some(k) = cols.iter().find(|c| c.is_valid(row)).map(|c| c.value(row)) {
                keys.insert(k.to_vec());
            }
        }
    }
    Ok(keys)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::pseudonymise::Key;
    use datafusion::arrow::array::{Date32Array, Int32Array, Int64Array, StringArray};
    use datafusion::arrow::datatypes::{Field, Schema};

    /// Three staged rows; every key column holds, row by row, a CPR key, nothing, and an
    /// unidentified row's key.
    fn staged_rows(key: &Key) -> RecordBatch {
        let cpr = key.cpr_key(b"0101801235");
        let row = key.row_key("a.csv", 3);
        let columns = staging::schema()
            .fields()
            .iter()
            .map(|f| -> ArrayRef {
                match f.data_type() {
                    DataType::Binary => Arc::new(BinaryArray::from(vec![
                        Some(cpr.as_bytes().as_slice()),
                        None,
                        Some(row.as_bytes().as_slice()),
                    ])),
                    DataType::Utf8 => Arc::new(StringArray::from(vec!["a", "b", "c"])),
                    DataType::Int64 => Arc::new(Int64Array::from(vec![1, 2, 3])),
                    DataType::Int32 => Arc::new(Int32Array::from(vec![1, 2, 3])),
                    DataType::Date32 => Arc::new(Date32Array::from(vec![1, 2, 3])),
                    other => panic!("staging has a column of type {other}: add it here"),
                }
            })
            .collect();
        RecordBatch::try_new(staging::schema(), columns).unwrap()
    }

    /// A key's 64 hex characters, as slices held them before.
    fn hex(key: &[u8]) -> String {
        Pseudonym(key.try_into().unwrap()).hex()
    }

    fn meta() -> SliceMeta {
        SliceMeta {
            respondent_id: "U1".into(),
            count_year: 2026,
            files: Vec::new(),
        }
    }

    /// The rows as staged before the keys were bytes: each key as text (`hex` turns a key's
    /// bytes into the text; 64 hex characters then).
    fn keys_as_text(batch: &RecordBatch, hex: impl Fn(&[u8]) -> String) -> RecordBatch {
        let fields: Vec<Field> = batch
            .schema()
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Binary => Field::new(f.name(), DataType::Utf8, true),
                _ => f.as_ref().clone(),
            })
            .collect();
        let columns: Vec<ArrayRef> = batch
            .columns()
            .iter()
            .map(|c| match c.data_type() {
                DataType::Binary => Arc::new(
                    c.as_binary::<i32>()
                        .iter()
                        .map(|k| k.map(&hex))
                        .collect::<StringArray>(),
                ) as ArrayRef,
                _ => c.clone(),
            })
            .collect();
        RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).unwrap()
    }

    /// The slice as it was written before the keys were staged as bytes.
    fn write_as_hex(path: &Path, batch: &RecordBatch, hex: impl Fn(&[u8]) -> String) {
        let old = keys_as_text(batch, hex);
        let json = serde_json::to_string(&meta()).unwrap();
        let props = WriterProperties::builder()
            .set_key_value_metadata(Some(vec![KeyValue::new(META_KEY.to_string(), json)]))
            .build();
        let mut w = ArrowWriter::try_new(
            std::fs::File::create(path).unwrap(),
            old.schema(),
            Some(props),
        )
        .unwrap();
        w.write(&old).unwrap();
        w.close().unwrap();
    }

    #[test]
    fn a_slice_from_before_keys_were_bytes_reads_as_one_written_now() {
        let dir = tempfile::tempdir().unwrap();
        let key = Key::from_bytes(b"a test key of sixteen bytes");
        let rows = staged_rows(&key);
        write(
            &dir.path().join("new.parquet"),
            std::slice::from_ref(&rows),
            &meta(),
        )
        .unwrap();
        write_as_hex(&dir.path().join("old.parquet"), &rows, hex);

        let (new, _) = read(&dir.path().join("new.parquet")).unwrap();
        let (old, old_meta) = read(&dir.path().join("old.parquet")).unwrap();
        assert_eq!(new, vec![rows]);
        assert_eq!(old, new);
        assert_eq!(old_meta.respondent_id, "U1");
        // Two persons: the CPR person and the unidentified row (the second row has no key).
        let persons = person_keys(&old).unwrap();
        assert_eq!(persons.len(), 2);
        assert!(persons.contains(key.cpr_key(b"0101801235").as_bytes().as_slice()));
    }

    #[test]
    fn person_keys_refuses_rows_whose_keys_are_not_bytes() {
        // Keys as text (as slices held them before) are an error, not an empty set of persons.
        let rows = staged_rows(&Key::from_bytes(b"a test key of sixteen bytes"));
        let text = keys_as_text(&rows, hex);
        let e = person_keys(&[text]).unwrap_err().to_string();
        assert!(e.contains("cpr_key"), "{e}");
        assert_eq!(person_keys(&[rows]).unwrap().len(), 2);
    }

    #[test]
    fn a_slice_with_a_key_that_is_not_hex_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let rows = staged_rows(&Key::from_bytes(b"a test key of sixteen bytes"));
        let path = dir.path().join("old.parquet");
        write_as_hex(&path, &rows, |_| "not a key".to_string());
        let e = read(&path).unwrap_err().to_string();
        assert!(
            e.contains("cpr_key") && e.contains("not a person key"),
            "{e}"
        );
    }
}
