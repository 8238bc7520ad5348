//! Issue 13, the honesty points, on the real binary: a clean close means committed,
//! `pending` means the outbox row is committed (it survives SIGKILL), a full disk
//! refuses with a reset and never stores later what it refused, a slow headless
//! consumer never stalls the network, and refusals are reported at most once a minute
//! per source and reason.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::{Value, json};
use support::*;
use tokio::process::Command;

/// The history database of a headless brigade, opened beside it.
fn db(dir: &std::path::Path) -> Connection {
    let path = dir.join("history.db");
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_WRITE).unwrap();
    conn.busy_timeout(Duration::from_secs(10)).unwrap();
    conn
}

fn count(conn: &Connection, sql: &str) -> i64 {
    conn.query_row(sql, [], |r| r.get(0)).unwrap()
}

/// `pending` is told only once the outbox row is committed: while the test holds the
/// database's write lock, the message is reported failed, never `pending`. A message
/// told `pending` survives a SIGKILL right after: restarted, brigade delivers it to
/// the peer that was offline.
#[tokio::test]
async fn pending_means_committed_and_survives_sigkill() {
    let mut a = Headless::start("A", &[]).await;
    let data = a.data.clone();
    let offline = Refusing::new();
    let to = offline.addr.to_string();
    let conn = db(&data);

    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "while locked"}))
        .await;
    let first = a.expect("delivery", |_| true).await;
    assert_eq!(
        first["status"], "failed",
        "told {first} while its row could not be committed"
    );
    conn.execute_batch("ROLLBACK").unwrap();

    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "queued then killed"}))
        .await;
    a.expect("delivery", |v| v["status"] == "pending").await;
    let sandbox = a.kill9().await;

    let mut c = offline.listen(None);
    let _b = Headless::start_on("A", &data, &[]).await;
    let text = c.next_text().await;
    assert!(text.ends_with("queued then killed"), "{text}");
    drop(sandbox);
}

/// The binary's path, for wrappers.
fn brigade_bin() -> &'static str {
    env!("CARGO_BIN_EXE_brigade")
}

/// Whether an unprivileged user and mount namespace can mount a tmpfs here.
fn tmpfs_possible() -> Result<(), String> {
    let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
    let out = std::process::Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs \"$0\""])
        .arg(dir.path())
        .output()
        .map_err(|e| format!("unshare cannot run: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).trim().to_string())
    }
}

/// Fills the file system `path` lies on until a write fails.
fn fill(path: &std::path::Path) {
    use std::io::Write;
    let mut f = std::fs::File::create(path).unwrap();
    let chunk = vec![0u8; 4096];
    while f.write_all(&chunk).and_then(|()| f.flush()).is_ok() {}
    let _ = f.sync_all();
}

/// A full disk, for real: brigade runs in a user and mount namespace with its data
/// directory on a small tmpfs, which the test fills (through `/proc/PID/root`). Every
/// message that arrives then is refused with a reset and the fault is shown; an
/// outgoing message fails visibly and is never sent. Once space is freed, the next
/// message is stored with a clean close, the recovery is shown, and none of the
/// refused messages ever appears in the history.
#[tokio::test]
async fn a_full_disk_refuses_with_a_reset_and_never_stores_later() {
    if let Err(why) = tmpfs_possible() {
        eprintln!("skipped: no tmpfs in a user namespace here ({why})");
        return;
    }
    let sandbox = Sandbox::new();
    let mnt = sandbox.path().join("disk");
    std::fs::create_dir(&mnt).unwrap();
    let mut cmd = Command::from(sandbox.command("unshare"));
    cmd.args(["-rm", "sh", "-c"])
        .arg("mount -t tmpfs -o size=1m tmpfs \"$0\" && exec \"$@\"")
        .arg(&mnt)
        .arg(brigade_bin())
        .args(["--headless", "--name", "A", "--port", "0"])
        .args(["--bind", "127.0.0.1", "--advertise-ip", "127.0.0.1"])
        .arg("--log-file")
        .arg(sandbox.log())
        .arg("--data-dir")
        .arg(mnt.join("data"));
    let mut a = Headless::from_command(cmd, sandbox, "A").await;
    let to: SocketAddr = a.addr.parse().unwrap();
    let mut c = ClassicPeer::start().await;
    let pid = a.child.id().unwrap();
    let inside =
        std::path::PathBuf::from(format!("/proc/{pid}/root")).join(mnt.strip_prefix("/").unwrap());
    let filler = inside.join("filler");

    assert!(send_acknowledged(to, b"127.0.0.1:7 S before the disk fills").await);
    fill(&filler);

    // A message may still be committed into log space SQLite wrote before and reuses
    // (the write-ahead log restarts at its beginning after a checkpoint): then it has
    // its clean close and is in the history. The promise checked at the end: each
    // message is either stored with a clean close or refused with a reset, never
    // stored later.
    let big = "x".repeat(48 * 1024);
    let (mut stored, mut refused) = (Vec::new(), Vec::new());
    for n in 0..40 {
        let text = format!("sent {n} {big}");
        match send_acknowledged(to, format!("127.0.0.1:7 S {text}").as_bytes()).await {
            true => stored.push(text),
            false => refused.push(text),
        }
        if refused.len() == 5 {
            break;
        }
    }
    assert_eq!(
        refused.len(),
        5,
        "the full disk refused too little ({} stored)",
        stored.len()
    );
    let fault = a.expect("error", |_| true).await;
    assert!(
        fault["text"]
            .as_str()
            .unwrap()
            .contains("cannot write the history"),
        "{fault}"
    );
    let peer = c.addr.to_string();
    a.cmd(json!({"cmd": "send", "to": peer, "team": "C", "text": format!("out {big}")}))
        .await;
    let failed = a.expect("delivery", |v| v["to"] == peer.as_str()).await;
    assert_eq!(failed["status"], "failed", "{failed}");

    std::fs::remove_file(&filler).unwrap();
    assert!(
        send_acknowledged(to, b"127.0.0.1:7 S after the disk is freed").await,
        "not stored once space is back"
    );
    a.expect("info", |v| v["text"] == "the history is written again")
        .await;
    // A few more rounds of the writer, then the history: nothing refused came back.
    for n in 0..3 {
        let text = format!("127.0.0.1:7 S later {n}");
        assert!(send_acknowledged(to, text.as_bytes()).await);
    }
    let texts: Vec<String> = a
        .history("127.0.0.1:7")
        .await
        .into_iter()
        .map(|(_, text, _)| text)
        .collect();
    assert!(
        texts.iter().any(|t| t == "after the disk is freed"),
        "{texts:?}"
    );
    assert!(texts.iter().any(|t| t == "later 2"), "{texts:?}");
    for text in &stored {
        assert!(
            texts.contains(text),
            "a clean close, and not in the history"
        );
    }
    let later = refused.iter().filter(|t| texts.contains(t)).count();
    assert_eq!(later, 0, "{later} refused messages stored later");
    // The outgoing message that could not be stored never went out.
    a.cmd(json!({"cmd": "send", "to": peer, "team": "C", "text": "marker"}))
        .await;
    assert!(c.next_text().await.ends_with("marker"));
}

/// A headless consumer that does not read stdout for a while (the pipe fills) does
/// not stall the node: every one of many messages gets a clean close and is in the
/// history; the consumer then sees a `lagged` line that counts what was left out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_headless_consumer_never_stalls_the_network() {
    let mut a = Headless::start("A", &[]).await;
    let to: SocketAddr = a.addr.parse().unwrap();
    const SENDERS: usize = 8;
    const EACH: usize = 250;
    let pad = "y".repeat(1000);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for s in 0..SENDERS {
        let pad = pad.clone();
        tasks.push(tokio::spawn(async move {
            for n in 0..EACH {
                let text = format!("127.0.0.1:{} S m{s}-{n} {pad}", 7000 + s);
                if !send_acknowledged(to, text.as_bytes()).await {
                    return Err(format!("m{s}-{n}"));
                }
            }
            Ok(())
        }));
    }
    for t in tasks {
        let sent = t.await.unwrap();
        assert!(sent.is_ok(), "{sent:?} refused while stdout was not read");
    }
    eprintln!("{} messages in {:?}", SENDERS * EACH, started.elapsed());
    let conn = db(&a.data);
    let stored = count(&conn, "SELECT count(*) FROM messages WHERE text LIKE 'm%'");
    assert_eq!(stored as usize, SENDERS * EACH);

    let lagged = a.expect("lagged", |_| true).await;
    assert!(lagged["dropped"].as_u64().unwrap() > 0, "{lagged}");
}

/// Whatever is refused, one source gets at most one `rejected` event a minute per
/// reason, with a count; every refused sender still sees a reset.
#[tokio::test]
async fn refusals_are_reported_once_a_minute_per_source_and_reason() {
    let mut a = Headless::start("A", &[]).await;
    let to: SocketAddr = a.addr.parse().unwrap();
    for _ in 0..20 {
        // A full header and no text: refused.
        assert!(!send_acknowledged(to, b"127.0.0.1:7 S ").await);
    }
    assert!(send_acknowledged(to, b"127.0.0.1:7 S marker").await);
    let seen = a.lines_until("message", |v| v["text"] == "marker").await;
    let rejected: Vec<&Value> = seen.iter().filter(|v| v["event"] == "rejected").collect();
    assert_eq!(rejected.len(), 1, "{rejected:?}");
    let sandbox = a.quit().await;
    let log = std::fs::read_to_string(sandbox.log()).unwrap();
    assert_eq!(log.matches("rejected input").count(), 1, "{log}");
}
