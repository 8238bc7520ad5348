//! Test peers and helpers shared by the integration tests. Everything stays on loopback.
#![allow(dead_code)] // each test binary uses a different part

pub mod sandbox;
pub use sandbox::Sandbox;

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use brigade::event::NetEvent;
use brigade::net::{Identity, Limits, NetMsg, Node, NodeConfig, RetryPolicy, bind_listener};
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::{TcpSocket, TcpStream};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};
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
    pub keys: brigade::secure::Keypair,
}

impl TestNode {
    pub async fn start(team: &str) -> Self {
        Self::with(team, Limits::default(), RetryPolicy::default()).await
    }

    pub async fn with(team: &str, limits: Limits, retry: RetryPolicy) -> Self {
        Self::with_keys(team, limits, retry, brigade::secure::Keypair::generate()).await
    }

    pub async fn with_keys(
        team: &str,
        limits: Limits,
        retry: RetryPolicy,
        keys: brigade::secure::Keypair,
    ) -> Self {
        let listener = bind_listener(loopback(), 0, limits.backlog).unwrap();
        let config = NodeConfig {
            identity: Identity {
                advertise_ip: loopback(),
                team: team.into(),
            },
            limits,
            retry,
            keys: keys.clone(),
        };
        let (node, events) = Node::start(listener, config).unwrap();
        let mut t = TestNode { node, events, keys };
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
            NetEvent::Received { from, message, .. } => (
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
        Refusing::new().listen(reply)
    }

    /// A classic peer on a socket bound (and so kept from everyone else) beforehand.
    pub fn on_socket(socket: TcpSocket, reply: Option<&'static str>) -> Self {
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

/// A loopback port that refuses connections (bound, not listening) and stays ours: no
/// parallel test can take it, and it can start listening later on the same port.
pub struct Refusing {
    socket: TcpSocket,
    pub addr: SocketAddr,
}

impl Refusing {
    pub fn new() -> Refusing {
        let socket = TcpSocket::new_v4().unwrap();
        socket.bind(SocketAddr::from(([127, 0, 0, 1], 0))).unwrap();
        let addr = socket.local_addr().unwrap();
        Refusing { socket, addr }
    }

    /// The same port comes up as a classic peer.
    pub fn listen(self, reply: Option<&'static str>) -> ClassicPeer {
        ClassicPeer::on_socket(self.socket, reply)
    }
}

/// Sends like the classic program: connect, write everything, close. Does not wait
/// for brigade (which closes only once the message is acknowledged).
pub async fn classic_send(to: SocketAddr, bytes: &[u8]) {
    let mut s = TcpStream::connect(to).await.unwrap();
    s.write_all(bytes).await.unwrap();
}

/// The real binary in headless mode, driven over stdin/stdout.
pub struct Headless {
    pub child: Child,
    pub stdin: Option<ChildStdin>,
    lines: Lines<BufReader<ChildStdout>>,
    pub addr: String,
    /// The `listening` event (its fingerprint and key).
    pub listening: Value,
    pub data: std::path::PathBuf,
    pub sandbox: Sandbox,
}

impl Headless {
    pub async fn start(team: &str, extra: &[&str]) -> Headless {
        let sandbox = Sandbox::new();
        let data = sandbox.data();
        Self::start_with_data(team, extra, sandbox, data).await
    }

    /// Starts on a given data directory (to restart on the same history).
    pub async fn start_on(team: &str, data: &std::path::Path, extra: &[&str]) -> Headless {
        Self::start_with_data(team, extra, Sandbox::new(), data.to_path_buf()).await
    }

    async fn start_with_data(
        team: &str,
        extra: &[&str],
        sandbox: Sandbox,
        data: std::path::PathBuf,
    ) -> Headless {
        let mut cmd = sandbox.brigade_async();
        cmd.args(["--headless", "--name", team, "--port", "0"])
            .args(["--bind", "127.0.0.1", "--advertise-ip", "127.0.0.1"])
            .arg("--log-file")
            .arg(sandbox.log())
            .arg("--data-dir")
            .arg(&data)
            .args(extra);
        let mut h = Self::from_command(cmd, sandbox, team).await;
        h.data = data;
        h
    }

    /// Runs a prepared command (made by `sandbox`) and waits for `listening`.
    pub async fn from_command(mut cmd: Command, sandbox: Sandbox, team: &str) -> Headless {
        cmd.stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.stderr(Stdio::inherit()).spawn().unwrap();
        let stdin = child.stdin.take();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let mut h = Headless {
            child,
            stdin,
            lines,
            addr: String::new(),
            listening: Value::Null,
            data: std::path::PathBuf::new(),
            sandbox,
        };
        let listening = h.expect("listening", |_| true).await;
        assert_eq!(listening["team"], team);
        h.addr = listening["addr"].as_str().unwrap().to_string();
        h.listening = listening;
        h
    }

    pub async fn cmd(&mut self, v: Value) {
        let mut line = v.to_string();
        line.push('\n');
        let stdin = self.stdin.as_mut().unwrap();
        stdin.write_all(line.as_bytes()).await.unwrap();
        stdin.flush().await.unwrap();
    }

    /// The next event of this kind that satisfies `pred`; others are skipped.
    pub async fn expect(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Value {
        let wait = async {
            loop {
                let line = self
                    .lines
                    .next_line()
                    .await
                    .unwrap()
                    .expect("brigade exited");
                let v: Value = serde_json::from_str(&line).expect("every line is JSON");
                assert!(
                    v["at"]
                        .as_str()
                        .is_some_and(|at| chrono::DateTime::parse_from_rfc3339(at).is_ok()),
                    "{v}"
                );
                if v["event"] == event && pred(&v) {
                    return v;
                }
            }
        };
        timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {event}"))
    }

    /// Every line up to and including the first event of this kind that satisfies
    /// `pred`.
    pub async fn lines_until(&mut self, event: &str, pred: impl Fn(&Value) -> bool) -> Vec<Value> {
        let wait = async {
            let mut seen = Vec::new();
            loop {
                let v = self.next_value().await;
                let done = v["event"] == event && pred(&v);
                seen.push(v);
                if done {
                    return seen;
                }
            }
        };
        timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("timed out waiting for {event}"))
    }

    /// The next event, whatever it is.
    pub async fn expect_any(&mut self) -> Value {
        self.expect_where(|_| true).await
    }

    /// The next event that satisfies `pred`; others are skipped.
    pub async fn expect_where(&mut self, pred: impl Fn(&Value) -> bool) -> Value {
        let wait = async {
            loop {
                let v = self.next_value().await;
                if pred(&v) {
                    return v;
                }
            }
        };
        timeout(WAIT, wait)
            .await
            .expect("timed out waiting for an event")
    }

    /// The next line, as JSON.
    async fn next_value(&mut self) -> Value {
        let line = self
            .lines
            .next_line()
            .await
            .unwrap()
            .expect("brigade exited");
        serde_json::from_str(&line).expect("every line is JSON")
    }

    pub async fn peers(&mut self) -> Vec<(String, String, String)> {
        self.cmd(json!({"cmd": "peers"})).await;
        let v = self.expect("peers", |_| true).await;
        v["peers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| {
                let s = |k: &str| p[k].as_str().unwrap_or("").to_string();
                (s("addr"), s("team"), s("status"))
            })
            .collect()
    }

    pub async fn delivered(&mut self, to: &str) -> Value {
        self.expect("delivery", |v| v["to"] == to && v["status"] == "delivered")
            .await
    }

    /// The stored conversation with `peer` as (direction, text, status).
    pub async fn history(&mut self, peer: &str) -> Vec<(String, String, String)> {
        self.cmd(json!({"cmd": "history", "peer": peer, "limit": 10000}))
            .await;
        let v = self.expect("history", |_| true).await;
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| {
                let s = |k: &str| m[k].as_str().unwrap_or("").to_string();
                (s("direction"), s("text"), s("status"))
            })
            .collect()
    }

    /// Kills the process at once (no clean shutdown). Returns the sandbox that holds
    /// its data, to keep it for a restart.
    pub async fn kill9(mut self) -> Sandbox {
        self.child.kill().await.unwrap();
        self.sandbox
    }

    /// Closes stdin (quit) and waits for a clean exit. Returns the sandbox that holds
    /// its data, to keep it for a restart.
    pub async fn quit(mut self) -> Sandbox {
        drop(self.stdin.take());
        let status = timeout(WAIT, self.child.wait()).await.unwrap().unwrap();
        assert!(status.success(), "{status:?}");
        self.sandbox
    }
}

/// Sends like a careful peer: write, half-close, and wait for brigade's close. True when
/// the close was clean: brigade has the message (and, with history, has stored it).
pub async fn send_acknowledged(to: SocketAddr, bytes: &[u8]) -> bool {
    let Ok(mut s) = TcpStream::connect(to).await else {
        return false;
    };
    if s.write_all(bytes).await.is_err() || s.shutdown().await.is_err() {
        return false;
    }
    let mut rest = Vec::new();
    matches!(timeout(WAIT, s.read_to_end(&mut rest)).await, Ok(Ok(_)))
}

/// A process's user+sys CPU time so far, in clock ticks, from /proc/PID/stat (the 14th
/// and 15th fields; counted after the command name, which is in parentheses).
#[cfg(target_os = "linux")]
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    let f: Vec<&str> = stat[stat.rfind(')').unwrap() + 2..]
        .split_whitespace()
        .collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}
