//! The effect sink: the one place where what the store asks for happens. Sends,
//! history writes, acknowledgements of received connections and history queries all
//! run here; what is left (notices, bell, suspend, quit) goes to the front end.

use std::fs::File;
use std::time::Duration;

use chrono::{DateTime, Utc};
use tokio::sync::mpsc;

use crate::event::{Delivery, Effect, Event, EventKind, NetEvent, Notice, Persist, Query, Record};
use crate::history::{Gather, Reader, Writer};
use crate::net::{Node, Receipt};

/// Messages one scroll past the top loads.
pub const OLDER_PAGE: usize = 500;

/// Hits a search on the screen shows.
pub const SEARCH_HITS: usize = 200;

/// What a query answers when there is no history.
const NO_HISTORY: &str = "there is no history this run (--no-history, or it could not be opened)";

/// The open history: where writes go, where queries run, and the data directory lock.
pub struct HistoryHandle {
    pub writer: Writer,
    pub reader: Reader,
    /// Held for the life of the session: a second brigade on this directory is refused.
    pub _lock: File,
}

/// Runs effects. Owns the node and the history; the session owns the sink.
pub struct Sink {
    pub node: Node,
    pub history: Option<HistoryHandle>,
    /// Where the answers of background queries go, to be applied as events.
    pub jobs: mpsc::UnboundedSender<EventKind>,
    /// The interfaces discovery uses, and its live state while it runs (the doctor view).
    pub discovery: (std::net::IpAddr, Option<crate::discovery::Shared>),
}

impl Sink {
    /// Runs the effects that act on the world. Those meant for the front end are added to
    /// `rest`; facts they cause at once (a send the node cannot queue) to `back`, to be
    /// applied in turn. A message is reported failed, never dropped. With a history,
    /// `pending` is told and the message sent only after its row is committed (the sends
    /// go last, after the notice).
    ///
    /// `receipt`: the acknowledgement of the received message these effects answer.
    /// The one rule for it: its sender sees a clean close only once what it brought is
    /// committed (in memory without a history): with a history the receipt goes along
    /// with the message's write, and its connection closes itself when the writer's
    /// watermark covers that write (`net::receipt`). What the store did not take (no
    /// received message to persist: a full peer table, unusable input) and what the
    /// writer could not commit are refused: the listener resets the connection.
    pub fn run(
        &self,
        effects: Vec<Effect>,
        receipt: Option<Receipt>,
        rest: &mut Vec<Effect>,
        back: &mut Vec<Event>,
    ) {
        self.run_burst([(effects, receipt)], rest, back);
    }

    /// [`Sink::run`] for the effects of several events in turn (a burst of received
    /// messages, each with its receipt): what they ask of the history reaches its writer
    /// in one hand-off, committed together.
    pub fn run_burst(
        &self,
        burst: impl IntoIterator<Item = (Vec<Effect>, Option<Receipt>)>,
        rest: &mut Vec<Effect>,
        back: &mut Vec<Event>,
    ) {
        let mut writes = self.history.as_ref().map(|h| h.writer.gather());
        for (effects, receipt) in burst {
            self.run_one(effects, receipt, writes.as_mut(), rest, back);
        }
    }

    fn run_one(
        &self,
        effects: Vec<Effect>,
        mut receipt: Option<Receipt>,
        mut writes: Option<&mut Gather<'_>>,
        rest: &mut Vec<Effect>,
        back: &mut Vec<Event>,
    ) {
        let accepted = effects
            .iter()
            .any(|e| matches!(e, Effect::Persist(Persist::Message(r)) if !r.outgoing));
        let mut sends = Vec::new();
        for effect in effects {
            match (effect, writes.as_deref_mut()) {
                (Effect::Notify(n @ Notice::Delivery { .. }), Some(w)) => {
                    let pending = matches!(
                        &n,
                        Notice::Delivery {
                            status: Delivery::Pending,
                            ..
                        }
                    );
                    if pending {
                        w.notify(n);
                    } else {
                        rest.push(Effect::Notify(n));
                    }
                }
                (send @ Effect::Send { .. }, Some(_)) => sends.push(send),
                (Effect::Persist(p), w) => {
                    if let Some(w) = w {
                        let received = matches!(&p, Persist::Message(r) if !r.outgoing);
                        // Only the received message's own write takes the receipt.
                        let takes = if received { receipt.take() } else { None };
                        w.persist(p, takes);
                    }
                }
                (Effect::Send { id, to, text }, None) => {
                    if let Err(reason) = self.node.send(id, to, text) {
                        let status = Delivery::Failed { reason };
                        let e = NetEvent::Delivery { id, to, status };
                        back.push(Event::net(Utc::now(), e));
                    }
                }
                (Effect::Transport { to, secure }, _) => self.node.set_transport(to, secure),
                (Effect::Search { query }, _) => self.search(query),
                (Effect::LoadOlder { before }, _) => self.load_older(before),
                (Effect::Ask(query), _) => self.ask(query),
                (Effect::Doctor, _) => {
                    let (bind, live) = &self.discovery;
                    let live = live
                        .as_ref()
                        .map(|l| l.lock().unwrap_or_else(|e| e.into_inner()));
                    let report = crate::discovery::doctor::live(*bind, live.as_deref()).text();
                    back.push(Event {
                        at: Utc::now(),
                        kind: EventKind::Doctor(report),
                    });
                }
                (other, _) => rest.push(other),
            }
        }
        if let Some(w) = writes {
            for send in sends {
                if let Effect::Send { id, to, text } = send {
                    w.send(id, to, text);
                }
            }
        }
        // Not taken by a write: stored now without a history, else refused.
        if let Some(receipt) = receipt {
            receipt.ack(accepted && self.history.is_none());
        }
    }

    /// Before exiting: let the writer commit what it has (bounded).
    pub fn flush(&self) {
        if let Some(h) = &self.history {
            h.writer.flush(Duration::from_secs(5));
        }
    }

    /// The screen's search: no history or a failed query shows no hits.
    fn search(&self, query: String) {
        let q = query.clone();
        self.query(
            move |r| r.search(&q, SEARCH_HITS),
            move |result| EventKind::SearchResults {
                query,
                hits: result.unwrap_or_default(),
            },
        );
    }

    fn load_older(&self, before: DateTime<Utc>) {
        self.query(
            move |r| r.before(before, OLDER_PAGE),
            |result| EventKind::Older(result.unwrap_or_default()),
        );
    }

    fn ask(&self, query: Query) {
        let q = query.clone();
        self.query(
            move |r| {
                match &q {
                    Query::Conversation { peer, limit } => {
                        r.conversation(peer.ip(), peer.port(), *limit)
                    }
                    Query::Search { query, limit } => r.search(query, *limit),
                }
                .map_err(|e| format!("history query failed: {e}"))
            },
            move |result| EventKind::Answer { query, result },
        );
    }

    /// Runs a history query off the async threads; its answer comes back on `jobs`.
    /// Without a history the answer is at once an error that says so.
    fn query(
        &self,
        run: impl FnOnce(&Reader) -> Result<Vec<Record>, String> + Send + 'static,
        answer: impl FnOnce(Result<Vec<Record>, String>) -> EventKind + Send + 'static,
    ) {
        let tx = self.jobs.clone();
        let Some(h) = &self.history else {
            let _ = tx.send(answer(Err(NO_HISTORY.into())));
            return;
        };
        let reader = h.reader.clone();
        tokio::task::spawn_blocking(move || {
            let result = run(&reader);
            if let Err(e) = &result {
                tracing::warn!(error = %e, "history query failed");
            }
            let _ = tx.send(answer(result));
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{PeerKey, Persist};

    fn record(text: &str) -> Record {
        let peer = PeerKey::new("10.0.0.2".parse().unwrap(), 7000, "C");
        Record::received(Utc::now(), peer, text)
    }

    /// The receipt goes with the received message's own write, wherever it is among
    /// the effects: a write before it (a delivery state) must neither take it nor
    /// refuse it; without a message to persist the receipt is refused.
    #[tokio::test]
    async fn the_receipt_follows_the_received_messages_write() {
        let dir = tempfile::tempdir().unwrap();
        let opened = crate::history::open(dir.path()).unwrap();
        let (node, _events) = Node::on_loopback();
        let (notes, _notes) = mpsc::unbounded_channel();
        let writer = Writer::start(opened.writer_conn, node.sender(), notes);
        let watermark = node.watermark();
        let (jobs, _jobs) = mpsc::unbounded_channel();
        let history = HistoryHandle {
            writer,
            reader: opened.reader,
            _lock: opened.lock,
        };
        let sink = Sink {
            node,
            history: Some(history),
            jobs,
            discovery: ("127.0.0.1".parse().unwrap(), None),
        };
        let wait = Duration::from_secs(10);
        let status = Persist::Status {
            id: crate::event::MsgId(1),
            status: Delivery::Delivered,
        };
        let effects = vec![
            Effect::Persist(status),
            Effect::Persist(Persist::Message(record("kept"))),
        ];
        let (receipt, stored) = Receipt::pair(&watermark);
        sink.run(effects, Some(receipt), &mut Vec::new(), &mut Vec::new());
        assert!(tokio::time::timeout(wait, stored.stored()).await.unwrap());

        let (receipt, refused) = Receipt::pair(&watermark);
        let effects = vec![Effect::Persist(Persist::Status {
            id: crate::event::MsgId(1),
            status: Delivery::Delivered,
        })];
        sink.run(effects, Some(receipt), &mut Vec::new(), &mut Vec::new());
        assert!(!tokio::time::timeout(wait, refused.stored()).await.unwrap());
    }

    /// Without a history a received message is "stored" once the store took it (a
    /// clean close), and one the store did not take (a full peer table) is refused
    /// (a reset), as with a history.
    #[tokio::test]
    async fn without_a_history_a_message_the_store_did_not_take_is_refused() {
        let (node, _events) = Node::on_loopback();
        let watermark = node.watermark();
        let (jobs, _jobs) = mpsc::unbounded_channel();
        let sink = Sink {
            node,
            history: None,
            jobs,
            discovery: ("127.0.0.1".parse().unwrap(), None),
        };
        let wait = Duration::from_secs(10);
        let (receipt, taken) = Receipt::pair(&watermark);
        let effects = vec![Effect::Persist(Persist::Message(record("taken")))];
        sink.run(effects, Some(receipt), &mut Vec::new(), &mut Vec::new());
        assert!(tokio::time::timeout(wait, taken.stored()).await.unwrap());

        let (receipt, refused) = Receipt::pair(&watermark);
        sink.run(Vec::new(), Some(receipt), &mut Vec::new(), &mut Vec::new());
        assert!(!tokio::time::timeout(wait, refused.stored()).await.unwrap());
    }
}
