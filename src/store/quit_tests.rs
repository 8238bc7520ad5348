//! Quitting with undelivered messages asks first in the terminal front end; the
//! headless one (no question to answer) waits for them as before.

use super::tests::Harness;
use super::*;
use crate::event::*;

fn pending() -> Harness {
    let mut h = Harness::new();
    h.send("10.0.0.2:8080", Some("B"), "still on its way");
    assert_eq!(h.state.undelivered(), 1);
    h
}

fn asking(h: &Harness) -> bool {
    matches!(h.state.view.overlay, Overlay::ConfirmQuit { .. })
}

#[test]
fn quitting_with_undelivered_messages_asks_and_esc_stays() {
    let mut h = pending();
    h.state.view.ask_before_quit = true;
    let fx = h.act(Action::Quit);
    assert!(asking(&h), "{:?}", h.state.view.overlay);
    assert!(!h.state.quitting && !fx.contains(&Effect::Quit));
    // Esc (or any other key) stays: nothing changed.
    h.act(Action::Screen(ScreenAction::Close));
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(!h.state.quitting);
    // y: quits once delivered, as a confirmed quit always did.
    h.act(Action::Quit);
    let edit = ScreenAction::Edit(tui_input::InputRequest::InsertChar('y'));
    let fx = h.act(Action::Screen(edit));
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(h.state.quitting && !fx.contains(&Effect::Quit));
    let flash = h.state.view.flash.clone().unwrap().text;
    assert!(
        flash.contains("quitting once 1 message(s) are delivered"),
        "{flash}"
    );
    // The delivery ends it; so would another Ctrl+C.
    let fx = h.delivered(MsgId(1), "10.0.0.2:8080");
    assert!(fx.contains(&Effect::Quit), "{fx:?}");
}

#[test]
fn enter_or_a_second_quit_answers_the_question() {
    for answer in [
        Action::Screen(ScreenAction::Submit),
        Action::Quit,
        Action::Screen(ScreenAction::Edit(tui_input::InputRequest::InsertChar('Y'))),
    ] {
        let mut h = pending();
        h.state.view.ask_before_quit = true;
        h.act(Action::Quit);
        assert!(asking(&h));
        h.act(answer.clone());
        assert!(h.state.quitting, "{answer:?}");
        assert!(matches!(h.state.view.overlay, Overlay::None));
        // Quitting again does not wait.
        assert!(h.act(Action::Quit).contains(&Effect::Quit));
    }
}

#[test]
fn nothing_undelivered_or_headless_never_asks() {
    let mut h = Harness::new();
    h.state.view.ask_before_quit = true;
    assert!(h.act(Action::Quit).contains(&Effect::Quit));
    // Headless: no question, the wait starts at once.
    let mut h = pending();
    let fx = h.act(Action::Quit);
    assert!(matches!(h.state.view.overlay, Overlay::None));
    assert!(h.state.quitting && !fx.contains(&Effect::Quit));
}

#[test]
fn held_messages_count_for_the_question_but_are_not_waited_for() {
    let mut h = Harness::new();
    h.state.view.ask_before_quit = true;
    h.send("10.0.0.2:8080", Some("B"), "held for a key change");
    h.net(NetEvent::Delivery {
        id: MsgId(1),
        to: "10.0.0.2:8080".parse().unwrap(),
        status: Delivery::held(),
    });
    assert_eq!((h.state.undelivered(), h.state.held_count()), (0, 1));
    let fx = h.act(Action::Quit);
    assert!(
        matches!(
            h.state.view.overlay,
            Overlay::ConfirmQuit {
                waiting: 0,
                held: 1
            }
        ),
        "{:?}",
        h.state.view.overlay
    );
    assert!(!fx.contains(&Effect::Quit));
    // y: nothing to wait for, so it quits at once.
    let edit = ScreenAction::Edit(tui_input::InputRequest::InsertChar('y'));
    let fx = h.act(Action::Screen(edit));
    assert!(fx.contains(&Effect::Quit), "{fx:?}");
}
