//! The store, the node and the history together: apply an event, run the network and
//! history effects, hand the rest (notices, bell, quit) to the front end. Shared by
//! the TUI and headless modes.

use std::collections::VecDeque;
use std::fs::File;
use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;

use crate::config::PeerSpec;
use crate::event::{Action, Delivery, Effect, Event, EventKind, NetEvent, Target};
use crate::history::{HistoryNote, Opened, Reader, Writer};
use crate::net::{Identity, Limits, NetMsg, Node, NodeConfig, RetryPolicy};
use crate::protocol::CONNECT_TEXT;
use crate::store::{State, restore, update};

/// Messages one scroll past the top loads.
pub const OLDER_PAGE: usize = 500;

/// Hits a search shows.
pub const SEARCH_HITS: usize = 200;

/// The open history: where writes go, where queries run, and the data directory lock.
pub struct HistoryHandle {
    pub writer: Writer,
    pub reader: Reader,
    _lock: File,
}

pub struct Core {
    pub state: State,
    pub node: Node,
    pub events: mpsc::Receiver<NetMsg>,
    pub history: Option<HistoryHandle>,
    pub notes: mpsc::UnboundedReceiver<HistoryNote>,
    /// Answers of background queries (search), to apply as events.
    pub jobs: mpsc::UnboundedReceiver<EventKind>,
    jobs_tx: mpsc::UnboundedSender<EventKind>,
}

impl Core {
    /// Starts the node on a bound listener. With a history, its messages become the log
    /// and undelivered ones are sent again.
    pub fn start(
        listener: tokio::net::TcpListener,
        team: &str,
        advertise_ip: IpAddr,
        limits: Limits,
        retry: RetryPolicy,
        history: Option<Opened>,
    ) -> std::io::Result<Core> {
        let config = NodeConfig {
            identity: Identity {
                advertise_ip,
                team: team.to_string(),
            },
            limits,
            retry,
        };
        let (node, events) = Node::start(listener, config)?;
        let (notes_tx, notes) = mpsc::unbounded_channel();
        let mut state = State::new(team, advertise_ip);
        let mut resume = Vec::new();
        let history = history.map(|opened| {
            resume = restore(&mut state, opened.records);
            state.older_before = opened.older_before;
            HistoryHandle {
                writer: Writer::start(opened.writer_conn, node.sender(), notes_tx),
                reader: opened.reader,
                _lock: opened.lock,
            }
        });
        let (jobs_tx, jobs) = mpsc::unbounded_channel();
        let mut core = Core {
            state,
            node,
            events,
            history,
            notes,
            jobs,
            jobs_tx,
        };
        let rest = core.run(resume, Vec::new());
        debug_assert!(rest.is_empty(), "resuming only sends");
        Ok(core)
    }

    /// Applies an event and returns the effects left for the front end.
    pub fn apply(&mut self, event: Event) -> Vec<Effect> {
        let effects = update(&mut self.state, event);
        self.run(effects, Vec::new())
    }

    /// Runs network and history effects; a message the node cannot queue is reported
    /// failed, never dropped.
    fn run(&mut self, effects: Vec<Effect>, mut rest: Vec<Effect>) -> Vec<Effect> {
        let mut queue: VecDeque<Event> = VecDeque::new();
        for effect in effects {
            match effect {
                Effect::Persist(p) => {
                    if let Some(h) = &self.history {
                        h.writer.persist(p);
                    }
                }
                Effect::Send { id, to, text } => match &self.history {
                    // After the commit of what came before: stored before the first try.
                    Some(h) => h.writer.send(id, to, text),
                    None => {
                        if let Err(reason) = self.node.send(id, to, text) {
                            let status = Delivery::Failed { reason };
                            let e = NetEvent::Delivery { id, to, status };
                            queue.push_back(Event::net(Utc::now(), e));
                        }
                    }
                },
                Effect::Search { query } => self.search(query),
                Effect::LoadOlder { before } => self.load_older(before),
                other => rest.push(other),
            }
        }
        while let Some(event) = queue.pop_front() {
            let effects = update(&mut self.state, event);
            rest = self.run(effects, rest);
        }
        rest
    }

    /// Runs a history search off the async threads; the hits come back on `jobs`.
    fn search(&self, query: String) {
        let tx = self.jobs_tx.clone();
        let Some(h) = &self.history else {
            let _ = tx.send(EventKind::SearchResults {
                query,
                hits: Vec::new(),
            });
            return;
        };
        let reader = h.reader.clone();
        tokio::task::spawn_blocking(move || {
            let hits = reader.search(&query, SEARCH_HITS).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "search failed");
                Vec::new()
            });
            let _ = tx.send(EventKind::SearchResults { query, hits });
        });
    }

    /// Loads a page of older messages off the async threads; they come back on `jobs`.
    fn load_older(&self, before: chrono::DateTime<Utc>) {
        let tx = self.jobs_tx.clone();
        let Some(h) = &self.history else {
            let _ = tx.send(EventKind::Older(Vec::new()));
            return;
        };
        let reader = h.reader.clone();
        tokio::task::spawn_blocking(move || {
            let older = reader.before(before, OLDER_PAGE).unwrap_or_else(|e| {
                tracing::warn!(error = %e, "loading older history failed");
                Vec::new()
            });
            let _ = tx.send(EventKind::Older(older));
        });
    }

    /// Applies the answer of a background query.
    pub fn on_job(&mut self, kind: EventKind) -> Vec<Effect> {
        self.apply(Event {
            at: Utc::now(),
            kind,
        })
    }

    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        self.apply(Event::action(Utc::now(), action))
    }

    /// Applies a message from the node, then acknowledges it once it is stored: only
    /// then does its sender see the close.
    pub fn on_net(&mut self, msg: NetMsg) -> Vec<Effect> {
        let effects = self.apply(Event::net(Utc::now(), msg.event));
        if let Some(receipt) = msg.receipt {
            match &self.history {
                Some(h) => h.writer.ack(receipt),
                None => receipt.ack(true),
            }
        }
        effects
    }

    /// Applies what the history writer reports.
    pub fn on_note(&mut self, note: HistoryNote) -> Vec<Effect> {
        let kind = match note {
            HistoryNote::Fault(text) => EventKind::Storage(Some(text)),
            HistoryNote::Recovered => EventKind::Storage(None),
            HistoryNote::SendFailed { id, to, reason } => EventKind::Net(NetEvent::Delivery {
                id,
                to,
                status: Delivery::Failed { reason },
            }),
        };
        self.apply(Event {
            at: Utc::now(),
            kind,
        })
    }

    /// Reports that the history could not be opened: chat goes on in memory.
    pub fn history_unavailable(&mut self, why: &str) -> Vec<Effect> {
        let text = format!("no history this time: {why}");
        self.apply(Event {
            at: Utc::now(),
            kind: EventKind::Storage(Some(text)),
        })
    }

    /// Before exiting: let the writer commit what it has (bounded).
    pub fn shutdown(&self) {
        if let Some(h) = &self.history {
            h.writer.flush(Duration::from_secs(5));
        }
    }

    /// Greets the well-known peers, as the original did at start-up.
    pub fn greet(&mut self, peers: &[PeerSpec]) -> Vec<Effect> {
        let mut effects = Vec::new();
        for p in peers {
            effects.extend(self.act(Action::Send {
                to: Target::Addr {
                    addr: p.addr,
                    team: p.team.clone(),
                },
                text: CONNECT_TEXT.into(),
            }));
        }
        effects
    }
}
