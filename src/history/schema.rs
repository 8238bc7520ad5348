//! The database schema, versioned with `PRAGMA user_version` from the first release.
//! Each migration runs once, in order, inside a transaction.

use rusqlite::Connection;

/// Migrations in order; the database's `user_version` counts how many have run.
const MIGRATIONS: &[&str] = &[
    // 1: messages (both directions) with full-text search over their text.
    "CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        at_ms INTEGER NOT NULL,
        peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL,
        team TEXT NOT NULL,
        outgoing INTEGER NOT NULL,
        text TEXT NOT NULL,
        msg_id INTEGER UNIQUE,
        status TEXT,
        reason TEXT,
        claimed_ip TEXT
    );
    CREATE INDEX messages_peer ON messages (peer_ip, peer_port, id);
    CREATE INDEX messages_undelivered ON messages (status) WHERE status IN ('pending', 'retrying');
    CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'id', detail = none);
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;",
    // 2: substring search (words, parts of words, Chinese and Japanese text) through a
    // trigram index, kept off the commit path: the writer indexes what it committed in a
    // following transaction, and `search_index.indexed_to` says how far it got. An
    // existing history is indexed in the background from start-up; until it is, search
    // scans the unindexed rows (see `search::find`).
    "DROP TRIGGER messages_fts_insert;
    DROP TABLE messages_fts;
    CREATE VIRTUAL TABLE messages_tri USING fts5 (text, content = 'messages', content_rowid = 'id', tokenize = 'trigram');
    CREATE TABLE search_index (id INTEGER PRIMARY KEY CHECK (id = 0), indexed_to INTEGER NOT NULL);
    INSERT INTO search_index (id, indexed_to) VALUES (0, 0);",
    // 3: pinned keys (trust on first use), one per peer; `changed` holds a key seen
    // since and not yet trusted.
    "CREATE TABLE pins (
        peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL,
        team TEXT NOT NULL,
        key BLOB NOT NULL,
        changed BLOB,
        verified INTEGER NOT NULL,
        downgraded INTEGER NOT NULL DEFAULT 0,
        offered INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (peer_ip, peer_port, team)
    );",
    // 4: compose drafts, one per conversation ("All peers": the empty address), kept
    // across restarts.
    "CREATE TABLE drafts (
        peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL,
        team TEXT NOT NULL,
        text TEXT NOT NULL,
        PRIMARY KEY (peer_ip, peer_port, team)
    );",
    // 5: the user's notes on peers: a local alias, and when the peer was forgotten
    // (its messages until then are not listed again at start-up).
    "CREATE TABLE peer_notes (
        peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL,
        team TEXT NOT NULL,
        alias TEXT,
        forgotten_ms INTEGER,
        PRIMARY KEY (peer_ip, peer_port, team)
    );",
    // 6: messages held for a changed key are undelivered too: the index start-up reads
    // every undelivered message through covers them, whatever their age.
    "DROP INDEX messages_undelivered;
    CREATE INDEX messages_undelivered ON messages (status) WHERE status IN ('pending', 'retrying', 'held');",
    // 7: a peer's messages (the conversation query) are found through `peer_index`, kept
    // off the commit path like the search index: the writer adds committed rows in its
    // index steps and `search_index.peers_to` says how far it got; the rows after it are
    // scanned. The index it replaces was updated inside every commit, and with many
    // peers each message dirtied a page of its own (README, Performance).
    "CREATE TABLE peer_index (
        peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL,
        id INTEGER NOT NULL,
        team TEXT NOT NULL,
        PRIMARY KEY (peer_ip, peer_port, id)
    ) WITHOUT ROWID;
    ALTER TABLE search_index ADD COLUMN peers_to INTEGER NOT NULL DEFAULT 0;
    DROP INDEX messages_peer;",
];

/// The schema version this build writes.
pub const VERSION: i64 = MIGRATIONS.len() as i64;

/// Brings the database up to [`VERSION`]. A database from a newer brigade is refused,
/// not downgraded.
pub fn migrate(conn: &mut Connection) -> Result<(), String> {
    let current: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(|e| e.to_string())?;
    if current > VERSION {
        return Err(format!(
            "the history was written by a newer brigade (schema {current}, this one knows {VERSION})"
        ));
    }
    for (n, sql) in MIGRATIONS.iter().enumerate().skip(current as usize) {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        tx.execute_batch(sql)
            .map_err(|e| format!("migration {}: {e}", n + 1))?;
        tx.pragma_update(None, "user_version", n as i64 + 1)
            .map_err(|e| e.to_string())?;
        tx.commit().map_err(|e| e.to_string())?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn migrations_run_once_and_record_the_version() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
    }

    #[test]
    fn a_history_at_schema_2_gains_the_pins_and_keeps_its_search_index() {
        // As the build before pins wrote it: messages and the trigram index.
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..2] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 2).unwrap();
        migrate(&mut conn).unwrap();
        let v: i64 = conn
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .unwrap();
        assert_eq!(v, VERSION);
        let tables: Vec<String> = conn
            .prepare("SELECT name FROM sqlite_master WHERE name IN ('pins', 'messages_tri') ORDER BY name")
            .unwrap()
            .query_map([], |r| r.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        assert_eq!(tables, ["messages_tri", "pins"]);
    }

    #[test]
    fn a_history_at_schema_3_gains_the_peer_notes_and_keeps_its_pins() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..3] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 3).unwrap();
        conn.execute(
            "INSERT INTO pins (peer_ip, peer_port, team, key, verified) VALUES ('10.0.0.2', 80, 'B', x'00', 0)",
            [],
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let (notes, pins): (i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM peer_notes), (SELECT COUNT(*) FROM pins)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        assert_eq!((notes, pins), (0, 1));
    }

    /// Upgrading to the lazy conversation index: the old index is gone, and the
    /// writer's index steps bring every existing row into the new one, whatever the
    /// search index had covered.
    #[test]
    fn a_history_at_schema_6_gets_its_conversation_index_built_by_the_index_steps() {
        let mut conn = Connection::open_in_memory().unwrap();
        for sql in &MIGRATIONS[..6] {
            conn.execute_batch(sql).unwrap();
        }
        conn.pragma_update(None, "user_version", 6).unwrap();
        for n in 1..=5 {
            conn.execute(
                "INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text)
                 VALUES (?1, '10.0.0.2', 80, 'B', 0, 'hello')",
                [n],
            )
            .unwrap();
        }
        conn.execute_batch(
            "INSERT INTO messages_tri (rowid, text) SELECT id, text FROM messages WHERE id <= 3;
             UPDATE search_index SET indexed_to = 3;",
        )
        .unwrap();
        migrate(&mut conn).unwrap();
        let old: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM sqlite_master WHERE name = 'messages_peer'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(old, 0);
        while super::super::search::index_step(&mut conn, 2).unwrap() {}
        let (indexed, covered, text_to): (i64, i64, i64) = conn
            .query_row(
                "SELECT (SELECT COUNT(*) FROM peer_index), peers_to, indexed_to FROM search_index",
                [],
                |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
            )
            .unwrap();
        assert_eq!((indexed, covered, text_to), (5, 5, 5));
    }

    #[test]
    fn a_newer_schema_is_refused() {
        let mut conn = Connection::open_in_memory().unwrap();
        conn.pragma_update(None, "user_version", VERSION + 1)
            .unwrap();
        assert!(migrate(&mut conn).unwrap_err().contains("newer brigade"));
    }
}
