//! A received message's acknowledgement (docs/ARCHITECTURE.md, "The acknowledgement
//! path"). The connection it came on is closed cleanly (the sender's delivery signal)
//! only once its receipt says stored; anything else, a dropped receipt included, ends
//! in a reset so a careful sender retries.
//!
//! Without a history the session answers at once. With one, the session numbers the
//! message's write as it queues it and leaves the answer "stored once write N is
//! settled" in the receipt without waking anyone; the history writer publishes how far
//! it has settled (one [`Settled`] per commit batch, through a `watch`), and each
//! waiting connection wakes on that and closes itself when its write is covered.

use std::ops::RangeInclusive;
use std::sync::{Arc, OnceLock};

use tokio::sync::{Notify, watch};

/// Failed write ranges kept in [`Settled`]: older ones are forgotten, and a write
/// older than what is kept counts as not stored (a reset, never a false clean close).
/// Each range is one episode of failing commits; a connection waits at most its
/// receipt timeout, far less than 64 such episodes take.
const FAILURES_KEPT: usize = 64;

/// How far the history writer has come: every write numbered up to `through` is
/// settled, committed unless it falls in one of `failed` (given up: a failed commit).
#[derive(Debug, Clone, Default)]
pub struct Settled {
    through: u64,
    failed: Arc<Vec<RangeInclusive<u64>>>,
    /// Writes before this may have failed without being kept in `failed`.
    forgotten_below: u64,
}

impl Settled {
    /// Writes up to `last` are settled; those in `failed` were given up.
    pub fn settle(&mut self, last: u64, failed: Option<RangeInclusive<u64>>) {
        self.through = self.through.max(last);
        let Some(range) = failed else {
            return;
        };
        let ranges = Arc::make_mut(&mut self.failed);
        match ranges.last_mut() {
            Some(prev) if *prev.end() + 1 >= *range.start() => {
                *prev = *prev.start()..=*range.end();
            }
            _ => ranges.push(range),
        }
        if ranges.len() > FAILURES_KEPT {
            let old = ranges.remove(0);
            self.forgotten_below = old.end() + 1;
        }
    }

    /// Nothing more will be committed (the writer is gone): every write not settled
    /// yet, up to `last`, is settled as failed.
    pub fn give_up_through(&mut self, last: u64) {
        if last > self.through {
            self.settle(last, Some(self.through + 1..=last));
        }
    }

    /// Whether write `seq` is settled, and if so whether it was committed.
    fn stored(&self, seq: u64) -> Option<bool> {
        (seq <= self.through)
            .then(|| seq >= self.forgotten_below && !self.failed.iter().any(|r| r.contains(&seq)))
    }
}

/// Where [`Settled`] is published (the history writer) and read (the connections).
pub type Watermark = watch::Receiver<Settled>;
pub type Publisher = Arc<watch::Sender<Settled>>;

/// A new watermark at zero: nothing written yet.
pub fn watermark() -> (Publisher, Watermark) {
    let (tx, rx) = watch::channel(Settled::default());
    (Arc::new(tx), rx)
}

#[derive(Debug, Clone, Copy)]
enum Answer {
    Now(bool),
    /// Stored once write `seq` is settled, if it was committed.
    After(u64),
}

#[derive(Debug, Default)]
struct Slot {
    answer: OnceLock<Answer>,
    /// Wakes the connection for an answer given at once (`Now`); an `After` answer
    /// wakes it through the watermark instead.
    told: Notify,
}

/// The answering half, sent along with the message.
#[derive(Debug)]
pub struct Receipt(Arc<Slot>);

/// The connection's half: resolves to whether the message is stored.
#[derive(Debug)]
pub struct Awaiting {
    slot: Arc<Slot>,
    settled: Watermark,
}

impl Receipt {
    /// A receipt and what its connection waits on, against `settled`.
    pub fn pair(settled: &Watermark) -> (Receipt, Awaiting) {
        let slot = Arc::new(Slot::default());
        let awaiting = Awaiting {
            slot: slot.clone(),
            settled: settled.clone(),
        };
        (Receipt(slot), awaiting)
    }

    /// Answers now: stored (a clean close) or refused (a reset).
    pub fn ack(self, stored: bool) {
        self.answer(Answer::Now(stored));
        self.0.told.notify_one();
    }

    /// Stored once write `seq` is settled and was committed. Wakes nobody: give this
    /// answer before the write is queued, so the watermark that covers it comes later.
    pub fn after(self, seq: u64) {
        self.answer(Answer::After(seq));
    }

    fn answer(&self, answer: Answer) {
        let _ = self.0.answer.set(answer);
    }
}

impl Drop for Receipt {
    /// A receipt dropped unanswered refuses.
    fn drop(&mut self) {
        if self.0.answer.set(Answer::Now(false)).is_ok() {
            self.0.told.notify_one();
        }
    }
}

impl Awaiting {
    /// Whether the message is stored: waits for the answer and, for one that depends
    /// on a write, for the watermark to cover it. False when the writer is gone.
    pub async fn stored(mut self) -> bool {
        loop {
            match self.slot.answer.get() {
                Some(Answer::Now(stored)) => return *stored,
                Some(Answer::After(seq)) => {
                    if let Some(stored) = self.settled.borrow_and_update().stored(*seq) {
                        return stored;
                    }
                }
                None => {}
            }
            tokio::select! {
                _ = self.slot.told.notified() => {}
                changed = self.settled.changed() => {
                    if changed.is_err() {
                        let last = *self.slot.answer.get().unwrap_or(&Answer::Now(false));
                        return match last {
                            Answer::Now(stored) => stored,
                            Answer::After(seq) => self.settled.borrow().stored(seq) == Some(true),
                        };
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settled_says_stored_only_for_committed_writes_it_covers() {
        let mut s = Settled::default();
        assert_eq!(s.stored(1), None);
        s.settle(3, None);
        assert_eq!(s.stored(3), Some(true));
        s.settle(5, Some(4..=5));
        s.settle(7, Some(6..=7));
        assert_eq!(*s.failed, vec![4..=7], "adjacent failures merge");
        assert_eq!(
            (s.stored(3), s.stored(4), s.stored(7)),
            (Some(true), Some(false), Some(false))
        );
        s.settle(9, None);
        assert_eq!((s.stored(8), s.stored(10)), (Some(true), None));
    }

    /// A writer gone: the writes it never settled fail, not only the last batch's.
    #[test]
    fn giving_up_fails_every_write_not_settled_yet() {
        let mut s = Settled::default();
        s.settle(2, None);
        s.give_up_through(6);
        assert_eq!(
            (s.stored(2), s.stored(3), s.stored(6), s.stored(7)),
            (Some(true), Some(false), Some(false), None)
        );
        s.give_up_through(4);
        assert_eq!(s.stored(4), Some(false), "nothing settled twice");
    }

    #[test]
    fn forgotten_failures_count_as_not_stored() {
        let mut s = Settled::default();
        for i in 0..=FAILURES_KEPT as u64 {
            s.settle(2 * i + 2, Some(2 * i + 1..=2 * i + 1));
        }
        assert_eq!(s.failed.len(), FAILURES_KEPT);
        assert_eq!(
            s.stored(1),
            Some(false),
            "a forgotten failure is still refused"
        );
        assert_eq!((s.stored(2), s.stored(3)), (Some(true), Some(false)));
    }

    #[tokio::test]
    async fn an_answer_after_a_write_waits_for_the_watermark() {
        let (publish, watermark) = watermark();
        let (receipt, awaiting) = Receipt::pair(&watermark);
        receipt.after(2);
        let waiting = tokio::spawn(awaiting.stored());
        publish.send_modify(|s| s.settle(1, None));
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "write 2 is not settled yet");
        publish.send_modify(|s| s.settle(2, None));
        assert!(waiting.await.unwrap());

        let (receipt, awaiting) = Receipt::pair(&watermark);
        receipt.after(3);
        publish.send_modify(|s| s.settle(3, Some(3..=3)));
        assert!(!awaiting.stored().await, "a failed commit refuses");
    }

    #[tokio::test]
    async fn answers_now_and_dropped_receipts() {
        let (_publish, watermark) = watermark();
        let (receipt, awaiting) = Receipt::pair(&watermark);
        let waiting = tokio::spawn(awaiting.stored());
        receipt.ack(true);
        assert!(waiting.await.unwrap());
        let (receipt, awaiting) = Receipt::pair(&watermark);
        drop(receipt);
        assert!(!awaiting.stored().await);
        let (receipt, awaiting) = Receipt::pair(&watermark);
        receipt.ack(false);
        assert!(!awaiting.stored().await);
    }

    #[tokio::test]
    async fn a_writer_gone_refuses_what_it_did_not_cover() {
        let (publish, watermark) = watermark();
        let (receipt, awaiting) = Receipt::pair(&watermark);
        receipt.after(1);
        drop(publish);
        assert!(!awaiting.stored().await);
    }
}
