//! The store's side of the history: what it asks to persist and in which order,
//! retrying and dropping failed messages, and restoring at start-up.

use chrono::{TimeZone, Utc};

use super::tests::{Harness, addr, sends};
use super::*;
use crate::event::*;

fn persists(fx: &[Effect]) -> Vec<&Persist> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Persist(p) => Some(p),
            _ => None,
        })
        .collect()
}

fn fail(h: &mut Harness, id: MsgId, to: &str) -> Vec<Effect> {
    h.net(NetEvent::Delivery {
        id,
        to: addr(to),
        status: Delivery::Failed {
            reason: "refused".into(),
        },
    })
}

#[test]
fn an_outgoing_message_is_persisted_before_it_is_sent() {
    let mut h = Harness::new();
    let fx = h.send("10.0.0.2:8080", Some("B"), "stored first");
    let persist = fx
        .iter()
        .position(|e| matches!(e, Effect::Persist(Persist::Message(_))));
    let send = fx.iter().position(|e| matches!(e, Effect::Send { .. }));
    assert!(persist.unwrap() < send.unwrap(), "{fx:?}");
    let Persist::Message(r) = persists(&fx)[0] else {
        panic!()
    };
    assert!(r.outgoing && r.msg_id == Some(MsgId(1)) && r.delivery == Some(Delivery::Pending));
}

#[test]
fn received_messages_and_status_changes_are_persisted() {
    let mut h = Harness::new();
    let fx = h.recv("10.0.0.2:1", "127.0.1.1:8080 B hello");
    let Persist::Message(r) = persists(&fx)[0] else {
        panic!()
    };
    assert_eq!(
        (r.outgoing, r.text.as_str(), r.peer.addr()),
        (false, "hello", addr("10.0.0.2:8080"))
    );
    assert_eq!(r.claimed_ip, Some("127.0.1.1".parse().unwrap()));
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", None, "x"))[0].clone();
    let fx = h.delivered(id, &to);
    assert_eq!(
        persists(&fx),
        [&Persist::Status {
            id,
            status: Delivery::Delivered
        }]
    );
}

#[test]
fn a_failed_message_can_be_retried_or_dropped() {
    let mut h = Harness::new();
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", Some("B"), "again"))[0].clone();
    fail(&mut h, id, &to);
    let fx = h.act(Action::Retry { id: Some(id) });
    assert_eq!(sends(&fx), [(id, to.clone(), "again".to_string())]);
    assert_eq!(h.state.delivery(id), Some(&Delivery::Pending));
    assert!(persists(&fx).contains(&&Persist::Status {
        id,
        status: Delivery::Pending
    }));
    // Retrying what has not failed is an error, not a duplicate send.
    let fx = h.act(Action::Retry { id: Some(id) });
    assert!(sends(&fx).is_empty());
    fail(&mut h, id, &to);
    let fx = h.act(Action::Drop { id: Some(id) });
    assert_eq!(h.state.delivery(id), Some(&Delivery::Dropped));
    assert!(persists(&fx).contains(&&Persist::Status {
        id,
        status: Delivery::Dropped
    }));
    // A dropped message is not retried, not even when the peer writes.
    let fx = h.recv("10.0.0.2:1", "10.0.0.2:8080 B back");
    assert!(sends(&fx).is_empty());
}

#[test]
fn failed_messages_go_again_in_order_when_the_peer_is_heard_from() {
    let mut h = Harness::new();
    let mut ids = Vec::new();
    for text in ["one", "two", "three"] {
        let (id, to, _) = sends(&h.send("10.0.0.2:8080", Some("B"), text))[0].clone();
        fail(&mut h, id, &to);
        ids.push(id);
    }
    let fx = h.recv("10.0.0.2:1", "10.0.0.2:8080 B I am back");
    let again: Vec<String> = sends(&fx).into_iter().map(|s| s.2).collect();
    assert_eq!(again, ["one", "two", "three"]);
    assert!(
        ids.iter()
            .all(|id| h.state.delivery(*id) == Some(&Delivery::Pending))
    );
}

#[test]
fn retry_without_an_id_takes_the_failed_messages_on_screen() {
    let mut h = Harness::new();
    let (b, to_b, _) = sends(&h.send("10.0.0.2:8080", Some("B"), "to B"))[0].clone();
    let (c, to_c, _) = sends(&h.send("10.0.0.3:8080", Some("C"), "to C"))[0].clone();
    fail(&mut h, b, &to_b);
    fail(&mut h, c, &to_c);
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(1),
    ))));
    let fx = h.act(Action::Retry { id: None });
    assert_eq!(sends(&fx).len(), 1);
    assert_eq!(sends(&fx)[0].2, "to C");
    h.act(Action::Screen(ScreenAction::Select(Selection::All)));
    let fx = h.act(Action::Retry { id: None });
    assert_eq!(sends(&fx)[0].2, "to B");
    let fx = h.act(Action::Retry { id: None });
    assert!(sends(&fx).is_empty());
    assert!(h.state.view.flash.is_some());
}

#[test]
fn restore_rebuilds_the_log_and_resends_what_was_undelivered() {
    let mut s = State::new("A", "10.0.0.9".parse().unwrap());
    let at = |n: i64| Utc.timestamp_opt(1_780_000_000 + n, 0).unwrap();
    let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
    let rec = |n, outgoing, text: &str, id: Option<u64>, d: Option<Delivery>| Record {
        at: at(n),
        peer: b.clone(),
        outgoing,
        text: text.into(),
        msg_id: id.map(MsgId),
        delivery: d,
        claimed_ip: None,
    };
    let fx = restore(
        &mut s,
        vec![
            rec(1, false, "hi", None, None),
            rec(2, true, "delivered", Some(4), Some(Delivery::Delivered)),
            rec(
                3,
                true,
                "was retrying",
                Some(5),
                Some(Delivery::Retrying {
                    attempt: 0,
                    reason: String::new(),
                }),
            ),
            rec(
                4,
                true,
                "gave up",
                Some(6),
                Some(Delivery::Failed {
                    reason: "refused".into(),
                }),
            ),
            rec(5, true, "was pending", Some(7), Some(Delivery::Pending)),
        ],
    );
    let resent: Vec<(u64, String)> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send { id, text, .. } => Some((id.0, text.clone())),
            _ => None,
        })
        .collect();
    assert_eq!(
        resent,
        [
            (5, "was retrying".to_string()),
            (7, "was pending".to_string())
        ]
    );
    assert_eq!(s.log.len(), 5);
    assert_eq!(s.undelivered(), 2);
    assert_eq!(next_id(&s), MsgId(8), "ids continue after the stored ones");
    // Last session's peer is listed again, Active (it wrote to us); the failed
    // message waits.
    assert!(s.peers[0].listed);
    assert_eq!(s.peers[0].status, PeerStatus::Active);
    assert_eq!(s.delivery(MsgId(6)).unwrap().label(), "failed");
}

/// A fault is told (a log line marked as an error, an error notice) and stays in the
/// state until the writer recovers; recovery is told once, and only after a fault.
#[test]
fn a_storage_fault_shows_until_recovered() {
    let mut h = Harness::new();
    let at = Utc.timestamp_opt(0, 0).unwrap();
    let storage = |h: &mut Harness, fault: Option<&str>| {
        let before = h.state.log.len();
        let fx = update(
            &mut h.state,
            Event {
                at,
                kind: EventKind::Storage(fault.map(str::to_string)),
            },
        );
        let lines: Vec<(String, bool)> = h.state.log[before..]
            .iter()
            .map(|e| match &e.body {
                Body::System { text, error, .. } => (text.clone(), *error),
                other => panic!("not a system line: {other:?}"),
            })
            .collect();
        (fx, lines)
    };

    // Nothing to recover from: nothing said.
    let (fx, lines) = storage(&mut h, None);
    assert!(fx.is_empty() && lines.is_empty(), "{fx:?} {lines:?}");

    let (fx, lines) = storage(&mut h, Some("cannot write the history (disk full)"));
    assert_eq!(
        lines,
        [("cannot write the history (disk full)".to_string(), true)]
    );
    assert!(matches!(
        fx.as_slice(),
        [Effect::Notify(Notice::Error { text })] if text.contains("disk full")
    ));
    assert!(h.state.storage_fault.is_some());

    let (fx, lines) = storage(&mut h, None);
    assert_eq!(h.state.storage_fault, None);
    assert_eq!(lines, [("the history is written again".to_string(), false)]);
    assert!(matches!(
        fx.as_slice(),
        [Effect::Notify(Notice::Info { text })] if text == "the history is written again"
    ));
    // Told once.
    let (fx, lines) = storage(&mut h, None);
    assert!(fx.is_empty() && lines.is_empty());
}

fn search_hits(h: &Harness) -> usize {
    match &h.state.view.overlay {
        Overlay::Search(s) => s.hits.len(),
        _ => panic!("the search overlay is closed"),
    }
}

#[test]
fn ctrl_f_searches_as_you_type_and_enter_jumps_to_the_hit() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B are you coming to the lab?");
    for n in 0..5 {
        h.recv("10.0.0.3:1", &format!("10.0.0.3:8080 C filler {n}"));
    }
    h.act(Action::Screen(ScreenAction::OpenSearch));
    let fx = h.act(Action::Screen(ScreenAction::Edit(
        tui_input::InputRequest::InsertChar('l'),
    )));
    assert_eq!(fx, [Effect::Search { query: "l".into() }]);
    let fx = h.act(Action::Screen(ScreenAction::Edit(
        tui_input::InputRequest::InsertChar('a'),
    )));
    assert_eq!(fx, [Effect::Search { query: "la".into() }]);
    // The hit is the stored form of the message B sent.
    let hit = match &h.state.log[1].body {
        Body::Message { text, .. } => Record::received(
            h.state.log[1].at,
            h.state.peers[0].key.clone(),
            text.clone(),
        ),
        _ => panic!(),
    };
    let at = Utc.timestamp_opt(0, 0).unwrap();
    // An answer to an older query is ignored; the current one fills the list.
    update(
        &mut h.state,
        Event {
            at,
            kind: EventKind::SearchResults {
                query: "l".into(),
                hits: vec![hit.clone()],
            },
        },
    );
    assert_eq!(search_hits(&h), 0);
    update(
        &mut h.state,
        Event {
            at,
            kind: EventKind::SearchResults {
                query: "la".into(),
                hits: vec![hit],
            },
        },
    );
    assert_eq!(search_hits(&h), 1);
    h.act(Action::Screen(ScreenAction::Submit));
    assert!(matches!(&h.state.view.overlay, Overlay::Search(s) if s.browsing));
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    // B's view: the arrival line, then the message, which is at the bottom.
    assert_eq!(h.state.view.scroll, 0);
    assert_eq!(h.state.view.focus, Focus::Log);
    // The front end is asked to bring the matched line into view (the message may be
    // taller than the pane), once: the settle that stores where it put it ends that.
    assert!(h.state.view.reveal);
    let settled = Settled {
        scroll: 0,
        scroll_lines: 12,
        at_top: false,
        page: 10,
    };
    settle_scroll(&mut h.state, settled);
    assert!(!h.state.view.reveal);
    assert_eq!(h.state.view.scroll_lines, 12);
}

#[test]
fn scrolling_past_the_top_loads_older_messages_once_and_keeps_the_view() {
    let mut h = Harness::new();
    for n in 0..3 {
        h.recv("10.0.0.2:1", &format!("10.0.0.2:8080 B recent {n}"));
    }
    let oldest_loaded = h.state.log[1].at;
    h.state.older_before = Some(oldest_loaded);
    let up = |h: &mut Harness| h.act(Action::Screen(ScreenAction::Scroll(Scroll::Up(10))));
    let fx = up(&mut h);
    assert!(fx.is_empty(), "not at the top yet: {fx:?}");
    // The front end measures the pane: the oldest loaded line is on screen.
    let top = h.state.view_len() - 1;
    settle_scroll(
        &mut h.state,
        Settled {
            scroll: top,
            scroll_lines: 0,
            at_top: true,
            page: 10,
        },
    );
    let fx = up(&mut h);
    assert_eq!(
        fx,
        [Effect::LoadOlder {
            before: oldest_loaded
        }]
    );
    assert!(up(&mut h).is_empty(), "one request at a time");
    let shown = h
        .state
        .view_entry(h.state.view_len() - 1 - h.state.view.scroll)
        .clone();

    let b = h.state.peers[0].key.clone();
    // An old outgoing message already in the log (undelivered ones load at start-up).
    let (kept, _, _) = sends(&h.send("10.0.0.2:8080", None, "already here"))[0].clone();
    let mut older: Vec<Record> = (0..2)
        .map(|n| Record {
            at: Utc.timestamp_opt(1_000 + n, 0).unwrap(),
            peer: b.clone(),
            outgoing: n == 1,
            text: format!("older {n}"),
            msg_id: (n == 1).then_some(MsgId(900)),
            delivery: (n == 1).then_some(Delivery::Failed {
                reason: "old".into(),
            }),
            claimed_ip: None,
        })
        .collect();
    older.push(Record {
        at: Utc.timestamp_opt(1_002, 0).unwrap(),
        peer: b.clone(),
        outgoing: true,
        text: "already here".into(),
        msg_id: Some(kept),
        delivery: Some(Delivery::Pending),
        claimed_ip: None,
    });
    let before = h.state.log.len();
    let at = Utc.timestamp_opt(0, 0).unwrap();
    update(
        &mut h.state,
        Event {
            at,
            kind: EventKind::Older(older),
        },
    );
    assert_eq!(
        h.state.log.len(),
        before + 2,
        "the message already loaded is not doubled"
    );
    // The same entry is still on screen; the older ones are above it.
    assert_eq!(
        h.state
            .view_entry(h.state.view_len() - 1 - h.state.view.scroll),
        &shown
    );
    assert!(matches!(&h.state.log[0].body, Body::Message { text, .. } if text == "older 0"));
    // Indices follow: the conversation and the failed message are found.
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    assert!(h.state.view_len() >= 5);
    assert_eq!(h.state.delivery(MsgId(900)).unwrap().label(), "failed");
    let fx = h.act(Action::Retry {
        id: Some(MsgId(900)),
    });
    assert_eq!(sends(&fx).len(), 1);
    // An empty page means everything is loaded: no more requests.
    update(
        &mut h.state,
        Event {
            at,
            kind: EventKind::Older(Vec::new()),
        },
    );
    assert_eq!(h.state.older_before, None);
    h.act(Action::Screen(ScreenAction::Scroll(Scroll::Top)));
    assert!(up(&mut h).is_empty());
}

#[test]
fn ctrl_x_gives_up_on_the_failed_messages_on_screen() {
    let mut h = Harness::new();
    let (id, to, _) = sends(&h.send("10.0.0.2:8080", Some("B"), "lost cause"))[0].clone();
    fail(&mut h, id, &to);
    h.act(Action::Drop { id: None });
    assert_eq!(h.state.delivery(id), Some(&Delivery::Dropped));
    let fx = h.act(Action::Drop { id: None });
    assert!(persists(&fx).is_empty());
    assert!(
        h.state
            .view
            .flash
            .as_ref()
            .unwrap()
            .text
            .contains("no failed messages")
    );
}

#[test]
fn restore_does_not_list_a_peer_whose_last_word_was_exit() {
    let mut s = State::new("A", "10.0.0.9".parse().unwrap());
    let rec = |ip: &str, text: &str| {
        let peer = PeerKey::new(ip.parse().unwrap(), 8080, "T");
        Record::received(Utc.timestamp_opt(1_780_000_000, 0).unwrap(), peer, text)
    };
    restore(
        &mut s,
        vec![
            rec("10.0.0.2", "hi"),
            rec("10.0.0.3", "hi"),
            rec("10.0.0.3", "exit"),
        ],
    );
    let listed: Vec<String> = s.listed().map(|(_, p)| p.key.addr().to_string()).collect();
    assert_eq!(listed, ["10.0.0.2:8080"]);
}

#[test]
fn after_a_restart_ctrl_k_reaches_the_peers_heard_from_before() {
    let mut s = State::new("A", "10.0.0.9".parse().unwrap());
    let rec = |ip: &str, outgoing: bool, id: Option<u64>| Record {
        at: Utc.timestamp_opt(1_780_000_000, 0).unwrap(),
        peer: PeerKey::new(ip.parse().unwrap(), 8080, "T"),
        outgoing,
        text: "hi".into(),
        msg_id: id.map(MsgId),
        delivery: id.map(|_| Delivery::Delivered),
        claimed_ip: None,
    };
    // 10.0.0.2 wrote to us; 10.0.0.3 was only written to.
    restore(
        &mut s,
        vec![rec("10.0.0.2", false, None), rec("10.0.0.3", true, Some(1))],
    );
    let at = Utc.timestamp_opt(1_780_000_100, 0).unwrap();
    let fx = update(&mut s, Event::action(at, Action::ConnectAll));
    let to: Vec<String> = fx
        .iter()
        .filter_map(|e| match e {
            Effect::Send { to, text, .. } if text == crate::protocol::CONNECT_TEXT => {
                Some(to.to_string())
            }
            _ => None,
        })
        .collect();
    assert_eq!(to, ["10.0.0.2:8080"]);
}
