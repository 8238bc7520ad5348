//! The headless JSON-lines schema: commands in, events out (documented in the README).

use std::net::SocketAddr;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};

use crate::event::{Action, Delivery, MsgId, Notice, Record, Target};

/// One command line on stdin.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
/// Unit-like commands are empty struct variants so that unknown fields are refused.
#[serde(tag = "cmd", rename_all = "snake_case", deny_unknown_fields)]
pub enum Command {
    /// `to` is `IP:PORT`, or `all` for every listed peer.
    Send {
        to: String,
        team: Option<String>,
        text: String,
    },
    ConnectAll {},
    Disconnect {
        to: String,
        team: Option<String>,
    },
    Peers {},
    /// Send a failed message again; without `id`, every failed message.
    Retry {
        id: Option<u64>,
    },
    /// Give up on a failed message.
    Drop {
        id: u64,
    },
    /// The stored conversation with `peer` (IP:PORT), oldest first.
    History {
        peer: String,
        limit: Option<usize>,
    },
    /// Full-text search over the whole history, newest first.
    Search {
        query: String,
        limit: Option<usize>,
    },
    Quit {},
}

/// What a command line asks for: a store action, or a history query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    Act(Action),
    History { peer: SocketAddr, limit: usize },
    Search { query: String, limit: usize },
}

/// Default and largest number of messages a history or search answer holds.
pub const QUERY_LIMIT: usize = 100;
pub const QUERY_MAX: usize = 10_000;

impl Command {
    /// Parses one input line; the error says what was wrong.
    pub fn parse_line(line: &str) -> Result<Request, String> {
        let cmd: Command =
            serde_json::from_str(line).map_err(|e| format!("bad command {line:?}: {e}"))?;
        cmd.into_request()
    }

    fn into_request(self) -> Result<Request, String> {
        let limit = |l: Option<usize>| l.unwrap_or(QUERY_LIMIT).min(QUERY_MAX);
        Ok(match self {
            Command::History { peer, limit: l } => Request::History {
                peer: peer.parse().map_err(|_| {
                    format!("{peer:?} is not an address: write IP:PORT, e.g. 10.0.0.5:8080")
                })?,
                limit: limit(l),
            },
            Command::Search { query, limit: l } => Request::Search {
                query,
                limit: limit(l),
            },
            other => Request::Act(other.into_action()?),
        })
    }

    fn into_action(self) -> Result<Action, String> {
        let addr = |s: &str| {
            s.parse::<SocketAddr>()
                .map_err(|_| format!("{s:?} is not an address: write IP:PORT, e.g. 10.0.0.5:8080"))
        };
        Ok(match self {
            Command::Send { to, team, text } if to == "all" => {
                if team.is_some() {
                    return Err("\"team\" goes with one peer, not with \"to\":\"all\"".into());
                }
                Action::Send {
                    to: Target::All,
                    text,
                }
            }
            Command::Send { to, team, text } => Action::Send {
                to: Target::Addr {
                    addr: addr(&to)?,
                    team,
                },
                text,
            },
            Command::ConnectAll {} => Action::ConnectAll,
            Command::Disconnect { to, team } => Action::Disconnect {
                addr: addr(&to)?,
                team,
            },
            Command::Peers {} => Action::QueryPeers,
            Command::Retry { id } => Action::Retry { id: id.map(MsgId) },
            Command::Drop { id } => Action::Drop {
                id: Some(MsgId(id)),
            },
            Command::Quit {} => Action::Quit,
            Command::History { .. } | Command::Search { .. } => {
                return Err("a history query is not an action".into());
            }
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PeerOut {
    pub addr: String,
    pub team: Option<String>,
    pub status: &'static str,
}

/// One stored message in a `history` or `search` answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MessageOut {
    pub at: String,
    pub peer: String,
    pub team: Option<String>,
    pub direction: &'static str,
    pub text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

impl MessageOut {
    pub fn from_record(r: Record) -> MessageOut {
        MessageOut {
            at: timestamp(r.at),
            peer: r.peer.addr().to_string(),
            team: team(r.peer.team),
            direction: if r.outgoing { "out" } else { "in" },
            text: r.text,
            id: r.msg_id.map(|m| m.0),
            status: r.delivery.as_ref().map(Delivery::label),
            reason: r
                .delivery
                .as_ref()
                .and_then(|d| d.reason().map(str::to_string)),
        }
    }
}

/// One event line on stdout.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Output {
    Listening {
        at: String,
        addr: String,
        team: String,
    },
    Message {
        at: String,
        from: String,
        team: Option<String>,
        text: String,
        #[serde(skip_serializing_if = "Option::is_none")]
        claimed_ip: Option<String>,
    },
    Delivery {
        at: String,
        to: String,
        id: u64,
        status: &'static str,
        #[serde(skip_serializing_if = "Option::is_none")]
        attempt: Option<u32>,
        #[serde(skip_serializing_if = "Option::is_none")]
        reason: Option<String>,
    },
    Peers {
        at: String,
        peers: Vec<PeerOut>,
    },
    PeerLeft {
        at: String,
        addr: String,
        team: Option<String>,
    },
    Reply {
        at: String,
        from: String,
        text: String,
    },
    Rejected {
        at: String,
        from: String,
        reason: String,
        preview: String,
    },
    Info {
        at: String,
        text: String,
    },
    History {
        at: String,
        peer: String,
        messages: Vec<MessageOut>,
    },
    Search {
        at: String,
        query: String,
        hits: Vec<MessageOut>,
    },
    Error {
        at: String,
        text: String,
    },
}

fn team(t: String) -> Option<String> {
    (!t.is_empty()).then_some(t)
}

pub fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

impl Output {
    pub fn from_notice(at: DateTime<Utc>, notice: Notice) -> Output {
        let at = timestamp(at);
        match notice {
            Notice::Listening { addr, team } => Output::Listening {
                at,
                addr: addr.to_string(),
                team,
            },
            Notice::Message {
                from,
                team: t,
                text,
                claimed_ip,
            } => Output::Message {
                at,
                from: from.to_string(),
                team: team(t),
                text,
                claimed_ip: claimed_ip.map(|ip| ip.to_string()),
            },
            Notice::Delivery { to, id, status } => Output::Delivery {
                at,
                to: to.to_string(),
                id: id.0,
                status: status.label(),
                attempt: match &status {
                    Delivery::Retrying { attempt, .. } => Some(*attempt),
                    _ => None,
                },
                reason: status.reason().map(str::to_string),
            },
            Notice::Peers(peers) => Output::Peers {
                at,
                peers: peers
                    .into_iter()
                    .map(|p| PeerOut {
                        addr: p.addr.to_string(),
                        team: team(p.team),
                        status: p.status,
                    })
                    .collect(),
            },
            Notice::PeerLeft { addr, team: t } => Output::PeerLeft {
                at,
                addr: addr.to_string(),
                team: team(t),
            },
            Notice::Reply { from, text } => Output::Reply {
                at,
                from: from.to_string(),
                text,
            },
            Notice::Rejected {
                from,
                reason,
                preview,
            } => Output::Rejected {
                at,
                from: from.to_string(),
                reason,
                preview,
            },
            Notice::Info { text } => Output::Info { at, text },
            Notice::Error { text } => Output::Error { at, text },
        }
    }

    pub fn to_line(&self) -> String {
        // Serializing these plain structs cannot fail.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// The line printed for a notice at `at` (without the newline).
pub fn line(at: DateTime<Utc>, notice: &Notice) -> String {
    Output::from_notice(at, notice.clone()).to_line()
}

/// The line printed for the answer to a `history` command.
pub fn history_line(at: DateTime<Utc>, peer: SocketAddr, records: Vec<Record>) -> String {
    Output::History {
        at: timestamp(at),
        peer: peer.to_string(),
        messages: records.into_iter().map(MessageOut::from_record).collect(),
    }
    .to_line()
}

/// The line printed for the answer to a `search` command.
pub fn search_line(at: DateTime<Utc>, query: String, hits: Vec<Record>) -> String {
    Output::Search {
        at: timestamp(at),
        query,
        hits: hits.into_iter().map(MessageOut::from_record).collect(),
    }
    .to_line()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn commands_parse() {
        let rows = [
            (
                r#"{"cmd":"send","to":"10.0.0.1:80","team":"B","text":"hi"}"#,
                Action::Send {
                    to: Target::Addr {
                        addr: "10.0.0.1:80".parse().unwrap(),
                        team: Some("B".into()),
                    },
                    text: "hi".into(),
                },
            ),
            (
                r#"{"cmd":"send","to":"all","text":"hi all"}"#,
                Action::Send {
                    to: Target::All,
                    text: "hi all".into(),
                },
            ),
            (r#"{"cmd":"connect_all"}"#, Action::ConnectAll),
            (
                r#"{"cmd":"disconnect","to":"10.0.0.1:80"}"#,
                Action::Disconnect {
                    addr: "10.0.0.1:80".parse().unwrap(),
                    team: None,
                },
            ),
            (r#"{"cmd":"peers"}"#, Action::QueryPeers),
            (r#"{"cmd":"quit"}"#, Action::Quit),
        ];
        for (line, action) in rows {
            assert_eq!(
                Command::parse_line(line),
                Ok(Request::Act(action)),
                "{line}"
            );
        }
        assert_eq!(
            Command::parse_line(r#"{"cmd":"history","peer":"10.0.0.1:80","limit":5}"#),
            Ok(Request::History {
                peer: "10.0.0.1:80".parse().unwrap(),
                limit: 5
            })
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"search","query":"lab","limit":999999}"#),
            Ok(Request::Search {
                query: "lab".into(),
                limit: QUERY_MAX
            })
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"retry"}"#),
            Ok(Request::Act(Action::Retry { id: None }))
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"drop","id":3}"#),
            Ok(Request::Act(Action::Drop { id: Some(MsgId(3)) }))
        );
    }

    #[test]
    fn bad_commands_say_what_is_wrong() {
        for (line, needle) in [
            ("not json", "bad command"),
            (r#"{"cmd":"dance"}"#, "unknown variant"),
            (r#"{"cmd":"send","to":"10.0.0.1","text":"x"}"#, "IP:PORT"),
            (
                r#"{"cmd":"send","to":"10.0.0.1:1"}"#,
                "missing field `text`",
            ),
            (r#"{"cmd":"peers","extra":1}"#, "unknown field"),
        ] {
            let err = Command::parse_line(line).unwrap_err();
            assert!(err.contains(needle), "{line}: {err}");
        }
    }

    #[test]
    fn events_serialize_with_event_and_at_first() {
        let at = Utc.timestamp_opt(1_700_000_000, 0).unwrap();
        let line = Output::from_notice(
            at,
            Notice::Delivery {
                to: "10.0.0.1:80".parse().unwrap(),
                id: crate::event::MsgId(4),
                status: Delivery::Retrying {
                    attempt: 2,
                    reason: "refused".into(),
                },
            },
        )
        .to_line();
        assert_eq!(
            line,
            r#"{"event":"delivery","at":"2023-11-14T22:13:20.000Z","to":"10.0.0.1:80","id":4,"status":"retrying","attempt":2,"reason":"refused"}"#
        );
    }
}
