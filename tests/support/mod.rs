//! Test peers and helpers shared by the integration tests. Everything stays on loopback.
#![allow(dead_code)] // each test binary uses a different part

use std::net::SocketAddr;
use std::time::Duration;

use brigade::event::NetEvent;
use brigade::net::{Identity, Limits, NetMsg, Node, NodeConfig, RetryPolicy, bind_listener};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// How long any single wait in a test may take before the test fails.
pub const WAIT: Duration = Duration::from_secs(10);

pub fn loopback() -> std::net::IpAddr {
    "127.0.0.1".parse().unwrap()
}

/// A retry policy that gives up quickly, for failure tests.
pub fn fast_retry() -> RetryPolicy {
    RetryPolicy {
        attempts: 3,
        first_backoff: Duration::from_millis(20),
        max_backoff: Duration::from_millis(50),
        connect_timeout: Duration::from_secs(1),
        close_timeout: Duration::from_millis(500),
        max_in_flight: 16,
    }
}

pub struct TestNode {
    pub node: Node,
    pub events: mpsc::Receiver<NetMsg>,
}

impl TestNode {
    pub async fn start(team: &str) -> Self {
        Self::with(team, Limits::default(), RetryPolicy::default()).await
    }

    pub async fn with(team: &str, limits: Limits, retry: RetryPolicy) -> Self {
        let listener = bind_listener(loopback(), 0, limits.backlog).unwrap();
        let config = NodeConfig {
            identity: Identity {
                advertise_ip: loopback(),
                team: team.into(),
            },
            limits,
            retry,
        };
        let (node, events) = Node::start(listener, config).unwrap();
        let mut t = TestNode { node, events };
        t.next(|e| matches!(e, NetEvent::Listening { .. })).await;
        t
    }

    pub fn addr(&self) -> SocketAddr {
        self.node.local_addr()
    }

    /// The next event that matches, acking receipts of the ones skipped.
    pub async fn next(&mut self, want: impl Fn(&NetEvent) -> bool) -> NetEvent {
        let wait = async {
            loop {
                let msg = self.events.recv().await.expect("node stopped");
                if let Some(r) = msg.receipt {
                    r.ack(true);
                }
                if want(&msg.event) {
                    return msg.event;
                }
            }
        };
        timeout(WAIT, wait)
            .await
            .expect("timed out waiting for an event")
    }

    /// The next received message as (socket ip, header port, team, text).
    pub async fn received(&mut self) -> (String, Option<u16>, Option<String>, String) {
        match self.next(|e| matches!(e, NetEvent::Received { .. })).await {
            NetEvent::Received { from, message } => (
                from.ip().to_string(),
                message.header.port,
                message.header.team,
                message.text,
            ),
            _ => unreachable!(),
        }
    }

    /// The next final delivery report as (id, status label, reason).
    pub async fn delivery(&mut self) -> (u64, &'static str, Option<String>) {
        let e = self
            .next(|e| matches!(e, NetEvent::Delivery { status, .. } if status.is_final()))
            .await;
        match e {
            NetEvent::Delivery { id, status, .. } => {
                (id.0, status.label(), status.reason().map(str::to_string))
            }
            _ => unreachable!(),
        }
    }
}

/// A peer that behaves like the classic Python program: listen with a backlog of 5,
/// accept, one `recv(1024)`, print, close. Optionally replies before closing.
pub struct ClassicPeer {
    pub addr: SocketAddr,
    pub texts: mpsc::UnboundedReceiver<Vec<u8>>,
}

impl ClassicPeer {
    pub async fn start() -> Self {
        Self::start_with_reply(None).await
    }

    pub async fn start_with_reply(reply: Option<&'static str>) -> Self {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind("127.0.0.1:0".parse().unwrap()).unwrap();
        let listener = socket.listen(5).unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, texts) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                let Ok((mut conn, _)) = listener.accept().await else {
                    return;
                };
                let mut buf = vec![0u8; 1024];
                let n = conn.read(&mut buf).await.unwrap_or(0);
                buf.truncate(n);
                if let Some(r) = reply {
                    let _ = conn.write_all(r.as_bytes()).await;
                }
                let _ = tx.send(buf);
                drop(conn);
            }
        });
        ClassicPeer { addr, texts }
    }

    pub async fn next_text(&mut self) -> String {
        let bytes = timeout(WAIT, self.texts.recv())
            .await
            .expect("timed out waiting for the classic peer")
            .expect("classic peer stopped");
        String::from_utf8(bytes).expect("brigade sends UTF-8")
    }
}

/// Sends like the classic program: connect, write everything, close. Does not wait
/// for brigade (which closes only once the message is acknowledged).
pub async fn classic_send(to: SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(bytes).await.unwrap();
}
