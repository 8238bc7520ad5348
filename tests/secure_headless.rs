//! The real binary, headless: two brigades that know each other's keys talk encrypted
//! and a tick means stored; a changed key holds messages until `trust`; the
//! fingerprint is stable and the same everywhere it is shown. (Issue 16.)

mod support;

use serde_json::{Value, json};
use support::Headless;

/// `h`'s `peers` entry for `addr`, asked for now.
async fn peer(h: &mut Headless, addr: &str) -> Value {
    h.cmd(json!({"cmd": "peers"})).await;
    let peers = h.expect("peers", |_| true).await;
    peers["peers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["addr"] == addr)
        .unwrap_or_else(|| panic!("no {addr} in {peers}"))
        .clone()
}

/// `a` is told B has another key than its real one (as if B's key changed since `a`
/// pinned it), then sends `text` to B: the `delivery` event that answers (held).
async fn held_by_a_changed_key(a: &mut Headless, b: &Headless, text: &str) -> Value {
    let wrong = "11".repeat(32);
    a.cmd(json!({"cmd": "trust", "peer": b.addr, "key": wrong}))
        .await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": text}))
        .await;
    let held = a
        .expect("delivery", |v| {
            v["status"] == "held" || v["status"] == "delivered"
        })
        .await;
    assert_eq!(held["status"], "held", "{held}");
    held
}

#[tokio::test]
async fn two_brigades_that_know_each_others_keys_talk_encrypted() {
    let mut a = Headless::start("A", &[]).await;
    let mut b = Headless::start("B", &[]).await;
    let (a_key, b_key) = (a.listening["key"].clone(), b.listening["key"].clone());
    a.cmd(json!({"cmd": "trust", "peer": b.addr, "key": b_key}))
        .await;
    b.cmd(json!({"cmd": "trust", "peer": a.addr, "key": a_key}))
        .await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "meet at the north door"}))
        .await;
    let got = b
        .expect("message", |v| v["text"] == "meet at the north door")
        .await;
    assert_eq!(got["team"], "A");
    assert_eq!(got["sealed"], true, "{got}");
    a.delivered(&b.addr).await;
    // And back, on B's own encrypted connection.
    b.cmd(json!({"cmd": "send", "to": a.addr, "text": "ok"}))
        .await;
    a.expect("message", |v| v["text"] == "ok").await;
    b.delivered(&a.addr).await;
    let entry = peer(&mut a, &b.addr).await;
    assert_eq!(entry["transport"], "encrypted");
    assert_eq!(entry["fingerprint"], b.listening["fingerprint"]);
    assert_eq!(entry["key_changed"], false);
    a.cmd(json!({"cmd": "verify", "peer": b.addr})).await;
    assert_eq!(peer(&mut a, &b.addr).await["verified"], true);
}

#[tokio::test]
async fn a_changed_key_holds_messages_until_trusted() {
    let mut a = Headless::start("A", &[]).await;
    let mut b = Headless::start("B", &[]).await;
    let held = held_by_a_changed_key(&mut a, &b, "for your eyes only").await;
    assert!(held["reason"].as_str().unwrap().contains("key changed"));
    let entry = peer(&mut a, &b.addr).await;
    assert_eq!(entry["key_changed"], true, "{entry}");
    // A second message is held at once.
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "still waiting"}))
        .await;
    a.expect("delivery", |v| v["status"] == "held").await;
    // Trusting the key B really has lets both go, in order.
    a.cmd(json!({"cmd": "trust", "peer": b.addr})).await;
    b.expect("message", |v| v["text"] == "for your eyes only")
        .await;
    b.expect("message", |v| v["text"] == "still waiting").await;
    let entry = peer(&mut a, &b.addr).await;
    assert_eq!(entry["key_changed"], false);
    assert_eq!(entry["fingerprint"], b.listening["fingerprint"]);
}

#[tokio::test]
async fn the_fingerprint_is_made_once_and_printed_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let print = || {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_brigade"))
            .args(["--fingerprint", "--name", "A", "--data-dir"])
            .arg(&data)
            .env("HOME", dir.path())
            .env("XDG_CONFIG_HOME", dir.path().join("config"))
            .env("XDG_DATA_HOME", dir.path().join("share"))
            .output()
            .unwrap();
        assert!(out.status.success());
        String::from_utf8(out.stdout).unwrap()
    };
    let first = print();
    assert_eq!(print(), first, "the key is kept");
    let number = first.lines().next().unwrap();
    assert_eq!(number.split(' ').count(), 12);
    let a = Headless::start_on("A", &data, &[]).await;
    assert_eq!(a.listening["fingerprint"], number);
    assert!(first.contains(a.listening["key"].as_str().unwrap()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(data.join("identity.key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn pins_survive_a_restart() {
    let mut a = Headless::start("A", &[]).await;
    let mut b = Headless::start("B", &[]).await;
    let b_key = b.listening["key"].clone();
    a.cmd(json!({"cmd": "trust", "peer": b.addr, "key": b_key}))
        .await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "before"}))
        .await;
    b.expect("message", |v| v["text"] == "before").await;
    a.delivered(&b.addr).await;
    let data = a.data.clone();
    let _dir = a.quit().await;
    let mut a = Headless::start_on("A", &data, &[]).await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "after"}))
        .await;
    b.expect("message", |v| v["text"] == "after").await;
    a.delivered(&b.addr).await;
    let entry = peer(&mut a, &b.addr).await;
    assert_eq!(entry["transport"], "encrypted");
    assert_eq!(entry["fingerprint"], b.listening["fingerprint"]);
}

/// A message held for a key change in one run is held again in the next, and the
/// user's trust there lets it go (it was stuck for good before).
#[tokio::test]
async fn a_message_held_before_a_restart_goes_once_trusted_after_it() {
    let mut a = Headless::start("A", &[]).await;
    let mut b = Headless::start("B", &[]).await;
    held_by_a_changed_key(&mut a, &b, "held across a restart").await;
    let data = a.data.clone();
    let _dir = a.quit().await;
    let mut a = Headless::start_on("A", &data, &[]).await;
    assert_eq!(peer(&mut a, &b.addr).await["key_changed"], true);
    a.cmd(json!({"cmd": "trust", "peer": b.addr})).await;
    b.expect("message", |v| v["text"] == "held across a restart")
        .await;
    a.delivered(&b.addr).await;
}

/// `--peer` gives the same invite on every start: its key is pinned only while the
/// peer has none, so a key the user trusted later stays (it was re-pinned, and logged
/// as the user's trust, on every start).
#[tokio::test]
async fn an_old_invite_does_not_override_a_key_trusted_since() {
    let mut b = Headless::start("B", &[]).await;
    // An invite older than B's current key.
    let invite = format!("brigade://v1/B@{}?key={}", b.addr, "11".repeat(32));
    let args = ["--no-discovery", "--peer", invite.as_str()];
    let mut a = Headless::start("A", &args).await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "first"}))
        .await;
    a.expect("delivery", |v| v["status"] == "held").await;
    a.cmd(json!({"cmd": "trust", "peer": b.addr})).await;
    b.expect("message", |v| v["text"] == "first").await;
    a.delivered(&b.addr).await;
    let data = a.data.clone();
    let _dir = a.quit().await;
    let mut a = Headless::start_on("A", &data, &args).await;
    a.cmd(json!({"cmd": "send", "to": b.addr, "text": "second"}))
        .await;
    let lines = a
        .lines_until("delivery", |v| {
            v["status"] == "held" || v["status"] == "delivered"
        })
        .await;
    let last = lines.last().unwrap();
    assert_eq!(last["status"], "delivered", "{lines:?}");
    // The invite (a hint) and the send race at start: the note may come after.
    let differs = |v: &Value| v.to_string().contains("the invite for B names another key");
    let mut said: Vec<Value> = lines.clone();
    if !lines.iter().any(differs) {
        said.extend(a.lines_until("info", differs).await);
    }
    let said = serde_json::to_string(&said).unwrap();
    assert!(!said.contains("you trusted"), "{said}");
    b.expect("message", |v| v["text"] == "second").await;
    let entry = peer(&mut a, &b.addr).await;
    assert_eq!(entry["fingerprint"], b.listening["fingerprint"]);
    assert_eq!(entry["key_changed"], false);
}

/// A plaintext message from a peer whose key is pinned is told `"sealed": false`
/// (here B does not know A's key yet, so it is not held as a downgrade: only marked).
#[tokio::test]
async fn plaintext_from_a_pinned_peer_is_told_unsealed() {
    let mut a = Headless::start("A", &["--no-discovery"]).await;
    let mut b = Headless::start("B", &["--no-discovery"]).await;
    a.cmd(json!({"cmd": "trust", "peer": b.addr, "key": b.listening["key"]}))
        .await;
    b.cmd(json!({"cmd": "send", "to": a.addr, "text": "plain, from B"}))
        .await;
    let got = a.expect("message", |v| v["text"] == "plain, from B").await;
    assert_eq!(got["sealed"], false, "{got}");
    b.delivered(&a.addr).await;
}
