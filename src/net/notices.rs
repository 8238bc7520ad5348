//! Notices of refusals: whatever the listener refuses is reset every time, but reported
//! (a `rejected` event, a log line) at most once a minute per source and reason, with
//! the count of refusals since the last notice.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

/// Whatever is refused, a source is reported at most this often per reason (with a
/// count), so a flood does not flood the log and the event stream too.
const REFUSAL_NOTICE_EVERY: Duration = Duration::from_secs(60);
/// Sources remembered for [`REFUSAL_NOTICE_EVERY`] before old entries are pruned.
const REFUSAL_NOTICE_SOURCES: usize = 1024;

/// When each source was last reported for each reason, and how many refusals came
/// since. The one mechanism behind every `rejected` event and log line of the listener.
#[derive(Default)]
pub(super) struct RefusalNotices(HashMap<(IpAddr, String), (Instant, u64)>);

/// Shared by the accept loop and every connection.
pub(super) type Notices = Arc<Mutex<RefusalNotices>>;

/// What a reason is counted as: its text before any detail in parentheses.
fn reason_key(reason: &str) -> String {
    reason.split(" (").next().unwrap_or(reason).to_string()
}

/// The reason as reported: with the count when more than one was refused since the
/// last notice.
pub(super) fn counted(reason: &str, count: u64) -> String {
    match count {
        1 => reason.to_string(),
        n => format!("{reason} ({n} refused from this address since the last notice)"),
    }
}

impl RefusalNotices {
    /// Counts one refusal from `ip` for `reason`; returns how many to report when a
    /// notice is due (at most one a minute per source and reason).
    pub(super) fn refused(&mut self, ip: IpAddr, reason: &str, now: Instant) -> Option<u64> {
        let key = (ip, reason_key(reason));
        if self.0.len() >= REFUSAL_NOTICE_SOURCES && !self.0.contains_key(&key) {
            self.0
                .retain(|_, (at, _)| now.duration_since(*at) < REFUSAL_NOTICE_EVERY);
        }
        let room = self.0.len() < REFUSAL_NOTICE_SOURCES;
        match self.0.get_mut(&key) {
            Some((at, count)) if now.duration_since(*at) < REFUSAL_NOTICE_EVERY => {
                *count += 1;
                None
            }
            Some((at, count)) => {
                let due = *count + 1;
                (*at, *count) = (now, 0);
                Some(due)
            }
            None if room => {
                self.0.insert(key, (now, 0));
                Some(1)
            }
            // Too many sources refused within the minute: the rest are not reported.
            None => None,
        }
    }
}

pub(super) fn lock(notices: &Notices) -> std::sync::MutexGuard<'_, RefusalNotices> {
    notices.lock().unwrap_or_else(|e| e.into_inner())
}

/// Sends an informational event without waiting; counts it when the app is behind.
pub(super) fn inform(
    events: &tokio::sync::mpsc::Sender<super::NetMsg>,
    stats: &super::Stats,
    event: crate::event::NetEvent,
) {
    let msg = super::NetMsg {
        event,
        receipt: None,
    };
    if events.try_send(msg).is_err() {
        super::Stats::bump(&stats.dropped_events);
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
        let r = "message larger than 65536 bytes";
        assert_eq!(notices.refused(ip, r, t0), Some(1));
        for s in 1..=3 {
            assert_eq!(notices.refused(ip, r, t0 + Duration::from_secs(s)), None);
        }
        // Another source has its own minute, and so has another reason.
        assert_eq!(
            notices.refused(other, r, t0 + Duration::from_secs(2)),
            Some(1)
        );
        let broken = "connection broken before the message ended (reset by peer)";
        assert_eq!(notices.refused(ip, broken, t0), Some(1));
        let broken = "connection broken before the message ended (timed out)";
        assert_eq!(
            notices.refused(ip, broken, t0),
            None,
            "details are one reason"
        );
        let later = t0 + REFUSAL_NOTICE_EVERY + Duration::from_secs(1);
        assert_eq!(notices.refused(ip, r, later), Some(4));
        assert_eq!(notices.refused(ip, r, later), None);
        assert_eq!(
            counted(r, 4),
            format!("{r} (4 refused from this address since the last notice)")
        );
    }
}
