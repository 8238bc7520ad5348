//! The promises brigade makes about processes, sockets and disks, each through the
//! real binary, each written so that breaking the promise fails the test every time
//! (not by chance): the history is held locked where timing would otherwise hide a
//! broken order.

mod support;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use rusqlite::{Connection, OpenFlags};
use serde_json::json;
use support::{ClassicPeer, Headless, Sandbox, send_acknowledged};
use tokio::io::AsyncReadExt;
use tokio::time::timeout;

/// How long brigade's history writer waits on a locked database before it reports a
/// fault (`busy_timeout` in src/history/mod.rs).
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

fn db(a: &Headless) -> Connection {
    Connection::open_with_flags(
        a.data.join("history.db"),
        OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )
    .unwrap()
}

/// How many stored messages (either direction) have exactly this text.
fn stored(conn: &Connection, text: &str) -> i64 {
    conn.query_row(
        "SELECT count(*) FROM messages WHERE text = ?1",
        [text],
        |r| r.get(0),
    )
    .unwrap()
}

/// A sender must never see a clean close before its message is readable from the
/// history database. Checked for every message of the run; one message arrives while
/// the database is locked, where an early acknowledgement cannot hide behind a fast
/// commit. That one is refused (reset) and reported as a fault; it is never stored
/// later (its sender was told "not stored" and may retry); the next message after the
/// lock goes is stored with a clean close and the fault clears.
#[tokio::test]
async fn no_sender_sees_a_clean_close_before_its_message_is_stored() {
    let mut a = Headless::start("A", &[]).await;
    let to: SocketAddr = a.addr.parse().unwrap();
    let conn = db(&a);
    for n in 0..40 {
        let text = format!("stored before the close {n}");
        let clean = send_acknowledged(to, format!("127.0.0.1:7 S {text}").as_bytes()).await;
        assert!(clean, "message {n} was refused");
        assert_eq!(
            stored(&conn, &text),
            1,
            "clean close before message {n} was stored"
        );
    }

    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let text = "sent while the history is locked";
    let clean = send_acknowledged(to, format!("127.0.0.1:7 S {text}").as_bytes()).await;
    assert_eq!(stored(&conn, text), 0);
    assert!(
        !clean,
        "a clean close while the history could not be written"
    );
    let fault = a.expect("error", |_| true).await;
    assert!(
        fault["text"]
            .as_str()
            .unwrap()
            .contains("cannot write the history"),
        "{fault}"
    );
    conn.execute_batch("ROLLBACK").unwrap();
    // Back to normal: acknowledged once stored again.
    let after = "after the fault";
    assert!(send_acknowledged(to, format!("127.0.0.1:7 S {after}").as_bytes()).await);
    assert_eq!(stored(&conn, after), 1);
    a.expect("info", |v| v["text"] == "the history is written again")
        .await;
    assert_eq!(stored(&conn, text), 0, "a refused message was stored later");
}

/// A message goes on the wire only after its outbox row is committed (so a crash can
/// never deliver what the history does not hold). With the database locked the commit
/// waits the writer's busy timeout and fails: the message is then reported failed, never
/// sent, and `pending` is never told for it; the next send after the lock goes is
/// stored, told `pending` and delivered.
#[tokio::test]
async fn nothing_is_sent_before_its_outbox_row_is_committed() {
    let mut a = Headless::start("A", &[]).await;
    let mut c = ClassicPeer::start().await;
    let to = c.addr.to_string();
    let conn = db(&a);

    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "committed first"}))
        .await;
    assert!(c.next_text().await.ends_with("committed first"));
    a.expect("delivery", |v| v["status"] == "delivered").await;
    assert_eq!(stored(&conn, "committed first"), 1);
    // Its `delivered` row too, before the lock: only the new message meets the lock.
    let deadline = Instant::now() + support::WAIT;
    while conn
        .query_row(
            "SELECT status FROM messages WHERE text = 'committed first'",
            [],
            |r| r.get::<_, String>(0),
        )
        .unwrap()
        != "delivered"
    {
        assert!(
            Instant::now() < deadline,
            "the delivered state is never stored"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    let locked_at = Instant::now();
    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "held by the lock"}))
        .await;
    let failed = a.expect("delivery", |v| v["status"] != "delivered").await;
    assert_eq!(failed["status"], "failed", "{failed}");
    assert!(
        failed["reason"]
            .as_str()
            .unwrap()
            .contains("could not be stored"),
        "{failed}"
    );
    let waited = locked_at.elapsed();
    assert!(
        waited >= BUSY_TIMEOUT - Duration::from_millis(500),
        "failed {waited:?} after the send, before the commit could fail"
    );
    assert_eq!(stored(&conn, "held by the lock"), 0);
    conn.execute_batch("ROLLBACK").unwrap();

    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "after the lock"}))
        .await;
    a.expect("delivery", |v| v["status"] == "pending").await;
    assert_eq!(
        stored(&conn, "after the lock"),
        1,
        "pending before the commit"
    );
    // The held message never went out: the next text the peer gets is the new one.
    assert!(c.next_text().await.ends_with("after the lock"));
    assert_eq!(stored(&conn, "held by the lock"), 0);
}

/// A config file brigade cannot use stops it with one line that names the file, the
/// line and the column, and exit code 2; the default config location (inside the
/// sandbox here) is the one read when --config is not given.
#[test]
fn a_bad_config_file_stops_brigade_with_line_and_column() {
    let cases: &[(&str, &[&str])] = &[
        (
            "name = \"A\"\nport = [\n",
            &["line 2, column 9", "unclosed"],
        ),
        (
            "name = \"A\"\nport = \"eighty\"\n",
            &["line 2, column 8", "u16"],
        ),
        ("name = \"A\"\n\nbell = 3\n", &["line 3, column 8", "bool"]),
        ("name = \"A\"\nprot = 80\n", &["line 2, column 1", "prot"]),
        (
            "name = \"A\"\npeers = [\"10.0.0.5\"]\n",
            &["in the config file", "IP:PORT"],
        ),
    ];
    for (text, needles) in cases {
        let sandbox = Sandbox::new();
        let path = sandbox.config_file();
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, text).unwrap();
        let out = sandbox
            .brigade()
            .args(["--headless", "--port", "0", "--bind", "127.0.0.1"])
            .arg("--log-file")
            .arg(sandbox.log())
            .arg("--data-dir")
            .arg(sandbox.data())
            .stdin(std::process::Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{text:?}: {err}");
        for needle in *needles {
            assert!(err.contains(needle), "{text:?}: {err}");
        }
        assert_eq!(err.trim_end().lines().count(), 1, "{text:?}: {err}");
    }
}

/// Quitting (end of stdin) waits for messages still being delivered: a peer that comes
/// up during the wait still gets its message, and only then does brigade exit.
#[tokio::test]
async fn a_headless_quit_waits_for_undelivered_messages() {
    let mut a = Headless::start("A", &[]).await;
    let later = support::Refusing::new();
    let to = later.addr.to_string();
    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "wait for me"}))
        .await;
    a.expect("delivery", |v| v["status"] == "retrying").await;
    drop(a.stdin.take());
    a.expect("info", |v| {
        v["text"]
            .as_str()
            .unwrap()
            .contains("waiting for 1 messages to be delivered")
    })
    .await;
    let mut c = later.listen(None);
    assert!(c.next_text().await.ends_with("wait for me"));
    a.delivered(&to).await;
    let status = timeout(support::WAIT, a.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
}

/// A reply on the socket is sanitized before it reaches the user.
#[tokio::test]
async fn a_reply_is_sanitized_end_to_end() {
    let mut a = Headless::start("A", &[]).await;
    let hostile = "\x1b[31mred\x1b[0m \u{202e}evil\x07\x1b]0;title\x07 \u{200b}end\r\n";
    let c = ClassicPeer::start_with_reply(Some(hostile)).await;
    a.cmd(json!({"cmd": "send", "to": c.addr.to_string(), "text": "hello?"}))
        .await;
    let reply = a.expect("reply", |_| true).await;
    assert_eq!(reply["text"], "red evil end");
    assert_eq!(reply["from"], c.addr.to_string());
}

/// The log goes to the file given (or the state directory), at the level BRIGADE_LOG
/// names, `info` by default.
#[tokio::test]
async fn the_log_file_is_written_at_the_level_brigade_log_names() {
    for level in [None, Some("debug")] {
        let sandbox = Sandbox::new();
        let mut cmd = sandbox.brigade_async();
        cmd.args(["--headless", "--name", "A", "--port", "0"])
            .args(["--bind", "127.0.0.1", "--advertise-ip", "127.0.0.1"])
            .arg("--data-dir")
            .arg(sandbox.data());
        if let Some(level) = level {
            cmd.env("BRIGADE_LOG", level);
        }
        let log = sandbox.path().join("state/brigade/brigade.log");
        let mut a = Headless::from_command(cmd, sandbox, "A").await;
        let mut c = ClassicPeer::start().await;
        a.cmd(json!({"cmd": "send", "to": c.addr.to_string(), "text": "logged"}))
            .await;
        c.next_text().await;
        a.delivered(&c.addr.to_string()).await;
        let _sandbox = a.quit().await;
        let text = std::fs::read_to_string(&log).expect("no log in the state directory");
        assert!(
            text.contains("INFO") && text.contains("brigade started"),
            "{text}"
        );
        assert_eq!(
            text.contains("DEBUG"),
            level.is_some(),
            "BRIGADE_LOG={level:?}:\n{text}"
        );
    }
}

/// Quitting lets the history writer commit what it was given before the process ends
/// (`Session::shutdown`), bounded by the writer's busy timeout. A message is delivered
/// while the history is locked, so its `delivered` state waits in the writer; brigade
/// is told to quit (nothing is undelivered, so at once). Without that flush the process
/// would end with the state never written, and the next start would send the message
/// again. The lock is held for a while after the quit: a brigade that exits during it
/// has dropped the write, every time; then it is released and the state must be stored.
#[tokio::test]
async fn quitting_stores_a_delivery_state_the_writer_still_holds() {
    let mut a = Headless::start("A", &[]).await;
    let peer = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = peer.local_addr().unwrap().to_string();
    let conn = db(&a);

    a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": "delivered at the end"}))
        .await;
    let (mut s, _) = timeout(support::WAIT, peer.accept())
        .await
        .unwrap()
        .unwrap();
    let mut got = Vec::new();
    timeout(support::WAIT, s.read_to_end(&mut got))
        .await
        .unwrap()
        .unwrap();
    assert!(String::from_utf8_lossy(&got).contains("delivered at the end"));
    // The outbox row is committed (it went on the wire); lock before the close that
    // makes it delivered.
    conn.execute_batch("BEGIN IMMEDIATE").unwrap();
    drop(s);
    a.expect("delivery", |v| v["status"] == "delivered").await;
    drop(a.stdin.take());
    let early = timeout(Duration::from_secs(2), a.child.wait()).await;
    assert!(
        early.is_err(),
        "brigade exited while its writer still held a state to store: {early:?}"
    );
    conn.execute_batch("ROLLBACK").unwrap();
    let status = timeout(support::WAIT, a.child.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}");
    let stored: String = conn
        .query_row(
            "SELECT status FROM messages WHERE text = 'delivered at the end'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert_eq!(stored, "delivered", "the delivery state was lost at quit");
}

/// Idle means asleep: a brigade with a history, listening and doing nothing, says
/// nothing and uses no CPU. Its user+sys time is read from /proc while the test waits
/// for any event with a timeout; a thread that polls instead of blocking (the history
/// writer spinning on an empty queue, a ticking loop) costs tens of clock ticks in it,
/// an idle brigade none or one.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn an_idle_brigade_uses_no_cpu() {
    let mut a = Headless::start("A", &[]).await;
    let pid = a.child.id().unwrap();
    let before = support::cpu_ticks(pid);
    let said = timeout(Duration::from_millis(1500), a.expect_any()).await;
    assert!(said.is_err(), "an idle brigade said {said:?}");
    let used = support::cpu_ticks(pid) - before;
    assert!(used <= 5, "{used} clock ticks of CPU in 1.5 s of idling");
}
