//! Search with the real binary: substrings inside words and Chinese/Japanese text are
//! found through the headless `search` command, and an older history (schema 1, no
//! substring index) is indexed in the background after the upgrade.

mod support;

use rusqlite::{Connection, OpenFlags};
use serde_json::json;
use support::{Headless, WAIT, send_acknowledged};

/// The texts of the hits of a headless search, newest first.
async fn search(a: &mut Headless, query: &str) -> Vec<String> {
    a.cmd(json!({"cmd": "search", "query": query})).await;
    let v = a.expect("search", |v| v["query"] == query).await;
    v["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap().to_string())
        .collect()
}

/// How far the search index has come, read beside the running brigade.
fn indexed_to(db: &std::path::Path) -> i64 {
    let conn = Connection::open_with_flags(db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    conn.query_row("SELECT indexed_to FROM search_index", [], |r| r.get(0))
        .unwrap()
}

/// Polls (each poll a real query) until the index covers `rows` rows.
async fn wait_indexed(db: &std::path::Path, rows: i64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    while indexed_to(db) < rows {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the index never caught up: {} of {rows}",
            indexed_to(db)
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

const TEXTS: [&str; 4] = [
    "an unbelievable tale",
    "東京タワーに行きました",
    "我们明天见面吧",
    "nothing to see",
];

async fn assert_found(a: &mut Headless) {
    assert_eq!(search(a, "believ").await, ["an unbelievable tale"]);
    assert_eq!(search(a, "ELIEVABLE TAL").await, ["an unbelievable tale"]);
    assert_eq!(search(a, "タワー").await, ["東京タワーに行きました"]);
    // Two characters: shorter than a trigram, found by the scan.
    assert_eq!(search(a, "明天").await, ["我们明天见面吧"]);
    assert_eq!(search(a, "n").await.len(), 2);
    assert!(search(a, "believ 明天").await.is_empty());
    // Not a pattern: % and _ are plain characters.
    assert!(search(a, "%").await.is_empty());
    assert!(search(a, "_").await.is_empty());
    assert!(search(a, "b_e").await.is_empty());
}

#[tokio::test]
async fn substrings_and_cjk_are_found_before_and_after_indexing() {
    let mut a = Headless::start("A", &[]).await;
    let to_a = a.addr.parse().unwrap();
    for text in TEXTS {
        assert!(send_acknowledged(to_a, format!("127.0.0.1:9 C {text}").as_bytes()).await);
    }
    // Whether the writer has indexed them yet or not.
    assert_found(&mut a).await;
    let db = a.data.join("history.db");
    wait_indexed(&db, 4).await;
    assert_found(&mut a).await;
}

/// Schema 1, as brigade 0.x wrote it: word index only, filled by a trigger.
const SCHEMA_1: &str = "CREATE TABLE messages (
        id INTEGER PRIMARY KEY, at_ms INTEGER NOT NULL, peer_ip TEXT NOT NULL,
        peer_port INTEGER NOT NULL, team TEXT NOT NULL, outgoing INTEGER NOT NULL,
        text TEXT NOT NULL, msg_id INTEGER UNIQUE, status TEXT, reason TEXT, claimed_ip TEXT);
    CREATE INDEX messages_peer ON messages (peer_ip, peer_port, id);
    CREATE INDEX messages_undelivered ON messages (status) WHERE status IN ('pending', 'retrying');
    CREATE VIRTUAL TABLE messages_fts USING fts5 (text, content = 'messages', content_rowid = 'id', detail = none);
    CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
        INSERT INTO messages_fts (rowid, text) VALUES (new.id, new.text);
    END;
    PRAGMA user_version = 1;";

#[tokio::test]
async fn an_older_history_is_indexed_after_the_upgrade_and_across_a_restart() {
    let sandbox = support::Sandbox::new();
    let data = sandbox.data();
    std::fs::create_dir_all(&data).unwrap();
    let db = data.join("history.db");
    // More rows than one indexing step takes, so catching up spans transactions.
    let filler = 5_000;
    {
        let mut conn = Connection::open(&db).unwrap();
        conn.execute_batch(SCHEMA_1).unwrap();
        let tx = conn.transaction().unwrap();
        let mut insert = tx
            .prepare(
                "INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text)
                 VALUES (?1, '127.0.0.1', 9, 'C', 0, ?2)",
            )
            .unwrap();
        for n in 0..filler {
            insert
                .execute(rusqlite::params![
                    1_700_000_000_000i64 + n,
                    format!("filler {n}")
                ])
                .unwrap();
        }
        for (n, text) in TEXTS.iter().enumerate() {
            insert
                .execute(rusqlite::params![1_800_000_000_000i64 + n as i64, text])
                .unwrap();
        }
        drop(insert);
        tx.commit().unwrap();
    }
    let rows = filler + TEXTS.len() as i64;

    let mut a = Headless::start_on("A", &data, &[]).await;
    assert_found(&mut a).await;
    // Stop before the index may have caught up; a restart carries on from where it was.
    let _keep = a.quit().await;
    let mut a = Headless::start_on("A", &data, &[]).await;
    wait_indexed(&db, rows).await;
    assert_found(&mut a).await;
    let conn = Connection::open_with_flags(&db, OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap();
    let through_index: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM messages_tri WHERE messages_tri MATCH '\"タワー\"'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(through_index, 1);
}
