//! The writer thread: takes writes and sends in order, in batches the app gathered
//! (one hand-off per burst of events, see [`Gather`]), commits whatever has queued up
//! as one transaction (group commit: no waiting, no per-message fsync), and only then
//! publishes the number of the last write it settled (the node's connections waiting
//! on those writes close themselves: one wake-up per batch, see `net::receipt`) and
//! hands the sends to the node (a message is stored before its first attempt). A
//! failed commit (a full or failing disk, a lock held too long) is given up at once:
//! nothing is kept to be written later, its writes are published as failed (their
//! senders see a reset and may retry; a refused message never appears in the history
//! afterwards), and its outgoing messages are reported failed instead of sent. The
//! first write that succeeds again reports the recovery. Indexing and checkpoints come
//! after the batch is published (`upkeep`).

use std::collections::HashSet;
use std::ops::RangeInclusive;
use std::sync::mpsc::{Receiver, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rusqlite::{Connection, params};
use tokio::sync::mpsc::UnboundedSender;

use super::upkeep::Upkeep;
use crate::event::{Delivery, MsgId, Notice, Persist};
use crate::net::{NodeSender, Receipt};

/// Most operations in one transaction.
const BATCH: usize = 4096;
/// Batches of operations waiting for the writer (a batch: what one burst of up to
/// 1 024 events asked for, see [`Gather`]). When the disk cannot keep up and this
/// fills, the app waits for room (backpressure reaches the senders). What the batches
/// hold is bounded before that: received text awaiting its commit by
/// `Limits::max_pending_bytes`, outgoing messages by what the user sends.
pub const QUEUE: usize = 1024;

enum Op {
    Persist(Persist),
    Send {
        id: MsgId,
        to: std::net::SocketAddr,
        text: String,
    },
    /// A notice told only once what came before is committed (`pending`).
    Notify(Notice),
    /// Answered once everything before it is committed (tests, clean quit).
    Flush(std::sync::mpsc::Sender<()>),
    /// Where a persist was in the batch, once its write was taken out.
    Wrote(Written),
}

/// What the thread takes at once: the operations one [`Gather`] collected, in order.
type Batch = Vec<Op>;

/// What a persist taken out of the batch stored.
enum Written {
    /// An outgoing message: its send follows.
    Sent(MsgId),
    /// A received message, a delivery state, a pin.
    Other,
}

/// What the writer tells the app.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryNote {
    /// Writing failed; the text says why. What failed was given up (not kept).
    Fault(String),
    /// Writing works again.
    Recovered,
    /// The node refused a send (its queue was full): report the message failed.
    SendFailed {
        id: MsgId,
        to: std::net::SocketAddr,
        reason: String,
    },
    /// A notice held until what came before it was committed.
    Committed(Notice),
}

/// The handle the app writes through. Cheap to clone; the thread ends when the last
/// handle is dropped, after committing what it has.
#[derive(Clone)]
pub struct Writer {
    ops: SyncSender<Batch>,
    /// The number of the last write gathered: writes are numbered in hand-off order
    /// (a [`Gather`] holds the lock until its batch is handed off), as the thread
    /// counts them.
    queued: Arc<Mutex<u64>>,
    /// Where the thread publishes what it settled (see `net::receipt`).
    settled: crate::net::Publisher,
}

impl Writer {
    pub fn start(
        conn: Connection,
        node: NodeSender,
        notes: UnboundedSender<HistoryNote>,
    ) -> Writer {
        let (ops, rx) = sync_channel(QUEUE);
        let settled = node.settled().clone();
        std::thread::Builder::new()
            .name("history-writer".into())
            .spawn(move || run(conn, rx, node, notes))
            .expect("spawning the history writer thread");
        Writer {
            ops,
            queued: Arc::default(),
            settled,
        }
    }

    /// Collects operations to hand to the thread together, when the [`Gather`] is
    /// dropped: one hand-off (one wake-up of the thread) for a whole burst of events.
    /// Writes are numbered as they are gathered; the numbering lock is held until the
    /// hand-off, so batches reach the thread in the order of their numbers.
    pub fn gather(&self) -> Gather<'_> {
        Gather {
            writer: self,
            queued: self.queued.lock().unwrap_or_else(|e| e.into_inner()),
            ops: Vec::new(),
            seqs: None,
        }
    }

    /// Queues a write on its own (see [`Gather::persist`]); the app gathers a burst's
    /// writes instead, these are for tests of the thread.
    #[cfg(test)]
    pub fn persist(&self, p: Persist, receipt: Option<Receipt>) {
        self.gather().persist(p, receipt);
    }

    /// Tells the notice once everything queued before it is committed.
    #[cfg(test)]
    pub fn notify(&self, notice: Notice) {
        self.gather().notify(notice);
    }

    /// Sends once everything queued before it is committed.
    #[cfg(test)]
    pub fn send(&self, id: MsgId, to: std::net::SocketAddr, text: String) {
        self.gather().send(id, to, text);
    }

    /// Waits (bounded) until everything queued so far is committed or given up on.
    pub fn flush(&self, timeout: Duration) {
        let (tx, rx) = channel();
        if self.ops.send(vec![Op::Flush(tx)]).is_ok() {
            let _ = rx.recv_timeout(timeout);
        }
    }
}

/// Operations gathered for one hand-off to the writer thread (see [`Writer::gather`]).
pub struct Gather<'a> {
    writer: &'a Writer,
    queued: std::sync::MutexGuard<'a, u64>,
    ops: Batch,
    /// The numbers of the writes gathered, first and last.
    seqs: Option<RangeInclusive<u64>>,
}

impl Gather<'_> {
    /// Queues a write. A received message's `receipt` says stored once this write is
    /// committed: it is answered before the write is handed off, so the watermark that
    /// covers the write reaches its connection after the answer (no wake-up for it).
    pub fn persist(&mut self, p: Persist, receipt: Option<Receipt>) {
        *self.queued += 1;
        let seq = *self.queued;
        if let Some(receipt) = receipt {
            receipt.after(seq);
        }
        let first = self.seqs.as_ref().map_or(seq, |r| *r.start());
        self.seqs = Some(first..=seq);
        self.ops.push(Op::Persist(p));
    }

    /// Tells the notice once everything gathered before it is committed.
    pub fn notify(&mut self, notice: Notice) {
        self.ops.push(Op::Notify(notice));
    }

    /// Sends once everything gathered before it is committed.
    pub fn send(&mut self, id: MsgId, to: std::net::SocketAddr, text: String) {
        self.ops.push(Op::Send { id, to, text });
    }
}

impl Drop for Gather<'_> {
    /// Hands the operations to the thread (waiting for room when its queue is full).
    fn drop(&mut self) {
        if self.ops.is_empty() {
            return;
        }
        let ops = std::mem::take(&mut self.ops);
        if self.writer.ops.send(ops).is_err()
            && let Some(seqs) = self.seqs.take()
        {
            // The writer thread is gone: nothing more will be committed, neither these
            // writes nor any handed off earlier that it never settled. A waiting
            // connection is reset now rather than at its timeout.
            let last = *seqs.end();
            self.writer.settled.send_modify(|s| s.give_up_through(last));
        }
    }
}

fn run(
    mut conn: Connection,
    rx: Receiver<Batch>,
    node: NodeSender,
    notes: UnboundedSender<HistoryNote>,
) {
    let mut faulty = false;
    let mut ledger = Ledger::default();
    // The number of the last write taken, as `Gather::persist` numbered it.
    let mut seq = 0u64;
    let mut upkeep = Upkeep::start(&conn);
    while let Ok(first) = upkeep.next(&rx) {
        let idle = first.is_none();
        let mut batch: Batch = first.unwrap_or_default();
        while batch.len() < BATCH {
            match rx.try_recv() {
                Ok(ops) => batch.extend(ops),
                Err(_) => break,
            }
        }
        let writes = take_writes(&mut batch);
        seq += writes.len() as u64;
        upkeep.wrote(&writes);
        let failed = match write(&mut conn, &writes) {
            Ok(()) => {
                if faulty && !writes.is_empty() {
                    faulty = false;
                    let _ = notes.send(HistoryNote::Recovered);
                }
                false
            }
            Err(e) => {
                tracing::warn!(error = %e, given_up = writes.len(), "history write failed");
                if !faulty {
                    faulty = true;
                    let _ = notes.send(HistoryNote::Fault(format!(
                        "cannot write the history ({e}): incoming messages are refused \
                         (reset) and sends fail until a write succeeds"
                    )));
                }
                true
            }
        };
        if !writes.is_empty() {
            let first = seq + 1 - writes.len() as u64;
            let given_up = failed.then_some(first..=seq);
            node.settled().send_modify(|s| s.settle(seq, given_up));
        }
        for op in batch {
            ledger.settle(op, failed, &node, &notes);
        }
        // Indexing and checkpointing follow in their own transaction, after the acks.
        if !failed {
            upkeep.step(&mut conn, idle);
        }
    }
}

/// Takes the writes out of a batch, in order, leaving where each was (an outgoing
/// message's send depends on its row).
fn take_writes(batch: &mut [Op]) -> Vec<Persist> {
    let mut writes = Vec::new();
    for op in batch {
        if let Op::Persist(_) = op {
            let Op::Persist(p) = std::mem::replace(op, Op::Wrote(Written::Other)) else {
                unreachable!()
            };
            if let Persist::Message(r) = &p
                && let (Some(id), true) = (r.msg_id, r.outgoing)
            {
                *op = Op::Wrote(Written::Sent(id));
            }
            writes.push(p);
        }
    }
    writes
}

/// What a failed batch leaves behind for the operations that follow it.
#[derive(Default)]
struct Ledger {
    /// Outgoing messages whose row was not written: never sent, reported failed.
    lost: HashSet<MsgId>,
}

impl Ledger {
    /// Completes one operation of a batch whose write `failed` or not.
    fn settle(
        &mut self,
        op: Op,
        failed: bool,
        node: &NodeSender,
        notes: &UnboundedSender<HistoryNote>,
    ) {
        match op {
            Op::Wrote(Written::Sent(id)) if failed => {
                self.lost.insert(id);
            }
            Op::Wrote(_) => {}
            Op::Notify(notice) => {
                let held = matches!(&notice, Notice::Delivery { id, .. } if self.lost.contains(id));
                if !held {
                    let _ = notes.send(HistoryNote::Committed(notice));
                }
            }
            Op::Send { id, to, text } => {
                let result = if self.lost.remove(&id) {
                    Err("not sent: it could not be stored in the history".to_string())
                } else {
                    node.send(id, to, text)
                };
                if let Err(reason) = result {
                    let _ = notes.send(HistoryNote::SendFailed { id, to, reason });
                }
            }
            Op::Flush(done) => {
                let _ = done.send(());
            }
            Op::Persist(_) => unreachable!("persists were taken out before"),
        }
    }
}

fn write(conn: &mut Connection, writes: &[Persist]) -> rusqlite::Result<()> {
    if writes.is_empty() {
        return Ok(());
    }
    let tx = conn.transaction()?;
    let mut erased = false;
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
                Persist::Draft(draft) => super::drafts::write(&tx, draft)?,
                Persist::Alias { peer, alias } => super::notes::alias(&tx, peer, alias.as_deref())?,
                Persist::Forget { peer, at, delete } => {
                    super::notes::forget(&tx, peer, *at, *delete)?;
                    erased |= *delete;
                }
            }
        }
    }
    tx.commit()?;
    if erased {
        // Deleted messages must not linger in the write-ahead log either (the pages
        // themselves are zeroed: `secure_delete` is on).
        conn.query_row("PRAGMA wal_checkpoint(TRUNCATE)", [], |_| Ok(()))?;
    }
    Ok(())
}

/// For tests: the record as it would be written.
#[cfg(test)]
pub(super) fn write_for_test(conn: &mut Connection, writes: &[Persist]) -> rusqlite::Result<()> {
    write(conn, writes)
}
