//! The inbox's command-line commands (`hcount units`, `hcount inbox`, `hcount status`): their
//! flags, parsed once by clap in [`crate::cli`], and what each does.

use std::io::Write;
use std::path::PathBuf;

use super::{Actor, Inbox, UploadFile, UploadOutcome};
use crate::intake::pseudonymise::Key;
use crate::publish::report::Lang;
use crate::run::{Failure, exit};

/// `hcount inbox add`: the upload was held (it would drop many of the unit's earlier
/// persons); nothing changed in what counts. Send it again with `--confirm`.
pub const EXIT_HELD: i32 = 3;

#[derive(Debug, clap::Args)]
pub struct UnitsArgs {
    #[command(subcommand)]
    command: UnitsCommand,
}

#[derive(Debug, clap::Subcommand)]
enum UnitsCommand {
    /// Register the units asked to report, from a CSV file with the columns
    /// respondent_id,name,respondent_type,municipality. Creates the inbox if needed and prints
    /// `respondent_id,token` for each new unit: the only time a token is shown. Units already
    /// registered keep their tokens.
    Import {
        /// The units file (UTF-8 CSV, `,` or `;`).
        #[arg(value_name = "UNITS.csv")]
        file: PathBuf,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
        /// The count year uploads are checked against (default: the year the first upload
        /// gives).
        #[arg(long, value_name = "YEAR")]
        year: Option<i32>,
    },
    /// Print a new token for a unit (the old one stops working).
    Reissue {
        #[arg(value_name = "RESPONDENT_ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
    /// Stop a unit's token from working (its uploads stay).
    Revoke {
        #[arg(value_name = "RESPONDENT_ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
    /// Print a new coordinator token for the status pages (the old one stops working).
    CoordinatorToken {
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
}

#[derive(Debug, clap::Args)]
pub struct InboxArgs {
    #[command(subcommand)]
    command: InboxCommand,
}

#[derive(Debug, clap::Subcommand)]
enum InboxCommand {
    /// Take files that came by another channel (e-mail, a USB stick) through the same path
    /// as an upload: validated, pseudonymised, stored as the unit's new version. The files
    /// together are one submission. Rows of another unit are refused.
    ///
    /// Exit codes as `validate`: 0 all rows accepted; 1 some rows rejected; 2 could not run
    /// (nothing stored). 3: held, because it would drop more than half (and at least 10) of
    /// the unit's earlier persons; nothing changed in what counts (send it with --confirm).
    Add {
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
        /// The unit the files are from (its respondent_id).
        #[arg(long, value_name = "ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
        /// File holding the HMAC key for the pseudonyms [env: HCOUNT_KEY_FILE].
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Store it even if it drops many of the unit's earlier persons.
        #[arg(long)]
        confirm: bool,
        /// Language of the messages.
        #[arg(long, value_enum, default_value_t = Lang::Da)]
        lang: Lang,
    },
    /// Record that a unit answered "no homeless persons this week".
    None {
        #[arg(long, value_name = "ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
        #[arg(long, value_name = "FILE")]
        key_file: Option<PathBuf>,
        /// Record it even if the unit had persons before.
        #[arg(long)]
        confirm: bool,
    },
    /// Make a unit's held upload the one that counts.
    Confirm {
        #[arg(long, value_name = "ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
    /// List every version a unit sent, newest first.
    History {
        #[arg(long, value_name = "ID")]
        unit: String,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
    /// Make an earlier version of a unit the one that counts again.
    Restore {
        #[arg(long, value_name = "ID")]
        unit: String,
        #[arg(long, value_name = "N")]
        version: u32,
        #[arg(long, value_name = "DIR")]
        inbox: PathBuf,
    },
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum StatusFormat {
    Text,
    Csv,
}

#[derive(Debug, clap::Args)]
pub struct StatusArgs {
    #[arg(long, value_name = "DIR")]
    inbox: PathBuf,
    /// `csv`: one row per unit, for a spreadsheet.
    #[arg(long, value_enum, default_value_t = StatusFormat::Text)]
    format: StatusFormat,
    /// Language of the text.
    #[arg(long, value_enum, default_value_t = Lang::Da)]
    lang: Lang,
}

pub fn units(args: UnitsArgs) -> Result<i32, Failure> {
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| Failure::cannot_run(format!("writing to stdout: {e}"));
    match args.command {
        UnitsCommand::Import { file, inbox, year } => {
            let bytes = std::fs::read(&file)
                .map_err(|e| Failure::cannot_run(format!("{}: {e}", file.display())))?;
            let inbox = Inbox::open(&inbox)?;
            if let Some(y) = year {
                inbox.set_count_year(y)?;
            }
            let issued = inbox.import_units(&bytes)?;
            writeln!(out, "respondent_id,token").map_err(io)?;
            for (id, token) in &issued {
                writeln!(out, "{id},{token}").map_err(io)?;
            }
            eprintln!(
                "hcount: {} new units; tokens are shown only now: hand each unit its own",
                issued.len()
            );
        }
        UnitsCommand::Reissue { unit, inbox } => {
            let token = Inbox::open_existing(&inbox)?.reissue_token(&unit, Actor::Cli)?;
            writeln!(out, "respondent_id,token\n{unit},{token}").map_err(io)?;
        }
        UnitsCommand::Revoke { unit, inbox } => {
            Inbox::open_existing(&inbox)?.revoke_token(&unit, Actor::Cli)?;
            eprintln!("hcount: the token of {unit} no longer works");
        }
        UnitsCommand::CoordinatorToken { inbox } => {
            let token = Inbox::open_existing(&inbox)?.issue_coordinator_token()?;
            writeln!(out, "{token}").map_err(io)?;
        }
    }
    Ok(exit::OK)
}

pub fn inbox(args: InboxArgs) -> Result<i32, Failure> {
    match args.command {
        InboxCommand::Add {
            files,
            unit,
            inbox,
            key_file,
            confirm,
            lang,
        } => {
            let key = Key::from_file(&Key::locate(key_file.as_deref())?)?;
            let inbox = Inbox::open_existing(&inbox)?;
            let mut uploads = Vec::with_capacity(files.len());
            for f in &files {
                let bytes = std::fs::read(f)
                    .map_err(|e| Failure::cannot_run(format!("{}: {e}", f.display())))?;
                let name = f
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                uploads.push(UploadFile { name, bytes });
            }
            let outcome = inbox.submit(&unit, &uploads, &key, Actor::Cli, confirm)?;
            let upload = outcome.upload();
            print!(
                "{}",
                crate::summary::validate_text(&upload.as_intake(), lang == Lang::Da)
            );
            let v = &upload.version;
            match &outcome {
                UploadOutcome::Stored(_) => {
                    eprintln!(
                        "hcount: stored as version {} of {unit}: {} rows read, {} accepted, {} rejected{}",
                        v.number,
                        v.rows_read,
                        v.rows_accepted,
                        v.rows_rejected,
                        if v.answered_none {
                            " (answered: no homeless persons)"
                        } else {
                            ""
                        }
                    );
                    Ok(if v.rows_rejected > 0 {
                        exit::REJECTED
                    } else {
                        exit::OK
                    })
                }
                UploadOutcome::Held {
                    earlier_persons,
                    kept,
                    ..
                } => {
                    eprintln!(
                        "hcount: held as version {} of {unit}: it keeps {kept} of the {earlier_persons} persons of the version that counts now, which still counts; if that is right, run `hcount inbox confirm --unit {unit}` (or add again with --confirm)",
                        v.number
                    );
                    Ok(EXIT_HELD)
                }
            }
        }
        InboxCommand::None {
            unit,
            inbox,
            key_file,
            confirm,
        } => {
            let key = Key::from_file(&Key::locate(key_file.as_deref())?)?;
            let outcome =
                Inbox::open_existing(&inbox)?.answer_none(&unit, &key, Actor::Cli, confirm)?;
            match outcome {
                UploadOutcome::Stored(u) => {
                    eprintln!(
                        "hcount: {unit} answered \"no homeless persons\" (version {})",
                        u.version.number
                    );
                    Ok(exit::OK)
                }
                UploadOutcome::Held { upload, .. } => {
                    eprintln!(
                        "hcount: held as version {} of {unit}: the unit had persons before; confirm with `hcount inbox confirm --unit {unit}`",
                        upload.version.number
                    );
                    Ok(EXIT_HELD)
                }
            }
        }
        InboxCommand::Confirm { unit, inbox } => {
            let v = Inbox::open_existing(&inbox)?.confirm_held(&unit, Actor::Cli)?;
            eprintln!("hcount: version {} of {unit} now counts", v.number);
            Ok(exit::OK)
        }
        InboxCommand::History { unit, inbox } => {
            let versions = Inbox::open_existing(&inbox)?.history(&unit)?;
            let mut w = csv::Writer::from_writer(std::io::stdout().lock());
            let io = |e: csv::Error| Failure::cannot_run(format!("writing to stdout: {e}"));
            w.write_record([
                "version",
                "created_at",
                "actor",
                "state",
                "files",
                "sha256",
                "rows_read",
                "rows_accepted",
                "rows_rejected",
                "persons",
            ])
            .map_err(io)?;
            for v in versions {
                let state = match (v.current, v.held, v.answered_none) {
                    (true, _, true) => "counts (no homeless persons)",
                    (true, _, false) => "counts",
                    (false, true, _) => "held",
                    (false, false, _) => "earlier",
                };
                w.write_record([
                    v.number.to_string(),
                    v.created_at,
                    v.actor,
                    state.to_string(),
                    v.files
                        .iter()
                        .map(|f| crate::count::tables::defuse(f).into_owned())
                        .collect::<Vec<_>>()
                        .join("|"),
                    v.sha256,
                    v.rows_read.to_string(),
                    v.rows_accepted.to_string(),
                    v.rows_rejected.to_string(),
                    v.persons.to_string(),
                ])
                .map_err(io)?;
            }
            w.flush()
                .map_err(|e| Failure::cannot_run(format!("writing to stdout: {e}")))?;
            Ok(exit::OK)
        }
        InboxCommand::Restore {
            unit,
            version,
            inbox,
        } => {
            let v = Inbox::open_existing(&inbox)?.restore(&unit, version, Actor::Cli)?;
            eprintln!("hcount: version {} of {unit} counts again", v.number);
            Ok(exit::OK)
        }
    }
}

pub fn status(args: StatusArgs) -> Result<i32, Failure> {
    let status = Inbox::open_existing(&args.inbox)?.status()?;
    match args.format {
        StatusFormat::Text => print!("{}", status.to_text(args.lang == Lang::Da)),
        StatusFormat::Csv => print!("{}", status.to_csv()),
    }
    Ok(exit::OK)
}
