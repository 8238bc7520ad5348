//! Table tests: (event, context) -> action.

use std::net::SocketAddr;

use chrono::{TimeZone, Utc};
use crossterm::event::{KeyEventState, MouseEvent};

use super::*;
use crate::event::{Event, NetEvent};
use crate::protocol::{Header, Inbound};
use crate::store::{Form, PeerId, Selection, update};

fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
    KeyEvent {
        code,
        modifiers: mods,
        kind: KeyEventKind::Press,
        state: KeyEventState::NONE,
    }
}

fn state_with_peers(n: usize) -> State {
    let mut s = State::new("A", "127.0.0.1".parse().unwrap());
    for i in 0..n {
        let from: SocketAddr = format!("10.0.0.{}:5000", i + 2).parse().unwrap();
        let message = Inbound {
            header: Header {
                ip: None,
                port: Some(8000),
                team: Some(format!("T{i}")),
            },
            text: "hi".into(),
        };
        update(
            &mut s,
            Event::net(
                Utc.timestamp_opt(0, 0).unwrap(),
                NetEvent::Received {
                    from,
                    message,
                    sealed: false,
                },
            ),
        );
    }
    s
}

fn sa(a: ScreenAction) -> Option<Action> {
    Some(Action::Screen(a))
}

#[test]
fn keys_in_each_context() {
    let main = state_with_peers(1);
    let mut peers = state_with_peers(1);
    peers.view.focus = Focus::Peers;
    let mut log = state_with_peers(1);
    log.view.focus = Focus::Log;
    let mut form = state_with_peers(1);
    form.view.overlay = Overlay::NewRecipient(Form::new_recipient());
    let mut help = state_with_peers(1);
    help.view.overlay = Overlay::Help;

    let rows: Vec<(&State, KeyEvent, Option<Action>)> = vec![
        (&main, key(Enter, NONE), sa(ScreenAction::Submit)),
        (
            &main,
            key(Char('n'), CTRL),
            sa(ScreenAction::OpenNewRecipient),
        ),
        (&main, key(Char('k'), CTRL), Some(Action::ConnectAll)),
        (
            &main,
            key(Char('d'), CTRL),
            sa(ScreenAction::DisconnectSelected),
        ),
        (&main, key(Char('c'), CTRL), Some(Action::Quit)),
        (&main, key(Char('q'), CTRL), Some(Action::Quit)),
        (&main, key(Char('C'), CTRL), Some(Action::Quit)),
        (&main, key(F(1), NONE), sa(ScreenAction::OpenHelp)),
        (&main, key(Esc, NONE), sa(ScreenAction::Close)),
        (&main, key(Tab, NONE), sa(ScreenAction::FocusNext)),
        (&main, key(BackTab, SHIFT), sa(ScreenAction::FocusPrev)),
        (&main, key(Up, ALT), sa(ScreenAction::SelectPrev)),
        (&main, key(Down, ALT), sa(ScreenAction::SelectNext)),
        (
            &main,
            key(PageUp, NONE),
            sa(ScreenAction::Scroll(Scroll::PageUp)),
        ),
        (
            &main,
            key(PageDown, NONE),
            sa(ScreenAction::Scroll(Scroll::PageDown)),
        ),
        (
            &main,
            key(Home, NONE),
            sa(ScreenAction::Scroll(Scroll::Top)),
        ),
        (
            &main,
            key(End, NONE),
            sa(ScreenAction::Scroll(Scroll::Bottom)),
        ),
        (&main, key(Char('z'), CTRL), sa(ScreenAction::Suspend)),
        (&main, key(Char('f'), CTRL), sa(ScreenAction::OpenSearch)),
        (
            &main,
            key(Char('r'), CTRL),
            Some(Action::Retry { id: None }),
        ),
        // Up/Down depend on the focused pane.
        (&main, key(Up, NONE), sa(ScreenAction::RecallOlder)),
        (&main, key(Down, NONE), sa(ScreenAction::RecallNewer)),
        (&peers, key(Up, NONE), sa(ScreenAction::SelectPrev)),
        (&peers, key(Down, NONE), sa(ScreenAction::SelectNext)),
        (&log, key(Up, NONE), sa(ScreenAction::Scroll(Scroll::Up(1)))),
        // Printable keys type from any pane.
        (
            &main,
            key(Char('x'), NONE),
            sa(ScreenAction::Edit(InputRequest::InsertChar('x'))),
        ),
        (
            &main,
            key(Char('X'), SHIFT),
            sa(ScreenAction::Edit(InputRequest::InsertChar('X'))),
        ),
        (
            &peers,
            key(Char('x'), NONE),
            sa(ScreenAction::Edit(InputRequest::InsertChar('x'))),
        ),
        (
            &log,
            key(Char('é'), NONE),
            sa(ScreenAction::Edit(InputRequest::InsertChar('é'))),
        ),
        (
            &main,
            key(Char('@'), CTRL | ALT),
            sa(ScreenAction::Edit(InputRequest::InsertChar('@'))),
        ),
        (
            &main,
            key(Backspace, NONE),
            sa(ScreenAction::Edit(InputRequest::DeletePrevChar)),
        ),
        (
            &main,
            key(Char('w'), CTRL),
            sa(ScreenAction::Edit(InputRequest::DeletePrevWord)),
        ),
        (
            &main,
            key(Char('u'), CTRL),
            sa(ScreenAction::Edit(InputRequest::DeleteLine)),
        ),
        (
            &main,
            key(Left, NONE),
            sa(ScreenAction::Edit(InputRequest::GoToPrevChar)),
        ),
        (
            &main,
            key(Char('a'), CTRL),
            sa(ScreenAction::Edit(InputRequest::GoToStart)),
        ),
        // Unbound control keys do nothing.
        (&main, key(Char('j'), CTRL), None),
        // Forms: Enter moves on, Tab and arrows move between fields, typing edits.
        (&form, key(Enter, NONE), sa(ScreenAction::Submit)),
        (&form, key(Tab, NONE), sa(ScreenAction::NextField)),
        (&form, key(Down, NONE), sa(ScreenAction::NextField)),
        (&form, key(Up, NONE), sa(ScreenAction::PrevField)),
        (
            &form,
            key(Char('1'), NONE),
            sa(ScreenAction::Edit(InputRequest::InsertChar('1'))),
        ),
        (&form, key(Char('k'), CTRL), None),
        (&form, key(Esc, NONE), sa(ScreenAction::Close)),
        (&form, key(Char('c'), CTRL), Some(Action::Quit)),
        // Help: only closing keys and quit.
        (&help, key(Char('x'), NONE), None),
        (&help, key(Enter, NONE), None),
        (&help, key(Esc, NONE), sa(ScreenAction::Close)),
        (&help, key(F(1), NONE), sa(ScreenAction::OpenHelp)),
    ];
    for (state, k, want) in rows {
        assert_eq!(
            key_action(&k, state),
            want,
            "{k:?} with focus {:?}",
            state.view.focus
        );
    }
}

#[test]
fn key_releases_are_ignored() {
    let s = state_with_peers(0);
    let mut k = key(Char('x'), NONE);
    k.kind = KeyEventKind::Release;
    assert_eq!(key_action(&k, &s), None);
}

fn mouse(kind: MouseEventKind, column: u16, row: u16) -> MouseEvent {
    MouseEvent {
        kind,
        column,
        row,
        modifiers: NONE,
    }
}

#[test]
fn clicks_and_wheel_hit_what_is_drawn() {
    let s = state_with_peers(3);
    let area = Rect::new(0, 0, 100, 30);
    let left = MouseEventKind::Down(MouseButton::Left);
    // Peer list inner rows: y=1 "All peers", then 2 rows per peer.
    let rows = [
        (mouse(left, 5, 1), sa(ScreenAction::Select(Selection::All))),
        (
            mouse(left, 5, 2),
            sa(ScreenAction::Select(Selection::Peer(PeerId(0)))),
        ),
        (
            mouse(left, 5, 3),
            sa(ScreenAction::Select(Selection::Peer(PeerId(0)))),
        ),
        (
            mouse(left, 5, 6),
            sa(ScreenAction::Select(Selection::Peer(PeerId(2)))),
        ),
        (mouse(left, 5, 20), None),
        (mouse(left, 60, 10), sa(ScreenAction::Focus(Focus::Log))),
        (mouse(left, 60, 27), sa(ScreenAction::Focus(Focus::Compose))),
        (
            mouse(MouseEventKind::ScrollUp, 60, 10),
            sa(ScreenAction::Scroll(Scroll::Up(WHEEL))),
        ),
        (
            mouse(MouseEventKind::ScrollDown, 60, 10),
            sa(ScreenAction::Scroll(Scroll::Down(WHEEL))),
        ),
        (
            mouse(MouseEventKind::ScrollDown, 5, 4),
            sa(ScreenAction::SelectNext),
        ),
        (mouse(MouseEventKind::Down(MouseButton::Right), 5, 2), None),
    ];
    for (m, want) in rows {
        assert_eq!(mouse_action(&m, &s, area), want, "{m:?}");
    }
}

#[test]
fn narrow_screens_click_the_selector_halves() {
    let s = state_with_peers(2);
    let area = Rect::new(0, 0, 50, 20);
    let left = MouseEventKind::Down(MouseButton::Left);
    assert_eq!(
        mouse_action(&mouse(left, 2, 0), &s, area),
        sa(ScreenAction::SelectPrev)
    );
    assert_eq!(
        mouse_action(&mouse(left, 45, 0), &s, area),
        sa(ScreenAction::SelectNext)
    );
}

#[test]
fn the_mouse_is_ignored_under_an_overlay() {
    let mut s = state_with_peers(2);
    s.view.overlay = Overlay::Help;
    let m = mouse(MouseEventKind::Down(MouseButton::Left), 5, 2);
    assert_eq!(mouse_action(&m, &s, Rect::new(0, 0, 100, 30)), None);
}

/// Clicking a peer higher up a scrolled list selects it without scrolling the list:
/// the peer stays under the mouse (the first entry shown is kept while the selection
/// is in view).
#[test]
fn clicking_a_peer_does_not_scroll_the_list_under_the_mouse() {
    let mut s = state_with_peers(30);
    s.view.selection = Selection::Peer(PeerId(29));
    let area = Rect::new(0, 0, 100, 30);
    let crate::ui::layout::Screen::Panes(panes) = crate::ui::layout::layout(area) else {
        panic!()
    };
    let list = panes.peers.unwrap();
    s.view.peer_top = crate::ui::settle_peers(&s, area).unwrap();
    assert!(s.view.peer_top > 0, "the list scrolled to the last peer");
    let before = crate::ui::layout::peer_rows(&s, list);
    let (sel, rect) = before[1];
    let m = mouse(MouseEventKind::Down(MouseButton::Left), rect.x, rect.y);
    let Some(Action::Screen(action)) = mouse_action(&m, &s, area) else {
        panic!("a click on a peer is an action")
    };
    update(
        &mut s,
        Event::action(Utc.timestamp_opt(1, 0).unwrap(), Action::Screen(action)),
    );
    assert_eq!(s.view.selection, sel);
    s.view.peer_top = crate::ui::settle_peers(&s, area).unwrap();
    let after = crate::ui::layout::peer_rows(&s, list);
    assert_eq!(after, before, "the list did not move");
}

#[test]
fn a_long_peer_list_scrolls_to_keep_the_selection_visible() {
    let mut s = state_with_peers(30);
    s.view.selection = Selection::Peer(PeerId(29));
    let area = Rect::new(0, 0, 100, 30);
    let crate::ui::layout::Screen::Panes(panes) = crate::ui::layout::layout(area) else {
        panic!()
    };
    let rows = crate::ui::layout::peer_rows(&s, panes.peers.unwrap());
    assert_eq!(rows.last().unwrap().0, Selection::Peer(PeerId(29)));
    // Clicking the last visible row selects the peer drawn there.
    let (sel, rect) = rows[rows.len() - 2];
    let m = mouse(MouseEventKind::Down(MouseButton::Left), rect.x, rect.y);
    assert_eq!(mouse_action(&m, &s, area), sa(ScreenAction::Select(sel)));
}

#[test]
fn paste_is_its_own_action() {
    let s = state_with_peers(0);
    let e = TermEvent::Paste("hello\nworld".into());
    assert_eq!(
        action_for(&e, &s, Rect::new(0, 0, 80, 24)),
        sa(ScreenAction::Paste("hello\nworld".into()))
    );
}

/// Every key a help line names does what that line says, in every context where the
/// line applies: no earlier binding shadows it.
#[test]
fn every_help_line_names_keys_that_do_what_it_says() {
    let contexts = [
        Context::Main(Focus::Compose),
        Context::Main(Focus::Log),
        Context::Main(Focus::Peers),
        Context::Form,
        Context::Help,
        Context::Search,
    ];
    for b in keymap().iter().filter(|b| !b.help.is_empty()) {
        assert!(!b.keys.is_empty(), "{:?} names no key", b.help);
        let mut applied = false;
        for ctx in contexts.iter().filter(|c| c.applies(b.when)) {
            applied = true;
            for &(code, mods) in b.keys {
                assert_eq!(
                    key_action_in(&key(code, mods), *ctx),
                    Some(b.action.clone()),
                    "{} in {ctx:?} ({:?})",
                    key_label(code, mods),
                    b.help
                );
            }
        }
        assert!(applied, "{:?} applies nowhere", b.help);
    }
}

#[test]
fn key_labels_read_as_the_help_shows_them() {
    assert_eq!(key_label(Char('k'), KeyModifiers::CONTROL), "Ctrl+K");
    assert_eq!(key_label(Down, KeyModifiers::ALT), "Alt+↓");
    assert_eq!(
        key_label(Char('x'), KeyModifiers::CONTROL | KeyModifiers::ALT),
        "Ctrl+Alt+X"
    );
    assert_eq!(key_label(F(1), KeyModifiers::NONE), "F1");
    assert_eq!(key_label(Enter, KeyModifiers::NONE), "Enter");
    assert_eq!(key_label(PageDown, KeyModifiers::NONE), "PgDn");
    assert_eq!(key_label(BackTab, KeyModifiers::SHIFT), "Shift+Tab");
}

#[test]
fn a_rebound_key_fires_its_action_and_the_old_key_does_not() {
    let table = [
        ("connect".to_string(), vec!["f5".to_string()]),
        ("copy".to_string(), vec!["ctrl+o".to_string()]),
    ]
    .into_iter()
    .collect();
    let map = crate::keymap::Rebinds::check(&table).unwrap().keymap();
    let state = state_with_peers(1);
    let press = |code, mods| key_action(&key(code, mods), &state);
    crate::keymap::scoped(map, || {
        assert_eq!(press(F(5), NONE), Some(Action::ConnectAll));
        assert_eq!(press(Char('o'), CTRL), sa(ScreenAction::CopyMessage));
        // The old keys: Ctrl+K is free (nothing), Alt+W types nothing either.
        assert_eq!(press(Char('k'), CTRL), None);
        assert_eq!(press(Char('w'), ALT), None);
        // What was not rebound keeps its keys.
        assert_eq!(press(Char('f'), CTRL), sa(ScreenAction::OpenSearch));
        // Texts that name keys follow.
        assert_eq!(crate::keymap::key_for(&Action::ConnectAll), "F5");
    });
    // Outside the scope, the built-in table again.
    assert_eq!(press(Char('k'), CTRL), Some(Action::ConnectAll));
    assert_eq!(press(F(5), NONE), None);
}
