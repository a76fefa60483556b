//! The command line: flags are parsed once here into the validated config structs of
//! [`crate::run`]; nothing below this module looks at raw arguments.

use std::path::PathBuf;

use clap::{Parser, Subcommand, ValueEnum};

use crate::intake::pseudonymise::Key;
use crate::publish::report::Lang;
use crate::run::{self, Failure, RunConfig, ValidateConfig, exit};
use crate::{privacy, summary};

const ABOUT: &str = "Counts homeless persons from the submissions of shelters, hospitals, \
municipalities and other services in the Danish national homelessness count (VIVE, formerly SFI).";

const LONG_ABOUT: &str = "Counts homeless persons from the submissions of shelters, hospitals, \
municipalities and other services in the Danish national homelessness count (VIVE, formerly SFI).

Each service sends one row per homeless person it knows (CSV from Excel or UTF-8, or .xlsx). \
hcount validates every row, replaces CPR numbers with keyed pseudonyms, finds the rows that \
are the same person, classifies each person by the most acute situation reported, and writes \
the national and municipal tables.

Exit codes: 0 done; 1 rows were rejected (validate, or run --strict), or a published cell \
is not protected (audit); 2 could not run; 3 an inbox upload was held (see `hcount inbox add \
--help`).";

#[derive(Debug, Parser)]
#[command(name = "hcount", version, about = ABOUT, long_about = LONG_ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the whole count: validate, pseudonymise, deduplicate, classify, write tables.
    ///
    /// Writes into a temporary folder beside --out and renames it into place when complete,
    /// so a failed run leaves an earlier output as it was. Rejected rows are listed in
    /// rejected.csv and do not stop the run (unless --strict).
    Run(RunArgs),
    /// Check submission files against the format without counting anything.
    ///
    /// Lists every problem with file, line, column, value and reason. No key is needed and
    /// nothing is written. Exit 0: no rejected rows; 1: some rows rejected; 2: could not run.
    Validate(ValidateArgs),
    /// Generate a realistic synthetic submission set (for demos, tests and benchmarks).
    Synth(SynthArgs),
    /// Re-render charts, report.html and report.md of an existing run's output folder,
    /// from its tables (no submissions, no key needed).
    Report(ReportArgs),
    /// Write an empty submission template (CSV with Danish headers, and .xlsx with code
    /// lists and drop-downs) for services to fill in.
    Template(TemplateArgs),
    /// List the validation rules: code, meaning and how to fix.
    Rules(RulesArgs),
    /// Draw the trends of a warehouse of counts (`run --warehouse`): national, category and
    /// municipal series from every stored year, joined with the published history, and who
    /// was counted again, new or returning. Writes trends.html and charts into --out.
    Trends(TrendsArgs),
    /// Re-key a warehouse: replace every person key of every year by a keyed hash of it
    /// under a new key (no CPR numbers needed), atomically. Later runs give the first key
    /// with --key-file and each re-keying's key with --chain-key-file.
    Rekey(RekeyArgs),
    /// The inbox's web application: units sign in with their token and upload their file,
    /// the coordinator follows the round.
    ///
    /// Binds to 127.0.0.1 by default: put it behind an HTTPS reverse proxy (see the README).
    /// Uploads are validated and pseudonymised in memory; only the pseudonymised slice is
    /// written. Stops on Ctrl-C or SIGTERM.
    Serve(ServeArgs),
    /// The units of a count round's inbox: import them, issue and revoke their tokens.
    Units(crate::inbox::commands::UnitsArgs),
    /// Put a file that came by another channel into the inbox as a unit's upload; show a
    /// unit's versions, restore one, confirm a held upload, record "no homeless persons".
    Inbox(crate::inbox::commands::InboxArgs),
    /// Where the count round stands: units asked and answered, by respondent type,
    /// municipality and region; who has not answered; rejected rows outstanding.
    Status(crate::inbox::commands::StatusArgs),
    /// Attack the published tables of a run's output folder: by linear programming, find
    /// the range every hidden cell can take given all published figures.
    ///
    /// A cell shown as "<5" must keep the whole range 1 to 4 (the attacker may learn
    /// nothing more than the mark says), and no published count may be between 1 and 4.
    /// Exit 0: every cell is protected; 1: some cell is not (listed); 2: could not run.
    Audit(AuditArgs),
}

#[derive(Debug, clap::Args)]
struct AuditArgs {
    /// The output folder of `hcount run`. For a run with --warehouse, every year of the
    /// warehouse is attacked too (its published tables with the linkage tables); a
    /// warehouse folder itself: every year of it.
    #[arg(value_name = "OUT")]
    out: PathBuf,
    /// The threshold (default: each run's --min-cell from its run.json, else 5).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    min_cell: Option<u64>,
    /// Language of the result.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
}

#[derive(Debug, clap::Args)]
struct ServeArgs {
    /// The inbox folder (made by `hcount units import`).
    #[arg(long, value_name = "DIR")]
    inbox: PathBuf,
    /// File holding the HMAC key for the pseudonyms [env: HCOUNT_KEY_FILE]. The key itself
    /// is never accepted on the command line.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// Address and port to listen on (port 0: any free port, printed at start).
    #[arg(long, value_name = "ADDR", default_value = crate::inbox::web::ServeConfig::DEFAULT_LISTEN)]
    listen: std::net::SocketAddr,
    /// Largest upload accepted (e.g. 16MiB); larger files get 413.
    #[arg(long, value_name = "SIZE", default_value = "16MiB", value_parser = parse_size)]
    max_upload: usize,
    /// Most rows accepted in one upload; more get 413.
    #[arg(long, value_name = "N", default_value_t = crate::inbox::web::ServeConfig::DEFAULT_MAX_ROWS)]
    max_rows: usize,
}

#[derive(Debug, clap::Args)]
struct RunArgs {
    /// Submission files (.csv, .xlsx) or folders of them (searched recursively).
    #[arg(
        required_unless_present = "inbox",
        conflicts_with = "inbox",
        value_name = "INPUT"
    )]
    inputs: Vec<PathBuf>,
    /// Count the inbox of a count round instead of files: the version that counts of every
    /// unit. The report gains the response rates.
    #[arg(long, value_name = "DIR")]
    inbox: Option<PathBuf>,
    /// Output folder (replaced as a whole when the run completes). It must lie outside the
    /// inputs, and if it exists be empty or an earlier output of `hcount run`.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// File holding the HMAC key for the pseudonyms [env: HCOUNT_KEY_FILE]. The key itself
    /// is never accepted on the command line.
    #[arg(long, value_name = "FILE")]
    key_file: Option<PathBuf>,
    /// The count year; default: the year most files give in their first row.
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,
    /// Exit 1 and write nothing if any row is rejected.
    #[arg(long)]
    strict: bool,
    /// Published municipal tables show counts from 1 to N-1 as "<N".
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    min_cell: u64,
    /// Publish every count rounded to a multiple of N (e.g. 5 or 10) instead of hiding small
    /// counts; all figures of a published table are then rounded, none exact.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(2..))]
    round: Option<u64>,
    /// Published figures of earlier counts, for the trend charts (default: shipped copy).
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// Language of the report and the feedback pages.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    #[command(flatten)]
    resources: Resources,
    /// No progress bar and no summary on stderr.
    #[arg(long, short)]
    quiet: bool,
    /// Also store the count in this warehouse of counts as DIR/year=YYYY/ (replacing that
    /// year), recompute who was counted again, and write trends.html beside the report.
    #[arg(long, value_name = "DIR")]
    warehouse: Option<PathBuf>,
    /// For a re-keyed warehouse: the key file of each re-keying, in order (--key-file
    /// stays the warehouse's first key). See `hcount rekey`.
    #[arg(long, value_name = "FILE", requires = "warehouse")]
    chain_key_file: Vec<PathBuf>,
}

#[derive(Debug, clap::Args)]
struct TrendsArgs {
    /// The warehouse folder (made by `hcount run … --warehouse DIR`).
    #[arg(long, value_name = "DIR")]
    warehouse: PathBuf,
    /// Folder to write trends.html and its charts into (replaced as a whole).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Language of the page.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    /// Published figures of earlier counts (default: shipped copy).
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// Municipal figures from 1 to N-1 are shown as "<N".
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    min_cell: u64,
}

#[derive(Debug, clap::Args)]
struct RekeyArgs {
    /// The warehouse folder.
    #[arg(long, value_name = "DIR")]
    warehouse: PathBuf,
    /// The warehouse's current key (the last one it was keyed or re-keyed with).
    #[arg(long, value_name = "FILE")]
    key_file: PathBuf,
    /// The new key (a file of at least 16 random bytes).
    #[arg(long, value_name = "FILE")]
    new_key_file: PathBuf,
    /// Worker threads for recomputing the linkage (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
}

#[derive(Debug, clap::Args)]
struct ReportArgs {
    /// The output folder of `hcount run`.
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Language of the report.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    /// Published figures of earlier counts (default: shipped copy).
    #[arg(long, value_name = "DIR")]
    history: Option<PathBuf>,
    /// Suppression threshold used in the report's municipal figures.
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    min_cell: u64,
}

#[derive(Debug, clap::Args)]
struct Resources {
    /// Worker threads (default: all cores).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..))]
    threads: Option<u16>,
    /// Memory for the SQL engine (e.g. 1GiB, 512MiB): sorts and aggregates spill to disk
    /// past it, and accepted rows are staged on disk instead of in memory. The process as a
    /// whole needs somewhat more (10 million rows run in 1GiB with a peak of about 1.1 GB).
    /// Joins cannot spill: a run that needs more fails with exit 2. Default: no limit (a
    /// million rows then take about 1.3 GB).
    #[arg(long, value_name = "SIZE", value_parser = parse_size)]
    memory_limit: Option<usize>,
}

impl Resources {
    fn threads(&self) -> usize {
        self.threads.map(usize::from).unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Format {
    Text,
    Json,
}

#[derive(Debug, clap::Args)]
struct ValidateArgs {
    /// Submission files (.csv, .xlsx) or folders of them.
    #[arg(required = true, value_name = "FILE_OR_DIR")]
    inputs: Vec<PathBuf>,
    /// The count year; default: the year most files give in their first row.
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Language of the messages.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
    #[command(flatten)]
    resources: Resources,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Style {
    /// UTF-8, `,`, ISO dates, English headers, no bad rows (benchmarks).
    Plain,
    /// Every file style the format allows, and bad rows of every kind (fixtures).
    Messy,
}

#[derive(Debug, clap::Args)]
struct SynthArgs {
    /// Folder to write the submission files into (replaced as a whole; if it exists it must
    /// be empty or an earlier output of `hcount synth`).
    #[arg(long, value_name = "DIR")]
    out: PathBuf,
    /// Number of distinct persons.
    #[arg(long, default_value_t = 3000)]
    persons: usize,
    /// Number of files.
    #[arg(long, default_value_t = 40)]
    files: usize,
    /// Random seed (same seed, same files).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Count year.
    #[arg(long, default_value_t = 2026)]
    year: i32,
    #[arg(long, value_enum, default_value_t = Style::Messy)]
    style: Style,
    /// Make a panel instead of one count: a synthetic Denmark counted in each of
    /// --panel-years, its totals by situation and home municipality following the published
    /// counts (--persons: the first count's counted persons; 5789 is full scale), persons
    /// coming back from count to count (20–45 % of one count are in the next); writes
    /// OUT/<year>/ for each. Count them into a warehouse with
    /// `hcount run OUT/<year> --warehouse DIR`, oldest first.
    #[arg(long)]
    panel: bool,
    /// The years of a --panel, comma-separated.
    #[arg(
        long,
        value_name = "YEARS",
        value_delimiter = ',',
        default_value = "2022,2024,2026"
    )]
    panel_years: Vec<i32>,
    /// Submission format version: 2 adds the person form's background, citizenship, health
    /// and causes columns (with the published shares); 1 writes the version 1 columns only.
    #[arg(long, value_name = "N", default_value_t = 2, value_parser = clap::value_parser!(u8).range(1..=2))]
    format_version: u8,
}

#[derive(Debug, clap::Args)]
struct RulesArgs {
    /// Language of the list.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
}

#[derive(Debug, clap::Args)]
struct TemplateArgs {
    /// Folder to write hcount-skabelon.csv and hcount-skabelon.xlsx into.
    #[arg(long, value_name = "DIR", default_value = ".")]
    out: PathBuf,
    /// Count year for the example row (default: the next count).
    #[arg(long, value_name = "YEAR")]
    year: Option<i32>,
}

/// The next count's year: counts are in week 6 of even years.
fn next_count_year() -> i32 {
    use chrono::Datelike;
    let today = chrono::Local::now().date_naive();
    let mut y = today.year();
    while y % 2 != 0 || crate::intake::spec::count_date(y).is_some_and(|d| d < today) {
        y += 1;
    }
    y
}

/// Parses `1GiB`, `512MiB`, `2G`, `100M`, `4096`.
fn parse_size(s: &str) -> Result<usize, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !c.is_ascii_digit() && c != '.')
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let num: f64 = num
        .parse()
        .map_err(|_| format!("{s:?} is not a size like 1GiB or 512MiB"))?;
    let mult: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" | "kib" => 1024.0,
        "m" | "mb" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("unknown size unit {other:?} (use KiB, MiB or GiB)")),
    };
    Ok((num * mult) as usize)
}

/// Runs the command line; returns the process exit code.
pub fn main() -> i32 {
    // A damaged workbook is refused with a message; calamine's panic on it is not shown.
    crate::intake::ingest::keep_workbook_reader_panics_quiet();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::FAILED
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    match dispatch(cli) {
        Ok(code) => code,
        Err(f) => {
            eprintln!("hcount: {}", privacy::mask_cpr(&f.message));
            f.code
        }
    }
}

fn dispatch(cli: Cli) -> Result<i32, Failure> {
    match cli.command {
        Command::Run(args) => {
            let key_file = Key::locate(args.key_file.as_deref())?;
            // Fail on a bad --history before the long work, not after it.
            run::load_history(args.history.as_deref())?;
            let config = RunConfig {
                inputs: args.inputs,
                out: args.out,
                key_file,
                year: args.year,
                strict: args.strict,
                min_cell: args.min_cell,
                round: args.round,
                threads: args.resources.threads(),
                memory_limit: args.resources.memory_limit,
                quiet: args.quiet,
                lang: args.lang,
                history: args.history,
                inbox: args.inbox,
            };
            // The keys of a warehouse are read before the long work, so a wrong one fails fast.
            let chain = match &args.warehouse {
                Some(_) => Some(crate::warehouse::KeyChain {
                    base: Key::from_file(&config.key_file)?,
                    later: args
                        .chain_key_file
                        .iter()
                        .map(|f| Key::from_file(f))
                        .collect::<Result<_, _>>()?,
                }),
                None => None,
            };
            let summary = run::run(&config)?;
            if !config.quiet {
                eprint!("{}", privacy::mask_cpr(&summary::run_summary(&summary)));
            }
            if let (Some(dir), Some(chain)) = (&args.warehouse, &chain) {
                crate::warehouse::cli::after_run(&config, dir, chain, summary.report)?;
            }
            Ok(exit::OK)
        }
        Command::Validate(args) => {
            let config = ValidateConfig {
                inputs: args.inputs,
                year: args.year,
                threads: args.resources.threads(),
            };
            let intake = run::validate(&config)?;
            match args.format {
                Format::Text => {
                    let text = summary::validate_text(&intake, args.lang == Lang::Da);
                    print!("{}", privacy::mask_cpr(&text))
                }
                Format::Json => {
                    println!("{}", summary::validate_json(&intake, args.lang == Lang::Da))
                }
            }
            Ok(if intake.rows_rejected() > 0 {
                exit::REJECTED
            } else {
                exit::OK
            })
        }
        Command::Synth(args) => {
            let options = crate::synth::SynthOptions {
                persons: args.persons,
                files: args.files,
                seed: args.seed,
                year: args.year,
                style: match args.style {
                    Style::Plain => crate::synth::Style::Plain,
                    Style::Messy => crate::synth::Style::Messy,
                },
                format_version: args.format_version,
            };
            if args.panel {
                let made = crate::synth::write_panel_to(&options, &args.panel_years, &args.out)
                    .map_err(Failure::cannot_run)?;
                for (year, s) in made {
                    eprintln!(
                        "hcount: wrote {} files, {} rows ({} persons, {} deliberately bad rows) to {}",
                        s.files,
                        s.rows,
                        s.persons,
                        s.bad_rows,
                        args.out.join(year.to_string()).display()
                    );
                }
                return Ok(exit::OK);
            }
            let s = crate::synth::write_to(&options, &args.out).map_err(Failure::cannot_run)?;
            eprintln!(
                "hcount: wrote {} files, {} rows ({} persons, {} deliberately bad rows) to {}",
                s.files,
                s.rows,
                s.persons,
                s.bad_rows,
                args.out.display()
            );
            Ok(exit::OK)
        }
        Command::Report(args) => {
            let options = crate::publish::report::ReportOptions {
                lang: args.lang,
                history: run::load_history(args.history.as_deref())?,
                min_cell: args.min_cell,
            };
            // A warehouse run's report has the warehouse's series too.
            crate::warehouse::cli::report(&args.out, &options)?;
            eprintln!("hcount: wrote {}", args.out.join("report.html").display());
            Ok(exit::OK)
        }
        Command::Template(args) => {
            let year = args.year.unwrap_or_else(next_count_year);
            let written = crate::template::write(&args.out, year).map_err(Failure::cannot_run)?;
            for p in written {
                eprintln!("hcount: wrote {}", p.display());
            }
            Ok(exit::OK)
        }
        Command::Audit(args) => {
            let en = args.lang == Lang::En;
            let folders = crate::warehouse::cli::audit_folders(&args.out)?;
            let mut passed = true;
            for (label, dir) in &folders {
                let min_cell = match args.min_cell {
                    Some(n) => n,
                    None => crate::publish::disclosure::Recorded::read(dir)
                        .min_cell
                        .unwrap_or(5),
                };
                if folders.len() > 1 {
                    println!(
                        "{}",
                        match (label.is_empty(), en) {
                            (true, false) => "audit: kørslen".to_string(),
                            (true, true) => "audit: the run".to_string(),
                            (false, false) => format!("audit: lageret, {label}"),
                            (false, true) => format!("audit: the warehouse, {label}"),
                        }
                    );
                }
                let audit = crate::publish::disclosure::audit::audit_folder(dir, min_cell)
                    .map_err(Failure::cannot_run)?;
                print!("{}", audit.text(en));
                passed &= audit.passed();
            }
            Ok(if passed { exit::OK } else { exit::REJECTED })
        }
        Command::Rules(args) => {
            print!("{}", summary::rules_text(args.lang == Lang::Da));
            Ok(exit::OK)
        }
        Command::Trends(args) => {
            let options = crate::publish::trends::TrendsOptions {
                lang: args.lang,
                history: run::load_history(args.history.as_deref())?,
                min_cell: args.min_cell,
            };
            crate::warehouse::cli::trends(&args.warehouse, &args.out, &options)?;
            eprintln!("hcount: wrote {}", args.out.join("trends.html").display());
            Ok(exit::OK)
        }
        Command::Rekey(args) => {
            let old = Key::from_file(&args.key_file)?;
            let new = Key::from_file(&args.new_key_file)?;
            let rekey_threads = Resources {
                threads: args.threads,
                memory_limit: None,
            }
            .threads();
            let done = crate::warehouse::rekey(&args.warehouse, &old, &new, rekey_threads)
                .map_err(Failure::cannot_run)?;
            eprintln!(
                "hcount: re-keyed {} year(s) of {} from key id {} to key id {}; later runs: --key-file <the first key> plus --chain-key-file for each re-keying, in order",
                done.years.len(),
                args.warehouse.display(),
                done.from_key_id,
                done.to_key_id
            );
            Ok(exit::OK)
        }
        Command::Units(args) => crate::inbox::commands::units(args),
        Command::Inbox(args) => crate::inbox::commands::inbox(args),
        Command::Status(args) => crate::inbox::commands::status(args),
        Command::Serve(args) => {
            let key = Key::from_file(&Key::locate(args.key_file.as_deref())?)?;
            // An existing inbox only (a typo must not serve an empty one), and the key must be
            // the one its slices were made with: both refused here, before anyone signs in.
            let inbox = crate::inbox::Inbox::open_existing(&args.inbox)?;
            inbox.verify_key(&key)?;
            let mut config = crate::inbox::web::ServeConfig::new(args.listen);
            config.max_upload_bytes = args.max_upload;
            config.max_rows = args.max_rows;
            crate::inbox::web::serve(inbox, key, config)
                .map_err(|e| Failure::cannot_run(format!("serve on {}: {e}", args.listen)))?;
            Ok(exit::OK)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("512MiB"), Ok(512 << 20));
        assert_eq!(parse_size("2g"), Ok(2 << 30));
        assert_eq!(parse_size("4096"), Ok(4096));
        assert!(parse_size("lots").is_err());
        assert!(parse_size("1TiB").is_err());
    }

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }
}
