//! History and outbox with the real binary: nothing a peer was told it received, and
//! nothing the user sent, is lost across a clean stop, a `kill -9`, or a crash during a
//! flood; storage faults are reported and chat goes on.

mod support;

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde_json::json;
use support::{ClassicPeer, Headless, Refusing, Sandbox, WAIT, send_acknowledged};
use tokio::sync::Notify;
use tokio::time::timeout;

fn row(dir: &str, text: &str, status: &str) -> (String, String, String) {
    (dir.into(), text.into(), status.into())
}

/// Polls the history (each poll is a real query, waiting on its answer) until `pred`.
async fn history_until(
    a: &mut Headless,
    peer: &str,
    pred: impl Fn(&[(String, String, String)]) -> bool,
) -> Vec<(String, String, String)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let h = a.history(peer).await;
        if pred(&h) {
            return h;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "history never became right: {h:?}"
        );
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn messages_survive_a_clean_stop_and_a_kill_9() {
    let mut a = Headless::start("A", &[]).await;
    let c = ClassicPeer::start().await;
    let c_addr = c.addr.to_string();
    let to_a = a.addr.parse().unwrap();
    let header = format!("{c_addr} C");

    assert!(send_acknowledged(to_a, format!("{header} in one").as_bytes()).await);
    a.cmd(json!({"cmd": "send", "to": c_addr, "team": "C", "text": "out one"}))
        .await;
    a.delivered(&c_addr).await;
    let data = a.data.clone();
    let _keep = a.quit().await;

    let mut a = Headless::start_on("A", &data, &[]).await;
    let to_a = a.addr.parse().unwrap();
    assert_eq!(
        a.history(&c_addr).await,
        [row("in", "in one", ""), row("out", "out one", "delivered")]
    );

    assert!(send_acknowledged(to_a, format!("{header} in two").as_bytes()).await);
    a.cmd(json!({"cmd": "send", "to": c_addr, "team": "C", "text": "out two"}))
        .await;
    a.delivered(&c_addr).await;
    // Wait until the delivered state is committed, then kill without any shutdown.
    history_until(&mut a, &c_addr, |h| {
        h.iter().any(|r| r.1 == "out two" && r.2 == "delivered")
    })
    .await;
    let _keep2 = a.kill9().await;

    let mut a = Headless::start_on("A", &data, &[]).await;
    assert_eq!(
        a.history(&c_addr).await,
        [
            row("in", "in one", ""),
            row("out", "out one", "delivered"),
            row("in", "in two", ""),
            row("out", "out two", "delivered"),
        ]
    );
    // Search reaches all of it.
    a.cmd(json!({"cmd": "search", "query": "two"})).await;
    let hits = a.expect("search", |_| true).await;
    let texts: Vec<&str> = hits["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["text"].as_str().unwrap())
        .collect();
    assert_eq!(texts, ["out two", "in two"]);
}

#[tokio::test]
async fn the_outbox_survives_a_crash_and_delivers_in_order_exactly_once() {
    let mut a = Headless::start("A", &[]).await;
    // A port with nobody on it yet.
    let later = Refusing::new();
    let to = later.addr.to_string();
    for text in ["first", "second", "third"] {
        a.cmd(json!({"cmd": "send", "to": to, "team": "C", "text": text}))
            .await;
    }
    // All three are stored (still undelivered) before the crash.
    history_until(&mut a, &to, |h| {
        h.len() == 3 && h.iter().all(|r| r.2 != "delivered")
    })
    .await;
    let data = a.data.clone();
    let _keep = a.kill9().await;

    // The peer comes up; brigade restarts and sends the outbox again, in order.
    let mut c = later.listen(None);
    let mut a = Headless::start_on("A", &data, &[]).await;
    let header = format!("{} A ", a.addr);
    for text in ["first", "second", "third"] {
        assert_eq!(c.next_text().await, format!("{header}{text}"));
    }
    for _ in 0..3 {
        a.delivered(&to).await;
    }
    history_until(&mut a, &to, |h| h.iter().all(|r| r.2 == "delivered")).await;
    let _keep2 = a.quit().await;

    // A clean restart finds nothing to send: each message went exactly once.
    let mut a = Headless::start_on("A", &data, &[]).await;
    assert_eq!(a.history(&to).await.len(), 3);
    a.cmd(json!({"cmd": "peers"})).await;
    a.expect("peers", |_| true).await;
    assert!(c.texts.try_recv().is_err(), "a message was sent twice");
}

#[tokio::test]
async fn a_crash_during_a_flood_loses_nothing_that_was_acknowledged() {
    let a = Headless::start("A", &[]).await;
    let to: std::net::SocketAddr = a.addr.parse().unwrap();
    let data = a.data.clone();
    let acked = Arc::new(std::sync::Mutex::new(HashSet::new()));
    let count = Arc::new(AtomicUsize::new(0));
    let enough = Arc::new(Notify::new());
    let mut senders = Vec::new();
    for s in 0..32 {
        let (acked, count, enough) = (acked.clone(), count.clone(), enough.clone());
        senders.push(tokio::spawn(async move {
            for n in 0..40 {
                let text = format!("flood {s}-{n}");
                let bytes = format!("127.0.0.1:7777 F {text}");
                if send_acknowledged(to, bytes.as_bytes()).await {
                    acked.lock().unwrap().insert(text);
                    if count.fetch_add(1, Ordering::SeqCst) + 1 == 200 {
                        enough.notify_one();
                    }
                } else {
                    return; // brigade is gone
                }
            }
        }));
    }
    timeout(WAIT, enough.notified())
        .await
        .expect("200 acknowledged messages");
    let _keep = a.kill9().await;
    for s in senders {
        let _ = timeout(WAIT, s).await;
    }
    let acked = acked.lock().unwrap().clone();
    assert!(acked.len() >= 200);

    let mut a = Headless::start_on("A", &data, &[]).await;
    let stored: HashSet<String> = a
        .history("127.0.0.1:7777")
        .await
        .into_iter()
        .map(|r| r.1)
        .collect();
    let lost: Vec<&String> = acked.difference(&stored).collect();
    assert!(
        lost.is_empty(),
        "{} acknowledged messages lost, e.g. {:?}",
        lost.len(),
        &lost[..lost.len().min(5)]
    );
}

#[tokio::test]
async fn a_second_brigade_on_the_same_data_directory_is_refused() {
    let a = Headless::start("A", &[]).await;
    let out = Sandbox::new()
        .brigade_async()
        .args([
            "--headless",
            "--name",
            "B",
            "--port",
            "0",
            "--bind",
            "127.0.0.1",
            "--data-dir",
        ])
        .arg(&a.data)
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("another brigade") && err.contains("--data-dir"),
        "{err}"
    );
}

#[tokio::test]
async fn a_damaged_history_is_reported_left_alone_and_chat_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    let junk = b"not a database: somebody's notes\n".repeat(100);
    std::fs::write(data.join("history.db"), &junk).unwrap();
    let mut a = Headless::start_on("A", &data, &[]).await;
    let e = a.expect("error", |_| true).await;
    assert!(e["text"].as_str().unwrap().contains("left as it is"), "{e}");
    // Chat still works, in memory.
    let mut c = ClassicPeer::start().await;
    a.cmd(json!({"cmd": "send", "to": c.addr.to_string(), "text": "still here"}))
        .await;
    assert!(c.next_text().await.ends_with("still here"));
    a.quit().await;
    assert_eq!(std::fs::read(data.join("history.db")).unwrap(), junk);
}

/// A data directory brigade may read but not write: as root (CI) the binary runs as
/// the unprivileged `nobody`, since root writes through permission bits. Unix: Windows
/// ignores the read-only attribute on directories.
#[cfg(unix)]
#[tokio::test]
async fn a_read_only_data_directory_is_reported_and_chat_goes_on() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
    let data = dir.path().join("data");
    std::fs::create_dir_all(&data).unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o555)).unwrap();
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.brigade_async();
    cmd.args([
        "--headless",
        "--name",
        "A",
        "--port",
        "0",
        "--bind",
        "127.0.0.1",
        "--advertise-ip",
        "127.0.0.1",
    ])
    .arg("--data-dir")
    .arg(&data)
    .args(["--log-file", "/nonexistent/brigade.log"]);
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } == 0 {
        let binary = std::path::Path::new(env!("CARGO_BIN_EXE_brigade"));
        if let Some(closed) = closed_to_others(binary) {
            eprintln!(
                "skipped: running as root, this test runs brigade as `nobody`, who cannot \
                 reach {} through {} (no search permission for others)",
                binary.display(),
                closed.display()
            );
            return;
        }
        // SAFETY: setuid in the child before exec; async-signal-safe.
        unsafe {
            cmd.pre_exec(|| {
                if libc::setgid(65534) != 0 || libc::setuid(65534) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    let mut a = Headless::from_command(cmd, sandbox, "A").await;
    let e = a.expect("error", |_| true).await;
    assert!(
        e["text"].as_str().unwrap().contains("no history this time"),
        "{e}"
    );
    let mut c = ClassicPeer::start().await;
    a.cmd(json!({"cmd": "send", "to": c.addr.to_string(), "text": "in memory"}))
        .await;
    assert!(c.next_text().await.ends_with("in memory"));
    a.quit().await;
}

/// The first directory above `path` that users other than its owner cannot enter.
#[cfg(unix)]
fn closed_to_others(path: &std::path::Path) -> Option<std::path::PathBuf> {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors()
        .skip(1)
        .find(|d| std::fs::metadata(d).is_ok_and(|m| m.permissions().mode() & 0o001 == 0))
        .map(std::path::Path::to_path_buf)
}
