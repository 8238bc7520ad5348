//! Substring search over the history: a trigram full-text index (`messages_tri`, built
//! off the commit path by the writer, see [`index_step`]) for the rows it covers, and a
//! scan for the rows it does not cover yet and for terms too short to have a trigram.
//! The writer keeps the conversation index (`peer_index`) the same way.

use rusqlite::{Connection, params_from_iter, types::Value};

use super::{COLUMNS, record};
use crate::event::Record;

/// Rows the writer indexes per transaction while catching up, so a backlog (an older
/// history after the upgrade) never holds the writer for long.
pub const INDEX_CHUNK: i64 = 2_000;

/// The indexes kept off the commit path: each covers the committed rows up to its
/// column of `search_index`, and is brought up to date by [`index_step`].
const INDEXES: [(&str, &str); 2] = [
    (
        "indexed_to",
        "INSERT INTO messages_tri (rowid, text) SELECT id, text FROM messages WHERE id > ?1 AND id <= ?2",
    ),
    (
        "peers_to",
        "INSERT INTO peer_index (peer_ip, peer_port, id, team)
         SELECT peer_ip, peer_port, id, team FROM messages WHERE id > ?1 AND id <= ?2",
    ),
];

/// Adds up to `chunk` committed rows to each index that does not cover them yet, in
/// one transaction. True when more may remain.
pub fn index_step(conn: &mut Connection, chunk: i64) -> rusqlite::Result<bool> {
    let tx = conn.transaction()?;
    let mut more = false;
    for (column, insert) in INDEXES {
        // Cached statements: this runs after many commits, parsing them each time showed
        // in the profile.
        let from: i64 = tx
            .prepare_cached(&format!("SELECT {column} FROM search_index WHERE id = 0"))?
            .query_row([], |r| r.get(0))?;
        let (to, count): (Option<i64>, i64) = tx
            .prepare_cached(
                "SELECT MAX(id), COUNT(*) FROM (SELECT id FROM messages WHERE id > ?1 ORDER BY id LIMIT ?2)",
            )?
            .query_row([from, chunk], |r| Ok((r.get(0)?, r.get(1)?)))?;
        let Some(to) = to else {
            continue;
        };
        tx.prepare_cached(insert)?.execute([from, to])?;
        tx.prepare_cached(&format!(
            "UPDATE search_index SET {column} = ?1 WHERE id = 0"
        ))?
        .execute([to])?;
        more |= count >= chunk;
    }
    tx.commit()?;
    Ok(more)
}

/// The newest `limit` messages containing every whitespace-separated term of `query`
/// (case-insensitive for ASCII), newest first. The query is never parsed as FTS5
/// syntax or as a LIKE pattern.
pub fn find(conn: &Connection, query: &str, limit: usize) -> rusqlite::Result<Vec<Record>> {
    let mut terms: Vec<&str> = query.split_whitespace().collect();
    terms.sort_unstable();
    terms.dedup();
    if terms.is_empty() || limit == 0 {
        return Ok(Vec::new());
    }
    let indexed_to: i64 = conn.query_row(
        "SELECT indexed_to FROM search_index WHERE id = 0",
        [],
        |r| r.get(0),
    )?;
    // Rows not indexed yet are the newest: scan them first.
    let mut hits = scan(conn, &terms, indexed_to, limit)?;
    if hits.len() < limit {
        hits.extend(indexed(conn, &terms, indexed_to, limit - hits.len())?);
    }
    Ok(hits)
}

/// `LIKE` conditions for `terms`, their patterns appended to `args`.
fn likes(terms: &[&str], args: &mut Vec<Value>) -> String {
    terms
        .iter()
        .map(|t| {
            let escaped = t
                .replace('\\', "\\\\")
                .replace('%', "\\%")
                .replace('_', "\\_");
            args.push(Value::Text(format!("%{escaped}%")));
            " AND messages.text LIKE ? ESCAPE '\\'".to_string()
        })
        .collect()
}

/// The rows after `indexed_to`, by scanning.
fn scan(
    conn: &Connection,
    terms: &[&str],
    indexed_to: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Record>> {
    let mut args = vec![Value::Integer(indexed_to)];
    let cond = likes(terms, &mut args);
    args.push(Value::Integer(limit as i64));
    let sql = format!("SELECT {COLUMNS} FROM messages WHERE id > ?{cond} ORDER BY id DESC LIMIT ?");
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), record)?;
    rows.collect()
}

/// The rows up to `indexed_to`: through the trigram index when a term has three
/// characters or more (the others filter its hits), else by scanning newest first.
fn indexed(
    conn: &Connection,
    terms: &[&str],
    indexed_to: i64,
    limit: usize,
) -> rusqlite::Result<Vec<Record>> {
    let (long, short): (Vec<&str>, Vec<&str>) = terms.iter().partition(|t| t.chars().count() >= 3);
    let mut args = Vec::new();
    let sql = if long.is_empty() {
        args.push(Value::Integer(indexed_to));
        let cond = likes(&short, &mut args);
        format!("SELECT {COLUMNS} FROM messages WHERE id <= ?{cond} ORDER BY id DESC LIMIT ?")
    } else {
        let phrases: Vec<String> = long
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect();
        args.push(Value::Text(phrases.join(" ")));
        args.push(Value::Integer(indexed_to));
        let cond = likes(&short, &mut args);
        // The index walks its hits newest first; CROSS JOIN keeps it the outer loop.
        let columns: Vec<String> = COLUMNS
            .split(", ")
            .map(|c| format!("messages.{c}"))
            .collect();
        let columns = columns.join(", ");
        format!(
            "SELECT {columns} FROM messages_tri CROSS JOIN messages ON messages.id = messages_tri.rowid
             WHERE messages_tri MATCH ? AND messages_tri.rowid <= ?{cond}
             ORDER BY messages_tri.rowid DESC LIMIT ?"
        )
    };
    args.push(Value::Integer(limit as i64));
    let mut stmt = conn.prepare(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), record)?;
    rows.collect()
}
