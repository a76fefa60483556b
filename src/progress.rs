//! Progress bars on stderr for long work: drawn only when stderr is a terminal (indicatif
//! hides them otherwise), never with `--quiet`, so logs and CI output stay clean.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// With HCOUNT_TRACE set, how long a piece of work took, on stderr (a profiling aid).
pub fn trace_took(what: &str, started: std::time::Instant) {
    if std::env::var_os("HCOUNT_TRACE").is_some() {
        eprintln!(
            "hcount: {what} took {:.3} s",
            started.elapsed().as_secs_f64()
        );
    }
}

/// A bar over the input files.
pub fn files(total: u64, quiet: bool) -> ProgressBar {
    if quiet {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{spinner} reading submissions {bar:30} {pos}/{len} files {elapsed}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    bar
}
