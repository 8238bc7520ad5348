//! The history on real files in a temporary directory.

use chrono::{TimeZone, Utc};

use super::*;
use crate::event::{Notice, Persist};

fn rec(n: i64, outgoing: bool, text: &str, id: Option<u64>, delivery: Option<Delivery>) -> Record {
    Record {
        at: Utc.timestamp_millis_opt(1_780_000_000_000 + n).unwrap(),
        peer: PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B"),
        outgoing,
        text: text.into(),
        msg_id: id.map(MsgId),
        delivery,
        claimed_ip: None,
    }
}

fn write(dir: &Path, writes: &[Persist]) {
    let mut opened = open(dir).unwrap();
    writer::write_for_test(&mut opened.writer_conn, writes).unwrap();
}

#[test]
fn messages_round_trip_through_a_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let r1 = rec(1, false, "Hi from B", None, None);
    let r2 = rec(2, true, "Hi from A", Some(1), Some(Delivery::Pending));
    write(
        dir.path(),
        &[Persist::Message(r1.clone()), Persist::Message(r2.clone())],
    );
    write(
        dir.path(),
        &[Persist::Status {
            id: MsgId(1),
            status: Delivery::Delivered,
        }],
    );
    let opened = open(dir.path()).unwrap();
    let mut want2 = r2;
    want2.delivery = Some(Delivery::Delivered);
    assert_eq!(opened.records, vec![r1, want2]);
}

#[test]
fn a_repeated_outgoing_message_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let r = rec(1, true, "once", Some(7), Some(Delivery::Pending));
    write(
        dir.path(),
        &[Persist::Message(r.clone()), Persist::Message(r)],
    );
    assert_eq!(open(dir.path()).unwrap().records.len(), 1);
}

#[test]
fn undelivered_messages_load_even_when_old() {
    let dir = tempfile::tempdir().unwrap();
    let mut writes = vec![Persist::Message(rec(
        0,
        true,
        "old and pending",
        Some(1),
        Some(Delivery::Pending),
    ))];
    for n in 1..=(LOAD_RECENT as i64 + 5) {
        writes.push(Persist::Message(rec(n, false, "filler", None, None)));
    }
    write(dir.path(), &writes);
    let records = open(dir.path()).unwrap().records;
    assert_eq!(records.len(), LOAD_RECENT + 1);
    assert_eq!(records[0].text, "old and pending");
}

#[test]
fn held_messages_to_a_pinned_peer_load_even_when_old() {
    let dir = tempfile::tempdir().unwrap();
    let key = crate::event::PublicKey([5; 32]);
    let mut writes = vec![
        Persist::Pin(crate::event::Pin {
            peer: PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B"),
            key,
            changed: Some(crate::event::PublicKey([6; 32])),
            verified: false,
            downgraded: false,
            offered: true,
        }),
        Persist::Message(rec(
            0,
            true,
            "old, pending",
            Some(1),
            Some(Delivery::Pending),
        )),
        Persist::Message(rec(1, true, "old, held", Some(2), Some(Delivery::held()))),
        Persist::Message(rec(
            2,
            true,
            "old, delivered",
            Some(3),
            Some(Delivery::Delivered),
        )),
    ];
    for n in 3..=(LOAD_RECENT as i64 + 5) {
        writes.push(Persist::Message(rec(n, false, "filler", None, None)));
    }
    write(dir.path(), &writes);
    let records = open(dir.path()).unwrap().records;
    assert_eq!(records.len(), LOAD_RECENT + 2);
    assert_eq!(records[0].text, "old, pending");
    assert_eq!(records[1].text, "old, held");
    assert_eq!(records[1].delivery, Some(Delivery::held()));
    assert_eq!(records[2].text, "filler");
}

#[test]
fn search_matches_words_and_prefixes_and_ignores_syntax() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[
            Persist::Message(rec(
                1,
                false,
                "are you coming to the lab at five?",
                None,
                None,
            )),
            Persist::Message(rec(
                2,
                true,
                "the router is in the lab",
                Some(1),
                Some(Delivery::Delivered),
            )),
            Persist::Message(rec(3, false, "see you", None, None)),
        ],
    );
    let reader = open(dir.path()).unwrap().reader;
    let texts = |q: &str| -> Vec<String> {
        reader
            .search(q, 10)
            .unwrap()
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(
        texts("lab"),
        [
            "the router is in the lab",
            "are you coming to the lab at five?"
        ]
    );
    assert_eq!(texts("rout"), ["the router is in the lab"]);
    assert_eq!(texts("lab five"), ["are you coming to the lab at five?"]);
    assert!(texts("\"unbalanced AND ( OR").is_empty());
    assert!(texts("   ").is_empty());
}

/// A peer's messages come through the conversation index for the rows it covers and by
/// scanning the newer ones: either way per address, oldest first, the newest `limit`.
#[test]
fn conversation_is_per_address_oldest_first_and_limited() {
    let dir = tempfile::tempdir().unwrap();
    let mut other = rec(0, false, "from C", None, None);
    other.peer = PeerKey::new("10.0.0.3".parse().unwrap(), 8080, "C");
    let m = |n: i64| Persist::Message(rec(n, false, &format!("m{n}"), None, None));
    let mut opened = open(dir.path()).unwrap();
    let writes = [Persist::Message(other), m(1), m(2), m(3)];
    writer::write_for_test(&mut opened.writer_conn, &writes).unwrap();
    while search::index_step(&mut opened.writer_conn, 2).unwrap() {}
    let covered: i64 = opened
        .writer_conn
        .query_row("SELECT COUNT(*) FROM peer_index", [], |r| r.get(0))
        .unwrap();
    assert_eq!(covered, 4, "every committed row is indexed");
    writer::write_for_test(&mut opened.writer_conn, &[m(4), m(5)]).unwrap();
    let got = |limit: usize| -> Vec<String> {
        opened
            .reader
            .conversation("10.0.0.2".parse().unwrap(), 8080, limit)
            .unwrap()
            .into_iter()
            .map(|r| r.text)
            .collect()
    };
    assert_eq!(got(3), ["m3", "m4", "m5"]);
    assert_eq!(got(10), ["m1", "m2", "m3", "m4", "m5"]);
    assert_eq!(got(1), ["m5"]);
}

#[test]
fn a_second_open_of_the_same_directory_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let _first = open(dir.path()).unwrap();
    match open(dir.path()) {
        Err(OpenError::Locked(msg)) => assert!(msg.contains("--data-dir"), "{msg}"),
        other => panic!("expected Locked, got {:?}", other.err()),
    }
}

#[test]
fn a_damaged_file_is_reported_and_left_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(DB_FILE);
    let junk = b"this is not a database, but someone's notes\n".repeat(200);
    std::fs::write(&path, &junk).unwrap();
    match open(dir.path()) {
        Err(OpenError::Unavailable(msg)) => assert!(msg.contains("left as it is"), "{msg}"),
        other => panic!("expected Unavailable, got {:?}", other.err()),
    }
    assert_eq!(std::fs::read(&path).unwrap(), junk);
}

#[test]
fn older_pages_come_from_before_the_recent_window() {
    let dir = tempfile::tempdir().unwrap();
    let writes: Vec<Persist> = (0..(LOAD_RECENT as i64 + 10))
        .map(|n| Persist::Message(rec(n, false, &format!("m{n}"), None, None)))
        .collect();
    write(dir.path(), &writes);
    let opened = open(dir.path()).unwrap();
    let boundary = opened.older_before.expect("older messages exist");
    assert_eq!(opened.records[0].at, boundary);
    let page = opened.reader.before(boundary, 4).unwrap();
    let texts: Vec<&str> = page.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(texts, ["m6", "m7", "m8", "m9"]);
}

#[test]
fn a_small_history_has_nothing_older() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        &[Persist::Message(rec(1, false, "only", None, None))],
    );
    assert_eq!(open(dir.path()).unwrap().older_before, None);
}

/// A full disk (SQLite's max_page_count makes a real SQLITE_FULL): the fault is
/// reported, and a receipt waiting on the write is refused (its sender will see a
/// reset). Recovery: `a_failed_write_is_given_up_and_the_next_good_write_recovers`.
#[tokio::test]
async fn a_full_disk_is_reported_and_receipts_are_refused() {
    use crate::net::{Node, Receipt};
    let dir = tempfile::tempdir().unwrap();
    let opened = open(dir.path()).unwrap();
    let pages: i64 = opened
        .writer_conn
        .query_row("PRAGMA page_count", [], |r| r.get(0))
        .unwrap();
    opened
        .writer_conn
        .pragma_update(None, "max_page_count", pages)
        .unwrap();
    let (node, _events) = Node::on_loopback();
    let (notes_tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let writer = Writer::start(opened.writer_conn, node.sender(), notes_tx);
    let big = "x".repeat(64 * 1024);
    let (receipt, answer) = Receipt::pair(&node.watermark());
    writer.persist(
        Persist::Message(rec(1, false, &big, None, None)),
        Some(receipt),
    );
    let stored = tokio::time::timeout(std::time::Duration::from_secs(10), answer.stored())
        .await
        .unwrap();
    assert!(
        !stored,
        "a receipt must not say stored when the write failed"
    );
    let note = tokio::time::timeout(std::time::Duration::from_secs(10), notes.recv())
        .await
        .unwrap()
        .unwrap();
    match note {
        HistoryNote::Fault(text) => assert!(text.contains("full"), "{text}"),
        other => panic!("expected a fault, got {other:?}"),
    }
}

/// A write that fails (the database locked by another connection) is given up, never
/// kept: its receipt is refused, the fault is reported once, the message never lands
/// later (its sender was told "not stored"), an outgoing message in it is reported
/// failed instead of sent and its `pending` never told; the first write that succeeds
/// again reports `Recovered` and its receipt is honoured.
#[tokio::test]
async fn a_failed_write_is_given_up_and_the_next_good_write_recovers() {
    use crate::net::{Node, Receipt};
    use std::time::Duration;
    let wait = Duration::from_secs(10);
    let dir = tempfile::tempdir().unwrap();
    let opened = open(dir.path()).unwrap();
    opened
        .writer_conn
        .busy_timeout(Duration::from_millis(10))
        .unwrap();
    let other = Connection::open(dir.path().join(DB_FILE)).unwrap();

    let (node, _events) = Node::on_loopback();
    let (notes_tx, mut notes) = tokio::sync::mpsc::unbounded_channel();
    let writer = Writer::start(opened.writer_conn, node.sender(), notes_tx);
    // A received message's write, with its receipt: what the connection waits on.
    let received = |writer: &Writer, n: i64, text: &str| {
        let (receipt, answer) = Receipt::pair(&node.watermark());
        writer.persist(
            Persist::Message(rec(n, false, text, None, None)),
            Some(receipt),
        );
        answer.stored()
    };
    let count = |c: &Connection, text: &str| -> i64 {
        c.query_row(
            "SELECT count(*) FROM messages WHERE text = ?1",
            [text],
            |r| r.get(0),
        )
        .unwrap()
    };

    // Stored before the lock: its receipt is honoured, even when its connection
    // looks only after a later batch failed.
    let first = received(&writer, 1, "stored first");
    writer.flush(wait);
    other.execute_batch("BEGIN IMMEDIATE").unwrap();

    let refused = received(&writer, 2, "given up");
    assert!(!tokio::time::timeout(wait, refused).await.unwrap());
    assert!(tokio::time::timeout(wait, first).await.unwrap());
    let note = tokio::time::timeout(wait, notes.recv()).await.unwrap();
    assert!(
        matches!(&note, Some(HistoryNote::Fault(t)) if t.contains("locked")),
        "{note:?}"
    );
    // An outgoing message whose row fails: not sent, reported failed, no `pending`.
    let id = MsgId(7);
    let to: std::net::SocketAddr = "127.0.0.1:9".parse().unwrap();
    writer.persist(
        Persist::Message(rec(3, true, "not sent", Some(7), None)),
        None,
    );
    writer.notify(Notice::Delivery {
        to,
        id,
        status: Delivery::Pending,
    });
    writer.send(id, to, "not sent".into());
    let note = tokio::time::timeout(wait, notes.recv()).await.unwrap();
    assert!(
        matches!(&note, Some(HistoryNote::SendFailed { id: i, reason, .. }) if *i == id && reason.contains("could not be stored")),
        "{note:?}"
    );
    assert_eq!(count(&other, "given up"), 0);

    other.execute_batch("ROLLBACK").unwrap();
    let after = received(&writer, 4, "after");
    assert!(tokio::time::timeout(wait, after).await.unwrap());
    let note = tokio::time::timeout(wait, notes.recv()).await.unwrap();
    assert_eq!(
        note,
        Some(HistoryNote::Recovered),
        "one fault, then recovery"
    );
    writer.flush(wait);
    assert_eq!(count(&other, "after"), 1);
    assert_eq!(
        count(&other, "given up"),
        0,
        "a refused message landed later"
    );
    assert_eq!(count(&other, "not sent"), 0);
}

/// Issue 13 point 4: a history of large messages loads no more than the window's bytes
/// (read newest first, and no further), and says where older pages start.
#[test]
fn start_up_loads_at_most_the_window_in_bytes() {
    let dir = tempfile::tempdir().unwrap();
    let big = "b".repeat(64 * 1024);
    let n = 3 * LOAD_BYTES / big.len();
    let mut writes = vec![Persist::Message(rec(
        0,
        true,
        "old and pending",
        Some(1),
        Some(Delivery::Pending),
    ))];
    for i in 1..=n as i64 {
        writes.push(Persist::Message(rec(
            i,
            false,
            &format!("{i} {big}"),
            None,
            None,
        )));
    }
    write(dir.path(), &writes);
    let opened = open(dir.path()).unwrap();
    let bytes: usize = opened.records.iter().map(|r| r.text.len()).sum();
    assert!(bytes <= LOAD_BYTES + 64, "{bytes}");
    assert!(bytes >= LOAD_BYTES - 2 * big.len(), "{bytes}");
    assert_eq!(opened.records[0].text, "old and pending");
    let last = opened.records.last().unwrap();
    assert!(last.text.starts_with(&format!("{n} ")));
    let boundary = opened.older_before.expect("older messages exist");
    assert_eq!(opened.records[1].at, boundary);
}

/// The writer keeps the search index caught up with what it commits: rows written
/// after start-up are indexed once the writer has a moment with nothing to do (or
/// enough rows gathered), not left to the scan of the unindexed tail (which keeps
/// search complete, but slow on a large history).
#[tokio::test]
async fn committed_rows_are_indexed_and_checkpointed_once_the_writer_is_idle() {
    use crate::net::Node;
    use std::time::{Duration, Instant};
    let wait = Duration::from_secs(10);
    let dir = tempfile::tempdir().unwrap();
    let opened = open(dir.path()).unwrap();
    let (node, _events) = Node::on_loopback();
    let (notes_tx, _notes) = tokio::sync::mpsc::unbounded_channel();
    let writer = Writer::start(opened.writer_conn, node.sender(), notes_tx);
    let other = Connection::open(dir.path().join(DB_FILE)).unwrap();
    let lag = |c: &Connection| -> i64 {
        c.query_row(
            "SELECT (SELECT max(id) FROM messages)
                - (SELECT min(indexed_to, peers_to) FROM search_index)",
            [],
            |r| r.get(0),
        )
        .unwrap()
    };
    // Rows in the database file itself, without its write-ahead log: what the
    // checkpoints have folded in (None while a checkpoint is half done).
    let folded = || -> Option<i64> {
        let copy = tempfile::tempdir().ok()?;
        std::fs::copy(dir.path().join(DB_FILE), copy.path().join(DB_FILE)).ok()?;
        let c = Connection::open(copy.path().join(DB_FILE)).ok()?;
        c.query_row("SELECT COUNT(*) FROM messages", [], |r| r.get(0))
            .ok()
    };
    for round in 0..3 {
        for n in 0..5 {
            let text = format!("round {round} message {n}");
            let record = rec(round * 10 + n, false, &text, None, None);
            writer.persist(Persist::Message(record), None);
        }
        writer.flush(wait);
        let deadline = Instant::now() + wait;
        while lag(&other) > 0 {
            assert!(
                Instant::now() < deadline,
                "round {round}: rows committed and never indexed"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
    // Checkpoints follow the index steps: the log does not keep what was written.
    let deadline = Instant::now() + wait;
    while folded() != Some(15) {
        assert!(
            Instant::now() < deadline,
            "never checkpointed: {:?}",
            folded()
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// A burst's writes reach the thread together when the gather ends, not one by one:
/// until then nothing of it is committed, not even past a flush queued meanwhile; then
/// every receipt in it says stored, and the rows keep the order they were gathered in.
#[tokio::test]
async fn a_gathered_burst_is_handed_off_whole_when_the_gather_ends() {
    use crate::net::{Node, Receipt};
    let wait = std::time::Duration::from_secs(10);
    let dir = tempfile::tempdir().unwrap();
    let opened = open(dir.path()).unwrap();
    let (node, _events) = Node::on_loopback();
    let (notes_tx, _notes) = tokio::sync::mpsc::unbounded_channel();
    let writer = Writer::start(opened.writer_conn, node.sender(), notes_tx);
    let reader = opened.reader;
    let mut answers = Vec::new();
    let mut gather = writer.gather();
    for n in 1..=3 {
        let (receipt, answer) = Receipt::pair(&node.watermark());
        let text = format!("burst {n}");
        gather.persist(
            Persist::Message(rec(n, false, &text, None, None)),
            Some(receipt),
        );
        answers.push(answer.stored());
    }
    // The flush does not wait on the gather: it goes ahead of the burst.
    let flush = {
        let writer = writer.clone();
        std::thread::spawn(move || writer.flush(wait))
    };
    flush.join().unwrap();
    let peer = "10.0.0.2".parse().unwrap();
    assert!(reader.conversation(peer, 8080, 10).unwrap().is_empty());
    drop(gather);
    for answer in answers {
        assert!(tokio::time::timeout(wait, answer).await.unwrap());
    }
    let texts: Vec<String> = reader
        .conversation(peer, 8080, 10)
        .unwrap()
        .into_iter()
        .map(|r| r.text)
        .collect();
    assert_eq!(texts, ["burst 1", "burst 2", "burst 3"]);
}
