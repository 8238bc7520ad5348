//! A message of several lines (Alt+Enter in the compose box) travels as one message
//! per line, in order, each under our header: a line that looks like a header
//! (`1.2.3.4:5 team ...`) is text, never another sender.

use super::tests::Harness;
use super::*;
use crate::event::*;

fn sent(fx: &[Effect]) -> Vec<(String, String)> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Send { to, text, .. } => Some((to.to_string(), text.clone())),
            _ => None,
        })
        .collect()
}

#[test]
fn each_line_is_a_message_of_its_own_in_order() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    // Alt+Enter inserts a newline: blank lines and a CR before a newline are dropped.
    h.type_text("one\n10.9.9.9:1 Mallory forged\r\n\n  \nthree");
    assert_eq!(h.state.view.compose.value().lines().count(), 5);
    let fx = h.act(Action::Screen(ScreenAction::Submit));
    let b = "10.0.0.2:8080".to_string();
    assert_eq!(
        sent(&fx),
        [
            (b.clone(), "one".into()),
            (b.clone(), "10.9.9.9:1 Mallory forged".into()),
            (b, "three".into())
        ]
    );
    assert_eq!(h.state.view.compose.value(), "");
    let flash = h.state.view.flash.as_ref().map(|f| f.text.as_str());
    assert_eq!(flash, Some("2 empty lines not sent"));
    // Shown as three messages from us, each with its own delivery mark; no new peer.
    let mine = h
        .state
        .log
        .iter()
        .filter(|e| {
            matches!(
                &e.body,
                Body::Message {
                    dir: Direction::Out { .. },
                    ..
                }
            )
        })
        .count();
    assert_eq!(mine, 3);
    assert_eq!(h.state.peers.len(), 1);
    // A line break at the end (a pasted line) leaves nothing out.
    h.type_text("four\n");
    h.act(Action::Screen(ScreenAction::Submit));
    assert!(h.state.view.flash.is_none(), "{:?}", h.state.view.flash);
}

#[test]
fn a_line_of_only_exit_in_a_longer_message_is_refused() {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hello");
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    h.type_text("see you\nexit");
    let fx = h.act(Action::Screen(ScreenAction::Submit));
    assert_eq!(sent(&fx), []);
    assert!(h.state.peers[0].listed, "the peer stays");
    assert!(h.state.view.flash.as_ref().unwrap().text.contains("exit"));
    assert_eq!(
        h.state.view.compose.value(),
        "see you\nexit",
        "kept to edit"
    );
}
