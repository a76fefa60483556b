//! The inbox of a count round: the registry of units asked to report, their upload tokens,
//! every version of every unit's submission (as a pseudonymised slice), and an append-only
//! audit log. `hcount serve` (src/inbox/web/), `hcount units`, `hcount inbox`,
//! `hcount status` and `hcount run --inbox` all work through [`Inbox`]. The API is summed up
//! in `src/inbox/README.md`.
//!
//! On disk, `DIR/inbox.sqlite` (WAL) holds the registry, token hashes, versions and audit;
//! `DIR/slices/*.parquet` the slices. An uploaded file is validated and pseudonymised in
//! memory: its bytes never reach the disk, so no raw CPR number is ever at rest here.
//!
//! Every method opens its own connection, so an `Inbox` is cheap to clone and safe to use
//! from many threads and processes at once (the web server calls it from `spawn_blocking`).

pub mod commands;
mod db;
pub mod slice;
pub mod status;
mod token;
pub mod web;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use rusqlite::{Connection, OptionalExtension, params};
use sha2::{Digest, Sha256};

use crate::count::staging::StagingBuilder;
use crate::intake::ingest::{FileKind, SourceFile};
use crate::intake::pseudonymise::Key;
use crate::intake::spec;
use crate::intake::validate::{self, CountYear, FileReport, Msg, Problem, RowSink, Rule, ValidRow};

pub use status::Status;

/// An upload that would drop more than this share of the unit's earlier persons…
const HOLD_SHARE: f64 = 0.5;
/// …and at least this many is held until the unit confirms it.
const HOLD_MIN_PERSONS: u64 = 10;

#[derive(Debug, thiserror::Error)]
pub enum InboxError {
    /// The request cannot be done as asked; the message says why (for the person asking).
    #[error("{0}")]
    Refused(String),
    /// A submitted file cannot be read as a table at all (nothing was stored).
    #[error("{file}: {message}")]
    Unreadable { file: String, message: String },
    #[error("inbox database: {0}")]
    Db(#[from] rusqlite::Error),
    #[error("inbox: {0}")]
    Io(#[from] std::io::Error),
}

pub type Result<T> = std::result::Result<T, InboxError>;

fn refused<T>(message: impl Into<String>) -> Result<T> {
    Err(InboxError::Refused(message.into()))
}

/// Who did something (kept in versions and the audit log).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The unit itself, signed in with its token (the web inbox).
    Unit,
    /// The coordinator, signed in with the coordinator token.
    Coordinator,
    /// Someone at the command line of the server (`hcount inbox add` and friends).
    Cli,
}

impl Actor {
    pub fn as_str(self) -> &'static str {
        match self {
            Actor::Unit => "unit",
            Actor::Coordinator => "coordinator",
            Actor::Cli => "cli",
        }
    }
}

/// A unit asked to report.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Unit {
    pub respondent_id: String,
    pub name: String,
    pub respondent_type: String,
    pub municipality: u16,
    /// False when its token was revoked (and not reissued).
    pub has_token: bool,
}

/// One file of an upload, as it arrived (kept in memory only).
#[derive(Clone)]
pub struct UploadFile {
    /// The name the file had on the sender's machine; any folder part is dropped.
    pub name: String,
    pub bytes: Vec<u8>,
}

impl std::fmt::Debug for UploadFile {
    // Never print the bytes: they hold raw CPR numbers.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "UploadFile({:?}, {} bytes)", self.name, self.bytes.len())
    }
}

/// One version of a unit's submission.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Version {
    pub respondent_id: String,
    /// 1, 2, 3, … per unit.
    pub number: u32,
    /// UTC, RFC 3339.
    pub created_at: String,
    /// `unit`, `coordinator` or `cli`.
    pub actor: String,
    /// Waiting for the unit to confirm (see [`Inbox::confirm_held`]).
    pub held: bool,
    /// This is the version that counts.
    pub current: bool,
    /// "Answered: no homeless persons this week" (no files, or files with a header only).
    pub answered_none: bool,
    /// The files' names as they arrived.
    pub files: Vec<String>,
    /// SHA-256 of the file (of each file, joined with `,`, for several); empty for none.
    pub sha256: String,
    pub rows_read: u64,
    pub rows_accepted: u64,
    pub rows_rejected: u64,
    pub warnings: u64,
    /// Distinct persons among the accepted rows (by their strongest key).
    pub persons: u64,
}

/// What an upload gave.
#[derive(Debug)]
pub struct Upload {
    pub version: Version,
    /// The count year the files were checked against.
    pub year: CountYear,
    /// Per file, the report `hcount validate` would give.
    pub reports: Vec<FileReport>,
    /// Every rejection and warning, as `hcount validate` shows them (values masked).
    pub problems: Vec<Problem>,
}

/// The outcome of [`Inbox::submit`] and [`Inbox::answer_none`].
#[derive(Debug)]
pub enum UploadOutcome {
    /// Stored; it is now the unit's slice that counts.
    Stored(Upload),
    /// Stored as a held version: it would drop `earlier_persons - kept` of the unit's
    /// `earlier_persons` persons, so the earlier version still counts until the unit
    /// confirms ([`Inbox::confirm_held`]).
    Held {
        upload: Upload,
        earlier_persons: u64,
        kept: u64,
    },
}

impl Upload {
    /// As `hcount validate` sees these files (for [`crate::summary::validate_text`]).
    pub fn as_intake(&self) -> crate::run::Intake {
        crate::run::Intake {
            year: self.year,
            files: Vec::new(),
            reports: self.reports.clone(),
            problems: self.problems.clone(),
        }
    }
}

impl UploadOutcome {
    pub fn upload(&self) -> &Upload {
        match self {
            UploadOutcome::Stored(u) | UploadOutcome::Held { upload: u, .. } => u,
        }
    }
}

/// A unit to register (one row of the units CSV).
#[derive(Debug, Clone, serde::Deserialize)]
pub struct NewUnit {
    pub respondent_id: String,
    pub name: String,
    pub respondent_type: String,
    pub municipality: String,
}

/// One entry of the audit log (no personal data: ids, actions, hashes and counts).
#[derive(Debug, Clone, serde::Serialize)]
pub struct AuditEntry {
    pub id: i64,
    pub at: String,
    pub respondent_id: Option<String>,
    pub actor: String,
    pub action: String,
    pub sha256: Option<String>,
    pub rows_read: Option<u64>,
    pub rows_accepted: Option<u64>,
    pub rows_rejected: Option<u64>,
    pub detail: Option<String>,
}

/// The latest slice of each unit that has one, as `run --inbox` counts it.
pub struct Gathered {
    pub year: CountYear,
    /// Sorted by file name, as `hcount run` orders its inputs.
    pub files: Vec<slice::SliceFile>,
    pub batches: Vec<datafusion::arrow::array::RecordBatch>,
    pub status: Status,
}

impl Gathered {
    /// The slices' reports and problems as `hcount run` would have them from the files.
    pub fn intake(&self) -> crate::run::Intake {
        let mut problems: Vec<Problem> = self.files.iter().flat_map(|f| f.problems()).collect();
        problems.sort();
        crate::run::Intake {
            year: self.year,
            files: self
                .files
                .iter()
                .map(|f| SourceFile {
                    name: f.name.clone(),
                    path: PathBuf::from(&f.name),
                    kind: if f.name.to_ascii_lowercase().ends_with(".xlsx") {
                        FileKind::Xlsx
                    } else {
                        FileKind::Csv
                    },
                })
                .collect(),
            reports: self.files.iter().map(|f| f.report()).collect(),
            problems,
        }
    }

    /// `(file, bytes, sha256)` of every file counted, for run.json.
    pub fn input_hashes(&self) -> Vec<(String, u64, String)> {
        self.files
            .iter()
            .map(|f| (f.name.clone(), f.bytes, f.sha256.clone()))
            .collect()
    }
}

/// The inbox folder. Cheap to clone; every method opens its own database connection.
#[derive(Debug, Clone)]
pub struct Inbox {
    dir: PathBuf,
}

fn now() -> String {
    chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// A respondent_id as the submission format allows it (1–64 of `A–Z a–z 0–9 . _ -`), and
/// not `.` or `..` (it names a folder in every output).
fn valid_respondent_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
        && id != "."
        && id != ".."
}

impl Inbox {
    /// Opens the inbox in `dir`, creating the folder, its database and `slices/` if needed.
    pub fn open(dir: &Path) -> Result<Inbox> {
        std::fs::create_dir_all(dir.join("slices"))?;
        let inbox = Inbox {
            dir: dir.to_owned(),
        };
        let conn = db::open(&inbox.db_path(), true)?;
        inbox.check_schema(&conn)?;
        inbox.remove_stale_temp_files();
        Ok(inbox)
    }

    /// Temp files of slices whose writer was killed before the rename. Only old ones: a
    /// younger one may be another process's upload in progress.
    fn remove_stale_temp_files(&self) {
        let Ok(entries) = std::fs::read_dir(self.dir.join("slices")) else {
            return;
        };
        let hour = std::time::Duration::from_secs(3600);
        for e in entries.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            let old = e
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|t| t.elapsed().ok())
                .is_some_and(|age| age > hour);
            if name.starts_with(".slice-") && name.ends_with(".tmp") && old {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }

    /// Opens an existing inbox; refuses a folder that is not one (a typo in `--inbox` must
    /// not silently create an empty inbox and count nothing).
    pub fn open_existing(dir: &Path) -> Result<Inbox> {
        let inbox = Inbox {
            dir: dir.to_owned(),
        };
        if !inbox.db_path().is_file() {
            return refused(format!(
                "{}: not an inbox (no inbox.sqlite); create one with `hcount units import UNITS.csv --inbox {}`",
                dir.display(),
                dir.display()
            ));
        }
        let conn = db::open(&inbox.db_path(), false)?;
        inbox.check_schema(&conn)?;
        Ok(inbox)
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn db_path(&self) -> PathBuf {
        self.dir.join("inbox.sqlite")
    }

    fn slice_path(&self, name: &str) -> PathBuf {
        self.dir.join("slices").join(name)
    }

    fn conn(&self) -> Result<Connection> {
        Ok(db::open(&self.db_path(), false)?)
    }

    fn check_schema(&self, conn: &Connection) -> Result<()> {
        let v = db::meta(conn, "schema_version")?;
        if v.as_deref() != Some(&db::SCHEMA_VERSION.to_string()) {
            return refused(format!(
                "{}: inbox schema version {} is not the one this hcount uses ({})",
                self.dir.display(),
                v.unwrap_or_else(|| "?".into()),
                db::SCHEMA_VERSION
            ));
        }
        Ok(())
    }

    // ----- units and tokens -----

    /// Registers units from a CSV file (`respondent_id,name,respondent_type,municipality`).
    /// New units get a token, returned here once as `(respondent_id, token)`; units already
    /// registered keep theirs and get their name, type and municipality updated. Every row is
    /// checked first: one bad row refuses the whole file, and the message lists each.
    pub fn import_units(&self, csv_bytes: &[u8]) -> Result<Vec<(String, String)>> {
        let text =
            std::str::from_utf8(csv_bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(csv_bytes))
                .map_err(|_| InboxError::Refused("the units file is not UTF-8 text".into()))?;
        let delimiter = if text.lines().next().is_some_and(|h| h.contains(';')) {
            b';'
        } else {
            b','
        };
        let mut reader = csv::ReaderBuilder::new()
            .delimiter(delimiter)
            .trim(csv::Trim::All)
            .from_reader(text.as_bytes());
        let headers = reader
            .headers()
            .map_err(|e| InboxError::Refused(format!("the units file: {e}")))?
            .clone();
        let expected = ["respondent_id", "name", "respondent_type", "municipality"];
        for col in expected {
            if !headers.iter().any(|h| h == col) {
                return refused(format!(
                    "the units file has no column {col:?}; its header must be {}",
                    expected.join(",")
                ));
            }
        }
        let mut units = Vec::new();
        let mut errors = Vec::new();
        let mut seen = BTreeSet::new();
        for (i, row) in reader.deserialize::<NewUnit>().enumerate() {
            let line = i + 2;
            let u = match row {
                Ok(u) => u,
                Err(e) => {
                    errors.push(format!("line {line}: {e}"));
                    continue;
                }
            };
            if !valid_respondent_id(&u.respondent_id) {
                errors.push(format!(
                    "line {line}: respondent_id {:?} is not 1–64 of A–Z a–z 0–9 . _ -",
                    u.respondent_id
                ));
            }
            if !seen.insert(u.respondent_id.clone()) {
                errors.push(format!(
                    "line {line}: respondent_id {:?} appears twice",
                    u.respondent_id
                ));
            }
            if u.name.is_empty() {
                errors.push(format!("line {line}: name is empty"));
            }
            let Some(kind) = spec::find_code(&spec::RESPONDENT_TYPES, &u.respondent_type) else {
                errors.push(format!(
                    "line {line}: respondent_type {:?} is not one of {}",
                    u.respondent_type,
                    spec::RESPONDENT_TYPES
                        .iter()
                        .map(|c| c.code)
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                continue;
            };
            let Some(municipality) = validate::parse_municipality(&u.municipality)
                .filter(|&m| spec::municipality_name(m).is_some())
            else {
                errors.push(format!(
                    "line {line}: municipality {:?} is not a municipality code (101–860)",
                    u.municipality
                ));
                continue;
            };
            units.push((u.respondent_id, u.name, kind.code, municipality));
        }
        if !errors.is_empty() {
            return refused(format!(
                "the units file was not imported (nothing changed):\n  {}",
                errors.join("\n  ")
            ));
        }
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        let mut issued = Vec::new();
        for (id, name, kind, municipality) in units {
            let exists: bool = tx
                .query_row(
                    "SELECT 1 FROM units WHERE respondent_id = ?1",
                    [&id],
                    |_| Ok(()),
                )
                .optional()?
                .is_some();
            if exists {
                tx.execute(
                    "UPDATE units SET name = ?2, respondent_type = ?3, municipality = ?4 WHERE respondent_id = ?1",
                    params![id, name, kind, municipality],
                )?;
                audit(&tx, Some(&id), Actor::Cli, "unit_updated", None, None, None)?;
            } else {
                let t = token::generate().map_err(|e| InboxError::Io(std::io::Error::other(e)))?;
                tx.execute(
                    "INSERT INTO units (respondent_id, name, respondent_type, municipality, token_hash)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![id, name, kind, municipality, token::hash(&t).to_vec()],
                )?;
                audit(&tx, Some(&id), Actor::Cli, "unit_added", None, None, None)?;
                issued.push((id, t));
            }
        }
        tx.commit()?;
        Ok(issued)
    }

    /// Every registered unit, by respondent_id.
    pub fn units(&self) -> Result<Vec<Unit>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT respondent_id, name, respondent_type, municipality, token_hash IS NOT NULL
             FROM units ORDER BY respondent_id",
        )?;
        let rows = stmt.query_map([], unit_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn unit(&self, respondent_id: &str) -> Result<Option<Unit>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                "SELECT respondent_id, name, respondent_type, municipality, token_hash IS NOT NULL
                 FROM units WHERE respondent_id = ?1",
                [respondent_id],
                unit_from_row,
            )
            .optional()?)
    }

    fn require_unit(&self, respondent_id: &str) -> Result<Unit> {
        match self.unit(respondent_id)? {
            Some(u) => Ok(u),
            None => refused(format!(
                "{respondent_id:?} is not a registered unit of this inbox (see `hcount units import`)"
            )),
        }
    }

    /// A new token for the unit; the old one stops working. Returned once.
    pub fn reissue_token(&self, respondent_id: &str, actor: Actor) -> Result<String> {
        self.require_unit(respondent_id)?;
        let t = token::generate().map_err(|e| InboxError::Io(std::io::Error::other(e)))?;
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        tx.execute(
            "UPDATE units SET token_hash = ?2 WHERE respondent_id = ?1",
            params![respondent_id, token::hash(&t).to_vec()],
        )?;
        audit(
            &tx,
            Some(respondent_id),
            actor,
            "token_reissued",
            None,
            None,
            None,
        )?;
        tx.commit()?;
        Ok(t)
    }

    /// The unit's token stops working (its uploads stay).
    pub fn revoke_token(&self, respondent_id: &str, actor: Actor) -> Result<()> {
        self.require_unit(respondent_id)?;
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        tx.execute(
            "UPDATE units SET token_hash = NULL WHERE respondent_id = ?1",
            [respondent_id],
        )?;
        audit(
            &tx,
            Some(respondent_id),
            actor,
            "token_revoked",
            None,
            None,
            None,
        )?;
        tx.commit()?;
        Ok(())
    }

    /// The unit a token belongs to, if any (and not revoked).
    pub fn unit_for_token(&self, token: &str) -> Result<Option<Unit>> {
        let hash = token::hash(token);
        let conn = self.conn()?;
        // Looked up by its hash: an attacker cannot steer a SHA-256, so the index lookup
        // leaks nothing; the final comparison is constant-time all the same.
        let found = conn
            .query_row(
                "SELECT respondent_id, name, respondent_type, municipality, 1, token_hash
                 FROM units WHERE token_hash = ?1",
                [hash.to_vec()],
                |r| Ok((unit_from_row(r)?, r.get::<_, Vec<u8>>(5)?)),
            )
            .optional()?;
        Ok(found.and_then(|(u, stored)| token::same(&stored, &hash).then_some(u)))
    }

    /// A new coordinator token (the old one stops working). Returned once.
    pub fn issue_coordinator_token(&self) -> Result<String> {
        let t = token::generate().map_err(|e| InboxError::Io(std::io::Error::other(e)))?;
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        db::set_meta(&tx, "coordinator_token_sha256", &hex(&token::hash(&t)))?;
        audit(
            &tx,
            None,
            Actor::Cli,
            "coordinator_token_issued",
            None,
            None,
            None,
        )?;
        tx.commit()?;
        Ok(t)
    }

    /// True for the coordinator's token (constant-time comparison of the hashes).
    pub fn is_coordinator(&self, token: &str) -> Result<bool> {
        let conn = self.conn()?;
        let stored = db::meta(&conn, "coordinator_token_sha256")?;
        Ok(match stored {
            Some(s) => token::same(s.as_bytes(), hex(&token::hash(token)).as_bytes()),
            None => false,
        })
    }

    // ----- the count year and the key -----

    /// The inbox's count year, once set (by `units import --year` or the first upload).
    pub fn count_year(&self) -> Result<Option<i32>> {
        let conn = self.conn()?;
        Ok(db::meta(&conn, "count_year")?.and_then(|v| v.parse().ok()))
    }

    /// Sets the count year; refused once uploads were validated against another one.
    pub fn set_count_year(&self, year: i32) -> Result<()> {
        if CountYear::new(year).is_none() {
            return refused(format!("{year} is not a usable count year"));
        }
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        let current: Option<i32> = db::meta(&tx, "count_year")?.and_then(|v| v.parse().ok());
        let versions: i64 = tx.query_row("SELECT count(*) FROM versions", [], |r| r.get(0))?;
        if current.is_some_and(|c| c != year) && versions > 0 {
            return refused(format!(
                "this inbox counts {} and holds uploads checked against it; it cannot change to {year}",
                current.unwrap_or_default()
            ));
        }
        db::set_meta(&tx, "count_year", &year.to_string())?;
        tx.commit()?;
        Ok(())
    }

    /// Every slice of an inbox must be pseudonymised with one key, or persons reported by two
    /// units would not meet. The key's fingerprint (an HMAC of a fixed label, which says
    /// nothing about the key) is kept on first use and checked on every later one.
    fn check_key(&self, conn: &Connection, key: &Key) -> Result<Option<String>> {
        let fingerprint = key.hash(&[b"hcount inbox key check"]);
        match db::meta(conn, "key_fingerprint")? {
            Some(f) if token::same(f.as_bytes(), fingerprint.as_bytes()) => Ok(None),
            Some(_) => refused(
                "this is not the key the inbox's earlier uploads were pseudonymised with; use the same --key-file (HCOUNT_KEY_FILE) as before",
            ),
            None => Ok(Some(fingerprint)),
        }
    }

    /// Checks that `key` is the inbox's key (or records it, for a new inbox).
    pub fn verify_key(&self, key: &Key) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        if let Some(f) = self.check_key(&tx, key)? {
            db::set_meta(&tx, "key_fingerprint", &f)?;
        }
        tx.commit()?;
        Ok(())
    }

    /// The year uploads are checked against: the inbox's, else the year most of these files
    /// give in their first row (ties: the later), else the latest count held by today.
    fn year_for(&self, files: &[(SourceFile, &[u8])]) -> Result<CountYear> {
        let year = match self.count_year()? {
            Some(y) => y,
            None => {
                let mut votes: std::collections::BTreeMap<i32, usize> = Default::default();
                for (f, bytes) in files {
                    if let Some(y) = validate::peek_year_bytes(f, bytes) {
                        *votes.entry(y).or_default() += 1;
                    }
                }
                votes
                    .into_iter()
                    .max_by_key(|&(y, n)| (n, y))
                    .map(|(y, _)| y)
                    .unwrap_or_else(crate::run::latest_count_year)
            }
        };
        CountYear::new(year)
            .ok_or_else(|| InboxError::Refused(format!("{year} is not a usable count year")))
    }

    // ----- uploads -----

    /// Validates and pseudonymises `files` in memory as the unit's new submission, stores the
    /// result as a new version and, unless it is held, makes it the one that counts.
    ///
    /// Rows whose respondent_id is another unit's are refused (rejected with E006): a unit
    /// submits for itself. An upload that would drop more than half, and at least 10, of the
    /// unit's earlier persons is held unless `confirm` is set. A file that cannot be read at
    /// all refuses the whole upload with [`InboxError::Unreadable`]; nothing is stored.
    pub fn submit(
        &self,
        respondent_id: &str,
        files: &[UploadFile],
        key: &Key,
        actor: Actor,
        confirm: bool,
    ) -> Result<UploadOutcome> {
        self.require_unit(respondent_id)?;
        {
            let conn = self.conn()?;
            self.check_key(&conn, key)?;
        }
        if files.is_empty() {
            return refused(
                "no file to upload (to answer \"no homeless persons\", send a file with the header row only, or use that button)",
            );
        }
        let mut sources = Vec::with_capacity(files.len());
        let mut names = BTreeSet::new();
        let mut names_in_order = Vec::with_capacity(files.len());
        for f in files {
            let base = f
                .name
                .rsplit(['/', '\\'])
                .next()
                .unwrap_or_default()
                .trim()
                .to_string();
            let kind = match base.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase()) {
                Some(e) if e == "csv" => FileKind::Csv,
                Some(e) if e == "xlsx" => FileKind::Xlsx,
                _ => {
                    return refused(format!(
                        "{:?} is not a submission file: send a .csv or .xlsx file",
                        f.name
                    ));
                }
            };
            if base.starts_with('.') || base.chars().any(char::is_control) {
                return refused(format!("{:?} is not a usable file name", f.name));
            }
            names_in_order.push(base.clone());
            if !names.insert(base.clone()) {
                return refused(format!("two files are both called {base:?}; rename one"));
            }
            let source = SourceFile {
                // Named `<unit>/<file>` in every output: two units may both send "data.csv",
                // and unidentified rows are keyed by file name and line.
                name: format!("{respondent_id}/{base}"),
                path: PathBuf::from(&base),
                kind,
            };
            sources.push((source, f.bytes.as_slice()));
        }
        let year = self.year_for(&sources)?;

        let mut staging = OwnRows {
            unit: respondent_id,
            inner: StagingBuilder::new(key.clone(), None),
            refused: Vec::new(),
        };
        let mut slice_files = Vec::new();
        let mut reports = Vec::new();
        let mut problems = Vec::new();
        for ((source, bytes), f) in sources.iter().zip(files) {
            let sha = hex(&Sha256::digest(bytes));
            let foreign = foreign_lines(source, bytes, respondent_id);
            staging.refused.clear();
            let outcome = match validate::validate_bytes(source, bytes, year, &mut staging) {
                Ok(o) => o,
                Err(e) => {
                    let mut conn = self.conn()?;
                    let tx = db::write(&mut conn)?;
                    audit(
                        &tx,
                        Some(respondent_id),
                        actor,
                        "upload_unreadable",
                        Some(&sha),
                        None,
                        Some(&e.to_string()),
                    )?;
                    tx.commit()?;
                    return Err(InboxError::Unreadable {
                        file: f.name.clone(),
                        message: e.to_string(),
                    });
                }
            };
            let (report, file_problems) =
                refuse_foreign(outcome, &foreign, &staging.refused, respondent_id);
            slice_files.push(slice::SliceFile::new(
                source.name.clone(),
                bytes.len() as u64,
                sha,
                &report,
                &file_problems,
            ));
            reports.push(report);
            problems.extend(file_problems);
        }
        problems.sort();
        let batches = staging.inner.finish()?;
        let persons = slice::person_keys(&batches)?;
        let none =
            reports.iter().all(|r| r.rows_read == 0) && !problems.iter().any(|p| p.code.is_error());
        let meta = slice::SliceMeta {
            respondent_id: respondent_id.to_string(),
            count_year: year.year,
            files: slice_files,
        };
        let shas: Vec<&str> = meta.files.iter().map(|f| f.sha256.as_str()).collect();
        let record = NewVersion {
            // Base names only: the sender's folders may name a person (C:\Users\…).
            files: names_in_order,
            sha256: shas.join(","),
            rows_read: reports.iter().map(|r| r.rows_read).sum(),
            rows_accepted: reports.iter().map(|r| r.rows_accepted).sum(),
            rows_rejected: reports.iter().map(|r| r.rows_rejected).sum(),
            warnings: reports.iter().map(|r| r.warnings).sum(),
            answered_none: none,
        };
        self.store(
            respondent_id,
            actor,
            confirm,
            year,
            key,
            &batches,
            &meta,
            persons,
            record,
            reports,
            problems,
        )
    }

    /// Records "answered: no homeless persons this week" for the unit: a version without
    /// rows. Held like an upload when it would drop the unit's earlier persons.
    pub fn answer_none(
        &self,
        respondent_id: &str,
        key: &Key,
        actor: Actor,
        confirm: bool,
    ) -> Result<UploadOutcome> {
        self.require_unit(respondent_id)?;
        let year = self.year_for(&[])?;
        let meta = slice::SliceMeta {
            respondent_id: respondent_id.to_string(),
            count_year: year.year,
            files: Vec::new(),
        };
        let record = NewVersion {
            files: Vec::new(),
            sha256: String::new(),
            rows_read: 0,
            rows_accepted: 0,
            rows_rejected: 0,
            warnings: 0,
            answered_none: true,
        };
        self.store(
            respondent_id,
            actor,
            confirm,
            year,
            key,
            &[],
            &meta,
            BTreeSet::new(),
            record,
            Vec::new(),
            Vec::new(),
        )
    }

    #[allow(clippy::too_many_arguments)]
    fn store(
        &self,
        respondent_id: &str,
        actor: Actor,
        confirm: bool,
        year: CountYear,
        key: &Key,
        batches: &[datafusion::arrow::array::RecordBatch],
        meta: &slice::SliceMeta,
        persons: BTreeSet<Vec<u8>>,
        record: NewVersion,
        reports: Vec<FileReport>,
        problems: Vec<Problem>,
    ) -> Result<UploadOutcome> {
        // The slice is on disk (atomically, under a fresh name) before the version row that
        // points at it is committed: a crash in between leaves an unreferenced file, never a
        // version without its slice.
        let slice_name = format!(
            "{}.parquet",
            token::generate().map_err(|e| InboxError::Io(std::io::Error::other(e)))?
        );
        slice::write(&self.slice_path(&slice_name), batches, meta)?;

        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        if let Some(f) = self.check_key(&tx, key)? {
            db::set_meta(&tx, "key_fingerprint", &f)?;
        }
        match db::meta(&tx, "count_year")?.and_then(|v| v.parse::<i32>().ok()) {
            None => db::set_meta(&tx, "count_year", &year.year.to_string())?,
            Some(y) if y != year.year => {
                // Another upload set the year while this one was being checked.
                drop(tx);
                let _ = std::fs::remove_file(self.slice_path(&slice_name));
                return refused(format!(
                    "the inbox's count year became {y} during this upload; send it again"
                ));
            }
            Some(_) => {}
        }
        // Compared inside the write transaction, against the version that counts right now.
        let current: Option<(i64, String)> = tx
            .query_row(
                "SELECT v.id, v.slice FROM units u JOIN versions v ON v.id = u.current_version
             WHERE u.respondent_id = ?1",
                [respondent_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?;
        let mut hold = None;
        if let Some((_, earlier_slice)) = &current
            && !confirm
        {
            let (earlier, _) = slice::read(&self.slice_path(earlier_slice))?;
            let earlier = slice::person_keys(&earlier)?;
            let kept = earlier.intersection(&persons).count() as u64;
            let dropped = earlier.len() as u64 - kept;
            if dropped as f64 > HOLD_SHARE * earlier.len() as f64 && dropped >= HOLD_MIN_PERSONS {
                hold = Some((earlier.len() as u64, kept));
            }
        }
        let number: u32 = tx.query_row(
            "SELECT coalesce(max(number), 0) + 1 FROM versions WHERE respondent_id = ?1",
            [respondent_id],
            |r| r.get(0),
        )?;
        let created_at = now();
        tx.execute(
            "INSERT INTO versions (respondent_id, number, created_at, actor, state, answered_none, files, sha256,
                rows_read, rows_accepted, rows_rejected, warnings, persons, slice)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)",
            params![
                respondent_id,
                number,
                created_at,
                actor.as_str(),
                if hold.is_some() { "held" } else { "stored" },
                record.answered_none,
                serde_json::to_string(&record.files).unwrap_or_default(),
                record.sha256,
                record.rows_read,
                record.rows_accepted,
                record.rows_rejected,
                record.warnings,
                persons.len() as u64,
                slice_name,
            ],
        )?;
        let id = tx.last_insert_rowid();
        let action = match (hold.is_some(), record.files.is_empty()) {
            (true, _) => "upload_held",
            (false, true) => "answered_none",
            (false, false) => "upload_stored",
        };
        if hold.is_none() {
            tx.execute(
                "UPDATE units SET current_version = ?2 WHERE respondent_id = ?1",
                params![respondent_id, id],
            )?;
        }
        audit(
            &tx,
            Some(respondent_id),
            actor,
            action,
            Some(record.sha256.as_str()).filter(|s| !s.is_empty()),
            Some((record.rows_read, record.rows_accepted, record.rows_rejected)),
            Some(&format!("version {number}")),
        )?;
        tx.commit()?;
        let version = Version {
            respondent_id: respondent_id.to_string(),
            number,
            created_at,
            actor: actor.as_str().to_string(),
            held: hold.is_some(),
            current: hold.is_none(),
            answered_none: record.answered_none,
            files: record.files,
            sha256: record.sha256,
            rows_read: record.rows_read,
            rows_accepted: record.rows_accepted,
            rows_rejected: record.rows_rejected,
            warnings: record.warnings,
            persons: persons.len() as u64,
        };
        let upload = Upload {
            version,
            year,
            reports,
            problems,
        };
        Ok(match hold {
            None => UploadOutcome::Stored(upload),
            Some((earlier_persons, kept)) => UploadOutcome::Held {
                upload,
                earlier_persons,
                kept,
            },
        })
    }

    /// Makes the unit's held upload (its latest version, when held) the one that counts.
    pub fn confirm_held(&self, respondent_id: &str, actor: Actor) -> Result<Version> {
        self.require_unit(respondent_id)?;
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        let latest: Option<(i64, u32, String)> = tx
            .query_row(
                "SELECT id, number, state FROM versions WHERE respondent_id = ?1 ORDER BY number DESC LIMIT 1",
                [respondent_id],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .optional()?;
        let Some((id, number, state)) = latest.filter(|l| l.2 == "held") else {
            return refused(format!("{respondent_id} has no held upload to confirm"));
        };
        debug_assert_eq!(state, "held");
        tx.execute("UPDATE versions SET state = 'stored' WHERE id = ?1", [id])?;
        tx.execute(
            "UPDATE units SET current_version = ?2 WHERE respondent_id = ?1",
            params![respondent_id, id],
        )?;
        audit(
            &tx,
            Some(respondent_id),
            actor,
            "upload_confirmed",
            None,
            None,
            Some(&format!("version {number}")),
        )?;
        tx.commit()?;
        self.version(respondent_id, number)?
            .ok_or_else(|| InboxError::Refused("the confirmed version vanished".into()))
    }

    /// Makes an earlier version the one that counts again (the coordinator's undo).
    pub fn restore(&self, respondent_id: &str, number: u32, actor: Actor) -> Result<Version> {
        self.require_unit(respondent_id)?;
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        let id: Option<i64> = tx
            .query_row(
                "SELECT id FROM versions WHERE respondent_id = ?1 AND number = ?2",
                params![respondent_id, number],
                |r| r.get(0),
            )
            .optional()?;
        let Some(id) = id else {
            return refused(format!("{respondent_id} has no version {number}"));
        };
        tx.execute("UPDATE versions SET state = 'stored' WHERE id = ?1", [id])?;
        tx.execute(
            "UPDATE units SET current_version = ?2 WHERE respondent_id = ?1",
            params![respondent_id, id],
        )?;
        audit(
            &tx,
            Some(respondent_id),
            actor,
            "version_restored",
            None,
            None,
            Some(&format!("version {number}")),
        )?;
        tx.commit()?;
        self.version(respondent_id, number)?
            .ok_or_else(|| InboxError::Refused("the restored version vanished".into()))
    }

    /// Every version of the unit, newest first.
    pub fn history(&self, respondent_id: &str) -> Result<Vec<Version>> {
        self.require_unit(respondent_id)?;
        let conn = self.conn()?;
        let mut stmt = conn.prepare(&format!(
            "{VERSION_SELECT} WHERE v.respondent_id = ?1 ORDER BY v.number DESC"
        ))?;
        let rows = stmt.query_map([respondent_id], version_from_row)?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    pub fn version(&self, respondent_id: &str, number: u32) -> Result<Option<Version>> {
        let conn = self.conn()?;
        Ok(conn
            .query_row(
                &format!("{VERSION_SELECT} WHERE v.respondent_id = ?1 AND v.number = ?2"),
                params![respondent_id, number],
                version_from_row,
            )
            .optional()?)
    }

    /// The rejections and warnings of one of the unit's versions, as `hcount validate` shows
    /// them (values masked). Only rows that carry the unit's own respondent_id are in a
    /// slice's problems; another unit's rows appear only as "refused" (E006, no values).
    pub fn problems(&self, respondent_id: &str, number: u32) -> Result<Vec<Problem>> {
        let conn = self.conn()?;
        let slice: Option<String> = conn
            .query_row(
                "SELECT slice FROM versions WHERE respondent_id = ?1 AND number = ?2",
                params![respondent_id, number],
                |r| r.get(0),
            )
            .optional()?;
        let Some(slice) = slice else {
            return refused(format!("{respondent_id} has no version {number}"));
        };
        let (_, meta) = slice::read(&self.slice_path(&slice))?;
        let mut problems: Vec<Problem> = meta.files.iter().flat_map(|f| f.problems()).collect();
        problems.sort();
        Ok(problems)
    }

    // ----- audit -----

    /// Adds an entry to the audit log (for the web layer: sign-ins, refusals). Never pass
    /// personal data.
    pub fn record(
        &self,
        respondent_id: Option<&str>,
        actor: Actor,
        action: &str,
        detail: Option<&str>,
    ) -> Result<()> {
        let mut conn = self.conn()?;
        let tx = db::write(&mut conn)?;
        audit(&tx, respondent_id, actor, action, None, None, detail)?;
        tx.commit()?;
        Ok(())
    }

    /// The audit log, oldest first; `respondent_id`: that unit's entries only.
    pub fn audit(&self, respondent_id: Option<&str>) -> Result<Vec<AuditEntry>> {
        let conn = self.conn()?;
        let mut stmt = conn.prepare(
            "SELECT id, at, respondent_id, actor, action, sha256, rows_read, rows_accepted, rows_rejected, detail
             FROM audit WHERE ?1 IS NULL OR respondent_id = ?1 ORDER BY id",
        )?;
        let rows = stmt.query_map([respondent_id], |r| {
            Ok(AuditEntry {
                id: r.get(0)?,
                at: r.get(1)?,
                respondent_id: r.get(2)?,
                actor: r.get(3)?,
                action: r.get(4)?,
                sha256: r.get(5)?,
                rows_read: r.get(6)?,
                rows_accepted: r.get(7)?,
                rows_rejected: r.get(8)?,
                detail: r.get(9)?,
            })
        })?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    // ----- status and counting -----

    /// Units asked and answered, by type, municipality and region; see [`Status`].
    pub fn status(&self) -> Result<Status> {
        let conn = self.conn()?;
        status::collect(&conn)
    }

    /// The slice that counts of every unit, for `hcount run --inbox`.
    pub fn gather(&self, key: &Key) -> Result<Gathered> {
        let status;
        let slices: Vec<String>;
        let year;
        {
            let mut conn = self.conn()?;
            // One read transaction: the status and the slices are of the same moment.
            let tx = conn.transaction()?;
            self.check_key(&tx, key)?;
            year = db::meta(&tx, "count_year")?.and_then(|v| v.parse::<i32>().ok());
            status = status::collect(&tx)?;
            let mut stmt = tx.prepare(
                "SELECT v.slice FROM units u JOIN versions v ON v.id = u.current_version ORDER BY u.respondent_id",
            )?;
            slices = stmt
                .query_map([], |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
        }
        let Some(year) = year.and_then(CountYear::new) else {
            return refused(format!(
                "{}: nothing to count yet: no unit has uploaded",
                self.dir.display()
            ));
        };
        let mut files = Vec::new();
        let mut batches = Vec::new();
        for s in &slices {
            let (b, meta) = slice::read(&self.slice_path(s))?;
            batches.extend(b);
            files.extend(meta.files);
        }
        files.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(Gathered {
            year,
            files,
            batches,
            status,
        })
    }
}

struct NewVersion {
    files: Vec<String>,
    sha256: String,
    rows_read: u64,
    rows_accepted: u64,
    rows_rejected: u64,
    warnings: u64,
    answered_none: bool,
}

const VERSION_SELECT: &str = "SELECT v.respondent_id, v.number, v.created_at, v.actor, v.state,
    u.current_version = v.id, v.answered_none, v.files, v.sha256, v.rows_read, v.rows_accepted,
    v.rows_rejected, v.warnings, v.persons
    FROM versions v JOIN units u ON u.respondent_id = v.respondent_id";

fn version_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Version> {
    let state: String = r.get(4)?;
    let current: Option<bool> = r.get(5)?;
    let files: String = r.get(7)?;
    Ok(Version {
        respondent_id: r.get(0)?,
        number: r.get(1)?,
        created_at: r.get(2)?,
        actor: r.get(3)?,
        held: state == "held",
        current: current.unwrap_or(false),
        answered_none: r.get(6)?,
        files: serde_json::from_str(&files).unwrap_or_default(),
        sha256: r.get(8)?,
        rows_read: r.get(9)?,
        rows_accepted: r.get(10)?,
        rows_rejected: r.get(11)?,
        warnings: r.get(12)?,
        persons: r.get(13)?,
    })
}

fn unit_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Unit> {
    Ok(Unit {
        respondent_id: r.get(0)?,
        name: r.get(1)?,
        respondent_type: r.get(2)?,
        municipality: r.get(3)?,
        has_token: r.get(4)?,
    })
}

fn audit(
    tx: &Connection,
    respondent_id: Option<&str>,
    actor: Actor,
    action: &str,
    sha256: Option<&str>,
    rows: Option<(u64, u64, u64)>,
    detail: Option<&str>,
) -> rusqlite::Result<()> {
    tx.execute(
        "INSERT INTO audit (at, respondent_id, actor, action, sha256, rows_read, rows_accepted, rows_rejected, detail)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
        params![
            now(),
            respondent_id,
            actor.as_str(),
            action,
            sha256,
            rows.map(|r| r.0),
            rows.map(|r| r.1),
            rows.map(|r| r.2),
            detail
        ],
    )?;
    Ok(())
}

/// Stages only the uploading unit's own rows; remembers the lines of other units' rows.
struct OwnRows<'u> {
    unit: &'u str,
    inner: StagingBuilder,
    refused: Vec<u64>,
}

impl RowSink for OwnRows<'_> {
    fn accept(&mut self, file: &SourceFile, row: &ValidRow<'_>) {
        if row.respondent_id == self.unit {
            self.inner.accept(file, row);
        } else {
            self.refused.push(row.line);
        }
    }
}

/// The lines whose respondent_id cell names another unit (a quick first pass over the file:
/// their problems must not be shown to this unit, and they are refused).
fn foreign_lines(file: &SourceFile, bytes: &[u8], unit: &str) -> BTreeSet<u64> {
    let mut column = None;
    let mut header_seen = false;
    let mut lines = BTreeSet::new();
    let _ = crate::intake::ingest::read_records_in(file, Some(bytes), |line, record| {
        if !header_seen {
            header_seen = true;
            column = (0..record.len()).find(|&i| {
                spec::Column::from_header(record.get(i)) == Some(spec::Column::RespondentId)
            });
            return column.is_some();
        }
        if let Some(i) = column {
            let id = record.get(i);
            if !id.is_empty() && id != unit {
                lines.insert(line);
            }
        }
        true
    });
    lines
}

/// Turns other units' rows into refusals: their own problems are dropped (this unit may not
/// see them), accepted ones are counted as rejected, and each gets one E006 refusal.
fn refuse_foreign(
    outcome: validate::FileOutcome,
    foreign: &BTreeSet<u64>,
    accepted_foreign: &[u64],
    unit: &str,
) -> (FileReport, Vec<Problem>) {
    let validate::FileOutcome {
        mut report,
        problems,
    } = outcome;
    if foreign.is_empty() && accepted_foreign.is_empty() {
        return (report, problems);
    }
    let file: std::sync::Arc<str> = std::sync::Arc::from(report.file.as_str());
    let mut kept: Vec<Problem> = problems
        .into_iter()
        .filter(|p| !foreign.contains(&p.line))
        .collect();
    let all: BTreeSet<u64> = foreign.iter().chain(accepted_foreign).copied().collect();
    for &line in &all {
        kept.push(Problem {
            file: file.clone(),
            line,
            column: "respondent_id".into(),
            code: Rule::E006,
            value: String::new(),
            reason: Msg {
                en: format!("the row is another unit's (not {unit}): a unit sends only its own rows; the other unit sends this row itself").into(),
                da: format!("rækken hører til en anden enhed (ikke {unit}): en enhed indsender kun sine egne rækker; den anden enhed indsender selv rækken").into(),
            },
            // The uploading unit sees the refusal: the row came in its upload.
            owner: validate::Owner::Unit(std::sync::Arc::from(unit)),
        });
    }
    let moved = accepted_foreign.len() as u64;
    report.rows_accepted -= moved;
    report.rows_rejected += moved;
    report.respondent_ids.retain(|id| id == unit);
    report.warnings = kept.iter().filter(|p| !p.code.is_error()).count() as u64;
    // Every row of an upload is the uploading unit's to see, the refused ones included.
    report.units = BTreeMap::from([(
        unit.to_string(),
        validate::UnitRows {
            rows_read: report.rows_read,
            rows_accepted: report.rows_accepted,
            rows_rejected: report.rows_rejected,
        },
    )]);
    kept.sort();
    (report, kept)
}
