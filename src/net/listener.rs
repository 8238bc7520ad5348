//! Accepting connections and reading messages from them, within [`Limits`].

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc, oneshot};
use tokio::time::{Instant, timeout, timeout_at};

use super::{Limits, NetMsg, Receipt, Stats};
use crate::event::NetEvent;
use crate::protocol::inbound::{PREVIEW_CHARS, starts_with_header};
use crate::protocol::{Header, Parsed, cut_messages, parse_message, preview};

/// How long a connection waits for its messages to be acknowledged before closing.
const RECEIPT_TIMEOUT: Duration = Duration::from_secs(10);
/// A source refused for too many open connections is reported at most this often (with
/// a count), so a flood does not flood the log and the event stream too.
const REFUSAL_NOTICE_EVERY: Duration = Duration::from_secs(60);
/// Sources remembered for [`REFUSAL_NOTICE_EVERY`] before old entries are pruned.
const REFUSAL_NOTICE_SOURCES: usize = 1024;

/// Open connections per source IP.
#[derive(Default)]
struct PerSource(Mutex<HashMap<IpAddr, usize>>);

impl PerSource {
    /// Counts one more connection from `ip`, unless it already has `max`.
    fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<SourceGuard> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceGuard(self.clone(), ip))
    }
}

struct SourceGuard(Arc<PerSource>, IpAddr);

/// When each refused source was last reported, and how many of its connections were
/// refused since.
#[derive(Default)]
struct RefusalNotices(HashMap<IpAddr, (Instant, u64)>);

impl RefusalNotices {
    /// Counts one refusal from `ip`; returns how many to report when a notice is due.
    fn refused(&mut self, ip: IpAddr, now: Instant) -> Option<u64> {
        if self.0.len() >= REFUSAL_NOTICE_SOURCES && !self.0.contains_key(&ip) {
            self.0
                .retain(|_, (at, _)| now.duration_since(*at) < REFUSAL_NOTICE_EVERY);
        }
        match self.0.get_mut(&ip) {
            Some((at, count)) if now.duration_since(*at) < REFUSAL_NOTICE_EVERY => {
                *count += 1;
                None
            }
            Some((at, count)) => {
                let due = *count + 1;
                (*at, *count) = (now, 0);
                Some(due)
            }
            None => {
                self.0.insert(ip, (now, 0));
                Some(1)
            }
        }
    }
}

/// Closes an accepted connection with a reset (SO_LINGER 0), never a clean close: a
/// sender must not take a refusal for a delivery.
fn refuse(stream: TcpStream) {
    let _ = stream.set_zero_linger();
    drop(stream);
}

/// The same peer whether it reached a dual-stack socket over IPv4 or IPv6:
/// `[::ffff:a.b.c.d]:p` becomes `a.b.c.d:p`.
fn canonical(addr: SocketAddr) -> SocketAddr {
    SocketAddr::new(addr.ip().to_canonical(), addr.port())
}

impl Drop for SourceGuard {
    fn drop(&mut self) {
        let mut map = self.0.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = map.get_mut(&self.1) {
            *n -= 1;
            if *n == 0 {
                map.remove(&self.1);
            }
        }
    }
}

pub(super) async fn run(
    listener: TcpListener,
    limits: Limits,
    keys: crate::secure::Keypair,
    events: mpsc::Sender<NetMsg>,
    stats: Arc<Stats>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_source = Arc::new(PerSource::default());
    let mut notices = RefusalNotices::default();
    let limits = Arc::new(limits);
    let keys = Arc::new(keys);
    let mut accept_backoff = Duration::from_millis(50);
    loop {
        // Take a slot before accepting: past the cap, connections wait in the kernel's
        // backlog instead of being accepted and refused.
        let Ok(slot) = slots.clone().acquire_owned().await else {
            return;
        };
        let (stream, from) = match listener.accept().await {
            Ok((stream, from)) => {
                accept_backoff = Duration::from_millis(50);
                (stream, canonical(from))
            }
            Err(e) => {
                // Out of descriptors (EMFILE/ENFILE) or a transient error: back off
                // instead of spinning, and try again.
                tracing::warn!(error = %e, backoff = ?accept_backoff, "accept failed");
                inform(
                    &events,
                    &stats,
                    NetEvent::Error {
                        text: format!("cannot accept connections: {e}; retrying"),
                    },
                );
                drop(slot);
                tokio::time::sleep(accept_backoff).await;
                accept_backoff = (accept_backoff * 2).min(Duration::from_secs(1));
                continue;
            }
        };
        let Some(source) = per_source.enter(from.ip(), limits.max_per_source) else {
            refuse(stream);
            Stats::bump(&stats.refused_connections);
            if let Some(count) = notices.refused(from.ip(), Instant::now()) {
                let max = limits.max_per_source;
                let reason = format!(
                    "more than {max} connections open from this address: \
                     {count} refused with a reset"
                );
                tracing::info!(%from, %reason, "refused connections");
                let preview = "(not read)".to_string();
                let event = NetEvent::Rejected {
                    from,
                    reason,
                    preview,
                };
                inform(&events, &stats, event);
            }
            continue;
        };
        let events = events.clone();
        let limits = limits.clone();
        let stats = stats.clone();
        let keys = keys.clone();
        tokio::spawn(async move {
            // A reset until stored, from the very first moment (see `serve`).
            let _ = stream.set_zero_linger();
            if super::encrypted::encrypted_first(&stream, &limits).await {
                super::encrypted::serve(stream, from, &keys, &limits, &events, &stats).await;
            } else {
                Connection::new(from, &limits, &events, &stats)
                    .serve(stream)
                    .await;
            }
            drop((slot, source));
        });
    }
}

/// Sends an informational event without waiting; counts it when the app is behind.
fn inform(events: &mpsc::Sender<NetMsg>, stats: &Stats, event: NetEvent) {
    if events
        .try_send(NetMsg {
            event,
            receipt: None,
        })
        .is_err()
    {
        Stats::bump(&stats.dropped_events);
    }
}

/// Why a connection stopped being read.
enum End {
    Eof,
    Idle,
    Reset(std::io::Error),
    Limit(String),
}

struct Connection<'a> {
    from: SocketAddr,
    limits: &'a Limits,
    events: &'a mpsc::Sender<NetMsg>,
    stats: &'a Stats,
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
    receipts: Vec<oneshot::Receiver<bool>>,
    /// Some input on this connection was rejected (so it was not delivered).
    rejected: bool,
}

impl<'a> Connection<'a> {
    fn new(
        from: SocketAddr,
        limits: &'a Limits,
        events: &'a mpsc::Sender<NetMsg>,
        stats: &'a Stats,
    ) -> Self {
        Self {
            from,
            limits,
            events,
            stats,
            buf: Vec::new(),
            scanned: 0,
            oversized: None,
            last_header: None,
            messages: 0,
            over_limit: None,
            receipts: Vec::new(),
            rejected: false,
        }
    }

    async fn serve(mut self, mut stream: TcpStream) {
        // Until every message is stored, any close, a crash of brigade included, must
        // be a reset: the kernel would otherwise close with a FIN, which the sender
        // takes for "delivered". (Found by killing brigade during a flood.)
        let _ = stream.set_zero_linger();
        let mut end = self.read_all(&mut stream).await;
        if matches!(end, End::Eof | End::Idle) {
            self.flush().await;
            if self.over_limit.is_some() {
                end = End::Limit(self.too_many());
            }
        }
        let cut = matches!(end, End::Limit(_));
        match end {
            End::Eof | End::Idle => {}
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
        for receipt in self.receipts.drain(..) {
            if !matches!(timeout(RECEIPT_TIMEOUT, receipt).await, Ok(Ok(true))) {
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
                    let (receipt, rx) = Receipt::pair();
                    self.receipts.push(rx);
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

    fn too_many(&self) -> String {
        let max = self.limits.max_messages_per_connection;
        format!("more than {max} messages on one connection (the connection is reset)")
    }

    async fn reject(&mut self, reason: String, preview: String) {
        self.rejected = true;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_are_reported_once_a_minute_with_a_count() {
        let mut notices = RefusalNotices::default();
        let ip: IpAddr = "10.0.0.9".parse().unwrap();
        let other: IpAddr = "10.0.0.10".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(notices.refused(ip, t0), Some(1));
        for s in 1..=3 {
            assert_eq!(notices.refused(ip, t0 + Duration::from_secs(s)), None);
        }
        // Another source has its own minute.
        assert_eq!(notices.refused(other, t0 + Duration::from_secs(2)), Some(1));
        let later = t0 + REFUSAL_NOTICE_EVERY + Duration::from_secs(1);
        assert_eq!(notices.refused(ip, later), Some(4));
        assert_eq!(notices.refused(ip, later), None);
    }

    #[test]
    fn ipv4_mapped_socket_addresses_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:7000".parse().unwrap();
        assert_eq!(canonical(mapped), "10.0.0.1:7000".parse().unwrap());
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }
}
