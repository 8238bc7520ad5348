//! Slash commands in the compose box: they do what their keys do, and never reach peers
//! as text.

use tui_input::InputRequest;

use super::tests::{Harness, notices, sends};
use super::*;
use crate::event::*;

fn with_peer() -> Harness {
    let mut h = Harness::new();
    h.recv("10.0.0.2:1", "10.0.0.2:8080 B hi from B");
    h
}

#[test]
fn msg_sends_to_the_address_and_adds_the_peer() {
    let mut h = Harness::new();
    let fx = h.submit("/msg 10.0.0.9:7000/Nine hello nine");
    let s = sends(&fx);
    assert_eq!(s.len(), 1);
    assert_eq!(
        (s[0].1.as_str(), s[0].2.as_str()),
        ("10.0.0.9:7000", "hello nine")
    );
    let listed = h.listed();
    assert_eq!(listed.len(), 1);
    assert_eq!(
        (listed[0].0.as_str(), listed[0].1.as_str()),
        ("10.0.0.9:7000", "Nine")
    );
    assert_eq!(h.state.view.selection, Selection::Peer(PeerId(0)));
    assert_eq!(h.state.view.compose.value(), "");
}

#[test]
fn an_unknown_command_is_not_sent_and_stays_in_the_box() {
    let mut h = with_peer();
    let fx = h.submit("/x hi");
    assert!(sends(&fx).is_empty());
    let flash = h.state.view.flash.as_ref().unwrap();
    assert_eq!(flash.text, "unknown command /x: /help lists them");
    assert!(flash.error);
    assert_eq!(h.state.view.compose.value(), "/x hi");
}

#[test]
fn a_double_slash_sends_the_slash_literally() {
    let mut h = with_peer();
    let fx = h.submit("//x marks the spot");
    assert_eq!(sends(&fx)[0].2, "/x marks the spot");
}

#[test]
fn disconnect_asks_first_like_its_key() {
    let mut h = with_peer();
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    let fx = h.submit("/disconnect");
    assert!(sends(&fx).is_empty());
    assert!(matches!(h.state.view.overlay, Overlay::Confirm(PeerId(0))));
    let fx = h.act(Action::Screen(ScreenAction::Submit));
    assert_eq!(sends(&fx)[0].2, "exit");
    assert!(!h.state.peers[0].listed);
}

#[test]
fn connect_help_and_quit_do_what_their_keys_do() {
    let mut h = with_peer();
    let fx = h.submit("/connect");
    assert_eq!(sends(&fx)[0].1, "10.0.0.2:8080");
    assert_eq!(h.state.view.compose.value(), "");
    h.submit("/retry");
    let flash = &h.state.view.flash.as_ref().unwrap().text;
    assert_eq!(flash, "no failed messages here to retry");
    h.submit("/help");
    assert!(matches!(h.state.view.overlay, Overlay::Help));
    h.act(Action::Screen(ScreenAction::Close));
    let fx = h.submit("/quit");
    assert!(h.state.quitting);
    assert!(
        !fx.contains(&Effect::Quit),
        "a message is still undelivered"
    );
}

#[test]
fn tab_completes_in_the_compose_box() {
    let mut h = with_peer();
    h.type_text("/msg B");
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_eq!(h.state.view.compose.value(), "/msg 10.0.0.2:8080/B ");
    assert_eq!(h.state.view.focus, Focus::Compose);
}

/// Tab on a prefix several commands share, with nothing more in common: the box keeps
/// its text and the focus, and the status line lists what fits.
#[test]
fn tab_on_an_ambiguous_prefix_lists_what_fits() {
    let mut h = with_peer();
    h.type_text("/d");
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_eq!(h.state.view.compose.value(), "/d");
    assert_eq!(h.state.view.focus, Focus::Compose);
    let flash = h
        .state
        .view
        .flash
        .clone()
        .expect("the candidates are shown");
    assert_eq!(flash.text, "Tab: disconnect, doctor");
    // Plain text: Tab moves the focus as before.
    h.act(Action::Screen(ScreenAction::Edit(InputRequest::DeleteLine)));
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_ne!(h.state.view.focus, Focus::Compose);
}

/// A peer whose key is pinned (so it can be verified), at 10.0.0.2:8080.
fn with_pinned_peer(key: PublicKey) -> Harness {
    let mut h = with_peer();
    h.net(NetEvent::PeerKey {
        addr: "10.0.0.2:8080".parse().unwrap(),
        team: Some("B".into()),
        key,
        inbound: false,
    });
    h
}

#[test]
fn verify_marks_the_selected_or_named_peer_verified_like_its_key() {
    let mut h = with_pinned_peer(PublicKey([5; 32]));
    // Nobody selected, nobody named: it says how, and the line stays to be fixed.
    h.submit("/verify");
    let flash = h.state.view.flash.as_ref().unwrap();
    assert!(flash.text.contains("select a peer first"), "{}", flash.text);
    assert_eq!(h.state.view.compose.value(), "/verify");
    h.state.view.compose.reset();
    h.submit("/verify 10.0.0.2:8080");
    assert!(h.state.peer_summaries()[0].verified);
    assert_eq!(h.state.view.compose.value(), "");

    let mut h = with_pinned_peer(PublicKey([5; 32]));
    h.act(Action::Screen(ScreenAction::Select(Selection::Peer(
        PeerId(0),
    ))));
    let fx = h.submit("/verify");
    assert!(sends(&fx).is_empty());
    assert!(h.state.peer_summaries()[0].verified);
}

#[test]
fn verify_refuses_a_classic_peer_and_a_changed_key_saying_which() {
    let mut h = with_peer();
    let fx = h.submit("/verify 10.0.0.2:8080");
    assert!(!h.state.peers[0].trust.verified);
    let [Notice::Error { text }] = &notices(&fx)[..] else {
        panic!("{fx:?}")
    };
    assert!(text.contains("classic (plaintext) peer"), "{text}");

    let mut h = with_pinned_peer(PublicKey([5; 32]));
    h.net(NetEvent::PeerKey {
        addr: "10.0.0.2:8080".parse().unwrap(),
        team: Some("B".into()),
        key: PublicKey([6; 32]),
        inbound: false,
    });
    let fx = h.submit("/verify 10.0.0.2:8080");
    assert!(!h.state.peers[0].trust.verified);
    let [Notice::Error { text }] = &notices(&fx)[..] else {
        panic!("{fx:?}")
    };
    assert!(text.contains("trust it first"), "{text}");

    let fx = h.submit("/verify 10.9.9.9:1");
    assert!(notices(&fx).is_empty());
    let flash = &h.state.view.flash.as_ref().unwrap().text;
    assert_eq!(flash, "/verify: no peer at 10.9.9.9:1");
}

#[test]
fn trust_goes_through_the_same_confirm_as_its_key() {
    let mut h = with_pinned_peer(PublicKey([5; 32]));
    h.net(NetEvent::PeerKey {
        addr: "10.0.0.2:8080".parse().unwrap(),
        team: Some("B".into()),
        key: PublicKey([6; 32]),
        inbound: false,
    });
    h.submit("/trust 10.0.0.2:8080");
    assert!(matches!(
        h.state.view.overlay,
        Overlay::ConfirmTrust(PeerId(0))
    ));
    assert!(h.state.peers[0].trust.held(), "not before the confirm");
    h.act(Action::Screen(ScreenAction::Submit));
    assert!(!h.state.peers[0].trust.held());
    assert_eq!(h.state.peers[0].trust.key, Some(PublicKey([6; 32])));
}

#[test]
fn tab_completes_verify_and_its_peer_address() {
    let mut h = with_peer();
    h.type_text("/ve");
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_eq!(h.state.view.compose.value(), "/verify ");
    h.act(Action::Screen(ScreenAction::Edit(
        InputRequest::InsertChar('B'),
    )));
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_eq!(h.state.view.compose.value(), "/verify 10.0.0.2:8080 ");
}

/// The name the screen shows (an alias) is a name Tab knows.
#[test]
fn tab_completes_a_peer_by_its_alias() {
    let mut h = with_peer();
    h.submit("/alias 10.0.0.2:8080/B Bob");
    assert_eq!(h.state.peers[0].alias.as_deref(), Some("Bob"));
    h.type_text("/verify bo");
    h.act(Action::Screen(ScreenAction::FocusNext));
    assert_eq!(h.state.view.compose.value(), "/verify 10.0.0.2:8080 ");
}

#[test]
fn doctor_asks_for_discoverys_report_like_its_key() {
    let mut h = Harness::new();
    let fx = h.submit("/doctor");
    assert_eq!(fx, [Effect::Doctor]);
    assert_eq!(h.state.view.compose.value(), "");
}
