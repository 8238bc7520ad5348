//! Encrypted against plaintext, measured in one run so the figures compare:
//! the cost of a Noise handshake (XX and IK, in memory: CPU only), and the throughput of
//! one node sending N messages to another on loopback, classic (one connection per
//! message, delivered on the clean close) against encrypted (one kept connection, one
//! encrypted receipt per message). The receiver acks each message at once (no history),
//! so this is the transport alone.
//!
//!     cargo bench --bench secure          (BRIGADE_SECURE_N sets N, default 500)

use std::net::IpAddr;
use std::time::{Duration, Instant};

use brigade::event::{MsgId, NetEvent, Secure};
use brigade::net::{Identity, Limits, NetMsg, Node, NodeConfig, RetryPolicy, bind_listener};
use brigade::secure::{Keypair, accept, connect};
use tokio::sync::mpsc;

fn loopback() -> IpAddr {
    IpAddr::from([127, 0, 0, 1])
}

fn node(team: &str, keys: Keypair) -> (Node, mpsc::Receiver<NetMsg>) {
    let limits = Limits::default();
    let listener = bind_listener(loopback(), 0, limits.backlog).unwrap();
    let config = NodeConfig {
        identity: Identity {
            advertise_ip: loopback(),
            team: team.into(),
        },
        limits,
        retry: RetryPolicy::default(),
        keys,
    };
    Node::start(listener, config).unwrap()
}

async fn handshakes(n: usize, known: bool) -> Duration {
    let (ka, kb) = (Keypair::generate(), Keypair::generate());
    let start = Instant::now();
    for _ in 0..n {
        let (a, b) = tokio::io::duplex(1 << 16);
        let remote = known.then_some(kb.public);
        let (x, y) = tokio::join!(connect(a, &ka, remote), accept(b, &kb));
        x.unwrap();
        y.unwrap();
    }
    start.elapsed() / n as u32
}

/// Sends n messages from a to b (b acks each at once); returns messages per second and
/// the time to the first delivery.
async fn throughput(n: usize, encrypted: bool) -> (f64, Duration) {
    let (kb, ka) = (Keypair::generate(), Keypair::generate());
    let b_public = kb.public;
    let (b, mut b_events) = node("B", kb);
    let (a, mut a_events) = node("A", ka);
    let to = b.local_addr();
    if encrypted {
        a.set_transport(to, Some(Secure::Pinned(b_public)));
    }
    tokio::spawn(async move {
        while let Some(msg) = b_events.recv().await {
            if let Some(r) = msg.receipt {
                r.ack(true);
            }
        }
    });
    let start = Instant::now();
    let mut first = None;
    for i in 0..n {
        a.send(
            MsgId(i as u64),
            to,
            format!("message {i}: some ordinary chat text"),
        )
        .unwrap();
    }
    let mut delivered = 0;
    while delivered < n {
        let msg = a_events.recv().await.unwrap();
        if let NetEvent::Delivery { status, .. } = msg.event
            && status.is_final()
        {
            assert_eq!(status.label(), "delivered");
            first.get_or_insert(start.elapsed());
            delivered += 1;
        }
    }
    let secs = start.elapsed().as_secs_f64();
    drop(b);
    (n as f64 / secs, first.unwrap())
}

fn main() {
    let n: usize = std::env::var("BRIGADE_SECURE_N")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(500);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let xx = handshakes(200, false).await;
        let ik = handshakes(200, true).await;
        println!("handshake XX (in memory, both sides): {:>8.0} µs", xx.as_secs_f64() * 1e6);
        println!("handshake IK (in memory, both sides): {:>8.0} µs", ik.as_secs_f64() * 1e6);
        let (plain, plain_first) = throughput(n, false).await;
        let (sealed, sealed_first) = throughput(n, true).await;
        println!(
            "loopback, {n} messages to one peer: plaintext {plain:>7.0} msg/s (first delivered after {:.2} ms)",
            plain_first.as_secs_f64() * 1e3
        );
        println!(
            "loopback, {n} messages to one peer: encrypted {sealed:>7.0} msg/s (first delivered after {:.2} ms)",
            sealed_first.as_secs_f64() * 1e3
        );
    });
}
