//! History on an embedded SQLite database (WAL): every message in both directions and
//! the outbox of undelivered ones. Writes go through one writer thread that commits in
//! groups; reads use their own connection. One running brigade per data directory.

mod drafts;
mod notes;
mod pins;
mod schema;
mod search;
mod upkeep;
mod writer;

use std::fs::File;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, OpenFlags, Row, params};

pub use writer::{Gather, HistoryNote, Writer};

use crate::event::{Delivery, MsgId, PeerKey, Record};

/// Messages loaded into the log at start-up, at most (older ones stay searchable and
/// are paged in by scrolling up): the store's window, `store::LOG_WINDOW`.
pub const LOAD_RECENT: usize = 5_000;
/// Bytes of text loaded at start-up, at most (the store's `LOG_WINDOW_BYTES`): a
/// history of large messages starts as fast and as small as one of short ones.
pub const LOAD_BYTES: usize = 8 * 1024 * 1024;
pub const DB_FILE: &str = "history.db";
const LOCK_FILE: &str = "brigade.lock";

/// Why the history could not be opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenError {
    /// Another brigade uses this data directory: a usage error, brigade stops.
    Locked(String),
    /// No history this run (read-only directory, damaged file, ...): brigade goes on in
    /// memory and says so. The file, if any, is left exactly as it was.
    Unavailable(String),
}

/// An open history: the records to show, the writer, and a reader for queries.
pub struct Opened {
    pub records: Vec<Record>,
    /// The pinned keys of peers.
    pub pins: Vec<crate::event::Pin>,
    /// The compose drafts kept from the last run, one per conversation.
    pub drafts: Vec<crate::event::Draft>,
    /// The user's aliases and forgotten peers.
    pub notes: Vec<crate::event::PeerNote>,
    /// Where the loaded window of recent messages starts, when older ones exist.
    pub older_before: Option<DateTime<Utc>>,
    pub writer_conn: Connection,
    pub reader: Reader,
    pub lock: File,
}

/// The default data directory of a team: `brigade/<team>` in the local data directory.
pub fn default_dir(team: &str) -> Option<PathBuf> {
    directories::ProjectDirs::from("", "", "brigade")
        .map(|d| d.data_local_dir().join(dir_name(team)))
}

/// A team name as a directory name: letters, digits, `-` and `_` kept, anything else
/// (`/`, `.`, ...) becomes `_`, so no name can point outside the data directory.
pub fn dir_name(team: &str) -> String {
    let safe: String = team
        .chars()
        .map(|c| {
            if c.is_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if safe.is_empty() { "_".into() } else { safe }
}

pub fn open(dir: &Path) -> Result<Opened, OpenError> {
    let unavailable = |what: String| OpenError::Unavailable(what);
    std::fs::create_dir_all(dir)
        .map_err(|e| unavailable(format!("cannot create {}: {e}", dir.display())))?;
    let lock = lock_dir(dir)?;
    let path = dir.join(DB_FILE);
    let damaged = |e: String| {
        unavailable(format!(
            "cannot use {}: {e}; it is left as it is (move it away to start a new history)",
            path.display()
        ))
    };
    let mut conn = Connection::open_with_flags(
        &path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .map_err(|e| damaged(e.to_string()))?;
    conn.busy_timeout(std::time::Duration::from_secs(5))
        .map_err(|e| damaged(e.to_string()))?;
    // Reading the header is enough to refuse a file that is not an SQLite database.
    // (A full quick_check reads the whole file: 0.5 s cold at 100 000 messages, more
    // than the start-up budget; damaged pages show up as read or write errors, which
    // are reported and never lead to replacing the file.)
    conn.query_row("PRAGMA schema_version", [], |r| r.get::<_, i64>(0))
        .map_err(|e| damaged(e.to_string()))?;
    let mode: String = conn
        .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
        .map_err(|e| damaged(e.to_string()))?;
    if !mode.eq_ignore_ascii_case("wal") {
        return Err(damaged(format!(
            "cannot switch to WAL (journal mode {mode})"
        )));
    }
    // Commits survive a crash of brigade (kill -9); a power cut may lose the last
    // moments. FULL would fsync every group commit.
    conn.pragma_update(None, "synchronous", "NORMAL")
        .map_err(|e| damaged(e.to_string()))?;
    // A forgotten peer's deleted messages are overwritten, not left in free pages.
    conn.pragma_update(None, "secure_delete", "ON")
        .map_err(|e| damaged(e.to_string()))?;
    schema::migrate(&mut conn).map_err(damaged)?;
    // A write now, so a read-only file or directory shows up here and not later.
    conn.execute_batch("BEGIN IMMEDIATE; COMMIT;")
        .map_err(|e| damaged(e.to_string()))?;
    let (records, older_before) = load(&conn).map_err(|e| damaged(e.to_string()))?;
    let pins = pins::load(&conn).map_err(|e| damaged(e.to_string()))?;
    let drafts = drafts::load(&conn).map_err(|e| damaged(e.to_string()))?;
    let notes = notes::load(&conn).map_err(|e| damaged(e.to_string()))?;
    let reader = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| damaged(e.to_string()))?;
    Ok(Opened {
        records,
        pins,
        drafts,
        notes,
        older_before,
        writer_conn: conn,
        reader: Reader(Arc::new(Mutex::new(reader))),
        lock,
    })
}

/// Takes the data directory's lock (released by the OS when brigade exits, however):
/// the standard library's `File::try_lock`, which is `flock` on Linux and macOS and
/// `LockFileEx` on Windows.
fn lock_dir(dir: &Path) -> Result<File, OpenError> {
    let path = dir.join(LOCK_FILE);
    let file = File::options()
        .create(true)
        .truncate(false)
        .read(true)
        .write(true)
        .open(&path)
        .map_err(|e| OpenError::Unavailable(format!("cannot create {}: {e}", path.display())))?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(OpenError::Locked(format!(
            "another brigade is running with the data directory {}; quit it, or give this one its own with --data-dir (or --no-history)",
            dir.display()
        ))),
        Err(std::fs::TryLockError::Error(e)) => Err(OpenError::Unavailable(format!(
            "cannot lock {}: {e}",
            path.display()
        ))),
    }
}

/// The recent messages (at most [`LOAD_RECENT`] and [`LOAD_BYTES`] of text, read
/// newest first and no further) plus every older undelivered one, oldest first; and
/// where the recent window starts when older messages exist.
type Loaded = (Vec<Record>, Option<DateTime<Utc>>);

fn load(conn: &Connection) -> rusqlite::Result<Loaded> {
    let sql = format!("SELECT {COLUMNS}, id FROM messages ORDER BY id DESC");
    let mut stmt = conn.prepare(&sql)?;
    let mut rows = stmt.query([])?;
    let mut recent = Vec::new();
    let (mut bytes, mut oldest_id, mut more) = (0usize, i64::MAX, false);
    while let Some(row) = rows.next()? {
        let r = record(row)?;
        if recent.len() >= LOAD_RECENT || (!recent.is_empty() && bytes + r.text.len() > LOAD_BYTES)
        {
            more = true;
            break;
        }
        bytes += r.text.len();
        oldest_id = row.get(10)?;
        recent.push(r);
    }
    recent.reverse();
    let older_before = recent.first().filter(|_| more).map(|r| r.at);
    // Every older undelivered one, held for a key change included (the store decides
    // from the pin whether it is held again or sent), through the partial index on
    // the undelivered states.
    let sql = format!(
        "SELECT {COLUMNS}, id FROM messages WHERE status IN ('pending', 'retrying', 'held') AND id < ?1"
    );
    let mut older = conn
        .prepare(&sql)?
        .query_map([oldest_id], with_id)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    older.sort_by_key(|(id, _)| *id);
    let mut records: Vec<Record> = older.into_iter().map(|(_, r)| r).collect();
    records.extend(recent);
    Ok((records, older_before))
}

fn with_id(row: &Row) -> rusqlite::Result<(i64, Record)> {
    Ok((row.get(10)?, record(row)?))
}

const COLUMNS: &str =
    "at_ms, peer_ip, peer_port, team, outgoing, text, msg_id, status, reason, claimed_ip";

fn record(row: &Row) -> rusqlite::Result<Record> {
    let at_ms: i64 = row.get(0)?;
    let ip: String = row.get(1)?;
    let outgoing: bool = row.get(4)?;
    let status: Option<String> = row.get(7)?;
    let reason: Option<String> = row.get(8)?;
    let claimed: Option<String> = row.get(9)?;
    Ok(Record {
        at: Utc
            .timestamp_millis_opt(at_ms)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH),
        peer: PeerKey::new(
            ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0])),
            row.get(2)?,
            row.get::<_, String>(3)?,
        ),
        outgoing,
        text: row.get(5)?,
        msg_id: row.get::<_, Option<i64>>(6)?.map(|n| MsgId(n as u64)),
        delivery: status.map(|s| delivery_from(&s, reason)),
        claimed_ip: claimed.and_then(|c| c.parse().ok()),
    })
}

pub(crate) fn delivery_from(status: &str, reason: Option<String>) -> Delivery {
    let reason = reason.unwrap_or_default();
    match status {
        "delivered" => Delivery::Delivered,
        "failed" => Delivery::Failed { reason },
        "dropped" => Delivery::Dropped,
        "held" => Delivery::Held { reason },
        "retrying" => Delivery::Retrying { attempt: 0, reason },
        _ => Delivery::Pending,
    }
}

/// Read queries on their own connection (WAL lets them run beside the writer).
#[derive(Clone)]
pub struct Reader(Arc<Mutex<Connection>>);

impl Reader {
    /// The last `limit` messages with a peer address, oldest first: through the
    /// conversation index for the rows it covers, by scanning the newer ones.
    pub fn conversation(&self, ip: IpAddr, port: u16, limit: usize) -> Result<Vec<Record>, String> {
        let conn = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let sql = format!(
            "SELECT {COLUMNS} FROM (
                SELECT * FROM messages WHERE id IN (SELECT id FROM peer_index
                    WHERE peer_ip = ?1 AND peer_port = ?2 ORDER BY id DESC LIMIT ?3)
                UNION ALL
                SELECT * FROM messages WHERE id > (SELECT peers_to FROM search_index WHERE id = 0)
                    AND peer_ip = ?1 AND peer_port = ?2
                ORDER BY id DESC LIMIT ?3) ORDER BY id"
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(params![ip.to_string(), port, limit as i64], record)
            .map_err(|e| e.to_string())?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| e.to_string())
    }

    /// Up to `limit` messages from before `before`, oldest first (scrolling back).
    pub fn before(&self, before: DateTime<Utc>, limit: usize) -> Result<Vec<Record>, String> {
        let conn = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let sql = format!(
            "SELECT {COLUMNS} FROM (SELECT * FROM messages WHERE at_ms < ?1
             ORDER BY at_ms DESC, id DESC LIMIT ?2) ORDER BY at_ms, id"
        );
        let mut stmt = conn.prepare(&sql).map_err(|e| e.to_string())?;
        let rows = stmt
            .query_map(params![before.timestamp_millis(), limit as i64], record)
            .map_err(|e| e.to_string())?;
        rows.collect::<rusqlite::Result<_>>()
            .map_err(|e| e.to_string())
    }

    /// Search over every message, newest first: each word of the query must appear,
    /// anywhere in the text (inside words, Chinese and Japanese text too); the query is
    /// never parsed as FTS5 syntax.
    pub fn search(&self, query: &str, limit: usize) -> Result<Vec<Record>, String> {
        let conn = self.0.lock().unwrap_or_else(|e| e.into_inner());
        search::find(&conn, query, limit).map_err(|e| e.to_string())
    }
}

#[cfg(test)]
mod tests;
