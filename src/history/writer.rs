//! The writer thread: takes writes, receipts and sends in order, commits whatever has
//! queued up as one transaction (group commit: no waiting, no per-message fsync), and
//! only then acks the receipts (the senders see their close) and hands the sends to
//! the node (a message is stored before its first attempt). A failed commit is retried
//! with backoff; meanwhile receipts are refused (the sender's connection is reset) and
//! sends go out anyway, so chat keeps working in memory.

use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, channel, sync_channel};
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::mpsc::UnboundedSender;

use crate::event::{Delivery, MsgId, Persist};
use crate::net::{NodeSender, Receipt};

/// Most operations in one transaction.
const BATCH: usize = 4096;
/// Operations waiting for the writer. When the disk cannot keep up and this fills, the
/// app waits for room (backpressure reaches the senders) rather than grow without end.
pub const QUEUE: usize = 16 * 1024;

enum Op {
    Persist(Persist),
    Ack(Receipt),
    Send {
        id: MsgId,
        to: std::net::SocketAddr,
        text: String,
    },
    /// Answered once everything before it is committed (tests, clean quit).
    Flush(std::sync::mpsc::Sender<()>),
}

/// What the writer tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryNote {
    /// Writing failed; the text says why. Writes are kept and retried.
    Fault(String),
    /// Writing works again.
    Recovered,
    /// The node refused a send (its queue was full): report the message failed.
    SendFailed {
        id: MsgId,
        to: std::net::SocketAddr,
        reason: String,
    },
}

/// The handle the app writes through. Cheap to clone; the thread ends when the last
/// handle is dropped, after committing what it has.
#[derive(Clone)]
pub struct Writer {
    ops: SyncSender<Op>,
}

impl Writer {
    pub fn start(
        conn: Connection,
        node: NodeSender,
        notes: UnboundedSender<HistoryNote>,
    ) -> Writer {
        let (ops, rx) = sync_channel(QUEUE);
        std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || run(conn, rx, node, notes))
            .expect("spawning the history writer thread");
        Writer { ops }
    }

    pub fn persist(&self, p: Persist) {
        let _ = self.ops.send(Op::Persist(p));
    }

    /// Acks the receipt once everything queued before it is committed.
    pub fn ack(&self, receipt: Receipt) {
        if let Err(e) = self.ops.send(Op::Ack(receipt))
            && let Op::Ack(r) = e.0
        {
            r.ack(false);
        }
    }

    /// Sends once everything queued before it is committed.
    pub fn send(&self, id: MsgId, to: std::net::SocketAddr, text: String) {
        let _ = self.ops.send(Op::Send { id, to, text });
    }

    /// Waits (bounded) until everything queued so far is committed or given up on.
    pub fn flush(&self, timeout: Duration) {
        let (tx, rx) = channel();
        if self.ops.send(Op::Flush(tx)).is_ok() {
            let _ = rx.recv_timeout(timeout);
        }
    }
}

fn run(
    mut conn: Connection,
    rx: Receiver<Op>,
    node: NodeSender,
    notes: UnboundedSender<HistoryNote>,
) {
    let mut unwritten: Vec<Persist> = Vec::new();
    let mut backoff = Duration::from_millis(100);
    let mut faulty = false;
    loop {
        // Block for work; with writes waiting to be retried, only until the next try.
        let first = if unwritten.is_empty() {
            match rx.recv() {
                Ok(op) => Some(op),
                Err(_) => return,
            }
        } else {
            match rx.recv_timeout(backoff) {
                Ok(op) => Some(op),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => {
                    let _ = write(&mut conn, &unwritten);
                    return;
                }
            }
        };
        let mut batch: Vec<Op> = first.into_iter().collect();
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let mut writes = std::mem::take(&mut unwritten);
        let mut after = Vec::new();
        for op in batch {
            match op {
                Op::Persist(p) => writes.push(p),
                other => after.push(other),
            }
        }
        let ok = match write(&mut conn, &writes) {
            Ok(()) => {
                if faulty {
                    faulty = false;
                    let _ = notes.send(HistoryNote::Recovered);
                }
                backoff = Duration::from_millis(100);
                true
            }
            Err(e) => {
                tracing::warn!(error = %e, pending = writes.len(), "history write failed");
                if !faulty {
                    faulty = true;
                    let _ = notes.send(HistoryNote::Fault(format!(
                        "cannot write the history ({e}); chat goes on, writes are retried"
                    )));
                }
                unwritten = writes;
                backoff = (backoff * 2).min(Duration::from_secs(10));
                false
            }
        };
        for op in after {
            match op {
                Op::Ack(receipt) => receipt.ack(ok),
                Op::Send { id, to, text } => {
                    if let Err(reason) = node.send(id, to, text) {
                        let _ = notes.send(HistoryNote::SendFailed { id, to, reason });
                    }
                }
                Op::Flush(done) => {
                    let _ = done.send(());
                }
                Op::Persist(_) => unreachable!("persists were taken out above"),
            }
        }
    }
}

fn write(conn: &mut Connection, writes: &[Persist]) -> rusqlite::Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    {
        let mut insert = tx.prepare_cached(
            "INSERT INTO messages (at_ms, peer_ip, peer_port, team, outgoing, text, msg_id, status, reason, claimed_ip)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)
             ON CONFLICT (msg_id) DO NOTHING",
        )?;
        let mut status =
            tx.prepare_cached("UPDATE messages SET status = ?2, reason = ?3 WHERE msg_id = ?1")?;
        for w in writes {
            match w {
                Persist::Message(r) => {
                    insert.execute(params![
                        r.at.timestamp_millis(),
                        r.peer.ip.to_string(),
                        r.peer.port,
                        r.peer.team,
                        r.outgoing,
                        r.text,
                        r.msg_id.map(|m| m.0 as i64),
                        r.delivery.as_ref().map(Delivery::label),
                        r.delivery.as_ref().and_then(Delivery::reason),
                        r.claimed_ip.map(|ip| ip.to_string()),
                    ])?;
                }
                Persist::Status { id, status: s } => {
                    status.execute(params![id.0 as i64, s.label(), s.reason()])?;
                }
                Persist::Pin(pin) => super::pins::write(&tx, pin)?,
                Persist::Unpin(peer) => super::pins::delete(&tx, peer)?,
            }
        }
    }
    tx.commit()
}

/// For tests: the record as it would be written.
#[cfg(test)]
pub(super) fn write_for_test(conn: &mut Connection, writes: &[Persist]) -> rusqlite::Result<()> {
    write(conn, writes)
}
