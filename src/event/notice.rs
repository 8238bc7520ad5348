//! What the user is told, and how it reads as one JSON line (the headless output,
//! documented in the README): `{"event":KIND,"at":TIME,...the notice's fields}`.

use std::net::{IpAddr, SocketAddr};

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Serialize, Serializer};

use super::{Delivery, MsgId, Record};

/// One peer as reported to the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerSummary {
    pub addr: SocketAddr,
    #[serde(serialize_with = "team_or_null")]
    pub team: String,
    pub status: &'static str,
    /// Found by an announcement (mDNS or beacon) rather than typed.
    pub discovered: bool,
    /// How it became known: `manual`, `mdns`, `beacon` or `invite`.
    pub via: &'static str,
    /// Its announcements stopped (only present when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub gone: bool,
    /// When a message from it last arrived, if ever.
    #[serde(
        serialize_with = "maybe_timestamp",
        skip_serializing_if = "Option::is_none"
    )]
    pub last_heard: Option<DateTime<Utc>>,
    /// `"plain"` (the classic protocol) or `"encrypted"`.
    pub transport: &'static str,
    /// The safety number of the pinned key; `null` for a classic peer.
    pub fingerprint: Option<String>,
    /// The peer presented another key (or stopped encrypting): messages are held.
    pub key_changed: bool,
    /// An announcement carried another key than the pinned one; the next handshake
    /// settles it (only present when true).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub announced_key_differs: bool,
    pub verified: bool,
}

/// Things worth telling the user, one per reportable change. Serialized without its
/// kind, which [`Notice::kind`] names; [`Notice::line`] writes both.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(untagged)]
pub enum Notice {
    Listening {
        addr: SocketAddr,
        team: String,
        /// The safety number of this brigade's key (twelve groups of five digits).
        fingerprint: String,
        /// The public key itself, 64 hex digits (for a peer's `trust` with `key`).
        key: String,
    },
    Message {
        from: SocketAddr,
        #[serde(serialize_with = "team_or_null")]
        team: String,
        text: String,
        /// The IP the sender advertised, when it differs from the socket's.
        #[serde(skip_serializing_if = "Option::is_none")]
        claimed_ip: Option<IpAddr>,
        /// It came in a Noise session (false: plaintext, as from a classic peer; from
        /// a peer whose key is pinned, nothing proves who wrote it).
        sealed: bool,
    },
    Delivery {
        to: SocketAddr,
        id: MsgId,
        #[serde(flatten)]
        status: Delivery,
    },
    #[serde(serialize_with = "peers")]
    Peers(Vec<PeerSummary>),
    PeerLeft {
        addr: SocketAddr,
        #[serde(serialize_with = "team_or_null")]
        team: String,
    },
    Reply {
        from: SocketAddr,
        text: String,
    },
    Rejected {
        from: SocketAddr,
        reason: String,
        preview: String,
    },
    Info {
        text: String,
    },
    /// A brigade announced itself (or an invite named one).
    Discovered {
        addr: SocketAddr,
        #[serde(serialize_with = "team_or_null")]
        team: String,
        via: &'static str,
        /// The announced public key, hex; `null` when none was announced.
        key: Option<String>,
    },
    /// A discovered brigade stopped announcing itself.
    Gone {
        addr: SocketAddr,
        #[serde(serialize_with = "team_or_null")]
        team: String,
        via: &'static str,
    },
    /// The answer to a `Query::Conversation`.
    History {
        peer: SocketAddr,
        #[serde(serialize_with = "records")]
        messages: Vec<Record>,
    },
    /// The answer to a `Query::Search`.
    Search {
        query: String,
        #[serde(serialize_with = "records")]
        hits: Vec<Record>,
    },
    Error {
        text: String,
    },
    /// Headless only: stdout was not read fast enough and this many events were left
    /// out (the history holds every message).
    Lagged {
        dropped: u64,
    },
}

impl Notice {
    /// The `event` field of its line.
    pub fn kind(&self) -> &'static str {
        match self {
            Notice::Listening { .. } => "listening",
            Notice::Message { .. } => "message",
            Notice::Delivery { .. } => "delivery",
            Notice::Peers(_) => "peers",
            Notice::PeerLeft { .. } => "peer_left",
            Notice::Reply { .. } => "reply",
            Notice::Rejected { .. } => "rejected",
            Notice::Info { .. } => "info",
            Notice::Discovered { .. } => "discovered",
            Notice::Gone { .. } => "gone",
            Notice::History { .. } => "history",
            Notice::Search { .. } => "search",
            Notice::Error { .. } => "error",
            Notice::Lagged { .. } => "lagged",
        }
    }

    /// The notice as one JSON line (without the newline), told at `at`.
    pub fn line(&self, at: DateTime<Utc>) -> String {
        let line = Line {
            event: self.kind(),
            at,
            notice: self,
        };
        // Plain data with string keys: serializing cannot fail.
        serde_json::to_string(&line).unwrap_or_default()
    }
}

#[derive(Serialize)]
struct Line<'a> {
    event: &'static str,
    #[serde(serialize_with = "timestamp")]
    at: DateTime<Utc>,
    #[serde(flatten)]
    notice: &'a Notice,
}

/// Times on the wire: RFC 3339 in UTC, to the millisecond.
fn timestamp<S: Serializer>(at: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(&at.to_rfc3339_opts(SecondsFormat::Millis, true))
}

fn maybe_timestamp<S: Serializer>(at: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => timestamp(at, s),
        None => s.serialize_none(),
    }
}

/// An unknown team (empty) is `null`.
fn team_or_null<S: Serializer>(team: &str, s: S) -> Result<S::Ok, S::Error> {
    match team {
        "" => s.serialize_none(),
        t => s.serialize_some(t),
    }
}

fn peers<S: Serializer>(peers: &[PeerSummary], s: S) -> Result<S::Ok, S::Error> {
    #[derive(Serialize)]
    struct Peers<'a> {
        peers: &'a [PeerSummary],
    }
    Peers { peers }.serialize(s)
}

/// One stored message in a `history` or `search` answer.
#[derive(Serialize)]
struct Stored<'a> {
    #[serde(serialize_with = "timestamp")]
    at: DateTime<Utc>,
    peer: SocketAddr,
    #[serde(serialize_with = "team_or_null")]
    team: &'a str,
    direction: &'static str,
    text: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<MsgId>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'a str>,
}

fn records<S: Serializer>(records: &[Record], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(records.iter().map(|r| Stored {
        at: r.at,
        peer: r.peer.addr(),
        team: &r.peer.team,
        direction: if r.outgoing { "out" } else { "in" },
        text: &r.text,
        id: r.msg_id,
        status: r.delivery.as_ref().map(Delivery::label),
        reason: r.delivery.as_ref().and_then(Delivery::reason),
    }))
}
