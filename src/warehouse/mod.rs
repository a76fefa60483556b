//! The warehouse: every count's output in one folder, one Hive-style partition per year
//! (`DIR/year=YYYY/`), so DuckDB, Polars, pandas and DataFusion read it as one dataset:
//!
//! ```text
//! DIR/manifest.json                      key ids (never the key), years, re-keyings
//! DIR/year=2024/persons.parquet          the run's persons (keys carried through the chain)
//! DIR/year=2024/submissions.parquet      the run's accepted rows (same)
//! DIR/year=2024/run.json                 the run's record
//! DIR/year=2024/tables/*.csv             the run's tables, and the linkage tables
//! ```
//!
//! A year is stored from a finished run's output folder ([`store`]), so it works for
//! `hcount run --warehouse` and for any other way of making a run's output. A year is
//! replaced as a whole (written beside, renamed into place). The linkage tables
//! (`queries/warehouse/`) are then recomputed for every year: a year's "new" depends on the
//! years before it.
//!
//! Person keys only link when they were made with the same key. The manifest records the
//! warehouse's key chain as key ids — a keyed fingerprint, [`key_id`], never the key — and a
//! year made with another key is refused. `hcount rekey` ([`rekey`]) replaces every
//! pseudonym p by HMAC(new key, "rekey:v1:" + p) and appends the new key's id to the chain;
//! later runs make their pseudonyms with the chain's first key and carry them through the
//! later keys (see docs/DECISIONS.md, "Warehouse").

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::count::tables::{self, Table};
use crate::intake::pseudonymise::Key;
use crate::output::StagedDir;

pub mod cli;

pub const MANIFEST: &str = "manifest.json";
const FORMAT: &str = "hcount-warehouse/1";

/// The files of a run's output folder that a year of the warehouse keeps.
const RUN_FILES: &[&str] = &["persons.parquet", "submissions.parquet", "run.json"];
/// The Parquet files whose `person_key` column holds pseudonyms.
const KEYED_FILES: &[&str] = &["persons.parquet", "submissions.parquet"];

/// A key's id: the first 16 hex digits of HMAC(key, "hcount:key-id:v1"). It tells keys
/// apart without revealing anything about the key (a keyed hash of a fixed text).
pub fn key_id(key: &Key) -> String {
    key.hash(&[b"hcount:key-id:v1"])[..16].to_string()
}

/// One re-keying of the warehouse.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rekeying {
    pub from_key_id: String,
    pub to_key_id: String,
    pub at: String,
}

/// A stored year.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct YearEntry {
    /// Persons in persons.parquet (counted or not).
    pub persons: u64,
    /// Counted persons (the national total).
    pub counted: u64,
    pub hcount_version: String,
}

/// `DIR/manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format: String,
    /// Key ids: the first key made the pseudonyms, each later one re-keyed every year.
    pub key_chain: Vec<String>,
    /// The suppression threshold of the published linkage tables (the last run's --min-cell).
    pub min_cell: u64,
    pub years: BTreeMap<i32, YearEntry>,
    #[serde(default)]
    pub rekeyings: Vec<Rekeying>,
}

impl Manifest {
    pub fn read(dir: &Path) -> Result<Option<Manifest>, String> {
        let path = dir.join(MANIFEST);
        let text = match std::fs::read_to_string(&path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => return Err(format!("{}: {e}", path.display())),
        };
        let m: Manifest = serde_json::from_str(&text).map_err(|e| {
            format!(
                "{}: not a warehouse manifest of hcount: {e}",
                path.display()
            )
        })?;
        if m.format != FORMAT {
            return Err(format!(
                "{}: format {:?}; this hcount reads {FORMAT:?}",
                path.display(),
                m.format
            ));
        }
        Ok(Some(m))
    }

    /// Written beside and renamed into place.
    fn write(&self, dir: &Path) -> Result<(), String> {
        let text = serde_json::to_string_pretty(self).map_err(|e| e.to_string())?;
        write_atomically(&dir.join(MANIFEST), format!("{text}\n").as_bytes())
    }
}

/// The keys a run needs to add a year to a warehouse: the key that makes the pseudonyms
/// (`--key-file`), then the keys of every later re-keying, in order (`--chain-key-file`).
pub struct KeyChain {
    pub base: Key,
    pub later: Vec<Key>,
}

impl KeyChain {
    pub fn ids(&self) -> Vec<String> {
        std::iter::once(&self.base)
            .chain(&self.later)
            .map(key_id)
            .collect()
    }

    /// A pseudonym of the base key carried through the later keys.
    fn carry(&self, pseudonym: &str) -> String {
        let mut p = pseudonym.to_string();
        for k in &self.later {
            p = rekey_one(k, &p);
        }
        p
    }
}

/// The re-keyed pseudonym: HMAC(new key, "rekey:v1:" + old pseudonym).
fn rekey_one(new: &Key, old: &str) -> String {
    new.hash(&[b"rekey:v1:", old.as_bytes()])
}

/// Checks that a run made with `chain` may be added to (or start) the warehouse described by
/// `manifest`, with a message a coordinator can act on.
fn check_chain(manifest: &Manifest, chain: &[String], dir: &Path) -> Result<(), String> {
    if manifest.key_chain == chain {
        return Ok(());
    }
    let have = &manifest.key_chain;
    let msg = if chain.first() != have.first() {
        if have.iter().skip(1).any(|id| Some(id) == chain.first()) {
            format!(
                "the warehouse {} was re-keyed: its pseudonyms are made with its first key (id {}) and carried through the later keys. Give the first key with --key-file and the later ones, in order, with --chain-key-file (ids {})",
                dir.display(),
                have[0],
                have[1..].join(", ")
            )
        } else {
            format!(
                "the warehouse {} holds counts made with another key (key id {}; this key's id is {}). Persons can only be followed between counts made with the same key: use the warehouse's key, or another --warehouse folder",
                dir.display(),
                have[0],
                chain.first().map(String::as_str).unwrap_or("?")
            )
        }
    } else if chain.len() < have.len() {
        format!(
            "the warehouse {} was re-keyed {} time(s): give the key of each re-keying, in order, with --chain-key-file (key ids {})",
            dir.display(),
            have.len() - 1,
            have[1..].join(", ")
        )
    } else {
        format!(
            "the --chain-key-file keys (ids {}) are not the warehouse's re-keyings (ids {})",
            chain[1..].join(", "),
            if have.len() > 1 {
                have[1..].join(", ")
            } else {
                "none".to_string()
            }
        )
    };
    Err(msg)
}

/// Only one process changes a warehouse at a time.
struct Lock(PathBuf);

impl Lock {
    fn take(dir: &Path) -> Result<Lock, String> {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        let path = dir.join(".lock");
        match std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
        {
            Ok(_) => Ok(Lock(path)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Err(format!(
                "the warehouse {} is being changed by another hcount (or one was killed: if none is running, delete {})",
                dir.display(),
                path.display()
            )),
            Err(e) => Err(format!("{}: {e}", path.display())),
        }
    }
}

impl Drop for Lock {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

pub(crate) fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    tables::write_file(&tmp, bytes).map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("{}: {e}", path.display())
    })
}

/// `DIR/year=YYYY`.
pub fn year_dir(dir: &Path, year: i32) -> PathBuf {
    dir.join(format!("year={year}"))
}

/// The stored years and their folders, in year order (from the manifest; a folder the
/// manifest does not list — left by a killed run — is not part of the warehouse).
pub fn years(dir: &Path) -> Result<Vec<(i32, PathBuf)>, String> {
    let manifest = Manifest::read(dir)?.ok_or_else(|| {
        format!(
            "{} is not a warehouse (no {MANIFEST}): make one with `hcount run … --warehouse {}`",
            dir.display(),
            dir.display()
        )
    })?;
    let mut out = Vec::new();
    for year in manifest.years.keys() {
        let d = year_dir(dir, *year);
        if !d.join("persons.parquet").is_file() {
            return Err(format!(
                "{}: the manifest lists {year}, but {} is missing",
                dir.display(),
                d.join("persons.parquet").display()
            ));
        }
        out.push((*year, d));
    }
    Ok(out)
}

/// What [`store`] did.
pub struct Stored {
    pub year: i32,
    pub replaced: bool,
    pub years: Vec<i32>,
}

/// Adds the finished run in `run_out` to the warehouse `dir` as its year (replacing that
/// year if stored before), then recomputes the linkage tables of every year.
pub fn store(
    run_out: &Path,
    dir: &Path,
    chain: &KeyChain,
    min_cell: u64,
    threads: usize,
) -> Result<Stored, String> {
    let run_json = run_out.join("run.json");
    let run: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(&run_json).map_err(|e| format!("{}: {e}", run_json.display()))?,
    )
    .map_err(|e| format!("{}: {e}", run_json.display()))?;
    let year = run["count_year"]
        .as_i64()
        .and_then(|y| i32::try_from(y).ok())
        .ok_or_else(|| format!("{}: no count_year", run_json.display()))?;
    let ids = chain.ids();
    // A run records its key's id: a folder made with another key cannot slip in.
    if let Some(made_with) = run["key_id"].as_str()
        && made_with != ids[0]
    {
        return Err(format!(
            "{} was made with another key (key id {made_with}) than the one given (key id {})",
            run_out.display(),
            ids[0]
        ));
    }
    let _lock = Lock::take(dir)?;
    let mut manifest = match Manifest::read(dir)? {
        Some(m) => {
            check_chain(&m, &ids, dir)?;
            m
        }
        None => Manifest {
            format: FORMAT.to_string(),
            key_chain: ids.clone(),
            min_cell,
            years: BTreeMap::new(),
            rekeyings: Vec::new(),
        },
    };
    manifest.min_cell = min_cell;

    let target = year_dir(dir, year);
    let replaced = manifest.years.contains_key(&year);
    let staged =
        StagedDir::create(&target, "run.json").map_err(|e| format!("{}: {e}", target.display()))?;
    for name in RUN_FILES {
        let src = run_out.join(name);
        let dst = staged.path().join(name);
        if KEYED_FILES.contains(name) && !chain.later.is_empty() {
            crate::count::engine::map_parquet_column(&src, &dst, "person_key", &|p| chain.carry(p))
                .map_err(|e| format!("{}: {e}", src.display()))?;
        } else {
            std::fs::copy(&src, &dst).map_err(|e| format!("{}: {e}", src.display()))?;
        }
    }
    copy_tables(&run_out.join("tables"), &staged.path().join("tables"))?;

    // The linkage of every year, with this year read from where it is being written: the
    // new year's tables are complete before it is moved into place.
    let mut all: Vec<(i32, PathBuf)> = years_on_disk(dir, &manifest)
        .into_iter()
        .filter(|(y, _)| *y != year)
        .collect();
    all.push((year, staged.path().to_owned()));
    all.sort_by_key(|(y, _)| *y);
    let linkage = linkage_tables(&all, threads)?;
    write_linkage(&linkage, year, staged.path(), min_cell)?;
    staged
        .commit("run.json")
        .map_err(|e| format!("{}: cannot move into place: {e}", target.display()))?;

    manifest.years.insert(
        year,
        YearEntry {
            persons: run["persons"]["total"].as_u64().unwrap_or(0),
            counted: run["persons"]["counted"].as_u64().unwrap_or(0),
            hcount_version: run["hcount_version"].as_str().unwrap_or("").to_string(),
        },
    );
    manifest.write(dir)?;
    for (y, d) in &all {
        if *y != year {
            write_linkage(&linkage, *y, d, min_cell)?;
        }
    }
    Ok(Stored {
        year,
        replaced,
        years: manifest.years.keys().copied().collect(),
    })
}

fn years_on_disk(dir: &Path, manifest: &Manifest) -> Vec<(i32, PathBuf)> {
    manifest
        .years
        .keys()
        .map(|y| (*y, year_dir(dir, *y)))
        .collect()
}

/// Copies the run's CSV tables (and `published/`).
fn copy_tables(src: &Path, dst: &Path) -> Result<(), String> {
    std::fs::create_dir_all(dst).map_err(|e| format!("{}: {e}", dst.display()))?;
    let mut entries: Vec<_> = std::fs::read_dir(src)
        .map_err(|e| format!("{}: {e}", src.display()))?
        .collect::<Result<_, _>>()
        .map_err(|e| format!("{}: {e}", src.display()))?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        if path.is_dir() {
            copy_tables(&path, &dst.join(e.file_name()))?;
        } else {
            std::fs::copy(&path, dst.join(e.file_name()))
                .map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    Ok(())
}

/// The warehouse tables, each as one table over all years.
fn linkage_tables(
    years: &[(i32, PathBuf)],
    threads: usize,
) -> Result<Vec<(&'static str, Table)>, String> {
    let inputs: Vec<(i32, PathBuf)> = years
        .iter()
        .map(|(y, d)| (*y, d.join("persons.parquet")))
        .collect();
    let started = std::time::Instant::now();
    let result = crate::count::engine::warehouse_tables(&inputs, threads)
        .map_err(|e| format!("linkage: {e}"))?;
    if std::env::var_os("HCOUNT_TRACE").is_some() {
        eprintln!(
            "hcount: linkage queries over {} years took {:.3} s",
            years.len(),
            started.elapsed().as_secs_f64()
        );
    }
    result
        .into_iter()
        .map(|(name, batches)| {
            Table::from_batches(&batches)
                .map(|t| (name, t))
                .map_err(|e| format!("linkage {name}: {e}"))
        })
        .collect()
}

/// Writes the rows of `year` of each warehouse table into `year_dir/tables/<name>.csv`,
/// without the year column (the partition gives it); the municipal one also suppressed
/// into `tables/published/`.
fn write_linkage(
    tables: &[(&'static str, Table)],
    year: i32,
    year_dir: &Path,
    min_cell: u64,
) -> Result<(), String> {
    let dir = year_dir.join("tables");
    std::fs::create_dir_all(dir.join("published"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let y = year.to_string();
    for (name, table) in tables {
        let of_year = Table {
            header: table.header[1..].to_vec(),
            rows: table
                .rows
                .iter()
                .filter(|r| r[0] == y)
                .map(|r| r[1..].to_vec())
                .collect(),
        };
        write_table(&of_year, &dir.join(format!("{name}.csv")))?;
        if *name == "linkage_by_municipality" {
            let totals = dir.join("published/municipal_totals.csv");
            let totals = if totals.exists() {
                Some(Table::read_csv(&totals)?)
            } else {
                None
            };
            let published = protect_linkage(&of_year, totals.as_ref(), min_cell);
            write_table(&published, &dir.join(format!("published/{name}.csv")))?;
        }
    }
    Ok(())
}

/// The published copy of a year's `linkage_by_municipality`. Its `persons` is the
/// municipal total, so it shows exactly what the year's published `municipal_totals.csv`
/// shows (a total hidden there as `x` would otherwise be read here); a municipality whose
/// total is hidden has its whole row hidden (`x`). Elsewhere counts from 1 to t − 1 become
/// `<t`, and the row and column rule hides more: `new + again + returning = persons` per
/// municipality, and each column adds up to the national linkage the trends page shows,
/// so a row or a column with one hidden cell gets a second (the smallest count; an
/// `again` or `returning` shown as `<t` beside its partner shown hides `persistent`, which
/// is at most their sum). This is the
/// rule, not the LP attack: the table is not yet in the audited linked set
/// (docs/DECISIONS.md). Without a published `municipal_totals.csv` (an output of an
/// earlier version) the totals get the primary rule only, and the rest the same rules.
fn protect_linkage(table: &Table, totals: Option<&Table>, min_cell: u64) -> Table {
    let col = |name: &str| table.header.iter().position(|h| h == name);
    let (Some(new), Some(again), Some(returning), Some(persistent), Some(persons)) = (
        col("new"),
        col("again"),
        col("returning"),
        col("persistent"),
        col("persons"),
    ) else {
        let mut out = table.clone();
        for column in ["new", "again", "returning", "persistent", "persons"] {
            out = tables::suppress(&out, column, min_cell);
        }
        return out;
    };
    let small = |v: &str| v.parse::<u64>().is_ok_and(|n| n > 0 && n < min_cell);
    let below = format!("<{min_cell}");
    let published_total = |code: &str| -> Option<String> {
        let t = totals?;
        let c = t.header.iter().position(|h| h == "persons")?;
        t.rows.iter().find(|r| r[0] == code).map(|r| r[c].clone())
    };
    let mut out = table.clone();
    let hidden = |v: &str| v.parse::<u64>().is_err();
    for row in &mut out.rows {
        match published_total(&row[0]) {
            Some(total) if hidden(&total) => {
                for c in [new, again, returning, persistent] {
                    row[c] = crate::publish::disclosure::SECONDARY_MARK.to_string();
                }
                row[persons] = total;
            }
            _ => {
                for c in [new, again, returning, persistent, persons] {
                    if small(&row[c]) {
                        row[c] = below.clone();
                    }
                }
            }
        }
    }
    let exact = |r: usize, c: usize| table.rows[r][c].parse::<u64>().unwrap_or(0);
    let hide = |out: &mut Table, r: usize, c: usize| {
        out.rows[r][c] = crate::publish::disclosure::SECONDARY_MARK.to_string();
    };
    loop {
        let mut changed = false;
        for r in 0..out.rows.len() {
            let parts = [new, again, returning];
            let shown: Vec<usize> = parts
                .iter()
                .copied()
                .filter(|&c| !hidden(&out.rows[r][c]))
                .collect();
            if shown.len() == 2 && !hidden(&out.rows[r][persons]) {
                let c = *shown.iter().min_by_key(|&&c| (exact(r, c), c)).unwrap();
                hide(&mut out, r, c);
                changed = true;
            }
            // persistent ≤ again + returning: a shown persistent and a shown partner bound
            // a `<t` from below (beside an `x` it bounds only the `x`, which may be anything).
            let (a, b) = (&out.rows[r][again], &out.rows[r][returning]);
            if ((*a == below && !hidden(b)) || (*b == below && !hidden(a)))
                && !hidden(&out.rows[r][persistent])
                && exact(r, persistent) > 0
            {
                hide(&mut out, r, persistent);
                changed = true;
            }
        }
        for c in [new, again, returning, persistent] {
            let hidden_rows: Vec<usize> = (0..out.rows.len())
                .filter(|&r| hidden(&out.rows[r][c]))
                .collect();
            if hidden_rows.len() == 1 {
                let other = (0..out.rows.len())
                    .filter(|&r| !hidden(&out.rows[r][c]))
                    .min_by_key(|&r| (exact(r, c), r));
                if let Some(r) = other {
                    hide(&mut out, r, c);
                    changed = true;
                }
            }
        }
        if !changed {
            break;
        }
    }
    out
}

fn write_table(table: &Table, path: &Path) -> Result<(), String> {
    let tmp = path.with_file_name(format!(
        ".{}.tmp-{}",
        path.file_name().unwrap_or_default().to_string_lossy(),
        std::process::id()
    ));
    table
        .write_csv(&tmp)
        .map_err(|e| format!("{}: {e}", tmp.display()))?;
    std::fs::rename(&tmp, path).map_err(|e| format!("{}: {e}", path.display()))
}

/// Recomputes the linkage tables of every year (after a year was stored or re-keyed).
pub fn relink(dir: &Path, threads: usize) -> Result<(), String> {
    let manifest = Manifest::read(dir)?.ok_or_else(|| format!("{}: no manifest", dir.display()))?;
    let all = years(dir)?;
    let linkage = linkage_tables(&all, threads)?;
    for (y, d) in &all {
        write_linkage(&linkage, *y, d, manifest.min_cell)?;
    }
    Ok(())
}

/// What [`rekey`] did.
pub struct Rekeyed {
    pub years: Vec<i32>,
    pub from_key_id: String,
    pub to_key_id: String,
}

/// `hcount rekey`: replaces every pseudonym p of every year by HMAC(new, "rekey:v1:" + p),
/// atomically for the warehouse as a whole (the re-keyed warehouse is written beside it and
/// renamed into place), and appends the new key's id to the manifest's chain. `old` must be
/// the warehouse's current key (the last of its chain): it proves the right to re-key; the
/// new pseudonyms need only the new key.
pub fn rekey(dir: &Path, old: &Key, new: &Key, threads: usize) -> Result<Rekeyed, String> {
    let mut manifest = Manifest::read(dir)?
        .ok_or_else(|| format!("{} is not a warehouse (no {MANIFEST})", dir.display()))?;
    let current = manifest.key_chain.last().cloned().unwrap_or_default();
    let (old_id, new_id) = (key_id(old), key_id(new));
    if old_id != current {
        return Err(format!(
            "--key-file is not the warehouse's current key (key id {current}; the file's key id is {old_id}): nothing was changed"
        ));
    }
    if new_id == old_id || manifest.key_chain.contains(&new_id) {
        return Err(format!(
            "--new-key-file is a key the warehouse has already used (key id {new_id}): re-key to a new key"
        ));
    }
    let all = years(dir)?;
    let lock = Lock::take(dir)?;
    let staged = StagedDir::create(dir, MANIFEST).map_err(|e| format!("{}: {e}", dir.display()))?;
    for (year, src) in &all {
        let dst = year_dir(staged.path(), *year);
        std::fs::create_dir_all(&dst).map_err(|e| format!("{}: {e}", dst.display()))?;
        for name in RUN_FILES {
            if KEYED_FILES.contains(name) {
                crate::count::engine::map_parquet_column(
                    &src.join(name),
                    &dst.join(name),
                    "person_key",
                    &|p| rekey_one(new, p),
                )
                .map_err(|e| format!("{}: {e}", src.join(name).display()))?;
            } else {
                std::fs::copy(src.join(name), dst.join(name))
                    .map_err(|e| format!("{}: {e}", src.join(name).display()))?;
            }
        }
        copy_tables(&src.join("tables"), &dst.join("tables"))?;
    }
    manifest.key_chain.push(new_id.clone());
    manifest.rekeyings.push(Rekeying {
        from_key_id: old_id.clone(),
        to_key_id: new_id.clone(),
        at: chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
    });
    manifest.write(staged.path())?;
    // The linkage of the re-keyed years, recomputed: it must come out the same (tested).
    relink(staged.path(), threads)?;
    drop(lock);
    staged
        .commit(MANIFEST)
        .map_err(|e| format!("{}: cannot move into place: {e}", dir.display()))?;
    Ok(Rekeyed {
        years: all.iter().map(|(y, _)| *y).collect(),
        from_key_id: old_id,
        to_key_id: new_id,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn linkage_shows_what_the_municipal_totals_show() {
        let header = &[
            "municipality",
            "municipality_name",
            "new",
            "again",
            "returning",
            "persistent",
            "persons",
        ];
        let linkage = Table::of(
            header,
            &[
                &["101", "København", "40", "20", "10", "6", "70"],
                &["147", "Frederiksberg", "12", "3", "6", "7", "21"],
                &["482", "Langeland", "6", "2", "0", "1", "8"],
                &["563", "Fanø", "0", "0", "0", "0", "0"],
            ],
        );
        let totals = Table::of(
            &["municipality", "municipality_name", "persons"],
            &[
                &["101", "København", "70"],
                &["147", "Frederiksberg", "21"],
                &["482", "Langeland", "x"],
                &["563", "Fanø", "x"],
            ],
        );
        let out = protect_linkage(&linkage, Some(&totals), 5);
        // A total hidden in municipal_totals is hidden here too, with its whole row.
        assert_eq!(out.rows[2][2..], ["x", "x", "x", "x", "x"]);
        assert_eq!(out.rows[3][2..], ["x", "x", "x", "x", "x"]);
        // Frederiksberg: again = 3 is <5, so a second of new/again/returning is hidden
        // (else 21 − 12 − 6 gives it); persistent (at most again + returning) then bounds
        // only the `x` beside it and stays.
        let f = &out.rows[1];
        assert_eq!(f[3], "<5");
        assert_eq!(f[4], "x", "the smaller of new and returning");
        assert_eq!(f[2], "12");
        assert_eq!(f[5], "7");
        assert_eq!(f[6], "21");
        // No column holds a single hidden cell: each adds up to a published national count.
        for c in 2..6 {
            let n = out
                .rows
                .iter()
                .filter(|r| r[c].parse::<u64>().is_err())
                .count();
            assert_ne!(n, 1, "column {}", header[c]);
        }
        // Without published totals (an earlier version's output): the totals by the primary
        // rule, and the same row rule (8 − 6 would give `again` away with `returning` shown).
        let plain = protect_linkage(&linkage, None, 5);
        assert_eq!(plain.rows[2][2..], ["6", "<5", "x", "<5", "8"]);
    }

    #[test]
    fn key_ids_tell_keys_apart_and_are_not_the_key() {
        let a = Key::from_bytes(b"0123456789abcdef0123");
        let b = Key::from_bytes(b"0123456789abcdef0124");
        assert_eq!(key_id(&a).len(), 16);
        assert_eq!(
            key_id(&a),
            key_id(&Key::from_bytes(b"0123456789abcdef0123\n"))
        );
        assert_ne!(key_id(&a), key_id(&b));
        assert!(!key_id(&a).contains("0123456789"));
    }

    #[test]
    fn the_chain_applies_each_later_key_in_order() {
        let a = Key::from_bytes(b"aaaaaaaaaaaaaaaaaaaa");
        let b = Key::from_bytes(b"bbbbbbbbbbbbbbbbbbbb");
        let c = Key::from_bytes(b"cccccccccccccccccccc");
        let p = a.cpr_key(b"0101901234");
        let chain = KeyChain {
            base: a.clone(),
            later: vec![b.clone(), c.clone()],
        };
        assert_eq!(chain.carry(&p), rekey_one(&c, &rekey_one(&b, &p)));
        assert_ne!(chain.carry(&p), rekey_one(&b, &rekey_one(&c, &p)));
        assert_eq!(chain.ids(), vec![key_id(&a), key_id(&b), key_id(&c)]);
    }

    #[test]
    fn chain_mismatches_are_explained() {
        let m = Manifest {
            format: FORMAT.into(),
            key_chain: vec!["a".into(), "b".into()],
            min_cell: 5,
            years: BTreeMap::new(),
            rekeyings: Vec::new(),
        };
        let dir = Path::new("wh");
        assert!(check_chain(&m, &["a".into(), "b".into()], dir).is_ok());
        let e = check_chain(&m, &["x".into()], dir).unwrap_err();
        assert!(e.contains("another key"), "{e}");
        let e = check_chain(&m, &["b".into()], dir).unwrap_err();
        assert!(e.contains("re-keyed") && e.contains("first key"), "{e}");
        let e = check_chain(&m, &["a".into()], dir).unwrap_err();
        assert!(e.contains("--chain-key-file"), "{e}");
    }
}
