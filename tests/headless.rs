//! The real binary in headless mode, driven over stdin/stdout: two brigade processes
//! and a classic-style peer on loopback exchange messages in every direction.

mod support;

use std::process::Stdio;

use serde_json::json;
use support::{ClassicPeer, Headless, Refusing, Sandbox, WAIT, classic_send};
use tokio::io::AsyncWriteExt;
use tokio::time::timeout;

fn peer(addr: &str, team: &str, status: &str) -> (String, String, String) {
    (addr.into(), team.into(), status.into())
}

#[tokio::test]
async fn two_brigades_and_a_classic_peer_talk_in_every_direction() {
    let mut a = Headless::start("A", &[]).await;
    let mut b = Headless::start("B", &[]).await;
    let mut c = ClassicPeer::start().await;
    let c_addr = c.addr.to_string();

    // A -> B: B sees A as Active, A sees B as Connected once delivered.
    a.cmd(json!({"cmd": "send", "to": b.addr, "team": "B", "text": "Hi from A"}))
        .await;
    let pending = a.expect("delivery", |v| v["status"] == "pending").await;
    let m = b.expect("message", |_| true).await;
    assert_eq!(
        (&m["from"], &m["team"], &m["text"]),
        (&json!(a.addr), &json!("A"), &json!("Hi from A"))
    );
    let d = a.delivered(&b.addr).await;
    assert_eq!(d["id"], pending["id"]);
    assert_eq!(a.peers().await, [peer(&b.addr, "B", "Connected")]);
    assert_eq!(b.peers().await, [peer(&a.addr, "A", "Active")]);

    // B -> A without naming the team: B knows A.
    b.cmd(json!({"cmd": "send", "to": a.addr, "text": "Hi from B"}))
        .await;
    assert_eq!(a.expect("message", |_| true).await["text"], "Hi from B");
    b.delivered(&a.addr).await;
    assert_eq!(b.peers().await, [peer(&a.addr, "A", "Connected")]);

    // Classic C -> A: C becomes Active at A; connect-all reaches it.
    let c_header = format!("{c_addr} C hello from the menu program");
    classic_send(a.addr.parse().unwrap(), c_header.as_bytes()).await;
    let m = a.expect("message", |v| v["team"] == "C").await;
    assert_eq!(
        (&m["from"], &m["text"]),
        (&json!(c_addr), &json!("hello from the menu program"))
    );
    assert!(a.peers().await.contains(&peer(&c_addr, "C", "Active")));
    a.cmd(json!({"cmd": "connect_all"})).await;
    assert_eq!(
        c.next_text().await,
        format!("{} A connection message", a.addr)
    );
    a.delivered(&c_addr).await;
    assert!(a.peers().await.contains(&peer(&c_addr, "C", "Connected")));

    // A -> C, a long message: split for a 1024-byte reader, in order.
    let long = "word ".repeat(500);
    a.cmd(json!({"cmd": "send", "to": c_addr, "text": long}))
        .await;
    let mut joined = String::new();
    let header = format!("{} A ", a.addr);
    while joined.len() < long.len() {
        let part = c.next_text().await;
        assert!(part.len() <= 1024);
        joined.push_str(part.strip_prefix(&header).unwrap());
    }
    assert_eq!(joined, long);

    // A disconnects B: B sees the exit message, then peer_left; A drops B.
    a.cmd(json!({"cmd": "disconnect", "to": b.addr})).await;
    a.expect("peer_left", |v| v["addr"] == json!(b.addr)).await;
    assert_eq!(b.expect("message", |_| true).await["text"], "exit");
    b.expect("peer_left", |v| v["addr"] == json!(a.addr)).await;
    assert!(b.peers().await.is_empty());
    assert_eq!(a.peers().await, [peer(&c_addr, "C", "Connected")]);

    // End of stdin quits cleanly.
    drop(a.stdin.take());
    let status = timeout(WAIT, a.child.wait()).await.unwrap().unwrap();
    assert!(status.success());
}

#[tokio::test]
async fn well_known_peers_are_greeted_at_start_up() {
    let mut c = ClassicPeer::start().await;
    let spec = format!("{}/C", c.addr);
    let mut a = Headless::start("A", &["--peer", &spec]).await;
    assert_eq!(
        c.next_text().await,
        format!("{} A connection message", a.addr)
    );
    a.delivered(&c.addr.to_string()).await;
    assert_eq!(
        a.peers().await,
        [peer(&c.addr.to_string(), "C", "Connected")]
    );
}

#[tokio::test]
async fn bad_commands_are_reported_and_the_node_keeps_running() {
    let mut a = Headless::start("A", &[]).await;
    a.cmd(json!({"cmd": "send", "to": "nowhere", "text": "x"}))
        .await;
    let e = a.expect("error", |_| true).await;
    assert!(e["text"].as_str().unwrap().contains("IP:PORT"), "{e}");
    a.stdin
        .as_mut()
        .unwrap()
        .write_all(b"{not json\n")
        .await
        .unwrap();
    a.expect("error", |_| true).await;
    a.cmd(json!({"cmd": "send", "to": "127.0.0.1:9", "team": "two words", "text": "x"}))
        .await;
    a.expect("error", |_| true).await;
    assert!(a.peers().await.is_empty());
}

#[tokio::test]
async fn an_unreachable_peer_is_retried_then_reported_failed() {
    let mut a = Headless::start("A", &[]).await;
    let nobody = Refusing::new();
    let to = nobody.addr.to_string();
    a.cmd(json!({"cmd": "send", "to": to, "team": "Z", "text": "anyone?"}))
        .await;
    let r = a.expect("delivery", |v| v["status"] == "retrying").await;
    assert_eq!(r["attempt"], 1);
    let f = a.expect("delivery", |v| v["status"] == "failed").await;
    assert!(f["reason"].as_str().unwrap().contains("refused"), "{f}");
    // A quit with nothing pending is immediate.
    a.cmd(json!({"cmd": "quit"})).await;
    assert!(
        timeout(WAIT, a.child.wait())
            .await
            .unwrap()
            .unwrap()
            .success()
    );
}

#[tokio::test]
async fn hostile_text_arrives_sanitized() {
    let mut a = Headless::start("A", &[]).await;
    let evil = b"127.0.0.1:5555 \x1b[31mEvil\x1b[0m hi\x1b]0;pwned\x07 \xe2\x80\xaeboom\r\nline2";
    classic_send(a.addr.parse().unwrap(), evil).await;
    let m = a.expect("message", |_| true).await;
    assert_eq!(m["team"], "Evil");
    assert_eq!(m["text"], "hi boom\nline2");
}

/// Bad local input: one line that says what to do, exit code 2, no panic.
#[test]
fn bad_local_input_is_one_clear_line() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = taken.local_addr().unwrap().port().to_string();
    let cases: &[(&[&str], &str)] = &[
        (
            &["--headless", "--name", "two words", "--port", "0"],
            "has spaces",
        ),
        (
            &[
                "--headless",
                "--name",
                "A",
                "--port",
                &port,
                "--bind",
                "127.0.0.1",
            ],
            "is taken",
        ),
        (
            &[
                "--headless",
                "--name",
                "A",
                "--port",
                "0",
                "--bind",
                "10.0.0",
            ],
            "invalid value",
        ),
        (
            &[
                "--headless",
                "--name",
                "A",
                "--port",
                "0",
                "--peer",
                "nowhere",
            ],
            "not an address",
        ),
        (&["--headless", "--name", "A"], "--port"),
        (
            &["--config", "/nonexistent/brigade.toml"],
            "cannot read config file",
        ),
    ];
    for (args, needle) in cases {
        let out = Sandbox::new()
            .brigade()
            .args(*args)
            .arg("--no-history")
            .stdin(Stdio::null())
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(err.contains(needle), "{args:?}: {err}");
        assert!(
            !err.contains("panicked") && !err.contains("backtrace"),
            "{args:?}: {err}"
        );
        if *needle == "is taken" {
            assert!(err.contains(&port), "the taken port is named: {err}");
        }
    }
}
