//! Issue 13 at the connection level, through real loopback sockets: whatever brigade
//! refuses, the sender sees a reset (never a clean close) and the refusal is reported
//! with a clear reason; what it accepts is stored whole.

mod support;

use std::io::ErrorKind;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use brigade::event::NetEvent;
use brigade::net::{Limits, MAX_MESSAGES_PER_CONNECTION, RetryPolicy, Stats};
use serde_json::Value;
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

/// How a connection ended, seen from the sender.
#[derive(Debug, PartialEq, Eq)]
enum Close {
    /// A clean EOF: the receiver says it has (stored) everything.
    Clean,
    /// ECONNRESET, on the read or on the write.
    Reset,
}

/// Reads until the receiver closes; a clean EOF or a reset (anything else fails).
async fn close_of(s: &mut TcpStream) -> Close {
    let mut rest = Vec::new();
    match timeout(WAIT, s.read_to_end(&mut rest)).await {
        Ok(Ok(_)) => Close::Clean,
        Ok(Err(e)) if e.kind() == ErrorKind::ConnectionReset => Close::Reset,
        other => panic!("neither a clean close nor a reset: {other:?}"),
    }
}

/// Writes `bytes`, half-closes and waits for the receiver's close. A write that fails
/// because the receiver reset the connection counts as a reset.
async fn write_and_close(s: &mut TcpStream, bytes: &[u8]) -> Close {
    let written = async {
        s.write_all(bytes).await?;
        s.shutdown().await
    };
    match written.await {
        Ok(()) => close_of(s).await,
        Err(e) if matches!(e.kind(), ErrorKind::ConnectionReset | ErrorKind::BrokenPipe) => {
            Close::Reset
        }
        Err(e) => panic!("write failed: {e}"),
    }
}

async fn send_and_close(to: SocketAddr, bytes: Vec<u8>) -> Close {
    let mut s = TcpStream::connect(to).await.unwrap();
    write_and_close(&mut s, &bytes).await
}

/// Connects from a chosen loopback source address (127.0.0.0/8 is all local). A reset
/// can arrive before connect returns: `Err(Close::Reset)`.
async fn connect_from(source: &str, to: SocketAddr) -> Result<TcpStream, Close> {
    let socket = TcpSocket::new_v4().unwrap();
    socket
        .bind(SocketAddr::new(source.parse::<IpAddr>().unwrap(), 0))
        .unwrap();
    match socket.connect(to).await {
        Ok(s) => Ok(s),
        Err(e) if e.kind() == ErrorKind::ConnectionReset => Err(Close::Reset),
        Err(e) => panic!("connect failed: {e}"),
    }
}

fn lines(n: usize) -> Vec<u8> {
    (1..=n)
        .flat_map(|i| format!("10.0.0.1:7001 C line {i}\n").into_bytes())
        .collect()
}

/// The reason of the next `Rejected` event, acking the receipts of messages before it.
async fn next_rejection(b: &mut TestNode) -> String {
    match b.next(|e| matches!(e, NetEvent::Rejected { .. })).await {
        NetEvent::Rejected { reason, .. } => reason,
        _ => unreachable!(),
    }
}

/// Every event up to the next received message whose text is `marker`, acking receipts.
async fn events_until(b: &mut TestNode, marker: &str) -> Vec<NetEvent> {
    let mut seen = Vec::new();
    loop {
        let msg = timeout(WAIT, b.events.recv()).await.unwrap().unwrap();
        if let Some(r) = msg.receipt {
            r.ack(true);
        }
        if matches!(&msg.event, NetEvent::Received { message, .. } if message.text == marker) {
            return seen;
        }
        seen.push(msg.event);
    }
}

/// Point 6: up to the limit, every message is stored and the close is clean.
#[tokio::test]
async fn sixty_four_messages_on_one_connection_are_all_stored() {
    let mut b = TestNode::start("B").await;
    let sender = tokio::spawn(send_and_close(b.addr(), lines(MAX_MESSAGES_PER_CONNECTION)));
    for i in 1..=MAX_MESSAGES_PER_CONNECTION {
        assert_eq!(b.received().await.3, format!("line {i}"));
    }
    assert_eq!(timeout(WAIT, sender).await.unwrap().unwrap(), Close::Clean);
}

/// Point 6: the 65th message on a connection is not dropped silently under a clean
/// close: the connection is reset and the refusal reported.
#[tokio::test]
async fn one_message_over_the_limit_resets_the_connection() {
    let mut b = TestNode::start("B").await;
    let n = MAX_MESSAGES_PER_CONNECTION + 1;
    let sender = tokio::spawn(send_and_close(b.addr(), lines(n)));
    let reason = next_rejection(&mut b).await;
    assert!(reason.contains("more than 64 messages"), "{reason}");
    assert_eq!(timeout(WAIT, sender).await.unwrap().unwrap(), Close::Reset);
    assert_eq!(Stats::get(&b.node.stats().cut_connections), 1);
}

/// Point 6, a sender that keeps the connection open: the message over the limit ends
/// after an idle gap, and still resets the connection.
#[tokio::test]
async fn a_message_over_the_limit_after_an_idle_gap_resets_the_connection() {
    let limits = Limits {
        max_messages_per_connection: 2,
        ..Limits::default()
    };
    let mut b = TestNode::with("B", limits, RetryPolicy::default()).await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(&lines(2)).await.unwrap();
    assert_eq!(b.received().await.3, "line 1");
    assert_eq!(b.received().await.3, "line 2");
    s.write_all(b"10.0.0.1:7001 C one too many").await.unwrap();
    let reason = next_rejection(&mut b).await;
    assert!(reason.contains("more than 2 messages"), "{reason}");
    assert_eq!(close_of(&mut s).await, Close::Reset);
}

/// Over the per-source cap, connections are refused with a reset, never a clean close,
/// and reported once (with a count), not once per connection.
#[tokio::test]
async fn over_the_per_source_cap_connections_are_reset_and_reported_once() {
    let limits = Limits {
        max_per_source: 2,
        idle_close: Duration::from_secs(60),
        total_deadline: Duration::from_secs(60),
        ..Limits::default()
    };
    let mut b = TestNode::with("B", limits, RetryPolicy::default()).await;
    let held = [
        connect_from("127.0.0.2", b.addr()).await.unwrap(),
        connect_from("127.0.0.2", b.addr()).await.unwrap(),
    ];
    // A sender that connects and waits: a clean EOF here would read as "delivered".
    let waiting = match connect_from("127.0.0.2", b.addr()).await {
        Ok(mut s) => close_of(&mut s).await,
        Err(close) => close,
    };
    assert_eq!(waiting, Close::Reset);
    // A sender that writes a message.
    let writing = match connect_from("127.0.0.2", b.addr()).await {
        Ok(mut s) => write_and_close(&mut s, b"127.0.0.2:7001 C refused").await,
        Err(close) => close,
    };
    assert_eq!(writing, Close::Reset);
    assert_eq!(Stats::get(&b.node.stats().refused_connections), 2);
    // Another address is unaffected; one notice came before its message.
    let marker = tokio::spawn(send_acknowledged(b.addr(), b"127.0.0.1:7002 D marker"));
    let seen = events_until(&mut b, "marker").await;
    let reasons: Vec<&String> = seen
        .iter()
        .filter_map(|e| match e {
            NetEvent::Rejected { reason, .. } => Some(reason),
            _ => None,
        })
        .collect();
    assert_eq!(reasons.len(), 1, "{seen:?}");
    assert!(
        reasons[0].contains("more than 2 connections open from this address"),
        "{}",
        reasons[0]
    );
    assert!(timeout(WAIT, marker).await.unwrap().unwrap());
    drop(held);
}

/// Point 8: a full header followed by nothing but white space is refused with a reset;
/// the two-field form keeps its meaning.
#[tokio::test]
async fn a_header_without_text_is_refused_with_a_reset() {
    let mut b = TestNode::start("B").await;
    for (n, raw) in [
        "10.0.0.1:7001 C ",
        "10.0.0.1:7001 C \r\n",
        "10.0.0.1:7001 C  \n",
    ]
    .into_iter()
    .enumerate()
    {
        let sender = tokio::spawn(send_and_close(b.addr(), raw.as_bytes().to_vec()));
        // Reported once a minute per source and reason (point 10); each is reset.
        if n == 0 {
            let reason = next_rejection(&mut b).await;
            assert!(reason.contains("no message text"), "{raw:?}: {reason}");
        }
        assert_eq!(timeout(WAIT, sender).await.unwrap().unwrap(), Close::Reset);
    }
    let to = b.addr();
    let two = tokio::spawn(send_and_close(
        to,
        b"10.0.0.1:7001 CONNECT_REQUEST\n".to_vec(),
    ));
    let (_, port, team, text) = b.received().await;
    assert_eq!(
        (port, team, text.as_str()),
        (Some(7001), None, "CONNECT_REQUEST")
    );
    assert_eq!(timeout(WAIT, two).await.unwrap().unwrap(), Close::Clean);
}

/// Point 8: a team name over 64 bytes is refused with a reset and a clear reason;
/// one of exactly 64 bytes is kept whole.
#[tokio::test]
async fn a_team_name_over_64_bytes_is_refused_with_a_reset() {
    let mut b = TestNode::start("B").await;
    let long = format!("10.0.0.1:7001 {} hi", "t".repeat(65)).into_bytes();
    let sender = tokio::spawn(send_and_close(b.addr(), long));
    let reason = next_rejection(&mut b).await;
    assert!(
        reason.contains("team name longer than 64 bytes"),
        "{reason}"
    );
    assert_eq!(timeout(WAIT, sender).await.unwrap().unwrap(), Close::Reset);
    let team = "t".repeat(64);
    let fits = format!("10.0.0.1:7001 {team} hi").into_bytes();
    let sender = tokio::spawn(send_and_close(b.addr(), fits));
    assert_eq!(b.received().await.2, Some(team));
    assert_eq!(timeout(WAIT, sender).await.unwrap().unwrap(), Close::Clean);
}

/// The real binary in headless mode, in its own sandbox (HOME, XDG dirs, data dir).
async fn headless(extra: &[&str]) -> Headless {
    let sandbox = Sandbox::new();
    let mut cmd = sandbox.brigade_async();
    cmd.args(["--headless", "--name", "B", "--port", "0"])
        .args(["--advertise-ip", "127.0.0.1"])
        .args(extra)
        .arg("--log-file")
        .arg(sandbox.log())
        .arg("--data-dir")
        .arg(sandbox.data());
    Headless::from_command(cmd, sandbox, "B").await
}

fn addr_of(h: &Headless) -> SocketAddr {
    h.addr.parse().unwrap()
}

/// Point 8: two long team names that differ (past the 32nd character) are two peers,
/// each listed with its whole name.
#[tokio::test]
async fn two_long_team_names_that_differ_are_two_peers() {
    let mut b = headless(&["--bind", "127.0.0.1"]).await;
    let alpha = format!("{}_alpha", "x".repeat(40));
    let bravo = format!("{}_bravo", "x".repeat(40));
    for team in [&alpha, &bravo] {
        let text = format!("127.0.0.1:7001 {team} hello");
        assert!(send_acknowledged(addr_of(&b), text.as_bytes()).await);
        b.expect("message", |v| v["team"] == team.as_str()).await;
    }
    let mut teams: Vec<String> = b.peers().await.into_iter().map(|p| p.1).collect();
    teams.sort();
    assert_eq!(teams, [alpha, bravo]);
}

/// Point 8: on a dual-stack socket an IPv4 sender arrives as `::ffff:127.0.0.1`; it is
/// the same peer as `127.0.0.1`, in the socket address and in the header, and the
/// "claimed address differs" flag does not fire.
#[tokio::test]
async fn ipv4_mapped_addresses_are_the_same_peer() {
    let mut b = headless(&["--bind", "::ffff:127.0.0.1"]).await;
    for header in ["[::ffff:127.0.0.1]:7001", "127.0.0.1:7001"] {
        let text = format!("{header} M from {header}");
        assert!(send_acknowledged(addr_of(&b), text.as_bytes()).await);
        let v: Value = b.expect("message", |_| true).await;
        assert_eq!(v["from"], "127.0.0.1:7001", "{v}");
        assert!(v.get("claimed_ip").is_none(), "flagged: {v}");
    }
    let peers = b.peers().await;
    assert_eq!(peers.len(), 1, "{peers:?}");
    assert_eq!(peers[0].0, "127.0.0.1:7001");
}
