//! The warehouse steps of the commands: `run --warehouse` (after the run) and `trends`.

use std::path::Path;

use crate::run::{Failure, RunConfig};
use crate::warehouse::{self, KeyChain};

/// `hcount run … --warehouse DIR`, once the run's output is in place: stores it as its year,
/// recomputes the linkage, and writes the warehouse's trends page beside the report (the
/// report then links to it). The run's output stays as it is if this fails.
/// `drawn`: the run's report's charts and audit (its tables do not change here).
pub fn after_run(
    config: &RunConfig,
    dir: &Path,
    chain: &KeyChain,
    drawn: crate::publish::report::Drawn,
) -> Result<(), Failure> {
    let fail = |e: String| {
        Failure::cannot_run(format!(
            "{e}\n(the count itself is in {}; it was not added to the warehouse)",
            config.out.display()
        ))
    };
    let stored =
        warehouse::store(&config.out, dir, chain, config.min_cell, config.threads).map_err(fail)?;
    let options = crate::publish::trends::TrendsOptions {
        lang: config.lang,
        history: crate::run::load_history(config.history.as_deref())?,
        min_cell: config.min_cell,
    };
    if !stored.unprotected.is_empty() {
        // As for the run's own tables (run.json "unprotected"): said, and `hcount audit`
        // fails on them; the figures are still written, for the coordinator to decide.
        eprintln!(
            "hcount: warning: {} published linkage cell(s) could not be protected (hcount audit lists them): {}",
            stored.unprotected.len(),
            stored.unprotected.join(", ")
        );
    }
    record_in_run(&config.out, dir).map_err(fail)?;
    let years = warehouse::years(dir).map_err(fail)?;
    let section = crate::publish::trends::render(&years, &config.out, &options).map_err(fail)?;
    // Re-rendered with the warehouse's series, and a link to trends.html.
    crate::publish::report::render_with_warehouse(
        &config.out,
        &crate::publish::report::ReportOptions {
            lang: config.lang,
            history: options.history.clone(),
            min_cell: config.min_cell,
        },
        Some(&section),
        Some(drawn),
    )
    .map_err(fail)?;
    if !config.quiet {
        eprintln!(
            "hcount: {} {} in the warehouse {} (years {}); trends: {}",
            if stored.replaced {
                "replaced"
            } else {
                "stored"
            },
            stored.year,
            dir.display(),
            stored
                .years
                .iter()
                .map(|y| y.to_string())
                .collect::<Vec<_>>()
                .join(", "),
            config.out.join("trends.html").display()
        );
    }
    Ok(())
}

/// The key of run.json that names the warehouse a run was stored in.
const RUN_WAREHOUSE: &str = "warehouse";

/// Writes the warehouse's folder into the run's run.json, so that `hcount report` can draw
/// the warehouse's series again (run.json is the one file of a run that is not byte-identical
/// from run to run anyway).
fn record_in_run(out: &Path, dir: &Path) -> Result<(), String> {
    let path = out.join("run.json");
    let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut run: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    run[RUN_WAREHOUSE] = serde_json::json!(dir.to_string_lossy());
    crate::privacy::mask_json(&mut run);
    let json = serde_json::to_string_pretty(&run).map_err(|e| e.to_string())?;
    warehouse::write_atomically(&path, format!("{json}\n").as_bytes())
}

/// `hcount report --out DIR`: re-renders the report; for a warehouse run (its run.json names
/// the warehouse) also trends.html and the report's warehouse section, from the warehouse as
/// it is now, in the language asked for. A warehouse that is gone is said, not fatal.
pub fn report(out: &Path, options: &crate::publish::report::ReportOptions) -> Result<(), Failure> {
    let recorded = std::fs::read_to_string(out.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|run| run[RUN_WAREHOUSE].as_str().map(std::path::PathBuf::from));
    let section = match recorded {
        None => None,
        Some(dir) => match warehouse::years(&dir) {
            Ok(years) => Some(
                crate::publish::trends::render(
                    &years,
                    out,
                    &crate::publish::trends::TrendsOptions {
                        lang: options.lang,
                        history: options.history.clone(),
                        min_cell: options.min_cell,
                    },
                )
                .map_err(Failure::cannot_run)?,
            ),
            Err(e) => {
                eprintln!(
                    "hcount: warning: {e}; the report is re-rendered without the warehouse's series"
                );
                None
            }
        },
    };
    crate::publish::report::render_with_warehouse(out, options, section.as_ref(), None)
        .map(|_| ())
        .map_err(Failure::cannot_run)
}

/// `hcount trends --warehouse DIR --out OUT`: OUT is written beside and renamed into place.
/// What marks a folder as `hcount trends`' own, so that a later run may replace it.
const TRENDS_MARKER: &str = "trends.html";

pub fn trends(
    dir: &Path,
    out: &Path,
    options: &crate::publish::trends::TrendsOptions,
) -> Result<(), Failure> {
    let years = warehouse::years(dir).map_err(Failure::cannot_run)?;
    let staged = crate::output::StagedDir::create(out, TRENDS_MARKER)
        .map_err(|e| Failure::cannot_run(format!("{}: {e}", out.display())))?;
    crate::publish::trends::render(&years, staged.path(), options).map_err(Failure::cannot_run)?;
    staged
        .commit(TRENDS_MARKER)
        .map_err(|e| Failure::cannot_run(format!("{}: {e}", out.display())))?;
    Ok(())
}

/// The folders `hcount audit OUT` attacks, each with a label: OUT itself; for a warehouse
/// run (its run.json names the warehouse) also every year of the warehouse, whose published
/// tables include the linkage tables; for a warehouse folder, every year of it.
pub fn audit_folders(out: &Path) -> Result<Vec<(String, std::path::PathBuf)>, Failure> {
    let years = |dir: &Path| -> Result<Vec<(String, std::path::PathBuf)>, Failure> {
        Ok(warehouse::years(dir)
            .map_err(Failure::cannot_run)?
            .into_iter()
            .map(|(y, d)| (format!("year={y}"), d))
            .collect())
    };
    if out.join(warehouse::MANIFEST).exists() {
        return years(out);
    }
    let mut folders = vec![(String::new(), out.to_path_buf())];
    let recorded = std::fs::read_to_string(out.join("run.json"))
        .ok()
        .and_then(|t| serde_json::from_str::<serde_json::Value>(&t).ok())
        .and_then(|run| run[RUN_WAREHOUSE].as_str().map(std::path::PathBuf::from));
    if let Some(dir) = recorded {
        if dir.join(warehouse::MANIFEST).exists() {
            folders.extend(years(&dir)?);
        } else {
            eprintln!(
                "hcount: warning: the warehouse {} named in run.json is not there; only this run is audited",
                dir.display()
            );
        }
    }
    Ok(folders)
}
