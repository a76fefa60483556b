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
use crate::publish::disclosure;

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
    /// Cells of the published linkage tables no suppression could protect ("year: cell").
    pub unprotected: Vec<String>,
}

fn labelled(year: i32, cells: Vec<String>) -> Vec<String> {
    cells.into_iter().map(|c| format!("{year}: {c}")).collect()
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
    let mut unprotected = labelled(
        year,
        write_linkage(&linkage, year, staged.path(), min_cell)?,
    );
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
            unprotected.extend(labelled(*y, write_linkage(&linkage, *y, d, min_cell)?));
        }
    }
    Ok(Stored {
        year,
        replaced,
        years: manifest.years.keys().copied().collect(),
        unprotected,
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
    crate::progress::trace_took(
        &format!("linkage queries over {} years", years.len()),
        started,
    );
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
/// without the year column (the partition gives it); the linkage tables a reader sees (per
/// municipality, national, transitions) also protected into `tables/published/`, beside the
/// year's published tables (see [`publish_linkage`]). Returns the cells left unprotected.
fn write_linkage(
    tables: &[(&'static str, Table)],
    year: i32,
    year_dir: &Path,
    min_cell: u64,
) -> Result<Vec<String>, String> {
    let dir = year_dir.join("tables");
    std::fs::create_dir_all(dir.join("published"))
        .map_err(|e| format!("{}: {e}", dir.display()))?;
    let y = year.to_string();
    let mut added = std::collections::HashMap::new();
    // A year whose linkage did not change (an earlier year, when a later one is stored)
    // keeps its published copies: protecting them again would give the same tables.
    let mut unchanged = true;
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
        let path = dir.join(format!("{name}.csv"));
        if disclosure::WAREHOUSE_TABLES.contains(name) {
            unchanged &= dir.join(format!("published/{name}.csv")).exists()
                && Table::read_csv(&path).is_ok_and(|t| t == of_year);
        }
        write_table(&of_year, &path)?;
        if disclosure::WAREHOUSE_TABLES.contains(name) {
            added.insert(name.to_string(), of_year);
        }
    }
    if unchanged {
        return Ok(Vec::new());
    }
    // How many counts of the warehouse come before this one: in the first nobody is counted
    // again, returning or persistent; in the second nobody is returning or persistent.
    // Anyone can tell (the trends page lists the years), so those zeros are shown as such.
    let mut years: Vec<&String> = tables
        .iter()
        .find(|(name, _)| *name == "linkage")
        .map(|(_, t)| t.rows.iter().map(|r| &r[0]).collect())
        .unwrap_or_default();
    years.sort();
    years.dedup();
    let earlier = years.iter().filter(|v| v.as_str() < y.as_str()).count();
    let published = publish_linkage(year_dir, &added, min_cell, earlier)
        .map_err(|e| format!("year {year}: published linkage: {e}"))?;
    for (name, table) in &published.tables {
        write_table(table, &dir.join(format!("published/{name}.csv")))?;
    }
    Ok(published.unprotected)
}

/// The published copies of a year's linkage tables. They share margins with what the run of
/// that year published (a municipality's new + again + returning is its municipal total,
/// the national linkage adds up to the national total, a person counted in two consecutive
/// counts is counted again), so they are protected in one linked set with those tables,
/// which stay exactly as the run published them (docs/DECISIONS.md "Publishing safely"):
/// the run's protection (`--min-cell` or `--round` from its run.json) applies. `hcount
/// audit` then attacks the year's tables and these together.
fn publish_linkage(
    year_dir: &Path,
    added: &std::collections::HashMap<String, Table>,
    min_cell: u64,
    earlier: usize,
) -> Result<disclosure::Beside, String> {
    // The year's own protection: its published tables were protected with it.
    let protection = disclosure::Recorded::read(year_dir).protection(min_cell);
    let tables = year_dir.join("tables");
    let mut exact = std::collections::HashMap::new();
    let mut published = std::collections::HashMap::new();
    for spec in disclosure::PUBLISHED {
        if disclosure::WAREHOUSE_TABLES.contains(&spec.name) {
            continue;
        }
        let shown = tables.join(format!("published/{}.csv", spec.name));
        if !shown.exists() {
            continue;
        }
        published.insert(spec.name.to_string(), Table::read_csv(&shown)?);
        exact.insert(
            spec.name.to_string(),
            Table::read_csv(&tables.join(format!("{}.csv", spec.name)))?,
        );
    }
    let structural_zero = |table: &str, key: &[String]| {
        let status = match table {
            "linkage_by_municipality" => key[1].as_str(),
            "linkage" => key[0].as_str(),
            _ => return false,
        };
        match earlier {
            0 => matches!(status, "again" | "returning" | "persistent"),
            1 => matches!(status, "returning" | "persistent"),
            _ => false,
        }
    };
    disclosure::protect_beside(&exact, &published, added, protection, &structural_zero)
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
/// Returns the published linkage cells no suppression could protect ("year: cell").
pub fn relink(dir: &Path, threads: usize) -> Result<Vec<String>, String> {
    let manifest = Manifest::read(dir)?.ok_or_else(|| format!("{}: no manifest", dir.display()))?;
    let all = years(dir)?;
    let linkage = linkage_tables(&all, threads)?;
    let mut unprotected = Vec::new();
    for (y, d) in &all {
        unprotected.extend(labelled(
            *y,
            write_linkage(&linkage, *y, d, manifest.min_cell)?,
        ));
    }
    Ok(unprotected)
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

    /// A year of four municipalities (a region's worth, made up): the run published
    /// Langeland's 8 and Fanø's 3 hidden; the linkage tables are protected beside that.
    fn a_year() -> (
        std::collections::HashMap<String, Table>,
        std::collections::HashMap<String, Table>,
        std::collections::HashMap<String, Table>,
    ) {
        let m = ["municipality", "municipality_name", "persons"];
        let mut exact = std::collections::HashMap::new();
        exact.insert(
            "municipal_totals".to_string(),
            Table::of(
                &m,
                &[
                    &["101", "København", "70"],
                    &["147", "Frederiksberg", "21"],
                    &["482", "Langeland", "8"],
                    &["563", "Fanø", "3"],
                ],
            ),
        );
        exact.insert(
            "national_by_category".to_string(),
            Table::of(&["situation", "persons"], &[&["total", "102"]]),
        );
        let mut published = exact.clone();
        published.insert(
            "municipal_totals".to_string(),
            Table::of(
                &m,
                &[
                    &["101", "København", "70"],
                    &["147", "Frederiksberg", "21"],
                    &["482", "Langeland", "x"],
                    &["563", "Fanø", "<5"],
                ],
            ),
        );
        let mut added = std::collections::HashMap::new();
        added.insert(
            "linkage_by_municipality".to_string(),
            Table::of(
                &[
                    "municipality",
                    "municipality_name",
                    "new",
                    "again",
                    "returning",
                    "persistent",
                    "persons",
                ],
                &[
                    &["101", "København", "40", "20", "10", "6", "70"],
                    &["147", "Frederiksberg", "12", "3", "6", "7", "21"],
                    &["482", "Langeland", "6", "2", "0", "1", "8"],
                    &["563", "Fanø", "3", "0", "0", "0", "3"],
                ],
            ),
        );
        added.insert(
            "linkage".to_string(),
            Table::of(
                &["status", "persons"],
                &[
                    &["new", "61"],
                    &["again", "25"],
                    &["returning", "16"],
                    &["persistent", "14"],
                ],
            ),
        );
        (exact, published, added)
    }

    #[test]
    fn linkage_is_protected_beside_what_the_year_published() {
        let (exact, published, added) = a_year();
        let protection = disclosure::Protection::Suppress { min_cell: 5 };
        let beside =
            disclosure::protect_beside(&exact, &published, &added, protection, &|_, _| false)
                .unwrap();
        let (out, unprotected) = (beside.tables, beside.unprotected);
        assert!(unprotected.is_empty(), "{unprotected:?}");
        let out: std::collections::HashMap<String, Table> = out.into_iter().collect();
        let lbm = &out["linkage_by_municipality"];
        // Each persons cell is shown exactly as municipal_totals shows it.
        let persons: Vec<&str> = lbm.rows.iter().map(|r| r[6].as_str()).collect();
        assert_eq!(persons, ["70", "21", "x", "<5"]);
        // Frederiksberg's again = 3 is hidden, and not alone in its row.
        let f = &lbm.rows[1];
        assert_eq!(f[3], "<5");
        assert!(f[2..5].iter().filter(|v| v.parse::<u64>().is_err()).count() >= 2);
        // Fanø's 3 new would give its hidden total back: hidden.
        assert!(lbm.rows[3][2].parse::<u64>().is_err(), "{:?}", lbm.rows[3]);
        // The attacker, given every published figure, old and new, narrows nothing.
        let mut all = published.clone();
        all.extend(out.clone());
        let set = disclosure::LinkedSet::build(&all).unwrap();
        let audit = disclosure::audit::audit(&set, 5);
        assert!(audit.passed(), "{}", audit.text(true));
        assert!(set.cells.len() > 20, "linkage cells are in the audited set");
        // Deterministic.
        let again =
            disclosure::protect_beside(&exact, &published, &added, protection, &|_, _| false)
                .unwrap();
        assert_eq!(
            again
                .tables
                .into_iter()
                .collect::<std::collections::HashMap<_, _>>()["linkage_by_municipality"]
                .rows,
            lbm.rows
        );
    }

    #[test]
    fn the_audit_catches_linkage_that_gives_a_hidden_total_back() {
        let (_, published, added) = a_year();
        // The linkage published exact (as the trends page showed the national linkage
        // before): Fanø's 3 new and 3 persons give its hidden total back.
        let mut all = published.clone();
        all.extend(added);
        let set = disclosure::LinkedSet::build(&all).unwrap();
        let audit = disclosure::audit::audit(&set, 5);
        assert!(!audit.passed(), "{}", audit.text(true));
    }

    #[test]
    fn a_rounded_year_gets_rounded_linkage() {
        let (exact, published, added) = a_year();
        let out = disclosure::protect_beside(
            &exact,
            &published,
            &added,
            disclosure::Protection::Round { base: 5 },
            &|_, _| false,
        )
        .unwrap();
        let out: std::collections::HashMap<String, Table> = out.tables.into_iter().collect();
        assert_eq!(
            out["linkage_by_municipality"].rows[1][2..],
            ["10", "5", "5", "5", "20"]
        );
        assert_eq!(out["linkage"].rows[0], ["new", "60"]);
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
        let p = a.cpr_key(b"0101901234").hex();
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
