//! Every bound a remote peer could otherwise push on us, and the retry policy.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::Duration;

use tokio::time::Instant;

use crate::config::{DEFAULT_SOURCE_QUOTA_MIB, DEFAULT_SOURCE_RATE};

/// Most messages taken from one connection (classic programs send several per
/// connection). Past it the connection is reset and reported, never closed cleanly:
/// the messages before it are stored, the sender sees an error for the whole batch.
pub const MAX_MESSAGES_PER_CONNECTION: usize = 64;

/// Bounds on inbound connections. The defaults are documented in the README.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest single message; a larger one is rejected whole, never truncated.
    pub max_message_bytes: usize,
    /// Most bytes read from one connection; past it the connection is cut.
    pub max_connection_bytes: usize,
    /// Most messages taken from one connection; past it the connection is reset.
    pub max_messages_per_connection: usize,
    /// A pause this long ends a message (senders that wait for a reply, rule 4).
    pub idle_gap: Duration,
    /// A connection silent this long, with nothing pending, is closed.
    pub idle_close: Duration,
    /// No connection lives longer than this (a one-byte-a-second sender is cut off).
    pub total_deadline: Duration,
    /// Concurrent inbound connections; beyond it new ones wait in the kernel's backlog.
    pub max_connections: usize,
    /// Concurrent inbound connections from one source IP; beyond it they are refused
    /// with a reset.
    pub max_per_source: usize,
    /// The listen backlog asked of the kernel.
    pub backlog: u32,
    /// Most bytes of a receiver's reply kept (the rest is read and dropped).
    pub max_reply_bytes: usize,
    /// Messages a second one source IP may send, sustained (bursts of
    /// [`BURST_SECONDS`] times as many); 0: no limit.
    pub source_rate: u32,
    /// Bytes of message text one source IP may have stored per [`QUOTA_PERIOD`];
    /// 0: no limit.
    pub source_quota: u64,
    /// Distinct peers (advertised port and team) one source IP may be; past it, a
    /// message from a new one is refused with a reset.
    pub peers_per_source: usize,
    /// Bytes of received text handed on but not yet acknowledged as stored, over all
    /// connections; past it connections wait (backpressure), so whatever peers send,
    /// the queues between the socket and the disk hold at most this much.
    pub max_pending_bytes: usize,
}

/// Default peers per source IP.
pub const PEERS_PER_SOURCE: usize = 64;
/// A source's token bucket holds this many seconds of its rate (the burst).
pub const BURST_SECONDS: u32 = 4;
/// The quota's period.
pub const QUOTA_PERIOD: Duration = Duration::from_secs(24 * 3600);
/// Sources remembered by the admission table; past it the least recently seen half is
/// forgotten (bounded memory whatever the number of addresses).
pub const SOURCE_TABLE: usize = 16_384;

impl Limits {
    /// The defaults with the per-source limits the settings give.
    pub fn with_sources(rate: u32, quota_mib: u64) -> Self {
        Self {
            source_rate: rate,
            source_quota: quota_mib.saturating_mul(1024 * 1024),
            ..Self::default()
        }
    }
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_message_bytes: 64 * 1024,
            max_connection_bytes: 1024 * 1024,
            max_messages_per_connection: MAX_MESSAGES_PER_CONNECTION,
            idle_gap: Duration::from_millis(300),
            idle_close: Duration::from_secs(3),
            total_deadline: Duration::from_secs(30),
            max_connections: 512,
            max_per_source: 64,
            backlog: 1024,
            max_reply_bytes: 4096,
            source_rate: DEFAULT_SOURCE_RATE,
            source_quota: DEFAULT_SOURCE_QUOTA_MIB * 1024 * 1024,
            peers_per_source: PEERS_PER_SOURCE,
            max_pending_bytes: 8 * 1024 * 1024,
        }
    }
}

/// How a message is retried when the peer does not confirm delivery.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub attempts: u32,
    pub first_backoff: Duration,
    pub max_backoff: Duration,
    pub connect_timeout: Duration,
    /// How long to wait for the peer's close after our half-close.
    pub close_timeout: Duration,
    /// Concurrent outgoing connections over all peers.
    pub max_in_flight: usize,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        Self {
            attempts: 5,
            first_backoff: Duration::from_millis(250),
            max_backoff: Duration::from_secs(4),
            connect_timeout: Duration::from_secs(3),
            close_timeout: Duration::from_secs(5),
            max_in_flight: 64,
        }
    }
}

impl RetryPolicy {
    /// The wait before attempt `n + 1` (n counts from 1): doubling, capped.
    pub fn backoff(&self, n: u32) -> Duration {
        let factor = 1u32 << n.saturating_sub(1).min(16);
        self.first_backoff
            .saturating_mul(factor)
            .min(self.max_backoff)
    }
}

/// Which per-source limit refused a message (the headless `rejected` event's reason).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Over {
    Rate,
    Quota,
    Peers,
}

impl Over {
    pub fn reason(self) -> &'static str {
        match self {
            Over::Rate => "rate",
            Over::Quota => "quota",
            Over::Peers => "peers",
        }
    }
}

/// What the admission table remembers of one source IP.
struct Source {
    /// Messages it may send now (the token bucket), as of `refilled`.
    tokens: f64,
    refilled: Instant,
    /// The start of its quota period, and the bytes stored since.
    period: Instant,
    bytes: u64,
    /// Hashes of the distinct (port, team) it sent as; at most `peers_per_source`.
    identities: Vec<u64>,
    seen: Instant,
}

/// Per-source rate, quota and identity counts, bounded to [`SOURCE_TABLE`] sources.
pub(crate) struct SourceTable {
    map: HashMap<IpAddr, Source>,
    rate: u32,
    quota: u64,
    peers: usize,
    cap: usize,
}

impl SourceTable {
    pub(crate) fn new(limits: &Limits) -> Self {
        Self::with_cap(limits, SOURCE_TABLE)
    }

    fn with_cap(limits: &Limits, cap: usize) -> Self {
        Self {
            map: HashMap::new(),
            rate: limits.source_rate,
            quota: limits.source_quota,
            peers: limits.peers_per_source,
            cap,
        }
    }

    fn burst(&self) -> f64 {
        f64::from(self.rate) * f64::from(BURST_SECONDS)
    }

    fn source(&mut self, ip: IpAddr, now: Instant) -> &mut Source {
        if self.map.len() >= self.cap && !self.map.contains_key(&ip) {
            // Forget the least recently seen half: O(n) once per cap/2 new sources.
            let mut seen: Vec<Instant> = self.map.values().map(|s| s.seen).collect();
            let mid = seen.len() / 2;
            let (_, cut, _) = seen.select_nth_unstable(mid);
            let cut = *cut;
            self.map.retain(|_, s| s.seen > cut);
        }
        let burst = self.burst();
        let (rate, quota_period) = (f64::from(self.rate), QUOTA_PERIOD);
        let s = self.map.entry(ip).or_insert_with(|| Source {
            tokens: burst,
            refilled: now,
            period: now,
            bytes: 0,
            identities: Vec::new(),
            seen: now,
        });
        let elapsed = now.saturating_duration_since(s.refilled).as_secs_f64();
        s.tokens = (s.tokens + elapsed * rate).min(burst);
        s.refilled = now;
        if now.saturating_duration_since(s.period) >= quota_period {
            (s.period, s.bytes) = (now, 0);
        }
        s.seen = now;
        s
    }

    /// Whether a new connection from `ip` may be read at all (nothing is taken).
    pub(crate) fn check(&mut self, ip: IpAddr, now: Instant) -> Result<(), Over> {
        let (rate, quota) = (self.rate, self.quota);
        let s = self.source(ip, now);
        if rate > 0 && s.tokens < 1.0 {
            return Err(Over::Rate);
        }
        if quota > 0 && s.bytes >= quota {
            return Err(Over::Quota);
        }
        Ok(())
    }

    /// One message of `bytes` of text from `ip` as the peer `(port, team)`: takes a
    /// token, counts its bytes against the quota, and counts a new identity; or says
    /// which limit refuses it (then nothing is taken).
    pub(crate) fn admit(
        &mut self,
        ip: IpAddr,
        identity: (Option<u16>, Option<&str>),
        bytes: usize,
        now: Instant,
    ) -> Result<(), Over> {
        let (rate, quota, peers) = (self.rate, self.quota, self.peers);
        let s = self.source(ip, now);
        if rate > 0 && s.tokens < 1.0 {
            return Err(Over::Rate);
        }
        if quota > 0 && s.bytes.saturating_add(bytes as u64) > quota {
            return Err(Over::Quota);
        }
        let id = {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            identity.hash(&mut h);
            h.finish()
        };
        if !s.identities.contains(&id) {
            if peers > 0 && s.identities.len() >= peers {
                return Err(Over::Peers);
            }
            s.identities.push(id);
        }
        if rate > 0 {
            s.tokens -= 1.0;
        }
        s.bytes = s.bytes.saturating_add(bytes as u64);
        Ok(())
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.map.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(n: u32) -> IpAddr {
        IpAddr::from(std::net::Ipv4Addr::from(0x0a00_0000 + n))
    }

    #[test]
    fn the_rate_allows_a_burst_then_the_sustained_rate() {
        let limits = Limits {
            source_rate: 10,
            ..Limits::default()
        };
        let mut t = SourceTable::new(&limits);
        let t0 = Instant::now();
        let me = (Some(7000), Some("A"));
        for _ in 0..40 {
            assert_eq!(t.admit(ip(1), me, 1, t0), Ok(()));
        }
        assert_eq!(t.admit(ip(1), me, 1, t0), Err(Over::Rate));
        assert_eq!(t.check(ip(1), t0), Err(Over::Rate));
        // Another source is unaffected.
        assert_eq!(t.admit(ip(2), me, 1, t0), Ok(()));
        // A tenth of a second later: one more.
        let later = t0 + Duration::from_millis(100);
        assert_eq!(t.admit(ip(1), me, 1, later), Ok(()));
        assert_eq!(t.admit(ip(1), me, 1, later), Err(Over::Rate));
    }

    #[test]
    fn the_quota_counts_bytes_per_day() {
        let limits = Limits {
            source_quota: 100,
            ..Limits::default()
        };
        let mut t = SourceTable::new(&limits);
        let t0 = Instant::now();
        let me = (Some(7000), Some("A"));
        assert_eq!(t.admit(ip(1), me, 60, t0), Ok(()));
        assert_eq!(t.admit(ip(1), me, 41, t0), Err(Over::Quota));
        assert_eq!(t.admit(ip(1), me, 40, t0), Ok(()));
        assert_eq!(t.check(ip(1), t0), Err(Over::Quota));
        let tomorrow = t0 + QUOTA_PERIOD;
        assert_eq!(t.admit(ip(1), me, 100, tomorrow), Ok(()));
    }

    #[test]
    fn a_source_is_at_most_so_many_peers() {
        let limits = Limits {
            peers_per_source: 3,
            ..Limits::default()
        };
        let mut t = SourceTable::new(&limits);
        let t0 = Instant::now();
        for port in 1..=3 {
            assert_eq!(t.admit(ip(1), (Some(port), Some("A")), 1, t0), Ok(()));
        }
        assert_eq!(
            t.admit(ip(1), (Some(4), Some("A")), 1, t0),
            Err(Over::Peers)
        );
        assert_eq!(
            t.admit(ip(1), (Some(1), Some("B")), 1, t0),
            Err(Over::Peers)
        );
        assert_eq!(t.admit(ip(1), (Some(2), Some("A")), 1, t0), Ok(()));
        assert_eq!(t.admit(ip(2), (Some(4), Some("A")), 1, t0), Ok(()));
    }

    #[test]
    fn the_table_forgets_the_least_recently_seen_half_when_full() {
        let mut t = SourceTable::with_cap(&Limits::default(), 8);
        let t0 = Instant::now();
        for n in 0..8 {
            t.check(ip(n), t0 + Duration::from_millis(n.into()))
                .unwrap();
        }
        assert_eq!(t.len(), 8);
        t.check(ip(100), t0 + Duration::from_secs(1)).unwrap();
        assert!(t.len() <= 5, "{}", t.len());
        assert!(t.map.contains_key(&ip(7)) && !t.map.contains_key(&ip(0)));
        for n in 0..10_000 {
            t.check(ip(1000 + n), t0 + Duration::from_secs(2)).unwrap();
            assert!(t.len() <= 8);
        }
    }

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let waits: Vec<u128> = (1..=6).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(p.backoff(u32::MAX), p.max_backoff);
    }
}
