//! Every action and network event as a plain unit test: event in, state and effects out.

use std::net::SocketAddr;

use chrono::{DateTime, TimeZone, Utc};

use super::*;
use crate::event::*;
use crate::protocol::{Parsed, parse_message};

pub(super) struct Harness {
    pub(super) state: State,
    clock: i64,
}

pub(super) fn addr(s: &str) -> SocketAddr {
    s.parse().unwrap()
}

impl Harness {
    pub(super) fn new() -> Self {
        let mut h = Self {
            state: State::new("A", "10.0.0.9".parse().unwrap()),
            clock: 1_700_000_000,
        };
        h.net(NetEvent::Listening {
            addr: addr("0.0.0.0:9991"),
            key: crate::event::PublicKey([1; 32]),
        });
        h
    }

    pub(super) fn now(&mut self) -> DateTime<Utc> {
        self.clock += 1;
        Utc.timestamp_opt(self.clock, 0).unwrap()
    }

    pub(super) fn act(&mut self, action: Action) -> Vec<Effect> {
        let at = self.now();
        update(&mut self.state, Event::action(at, action))
    }

    /// Types `text` into the focused field, a key per character; all the effects.
    pub(super) fn type_text(&mut self, text: &str) -> Vec<Effect> {
        let mut fx = Vec::new();
        for c in text.chars() {
            let edit = ScreenAction::Edit(tui_input::InputRequest::InsertChar(c));
            fx.extend(self.act(Action::Screen(edit)));
        }
        fx
    }

    /// Types `line` into the compose box and presses Enter: the effects of the Enter.
    pub(super) fn submit(&mut self, line: &str) -> Vec<Effect> {
        self.type_text(line);
        self.act(Action::Screen(ScreenAction::Submit))
    }

    pub(super) fn net(&mut self, net: NetEvent) -> Vec<Effect> {
        let at = self.now();
        update(&mut self.state, Event::net(at, net))
    }

    /// A message as the listener would report it: raw wire text from a socket address.
    pub(super) fn recv(&mut self, from: &str, raw: &str) -> Vec<Effect> {
        let Parsed::Message(message) = parse_message(raw.as_bytes()) else {
            panic!("test input must parse: {raw:?}");
        };
        self.net(NetEvent::Received {
            from: addr(from),
            message,
            sealed: false,
        })
    }

    pub(super) fn send(&mut self, to: &str, team: Option<&str>, text: &str) -> Vec<Effect> {
        self.act(Action::Send {
            to: Target::Addr {
                addr: addr(to),
                team: team.map(str::to_string),
            },
            text: text.into(),
        })
    }

    pub(super) fn delivered(&mut self, id: MsgId, to: &str) -> Vec<Effect> {
        self.net(NetEvent::Delivery {
            id,
            to: addr(to),
            status: Delivery::Delivered,
        })
    }

    /// The listed peers as (addr, team, status).
    pub(super) fn listed(&self) -> Vec<(String, String, &'static str)> {
        self.state
            .listed()
            .map(|(_, p)| {
                (
                    p.key.addr().to_string(),
                    p.key.team.clone(),
                    p.status.label(),
                )
            })
            .collect()
    }

    pub(super) fn last_system(&self) -> &str {
        self.state
            .log
            .iter()
            .rev()
            .find_map(|e| match &e.body {
                Body::System { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .unwrap_or("")
    }
}

pub(super) fn sends(fx: &[Effect]) -> Vec<(MsgId, String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { id, to, text } => Some((*id, to.to_string(), text.clone())),
            _ => None,
        })
        .collect()
}

pub(super) fn notices(fx: &[Effect]) -> Vec<&Notice> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Notify(n) => Some(n),
            _ => None,
        })
        .collect()
}

pub(super) fn row(a: &str, t: &str, s: &'static str) -> (String, String, &'static str) {
    (a.into(), t.into(), s)
}

#[test]
fn listening_reports_the_advertised_address() {
    let mut s = State::new("A", "10.0.0.9".parse().unwrap());
    let at = Utc.timestamp_opt(0, 0).unwrap();
    let fx = update(
        &mut s,
        Event::net(
            at,
            NetEvent::Listening {
                addr: addr("0.0.0.0:9991"),
                key: crate::event::PublicKey([1; 32]),
            },
        ),
    );
    assert_eq!(s.me.listen, Some(addr("0.0.0.0:9991")));
    assert_eq!(
        notices(&fx),
        [&Notice::Listening {
            addr: addr("10.0.0.9:9991"),
            team: "A".into(),
            fingerprint: crate::event::PublicKey([1; 32]).safety_number().to_string(),
            key: crate::event::PublicKey([1; 32]).hex(),
        }]
    );
}

#[test]
fn a_message_makes_the_sender_active_keyed_by_socket_ip() {
    let mut h = Harness::new();
    // The sender believes it is 127.0.1.1; the socket says 10.0.0.2.
    let fx = h.recv("10.0.0.2:50123", "127.0.1.1:8080 B Hi from B");
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Active")]);
    assert_eq!(
        notices(&fx),
        [&Notice::Message {
            from: addr("10.0.0.2:8080"),
            team: "B".into(),
            text: "Hi from B".into(),
            claimed_ip: Some("127.0.1.1".parse().unwrap()),
            sealed: false,
        }]
    );
    assert_eq!(h.last_system(), "B is active (first message)");
    // "All peers" is on screen, so nothing is unread.
    assert_eq!(h.state.peers[0].unread, 0);
}

#[test]
fn same_address_different_team_is_another_peer() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B one");
    h.recv("10.0.0.2:2", "10.0.0.2:8080 C two");
    h.recv("10.0.0.2:3", "10.0.0.2:8080 B three");
    assert_eq!(
        h.listed(),
        [
            row("10.0.0.2:8080", "B", "Active"),
            row("10.0.0.2:8080", "C", "Active")
        ]
    );
}

#[test]
fn headerless_and_teamless_messages_are_attributed_to_the_known_peer() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
    h.recv("10.0.0.2:2", "no header at all");
    h.recv("10.0.0.2:3", "10.0.0.2:8080 CONNECT_REQUEST");
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Active")]);
    assert_eq!(
        h.state.peer_log[0].len(),
        4,
        "three messages and the arrival line"
    );
}

#[test]
fn headerless_message_from_a_stranger_gets_an_unreachable_peer() {
    let mut h = Harness::new();
    h.recv("10.0.0.3:5555", "just text");
    assert_eq!(h.listed(), [row("10.0.0.3:0", "", "Active")]);
    assert!(!h.state.peers[0].key.reachable());
    // A later message with a full header completes that peer instead of adding one.
    h.recv("10.0.0.3:5556", "10.0.0.3:7000 Q now with a header");
    assert_eq!(
        h.listed(),
        [
            row("10.0.0.3:0", "", "Active"),
            row("10.0.0.3:7000", "Q", "Active")
        ]
    );
}

#[test]
fn a_team_learned_later_completes_the_contact() {
    let mut h = Harness::new();
    let fx = h.send("10.0.0.4:6000", None, "hello?");
    assert_eq!(sends(&fx)[0].1, "10.0.0.4:6000");
    assert_eq!(h.listed(), [row("10.0.0.4:6000", "", "Contact")]);
    h.recv("10.0.0.4:4444", "10.0.0.4:6000 D hi back");
    assert_eq!(h.listed(), [row("10.0.0.4:6000", "D", "Active")]);
}

#[test]
fn send_queues_a_pending_message_and_delivery_connects() {
    let mut h = Harness::new();
    let fx = h.send("10.0.0.2:8080", Some("B"), "Hi from A");
    let s = sends(&fx);
    assert_eq!(s.len(), 1);
    let (id, to, text) = s[0].clone();
    assert_eq!((to.as_str(), text.as_str()), ("10.0.0.2:8080", "Hi from A"));
    assert_eq!(h.state.delivery(id), Some(&Delivery::Pending));
    assert_eq!(h.state.undelivered(), 1);
    // Contacts are not reported by "query peers" until reached.
    assert!(h.state.peer_summaries().is_empty());

    let fx = h.net(NetEvent::Delivery {
        id,
        to: addr(&to),
        status: Delivery::Retrying {
            attempt: 1,
            reason: "refused".into(),
        },
    });
    assert_eq!(notices(&fx).len(), 1);
    assert_eq!(h.state.delivery(id).unwrap().label(), "retrying");

    h.delivered(id, &to);
    assert_eq!(h.state.delivery(id), Some(&Delivery::Delivered));
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Connected")]);
    assert_eq!(h.state.undelivered(), 0);
}

#[test]
fn a_final_delivery_state_is_never_revised() {
    let mut h = Harness::new();
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", Some("B"), "x"))[0].clone();
    h.net(NetEvent::Delivery {
        id,
        to: addr(&to),
        status: Delivery::Failed {
            reason: "timeout".into(),
        },
    });
    let fx = h.delivered(id, &to);
    assert!(fx.is_empty());
    assert_eq!(h.state.delivery(id).unwrap().label(), "failed");
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Contact")]);
}

#[test]
fn unknown_delivery_ids_are_ignored() {
    let mut h = Harness::new();
    assert!(h.delivered(MsgId(999), "10.0.0.2:1").is_empty());
}

#[test]
fn connected_peer_stays_connected_when_it_writes() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", None, "hi B"))[0].clone();
    h.delivered(id, &to);
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B again");
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Connected")]);
}

#[test]
fn connect_all_writes_to_active_peers_only() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C hi");
    h.recv("10.0.0.5:1", "headerless, so unreachable");
    let (id, to, _) = sends(&h.send("10.0.0.3:8080", None, "hi C"))[0].clone();
    h.delivered(id, &to);
    let fx = h.act(Action::ConnectAll);
    let s = sends(&fx);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].1.as_str(), s[0].2.as_str()),
        ("10.0.0.2:8080", "connection message")
    );
    h.delivered(s[0].0, "10.0.0.2:8080");
    assert_eq!(h.listed()[0], row("10.0.0.2:8080", "B", "Connected"));
}

#[test]
fn connect_all_with_nobody_active_says_so() {
    let mut h = Harness::new();
    let fx = h.act(Action::ConnectAll);
    assert!(sends(&fx).is_empty());
    assert!(matches!(notices(&fx)[..], [Notice::Info { .. }]));
}

#[test]
fn received_exit_reports_the_message_then_removes_the_peer() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = h.recv("10.0.0.2:1", "10.0.0.2:8080 B  EXIT \n");
    let n = notices(&fx);
    assert!(matches!(n[0], Notice::Message { text, .. } if text.trim() == "EXIT"));
    assert_eq!(
        n[1],
        &Notice::PeerLeft {
            addr: addr("10.0.0.2:8080"),
            team: "B".into()
        }
    );
    assert!(h.listed().is_empty());
    assert_eq!(h.last_system(), "B left");
    // It comes back as Active when it writes again, in the same conversation.
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B back");
    assert_eq!(h.listed(), [row("10.0.0.2:8080", "B", "Active")]);
    assert_eq!(h.state.peers.len(), 1);
}

#[test]
fn disconnect_sends_exit_and_removes_the_peer() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = h.act(Action::Disconnect {
        addr: addr("10.0.0.2:8080"),
        team: None,
    });
    assert_eq!(sends(&fx)[0].2, "exit");
    assert!(notices(&fx).contains(&&Notice::PeerLeft {
        addr: addr("10.0.0.2:8080"),
        team: "B".into()
    }));
    assert!(h.listed().is_empty());
    // The exit's own delivery does not bring the peer back.
    h.delivered(sends(&fx)[0].0, "10.0.0.2:8080");
    assert!(h.listed().is_empty());
}

#[test]
fn typing_exit_is_a_disconnect() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = h.send("10.0.0.2:8080", None, "Exit");
    assert_eq!(sends(&fx)[0].2, "exit");
    assert!(h.listed().is_empty());
}

#[test]
fn disconnect_of_an_unknown_peer_is_an_error_not_a_send() {
    let mut h = Harness::new();
    let fx = h.act(Action::Disconnect {
        addr: addr("10.0.0.2:8080"),
        team: None,
    });
    assert!(sends(&fx).is_empty());
    assert!(matches!(notices(&fx)[..], [Notice::Error { .. }]));
}

#[test]
fn ambiguous_address_needs_a_team() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B one");
    h.recv("10.0.0.2:2", "10.0.0.2:8080 C two");
    let fx = h.send("10.0.0.2:8080", None, "who?");
    assert!(sends(&fx).is_empty());
    let Notice::Error { text } = notices(&fx)[0] else {
        panic!()
    };
    assert!(text.contains("say which team"), "{text}");
    let fx = h.send("10.0.0.2:8080", Some("C"), "you");
    assert_eq!(sends(&fx).len(), 1);
}

#[test]
fn bad_sends_are_errors() {
    let mut h = Harness::new();
    for (to, team, text) in [
        ("10.0.0.2:8080", Some("B"), "   "),
        ("10.0.0.2:0", Some("B"), "x"),
        ("10.0.0.2:8080", Some("two words"), "x"),
    ] {
        let fx = h.send(to, team, text);
        assert!(sends(&fx).is_empty(), "{to} {team:?} {text:?}");
        assert!(matches!(notices(&fx)[..], [Notice::Error { .. }]));
    }
    assert!(h.listed().is_empty());
}

#[test]
fn broadcast_goes_to_every_reachable_listed_peer() {
    let mut h = Harness::new();
    let fx = h.act(Action::Send {
        to: Target::All,
        text: "anyone?".into(),
    });
    assert!(sends(&fx).is_empty());
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    h.recv("10.0.0.3:1", "10.0.0.3:8080 C hi");
    h.recv("10.0.0.5:1", "headerless");
    let fx = h.act(Action::Send {
        to: Target::All,
        text: "hi all".into(),
    });
    let to: Vec<String> = sends(&fx).into_iter().map(|s| s.1).collect();
    assert_eq!(to, ["10.0.0.2:8080", "10.0.0.3:8080"]);
}

#[test]
fn query_peers_lists_active_and_connected() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    h.send("10.0.0.7:1000", Some("Z"), "hello");
    let fx = h.act(Action::QueryPeers);
    assert_eq!(
        notices(&fx),
        [&Notice::Peers(vec![PeerSummary {
            addr: addr("10.0.0.2:8080"),
            team: "B".into(),
            status: "Active",
            discovered: false,
            via: "manual",
            gone: false,
            last_heard: Some(Utc.timestamp_opt(1_700_000_002, 0).unwrap()),
            transport: "plain",
            fingerprint: None,
            key_changed: false,
            announced_key_differs: false,
            verified: false,
        }])]
    );
}

#[test]
fn replies_rejections_and_errors_are_logged_and_reported() {
    let mut h = Harness::new();
    h.send("10.0.0.2:9000", Some("B"), "hi");
    let fx = h.net(NetEvent::Reply {
        from: addr("10.0.0.2:9000"),
        text: "[ACK] Message received from 9000".into(),
    });
    assert_eq!(notices(&fx).len(), 1);
    assert_eq!(
        h.last_system(),
        "B replied: [ACK] Message received from 9000"
    );
    let fx = h.net(NetEvent::Rejected {
        from: addr("10.0.0.8:1"),
        reason: "binary data".into(),
        preview: "xx".into(),
    });
    assert!(matches!(notices(&fx)[..], [Notice::Rejected { .. }]));
    assert!(h.last_system().starts_with("rejected input from 10.0.0.8"));
    let fx = h.net(NetEvent::Error {
        text: "accept failed".into(),
    });
    assert!(matches!(notices(&fx)[..], [Notice::Error { .. }]));
}

#[test]
fn quit_sets_the_flag_and_asks_to_quit() {
    let mut h = Harness::new();
    assert_eq!(h.act(Action::Quit), [Effect::Quit]);
    assert!(h.state.quitting);
}

#[test]
fn quit_waits_for_undelivered_messages() {
    let mut h = Harness::new();
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", Some("B"), "last words"))[0].clone();
    assert!(h.act(Action::Quit).is_empty());
    assert!(h.state.quitting);
    assert!(
        h.state
            .view
            .flash
            .as_ref()
            .unwrap()
            .text
            .contains("Ctrl+C again")
    );
    assert!(h.delivered(id, &to).contains(&Effect::Quit));
}

#[test]
fn a_second_quit_does_not_wait() {
    let mut h = Harness::new();
    h.send("10.0.0.2:8080", Some("B"), "x");
    assert!(h.act(Action::Quit).is_empty());
    assert_eq!(h.act(Action::Quit), [Effect::Quit]);
}

#[test]
fn the_peer_table_is_bounded() {
    let mut h = Harness::new();
    for i in 0..MAX_PEERS {
        h.recv("10.0.0.2:1", &format!("10.0.0.2:8080 T{i} x"));
    }
    // One address holds at most its share; the least recently heard made room.
    assert_eq!(h.state.peers.len(), MAX_PEERS_PER_IP);
    let fx = h.recv("10.0.0.2:1", "10.0.0.2:8080 one_more x");
    assert!(matches!(notices(&fx)[..], [Notice::Message { .. }]));
    assert_eq!(h.state.peers.len(), MAX_PEERS_PER_IP);
    // Recent peers still get through.
    let last = format!("10.0.0.2:8080 T{} still here", MAX_PEERS - 1);
    let fx = h.recv("10.0.0.2:1", &last);
    assert!(matches!(notices(&fx)[..], [Notice::Message { .. }]));
}

#[test]
fn a_discovered_brigade_is_listed_with_how_it_was_found_and_shows_gone() {
    use crate::event::{Hint, Via};
    let mut h = Harness::new();
    let hint = Hint {
        addr: addr("10.77.0.2:9000"),
        team: "B".into(),
        key: None,
        via: Via::Beacon,
    };
    let fx = h.net(NetEvent::Discovered(hint.clone()));
    assert!(
        matches!(notices(&fx)[..], [Notice::Discovered { via: "beacon", .. }]),
        "{fx:?}"
    );
    let peers = h.state.peer_summaries();
    assert_eq!(peers.len(), 1);
    assert!(peers[0].discovered && peers[0].via == "beacon" && !peers[0].gone);
    // Heard again by the other means: no second notice, still "beacon".
    let fx = h.net(NetEvent::Discovered(Hint {
        via: Via::Mdns,
        ..hint.clone()
    }));
    assert!(notices(&fx).is_empty(), "{fx:?}");
    // A loss by the other means does not count; by its own means it does.
    let lost = |via| NetEvent::Lost {
        addr: hint.addr,
        team: "B".into(),
        via,
    };
    assert!(notices(&h.net(lost(Via::Mdns))).is_empty());
    assert!(matches!(
        notices(&h.net(lost(Via::Beacon)))[..],
        [Notice::Gone { .. }]
    ));
    assert!(h.state.peer_summaries()[0].gone);
    // Back again: told again, no longer gone.
    let fx = h.net(NetEvent::Discovered(hint));
    assert!(matches!(notices(&fx)[..], [Notice::Discovered { .. }]));
    assert!(!h.state.peer_summaries()[0].gone);
}

#[test]
fn an_invite_marks_a_known_peer_as_invited() {
    use crate::event::{Hint, PublicKey, Via};
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = h.net(NetEvent::Discovered(Hint {
        addr: addr("10.0.0.2:8080"),
        team: "B".into(),
        key: Some(PublicKey([1; 32])),
        via: Via::Invite,
    }));
    let found = notices(&fx)
        .into_iter()
        .filter(|n| matches!(n, Notice::Discovered { .. }))
        .count();
    assert_eq!(found, 0, "already listed: {fx:?}");
    let peers = h.state.peer_summaries();
    assert_eq!(
        (peers.len(), peers[0].via, peers[0].discovered),
        (1, "invite", false)
    );
    // The invite's key is pinned at once.
    assert_eq!(peers[0].transport, "encrypted");
}
