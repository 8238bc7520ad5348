//! The app state: who I am, the peers, the message log. Plain data, no I/O.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, Utc};

use super::view::{Selection, View};

/// Why an undelivered message to a forgotten peer failed (it is not retried).
pub const FORGOTTEN: &str = "the peer was forgotten";
pub use crate::event::screen::PeerId;
use crate::event::{Delivery, MsgId, PeerKey, PeerSummary, Via};

/// Most peers kept. Every distinct (ip, port, team) a remote sends is a peer, so a
/// hostile sender could otherwise grow this without end; past it, new senders are
/// reported as rejected input.
pub const MAX_PEERS: usize = 4096;
/// Most peers from one source IP (distinct advertised port and team). The listener
/// refuses the excess with a reset; the store evicts that address's least recently heard
/// peer should it get one more anyway.
pub const MAX_PEERS_PER_IP: usize = 64;

/// The in-memory log is a window: at most this many entries (and
/// [`LOG_WINDOW_BYTES`]); past it the oldest leave memory (they stay in the history and
/// scrolling up pages them in again). Twice as much is allowed while scrolled up.
pub const LOG_WINDOW: usize = 5_000;
/// Bytes of text in the in-memory log window (each entry also counts
/// [`ENTRY_OVERHEAD`]).
pub const LOG_WINDOW_BYTES: usize = 8 * 1024 * 1024;
/// What an entry costs beyond its text, for the window's byte count.
pub const ENTRY_OVERHEAD: usize = 96;

/// The original program's statuses, plus `Contact`: a peer we know of (from the flags
/// or because we wrote to it) but have neither heard from nor reached yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PeerStatus {
    Contact,
    Active,
    Connected,
}

impl PeerStatus {
    pub fn label(self) -> &'static str {
        match self {
            PeerStatus::Contact => "Contact",
            PeerStatus::Active => "Active",
            PeerStatus::Connected => "Connected",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Peer {
    pub key: PeerKey,
    pub trust: Trust,
    pub status: PeerStatus,
    /// False once the peer said `exit` or we disconnected; it comes back when it writes.
    pub listed: bool,
    pub unread: usize,
    /// How it became known (issue 16): typed, announced, or from an invite.
    pub via: Via,
    /// Found by announcements that have since stopped (a crashed peer never says
    /// goodbye); cleared when it is heard of again.
    pub gone: bool,
    /// When a message from it last arrived (this run or, restored, from the history).
    pub last_heard: Option<DateTime<Utc>>,
    /// The user's local name for it (`/alias`), shown instead of its team name.
    pub alias: Option<String>,
}

impl Peer {
    /// How the screen names it: the user's alias, else its team.
    pub fn name(&self) -> &str {
        self.alias.as_deref().unwrap_or(self.key.team_label())
    }

    /// Its address, with the team it gave when an alias hides it, so two peers never
    /// look alike: `10.0.0.2:8080` or `10.0.0.2:8080/B`.
    pub fn place(&self) -> String {
        match self.alias {
            Some(_) => format!("{}/{}", self.key.addr(), self.key.team_label()),
            None => self.key.addr().to_string(),
        }
    }
}

/// What we know of a peer's long-term key (trust on first use).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Trust {
    /// The pinned key: messages travel encrypted to it. `None`: a classic peer.
    pub key: Option<crate::event::PublicKey>,
    /// Another key the peer presented since: messages are held until the user trusts it.
    pub changed: Option<crate::event::PublicKey>,
    /// The user compared safety numbers.
    pub verified: bool,
    /// The pinned peer sent in plaintext since: held like a changed key.
    pub downgraded: bool,
    /// The peer has connected to us encrypted (so plaintext from it is a downgrade).
    pub offered: bool,
    /// An announcement (mDNS, beacon) for this peer carried another key than the pinned
    /// one. Unauthenticated, so only a warning: messages still go to the pinned key,
    /// and the next handshake decides (the pinned key: cleared; another: `changed`).
    /// Not stored in the history.
    pub announced: Option<crate::event::PublicKey>,
}

impl Trust {
    pub fn held(&self) -> bool {
        self.changed.is_some() || self.downgraded
    }

    /// `"plain"` or `"encrypted"`.
    pub fn transport(&self) -> &'static str {
        if self.key.is_some() {
            "encrypted"
        } else {
            "plain"
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Direction {
    In {
        /// The IP the sender advertised, when it differs from the socket's.
        claimed_ip: Option<IpAddr>,
        /// It came in plaintext although the peer's key is pinned (a downgrade, or
        /// someone speaking in its name): marked on its line. Not kept in the history.
        unsealed: bool,
    },
    Out {
        id: MsgId,
        delivery: Delivery,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Body {
    Message {
        peer: PeerId,
        dir: Direction,
        text: String,
    },
    /// A line from brigade itself: a peer arrived or left, an error, a reply.
    System {
        peer: Option<PeerId>,
        text: String,
        error: bool,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogEntry {
    pub at: DateTime<Utc>,
    pub body: Body,
}

impl LogEntry {
    /// What the entry costs in the window's byte count.
    pub fn weight(&self) -> usize {
        ENTRY_OVERHEAD
            + match &self.body {
                Body::Message { text, .. } | Body::System { text, .. } => text.len(),
            }
    }

    /// The peer this entry belongs to, if any.
    pub fn peer(&self) -> Option<PeerId> {
        match &self.body {
            Body::Message { peer, .. } => Some(*peer),
            Body::System { peer, .. } => *peer,
        }
    }
}

/// Who I am on the wire.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Me {
    pub team: String,
    pub advertise_ip: IpAddr,
    /// Set once the listener is up.
    pub listen: Option<SocketAddr>,
    /// This brigade's public key, once the node is up.
    pub key: Option<crate::event::PublicKey>,
}

#[derive(Debug, Clone)]
pub struct State {
    pub me: Me,
    pub peers: Vec<Peer>,
    pub log: Vec<LogEntry>,
    /// Per peer, the indices of its log entries (the conversation view).
    pub(super) peer_log: Vec<Vec<usize>>,
    pub(super) by_key: HashMap<PeerKey, PeerId>,
    pub(super) outgoing: HashMap<MsgId, usize>,
    pub(super) next_msg: u64,
    /// Failed (not dropped) outgoing messages: id -> log index, oldest first.
    pub(super) failed: std::collections::BTreeMap<MsgId, usize>,
    /// Why the history cannot be written, while it cannot (a banner on screen).
    pub storage_fault: Option<String>,
    /// Older messages may be in the history from before this time (scrolling back
    /// to the top loads them); `None` once everything is loaded.
    pub older_before: Option<DateTime<Utc>>,
    pub(super) loading_older: bool,
    /// Bytes of the log as the window counts them.
    pub(super) log_bytes: usize,
    pub quitting: bool,
    pub view: View,
    /// The drafts as the history last stored them (see `drafts`).
    pub(super) saved_drafts: HashMap<Selection, String>,
}

impl State {
    pub fn new(team: impl Into<String>, advertise_ip: IpAddr) -> Self {
        Self {
            me: Me {
                team: team.into(),
                advertise_ip,
                listen: None,
                key: None,
            },
            peers: Vec::new(),
            log: Vec::new(),
            peer_log: Vec::new(),
            by_key: HashMap::new(),
            outgoing: HashMap::new(),
            next_msg: 1,
            failed: std::collections::BTreeMap::new(),
            storage_fault: None,
            older_before: None,
            loading_older: false,
            log_bytes: 0,
            quitting: false,
            view: View::default(),
            saved_drafts: HashMap::new(),
        }
    }

    /// How many log entries the current view (selection) has.
    pub fn view_len(&self) -> usize {
        match self.view.selection {
            Selection::All => self.log.len(),
            Selection::Peer(id) => self.peer_log[id.0].len(),
        }
    }

    /// The `i`-th entry of the current view, oldest first.
    pub fn view_entry(&self, i: usize) -> &LogEntry {
        match self.view.selection {
            Selection::All => &self.log[i],
            Selection::Peer(id) => &self.log[self.peer_log[id.0][i]],
        }
    }

    /// Whether entries of this peer show in the current view.
    pub fn on_screen(&self, peer: Option<PeerId>) -> bool {
        match self.view.selection {
            Selection::All => true,
            Selection::Peer(id) => peer == Some(id),
        }
    }

    /// The entries of the peer list: "All peers", then the listed peers.
    pub fn selections(&self) -> Vec<Selection> {
        std::iter::once(Selection::All)
            .chain(self.listed().map(|(id, _)| Selection::Peer(id)))
            .collect()
    }

    /// Unread messages over all peers.
    pub fn total_unread(&self) -> usize {
        self.listed().map(|(_, p)| p.unread).sum()
    }

    pub fn peer(&self, id: PeerId) -> &Peer {
        &self.peers[id.0]
    }

    pub fn find(&self, key: &PeerKey) -> Option<PeerId> {
        self.by_key.get(key).copied()
    }

    /// The listed peers in the order they first appeared.
    pub fn listed(&self) -> impl Iterator<Item = (PeerId, &Peer)> {
        self.peers
            .iter()
            .enumerate()
            .filter(|(_, p)| p.listed)
            .map(|(i, p)| (PeerId(i), p))
    }

    /// Peers with the given address, listed or not.
    pub fn at_addr(&self, addr: SocketAddr) -> impl Iterator<Item = PeerId> + '_ {
        self.peers
            .iter()
            .enumerate()
            .filter(move |(_, p)| p.key.addr() == addr)
            .map(|(i, _)| PeerId(i))
    }

    /// The peer list as the original's "query active peers" shows it: Active and
    /// Connected peers, the brigades found by discovery or an invite, every listed peer
    /// ever heard from (restored from the history included), with when it was last
    /// heard, and every peer whose key is pinned (a peer you trust is one you know, and
    /// one whose key changed must be seen).
    pub fn peer_summaries(&self) -> Vec<PeerSummary> {
        self.listed()
            .filter(|(_, p)| {
                p.status != PeerStatus::Contact
                    || p.via != Via::Manual
                    || p.last_heard.is_some()
                    || p.trust.key.is_some()
            })
            .map(|(_, p)| PeerSummary {
                addr: p.key.addr(),
                team: p.key.team.clone(),
                status: p.status.label(),
                discovered: p.via.discovered(),
                via: p.via.label(),
                gone: p.gone,
                last_heard: p.last_heard,
                transport: p.trust.transport(),
                fingerprint: p.trust.key.map(|k| k.safety_number().to_string()),
                key_changed: p.trust.held(),
                announced_key_differs: p.trust.announced.is_some(),
                verified: p.trust.verified,
            })
            .collect()
    }

    /// Bytes of the in-memory log, as the window counts them.
    pub fn log_bytes(&self) -> usize {
        self.log_bytes
    }

    /// Outgoing messages not yet delivered or failed.
    pub fn undelivered(&self) -> usize {
        self.outgoing
            .values()
            .filter(|&&i| match &self.log[i].body {
                Body::Message {
                    dir: Direction::Out { delivery, .. },
                    ..
                } => !delivery.is_final(),
                _ => false,
            })
            .count()
    }

    /// Shows another conversation: its draft comes back (this one's is kept), the log
    /// follows its newest line, and a marker goes above its first of `unread` messages.
    pub(super) fn switch_conversation(&mut self, selection: Selection, unread: usize) {
        let view = &mut self.view;
        let draft = view.drafts.remove(&selection).unwrap_or_default();
        let old = std::mem::replace(&mut view.compose, draft);
        if !old.value().is_empty() {
            view.drafts.insert(view.selection, old);
        }
        view.recall = None;
        view.selection = selection;
        view.scroll = 0;
        view.scroll_lines = 0;
        view.at_top = false;
        view.reveal = false;
        view.new_below = 0;
        view.unread_from = None;
        if unread > 0 {
            let mut seen = 0;
            for i in (0..self.view_len()).rev() {
                if matches!(
                    self.view_entry(i).body,
                    Body::Message {
                        dir: Direction::In { .. },
                        ..
                    }
                ) {
                    seen += 1;
                    if seen == unread {
                        self.view.unread_from = Some(i);
                        break;
                    }
                }
            }
        }
    }

    /// Outgoing messages held for a changed key (or a downgrade) until trusted.
    pub fn held_count(&self) -> usize {
        self.failed
            .values()
            .filter(|&&i| {
                matches!(
                    &self.log[i].body,
                    Body::Message {
                        dir: Direction::Out {
                            delivery: crate::event::Delivery::Held { .. },
                            ..
                        },
                        ..
                    }
                )
            })
            .count()
    }

    /// Outgoing messages that failed or are held, and were not given up on.
    pub fn failed_count(&self) -> usize {
        self.failed.len()
    }

    /// The delivery state of an outgoing message.
    pub fn delivery(&self, id: MsgId) -> Option<&Delivery> {
        let i = *self.outgoing.get(&id)?;
        match &self.log[i].body {
            Body::Message {
                dir: Direction::Out { delivery, .. },
                ..
            } => Some(delivery),
            _ => None,
        }
    }
}
