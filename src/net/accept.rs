//! Accepting connections within [`Limits`] (connection slots, per-source counts,
//! rate and quota) and routing each to the classic reader (`listener`) or the
//! encrypted one (`encrypted`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Semaphore, mpsc};

use super::admission::{self, PerSource, SharedAdmission};
use super::encrypted::encrypted_first;
use super::listener::{Connection, Pending};
use super::notices::{Notices, inform};
use super::{Limits, NetMsg, Stats, Watermark};
use crate::event::NetEvent;

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

pub(super) async fn run(
    listener: TcpListener,
    limits: Limits,
    keys: crate::secure::Keypair,
    (events, settled): (mpsc::Sender<NetMsg>, Watermark),
    stats: Arc<Stats>,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let per_source = Arc::new(PerSource::default());
    let notices = Notices::default();
    let admission = admission::shared(&limits);
    let pending: Pending = Arc::new(Semaphore::new((limits.max_pending_bytes / 1024).max(128)));
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
            if let Some(event) = admission::too_many_connections(&admission, from, &limits) {
                inform(&events, &stats, event);
            }
            continue;
        };
        // A source over its rate or quota is refused before anything is read.
        if let Err(over) = admission::check(&admission, from.ip()) {
            refuse(stream);
            Stats::bump(&stats.refused_connections);
            if let Some(event) = admission::refused(&admission, from, over, &limits) {
                inform(&events, &stats, event);
            }
            continue;
        }
        let shared = Shared {
            limits: limits.clone(),
            keys: keys.clone(),
            events: events.clone(),
            stats: stats.clone(),
            notices: notices.clone(),
            admission: admission.clone(),
            pending: pending.clone(),
            settled: settled.clone(),
        };
        tokio::spawn(async move {
            route(stream, from, shared).await;
            drop((slot, source));
        });
    }
}

/// What every connection shares, whichever reader it goes to.
struct Shared {
    limits: Arc<Limits>,
    keys: Arc<crate::secure::Keypair>,
    events: mpsc::Sender<NetMsg>,
    stats: Arc<Stats>,
    notices: Notices,
    admission: SharedAdmission,
    pending: Pending,
    /// How far the history has committed: connections close when it covers them.
    settled: Watermark,
}

/// An accepted connection goes to the encrypted reader if its first byte says so, to
/// the classic one otherwise.
async fn route(stream: TcpStream, from: SocketAddr, s: Shared) {
    // A reset until stored, from the very first moment: the stream inherited SO_LINGER
    // 0 from the listener (see `Node::start`; Linux, macOS and the BSDs copy it to
    // accepted sockets). Windows is not shown to here, so it is set again there.
    #[cfg(windows)]
    let _ = stream.set_zero_linger();
    if encrypted_first(&stream, &s.limits).await {
        let node = (&*s.limits, &s.events, &*s.stats, &s.admission, &s.settled);
        super::encrypted::serve(stream, from, &s.keys, node).await;
    } else {
        let limits = &s.limits;
        let shared = (s.admission, s.pending, s.settled);
        Connection::new(from, limits, &s.events, &s.stats, &s.notices, shared)
            .serve(stream)
            .await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_mapped_socket_addresses_are_ipv4() {
        let mapped: SocketAddr = "[::ffff:10.0.0.1]:7000".parse().unwrap();
        assert_eq!(canonical(mapped), "10.0.0.1:7000".parse().unwrap());
        let v6: SocketAddr = "[::1]:7000".parse().unwrap();
        assert_eq!(canonical(v6), v6);
    }
}
