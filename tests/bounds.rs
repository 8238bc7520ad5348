//! Issue 13, points 2–4, through the real binary and real loopback sockets: per-source
//! rate and quota, the bounded peer table, the bounded in-memory log. Senders bind to
//! 127.0.0.N (Linux routes all of 127.0.0.0/8 to lo) so each is its own source.

mod support;

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpSocket;
use tokio::time::timeout;

/// Sends one classic message from `source` like a careful peer (write, half-close, wait
/// for the close). True on a clean close (stored), false on a reset.
async fn send_from(source: &str, to: SocketAddr, bytes: &[u8]) -> bool {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    let Ok(mut s) = socket.connect(to).await else {
        return false;
    };
    if s.write_all(bytes).await.is_err() || s.shutdown().await.is_err() {
        return false;
    }
    let mut rest = Vec::new();
    match timeout(WAIT, s.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => true,
        Ok(Err(_)) => false,
        Err(_) => panic!("no close within {WAIT:?}"),
    }
}

/// [`send_from`] while reading brigade's events (a headless brigade whose stdout is not
/// read stops), which are added to `seen`.
async fn send_reading(b: &mut Headless, seen: &mut Vec<Value>, source: &str, bytes: &[u8]) -> bool {
    let to = addr_of(b);
    let send = send_from(source, to, bytes);
    tokio::pin!(send);
    loop {
        tokio::select! {
            clean = &mut send => return clean,
            v = b.expect_any() => seen.push(v),
        }
    }
}

/// The events seen so far plus those up to the `message` event with this text.
async fn until_message(b: &mut Headless, seen: &mut Vec<Value>, text: &str) {
    if seen
        .iter()
        .any(|v| v["event"] == "message" && v["text"] == text)
    {
        return;
    }
    let v = b
        .expect_where(|v| {
            v["event"] == "rejected" || (v["event"] == "message" && v["text"] == text)
        })
        .await;
    let done = v["event"] == "message";
    seen.push(v);
    if !done {
        Box::pin(until_message(b, seen, text)).await;
    }
}

fn count(seen: &[Value], event: &str, reason: &str) -> usize {
    seen.iter()
        .filter(|v| v["event"] == event && v["reason"] == reason)
        .count()
}

fn addr_of(h: &Headless) -> SocketAddr {
    h.addr.parse().unwrap()
}

/// Point 2: past its rate (bursts of 4N) a source's messages are refused with a reset,
/// reported once with reason `rate`; another source is unaffected meanwhile.
#[tokio::test]
async fn a_source_over_its_rate_is_reset_and_others_are_not() {
    let mut b = Headless::start("B", &["--source-rate", "1"]).await;
    let mut seen = Vec::new();
    let start = Instant::now();
    let (mut clean, mut refused) = (0, 0);
    for i in 0..40 {
        let text = format!("127.0.0.2:7001 F flood {i}");
        if send_reading(&mut b, &mut seen, "127.0.0.2", text.as_bytes()).await {
            clean += 1;
        } else {
            refused += 1;
        }
        if refused >= 3 {
            break;
        }
    }
    // The burst (4), plus at most one a second since.
    let allowed = 4 + start.elapsed().as_secs() as usize + 1;
    assert!(
        clean >= 4 && clean <= allowed,
        "{clean} clean, {allowed} allowed"
    );
    assert_eq!(refused, 3);
    // Another source is not throttled by the flood.
    assert!(send_reading(&mut b, &mut seen, "127.0.0.3", b"127.0.0.3:7002 G calm").await);
    until_message(&mut b, &mut seen, "calm").await;
    // Three refusals, one notice (once a minute per source), from the flooder.
    assert_eq!(count(&seen, "rejected", "rate"), 1, "{seen:?}");
    let v = seen.iter().find(|v| v["event"] == "rejected").unwrap();
    assert_eq!(
        v["from"].as_str().unwrap().split(':').next(),
        Some("127.0.0.2")
    );
    assert!(v["preview"].as_str().unwrap().contains("1 refused"), "{v}");
}

/// Point 2: a source that has had its quota of text stored today is refused with a
/// reset and a `quota` notice; another source is unaffected.
#[tokio::test]
async fn a_source_over_its_daily_quota_is_reset() {
    let mut b = Headless::start("B", &["--source-quota", "1"]).await;
    let mut seen = Vec::new();
    let body = "q".repeat(60_000);
    // 17 × 60 000 bytes fit in 1 MiB; the 18th does not.
    for i in 0..17 {
        let text = format!("127.0.0.2:7001 Q {i:02}{body}");
        let clean = send_reading(&mut b, &mut seen, "127.0.0.2", text.as_bytes()).await;
        assert!(clean, "message {i}");
    }
    let text = format!("127.0.0.2:7001 Q 17{body}");
    assert!(!send_reading(&mut b, &mut seen, "127.0.0.2", text.as_bytes()).await);
    // Another address is not limited by it.
    assert!(send_reading(&mut b, &mut seen, "127.0.0.3", b"127.0.0.3:7001 R other").await);
    until_message(&mut b, &mut seen, "other").await;
    assert_eq!(count(&seen, "rejected", "quota"), 1, "{seen:?}");
    let v = seen.iter().find(|v| v["event"] == "rejected").unwrap();
    assert!(v["preview"].as_str().unwrap().contains("1 MiB"), "{v}");
}

/// The `peers` event's entries as (addr, team, last_heard).
async fn peers_heard(b: &mut Headless) -> Vec<(String, String, Option<String>)> {
    b.cmd(serde_json::json!({"cmd": "peers"})).await;
    let v = b.expect("peers", |_| true).await;
    v["peers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
            (
                s("addr"),
                s("team"),
                p["last_heard"].as_str().map(String::from),
            )
        })
        .collect()
}

/// Point 3: one address is at most 64 peers (the 65th refused with a reset and a
/// `peers` notice); a peer from another address is accepted, listed, and after a
/// restart still listed with when it was last heard.
#[tokio::test]
async fn one_address_is_at_most_64_peers_and_others_survive_a_restart() {
    let mut b = Headless::start("B", &[]).await;
    let mut seen = Vec::new();
    for port in 7001..7065 {
        let text = format!("127.0.0.2:{port} F flood {port}");
        let clean = send_reading(&mut b, &mut seen, "127.0.0.2", text.as_bytes()).await;
        assert!(clean, "peer {port}");
    }
    assert!(!send_reading(&mut b, &mut seen, "127.0.0.2", b"127.0.0.2:7065 F one more").await);
    assert!(send_reading(&mut b, &mut seen, "127.0.0.3", b"127.0.0.3:8000 N hello").await);
    until_message(&mut b, &mut seen, "hello").await;
    assert_eq!(count(&seen, "rejected", "peers"), 1, "{seen:?}");
    let peers = peers_heard(&mut b).await;
    assert_eq!(peers.len(), 65, "{peers:?}");
    assert!(peers.iter().any(|p| p.0 == "127.0.0.3:8000" && p.1 == "N"));
    assert!(!peers.iter().any(|p| p.0 == "127.0.0.2:7065"));
    let data = b.data.clone();
    let _kept = b.quit().await;
    let mut b = Headless::start_on("B", &data, &[]).await;
    let peers = peers_heard(&mut b).await;
    assert_eq!(peers.len(), 65, "{peers:?}");
    let n = peers
        .iter()
        .find(|p| p.0 == "127.0.0.3:8000")
        .expect("N restored");
    assert_eq!(n.1, "N");
    assert!(n.2.is_some(), "{n:?}");
}

/// Out of file descriptors, brigade backs off before it tries to accept again (50 ms,
/// doubling to 1 s) instead of spinning on the error: a brigade allowed few descriptors
/// is held open by more idle connections than it has room for; while they last, it
/// reports the failure a handful of times and uses next to no CPU. Then, once the idle
/// connections are closed, a message gets through again.
#[cfg(target_os = "linux")]
#[tokio::test]
async fn out_of_descriptors_it_backs_off_and_recovers() {
    use std::os::unix::process::CommandExt as _;
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.brigade_async();
    cmd.args(["--headless", "--name", "A", "--port", "0"])
        .args(["--bind", "127.0.0.1", "--advertise-ip", "127.0.0.1"])
        .arg("--no-discovery")
        .arg("--log-file")
        .arg(sandbox.log())
        .arg("--data-dir")
        .arg(sandbox.data());
    // SAFETY: setrlimit is async-signal-safe; it runs in the child before exec.
    unsafe {
        cmd.as_std_mut().pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 40,
                rlim_max: 40,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
    let mut a = Headless::from_command(cmd, sandbox, "A").await;
    let to = addr_of(&a);
    let pid = a.child.id().unwrap();
    let ticks = || cpu_ticks(pid);
    // More idle connections than brigade has descriptors left: it accepts until none
    // are left, then accept fails (EMFILE) with the rest waiting in the backlog.
    let mut idle = Vec::new();
    for _ in 0..48 {
        idle.push(tokio::net::TcpStream::connect(to).await.unwrap());
    }
    a.expect("error", |v| {
        v["text"]
            .as_str()
            .is_some_and(|t| t.contains("cannot accept connections"))
    })
    .await;
    let before = ticks();
    let start = Instant::now();
    // The measuring window: the idle connections hold brigade's descriptors for 3 s.
    let mut reports = 1;
    while start.elapsed() < std::time::Duration::from_millis(1500) {
        if let Ok(v) = timeout(std::time::Duration::from_millis(100), a.expect_any()).await
            && v["text"]
                .as_str()
                .is_some_and(|t| t.contains("cannot accept connections"))
        {
            reports += 1;
        }
    }
    let used = ticks() - before;
    assert!(
        reports <= 8,
        "{reports} accept failures reported in 1.5 s: no back-off"
    );
    assert!(used <= 20, "{used} clock ticks in 1.5 s out of descriptors");
    drop(idle);
    assert!(
        send_acknowledged(to, b"127.0.0.1:7 S after the descriptors came back").await,
        "not accepting again"
    );
}
