//! The headless commands: one JSON object a line on stdin (documented in the README).
//! What comes out is a [`Notice`](crate::event::Notice) line.

use std::net::SocketAddr;

use serde::Deserialize;

use crate::event::{Action, MsgId, PublicKey, Query, Target};

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
    /// Accept the new key of the peer at `peer` (IP:PORT) after a key change.
    Trust {
        peer: String,
        /// 64 hex digits: pin this key for the peer now (first contact, encrypted).
        key: Option<String>,
    },
    /// Mark the key of the peer at `peer` verified.
    Verify {
        peer: String,
    },
}

/// Default and largest number of messages a history or search answer holds.
pub const QUERY_LIMIT: usize = 100;
pub const QUERY_MAX: usize = 10_000;

impl Command {
    /// Parses one input line; the error says what was wrong.
    pub fn parse_line(line: &str) -> Result<Action, String> {
        let cmd: Command =
            serde_json::from_str(line).map_err(|e| format!("bad command {line:?}: {e}"))?;
        cmd.into_action()
    }

    fn into_action(self) -> Result<Action, String> {
        let limit = |l: Option<usize>| l.unwrap_or(QUERY_LIMIT).min(QUERY_MAX);
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
            Command::Trust { peer, key } => Action::Trust {
                peer: addr(&peer)?,
                key: match key {
                    None => None,
                    Some(k) => Some(
                        PublicKey::parse_hex(&k)
                            .ok_or_else(|| format!("{k:?} is not a key: 64 hex digits"))?,
                    ),
                },
            },
            Command::Verify { peer } => Action::Verify { peer: addr(&peer)? },
            Command::History { peer, limit: l } => Action::Ask(Query::Conversation {
                peer: addr(&peer)?,
                limit: limit(l),
            }),
            Command::Search { query, limit: l } => Action::Ask(Query::Search {
                query,
                limit: limit(l),
            }),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
            assert_eq!(Command::parse_line(line), Ok(action), "{line}");
        }
        assert_eq!(
            Command::parse_line(r#"{"cmd":"history","peer":"10.0.0.1:80","limit":5}"#),
            Ok(Action::Ask(Query::Conversation {
                peer: "10.0.0.1:80".parse().unwrap(),
                limit: 5
            }))
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"search","query":"lab","limit":999999}"#),
            Ok(Action::Ask(Query::Search {
                query: "lab".into(),
                limit: QUERY_MAX
            }))
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"retry"}"#),
            Ok(Action::Retry { id: None })
        );
        assert_eq!(
            Command::parse_line(r#"{"cmd":"drop","id":3}"#),
            Ok(Action::Drop { id: Some(MsgId(3)) })
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
}
