//! Sending: a queue per peer address (messages to one peer leave in order, peers do
//! not wait for each other), one connection per wire text, delivery confirmed only by
//! the peer's clean close after our half-close, retries with backoff.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::timeout;

use super::encrypted::{self, Secure};
use super::{Command, Identity, Limits, NetMsg, Pins, RetryPolicy, describe};
use crate::event::{Delivery, MsgId, NetEvent};
use crate::protocol::{MAX_WIRE_BYTES, header, sanitize_text, split_for_wire};

/// Messages waiting for one peer; past it a message fails at once, loudly.
const PEER_QUEUE: usize = 1024;

/// What every outgoing text needs to know.
pub(super) struct Wire {
    pub identity: Identity,
    pub port: u16,
    pub retry: RetryPolicy,
    pub limits: Limits,
    pub keys: crate::secure::Keypair,
    pub pins: Pins,
}

/// How long an encrypted connection stays open for more messages once the queue is
/// empty (below the listener's idle close, so the sender is the one that ends it).
const KEEP_OPEN: std::time::Duration = std::time::Duration::from_secs(1);

type Session = Option<crate::secure::Channel<TcpStream>>;

struct Outgoing {
    id: MsgId,
    text: String,
}

pub(super) async fn run(
    mut commands: mpsc::Receiver<Command>,
    wire: Wire,
    events: mpsc::Sender<NetMsg>,
) {
    let wire = Arc::new(wire);
    let in_flight = Arc::new(Semaphore::new(wire.retry.max_in_flight));
    let mut queues: HashMap<SocketAddr, mpsc::Sender<Outgoing>> = HashMap::new();
    while let Some(Command::Send { id, to, text }) = commands.recv().await {
        let queue = queues.entry(to).or_insert_with(|| {
            let (tx, rx) = mpsc::channel(PEER_QUEUE);
            tokio::spawn(peer_worker(
                to,
                rx,
                wire.clone(),
                events.clone(),
                in_flight.clone(),
            ));
            tx
        });
        if queue.try_send(Outgoing { id, text }).is_err() {
            let reason = format!("{PEER_QUEUE} messages already waiting for {to}");
            report(&events, id, to, Delivery::Failed { reason }).await;
        }
    }
}

async fn report(events: &mpsc::Sender<NetMsg>, id: MsgId, to: SocketAddr, status: Delivery) {
    let event = NetEvent::Delivery { id, to, status };
    let _ = events
        .send(NetMsg {
            event,
            receipt: None,
        })
        .await;
}

/// Delivers the messages for one address, one after the other.
async fn peer_worker(
    to: SocketAddr,
    mut queue: mpsc::Receiver<Outgoing>,
    wire: Arc<Wire>,
    events: mpsc::Sender<NetMsg>,
    in_flight: Arc<Semaphore>,
) {
    let head = header(wire.identity.advertise_ip, wire.port, &wire.identity.team);
    // Parts already delivered of long messages that failed part way: a retry (same id,
    // same text, same peer) sends only the rest, never a delivered part twice.
    let mut delivered_parts: HashMap<MsgId, usize> = HashMap::new();
    let mut session: Session = None;
    loop {
        let next = if session.is_some() {
            match timeout(KEEP_OPEN, queue.recv()).await {
                Ok(next) => next,
                Err(_) => {
                    if let Some(mut chan) = session.take() {
                        let _ = chan.finish().await;
                    }
                    continue;
                }
            }
        } else {
            queue.recv().await
        };
        let Some(Outgoing { id, text }) = next else {
            break;
        };
        if wire.pins.get(to) == Some(Secure::Held) {
            report(&events, id, to, Delivery::held()).await;
            continue;
        }
        let Some(parts) = split_for_wire(&head, &text, MAX_WIRE_BYTES) else {
            let reason = "the header leaves no room for the text".to_string();
            report(&events, id, to, Delivery::Failed { reason }).await;
            continue;
        };
        let count = parts.len();
        let done = delivered_parts.remove(&id).filter(|&d| d < count);
        let mut status = Delivery::Delivered;
        for (n, part) in parts.iter().enumerate().skip(done.unwrap_or(0)) {
            let attempt = Attempt {
                to,
                id,
                part,
                wire: &wire,
                events: &events,
            };
            let outcome = deliver_with_retries(attempt, &in_flight, &mut session).await;
            if outcome.is_err() && n > 0 {
                delivered_parts.insert(id, n);
            }
            match outcome {
                Ok(()) => {}
                Err(None) => {
                    status = Delivery::held();
                    break;
                }
                Err(Some(reason)) => {
                    let reason = if count > 1 {
                        format!("part {} of {count}: {reason}", n + 1)
                    } else {
                        reason
                    };
                    status = Delivery::Failed { reason };
                    break;
                }
            }
        }
        tracing::debug!(%to, ?id, parts = count, status = status.label(), "sent");
        report(&events, id, to, status).await;
    }
}

/// One part of one message on its way.
#[derive(Clone, Copy)]
struct Attempt<'a> {
    to: SocketAddr,
    id: MsgId,
    part: &'a str,
    wire: &'a Wire,
    events: &'a mpsc::Sender<NetMsg>,
}

/// One attempt by the transport the store chose: encrypted to a peer whose key it
/// knows (or is learning), the classic way otherwise. `Err(None)`: held.
async fn attempt_once(
    a: Attempt<'_>,
    session: &mut Session,
) -> Result<Option<String>, Option<String>> {
    let policy = &a.wire.retry;
    let Some(secure) = a.wire.pins.get(a.to) else {
        *session = None;
        return deliver_once(
            a.to,
            a.part.as_bytes(),
            policy,
            a.wire.limits.max_reply_bytes,
        )
        .await
        .map_err(Some);
    };
    let sent = encrypted::deliver(
        a.to,
        a.part.as_bytes(),
        secure,
        &a.wire.keys,
        session,
        policy,
        a.events,
    )
    .await;
    match sent {
        Ok(()) => Ok(None),
        Err(encrypted::Failure::Retry(_)) if secure == Secure::Held => Err(None),
        Err(encrypted::Failure::Retry(reason)) => Err(Some(reason)),
        Err(encrypted::Failure::KeyChanged) => {
            a.wire.pins.set(a.to, Some(Secure::Held));
            Err(None)
        }
    }
}

async fn deliver_with_retries(
    a: Attempt<'_>,
    in_flight: &Semaphore,
    session: &mut Session,
) -> Result<(), Option<String>> {
    let Attempt { to, id, events, .. } = a;
    let policy = &a.wire.retry;
    let mut attempt = 1;
    loop {
        let result = {
            let _slot = in_flight
                .acquire()
                .await
                .map_err(|_| Some("node stopped".to_string()))?;
            attempt_once(a, session).await
        };
        let result = match result {
            Err(None) => return Err(None),
            Ok(reply) => Ok(reply),
            Err(Some(reason)) => Err(reason),
        };
        match result {
            Ok(reply) => {
                if let Some(text) = reply {
                    let event = NetEvent::Reply { from: to, text };
                    let _ = events
                        .send(NetMsg {
                            event,
                            receipt: None,
                        })
                        .await;
                }
                return Ok(());
            }
            Err(reason) if attempt >= policy.attempts => {
                return Err(Some(format!("{reason} (after {attempt} attempts)")));
            }
            Err(reason) => {
                tracing::debug!(%to, ?id, attempt, %reason, "retrying");
                let status = Delivery::Retrying { attempt, reason };
                report(events, id, to, status).await;
                tokio::time::sleep(policy.backoff(attempt)).await;
                attempt += 1;
            }
        }
    }
}

/// One attempt: connect, write, half-close, read until the peer closes. A clean close
/// means the peer read the whole text. A reply that arrives before a timeout also
/// proves the peer read it (some peers wait for us to close first).
async fn deliver_once(
    to: SocketAddr,
    bytes: &[u8],
    policy: &RetryPolicy,
    max_reply: usize,
) -> Result<Option<String>, String> {
    let mut stream = match timeout(policy.connect_timeout, TcpStream::connect(to)).await {
        Err(_) => return Err("no answer to connect".into()),
        Ok(Err(e)) => return Err(describe(&e)),
        Ok(Ok(s)) => s,
    };
    let write = async {
        stream.write_all(bytes).await?;
        stream.shutdown().await
    };
    match timeout(policy.close_timeout, write).await {
        Err(_) => return Err("peer does not read".into()),
        Ok(Err(e)) => return Err(describe(&e)),
        Ok(Ok(())) => {}
    }
    let mut reply = Vec::new();
    let mut chunk = [0u8; 1024];
    let read_to_close = async {
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Ok::<_, std::io::Error>(());
            }
            let room = max_reply.saturating_sub(reply.len());
            reply.extend_from_slice(&chunk[..n.min(room)]);
        }
    };
    let closed = timeout(policy.close_timeout, read_to_close).await;
    let reply_text = || {
        let text = sanitize_text(&String::from_utf8_lossy(&reply));
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    };
    match closed {
        Ok(Ok(())) => Ok(reply_text()),
        Ok(Err(e)) => Err(describe(&e)),
        Err(_) if !reply.is_empty() => Ok(reply_text()),
        Err(_) => Err(format!(
            "peer did not close within {} s",
            policy.close_timeout.as_secs_f32()
        )),
    }
}
