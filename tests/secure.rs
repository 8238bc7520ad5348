//! Encrypted transport between two nodes on loopback: nothing readable on the wire, a ✓
//! only after the receiver committed, a changed key holds, bad handshakes and frames
//! are reset and nothing else happens. (Issue 16.)

mod support;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

use brigade::event::{MsgId, NetEvent, Secure};
use brigade::net::{Limits, NetMsg, RetryPolicy};
use brigade::secure::Keypair;
use support::{TestNode, WAIT, loopback};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::timeout;

/// A relay that forwards every connection to `to` and records what the client sent,
/// one byte vector per connection.
struct Tap {
    addr: SocketAddr,
    seen: Arc<Mutex<Vec<Vec<u8>>>>,
    /// How many client connections have ended (their recording is whole).
    closed: tokio::sync::watch::Receiver<usize>,
}

impl Tap {
    async fn start(to: SocketAddr) -> Tap {
        let listener = TcpListener::bind((loopback(), 0)).await.unwrap();
        let addr = listener.local_addr().unwrap();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (closed_tx, closed) = tokio::sync::watch::channel(0usize);
        let closed_tx = Arc::new(closed_tx);
        tokio::spawn(async move {
            while let Ok((mut client, _)) = listener.accept().await {
                let log = log.clone();
                let closed_tx = closed_tx.clone();
                tokio::spawn(async move {
                    let slot = {
                        let mut l = log.lock().unwrap();
                        l.push(Vec::new());
                        l.len() - 1
                    };
                    let mut server = TcpStream::connect(to).await.unwrap();
                    let (mut cr, mut cw) = client.split();
                    let (mut sr, mut sw) = server.split();
                    let up = async {
                        let mut buf = [0u8; 4096];
                        loop {
                            let n = cr.read(&mut buf).await.unwrap_or(0);
                            if n == 0 {
                                let _ = sw.shutdown().await;
                                closed_tx.send_modify(|n| *n += 1);
                                return;
                            }
                            log.lock().unwrap()[slot].extend_from_slice(&buf[..n]);
                            if sw.write_all(&buf[..n]).await.is_err() {
                                return;
                            }
                        }
                    };
                    let down = tokio::io::copy(&mut sr, &mut cw);
                    let _ = tokio::join!(up, down);
                });
            }
        });
        Tap { addr, seen, closed }
    }

    fn bytes(&self) -> Vec<Vec<u8>> {
        self.seen.lock().unwrap().clone()
    }
}

async fn pair() -> (TestNode, TestNode) {
    let a = TestNode::with("A", Limits::default(), RetryPolicy::default()).await;
    let b = TestNode::with("B", Limits::default(), RetryPolicy::default()).await;
    (a, b)
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The next message B receives, without acking it: (text, its receipt).
async fn received_unacked(b: &mut TestNode) -> (String, brigade::net::Receipt) {
    timeout(WAIT, async {
        loop {
            let NetMsg { event, receipt } = b.events.recv().await.unwrap();
            if let NetEvent::Received { message, .. } = event {
                return (message.text, receipt.unwrap());
            }
        }
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn a_pinned_peer_gets_ciphertext_and_the_tick_waits_for_its_commit() {
    let (mut a, mut b) = pair().await;
    let tap = Tap::start(b.addr()).await;
    a.node
        .set_transport(tap.addr, Some(Secure::Pinned(b.keys.public)));
    a.node
        .send(MsgId(1), tap.addr, "the secret plan is at noon".into())
        .unwrap();
    let (text, receipt) = received_unacked(&mut b).await;
    assert_eq!(text, "the secret plan is at noon");
    // Not stored yet: no tick.
    let early = timeout(std::time::Duration::from_millis(300), a.delivery()).await;
    assert!(early.is_err(), "delivered before the receiver committed");
    receipt.ack(true);
    assert_eq!(a.delivery().await.1, "delivered");
    // A second message rides the same connection.
    a.node
        .send(MsgId(2), tap.addr, "second secret".into())
        .unwrap();
    let (text, receipt) = received_unacked(&mut b).await;
    assert_eq!(text, "second secret");
    receipt.ack(true);
    assert_eq!(a.delivery().await, (2, "delivered", None));
    let wire = tap.bytes();
    assert_eq!(wire.len(), 1, "one connection for both messages");
    assert!(wire[0].starts_with(b"\0brigade\x01K"), "an IK handshake");
    for secret in [&b"secret"[..], b"plan", b"noon", b"127.0.0.1"] {
        assert!(!contains(&wire[0], secret), "plaintext on the wire");
    }
}

#[tokio::test]
async fn the_receiver_learns_the_senders_key() {
    let (a, mut b) = pair().await;
    a.node
        .set_transport(b.addr(), Some(Secure::Pinned(b.keys.public)));
    a.node.send(MsgId(1), b.addr(), "hello".into()).unwrap();
    let key = b.next(|e| matches!(e, NetEvent::PeerKey { .. })).await;
    let NetEvent::PeerKey {
        addr,
        team,
        key,
        inbound,
    } = key
    else {
        unreachable!()
    };
    assert_eq!(
        (addr, team.as_deref(), key, inbound),
        (a.addr(), Some("A"), a.keys.public, true)
    );
}

#[tokio::test]
async fn learning_a_key_uses_xx_and_reports_it() {
    let (mut a, mut b) = pair().await;
    a.node.set_transport(b.addr(), Some(Secure::Learn));
    a.node
        .send(MsgId(1), b.addr(), "first contact".into())
        .unwrap();
    assert_eq!(b.received().await.3, "first contact");
    let seen = a.next(|e| matches!(e, NetEvent::PeerKey { .. })).await;
    assert!(matches!(seen, NetEvent::PeerKey { key, .. } if key == b.keys.public));
    assert_eq!(a.delivery().await.1, "delivered");
}

#[tokio::test]
async fn a_changed_key_holds_the_message_and_sends_nothing() {
    let (mut a, mut b) = pair().await;
    let tap = Tap::start(b.addr()).await;
    let old = Keypair::generate().public;
    a.node.set_transport(tap.addr, Some(Secure::Pinned(old)));
    a.node
        .send(MsgId(1), tap.addr, "for the old key".into())
        .unwrap();
    let (_, status, reason) = a.delivery().await;
    assert_eq!(status, "held");
    assert!(reason.unwrap().contains("key changed"));
    // The next one is held at once, without a connection.
    let before = tap.bytes().len();
    a.node
        .send(MsgId(2), tap.addr, "still held".into())
        .unwrap();
    assert_eq!(a.delivery().await.1, "held");
    assert_eq!(tap.bytes().len(), before);
    for conn in tap.bytes() {
        assert!(!contains(&conn, b"old key"));
    }
    assert!(b.events.try_recv().is_err(), "the receiver got nothing");
    // Trusting the new key lets messages go.
    a.node
        .set_transport(tap.addr, Some(Secure::Pinned(b.keys.public)));
    a.node
        .send(MsgId(3), tap.addr, "now trusted".into())
        .unwrap();
    assert_eq!(b.received().await.3, "now trusted");
    assert_eq!(a.delivery().await, (3, "delivered", None));
}

/// Writes `bytes` on a fresh connection, half-closes, and tells whether the node
/// answered with a reset.
async fn reset_after(to: SocketAddr, bytes: &[u8]) -> bool {
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(bytes).await.unwrap();
    let _ = s.shutdown().await;
    let mut sink = Vec::new();
    let read = timeout(WAIT, s.read_to_end(&mut sink)).await.unwrap();
    matches!(read, Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset)
}

#[tokio::test]
async fn bad_handshakes_and_frames_are_reset_and_nothing_else_happens() {
    let (a, mut b) = pair().await;
    let tap = Tap::start(b.addr()).await;
    a.node
        .set_transport(tap.addr, Some(Secure::Pinned(b.keys.public)));
    a.node.send(MsgId(1), tap.addr, "once".into()).unwrap();
    assert_eq!(b.received().await.3, "once");
    // A closes the idle connection on its own: then the recording is whole.
    let mut closed = tap.closed.clone();
    timeout(WAIT, closed.wait_for(|n| *n >= 1))
        .await
        .unwrap()
        .unwrap();
    let recorded = tap.bytes()[0].clone();
    let cut_before = brigade::net::Stats::get(&b.node.stats().cut_connections);
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("unknown version", b"\0brigade\x09K".to_vec()),
        ("unknown pattern", b"\0brigade\x01Q".to_vec()),
        (
            "garbage handshake",
            [&b"\0brigade\x01K\x00\x30"[..], &[7u8; 48]].concat(),
        ),
        ("empty frame", b"\0brigade\x01X\x00\x00".to_vec()),
        ("truncated frame", b"\0brigade\x01X\x00\x20abc".to_vec()),
        ("truncated preamble", b"\0brig".to_vec()),
        ("replayed connection", recorded),
    ];
    let count = cases.len() as u64;
    for (what, bytes) in cases {
        assert!(reset_after(b.addr(), &bytes).await, "{what}: not reset");
    }
    // Nothing else happened: no message, no event at all.
    assert!(b.events.try_recv().is_err(), "an event after bad input");
    let cut_after = brigade::net::Stats::get(&b.node.stats().cut_connections);
    assert_eq!(cut_after - cut_before, count);
}

#[tokio::test]
async fn classic_peers_still_talk_plaintext_with_an_encrypting_node() {
    let (a, mut b) = pair().await;
    let classic = support::ClassicPeer::start().await;
    let mut classic = classic;
    // A encrypts to B and talks plaintext to the classic peer at the same time.
    a.node
        .set_transport(b.addr(), Some(Secure::Pinned(b.keys.public)));
    a.node
        .send(MsgId(1), classic.addr, "plain hello".into())
        .unwrap();
    a.node
        .send(MsgId(2), b.addr(), "sealed hello".into())
        .unwrap();
    assert!(classic.next_text().await.ends_with("A plain hello"));
    assert_eq!(b.received().await.3, "sealed hello");
    // And B takes a classic text on the same port.
    support::classic_send(b.addr(), b"127.0.0.1:5000 C classic text").await;
    assert_eq!(b.received().await.3, "classic text");
}
