//! Staging: accepted rows as Arrow batches, pseudonymised. This is the boundary between the
//! Rust side (ingest, validate, pseudonymise) and the SQL side (`queries/`): the raw CPR
//! number is hashed here and goes no further.

use std::sync::Arc;

use datafusion::arrow::array::{
    ArrayRef, BinaryBuilder, Date32Builder, Int32Builder, Int64Builder, RecordBatch, StringBuilder,
};
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};

use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::basic::Compression;
use datafusion::parquet::file::properties::WriterProperties;

use crate::intake::cpr::Cpr;
use crate::intake::ingest::SourceFile;
use crate::intake::pseudonymise::Key;
use crate::intake::validate::{Identity, RowSink, ValidRow};

/// Rows per staged batch.
const BATCH_ROWS: usize = 32 * 1024;

/// The columns of the `staging` relation that the SQL reads (described in `queries/README.md`).
pub fn schema() -> SchemaRef {
    let s = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
    let i = |name: &str, nullable| Field::new(name, DataType::Int32, nullable);
    let b = |name: &str| Field::new(name, DataType::Binary, true);
    Arc::new(Schema::new(vec![
        s("source_file", false),
        Field::new("source_line", DataType::Int64, false),
        i("count_year", false),
        s("respondent_id", false),
        s("respondent_type", false),
        // Person keys (the HMAC's 32 bytes) of the identifications the row carries.
        b("cpr_key"),
        b("ecpr_key"),
        b("alt_key"),
        b("row_key"),
        Field::new("birth_date", DataType::Date32, true),
        s("sex", true),
        i("age", true),
        i("municipality", false),
        i("home_municipality", true),
        s("situation", false),
        s("residence", false),
        s("duration", true),
        s("mental_illness", true),
        s("substance_abuse", true),
        s("income", true),
        i("children", true),
        s("support", true),
        s("housing_queue", true),
        s("action_plan", true),
        // Format version 2 (NULL when the row does not answer).
        s("background", true),
        s("citizenship", true),
        s("physical_illness", true),
        s("mental_illness_treated", true),
        s("substance_treated", true),
        s("causes", true),
    ]))
}

/// Builds staging batches from accepted rows (a [`RowSink`]).
pub struct StagingBuilder {
    key: Key,
    rows: usize,
    batches: Vec<RecordBatch>,
    /// With a memory limit, batches go to a Parquet file in this folder instead of memory
    /// (so that staging 10M rows does not hold them all): `(folder, writer once opened)`.
    spool: Option<(std::path::PathBuf, Option<ArrowWriter<std::fs::File>>)>,
    spool_error: Option<std::io::Error>,
    source_file: StringBuilder,
    source_line: Int64Builder,
    count_year: Int32Builder,
    respondent_id: StringBuilder,
    respondent_type: StringBuilder,
    cpr_key: BinaryBuilder,
    ecpr_key: BinaryBuilder,
    alt_key: BinaryBuilder,
    row_key: BinaryBuilder,
    birth_date: Date32Builder,
    sex: StringBuilder,
    age: Int32Builder,
    municipality: Int32Builder,
    home_municipality: Int32Builder,
    situation: StringBuilder,
    residence: StringBuilder,
    duration: StringBuilder,
    mental_illness: StringBuilder,
    substance_abuse: StringBuilder,
    income: StringBuilder,
    children: Int32Builder,
    support: StringBuilder,
    housing_queue: StringBuilder,
    action_plan: StringBuilder,
    background: StringBuilder,
    citizenship: StringBuilder,
    physical_illness: StringBuilder,
    mental_illness_treated: StringBuilder,
    substance_treated: StringBuilder,
    causes: StringBuilder,
}

impl StagingBuilder {
    /// `spool`: a folder to write the staged batches to (as `staging-*.parquet`) instead of
    /// keeping them in memory.
    pub fn new(key: Key, spool: Option<std::path::PathBuf>) -> StagingBuilder {
        StagingBuilder {
            key,
            rows: 0,
            batches: Vec::new(),
            spool: spool.map(|dir| (dir, None)),
            spool_error: None,
            source_file: StringBuilder::new(),
            source_line: Int64Builder::new(),
            count_year: Int32Builder::new(),
            respondent_id: StringBuilder::new(),
            respondent_type: StringBuilder::new(),
            cpr_key: BinaryBuilder::new(),
            ecpr_key: BinaryBuilder::new(),
            alt_key: BinaryBuilder::new(),
            row_key: BinaryBuilder::new(),
            birth_date: Date32Builder::new(),
            sex: StringBuilder::new(),
            age: Int32Builder::new(),
            municipality: Int32Builder::new(),
            home_municipality: Int32Builder::new(),
            situation: StringBuilder::new(),
            residence: StringBuilder::new(),
            duration: StringBuilder::new(),
            mental_illness: StringBuilder::new(),
            substance_abuse: StringBuilder::new(),
            income: StringBuilder::new(),
            children: Int32Builder::new(),
            support: StringBuilder::new(),
            housing_queue: StringBuilder::new(),
            action_plan: StringBuilder::new(),
            background: StringBuilder::new(),
            citizenship: StringBuilder::new(),
            physical_illness: StringBuilder::new(),
            mental_illness_treated: StringBuilder::new(),
            substance_treated: StringBuilder::new(),
            causes: StringBuilder::new(),
        }
    }

    fn flush(&mut self) {
        if self.rows == 0 {
            return;
        }
        let columns: Vec<ArrayRef> = vec![
            Arc::new(self.source_file.finish()),
            Arc::new(self.source_line.finish()),
            Arc::new(self.count_year.finish()),
            Arc::new(self.respondent_id.finish()),
            Arc::new(self.respondent_type.finish()),
            Arc::new(self.cpr_key.finish()),
            Arc::new(self.ecpr_key.finish()),
            Arc::new(self.alt_key.finish()),
            Arc::new(self.row_key.finish()),
            Arc::new(self.birth_date.finish()),
            Arc::new(self.sex.finish()),
            Arc::new(self.age.finish()),
            Arc::new(self.municipality.finish()),
            Arc::new(self.home_municipality.finish()),
            Arc::new(self.situation.finish()),
            Arc::new(self.residence.finish()),
            Arc::new(self.duration.finish()),
            Arc::new(self.mental_illness.finish()),
            Arc::new(self.substance_abuse.finish()),
            Arc::new(self.income.finish()),
            Arc::new(self.children.finish()),
            Arc::new(self.support.finish()),
            Arc::new(self.housing_queue.finish()),
            Arc::new(self.action_plan.finish()),
            Arc::new(self.background.finish()),
            Arc::new(self.citizenship.finish()),
            Arc::new(self.physical_illness.finish()),
            Arc::new(self.mental_illness_treated.finish()),
            Arc::new(self.substance_treated.finish()),
            Arc::new(self.causes.finish()),
        ];
        let batch = RecordBatch::try_new(schema(), columns)
            .expect("staging columns match the staging schema");
        self.rows = 0;
        match &mut self.spool {
            None => self.batches.push(batch),
            Some((dir, writer)) => {
                if self.spool_error.is_some() {
                    return;
                }
                if let Err(e) = spool_write(dir, writer, &batch) {
                    self.spool_error = Some(e);
                }
            }
        }
    }

    /// The staged batches (empty when spooled to files). The builder is emptied.
    pub fn finish(mut self) -> std::io::Result<Vec<RecordBatch>> {
        self.flush();
        if let Some(e) = self.spool_error.take() {
            return Err(e);
        }
        if let Some((_, Some(writer))) = self.spool.take() {
            writer.close().map_err(std::io::Error::other)?;
        }
        Ok(self.batches)
    }
}

impl RowSink for StagingBuilder {
    fn accept(&mut self, file: &SourceFile, row: &ValidRow<'_>) {
        let (cpr_key, ecpr_key) = match &row.identity {
            Identity::Cpr(c @ Cpr::Person { .. }) => (Some(self.key.cpr_key(c.canonical())), None),
            Identity::Cpr(c @ Cpr::Replacement { .. }) => {
                (None, Some(self.key.ecpr_key(c.canonical())))
            }
            Identity::None => (None, None),
        };
        // A CPR row has an alternative key when it carries initials (birth date and sex from
        // the CPR number), so that rows without CPR can be linked to it.
        let alt_key = row
            .alt_parts()
            .map(|(birth, male, initials)| self.key.alt_key(birth, male, initials));
        let row_key = (cpr_key.is_none() && ecpr_key.is_none() && alt_key.is_none())
            .then(|| self.key.row_key(&file.name, row.line));

        self.source_file.append_value(&file.name);
        self.source_line.append_value(row.line as i64);
        self.count_year.append_value(row.count_year);
        self.respondent_id.append_value(row.respondent_id);
        self.respondent_type.append_value(row.respondent_type);
        self.cpr_key
            .append_option(cpr_key.as_ref().map(|k| k.as_bytes()));
        self.ecpr_key
            .append_option(ecpr_key.as_ref().map(|k| k.as_bytes()));
        self.alt_key
            .append_option(alt_key.as_ref().map(|k| k.as_bytes()));
        self.row_key
            .append_option(row_key.as_ref().map(|k| k.as_bytes()));
        self.birth_date
            .append_option(row.birth_date.map(days_since_epoch));
        self.sex
            .append_option(row.male.map(|m| if m { "male" } else { "female" }));
        self.age.append_option(row.age);
        self.municipality.append_value(row.municipality as i32);
        self.home_municipality
            .append_option(row.home_municipality.map(i32::from));
        self.situation.append_value(row.situation);
        self.residence.append_value(row.residence);
        self.duration.append_option(row.duration);
        self.mental_illness.append_option(row.mental_illness);
        self.substance_abuse
            .append_option(row.substance_abuse.as_deref());
        self.income.append_option(row.income);
        self.children.append_option(row.children);
        self.support.append_option(row.support.as_deref());
        self.housing_queue.append_option(row.housing_queue);
        self.action_plan.append_option(row.action_plan);
        let form = &row.form;
        self.background.append_option(form.background);
        self.citizenship.append_option(form.citizenship);
        self.physical_illness.append_option(form.physical_illness);
        self.mental_illness_treated
            .append_option(form.mental_illness_treated);
        self.substance_treated.append_option(form.substance_treated);
        self.causes.append_option(form.causes.as_deref());
        self.rows += 1;
        if self.rows >= BATCH_ROWS {
            self.flush();
        }
    }
}

/// Appends a batch to this builder's spool file, opening it on first use. LZ4: staging is
/// read once, right away, so speed matters more than size.
fn spool_write(
    dir: &std::path::Path,
    writer: &mut Option<ArrowWriter<std::fs::File>>,
    batch: &RecordBatch,
) -> std::io::Result<()> {
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    if writer.is_none() {
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let file = std::fs::File::create(dir.join(format!("staging-{n:04}.parquet")))?;
        // The keys are HMACs, nearly unique: a dictionary would be built and thrown away.
        let mut props = WriterProperties::builder().set_compression(Compression::LZ4_RAW);
        for key in ["cpr_key", "ecpr_key", "alt_key", "row_key"] {
            props = props.set_column_dictionary_enabled(
                datafusion::parquet::schema::types::ColumnPath::from(key),
                false,
            );
        }
        let props = props.build();
        *writer =
            Some(ArrowWriter::try_new(file, schema(), Some(props)).map_err(std::io::Error::other)?);
    }
    if let Some(w) = writer {
        w.write(batch).map_err(std::io::Error::other)?;
        // Keep the writer's buffered row group small: memory stays bounded.
        if w.in_progress_size() > 16 << 20 {
            w.flush().map_err(std::io::Error::other)?;
        }
    }
    Ok(())
}

fn days_since_epoch(d: chrono::NaiveDate) -> i32 {
    const EPOCH_CE_DAYS: i32 = 719_163; // 1970-01-01 as days from 0001-01-01
    chrono::Datelike::num_days_from_ce(&d) - EPOCH_CE_DAYS
}
