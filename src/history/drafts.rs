//! Compose drafts in the history (schema migration 4): one per conversation, written
//! with the messages' group commit when the store says a draft changed (on leaving a
//! conversation and on quitting), read once at start.

use rusqlite::{Connection, params};

use crate::event::{Draft, PeerKey};

/// "All peers" is stored as the peer with no address.
const ALL: (&str, u16, &str) = ("", 0, "");

/// Stores `draft`; an empty text removes the conversation's row.
pub(super) fn write(conn: &Connection, draft: &Draft) -> rusqlite::Result<()> {
    let (ip, port, team) = match &draft.peer {
        Some(p) => (p.ip.to_string(), p.port, p.team.as_str()),
        None => (ALL.0.to_string(), ALL.1, ALL.2),
    };
    if draft.text.is_empty() {
        conn.prepare_cached(
            "DELETE FROM drafts WHERE peer_ip = ?1 AND peer_port = ?2 AND team = ?3",
        )?
        .execute(params![ip, port, team])?;
    } else {
        conn.prepare_cached(
            "INSERT INTO drafts (peer_ip, peer_port, team, text) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (peer_ip, peer_port, team) DO UPDATE SET text = ?4",
        )?
        .execute(params![ip, port, team, draft.text])?;
    }
    Ok(())
}

/// Every stored draft; rows whose address does not parse (a hand-edited file) are
/// skipped.
pub(super) fn load(conn: &Connection) -> rusqlite::Result<Vec<Draft>> {
    let mut stmt = conn.prepare("SELECT peer_ip, peer_port, team, text FROM drafts")?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u16>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, String>(3)?,
        ))
    })?;
    let mut drafts = Vec::new();
    for row in rows {
        let (ip, port, team, text) = row?;
        let peer = if (ip.as_str(), port, team.as_str()) == ALL {
            None
        } else {
            match ip.parse() {
                Ok(ip) => Some(PeerKey::new(ip, port, team)),
                Err(_) => continue,
            }
        };
        drafts.push(Draft { peer, text });
    }
    Ok(drafts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drafts_are_written_replaced_removed_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut opened = crate::history::open(dir.path()).unwrap();
        assert!(opened.drafts.is_empty());
        let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        let draft = |peer: Option<&PeerKey>, text: &str| Draft {
            peer: peer.cloned(),
            text: text.into(),
        };
        let writes = [
            draft(Some(&b), "first"),
            draft(Some(&b), "for B, second"),
            draft(None, "to everyone"),
            draft(None, "gone"),
            draft(None, ""),
            draft(None, "to all, line one\nline two"),
        ]
        .map(crate::event::Persist::Draft);
        crate::history::writer::write_for_test(&mut opened.writer_conn, &writes).unwrap();
        drop(opened);
        let mut drafts = crate::history::open(dir.path()).unwrap().drafts;
        drafts.sort_by_key(|d| d.peer.is_some());
        assert_eq!(
            drafts,
            [
                draft(None, "to all, line one\nline two"),
                draft(Some(&b), "for B, second")
            ]
        );
    }
}
