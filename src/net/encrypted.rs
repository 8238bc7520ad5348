//! Encrypted connections (docs/PROTOCOL.md, "Encrypted connections"): serving one the
//! listener routed here, and delivering over one. The channel itself is
//! `crate::secure`; this is where it meets the node's limits, receipts and events.

use std::net::SocketAddr;
use std::time::Duration;

use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio::time::{Instant, timeout, timeout_at};

use super::admission::{self, SharedAdmission};
use super::notices::inform;
use super::{Limits, NetMsg, Receipt, Stats, Watermark};
use crate::event::{NetEvent, PublicKey};
use crate::protocol::inbound::PREVIEW_CHARS;
use crate::protocol::{Header, Parsed, parse_message, preview};
use crate::secure::channel::{KIND_MESSAGE, KIND_RECEIPT};
use crate::secure::{Channel, HANDSHAKE_DEADLINE, Keypair, accept, connect};

/// How long a received message waits for its commit before the connection is reset.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(10);

pub use crate::event::Secure;

/// Whether a connection begins with the encrypted preamble's first byte (a NUL, which
/// no classic text begins with). Peeks, so a classic connection is read unchanged.
pub(super) async fn encrypted_first(stream: &TcpStream, limits: &Limits) -> bool {
    let mut first = [0u8; 1];
    matches!(
        timeout(limits.idle_close, stream.peek(&mut first)).await,
        Ok(Ok(1)) if first[0] == crate::secure::MAGIC[0]
    )
}

/// What an encrypted connection answers to: the node's limits, events, counters and
/// the per-source rate and quota (the same as for classic connections).
pub(super) type Node<'a> = (
    &'a Limits,
    &'a mpsc::Sender<NetMsg>,
    &'a Stats,
    &'a SharedAdmission,
    &'a Watermark,
);

/// Serves a connection whose first byte says it is encrypted. Anything wrong (a bad
/// preamble or handshake, a frame out of bounds, a replay, a limit, a store that did
/// not commit) ends it with a reset, and nothing else happens.
pub(super) async fn serve(stream: TcpStream, from: SocketAddr, keys: &Keypair, node: Node<'_>) {
    let (limits, events, stats, _, settled) = node;
    // A reset until stored: SO_LINGER 0 is inherited from the listener.
    // One small frame each way per message: without this, Nagle and delayed ACKs
    // cost milliseconds per message.
    let _ = stream.set_nodelay(true);
    let mut chan = match timeout(HANDSHAKE_DEADLINE, accept(stream, keys)).await {
        Ok(Ok(chan)) => chan,
        Ok(Err(e)) => return refused(from, stats, &format!("handshake failed: {e}")),
        Err(_) => return refused(from, stats, "handshake took too long"),
    };
    let deadline = Instant::now() + limits.total_deadline;
    let mut messages = 0usize;
    let mut told: Option<(u16, String)> = None;
    loop {
        let until = (Instant::now() + limits.idle_close).min(deadline);
        let plain = match timeout_at(until, chan.recv()).await {
            Ok(Ok(Some(plain))) => plain,
            Ok(Ok(None)) => break,
            Ok(Err(e)) => return refused(from, stats, &format!("bad frame: {e}")),
            Err(_) => return refused(from, stats, "idle or open too long"),
        };
        let Some((&KIND_MESSAGE, text)) = plain.split_first() else {
            return refused(from, stats, "not a message frame");
        };
        messages += 1;
        if messages > limits.max_messages_per_connection || text.len() > limits.max_message_bytes {
            return refused(from, stats, "over the limits");
        }
        let stored = match parse_message(text) {
            Parsed::Message(message) => {
                if !admit(&message.header, text.len(), from, node) {
                    return refused(from, stats, "over its rate or quota");
                }
                // The key first: a known key at a new address moves its peer there
                // before the message finds it.
                tell_key(events, from, &message.header, chan.remote(), &mut told).await;
                let (receipt, awaiting) = Receipt::pair(settled);
                let event = NetEvent::Received {
                    from,
                    message,
                    sealed: true,
                };
                let msg = NetMsg {
                    event,
                    receipt: Some(receipt),
                };
                if events.send(msg).await.is_err() {
                    return;
                }
                matches!(timeout(RECEIPT_TIMEOUT, awaiting.stored()).await, Ok(true))
            }
            Parsed::Empty => true,
            Parsed::Rejected { reason, .. } => {
                let event = NetEvent::Rejected {
                    from,
                    reason,
                    preview: preview(text, PREVIEW_CHARS),
                };
                let _ = events
                    .send(NetMsg {
                        event,
                        receipt: None,
                    })
                    .await;
                false
            }
        };
        if !stored || chan.send(&[KIND_RECEIPT]).await.is_err() {
            return; // a reset: the sender retries
        }
    }
    let _ = socket2::SockRef::from(chan.stream()).set_linger(None);
}

/// The per-source rate and quota, as for a classic connection; a refusal is reported
/// (at most once a minute per source and reason).
fn admit(header: &Header, bytes: usize, from: SocketAddr, node: Node<'_>) -> bool {
    let (limits, events, stats, admission, _) = node;
    let identity = (header.port, header.team.as_deref());
    let admitted = admission::admit(admission, from.ip(), identity, bytes);
    if let Err(over) = admitted
        && let Some(event) = admission::refused(admission, from, over, limits)
    {
        inform(events, stats, event);
    }
    admitted.is_ok()
}

/// The key a handshake proved, for the peer the message's header names (its socket
/// IP and advertised port), told once per connection and header.
async fn tell_key(
    events: &mpsc::Sender<NetMsg>,
    from: SocketAddr,
    header: &Header,
    key: PublicKey,
    told: &mut Option<(u16, String)>,
) {
    let Some(port) = header.port else { return };
    let team = header.team.clone().unwrap_or_default();
    if told.as_ref() == Some(&(port, team.clone())) {
        return;
    }
    *told = Some((port, team.clone()));
    let event = NetEvent::PeerKey {
        addr: SocketAddr::new(from.ip(), port),
        team: Some(team).filter(|t| !t.is_empty()),
        key,
        inbound: true,
    };
    let _ = events
        .send(NetMsg {
            event,
            receipt: None,
        })
        .await;
}

fn refused(from: SocketAddr, stats: &Stats, why: &str) {
    Stats::bump(&stats.cut_connections);
    tracing::info!(%from, why, "encrypted connection refused with a reset");
}

/// Why an encrypted attempt did not deliver.
pub(super) enum Failure {
    /// Try again later (the usual retry).
    Retry(String),
    /// The peer proved another key than the pinned one: hold, never send.
    KeyChanged,
}

/// One encrypted attempt over the kept connection, opening it if needed: send the
/// part, wait for its receipt (the peer committed it).
pub(super) async fn deliver(
    to: SocketAddr,
    part: &[u8],
    secure: Secure,
    keys: &Keypair,
    session: &mut Option<Channel<TcpStream>>,
    policy: &super::RetryPolicy,
    events: &mpsc::Sender<NetMsg>,
) -> Result<(), Failure> {
    // The receiver takes at most this many messages per connection: start a new one
    // before it would reset us.
    if let Some(chan) = session
        && chan.sent() >= super::MAX_MESSAGES_PER_CONNECTION as u64
    {
        let _ = chan.finish().await;
        *session = None;
    }
    if session.is_none() {
        *session = Some(open(to, secure, keys, policy.connect_timeout, events).await?);
    }
    let chan = session.as_mut().expect("just opened");
    let mut frame = Vec::with_capacity(part.len() + 1);
    frame.push(KIND_MESSAGE);
    frame.extend_from_slice(part);
    let exchange = async {
        chan.send(&frame).await?;
        chan.recv().await
    };
    let result = timeout(policy.close_timeout, exchange).await;
    match result {
        Ok(Ok(Some(r))) if r == [KIND_RECEIPT] => Ok(()),
        Ok(Ok(Some(_))) => fail(session, "unexpected frame instead of a receipt"),
        Ok(Ok(None)) => fail(session, "peer closed before its receipt"),
        Ok(Err(e)) => fail(session, &super::describe(&e)),
        Err(_) => fail(session, "no receipt in time"),
    }
}

fn fail<T>(session: &mut Option<Channel<TcpStream>>, why: &str) -> Result<T, Failure> {
    *session = None;
    Err(Failure::Retry(why.to_string()))
}

async fn dial(to: SocketAddr, connect_timeout: Duration) -> Result<TcpStream, Failure> {
    match timeout(connect_timeout, TcpStream::connect(to)).await {
        Err(_) => Err(Failure::Retry("no answer to connect".into())),
        Ok(Err(e)) => Err(Failure::Retry(super::describe(&e))),
        Ok(Ok(s)) => {
            let _ = s.set_nodelay(true);
            Ok(s)
        }
    }
}

/// Tells the store which key the peer at `to` proved in an outbound handshake.
async fn report_key(to: SocketAddr, key: PublicKey, events: &mpsc::Sender<NetMsg>) {
    let event = NetEvent::PeerKey {
        addr: to,
        team: None,
        key,
        inbound: false,
    };
    let _ = events
        .send(NetMsg {
            event,
            receipt: None,
        })
        .await;
}

/// Connects and shakes hands: IK to a pinned key; if that fails, XX once to learn why
/// (another key means the key changed: nothing is sent); XX when learning.
async fn open(
    to: SocketAddr,
    secure: Secure,
    keys: &Keypair,
    connect_timeout: Duration,
    events: &mpsc::Sender<NetMsg>,
) -> Result<Channel<TcpStream>, Failure> {
    let pinned = match secure {
        Secure::Pinned(k) => Some(k),
        Secure::Learn => None,
        Secure::Held => return Err(Failure::Retry("held".into())),
    };
    if let Some(pin) = pinned {
        let stream = dial(to, connect_timeout).await?;
        if let Ok(Ok(chan)) = timeout(HANDSHAKE_DEADLINE, connect(stream, keys, Some(pin))).await {
            // Proof of the pinned key: it settles an announcement that named another.
            report_key(to, pin, events).await;
            return Ok(chan);
        }
    }
    let stream = dial(to, connect_timeout).await?;
    let chan = match timeout(HANDSHAKE_DEADLINE, connect(stream, keys, None)).await {
        Ok(Ok(chan)) => chan,
        Ok(Err(e)) => return Err(Failure::Retry(format!("handshake failed: {e}"))),
        Err(_) => return Err(Failure::Retry("handshake took too long".into())),
    };
    let key = chan.remote();
    if pinned.is_none_or(|pin| pin != key) {
        report_key(to, key, events).await;
    }
    match pinned {
        Some(pin) if pin != key => Err(Failure::KeyChanged),
        _ => Ok(chan),
    }
}
