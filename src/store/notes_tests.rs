//! `/alias` and `/forget`: local names kept in the history, and forgetting a peer with
//! its history kept or deleted.

use tui_input::InputRequest;

use super::tests::{Harness, sends};
use super::*;
use crate::event::*;

fn key(h: &mut Harness, c: char) -> Vec<Effect> {
    h.act(Action::Screen(ScreenAction::Edit(
        InputRequest::InsertChar(c),
    )))
}

/// B wrote to us and is selected.
fn with_b() -> Harness {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi from B");
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    h
}

fn persisted(fx: &[Effect]) -> Vec<&Persist> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Persist(p) => Some(p),
            _ => None,
        })
        .collect()
}

#[test]
fn alias_names_the_selected_peer_and_is_stored() {
    let mut h = with_b();
    let fx = h.submit("/alias Bob the builder");
    assert_eq!(h.state.peers[0].name(), "Bob the builder");
    let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
    assert_eq!(
        persisted(&fx),
        [&Persist::Alias {
            peer: b.clone(),
            alias: Some("Bob the builder".into())
        }]
    );
    assert!(sends(&fx).is_empty());
    assert_eq!(h.state.view.compose.value(), "");
    // No name: removed, and the team shows again.
    let fx = h.submit("/alias");
    assert_eq!(h.state.peers[0].name(), "B");
    assert_eq!(
        persisted(&fx),
        [&Persist::Alias {
            peer: b,
            alias: None
        }]
    );
}

#[test]
fn alias_can_name_a_peer_by_address_and_needs_one_otherwise() {
    let mut h = with_b();
    h.act(Action::Screen(ScreenAction::Select(Selection::All)));
    h.submit("/alias Nobody");
    assert!(h.state.view.flash.as_ref().unwrap().error);
    assert_eq!(h.state.peers[0].alias, None);
    h.submit("/alias 10.0.0.2:8080/B Bee");
    assert_eq!(h.state.peers[0].name(), "Bee");
    h.submit("/alias 10.0.0.7:1 Who");
    assert!(
        h.state
            .view
            .flash
            .as_ref()
            .unwrap()
            .text
            .contains("no peer at 10.0.0.7:1")
    );
}

#[test]
fn aliases_are_bounded_one_line_and_printable() {
    assert_eq!(clean_alias("  Bob  ").as_deref(), Some("Bob"));
    assert_eq!(clean_alias("a\u{1b}[31mred\u{7}").as_deref(), Some("ared"));
    assert_eq!(clean_alias("two\nlines").as_deref(), Some("two lines"));
    assert_eq!(
        clean_alias(&"x".repeat(100)).unwrap().chars().count(),
        MAX_ALIAS
    );
    assert_eq!(clean_alias("\u{7}\u{8}   "), None);
    let mut h = with_b();
    h.submit("/alias \u{7}");
    assert!(h.state.view.flash.as_ref().unwrap().error);
    assert_eq!(h.state.peers[0].alias, None);
}

#[test]
fn forget_asks_and_escape_cancels() {
    let mut h = with_b();
    h.submit("/forget");
    assert!(matches!(h.state.view.overlay, Overlay::Forget(PeerId(0))));
    // Other keys leave the question open.
    key(&mut h, 'x');
    assert!(matches!(h.state.view.overlay, Overlay::Forget(PeerId(0))));
    let fx = h.act(Action::Screen(ScreenAction::Close));
    assert!(fx.is_empty());
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(h.state.peers[0].listed);
}

#[test]
fn forget_keeping_history_unlists_and_fails_what_was_waiting() {
    let mut h = with_b();
    let fx = h.submit("are you there?");
    let id = sends(&fx)[0].0;
    h.submit("/alias Bob");
    h.submit("/forget");
    let fx = key(&mut h, 'k');
    assert!(h.listed().is_empty());
    assert_eq!(h.state.view.selection, Selection::All);
    assert!(matches!(
        h.state.delivery(id),
        Some(Delivery::Failed { reason }) if reason == notes::FORGOTTEN
    ));
    // Its failed message is not retried (that would bring the peer back).
    assert_eq!(h.state.failed_count(), 0);
    let p = persisted(&fx);
    assert!(
        p.iter()
            .any(|p| matches!(p, Persist::Forget { delete: false, .. }))
    );
    assert!(
        h.last_system().contains("history is kept"),
        "{}",
        h.last_system()
    );
    // The messages stay in the log.
    assert!(h.state.log.iter().any(|e| matches!(&e.body,
        Body::Message { text, .. } if text == "hi from B")));
    assert_eq!(h.state.peers[0].alias, None);
}

#[test]
fn a_message_that_failed_before_the_forget_says_why_it_cannot_be_retried() {
    let mut h = with_b();
    let id = sends(&h.submit("are you there?"))[0].0;
    let reason = "connection refused".to_string();
    let to = super::tests::addr("10.0.0.2:8080");
    h.net(NetEvent::Delivery {
        id,
        to,
        status: Delivery::Failed { reason },
    });
    assert_eq!(h.state.failed_count(), 1);
    h.recv("10.0.0.3:1", "10.0.0.3:9 C hi from C");
    h.submit("/forget");
    let fx = key(&mut h, 'k');
    assert!(matches!(
        h.state.delivery(id),
        Some(Delivery::Failed { reason }) if reason == notes::FORGOTTEN
    ));
    assert!(persisted(&fx).iter().any(|p| matches!(p,
        Persist::Status { id: i, status: Delivery::Failed { reason } }
            if *i == id && reason == notes::FORGOTTEN)));
    assert_eq!(h.state.failed_count(), 0);
    // Forgetting another peer with its history rebuilds the indexes: still no retry.
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(1),
    ))));
    h.submit("/forget");
    key(&mut h, 'd');
    assert_eq!(h.state.failed_count(), 0);
}

#[test]
fn forget_deleting_history_removes_its_messages_and_it_comes_back_as_new() {
    let mut h = with_b();
    h.recv("10.0.0.3:1", "10.0.0.3:9 C hi from C");
    h.submit("/forget");
    let fx = key(&mut h, 'd');
    assert!(
        persisted(&fx)
            .iter()
            .any(|p| matches!(p, Persist::Forget { delete: true, .. }))
    );
    let texts: Vec<&str> = h
        .state
        .log
        .iter()
        .filter_map(|e| match &e.body {
            Body::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(texts, ["hi from C"]);
    assert_eq!(h.listed().len(), 1);
    // It writes again: listed again, as a new Active peer, its old messages gone.
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B back again");
    assert_eq!(h.listed().len(), 2);
    assert_eq!(h.state.peers[0].status, PeerStatus::Active);
    let of_b: Vec<&str> = h.state.peer_log[0]
        .iter()
        .filter_map(|&i| match &h.state.log[i].body {
            Body::Message { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(of_b, ["back again"]);
}

#[test]
fn forgotten_peers_stay_forgotten_after_a_restart_and_aliases_come_back() {
    let at = |s: i64| chrono::TimeZone::timestamp_opt(&chrono::Utc, s, 0).unwrap();
    let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
    let c = PeerKey::new("10.0.0.3".parse().unwrap(), 9, "C");
    let record = |peer: &PeerKey, s: i64, text: &str| Record::received(at(s), peer.clone(), text);
    let mut records = vec![
        record(&b, 10, "before"),
        record(&c, 11, "from C"),
        record(&b, 30, "after"),
    ];
    let notes = vec![
        PeerNote {
            peer: b.clone(),
            alias: None,
            forgotten: Some(at(20)),
        },
        PeerNote {
            peer: c.clone(),
            alias: Some("Cee".into()),
            forgotten: None,
        },
    ];
    let mut state = State::new("A", "10.0.0.9".parse().unwrap());
    restore_notes(&mut state, notes, &mut records);
    let kept: Vec<&str> = records.iter().map(|r| r.text.as_str()).collect();
    assert_eq!(kept, ["from C", "after"]);
    restore(&mut state, records);
    let c_id = state.find(&c).unwrap();
    assert_eq!(state.peer(c_id).name(), "Cee");
    assert!(state.peer(c_id).listed);
}
