//! The node on real loopback sockets: two brigade nodes, and classic-style peers in both
//! directions. No fixed sleeps: every wait is on an event, under a timeout.

mod support;

use std::time::Duration;

use brigade::event::{MsgId, NetEvent};
use brigade::net::{Limits, RetryPolicy};
use support::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;

#[tokio::test]
async fn two_nodes_exchange_messages_both_ways() {
    let mut a = TestNode::start("A").await;
    let mut b = TestNode::start("B").await;
    a.node.send(MsgId(1), b.addr(), "Hi from A".into()).unwrap();
    assert_eq!(
        b.received().await,
        (
            "127.0.0.1".into(),
            Some(a.addr().port()),
            Some("A".into()),
            "Hi from A".into()
        )
    );
    assert_eq!(a.delivery().await, (1, "delivered", None));

    b.node
        .send(MsgId(7), a.addr(), "Hi from B, with  two spaces".into())
        .unwrap();
    let (_, port, team, text) = a.received().await;
    assert_eq!(
        (port, team.as_deref(), text.as_str()),
        (
            Some(b.addr().port()),
            Some("B"),
            "Hi from B, with  two spaces"
        )
    );
    assert_eq!(b.delivery().await, (7, "delivered", None));
}

#[tokio::test]
async fn messages_to_one_peer_arrive_in_order() {
    let a = TestNode::start("A").await;
    let mut b = TestNode::start("B").await;
    for i in 0..50 {
        a.node
            .send(MsgId(i), b.addr(), format!("message {i}"))
            .unwrap();
    }
    for i in 0..50 {
        assert_eq!(b.received().await.3, format!("message {i}"));
    }
}

#[tokio::test]
async fn classic_peer_receives_the_classic_format() {
    let mut a = TestNode::start("A").await;
    let mut classic = ClassicPeer::start().await;
    a.node
        .send(MsgId(1), classic.addr, "Hi from A".into())
        .unwrap();
    let port = a.addr().port();
    assert_eq!(
        classic.next_text().await,
        format!("127.0.0.1:{port} A Hi from A")
    );
    assert_eq!(a.delivery().await, (1, "delivered", None));
}

#[tokio::test]
async fn long_messages_are_split_for_a_1024_byte_reader() {
    let mut a = TestNode::start("A").await;
    let mut classic = ClassicPeer::start().await;
    let text: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect::<String>()
        + "ü€😀";
    a.node.send(MsgId(1), classic.addr, text.clone()).unwrap();
    let header = format!("127.0.0.1:{} A ", a.addr().port());
    let mut joined = String::new();
    while joined.len() < text.len() {
        let part = classic.next_text().await;
        assert!(part.len() <= 1024, "part of {} bytes", part.len());
        joined.push_str(
            part.strip_prefix(&header)
                .expect("every part has the header"),
        );
    }
    assert_eq!(joined, text);
    assert_eq!(a.delivery().await, (1, "delivered", None));
}

#[tokio::test]
async fn a_reply_on_the_socket_is_reported() {
    let mut a = TestNode::start("A").await;
    let classic = ClassicPeer::start_with_reply(Some("[ACK] Message received from 9000")).await;
    a.node.send(MsgId(1), classic.addr, "hi".into()).unwrap();
    let e = a.next(|e| matches!(e, NetEvent::Reply { .. })).await;
    assert_eq!(
        e,
        NetEvent::Reply {
            from: classic.addr,
            text: "[ACK] Message received from 9000".into()
        }
    );
    assert_eq!(a.delivery().await, (1, "delivered", None));
}

/// Every way classic senders write, on real connections.
#[tokio::test]
async fn classic_senders_of_every_kind_are_understood() {
    let mut b = TestNode::start("B").await;
    let to = b.addr();
    type Want = (Option<u16>, Option<&'static str>, &'static str);
    let cases: &[(&[u8], &[Want])] = &[
        (
            b"10.1.1.1:8080 C no terminator",
            &[(Some(8080), Some("C"), "no terminator")],
        ),
        (
            b"10.1.1.1:8080 C crlf\r\n",
            &[(Some(8080), Some("C"), "crlf")],
        ),
        (
            b"10.1.1.1:8080 C one\n10.1.1.1:8080 C two\n10.1.1.1:8080 C three\n",
            &[
                (Some(8080), Some("C"), "one"),
                (Some(8080), Some("C"), "two"),
                (Some(8080), Some("C"), "three"),
            ],
        ),
        (
            b"10.1.1.1:8080 CONNECT_REQUEST",
            &[(Some(8080), None, "CONNECT_REQUEST")],
        ),
        (
            b"LISTENING_PORT:7000|TEAM_NAME:Z|piped",
            &[(Some(7000), Some("Z"), "piped")],
        ),
        (b"no header at all", &[(None, None, "no header at all")]),
        (
            b"10.1.1.1:8080 C caf\xc3",
            &[(Some(8080), Some("C"), "caf\u{fffd}")],
        ),
    ];
    for (bytes, want) in cases {
        classic_send(to, bytes).await;
        for (port, team, text) in *want {
            let (ip, p, t, got) = b.received().await;
            assert_eq!(ip, "127.0.0.1");
            assert_eq!(
                (p, t.as_deref(), got.as_str()),
                (*port, *team, *text),
                "for {bytes:?}"
            );
        }
    }
}

#[tokio::test]
async fn empty_connections_are_ignored() {
    let mut b = TestNode::start("B").await;
    classic_send(b.addr(), b"").await;
    classic_send(b.addr(), b"\r\n").await;
    classic_send(b.addr(), b"10.1.1.1:1 C after").await;
    assert_eq!(b.received().await.3, "after"); // nothing came before it
}

/// A sender that keeps the connection open waiting for a reply: the message is handled
/// after a short idle gap, then brigade closes.
#[tokio::test]
async fn a_sender_waiting_for_a_reply_is_served_without_eof() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(b"10.1.1.1:8080 C are you there?")
        .await
        .unwrap();
    assert_eq!(b.received().await.3, "are you there?");
    // Back-to-back writes separated in time are separate messages.
    s.write_all(b"10.1.1.1:8080 C second").await.unwrap();
    assert_eq!(b.received().await.3, "second");
    let mut rest = Vec::new();
    let closed = timeout(WAIT, s.read_to_end(&mut rest)).await;
    assert!(
        matches!(closed, Ok(Ok(0))),
        "brigade closes an idle connection"
    );
}

/// What a non-blocking peek at the socket finds right now: `None` when nothing has
/// arrived (no data, no FIN), else the byte count (0: the peer closed).
#[cfg(unix)]
fn peek_now(s: &TcpStream) -> Option<usize> {
    use std::os::fd::AsRawFd;
    let mut byte = [0u8; 1];
    // SAFETY: a valid fd and a one-byte buffer we own.
    let n = unsafe {
        libc::recv(
            s.as_raw_fd(),
            byte.as_mut_ptr().cast(),
            1,
            libc::MSG_PEEK | libc::MSG_DONTWAIT,
        )
    };
    (n >= 0).then_some(n as usize)
}

#[cfg(unix)] // peeks with libc
#[tokio::test]
async fn the_close_waits_for_the_receipt() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(b"10.1.1.1:8080 C hold on").await.unwrap();
    s.shutdown().await.unwrap();
    let msg = timeout(WAIT, b.events.recv()).await.unwrap().unwrap();
    let receipt = msg.receipt.expect("a received message carries a receipt");
    // Not acked yet: the connection is still open. The listener task ran up to its
    // wait for the receipt before this (single-threaded) test could take the event,
    // and a close on loopback reaches us within the close call: no FIN may be here.
    let mut byte = [0u8; 1];
    assert_eq!(peek_now(&s), None, "closed before the receipt");
    receipt.ack(true);
    assert_eq!(timeout(WAIT, s.read(&mut byte)).await.unwrap().unwrap(), 0);
}

#[tokio::test]
async fn a_failed_store_resets_the_connection() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(b"10.1.1.1:8080 C will not be stored")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let msg = timeout(WAIT, b.events.recv()).await.unwrap().unwrap();
    msg.receipt.unwrap().ack(false);
    let mut rest = Vec::new();
    let err = timeout(WAIT, s.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

#[tokio::test]
async fn nobody_listening_is_retried_then_failed() {
    let mut a = TestNode::with("A", Limits::default(), fast_retry()).await;
    // A port that is ours but not listening.
    let nobody = Refusing::new();
    let to = nobody.addr;
    a.node.send(MsgId(3), to, "anyone?".into()).unwrap();
    let mut attempts = Vec::new();
    let (id, status, reason) = loop {
        match a.next(|e| matches!(e, NetEvent::Delivery { .. })).await {
            NetEvent::Delivery { status, .. } if !status.is_final() => attempts.push(status),
            NetEvent::Delivery { id, status, .. } => {
                break (id, status.label(), status.reason().unwrap().to_string());
            }
            _ => unreachable!(),
        }
    };
    assert_eq!((id, status), (MsgId(3), "failed"));
    assert!(
        reason.contains("refused") && reason.contains("3 attempts"),
        "{reason}"
    );
    assert_eq!(attempts.len(), 2, "{attempts:?}");
}

/// A receiver that resets the first connection after the write succeeded (an
/// overflowing accept queue does this): the write alone is not a delivery.
#[tokio::test]
async fn a_reset_after_the_write_is_retried() {
    let mut a = TestNode::with("A", Limits::default(), fast_retry()).await;
    let socket = TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
    let listener = socket.listen(5).unwrap();
    let to = listener.local_addr().unwrap();
    let (tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    tokio::spawn(async move {
        let (first, _) = listener.accept().await.unwrap();
        first.set_zero_linger().unwrap();
        drop(first); // reset without reading
        let (mut second, _) = listener.accept().await.unwrap();
        let mut buf = vec![0u8; 1024];
        let n = second.read(&mut buf).await.unwrap();
        tx.send(String::from_utf8_lossy(&buf[..n]).to_string())
            .unwrap();
    });
    a.node.send(MsgId(1), to, "try again".into()).unwrap();
    let retry = a.next(|e| matches!(e, NetEvent::Delivery { .. })).await;
    assert!(
        matches!(
            retry,
            NetEvent::Delivery {
                status: brigade::event::Delivery::Retrying { attempt: 1, .. },
                ..
            }
        ),
        "{retry:?}"
    );
    assert_eq!(a.delivery().await, (1, "delivered", None));
    assert!(
        timeout(WAIT, got.recv())
            .await
            .unwrap()
            .unwrap()
            .ends_with("A try again")
    );
}

/// A receiver that never closes (and never replies) is not a delivery.
#[tokio::test]
async fn a_peer_that_never_closes_is_not_a_delivery() {
    let retry = RetryPolicy {
        attempts: 1,
        ..fast_retry()
    };
    let mut a = TestNode::with("A", Limits::default(), retry).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let (conn, _) = listener.accept().await.unwrap();
        std::future::pending::<()>().await;
        drop(conn);
    });
    a.node.send(MsgId(1), to, "hello?".into()).unwrap();
    let (_, status, reason) = a.delivery().await;
    assert_eq!(status, "failed");
    assert!(reason.unwrap().contains("did not close"));
    hold.abort();
}

/// A message whose receipt is dropped unacknowledged (the app died, the store failed)
/// was not stored: its sender must see a reset, never a clean close.
#[tokio::test]
async fn an_unacknowledged_message_ends_in_a_reset() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(b"10.1.1.1:8080 C lost on the way")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let msg = timeout(WAIT, b.events.recv()).await.unwrap().unwrap();
    drop(msg); // the receipt goes with it
    let mut rest = Vec::new();
    let err = timeout(WAIT, s.read_to_end(&mut rest))
        .await
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}

/// A long message that fails part way is retried from the first part not delivered:
/// the peer never gets a part twice.
#[tokio::test]
async fn a_retry_of_a_long_message_sends_only_the_parts_not_delivered() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    let mut a = TestNode::with("A", Limits::default(), fast_retry()).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap();
    let open = Arc::new(AtomicBool::new(true));
    let (tx, mut got) = tokio::sync::mpsc::unbounded_channel();
    let gate = open.clone();
    tokio::spawn(async move {
        let mut first = true;
        loop {
            let (mut conn, _) = listener.accept().await.unwrap();
            if gate.load(Ordering::SeqCst) {
                let mut text = Vec::new();
                conn.read_to_end(&mut text).await.unwrap();
                // The first part goes through; then the peer breaks down (resets).
                if std::mem::take(&mut first) {
                    gate.store(false, Ordering::SeqCst);
                }
                if tx.send(String::from_utf8(text).unwrap()).is_err() {
                    return;
                }
            } else {
                conn.set_zero_linger().unwrap();
            }
        }
    });
    let head = brigade::protocol::header(loopback(), a.addr().port(), "A");
    let text = (0..500).map(|n| format!("w{n} ")).collect::<String>();
    let parts =
        brigade::protocol::split_for_wire(&head, &text, brigade::protocol::MAX_WIRE_BYTES).unwrap();
    assert!(parts.len() >= 3, "a long message: {}", parts.len());

    a.node.send(MsgId(9), to, text.clone()).unwrap();
    let (id, status, reason) = a.delivery().await;
    assert_eq!((id, status), (9, "failed"));
    assert!(reason.unwrap().starts_with("part 2 of"));
    assert_eq!(got.recv().await.unwrap(), parts[0]);

    open.store(true, Ordering::SeqCst);
    a.node.send(MsgId(9), to, text).unwrap();
    assert_eq!(a.delivery().await, (9, "delivered", None));
    for part in &parts[1..] {
        assert_eq!(&timeout(WAIT, got.recv()).await.unwrap().unwrap(), part);
    }
    assert!(got.try_recv().is_err(), "a part arrived twice");
}

/// One connection carries at most 64 messages: the rest is cut off and reported.
#[tokio::test]
async fn a_connection_carries_at_most_64_messages() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    let flood: String = (0..70).map(|n| format!("127.0.0.1:9 C m{n}\n")).collect();
    s.write_all(flood.as_bytes()).await.unwrap();
    s.shutdown().await.unwrap();
    let mut received = Vec::new();
    let reason = loop {
        match b
            .next(|e| matches!(e, NetEvent::Received { .. } | NetEvent::Rejected { .. }))
            .await
        {
            NetEvent::Received { message, .. } => received.push(message.text),
            NetEvent::Rejected { reason, .. } => break reason,
            _ => unreachable!(),
        }
    };
    let expected: Vec<String> = (0..64).map(|n| format!("m{n}")).collect();
    assert_eq!(received, expected);
    assert!(reason.contains("more than 64 messages"), "{reason}");
    // Cut off: the sender sees a reset, not a delivery.
    let mut rest = Vec::new();
    assert!(
        timeout(WAIT, s.read_to_end(&mut rest))
            .await
            .unwrap()
            .is_err()
    );
}

/// A reply is cut to 4 KiB and sanitized before anything shows it.
#[tokio::test]
async fn a_reply_is_capped_at_4_kib_and_sanitized() {
    let mut a = TestNode::start("A").await;
    let long: &'static str = Box::leak("y".repeat(10_000).into_boxed_str());
    let hostile = "\x1b[31mred\x1b[0m \u{202e}evil\x07\x1b]0;title\x07 \u{200b}end";
    for (reply, want) in [
        (long, "y".repeat(4096)),
        (hostile, "red evil end".to_string()),
    ] {
        let classic = ClassicPeer::start_with_reply(Some(reply)).await;
        a.node.send(MsgId(1), classic.addr, "hi".into()).unwrap();
        match a.next(|e| matches!(e, NetEvent::Reply { .. })).await {
            NetEvent::Reply { text, .. } => assert_eq!(text, want),
            _ => unreachable!(),
        }
        assert_eq!(a.delivery().await, (1, "delivered", None));
    }
}

/// Past 1024 messages waiting for one peer, a message fails at once, loudly.
#[tokio::test]
async fn a_full_peer_queue_fails_the_message_at_once() {
    let retry = RetryPolicy {
        attempts: 1,
        close_timeout: Duration::from_secs(60),
        ..fast_retry()
    };
    let mut a = TestNode::with("A", Limits::default(), retry).await;
    // A peer that accepts and then never reads nor closes: the first message holds the
    // queue up.
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let to = listener.local_addr().unwrap();
    let hold = tokio::spawn(async move {
        let mut held = Vec::new();
        loop {
            held.push(listener.accept().await.unwrap());
        }
    });
    for id in 0..1026 {
        a.node.send(MsgId(id), to, format!("m{id}")).unwrap();
    }
    let (id, status, reason) = a.delivery().await;
    assert_eq!(status, "failed");
    assert!(id >= 1024, "message {id} failed, with room in the queue");
    assert!(
        reason.unwrap().contains("1024 messages already waiting"),
        "{id}"
    );
    hold.abort();
}

/// A receipt that is never answered (the app hangs) ends in a reset after the receipt
/// timeout: the connection is not held forever, and never closed cleanly.
#[tokio::test]
async fn an_unanswered_receipt_times_out_into_a_reset() {
    let mut b = TestNode::start("B").await;
    let mut s = TcpStream::connect(b.addr()).await.unwrap();
    s.write_all(b"10.1.1.1:8080 C nobody answers")
        .await
        .unwrap();
    s.shutdown().await.unwrap();
    let msg = timeout(WAIT, b.events.recv()).await.unwrap().unwrap();
    let _held = msg.receipt.expect("a received message carries a receipt");
    let mut rest = Vec::new();
    let err = timeout(2 * WAIT, s.read_to_end(&mut rest))
        .await
        .expect("the connection was held past the receipt timeout")
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::ConnectionReset);
}
