//! What the history writer does between batches, never inside a commit that
//! connections wait on: bringing the search index (`messages_tri`) and the conversation
//! index (`peer_index`) up to date, then checkpointing the write-ahead log.

use std::sync::mpsc::{Receiver, RecvTimeoutError, TryRecvError};
use std::time::Duration;

use rusqlite::Connection;

use crate::event::Persist;

/// Rows written before the indexes catch up while messages keep coming; below that
/// they catch up once the writer has had nothing to do for [`INDEX_IDLE`]. Each index
/// transaction is a commit of its own and flushes a new FTS5 segment, so fewer, larger
/// ones cost less per message (README, Performance). Queries scan the rows not indexed
/// yet, so they are complete meanwhile.
const INDEX_AFTER_ROWS: usize = 4096;
/// Or text written before they do (and so before the log is checkpointed): large
/// messages reach this long before 4 096 rows, and the log stays about this size.
const INDEX_AFTER_BYTES: usize = 8 << 20;
const INDEX_IDLE: Duration = Duration::from_millis(20);
/// A log grown larger than this (a backlog's catch-up) is cut back to it once a
/// checkpoint has emptied it.
const LOG_KEPT_BYTES: i64 = 32 << 20;

/// Where the indexes stand, as the writer sees it.
pub(super) struct Upkeep {
    /// Committed rows may be missing from an index.
    unindexed: bool,
    /// A chunk left more to index: go on as soon as nothing else waits.
    backlog: bool,
    /// Rows written since the last index step.
    fresh: usize,
    /// Bytes of message text written since the last index step.
    fresh_bytes: usize,
}

impl Upkeep {
    /// At start-up: an older history may have rows to index (a backlog, indexed chunk
    /// after chunk). SQLite's automatic checkpoint is turned off on the writer's
    /// connection: it would run inside the commit of whichever batch crossed 1 000
    /// pages of log and hold up that batch's acknowledgements; [`Upkeep::step`]
    /// checkpoints instead.
    pub(super) fn start(conn: &Connection) -> Upkeep {
        let set = conn
            .pragma_update(None, "wal_autocheckpoint", 0)
            .and_then(|()| conn.pragma_update(None, "journal_size_limit", LOG_KEPT_BYTES));
        if let Err(e) = set {
            tracing::warn!(error = %e, "could not move checkpoints off the commit path");
        }
        Upkeep {
            unindexed: true,
            backlog: true,
            fresh: 0,
            fresh_bytes: 0,
        }
    }

    /// `writes` were committed (or given up: an index step then finds nothing new).
    pub(super) fn wrote(&mut self, writes: &[Persist]) {
        self.unindexed |= !writes.is_empty();
        self.fresh += writes.len();
        self.fresh_bytes += writes
            .iter()
            .map(|w| match w {
                Persist::Message(r) => r.text.len(),
                _ => 0,
            })
            .sum::<usize>();
    }

    /// The next batch: blocks for work; with a backlog to index not at all, with fresh
    /// rows to index at most [`INDEX_IDLE`] (`None`: nothing came, index a chunk).
    /// `Err` when every handle is gone.
    pub(super) fn next<T>(&self, rx: &Receiver<T>) -> Result<Option<T>, ()> {
        if self.backlog {
            match rx.try_recv() {
                Ok(op) => Ok(Some(op)),
                Err(TryRecvError::Empty) => Ok(None),
                Err(TryRecvError::Disconnected) => Err(()),
            }
        } else if self.unindexed {
            match rx.recv_timeout(INDEX_IDLE) {
                Ok(op) => Ok(Some(op)),
                Err(RecvTimeoutError::Timeout) => Ok(None),
                Err(RecvTimeoutError::Disconnected) => Err(()),
            }
        } else {
            rx.recv().map(Some).map_err(|_| ())
        }
    }

    /// Whether an index step is due (see [`Upkeep::step`]).
    fn due(&self, idle: bool) -> bool {
        let due = idle
            || self.backlog
            || self.fresh >= INDEX_AFTER_ROWS
            || self.fresh_bytes >= INDEX_AFTER_BYTES;
        self.unindexed && due
    }

    /// Indexes a chunk if one is due: a backlog at once, fresh rows once enough have
    /// gathered or the writer is `idle`. Then folds the write-ahead log into the
    /// database as far as readers allow (a passive checkpoint): the log is written
    /// from its start again after that, so it holds about what is written between two
    /// steps (at most 4 096 rows or 8 MiB of text, and the index step's own pages).
    pub(super) fn step(&mut self, conn: &mut Connection, idle: bool) {
        if !self.due(idle) {
            return;
        }
        let more =
            super::search::index_step(conn, super::search::INDEX_CHUNK).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "indexing the history for search failed");
                false
            });
        if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
            tracing::warn!(error = %e, "checkpointing the history failed");
        }
        *self = Upkeep {
            unindexed: more,
            backlog: more,
            fresh: 0,
            fresh_bytes: 0,
        };
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;

    use super::*;
    use crate::event::{PeerKey, Record};

    fn message(bytes: usize) -> Persist {
        let peer = PeerKey::new("10.0.0.2".parse().unwrap(), 80, "B");
        Persist::Message(Record::received(Utc::now(), peer, "x".repeat(bytes)))
    }

    /// Caught up: nothing is due until rows are written; then a step comes when the
    /// writer is idle, or while it is busy once enough rows or enough text gathered.
    #[test]
    fn a_step_is_due_when_idle_or_after_enough_rows_or_text() {
        let conn = Connection::open_in_memory().unwrap();
        let mut u = Upkeep::start(&conn);
        u.unindexed = false;
        u.backlog = false;
        assert!(!u.due(true), "nothing written, nothing to index");
        u.wrote(&[message(10)]);
        assert!(u.due(true) && !u.due(false));
        u.wrote(&vec![message(10); INDEX_AFTER_ROWS - 2]);
        assert!(!u.due(false), "one row short");
        u.wrote(&[Persist::Unpin(PeerKey::new(
            "10.0.0.2".parse().unwrap(),
            80,
            "B",
        ))]);
        assert!(u.due(false), "rows of any kind count");

        let mut u = Upkeep::start(&conn);
        u.backlog = false;
        let big = 64 * 1024;
        u.wrote(&vec![message(big); INDEX_AFTER_BYTES / big - 1]);
        assert!(!u.due(false), "one message of text short");
        u.wrote(&[message(big)]);
        assert!(u.due(false), "{} rows, 8 MiB of text", u.fresh);
    }
}
