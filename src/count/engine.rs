//! Engine: the SQL under `queries/`, run by DataFusion. Everything DataFusion-specific lives
//! behind this module: the rest of the program hands in staged batches and gets back Parquet
//! files and small result tables.
//!
//! Convention (DataFusion's own examples): one file, one query, one name.
//! `queries/20_submissions.sql` defines the relation `submissions`; files run in name order
//! and may use every relation defined before them. `queries/tables/<name>.sql` defines the
//! output table `tables/<name>.csv`. The queries are compiled into the binary, so a run
//! always uses the reviewed SQL; `run.json` records their hashes.

use std::path::Path;
use std::sync::Arc;

use datafusion::arrow::array::{Int32Array, RecordBatch, StringArray};
use datafusion::arrow::compute::concat_batches;
use datafusion::arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use datafusion::catalog::MemTable;
use datafusion::execution::SendableRecordBatchStream;
use datafusion::execution::memory_pool::FairSpillPool;
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::parquet::arrow::ArrowWriter;
use datafusion::parquet::arrow::arrow_writer::ArrowWriterOptions;
use datafusion::parquet::arrow::arrow_writer::{ArrowColumnChunk, compute_leaves};
use datafusion::parquet::basic::{Compression, ZstdLevel};
use datafusion::parquet::file::metadata::KeyValue;
use datafusion::parquet::file::properties::WriterProperties;
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::{ParquetReadOptions, SessionConfig, SessionContext};
use futures::{StreamExt, TryStreamExt};
use rayon::prelude::*;

use super::key_range_sort;
use crate::intake::spec;

/// A query file compiled into the binary.
#[derive(Debug, Clone, Copy)]
pub struct Query {
    /// Path under `queries/`.
    pub file: &'static str,
    /// The relation it defines.
    pub name: &'static str,
    pub sql: &'static str,
}

macro_rules! query {
    ($file:literal, $name:literal) => {
        Query {
            file: $file,
            name: $name,
            sql: include_str!(concat!("../../queries/", $file)),
        }
    };
}

/// The pipeline, in order. `submissions` and `persons` are written to Parquet and read back
/// from there by later queries (bounded memory, and the files are artefacts anyway).
pub const PIPELINE: &[Query] = &[
    query!("00_situations.sql", "situations"),
    query!("01_age_groups.sql", "age_groups"),
    query!("10_alt_owners.sql", "alt_owners"),
    query!("15_unit_files.sql", "unit_files"),
    query!("20_submissions.sql", "submissions"),
    query!("30_persons.sql", "persons"),
    query!("35_unit_person_counts.sql", "unit_person_counts"),
    query!("36_counted_rows_by_kind.sql", "counted_rows_by_kind"),
    query!("40_indicator_list.sql", "indicator_list"),
    query!(
        "41_municipal_indicator_counts.sql",
        "municipal_indicator_counts"
    ),
    query!(
        "42_municipal_indicators_long.sql",
        "municipal_indicators_long"
    ),
    query!(
        "43_person_form_indicator_list.sql",
        "person_form_indicator_list"
    ),
];

/// The output tables, in the order of outputs.md.
pub const TABLES: &[Query] = &[
    query!("tables/national_by_category.sql", "national_by_category"),
    query!("tables/municipal_by_category.sql", "municipal_by_category"),
    query!("tables/municipal_totals.sql", "municipal_totals"),
    query!("tables/by_age_group.sql", "by_age_group"),
    query!("tables/by_sex.sql", "by_sex"),
    query!(
        "tables/migrants_no_permanent_residence.sql",
        "migrants_no_permanent_residence"
    ),
    query!("tables/under_18.sql", "under_18"),
    query!("tables/indicators.sql", "indicators"),
    // Format version 2 (outputs.md: after indicators.csv).
    query!("tables/causes.sql", "causes"),
    query!("tables/background.sql", "background"),
    query!("tables/citizenship.sql", "citizenship"),
    query!("tables/health.sql", "health"),
    query!("tables/municipal_indicators.sql", "municipal_indicators"),
    // Beyond outputs.md: for the report.
    query!("tables/by_age_group_and_sex.sql", "by_age_group_and_sex"),
    query!("tables/data_quality.sql", "data_quality"),
    // Margins of the published municipal tables (issue #13, src/publish/disclosure/).
    query!("tables/region_totals.sql", "region_totals"),
    query!("tables/region_by_sex.sql", "region_by_sex"),
    query!("tables/region_by_age_group.sql", "region_by_age_group"),
    query!("tables/linking_sensitivity.sql", "linking_sensitivity"),
    // Comparison abroad (issue #13): the count by ETHOS Light category.
    query!("tables/ethos_light.sql", "ethos_light"),
    query!("tables/respondent_feedback.sql", "respondent_feedback"),
];

/// Relations written to `<name>.parquet` in the output folder.
const MATERIALISED: &[&str] = &["submissions", "persons"];

/// Small pipeline relations, kept in memory once computed: read by several tables, or
/// joined to every row (a table in memory has exact statistics, so DataFusion builds the
/// join's hash table from it once and probes it in place, instead of shuffling all rows
/// between threads by the join key). The fixed lists (`VALUES`) and the long form of the
/// municipal indicators (a `UNION ALL` of 42 branches) are kept too: a view is planned
/// again inside every query that reads it, and at a national count's size planning is most
/// of a table's time (the SQL 0.54 → 0.48 s, median of 8 runs).
const CACHED: &[&str] = &[
    "situations",
    "age_groups",
    "unit_files",
    "municipal_indicator_counts",
    "unit_person_counts",
    "counted_rows_by_kind",
    "indicator_list",
    "municipal_indicators_long",
    "person_form_indicator_list",
];

/// How many rows `submissions` or `persons` may have to be kept in memory after it is
/// written (without `--memory-limit`): a national count has about 10,000 and 7,000.
const SMALL_ENOUGH_TO_KEEP: usize = 250_000;

/// Relations computed once like [`CACHED`], but larger (the owners of alternative keys: at
/// most one per row without a CPR number; 330,000 at 10M rows, 23 MB): a lookup table in
/// memory saves shuffling every row between threads by the join key. Under a memory limit
/// one is kept in memory only while it takes at most 1/[`CACHED_SHARE_OF_LIMIT`] of the
/// limit, else it goes to a Parquet file in the spill folder and is read from there. (Left
/// in the plan, as before, the 10M-row join shuffled 3.9 GB and spilled 1.3 GB of it.)
const CACHED_WHEN_SMALL: &[&str] = &["alt_owners"];

/// See [`CACHED_WHEN_SMALL`].
const CACHED_SHARE_OF_LIMIT: usize = 16;

/// Pipeline relations computed per person: run once per range of person keys, with
/// `submissions` and `persons` narrowed to that range, and the results stacked in range
/// order (see [`by_person_key_range`]).
const BY_PERSON_KEY_RANGE: &[&str] = &["persons", "unit_person_counts", "counted_rows_by_kind"];

/// Pipeline relations sorted by person key that are sorted range by range of the key under
/// a memory limit, instead of by DataFusion's external sort (see [`key_range_sort`]). Also
/// when the rows would fit: one way through under a limit (the tests take it), and less
/// memory (1M rows in 1 GiB: 615 → 400 MB), for some time (9.3–9.8 → 10.3 s).
const SORTED_BY_KEY_RANGE: &[&str] = &["submissions"];

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("query {file}: {source}")]
    Query {
        file: &'static str,
        source: datafusion::error::DataFusionError,
    },
    #[error("writing {path}: {source}")]
    Write {
        path: String,
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error(transparent)]
    DataFusion(#[from] datafusion::error::DataFusionError),
}

impl EngineError {
    /// The memory pool (`--memory-limit`) could not hold what a query needed: a join or a
    /// sort that cannot spill further.
    pub fn is_out_of_memory(&self) -> bool {
        use datafusion::error::DataFusionError;
        match self {
            EngineError::Query { source: e, .. } | EngineError::DataFusion(e) => {
                matches!(e.find_root(), DataFusionError::ResourcesExhausted(_))
            }
            EngineError::Write { .. } => false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct EngineOptions {
    pub threads: usize,
    /// Memory pool size in bytes; DataFusion spills sorts and aggregates past it.
    pub memory_limit: Option<usize>,
    /// Where spill files go (inside the run's temporary output folder).
    pub spill_dir: std::path::PathBuf,
    /// Key/value metadata written into every Parquet file (provenance; never the key).
    pub parquet_metadata: Vec<(String, String)>,
}

/// The accepted rows: in memory, or spooled to Parquet files in a folder (`--memory-limit`).
pub enum Staging {
    Memory(Vec<RecordBatch>),
    Files(std::path::PathBuf),
}

/// The result tables, by name, in [`TABLES`] order.
pub struct EngineOutput {
    pub tables: Vec<(&'static str, Vec<RecordBatch>)>,
    pub submissions_rows: usize,
    pub persons_rows: usize,
}

/// Runs the whole SQL pipeline over the staged rows; writes `submissions.parquet` and
/// `persons.parquet` into `out` and returns the tables.
pub fn run(
    staging: Staging,
    out: &Path,
    options: &EngineOptions,
) -> Result<EngineOutput, EngineError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(options.threads.max(1))
        .thread_name("hcount-engine")
        .build()
        .map_err(|e| EngineError::Write {
            path: "tokio runtime".into(),
            source: Box::new(e),
        })?;
    runtime.block_on(run_async(staging, out, options))
}

async fn run_async(
    staging: Staging,
    out: &Path,
    options: &EngineOptions,
) -> Result<EngineOutput, EngineError> {
    let ctx = context(options)?;
    match staging {
        Staging::Memory(batches) => {
            let threads = options.threads.max(1);
            // Spread the staged batches over the partitions so every thread has work.
            let mut partitions: Vec<Vec<RecordBatch>> = vec![Vec::new(); threads];
            for (i, batch) in batches.into_iter().enumerate() {
                partitions[i % threads].push(batch);
            }
            ctx.register_table(
                "staging",
                Arc::new(MemTable::try_new(
                    crate::count::staging::schema(),
                    partitions,
                )?),
            )?;
        }
        Staging::Files(dir) => {
            let schema = crate::count::staging::schema();
            let options = ParquetReadOptions::default()
                .file_extension(".parquet")
                .schema(&schema);
            ctx.register_parquet("staging", dir.to_string_lossy().as_ref(), options)
                .await?;
        }
    }
    ctx.register_table("municipalities", Arc::new(municipalities_table()?))?;
    ctx.register_table("ethos_light_map", Arc::new(ethos_light_table()?))?;

    let mut submissions_rows = 0;
    let mut persons_rows = 0;
    for q in PIPELINE {
        let df = plan(&ctx, q).await?;
        if MATERIALISED.contains(&q.name) {
            if std::env::var_os("HCOUNT_EXPLAIN").is_some() {
                // For profiling: the plan with run-time metrics (runs the query once more).
                let batches = df.clone().explain(false, true)?.collect().await?;
                let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                    .map_err(datafusion::error::DataFusionError::from)?;
                eprintln!("{text}");
            }
            let path = out.join(format!("{}.parquet", q.name));
            let started = std::time::Instant::now();
            let batches = execute(&ctx, q, df, options, submissions_rows).await?;
            let rows = write_parquet(batches, &path, options)
                .await
                .map_err(|source| EngineError::Query {
                    file: q.file,
                    source,
                })?;
            crate::progress::trace_took(q.file, started);
            if q.name == "submissions" {
                submissions_rows = rows;
            } else {
                persons_rows = rows;
            }
            let read_back = ctx
                .read_parquet(
                    path.to_string_lossy().as_ref(),
                    ParquetReadOptions::default(),
                )
                .await?;
            if options.memory_limit.is_none() && rows <= SMALL_ENOUGH_TO_KEEP {
                // Read back once and kept: every table reads `persons`, and a scan of the
                // file is planned (footer, statistics, pruning) and decoded anew each time.
                let schema: SchemaRef = Arc::new(read_back.schema().as_arrow().clone());
                let batches = read_back.collect().await?;
                ctx.register_table(q.name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
            } else {
                ctx.register_table(q.name, read_back.into_view())?;
            }
        } else if CACHED.contains(&q.name) || CACHED_WHEN_SMALL.contains(&q.name) {
            // Small, and read by several tables (or by range): computed once.
            let started = std::time::Instant::now();
            let batches = execute(&ctx, q, df, options, submissions_rows).await?;
            let schema = batches.schema();
            let batches: Vec<RecordBatch> = batches.try_collect().await?;
            match options.memory_limit {
                Some(limit) if CACHED_WHEN_SMALL.contains(&q.name) => {
                    register_within(&ctx, q.name, schema, batches, limit, &options.spill_dir)
                        .await?
                }
                _ => {
                    ctx.register_table(
                        q.name,
                        Arc::new(MemTable::try_new(schema, vec![batches])?),
                    )?;
                }
            }
            crate::progress::trace_took(q.file, started);
        } else {
            ctx.register_table(q.name, df.into_view())?;
        }
    }

    // The output tables are small and independent: several run at once. At a national
    // count's size each query is mostly planning and hand-offs between threads (10–40 ms
    // for a few thousand persons), so one after the other they left the cores idle. They
    // are kept in TABLES order whatever finishes first. Under a memory limit, one at a
    // time: each may then need its share of the pool.
    let at_once = if options.memory_limit.is_none() {
        4 * options.threads.max(1)
    } else {
        1
    };
    // Each is spawned, planning included: planning is most of a small table's time, and
    // a future polled by `block_on` is planned on the calling thread, one query after the
    // other, while the engine's threads wait (at a national count's size the SQL took a
    // quarter longer).
    let tables: Vec<(&'static str, Vec<RecordBatch>)> = futures::stream::iter(TABLES)
        .map(|q| {
            let ctx = ctx.clone();
            async move {
                tokio::spawn(async move {
                    let started = std::time::Instant::now();
                    let df = plan(&ctx, q).await?;
                    let batches = df.collect().await.map_err(|source| EngineError::Query {
                        file: q.file,
                        source,
                    })?;
                    crate::progress::trace_took(q.file, started);
                    Ok::<_, EngineError>((q.name, batches))
                })
                .await
                .map_err(|e| EngineError::Query {
                    file: q.file,
                    source: datafusion::error::DataFusionError::External(Box::new(e)),
                })?
            }
        })
        .buffered(at_once)
        .try_collect()
        .await?;
    Ok(EngineOutput {
        tables,
        submissions_rows,
        persons_rows,
    })
}

fn context(options: &EngineOptions) -> Result<SessionContext, EngineError> {
    let config = SessionConfig::new()
        .with_target_partitions(options.threads.max(1))
        .with_information_schema(false)
        // One pass of the logical optimizer instead of up to three: the outputs are
        // byte-identical (the README's three counts, the national set, 1M rows) and 1M rows
        // take as long within the noise, but planning ~40 queries up to three times cost a
        // debug run (every test) 0.27 of its 1.4 s of SQL (docs/DECISIONS.md).
        .set_usize("datafusion.optimizer.max_passes", 1)
        // A join with a small side builds one hash table from it and probes it in place,
        // instead of shuffling both sides between threads by the join key. DataFusion's
        // default calls a side small up to 1 MB; the (respondent_id, file) pairs are 1.7 MB
        // at 10M rows and the owners of alternative keys 23 MB, so every row was shuffled
        // (3.3 GB) to meet them.
        .set_usize(
            "datafusion.optimizer.hash_join_single_partition_threshold",
            SMALL_JOIN_SIDE_BYTES,
        )
        .set_usize(
            "datafusion.optimizer.hash_join_single_partition_threshold_rows",
            SMALL_JOIN_SIDE_ROWS,
        )
        // Strings read from Parquet as string views (DataFusion's default) are faster, but
        // a view batch is accounted — and kept alive — with every data buffer it points
        // into: under a memory limit a per-range sort then asked for 280 MB at once and a
        // 1M-row run failed now and then. So views only without a limit.
        .set_bool(
            "datafusion.execution.parquet.schema_force_view_types",
            options.memory_limit.is_none(),
        );
    // Larger batches than DataFusion's 8,192 rows: a sort merges its sorted batches in one
    // pass, and at 10 million rows a 1,200-way merge took 31 s where a 150-way one took 20 s
    // (20_submissions.sql). Under a memory limit the default stays: there, larger batches
    // only raised the peak memory (1.2 → 1.7 GB at 10M rows).
    let config = if options.memory_limit.is_none() {
        config.with_batch_size(65_536)
    } else {
        config
    };
    let mut runtime = RuntimeEnvBuilder::new().with_temp_file_path(&options.spill_dir);
    if let Some(limit) = options.memory_limit {
        runtime = runtime.with_memory_pool(Arc::new(FairSpillPool::new(limit)));
    }
    Ok(SessionContext::new_with_config_rt(
        config,
        runtime.build_arc()?,
    ))
}

/// The most a join's side may hold to be built once and probed in place (see [`context`]).
const SMALL_JOIN_SIDE_BYTES: usize = 64 << 20;
const SMALL_JOIN_SIDE_ROWS: usize = 1 << 20;

/// Plans one query file: a single read-only statement.
async fn plan(
    ctx: &SessionContext,
    q: &Query,
) -> Result<datafusion::dataframe::DataFrame, EngineError> {
    let options = datafusion::execution::context::SQLOptions::new()
        .with_allow_ddl(false)
        .with_allow_dml(false)
        .with_allow_statements(false);
    // HCOUNT_QUERIES_DIR: read the SQL from a working copy of queries/ instead of the
    // compiled-in files — for trying a change to the rules before it is reviewed and built.
    let sql = match std::env::var_os("HCOUNT_QUERIES_DIR") {
        Some(dir) => std::fs::read_to_string(Path::new(&dir).join(q.file)).map_err(|e| {
            EngineError::Query {
                file: q.file,
                source: datafusion::error::DataFusionError::External(Box::new(e)),
            }
        })?,
        None => q.sql.to_string(),
    };
    ctx.sql_with_options(&sql, options)
        .await
        .map_err(|source| EngineError::Query {
            file: q.file,
            source,
        })
}

/// Streams a query result into one Parquet file. Rows are cut into row groups of a fixed
/// size first, so that page and row-group boundaries — and so the file's bytes — do not
/// depend on how the engine happened to batch its output. Row groups are encoded on a
/// thread of their own, one after the other, while the query goes on producing the next
/// rows (the last merge of a sort is single-threaded: the other core encodes meanwhile);
/// within a row group the columns are encoded and compressed in parallel.
async fn write_parquet(
    mut stream: SendableRecordBatchStream,
    path: &Path,
    options: &EngineOptions,
) -> Result<usize, datafusion::error::DataFusionError> {
    use datafusion::error::DataFusionError;
    use datafusion::parquet::schema::types::ColumnPath;
    let produced_schema = stream.schema();
    let schema = with_hex_person_key(&produced_schema);
    let metadata: Vec<KeyValue> = options
        .parquet_metadata
        .iter()
        .map(|(k, v)| KeyValue::new(k.clone(), v.clone()))
        .collect();
    let props = WriterProperties::builder()
        .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
        .set_key_value_metadata(Some(metadata))
        .set_created_by(format!("hcount {}", env!("CARGO_PKG_VERSION")))
        // Unique per row (or nearly): a dictionary would only be built and thrown away.
        // (1M rows: encoding 1.4 → 1.1 s, and the files are smaller.)
        .set_column_dictionary_enabled(ColumnPath::from("person_key"), false)
        .set_column_dictionary_enabled(ColumnPath::from("row_order"), false)
        .build();
    let file = std::fs::File::create(path)?;
    // ArrowWriter converts the schema; then we take over its file writer. The Arrow schema
    // is not embedded: the Parquet types say all a reader needs, and the bytes then do not
    // depend on whether the engine held a string column as views or not (it does with no
    // memory limit, not with one; the files must be the same either way).
    let (mut writer, factory) = ArrowWriter::try_new_with_options(
        file,
        schema.clone(),
        ArrowWriterOptions::new()
            .with_properties(props)
            .with_skip_arrow_metadata(true),
    )?
    .into_serialized_writer()?;
    let encoder_schema = schema.clone();
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    // Two row groups may wait: enough to keep the encoder busy, little memory.
    let (to_encoder, row_groups) = std::sync::mpsc::sync_channel::<RecordBatch>(2);
    let encoder = std::thread::Builder::new()
        .name("hcount-parquet".into())
        .spawn(move || -> Result<(), DataFusionError> {
            let mut busy = std::time::Duration::ZERO;
            for (index, batch) in row_groups.into_iter().enumerate() {
                let started = std::time::Instant::now();
                let batch = hex_person_key(batch, &encoder_schema)?;
                let writers = factory.create_column_writers(index)?;
                // One Arrow column may be several Parquet leaves (never here: the columns
                // are flat), so pair writers with leaves in order.
                let mut leaves = Vec::with_capacity(writers.len());
                for (field, column) in encoder_schema.fields().iter().zip(batch.columns()) {
                    leaves.extend(compute_leaves(field, column)?);
                }
                let chunks: Vec<ArrowColumnChunk> = writers
                    .into_par_iter()
                    .zip(leaves.into_par_iter())
                    .map(|(mut w, leaf)| {
                        w.write(&leaf)?;
                        w.close()
                    })
                    .collect::<Result<_, _>>()?;
                let mut group = writer.next_row_group()?;
                for chunk in chunks {
                    chunk.append_to_row_group(&mut group)?;
                }
                group.close()?;
                busy += started.elapsed();
            }
            writer.close()?;
            if std::env::var_os("HCOUNT_TRACE").is_some() {
                eprintln!(
                    "hcount: encoding {} took {:.3} s",
                    file_name,
                    busy.as_secs_f64()
                );
            }
            Ok(())
        })?;
    let mut pending: Vec<RecordBatch> = Vec::new();
    let mut pending_rows = 0;
    let mut total = 0;
    let produced: Result<(), DataFusionError> = async {
        while let Some(batch) = stream.next().await {
            let mut batch = batch?;
            // Cut the incoming batch where a row group ends; the rest waits for the next
            // group. (Never concatenate the rest into a new pending batch: a string-view
            // column keeps every data buffer of its sources, so the pending rows would hold
            // on to all the strings seen so far — gigabytes at 10M rows.)
            while pending_rows + batch.num_rows() >= ROW_GROUP_ROWS {
                let take = ROW_GROUP_ROWS - pending_rows;
                pending.push(batch.slice(0, take));
                let group = concat_batches(&produced_schema, &pending)?;
                pending.clear();
                pending_rows = 0;
                total += ROW_GROUP_ROWS;
                if to_encoder.send(group).is_err() {
                    return Ok(()); // the encoder stopped: its error is reported below
                }
                batch = batch.slice(take, batch.num_rows() - take);
            }
            if batch.num_rows() > 0 {
                pending_rows += batch.num_rows();
                pending.push(batch);
            }
        }
        if pending_rows > 0 {
            total += pending_rows;
            let _ = to_encoder.send(concat_batches(&produced_schema, &pending)?);
        }
        Ok(())
    }
    .await;
    drop(to_encoder);
    let encoded = encoder
        .join()
        .map_err(|_| DataFusionError::Execution("the Parquet encoder panicked".into()))?;
    produced?;
    encoded?;
    Ok(total)
}

/// Registers `batches` as relation `name`: in memory when they take at most
/// 1/[`CACHED_SHARE_OF_LIMIT`] of `limit`, else as a Parquet file in `spill_dir`.
async fn register_within(
    ctx: &SessionContext,
    name: &str,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
    limit: usize,
    spill_dir: &Path,
) -> Result<(), EngineError> {
    let size: usize = batches.iter().map(|b| b.get_array_memory_size()).sum();
    if size <= limit / CACHED_SHARE_OF_LIMIT {
        ctx.register_table(name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
    } else {
        let path = spill_dir.join(format!("{name}.parquet"));
        write_spill_parquet(&path, schema, batches)?;
        let table = ctx
            .read_parquet(
                path.to_string_lossy().as_ref(),
                ParquetReadOptions::default(),
            )
            .await?;
        ctx.register_table(name, table.into_view())?;
    }
    Ok(())
}

/// `batches` as one Parquet file, for the engine itself to read back (not an output file).
fn write_spill_parquet(
    path: &Path,
    schema: SchemaRef,
    batches: Vec<RecordBatch>,
) -> Result<(), datafusion::error::DataFusionError> {
    let mut writer = ArrowWriter::try_new(std::fs::File::create(path)?, schema, None)?;
    for batch in batches {
        writer.write(&batch)?;
    }
    writer.close()?;
    Ok(())
}

/// The schema a query's result is written with: a binary `person_key` (the HMAC's 32 bytes,
/// as the pipeline links and sorts on them) becomes the 64 lower-case hex characters that
/// categories.md defines and every file holds.
fn with_hex_person_key(schema: &SchemaRef) -> SchemaRef {
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .map(|f| {
            if is_binary_person_key(f) {
                Field::new(f.name(), DataType::Utf8, f.is_nullable())
            } else {
                f.as_ref().clone()
            }
        })
        .collect();
    Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
}

fn is_binary_person_key(field: &Field) -> bool {
    field.name() == "person_key"
        && matches!(
            field.data_type(),
            DataType::Binary | DataType::LargeBinary | DataType::BinaryView
        )
}

/// A row group as written (see [`with_hex_person_key`]): the key's bytes as lower-case hex.
/// Done on the encoder's thread, while the query goes on.
fn hex_person_key(
    batch: RecordBatch,
    written: &SchemaRef,
) -> Result<RecordBatch, datafusion::error::DataFusionError> {
    use datafusion::arrow::array::{Array, ArrayRef, AsArray};
    use datafusion::arrow::buffer::OffsetBuffer;
    let mut columns: Vec<ArrayRef> = Vec::with_capacity(batch.num_columns());
    for (column, field) in batch.columns().iter().zip(batch.schema().fields()) {
        if !is_binary_person_key(field) {
            columns.push(column.clone());
            continue;
        }
        let column = datafusion::arrow::compute::cast(column, &DataType::Binary)?;
        let bytes = column.as_binary::<i32>();
        let mut hex = Vec::with_capacity(bytes.len() * 64);
        let mut offsets = Vec::with_capacity(bytes.len() + 1);
        offsets.push(0i32);
        for key in bytes.iter() {
            crate::intake::pseudonymise::push_hex(key.unwrap_or_default(), &mut hex);
            let end = i32::try_from(hex.len()).map_err(|_| {
                datafusion::error::DataFusionError::Execution("person keys too long".into())
            })?;
            offsets.push(end);
        }
        columns.push(Arc::new(StringArray::try_new(
            OffsetBuffer::new(offsets.into()),
            hex.into(),
            bytes.nulls().cloned(),
        )?));
    }
    Ok(RecordBatch::try_new(written.clone(), columns)?)
}

/// Runs a pipeline query: those of [`BY_PERSON_KEY_RANGE`] range by range, the others as
/// the one plan `df` already is.
async fn execute(
    ctx: &SessionContext,
    q: &Query,
    df: datafusion::dataframe::DataFrame,
    options: &EngineOptions,
    submissions_rows: usize,
) -> Result<SendableRecordBatchStream, EngineError> {
    if BY_PERSON_KEY_RANGE.contains(&q.name) {
        let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
        by_person_key_range(ctx, q, schema, options, submissions_rows).await
    } else if options.memory_limit.is_some()
        && SORTED_BY_KEY_RANGE.contains(&q.name)
        && let Some((unsorted, order)) = key_range_sort::without_top_sort(&df)
    {
        let dir = options.spill_dir.join(format!("{}-by-key-range", q.name));
        Ok(key_range_sort::sorted_by_key_range(ctx, unsorted, order, dir, options.threads).await?)
    } else {
        Ok(df.execute_stream().await?)
    }
}

/// Runs a per-person query (`30_persons.sql`, `35_unit_person_counts.sql`) once per range
/// of person keys and returns the results one range after the other.
///
/// Why: everything in such a query is per person, and `submissions.parquet` is sorted by
/// person key, so each range reads only its own row groups (Parquet statistics) and needs
/// only its own share of the memory (for persons: the hash tables of the two aggregations
/// and of the join back to the deciding row). Ranges run in parallel, one thread each, with
/// no repartitioning between threads. The ranges are in key order, so when each range's
/// result is sorted by person key, the concatenation is the query's own
/// `ORDER BY person_key`. Person keys are hex HMACs, spread evenly over the ranges.
async fn by_person_key_range(
    ctx: &SessionContext,
    q: &Query,
    schema: SchemaRef,
    options: &EngineOptions,
    rows: usize,
) -> Result<SendableRecordBatchStream, EngineError> {
    let threads = options.threads.max(1);
    let ranges = key_ranges(threads, rows);
    let mut tasks = Vec::with_capacity(ranges.len());
    for (lo, hi) in ranges {
        use datafusion::prelude::{col, lit};
        // A context of its own per range: the same memory pool and relations, one partition.
        let range_ctx = SessionContext::new_with_config_rt(
            ctx.copied_config().with_target_partitions(1),
            ctx.runtime_env(),
        );
        let mut filter = col("person_key").gt_eq(lit(lo));
        if let Some(hi) = hi {
            filter = filter.and(col("person_key").lt(lit(hi)));
        }
        for earlier in PIPELINE.iter().take_while(|e| e.name != q.name) {
            let table = ctx.table(earlier.name).await?;
            let table = if ["submissions", "persons"].contains(&earlier.name) {
                table.filter(filter.clone())?
            } else {
                table
            };
            range_ctx.register_table(earlier.name, table.into_view())?;
        }
        let df = plan(&range_ctx, q).await?;
        // For profiling: the first range's plan with run-time metrics (runs it once more).
        if std::env::var_os("HCOUNT_EXPLAIN_RANGE").is_some() && tasks.is_empty() {
            let batches = df.clone().explain(false, true)?.collect().await?;
            let text = datafusion::arrow::util::pretty::pretty_format_batches(&batches)
                .map_err(datafusion::error::DataFusionError::from)?;
            eprintln!("{text}");
        }
        tasks.push(async move {
            // Spawned, so that ranges run on different threads.
            tokio::spawn(df.collect())
                .await
                .map_err(|e| datafusion::error::DataFusionError::External(Box::new(e)))?
        });
    }
    // At most `threads` ranges at a time, results in range order.
    Ok(key_range_sort::in_range_order(schema, tasks, threads))
}

/// Ranges of person keys (lowercase hex), as `[lo, hi)` with the last one open: at least one
/// per thread, and more for many rows so that each range's hash tables stay small (about
/// 300,000 rows a range; a power of two, at most 256).
fn key_ranges(threads: usize, rows: usize) -> Vec<(String, Option<String>)> {
    let wanted = threads.max(rows.div_ceil(ROWS_PER_KEY_RANGE)).clamp(1, 256);
    let n = wanted.next_power_of_two().min(256);
    (0..n)
        .map(|i| {
            let lo = format!("{:02x}", i * 256 / n);
            let hi = (i + 1 < n).then(|| format!("{:02x}", (i + 1) * 256 / n));
            (if i == 0 { String::new() } else { lo }, hi)
        })
        .collect()
}

const ROWS_PER_KEY_RANGE: usize = 300_000;

/// Rows per Parquet row group: small enough that reading back is parallel, large enough
/// that each column chunk compresses well.
const ROW_GROUP_ROWS: usize = 64 * 1024;

fn municipalities_table() -> Result<MemTable, EngineError> {
    let list = spec::municipalities();
    let schema = Arc::new(Schema::new(vec![
        Field::new("code", DataType::Int32, false),
        Field::new("name", DataType::Utf8, false),
        Field::new("region", DataType::Utf8, false),
    ]));
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from_iter_values(
                list.iter().map(|m| m.code as i32),
            )),
            Arc::new(StringArray::from_iter_values(list.iter().map(|m| m.name))),
            Arc::new(StringArray::from_iter_values(list.iter().map(|m| m.region))),
        ],
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

/// The ETHOS Light placement of every SFI category (`data/ethos_light/mapping.csv`), with
/// the category's order: `situation`, `ethos_light` (`1`–`6`, `outside`, `unknown`), `ord`.
fn ethos_light_table() -> Result<MemTable, EngineError> {
    let list = crate::count::ethos::mapping();
    let schema = Arc::new(Schema::new(vec![
        Field::new("situation", DataType::Utf8, false),
        Field::new("ethos_light", DataType::Utf8, false),
        Field::new("ord", DataType::Int32, false),
    ]));
    let ord = |code: &str| match code {
        crate::count::ethos::OUTSIDE => 8,
        crate::count::ethos::UNKNOWN => 9,
        n => n.parse().unwrap_or(9),
    };
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(StringArray::from_iter_values(
                list.iter().map(|p| p.situation.as_str()),
            )),
            Arc::new(StringArray::from_iter_values(
                list.iter().map(|p| p.ethos_light.as_str()),
            )),
            Arc::new(Int32Array::from_iter_values(
                list.iter().map(|p| ord(&p.ethos_light)),
            )),
        ],
    )
    .map_err(datafusion::error::DataFusionError::from)?;
    Ok(MemTable::try_new(schema, vec![vec![batch]])?)
}

/// The warehouse queries (`queries/warehouse/`): the linkage of persons between the counts
/// of a warehouse (issue #12), run by [`warehouse_tables`]. Same conventions as [`PIPELINE`].
pub const WAREHOUSE_PIPELINE: &[Query] = &[
    query!("warehouse/10_counted.sql", "counted"),
    query!("warehouse/20_previous_years.sql", "previous_years"),
    query!("warehouse/30_person_status.sql", "person_status"),
];

/// The warehouse tables, each written per year as `year=YYYY/tables/<name>.csv`.
pub const WAREHOUSE_TABLES: &[Query] = &[
    query!("warehouse/tables/linkage.sql", "linkage"),
    query!("warehouse/tables/transitions.sql", "transitions"),
    query!(
        "warehouse/tables/linkage_by_municipality.sql",
        "linkage_by_municipality"
    ),
    query!(
        "warehouse/tables/linkage_by_age_group.sql",
        "linkage_by_age_group"
    ),
    query!("warehouse/tables/linkage_by_sex.sql", "linkage_by_sex"),
    query!(
        "warehouse/tables/linkage_by_support.sql",
        "linkage_by_support"
    ),
];

/// Runs the warehouse queries over the persons of every stored year: `years` pairs each
/// count year with its `persons.parquet`. Returns the [`WAREHOUSE_TABLES`], every year in
/// one table with a `year` column.
pub fn warehouse_tables(
    years: &[(i32, std::path::PathBuf)],
    threads: usize,
) -> Result<Vec<(&'static str, Vec<RecordBatch>)>, EngineError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(threads.max(1))
        .thread_name("hcount-warehouse")
        .build()
        .map_err(|e| EngineError::Write {
            path: "tokio runtime".into(),
            source: Box::new(e),
        })?;
    runtime.block_on(async {
        use datafusion::prelude::{col, lit};
        let ctx = SessionContext::new_with_config(
            SessionConfig::new()
                .with_target_partitions(threads.max(1))
                .with_information_schema(false),
        );
        // One relation over all years, with the year of its partition folder (year=YYYY):
        // what a Hive-partitioned read gives, but only from the years the manifest lists.
        let mut all: Option<datafusion::dataframe::DataFrame> = None;
        for (year, path) in years {
            let df = ctx
                .read_parquet(
                    path.to_string_lossy().as_ref(),
                    ParquetReadOptions::default(),
                )
                .await?
                .select(vec![
                    lit(*year).alias("year"),
                    col("person_key"),
                    col("id_kind"),
                    col("situation"),
                    col("municipality"),
                    col("age_group"),
                    col("sex"),
                    col("support"),
                    col("counted"),
                ])?;
            all = Some(match all {
                Some(a) => a.union(df)?,
                None => df,
            });
        }
        let Some(all) = all else {
            return Ok(Vec::new());
        };
        ctx.register_table("warehouse_persons", all.into_view())?;
        let year_schema = Arc::new(Schema::new(vec![Field::new(
            "year",
            DataType::Int32,
            false,
        )]));
        let year_batch = RecordBatch::try_new(
            year_schema.clone(),
            vec![Arc::new(Int32Array::from_iter_values(
                years.iter().map(|(y, _)| *y),
            ))],
        )
        .map_err(datafusion::error::DataFusionError::from)?;
        ctx.register_table(
            "warehouse_years",
            Arc::new(MemTable::try_new(year_schema, vec![vec![year_batch]])?),
        )?;
        ctx.register_table("municipalities", Arc::new(municipalities_table()?))?;
        // The precedence order and the age groups: the count's own definitions.
        for q in PIPELINE
            .iter()
            .filter(|q| ["situations", "age_groups"].contains(&q.name))
        {
            let df = plan(&ctx, q).await?;
            ctx.register_table(q.name, df.into_view())?;
        }
        for q in WAREHOUSE_PIPELINE {
            let started = std::time::Instant::now();
            let df = plan(&ctx, q).await?;
            // Computed once: each is read by several tables.
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let batches = df.collect().await.map_err(|source| EngineError::Query {
                file: q.file,
                source,
            })?;
            ctx.register_table(q.name, Arc::new(MemTable::try_new(schema, vec![batches])?))?;
            crate::progress::trace_took(q.file, started);
        }
        let mut tables = Vec::with_capacity(WAREHOUSE_TABLES.len());
        for q in WAREHOUSE_TABLES {
            let started = std::time::Instant::now();
            let df = plan(&ctx, q).await?;
            let schema: SchemaRef = Arc::new(df.schema().as_arrow().clone());
            let mut batches = df.collect().await.map_err(|source| EngineError::Query {
                file: q.file,
                source,
            })?;
            // An empty result still has its columns (a table of one year has no transitions).
            if batches.is_empty() {
                batches.push(RecordBatch::new_empty(schema));
            }
            crate::progress::trace_took(q.file, started);
            tables.push((q.name, batches));
        }
        Ok(tables)
    })
}

/// Copies the Parquet file `src` to `dst` with every value of the string column `column`
/// replaced by `map(value)` (re-keying the person keys of a warehouse). Rows, row order,
/// the other columns and the file's key/value metadata stay as they were; the file is
/// written the way the pipeline writes its own, so the same input gives the same bytes.
pub fn map_parquet_column(
    src: &Path,
    dst: &Path,
    column: &str,
    map: &(dyn Fn(&str) -> String + Sync),
) -> Result<usize, EngineError> {
    use datafusion::arrow::array::{Array, AsArray};
    use datafusion::arrow::compute::cast;
    use datafusion::error::DataFusionError;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let write_err = |e: Box<dyn std::error::Error + Send + Sync>| EngineError::Write {
        path: dst.display().to_string(),
        source: e,
    };
    let file = std::fs::File::open(src).map_err(|e| write_err(Box::new(e)))?;
    let builder = ParquetRecordBatchReaderBuilder::try_new(file)
        .map_err(|e| DataFusionError::ParquetError(Box::new(e)))?;
    let metadata: Vec<(String, String)> = builder
        .metadata()
        .file_metadata()
        .key_value_metadata()
        .map(|kv| {
            kv.iter()
                .map(|k| (k.key.clone(), k.value.clone().unwrap_or_default()))
                .collect()
        })
        .unwrap_or_default();
    let schema = builder.schema().clone();
    let index = schema.index_of(column).map_err(DataFusionError::from)?;
    let reader = builder
        .build()
        .map_err(|e| DataFusionError::ParquetError(Box::new(e)))?;
    let mut batches = Vec::new();
    for batch in reader {
        let batch = batch.map_err(DataFusionError::from)?;
        let keys = cast(batch.column(index), &DataType::Utf8).map_err(DataFusionError::from)?;
        let keys = keys.as_string::<i32>();
        let mapped: StringArray = (0..keys.len())
            .map(|i| (!keys.is_null(i)).then(|| map(keys.value(i))))
            .collect();
        let mut columns = batch.columns().to_vec();
        columns[index] = Arc::new(mapped);
        batches.push(RecordBatch::try_new(schema.clone(), columns).map_err(DataFusionError::from)?);
    }
    let stream: SendableRecordBatchStream = Box::pin(RecordBatchStreamAdapter::new(
        schema,
        futures::stream::iter(batches.into_iter().map(Ok)),
    ));
    let options = EngineOptions {
        threads: 1,
        memory_limit: None,
        spill_dir: std::env::temp_dir(),
        parquet_metadata: metadata,
    };
    futures::executor::block_on(write_parquet(stream, dst, &options)).map_err(EngineError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_query_file_is_compiled_in_and_named_after_its_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries");
        let mut on_disk = Vec::new();
        for sub in ["", "tables/"] {
            for e in std::fs::read_dir(dir.join(sub)).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".sql") {
                    on_disk.push(format!("{sub}{name}"));
                }
            }
        }
        on_disk.sort();
        let mut compiled: Vec<String> = PIPELINE
            .iter()
            .chain(TABLES)
            .map(|q| q.file.to_string())
            .collect();
        compiled.sort();
        assert_eq!(on_disk, compiled);
        for q in PIPELINE.iter().chain(TABLES) {
            let stem = q.file.rsplit('/').next().unwrap().trim_end_matches(".sql");
            let stem = stem.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
            assert_eq!(stem, q.name, "{}", q.file);
        }
        // Pipeline files run in file-name order.
        let mut sorted = PIPELINE.to_vec();
        sorted.sort_by_key(|q| q.file);
        assert_eq!(
            sorted.iter().map(|q| q.file).collect::<Vec<_>>(),
            PIPELINE.iter().map(|q| q.file).collect::<Vec<_>>()
        );
    }

    #[test]
    fn every_warehouse_query_is_compiled_in_and_named_after_its_file() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("queries/warehouse");
        let mut on_disk = Vec::new();
        for sub in ["", "tables/"] {
            for e in std::fs::read_dir(dir.join(sub)).unwrap() {
                let name = e.unwrap().file_name().to_string_lossy().into_owned();
                if name.ends_with(".sql") {
                    on_disk.push(format!("warehouse/{sub}{name}"));
                }
            }
        }
        on_disk.sort();
        let mut compiled: Vec<String> = WAREHOUSE_PIPELINE
            .iter()
            .chain(WAREHOUSE_TABLES)
            .map(|q| q.file.to_string())
            .collect();
        compiled.sort();
        assert_eq!(on_disk, compiled);
        for q in WAREHOUSE_PIPELINE.iter().chain(WAREHOUSE_TABLES) {
            let stem = q.file.rsplit('/').next().unwrap().trim_end_matches(".sql");
            let stem = stem.trim_start_matches(|c: char| c.is_ascii_digit() || c == '_');
            assert_eq!(stem, q.name, "{}", q.file);
        }
    }

    /// `20_submissions.sql` as planned under a memory limit: its sort is one the ranges of
    /// [`key_range_sort`] can take over (else it would silently fall back to DataFusion's
    /// external sort).
    #[test]
    fn submissions_can_be_sorted_by_key_range() {
        let options = EngineOptions {
            threads: 2,
            memory_limit: Some(64 << 20),
            spill_dir: std::env::temp_dir(),
            parquet_metadata: Vec::new(),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let ctx = context(&options).unwrap();
            let staging =
                MemTable::try_new(crate::count::staging::schema(), vec![Vec::new()]).unwrap();
            ctx.register_table("staging", Arc::new(staging)).unwrap();
            for q in PIPELINE.iter().take_while(|q| q.name != "submissions") {
                let df = plan(&ctx, q).await.unwrap();
                ctx.register_table(q.name, df.into_view()).unwrap();
            }
            let q = PIPELINE.iter().find(|q| q.name == "submissions").unwrap();
            assert!(SORTED_BY_KEY_RANGE.contains(&q.name));
            let df = plan(&ctx, q).await.unwrap();
            let (_, order) = key_range_sort::without_top_sort(&df).expect("sorted at the top");
            let names: Vec<String> = order.iter().map(|s| s.expr.to_string()).collect();
            assert_eq!(names, ["person_key", "row_order"]);
        });
    }

    /// A relation kept for later queries stays in memory while small beside the limit, and
    /// goes to a file in the spill folder when not; both read back the same.
    #[test]
    fn a_cached_relation_too_large_for_the_limit_goes_to_a_file() {
        let schema = Arc::new(Schema::new(vec![Field::new("n", DataType::Int32, false)]));
        let batch = RecordBatch::try_new(
            schema.clone(),
            vec![Arc::new(Int32Array::from_iter_values(0..10_000))],
        )
        .unwrap();
        let size = batch.get_array_memory_size();
        let runtime = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        runtime.block_on(async {
            let dir = tempfile::tempdir().unwrap();
            let ctx = SessionContext::new();
            let roomy = size * CACHED_SHARE_OF_LIMIT;
            let tight = roomy - 1;
            for (name, limit) in [("roomy", roomy), ("tight", tight)] {
                register_within(
                    &ctx,
                    name,
                    schema.clone(),
                    vec![batch.clone()],
                    limit,
                    dir.path(),
                )
                .await
                .unwrap();
                let sum = ctx
                    .sql(&format!("SELECT sum(n) FROM {name}"))
                    .await
                    .unwrap()
                    .collect()
                    .await
                    .unwrap();
                let sum = sum[0]
                    .column(0)
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::Int64Array>();
                assert_eq!(sum.unwrap().value(0), 49_995_000, "{name}");
            }
            assert!(!dir.path().join("roomy.parquet").exists());
            assert!(dir.path().join("tight.parquet").exists());
        });
    }

    #[test]
    fn key_ranges_cover_every_key_once_in_order() {
        assert_eq!(key_ranges(1, 10), vec![(String::new(), None)]);
        assert_eq!(
            key_ranges(2, 10),
            vec![
                (String::new(), Some("80".to_string())),
                ("80".to_string(), None)
            ]
        );
        assert_eq!(key_ranges(3, 10).len(), 4);
        assert_eq!(key_ranges(2, 10_000_000).len(), 64);
        assert_eq!(key_ranges(2, usize::MAX / 2).len(), 256);
        for (threads, rows) in [(1, 0), (2, 1_000_000), (7, 5_000_000), (2, 1 << 40)] {
            let ranges = key_ranges(threads, rows);
            assert!(ranges.len() >= threads && ranges.len() <= 256);
            assert_eq!(ranges[0].0, "");
            assert_eq!(ranges.last().unwrap().1, None);
            // Each range starts where the previous one ends, and they rise.
            for pair in ranges.windows(2) {
                assert_eq!(pair[0].1.as_deref(), Some(pair[1].0.as_str()));
                assert!(pair[0].0 < pair[1].0);
            }
        }
    }

    #[test]
    fn precedence_in_sql_matches_the_spec() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let rows = rt.block_on(async {
            let ctx = SessionContext::new();
            let df = ctx.sql(PIPELINE[0].sql).await.unwrap();
            let batches = df.collect().await.unwrap();
            crate::count::tables::Table::from_batches(&batches)
                .unwrap()
                .rows
        });
        let sql: Vec<(String, String)> = rows
            .into_iter()
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect();
        let spec: Vec<(String, String)> = spec::SITUATIONS
            .iter()
            .enumerate()
            .map(|(i, c)| ((i + 1).to_string(), c.code.to_string()))
            .collect();
        assert_eq!(sql, spec);
    }
}
