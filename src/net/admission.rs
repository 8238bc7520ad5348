//! Admission per source IP: the rate, the quota and the identity count
//! ([`SourceTable`]), and when each refusal was last reported, shared by the accept loop
//! and the connections. It decides and words the notices; the listener resets and sends.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};
use std::sync::{Arc, Mutex};

use tokio::time::Instant;

use super::Limits;
use super::limits::{BURST_SECONDS, Over, SourceTable};
use super::notices::RefusalNotices;
use crate::event::NetEvent;

/// Open connections per source IP.
#[derive(Default)]
pub(super) struct PerSource(Mutex<HashMap<IpAddr, usize>>);

impl PerSource {
    /// Counts one more connection from `ip`, unless it already has `max`.
    pub(super) fn enter(self: &Arc<Self>, ip: IpAddr, max: usize) -> Option<SourceGuard> {
        let mut map = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let n = map.entry(ip).or_default();
        if *n >= max {
            return None;
        }
        *n += 1;
        Some(SourceGuard(self.clone(), ip))
    }
}

pub(super) struct SourceGuard(Arc<PerSource>, IpAddr);

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

/// The per-source admission state shared by the accept loop and the connections:
/// rate, quota and identity counts, and when each refusal was last reported.
pub(super) struct Admission {
    sources: SourceTable,
    /// When each refusal was last reported: the listener's one mechanism for it.
    notices: RefusalNotices,
}

pub(super) type SharedAdmission = Arc<Mutex<Admission>>;

pub(super) fn shared(limits: &Limits) -> SharedAdmission {
    Arc::new(Mutex::new(Admission {
        sources: SourceTable::new(limits),
        notices: RefusalNotices::default(),
    }))
}

fn lock(admission: &SharedAdmission) -> std::sync::MutexGuard<'_, Admission> {
    admission.lock().unwrap_or_else(|e| e.into_inner())
}

/// Whether a new connection from `ip` may be read at all.
pub(super) fn check(admission: &SharedAdmission, ip: IpAddr) -> Result<(), Over> {
    lock(admission).sources.check(ip, Instant::now())
}

/// One message (see [`SourceTable::admit`]).
pub(super) fn admit(
    admission: &SharedAdmission,
    ip: IpAddr,
    identity: (Option<u16>, Option<&str>),
    bytes: usize,
) -> Result<(), Over> {
    lock(admission)
        .sources
        .admit(ip, identity, bytes, Instant::now())
}

/// A connection refused for too many open from its address: the notice, when due.
pub(super) fn too_many_connections(
    admission: &SharedAdmission,
    from: SocketAddr,
    limits: &Limits,
) -> Option<NetEvent> {
    let count = lock(admission)
        .notices
        .refused(from.ip(), "connections", Instant::now())?;
    let max = limits.max_per_source;
    let reason =
        format!("more than {max} connections open from this address: {count} refused with a reset");
    tracing::info!(%from, %reason, "refused connections");
    let preview = "(not read)".to_string();
    Some(NetEvent::Rejected {
        from,
        reason,
        preview,
    })
}

/// Why a source is refused, for the notice (with how many were refused).
fn over_text(over: Over, limits: &Limits, count: u64) -> String {
    let what = match over {
        Over::Rate => format!(
            "more than {} messages a second from this address (bursts of {})",
            limits.source_rate,
            u64::from(limits.source_rate) * u64::from(BURST_SECONDS)
        ),
        Over::Quota => format!(
            "more than {} MiB of messages from this address today",
            limits.source_quota / (1024 * 1024)
        ),
        Over::Peers => format!(
            "more than {} peers (port and team) from this address",
            limits.peers_per_source
        ),
    };
    format!("{what}: {count} refused with a reset")
}

/// Counts a refusal of `from` for `over`; the notice when one is due (at most once a
/// minute per source and reason, with a count).
pub(super) fn refused(
    admission: &SharedAdmission,
    from: SocketAddr,
    over: Over,
    limits: &Limits,
) -> Option<NetEvent> {
    let count = lock(admission)
        .notices
        .refused(from.ip(), over.reason(), Instant::now())?;
    let preview = over_text(over, limits, count);
    tracing::info!(%from, reason = over.reason(), %preview, "refused over a limit");
    let reason = over.reason().to_string();
    Some(NetEvent::Rejected {
        from,
        reason,
        preview,
    })
}
