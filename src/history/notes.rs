//! The user's notes on peers (schema migration 5): local aliases and forgotten peers,
//! written with the messages' group commit, read once at start.

use chrono::{DateTime, TimeZone, Utc};
use rusqlite::{Connection, params};

use crate::event::{PeerKey, PeerNote};

pub(super) fn alias(
    conn: &Connection,
    peer: &PeerKey,
    alias: Option<&str>,
) -> rusqlite::Result<()> {
    conn.prepare_cached(
        "INSERT INTO peer_notes (peer_ip, peer_port, team, alias) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT (peer_ip, peer_port, team) DO UPDATE SET alias = ?4",
    )?
    .execute(params![peer.ip.to_string(), peer.port, peer.team, alias])?;
    Ok(())
}

/// Forgets a peer: no alias, no pin, no draft, the time it was forgotten; with `delete`, its
/// messages leave the table and the search index.
pub(super) fn forget(
    conn: &Connection,
    peer: &PeerKey,
    at: DateTime<Utc>,
    delete: bool,
) -> rusqlite::Result<()> {
    let key = params![peer.ip.to_string(), peer.port, peer.team];
    conn.prepare_cached(
        "INSERT INTO peer_notes (peer_ip, peer_port, team, alias, forgotten_ms) VALUES (?1, ?2, ?3, NULL, ?4)
         ON CONFLICT (peer_ip, peer_port, team) DO UPDATE SET alias = NULL, forgotten_ms = ?4",
    )?
    .execute(params![
        peer.ip.to_string(),
        peer.port,
        peer.team,
        at.timestamp_millis()
    ])?;
    super::pins::delete(conn, peer)?;
    // Its draft goes with it: a forgotten peer leaves nothing typed for it behind.
    super::drafts::write(
        conn,
        &crate::event::Draft {
            peer: Some(peer.clone()),
            text: String::new(),
        },
    )?;
    if delete {
        // The indexed rows leave the (external content) index with their old text.
        conn.prepare_cached(
            "INSERT INTO messages_tri (messages_tri, rowid, text)
             SELECT 'delete', id, text FROM messages
             WHERE peer_ip = ?1 AND peer_port = ?2 AND team = ?3
               AND id <= (SELECT indexed_to FROM search_index WHERE id = 0)",
        )?
        .execute(key)?;
        conn.prepare_cached(
            "DELETE FROM messages WHERE peer_ip = ?1 AND peer_port = ?2 AND team = ?3",
        )?
        .execute(key)?;
        conn.prepare_cached(
            "DELETE FROM peer_index WHERE peer_ip = ?1 AND peer_port = ?2 AND team = ?3",
        )?
        .execute(key)?;
        // SQLite gives a new row the next id after the largest left: once the newest
        // rows are deleted, their ids come back. The indexes' marks must not stay above
        // them, or a new message with a reused id would be neither indexed nor scanned.
        conn.prepare_cached(
            "UPDATE search_index SET
                indexed_to = MIN(indexed_to, (SELECT IFNULL(MAX(id), 0) FROM messages)),
                peers_to = MIN(peers_to, (SELECT IFNULL(MAX(id), 0) FROM messages))
             WHERE id = 0",
        )?
        .execute([])?;
        // FTS5 deletes are tombstones until segments merge: merge them now, so the
        // trigrams of the deleted text leave the file too (a rare, user-asked cost).
        conn.execute(
            "INSERT INTO messages_tri (messages_tri) VALUES ('optimize')",
            [],
        )?;
    }
    Ok(())
}

/// Every note; rows that do not parse (a hand-edited file) are skipped.
pub(super) fn load(conn: &Connection) -> rusqlite::Result<Vec<PeerNote>> {
    let mut stmt =
        conn.prepare("SELECT peer_ip, peer_port, team, alias, forgotten_ms FROM peer_notes")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u16>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Option<String>>(3)?,
            r.get::<_, Option<i64>>(4)?,
        ))
    })?;
    let mut notes = Vec::new();
    for row in rows {
        let (ip, port, team, alias, forgotten) = row?;
        let Ok(ip) = ip.parse() else { continue };
        notes.push(PeerNote {
            peer: PeerKey::new(ip, port, team),
            alias,
            forgotten: forgotten.and_then(|ms| Utc.timestamp_millis_opt(ms).single()),
        });
    }
    Ok(notes)
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::super::{open, search, writer};
    use crate::event::{PeerKey, PeerNote, Persist, Record};

    fn rec(peer: &PeerKey, n: i64, text: &str) -> Record {
        let at = Utc.timestamp_millis_opt(1_780_000_000_000 + n).unwrap();
        Record::received(at, peer.clone(), text)
    }

    #[test]
    fn aliases_and_forgotten_peers_survive_a_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        let at = Utc.timestamp_millis_opt(1_780_000_000_500).unwrap();
        {
            let mut opened = open(dir.path()).unwrap();
            let writes = [
                Persist::Alias {
                    peer: b.clone(),
                    alias: Some("Bob".into()),
                },
                Persist::Alias {
                    peer: b.clone(),
                    alias: Some("Bobby".into()),
                },
            ];
            writer::write_for_test(&mut opened.writer_conn, &writes).unwrap();
        }
        let notes = open(dir.path()).unwrap().notes;
        let want = PeerNote {
            peer: b.clone(),
            alias: Some("Bobby".into()),
            forgotten: None,
        };
        assert_eq!(notes, [want]);
        {
            let mut opened = open(dir.path()).unwrap();
            let forget = Persist::Forget {
                peer: b.clone(),
                at,
                delete: false,
            };
            writer::write_for_test(&mut opened.writer_conn, &[forget]).unwrap();
        }
        let notes = open(dir.path()).unwrap().notes;
        let want = PeerNote {
            peer: b,
            alias: None,
            forgotten: Some(at),
        };
        assert_eq!(notes, [want]);
    }

    #[test]
    fn forgetting_with_delete_removes_the_messages_and_their_search_entries() {
        let dir = tempfile::tempdir().unwrap();
        let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        let c = PeerKey::new("10.0.0.3".parse().unwrap(), 9, "C");
        let mut opened = open(dir.path()).unwrap();
        let writes = [
            Persist::Message(rec(&b, 1, "secret lab plans from B")),
            Persist::Message(rec(&c, 2, "lab at five from C")),
        ];
        writer::write_for_test(&mut opened.writer_conn, &writes).unwrap();
        // Indexed, so the index (not only the scan) must lose B's row.
        while search::index_step(&mut opened.writer_conn, 100).unwrap() {}
        let texts = |reader: &super::super::Reader, q: &str| -> Vec<String> {
            reader
                .search(q, 10)
                .unwrap()
                .into_iter()
                .map(|r| r.text)
                .collect()
        };
        assert_eq!(texts(&opened.reader, "lab").len(), 2);
        let forget = Persist::Forget {
            peer: b.clone(),
            at: Utc.timestamp_millis_opt(1_780_000_000_010).unwrap(),
            delete: true,
        };
        writer::write_for_test(&mut opened.writer_conn, &[forget]).unwrap();
        assert_eq!(texts(&opened.reader, "lab"), ["lab at five from C"]);
        assert!(texts(&opened.reader, "secret").is_empty());
        let conversation = opened.reader.conversation(b.ip, b.port, 10).unwrap();
        assert!(conversation.is_empty(), "{conversation:?}");
        let in_index: i64 = opened
            .writer_conn
            .query_row(
                "SELECT COUNT(*) FROM peer_index WHERE team = 'B'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(in_index, 0, "the conversation index loses B's rows too");
        // The external-content index still matches its table.
        opened
            .writer_conn
            .execute(
                "INSERT INTO messages_tri (messages_tri, rank) VALUES ('integrity-check', 1)",
                [],
            )
            .unwrap();
        drop(opened);
        let records = open(dir.path()).unwrap().records;
        let texts: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(texts, ["lab at five from C"]);
        // Nothing of it is left in the file (secure_delete, and the WAL checkpointed).
        let raw = std::fs::read(dir.path().join(super::super::DB_FILE)).unwrap();
        let needle = b"secret lab plans";
        assert!(!raw.windows(needle.len()).any(|w| w == needle));
    }

    /// Deleting the newest rows gives their ids back to the next messages: those must
    /// still be found, by the conversation query and by search.
    #[test]
    fn messages_after_a_delete_of_the_newest_rows_are_found() {
        let dir = tempfile::tempdir().unwrap();
        let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        let c = PeerKey::new("10.0.0.3".parse().unwrap(), 9, "C");
        let mut opened = open(dir.path()).unwrap();
        let writes = [
            Persist::Message(rec(&c, 1, "early from C")),
            Persist::Message(rec(&b, 2, "newest from B")),
            Persist::Message(rec(&b, 3, "newest again from B")),
        ];
        writer::write_for_test(&mut opened.writer_conn, &writes).unwrap();
        while search::index_step(&mut opened.writer_conn, 100).unwrap() {}
        let forget = Persist::Forget {
            peer: b.clone(),
            at: Utc.timestamp_millis_opt(1_780_000_000_010).unwrap(),
            delete: true,
        };
        writer::write_for_test(&mut opened.writer_conn, &[forget]).unwrap();
        let again = [Persist::Message(rec(&c, 11, "later from C"))];
        writer::write_for_test(&mut opened.writer_conn, &again).unwrap();
        let id: i64 = opened
            .writer_conn
            .query_row("SELECT MAX(id) FROM messages", [], |r| r.get(0))
            .unwrap();
        assert_eq!(id, 2, "SQLite reused the deleted id");
        let texts =
            |records: Vec<Record>| -> Vec<String> { records.into_iter().map(|r| r.text).collect() };
        let talk = opened.reader.conversation(c.ip, c.port, 10).unwrap();
        assert_eq!(texts(talk), ["early from C", "later from C"]);
        assert_eq!(
            texts(opened.reader.search("later", 10).unwrap()),
            ["later from C"]
        );
        while search::index_step(&mut opened.writer_conn, 100).unwrap() {}
        let talk = opened.reader.conversation(c.ip, c.port, 10).unwrap();
        assert_eq!(texts(talk), ["early from C", "later from C"]);
        assert_eq!(
            texts(opened.reader.search("later", 10).unwrap()),
            ["later from C"]
        );
    }
}
