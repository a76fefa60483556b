//! The warehouse steps of the commands: `run --warehouse` (after the run) and `trends`.

use std::path::Path;

use crate::run::{Failure, RunConfig};
use crate::warehouse::{self, KeyChain};

/// `hcount run … --warehouse DIR`, once the run's output is in place: stores it as its year,
/// recomputes the linkage, and writes the warehouse's trends page beside the report (the
/// report then links to it). The run's output stays as it is if this fails.
pub fn after_run(config: &RunConfig, dir: &Path, chain: &KeyChain) -> Result<(), Failure> {
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
