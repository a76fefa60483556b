//! Atomic output: a run writes into a temporary folder beside the target and renames it into
//! place only when everything is written, so a failed or killed run leaves an earlier output
//! folder exactly as it was.

use std::path::{Path, PathBuf};

pub struct StagedDir {
    target: PathBuf,
    tmp: PathBuf,
    committed: bool,
}

impl StagedDir {
    /// Creates `.<name>.tmp-<pid>` beside `target` (same filesystem, so rename is atomic).
    pub fn create(target: &Path) -> std::io::Result<StagedDir> {
        let name = target
            .file_name()
            .ok_or_else(|| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    format!("{}: not a usable output folder name", target.display()),
                )
            })?
            .to_string_lossy()
            .into_owned();
        let parent = match target.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        std::fs::create_dir_all(&parent)?;
        let tmp = parent.join(format!(".{name}.tmp-{}", std::process::id()));
        if tmp.exists() {
            std::fs::remove_dir_all(&tmp)?;
        }
        std::fs::create_dir(&tmp)?;
        Ok(StagedDir {
            target: target.to_owned(),
            tmp,
            committed: false,
        })
    }

    pub fn path(&self) -> &Path {
        &self.tmp
    }

    /// Moves the finished folder into place. An existing target is moved aside first and
    /// removed after the new folder is in place.
    pub fn commit(mut self) -> std::io::Result<()> {
        let old = self.tmp.with_file_name(format!(
            "{}.old",
            self.tmp.file_name().unwrap_or_default().to_string_lossy()
        ));
        let had_old = self.target.exists();
        if had_old {
            std::fs::rename(&self.target, &old)?;
        }
        if let Err(e) = std::fs::rename(&self.tmp, &self.target) {
            if had_old {
                // Put the earlier output back.
                let _ = std::fs::rename(&old, &self.target);
            }
            return Err(e);
        }
        self.committed = true;
        if had_old {
            std::fs::remove_dir_all(&old)?;
        }
        Ok(())
    }
}

impl Drop for StagedDir {
    fn drop(&mut self) {
        if !self.committed {
            let _ = std::fs::remove_dir_all(&self.tmp);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commit_replaces_and_drop_discards() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("out");
        std::fs::create_dir(&target).unwrap();
        std::fs::write(target.join("old.txt"), "old").unwrap();

        let staged = StagedDir::create(&target).unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        drop(staged); // a failed run
        assert!(target.join("old.txt").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        let staged = StagedDir::create(&target).unwrap();
        std::fs::write(staged.path().join("new.txt"), "new").unwrap();
        staged.commit().unwrap();
        assert!(target.join("new.txt").exists());
        assert!(!target.join("old.txt").exists());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
    }
}
