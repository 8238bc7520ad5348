//! Reading messages from a classic (plaintext) connection, within [`Limits`].

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;
use tokio::sync::{Semaphore, mpsc};
use tokio::time::{Instant, timeout_at};

use super::admission::{self, SharedAdmission};
use super::notices::{Notices, counted, inform, lock};
use super::{Awaiting, Limits, NetMsg, Receipt, Stats, Watermark};
use crate::event::NetEvent;
use crate::protocol::inbound::{PREVIEW_CHARS, starts_with_header};
use crate::protocol::{Header, Parsed, cut_messages, parse_message, preview};

/// How long a connection waits for its messages to be acknowledged before closing.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(10);

/// Received text not yet acknowledged, in KiB (see `Limits::max_pending_bytes`).
pub(super) type Pending = Arc<Semaphore>;

/// Why a connection stopped being read.
enum End {
    Eof,
    Idle,
    Reset(std::io::Error),
    Limit(String),
    /// A per-source limit refused a message (reported by [`refused_over`]).
    Refused,
}

pub(super) struct Connection<'a> {
    from: SocketAddr,
    limits: &'a Limits,
    events: &'a mpsc::Sender<NetMsg>,
    stats: &'a Stats,
    notices: &'a Notices,
    buf: Vec<u8>,
    /// Bytes of `buf` already scanned for header lines.
    scanned: usize,
    /// Set while discarding an oversized message: its first bytes, for the preview.
    oversized: Option<Vec<u8>>,
    /// The last header seen: headerless pieces later on the same connection come
    /// from the same sender.
    last_header: Option<Header>,
    messages: usize,
    /// More messages came than the limit allows; the first one dropped, for the preview.
    over_limit: Option<Vec<u8>>,
    receipts: Vec<Awaiting>,
    /// How far the history has committed (see `net::receipt`).
    settled: Watermark,
    /// Some input on this connection was rejected (so it was not delivered).
    rejected: bool,
    admission: SharedAdmission,
    /// A per-source limit refused a message: nothing more is taken from it.
    over: Option<super::limits::Over>,
    pending: Pending,
    /// This connection's share of `pending`, held until its receipts are answered.
    held: Vec<tokio::sync::OwnedSemaphorePermit>,
}

impl<'a> Connection<'a> {
    pub(super) fn new(
        from: SocketAddr,
        limits: &'a Limits,
        events: &'a mpsc::Sender<NetMsg>,
        stats: &'a Stats,
        notices: &'a Notices,
        (admission, pending, settled): (SharedAdmission, Pending, Watermark),
    ) -> Self {
        Self {
            from,
            limits,
            events,
            stats,
            notices,
            buf: Vec::new(),
            scanned: 0,
            oversized: None,
            last_header: None,
            messages: 0,
            over_limit: None,
            receipts: Vec::new(),
            settled,
            rejected: false,
            admission,
            over: None,
            pending,
            held: Vec::new(),
        }
    }

    pub(super) async fn serve(mut self, mut stream: TcpStream) {
        // Until every message is stored, any close, a crash of brigade included, must
        // be a reset: the kernel would otherwise close with a FIN, which the sender
        // takes for "delivered". (Found by killing brigade during a flood.) The stream
        // inherited SO_LINGER 0 from its listener (see `Node::start`).
        let mut end = self.read_all(&mut stream).await;
        if matches!(end, End::Eof | End::Idle) {
            self.flush().await;
            if self.over_limit.is_some() {
                end = End::Limit(self.too_many());
            }
        }
        if self.over.is_some() {
            end = End::Refused;
        }
        let cut = matches!(end, End::Limit(_) | End::Refused);
        match end {
            End::Eof | End::Idle | End::Refused => {}
            End::Reset(e) => {
                if !self.buf.is_empty() {
                    let text = format!("connection broken before the message ended ({e})");
                    self.reject(text, preview(&self.buf, PREVIEW_CHARS)).await;
                }
            }
            End::Limit(reason) => {
                Stats::bump(&self.stats.cut_connections);
                self.flush().await;
                let head = self.oversized.take().or(self.over_limit.take());
                let head = head.unwrap_or_default();
                self.reject(reason, preview(&head, PREVIEW_CHARS)).await;
            }
        }
        // Close cleanly only once every message is acknowledged as stored: the clean
        // close is the sender's delivery signal. Anything else ends in a reset.
        let mut all_stored = !cut && !self.rejected;
        let deadline = Instant::now() + RECEIPT_TIMEOUT;
        for receipt in self.receipts.drain(..) {
            if !matches!(timeout_at(deadline, receipt.stored()).await, Ok(true)) {
                all_stored = false;
            }
        }
        if all_stored {
            let _ = socket2::SockRef::from(&stream).set_linger(None);
        }
    }

    async fn read_all(&mut self, stream: &mut TcpStream) -> End {
        let deadline = Instant::now() + self.limits.total_deadline;
        let mut total = 0usize;
        let mut chunk = vec![0u8; 16 * 1024];
        loop {
            let pending = !self.buf.is_empty() || self.oversized.is_some();
            let wait = if pending {
                self.limits.idle_gap
            } else {
                self.limits.idle_close
            };
            let until = (Instant::now() + wait).min(deadline);
            match timeout_at(until, stream.read(&mut chunk)).await {
                Ok(Ok(0)) => return End::Eof,
                Ok(Ok(n)) => {
                    total += n;
                    if total > self.limits.max_connection_bytes {
                        let max = self.limits.max_connection_bytes;
                        if self.oversized.is_none() {
                            self.oversized = Some(std::mem::take(&mut self.buf));
                        }
                        return End::Limit(format!("connection sent more than {max} bytes"));
                    }
                    self.take(&chunk[..n]).await;
                    if self.over.is_some() {
                        return End::Refused;
                    }
                    if self.over_limit.is_some() {
                        return End::Limit(self.too_many());
                    }
                }
                Ok(Err(e)) => return End::Reset(e),
                Err(_) if Instant::now() >= deadline => {
                    let secs = self.limits.total_deadline.as_secs();
                    return End::Limit(format!("connection open longer than {secs} s"));
                }
                Err(_) if pending => {
                    self.flush().await;
                    if self.over_limit.is_some() {
                        return End::Limit(self.too_many());
                    }
                }
                Err(_) => return End::Idle,
            }
        }
    }

    /// Takes newly read bytes: complete messages (those followed by a header line) go
    /// out at once; an oversized message is discarded as it arrives.
    async fn take(&mut self, bytes: &[u8]) {
        if let Some(head) = &mut self.oversized {
            let room = PREVIEW_CHARS * 4 - head.len().min(PREVIEW_CHARS * 4);
            head.extend_from_slice(&bytes[..bytes.len().min(room)]);
            return;
        }
        self.buf.extend_from_slice(bytes);
        // Cut before the last header line that follows a newline: everything before it
        // is complete. Only the new bytes (and a header's length before them) are scanned.
        let from = self.scanned.saturating_sub(64);
        let cut = (from..self.buf.len())
            .rev()
            .find(|&i| self.buf[i] == b'\n' && starts_with_header(&self.buf[i + 1..]));
        self.scanned = self.buf.len();
        if let Some(i) = cut {
            let rest = self.buf.split_off(i + 1);
            let done = std::mem::replace(&mut self.buf, rest);
            self.scanned = self.buf.len();
            self.emit(&done).await;
        }
        if self.buf.len() > self.limits.max_message_bytes {
            let mut head = std::mem::take(&mut self.buf);
            head.truncate(PREVIEW_CHARS * 4);
            self.oversized = Some(head);
            self.scanned = 0;
        }
    }

    /// Ends the current message (EOF or an idle gap).
    async fn flush(&mut self) {
        if let Some(head) = self.oversized.take() {
            let max = self.limits.max_message_bytes;
            let reason = format!("message larger than {max} bytes");
            self.reject(reason, preview(&head, PREVIEW_CHARS)).await;
            return;
        }
        let done = std::mem::take(&mut self.buf);
        self.scanned = 0;
        self.emit(&done).await;
    }

    async fn emit(&mut self, bytes: &[u8]) {
        for piece in cut_messages(bytes) {
            if self.over.is_some() {
                return;
            }
            match parse_message(piece) {
                Parsed::Message(mut message) => {
                    if self.messages >= self.limits.max_messages_per_connection {
                        // Never a silent drop: the connection is reset and reported.
                        let head = &piece[..piece.len().min(PREVIEW_CHARS * 4)];
                        self.over_limit.get_or_insert_with(|| head.to_vec());
                        return;
                    }
                    self.messages += 1;
                    if message.header == Header::default() {
                        if let Some(h) = &self.last_header {
                            message.header = h.clone();
                        }
                    } else {
                        self.last_header = Some(message.header.clone());
                    }
                    if let Err(over) = self.admit(&message) {
                        self.over = Some(over);
                        return;
                    }
                    // Wait for room among the unacknowledged bytes (at most 64 KiB + a
                    // header per message, always less than the whole).
                    let kib = (message.text.len() / 1024 + 1) as u32;
                    if let Ok(p) = self.pending.clone().acquire_many_owned(kib).await {
                        self.held.push(p);
                    }
                    let (receipt, awaiting) = Receipt::pair(&self.settled);
                    self.receipts.push(awaiting);
                    let event = NetEvent::Received {
                        from: self.from,
                        message,
                        sealed: false,
                    };
                    let msg = NetMsg {
                        event,
                        receipt: Some(receipt),
                    };
                    // Wait for room: a message is never dropped.
                    let _ = self.events.send(msg).await;
                }
                Parsed::Empty => {}
                Parsed::Rejected { reason, preview } => self.reject(reason, preview).await,
            }
        }
    }

    /// The per-source limits: rate, quota, peers per source.
    fn admit(&self, message: &crate::protocol::Inbound) -> Result<(), super::limits::Over> {
        let h = &message.header;
        let identity = (h.port, h.team.as_deref());
        let bytes = message.text.len();
        let admitted = admission::admit(&self.admission, self.from.ip(), identity, bytes);
        if let Err(over) = admitted {
            Stats::bump(&self.stats.cut_connections);
            if let Some(event) = admission::refused(&self.admission, self.from, over, self.limits) {
                inform(self.events, self.stats, event);
            }
        }
        admitted
    }

    fn too_many(&self) -> String {
        let max = self.limits.max_messages_per_connection;
        format!("more than {max} messages on one connection (the connection is reset)")
    }

    /// Marks the connection refused (it ends in a reset) and reports it, at most once a
    /// minute per source and reason.
    async fn reject(&mut self, reason: String, preview: String) {
        self.rejected = true;
        let due = lock(self.notices).refused(self.from.ip(), &reason, Instant::now());
        let Some(count) = due else {
            return;
        };
        let reason = counted(&reason, count);
        tracing::info!(from = %self.from, %reason, ?preview, "rejected input");
        let event = NetEvent::Rejected {
            from: self.from,
            reason,
            preview,
        };
        let _ = self
            .events
            .send(NetMsg {
                event,
                receipt: None,
            })
            .await;
    }
}
