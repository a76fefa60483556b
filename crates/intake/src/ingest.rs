//! Ingest: find submission files and read their records as text, whatever they were saved as.
//!
//! Submissions arrive as Danish Excel exports (`;`, Windows-1252, CRLF, sometimes a BOM), as
//! UTF-8 CSV with `,`, and as `.xlsx`. This module turns each of them into a stream of records
//! of trimmed text cells with their physical line numbers, and knows nothing about columns or
//! codes (that is `validate`). Files are streamed: a record is decoded, handed on and dropped.

use std::fs::File;
use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};

/// A submission file found among the inputs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct SourceFile {
    /// The name used in every output (`source_file`, rejects, person keys of unidentified
    /// rows): the path relative to the folder given on the command line, with `/`, or the
    /// base name of a file given directly.
    pub name: String,
    pub path: PathBuf,
    pub kind: FileKind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FileKind {
    Csv,
    Xlsx,
}

/// A problem with a whole file or with the inputs: the run cannot use it.
#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: no such file or folder")]
    NotFound { path: PathBuf },
    #[error("{path}: cannot read: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}: not a submission file (expected .csv or .xlsx)")]
    NotSubmission { path: PathBuf },
    #[error("{path}: no submission files (.csv, .xlsx) in this folder")]
    EmptyFolder { path: PathBuf },
    #[error(
        "{a} and {b} are the same folder (one is a link to the other, or a link loops back); give it once, or its files are counted twice"
    )]
    SameFolder { a: PathBuf, b: PathBuf },
    #[error(
        "{a} and {b} are the same file (one is a link to the other); give it once, or its rows are counted twice"
    )]
    SameFile { a: PathBuf, b: PathBuf },
    #[error(
        "two input files would both be called {name:?} ({a} and {b}); rename one (file names identify rows in every output)"
    )]
    DuplicateName {
        name: String,
        a: PathBuf,
        b: PathBuf,
    },
}

/// A file whose content cannot be read as a table.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error("cannot read the file: {0}")]
    Io(#[from] std::io::Error),
    #[error(
        "the file is UTF-16 text; save it as \"CSV UTF-8\" or \"CSV (semikolonsepareret)\" instead"
    )]
    Utf16,
    #[error("the file is binary, not CSV text (is it an Excel or PDF file with a .csv name?)")]
    Binary,
    #[error("the file is not CSV: {0}")]
    Csv(String),
    #[error("cannot read the workbook: {0}")]
    Xlsx(String),
}

/// Finds the submission files among the command-line inputs: files as given, folders searched
/// recursively for `.csv` and `.xlsx` (hidden files and Excel's `~$` lock files are skipped).
/// Links are followed, to files and to folders alike; a link to a folder that is read already
/// (a loop, or a second way into the same folder) is refused, and so is one file reached twice:
/// nothing is skipped without a word, and no row is counted twice.
/// The result is sorted by name, so that everything downstream is deterministic.
pub fn discover(inputs: &[PathBuf]) -> Result<Vec<SourceFile>, InputError> {
    let mut files = Vec::new();
    let mut folders = std::collections::BTreeMap::new();
    for input in inputs {
        let meta = std::fs::metadata(input).map_err(|source| match source.kind() {
            std::io::ErrorKind::NotFound => InputError::NotFound {
                path: input.clone(),
            },
            _ => InputError::Io {
                path: input.clone(),
                source,
            },
        })?;
        if meta.is_dir() {
            let before = files.len();
            walk(input, input, &mut files, &mut folders)?;
            if files.len() == before {
                return Err(InputError::EmptyFolder {
                    path: input.clone(),
                });
            }
        } else {
            let kind = kind_of(input).ok_or_else(|| InputError::NotSubmission {
                path: input.clone(),
            })?;
            let name = input
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            files.push(SourceFile {
                name,
                path: input.clone(),
                kind,
            });
        }
    }
    // The name is shown in every output: a CPR number in it is masked like any other text
    // (two names that are the same once masked stop the run below, like any duplicate).
    for f in &mut files {
        f.name = crate::mask::mask_string(std::mem::take(&mut f.name));
    }
    files.sort();
    for pair in files.windows(2) {
        if pair[0].name == pair[1].name {
            return Err(InputError::DuplicateName {
                name: pair[0].name.clone(),
                a: pair[0].path.clone(),
                b: pair[1].path.clone(),
            });
        }
    }
    let mut seen = std::collections::BTreeMap::new();
    for f in &files {
        // A file that cannot be resolved (a broken link) fails with a clear message when read.
        if let Ok(real) = std::fs::canonicalize(&f.path)
            && let Some(first) = seen.insert(real, &f.path)
        {
            return Err(InputError::SameFile {
                a: first.clone(),
                b: f.path.clone(),
            });
        }
    }
    Ok(files)
}

fn kind_of(path: &Path) -> Option<FileKind> {
    let ext = path.extension()?.to_str()?.to_ascii_lowercase();
    match ext.as_str() {
        "csv" => Some(FileKind::Csv),
        "xlsx" => Some(FileKind::Xlsx),
        _ => None,
    }
}

/// `folders`: every folder read so far, by its real path, with the path it was reached by.
fn walk(
    root: &Path,
    dir: &Path,
    out: &mut Vec<SourceFile>,
    folders: &mut std::collections::BTreeMap<PathBuf, PathBuf>,
) -> Result<(), InputError> {
    let io = |source| InputError::Io {
        path: dir.to_owned(),
        source,
    };
    let real = std::fs::canonicalize(dir).map_err(io)?;
    if let Some(first) = folders.get(&real) {
        return Err(InputError::SameFolder {
            a: first.clone(),
            b: dir.to_owned(),
        });
    }
    folders.insert(real, dir.to_owned());
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .map_err(io)?
        .collect::<Result<_, _>>()
        .map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let path = entry.path();
        let file_name = entry.file_name().to_string_lossy().into_owned();
        if file_name.starts_with('.') || file_name.starts_with("~$") {
            continue;
        }
        let mut file_type = entry.file_type().map_err(io)?;
        if file_type.is_symlink() {
            // Follow the link. A broken link to a .csv/.xlsx name stays in the list and fails
            // with "cannot read" (a submission may be missing); to anything else, it is skipped.
            if let Ok(meta) = std::fs::metadata(&path) {
                file_type = meta.file_type();
            }
        }
        if file_type.is_dir() {
            walk(root, &path, out, folders)?;
        } else if let Some(kind) = kind_of(&path) {
            let rel = path.strip_prefix(root).unwrap_or(&path);
            let name = rel
                .components()
                .map(|c| c.as_os_str().to_string_lossy())
                .collect::<Vec<_>>()
                .join("/");
            out.push(SourceFile { name, path, kind });
        }
    }
    Ok(())
}

/// One record: its cells, already decoded to UTF-8. Cells are trimmed on access.
pub struct Record<'a> {
    text: &'a str,
    ends: &'a [usize],
    quoted_lines: &'a [QuotedLine],
    quote_opened: u64,
}

/// A physical line of a CSV file that began inside a quoted field: the field ran across a line
/// break. Excel writes such fields for a cell with Alt+Enter in it; a quote that is never
/// closed produces them too, and then the "line" is really a row the quote swallowed. What is
/// counted here lets `validate` tell the two apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuotedLine {
    /// The physical line (1-based).
    pub line: u64,
    /// Delimiters on the line, inside quotes or not: with as many as the header has columns
    /// less one, the line would be a complete row on its own.
    pub delimiters: u32,
    /// The line holds something besides white space, delimiters and quotes.
    pub content: bool,
}

impl<'a> Record<'a> {
    /// The lines of this record that began inside a quoted field (empty for most records, and
    /// always for .xlsx).
    pub fn quoted_lines(&self) -> &'a [QuotedLine] {
        self.quoted_lines
    }

    /// The line where the first quoted field that runs across lines opened.
    pub fn quote_opened(&self) -> u64 {
        self.quote_opened
    }

    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The trimmed cell `i` ("" when the record is shorter).
    pub fn get(&self, i: usize) -> &'a str {
        if i >= self.ends.len() {
            return "";
        }
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text[start..self.ends[i]].trim()
    }

    /// True when every cell is empty: an Excel export's `;;;;` line carries no data and is
    /// skipped like an empty line.
    pub fn is_blank(&self) -> bool {
        (0..self.len()).all(|i| self.get(i).is_empty())
    }
}

/// Builds [`Record`]s from cells, reusing one buffer for the whole file.
#[derive(Default)]
struct RecordBuf {
    text: String,
    ends: Vec<usize>,
}

impl RecordBuf {
    fn clear(&mut self) {
        self.text.clear();
        self.ends.clear();
    }

    fn push(&mut self, cell: &str) {
        self.text.push_str(cell);
        self.ends.push(self.text.len());
    }

    fn record(&self) -> Record<'_> {
        Record {
            text: &self.text,
            ends: &self.ends,
            quoted_lines: &[],
            quote_opened: 0,
        }
    }
}

/// Text encoding of a CSV file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    Windows1252,
}

/// How much of a file is looked at to decide its encoding and delimiter.
const SNIFF_BYTES: usize = 1 << 20;

/// Calls `on_record(line, record)` for every non-blank record of the file, the header first.
/// `line` is the physical line (1-based) where the record starts; in an .xlsx file, the
/// worksheet row number. Returning `false` from `on_record` stops reading.
pub fn read_records(
    file: &SourceFile,
    on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    match file.kind {
        FileKind::Csv => read_csv(&file.path, on_record),
        FileKind::Xlsx => read_xlsx(&file.path, on_record),
    }
}

/// [`read_records`] for a file whose bytes are held in memory (`Some`): an upload to the inbox,
/// which is never written to disk. `file.path` is then not read; `None` reads it as usual.
pub fn read_records_in(
    file: &SourceFile,
    bytes: Option<&[u8]>,
    on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    match (bytes, file.kind) {
        (None, _) => read_records(file, on_record),
        (Some(b), FileKind::Csv) => read_csv_from(b, on_record),
        (Some(b), FileKind::Xlsx) => {
            xlsx_magic(b)?;
            let workbook: calamine::Xlsx<_> =
                guarded(|| calamine::Reader::new(std::io::Cursor::new(b)))
                    .map_err(|e| FileError::Xlsx(e.to_string()))?;
            read_workbook(workbook, on_record)
        }
    }
}

/// The sheets of code lists that `hcount template`'s workbook carries beside the data sheet:
/// they hold values but are not submissions, so no `W014` is said about them.
pub const TEMPLATE_CODE_SHEETS: [&str; 2] = ["Lister", "Koder"];

/// What was detected about a file, for messages ("the file uses `;`").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileFormat {
    pub delimiter: Option<u8>,
    pub encoding: Option<Encoding>,
    pub bom: bool,
    /// .xlsx: the other worksheets that hold values but no header row, so were not read
    /// (validate says so: `W014`).
    pub unread_sheets: Vec<String>,
}

fn read_csv(
    path: &Path,
    on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    read_csv_from(File::open(path)?, on_record)
}

fn read_csv_from(
    input: impl Read,
    mut on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    let mut reader = BufReader::with_capacity(SNIFF_BYTES, input);
    let head = reader.fill_buf()?;
    let bom = head.starts_with(b"\xEF\xBB\xBF");
    if head.starts_with(b"\xFF\xFE") || head.starts_with(b"\xFE\xFF") {
        return Err(FileError::Utf16);
    }
    // Read the sniff window fully (fill_buf may return less than the capacity).
    let mut sniff = Vec::with_capacity(SNIFF_BYTES.min(1 << 16));
    (&mut reader)
        .take(SNIFF_BYTES as u64)
        .read_to_end(&mut sniff)?;
    let body = if bom { &sniff[3..] } else { &sniff[..] };
    if body.contains(&0) {
        return Err(FileError::Binary);
    }
    let encoding = match std::str::from_utf8(body) {
        Ok(_) => Encoding::Utf8,
        // A multi-byte character cut by the sniff window is still UTF-8.
        Err(e) if e.error_len().is_none() => Encoding::Utf8,
        Err(_) => Encoding::Windows1252,
    };
    let delimiter = detect_delimiter(body);
    let format = FileFormat {
        delimiter: Some(delimiter),
        encoding: Some(encoding),
        bom,
        unread_sheets: Vec::new(),
    };
    // The BOM is not part of the first header cell.
    let mut sniffed = std::io::Cursor::new(sniff);
    sniffed.set_position(if bom { 3 } else { 0 });
    let stream = sniffed.chain(reader);
    let mut tokenizer = Tokenizer::new(stream, delimiter);
    let mut raw = RawRecord::default();
    let mut buf = RecordBuf::default();
    while let Some(line) = tokenizer.next_record(&mut raw)? {
        // A UTF-8 record is used in place: one check for the whole record (cells end at an
        // ASCII delimiter, so they are UTF-8 too), no copy.
        let utf8 = match encoding {
            Encoding::Utf8 => std::str::from_utf8(&raw.bytes).ok(),
            Encoding::Windows1252 => None,
        };
        let record = match utf8 {
            Some(text) => Record {
                text,
                ends: &raw.ends,
                quoted_lines: &raw.quoted_lines,
                quote_opened: raw.quote_opened,
            },
            None => {
                buf.clear();
                for cell in raw.fields() {
                    match (encoding, std::str::from_utf8(cell)) {
                        (Encoding::Utf8, Ok(text)) => buf.push(text),
                        // Not UTF-8 (or a UTF-8 file with a stray Windows-1252 byte past the
                        // sniff window): the cell is Windows-1252, what Danish Excel writes.
                        _ => {
                            let (text, _) =
                                encoding_rs::WINDOWS_1252.decode_without_bom_handling(cell);
                            buf.push(&text);
                        }
                    }
                }
                Record {
                    quoted_lines: &raw.quoted_lines,
                    quote_opened: raw.quote_opened,
                    ..buf.record()
                }
            }
        };
        if record.is_blank() {
            continue;
        }
        if !on_record(line, &record) {
            break;
        }
    }
    Ok(format)
}

/// A record as raw bytes and field ends.
#[derive(Default)]
struct RawRecord {
    bytes: Vec<u8>,
    ends: Vec<usize>,
    quoted_lines: Vec<QuotedLine>,
    quote_opened: u64,
}

impl RawRecord {
    /// Counts the delimiters and content of `bytes` into the current [`QuotedLine`], if the
    /// record has one (only records with a quoted line break pay for this).
    fn track(&mut self, bytes: &[u8], delimiter: u8) {
        if let Some(last) = self.quoted_lines.last_mut() {
            let n = memchr::memchr_iter(delimiter, bytes).count();
            last.delimiters = last.delimiters.saturating_add(n as u32);
            if !last.content {
                last.content = bytes
                    .iter()
                    .any(|&b| b != delimiter && b != b'"' && !b.is_ascii_whitespace());
            }
        }
    }

    fn fields(&self) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let field = &self.bytes[start..end];
            start = end;
            field
        })
    }
}

/// The longest record accepted: a longer one is almost always a quote that is never closed,
/// which would otherwise swallow the rest of the file.
const MAX_RECORD_BYTES: usize = 32 << 20;

/// The most fields a record (CSV) or row (.xlsx) may have: Excel's own limit of 16,384
/// columns. Without it, a 32 MiB line of only delimiters would take 8 bytes of memory per
/// delimiter; no submission comes near it.
pub const MAX_FIELDS: usize = 16_384;

/// The most cells an .xlsx sheet may make us build (rows × the width of each row, blank rows
/// not counted): 64 Mi, more than twice Excel's 1,048,576 rows × 25 columns of the format.
/// A sheet with a stray value far to the right on many rows would otherwise take minutes.
pub const MAX_XLSX_CELLS: u64 = 1 << 26;

/// A small CSV tokenizer (RFC 4180 plus what Excel writes) that knows the physical line
/// where each record starts. The `csv` crate reports the line where the *previous* record
/// ended, which is wrong after blank lines and CRLF; the format promises exact lines.
/// Quoted fields may hold the delimiter, `""` and line breaks; LF, CRLF and lone CR end a
/// record; a stray quote inside an unquoted field is kept as text (as Excel reads it).
struct Tokenizer<R> {
    reader: R,
    delimiter: u8,
    /// The physical line of the next byte.
    line: u64,
    /// A CR ended the last line: a directly following LF belongs to it.
    after_cr: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    StartRecord,
    StartField,
    Unquoted,
    Quoted,
    QuoteInQuoted,
}

impl<R: BufRead> Tokenizer<R> {
    fn new(reader: R, delimiter: u8) -> Self {
        Tokenizer {
            reader,
            delimiter,
            line: 1,
            after_cr: false,
        }
    }

    /// Reads the next record; returns the line it starts on, or `None` at the end.
    fn next_record(&mut self, out: &mut RawRecord) -> Result<Option<u64>, FileError> {
        out.bytes.clear();
        out.ends.clear();
        out.quoted_lines.clear();
        out.quote_opened = 0;
        let Tokenizer {
            reader,
            delimiter,
            line,
            after_cr,
        } = self;
        let delimiter = *delimiter;
        let mut state = State::StartRecord;
        let mut start_line = *line;
        loop {
            let buf = reader.fill_buf()?;
            if buf.is_empty() {
                // End of file: finish an open record.
                if state == State::StartRecord {
                    return Ok(None);
                }
                out.ends.push(out.bytes.len());
                return Ok(Some(start_line));
            }
            let mut used = 0;
            let mut done = false;
            while used < buf.len() {
                // Inside a field, copy everything up to the next byte that matters in one
                // go (memchr): most bytes of a file are plain field text.
                let next_special = match state {
                    State::Unquoted => Some(memchr::memchr3(delimiter, b'\n', b'\r', &buf[used..])),
                    State::Quoted => Some(memchr::memchr2(b'"', b'\n', &buf[used..])),
                    _ => None,
                };
                if let Some(found) = next_special {
                    let n = found.unwrap_or(buf.len() - used);
                    out.bytes.extend_from_slice(&buf[used..used + n]);
                    if !out.quoted_lines.is_empty() {
                        out.track(&buf[used..used + n], delimiter);
                    }
                    used += n;
                    if used == buf.len() {
                        break;
                    }
                }
                let b = buf[used];
                used += 1;
                if !out.quoted_lines.is_empty() {
                    out.track(&[b], delimiter);
                }
                if *after_cr {
                    *after_cr = false;
                    if b == b'\n' && state == State::StartRecord {
                        continue;
                    }
                }
                match state {
                    State::StartRecord => match b {
                        b'\n' => *line += 1,
                        b'\r' => {
                            *line += 1;
                            *after_cr = true;
                        }
                        _ => {
                            start_line = *line;
                            state = field_start(delimiter, b, out);
                        }
                    },
                    State::StartField | State::Unquoted => match b {
                        b'\n' | b'\r' => {
                            *line += 1;
                            *after_cr = b == b'\r';
                            out.ends.push(out.bytes.len());
                            done = true;
                            break;
                        }
                        _ if state == State::StartField => state = field_start(delimiter, b, out),
                        _ if b == delimiter => {
                            out.ends.push(out.bytes.len());
                            state = State::StartField;
                        }
                        _ => out.bytes.push(b),
                    },
                    State::Quoted => match b {
                        b'"' => state = State::QuoteInQuoted,
                        _ => {
                            if b == b'\n' {
                                if out.quoted_lines.is_empty() {
                                    // No earlier break in this record: the quote opened on
                                    // this line.
                                    out.quote_opened = *line;
                                }
                                *line += 1;
                                out.quoted_lines.push(QuotedLine {
                                    line: *line,
                                    delimiters: 0,
                                    content: false,
                                });
                            }
                            out.bytes.push(b);
                        }
                    },
                    State::QuoteInQuoted => match b {
                        b'"' => {
                            out.bytes.push(b'"');
                            state = State::Quoted;
                        }
                        b'\n' | b'\r' => {
                            *line += 1;
                            *after_cr = b == b'\r';
                            out.ends.push(out.bytes.len());
                            done = true;
                            break;
                        }
                        _ if b == delimiter => {
                            out.ends.push(out.bytes.len());
                            state = State::StartField;
                        }
                        _ => {
                            out.bytes.push(b);
                            state = State::Unquoted;
                        }
                    },
                }
            }
            reader.consume(used);
            if out.ends.len() > MAX_FIELDS {
                return Err(FileError::Csv(format!(
                    "the record starting at line {start_line} has more than {MAX_FIELDS} fields (Excel's limit); is the file a submission?"
                )));
            }
            if done {
                return Ok(Some(start_line));
            }
            if out.bytes.len() > MAX_RECORD_BYTES {
                return Err(FileError::Csv(format!(
                    "the record starting at line {start_line} is longer than {} MiB: is a quote (\") never closed?",
                    MAX_RECORD_BYTES >> 20
                )));
            }
        }
    }
}

/// The first byte of a field (line ends are handled by the caller).
fn field_start(delimiter: u8, b: u8, out: &mut RawRecord) -> State {
    if b == b'"' {
        State::Quoted
    } else if b == delimiter {
        out.ends.push(out.bytes.len());
        State::StartField
    } else {
        out.bytes.push(b);
        State::Unquoted
    }
}

/// `;` or `,`, whichever occurs more often outside quotes on the first line.
fn detect_delimiter(body: &[u8]) -> u8 {
    let (mut semi, mut comma, mut quoted) = (0usize, 0usize, false);
    for &b in body {
        match b {
            b'"' => quoted = !quoted,
            b'\n' if !quoted => break,
            b';' if !quoted => semi += 1,
            b',' if !quoted => comma += 1,
            _ => {}
        }
    }
    if semi > comma { b';' } else { b',' }
}

/// Reads the worksheet that holds the submission: the one whose first row with values is a
/// header (at least two column names of the format), else the first worksheet with values.
/// A workbook with the header on two sheets is refused: reading one would drop the other's
/// rows, and rows never vanish. Cells are streamed, never laid out as the sheet's whole used
/// range: one value in a far cell (XFD1048576) costs one wide row, not 17 billion cells.
fn read_xlsx(
    path: &Path,
    on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    // An .xlsx file is a zip archive; anything else with that name is a mistake to explain.
    let mut magic = [0u8; 4];
    let n = File::open(path)?.read(&mut magic)?;
    xlsx_magic(&magic[..n])?;
    let workbook: calamine::Xlsx<_> =
        guarded(|| calamine::open_workbook(path)).map_err(|e| FileError::Xlsx(e.to_string()))?;
    read_workbook(workbook, on_record)
}

fn xlsx_magic(head: &[u8]) -> Result<(), FileError> {
    if !head.starts_with(b"PK\x03\x04") {
        return Err(FileError::Xlsx(
            "the file is named .xlsx but is not an Excel workbook; if it is a CSV file, rename it to .csv".into(),
        ));
    }
    Ok(())
}

/// The crates that read a workbook: calamine and what it reads the zip and the XML with.
const WORKBOOK_READER_CRATES: [&str; 3] = ["calamine-", "quick-xml-", "zip-"];

/// Runs one call into calamine, turning a panic inside it into an error. calamine 0.38
/// panics on some damaged workbooks (a multiply overflow on a cell reference of too many
/// digits, found by fuzzing: fuzz/seeds/xlsx_reader/calamine-mul-overflow.xlsx); a damaged
/// file must be refused with a message, never crash the count or the web inbox. Every
/// call into calamine goes through here, so the panic never escapes the intake (and
/// [`keep_workbook_reader_panics_quiet`] keeps its message off the terminal).
fn guarded<T>(
    call: impl FnOnce() -> Result<T, calamine::XlsxError>,
) -> Result<T, calamine::XlsxError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(call)).unwrap_or(Err(
        calamine::XlsxError::Unexpected(
            "the workbook is damaged (its contents cannot be read); open it in Excel and save it again",
        ),
    ))
}

/// Installs a panic hook that stays silent for a panic inside the workbook reader (which
/// [`guarded`] catches and reports as a damaged file) and hands every other panic to the
/// hook that was there before. `hcount` calls it first thing, so a caseworker sees "the
/// workbook is damaged", not a Rust panic message; the xlsx fuzz target calls it after
/// libFuzzer's hook (which aborts at every panic), so the intake's own refusal is tested and
/// any other panic is still a crash.
pub fn keep_workbook_reader_panics_quiet() {
    let next = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        let in_reader = info.location().is_some_and(|l| {
            let file = l.file();
            WORKBOOK_READER_CRATES
                .iter()
                .any(|c| file.contains(&format!("/{c}")) || file.starts_with(c))
        });
        if !in_reader {
            next(info);
        }
    }));
}

/// The body of [`read_xlsx`], for a workbook read from a file or from memory (an upload).
fn read_workbook<RS: std::io::Read + std::io::Seek>(
    mut workbook: calamine::Xlsx<RS>,
    mut on_record: impl FnMut(u64, &Record<'_>) -> bool,
) -> Result<FileFormat, FileError> {
    use calamine::Reader;
    let mut format = FileFormat {
        delimiter: None,
        encoding: None,
        bom: false,
        unread_sheets: Vec::new(),
    };
    let sheets: Vec<String> = workbook
        .sheets_metadata()
        .iter()
        .filter(|s| s.typ == calamine::SheetType::WorkSheet)
        .map(|s| s.name.clone())
        .collect();
    if sheets.is_empty() {
        return Err(FileError::Xlsx("the workbook has no worksheet".into()));
    }
    // The first row with values of each sheet decides which sheet is read.
    let mut with_header = Vec::new();
    let mut with_values = None;
    let mut all_with_values = Vec::new();
    for name in &sheets {
        let mut cells = SheetCells::open(&mut workbook, name)?;
        if let Some((_, first)) = cells.next_row(0)? {
            let known = first
                .iter()
                .filter(|c| crate::spec::Column::from_header(c).is_some())
                .count();
            if known >= 2 {
                with_header.push(name.as_str());
            }
            with_values.get_or_insert(name.as_str());
            all_with_values.push(name.as_str());
        }
    }
    if with_header.len() > 1 {
        return Err(FileError::Xlsx(format!(
            "the sheets {} all have a header row: put all rows on one sheet, or send one file per sheet",
            with_header
                .iter()
                .map(|n| format!("{n:?}"))
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    let Some(name) = with_header.first().copied().or(with_values) else {
        // No values on any sheet: an empty file (validate says so).
        return Ok(format);
    };
    // Rows never vanish without a word: the other sheets with values are named (W014).
    format.unread_sheets = all_with_values
        .iter()
        .filter(|n| **n != name && !TEMPLATE_CODE_SHEETS.contains(*n))
        .map(|n| n.to_string())
        .collect();
    let name = name.to_string();
    let mut cells = SheetCells::open(&mut workbook, &name)?;
    let mut buf = RecordBuf::default();
    // Rows are padded to the header's width (Excel leaves trailing empty cells out), and
    // keep any value past it (then the row has more fields than the header: E013).
    let mut width = None;
    while let Some((line, row)) = cells.next_row(width.unwrap_or(0))? {
        buf.clear();
        for cell in &row {
            buf.push(cell);
        }
        width.get_or_insert(row.len());
        if !on_record(line, &buf.record()) {
            break;
        }
    }
    Ok(format)
}

/// The cells of one worksheet, row by row, as text.
struct SheetCells<'a, RS: std::io::Read + std::io::Seek> {
    reader: calamine::XlsxCellReader<'a, RS>,
    /// A cell read past the end of the previous row: (row, column, text).
    pending: Option<(u32, u32, String)>,
    /// The last row handed out (rows must come in order).
    last_row: Option<u32>,
    /// Cells built so far, against [`MAX_XLSX_CELLS`].
    built: u64,
    /// The reader has said the sheet ends (it must not be asked again).
    ended: bool,
    sheet: String,
}

impl<'a, RS: std::io::Read + std::io::Seek> SheetCells<'a, RS> {
    fn open(
        workbook: &'a mut calamine::Xlsx<RS>,
        name: &str,
    ) -> Result<SheetCells<'a, RS>, FileError> {
        let reader = guarded(|| workbook.worksheet_cells_reader(name))
            .map_err(|e| FileError::Xlsx(format!("sheet {name:?}: {e}")))?;
        Ok(SheetCells {
            reader,
            pending: None,
            last_row: None,
            built: 0,
            ended: false,
            sheet: name.to_string(),
        })
    }

    fn error(&self, what: String) -> FileError {
        FileError::Xlsx(format!("sheet {:?}: {what}", self.sheet))
    }

    /// The next row that has a value: its line (the worksheet row number) and its cells, at
    /// least `width` of them (padded with ""), up to its last value. `None` at the end.
    fn next_row(&mut self, width: usize) -> Result<Option<(u64, Vec<String>)>, FileError> {
        let mut row: Option<u32> = None;
        let mut cells: Vec<(u32, String)> = Vec::new();
        loop {
            let next = match self.pending.take() {
                Some(p) => Some(p),
                None if self.ended => None,
                None => match guarded(|| self.reader.next_cell()) {
                    Ok(Some(cell)) => {
                        let (r, c) = cell.get_position();
                        let mut text = String::new();
                        cell_text(&mut text, cell.get_value());
                        Some((r, c, text))
                    }
                    Ok(None) => {
                        self.ended = true;
                        None
                    }
                    Err(e) => return Err(self.error(e.to_string())),
                },
            };
            let Some((r, c, text)) = next else { break };
            if text.trim().is_empty() {
                // Formatting without a value: not part of any row.
                continue;
            }
            if c as usize >= MAX_FIELDS {
                return Err(self.error(format!(
                    "a value in row {}, column {}, past Excel's {MAX_FIELDS} columns; is the file damaged?",
                    r + 1,
                    c + 1
                )));
            }
            match row {
                None => {
                    if self.last_row.is_some_and(|last| r <= last) {
                        return Err(self.error(format!(
                            "row {} comes after row {}: the rows are out of order; open the file in Excel and save it again",
                            r + 1,
                            self.last_row.unwrap_or(0) + 1
                        )));
                    }
                    row = Some(r);
                }
                Some(current) if r != current => {
                    self.pending = Some((r, c, text));
                    break;
                }
                Some(_) => {}
            }
            if cells.len() >= MAX_FIELDS {
                return Err(self.error(format!(
                    "row {} has more than {MAX_FIELDS} cells; is the file damaged?",
                    r + 1
                )));
            }
            cells.push((c, text));
        }
        let Some(r) = row else { return Ok(None) };
        self.last_row = Some(r);
        cells.sort_by_key(|&(c, _)| c);
        let last_col = cells.last().map_or(0, |&(c, _)| c as usize);
        let len = width.max(last_col + 1);
        self.built += len as u64;
        if self.built > MAX_XLSX_CELLS {
            return Err(self.error(format!(
                "more than {MAX_XLSX_CELLS} cells by row {}: values far to the right of the table on many rows? Delete them and save again",
                r + 1
            )));
        }
        let mut out = vec![String::new(); len];
        for (c, text) in cells {
            // Two values for one cell (not something Excel writes): the first is kept.
            if out[c as usize].is_empty() {
                out[c as usize] = text;
            }
        }
        Ok(Some((r as u64 + 1, out)))
    }
}

/// A cell's value as text, the way the format reads it.
fn cell_text(out: &mut String, value: &calamine::DataRef<'_>) {
    use calamine::DataRef;
    match value {
        DataRef::Empty => {}
        DataRef::String(s) => out.push_str(s),
        DataRef::SharedString(s) => out.push_str(s),
        DataRef::Float(f) => write_number(out, *f),
        DataRef::Int(n) => out.push_str(&n.to_string()),
        DataRef::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        DataRef::DateTime(dt) => match dt.as_datetime() {
            // An Excel date cell: written the ISO way, which the format accepts.
            Some(d) if dt.is_datetime() => out.push_str(&d.date().format("%Y-%m-%d").to_string()),
            _ => write_number(out, dt.as_f64()),
        },
        DataRef::DateTimeIso(s) | DataRef::DurationIso(s) => out.push_str(s),
        DataRef::Error(e) => out.push_str(&format!("#{e:?}")),
    }
}

/// Numbers typed into Excel cells: integral values without a decimal point (`101`, not
/// `101.0`), so that codes and years read as typed.
fn write_number(out: &mut String, f: f64) {
    use std::fmt::Write;
    if f.fract() == 0.0 && f.abs() < 1e15 {
        let _ = write!(out, "{}", f as i64);
    } else {
        let _ = write!(out, "{f}");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_workbook_that_makes_calamine_panic_is_refused_not_a_panic() {
        // Found by fuzzing: calamine 0.38 multiplies a cell reference's digits into an overflow.
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../fuzz/seeds/xlsx_reader/calamine-mul-overflow.xlsx");
        let file = SourceFile {
            name: "t.xlsx".into(),
            path,
            kind: FileKind::Xlsx,
        };
        let result = read_records(&file, |_, _| true);
        let Err(FileError::Xlsx(message)) = result else {
            panic!("a damaged workbook is refused, not read: {result:?}")
        };
        assert!(message.contains("damaged"), "{message}");
    }

    fn records(bytes: &[u8]) -> (FileFormat, Vec<(u64, Vec<String>)>) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let file = SourceFile {
            name: "t.csv".into(),
            path,
            kind: FileKind::Csv,
        };
        let mut out = Vec::new();
        let format = read_records(&file, |line, r| {
            out.push((line, (0..r.len()).map(|i| r.get(i).to_string()).collect()));
            true
        })
        .unwrap();
        (format, out)
    }

    #[test]
    fn windows_1252_semicolon_crlf_bom_less() {
        let bytes = b"kommune;initialer\r\n101;\xC6\xD8\r\n\r\n;;\r\n751; J.P. \r\n";
        let (format, rows) = records(bytes);
        assert_eq!(format.delimiter, Some(b';'));
        assert_eq!(format.encoding, Some(Encoding::Windows1252));
        assert_eq!(rows[1], (2, vec!["101".to_string(), "ÆØ".to_string()]));
        // Blank and all-empty lines are skipped; line numbers stay physical.
        assert_eq!(rows[2], (5, vec!["751".to_string(), "J.P.".to_string()]));
        assert_eq!(rows.len(), 3);
    }

    #[test]
    fn utf8_bom_quoted_newlines() {
        let text = "\u{FEFF}a,b\n1,\"two\nlines, and \"\"quotes\"\"\"\n3,4\n";
        let (format, rows) = records(text.as_bytes());
        assert!(format.bom);
        assert_eq!(format.encoding, Some(Encoding::Utf8));
        assert_eq!(rows[0].1, vec!["a", "b"]);
        assert_eq!(rows[1].1[1], "two\nlines, and \"quotes\"");
        // The record after a two-line record starts on physical line 4.
        assert_eq!(rows[2].0, 4);
    }

    #[test]
    fn utf16_and_binary_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        for (bytes, want) in [
            (&b"\xFF\xFEa\0b\0"[..], "UTF-16"),
            (&b"PK\x03\x04\0\0\0"[..], "binary"),
        ] {
            let path = dir.path().join("x.csv");
            std::fs::write(&path, bytes).unwrap();
            let file = SourceFile {
                name: "x.csv".into(),
                path,
                kind: FileKind::Csv,
            };
            let err = read_records(&file, |_, _| true).unwrap_err();
            assert!(err.to_string().contains(want), "{err}");
        }
    }

    #[test]
    fn physical_line_numbers() {
        // Blank lines, CRLF, lone CR, a quoted CRLF, and no newline at the end.
        let text = b"h1,h2\r\n\r\na,\"x\r\ny\"\r\nb,c\rd,e\n\n\nf,\"\"\"q\"\"\"";
        let (_, rows) = records(text);
        let lines: Vec<u64> = rows.iter().map(|r| r.0).collect();
        assert_eq!(lines, vec![1, 3, 5, 6, 9]);
        assert_eq!(rows[1].1, vec!["a", "x\r\ny"]);
        assert_eq!(rows[4].1, vec!["f", "\"q\""]);
    }

    #[test]
    fn empty_fields_and_trailing_delimiters() {
        let (_, rows) = records(b"a;b;c\n1;;3;\n;2\n");
        assert_eq!(rows[1].1, vec!["1", "", "3", ""]);
        assert_eq!(rows[2].1, vec!["", "2"]);
    }

    #[test]
    fn an_unclosed_quote_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("q.csv");
        let mut bytes = b"a,b\n1,\"never closed".to_vec();
        bytes.extend(std::iter::repeat_n(b'x', MAX_RECORD_BYTES + 10));
        std::fs::write(&path, bytes).unwrap();
        let file = SourceFile {
            name: "q.csv".into(),
            path,
            kind: FileKind::Csv,
        };
        let err = read_records(&file, |_, _| true).unwrap_err();
        assert!(err.to_string().contains("line 2"), "{err}");
    }

    /// A record's line, the line its quote opened on, and its quoted lines as (line,
    /// delimiters, content).
    type Quoted = (u64, u64, Vec<(u64, u32, bool)>);

    fn quoted_lines(bytes: &[u8]) -> Vec<Quoted> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.csv");
        std::fs::write(&path, bytes).unwrap();
        let file = SourceFile {
            name: "t.csv".into(),
            path,
            kind: FileKind::Csv,
        };
        let mut out = Vec::new();
        read_records(&file, |line, r| {
            let q = r.quoted_lines().iter();
            let q = q.map(|q| (q.line, q.delimiters, q.content)).collect();
            out.push((line, r.quote_opened(), q));
            true
        })
        .unwrap();
        out
    }

    #[test]
    fn lines_inside_quotes_are_counted_for_validate() {
        // A cell with a line break (one delimiter after it on its line), a blank line inside
        // quotes, and a quote never closed that swallows two rows.
        let text = b"a;b;c\n1;\"x\ny\";3\n4;5;\"\n\n6;7;8\n9;10;11\n";
        let got = quoted_lines(text);
        assert_eq!(got[0], (1, 0, vec![]));
        assert_eq!(got[1], (2, 2, vec![(3, 1, true)]));
        assert_eq!(
            got[2],
            (
                4,
                4,
                vec![(5, 0, false), (6, 2, true), (7, 2, true), (8, 0, false)]
            )
        );
        assert_eq!(got.len(), 3);
    }

    #[test]
    fn more_fields_than_excel_has_columns_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w.csv");
        let mut bytes = b"a;b\n1;2\n".to_vec();
        bytes.extend(std::iter::repeat_n(b';', MAX_FIELDS));
        bytes.push(b'\n');
        std::fs::write(&path, &bytes).unwrap();
        let file = SourceFile {
            name: "w.csv".into(),
            path: path.clone(),
            kind: FileKind::Csv,
        };
        let err = read_records(&file, |_, _| true).unwrap_err();
        assert!(err.to_string().contains("line 3"), "{err}");
        // Exactly Excel's limit is still a record.
        bytes.truncate(bytes.len() - 2);
        bytes.push(b'\n');
        std::fs::write(&path, &bytes).unwrap();
        assert!(read_records(&file, |_, _| true).is_ok());
    }

    #[test]
    fn delimiter_detection_ignores_quoted() {
        assert_eq!(detect_delimiter(b"\"a;b;c\",d\n"), b',');
        assert_eq!(detect_delimiter(b"a;b,c;d\n1,2,3,4,5"), b';');
    }

    mod properties {
        use super::*;
        use proptest::prelude::*;

        /// A cell as a submitter might type it: letters (Danish too), digits, the delimiters,
        /// quotes and line breaks inside, no surrounding white space (cells are trimmed).
        fn cell() -> impl Strategy<Value = String> {
            prop_oneof![
                Just(String::new()),
                "[a-zæøåÆØÅ0-9,;\"]([a-zæøå0-9 ,;\"\n]{0,6}[a-zæøå0-9,;\"])?",
            ]
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]

            /// Whatever Excel or a script writes — `,` or `;`, LF or CRLF, UTF-8 with or
            /// without BOM or Windows-1252, quoting where needed or everywhere — the same
            /// cells come back, each record with the physical line it starts on.
            #[test]
            fn csv_round_trip(
                rows in prop::collection::vec(prop::collection::vec(cell(), 3), 1..12),
                semicolon in any::<bool>(),
                crlf in any::<bool>(),
                quote_all in any::<bool>(),
                encoding in 0u8..3,
            ) {
                let delimiter = if semicolon { b';' } else { b',' };
                let mut w = ::csv::WriterBuilder::new()
                    .delimiter(delimiter)
                    .terminator(if crlf { ::csv::Terminator::CRLF } else { ::csv::Terminator::Any(b'\n') })
                    .quote_style(if quote_all { ::csv::QuoteStyle::Always } else { ::csv::QuoteStyle::Necessary })
                    .from_writer(Vec::new());
                w.write_record(["kommune", "situation", "initialer"]).unwrap();
                // (line, cells) of the records the reader must return: blank ones are skipped.
                let mut want = vec![(1u64, vec!["kommune".to_string(), "situation".into(), "initialer".into()])];
                let mut line = 2u64;
                for r in &rows {
                    w.write_record(r).unwrap();
                    if r.iter().any(|c| !c.is_empty()) {
                        want.push((line, r.clone()));
                    }
                    line += 1 + r.iter().map(|c| c.matches('\n').count() as u64).sum::<u64>();
                }
                let text = String::from_utf8(w.into_inner().unwrap()).unwrap();
                let bytes = match encoding {
                    0 => text.into_bytes(),
                    1 => [&b"\xEF\xBB\xBF"[..], text.as_bytes()].concat(),
                    _ => encoding_rs::WINDOWS_1252.encode(&text).0.into_owned(),
                };
                let (_, got) = records(&bytes);
                prop_assert_eq!(got, want);
            }
        }
    }
}
