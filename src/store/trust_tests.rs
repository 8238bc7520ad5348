//! Trust on first use, a changed key that holds messages, trust and verify.

use tui_input::InputRequest;

use super::state::PeerId;
use super::tests::{Harness, addr, notices, sends};
use super::view::{Overlay, ScreenAction, Selection};
use crate::event::{Action, Delivery, Effect, Hint, NetEvent, Notice, PublicKey, Secure, Via};

fn seen(h: &mut Harness, at: &str, team: Option<&str>, key: PublicKey) -> Vec<Effect> {
    h.net(NetEvent::PeerKey {
        addr: addr(at),
        team: team.map(str::to_string),
        key,
        inbound: true,
    })
}

/// A message that came on an encrypted connection.
fn sealed(h: &mut Harness, from: &str, raw: &str) -> Vec<Effect> {
    let crate::protocol::Parsed::Message(message) = crate::protocol::parse_message(raw.as_bytes())
    else {
        panic!("test input must parse");
    };
    h.net(NetEvent::Received {
        from: addr(from),
        message,
        sealed: true,
    })
}

fn transports(fx: &[Effect]) -> Vec<Option<Secure>> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Transport { secure, .. } => Some(*secure),
            _ => None,
        })
        .collect()
}

fn held(fx: &[Effect]) -> usize {
    fx.iter()
        .filter(|e| {
            matches!(
                e,
                Effect::Notify(Notice::Delivery {
                    status: Delivery::Held { .. },
                    ..
                })
            )
        })
        .count()
}

#[test]
fn the_first_key_is_pinned_and_messages_go_encrypted() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    let peers = h.state.peer_summaries();
    assert_eq!(peers[0].transport, "encrypted");
    assert_eq!(peers[0].fingerprint, Some(k.safety_number().to_string()));
    assert!(!peers[0].key_changed);
    // The same key again changes nothing.
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    assert!(notices(&fx).is_empty());
}

#[test]
fn a_changed_key_holds_messages_until_trusted_then_they_go() {
    let mut h = Harness::new();
    let (old, new) = (PublicKey([5; 32]), PublicKey([6; 32]));
    seen(&mut h, "10.0.0.2:8080", Some("B"), old);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), new);
    assert_eq!(transports(&fx), [Some(Secure::Held)]);
    assert!(h.state.peer_summaries()[0].key_changed);
    let fx = h.send("10.0.0.2:8080", Some("B"), "wait for me");
    assert!(sends(&fx).is_empty(), "nothing is sent to a changed key");
    assert_eq!(held(&fx), 1);
    // Verifying is refused while the key is unsettled.
    let fx = h.act(Action::Verify {
        peer: addr("10.0.0.2:8080"),
    });
    assert!(matches!(fx[..], [Effect::Notify(Notice::Error { .. })]));
    let fx = h.act(Action::Trust {
        peer: addr("10.0.0.2:8080"),
        key: None,
    });
    assert_eq!(transports(&fx), [Some(Secure::Pinned(new))]);
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].2, "wait for me");
    assert!(!h.state.peer_summaries()[0].key_changed);
    h.act(Action::Verify {
        peer: addr("10.0.0.2:8080"),
    });
    assert!(h.state.peer_summaries()[0].verified);
}

#[test]
fn a_known_key_at_a_new_address_is_the_same_peer() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    let before = h.state.peers.len();
    let fx = seen(&mut h, "10.0.0.77:8080", Some("B"), k);
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    sealed(&mut h, "10.0.0.77:1", "10.0.0.77:8080 B moved");
    assert_eq!(h.state.peers.len(), before, "no second peer");
    let summary = &h.state.peer_summaries()[0];
    assert_eq!(summary.addr, addr("10.0.0.77:8080"));
}

#[test]
fn trusting_a_given_key_pins_it_at_once() {
    let mut h = Harness::new();
    let k = PublicKey([9; 32]);
    let fx = h.act(Action::Trust {
        peer: addr("10.0.0.3:9000"),
        key: Some(k),
    });
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    let fx = h.send("10.0.0.3:9000", None, "hello");
    assert_eq!(sends(&fx).len(), 1);
}

#[test]
fn a_pinned_peer_that_sends_plaintext_is_held_until_accepted_as_plain() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B sealed hi");
    let fx = h.recv("10.0.0.2:2", "10.0.0.2:8080 B plain now");
    assert_eq!(transports(&fx), [Some(Secure::Held)]);
    assert!(h.state.peer_summaries()[0].key_changed);
    assert_eq!(held(&h.send("10.0.0.2:8080", Some("B"), "wait")), 1);
    let fx = h.act(Action::Trust {
        peer: addr("10.0.0.2:8080"),
        key: None,
    });
    assert_eq!(transports(&fx), [None]);
    assert!(
        fx.iter()
            .any(|e| matches!(e, Effect::Persist(crate::event::Persist::Unpin(_))))
    );
    assert_eq!(sends(&fx).len(), 1);
    assert_eq!(h.state.peer_summaries()[0].transport, "plain");
}

#[test]
fn plaintext_from_a_peer_that_never_encrypted_to_us_is_no_downgrade() {
    let mut h = Harness::new();
    h.act(Action::Trust {
        peer: addr("10.0.0.3:9000"),
        key: Some(PublicKey([9; 32])),
    });
    let fx = h.recv("10.0.0.3:1", "10.0.0.3:9000 C hello in plaintext");
    assert!(transports(&fx).is_empty());
    assert_eq!(sends(&h.send("10.0.0.3:9000", Some("C"), "hi")).len(), 1);
}

fn hint(h: &mut Harness, key: Option<PublicKey>, via: Via) -> Vec<Effect> {
    h.net(NetEvent::Discovered(Hint {
        addr: addr("10.0.0.2:8080"),
        team: "B".into(),
        key,
        via,
    }))
}

#[test]
fn an_invites_key_is_pinned_at_once() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    let fx = hint(&mut h, Some(k), Via::Invite);
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    let peers = h.state.peer_summaries();
    assert_eq!(peers[0].fingerprint, Some(k.safety_number().to_string()));
    // The handshake then proves the same key: nothing to warn about.
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    assert!(notices(&fx).is_empty(), "{fx:?}");
    // Another key than the invite's holds messages like any change.
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), PublicKey([6; 32]));
    assert_eq!(transports(&fx), [Some(Secure::Held)]);
}

#[test]
fn an_announced_key_makes_first_contact_encrypted_and_the_handshake_pins() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    for via in [Via::Mdns, Via::Beacon] {
        let fx = hint(&mut h, Some(k), via);
        assert_eq!(transports(&fx), [Some(Secure::Learn)]);
    }
    assert_eq!(h.state.peer_summaries()[0].fingerprint, None);
    // Trust on first use: the key the handshake proves, not the announced one.
    let proved = PublicKey([7; 32]);
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), proved);
    assert_eq!(transports(&fx), [Some(Secure::Pinned(proved))]);
    // A pinned peer's announcements change nothing.
    assert!(transports(&hint(&mut h, Some(k), Via::Mdns)).is_empty());
}

#[test]
fn an_announcement_without_a_key_leaves_the_peer_classic() {
    let mut h = Harness::new();
    let fx = hint(&mut h, None, Via::Beacon);
    assert!(transports(&fx).is_empty());
    assert_eq!(h.state.peer_summaries()[0].transport, "plain");
}

/// A peer whose key changed while messages to it wait, selected in the TUI.
fn changed_and_selected() -> (Harness, PublicKey) {
    let mut h = Harness::new();
    let (old, new) = (PublicKey([5; 32]), PublicKey([6; 32]));
    seen(&mut h, "10.0.0.2:8080", Some("B"), old);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    seen(&mut h, "10.0.0.2:8080", Some("B"), new);
    h.send("10.0.0.2:8080", Some("B"), "wait for me");
    h.act(screen(ScreenAction::Select(Selection::Peer(PeerId(0)))));
    (h, new)
}

fn screen(action: ScreenAction) -> Action {
    Action::Screen(action)
}

#[test]
fn the_trust_key_asks_before_accepting_a_changed_key_and_esc_keeps_holding() {
    let (mut h, _) = changed_and_selected();
    let fx = h.act(screen(ScreenAction::TrustSelected));
    assert!(sends(&fx).is_empty(), "nothing goes before the confirm");
    assert!(transports(&fx).is_empty());
    assert!(matches!(
        h.state.view.overlay,
        Overlay::ConfirmTrust(PeerId(0))
    ));
    let fx = h.act(screen(ScreenAction::Close));
    assert!(sends(&fx).is_empty() && transports(&fx).is_empty());
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(h.state.peer_summaries()[0].key_changed, "still held");
    // Any other key also cancels.
    h.act(screen(ScreenAction::TrustSelected));
    let fx = h.act(screen(ScreenAction::Edit(InputRequest::InsertChar('n'))));
    assert!(sends(&fx).is_empty());
    assert!(h.state.peer_summaries()[0].key_changed);
}

#[test]
fn y_or_enter_in_the_confirm_trusts_the_new_key_and_the_held_messages_go() {
    for accept in [
        ScreenAction::Submit,
        ScreenAction::Edit(InputRequest::InsertChar('y')),
    ] {
        let (mut h, new) = changed_and_selected();
        h.act(screen(ScreenAction::TrustSelected));
        let fx = h.act(screen(accept));
        assert_eq!(transports(&fx), [Some(Secure::Pinned(new))]);
        assert_eq!(sends(&fx)[0].2, "wait for me");
        assert!(!h.state.peer_summaries()[0].key_changed);
        assert!(matches!(h.state.view.overlay, Overlay::None));
        assert_eq!(h.state.view.compose.value(), "", "the y typed nothing");
    }
}

#[test]
fn the_trust_key_on_a_settled_peer_says_there_is_nothing_to_trust() {
    let mut h = Harness::new();
    seen(&mut h, "10.0.0.2:8080", Some("B"), PublicKey([5; 32]));
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    h.act(screen(ScreenAction::Select(Selection::Peer(PeerId(0)))));
    let fx = h.act(screen(ScreenAction::TrustSelected));
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(matches!(fx[..], [Effect::Notify(Notice::Error { .. })]));
}

#[test]
fn an_announcement_naming_another_key_only_warns_until_a_handshake_settles_it() {
    let mut h = Harness::new();
    let (pinned, forged) = (PublicKey([5; 32]), PublicKey([6; 32]));
    seen(&mut h, "10.0.0.2:8080", Some("B"), pinned);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    let fx = hint(&mut h, Some(forged), Via::Beacon);
    // A warning, and nothing else: the transport keeps the pinned key, nothing is held.
    assert!(transports(&fx).is_empty(), "{fx:?}");
    let [Notice::Error { text }] = &notices(&fx)[..] else {
        panic!("{fx:?}")
    };
    assert!(text.contains(&forged.safety_number().to_string()), "{text}");
    let peer = &h.state.peer_summaries()[0];
    assert!(peer.announced_key_differs && !peer.key_changed);
    assert_eq!(peer.fingerprint, Some(pinned.safety_number().to_string()));
    let fx = h.send("10.0.0.2:8080", Some("B"), "still goes");
    assert_eq!(sends(&fx).len(), 1, "a forged beacon blocks nothing");
    assert_eq!(held(&fx), 0);
    // The same announcement again warns no more (mDNS and beacon repeat themselves).
    assert!(notices(&hint(&mut h, Some(forged), Via::Mdns)).is_empty());
    // The handshake proves the pinned key: the announcement was stale or forged.
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), pinned);
    assert!(notices(&fx).is_empty());
    assert!(!h.state.peer_summaries()[0].announced_key_differs);
    // An announcement of the pinned key is no news.
    assert!(notices(&hint(&mut h, Some(pinned), Via::Beacon)).is_empty());
    assert!(!h.state.peer_summaries()[0].announced_key_differs);
}

#[test]
fn an_announced_key_the_handshake_then_proves_is_a_key_change() {
    let mut h = Harness::new();
    let (pinned, new) = (PublicKey([5; 32]), PublicKey([6; 32]));
    seen(&mut h, "10.0.0.2:8080", Some("B"), pinned);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    hint(&mut h, Some(new), Via::Mdns);
    let fx = seen(&mut h, "10.0.0.2:8080", Some("B"), new);
    assert_eq!(transports(&fx), [Some(Secure::Held)]);
    let peer = &h.state.peer_summaries()[0];
    assert!(peer.key_changed && !peer.announced_key_differs);
    // Announcing the key it already presented adds no second warning.
    assert!(notices(&hint(&mut h, Some(new), Via::Beacon)).is_empty());
    assert!(!h.state.peer_summaries()[0].announced_key_differs);
}

#[test]
fn an_encrypted_delivery_to_the_pinned_key_settles_an_odd_announcement() {
    let mut h = Harness::new();
    let pinned = PublicKey([5; 32]);
    seen(&mut h, "10.0.0.2:8080", Some("B"), pinned);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    hint(&mut h, Some(PublicKey([6; 32])), Via::Beacon);
    let fx = h.send("10.0.0.2:8080", Some("B"), "over the open session");
    assert!(h.state.peer_summaries()[0].announced_key_differs);
    h.delivered(sends(&fx)[0].0, "10.0.0.2:8080");
    assert!(!h.state.peer_summaries()[0].announced_key_differs);
}

#[test]
fn a_proved_key_at_an_address_two_teams_share_is_no_move() {
    let mut h = Harness::new();
    let k = PublicKey([5; 32]);
    seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    h.recv("10.0.0.2:2", "10.0.0.2:8080 C hi from C");
    let peers = h.state.peers.len();
    // An outbound handshake names no team: the address alone is ambiguous.
    let fx = h.net(NetEvent::PeerKey {
        addr: addr("10.0.0.2:8080"),
        team: None,
        key: k,
        inbound: false,
    });
    assert_eq!(transports(&fx), [Some(Secure::Pinned(k))]);
    assert_eq!(h.state.peers.len(), peers);
    assert!(!h.last_system().contains("moved"), "{}", h.last_system());
}

/// A message held in the last run (stored as held), restored at start-up.
fn restored_held(changed: Option<PublicKey>) -> (Harness, Vec<Effect>) {
    use crate::event::{MsgId, PeerKey, Pin, Record};
    let mut h = Harness::new();
    let b = PeerKey::new("10.0.0.2".parse().unwrap(), 8080, "B");
    let pin = Pin {
        peer: b.clone(),
        key: PublicKey([5; 32]),
        changed,
        verified: false,
        downgraded: false,
        offered: true,
    };
    let mut fx = super::trust::restore_pins(&mut h.state, vec![pin]);
    let at = h.now();
    fx.extend(super::restore(
        &mut h.state,
        vec![Record {
            at,
            peer: b,
            outgoing: true,
            text: "held last time".into(),
            msg_id: Some(MsgId(3)),
            delivery: Some(Delivery::held()),
            claimed_ip: None,
        }],
    ));
    (h, fx)
}

#[test]
fn a_message_held_in_the_last_run_is_held_again_and_goes_on_trust() {
    let (mut h, fx) = restored_held(Some(PublicKey([6; 32])));
    assert!(sends(&fx).is_empty(), "still held: {fx:?}");
    assert_eq!(h.state.held_count(), 1);
    assert_eq!(h.state.failed_count(), 1);
    let fx = h.act(Action::Trust {
        peer: addr("10.0.0.2:8080"),
        key: None,
    });
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1, "{fx:?}");
    assert_eq!(sent[0].2, "held last time");
    assert_eq!(h.state.held_count(), 0);
}

#[test]
fn a_message_held_in_the_last_run_goes_when_the_pin_no_longer_differs() {
    let (h, fx) = restored_held(None);
    let sent = sends(&fx);
    assert_eq!(sent.len(), 1, "{fx:?}");
    assert_eq!(sent[0].2, "held last time");
    assert_eq!(h.state.held_count(), 0);
    assert_eq!(h.state.undelivered(), 1);
}

#[test]
fn an_invite_pins_only_a_peer_without_a_pin_and_never_as_the_users_trust() {
    let mut h = Harness::new();
    let (old, new) = (PublicKey([5; 32]), PublicKey([6; 32]));
    hint(&mut h, Some(old), Via::Invite);
    assert!(h.last_system().contains("pinned B's key from the invite"));
    assert!(!h.last_system().contains("you trusted"));
    // B's key changed; the user trusted the new one.
    sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B hi");
    seen(&mut h, "10.0.0.2:8080", Some("B"), new);
    h.act(Action::Trust {
        peer: addr("10.0.0.2:8080"),
        key: None,
    });
    let fingerprint = Some(new.safety_number().to_string());
    assert_eq!(h.state.peer_summaries()[0].fingerprint, fingerprint);
    // The next start gives the old invite again (`--peer`): the trusted key stays,
    // and the difference is said plainly, not as a trust.
    let fx = hint(&mut h, Some(old), Via::Invite);
    assert!(transports(&fx).is_empty(), "{fx:?}");
    assert!(
        !fx.iter().any(|e| matches!(e, Effect::Persist(_))),
        "{fx:?}"
    );
    let said = h.last_system().to_string();
    assert!(
        said.contains("the invite for B names another key") && said.contains("older"),
        "{said}"
    );
    assert!(!said.contains("you trusted"), "{said}");
    let peers = h.state.peer_summaries();
    assert_eq!(peers[0].fingerprint, fingerprint);
    assert!(!peers[0].key_changed);
}

fn unsealed_lines(h: &Harness) -> Vec<(String, bool)> {
    use super::state::{Body, Direction};
    h.state
        .log
        .iter()
        .filter_map(|e| match &e.body {
            Body::Message {
                dir: Direction::In { unsealed, .. },
                text,
                ..
            } => Some((text.clone(), *unsealed)),
            _ => None,
        })
        .collect()
}

fn told_sealed(fx: &[Effect]) -> Vec<bool> {
    notices(fx)
        .iter()
        .filter_map(|n| match n {
            Notice::Message { sealed, .. } => Some(*sealed),
            _ => None,
        })
        .collect()
}

/// Plaintext from a pinned peer is marked on its own line and told unsealed, whether
/// or not it counts as a downgrade (it does not while the peer never encrypted to
/// us: it may not know our key yet); a classic peer's plaintext is not marked.
#[test]
fn plaintext_from_a_pinned_peer_is_marked_on_its_line() {
    let mut h = Harness::new();
    let fx = h.recv("10.0.0.4:1", "10.0.0.4:7000 D classic hello");
    assert_eq!(told_sealed(&fx), [false]);
    h.act(Action::Trust {
        peer: addr("10.0.0.3:9000"),
        key: Some(PublicKey([9; 32])),
    });
    let fx = h.recv("10.0.0.3:1", "10.0.0.3:9000 C never encrypted");
    assert_eq!(told_sealed(&fx), [false]);
    let k = PublicKey([5; 32]);
    seen(&mut h, "10.0.0.2:8080", Some("B"), k);
    let fx = sealed(&mut h, "10.0.0.2:1", "10.0.0.2:8080 B sealed hi");
    assert_eq!(told_sealed(&fx), [true]);
    let fx = h.recv("10.0.0.2:2", "10.0.0.2:8080 B plain now");
    assert_eq!(told_sealed(&fx), [false]);
    assert_eq!(
        unsealed_lines(&h),
        [
            ("classic hello".to_string(), false),
            ("never encrypted".to_string(), true),
            ("sealed hi".to_string(), false),
            ("plain now".to_string(), true),
        ]
    );
}
