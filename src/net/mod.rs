//! The node: a listener and a sender speaking the classic protocol (PROTOCOL.md).
//!
//! It talks to the rest only through [`Node::send`] (commands in, never blocking) and a
//! channel of [`NetMsg`] (facts out). It knows nothing of the UI or the store.

mod accept;
mod admission;
mod bind;
mod encrypted;
mod limits;
mod listener;
mod notices;
mod receipt;
mod sender;

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::sync::mpsc;
use tokio::task::JoinHandle;

pub use bind::{BindError, bind_listener};
pub use encrypted::Secure;
pub use limits::{Limits, MAX_MESSAGES_PER_CONNECTION, RetryPolicy};
pub use receipt::{Awaiting, Publisher, Receipt, Settled, Watermark};

use crate::event::{MsgId, NetEvent};

/// Capacity of the channel from the node to the app. Messages wait (backpressure on
/// the sending peer's connection) rather than being dropped.
pub const EVENT_CHANNEL: usize = 1024;
/// Capacity of the command channel into the node; a full one fails the message loudly.
pub const COMMAND_CHANNEL: usize = 4096;

/// Who this node is on the wire: the header of every outgoing text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub advertise_ip: IpAddr,
    pub team: String,
}

#[derive(Debug, Clone)]
pub struct NodeConfig {
    pub identity: Identity,
    pub limits: Limits,
    pub retry: RetryPolicy,
    /// The long-term key: encrypted connections prove it.
    pub keys: crate::secure::Keypair,
}

/// How the sender reaches each peer address that is not classic (set by the store).
#[derive(Debug, Clone, Default)]
pub struct Pins(Arc<std::sync::Mutex<std::collections::HashMap<SocketAddr, Secure>>>);

impl Pins {
    pub fn get(&self, addr: SocketAddr) -> Option<Secure> {
        let map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        map.get(&addr).copied()
    }

    /// `None`: the classic protocol, in plaintext.
    pub fn set(&self, addr: SocketAddr, secure: Option<Secure>) {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match secure {
            Some(s) => map.insert(addr, s),
            None => map.remove(&addr),
        };
    }
}

/// One fact from the node, with a receipt when it is a received message.
#[derive(Debug)]
pub struct NetMsg {
    pub event: NetEvent,
    pub receipt: Option<Receipt>,
}

/// Counters of what the node refused or dropped, for the status line.
#[derive(Debug, Default)]
pub struct Stats {
    /// Connections refused because one source address had too many open.
    pub refused_connections: AtomicU64,
    /// Informational events dropped because the app was not keeping up.
    pub dropped_events: AtomicU64,
    /// Connections cut for breaking a limit (size, deadline, message count).
    pub cut_connections: AtomicU64,
}

impl Stats {
    pub fn get(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }

    fn bump(counter: &AtomicU64) {
        counter.fetch_add(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
enum Command {
    Send {
        id: MsgId,
        to: SocketAddr,
        text: String,
    },
}

/// A cloneable, non-blocking way to queue messages on a node, and where the history
/// writer publishes how far it has committed (the node's connections wait on that).
#[derive(Clone)]
pub struct NodeSender(mpsc::Sender<Command>, Publisher);

impl NodeSender {
    /// Where the history writer publishes what it has settled.
    pub fn settled(&self) -> &Publisher {
        &self.1
    }

    pub fn send(&self, id: MsgId, to: SocketAddr, text: String) -> Result<(), String> {
        self.0
            .try_send(Command::Send { id, to, text })
            .map_err(|e| match e {
                mpsc::error::TrySendError::Full(_) => {
                    format!("outgoing queue full ({COMMAND_CHANNEL} messages waiting)")
                }
                mpsc::error::TrySendError::Closed(_) => "the network node has stopped".into(),
            })
    }
}

/// A running node. Dropping it stops the listener; queued sends stop with the runtime.
pub struct Node {
    commands: mpsc::Sender<Command>,
    local_addr: SocketAddr,
    stats: Arc<Stats>,
    pins: Pins,
    settled: (Publisher, Watermark),
    tasks: Vec<JoinHandle<()>>,
}

impl Node {
    /// A node of team "A" on 127.0.0.1, an ephemeral port, default limits and a fresh
    /// key: for the unit tests of the layers around the node.
    #[cfg(test)]
    pub(crate) fn on_loopback() -> (Node, mpsc::Receiver<NetMsg>) {
        let listener = bind_listener("127.0.0.1".parse().unwrap(), 0, 8).unwrap();
        let config = NodeConfig {
            identity: Identity {
                advertise_ip: "127.0.0.1".parse().unwrap(),
                team: "A".into(),
            },
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            keys: crate::secure::Keypair::generate(),
        };
        Node::start(listener, config).unwrap()
    }

    /// Starts the node on an already bound listener (see [`bind_listener`]), so a taken
    /// port is reported before anything else starts.
    pub fn start(
        listener: tokio::net::TcpListener,
        config: NodeConfig,
    ) -> std::io::Result<(Node, mpsc::Receiver<NetMsg>)> {
        let local_addr = listener.local_addr()?;
        // Every accepted connection inherits SO_LINGER 0 from the listener, so a close
        // before its messages are stored is a reset, crash included (`bind_listener`
        // sets it too; this covers a listener made elsewhere). One call here instead
        // of one per connection.
        socket2::SockRef::from(&listener).set_linger(Some(std::time::Duration::ZERO))?;
        let public = config.keys.public;
        let (events_tx, events_rx) = mpsc::channel(EVENT_CHANNEL);
        let (commands, commands_rx) = mpsc::channel(COMMAND_CHANNEL);
        let stats = Arc::new(Stats::default());
        let outbox = events_tx.clone();
        let listening = events_tx.clone();
        let pins = Pins::default();
        let settled = receipt::watermark();
        let accept = tokio::spawn(accept::run(
            listener,
            config.limits.clone(),
            config.keys.clone(),
            (events_tx, settled.1.clone()),
            stats.clone(),
        ));
        let wire = sender::Wire {
            identity: config.identity,
            port: local_addr.port(),
            retry: config.retry,
            limits: config.limits,
            keys: config.keys,
            pins: pins.clone(),
        };
        let send = tokio::spawn(sender::run(commands_rx, wire, outbox));
        // The channel is empty at this point, so this cannot fail for lack of room.
        let _ = listening.try_send(NetMsg {
            event: NetEvent::Listening {
                addr: local_addr,
                key: public,
            },
            receipt: None,
        });
        Ok((
            Node {
                commands,
                local_addr,
                stats,
                pins,
                settled,
                tasks: vec![accept, send],
            },
            events_rx,
        ))
    }

    /// Queues a message; never blocks. Fails only when the node's queue is full or the
    /// node has stopped, and then says so (the caller reports the message as failed).
    pub fn send(&self, id: MsgId, to: SocketAddr, text: String) -> Result<(), String> {
        self.sender().send(id, to, text)
    }

    /// A handle for sending from elsewhere (the history writer sends after commits).
    pub fn sender(&self) -> NodeSender {
        NodeSender(self.commands.clone(), self.settled.0.clone())
    }

    /// How far the history has committed, as the node's connections see it.
    pub fn watermark(&self) -> Watermark {
        self.settled.1.clone()
    }

    /// How messages to `addr` travel from now on (`None`: classic plaintext).
    pub fn set_transport(&self, addr: SocketAddr, secure: Option<Secure>) {
        self.pins.set(addr, secure);
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    pub fn stats(&self) -> &Stats {
        &self.stats
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// A socket error in words for the user.
fn describe(e: &std::io::Error) -> String {
    use std::io::ErrorKind::*;
    match e.kind() {
        ConnectionRefused => "connection refused (peer not listening)".into(),
        ConnectionReset => "connection reset by peer".into(),
        ConnectionAborted => "connection aborted".into(),
        BrokenPipe => "peer closed before reading".into(),
        HostUnreachable | NetworkUnreachable => "peer unreachable".into(),
        _ => e.to_string(),
    }
}
