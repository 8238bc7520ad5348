//! Pinned keys in the history (schema migration 3): written with the messages' group
//! commit, read once at start.

use rusqlite::{Connection, params};

use crate::event::{PeerKey, Pin, PublicKey};

pub(super) fn write(conn: &Connection, pin: &Pin) -> rusqlite::Result<()> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO pins (peer_ip, peer_port, team, key, changed, verified, downgraded, offered)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
         ON CONFLICT (peer_ip, peer_port, team)
         DO UPDATE SET key = ?4, changed = ?5, verified = ?6, downgraded = ?7, offered = ?8",
    )?;
    stmt.execute(params![
        pin.peer.ip.to_string(),
        pin.peer.port,
        pin.peer.team,
        pin.key.0.as_slice(),
        pin.changed.map(|k| k.0.to_vec()),
        pin.verified,
        pin.downgraded,
        pin.offered,
    ])?;
    Ok(())
}

pub(super) fn delete(conn: &Connection, peer: &PeerKey) -> rusqlite::Result<()> {
    conn.prepare_cached("DELETE FROM pins WHERE peer_ip = ?1 AND peer_port = ?2 AND team = ?3")?
        .execute(params![peer.ip.to_string(), peer.port, peer.team])?;
    Ok(())
}

/// Every pin; rows that do not parse (a hand-edited file) are skipped.
pub(super) fn load(conn: &Connection) -> rusqlite::Result<Vec<Pin>> {
    let mut stmt = conn.prepare(
        "SELECT peer_ip, peer_port, team, key, changed, verified, downgraded, offered FROM pins",
    )?;
    let rows = stmt.query_map([], |r| {
        Ok((
            r.get::<_, String>(0)?,
            r.get::<_, u16>(1)?,
            r.get::<_, String>(2)?,
            r.get::<_, Vec<u8>>(3)?,
            r.get::<_, Option<Vec<u8>>>(4)?,
            r.get::<_, bool>(5)?,
            r.get::<_, bool>(6)?,
            r.get::<_, bool>(7)?,
        ))
    })?;
    let mut pins = Vec::new();
    for row in rows {
        let (ip, port, team, key, changed, verified, downgraded, offered) = row?;
        let (Ok(ip), Some(key)) = (ip.parse(), PublicKey::from_slice(&key)) else {
            continue;
        };
        pins.push(Pin {
            peer: PeerKey::new(ip, port, team),
            key,
            changed: changed.as_deref().and_then(PublicKey::from_slice),
            verified,
            downgraded,
            offered,
        });
    }
    Ok(pins)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pins_are_written_replaced_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let mut opened = crate::history::open(dir.path()).unwrap();
        assert!(opened.pins.is_empty());
        let peer = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
        let first = Pin {
            peer: peer.clone(),
            key: PublicKey([1; 32]),
            changed: None,
            verified: false,
            downgraded: false,
            offered: true,
        };
        let later = Pin {
            changed: Some(PublicKey([2; 32])),
            verified: true,
            ..first.clone()
        };
        let tx = opened.writer_conn.transaction().unwrap();
        write(&tx, &first).unwrap();
        write(&tx, &later).unwrap();
        tx.commit().unwrap();
        drop(opened);
        let again = crate::history::open(dir.path()).unwrap();
        assert_eq!(again.pins, vec![later]);
    }
}
