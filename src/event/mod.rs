//! The vocabulary shared by the layers: user intents ([`Action`]), network facts
//! ([`NetEvent`]), the store's input ([`Event`]) and what the store asks the world to do
//! ([`Effect`], [`Notice`]). Plain data: no tokio, no terminal types.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::protocol::Inbound;

mod hint;
mod key;
mod notice;
pub mod screen;

pub use hint::{Hint, Via};
pub use key::{PublicKey, SafetyNumber};
pub use notice::{Notice, PeerSummary};
pub use screen::ScreenAction;

/// Identifies one outgoing user message (all of its wire parts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MsgId(pub u64);

/// A peer's identity: the socket's IP (never the advertised one), the advertised port,
/// the team name. Port 0 and an empty team mean "not known yet".
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PeerKey {
    pub ip: IpAddr,
    pub port: u16,
    pub team: String,
}

impl PeerKey {
    pub fn new(ip: IpAddr, port: u16, team: impl Into<String>) -> Self {
        Self {
            ip,
            port,
            team: team.into(),
        }
    }

    /// Where messages to this peer go.
    pub fn addr(&self) -> SocketAddr {
        SocketAddr::new(self.ip, self.port)
    }

    /// Whether we know where to send to this peer.
    pub fn reachable(&self) -> bool {
        self.port != 0
    }

    /// The team for display: `?` when unknown.
    pub fn team_label(&self) -> &str {
        if self.team.is_empty() {
            "?"
        } else {
            &self.team
        }
    }
}

/// How messages to a peer travel, when not in classic plaintext (the store decides;
/// the node's sender follows).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Secure {
    /// The key is pinned: encrypted to it (Noise IK), and to no other key.
    Pinned(PublicKey),
    /// The peer speaks brigade but its key is not known yet: Noise XX, and the key
    /// the handshake proves is reported (trust on first use).
    Learn,
    /// The key changed (or encryption stopped): nothing is sent until the user decides.
    Held,
}

/// Where a user's message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// Every listed peer that can be reached (the "All peers" entry).
    All,
    /// A peer by address, with its team when the user knows it.
    Addr {
        addr: SocketAddr,
        team: Option<String>,
    },
}

/// What a user can ask for, from any front end.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Menu option 1: send a message.
    Send { to: Target, text: String },
    /// Menu option 2: list the peers.
    QueryPeers,
    /// Menu option 3: send the connect text to every Active peer.
    ConnectAll,
    /// Send `exit` to a peer and remove it from the list.
    Disconnect {
        addr: SocketAddr,
        team: Option<String>,
    },
    /// Send a failed message again (`None`: every failed one in the conversation on
    /// screen, or everywhere from "All peers").
    Retry { id: Option<MsgId> },
    /// Give up on a failed message (`None`: every failed one on screen).
    Drop { id: Option<MsgId> },
    /// Menu option 0. With messages still being delivered, quitting waits for them;
    /// a second Quit does not wait.
    Quit,
    /// Ask the history a question; the answer is told as a notice.
    Ask(Query),
    /// Keys and mouse on the terminal screen.
    Screen(ScreenAction),
    /// Accept the key the peer at this address now presents (after a key change);
    /// its held messages go.
    /// With `key`: pin that key for the peer now (as accepting an invite does).
    Trust {
        peer: SocketAddr,
        key: Option<PublicKey>,
    },
    /// Mark the peer's key verified (the user compared safety numbers).
    Verify { peer: SocketAddr },
}

/// A question for the history whose answer is told to the user (headless `history` and
/// `search`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The stored conversation with the peer at this address, oldest first.
    Conversation { peer: SocketAddr, limit: usize },
    /// Full-text search over the whole history, newest first.
    Search { query: String, limit: usize },
}

/// The delivery state of one outgoing message. Serialized as a `status` field (with
/// `attempt` and `reason` where they apply).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Delivery {
    Pending,
    /// An attempt failed; another follows after a backoff.
    Retrying {
        attempt: u32,
        reason: String,
    },
    /// The peer read the whole text and closed cleanly.
    Delivered,
    /// Every attempt failed. Retried when the peer is heard from, or on request.
    Failed {
        reason: String,
    },
    /// The user gave up on it.
    Dropped,
    /// Not sent: the peer's key changed (or it stopped offering encryption); sent once
    /// the user trusts the new key.
    Held {
        reason: String,
    },
}

impl Delivery {
    /// A message held because its peer's key changed.
    pub fn held() -> Delivery {
        Delivery::Held {
            reason: "the peer's key changed: held until you trust the new key".into(),
        }
    }

    /// No attempt is under way or planned (a failed message can still be retried).
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Delivery::Delivered
                | Delivery::Failed { .. }
                | Delivery::Dropped
                | Delivery::Held { .. }
        )
    }

    pub fn label(&self) -> &'static str {
        match self {
            Delivery::Pending => "pending",
            Delivery::Retrying { .. } => "retrying",
            Delivery::Delivered => "delivered",
            Delivery::Failed { .. } => "failed",
            Delivery::Dropped => "dropped",
            Delivery::Held { .. } => "held",
        }
    }

    pub fn reason(&self) -> Option<&str> {
        match self {
            Delivery::Retrying { reason, .. }
            | Delivery::Failed { reason }
            | Delivery::Held { reason } => Some(reason),
            _ => None,
        }
    }
}

/// Facts the network layer reports. Every string in here is already sanitized.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NetEvent {
    Listening {
        addr: SocketAddr,
        /// This brigade's public key.
        key: PublicKey,
    },
    /// A message arrived on a connection from `from` (the socket's address).
    Received {
        from: SocketAddr,
        message: Inbound,
        /// It came on an encrypted connection (whose key a `PeerKey` event told).
        sealed: bool,
    },
    /// Input that could not be used, with a sanitized preview.
    Rejected {
        from: SocketAddr,
        reason: String,
        preview: String,
    },
    /// The state of an outgoing message changed.
    Delivery {
        id: MsgId,
        to: SocketAddr,
        status: Delivery,
    },
    /// A receiver answered on the socket before closing (e.g. `[ACK] ...`).
    Reply { from: SocketAddr, text: String },
    /// A handshake proved the key of the peer listening at `addr` (an inbound
    /// connection: the socket's IP and the advertised port; outbound: where we sent).
    PeerKey {
        addr: SocketAddr,
        team: Option<String>,
        key: PublicKey,
        /// The peer connected to us encrypted (it offers encryption itself).
        inbound: bool,
    },
    /// Something went wrong in the node that the user should know about.
    Error { text: String },
    /// A brigade announced itself, or an invite named one (a hint, never proof).
    Discovered(Hint),
    /// A discovered brigade's announcements stopped (expired or withdrawn).
    Lost {
        addr: SocketAddr,
        team: String,
        via: Via,
    },
}

/// The store's input: a user action or a network fact, stamped with the time it
/// happened (the store has no clock of its own).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub at: DateTime<Utc>,
    pub kind: EventKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    Action(Action),
    Net(NetEvent),
    /// The history cannot be written (`Some(why)`), or can again (`None`).
    Storage(Option<String>),
    /// The answer to an `Effect::Search`.
    SearchResults {
        query: String,
        hits: Vec<Record>,
    },
    /// The answer to an `Effect::LoadOlder`: older messages, oldest first.
    Older(Vec<Record>),
    /// The answer to an `Effect::Ask`, or why there is none.
    Answer {
        query: Query,
        result: Result<Vec<Record>, String>,
    },
    /// The answer to an `Effect::Doctor`: the report, as `brigade --doctor` writes it.
    Doctor(String),
}

impl Event {
    pub fn action(at: DateTime<Utc>, action: Action) -> Self {
        Self {
            at,
            kind: EventKind::Action(action),
        }
    }

    pub fn net(at: DateTime<Utc>, net: NetEvent) -> Self {
        Self {
            at,
            kind: EventKind::Net(net),
        }
    }
}

/// One message as the history stores it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    pub at: DateTime<Utc>,
    pub peer: PeerKey,
    pub outgoing: bool,
    pub text: String,
    /// Outgoing messages: their id and delivery state.
    pub msg_id: Option<MsgId>,
    pub delivery: Option<Delivery>,
    pub claimed_ip: Option<IpAddr>,
}

impl Record {
    /// A message received from `peer` (no id or delivery state: those are outgoing
    /// messages'), its header's address the socket's.
    pub fn received(at: DateTime<Utc>, peer: PeerKey, text: impl Into<String>) -> Record {
        Record {
            at,
            peer,
            outgoing: false,
            text: text.into(),
            msg_id: None,
            delivery: None,
            claimed_ip: None,
        }
    }
}

/// A peer's pinned key as the history keeps it (trust on first use survives restarts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pin {
    pub peer: PeerKey,
    pub key: PublicKey,
    /// Another key it presented since, not yet trusted (its messages are held).
    pub changed: Option<PublicKey>,
    pub verified: bool,
    /// It sent in plaintext since (stopped offering encryption): held too.
    pub downgraded: bool,
    /// It has connected to us encrypted itself.
    pub offered: bool,
}

/// What the user noted about a peer, as the history keeps it: a local alias, and when
/// it was forgotten (`/forget`): its messages until then are not listed again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PeerNote {
    pub peer: PeerKey,
    pub alias: Option<String>,
    pub forgotten: Option<DateTime<Utc>>,
}

/// A write the history must make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Persist {
    Message(Record),
    Status {
        id: MsgId,
        status: Delivery,
    },
    /// Insert or replace the pin of `Pin::peer`.
    Pin(Pin),
    /// Forget the pin of this peer (the user accepted it as a plaintext peer).
    Unpin(PeerKey),
    /// Keep (or, empty, forget) the compose draft of a conversation.
    Draft(Draft),
    /// Set (or with `None` remove) the user's alias for a peer.
    Alias {
        peer: PeerKey,
        alias: Option<String>,
    },
    /// The user forgot a peer at `at`: its pin and alias go, and with `delete` its
    /// messages too (from the search index as well, overwritten on disk).
    Forget {
        peer: PeerKey,
        at: DateTime<Utc>,
        delete: bool,
    },
}

/// The compose draft of a conversation as the history keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Draft {
    /// `None`: "All peers".
    pub peer: Option<PeerKey>,
    pub text: String,
}

/// What the store asks the world to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Write to the history. Comes before the `Send` of the same message, so a message
    /// is stored before its first attempt.
    Persist(Persist),
    /// Deliver `text` (the node adds the header and splits it) to `to`.
    Send {
        id: MsgId,
        to: SocketAddr,
        text: String,
    },
    /// From now on, send to `to` this way (`None`: classic plaintext).
    Transport {
        to: SocketAddr,
        secure: Option<Secure>,
    },
    /// Tell the user something (the headless front end prints these).
    Notify(Notice),
    /// A message arrived for a conversation that is not on screen: the front end rings
    /// the bell or shows a desktop notification (`--notify`) of `team: text`.
    Bell {
        team: String,
        text: String,
    },
    /// Hand the terminal back to the shell (Ctrl+Z).
    Suspend,
    /// Put this text on the clipboard (the terminal front end writes OSC 52).
    Copy(String),
    /// Search the whole history; the answer comes back as `SearchResults`.
    Search {
        query: String,
    },
    /// Load messages from before this time; the answer comes back as `Older`.
    LoadOlder {
        before: DateTime<Utc>,
    },
    /// Ask the history; the answer comes back as `Answer`.
    Ask(Query),
    /// Report the running discovery's state; the report comes back as `Doctor`.
    Doctor,
    Quit,
}
