//! Shared by the fuzz targets: the readers take a path, so each input is written to a file
//! first (in /dev/shm when there is one, so no disk is touched).

use std::path::PathBuf;

use hcount_intake::ingest::{FileKind, SourceFile};

/// Writes `bytes` to this process's scratch file with extension `ext` and describes it as a
/// submission file.
pub fn scratch_file(bytes: &[u8], ext: &str) -> SourceFile {
    let dir = if std::path::Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let name = format!("hcount-fuzz-{}.{ext}", std::process::id());
    let path = dir.join(&name);
    std::fs::write(&path, bytes).expect("cannot write the fuzz scratch file");
    SourceFile {
        name,
        path,
        kind: if ext == "xlsx" {
            FileKind::Xlsx
        } else {
            FileKind::Csv
        },
    }
}
