//! The session: the store, the node, the history and background jobs together. Every
//! source (the front end's actions, the network, history notes, job answers, the quit
//! timer) goes through [`update`], and every effect through the [`Sink`]. A front end
//! turns its input into actions and shows what comes out.

use std::net::IpAddr;
use std::time::Duration;

use chrono::Utc;
use tokio::sync::mpsc;
use tokio::time::Instant;

use super::HistoryOpen;
use super::sink::{HistoryHandle, Sink};
use crate::config::{PeerSpec, Settings};
use crate::discovery::{self, Discovery, Means};
use crate::event::{Action, Delivery, Effect, Event, EventKind, NetEvent, Notice, Target};
use crate::history::{HistoryNote, Writer};
use crate::net::{Limits, NetMsg, Node, NodeConfig, Receipt, RetryPolicy, Stats};
use crate::protocol::CONNECT_TEXT;
use crate::store::{State, restore, update};

/// Most queued network events handled before the front end shows them (a burst is
/// drawn or flushed once, and the history writer commits it in larger groups).
const DRAIN: usize = 1024;

/// How a session starts.
pub struct Setup {
    pub listener: tokio::net::TcpListener,
    pub team: String,
    pub advertise_ip: IpAddr,
    pub limits: Limits,
    pub retry: RetryPolicy,
    pub history: HistoryOpen,
    /// The well-known peers, greeted at start-up as the original did.
    pub peers: Vec<PeerSpec>,
    /// How long a quit waits for undelivered messages; `None`: until they are delivered
    /// or the user quits again.
    pub quit_grace: Option<Duration>,
    /// How other brigades find this one and are found (issue 16), on which interfaces.
    pub discovery: Means,
    pub bind: IpAddr,
    /// This brigade's long-term key (see `app::load_identity`); discovery and invites
    /// announce its public half.
    pub keys: crate::secure::Keypair,
}

impl Setup {
    /// The set-up the flags describe, on a bound listener, with the default retry policy.
    pub fn new(
        settings: &Settings,
        listener: tokio::net::TcpListener,
        team: String,
        limits: Limits,
        history: HistoryOpen,
        quit_grace: Option<Duration>,
    ) -> Setup {
        // A key that cannot be kept (a read-only data directory) is no reason not to
        // chat: this run gets a key of its own, and says so in the log.
        let keys = super::load_identity(settings, &team).unwrap_or_else(|why| {
            tracing::warn!(%why, "using a key for this run only");
            crate::secure::Keypair::generate()
        });
        Setup {
            listener,
            team,
            advertise_ip: settings.advertise_ip,
            limits,
            retry: RetryPolicy::default(),
            history,
            peers: settings.peers.clone(),
            quit_grace,
            discovery: settings.discovery,
            bind: settings.bind,
            keys,
        }
    }
}

pub struct Session {
    pub state: State,
    sink: Sink,
    events: mpsc::Receiver<NetMsg>,
    notes: mpsc::UnboundedReceiver<HistoryNote>,
    jobs: mpsc::UnboundedReceiver<EventKind>,
    quit_grace: Option<Duration>,
    quit_by: Option<Instant>,
    /// What discovery hears, as network events; `_discovery` stops it when dropped.
    hints: mpsc::Receiver<NetEvent>,
    _discovery: Option<Discovery>,
}

impl Session {
    /// Starts the node on the bound listener. With a history, its messages become the
    /// log and undelivered ones are sent again. Returns what start-up has to show: the
    /// listening address, anything about the history, the greetings.
    pub async fn start(
        setup: Setup,
        adjust: impl FnOnce(&mut State),
    ) -> std::io::Result<(Session, Vec<Effect>)> {
        let public = setup.keys.public;
        let config = NodeConfig {
            identity: crate::net::Identity {
                advertise_ip: setup.advertise_ip,
                team: setup.team.clone(),
            },
            limits: setup.limits,
            retry: setup.retry,
            keys: setup.keys,
        };
        let listener_port = setup.listener.local_addr()?.port();
        let (node, events) = Node::start(setup.listener, config)?;
        let (notes_tx, notes) = mpsc::unbounded_channel();
        let (jobs_tx, jobs) = mpsc::unbounded_channel();
        let mut state = State::new(&setup.team, setup.advertise_ip);
        adjust(&mut state);
        let (history, unavailable) = setup.history;
        let mut resume = Vec::new();
        let history = history.map(|opened| {
            let (handle, sends) = restore_history(&mut state, opened, node.sender(), notes_tx);
            resume = sends;
            handle
        });
        let sink = Sink {
            node,
            history,
            jobs: jobs_tx,
            discovery: (setup.bind, None),
        };
        let mut discovery_config = discovery::Config::new(
            setup.discovery,
            setup.bind,
            setup.team.clone(),
            listener_port,
        );
        discovery_config.key = Some(public);
        let (hints, discovery) = start_discovery(discovery_config);
        let mut session = Session {
            state,
            sink,
            events,
            notes,
            jobs,
            quit_grace: setup.quit_grace,
            quit_by: None,
            hints,
            _discovery: None,
        };
        let mut shown = session.run(resume);
        // The listening event comes first, then anything about the history, the greetings.
        if let Some(msg) = session.events.recv().await {
            shown.extend(session.on_net(msg));
        }
        if let Some(why) = unavailable {
            let text = format!("no history this time: {why}");
            shown.extend(session.apply(EventKind::Storage(Some(text))));
        }
        shown.extend(session.discovery_started(discovery, &setup.peers));
        for p in &setup.peers {
            shown.extend(session.act(Action::Send {
                to: Target::Addr {
                    addr: p.addr,
                    team: p.team.clone(),
                },
                text: CONNECT_TEXT.into(),
            }));
        }
        Ok((session, shown))
    }

    /// Keeps discovery running, says why a means could not start, and lists the peers
    /// given as invites as found by invite (their keys pinned by the trust code).
    fn discovery_started(
        &mut self,
        discovery: Option<Discovery>,
        peers: &[PeerSpec],
    ) -> Vec<Effect> {
        let mut shown = Vec::new();
        for problem in discovery.iter().flat_map(|d| &d.problems) {
            let text = format!("discovery: {problem} (brigade --doctor tells more)");
            shown.extend(self.apply(EventKind::Net(NetEvent::Error { text })));
        }
        self.sink.discovery.1 = discovery.as_ref().map(|d| d.live.clone());
        self._discovery = discovery;
        for invite in peers.iter().filter_map(|p| p.invite.as_ref()) {
            shown.extend(self.apply(EventKind::Net(NetEvent::Discovered(invite.hint()))));
        }
        shown
    }

    /// Applies a user action; returns what the front end must show or do.
    pub fn act(&mut self, action: Action) -> Vec<Effect> {
        let effects = self.apply(EventKind::Action(action));
        self.settle(effects)
    }

    /// Waits for the next thing that happens besides the front end's own input, applies
    /// it (a network burst as a whole) and returns what to show. `None`: the node
    /// stopped. Cancel-safe: nothing is lost when another branch of a `select!` wins.
    pub async fn next(&mut self) -> Option<Vec<Effect>> {
        let quit_by = self.quit_by;
        let effects = tokio::select! {
            // The writer's notes first: a `pending` it releases comes before the
            // delivery that follows it.
            biased;
            Some(note) = self.notes.recv() => self.on_note(note),
            msg = self.events.recv() => {
                let mut burst = vec![msg?];
                while burst.len() < DRAIN {
                    match self.events.try_recv() {
                        Ok(msg) => burst.push(msg),
                        Err(_) => break,
                    }
                }
                self.on_burst(burst)
            }
            Some(job) = self.jobs.recv() => self.apply(job),
            Some(hint) = self.hints.recv() => self.apply(EventKind::Net(hint)),
            _ = tokio::time::sleep_until(quit_by.unwrap_or_else(Instant::now)), if quit_by.is_some() => {
                let n = self.state.undelivered();
                let text = format!("quitting with {n} messages still undelivered");
                return Some(vec![Effect::Notify(Notice::Error { text }), Effect::Quit]);
            }
        };
        Some(self.settle(effects))
    }

    /// Whether the user asked to quit (the session may still wait for deliveries).
    pub fn quitting(&self) -> bool {
        self.state.quitting
    }

    pub fn stats(&self) -> &Stats {
        self.sink.node.stats()
    }

    /// Before exiting: the compose drafts go to the history with the rest.
    pub fn keep_drafts(&mut self) {
        let effects = crate::store::keep_drafts(&mut self.state);
        self.run(effects);
    }

    /// Before exiting: let the history commit what it has (bounded).
    pub fn shutdown(&self) {
        self.sink.flush();
    }

    /// The grace period of a quit. When to quit is the store's rule (at once when
    /// nothing is undelivered, else once the last message is delivered or on a second
    /// quit); the session adds the timer after which it gives up waiting.
    fn settle(&mut self, mut effects: Vec<Effect>) -> Vec<Effect> {
        let waiting = self.state.quitting && !effects.contains(&Effect::Quit);
        let n = self.state.undelivered();
        if let (true, None, Some(grace)) = (waiting && n > 0, self.quit_by, self.quit_grace) {
            self.quit_by = Some(Instant::now() + grace);
            let text = format!("waiting for {n} messages to be delivered before quitting");
            effects.push(Effect::Notify(Notice::Info { text }));
        }
        effects
    }

    /// Applies a message from the node; its receipt goes to the sink with the effects
    /// (see `Sink::run`: acknowledged once stored, refused if the store did not take it).
    fn on_net(&mut self, msg: NetMsg) -> Vec<Effect> {
        self.on_burst(vec![msg])
    }

    /// Applies messages from the node in turn, then runs their effects together: what
    /// they ask of the history reaches the writer in one hand-off (`Sink::run_burst`).
    fn on_burst(&mut self, burst: Vec<NetMsg>) -> Vec<Effect> {
        let burst: Vec<_> = burst
            .into_iter()
            .map(|msg| {
                // Each its own time: scrolling back pages by time, and a page boundary
                // must not fall among messages that share one.
                let event = Event {
                    at: Utc::now(),
                    kind: EventKind::Net(msg.event),
                };
                (update(&mut self.state, event), msg.receipt)
            })
            .collect();
        let (mut rest, mut back) = (Vec::new(), Vec::new());
        self.sink.run_burst(burst, &mut rest, &mut back);
        self.apply_back(rest, back)
    }

    /// Applies what the history writer reports.
    fn on_note(&mut self, note: HistoryNote) -> Vec<Effect> {
        self.apply(match note {
            HistoryNote::Fault(text) => EventKind::Storage(Some(text)),
            HistoryNote::Recovered => EventKind::Storage(None),
            HistoryNote::Committed(notice) => return vec![Effect::Notify(notice)],
            HistoryNote::SendFailed { id, to, reason } => EventKind::Net(NetEvent::Delivery {
                id,
                to,
                status: Delivery::Failed { reason },
            }),
        })
    }

    /// Applies an event now and runs its effects.
    fn apply(&mut self, kind: EventKind) -> Vec<Effect> {
        let effects = update(
            &mut self.state,
            Event {
                at: Utc::now(),
                kind,
            },
        );
        self.run(effects)
    }

    /// Runs effects through the sink, and applies in turn the facts they cause.
    fn run(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        self.run_with(effects, None)
    }

    /// [`Session::run`] for the effects of a received message, with its receipt.
    fn run_with(&mut self, effects: Vec<Effect>, receipt: Option<Receipt>) -> Vec<Effect> {
        let (mut rest, mut back) = (Vec::new(), Vec::new());
        self.sink.run(effects, receipt, &mut rest, &mut back);
        self.apply_back(rest, back)
    }

    /// Applies in turn the facts that running effects caused, and runs theirs.
    fn apply_back(&mut self, mut rest: Vec<Effect>, mut back: Vec<Event>) -> Vec<Effect> {
        while !back.is_empty() {
            for event in std::mem::take(&mut back) {
                let effects = update(&mut self.state, event);
                self.sink.run(effects, None, &mut rest, &mut back);
            }
        }
        rest
    }
}

/// Starts the discovery means the set-up asks for (none: a channel that stays empty).
/// Restores the state the history holds (pins first: resumed sends must go the way the
/// store chose; then notes, messages, drafts) and starts its writer. Returns the
/// writer's handle and the sends to resume.
fn restore_history(
    state: &mut State,
    opened: crate::history::Opened,
    node: crate::net::NodeSender,
    notes: mpsc::UnboundedSender<HistoryNote>,
) -> (HistoryHandle, Vec<Effect>) {
    let mut resume = crate::store::trust::restore_pins(state, opened.pins);
    let mut records = opened.records;
    crate::store::restore_notes(state, opened.notes, &mut records);
    resume.extend(restore(state, records));
    crate::store::restore_drafts(state, opened.drafts);
    state.older_before = opened.older_before;
    let handle = HistoryHandle {
        writer: Writer::start(opened.writer_conn, node, notes),
        reader: opened.reader,
        _lock: opened.lock,
    };
    (handle, resume)
}

fn start_discovery(config: discovery::Config) -> (mpsc::Receiver<NetEvent>, Option<Discovery>) {
    let (hints_tx, hints) = mpsc::channel(256);
    let discovery = config
        .means
        .any()
        .then(|| discovery::start(config, hints_tx));
    (hints, discovery)
}

#[cfg(test)]
mod tests {
    use std::net::SocketAddr;

    use tokio::time::timeout;

    use super::*;
    use crate::event::Query;
    use crate::net::bind_listener;

    const WAIT: Duration = Duration::from_secs(10);

    async fn start(quit_grace: Option<Duration>) -> Session {
        let ip: IpAddr = "127.0.0.1".parse().unwrap();
        let setup = Setup {
            listener: bind_listener(ip, 0, 16).unwrap(),
            team: "A".into(),
            advertise_ip: ip,
            limits: Limits::default(),
            retry: RetryPolicy::default(),
            history: (None, None),
            peers: Vec::new(),
            quit_grace,
            discovery: Means::NONE,
            bind: ip,
            keys: crate::secure::Keypair::generate(),
        };
        let (session, shown) = Session::start(setup, |_| {}).await.unwrap();
        assert!(
            matches!(shown[..], [Effect::Notify(Notice::Listening { .. })]),
            "{shown:?}"
        );
        session
    }

    /// A headless question travels like the screen's search: sink, jobs, update.
    #[tokio::test]
    async fn a_question_is_answered_through_the_jobs() {
        let mut session = start(None).await;
        let query = Query::Search {
            query: "lab".into(),
            limit: 5,
        };
        assert!(session.act(Action::Ask(query)).is_empty());
        let shown = timeout(WAIT, session.next()).await.unwrap().unwrap();
        let Some(Effect::Notify(Notice::Error { text })) = shown.first() else {
            panic!("{shown:?}");
        };
        assert!(text.contains("no history this run"), "{text}");
    }

    /// A quit with a message still undelivered waits, says so, and gives up after the
    /// grace period.
    #[tokio::test]
    async fn a_quit_waits_for_deliveries_at_most_the_grace_period() {
        let mut session = start(Some(Duration::from_millis(100))).await;
        // A peer that never accepts: the message stays undelivered.
        let silent = bind_listener("127.0.0.1".parse().unwrap(), 0, 16).unwrap();
        let addr: SocketAddr = silent.local_addr().unwrap();
        let to = Target::Addr { addr, team: None };
        session.act(Action::Send {
            to,
            text: "hello".into(),
        });
        let shown = session.act(Action::Quit);
        assert!(session.quitting());
        assert!(
            matches!(&shown[..], [Effect::Notify(Notice::Info { text })] if text.starts_with("waiting for 1")),
            "{shown:?}"
        );
        let shown = timeout(WAIT, async {
            loop {
                let shown = session.next().await.unwrap();
                if shown.contains(&Effect::Quit) {
                    return shown;
                }
            }
        })
        .await
        .unwrap();
        assert!(
            matches!(&shown[..], [Effect::Notify(Notice::Error { text }), Effect::Quit] if text.contains("still undelivered")),
            "{shown:?}"
        );
    }
}
