//! Every bound a remote peer could otherwise push on us, and the retry policy.

use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_caps() {
        let p = RetryPolicy::default();
        let waits: Vec<u128> = (1..=6).map(|n| p.backoff(n).as_millis()).collect();
        assert_eq!(waits, [250, 500, 1000, 2000, 4000, 4000]);
        assert_eq!(p.backoff(u32::MAX), p.max_backoff);
    }
}
