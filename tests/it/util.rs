//! Small helpers: temp dirs with submission files, running the binary, reading outputs.

use std::path::{Path, PathBuf};
use std::process::Output;
use std::sync::{Mutex, Once, OnceLock};

pub const COLUMNS: [&str; 19] = [
    "count_year",
    "respondent_id",
    "respondent_type",
    "cpr",
    "birth_date",
    "sex",
    "initials",
    "municipality",
    "home_municipality",
    "situation",
    "residence",
    "duration",
    "mental_illness",
    "substance_abuse",
    "income",
    "children",
    "support",
    "housing_queue",
    "action_plan",
];

/// A row with sensible defaults (a valid, unidentified shelter row in København, 2024),
/// overridden by `fields`.
pub fn row(fields: &[(&str, &str)]) -> Vec<String> {
    COLUMNS
        .iter()
        .map(|c| {
            if let Some((_, v)) = fields.iter().find(|(k, _)| k == c) {
                return v.to_string();
            }
            match *c {
                "count_year" => "2024",
                "respondent_id" => "r1",
                "respondent_type" => "shelter",
                "municipality" => "101",
                "situation" => "shelter",
                _ => "",
            }
            .to_string()
        })
        .collect()
}

/// CSV text (`,`, LF) with the standard header and these rows.
pub fn csv(rows: &[Vec<String>]) -> String {
    let mut w = ::csv::WriterBuilder::new()
        .terminator(::csv::Terminator::Any(b'\n'))
        .from_writer(Vec::new());
    w.write_record(COLUMNS).unwrap();
    for r in rows {
        w.write_record(r).unwrap();
    }
    String::from_utf8(w.into_inner().unwrap()).unwrap()
}

/// The key every workspace's `key.txt` holds.
pub const TEST_KEY: &str = "test key, not secret, 32 bytes long\n";

pub struct Workspace {
    pub dir: tempfile::TempDir,
}

impl Workspace {
    pub fn new() -> Workspace {
        let ws = Workspace {
            dir: tempfile::tempdir().unwrap(),
        };
        std::fs::create_dir_all(ws.input()).unwrap();
        std::fs::write(ws.key(), TEST_KEY).unwrap();
        ws
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn input(&self) -> PathBuf {
        self.path().join("in")
    }

    pub fn out(&self) -> PathBuf {
        self.path().join("out")
    }

    pub fn key(&self) -> PathBuf {
        self.path().join("key.txt")
    }

    pub fn write(&self, name: &str, bytes: impl AsRef<[u8]>) -> PathBuf {
        let path = self.input().join(name);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent).unwrap();
        }
        std::fs::write(&path, bytes).unwrap();
        path
    }

    /// `hcount run in --out out --key-file key.txt` plus `extra`.
    pub fn run(&self, extra: &[&str]) -> Output {
        self.run_to(&self.out(), extra)
    }

    pub fn run_to(&self, out: &Path, extra: &[&str]) -> Output {
        let mut cmd = hcount();
        cmd.arg("run")
            .arg(self.input())
            .arg("--out")
            .arg(out)
            .arg("--key-file")
            .arg(self.key());
        if !extra.contains(&"--threads") {
            cmd.arg("--threads").arg("2");
        }
        cmd.args(extra);
        cmd.output().unwrap()
    }

    /// Runs and asserts success.
    pub fn run_ok(&self) {
        let out = self.run(&[]);
        assert!(out.status.success(), "run failed: {}", stderr(&out));
    }

    pub fn table(&self, name: &str) -> Vec<Vec<String>> {
        read_csv(&self.out().join(name))
    }

    /// A two-column table as (key, value) pairs without the header.
    pub fn pairs(&self, name: &str) -> Vec<(String, String)> {
        self.table(name)
            .into_iter()
            .skip(1)
            .map(|r| (r[0].clone(), r[1].clone()))
            .collect()
    }

    /// The value for `key` in a two-column table.
    pub fn value(&self, name: &str, key: &str) -> String {
        self.pairs(name)
            .into_iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v)
            .unwrap_or_else(|| panic!("{key} not in {name}"))
    }

    /// Codes in rejected.csv (or warnings.csv) as (line, column, code).
    pub fn problems(&self, file: &str) -> Vec<(String, String, String)> {
        self.table(file)
            .into_iter()
            .skip(1)
            .map(|r| (r[1].clone(), r[2].clone(), r[3].clone()))
            .collect()
    }
}

pub fn hcount() -> std::process::Command {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_hcount"));
    cmd.env_remove("HCOUNT_KEY_FILE");
    cmd
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn read_csv(path: &Path) -> Vec<Vec<String>> {
    let mut r = ::csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_path(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    r.records()
        .map(|rec| rec.unwrap().iter().map(String::from).collect())
        .collect()
}

/// A folder made once per test process and shared by the tests that start from it: the
/// same inputs and key give the same files, and a debug run costs seconds (issue #14).
/// Read it, or `copy_folder` it first to change anything. It is under cargo's `target/tmp`
/// and removed when the test process exits.
pub fn made_once(
    cell: &'static OnceLock<PathBuf>,
    name: &str,
    make: impl FnOnce(&Path),
) -> &'static Path {
    cell.get_or_init(|| {
        let dir =
            Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        remove_at_exit(dir.clone());
        make(&dir);
        dir
    })
}

fn remove_at_exit(dir: PathBuf) {
    static DIRS: Mutex<Vec<PathBuf>> = Mutex::new(Vec::new());
    static REGISTER: Once = Once::new();
    unsafe extern "C" {
        fn atexit(f: extern "C" fn()) -> std::ffi::c_int;
    }
    extern "C" fn remove_all() {
        if let Ok(dirs) = DIRS.lock() {
            for dir in dirs.iter() {
                let _ = std::fs::remove_dir_all(dir);
            }
        }
    }
    // SAFETY: atexit is the C library's, given a function that takes and returns nothing.
    REGISTER.call_once(|| unsafe {
        atexit(remove_all);
    });
    DIRS.lock().unwrap().push(dir);
}

/// Copies the folder `from` to `to` (which must not exist), recursively.
pub fn copy_folder(from: &Path, to: &Path) {
    std::fs::create_dir(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_folder(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Every file under `dir`, relative path → bytes.
pub fn tree(dir: &Path) -> std::collections::BTreeMap<String, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    fn walk(root: &Path, dir: &Path, out: &mut std::collections::BTreeMap<String, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(root, &p, out);
            } else {
                let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    walk(dir, dir, &mut out);
    out
}

/// Every string cell of every column of a Parquet file, cast to text.
pub fn parquet_strings(path: &Path) -> Vec<String> {
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut out = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        for col in batch.columns() {
            let text = cast(col, &DataType::Utf8).unwrap();
            let text = text
                .as_any()
                .downcast_ref::<datafusion::arrow::array::StringArray>()
                .unwrap();
            out.extend(text.iter().flatten().map(String::from));
        }
    }
    out
}

/// Rows of a Parquet file as maps column → text.
pub fn parquet_rows(path: &Path) -> Vec<std::collections::BTreeMap<String, String>> {
    use datafusion::arrow::compute::cast;
    use datafusion::arrow::datatypes::DataType;
    use datafusion::parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    let file = std::fs::File::open(path).unwrap();
    let reader = ParquetRecordBatchReaderBuilder::try_new(file)
        .unwrap()
        .build()
        .unwrap();
    let mut rows = Vec::new();
    for batch in reader {
        let batch = batch.unwrap();
        let schema = batch.schema();
        let cols: Vec<_> = batch
            .columns()
            .iter()
            .map(|c| cast(c, &DataType::Utf8).unwrap())
            .collect();
        for i in 0..batch.num_rows() {
            let mut m = std::collections::BTreeMap::new();
            for (f, c) in schema.fields().iter().zip(&cols) {
                let a = c
                    .as_any()
                    .downcast_ref::<datafusion::arrow::array::StringArray>()
                    .unwrap();
                let v = if datafusion::arrow::array::Array::is_null(a, i) {
                    String::new()
                } else {
                    a.value(i).to_string()
                };
                m.insert(f.name().clone(), v);
            }
            rows.push(m);
        }
    }
    rows
}
