//! The inbox's SQLite database: one connection per operation, WAL, and every write in an
//! IMMEDIATE transaction (under WAL a deferred read-then-write transaction fails with
//! SQLITE_BUSY at once instead of waiting; see the team's wave-2 notes §2).

use std::path::Path;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

/// Bumped when the schema changes; an inbox of another version is refused, not guessed at.
pub const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS units (
    respondent_id TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    respondent_type TEXT NOT NULL,
    municipality INTEGER NOT NULL,
    -- SHA-256 of the unit's upload token; NULL when revoked. The token itself is never stored.
    token_hash BLOB UNIQUE,
    -- The version that counts (versions.id); NULL: not answered yet.
    current_version INTEGER REFERENCES versions(id)
);
CREATE TABLE IF NOT EXISTS versions (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    respondent_id TEXT NOT NULL REFERENCES units(respondent_id),
    number INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    actor TEXT NOT NULL,
    -- 'stored' or 'held' (waiting for the unit to confirm).
    state TEXT NOT NULL,
    -- 1: 'answered: no homeless persons this week' (no files, or header-only files).
    answered_none INTEGER NOT NULL,
    files TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    rows_read INTEGER NOT NULL,
    rows_accepted INTEGER NOT NULL,
    rows_rejected INTEGER NOT NULL,
    warnings INTEGER NOT NULL,
    persons INTEGER NOT NULL,
    -- File name under slices/.
    slice TEXT NOT NULL,
    UNIQUE (respondent_id, number)
);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    at TEXT NOT NULL,
    respondent_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    sha256 TEXT,
    rows_read INTEGER,
    rows_accepted INTEGER,
    rows_rejected INTEGER,
    detail TEXT
);
-- The audit log is append-only.
CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
    BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
";

/// Opens the database, creating its schema when `create` is set.
pub fn open(path: &Path, create: bool) -> rusqlite::Result<Connection> {
    use rusqlite::OpenFlags;
    let mut flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
    if create {
        flags |= OpenFlags::SQLITE_OPEN_CREATE;
    }
    let mut conn = Connection::open_with_flags(path, flags)?;
    // Many uploads may commit at once; a writer waits its turn rather than fail.
    conn.busy_timeout(Duration::from_secs(30))?;
    conn.pragma_update(None, "foreign_keys", true)?;
    // FULL: a commit that returned is on disk, even across a power cut.
    conn.pragma_update(None, "synchronous", "FULL")?;
    if create {
        conn.pragma_update(None, "journal_mode", "WAL")?;
        let tx = write(&mut conn)?;
        tx.execute_batch(SCHEMA)?;
        tx.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', ?1)",
            [SCHEMA_VERSION.to_string()],
        )?;
        tx.commit()?;
    }
    Ok(conn)
}

/// A write transaction (IMMEDIATE: takes the write lock at BEGIN, waiting up to the busy
/// timeout).
pub fn write(conn: &mut Connection) -> rusqlite::Result<Transaction<'_>> {
    conn.transaction_with_behavior(TransactionBehavior::Immediate)
}

pub fn meta(conn: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    use rusqlite::OptionalExtension;
    conn.query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
        .optional()
}

pub fn set_meta(conn: &Connection, key: &str, value: &str) -> rusqlite::Result<()> {
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [key, value],
    )?;
    Ok(())
}
