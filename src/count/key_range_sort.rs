//! A large result sorted by person key under `--memory-limit`: by ranges of the key instead
//! of DataFusion's external sort.
//!
//! Why: `20_submissions.sql` ends in `ORDER BY person_key, row_order` over every accepted
//! row. Past the memory pool, DataFusion sorts what fits, spills each sorted run to disk and
//! merges the runs back on one thread (10M rows in 1 GiB: 42 s, against 29 s for the same
//! sort in memory). Person keys are HMACs, spread evenly over their first byte, so the rows
//! can instead be dealt into ranges of the key as they come (the query without its
//! `ORDER BY`), each range written to a file of its own, and the ranges then sorted one by
//! one in memory — as many at a time as there are threads — and handed on in key order. Every range's
//! sort is the query's own `ORDER BY`, so the rows come out in the order the query
//! states, whatever the ranges: the files written from them are the same.

use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use datafusion::arrow::array::{Array, AsArray, RecordBatch, UInt32Array};
use datafusion::arrow::compute::{BatchCoalescer, cast, take_record_batch};
use datafusion::arrow::datatypes::{DataType, SchemaRef};
use datafusion::arrow::ipc::CompressionType;
use datafusion::arrow::ipc::reader::FileReader;
use datafusion::arrow::ipc::writer::{FileWriter, IpcWriteOptions};
use datafusion::dataframe::DataFrame;
use datafusion::error::{DataFusionError, Result};
use datafusion::execution::SendableRecordBatchStream;
use datafusion::logical_expr::expr_rewriter::unnormalize_col;
use datafusion::logical_expr::{LogicalPlan, SortExpr};
use datafusion::physical_plan::stream::RecordBatchStreamAdapter;
use datafusion::prelude::SessionContext;
use futures::StreamExt;

/// Ranges of the key's first byte. 64: at 10M rows a range holds about 160,000 rows (some
/// 50 MB to sort in memory), and the rows waiting to be written stay small (see
/// [`WRITE_ROWS`]).
const RANGES: usize = 64;

/// Rows gathered per range before they are written: 2,048 × 65 ranges × the row's size is
/// what one thread holds back while dealing (about 40 MB at this table's width).
const WRITE_ROWS: usize = 2048;

/// The column the rows are dealt by.
const KEY: &str = "person_key";

/// `df` with its top `ORDER BY` taken off, and that sort (its columns unqualified, as they
/// are named in the result). None when `df` is not sorted at the top, or not by [`KEY`]
/// first: then the ranges would not give the query's order.
pub(super) fn without_top_sort(df: &DataFrame) -> Option<(DataFrame, Vec<SortExpr>)> {
    let (state, plan) = df.clone().into_parts();
    let LogicalPlan::Sort(sort) = plan else {
        return None;
    };
    if sort.fetch.is_some() {
        return None;
    }
    let exprs: Vec<SortExpr> = sort
        .expr
        .iter()
        .map(|s| SortExpr {
            expr: unnormalize_col(s.expr.clone()),
            ..s.clone()
        })
        .collect();
    // Ascending with nulls last: the order of the ranges (a row without a key is in the
    // last).
    let first_is_key = exprs.first().is_some_and(|s| {
        s.asc
            && !s.nulls_first
            && matches!(&s.expr, datafusion::prelude::Expr::Column(c) if c.name == KEY)
    });
    first_is_key.then(|| (DataFrame::new(state, sort.input.as_ref().clone()), exprs))
}

/// Runs `unsorted` and returns its rows in the order of `order` (see the module's comment).
/// `dir` is created and holds the range files while they wait; each is removed once read.
pub(super) async fn sorted_by_key_range(
    ctx: &SessionContext,
    unsorted: DataFrame,
    order: Vec<SortExpr>,
    dir: PathBuf,
    threads: usize,
) -> Result<SendableRecordBatchStream> {
    let schema: SchemaRef = Arc::new(unsorted.schema().as_arrow().clone());
    let key = schema.index_of(KEY)?;
    std::fs::create_dir_all(&dir)?;
    // Deal: every partition of the unsorted plan on a thread of its own, each with its own
    // files (range r of partition p: `r-p.arrow`).
    let started = std::time::Instant::now();
    let partitions = unsorted.execute_stream_partitioned().await?;
    let dealers: Vec<_> = partitions
        .into_iter()
        .enumerate()
        .map(|(p, stream)| {
            let dir = dir.clone();
            let schema = schema.clone();
            tokio::spawn(async move { deal(stream, schema, key, &dir, p).await })
        })
        .collect();
    let mut written: Vec<Vec<PathBuf>> = vec![Vec::new(); RANGES + 1];
    for dealer in dealers {
        let files = dealer
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))??;
        for (range, path) in files {
            written[range].push(path);
        }
    }
    crate::progress::trace_took("dealing the rows into key ranges", started);
    // Sort: each range in memory, `threads` at a time, handed on in key order.
    let config = ctx.copied_config().with_target_partitions(1);
    let runtime = ctx.runtime_env();
    let sorts = written.into_iter().map(move |files| {
        let range_ctx = SessionContext::new_with_config_rt(config.clone(), runtime.clone());
        let order = order.clone();
        async move {
            tokio::spawn(async move {
                let batches = read_and_remove(&files)?;
                if batches.is_empty() {
                    return Ok(Vec::new());
                }
                range_ctx
                    .read_batches(batches)?
                    .sort(order)?
                    .collect()
                    .await
            })
            .await
            .map_err(|e| DataFusionError::External(Box::new(e)))?
        }
    });
    Ok(in_range_order(schema, sorts, threads))
}

/// The results of `ranges` (each future a range's batches), `threads` of them computed at a
/// time, as one stream in range order.
pub(super) fn in_range_order<F>(
    schema: SchemaRef,
    ranges: impl IntoIterator<Item = F, IntoIter: Send> + 'static,
    threads: usize,
) -> SendableRecordBatchStream
where
    F: std::future::Future<Output = Result<Vec<RecordBatch>>> + Send + 'static,
{
    let batches = futures::stream::iter(ranges)
        .buffered(threads.max(1))
        .map(|result| match result {
            Ok(batches) => futures::stream::iter(batches.into_iter().map(Ok)).left_stream(),
            Err(e) => futures::stream::once(async { Err(e) }).right_stream(),
        })
        .flatten();
    Box::pin(RecordBatchStreamAdapter::new(schema, batches))
}

/// The range of each row of `batch` by its key's first byte (a row without a key last:
/// `ORDER BY` puts nulls last).
fn ranges_of(batch: &RecordBatch, key: usize) -> Result<Vec<usize>> {
    let column = cast(batch.column(key), &DataType::Binary)?;
    let keys = column.as_binary::<i32>();
    Ok((0..keys.len())
        .map(|i| {
            if keys.is_null(i) {
                RANGES
            } else {
                keys.value(i)
                    .first()
                    .map_or(0, |&b| b as usize * RANGES / 256)
            }
        })
        .collect())
}

/// Deals one partition's rows into range files under `dir`: (range, file) for each written.
async fn deal(
    mut stream: SendableRecordBatchStream,
    schema: SchemaRef,
    key: usize,
    dir: &Path,
    partition: usize,
) -> Result<Vec<(usize, PathBuf)>> {
    let mut gathered: Vec<BatchCoalescer> = (0..=RANGES)
        .map(|_| BatchCoalescer::new(schema.clone(), WRITE_ROWS))
        .collect();
    let mut writers: Vec<Option<(PathBuf, FileWriter<BufWriter<File>>)>> =
        (0..=RANGES).map(|_| None).collect();
    let mut write = |range: usize, batch: &RecordBatch| -> Result<()> {
        if writers[range].is_none() {
            let path = dir.join(format!("{range:03}-{partition}.arrow"));
            let file = BufWriter::new(File::create(&path)?);
            // Compressed: on this machine the kernel copies written data slowly (3 GB of
            // uncompressed range files at 10M rows cost 9 s of system time), and LZ4 is
            // cheap to undo.
            let options = IpcWriteOptions::default()
                .try_with_compression(Some(CompressionType::LZ4_FRAME))?;
            writers[range] = Some((
                path,
                FileWriter::try_new_with_options(file, &schema, options)?,
            ));
        }
        if let Some((_, w)) = &mut writers[range] {
            w.write(batch)?;
        }
        Ok(())
    };
    while let Some(batch) = stream.next().await {
        let batch = batch?;
        let ranges = ranges_of(&batch, key)?;
        // The rows grouped by range (a counting sort of their positions), taken at once.
        let mut starts = vec![0u32; RANGES + 2];
        for &r in &ranges {
            starts[r + 1] += 1;
        }
        for r in 0..=RANGES {
            starts[r + 1] += starts[r];
        }
        let mut next = starts.clone();
        let mut order = vec![0u32; ranges.len()];
        for (row, &r) in ranges.iter().enumerate() {
            order[next[r] as usize] = row as u32;
            next[r] += 1;
        }
        let grouped = take_record_batch(&batch, &UInt32Array::from(order))?;
        for r in 0..=RANGES {
            let (from, to) = (starts[r] as usize, starts[r + 1] as usize);
            if from == to {
                continue;
            }
            gathered[r].push_batch(grouped.slice(from, to - from))?;
            while let Some(full) = gathered[r].next_completed_batch() {
                write(r, &full)?;
            }
        }
    }
    for (r, rows) in gathered.iter_mut().enumerate() {
        rows.finish_buffered_batch()?;
        while let Some(rest) = rows.next_completed_batch() {
            write(r, &rest)?;
        }
    }
    let mut files = Vec::new();
    for (range, writer) in writers.into_iter().enumerate() {
        if let Some((path, mut w)) = writer {
            w.finish()?;
            files.push((range, path));
        }
    }
    Ok(files)
}

/// Every batch of `files`, in order; each file is removed once read (the disk holds each
/// row once at most).
fn read_and_remove(files: &[PathBuf]) -> Result<Vec<RecordBatch>> {
    let mut batches = Vec::new();
    for path in files {
        let reader = FileReader::try_new(std::io::BufReader::new(File::open(path)?), None)?;
        for batch in reader {
            batches.push(batch?);
        }
        std::fs::remove_file(path)?;
    }
    Ok(batches)
}

#[cfg(test)]
mod tests {
    use super::*;
    use datafusion::arrow::array::{BinaryArray, Int64Array};
    use datafusion::arrow::datatypes::{Field, Schema};
    use datafusion::prelude::col;

    /// Rows with keys over the whole first byte, repeated keys, empty keys and no keys,
    /// in two partitions: the ranges give the rows in exactly the order one sort gives.
    #[test]
    fn ranges_give_the_order_of_one_sort() {
        let schema = Arc::new(Schema::new(vec![
            Field::new(KEY, DataType::Binary, true),
            Field::new("row_order", DataType::Int64, false),
        ]));
        let batch = |seed: u64, n: usize| {
            let mut x = seed;
            let mut keys: Vec<Option<Vec<u8>>> = Vec::new();
            let mut orders = Vec::new();
            for i in 0..n {
                x = x
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1442695040888963407);
                let key = match i % 50 {
                    0 => None,
                    1 => Some(Vec::new()),
                    // Repeated keys: row_order decides between them.
                    2..=9 => Some(vec![0xab, 0x01]),
                    _ => Some(x.to_be_bytes()[..3].to_vec()),
                };
                keys.push(key);
                orders.push((x >> 40) as i64);
            }
            RecordBatch::try_new(
                schema.clone(),
                vec![
                    Arc::new(BinaryArray::from_iter(keys)),
                    Arc::new(Int64Array::from(orders)),
                ],
            )
            .unwrap()
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .build()
            .unwrap();
        runtime.block_on(async {
            let ctx = SessionContext::new_with_config(
                datafusion::prelude::SessionConfig::new().with_target_partitions(2),
            );
            let table = datafusion::catalog::MemTable::try_new(
                schema.clone(),
                vec![vec![batch(1, 3000), batch(2, 100)], vec![batch(3, 5000)]],
            )
            .unwrap();
            ctx.register_table("t", Arc::new(table)).unwrap();
            let df = ctx
                .sql("SELECT * FROM t ORDER BY person_key, row_order")
                .await
                .unwrap();
            let expected = df.clone().collect().await.unwrap();
            let (unsorted, order) = without_top_sort(&df).expect("sorted by person_key first");
            let dir = tempfile::tempdir().unwrap();
            let ranges = dir.path().join("ranges");
            let stream = sorted_by_key_range(&ctx, unsorted, order, ranges.clone(), 2)
                .await
                .unwrap();
            let got: Vec<RecordBatch> = futures::TryStreamExt::try_collect(stream).await.unwrap();
            let one =
                |b: &[RecordBatch]| datafusion::arrow::compute::concat_batches(&schema, b).unwrap();
            assert_eq!(one(&got), one(&expected));
            assert_eq!(one(&got).num_rows(), 8100);
            // Every range file was removed once read.
            assert_eq!(std::fs::read_dir(&ranges).unwrap().count(), 0);
            // Not sorted by the key first: not for ranges.
            let other = ctx.table("t").await.unwrap();
            let other = other
                .sort(vec![col("row_order").sort(true, false)])
                .unwrap();
            assert!(without_top_sort(&other).is_none());
            let nulls_first = ctx.table("t").await.unwrap();
            let nulls_first = nulls_first.sort(vec![col(KEY).sort(true, true)]).unwrap();
            assert!(without_top_sort(&nulls_first).is_none());
        });
    }
}
