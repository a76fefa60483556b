//! The two top-level jobs, `run` and `validate`: data flows one way, submissions → staging →
//! persons → tables (→ charts and report).

use std::path::{Path, PathBuf};
use std::time::Instant;

use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::count::engine::{self, EngineOptions};
use crate::count::staging::StagingBuilder;
use crate::count::tables::{self, Table};
use crate::intake::ingest::{self, SourceFile};
use crate::intake::pseudonymise::Key;
use crate::intake::validate::{self, CountYear, FileOutcome, FileReport, Problem, Rule};

/// Exit codes (documented in the README).
pub mod exit {
    /// The job completed; for `validate`, no row was rejected.
    pub const OK: i32 = 0;
    /// `validate`: some rows were rejected. `run --strict`: some rows were rejected and
    /// nothing was written.
    pub const REJECTED: i32 = 1;
    /// The job could not run: bad arguments, no key, unreadable input, failed write.
    pub const FAILED: i32 = 2;
}

/// Everything `run` needs, validated once from the command line.
#[derive(Debug, Clone)]
pub struct RunConfig {
    pub inputs: Vec<PathBuf>,
    pub out: PathBuf,
    pub key_file: PathBuf,
    pub year: Option<i32>,
    pub strict: bool,
    pub min_cell: u64,
    /// `--round N`: published tables rounded to multiples of N instead of suppressed.
    pub round: Option<u64>,
    pub threads: usize,
    pub memory_limit: Option<usize>,
    pub quiet: bool,
    pub lang: crate::publish::report::Lang,
    /// `--history DIR`; `None`: the copy shipped with the project.
    pub history: Option<PathBuf>,
    /// `--inbox DIR`: count the inbox's slices instead of `inputs`.
    pub inbox: Option<PathBuf>,
}

#[derive(Debug, Clone)]
pub struct ValidateConfig {
    pub inputs: Vec<PathBuf>,
    pub year: Option<i32>,
    pub threads: usize,
}

/// A failure with its exit code and a message a person can act on.
#[derive(Debug)]
pub struct Failure {
    pub code: i32,
    pub message: String,
}

impl Failure {
    pub fn cannot_run(message: impl std::fmt::Display) -> Failure {
        Failure {
            code: exit::FAILED,
            message: message.to_string(),
        }
    }
}

impl<E: std::error::Error> From<E> for Failure {
    fn from(e: E) -> Failure {
        Failure::cannot_run(e)
    }
}

/// What validating all inputs gave.
pub struct Intake {
    pub year: CountYear,
    pub files: Vec<SourceFile>,
    pub reports: Vec<FileReport>,
    /// Rejections and warnings, sorted by file, line, column.
    pub problems: Vec<Problem>,
}

impl Intake {
    pub fn rows_read(&self) -> u64 {
        self.reports.iter().map(|r| r.rows_read).sum()
    }
    pub fn rows_accepted(&self) -> u64 {
        self.reports.iter().map(|r| r.rows_accepted).sum()
    }
    pub fn rows_rejected(&self) -> u64 {
        self.reports.iter().map(|r| r.rows_rejected).sum()
    }
    pub fn warnings(&self) -> u64 {
        self.reports.iter().map(|r| r.warnings).sum()
    }
    pub fn unidentified_rows(&self) -> u64 {
        self.problems
            .iter()
            .filter(|p| p.code == Rule::W010)
            .count() as u64
    }
}

/// The count year: `--year`, else the year most files declare in their first data row (ties:
/// the later year). Rows of any other year are rejected (E005). When no file declares one
/// (empty files, a wrong delimiter), `validate` checks against the latest count so that it can
/// still explain the files; `run` asks for `--year`.
pub fn decide_year(
    files: &[SourceFile],
    flag: Option<i32>,
    fallback_to_latest: bool,
) -> Result<CountYear, Failure> {
    let year = match flag {
        Some(y) => y,
        None => {
            let mut votes: std::collections::BTreeMap<i32, usize> = Default::default();
            for y in files
                .par_iter()
                .map(validate::peek_year)
                .collect::<Vec<_>>()
                .into_iter()
                .flatten()
            {
                *votes.entry(y).or_default() += 1;
            }
            votes
                .into_iter()
                .max_by_key(|&(y, n)| (n, y))
                .map(|(y, _)| y)
                .or_else(|| fallback_to_latest.then(latest_count_year))
                .ok_or_else(|| {
                    Failure::cannot_run(
                        "cannot tell the count year: no file has a valid count_year in its first row; give --year",
                    )
                })?
        }
    };
    CountYear::new(year)
        .ok_or_else(|| Failure::cannot_run(format!("{year} is not a usable count year")))
}

/// Reads and validates every file in parallel, handing accepted rows to a sink made by
/// `make_sink` (one per file). A file that cannot be read stops the job: its rows might be
/// persons, and a count that silently leaves them out is wrong.
fn intake<S: validate::RowSink + Send>(
    inputs: &[PathBuf],
    year: Option<i32>,
    fallback_to_latest: bool,
    threads: usize,
    quiet: bool,
    make_sink: impl Fn() -> S + Sync,
) -> Result<(Intake, Vec<S>), Failure> {
    let files = ingest::discover(inputs)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads.max(1))
        .build()
        .map_err(Failure::cannot_run)?;
    pool.install(|| {
        let year = decide_year(&files, year, fallback_to_latest)?;
        let progress = crate::progress::files(files.len() as u64, quiet);
        // Sinks are pooled, not made per file: a run of 2,000 small files then stages a few
        // large batches instead of 2,000 tiny ones.
        let pool: std::sync::Mutex<Vec<S>> = std::sync::Mutex::new(Vec::new());
        let results: Vec<Result<FileOutcome, Failure>> = files
            .par_iter()
            .map(|file| {
                let mut sink = pool
                    .lock()
                    .map_err(|_| Failure::cannot_run("internal error: sink pool poisoned"))?
                    .pop()
                    .unwrap_or_else(&make_sink);
                let outcome = validate::validate_file(file, year, &mut sink);
                if let Ok(mut p) = pool.lock() {
                    p.push(sink);
                }
                progress.inc(1);
                outcome.map_err(|e| Failure::cannot_run(format!("{}: {e}", file.path.display())))
            })
            .collect();
        progress.finish_and_clear();
        let mut reports = Vec::with_capacity(files.len());
        let mut problems = Vec::new();
        for r in results {
            let outcome = r?;
            reports.push(outcome.report);
            problems.extend(outcome.problems);
        }
        let sinks = pool.into_inner().unwrap_or_default();
        problems.sort();
        let intake = Intake {
            year,
            files,
            reports,
            problems,
        };
        // Nothing is dropped silently: this must hold for every file and in total.
        for r in &intake.reports {
            assert_eq!(
                r.rows_read,
                r.rows_accepted + r.rows_rejected,
                "bug: rows read != accepted + rejected in {}",
                r.file
            );
        }
        Ok((intake, sinks))
    })
}

/// `hcount validate`: the intake alone, no key needed, nothing written.
pub fn validate(config: &ValidateConfig) -> Result<Intake, Failure> {
    let (intake, _) = intake(
        &config.inputs,
        config.year,
        true,
        config.threads,
        true,
        || (),
    )?;
    Ok(intake)
}

/// What `run` did, for its summary line.
pub struct RunSummary {
    pub intake: Intake,
    pub persons: usize,
    pub counted: u64,
    pub out: PathBuf,
    /// The report's charts and audit, for `run --warehouse`'s second rendering.
    pub report: crate::publish::report::Drawn,
}

/// `hcount run`: the whole count, written atomically into `config.out`.
pub fn run(config: &RunConfig) -> Result<RunSummary, Failure> {
    if config.memory_limit.is_some() {
        give_freed_memory_back();
    }
    // Every parallel step (hashing, feedback, charts) uses at most --threads threads. Beside
    // them, with two or more, a thread writes the feedback files and one draws the municipal
    // charts while the published tables are protected (that is one thread's work).
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(config.threads.max(1))
        .build()
        .map_err(Failure::cannot_run)?;
    pool.install(|| run_in_pool(config))
}

fn run_in_pool(config: &RunConfig) -> Result<RunSummary, Failure> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    // With HCOUNT_TRACE set, when each stage ended (a profiling aid).
    let stage = |what: &str| trace_stage(started, what);
    let key = Key::from_file(&config.key_file)?;
    // Shown even with --quiet: they are about the secrecy of every pseudonym.
    for warning in key.warnings(&config.key_file, &config.inputs) {
        eprintln!("hcount: warning: {warning}");
    }
    // The output folder is made first: with a memory limit, staging spools into it. If the
    // run fails, the folder is removed and an earlier output stays as it was.
    // A missing input is the clearer message, and needs no output folder touched.
    if let Some(path) = config.inputs.iter().find(|p| std::fs::metadata(p).is_err()) {
        ingest::discover(std::slice::from_ref(path)).map_err(Failure::cannot_run)?;
    }
    // --out is replaced as a whole: it must not hold or sit inside what the run reads.
    let mut reads: Vec<&Path> = config.inputs.iter().map(PathBuf::as_path).collect();
    reads.push(&config.key_file);
    reads.extend(config.history.as_deref());
    crate::output::check_apart(&config.out, &reads).map_err(Failure::cannot_run)?;
    let dir = crate::output::StagedDir::create(&config.out, crate::output::RUN_MARKER)
        .map_err(Failure::cannot_run)?;
    let out = dir.path().to_owned();
    let io = |what: &str, e: std::io::Error| Failure::cannot_run(format!("writing {what}: {e}"));
    // Slices from an inbox are already staged: they are counted from memory.
    let spool = match config.memory_limit.filter(|_| config.inbox.is_none()) {
        Some(_) => {
            let dir = out.join(".staging");
            std::fs::create_dir_all(&dir).map_err(|e| io(".staging", e))?;
            Some(dir)
        }
        None => None,
    };
    let (intake, sinks, inbox) = match &config.inbox {
        None => {
            let (intake, sinks) = intake(
                &config.inputs,
                config.year,
                false,
                config.threads,
                config.quiet,
                || StagingBuilder::new(key.clone(), spool.clone()),
            )?;
            (intake, sinks, None)
        }
        Some(dir) => {
            let gathered = crate::inbox::Inbox::open_existing(dir)?.gather(&key)?;
            if let Some(y) = config.year.filter(|&y| y != gathered.year.year) {
                return Err(Failure::cannot_run(format!(
                    "--year {y}: the inbox counts {} (its uploads were checked against that year)",
                    gathered.year.year
                )));
            }
            (gathered.intake(), Vec::new(), Some(gathered))
        }
    };
    let ingest_done = started.elapsed();
    stage("intake");
    if config.strict && intake.rows_rejected() > 0 {
        return Err(Failure {
            code: exit::REJECTED,
            message: format!(
                "{} rows were rejected and --strict is set: nothing was written (run `hcount validate` on the inputs to see why)",
                intake.rows_rejected()
            ),
        });
    }
    let mut batches = Vec::new();
    for sink in sinks {
        batches.extend(sink.finish().map_err(|e| io("staging", e))?);
    }
    let inbox = inbox.map(|mut g| {
        batches.append(&mut g.batches);
        g
    });
    let staging = match &spool {
        Some(dir) => engine::Staging::Files(dir.clone()),
        None => engine::Staging::Memory(batches),
    };

    tables::write_problems(
        &out.join("rejected.csv"),
        intake.problems.iter().filter(|p| p.code.is_error()),
    )
    .map_err(|e| io("rejected.csv", e))?;
    tables::write_problems(
        &out.join("warnings.csv"),
        intake.problems.iter().filter(|p| !p.code.is_error()),
    )
    .map_err(|e| io("warnings.csv", e))?;

    let input_hashes: Vec<(String, u64, String)> = match &inbox {
        Some(g) => g.input_hashes(),
        None => intake
            .files
            .par_iter()
            .map(|f| hash_file(&f.path).map(|(size, h)| (f.name.clone(), size, h)))
            .collect::<Result<_, _>>()
            .map_err(|e| io("input hashes", e))?,
    };
    let queries = query_hashes();
    let metadata = vec![
        (
            "hcount.version".to_string(),
            env!("CARGO_PKG_VERSION").to_string(),
        ),
        (
            "hcount.count_year".to_string(),
            intake.year.year.to_string(),
        ),
        ("hcount.queries_sha256".to_string(), combined(&queries)),
        (
            "hcount.inputs_sha256".to_string(),
            combined(
                &input_hashes
                    .iter()
                    .map(|(n, _, h)| (n.clone(), h.clone()))
                    .collect::<Vec<_>>(),
            ),
        ),
    ];
    let spill_dir = out.join(".spill");
    std::fs::create_dir_all(&spill_dir).map_err(|e| io(".spill", e))?;
    let result = engine::run(
        staging,
        &out,
        &EngineOptions {
            threads: config.threads,
            memory_limit: config.memory_limit,
            spill_dir: spill_dir.clone(),
            parquet_metadata: metadata,
        },
    )
    .map_err(|e| {
        if e.is_out_of_memory() {
            Failure::cannot_run(format!(
                "{e}\nThe count needs more memory than --memory-limit allows: raise it, or leave it out (see docs/BENCHMARKS.md for what fits)."
            ))
        } else {
            Failure::cannot_run(e)
        }
    })?;
    let engine_done = started.elapsed();
    let _ = std::fs::remove_dir_all(&spill_dir);
    if let Some(dir) = &spool {
        let _ = std::fs::remove_dir_all(dir);
    }

    stage("engine");
    let tables_dir = out.join("tables");
    std::fs::create_dir_all(tables_dir.join("published")).map_err(|e| io("tables/", e))?;
    let mut counted = 0;
    // The exact tables that have a published copy, protected together (they share margins).
    let mut exact = std::collections::HashMap::new();
    let mut feedback = Vec::new();
    for (name, batches) in &result.tables {
        let table = Table::from_batches(batches).map_err(Failure::cannot_run)?;
        if *name == "respondent_feedback" {
            // Not a published table: it feeds feedback/<respondent_id>.md.
            feedback = crate::publish::feedback::render(
                intake.year.year,
                &intake.reports,
                &intake.problems,
                &table,
                config.lang,
            );
            continue;
        }
        table
            .write_csv(&tables_dir.join(format!("{name}.csv")))
            .map_err(|e| io(name, e))?;
        if *name == "national_by_category" {
            counted = table
                .rows
                .iter()
                .find(|r| r[0] == "total")
                .and_then(|r| r[1].parse().ok())
                .unwrap_or(0);
        }
        if crate::publish::disclosure::PUBLISHED
            .iter()
            .any(|p| p.name == *name)
        {
            exact.insert(name.to_string(), table);
        }
    }
    let protection = match config.round {
        Some(base) => crate::publish::disclosure::Protection::Round { base },
        None => crate::publish::disclosure::Protection::Suppress {
            min_cell: config.min_cell,
        },
    };
    // The feedback files are written while the published tables are protected, audited
    // and reported: the one waits on the file system (2,800 files at a national count),
    // the others on the processor. Joined before the output is moved into place, and on
    // every early return (`Background`'s drop), so nothing writes into a removed folder.
    let mut writer = Background::spawn({
        let out = out.clone();
        move || {
            let written = crate::publish::feedback::write(&out, &feedback);
            trace_stage(started, "feedback files");
            written
        }
    });
    let report_options = crate::publish::report::ReportOptions {
        lang: config.lang,
        history: load_history(config.history.as_deref())?,
        min_cell: config.min_cell,
    };
    // The municipal charts are drawn meanwhile, on the other thread (see MunicipalAhead),
    // guessing a count hidden when the suppression will show it as `<t`; the report redraws
    // what the guess got wrong. Not with --threads 1 (one thread means one).
    let ahead = exact
        .get("municipal_totals")
        .filter(|_| config.threads > 1)
        .map(|totals| {
            let hidden_anyway = |n: i64| {
                config.round.is_none()
                    && u64::try_from(n)
                        .is_ok_and(|n| crate::publish::disclosure::is_small(n, config.min_cell))
            };
            let ahead = std::sync::Arc::new(crate::publish::report::MunicipalAhead::new(
                totals,
                hidden_anyway,
            ));
            let drawing = Background::spawn({
                let (ahead, out, options) = (ahead.clone(), out.clone(), report_options.clone());
                let year = intake.year.year;
                move || ahead.draw(&out, &options, year)
            });
            ChartsAhead(ahead, drawing)
        });
    let published = crate::publish::disclosure::write_published(
        &tables_dir.join("published"),
        &exact,
        protection,
    );
    // Stopped and joined before anything else is written (and when dropped, on an early
    // return or a panic): the report must not draw a chart the thread is still drawing.
    let ahead = ahead.map(ChartsAhead::finish);
    let published = published.map_err(|e| Failure::cannot_run(format!("published tables: {e}")))?;
    stage("published tables");
    tables::intake(&intake.reports)
        .write_csv(&tables_dir.join("intake.csv"))
        .map_err(|e| io("intake.csv", e))?;

    let secs = |d: std::time::Duration| (d.as_secs_f64() * 1000.0).round() / 1000.0;
    let mut run_info = serde_json::json!({
        "hcount_version": env!("CARGO_PKG_VERSION"),
        "spec_version": crate::intake::spec::SPEC_VERSION,
        "count_year": intake.year.year,
        "count_date": intake.year.date.to_string(),
        // The key's id (a keyed fingerprint, never the key): a warehouse refuses a run
        // made with another key.
        "key_id": crate::warehouse::key_id(&key),
        "started_at": started_at.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "seconds": secs(started.elapsed()),
        "timings_seconds": {
            "ingest_validate_pseudonymise": secs(ingest_done),
            "sql_and_parquet": secs(engine_done - ingest_done),
        },
        "threads": config.threads,
        "memory_limit_bytes": config.memory_limit,
        "min_cell": config.min_cell,
        "round": config.round,
        "suppressed": {
            "primary": published.primary,
            "secondary": published.secondary,
            "unprotected": published.unprotected,
        },
        "inputs": input_hashes.iter().map(|(name, size, sha)| serde_json::json!({
            "file": name, "bytes": size, "sha256": sha,
        })).collect::<Vec<_>>(),
        "queries": queries.iter().map(|(file, sha)| serde_json::json!({
            "file": file, "sha256": sha,
        })).collect::<Vec<_>>(),
        "rows": {
            "read": intake.rows_read(),
            "accepted": intake.rows_accepted(),
            "rejected": intake.rows_rejected(),
            "warnings": intake.warnings(),
            "unidentified": intake.unidentified_rows(),
        },
        "persons": {
            "total": result.persons_rows,
            "counted": counted,
        },
    });
    crate::privacy::mask_json(&mut run_info);
    let json = serde_json::to_string_pretty(&run_info).map_err(Failure::cannot_run)?;
    tables::write_file(&out.join("run.json"), format!("{json}\n").as_bytes())
        .map_err(|e| io("run.json", e))?;

    if let Some(g) = &inbox {
        // Only from an inbox: who was asked and who answered, for the report.
        tables::write_file(
            &out.join("response.csv"),
            g.status.response_csv().as_bytes(),
        )
        .map_err(|e| io("response.csv", e))?;
    }
    stage("tables");
    let report_start = started.elapsed();
    let drawn = crate::publish::report::render(
        &out,
        &report_options,
        published.witnessed.as_ref(),
        ahead.as_deref(),
    )
    .map_err(|e| Failure::cannot_run(format!("report: {e}")))?;
    // run.json is the one file with timings; now that the report is done, add its time.
    run_info["timings_seconds"]["report"] =
        serde_json::json!(secs(started.elapsed() - report_start));
    run_info["seconds"] = serde_json::json!(secs(started.elapsed()));
    let json = serde_json::to_string_pretty(&run_info).map_err(Failure::cannot_run)?;
    tables::write_file(&out.join("run.json"), format!("{json}\n").as_bytes())
        .map_err(|e| io("run.json", e))?;

    stage("report");
    writer
        .join()
        .ok_or_else(|| Failure::cannot_run("internal error: writing the feedback files failed"))?
        .map_err(|e| io("feedback/", e))?;
    stage("feedback files joined");
    dir.commit(crate::output::RUN_MARKER).map_err(|e| {
        Failure::cannot_run(format!(
            "{}: cannot move the output into place: {e}",
            config.out.display()
        ))
    })?;
    Ok(RunSummary {
        intake,
        persons: result.persons_rows,
        counted,
        out: config.out.clone(),
        report: drawn,
    })
}

/// With `--memory-limit`, the process's size matters more than the last few per cent of
/// speed: glibc's allocator otherwise keeps freed memory in up to 8 arenas per core and
/// serves large buffers from its heaps, where they fragment. Two arenas, and buffers of
/// 1 MiB and more mapped directly (so they go back to the system when freed), took the
/// peak RSS of a 10M-row run with a 1 GiB limit from 2.1 GiB to about 1.5 GiB.
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn give_freed_memory_back() {
    // SAFETY: mallopt only sets allocator parameters; called before the worker threads
    // start. A failure (return 0) leaves the defaults, which is harmless.
    unsafe {
        libc::mallopt(libc::M_ARENA_MAX, 2);
        libc::mallopt(libc::M_MMAP_THRESHOLD, 1 << 20);
    }
}

#[cfg(not(all(target_os = "linux", target_env = "gnu")))]
fn give_freed_memory_back() {}

/// The published history: `--history DIR`, or the copy compiled into the binary.
pub fn load_history(dir: Option<&Path>) -> Result<crate::publish::history::History, Failure> {
    match dir {
        Some(d) => crate::publish::history::History::load(d)
            .map_err(|e| Failure::cannot_run(format!("--history: {e}"))),
        None => Ok(crate::publish::history::History::shipped()),
    }
}

/// The year of the latest count held by today (counts are in week 6 of even years).
pub fn latest_count_year() -> i32 {
    use chrono::Datelike;
    let today = chrono::Local::now().date_naive();
    let mut y = today.year();
    while y % 2 != 0 || crate::intake::spec::count_date(y).is_some_and(|d| d > today) {
        y -= 1;
    }
    y
}

fn hash_file(path: &Path) -> std::io::Result<(u64, String)> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf)?;
        if n == 0 {
            break;
        }
        hasher.update(&buf[..n]);
        size += n as u64;
    }
    Ok((size, hex(&hasher.finalize())))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// SHA-256 of every query file, by path under `queries/`.
pub fn query_hashes() -> Vec<(String, String)> {
    engine::PIPELINE
        .iter()
        .chain(engine::TABLES)
        .map(|q| (q.file.to_string(), hex(&Sha256::digest(q.sql.as_bytes()))))
        .collect()
}

fn combined(items: &[(String, String)]) -> String {
    let mut h = Sha256::new();
    for (name, sha) in items {
        h.update(name.as_bytes());
        h.update(b"\0");
        h.update(sha.as_bytes());
        h.update(b"\n");
    }
    hex(&h.finalize())
}

/// A thread that must end before its owner goes on: joined by [`Background::join`], or when
/// dropped (an early return), so that it never outlives what it writes into.
struct Background<T: Send + 'static>(Option<std::thread::JoinHandle<T>>);

impl<T: Send + 'static> Background<T> {
    fn spawn(work: impl FnOnce() -> T + Send + 'static) -> Self {
        Background(Some(std::thread::spawn(work)))
    }

    /// The thread's result; None if it panicked.
    fn join(&mut self) -> Option<T> {
        self.0.take().and_then(|t| t.join().ok())
    }
}

impl<T: Send + 'static> Drop for Background<T> {
    fn drop(&mut self) {
        let _ = self.join();
    }
}

/// The municipal charts being drawn while the published tables are protected: stopped
/// (after the chart at hand) and joined when finished or dropped.
struct ChartsAhead(
    std::sync::Arc<crate::publish::report::MunicipalAhead>,
    Background<()>,
);

impl ChartsAhead {
    fn finish(mut self) -> std::sync::Arc<crate::publish::report::MunicipalAhead> {
        // HCOUNT_CHARTS_AHEAD_ALL (for the tests): every chart is drawn on the guess before
        // the report starts, so that the report's redrawing of wrong guesses is exercised
        // however fast the protection was.
        if std::env::var_os("HCOUNT_CHARTS_AHEAD_ALL").is_none() {
            self.0.stop();
        }
        self.1.join();
        self.0.clone()
    }
}

impl Drop for ChartsAhead {
    fn drop(&mut self) {
        // `Background`'s own drop joins the thread next.
        self.0.stop();
    }
}

/// With HCOUNT_TRACE set, when a stage of `run` ended (a profiling aid).
fn trace_stage(started: Instant, what: &str) {
    if std::env::var_os("HCOUNT_TRACE").is_some() {
        eprintln!(
            "hcount: {what} done at {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
}
