//! Atomic output: a run writes into a temporary folder beside the target and swaps it into
//! place only when everything is written, so a failed or killed run leaves an earlier output
//! folder exactly as it was.
//!
//! The rules that keep a user's files safe (docs/DECISIONS.md, "Output folders"):
//! - `--out` must not be, contain, or lie inside an input ([`check_apart`]): replacing it
//!   would delete the submissions, or the next run would read this run's outputs as
//!   submissions.
//! - An existing `--out` is replaced only if it is an empty folder or carries the marker of
//!   the command that wrote it (`run.json` for `hcount run`); a regular file or a folder of
//!   other files is refused before any work, and never moved.
//! - One writer per output folder: `.<name>.lock` beside it is held (an OS file lock, which
//!   dies with the process) while the run writes. Whoever holds it knows that every
//!   `.<name>.tmp-*` beside the target was left by a killed run, and removes it (after putting
//!   back an earlier output that a kill caught between the two renames of the fallback swap).
//! - On Linux the finished folder is exchanged with the old one in one `renameat2
//!   (RENAME_EXCHANGE)`, so `--out` is never missing. Elsewhere (and on file systems without
//!   it) two renames are used, and the next run repairs a kill between them.
//!
//! Test hook: with `HCOUNT_TEST_ABORT_AT=<point>` in the environment the process aborts
//! (like SIGKILL: no destructor, no cleanup) when it reaches that named point of
//! [`StagedDir::commit`] — `before-swap`, `after-move-aside` (fallback swap only),
//! `after-swap`, `removing-old`. tests/it/outputs_safety.rs uses it to kill a run inside the
//! final rename without timing anything. `HCOUNT_TEST_RENAME_FALLBACK=1` makes Linux use the
//! two-rename swap of other systems, so that it is tested too.

use std::fs::File;
use std::path::{Path, PathBuf};

/// The file that marks a folder written by `hcount run`.
pub const RUN_MARKER: &str = "run.json";

/// A folder being written beside its final place.
pub struct StagedDir {
    target: PathBuf,
    tmp: PathBuf,
    lock: Option<OutputLock>,
    committed: bool,
}

impl StagedDir {
    /// Checks that `target` may be replaced (absent, an empty folder, or a folder holding
    /// `marker`), takes the folder's lock, cleans up what killed runs left, and creates
    /// `.<name>.tmp-<pid>` beside `target` (same file system, so the swap is a rename).
    pub fn create(target: &Path, marker: &str) -> Result<StagedDir, String> {
        let target = resolve(target)?;
        let (parent, name) = split(&target)?;
        std::fs::create_dir_all(&parent).map_err(|e| format!("{}: {e}", parent.display()))?;
        let lock = OutputLock::take(&parent, &name)?;
        clean_leftovers(&parent, &name, &target).map_err(|e| {
            format!(
                "{}: cannot clean up after an earlier run: {e}",
                target.display()
            )
        })?;
        replaceable(&target, marker)?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        std::fs::create_dir(&tmp).map_err(|e| format!("{}: {e}", tmp.display()))?;
        Ok(StagedDir {
            target,
            tmp,
            lock: Some(lock),
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Puts the finished folder in place of the target; the earlier output (if any) is
    /// removed afterwards.
    pub fn commit(mut self, marker: &str) -> std::io::Result<()> {
        // The target was checked when the run began; check again, it may have been a while.
        replaceable(&self.target, marker).map_err(std::io::Error::other)?;
        test_point("before-swap");
        let old = if self.target.exists() {
            Some(swap_in(&self.tmp, &self.target)?)
        } else {
            std::fs::rename(&self.tmp, &self.target)?;
            None
        };
        self.committed = true;
        test_point("after-swap");
        if let Some(old) = old {
            test_point("removing-old");
            // The new output is in place: a failure here only leaves `.<name>.tmp-<pid>`,
            // which the next run removes.
            let _ = std::fs::remove_dir_all(&old);
        }
        self.lock = None;
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
        self.lock = None;
    }
}

/// Swaps the finished folder `tmp` with the existing `target`; returns where the earlier
/// output now is (to be removed).
fn swap_in(tmp: &Path, target: &Path) -> std::io::Result<PathBuf> {
    // Test hook: HCOUNT_TEST_RENAME_FALLBACK takes the fallback below, as on other systems.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    match std::env::var_os("HCOUNT_TEST_RENAME_FALLBACK").map_or_else(
        || exchange(tmp, target),
        |_| Err(std::io::Error::from_raw_os_error(libc::ENOSYS)),
    ) {
        // `tmp` now holds the earlier output.
        Ok(()) => return Ok(tmp.to_owned()),
        // Kernels and file systems without RENAME_EXCHANGE: fall back to two renames.
        Err(e) if matches!(e.raw_os_error(), Some(libc::EINVAL | libc::ENOSYS)) => {}
        Err(e) => return Err(e),
    }
    let old = PathBuf::from(format!("{}.old", tmp.display()));
    std::fs::rename(target, &old)?;
    // A kill here leaves no target, but the earlier output whole in `.<name>.tmp-<pid>.old`:
    // the next run puts it back before anything else (clean_leftovers).
    test_point("after-move-aside");
    if let Err(e) = std::fs::rename(tmp, target) {
        let _ = std::fs::rename(&old, target);
        return Err(e);
    }
    Ok(old)
}

/// Exchanges two paths atomically (Linux 3.15+, most local file systems).
#[cfg(all(target_os = "linux", target_env = "gnu"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| {
        CString::new(p.as_os_str().as_bytes()).map_err(|_| std::io::ErrorKind::InvalidInput)
    };
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both are valid NUL-terminated paths; AT_FDCWD with absolute or relative paths.
    let rc = unsafe {
        libc::renameat2(
            libc::AT_FDCWD,
            a.as_ptr(),
            libc::AT_FDCWD,
            b.as_ptr(),
            libc::RENAME_EXCHANGE,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

/// The test hook described in the module documentation.
fn test_point(name: &str) {
    if std::env::var_os("HCOUNT_TEST_ABORT_AT").is_some_and(|v| v == name) {
        std::process::abort();
    }
}

/// `.<name>.lock` beside the output folder, locked while a run writes it.
#[cfg_attr(not(unix), allow(dead_code))]
struct OutputLock {
    _file: File,
    path: PathBuf,
}

impl OutputLock {
    fn take(parent: &Path, name: &str) -> Result<OutputLock, String> {
        let path = parent.join(format!(".{name}.lock"));
        // The holder removes the file when done; whoever opened it just before must lock the
        // file that is now at the path, so try again (a few times: each retry means another
        // run finished in between).
        for _ in 0..8 {
            let file = File::options()
                .read(true)
                .write(true)
                .create(true)
                .truncate(false)
                .open(&path)
                .map_err(|e| format!("{}: {e}", path.display()))?;
            match file.try_lock() {
                Ok(()) => {}
                Err(std::fs::TryLockError::WouldBlock) => {
                    return Err(format!(
                        "{}: another hcount is writing this output folder right now; wait for it to finish",
                        parent.join(name).display()
                    ));
                }
                Err(std::fs::TryLockError::Error(e)) => {
                    return Err(format!("{}: cannot lock: {e}", path.display()));
                }
            }
            if still_at(&file, &path) {
                return Ok(OutputLock { _file: file, path });
            }
        }
        Err(format!(
            "{}: other hcount runs keep writing this output folder; try again",
            parent.join(name).display()
        ))
    }
}

impl Drop for OutputLock {
    /// Removes the lock file while still holding the lock; the lock goes with `file` after.
    fn drop(&mut self) {
        #[cfg(unix)]
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Whether the open `file` is still the one at `path` (not removed by a finished holder).
#[cfg(unix)]
fn still_at(file: &File, path: &Path) -> bool {
    use std::os::unix::fs::MetadataExt;
    match (file.metadata(), std::fs::metadata(path)) {
        (Ok(a), Ok(b)) => a.dev() == b.dev() && a.ino() == b.ino(),
        _ => false,
    }
}

/// Elsewhere the lock file is never removed, so the file at the path is the one locked.
#[cfg(not(unix))]
fn still_at(_: &File, _: &Path) -> bool {
    true
}

/// With the lock held, every `.<name>.tmp-*` beside the target was left by a killed run.
/// If a kill came between the two renames of the fallback swap, the target is missing and
/// its earlier content is in `.<name>.tmp-<pid>.old`: that is put back first.
fn clean_leftovers(parent: &Path, name: &str, target: &Path) -> std::io::Result<()> {
    let prefix = format!(".{name}.tmp-");
    let mut leftovers = Vec::new();
    for entry in std::fs::read_dir(parent)? {
        let entry = entry?;
        if entry.file_name().to_string_lossy().starts_with(&prefix) {
            leftovers.push(entry.path());
        }
    }
    leftovers.sort();
    if std::fs::symlink_metadata(target).is_err()
        && let Some(old) = leftovers
            .iter()
            .find(|p| p.to_string_lossy().ends_with(".old"))
    {
        std::fs::rename(old, target)?;
    }
    for path in leftovers {
        match std::fs::symlink_metadata(&path) {
            Ok(m) if m.is_dir() => std::fs::remove_dir_all(&path)?,
            Ok(_) => std::fs::remove_file(&path)?,
            Err(_) => {} // put back above
        }
    }
    Ok(())
}

/// May `target` be replaced by a folder that carries `marker`?
fn replaceable(target: &Path, marker: &str) -> Result<(), String> {
    let meta = match std::fs::symlink_metadata(target) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(format!("{}: {e}", target.display())),
    };
    if !meta.is_dir() {
        return Err(format!(
            "{} is a file, not a folder: hcount writes a folder there and will not replace a file. Choose another --out. / {} er en fil, ikke en mappe: vælg en anden --out.",
            target.display(),
            target.display()
        ));
    }
    let mut entries =
        std::fs::read_dir(target).map_err(|e| format!("{}: {e}", target.display()))?;
    if entries.next().is_none() || target.join(marker).is_file() {
        return Ok(());
    }
    Err(format!(
        "{} already exists and is not a folder hcount wrote (it has no {marker}): --out is replaced as a whole, so hcount will not touch it. Choose a new folder (it is created) or an earlier output of the same command. / {} findes og er ikke skrevet af hcount: vælg en ny mappe.",
        target.display(),
        target.display()
    ))
}

/// Refuses an output folder that is, contains, or lies inside one of `inputs` (submission
/// files and folders, the key file, the history folder). Both sides are resolved with
/// `canonicalize` (an output folder that does not exist yet through its nearest existing
/// ancestor), so `./in/..`, symbolic links and relative paths cannot hide an overlap.
pub fn check_apart(out: &Path, inputs: &[&Path]) -> Result<(), String> {
    let out_abs = resolve(out)?;
    for input in inputs {
        // An input that does not exist is reported by whoever reads it.
        let Ok(input_abs) = input.canonicalize() else {
            continue;
        };
        if input_abs.starts_with(&out_abs) {
            return Err(format!(
                "--out {} is or contains the input {}: the output folder is replaced as a whole, which would delete it. Choose an output folder outside the inputs. / --out indeholder input {}: vælg en mappe uden for input.",
                out.display(),
                input.display(),
                input.display()
            ));
        }
        if input_abs.is_dir() && out_abs.starts_with(&input_abs) {
            return Err(format!(
                "--out {} is inside the input folder {}: the next run would read this run's output files as submissions. Choose an output folder outside it. / --out ligger i input-mappen {}: vælg en mappe uden for den.",
                out.display(),
                input.display(),
                input.display()
            ));
        }
    }
    Ok(())
}

/// The absolute, symlink-free path of `path`, which need not exist yet: its nearest existing
/// ancestor is canonicalised and the rest appended (`..` in the rest is refused, as its
/// meaning would depend on folders that do not exist).
pub fn resolve(path: &Path) -> Result<PathBuf, String> {
    let absolute = std::path::absolute(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut existing = absolute.as_path();
    let mut rest = Vec::new();
    loop {
        if let Ok(mut resolved) = existing.canonicalize() {
            for part in rest.iter().rev() {
                resolved.push(part);
            }
            return Ok(resolved);
        }
        match (existing.parent(), existing.file_name()) {
            (Some(parent), Some(name)) => {
                rest.push(name);
                existing = parent;
            }
            _ => {
                return Err(format!(
                    "{}: cannot resolve the path (`..` after a folder that does not exist?)",
                    path.display()
                ));
            }
        }
    }
}

fn split(target: &Path) -> Result<(PathBuf, String), String> {
    match (target.parent(), target.file_name()) {
        (Some(parent), Some(name)) => Ok((parent.to_owned(), name.to_string_lossy().into_owned())),
        _ => Err(format!("{}: not a usable output folder", target.display())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn commit_replaces_and_drop_discards() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("run.json"), "old").unwrap();

        let staged = StagedDir::create(&target, RUN_MARKER).unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        drop(staged); // a failed run
        assert_eq!(std::fs::read(target.join("run.json")).unwrap(), b"old");
        assert_eq!(names(dir.path()), ["out"]);

        let staged = StagedDir::create(&target, RUN_MARKER).unwrap();
        std::fs::write(staged.path().join("run.json"), "new").unwrap();
        staged.commit(RUN_MARKER).unwrap();
        assert_eq!(std::fs::read(target.join("run.json")).unwrap(), b"new");
        assert_eq!(names(&target), ["run.json"]);
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        let first = StagedDir::create(&target, RUN_MARKER).unwrap();
        let second = StagedDir::create(&target, RUN_MARKER).err().unwrap();
        assert!(second.contains("another hcount"), "{second}");
        drop(first);
        StagedDir::create(&target, RUN_MARKER).unwrap();
    }

    #[test]
    fn a_kill_between_the_fallback_renames_is_repaired() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        // What the fallback swap leaves when killed between its renames.
        let old = dir.path().join(".out.tmp-4242.old");
        std::fs::create_dir(&old).unwrap();
        std::fs::write(old.join("run.json"), "earlier").unwrap();
        std::fs::create_dir(dir.path().join(".out.tmp-4242")).unwrap();
        std::fs::write(dir.path().join(".out.lock"), "").unwrap();
        let staged = StagedDir::create(&target, RUN_MARKER).unwrap();
        assert_eq!(std::fs::read(target.join("run.json")).unwrap(), b"earlier");
        drop(staged);
        assert_eq!(names(dir.path()), ["out"]);
    }

    #[test]
    fn resolve_goes_through_missing_folders() {
        let dir = tempfile::tempdir().unwrap();
        let base = dir.path().canonicalize().unwrap();
        assert_eq!(resolve(&dir.path().join("a/b")).unwrap(), base.join("a/b"));
        assert_eq!(
            resolve(&dir.path().join("x/../y"))
                .unwrap_err()
                .contains(".."),
            true
        );
        std::fs::create_dir(dir.path().join("x")).unwrap();
        assert_eq!(resolve(&dir.path().join("x/../y")).unwrap(), base.join("y"));
    }
}
